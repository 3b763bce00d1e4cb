//! The event decoder: in-place parsing, typed params, rendering, and the
//! v1/big-endian conversion, on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peregrine_event::fields::result_value;
use peregrine_event::format::{render_raw, write_args, NoContext, Rendered};
use peregrine_event::RawEvent;
use peregrine_scap::convert::normalize_event;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    let mut buf = Vec::new();
    let ev_bytes = if sel & 1 == 0 {
        bytes
    } else {
        let (v2, big) = (sel & 2 != 0, sel & 4 != 0);
        if normalize_event(bytes, v2, big, &mut buf).is_err() {
            return;
        }
        &buf[..]
    };
    let Ok((ev, _)) = RawEvent::parse(ev_bytes) else {
        return;
    };
    let _ = ev.type_name();
    let _ = result_value(&ev);
    let mut out = String::new();
    let mut scratch = Rendered::default();
    write_args(&mut out, &ev, &NoContext, &mut scratch);
    for p in ev.typed_params() {
        let _ = p.value();
        out.clear();
        render_raw(&ev, p, &mut out);
    }
    for i in 0..ev.nparams().min(40) as usize {
        let _ = ev.param(i);
    }
});
