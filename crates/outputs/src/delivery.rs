//! The queue between the event path and one output, and the worker thread
//! that drains it.
//!
//! Capacity is counted, not left to the channel: an alert is "in the queue"
//! from a successful `try_enqueue` until its output has finished with it
//! (delivered or given up), so alerts a worker holds while retrying count
//! too, and the drop count beyond capacity is exact.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use peregrine_alert::{Alert, AlertFormat, InternalAlert, Priority};
use peregrine_metrics::{names, Counter, Gauge, Registry};

use crate::log::{LogFn, LogLevel, Throttle};

/// Alerts a worker takes at once (one write/flush per batch).
const MAX_BATCH: usize = 256;

pub(crate) enum Payload {
    Alert(Alert),
    Internal(InternalAlert),
}

/// One alert on its way to every output; formatted once, by whichever
/// worker gets to it first.
pub struct Envelope {
    pub(crate) payload: Payload,
    line: OnceLock<String>,
    pub(crate) enqueued: Instant,
}

impl Envelope {
    pub(crate) fn new(payload: Payload) -> Envelope {
        Envelope {
            payload,
            line: OnceLock::new(),
            enqueued: Instant::now(),
        }
    }

    /// The alert line (no newline) in the configured format.
    pub fn line(&self, format: &AlertFormat) -> &str {
        self.line.get_or_init(|| match &self.payload {
            Payload::Alert(a) => format.format(a),
            Payload::Internal(m) => format.format_internal(m),
        })
    }

    pub fn priority(&self) -> Priority {
        match &self.payload {
            Payload::Alert(a) => a.priority,
            Payload::Internal(m) => m.priority,
        }
    }
}

/// Counters of one output, registered as `peregrine_output_*{output}`.
pub struct OutputStats {
    pub name: String,
    pub capacity: u64,
    pub(crate) depth: AtomicU64,
    depth_gauge: Gauge,
    pub(crate) delivered: Counter,
    pub(crate) dropped: Counter,
    pub(crate) failed: Counter,
    pub(crate) retries: Counter,
    pub(crate) errors: Counter,
    latency_ns_total: AtomicU64,
    latency_ns_max: AtomicU64,
    drop_log: Throttle,
    error_log: Throttle,
}

/// A copy of an output's counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputStatsSnapshot {
    pub name: String,
    pub capacity: u64,
    pub depth: u64,
    pub delivered: u64,
    pub dropped: u64,
    pub failed: u64,
    pub retries: u64,
    pub errors: u64,
    /// Mean and max time from enqueue to delivered, ns.
    pub latency_ns_mean: u64,
    pub latency_ns_max: u64,
}

impl OutputStats {
    pub(crate) fn new(name: &str, capacity: u64, reg: &Registry) -> OutputStats {
        let l = [("output", name)];
        reg.gauge(names::OUTPUT_QUEUE_CAPACITY, &l)
            .set(capacity as f64);
        OutputStats {
            name: name.to_string(),
            capacity,
            depth: AtomicU64::new(0),
            depth_gauge: reg.gauge(names::OUTPUT_QUEUE_DEPTH, &l),
            delivered: reg.counter(names::OUTPUT_DELIVERED, &l),
            dropped: reg.counter(names::OUTPUT_DROPS, &l),
            failed: reg.counter(names::OUTPUT_FAILED, &l),
            retries: reg.counter(names::OUTPUT_RETRIES, &l),
            errors: reg.counter(names::OUTPUT_ERRORS, &l),
            latency_ns_total: AtomicU64::new(0),
            latency_ns_max: AtomicU64::new(0),
            drop_log: Throttle::new(Duration::from_secs(10)),
            error_log: Throttle::new(Duration::from_secs(10)),
        }
    }

    pub fn snapshot(&self) -> OutputStatsSnapshot {
        let delivered = self.delivered.get();
        OutputStatsSnapshot {
            name: self.name.clone(),
            capacity: self.capacity,
            depth: self.depth.load(Ordering::Relaxed),
            delivered,
            dropped: self.dropped.get(),
            failed: self.failed.get(),
            retries: self.retries.get(),
            errors: self.errors.get(),
            latency_ns_mean: self
                .latency_ns_total
                .load(Ordering::Relaxed)
                .checked_div(delivered)
                .unwrap_or(0),
            latency_ns_max: self.latency_ns_max.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn record_delivered(&self, env: &Envelope) {
        self.delivered.inc();
        let ns = env.enqueued.elapsed().as_nanos() as u64;
        self.latency_ns_total.fetch_add(ns, Ordering::Relaxed);
        self.latency_ns_max.fetch_max(ns, Ordering::Relaxed);
    }

    fn release(&self, n: u64) {
        let left = self.depth.fetch_sub(n, Ordering::AcqRel) - n;
        self.depth_gauge.set(left as f64);
    }
}

/// Shared by the hub and its workers: the shutdown deadline and the log.
pub(crate) struct Shared {
    pub log: LogFn,
    deadline: Mutex<Option<Instant>>,
    pub stopping: AtomicBool,
    /// Bumped by [`crate::Outputs::reopen`]: outputs holding a file or a
    /// program open let it go before their next delivery.
    pub reopen: AtomicU64,
}

impl Shared {
    pub fn new(log: LogFn) -> Shared {
        Shared {
            log,
            deadline: Mutex::new(None),
            stopping: AtomicBool::new(false),
            reopen: AtomicU64::new(0),
        }
    }

    pub fn begin_shutdown(&self, budget: Duration) -> Instant {
        let at = Instant::now() + budget;
        *self.deadline.lock().unwrap_or_else(|e| e.into_inner()) = Some(at);
        self.stopping.store(true, Ordering::Release);
        at
    }

    /// Past the shutdown deadline: give up on what is left.
    pub fn past_deadline(&self) -> bool {
        if !self.stopping.load(Ordering::Acquire) {
            return false;
        }
        match *self.deadline.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(at) => Instant::now() >= at,
            None => false,
        }
    }

    /// Sleeps up to `d`, waking early if the shutdown deadline passes.
    pub fn sleep(&self, d: Duration) {
        let end = Instant::now() + d;
        while Instant::now() < end && !self.past_deadline() {
            std::thread::sleep((end - Instant::now()).min(Duration::from_millis(20)));
        }
    }
}

/// What each output implements: deliver a batch, flush, close.
pub(crate) trait Sink: Send {
    /// Delivers every envelope, counting each as delivered or failed in
    /// `ctx.stats` (retrying transient errors as the output sees fit).
    fn deliver(&mut self, batch: &[Arc<Envelope>], ctx: &Ctx);
    fn flush(&mut self, _ctx: &Ctx) {}
    fn close(&mut self, _ctx: &Ctx) {}
}

pub(crate) struct Ctx<'a> {
    pub format: &'a AlertFormat,
    pub stats: &'a OutputStats,
    pub shared: &'a Shared,
}

impl Ctx<'_> {
    /// True once per [`crate::Outputs::reopen`] for the output whose last
    /// seen generation is `seen`.
    pub fn reopen_requested(&self, seen: &mut u64) -> bool {
        let now = self.shared.reopen.load(Ordering::Relaxed);
        std::mem::replace(seen, now) != now
    }

    /// Counts and logs (throttled) an error of this output.
    pub fn error(&self, what: &str) {
        self.stats.errors.inc();
        let name = &self.stats.name;
        self.shared_log(|held| {
            if held > 0 {
                format!("{name} output: {what} ({held} more errors since the last report)")
            } else {
                format!("{name} output: {what}")
            }
        });
    }

    fn shared_log(&self, msg: impl FnOnce(u64) -> String) {
        let log = &self.shared.log;
        self.stats
            .error_log
            .log(|held| log(LogLevel::Error, &msg(held)));
    }
}

/// The producer's end of one output's queue.
pub(crate) struct Lane {
    pub tx: Sender<Arc<Envelope>>,
    pub stats: Arc<OutputStats>,
}

impl Lane {
    /// Queues without blocking; false (counted, logged) when full.
    pub fn try_enqueue(&self, env: &Arc<Envelope>, log: &LogFn) -> bool {
        let s = &self.stats;
        let prev = s.depth.fetch_add(1, Ordering::AcqRel);
        if prev >= s.capacity || self.tx.send(env.clone()).is_err() {
            s.depth.fetch_sub(1, Ordering::AcqRel);
            s.dropped.inc();
            let (name, cap, total) = (&s.name, s.capacity, s.dropped.get());
            s.drop_log.log(|_| {
                log(
                    LogLevel::Error,
                    &format!(
                        "{name} output: queue full ({cap} alerts), dropping alerts ({total} dropped so far)"
                    ),
                )
            });
            return false;
        }
        s.depth_gauge.set((prev + 1) as f64);
        true
    }
}

/// The worker loop: batches, delivers, flushes when idle (or always, when
/// unbuffered), and on disconnect drains what is left.
pub(crate) fn run_worker(
    mut sink: Box<dyn Sink>,
    rx: Receiver<Arc<Envelope>>,
    stats: Arc<OutputStats>,
    format: AlertFormat,
    shared: Arc<Shared>,
    buffered: bool,
) {
    let ctx = Ctx {
        format: &format,
        stats: &stats,
        shared: &shared,
    };
    let mut batch: Vec<Arc<Envelope>> = Vec::with_capacity(MAX_BATCH);
    while let Ok(first) = rx.recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(e) => batch.push(e),
                Err(_) => break,
            }
        }
        if shared.past_deadline() {
            stats.failed.add(batch.len() as u64);
        } else {
            sink.deliver(&batch, &ctx);
        }
        let n = batch.len() as u64;
        batch.clear();
        if !buffered || stats.depth.load(Ordering::Acquire) == n {
            sink.flush(&ctx);
        }
        stats.release(n);
    }
    sink.flush(&ctx);
    sink.close(&ctx);
}
