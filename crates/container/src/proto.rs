//! Just enough protobuf wire format for the CRI messages used: a field
//! iterator for decoding and a small encoder. Unknown fields are skipped, so
//! newer runtimes' additions never break decoding.

use std::collections::BTreeMap;

use crate::error::LookupError;

#[derive(Clone, Copy, Debug)]
pub enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl<'a> Wire<'a> {
    pub fn as_u64(self) -> u64 {
        match self {
            Wire::Varint(v) | Wire::Fixed64(v) => v,
            Wire::Fixed32(v) => v as u64,
            Wire::Bytes(_) => 0,
        }
    }

    pub fn as_bytes(self) -> &'a [u8] {
        match self {
            Wire::Bytes(b) => b,
            _ => &[],
        }
    }

    pub fn as_string(self) -> String {
        String::from_utf8_lossy(self.as_bytes()).into_owned()
    }
}

/// Iterates `(field number, value)` over one message's bytes.
pub struct Fields<'a> {
    buf: &'a [u8],
    failed: bool,
}

pub fn fields(buf: &[u8]) -> Fields<'_> {
    Fields { buf, failed: false }
}

fn varint(buf: &mut &[u8]) -> Option<u64> {
    let mut v: u64 = 0;
    for i in 0..10 {
        let (&b, rest) = buf.split_first()?;
        *buf = rest;
        v |= ((b & 0x7f) as u64) << (7 * i);
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

impl<'a> Fields<'a> {
    /// Like iterating, but a malformed message is an error.
    pub fn collect_checked(mut self) -> Result<Vec<(u32, Wire<'a>)>, LookupError> {
        let mut out = Vec::new();
        for f in self.by_ref() {
            out.push(f);
        }
        if self.failed {
            return Err(LookupError::Protocol("malformed protobuf message".into()));
        }
        Ok(out)
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = (u32, Wire<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.is_empty() || self.failed {
            return None;
        }
        let item = (|| {
            let key = varint(&mut self.buf)?;
            let num = u32::try_from(key >> 3).ok()?;
            let value = match key & 7 {
                0 => Wire::Varint(varint(&mut self.buf)?),
                1 => {
                    let (b, rest) = self.buf.split_first_chunk::<8>()?;
                    self.buf = rest;
                    Wire::Fixed64(u64::from_le_bytes(*b))
                }
                2 => {
                    let len = usize::try_from(varint(&mut self.buf)?).ok()?;
                    if len > self.buf.len() {
                        return None;
                    }
                    let (b, rest) = self.buf.split_at(len);
                    self.buf = rest;
                    Wire::Bytes(b)
                }
                5 => {
                    let (b, rest) = self.buf.split_first_chunk::<4>()?;
                    self.buf = rest;
                    Wire::Fixed32(u32::from_le_bytes(*b))
                }
                _ => return None,
            };
            Some((num, value))
        })();
        if item.is_none() {
            self.failed = true;
        }
        item
    }
}

/// Decodes a `map<string,string>` entry and inserts it.
pub fn map_entry(bytes: &[u8], into: &mut BTreeMap<String, String>) {
    let (mut k, mut v) = (String::new(), String::new());
    for (num, w) in fields(bytes) {
        match num {
            1 => k = w.as_string(),
            2 => v = w.as_string(),
            _ => {}
        }
    }
    into.insert(k, v);
}

/// A protobuf message under construction.
#[derive(Default)]
pub struct Enc {
    pub buf: Vec<u8>,
}

impl Enc {
    pub fn new() -> Self {
        Enc::default()
    }

    fn varint(&mut self, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.buf.push(b);
                return;
            }
            self.buf.push(b | 0x80);
        }
    }

    fn key(&mut self, field: u32, wire: u64) {
        self.varint(((field as u64) << 3) | wire);
    }

    pub fn uint(&mut self, field: u32, v: u64) -> &mut Self {
        if v != 0 {
            self.key(field, 0);
            self.varint(v);
        }
        self
    }

    pub fn bool(&mut self, field: u32, v: bool) -> &mut Self {
        self.uint(field, v as u64)
    }

    pub fn bytes(&mut self, field: u32, v: &[u8]) -> &mut Self {
        self.key(field, 2);
        self.varint(v.len() as u64);
        self.buf.extend_from_slice(v);
        self
    }

    pub fn string(&mut self, field: u32, v: &str) -> &mut Self {
        if !v.is_empty() {
            self.bytes(field, v.as_bytes());
        }
        self
    }

    pub fn message(&mut self, field: u32, build: impl FnOnce(&mut Enc)) -> &mut Self {
        let mut inner = Enc::new();
        build(&mut inner);
        self.bytes(field, &inner.buf)
    }

    pub fn map(&mut self, field: u32, entries: &[(&str, &str)]) -> &mut Self {
        for (k, v) in entries {
            self.message(field, |e| {
                e.string(1, k).string(2, v);
            });
        }
        self
    }

    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let msg = Enc::new()
            .string(1, "abc")
            .bool(2, true)
            .uint(3, 300)
            .message(4, |e| {
                e.string(1, "inner");
            })
            .map(5, &[("k", "v")])
            .finish();
        let f = fields(&msg).collect_checked().unwrap();
        assert_eq!(f[0].0, 1);
        assert_eq!(f[0].1.as_string(), "abc");
        assert_eq!(f[1].1.as_u64(), 1);
        assert_eq!(f[2].1.as_u64(), 300);
        let inner = fields(f[3].1.as_bytes()).collect_checked().unwrap();
        assert_eq!(inner[0].1.as_string(), "inner");
        let mut m = BTreeMap::new();
        map_entry(f[4].1.as_bytes(), &mut m);
        assert_eq!(m.get("k").map(String::as_str), Some("v"));
    }

    #[test]
    fn malformed_is_an_error_not_a_panic() {
        for bad in [
            &[0x0a, 0x05, b'a'][..],
            &[0x08][..],
            &[0x0f][..],
            &[0xff; 11][..],
        ] {
            assert!(fields(bad).collect_checked().is_err(), "{bad:?}");
        }
    }
}
