//! A minimal blocking HTTP/2 client for unary gRPC calls over a unix socket.
//!
//! Why hand-rolled: CRI lookups are a few unary calls per new container, made
//! from worker threads that already block with timeouts. tonic/prost would
//! bring an async runtime and dozens of crates to a 2-core build for that.
//! This implements what a unary call needs: the preface, SETTINGS/PING
//! acknowledgements, HPACK headers (via the `hpack` crate), DATA with a
//! large receive window, trailers with `grpc-status`.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Instant;

use crate::error::LookupError;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const FRAME_DATA: u8 = 0;
const FRAME_HEADERS: u8 = 1;
const FRAME_RST_STREAM: u8 = 3;
const FRAME_SETTINGS: u8 = 4;
const FRAME_PING: u8 = 6;
const FRAME_GOAWAY: u8 = 7;
const FRAME_WINDOW_UPDATE: u8 = 8;
const FRAME_CONTINUATION: u8 = 9;
const FLAG_END_STREAM: u8 = 0x1;
const FLAG_ACK: u8 = 0x1;
const FLAG_END_HEADERS: u8 = 0x4;
const FLAG_PADDED: u8 = 0x8;
const FLAG_PRIORITY: u8 = 0x20;
/// Receive window granted up front, so the server never waits on us.
const WINDOW: u32 = 1 << 24;
/// Refuse frames larger than the protocol maximum we could be sent.
const MAX_FRAME: usize = 1 << 24;
const MAX_MESSAGE: usize = 16 << 20;

pub struct GrpcConn {
    stream: UnixStream,
    next_stream: u32,
    encoder: hpack::Encoder<'static>,
    decoder: hpack::Decoder<'static>,
}

fn map_io(e: io::Error) -> LookupError {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => LookupError::Timeout,
        _ => LookupError::Io(e),
    }
}

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = Vec::with_capacity(9 + payload.len());
    f.extend_from_slice(&len.to_be_bytes()[1..]);
    f.push(kind);
    f.push(flags);
    f.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
    f.extend_from_slice(payload);
    f
}

impl GrpcConn {
    pub fn connect(socket: &Path, deadline: Instant) -> Result<GrpcConn, LookupError> {
        let stream = UnixStream::connect(socket).map_err(|e| LookupError::connect(socket, e))?;
        let mut conn = GrpcConn {
            stream,
            next_stream: 1,
            encoder: hpack::Encoder::new(),
            decoder: hpack::Decoder::new(),
        };
        conn.set_deadline(deadline)?;
        let mut out = PREFACE.to_vec();
        // SETTINGS: ENABLE_PUSH = 0, INITIAL_WINDOW_SIZE = WINDOW.
        let mut settings = Vec::new();
        settings.extend_from_slice(&2u16.to_be_bytes());
        settings.extend_from_slice(&0u32.to_be_bytes());
        settings.extend_from_slice(&4u16.to_be_bytes());
        settings.extend_from_slice(&WINDOW.to_be_bytes());
        out.extend(frame(FRAME_SETTINGS, 0, 0, &settings));
        out.extend(frame(
            FRAME_WINDOW_UPDATE,
            0,
            0,
            &(WINDOW - 65_535).to_be_bytes(),
        ));
        conn.stream.write_all(&out).map_err(map_io)?;
        Ok(conn)
    }

    fn set_deadline(&self, deadline: Instant) -> Result<(), LookupError> {
        let left = deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or(LookupError::Timeout)?;
        self.stream
            .set_read_timeout(Some(left))
            .map_err(LookupError::Io)?;
        self.stream
            .set_write_timeout(Some(left))
            .map_err(LookupError::Io)?;
        Ok(())
    }

    fn read_exact(&mut self, buf: &mut [u8], deadline: Instant) -> Result<(), LookupError> {
        let mut done = 0;
        while done < buf.len() {
            self.set_deadline(deadline)?;
            match self.stream.read(&mut buf[done..]) {
                Ok(0) => return Err(LookupError::Protocol("connection closed by runtime".into())),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(map_io(e)),
            }
        }
        Ok(())
    }

    /// One unary call: `path` is `/package.Service/Method`; returns the
    /// response message bytes.
    pub fn call(
        &mut self,
        path: &str,
        request: &[u8],
        deadline: Instant,
    ) -> Result<Vec<u8>, LookupError> {
        let sid = self.next_stream;
        self.next_stream += 2;
        let headers: [(&[u8], &[u8]); 6] = [
            (b":method", b"POST"),
            (b":scheme", b"http"),
            (b":path", path.as_bytes()),
            (b":authority", b"localhost"),
            (b"content-type", b"application/grpc"),
            (b"te", b"trailers"),
        ];
        let block = self.encoder.encode(headers.iter().copied());
        let mut body = Vec::with_capacity(5 + request.len());
        body.push(0);
        body.extend_from_slice(&(request.len() as u32).to_be_bytes());
        body.extend_from_slice(request);
        let mut out = frame(FRAME_HEADERS, FLAG_END_HEADERS, sid, &block);
        // Requests are small; split DATA at the default max frame size anyway.
        let chunks: Vec<&[u8]> = body.chunks(16_384).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            let flags = if i + 1 == chunks.len() {
                FLAG_END_STREAM
            } else {
                0
            };
            out.extend(frame(FRAME_DATA, flags, sid, chunk));
        }
        self.set_deadline(deadline)?;
        self.stream.write_all(&out).map_err(map_io)?;
        self.read_response(sid, deadline)
    }

    fn read_response(&mut self, sid: u32, deadline: Instant) -> Result<Vec<u8>, LookupError> {
        let mut data = Vec::new();
        let mut http_status: Option<u16> = None;
        let mut grpc_status: Option<u32> = None;
        let mut grpc_message = String::new();
        let mut header_block: Vec<u8> = Vec::new();
        let mut header_stream = 0u32;
        let mut header_ends_stream = false;
        loop {
            let mut head = [0u8; 9];
            self.read_exact(&mut head, deadline)?;
            let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
            let (kind, flags) = (head[3], head[4]);
            let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
            if len > MAX_FRAME {
                return Err(LookupError::Protocol(format!(
                    "HTTP/2 frame of {len} bytes"
                )));
            }
            let mut payload = vec![0u8; len];
            self.read_exact(&mut payload, deadline)?;
            let mut ended = false;
            match kind {
                FRAME_SETTINGS if flags & FLAG_ACK == 0 => {
                    self.stream
                        .write_all(&frame(FRAME_SETTINGS, FLAG_ACK, 0, &[]))
                        .map_err(map_io)?;
                }
                FRAME_PING if flags & FLAG_ACK == 0 => {
                    self.stream
                        .write_all(&frame(FRAME_PING, FLAG_ACK, 0, &payload))
                        .map_err(map_io)?;
                }
                FRAME_GOAWAY => {
                    let last = payload
                        .get(..4)
                        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) & 0x7fff_ffff)
                        .unwrap_or(0);
                    if last < sid {
                        return Err(LookupError::Protocol(
                            "runtime closed the HTTP/2 connection".into(),
                        ));
                    }
                }
                FRAME_RST_STREAM if stream == sid => {
                    return Err(LookupError::Protocol(
                        "runtime reset the gRPC stream".into(),
                    ));
                }
                FRAME_DATA => {
                    let body = strip_padding(&payload, flags)?;
                    if stream == sid {
                        data.extend_from_slice(body);
                        if data.len() > MAX_MESSAGE + 5 {
                            return Err(LookupError::Protocol("gRPC response too large".into()));
                        }
                        ended = flags & FLAG_END_STREAM != 0;
                    }
                    if !payload.is_empty() {
                        // Give the bytes back to the connection window.
                        let inc = (payload.len() as u32).to_be_bytes();
                        self.stream
                            .write_all(&frame(FRAME_WINDOW_UPDATE, 0, 0, &inc))
                            .map_err(map_io)?;
                    }
                }
                FRAME_HEADERS | FRAME_CONTINUATION => {
                    if kind == FRAME_HEADERS {
                        let mut block = strip_padding(&payload, flags)?;
                        if flags & FLAG_PRIORITY != 0 {
                            block = block.get(5..).ok_or_else(|| {
                                LookupError::Protocol("short HEADERS frame".into())
                            })?;
                        }
                        header_block.clear();
                        header_block.extend_from_slice(block);
                        header_stream = stream;
                        header_ends_stream = flags & FLAG_END_STREAM != 0;
                    } else {
                        header_block.extend_from_slice(&payload);
                    }
                    if flags & FLAG_END_HEADERS != 0 {
                        // Every block must pass through the decoder to keep
                        // its dynamic table in step with the server's.
                        let decoded = self
                            .decoder
                            .decode(&header_block)
                            .map_err(|e| LookupError::Protocol(format!("HPACK: {e:?}")))?;
                        if header_stream == sid {
                            for (name, value) in decoded {
                                let value = String::from_utf8_lossy(&value);
                                match &name[..] {
                                    b":status" => http_status = value.parse().ok(),
                                    b"grpc-status" => grpc_status = value.parse().ok(),
                                    b"grpc-message" => grpc_message = value.into_owned(),
                                    _ => {}
                                }
                            }
                            ended = header_ends_stream;
                        }
                    }
                }
                _ => {}
            }
            if ended {
                break;
            }
        }
        if let Some(code) = http_status.filter(|&c| c != 200) {
            return Err(LookupError::Http(code));
        }
        match grpc_status {
            Some(0) => {}
            Some(code) => {
                return Err(LookupError::Grpc {
                    code,
                    message: grpc_message,
                })
            }
            None => return Err(LookupError::Protocol("gRPC response without status".into())),
        }
        let (Some(&compressed), Some(len)) = (data.first(), data.get(1..5)) else {
            return Err(LookupError::Protocol(
                "gRPC response without a message".into(),
            ));
        };
        if compressed != 0 {
            return Err(LookupError::Protocol("compressed gRPC message".into()));
        }
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        data.get(5..5 + len)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| LookupError::Protocol("truncated gRPC message".into()))
    }
}

fn strip_padding(payload: &[u8], flags: u8) -> Result<&[u8], LookupError> {
    if flags & FLAG_PADDED == 0 {
        return Ok(payload);
    }
    let pad = *payload
        .first()
        .ok_or_else(|| LookupError::Protocol("padded frame without pad length".into()))?
        as usize;
    payload
        .get(1..payload.len().saturating_sub(pad))
        .filter(|_| pad < payload.len())
        .ok_or_else(|| LookupError::Protocol("bad HTTP/2 padding".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_padding() {
        let f = frame(FRAME_PING, FLAG_ACK, 0, &[1; 8]);
        assert_eq!(&f[..9], &[0, 0, 8, FRAME_PING, FLAG_ACK, 0, 0, 0, 0]);
        assert_eq!(
            strip_padding(&[2, b'a', b'b', 0, 0], FLAG_PADDED).unwrap(),
            b"ab"
        );
        assert!(strip_padding(&[9, b'a'], FLAG_PADDED).is_err());
        assert!(strip_padding(&[], FLAG_PADDED).is_err());
        assert_eq!(strip_padding(b"xy", 0).unwrap(), b"xy");
    }
}
