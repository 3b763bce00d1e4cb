//! `--list-events` (the event table by category, with directions, params and
//! flag names, in text, markdown or JSON) and `-i` (the syscalls ignored by
//! default), as Falco 0.44 prints them.
//!
//! The ignored set is Falco's: the high-volume I/O syscalls (events of the
//! `EC_IO_READ`/`EC_IO_WRITE` categories) minus libsinsp's state set (the
//! syscalls whose events modify state, plus those libscap never drops).
//! The sets are the live probe's (`peregrine_ebpf::interest`), so `-i`
//! lists exactly what live detection leaves out.

use std::collections::BTreeSet;

use peregrine_ebpf::interest::{self, ScSet};
use peregrine_event::table::{self, category, EventInfo, ParamInfo, ParamType};
use serde_json::{json, Map, Value};

use crate::versions::EVENT_SCHEMA_VERSION;

fn is_generic(ty: u16) -> bool {
    ty == table::PPME_GENERIC_E || ty == table::PPME_GENERIC_X
}

/// The syscalls that produce an event type.
fn event_scs(ty: u16) -> ScSet {
    if is_generic(ty) {
        interest::generic_set()
    } else {
        ScSet::from_event_types([ty])
    }
}

/// libsinsp's `sc_set_to_event_names` of Falco's ignored set: names of the
/// (non-generic) events the syscalls produce, plus the syscalls' own names
/// where no event has them.
pub fn ignored_event_names() -> BTreeSet<&'static str> {
    let ignored = interest::ignored_set();
    let mut names = BTreeSet::new();
    let mut covered = ScSet::new();
    for (ty, info) in table::EVENTS.iter().enumerate() {
        let ty = ty as u16;
        let scs = event_scs(ty);
        if !is_generic(ty) && scs.intersects(&ignored) {
            names.insert(info.name);
            covered = covered.union(&scs);
        }
    }
    names.extend(ignored.difference(&covered).names());
    names
}

/// `-i`.
pub fn print_ignored() -> u8 {
    let mut out = String::from("Ignored syscall(s):\n");
    for n in ignored_event_names() {
        out.push_str(&format!("- {n}\n"));
    }
    out.push('\n');
    super::print_stdout(&out)
}

/// The output format of `--list` and `--list-events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Text,
    Markdown,
    Json,
}

impl OutputFormat {
    /// Falco's parsing: case-insensitive; the error is Falco's message.
    pub fn parse(s: &str) -> Result<OutputFormat, String> {
        match s.to_ascii_lowercase().as_str() {
            "" | "text" => Ok(OutputFormat::Text),
            "markdown" => Ok(OutputFormat::Markdown),
            "json" => Ok(OutputFormat::Json),
            _ => Err(format!(
                "Invalid format '{s}'. Valid values are: text, markdown, json"
            )),
        }
    }
}

struct Entry {
    name: &'static str,
    enter: bool,
    available: bool,
    info: &'static EventInfo,
}

const CATEGORIES: [&str; 4] = [
    "Syscall events",
    "Tracepoint events",
    "Plugin events",
    "Metaevents",
];

/// The events of each category in Falco's order: every event type that is
/// not generic, an old version, unused or unknown, then the generic
/// syscalls by name (sorted; Falco's order there is a hash set's).
fn entries() -> [Vec<Entry>; 4] {
    let ignored = interest::ignored_set();
    let mut cats: [Vec<Entry>; 4] = Default::default();
    let mut add = |ty: u16, name: &'static str| {
        let Some(info) = table::event_info(ty) else {
            return;
        };
        let c = info.category;
        let slot = if c & category::EC_SYSCALL != 0 {
            0
        } else if c & category::EC_TRACEPOINT != 0 {
            1
        } else if c & category::EC_PLUGIN != 0 {
            2
        } else if c & category::EC_METAEVENT != 0 {
            3
        } else {
            return;
        };
        cats[slot].push(Entry {
            name,
            enter: table::direction(ty) == table::Direction::Enter,
            available: !event_scs(ty).intersects(&ignored),
            info,
        });
    };
    for (ty, info) in table::EVENTS.iter().enumerate() {
        let ty = ty as u16;
        if is_generic(ty)
            || info.is_old_version()
            || info.is_unused()
            || info.category == category::EC_UNKNOWN
        {
            continue;
        }
        add(ty, info.name);
    }
    let generic: BTreeSet<&'static str> = interest::generic_set().names().collect();
    for name in generic {
        add(table::PPME_GENERIC_E, name);
        add(table::PPME_GENERIC_X, name);
    }
    cats
}

fn is_flag_type(t: ParamType) -> bool {
    use ParamType::*;
    matches!(
        t,
        Flags8 | Flags16 | Flags32 | Enumflags8 | Enumflags16 | Enumflags32
    )
}

fn param_text(p: &ParamInfo, markdown: bool) -> String {
    let mut s = format!("{} **{}**", p.ty.name(), p.name);
    let flags = p.flag_names();
    if is_flag_type(p.ty) && !flags.is_empty() {
        s.push_str(": ");
        let names: Vec<String> = flags
            .iter()
            .map(|f| {
                if markdown {
                    format!("*{}*", f.name)
                } else {
                    f.name.to_string()
                }
            })
            .collect();
        s.push_str(&names.join(", "));
    }
    s
}

fn params_text(e: &Entry, markdown: bool) -> String {
    e.info
        .params
        .iter()
        .map(|p| param_text(p, markdown))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The whole `--list-events` document.
pub fn render(format: OutputFormat) -> String {
    let cats = entries();
    let dir = |e: &Entry| if e.enter { '>' } else { '<' };
    match format {
        OutputFormat::Json => {
            let mut root = Map::new();
            root.insert("schema_version".into(), json!(EVENT_SCHEMA_VERSION));
            for (name, events) in CATEGORIES.iter().zip(cats.iter()) {
                let list: Vec<Value> = events
                    .iter()
                    .map(|e| {
                        let params: Vec<Value> = e
                            .info
                            .params
                            .iter()
                            .map(|p| {
                                let mut o = Map::new();
                                let flags = p.flag_names();
                                if is_flag_type(p.ty) && !flags.is_empty() {
                                    o.insert(
                                        "flags".into(),
                                        flags.iter().map(|f| f.name).collect::<Vec<_>>().into(),
                                    );
                                }
                                o.insert("name".into(), json!(p.name));
                                o.insert("type".into(), json!(p.ty.name()));
                                Value::Object(o)
                            })
                            .collect();
                        json!({
                            "available": e.available,
                            "dir": dir(e).to_string(),
                            "name": e.name,
                            "params": params,
                        })
                    })
                    .collect();
                root.insert(name.to_string(), Value::Array(list));
            }
            // nlohmann sorts object keys.
            let sorted = peregrine_rules::loader::result::sort_keys(Value::Object(root));
            format!(
                "{}\n",
                serde_json::to_string_pretty(&sorted).unwrap_or_default()
            )
        }
        OutputFormat::Text | OutputFormat::Markdown => {
            let md = format == OutputFormat::Markdown;
            let mut out = format!(
                "The events below are valid for Falco *Schema Version*: {EVENT_SCHEMA_VERSION}\n"
            );
            for (name, events) in CATEGORIES.iter().zip(cats.iter()) {
                out.push_str(&format!("## {name}\n\n"));
                if md {
                    out.push_str("Default | Dir | Name | Params \n:-------|:----|:-----|:-----\n");
                }
                for e in events {
                    if md {
                        out.push_str(&format!(
                            "{} | `{}` | `{}` | {}\n",
                            if e.available { "Yes" } else { "No" },
                            dir(e),
                            e.name,
                            params_text(e, true)
                        ));
                    } else {
                        out.push_str(&format!(
                            "{} {}({})\n",
                            dir(e),
                            e.name,
                            params_text(e, false)
                        ));
                    }
                }
                out.push('\n');
            }
            out
        }
    }
}

/// `--list-events [--format F]`.
pub fn print(format: OutputFormat) -> u8 {
    super::print_stdout(&render(format))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignored_set_is_io_without_state() {
        let names = ignored_event_names();
        for n in ["read", "write", "pread", "readv", "sendfile"] {
            assert!(names.contains(n), "{n} missing from {names:?}");
        }
        // State-changing or never-dropped syscalls are not ignored.
        for n in ["open", "close", "execve", "connect", "accept", "recvmsg"] {
            assert!(!names.contains(n), "{n} in {names:?}");
        }
    }

    #[test]
    fn generic_events_are_listed_by_syscall_name() {
        let text = render(OutputFormat::Text);
        assert!(text.contains("> getpid(SYSCALLID **ID**, UINT16 **nativeID**)\n"));
        assert!(text.contains("< getpid(SYSCALLID **ID**, UINT16 **nativeID**)\n"));
        assert!(!text.contains("> syscall(SYSCALLID"));
    }
}
