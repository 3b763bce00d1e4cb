//! A YAML tree that remembers where every node came from.
//!
//! Rules files and config files must report errors with file, line and
//! column; `yaml-rust2`'s own tree drops positions, so we build ours from its
//! event stream. Scalars keep their text and quoting style; interpretation
//! (bool, int, null) follows yaml-cpp, which Falco uses, through the `as_*`
//! helpers.
//!
//! ```
//! let docs = peregrine_yaml::parse("- rule: r\n  priority: WARNING\n").unwrap();
//! let item = &docs[0].as_seq().unwrap()[0];
//! let prio = item.get("priority").unwrap();
//! assert_eq!(prio.as_str(), Some("WARNING"));
//! assert_eq!((prio.mark.line, prio.mark.column), (2, 13));
//! ```

use std::collections::HashMap;
use std::fmt;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Position of a node: byte-ish index (chars), 1-based line and column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mark {
    pub index: usize,
    pub line: usize,
    pub column: usize,
}

impl From<Marker> for Mark {
    fn from(m: Marker) -> Mark {
        Mark {
            index: m.index(),
            line: m.line(),
            column: m.col() + 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Scalar { text: String, style: ScalarStyle },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: Kind,
    pub mark: Mark,
    /// Explicit tag such as `!mux`, if any (`handle` + `suffix`).
    pub tag: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub message: String,
    pub mark: Mark,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (line {}, column {})",
            self.message, self.mark.line, self.mark.column
        )
    }
}

impl std::error::Error for YamlError {}

/// Parses every document of a YAML stream.
pub fn parse(src: &str) -> Result<Vec<Node>, YamlError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(src);
    parser.load(&mut builder, true).map_err(|e| YamlError {
        message: e.info().to_string(),
        mark: (*e.marker()).into(),
    })?;
    if let Some(err) = builder.error {
        return Err(err);
    }
    Ok(builder.docs)
}

enum Frame {
    Seq(Node, usize),
    Map(Node, usize, Option<Node>),
}

#[derive(Default)]
struct Builder {
    docs: Vec<Node>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    error: Option<YamlError>,
}

impl Builder {
    fn push_value(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq(seq, _)) => {
                if let Kind::Seq(items) = &mut seq.kind {
                    items.push(node);
                }
            }
            Some(Frame::Map(map, _, pending)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => {
                    if let Kind::Map(entries) = &mut map.kind {
                        entries.push((key, node));
                    }
                }
            },
        }
    }
}

fn tag_text(tag: Option<yaml_rust2::parser::Tag>) -> Option<String> {
    tag.map(|t| format!("{}{}", t.handle, t.suffix))
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, marker: Marker) {
        let mark: Mark = marker.into();
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let style = match style {
                    TScalarStyle::Plain => ScalarStyle::Plain,
                    TScalarStyle::SingleQuoted => ScalarStyle::SingleQuoted,
                    TScalarStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
                    TScalarStyle::Literal => ScalarStyle::Literal,
                    TScalarStyle::Folded => ScalarStyle::Folded,
                };
                let node = Node {
                    kind: Kind::Scalar { text, style },
                    mark,
                    tag: tag_text(tag),
                };
                self.push_value(node, anchor);
            }
            Event::SequenceStart(anchor, tag) => self.stack.push(Frame::Seq(
                Node {
                    kind: Kind::Seq(Vec::new()),
                    mark,
                    tag: tag_text(tag),
                },
                anchor,
            )),
            Event::MappingStart(anchor, tag) => self.stack.push(Frame::Map(
                Node {
                    kind: Kind::Map(Vec::new()),
                    mark,
                    tag: tag_text(tag),
                },
                anchor,
                None,
            )),
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq(node, anchor)) | Some(Frame::Map(node, anchor, _)) => {
                    self.push_value(node, anchor)
                }
                None => {}
            },
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(node) => self.push_value(node, 0),
                None => {
                    if self.error.is_none() {
                        self.error = Some(YamlError {
                            message: "unknown anchor".into(),
                            mark,
                        });
                    }
                }
            },
            Event::DocumentEnd => {}
            Event::DocumentStart | Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
    }
}

impl Node {
    /// The text of a scalar (any style), `None` for collections.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    pub fn style(&self) -> Option<ScalarStyle> {
        match &self.kind {
            Kind::Scalar { style, .. } => Some(*style),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            Kind::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            Kind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// A plain `null`, `~`, `Null`, `NULL` or empty scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar { text, style: ScalarStyle::Plain }
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// Booleans as yaml-cpp reads them (`true/false/yes/no/on/off/y/n`, any of
    /// the usual cases), only from plain scalars.
    pub fn as_bool(&self) -> Option<bool> {
        let Kind::Scalar {
            text,
            style: ScalarStyle::Plain,
        } = &self.kind
        else {
            return None;
        };
        match text.as_str() {
            "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => {
                Some(true)
            }
            "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n"
            | "N" => Some(false),
            _ => None,
        }
    }

    /// Integers in decimal, `0x` hex or `0o` octal, from plain scalars.
    pub fn as_i64(&self) -> Option<i64> {
        let Kind::Scalar {
            text,
            style: ScalarStyle::Plain,
        } = &self.kind
        else {
            return None;
        };
        let t = text.trim();
        let (neg, body) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
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
        let Kind::Scalar {
            text,
            style: ScalarStyle::Plain,
        } = &self.kind
        else {
            return None;
        };
        text.trim().parse::<f64>().ok()
    }

    /// Value of `key` in a mapping (first match).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// Short name of the node's kind, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            Kind::Scalar { .. } if self.is_null() => "null",
            Kind::Scalar { .. } => "scalar",
            Kind::Seq(_) => "sequence",
            Kind::Map(_) => "mapping",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_styles_and_anchors() {
        let src = "a: &x [1, 'two']\nb: *x\nc: ~\nd: yes\n---\n- 0x10\n";
        let docs = parse(src).unwrap();
        assert_eq!(docs.len(), 2);
        let a = docs[0].get("a").unwrap();
        assert_eq!(
            a.as_seq().unwrap()[1].style(),
            Some(ScalarStyle::SingleQuoted)
        );
        assert_eq!(docs[0].get("b").unwrap().as_seq().unwrap().len(), 2);
        assert!(docs[0].get("c").unwrap().is_null());
        assert_eq!(docs[0].get("d").unwrap().as_bool(), Some(true));
        assert_eq!(docs[1].as_seq().unwrap()[0].as_i64(), Some(16));
        let d = docs[0].get("d").unwrap();
        assert_eq!((d.mark.line, d.mark.column), (4, 4));
    }

    #[test]
    fn syntax_error_has_position() {
        let err = parse("a: [1, 2\nb: c\n").unwrap_err();
        assert!(err.mark.line >= 1, "{err}");
    }
}

/// Like [`parse`], but also accepts what yaml-cpp (Falco's YAML library)
/// accepts and yaml-rust2 refuses: lines inside a flow collection (`[ … ]`,
/// `{ … }`) indented less than the enclosing block, such as a closing `]`
/// at the key's column. Marks still point into `src` as written.
pub fn parse_lenient(src: &str) -> Result<Vec<Node>, YamlError> {
    const MAX_FIXES: usize = 4096;
    let first = match parse(src) {
        Ok(docs) => return Ok(docs),
        Err(e) => e,
    };
    // Spaces inserted at the start of (1-based) lines.
    let mut inserted: Vec<(usize, usize)> = Vec::new();
    let mut text = src.to_string();
    for _ in 0..MAX_FIXES {
        let err = match parse(&text) {
            Ok(mut docs) => {
                for d in &mut docs {
                    unshift_marks(d, &inserted);
                }
                return Ok(docs);
            }
            Err(e) => e,
        };
        if err.message != "invalid indentation" || !inside_flow(&text, err.mark.line) {
            return Err(first);
        }
        let Some(start) = line_start(&text, err.mark.line) else {
            return Err(first);
        };
        text.insert(start, ' ');
        match inserted.iter_mut().find(|(l, _)| *l == err.mark.line) {
            Some((_, n)) if *n >= 64 => return Err(first),
            Some((_, n)) => *n += 1,
            None => inserted.push((err.mark.line, 1)),
        }
    }
    Err(first)
}

fn line_start(text: &str, line: usize) -> Option<usize> {
    if line <= 1 {
        return Some(0);
    }
    text.match_indices('\n').nth(line - 2).map(|(i, _)| i + 1)
}

/// Whether `line` looks like part of a flow collection: it starts with a
/// closing `]`/`}`, or the previous non-blank, non-comment line leaves a
/// collection open (ends with `[`, `{` or `,`).
fn inside_flow(text: &str, line: usize) -> bool {
    let this = text
        .lines()
        .nth(line.saturating_sub(1))
        .unwrap_or("")
        .trim_start();
    if this.starts_with(']') || this.starts_with('}') {
        return true;
    }
    let before: Vec<&str> = text.lines().take(line.saturating_sub(1)).collect();
    before
        .into_iter()
        .rev()
        .map(|l| l.trim_end())
        .find(|l| !l.trim_start().is_empty() && !l.trim_start().starts_with('#'))
        .is_some_and(|l| l.ends_with('[') || l.ends_with('{') || l.ends_with(','))
}

fn unshift_marks(node: &mut Node, inserted: &[(usize, usize)]) {
    let before: usize = inserted
        .iter()
        .filter(|(l, _)| *l < node.mark.line)
        .map(|(_, n)| n)
        .sum();
    let same: usize = inserted
        .iter()
        .filter(|(l, _)| *l == node.mark.line)
        .map(|(_, n)| n)
        .sum();
    let on_line = same.min(node.mark.column.saturating_sub(1));
    node.mark.column -= on_line;
    node.mark.index = node.mark.index.saturating_sub(before + on_line);
    match &mut node.kind {
        Kind::Seq(items) => items.iter_mut().for_each(|n| unshift_marks(n, inserted)),
        Kind::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            unshift_marks(k, inserted);
            unshift_marks(v, inserted);
        }),
        Kind::Scalar { .. } => {}
    }
}

#[cfg(test)]
mod lenient_tests {
    use super::*;

    #[test]
    fn flow_closing_bracket_at_key_column() {
        let src = "- list: l\n  items: [\n    \"a\",\n  ]\n- list: m\n  items: [b]\n";
        assert!(parse(src).is_err());
        let docs = parse_lenient(src).unwrap();
        let items = docs[0].as_seq().unwrap()[0].get("items").unwrap();
        assert_eq!(items.as_seq().unwrap()[0].as_str(), Some("a"));
        let m = docs[0].as_seq().unwrap()[1].get("items").unwrap();
        assert_eq!((m.mark.line, m.mark.column), (6, 10));
        assert!(parse_lenient("a: [1\nb: c\n").is_err());
    }
}
