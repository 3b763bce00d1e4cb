//! One module per command; each returns the process exit code.

pub mod capture;
pub mod classic;
pub mod config_schema;
pub mod events;
pub mod falco;
pub mod filter;
pub mod list;
pub mod list_events;
pub mod live;
mod live_metrics;
pub mod plugins;
pub mod replay;
pub mod support;
pub mod validate;

/// Writes a command's document to stdout; a closed pipe (`| head`) is not
/// worth a panic, any other write error is exit code 1.
pub(crate) fn print_stdout(text: &str) -> u8 {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("peregrine: {e}");
            1
        }
    }
}
