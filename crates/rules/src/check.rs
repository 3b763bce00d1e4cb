//! Type checking of a filter against a source's fields, as libsinsp's filter
//! compiler does it: unknown fields, bad arguments, operators the field's
//! type does not support, values that do not parse for the type, invalid
//! transformer use and right-hand-side field rules. Also produces the
//! compiler's warnings (values that look like fields or transformers,
//! regexes that a simpler operator would do).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::ast::{CmpOp, Expr, ExprKind, Operator, Pos, Transformer};
use crate::fields::{flags, FieldArg, FieldError, FieldRegistry, FieldType};
use peregrine_event::table::{EVENTS, SYSCALL_NAMES};

/// Why a condition does not compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckError {
    pub message: String,
    pub pos: Pos,
    /// An unknown field or event type (the kind `skip-if-unknown-filter`
    /// downgrades to a warning).
    pub unknown_field: bool,
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CheckError {}

/// A compile warning with its position in the condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckWarning {
    pub message: String,
    pub pos: Pos,
}

/// Async event names that plugins Falco 0.44 ships declare (the container
/// plugin); valid `evt.type` values besides libscap's event and syscall
/// names.
pub const PLUGIN_ASYNC_EVENT_NAMES: [&str; 2] = ["container", "container_removed"];

/// Whether `name` is a valid `evt.type` value.
pub fn is_event_type_name(name: &str) -> bool {
    EVENTS.iter().any(|e| e.name == name)
        || SYSCALL_NAMES.contains(&name)
        || PLUGIN_ASYNC_EVENT_NAMES.contains(&name)
}

/// Checks `expr` (macros already expanded) against `registry`; returns the
/// compile warnings.
pub fn check(expr: &Expr, registry: &FieldRegistry) -> Result<Vec<CheckWarning>, CheckError> {
    let mut c = Checker {
        registry,
        warnings: Vec::new(),
    };
    c.visit(expr)?;
    Ok(c.warnings)
}

/// Checks a field or transformer alone (an output `%field`, an exception
/// field).
pub fn check_operand(expr: &Expr, registry: &FieldRegistry) -> Result<(), CheckError> {
    let mut c = Checker {
        registry,
        warnings: Vec::new(),
    };
    match c.extract(expr)? {
        Extracted::Check(_) => Ok(()),
        Extracted::Values(_) => Err(err("expected a field", expr.pos)),
    }
}

struct Checker<'a> {
    registry: &'a FieldRegistry,
    warnings: Vec<CheckWarning>,
}

/// What an operand of a check compiles to.
#[derive(Debug, Clone)]
struct Operand {
    /// Name used in messages (the field's name).
    name: String,
    ty: FieldType,
    is_list: bool,
    flags: u32,
    field: Option<&'static str>,
}

enum Extracted {
    Values(Vec<String>),
    Check(Operand),
}

fn err(message: impl Into<String>, pos: Pos) -> CheckError {
    CheckError {
        message: message.into(),
        pos,
        unknown_field: false,
    }
}

fn raw_string() -> Operand {
    Operand {
        name: "INTERNAL".into(),
        ty: FieldType::Charbuf,
        is_list: false,
        flags: 0,
        field: None,
    }
}

fn raw_list() -> Operand {
    Operand {
        is_list: true,
        ..raw_string()
    }
}

/// libsinsp's `cmpop_to_str`: `==` prints as `=`.
fn op_name(op: CmpOp) -> &'static str {
    if op == CmpOp::EqEq {
        "="
    } else {
        op.as_str()
    }
}

/// libsinsp's `to_string(cmpop)` (`PMATCH`, `REGEX`…).
fn op_upper(op: CmpOp) -> String {
    match op {
        CmpOp::Eq | CmpOp::EqEq => "EQ".into(),
        CmpOp::Ne => "NE".into(),
        CmpOp::Lt => "LT".into(),
        CmpOp::Le => "LE".into(),
        CmpOp::Gt => "GT".into(),
        CmpOp::Ge => "GE".into(),
        other => other.as_str().to_ascii_uppercase(),
    }
}

/// Whether `op` applies to a field of type `ty` (libsinsp's
/// `flt_is_comparable`), with its error text.
pub fn op_supported(op: Operator, ty: FieldType, is_list: bool) -> Result<(), String> {
    use CmpOp::*;
    use FieldType as T;
    let o = op.op;
    if o == Exists {
        return Ok(());
    }
    let name = op_name(o);
    if is_list {
        return match ty {
            T::Charbuf | T::Uint64 | T::Reltime | T::Abstime | T::Bool | T::Ipaddr | T::Ipnet => {
                if matches!(o, In | Intersects) {
                    Ok(())
                } else {
                    Err(format!("'{name}' operator not supported list filters"))
                }
            }
            _ => Err(format!(
                "list filters are not supported for type '{}'",
                ty.name()
            )),
        };
    }
    let numeric = matches!(o, Eq | EqEq | Ne | Lt | Le | Gt | Ge | In | Intersects);
    match ty {
        T::Int8
        | T::Int16
        | T::Int32
        | T::Int64
        | T::Uint8
        | T::Uint16
        | T::Uint32
        | T::Uint64
        | T::Errno
        | T::Fd
        | T::Pid
        | T::Syscallid
        | T::Sigtype
        | T::Reltime
        | T::Abstime
        | T::Port
        | T::Flags8
        | T::Flags16
        | T::Flags32
        | T::Double
        | T::Mode
        | T::Enumflags8
        | T::Enumflags16
        | T::Enumflags32 => {
            if numeric {
                Ok(())
            } else {
                Err(format!(
                    "'{name}' operator not supported for numeric filters"
                ))
            }
        }
        T::Bool => {
            if matches!(o, Eq | EqEq | Ne | In | Intersects) {
                Ok(())
            } else {
                Err(format!(
                    "'{name}' operator not supported for numeric filters"
                ))
            }
        }
        T::Ipv4addr | T::Ipv4net | T::Ipv6addr | T::Ipv6net | T::Ipaddr | T::Ipnet => {
            let ok = matches!(o, Eq | EqEq | Ne | In | Intersects);
            if op.modifier.is_some() && !ok {
                return Err(format!(
                    "'{name}' with modifier not supported for ip address and network filters"
                ));
            }
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "'{name}' operator not supported for ip address and network filters"
                ))
            }
        }
        T::Charbuf | T::Fspath | T::Fsrelpath => {
            if matches!(o, BContains | BStartsWith) {
                Err(format!(
                    "'{name}' operator not supported for string filters"
                ))
            } else {
                Ok(())
            }
        }
        T::Bytebuf => {
            if matches!(
                o,
                Eq | EqEq
                    | Ne
                    | Contains
                    | In
                    | StartsWith
                    | EndsWith
                    | Intersects
                    | BContains
                    | BStartsWith
            ) {
                Ok(())
            } else {
                Err(format!(
                    "'{name}' operator not supported for buffer filters"
                ))
            }
        }
        _ => Err(format!(
            "'{name}' operator not supported for type '{}'",
            ty.name()
        )),
    }
}

/// The type a single-value transformer produces from `ty`, if it accepts it.
pub fn transformed_type(t: Transformer, ty: FieldType, is_list: bool) -> Option<(FieldType, bool)> {
    use FieldType as T;
    match t {
        Transformer::ToLower | Transformer::ToUpper | Transformer::Basename => {
            ty.is_string().then_some((ty, is_list))
        }
        Transformer::B64 => (ty.is_string() || ty == T::Bytebuf).then_some((ty, is_list)),
        Transformer::Len => {
            if is_list || ty.is_string() || ty == T::Bytebuf {
                Some((T::Uint64, false))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// `sscanf("%d%c")`-like: optional blanks and sign, then digits only.
fn scan_int(s: &str) -> Option<i128> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i128 = digits.parse().unwrap_or(i128::MAX);
    Some(if neg { -v } else { v })
}

fn port_by_name(name: &str) -> bool {
    std::fs::read_to_string("/etc/services")
        .map(|s| {
            s.lines().any(|l| {
                let l = l.split('#').next().unwrap_or("");
                let mut words = l.split_whitespace();
                let first = words.next();
                let _port = words.next();
                first == Some(name) || words.any(|alias| alias == name)
            })
        })
        .unwrap_or(false)
}

/// Parses a constant for a field of type `ty` (libsinsp's
/// `string_to_rawval`); the error is libsinsp's message.
pub fn parse_value(value: &str, ty: FieldType) -> Result<(), String> {
    use FieldType as T;
    let v = value.split('\0').next().unwrap_or("");
    let not_number = || format!("{v} is not a valid number");
    match ty {
        T::Int8
        | T::Int16
        | T::Int32
        | T::Int64
        | T::Fd
        | T::Errno
        | T::Pid
        | T::L4proto
        | T::Flags8
        | T::Uint8
        | T::Enumflags8
        | T::Flags16
        | T::Uint16
        | T::Enumflags16
        | T::Flags32
        | T::Uint32
        | T::Mode
        | T::Enumflags32
        | T::Uid
        | T::Gid
        | T::Uint64
        | T::Reltime
        | T::Abstime
        | T::Double => scan_int(v).map(|_| ()).ok_or_else(not_number),
        T::Port => {
            if v.is_empty() || v.bytes().all(|b| b.is_ascii_digit()) || port_by_name(v) {
                Ok(())
            } else {
                Err(format!("unrecognized protocol {v}"))
            }
        }
        T::Bool => match v {
            "true" | "false" => Ok(()),
            _ => Err(format!("filter error: unrecognized boolean value {v}")),
        },
        T::Ipaddr => {
            if v.contains('.') {
                parse_value(v, T::Ipv4addr)
            } else {
                parse_value(v, T::Ipv6addr)
            }
        }
        T::Ipv4addr => v
            .parse::<Ipv4Addr>()
            .map(|_| ())
            .map_err(|_| format!("unrecognized IPv4 address {v}")),
        T::Ipv6addr => v
            .parse::<Ipv6Addr>()
            .map(|_| ())
            .map_err(|_| format!("unrecognized IPv6 address {v}")),
        T::Ipnet => {
            if v.contains('.') {
                parse_value(v, T::Ipv4net)
            } else {
                parse_value(v, T::Ipv6net)
            }
        }
        T::Ipv4net => {
            let Some((ip, mask)) = v.split_once('/') else {
                return Err(format!("unrecognized IP network {v}"));
            };
            ip.parse::<Ipv4Addr>()
                .map_err(|_| format!("unrecognized IP address {v}"))?;
            match scan_int(mask) {
                Some(n) if (0..=32).contains(&(n as u8 as i128)) => Ok(()),
                Some(_) => Err(format!("invalid netmask {mask}")),
                None => Err(format!("{mask} is not a valid number")),
            }
        }
        T::Ipv6net => {
            let (ip, mask) = v.split_once('/').unwrap_or((v, "128"));
            ip.parse::<Ipv6Addr>()
                .map_err(|_| format!("unrecognized IPv6 network {v}"))?;
            match scan_int(mask) {
                Some(n) if (0..=128).contains(&n) => Ok(()),
                _ => Err(format!("unrecognized IPv6 network {v}")),
            }
        }
        _ => Ok(()),
    }
}

fn unhex(v: &str) -> bool {
    let digits: Vec<u8> = v.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    !digits.is_empty() && digits.len().is_multiple_of(2) && digits.iter().all(u8::is_ascii_hexdigit)
}

impl Checker<'_> {
    fn visit(&mut self, e: &Expr) -> Result<(), CheckError> {
        match &e.kind {
            ExprKind::And(c) | ExprKind::Or(c) => c.iter().try_for_each(|c| self.visit(c)),
            ExprKind::Not(c) => self.visit(c),
            ExprKind::Identifier(id) => Err(err(
                format!("filter error: unexpected identifier '{id}'"),
                e.pos,
            )),
            ExprKind::Unary { left, .. } => {
                self.lhs(left, e.pos)?;
                Ok(())
            }
            ExprKind::Binary { left, op, right } => self.binary(left, *op, right, e.pos),
            _ => Err(err(
                "filter error: unexpected standalone value or field in filter",
                e.pos,
            )),
        }
    }

    fn lhs(&mut self, left: &Expr, pos: Pos) -> Result<Operand, CheckError> {
        match self.extract(left)? {
            Extracted::Check(o) => Ok(o),
            Extracted::Values(_) => Err(err(
                "filter error: missing field in left-hand of check",
                pos,
            )),
        }
    }

    fn binary(
        &mut self,
        left: &Expr,
        op: Operator,
        right: &Expr,
        pos: Pos,
    ) -> Result<(), CheckError> {
        let lhs = self.lhs(left, pos)?;
        op_supported(op, lhs.ty, lhs.is_list)
            .map_err(|m| err(format!("filter error: {m}"), pos))?;
        match self.extract(right)? {
            Extracted::Check(rhs) => {
                if matches!(op.op, CmpOp::PMatch | CmpOp::Regex) {
                    return Err(err(
                        format!(
                            "operator '{}' doesn't support right-hand side fields",
                            op_upper(op.op)
                        ),
                        pos,
                    ));
                }
                if matches!(
                    lhs.ty,
                    FieldType::Ipnet | FieldType::Ipv4net | FieldType::Ipv6net
                ) {
                    return Err(err(
                        "field type 'IPNET' doesn't support right-hand side fields",
                        pos,
                    ));
                }
                if lhs.flags & flags::NO_RHS != 0 {
                    return Err(err(
                        format!(
                            "field '{}' doesn't support right-hand side fields",
                            lhs.name
                        ),
                        pos,
                    ));
                }
                if rhs.flags & flags::NO_RHS != 0 {
                    return Err(err(
                        format!(
                            "field '{}' can't be used as a right-hand side field",
                            rhs.name
                        ),
                        pos,
                    ));
                }
                if lhs.ty != rhs.ty || lhs.is_list != rhs.is_list {
                    let l = if lhs.is_list { " (list)" } else { "" };
                    let r = if rhs.is_list { " (list)" } else { "" };
                    return Err(err(
                        format!(
                            "field '{}' has type '{}{l}' while the right-hand side field '{}' has incompatible type '{}{r}'",
                            lhs.name,
                            lhs.ty.name(),
                            rhs.name,
                            rhs.ty.name()
                        ),
                        pos,
                    ));
                }
            }
            Extracted::Values(values) => {
                for v in &values {
                    self.value_warnings(op.op, right.pos, v);
                    self.value(&lhs, op, v, pos)?;
                }
            }
        }
        Ok(())
    }

    fn value(&self, lhs: &Operand, op: Operator, v: &str, pos: Pos) -> Result<(), CheckError> {
        if matches!(op.op, CmpOp::BContains | CmpOp::BStartsWith) {
            if !unhex(v) {
                return Err(err(
                    "filter error: bcontains and bstartswith operator support hex strings only",
                    pos,
                ));
            }
            return Ok(());
        }
        if lhs.ty != FieldType::Bytebuf {
            parse_value(v, lhs.ty).map_err(|m| err(m, pos))?;
        }
        if op.op == CmpOp::Regex {
            if let Err(e) = regex::Regex::new(&re2_braces(v)) {
                let text = e.to_string();
                let reason = text
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("")
                    .trim()
                    .trim_start_matches("error: ");
                return Err(err(format!("invalid regex pattern: {reason}"), pos));
            }
        }
        match lhs.field {
            Some("evt.type") if !is_event_type_name(v.split('\0').next().unwrap_or("")) => {
                Err(CheckError {
                    message: format!("unknown event type {v}"),
                    pos,
                    unknown_field: true,
                })
            }
            Some("evt.around") if !op.op.is_equality() => {
                Err(err("evt.around supports only '=' comparison operator", pos))
            }
            _ => Ok(()),
        }
    }

    fn value_warnings(&mut self, op: CmpOp, pos: Pos, v: &str) {
        let stripped: String = v.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        if op == CmpOp::Regex {
            if let Some(m) = regex_warning(v) {
                self.warnings.push(CheckWarning { message: m, pos });
            }
        }
        if self.registry.resolve_full(&stripped).is_ok() {
            self.warnings.push(CheckWarning {
                message: format!("'{v}' may be a valid field misused as a const string value"),
                pos,
            });
        }
        for t in std::iter::once(Transformer::Val).chain(Transformer::FUNCTIONS) {
            let name = t.as_str();
            if stripped.len() >= name.len() + 2
                && stripped.starts_with(name)
                && stripped.as_bytes()[name.len()] == b'('
                && stripped.ends_with(')')
            {
                self.warnings.push(CheckWarning {
                    message: format!(
                        "'{v}' may be a valid field transformer misused as a const string value"
                    ),
                    pos,
                });
            }
        }
    }

    fn extract(&mut self, e: &Expr) -> Result<Extracted, CheckError> {
        match &e.kind {
            ExprKind::Value(v) => Ok(Extracted::Values(vec![v.clone()])),
            ExprKind::List(vs) => Ok(Extracted::Values(vs.clone())),
            ExprKind::TransformerList(children) => {
                for c in children {
                    self.extract(c)?;
                }
                Ok(Extracted::Check(raw_list()))
            }
            ExprKind::Field { name, arg } => {
                let r = self.registry.resolve(name, arg.as_deref()).map_err(|fe| {
                    let unknown = matches!(fe, FieldError::Unknown(_));
                    CheckError {
                        message: fe.to_string(),
                        pos: e.pos,
                        unknown_field: unknown,
                    }
                })?;
                let is_list = r.is_list();
                // Only the literal evt.type field (not `evt.type.is`) takes
                // event names as values.
                let field = match r.arg {
                    FieldArg::None => Some(r.field.name),
                    _ => None,
                };
                Ok(Extracted::Check(Operand {
                    name: r.field.name.to_string(),
                    ty: r.ty,
                    is_list,
                    flags: r.field.flags,
                    field,
                }))
            }
            ExprKind::Transform {
                transformer,
                args,
                arg,
            } => self.transform(*transformer, args, arg.as_deref(), e.pos),
            _ => Err(err(
                "filter error: unexpected expression in field position",
                e.pos,
            )),
        }
    }

    fn transform(
        &mut self,
        t: Transformer,
        args: &[Expr],
        arg: Option<&str>,
        pos: Pos,
    ) -> Result<Extracted, CheckError> {
        let mut operands = Vec::with_capacity(args.len());
        for a in args {
            operands.push(match self.extract(a)? {
                Extracted::Check(o) => o,
                Extracted::Values(v) if v.len() == 1 => raw_string(),
                Extracted::Values(v) if v.is_empty() => {
                    return Err(err(
                        format!(
                            "filter error: found null child node on '{}' transformer",
                            t.as_str()
                        ),
                        pos,
                    ))
                }
                Extracted::Values(_) => raw_list(),
            });
        }
        if t == Transformer::Val {
            if arg.is_some() {
                return Err(err(
                    "filter error: transformer 'val' does not support field arguments",
                    pos,
                ));
            }
            let mut o = operands.into_iter().next().unwrap_or_else(raw_string);
            o.field = None;
            return Ok(Extracted::Check(o));
        }
        if operands.len() == 1 {
            if arg.is_some() {
                return Err(err(
                    format!(
                        "filter error: transformer '{}' does not support field arguments",
                        t.as_str()
                    ),
                    pos,
                ));
            }
            let mut o = operands.into_iter().next().unwrap_or_else(raw_string);
            if t.is_multivalue() {
                return Err(err(
                    format!(
                        "transformer '{}' requires more than one argument",
                        t.as_str()
                    ),
                    pos,
                ));
            }
            if o.flags & flags::NO_TRANSFORMER != 0 {
                return Err(err(
                    format!("field '{}' does not support transformers", o.name),
                    pos,
                ));
            }
            let Some((ty, list)) = transformed_type(t, o.ty, o.is_list) else {
                return Err(err(
                    format!(
                        "can't add field transformer: type '{}' is not supported by '{}' transformer applied on {}field '{}'",
                        o.ty.name(),
                        t.as_str(),
                        if o.is_list { "list " } else { "" },
                        o.name
                    ),
                    pos,
                ));
            };
            o.ty = ty;
            o.is_list = list;
            o.field = None;
            return Ok(Extracted::Check(o));
        }
        let types: Vec<(FieldType, bool)> = operands.iter().map(|o| (o.ty, o.is_list)).collect();
        let fail = |m: &str| Err(err(m.to_string(), pos));
        let result_list = match t {
            Transformer::Join => {
                if types.len() != 2 {
                    return fail("join() requires exactly 2 arguments: separator and list");
                }
                if types[0].1 {
                    return fail(
                        "join() first argument (separator) must be a single value, not a list",
                    );
                }
                if !types[1].1 {
                    return fail("join() second argument must be a list");
                }
                if arg.is_some() {
                    return fail("transformer 'join' does not support field arguments");
                }
                false
            }
            Transformer::Concat => {
                if types.len() < 2 {
                    return fail("concat() requires at least 2 arguments");
                }
                if types
                    .iter()
                    .any(|(ty, list)| *ty != FieldType::Charbuf || *list)
                {
                    return fail("concat() arguments must be strings");
                }
                if arg.is_some() {
                    return fail("transformer 'concat' does not support field arguments");
                }
                false
            }
            Transformer::Getopt => {
                if types.len() != 2 {
                    return fail("getopt() requires exactly 2 arguments: args list and optstring");
                }
                if !types[0].1 {
                    return fail("getopt() first argument must be a list");
                }
                if types[1].1 {
                    return fail("getopt() second argument (optstring) must be a single value");
                }
                if types[0].0 != FieldType::Charbuf || types[1].0 != FieldType::Charbuf {
                    return fail("getopt() arguments must be strings");
                }
                match arg {
                    Some(a) if a.len() != 1 => {
                        return fail("getopt() field argument must be a single option character")
                    }
                    Some(_) => false,
                    None => true,
                }
            }
            _ => return fail("unknown multivalue transformer"),
        };
        Ok(Extracted::Check(Operand {
            name: "INTERNAL".into(),
            ty: FieldType::Charbuf,
            is_list: result_list,
            flags: 0,
            field: None,
        }))
    }
}

/// RE2 reads a `{` that does not start a counted repetition (`{n}`,
/// `{n,}`, `{n,m}`) as a literal; Rust's regex syntax refuses it. Escapes
/// such braces so both engines agree on what is valid.
pub fn re2_braces(pattern: &str) -> String {
    let b = pattern.as_bytes();
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' && i + 1 < b.len() {
            let ch_len = pattern[i + 1..]
                .chars()
                .next()
                .map(char::len_utf8)
                .unwrap_or(1);
            out.push_str(&pattern[i..i + 1 + ch_len]);
            i += 1 + ch_len;
            continue;
        }
        if c == b'{' {
            let rest = &pattern[i + 1..];
            let close = rest.find('}');
            let valid = close.is_some_and(|e| {
                let inner = &rest[..e];
                let (lo, hi) = inner.split_once(',').unwrap_or((inner, "0"));
                !lo.is_empty()
                    && lo.bytes().all(|d| d.is_ascii_digit())
                    && hi.bytes().all(|d| d.is_ascii_digit())
            });
            if !valid {
                out.push_str("\\{");
                i += 1;
                continue;
            }
        }
        let ch = pattern[i..].chars().next().unwrap_or('\0');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// libsinsp's hint that a regex has no special characters.
fn regex_warning(v: &str) -> Option<String> {
    const SPECIAL: &[u8] = b".+*?^$()[]{}|\\";
    const OCCURRENCE: &[u8] = b"+*?";
    let b = v.as_bytes();
    let len = b.len();
    let mut i = 0;
    while i < len {
        if (i == 0 && b[i] == b'^') || (i == len - 1 && b[i] == b'$') {
            i += 1;
            continue;
        }
        if ((i == 0 && len > 1) || (len >= 2 && i == len - 2))
            && b[i] == b'.'
            && b.get(i + 1).is_some_and(|c| OCCURRENCE.contains(c))
        {
            i += 2;
            continue;
        }
        if SPECIAL.contains(&b[i]) {
            return None;
        }
        i += 1;
    }
    Some(format!(
        "regex check with '{v}' may be optimized with simpler operators such as '=', 'contains', 'startswith', 'endswith'"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn compile(s: &str) -> Result<Vec<CheckWarning>, CheckError> {
        check(&parse(s).unwrap(), &FieldRegistry::syscall())
    }

    #[test]
    fn types_and_operators() {
        assert!(compile("proc.name = bash and fd.num >= 0").is_ok());
        assert!(compile("proc.pid contains 1").is_err());
        assert!(compile("evt.type = nosuchevent").unwrap_err().unknown_field);
        assert!(compile("nope.x = 1").unwrap_err().unknown_field);
        assert!(compile("thread.cpu = 1.0").is_err());
        assert!(compile("fd.ip = 127.0.0.1 and fd.net = 10.0.0.0/8").is_ok());
        assert!(compile("proc.name = val(proc.pname)").is_ok());
        assert!(compile("syscall.type = val(evt.is_wait)").is_err());
        assert!(compile("toupper(evt.rawres) = -1").is_err());
        assert!(compile("proc.name regex '^ba(sh|zsh)$'").is_ok());
        assert!(compile("proc.name regex 'x{2'").is_ok());
        assert_eq!(re2_braces("a{2}b{c\\{"), "a{2}b\\{c\\{");
        let e = compile("proc.name regex 'ba(sh'").unwrap_err();
        assert!(e.message.starts_with("invalid regex pattern: "), "{e}");
        let w = compile("proc.name = proc.pname").unwrap();
        assert_eq!(w.len(), 1, "{w:?}");
    }
}
