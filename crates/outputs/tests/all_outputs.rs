//! Every output receives every alert of a stream, byte-identical to what
//! stdout writes; real receivers (HTTP server, unix datagram socket,
//! `sh -c 'cat >> FILE'`, a file).

mod common;

use std::os::unix::net::UnixDatagram;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use peregrine_alert::synthetic::AlertGenerator;
use peregrine_alert::AlertFormat;
use peregrine_metrics::Registry;
use peregrine_outputs::{Outputs, OutputsConfig, OutputsEnv, OutputsError};

const N: usize = 400;

fn env(capture: &Capture, reg: &Arc<Registry>) -> OutputsEnv {
    OutputsEnv {
        registry: reg.clone(),
        log: Arc::new(|_, _| {}),
        stdout: Some(Box::new(capture.clone())),
    }
}

#[test]
fn every_output_gets_every_alert_byte_identical_to_stdout() {
    let dir = temp_dir("all-outputs");
    let http = HttpReceiver::start(0, None);
    let sock_path = dir.join("log.sock");
    let syslog = UnixDatagram::bind(&sock_path).unwrap();
    syslog
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let program_file = dir.join("program.out");
    let file_path = dir.join("file.out");

    let mut cfg = OutputsConfig {
        format: AlertFormat::json(),
        ..OutputsConfig::default()
    };
    cfg.queue_capacity = N as u64 * 2;
    cfg.file.enabled = true;
    cfg.file.keep_alive = true;
    cfg.file.filename = file_path.to_string_lossy().into();
    cfg.syslog.socket_path = sock_path.to_string_lossy().into();
    cfg.syslog.facility = "local0".into();
    cfg.syslog.ident = "falco".into();
    cfg.program.enabled = true;
    cfg.program.keep_alive = true;
    cfg.program.program = format!("cat >> '{}'", program_file.display());
    cfg.http.enabled = true;
    cfg.http.url = http.url("http");
    cfg.http.headers = vec![("X-Test".into(), "yes".into())];

    let capture = Capture::default();
    let reg = Arc::new(Registry::new());
    let outputs = Outputs::start(&cfg, env(&capture, &reg)).unwrap();
    let alerts: Vec<_> = AlertGenerator::new(5).take(N).collect();
    for a in &alerts {
        let r = outputs.enqueue(a.clone());
        assert_eq!((r.accepted, r.dropped), (5, 0));
    }
    // Read the syslog datagrams while the outputs deliver.
    let mut datagrams = Vec::new();
    let mut buf = vec![0u8; 65536];
    for _ in 0..N {
        let n = syslog.recv(&mut buf).expect("syslog datagram");
        datagrams.push(String::from_utf8(buf[..n].to_vec()).unwrap());
    }
    let report = outputs.shutdown();
    assert!(report.drained);
    for o in &report.outputs {
        assert_eq!(
            (o.delivered, o.dropped, o.failed),
            (N as u64, 0, 0),
            "{o:?}"
        );
    }

    let stdout = capture.text();
    let expected: String = alerts
        .iter()
        .map(|a| AlertFormat::json().format(a) + "\n")
        .collect();
    assert_eq!(stdout, expected, "stdout is Falco's JSON, one per line");
    assert_eq!(std::fs::read_to_string(&file_path).unwrap(), stdout);
    assert_eq!(std::fs::read_to_string(&program_file).unwrap(), stdout);
    let bodies: String = http.bodies().iter().map(|b| b.clone() + "\n").collect();
    assert_eq!(bodies, stdout);
    let req = http.requests.lock().unwrap()[0].clone();
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.header("user-agent"), Some("falcosecurity/falco"));
    assert_eq!(req.header("x-test"), Some("yes"));
    assert_eq!(req.path, "/");

    // Syslog: <facility*8+severity>Mmm dd HH:MM:SS ident: line
    let mut from_syslog = String::new();
    for (d, a) in datagrams.iter().zip(&alerts) {
        let pri = 16 * 8 + a.priority.syslog_severity() as usize;
        let head = format!("<{pri}>");
        assert!(d.starts_with(&head), "{d}");
        let (_, line) = d.split_once(" falco: ").expect("ident");
        assert_eq!(d.len() - line.len(), head.len() + 16 + "falco: ".len());
        from_syslog.push_str(line);
        from_syslog.push('\n');
    }
    assert_eq!(from_syslog, stdout);
    let metrics = reg.render_prometheus();
    assert!(metrics.contains(&format!(
        "peregrine_output_delivered_total{{output=\"http\"}} {N}\n"
    )));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn text_format_and_program_without_keep_alive_runs_once_per_alert() {
    let dir = temp_dir("program-per-alert");
    let out = dir.join("runs");
    let mut cfg = OutputsConfig::default();
    cfg.stdout.enabled = false;
    cfg.syslog.enabled = false;
    cfg.program.enabled = true;
    // Each run appends its own marker line after the alert.
    cfg.program.program = format!("cat >> '{0}'; echo run >> '{0}'", out.display());
    let capture = Capture::default();
    let outputs = Outputs::start(&cfg, env(&capture, &Arc::new(Registry::new()))).unwrap();
    let alerts: Vec<_> = AlertGenerator::new(9).take(5).collect();
    for a in &alerts {
        outputs.enqueue(a.clone());
    }
    outputs.shutdown();
    let expected: String = alerts
        .iter()
        .map(|a| AlertFormat::default().format(a) + "\nrun\n")
        .collect();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn outputs_that_cannot_open_are_startup_errors() {
    let capture = Capture::default();
    let reg = Arc::new(Registry::new());
    let mut cfg = OutputsConfig::default();
    cfg.file.enabled = true;
    cfg.file.filename = "/nonexistent-dir/x/events.txt".into();
    let err = Outputs::start(&cfg, env(&capture, &reg)).err().unwrap();
    assert!(
        matches!(&err, OutputsError::Open(m) if m.contains("/nonexistent-dir/x/events.txt")),
        "{err}"
    );

    let mut cfg = OutputsConfig::default();
    cfg.http.enabled = true;
    let err = Outputs::start(&cfg, env(&capture, &reg)).err().unwrap();
    assert!(err.to_string().contains("no url"), "{err}");

    cfg.http.url = "ftp://x/".into();
    let err = Outputs::start(&cfg, env(&capture, &reg)).err().unwrap();
    assert!(err.to_string().contains("scheme"), "{err}");

    cfg.http.url = "https://127.0.0.1:1/".into();
    cfg.http.ca_cert = "/nonexistent/ca.pem".into();
    let err = Outputs::start(&cfg, env(&capture, &reg)).err().unwrap();
    assert!(err.to_string().contains("ca_cert"), "{err}");

    let mut cfg = OutputsConfig::default();
    cfg.stdout.enabled = false;
    cfg.syslog.enabled = false;
    assert_eq!(
        Outputs::start(&cfg, env(&capture, &reg)).err(),
        Some(OutputsError::NoOutputs)
    );

    let mut cfg = OutputsConfig::default();
    cfg.syslog.facility = "nope".into();
    let err = Outputs::start(&cfg, env(&capture, &reg)).err().unwrap();
    assert!(err.to_string().contains("facility"), "{err}");
}

#[test]
fn per_rule_rate_limit_suppresses_only_the_noisy_rule() {
    let capture = Capture::default();
    let reg = Arc::new(Registry::new());
    let mut cfg = OutputsConfig::default();
    cfg.syslog.enabled = false;
    cfg.rule_rate_limit.enabled = true;
    cfg.rule_rate_limit.rate = 1.0;
    cfg.rule_rate_limit.max_burst = 3.0;
    let outputs = Outputs::start(&cfg, env(&capture, &reg)).unwrap();
    let mut g = AlertGenerator::new(3);
    let mut limited = 0;
    for _ in 0..50 {
        if outputs.enqueue(g.alert_for_rule(0)).rate_limited {
            limited += 1;
        }
    }
    // Generated alerts are ~2.5 ms apart: 50 of them earn < 1 token.
    assert_eq!(limited, 47);
    for _ in 0..3 {
        assert!(!outputs.enqueue(g.alert_for_rule(1)).rate_limited);
    }
    let report = outputs.shutdown();
    assert_eq!(report.outputs[0].delivered, 6);
    assert!(reg.render_prometheus().contains(
        "peregrine_alerts_rate_limited_total{rule=\"Terminal shell in container\"} 47\n"
    ));
}

/// Waits until every output has delivered `n` alerts.
fn wait_delivered(outputs: &Outputs, n: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while outputs.stats().iter().any(|s| s.delivered < n) {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            outputs.stats()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn reopen_lets_kept_alive_files_and_programs_go_after_rotation() {
    let dir = temp_dir("reopen");
    let log = dir.join("events.txt");
    let piped = dir.join("piped.txt");
    let mut cfg = OutputsConfig::default();
    cfg.stdout.enabled = false;
    cfg.syslog.enabled = false;
    cfg.file.enabled = true;
    cfg.file.keep_alive = true;
    cfg.file.filename = log.display().to_string();
    cfg.program.enabled = true;
    cfg.program.keep_alive = true;
    // Each start of the program leaves a marker line.
    cfg.program.program = format!("echo started >> '{0}'; cat >> '{0}'", piped.display());
    let capture = Capture::default();
    let outputs = Outputs::start(&cfg, env(&capture, &Arc::new(Registry::new()))).unwrap();
    let alerts: Vec<_> = AlertGenerator::new(5).take(5).collect();
    let text = |a: &[peregrine_alert::Alert]| -> String {
        a.iter()
            .map(|a| AlertFormat::default().format(a) + "\n")
            .collect()
    };
    for a in &alerts[..3] {
        outputs.enqueue(a.clone());
    }
    wait_delivered(&outputs, 3);
    // Log rotation: the file is moved away, then Falco's SIGUSR1.
    let rotated = dir.join("events.txt.1");
    std::fs::rename(&log, &rotated).unwrap();
    outputs.reopen();
    for a in &alerts[3..] {
        outputs.enqueue(a.clone());
    }
    wait_delivered(&outputs, 5);
    outputs.shutdown();
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap();
    assert_eq!(read(&rotated), text(&alerts[..3]));
    assert_eq!(
        read(&log),
        text(&alerts[3..]),
        "the new file gets what follows"
    );
    assert_eq!(
        read(&piped),
        format!(
            "started\n{}started\n{}",
            text(&alerts[..3]),
            text(&alerts[3..])
        )
    );
    let _ = std::fs::remove_dir_all(dir);
}
