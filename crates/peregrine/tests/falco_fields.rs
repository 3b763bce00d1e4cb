//! `--list` against Falco 0.44.1's syscall-source field list
//! (`tests/data/falco_0_44_1_syscall_fields.tsv`: names and descriptions
//! transcribed from libsinsp 0.25.4's filterchecks and the container plugin
//! v0.7.1 by `tools/falco_syscall_fields.py`).

use std::process::Command;

use serde_json::Value;

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

fn falco_fields() -> Vec<(String, String)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/falco_0_44_1_syscall_fields.tsv"
    );
    std::fs::read_to_string(path)
        .expect("field list")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (n, d) = l.split_once('\t').expect("name<TAB>desc");
            (n.to_string(), d.to_string())
        })
        .collect()
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn every_falco_syscall_field_is_listed_in_falcos_order() {
    let falco = falco_fields();
    assert!(falco.len() > 250, "{}", falco.len());
    let (code, out, _) = peregrine(&["--list=syscall", "-N"]);
    assert_eq!(code, 0);
    let ours: Vec<&str> = out.lines().collect();
    let theirs: Vec<&str> = falco.iter().map(|(n, _)| n.as_str()).collect();
    let missing: Vec<&&str> = theirs.iter().filter(|n| !ours.contains(n)).collect();
    assert!(missing.is_empty(), "not listed: {missing:?}");
    assert_eq!(ours, theirs, "same fields, same order");

    // Names only, as JSON.
    let (code, out, _) = peregrine(&["--list=syscall", "-N", "--format", "json"]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["fieldnames"].as_array().unwrap().len(), theirs.len());
}

#[test]
fn descriptions_are_falcos() {
    let (code, out, _) = peregrine(&["--list=syscall", "--format", "json"]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).expect("json");
    let mut ours = std::collections::HashMap::new();
    for class in v["fieldclasses"].as_array().unwrap() {
        assert_eq!(class["event_sources"], serde_json::json!(["syscall"]));
        for f in class["fields"].as_array().unwrap() {
            ours.insert(
                f["name"].as_str().unwrap().to_string(),
                collapse(f["desc"].as_str().unwrap()),
            );
        }
    }
    let wrong: Vec<String> = falco_fields()
        .into_iter()
        .filter(|(n, d)| ours.get(n) != Some(d))
        .map(|(n, d)| format!("{n}: falco {d:?}, ours {:?}", ours.get(&n)))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn text_and_markdown_layouts_are_libsinsps() {
    let (code, out, err) = peregrine(&["--list=syscall"]);
    assert_eq!(code, 0);
    assert!(out.starts_with(
        "-------------------------------\nField Class:                  evt (All event types)\nDescription:                  These fields can be used for all event types \nEvent Sources:                syscall \n\nevt.num                       event number. \n"
    ), "{}", &out[..400]);
    // Long descriptions wrap at 120 columns into the right block.
    assert!(out.lines().all(|l| l.len() <= 121 || !l.contains(' ')));
    let (code, md, _) = peregrine(&["--list=syscall", "--format", "markdown"]);
    assert_eq!(code, 0);
    assert!(md.starts_with("## Field Class: evt\n\nThese fields can be used for all event types\n\nEvent Sources: syscall \n\nName | Type | Description\n:----|:-----|:-----------\n`evt.num` | UINT64 | event number.\n"));
    assert!(md.contains("\n`proc.args` | CHARBUF | "));

    // Every Falco field is extracted: none is named on stderr as missing.
    let (_, _, err2) = peregrine(&["--list=syscall", "-N"]);
    assert_eq!(err, err2);
    assert!(!err.contains("not extracted"), "{err}");

    let (code, _, err) = peregrine(&["--list=nosuch"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Value for --list must be a valid source type"),
        "{err}"
    );
}
