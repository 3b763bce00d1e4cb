//! What replay and live detection share: the config (with `-c`/`-o`), the
//! rules (config `rules_files` or `-r`, the `rules:` selection), the engine
//! and the outputs, set up the way Falco sets them up.

use std::path::PathBuf;
use std::sync::Arc;

use peregrine::{bridge, logger};
use peregrine_alert::Priority;
use peregrine_engine::{Engine, EngineConfig};
use peregrine_outputs::{Outputs, OutputsEnv};
use peregrine_rules::ruleset::{NameMatch, Ruleset};

use crate::cli::FalcoArgs;
use crate::config::{self, LoadOptions, Loaded, RuleSelection};

/// Loads the configuration; warnings and notices go to stderr once.
pub fn load_config(args: &FalcoArgs) -> Result<Loaded, String> {
    let mut options = args.options.clone();
    // The classic `-A`: what Falco 0.44 spells `-o base_syscalls.all=true`.
    if args.all_events {
        options.push("base_syscalls.all=true".into());
    }
    let opts = LoadOptions {
        config_path: args.config.as_ref().map(PathBuf::from),
        options,
    };
    let loaded = config::load(&opts).map_err(|e| e.to_string())?;
    let c = &loaded.config;
    logger::configure(
        c.log.stderr,
        c.log.syslog,
        &c.log.level,
        c.outputs.format.time_format_iso_8601,
    );
    logger::info(&format!(
        "Peregrine version: {} ({})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH
    ));
    if !loaded.files.is_empty() {
        logger::info("Peregrine initialized with configuration files:");
        for (f, _) in &loaded.files {
            logger::info(&format!("   {}", f.display()));
        }
    }
    for w in &loaded.warnings {
        logger::warning(&w.to_string());
    }
    for n in &loaded.notices {
        logger::info(n);
    }
    Ok(loaded)
}

/// The rules files to load: `-r` paths when given, else the config's
/// `rules_files`; directories give their `.yaml`/`.yml` files in order.
pub fn rules_paths(args: &FalcoArgs, cfg: &config::Config) -> Vec<String> {
    let list = if args.rules.is_empty() {
        cfg.rules_files.clone()
    } else {
        args.rules.clone()
    };
    config::expand_rules_paths(&list)
        .into_iter()
        .map(|p| p.display().to_string())
        .collect()
}

/// Applies falco.yaml's `rules:` selection, in order, to the default set.
pub fn apply_selection(rs: &mut Ruleset, selection: &[RuleSelection]) {
    for s in selection {
        let (on, rule, tag) = match s {
            RuleSelection::Enable { rule, tag } => (true, rule, tag),
            RuleSelection::Disable { rule, tag } => (false, rule, tag),
        };
        if let Some(r) = rule {
            rs.enable(r, NameMatch::Wildcard, on, 0);
        }
        if let Some(t) = tag {
            rs.enable_tags(&[t.as_str()], on, 0);
        }
    }
}

/// The host name alerts carry: `FALCO_HOSTNAME` when set (as in Falco's
/// chart), else the kernel's.
pub fn hostname() -> Arc<str> {
    if let Ok(h) = std::env::var("FALCO_HOSTNAME") {
        if !h.is_empty() {
            return h.into();
        }
    }
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
        .into()
}

/// Loads, selects and compiles the rules into an engine.
pub fn build_engine(args: &FalcoArgs, cfg: &config::Config) -> Result<(Ruleset, Engine), String> {
    let paths = rules_paths(args, cfg);
    logger::info("Loading rules from:");
    for p in &paths {
        logger::info(&format!("   {p}"));
    }
    let mut rs = bridge::load_ruleset(&paths)?;
    apply_selection(&mut rs, &cfg.rules);
    let mut inputs = bridge::rule_inputs(&rs, 0)?;
    apply_append_output(&mut inputs, cfg)?;
    let engine = Engine::new(
        inputs,
        EngineConfig {
            match_all: cfg.rule_matching_all,
            min_priority: cfg.priority,
            hostname: hostname(),
        },
    )
    .map_err(|errs| {
        errs.iter()
            .map(|e| format!("rule '{}': {}", e.rule, e.message))
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    Ok((rs, engine))
}

/// falco.yaml's `append_output`, as Falco 0.44 applies it when compiling
/// rule outputs: each matching entry appends `" " + extra_output`, and with
/// `suggested_output` the suggested fields of the loaded plugins (the
/// container plugin suggests `container_id=%container.id` and
/// `container_name=%container.name`); `extra_fields` go to `output_fields`
/// only (a formatted string under its name, or a raw typed field).
fn apply_append_output(
    inputs: &mut [peregrine_engine::RuleInput],
    cfg: &config::Config,
) -> Result<(), String> {
    use peregrine_engine::OutputPart;
    use peregrine_outputs::append::ExtraField;
    let container_plugin = cfg.plugins.iter().any(|p| p.name == "container");
    let registry = peregrine_rules::FieldRegistry::syscall();
    for entry in &cfg.append_output {
        let extra = match &entry.extra_output {
            Some(fmt) if !fmt.is_empty() => {
                let t = peregrine_rules::output::OutputTemplate::parse(fmt, &registry)
                    .map_err(|e| format!("append_output: extra_output '{fmt}': {e}"))?;
                Some(bridge::output_parts(&t)?)
            }
            _ => None,
        };
        let mut extra_fields = Vec::new();
        for ef in &entry.extra_fields {
            let (key, fmt, raw) = match ef {
                ExtraField::Formatted { name, format } => (name.clone(), format.clone(), false),
                ExtraField::Raw(field) => (field.clone(), format!("%{field}"), true),
            };
            let t = peregrine_rules::output::OutputTemplate::parse(&fmt, &registry)
                .map_err(|e| format!("append_output: extra_fields '{key}': {e}"))?;
            extra_fields.push(OutputPart::Extra {
                key,
                parts: bridge::output_parts(&t)?,
                raw,
            });
        }
        let suggested = entry.suggested_output && container_plugin;
        for input in inputs.iter_mut() {
            if !entry.matches(&input.source, &input.name, &input.tags) {
                continue;
            }
            if let Some(parts) = &extra {
                input.output.push(OutputPart::Text(" ".into()));
                input.output.extend(parts.iter().cloned());
            }
            input.output.extend(extra_fields.iter().cloned());
            if suggested && input.source == "syscall" {
                for (label, field) in [
                    ("container_id", "container.id"),
                    ("container_name", "container.name"),
                ] {
                    input.output.push(OutputPart::Text(format!(" {label}=")));
                    input
                        .output
                        .push(OutputPart::Field(peregrine_engine::cond::FieldRef {
                            name: field.into(),
                            arg: None,
                            transformers: Vec::new(),
                        }));
                }
            }
        }
    }
    Ok(())
}

/// Starts the configured outputs (`-U` forces unbuffered).
pub fn start_outputs(args: &FalcoArgs, cfg: &config::Config) -> Result<Outputs, String> {
    let mut oc = cfg.outputs.clone();
    if args.unbuffered {
        oc.buffered = false;
    }
    Outputs::start(&oc, OutputsEnv::default()).map_err(|e| e.to_string())
}

/// Falco's end-of-run summary.
pub fn summary(counts: &[peregrine_engine::RuleCount]) -> String {
    let mut by_priority = [0u64; 8];
    let mut total = 0;
    for c in counts {
        by_priority[c.priority as usize] += c.matches;
        total += c.matches;
    }
    let mut out = format!("Events detected: {total}\nRule counts by severity:\n");
    for p in Priority::ALL {
        let n = by_priority[p as usize];
        if n > 0 {
            let name = match p {
                Priority::Informational => "INFO".to_string(),
                other => other.as_str().to_uppercase(),
            };
            out.push_str(&format!("   {name}: {n}\n"));
        }
    }
    out.push_str("Triggered rules by rule name:\n");
    for c in counts.iter().filter(|c| c.matches > 0) {
        out.push_str(&format!("   {}: {}\n", c.rule, c.matches));
    }
    out
}

/// Applies the container plugin's `init_config` (`engines.docker`,
/// `engines.podman`, `engines.containerd`/`engines.cri`, each with `enabled`
/// and `sockets`) to the built-in container manager's settings.
pub fn apply_container_init_config(cc: &mut peregrine_container::Config, init_config: &str) {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(init_config) else {
        return;
    };
    let Some(engines) = v.get("engines") else {
        return;
    };
    let apply = |target: &mut peregrine_container::EngineConfig, e: &serde_json::Value| {
        if let Some(on) = e.get("enabled").and_then(|b| b.as_bool()) {
            target.enabled = on;
        }
        if let Some(socks) = e.get("sockets").and_then(|s| s.as_array()) {
            target.sockets = socks
                .iter()
                .filter_map(|s| s.as_str())
                .map(PathBuf::from)
                .collect();
        }
    };
    if let Some(e) = engines.get("docker") {
        apply(&mut cc.docker, e);
    }
    if let Some(e) = engines.get("podman") {
        apply(&mut cc.podman, e);
    }
    for key in ["containerd", "cri"] {
        if let Some(e) = engines.get(key) {
            apply(&mut cc.cri, e);
        }
    }
}

/// Starts the webserver (health, versions, Prometheus metrics) when enabled.
pub fn start_webserver(cfg: &config::Config) -> Result<Option<crate::web::WebServer>, String> {
    if !cfg.webserver.enabled {
        return Ok(None);
    }
    let engine = peregrine_rules::loader::ENGINE_VERSION.to_string();
    let endpoints = crate::web::Endpoints {
        healthz_path: cfg.webserver.k8s_healthz_endpoint.clone(),
        versions_json: crate::web::versions_json(env!("CARGO_PKG_VERSION"), &engine),
        metrics: cfg
            .webserver
            .prometheus_metrics_enabled
            .then(|| peregrine_metrics::Registry::global().clone()),
    };
    crate::web::WebServer::start(&cfg.webserver, endpoints)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// The config's `syscall_event_drops` (checked when the config loaded).
pub fn drop_settings(cfg: &crate::config::Config) -> peregrine::drops::DropSettings {
    let d = &cfg.syscall_event_drops;
    peregrine::drops::DropSettings {
        actions: d
            .actions
            .iter()
            .filter_map(|a| peregrine::drops::DropAction::parse(a))
            .collect(),
        threshold: d.threshold,
        rate: d.rate,
        max_burst: d.max_burst.max(0) as u64,
        simulate: d.simulate_drops,
    }
}

/// Runs the configured actions for a detected drop (`ebpf`: the live probe
/// is the source); false for `exit`.
pub fn drop_actions(
    settings: &peregrine::drops::DropSettings,
    d: &peregrine::drops::Detected,
    outputs: &peregrine_outputs::Outputs,
    hostname: &std::sync::Arc<str>,
    ebpf: bool,
) -> bool {
    let mut keep_going = true;
    for a in &settings.actions {
        match a {
            peregrine::drops::DropAction::Ignore => {}
            peregrine::drops::DropAction::Log => logger::debug(&d.message()),
            peregrine::drops::DropAction::Alert => {
                outputs.enqueue_internal(d.alert(hostname.clone(), ebpf));
            }
            peregrine::drops::DropAction::Exit => {
                logger::log(logger::Level::Critical, &d.message());
                logger::log(logger::Level::Critical, "Exiting.");
                keep_going = false;
            }
        }
    }
    keep_going
}

/// Opens the live source, saying so when the probe had to leave the
/// tracepoint design for the dispatch one (no tracefs, e.g. in the chart's
/// container).
pub fn open_live(lc: &peregrine_ebpf::LiveConfig) -> Result<peregrine_ebpf::LiveSource, String> {
    let src = peregrine_ebpf::LiveSource::open(lc)
        .map_err(|e| format!("cannot start the live probe: {e}"))?;
    if let Some(why) = src.probe().fallback() {
        eprintln!("peregrine: {why}; using the dispatch design (raw sys_exit tracepoint) instead");
    }
    Ok(src)
}

/// The config's `capture:` section, when enabled, as a rule-triggered
/// capture over a source with `tables`; says so in the log as Falco does.
pub fn rule_capture(
    cfg: &config::Config,
    tables: &peregrine_event::Tables,
) -> Option<peregrine::rule_capture::RuleCapture> {
    let c = &cfg.capture;
    if !c.enabled {
        return None;
    }
    let capture = peregrine::rule_capture::RuleCapture::new(
        peregrine::rule_capture::CaptureSettings {
            path_prefix: c.path_prefix.clone(),
            all_rules: c.all_rules,
            default_duration_ms: c.default_duration_ms,
            max_file_size_mb: c.max_file_size_mb,
        },
        tables,
    );
    capture.announce();
    Some(capture)
}

/// Falco's metrics snapshots (`metrics.enabled` with `output_rule` and/or
/// `output_file`), every `metrics.interval`.
pub fn start_metrics_snapshots(
    cfg: &config::Config,
    outputs: &Arc<Outputs>,
    hostname: &Arc<str>,
) -> Option<crate::web::snapshot::Snapshotter> {
    let m = &cfg.metrics;
    if !m.enabled || (!m.output_rule && m.output_file.is_empty()) {
        return None;
    }
    let targets = crate::web::snapshot::SnapshotTargets {
        outputs: m.output_rule.then(|| outputs.clone()),
        output_file: (!m.output_file.is_empty()).then(|| m.output_file.clone().into()),
    };
    let opts = crate::web::snapshot::SnapshotOptions {
        include_empty: m.include_empty_values,
        memory_in_mb: m.convert_memory_to_mb,
        rules: m.rules_counters_enabled,
        resources: m.resource_utilization_enabled,
        state: m.state_counters_enabled,
        kernel: m.kernel_event_counters_enabled,
    };
    Some(crate::web::snapshot::Snapshotter::start(
        peregrine_metrics::Registry::global().clone(),
        targets,
        std::time::Duration::from_millis(m.interval_ms.max(100)),
        hostname.clone(),
        opts,
    ))
}
