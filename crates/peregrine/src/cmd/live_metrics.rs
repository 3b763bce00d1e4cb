//! Live detection's metrics, published once a second from counters the
//! event loop keeps in plain memory (no atomics or locks per event).

use std::collections::HashMap;
use std::sync::Arc;

use peregrine_ebpf::LiveStats;
use peregrine_engine::Engine;
use peregrine_event::table;
use peregrine_metrics::{names, Counter, Registry};

pub struct LiveMetrics {
    reg: Arc<Registry>,
    /// Events per type since the last publish, indexed by event type.
    pub per_type: Vec<u64>,
    type_counters: HashMap<&'static str, Counter>,
    rule_counters: HashMap<Arc<str>, (Counter, u64)>,
    n_evts: Counter,
    n_drops: Counter,
    n_drops_buffer: Counter,
    last_kernel: (u64, u64, u64),
    /// Hashes of the rules files now published (removed on reload).
    file_hashes: Vec<String>,
}

impl LiveMetrics {
    pub fn new(reg: Arc<Registry>, rules_files: &[String], engine_name: &str) -> LiveMetrics {
        peregrine_metrics::process::register(&reg, env!("CARGO_PKG_VERSION"));
        reg.gauge(
            names::ENGINE_NAME_INFO,
            &[("engine_name", engine_name), ("evt_source", "syscall")],
        )
        .set(1.0);
        let file_hashes = record_files(&reg, rules_files);
        LiveMetrics {
            file_hashes,
            per_type: vec![0; table::EVENT_MAX],
            type_counters: HashMap::new(),
            rule_counters: HashMap::new(),
            n_evts: reg.counter(names::SCAP_N_EVTS, &[]),
            n_drops: reg.counter(names::SCAP_N_DROPS, &[]),
            n_drops_buffer: reg.counter(names::SCAP_N_DROPS_BUFFER, &[]),
            last_kernel: (0, 0, 0),
            reg,
        }
    }

    #[inline]
    pub fn count_event(&mut self, event_type: u16) {
        if let Some(n) = self.per_type.get_mut(event_type as usize) {
            *n += 1;
        }
    }

    /// Moves the loop's counts into the registry.
    pub fn publish(&mut self, stats: &LiveStats, engine: &Engine) {
        for (ty, n) in self.per_type.iter_mut().enumerate() {
            if *n == 0 {
                continue;
            }
            let name = table::EVENTS[ty].name;
            let reg = &self.reg;
            self.type_counters
                .entry(name)
                .or_insert_with(|| {
                    reg.counter(names::EVENTS, &[("source", "syscall"), ("type", name)])
                })
                .add(*n);
            *n = 0;
        }
        let k = (stats.n_evts(), stats.n_drops(), stats.n_drops_buffer());
        self.n_evts.add(k.0.saturating_sub(self.last_kernel.0));
        self.n_drops.add(k.1.saturating_sub(self.last_kernel.1));
        self.n_drops_buffer
            .add(k.2.saturating_sub(self.last_kernel.2));
        self.last_kernel = k;
        for c in engine.counts() {
            let reg = &self.reg;
            let (counter, seen) = self.rule_counters.entry(c.rule.clone()).or_insert_with(|| {
                let prio = (c.priority as u8).to_string();
                (
                    reg.counter(
                        names::RULES_MATCHES,
                        &[
                            ("priority", prio.as_str()),
                            ("rule_name", &c.rule),
                            ("source", "syscall"),
                        ],
                    ),
                    0,
                )
            });
            // After a reload the engine's counts restart from zero.
            let delta = if c.matches >= *seen {
                c.matches - *seen
            } else {
                c.matches
            };
            counter.add(delta);
            *seen = c.matches;
        }
    }

    /// After a reload: new files and hashes, the reload time.
    pub fn reloaded(&mut self, rules_files: &[String]) {
        for sha in self.file_hashes.drain(..) {
            self.reg
                .remove_series(names::SHA256_RULES_FILES_INFO, "sha256", &sha);
        }
        self.file_hashes = record_files(&self.reg, rules_files);
        for (_, seen) in self.rule_counters.values_mut() {
            *seen = 0;
        }
    }
}

fn record_files(reg: &Registry, rules_files: &[String]) -> Vec<String> {
    let mut hashes = Vec::new();
    for f in rules_files {
        if let Ok(bytes) = std::fs::read(f) {
            let sha = peregrine_metrics::sha256::sha256_hex(&bytes);
            let name = std::path::Path::new(f)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| f.clone());
            reg.gauge(
                names::SHA256_RULES_FILES_INFO,
                &[("file_name", &name), ("sha256", &sha)],
            )
            .set(1.0);
            hashes.push(sha);
        }
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as f64)
        .unwrap_or(0.0);
    reg.gauge(names::RELOAD_TIMESTAMP, &[]).set(now);
    hashes
}
