//! Output channels (stdout, file, syslog, program, HTTP) behind bounded
//! queues, off the event path. Stage: **outputs**.
//!
//! [`Outputs::start`] opens every enabled output (an output that cannot be
//! opened is an error) and starts one worker thread per output, each with
//! its own queue of `outputs_queue.capacity` alerts. [`Outputs::enqueue`]
//! never blocks: it applies the optional per-rule rate limit, then offers
//! the alert to each output's queue; an output whose queue is full drops it,
//! counted per output (`peregrine_output_drops_total{output}`, and Falco's
//! `falcosecurity_falco_outputs_queue_num_drops_total`) and logged at most
//! every 10 s. The alert line is formatted once, by the first worker that
//! needs it, in Falco 0.44's exact text or JSON form. [`Outputs::shutdown`]
//! lets the workers drain their queues until `output_timeout` runs out.
//!
//! The HTTP client is `ureq` (blocking, rustls with ring): each output
//! already has its own thread, so an async runtime would only add weight;
//! rustls avoids a dependency on the system's OpenSSL, and ureq keeps
//! connections alive in a pool, supports custom roots, client certificates
//! and disabling verification, which is all `http_output` needs.
//!
//! ```
//! use peregrine_outputs::{Outputs, OutputsConfig, OutputsEnv};
//! use peregrine_alert::synthetic::AlertGenerator;
//! let dir = std::env::temp_dir().join(format!("peregrine-doc-{}", std::process::id()));
//! let mut cfg = OutputsConfig::default();
//! cfg.stdout.enabled = false;
//! cfg.syslog.enabled = false;
//! cfg.file.enabled = true;
//! cfg.file.filename = dir.to_string_lossy().into_owned();
//! let outputs = Outputs::start(&cfg, OutputsEnv::default()).unwrap();
//! outputs.enqueue(AlertGenerator::new(1).next_alert());
//! let report = outputs.shutdown();
//! assert_eq!(report.outputs[0].delivered, 1);
//! # std::fs::remove_file(dir).ok();
//! ```

pub mod append;
mod delivery;
pub mod file;
pub mod http;
pub mod log;
pub mod program;
mod ratelimit;
pub mod stdout;
pub mod syslog;

use std::io::Write;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use peregrine_alert::{Alert, AlertFormat, InternalAlert};
use peregrine_metrics::{names, Counter, Registry};

pub use delivery::{Envelope, OutputStats, OutputStatsSnapshot};
use delivery::{Lane, Payload, Shared, Sink};
pub use log::{stderr_logger, LogFn, LogLevel};
pub use ratelimit::RateLimitConfig;

/// The queue size used when `outputs_queue.capacity` is 0 (Falco: unbounded).
/// Unbounded would let a dead receiver eat all memory; 16384 alerts per
/// output (a few tens of MiB at most) rides out minutes of outage at
/// realistic alert rates.
pub const DEFAULT_QUEUE_CAPACITY: u64 = 16_384;

/// Everything the outputs need from the config, with Falco's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputsConfig {
    pub format: AlertFormat,
    /// `buffered_outputs`: flush only when a queue runs empty.
    pub buffered: bool,
    /// `outputs_queue.capacity` (0 = [`DEFAULT_QUEUE_CAPACITY`]).
    pub queue_capacity: u64,
    /// `output_timeout` (ms): how long shutdown waits for queues to drain.
    pub output_timeout_ms: u64,
    pub rule_rate_limit: RateLimitConfig,
    pub stdout: stdout::StdoutConfig,
    pub file: file::FileConfig,
    pub syslog: syslog::SyslogConfig,
    pub program: program::ProgramConfig,
    pub http: http::HttpConfig,
}

impl Default for OutputsConfig {
    fn default() -> OutputsConfig {
        OutputsConfig {
            format: AlertFormat::default(),
            buffered: false,
            queue_capacity: 0,
            output_timeout_ms: 2000,
            rule_rate_limit: RateLimitConfig::default(),
            stdout: Default::default(),
            file: Default::default(),
            syslog: Default::default(),
            program: Default::default(),
            http: Default::default(),
        }
    }
}

/// What the outputs are wired to: the metrics registry, the logger, and
/// (for tests) a replacement for the process's stdout.
pub struct OutputsEnv {
    pub registry: Arc<Registry>,
    pub log: LogFn,
    pub stdout: Option<Box<dyn Write + Send>>,
}

impl Default for OutputsEnv {
    fn default() -> OutputsEnv {
        OutputsEnv {
            registry: Registry::global().clone(),
            log: stderr_logger(),
            stdout: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputsError {
    /// Falco: "No output configured, please make sure at least one output
    /// is configured and enabled."
    NoOutputs,
    /// A config value makes no sense (empty filename, bad URL, …).
    Config(String),
    /// The output could not be opened (file, program, certificates).
    Open(String),
}

impl std::fmt::Display for OutputsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutputsError::NoOutputs => f.write_str(
                "No output configured, please make sure at least one output is configured and enabled.",
            ),
            OutputsError::Config(m) | OutputsError::Open(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for OutputsError {}

/// What happened to one enqueued alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Enqueued {
    /// Suppressed by `rule_rate_limit` (offered to no output).
    pub rate_limited: bool,
    /// Outputs whose queue took it.
    pub accepted: u32,
    /// Outputs whose queue was full.
    pub dropped: u32,
}

/// Counters at shutdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Every worker finished within `output_timeout`.
    pub drained: bool,
    pub outputs: Vec<OutputStatsSnapshot>,
}

/// The running outputs. `enqueue` may be called from any thread.
pub struct Outputs {
    lanes: Vec<Lane>,
    workers: Vec<JoinHandle<()>>,
    shared: Arc<Shared>,
    limiter: ratelimit::RuleRateLimiter,
    queue_drops: Counter,
    format: AlertFormat,
    timeout: Duration,
}

impl Outputs {
    /// Opens every enabled output, in Falco's order (file, stdout, syslog,
    /// program, http), and starts their workers.
    pub fn start(cfg: &OutputsConfig, env: OutputsEnv) -> Result<Outputs, OutputsError> {
        let capacity = match cfg.queue_capacity {
            0 => DEFAULT_QUEUE_CAPACITY,
            n => n,
        };
        let mut sinks: Vec<(&str, Box<dyn Sink>)> = Vec::new();
        if cfg.file.enabled {
            sinks.push(("file", Box::new(file::FileSink::start(&cfg.file)?)));
        }
        if cfg.stdout.enabled {
            let out = env
                .stdout
                .unwrap_or_else(|| Box::new(std::io::stdout()) as Box<dyn Write + Send>);
            sinks.push(("stdout", Box::new(stdout::WriterSink::new(out))));
        }
        if cfg.syslog.enabled {
            sinks.push(("syslog", Box::new(syslog::SyslogSink::start(&cfg.syslog)?)));
        }
        if cfg.program.enabled {
            sinks.push((
                "program",
                Box::new(program::ProgramSink::start(&cfg.program)?),
            ));
        }
        if cfg.http.enabled {
            sinks.push((
                "http",
                Box::new(http::HttpSink::start(&cfg.http, cfg.format.json_output)?),
            ));
        }
        if sinks.is_empty() {
            return Err(OutputsError::NoOutputs);
        }
        let shared = Arc::new(Shared::new(env.log.clone()));
        let mut lanes = Vec::new();
        let mut workers = Vec::new();
        for (name, sink) in sinks {
            let (tx, rx) = mpsc::channel();
            let stats = Arc::new(OutputStats::new(name, capacity, &env.registry));
            let (s, sh, fmt, buffered) = (stats.clone(), shared.clone(), cfg.format, cfg.buffered);
            let handle = std::thread::Builder::new()
                .name(format!("output-{name}"))
                .spawn(move || delivery::run_worker(sink, rx, s, fmt, sh, buffered))
                .map_err(|e| OutputsError::Open(format!("cannot start {name} worker: {e}")))?;
            lanes.push(Lane { tx, stats });
            workers.push(handle);
        }
        Ok(Outputs {
            lanes,
            workers,
            limiter: ratelimit::RuleRateLimiter::new(
                cfg.rule_rate_limit.clone(),
                env.registry.clone(),
                env.log,
            ),
            queue_drops: env.registry.counter(names::OUTPUTS_QUEUE_NUM_DROPS, &[]),
            shared,
            format: cfg.format,
            timeout: Duration::from_millis(cfg.output_timeout_ms),
        })
    }

    /// Hands a rule's alert to every output without blocking.
    pub fn enqueue(&self, alert: Alert) -> Enqueued {
        if !self.limiter.admit(&alert.rule, alert.time_ns) {
            return Enqueued {
                rate_limited: true,
                ..Enqueued::default()
            };
        }
        self.offer(Arc::new(Envelope::new(Payload::Alert(alert))))
    }

    /// Hands an internal message (metrics snapshot, drop notice) to every
    /// output; never rate limited.
    pub fn enqueue_internal(&self, msg: InternalAlert) -> Enqueued {
        self.offer(Arc::new(Envelope::new(Payload::Internal(msg))))
    }

    fn offer(&self, env: Arc<Envelope>) -> Enqueued {
        let mut r = Enqueued::default();
        for lane in &self.lanes {
            if lane.try_enqueue(&env, &self.shared.log) {
                r.accepted += 1;
            } else {
                r.dropped += 1;
            }
        }
        if r.dropped > 0 {
            self.queue_drops.inc();
        }
        r
    }

    /// Falco's SIGUSR1: outputs holding a file (`file_output.keep_alive`)
    /// or a program (`program_output.keep_alive`) open close it and open it
    /// afresh before their next delivery, so rotated logs are let go.
    pub fn reopen(&self) {
        self.shared
            .reopen
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// The line format shared by every output.
    pub fn format(&self) -> AlertFormat {
        self.format
    }

    pub fn stats(&self) -> Vec<OutputStatsSnapshot> {
        self.lanes.iter().map(|l| l.stats.snapshot()).collect()
    }

    /// Stops taking alerts and lets every worker drain its queue within
    /// `output_timeout`; what is left after that is counted as failed and
    /// the workers are left to finish on their own.
    pub fn shutdown(self) -> ShutdownReport {
        let deadline = self.shared.begin_shutdown(self.timeout);
        let stats: Vec<Arc<OutputStats>> = self.lanes.iter().map(|l| l.stats.clone()).collect();
        drop(self.lanes);
        // Grace beyond the deadline for workers to count what they drop.
        let hard = deadline + Duration::from_millis(200);
        let mut drained = true;
        for w in self.workers {
            while !w.is_finished() && Instant::now() < hard {
                std::thread::sleep(Duration::from_millis(2));
            }
            if w.is_finished() {
                let _ = w.join();
            } else {
                drained = false;
            }
        }
        ShutdownReport {
            drained,
            outputs: stats.iter().map(|s| s.snapshot()).collect(),
        }
    }
}
