//! `peregrine events CAPTURE FILTER`: the filter is a rules-language
//! condition compiled with the engine, evaluated on every shown event.

use std::process::Command;

fn peregrine(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_peregrine"))
        .args(args)
        .output()
        .expect("run peregrine");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn trace(name: &str) -> Option<String> {
    peregrine_testkit::conformance(&format!("falco-regression/trace_files/{name}"))
        .map(|p| p.display().to_string())
}

fn nums(out: &str) -> Vec<u64> {
    out.lines()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

#[test]
fn filter_selects_the_opens_of_cat() {
    let Some(cap) = trace("cat_write.scap") else {
        return;
    };
    let (code, out, err) = peregrine(&["events", &cap, "evt.type=open and proc.name=cat"]);
    assert_eq!(code, 0, "{err}");
    // Four opens, each shown as its enter and exit event (sysdig's view).
    assert_eq!(
        nums(&out),
        [140, 141, 150, 151, 186, 187, 196, 197],
        "{out}"
    );
    assert!(out
        .lines()
        .all(|l| l.contains(" cat (20072) ") && l.contains(" open")));
    assert!(out.contains("< open fd=3(<f>/dev/null) name=/dev/null flags=1(O_RDONLY) mode=0"));

    // With -p: the format applies to the filtered events only.
    let (code, out, _) = peregrine(&[
        "events",
        &cap,
        "evt.type=open and evt.dir=< and fd.name startswith /usr",
        "-p",
        "%evt.num %fd.name",
    ]);
    assert_eq!(code, 0);
    assert_eq!(out, "187 /usr/lib/locale/locale-archive\n");
}

#[test]
fn filter_uses_state_and_network_fields() {
    let Some(cap) = trace("connect_localhost.scap") else {
        return;
    };
    let (code, out, err) = peregrine(&[
        "events",
        &cap,
        "evt.type=connect and fd.sip=127.0.0.1 and fd.sport=80",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(nums(&out), [187], "{out}");
    let (_, out, _) = peregrine(&["events", &cap, "evt.type=connect and fd.sport=443"]);
    assert_eq!(out, "");
}

#[test]
fn filter_agrees_with_sysdig() {
    let Some(cap) = trace("cat_write.scap") else {
        return;
    };
    if !peregrine_testkit::tool_available("sysdig") {
        return;
    }
    // Filters whose fields mean the same in sysdig 0.29's libsinsp and in
    // Falco 0.44's (fd.* of mmap differs: current libs give mmap its fd).
    for filter in [
        "evt.type=open and proc.name=cat",
        "proc.pid=20072 and evt.failed=true",
        "evt.type in (close, fstat) and evt.dir=>",
        "proc.name=cat and evt.num >= 180 and evt.num <= 190 and not evt.type=mmap",
    ] {
        let (code, ours, _) = peregrine(&["events", &cap, filter]);
        assert_eq!(code, 0);
        let theirs = Command::new("sysdig")
            .args(["-r", &cap, filter])
            .output()
            .expect("run sysdig");
        let theirs = String::from_utf8_lossy(&theirs.stdout);
        assert!(!ours.is_empty(), "{filter}: no events");
        assert_eq!(ours, theirs, "filter {filter}");
    }

    // evt.around[T]=D: the events within D ms of T, as sysdig selects them
    // (this capture spans 2.7 ms).
    let Some(cap) = trace("open-multiple-files.scap") else {
        return;
    };
    let (_, t, _) = peregrine(&["events", &cap, "evt.num=1096", "-p", "%evt.rawtime"]);
    let t = t.trim();
    for (filter, count) in [
        (format!("evt.around[{t}]=0"), 1),
        (format!("evt.around[{t}]=1"), 79),
        (format!("not evt.around[{t}]=1"), 7),
        (format!("evt.around[{t}]=2"), 83),
    ] {
        let (code, ours, err) = peregrine(&["events", &cap, &filter]);
        assert_eq!(code, 0, "{err}");
        let theirs = Command::new("sysdig")
            .args(["-r", &cap, &filter])
            .output()
            .expect("run sysdig");
        assert_eq!(ours, String::from_utf8_lossy(&theirs.stdout), "{filter}");
        assert_eq!(ours.lines().count(), count, "{filter}");
    }
}

#[test]
fn fields_the_container_plugin_deprecated_never_have_a_value() {
    let Some(cap) = trace("cat_write.scap") else {
        return;
    };
    // Falco's container plugin still names k8s.rc/svc/rs/deployment.* and
    // k8s.ns.id/label(s) but extracts nothing for them.
    let (code, out, err) = peregrine(&[
        "events",
        &cap,
        "k8s.rc.name exists or k8s.svc.id=x or k8s.rs.label[app]!=x or k8s.ns.labels contains a",
    ]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    let (code, out, _) = peregrine(&[
        "events",
        &cap,
        "evt.num=185",
        "-p",
        "*%k8s.deployment.name %k8s.ns.label[a] %evt.around[1] %proc.name",
    ]);
    assert_eq!((code, out.as_str()), (0, "<NA> <NA> <NA> cat\n"));
    let (code, _, err) = peregrine(&["events", &cap, "k8s.deployment.label=web"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("k8s.deployment.label requires an argument"),
        "{err}"
    );
}

#[test]
fn filter_applies_to_written_captures() {
    let Some(cap) = trace("cat_write.scap") else {
        return;
    };
    let out = std::env::temp_dir().join(format!("peregrine-filter-{}.scap", std::process::id()));
    let out_s = out.display().to_string();
    let (code, _, err) = peregrine(&[
        "events",
        &cap,
        "evt.type=open and proc.name=cat",
        "-w",
        &out_s,
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, text, err) = peregrine(&["events", &out_s, "-p", "%evt.type %evt.dir"]);
    let _ = std::fs::remove_file(&out);
    assert_eq!(code, 0, "{err}");
    assert_eq!(text, "open >\nopen <\n".repeat(4));
}

#[test]
fn bad_filters_are_errors_with_position() {
    let Some(cap) = trace("cat_write.scap") else {
        return;
    };
    let (code, out, err) = peregrine(&["events", &cap, "proc.name=cat and"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(
        err.contains("error at 1:18: expected blank or '(' after 'and'"),
        "{err}"
    );
    let (code, _, err) = peregrine(&["events", &cap, "proc.nobody=cat"]);
    assert_eq!(code, 2);
    assert!(err.contains("nonexistent field proc.nobody"), "{err}");
    let (code, _, err) = peregrine(&["events", &cap, "some_macro and proc.name=cat"]);
    assert_eq!(code, 2);
    assert!(err.contains("some_macro"), "{err}");
    for (filter, want) in [
        (
            "evt.around[1470327477881996624]>1",
            "evt.around supports only '=' comparison operator",
        ),
        ("evt.around[now]=1", "now is not a valid number"),
        (
            "evt.around[1470327477881996624]=soon",
            "soon is not a valid number",
        ),
    ] {
        let (code, _, err) = peregrine(&["events", &cap, filter]);
        assert_eq!(code, 2, "{filter}");
        assert!(err.contains(want), "{filter}: {err}");
    }
}
