//! The config document being assembled: YAML nodes that remember which file
//! (or `-o` option) and position they came from, merged from the main file,
//! its `config_files` includes and the command line, as Falco's yaml_helper
//! does.

use std::fmt;
use std::sync::Arc;

use peregrine_yaml::{Kind, Node, ScalarStyle};

/// Where a value was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// A file path, or `-o key=value` for command-line options.
    pub source: Arc<str>,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.source)
        } else {
            write!(f, "{}:{}:{}", self.source, self.line, self.column)
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar { text: String, style: ScalarStyle },
    Seq(Vec<CNode>),
    Map(Vec<(String, CNode)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct CNode {
    pub value: Value,
    pub origin: Origin,
}

impl CNode {
    pub fn empty_map(origin: Origin) -> CNode {
        CNode {
            value: Value::Map(Vec::new()),
            origin,
        }
    }

    /// Converts a parsed YAML node, substituting `${VAR}` in scalars.
    pub fn from_yaml(node: &Node, source: &Arc<str>) -> CNode {
        let origin = Origin {
            source: source.clone(),
            line: node.mark.line,
            column: node.mark.column,
        };
        let value = match &node.kind {
            Kind::Scalar { text, style } => Value::Scalar {
                text: substitute_env(text),
                style: *style,
            },
            Kind::Seq(items) => {
                Value::Seq(items.iter().map(|n| CNode::from_yaml(n, source)).collect())
            }
            Kind::Map(entries) => Value::Map(
                entries
                    .iter()
                    .map(|(k, v)| {
                        let key = k.as_str().map(str::to_string).unwrap_or_default();
                        (key, CNode::from_yaml(v, source))
                    })
                    .collect(),
            ),
        };
        CNode { value, origin }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    pub fn is_plain(&self) -> bool {
        matches!(
            self.value,
            Value::Scalar {
                style: ScalarStyle::Plain,
                ..
            }
        )
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, style: ScalarStyle::Plain }
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// yaml-cpp's booleans, from plain scalars.
    pub fn as_bool(&self) -> Option<bool> {
        if !self.is_plain() {
            return None;
        }
        match self.as_str()? {
            "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => {
                Some(true)
            }
            "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n"
            | "N" => Some(false),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        if !self.is_plain() {
            return None;
        }
        let t = self.as_str()?.trim();
        let (neg, body) = match t.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let v = if let Some(h) = body.strip_prefix("0x") {
            i64::from_str_radix(h, 16).ok()?
        } else if let Some(o) = body.strip_prefix("0o") {
            i64::from_str_radix(o, 8).ok()?
        } else {
            body.parse::<i64>().ok()?
        };
        Some(if neg { -v } else { v })
    }

    pub fn as_f64(&self) -> Option<f64> {
        if let Some(i) = self.as_i64() {
            return Some(i as f64);
        }
        if !self.is_plain() {
            return None;
        }
        self.as_str()?.trim().parse::<f64>().ok()
    }

    pub fn get(&self, key: &str) -> Option<&CNode> {
        match &self.value {
            Value::Map(entries) => entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The node at a dotted path of plain keys (`webserver.listen_port`).
    pub fn at(&self, path: &str) -> Option<&CNode> {
        path.split('.').try_fold(self, |n, k| n.get(k))
    }

    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Scalar { .. } if self.is_null() => "null",
            Value::Scalar { .. } => "scalar",
            Value::Seq(_) => "sequence",
            Value::Map(_) => "mapping",
        }
    }
}

/// `${VAR}` becomes the variable's value (or nothing); `$${x}` becomes
/// `${x}`: Falco's pre_process_env_vars.
pub fn substitute_env(s: &str) -> String {
    if !s.contains('$') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        if let Some(body) = tail.strip_prefix("${") {
            match body.find('}') {
                Some(end) => {
                    out.push_str(&std::env::var(&body[..end]).unwrap_or_default());
                    rest = &body[end + 1..];
                }
                None => {
                    out.push_str(tail);
                    return out;
                }
            }
        } else if tail.starts_with("$${") {
            if tail.contains('}') {
                // Keep "${...}" literally, up to and including the brace.
                let end = tail.find('}').unwrap_or(tail.len() - 1);
                out.push_str(&tail[1..=end]);
                rest = &tail[end + 1..];
            } else {
                out.push_str(tail);
                return out;
            }
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// How an included file's top-level keys combine with what is loaded
/// (Falco's `config_files[].strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Sequences are extended; other keys replaced.
    Append,
    /// Every key replaced.
    Override,
    /// Only keys not yet defined are added.
    AddOnly,
}

impl Strategy {
    pub fn parse(s: &str) -> Option<Strategy> {
        match s {
            "append" => Some(Strategy::Append),
            "override" => Some(Strategy::Override),
            "add-only" => Some(Strategy::AddOnly),
            _ => None,
        }
    }
}

/// Merges the top-level keys of `include` into `root`.
pub fn merge(root: &mut CNode, include: CNode, strategy: Strategy) {
    let Value::Map(new_entries) = include.value else {
        return;
    };
    if !matches!(root.value, Value::Map(_)) {
        root.value = Value::Map(Vec::new());
    }
    let Value::Map(entries) = &mut root.value else {
        return;
    };
    for (key, node) in new_entries {
        let existing = entries.iter_mut().find(|(k, _)| *k == key);
        match (strategy, existing) {
            (_, None) => entries.push((key, node)),
            (Strategy::AddOnly, Some(_)) => {}
            (Strategy::Append, Some((_, old))) => match (&mut old.value, node.value) {
                (Value::Seq(items), Value::Seq(more)) => items.extend(more),
                (_, v) => {
                    *old = CNode {
                        value: v,
                        origin: node.origin,
                    }
                }
            },
            (Strategy::Override, Some((_, old))) => *old = node,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_substitution_like_falco() {
        std::env::set_var("PEREGRINE_TEST_ENV", "v");
        assert_eq!(substitute_env("a${PEREGRINE_TEST_ENV}b"), "avb");
        assert_eq!(substitute_env("${PEREGRINE_NOPE_X}x"), "x");
        assert_eq!(
            substitute_env("$${PEREGRINE_TEST_ENV}"),
            "${PEREGRINE_TEST_ENV}"
        );
        assert_eq!(
            substitute_env("cost $5 ${unterminated"),
            "cost $5 ${unterminated"
        );
    }
}
