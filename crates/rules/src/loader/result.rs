//! Load results: errors and warnings with Falco's codes, the chain of
//! locations they belong to, and their text and JSON forms (Falco's
//! `falco_load_result`).

use std::collections::HashMap;
use std::fmt::Write;

use serde_json::{json, Map, Value};

/// Falco's error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    FileRead,
    YamlParse,
    YamlValidate,
    CompileCondition,
    CompileOutput,
    Validate,
    Extension,
}

impl ErrorCode {
    pub fn code(self) -> &'static str {
        match self {
            ErrorCode::FileRead => "LOAD_ERR_FILE_READ",
            ErrorCode::YamlParse => "LOAD_ERR_YAML_PARSE",
            ErrorCode::YamlValidate => "LOAD_ERR_YAML_VALIDATE",
            ErrorCode::CompileCondition => "LOAD_ERR_COMPILE_CONDITION",
            ErrorCode::CompileOutput => "LOAD_ERR_COMPILE_OUTPUT",
            ErrorCode::Validate => "LOAD_ERR_VALIDATE",
            ErrorCode::Extension => "LOAD_ERR_EXTENSION",
        }
    }

    /// The short text; Falco also uses it as `codedesc` in JSON.
    pub fn text(self) -> &'static str {
        match self {
            ErrorCode::FileRead => "File read error",
            ErrorCode::YamlParse => "YAML parse error",
            ErrorCode::YamlValidate => "Error validating internal structure of YAML file",
            ErrorCode::CompileCondition => "Error compiling condition",
            ErrorCode::CompileOutput => "Error compiling output",
            ErrorCode::Validate => "Error validating rule/macro/list/exception objects",
            ErrorCode::Extension => "Error in extension item",
        }
    }
}

/// Falco's warning codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WarningCode {
    UnknownSource,
    UnsafeNaCheck,
    NoEvttype,
    UnknownFilter,
    UnusedMacro,
    UnusedList,
    UnknownItem,
    DeprecatedItem,
    WarningExtension,
    AppendNoValues,
    ExceptionNameNotUnique,
    InvalidMacroName,
    InvalidListName,
    CompileCondition,
    UnknownKey,
}

impl WarningCode {
    pub fn code(self) -> &'static str {
        use WarningCode::*;
        match self {
            UnknownSource => "LOAD_UNKNOWN_SOURCE",
            UnsafeNaCheck => "LOAD_UNSAFE_NA_CHECK",
            NoEvttype => "LOAD_NO_EVTTYPE",
            UnknownFilter => "LOAD_UNKNOWN_FILTER",
            UnusedMacro => "LOAD_UNUSED_MACRO",
            UnusedList => "LOAD_UNUSED_LIST",
            UnknownItem => "LOAD_UNKNOWN_ITEM",
            DeprecatedItem => "LOAD_DEPRECATED_ITEM",
            WarningExtension => "LOAD_WARNING_EXTENSION",
            AppendNoValues => "LOAD_APPEND_NO_VALUES",
            ExceptionNameNotUnique => "LOAD_EXCEPTION_NAME_NOT_UNIQUE",
            InvalidMacroName => "LOAD_INVALID_MACRO_NAME",
            InvalidListName => "LOAD_INVALID_LIST_NAME",
            CompileCondition => "LOAD_COMPILE_CONDITION",
            UnknownKey => "LOAD_UNKNOWN_KEY",
        }
    }

    pub fn text(self) -> &'static str {
        use WarningCode::*;
        match self {
            UnknownSource => "Unknown event source",
            UnsafeNaCheck => "Unsafe <NA> comparison in condition",
            NoEvttype => "Condition has no event-type restriction",
            UnknownFilter => "Unknown field or event-type in condition or output",
            UnusedMacro => "Unused macro",
            UnusedList => "Unused list",
            UnknownItem => "Unknown rules file item",
            DeprecatedItem => "Used deprecated item",
            WarningExtension => "Warning in extension item",
            AppendNoValues => "Overriding/appending with no values",
            ExceptionNameNotUnique => "Multiple exceptions defined with the same name",
            InvalidMacroName => "Invalid macro name",
            InvalidListName => "Invalid list name",
            CompileCondition => "Warning in rule condition",
            UnknownKey => "Unknown key in item definition",
        }
    }

    pub fn description(self) -> &'static str {
        use WarningCode::*;
        match self {
            UnknownSource => "A rule has a unknown event source. This can occur when reading rules content without having a corresponding plugin loaded, etc. The rule will be silently ignored.",
            UnsafeNaCheck => "Comparing a field value with <NA> is unsafe and can lead to unpredictable behavior of the rule condition. If you need to check for the existence of a field, consider using the 'exists' operator instead.",
            NoEvttype => "A rule condition matches too many evt.type values. This has a significant performance penalty. Make the condition more specific by adding an evt.type field or further restricting the number of evt.type values in the condition.",
            UnknownFilter => "A rule condition or output refers to a field or evt.type that does not exist. This is normally an error, but if a rule has a skip-if-unknown-filter property, the error is downgraded to a warning.",
            UnusedMacro => "A macro is defined in the rules content but is not used by any other macro or rule.",
            UnusedList => "A list is defined in the rules content but is not used by any other list, macro, or rule.",
            UnknownItem => "An unknown top-level object is in the rules content. It will be ignored.",
            DeprecatedItem => "A deprecated item is employed by lists, macros, or rules.",
            WarningExtension => "An extension item has a warning",
            AppendNoValues => "A rule exception is overriding/appending with no values",
            ExceptionNameNotUnique => "A rule is defining multiple exceptions with the same name",
            InvalidMacroName => "A macro is defined with an invalid name",
            InvalidListName => "A list is defined with an invalid name",
            CompileCondition => "A rule condition or output have been parsed with a warning",
            UnknownKey => "An item in the rules content contains an unrecognized key. The key will be ignored. This may indicate a typo or a property placed on the wrong item type.",
        }
    }
}

/// Fields Falco flags as deprecated since enter events are dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeprecatedField {
    EvtDir,
    EvtLatency,
    EvtLatencyS,
    EvtLatencyNs,
    EvtLatencyHuman,
    EvtWaitLatency,
}

impl DeprecatedField {
    pub const ALL: [DeprecatedField; 6] = [
        DeprecatedField::EvtDir,
        DeprecatedField::EvtLatency,
        DeprecatedField::EvtLatencyS,
        DeprecatedField::EvtLatencyNs,
        DeprecatedField::EvtLatencyHuman,
        DeprecatedField::EvtWaitLatency,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DeprecatedField::EvtDir => "evt.dir",
            DeprecatedField::EvtLatency => "evt.latency",
            DeprecatedField::EvtLatencyS => "evt.latency.s",
            DeprecatedField::EvtLatencyNs => "evt.latency.ns",
            DeprecatedField::EvtLatencyHuman => "evt.latency.human",
            DeprecatedField::EvtWaitLatency => "evt.wait_latency",
        }
    }

    pub fn from_name(name: &str) -> Option<DeprecatedField> {
        DeprecatedField::ALL.into_iter().find(|d| d.name() == name)
    }

    pub fn description(self) -> &'static str {
        match self {
            DeprecatedField::EvtDir => "due to the drop of enter events, 'evt.dir = <' always evaluates to true, and 'evt.dir = >' always evaluates to false. The rule expression can be simplified by removing the condition on 'evt.dir'",
            _ => "field is not available due to the drop of enter events.",
        }
    }
}

/// Kinds of items a location can point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemType {
    ValueFor,
    Exceptions,
    Exception,
    ExceptionValues,
    ExceptionValue,
    RulesContent,
    RulesContentItem,
    RequiredEngineVersion,
    RequiredPluginVersions,
    RequiredPluginVersionsEntry,
    RequiredPluginVersionsAlternative,
    List,
    ListItem,
    Macro,
    MacroCondition,
    Rule,
    RuleCondition,
    ConditionExpression,
    RuleOutput,
    RuleOutputExpression,
    RulePriority,
    Override,
    ExtensionItem,
}

impl ItemType {
    pub fn as_str(self) -> &'static str {
        use ItemType::*;
        match self {
            ValueFor => "value for",
            Exceptions => "exceptions",
            Exception => "exception",
            ExceptionValues => "exception values",
            ExceptionValue => "exception value",
            RulesContent => "rules content",
            RulesContentItem => "rules content item",
            RequiredEngineVersion => "required_engine_version",
            RequiredPluginVersions => "required plugin versions",
            RequiredPluginVersionsEntry => "required plugin versions entry",
            RequiredPluginVersionsAlternative => "required plugin versions alternative",
            List => "list",
            ListItem => "list item",
            Macro => "macro",
            MacroCondition => "macro condition",
            Rule => "rule",
            RuleCondition => "rule condition",
            ConditionExpression => "condition expression",
            RuleOutput => "rule output",
            RuleOutputExpression => "rule output expression",
            RulePriority => "rule priority",
            Override => "overrides",
            ExtensionItem => "extension item",
        }
    }
}

/// A position as Falco reports it: byte offset, and 0-based line and
/// column for YAML positions (condition positions add the parser's 1-based
/// ones on top, as Falco does).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    pub offset: usize,
    pub line: usize,
    pub column: usize,
}

/// One step of a context: a file (or condition) name, where, and which item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub name: String,
    pub pos: Position,
    pub item_type: ItemType,
    pub item_name: String,
}

/// Where an error or warning belongs: the chain of enclosing items, from the
/// file down to the most precise one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub locations: Vec<Location>,
    /// For condition contexts: the condition text snippets are taken from.
    pub alt_content: Option<String>,
}

impl Context {
    /// The whole content of `name`.
    pub fn root(name: &str) -> Context {
        Context {
            locations: vec![Location {
                name: name.to_string(),
                pos: Position::default(),
                item_type: ItemType::RulesContent,
                item_name: String::new(),
            }],
            alt_content: None,
        }
    }

    /// A child location in the same file.
    pub fn child(&self, pos: Position, item_type: ItemType, item_name: &str) -> Context {
        let mut locations = self.locations.clone();
        locations.push(Location {
            name: self.name().to_string(),
            pos,
            item_type,
            item_name: item_name.to_string(),
        });
        Context {
            locations,
            alt_content: None,
        }
    }

    /// A position inside a condition: named after the condition's first
    /// characters, positioned relative to the enclosing location.
    pub fn condition(&self, offset: usize, line: usize, column: usize, condition: &str) -> Context {
        let mut short: String = if condition.len() > 20 {
            let cut = floor_char_boundary(condition, 17);
            format!("\"{}...\"", &condition[..cut])
        } else {
            format!("\"{condition}\"")
        };
        short = short.replace(['\n', '\r'], " ");
        let last = self.locations.last().map(|l| l.pos).unwrap_or_default();
        let mut locations = self.locations.clone();
        locations.push(Location {
            name: short,
            pos: Position {
                offset: offset + last.offset,
                line: line + last.line,
                column: column + last.column,
            },
            item_type: ItemType::ConditionExpression,
            item_name: String::new(),
        });
        Context {
            locations,
            alt_content: Some(condition.to_string()),
        }
    }

    /// The file name (the first location's).
    pub fn name(&self) -> &str {
        self.locations
            .first()
            .map(|l| l.name.as_str())
            .unwrap_or("")
    }

    /// Falco's "In rule 'x': (file:line:col)" lines.
    pub fn as_text(&self) -> String {
        let mut os = String::new();
        for (i, loc) in self.locations.iter().enumerate() {
            os.push_str(if i == 0 { "In " } else { "    " });
            os.push_str(loc.item_type.as_str());
            if !loc.item_name.is_empty() {
                let _ = write!(os, " '{}'", loc.item_name);
            }
            let _ = writeln!(os, ": ({}:{}:{})", loc.name, loc.pos.line, loc.pos.column);
        }
        os
    }

    pub fn as_json(&self) -> Value {
        let locations: Vec<Value> = self
            .locations
            .iter()
            .map(|loc| {
                json!({
                    "item_name": loc.item_name,
                    "item_type": loc.item_type.as_str(),
                    "position": {
                        "column": loc.pos.column,
                        "line": loc.pos.line,
                        "name": loc.name,
                        "offset": loc.pos.offset,
                    },
                })
            })
            .collect();
        json!({ "locations": locations })
    }

    /// The line around the last location, with a caret under it (Falco's
    /// snippet, at most 160 characters wide).
    pub fn snippet(&self, contents: &HashMap<String, String>) -> String {
        const WIDTH: usize = 160;
        let Some(loc) = self.locations.last() else {
            return "<No context available>\n".into();
        };
        let content = match (&self.alt_content, contents.get(&loc.name)) {
            (Some(alt), _) => alt.as_str(),
            (None, Some(c)) => c.as_str(),
            (None, None) => return format!("<No context for file + {}>\n", loc.name),
        };
        let s = content.as_bytes();
        if s.is_empty() {
            return "<No context available>\n".into();
        }
        let mut pos = loc.pos.offset;
        while pos > 0 && (pos >= s.len() || s[pos] == b'\n') {
            pos -= 1;
        }
        let mut from = pos;
        while from > 0 && s[from] != b'\n' && pos - from < WIDTH / 2 {
            from -= 1;
        }
        let mut to = pos;
        while to < s.len() - 1 && s[to] != b'\n' && to - pos < WIDTH / 2 {
            to += 1;
        }
        if from < s.len() && s[from] == b'\n' {
            from += 1;
        }
        if to < s.len() && s[to] == b'\n' && to > 0 {
            to -= 1;
        }
        if to < from {
            return "<No context available>\n".into();
        }
        let mut ret = s[from..=to].to_vec();
        if ret.is_empty() {
            return "<No context available>\n".into();
        }
        if pos - from >= WIDTH / 2 {
            let n = ret.len().min(3);
            ret.splice(0..n, b"...".iter().copied());
        }
        if to - pos >= WIDTH / 2 {
            let n = ret.len().min(3);
            let l = ret.len();
            ret.splice(l - n..l, b"...".iter().copied());
        }
        ret.push(b'\n');
        let mut out = String::from_utf8_lossy(&ret).into_owned();
        if pos - from < ret.len() {
            out.push_str(&" ".repeat(pos - from));
            out.push_str("^\n");
        }
        out
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A load error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub code: ErrorCode,
    pub message: String,
    pub context: Context,
}

/// A load warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadWarning {
    pub code: WarningCode,
    pub message: String,
    pub context: Context,
    /// Set for deprecated-field warnings.
    pub deprecated_field: Option<DeprecatedField>,
}

impl LoadWarning {
    /// The short text, naming the field for deprecated-field warnings.
    pub fn text(&self) -> String {
        match self.deprecated_field {
            Some(df) => format!("{}: field '{}'", self.code.text(), df.name()),
            None => self.code.text().to_string(),
        }
    }
}

/// The outcome of loading one rules file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileResult {
    pub name: String,
    pub successful: bool,
    /// One status per YAML document: `ok`, or the schema violations.
    pub schema_status: Vec<String>,
    pub errors: Vec<LoadError>,
    pub warnings: Vec<LoadWarning>,
}

impl FileResult {
    pub fn new(name: &str) -> FileResult {
        FileResult {
            name: name.to_string(),
            successful: true,
            schema_status: Vec::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub fn add_error(&mut self, code: ErrorCode, message: impl Into<String>, context: Context) {
        self.successful = false;
        self.errors.push(LoadError {
            code,
            message: message.into(),
            context,
        });
    }

    pub fn add_warning(&mut self, code: WarningCode, message: impl Into<String>, context: Context) {
        self.warnings.push(LoadWarning {
            code,
            message: message.into(),
            context,
            deprecated_field: None,
        });
    }

    pub fn add_deprecated_field(&mut self, df: DeprecatedField, message: String, context: Context) {
        self.warnings.push(LoadWarning {
            code: WarningCode::DeprecatedItem,
            message,
            context,
            deprecated_field: Some(df),
        });
    }

    pub fn has_warnings(&self) -> bool {
        !self.warnings.is_empty()
    }

    /// `ok`, `none` (not validated) or the first schema violation.
    pub fn schema_validation(&self) -> &str {
        self.schema_status
            .first()
            .map(String::as_str)
            .unwrap_or("none")
    }

    fn schema_valid(&self) -> bool {
        self.schema_validation() == "ok"
    }

    fn header(&self, os: &mut String) {
        if !self.name.is_empty() {
            let _ = write!(os, "{}: ", self.name);
        }
        if self.successful {
            os.push_str("Ok");
            if !self.warnings.is_empty() {
                os.push_str(", with warnings");
            }
        } else {
            os.push_str("Invalid");
        }
    }

    /// Falco's one-paragraph summary.
    pub fn summary(&self) -> String {
        let mut os = String::new();
        self.header(&mut os);
        if !self.schema_status.is_empty() && !self.schema_valid() {
            let _ = write!(
                os,
                "\n {} schema warnings: [{}]",
                self.schema_status.len(),
                self.schema_status.join(" ")
            );
        }
        if !self.errors.is_empty() {
            let list: Vec<String> = self
                .errors
                .iter()
                .map(|e| format!("{} ({})", e.code.code(), e.code.text()))
                .collect();
            let _ = write!(os, "\n {} errors: [{}]", self.errors.len(), list.join(" "));
        }
        if !self.warnings.is_empty() {
            let list: Vec<String> = self
                .warnings
                .iter()
                .map(|w| format!("{} ({})", w.code.code(), w.text()))
                .collect();
            let _ = write!(
                os,
                "\n {} warnings: [{}]",
                self.warnings.len(),
                list.join(" ")
            );
        }
        os
    }

    /// Falco's verbose text: every error and warning with its locations and
    /// snippet.
    pub fn verbose(&self, contents: &HashMap<String, String>) -> String {
        let mut os = String::new();
        self.header(&mut os);
        if !self.schema_status.is_empty() && !self.schema_valid() {
            let _ = writeln!(os, "\n{} Schema warnings:", self.schema_status.len());
            for s in &self.schema_status {
                let _ = writeln!(os, "------\n{s}");
            }
            os.push_str("------\n");
        }
        if !self.errors.is_empty() {
            let _ = writeln!(os, "\n{} Errors:", self.errors.len());
            for e in &self.errors {
                os.push_str(&e.context.as_text());
                os.push_str("------\n");
                os.push_str(&e.context.snippet(contents));
                os.push_str("------\n");
                let _ = writeln!(os, "{} ({}): {}", e.code.code(), e.code.text(), e.message);
            }
        }
        if !self.warnings.is_empty() {
            let _ = writeln!(os, "\n{} Warnings:", self.warnings.len());
            for w in &self.warnings {
                os.push_str(&w.context.as_text());
                os.push_str("------\n");
                os.push_str(&w.context.snippet(contents));
                os.push_str("------\n");
                let _ = writeln!(os, "{} ({}): {}", w.code.code(), w.text(), w.message);
            }
        }
        os
    }

    /// Falco's validation JSON for this file (keys sorted, as Falco's JSON
    /// library prints them).
    pub fn as_json(&self, contents: &HashMap<String, String>) -> Value {
        let mut j = Map::new();
        let errors: Vec<Value> = self
            .errors
            .iter()
            .map(|e| {
                let mut ctx = e.context.as_json();
                ctx["snippet"] = e.context.snippet(contents).into();
                json!({
                    "code": e.code.code(),
                    "codedesc": e.code.text(),
                    "context": ctx,
                    "message": e.message,
                })
            })
            .collect();
        j.insert("errors".into(), Value::Array(errors));
        j.insert("name".into(), self.name.clone().into());
        if !self.schema_status.is_empty() {
            let valid = self.schema_valid();
            j.insert("schema_valid".into(), valid.into());
            let warnings: Vec<Value> = if valid {
                Vec::new()
            } else {
                self.schema_status
                    .iter()
                    .map(|s| s.clone().into())
                    .collect()
            };
            j.insert("schema_warnings".into(), Value::Array(warnings));
        }
        j.insert("successful".into(), self.successful.into());
        let warnings: Vec<Value> = self
            .warnings
            .iter()
            .map(|w| {
                let mut ctx = w.context.as_json();
                ctx["snippet"] = w.context.snippet(contents).into();
                let mut m = Map::new();
                m.insert("code".into(), w.code.code().into());
                m.insert("codedesc".into(), w.code.description().into());
                m.insert("context".into(), ctx);
                if let Some(df) = w.deprecated_field {
                    m.insert("deprecated_field".into(), df.name().into());
                }
                m.insert("message".into(), w.message.clone().into());
                Value::Object(m)
            })
            .collect();
        j.insert("warnings".into(), Value::Array(warnings));
        sort_keys(Value::Object(j))
    }
}

/// Recursively orders object keys (Falco's JSON library keeps maps sorted).
pub fn sort_keys(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sort_keys(v)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sort_keys).collect()),
        other => other,
    }
}
