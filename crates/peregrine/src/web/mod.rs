//! The embedded web server (falco.yaml `webserver`): the health endpoint
//! (`k8s_healthz_endpoint`, `{"status": "ok"}`), `/versions` and, with
//! `prometheus_metrics_enabled` and `metrics.enabled`, `/metrics` in the
//! Prometheus text exposition format. Plain HTTP/1.1 or TLS
//! (`ssl_enabled`, `ssl_certificate` holding the chain and the key, as
//! Falco's). A fixed pool of `threadiness` threads serves connections; each
//! request is answered and the connection closed. It is written here
//! rather than taken from tiny_http because tiny_http's TLS needs an older
//! rustls than the HTTP output's, and GET on three paths needs little:
//! request heads are capped at 8 KiB and sockets time out after 5 s.

pub mod snapshot;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use peregrine_metrics::Registry;

use crate::config::WebserverConfig;

/// What the endpoints serve.
#[derive(Clone)]
pub struct Endpoints {
    pub healthz_path: String,
    /// The `/versions` document (see [`versions_json`]).
    pub versions_json: String,
    /// Served on `/metrics` when set.
    pub metrics: Option<Arc<Registry>>,
}

/// Falco's `/versions` document; nlohmann sorts keys, so do we.
pub fn versions_json(peregrine_version: &str, engine_version_semver: &str) -> String {
    let minor = engine_version_semver.split('.').nth(1).unwrap_or("0");
    serde_json::json!({
        "default_driver_version": "",
        "driver_api_version": "",
        "driver_schema_version": "",
        "engine_version": minor,
        "engine_version_semver": engine_version_semver,
        "falco_version": peregrine_version,
        "libs_version": "",
        "peregrine_version": peregrine_version,
        "plugin_api_version": "",
        "plugin_versions": {"container": "builtin"},
    })
    .to_string()
}

pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4";

pub struct WebServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

#[derive(Debug)]
pub enum WebError {
    Tls(String),
    Bind(String),
}

impl std::fmt::Display for WebError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WebError::Tls(m) | WebError::Bind(m) => write!(f, "webserver: {m}"),
        }
    }
}

impl std::error::Error for WebError {}

fn tls_config(path: &str) -> Result<Arc<rustls::ServerConfig>, WebError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| WebError::Tls(format!("cannot read ssl_certificate {path}: {e}")))?
        .collect::<Result<_, _>>()
        .map_err(|e| WebError::Tls(format!("bad certificate in {path}: {e}")))?;
    if certs.is_empty() {
        return Err(WebError::Tls(format!("no certificate in {path}")));
    }
    let key = PrivateKeyDer::from_pem_file(path)
        .map_err(|e| WebError::Tls(format!("no private key in {path}: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| WebError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| WebError::Tls(format!("{path}: {e}")))?;
    Ok(Arc::new(cfg))
}

impl WebServer {
    /// Binds and starts serving; a port in use or a bad certificate is an
    /// error here (at startup), as in Falco.
    pub fn start(cfg: &WebserverConfig, endpoints: Endpoints) -> Result<WebServer, WebError> {
        let tls = if cfg.ssl_enabled {
            Some(tls_config(&cfg.ssl_certificate)?)
        } else {
            None
        };
        let listener =
            TcpListener::bind((cfg.listen_address.as_str(), cfg.listen_port)).map_err(|e| {
                WebError::Bind(format!(
                    "cannot listen on {}:{}: {e}",
                    cfg.listen_address, cfg.listen_port
                ))
            })?;
        let addr = listener
            .local_addr()
            .map_err(|e| WebError::Bind(e.to_string()))?;
        let stop = Arc::new(AtomicBool::new(false));
        let workers = cfg.threadiness.max(1);
        let (tx, rx): (SyncSender<TcpStream>, Receiver<TcpStream>) = sync_channel(workers * 4);
        let rx = Arc::new(Mutex::new(rx));
        let endpoints = Arc::new(endpoints);
        let mut threads = Vec::new();
        for i in 0..workers {
            let (rx, ep, tls) = (rx.clone(), endpoints.clone(), tls.clone());
            if let Ok(h) =
                std::thread::Builder::new()
                    .name(format!("web-{i}"))
                    .spawn(move || loop {
                        let next = rx.lock().map(|r| r.recv());
                        match next {
                            Ok(Ok(stream)) => serve_connection(stream, &ep, tls.as_ref()),
                            _ => return,
                        }
                    })
            {
                threads.push(h);
            }
        }
        let s = stop.clone();
        if let Ok(h) = std::thread::Builder::new()
            .name("web-accept".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if s.load(Ordering::SeqCst) {
                        return;
                    }
                    if let Ok(stream) = conn {
                        // A full pool sheds the connection instead of queueing forever.
                        let _ = tx.try_send(stream);
                    }
                }
            })
        {
            threads.push(h);
        }
        Ok(WebServer {
            addr,
            stop,
            threads,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let mut wake = self.addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let _ = TcpStream::connect_timeout(&wake, Duration::from_millis(200));
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            self.shutdown();
        }
    }
}

fn serve_connection(stream: TcpStream, ep: &Endpoints, tls: Option<&Arc<rustls::ServerConfig>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    match tls {
        None => handle(stream, ep),
        Some(cfg) => {
            if let Ok(conn) = rustls::ServerConnection::new(cfg.clone()) {
                let mut s = rustls::StreamOwned::new(conn, stream);
                handle(&mut s, ep);
                s.conn.send_close_notify();
                let _ = s.flush();
            }
        }
    }
}

/// Reads one request head (at most 8 KiB) and answers it.
fn handle<S: Read + Write>(stream: S, ep: &Endpoints) {
    let mut r = BufReader::new(stream.take_limit());
    let mut line = String::new();
    if r.read_line(&mut line).is_err() {
        return;
    }
    // Skip the headers.
    loop {
        let mut h = String::new();
        match r.read_line(&mut h) {
            Ok(0) | Err(_) => break,
            Ok(_) if h == "\r\n" || h == "\n" => break,
            Ok(_) => {}
        }
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let (status, ctype, body): (&str, &str, String) = if method != "GET" && method != "HEAD" {
        (
            "405 Method Not Allowed",
            "text/plain",
            "method not allowed\n".into(),
        )
    } else if path == ep.healthz_path {
        ("200 OK", "application/json", "{\"status\": \"ok\"}".into())
    } else if path == "/versions" {
        ("200 OK", "application/json", ep.versions_json.clone())
    } else if let (Some(reg), "/metrics") = (&ep.metrics, path) {
        ("200 OK", PROMETHEUS_CONTENT_TYPE, reg.render_prometheus())
    } else {
        ("404 Not Found", "text/plain", "not found\n".into())
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut out = r.into_inner().into_inner();
    let _ = out.write_all(head.as_bytes());
    if method != "HEAD" {
        let _ = out.write_all(body.as_bytes());
    }
    let _ = out.flush();
}

/// A reader that stops after 8 KiB but still writes through.
struct Limited<S> {
    inner: S,
    left: usize,
}

trait TakeLimit: Sized {
    fn take_limit(self) -> Limited<Self>;
}

impl<S: Read + Write> TakeLimit for S {
    fn take_limit(self) -> Limited<S> {
        Limited {
            inner: self,
            left: 8192,
        }
    }
}

impl<S: Read> Read for Limited<S> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let n = buf.len().min(self.left);
        let got = self.inner.read(&mut buf[..n])?;
        self.left -= got;
        Ok(got)
    }
}

impl<S> Limited<S> {
    fn into_inner(self) -> S {
        self.inner
    }
}

#[cfg(test)]
mod tests;
