//! Config loading: Falco 0.44.1's own falco.yaml, includes, `-o`, errors
//! with positions, the repo's peregrine.yaml.

use std::path::PathBuf;

use super::*;

fn opts(path: PathBuf, options: &[&str]) -> LoadOptions {
    LoadOptions {
        config_path: Some(path),
        options: options.iter().map(|s| s.to_string()).collect(),
    }
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("peregrine-cfgtest-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn falco_0_44_1_default_config_loads_cleanly() {
    let Some(dir) = peregrine_testkit::conformance("falco-config") else {
        return;
    };
    let loaded = load(&opts(dir.join("falco.yaml"), &[])).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = &loaded.config;
    assert_eq!(c.engine.kind, EngineKind::ModernEbpf);
    assert_eq!(
        c.rules_files,
        [
            "/etc/falco/falco_rules.yaml",
            "/etc/falco/falco_rules.local.yaml",
            "/etc/falco/rules.d"
        ]
    );
    assert!(c.outputs.stdout.enabled && c.outputs.syslog.enabled);
    assert!(!c.outputs.file.enabled && !c.outputs.http.enabled);
    assert_eq!(c.outputs.file.filename, "./events.txt");
    assert_eq!(c.outputs.http.user_agent, "falcosecurity/falco");
    assert_eq!(c.webserver.listen_port, 8765);
    assert!(c.webserver.enabled);
    assert_eq!(c.metrics.interval_ms, 3_600_000);
    assert_eq!(c.syscall_event_drops.threshold, 0.1);
    assert_eq!(c.syscall_event_drops.actions, ["log", "alert"]);
    assert!(c.append_output[0].suggested_output);
    assert_eq!(c.falco_libs.thread_table_size, 262_144);
    assert!(c.plugins.is_empty(), "load_plugins: [] loads nothing");
    assert_eq!(c.priority, peregrine_alert::Priority::Debug);
    assert_eq!(loaded.files.len(), 1);
    assert_eq!(loaded.files[0].1.len(), 64);
    assert!(
        loaded
            .notices
            .iter()
            .any(|n| n.contains("libs_logger.enabled")),
        "{:?}",
        loaded.notices
    );

    // With the container plugin override (the config.d file of Falco's
    // packages), included from the command line as Falco allows.
    let plugin = dir.join("falco.container_plugin.yaml");
    let loaded = load(&opts(
        dir.join("falco.yaml"),
        &[&format!("config_files[0]={}", plugin.display())],
    ))
    .unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(loaded.config.plugins.len(), 1);
    assert_eq!(loaded.config.plugins[0].name, "container");
    assert_eq!(
        loaded.config.plugins[0].init_config,
        r#"{"label_max_len":100,"with_size":false}"#
    );
    assert_eq!(loaded.files.len(), 2);
    assert!(loaded
        .notices
        .iter()
        .any(|n| n.contains("container plugin")));
}

#[test]
fn wrong_types_fail_with_key_file_line_column() {
    let err = load_str(
        "json_output: true\nwebserver:\n  enabled: true\n  listen_port: abc\nfile_output:\n  enabled: maybe\n",
        "bad.yaml",
        &[],
    )
    .unwrap_err();
    let ConfigError::Invalid(diags) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(diags.len(), 2);
    assert_eq!(diags[0].key, "webserver.listen_port");
    assert_eq!((diags[0].origin.line, diags[0].origin.column), (4, 16));
    assert!(diags[0].origin.source.ends_with("bad.yaml"));
    let text = err.to_string();
    assert!(
        text.contains(
            "bad.yaml:4:16: key 'webserver.listen_port': expected an integer, found 'abc'"
        ),
        "{text}"
    );
    assert!(text.contains("bad.yaml:6:12: key 'file_output.enabled': expected a boolean"));

    // From the command line too.
    let err = load_str(
        "a_key_nobody_knows: 1\n",
        "ok.yaml",
        &["metrics.enabled=sure".into()],
    )
    .unwrap_err();
    assert!(err.to_string().contains("-o metrics.enabled=sure"), "{err}");

    // Syntax errors carry the position.
    let err = load_str("rules_files: [a\nx: y\n", "syntax.yaml", &[]).unwrap_err();
    assert!(
        matches!(err, ConfigError::Yaml { line, .. } if line >= 1),
        "{err:?}"
    );
}

#[test]
fn unknown_keys_warn_with_file_and_line() {
    let loaded = load_str(
        "stdout_output:\n  enabled: true\n  colour: red\nfrobnicate: 3\n",
        "warn.yaml",
        &[],
    )
    .unwrap();
    let w: Vec<(String, usize)> = loaded
        .warnings
        .iter()
        .map(|d| (d.key.clone(), d.origin.line))
        .collect();
    assert_eq!(
        w,
        [
            ("stdout_output.colour".to_string(), 3),
            ("frobnicate".to_string(), 4)
        ]
    );
    assert!(loaded.warnings[0].to_string().contains("warn.yaml:3:"));
}

#[test]
fn includes_merge_with_falcos_strategies() {
    let d = temp("includes");
    std::fs::create_dir_all(d.join("config.d")).unwrap();
    std::fs::write(
        d.join("main.yaml"),
        format!(
            "config_files:\n  - {0}/config.d\n  - path: {0}/over.yaml\n    strategy: override\n  - path: {0}/addonly.yaml\n    strategy: add-only\n  - {0}/missing.yaml\nrules_files: [a.yaml]\npriority: debug\nload_plugins: []\n",
            d.display()
        ),
    )
    .unwrap();
    // Directory entries apply in name order; sequences are appended.
    std::fs::write(
        d.join("config.d/10-b.yaml"),
        "rules_files: [b.yaml]\npriority: notice\n",
    )
    .unwrap();
    std::fs::write(d.join("config.d/20-c.yaml"), "rules_files: [c.yaml]\n").unwrap();
    std::fs::write(d.join("over.yaml"), "rules_files: [o.yaml]\n").unwrap();
    std::fs::write(
        d.join("addonly.yaml"),
        "priority: error\njson_output: true\n",
    )
    .unwrap();
    let loaded = load(&opts(d.join("main.yaml"), &[])).unwrap();
    assert_eq!(loaded.config.rules_files, ["o.yaml"]);
    assert_eq!(loaded.config.priority, peregrine_alert::Priority::Notice);
    assert!(loaded.config.outputs.format.json_output);
    assert_eq!(loaded.files.len(), 5);

    // Append keeps earlier items.
    std::fs::write(d.join("over.yaml"), "rules_files: [o.yaml]\n").unwrap();
    let loaded = load(&opts(
        d.join("main.yaml"),
        &["config_files[1].strategy=append"],
    ))
    .unwrap();
    assert_eq!(
        loaded.config.rules_files,
        ["a.yaml", "b.yaml", "c.yaml", "o.yaml"]
    );

    // No config_files inside includes; no self-include.
    std::fs::write(d.join("config.d/30-bad.yaml"), "config_files: [x]\n").unwrap();
    let err = load(&opts(d.join("main.yaml"), &[])).unwrap_err();
    assert!(
        err.to_string()
            .contains("directive in included config file"),
        "{err}"
    );
    std::fs::remove_file(d.join("config.d/30-bad.yaml")).unwrap();
    let main = d.join("main.yaml");
    let err = load(&opts(
        main.clone(),
        &[&format!("config_files[0]={}", main.display())],
    ))
    .unwrap_err();
    assert!(err.to_string().contains("recursively include"), "{err}");
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn command_line_options_like_falco_0_44() {
    let loaded = load_str(
        "rules_files: [/etc/falco/falco_rules.yaml]\nstdout_output: {enabled: true}\n",
        "o.yaml",
        &[
            "engine.kind=replay".into(),
            "engine.replay.capture_file=/tmp/x.scap".into(),
            "rules[0].disable.rule=*".into(),
            "rules[1].enable.tag=network".into(),
            "base_syscalls.all=true".into(),
            "rules_files[0]=./rules".into(),
            "json_output=true".into(),
            "static_fields={cluster: prod}".into(),
            r"static_fields.kubernetes\.io/role=master".into(),
        ],
    )
    .unwrap();
    let c = &loaded.config;
    assert_eq!(c.engine.kind, EngineKind::Replay);
    assert_eq!(c.engine.replay_capture_file, "/tmp/x.scap");
    assert_eq!(
        c.rules,
        [
            RuleSelection::Disable {
                rule: Some("*".into()),
                tag: None
            },
            RuleSelection::Enable {
                rule: None,
                tag: Some("network".into())
            },
        ]
    );
    assert!(c.base_syscalls.all && c.outputs.format.json_output);
    assert_eq!(c.rules_files, ["./rules"]);
    assert_eq!(
        c.static_fields,
        [
            ("cluster".to_string(), "prod".to_string()),
            ("kubernetes.io/role".to_string(), "master".to_string())
        ]
    );
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn every_falco_engine_kind_is_accepted_with_a_notice() {
    for (kind, says) in [
        ("kmod", "served by Peregrine's CO-RE eBPF probe"),
        ("ebpf", "served by Peregrine's CO-RE eBPF probe"),
        ("gvisor", "gVisor sandboxes are not seen"),
        ("nodriver", "no syscall events are captured"),
    ] {
        let loaded = load_str(&format!("engine: {{kind: {kind}}}\n"), "k.yaml", &[]).unwrap();
        assert!(
            loaded.notices.iter().any(|n| n.contains(says)),
            "{kind}: {:?}",
            loaded.notices
        );
    }
    let loaded = load_str("engine: {kind: modern_ebpf}\n", "k.yaml", &[]).unwrap();
    assert!(!loaded.notices.iter().any(|n| n.contains("engine.kind")));
}

#[test]
fn semantic_errors_name_the_problem() {
    let e = |src: &str| load_str(src, "s.yaml", &[]).unwrap_err().to_string();
    assert!(e("engine: {kind: replay}\n").contains("no engine.replay.capture_file"));
    assert!(e("priority: loud\n").contains("priority"));
    assert!(
        e("plugins: [{name: k8saudit, library_path: libk8saudit.so}]\n")
            .contains("plugin 'k8saudit'")
    );
    assert!(e("load_plugins: [json]\nplugins: []\n").contains("Cannot load plugin 'json'"));
    assert!(e("webserver: {listen_address: localhost}\n").contains("not a valid IP address"));
    assert!(e("syscall_event_drops: {actions: [ignore, log]}\n").contains("ignore"));
    assert!(e("metrics: {interval: soon}\n").contains("metrics.interval"));
    let loaded = load_str("engine: {kind: kmod}\n", "k.yaml", &[]).unwrap();
    assert!(loaded.notices.iter().any(|n| n.contains("CO-RE")));
}

#[test]
fn repo_peregrine_yaml_documents_every_key() {
    let path = peregrine_testkit::project_root().join("peregrine.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let loaded = load(&opts(path, &[])).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(loaded.config.rules_files, ["./rules"]);
    assert_eq!(loaded.config.engine.kind, EngineKind::ModernEbpf);
    // Deprecated and legacy keys are documented in comments, not set.
    let commented = ["rules_file", "rule_files", "container_engines"];
    for p in schema::all_paths() {
        if let Some(c) = commented.iter().find(|c| p.starts_with(*c)) {
            assert!(text.contains(c), "peregrine.yaml does not mention {p}");
        } else if p.contains("[]") {
            let leaf = p.rsplit('.').next().unwrap();
            assert!(
                text.contains(&format!("{leaf}:")),
                "peregrine.yaml lacks {p}"
            );
        } else {
            assert!(
                loaded.document.at(&p).is_some(),
                "peregrine.yaml does not set {p}"
            );
        }
    }
}

#[test]
fn config_schema_accepts_falco_yaml_and_rejects_bad_types() {
    let Some(dir) = peregrine_testkit::conformance("falco-config") else {
        return;
    };
    if !peregrine_testkit::tool_available("python3") {
        return;
    }
    let schema = schema::json_schema().to_string();
    let good = load(&opts(dir.join("falco.yaml"), &[])).unwrap();
    let bad = serde_json::json!({"webserver": {"listen_port": "x"}, "nope": 1});
    let docs = serde_json::json!([to_json(&good.document), bad]).to_string();
    let script = r#"
import json, sys, jsonschema
schema = json.loads(sys.argv[1]); docs = json.loads(sys.argv[2])
jsonschema.Draft7Validator.check_schema(schema)
v = jsonschema.Draft7Validator(schema)
print(json.dumps([len(list(v.iter_errors(d))) for d in docs]))
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script, &schema, &docs])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[0, 2]");
}

#[test]
fn rules_paths_expand_like_falco() {
    let d = temp("rules");
    std::fs::create_dir_all(d.join("rules.d")).unwrap();
    for f in ["b.yaml", "a.yml", "c.txt"] {
        std::fs::write(d.join("rules.d").join(f), "").unwrap();
    }
    std::fs::write(d.join("one.yaml"), "").unwrap();
    let list = vec![
        d.join("one.yaml").display().to_string(),
        d.join("missing.yaml").display().to_string(),
        d.join("rules.d").display().to_string(),
    ];
    let got: Vec<String> = expand_rules_paths(&list)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(got, ["one.yaml", "a.yml", "b.yaml"]);
    let _ = std::fs::remove_dir_all(d);
}
