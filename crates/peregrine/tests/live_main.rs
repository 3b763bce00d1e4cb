//! The main job for real: `peregrine` live on this machine's kernel, its
//! capture command, the summary on SIGTERM, and hot reload that survives a
//! broken rules file.

mod live_support;

use live_support::{Peregrine, BIN};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("peregrine-live-main-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A rule that fires when `cat` opens a file whose name contains `marker`.
fn marker_rule(name: &str, marker: &str) -> String {
    format!(
        "- rule: {name}\n  desc: test\n  condition: evt.type in (open, openat, openat2) and proc.name = cat and fd.name contains {marker}\n  output: \"{name} saw %fd.name by %proc.name\"\n  priority: WARNING\n"
    )
}

fn cat(path: &Path) {
    let _ = Command::new("cat")
        .arg(path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

const QUIET: [&str; 4] = [
    "-o",
    "webserver.enabled=false",
    "-o",
    "watch_config_files=false",
];

/// Writes `rules` to DIR/rules.yaml and starts the agent on it, quiet, with
/// `-o` for each of `options`; returns the rules file and the agent.
fn agent_on(dir: &Path, rules: &str, options: &[&str]) -> (PathBuf, Peregrine) {
    let path = dir.join("rules.yaml");
    std::fs::write(&path, rules).unwrap();
    let mut args = vec!["-r".to_string(), path.display().to_string()];
    for o in options {
        args.extend(["-o".to_string(), o.to_string()]);
    }
    args.extend(QUIET.map(String::from));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    (path, Peregrine::spawn(&refs))
}

#[test]
fn sigterm_prints_the_summary_and_alerts_arrive_as_json() {
    if !peregrine_testkit::live_ready("live main job") {
        return;
    }
    let dir = tmpdir("summary");
    let target = dir.join("zq-sum-marker.txt");
    std::fs::write(&target, "x").unwrap();
    let (_, agent) = agent_on(
        &dir,
        &marker_rule("cat_marker", "zq-sum-marker"),
        &["json_output=true"],
    );
    let t0 = Instant::now();
    cat(&target);
    assert!(
        agent
            .wait_line(Duration::from_secs(5), |l| l.contains("zq-sum-marker.txt"))
            .is_some(),
        "no alert"
    );
    let latency = t0.elapsed();
    let (code, out, err) = agent.stop();
    assert_eq!(code, Some(0), "stderr: {err}");
    let alert: serde_json::Value = out
        .iter()
        .find(|l| l.contains("zq-sum-marker"))
        .and_then(|l| serde_json::from_str(l).ok())
        .expect("a JSON alert line");
    assert_eq!(alert["rule"], "cat_marker");
    assert_eq!(alert["priority"], "Warning");
    assert_eq!(alert["source"], "syscall");
    assert_eq!(alert["output_fields"]["proc.name"], "cat");
    assert!(
        alert["output_fields"]["fd.name"]
            .as_str()
            .unwrap()
            .ends_with("zq-sum-marker.txt"),
        "{alert}"
    );
    assert!(out.iter().any(|l| l == "Events detected: 1"), "{out:?}");
    assert!(out.iter().any(|l| l.trim() == "cat_marker: 1"), "{out:?}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("Events seen by the probe")),
        "{err:?}"
    );
    assert!(latency < Duration::from_secs(1), "alert after {latency:?}");
}

#[test]
fn a_broken_rules_file_on_reload_keeps_the_old_rules_running() {
    if !peregrine_testkit::live_ready("live reload") {
        return;
    }
    let dir = tmpdir("reload");
    let a = dir.join("zq-reload-a.txt");
    let b = dir.join("zq-reload-b.txt");
    std::fs::write(&a, "x").unwrap();
    std::fs::write(&b, "x").unwrap();
    let (rules, agent) = agent_on(&dir, &marker_rule("old_rule", "zq-reload-a"), &[]);
    cat(&a);
    assert!(agent
        .wait_line(Duration::from_secs(5), |l| l.contains("old_rule saw"))
        .is_some());

    // Broken: a condition that does not parse.
    std::fs::write(
        &rules,
        "- rule: new_rule\n  desc: d\n  condition: evt.type = open and (\n  output: o\n  priority: WARNING\n",
    )
    .unwrap();
    agent.signal(libc::SIGHUP);
    assert!(
        agent
            .wait_stderr(Duration::from_secs(10), |l| l.contains("reload failed"))
            .is_some(),
        "no reload failure reported"
    );
    let count = |needle: &str| agent.lines().iter().filter(|l| l.contains(needle)).count();
    let before = count("old_rule saw");
    cat(&a);
    let end = Instant::now() + Duration::from_secs(5);
    while count("old_rule saw") == before && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        count("old_rule saw"),
        before + 1,
        "old rule stopped after a broken reload"
    );

    // Valid: the new rule replaces the old one.
    std::fs::write(&rules, marker_rule("new_rule", "zq-reload-b")).unwrap();
    agent.signal(libc::SIGHUP);
    assert!(agent
        .wait_stderr(Duration::from_secs(10), |l| l.contains("rules reloaded"))
        .is_some());
    cat(&b);
    assert!(agent
        .wait_line(Duration::from_secs(5), |l| l.contains("new_rule saw"))
        .is_some());
    let n_old = count("old_rule saw");
    cat(&a);
    std::thread::sleep(Duration::from_millis(500));
    let (code, out, err) = agent.stop();
    assert_eq!(code, Some(0));
    assert_eq!(
        out.iter().filter(|l| l.contains("old_rule saw")).count(),
        n_old,
        "old rule still active after a good reload: {out:#?} {err:#?}"
    );
}

#[test]
fn rules_file_changes_are_picked_up_with_watch_config_files() {
    if !peregrine_testkit::live_ready("live watch") {
        return;
    }
    let dir = tmpdir("watch");
    let rules = dir.join("rules.yaml");
    std::fs::write(&rules, marker_rule("first", "zq-watch-1")).unwrap();
    let f = dir.join("zq-watch-2.txt");
    std::fs::write(&f, "x").unwrap();
    let args = [
        "-r",
        rules.to_str().unwrap(),
        "-o",
        "webserver.enabled=false",
        "-o",
        "watch_config_files=true",
    ];
    let agent = Peregrine::spawn(&args);
    std::fs::write(&rules, marker_rule("second", "zq-watch-2")).unwrap();
    assert!(
        agent
            .wait_stderr(Duration::from_secs(10), |l| l.contains("rules reloaded"))
            .is_some(),
        "the change was not noticed"
    );
    cat(&f);
    assert!(agent
        .wait_line(Duration::from_secs(5), |l| l.contains("second saw"))
        .is_some());
    agent.stop();
}

#[test]
fn a_live_capture_replays_with_the_same_alerts() {
    if !peregrine_testkit::live_ready("live capture") {
        return;
    }
    let dir = tmpdir("capture");
    let scap = dir.join("live.scap");
    let (rules, agent) = agent_on(&dir, &marker_rule("cap_rule", "zq-cap"), &[]);
    let mut capture = Command::new(BIN)
        .args(["capture", "-w", scap.to_str().unwrap(), "-M", "6"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    for i in 0..3 {
        let f = dir.join(format!("zq-cap-{i}.txt"));
        std::fs::write(&f, "x").unwrap();
        cat(&f);
    }
    let status = capture.wait().unwrap();
    assert!(status.success());
    assert!(agent
        .wait_line(Duration::from_secs(5), |l| l.contains("zq-cap-2.txt"))
        .is_some());
    let (_, live_out, _) = agent.stop();
    let live: Vec<&String> = live_out
        .iter()
        .filter(|l| l.contains("cap_rule saw"))
        .collect();
    assert_eq!(live.len(), 3, "{live_out:?}");

    let replay = Command::new(BIN)
        .args(["-r", rules.to_str().unwrap(), "-e", scap.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(replay.status.success());
    let replay_out = String::from_utf8_lossy(&replay.stdout);
    let replayed: Vec<&str> = replay_out
        .lines()
        .filter(|l| l.contains("cap_rule saw"))
        .collect();
    // Same events, same text. The two probes stamp each event on their
    // own (some hundred ns apart), so the time prefix is left out.
    let text = |l: &str| {
        l.split_once(": ")
            .map(|(_, t)| t.to_string())
            .unwrap_or_default()
    };
    assert_eq!(
        replayed.iter().map(|l| text(l)).collect::<Vec<_>>(),
        live.iter().map(|l| text(l)).collect::<Vec<_>>(),
        "live and replayed alerts differ"
    );
    if peregrine_testkit::tool_available("sysdig") {
        let sd = Command::new("sysdig")
            .args([
                "-r",
                scap.to_str().unwrap(),
                "fd.name contains zq-cap and proc.name=cat",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&sd.stdout);
        assert_eq!(
            text.lines()
                .filter(|l| l.contains(" < openat ") && l.contains("zq-cap-"))
                .count(),
            3,
            "sysdig reads the capture: {text}"
        );
    }
}

#[test]
fn a_capture_rule_records_the_live_events_after_it_fires() {
    if !peregrine_testkit::live_ready("rule-triggered capture") {
        return;
    }
    let dir = tmpdir("rule-capture");
    let prefix = format!("capture.path_prefix={}", dir.join("falco").display());
    let (rules, agent) = agent_on(
        &dir,
        "- rule: capture_marker\n  desc: test\n  condition: evt.type in (open, openat, openat2) and proc.name = cat and fd.name contains zq-rc\n  output: \"opened %fd.name (ts=%evt.rawtime num=%evt.num)\"\n  priority: WARNING\n  capture: true\n  capture_duration: 1500\n",
        &["json_output=true", "capture.enabled=true", &prefix],
    );
    // Two opens within the capture's 1.5 s: both land in one file.
    for i in 0..2 {
        let f = dir.join(format!("zq-rc-{i}.txt"));
        std::fs::write(&f, "x").unwrap();
        cat(&f);
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(agent
        .wait_line(Duration::from_secs(5), |l| l.contains("zq-rc-1.txt"))
        .is_some());
    // Past the deadline, something must still arrive to end the capture.
    std::thread::sleep(Duration::from_millis(1600));
    cat(&dir.join("zq-none"));
    let (code, out, err) = agent.stop();
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("Capture is enabled in mode 'rules'"), "{err}");
    let first: serde_json::Value = out
        .iter()
        .find(|l| l.contains("zq-rc-0.txt"))
        .and_then(|l| serde_json::from_str(l).ok())
        .expect("first alert");
    let (ts, num) = (
        first["output_fields"]["evt.rawtime"].as_u64().unwrap(),
        first["output_fields"]["evt.num"].as_u64().unwrap(),
    );
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "scap"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap();
    assert_eq!(name, format!("falco_{ts:020}_{num:020}.scap"));

    // Replayed on its own, the file has both opens, with the process named
    // from the tables it opens with.
    let replay = Command::new(BIN)
        .args([
            "-r",
            rules.to_str().unwrap(),
            "-e",
            files[0].to_str().unwrap(),
            "-o",
            "json_output=true",
        ])
        .output()
        .unwrap();
    assert!(replay.status.success());
    let replayed: Vec<serde_json::Value> = String::from_utf8_lossy(&replay.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(replayed.len(), 2, "{replayed:?}");
    assert_eq!(replayed[0]["output_fields"]["evt.rawtime"], ts);
    assert!(replayed[1]["output_fields"]["fd.name"]
        .as_str()
        .unwrap()
        .ends_with("zq-rc-1.txt"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigusr1_reopens_the_alert_file_after_rotation() {
    if !peregrine_testkit::live_ready("SIGUSR1 reopen") {
        return;
    }
    let dir = tmpdir("reopen");
    let log = dir.join("events.txt");
    let file = format!("file_output.filename={}", log.display());
    let (_, agent) = agent_on(
        &dir,
        &marker_rule("rotate_marker", "zq-rot"),
        &[
            "file_output.enabled=true",
            "file_output.keep_alive=true",
            &file,
        ],
    );
    let target = |i: usize| {
        let f = dir.join(format!("zq-rot-{i}.txt"));
        std::fs::write(&f, "x").unwrap();
        cat(&f);
        agent
            .wait_line(Duration::from_secs(5), |l| {
                l.contains(&format!("zq-rot-{i}.txt"))
            })
            .expect("alert on stdout");
    };
    target(0);
    let rotated = dir.join("events.txt.1");
    // The file output gets the alert in the same instant as stdout.
    std::thread::sleep(Duration::from_millis(300));
    std::fs::rename(&log, &rotated).unwrap();
    agent.signal(libc::SIGUSR1);
    assert!(
        agent
            .wait_stderr(Duration::from_secs(5), |l| l
                .contains("SIGUSR1 received, reopening outputs..."))
            .is_some(),
        "{:?}",
        agent.stderr_lines()
    );
    target(1);
    std::thread::sleep(Duration::from_millis(300));
    let (code, _, err) = agent.stop();
    assert_eq!(code, Some(0), "SIGUSR1 must not end the agent: {err}");
    let old = std::fs::read_to_string(&rotated).unwrap();
    let new = std::fs::read_to_string(&log).unwrap();
    assert!(
        old.contains("zq-rot-0.txt") && !old.contains("zq-rot-1.txt"),
        "{old}"
    );
    assert!(
        new.contains("zq-rot-1.txt") && !new.contains("zq-rot-0.txt"),
        "{new}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn metrics_snapshots_arrive_as_internal_alerts_and_in_the_metrics_file() {
    if !peregrine_testkit::live_ready("metrics snapshots") {
        return;
    }
    let dir = tmpdir("metrics");
    let file = dir.join("metrics.json");
    let file_opt = format!("metrics.output_file={}", file.display());
    let (_, agent) = agent_on(
        &dir,
        &marker_rule("metrics_marker", "zq-met"),
        &[
            "json_output=true",
            "metrics.enabled=true",
            "metrics.interval=1s",
            "metrics.output_rule=true",
            &file_opt,
            "metrics.resource_utilization_enabled=false",
        ],
    );
    let snapshot = agent
        .wait_line(Duration::from_secs(10), |l| {
            l.contains("Falco internal: metrics snapshot")
        })
        .expect("a snapshot alert");
    let (code, _, err) = agent.stop();
    assert_eq!(code, Some(0), "{err}");
    let a: serde_json::Value = serde_json::from_str(&snapshot).unwrap();
    assert_eq!(a["priority"], "Informational");
    assert_eq!(a["output"], "Falco metrics snapshot");
    let f = &a["output_fields"];
    assert!(f["scap.n_evts"].as_u64().is_some_and(|n| n > 0), "{f}");
    assert!(f["falco.version"].is_string(), "{f}");
    assert!(
        f.get("falco.memory_rss_mb").is_none(),
        "resources disabled: {f}"
    );
    let lines = std::fs::read_to_string(&file).unwrap();
    let first: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert_eq!(first["sample"], 1);
    assert!(first["output_fields"]["scap.n_evts"].is_u64(), "{first}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn drop_failed_exit_drops_failed_syscalls_in_the_kernel() {
    if !peregrine_testkit::live_ready("drop_failed_exit") {
        return;
    }
    let dir = tmpdir("drop-failed");
    let ok = dir.join("zq-dfe-ok.txt");
    std::fs::write(&ok, "x").unwrap();
    let missing = dir.join("zq-dfe-missing.txt");
    // Without the option the failed open alerts too; with it, only the
    // successful one reaches the rules.
    for (drop, want_missing) in [("false", true), ("true", false)] {
        let (_, agent) = agent_on(
            &dir,
            &marker_rule("dfe_marker", "zq-dfe"),
            &[&format!("engine.modern_ebpf.drop_failed_exit={drop}")],
        );
        cat(&missing);
        cat(&ok);
        assert!(
            agent
                .wait_line(Duration::from_secs(5), |l| l.contains("zq-dfe-ok.txt"))
                .is_some(),
            "no alert for the successful open"
        );
        let (code, out, err) = agent.stop();
        assert_eq!(code, Some(0), "{err}");
        let saw_missing = out.iter().any(|l| l.contains("zq-dfe-missing.txt"));
        assert_eq!(
            saw_missing, want_missing,
            "drop_failed_exit={drop}: {out:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
