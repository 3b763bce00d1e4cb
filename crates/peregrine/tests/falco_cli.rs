//! Falco 0.44's command line end to end, on the real binary: `--version`,
//! `-i`, `--list-events` (text, markdown, json), `--support`, `-P`,
//! `--page-size`, `--enable-source`/`--disable-source`, `--dry-run`, `-M`,
//! `-U`, `-v`, `--markdown`/`--format`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

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

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("peregrine-falco-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("tmp dir");
    d
}

fn write(dir: &Path, name: &str, content: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, content).expect("write");
    p.to_string_lossy().into_owned()
}

/// (major, minor, patch) of a version string.
fn semver(s: &str) -> (u32, u32, u32) {
    let mut it = s.trim().split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (
        it.next().unwrap_or(0),
        it.next().unwrap_or(0),
        it.next().unwrap_or(0),
    )
}

#[test]
fn version_text_and_json_declare_an_engine_every_upstream_rules_file_accepts() {
    let (code, out, _) = peregrine(&["--version"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("Peregrine version: "), "{out}");
    let engine = lines
        .iter()
        .find_map(|l| l.strip_prefix("Engine:"))
        .expect("Engine: line")
        .trim()
        .to_string();
    assert!(lines.iter().any(|l| l.starts_with("Driver:")), "{out}");
    assert!(out.contains("  Schema version: 4.5.1\n"), "{out}");

    let (code, out, _) = peregrine(&["--version", "-o", "json_output=true"]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(out.trim()).expect("json");
    assert_eq!(v["engine_version_semver"], engine.as_str());
    assert_eq!(
        v["engine_version"].as_str().unwrap(),
        engine.split('.').nth(1).unwrap()
    );
    for key in [
        "falco_version",
        "libs_version",
        "plugin_api_version",
        "driver_api_version",
        "driver_schema_version",
        "default_driver_version",
    ] {
        assert!(v.get(key).is_some(), "{key} missing: {v}");
    }

    let Some(rules) = peregrine_testkit::conformance("falco-rules") else {
        return;
    };
    let mut checked = 0;
    for entry in std::fs::read_dir(rules).expect("rules dir") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        for line in text.lines() {
            if let Some(req) = line.strip_prefix("- required_engine_version:") {
                assert!(
                    semver(&engine) >= semver(req),
                    "{} requires {req}, Peregrine declares {engine}",
                    path.display()
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 4, "one required_engine_version per upstream file");
}

#[test]
fn ignored_events_are_the_high_volume_io_syscalls() {
    let (code, out, _) = peregrine(&["-i"]);
    assert_eq!(code, 0);
    let names: Vec<&str> = out.lines().filter_map(|l| l.strip_prefix("- ")).collect();
    assert!(out.starts_with("Ignored syscall(s):\n"), "{out}");
    assert_eq!(
        names,
        [
            "pread", "preadv", "pwrite", "pwritev", "read", "readv", "recv", "send", "sendfile",
            "write", "writev"
        ]
    );
}

#[test]
fn list_events_text_markdown_and_json() {
    let (code, text, _) = peregrine(&["--list-events"]);
    assert_eq!(code, 0);
    assert!(text.starts_with("The events below are valid for Falco *Schema Version*: "));
    let cats: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("## ")).collect();
    assert_eq!(
        cats,
        [
            "Syscall events",
            "Tracepoint events",
            "Plugin events",
            "Metaevents"
        ]
    );
    // Current versions only, both directions, params with types and flags.
    assert!(
        text.contains("\n< execve(ERRNO **res**, CHARBUF **exe**, "),
        "{text}"
    );
    assert!(text.contains("\n< close(ERRNO **res**, FD **fd**)\n"));
    assert!(text.contains("FLAGS32 **flags**: O_LARGEFILE, O_DIRECTORY, "));
    // Generic events by syscall name.
    assert!(text.contains("\n> getpid(SYSCALLID **ID**, UINT16 **nativeID**)\n"));
    assert!(
        text.contains("\n> procexit(ERRNO **status**, "),
        "tracepoints listed"
    );
    assert!(
        !text.contains(" syscall(SYSCALLID"),
        "generic listed by name only"
    );

    let (code, md, _) = peregrine(&["--list-events", "--format", "markdown"]);
    assert_eq!(code, 0);
    assert!(md.contains("Default | Dir | Name | Params \n:-------|:----|:-----|:-----\n"));
    assert!(
        md.contains("\nNo | `<` | `read` | ERRNO **res**, "),
        "read is ignored"
    );
    assert!(md.contains("\nYes | `<` | `openat` | "));
    assert!(md.contains("*O_CLOEXEC*"));

    let (code, js, _) = peregrine(&["--list-events", "--format", "JSON"]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&js).expect("json");
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "Metaevents",
            "Plugin events",
            "Syscall events",
            "Tracepoint events",
            "schema_version"
        ]
    );
    let syscalls = v["Syscall events"].as_array().unwrap();
    let read_x = syscalls
        .iter()
        .find(|e| e["name"] == "read" && e["dir"] == "<")
        .expect("read exit");
    assert_eq!(read_x["available"], false);
    assert_eq!(read_x["params"][0]["type"], "ERRNO");
    assert_eq!(read_x["params"][0]["name"], "res");
    let open_x = syscalls
        .iter()
        .find(|e| e["name"] == "open" && e["dir"] == "<")
        .expect("open exit");
    assert_eq!(open_x["available"], true);
    assert!(open_x["params"][2]["flags"]
        .as_array()
        .unwrap()
        .contains(&Value::from("O_CREAT")));

    let (code, _, err) = peregrine(&["--list-events", "--format", "yaml"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Invalid format 'yaml'. Valid values are: text, markdown, json"),
        "{err}"
    );
    let (code, _, err) = peregrine(&["--list-events", "--markdown", "--format", "json"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Cannot specify both --markdown and --format"),
        "{err}"
    );
    let (code, out, err) = peregrine(&["--list-events", "--markdown"]);
    assert_eq!(code, 0);
    assert!(err.contains("--markdown is deprecated"));
    assert_eq!(out, md);
}

#[test]
fn support_has_versions_system_config_and_rules_with_hashes() {
    let dir = temp_dir("support");
    let rules_text = "- rule: r1\n  desc: d\n  condition: evt.type=open\n  output: o %proc.name\n  priority: WARNING\n";
    let rules = write(&dir, "r.yaml", rules_text);
    let cfg = write(
        &dir,
        "falco.yaml",
        "rules_files:\n  - RULES\nengine:\n  kind: modern_ebpf\njson_output: false\nplugins: []\n"
            .replace("RULES", &rules)
            .as_str(),
    );
    let (code, out, err) = peregrine(&["-c", &cfg, "--support", "-o", "priority=notice"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(out.trim()).expect("json");
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "cmdline",
            "config",
            "engine_info",
            "rules_files",
            "system_info",
            "version"
        ]
    );
    assert_eq!(v["system_info"]["sysname"], "Linux");
    assert!(!v["system_info"]["release"].as_str().unwrap().is_empty());
    assert!(v["cmdline"]
        .as_str()
        .unwrap()
        .ends_with("--support -o priority=notice"));
    assert!(v["engine_info"]["engine_version_semver"].is_string());
    let config = v["config"].as_str().unwrap();
    assert!(config.starts_with("{\"rules_files\": ["), "{config}");
    assert!(
        config.contains("\"engine\": {\"kind\": \"modern_ebpf\"}"),
        "{config}"
    );
    assert!(
        config.contains("\"priority\": \"notice\""),
        "-o applied: {config}"
    );
    // Invalid rules stop it, as in Falco (which loads them first).
    let bad = write(&dir, "bad.yaml", "- rule: broken\n  condition: (\n");
    let (code, out, _) = peregrine(&["-c", &cfg, "-r", &bad, "--support"]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    let files = v["rules_files"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["name"], rules.as_str());
    assert_eq!(files[0]["variants"][0]["content"], rules_text);
    assert_eq!(
        files[0]["sha256"],
        peregrine_metrics::sha256::sha256_hex(rules_text.as_bytes())
    );
}

#[test]
fn support_reports_the_native_container_plugin_with_falcos_own_config() {
    let Some(dir) = peregrine_testkit::conformance("falco-config") else {
        return;
    };
    let Some(rules) = peregrine_testkit::conformance("falco-rules/falco_rules.yaml") else {
        return;
    };
    let cfg = dir.join("falco.yaml");
    let plugin = dir.join("falco.container_plugin.yaml");
    let (code, out, err) = peregrine(&[
        "-c",
        cfg.to_str().unwrap(),
        "-r",
        rules.to_str().unwrap(),
        "-o",
        &format!("config_files[0]={}", plugin.display()),
        "--support",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(out.trim()).expect("json");
    assert!(v["engine_info"]["plugin_versions"]["container"].is_string());
    assert!(v["config"]
        .as_str()
        .unwrap()
        .contains("\"load_plugins\": [\"container\"]"));
}

#[test]
fn pidfile_exists_while_running_and_is_removed_at_exit() {
    let Some(capture) = peregrine_testkit::conformance("scap/curl_google.scap") else {
        return;
    };
    let dir = temp_dir("pidfile");
    let pidfile = dir.join("peregrine.pid");
    let seen = dir.join("seen.txt");
    let rules = write(
        &dir,
        "r.yaml",
        "- rule: curl connects\n  desc: d\n  condition: evt.type=connect and proc.name=curl\n  output: connect %proc.name\n  priority: WARNING\n",
    );
    // The program output runs while events are processed: it copies the pid file.
    let cfg = write(
        &dir,
        "falco.yaml",
        &format!(
            "program_output:\n  enabled: true\n  keep_alive: false\n  program: \"cat {} >> {s}; echo >> {s}\"\nstdout_output:\n  enabled: false\n",
            pidfile.display(),
            s = seen.display()
        ),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_peregrine"))
        .args(["-c", &cfg, "-r", &rules, "-P", pidfile.to_str().unwrap()])
        .args(["-e", capture.to_str().unwrap(), "-U", "-v"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = std::fs::read_to_string(&seen).expect("the program output ran");
    let pid: u32 = seen
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .parse()
        .expect("a pid");
    assert!(pid > 1);
    assert!(!pidfile.exists(), "pid file removed at exit");

    // An unwritable pid file stops the start.
    let (code, _, err) = peregrine(&[
        "-c",
        &cfg,
        "-r",
        &rules,
        "-e",
        capture.to_str().unwrap(),
        "-P",
        "/nonexistent-dir/x.pid",
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Could not write pid to pidfile /nonexistent-dir/x.pid"),
        "{err}"
    );
}

#[test]
fn dry_run_checks_config_rules_and_capture_without_processing() {
    let Some(capture) = peregrine_testkit::conformance("scap/curl_google.scap") else {
        return;
    };
    let dir = temp_dir("dryrun");
    let pidfile = dir.join("p.pid");
    let good = write(
        &dir,
        "good.yaml",
        "- rule: any connect\n  desc: d\n  condition: evt.type=connect\n  output: connect %proc.name\n  priority: WARNING\n",
    );
    let bad = write(
        &dir,
        "bad.yaml",
        "- rule: broken\n  desc: d\n  condition: evt.type=connect and\n  output: x\n  priority: WARNING\n",
    );
    let cfg = write(&dir, "falco.yaml", "stdout_output:\n  enabled: true\n");
    let cap = capture.to_str().unwrap();
    let p = pidfile.to_str().unwrap();
    let (code, out, err) = peregrine(&[
        "-c",
        &cfg,
        "-r",
        &good,
        "-e",
        cap,
        "--dry-run",
        "-P",
        p,
        "-M",
        "5",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty(), "no alerts in a dry run: {out}");
    assert!(!out.contains("Events detected"));
    assert!(!pidfile.exists(), "no pid file in a dry run");
    let (code, _, err) = peregrine(&["-c", &cfg, "-r", &bad, "-e", cap, "--dry-run"]);
    assert_eq!(code, 1);
    assert!(err.contains("LOAD_ERR_COMPILE_CONDITION"), "{err}");
    let (code, _, err) = peregrine(&[
        "-c",
        &cfg,
        "-r",
        &good,
        "-o",
        "engine.kind=replay",
        "-o",
        "engine.replay.capture_file=/nonexistent.scap",
        "--dry-run",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("/nonexistent.scap"), "{err}");
}

#[test]
fn sources_page_size_and_duration_flags() {
    let dir = temp_dir("sources");
    let cfg = write(&dir, "falco.yaml", "stdout_output:\n  enabled: true\n");
    let rules = write(
        &dir,
        "r.yaml",
        "- rule: r\n  desc: d\n  condition: evt.type=open\n  output: o\n  priority: WARNING\n",
    );
    let base = ["-c", cfg.as_str(), "-r", rules.as_str(), "--dry-run"];
    let run = |extra: &[&str]| {
        let mut a: Vec<&str> = base.to_vec();
        a.extend_from_slice(extra);
        peregrine(&a)
    };
    assert_eq!(run(&["--enable-source", "syscall"]).0, 0);
    let (code, _, err) = run(&["--enable-source", "k8s_audit"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Attempted enabling an unknown event source: k8s_audit")
            && err.contains("k8saudit plugin"),
        "{err}"
    );
    let (code, _, err) = run(&["--disable-source", "syscall"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Must enable at least one event source"),
        "{err}"
    );
    let (code, _, err) = run(&["--enable-source", "syscall", "--disable-source", "syscall"]);
    assert_eq!(code, 1);
    assert!(err.contains("You can not mix --enable-source and --disable-source"));

    let (code, _, err) = peregrine(&["--page-size"]);
    assert_eq!(code, 0);
    let size: u64 = err
        .trim()
        .strip_prefix("Your system page size is: ")
        .and_then(|s| s.strip_suffix(" bytes"))
        .and_then(|s| s.parse().ok())
        .expect("page size line");
    assert!(size >= 4096 && size.is_power_of_two());
    // With a value it sizes the live ring buffers instead (accepted with the rest).
    assert_eq!(run(&["--page-size=64"]).0, 0);
    let (code, _, _) = run(&["--page-size=many"]);
    assert_eq!(code, 2, "clap rejects a non-number");

    assert_eq!(run(&["-M", "30", "-U", "-v"]).0, 0);
    let (code, _, err) = run(&["-M", "soon"]);
    assert_eq!(code, 2, "clap rejects a non-number");
    assert!(err.contains("-M"), "{err}");
}

#[test]
fn classic_flags_translate_to_falco_0_44_options() {
    let Some(capture) = peregrine_testkit::conformance("scap/curl_google.scap") else {
        return;
    };
    let dir = temp_dir("classic");
    let rules = write(
        &dir,
        "r.yaml",
        "- rule: curl connects\n  desc: d\n  condition: evt.type=connect and proc.name=curl\n  output: connect %proc.name\n  priority: WARNING\n  tags: [net]\n- rule: curl opens\n  desc: d\n  condition: evt.type in (open,openat) and proc.name=curl\n  output: open %fd.name\n  priority: WARNING\n",
    );
    let cfg = write(
        &dir,
        "falco.yaml",
        "file_output:\n  enabled: true\n  filename: /dev/null\n",
    );
    let cap = capture.to_str().unwrap();
    // The per-rule counts of the end-of-run summary.
    let counts = |extra: &[&str]| -> (Option<u64>, Option<u64>, String) {
        let mut a = vec!["-c", cfg.as_str(), "-r", rules.as_str(), "-e", cap];
        a.extend_from_slice(extra);
        let (code, out, err) = peregrine(&a);
        assert_eq!(code, 0, "{extra:?}: {err}");
        let n = |rule: &str| {
            out.lines()
                .find_map(|l| l.trim().strip_prefix(&format!("{rule}: ")))
                .map(|v| v.parse().expect("count"))
        };
        (n("curl connects"), n("curl opens"), err)
    };
    let (connects, opens, _) = counts(&[]);
    assert!(connects.unwrap() > 0 && opens.unwrap() > 0);
    let (c, o, err) = counts(&["-D", "connects"]);
    assert_eq!((c, o), (None, opens));
    assert!(err.contains("rules[N].disable.rule=*connects*"), "{err}");
    let (c, o, _) = counts(&["-t", "net"]);
    assert_eq!((c, o), (connects, None));
    let (c, o, _) = counts(&["-T", "net"]);
    assert_eq!((c, o), (None, opens));
    let (c, o, err) = counts(&["-pk"]);
    assert_eq!((c, o), (connects, opens));
    assert!(err.contains("The -p/--print option is deprecated"), "{err}");
    let (code, _, err) = peregrine(&["-t", "net", "-T", "x", "-c", &cfg, "--dry-run"]);
    assert_eq!(code, 1);
    assert!(err.contains("You can not specify both disabled (-D/-T) and enabled (-t) rules"));

    // Config-key flags become -o options; the user's -o still wins.
    let (code, out, err) = peregrine(&[
        "-c",
        &cfg,
        "-r",
        &rules,
        "--support",
        "--nodriver",
        "-S",
        "256",
        "-b",
        "-k",
        "http://127.0.0.1:8080",
        "-o",
        "buffer_format_base64=false",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(out.trim()).expect("json");
    let config = v["config"].as_str().unwrap();
    assert!(
        config.contains("\"engine\": {\"kind\": \"nodriver\"}"),
        "{config}"
    );
    assert!(
        config.contains("\"falco_libs\": {\"snaplen\": \"256\"}"),
        "{config}"
    );
    assert!(
        config.contains("\"buffer_format_base64\": \"false\""),
        "{config}"
    );
    assert!(
        err.contains("Falco 0.44 spells it -o engine.kind=nodriver"),
        "{err}"
    );
    assert!(err.contains("-k/-K/--k8s-node have no effect"), "{err}");
}
