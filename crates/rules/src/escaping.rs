//! String escaping as libsinsp's filter language does it: quoted values in a
//! condition are unescaped when parsed, and values are re-escaped (and
//! quoted when needed) when an AST is printed back.

use std::fmt;

/// A quoted string whose escapes are not valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscapeError(pub String);

impl fmt::Display for EscapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EscapeError {}

/// Whether `\xHH` escapes are decoded. libs 0.25.4 (the one Falco 0.44.1 is
/// built on) refuses them; newer libs decode them. Peregrine follows Falco
/// 0.44.1 in conditions (values stay UTF-8), the byte-level functions take
/// the choice as a parameter.
pub const CONDITION_HEX_ESCAPES: bool = false;

/// Escapes `s` for printing in a condition: `\b \f \n \r \t \\ \"` become
/// escape sequences, and the result is double-quoted when it contains any of
/// those or a space, `=`, `'` or NUL.
pub fn escape_bytes(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 2);
    let mut quote = false;
    for &c in s {
        match c {
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b' ' | b'=' | b'\'' | 0 => out.push(c),
            _ => {
                out.push(c);
                continue;
            }
        }
        quote = true;
    }
    if quote {
        out.insert(0, b'"');
        out.push(b'"');
    }
    out
}

/// [`escape_bytes`] for text (escaping only ever adds ASCII).
pub fn escape_str(s: &str) -> String {
    if !s.bytes().any(needs_escape) {
        return s.to_string();
    }
    String::from_utf8(escape_bytes(s.as_bytes())).unwrap_or_default()
}

fn needs_escape(c: u8) -> bool {
    matches!(
        c,
        0x08 | 0x0c | b'\n' | b'\r' | b'\t' | b'\\' | b'"' | b' ' | b'=' | b'\'' | 0
    )
}

/// Unescapes a quoted token: `quoted[0]` is the opening quote and the last
/// byte the closing one (neither is looked at beyond that). Escapes: `\b \f
/// \n \r \t \\ \/`, `\ ` (a backslash, kept for old rules), the token's own
/// quote, and `\xHH` when `hex` is set.
pub fn unescape_bytes(quoted: &[u8], hex: bool) -> Result<Vec<u8>, EscapeError> {
    let mut out = Vec::with_capacity(quoted.len());
    if quoted.len() < 2 {
        return Ok(out);
    }
    let end = quoted.len() - 1;
    let quote = quoted[0];
    let mut escaped = false;
    let mut i = 1;
    while i < end {
        let c = quoted[i];
        if !escaped {
            if c == b'\\' {
                escaped = true;
            } else {
                out.push(c);
            }
            i += 1;
            continue;
        }
        match c {
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b' ' | b'\\' => out.push(b'\\'),
            b'/' => out.push(b'/'),
            b'"' | b'\'' => {
                if c != quote {
                    return Err(EscapeError(if c == b'"' {
                        "invalid \\\" escape in '-quoted string".into()
                    } else {
                        "invalid \\' escape in \"-quoted string".into()
                    }));
                }
                out.push(c);
            }
            b'x' if hex => {
                if i + 2 >= end {
                    return Err(EscapeError("truncated hex char escape sequence".into()));
                }
                let digits = &quoted[i + 1..i + 3];
                let parsed = std::str::from_utf8(digits)
                    .ok()
                    .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|d| u8::from_str_radix(d, 16).ok());
                match parsed {
                    Some(v) => out.push(v),
                    None => {
                        return Err(EscapeError(format!(
                            "invalid hex char escape sequence: {}",
                            String::from_utf8_lossy(digits)
                        )))
                    }
                }
                i += 2;
            }
            other => {
                return Err(EscapeError(format!(
                    "unsupported string escape sequence: \\{}",
                    char::from(other)
                )))
            }
        }
        escaped = false;
        i += 1;
    }
    Ok(out)
}

/// Unescapes a quoted token of a condition (no `\x`, see
/// [`CONDITION_HEX_ESCAPES`]); the result is text since only ASCII is added.
pub fn unescape_str(quoted: &str) -> Result<String, EscapeError> {
    let bytes = unescape_bytes(quoted.as_bytes(), CONDITION_HEX_ESCAPES)?;
    String::from_utf8(bytes).map_err(|_| EscapeError("invalid UTF-8 in quoted string".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_quotes() {
        assert_eq!(escape_str("some string"), "\"some string\"");
        assert_eq!(escape_str("plain"), "plain");
        assert_eq!(escape_str("a\"b"), "\"a\\\"b\"");
        assert_eq!(unescape_str("'a b'").unwrap(), "a b");
        assert_eq!(unescape_str("\"a\\tb\"").unwrap(), "a\tb");
        assert!(unescape_str("\"\\'\"").is_err());
        assert!(unescape_str("\"\\x41\"").is_err());
        assert_eq!(unescape_bytes(b"\"\\x41\"", true).unwrap(), b"A");
    }
}
