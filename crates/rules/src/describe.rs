//! Falco's rule description JSON (`-L`, `-l RULE`, `falco_describe_results`)
//! and its text table.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use crate::ast::{Expr, ExprKind};
use crate::loader::result::sort_keys;
use crate::ruleset::{Rule, Ruleset};

#[derive(Default)]
struct Details {
    macros: BTreeSet<String>,
    lists: BTreeSet<String>,
    operators: BTreeSet<String>,
    fields: BTreeSet<String>,
    evtnames: BTreeSet<String>,
}

fn field_name(name: &str, arg: &Option<String>) -> String {
    match arg {
        Some(a) if !a.is_empty() => format!("{name}[{a}]"),
        _ => name.to_string(),
    }
}

fn operand_field(e: &Expr, d: &mut Details) -> Option<String> {
    match &e.kind {
        ExprKind::Field { name, arg } => {
            let f = field_name(name, arg);
            d.fields.insert(f.clone());
            Some(f)
        }
        ExprKind::Transform { args, .. } | ExprKind::TransformerList(args) => {
            let mut last = None;
            for a in args {
                if let Some(f) = operand_field(a, d) {
                    last = Some(f);
                }
            }
            last
        }
        _ => None,
    }
}

fn details(e: &Expr, known_macros: &BTreeSet<&str>, known_lists: &BTreeSet<&str>, d: &mut Details) {
    match &e.kind {
        ExprKind::And(c) | ExprKind::Or(c) => c
            .iter()
            .for_each(|c| details(c, known_macros, known_lists, d)),
        ExprKind::Not(c) => details(c, known_macros, known_lists, d),
        ExprKind::Identifier(id) if known_macros.contains(id.as_str()) => {
            d.macros.insert(id.clone());
        }
        ExprKind::Unary { left, op } => {
            operand_field(left, d);
            d.operators.insert(op.as_str().to_string());
        }
        ExprKind::Binary { left, op, right } => {
            let f = operand_field(left, d).unwrap_or_default();
            d.operators.insert(op.to_string());
            let evt = f == "evt.type" || f == "evt.asynctype";
            match &right.kind {
                ExprKind::List(values) => {
                    for v in values {
                        if known_lists.contains(v.as_str()) {
                            d.lists.insert(v.clone());
                        } else if evt {
                            d.evtnames.insert(v.clone());
                        }
                    }
                }
                ExprKind::Value(v) if evt => {
                    d.evtnames.insert(v.clone());
                }
                _ => {
                    operand_field(right, d);
                }
            }
        }
        _ => {}
    }
}

fn arr(set: impl IntoIterator<Item = String>) -> Value {
    Value::Array(set.into_iter().map(Value::String).collect())
}

fn rule_json(rs: &Ruleset, r: &Rule) -> Value {
    let known_macros: BTreeSet<&str> = rs.macros.iter().map(|m| m.name.as_str()).collect();
    let known_lists: BTreeSet<&str> = rs.lists.iter().map(|l| l.name.as_str()).collect();
    let mut raw = Details::default();
    if let Ok(ast) = crate::parse(&r.condition_raw) {
        details(&ast, &known_macros, &known_lists, &mut raw);
    }
    let mut compiled = Details::default();
    details(&r.condition, &known_macros, &known_lists, &mut compiled);
    let mut output_fields: Vec<String> = Vec::new();
    let mut formatted = Map::new();
    for (key, tpl, raw_value) in &r.extra_output_fields {
        let text: String = tpl
            .parts
            .iter()
            .map(|p| match p {
                crate::output::OutputPart::Literal(s) => s.clone(),
                crate::output::OutputPart::Field { text, .. } => format!("%{text}"),
            })
            .collect();
        output_fields.push(text.clone());
        if !raw_value {
            formatted.insert(key.clone(), text.into());
        }
    }
    output_fields.extend(r.output_template.fields().map(str::to_string));
    let mut events: BTreeSet<String> = r
        .event_types
        .names()
        .into_iter()
        .map(str::to_string)
        .collect();
    if r.source == "syscall" {
        events.insert("asyncevent".into());
    } else {
        events = ["asyncevent".to_string(), "pluginevent".to_string()].into();
    }
    let mut d = Map::new();
    d.insert(
        "condition_compiled".into(),
        r.condition_compiled.clone().into(),
    );
    d.insert("condition_fields".into(), arr(compiled.fields));
    d.insert("condition_operators".into(), arr(compiled.operators));
    d.insert("events".into(), arr(events));
    d.insert(
        "exception_fields".into(),
        arr(r.exception_fields.iter().cloned()),
    );
    d.insert(
        "exception_names".into(),
        arr(r.exception_names.iter().cloned()),
    );
    d.insert(
        "exception_operators".into(),
        arr(r.exception_operators.iter().cloned()),
    );
    if !formatted.is_empty() {
        d.insert(
            "extra_output_formatted_fields".into(),
            Value::Object(formatted),
        );
    }
    d.insert("lists".into(), arr(raw.lists));
    d.insert("macros".into(), arr(raw.macros));
    d.insert("output_compiled".into(), r.output.clone().into());
    d.insert("output_fields".into(), arr(output_fields));
    d.insert("plugins".into(), Value::Array(Vec::new()));
    json!({
        "details": Value::Object(d),
        "info": {
            "capture": r.capture,
            "capture_duration": r.capture_duration,
            "condition": r.condition_raw,
            "description": r.description,
            "enabled": r.enabled,
            "name": r.name,
            "output": r.output_raw,
            "priority": r.priority.as_str(),
            "source": r.source,
            "tags": r.tags,
        }
    })
}

/// The describe JSON: every rule, macro and list (or one rule). Key order
/// is sorted like Falco's; Falco prints unordered sets in hash order, here
/// they are sorted.
pub fn describe(rs: &Ruleset, rule: Option<&str>) -> Result<Value, String> {
    if let Some(name) = rule {
        let Some(r) = rs.rule(name) else {
            return Err(format!("Rule \"{name}\" is not loaded"));
        };
        return Ok(sort_keys(json!({ "rules": [rule_json(rs, r)] })));
    }
    let known_macros: BTreeSet<&str> = rs.macros.iter().map(|m| m.name.as_str()).collect();
    let known_lists: BTreeSet<&str> = rs.lists.iter().map(|l| l.name.as_str()).collect();
    let rules: Vec<Value> = rs.rules.iter().map(|r| rule_json(rs, r)).collect();
    let macros: Vec<Value> = rs
        .macros
        .iter()
        .map(|m| {
            let mut raw = Details::default();
            if let Ok(ast) = crate::parse(&m.condition_raw) {
                details(&ast, &known_macros, &known_lists, &mut raw);
            }
            let mut compiled = Details::default();
            details(&m.condition, &known_macros, &known_lists, &mut compiled);
            let events: Vec<String> = crate::evttypes::event_types(&m.condition)
                .map(|s| s.names().into_iter().map(str::to_string).collect())
                .unwrap_or_default();
            json!({
                "details": {
                    "condition_compiled": m.condition.to_condition(),
                    "condition_fields": arr(compiled.fields),
                    "condition_operators": arr(compiled.operators),
                    "events": events,
                    "lists": arr(raw.lists),
                    "macros": arr(raw.macros),
                    "plugins": [],
                    "used": m.used,
                },
                "info": { "condition": m.condition_raw, "name": m.name },
            })
        })
        .collect();
    let lists: Vec<Value> = rs
        .lists
        .iter()
        .map(|l| {
            let (refs, items): (Vec<&String>, Vec<&String>) =
                l.items.iter().partition(|i| !l.items_compiled.contains(i));
            let refs: BTreeSet<String> = refs.into_iter().cloned().collect();
            json!({
                "details": {
                    "items_compiled": l.items_compiled,
                    "lists": arr(refs),
                    "plugins": [],
                    "used": l.used,
                },
                "info": { "items": items, "name": l.name },
            })
        })
        .collect();
    let plugins: Vec<Value> = rs
        .required_plugin_versions
        .iter()
        .filter_map(|alts| {
            let first = alts.first()?;
            let alternatives: Vec<Value> = alts[1..]
                .iter()
                .map(|a| json!({ "name": a.name, "version": a.version }))
                .collect();
            Some(json!({ "alternatives": alternatives, "name": first.name, "version": first.version }))
        })
        .collect();
    Ok(sort_keys(json!({
        "lists": lists,
        "macros": macros,
        "required_engine_version": rs.required_engine_version.map(|v| v.to_string()).unwrap_or_else(|| "0.0.0".into()),
        "required_plugin_versions": plugins,
        "rules": rules,
    })))
}

/// Falco's `-L` text: a two-column table of rule names and wrapped
/// descriptions.
pub fn describe_as_text(v: &Value) -> String {
    let mut os = String::new();
    let two = |os: &mut String, l: &str, r: &str| {
        os.push_str(&format!("{l:<50} {r}\n"));
    };
    two(&mut os, "Rule", "Description");
    two(&mut os, "----", "-----------");
    for r in v["rules"].as_array().into_iter().flatten() {
        let desc = r["info"]["description"].as_str().unwrap_or("");
        let name = r["info"]["name"].as_str().unwrap_or("");
        two(&mut os, name, &(wrap_text(desc, 51, 110) + "\n"));
    }
    os
}

/// Falco's `wrap_text`.
pub fn wrap_text(text: &str, indent: usize, line_len: usize) -> String {
    let mut os = String::new();
    let mut len = 0;
    for word in text.split_whitespace() {
        if len + word.len() < line_len - indent {
            len += word.len() + 1;
        } else {
            os.push('\n');
            os.push_str(&" ".repeat(indent));
            len = word.len() + 1;
        }
        os.push_str(word);
        os.push(' ');
    }
    os
}
