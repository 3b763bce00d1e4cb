//! Configuration: `peregrine.yaml` / `falco.yaml`, `config_files` includes
//! and `-o key=value` overrides, loaded as Falco 0.44 loads falco.yaml.
//! Only this crate knows about config files.
//!
//! Order (Falco's): the main file (`-c`, else /etc/peregrine/peregrine.yaml,
//! else /etc/falco/falco.yaml); `-o config_files…` options; each
//! `config_files` entry merged with its strategy (a directory: its files in
//! name order); then every `-o` option. `${VAR}` in file values is replaced
//! by the environment variable. The result is checked against
//! [`schema::ROOT`]: unknown keys warn (key, file, line), wrong types fail
//! (key, file, line, column). Keys Falco has but Peregrine does not need
//! are accepted and listed once in [`Loaded::notices`].
//!
//! Hot reload: [`watch::ReloadTriggers`] turns SIGHUP and (with
//! `watch_config_files`) changes of the loaded files into reload requests;
//! the caller then loads anew and validates the new rules before swapping
//! (see the module doc of [`watch`]).

mod keypath;
pub mod schema;
mod tree;
mod typed;
mod validate;
pub mod watch;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use tree::{CNode, Origin, Strategy, Value};
pub use typed::*;
pub use validate::Diagnostic;

/// Default config locations, in order of preference.
pub const DEFAULT_PATHS: [&str; 2] = ["/etc/peregrine/peregrine.yaml", "/etc/falco/falco.yaml"];

#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `-c PATH`.
    pub config_path: Option<PathBuf>,
    /// `-o key=value`, in command-line order.
    pub options: Vec<String>,
}

/// A loaded configuration and what loading it said.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    /// The merged document (for `--support` and plugin init configs).
    pub document: CNode,
    /// Config files read, in order, with their SHA-256.
    pub files: Vec<(PathBuf, String)>,
    /// Unknown keys.
    pub warnings: Vec<Diagnostic>,
    /// One-time startup notices (keys without effect, engine kinds served
    /// by the probe, the built-in container plugin, no config file).
    pub notices: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    Read {
        path: PathBuf,
        message: String,
    },
    Yaml {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    Option(String),
    Include(String),
    /// Wrong types (each with key, file, line, column).
    Invalid(Vec<Diagnostic>),
    /// A value that type-checks but makes no sense.
    Semantic {
        path: String,
        message: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Read { path, message } => {
                write!(f, "Cannot read config file ({}): {message}", path.display())
            }
            ConfigError::Yaml {
                path,
                line,
                column,
                message,
            } => write!(
                f,
                "Cannot read config file ({}): {}:{line}:{column}: {message}",
                path.display(),
                path.display()
            ),
            ConfigError::Option(m) | ConfigError::Include(m) => f.write_str(m),
            ConfigError::Invalid(diags) => {
                for (i, d) in diags.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "Error reading config: {d}")?;
                }
                Ok(())
            }
            ConfigError::Semantic { path, message } => {
                write!(f, "Error reading config file ({path}): {message}")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// The config file to read when `-c` is not given.
pub fn default_config_path() -> Option<PathBuf> {
    DEFAULT_PATHS
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

fn parse_file(path: &Path) -> Result<(CNode, String), ConfigError> {
    let bytes = std::fs::read(path).map_err(|e| ConfigError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let sha = peregrine_metrics::sha256::sha256_hex(&bytes);
    let text = String::from_utf8(bytes).map_err(|_| ConfigError::Read {
        path: path.to_path_buf(),
        message: "not UTF-8".into(),
    })?;
    Ok((parse_text(&text, path)?, sha))
}

/// The configuration shipped with Peregrine (the repository's
/// `peregrine.yaml`), used when no config file is found.
pub const BUILTIN_CONFIG: &str = include_str!("../../../../peregrine.yaml");

fn parse_text(text: &str, path: &Path) -> Result<CNode, ConfigError> {
    let source: Arc<str> = Arc::from(path.to_string_lossy().as_ref());
    let docs = peregrine_yaml::parse(text).map_err(|e| ConfigError::Yaml {
        path: path.to_path_buf(),
        line: e.mark.line,
        column: e.mark.column,
        message: e.message,
    })?;
    let origin = Origin {
        source: source.clone(),
        line: 1,
        column: 1,
    };
    let root = match docs.first() {
        None => CNode::empty_map(origin),
        Some(d) if d.is_null() => CNode::empty_map(origin),
        Some(d) => {
            let n = CNode::from_yaml(d, &source);
            if !matches!(n.value, tree::Value::Map(_)) {
                return Err(ConfigError::Yaml {
                    path: path.to_path_buf(),
                    line: d.mark.line,
                    column: d.mark.column,
                    message: "the document must be a mapping of keys".into(),
                });
            }
            n
        }
    };
    Ok(root)
}

/// `config_files` entries as (path, strategy).
fn includes(root: &CNode) -> Result<Vec<(String, Strategy)>, ConfigError> {
    let Some(node) = root.get("config_files").filter(|n| !n.is_null()) else {
        return Ok(Vec::new());
    };
    let items: Vec<&CNode> = match &node.value {
        tree::Value::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    let mut out = Vec::new();
    for item in items {
        match &item.value {
            tree::Value::Scalar { text, .. } => out.push((text.clone(), Strategy::Append)),
            tree::Value::Map(_) => {
                let path = item.get("path").and_then(CNode::as_str).ok_or_else(|| {
                    ConfigError::Include(format!(
                        "{}: config_files entry without a path",
                        item.origin
                    ))
                })?;
                let strategy = match item.get("strategy").and_then(CNode::as_str) {
                    None => Strategy::Append,
                    Some(s) => Strategy::parse(s).ok_or_else(|| {
                        ConfigError::Include(format!(
                            "{}: config_files strategy '{s}' is not one of append, override, add-only",
                            item.origin
                        ))
                    })?,
                };
                out.push((path.to_string(), strategy));
            }
            tree::Value::Seq(_) => {
                return Err(ConfigError::Include(format!(
                    "{}: config_files entries are paths or {{path, strategy}}",
                    item.origin
                )))
            }
        }
    }
    Ok(out)
}

fn include_file(
    root: &mut CNode,
    path: &Path,
    strategy: Strategy,
    files: &mut Vec<(PathBuf, String)>,
) -> Result<(), ConfigError> {
    let (doc, sha) = parse_file(path)?;
    if let Some(n) = doc.get("config_files") {
        return Err(ConfigError::Include(format!(
            "Config error: 'config_files' directive in included config file {} ({})",
            path.display(),
            n.origin
        )));
    }
    tree::merge(root, doc, strategy);
    files.push((path.to_path_buf(), sha));
    Ok(())
}

/// Loads the configuration as `falco -c PATH -o …` would.
pub fn load(opts: &LoadOptions) -> Result<Loaded, ConfigError> {
    let mut notices = Vec::new();
    let main = opts.config_path.clone().or_else(default_config_path);
    let mut files = Vec::new();
    let mut root = match &main {
        Some(p) => {
            let (doc, sha) = parse_file(p)?;
            files.push((p.clone(), sha));
            doc
        }
        None => {
            notices.push(format!(
                "no config file found ({}); using the built-in configuration",
                DEFAULT_PATHS.join(", ")
            ));
            parse_text(BUILTIN_CONFIG, Path::new("<built-in peregrine.yaml>"))?
        }
    };
    // `-o config_files…` first, so their includes are merged too.
    for o in opts
        .options
        .iter()
        .filter(|o| o.starts_with("config_files"))
    {
        keypath::apply_option(&mut root, o).map_err(ConfigError::Option)?;
    }
    for (path, strategy) in includes(&root)? {
        let p = PathBuf::from(&path);
        if main.as_deref() == Some(p.as_path()) {
            return Err(ConfigError::Include(format!(
                "Config error: 'config_files' directive tried to recursively include main config file: {path}."
            )));
        }
        if p.is_file() {
            include_file(&mut root, &p, strategy, &mut files)?;
        } else if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&p)
                .map_err(|e| ConfigError::Read {
                    path: p.clone(),
                    message: e.to_string(),
                })?
                .flatten()
                .map(|e| e.path())
                .filter(|e| e.is_file())
                .collect();
            entries.sort();
            for e in entries {
                include_file(&mut root, &e, strategy, &mut files)?;
            }
        }
        // Missing paths are skipped, as Falco does.
    }
    for o in &opts.options {
        keypath::apply_option(&mut root, o).map_err(ConfigError::Option)?;
    }
    finish(root, files, notices, main)
}

fn finish(
    root: CNode,
    files: Vec<(PathBuf, String)>,
    mut notices: Vec<String>,
    main: Option<PathBuf>,
) -> Result<Loaded, ConfigError> {
    let checked = validate::check_root(&root, schema::ROOT);
    if !checked.errors.is_empty() {
        return Err(ConfigError::Invalid(checked.errors));
    }
    let main_name = main
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "<defaults>".into());
    let semantic = |message: String| ConfigError::Semantic {
        path: main_name.clone(),
        message,
    };
    let config = Config::from_document(&root).map_err(semantic)?;
    for p in &config.plugins {
        if p.name == "container" || p.library_path.ends_with("libcontainer.so") {
            notices.push(format!(
                "plugin '{}': Peregrine provides the container plugin's fields natively; nothing is loaded",
                p.name
            ));
        } else {
            return Err(semantic(format!(
                "plugin '{}' ({}) is not supported by Peregrine: only the container plugin's features are built in",
                p.name, p.library_path
            )));
        }
    }
    match config.engine.kind {
        EngineKind::Kmod | EngineKind::Ebpf => notices.push(format!(
            "engine.kind '{}' is served by Peregrine's CO-RE eBPF probe (as modern_ebpf)",
            if config.engine.kind == EngineKind::Kmod {
                "kmod"
            } else {
                "ebpf"
            }
        )),
        EngineKind::Gvisor => notices.push(
            "engine.kind 'gvisor' is served by Peregrine's CO-RE eBPF probe on the host kernel: \
             Peregrine does not read gVisor's trace sessions, so syscalls inside gVisor sandboxes are not seen"
                .into(),
        ),
        EngineKind::Nodriver => notices.push(
            "engine.kind 'nodriver': no syscall events are captured (Peregrine has no plugin event sources); \
             rules, outputs and the web server run"
                .into(),
        ),
        _ => {}
    }
    if !checked.no_effect.is_empty() {
        let list: Vec<String> = checked
            .no_effect
            .iter()
            .map(|(k, why)| format!("{k} ({why})"))
            .collect();
        notices.push(format!(
            "config keys accepted without effect in Peregrine: {}",
            list.join(", ")
        ));
    }
    Ok(Loaded {
        config,
        document: root,
        files,
        warnings: checked.warnings,
        notices,
    })
}

/// Loads from text (tests, `--config-schema` examples).
pub fn load_str(src: &str, name: &str, options: &[String]) -> Result<Loaded, ConfigError> {
    let dir = std::env::temp_dir().join(format!("peregrine-config-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(name);
    std::fs::write(&path, src).map_err(|e| ConfigError::Read {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let r = load(&LoadOptions {
        config_path: Some(path.clone()),
        options: options.to_vec(),
    });
    let _ = std::fs::remove_file(&path);
    r
}

/// Rules files to load from `rules_files`: files as given (.yml/.yaml
/// only), directories' .yml/.yaml files in name order, missing paths
/// skipped (Falco's behaviour).
pub fn expand_rules_paths(list: &[String]) -> Vec<PathBuf> {
    let yaml = |p: &Path| {
        p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e == "yaml" || e == "yml")
    };
    let mut out = Vec::new();
    for item in list {
        let p = PathBuf::from(item);
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&p)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| e.path())
                        .filter(|e| e.is_file())
                        .collect()
                })
                .unwrap_or_default();
            entries.sort();
            out.extend(entries.into_iter().filter(|e| yaml(e)));
        } else if p.exists() && yaml(&p) {
            out.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests;
