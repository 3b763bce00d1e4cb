//! `peregrine events FILE [FILTER] [-p FORMAT] [-w OUT]`.

use crate::cli::EventsArgs;

pub fn run(_args: &EventsArgs) -> u8 {
    super::not_yet("events")
}
