//! `syslog_output`: alerts to the local syslog socket, as glibc's
//! `syslog(3)` sends them (Falco calls `syslog(priority, "%s", msg)`
//! without `openlog`): `<PRI>Mmm dd HH:MM:SS ident: line`, PRI = facility
//! * 8 + the alert priority as severity (Emergency 0 … Debug 7).
//!
//! A missing socket at start is not an error (Falco's default config turns
//! syslog on, and most containers have no `/dev/log`): sends are retried
//! with a reconnect, failures counted and logged.

use std::os::unix::net::UnixDatagram;
use std::sync::Arc;

use crate::delivery::{Ctx, Envelope, Sink};
use crate::OutputsError;

/// `syslog_output` in falco.yaml, plus Peregrine's `socket_path`,
/// `facility` and `ident`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogConfig {
    pub enabled: bool,
    pub socket_path: String,
    pub facility: String,
    /// Tag before the message; empty = the program's name (glibc's default).
    pub ident: String,
}

impl Default for SyslogConfig {
    fn default() -> SyslogConfig {
        SyslogConfig {
            enabled: true,
            socket_path: "/dev/log".into(),
            facility: "user".into(),
            ident: String::new(),
        }
    }
}

const FACILITIES: [(&str, u8); 20] = [
    ("kern", 0),
    ("user", 1),
    ("mail", 2),
    ("daemon", 3),
    ("auth", 4),
    ("syslog", 5),
    ("lpr", 6),
    ("news", 7),
    ("uucp", 8),
    ("cron", 9),
    ("authpriv", 10),
    ("ftp", 11),
    ("local0", 16),
    ("local1", 17),
    ("local2", 18),
    ("local3", 19),
    ("local4", 20),
    ("local5", 21),
    ("local6", 22),
    ("local7", 23),
];

/// Facility code of a name (`user`, `local0`, … or `LOG_USER` style).
pub fn facility_code(name: &str) -> Option<u8> {
    let n = name.to_ascii_lowercase();
    let n = n.strip_prefix("log_").unwrap_or(&n);
    FACILITIES.iter().find(|(f, _)| *f == n).map(|(_, c)| *c)
}

pub(crate) struct SyslogSink {
    path: String,
    facility: u8,
    ident: String,
    sock: Option<UnixDatagram>,
    msg: String,
}

fn program_name() -> String {
    std::env::args_os()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "peregrine".into())
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Mmm dd HH:MM:SS` in local time (`%h %e %T`).
fn timestamp(out: &mut String) {
    use std::fmt::Write;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as libc::time_t;
    // SAFETY: localtime_r writes only into `tm`.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&now, &mut tm).is_null() {
            return;
        }
        tm
    };
    let _ = write!(
        out,
        "{} {:>2} {:02}:{:02}:{:02} ",
        MONTHS[tm.tm_mon.clamp(0, 11) as usize],
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    );
}

impl SyslogSink {
    pub fn start(cfg: &SyslogConfig) -> Result<SyslogSink, OutputsError> {
        let facility = facility_code(&cfg.facility).ok_or_else(|| {
            OutputsError::Config(format!(
                "syslog_output.facility: unknown facility '{}'",
                cfg.facility
            ))
        })?;
        let mut sink = SyslogSink {
            path: cfg.socket_path.clone(),
            facility,
            ident: if cfg.ident.is_empty() {
                program_name()
            } else {
                cfg.ident.clone()
            },
            sock: None,
            msg: String::with_capacity(4096),
        };
        sink.sock = sink.connect().ok();
        Ok(sink)
    }

    fn connect(&self) -> std::io::Result<UnixDatagram> {
        let s = UnixDatagram::unbound()?;
        s.connect(&self.path)?;
        Ok(s)
    }

    fn send(&mut self) -> std::io::Result<()> {
        for attempt in 0..2 {
            if self.sock.is_none() {
                self.sock = Some(self.connect()?);
            }
            if let Some(s) = &self.sock {
                match s.send(self.msg.as_bytes()) {
                    Ok(_) => return Ok(()),
                    Err(e) if attempt == 1 => return Err(e),
                    // The daemon restarted: reconnect once.
                    Err(_) => self.sock = None,
                }
            }
        }
        Ok(())
    }
}

impl Sink for SyslogSink {
    fn deliver(&mut self, batch: &[Arc<Envelope>], ctx: &Ctx) {
        for env in batch {
            self.msg.clear();
            let pri = self.facility as u32 * 8 + env.priority().syslog_severity() as u32;
            self.msg.push('<');
            self.msg.push_str(&pri.to_string());
            self.msg.push('>');
            timestamp(&mut self.msg);
            self.msg.push_str(&self.ident);
            self.msg.push_str(": ");
            self.msg.push_str(env.line(ctx.format));
            match self.send() {
                Ok(()) => ctx.stats.record_delivered(env),
                Err(e) => {
                    ctx.stats.failed.inc();
                    ctx.error(&format!("cannot send to {}: {e}", self.path));
                }
            }
        }
    }
}
