//! The HTTP receiver is down, then hangs, then is slow, then back: no alert
//! accepted into the queue is lost, the drop count beyond the queue's
//! capacity is exact, and the producer never waits on the output.

mod common;

use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use common::*;
use peregrine_alert::synthetic::AlertGenerator;
use peregrine_alert::{Alert, AlertFormat};
use peregrine_metrics::Registry;
use peregrine_outputs::{Outputs, OutputsConfig, OutputsEnv};

const CAPACITY: usize = 50;

/// Enqueues on another thread; panics if that thread does not come back
/// within 10 s (a producer blocked by the output).
fn enqueue_all(outputs: &Arc<Outputs>, alerts: Vec<Alert>) -> Vec<bool> {
    let (tx, rx) = mpsc::channel();
    let o = outputs.clone();
    std::thread::spawn(move || {
        let accepted: Vec<bool> = alerts
            .into_iter()
            .map(|a| o.enqueue(a).accepted == 1)
            .collect();
        let _ = tx.send(accepted);
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the producer stalled on a slow output")
}

#[test]
fn down_then_hung_then_slow_then_back() {
    let port = free_port();
    let mut cfg = OutputsConfig {
        format: AlertFormat::json(),
        ..OutputsConfig::default()
    };
    cfg.stdout.enabled = false;
    cfg.syslog.enabled = false;
    cfg.queue_capacity = CAPACITY as u64;
    cfg.http.enabled = true;
    cfg.http.url = format!("http://127.0.0.1:{port}/");
    cfg.http.retry_backoff_initial_ms = 10;
    cfg.http.retry_backoff_max_ms = 80;
    cfg.output_timeout_ms = 10_000;
    let reg = Arc::new(Registry::new());
    let outputs = Arc::new(
        Outputs::start(
            &cfg,
            OutputsEnv {
                registry: reg.clone(),
                log: Arc::new(|_, _| {}),
                stdout: None,
            },
        )
        .unwrap(),
    );
    let mut gen = AlertGenerator::new(21);
    let mut accepted_lines = Vec::new();
    let mut keep = |alerts: &[Alert], flags: &[bool]| {
        for (a, ok) in alerts.iter().zip(flags) {
            if *ok {
                accepted_lines.push(AlertFormat::json().format(a));
            }
        }
    };

    // 1. Down (connection refused): the queue fills, the rest is dropped.
    let burst: Vec<Alert> = (&mut gen).take(CAPACITY + 30).collect();
    let flags = enqueue_all(&outputs, burst.clone());
    assert!(flags[..CAPACITY].iter().all(|a| *a));
    assert!(flags[CAPACITY..].iter().all(|a| !*a));
    keep(&burst, &flags);
    assert_eq!(outputs.stats()[0].dropped, 30);
    assert!(wait_until(|| outputs.stats()[0].retries >= 3));

    // 2. Back up but hanging on the first request: producers still return
    //    at once, and everything beyond the full queue is dropped.
    let rx = HttpReceiver::start(port, None);
    rx.control.close_gate();
    assert!(wait_until(|| rx.control.waiting.load(Ordering::SeqCst) >= 1));
    let burst: Vec<Alert> = (&mut gen).take(200).collect();
    let flags = enqueue_all(&outputs, burst.clone());
    assert!(flags.iter().all(|a| !*a));
    assert_eq!(outputs.stats()[0].dropped, 230);

    // 3. Slow (5 ms per request): the backlog drains in order.
    *rx.control.delay.lock().unwrap() = Duration::from_millis(5);
    rx.control.open_gate();
    assert!(wait_until(|| outputs.stats()[0].depth == 0));
    assert_eq!(rx.bodies().len(), CAPACITY);

    // 4. Back to normal: bursts that fit are all delivered.
    *rx.control.delay.lock().unwrap() = Duration::ZERO;
    for _ in 0..4 {
        let burst: Vec<Alert> = (&mut gen).take(CAPACITY).collect();
        let flags = enqueue_all(&outputs, burst.clone());
        assert!(flags.iter().all(|a| *a));
        keep(&burst, &flags);
        assert!(wait_until(|| outputs.stats()[0].depth == 0));
    }

    let outputs = Arc::try_unwrap(outputs).ok().unwrap();
    let report = outputs.shutdown();
    let o = &report.outputs[0];
    assert_eq!((o.delivered, o.dropped, o.failed), (250, 230, 0), "{o:?}");
    // Exactly the accepted alerts, in order, byte for byte.
    assert_eq!(rx.bodies(), accepted_lines);
    let text = reg.render_prometheus();
    assert!(text.contains("falcosecurity_falco_outputs_queue_num_drops_total 230\n"));
    assert!(text.contains("peregrine_output_drops_total{output=\"http\"} 230\n"));
}

#[test]
fn shutdown_flushes_within_output_timeout() {
    // A receiver that never answers: shutdown gives up after the timeout
    // and counts what was left as failed.
    let rx = HttpReceiver::start(0, None);
    rx.control.close_gate();
    let mut cfg = OutputsConfig::default();
    cfg.stdout.enabled = false;
    cfg.syslog.enabled = false;
    cfg.http.enabled = true;
    cfg.http.url = rx.url("http");
    cfg.http.timeout_ms = 200;
    cfg.output_timeout_ms = 500;
    let outputs = Outputs::start(
        &cfg,
        OutputsEnv {
            registry: Arc::new(Registry::new()),
            log: Arc::new(|_, _| {}),
            stdout: None,
        },
    )
    .unwrap();
    for a in AlertGenerator::new(1).take(10) {
        outputs.enqueue(a);
    }
    let t = std::time::Instant::now();
    let report = outputs.shutdown();
    assert!(t.elapsed() < Duration::from_secs(5));
    let o = &report.outputs[0];
    assert_eq!((o.delivered, o.failed), (0, 10), "{o:?}");
    rx.control.open_gate();
}
