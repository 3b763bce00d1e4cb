//! Falco's `syscall_event_drops`: once a second, compare the kernel's event
//! and drop counters with the previous reading; when the share of dropped
//! events exceeds the threshold, act (`ignore`, `log`, `alert`, `exit`) as
//! far as a token bucket (`rate` per second, `max_burst`) allows. Pure logic:
//! the caller supplies the time and the counters and carries out the actions.

/// One action of `syscall_event_drops.actions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropAction {
    Ignore,
    Log,
    Alert,
    Exit,
}

impl std::str::FromStr for DropAction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "ignore" => DropAction::Ignore,
            "log" => DropAction::Log,
            "alert" => DropAction::Alert,
            "exit" => DropAction::Exit,
            other => {
                return Err(format!(
                    "unknown syscall_event_drops action '{other}' (expected ignore, log, alert or exit)"
                ))
            }
        })
    }
}

/// The `syscall_event_drops` configuration, with Falco's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct DropPolicy {
    pub threshold: f64,
    pub actions: Vec<DropAction>,
    pub rate: f64,
    pub max_burst: f64,
    pub simulate_drops: bool,
}

impl Default for DropPolicy {
    fn default() -> Self {
        DropPolicy {
            threshold: 0.1,
            actions: vec![DropAction::Log, DropAction::Alert],
            rate: 0.03333,
            max_burst: 1.0,
            simulate_drops: false,
        }
    }
}

/// Counters as the kernel keeps them (totals since start).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DropCounters {
    /// Events the probe saw, dropped ones included.
    pub n_evts: u64,
    /// Dropped because the ring buffer was full.
    pub n_drops_buffer: u64,
    /// Dropped for any other reason (event too large, ...).
    pub n_drops_other: u64,
}

impl DropCounters {
    pub fn n_drops(&self) -> u64 {
        self.n_drops_buffer + self.n_drops_other
    }
}

/// What to do about drops in the last interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DropReport {
    /// Counters for the interval only.
    pub delta: DropCounters,
    pub log: bool,
    pub alert: bool,
    pub exit: bool,
}

impl DropReport {
    /// Falco's message for the drop alert and log line.
    pub fn message(&self) -> String {
        format!(
            "Falco internal: syscall event drop. {} system calls dropped in last second.",
            self.delta.n_drops()
        )
    }
}

const ONE_SECOND_NS: u64 = 1_000_000_000;

/// A token bucket: `rate` tokens per second up to `max_tokens`.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    max_tokens: f64,
    tokens: f64,
    last_ns: u64,
}

impl TokenBucket {
    pub fn new(rate: f64, max_tokens: f64, now_ns: u64) -> TokenBucket {
        TokenBucket {
            rate,
            max_tokens,
            tokens: max_tokens,
            last_ns: now_ns,
        }
    }

    /// Takes `n` tokens if there are that many.
    pub fn claim(&mut self, n: f64, now_ns: u64) -> bool {
        let elapsed = now_ns.saturating_sub(self.last_ns) as f64 / 1e9;
        self.last_ns = now_ns;
        self.tokens = (self.tokens + self.rate * elapsed).min(self.max_tokens);
        if self.tokens < n {
            return false;
        }
        self.tokens -= n;
        true
    }
}

/// Watches the counters; call [`DropMonitor::check`] with every event's
/// timestamp (or the clock when idle). It reads counters once a second.
#[derive(Debug, Clone)]
pub struct DropMonitor {
    policy: DropPolicy,
    bucket: TokenBucket,
    last: DropCounters,
    next_check_ns: u64,
    /// Intervals with drops above the threshold.
    pub drop_intervals: u64,
    /// Intervals in which actions were taken.
    pub actions_taken: u64,
}

impl DropMonitor {
    pub fn new(mut policy: DropPolicy, now_ns: u64, counters: DropCounters) -> DropMonitor {
        if policy.simulate_drops {
            policy.threshold = 0.0;
        }
        DropMonitor {
            bucket: TokenBucket::new(policy.rate, policy.max_burst, now_ns),
            policy,
            last: counters,
            next_check_ns: now_ns + ONE_SECOND_NS,
            drop_intervals: 0,
            actions_taken: 0,
        }
    }

    /// Whether a check is due (cheap; call before reading counters).
    #[inline]
    pub fn due(&self, now_ns: u64) -> bool {
        now_ns > self.next_check_ns
    }

    /// Checks the counters if a second has passed. `read` is called only then.
    pub fn check(
        &mut self,
        now_ns: u64,
        read: impl FnOnce() -> DropCounters,
    ) -> Option<DropReport> {
        if !self.due(now_ns) {
            return None;
        }
        self.next_check_ns = now_ns + ONE_SECOND_NS;
        let now = read();
        let mut delta = DropCounters {
            n_evts: now.n_evts.saturating_sub(self.last.n_evts),
            n_drops_buffer: now.n_drops_buffer.saturating_sub(self.last.n_drops_buffer),
            n_drops_other: now.n_drops_other.saturating_sub(self.last.n_drops_other),
        };
        self.last = now;
        if self.policy.simulate_drops {
            delta.n_drops_other += 1;
        }
        if delta.n_drops() == 0 {
            return None;
        }
        // n_evts counts the dropped events too.
        let ratio = delta.n_drops() as f64 / delta.n_evts.max(1) as f64;
        if ratio <= self.policy.threshold {
            return None;
        }
        self.drop_intervals += 1;
        if !self.bucket.claim(1.0, now_ns) {
            return None;
        }
        self.actions_taken += 1;
        let has = |a| self.policy.actions.contains(&a);
        Some(DropReport {
            delta,
            log: has(DropAction::Log),
            alert: has(DropAction::Alert),
            exit: has(DropAction::Exit),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(n_evts: u64, drops: u64) -> DropCounters {
        DropCounters {
            n_evts,
            n_drops_buffer: drops,
            n_drops_other: 0,
        }
    }

    const S: u64 = ONE_SECOND_NS;

    #[test]
    fn checks_once_a_second_and_honours_threshold() {
        let mut m = DropMonitor::new(DropPolicy::default(), 0, c(0, 0));
        let mut reads = 0;
        assert!(m
            .check(S / 2, || {
                reads += 1;
                c(100, 50)
            })
            .is_none());
        assert_eq!(reads, 0, "no read before a second has passed");
        // 5% drops: under the 10% threshold.
        assert!(m.check(S + 1, || c(100, 5)).is_none());
        // next interval: 60 of 100 more dropped
        let r = m
            .check(2 * S + 2, || c(200, 65))
            .expect("drops over threshold");
        assert_eq!(r.delta.n_evts, 100);
        assert_eq!(r.delta.n_drops(), 60);
        assert!(r.log && r.alert && !r.exit);
        assert!(r.message().contains("60 system calls dropped"));
    }

    #[test]
    fn token_bucket_limits_actions() {
        let policy = DropPolicy {
            threshold: 0.0,
            rate: 1.0, // one per second
            max_burst: 1.0,
            actions: vec![DropAction::Exit],
            simulate_drops: false,
        };
        let mut m = DropMonitor::new(policy, 0, c(0, 0));
        let mut total = c(0, 0);
        let mut fired = 0;
        // Drops every 1.01 s for 10 checks: the bucket refills at 1/s.
        for i in 1..=10u64 {
            total.n_evts += 10;
            total.n_drops_buffer += 1;
            let now = i * (S + S / 100);
            if let Some(r) = m.check(now, || total) {
                assert!(r.exit && !r.log);
                fired += 1;
            }
        }
        assert_eq!(fired, 10);
        // Slow bucket: one token per 30 s.
        let mut m = DropMonitor::new(
            DropPolicy {
                threshold: 0.0,
                ..Default::default()
            },
            0,
            c(0, 0),
        );
        let mut fired = 0;
        let mut total = c(0, 0);
        for i in 1..=10u64 {
            total.n_evts += 10;
            total.n_drops_buffer += 1;
            if m.check(i * (S + 1), || total).is_some() {
                fired += 1;
            }
        }
        assert_eq!(
            fired, 1,
            "max_burst 1 and rate 1/30s allow one action in 10 s"
        );
        assert_eq!(m.drop_intervals, 10);
    }

    #[test]
    fn simulate_drops_always_reports() {
        let policy = DropPolicy {
            simulate_drops: true,
            rate: 10.0,
            max_burst: 10.0,
            ..Default::default()
        };
        let mut m = DropMonitor::new(policy, 0, c(0, 0));
        let r = m.check(S + 1, || c(1000, 0)).expect("simulated");
        assert_eq!(r.delta.n_drops(), 1);
    }

    #[test]
    fn parses_actions() {
        assert_eq!("alert".parse::<DropAction>(), Ok(DropAction::Alert));
        assert!("explode".parse::<DropAction>().is_err());
    }
}
