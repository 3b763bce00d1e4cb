//! Each block-body decoder directly (the first byte picks which one and the
//! byte order), so table decoders get coverage without a valid file around them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peregrine_scap::block::BlockKind;
use peregrine_scap::decode;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let big = sel & 0x80 != 0;
    let version = (sel >> 3 & 0x0f).clamp(1, 9);
    match sel & 0x07 {
        0 => {
            let _ = decode::section_header(body);
        }
        1 => {
            let _ = decode::machine_info(body, big);
        }
        2 => {
            let mut out = Vec::new();
            let _ = decode::proc_list(body, version, big, &mut out);
        }
        3 => {
            let _ = decode::fd_list(body, version.min(2), big);
        }
        4 => {
            let (mut u, mut g) = (Vec::new(), Vec::new());
            let _ = decode::user_list(body, version.min(2), big, &mut u, &mut g);
        }
        5 => {
            let mut out = Vec::new();
            let _ = decode::interface_list(body, version.min(2), big, &mut out);
        }
        _ => {
            let kind = BlockKind::Event {
                v2: sel & 0x08 != 0,
                flags: sel & 0x10 != 0,
                large: sel & 0x20 != 0,
            };
            let _ = decode::event_block(body, kind, big);
        }
    }
});
