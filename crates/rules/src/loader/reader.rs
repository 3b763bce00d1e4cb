//! Reads a rules file's YAML into the collector, item by item, with
//! Falco's validation of the internal structure (required keys, value
//! types, overrides) and its warnings.

use std::collections::BTreeSet;

use peregrine_alert::Priority;
use peregrine_yaml::{Kind, Node, ScalarStyle};

use super::collector::{
    Collector, Entry, ExceptionInfo, ListInfo, MacroInfo, PluginRequirement, RuleInfo, RuleUpdate,
    SourceCheck,
};
use super::result::{Context, ErrorCode, FileResult, ItemType, Position, WarningCode};
use super::version::Version;
use super::{LoadException, R};

const WARNING_APPEND: &str =
    "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.";
const WARNING_ENABLED: &str = "The standalone 'enabled' key usage is deprecated. The correct approach requires also a 'replace' entry under the 'override' key (i.e. 'enabled: replace').";
const ERROR_OVERRIDE_APPEND: &str = "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.";

fn yaml_err(msg: impl Into<String>, ctx: &Context) -> LoadException {
    LoadException {
        code: ErrorCode::YamlValidate,
        message: msg.into(),
        ctx: ctx.clone(),
    }
}

macro_rules! throw_if {
    ($cond:expr, $msg:expr, $ctx:expr) => {
        if $cond {
            return Err(yaml_err($msg, $ctx));
        }
    };
}

/// Maps YAML marks to Falco positions (byte offset, 0-based line/column).
pub(crate) struct Marks<'a> {
    src: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Marks<'a> {
    pub fn new(src: &'a str) -> Marks<'a> {
        let mut line_starts = vec![0];
        for (i, b) in src.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i + 1);
            }
        }
        Marks { src, line_starts }
    }

    /// Byte offset of a 1-based line and 1-based character column.
    fn offset(&self, line: usize, column: usize) -> usize {
        let start = self
            .line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(self.src.len());
        let rest = &self.src[start..];
        let chars = column.saturating_sub(1);
        start
            + rest
                .char_indices()
                .nth(chars)
                .map(|(i, _)| i)
                .unwrap_or(rest.len())
    }

    fn at(&self, line: usize, column: usize) -> Position {
        Position {
            offset: self.offset(line, column),
            line: line.saturating_sub(1),
            column: column.saturating_sub(1),
        }
    }

    /// Where a node starts, as yaml-cpp marks it: a block mapping at its
    /// first key, a block scalar at its `|`/`>` indicator.
    pub fn pos(&self, node: &Node) -> Position {
        let mut line = node.mark.line;
        let mut column = node.mark.column;
        match &node.kind {
            Kind::Map(entries) => {
                if let Some((k, _)) = entries.first() {
                    if (k.mark.line, k.mark.column) < (line, column) {
                        line = k.mark.line;
                        column = k.mark.column;
                    }
                }
            }
            Kind::Scalar {
                style: ScalarStyle::Literal | ScalarStyle::Folded,
                ..
            } => {
                let off = self.offset(line, column);
                if let Some(i) = self.src[..off.min(self.src.len())].rfind(['|', '>']) {
                    let l = self.line_starts.partition_point(|&s| s <= i);
                    let start = self.line_starts[l - 1];
                    return Position {
                        offset: i,
                        line: l - 1,
                        column: self.src[start..i].chars().count(),
                    };
                }
            }
            _ => {}
        }
        self.at(line, column)
    }

    /// A position from a YAML error mark (1-based line and column).
    pub fn error_pos(&self, line: usize, column: usize) -> Position {
        self.at(line, column)
    }
}

/// The reader's view of one file.
pub(crate) struct Reader<'a> {
    pub marks: Marks<'a>,
    pub res: &'a mut FileResult,
    pub collector: &'a mut Collector,
    pub sources: &'a dyn SourceCheck,
    pub engine_version: Version,
}

fn get<'n>(item: &'n Node, key: &str) -> Option<&'n Node> {
    item.get(key)
}

fn is_null(n: &Node) -> bool {
    n.is_null()
}

/// yaml-cpp's boolean spellings, whatever the quoting.
fn as_bool(n: &Node) -> Option<bool> {
    match n.as_str()? {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Some(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Some(false)
        }
        _ => None,
    }
}

/// yaml-cpp's unsigned conversion: decimal (or 0x hex / 0o octal), nothing
/// else, no sign.
fn as_u32(n: &Node) -> Option<u32> {
    let s = n.as_str()?;
    let t = s.strip_prefix('+').unwrap_or(s);
    if let Some(h) = t.strip_prefix("0x") {
        return u32::from_str_radix(h, 16).ok();
    }
    if let Some(o) = t.strip_prefix("0o") {
        return u32::from_str_radix(o, 8).ok();
    }
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

enum Want {
    Str,
    Bool,
    U32,
}

enum Decoded {
    Str(String),
    Bool(bool),
    U32(u32),
}

impl Reader<'_> {
    fn ctx(&self, node: &Node, item_type: ItemType, name: &str, parent: &Context) -> Context {
        parent.child(self.marks.pos(node), item_type, name)
    }

    /// Falco's `decode_val`: `Ok(None)` when optional and absent (or empty
    /// and allowed to be).
    fn decode(
        &self,
        item: &Node,
        key: &str,
        want: Want,
        ctx: &Context,
        optional: bool,
        can_be_empty: bool,
    ) -> R<Option<Decoded>> {
        let Some(val) = get(item, key) else {
            throw_if!(
                !optional,
                format!("Item has no mapping for key '{key}'"),
                ctx
            );
            return Ok(None);
        };
        if is_null(val) && can_be_empty {
            return Ok(None);
        }
        throw_if!(
            is_null(val),
            format!("Mapping for key '{key}' is empty"),
            ctx
        );
        let valctx = self.ctx(val, ItemType::ValueFor, key, ctx);
        let Some(text) = val.as_str() else {
            return Err(yaml_err("Value is not a scalar value", &valctx));
        };
        if text.is_empty() && can_be_empty {
            return Ok(None);
        }
        throw_if!(text.is_empty(), "Value must be non-empty", &valctx);
        let decoded = match want {
            Want::Str => Some(Decoded::Str(text.to_string())),
            Want::Bool => as_bool(val).map(Decoded::Bool),
            Want::U32 => as_u32(val).map(Decoded::U32),
        };
        match decoded {
            Some(d) => Ok(Some(d)),
            None => Err(yaml_err("Can't decode YAML scalar value", &valctx)),
        }
    }

    fn req_str(&self, item: &Node, key: &str, ctx: &Context) -> R<String> {
        match self.decode(item, key, Want::Str, ctx, false, false)? {
            Some(Decoded::Str(s)) => Ok(s),
            _ => Err(yaml_err(
                format!("Item has no mapping for key '{key}'"),
                ctx,
            )),
        }
    }

    fn opt_str(&self, item: &Node, key: &str, ctx: &Context) -> R<Option<String>> {
        Ok(match self.decode(item, key, Want::Str, ctx, true, false)? {
            Some(Decoded::Str(s)) => Some(s),
            _ => None,
        })
    }

    fn opt_empty_str(&self, item: &Node, key: &str, ctx: &Context) -> R<Option<String>> {
        Ok(match self.decode(item, key, Want::Str, ctx, true, true)? {
            Some(Decoded::Str(s)) => Some(s),
            _ => None,
        })
    }

    fn req_bool(&self, item: &Node, key: &str, ctx: &Context) -> R<bool> {
        match self.decode(item, key, Want::Bool, ctx, false, false)? {
            Some(Decoded::Bool(b)) => Ok(b),
            _ => Err(yaml_err(
                format!("Item has no mapping for key '{key}'"),
                ctx,
            )),
        }
    }

    fn opt_bool(&self, item: &Node, key: &str, ctx: &Context) -> R<Option<bool>> {
        Ok(
            match self.decode(item, key, Want::Bool, ctx, true, false)? {
                Some(Decoded::Bool(b)) => Some(b),
                _ => None,
            },
        )
    }

    fn req_u32(&self, item: &Node, key: &str, ctx: &Context) -> R<u32> {
        match self.decode(item, key, Want::U32, ctx, false, false)? {
            Some(Decoded::U32(v)) => Ok(v),
            _ => Err(yaml_err(
                format!("Item has no mapping for key '{key}'"),
                ctx,
            )),
        }
    }

    fn opt_u32(&self, item: &Node, key: &str, ctx: &Context) -> R<Option<u32>> {
        Ok(match self.decode(item, key, Want::U32, ctx, true, false)? {
            Some(Decoded::U32(v)) => Some(v),
            _ => None,
        })
    }

    /// A sequence of scalars (`items`, `tags`).
    fn decode_seq(
        &self,
        item: &Node,
        key: &str,
        ctx: &Context,
        optional: bool,
    ) -> R<Option<Vec<String>>> {
        let Some(val) = get(item, key) else {
            throw_if!(
                !optional,
                format!("Item has no mapping for key '{key}'"),
                ctx
            );
            return Ok(None);
        };
        let valctx = self.ctx(val, ItemType::ValueFor, key, ctx);
        let Some(seq) = val.as_seq() else {
            return Err(yaml_err("Value is not a sequence", &valctx));
        };
        let mut out = Vec::with_capacity(seq.len());
        for v in seq {
            let ictx = self.ctx(v, ItemType::ListItem, "", &valctx);
            match &v.kind {
                Kind::Scalar { text, .. } if !is_null(v) => out.push(text.clone()),
                _ => return Err(yaml_err("sequence value is not scalar", &ictx)),
            }
        }
        Ok(Some(out))
    }

    fn decode_tags(&self, item: &Node, ctx: &Context) -> R<Option<Vec<String>>> {
        Ok(self.decode_seq(item, "tags", ctx, true)?.map(|tags| {
            let mut out: Vec<String> = Vec::with_capacity(tags.len());
            for t in tags {
                if !out.contains(&t) {
                    out.push(t);
                }
            }
            out
        }))
    }

    fn decode_overrides(
        &self,
        item: &Node,
        appendable: &[&str],
        replaceable: &[&str],
        ctx: &Context,
    ) -> R<(BTreeSet<String>, BTreeSet<String>)> {
        let mut append = BTreeSet::new();
        let mut replace = BTreeSet::new();
        let Some(val) = get(item, "override") else {
            return Ok((append, replace));
        };
        let overridectx = self.ctx(item, ItemType::Override, "", ctx);
        let entries: &[(Node, Node)] = val.as_map().unwrap_or(&[]);
        for (k, v) in entries {
            let key = k.as_str().unwrap_or("").to_string();
            let op = v.as_str().unwrap_or("");
            let can_append = appendable.contains(&key.as_str());
            let can_replace = replaceable.contains(&key.as_str());
            match op {
                "append" => {
                    let keyctx = self.ctx(k, ItemType::Override, &key, &overridectx);
                    throw_if!(
                        !can_append,
                        format!("Key '{key}' cannot be appended to, use 'replace' instead"),
                        &keyctx
                    );
                    append.insert(key);
                }
                "replace" => {
                    let keyctx = self.ctx(k, ItemType::Override, &key, &overridectx);
                    throw_if!(
                        !can_replace,
                        format!("Key '{key}' cannot be replaced"),
                        &keyctx
                    );
                    replace.insert(key);
                }
                _ => {
                    let opctx = self.ctx(v, ItemType::ValueFor, &key, &overridectx);
                    let mut msg = format!(
                        "Invalid override operation for key '{key}': '{op}'. Allowed values are: "
                    );
                    if can_append {
                        msg.push_str("append ");
                    }
                    if can_replace {
                        msg.push_str("replace ");
                    }
                    return Err(yaml_err(msg, &opctx));
                }
            }
        }
        Ok((append, replace))
    }

    fn decode_entry(&self, val: &Node, key: Option<&str>, ctx: &Context) -> R<Entry> {
        let valctx = self.ctx(val, ItemType::ValueFor, key.unwrap_or(""), ctx);
        let mut out = Entry::default();
        match &val.kind {
            Kind::Scalar { text, .. } if !is_null(val) => {
                throw_if!(text.is_empty(), "Value must be non-empty", &valctx);
                out.item = text.clone();
            }
            Kind::Scalar { .. } => {
                // yaml-cpp: a null is neither scalar nor sequence.
            }
            Kind::Seq(items) => {
                out.is_list = true;
                for v in items {
                    let lctx = self.ctx(v, ItemType::Exception, "", &valctx);
                    out.items.push(self.decode_entry(v, None, &lctx)?);
                }
            }
            Kind::Map(_) => {}
        }
        Ok(out)
    }

    fn read_exceptions(
        &mut self,
        item: &Node,
        parent: &Context,
        append: bool,
    ) -> R<Option<Vec<ExceptionInfo>>> {
        let Some(exs) = get(item, "exceptions") else {
            return Ok(None);
        };
        if is_null(exs) {
            return Ok(Some(Vec::new()));
        }
        let exes_ctx = self.ctx(exs, ItemType::Exceptions, "", parent);
        let Some(seq) = exs.as_seq() else {
            return Err(yaml_err("Rule exceptions must be a sequence", &exes_ctx));
        };
        let mut out: Vec<ExceptionInfo> = Vec::new();
        for ex in seq {
            let tmp = self.ctx(ex, ItemType::Exception, "", &exes_ctx);
            throw_if!(
                ex.as_map().is_none(),
                "Rule exception must be a mapping",
                &tmp
            );
            let name = self.req_str(ex, "name", &tmp)?;
            let ex_ctx = self.ctx(ex, ItemType::Exception, &name, parent);
            if out.iter().any(|e| e.name == name) {
                self.res.add_warning(
                    WarningCode::ExceptionNameNotUnique,
                    format!("Multiple definitions of exception '{name}' in the same rule"),
                    ex_ctx.clone(),
                );
            }
            let fields = match get(ex, "fields") {
                Some(v) => self.decode_entry(v, Some("fields"), &ex_ctx)?,
                None => {
                    throw_if!(!append, "Item has no mapping for key 'fields'", &ex_ctx);
                    Entry::default()
                }
            };
            let comps = match get(ex, "comps") {
                Some(v) => self.decode_entry(v, Some("comps"), &ex_ctx)?,
                None => Entry::default(),
            };
            let mut values = Vec::new();
            match get(ex, "values") {
                Some(exvals) => {
                    let vals_ctx = self.ctx(exvals, ItemType::ExceptionValues, "", &ex_ctx);
                    let Some(vs) = exvals.as_seq() else {
                        return Err(yaml_err(
                            "Rule exception values must be a sequence",
                            &vals_ctx,
                        ));
                    };
                    for v in vs {
                        let vctx = self.ctx(v, ItemType::ExceptionValue, "", &vals_ctx);
                        values.push(self.decode_entry(v, None, &vctx)?);
                    }
                }
                None if append => self.res.add_warning(
                    WarningCode::AppendNoValues,
                    "Overriding/appending exception with no values",
                    ex_ctx.clone(),
                ),
                None => {}
            }
            out.push(ExceptionInfo {
                ctx: ex_ctx,
                name,
                fields,
                comps,
                values,
            });
        }
        Ok(Some(out))
    }

    fn warn_unknown_keys(&mut self, item: &Node, expected: &[&str], ctx: &Context) {
        let Some(entries) = item.as_map() else { return };
        for (k, _) in entries {
            let key = k.as_str().unwrap_or("");
            if !expected.contains(&key) {
                self.res.add_warning(
                    WarningCode::UnknownKey,
                    format!("Unknown key '{key}'. The key will be ignored."),
                    ctx.clone(),
                );
            }
        }
    }

    pub fn read_item(&mut self, item: &Node, parent: &Context) -> R<()> {
        {
            let tmp = self.ctx(item, ItemType::RulesContentItem, "", parent);
            throw_if!(
                item.as_map().is_none(),
                "Unexpected element type. Each element should be a yaml associative array.",
                &tmp
            );
        }
        if get(item, "required_engine_version").is_some() {
            self.read_engine_version(item, parent)
        } else if let Some(reqs) = get(item, "required_plugin_versions") {
            self.read_plugin_versions(item, reqs, parent)
        } else if get(item, "list").is_some() {
            self.read_list(item, parent)
        } else if get(item, "macro").is_some() {
            self.read_macro(item, parent)
        } else if get(item, "rule").is_some() {
            self.read_rule(item, parent)
        } else {
            let ctx = self.ctx(item, ItemType::RulesContentItem, "", parent);
            self.res
                .add_warning(WarningCode::UnknownItem, "Unknown top level item", ctx);
            Ok(())
        }
    }

    fn read_engine_version(&mut self, item: &Node, parent: &Context) -> R<()> {
        let ctx = self.ctx(item, ItemType::RequiredEngineVersion, "", parent);
        let version = match self.req_u32(item, "required_engine_version", &ctx) {
            Ok(minor) => Version::new(0, minor, 0),
            Err(_) => {
                let v = self.req_str(item, "required_engine_version", &ctx)?;
                let version = Version::parse(&v);
                throw_if!(
                    !version.is_valid(),
                    format!(
                        "Unable to parse engine version '{v}' as a semver string. Expected \"x.y.z\" semver format."
                    ),
                    &ctx
                );
                version
            }
        };
        let engine = self.engine_version;
        self.collector
            .define_engine_version(&engine, version, &ctx)?;
        self.warn_unknown_keys(item, &["required_engine_version"], &ctx);
        Ok(())
    }

    fn read_plugin_versions(&mut self, item: &Node, reqs: &Node, parent: &Context) -> R<()> {
        let ctx = self.ctx(reqs, ItemType::RequiredPluginVersions, "", parent);
        let Some(seq) = reqs.as_seq() else {
            return Err(yaml_err(
                "Value of required_plugin_versions must be a sequence",
                &ctx,
            ));
        };
        for plugin in seq {
            let tmp = self.ctx(plugin, ItemType::RequiredPluginVersionsEntry, "", &ctx);
            throw_if!(
                plugin.as_map().is_none(),
                "Plugin version must be a mapping",
                &tmp
            );
            let name = self.req_str(plugin, "name", &tmp)?;
            let pctx = self.ctx(plugin, ItemType::RequiredPluginVersionsEntry, &name, &ctx);
            let version = self.req_str(plugin, "version", &pctx)?;
            let mut alternatives = vec![PluginRequirement { name, version }];
            if let Some(alts) = get(plugin, "alternatives") {
                let Some(alts) = alts.as_seq() else {
                    return Err(yaml_err(
                        "Value of plugin version alternatives must be a sequence",
                        &pctx,
                    ));
                };
                for req in alts {
                    let tmp = self.ctx(req, ItemType::RequiredPluginVersionsAlternative, "", &pctx);
                    throw_if!(
                        req.as_map().is_none(),
                        "Plugin version alternative must be a mapping",
                        &tmp
                    );
                    let name = self.req_str(req, "name", &tmp)?;
                    let tmp = self.ctx(
                        req,
                        ItemType::RequiredPluginVersionsAlternative,
                        &name,
                        &pctx,
                    );
                    let version = self.req_str(req, "version", &tmp)?;
                    alternatives.push(PluginRequirement { name, version });
                }
            }
            self.collector
                .define_plugin_requirement(alternatives, &pctx)?;
        }
        let rpv = self.ctx(item, ItemType::RequiredPluginVersions, "", parent);
        self.warn_unknown_keys(item, &["required_plugin_versions"], &rpv);
        Ok(())
    }

    fn read_list(&mut self, item: &Node, parent: &Context) -> R<()> {
        let tmp = self.ctx(item, ItemType::List, "", parent);
        let name = self.req_str(item, "list", &tmp)?;
        let ctx = self.ctx(item, ItemType::List, &name, parent);
        if !is_bare_str(&name) {
            self.res.add_warning(
                WarningCode::InvalidListName,
                "List has an invalid name. List names should match a regular expression: ([^()\"'[:space:]=,]+)",
                ctx.clone(),
            );
        }
        let items = self
            .decode_seq(item, "items", &ctx, false)?
            .unwrap_or_default();
        let mut append = self.opt_bool(item, "append", &ctx)?.unwrap_or(false);
        if append {
            self.res
                .add_warning(WarningCode::DeprecatedItem, WARNING_APPEND, ctx.clone());
        }
        let (oa, or) = self.decode_overrides(item, &["items"], &["items"], &ctx)?;
        let has_overrides = !oa.is_empty() || !or.is_empty();
        throw_if!(append && has_overrides, ERROR_OVERRIDE_APPEND, &ctx);
        append |= oa.contains("items");
        let info = ListInfo {
            ctx: ctx.clone(),
            index: 0,
            visibility: 0,
            name,
            items,
        };
        if append {
            self.collector.append_list(info)?;
        } else {
            self.collector.define_list(info);
        }
        self.warn_unknown_keys(item, &["list", "items", "append", "override"], &ctx);
        Ok(())
    }

    fn read_macro(&mut self, item: &Node, parent: &Context) -> R<()> {
        let tmp = self.ctx(item, ItemType::Macro, "", parent);
        let name = self.req_str(item, "macro", &tmp)?;
        let ctx = self.ctx(item, ItemType::Macro, &name, parent);
        if !is_identifier(&name) {
            self.res.add_warning(
                WarningCode::InvalidMacroName,
                "Macro has an invalid name. Macro names should match a regular expression: ([a-zA-Z]+[a-zA-Z0-9_]*)",
                ctx.clone(),
            );
        }
        let cond = self.req_str(item, "condition", &ctx)?;
        let cond_node = get(item, "condition").unwrap_or(item);
        let cond_ctx = self.ctx(cond_node, ItemType::MacroCondition, "", &ctx);
        let mut append = self.opt_bool(item, "append", &ctx)?.unwrap_or(false);
        if append {
            self.res
                .add_warning(WarningCode::DeprecatedItem, WARNING_APPEND, ctx.clone());
        }
        let (oa, or) = self.decode_overrides(item, &["condition"], &["condition"], &ctx)?;
        let has_overrides = !oa.is_empty() || !or.is_empty();
        throw_if!(append && has_overrides, ERROR_OVERRIDE_APPEND, &ctx);
        append |= oa.contains("condition");
        let info = MacroInfo {
            ctx: ctx.clone(),
            cond_ctx,
            index: 0,
            visibility: 0,
            name,
            cond,
        };
        if append {
            self.collector.append_macro(info)?;
        } else {
            self.collector.define_macro(info);
        }
        self.warn_unknown_keys(item, &["macro", "condition", "append", "override"], &ctx);
        Ok(())
    }

    fn priority(&self, item: &Node, ctx: &Context) -> R<Priority> {
        let text = self.req_str(item, "priority", ctx)?;
        let node = get(item, "priority").unwrap_or(item);
        let prictx = self.ctx(node, ItemType::RulePriority, "", ctx);
        text.parse::<Priority>()
            .map_err(|_| yaml_err("Invalid priority", &prictx))
    }

    fn read_rule(&mut self, item: &Node, parent: &Context) -> R<()> {
        const APPENDABLE: [&str; 5] = ["condition", "output", "desc", "tags", "exceptions"];
        const REPLACEABLE: [&str; 11] = [
            "condition",
            "output",
            "desc",
            "priority",
            "capture",
            "capture_duration",
            "tags",
            "exceptions",
            "enabled",
            "warn_evttypes",
            "skip-if-unknown-filter",
        ];
        const RULE_KEYS: [&str; 15] = [
            "rule",
            "condition",
            "output",
            "desc",
            "priority",
            "source",
            "enabled",
            "capture",
            "capture_duration",
            "warn_evttypes",
            "skip-if-unknown-filter",
            "tags",
            "exceptions",
            "override",
            "append",
        ];
        let tmp = self.ctx(item, ItemType::Rule, "", parent);
        let name = self.req_str(item, "rule", &tmp)?;
        let ctx = self.ctx(item, ItemType::Rule, &name, parent);
        let source = self
            .opt_empty_str(item, "source", &ctx)?
            .unwrap_or_default();
        let has_append_flag = self.opt_bool(item, "append", &ctx)?.unwrap_or(false);
        if has_append_flag {
            self.res
                .add_warning(WarningCode::DeprecatedItem, WARNING_APPEND, ctx.clone());
        }
        let (oa, or) = self.decode_overrides(item, &APPENDABLE, &REPLACEABLE, &ctx)?;
        let has_overrides = !oa.is_empty() || !or.is_empty();
        throw_if!(
            has_append_flag && has_overrides,
            ERROR_OVERRIDE_APPEND,
            &ctx
        );

        if has_overrides {
            // The keys that must each be consumed by an override entry.
            let mut expected: BTreeSet<&str> = APPENDABLE
                .iter()
                .chain(REPLACEABLE.iter())
                .copied()
                .filter(|k| get(item, k).is_some())
                .collect();
            let mut take = |set: &BTreeSet<String>, kind: &str, key: &'static str| -> R<bool> {
                if !set.contains(key) {
                    return Ok(false);
                }
                throw_if!(
                    !expected.contains(key),
                    format!(
                        "An {kind} override for '{key}' was specified but '{key}' is not defined"
                    ),
                    &ctx
                );
                expected.remove(key);
                Ok(true)
            };
            if !oa.is_empty() {
                let mut v = RuleUpdate {
                    name: name.clone(),
                    ..RuleUpdate::default()
                };
                if take(&oa, "append", "condition")? {
                    v.source = source.clone();
                    v.cond = Some(self.req_str(item, "condition", &ctx)?);
                }
                if take(&oa, "append", "exceptions")? {
                    v.exceptions =
                        Some(self.read_exceptions(item, &ctx, true)?.unwrap_or_default());
                }
                if take(&oa, "append", "output")? {
                    v.output = Some(self.req_str(item, "output", &ctx)?);
                }
                if take(&oa, "append", "desc")? {
                    v.desc = Some(self.req_str(item, "desc", &ctx)?);
                }
                if take(&oa, "append", "tags")? {
                    v.tags = Some(self.decode_tags(item, &ctx)?.unwrap_or_default());
                }
                self.collector.append_rule(v, &ctx, self.sources)?;
            }
            if !or.is_empty() {
                let mut v = RuleUpdate {
                    name: name.clone(),
                    ..RuleUpdate::default()
                };
                if take(&or, "replace", "condition")? {
                    v.source = source.clone();
                    v.cond = Some(self.req_str(item, "condition", &ctx)?);
                }
                if take(&or, "replace", "exceptions")? {
                    v.exceptions =
                        Some(self.read_exceptions(item, &ctx, false)?.unwrap_or_default());
                }
                if take(&or, "replace", "output")? {
                    v.output = Some(self.req_str(item, "output", &ctx)?);
                }
                if take(&or, "replace", "desc")? {
                    v.desc = Some(self.req_str(item, "desc", &ctx)?);
                }
                if take(&or, "replace", "tags")? {
                    v.tags = Some(self.decode_tags(item, &ctx)?.unwrap_or_default());
                }
                if take(&or, "replace", "priority")? {
                    v.priority = Some(self.priority(item, &ctx)?);
                }
                if take(&or, "replace", "capture")? {
                    v.capture = Some(self.req_bool(item, "capture", &ctx)?);
                }
                if take(&or, "replace", "capture_duration")? {
                    v.capture_duration = Some(self.req_u32(item, "capture_duration", &ctx)?);
                }
                if take(&or, "replace", "enabled")? {
                    v.enabled = Some(self.req_bool(item, "enabled", &ctx)?);
                }
                if take(&or, "replace", "warn_evttypes")? {
                    v.warn_evttypes = Some(self.req_bool(item, "warn_evttypes", &ctx)?);
                }
                if take(&or, "replace", "skip-if-unknown-filter")? {
                    v.skip_if_unknown_filter =
                        Some(self.req_bool(item, "skip-if-unknown-filter", &ctx)?);
                }
                self.collector.replace_rule(v, &ctx)?;
            }
            if let Some(key) = expected.into_iter().next() {
                let node = get(item, key).unwrap_or(item);
                let keyctx = self.ctx(node, ItemType::Override, key, &ctx);
                return Err(yaml_err(
                    format!("Unexpected key '{key}': no corresponding entry under 'override' is defined."),
                    &keyctx,
                ));
            }
        } else if has_append_flag {
            let mut v = RuleUpdate {
                name: name.clone(),
                source: source.clone(),
                ..RuleUpdate::default()
            };
            if get(item, "condition").is_some() {
                v.cond = Some(self.req_str(item, "condition", &ctx)?);
            }
            if get(item, "exceptions").is_some() {
                v.exceptions = Some(self.read_exceptions(item, &ctx, true)?.unwrap_or_default());
            }
            self.collector.append_rule(v, &ctx, self.sources)?;
        } else {
            let mut v = RuleInfo::new(ctx.clone());
            v.name = name.clone();
            if ["condition", "output", "desc", "priority"]
                .iter()
                .all(|k| get(item, k).is_none())
            {
                v.enabled = self.req_bool(item, "enabled", &ctx)?;
                self.res
                    .add_warning(WarningCode::DeprecatedItem, WARNING_ENABLED, ctx.clone());
                self.collector.enable_rule(&name, v.enabled, &ctx)?;
            } else {
                v.cond = self.req_str(item, "condition", &ctx)?;
                let cond_node = get(item, "condition").unwrap_or(item);
                v.cond_ctx = self.ctx(cond_node, ItemType::RuleCondition, "", &ctx);
                v.output = self.req_str(item, "output", &ctx)?;
                let out_node = get(item, "output").unwrap_or(item);
                v.output_ctx = self.ctx(out_node, ItemType::RuleOutput, "", &ctx);
                v.desc = self.req_str(item, "desc", &ctx)?;
                let priority = self.priority(item, &ctx)?;
                v.output = v
                    .output
                    .trim_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c'])
                    .to_string();
                v.priority = priority;
                v.source = self
                    .opt_str(item, "source", &ctx)?
                    .unwrap_or_else(|| "syscall".to_string());
                if let Some(b) = self.opt_bool(item, "enabled", &ctx)? {
                    v.enabled = b;
                }
                if let Some(b) = self.opt_bool(item, "capture", &ctx)? {
                    v.capture = b;
                }
                if let Some(d) = self.opt_u32(item, "capture_duration", &ctx)? {
                    v.capture_duration = d;
                }
                if let Some(b) = self.opt_bool(item, "warn_evttypes", &ctx)? {
                    v.warn_evttypes = b;
                }
                if let Some(b) = self.opt_bool(item, "skip-if-unknown-filter", &ctx)? {
                    v.skip_if_unknown_filter = b;
                }
                v.tags = self.decode_tags(item, &ctx)?.unwrap_or_default();
                v.exceptions = self.read_exceptions(item, &ctx, false)?.unwrap_or_default();
                self.collector.define_rule(v, self.sources, self.res)?;
            }
        }
        self.warn_unknown_keys(item, &RULE_KEYS, &ctx);
        Ok(())
    }
}

/// `[^()"'[:space:]=,]+` over the whole string.
pub(crate) fn is_bare_str(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|c| {
            !matches!(c, b'(' | b')' | b'"' | b'\'' | b'=' | b',')
                && !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
        })
}

/// `[a-zA-Z]+[a-zA-Z0-9_]*` over the whole string.
pub(crate) fn is_identifier(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}
