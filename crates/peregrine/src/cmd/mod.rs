//! One module per command; each returns the process exit code.

pub mod capture;
pub mod config_schema;
pub mod events;
pub mod falco;
pub mod filter;
pub mod list;
pub mod live;
mod live_metrics;
pub mod replay;
pub mod validate;
