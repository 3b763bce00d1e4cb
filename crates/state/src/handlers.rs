//! How each state-changing event updates threads and fds, following
//! libsinsp's parsers (learned from falcosecurity/libs, written anew).

use std::sync::Arc;

use peregrine_event::net::{is_ipv4_mapped, SockAddr, SockTuple};
use peregrine_event::records::FdKind;
use peregrine_event::RawEvent;

use crate::consts::*;
use crate::fd::{render_addrs, Fd, Role, SockAddrs, L4};
use crate::params::{ParamsExt, P};
use crate::thread::{Strs, Thread};
use crate::{Action, State};

const EINPROGRESS: i64 = -115;
/// A clone child whose clone is this recent is the same thread, not a
/// reused tid (libsinsp uses the same idea).
const CLONE_STALE_NS: u64 = 100_000_000;

pub(crate) fn apply(s: &mut State, ev: &RawEvent<'_>, action: Action) {
    let tid = ev.tid() as i64;
    // An exit event's first param is the syscall's return value, whatever
    // its name (`res`, `fd`, …).
    let res = ev
        .param(0)
        .filter(|b| !b.is_empty())
        .and_then(|_| ev.typed_param(0))
        .and_then(|p| p.as_i64())
        .unwrap_or(-1);
    match action {
        Action::Clone => on_clone(s, ev, res),
        Action::Execve if res >= 0 => on_execve(s, ev),
        Action::ProcExit => {
            if let Some(t) = s.threads.get_mut(tid) {
                t.dead = true;
                s.defer_exit(tid);
            }
        }
        Action::Open if res >= 0 => on_open(s, ev, res),
        Action::Socket if res >= 0 => on_socket(s, ev, res),
        Action::Connect => on_connect(s, ev, res),
        Action::Accept if res >= 0 => on_accept(s, ev, res),
        Action::Transfer { outgoing } if res >= 0 => on_transfer(s, ev, outgoing),
        Action::Bind if res >= 0 => on_bind(s, ev),
        Action::Listen if res >= 0 => {
            if let Some(fd) = ev.int(P::FD) {
                if let Some(f) = fd_mut(s, tid, fd) {
                    f.role = Role::Server;
                }
            }
        }
        Action::Pipe if res >= 0 => {
            let ino = ev.uint(P::INO).unwrap_or(0);
            let flags = ev.uint(P::FLAGS).unwrap_or(0) as u32;
            for p in [P::FD1, P::FD2] {
                if let Some(fd) = ev.int(p) {
                    let mut f = Fd::new(FdKind::Fifo, "");
                    f.ino = ino;
                    f.open_flags = flags;
                    s.add_fd(tid, fd, f);
                }
            }
        }
        Action::SocketPair if res >= 0 => {
            for p in [P::FD1, P::FD2] {
                if let Some(fd) = ev.int(p) {
                    s.add_fd(tid, fd, Fd::new(FdKind::UnixSock, ""));
                }
            }
        }
        Action::Dup if res >= 0 => {
            let old = ev.int(P::OLDFD).or_else(|| ev.int(P::FD));
            if let Some(old) = old {
                let cloexec = ev.uint(P::FLAGS).unwrap_or(0) as u32 & PPM_O_CLOEXEC;
                dup_fd(s, tid, old, res, cloexec);
            }
        }
        Action::Fcntl if res >= 0 => {
            let cmd = ev.uint(P::CMD).unwrap_or(0) as u8;
            if cmd == PPM_FCNTL_F_DUPFD || cmd == PPM_FCNTL_F_DUPFD_CLOEXEC {
                if let Some(old) = ev.int(P::FD) {
                    let cloexec = if cmd == PPM_FCNTL_F_DUPFD_CLOEXEC {
                        PPM_O_CLOEXEC
                    } else {
                        0
                    };
                    dup_fd(s, tid, old, res, cloexec);
                }
            }
        }
        Action::Close if res == 0 => {
            if let (Some(fd), Some(t)) = (ev.int(P::FD), s.threads.get(tid)) {
                let key = t.process_key();
                s.defer_close(key, fd);
            }
        }
        Action::Chdir if res >= 0 => {
            if let Some(path) = ev.text(P::PATH) {
                let cwd = resolve(s, tid, None, path);
                set_cwd(s, tid, cwd);
            }
        }
        Action::Fchdir if res >= 0 => {
            if let Some(fd) = ev.int(P::FD) {
                let name = s
                    .threads
                    .get(tid)
                    .and_then(|t| s.threads.process(t))
                    .and_then(|p| p.fds.get(fd))
                    .map(|f| f.name.to_string());
                if let Some(n) = name {
                    set_cwd(s, tid, n);
                }
            }
        }
        Action::Chroot if res >= 0 => {
            if let Some(path) = ev.text(P::PATH) {
                let root: Arc<str> = resolve(s, tid, None, path).into();
                if let Some(t) = s.threads.get_mut(tid) {
                    t.root = root;
                }
            }
        }
        Action::SetUid if res >= 0 => {
            if let (Some(uid), Some(t)) = (ev.uint(P::UID), s.threads.get_mut(tid)) {
                t.uid = uid as u32;
                t.euid = uid as u32;
            }
        }
        Action::SetResUid | Action::SetReUid if res >= 0 => {
            if let (Some(euid), Some(t)) = (ev.uint(P::EUID), s.threads.get_mut(tid)) {
                if euid as u32 != u32::MAX {
                    t.uid = euid as u32;
                    t.euid = euid as u32;
                }
            }
        }
        Action::SetGid if res >= 0 => {
            if let (Some(gid), Some(t)) = (ev.uint(P::GID), s.threads.get_mut(tid)) {
                t.gid = gid as u32;
                t.egid = gid as u32;
            }
        }
        Action::SetResGid | Action::SetReGid if res >= 0 => {
            if let (Some(egid), Some(t)) = (ev.uint(P::EGID), s.threads.get_mut(tid)) {
                if egid as u32 != u32::MAX {
                    t.gid = egid as u32;
                    t.egid = egid as u32;
                }
            }
        }
        Action::SetSid if res >= 0 => {
            if let Some(t) = s.threads.get_mut(tid) {
                t.sid = res;
                t.vpgid = res;
            }
        }
        Action::Capset if res >= 0 => {
            let (i, p, e) = (
                ev.uint(P::CAP_INHERITABLE),
                ev.uint(P::CAP_PERMITTED),
                ev.uint(P::CAP_EFFECTIVE),
            );
            if let Some(t) = s.threads.get_mut(tid) {
                if let (Some(i), Some(p), Some(e)) = (i, p, e) {
                    t.cap_inheritable = i;
                    t.cap_permitted = p;
                    t.cap_effective = e;
                }
            }
        }
        Action::NewFd(kind) if res >= 0 => s.add_fd(tid, res, Fd::new(kind, "")),
        Action::MemfdCreate if res >= 0 => {
            let name = ev.text(P::NAME).map(lossy).unwrap_or_default();
            let mut f = Fd::new(FdKind::Memfd, name);
            f.open_flags = ev.uint(P::FLAGS).unwrap_or(0) as u32;
            s.add_fd(tid, res, f);
        }
        Action::PidfdOpen if res >= 0 => {
            let pid = ev.int(P::PID).unwrap_or(-1);
            s.add_fd(tid, res, Fd::new(FdKind::Pidfd, format!("/proc/{pid}")));
        }
        _ => {}
    }
}

fn lossy(b: &[u8]) -> String {
    sanitize(&String::from_utf8_lossy(b))
}

/// libsinsp keeps only printable ASCII in fd names.
fn sanitize(s: &str) -> String {
    if s.bytes().all(|c| (b' '..=b'~').contains(&c)) {
        return s.to_string();
    }
    s.chars().filter(|c| (' '..='~').contains(c)).collect()
}

/// NUL-separated strings of a byte-buffer param.
pub(crate) fn split_nul(b: &[u8]) -> impl Iterator<Item = &[u8]> {
    let b = b.strip_suffix(&[0]).unwrap_or(b);
    b.split(|&c| c == 0).filter(|_| !b.is_empty())
}

fn strs(b: &[u8]) -> Strs {
    split_nul(b)
        .map(|s| String::from_utf8_lossy(s).into_owned().into_boxed_str())
        .collect::<Vec<_>>()
        .into()
}

/// Whether the `cgroups` param `b` says what `cur` holds, without building
/// a copy: a clone or exec almost always keeps its parent's cgroups.
fn same_cgroups(b: &[u8], cur: &[(Box<str>, Box<str>)]) -> bool {
    let mut held = cur.iter();
    for entry in split_nul(b) {
        let Some(eq) = entry.iter().position(|&c| c == b'=') else {
            continue;
        };
        let Some((k, v)) = held.next() else {
            return false;
        };
        if k.as_bytes() != &entry[..eq] || v.as_bytes() != &entry[eq + 1..] {
            return false;
        }
    }
    held.next().is_none()
}

pub(crate) fn cgroups(b: &[u8]) -> Arc<[(Box<str>, Box<str>)]> {
    split_nul(b)
        .filter_map(|s| {
            let s = String::from_utf8_lossy(s);
            let (k, v) = s.split_once('=')?;
            Some((k.into(), v.into()))
        })
        .collect::<Vec<_>>()
        .into()
}

fn fd_mut(s: &mut State, tid: i64, fd: i64) -> Option<&mut Fd> {
    let key = s.threads.get(tid)?.process_key();
    s.threads.procs.get_mut(&key)?.fds.get_mut(fd)
}

fn with_slash(mut p: String) -> String {
    if !p.ends_with('/') {
        p.push('/');
    }
    p
}

fn set_cwd(s: &mut State, tid: i64, cwd: String) {
    let Some(key) = s.threads.get(tid).map(Thread::process_key) else {
        return;
    };
    s.threads.process_mut(key).cwd = with_slash(cwd).into();
}

/// Absolute path of `path` for thread `tid`: relative paths are resolved
/// against `dirfd` (when given and not AT_FDCWD) or the working directory.
pub(crate) fn resolve(s: &mut State, tid: i64, dirfd: Option<i64>, path: &[u8]) -> String {
    let path = String::from_utf8_lossy(path);
    let mut out = std::mem::take(&mut s.scratch);
    out.clear();
    if path.starts_with('/') {
        peregrine_event::format::concatenate_paths(&mut out, "/", path.trim_start_matches('/'));
    } else {
        let proc_ = s.threads.get(tid).and_then(|t| s.threads.process(t));
        let base: &str = match (dirfd, proc_) {
            (Some(d), Some(p)) if d != PPM_AT_FDCWD => p.fds.get(d).map_or("", |f| &f.name),
            (_, Some(p)) => &p.cwd,
            _ => "",
        };
        if base.is_empty() {
            out.push_str(&path);
        } else if base.ends_with('/') {
            peregrine_event::format::concatenate_paths(&mut out, base, &path);
        } else {
            let b = format!("{base}/");
            peregrine_event::format::concatenate_paths(&mut out, &b, &path);
        }
    }
    let result = sanitize(&out);
    s.scratch = out;
    result
}

fn dup_fd(s: &mut State, tid: i64, old: i64, new: i64, cloexec: u32) {
    if old == new {
        return;
    }
    let Some(t) = s.threads.get(tid) else { return };
    let copy = s.threads.process(t).and_then(|p| p.fds.get(old)).cloned();
    if let Some(mut f) = copy {
        f.open_flags = (f.open_flags & !PPM_O_CLOEXEC) | cloexec;
        s.add_fd(tid, new, f);
    } else if let Some(key) = s.threads.get(tid).map(Thread::process_key) {
        // dup2 over an fd we know, from one we don't: the target is gone.
        s.threads.process_mut(key).fds.remove(new);
    }
}

fn on_open(s: &mut State, ev: &RawEvent<'_>, fd: i64) {
    let tid = ev.tid() as i64;
    let name = ev.text(P::NAME).or_else(|| ev.text(P::PATH));
    let dirfd = ev.int(P::DIRFD);
    let flags = ev.uint(P::FLAGS).unwrap_or(0) as u32;
    let path = match name {
        Some(n) => resolve(s, tid, dirfd, n),
        None => String::new(),
    };
    let kind = if flags & PPM_O_DIRECTORY != 0 {
        FdKind::Directory
    } else {
        FdKind::File
    };
    let mut f = Fd::new(kind, path);
    f.open_flags = flags;
    f.dev = ev.uint(P::DEV).unwrap_or(0) as u32;
    f.ino = ev.uint(P::INO).unwrap_or(0);
    s.add_fd(tid, fd, f);
}

fn on_socket(s: &mut State, ev: &RawEvent<'_>, fd: i64) {
    let tid = ev.tid() as i64;
    let domain = ev.uint(P::DOMAIN).unwrap_or(0) as u8;
    let ty = ev.uint(P::TYPE).unwrap_or(0) as u32 & 0xf;
    let proto = ev.uint(P::PROTO).unwrap_or(0) as u32;
    use peregrine_event::net::{PPM_AF_INET, PPM_AF_INET6, PPM_AF_UNIX};
    let (kind, l4) = match domain {
        PPM_AF_INET | PPM_AF_INET6 => {
            let kind = if domain == PPM_AF_INET {
                FdKind::Ipv4Sock
            } else {
                FdKind::Ipv6Sock
            };
            let l4 = match (ty, proto) {
                (1, _) => L4::Tcp,
                (2, _) => L4::Udp,
                (3, 1) | (3, 58) => L4::Icmp,
                (3, _) => L4::Raw,
                _ => L4::Unknown,
            };
            (kind, l4)
        }
        PPM_AF_UNIX => (FdKind::UnixSock, L4::Unknown),
        AF_NETLINK => (FdKind::Netlink, L4::Unknown),
        _ => (FdKind::Unsupported, L4::Unknown),
    };
    let mut f = Fd::new(kind, "");
    f.l4 = l4;
    s.add_fd(tid, fd, f);
}

/// Kind, addresses and name for a socket from a tuple seen from the client
/// side (`connect`: source is us) or the server side (`accept`: source is
/// the peer; the tuple is still client first).
fn from_tuple(t: &SockTuple<'_>) -> Option<(FdKind, Option<SockAddrs>, String)> {
    Some(match *t {
        SockTuple::Inet {
            sip,
            sport,
            dip,
            dport,
        } => {
            let a = SockAddrs::V4 {
                cip: sip,
                cport: sport,
                sip: dip,
                sport: dport,
            };
            let mut n = String::new();
            render_addrs(&mut n, &a);
            (FdKind::Ipv4Sock, Some(a), n)
        }
        SockTuple::Inet6 {
            sip,
            sport,
            dip,
            dport,
        } => {
            if is_ipv4_mapped(&sip) && is_ipv4_mapped(&dip) {
                let a = SockAddrs::V4 {
                    cip: [sip[12], sip[13], sip[14], sip[15]],
                    cport: sport,
                    sip: [dip[12], dip[13], dip[14], dip[15]],
                    sport: dport,
                };
                let mut n = String::new();
                render_addrs(&mut n, &a);
                (FdKind::Ipv4Sock, Some(a), n)
            } else {
                let a = SockAddrs::V6 {
                    cip: sip,
                    cport: sport,
                    sip: dip,
                    sport: dport,
                };
                let mut n = String::new();
                render_addrs(&mut n, &a);
                (FdKind::Ipv6Sock, Some(a), n)
            }
        }
        SockTuple::Unix { source, dest, path } => (
            FdKind::UnixSock,
            Some(SockAddrs::Unix { source, dest }),
            unix_name(source, dest, path),
        ),
        _ => return None,
    })
}

/// libsinsp names a connected unix socket `source->dest path` in hex.
fn unix_name(source: u64, dest: u64, path: &[u8]) -> String {
    format!("{source:x}->{dest:x} {}", lossy(path))
}

/// Sockets that are not TCP (or not yet named) take their peer from the
/// tuple of the data they carry; the tuple is written client first.
fn on_transfer(s: &mut State, ev: &RawEvent<'_>, outgoing: bool) {
    let tid = ev.tid() as i64;
    let Some(fd) = ev.int(P::FD) else { return };
    let Some(t) = ev.bytes(P::TUPLE).and_then(SockTuple::decode) else {
        return;
    };
    let Some(f) = fd_mut(s, tid, fd) else { return };
    if !f.is_socket() || (!f.name.is_empty() && f.l4 == L4::Tcp) {
        return;
    }
    let Some((kind, addrs, name)) = from_tuple(&t) else {
        return;
    };
    if f.role == Role::None {
        f.role = if outgoing { Role::Client } else { Role::Server };
    }
    // The kernel writes local first for sends and remote first for
    // receives; a client is the local end.
    let swap = (f.role == Role::Server) == outgoing;
    let (addrs, name) = match (addrs, swap) {
        (
            Some(SockAddrs::V4 {
                cip,
                cport,
                sip,
                sport,
            }),
            true,
        ) => {
            let a = SockAddrs::V4 {
                cip: sip,
                cport: sport,
                sip: cip,
                sport: cport,
            };
            let mut n = String::new();
            render_addrs(&mut n, &a);
            (Some(a), n)
        }
        (
            Some(SockAddrs::V6 {
                cip,
                cport,
                sip,
                sport,
            }),
            true,
        ) => {
            let a = SockAddrs::V6 {
                cip: sip,
                cport: sport,
                sip: cip,
                sport: cport,
            };
            let mut n = String::new();
            render_addrs(&mut n, &a);
            (Some(a), n)
        }
        (a, _) => (a, name),
    };
    if kind != FdKind::UnixSock {
        f.kind = kind;
    }
    f.addrs = addrs;
    f.name = name.into();
}

fn on_connect(s: &mut State, ev: &RawEvent<'_>, res: i64) {
    let tid = ev.tid() as i64;
    if res < 0 && res != EINPROGRESS {
        return;
    }
    let Some(fd) = ev.int(P::FD) else { return };
    let tuple = ev.bytes(P::TUPLE).and_then(SockTuple::decode);
    let parsed = match tuple {
        Some(t) => from_tuple(&t),
        // Old captures: only the enter event's address.
        None => ev
            .bytes(P::ADDR)
            .and_then(SockAddr::decode)
            .and_then(|a| match a {
                SockAddr::Unix(p) => Some((FdKind::UnixSock, None, lossy(p))),
                _ => None,
            }),
    };
    let Some((kind, addrs, name)) = parsed else {
        return;
    };
    let old = fd_mut(s, tid, fd).map(|f| f.l4);
    let mut f = Fd::new(kind, name);
    f.addrs = addrs;
    f.role = Role::Client;
    f.l4 = match (kind, old) {
        (FdKind::UnixSock, _) => L4::Unknown,
        (_, Some(l4)) if l4 != L4::Unknown => l4,
        _ => L4::Tcp,
    };
    s.add_fd(tid, fd, f);
}

fn on_accept(s: &mut State, ev: &RawEvent<'_>, fd: i64) {
    let tid = ev.tid() as i64;
    let Some(t) = ev.bytes(P::TUPLE).and_then(SockTuple::decode) else {
        s.add_fd(tid, fd, Fd::new(FdKind::Unknown, ""));
        return;
    };
    let Some((kind, addrs, name)) = from_tuple(&t) else {
        return;
    };
    let mut f = Fd::new(kind, name);
    f.addrs = addrs;
    f.role = Role::Server;
    f.l4 = if kind == FdKind::UnixSock {
        L4::Unknown
    } else {
        L4::Tcp
    };
    s.add_fd(tid, fd, f);
}

fn on_bind(s: &mut State, ev: &RawEvent<'_>) {
    let tid = ev.tid() as i64;
    let Some(fd) = ev.int(P::FD) else { return };
    let Some(addr) = ev.bytes(P::ADDR).and_then(SockAddr::decode) else {
        return;
    };
    let Some(f) = fd_mut(s, tid, fd) else { return };
    match addr {
        SockAddr::Unix(path) => f.name = lossy(path).into(),
        SockAddr::Inet { ip, port } => {
            let a = SockAddrs::V4Listen { ip, port };
            let mut n = String::new();
            render_addrs(&mut n, &a);
            f.name = n.into();
            // Binding a port makes a server socket (libsinsp's assumption).
            if port > 0 {
                f.addrs = Some(a);
                f.kind = FdKind::Ipv4ServSock;
                f.role = Role::Server;
            }
        }
        SockAddr::Inet6 { ip, port } => {
            let a = SockAddrs::V6Listen { ip, port };
            let mut n = String::new();
            render_addrs(&mut n, &a);
            f.name = n.into();
            if port > 0 {
                f.addrs = Some(a);
                f.kind = FdKind::Ipv6ServSock;
                f.role = Role::Server;
            }
        }
        _ => {}
    }
}

fn on_clone(s: &mut State, ev: &RawEvent<'_>, res: i64) {
    let caller = ev.tid() as i64;
    let flags = ev.uint(P::FLAGS).unwrap_or(0) as u32;
    if res > 0 {
        // Parent side. Inside a pid namespace `res` is a virtual id; the
        // child's own exit creates it then.
        let in_ns = ev.int(P::VTID).is_some_and(|v| v != caller);
        if in_ns
            || flags & (PPM_CL_CHILD_IN_PIDNS | PPM_CL_CLONE_NEWPID) != 0
            || flags & PPM_CL_CLONE_VFORK != 0
        {
            return;
        }
        if s.threads.get(caller).is_none() {
            // Caller unknown: nothing to copy from; the child side will do.
            return;
        }
        if let Some(existing) = s.threads.get(res) {
            if existing.clone_ts != 0 && ev.ts().saturating_sub(existing.clone_ts) < CLONE_STALE_NS
            {
                return;
            }
        }
        make_child(s, ev, res, caller, flags);
    } else if res == 0 {
        if let Some(existing) = s.threads.get(caller) {
            if existing.clone_ts != 0 && ev.ts().saturating_sub(existing.clone_ts) < CLONE_STALE_NS
            {
                return;
            }
        }
        // Child side: the parent is the process's parent for a new
        // process, the process itself for a new thread.
        let is_thread = flags & PPM_CL_CLONE_THREAD != 0;
        let lookup = if is_thread {
            ev.int(P::PID).unwrap_or(-1)
        } else {
            ev.int(P::PTID).unwrap_or(-1)
        };
        make_child(s, ev, caller, lookup, flags);
    }
}

/// Creates `child` from the clone exit's params, inheriting from `parent`
/// (when known) what the kernel copies.
fn make_child(s: &mut State, ev: &RawEvent<'_>, child: i64, parent: i64, flags: u32) {
    let is_thread = flags & PPM_CL_CLONE_THREAD != 0;
    let parent_t = s.threads.get(parent).cloned();
    let mut t = match &parent_t {
        Some(p) => {
            let mut t = p.clone();
            t.dead = false;
            t
        }
        None => Thread::unknown(child),
    };
    t.tid = child;
    t.flags = flags;
    t.clone_ts = ev.ts();
    t.lastexec_ts = if is_thread {
        parent_t.as_ref().map_or(0, |p| p.lastexec_ts)
    } else {
        0
    };
    let from_child_side = ev.tid() as i64 == child;
    if from_child_side {
        t.pid = ev.int(P::PID).unwrap_or(child);
        t.ptid = ev.int(P::PTID).unwrap_or(-1);
        t.vtid = ev.int(P::VTID).unwrap_or(child);
        t.vpid = ev.int(P::VPID).unwrap_or(-1);
    } else if is_thread {
        let p = parent_t.as_ref();
        t.pid = p.map_or(child, |p| p.pid);
        t.ptid = p.map_or(-1, |p| p.ptid);
        t.vtid = child;
        t.vpid = t.pid;
    } else {
        t.pid = child;
        t.ptid = parent;
        t.vtid = child;
        t.vpid = child;
    }
    if let Some(exe) = ev.text(P::EXE) {
        t.exe = String::from_utf8_lossy(exe).into();
    }
    if let Some(args) = ev.bytes(P::ARGS) {
        t.args = strs(args);
    }
    t.comm = Some(match ev.text(P::COMM) {
        Some(c) => String::from_utf8_lossy(c).into(),
        None => t.exe.clone(),
    });
    if let Some(v) = ev.int(P::FDLIMIT) {
        t.fdlimit = v;
    }
    if ev.bytes(P::VM_SWAP).is_some() {
        t.pfmajor = ev.uint(P::PGFT_MAJ).unwrap_or(0);
        t.pfminor = ev.uint(P::PGFT_MIN).unwrap_or(0);
        t.vmsize_kb = ev.uint(P::VM_SIZE).unwrap_or(0) as u32;
        t.vmrss_kb = ev.uint(P::VM_RSS).unwrap_or(0) as u32;
        t.vmswap_kb = ev.uint(P::VM_SWAP).unwrap_or(0) as u32;
    }
    if let Some(uid) = ev.uint(P::UID) {
        t.uid = uid as u32;
        t.euid = uid as u32;
    }
    if let Some(gid) = ev.uint(P::GID) {
        t.gid = gid as u32;
        t.egid = gid as u32;
    }
    if let Some(cg) = ev.bytes(P::CGROUPS) {
        if !same_cgroups(cg, &t.cgroups) {
            t.cgroups = cgroups(cg);
            t.refresh_container();
        }
    }
    t.pidns_init_start_ts = ev.uint(P::PIDNS_INIT_START_TS).unwrap_or(s.boot_ts);
    let cwd_param = ev.text(P::CWD).map(|c| with_slash(lossy(c)));
    let child_key = t.process_key();
    let parent_key = parent_t.as_ref().map(Thread::process_key);
    if !s.insert_thread(t) {
        return;
    }
    if !is_thread && Some(child_key) != parent_key {
        // A new process gets a copy of the parent's fds and cwd.
        let copied = parent_key
            .and_then(|k| s.threads.procs.get(&k))
            .map(|p| (p.fds.clone(), p.cwd.clone()));
        let proc_ = s.threads.process_mut(child_key);
        if let Some((fds, cwd)) = copied {
            proc_.fds = fds;
            proc_.cwd = cwd;
        }
        if proc_.cwd.is_empty() {
            if let Some(c) = cwd_param {
                proc_.cwd = c.into();
            }
        }
    }
}

fn on_execve(s: &mut State, ev: &RawEvent<'_>) {
    let tid = ev.tid() as i64;
    if s.threads.get(tid).is_none() {
        return;
    }
    let cwd_param = ev.text(P::CWD).map(|c| with_slash(lossy(c)));
    // exepath: the kernel's trusted path, else the filename resolved.
    let exepath = match ev.text(P::TRUSTED_EXEPATH) {
        Some(p) => Some(String::from_utf8_lossy(p).into_owned()),
        None => ev
            .text(P::FILENAME)
            .or_else(|| ev.text(P::PATHNAME))
            .map(|f| {
                if f == b"<NA>" {
                    "<NA>".to_string()
                } else {
                    resolve(s, tid, ev.int(P::DIRFD), f)
                }
            }),
    };
    let resolver_needed;
    let old_key = s.threads.get(tid).map(Thread::process_key);
    {
        let Some(t) = s.threads.get_mut(tid) else {
            return;
        };
        t.dead = false;
        if let Some(exe) = ev.text(P::EXE) {
            t.exe = String::from_utf8_lossy(exe).into();
        }
        t.lastexec_ts = ev.ts();
        t.comm = Some(match ev.text(P::COMM) {
            Some(c) => String::from_utf8_lossy(c).into(),
            None => t.exe.clone(),
        });
        if let Some(a) = ev.bytes(P::ARGS) {
            t.args = strs(a);
        } else {
            t.args = Arc::from(Vec::new());
        }
        if let Some(pid) = ev.int(P::PID) {
            if t.pid <= 0 {
                t.ptid = ev.int(P::PTID).unwrap_or(t.ptid);
                if t.flags & PPM_CL_CHILD_IN_PIDNS == 0 {
                    t.vtid = t.tid;
                    t.vpid = pid;
                }
            }
            t.pid = pid;
        }
        if let Some(v) = ev.int(P::FDLIMIT) {
            t.fdlimit = v;
        }
        if ev.bytes(P::VM_SWAP).is_some() {
            t.pfmajor = ev.uint(P::PGFT_MAJ).unwrap_or(0);
            t.pfminor = ev.uint(P::PGFT_MIN).unwrap_or(0);
            t.vmsize_kb = ev.uint(P::VM_SIZE).unwrap_or(0) as u32;
            t.vmrss_kb = ev.uint(P::VM_RSS).unwrap_or(0) as u32;
            t.vmswap_kb = ev.uint(P::VM_SWAP).unwrap_or(0) as u32;
        }
        if let Some(env) = ev.bytes(P::ENV) {
            t.env = strs(env);
        }
        resolver_needed = match ev.bytes(P::CGROUPS) {
            Some(cg) => {
                let changed = !same_cgroups(cg, &t.cgroups);
                if changed {
                    t.cgroups = cgroups(cg);
                }
                changed
            }
            None => false,
        };
        if let Some(tty) = ev.uint(P::TTY) {
            t.tty = tty as u32;
        }
        if let Some(p) = exepath {
            t.exepath = p.into();
        }
        if let Some(v) = ev.int(P::VPGID) {
            t.vpgid = v;
        }
        if let Some(v) = ev.int(P::PGID) {
            t.pgid = v;
        }
        if let Some(v) = ev.uint(P::LOGINUID) {
            t.loginuid = v as u32;
        }
        if let Some(f) = ev.uint(P::FLAGS) {
            t.exe_flags = f as u32;
        }
        if let (Some(i), Some(p), Some(e)) = (
            ev.uint(P::CAP_INHERITABLE),
            ev.uint(P::CAP_PERMITTED),
            ev.uint(P::CAP_EFFECTIVE),
        ) {
            t.cap_inheritable = i;
            t.cap_permitted = p;
            t.cap_effective = e;
        }
        if let Some(v) = ev.uint(P::EXE_INO) {
            t.exe_ino = v;
        }
        if let Some(v) = ev.uint(P::EXE_INO_CTIME) {
            t.exe_ino_ctime = v;
        }
        if let Some(v) = ev.uint(P::EXE_INO_MTIME) {
            t.exe_ino_mtime = v;
        }
        if let Some(v) = ev.uint(P::UID) {
            t.uid = v as u32;
            t.euid = v as u32;
        }
        if let Some(v) = ev.uint(P::GID) {
            t.gid = v as u32;
            t.egid = v as u32;
        }
    }
    if resolver_needed {
        if let Some(t) = s.threads.get_mut(tid) {
            t.refresh_container();
        }
    }
    let Some(key) = s.threads.get(tid).map(Thread::process_key) else {
        return;
    };
    if let Some(old) = old_key.filter(|&k| k != key) {
        s.threads.rekey(tid, old, key);
    }
    let p = s.threads.process_mut(key);
    let closed = p.fds.close_on_exec();
    s.stats.fds_removed += closed as u64;
    if let Some(c) = cwd_param {
        s.threads.process_mut(key).cwd = c.into();
    }
}

#[cfg(test)]
mod cgroup_tests {
    use super::{cgroups, same_cgroups};

    #[test]
    fn same_cgroups_compares_without_building() {
        let b = b"cpu=/docker/abc\0memory=/docker/abc\0";
        let held = cgroups(b);
        assert!(same_cgroups(b, &held));
        assert!(!same_cgroups(b"cpu=/docker/abc\0", &held));
        assert!(!same_cgroups(
            b"cpu=/docker/abc\0memory=/docker/abd\0",
            &held
        ));
        assert!(!same_cgroups(
            b"cpu=/docker/abc\0memory=/docker/abc\0pids=/\0",
            &held
        ));
        assert!(same_cgroups(b"", &cgroups(b"")));
    }
}
