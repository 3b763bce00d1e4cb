//! Falco's former end-to-end regression suite (`falco_tests.yaml`,
//! `falco_tests_exceptions.yaml`), run against the real `peregrine` binary
//! the Falco 0.44 way: replay through `-o engine.kind=replay
//! -o engine.replay.capture_file=…`, rule selection through `-o rules[N]…`,
//! all events through `-o base_syscalls.all=true`.
//!
//! Each case key means what Falco's old runner (`test/falco_test.py`) made
//! of it; see `run_case` and `check_case`. Cases whose trace file is not one
//! of the committed captures are listed as skipped, with the reason; cases
//! where current Falco itself no longer gives the old answer are in
//! [`KNOWN_DIFFERENCES`]. Every JSON alert produced is also validated
//! against `schemas/alert.schema.json`.

mod regression;

use regression::{cases, run_family, Family, Spelling};

const FALCO_044: Spelling = Spelling {
    classic: false,
    force_json: false,
};

#[test]
fn falco_tests_detection() {
    run_family("falco_tests.yaml", Family::Detection, FALCO_044);
}

/// The same cases through the classic `-e FILE` and `-A` shortcuts.
#[test]
fn falco_tests_detection_classic_flags() {
    let classic = Spelling {
        classic: true,
        force_json: false,
    };
    run_family("falco_tests.yaml", Family::Detection, classic);
}

#[test]
fn falco_tests_validation() {
    run_family("falco_tests.yaml", Family::Validation, FALCO_044);
}

#[test]
fn falco_tests_exceptions() {
    run_family("falco_tests_exceptions.yaml", Family::All, FALCO_044);
}

/// Every replay case again with `json_output=true`: all alerts validate
/// against `schemas/alert.schema.json` and match the summary's counts.
#[test]
fn json_alerts_of_every_case_match_the_schema() {
    let n = regression::json_alerts_of_every_case("falco_tests.yaml")
        + regression::json_alerts_of_every_case("falco_tests_exceptions.yaml");
    if peregrine_testkit::conformance("falco-regression").is_some() {
        assert!(n > 100, "only {n} JSON alerts were produced");
    }
}

#[test]
fn exception_tables_name_real_cases() {
    let Some(all) = cases("falco_tests.yaml") else {
        return;
    };
    // The suite as copied: if the data changes, the table below must be
    // looked at again.
    assert!(all.len() >= 100, "only {} cases parsed", all.len());
    for (name, _, _) in regression::FALCO_044_WORDING {
        assert!(
            all.iter().any(|c| c.name == *name),
            "FALCO_044_WORDING names '{name}', which is not a case"
        );
    }
    for (name, _) in regression::KNOWN_DIFFERENCES {
        assert!(
            all.iter().any(|c| c.name == *name),
            "KNOWN_DIFFERENCES names '{name}', which is not a case"
        );
    }
}

#[test]
fn schema_validator_rejects_what_the_schema_forbids() {
    let schema = regression::schema::load();
    let good = r#"{"hostname":"h","output":"o","output_fields":{"evt.time":1,"proc.name":"cat"},"priority":"Warning","rule":"r","source":"syscall","tags":["a","b"],"time":"2016-08-04T16:17:57.881781397Z"}"#;
    let v: serde_json::Value = serde_json::from_str(good).expect("json");
    assert_eq!(
        regression::schema::validate(&schema, &v),
        Vec::<String>::new()
    );
    let bad = [
        r#"{"hostname":"h","priority":"Warning","rule":"r","source":"syscall"}"#,
        r#"{"hostname":"h","priority":"Loud","rule":"r","source":"syscall","time":"2016-08-04T16:17:57.881781397Z"}"#,
        r#"{"hostname":"h","priority":"Warning","rule":"r","source":"syscall","time":"2016-08-04T16:17:57Z"}"#,
        r#"{"hostname":"h","priority":"Warning","rule":"r","source":"syscall","time":"2016-08-04T16:17:57.881781397Z","extra":1}"#,
        r#"{"hostname":"h","priority":"Warning","rule":"r","source":"syscall","time":"2016-08-04T16:17:57.881781397Z","tags":["a","a"]}"#,
        r#"{"hostname":"h","priority":"Warning","rule":"r","source":"syscall","time":"2016-08-04T16:17:57.881781397Z","output_fields":{"evt.time":"12:00"}}"#,
        r#"{"hostname":"h","priority":"Warning","rule":"r","source":"syscall","time":"2016-08-04T16:17:57.881781397Z","output_fields":{"x":{"y":1}}}"#,
    ];
    for b in bad {
        let v: serde_json::Value = serde_json::from_str(b).expect("json");
        assert!(
            !regression::schema::validate(&schema, &v).is_empty(),
            "accepted {b}"
        );
    }
}

/// `rules_events` (the event types each rule is indexed under): the old
/// runner compared them with Falco's `-v` listing, which Falco no longer
/// prints; here they are compared with the rules front end's index.
#[test]
fn rules_events_match_the_event_type_index() {
    let Some(all) = cases("falco_tests.yaml") else {
        return;
    };
    let dir = peregrine_testkit::conformance("falco-regression").expect("suite");
    let mut checked = 0;
    for case in all.iter().filter(|c| c.node.get("rules_events").is_some()) {
        let mut loader = peregrine_rules::loader::Loader::new();
        let files: Vec<&str> = match case.node.get("validate_rules_file") {
            Some(n) => match n.as_seq() {
                Some(items) => items.iter().filter_map(|i| i.as_str()).collect(),
                None => n.as_str().into_iter().collect(),
            },
            None => Vec::new(),
        };
        assert!(!files.is_empty(), "{}: no rules file", case.name);
        for f in files {
            let path = dir.join(f);
            let res = loader.load_file(&path.display().to_string());
            assert!(res.successful, "{}: {}", case.name, res.summary());
        }
        let rs = loader.into_ruleset().expect("ruleset");
        let items = case
            .node
            .get("rules_events")
            .and_then(|n| n.as_seq())
            .unwrap_or_default();
        for item in items {
            for (rule, types) in item.as_map().unwrap_or_default() {
                let rule = rule.as_str().unwrap_or_default();
                let want: Vec<&str> = types
                    .as_seq()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|t| t.as_str())
                    .collect();
                let r = rs
                    .rules
                    .iter()
                    .find(|r| r.name == rule)
                    .unwrap_or_else(|| panic!("{}: no rule {rule}", case.name));
                if want == ["all"] && !r.condition_compiled.contains("evt.type") {
                    // No evt.type at all: every type, then and now.
                    assert!(
                        r.event_types.is_all(),
                        "{}: rule {rule} should match every event type",
                        case.name
                    );
                    checked += 1;
                    continue;
                }
                if want == ["all"] {
                    // 2023's inference gave up ("all") at any negation;
                    // Falco 0.44's (libsinsp ppm_codes) computes exact sets,
                    // e.g. `evt.type=execve and not proc.name=foo or
                    // evt.type=open` is {execve, open}. Not comparable.
                    println!("not compared: {rule} (2023 said all)");
                    continue;
                } else {
                    let mut got = r.event_types.names();
                    got.sort_unstable();
                    let mut want = want.clone();
                    want.sort_unstable();
                    assert_eq!(got, want, "{}: event types of rule {rule}", case.name);
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 10, "only {checked} rules_events checked");
}

/// Per-rule counts and alert texts against an independent implementation:
/// sysdig 0.29 filtering the capture with each rule's expanded condition and
/// printing each match with the rule's output.
#[test]
fn per_rule_counts_agree_with_sysdig() {
    if peregrine_testkit::conformance("falco-regression").is_none()
        || !peregrine_testkit::tool_available("sysdig")
    {
        return;
    }
    let (c1, t1) = regression::oracle::per_rule_counts_agree_with_sysdig("falco_tests.yaml");
    let (c2, t2) =
        regression::oracle::per_rule_counts_agree_with_sysdig("falco_tests_exceptions.yaml");
    assert!(c1 + c2 >= 50, "only {} rule counts compared", c1 + c2);
    assert!(t1 + t2 >= 100, "only {} alert texts compared", t1 + t2);
}
