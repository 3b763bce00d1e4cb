//! `peregrine -V FILE...`: validate rules files as one ruleset.

use crate::cli::FalcoArgs;

pub fn run(_args: &FalcoArgs) -> u8 {
    super::not_yet("rules validation")
}
