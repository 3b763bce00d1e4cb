//! Replay a capture through the rules (`-o engine.kind=replay
//! -o engine.replay.capture_file=FILE`, or the classic `-e FILE`): alerts go
//! to the configured outputs as they match, then Falco's summary. Each
//! event first passes Falco's syscall event drop monitor (a capture has no
//! counters, so only `simulate_drops` triggers it), whose report ends the
//! run on stderr.

use peregrine::drops::{DropMonitor, DropStats};
use peregrine_engine::{CaptureContainers, Pipeline};
use peregrine_scap::ScapReader;
use peregrine_state::StateConfig;

use crate::app;
use crate::cli::FalcoArgs;
use crate::config::Loaded;

pub fn run(args: &FalcoArgs, loaded: &Loaded) -> u8 {
    let cfg = &loaded.config;
    let capture = args
        .capture_file
        .clone()
        .unwrap_or_else(|| cfg.engine.replay_capture_file.clone());
    if capture.is_empty() {
        eprintln!("peregrine: engine.kind is replay but no engine.replay.capture_file is set");
        return 1;
    }
    let (_rules, engine) = match app::build_engine(args, cfg) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("peregrine: {e}");
            return 1;
        }
    };
    let mut reader = match ScapReader::open(&capture) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("peregrine: {e}");
            return 1;
        }
    };
    if args.dry_run {
        return 0;
    }
    let outputs = match app::start_outputs(args, cfg) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("peregrine: {e}");
            return 1;
        }
    };
    let state_cfg = StateConfig {
        max_threads: cfg.falco_libs.thread_table_size.max(1) as usize,
        ..StateConfig::default()
    };
    let mut capture = app::rule_capture(cfg, reader.tables());
    let mut pipeline = Pipeline::from_tables(engine, reader.take_tables(), state_cfg);
    pipeline.containers = Box::new(CaptureContainers::default());
    let mut on_alert = |a| {
        outputs.enqueue(a);
    };
    let mut drops = DropMonitor::new(app::drop_settings(cfg));
    let hostname = app::hostname();
    // A capture has no kernel counters: only simulated drops can show.
    let no_counters = DropStats::default();
    let mut fatal = None;
    let code = loop {
        match reader.next_event() {
            Ok(Some(ev)) => {
                if let Some(d) = drops.on_event(ev.event.ts(), &no_counters) {
                    if !app::drop_actions(&drops.settings, &d, &outputs, &hostname, false) {
                        fatal = Some("Drop manager internal error");
                        break 1;
                    }
                }
                let matched = pipeline.on_event(&ev, &mut on_alert);
                if let Some(c) = capture.as_mut() {
                    if let Some(a) = c.on_event(&ev, matched, &pipeline.state, &hostname) {
                        outputs.enqueue_internal(a);
                    }
                }
            }
            Ok(None) => break 0,
            Err(e) => {
                eprintln!("peregrine: {e}");
                break 1;
            }
        }
    };
    if let Some(c) = capture.as_mut() {
        c.finish();
    }
    outputs.shutdown();
    eprint!("{}", drops.stats_text());
    print!("{}", app::summary(&pipeline.engine.counts()));
    if let Some(e) = fatal {
        eprintln!("Error: {e}");
    }
    code
}
