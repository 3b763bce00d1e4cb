//! Output templates: `%field` references rendered the way Falco renders
//! them (`<NA>` for missing values), plus the typed `output_fields` map.

use std::fmt::Write as _;

use peregrine_alert::FieldValue;

use crate::compile::Slots;
use crate::cond::FieldRef;
use crate::eval::values;
use crate::fields::{Ctx, Fid};
use crate::value::{Arena, ValType, V};

/// A piece of an output template as the rules front end parsed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputPart {
    Text(String),
    Field(FieldRef),
    /// falco.yaml's `append_output.extra_fields`: only in `output_fields`,
    /// under `key`, either a field's typed value (`raw`, one `Field` part)
    /// or the parts rendered into a string.
    Extra {
        key: String,
        parts: Vec<OutputPart>,
        raw: bool,
    },
}

#[derive(Debug)]
pub(crate) enum Piece {
    Text(Box<str>),
    Field {
        slot: u32,
        key: Box<str>,
    },
    Extra {
        key: Box<str>,
        pieces: Vec<Piece>,
        raw: bool,
    },
}

pub(crate) fn compile(parts: &[OutputPart], slots: &mut Slots) -> Result<Vec<Piece>, String> {
    parts
        .iter()
        .map(|p| {
            Ok(match p {
                OutputPart::Text(t) => Piece::Text(t.as_str().into()),
                OutputPart::Field(f) => Piece::Field {
                    slot: slots.slot(f)?,
                    key: f.display().into(),
                },
                OutputPart::Extra { key, parts, raw } => {
                    if *raw && !matches!(parts.as_slice(), [OutputPart::Field(_)]) {
                        return Err(format!("extra field '{key}': a raw field is one field"));
                    }
                    Piece::Extra {
                        key: key.as_str().into(),
                        pieces: compile(parts, slots)?,
                        raw: *raw,
                    }
                }
            })
        })
        .collect()
}

fn write_val(out: &mut String, arena: &Arena, v: V) {
    match v {
        V::Str { off, len } => out.push_str(&String::from_utf8_lossy(arena.str_of(off, len))),
        V::I64(x) => {
            let _ = write!(out, "{x}");
        }
        V::U64(x) => {
            let _ = write!(out, "{x}");
        }
        V::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        V::Ip4(ip) => {
            let _ = peregrine_event::net::write_ipv4(out, ip);
        }
        V::Ip6(ip) => {
            let _ = peregrine_event::net::write_ipv6(out, &ip);
        }
        V::F64(f) => {
            let _ = write!(out, "{f:.2}");
        }
    }
}

fn json_val(arena: &Arena, v: V, ty: ValType) -> FieldValue {
    match v {
        V::Str { off, len } => {
            FieldValue::Str(String::from_utf8_lossy(arena.str_of(off, len)).into_owned())
        }
        V::I64(x) => FieldValue::I64(x),
        V::U64(x) => {
            if ty == ValType::Bool {
                FieldValue::Bool(x != 0)
            } else {
                FieldValue::U64(x)
            }
        }
        V::Bool(b) => FieldValue::Bool(b),
        V::F64(f) => FieldValue::F64(f),
        V::Ip4(_) | V::Ip6(_) => {
            let mut s = String::new();
            write_val(&mut s, arena, v);
            FieldValue::Str(s)
        }
    }
}

/// Renders the template into `text` and fills `fields` (Falco's
/// `output_fields`: each distinct field once, typed).
pub(crate) fn render(
    pieces: &[Piece],
    slots: &Slots,
    arena: &mut Arena,
    ctx: &Ctx<'_>,
    text: &mut String,
    fields: &mut Vec<(String, FieldValue)>,
) {
    for p in pieces {
        match p {
            Piece::Text(t) => text.push_str(t),
            Piece::Extra { key, pieces, raw } => {
                if fields.iter().any(|(k, _)| **k == **key) {
                    continue;
                }
                let mut inner_text = String::new();
                let mut inner_fields = Vec::new();
                render(
                    pieces,
                    slots,
                    arena,
                    ctx,
                    &mut inner_text,
                    &mut inner_fields,
                );
                let value = if *raw {
                    inner_fields
                        .pop()
                        .map(|(_, v)| v)
                        .unwrap_or(FieldValue::Null)
                } else {
                    FieldValue::Str(inner_text)
                };
                fields.push((key.to_string(), value));
            }
            Piece::Field { slot, key } => {
                let (s, e) = values(slots, arena, ctx, *slot);
                let spec = slots.spec(*slot);
                if s == e {
                    text.push_str("<NA>");
                } else if spec.list {
                    text.push('(');
                    for i in s..e {
                        if i > s {
                            text.push(',');
                        }
                        write_val(text, arena, arena.val(i));
                    }
                    text.push(')');
                } else {
                    write_val(text, arena, arena.val(s));
                }
                if fields.iter().any(|(k, _)| **k == **key) {
                    continue;
                }
                let value = if s == e {
                    FieldValue::Null
                } else if spec.fid == Fid::EvtTime {
                    // Falco puts the raw timestamp in output_fields.
                    FieldValue::U64(ctx.ev.ts())
                } else if spec.list {
                    FieldValue::List(
                        (s..e)
                            .map(|i| json_val(arena, arena.val(i), spec.ty))
                            .collect(),
                    )
                } else {
                    json_val(arena, arena.val(s), spec.ty)
                };
                fields.push((key.to_string(), value));
            }
        }
    }
}
