//! `x.y.z` versions as libsinsp reads them (`sscanf("%u.%u.%u")`: leading
//! numbers, anything after the third is ignored).

use std::cmp::Ordering;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    valid: bool,
}

fn leading_u32(s: &str) -> Option<(u32, &str)> {
    let t = s.trim_start();
    let (neg, t) = match t.as_bytes().first() {
        Some(b'+') => (false, &t[1..]),
        Some(b'-') => (true, &t[1..]),
        _ => (false, t),
    };
    let n = t.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return None;
    }
    let v: u64 = t[..n].parse().unwrap_or(u64::MAX);
    let v = if neg {
        (v as u32).wrapping_neg()
    } else {
        v as u32
    };
    Some((v, &t[n..]))
}

impl Version {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Version {
        Version {
            major,
            minor,
            patch,
            valid: true,
        }
    }

    pub fn parse(s: &str) -> Version {
        let parsed = (|| {
            let (major, rest) = leading_u32(s)?;
            let rest = rest.strip_prefix('.')?;
            let (minor, rest) = leading_u32(rest)?;
            let rest = rest.strip_prefix('.')?;
            let (patch, _) = leading_u32(rest)?;
            Some(Version::new(major, minor, patch))
        })();
        parsed.unwrap_or(Version {
            major: 0,
            minor: 0,
            patch: 0,
            valid: false,
        })
    }

    pub fn is_valid(&self) -> bool {
        self.valid
    }

    /// Same major and at least `required`.
    pub fn compatible_with(&self, required: &Version) -> bool {
        self.valid && required.valid && self.major == required.major && self >= required
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, o: &Version) -> Ordering {
        (self.major, self.minor, self.patch).cmp(&(o.major, o.minor, o.patch))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}
