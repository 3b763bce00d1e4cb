//! `metrics.output_rule` / `metrics.output_file`: every `metrics.interval`
//! the registry becomes one internal alert (rule "Falco internal: metrics
//! snapshot", Informational, output "Falco metrics snapshot") whose
//! output_fields use Falco's snapshot names (`falco.version`,
//! `falco.outputs_queue_num_drops`, `falco.rules.<rule>`,
//! `falco.cpu_usage_perc`, `falco.memory_rss_mb`, `scap.n_evts`, …), and/or
//! one JSON line `{"output_fields": …, "sample": N}` appended to a file.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use peregrine_alert::{FieldValue, InternalAlert, Priority};
use peregrine_metrics::{names, Registry, Sample};
use peregrine_outputs::Outputs;

pub const RULE: &str = "Falco internal: metrics snapshot";
pub const OUTPUT: &str = "Falco metrics snapshot";

/// Falco's `sanitize_rule_name`: lowercase, runs of non-alphanumerics to `_`.
fn sanitize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

fn label<'a>(s: &'a Sample, key: &str) -> &'a str {
    s.labels
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

fn num(v: f64) -> FieldValue {
    if v.fract() == 0.0 && (0.0..1.8e19).contains(&v) {
        FieldValue::U64(v as u64)
    } else {
        FieldValue::F64(v)
    }
}

/// What a snapshot carries (falco.yaml `metrics.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotOptions {
    /// `include_empty_values`: keep counters that are zero.
    pub include_empty: bool,
    /// `convert_memory_to_mb`.
    pub memory_in_mb: bool,
    /// `rules_counters_enabled`: `falco.rules.*`.
    pub rules: bool,
    /// `resource_utilization_enabled`: CPU and memory of the agent.
    pub resources: bool,
    /// `state_counters_enabled`: threads and fds in the state tables.
    pub state: bool,
    /// `kernel_event_counters_enabled`: events and drops of the probe.
    pub kernel: bool,
}

impl Default for SnapshotOptions {
    fn default() -> SnapshotOptions {
        SnapshotOptions {
            include_empty: false,
            memory_in_mb: true,
            rules: true,
            resources: true,
            state: true,
            kernel: true,
        }
    }
}

impl SnapshotOptions {
    /// Whether the family of metric `name` is enabled; version, files,
    /// outputs and timing metrics always are.
    fn wants(&self, name: &str) -> bool {
        match name {
            names::RULES_MATCHES => self.rules,
            names::CPU_USAGE_RATIO
            | names::MEMORY_RSS_BYTES
            | names::MEMORY_VSZ_BYTES
            | names::MEMORY_PSS_BYTES => self.resources,
            names::SCAP_N_THREADS | names::SCAP_N_FDS => self.state,
            names::SCAP_N_EVTS
            | names::SCAP_N_DROPS
            | names::SCAP_N_DROPS_BUFFER
            | names::EVENTS => self.kernel,
            _ => true,
        }
    }
}

/// The snapshot fields of the registry's samples.
pub fn output_fields(
    samples: &[Sample],
    now_ns: u64,
    opts: &SnapshotOptions,
) -> Vec<(String, FieldValue)> {
    let SnapshotOptions {
        include_empty,
        memory_in_mb,
        ..
    } = *opts;
    let mut f: Vec<(String, FieldValue)> = vec![("evt.time".into(), FieldValue::U64(now_ns))];
    let mut rules_total = 0.0;
    for s in samples.iter().filter(|s| opts.wants(&s.name)) {
        let (key, value) = match s.name.as_str() {
            names::VERSION_INFO => (
                "falco.version".into(),
                FieldValue::Str(label(s, "version").into()),
            ),
            names::KERNEL_RELEASE_INFO => (
                "falco.kernel_release".into(),
                FieldValue::Str(label(s, "kernel_release").into()),
            ),
            names::HOSTNAME_INFO => (
                "evt.hostname".into(),
                FieldValue::Str(label(s, "hostname").into()),
            ),
            names::SHA256_RULES_FILES_INFO => (
                format!(
                    "falco.sha256_rules_file.{}",
                    sanitize(label(s, "file_name"))
                ),
                FieldValue::Str(label(s, "sha256").into()),
            ),
            names::SHA256_CONFIG_FILES_INFO => (
                format!(
                    "falco.sha256_config_file.{}",
                    sanitize(label(s, "file_name"))
                ),
                FieldValue::Str(label(s, "sha256").into()),
            ),
            names::RULES_MATCHES => {
                rules_total += s.value;
                if s.value == 0.0 && !include_empty {
                    continue;
                }
                (
                    format!("falco.rules.{}", sanitize(label(s, "rule_name"))),
                    num(s.value),
                )
            }
            names::CPU_USAGE_RATIO => (
                "falco.cpu_usage_perc".into(),
                FieldValue::F64((s.value * 1000.0).round() / 10.0),
            ),
            names::MEMORY_RSS_BYTES | names::MEMORY_VSZ_BYTES | names::MEMORY_PSS_BYTES => {
                let base = s
                    .name
                    .trim_start_matches("falcosecurity_falco_")
                    .trim_end_matches("_bytes");
                if memory_in_mb {
                    (
                        format!("falco.{base}_mb"),
                        FieldValue::F64((s.value / 1_048_576.0 * 10.0).round() / 10.0),
                    )
                } else {
                    (format!("falco.{base}_bytes"), num(s.value))
                }
            }
            name => {
                if s.value == 0.0 && !include_empty {
                    continue;
                }
                let (prefix, rest) = if let Some(r) = name.strip_prefix("falcosecurity_falco_") {
                    ("falco", r)
                } else if let Some(r) = name.strip_prefix("falcosecurity_scap_") {
                    ("scap", r)
                } else if let Some(r) = name.strip_prefix("peregrine_") {
                    ("peregrine", r)
                } else {
                    ("", name)
                };
                let rest = rest
                    .trim_end_matches("_total")
                    .trim_end_matches("_info")
                    .trim_end_matches("_timestamp_nanoseconds")
                    .trim_end_matches("_seconds");
                let mut key = if prefix.is_empty() {
                    rest.to_string()
                } else {
                    format!("{prefix}.{rest}")
                };
                for (_, v) in &s.labels {
                    key.push('.');
                    key.push_str(&sanitize(v));
                }
                (key, num(s.value))
            }
        };
        f.push((key, value));
    }
    if opts.rules {
        f.push(("falco.rules.matches_total".into(), num(rules_total)));
    }
    f
}

pub struct Snapshotter {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

/// Where snapshots go.
pub struct SnapshotTargets {
    pub outputs: Option<Arc<Outputs>>,
    pub output_file: Option<std::path::PathBuf>,
}

impl Snapshotter {
    pub fn start(
        registry: Arc<Registry>,
        targets: SnapshotTargets,
        interval: Duration,
        hostname: Arc<str>,
        opts: SnapshotOptions,
    ) -> Snapshotter {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let handle = std::thread::Builder::new()
            .name("metrics-snapshot".into())
            .spawn(move || {
                let mut sample = 0u64;
                let mut next = Instant::now() + interval;
                while !s.load(Ordering::SeqCst) {
                    if Instant::now() < next {
                        std::thread::sleep((next - Instant::now()).min(Duration::from_millis(50)));
                        continue;
                    }
                    next += interval;
                    sample += 1;
                    let now_ns = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .map(|d| d.as_nanos() as u64)
                        .unwrap_or(0);
                    let fields = output_fields(&registry.samples(), now_ns, &opts);
                    if let Some(path) = &targets.output_file {
                        let mut obj = String::from("{\"output_fields\":{");
                        for (i, (k, v)) in fields.iter().enumerate() {
                            if i > 0 {
                                obj.push(',');
                            }
                            peregrine_alert::json::write_str(&mut obj, k);
                            obj.push(':');
                            peregrine_alert::json::write_value(&mut obj, v);
                        }
                        obj.push_str(&format!("}},\"sample\":{sample}}}\n"));
                        if let Ok(mut f) = std::fs::OpenOptions::new()
                            .create(true)
                            .append(true)
                            .open(path)
                        {
                            let _ = f.write_all(obj.as_bytes());
                        }
                    }
                    if let Some(outputs) = &targets.outputs {
                        outputs.enqueue_internal(InternalAlert {
                            time_ns: now_ns,
                            rule: RULE.into(),
                            priority: Priority::Informational,
                            output: OUTPUT.into(),
                            output_fields: fields,
                            hostname: hostname.clone(),
                        });
                    }
                }
            })
            .ok();
        Snapshotter { stop, handle }
    }
}

impl Drop for Snapshotter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
