//! Where the outputs report their own trouble (the binary plugs in its
//! logger), and a throttle so a dead receiver does not flood the log.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Error,
    Warning,
    Info,
    Debug,
}

pub type LogFn = Arc<dyn Fn(LogLevel, &str) + Send + Sync>;

/// Logs to stderr as `peregrine: <level>: <message>`.
pub fn stderr_logger() -> LogFn {
    Arc::new(|level, msg| {
        let l = match level {
            LogLevel::Error => "error",
            LogLevel::Warning => "warning",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
        };
        eprintln!("peregrine: {l}: {msg}");
    })
}

/// Lets one message through per `every`, counting the ones held back.
pub(crate) struct Throttle {
    every: Duration,
    last: Mutex<Option<Instant>>,
    held: AtomicU64,
}

impl Throttle {
    pub fn new(every: Duration) -> Throttle {
        Throttle {
            every,
            last: Mutex::new(None),
            held: AtomicU64::new(0),
        }
    }

    /// Calls `emit(held_back)` if the period has passed, else counts.
    pub fn log(&self, emit: impl FnOnce(u64)) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        match *last {
            Some(t) if now.duration_since(t) < self.every => {
                self.held.fetch_add(1, Ordering::Relaxed);
            }
            _ => {
                *last = Some(now);
                drop(last);
                emit(self.held.swap(0, Ordering::Relaxed));
            }
        }
    }
}
