//! Live detection with the eBPF probe (the main job).

use crate::cli::FalcoArgs;

pub fn run(_args: &FalcoArgs, _loaded: &crate::config::Loaded) -> u8 {
    super::not_yet("live detection")
}
