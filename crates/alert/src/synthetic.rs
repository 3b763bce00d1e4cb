//! A deterministic stream of realistic alerts for tests and benchmarks of
//! the outputs (the engine produces the real ones). Strings include quotes,
//! backslashes, control characters and non-ASCII text, so every output's
//! escaping is exercised.

use std::sync::Arc;

use crate::{Alert, FieldValue, Priority};

const RULES: [(&str, Priority, &[&str]); 5] = [
    (
        "Terminal shell in container",
        Priority::Notice,
        &[
            "container",
            "shell",
            "mitre_execution",
            "T1059",
            "maturity_stable",
        ],
    ),
    (
        "Read sensitive file untrusted",
        Priority::Warning,
        &["filesystem", "mitre_credential_access", "T1555", "host"],
    ),
    ("Write below etc", Priority::Error, &["filesystem", "host"]),
    ("Outbound \"quoted\" rule\\name", Priority::Critical, &[]),
    ("Debug rule ünïcode", Priority::Debug, &["z_tag", "a_tag"]),
];

const NAMES: [&str; 6] = [
    "bash",
    "cat",
    "weird\"name",
    "tab\there",
    "nl\nline",
    "日本語",
];

/// Yields alerts forever; same seed, same stream.
pub struct AlertGenerator {
    state: u64,
    time_ns: u64,
    hostname: Arc<str>,
    rules: Vec<(Arc<str>, Priority, Arc<[String]>)>,
    source: Arc<str>,
}

impl AlertGenerator {
    pub fn new(seed: u64) -> AlertGenerator {
        AlertGenerator {
            state: seed | 1,
            time_ns: 1_700_000_000_123_456_789,
            hostname: Arc::from("test-host"),
            rules: RULES
                .iter()
                .map(|(n, p, t)| {
                    let tags: Vec<String> = t.iter().map(|s| s.to_string()).collect();
                    (Arc::from(*n), *p, Arc::from(tags))
                })
                .collect(),
            source: Arc::from("syscall"),
        }
    }

    fn next_u64(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Only alerts of this rule (index into the built-in rule list, mod 5).
    pub fn alert_for_rule(&mut self, rule_index: usize) -> Alert {
        let mut a = self.next_alert();
        let (rule, prio, tags) = &self.rules[rule_index % self.rules.len()];
        a.rule = rule.clone();
        a.priority = *prio;
        a.tags = tags.clone();
        a
    }

    pub fn next_alert(&mut self) -> Alert {
        let r = self.next_u64();
        self.time_ns += 1_000 + (r % 5_000_000);
        let (rule, priority, tags) = self.rules[(r % self.rules.len() as u64) as usize].clone();
        let name = NAMES[((r >> 8) % NAMES.len() as u64) as usize];
        let pid = (r >> 16) % 100_000;
        let fd = format!("/etc/shadow-{}", (r >> 24) % 1000);
        let output = format!(
            "Sensitive file opened for reading (file={fd} process={name} pid={pid} user=root container_id=host)"
        );
        let output_fields = vec![
            ("proc.name".to_string(), FieldValue::Str(name.to_string())),
            ("fd.name".to_string(), FieldValue::Str(fd)),
            ("proc.pid".to_string(), FieldValue::I64(pid as i64)),
            ("user.name".to_string(), FieldValue::Str("root".into())),
            ("container.id".to_string(), FieldValue::Str("host".into())),
            (
                "proc.cmdline".to_string(),
                if r & 1 == 0 {
                    FieldValue::Null
                } else {
                    FieldValue::Str(format!("{name} -c 'x=\\\"1\\\"'"))
                },
            ),
            ("evt.num".to_string(), FieldValue::U64(r >> 40)),
        ];
        Alert {
            time_ns: self.time_ns,
            rule,
            priority,
            source: self.source.clone(),
            tags,
            output,
            output_fields,
            hostname: self.hostname.clone(),
        }
    }
}

impl Iterator for AlertGenerator {
    type Item = Alert;
    fn next(&mut self) -> Option<Alert> {
        Some(self.next_alert())
    }
}
