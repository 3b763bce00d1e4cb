//! The field registry: every field Falco 0.44.1 offers for the `syscall`
//! source (libsinsp's classes plus the container plugin's) and for
//! `k8s_audit` (the k8saudit and json plugins), with type, flags, print
//! format and description, and the name resolution rules libsinsp applies
//! (longest match, arguments in brackets or after a dot).

#[rustfmt::skip]
mod gen_fields;
pub mod listing;

use std::fmt;

use peregrine_event::table::{self, ParamType};

/// Field value types, libscap's `PT_*` param types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    None,
    Int8,
    Int16,
    Int32,
    Int64,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Charbuf,
    Bytebuf,
    Errno,
    Sockaddr,
    Socktuple,
    Fd,
    Pid,
    Fdlist,
    Fspath,
    Syscallid,
    Sigtype,
    Reltime,
    Abstime,
    Port,
    L4proto,
    Sockfamily,
    Bool,
    Ipv4addr,
    Dyn,
    Flags8,
    Flags16,
    Flags32,
    Uid,
    Gid,
    Double,
    Sigset,
    Charbufarray,
    CharbufPairArray,
    Ipv4net,
    Ipv6addr,
    Ipv6net,
    Ipaddr,
    Ipnet,
    Mode,
    Fsrelpath,
    Enumflags8,
    Enumflags16,
    Enumflags32,
}

/// An event param's type as a field type (`evt.arg.*`); the 32-bit fd and
/// pid forms read as their 64-bit ones.
impl From<ParamType> for FieldType {
    fn from(t: ParamType) -> FieldType {
        use FieldType::*;
        use ParamType as P;
        match t {
            P::None => None,
            P::Int8 => Int8,
            P::Int16 => Int16,
            P::Int32 => Int32,
            P::Int64 => Int64,
            P::Uint8 => Uint8,
            P::Uint16 => Uint16,
            P::Uint32 => Uint32,
            P::Uint64 => Uint64,
            P::Charbuf => Charbuf,
            P::Bytebuf => Bytebuf,
            P::Errno => Errno,
            P::Sockaddr => Sockaddr,
            P::Socktuple => Socktuple,
            P::Fd => Fd,
            P::Pid => Pid,
            P::Fdlist => Fdlist,
            P::Fspath => Fspath,
            P::Syscallid => Syscallid,
            P::Sigtype => Sigtype,
            P::Reltime => Reltime,
            P::Abstime => Abstime,
            P::Port => Port,
            P::L4proto => L4proto,
            P::Sockfamily => Sockfamily,
            P::Bool => Bool,
            P::Ipv4addr => Ipv4addr,
            P::Dyn => Dyn,
            P::Flags8 => Flags8,
            P::Flags16 => Flags16,
            P::Flags32 => Flags32,
            P::Uid => Uid,
            P::Gid => Gid,
            P::Double => Double,
            P::Sigset => Sigset,
            P::Charbufarray => Charbufarray,
            P::CharbufPairArray => CharbufPairArray,
            P::Ipv4net => Ipv4net,
            P::Ipv6addr => Ipv6addr,
            P::Ipv6net => Ipv6net,
            P::Ipaddr => Ipaddr,
            P::Ipnet => Ipnet,
            P::Mode => Mode,
            P::Fsrelpath => Fsrelpath,
            P::Enumflags8 => Enumflags8,
            P::Enumflags16 => Enumflags16,
            P::Enumflags32 => Enumflags32,
            P::Fd32 => Fd,
            P::Pid32 => Pid,
        }
    }
}

impl FieldType {
    /// The name libsinsp prints (`param_type_to_string`).
    pub fn name(self) -> &'static str {
        use FieldType::*;
        match self {
            None => "NONE",
            Int8 => "INT8",
            Int16 => "INT16",
            Int32 => "INT32",
            Int64 => "INT64",
            Uint8 => "UINT8",
            Uint16 => "UINT16",
            Uint32 => "UINT32",
            Uint64 => "UINT64",
            Charbuf => "CHARBUF",
            Bytebuf => "BYTEBUF",
            Errno => "ERRNO",
            Sockaddr => "SOCKADDR",
            Socktuple => "SOCKTUPLE",
            Fd => "FD",
            Pid => "PID",
            Fdlist => "FDLIST",
            Fspath => "FSPATH",
            Syscallid => "SYSCALLID",
            Sigtype => "SIGTYPE",
            Reltime => "RELTIME",
            Abstime => "ABSTIME",
            Port => "PORT",
            L4proto => "L4PROTO",
            Sockfamily => "SOCKFAMILY",
            Bool => "BOOL",
            Ipv4addr => "IPV4ADDR",
            Dyn => "DYNAMIC",
            Flags8 => "FLAGS8",
            Flags16 => "FLAGS16",
            Flags32 => "FLAGS32",
            Uid => "UID",
            Gid => "GID",
            Double => "DOUBLE",
            Sigset => "SIGSET",
            Charbufarray => "CHARBUFARRAY",
            CharbufPairArray => "CHARBUF_PAIR_ARRAY",
            Ipv4net => "IPV4NET",
            Ipv6addr | Ipv6net => "<NA>",
            Ipaddr => "IPADDR",
            Ipnet => "IPNET",
            Mode => "MODE",
            Fsrelpath => "FSRELPATH",
            Enumflags8 => "ENUMFLAGS8",
            Enumflags16 => "ENUMFLAGS16",
            Enumflags32 => "ENUMFLAGS32",
        }
    }

    /// String-like types (`CHARBUF`, `FSPATH`, `FSRELPATH`).
    pub fn is_string(self) -> bool {
        matches!(
            self,
            FieldType::Charbuf | FieldType::Fspath | FieldType::Fsrelpath
        )
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How numeric values print (`PF_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrintFormat {
    Na,
    Dec,
    Hex,
    /// Ten digits, zero padded (nanosecond parts).
    PaddedDec,
    Id,
    Dir,
    Oct,
}

/// Field flags, libsinsp's `EPF_*` bits.
pub mod flags {
    pub const NONE: u32 = 0;
    pub const FILTER_ONLY: u32 = 1 << 0;
    pub const PRINT_ONLY: u32 = 1 << 1;
    pub const ARG_REQUIRED: u32 = 1 << 2;
    pub const TABLE_ONLY: u32 = 1 << 3;
    pub const INFO: u32 = 1 << 4;
    pub const CONVERSATION: u32 = 1 << 5;
    pub const IS_LIST: u32 = 1 << 6;
    pub const ARG_ALLOWED: u32 = 1 << 7;
    pub const ARG_INDEX: u32 = 1 << 8;
    pub const ARG_KEY: u32 = 1 << 9;
    pub const DEPRECATED: u32 = 1 << 10;
    pub const NO_TRANSFORMER: u32 = 1 << 11;
    pub const NO_RHS: u32 = 1 << 12;
    pub const NO_PTR_STABILITY: u32 = 1 << 13;
    pub const FORMAT_SUGGESTED: u32 = 1 << 14;
}

/// One field.
#[derive(Debug, PartialEq, Eq)]
pub struct FieldInfo {
    pub name: &'static str,
    pub ty: FieldType,
    pub flags: u32,
    pub format: PrintFormat,
    pub display: &'static str,
    pub desc: &'static str,
}

impl FieldInfo {
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }
    pub fn is_list(&self) -> bool {
        self.has(flags::IS_LIST)
    }
    pub fn is_deprecated(&self) -> bool {
        self.has(flags::DEPRECATED)
    }
}

/// A class of fields (`evt`, `process`, `fd`, `container (plugin)`…).
#[derive(Debug, PartialEq, Eq)]
pub struct ClassInfo {
    pub name: &'static str,
    pub shortdesc: &'static str,
    pub desc: &'static str,
    /// Not shown in listings.
    pub hidden: bool,
    pub fields: &'static [FieldInfo],
}

/// How a class parses field names with arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parsing {
    Generic,
    Event,
    Thread,
    Fd,
    Plugin,
}

/// The argument of a resolved field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldArg {
    None,
    /// `proc.aname[2]`, `evt.arg[0]`, `fd.types[3]`.
    Index(i64),
    /// `proc.env[HOME]`, `k8s.pod.label[app]`, `container.mount[/x]`.
    Key(String),
    /// `evt.arg.fd`, `evt.rawarg.res`: an event parameter name.
    Param(&'static str),
    /// `evt.type.is.open` (event code, or `u32::MAX`-style numeric id).
    EventType(u32),
}

/// A field reference resolved against a source's registry.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedField {
    pub class: &'static ClassInfo,
    pub field: &'static FieldInfo,
    pub arg: FieldArg,
    /// The value type (`evt.rawarg.X` takes its parameter's type).
    pub ty: FieldType,
}

impl ResolvedField {
    pub fn is_list(&self) -> bool {
        self.field.is_list()
    }
}

/// Why a field name did not resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldError {
    /// No such field (Falco: "filter_check called with nonexistent field X").
    Unknown(String),
    /// The field exists but its argument is wrong.
    BadArgument(String),
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldError::Unknown(name) => {
                write!(f, "filter_check called with nonexistent field {name}")
            }
            FieldError::BadArgument(msg) => f.write_str(msg),
        }
    }
}

/// The fields of one event source.
#[derive(Debug, Clone)]
pub struct FieldRegistry {
    source: &'static str,
    classes: Vec<(&'static ClassInfo, Parsing)>,
    /// First name segments of every field (`proc`, `fd`, `k8s`…): a name
    /// starting otherwise cannot resolve.
    prefixes: Vec<&'static str>,
}

fn prefixes_of(classes: &[(&'static ClassInfo, Parsing)]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for (c, _) in classes {
        for f in c.fields {
            let p = f.name.split('.').next().unwrap_or(f.name);
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

impl FieldRegistry {
    /// The `syscall` source: libsinsp's classes and the container plugin's
    /// (Falco 0.44 gets `container.*`/`k8s.*` from that plugin; Peregrine
    /// provides them natively).
    pub fn syscall() -> FieldRegistry {
        use gen_fields::*;
        FieldRegistry::new(
            "syscall",
            vec![
                (&GEN_EVENT, Parsing::Generic),
                (&EVENT, Parsing::Event),
                (&THREAD, Parsing::Thread),
                (&USER, Parsing::Generic),
                (&GROUP, Parsing::Generic),
                (&FD, Parsing::Fd),
                (&FSPATH, Parsing::Generic),
                (&UTILS, Parsing::Generic),
                (&FDLIST, Parsing::Generic),
                (&CONTAINER, Parsing::Plugin),
            ],
        )
    }

    /// The `k8s_audit` source: the generic event fields plus the k8saudit
    /// plugin's `ka.*` and the json plugin's `json.*`/`jevt.*`.
    pub fn k8s_audit() -> FieldRegistry {
        use gen_fields::*;
        FieldRegistry::new(
            "k8s_audit",
            vec![
                (&GEN_EVENT, Parsing::Generic),
                (&K8SAUDIT, Parsing::Plugin),
                (&JSON, Parsing::Plugin),
            ],
        )
    }

    fn new(source: &'static str, classes: Vec<(&'static ClassInfo, Parsing)>) -> FieldRegistry {
        let prefixes = prefixes_of(&classes);
        FieldRegistry {
            source,
            classes,
            prefixes,
        }
    }

    /// The registry of a known source.
    pub fn for_source(source: &str) -> Option<FieldRegistry> {
        match source {
            "syscall" => Some(FieldRegistry::syscall()),
            "k8s_audit" => Some(FieldRegistry::k8s_audit()),
            _ => None,
        }
    }

    pub fn source(&self) -> &'static str {
        self.source
    }

    /// The classes in listing order.
    pub fn classes(&self) -> impl Iterator<Item = &'static ClassInfo> + '_ {
        self.classes.iter().map(|(c, _)| *c)
    }

    /// Every field (hidden classes included).
    pub fn fields(&self) -> impl Iterator<Item = &'static FieldInfo> + '_ {
        self.classes().flat_map(|c| c.fields.iter())
    }

    /// Whether `name[arg]` resolves.
    pub fn is_valid(&self, name: &str, arg: Option<&str>) -> bool {
        self.resolve(name, arg).is_ok()
    }

    /// Resolves a field as a filter uses it (`name` plus the bracketed
    /// argument, if any), following libsinsp: the first class with a
    /// matching prefix decides; it must account for the whole name.
    pub fn resolve(&self, name: &str, arg: Option<&str>) -> Result<ResolvedField, FieldError> {
        let full = match arg {
            Some(a) => format!("{name}[{a}]"),
            None => name.to_string(),
        };
        self.resolve_full(&full)
    }

    /// Resolves a full field string such as `proc.aname[2]` or
    /// `evt.arg.fd` (the form of `%field` in outputs).
    pub fn resolve_full(&self, full: &str) -> Result<ResolvedField, FieldError> {
        let first = full.split('.').next().unwrap_or(full);
        if !full.starts_with("arg")
            && (first.len() == full.len() || !self.prefixes.contains(&first))
        {
            return Err(FieldError::Unknown(full.to_string()));
        }
        for (class, parsing) in &self.classes {
            let parsed = match parsing {
                Parsing::Generic => generic(class, full),
                Parsing::Event => event(class, full)?,
                Parsing::Thread => thread(class, full)?,
                Parsing::Fd => fd(class, full)?,
                Parsing::Plugin => plugin(class, full)?,
            };
            let Some(p) = parsed else { continue };
            if p.len != full.len() {
                return Err(FieldError::Unknown(full.to_string()));
            }
            let ty = match p.arg {
                FieldArg::Param(_) if p.field.name == "evt.rawarg" => p.param_ty,
                _ => p.field.ty,
            };
            return Ok(ResolvedField {
                class,
                field: p.field,
                arg: p.arg,
                ty,
            });
        }
        Err(FieldError::Unknown(full.to_string()))
    }

    /// Looks a field up by its exact name (no argument).
    pub fn field(&self, name: &str) -> Option<&'static FieldInfo> {
        self.fields().find(|f| f.name == name)
    }
}

struct Parsed {
    field: &'static FieldInfo,
    len: usize,
    arg: FieldArg,
    param_ty: FieldType,
}

impl Parsed {
    fn plain(field: &'static FieldInfo, len: usize) -> Parsed {
        Parsed {
            field,
            len,
            arg: FieldArg::None,
            param_ty: FieldType::None,
        }
    }
}

type ParseResult = Result<Option<Parsed>, FieldError>;

fn bad(msg: impl Into<String>) -> FieldError {
    FieldError::BadArgument(msg.into())
}

/// Longest field name that prefixes `s`.
fn generic(class: &'static ClassInfo, s: &str) -> Option<Parsed> {
    class
        .fields
        .iter()
        .filter(|f| s.starts_with(f.name))
        .max_by_key(|f| f.name.len())
        .map(|f| Parsed::plain(f, f.name.len()))
}

fn named(class: &'static ClassInfo, name: &str) -> Option<&'static FieldInfo> {
    class.fields.iter().find(|f| f.name == name)
}

/// `sscanf("%d%c")`-style integer: optional blanks and sign, digits, then
/// nothing else.
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
    let v: i128 = digits.parse().ok().unwrap_or(i128::MAX);
    Some(if neg { -v } else { v })
}

fn number(s: &str) -> Result<i128, FieldError> {
    scan_int(s).ok_or_else(|| bad(format!("{s} is not a valid number")))
}

/// `[N]` right after `name` in `val`: the index and the length consumed.
fn bracket_index(name: &str, val: &str) -> Result<(i128, usize), FieldError> {
    let rest = &val[name.len() + 1..];
    let close = rest.find(']').unwrap_or(rest.len());
    Ok((number(&rest[..close])?, name.len() + 1 + close + 1))
}

/// The longest event param name `s` starts with, and its type where the
/// event table first defines it.
fn longest_param(s: &str) -> Option<(&'static str, FieldType)> {
    let mut best: Option<(&'static str, FieldType)> = None;
    for p in table::EVENTS.iter().flat_map(|e| e.params) {
        if s.starts_with(p.name) && best.is_none_or(|(n, _)| p.name.len() > n.len()) {
            best = Some((p.name, p.ty.into()));
        }
    }
    best
}

fn event(class: &'static ClassInfo, val: &str) -> ParseResult {
    let field_at = |name: &str| named(class, name).ok_or_else(|| bad("internal field table error"));
    let arg_field = |name: &str, raw: bool| -> ParseResult {
        let field = field_at(name)?;
        match val.as_bytes().get(name.len()) {
            Some(b'[') => {
                if raw {
                    return Err(bad("evt.arg fields must be expressed explicitly"));
                }
                let (n, len) = bracket_index(name, val)?;
                let arg = if name == "evt.around" {
                    FieldArg::Index(n.clamp(0, i64::MAX as i128) as i64)
                } else {
                    FieldArg::Index(n as i32 as i64)
                };
                Ok(Some(Parsed {
                    field,
                    len,
                    arg,
                    param_ty: FieldType::None,
                }))
            }
            Some(b'.') => {
                if name == "evt.around" {
                    return Err(bad("wrong syntax for evt.around"));
                }
                let rest = &val[name.len() + 1..];
                let (param, ty) = longest_param(rest)
                    .ok_or_else(|| bad(format!("unknown event argument {rest}")))?;
                Ok(Some(Parsed {
                    field,
                    len: name.len() + 1 + param.len(),
                    arg: FieldArg::Param(param),
                    param_ty: ty,
                }))
            }
            _ => Err(bad(format!("filter syntax error: {val}"))),
        }
    };
    if val.starts_with("evt.arg") && !val.starts_with("evt.args") {
        return arg_field("evt.arg", false);
    }
    if val.starts_with("evt.rawarg") {
        return arg_field("evt.rawarg", true);
    }
    if val.starts_with("evt.around") {
        return arg_field("evt.around", false);
    }
    if val.starts_with("evt.latency") {
        return Ok(generic(class, val));
    }
    if val.starts_with("evt.abspath") {
        let field = field_at("evt.abspath")?;
        let (len, idx) = if val.starts_with("evt.abspath.src") {
            (15, 1)
        } else if val.starts_with("evt.abspath.dst") {
            (15, 2)
        } else {
            (11, 0)
        };
        return Ok(Some(Parsed {
            field,
            len,
            arg: FieldArg::Index(idx),
            param_ty: FieldType::None,
        }));
    }
    if val.starts_with("evt.type.is") {
        let field = field_at("evt.type.is")?;
        if val.as_bytes().get(11) != Some(&b'.') {
            return Err(bad(format!("filter syntax error: {val}")));
        }
        let itype = &val[12..];
        let (len, code) = if let Some(n) = scan_int(itype).filter(|n| *n >= 0) {
            (val.len(), n.min(u32::MAX as i128) as u32)
        } else if let Some(i) = table::EVENTS.iter().position(|e| e.name == itype) {
            (val.len(), i as u32)
        } else {
            (0, 0)
        };
        return Ok(Some(Parsed {
            field,
            len,
            arg: FieldArg::EventType(code),
            param_ty: FieldType::None,
        }));
    }
    Ok(generic(class, val))
}

fn thread(class: &'static ClassInfo, val: &str) -> ParseResult {
    const INDEXED: [&str; 6] = [
        "proc.apid",
        "proc.aname",
        "proc.aexepath",
        "proc.aexe",
        "proc.acmdline",
        "proc.aargs",
    ];
    if val.starts_with("arg") {
        return Err(bad("filter error: proc.arg filter not implemented yet"));
    }
    let keyed = ["proc.env", "proc.aenv"];
    let candidates = [
        "proc.apid",
        "proc.aname",
        "proc.aexepath",
        "proc.aexe",
        "proc.acmdline",
        "proc.aargs",
        "proc.env",
        "proc.args",
        "proc.aenv",
    ];
    if let Some(name) = candidates.iter().find(|n| val.starts_with(**n)) {
        let Some(field) = named(class, name) else {
            return Ok(None);
        };
        // A missing or malformed argument falls back to the bare field (and
        // then fails the whole-name check if anything follows).
        let with_arg = if val.as_bytes().get(name.len()) == Some(&b'[') {
            let rest = &val[name.len() + 1..];
            rest.find(']').and_then(|close| {
                let inner = &rest[..close];
                let len = name.len() + 1 + close + 1;
                if keyed.contains(name) {
                    let arg = match scan_int(inner)
                        .filter(|_| !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()))
                    {
                        Some(n) => FieldArg::Index(n as i32 as i64),
                        None => FieldArg::Key(inner.to_string()),
                    };
                    Some((arg, len))
                } else if INDEXED.contains(name) || *name == "proc.args" {
                    scan_int(inner).map(|n| (FieldArg::Index(n as i32 as i64), len))
                } else {
                    None
                }
            })
        } else {
            None
        };
        let (arg, len) = with_arg.unwrap_or((FieldArg::None, name.len()));
        return Ok(Some(Parsed {
            field,
            len,
            arg,
            param_ty: FieldType::None,
        }));
    }
    if val.starts_with("thread.cgroup") && !val.starts_with("thread.cgroups") {
        let Some(field) = named(class, "thread.cgroup") else {
            return Ok(None);
        };
        if val.as_bytes().get(13) != Some(&b'.') {
            return Err(bad(format!("filter syntax error: {val}")));
        }
        let rest = &val[14..];
        let n = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphabetic() || *b == b'_')
            .count();
        return Ok(Some(Parsed {
            field,
            len: 14 + n,
            arg: FieldArg::Key(rest[..n].to_string()),
            param_ty: FieldType::None,
        }));
    }
    Ok(generic(class, val))
}

fn fd(class: &'static ClassInfo, val: &str) -> ParseResult {
    if val.starts_with("fd.types") {
        let Some(field) = named(class, "fd.types") else {
            return Ok(None);
        };
        if val.as_bytes().get(8) == Some(&b'[') {
            let rest = &val[9..];
            let close = rest.find(']').unwrap_or(rest.len());
            let n = scan_int(&rest[..close])
                .ok_or_else(|| bad(format!("{} is not a valid number", &rest[..close])))?;
            return Ok(Some(Parsed {
                field,
                len: 9 + close + 1,
                arg: FieldArg::Index(n.clamp(i64::MIN as i128, i64::MAX as i128) as i64),
                param_ty: FieldType::None,
            }));
        }
        return Ok(Some(Parsed::plain(field, 8)));
    }
    Ok(generic(class, val))
}

fn plugin(class: &'static ClassInfo, val: &str) -> ParseResult {
    let Some(mut p) = generic(class, val) else {
        return Ok(None);
    };
    let val = val.split(' ').next().unwrap_or(val).trim();
    let field = p.field;
    let mut arg_present = false;
    if let Some(arg_pos) = val.find('[') {
        if p.len != arg_pos {
            return Ok(None);
        }
        let rest = &val[arg_pos + 1..];
        if rest.is_empty() {
            return Err(bad(format!(
                "filter '{val}': {} terminates with incomplete argument brackets",
                field.name
            )));
        }
        let Some(arg_len) = rest.find(']') else {
            return Err(bad(format!(
                "filter '{val}': {} has unbalanced argument brackets",
                field.name
            )));
        };
        let argstr = &rest[..arg_len];
        arg_present = true;
        if !field.has(flags::ARG_ALLOWED | flags::ARG_REQUIRED) {
            return Err(bad(format!(
                "filter '{val}': {} does not allow nor require an argument but one is provided: {argstr}",
                field.name
            )));
        }
        let index = if field.has(flags::ARG_INDEX) {
            scan_int(argstr)
                .filter(|_| argstr.bytes().all(|b| b.is_ascii_digit()) && !argstr.is_empty())
        } else {
            None
        };
        p.arg = match index {
            Some(n) => FieldArg::Index(n.clamp(0, i64::MAX as i128) as i64),
            None if field.has(flags::ARG_KEY) => FieldArg::Key(argstr.to_string()),
            None if field.has(flags::ARG_INDEX) => {
                return Err(bad(format!(
                    "filter '{val}': {} needs a numeric argument: '{argstr}' is not a valid number",
                    field.name
                )))
            }
            None => FieldArg::Key(argstr.to_string()),
        };
        p.len = arg_pos + arg_len + 2;
    }
    if !arg_present && field.has(flags::ARG_REQUIRED) {
        return Err(bad(format!(
            "filter '{val}': {} requires an argument but none provided",
            field.name
        )));
    }
    Ok(Some(p))
}

impl FieldRegistry {
    /// Adds a class of plain fields (no argument parsing) at the end, e.g.
    /// test fields.
    pub fn push_class(&mut self, class: &'static ClassInfo) {
        self.classes.push((class, Parsing::Generic));
        self.prefixes = prefixes_of(&self.classes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_libsinsp() {
        let r = FieldRegistry::syscall();
        assert_eq!(
            r.resolve("proc.name", None).unwrap().field.name,
            "proc.name"
        );
        let a = r.resolve("proc.aname", Some("2")).unwrap();
        assert_eq!(a.arg, FieldArg::Index(2));
        assert!(matches!(
            r.resolve("proc.name", Some("x")),
            Err(FieldError::Unknown(_))
        ));
        let raw = r.resolve_full("evt.rawarg.res").unwrap();
        assert_eq!(raw.arg, FieldArg::Param("res"));
        assert_eq!(r.resolve_full("evt.arg.fd").unwrap().ty, FieldType::Charbuf);
        assert!(r.resolve("k8s.pod.label", Some("app")).is_ok());
        assert!(r.resolve("k8s.pod.label", None).is_err());
        assert!(r.resolve("container.id", None).is_ok());
        assert!(r.resolve("nope.field", None).is_err());
        let k = FieldRegistry::k8s_audit();
        assert!(k.resolve("ka.user.name", None).is_ok());
        assert!(k.resolve("jevt.value", Some("/x")).is_ok());
    }
}
