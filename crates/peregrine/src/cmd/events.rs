//! `peregrine events FILE [FILTER] [-p FORMAT] [-w OUT]`: prints a capture
//! one line per event, like `sysdig -r`, or copies it to another capture.
//!
//! Like sysdig, internal events (procinfo, container metadata of old
//! captures) are numbered but not printed, and byte buffers are cut at 80
//! characters.

mod tracker;

use std::io::{self, BufWriter, Write};

use peregrine_event::fields::{EventField, OutputFormat};
use peregrine_event::format::Rendered;
use peregrine_event::table::{PPME_CONTAINER_E, PPME_CONTAINER_JSON_2_E, PPME_CONTAINER_JSON_E};
use peregrine_scap::{ScapReader, ScapWriter};

use crate::cli::EventsArgs;
use tracker::Tracker;

/// sysdig's default line.
pub const DEFAULT_FORMAT: &str =
    "*%evt.num %evt.outputtime %evt.cpu %proc.name (%thread.tid) %evt.dir %evt.type %evt.info";

/// `SCAP_DF_STATE_ONLY`: the event updates state but is not shown.
const STATE_ONLY: u32 = 1;
/// sysdig's `-s`-less limit on printed byte buffers.
const BUFFER_PRINT_LEN: usize = 80;

/// Fields `-p` knows in this command: the event-level ones plus `proc.name`,
/// which the default line needs.
#[derive(Debug, Clone)]
enum Field {
    Event(EventField),
    ProcName,
}

fn resolve_field(s: &str) -> Option<(Field, usize)> {
    if let Some((f, n)) = EventField::parse_prefix(s) {
        return Some((Field::Event(f), n));
    }
    let n = s
        .bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.')
        .count();
    (s[..n].trim_end_matches('.') == "proc.name").then_some((Field::ProcName, "proc.name".len()))
}

pub fn run(args: &EventsArgs) -> u8 {
    if args.filter.is_some() {
        eprintln!("peregrine events: filters are not supported yet");
        return 2;
    }
    let mut reader = match ScapReader::open(&args.file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("peregrine events: {e}");
            return 1;
        }
    };
    match &args.write {
        Some(out) => copy(&mut reader, out),
        None => print(&mut reader, args),
    }
}

fn copy(reader: &mut ScapReader, out: &str) -> u8 {
    let mut w = match ScapWriter::create(out, reader.tables()) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("peregrine events: cannot write {out}: {e}");
            return 1;
        }
    };
    loop {
        match reader.next_event() {
            Ok(Some(ev)) => {
                if let Err(e) = w.write_event(&ev) {
                    eprintln!("peregrine events: writing {out}: {e}");
                    return 1;
                }
            }
            Ok(None) => break,
            Err(e) => {
                eprintln!("peregrine events: {e}");
                return 1;
            }
        }
    }
    if let Err(e) = w.close() {
        eprintln!("peregrine events: writing {out}: {e}");
        return 1;
    }
    0
}

fn print(reader: &mut ScapReader, args: &EventsArgs) -> u8 {
    let fmt_text = args.format.as_deref().unwrap_or(DEFAULT_FORMAT);
    let format = match OutputFormat::parse(fmt_text, resolve_field) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("peregrine events: bad -p format: {e}");
            return 2;
        }
    };
    let mut tracker = Tracker::new(reader.tables(), BUFFER_PRINT_LEN);
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut line = String::new();
    let mut scratch = Rendered::default();
    // libsinsp consumes the container events that open a capture before
    // anything else: they are numbered but never shown.
    let mut leading = true;
    loop {
        let ev = match reader.next_event() {
            Ok(Some(ev)) => ev,
            Ok(None) => break,
            Err(e) => {
                let _ = out.flush();
                eprintln!("peregrine events: {e}");
                return 1;
            }
        };
        let raw = ev.event;
        tracker.before(&raw);
        let is_container = matches!(
            raw.event_type(),
            PPME_CONTAINER_E | PPME_CONTAINER_JSON_E | PPME_CONTAINER_JSON_2_E
        );
        leading &= is_container;
        let hidden = (leading && !args.internal)
            || ev.flags & STATE_ONLY != 0
            || (!args.internal && raw.info().is_some_and(|i| i.is_internal()));
        if !hidden {
            line.clear();
            let tid = raw.tid() as i64;
            let container = container_comm(&raw);
            let shown = format.render(&mut line, |f, o| match f {
                Field::Event(f) => f.write(&ev, &tracker, &mut scratch, o),
                Field::ProcName => match container.as_deref().or_else(|| tracker.comm(tid)) {
                    Some(c) => {
                        o.push_str(c);
                        true
                    }
                    None => false,
                },
            });
            if shown {
                line.push('\n');
                if out.write_all(line.as_bytes()).is_err() {
                    return 0; // stdout closed (e.g. piped into head)
                }
            }
        }
        tracker.after(&raw);
    }
    let _ = out.flush();
    0
}

/// libsinsp shows container-metadata events as coming from a pseudo thread
/// named `container:<id>`.
fn container_comm(ev: &peregrine_event::RawEvent<'_>) -> Option<String> {
    let ty = ev.event_type();
    if ty != PPME_CONTAINER_JSON_E && ty != PPME_CONTAINER_JSON_2_E {
        return None;
    }
    let json = ev.param(0)?;
    let text = std::str::from_utf8(json).ok()?;
    let at = text.find("\"id\":\"")? + 6;
    let end = text[at..].find('"')? + at;
    Some(format!("container:{}", &text[at..end]))
}
