//! Alerts: what a rule match becomes, and its Falco text and JSON forms.
//! Stage: **alert**. The engine builds [`Alert`]s; outputs only format and
//! deliver them.
//!
//! [`AlertFormat`] renders an alert exactly as Falco 0.44 prints it: the text
//! line `HH:MM:SS.nnnnnnnnn: Priority output`, or the JSON document with
//! nlohmann's sorted keys (`hostname`, `message`, `output`, `output_fields`,
//! `priority`, `rule`, `source`, `tags`, `time`).
//!
//! ```
//! use peregrine_alert::{AlertFormat, synthetic::AlertGenerator};
//! let alert = AlertGenerator::new(7).next_alert();
//! let line = AlertFormat::json().format(&alert);
//! assert!(line.starts_with("{\"hostname\":\"test-host\",\"output\":"));
//! assert!(line.ends_with("Z\"}"));
//! ```

mod format;
pub mod json;
pub mod synthetic;
pub mod time;

pub use format::AlertFormat;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// Falco's priorities, most severe first (the numeric order is syslog's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    Emergency = 0,
    Alert = 1,
    Critical = 2,
    Error = 3,
    Warning = 4,
    Notice = 5,
    Informational = 6,
    Debug = 7,
}

impl Priority {
    pub const ALL: [Priority; 8] = [
        Priority::Emergency,
        Priority::Alert,
        Priority::Critical,
        Priority::Error,
        Priority::Warning,
        Priority::Notice,
        Priority::Informational,
        Priority::Debug,
    ];

    /// The spelling Falco prints in alerts (`Warning`, `Informational`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Emergency => "Emergency",
            Priority::Alert => "Alert",
            Priority::Critical => "Critical",
            Priority::Error => "Error",
            Priority::Warning => "Warning",
            Priority::Notice => "Notice",
            Priority::Informational => "Informational",
            Priority::Debug => "Debug",
        }
    }

    /// Syslog severity (0 = emerg … 7 = debug).
    pub fn syslog_severity(self) -> u8 {
        self as u8
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPriority(pub String);

impl fmt::Display for UnknownPriority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown priority '{}'", self.0)
    }
}

impl std::error::Error for UnknownPriority {}

impl FromStr for Priority {
    type Err = UnknownPriority;
    /// Every spelling Falco accepts, in any case (`info`, `INFORMATIONAL`, …).
    fn from_str(s: &str) -> Result<Priority, UnknownPriority> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "emergency" => Priority::Emergency,
            "alert" => Priority::Alert,
            "critical" => Priority::Critical,
            "error" => Priority::Error,
            "warning" => Priority::Warning,
            "notice" => Priority::Notice,
            "informational" | "info" => Priority::Informational,
            "debug" => Priority::Debug,
            _ => return Err(UnknownPriority(s.to_string())),
        })
    }
}

/// A typed value of an output field, as Falco puts it in `output_fields`.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// The field had no value (`<NA>` in text, `null` in JSON).
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(String),
    List(Vec<FieldValue>),
}

/// One rule match, ready for the outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Event time, ns since the epoch.
    pub time_ns: u64,
    pub rule: Arc<str>,
    pub priority: Priority,
    pub source: Arc<str>,
    pub tags: Arc<[String]>,
    /// The rendered output template.
    pub output: String,
    /// Fields of the template (and extra fields), in Falco's order.
    pub output_fields: Vec<(String, FieldValue)>,
    pub hostname: Arc<str>,
}

/// A message Peregrine itself raises (metrics snapshots, drop notices):
/// Falco's `handle_msg`, rendered with `source: internal` and no tags.
#[derive(Debug, Clone, PartialEq)]
pub struct InternalAlert {
    pub time_ns: u64,
    pub rule: String,
    pub priority: Priority,
    pub output: String,
    pub output_fields: Vec<(String, FieldValue)>,
    pub hostname: Arc<str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_parse_in_all_spellings() {
        assert_eq!("INFO".parse::<Priority>(), Ok(Priority::Informational));
        assert_eq!("warning".parse::<Priority>(), Ok(Priority::Warning));
        assert!("loud".parse::<Priority>().is_err());
        assert!(Priority::Critical < Priority::Warning);
        assert_eq!(Priority::Debug.syslog_severity(), 7);
    }
}
