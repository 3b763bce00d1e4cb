//! The Falco-compatible entry: no subcommand, Falco's flags, handled in
//! Falco 0.44's order (schemas, `-i`, `--list-events`, then what needs the
//! config: `--version`, `--page-size`, listings, validation, sources,
//! `--support`, `--dry-run`, the pid file, then replay or live detection).

use std::path::PathBuf;

use crate::cli::FalcoArgs;
use crate::config::{self, EngineKind, LoadOptions};

use super::list_events::{self, OutputFormat};

/// The event sources Peregrine serves.
pub const LOADED_SOURCES: &[&str] = &["syscall"];

/// `--format` / `--markdown`, checked as Falco checks them.
pub fn output_format(args: &FalcoArgs) -> Result<OutputFormat, String> {
    if args.markdown && args.format.is_some() {
        return Err("Cannot specify both --markdown and --format options together".into());
    }
    match &args.format {
        Some(f) => OutputFormat::parse(f),
        None if args.markdown => {
            eprintln!("WARNING: --markdown is deprecated, use --format markdown instead.");
            Ok(OutputFormat::Markdown)
        }
        None => Ok(OutputFormat::Text),
    }
}

fn unknown_source(verb: &str, src: &str) -> String {
    let mut m = format!("Attempted {verb} an unknown event source: {src}");
    if src == "k8s_audit" {
        m.push_str(
            " (the k8s_audit source comes from Falco's k8saudit plugin, which Peregrine does not load; only 'syscall' is available)",
        );
    }
    m
}

/// Falco's `--enable-source` / `--disable-source` selection over the loaded
/// sources; the result is never empty.
pub fn enabled_sources(args: &FalcoArgs) -> Result<Vec<&'static str>, String> {
    if !args.enable_source.is_empty() && !args.disable_source.is_empty() {
        return Err("You can not mix --enable-source and --disable-source".into());
    }
    let mut enabled: Vec<&'static str> = LOADED_SOURCES.to_vec();
    if !args.enable_source.is_empty() {
        enabled.clear();
        for src in &args.enable_source {
            let Some(s) = LOADED_SOURCES.iter().find(|s| *s == src) else {
                return Err(unknown_source("enabling", src));
            };
            if !enabled.contains(s) {
                enabled.push(s);
            }
        }
    } else {
        for src in &args.disable_source {
            if !LOADED_SOURCES.contains(&src.as_str()) {
                return Err(unknown_source("disabling", src));
            }
            enabled.retain(|s| s != src);
        }
    }
    if enabled.is_empty() {
        return Err("Must enable at least one event source".into());
    }
    Ok(enabled)
}

/// The config without printing its notices (for `--version`, `--page-size`).
fn quiet_config(args: &FalcoArgs) -> Option<config::Loaded> {
    config::load(&LoadOptions {
        config_path: args.config.as_ref().map(PathBuf::from),
        options: args.options.clone(),
    })
    .ok()
}

fn print_version(args: &FalcoArgs) -> u8 {
    let loaded = quiet_config(args);
    if super::validate::json_output(args) {
        let container = loaded
            .as_ref()
            .is_some_and(|l| l.config.plugins.iter().any(|p| p.name == "container"));
        super::print_stdout(&format!("{}\n", crate::versions::info_json(container)))
    } else {
        super::print_stdout(&crate::versions::text())
    }
}

fn print_page_size() -> u8 {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size <= 0 {
        eprintln!("peregrine: Unable to get the system page size through 'sysconf(_SC_PAGESIZE)'");
        return 1;
    }
    eprintln!("Your system page size is: {size} bytes");
    0
}

/// Writes the pid file (`-P`) and removes it when dropped.
struct PidFile(Option<PathBuf>);

impl PidFile {
    fn create(path: Option<&str>) -> Result<PidFile, String> {
        let Some(p) = path.filter(|p| !p.is_empty()) else {
            return Ok(PidFile(None));
        };
        std::fs::write(p, std::process::id().to_string())
            .map_err(|e| format!("Could not write pid to pidfile {p}: {e}. Exiting."))?;
        Ok(PidFile(Some(PathBuf::from(p))))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        if let Some(p) = &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn fail(message: impl std::fmt::Display) -> u8 {
    eprintln!("peregrine: {message}");
    1
}

pub fn run(args: &FalcoArgs) -> u8 {
    let (args, notes) = match super::classic::translate(args) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    for n in &notes {
        eprintln!("peregrine: {n}");
    }
    run_translated(&args)
}

fn run_translated(args: &FalcoArgs) -> u8 {
    if args.rule_schema {
        return super::list::rule_schema();
    }
    if args.config_schema {
        return super::config_schema::run();
    }
    let format = match output_format(args) {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    if args.print_ignored_events {
        return list_events::print_ignored();
    }
    if args.list_events {
        return list_events::print(format);
    }
    if args.version {
        return print_version(args);
    }
    if args.page_size == Some(0) {
        return print_page_size();
    }
    if !args.validate.is_empty() {
        return super::validate::run(args);
    }
    if args.list_fields.is_some() {
        return super::list::fields(args, format);
    }
    if args.list_rules || args.describe_rule.is_some() {
        return super::list::rules(args);
    }
    let mut loaded = match crate::app::load_config(args) {
        Ok(l) => l,
        Err(e) => return fail(e),
    };
    for n in super::classic::apply(args, &mut loaded) {
        eprintln!("peregrine: {n}");
    }
    if let Some(name) = &args.plugin_info {
        return super::plugins::print_info(&loaded, name);
    }
    if args.list_plugins {
        return super::plugins::list(&loaded);
    }
    let replay = args.capture_file.is_some() || loaded.config.engine.kind == EngineKind::Replay;
    // Source selection means nothing when reading a capture (Falco's rule).
    if !replay {
        if let Err(e) = enabled_sources(args) {
            return fail(e);
        }
    }
    if args.support {
        // Falco prints support information after loading the rules.
        if let Err(e) = crate::app::build_engine(args, &loaded.config) {
            return fail(e);
        }
        return super::support::run(args, &loaded);
    }
    if args.dry_run {
        return dry_run(args, &loaded, replay);
    }
    let _pidfile = match PidFile::create(args.pidfile.as_deref()) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    if replay {
        super::replay::run(args, &loaded)
    } else {
        super::live::run(args, &loaded)
    }
}

/// `--dry-run`: config, rules and (for replay) the capture file are checked;
/// no pid file is written and no event is processed.
fn dry_run(args: &FalcoArgs, loaded: &config::Loaded, replay: bool) -> u8 {
    if let Err(e) = crate::app::build_engine(args, &loaded.config) {
        return fail(e);
    }
    if replay {
        let capture = args
            .capture_file
            .clone()
            .unwrap_or_else(|| loaded.config.engine.replay_capture_file.clone());
        if let Err(e) = peregrine_scap::ScapReader::open(&capture) {
            return fail(e);
        }
    }
    eprintln!("peregrine: dry run: configuration and rules are valid; no events processed");
    0
}
