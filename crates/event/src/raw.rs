//! Zero-copy view of one event in the scap event layout.
//!
//! Layout (little endian, packed):
//! ```text
//! u64 ts | u64 tid | u32 len | u16 type | u32 nparams | lens[nparams] | params...
//! ```
//! `lens` are `u16`, or `u32` for event types flagged "large payload" in the
//! event table. `len` covers the whole event including the header.

use std::fmt;

use crate::param::Param;
use crate::table::{self, Direction, EventInfo};

/// Size of the fixed event header.
pub const HEADER_LEN: usize = 26;

/// Why a byte buffer is not a well-formed event. Never panics, never allocates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventError {
    /// Fewer bytes than the header or than the length it declares.
    Truncated { need: usize, have: usize },
    /// The declared length is smaller than the header plus the length array.
    BadLength { len: u32 },
    /// Param lengths add up to more than the event length.
    ParamsOverflow { nparams: u32, len: u32 },
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            EventError::Truncated { need, have } => {
                write!(f, "event truncated: need {need} bytes, have {have}")
            }
            EventError::BadLength { len } => write!(f, "event length {len} is too small"),
            EventError::ParamsOverflow { nparams, len } => {
                write!(f, "{nparams} params do not fit in an event of {len} bytes")
            }
        }
    }
}

impl std::error::Error for EventError {}

#[inline]
fn rd_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
#[inline]
fn rd_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
#[inline]
fn rd_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// One event, borrowed from a buffer. Validated once by [`RawEvent::parse`];
/// accessors after that are bounds-safe by construction.
#[derive(Clone, Copy)]
pub struct RawEvent<'a> {
    bytes: &'a [u8],
    /// Width of each entry of the length array (2 or 4).
    len_width: u8,
}

impl<'a> RawEvent<'a> {
    /// Parses the event at the start of `buf`, taking the param-length width
    /// from the event table. Returns the event and the bytes after it.
    #[inline]
    pub fn parse(buf: &'a [u8]) -> Result<(RawEvent<'a>, &'a [u8]), EventError> {
        Self::parse_with(buf, table::is_large_payload)
    }

    /// Parses the event at the start of `buf`. `large_payload` tells whether the
    /// event type uses 32-bit param lengths (see the event table). Returns the
    /// event and the bytes after it.
    pub fn parse_with(
        buf: &'a [u8],
        large_payload: impl Fn(u16) -> bool,
    ) -> Result<(RawEvent<'a>, &'a [u8]), EventError> {
        if buf.len() < HEADER_LEN {
            return Err(EventError::Truncated {
                need: HEADER_LEN,
                have: buf.len(),
            });
        }
        let len = rd_u32(buf, 16);
        let ty = rd_u16(buf, 20);
        let nparams = rd_u32(buf, 22);
        let len_width: u8 = if large_payload(ty) { 4 } else { 2 };
        let lens_end = (nparams as u64) * len_width as u64 + HEADER_LEN as u64;
        if (len as u64) < lens_end {
            return Err(EventError::BadLength { len });
        }
        let len_us = len as usize;
        if buf.len() < len_us {
            return Err(EventError::Truncated {
                need: len_us,
                have: buf.len(),
            });
        }
        let bytes = &buf[..len_us];
        let ev = RawEvent { bytes, len_width };
        // lens_end <= len <= buf.len(), so the slice is in bounds.
        let lens = &bytes[HEADER_LEN..lens_end as usize];
        let total: u64 = if len_width == 4 {
            lens.chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as u64)
                .sum()
        } else {
            lens.chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]) as u64)
                .sum()
        };
        if total + lens_end > len as u64 {
            return Err(EventError::ParamsOverflow { nparams, len });
        }
        Ok((ev, &buf[len_us..]))
    }

    #[inline]
    fn param_len_unchecked(&self, i: usize) -> u32 {
        let at = HEADER_LEN + i * self.len_width as usize;
        if self.len_width == 4 {
            rd_u32(self.bytes, at)
        } else {
            rd_u16(self.bytes, at) as u32
        }
    }

    /// Timestamp in nanoseconds since the epoch.
    #[inline]
    pub fn ts(&self) -> u64 {
        rd_u64(self.bytes, 0)
    }
    /// Thread id (host pid namespace).
    #[inline]
    pub fn tid(&self) -> u64 {
        rd_u64(self.bytes, 8)
    }
    /// Total length in bytes, header included.
    #[inline]
    pub fn len(&self) -> u32 {
        self.bytes.len() as u32
    }
    #[inline]
    pub fn is_empty(&self) -> bool {
        false
    }
    /// libscap event type number (`PPME_*`).
    #[inline]
    pub fn event_type(&self) -> u16 {
        rd_u16(self.bytes, 20)
    }
    #[inline]
    pub fn nparams(&self) -> u32 {
        rd_u32(self.bytes, 22)
    }
    /// Whether lengths are 32-bit.
    #[inline]
    pub fn large_payload(&self) -> bool {
        self.len_width == 4
    }
    /// The whole event as bytes (what a capture writer copies).
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Bytes of param `i`, or `None` past `nparams`. Walks the length array,
    /// which is short (≤ ~30 entries) and sits in the same cache lines.
    #[inline]
    pub fn param(&self, i: usize) -> Option<&'a [u8]> {
        let n = self.nparams() as usize;
        if i >= n {
            return None;
        }
        let mut off = HEADER_LEN + n * self.len_width as usize;
        for j in 0..i {
            off += self.param_len_unchecked(j) as usize;
        }
        let l = self.param_len_unchecked(i) as usize;
        self.bytes.get(off..off + l)
    }

    /// The table entry for this event's type (`None` past the table).
    #[inline]
    pub fn info(&self) -> Option<&'static EventInfo> {
        table::event_info(self.event_type())
    }

    #[inline]
    pub fn direction(&self) -> Direction {
        table::direction(self.event_type())
    }

    /// `evt.type`: the table name, or for generic events the syscall name
    /// their `ID` param carries.
    pub fn type_name(&self) -> &'static str {
        let ty = self.event_type();
        if ty == table::PPME_GENERIC_E || ty == table::PPME_GENERIC_X {
            let id = self
                .param(0)
                .filter(|p| p.len() == 2)
                .map(|p| u16::from_le_bytes([p[0], p[1]]));
            return match id.and_then(table::syscall_name) {
                Some(n) => n,
                None => "unknown",
            };
        }
        match self.info() {
            Some(i) => i.name,
            None => "unknown",
        }
    }

    /// Param `i` with its table description. `None` past `nparams` or past
    /// the table's params (a newer producer appended params we do not know).
    #[inline]
    pub fn typed_param(&self, i: usize) -> Option<Param<'a>> {
        let info = self.info()?.params.get(i)?;
        let bytes = self.param(i)?;
        Some(Param {
            index: i,
            info,
            bytes,
        })
    }

    /// The param named `name` (first match), if the event carries it.
    pub fn param_by_name(&self, name: &str) -> Option<Param<'a>> {
        let i = self.info()?.param_index(name)?;
        self.typed_param(i)
    }

    /// Params that both the event carries and the table describes, in order.
    pub fn typed_params(&self) -> impl Iterator<Item = Param<'a>> + 'a {
        let infos: &'static [crate::table::ParamInfo] = match self.info() {
            Some(i) => i.params,
            None => &[],
        };
        self.params()
            .zip(infos.iter())
            .enumerate()
            .map(|(index, (bytes, info))| Param { index, info, bytes })
    }

    /// `(offset, len)` of every param within [`RawEvent::as_bytes`], in one
    /// pass over the length array (for callers that index params often).
    pub fn param_spans(&self, out: &mut Vec<(u32, u32)>) {
        out.clear();
        let n = self.nparams() as usize;
        let mut off = HEADER_LEN + n * self.len_width as usize;
        for i in 0..n {
            let l = self.param_len_unchecked(i) as usize;
            out.push((off as u32, l as u32));
            off += l;
        }
    }

    /// Iterates over all params in order.
    pub fn params(&self) -> ParamIter<'a> {
        let n = self.nparams() as usize;
        let lens_end = HEADER_LEN + n * self.len_width as usize;
        ParamIter {
            lens: self.bytes.get(HEADER_LEN..lens_end).unwrap_or(&[]),
            data: self.bytes.get(lens_end..).unwrap_or(&[]),
            wide: self.len_width == 4,
        }
    }
}

impl fmt::Debug for RawEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawEvent")
            .field("ts", &self.ts())
            .field("tid", &self.tid())
            .field("type", &self.event_type())
            .field("nparams", &self.nparams())
            .field("len", &self.len())
            .finish()
    }
}

/// Iterator over an event's params (see [`RawEvent::params`]).
pub struct ParamIter<'a> {
    /// Remaining entries of the length array.
    lens: &'a [u8],
    /// Remaining param bytes.
    data: &'a [u8],
    wide: bool,
}

impl<'a> Iterator for ParamIter<'a> {
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let l = if self.wide {
            let (h, t) = self.lens.split_first_chunk::<4>()?;
            self.lens = t;
            u32::from_le_bytes(*h) as usize
        } else {
            let (h, t) = self.lens.split_first_chunk::<2>()?;
            self.lens = t;
            u16::from_le_bytes(*h) as usize
        };
        let (p, rest) = self.data.split_at_checked(l)?;
        self.data = rest;
        Some(p)
    }
}

/// Builds an event in the scap layout; used by the capture writer's tests,
/// synthetic benchmarks and the live source's user-space fallbacks.
pub fn encode_event(
    out: &mut Vec<u8>,
    ts: u64,
    tid: u64,
    event_type: u16,
    large_payload: bool,
    params: &[&[u8]],
) {
    let width = if large_payload { 4 } else { 2 };
    let len = HEADER_LEN + params.len() * width + params.iter().map(|p| p.len()).sum::<usize>();
    out.extend_from_slice(&ts.to_le_bytes());
    out.extend_from_slice(&tid.to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&event_type.to_le_bytes());
    out.extend_from_slice(&(params.len() as u32).to_le_bytes());
    for p in params {
        if large_payload {
            out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        } else {
            out.extend_from_slice(&(p.len() as u16).to_le_bytes());
        }
    }
    for p in params {
        out.extend_from_slice(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_param_access() {
        let mut buf = Vec::new();
        encode_event(&mut buf, 7, 42, 3, false, &[b"ab", b"", b"xyz"]);
        buf.extend_from_slice(b"rest");
        let (ev, rest) = RawEvent::parse_with(&buf, |_| false).unwrap();
        assert_eq!(rest, b"rest");
        assert_eq!(
            (ev.ts(), ev.tid(), ev.event_type(), ev.nparams()),
            (7, 42, 3, 3)
        );
        assert_eq!(ev.param(0), Some(&b"ab"[..]));
        assert_eq!(ev.param(1), Some(&b""[..]));
        assert_eq!(ev.param(2), Some(&b"xyz"[..]));
        assert_eq!(ev.param(3), None);
        assert_eq!(ev.params().collect::<Vec<_>>().len(), 3);
    }

    #[test]
    fn rejects_bad_lengths_without_panic() {
        let mut buf = Vec::new();
        encode_event(&mut buf, 1, 1, 1, false, &[b"hello"]);
        for cut in 0..buf.len() {
            assert!(RawEvent::parse_with(&buf[..cut], |_| false).is_err());
        }
        let mut bad = buf.clone();
        bad[26] = 0xff; // param length far beyond the event
        assert!(matches!(
            RawEvent::parse_with(&bad, |_| false),
            Err(EventError::ParamsOverflow { .. })
        ));
        let mut huge = buf.clone();
        huge[22..26].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(RawEvent::parse_with(&huge, |_| false).is_err());
    }
}
