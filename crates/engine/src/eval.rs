//! Evaluating compiled conditions against one event. Fields are extracted
//! on first use and cached in the arena for the rest of the event.

use crate::compile::{CRhs, Node, Slots};
use crate::cond::Op;
use crate::fields::{self, Ctx};
use crate::ops::{glob_match, icontains};
use crate::value::{Arena, Out, ValType, V};

/// Values of `slot` for this event, extracting them on first use.
#[inline]
pub(crate) fn values(slots: &Slots, arena: &mut Arena, ctx: &Ctx<'_>, slot: u32) -> (usize, usize) {
    if let Some(r) = arena.cached(slot as usize) {
        return r;
    }
    let start = arena.begin();
    {
        let mut out = Out { arena };
        fields::extract(slots.spec(slot), ctx, &mut out);
    }
    arena.commit(slot as usize, start)
}

pub(crate) fn eval(node: &Node, slots: &Slots, arena: &mut Arena, ctx: &Ctx<'_>) -> bool {
    match node {
        Node::And(xs) => xs.iter().all(|x| eval(x, slots, arena, ctx)),
        Node::Or(xs) => xs.iter().any(|x| eval(x, slots, arena, ctx)),
        Node::Not(x) => !eval(x, slots, arena, ctx),
        Node::Const(b) => *b,
        Node::Cmp {
            slot,
            op,
            rhs,
            list,
        } => {
            let (start, end) = values(slots, arena, ctx, *slot);
            if start == end {
                // No value: every comparison is false.
                return false;
            }
            if *op == Op::Exists {
                return true;
            }
            let ty = slots.spec(*slot).ty;
            if let CRhs::Field(other) = rhs {
                let (os, oe) = values(slots, arena, ctx, *other);
                if os == oe {
                    return false;
                }
                let rv = arena.val(os);
                return (start..end).any(|i| cmp_values(*op, ty, arena, arena.val(i), rv));
            }
            if *list {
                return match op {
                    Op::In => (start..end).all(|i| cmp_one(*op, ty, arena, arena.val(i), rhs)),
                    _ => (start..end).any(|i| cmp_one(*op, ty, arena, arena.val(i), rhs)),
                };
            }
            (start..end).any(|i| cmp_one(*op, ty, arena, arena.val(i), rhs))
        }
    }
}

#[inline]
fn num_of(v: V) -> Option<i128> {
    match v {
        V::I64(x) => Some(x as i128),
        V::U64(x) => Some(x as i128),
        V::Bool(b) => Some(b as i128),
        V::F64(f) => Some(f as i128),
        _ => None,
    }
}

fn ord_ok(op: Op, o: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match op {
        Op::Eq | Op::In | Op::Intersects => o == Equal,
        Op::Ne => o != Equal,
        Op::Lt => o == Less,
        Op::Le => o != Greater,
        Op::Gt => o == Greater,
        Op::Ge => o != Less,
        _ => false,
    }
}

/// Compares one extracted value with a compiled right-hand side.
#[inline]
fn cmp_one(op: Op, ty: ValType, arena: &Arena, v: V, rhs: &CRhs) -> bool {
    match rhs {
        CRhs::Bytes(b) => {
            let s = arena.bytes_of(&v);
            match op {
                Op::Eq | Op::In | Op::Intersects => s == &**b,
                Op::Ne => s != &**b,
                Op::Contains | Op::BContains => memchr::memmem::find(s, b).is_some(),
                Op::StartsWith | Op::BStartsWith => s.starts_with(b),
                Op::EndsWith => s.ends_with(b),
                Op::Lt | Op::Le | Op::Gt | Op::Ge => ord_ok(op, s.cmp(b)),
                _ => false,
            }
        }
        CRhs::Lower(b) => icontains(arena.bytes_of(&v), b),
        CRhs::BytesSet(set) => set.contains(arena.bytes_of(&v)),
        CRhs::Glob(p) => glob_match(p, arena.bytes_of(&v), op == Op::IGlob),
        CRhs::Regex(re) => re.is_match(arena.bytes_of(&v)),
        CRhs::Paths(p) => p.matches(arena.bytes_of(&v)),
        CRhs::Num(n) => num_of(v).is_some_and(|x| ord_ok(op, x.cmp(n))),
        CRhs::NumSet(set) => num_of(v).is_some_and(|x| set.contains(&x)),
        CRhs::F64(f) => match v {
            V::F64(x) => x.partial_cmp(f).is_some_and(|o| ord_ok(op, o)),
            _ => {
                num_of(v).is_some_and(|x| (x as f64).partial_cmp(f).is_some_and(|o| ord_ok(op, o)))
            }
        },
        CRhs::Ips(ips) => {
            let hit = match v {
                V::Ip4(ip) => ips.iter().any(|m| m.matches_v4(ip)),
                V::Ip6(ip) => ips.iter().any(|m| m.matches_v6(ip)),
                _ => false,
            };
            if op == Op::Ne {
                !hit
            } else {
                hit
            }
        }
        CRhs::None => op == Op::Exists,
        CRhs::Field(_) => {
            let _ = ty;
            false
        }
    }
}

/// `val()` comparisons: two extracted values.
fn cmp_values(op: Op, _ty: ValType, arena: &Arena, a: V, b: V) -> bool {
    match (a, b) {
        (V::Str { .. }, V::Str { .. }) => {
            let (x, y) = (arena.bytes_of(&a), arena.bytes_of(&b));
            match op {
                Op::Eq | Op::In | Op::Intersects => x == y,
                Op::Ne => x != y,
                Op::Contains => memchr::memmem::find(x, y).is_some(),
                Op::StartsWith => x.starts_with(y),
                Op::EndsWith => x.ends_with(y),
                Op::Lt | Op::Le | Op::Gt | Op::Ge => ord_ok(op, x.cmp(y)),
                _ => false,
            }
        }
        (V::Ip4(x), V::Ip4(y)) => ord_ok(op, x.cmp(&y)),
        (V::Ip6(x), V::Ip6(y)) => ord_ok(op, x.cmp(&y)),
        _ => match (num_of(a), num_of(b)) {
            (Some(x), Some(y)) => ord_ok(op, x.cmp(&y)),
            _ => false,
        },
    }
}
