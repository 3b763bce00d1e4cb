//! Peregrine's glue, as a library for the binary, its tests and benches:
//! the bridge from the rules front end to the engine, Falco's logger and
//! the syscall event drop and timeout monitors, rule-triggered captures.

pub mod bridge;
pub mod drops;
pub mod logger;
pub mod rule_capture;
pub mod timeouts;
