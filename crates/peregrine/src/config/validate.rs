//! Checks the merged document against the key table: unknown keys are
//! warnings (key, file, line), wrong types are errors (key, file, line,
//! column), keys without effect are collected for one startup notice.

use std::fmt;

use super::schema::{Effect, Field, Ty};
use super::tree::{CNode, Origin, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub key: String,
    pub origin: Origin,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: key '{}': {}", self.origin, self.key, self.message)
    }
}

#[derive(Debug, Default)]
pub struct Checked {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
    /// (key, why) of present keys that have no effect.
    pub no_effect: Vec<(String, &'static str)>,
}

pub fn check_root(root: &CNode, fields: &[Field]) -> Checked {
    let mut c = Checked::default();
    check_map(root, fields, "", &mut c);
    c
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn check_map(node: &CNode, fields: &[Field], path: &str, c: &mut Checked) {
    let Value::Map(entries) = &node.value else {
        return type_error(node, path, "a mapping", c);
    };
    for (key, value) in entries {
        let p = join(path, key);
        match fields.iter().find(|f| f.key == key) {
            None => c.warnings.push(Diagnostic {
                key: p,
                origin: value.origin.clone(),
                message: "unknown key (ignored)".into(),
            }),
            Some(field) => {
                if let Effect::Ignored(why) = field.effect {
                    c.no_effect.push((p.clone(), why));
                }
                check(value, &field.ty, &p, c);
            }
        }
    }
}

fn type_error(node: &CNode, path: &str, expected: &str, c: &mut Checked) {
    let found = match node.as_str() {
        Some(t) if !node.is_null() => format!("'{t}'"),
        _ => format!("a {}", node.kind_name()),
    };
    c.errors.push(Diagnostic {
        key: path.to_string(),
        origin: node.origin.clone(),
        message: format!("expected {expected}, found {found}"),
    });
}

fn check(node: &CNode, ty: &Ty, path: &str, c: &mut Checked) {
    if node.is_null() {
        return; // unset: the default applies
    }
    match ty {
        Ty::Any => {}
        Ty::Bool => {
            if node.as_bool().is_none() {
                type_error(node, path, "a boolean (true/false)", c)
            }
        }
        Ty::Int => {
            if node.as_i64().is_none() {
                type_error(node, path, "an integer", c)
            }
        }
        Ty::Num => {
            if node.as_f64().is_none() {
                type_error(node, path, "a number", c)
            }
        }
        Ty::Str => {
            if node.as_str().is_none() {
                type_error(node, path, "a string", c)
            }
        }
        Ty::Enum(values) => match node.as_str() {
            Some(s) if values.iter().any(|v| v.eq_ignore_ascii_case(s)) => {}
            Some(_) => type_error(node, path, &format!("one of {}", values.join(", ")), c),
            None => type_error(node, path, "a string", c),
        },
        Ty::Seq(item) => match &node.value {
            Value::Seq(items) => {
                for (i, it) in items.iter().enumerate() {
                    check(it, item, &format!("{path}[{i}]"), c);
                }
            }
            // Falco reads a lone scalar as a one-item list.
            Value::Scalar { .. } if matches!(item, Ty::Str | Ty::Include) => {}
            _ => type_error(node, path, "a sequence", c),
        },
        Ty::Map(fields) => check_map(node, fields, path, c),
        Ty::Dict(v) => match &node.value {
            Value::Map(entries) => {
                for (k, val) in entries {
                    check(val, v, &join(path, k), c);
                }
            }
            _ => type_error(node, path, "a mapping", c),
        },
        Ty::Include => match &node.value {
            Value::Scalar { .. } => {}
            Value::Map(_) => {
                if node.get("path").and_then(CNode::as_str).is_none() {
                    type_error(node, path, "a mapping with a 'path'", c);
                }
                if let Some(s) = node.get("strategy") {
                    check(
                        s,
                        &Ty::Enum(&["append", "override", "add-only"]),
                        &join(path, "strategy"),
                        c,
                    );
                }
                if let Value::Map(entries) = &node.value {
                    for (k, v) in entries {
                        if k != "path" && k != "strategy" {
                            c.warnings.push(Diagnostic {
                                key: join(path, k),
                                origin: v.origin.clone(),
                                message: "unknown key (ignored)".into(),
                            });
                        }
                    }
                }
            }
            Value::Seq(_) => type_error(node, path, "a path or {path, strategy}", c),
        },
        Ty::ExtraField => match &node.value {
            Value::Scalar { .. } => {}
            Value::Map(entries) if entries.len() == 1 && entries[0].1.as_str().is_some() => {}
            _ => type_error(
                node,
                path,
                "a field name or a one-key mapping name: format",
                c,
            ),
        },
        Ty::InitConfig => {
            if matches!(node.value, Value::Seq(_)) {
                type_error(node, path, "a mapping or a string", c)
            }
        }
    }
}
