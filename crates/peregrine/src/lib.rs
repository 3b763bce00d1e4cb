//! Peregrine's glue, as a library for the binary, its tests and benches:
//! the bridge from the rules front end to the engine, Falco's logger and
//! the syscall event drop monitor.

pub mod bridge;
pub mod drops;
pub mod logger;
