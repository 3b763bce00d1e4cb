//! Falco's `syscall_event_timeouts`: after more than `max_consecutives`
//! reads of the live source that found no event, one internal alert says
//! so (priority Debug), and the count starts again. Its `last_event_time`
//! is, as in Falco, the time of the first event processed ("none" before).

use std::sync::Arc;

use peregrine_alert::{FieldValue, InternalAlert, Priority};

pub const TIMEOUTS_RULE: &str = "Falco internal: timeouts notification";

pub struct TimeoutMonitor {
    max_consecutives: u64,
    consecutive: u64,
    first_event_ts: u64,
}

impl TimeoutMonitor {
    pub fn new(max_consecutives: u64) -> TimeoutMonitor {
        TimeoutMonitor {
            max_consecutives,
            consecutive: 0,
            first_event_ts: 0,
        }
    }

    #[inline]
    pub fn on_event(&mut self, ts: u64) {
        self.consecutive = 0;
        if self.first_event_ts == 0 {
            self.first_event_ts = ts;
        }
    }

    /// A read that found nothing; the alert when the run is long enough.
    pub fn on_timeout(&mut self, now_ns: u64, hostname: &Arc<str>) -> Option<InternalAlert> {
        self.consecutive += 1;
        if self.consecutive <= self.max_consecutives {
            return None;
        }
        self.consecutive = 0;
        let mut last = String::new();
        if self.first_event_ts > 0 {
            peregrine_event::time::write_time_of_day(&mut last, self.first_event_ts);
        } else {
            last.push_str("none");
        }
        Some(InternalAlert {
            time_ns: now_ns,
            rule: TIMEOUTS_RULE.into(),
            priority: Priority::Debug,
            output: format!(
                "{TIMEOUTS_RULE}. {} consecutive timeouts without event.",
                self.max_consecutives
            ),
            output_fields: vec![("last_event_time".into(), FieldValue::Str(last))],
            hostname: hostname.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_after_more_than_max_consecutive_timeouts_then_counts_again() {
        let host: Arc<str> = "h".into();
        let mut m = TimeoutMonitor::new(3);
        for _ in 0..3 {
            assert!(m.on_timeout(1, &host).is_none());
        }
        let a = m.on_timeout(1, &host).expect("fourth timeout alerts");
        assert_eq!(
            a.output,
            "Falco internal: timeouts notification. 3 consecutive timeouts without event."
        );
        assert_eq!(a.priority, Priority::Debug);
        assert_eq!(
            a.output_fields,
            vec![("last_event_time".into(), FieldValue::Str("none".into()))]
        );
        // An event resets the run; its time is reported from then on.
        for _ in 0..3 {
            assert!(m.on_timeout(1, &host).is_none());
        }
        m.on_event(5_000_000_123);
        for _ in 0..3 {
            assert!(m.on_timeout(1, &host).is_none());
        }
        let a = m.on_timeout(1, &host).expect("alert");
        let FieldValue::Str(t) = &a.output_fields[0].1 else {
            panic!("string")
        };
        assert!(t.ends_with(":05.000000123"), "{t}");
    }
}
