//! Replay a capture through the rules (`-e FILE`, or `engine.kind=replay`).

use crate::cli::FalcoArgs;

pub fn run(_args: &FalcoArgs) -> u8 {
    super::not_yet("replay")
}
