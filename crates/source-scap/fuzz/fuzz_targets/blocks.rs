//! Whole captures: the block walker, table decoders, event conversion and
//! the arg formatter, on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peregrine_event::format::{write_args, NoContext, Rendered};
use peregrine_scap::ScapReader;

fuzz_target!(|data: &[u8]| {
    let Ok(mut r) = ScapReader::from_bytes("fuzz.scap", data.to_vec()) else {
        return;
    };
    let mut out = String::new();
    let mut scratch = Rendered::default();
    for _ in 0..100_000 {
        match r.next_event() {
            Ok(Some(ev)) => {
                out.clear();
                write_args(&mut out, &ev.event, &NoContext, &mut scratch);
            }
            Ok(None) | Err(_) => break,
        }
    }
});
