//! An independent check of the engine on the suite's rules: with
//! `rule_matching: all`, each rule's count over a capture must equal the
//! number of events `sysdig -r CAPTURE 'CONDITION'` prints for the rule's
//! expanded condition restricted to exit events (`evt.dir=<`): sysdig 0.29's
//! libsinsp shows enter events too, while Falco 0.44 and Peregrine evaluate
//! exits only.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::{cases, rule_counts, skip_reason, suite_dir, Case, KNOWN_DIFFERENCES};

fn run(args: &[String]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_peregrine"))
        .args(args)
        .env("FALCO_HOSTNAME", "oracle")
        .output()
        .expect("run peregrine");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// (rule name, expanded condition) of the enabled syscall rules of `files`.
fn conditions(files: &[String]) -> Vec<(String, String)> {
    let mut args: Vec<String> = Vec::new();
    for f in files {
        args.push("-V".into());
        args.push(f.clone());
    }
    args.extend(["-L".into(), "-o".into(), "json_output=true".into()]);
    let (code, out) = run(&args);
    assert_eq!(code, 0, "validating {files:?}: {out}");
    let v: Value = serde_json::from_str(out.lines().next().unwrap_or("")).expect("-V -L JSON");
    v["falco_describe_results"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|r| r["info"]["enabled"] != false && r["info"]["source"] == "syscall")
        .map(|r| {
            (
                r["info"]["name"].as_str().unwrap_or_default().to_string(),
                r["details"]["condition_compiled"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

fn sysdig_count(capture: &Path, condition: &str) -> Result<u64, String> {
    let out = Command::new("sysdig")
        .arg("-r")
        .arg(capture)
        .arg(condition)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(out.stdout.iter().filter(|&&b| b == b'\n').count() as u64)
}

fn files_of(dir: &Path, case: &Case) -> Vec<String> {
    case.strs("rules_file")
        .iter()
        .map(|f| dir.join(f).display().to_string())
        .collect()
}

/// Compares every distinct (rules files, capture) of the suite's replay
/// cases; returns the number of rule counts compared.
pub fn per_rule_counts_agree_with_sysdig(file: &str) -> usize {
    let Some(dir) = suite_dir() else {
        return 0;
    };
    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    let mut compared = 0;
    for case in cases(file).expect("suite") {
        let Some(trace) = case.str("trace_file") else {
            continue;
        };
        let files = files_of(&dir, &case);
        // Rules directories and explicit configs are covered by the suite
        // itself; here only rules files on their own.
        if case.has_validate()
            || files.is_empty()
            || files.iter().any(|f| Path::new(f).is_dir())
            || skip_reason(&dir, &case).is_some()
            || KNOWN_DIFFERENCES.iter().any(|(n, _)| *n == case.name)
        {
            continue;
        }
        let all_events = case.bool("all_events", false);
        if !seen.insert((files.clone(), trace.clone(), all_events)) {
            continue;
        }
        let capture = dir.join(&trace);
        let mut args: Vec<String> = Vec::new();
        for f in &files {
            args.push("-r".into());
            args.push(f.clone());
        }
        args.extend(
            [
                "-c",
                &dir.join("../falco-config/falco.yaml").display().to_string(),
                "-o",
                "engine.kind=replay",
                "-o",
                &format!("engine.replay.capture_file={}", capture.display()),
                "-o",
                "rule_matching=all",
                "-o",
                "priority=debug",
                "-o",
                "stdout_output.enabled=false",
                "-o",
                "file_output.enabled=true",
                "-o",
                "file_output.filename=/dev/null",
            ]
            .map(String::from),
        );
        if all_events {
            args.extend(["-o".into(), "base_syscalls.all=true".into()]);
        }
        let (code, out) = run(&args);
        if code != 0 {
            failures.push(format!("{}: peregrine exited {code}", case.name));
            continue;
        }
        let counts: BTreeMap<String, u64> = rule_counts(&out).unwrap_or_default();
        for (rule, condition) in conditions(&files) {
            let ours = counts.get(&rule).copied().unwrap_or(0);
            let exits_only = format!("evt.dir=< and ({condition})");
            match sysdig_count(&capture, &exits_only) {
                Ok(theirs) if theirs == ours => compared += 1,
                Ok(theirs) => failures.push(format!(
                    "{}: rule '{rule}' on {trace}: peregrine {ours}, sysdig {theirs} (condition {condition})",
                    case.name
                )),
                Err(e) => failures.push(format!(
                    "{}: sysdig rejects the condition of '{rule}' ({condition}): {e}",
                    case.name
                )),
            }
        }
    }
    println!("{file}: {compared} rule counts agree with sysdig");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    compared
}
