//! A small metrics registry every stage feeds, rendered as Prometheus text
//! (`/metrics`) or as the fields of a periodic internal alert
//! (`metrics.output_rule`).
//!
//! Registration (name + labels → a handle) takes a lock; the handles then
//! update an atomic, so hot paths register once and increment lock-free.
//! Values computed at scrape time (queue depths, /proc figures) come from
//! collectors. Falco's metric names are in [`names`]; Peregrine's own start
//! with `peregrine_`.
//!
//! ```
//! use peregrine_metrics::{Registry, names};
//! let reg = Registry::new();
//! let matches = reg.counter(
//!     names::RULES_MATCHES,
//!     &[("priority", "4"), ("rule_name", "Write below etc"), ("source", "syscall")],
//! );
//! matches.inc();
//! let text = reg.render_prometheus();
//! assert!(text.contains(
//!     "falcosecurity_falco_rules_matches_total{priority=\"4\",rule_name=\"Write below etc\",source=\"syscall\"} 1\n"
//! ));
//! ```

pub mod names;
pub mod process;
pub mod sha256;

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Prometheus metric type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        }
    }
}

pub type Labels = Vec<(String, String)>;

/// A monotonic counter handle (cheap to clone, lock-free to bump).
#[derive(Debug, Clone)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    /// A counter attached to no registry (for components built without one).
    pub fn detached() -> Counter {
        Counter(Arc::new(AtomicU64::new(0)))
    }
    #[inline]
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A gauge handle holding an f64 (stored as bits).
#[derive(Debug, Clone)]
pub struct Gauge(Arc<AtomicU64>);

impl Gauge {
    pub fn detached() -> Gauge {
        Gauge(Arc::new(AtomicU64::new(0f64.to_bits())))
    }
    #[inline]
    pub fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }
    #[inline]
    pub fn add(&self, d: f64) {
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                Some((f64::from_bits(b) + d).to_bits())
            });
    }
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

enum Cell {
    Counter(Arc<AtomicU64>),
    Gauge(Arc<AtomicU64>),
}

impl Cell {
    fn value(&self) -> f64 {
        match self {
            Cell::Counter(c) => c.load(Ordering::Relaxed) as f64,
            Cell::Gauge(g) => f64::from_bits(g.load(Ordering::Relaxed)),
        }
    }
}

type CollectFn = Box<dyn Fn(&mut Vec<(Labels, f64)>) + Send + Sync>;

struct Family {
    name: String,
    help: String,
    kind: Kind,
    series: Vec<(Labels, Cell)>,
    collectors: Vec<CollectFn>,
}

/// One value of one series, for snapshots.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Labels,
    pub value: f64,
    pub kind: Kind,
}

/// The registry. Families keep their registration order in the output.
#[derive(Default)]
pub struct Registry {
    families: Mutex<Vec<Family>>,
}

fn owned(labels: &[(&str, &str)]) -> Labels {
    labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// The process-wide registry the binary serves on `/metrics`.
    pub fn global() -> &'static Arc<Registry> {
        static GLOBAL: OnceLock<Arc<Registry>> = OnceLock::new();
        GLOBAL.get_or_init(|| Arc::new(Registry::new()))
    }

    fn with_family<R>(&self, name: &str, kind: Kind, f: impl FnOnce(&mut Family) -> R) -> R {
        let mut fams = self.families.lock().unwrap_or_else(|e| e.into_inner());
        let idx = match fams.iter().position(|fam| fam.name == name) {
            Some(i) => i,
            None => {
                fams.push(Family {
                    name: name.to_string(),
                    help: names::help(name).to_string(),
                    kind,
                    series: Vec::new(),
                    collectors: Vec::new(),
                });
                fams.len() - 1
            }
        };
        f(&mut fams[idx])
    }

    /// Sets the HELP text of a family (created if needed).
    pub fn describe(&self, name: &str, kind: Kind, help: &str) {
        self.with_family(name, kind, |f| f.help = help.to_string());
    }

    /// The counter `name{labels}`, created at 0 on first use.
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> Counter {
        self.with_family(name, Kind::Counter, |f| {
            for (l, cell) in &f.series {
                if let Cell::Counter(c) = cell {
                    if labels_eq(l, labels) {
                        return Counter(c.clone());
                    }
                }
            }
            let c = Arc::new(AtomicU64::new(0));
            f.series.push((owned(labels), Cell::Counter(c.clone())));
            Counter(c)
        })
    }

    /// The gauge `name{labels}`, created at 0 on first use.
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> Gauge {
        self.with_family(name, Kind::Gauge, |f| {
            for (l, cell) in &f.series {
                if let Cell::Gauge(g) = cell {
                    if labels_eq(l, labels) {
                        return Gauge(g.clone());
                    }
                }
            }
            let g = Arc::new(AtomicU64::new(0f64.to_bits()));
            f.series.push((owned(labels), Cell::Gauge(g.clone())));
            Gauge(g)
        })
    }

    /// Adds series computed at scrape time to family `name`.
    pub fn collector(
        &self,
        name: &str,
        kind: Kind,
        f: impl Fn(&mut Vec<(Labels, f64)>) + Send + Sync + 'static,
    ) {
        self.with_family(name, kind, |fam| fam.collectors.push(Box::new(f)));
    }

    /// Removes every series of `name` whose labels contain `(key, value)`
    /// (e.g. the per-file hashes after a reload).
    pub fn remove_series(&self, name: &str, key: &str, value: &str) {
        let mut fams = self.families.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = fams.iter_mut().find(|f| f.name == name) {
            f.series
                .retain(|(l, _)| !l.iter().any(|(k, v)| k == key && v == value));
        }
    }

    /// Every current value, families in registration order.
    pub fn samples(&self) -> Vec<Sample> {
        let fams = self.families.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        for f in fams.iter() {
            for (labels, cell) in &f.series {
                out.push(Sample {
                    name: f.name.clone(),
                    labels: labels.clone(),
                    value: cell.value(),
                    kind: f.kind,
                });
            }
            let mut extra = Vec::new();
            for c in &f.collectors {
                c(&mut extra);
            }
            for (labels, value) in extra {
                out.push(Sample {
                    name: f.name.clone(),
                    labels,
                    value,
                    kind: f.kind,
                });
            }
        }
        out
    }

    /// The Prometheus text exposition format (version 0.0.4): one HELP and
    /// TYPE per family, then its series. Families without series are left
    /// out.
    pub fn render_prometheus(&self) -> String {
        let samples = self.samples();
        let helps: Vec<(String, String)> = {
            let fams = self.families.lock().unwrap_or_else(|e| e.into_inner());
            fams.iter()
                .map(|f| (f.name.clone(), f.help.clone()))
                .collect()
        };
        let mut out = String::with_capacity(samples.len() * 96);
        let mut current: Option<&str> = None;
        for s in &samples {
            if current != Some(s.name.as_str()) {
                let help = helps
                    .iter()
                    .find(|(n, _)| *n == s.name)
                    .map(|(_, h)| h.as_str())
                    .unwrap_or("");
                let _ = writeln!(out, "# HELP {} {}", s.name, escape_help(help));
                let _ = writeln!(out, "# TYPE {} {}", s.name, s.kind.as_str());
                current = Some(s.name.as_str());
            }
            out.push_str(&s.name);
            if !s.labels.is_empty() {
                out.push('{');
                for (i, (k, v)) in s.labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&sanitize_label_name(k));
                    out.push_str("=\"");
                    escape_label_value(&mut out, v);
                    out.push('"');
                }
                out.push('}');
            }
            out.push(' ');
            write_value(&mut out, s.value);
            out.push('\n');
        }
        out
    }
}

fn labels_eq(a: &Labels, b: &[(&str, &str)]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|((k, v), (bk, bv))| k == bk && v == bv)
}

fn write_value(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else if v.fract() == 0.0 && v.abs() < 9.007_199_254_740_992e15 {
        let _ = write!(out, "{}", v as i64);
    } else {
        let _ = write!(out, "{v}");
    }
}

/// Label names allow `[a-zA-Z_][a-zA-Z0-9_]*`; Falco's `tag_<tag>` labels
/// can hold anything, so other characters become `_`.
pub fn sanitize_label_name(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

fn escape_label_value(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn escape_help(h: &str) -> String {
    h.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_gauges_collectors_render_once_per_family() {
        let r = Registry::new();
        let a = r.counter("x_total", &[("k", "a")]);
        let b = r.counter("x_total", &[("k", "b\"q")]);
        a.inc();
        a.add(2);
        b.inc();
        assert_eq!(r.counter("x_total", &[("k", "a")]).get(), 3);
        let g = r.gauge("depth", &[]);
        g.set(1.5);
        r.collector("proc", Kind::Gauge, |out| out.push((vec![], 7.0)));
        let text = r.render_prometheus();
        assert_eq!(text.matches("# TYPE x_total counter").count(), 1);
        assert!(text.contains("x_total{k=\"a\"} 3\n"));
        assert!(text.contains("x_total{k=\"b\\\"q\"} 1\n"));
        assert!(text.contains("depth 1.5\n"));
        assert!(text.contains("proc 7\n"));
        r.remove_series("x_total", "k", "a");
        assert!(!r.render_prometheus().contains("k=\"a\""));
    }
}
