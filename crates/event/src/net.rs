//! Socket addresses and tuples as the scap layout carries them, and their
//! text forms (`127.0.0.1:47192->127.0.0.1:80`, IPv6 like `inet_ntop`).
//!
//! Layout (params of type `SOCKADDR` / `SOCKTUPLE`): a family byte
//! (`PPM_AF_*`), then for IPv4 `ip[4] port(u16)` (tuples: source then
//! destination), for IPv6 `ip[16] port(u16)`, for unix sockets a
//! NUL-terminated path (tuples: `u64 source, u64 dest, path`). Addresses are in
//! network byte order, ports in host (little-endian) order.

use std::fmt::{self, Write};

pub const PPM_AF_UNSPEC: u8 = 0;
pub const PPM_AF_UNIX: u8 = 1;
pub const PPM_AF_INET: u8 = 2;
pub const PPM_AF_INET6: u8 = 10;

/// A decoded `SOCKADDR` param.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SockAddr<'a> {
    /// Path bytes without the trailing NUL.
    Unix(&'a [u8]),
    Inet {
        ip: [u8; 4],
        port: u16,
    },
    Inet6 {
        ip: [u8; 16],
        port: u16,
    },
    /// A family Peregrine does not decode.
    Other {
        family: u8,
    },
    /// Too short for its family.
    Invalid {
        family: u8,
    },
}

/// A decoded `SOCKTUPLE` param.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SockTuple<'a> {
    Inet {
        sip: [u8; 4],
        sport: u16,
        dip: [u8; 4],
        dport: u16,
    },
    Inet6 {
        sip: [u8; 16],
        sport: u16,
        dip: [u8; 16],
        dport: u16,
    },
    Unix {
        source: u64,
        dest: u64,
        path: &'a [u8],
    },
    Other {
        family: u8,
    },
    Invalid {
        family: u8,
    },
}

#[inline]
fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
#[inline]
fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}
fn arr4(b: &[u8], at: usize) -> [u8; 4] {
    [b[at], b[at + 1], b[at + 2], b[at + 3]]
}
fn arr16(b: &[u8], at: usize) -> [u8; 16] {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[at..at + 16]);
    a
}
/// The bytes up to the first NUL (or all of them).
fn c_str(b: &[u8]) -> &[u8] {
    match memchr_nul(b) {
        Some(i) => &b[..i],
        None => b,
    }
}
pub(crate) fn memchr_nul(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == 0)
}

impl<'a> SockAddr<'a> {
    /// Decodes a non-empty param; `None` for an empty one.
    pub fn decode(b: &'a [u8]) -> Option<SockAddr<'a>> {
        let family = *b.first()?;
        Some(match family {
            PPM_AF_INET if b.len() >= 7 => SockAddr::Inet {
                ip: arr4(b, 1),
                port: u16_at(b, 5),
            },
            PPM_AF_INET6 if b.len() >= 19 => SockAddr::Inet6 {
                ip: arr16(b, 1),
                port: u16_at(b, 17),
            },
            PPM_AF_UNIX if b.len() >= 2 && b[b.len() - 1] == 0 => SockAddr::Unix(c_str(&b[1..])),
            PPM_AF_INET | PPM_AF_INET6 | PPM_AF_UNIX => SockAddr::Invalid { family },
            _ => SockAddr::Other { family },
        })
    }
}

impl<'a> SockTuple<'a> {
    /// Decodes a non-empty param; `None` for an empty one.
    pub fn decode(b: &'a [u8]) -> Option<SockTuple<'a>> {
        let family = *b.first()?;
        Some(match family {
            PPM_AF_INET if b.len() >= 13 => SockTuple::Inet {
                sip: arr4(b, 1),
                sport: u16_at(b, 5),
                dip: arr4(b, 7),
                dport: u16_at(b, 11),
            },
            PPM_AF_INET6 if b.len() >= 37 => SockTuple::Inet6 {
                sip: arr16(b, 1),
                sport: u16_at(b, 17),
                dip: arr16(b, 19),
                dport: u16_at(b, 35),
            },
            PPM_AF_UNIX if b.len() >= 18 && b[b.len() - 1] == 0 => SockTuple::Unix {
                source: u64_at(b, 1),
                dest: u64_at(b, 9),
                path: c_str(&b[17..]),
            },
            PPM_AF_INET | PPM_AF_INET6 | PPM_AF_UNIX => SockTuple::Invalid { family },
            _ => SockTuple::Other { family },
        })
    }
}

/// An all-zero address or `::ffff:a.b.c.d`: libsinsp shows such IPv6 tuples as IPv4.
pub fn is_ipv4_mapped(ip: &[u8; 16]) -> bool {
    ip[..10].iter().all(|&b| b == 0)
        && ((ip[10] == 0xff && ip[11] == 0xff) || ip[10..].iter().all(|&b| b == 0))
}

pub fn write_ipv4(out: &mut impl Write, ip: [u8; 4]) -> fmt::Result {
    write!(out, "{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3])
}

/// IPv6 text exactly as glibc's `inet_ntop` writes it (longest zero run
/// compressed, lower-case hex, embedded IPv4 for `::a.b.c.d`/`::ffff:a.b.c.d`).
pub fn write_ipv6(out: &mut impl Write, ip: &[u8; 16]) -> fmt::Result {
    let mut words = [0u16; 8];
    for (i, w) in words.iter_mut().enumerate() {
        *w = u16::from_be_bytes([ip[2 * i], ip[2 * i + 1]]);
    }
    // Longest run of zero words (first one on ties); runs of one are not compressed.
    let (mut best_base, mut best_len) = (usize::MAX, 0usize);
    let (mut cur_base, mut cur_len) = (usize::MAX, 0usize);
    for (i, &w) in words.iter().enumerate() {
        if w == 0 {
            if cur_base == usize::MAX {
                cur_base = i;
                cur_len = 1;
            } else {
                cur_len += 1;
            }
        } else if cur_base != usize::MAX {
            if cur_len > best_len {
                best_base = cur_base;
                best_len = cur_len;
            }
            cur_base = usize::MAX;
        }
    }
    if cur_base != usize::MAX && cur_len > best_len {
        best_base = cur_base;
        best_len = cur_len;
    }
    if best_len < 2 {
        best_base = usize::MAX;
    }
    let in_best = |i: usize| best_base != usize::MAX && i >= best_base && i < best_base + best_len;
    for (i, &w) in words.iter().enumerate() {
        if in_best(i) {
            if i == best_base {
                out.write_char(':')?;
            }
            continue;
        }
        if i != 0 {
            out.write_char(':')?;
        }
        if i == 6 && best_base == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff)) {
            return write_ipv4(out, [ip[12], ip[13], ip[14], ip[15]]);
        }
        write!(out, "{w:x}")?;
    }
    if best_base != usize::MAX && best_base + best_len == 8 {
        out.write_char(':')?;
    }
    Ok(())
}

/// Writes bytes as text, dropping nothing (lossy UTF-8, as the C side would
/// print raw bytes).
pub(crate) fn write_lossy(out: &mut impl Write, b: &[u8]) -> fmt::Result {
    match std::str::from_utf8(b) {
        Ok(s) => out.write_str(s),
        Err(_) => {
            for chunk in b.utf8_chunks() {
                out.write_str(chunk.valid())?;
                for _ in chunk.invalid() {
                    out.write_char('\u{fffd}')?;
                }
            }
            Ok(())
        }
    }
}

impl fmt::Display for SockAddr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SockAddr::Unix(path) => write_lossy(f, path),
            SockAddr::Inet { ip, port } => {
                write_ipv4(f, ip)?;
                write!(f, ":{port}")
            }
            SockAddr::Inet6 { ip, port } => {
                write_ipv6(f, &ip)?;
                write!(f, ":{port}")
            }
            SockAddr::Other { family } => write!(f, "family {family}"),
            SockAddr::Invalid { family } => f.write_str(invalid_name(family, "SOCKADDR")),
        }
    }
}

fn invalid_name(family: u8, what: &'static str) -> &'static str {
    match (family, what) {
        (PPM_AF_UNIX, _) => "INVALID PATH",
        (PPM_AF_INET, _) => "INVALID IPv4",
        (PPM_AF_INET6, _) => "INVALID IPv6",
        (_, "SOCKADDR") => "INVALID SOCKADDR",
        _ => "INVALID SOCKTUPLE",
    }
}

impl fmt::Display for SockTuple<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SockTuple::Inet {
                sip,
                sport,
                dip,
                dport,
            } => {
                write_ipv4(f, sip)?;
                write!(f, ":{sport}->")?;
                write_ipv4(f, dip)?;
                write!(f, ":{dport}")
            }
            SockTuple::Inet6 {
                sip,
                sport,
                dip,
                dport,
            } => {
                if is_ipv4_mapped(&sip) && is_ipv4_mapped(&dip) {
                    write_ipv4(f, [sip[12], sip[13], sip[14], sip[15]])?;
                    write!(f, ":{sport}->")?;
                    write_ipv4(f, [dip[12], dip[13], dip[14], dip[15]])?;
                    return write!(f, ":{dport}");
                }
                write_ipv6(f, &sip)?;
                write!(f, ":{sport}->")?;
                write_ipv6(f, &dip)?;
                write!(f, ":{dport}")
            }
            SockTuple::Unix { source, dest, path } => {
                write!(f, "{source:x}->{dest:x} ")?;
                write_lossy(f, path)
            }
            SockTuple::Other { family } => write!(f, "family {family}"),
            SockTuple::Invalid { family } => f.write_str(invalid_name(family, "SOCKTUPLE")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(s: &str) -> String {
        let ip: std::net::Ipv6Addr = s.parse().unwrap();
        let mut out = String::new();
        write_ipv6(&mut out, &ip.octets()).unwrap();
        out
    }

    #[test]
    fn ipv6_like_inet_ntop() {
        assert_eq!(v6("::"), "::");
        assert_eq!(v6("::1"), "::1");
        assert_eq!(v6("2001:4860:4860::8888"), "2001:4860:4860::8888");
        assert_eq!(v6("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
        assert_eq!(v6("::1.2.3.4"), "::1.2.3.4");
        assert_eq!(v6("1:0:0:1:0:0:0:1"), "1:0:0:1::1");
        assert_eq!(v6("1:0:1:0:1:0:1:0"), "1:0:1:0:1:0:1:0");
        assert_eq!(v6("fe80::"), "fe80::");
        assert_eq!(
            v6("2600:1f18:262c:6542:9aa6:df7a:9a47:d29e"),
            "2600:1f18:262c:6542:9aa6:df7a:9a47:d29e"
        );
    }

    #[test]
    fn tuples_and_addrs() {
        let mut t = vec![PPM_AF_INET, 127, 0, 0, 1];
        t.extend_from_slice(&47192u16.to_le_bytes());
        t.extend_from_slice(&[127, 0, 0, 1]);
        t.extend_from_slice(&80u16.to_le_bytes());
        let tuple = SockTuple::decode(&t).unwrap();
        assert_eq!(tuple.to_string(), "127.0.0.1:47192->127.0.0.1:80");
        assert_eq!(
            SockTuple::decode(&t[..12]).unwrap(),
            SockTuple::Invalid {
                family: PPM_AF_INET
            }
        );
        assert!(SockTuple::decode(&[]).is_none());

        let mut u = vec![PPM_AF_UNIX];
        u.extend_from_slice(&0xabcu64.to_le_bytes());
        u.extend_from_slice(&0x10u64.to_le_bytes());
        u.extend_from_slice(b"/run/x.sock\0");
        assert_eq!(
            SockTuple::decode(&u).unwrap().to_string(),
            "abc->10 /run/x.sock"
        );
        let a = SockAddr::decode(b"\x01/tmp/s\0").unwrap();
        assert_eq!(a.to_string(), "/tmp/s");
        assert_eq!(SockAddr::decode(&[99]).unwrap().to_string(), "family 99");
    }
}
