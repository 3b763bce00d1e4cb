//! Compiles what the collector gathered: lists expanded, macros parsed and
//! inlined, rule conditions built (exceptions appended), checked against
//! the source's fields, outputs parsed; with Falco's warnings.

use std::collections::{BTreeSet, HashMap};

use super::collector::{Collector, ExceptionInfo};
use super::result::{Context, DeprecatedField, ErrorCode, FileResult, WarningCode};
use super::{ExtraOutput, ExtraOutputField, LoadException, Options, R};
use crate::ast::{Expr, ExprKind, Pos};
use crate::check;
use crate::evttypes::{self, InferenceOptions};
use crate::fields::FieldRegistry;
use crate::output::OutputTemplate;
use crate::parser::Parser;
use crate::ruleset::{List, Macro, Rule, Ruleset};

/// Falco parses rule and macro conditions with this nesting limit.
const CONDITION_MAX_DEPTH: u32 = 1000;
/// Macro expansion limits: nesting through macros, and the size of an
/// expanded condition (guards against exponential inlining).
const MAX_MACRO_NESTING: usize = 256;
const MAX_EXPANDED_NODES: usize = 2_000_000;
/// Deeper expanded trees would risk the stack in later passes.
const MAX_EXPANDED_DEPTH: usize = 2_000;

fn load_err(code: ErrorCode, msg: impl Into<String>, ctx: Context) -> LoadException {
    LoadException {
        code,
        message: msg.into(),
        ctx,
    }
}

/// Falco quotes list and exception items containing a space (and not
/// already quoted).
fn quote_item(e: &str) -> String {
    let first = e.as_bytes().first().copied();
    if e.contains(' ') && first != Some(b'"') && first != Some(b'\'') {
        format!("\"{e}\"")
    } else {
        e.to_string()
    }
}

fn paren_item(e: &str) -> String {
    if e.as_bytes().first() != Some(&b'(') {
        format!("({e})")
    } else {
        e.to_string()
    }
}

/// Falco's textual list substitution: every occurrence of `name` bounded by
/// blanks, `(`, `)`, `,`, `=` or the ends is replaced by the list's items.
fn resolve_list(cnd: &mut String, name: &str, items: &[String]) -> bool {
    const BLANKS: &[u8] = b" \t\n\r";
    let is_delim = |c: u8| BLANKS.contains(&c) || b"(),=".contains(&c);
    if name.is_empty() {
        return false;
    }
    let nb = name.as_bytes();
    let mut buf: Vec<u8> = cnd.as_bytes().to_vec();
    let mut used = false;
    let mut start = memchr::memmem::find(&buf, nb);
    while let Some(mut s) = start {
        let end = s + nb.len();
        let mut next_from = s + 1;
        if (s == 0 || is_delim(buf[s - 1])) && (end >= buf.len() || is_delim(buf[end])) {
            while s > 0 && BLANKS.contains(&buf[s - 1]) {
                s -= 1;
            }
            let mut e = end;
            while e < buf.len() && BLANKS.contains(&buf[e]) {
                e += 1;
            }
            let sub = items
                .iter()
                .map(|v| quote_item(v))
                .collect::<Vec<_>>()
                .join(", ");
            if sub.is_empty() {
                if s > 0 && buf[s - 1] == b',' {
                    s -= 1;
                } else if e < buf.len() && buf[e] == b',' {
                    e += 1;
                }
            }
            let mut new = Vec::with_capacity(buf.len() + sub.len() + 2);
            if s > 0 {
                new.extend_from_slice(&buf[..s]);
                new.push(b' ');
            }
            new.extend_from_slice(sub.as_bytes());
            new.push(b' ');
            if e <= buf.len() {
                new.extend_from_slice(&buf[e..]);
            }
            buf = new;
            s += sub.len() + 1;
            next_from = s + 1;
            used = true;
        }
        start = if next_from <= buf.len() {
            memchr::memmem::find(&buf[next_from..], nb).map(|i| i + next_from)
        } else {
            None
        };
    }
    if used {
        *cnd = String::from_utf8(buf).unwrap_or_default();
    }
    used
}

/// Builds the condition with exceptions appended, as Falco does (text).
fn build_exceptions(
    exceptions: &[ExceptionInfo],
    fields: &mut BTreeSet<String>,
    condition: &mut String,
) -> R<()> {
    *condition = format!("({condition})");
    for ex in exceptions {
        let mut icond = String::new();
        if !ex.fields.is_list {
            for val in &ex.values {
                if val.is_list {
                    return Err(load_err(
                        ErrorCode::Validate,
                        "Expected values array to contain a list of strings",
                        ex.ctx.clone(),
                    ));
                }
                if icond.is_empty() {
                    icond = format!("({} {} (", ex.fields.item, ex.comps.item);
                } else {
                    icond.push_str(", ");
                }
                fields.insert(ex.fields.item.clone());
                icond.push_str(&quote_item(&val.item));
            }
            if !icond.is_empty() {
                icond.push_str("))");
            }
        } else {
            icond.push('(');
            for values in &ex.values {
                if ex.fields.items.len() != values.items.len() {
                    return Err(load_err(
                        ErrorCode::Validate,
                        "Fields and values lists must have equal length",
                        ex.ctx.clone(),
                    ));
                }
                if icond != "(" {
                    icond.push_str(" or ");
                }
                icond.push('(');
                for (k, field) in ex.fields.items.iter().enumerate() {
                    if k > 0 {
                        icond.push_str(" and ");
                    }
                    let value = &values.items[k];
                    let comp = &ex.comps.items[k].item;
                    let istr = if value.is_list {
                        let inner: Vec<String> =
                            value.items.iter().map(|v| quote_item(&v.item)).collect();
                        format!("({})", inner.join(", "))
                    } else if is_operator_for_list(comp) {
                        paren_item(&value.item)
                    } else {
                        quote_item(&value.item)
                    };
                    icond.push_str(&format!(" {} {} {}", field.item, comp, istr));
                    fields.insert(field.item.clone());
                }
                icond.push(')');
            }
            icond.push(')');
            if icond == "()" {
                icond.clear();
            }
        }
        if !icond.is_empty() {
            condition.push_str(" and not ");
            condition.push_str(&icond);
        }
    }
    Ok(())
}

fn is_operator_for_list(op: &str) -> bool {
    matches!(op, "intersects" | "in" | "pmatch") || super::collector::is_str_op_with_modifier(op)
}

/// Parses a condition after textual list substitution.
fn parse_condition(condition: &str, lists: &mut [CompiledList], ctx: &Context) -> R<Expr> {
    let mut cond = condition.to_string();
    for l in lists.iter_mut() {
        if cond.contains(l.name.as_str()) && resolve_list(&mut cond, &l.name, &l.items) {
            l.used = true;
        }
    }
    let mut p = Parser::new(&cond).with_max_depth(CONDITION_MAX_DEPTH);
    p.parse().map_err(|e| {
        load_err(
            ErrorCode::CompileCondition,
            e.message,
            ctx.condition(
                e.pos.offset as usize,
                e.pos.line as usize,
                e.pos.column as usize,
                &cond,
            ),
        )
    })
}

struct CompiledList {
    name: String,
    items: Vec<String>,
    used: bool,
}

/// Inlines macros: `macros` maps macro names to their ASTs (by position);
/// only those defined before `visibility` are visible.
struct MacroResolver<'a> {
    macros: &'a HashMap<&'a str, usize>,
    indexes: &'a [usize],
    visibility: usize,
    asts: &'a [Expr],
    path: Vec<String>,
    errors: Vec<(String, Pos)>,
    unknown: Vec<(String, Pos)>,
    resolved: Vec<String>,
    nodes: usize,
}

impl MacroResolver<'_> {
    fn run(&mut self, e: &mut Expr) {
        match &mut e.kind {
            ExprKind::And(children) | ExprKind::Or(children) => {
                for c in children {
                    self.run(c);
                }
            }
            ExprKind::Not(c) => self.run(c),
            ExprKind::Identifier(id) => {
                let Some(&idx) = self
                    .macros
                    .get(id.as_str())
                    .filter(|&&i| self.indexes[i] < self.visibility)
                else {
                    self.unknown.push((id.clone(), e.pos));
                    return;
                };
                if self.path.iter().any(|p| p == id) {
                    self.errors
                        .push((format!("reference loop in macro '{id}'"), e.pos));
                    self.unknown.push((id.clone(), e.pos));
                    return;
                }
                if self.path.len() >= MAX_MACRO_NESTING {
                    self.errors.push((
                        format!("macro '{id}' is nested more than {MAX_MACRO_NESTING} macros deep"),
                        e.pos,
                    ));
                    return;
                }
                let mut new = self.asts[idx].clone();
                self.nodes += count_nodes(&new);
                if self.nodes > MAX_EXPANDED_NODES {
                    self.errors.push((
                        format!("condition is too large after expanding macro '{id}'"),
                        e.pos,
                    ));
                    return;
                }
                let name = id.clone();
                self.path.push(name.clone());
                self.run(&mut new);
                self.path.pop();
                *e = new;
                self.resolved.push(name);
            }
            _ => {}
        }
    }
}

fn count_nodes(e: &Expr) -> usize {
    let mut n = 0;
    e.walk(&mut |_| n += 1);
    n
}

/// Falco's checks on a rule condition: whether a field that may be absent
/// (`ka.*`, `jevt.*`) is compared with the literal `<NA>`, and which
/// deprecated fields it uses.
pub(crate) fn scan_condition(expr: &Expr) -> (bool, BTreeSet<DeprecatedField>) {
    let mut unsafe_na = false;
    let mut deprecated: BTreeSet<DeprecatedField> = BTreeSet::new();
    expr.walk(&mut |n| match &n.kind {
        ExprKind::Field { name, .. } => {
            if let Some(df) = DeprecatedField::from_name(name) {
                deprecated.insert(df);
            }
        }
        ExprKind::Binary { left, op, right } => {
            let unsafe_field = matches!(&left.kind, ExprKind::Field { name, .. }
                if name.starts_with("ka.") || name.starts_with("jevt."));
            let equality = op.modifier.is_none()
                && matches!(
                    op.op,
                    crate::CmpOp::Eq
                        | crate::CmpOp::EqEq
                        | crate::CmpOp::Ne
                        | crate::CmpOp::In
                        | crate::CmpOp::Intersects
                        | crate::CmpOp::PMatch
                );
            if unsafe_field && equality {
                match &right.kind {
                    ExprKind::Value(v) if v == "<NA>" => unsafe_na = true,
                    ExprKind::List(vs) if vs.iter().any(|v| v == "<NA>") => unsafe_na = true,
                    _ => {}
                }
            }
        }
        _ => {}
    });
    (unsafe_na, deprecated)
}

fn condition_warnings(expr: &Expr, res: &mut FileResult, ctx: &Context) {
    let (unsafe_na, deprecated) = scan_condition(expr);
    // Falco reports each warning code once, in code order.
    if unsafe_na {
        res.add_warning(WarningCode::UnsafeNaCheck, "", ctx.clone());
    }
    for df in deprecated {
        res.add_deprecated_field(df, df.description().to_string(), ctx.clone());
    }
}

fn deprecated_in_output(fmt: &str, res: &mut FileResult, ctx: &Context) {
    for df in DeprecatedField::ALL {
        if fmt.contains(df.name()) {
            res.add_deprecated_field(
                df,
                format!(
                    "usage of deprecated field '{}' has been detected in the rule output",
                    df.name()
                ),
                ctx.clone(),
            );
        }
    }
}

fn unknown_kind(err: &str) -> bool {
    err.contains("nonexistent field")
        || err.contains("invalid formatting token")
        || err.contains("unknown event type")
        || err.contains("unknown filter:")
}

fn matches_extra(
    rule_source: &str,
    rule_tags: &[String],
    rule_name: &str,
    source: &str,
    tags: &[String],
    rule: &str,
) -> bool {
    (source.is_empty() || source == rule_source)
        && tags.iter().all(|t| rule_tags.contains(t))
        && (rule.is_empty() || rule == rule_name)
}

/// The registries of the configured sources.
pub(crate) struct Sources<'a> {
    pub registries: &'a [FieldRegistry],
}

impl Sources<'_> {
    fn get(&self, source: &str) -> Option<&FieldRegistry> {
        self.registries.iter().find(|r| r.source() == source)
    }
}

/// Compiles everything collected so far into a ruleset, adding errors and
/// warnings to `res`.
pub(crate) fn compile(
    col: &Collector,
    sources: &Sources<'_>,
    opts: &Options,
    res: &mut FileResult,
) -> Option<Ruleset> {
    let mut macros_used: Vec<bool> = vec![false; col.macros.len()];
    let mut lists = compile_lists(col);
    let outcome = (|| -> R<(Vec<Expr>, Vec<Rule>)> {
        let macro_asts = compile_macros(col, &mut lists, &mut macros_used)?;
        let rules = compile_rules(
            col,
            sources,
            opts,
            &mut lists,
            &macro_asts,
            &mut macros_used,
            res,
        )?;
        Ok((macro_asts, rules))
    })();
    let (macro_asts, rules) = match outcome {
        Ok(v) => v,
        Err(e) => {
            res.add_error(e.code, e.message, e.ctx);
            return None;
        }
    };
    for (i, m) in col.macros.iter().enumerate() {
        if !macros_used[i] {
            res.add_warning(
                WarningCode::UnusedMacro,
                "Macro not referred to by any other rule/macro",
                m.ctx.clone(),
            );
        }
    }
    for (i, l) in col.lists.iter().enumerate() {
        if !lists[i].used {
            res.add_warning(
                WarningCode::UnusedList,
                "List not referred to by any other rule/macro",
                l.ctx.clone(),
            );
        }
    }
    let default_enabled: Vec<bool> = rules
        .iter()
        .map(|r| {
            let info_enabled = col.rules.get(&r.name).map(|i| i.enabled).unwrap_or(false);
            info_enabled && r.priority <= opts.min_priority
        })
        .collect();
    let macros = col
        .macros
        .iter()
        .zip(macro_asts)
        .enumerate()
        .map(|(i, (m, ast))| Macro {
            name: m.name.clone(),
            condition_raw: m.cond.clone(),
            condition: ast,
            used: macros_used[i],
        })
        .collect();
    let lists_out = col
        .lists
        .iter()
        .zip(lists)
        .map(|(l, c)| List {
            name: l.name.clone(),
            items: l.items.clone(),
            items_compiled: c.items,
            used: c.used,
        })
        .collect();
    let mut rs = Ruleset::new(rules, macros, lists_out, default_enabled);
    rs.required_engine_version = col.required_engine_version;
    rs.required_plugin_versions = col.required_plugins.clone();
    Some(rs)
}

fn compile_lists(col: &Collector) -> Vec<CompiledList> {
    let mut out: Vec<CompiledList> = Vec::with_capacity(col.lists.len());
    let mut used_names: Vec<&str> = Vec::new();
    for list in col.lists.iter() {
        let mut items = Vec::with_capacity(list.items.len());
        for item in &list.items {
            match col.lists.get(item) {
                Some(r) if r.index < list.visibility => {
                    used_names.push(&r.name);
                    items.extend(r.items.iter().cloned());
                }
                _ => items.push(item.clone()),
            }
        }
        out.push(CompiledList {
            name: list.name.clone(),
            items,
            used: false,
        });
    }
    for n in used_names {
        if let Some(l) = out.iter_mut().find(|l| l.name == n) {
            l.used = true;
        }
    }
    out
}

/// Macro names to positions, and each macro's definition index.
struct MacroTable<'a> {
    by_name: HashMap<&'a str, usize>,
    indexes: Vec<usize>,
}

impl<'a> MacroTable<'a> {
    fn new(col: &'a Collector) -> MacroTable<'a> {
        MacroTable {
            by_name: col
                .macros
                .iter()
                .enumerate()
                .map(|(j, o)| (o.name.as_str(), j))
                .collect(),
            indexes: col.macros.iter().map(|m| m.index).collect(),
        }
    }
}

fn resolve_macros(
    table: &MacroTable<'_>,
    visibility: usize,
    asts: &[Expr],
    ast: &mut Expr,
    condition: &str,
    ctx: &Context,
    used: &mut [bool],
) -> R<()> {
    let mut r = MacroResolver {
        macros: &table.by_name,
        indexes: &table.indexes,
        visibility,
        asts,
        path: Vec::new(),
        errors: Vec::new(),
        unknown: Vec::new(),
        resolved: Vec::new(),
        nodes: count_nodes(ast),
    };
    r.run(ast);
    let first = match (r.errors.first(), r.unknown.first()) {
        (Some((msg, pos)), _) => Some((msg.clone(), *pos)),
        (None, Some((name, pos))) => {
            Some((format!("Undefined macro '{name}' used in filter."), *pos))
        }
        _ => None,
    };
    if let Some((msg, pos)) = first {
        return Err(load_err(
            ErrorCode::Validate,
            msg,
            ctx.condition(
                pos.offset as usize,
                pos.line as usize,
                pos.column as usize,
                condition,
            ),
        ));
    }
    if ast.depth() > MAX_EXPANDED_DEPTH {
        return Err(load_err(
            ErrorCode::Validate,
            format!("condition is nested more than {MAX_EXPANDED_DEPTH} levels deep after macro expansion"),
            ctx.clone(),
        ));
    }
    for name in r.resolved {
        if let Some(&i) = table.by_name.get(name.as_str()) {
            used[i] = true;
        }
    }
    Ok(())
}

fn compile_macros(col: &Collector, lists: &mut [CompiledList], used: &mut [bool]) -> R<Vec<Expr>> {
    let mut asts = Vec::with_capacity(col.macros.len());
    for m in col.macros.iter() {
        asts.push(parse_condition(&m.cond, lists, &m.cond_ctx)?);
    }
    let table = MacroTable::new(col);
    for (i, m) in col.macros.iter().enumerate() {
        let mut ast = asts[i].clone();
        resolve_macros(&table, m.visibility, &asts, &mut ast, &m.cond, &m.ctx, used)?;
        asts[i] = ast;
    }
    Ok(asts)
}

#[allow(clippy::too_many_arguments)]
fn compile_rules(
    col: &Collector,
    sources: &Sources<'_>,
    opts: &Options,
    lists: &mut [CompiledList],
    macro_asts: &[Expr],
    macros_used: &mut [bool],
    res: &mut FileResult,
) -> R<Vec<Rule>> {
    let table = MacroTable::new(col);
    let mut out: Vec<Rule> = Vec::new();
    for r in col.rules.iter() {
        if r.unknown_source {
            continue;
        }
        let Some(registry) = sources.get(&r.source) else {
            return Err(load_err(
                ErrorCode::Validate,
                format!("Unknown source at compile-time{}", r.source),
                r.ctx.clone(),
            ));
        };
        let mut condition = r.cond.clone();
        let mut exception_fields = BTreeSet::new();
        if !r.exceptions.is_empty() {
            build_exceptions(&r.exceptions, &mut exception_fields, &mut condition)?;
        }

        let mut output = r.output.clone();
        for extra in &opts.extra_output_formats {
            let ExtraOutput {
                format,
                source,
                tags,
                rule,
            } = extra;
            if matches_extra(&r.source, &r.tags, &r.name, source, tags, rule) {
                output.push(' ');
                output.push_str(format);
            }
        }
        if output.contains("%container.info") {
            res.add_warning(
                WarningCode::DeprecatedItem,
                "%container.info is deprecated and no more useful, and will be dropped by Falco 1.0.0. The container plugin will automatically add required fields to the output message.",
                r.ctx.clone(),
            );
            output = output.replace("%container.info", "");
        }
        let mut extra_fields: Vec<(String, String, bool)> = Vec::new();
        for extra in &opts.extra_output_fields {
            let ExtraOutputField {
                key,
                format,
                source,
                tags,
                rule,
                raw,
            } = extra;
            if matches_extra(&r.source, &r.tags, &r.name, source, tags, rule) {
                match extra_fields.iter_mut().find(|(k, _, _)| k == key) {
                    Some(slot) => *slot = (key.clone(), format.clone(), *raw),
                    None => extra_fields.push((key.clone(), format.clone(), *raw)),
                }
            }
        }
        extra_fields.sort_by(|a, b| a.0.cmp(&b.0));

        let template = match OutputTemplate::parse(&output, registry) {
            Ok(t) => t,
            Err(err) => {
                if unknown_kind(&err) && r.skip_if_unknown_filter {
                    res.add_warning(WarningCode::UnknownFilter, err, r.output_ctx.clone());
                    continue;
                }
                return Err(load_err(
                    ErrorCode::CompileOutput,
                    err,
                    r.output_ctx.clone(),
                ));
            }
        };
        deprecated_in_output(&output, res, &r.output_ctx);
        let mut extra_templates = Vec::with_capacity(extra_fields.len());
        for (key, fmt, raw) in &extra_fields {
            let t = OutputTemplate::parse(fmt, registry)
                .map_err(|e| load_err(ErrorCode::CompileOutput, e, r.output_ctx.clone()))?;
            deprecated_in_output(fmt, res, &r.output_ctx);
            extra_templates.push((key.clone(), t, *raw));
        }

        // The condition: parse (lists substituted), inline macros, warn,
        // check against the source's fields.
        let mut ast = parse_condition(&condition, lists, &r.cond_ctx)?;
        resolve_macros(
            &table,
            usize::MAX,
            macro_asts,
            &mut ast,
            &condition,
            &r.ctx,
            macros_used,
        )?;
        condition_warnings(&ast, res, &r.cond_ctx.condition(0, 0, 0, &condition));
        match check::check(&ast, registry) {
            Ok(warnings) => {
                for w in warnings {
                    res.add_warning(
                        WarningCode::CompileCondition,
                        w.message,
                        r.cond_ctx.condition(
                            w.pos.offset as usize,
                            w.pos.line as usize,
                            w.pos.column as usize,
                            &condition,
                        ),
                    );
                }
            }
            Err(e) => {
                let ctx = r.cond_ctx.condition(
                    e.pos.offset as usize,
                    e.pos.line as usize,
                    e.pos.column as usize,
                    &condition,
                );
                if e.unknown_field && r.skip_if_unknown_filter {
                    res.add_warning(WarningCode::UnknownFilter, e.message, ctx);
                    continue;
                }
                return Err(load_err(ErrorCode::CompileCondition, e.message, ctx));
            }
        }

        let event_types = evttypes::event_types(&ast)
            .map_err(|e| load_err(ErrorCode::CompileCondition, e.0, r.cond_ctx.clone()))?;
        if r.source == "syscall" && r.warn_evttypes {
            let warn = if opts.evttype_warning_master {
                let precise = evttypes::event_types_with(
                    &ast,
                    InferenceOptions {
                        evt_num_invariant: true,
                    },
                )
                .unwrap_or(event_types);
                precise.len() > 100
            } else {
                event_types.is_empty() || event_types.len() > 100
            };
            if warn {
                res.add_warning(
                    WarningCode::NoEvttype,
                    "Rule matches too many evt.type values. This has a significant performance penalty.",
                    r.ctx.clone(),
                );
            }
        }

        let mut tags_sorted = r.tags.clone();
        tags_sorted.sort();
        let condition_compiled = ast.to_condition();
        out.push(Rule {
            id: out.len(),
            name: r.name.clone(),
            description: r.desc.clone(),
            source: r.source.clone(),
            priority: r.priority,
            tags: tags_sorted,
            tags_as_written: r.tags.clone(),
            enabled: r.enabled,
            condition: ast,
            condition_raw: r.cond.clone(),
            condition_compiled,
            output_raw: r.output.clone(),
            output,
            output_template: template,
            extra_output_fields: extra_templates,
            exception_fields,
            exception_names: r.exceptions.iter().map(|e| e.name.clone()).collect(),
            exception_operators: r
                .exceptions
                .iter()
                .flat_map(|e| {
                    if e.comps.is_list {
                        e.comps
                            .items
                            .iter()
                            .flat_map(|c| {
                                if c.is_list {
                                    c.items.iter().map(|i| i.item.clone()).collect::<Vec<_>>()
                                } else {
                                    vec![c.item.clone()]
                                }
                            })
                            .collect::<Vec<_>>()
                    } else {
                        vec![e.comps.item.clone()]
                    }
                })
                .collect(),
            event_types,
            capture: r.capture,
            capture_duration: r.capture_duration,
            warn_evttypes: r.warn_evttypes,
            skip_if_unknown_filter: r.skip_if_unknown_filter,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::resolve_list;

    #[test]
    fn lists_substitute_textually() {
        let mut c = "proc.name in (shells) and x".to_string();
        assert!(resolve_list(
            &mut c,
            "shells",
            &["bash".into(), "a b".into()]
        ));
        assert_eq!(c, "proc.name in ( bash, \"a b\" ) and x");
        let mut c = "proc.name in (a, empty)".to_string();
        assert!(resolve_list(&mut c, "empty", &[]));
        assert_eq!(c, "proc.name in (a  )");
        let mut c = "proc.name in (shellsx)".to_string();
        assert!(!resolve_list(&mut c, "shells", &["bash".into()]));
    }
}
