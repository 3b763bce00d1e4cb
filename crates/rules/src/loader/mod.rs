//! The rules-file loader with Falco 0.44's semantics: files load in order
//! into one collection (later files amend earlier ones), every load
//! recompiles the whole collection and reports that file's errors and
//! warnings.
//!
//! ```
//! use peregrine_rules::loader::Loader;
//! let mut loader = Loader::new();
//! let res = loader.load("r.yaml", "- rule: r\n  desc: d\n  condition: evt.type=open\n  output: o %proc.name\n  priority: INFO\n");
//! assert!(res.successful, "{}", res.summary());
//! let rs = loader.ruleset().unwrap();
//! assert_eq!(rs.rules[0].event_types.names(), vec!["open"]);
//! ```

mod collector;
mod compiler;
mod reader;
pub mod result;
pub mod schema;
mod version;

use std::collections::HashMap;

use peregrine_alert::Priority;

pub use collector::PluginRequirement;
pub use result::{
    Context, DeprecatedField, ErrorCode, FileResult, ItemType, LoadError, LoadWarning, Location,
    Position, WarningCode,
};
pub use version::Version;

use crate::fields::FieldRegistry;
use crate::ruleset::Ruleset;
use collector::{Collector, SourceCheck};
use reader::{Marks, Reader};

/// The engine version rules files are checked against. Falco 0.44.1
/// declares 0.62.0; every upstream rules file requires at most 0.57.0.
pub const ENGINE_VERSION: Version = Version::new(0, 62, 0);

/// Plugins whose fields Peregrine provides natively: rules files requiring
/// them load without loading anything (Falco 0.44.1 ships container 0.7.1).
pub const NATIVE_PLUGINS: &[(&str, &str)] = &[("container", "0.7.1")];

/// An error that stops reading or compiling.
#[derive(Debug, Clone)]
pub(crate) struct LoadException {
    pub code: ErrorCode,
    pub message: String,
    pub ctx: Context,
}

pub(crate) type R<T> = Result<T, LoadException>;

/// An output suffix appended to matching rules (Falco's
/// `append_output` / `add_extra_output_format`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtraOutput {
    pub format: String,
    /// Only rules of this source (empty: any).
    pub source: String,
    /// Only rules having all these tags.
    pub tags: Vec<String>,
    /// Only this rule (empty: any).
    pub rule: String,
}

/// An extra output field added to matching rules' alerts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtraOutputField {
    pub key: String,
    pub format: String,
    pub source: String,
    pub tags: Vec<String>,
    pub rule: String,
    /// Keep the raw value (no formatting).
    pub raw: bool,
}

/// Loader settings.
#[derive(Debug, Clone)]
pub struct Options {
    pub engine_version: Version,
    /// Rules less severe than this start disabled (Falco's `priority`).
    pub min_priority: Priority,
    pub extra_output_formats: Vec<ExtraOutput>,
    pub extra_output_fields: Vec<ExtraOutputField>,
    /// Use newer Falco's "too many evt.type values" rule (no warning for
    /// unsatisfiable conditions, `evt.num` invariants) instead of 0.44.1's.
    pub evttype_warning_master: bool,
    /// Validate rules files against the JSON schema (reported beside the
    /// result).
    pub validate_schema: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            engine_version: ENGINE_VERSION,
            min_priority: Priority::Debug,
            extra_output_formats: Vec::new(),
            extra_output_fields: Vec::new(),
            evttype_warning_master: false,
            validate_schema: true,
        }
    }
}

struct Registries<'a>(&'a [FieldRegistry]);

impl SourceCheck for Registries<'_> {
    fn has_source(&self, source: &str) -> bool {
        self.0.iter().any(|r| r.source() == source)
    }
    fn is_valid_lhs_field(&self, source: &str, field: &str) -> bool {
        let Some(reg) = self.0.iter().find(|r| r.source() == source) else {
            return false;
        };
        // A field or a transformer over fields, as Falco accepts them.
        match crate::parser::parse_field_or_transformer(field) {
            Ok(expr) => crate::check::check_operand(&expr, reg).is_ok(),
            Err(_) => false,
        }
    }
}

/// Loads rules files in order into one ruleset.
pub struct Loader {
    registries: Vec<FieldRegistry>,
    opts: Options,
    collector: Collector,
    contents: HashMap<String, String>,
    ruleset: Option<Ruleset>,
    results: Vec<FileResult>,
}

impl Default for Loader {
    fn default() -> Self {
        Loader::new()
    }
}

impl Loader {
    /// A loader for the `syscall` and `k8s_audit` sources with default
    /// options.
    pub fn new() -> Loader {
        Loader::with_options(
            vec![FieldRegistry::syscall(), FieldRegistry::k8s_audit()],
            Options::default(),
        )
    }

    pub fn with_options(registries: Vec<FieldRegistry>, opts: Options) -> Loader {
        Loader {
            registries,
            opts,
            collector: Collector::default(),
            contents: HashMap::new(),
            ruleset: None,
            results: Vec::new(),
        }
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Loads one rules file's content; `name` is how messages name it.
    pub fn load(&mut self, name: &str, content: &str) -> &FileResult {
        self.contents.insert(name.to_string(), content.to_string());
        let mut res = FileResult::new(name);
        if self.read(name, content, &mut res) {
            let sources = compiler::Sources {
                registries: &self.registries,
            };
            if let Some(rs) = compiler::compile(&self.collector, &sources, &self.opts, &mut res) {
                if res.successful {
                    self.ruleset = Some(rs);
                }
            }
        }
        self.results.push(res);
        self.results.last().expect("just pushed")
    }

    /// Reads and loads a file (a read failure is a `LOAD_ERR_FILE_READ`).
    pub fn load_file(&mut self, path: &str) -> &FileResult {
        match std::fs::read_to_string(path) {
            Ok(content) => self.load(path, &content),
            Err(e) => {
                let mut res = FileResult::new(path);
                res.add_error(
                    ErrorCode::FileRead,
                    format!("Could not open file {path} for reading: {e}"),
                    Context::root(path),
                );
                self.results.push(res);
                self.results.last().expect("just pushed")
            }
        }
    }

    fn read(&mut self, name: &str, content: &str, res: &mut FileResult) -> bool {
        let root = Context::root(name);
        let marks = Marks::new(content);
        let docs = match peregrine_yaml::parse_lenient(content) {
            Ok(d) => d,
            Err(e) => {
                let pos = marks.error_pos(e.mark.line, e.mark.column);
                res.add_error(
                    ErrorCode::YamlParse,
                    format!(
                        "yaml-cpp: error at line {}, column {}: {}",
                        e.mark.line,
                        e.mark.column,
                        yaml_cpp_wording(&e.message)
                    ),
                    root.child(pos, ItemType::ValueFor, ""),
                );
                return false;
            }
        };
        if self.opts.validate_schema {
            res.schema_status = docs.iter().flat_map(schema::validate_document).collect();
        } else {
            res.schema_status = vec!["none".into()];
        }
        let registries = Registries(&self.registries);
        let mut reader = Reader {
            marks,
            res,
            collector: &mut self.collector,
            sources: &registries,
            engine_version: self.opts.engine_version,
        };
        for doc in &docs {
            if doc.is_null() {
                continue;
            }
            let outcome = (|| -> R<()> {
                match &doc.kind {
                    peregrine_yaml::Kind::Seq(items) => {
                        for item in items {
                            if !item.is_null() {
                                reader.read_item(item, &root)?;
                            }
                        }
                        Ok(())
                    }
                    peregrine_yaml::Kind::Map(_) => Err(LoadException {
                        code: ErrorCode::YamlValidate,
                        message: "Rules content is not yaml array of objects".into(),
                        ctx: root.clone(),
                    }),
                    peregrine_yaml::Kind::Scalar { .. } => Err(LoadException {
                        code: ErrorCode::YamlValidate,
                        message: "Rules content is not yaml".into(),
                        ctx: root.clone(),
                    }),
                }
            })();
            if let Err(e) = outcome {
                reader.res.add_error(e.code, e.message, e.ctx);
                return false;
            }
        }
        true
    }

    /// The ruleset of the last successful load (all files so far).
    pub fn ruleset(&self) -> Option<&Ruleset> {
        self.ruleset.as_ref()
    }

    pub fn into_ruleset(self) -> Option<Ruleset> {
        self.ruleset
    }

    /// Every file's result, in load order.
    pub fn results(&self) -> &[FileResult] {
        &self.results
    }

    /// Whether every file loaded.
    pub fn successful(&self) -> bool {
        self.results.iter().all(|r| r.successful)
    }

    /// File contents by name (for snippets in messages).
    pub fn contents(&self) -> &HashMap<String, String> {
        &self.contents
    }

    /// Checks `required_plugin_versions` against the given plugins (name,
    /// version) plus the natively provided ones; the error is Falco's.
    pub fn check_plugin_requirements(&self, plugins: &[(&str, &str)]) -> Result<(), String> {
        let all: Vec<(&str, &str)> = plugins.iter().chain(NATIVE_PLUGINS).copied().collect();
        for alternatives in &self.collector.required_plugins {
            let mut err = String::new();
            let mut satisfied = false;
            'alts: for req in alternatives {
                for (name, version) in &all {
                    if req.name == *name {
                        let req_v = Version::parse(&req.version);
                        let have = Version::parse(version);
                        if !have.is_valid() {
                            err = format!("Plugin '{name}' has invalid version string '{version}'");
                        } else if !have.compatible_with(&req_v) {
                            err = format!(
                                "Plugin '{name}' version '{version}' is not compatible with required plugin version '{}'",
                                req.version
                            );
                        } else {
                            satisfied = true;
                        }
                        break 'alts;
                    }
                }
            }
            if !satisfied {
                if err.is_empty() {
                    let list: Vec<String> = alternatives
                        .iter()
                        .map(|r| format!("{} (>= {})", r.name, r.version))
                        .collect();
                    err = format!(
                        "Plugin requirement not satisfied, must load one of: {}",
                        list.join(", ")
                    );
                }
                return Err(err);
            }
        }
        Ok(())
    }
}

/// The warnings Falco gives on a rule condition itself (after macro
/// expansion): an unsafe `<NA>` comparison, deprecated fields.
pub fn condition_warnings(expr: &crate::Expr) -> Vec<(WarningCode, Option<DeprecatedField>)> {
    let (unsafe_na, deprecated) = compiler::scan_condition(expr);
    let mut out = Vec::new();
    if unsafe_na {
        out.push((WarningCode::UnsafeNaCheck, None));
    }
    out.extend(
        deprecated
            .into_iter()
            .map(|d| (WarningCode::DeprecatedItem, Some(d))),
    );
    out
}

/// yaml-cpp's words for the YAML errors rules authors usually make.
fn yaml_cpp_wording(msg: &str) -> String {
    match msg {
        "mapping values are not allowed in this context" => "illegal map value".into(),
        "did not find expected key" => "end of map not found".into(),
        "did not find expected ',' or ']'" => "end of sequence flow not found".into(),
        "did not find expected ',' or '}'" => "end of map flow not found".into(),
        other => other.to_string(),
    }
}
