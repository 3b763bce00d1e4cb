//! The rules commands end to end: `filter parse`, `-V` (text and JSON),
//! `-L`/`-l`, `--list`, `--rule-schema`.

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

#[test]
fn filter_parse_prints_ast_or_error_with_caret() {
    let (code, out, _) = peregrine(&[
        "filter",
        "parse",
        "proc.name=bash and not fd.name in (a, 'b c')",
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        out.trim(),
        "(proc.name = bash and not fd.name in (a, \"b c\"))"
    );
    let (code, _, err) = peregrine(&["filter", "parse", "proc.name=bash and"]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("error at 1:19: expected blank or '(' after 'and'\n"),
        "{err}"
    );
    assert!(
        err.contains("proc.name=bash and\n                  ^"),
        "{err}"
    );
}

fn write(dir: &std::path::Path, name: &str, content: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, content).expect("write");
    p.to_string_lossy().into_owned()
}

#[test]
fn validate_text_json_and_exit_codes() {
    let dir = std::env::temp_dir().join(format!("peregrine-rules-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let good = write(
        &dir,
        "good.yaml",
        "- rule: r1\n  desc: d\n  condition: evt.type=open\n  output: o %proc.name\n  priority: WARNING\n",
    );
    let warn = write(
        &dir,
        "warn.yaml",
        "- macro: unused\n  condition: proc.name=x\n",
    );
    let bad = write(
        &dir,
        "bad.yaml",
        "- rule: r2\n  desc: d\n  condition: evt.type=open and nosuch.field=1\n  output: o\n  priority: INFO\n",
    );
    let (code, out, _) = peregrine(&["-V", &good, "-V", &warn]);
    assert_eq!(code, 0);
    assert_eq!(out, format!("{good}: Ok\n{warn}: Ok, with warnings\n"));

    let (code, out, _) = peregrine(&["-V", &bad]);
    assert_eq!(code, 1);
    assert!(out.contains("Invalid"), "{out}");
    assert!(out.contains("LOAD_ERR_COMPILE_CONDITION (Error compiling condition): filter_check called with nonexistent field nosuch.field"), "{out}");

    let (code, out, _) = peregrine(&["-V", &good, "-V", &bad, "-o", "json_output=true"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("json");
    let results = v["falco_load_results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["successful"], true);
    assert_eq!(results[1]["successful"], false);
    let err = &results[1]["errors"][0];
    assert_eq!(err["code"], "LOAD_ERR_COMPILE_CONDITION");
    let locs = err["context"]["locations"].as_array().expect("locations");
    assert_eq!(locs[1]["item_type"], "rule");
    assert_eq!(locs[1]["item_name"], "r2");
    assert_eq!(locs[1]["position"]["line"], 0);

    let (code, out, _) = peregrine(&["-L", "-r", &good]);
    assert_eq!(code, 0);
    assert!(out.starts_with("Rule"), "{out}");
    assert!(out.contains("\nr1 "), "{out}");
    let (code, out, _) = peregrine(&["-l", "r1", "-r", &good, "-o", "json_output=true"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("json");
    assert_eq!(v["rules"][0]["info"]["priority"], "Warning");
    assert_eq!(
        v["rules"][0]["details"]["condition_compiled"],
        "evt.type = open"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn list_fields_and_rule_schema() {
    let (code, out, _) = peregrine(&["--list=syscall", "-N"]);
    assert_eq!(code, 0);
    for f in [
        "proc.name",
        "fd.name",
        "evt.type",
        "container.id",
        "k8s.pod.name",
        "fs.path.name",
    ] {
        assert!(out.lines().any(|l| l == f), "{f} missing");
    }
    assert!(!out.lines().any(|l| l.starts_with("ka.")));
    let (code, out, _) = peregrine(&["--list=k8s_audit", "--format=json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert!(v["fieldclasses"].as_array().expect("classes").len() >= 2);
    let (code, _, err) = peregrine(&["--list=nosuchsource"]);
    assert_eq!(code, 1);
    assert!(err.contains("Value for --list must be a valid source type"));
    let (code, out, _) = peregrine(&["--rule-schema"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("schema json");
    assert_eq!(v["type"], "array");
}
