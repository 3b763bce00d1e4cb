//! The Falco-compatible entry: no subcommand, Falco's flags. Dispatches to
//! validation, listings, replay or live detection.

use crate::cli::FalcoArgs;

pub fn run(args: &FalcoArgs) -> u8 {
    if args.version {
        println!("Peregrine version: {}", env!("CARGO_PKG_VERSION"));
        return 0;
    }
    super::not_yet("live detection")
}
