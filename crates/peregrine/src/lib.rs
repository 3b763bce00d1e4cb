//! Peregrine's glue, as a library for the binary, its tests and benches:
//! the bridge from the rules front end to the engine.

pub mod bridge;
