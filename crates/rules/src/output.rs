//! Output templates (`%field` syntax): parsed into literal text and field
//! parts, each field checked against the source's registry the way
//! libsinsp's formatter does it.

use crate::ast::{Expr, ExprKind};
use crate::check;
use crate::fields::FieldRegistry;
use crate::parser;

/// One part of an output template.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputPart {
    Literal(String),
    Field {
        /// The field (or transformer) expression as written, e.g.
        /// `proc.aname[2]` or `toupper(proc.name)`: the key Falco uses in
        /// `output_fields`.
        text: String,
        expr: Expr,
        /// `%20proc.name`: pad to this width (0: none).
        width: u32,
    },
}

/// A parsed output template.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputTemplate {
    pub parts: Vec<OutputPart>,
    /// A leading `*` in the template: print even when some field is missing.
    pub allow_missing: bool,
}

impl OutputTemplate {
    /// The fields of the template, in order.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            OutputPart::Field { text, .. } => Some(text.as_str()),
            _ => None,
        })
    }

    /// Parses `fmt`, resolving each `%field` against `registry`. The error
    /// text is libsinsp's.
    pub fn parse(fmt: &str, registry: &FieldRegistry) -> Result<OutputTemplate, String> {
        if fmt.is_empty() {
            return Err("empty formatting token".into());
        }
        let (allow_missing, body) = match fmt.strip_prefix('*') {
            Some(rest) => (true, rest),
            None => (false, fmt),
        };
        let b = body.as_bytes();
        let mut parts = Vec::new();
        let mut literal_start = 0;
        let mut j = 0;
        while j < b.len() {
            if b[j] != b'%' {
                j += 1;
                continue;
            }
            if literal_start != j {
                parts.push(OutputPart::Literal(body[literal_start..j].to_string()));
            }
            if j == b.len() - 1 {
                return Err("invalid formatting syntax: formatting cannot end with a %".into());
            }
            let mut width = 0u32;
            if b[j + 1].is_ascii_digit() {
                let digits = b[j + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
                width = body[j + 1..j + 1 + digits].parse().unwrap_or(u32::MAX);
                if j + digits == b.len() - 1 {
                    return Err(
                        "invalid formatting syntax: formatting cannot end with a number".into(),
                    );
                }
                j += digits;
            }
            // Longest prefix that parses and resolves to a field.
            let rest = &body[j + 1..];
            let mut size = rest.len();
            let (expr, used) = loop {
                let cut = floor_boundary(rest, size);
                let attempt = parse_token(&rest[..cut], registry);
                match attempt {
                    Ok(found) => break found,
                    Err(e) => {
                        size = cut.saturating_sub(1);
                        if size == 0 {
                            return Err(format!("unknown filter: {e}"));
                        }
                    }
                }
            };
            parts.push(OutputPart::Field {
                text: rest[..used].to_string(),
                expr,
                width,
            });
            j += used;
            literal_start = j + 1;
            j += 1;
        }
        if literal_start < b.len() {
            parts.push(OutputPart::Literal(body[literal_start..].to_string()));
        }
        Ok(OutputTemplate {
            parts,
            allow_missing,
        })
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Parses a field or transformer at the start of `s` and checks it; returns
/// the expression and how many bytes it used.
fn parse_token(s: &str, registry: &FieldRegistry) -> Result<(Expr, usize), String> {
    let mut p = parser::Parser::new(s);
    p.partial = true;
    let expr = p.parse_partial_field().map_err(|e| e.message)?;
    let used = p.pos().offset as usize;
    check::check_operand(&expr, registry).map_err(|e| e.message)?;
    Ok((expr, used))
}

/// Whether `expr` is a plain field reference.
pub fn is_field(expr: &Expr) -> bool {
    matches!(expr.kind, ExprKind::Field { .. })
}
