//! `peregrine capture -w FILE [-M SECONDS] [FILTER]`.

use crate::cli::CaptureArgs;

pub fn run(_args: &CaptureArgs) -> u8 {
    super::not_yet("capture")
}
