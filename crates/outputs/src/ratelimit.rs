//! Per-rule flood control.
//!
//! Falco 0.44 has none: its `outputs.rate`/`outputs.max_burst` token bucket
//! (one per event source, deprecated in 0.36) was removed in 0.37. Peregrine
//! offers a token bucket per rule (`rule_rate_limit`), off by default so
//! Falco's behaviour is the default: a noisy rule spends its own tokens and
//! cannot starve the others. Time is the alerts' event time, so a replayed
//! capture is limited exactly as it was live. Suppressed alerts are counted
//! per rule (`peregrine_alerts_rate_limited_total{rule}`) and logged at most
//! once per rule every 10 s.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use peregrine_metrics::{names, Counter, Registry};

use crate::log::{LogFn, LogLevel, Throttle};

/// `rule_rate_limit` in peregrine.yaml.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimitConfig {
    pub enabled: bool,
    /// Tokens (alerts) regained per second, per rule.
    pub rate: f64,
    /// Bucket size: alerts a rule may send in a burst.
    pub max_burst: f64,
}

impl Default for RateLimitConfig {
    fn default() -> RateLimitConfig {
        RateLimitConfig {
            enabled: false,
            rate: 10.0,
            max_burst: 100.0,
        }
    }
}

struct Bucket {
    tokens: f64,
    last_ns: u64,
    suppressed: Counter,
    throttle: Throttle,
}

pub(crate) struct RuleRateLimiter {
    cfg: RateLimitConfig,
    buckets: Mutex<HashMap<Arc<str>, Bucket>>,
    registry: Arc<Registry>,
    log: LogFn,
}

impl RuleRateLimiter {
    pub fn new(cfg: RateLimitConfig, registry: Arc<Registry>, log: LogFn) -> RuleRateLimiter {
        RuleRateLimiter {
            cfg,
            buckets: Mutex::new(HashMap::new()),
            registry,
            log,
        }
    }

    /// Whether an alert of `rule` at `time_ns` may go out.
    pub fn admit(&self, rule: &Arc<str>, time_ns: u64) -> bool {
        if !self.cfg.enabled {
            return true;
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let b = buckets.entry(rule.clone()).or_insert_with(|| Bucket {
            tokens: self.cfg.max_burst,
            last_ns: time_ns,
            suppressed: self
                .registry
                .counter(names::ALERTS_RATE_LIMITED, &[("rule", rule)]),
            throttle: Throttle::new(Duration::from_secs(10)),
        });
        let elapsed = time_ns.saturating_sub(b.last_ns) as f64 / 1e9;
        b.tokens = (b.tokens + elapsed * self.cfg.rate).min(self.cfg.max_burst);
        b.last_ns = b.last_ns.max(time_ns);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return true;
        }
        b.suppressed.inc();
        let total = b.suppressed.get();
        let log = &self.log;
        b.throttle.log(|_| {
            log(
                LogLevel::Warning,
                &format!(
                    "rule '{rule}' exceeds {}/s (burst {}): alerts suppressed ({total} so far)",
                    self.cfg.rate, self.cfg.max_burst
                ),
            )
        });
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noisy_rule_is_limited_others_are_not() {
        let reg = Arc::new(Registry::new());
        let lim = RuleRateLimiter::new(
            RateLimitConfig {
                enabled: true,
                rate: 2.0,
                max_burst: 5.0,
            },
            reg.clone(),
            Arc::new(|_, _| {}),
        );
        let noisy: Arc<str> = Arc::from("noisy");
        let quiet: Arc<str> = Arc::from("quiet");
        let t0 = 1_000_000_000_000u64;
        // 100 alerts within 1 ms: the burst of 5 passes.
        let passed = (0..100)
            .filter(|i| lim.admit(&noisy, t0 + i * 10_000))
            .count();
        assert_eq!(passed, 5);
        assert!(lim.admit(&quiet, t0));
        // One second later, 2 more tokens.
        let passed = (0..10)
            .filter(|_| lim.admit(&noisy, t0 + 1_001_000_000))
            .count();
        assert_eq!(passed, 2);
        assert_eq!(
            reg.counter(names::ALERTS_RATE_LIMITED, &[("rule", "noisy")])
                .get(),
            95 + 8
        );
    }
}
