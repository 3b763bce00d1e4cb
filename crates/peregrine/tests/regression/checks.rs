//! The old runner's checks (`falco_test.py`): stdout/stderr patterns, exit
//! status, validation JSON, detections and per-rule counts, JSON alerts,
//! "strictly contains" output files.

use std::collections::BTreeMap;
use std::path::Path;

use peregrine_yaml::Node;
use serde_json::Value;

use super::{reworded, schema, strictly_contains, Case, RunOutput};

/// Python-`re` patterns of the suite in Rust's regex dialect. The only
/// construct Rust lacks is the leading negative lookahead `^(?!.*X.*)`
/// (with DOTALL: X occurs nowhere), returned as `(false, X)`.
fn pattern(p: &str, dotall: bool) -> (bool, regex::Regex) {
    let (positive, body) = match p.strip_prefix("^(?!").and_then(|r| r.strip_suffix(')')) {
        Some(inner) => (
            false,
            inner
                .trim_start_matches(".*")
                .trim_end_matches(".*")
                .to_string(),
        ),
        None => (true, p.to_string()),
    };
    let flags = if dotall { "(?s)" } else { "" };
    let re = regex::Regex::new(&format!("{flags}{body}"))
        .unwrap_or_else(|e| panic!("pattern {p:?}: {e}"));
    (positive, re)
}

fn contains(text: &str, p: &str, dotall: bool) -> bool {
    let (positive, re) = pattern(p, dotall);
    re.is_match(text) == positive
}

fn validate_json(out: &RunOutput) -> Result<Value, String> {
    let first = out.stdout.lines().next().unwrap_or("");
    serde_json::from_str(first).map_err(|e| format!("first stdout line is not JSON ({e}): {first}"))
}

/// Expected validation errors/warnings: `kind` is `errors` or `warnings`.
fn check_validate_items(case: &Case, out: &RunOutput, key: &str, kind: &str, f: &mut Vec<String>) {
    let Some(items) = case.get(key).and_then(Node::as_seq) else {
        return;
    };
    let v = match validate_json(out) {
        Ok(v) => v,
        Err(e) => return f.push(e),
    };
    let empty = Vec::new();
    let results = v["falco_load_results"].as_array().unwrap_or(&empty);
    for exp in items {
        let g = |k: &str| {
            exp.get(k)
                .and_then(Node::as_str)
                .map(|s| reworded(&case.name, s))
        };
        let (code, ty, name) = (
            g("code").unwrap_or_default(),
            g("item_type").unwrap_or_default(),
            g("item_name").unwrap_or_default(),
        );
        let msg = g("message");
        let msg_contains = g("message_contains");
        let (msg, msg_contains) = (msg.as_deref(), msg_contains.as_deref());
        let found = results.iter().any(|r| {
            r[kind].as_array().unwrap_or(&empty).iter().any(|e| {
                let m = e["message"].as_str().unwrap_or("");
                e["code"] == code.as_str()
                    && (msg == Some(m) || msg_contains.is_some_and(|c| m.contains(c)))
                    && e["context"]["locations"]
                        .as_array()
                        .unwrap_or(&empty)
                        .iter()
                        .any(|l| l["item_type"] == ty.as_str() && l["item_name"] == name.as_str())
            })
        });
        if !found {
            f.push(format!(
                "{kind}: expected {code} for {ty} '{name}' with message {}; actual {kind}: {}",
                msg.map(|m| format!("{m:?}"))
                    .unwrap_or_else(|| format!("containing {:?}", msg_contains.unwrap_or(""))),
                Value::Array(
                    results
                        .iter()
                        .flat_map(|r| r[kind].as_array().cloned().unwrap_or_default())
                        .collect()
                )
            ));
        }
    }
}

/// "Triggered rules by rule name:" counts.
pub(super) fn rule_counts(stdout: &str) -> Option<BTreeMap<String, u64>> {
    let at = stdout.find("Triggered rules by rule name:")?;
    let mut m = BTreeMap::new();
    for line in stdout[at..].lines().skip(1) {
        if !line.starts_with(char::is_whitespace) {
            continue;
        }
        if let Some((name, n)) = line.trim_start().rsplit_once(": ") {
            if let Ok(n) = n.trim().parse() {
                m.insert(name.to_string(), n);
            }
        }
    }
    Some(m)
}

/// Keys sorted recursively, as nlohmann's `json::dump` writes objects.
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// `line` is the compact form of `actual` (no reformatting), and equals
/// `want` once `hostname` is removed.
fn same_json_text(actual: Value, line: &str, want: &str) -> bool {
    let compact: String = actual.to_string();
    let rest: String = without_hostname(actual).to_string();
    compact == line && rest == want
}

fn without_hostname(mut v: Value) -> Value {
    if let Some(m) = v.as_object_mut() {
        m.shift_remove("hostname");
    }
    v
}

/// Checks `actual` holds the expected lines in order (the runner's
/// "strictly contains"). For JSON alerts a line matches when it is, apart
/// from `hostname`, byte for byte what Falco 0.44 writes for the expected
/// object: keys in nlohmann's sorted order, same value types, same text.
/// (The 2023 file has `output_fields` grafted last, as Falco then did.)
fn check_strictly_contains(dir: &Path, actual: &str, expected_file: &str, f: &mut Vec<String>) {
    let path = dir.join(expected_file);
    let json_path = path.with_extension("json");
    let (expected, is_json): (Vec<String>, bool) = if expected_file.ends_with(".json") {
        let text = std::fs::read_to_string(&path).expect("read expected json");
        (text.lines().map(str::to_string).collect(), true)
    } else if let Ok(text) = std::fs::read_to_string(&path) {
        (text.lines().map(str::to_string).collect(), false)
    } else {
        // The .txt beside the .json was not copied into the conformance
        // data; upstream it is exactly the `output` of each JSON line.
        let text = std::fs::read_to_string(&json_path).expect("read expected json");
        let lines = text
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).expect("expected json line");
                v["output"].as_str().unwrap_or_default().to_string()
            })
            .collect();
        (lines, false)
    };
    if expected.is_empty() {
        return f.push(format!("{expected_file}: no expected lines"));
    }
    let expected = match exit_halves(&expected, is_json) {
        Ok(e) => e,
        Err(e) => return f.push(format!("{expected_file}: {e}")),
    };
    let mut cursor = 0;
    let lines: Vec<&str> = actual.lines().collect();
    for exp in &expected {
        let hit = if is_json {
            let e: Value = serde_json::from_str(exp).expect("expected json line");
            let want = sorted(&without_hostname(e)).to_string();
            lines[cursor..].iter().position(|l| {
                serde_json::from_str::<Value>(l).is_ok_and(|a| same_json_text(a, l, &want))
            })
        } else {
            lines[cursor..]
                .iter()
                .position(|l| l.contains(exp.as_str()))
        };
        match hit {
            Some(i) => cursor += i + 1,
            None => {
                let want = if is_json {
                    serde_json::from_str::<Value>(exp)
                        .map(|e| sorted(&without_hostname(e)).to_string())
                        .unwrap_or_default()
                } else {
                    exp.clone()
                };
                return f.push(format!(
                    "output does not strictly contain {expected_file}: expected line\n  {want}\nnot found after line {cursor} of actual:\n{}",
                    lines.iter().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n")
                ));
            }
        }
    }
}

/// The 2023 files hold one line per event, enter and exit alike; Falco 0.44
/// alerts on the exit only. Lines come in enter/exit pairs for the same
/// syscall (same rule and text after the time); the later one is kept.
fn exit_halves(lines: &[String], is_json: bool) -> Result<Vec<String>, String> {
    let key = |l: &str| -> String {
        let text = if is_json {
            serde_json::from_str::<Value>(l)
                .ok()
                .and_then(|v| {
                    Some(format!(
                        "{}|{}",
                        v["rule"].as_str()?,
                        v["output"].as_str()?.split_once(": ")?.1
                    ))
                })
                .unwrap_or_default()
        } else {
            l.split_once(": ")
                .map(|(_, t)| t.to_string())
                .unwrap_or_default()
        };
        text
    };
    if !lines.len().is_multiple_of(2) {
        return Err(format!(
            "{} lines do not form enter/exit pairs",
            lines.len()
        ));
    }
    lines
        .chunks(2)
        .map(|pair| {
            if key(&pair[0]) == key(&pair[1]) && !key(&pair[0]).is_empty() {
                Ok(pair[1].clone())
            } else {
                Err(format!(
                    "lines do not pair as enter/exit:\n  {}\n  {}",
                    pair[0], pair[1]
                ))
            }
        })
        .collect()
}

/// Every failure of `out` against the case's expectations.
pub fn check_case(dir: &Path, case: &Case, out: &RunOutput, schema: &Value) -> Vec<String> {
    let mut f = Vec::new();
    if let Some(s) = case.str("stdout_is") {
        if s != out.stdout {
            f.push(format!(
                "stdout_is: expected {s:?}, actual {:?}",
                out.stdout
            ));
        }
    }
    for p in case.strs("stderr_contains") {
        if !contains(&out.stderr, &p, true) {
            f.push(format!("stderr does not match {p:?}"));
        }
    }
    for p in case.strs("stdout_contains") {
        if !contains(&out.stdout, &p, true) {
            f.push(format!("stdout does not match {p:?}"));
        }
    }
    for p in case.strs("stderr_not_contains") {
        if contains(&out.stderr, &p, false) {
            f.push(format!("stderr matches {p:?} but should not"));
        }
    }
    for p in case.strs("stdout_not_contains") {
        if contains(&out.stdout, &p, false) {
            f.push(format!("stdout matches {p:?} but should not"));
        }
    }
    let want_exit = case.get("exit_status").and_then(Node::as_i64).unwrap_or(0);
    if i64::from(out.code) != want_exit {
        f.push(format!(
            "exit status: expected {want_exit}, actual {}",
            out.code
        ));
    }
    if case.get("validate_ok").is_some() {
        match validate_json(out) {
            Err(e) => f.push(e),
            Ok(v) => {
                for ok in case.strs("validate_ok") {
                    let found = v["falco_load_results"].as_array().is_some_and(|rs| {
                        rs.iter().any(|r| {
                            r["successful"] == true
                                && r["name"].as_str().is_some_and(|n| {
                                    Path::new(n).file_name().and_then(|b| b.to_str())
                                        == Some(ok.as_str())
                                })
                        })
                    });
                    if !found {
                        f.push(format!("validate_ok: no successful result for {ok}"));
                    }
                }
            }
        }
    }
    check_validate_items(case, out, "validate_errors", "errors", &mut f);
    check_validate_items(case, out, "validate_warnings", "warnings", &mut f);
    if case.get("grpc").is_some() {
        f.push("grpc: no gRPC output to query".into());
    }
    if out.code != 0 {
        return f;
    }
    if !case.has_validate() {
        check_detections(case, out, &mut f);
        check_json_alerts(case, out, schema, &mut f);
    }
    for (actual, expected) in strictly_contains(case) {
        let text = if actual == "stdout" {
            out.stdout.as_str()
        } else {
            out.files.get(&actual).map(String::as_str).unwrap_or("")
        };
        check_strictly_contains(dir, text, &expected, &mut f);
    }
    f
}

fn check_detections(case: &Case, out: &RunOutput, f: &mut Vec<String>) {
    let detected = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Events detected: "))
        .and_then(|n| n.trim().parse::<u64>().ok());
    let Some(detected) = detected else {
        return f.push("no line 'Events detected: <count>' on stdout".into());
    };
    if case.bool("detect", false) {
        if detected == 0 {
            f.push("detect: expected detections, actual 0".into());
        }
        for level in case.strs("detect_level") {
            let re = regex::Regex::new(&format!("(?i){}: (\\d+)", regex::escape(&level)))
                .expect("level regex");
            match re
                .captures(&out.stdout)
                .and_then(|c| c[1].parse::<u64>().ok())
            {
                Some(n) if n > 0 => {}
                n => f.push(format!(
                    "detect_level {level}: expected a count > 0, actual {n:?}"
                )),
            }
        }
    } else if detected > 0 {
        f.push(format!("detect: expected none, actual {detected}"));
    }
    if let Some(items) = case.get("detect_counts").and_then(Node::as_seq) {
        let counts = rule_counts(&out.stdout).unwrap_or_default();
        for item in items {
            for (k, v) in item.as_map().unwrap_or_default() {
                let rule = k.as_str().unwrap_or_default();
                let want = super::exit_only_count(&case.name, rule)
                    .unwrap_or_else(|| v.as_i64().unwrap_or(-1));
                let got = counts.get(rule).copied().unwrap_or(0);
                if i64::try_from(got).ok() != Some(want) {
                    f.push(format!(
                        "count of rule '{rule}': expected {want}, actual {got}"
                    ));
                }
            }
        }
    }
}

/// Lines starting with `{` are alerts: they must carry the runner's
/// attributes and validate against the project's alert schema.
fn check_json_alerts(case: &Case, out: &RunOutput, schema: &Value, f: &mut Vec<String>) {
    let mut attrs = vec!["time", "rule", "priority"];
    if case.bool("json_include_output_property", true) {
        attrs.push("output");
    }
    if case.bool("json_include_tags_property", true) {
        attrs.push("tags");
    }
    for line in out.stdout.lines().filter(|l| l.starts_with('{')) {
        let v: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                f.push(format!("alert line is not JSON ({e}): {line}"));
                continue;
            }
        };
        let json_case = case.bool("json_output", false);
        if json_case {
            for a in &attrs {
                if v.get(a).is_none() {
                    f.push(format!("JSON alert lacks \"{a}\": {line}"));
                }
            }
        }
        let errs = schema::validate(schema, &v);
        if !errs.is_empty() {
            f.push(format!(
                "JSON alert violates alert.schema.json: {errs:?}: {line}"
            ));
        }
        SCHEMA_CHECKED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// JSON alerts validated against the schema so far (this process).
pub static SCHEMA_CHECKED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
