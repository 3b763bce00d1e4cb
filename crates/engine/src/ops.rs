//! Matching primitives with Falco's semantics: `glob` as fnmatch(3) without
//! flags, `pmatch` as a path-prefix set, IPs and CIDR networks.

use rustc_hash::FxHashMap;

/// fnmatch(3) with no flags: `*` and `?` match any byte (slashes too),
/// `[...]` classes with ranges and `!`/`^` negation, `\` escapes.
pub fn glob_match(pat: &[u8], s: &[u8], fold: bool) -> bool {
    let eq = |a: u8, b: u8| {
        if fold {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut p, mut i) = (0usize, 0usize);
    // Backtrack point for the last `*`.
    let mut star: Option<(usize, usize)> = None;
    loop {
        if p < pat.len() {
            match pat[p] {
                b'*' => {
                    while p < pat.len() && pat[p] == b'*' {
                        p += 1;
                    }
                    if p == pat.len() {
                        return true;
                    }
                    star = Some((p, i));
                    continue;
                }
                b'?' if i < s.len() => {
                    p += 1;
                    i += 1;
                    continue;
                }
                b'[' if i < s.len() => {
                    if let Some((matched, next)) = class_match(pat, p, s[i], fold) {
                        if matched {
                            p = next;
                            i += 1;
                            continue;
                        }
                    } else if eq(b'[', s[i]) {
                        // An unterminated class is a literal `[`.
                        p += 1;
                        i += 1;
                        continue;
                    }
                }
                b'\\' if p + 1 < pat.len() && i < s.len() && eq(pat[p + 1], s[i]) => {
                    p += 2;
                    i += 1;
                    continue;
                }
                c if c != b'*'
                    && c != b'?'
                    && c != b'['
                    && c != b'\\'
                    && i < s.len()
                    && eq(c, s[i]) =>
                {
                    p += 1;
                    i += 1;
                    continue;
                }
                b'\\' if p + 1 == pat.len() && i < s.len() && s[i] == b'\\' => {
                    p += 1;
                    i += 1;
                    continue;
                }
                _ => {}
            }
        } else if i == s.len() {
            return true;
        }
        // Mismatch: let the last `*` eat one more byte.
        match star {
            Some((sp, si)) if si < s.len() => {
                star = Some((sp, si + 1));
                p = sp;
                i = si + 1;
            }
            _ => return false,
        }
    }
}

/// Matches `c` against the class starting at `pat[p] == '['`. Returns
/// whether it matched and the index after the class, or `None` if the class
/// is not terminated.
fn class_match(pat: &[u8], p: usize, c: u8, fold: bool) -> Option<(bool, usize)> {
    let mut j = p + 1;
    let negate = j < pat.len() && (pat[j] == b'!' || pat[j] == b'^');
    if negate {
        j += 1;
    }
    let norm = |x: u8| if fold { x.to_ascii_lowercase() } else { x };
    let c = norm(c);
    let mut matched = false;
    let mut first = true;
    while j < pat.len() {
        let mut lo = pat[j];
        if lo == b']' && !first {
            return Some((matched != negate, j + 1));
        }
        first = false;
        if lo == b'\\' && j + 1 < pat.len() {
            j += 1;
            lo = pat[j];
        }
        if j + 2 < pat.len() && pat[j + 1] == b'-' && pat[j + 2] != b']' {
            let mut hi = pat[j + 2];
            let mut adv = 3;
            if hi == b'\\' && j + 3 < pat.len() {
                hi = pat[j + 3];
                adv = 4;
            }
            if norm(lo) <= c && c <= norm(hi) {
                matched = true;
            }
            j += adv;
        } else {
            if norm(lo) == c {
                matched = true;
            }
            j += 1;
        }
    }
    None
}

/// A set of paths for `pmatch`: a value matches when it equals one of the
/// paths or lies below one (`/etc` matches `/etc` and `/etc/passwd`, not
/// `/etcd`). Lookup walks the value's own prefixes, so cost does not grow
/// with the set.
#[derive(Debug, Default, Clone)]
pub struct PathSet {
    paths: FxHashMap<Box<[u8]>, ()>,
    /// Patterns with wildcards, matched component-wise.
    globs: Vec<Box<[u8]>>,
}

impl PathSet {
    pub fn insert(&mut self, path: &[u8]) {
        let p = if path.len() > 1 && path.ends_with(b"/") {
            &path[..path.len() - 1]
        } else {
            path
        };
        if p.iter().any(|&c| c == b'*' || c == b'?' || c == b'[') {
            self.globs.push(p.into());
        } else {
            self.paths.insert(p.into(), ());
        }
    }

    pub fn matches(&self, value: &[u8]) -> bool {
        if self.paths.contains_key(value) {
            return true;
        }
        if self.paths.contains_key(&b"/"[..]) && value.starts_with(b"/") {
            return true;
        }
        let mut end = value.len();
        while let Some(pos) = value[..end].iter().rposition(|&c| c == b'/') {
            if pos == 0 {
                break;
            }
            if self.paths.contains_key(&value[..pos]) {
                return true;
            }
            end = pos;
        }
        self.globs.iter().any(|g| {
            let comps = g.split(|&c| c == b'/').count();
            // Compare the glob against the value's first `comps` components.
            let mut n = 0;
            let mut cut = value.len();
            for (i, &c) in value.iter().enumerate() {
                if c == b'/' {
                    n += 1;
                    if n == comps {
                        cut = i;
                        break;
                    }
                }
            }
            glob_match(g, &value[..cut], false)
        })
    }
}

/// An IP address or network from a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpMatch {
    V4 { addr: [u8; 4], prefix: u8 },
    V6 { addr: [u8; 16], prefix: u8 },
}

impl IpMatch {
    pub fn parse(s: &str) -> Option<IpMatch> {
        let (ip, prefix) = match s.split_once('/') {
            Some((ip, p)) => (ip, Some(p.parse::<u8>().ok()?)),
            None => (s, None),
        };
        if let Ok(v4) = ip.parse::<std::net::Ipv4Addr>() {
            let prefix = prefix.unwrap_or(32);
            if prefix > 32 {
                return None;
            }
            return Some(IpMatch::V4 {
                addr: v4.octets(),
                prefix,
            });
        }
        let v6 = ip.parse::<std::net::Ipv6Addr>().ok()?;
        let prefix = prefix.unwrap_or(128);
        if prefix > 128 {
            return None;
        }
        Some(IpMatch::V6 {
            addr: v6.octets(),
            prefix,
        })
    }

    fn prefix_eq(a: &[u8], b: &[u8], prefix: u8) -> bool {
        let full = (prefix / 8) as usize;
        if a[..full] != b[..full] {
            return false;
        }
        let rem = prefix % 8;
        if rem == 0 {
            return true;
        }
        let mask = 0xffu8 << (8 - rem);
        (a[full] & mask) == (b[full] & mask)
    }

    pub fn matches_v4(&self, ip: [u8; 4]) -> bool {
        match *self {
            IpMatch::V4 { addr, prefix } => Self::prefix_eq(&ip, &addr, prefix),
            IpMatch::V6 { addr, prefix } => {
                // An IPv4 value against an IPv4-mapped IPv6 rule.
                let mut mapped = [0u8; 16];
                mapped[10] = 0xff;
                mapped[11] = 0xff;
                mapped[12..].copy_from_slice(&ip);
                Self::prefix_eq(&mapped, &addr, prefix)
            }
        }
    }

    pub fn matches_v6(&self, ip: [u8; 16]) -> bool {
        match *self {
            IpMatch::V6 { addr, prefix } => Self::prefix_eq(&ip, &addr, prefix),
            IpMatch::V4 { addr, prefix } => {
                ip[..10].iter().all(|&b| b == 0)
                    && ip[10] == 0xff
                    && ip[11] == 0xff
                    && Self::prefix_eq(&ip[12..], &addr, prefix)
            }
        }
    }
}

/// Case-insensitive substring search (ASCII).
pub fn icontains(hay: &[u8], needle_lower: &[u8]) -> bool {
    if needle_lower.is_empty() {
        return true;
    }
    if needle_lower.len() > hay.len() {
        return false;
    }
    hay.windows(needle_lower.len()).any(|w| {
        w.iter()
            .zip(needle_lower)
            .all(|(a, b)| a.to_ascii_lowercase() == *b)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_like_fnmatch() {
        assert!(glob_match(b"/etc/*", b"/etc/passwd", false));
        assert!(glob_match(b"/etc/*", b"/etc/ssh/sshd_config", false));
        assert!(glob_match(b"*.sh", b"run.sh", false));
        assert!(!glob_match(b"*.sh", b"run.shx", false));
        assert!(glob_match(b"a?c", b"abc", false));
        assert!(glob_match(b"[a-c]x", b"bx", false));
        assert!(!glob_match(b"[!a-c]x", b"bx", false));
        assert!(glob_match(b"*A*", b"xay", true));
        assert!(!glob_match(b"*A*", b"xay", false));
        assert!(glob_match(b"\\*", b"*", false));
        assert!(glob_match(b"", b"", false));
        assert!(!glob_match(b"", b"a", false));
        assert!(glob_match(b"*a*b*c*", b"xxaxxbxxcxx", false));
    }

    #[test]
    fn pmatch_prefixes() {
        let mut s = PathSet::default();
        s.insert(b"/etc");
        s.insert(b"/usr/bin/");
        assert!(s.matches(b"/etc"));
        assert!(s.matches(b"/etc/passwd"));
        assert!(s.matches(b"/usr/bin/ls"));
        assert!(!s.matches(b"/etcd"));
        assert!(!s.matches(b"/usr"));
    }

    #[test]
    fn ip_networks() {
        let n = IpMatch::parse("10.0.0.0/8").unwrap();
        assert!(n.matches_v4([10, 1, 2, 3]));
        assert!(!n.matches_v4([11, 1, 2, 3]));
        let a = IpMatch::parse("127.0.0.1").unwrap();
        assert!(a.matches_v4([127, 0, 0, 1]));
        let v6 = IpMatch::parse("fe80::/10").unwrap();
        let ip: std::net::Ipv6Addr = "fe80::1".parse().unwrap();
        assert!(v6.matches_v6(ip.octets()));
        assert!(IpMatch::parse("1.2.3.4/33").is_none());
        assert!(IpMatch::parse("nonsense").is_none());
    }
}
