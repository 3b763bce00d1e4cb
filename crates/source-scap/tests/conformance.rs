//! Every conformance capture reads, and its events match what sysdig 0.29
//! prints for it (oracles generated once by `tests/data/regenerate.sh`,
//! re-checked against sysdig when it is installed).

mod common;

use common::*;
use peregrine_event::format::{write_args, NoContext, Rendered};
use peregrine_scap::ScapReader;

/// Events per capture, counted by an independent block walk (Python) when
/// the suite was written; procinfo events included.
const EVENT_COUNTS: &[(&str, usize)] = &[
    ("falco-regression/trace_files/cat_write.scap", 345),
    ("falco-regression/trace_files/connect_localhost.scap", 374),
    ("falco-regression/trace_files/empty.scap", 143),
    (
        "falco-regression/trace_files/open-multiple-files.scap",
        1272,
    ),
    ("falco-regression/trace_files/ping_sendto.scap", 1526),
    ("falco-regression/trace_files/syscall.scap", 368),
    ("scap/curl_google.scap", 1536),
    ("scap/curl_google_comments.scap", 1536),
    ("scap/single_ipv6_conn.scap", 1728),
    ("scap/test_ipv6_client.scap", 326),
    ("scap/falco-2016/empty.scap", 83),
    ("scap/libs-unit/sample.scap", 572),
    ("scap/psp/privileged.scap", 2059),
    ("scap/psp/run_as_user_0_container.scap", 4143),
    ("scap/psp/run_as_user_65534_container.scap", 241),
    ("scap/psp/write_tmp_test.scap", 229),
];

#[test]
fn every_capture_reads_completely() {
    let Some(caps) = captures() else { return };
    for (rel, path) in caps {
        let (tables, events) = read_all(&path).unwrap_or_else(|e| panic!("{e}"));
        let want = EVENT_COUNTS.iter().find(|(r, _)| *r == rel).unwrap().1;
        assert_eq!(events.len(), want, "{rel}: event count");
        assert!(!tables.threads.is_empty(), "{rel}: process list");
        assert!(tables.machine.is_some(), "{rel}: machine info");
        // Every event decodes and renders without trouble.
        let mut out = String::new();
        let mut scratch = Rendered::default();
        for (i, e) in events.iter().enumerate() {
            assert_eq!(e.num, i as u64 + 1, "{rel}: numbering");
            let ev = e.raw();
            assert!(
                ev.info().is_some(),
                "{rel}: event {} has a known type",
                e.num
            );
            out.clear();
            write_args(&mut out, &ev, &NoContext, &mut scratch);
        }
    }
}

#[test]
fn sequences_match_sysdig_oracle() {
    let Some(caps) = captures() else { return };
    for (rel, path) in caps {
        let (_, events) = read_all(&path).unwrap();
        let ours = sysdig_view(&events);
        let oracle = read_oracle(&oracle_stem(rel));
        assert_eq!(ours.len(), oracle.len(), "{rel}: number of printed events");
        for (a, b) in ours.iter().zip(&oracle) {
            assert_eq!(a, b, "{rel}");
        }
    }
}

#[test]
fn comments_capture_has_exactly_the_plain_captures_events() {
    let Some(caps) = captures() else { return };
    let get = |name: &str| caps.iter().find(|(r, _)| *r == name).unwrap().1.clone();
    let plain = read_all(&get("scap/curl_google.scap")).unwrap();
    let commented_path = get("scap/curl_google_comments.scap");
    let commented = read_all(&commented_path).unwrap();
    assert_eq!(plain.1, commented.1, "events (number, cpu, flags, bytes)");
    assert_eq!(plain.0.threads, commented.0.threads);
    assert_eq!(plain.0.users, commented.0.users);
    assert_eq!(plain.0.interfaces, commented.0.interfaces);
    // The difference is the section header's pcapng comment options.
    let r = ScapReader::open(&commented_path).unwrap();
    assert!(!r.section().comments.is_empty(), "comments are read");
    let r = ScapReader::open(get("scap/curl_google.scap")).unwrap();
    assert!(r.section().comments.is_empty());
}

#[test]
fn tables_carry_what_the_captures_hold() {
    let Some(caps) = captures() else { return };
    let get = |name: &str| caps.iter().find(|(r, _)| *r == name).unwrap().1.clone();
    // cat_write (process list v6, fd list v1): the shell that ran cat.
    let (t, _) = read_all(&get("falco-regression/trace_files/cat_write.scap")).unwrap();
    let bash = t
        .threads
        .iter()
        .find(|th| th.tid == 11310)
        .expect("bash 11310");
    assert_eq!(bash.comm, "bash");
    assert!(!bash.fds.is_empty());
    assert!(!t.users.is_empty() && t.users.iter().any(|u| u.uid == 0 && u.name == "root"));
    // psp captures (process list v9): container cgroups.
    let (t, _) = read_all(&get("scap/psp/write_tmp_test.scap")).unwrap();
    assert!(t.threads.iter().any(|th| th
        .cgroups
        .iter()
        .any(|(_, p)| p.contains("/docker/697956520d89"))));
    assert!(t.interfaces.iter().any(|i| i.name == "lo"));
}

/// The committed oracles still agree with sysdig (CI installs it).
#[test]
fn oracles_agree_with_sysdig() {
    let Some(caps) = captures() else { return };
    if !peregrine_testkit::tool_available("sysdig") {
        return;
    }
    for (rel, path) in caps {
        if rel == "scap/curl_google_comments.scap" {
            continue; // sysdig 0.29 cannot read it
        }
        let out = std::process::Command::new("sysdig")
            .arg("-r")
            .arg(&path)
            .arg("-p")
            .arg("*%evt.num %evt.type %evt.dir %thread.tid")
            .env("TZ", "UTC")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        assert_eq!(lines, read_oracle(&oracle_stem(rel)), "{rel}");
    }
}
