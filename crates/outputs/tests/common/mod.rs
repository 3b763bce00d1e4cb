//! Real receivers for the output tests: an HTTP/1.1 server (plain or TLS,
//! optional client-certificate check) recording every request, and helpers
//! to capture what the outputs write.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Behaviour of the receiver, changeable while it runs.
pub struct Control {
    pub delay: Mutex<Duration>,
    pub status: AtomicU64,
    /// While closed, requests wait (the receiver "hangs").
    gate_open: Mutex<bool>,
    gate: Condvar,
    pub waiting: AtomicU64,
}

impl Control {
    pub fn close_gate(&self) {
        *self.gate_open.lock().unwrap() = false;
    }
    pub fn open_gate(&self) {
        *self.gate_open.lock().unwrap() = true;
        self.gate.notify_all();
    }
    fn wait_gate(&self) {
        let mut open = self.gate_open.lock().unwrap();
        if !*open {
            self.waiting.fetch_add(1, Ordering::SeqCst);
        }
        while !*open {
            open = self.gate.wait(open).unwrap();
        }
    }
}

pub struct HttpReceiver {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<Request>>>,
    pub control: Arc<Control>,
    stop: Arc<AtomicBool>,
}

fn read_request<S: Read>(r: &mut BufReader<S>) -> Option<Request> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let path = line.split_whitespace().nth(1)?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    let gz = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("content-encoding") && v == "gzip");
    if gz {
        let mut d = flate2::read::GzDecoder::new(&body[..]);
        let mut plain = Vec::new();
        d.read_to_end(&mut plain).ok()?;
        body = plain;
    }
    Some(Request {
        path,
        headers,
        body,
    })
}

fn serve<S: Read + Write>(stream: S, requests: Arc<Mutex<Vec<Request>>>, control: Arc<Control>) {
    let mut r = BufReader::new(stream);
    while let Some(req) = read_request(&mut r) {
        control.wait_gate();
        let delay = *control.delay.lock().unwrap();
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        let status = control.status.load(Ordering::SeqCst);
        if (200..300).contains(&status) {
            requests.lock().unwrap().push(req);
        }
        let resp = format!("HTTP/1.1 {status} X\r\nContent-Length: 2\r\n\r\nok");
        if r.get_mut().write_all(resp.as_bytes()).is_err() {
            return;
        }
        let _ = r.get_mut().flush();
    }
}

impl HttpReceiver {
    pub fn start(port: u16, tls: Option<Arc<rustls::ServerConfig>>) -> HttpReceiver {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind receiver");
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let control = Arc::new(Control {
            delay: Mutex::new(Duration::ZERO),
            status: AtomicU64::new(200),
            gate_open: Mutex::new(true),
            gate: Condvar::new(),
            waiting: AtomicU64::new(0),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let (rq, ctl, st) = (requests.clone(), control.clone(), stop.clone());
        std::thread::spawn(move || {
            while !st.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((s, _)) => {
                        s.set_nonblocking(false).unwrap();
                        let (rq, ctl, tls) = (rq.clone(), ctl.clone(), tls.clone());
                        std::thread::spawn(move || match tls {
                            None => serve(s, rq, ctl),
                            Some(cfg) => {
                                let Ok(conn) = rustls::ServerConnection::new(cfg) else {
                                    return;
                                };
                                serve(rustls::StreamOwned::new(conn, s), rq, ctl)
                            }
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        HttpReceiver {
            port,
            requests,
            control,
            stop,
        }
    }

    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}/", self.port)
    }

    pub fn bodies(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|r| String::from_utf8(r.body.clone()).unwrap())
            .collect()
    }

    /// Stops accepting (existing connections finish their request).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.control.open_gate();
    }
}

impl Drop for HttpReceiver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A `Write` whose bytes the test can read back (the stdout stand-in).
#[derive(Clone, Default)]
pub struct Capture(pub Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("peregrine-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Polls `f` until true or ~10 s (then false).
pub fn wait_until(mut f: impl FnMut() -> bool) -> bool {
    for _ in 0..1000 {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn _unused(_: TcpStream) {}
