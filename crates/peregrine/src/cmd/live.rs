//! Live detection with the eBPF probe (the main job).

use crate::cli::FalcoArgs;

pub fn run(_args: &FalcoArgs) -> u8 {
    super::not_yet("live detection")
}
