//! The web server with real clients: /healthz, /versions, /metrics checked
//! by promtool (Prometheus' own text-format parser and linter), HTTPS with a
//! generated certificate; metrics snapshots as internal alerts.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use peregrine_metrics::{names, Registry};

use super::snapshot::{output_fields, SnapshotOptions, SnapshotTargets, Snapshotter};
use super::*;

fn cfg(port: u16) -> WebserverConfig {
    WebserverConfig {
        enabled: true,
        threadiness: 2,
        listen_port: port,
        listen_address: "127.0.0.1".into(),
        k8s_healthz_endpoint: "/healthz".into(),
        prometheus_metrics_enabled: true,
        ssl_enabled: false,
        ssl_certificate: String::new(),
    }
}

fn get(addr: SocketAddr, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    (head.to_string(), body.to_string())
}

/// A registry as the running agent fills it.
fn populated() -> Arc<Registry> {
    let reg = Arc::new(Registry::new());
    peregrine_metrics::process::register(&reg, "0.1.0");
    reg.gauge(
        names::SHA256_RULES_FILES_INFO,
        &[("file_name", "falco_rules.yaml"), ("sha256", "ab12")],
    )
    .set(1.0);
    reg.counter(
        names::RULES_MATCHES,
        &[
            ("priority", "4"),
            ("rule_name", "Read sensitive \"file\" untrusted"),
            ("source", "syscall"),
            ("tag_T1555", "true"),
            ("tag_maturity_stable", "true"),
        ],
    )
    .add(32);
    reg.counter(names::EVENTS, &[("source", "syscall"), ("type", "openat")])
        .add(1000);
    reg.counter(names::SCAP_N_EVTS, &[]).add(1500);
    reg.counter(names::SCAP_N_DROPS, &[]).add(3);
    reg.counter(names::OUTPUTS_QUEUE_NUM_DROPS, &[]).add(0);
    reg.gauge(names::OUTPUT_QUEUE_DEPTH, &[("output", "http")])
        .set(7.0);
    reg.counter(names::OUTPUT_DROPS, &[("output", "http")])
        .add(2);
    reg
}

#[test]
fn healthz_versions_and_metrics_parsed_by_promtool() {
    let reg = populated();
    let server = WebServer::start(
        &cfg(0),
        Endpoints {
            healthz_path: "/healthz".into(),
            versions_json: versions_json("0.1.0", "0.57.0"),
            metrics: Some(reg.clone()),
        },
    )
    .unwrap();
    let addr = server.local_addr();
    let (head, body) = get(addr, "/healthz");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("Content-Type: application/json"));
    assert_eq!(body, "{\"status\": \"ok\"}");

    let (_, body) = get(addr, "/versions");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["engine_version_semver"], "0.57.0");
    assert_eq!(v["engine_version"], "57");

    let (head, metrics) = get(addr, "/metrics");
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4"),
        "{head}"
    );
    assert!(metrics.contains("falcosecurity_falco_rules_matches_total{priority=\"4\",rule_name=\"Read sensitive \\\"file\\\" untrusted\",source=\"syscall\",tag_T1555=\"true\",tag_maturity_stable=\"true\"} 32\n"), "{metrics}");
    assert!(metrics.contains("falcosecurity_falco_version_info{version=\"0.1.0\"} 1\n"));
    assert!(metrics.contains("peregrine_events_total{source=\"syscall\",type=\"openat\"} 1000\n"));
    assert!(metrics.contains("peregrine_output_queue_depth{output=\"http\"} 7\n"));
    let rss_line = metrics
        .lines()
        .find(|l| l.starts_with("falcosecurity_falco_memory_rss_bytes "))
        .unwrap();
    let rss: f64 = rss_line.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(rss > 1e6, "{rss_line}");

    if peregrine_testkit::tool_available("promtool") {
        let mut child = Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(metrics.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let report = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        // 0 = clean, 3 = lint remarks only; 1 = not parseable.
        let code = out.status.code().unwrap_or(1);
        assert!(code == 0 || code == 3, "promtool: {report}");
        // The only remarks allowed are about names Falco chose (mirrored on
        // purpose so dashboards keep working).
        for line in report.lines().filter(|l| !l.trim().is_empty()) {
            assert!(line.starts_with("falcosecurity_"), "promtool: {line}");
        }
    }
    let (head, _) = get(addr, "/nope");
    assert!(head.starts_with("HTTP/1.1 404"));
    server.stop();
}

#[test]
fn metrics_endpoint_absent_unless_enabled_and_port_in_use_is_an_error() {
    let server = WebServer::start(
        &cfg(0),
        Endpoints {
            healthz_path: "/health".into(),
            versions_json: "{}".into(),
            metrics: None,
        },
    )
    .unwrap();
    let addr = server.local_addr();
    assert!(get(addr, "/metrics").0.starts_with("HTTP/1.1 404"));
    assert!(get(addr, "/health").0.starts_with("HTTP/1.1 200"));
    let err = WebServer::start(
        &cfg(addr.port()),
        Endpoints {
            healthz_path: "/healthz".into(),
            versions_json: "{}".into(),
            metrics: None,
        },
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("cannot listen"), "{err}");
}

#[test]
fn https_with_a_generated_certificate() {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let dir = std::env::temp_dir().join(format!("peregrine-web-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pem = dir.join("server.pem");
    std::fs::write(&pem, cert.pem() + &key.serialize_pem()).unwrap();
    let mut c = cfg(0);
    c.ssl_enabled = true;
    c.ssl_certificate = pem.to_string_lossy().into();
    let server = WebServer::start(
        &c,
        Endpoints {
            healthz_path: "/healthz".into(),
            versions_json: "{}".into(),
            metrics: None,
        },
    )
    .unwrap();
    let root = ureq::tls::Certificate::from_der(cert.der()).to_owned();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::new_with_certs(&[root]))
                .build(),
        )
        .build()
        .into();
    let url = format!("https://127.0.0.1:{}/healthz", server.local_addr().port());
    let body = agent
        .get(&url)
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert_eq!(body, "{\"status\": \"ok\"}");
    // A bad certificate file is a startup error.
    c.ssl_certificate = dir.join("missing.pem").to_string_lossy().into();
    assert!(WebServer::start(
        &c,
        Endpoints {
            healthz_path: "/healthz".into(),
            versions_json: "{}".into(),
            metrics: None
        }
    )
    .is_err());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn snapshot_fields_use_falcos_names() {
    let reg = populated();
    let fields = output_fields(&reg.samples(), 5, &SnapshotOptions::default());
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    use peregrine_alert::FieldValue as F;
    assert_eq!(get("evt.time"), Some(F::U64(5)));
    assert_eq!(get("falco.version"), Some(F::Str("0.1.0".into())));
    assert_eq!(
        get("falco.rules.read_sensitive_file_untrusted"),
        Some(F::U64(32))
    );
    assert_eq!(get("falco.rules.matches_total"), Some(F::U64(32)));
    assert_eq!(
        get("falco.sha256_rules_file.falco_rules_yaml"),
        Some(F::Str("ab12".into()))
    );
    assert_eq!(get("scap.n_evts"), Some(F::U64(1500)));
    assert_eq!(get("peregrine.output_drops.http"), Some(F::U64(2)));
    assert!(matches!(get("falco.memory_rss_mb"), Some(F::F64(mb)) if mb > 1.0));
    assert!(
        get("falco.outputs_queue_num_drops").is_none(),
        "zero values left out"
    );

    // Each family can be left out; the base (version, files) stays.
    let only_base = SnapshotOptions {
        rules: false,
        resources: false,
        state: false,
        kernel: false,
        ..SnapshotOptions::default()
    };
    let fields = output_fields(&reg.samples(), 5, &only_base);
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("falco.version"), Some(F::Str("0.1.0".into())));
    for gone in [
        "falco.rules.read_sensitive_file_untrusted",
        "falco.rules.matches_total",
        "scap.n_evts",
        "falco.memory_rss_mb",
    ] {
        assert_eq!(get(gone), None, "{gone}");
    }
    let with_empty = SnapshotOptions {
        include_empty: true,
        memory_in_mb: false,
        ..SnapshotOptions::default()
    };
    let fields = output_fields(&reg.samples(), 5, &with_empty);
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("falco.outputs_queue_num_drops"), Some(F::U64(0)));
    assert!(matches!(get("falco.memory_rss_bytes"), Some(F::U64(b)) if b > 1 << 20));
}

#[test]
fn snapshots_become_internal_alerts_on_the_outputs() {
    let dir = std::env::temp_dir().join(format!("peregrine-snap-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let alerts = dir.join("alerts.json");
    let reg = populated();
    let mut oc = peregrine_outputs::OutputsConfig {
        format: peregrine_alert::AlertFormat::json(),
        ..Default::default()
    };
    oc.stdout.enabled = false;
    oc.syslog.enabled = false;
    oc.file.enabled = true;
    oc.file.filename = alerts.to_string_lossy().into();
    let outputs = Arc::new(
        peregrine_outputs::Outputs::start(
            &oc,
            peregrine_outputs::OutputsEnv {
                registry: reg.clone(),
                log: Arc::new(|_, _| {}),
                stdout: None,
            },
        )
        .unwrap(),
    );
    let snap = Snapshotter::start(
        reg,
        SnapshotTargets {
            outputs: Some(outputs.clone()),
            output_file: Some(dir.join("metrics.json")),
        },
        Duration::from_millis(100),
        Arc::from("host-a"),
        SnapshotOptions::default(),
    );
    let ok = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        std::fs::read_to_string(&alerts).is_ok_and(|s| s.lines().count() >= 2)
    });
    drop(snap);
    assert!(ok, "no snapshot alerts");
    let text = std::fs::read_to_string(&alerts).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "hostname",
            "output",
            "output_fields",
            "priority",
            "rule",
            "source",
            "time"
        ]
    );
    assert_eq!(first["rule"], "Falco internal: metrics snapshot");
    assert_eq!(first["source"], "internal");
    assert_eq!(first["priority"], "Informational");
    assert_eq!(first["hostname"], "host-a");
    assert_eq!(
        first["output_fields"]["falco.rules.read_sensitive_file_untrusted"],
        32
    );
    let m = std::fs::read_to_string(dir.join("metrics.json")).unwrap();
    let line: serde_json::Value = serde_json::from_str(m.lines().next().unwrap()).unwrap();
    assert_eq!(line["sample"], 1);
    assert_eq!(line["output_fields"]["scap.n_evts"], 1500);
    let _ = std::fs::remove_dir_all(dir);
}
