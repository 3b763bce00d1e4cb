//! What the reader collects from rules files, merged across files with
//! Falco's define / append / replace semantics, before compilation.

use std::collections::HashMap;

use peregrine_alert::Priority;

use super::result::{Context, ErrorCode, FileResult, WarningCode};
use super::version::Version;
use super::{LoadException, R};
use crate::ast::Operator;

/// A vector of named items with lookup by name, keeping definition order.
#[derive(Debug, Clone)]
pub(crate) struct Indexed<T> {
    pub items: Vec<T>,
    by_name: HashMap<String, usize>,
}

impl<T> Default for Indexed<T> {
    fn default() -> Self {
        Indexed {
            items: Vec::new(),
            by_name: HashMap::new(),
        }
    }
}

impl<T> Indexed<T> {
    pub fn get(&self, name: &str) -> Option<&T> {
        self.by_name.get(name).map(|&i| &self.items[i])
    }
    pub fn get_mut(&mut self, name: &str) -> Option<&mut T> {
        self.by_name.get(name).map(|&i| &mut self.items[i])
    }
    pub fn insert(&mut self, name: &str, item: T) -> usize {
        if let Some(&i) = self.by_name.get(name) {
            self.items[i] = item;
            return i;
        }
        self.items.push(item);
        self.by_name.insert(name.to_string(), self.items.len() - 1);
        self.items.len() - 1
    }
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter()
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
}

fn validate_err(msg: impl Into<String>, ctx: &Context) -> LoadException {
    LoadException {
        code: ErrorCode::Validate,
        message: msg.into(),
        ctx: ctx.clone(),
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ListInfo {
    pub ctx: Context,
    pub index: usize,
    pub visibility: usize,
    pub name: String,
    pub items: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct MacroInfo {
    pub ctx: Context,
    pub cond_ctx: Context,
    pub index: usize,
    pub visibility: usize,
    pub name: String,
    pub cond: String,
}

/// `fields`, `comps` and each value of an exception: a string or a list.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Entry {
    pub is_list: bool,
    pub item: String,
    pub items: Vec<Entry>,
}

impl Entry {
    pub fn item(s: &str) -> Entry {
        Entry {
            is_list: false,
            item: s.to_string(),
            items: Vec::new(),
        }
    }
    pub fn is_valid(&self) -> bool {
        (self.is_list && !self.items.is_empty()) || (!self.is_list && !self.item.is_empty())
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ExceptionInfo {
    pub ctx: Context,
    pub name: String,
    pub fields: Entry,
    pub comps: Entry,
    pub values: Vec<Entry>,
}

#[derive(Debug, Clone)]
pub(crate) struct RuleInfo {
    pub ctx: Context,
    pub cond_ctx: Context,
    pub output_ctx: Context,
    pub index: usize,
    pub visibility: usize,
    pub unknown_source: bool,
    pub name: String,
    pub cond: String,
    pub source: String,
    pub desc: String,
    pub output: String,
    /// In file order, without duplicates.
    pub tags: Vec<String>,
    pub exceptions: Vec<ExceptionInfo>,
    pub priority: Priority,
    pub capture: bool,
    pub capture_duration: u32,
    pub enabled: bool,
    pub warn_evttypes: bool,
    pub skip_if_unknown_filter: bool,
}

impl RuleInfo {
    pub fn new(ctx: Context) -> RuleInfo {
        RuleInfo {
            cond_ctx: ctx.clone(),
            output_ctx: ctx.clone(),
            ctx,
            index: 0,
            visibility: 0,
            unknown_source: false,
            name: String::new(),
            cond: String::new(),
            source: String::new(),
            desc: String::new(),
            output: String::new(),
            tags: Vec::new(),
            exceptions: Vec::new(),
            priority: Priority::Debug,
            capture: false,
            capture_duration: 0,
            enabled: true,
            warn_evttypes: true,
            skip_if_unknown_filter: false,
        }
    }
}

/// An `append`/`override` update to an existing rule.
#[derive(Debug, Clone, Default)]
pub(crate) struct RuleUpdate {
    pub name: String,
    pub source: String,
    pub cond: Option<String>,
    pub output: Option<String>,
    pub desc: Option<String>,
    pub tags: Option<Vec<String>>,
    pub exceptions: Option<Vec<ExceptionInfo>>,
    pub priority: Option<Priority>,
    pub capture: Option<bool>,
    pub capture_duration: Option<u32>,
    pub enabled: Option<bool>,
    pub warn_evttypes: Option<bool>,
    pub skip_if_unknown_filter: Option<bool>,
}

impl RuleUpdate {
    fn has_any_value(&self) -> bool {
        self.cond.is_some()
            || self.output.is_some()
            || self.desc.is_some()
            || self.tags.is_some()
            || self.exceptions.is_some()
            || self.priority.is_some()
            || self.enabled.is_some()
            || self.capture.is_some()
            || self.capture_duration.is_some()
            || self.warn_evttypes.is_some()
            || self.skip_if_unknown_filter.is_some()
    }
}

/// One `required_plugin_versions` entry: a plugin and its alternatives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginRequirement {
    pub name: String,
    pub version: String,
}

/// Everything collected so far, across files.
#[derive(Debug, Clone, Default)]
pub(crate) struct Collector {
    cur_index: usize,
    pub lists: Indexed<ListInfo>,
    pub macros: Indexed<MacroInfo>,
    pub rules: Indexed<RuleInfo>,
    pub required_plugins: Vec<Vec<PluginRequirement>>,
    pub required_engine_version: Option<Version>,
}

/// Whether `op` is a string operator with a list modifier
/// (`startswith oneof`).
pub(crate) fn is_str_op_with_modifier(op: &str) -> bool {
    Operator::parse(op).is_some_and(|o| o.modifier.is_some() && o.op.accepts_modifier())
}

fn normalize_comp(s: &mut String) {
    *s = s.trim_matches([' ', '\t', '\r', '\n']).to_string();
}

/// What the collector needs to know about sources (which exist, which
/// fields are valid on the left of an exception).
pub(crate) trait SourceCheck {
    fn has_source(&self, source: &str) -> bool;
    fn is_valid_lhs_field(&self, source: &str, field: &str) -> bool;
}

fn validate_exception(
    sources: &dyn SourceCheck,
    source: Option<&str>,
    ex: &mut ExceptionInfo,
) -> R<()> {
    if ex.fields.is_list {
        if !ex.comps.is_valid() {
            ex.comps.is_list = true;
            ex.comps.items = ex.fields.items.iter().map(|_| Entry::item("=")).collect();
        }
        if ex.fields.items.len() != ex.comps.items.len() {
            return Err(validate_err(
                "Fields and comps lists must have equal length",
                &ex.ctx,
            ));
        }
        for v in &mut ex.comps.items {
            normalize_comp(&mut v.item);
            let plain = Operator::parse(&v.item).is_some_and(|o| o.modifier.is_none());
            if !plain && !is_str_op_with_modifier(&v.item) {
                return Err(validate_err(
                    format!("'{}' is not a supported comparison operator", v.item),
                    &ex.ctx,
                ));
            }
        }
        if let Some(src) = source {
            for f in &ex.fields.items {
                if !sources.is_valid_lhs_field(src, &f.item) {
                    return Err(validate_err(
                        format!("'{}' is not a supported filter field", f.item),
                        &ex.ctx,
                    ));
                }
            }
        }
    } else {
        if !ex.comps.is_valid() {
            ex.comps = Entry::item("in");
        }
        if ex.comps.is_list {
            return Err(validate_err(
                "Fields and comps must both be strings",
                &ex.ctx,
            ));
        }
        normalize_comp(&mut ex.comps.item);
        let c = ex.comps.item.as_str();
        if c != "in" && c != "pmatch" && c != "intersects" && !is_str_op_with_modifier(c) {
            return Err(validate_err(
                "When fields is a single value, comps must be one of (in, pmatch, intersects) or a modifier operator (e.g. startswith oneof)",
                &ex.ctx,
            ));
        }
        if let Some(src) = source {
            if !sources.is_valid_lhs_field(src, &ex.fields.item) {
                return Err(validate_err(
                    format!("'{}' is not a supported filter field", ex.fields.item),
                    &ex.ctx,
                ));
            }
        }
    }
    Ok(())
}

impl Collector {
    fn next_index(&mut self) -> usize {
        let i = self.cur_index;
        self.cur_index += 1;
        i
    }

    pub fn define_engine_version(
        &mut self,
        engine: &Version,
        required: Version,
        ctx: &Context,
    ) -> R<()> {
        if !engine.compatible_with(&required) {
            return Err(validate_err(
                format!("Rules require engine version {required}, but engine version is {engine}"),
                ctx,
            ));
        }
        if self
            .required_engine_version
            .as_ref()
            .is_none_or(|v| *v < required)
        {
            self.required_engine_version = Some(required);
        }
        Ok(())
    }

    pub fn define_plugin_requirement(
        &mut self,
        alternatives: Vec<PluginRequirement>,
        ctx: &Context,
    ) -> R<()> {
        let mut names: Vec<&str> = Vec::new();
        for r in &alternatives {
            if !Version::parse(&r.version).is_valid() {
                return Err(validate_err(
                    format!(
                        "Invalid required version '{}' for plugin '{}'",
                        r.version, r.name
                    ),
                    ctx,
                ));
            }
            if names.contains(&r.name.as_str()) {
                return Err(validate_err(
                    format!(
                        "Defined multiple alternative version requirements for plugin '{}'",
                        r.name
                    ),
                    ctx,
                ));
            }
            names.push(&r.name);
        }
        self.required_plugins.push(alternatives);
        Ok(())
    }

    pub fn define_list(&mut self, mut info: ListInfo) {
        let id = self.next_index();
        match self.lists.get(&info.name) {
            Some(prev) => {
                info.index = prev.index;
                info.visibility = id;
            }
            None => {
                info.index = id;
                info.visibility = id;
            }
        }
        let name = info.name.clone();
        self.lists.insert(&name, info);
    }

    pub fn append_list(&mut self, info: ListInfo) -> R<()> {
        let id = self.next_index();
        let Some(prev) = self.lists.get_mut(&info.name) else {
            return Err(validate_err(
                "List uses 'append' or 'override.items: append' but no list by that name already exists",
                &info.ctx,
            ));
        };
        prev.items.extend(info.items);
        prev.visibility = id;
        Ok(())
    }

    pub fn define_macro(&mut self, mut info: MacroInfo) {
        let id = self.next_index();
        match self.macros.get(&info.name) {
            Some(prev) => {
                info.index = prev.index;
                info.visibility = id;
            }
            None => {
                info.index = id;
                info.visibility = id;
            }
        }
        let name = info.name.clone();
        self.macros.insert(&name, info);
    }

    pub fn append_macro(&mut self, info: MacroInfo) -> R<()> {
        let id = self.next_index();
        let Some(prev) = self.macros.get_mut(&info.name) else {
            return Err(validate_err(
                "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists",
                &info.ctx,
            ));
        };
        prev.cond.push(' ');
        prev.cond.push_str(&info.cond);
        prev.visibility = id;
        Ok(())
    }

    fn check_prev_source(&self, name: &str, source: &str, ctx: &Context) -> R<()> {
        if let Some(prev) = self.rules.get(name) {
            if !prev.source.is_empty() && !source.is_empty() && prev.source != source {
                return Err(validate_err(
                    "Rule has been re-defined with a different source",
                    ctx,
                ));
            }
        }
        Ok(())
    }

    pub fn define_rule(
        &mut self,
        mut info: RuleInfo,
        sources: &dyn SourceCheck,
        res: &mut FileResult,
    ) -> R<()> {
        self.check_prev_source(&info.name, &info.source, &info.ctx)?;
        let known = sources.has_source(&info.source);
        if !known {
            info.unknown_source = true;
            res.add_warning(
                WarningCode::UnknownSource,
                format!("Unknown source {}, skipping", info.source),
                info.ctx.clone(),
            );
        }
        let source = info.source.clone();
        for ex in &mut info.exceptions {
            if !ex.fields.is_valid() {
                return Err(validate_err(
                    "Rule exception item must have fields property with a list of fields",
                    &ex.ctx,
                ));
            }
            validate_exception(sources, known.then_some(source.as_str()), ex)?;
        }
        let id = self.next_index();
        match self.rules.get(&info.name) {
            Some(prev) => {
                info.index = prev.index;
                info.visibility = id;
            }
            None => {
                info.index = id;
                info.visibility = id;
            }
        }
        let name = info.name.clone();
        self.rules.insert(&name, info);
        Ok(())
    }

    pub fn append_rule(
        &mut self,
        info: RuleUpdate,
        ctx: &Context,
        sources: &dyn SourceCheck,
    ) -> R<()> {
        self.check_prev_source(&info.name, &info.source, ctx)?;
        let id = self.next_index();
        let Some(prev) = self.rules.get_mut(&info.name) else {
            return Err(validate_err(
                "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists",
                ctx,
            ));
        };
        if !info.has_any_value() {
            return Err(validate_err(
                "Appended rule must have exceptions or condition property",
                ctx,
            ));
        }
        let source = (!prev.unknown_source).then(|| prev.source.clone());
        if let Some(c) = info.cond.filter(|c| !c.is_empty()) {
            prev.cond.push(' ');
            prev.cond.push_str(&c);
        }
        if let Some(o) = info.output.filter(|o| !o.is_empty()) {
            prev.output.push(' ');
            prev.output.push_str(&o);
        }
        if let Some(d) = info.desc.filter(|d| !d.is_empty()) {
            prev.desc.push(' ');
            prev.desc.push_str(&d);
        }
        if let Some(tags) = info.tags {
            for t in tags {
                if !prev.tags.contains(&t) {
                    prev.tags.push(t);
                }
            }
        }
        if let Some(exceptions) = info.exceptions {
            for mut ex in exceptions {
                match prev.exceptions.iter_mut().find(|p| p.name == ex.name) {
                    None => {
                        if !ex.fields.is_valid() {
                            return Err(validate_err(
                                "Rule exception must have fields property with a list of fields",
                                &ex.ctx,
                            ));
                        }
                        if ex.values.is_empty() {
                            return Err(validate_err(
                                "Rule exception must have values property with a list of values",
                                &ex.ctx,
                            ));
                        }
                        validate_exception(sources, source.as_deref(), &mut ex)?;
                        prev.exceptions.push(ex);
                    }
                    Some(p) => {
                        if ex.fields.is_valid() {
                            return Err(validate_err(
                                "Can not append exception fields to existing exception, only values",
                                &ex.ctx,
                            ));
                        }
                        if ex.comps.is_valid() {
                            return Err(validate_err(
                                "Can not append exception comps to existing exception, only values",
                                &ex.ctx,
                            ));
                        }
                        p.values.extend(ex.values);
                    }
                }
            }
        }
        prev.visibility = id;
        Ok(())
    }

    pub fn replace_rule(&mut self, info: RuleUpdate, ctx: &Context) -> R<()> {
        self.check_prev_source(&info.name, &info.source, ctx)?;
        let id = self.next_index();
        let Some(prev) = self.rules.get_mut(&info.name) else {
            return Err(validate_err(
                "An 'override.<key>: replace' to a rule was requested but no rule by that name already exists",
                ctx,
            ));
        };
        if !info.has_any_value() {
            return Err(validate_err(
                "The rule must have at least one field that can be replaced",
                ctx,
            ));
        }
        if let Some(v) = info.cond {
            prev.cond = v;
        }
        if let Some(v) = info.output {
            prev.output = v;
        }
        if let Some(v) = info.desc {
            prev.desc = v;
        }
        if let Some(v) = info.tags {
            prev.tags = v;
        }
        if let Some(v) = info.exceptions {
            prev.exceptions = v;
        }
        if let Some(v) = info.priority {
            prev.priority = v;
        }
        if let Some(v) = info.capture {
            prev.capture = v;
        }
        if let Some(v) = info.capture_duration {
            prev.capture_duration = v;
        }
        if let Some(v) = info.enabled {
            prev.enabled = v;
        }
        if let Some(v) = info.warn_evttypes {
            prev.warn_evttypes = v;
        }
        if let Some(v) = info.skip_if_unknown_filter {
            prev.skip_if_unknown_filter = v;
        }
        prev.visibility = id;
        Ok(())
    }

    pub fn enable_rule(&mut self, name: &str, enabled: bool, ctx: &Context) -> R<()> {
        let Some(prev) = self.rules.get_mut(name) else {
            return Err(validate_err(
                "Rule has 'enabled' key but no rule by that name already exists",
                ctx,
            ));
        };
        prev.enabled = enabled;
        Ok(())
    }
}
