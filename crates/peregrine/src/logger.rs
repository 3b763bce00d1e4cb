//! Falco's logger: messages at or above `log_level` go to stderr
//! (`log_stderr`) with a time prefix, and to syslog (`log_syslog`).
//!
//! The prefix is Falco's: local time as `Sun Nov 29 04:10:00 2026`, or with
//! `time_format_iso_8601` UTC as `2026-11-29T04:10:00+0000`. Until
//! [`configure`] runs, messages at `info` and above go to stderr only.

use std::ffi::CString;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

/// Syslog's severities, as Falco's `log_level` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Emergency = 0,
    Alert = 1,
    Critical = 2,
    Error = 3,
    Warning = 4,
    Notice = 5,
    Info = 6,
    Debug = 7,
}

impl Level {
    /// A `log_level` value; `None` for an unknown name.
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s {
            "emergency" => Level::Emergency,
            "alert" => Level::Alert,
            "critical" => Level::Critical,
            "error" => Level::Error,
            "warning" => Level::Warning,
            "notice" => Level::Notice,
            "info" => Level::Info,
            "debug" => Level::Debug,
            _ => return None,
        })
    }
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);
static TO_STDERR: AtomicBool = AtomicBool::new(true);
static TO_SYSLOG: AtomicBool = AtomicBool::new(false);
static ISO_8601: AtomicBool = AtomicBool::new(false);

/// Applies the config's `log_stderr`, `log_syslog`, `log_level` (an
/// unknown level keeps `info`; the config check has reported it) and
/// `time_format_iso_8601`.
pub fn configure(stderr: bool, syslog: bool, level: &str, iso_8601: bool) {
    TO_STDERR.store(stderr, Ordering::Relaxed);
    TO_SYSLOG.store(syslog, Ordering::Relaxed);
    LEVEL.store(
        Level::parse(level).unwrap_or(Level::Info) as u8,
        Ordering::Relaxed,
    );
    ISO_8601.store(iso_8601, Ordering::Relaxed);
}

/// Whether a message at `level` would be written anywhere.
pub fn enabled(level: Level) -> bool {
    (level as u8) <= LEVEL.load(Ordering::Relaxed)
        && (TO_STDERR.load(Ordering::Relaxed) || TO_SYSLOG.load(Ordering::Relaxed))
}

pub fn log(level: Level, msg: &str) {
    if !enabled(level) {
        return;
    }
    let msg = msg.strip_suffix('\n').unwrap_or(msg);
    if TO_SYSLOG.load(Ordering::Relaxed) {
        if let Ok(c) = CString::new(msg.replace('\0', " ")) {
            // SAFETY: both pointers are valid NUL-terminated strings; the
            // format consumes exactly one string argument.
            unsafe { libc::syslog(level as libc::c_int, c"%s".as_ptr(), c.as_ptr()) };
        }
    }
    if TO_STDERR.load(Ordering::Relaxed) {
        let line = format!("{}: {msg}\n", prefix(ISO_8601.load(Ordering::Relaxed)));
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

pub fn info(msg: &str) {
    log(Level::Info, msg)
}

pub fn warning(msg: &str) {
    log(Level::Warning, msg)
}

pub fn debug(msg: &str) {
    log(Level::Debug, msg)
}

/// The current time as Falco prints it before a log message.
pub fn prefix(iso_8601: bool) -> String {
    // SAFETY: `time`, `gmtime_r`, `localtime_r` and `strftime` only write
    // into the locals passed; `strftime` is bounded by the buffer length
    // and returns the bytes written.
    unsafe {
        let now = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        let (ok, fmt) = if iso_8601 {
            (!libc::gmtime_r(&now, &mut tm).is_null(), c"%FT%T%z")
        } else {
            (
                !libc::localtime_r(&now, &mut tm).is_null(),
                c"%a %b %d %H:%M:%S %Y",
            )
        };
        if !ok {
            return String::new();
        }
        let mut buf = [0u8; 64];
        let n = libc::strftime(buf.as_mut_ptr().cast(), buf.len(), fmt.as_ptr(), &tm);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_have_falcos_shapes() {
        let iso = prefix(true);
        let b = iso.as_bytes();
        assert_eq!(iso.len(), 24, "{iso}");
        assert!(iso.ends_with("+0000"), "{iso}");
        assert_eq!(
            (b[4], b[7], b[10], b[13], b[16]),
            (b'-', b'-', b'T', b':', b':')
        );
        let classic = prefix(false);
        // "Sun Nov 29 04:10:00 2026"
        assert_eq!(classic.len(), 24, "{classic}");
        assert_eq!(&classic[13..14], ":");
    }

    #[test]
    fn levels_parse_and_order() {
        assert_eq!(Level::parse("debug"), Some(Level::Debug));
        assert_eq!(Level::parse("loud"), None);
        assert!(Level::Critical < Level::Info);
    }
}
