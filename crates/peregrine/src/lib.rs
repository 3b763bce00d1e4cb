//! Peregrine's glue, as a library for the binary, its tests and benches:
//! the bridge from the rules front end to the engine, Falco's logger and
//! the syscall event drop and timeout monitors, rule-triggered captures.

pub mod bridge;
pub mod drops;
pub mod logger;
pub mod rule_capture;
pub mod timeouts;

/// Wall-clock time in ns since the epoch: the time base of live events and
/// of what Peregrine itself reports.
pub fn wall_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
