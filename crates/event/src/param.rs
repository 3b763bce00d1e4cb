//! Typed, lazy access to event params: nothing is decoded until asked for,
//! nothing allocates, and a param whose bytes do not fit its type yields
//! [`Value::Invalid`] instead of a panic.

use crate::net::{memchr_nul, SockAddr, SockTuple};
use crate::table::{ParamAux, ParamInfo, ParamType};

/// One param of an event with its table description.
#[derive(Debug, Clone, Copy)]
pub struct Param<'a> {
    /// Position in the event.
    pub index: usize,
    pub info: &'static ParamInfo,
    pub bytes: &'a [u8],
}

/// A decoded param value. Borrowed forms point into the event bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// Zero-length param (libscap's "empty" encoding).
    Empty,
    Int(i64),
    Uint(u64),
    /// `ERRNO` params: a negative value is `-errno`.
    Errno(i64),
    Fd(i64),
    Pid(i64),
    /// `CHARBUF`, `FSPATH`, `FSRELPATH`: the bytes before the first NUL.
    Str(&'a [u8]),
    Bytes(&'a [u8]),
    SockAddr(SockAddr<'a>),
    SockTuple(SockTuple<'a>),
    FdList(FdList<'a>),
    SyscallId(u16),
    Signal(u8),
    /// Nanoseconds.
    RelTime(u64),
    /// Nanoseconds since the epoch.
    AbsTime(u64),
    /// `FLAGS*`, `ENUMFLAGS*`, `MODE`: the raw bits (see [`Param::info`] for names).
    Flags(u32),
    Uid(u32),
    Gid(u32),
    Double(f64),
    SigSet(u32),
    Bool(bool),
    Port(u16),
    Ipv4([u8; 4]),
    Ipv6([u8; 16]),
    /// `CHARBUFARRAY` and `CHARBUF_PAIR_ARRAY`: NUL-separated strings.
    StrArray(StrArray<'a>),
    /// The bytes do not fit the declared type.
    Invalid,
}

#[inline]
fn le_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a[..b.len()].copy_from_slice(b);
    u64::from_le_bytes(a)
}

impl<'a> Param<'a> {
    #[inline]
    pub fn name(&self) -> &'static str {
        self.info.name
    }
    #[inline]
    pub fn ty(&self) -> ParamType {
        self.info.ty
    }
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// For `DYN` params: the param as its selected type (the index byte
    /// stripped). Other params are returned unchanged.
    pub fn resolve_dyn(self) -> Param<'a> {
        if let (ParamType::Dyn, ParamAux::Dyn(table)) = (self.info.ty, self.info.aux) {
            if let Some((&idx, rest)) = self.bytes.split_first() {
                if let Some(info) = table.get(idx as usize) {
                    return Param {
                        index: self.index,
                        info,
                        bytes: rest,
                    };
                }
            }
        }
        self
    }

    /// Unsigned integer of the param's width (1, 2, 4 or 8 bytes).
    #[inline]
    pub fn as_u64(&self) -> Option<u64> {
        match self.bytes.len() {
            1 | 2 | 4 | 8 => Some(le_u64(self.bytes)),
            _ => None,
        }
    }

    /// Signed integer of the param's width, sign-extended.
    #[inline]
    pub fn as_i64(&self) -> Option<i64> {
        let v = self.as_u64()?;
        Some(match self.bytes.len() {
            1 => v as u8 as i8 as i64,
            2 => v as u16 as i16 as i64,
            4 => v as u32 as i32 as i64,
            _ => v as i64,
        })
    }

    /// String params without their trailing NUL.
    #[inline]
    pub fn as_bytes_str(&self) -> &'a [u8] {
        match memchr_nul(self.bytes) {
            Some(i) => &self.bytes[..i],
            None => self.bytes,
        }
    }

    /// String params as UTF-8 (lossless when the bytes are valid UTF-8).
    pub fn as_str(&self) -> Option<&'a str> {
        std::str::from_utf8(self.as_bytes_str()).ok()
    }

    /// An `FD`/`FD32` param, or any integer param used as an fd.
    pub fn as_fd(&self) -> Option<i64> {
        self.as_i64()
    }

    /// Decodes the param per its declared type.
    pub fn value(&self) -> Value<'a> {
        let p = self.resolve_dyn();
        let b = p.bytes;
        if b.is_empty() {
            return Value::Empty;
        }
        let width_ok = match p.info.ty.fixed_size() {
            Some(n) => b.len() == n,
            None => true,
        };
        if !width_ok {
            return Value::Invalid;
        }
        use ParamType as T;
        match p.info.ty {
            T::None => Value::Bytes(b),
            T::Int8 | T::Int16 | T::Int32 | T::Int64 => Value::Int(p.as_i64().unwrap_or(0)),
            T::Uint8 | T::Uint16 | T::Uint32 | T::Uint64 => Value::Uint(le_u64(b)),
            T::Errno => Value::Errno(le_u64(b) as i64),
            T::Fd | T::Fd32 => Value::Fd(p.as_i64().unwrap_or(0)),
            T::Pid | T::Pid32 => Value::Pid(p.as_i64().unwrap_or(0)),
            T::Charbuf | T::Fspath | T::Fsrelpath => Value::Str(p.as_bytes_str()),
            T::Bytebuf => Value::Bytes(b),
            T::Sockaddr => SockAddr::decode(b).map_or(Value::Empty, Value::SockAddr),
            T::Socktuple => SockTuple::decode(b).map_or(Value::Empty, Value::SockTuple),
            T::Fdlist => FdList::decode(b).map_or(Value::Invalid, Value::FdList),
            T::Syscallid => Value::SyscallId(le_u64(b) as u16),
            T::Sigtype => Value::Signal(b[0]),
            T::Reltime => Value::RelTime(le_u64(b)),
            T::Abstime => Value::AbsTime(le_u64(b)),
            T::Flags8
            | T::Flags16
            | T::Flags32
            | T::Enumflags8
            | T::Enumflags16
            | T::Enumflags32
            | T::Mode => Value::Flags(le_u64(b) as u32),
            T::Uid => Value::Uid(le_u64(b) as u32),
            T::Gid => Value::Gid(le_u64(b) as u32),
            T::Double => Value::Double(f64::from_bits(le_u64(b))),
            T::Sigset => Value::SigSet(le_u64(b) as u32),
            T::Bool => Value::Bool(le_u64(b) != 0),
            T::Port => Value::Port(le_u64(b) as u16),
            T::L4proto | T::Sockfamily => Value::Uint(le_u64(b)),
            T::Ipv4addr => Value::Ipv4([b[0], b[1], b[2], b[3]]),
            T::Ipv6addr => {
                let mut a = [0u8; 16];
                a.copy_from_slice(b);
                Value::Ipv6(a)
            }
            T::Charbufarray | T::CharbufPairArray => Value::StrArray(StrArray { bytes: b }),
            T::Ipv4net | T::Ipv6net | T::Ipaddr | T::Ipnet | T::Dyn => Value::Bytes(b),
        }
    }

    /// The flag/enum names table of this param (empty for other types).
    pub fn flag_names(&self) -> &'static [crate::table::NameValue] {
        self.info.flag_names()
    }
}

/// A `FDLIST` param: `u16 count`, then `count × (i64 fd, i16 flags)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdList<'a> {
    bytes: &'a [u8],
    count: u16,
}

impl<'a> FdList<'a> {
    /// `None` when the count does not fit the bytes.
    pub fn decode(b: &'a [u8]) -> Option<FdList<'a>> {
        if b.len() < 2 {
            return None;
        }
        let count = u16::from_le_bytes([b[0], b[1]]);
        if b.len() < 2 + count as usize * 10 {
            return None;
        }
        Some(FdList { bytes: b, count })
    }
    pub fn len(&self) -> usize {
        self.count as usize
    }
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    /// `(fd, poll flags)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (i64, i16)> + 'a {
        let b = self.bytes;
        (0..self.count as usize).map(move |i| {
            let at = 2 + i * 10;
            let fd = le_u64(&b[at..at + 8]) as i64;
            let fl = i16::from_le_bytes([b[at + 8], b[at + 9]]);
            (fd, fl)
        })
    }
}

/// NUL-separated strings (`args`, `env`, `cgroups` style params).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrArray<'a> {
    pub bytes: &'a [u8],
}

impl<'a> StrArray<'a> {
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let b = self.bytes;
        let trimmed = b.strip_suffix(&[0]).unwrap_or(b);
        let mut done = trimmed.is_empty();
        let mut rest = trimmed;
        std::iter::from_fn(move || {
            if done {
                return None;
            }
            match memchr_nul(rest) {
                Some(i) => {
                    let s = &rest[..i];
                    rest = &rest[i + 1..];
                    Some(s)
                }
                None => {
                    done = true;
                    Some(rest)
                }
            }
        })
    }
}

/// Splits a NUL-separated byte buffer param (e.g. execve `args`) like
/// [`StrArray`]; handy for `BYTEBUF` params that carry string lists.
pub fn split_nul(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    StrArray { bytes }.iter()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::*;

    fn param(ty_event: u16, i: usize, bytes: &[u8]) -> Param<'_> {
        Param {
            index: i,
            info: &event_info(ty_event).unwrap().params[i],
            bytes,
        }
    }

    #[test]
    fn ints_and_errno() {
        let m2 = (-2i64).to_le_bytes();
        let p = param(PPME_SYSCALL_OPEN_X, 0, &m2);
        assert_eq!(p.value(), Value::Fd(-2));
        let flags = 4097u32.to_le_bytes();
        let p = param(PPME_SYSCALL_OPEN_X, 2, &flags);
        assert_eq!(p.value(), Value::Flags(4097));
        let m9 = (-9i64).to_le_bytes();
        let p = param(PPME_SYSCALL_CLOSE_X, 0, &m9);
        assert_eq!(p.value(), Value::Errno(-9));
        // wrong width: never a panic, a clear Invalid
        let p = param(PPME_SYSCALL_CLOSE_X, 0, &[1, 2, 3]);
        assert_eq!(p.value(), Value::Invalid);
        assert_eq!(param(PPME_SYSCALL_CLOSE_X, 0, &[]).value(), Value::Empty);
    }

    #[test]
    fn strings_and_arrays() {
        let p = param(PPME_SYSCALL_OPEN_X, 1, b"/etc/passwd\0");
        assert_eq!(p.value(), Value::Str(b"/etc/passwd"));
        assert_eq!(p.as_str(), Some("/etc/passwd"));
        let parts: Vec<&[u8]> = split_nul(b"ls\0-l\0/tmp\0").collect();
        assert_eq!(parts, vec![&b"ls"[..], b"-l", b"/tmp"]);
        assert_eq!(split_nul(b"").count(), 0);
        assert_eq!(split_nul(b"\0").count(), 0);
        assert_eq!(split_nul(b"a\0\0b").count(), 3);
    }

    #[test]
    fn fdlist_bounds() {
        let mut b = 2u16.to_le_bytes().to_vec();
        b.extend_from_slice(&3i64.to_le_bytes());
        b.extend_from_slice(&1i16.to_le_bytes());
        assert!(FdList::decode(&b).is_none());
        b.extend_from_slice(&4i64.to_le_bytes());
        b.extend_from_slice(&4i16.to_le_bytes());
        let l = FdList::decode(&b).unwrap();
        assert_eq!(l.iter().collect::<Vec<_>>(), vec![(3, 1), (4, 4)]);
    }
}
