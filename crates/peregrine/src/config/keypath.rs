//! `-o key=value`: Falco's key syntax (`a.b.c`, `list[2].x`, `list[]`
//! appends, `\.` `\[` `\]` `\\` escapes) and the value rules (`{…}` and
//! `[…]` are YAML flow collections, anything else a plain scalar).

use std::sync::Arc;

use peregrine_yaml::ScalarStyle;

use super::tree::{CNode, Origin, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    /// `[N]`, or `[]` (None) to append.
    Index(Option<usize>),
}

/// Parses a key path; errors name the position like Falco's.
pub fn parse_key(key: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    let mut cur = String::new();
    let mut have_key = false;
    let chars: Vec<char> = key.chars().collect();
    let mut i = 0;
    let err = |m: String| Err(format!("Config error at key \"{key}\": {m}"));
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let Some(&next) = chars.get(i + 1) else {
                    return err(format!("Parsing error: trailing backslash at pos {i}"));
                };
                if !matches!(next, '.' | '[' | ']' | '\\') {
                    return err(format!(
                        "Parsing error: invalid escape sequence '\\{next}' at pos {i}"
                    ));
                }
                cur.push(next);
                have_key = true;
                i += 2;
            }
            '.' => {
                if !have_key {
                    return err(format!("Parsing error: unexpected character at pos {i}"));
                }
                steps.push(Step::Key(std::mem::take(&mut cur)));
                have_key = false;
                i += 1;
            }
            '[' => {
                if have_key {
                    steps.push(Step::Key(std::mem::take(&mut cur)));
                    have_key = false;
                } else if !matches!(steps.last(), Some(Step::Index(_))) {
                    return err(format!("Parsing error: unexpected character at pos {i}"));
                }
                let Some(close) = chars[i..].iter().position(|&c| c == ']') else {
                    return err("Parsing error: missing ']'".into());
                };
                let idx: String = chars[i + 1..i + close].iter().collect();
                if idx.is_empty() {
                    steps.push(Step::Index(None));
                } else {
                    let n = idx.parse::<usize>().map_err(|_| {
                        format!("Config error at key \"{key}\": Parsing error: expected a numeric index, found '{idx}'")
                    })?;
                    steps.push(Step::Index(Some(n)));
                }
                i += close + 1;
                if chars.get(i) == Some(&'.') {
                    i += 1;
                    if i >= chars.len() {
                        return err(format!(
                            "Parsing error: unexpected character at pos {}",
                            i - 1
                        ));
                    }
                } else if i < chars.len() && chars[i] != '[' {
                    return err(format!(
                        "Parsing error: expected '.' character at pos {}",
                        i - 1
                    ));
                }
            }
            _ => {
                cur.push(c);
                have_key = true;
                i += 1;
            }
        }
    }
    if have_key {
        steps.push(Step::Key(cur));
    }
    if steps.is_empty() {
        return err("empty key".into());
    }
    Ok(steps)
}

/// The node for `-o` value text.
pub fn parse_value(text: &str, origin: &Origin) -> Result<CNode, String> {
    let t = text.trim();
    let flow = (t.starts_with('{') && t.ends_with('}')) || (t.starts_with('[') && t.ends_with(']'));
    if flow {
        let docs = peregrine_yaml::parse(t).map_err(|e| format!("{}: {e}", origin.source))?;
        if let Some(node) = docs.first() {
            let mut n = CNode::from_yaml(node, &origin.source);
            fix_origin(&mut n, origin);
            return Ok(n);
        }
    }
    Ok(CNode {
        value: Value::Scalar {
            text: text.to_string(),
            style: ScalarStyle::Plain,
        },
        origin: origin.clone(),
    })
}

fn fix_origin(n: &mut CNode, origin: &Origin) {
    n.origin = origin.clone();
    match &mut n.value {
        Value::Seq(items) => items.iter_mut().for_each(|i| fix_origin(i, origin)),
        Value::Map(entries) => entries.iter_mut().for_each(|(_, v)| fix_origin(v, origin)),
        Value::Scalar { .. } => {}
    }
}

/// Applies `key=value` to the document, creating maps and sequence items
/// on the way.
pub fn apply_option(root: &mut CNode, option: &str) -> Result<(), String> {
    let Some((key, value)) = option.split_once('=') else {
        return Err(format!(
            "Error parsing config option \"{option}\". Must be of the form key=val or key.subkey=val"
        ));
    };
    let steps = parse_key(key)?;
    let origin = Origin {
        source: Arc::from(format!("-o {option}")),
        line: 0,
        column: 0,
    };
    let new = parse_value(value, &origin)?;
    let mut node = root;
    for step in steps {
        node = match step {
            Step::Key(k) => {
                if !matches!(node.value, Value::Map(_)) {
                    *node = CNode::empty_map(origin.clone());
                }
                let Value::Map(entries) = &mut node.value else {
                    unreachable!()
                };
                let pos = match entries.iter().position(|(ek, _)| *ek == k) {
                    Some(p) => p,
                    None => {
                        entries.push((k, CNode::empty_map(origin.clone())));
                        entries.len() - 1
                    }
                };
                &mut entries[pos].1
            }
            Step::Index(idx) => {
                if !matches!(node.value, Value::Seq(_)) {
                    if !node.is_null() && !matches!(&node.value, Value::Map(m) if m.is_empty()) {
                        return Err(format!(
                            "Config error at key \"{key}\": '{}' is a {}, not a sequence",
                            key,
                            node.kind_name()
                        ));
                    }
                    node.value = Value::Seq(Vec::new());
                }
                let Value::Seq(items) = &mut node.value else {
                    unreachable!()
                };
                let i = idx.unwrap_or(items.len());
                if i > items.len() {
                    return Err(format!(
                        "Config error at key \"{key}\": index {i} is past the end of a sequence of {}",
                        items.len()
                    ));
                }
                if i == items.len() {
                    items.push(CNode::empty_map(origin.clone()));
                }
                &mut items[i]
            }
        };
    }
    *node = new;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> Step {
        Step::Key(s.into())
    }

    #[test]
    fn falco_key_syntax() {
        assert_eq!(parse_key("a.b").unwrap(), vec![k("a"), k("b")]);
        assert_eq!(
            parse_key("rules[0].disable.tag").unwrap(),
            vec![k("rules"), Step::Index(Some(0)), k("disable"), k("tag")]
        );
        assert_eq!(
            parse_key("m[1][3]").unwrap(),
            vec![k("m"), Step::Index(Some(1)), Step::Index(Some(3))]
        );
        assert_eq!(parse_key("l[]").unwrap(), vec![k("l"), Step::Index(None)]);
        assert_eq!(
            parse_key(r"annotations.kubernetes\.io/role").unwrap(),
            vec![k("annotations"), k("kubernetes.io/role")]
        );
        assert!(parse_key("a..b").is_err());
        assert!(parse_key(r"a\x").unwrap_err().contains("invalid escape"));
        assert!(parse_key("a[x]").unwrap_err().contains("numeric index"));
    }

    #[test]
    fn options_build_and_override_the_document() {
        let src: Arc<str> = Arc::from("f");
        let docs = peregrine_yaml::parse("rules_files: [a]\nwebserver: {enabled: true}\n").unwrap();
        let mut root = CNode::from_yaml(&docs[0], &src);
        apply_option(&mut root, "rules_files[0]=x.yaml").unwrap();
        apply_option(&mut root, "rules_files[]=y.yaml").unwrap();
        apply_option(&mut root, "rules[0].disable.tag=network").unwrap();
        apply_option(&mut root, "webserver.listen_port=9000").unwrap();
        apply_option(
            &mut root,
            "engine={kind: replay, replay: {capture_file: c.scap}}",
        )
        .unwrap();
        apply_option(&mut root, "base_syscalls.custom_set=[open, close]").unwrap();
        let files: Vec<&str> = match &root.get("rules_files").unwrap().value {
            Value::Seq(items) => items.iter().filter_map(CNode::as_str).collect(),
            _ => vec![],
        };
        assert_eq!(files, ["x.yaml", "y.yaml"]);
        assert_eq!(root.at("rules").unwrap().kind_name(), "sequence");
        assert_eq!(
            root.at("webserver.listen_port").unwrap().as_i64(),
            Some(9000)
        );
        assert_eq!(root.at("webserver.enabled").unwrap().as_bool(), Some(true));
        assert_eq!(
            root.at("engine.replay.capture_file").unwrap().as_str(),
            Some("c.scap")
        );
        assert_eq!(
            root.at("base_syscalls.custom_set").unwrap().kind_name(),
            "sequence"
        );
        assert!(apply_option(&mut root, "rules_files[5]=z").is_err());
        assert!(apply_option(&mut root, "novalue").is_err());
    }
}
