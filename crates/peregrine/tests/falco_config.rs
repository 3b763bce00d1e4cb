//! Falco 0.44.1's own falco.yaml and its container plugin override, loaded
//! unchanged by the real binary with Falco's rules: no error, no warning;
//! engine kinds; plugins other than the container plugin refused clearly.

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

/// Lines of stderr that are neither the one-time notices nor the dry-run line.
fn complaints(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("warning") || l.contains("error") || l.contains("unknown")
        })
        .collect()
}

#[test]
fn falco_0_44_1_default_config_and_container_override_load_without_errors_or_warnings() {
    let (Some(cfg_dir), Some(rules_dir)) = (
        peregrine_testkit::conformance("falco-config"),
        peregrine_testkit::conformance("falco-rules"),
    ) else {
        return;
    };
    let cfg = cfg_dir.join("falco.yaml");
    let plugin = cfg_dir.join("falco.container_plugin.yaml");
    let rules = rules_dir.join("falco_rules.yaml");
    let (cfg, plugin, rules) = (
        cfg.to_str().unwrap(),
        plugin.to_str().unwrap(),
        rules.to_str().unwrap(),
    );

    // Falco's package: falco.yaml includes /etc/falco/config.d (absent
    // here, skipped as Falco skips it); the override is added the way a
    // user would add one, as a further config_files entry.
    let include = format!("config_files[1]={plugin}");
    for extra in [&[][..], &["-o", include.as_str()][..]] {
        let mut args = vec!["-c", cfg, "-r", rules, "--dry-run"];
        args.extend_from_slice(extra);
        let (code, out, err) = peregrine(&args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(out.is_empty(), "{out}");
        assert!(complaints(&err).is_empty(), "{args:?}: {err}");
        assert!(
            err.contains("dry run: configuration and rules are valid"),
            "{err}"
        );
        // Keys Falco has and Peregrine does not need are named once.
        assert_eq!(
            err.matches("config keys accepted without effect").count(),
            1,
            "{err}"
        );
        if !extra.is_empty() {
            assert!(
                err.contains(
                    "plugin 'container': Peregrine provides the container plugin's fields natively"
                ),
                "{err}"
            );
        }
    }

    // The same, replaying a capture through engine.kind as Falco 0.44 does.
    if let Some(capture) = peregrine_testkit::conformance("scap/curl_google.scap") {
        let (code, out, err) = peregrine(&[
            "-c",
            cfg,
            "-o",
            &include,
            "-r",
            rules,
            "-o",
            "engine.kind=replay",
            "-o",
            &format!("engine.replay.capture_file={}", capture.display()),
            "-o",
            "syslog_output.enabled=false",
        ]);
        assert_eq!(code, 0, "{err}");
        assert!(complaints(&err).is_empty(), "{err}");
        assert!(out.contains("Events detected: "), "{out}");
    }
}

#[test]
fn engine_kinds_are_accepted_with_a_notice_and_unknown_ones_name_their_origin() {
    let dir = std::env::temp_dir().join(format!("peregrine-falco-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let rules = dir.join("r.yaml");
    std::fs::write(
        &rules,
        "- rule: r\n  desc: d\n  condition: evt.type=open\n  output: o\n  priority: WARNING\n",
    )
    .expect("write");
    let cfg = dir.join("falco.yaml");
    // Notices are info-level log lines: log them to stderr.
    std::fs::write(
        &cfg,
        "engine:\n  kind: modern_ebpf\nlog_stderr: true\nlog_syslog: false\nlog_level: info\n",
    )
    .expect("write");
    let (cfg, rules) = (cfg.to_str().unwrap(), rules.to_str().unwrap());
    for (kind, says) in [
        (
            "kmod",
            "engine.kind 'kmod' is served by Peregrine's CO-RE eBPF probe",
        ),
        (
            "ebpf",
            "engine.kind 'ebpf' is served by Peregrine's CO-RE eBPF probe",
        ),
        ("gvisor", "syscalls inside gVisor sandboxes are not seen"),
        ("nodriver", "no syscall events are captured"),
    ] {
        let opt = format!("engine.kind={kind}");
        let (code, _, err) = peregrine(&["-c", cfg, "-r", rules, "-o", &opt, "--dry-run"]);
        assert_eq!(code, 0, "{kind}: {err}");
        assert!(err.contains(says), "{kind}: {err}");
    }
    let (code, _, err) = peregrine(&["-c", cfg, "-r", rules, "-o", "engine.kind=kvm", "--dry-run"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("-o engine.kind=kvm: key 'engine.kind': expected one of modern_ebpf, kmod, ebpf, replay, nodriver, gvisor, found 'kvm'"),
        "{err}"
    );
    std::fs::write(
        dir.join("bad.yaml"),
        "rules_files: []\nengine:\n  kind: kvm\n",
    )
    .expect("write");
    let bad = dir.join("bad.yaml");
    let (code, _, err) = peregrine(&["-c", bad.to_str().unwrap(), "--dry-run"]);
    assert_eq!(code, 1);
    assert!(err.contains("bad.yaml:3:9: key 'engine.kind'"), "{err}");
}

#[test]
fn plugins_other_than_container_are_refused_clearly() {
    let dir = std::env::temp_dir().join(format!("peregrine-falco-plugins-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let cfg = dir.join("falco.yaml");
    std::fs::write(
        &cfg,
        "load_plugins: [k8saudit, json]\nplugins:\n  - name: k8saudit\n    library_path: libk8saudit.so\n    open_params: http://:9765/k8s-audit\n  - name: json\n    library_path: libjson.so\n",
    )
    .expect("write");
    let (code, _, err) = peregrine(&["-c", cfg.to_str().unwrap(), "--dry-run"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("plugin 'k8saudit' (libk8saudit.so) is not supported by Peregrine"),
        "{err}"
    );
}

#[test]
fn list_plugins_and_plugin_info_show_the_native_container_plugin() {
    let Some(dir) = peregrine_testkit::conformance("falco-config") else {
        return;
    };
    let cfg = dir.join("falco.yaml");
    let include = format!(
        "config_files[1]={}",
        dir.join("falco.container_plugin.yaml").display()
    );
    let cfg = cfg.to_str().unwrap();
    let (code, out, _) = peregrine(&["-c", cfg, "-o", &include, "--list-plugins"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("1 Plugins Loaded:\n\nName: container\nDescription: Falco container metadata enrichment Plugin\n"),
        "{out}"
    );
    assert!(out.contains("\nVersion: 0.7.1\nCapabilities: \n  - Field Extraction\n"));
    // falco.yaml alone loads no plugin (load_plugins: []).
    let (code, out, _) = peregrine(&["-c", cfg, "--list-plugins"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("0 Plugins Loaded:\n"), "{out}");
    // By name or by library path.
    for which in ["container", "libcontainer.so"] {
        let (code, out, _) = peregrine(&["-c", cfg, "-o", &include, "--plugin-info", which]);
        assert_eq!(code, 0);
        assert!(out.starts_with("Name: container\n"), "{out}");
    }
    let (code, _, err) = peregrine(&["-c", cfg, "-o", &include, "--plugin-info", "k8saudit"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("can't find plugin and print its info: k8saudit"),
        "{err}"
    );
}
