//! Live detection, Peregrine's main job: the probe captures the syscalls the
//! rules need (plus what state needs), the pipeline turns them into alerts,
//! the outputs deliver them. SIGINT/SIGTERM stop with Falco's summary;
//! SIGHUP or a changed rules/config file reloads the rules without losing
//! state (a broken file keeps the old rules running).

use std::sync::Arc;
use std::time::{Duration, Instant};

use peregrine::drops::{DropMonitor, DropStats};
use peregrine::timeouts::TimeoutMonitor;
use peregrine::wall_ns;
use peregrine_container::ContainerManager;
use peregrine_ebpf::interest::{self, BaseSyscalls, ScSet};
use peregrine_ebpf::{LiveConfig, LiveStats};
use peregrine_engine::{Engine, Pipeline};
use peregrine_event::source::{EventSource, Next};
use peregrine_state::StateConfig;

use crate::app;
use crate::cli::FalcoArgs;
use crate::config::watch::{FileWatcher, ReloadTriggers};
use crate::config::{self, Config, Loaded};

/// Periodic work (signals, drop checks, reloads) runs at least this often
/// under load, counted in events so the hot loop reads no clock.
const EVENTS_PER_TICK: u64 = 4096;

pub fn run(args: &FalcoArgs, loaded: &Loaded) -> u8 {
    match run_inner(args, loaded) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("peregrine: {e}");
            1
        }
    }
}

/// The syscalls to capture for this engine under `base_syscalls`.
pub fn interest_for(engine: &Engine, cfg: &Config, all_events: bool) -> interest::Selection {
    let rules = ScSet::from_event_types(engine.interesting_types().iter());
    let base = BaseSyscalls {
        custom_set: cfg.base_syscalls.custom_set.clone(),
        repair: cfg.base_syscalls.repair,
        all: cfg.base_syscalls.all || all_events,
    };
    interest::select(&rules, &base)
}

/// The probe's counters in the drop monitor's terms.
fn drop_stats(stats: &LiveStats) -> DropStats {
    DropStats {
        n_evts: stats.n_evts(),
        n_drops: stats.n_drops(),
        n_drops_buffer: stats.n_drops_buffer(),
        n_drops_scratch_map: stats.per_cpu.iter().map(|c| c.n_drops_scratch).sum(),
        ..DropStats::default()
    }
}

fn live_config(args: &FalcoArgs, cfg: &Config, set: ScSet) -> Result<LiveConfig, String> {
    let mut lc = LiveConfig::default();
    let preset = cfg.engine.buf_size_preset.clamp(0, 255) as u8;
    lc.probe.ring_bytes_per_cpu = match args.page_size {
        Some(pages) if pages > 0 => (pages as usize * 4096).next_power_of_two(),
        _ => peregrine_ebpf::buf_size_preset_bytes(preset).ok_or_else(|| {
            format!("engine.modern_ebpf.buf_size_preset {preset} is out of range (1-10)")
        })?,
    };
    // Falco: one buffer per `cpus_for_each_buffer` CPUs, 0 = one for all.
    // The probe has per-CPU rings or one shared ring; a group covering
    // every CPU is the shared ring.
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as i64;
    let per = cfg.engine.cpus_for_each_buffer;
    lc.probe.shared_ring = per == 0 || per >= cpus;
    if cfg.falco_libs.snaplen > 0 {
        lc.probe.snaplen = cfg.falco_libs.snaplen.min(65_536) as u32;
    }
    lc.probe.interest = set;
    lc.probe.drop_failed_exit = cfg.engine.drop_failed_exit;
    Ok(lc)
}

/// The container manager configured from the container plugin's
/// `init_config` when falco.yaml loads it, else with every engine on.
fn container_manager(cfg: &Config) -> ContainerManager {
    let mut cc = peregrine_container::Config::default();
    if let Ok(root) = std::env::var("HOST_ROOT") {
        if !root.is_empty() {
            cc.host_root = Some(root.into());
        }
    }
    // Bounded wait on a new container's first process: its first alerts
    // then carry metadata; a dead socket costs this once per container.
    cc.wait_for_new = Duration::from_millis(300);
    if let Some(p) = cfg.plugins.iter().find(|p| p.name == "container") {
        app::apply_container_init_config(&mut cc, &p.init_config);
    }
    ContainerManager::new(cc)
}

fn run_inner(args: &FalcoArgs, loaded: &Loaded) -> Result<u8, String> {
    let cfg = &loaded.config;
    let started = Instant::now();
    let (_rules, engine) = app::build_engine(args, cfg)?;
    let selection = interest_for(&engine, cfg, args.all_events);
    for n in &selection.invalid_names {
        eprintln!("peregrine: warning: base_syscalls.custom_set: unknown syscall '{n}' ignored");
    }
    if !selection.unsupported.is_empty() && args.verbose {
        let names: Vec<&str> = selection.unsupported.names().collect();
        eprintln!(
            "peregrine: syscalls the rules mention but that are not captured (base_syscalls.all=true captures them): {}",
            names.join(", ")
        );
    }
    let lc = live_config(args, cfg, selection.set)?;
    if args.dry_run {
        return Ok(0);
    }
    ReloadTriggers::install_signal_handlers().map_err(|e| format!("signal handlers: {e}"))?;
    let outputs = Arc::new(app::start_outputs(args, cfg)?);
    let mut src = crate::app::open_live(&lc)?;
    // /healthz answers only once the probe is attached: ready means detecting.
    let web = app::start_webserver(cfg)?;
    eprintln!(
        "peregrine: live detection started: {} rules, {} syscalls captured, {} threads from /proc",
        engine.rule_count(),
        selection.set.len(),
        src.tables().threads.len()
    );

    let state_cfg = StateConfig {
        max_threads: cfg.falco_libs.thread_table_size.max(1) as usize,
        ..StateConfig::default()
    };
    let manager = container_manager(cfg);
    let mut capture = app::rule_capture(cfg, src.tables());
    let mut pipeline = Pipeline::from_tables(engine, src.take_tables(), state_cfg);
    for t in pipeline.state.threads().iter() {
        if let Some(c) = &t.container {
            manager.observe(c, t.pid.max(0) as u32);
        }
    }
    pipeline.containers = Box::new(manager);

    let _watcher = cfg.watch_config_files.then(|| {
        let mut paths: Vec<std::path::PathBuf> = app::rules_paths(args, cfg)
            .into_iter()
            .map(Into::into)
            .collect();
        paths.extend(loaded.files.iter().map(|(p, _)| p.clone()));
        FileWatcher::reload_on_change(paths)
    });
    let deadline = args.duration_secs.map(|s| started + Duration::from_secs(s));
    let initial = src.stats().map_err(|e| e.to_string())?;
    let mut drops = DropMonitor::new(app::drop_settings(cfg));
    let mut timeouts = TimeoutMonitor::new(cfg.syscall_event_timeouts_max_consecutives);
    let mut next_second = wall_ns();
    // The first call starts the monitor's one-second clock.
    let _ = drops.on_event(next_second, &drop_stats(&initial));
    let hostname = app::hostname();
    let snapshots = app::start_metrics_snapshots(cfg, &outputs, &hostname);
    // Threads whose exit was missed (a drop) go once /proc no longer has
    // them, as libsinsp's auto-purging does.
    let purge_every = cfg.falco_libs.thread_table_auto_purging_interval_s.max(1) * 1_000_000_000;
    let purge_after = cfg.falco_libs.thread_table_auto_purging_thread_timeout_s * 1_000_000_000;
    let proc_root =
        std::path::PathBuf::from(std::env::var("HOST_ROOT").unwrap_or_default() + "/proc");
    let mut next_purge = wall_ns() + purge_every;
    let rules_files = app::rules_paths(args, cfg);
    let mut metrics = super::live_metrics::LiveMetrics::new(
        peregrine_metrics::Registry::global().clone(),
        &rules_files,
        "modern_ebpf",
    );
    let mut since_tick = 0u64;
    let mut exit_code = 0u8;
    let mut on_alert = |a| {
        outputs.enqueue(a);
    };

    loop {
        let idle = match src.next() {
            Ok(Next::Event(ev)) => {
                timeouts.on_event(ev.event.ts());
                metrics.count_event(ev.event.event_type());
                let matched = pipeline.on_event(&ev, &mut on_alert);
                if let Some(c) = capture.as_mut() {
                    if let Some(a) = c.on_event(&ev, matched, &pipeline.state, &hostname) {
                        outputs.enqueue_internal(a);
                    }
                }
                since_tick += 1;
                false
            }
            Ok(Next::Idle) => {
                if let Some(a) = timeouts.on_timeout(wall_ns(), &hostname) {
                    outputs.enqueue_internal(a);
                }
                true
            }
            Ok(Next::End) => break,
            Err(e) => {
                eprintln!("peregrine: live source: {e}");
                exit_code = 1;
                break;
            }
        };
        if !idle && since_tick < EVENTS_PER_TICK {
            continue;
        }
        since_tick = 0;
        if ReloadTriggers::shutdown_requested() {
            break;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        // Once a second: one read of the kernel counters feeds the metrics
        // and Falco's syscall_event_drops monitor.
        let now = wall_ns();
        if now >= next_purge {
            next_purge = now + purge_every;
            pipeline.state.purge(now, purge_after, |tid| {
                proc_root.join(tid.to_string()).exists()
            });
        }
        if now >= next_second {
            next_second = now + 1_000_000_000;
            if let Ok(stats) = src.stats() {
                metrics.publish(&stats, &pipeline.engine);
                if let Some(d) = drops.on_event(now, &drop_stats(&stats)) {
                    if !app::drop_actions(&drops.settings, &d, &outputs, &hostname, true) {
                        eprintln!("Error: Drop manager internal error");
                        exit_code = 1;
                        break;
                    }
                }
            }
        }
        if ReloadTriggers::take_reopen() {
            peregrine::logger::info("SIGUSR1 received, reopening outputs...");
            outputs.reopen();
        }
        if ReloadTriggers::take_reload() {
            match reload(args, loaded) {
                Ok((engine, cfg2)) => {
                    let sel = interest_for(&engine, &cfg2, args.all_events);
                    if let Err(e) = src.set_interest(&sel.set) {
                        eprintln!("peregrine: reload: cannot change the captured syscalls: {e}");
                    }
                    eprintln!(
                        "peregrine: rules reloaded: {} rules, {} syscalls captured",
                        engine.rule_count(),
                        sel.set.len()
                    );
                    metrics.publish(&src.stats().unwrap_or_default(), &pipeline.engine);
                    pipeline.engine = engine;
                    metrics.reloaded(&app::rules_paths(args, &cfg2));
                }
                Err(e) => {
                    peregrine_metrics::Registry::global()
                        .counter(peregrine_metrics::names::RELOAD_FAILURES, &[])
                        .inc();
                    eprintln!("peregrine: reload failed, the previous rules keep running: {e}");
                }
            }
        }
    }

    if let Some(c) = capture.as_mut() {
        c.finish();
    }
    let stats = src.stats().unwrap_or_default();
    if let Some(w) = web {
        w.stop();
    }
    // The snapshotter holds the outputs: it goes first.
    drop(snapshots);
    let report = match Arc::try_unwrap(outputs) {
        Ok(o) => Some(o.shutdown()),
        Err(_) => None,
    };
    print_summary(&stats, started.elapsed());
    eprint!("{}", drops.stats_text());
    print!("{}", app::summary(&pipeline.engine.counts()));
    if let Some(r) = report {
        let lost: u64 = r.outputs.iter().map(|o| o.dropped + o.failed).sum();
        if lost > 0 {
            eprintln!("peregrine: {lost} alerts could not be delivered (see output statistics)");
        }
    }
    // Detaching the probe takes seconds (RCU grace periods): after the
    // summary, so Ctrl-C answers at once.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    drop(src);
    Ok(exit_code)
}

/// Reloads the config and rules off to the side; nothing changes on error.
fn reload(args: &FalcoArgs, _loaded: &Loaded) -> Result<(Engine, Config), String> {
    let opts = config::LoadOptions {
        config_path: args.config.as_ref().map(Into::into),
        options: args.options.clone(),
    };
    let fresh = config::load(&opts).map_err(|e| e.to_string())?;
    let (_rules, engine) = app::build_engine(args, &fresh.config)?;
    Ok((engine, fresh.config))
}

fn print_summary(stats: &LiveStats, elapsed: Duration) {
    let secs = elapsed.as_secs_f64().max(1e-9);
    eprintln!(
        "Events seen by the probe: {} ({:.0}/s), delivered: {}, dropped: {} (buffer full: {})",
        stats.n_evts(),
        stats.n_evts() as f64 / secs,
        stats.consumer.delivered,
        stats.n_drops(),
        stats.n_drops_buffer()
    );
}
