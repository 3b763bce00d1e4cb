//! Folding enter events into exit events.
//!
//! Current libsinsp hands rules one event per syscall: the exit event, in
//! the newest layout, carrying the enter event's params too. Live events
//! from our probe already look like that; old captures have separate enter
//! and exit halves in older layouts. The [`Folder`] keeps each thread's last
//! enter event and, at the exit, rebuilds the exit event in the newest
//! layout: every param is taken from the exit half by name, else from the
//! enter half, else left empty (which reads as "absent").

use std::sync::OnceLock;

use peregrine_event::table::{self, Direction, EVENT_MAX};
use peregrine_event::{raw, RawEvent};
use rustc_hash::FxHashMap;

/// For each event type: the newest (non-old) event type with the same name
/// and direction, or itself.
fn newest_types() -> &'static [u16] {
    static NEWEST: OnceLock<Vec<u16>> = OnceLock::new();
    NEWEST.get_or_init(|| {
        let mut best: FxHashMap<(&'static str, bool), u16> = FxHashMap::default();
        for t in 0..EVENT_MAX as u16 {
            let Some(info) = table::event_info(t) else {
                continue;
            };
            if info.is_unused() || info.is_old_version() || info.name == "NA" {
                continue;
            }
            let key = (info.name, table::direction(t) == Direction::Enter);
            let e = best.entry(key).or_insert(t);
            if t > *e {
                *e = t;
            }
        }
        (0..EVENT_MAX as u16)
            .map(|t| match table::event_info(t) {
                Some(info) if !info.is_unused() => *best
                    .get(&(info.name, table::direction(t) == Direction::Enter))
                    .unwrap_or(&t),
                _ => t,
            })
            .collect()
    })
}

/// The newest layout of an event type (itself when it is current).
pub fn newest_type(event_type: u16) -> u16 {
    newest_types()
        .get(event_type as usize)
        .copied()
        .unwrap_or(event_type)
}

/// What the folder made of an event.
pub enum Folded<'a> {
    /// An enter event: stored, not to be evaluated.
    Enter,
    /// The event as it came (already current, or not a syscall pair).
    AsIs(RawEvent<'a>),
    /// Rebuilt in the folder's scratch buffer.
    Rebuilt(RawEvent<'a>),
}

#[derive(Default)]
pub struct Folder {
    /// Last enter event per thread. Buffers are reused: no allocation once
    /// a thread's buffer has grown to its largest enter event.
    enters: FxHashMap<u64, Vec<u8>>,
    scratch: Vec<u8>,
    /// Param plans per (exit type, enter type), computed once.
    plans: FxHashMap<(u16, u16), Box<[Src]>>,
    exit_spans: Vec<(u32, u32)>,
    enter_spans: Vec<(u32, u32)>,
    pub stats: FoldStats,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FoldStats {
    pub enters_stored: u64,
    pub exits_rebuilt: u64,
    /// Exit events whose enter half was missing (params left empty).
    pub exits_without_enter: u64,
}

impl Folder {
    pub fn new() -> Folder {
        Folder::default()
    }

    /// Forgets a thread's stored enter event (on thread exit).
    pub fn forget(&mut self, tid: u64) {
        self.enters.remove(&tid);
    }

    /// Number of threads with a stored enter event.
    pub fn pending(&self) -> usize {
        self.enters.len()
    }

    pub fn fold<'a>(&'a mut self, ev: RawEvent<'a>) -> Folded<'a> {
        let ty = ev.event_type();
        let Some(info) = ev.info() else {
            return Folded::AsIs(ev);
        };
        match table::direction(ty) {
            Direction::Enter => {
                // Meta events such as procinfo or container are not halves.
                if info.category & table::category::EC_SYSCALL == 0
                    && !matches!(info.name, "procexit")
                {
                    return Folded::AsIs(ev);
                }
                let buf = self.enters.entry(ev.tid()).or_default();
                buf.clear();
                buf.extend_from_slice(ev.as_bytes());
                self.stats.enters_stored += 1;
                Folded::Enter
            }
            Direction::Exit => {
                let newest = newest_type(ty);
                let newest_info = match table::event_info(newest) {
                    Some(i) => i,
                    None => return Folded::AsIs(ev),
                };
                let complete = newest == ty && ev.nparams() as usize >= newest_info.params.len();
                if complete {
                    return Folded::AsIs(ev);
                }
                self.rebuild(ev, newest)
            }
        }
    }

    fn rebuild<'a>(&'a mut self, ev: RawEvent<'a>, newest: u16) -> Folded<'a> {
        let (Some(info), Some(newest_info)) = (ev.info(), table::event_info(newest)) else {
            return Folded::AsIs(ev);
        };
        let enter = self
            .enters
            .get(&ev.tid())
            .and_then(|b| RawEvent::parse(b).ok())
            .map(|(e, _)| e)
            .filter(|e| e.info().is_some_and(|ei| ei.name == info.name));
        if enter.is_none() {
            self.stats.exits_without_enter += 1;
        }
        self.stats.exits_rebuilt += 1;
        let enter_ty = enter.map_or(u16::MAX, |e| e.event_type());
        let plan = self
            .plans
            .entry((ev.event_type(), enter_ty))
            .or_insert_with(|| plan(info, enter.and_then(|e| e.info()), newest_info));
        ev.param_spans(&mut self.exit_spans);
        match enter {
            Some(e) => e.param_spans(&mut self.enter_spans),
            None => self.enter_spans.clear(),
        }
        let (xb, xs) = (ev.as_bytes(), &self.exit_spans);
        let (nb, ns) = (enter.map_or(&[][..], |e| e.as_bytes()), &self.enter_spans);
        let span = |bytes: &'a [u8], spans: &[(u32, u32)], i: u8| -> &'a [u8] {
            spans
                .get(i as usize)
                .map_or(&[][..], |&(o, l)| &bytes[o as usize..(o + l) as usize])
        };
        let pick = |src: Src| -> &[u8] {
            match src {
                Src::Exit(i) => span(xb, xs, i),
                Src::Enter(i) => span(nb, ns, i),
                Src::ExitOrEnter(x, n) => match span(xb, xs, x) {
                    b if !b.is_empty() => b,
                    _ => span(nb, ns, n),
                },
                Src::None => &[],
            }
        };
        // Encode in place: header, lengths, then the params.
        let large = newest_info.is_large_payload();
        let width = if large { 4 } else { 2 };
        let body: usize = plan.iter().map(|s| pick(*s).len()).sum();
        let len = raw::HEADER_LEN + plan.len() * width + body;
        let out = &mut self.scratch;
        out.clear();
        out.extend_from_slice(&ev.ts().to_le_bytes());
        out.extend_from_slice(&ev.tid().to_le_bytes());
        out.extend_from_slice(&(len as u32).to_le_bytes());
        out.extend_from_slice(&newest.to_le_bytes());
        out.extend_from_slice(&(plan.len() as u32).to_le_bytes());
        for s in plan.iter() {
            let l = pick(*s).len();
            if large {
                out.extend_from_slice(&(l as u32).to_le_bytes());
            } else {
                out.extend_from_slice(&(l as u16).to_le_bytes());
            }
        }
        for s in plan.iter() {
            out.extend_from_slice(pick(*s));
        }
        match RawEvent::parse(&self.scratch) {
            Ok((rebuilt, _)) => Folded::Rebuilt(rebuilt),
            Err(_) => Folded::AsIs(ev),
        }
    }
}

/// Where each param of the newest exit layout comes from.
#[derive(Debug, Clone, Copy)]
enum Src {
    Exit(u8),
    Enter(u8),
    /// The exit's param unless empty, else the enter's.
    ExitOrEnter(u8, u8),
    None,
}

fn plan(
    exit: &table::EventInfo,
    enter: Option<&table::EventInfo>,
    newest: &table::EventInfo,
) -> Box<[Src]> {
    newest
        .params
        .iter()
        .map(|p| {
            let x = exit.param_index(p.name).map(|i| i as u8);
            let n = enter.and_then(|e| e.param_index(p.name)).map(|i| i as u8);
            match (x, n) {
                (Some(x), Some(n)) => Src::ExitOrEnter(x, n),
                (Some(x), None) => Src::Exit(x),
                (None, Some(n)) => Src::Enter(n),
                (None, None) => Src::None,
            }
        })
        .collect()
}
