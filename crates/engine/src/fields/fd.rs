//! `fd.*`: the fd an event works on, from state or (for opens) from the
//! event itself, so that failed opens still have `fd.name`.

use peregrine_event::format::concatenate_paths;
use peregrine_event::records::FdKind;
use peregrine_event::table::eflags;
use peregrine_state::{Fd, Role, SockAddrs};

use super::{Ctx, FArg, Fid};
use crate::value::Out;

/// The fd number the event refers to, as state recorded it; `None` for
/// events that do not work on an fd.
pub(super) fn event_fd(ctx: &Ctx<'_>) -> Option<i64> {
    let info = ctx.ev.info()?;
    if info.flags & (eflags::EF_CREATES_FD | eflags::EF_USES_FD | eflags::EF_DESTROYS_FD) == 0 {
        return None;
    }
    Some(ctx.thread?.last_event_fd)
}

fn is_open_family(ctx: &Ctx<'_>) -> bool {
    matches!(
        ctx.ev.info().map(|i| i.name),
        Some("open" | "openat" | "openat2" | "creat" | "open_by_handle_at")
    )
}

/// The path an open names, resolved like state does, written to `text`.
fn open_path(ctx: &Ctx<'_>, text: &mut String) -> bool {
    let ev = ctx.ev;
    let Some(name) = ev
        .param_by_name("name")
        .or_else(|| ev.param_by_name("path"))
        .map(|p| p.as_bytes_str())
        .filter(|n| !n.is_empty())
    else {
        return false;
    };
    let name = String::from_utf8_lossy(name);
    text.clear();
    if name.starts_with('/') {
        concatenate_paths(text, "/", name.trim_start_matches('/'));
        return true;
    }
    let Some(t) = ctx.thread else {
        text.push_str(&name);
        return true;
    };
    let dirfd = ev.param_by_name("dirfd").and_then(|p| p.as_i64());
    match dirfd {
        Some(d) if d != -100 => {
            let base = ctx.state.fd(t, d).map_or("", |f| &f.name);
            if base.is_empty() {
                text.push_str(&name);
            } else {
                let b = if base.ends_with('/') {
                    base.to_string()
                } else {
                    format!("{base}/")
                };
                concatenate_paths(text, &b, &name);
            }
        }
        _ => {
            let cwd = ctx.state.cwd(t).unwrap_or("");
            if cwd.is_empty() {
                text.push_str(&name);
            } else {
                concatenate_paths(text, cwd, &name);
            }
        }
    }
    true
}

fn dirname(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&c| c == b'/') {
        Some(0) => b"/",
        Some(i) => &path[..i],
        None => b"",
    }
}

fn basename(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&c| c == b'/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// Local/remote from the fd's role: a client is local; a server remote.
fn local_is_client(f: &Fd) -> bool {
    f.role != Role::Server
}

enum End {
    Client,
    Server,
    Local,
    Remote,
    Any,
}

fn push_ip(out: &mut Out<'_>, f: &Fd, end: End) {
    let Some(a) = &f.addrs else { return };
    let client = match end {
        End::Client => Some(true),
        End::Server => Some(false),
        End::Local => Some(local_is_client(f)),
        End::Remote => Some(!local_is_client(f)),
        End::Any => None,
    };
    match *a {
        SockAddrs::V4 { cip, sip, .. } => match client {
            Some(true) => out.ip4(cip),
            Some(false) => out.ip4(sip),
            None => {
                out.ip4(cip);
                out.ip4(sip)
            }
        },
        SockAddrs::V6 { cip, sip, .. } => match client {
            Some(true) => out.ip6(cip),
            Some(false) => out.ip6(sip),
            None => {
                out.ip6(cip);
                out.ip6(sip)
            }
        },
        SockAddrs::V4Listen { ip, .. } => {
            if client != Some(true) {
                out.ip4(ip)
            }
        }
        SockAddrs::V6Listen { ip, .. } => {
            if client != Some(true) {
                out.ip6(ip)
            }
        }
        SockAddrs::Unix { .. } => {}
    }
}

fn port_of(f: &Fd, end: End) -> Option<(u16, Option<u16>)> {
    let a = f.addrs.as_ref()?;
    let client = match end {
        End::Client => Some(true),
        End::Server => Some(false),
        End::Local => Some(local_is_client(f)),
        End::Remote => Some(!local_is_client(f)),
        End::Any => None,
    };
    match *a {
        SockAddrs::V4 { cport, sport, .. } | SockAddrs::V6 { cport, sport, .. } => match client {
            Some(true) => Some((cport, None)),
            Some(false) => Some((sport, None)),
            None => Some((cport, Some(sport))),
        },
        SockAddrs::V4Listen { port, .. } | SockAddrs::V6Listen { port, .. } => {
            (client != Some(true)).then_some((port, None))
        }
        SockAddrs::Unix { .. } => None,
    }
}

pub(super) fn extract(fid: Fid, arg: &FArg, ctx: &Ctx<'_>, out: &mut Out<'_>) -> bool {
    if fid == Fid::FdTypes {
        fd_types(ctx, arg, out);
        return true;
    }
    let num = event_fd(ctx);
    if fid == Fid::FdNum {
        if let Some(n) = num {
            out.i64(n);
        }
        return true;
    }
    let fd = match (ctx.thread, num) {
        (Some(t), Some(n)) => ctx.state.fd(t, n),
        _ => None,
    };
    // Opens: name and kind come from the event, succeeded or not.
    if is_open_family(ctx) && fd.is_none() {
        let flags = ctx
            .ev
            .param_by_name("flags")
            .and_then(|p| p.as_u64())
            .unwrap_or(0) as u32;
        let dir = flags & peregrine_state::consts::PPM_O_DIRECTORY != 0;
        let mut text = std::mem::take(&mut out.arena.text);
        let have = open_path(ctx, &mut text);
        let path = text.as_bytes();
        match fid {
            Fid::FdName | Fid::FdNameraw if have => out.str(path),
            Fid::FdDirectory if have => out.str(if dir { path } else { dirname(path) }),
            Fid::FdFilename if have && !dir => out.str(basename(path)),
            Fid::FdType => out.str(if dir { b"directory" } else { b"file" }),
            Fid::FdTypechar => out.str(if dir { b"d" } else { b"f" }),
            Fid::FdDev => {
                if let Some(d) = ctx.ev.param_by_name("dev").and_then(|p| p.as_u64()) {
                    out.i64(d as i64)
                }
            }
            Fid::FdIno => {
                if let Some(d) = ctx.ev.param_by_name("ino").and_then(|p| p.as_u64()) {
                    out.i64(d as i64)
                }
            }
            _ => {}
        }
        out.arena.text = text;
        return true;
    }
    let Some(f) = fd else {
        // An fd event whose fd state does not know: libsinsp shows an empty
        // name on exit events (and nothing on enter events).
        if num.is_some()
            && ctx.ev.direction() == peregrine_event::table::Direction::Exit
            && matches!(fid, Fid::FdName | Fid::FdNameraw)
        {
            out.str(b"");
        }
        return true;
    };
    match fid {
        Fid::FdType => out.str(f.type_name().as_bytes()),
        Fid::FdTypechar => {
            let mut b = [0u8; 4];
            out.str(f.type_char().encode_utf8(&mut b).as_bytes())
        }
        Fid::FdName | Fid::FdNameraw => out.str(f.name.as_bytes()),
        Fid::FdDirectory => {
            if f.kind == FdKind::Directory {
                out.str(f.name.as_bytes())
            } else if f.is_file_like() {
                out.str(dirname(f.name.as_bytes()))
            }
        }
        Fid::FdFilename if f.kind != FdKind::Directory && f.is_file_like() => {
            out.str(basename(f.name.as_bytes()))
        }
        Fid::FdIp | Fid::FdNet => push_ip(out, f, End::Any),
        Fid::FdCip | Fid::FdCnet => push_ip(out, f, End::Client),
        Fid::FdSip | Fid::FdSnet => push_ip(out, f, End::Server),
        Fid::FdLip | Fid::FdLnet => push_ip(out, f, End::Local),
        Fid::FdRip | Fid::FdRnet => push_ip(out, f, End::Remote),
        Fid::FdPort | Fid::FdCport | Fid::FdSport | Fid::FdLport | Fid::FdRport => {
            let end = match fid {
                Fid::FdPort => End::Any,
                Fid::FdCport => End::Client,
                Fid::FdSport => End::Server,
                Fid::FdLport => End::Local,
                _ => End::Remote,
            };
            if let Some((a, b)) = port_of(f, end) {
                out.u64(a as u64);
                if let Some(b) = b {
                    out.u64(b as u64)
                }
            }
        }
        Fid::FdProto | Fid::FdCproto | Fid::FdSproto | Fid::FdLproto | Fid::FdRproto => {
            // Port-to-protocol names need /etc/services resolution, which
            // Falco runs with off; the number stands in.
            if let Some((a, _)) = port_of(f, End::Server) {
                if fid == Fid::FdProto {
                    out.u64(a as u64)
                } else {
                    let mut buf = itoa_buf(a as u64);
                    out.str(buf.as_bytes_mut())
                }
            }
        }
        Fid::FdL4proto => {
            if let Some(n) = f.l4.name() {
                out.str(n.as_bytes())
            }
        }
        Fid::FdSockfamily => match f.kind {
            FdKind::Ipv4Sock | FdKind::Ipv6Sock | FdKind::Ipv4ServSock | FdKind::Ipv6ServSock => {
                out.str(b"ip")
            }
            FdKind::UnixSock => out.str(b"unix"),
            _ => {}
        },
        Fid::FdIsServer if f.is_socket() => out.bool(f.role == Role::Server),
        Fid::FdConnected if f.is_socket() => out.bool(matches!(
            f.addrs,
            Some(SockAddrs::V4 { .. } | SockAddrs::V6 { .. } | SockAddrs::Unix { .. })
        )),
        Fid::FdNameChanged => out.bool(false),
        Fid::FdUid => {
            if let (Some(t), Some(n)) = (ctx.thread, num) {
                let mut text = std::mem::take(&mut out.arena.text);
                text.clear();
                use std::fmt::Write;
                let _ = write!(text, "{}{}", t.tid, n);
                out.str(text.as_bytes());
                out.arena.text = text;
            }
        }
        Fid::FdContainername | Fid::FdContainerdirectory => {
            if let Some(t) = ctx.thread {
                let cid = t.container.as_ref().map_or("host", |c| c.short_id());
                let off = out.begin_str();
                out.push_bytes(cid.as_bytes());
                out.push_bytes(b":");
                let n = f.name.as_bytes();
                out.push_bytes(if fid == Fid::FdContainerdirectory && f.is_file_like() {
                    dirname(n)
                } else {
                    n
                });
                out.end_str(off)
            }
        }
        Fid::FdCipName | Fid::FdSipName | Fid::FdLipName | Fid::FdRipName => {}
        Fid::FdDev => out.i64(f.dev as i64),
        Fid::FdDevMajor => out.i64(((f.dev >> 20) & 0xfff) as i64),
        Fid::FdDevMinor => out.i64((f.dev & 0xfffff) as i64),
        Fid::FdIno => out.i64(f.ino as i64),
        Fid::FdIsUpperLayer | Fid::FdIsLowerLayer => out.bool(false),
        _ => {}
    }
    true
}

struct NumBuf([u8; 20], usize);
impl NumBuf {
    fn as_bytes_mut(&mut self) -> &[u8] {
        &self.0[self.1..]
    }
}
fn itoa_buf(mut v: u64) -> NumBuf {
    let mut b = [0u8; 20];
    let mut i = 20;
    loop {
        i -= 1;
        b[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    NumBuf(b, i)
}

/// `fd.types`: the types of the process's fds (or of one fd), each once.
fn fd_types(ctx: &Ctx<'_>, arg: &FArg, out: &mut Out<'_>) {
    let Some(t) = ctx.thread else { return };
    let Some(p) = ctx.state.process(t) else {
        return;
    };
    if let FArg::Index(n) = arg {
        if let Some(f) = p.fds.get(*n) {
            out.str(f.type_name().as_bytes());
        }
        return;
    }
    let mut seen: u32 = 0;
    for (_, f) in p.fds.iter() {
        let bit = 1u32 << (f.kind as u8 as u32 % 32);
        if seen & bit == 0 {
            seen |= bit;
            out.str(f.type_name().as_bytes());
        }
    }
}
