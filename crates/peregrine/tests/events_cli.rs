//! `peregrine events` against sysdig 0.29's output for the conformance
//! captures (oracles in `crates/source-scap/tests/data/`, generated with
//! `TZ=UTC sysdig -r FILE`), and the `-w` path.
//!
//! Lines are compared after normalising differences that are not Peregrine
//! errors but changes in libscap's event table since sysdig 0.29; Peregrine
//! follows current libs (what Falco 0.44 prints):
//! - `mmap`/`mmap2` `res` became an errno-typed param (decimal, was hex);
//! - socket `domain` and similar params became enum flags, which print every
//!   name equal to the value (`AF_LOCAL|AF_UNIX`, was `AF_LOCAL`);
//! - empty byte buffers print `NULL` (libs' empty-param encoding, was empty);
//! - four generic syscall codes are named differently (`<unknown>`,
//!   `sigreturn`, `newselect`, `llseek` are now `unknown`, `rt_sigreturn`,
//!   `_newselect`, `_llseek`);
//! - execve's `pgid` param is now `vpgid` and its `loginuid` a uid
//!   (`-1(<NONE>)`).
//!
//! Remaining known gaps are listed per capture in `KNOWN_MISMATCHES`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_peregrine");

/// Lines that still differ after normalisation, and why.
const KNOWN_MISMATCHES: &[(&str, usize, &str)] = &[(
    "scap/test_ipv6_client.scap",
    3,
    "a UDP socket reused across connect/sendto: its fd name follows libsinsp's \
     full socket state, which the events command's light tracker does not model",
)];

/// Captures whose events sysdig 0.29 partly cannot decode.
const NEWER_THAN_029: &[&str] = &["scap/libs-unit/sample.scap"];

fn conformance_root() -> Option<PathBuf> {
    peregrine_testkit::conformance("scap").and_then(|p| p.parent().map(Path::to_path_buf))
}

fn data(stem: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../source-scap/tests/data")
        .join(stem)
}

fn stem(rel: &str) -> String {
    rel.trim_end_matches(".scap").replace('/', "__")
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn oracle_lines(rel: &str) -> Vec<String> {
    let f = std::fs::File::open(data(&format!("{}.lines.gz", stem(rel)))).unwrap();
    let mut s = String::new();
    flate2::read::GzDecoder::new(f)
        .read_to_string(&mut s)
        .unwrap();
    split_events(&s)
}

/// Splits output into event lines; a param may itself contain newlines
/// (container JSON), so a line starts with an event number and a time.
fn split_events(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in text.split_inclusive('\n') {
        let starts_event = l
            .split_once(' ')
            .is_some_and(|(n, rest)| n.parse::<u64>().is_ok() && rest.get(2..3) == Some(":"));
        match out.last_mut() {
            Some(last) if !starts_event => last.push_str(l),
            _ => out.push(l.to_string()),
        }
    }
    out
}

fn replace_between(line: &str, from: &str, to: &str, with: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find(from) {
        out.push_str(&rest[..i + from.len()]);
        rest = &rest[i + from.len()..];
        if let Some(j) = rest.find(to) {
            out.push_str(with);
            rest = &rest[j..];
        }
    }
    out.push_str(rest);
    out
}

fn normalize(line: &str) -> String {
    let mut l = line.to_string();
    if l.contains(" < mmap ") || l.contains(" < mmap2 ") {
        l = replace_between(&l, " res=", " ", "*");
    }
    l = l.replace("(AF_LOCAL|AF_UNIX)", "(AF_LOCAL)");
    l = l.replace("=NULL ", "= ");
    for (old, new) in [
        ("<unknown>", "unknown"),
        ("sigreturn", "rt_sigreturn"),
        ("newselect", "_newselect"),
        ("llseek", "_llseek"),
    ] {
        for dir in ['>', '<'] {
            l = l.replace(&format!(" {dir} {old} "), &format!(" {dir} {new} "));
        }
    }
    l = l.replace(" vpgid=", " pgid=");
    l = replace_between(&l, " loginuid=-1", " ", "");
    l
}

fn drop_num(line: &str) -> &str {
    line.split_once(' ').map_or(line, |(_, r)| r)
}

#[test]
fn default_lines_match_sysdig() {
    let Some(root) = conformance_root() else {
        return;
    };
    for rel in [
        "falco-regression/trace_files/cat_write.scap",
        "falco-regression/trace_files/connect_localhost.scap",
        "falco-regression/trace_files/empty.scap",
        "falco-regression/trace_files/open-multiple-files.scap",
        "falco-regression/trace_files/ping_sendto.scap",
        "falco-regression/trace_files/syscall.scap",
        "scap/curl_google.scap",
        "scap/single_ipv6_conn.scap",
        "scap/test_ipv6_client.scap",
        "scap/falco-2016/empty.scap",
        "scap/libs-unit/sample.scap",
        "scap/psp/privileged.scap",
        "scap/psp/run_as_user_0_container.scap",
        "scap/psp/run_as_user_65534_container.scap",
        "scap/psp/write_tmp_test.scap",
    ] {
        let path = root.join(rel);
        let (code, out, err) = run(&["events", path.to_str().unwrap()]);
        assert_eq!(code, 0, "{rel}: {err}");
        let mut ours = split_events(&out);
        let theirs = oracle_lines(rel);
        let newer = NEWER_THAN_029.contains(&rel);
        if newer {
            // sysdig 0.29 skips (and does not number) user/group events its
            // table lacks: compare without them and without event numbers.
            ours.retain(|l| {
                !["useradded", "userdeleted", "groupadded", "groupdeleted"]
                    .iter()
                    .any(|t| l.contains(&format!(" > {t} ")))
            });
        }
        assert_eq!(ours.len(), theirs.len(), "{rel}: number of lines");
        let mut mismatches = Vec::new();
        for (a, b) in ours.iter().zip(&theirs) {
            let (a, b) = (normalize(a), normalize(b));
            let same = if newer {
                drop_num(&a) == drop_num(&b)
            } else {
                a == b
            };
            if !same {
                mismatches.push(format!("ours:   {a}theirs: {b}"));
            }
        }
        let allowed = KNOWN_MISMATCHES
            .iter()
            .find(|(r, _, _)| *r == rel)
            .map_or(0, |(_, n, _)| *n);
        assert_eq!(
            mismatches.len(),
            allowed,
            "{rel}: lines differing from sysdig:\n{}",
            mismatches.join("")
        );
    }
}

#[test]
fn comments_capture_prints_like_the_plain_one() {
    let Some(root) = conformance_root() else {
        return;
    };
    let a = run(&[
        "events",
        root.join("scap/curl_google.scap").to_str().unwrap(),
    ]);
    let b = run(&[
        "events",
        root.join("scap/curl_google_comments.scap")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(a.0, 0);
    assert_eq!(a.1, b.1);
}

#[test]
fn format_fields_and_star() {
    let Some(root) = conformance_root() else {
        return;
    };
    let cat = root.join("falco-regression/trace_files/cat_write.scap");
    let cat = cat.to_str().unwrap();
    let (code, out, _) = run(&[
        "events",
        cat,
        "-p",
        "%evt.num %evt.type %evt.res %evt.failed %evt.arg.fd",
    ]);
    assert_eq!(code, 0);
    // Without `*`, events lacking an fd param are skipped.
    assert!(out.lines().all(|l| !l.contains("<NA>")), "{out}");
    assert!(
        out.contains("141 open SUCCESS false <f>/etc/ld.so.cache"),
        "{out}"
    );
    let (_, out, _) = run(&[
        "events",
        cat,
        "-p",
        "*%evt.num %evt.type %evt.arg.fd %evt.rawarg.res",
    ]);
    assert!(out.contains("135 access <NA> -2\n"), "{out}");
    // Raw values are decimal whatever the param's print format (brk's res is hex).
    assert!(out.contains("133 brk <NA> 9592832\n"), "{out}");
    let (_, out, _) = run(&[
        "events",
        cat,
        "-p",
        "%evt.num %evt.rawtime %thread.tid %evt.cpu %evt.dir",
    ]);
    assert!(out.starts_with("131 1"), "{out}");
    assert!(out.lines().next().unwrap().ends_with(" 20072 0 <"), "{out}");
}

#[test]
fn bad_filters_and_formats_are_reported() {
    let Some(root) = conformance_root() else {
        return;
    };
    let cat = root.join("falco-regression/trace_files/cat_write.scap");
    let cat = cat.to_str().unwrap();
    let (code, _, err) = run(&["events", cat, "evt.type=nosuchevent"]);
    assert_eq!(code, 2);
    assert!(err.contains("bad filter"), "{err}");
    let (code, _, err) = run(&["events", cat, "-p", "%evt.nosuch"]);
    assert_eq!(code, 2);
    assert!(err.contains("evt.nosuch"), "{err}");
    let (code, _, err) = run(&["events", "/nonexistent.scap"]);
    assert_eq!(code, 1);
    assert!(err.contains("/nonexistent.scap"), "{err}");
}

#[test]
fn write_copies_a_capture() {
    let Some(root) = conformance_root() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("peregrine-events-w-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (rel, out_name) in [
        ("scap/psp/run_as_user_0_container.scap", "copy.scap"),
        (
            "falco-regression/trace_files/cat_write.scap",
            "copy.scap.gz",
        ),
    ] {
        let input = root.join(rel);
        let out = dir.join(out_name);
        let (code, _, err) = run(&[
            "events",
            input.to_str().unwrap(),
            "-w",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        let full = "*%evt.num %evt.rawtime %evt.cpu %thread.tid %evt.type %evt.args";
        let a = run(&["events", input.to_str().unwrap(), "-p", full, "--internal"]);
        let b = run(&["events", out.to_str().unwrap(), "-p", full, "--internal"]);
        assert_eq!(a.1, b.1, "{rel}: Peregrine reads its copy identically");
        if peregrine_testkit::tool_available("sysdig") {
            let s = |p: &Path| {
                let o = Command::new("sysdig")
                    .arg("-r")
                    .arg(p)
                    .env("TZ", "UTC")
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&o.stdout).into_owned()
            };
            assert_eq!(
                s(&input),
                s(&out),
                "{rel}: sysdig prints the copy identically"
            );
        }
    }
    let (code, _, err) = run(&[
        "events",
        root.join("scap/curl_google.scap").to_str().unwrap(),
        "-w",
        "/nonexistent-dir/x.scap",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("/nonexistent-dir/x.scap"), "{err}");
}

/// Event-level fields, and `evt.arg.*` of params unaffected by the table
/// changes above, match sysdig exactly (run live: CI installs sysdig).
#[test]
fn fields_match_sysdig() {
    let Some(root) = conformance_root() else {
        return;
    };
    if !peregrine_testkit::tool_available("sysdig") {
        return;
    }
    let formats = [
        ("*%evt.num %evt.rawtime %evt.cpu %evt.res %evt.failed %evt.dir %thread.tid %evt.time", 0),
        ("*%evt.num %evt.arg.name %evt.arg.flags %evt.arg.tuple %evt.arg.fd %evt.arg.addr %evt.arg.mode %evt.arg.exe %evt.arg.ptid", 3),
        ("%evt.num %evt.arg.fd %evt.arg.size", 2),
    ];
    for rel in [
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
    ] {
        let path = root.join(rel);
        for (fmt, allowed_in_ipv6_client) in formats {
            let (_, ours, _) = run(&["events", path.to_str().unwrap(), "-p", fmt]);
            let out = Command::new("sysdig")
                .arg("-r")
                .arg(&path)
                .arg("-p")
                .arg(fmt)
                .env("TZ", "UTC")
                .output()
                .unwrap();
            let theirs = String::from_utf8_lossy(&out.stdout);
            let ours: Vec<&str> = ours.lines().collect();
            let theirs: Vec<&str> = theirs.lines().collect();
            assert_eq!(ours.len(), theirs.len(), "{rel} {fmt}");
            let diffs: Vec<String> = ours
                .iter()
                .zip(&theirs)
                .filter(|(a, b)| a != b)
                .map(|(a, b)| format!("ours:   {a}\ntheirs: {b}\n"))
                .collect();
            // See KNOWN_MISMATCHES: the reused UDP socket's fd name.
            let allowed = if rel == "scap/test_ipv6_client.scap" {
                allowed_in_ipv6_client
            } else {
                0
            };
            assert_eq!(diffs.len(), allowed, "{rel} {fmt}:\n{}", diffs.join(""));
        }
    }
}

/// Like sysdig: state-only events (EVF flag) are numbered but not printed;
/// internal events print only with `--internal`.
#[test]
fn hidden_events() {
    use peregrine_event::raw::encode_event;
    use peregrine_event::table::{PPME_PROCINFO_E, PPME_SYSCALL_CLOSE_X};
    let dir = std::env::temp_dir().join(format!("peregrine-events-h-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hidden.scap");
    let mut w = peregrine_scap::ScapWriter::create(&path, &Default::default()).unwrap();
    let mut add = |ty: u16, flags: u32, params: &[&[u8]]| {
        let mut b = Vec::new();
        encode_event(&mut b, 1, 5, ty, false, params);
        let (ev, _) = peregrine_event::RawEvent::parse(&b).unwrap();
        w.write_raw(0, flags, &ev).unwrap();
    };
    let res = 0i64.to_le_bytes();
    let (usr, sys) = (1u64.to_le_bytes(), 2u64.to_le_bytes());
    add(PPME_SYSCALL_CLOSE_X, 1, &[&res]);
    add(PPME_PROCINFO_E, 0, &[&usr, &sys]);
    add(PPME_SYSCALL_CLOSE_X, 0, &[&res]);
    w.close().unwrap();
    let p = path.to_str().unwrap();
    let (_, out, _) = run(&["events", p, "-p", "%evt.num %evt.type"]);
    assert_eq!(out, "3 close\n");
    let (_, out, _) = run(&["events", p, "-p", "%evt.num %evt.type", "--internal"]);
    assert_eq!(out, "2 procinfo\n3 close\n");
}
