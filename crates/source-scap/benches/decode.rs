//! Decode throughput: builds a capture of at least 5 million events by
//! replicating the conformance captures' events with renumbered threads, then
//! reads it back and prints events/s, MB/s and allocations per event.
//!
//! `cargo bench -p peregrine-scap` (set BENCH_EVENTS to change the size).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use peregrine_event::raw::encode_event;
use peregrine_event::source::Tables;
use peregrine_event::table::{event_info, EVENT_MAX};
use peregrine_event::RawEvent;
use peregrine_scap::{ScapReader, ScapWriter};

/// Counts allocations so the report can show the decode loop makes none.
struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// (cpu, event bytes) templates from the conformance captures, or synthetic
/// ones when the data is absent.
fn templates() -> Vec<(u16, Vec<u8>)> {
    let mut out = Vec::new();
    let base = peregrine_testkit::project_root().join("../shared/conformance");
    for dir in [
        "falco-regression/trace_files",
        "scap",
        "scap/psp",
        "scap/libs-unit",
    ] {
        let Ok(rd) = std::fs::read_dir(base.join(dir)) else {
            continue;
        };
        let mut paths: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            if p.extension().is_none_or(|e| e != "scap") {
                continue;
            }
            let Ok(mut r) = ScapReader::open(&p) else {
                continue;
            };
            while let Ok(Some(ev)) = r.next_event() {
                out.push((ev.cpu, ev.event.as_bytes().to_vec()));
            }
        }
    }
    if out.is_empty() {
        eprintln!("conformance captures not found: using synthetic events");
        for i in 0..1000u64 {
            let mut b = Vec::new();
            let ty = (i % (EVENT_MAX as u64 - 2)) as u16;
            let n = event_info(ty).map_or(0, |e| e.params.len());
            let params: Vec<Vec<u8>> = (0..n).map(|k| vec![k as u8; 8]).collect();
            let refs: Vec<&[u8]> = params.iter().map(|p| p.as_slice()).collect();
            encode_event(&mut b, i, 1000 + i % 50, ty, false, &refs);
            out.push(((i % 4) as u16, b));
        }
    }
    out
}

fn build(path: &std::path::Path, target: u64) -> (u64, u64) {
    let tpl = templates();
    let f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let mut w = ScapWriter::new(f, &Tables::default()).unwrap();
    let mut buf = Vec::new();
    let (mut n, mut ts) = (0u64, 1_600_000_000_000_000_000u64);
    let mut round = 0u64;
    while n < target {
        for (cpu, bytes) in &tpl {
            let (ev, _) = RawEvent::parse(bytes).unwrap();
            // Same event, new thread and time: a fresh copy of the workload.
            buf.clear();
            buf.extend_from_slice(bytes);
            ts += 97;
            buf[0..8].copy_from_slice(&ts.to_le_bytes());
            let tid = ev.tid().wrapping_add(round * 1_000_000);
            buf[8..16].copy_from_slice(&tid.to_le_bytes());
            let (ev, _) = RawEvent::parse(&buf).unwrap();
            w.write_raw(*cpu, 0, &ev).unwrap();
            n += 1;
        }
        round += 1;
    }
    w.finish().unwrap();
    (n, std::fs::metadata(path).unwrap().len())
}

fn main() {
    let target: u64 = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000_000);
    // BENCH_FILE keeps the capture between runs (handy for profiling).
    let keep = std::env::var_os("BENCH_FILE").map(std::path::PathBuf::from);
    let path = keep.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("peregrine-bench-{}.scap", std::process::id()))
    });
    let t = Instant::now();
    let (events, bytes) = if keep.is_some() && path.exists() {
        let mut r = ScapReader::open(&path).unwrap();
        let mut n = 0;
        while r.next_event().unwrap().is_some() {
            n += 1;
        }
        (n, std::fs::metadata(&path).unwrap().len())
    } else {
        build(&path, target)
    };
    println!(
        "built {} events, {:.1} MB in {:.2}s ({})",
        events,
        bytes as f64 / 1e6,
        t.elapsed().as_secs_f64(),
        path.display()
    );

    let mut best = f64::MAX;
    let mut allocs_per_event = 0.0;
    for _ in 0..3 {
        let mut r = ScapReader::open(&path).unwrap();
        let a0 = ALLOCS.load(Ordering::Relaxed);
        let t = Instant::now();
        let (mut n, mut acc) = (0u64, 0u64);
        while let Some(ev) = r.next_event().unwrap() {
            n += 1;
            acc = acc.wrapping_add(ev.event.ts() ^ ev.event.tid() ^ ev.event.event_type() as u64);
        }
        let secs = t.elapsed().as_secs_f64();
        allocs_per_event = (ALLOCS.load(Ordering::Relaxed) - a0) as f64 / n as f64;
        assert_eq!(n, events);
        std::hint::black_box(acc);
        best = best.min(secs);
    }
    println!(
        "decode (file, header fields): {:.1} M events/s, {:.0} MB/s, {:.6} allocations/event",
        events as f64 / best / 1e6,
        bytes as f64 / best / 1e6,
        allocs_per_event
    );

    // Same, touching every param's bytes (the lazy access a rule would do).
    let mut best = f64::MAX;
    for _ in 0..3 {
        let mut r = ScapReader::open(&path).unwrap();
        let t = Instant::now();
        let mut acc = 0u64;
        while let Some(ev) = r.next_event().unwrap() {
            for p in ev.event.params() {
                acc = acc.wrapping_add(p.len() as u64 + p.first().copied().unwrap_or(0) as u64);
            }
        }
        std::hint::black_box(acc);
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "decode + every param:         {:.1} M events/s, {:.0} MB/s",
        events as f64 / best / 1e6,
        bytes as f64 / best / 1e6
    );

    // From memory, without the read() copy: the decoder alone.
    let data = std::fs::read(&path).unwrap();
    let mut best = f64::MAX;
    for _ in 0..3 {
        let mut r = ScapReader::from_bytes("bench", data.clone()).unwrap();
        let t = Instant::now();
        let mut acc = 0u64;
        while let Some(ev) = r.next_event().unwrap() {
            acc = acc.wrapping_add(ev.event.tid());
        }
        std::hint::black_box(acc);
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "decode (in-memory stream):    {:.1} M events/s, {:.0} MB/s",
        events as f64 / best / 1e6,
        bytes as f64 / best / 1e6
    );
    // Reference: how fast this machine streams the same bytes from memory.
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let sum = data.chunks_exact(8).fold(0u64, |a, c| {
            a.wrapping_add(u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
        });
        std::hint::black_box(sum);
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "reference (sum of the bytes):  {:.0} MB/s",
        bytes as f64 / best / 1e6
    );
    if keep.is_none() {
        let _ = std::fs::remove_file(&path);
    }
}
