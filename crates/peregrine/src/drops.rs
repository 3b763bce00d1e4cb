//! Falco's syscall event drop monitor (`syscall_event_drops`): once per
//! second of event time it compares the source's drop counters with the
//! previous check; when the share of dropped events exceeds `threshold`
//! (or always, with `simulate_drops`) it takes the configured actions,
//! rate limited by a token bucket (`rate`, `max_burst`).
//!
//! ```
//! use peregrine::drops::{DropAction, DropMonitor, DropSettings, DropStats};
//! let settings = DropSettings {
//!     actions: vec![DropAction::Alert],
//!     threshold: 0.1,
//!     rate: 1.0,
//!     max_burst: 10,
//!     simulate: true,
//! };
//! let mut m = DropMonitor::new(settings);
//! let zero = DropStats::default();
//! assert!(m.on_event(1_000_000_000, &zero).is_none()); // first event starts the clock
//! let d = m.on_event(2_000_000_001, &zero).expect("a simulated drop");
//! assert_eq!(d.delta.n_drops, 1);
//! assert_eq!(m.drops_detected, 1);
//! ```

use std::sync::Arc;

use peregrine_alert::{FieldValue, InternalAlert, Priority};

const ONE_SECOND_NS: u64 = 1_000_000_000;

/// The rule name Falco gives drop notices.
pub const DROP_RULE: &str = "Falco internal: syscall event drop";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropAction {
    Ignore,
    Log,
    Alert,
    Exit,
}

impl DropAction {
    pub fn parse(s: &str) -> Option<DropAction> {
        Some(match s {
            "ignore" => DropAction::Ignore,
            "log" => DropAction::Log,
            "alert" => DropAction::Alert,
            "exit" => DropAction::Exit,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DropSettings {
    pub actions: Vec<DropAction>,
    pub threshold: f64,
    pub rate: f64,
    pub max_burst: u64,
    /// Count one drop at every check (testing); the threshold is then 0.
    pub simulate: bool,
}

/// The source's cumulative event and drop counters (libscap's
/// `scap_stats` subset Falco reports). A capture file has none: all zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DropStats {
    pub n_evts: u64,
    pub n_drops: u64,
    pub n_drops_buffer: u64,
    pub n_drops_buffer_clone_fork_exit: u64,
    pub n_drops_buffer_execve_exit: u64,
    pub n_drops_buffer_connect_exit: u64,
    pub n_drops_buffer_open_exit: u64,
    pub n_drops_buffer_dir_file_exit: u64,
    pub n_drops_buffer_other_interest_exit: u64,
    pub n_drops_buffer_close_exit: u64,
    pub n_drops_buffer_proc_exit: u64,
    pub n_drops_scratch_map: u64,
    pub n_drops_pf: u64,
    pub n_drops_bug: u64,
}

impl DropStats {
    fn fields(&self) -> [(&'static str, u64); 14] {
        [
            ("n_evts", self.n_evts),
            ("n_drops", self.n_drops),
            ("n_drops_buffer_total", self.n_drops_buffer),
            (
                "n_drops_buffer_clone_fork_exit",
                self.n_drops_buffer_clone_fork_exit,
            ),
            (
                "n_drops_buffer_execve_exit",
                self.n_drops_buffer_execve_exit,
            ),
            (
                "n_drops_buffer_connect_exit",
                self.n_drops_buffer_connect_exit,
            ),
            ("n_drops_buffer_open_exit", self.n_drops_buffer_open_exit),
            (
                "n_drops_buffer_dir_file_exit",
                self.n_drops_buffer_dir_file_exit,
            ),
            (
                "n_drops_buffer_other_interest_exit",
                self.n_drops_buffer_other_interest_exit,
            ),
            ("n_drops_buffer_close_exit", self.n_drops_buffer_close_exit),
            ("n_drops_buffer_proc_exit", self.n_drops_buffer_proc_exit),
            ("n_drops_scratch_map", self.n_drops_scratch_map),
            ("n_drops_page_faults", self.n_drops_pf),
            ("n_drops_bug", self.n_drops_bug),
        ]
    }

    fn since(&self, last: &DropStats) -> DropStats {
        let d = |a: u64, b: u64| a.wrapping_sub(b);
        DropStats {
            n_evts: d(self.n_evts, last.n_evts),
            n_drops: d(self.n_drops, last.n_drops),
            n_drops_buffer: d(self.n_drops_buffer, last.n_drops_buffer),
            n_drops_buffer_clone_fork_exit: d(
                self.n_drops_buffer_clone_fork_exit,
                last.n_drops_buffer_clone_fork_exit,
            ),
            n_drops_buffer_execve_exit: d(
                self.n_drops_buffer_execve_exit,
                last.n_drops_buffer_execve_exit,
            ),
            n_drops_buffer_connect_exit: d(
                self.n_drops_buffer_connect_exit,
                last.n_drops_buffer_connect_exit,
            ),
            n_drops_buffer_open_exit: d(
                self.n_drops_buffer_open_exit,
                last.n_drops_buffer_open_exit,
            ),
            n_drops_buffer_dir_file_exit: d(
                self.n_drops_buffer_dir_file_exit,
                last.n_drops_buffer_dir_file_exit,
            ),
            n_drops_buffer_other_interest_exit: d(
                self.n_drops_buffer_other_interest_exit,
                last.n_drops_buffer_other_interest_exit,
            ),
            n_drops_buffer_close_exit: d(
                self.n_drops_buffer_close_exit,
                last.n_drops_buffer_close_exit,
            ),
            n_drops_buffer_proc_exit: d(
                self.n_drops_buffer_proc_exit,
                last.n_drops_buffer_proc_exit,
            ),
            n_drops_scratch_map: d(self.n_drops_scratch_map, last.n_drops_scratch_map),
            n_drops_pf: d(self.n_drops_pf, last.n_drops_pf),
            n_drops_bug: d(self.n_drops_bug, last.n_drops_bug),
        }
    }
}

/// Falco's token bucket: starts full, refills `rate` tokens per second of
/// event time up to `max`.
#[derive(Debug, Clone)]
struct TokenBucket {
    rate: f64,
    max: f64,
    tokens: f64,
    last_ns: Option<u64>,
}

impl TokenBucket {
    fn claim(&mut self, now_ns: u64) -> bool {
        if let Some(last) = self.last_ns {
            let gained = self.rate * now_ns.saturating_sub(last) as f64 / ONE_SECOND_NS as f64;
            self.tokens = (self.tokens + gained).min(self.max);
        }
        self.last_ns = Some(now_ns);
        if self.tokens < 1.0 {
            return false;
        }
        self.tokens -= 1.0;
        true
    }
}

/// A drop over the threshold whose actions are due (the bucket allowed it).
#[derive(Debug, Clone, PartialEq)]
pub struct Detected {
    pub ts: u64,
    pub delta: DropStats,
}

impl Detected {
    /// Falco's message: `Falco internal: syscall event drop. N system calls
    /// dropped in last second.`
    pub fn message(&self) -> String {
        format!(
            "{DROP_RULE}. {} system calls dropped in last second.",
            self.delta.n_drops
        )
    }

    /// The `alert` action's message: every counter as a string, as Falco
    /// writes them, and whether the eBPF probe is the source.
    pub fn alert(&self, hostname: Arc<str>, ebpf: bool) -> InternalAlert {
        let mut output_fields: Vec<(String, FieldValue)> = self
            .delta
            .fields()
            .iter()
            .map(|(k, v)| (k.to_string(), FieldValue::Str(v.to_string())))
            .collect();
        output_fields.push((
            "ebpf_enabled".into(),
            FieldValue::Str(u8::from(ebpf).to_string()),
        ));
        InternalAlert {
            time_ns: self.ts,
            rule: DROP_RULE.into(),
            priority: Priority::Debug,
            output: self.message(),
            output_fields,
            hostname,
        }
    }
}

pub struct DropMonitor {
    pub settings: DropSettings,
    threshold: f64,
    next_check_ns: u64,
    last: DropStats,
    bucket: TokenBucket,
    /// Checks that found drops over the threshold.
    pub drops_detected: u64,
    /// Of those, the ones whose actions ran.
    pub actions_taken: u64,
}

impl DropMonitor {
    pub fn new(settings: DropSettings) -> DropMonitor {
        let threshold = if settings.simulate {
            0.0
        } else {
            settings.threshold
        };
        let max = settings.max_burst as f64;
        DropMonitor {
            bucket: TokenBucket {
                rate: settings.rate,
                max,
                tokens: max,
                last_ns: None,
            },
            settings,
            threshold,
            next_check_ns: 0,
            last: DropStats::default(),
            drops_detected: 0,
            actions_taken: 0,
        }
    }

    /// Seen before each event: `Some` when actions are due now.
    pub fn on_event(&mut self, ts: u64, stats: &DropStats) -> Option<Detected> {
        if self.next_check_ns == 0 {
            self.next_check_ns = ts.saturating_add(ONE_SECOND_NS);
        }
        if ts <= self.next_check_ns {
            return None;
        }
        self.next_check_ns = ts.saturating_add(ONE_SECOND_NS);
        let mut delta = stats.since(&self.last);
        self.last = *stats;
        if self.settings.simulate {
            crate::logger::info("Simulating syscall event drop");
            delta.n_drops += 1;
        }
        if delta.n_drops == 0 {
            return None;
        }
        // n_evts may be 0 (a capture has no counters): the ratio is then
        // infinite, as in Falco.
        let ratio = delta.n_drops as f64 / delta.n_evts as f64;
        if ratio <= self.threshold {
            return None;
        }
        self.drops_detected += 1;
        if !self.bucket.claim(ts) {
            crate::logger::debug("Syscall event drop but token bucket depleted, skipping actions");
            return None;
        }
        self.actions_taken += 1;
        Some(Detected { ts, delta })
    }

    /// Falco's end-of-run report (stderr).
    pub fn stats_text(&self) -> String {
        format!(
            "Syscall event drop monitoring:\n   - event drop detected: {} occurrences\n   - num times actions taken: {}\n",
            self.drops_detected, self.actions_taken
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(simulate: bool, max_burst: u64) -> DropSettings {
        DropSettings {
            actions: vec![DropAction::Log],
            threshold: 0.1,
            rate: 0.5,
            max_burst,
            simulate,
        }
    }

    #[test]
    fn checks_once_per_second_of_event_time() {
        let mut m = DropMonitor::new(settings(true, 100));
        let z = DropStats::default();
        let mut due = 0;
        // 10.5 s of events every 100 ms: the first starts the clock, then a
        // check fires at the first event past each deadline.
        for i in 0..=105u64 {
            due += usize::from(m.on_event(1_000 + i * 100_000_000, &z).is_some());
        }
        assert_eq!(due, 9);
        assert_eq!((m.drops_detected, m.actions_taken), (9, 9));
        assert!(m
            .stats_text()
            .contains("event drop detected: 9 occurrences"));
    }

    #[test]
    fn threshold_applies_to_real_counters() {
        let mut m = DropMonitor::new(settings(false, 100));
        let s = |evts, drops| DropStats {
            n_evts: evts,
            n_drops: drops,
            ..DropStats::default()
        };
        assert!(m.on_event(1, &s(0, 0)).is_none());
        // 5 of 100 dropped: under 10%.
        assert!(m.on_event(ONE_SECOND_NS + 2, &s(100, 5)).is_none());
        // 20 more of 100: over.
        let d = m.on_event(2 * ONE_SECOND_NS + 3, &s(200, 25)).unwrap();
        assert_eq!((d.delta.n_evts, d.delta.n_drops), (100, 20));
        assert_eq!(
            d.message(),
            "Falco internal: syscall event drop. 20 system calls dropped in last second."
        );
    }

    #[test]
    fn bucket_limits_actions_not_detections() {
        let mut m = DropMonitor::new(settings(true, 2));
        let z = DropStats::default();
        m.on_event(1, &z);
        for i in 1..=4 {
            m.on_event(i * (ONE_SECOND_NS + 1) + 1, &z);
        }
        // Starts with 2 tokens, regains 0.5 per second: 4 checks, 3 actions.
        assert_eq!((m.drops_detected, m.actions_taken), (4, 3));
    }

    #[test]
    fn alert_carries_counters_as_strings() {
        let d = Detected {
            ts: 5,
            delta: DropStats {
                n_drops: 3,
                ..DropStats::default()
            },
        };
        let a = d.alert("h".into(), false);
        assert_eq!(a.priority, Priority::Debug);
        assert_eq!(a.rule, DROP_RULE);
        assert!(a
            .output_fields
            .contains(&("n_drops".into(), FieldValue::Str("3".into()))));
        assert!(a
            .output_fields
            .contains(&("ebpf_enabled".into(), FieldValue::Str("0".into()))));
        assert_eq!(a.output_fields.len(), 15);
    }
}
