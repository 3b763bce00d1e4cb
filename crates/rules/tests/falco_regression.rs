//! The validation and rules-loading cases of Falco's former regression
//! suite (`falco-regression/falco_tests.yaml`): every case with
//! `validate_rules_file` is validated as `falco -V … -o json_output=true`
//! would, and checked the way the suite's harness checked the JSON
//! (`validate_ok`, `validate_errors`, `validate_warnings`, exit status);
//! every case that only loads rules (`rules_file`) must load; `rules_events`
//! are checked against the event-type inference.
//!
//! Where current Falco deliberately differs from this 2023 suite, the case
//! follows current Falco (see `DIFFERENCES`).

use std::path::{Path, PathBuf};

use peregrine_rules::loader::Loader;
use peregrine_yaml::Node;
use serde_json::Value;

/// Case → (what changed, how the expectation is adapted).
const DIFFERENCES: &[(&str, &str)] = &[
    (
        "invalid_append_macro_dangling",
        "the message is now \"Macro uses 'append' or 'override.condition: append' but no macro by that name already exists\"",
    ),
    (
        "invalid_list_append_dangling",
        "the message is now \"List uses 'append' or 'override.items: append' but no list by that name already exists\"",
    ),
    (
        "invalid_rule_append_dangling",
        "the message is now \"Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists\"",
    ),
    (
        "invalid_rule_output",
        "output fields are parsed by the current formatter: \"unknown filter: …\" instead of \"invalid formatting token not_a_real_field\"",
    ),
    (
        "invalid_engine_version_not_number",
        "engine versions may be semver strings: \"Unable to parse engine version 'not-a-number' as a semver string…\" instead of \"Can't decode YAML scalar value\"",
    ),
    (
        "engine_version_mismatch",
        "a number is read as version 0.N.0: \"Rules require engine version 0.9999999.0, but engine version is …\"",
    ),
    (
        "test_warnings",
        "rules_events: libsinsp's event-type inference (the one Falco uses today) is exact where the old Lua loader said [all]; see CURRENT_EVENTS",
    ),
    (
        "validate_skip_unknown_noevt",
        "the warning code LOAD_UNKNOWN_FIELD is now LOAD_UNKNOWN_FILTER",
    ),
];

fn adapted(case: &str, item: &mut (String, String, String, String, bool)) {
    let (code, _, _, message, contains) = item;
    match case {
        "invalid_append_macro_dangling" => {
            *message = "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists".into()
        }
        "invalid_list_append_dangling" => {
            *message = "List uses 'append' or 'override.items: append' but no list by that name already exists".into()
        }
        "invalid_rule_append_dangling" => {
            *message = "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists".into()
        }
        "invalid_rule_output" => {
            *message = "unknown filter:".into();
            *contains = true;
        }
        "validate_skip_unknown_noevt" => *code = "LOAD_UNKNOWN_FILTER".into(),
        "invalid_engine_version_not_number" => {
            *message = "Unable to parse engine version 'not-a-number' as a semver string. Expected \"x.y.z\" semver format.".into()
        }
        "engine_version_mismatch" => {
            *message = "Rules require engine version 0.9999999.0, but engine version is".into()
        }
        _ => {}
    }
}

/// `test_warnings` rules for which the 2023 suite expected "all" event
/// types (old Lua loader) and libsinsp's inference gives exact sets.
const CURRENT_EVENTS: &[(&str, &[&str])] = &[
    ("not_before_trailing_evttype", &["execve", "open"]),
    ("not_equals_before_trailing_evttype", &["execve", "open"]),
    ("not_equals_before_in", &["connect", "execve", "open"]),
    ("not_before_in", &["connect", "execve", "open"]),
    ("not_in_before_in", &["connect", "execve", "open"]),
    (
        "leading_in_not_equals_before_evttype",
        &["connect", "execve", "open"],
    ),
    ("not_equals_before_evttype", &["execve"]),
    ("not_equals_before_in_evttype", &["execve", "open"]),
    ("not_before_evttype", &["execve"]),
    ("not_before_evttype_using_in", &["execve", "open"]),
];

fn str_of(n: &Node) -> String {
    n.as_str().unwrap_or("").to_string()
}

fn list_of(n: Option<&Node>) -> Vec<String> {
    match n {
        Some(n) => match n.as_seq() {
            Some(items) => items.iter().map(str_of).collect(),
            None => vec![str_of(n)],
        },
        None => Vec::new(),
    }
}

/// Rules files or directories, as the suite names them, to files in load
/// order.
fn rules_files(base: &Path, names: &[String]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for n in names {
        let p = base.join(n);
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&p)
                .expect("rules dir")
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")))
                .collect();
            entries.sort();
            out.extend(entries);
        } else {
            out.push(p);
        }
    }
    out
}

/// (code, item_type, item_name, message, message is a substring)
type Expected = (String, String, String, String, bool);

fn expected_items(n: Option<&Node>) -> Vec<Expected> {
    let Some(seq) = n.and_then(Node::as_seq) else {
        return Vec::new();
    };
    seq.iter()
        .map(|e| {
            let g = |k: &str| e.get(k).map(str_of).unwrap_or_default();
            let (message, contains) = match e.get("message_contains") {
                Some(m) => (str_of(m), true),
                None => (g("message"), false),
            };
            (g("code"), g("item_type"), g("item_name"), message, contains)
        })
        .collect()
}

fn found(results: &[Value], key: &str, want: &Expected) -> bool {
    let (code, item_type, item_name, message, contains) = want;
    results.iter().any(|r| {
        r[key].as_array().into_iter().flatten().any(|e| {
            let msg = e["message"].as_str().unwrap_or("");
            e["code"] == code.as_str()
                && (if *contains {
                    msg.contains(message.as_str())
                } else {
                    msg == message
                })
                && e["context"]["locations"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|l| {
                        l["item_type"] == item_type.as_str() && l["item_name"] == item_name.as_str()
                    })
        })
    })
}

#[test]
fn regression_validation_cases() {
    let Some(path) = peregrine_testkit::conformance("falco-regression/falco_tests.yaml") else {
        return;
    };
    let base = path.parent().expect("dir").to_path_buf();
    let text = std::fs::read_to_string(&path).expect("read");
    let docs = peregrine_yaml::parse(&text).expect("yaml");
    let cases = docs[0]
        .get("trace_files")
        .and_then(Node::as_map)
        .expect("cases");
    let (mut validated, mut loaded, mut events_checked) = (0, 0, 0);
    let mut failures = Vec::new();
    for (name, case) in cases {
        let name = str_of(name);
        let validate = list_of(case.get("validate_rules_file"));
        let rules = list_of(case.get("rules_file"));
        if !validate.is_empty() {
            validated += 1;
            let mut loader = Loader::new();
            let mut results = Vec::new();
            let mut successful = true;
            for f in rules_files(&base, &validate) {
                let name = f.to_string_lossy().into_owned();
                let res = loader.load_file(&name).clone();
                successful &= res.successful;
                results.push(res.as_json(loader.contents()));
            }
            if successful && loader.check_plugin_requirements(&[]).is_err() {
                successful = false;
            }
            let want_exit = case.get("exit_status").and_then(Node::as_i64).unwrap_or(0);
            let got_exit = if successful { 0 } else { 1 };
            if want_exit != got_exit {
                failures.push(format!(
                    "{name}: exit {got_exit}, want {want_exit}: {results:?}"
                ));
            }
            for ok in list_of(case.get("validate_ok")) {
                let hit = results.iter().any(|r| {
                    r["successful"] == true
                        && Path::new(r["name"].as_str().unwrap_or(""))
                            .file_name()
                            .and_then(|f| f.to_str())
                            == Some(ok.as_str())
                });
                if !hit {
                    failures.push(format!("{name}: no successful result for {ok}"));
                }
            }
            for (key, node) in [
                ("errors", case.get("validate_errors")),
                ("warnings", case.get("validate_warnings")),
            ] {
                for mut want in expected_items(node) {
                    adapted(&name, &mut want);
                    if !found(&results, key, &want) {
                        failures.push(format!(
                            "{name}: no {key} entry {want:?} in {}",
                            Value::Array(results.clone())
                        ));
                    }
                }
            }
            if let Some(events) = case.get("rules_events").and_then(Node::as_seq) {
                let rs = loader.ruleset().expect("ruleset");
                for e in events {
                    for (rule, types) in e.as_map().into_iter().flatten() {
                        events_checked += 1;
                        let rule = str_of(rule);
                        let want: Vec<String> = match CURRENT_EVENTS
                            .iter()
                            .find(|(r, _)| *r == rule)
                        {
                            Some((_, current)) => current.iter().map(|s| s.to_string()).collect(),
                            None => list_of(Some(types)),
                        };
                        let Some(r) = rs.rule(&rule) else {
                            failures.push(format!("{name}: no rule {rule}"));
                            continue;
                        };
                        let ok = if want == ["all"] {
                            r.event_types.len() > 100 || r.event_types.is_empty()
                        } else {
                            let mut got: Vec<&str> = r.event_types.names();
                            got.sort();
                            let mut w: Vec<&str> = want.iter().map(String::as_str).collect();
                            w.sort();
                            got == w
                        };
                        if !ok {
                            failures.push(format!(
                                "{name}: {rule} types {:?}, want {want:?}",
                                r.event_types
                            ));
                        }
                    }
                }
            }
        } else if !rules.is_empty() {
            // Rules-loading cases: whatever else they check (detections on a
            // trace, config errors), their rules must load.
            loaded += 1;
            let mut loader = Loader::new();
            for f in rules_files(&base, &rules) {
                let res = loader.load_file(&f.to_string_lossy()).clone();
                if !res.successful {
                    failures.push(format!("{name}: {}", res.verbose(loader.contents())));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!(
        "falco_tests.yaml: {validated} validation cases, {loaded} rules-loading cases, {events_checked} rules_events pass; {} adapted to current Falco",
        DIFFERENCES.len()
    );
}
