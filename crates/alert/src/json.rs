//! JSON text exactly as nlohmann::json's `dump()` writes it (what Falco's
//! alerts are made with): no spaces, UTF-8 kept as is, control characters as
//! `\u00xx`, doubles in nlohmann's shortest-round-trip layout.

use std::fmt::Write;

use crate::FieldValue;

/// Appends `s` as a JSON string literal.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    push_escaped(out, s);
    out.push('"');
}

/// Appends `s` escaped for the inside of a JSON string literal.
pub fn push_escaped(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{:04x}", b);
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

/// Appends an integer without the formatting machinery.
pub fn write_u64(out: &mut String, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or("0"));
}

/// Appends a double the way nlohmann::json prints it: shortest digits that
/// round-trip, `.0` on integral values, exponent form outside 1e-4..1e15
/// (`1e+20`, `1e-05`); NaN and infinities become `null`.
pub fn write_f64(out: &mut String, v: f64) {
    if !v.is_finite() {
        out.push_str("null");
        return;
    }
    if v == 0.0 {
        out.push_str(if v.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "d.ddde[-]x".
    let sci = format!("{:e}", v.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i32;
    // value = 0.digits * 10^n
    let n = exp + 1;
    if v.is_sign_negative() {
        out.push('-');
    }
    if k <= n && n <= 15 {
        out.push_str(&digits);
        for _ in 0..(n - k) {
            out.push('0');
        }
        out.push_str(".0");
    } else if 0 < n && n <= 15 {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if -4 < n && n <= 0 {
        out.push_str("0.");
        for _ in 0..(-n) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let e = n - 1;
        let _ = write!(out, "e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    }
}

/// Appends a field value as JSON.
pub fn write_value(out: &mut String, v: &FieldValue) {
    match v {
        FieldValue::Null => out.push_str("null"),
        FieldValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        FieldValue::I64(i) => {
            if *i < 0 {
                out.push('-');
            }
            write_u64(out, i.unsigned_abs());
        }
        FieldValue::U64(u) => write_u64(out, *u),
        FieldValue::F64(f) => write_f64(out, *f),
        FieldValue::Str(s) => write_str(out, s),
        FieldValue::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: f64) -> String {
        let mut s = String::new();
        write_f64(&mut s, v);
        s
    }

    #[test]
    fn doubles_match_nlohmann() {
        assert_eq!(f(1.0), "1.0");
        assert_eq!(f(1.5), "1.5");
        assert_eq!(f(-2.25), "-2.25");
        assert_eq!(f(0.1), "0.1");
        assert_eq!(f(0.0001), "0.0001");
        assert_eq!(f(0.00001), "1e-05");
        assert_eq!(f(1e14), "100000000000000.0");
        assert_eq!(f(1e15), "1e+15");
        assert_eq!(f(1e16), "1e+16");
        assert_eq!(f(1.25e20), "1.25e+20");
        assert_eq!(f(123456.789), "123456.789");
        assert_eq!(f(f64::NAN), "null");
    }

    #[test]
    fn strings_escape_like_nlohmann() {
        let mut s = String::new();
        write_str(&mut s, "a\"b\\c\n\t\u{1}/é\u{7f}");
        let mut n = String::new();
        write_value(&mut n, &FieldValue::I64(i64::MIN));
        write_value(&mut n, &FieldValue::U64(0));
        write_value(&mut n, &FieldValue::U64(u64::MAX));
        assert_eq!(n, "-9223372036854775808018446744073709551615");
        assert_eq!(s, "\"a\\\"b\\\\c\\n\\t\\u0001/é\u{7f}\"");
    }
}
