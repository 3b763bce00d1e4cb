//! Alert throughput (alerts/s) to a file and to an HTTP receiver, and the
//! time from enqueue to delivered, under saturation and at a steady 1000
//! alerts/s. `cargo bench -p peregrine-outputs` prints the figures.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use peregrine_alert::synthetic::AlertGenerator;
use peregrine_alert::{Alert, AlertFormat};
use peregrine_metrics::Registry;
use peregrine_outputs::{Outputs, OutputsConfig, OutputsEnv};

fn start(cfg: &OutputsConfig) -> Outputs {
    Outputs::start(
        cfg,
        OutputsEnv {
            registry: Arc::new(Registry::new()),
            log: Arc::new(|_, _| {}),
            stdout: None,
        },
    )
    .expect("outputs")
}

fn saturate(name: &str, cfg: &OutputsConfig, n: usize) {
    let alerts: Vec<Alert> = AlertGenerator::new(1).take(n).collect();
    let outputs = start(cfg);
    let t = Instant::now();
    let mut enqueue_max = Duration::ZERO;
    for a in alerts {
        let e = Instant::now();
        outputs.enqueue(a);
        enqueue_max = enqueue_max.max(e.elapsed());
    }
    let enqueue_time = t.elapsed();
    while outputs.stats()[0].delivered < n as u64 {
        std::thread::sleep(Duration::from_micros(200));
    }
    let total = t.elapsed();
    let s = &outputs.stats()[0];
    println!(
        "{name:<6} saturated: {n} alerts in {:.3} s = {:>9.0} alerts/s | enqueue {:.0} ns/alert (max {} us) | enqueue->delivered mean {:.1} ms, max {:.1} ms | dropped {}",
        total.as_secs_f64(),
        n as f64 / total.as_secs_f64(),
        enqueue_time.as_nanos() as f64 / n as f64,
        enqueue_max.as_micros(),
        s.latency_ns_mean as f64 / 1e6,
        s.latency_ns_max as f64 / 1e6,
        s.dropped
    );
    outputs.shutdown();
}

fn steady(name: &str, cfg: &OutputsConfig, n: usize, per_sec: u64) {
    let outputs = start(cfg);
    let gap = Duration::from_nanos(1_000_000_000 / per_sec);
    let t = Instant::now();
    for (i, a) in AlertGenerator::new(2).take(n).enumerate() {
        let due = t + gap * i as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        outputs.enqueue(a);
    }
    while outputs.stats()[0].delivered < n as u64 {
        std::thread::sleep(Duration::from_micros(200));
    }
    let s = &outputs.stats()[0];
    println!(
        "{name:<6} steady {per_sec}/s: enqueue->delivered mean {:.3} ms, max {:.3} ms",
        s.latency_ns_mean as f64 / 1e6,
        s.latency_ns_max as f64 / 1e6
    );
    outputs.shutdown();
}

/// Formatting alone (what each alert costs a worker before any I/O).
fn format_only(n: usize) {
    let alerts: Vec<Alert> = AlertGenerator::new(3).take(n).collect();
    for (name, fmt) in [
        ("json", AlertFormat::json()),
        ("text", AlertFormat::default()),
    ] {
        let t = Instant::now();
        let mut bytes = 0;
        for a in &alerts {
            bytes += fmt.format(a).len();
        }
        let dt = t.elapsed();
        println!(
            "format {name}: {:.0} ns/alert ({:.0} alerts/s, {} bytes/alert)",
            dt.as_nanos() as f64 / n as f64,
            n as f64 / dt.as_secs_f64(),
            bytes / n
        );
    }
}

fn main() {
    format_only(200_000);
    let dir = common::temp_dir("bench");
    let mut file = OutputsConfig {
        format: AlertFormat::json(),
        queue_capacity: 1 << 20,
        ..OutputsConfig::default()
    };
    file.stdout.enabled = false;
    file.syslog.enabled = false;
    file.file.enabled = true;
    file.file.keep_alive = true;
    file.file.filename = dir.join("alerts.json").to_string_lossy().into();
    saturate("file", &file, 300_000);
    steady("file", &file, 2_000, 1_000);

    let rx = common::HttpReceiver::start(0, None);
    let mut http = OutputsConfig {
        format: AlertFormat::json(),
        queue_capacity: 1 << 20,
        ..OutputsConfig::default()
    };
    http.stdout.enabled = false;
    http.syslog.enabled = false;
    http.http.enabled = true;
    http.http.url = rx.url("http");
    saturate("http", &http, 30_000);
    steady("http", &http, 2_000, 1_000);
    let _ = std::fs::remove_dir_all(dir);
}
