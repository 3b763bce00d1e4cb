//! `%field` formats over every field (sysdig's `-p`): parsed once, then
//! rendered per event through the same lazy extraction rules use.

use peregrine_event::fields::{FormatError, OutputFormat, Token};
use peregrine_state::State;

use crate::compile::Slots;
use crate::cond::FieldRef;
use crate::engine::EventInput;
use crate::eval::values;
use crate::fields::{ContainerLookup, Ctx, TABLE};
use crate::value::{Arena, V};

/// Recognises a field reference at the start of `s`: the longest known
/// field name, then an optional `[arg]` (or `.NAME` for `evt.arg`).
pub fn parse_field_prefix(s: &str) -> Option<(FieldRef, usize)> {
    let ident = s
        .bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.')
        .count();
    let head = &s[..ident];
    let (name, mut used) = TABLE
        .iter()
        .map(|(n, ..)| *n)
        .filter(|n| {
            head.starts_with(n) && (head.len() == n.len() || head.as_bytes()[n.len()] == b'.')
        })
        .max_by_key(|n| n.len())
        .map(|n| (n, n.len()))?;
    let mut f = FieldRef::new(name);
    if (name == "evt.arg" || name == "evt.rawarg") && head.len() > name.len() {
        // evt.arg.NAME
        let arg = head[name.len() + 1..].trim_end_matches('.');
        f.arg = Some(arg.to_string());
        used = name.len() + 1 + arg.len();
        return Some((f, used));
    }
    if head.len() > name.len() {
        // A longer dotted name that is not a field.
        return None;
    }
    if let Some(rest) = s[used..].strip_prefix('[') {
        let end = rest.find(']')?;
        f.arg = Some(rest[..end].to_string());
        used += end + 2;
    }
    Some((f, used))
}

pub struct EventFormatter {
    format: OutputFormat<u32>,
    slots: Slots,
    arena: Arena,
}

impl EventFormatter {
    pub fn parse(fmt: &str) -> Result<EventFormatter, FormatError> {
        let mut slots = Slots::default();
        let mut bad: Option<String> = None;
        let format = OutputFormat::parse(fmt, |s| {
            let (f, n) = parse_field_prefix(s)?;
            match slots.slot(&f) {
                Ok(slot) => Some((slot, n)),
                Err(e) => {
                    bad.get_or_insert(e);
                    None
                }
            }
        })?;
        if let Some(message) = bad {
            return Err(FormatError { offset: 0, message });
        }
        Ok(EventFormatter {
            arena: Arena::new(slots.len()),
            format,
            slots,
        })
    }

    /// Field references of the format, in order.
    pub fn field_count(&self) -> usize {
        self.format
            .tokens
            .iter()
            .filter(|t| matches!(t, Token::Field(_)))
            .count()
    }

    /// Renders one event; `false` when a field is missing and the format
    /// has no leading `*`.
    pub fn render(
        &mut self,
        input: &EventInput<'_>,
        state: &State,
        containers: &dyn ContainerLookup,
        out: &mut String,
    ) -> bool {
        self.render_with(input, state, containers, out, |_| None)
    }

    /// Like [`EventFormatter::render`], but `replace(field name)` may supply
    /// a field's text (e.g. the `container:<id>` name sysdig shows for
    /// container events).
    pub fn render_with<'r>(
        &mut self,
        input: &EventInput<'_>,
        state: &State,
        containers: &dyn ContainerLookup,
        out: &mut String,
        replace: impl Fn(&str) -> Option<&'r str>,
    ) -> bool {
        self.arena.next_event();
        let ctx = Ctx::new(input, state, containers, "");
        let EventFormatter {
            format,
            slots,
            arena,
        } = self;
        format.render(out, |slot, o| {
            if let Some(text) = replace(slots.spec(*slot).name) {
                o.push_str(text);
                return true;
            }
            let (s, e) = values(slots, arena, &ctx, *slot);
            if s == e {
                return false;
            }
            let list = slots.spec(*slot).list;
            if list {
                o.push('(');
            }
            for i in s..e {
                if i > s {
                    if !list {
                        break;
                    }
                    o.push(',');
                }
                write_text(o, arena, arena.val(i));
            }
            if list {
                o.push(')');
            }
            true
        })
    }
}

fn write_text(o: &mut String, arena: &Arena, v: V) {
    use std::fmt::Write;
    match v {
        V::Str { off, len } => o.push_str(&String::from_utf8_lossy(arena.str_of(off, len))),
        V::I64(x) => {
            let _ = write!(o, "{x}");
        }
        V::U64(x) => {
            let _ = write!(o, "{x}");
        }
        V::Bool(b) => o.push_str(if b { "true" } else { "false" }),
        V::Ip4(ip) => {
            let _ = peregrine_event::net::write_ipv4(o, ip);
        }
        V::Ip6(ip) => {
            let _ = peregrine_event::net::write_ipv6(o, &ip);
        }
        V::F64(f) => {
            let _ = write!(o, "{f}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_field_names_and_args() {
        let (f, n) = parse_field_prefix("proc.aname[2] x").unwrap();
        assert_eq!(
            (f.name.as_str(), f.arg.as_deref(), n),
            ("proc.aname", Some("2"), 13)
        );
        let (f, n) = parse_field_prefix("evt.arg.fd)").unwrap();
        assert_eq!(
            (f.name.as_str(), f.arg.as_deref(), n),
            ("evt.arg", Some("fd"), 10)
        );
        let (f, n) = parse_field_prefix("fd.name ").unwrap();
        assert_eq!((f.name.as_str(), n), ("fd.name", 7));
        let (f, _) = parse_field_prefix("evt.time.s").unwrap();
        assert_eq!(f.name, "evt.time.s");
        assert!(parse_field_prefix("nope.field").is_none());
    }
}
