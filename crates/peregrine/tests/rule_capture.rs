//! Rule-triggered captures (falco.yaml `capture:`), on a replay of a
//! synthetic capture: one process writing 2 kB of random bytes to fd 3
//! every millisecond for 3 s, each write's result its index.

use std::path::{Path, PathBuf};
use std::process::Command;

use peregrine_event::raw::encode_event;
use peregrine_event::records::{FdKind, FdRecord, FdTarget, ThreadRecord};
use peregrine_event::table::PPME_SYSCALL_WRITE_X;
use peregrine_event::{RawEvent, Tables};
use peregrine_scap::{ScapReader, ScapWriter};
use serde_json::Value;

const T0: u64 = 1_700_000_000_000_000_000;
const MS: u64 = 1_000_000;
const WRITES: u64 = 3000;
const PAYLOAD: usize = 2000;

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("peregrine-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("temp dir");
        Dir(d)
    }
    /// Capture files written under the `falco` prefix, in name order.
    fn captures(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(&self.0)
            .expect("read dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("falco_") && n.ends_with(".scap"))
            })
            .collect();
        v.sort();
        v
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn synthetic_capture(path: &Path) {
    let mut tables = Tables::default();
    tables.threads.push(ThreadRecord {
        tid: 4242,
        pid: 4242,
        ptid: 1,
        comm: "writer".into(),
        exe: "writer".into(),
        exepath: "/usr/bin/writer".into(),
        cwd: "/".into(),
        fdlimit: 1024,
        fds: vec![FdRecord {
            fd: 3,
            kind: FdKind::File,
            target: FdTarget::Name("/tmp/out.bin".into()),
            ..FdRecord::default()
        }],
        ..ThreadRecord::default()
    });
    let mut w = ScapWriter::create(path, &tables).expect("create capture");
    // Random bytes, so that compression cannot hide the size.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut data = vec![0u8; PAYLOAD];
    let mut buf = Vec::new();
    for i in 0..WRITES {
        for b in data.iter_mut() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            *b = seed as u8;
        }
        buf.clear();
        encode_event(
            &mut buf,
            T0 + i * MS,
            4242,
            PPME_SYSCALL_WRITE_X,
            false,
            &[
                &(i as i64).to_le_bytes(),
                &data,
                &3i64.to_le_bytes(),
                &(PAYLOAD as u32).to_le_bytes(),
            ],
        );
        let (ev, _) = RawEvent::parse(&buf).expect("event");
        w.write_raw(0, 0, &ev).expect("write event");
    }
    w.close().expect("close capture");
}

const RULES: &str = r#"
- rule: marked write
  desc: the write of result 500 asks for a 100 ms capture
  condition: evt.type=write and evt.rawres=500
  output: marked write by %proc.name to %fd.name (num=%evt.num)
  priority: WARNING
  capture: true
  capture_duration: 100
- rule: plain write
  desc: the write of result 2000 asks for none
  condition: evt.type=write and evt.rawres=2000
  output: plain write by %proc.name (num=%evt.num)
  priority: NOTICE
"#;

const EVERY_WRITE: &str = r#"
- rule: every write
  desc: each write asks for a capture
  condition: evt.type=write
  output: write %evt.num
  priority: NOTICE
  capture: true
"#;

/// Replays `capture` with `rules` and capture options; JSON alert lines.
fn replay(dir: &Dir, capture: &Path, rules: &str, options: &[&str]) -> Vec<Value> {
    let rules_path = dir.0.join("rules.yaml");
    std::fs::write(&rules_path, rules).expect("rules");
    let prefix = format!("capture.path_prefix={}", dir.0.join("falco").display());
    let replay = format!("engine.replay.capture_file={}", capture.display());
    let mut args = vec![
        "-r",
        rules_path.to_str().expect("utf-8"),
        "-o",
        "engine.kind=replay",
        "-o",
        &replay,
        "-o",
        "json_output=true",
        "-o",
        "capture.enabled=true",
        "-o",
        &prefix,
    ];
    for o in options {
        args.extend(["-o", o]);
    }
    let out = Command::new(env!("CARGO_BIN_EXE_peregrine"))
        .args(&args)
        .output()
        .expect("run peregrine");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let enabled = !options.contains(&"capture.enabled=false");
    assert_eq!(
        enabled,
        stderr.contains(&format!(
            "Capture is enabled in mode '{}'. Capturing events to {}",
            if options.contains(&"capture.mode=all_rules") {
                "all_rules"
            } else {
                "rules"
            },
            dir.0.join("falco").display()
        )),
        "{stderr}"
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// (first ts, last ts, events) of a capture file.
fn span(path: &Path) -> (u64, u64, u64) {
    let mut r = ScapReader::open(path).expect("open written capture");
    let (mut first, mut last, mut n) = (0, 0, 0);
    while let Some(ev) = r.next_event().expect("read written capture") {
        if n == 0 {
            first = ev.event.ts();
        }
        last = ev.event.ts();
        n += 1;
    }
    (first, last, n)
}

fn num_in(alert: &Value) -> u64 {
    let out = alert["output"].as_str().unwrap_or_default();
    out.rsplit_once("num=")
        .and_then(|(_, n)| n.trim_end_matches(')').parse().ok())
        .expect("num in output")
}

#[test]
fn a_capture_rule_writes_the_events_up_to_its_deadline() {
    let dir = Dir::new("rule-capture");
    let input = dir.0.join("input.scap");
    synthetic_capture(&input);
    let alerts = replay(&dir, &input, RULES, &["rule_matching=all"]);
    let marked: Vec<&Value> = alerts
        .iter()
        .filter(|a| a["rule"] == "marked write")
        .collect();
    assert_eq!(marked.len(), 1, "{alerts:?}");
    assert_eq!(alerts.len(), 2, "{alerts:?}");

    // One file, named after the matching event; the plain rule asks for
    // none in `rules` mode.
    let files = dir.captures();
    assert_eq!(files.len(), 1, "{files:?}");
    let start = T0 + 500 * MS;
    let name = format!("falco_{start:020}_{:020}.scap", num_in(marked[0]));
    assert_eq!(
        files[0].file_name().and_then(|n| n.to_str()),
        Some(name.as_str())
    );
    let bytes = std::fs::read(&files[0]).expect("read");
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip-compressed");

    // From the matching event to the first at its 100 ms deadline.
    assert_eq!(span(&files[0]), (start, start + 100 * MS, 101));

    // The file opens with the writer's thread and fd as state knew them, so
    // on its own it names the process and the file.
    let again = replay(&dir, &files[0], RULES, &["capture.enabled=false"]);
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(
        again[0]["output_fields"]["proc.name"], "writer",
        "{again:?}"
    );
    assert_eq!(again[0]["output_fields"]["fd.name"], "/tmp/out.bin");

    if peregrine_testkit::tool_available("sysdig") {
        let out = Command::new("sysdig")
            .arg("-r")
            .arg(&files[0])
            .output()
            .expect("run sysdig");
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(text.lines().count(), 101, "{text}");
        assert!(text.lines().all(|l| l.contains(" writer (4242) < write ")));
    }
}

#[test]
fn all_rules_mode_captures_on_every_match_with_the_default_duration() {
    let dir = Dir::new("rule-capture-all");
    let input = dir.0.join("input.scap");
    synthetic_capture(&input);
    let alerts = replay(
        &dir,
        &input,
        RULES,
        &[
            "rule_matching=all",
            "capture.mode=all_rules",
            "capture.default_duration=50",
        ],
    );
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    let files = dir.captures();
    assert_eq!(files.len(), 2, "{files:?}");
    assert_eq!(span(&files[0]).2, 101);
    let plain = T0 + 2000 * MS;
    assert_eq!(span(&files[1]), (plain, plain + 50 * MS, 51));
}

#[test]
fn the_size_limit_ends_each_capture_with_an_internal_alert() {
    let dir = Dir::new("rule-capture-size");
    let input = dir.0.join("input.scap");
    synthetic_capture(&input);
    let alerts = replay(
        &dir,
        &input,
        EVERY_WRITE,
        &[
            "capture.max_file_size_mb=1",
            "capture.default_duration=60000",
        ],
    );
    let limit: Vec<&Value> = alerts
        .iter()
        .filter(|a| a["rule"] == "Falco internal: capture size limit reached")
        .collect();
    let files = dir.captures();
    // 6 MB of random bytes: several 1 MB files, each but the last ended by
    // the limit, the next one starting at the next matching event.
    assert!(files.len() >= 4, "{files:?}");
    assert_eq!(limit.len(), files.len() - 1, "{limit:?}");
    for a in &limit {
        assert_eq!(
            a["output"],
            "Falco internal: capture size limit reached. Configured limit: 1 MB."
        );
        assert_eq!(a["priority"], "Informational");
        assert_eq!(a["output_fields"]["max_file_size_mb"], 1);
        let written = a["output_fields"]["written_bytes"].as_u64().expect("bytes");
        assert!(written >= 1 << 20, "{a}");
    }
    let mut events = 0;
    for f in &files[..files.len() - 1] {
        let size = std::fs::metadata(f).expect("stat").len();
        // Approximate, as Falco's: over the limit by at most one flush.
        assert!(
            (1 << 20..(1 << 20) + (1 << 18)).contains(&size),
            "{}: {size}",
            f.display()
        );
    }
    for f in &files {
        events += span(f).2;
    }
    assert_eq!(events, WRITES, "every event in exactly one file");
}
