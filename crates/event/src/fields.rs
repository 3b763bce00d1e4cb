//! `%field` output formats (sysdig's `-p`, Falco's rule outputs) and the
//! event-level fields every event has (`evt.num`, `evt.type`, `evt.args`,
//! `evt.arg.NAME`, …).
//!
//! [`OutputFormat::parse`] is generic over the field type: the caller's
//! resolver recognises field names, so the engine can plug in its full field
//! registry while this crate provides [`EventField`].

use std::fmt::Write;

use crate::format::{render_param, write_args, ArgContext, Rendered};
use crate::raw::RawEvent;
use crate::source::SourcedEvent;
use crate::table::{self, eflags, Direction};

/// A parsed `%field` format.
#[derive(Debug, Clone)]
pub struct OutputFormat<F> {
    pub tokens: Vec<Token<F>>,
    /// A leading `*`: print events even when fields are missing (as `<NA>`).
    pub print_missing: bool,
}

#[derive(Debug, Clone)]
pub enum Token<F> {
    Literal(String),
    Field(F),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    /// Byte offset in the format string.
    pub offset: usize,
    pub message: String,
}

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at column {})", self.message, self.offset + 1)
    }
}

impl std::error::Error for FormatError {}

impl<F> OutputFormat<F> {
    /// Parses `fmt`. `resolve` gets the text after a `%` and returns the field
    /// and how many bytes of that text its name takes, or `None` when no field
    /// starts there. `\n`, `\t` and `\\` are unescaped in literals.
    pub fn parse(
        fmt: &str,
        mut resolve: impl FnMut(&str) -> Option<(F, usize)>,
    ) -> Result<OutputFormat<F>, FormatError> {
        let (print_missing, body, base) = match fmt.strip_prefix('*') {
            Some(rest) => (true, rest, 1),
            None => (false, fmt, 0),
        };
        let mut tokens = Vec::new();
        let mut lit = String::new();
        let mut i = 0;
        let bytes = body.as_bytes();
        while i < bytes.len() {
            let c = bytes[i];
            if c == b'%' {
                let rest = &body[i + 1..];
                let (inner, braced) = match rest.strip_prefix('{') {
                    Some(r) => match r.find('}') {
                        Some(end) => (&r[..end], true),
                        None => {
                            return Err(FormatError {
                                offset: base + i,
                                message: "unterminated %{field}".into(),
                            })
                        }
                    },
                    None => (rest, false),
                };
                let Some((field, used)) = resolve(inner).filter(|(_, n)| *n > 0) else {
                    let name: String = inner
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || "._[]".contains(*c))
                        .collect();
                    return Err(FormatError {
                        offset: base + i,
                        message: format!("invalid formatting token %{name}: unknown field"),
                    });
                };
                if braced && used != inner.len() {
                    return Err(FormatError {
                        offset: base + i,
                        message: format!("invalid field in %{{{inner}}}"),
                    });
                }
                if !lit.is_empty() {
                    tokens.push(Token::Literal(std::mem::take(&mut lit)));
                }
                tokens.push(Token::Field(field));
                i += 1 + if braced { inner.len() + 2 } else { used };
                continue;
            }
            if c == b'\\' && i + 1 < bytes.len() {
                match bytes[i + 1] {
                    b'n' => {
                        lit.push('\n');
                        i += 2;
                        continue;
                    }
                    b't' => {
                        lit.push('\t');
                        i += 2;
                        continue;
                    }
                    b'\\' => {
                        lit.push('\\');
                        i += 2;
                        continue;
                    }
                    _ => {}
                }
            }
            let ch = body[i..].chars().next().unwrap_or('\u{fffd}');
            lit.push(ch);
            i += ch.len_utf8();
        }
        if !lit.is_empty() {
            tokens.push(Token::Literal(lit));
        }
        Ok(OutputFormat {
            tokens,
            print_missing,
        })
    }

    /// Renders one event. `write_field` appends a field's text and returns
    /// whether it had a value. Returns `false` (and leaves `out` undefined)
    /// when a field is missing and the format has no leading `*`.
    pub fn render(
        &self,
        out: &mut String,
        mut write_field: impl FnMut(&F, &mut String) -> bool,
    ) -> bool {
        for t in &self.tokens {
            match t {
                Token::Literal(s) => out.push_str(s),
                Token::Field(f) => {
                    let mark = out.len();
                    if !write_field(f, out) {
                        if !self.print_missing {
                            return false;
                        }
                        out.truncate(mark);
                        out.push_str("<NA>");
                    }
                }
            }
        }
        true
    }
}

/// Which param an `evt.arg`/`evt.rawarg` field names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgSelector {
    Name(String),
    Index(usize),
}

/// The fields every event has, without any state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventField {
    /// `evt.num`
    Num,
    /// `evt.time`: `HH:MM:SS.nnnnnnnnn`, local time.
    Time,
    /// `evt.outputtime`: like `evt.time` (sysdig's default `-t h`).
    OutputTime,
    /// `evt.rawtime`: nanoseconds since the epoch.
    RawTime,
    /// `evt.cpu`
    Cpu,
    /// `evt.type`
    Type,
    /// `evt.dir`: `>` or `<`.
    Dir,
    /// `evt.args`
    Args,
    /// `evt.info`: the args (no protocol decoders yet).
    Info,
    /// `evt.arg.NAME` / `evt.arg[N]`: the resolved text when there is one.
    Arg(ArgSelector),
    /// `evt.rawarg.NAME`: the raw value.
    RawArg(ArgSelector),
    /// `evt.res`: `SUCCESS` or the errno name.
    Res,
    /// `evt.failed`: `true`/`false`.
    Failed,
    /// `thread.tid`
    ThreadTid,
}

fn ident_len(s: &str) -> usize {
    s.bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
        .count()
}

impl EventField {
    /// Recognises an event-level field at the start of `s`; returns it and
    /// the length of its name. Longest match wins, like libsinsp.
    pub fn parse_prefix(s: &str) -> Option<(EventField, usize)> {
        for (prefix, raw) in [("evt.rawarg", true), ("evt.arg", false)] {
            if let Some(rest) = s.strip_prefix(prefix) {
                if rest.starts_with('s') && !raw {
                    break; // evt.args
                }
                let mk = |sel| {
                    if raw {
                        EventField::RawArg(sel)
                    } else {
                        EventField::Arg(sel)
                    }
                };
                if let Some(r) = rest.strip_prefix('.') {
                    let n = ident_len(r);
                    if n == 0 {
                        return None;
                    }
                    return Some((
                        mk(ArgSelector::Name(r[..n].to_string())),
                        prefix.len() + 1 + n,
                    ));
                }
                if let Some(r) = rest.strip_prefix('[') {
                    let end = r.find(']')?;
                    let idx: usize = r[..end].trim().parse().ok()?;
                    return Some((mk(ArgSelector::Index(idx)), prefix.len() + 2 + end));
                }
                return None;
            }
        }
        const NAMES: &[(&str, EventField)] = &[
            ("evt.outputtime", EventField::OutputTime),
            ("evt.rawtime", EventField::RawTime),
            ("evt.failed", EventField::Failed),
            ("thread.tid", EventField::ThreadTid),
            ("evt.time", EventField::Time),
            ("evt.args", EventField::Args),
            ("evt.info", EventField::Info),
            ("evt.type", EventField::Type),
            ("evt.num", EventField::Num),
            ("evt.cpu", EventField::Cpu),
            ("evt.dir", EventField::Dir),
            ("evt.res", EventField::Res),
        ];
        let n = s
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.')
            .count();
        let name = s[..n].trim_end_matches('.');
        NAMES
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(k, f)| (f.clone(), k.len()))
    }

    /// Appends the field's text; `false` when the event has no such value.
    pub fn write(
        &self,
        ev: &SourcedEvent<'_>,
        ctx: &dyn ArgContext,
        scratch: &mut Rendered,
        out: &mut String,
    ) -> bool {
        let raw = &ev.event;
        match self {
            EventField::Num => {
                let _ = write!(out, "{}", ev.num);
            }
            EventField::Time | EventField::OutputTime => {
                crate::time::write_time_of_day(out, raw.ts());
            }
            EventField::RawTime => {
                let _ = write!(out, "{}", raw.ts());
            }
            EventField::Cpu => {
                let _ = write!(out, "{}", ev.cpu);
            }
            EventField::Type => out.push_str(raw.type_name()),
            EventField::Dir => out.push_str(raw.direction().symbol()),
            EventField::Args | EventField::Info => write_args(out, raw, ctx, scratch),
            EventField::Arg(sel) | EventField::RawArg(sel) => {
                let Some(p) = (match sel {
                    ArgSelector::Name(n) => raw.param_by_name(n),
                    ArgSelector::Index(i) => raw.typed_param(*i),
                }) else {
                    return false;
                };
                if matches!(self, EventField::Arg(_)) {
                    render_param(raw, p, ctx, scratch);
                    out.push_str(scratch.best());
                } else {
                    crate::format::render_raw(raw, p, out);
                }
            }
            EventField::Res => return write_res(raw, ctx, scratch, out),
            EventField::Failed => {
                out.push_str(if result_value(raw).is_some_and(|v| v < 0) {
                    "true"
                } else {
                    "false"
                });
            }
            EventField::ThreadTid => {
                let _ = write!(out, "{}", raw.tid() as i64);
            }
        }
        true
    }
}

/// The syscall result an event carries: its `res` param, or for exit events
/// that create an fd, the `fd` param.
pub fn result_value(ev: &RawEvent<'_>) -> Option<i64> {
    result_param(ev).and_then(|p| p.as_i64())
}

fn result_param<'a>(ev: &RawEvent<'a>) -> Option<crate::param::Param<'a>> {
    if let Some(p) = ev.param_by_name("res") {
        return Some(p);
    }
    let info = ev.info()?;
    if info.flags & eflags::EF_CREATES_FD != 0 && ev.direction() == Direction::Exit {
        return ev.param_by_name("fd");
    }
    None
}

fn write_res(
    ev: &RawEvent<'_>,
    ctx: &dyn ArgContext,
    scratch: &mut Rendered,
    out: &mut String,
) -> bool {
    let Some(p) = result_param(ev) else {
        return false;
    };
    let Some(v) = p.as_i64() else {
        return false;
    };
    if v >= 0 {
        out.push_str("SUCCESS");
        return true;
    }
    // Errno names do not depend on thread state.
    match crate::names::errno_name((v as i32).unsigned_abs()) {
        Some(n) => out.push_str(n),
        None => {
            render_param(ev, p, ctx, scratch);
            out.push_str(&scratch.raw);
        }
    }
    true
}

/// `evt.type` values a filter may name: event names and syscall names.
pub fn is_known_event_name(name: &str) -> bool {
    table::EVENTS.iter().any(|e| e.name == name) || table::SYSCALL_NAMES.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::NoContext;
    use crate::raw::encode_event;
    use crate::table::*;

    fn render(fmt: &str, buf: &[u8]) -> Option<String> {
        let f = OutputFormat::parse(fmt, EventField::parse_prefix).unwrap();
        let (event, _) = RawEvent::parse(buf).unwrap();
        let ev = SourcedEvent {
            num: 7,
            cpu: 1,
            flags: 0,
            event,
        };
        let mut out = String::new();
        let mut scratch = Rendered::default();
        f.render(&mut out, |field, o| {
            field.write(&ev, &NoContext, &mut scratch, o)
        })
        .then_some(out)
    }

    #[test]
    fn event_fields() {
        let mut buf = Vec::new();
        encode_event(
            &mut buf,
            1_000_000_123,
            99,
            PPME_SYSCALL_CLOSE_X,
            false,
            &[&(-2i64).to_le_bytes()],
        );
        assert_eq!(
            render(
                "%evt.num %evt.rawtime %evt.cpu %evt.type %evt.dir %thread.tid",
                &buf
            )
            .unwrap(),
            "7 1000000123 1 close < 99"
        );
        assert_eq!(
            render(
                "%evt.res %evt.failed %evt.arg.res %evt.rawarg.res %evt.arg[0]",
                &buf
            )
            .unwrap(),
            "ENOENT true ENOENT -2 ENOENT"
        );
        assert_eq!(render("%evt.arg.fd", &buf), None);
        assert_eq!(render("*%evt.arg.fd!", &buf).unwrap(), "<NA>!");
        assert_eq!(render("*%{evt.type}x\\t", &buf).unwrap(), "closex\t");
    }

    #[test]
    fn bad_formats() {
        let e = OutputFormat::parse("%evt.nope", EventField::parse_prefix).unwrap_err();
        assert!(e.message.contains("evt.nope"), "{e}");
        assert!(OutputFormat::parse("%{evt.type", EventField::parse_prefix).is_err());
        assert!(OutputFormat::parse("%evt.arg.", EventField::parse_prefix).is_err());
    }
}
