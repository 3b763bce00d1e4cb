//! The syslog output read by a real syslog daemon: rsyslogd (from apt, see
//! scripts/prereqs.d/30-outputs.sh) listening on its own unix socket,
//! writing facility, severity, tag and message to a file.

mod common;

use std::process::{Child, Command};
use std::sync::Arc;

use common::*;
use peregrine_alert::synthetic::AlertGenerator;
use peregrine_alert::{AlertFormat, Priority};
use peregrine_metrics::Registry;
use peregrine_outputs::{Outputs, OutputsConfig, OutputsEnv};

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn severity_name(p: Priority) -> &'static str {
    match p {
        Priority::Emergency => "emerg",
        Priority::Alert => "alert",
        Priority::Critical => "crit",
        Priority::Error => "err",
        Priority::Warning => "warning",
        Priority::Notice => "notice",
        Priority::Informational => "info",
        Priority::Debug => "debug",
    }
}

#[test]
fn rsyslogd_receives_every_alert_with_its_severity() {
    if !peregrine_testkit::tool_available("rsyslogd") {
        return;
    }
    let dir = temp_dir("rsyslog");
    let sock = dir.join("log.sock");
    let out = dir.join("messages");
    let conf = dir.join("rsyslog.conf");
    std::fs::write(
        &conf,
        format!(
            r#"global(workDirectory="{dir}" maxMessageSize="64k")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{sock}")
template(name="raw" type="string" string="%syslogfacility-text%.%syslogseverity-text% %programname%:%msg%\n")
*.* action(type="omfile" file="{out}" template="raw")
"#,
            dir = dir.display(),
            sock = sock.display(),
            out = out.display()
        ),
    )
    .unwrap();
    let _daemon = Daemon(
        Command::new("rsyslogd")
            .arg("-n")
            .arg("-f")
            .arg(&conf)
            .arg("-i")
            .arg(dir.join("pid"))
            .spawn()
            .expect("start rsyslogd"),
    );
    assert!(wait_until(|| sock.exists()), "rsyslogd made no socket");

    let mut cfg = OutputsConfig {
        format: AlertFormat::json(),
        ..OutputsConfig::default()
    };
    cfg.stdout.enabled = false;
    cfg.syslog.socket_path = sock.to_string_lossy().into();
    cfg.syslog.facility = "local3".into();
    cfg.syslog.ident = "falco".into();
    let outputs = Outputs::start(
        &cfg,
        OutputsEnv {
            registry: Arc::new(Registry::new()),
            log: Arc::new(|_, _| {}),
            stdout: None,
        },
    )
    .unwrap();
    let alerts: Vec<_> = AlertGenerator::new(17).take(100).collect();
    for a in &alerts {
        outputs.enqueue(a.clone());
    }
    assert_eq!(outputs.shutdown().outputs[0].delivered, 100);
    let expected: Vec<String> = alerts
        .iter()
        .map(|a| {
            format!(
                "local3.{} falco:{}",
                severity_name(a.priority),
                AlertFormat::json().format(a)
            )
        })
        .collect();
    assert!(
        wait_until(|| std::fs::read_to_string(&out)
            .map(|s| s.lines().count() >= 100)
            .unwrap_or(false)),
        "rsyslogd wrote fewer than 100 lines"
    );
    let got = std::fs::read_to_string(&out).unwrap();
    // rsyslog keeps the space after "falco:" in %msg%.
    let got: Vec<String> = got
        .lines()
        .map(|l| l.replacen("falco: ", "falco:", 1))
        .collect();
    assert_eq!(got, expected);
    let _ = std::fs::remove_dir_all(dir);
}
