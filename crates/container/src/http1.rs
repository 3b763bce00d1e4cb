//! A minimal blocking HTTP/1.1 client over a unix socket, enough for the
//! Docker Engine API: one request per connection with a total deadline, and
//! a streaming reader for the chunked `/events` endpoint.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::LookupError;

/// The largest response accepted (inspect output is a few KiB).
const MAX_RESPONSE: usize = 16 << 20;

pub struct Response {
    pub status: u16,
    /// The `Server` header (Podman answers `Libpod/…`).
    pub server: String,
    pub body: Vec<u8>,
}

fn connect(socket: &Path, deadline: Instant) -> Result<UnixStream, LookupError> {
    let stream = UnixStream::connect(socket).map_err(|e| LookupError::connect(socket, e))?;
    set_timeouts(&stream, deadline)?;
    Ok(stream)
}

fn set_timeouts(stream: &UnixStream, deadline: Instant) -> Result<(), LookupError> {
    let left = deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
        .ok_or(LookupError::Timeout)?;
    stream
        .set_read_timeout(Some(left))
        .map_err(LookupError::Io)?;
    stream
        .set_write_timeout(Some(left))
        .map_err(LookupError::Io)?;
    Ok(())
}

fn map_io(e: io::Error) -> LookupError {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => LookupError::Timeout,
        _ => LookupError::Io(e),
    }
}

/// `GET path` and the whole response, within `timeout`.
pub fn get(socket: &Path, path: &str, timeout: Duration) -> Result<Response, LookupError> {
    let deadline = Instant::now() + timeout;
    let mut stream = connect(socket, deadline)?;
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: peregrine\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(req.as_bytes()).map_err(map_io)?;
    let mut raw = Vec::with_capacity(8192);
    let mut buf = [0u8; 16384];
    loop {
        set_timeouts(&stream, deadline)?;
        let n = stream.read(&mut buf).map_err(map_io)?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        if raw.len() > MAX_RESPONSE {
            return Err(LookupError::Protocol("response too large".into()));
        }
        // Stop early once a complete response is in (a server may keep the
        // connection open despite `Connection: close`).
        if let Some(resp) = try_complete(&raw)? {
            return Ok(resp);
        }
    }
    try_complete(&raw)?.ok_or_else(|| LookupError::Protocol("truncated HTTP response".into()))
}

struct Head {
    status: u16,
    server: String,
    chunked: bool,
    content_length: Option<usize>,
    body_start: usize,
}

fn parse_head(raw: &[u8]) -> Result<Option<Head>, LookupError> {
    let Some(end) = memchr::memmem::find(raw, b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = std::str::from_utf8(&raw[..end])
        .map_err(|_| LookupError::Protocol("non-UTF-8 HTTP header".into()))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| LookupError::Protocol(format!("bad HTTP status line {status_line:?}")))?;
    let mut h = Head {
        status,
        server: String::new(),
        chunked: false,
        content_length: None,
        body_start: end + 4,
    };
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            h.chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("content-length") {
            h.content_length = value.parse().ok();
        } else if name.eq_ignore_ascii_case("server") {
            h.server = value.to_string();
        }
    }
    Ok(Some(h))
}

/// The response if `raw` holds all of it.
fn try_complete(raw: &[u8]) -> Result<Option<Response>, LookupError> {
    let Some(head) = parse_head(raw)? else {
        return Ok(None);
    };
    let rest = &raw[head.body_start..];
    let body = if head.chunked {
        let mut dec = ChunkedDecoder::default();
        let mut body = Vec::new();
        dec.feed(rest, &mut body)?;
        if !dec.done {
            return Ok(None);
        }
        body
    } else if let Some(len) = head.content_length {
        if rest.len() < len {
            return Ok(None);
        }
        rest[..len].to_vec()
    } else {
        // Body runs to EOF; the caller decides when that is.
        return Ok(None);
    };
    Ok(Some(Response {
        status: head.status,
        server: head.server,
        body,
    }))
}

/// Incremental decoder of `Transfer-Encoding: chunked`.
#[derive(Default)]
pub struct ChunkedDecoder {
    state: ChunkState,
    line: Vec<u8>,
    pub done: bool,
}

#[derive(Default, Clone, Copy)]
enum ChunkState {
    #[default]
    Size,
    Data(usize),
    /// The CRLF after a chunk's data.
    DataEnd,
}

impl ChunkedDecoder {
    /// Feeds raw bytes; appends decoded body bytes to `out`.
    pub fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), LookupError> {
        while !input.is_empty() && !self.done {
            match self.state {
                ChunkState::Size => {
                    let Some(pos) = memchr::memchr(b'\n', input) else {
                        self.line.extend_from_slice(input);
                        if self.line.len() > 1024 {
                            return Err(LookupError::Protocol("chunk size line too long".into()));
                        }
                        return Ok(());
                    };
                    self.line.extend_from_slice(&input[..pos]);
                    input = &input[pos + 1..];
                    let line = std::str::from_utf8(&self.line).unwrap_or("");
                    let size_hex = line.split(';').next().unwrap_or("").trim();
                    let size = usize::from_str_radix(size_hex, 16).map_err(|_| {
                        LookupError::Protocol(format!("bad chunk size {size_hex:?}"))
                    })?;
                    self.line.clear();
                    if size == 0 {
                        self.done = true;
                    } else {
                        self.state = ChunkState::Data(size);
                    }
                }
                ChunkState::Data(n) => {
                    let take = n.min(input.len());
                    out.extend_from_slice(&input[..take]);
                    input = &input[take..];
                    self.state = if n == take {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(n - take)
                    };
                }
                ChunkState::DataEnd => {
                    match input[0] {
                        b'\r' => {}
                        b'\n' => self.state = ChunkState::Size,
                        _ => return Err(LookupError::Protocol("bad chunk terminator".into())),
                    }
                    input = &input[1..];
                }
            }
        }
        Ok(())
    }
}

/// A long-lived streaming GET (the events endpoint). Reads return at least
/// every `poll` so the caller can check for shutdown.
pub struct Stream {
    stream: UnixStream,
    decoder: ChunkedDecoder,
    chunked: bool,
    body: Vec<u8>,
}

impl Stream {
    pub fn open(
        socket: &Path,
        path: &str,
        timeout: Duration,
        poll: Duration,
    ) -> Result<Stream, LookupError> {
        let deadline = Instant::now() + timeout;
        let mut stream = connect(socket, deadline)?;
        let req = format!("GET {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: peregrine\r\n\r\n");
        stream.write_all(req.as_bytes()).map_err(map_io)?;
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        let head = loop {
            set_timeouts(&stream, deadline)?;
            let n = stream.read(&mut buf).map_err(map_io)?;
            if n == 0 {
                return Err(LookupError::Protocol("events stream closed".into()));
            }
            raw.extend_from_slice(&buf[..n]);
            if let Some(h) = parse_head(&raw)? {
                break h;
            }
            if raw.len() > 65536 {
                return Err(LookupError::Protocol("HTTP header too large".into()));
            }
        };
        if head.status != 200 {
            return Err(LookupError::Http(head.status));
        }
        stream
            .set_read_timeout(Some(poll))
            .map_err(LookupError::Io)?;
        let mut s = Stream {
            stream,
            decoder: ChunkedDecoder::default(),
            chunked: head.chunked,
            body: Vec::new(),
        };
        let rest = raw[head.body_start..].to_vec();
        s.push(&rest)?;
        Ok(s)
    }

    fn push(&mut self, bytes: &[u8]) -> Result<(), LookupError> {
        if self.chunked {
            self.decoder.feed(bytes, &mut self.body)
        } else {
            self.body.extend_from_slice(bytes);
            Ok(())
        }
    }

    /// The next complete line of the body, `Ok(None)` when nothing arrived
    /// within the poll interval. An error ends the stream.
    pub fn next_line(&mut self) -> Result<Option<Vec<u8>>, LookupError> {
        loop {
            if let Some(pos) = memchr::memchr(b'\n', &self.body) {
                let line: Vec<u8> = self.body.drain(..=pos).collect();
                return Ok(Some(line));
            }
            if self.decoder.done {
                return Err(LookupError::Protocol("events stream ended".into()));
            }
            let mut buf = [0u8; 8192];
            match self.stream.read(&mut buf) {
                Ok(0) => return Err(LookupError::Protocol("events stream closed".into())),
                Ok(n) => self.push(&buf[..n])?,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None)
                }
                Err(e) => return Err(LookupError::Io(e)),
            }
            if self.body.len() > MAX_RESPONSE {
                return Err(LookupError::Protocol("event line too long".into()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_decoding_across_any_split() {
        let raw = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n";
        for split in 0..raw.len() {
            let mut dec = ChunkedDecoder::default();
            let mut out = Vec::new();
            dec.feed(&raw[..split], &mut out).unwrap();
            dec.feed(&raw[split..], &mut out).unwrap();
            assert_eq!(out, b"hello, world", "split at {split}");
            assert!(dec.done);
        }
        // Byte by byte.
        let mut dec = ChunkedDecoder::default();
        let mut out = Vec::new();
        for b in raw.iter() {
            dec.feed(std::slice::from_ref(b), &mut out).unwrap();
        }
        assert_eq!(out, b"hello, world");
    }

    #[test]
    fn chunked_errors_are_values() {
        let mut dec = ChunkedDecoder::default();
        assert!(dec.feed(b"zz\r\n", &mut Vec::new()).is_err());
        let mut dec = ChunkedDecoder::default();
        assert!(dec.feed(b"2\r\nabXY", &mut Vec::new()).is_err());
    }

    #[test]
    fn complete_responses() {
        let r = try_complete(b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nServer: Libpod/4.3.1 (linux)\r\n\r\n{}")
            .unwrap()
            .unwrap();
        assert_eq!(
            (r.status, r.server.as_str(), &r.body[..]),
            (404, "Libpod/4.3.1 (linux)", &b"{}"[..])
        );
        assert!(
            try_complete(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab")
                .unwrap()
                .is_none()
        );
        let r = try_complete(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(r.body, b"ok");
        assert!(try_complete(b"garbage\r\n\r\n").is_err());
    }
}
