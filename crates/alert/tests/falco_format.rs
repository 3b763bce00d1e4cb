//! Alert lines against Falco 0.44's format: key order, value types, time
//! forms, and the shipped JSON Schema (validated by python's `jsonschema`,
//! a real validator).

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use peregrine_alert::synthetic::AlertGenerator;
use peregrine_alert::{Alert, AlertFormat, FieldValue, InternalAlert, Priority};

fn sample() -> Alert {
    Alert {
        time_ns: 1_470_327_477_881_781_949,
        rule: Arc::from("Write below binary dir"),
        priority: Priority::Error,
        source: Arc::from("syscall"),
        tags: Arc::from(vec!["mitre_persistence".to_string(), "filesystem".to_string()]),
        output: "File below a known binary directory opened for writing (user=root command=touch /bin/x)".into(),
        output_fields: vec![
            ("user.name".into(), FieldValue::Str("root".into())),
            ("proc.cmdline".into(), FieldValue::Str("touch /bin/x".into())),
            ("proc.pid".into(), FieldValue::I64(42)),
            ("fd.name".into(), FieldValue::Null),
        ],
        hostname: Arc::from("node-1"),
    }
}

#[test]
fn json_line_has_falcos_keys_order_and_types() {
    let fmt = AlertFormat {
        time_format_iso_8601: false,
        ..AlertFormat::json()
    };
    let line = fmt.format(&sample());
    // The time-of-day prefix depends on the local zone; compute it the same way.
    let mut prefix = String::new();
    peregrine_alert::time::write_time_of_day(
        &mut prefix,
        1_470_327_477_881_781_949,
        peregrine_alert::time::local_offset_secs(),
    );
    let expected = format!(
        "{{\"hostname\":\"node-1\",\"output\":\"{prefix}: Error File below a known binary directory opened for writing (user=root command=touch /bin/x)\",\"output_fields\":{{\"evt.time\":1470327477881781949,\"fd.name\":null,\"proc.cmdline\":\"touch /bin/x\",\"proc.pid\":42,\"user.name\":\"root\"}},\"priority\":\"Error\",\"rule\":\"Write below binary dir\",\"source\":\"syscall\",\"tags\":[\"filesystem\",\"mitre_persistence\"],\"time\":\"2016-08-04T16:17:57.881781949Z\"}}"
    );
    assert_eq!(line, expected);
}

#[test]
fn json_include_flags_and_iso_time() {
    let fmt = AlertFormat {
        json_output: true,
        json_include_output_property: false,
        json_include_tags_property: false,
        json_include_message_property: true,
        json_include_output_fields_property: true,
        time_format_iso_8601: true,
    };
    let line = fmt.format(&sample());
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "hostname",
            "message",
            "output_fields",
            "priority",
            "rule",
            "source",
            "time"
        ]
    );
    assert_eq!(
        v["message"],
        "File below a known binary directory opened for writing (user=root command=touch /bin/x)"
    );
    assert_eq!(
        v["output_fields"]["evt.time.iso8601"],
        1_470_327_477_881_781_949u64
    );
    assert!(v["output_fields"].get("evt.time").is_none());

    let text = AlertFormat {
        json_output: false,
        ..fmt
    }
    .format(&sample());
    assert_eq!(
        text,
        "2016-08-04T16:17:57.881781949+0000: Error File below a known binary directory opened for writing (user=root command=touch /bin/x)"
    );
}

#[test]
fn text_line_is_time_priority_output() {
    let line = AlertFormat::default().format(&sample());
    let (time, rest) = line.split_once(": ").unwrap();
    assert_eq!(time.len(), "16:17:57.881781949".len());
    assert!(time.ends_with(":57.881781949"), "{time}");
    assert!(rest.starts_with("Error File below"));
}

#[test]
fn internal_message_forms() {
    let msg = InternalAlert {
        time_ns: 1_470_327_477_000_000_001,
        rule: "Falco internal: metrics snapshot".into(),
        priority: Priority::Informational,
        output: "Falco metrics snapshot".into(),
        output_fields: vec![
            ("falco.version".into(), FieldValue::Str("0.1.0".into())),
            (
                "evt.time".into(),
                FieldValue::U64(1_470_327_477_000_000_001),
            ),
        ],
        hostname: Arc::from("h"),
    };
    let json = AlertFormat::json().format_internal(&msg);
    assert_eq!(
        json,
        "{\"hostname\":\"h\",\"output\":\"Falco metrics snapshot\",\"output_fields\":{\"evt.time\":1470327477000000001,\"falco.version\":\"0.1.0\"},\"priority\":\"Informational\",\"rule\":\"Falco internal: metrics snapshot\",\"source\":\"internal\",\"time\":\"2016-08-04T16:17:57.000000001Z\"}"
    );
    let text = AlertFormat::default().format_internal(&msg);
    assert!(
        text.ends_with(": Informational Falco metrics snapshot (evt.time=1470327477000000001 falco.version=\"0.1.0\")"),
        "{text}"
    );
}

#[test]
fn generated_alerts_validate_against_the_shipped_schema() {
    if !peregrine_testkit::tool_available("python3") {
        return;
    }
    let schema = peregrine_testkit::project_root().join("schemas/alert.schema.json");
    let mut lines = String::new();
    let mut g = AlertGenerator::new(99);
    let formats = [
        AlertFormat::json(),
        AlertFormat {
            json_include_message_property: true,
            time_format_iso_8601: true,
            ..AlertFormat::json()
        },
        AlertFormat {
            json_include_output_property: false,
            json_include_tags_property: false,
            json_include_output_fields_property: false,
            ..AlertFormat::json()
        },
    ];
    for i in 0..300 {
        let a = g.next_alert();
        let line = formats[i % 3].format(&a);
        // Well-formed, and no key out of sorted order.
        let v: serde_json::Value = serde_json::from_str(&line).expect("valid JSON");
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        lines.push_str(&line);
        lines.push('\n');
    }
    // A line that must fail, so the validator is proven to bite.
    lines.push_str("{\"hostname\":\"h\",\"priority\":\"Loud\",\"rule\":\"r\",\"source\":\"s\",\"time\":\"x\"}\n");
    let script = r#"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
v = jsonschema.Draft202012Validator(schema)
bad = [i for i, l in enumerate(sys.stdin) if list(v.iter_errors(json.loads(l)))]
print(json.dumps(bad))
"#;
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&schema)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(lines.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python jsonschema failed (pip install jsonschema): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[300]");
}

/// Falco's own expected JSON alerts (regression suite, `time_format_iso_8601`
/// with tags): rebuilt from their parts, ours are the same documents, with
/// current Falco's sorted key order.
#[test]
fn same_documents_as_falcos_expected_json_alerts() {
    let Some(path) = peregrine_testkit::conformance(
        "falco-regression/output_files/single_rule_with_cat_write.json",
    ) else {
        return;
    };
    let fmt = AlertFormat {
        time_format_iso_8601: true,
        ..AlertFormat::json()
    };
    let text = std::fs::read_to_string(path).unwrap();
    let mut n = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let theirs: serde_json::Value = serde_json::from_str(line).unwrap();
        let ts = theirs["output_fields"]["evt.time.iso8601"]
            .as_u64()
            .unwrap();
        let output = theirs["output"].as_str().unwrap();
        let message = output.split_once(": Warning ").unwrap().1;
        let alert = Alert {
            time_ns: ts,
            rule: Arc::from(theirs["rule"].as_str().unwrap()),
            priority: Priority::Warning,
            source: Arc::from("syscall"),
            // Deliberately unsorted: Falco prints them sorted.
            tags: Arc::from(vec![
                "testing".to_string(),
                "filesystem".into(),
                "process".into(),
            ]),
            output: message.to_string(),
            output_fields: vec![(
                "proc.cmdline".into(),
                FieldValue::Str(
                    theirs["output_fields"]["proc.cmdline"]
                        .as_str()
                        .unwrap()
                        .into(),
                ),
            )],
            hostname: Arc::from("test-falco-hostname"),
        };
        let ours_line = fmt.format(&alert);
        let ours: serde_json::Value = serde_json::from_str(&ours_line).unwrap();
        assert_eq!(ours, theirs, "{ours_line}\n{line}");
        n += 1;
    }
    assert!(n > 0);
}

#[test]
fn repeated_field_keeps_the_last_value_and_evt_time_is_the_events() {
    let mut a = sample();
    a.output_fields = vec![
        ("k".into(), FieldValue::I64(1)),
        ("evt.time".into(), FieldValue::Str("12:00".into())),
        ("k".into(), FieldValue::I64(-2)),
    ];
    let line = AlertFormat::json().format(&a);
    assert!(
        line.contains("\"output_fields\":{\"evt.time\":1470327477881781949,\"k\":-2}"),
        "{line}"
    );
}
