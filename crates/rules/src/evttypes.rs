//! Event-type inference: the set of libscap event types (`PPME_*` codes) a
//! condition can match. The engine indexes rules by it; the loader warns
//! when it is too broad.
//!
//! Sets follow boolean algebra: `and` intersects, `or` unites, checks on
//! `evt.type`/`syscall.type` (`=`, `==`, `!=`, `in`) name their types, every
//! other check is neutral (all types). Negations are pushed down to the
//! leaves (De Morgan), where an evt.type set is complemented and a neutral
//! check stays neutral.

use std::fmt;

use crate::ast::{CmpOp, Expr, ExprKind};
use crate::check::PLUGIN_ASYNC_EVENT_NAMES;
use peregrine_event::table::{EVENTS, SYSCALL_NAMES};
/// The generic syscall events (for syscalls without their own event) and
/// the async (plugin) event type.
pub use peregrine_event::table::{PPME_ASYNCEVENT_E, PPME_GENERIC_E, PPME_GENERIC_X};

/// Number of libscap event types (`PPM_EVENT_MAX`).
pub const EVENT_TYPE_COUNT: usize = peregrine_event::table::EVENT_MAX;

const WORDS: usize = EVENT_TYPE_COUNT.div_ceil(64);

/// A set of event types, as a bitset over `PPME_*` codes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct EventTypeSet {
    bits: [u64; WORDS],
}

impl EventTypeSet {
    pub fn empty() -> EventTypeSet {
        EventTypeSet::default()
    }

    /// Every event type.
    pub fn all() -> EventTypeSet {
        let mut s = EventTypeSet::empty();
        for code in 0..EVENT_TYPE_COUNT as u16 {
            s.insert(code);
        }
        s
    }

    pub fn insert(&mut self, code: u16) {
        let c = code as usize;
        if c < EVENT_TYPE_COUNT {
            self.bits[c / 64] |= 1 << (c % 64);
        }
    }

    pub fn contains(&self, code: u16) -> bool {
        let c = code as usize;
        c < EVENT_TYPE_COUNT && self.bits[c / 64] & (1 << (c % 64)) != 0
    }

    pub fn len(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|w| *w == 0)
    }

    /// Whether every event type is in the set.
    pub fn is_all(&self) -> bool {
        self.len() == EVENT_TYPE_COUNT
    }

    pub fn union(&self, o: &EventTypeSet) -> EventTypeSet {
        let mut r = *self;
        for (a, b) in r.bits.iter_mut().zip(o.bits.iter()) {
            *a |= b;
        }
        r
    }

    pub fn intersect(&self, o: &EventTypeSet) -> EventTypeSet {
        let mut r = *self;
        for (a, b) in r.bits.iter_mut().zip(o.bits.iter()) {
            *a &= b;
        }
        r
    }

    /// All event types not in the set.
    pub fn complement(&self) -> EventTypeSet {
        let all = EventTypeSet::all();
        let mut r = all;
        for (a, b) in r.bits.iter_mut().zip(self.bits.iter()) {
            *a &= !b;
        }
        r
    }

    /// The codes in ascending order.
    pub fn codes(&self) -> impl Iterator<Item = u16> + '_ {
        (0..EVENT_TYPE_COUNT as u16).filter(|c| self.contains(*c))
    }

    /// The distinct event names of the codes, in code order.
    pub fn names(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for c in self.codes() {
            let n = EVENTS[c as usize].name;
            if !out.contains(&n) {
                out.push(n);
            }
        }
        out
    }

    /// libsinsp's `names_to_event_set`: the codes of every event with one of
    /// the names, `PPME_ASYNCEVENT_E` for plugin async event names, and the
    /// generic events when a name is a syscall without its own event.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> EventTypeSet {
        let mut s = EventTypeSet::empty();
        let mut leftover = false;
        for name in names {
            let mut found = false;
            for (code, e) in EVENTS.iter().enumerate().skip(2) {
                if e.name == name {
                    s.insert(code as u16);
                    found = true;
                }
            }
            if PLUGIN_ASYNC_EVENT_NAMES.contains(&name) {
                s.insert(PPME_ASYNCEVENT_E);
                found = true;
            }
            if !found && SYSCALL_NAMES.contains(&name) {
                leftover = true;
            }
        }
        if leftover {
            s.insert(PPME_GENERIC_E);
            s.insert(PPME_GENERIC_X);
        }
        s
    }
}

impl fmt::Debug for EventTypeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            return f.write_str("EventTypeSet(all)");
        }
        f.debug_set().entries(self.names()).finish()
    }
}

/// Options of the inference.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InferenceOptions {
    /// Use `evt.num >= 1` to decide `evt.num` checks (newer libsinsp):
    /// `evt.num=0` matches nothing, `evt.num>0` everything.
    pub evt_num_invariant: bool,
}

/// Why inference failed (libsinsp refuses these shapes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InferenceError(pub String);

impl fmt::Display for InferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The event types `expr` can match (libsinsp 0.25.4 semantics by default).
pub fn event_types(expr: &Expr) -> Result<EventTypeSet, InferenceError> {
    event_types_with(expr, InferenceOptions::default())
}

pub fn event_types_with(
    expr: &Expr,
    opts: InferenceOptions,
) -> Result<EventTypeSet, InferenceError> {
    let mut v = Visitor {
        opts,
        negated: false,
    };
    v.visit(expr).map(|r| r.codes)
}

struct Visitor {
    opts: InferenceOptions,
    negated: bool,
}

/// A node's set, and whether it came from an evt.type check (only those
/// are complemented under negation).
struct Node {
    codes: EventTypeSet,
}

enum Invariant {
    Empty,
    All,
    Unknown,
}

fn evt_num_invariant(left: &Expr, op: CmpOp, right: &Expr) -> Invariant {
    let ExprKind::Field { name, arg: None } = &left.kind else {
        return Invariant::Unknown;
    };
    if name != "evt.num" {
        return Invariant::Unknown;
    }
    let parse = |v: &str| -> Option<u64> { v.parse::<u64>().ok() };
    if op == CmpOp::In {
        let ExprKind::List(values) = &right.kind else {
            return Invariant::Unknown;
        };
        if values.iter().all(|v| parse(v) == Some(0)) {
            return Invariant::Empty;
        }
        return Invariant::Unknown;
    }
    let ExprKind::Value(v) = &right.kind else {
        return Invariant::Unknown;
    };
    let Some(n) = parse(v) else {
        return Invariant::Unknown;
    };
    match op {
        CmpOp::Eq | CmpOp::EqEq if n == 0 => Invariant::Empty,
        CmpOp::Ne if n == 0 => Invariant::All,
        CmpOp::Lt if n <= 1 => Invariant::Empty,
        CmpOp::Le if n == 0 => Invariant::Empty,
        CmpOp::Gt if n == 0 => Invariant::All,
        CmpOp::Ge if n <= 1 => Invariant::All,
        _ => Invariant::Unknown,
    }
}

fn is_evttype_field(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Field { name, arg: None } if name == "evt.type" || name == "syscall.type")
}

impl Visitor {
    /// A leaf's set under the current negation.
    fn leaf(&self, codes: EventTypeSet, has_codes: bool) -> Node {
        let codes = if self.negated && has_codes {
            codes.complement()
        } else {
            codes
        };
        Node { codes }
    }

    fn visit(&mut self, e: &Expr) -> Result<Node, InferenceError> {
        match &e.kind {
            ExprKind::And(children) | ExprKind::Or(children) => {
                let conjunction = matches!(e.kind, ExprKind::And(_)) != self.negated;
                let mut acc = if conjunction {
                    EventTypeSet::all()
                } else {
                    EventTypeSet::empty()
                };
                for c in children {
                    let n = self.visit(c)?;
                    acc = if conjunction {
                        acc.intersect(&n.codes)
                    } else {
                        acc.union(&n.codes)
                    };
                }
                Ok(Node { codes: acc })
            }
            ExprKind::Not(child) => {
                self.negated = !self.negated;
                let r = self.visit(child);
                self.negated = !self.negated;
                r
            }
            ExprKind::Binary { left, op, right } => {
                if self.opts.evt_num_invariant {
                    match evt_num_invariant(left, op.op, right) {
                        Invariant::Empty => return Ok(self.leaf(EventTypeSet::empty(), true)),
                        Invariant::All => return Ok(self.leaf(EventTypeSet::all(), true)),
                        Invariant::Unknown => {}
                    }
                }
                let evttype_op = op.modifier.is_none()
                    && matches!(op.op, CmpOp::Eq | CmpOp::EqEq | CmpOp::Ne | CmpOp::In);
                if evttype_op && is_evttype_field(left) {
                    let names: Vec<&str> = match &right.kind {
                        ExprKind::Value(v) => vec![v.as_str()],
                        ExprKind::List(vs) => vs.iter().map(String::as_str).collect(),
                        _ => {
                            return Err(InferenceError(
                                "right-hand field comparisons on `evt.type`/`syscall.type` checks are not supported by event code search".into(),
                            ))
                        }
                    };
                    let mut node = self.leaf(EventTypeSet::from_names(names), true);
                    if op.op == CmpOp::Ne {
                        node.codes = node.codes.complement();
                    }
                    return Ok(node);
                }
                if evttype_op {
                    reject_transformed_evttype(left)?;
                }
                Ok(self.leaf(EventTypeSet::all(), false))
            }
            ExprKind::Unary { left, .. } => {
                reject_transformed_evttype(left)?;
                // `evt.type exists` matches every type, and so does any
                // other unary check; only its negation differs.
                Ok(self.leaf(EventTypeSet::all(), is_evttype_field(left)))
            }
            _ => Ok(self.leaf(EventTypeSet::all(), false)),
        }
    }
}

/// libsinsp refuses `evt.type` inside a transformer where it looks at it.
fn reject_transformed_evttype(e: &Expr) -> Result<(), InferenceError> {
    if let ExprKind::Transform { args, .. } = &e.kind {
        for a in args {
            if is_evttype_field(a) {
                return Err(InferenceError(
                    "event code search does not support `evt.type` checks with transformers".into(),
                ));
            }
            reject_transformed_evttype(a)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn types(s: &str) -> EventTypeSet {
        event_types(&parse(s).unwrap()).unwrap()
    }

    #[test]
    fn sets_follow_boolean_algebra() {
        assert_eq!(types("evt.type = open").names(), vec!["open"]);
        assert_eq!(
            types("evt.type in (open, openat) and proc.name = x").names(),
            vec!["open", "openat"]
        );
        assert!(types("proc.name = x").is_all());
        assert!(!types("not evt.type = open").contains(2));
        assert!(types("not evt.type = open").contains(4));
        assert_eq!(types("not (evt.type != open)").names(), vec!["open"]);
        assert_eq!(
            types("evt.type = execve or evt.type = open").len(),
            types("evt.type in (execve, open)").len()
        );
        assert!(types("evt.type = open and evt.type = close").is_empty());
        assert!(types("evt.type = container").contains(PPME_ASYNCEVENT_E));
        let opts = InferenceOptions {
            evt_num_invariant: true,
        };
        assert!(event_types_with(&parse("evt.num = 0").unwrap(), opts)
            .unwrap()
            .is_empty());
        assert!(types("evt.num = 0").is_all());
    }
}
