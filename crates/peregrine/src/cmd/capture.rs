//! `peregrine capture -w FILE [-M SECONDS] [FILTER]`: live events to a scap
//! file (process, fd, user lists from /proc first, then events), readable
//! by `peregrine -e`, `peregrine events` and sysdig. Without a filter every
//! syscall the probe handles is written; with one, only matching events
//! (as `sysdig -w FILE FILTER` does), judged with full state.

use std::time::{Duration, Instant};

use peregrine_ebpf::interest::{self, BaseSyscalls, ScSet};
use peregrine_ebpf::LiveConfig;
use peregrine_engine::RawView;
use peregrine_event::source::{EventSource, Next};
use peregrine_scap::ScapWriter;
use peregrine_state::StateConfig;

use crate::cli::CaptureArgs;
use crate::config::watch::ReloadTriggers;

pub fn run(args: &CaptureArgs) -> u8 {
    match capture(args) {
        Ok(n) => {
            eprintln!("peregrine capture: {n} events written to {}", args.write);
            0
        }
        Err(e) => {
            eprintln!("peregrine capture: {e}");
            1
        }
    }
}

fn capture(args: &CaptureArgs) -> Result<u64, String> {
    let mut filter = args
        .filter
        .as_deref()
        .map(super::events::compile_filter)
        .transpose()
        .map_err(|e| format!("filter: {e}"))?;
    ReloadTriggers::install_signal_handlers().map_err(|e| format!("signal handlers: {e}"))?;
    let everything = interest::select(
        &ScSet::all(),
        &BaseSyscalls {
            all: true,
            ..BaseSyscalls::default()
        },
    );
    let mut lc = LiveConfig::default();
    lc.probe.interest = everything.set;
    let mut src = crate::app::open_live(&lc)?;
    let mut writer = ScapWriter::create(&args.write, src.tables())
        .map_err(|e| format!("cannot write {}: {e}", args.write))?;
    // The filter judges events with state, kept as `events -w` keeps it.
    let mut view = filter
        .is_some()
        .then(|| RawView::new(src.tables(), StateConfig::default()));
    let deadline = args
        .duration_secs
        .map(|s| Instant::now() + Duration::from_secs(s));
    let mut since_check = 0u32;
    loop {
        match src.next() {
            Ok(Next::Event(ev)) => {
                let keep = match view.as_mut() {
                    None => true,
                    Some(v) => {
                        v.observe(&ev.event);
                        super::events::matches(&mut filter, v, &ev)
                    }
                };
                if keep {
                    writer
                        .write_event(&ev)
                        .map_err(|e| format!("writing {}: {e}", args.write))?;
                }
                since_check += 1;
                if since_check < 4096 {
                    continue;
                }
            }
            Ok(Next::Idle) => {}
            Ok(Next::End) => break,
            Err(e) => return Err(format!("live source: {e}")),
        }
        since_check = 0;
        if ReloadTriggers::shutdown_requested() || deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
    }
    let n = writer.events_written();
    let stats = src.stats().unwrap_or_default();
    writer
        .close()
        .map_err(|e| format!("writing {}: {e}", args.write))?;
    if stats.n_drops() > 0 {
        eprintln!(
            "peregrine capture: warning: {} events dropped by the kernel (ring buffer full)",
            stats.n_drops()
        );
    }
    Ok(n)
}
