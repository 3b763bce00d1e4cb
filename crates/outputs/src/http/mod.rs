//! `http_output`: each alert POSTed on its own (falcosidekick reads one
//! Falco JSON alert per request at `/`), over a pooled keep-alive
//! connection, with TLS (custom CA file, bundle or directory; client
//! certificate for mTLS; `insecure`), optional gzip (`compress_uploads`:
//! `Content-Encoding: gzip`; falcosidekick does not decode it, so leave it
//! off there), a per-request timeout and custom headers.
//!
//! Delivery: 2xx is delivered; 4xx other than 408/429 is a permanent
//! rejection (counted failed, not retried); anything else (refused, reset,
//! timeout, 5xx, 408, 429) is retried with exponential backoff until it is
//! delivered or the shutdown deadline passes. The alert keeps its place in
//! the queue while retried, so order is kept and nothing is lost up to the
//! queue's capacity. (Falco gives up after `max_consecutive_timeouts`
//! timeouts and drops the alert; Peregrine accepts that key and keeps
//! retrying instead.)

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use flate2::write::GzEncoder;
use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};
use ureq::Agent;

use crate::delivery::{Ctx, Envelope, Sink};
use crate::OutputsError;

/// `http_output` in falco.yaml, plus Peregrine's `headers`, `timeout_ms`
/// and retry backoff bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    pub enabled: bool,
    pub url: String,
    pub user_agent: String,
    pub insecure: bool,
    pub ca_cert: String,
    pub ca_bundle: String,
    pub ca_path: String,
    pub mtls: bool,
    pub client_cert: String,
    pub client_key: String,
    pub echo: bool,
    pub compress_uploads: bool,
    pub keep_alive: bool,
    pub max_consecutive_timeouts: u32,
    pub headers: Vec<(String, String)>,
    pub timeout_ms: u64,
    pub retry_backoff_initial_ms: u64,
    pub retry_backoff_max_ms: u64,
}

impl Default for HttpConfig {
    fn default() -> HttpConfig {
        HttpConfig {
            enabled: false,
            url: String::new(),
            user_agent: "falcosecurity/falco".into(),
            insecure: false,
            ca_cert: String::new(),
            ca_bundle: String::new(),
            ca_path: "/etc/ssl/certs".into(),
            mtls: false,
            client_cert: "/etc/ssl/certs/client.crt".into(),
            client_key: "/etc/ssl/certs/client.key".into(),
            echo: false,
            compress_uploads: false,
            keep_alive: false,
            max_consecutive_timeouts: 5,
            headers: Vec::new(),
            timeout_ms: 10_000,
            retry_backoff_initial_ms: 100,
            retry_backoff_max_ms: 5_000,
        }
    }
}

fn read_pem(path: &str, what: &str) -> Result<Vec<PemItem<'static>>, OutputsError> {
    let bytes = std::fs::read(path)
        .map_err(|e| OutputsError::Open(format!("http output: cannot read {what} {path}: {e}")))?;
    ureq::tls::parse_pem(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| OutputsError::Open(format!("http output: bad PEM in {what} {path}: {e}")))
}

fn certs_of(items: Vec<PemItem<'static>>) -> Vec<Certificate<'static>> {
    items
        .into_iter()
        .filter_map(|i| match i {
            PemItem::Certificate(c) => Some(c),
            _ => None,
        })
        .collect()
}

fn root_certs(cfg: &HttpConfig) -> Result<RootCerts, OutputsError> {
    for (path, what) in [(&cfg.ca_cert, "ca_cert"), (&cfg.ca_bundle, "ca_bundle")] {
        if !path.is_empty() {
            let certs = certs_of(read_pem(path, what)?);
            if certs.is_empty() {
                return Err(OutputsError::Open(format!(
                    "http output: no certificate in {what} {path}"
                )));
            }
            return Ok(RootCerts::new_with_certs(&certs));
        }
    }
    // ca_path: every PEM file of the directory (like CURLOPT_CAPATH);
    // Mozilla's roots when it has none.
    let mut certs = Vec::new();
    if let Ok(dir) = std::fs::read_dir(&cfg.ca_path) {
        for entry in dir.flatten() {
            if let Ok(bytes) = std::fs::read(entry.path()) {
                certs.extend(ureq::tls::parse_pem(&bytes).filter_map(|i| match i {
                    Ok(PemItem::Certificate(c)) => Some(c),
                    _ => None,
                }));
            }
        }
    }
    Ok(if certs.is_empty() {
        RootCerts::WebPki
    } else {
        RootCerts::new_with_certs(&certs)
    })
}

fn client_cert(cfg: &HttpConfig) -> Result<Option<ClientCert>, OutputsError> {
    if !cfg.mtls {
        return Ok(None);
    }
    let certs = certs_of(read_pem(&cfg.client_cert, "client_cert")?);
    let key = read_pem(&cfg.client_key, "client_key")?
        .into_iter()
        .find_map(|i| match i {
            PemItem::PrivateKey(k) => Some(k),
            _ => None,
        })
        .ok_or_else(|| {
            OutputsError::Open(format!(
                "http output: no private key in client_key {}",
                cfg.client_key
            ))
        })?;
    if certs.is_empty() {
        return Err(OutputsError::Open(format!(
            "http output: no certificate in client_cert {}",
            cfg.client_cert
        )));
    }
    Ok(Some(ClientCert::new_with_certs(&certs, key as PrivateKey)))
}

/// Falco strips one level of quotes around the URL.
fn unquote(url: &str) -> &str {
    let b = url.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        &url[1..url.len() - 1]
    } else {
        url
    }
}

pub(crate) struct HttpSink {
    agent: Agent,
    url: String,
    cfg: HttpConfig,
    content_type: &'static str,
    body: Vec<u8>,
}

enum Outcome {
    Delivered,
    Rejected(String),
    Retry(String),
}

impl HttpSink {
    pub fn start(cfg: &HttpConfig, json_output: bool) -> Result<HttpSink, OutputsError> {
        let url = unquote(&cfg.url).to_string();
        if url.is_empty() {
            return Err(OutputsError::Config(
                "http output enabled but no url in configuration block".into(),
            ));
        }
        let parsed: ureq::http::Uri = url
            .parse()
            .map_err(|e| OutputsError::Config(format!("http_output.url '{url}': {e}")))?;
        if !matches!(parsed.scheme_str(), Some("http") | Some("https")) {
            return Err(OutputsError::Config(format!(
                "http_output.url '{url}': scheme must be http or https"
            )));
        }
        let tls = TlsConfig::builder()
            .root_certs(root_certs(cfg)?)
            .client_cert(client_cert(cfg)?)
            .disable_verification(cfg.insecure)
            .build();
        let agent: Agent = Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_millis(cfg.timeout_ms.max(1))))
            .user_agent(cfg.user_agent.as_str())
            .build()
            .into();
        Ok(HttpSink {
            agent,
            url,
            cfg: cfg.clone(),
            content_type: if json_output {
                "application/json"
            } else {
                "text/plain"
            },
            body: Vec::with_capacity(4096),
        })
    }

    fn post(&mut self, line: &str) -> Outcome {
        self.body.clear();
        if self.cfg.compress_uploads {
            let mut gz =
                GzEncoder::new(std::mem::take(&mut self.body), flate2::Compression::fast());
            let _ = gz.write_all(line.as_bytes());
            match gz.finish() {
                Ok(b) => self.body = b,
                Err(e) => return Outcome::Rejected(format!("gzip: {e}")),
            }
        } else {
            self.body.extend_from_slice(line.as_bytes());
        }
        let mut req = self
            .agent
            .post(&self.url)
            .header("Content-Type", self.content_type);
        if self.cfg.compress_uploads {
            req = req.header("Content-Encoding", "gzip");
        }
        for (k, v) in &self.cfg.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        match req.send(&self.body[..]) {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                // Read the body so the connection can be reused.
                let body = resp
                    .body_mut()
                    .with_config()
                    .limit(1 << 20)
                    .read_to_vec()
                    .unwrap_or_default();
                if self.cfg.echo {
                    let mut out = std::io::stdout().lock();
                    let _ = out.write_all(&body);
                }
                match status {
                    200..=299 => Outcome::Delivered,
                    408 | 429 | 500..=599 => Outcome::Retry(format!("HTTP {status}")),
                    _ => Outcome::Rejected(format!("HTTP {status}")),
                }
            }
            Err(e) => Outcome::Retry(e.to_string()),
        }
    }
}

impl Sink for HttpSink {
    fn deliver(&mut self, batch: &[Arc<Envelope>], ctx: &Ctx) {
        let initial = Duration::from_millis(self.cfg.retry_backoff_initial_ms.max(1));
        let max = Duration::from_millis(self.cfg.retry_backoff_max_ms.max(1));
        for env in batch {
            let mut backoff = initial;
            loop {
                if ctx.shared.past_deadline() {
                    ctx.stats.failed.inc();
                    break;
                }
                match self.post(env.line(ctx.format)) {
                    Outcome::Delivered => {
                        ctx.stats.record_delivered(env);
                        break;
                    }
                    Outcome::Rejected(why) => {
                        ctx.stats.failed.inc();
                        ctx.error(&format!("{} rejected the alert: {why}", self.url));
                        break;
                    }
                    Outcome::Retry(why) => {
                        ctx.stats.retries.inc();
                        ctx.error(&format!(
                            "POST {} failed: {why}; retrying in {} ms",
                            self.url,
                            backoff.as_millis()
                        ));
                        ctx.shared.sleep(backoff);
                        backoff = (backoff * 2).min(max);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn url_quotes_are_stripped() {
        assert_eq!(super::unquote("\"http://x/\""), "http://x/");
        assert_eq!(super::unquote("'http://x/'"), "http://x/");
        assert_eq!(super::unquote("http://x/"), "http://x/");
    }
}
