//! HTTPS against a real TLS receiver with a CA generated in the test:
//! server verification through `ca_cert`/`ca_bundle`/`ca_path`, mutual TLS,
//! `insecure`, and gzip uploads.

mod common;

use std::sync::Arc;

use common::*;
use peregrine_alert::synthetic::AlertGenerator;
use peregrine_alert::AlertFormat;
use peregrine_metrics::Registry;
use peregrine_outputs::{Outputs, OutputsConfig, OutputsEnv};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

struct Pki {
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    server: (CertificateDer<'static>, Vec<u8>),
    client_pem: String,
    client_key_pem: String,
}

fn pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let client = CertificateParams::new(vec!["client".to_string()])
        .unwrap()
        .signed_by(&client_key, &issuer)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        ca_der: ca.der().clone(),
        server: (server.der().clone(), server_key.serialize_der()),
        client_pem: client.pem(),
        client_key_pem: client_key.serialize_pem(),
    }
}

fn server_config(pki: &Pki, require_client_cert: bool) -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = if require_client_cert {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(pki.ca_der.clone()).unwrap();
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.server.1.clone()));
    Arc::new(
        builder
            .with_single_cert(vec![pki.server.0.clone()], key)
            .unwrap(),
    )
}

fn run(cfg: &OutputsConfig, n: usize) -> (peregrine_outputs::ShutdownReport, Vec<String>) {
    let outputs = Outputs::start(
        cfg,
        OutputsEnv {
            registry: Arc::new(Registry::new()),
            log: Arc::new(|_, _| {}),
            stdout: None,
        },
    )
    .unwrap();
    let alerts: Vec<_> = AlertGenerator::new(11).take(n).collect();
    for a in &alerts {
        outputs.enqueue(a.clone());
    }
    let lines = alerts
        .iter()
        .map(|a| AlertFormat::json().format(a))
        .collect();
    (outputs.shutdown(), lines)
}

fn base(url: String) -> OutputsConfig {
    let mut cfg = OutputsConfig {
        format: AlertFormat::json(),
        ..OutputsConfig::default()
    };
    cfg.stdout.enabled = false;
    cfg.syslog.enabled = false;
    cfg.http.enabled = true;
    cfg.http.url = url;
    cfg.http.retry_backoff_initial_ms = 20;
    cfg.http.retry_backoff_max_ms = 50;
    cfg.output_timeout_ms = 5_000;
    cfg
}

#[test]
fn mutual_tls_with_a_test_ca() {
    let pki = pki();
    let dir = temp_dir("https-mtls");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let (cert, key) = (dir.join("client.crt"), dir.join("client.key"));
    std::fs::write(&cert, &pki.client_pem).unwrap();
    std::fs::write(&key, &pki.client_key_pem).unwrap();
    let rx = HttpReceiver::start(0, Some(server_config(&pki, true)));

    let mut cfg = base(rx.url("https"));
    cfg.http.ca_cert = ca.to_string_lossy().into();
    cfg.http.mtls = true;
    cfg.http.client_cert = cert.to_string_lossy().into();
    cfg.http.client_key = key.to_string_lossy().into();
    let (report, lines) = run(&cfg, 50);
    assert_eq!(report.outputs[0].delivered, 50, "{report:?}");
    assert_eq!(rx.bodies(), lines);

    // The same CA as a directory (ca_path), as a bundle: also trusted.
    let cadir = dir.join("cadir");
    std::fs::create_dir_all(&cadir).unwrap();
    std::fs::write(cadir.join("test-ca.pem"), &pki.ca_pem).unwrap();
    cfg.http.ca_cert.clear();
    cfg.http.ca_path = cadir.to_string_lossy().into();
    assert_eq!(run(&cfg, 3).0.outputs[0].delivered, 3);
    cfg.http.ca_bundle = ca.to_string_lossy().into();
    assert_eq!(run(&cfg, 3).0.outputs[0].delivered, 3);

    // Without the client certificate the server refuses the handshake:
    // nothing is delivered, everything retried until the deadline.
    cfg.http.mtls = false;
    cfg.output_timeout_ms = 300;
    let (report, _) = run(&cfg, 5);
    let o = &report.outputs[0];
    assert_eq!((o.delivered, o.failed), (0, 5), "{o:?}");
    assert!(o.retries > 0 && o.errors > 0);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn untrusted_server_fails_unless_insecure() {
    let pki = pki();
    let rx = HttpReceiver::start(0, Some(server_config(&pki, false)));
    let mut cfg = base(rx.url("https"));
    cfg.output_timeout_ms = 300;
    // Default trust (ca_path /etc/ssl/certs or Mozilla's roots): rejected.
    let (report, _) = run(&cfg, 2);
    assert_eq!(report.outputs[0].delivered, 0);
    cfg.http.insecure = true;
    cfg.output_timeout_ms = 5_000;
    let (report, lines) = run(&cfg, 20);
    assert_eq!(report.outputs[0].delivered, 20);
    assert_eq!(rx.bodies(), lines);
}

#[test]
fn gzip_uploads_decode_to_the_same_json() {
    let rx = HttpReceiver::start(0, None);
    let mut cfg = base(rx.url("http"));
    cfg.http.compress_uploads = true;
    let (report, lines) = run(&cfg, 30);
    assert_eq!(report.outputs[0].delivered, 30);
    assert_eq!(rx.bodies(), lines);
    let req = rx.requests.lock().unwrap()[0].clone();
    assert_eq!(req.header("content-encoding"), Some("gzip"));
}
