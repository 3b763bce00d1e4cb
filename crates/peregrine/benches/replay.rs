//! Replay throughput with Falco's upstream rules (stable, incubating and
//! sandbox) loaded: builds a capture of at least 5 million events by
//! replicating the conformance captures (threads renumbered per copy, their
//! process lists too, so state has work to do), then runs it through
//! fold → state → rules and prints events/s per core, ns/event, the share of
//! time in decoding, state and evaluation, and peak RSS.
//!
//! `cargo bench -p peregrine --bench replay` (BENCH_EVENTS sets the size,
//! BENCH_RULES a colon-separated list of rules files).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use peregrine::bridge;
use peregrine_engine::{Engine, EngineConfig, Pipeline};
use peregrine_event::records::ThreadRecord;
use peregrine_event::{RawEvent, Tables};
use peregrine_scap::{ScapReader, ScapWriter};
use peregrine_state::{Folded, StateConfig};

const CAPTURES: &[&str] = &[
    "falco-regression/trace_files/cat_write.scap",
    "falco-regression/trace_files/connect_localhost.scap",
    "falco-regression/trace_files/open-multiple-files.scap",
    "falco-regression/trace_files/ping_sendto.scap",
    "falco-regression/trace_files/syscall.scap",
    "scap/curl_google.scap",
    "scap/single_ipv6_conn.scap",
    "scap/test_ipv6_client.scap",
    "scap/psp/run_as_user_0_container.scap",
    "scap/psp/write_tmp_test.scap",
];

fn conformance() -> PathBuf {
    std::env::var_os("PEREGRINE_CONFORMANCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| peregrine_testkit::project_root().join("../shared/conformance"))
}

/// Events and thread records of every capture.
fn templates() -> (Vec<(u16, Vec<u8>)>, Vec<ThreadRecord>) {
    let mut events = Vec::new();
    let mut threads = Vec::new();
    for c in CAPTURES {
        let Ok(mut r) = ScapReader::open(conformance().join(c)) else {
            eprintln!("missing {c}");
            continue;
        };
        let mut tids = std::collections::HashSet::new();
        while let Ok(Some(ev)) = r.next_event() {
            tids.insert(ev.event.tid() as i64);
            events.push((ev.cpu, ev.event.as_bytes().to_vec()));
        }
        // Only threads the events use, with their parents: the process list
        // stays small enough for one block.
        let all = &r.tables().threads;
        let parents: std::collections::HashSet<i64> = all
            .iter()
            .filter(|t| tids.contains(&t.tid))
            .map(|t| t.ptid)
            .collect();
        threads.extend(
            all.iter()
                .filter(|t| tids.contains(&t.tid) || parents.contains(&t.tid))
                .cloned(),
        );
    }
    (events, threads)
}

fn build(path: &Path, target: u64) -> u64 {
    let (events, threads) = templates();
    assert!(
        !events.is_empty(),
        "conformance captures are needed for this bench"
    );
    let copies = target.div_ceil(events.len() as u64);
    // A few distinct thread sets (a few thousand threads, like a busy host):
    // later copies reuse them, as long-running processes repeat their work.
    const SETS: u64 = 5;
    let shift = |id: i64, k: u64| {
        if id > 0 {
            id + ((k % SETS) as i64) * 4_000_000
        } else {
            id
        }
    };
    let mut tables = Tables::default();
    for k in 0..copies.min(SETS) {
        for t in &threads {
            let mut t = t.clone();
            t.tid = shift(t.tid, k);
            t.pid = shift(t.pid, k);
            t.ptid = shift(t.ptid, k);
            t.env.clear();
            tables.threads.push(t);
        }
    }
    let mut w = ScapWriter::create(path, &tables).unwrap();
    let mut buf = Vec::new();
    let mut ts = 1_600_000_000_000_000_000u64;
    let mut n = 0;
    for k in 0..copies {
        for (cpu, bytes) in &events {
            let (ev, _) = RawEvent::parse(bytes).unwrap();
            buf.clear();
            buf.extend_from_slice(bytes);
            ts += 97;
            buf[0..8].copy_from_slice(&ts.to_le_bytes());
            let tid = shift(ev.tid() as i64, k) as u64;
            buf[8..16].copy_from_slice(&tid.to_le_bytes());
            let (ev, _) = RawEvent::parse(&buf).unwrap();
            w.write_raw(*cpu, 0, &ev).unwrap();
            n += 1;
        }
    }
    w.close().unwrap();
    n
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let target: u64 = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000_000);
    let rules: Vec<String> = match std::env::var("BENCH_RULES") {
        Ok(v) => v.split(':').map(str::to_string).collect(),
        Err(_) => [
            "falco_rules.yaml",
            "falco-incubating_rules.yaml",
            "falco-sandbox_rules.yaml",
        ]
        .iter()
        .map(|f| {
            conformance()
                .join("falco-rules")
                .join(f)
                .display()
                .to_string()
        })
        .collect(),
    };
    // BENCH_CAPTURE=path keeps (or reuses) the synthetic capture.
    let keep = std::env::var_os("BENCH_CAPTURE").map(PathBuf::from);
    let path = keep
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("peregrine-replay-bench.scap"));
    let n = if keep.is_some() && path.exists() {
        let mut r = ScapReader::open(&path).unwrap();
        let mut n = 0;
        while r.next_event().unwrap().is_some() {
            n += 1;
        }
        n
    } else {
        let t = Instant::now();
        let n = build(&path, target);
        eprintln!("built {n} events in {:.1?}", t.elapsed());
        n
    };

    let t = Instant::now();
    let rs = bridge::load_ruleset(&rules).expect("rules load");
    let inputs = bridge::rule_inputs(&rs, 0).expect("rules bridge");
    let nrules = inputs.len();
    let engine = Engine::new(inputs, EngineConfig::default()).expect("rules compile");
    let load = t.elapsed();

    // Pass 1: decode only.
    let t = Instant::now();
    let mut r = ScapReader::open(&path).unwrap();
    let mut seen = 0u64;
    while let Some(ev) = r.next_event().unwrap() {
        seen += ev.event.len() as u64 & 1;
    }
    let decode = t.elapsed();
    std::hint::black_box(seen);

    // Pass 2: decode + fold + state (no rules).
    let t = Instant::now();
    let mut r = ScapReader::open(&path).unwrap();
    let mut view = Pipeline::new(
        Engine::new(Vec::new(), EngineConfig::default()).unwrap(),
        r.tables(),
        StateConfig::default(),
    );
    while let Some(ev) = r.next_event().unwrap() {
        if let Folded::AsIs(e) | Folded::Rebuilt(e) = view.folder.fold(ev.event) {
            view.state.update(&e);
        }
    }
    let state = t.elapsed();
    drop(view);

    // Pass 3: the whole pipeline (startup tables timed apart).
    let t0 = Instant::now();
    let mut r = ScapReader::open(&path).unwrap();
    let mut p = Pipeline::new(engine, r.tables(), StateConfig::default());
    let startup = t0.elapsed();
    let t = Instant::now();
    let mut alerts = 0u64;
    let mut evaluated = 0u64;
    while let Some(ev) = r.next_event().unwrap() {
        p.on_event(&ev, &mut |_| alerts += 1);
        evaluated += 1;
    }
    let full = t.elapsed();
    if keep.is_none() {
        let _ = std::fs::remove_file(&path);
    }
    let secs = |d: Duration| d.as_secs_f64();
    let rate = n as f64 / secs(full);
    println!(
        "replay bench: {n} events, {nrules} rules (loaded in {load:.1?}), {} threads at start (read in {startup:.1?})",
        p.state.threads().len()
    );
    println!(
        "  full pipeline: {:.2} s, {:.2} M events/s on one core, {:.0} ns/event, {alerts} alerts",
        secs(full),
        rate / 1e6,
        secs(full) * 1e9 / n as f64
    );
    println!(
        "  split: decode {:.0}%, fold+state {:.0}%, rules {:.0}%",
        100.0 * secs(decode) / secs(full),
        100.0 * (secs(state) - secs(decode)).max(0.0) / secs(full),
        100.0 * (secs(full) - secs(state)).max(0.0) / secs(full)
    );
    println!(
        "  rules evaluated for {} of {evaluated} events",
        p.engine.evaluated()
    );
    println!("  peak RSS {} MB", peak_rss_kb() / 1024);
}
