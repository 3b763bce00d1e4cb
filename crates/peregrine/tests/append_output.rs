//! falco.yaml's `append_output`: extra text per matching rule, and the
//! container plugin's suggested fields (`container_id`, `container_name`)
//! appended to every syscall rule's output as Falco 0.44 does.

use std::process::Command;

#[test]
fn append_output_extends_matching_rules_outputs() {
    let (Some(single), Some(rules), Some(capture)) = (
        peregrine_testkit::conformance("falco-regression/rules/single_rule.yaml"),
        peregrine_testkit::conformance("falco-regression/rules/double_rule.yaml"),
        peregrine_testkit::conformance("falco-regression/trace_files/cat_write.scap"),
    ) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("peregrine-append-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("falco.yaml");
    std::fs::write(
        &cfg,
        "stdout_output: {enabled: true}\njson_output: true\nload_plugins: [container]\nplugins:\n  - name: container\n    library_path: libcontainer.so\nappend_output:\n  - suggested_output: true\n  - match: {rule: exec_from_cat}\n    extra_output: \"pid=%proc.pid\"\n    extra_fields:\n      - summary: \"%proc.name ran %proc.exe\"\n      - proc.ppid\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_peregrine"))
        .arg("-c")
        .arg(&cfg)
        .arg("-r")
        .arg(&single)
        .arg("-r")
        .arg(&rules)
        .args(["-o", "engine.kind=replay", "-o"])
        .arg(format!("engine.replay.capture_file={}", capture.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let alerts: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(!alerts.is_empty());
    let mut saw_extra = false;
    for a in &alerts {
        let text = a["output"].as_str().unwrap();
        let fields = &a["output_fields"];
        assert_eq!(fields["container.id"], "host", "{a}");
        assert_eq!(fields["container.name"], "host", "{a}");
        if a["rule"] == "exec_from_cat" {
            assert!(
                text.ends_with(&format!(
                    " container_id=host container_name=host pid={}",
                    fields["proc.pid"]
                )),
                "{text}"
            );
            // extra_fields: only in output_fields, formatted or typed.
            let summary = fields["summary"].as_str().unwrap_or_default();
            assert!(
                summary.starts_with("cat ran ") && summary.len() > "cat ran ".len(),
                "{a}"
            );
            assert!(
                fields["proc.ppid"].is_u64() || fields["proc.ppid"].is_i64(),
                "{a}"
            );
            assert!(
                !text.contains("summary") && !text.contains(" ran "),
                "{text}"
            );
            saw_extra = true;
        } else {
            assert!(
                text.ends_with(" container_id=host container_name=host"),
                "{text}"
            );
            assert!(fields.get("proc.pid").is_none(), "{a}");
            assert!(fields.get("summary").is_none(), "{a}");
        }
    }
    assert!(saw_extra, "no exec_from_cat alert: {alerts:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
