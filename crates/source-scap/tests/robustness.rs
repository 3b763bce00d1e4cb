//! Truncated and corrupted captures: never a panic, always a clear error
//! naming the file, block and byte offset, and no allocation beyond what the
//! input justifies.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::*;
use peregrine_event::format::{write_args, NoContext, Rendered};
use peregrine_event::raw::encode_event;
use peregrine_event::source::Tables;
use peregrine_event::table::PPME_SYSCALL_CLOSE_X;
use peregrine_scap::{ErrorKind, ScapError, ScapReader, ScapWriter};

/// Tracks the bytes each thread holds, to bound what a corrupted file can
/// make the reader allocate.
struct Tracking;
thread_local! {
    static HELD: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn note(delta: isize) {
    let _ = HELD.try_with(|h| {
        let v = (h.get() as isize + delta).max(0) as usize;
        h.set(v);
        let _ = PEAK.try_with(|p| p.set(p.get().max(v)));
    });
}

unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        note(l.size() as isize);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        note(-(l.size() as isize));
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        note(n as isize - l.size() as isize);
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

/// Reads everything, rendering each event's args; returns the error if any.
fn consume(name: &str, bytes: Vec<u8>) -> Option<ScapError> {
    let mut r = match ScapReader::from_bytes(name, bytes) {
        Ok(r) => r,
        Err(e) => return Some(e),
    };
    let mut out = String::new();
    let mut scratch = Rendered::default();
    loop {
        match r.next_event() {
            Ok(Some(ev)) => {
                out.clear();
                write_args(&mut out, &ev.event, &NoContext, &mut scratch);
                for p in ev.event.typed_params() {
                    let _ = p.value();
                }
            }
            Ok(None) => return None,
            Err(e) => return Some(e),
        }
    }
}

fn check_error(e: &ScapError, name: &str, len: usize) {
    let msg = e.to_string();
    assert!(msg.starts_with(name), "error names the file: {msg}");
    assert!(msg.contains("byte offset"), "error gives the offset: {msg}");
    assert!(
        e.offset <= len as u64 + 8,
        "offset {} within the input ({len}): {msg}",
        e.offset
    );
}

/// A deterministic stream of offsets.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

#[test]
fn truncated_captures_fail_cleanly() {
    let Some(caps) = captures() else { return };
    for (rel, path) in caps {
        let data = plain_bytes(&path);
        let full_events = read_all(&path).unwrap().1.len();
        let mut errors = 0;
        let mut cuts: Vec<usize> = (0..64).map(|i| i * data.len() / 64).collect();
        cuts.extend([1, 7, 8, 11, 27, 28, 29, data.len() - 1, data.len() - 4]);
        for cut in cuts {
            let name = format!("{rel}@{cut}");
            match consume(&name, data[..cut].to_vec()) {
                Some(e) => {
                    check_error(&e, &name, cut);
                    errors += 1;
                }
                None => {
                    // Only a cut exactly at a block boundary reads cleanly, with fewer events.
                    let n = read_all_bytes(&data[..cut]);
                    assert!(n <= full_events, "{name}");
                }
            }
        }
        assert!(errors > 0, "{rel}: truncations are reported");
    }
}

fn read_all_bytes(b: &[u8]) -> usize {
    let mut r = ScapReader::from_bytes("x", b.to_vec()).unwrap();
    let mut n = 0;
    while let Ok(Some(_)) = r.next_event() {
        n += 1;
    }
    n
}

#[test]
fn bit_flipped_captures_never_panic() {
    let Some(caps) = captures() else { return };
    let mut rng = Lcg(0x5eed);
    let mut errors = 0;
    let mut runs = 0;
    for (rel, path) in caps {
        let data = plain_bytes(&path);
        for _ in 0..96 {
            let at = rng.next(data.len());
            let bit = rng.next(8);
            let mut d = data.clone();
            d[at] ^= 1 << bit;
            let name = format!("{rel}^{at}.{bit}");
            if let Some(e) = consume(&name, d) {
                check_error(&e, &name, data.len());
                errors += 1;
            }
            runs += 1;
        }
        // Corrupt the compressed stream too: gzip's own checks must surface as errors.
        let raw = std::fs::read(&path).unwrap();
        if raw.starts_with(&[0x1f, 0x8b]) {
            for _ in 0..16 {
                let at = 10 + rng.next(raw.len() - 10);
                let mut d = raw.clone();
                d[at] ^= 0x10;
                let name = format!("{rel}~{at}");
                if let Some(e) = consume(&name, d) {
                    check_error(&e, &name, usize::MAX / 2);
                }
            }
        }
    }
    // Many flips land in param data and still read; block-framing ones must not.
    assert!(errors > runs / 20, "{errors} errors of {runs} flips");
}

/// Lengths that promise far more than the file holds are refused without
/// allocating what they promise.
#[test]
fn huge_lengths_do_not_allocate() {
    let mut buf = Vec::new();
    {
        let mut w = ScapWriter::new(&mut buf, &Tables::default()).unwrap();
        let mut ev = Vec::new();
        encode_event(
            &mut ev,
            1,
            2,
            PPME_SYSCALL_CLOSE_X,
            false,
            &[&0i64.to_le_bytes()],
        );
        let (raw, _) = peregrine_event::RawEvent::parse(&ev).unwrap();
        w.write_raw(0, 0, &raw).unwrap();
        w.finish().unwrap();
    }
    // An unknown block claiming 200 MiB, placed before the event.
    let mut huge = buf[..28].to_vec();
    huge.extend_from_slice(&0x7777u32.to_le_bytes());
    huge.extend_from_slice(&(200u32 << 20).to_le_bytes());
    huge.extend_from_slice(&[0u8; 64]);
    for input in [huge, {
        // The event block itself claiming 4 GiB.
        let mut b = buf.clone();
        b[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
        b
    }] {
        PEAK.with(|p| p.set(0));
        HELD.with(|h| h.set(0));
        let e = consume("huge.scap", input).expect("refused");
        let peak = PEAK.with(|p| p.get());
        assert!(peak < 8 << 20, "peak allocation {peak} bytes for: {e}");
        assert!(
            matches!(
                e.kind,
                ErrorKind::Truncated { .. } | ErrorKind::BadBlockLength { .. }
            ),
            "{e}"
        );
    }
}

#[test]
fn not_a_capture() {
    let e = consume("notes.txt", b"hello, this is not a capture".to_vec()).unwrap();
    assert!(matches!(e.kind, ErrorKind::NotScap), "{e}");
    let e = consume("empty", Vec::new()).unwrap();
    assert!(matches!(e.kind, ErrorKind::NotScap), "{e}");
    let e = ScapReader::open("/nonexistent/x.scap").err().unwrap();
    assert!(e.to_string().contains("/nonexistent/x.scap"), "{e}");
}
