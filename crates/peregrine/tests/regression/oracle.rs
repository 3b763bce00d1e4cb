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

/// Output fields sysdig 0.29 renders otherwise than Falco 0.44: current
/// libs give old captures' exit events the enter event's parameters
/// (`fd`, `size`, `dev`, `ino`) and print an empty buffer as `NULL`.
const RENDERED_OTHERWISE_BY_SYSDIG_029: &[&str] = &["evt.args", "evt.info"];

/// A rule as `-L` describes it once compiled.
struct Compiled {
    name: String,
    condition: String,
    output: String,
    output_fields: Vec<String>,
}

/// The enabled syscall rules of `files`, compiled.
fn compiled_rules(files: &[String]) -> Vec<Compiled> {
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
            let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
            Compiled {
                name: text(&r["info"]["name"]),
                condition: text(&r["details"]["condition_compiled"]),
                output: text(&r["details"]["output_compiled"]),
                output_fields: r["details"]["output_fields"]
                    .as_array()
                    .map(|a| a.iter().map(text).collect())
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// What sysdig prints for `condition` on `capture`, with `-p FORMAT`.
fn sysdig(capture: &Path, condition: &str, format: Option<&str>) -> Result<String, String> {
    let mut cmd = Command::new("sysdig");
    cmd.arg("-r").arg(capture);
    if let Some(f) = format {
        cmd.arg("-p").arg(f);
    }
    let out = cmd.arg(condition).output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The `output` text of each JSON alert in `path`, by rule, in order, and
/// the priority each rule's alerts carry.
fn alert_texts(path: &Path) -> BTreeMap<String, (String, Vec<String>)> {
    let mut by_rule: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    let text = std::fs::read_to_string(path).unwrap_or_default();
    for line in text.lines() {
        let Ok(a) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let field = |k: &str| a[k].as_str().unwrap_or_default().to_string();
        let entry = by_rule.entry(field("rule")).or_default();
        entry.0 = field("priority");
        entry.1.push(field("output"));
    }
    by_rule
}

fn files_of(dir: &Path, case: &Case) -> Vec<String> {
    case.strs("rules_file")
        .iter()
        .map(|f| dir.join(f).display().to_string())
        .collect()
}

/// Compares every distinct (rules files, capture) of the suite's replay
/// cases: each rule's count, and each alert's `output` text against what
/// sysdig prints for the same events with the rule's compiled output as
/// its `-p` format (`*` so that missing fields print as `<NA>`, as Falco
/// prints them). Returns the numbers of rule counts and alert texts
/// compared.
pub fn per_rule_counts_agree_with_sysdig(file: &str) -> (usize, usize) {
    let Some(dir) = suite_dir() else {
        return (0, 0);
    };
    let alerts_path = std::env::temp_dir().join(format!(
        "peregrine-oracle-{}-{file}.json",
        std::process::id()
    ));
    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    let (mut compared, mut texts, mut not_compared) = (0, 0, 0);
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
                "json_output=true",
                "-o",
                "stdout_output.enabled=false",
                "-o",
                "file_output.enabled=true",
                "-o",
                &format!("file_output.filename={}", alerts_path.display()),
            ]
            .map(String::from),
        );
        if all_events {
            args.extend(["-o".into(), "base_syscalls.all=true".into()]);
        }
        let _ = std::fs::remove_file(&alerts_path);
        let (code, out) = run(&args);
        if code != 0 {
            failures.push(format!("{}: peregrine exited {code}", case.name));
            continue;
        }
        let counts: BTreeMap<String, u64> = rule_counts(&out).unwrap_or_default();
        let alerts = alert_texts(&alerts_path);
        for rule in compiled_rules(&files) {
            let ours = counts.get(&rule.name).copied().unwrap_or(0);
            let exits_only = format!("evt.dir=< and ({})", rule.condition);
            match sysdig(&capture, &exits_only, None) {
                Ok(theirs) if theirs.lines().count() as u64 == ours => compared += 1,
                Ok(theirs) => failures.push(format!(
                    "{}: rule '{}' on {trace}: peregrine {ours}, sysdig {} (condition {})",
                    case.name,
                    rule.name,
                    theirs.lines().count(),
                    rule.condition
                )),
                Err(e) => failures.push(format!(
                    "{}: sysdig rejects the condition of '{}' ({}): {e}",
                    case.name, rule.name, rule.condition
                )),
            }
            let Some((priority, ours)) = alerts.get(&rule.name) else {
                continue;
            };
            if rule
                .output_fields
                .iter()
                .any(|f| RENDERED_OTHERWISE_BY_SYSDIG_029.contains(&f.as_str()))
            {
                not_compared += ours.len();
                continue;
            }
            // Falco 0.44 prefixes every output with "%evt.time: %priority ".
            let format = format!("*%evt.time: {priority} {}", rule.output);
            match sysdig(&capture, &exits_only, Some(&format)) {
                Ok(theirs) => {
                    let theirs: Vec<&str> = theirs.lines().collect();
                    if theirs == *ours {
                        texts += ours.len();
                    } else {
                        failures.push(format!(
                            "{}: rule '{}' on {trace}: alert texts differ\n  peregrine {:?}\n  sysdig    {:?}",
                            case.name, rule.name, ours, theirs
                        ));
                    }
                }
                Err(e) => failures.push(format!(
                    "{}: sysdig rejects the output of '{}' ({format}): {e}",
                    case.name, rule.name
                )),
            }
        }
    }
    let _ = std::fs::remove_file(&alerts_path);
    println!(
        "{file}: {compared} rule counts and {texts} alert texts agree with sysdig \
         ({not_compared} texts not compared: {RENDERED_OTHERWISE_BY_SYSDIG_029:?} differ by version)"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    (compared, texts)
}
