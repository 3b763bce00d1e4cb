//! Compiling conditions: fields resolved to slots, right-hand sides parsed
//! once into the form their comparison wants (hash sets for `in`, path sets
//! for `pmatch`, compiled globs and regexes, parsed numbers and networks).

use rustc_hash::{FxHashMap, FxHashSet};

use crate::cond::{Cond, FieldRef, Op, Rhs};
use crate::fields::{self, Spec};
use crate::ops::{IpMatch, PathSet};
use crate::value::ValType;

/// Fields used by any rule or output, each once.
#[derive(Debug, Default)]
pub struct Slots {
    pub(crate) specs: Vec<Spec>,
    by_ref: FxHashMap<FieldRef, u32>,
}

impl Slots {
    pub fn slot(&mut self, f: &FieldRef) -> Result<u32, String> {
        if let Some(&s) = self.by_ref.get(f) {
            return Ok(s);
        }
        let spec = fields::resolve(f)?;
        let id = self.specs.len() as u32;
        self.specs.push(spec);
        self.by_ref.insert(f.clone(), id);
        Ok(id)
    }

    pub fn spec(&self, slot: u32) -> &Spec {
        &self.specs[slot as usize]
    }

    pub fn len(&self) -> usize {
        self.specs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }
}

#[derive(Debug)]
pub(crate) enum Node {
    And(Box<[Node]>),
    Or(Box<[Node]>),
    Not(Box<Node>),
    Const(bool),
    Cmp {
        slot: u32,
        op: Op,
        rhs: CRhs,
        list: bool,
    },
}

#[derive(Debug)]
pub(crate) enum CRhs {
    None,
    Bytes(Box<[u8]>),
    /// Lowercased, for `icontains`.
    Lower(Box<[u8]>),
    BytesSet(FxHashSet<Box<[u8]>>),
    Glob(Box<[u8]>),
    Regex(regex::bytes::Regex),
    Paths(Box<PathSet>),
    Num(i128),
    NumSet(FxHashSet<i128>),
    F64(f64),
    Ips(Box<[IpMatch]>),
    Field(u32),
}

fn parse_num(ty: ValType, s: &str) -> Result<i128, String> {
    let t = s.trim();
    if ty == ValType::Bool {
        return match t {
            "true" => Ok(1),
            "false" => Ok(0),
            _ => Err(format!("'{s}' is not a valid boolean")),
        };
    }
    let parsed = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        i128::from_str_radix(h, 16).ok()
    } else {
        t.parse::<i128>().ok()
    };
    parsed.ok_or_else(|| format!("'{s}' is not a valid number"))
}

fn hex_bytes(s: &str) -> Result<Box<[u8]>, String> {
    let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if !t.len().is_multiple_of(2) {
        return Err(format!("'{s}' is not a valid hex byte string"));
    }
    (0..t.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&t[i..i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .map(Vec::into_boxed_slice)
        .map_err(|_| format!("'{s}' is not a valid hex byte string"))
}

fn values(rhs: &Rhs) -> Vec<&str> {
    match rhs {
        Rhs::Value(v) => vec![v.as_str()],
        Rhs::List(vs) => vs.iter().map(String::as_str).collect(),
        _ => Vec::new(),
    }
}

pub(crate) fn compile(c: &Cond, slots: &mut Slots) -> Result<Node, String> {
    Ok(match c {
        Cond::And(xs) => Node::And(
            xs.iter()
                .map(|x| compile(x, slots))
                .collect::<Result<Vec<_>, _>>()?
                .into(),
        ),
        Cond::Or(xs) => Node::Or(
            xs.iter()
                .map(|x| compile(x, slots))
                .collect::<Result<Vec<_>, _>>()?
                .into(),
        ),
        Cond::Not(x) => Node::Not(Box::new(compile(x, slots)?)),
        Cond::Const(b) => Node::Const(*b),
        Cond::Cmp { field, op, rhs } => {
            let slot = slots.slot(field)?;
            let spec = slots.spec(slot).clone();
            if spec.fid == fields::Fid::EvtAround {
                return around(&spec, *op, rhs, slots);
            }
            let ty = spec.ty;
            let op = *op;
            let crhs = match (op, rhs) {
                (Op::Exists, _) => CRhs::None,
                (_, Rhs::Field(f)) => CRhs::Field(slots.slot(f)?),
                (_, Rhs::None) => return Err(format!("operator needs a value for {}", field.name)),
                _ => compile_rhs(op, ty, &values(rhs))?,
            };
            Node::Cmp {
                slot,
                op,
                rhs: crhs,
                list: spec.list,
            }
        }
    })
}

/// `evt.around[T]=D` accepts events whose time is within D milliseconds
/// of T (nanoseconds): a window on `evt.rawtime`.
fn around(spec: &Spec, op: Op, rhs: &Rhs, slots: &mut Slots) -> Result<Node, String> {
    if op != Op::Eq {
        return Err("evt.around supports only '=' comparison operator".into());
    }
    if !spec.transformers.is_empty() {
        return Err("field 'evt.around' does not support transformers".into());
    }
    let fields::FArg::Index(center) = spec.arg else {
        return Err("wrong syntax for evt.around".into());
    };
    let Rhs::Value(v) = rhs else {
        return Err("evt.around needs one value, a delta in milliseconds".into());
    };
    let delta_ms: u64 = v
        .trim()
        .parse()
        .map_err(|_| format!("'{v}' is not a valid number"))?;
    let delta = i128::from(delta_ms) * 1_000_000;
    let center = i128::from(center);
    let rawtime = slots.slot(&FieldRef {
        name: "evt.rawtime".into(),
        arg: None,
        transformers: Vec::new(),
    })?;
    let bound = |op, n| Node::Cmp {
        slot: rawtime,
        op,
        rhs: CRhs::Num(n),
        list: false,
    };
    Ok(Node::And(
        [bound(Op::Ge, center - delta), bound(Op::Le, center + delta)].into(),
    ))
}

fn compile_rhs(op: Op, ty: ValType, vals: &[&str]) -> Result<CRhs, String> {
    let one = || {
        vals.first()
            .copied()
            .ok_or_else(|| "missing value".to_string())
    };
    Ok(match ty {
        ValType::Str | ValType::Bytes => match op {
            Op::In | Op::Intersects => CRhs::BytesSet(
                vals.iter()
                    .map(|v| v.as_bytes().to_vec().into_boxed_slice())
                    .collect(),
            ),
            Op::Pmatch => {
                let mut p = PathSet::default();
                for v in vals {
                    p.insert(v.as_bytes());
                }
                CRhs::Paths(Box::new(p))
            }
            Op::IContains => CRhs::Lower(one()?.to_ascii_lowercase().into_bytes().into()),
            Op::IGlob | Op::Glob => CRhs::Glob(one()?.as_bytes().into()),
            Op::Regex => {
                let re = regex::bytes::Regex::new(&format!("^(?:{})$", one()?))
                    .map_err(|e| format!("invalid regular expression: {e}"))?;
                CRhs::Regex(re)
            }
            Op::BContains | Op::BStartsWith => CRhs::Bytes(hex_bytes(one()?)?),
            _ => CRhs::Bytes(one()?.as_bytes().into()),
        },
        ValType::Ip | ValType::Net => {
            let ips = vals
                .iter()
                .map(|v| {
                    IpMatch::parse(v)
                        .ok_or_else(|| format!("'{v}' is not a valid IP address or network"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            CRhs::Ips(ips.into())
        }
        ValType::Double => CRhs::F64(
            one()?
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("'{}' is not a valid number", vals[0]))?,
        ),
        _ => match op {
            Op::In | Op::Intersects => CRhs::NumSet(
                vals.iter()
                    .map(|v| parse_num(ty, v))
                    .collect::<Result<_, _>>()?,
            ),
            _ => CRhs::Num(parse_num(ty, one()?)?),
        },
    })
}

/// A set of event types (bit per libscap event number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeSet(Vec<u64>);

impl TypeSet {
    pub fn none() -> TypeSet {
        TypeSet(vec![0; peregrine_event::table::EVENT_MAX.div_ceil(64)])
    }
    pub fn all() -> TypeSet {
        let mut s = TypeSet::none();
        for t in 0..peregrine_event::table::EVENT_MAX {
            s.insert(t as u16);
        }
        s
    }
    pub fn insert(&mut self, t: u16) {
        if let Some(w) = self.0.get_mut(t as usize / 64) {
            *w |= 1 << (t % 64);
        }
    }
    pub fn contains(&self, t: u16) -> bool {
        self.0
            .get(t as usize / 64)
            .is_some_and(|w| w & (1 << (t % 64)) != 0)
    }
    fn and(&self, o: &TypeSet) -> TypeSet {
        TypeSet(self.0.iter().zip(&o.0).map(|(a, b)| a & b).collect())
    }
    fn or(&self, o: &TypeSet) -> TypeSet {
        TypeSet(self.0.iter().zip(&o.0).map(|(a, b)| a | b).collect())
    }
    fn complement(&self) -> TypeSet {
        let all = TypeSet::all();
        TypeSet(self.0.iter().zip(&all.0).map(|(a, b)| !a & b).collect())
    }
    pub fn is_all(&self) -> bool {
        *self == TypeSet::all()
    }
    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        (0..peregrine_event::table::EVENT_MAX as u16).filter(|t| self.contains(*t))
    }
}

/// Event types named `name` (an event name or a syscall name served by
/// generic events).
fn types_named(name: &str) -> TypeSet {
    let mut s = TypeSet::none();
    for t in peregrine_event::table::event_types_named(name) {
        s.insert(t);
    }
    if s == TypeSet::none() && peregrine_event::table::SYSCALL_NAMES.contains(&name) {
        s.insert(peregrine_event::table::PPME_GENERIC_E);
        s.insert(peregrine_event::table::PPME_GENERIC_X);
    }
    s
}

/// The event types a condition can match, as Falco computes them: only
/// `evt.type` comparisons narrow the set; `and` intersects, `or` unites,
/// `not` complements through De Morgan.
pub fn event_types(c: &Cond) -> TypeSet {
    types(c, false)
}

fn types(c: &Cond, neg: bool) -> TypeSet {
    match c {
        Cond::And(xs) | Cond::Or(xs) => {
            let intersect = matches!(c, Cond::And(_)) != neg;
            let mut acc = if intersect {
                TypeSet::all()
            } else {
                TypeSet::none()
            };
            for x in xs {
                let t = types(x, neg);
                acc = if intersect { acc.and(&t) } else { acc.or(&t) };
            }
            acc
        }
        Cond::Not(x) => types(x, !neg),
        Cond::Const(b) => {
            if *b != neg {
                TypeSet::all()
            } else {
                TypeSet::none()
            }
        }
        Cond::Cmp { field, op, rhs }
            if field.name == "evt.type" && field.transformers.is_empty() =>
        {
            let names = values(rhs);
            let mut set = TypeSet::none();
            for n in &names {
                set = set.or(&types_named(n));
            }
            match op {
                Op::Eq | Op::In => {
                    if neg {
                        set.complement()
                    } else {
                        set
                    }
                }
                Op::Ne => {
                    if neg {
                        set
                    } else {
                        set.complement()
                    }
                }
                _ => TypeSet::all(),
            }
        }
        Cond::Cmp { .. } => TypeSet::all(),
    }
}
