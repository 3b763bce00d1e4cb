//! `peregrine events FILE [FILTER] [-p FORMAT] [-w OUT]`: prints a capture
//! one line per event, like `sysdig -r`, or copies it to another capture.
//! FILTER is a condition in the rules language (same fields as rules),
//! evaluated on each event as shown, enter and exit alike.
//!
//! Like sysdig, internal events (procinfo, container metadata of old
//! captures) are numbered but not printed, and byte buffers are cut at 80
//! characters.

use std::io::{self, BufWriter, Write};
use std::sync::Arc;

use peregrine_engine::format::EventFormatter;
use peregrine_engine::{EventInput, Filter, NoContainers, RawView};
use peregrine_event::source::SourcedEvent;
use peregrine_event::table::{PPME_CONTAINER_E, PPME_CONTAINER_JSON_2_E, PPME_CONTAINER_JSON_E};
use peregrine_scap::{ScapReader, ScapWriter};

use crate::cli::EventsArgs;
use peregrine_state::StateConfig;

/// sysdig's default line.
pub const DEFAULT_FORMAT: &str =
    "*%evt.num %evt.outputtime %evt.cpu %proc.name (%thread.tid) %evt.dir %evt.type %evt.info";

/// `SCAP_DF_STATE_ONLY`: the event updates state but is not shown.
const STATE_ONLY: u32 = 1;
/// sysdig's `-s`-less limit on printed byte buffers.
const BUFFER_PRINT_LEN: usize = 80;

pub fn run(args: &EventsArgs) -> u8 {
    let filter = match args.filter.as_deref().map(compile_filter).transpose() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("peregrine events: bad filter: {e}");
            return 2;
        }
    };
    let mut reader = match ScapReader::open(&args.file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("peregrine events: {e}");
            return 1;
        }
    };
    match &args.write {
        Some(out) => copy(&mut reader, out, filter),
        None => print(&mut reader, args, filter),
    }
}

/// The filter argument, compiled with the engine (the fields of rules).
pub(crate) fn compile_filter(expression: &str) -> Result<Filter, String> {
    let cond = peregrine::bridge::filter(expression)?;
    Filter::new(&cond, Arc::from(""))
}

/// Whether `ev` (already observed by `view`) passes the filter; no filter
/// passes everything.
pub(crate) fn matches(filter: &mut Option<Filter>, view: &RawView, ev: &SourcedEvent<'_>) -> bool {
    let Some(f) = filter else {
        return true;
    };
    let input = EventInput {
        ev: &ev.event,
        num: ev.num,
        cpu: ev.cpu,
        enter_ts: 0,
    };
    f.matches(&input, &view.state, &NoContainers)
}

/// Copies the capture; with a filter, only matching events (like
/// `sysdig -r IN -w OUT FILTER`), state still following every event.
fn copy(reader: &mut ScapReader, out: &str, mut filter: Option<Filter>) -> u8 {
    let mut view = filter
        .is_some()
        .then(|| RawView::new(reader.tables(), StateConfig::default()));
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
                if let Some(v) = view.as_mut() {
                    v.observe(&ev.event);
                    if !matches(&mut filter, v, &ev) {
                        continue;
                    }
                }
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

fn print(reader: &mut ScapReader, args: &EventsArgs, mut filter: Option<Filter>) -> u8 {
    let fmt_text = args.format.as_deref().unwrap_or(DEFAULT_FORMAT);
    let mut format = match EventFormatter::parse(fmt_text) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("peregrine events: bad -p format: {e}");
            return 2;
        }
    };
    let mut view = RawView::new(reader.tables(), StateConfig::default());
    view.state.max_buffer_len = BUFFER_PRINT_LEN;
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut line = String::new();
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
        view.observe(&raw);
        let is_container = matches!(
            raw.event_type(),
            PPME_CONTAINER_E | PPME_CONTAINER_JSON_E | PPME_CONTAINER_JSON_2_E
        );
        leading &= is_container;
        let hidden = (leading && !args.internal)
            || ev.flags & STATE_ONLY != 0
            || (!args.internal && raw.info().is_some_and(|i| i.is_internal()));
        if hidden || !matches(&mut filter, &view, &ev) {
            continue;
        }
        line.clear();
        let input = EventInput {
            ev: &raw,
            num: ev.num,
            cpu: ev.cpu,
            enter_ts: 0,
        };
        let container = container_comm(&raw);
        let shown = format.render_with(&input, &view.state, &NoContainers, &mut line, |field| {
            (field == "proc.name")
                .then_some(container.as_deref())
                .flatten()
        });
        if shown {
            line.push('\n');
            if out.write_all(line.as_bytes()).is_err() {
                return 0; // stdout closed (e.g. piped into head)
            }
        }
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
