//! Text rendering of params the way libsinsp prints them (`evt.args`,
//! `evt.arg.NAME`): `fd=3(<f>/etc/ld.so.cache)`, `res=-2(ENOENT)`,
//! `flags=4097(O_RDONLY|O_CLOEXEC)`, socket tuples, buffers with dots for
//! unprintable bytes.
//!
//! Each param renders as a raw text and an optional resolved text (shown in
//! parentheses). Names that need state (fd names, process names, users, the
//! working directory) come from an [`ArgContext`]; [`NoContext`] prints what
//! the event alone says.

use std::fmt::Write;

use crate::names::{errno_name, signal_name};
use crate::net::{write_lossy, SockAddr, SockTuple};
use crate::param::{FdList, Param};
use crate::raw::RawEvent;
use crate::table::{self, NameValue, ParamAux, ParamType, PrintFmt};

/// `AT_FDCWD` as libscap encodes it.
pub const PPM_AT_FDCWD: i64 = -100;

/// What an fd resolves to, for `fd=3(<f>/etc/passwd)`.
#[derive(Debug, Clone, Copy)]
pub struct FdView<'a> {
    /// `f` file, `d` directory, `4`/`6` sockets, `u` unix, `p` pipe, …
    pub type_char: char,
    /// `t`/`u`/`i`/`r` for TCP/UDP/ICMP/raw sockets.
    pub l4_char: Option<char>,
    pub name: &'a str,
}

/// State the formatter may consult. Every method has a "nothing known"
/// default, so a context implements only what it tracks.
pub trait ArgContext {
    /// Whether the thread is known at all. libsinsp resolves fds (even
    /// negative ones to errno names) only for known threads.
    fn thread_known(&self, _tid: u64) -> bool {
        false
    }
    /// The fd as seen by thread `tid`.
    fn fd(&self, _tid: u64, _fd: i64) -> Option<FdView<'_>> {
        None
    }
    /// Command name of a thread/process id (for `PID` params).
    fn comm(&self, _pid: i64) -> Option<&str> {
        None
    }
    /// Working directory of `tid`, ending in `/`.
    fn cwd(&self, _tid: u64) -> Option<&str> {
        None
    }
    fn user_name(&self, _tid: u64, _uid: u32) -> Option<&str> {
        None
    }
    fn group_name(&self, _tid: u64, _gid: u32) -> Option<&str> {
        None
    }
    /// Longest rendering of a byte buffer before it is cut with `...`
    /// (sysdig uses 80 unless verbose); 0 = no limit.
    fn max_buffer_len(&self) -> usize {
        0
    }
}

/// An [`ArgContext`] that knows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoContext;
impl ArgContext for NoContext {}

/// Reusable output buffers for one param.
#[derive(Debug, Default, Clone)]
pub struct Rendered {
    pub raw: String,
    pub resolved: String,
}

impl Rendered {
    pub fn clear(&mut self) {
        self.raw.clear();
        self.resolved.clear();
    }
    /// What `evt.arg.NAME` shows: the resolved text when there is one.
    pub fn best(&self) -> &str {
        if self.resolved.is_empty() {
            &self.raw
        } else {
            &self.resolved
        }
    }
}

/// Renders param `p` of `ev` into `out` (cleared first).
pub fn render_param(ev: &RawEvent<'_>, p: Param<'_>, ctx: &dyn ArgContext, out: &mut Rendered) {
    out.clear();
    let r = &mut out.raw;
    let res = &mut out.resolved;
    let outer_fmt = p.info.fmt;
    let outer_aux = p.info.aux;

    if p.bytes.is_empty() {
        match p.info.ty {
            ParamType::Charbuf | ParamType::Fspath | ParamType::Fsrelpath => {
                r.push_str("<NA>");
            }
            ParamType::Bytebuf
            | ParamType::Socktuple
            | ParamType::Fdlist
            | ParamType::Charbufarray
            | ParamType::CharbufPairArray
            | ParamType::Dyn => r.push_str("NULL"),
            _ => r.push_str("<NA>"),
        }
        return;
    }

    let p = if p.info.ty == ParamType::Dyn {
        let inner = p.resolve_dyn();
        if inner.info.ty == ParamType::Dyn {
            r.push_str("INVALID DYNAMIC PARAMETER");
            return;
        }
        inner
    } else {
        p
    };
    let b = p.bytes;
    let tid = ev.tid();

    use ParamType as T;
    let fixed_ok = p.info.ty.fixed_size().is_none_or(|n| b.len() == n);
    if !fixed_ok {
        let _ = write!(r, "<invalid {} of {} bytes>", p.info.ty.name(), b.len());
        return;
    }
    match p.info.ty {
        T::Int8 | T::Int16 | T::Int32 | T::Int64 => {
            write_int(r, outer_fmt, p.as_i64().unwrap_or(0), b.len());
        }
        T::Uint8 | T::Uint16 | T::Uint32 | T::Uint64 => {
            write_uint(r, outer_fmt, p.as_u64().unwrap_or(0), b.len());
        }
        T::Fd | T::Fd32 => {
            let fd = p.as_i64().unwrap_or(0);
            let _ = write!(r, "{fd}");
            resolve_fd(ctx, tid, fd, res);
        }
        T::Pid | T::Pid32 => {
            let pid = p.as_i64().unwrap_or(0);
            let _ = write!(r, "{pid}");
            if let Some(c) = ctx.comm(pid) {
                res.push_str(c);
            }
        }
        T::Errno => {
            let v = p.as_i64().unwrap_or(0);
            let _ = write!(r, "{v}");
            if v < 0 {
                if let Some(n) = errno_name((v as i32).unsigned_abs()) {
                    res.push_str(n);
                }
            }
        }
        T::Charbuf => {
            let s = p.as_bytes_str();
            if s == b"(NULL)" {
                r.push_str("<NA>");
            } else {
                let _ = write_lossy(r, s);
            }
        }
        T::Fspath | T::Fsrelpath => {
            let s = p.as_bytes_str();
            if s == b"(NULL)" {
                r.push_str("<NA>");
                return;
            }
            let _ = write_lossy(r, s);
            if ctx.thread_known(tid) && s != b"<NA>" && !s.is_empty() && s[0] != b'/' {
                if let Some(base) = base_dir(ev, p, outer_aux, ctx) {
                    concatenate_paths(res, &base, &String::from_utf8_lossy(s));
                }
            }
        }
        T::Bytebuf => {
            write_buffer_dots(r, b);
            let max = ctx.max_buffer_len();
            if max != 0 && r.len() > max {
                truncate_with_dots(r, max);
            }
        }
        T::Sockaddr => match SockAddr::decode(b) {
            Some(a) => {
                let _ = write!(r, "{a}");
            }
            None => r.push_str("<NA>"),
        },
        T::Socktuple => match SockTuple::decode(b) {
            Some(t) => {
                let _ = write!(r, "{t}");
            }
            None => r.push_str("NULL"),
        },
        T::Fdlist => {
            if !ctx.thread_known(tid) {
                return;
            }
            if let Some(list) = FdList::decode(b) {
                let n = list.len();
                for (j, (fd, flags)) in list.iter().enumerate() {
                    let tc = ctx.fd(tid, fd).map_or('?', |v| v.type_char);
                    let _ = write!(r, "{}:{}{:x}", fd as u64, tc, flags as i32 as u32);
                    if j + 1 < n {
                        r.push(' ');
                    }
                }
            }
        }
        T::Syscallid => {
            let id = p.as_u64().unwrap_or(0) as u16;
            if id as usize >= table::SC_MAX {
                r.push_str("<unknown syscall>");
            } else {
                let _ = write!(r, "{id}");
                res.push_str(table::SYSCALL_NAMES[id as usize]);
            }
        }
        T::Sigtype => {
            let v = b[0];
            let _ = write!(r, "{v}");
            if let Some(n) = signal_name(v) {
                res.push_str(n);
            }
        }
        T::Reltime => {
            let v = p.as_u64().unwrap_or(0);
            if v == u64::MAX {
                r.push_str("none");
            } else {
                let _ = write!(r, "{v}");
                write_g(res, v as f64 / 1e9);
                res.push('s');
            }
        }
        T::Flags8 | T::Flags16 | T::Flags32 | T::Enumflags8 | T::Enumflags16 | T::Enumflags32 => {
            let v = p.as_u64().unwrap_or(0) as u32;
            let _ = write!(r, "{v}");
            let exact = matches!(p.info.ty, T::Enumflags8 | T::Enumflags16 | T::Enumflags32);
            write_flag_names(res, flag_table(outer_aux), v, exact);
        }
        T::Mode => {
            let v = p.as_u64().unwrap_or(0) as u32;
            write_uint(r, outer_fmt, v as u64, 4);
            write_mode_names(res, flag_table(outer_aux), v);
        }
        T::Abstime => {
            write_abstime(r, p.as_u64().unwrap_or(0));
        }
        T::Uid | T::Gid => {
            let v = p.as_u64().unwrap_or(0) as u32;
            if v == u32::MAX {
                r.push_str("-1");
                res.push_str("<NONE>");
            } else {
                let _ = write!(r, "{}", v as i32);
                let name = if p.info.ty == T::Uid {
                    ctx.user_name(tid, v)
                } else {
                    ctx.group_name(tid, v)
                };
                res.push_str(name.filter(|n| !n.is_empty()).unwrap_or("<NA>"));
            }
        }
        T::Charbufarray => {
            for (i, s) in crate::param::split_nul(b).enumerate() {
                if i > 0 {
                    r.push('.');
                }
                let _ = write_lossy(r, s);
            }
        }
        T::CharbufPairArray => {
            let parts: Vec<&[u8]> = crate::param::split_nul(b).collect();
            for (i, pair) in parts.chunks(2).enumerate() {
                if i > 0 {
                    r.push(',');
                }
                let _ = write_lossy(r, pair[0]);
                r.push(':');
                if let Some(v) = pair.get(1) {
                    let _ = write_lossy(r, v);
                }
            }
        }
        T::Sigset => {
            let v = p.as_u64().unwrap_or(0) as u32;
            let mut first = true;
            for sig in 0..32u8 {
                if v & (1u32 << sig) != 0 {
                    if let Some(n) = signal_name(sig + 1) {
                        if !first {
                            r.push(' ');
                        }
                        r.push_str(n);
                        first = false;
                    }
                }
            }
        }
        T::Dyn => r.push_str("INVALID DYNAMIC PARAMETER"),
        _ => r.push_str("(n.a.)"),
    }
}

/// The raw value of a param, as `evt.rawarg.NAME` shows it: numbers in
/// decimal whatever their print format, no name resolution.
pub fn render_raw(ev: &RawEvent<'_>, p: Param<'_>, out: &mut String) {
    let p = p.resolve_dyn();
    use ParamType as T;
    let signed = matches!(
        p.info.ty,
        T::Int8 | T::Int16 | T::Int32 | T::Int64 | T::Errno | T::Fd | T::Pid | T::Fd32 | T::Pid32
    );
    match p.info.ty.fixed_size() {
        Some(n)
            if p.bytes.len() == n
                && !matches!(p.info.ty, T::Double | T::Ipv4addr | T::Ipv6addr) =>
        {
            let _ = if signed {
                write!(out, "{}", p.as_i64().unwrap_or(0))
            } else {
                write!(out, "{}", p.as_u64().unwrap_or(0))
            };
        }
        _ => {
            let mut r = Rendered::default();
            render_param(ev, p, &NoContext, &mut r);
            out.push_str(&r.raw);
        }
    }
}

fn flag_table(aux: ParamAux) -> &'static [NameValue] {
    match aux {
        ParamAux::Flags(f) => f,
        _ => &[],
    }
}

fn resolve_fd(ctx: &dyn ArgContext, tid: u64, fd: i64, res: &mut String) {
    if !ctx.thread_known(tid) {
        return;
    }
    if fd >= 0 {
        if let Some(v) = ctx.fd(tid, fd) {
            res.push('<');
            res.push(v.type_char);
            if let Some(c) = v.l4_char {
                res.push(c);
            }
            res.push('>');
            res.push_str(v.name);
        }
    } else if fd == PPM_AT_FDCWD {
        res.push_str("AT_FDCWD");
    } else if let Some(n) = errno_name((fd as i32).unsigned_abs()) {
        res.push_str(n);
    }
}

/// Where a relative path param is relative to: the cwd, or for `FSRELPATH`
/// the directory its dirfd param names.
fn base_dir(
    ev: &RawEvent<'_>,
    p: Param<'_>,
    aux: ParamAux,
    ctx: &dyn ArgContext,
) -> Option<String> {
    let tid = ev.tid();
    let cwd = || ctx.cwd(tid).map(str::to_string);
    if p.info.ty != ParamType::Fsrelpath {
        return cwd();
    }
    let ParamAux::DirFd(dirfd_idx) = aux else {
        return cwd();
    };
    let dirfd = match ev.typed_param(dirfd_idx as usize).and_then(|d| d.as_i64()) {
        Some(d) => d,
        None => return cwd(),
    };
    if dirfd == PPM_AT_FDCWD {
        return cwd();
    }
    let name = ctx.fd(tid, dirfd).map(|v| v.name).unwrap_or("");
    if name.is_empty() {
        return Some(String::new());
    }
    let mut base = name.to_string();
    base.push('/');
    Some(base)
}

/// `base` + relative `path`, with `.`/`..`/`//` removed like libsinsp does.
pub fn concatenate_paths(out: &mut String, base: &str, path: &str) {
    let joined_abs = base.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in base.split('/').chain(path.split('/')) {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    if joined_abs {
        out.push('/');
    }
    for (i, s) in parts.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(s);
    }
    if path.ends_with('/') && !parts.is_empty() {
        out.push('/');
    }
}

fn write_int(out: &mut String, fmt: PrintFmt, v: i64, width: usize) {
    // C varargs promote narrow ints to int: hex/octal of negatives are 32-bit.
    let bits = if width == 8 {
        v as u64
    } else {
        v as i32 as u32 as u64
    };
    let _ = match fmt {
        PrintFmt::Oct => write_oct(out, bits),
        PrintFmt::Hex => write!(out, "{bits:X}"),
        PrintFmt::_10PaddedDec => write!(out, "{v:09}"),
        _ => write!(out, "{v}"),
    };
}

fn write_uint(out: &mut String, fmt: PrintFmt, v: u64, width: usize) {
    // libsinsp prints unsigned params with the signed conversion of their width.
    let signed = match width {
        4 => v as u32 as i32 as i64,
        8 => v as i64,
        _ => v as i64,
    };
    let _ = match fmt {
        PrintFmt::Oct => write_oct(out, v),
        PrintFmt::Hex => write!(out, "{v:X}"),
        PrintFmt::_10PaddedDec => write!(out, "{signed:09}"),
        _ => write!(out, "{signed}"),
    };
}

fn write_oct(out: &mut String, v: u64) -> std::fmt::Result {
    if v == 0 {
        out.push('0');
        Ok(())
    } else {
        write!(out, "0{v:o}")
    }
}

/// Flag names joined by `|`, in table order, as libsinsp resolves them.
pub fn write_flag_names(out: &mut String, names: &[NameValue], value: u32, exact: bool) {
    let mut rest = value;
    let mut sep = "";
    for f in names {
        let matched = if exact {
            f.value == value
        } else if (f.value == 0 && value == 0)
            || (f.value != 0 && (rest & f.value) == f.value && rest != 0)
        {
            rest &= !f.value;
            true
        } else {
            false
        };
        if matched {
            out.push_str(sep);
            out.push_str(f.name);
            sep = "|";
            if !exact && f.value == value {
                break;
            }
        }
    }
}

fn write_mode_names(out: &mut String, names: &[NameValue], value: u32) {
    let mut rest = value;
    let mut sep = "";
    let mut it = names.iter();
    for f in it.by_ref() {
        if f.value == value {
            out.push_str(sep);
            out.push_str(f.name);
            return;
        }
        if (f.value == 0 && value == 0)
            || (f.value != 0 && (rest & f.value) == f.value && rest != 0)
        {
            out.push_str(sep);
            out.push_str(f.name);
            sep = "|";
            rest &= !f.value;
        }
    }
}

/// Bytes with unprintable ones as `.`.
pub fn write_buffer_dots(out: &mut String, b: &[u8]) {
    out.reserve(b.len());
    for &c in b {
        out.push(if (0x20..0x7f).contains(&c) {
            c as char
        } else {
            '.'
        });
    }
}

fn truncate_with_dots(out: &mut String, max: usize) {
    // Byte-buffer renderings are ASCII, so byte truncation is char-safe.
    out.truncate(max);
    if max > 3 {
        out.truncate(max - 3);
        out.push_str("...");
    }
}

/// C's `%g` (6 significant digits, trailing zeros removed).
pub fn write_g(out: &mut String, x: f64) {
    if x == 0.0 {
        out.push('0');
        return;
    }
    if !x.is_finite() {
        let _ = write!(out, "{x}");
        return;
    }
    let exp = x.abs().log10().floor() as i32;
    // Round to 6 significant digits first; rounding may bump the exponent.
    let sci = format!("{x:.5e}");
    let (mant, e) = sci.split_once('e').unwrap_or((&sci, "0"));
    let e: i32 = e.parse().unwrap_or(exp);
    if !(-4..6).contains(&e) {
        let m = trim_zeros(mant);
        let _ = write!(out, "{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    } else {
        let decimals = (5 - e).max(0) as usize;
        let s = format!("{x:.decimals$}");
        out.push_str(trim_zeros(&s));
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// `YYYY-MM-DD HH:MM:SS.nnnnnnnnn +zzzz` in local time, like libsinsp's `ABSTIME`.
pub fn write_abstime(out: &mut String, ns: u64) {
    let secs = (ns / 1_000_000_000) as i64;
    let nsec = ns % 1_000_000_000;
    let off = crate::time::local_offset_secs(secs);
    let (y, mo, d, h, mi, s) = crate::time::civil(secs + off);
    let sign = if off < 0 { '-' } else { '+' };
    let a = off.unsigned_abs();
    let _ = write!(
        out,
        "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{nsec:09} {sign}{:02}{:02}",
        a / 3600,
        (a % 3600) / 60
    );
}

/// `evt.args`: `name=raw(resolved) ` for every param, as libsinsp joins them
/// (each followed by a space). Generic events print nothing.
pub fn write_args(
    out: &mut String,
    ev: &RawEvent<'_>,
    ctx: &dyn ArgContext,
    scratch: &mut Rendered,
) {
    let ty = ev.event_type();
    if ty == table::PPME_GENERIC_E || ty == table::PPME_GENERIC_X {
        return;
    }
    for p in ev.typed_params() {
        render_param(ev, p, ctx, scratch);
        out.push_str(p.info.name);
        out.push('=');
        out.push_str(&scratch.raw);
        if !scratch.resolved.is_empty() {
            out.push('(');
            out.push_str(&scratch.resolved);
            out.push(')');
        }
        out.push(' ');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::encode_event;
    use crate::table::*;

    struct Ctx;
    impl ArgContext for Ctx {
        fn thread_known(&self, tid: u64) -> bool {
            tid == 42
        }
        fn fd(&self, _tid: u64, fd: i64) -> Option<FdView<'_>> {
            (fd == 3).then_some(FdView {
                type_char: 'f',
                l4_char: None,
                name: "/etc/ld.so.cache",
            })
        }
        fn cwd(&self, _tid: u64) -> Option<&str> {
            Some("/home/u/")
        }
    }

    fn args(ty: u16, tid: u64, params: &[&[u8]], ctx: &dyn ArgContext) -> String {
        let mut buf = Vec::new();
        encode_event(&mut buf, 1, tid, ty, false, params);
        let (ev, _) = RawEvent::parse(&buf).unwrap();
        let mut out = String::new();
        write_args(&mut out, &ev, ctx, &mut Rendered::default());
        out
    }

    #[test]
    fn open_exit_like_sysdig() {
        let p = [
            &3i64.to_le_bytes()[..],
            b"/etc/ld.so.cache\0",
            &4097u32.to_le_bytes(),
            &0u32.to_le_bytes(),
        ];
        assert_eq!(
            args(PPME_SYSCALL_OPEN_X, 42, &p, &Ctx),
            "fd=3(<f>/etc/ld.so.cache) name=/etc/ld.so.cache flags=4097(O_RDONLY|O_CLOEXEC) mode=0 "
        );
        // Unknown thread: numbers only.
        assert_eq!(
            args(PPME_SYSCALL_OPEN_X, 7, &p, &NoContext),
            "fd=3 name=/etc/ld.so.cache flags=4097(O_RDONLY|O_CLOEXEC) mode=0 "
        );
    }

    #[test]
    fn errno_and_relative_paths() {
        let p = [
            &(-2i64).to_le_bytes()[..],
            b"x/../y\0",
            &1u32.to_le_bytes(),
            &0o644u32.to_le_bytes(),
        ];
        assert_eq!(
            args(PPME_SYSCALL_OPEN_X, 42, &p, &Ctx),
            "fd=-2(ENOENT) name=x/../y(/home/u/y) flags=1(O_RDONLY) mode=0644 "
        );
        assert_eq!(
            args(
                PPME_SYSCALL_CLOSE_X,
                1,
                &[&(-9i64).to_le_bytes()],
                &NoContext
            ),
            "res=-9(EBADF) "
        );
    }

    #[test]
    fn buffers_truncate_like_sysdig() {
        struct Short;
        impl ArgContext for Short {
            fn max_buffer_len(&self) -> usize {
                10
            }
        }
        let data = b"hello\nworld, long buffer";
        let p = [&(data.len() as i64).to_le_bytes()[..], data];
        assert_eq!(
            args(PPME_SYSCALL_READ_X, 1, &p, &Short),
            "res=24 data=hello.w... "
        );
        assert_eq!(
            args(PPME_SYSCALL_READ_X, 1, &p, &NoContext),
            "res=24 data=hello.world, long buffer "
        );
    }

    #[test]
    fn percent_g() {
        let g = |x: f64| {
            let mut s = String::new();
            write_g(&mut s, x);
            s
        };
        assert_eq!(g(0.5), "0.5");
        assert_eq!(g(1.0), "1");
        assert_eq!(g(0.000123), "0.000123");
        assert_eq!(g(0.00001234), "1.234e-05");
        assert_eq!(g(1234567.0), "1.23457e+06");
        assert_eq!(g(0.01), "0.01");
        assert_eq!(g(123.456789), "123.457");
    }

    #[test]
    fn paths() {
        let c = |b: &str, p: &str| {
            let mut s = String::new();
            concatenate_paths(&mut s, b, p);
            s
        };
        assert_eq!(c("/home/u/", "a/b"), "/home/u/a/b");
        assert_eq!(c("/home/u/", "../x"), "/home/x");
        assert_eq!(c("/", "./x//y"), "/x/y");
        assert_eq!(c("/a/", ".."), "/");
    }
}
