//! `--list[=SOURCE]` (fields) and `-L` / `-l RULE` (rules).

use crate::cli::FalcoArgs;

pub fn fields(_args: &FalcoArgs) -> u8 {
    super::not_yet("--list")
}

pub fn rules(_args: &FalcoArgs) -> u8 {
    super::not_yet("-L / -l")
}
