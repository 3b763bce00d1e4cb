//! A light thread/fd tracker so `peregrine events` can print `proc.name` and
//! fd names (`fd=3(<f>/etc/passwd)`) the way `sysdig -r` does. It follows
//! the common syscalls only; the state crate (threads, fds, users with full
//! libsinsp semantics) replaces it.

use std::collections::{HashMap, HashSet};

use peregrine_event::format::{ArgContext, FdView, PPM_AT_FDCWD};
use peregrine_event::net::{SockAddr, SockTuple, PPM_AF_INET, PPM_AF_INET6, PPM_AF_UNIX};
use peregrine_event::records::{FdKind, FdRecord, FdTarget};
use peregrine_event::table::{self, Direction, EVENT_MAX};
use peregrine_event::{RawEvent, Tables};

const PPM_O_DIRECTORY: u32 = 1 << 10;
const PPM_CL_CLONE_THREAD: u32 = 1 << 16;
const AF_NETLINK: u32 = 16;

#[derive(Debug, Clone)]
struct Fd {
    kind: char,
    l4: Option<char>,
    /// libsinsp shows the L4 protocol only once a socket has a role
    /// (client after connect, server after accept); raw sockets always.
    role: bool,
    name: String,
}

impl Fd {
    fn plain(kind: char, name: String) -> Fd {
        Fd {
            kind,
            l4: None,
            role: false,
            name,
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Process {
    cwd: String,
    fds: HashMap<i64, Fd>,
}

#[derive(Debug, Clone)]
struct Thread {
    pid: i64,
    /// `None` for threads first seen in an event (libsinsp's `<NA>`).
    comm: Option<String>,
}

/// What an event type means to the tracker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    None,
    Clone,
    Execve,
    Open,
    Socket,
    Connect,
    Accept,
    Bind,
    Listen,
    Pipe,
    SocketPair,
    Dup,
    Close,
    Chdir,
    Fchdir,
    /// An fd-creating syscall whose fd type is known from its name.
    NewFd(char),
    ProcExit,
}

pub struct Tracker {
    threads: HashMap<i64, Thread>,
    procs: HashMap<i64, Process>,
    users: HashMap<u32, String>,
    groups: HashMap<u32, String>,
    actions: Vec<Action>,
    /// Last enter event per thread, for exits whose params live in the enter half.
    enters: HashMap<i64, Vec<u8>>,
    max_buffer_len: usize,
}

fn type_char(kind: FdKind) -> char {
    match kind {
        FdKind::File | FdKind::FileV2 => 'f',
        FdKind::Directory => 'd',
        FdKind::Ipv4Sock => '4',
        FdKind::Ipv6Sock => '6',
        FdKind::Ipv4ServSock => '4',
        FdKind::Ipv6ServSock => '6',
        FdKind::Fifo => 'p',
        FdKind::UnixSock => 'u',
        FdKind::Event => 'e',
        FdKind::Unsupported => 'o',
        FdKind::SignalFd => 's',
        FdKind::EventPoll => 'l',
        FdKind::Inotify => 'i',
        FdKind::TimerFd => 't',
        FdKind::Netlink => 'n',
        FdKind::Bpf => 'b',
        FdKind::UserFaultFd => 'u',
        FdKind::IoUring => 'r',
        FdKind::Memfd => 'm',
        FdKind::Pidfd => 'P',
        FdKind::Unknown => '?',
    }
}

/// `SCAP_L4_*` numbers to libsinsp's protocol letters.
fn l4_char(proto: u8) -> Option<char> {
    match proto {
        2 => Some('t'),
        3 => Some('u'),
        4 => Some('i'),
        5 => Some('r'),
        _ => None,
    }
}

fn ipv4(ip: u32) -> String {
    let b = ip.to_be_bytes();
    format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
}

fn ipv6(ip: &[u8; 16]) -> String {
    let mut s = String::new();
    let _ = peregrine_event::net::write_ipv6(&mut s, ip);
    s
}

/// An fd from the capture's fd list. Like libsinsp, IPv4 connections whose
/// source port is one of the machine's listening ports are turned around so
/// the client comes first.
fn fd_from_record(r: &FdRecord, server_ports: &HashSet<u16>) -> Fd {
    let (name, l4) = match &r.target {
        FdTarget::Ipv4 {
            sip,
            dip,
            sport,
            dport,
            l4proto,
        } if server_ports.contains(sport) => (
            format!("{}:{dport}->{}:{sport}", ipv4(*dip), ipv4(*sip)),
            l4_char(*l4proto),
        ),
        FdTarget::None => (String::new(), None),
        FdTarget::Name(n) => (n.clone(), None),
        FdTarget::Ipv4 {
            sip,
            dip,
            sport,
            dport,
            l4proto,
        } => (
            format!("{}:{sport}->{}:{dport}", ipv4(*sip), ipv4(*dip)),
            l4_char(*l4proto),
        ),
        FdTarget::Ipv4Server { ip, port, l4proto } => {
            (format!("{}:{port}", ipv4(*ip)), l4_char(*l4proto))
        }
        FdTarget::Ipv6 {
            sip,
            dip,
            sport,
            dport,
            l4proto,
        } => (
            format!("{}:{sport}->{}:{dport}", ipv6(sip), ipv6(dip)),
            l4_char(*l4proto),
        ),
        FdTarget::Ipv6Server { ip, port, l4proto } => {
            (format!("{}:{port}", ipv6(ip)), l4_char(*l4proto))
        }
        FdTarget::Unix { path, .. } => (path.clone(), None),
    };
    Fd {
        kind: type_char(r.kind),
        l4,
        role: true,
        name: sanitize(&name),
    }
}

/// libsinsp drops unprintable characters from fd names when it shows them.
fn sanitize(s: &str) -> String {
    s.chars().filter(|c| (' '..='~').contains(c)).collect()
}

/// Bytes up to the first NUL, lossily decoded.
fn text(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

fn basename(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

fn with_slash(mut s: String) -> String {
    if !s.ends_with('/') {
        s.push('/');
    }
    s
}

fn action_for(name: &str) -> Action {
    match name {
        "clone" | "fork" | "vfork" | "clone3" => Action::Clone,
        "execve" | "execveat" => Action::Execve,
        "open" | "openat" | "openat2" | "creat" | "open_by_handle_at" => Action::Open,
        "socket" => Action::Socket,
        "connect" => Action::Connect,
        "accept" | "accept4" => Action::Accept,
        "bind" => Action::Bind,
        "listen" => Action::Listen,
        "pipe" | "pipe2" => Action::Pipe,
        "socketpair" => Action::SocketPair,
        "dup" | "dup2" | "dup3" => Action::Dup,
        "close" => Action::Close,
        "chdir" => Action::Chdir,
        "fchdir" => Action::Fchdir,
        "eventfd" | "eventfd2" => Action::NewFd('e'),
        "signalfd" | "signalfd4" => Action::NewFd('s'),
        "timerfd_create" => Action::NewFd('t'),
        "inotify_init" | "inotify_init1" => Action::NewFd('i'),
        "epoll_create" | "epoll_create1" => Action::NewFd('l'),
        "userfaultfd" => Action::NewFd('u'),
        "memfd_create" => Action::NewFd('m'),
        "pidfd_open" | "pidfd_getfd" => Action::NewFd('P'),
        "io_uring_setup" => Action::NewFd('r'),
        "procexit" => Action::ProcExit,
        _ => Action::None,
    }
}

impl Tracker {
    pub fn new(tables: &Tables, max_buffer_len: usize) -> Tracker {
        let actions = (0..EVENT_MAX as u16)
            .map(|t| table::event_info(t).map_or(Action::None, |i| action_for(i.name)))
            .collect();
        let mut tr = Tracker {
            threads: HashMap::new(),
            procs: HashMap::new(),
            users: tables
                .users
                .iter()
                .map(|u| (u.uid, u.name.clone()))
                .collect(),
            groups: tables
                .groups
                .iter()
                .map(|g| (g.gid, g.name.clone()))
                .collect(),
            actions,
            enters: HashMap::new(),
            max_buffer_len,
        };
        let server_ports: HashSet<u16> = tables
            .threads
            .iter()
            .flat_map(|t| t.fds.iter())
            .filter_map(|f| match f.target {
                FdTarget::Ipv4Server { port, .. } => Some(port),
                _ => None,
            })
            .collect();
        for t in &tables.threads {
            tr.threads.insert(
                t.tid,
                Thread {
                    pid: t.pid,
                    comm: Some(t.comm.clone()),
                },
            );
            let p = tr.procs.entry(t.pid).or_default();
            if t.tid == t.pid || p.cwd.is_empty() {
                p.cwd = with_slash(t.cwd.clone());
            }
            for fd in &t.fds {
                p.fds.insert(fd.fd, fd_from_record(fd, &server_ports));
            }
        }
        tr
    }

    /// `proc.name` of the event's thread.
    pub fn comm(&self, tid: i64) -> Option<&str> {
        self.threads.get(&tid).and_then(|t| t.comm.as_deref())
    }

    fn proc_of(&mut self, tid: i64) -> Option<&mut Process> {
        let pid = self.threads.get(&tid)?.pid;
        Some(self.procs.entry(pid).or_default())
    }

    fn stored_enter(&self, tid: i64) -> Option<RawEvent<'_>> {
        let b = self.enters.get(&tid)?;
        RawEvent::parse(b).ok().map(|(e, _)| e)
    }

    /// A param from the exit event, or else from the thread's enter event of
    /// the same syscall.
    fn param_i64(&self, ev: &RawEvent<'_>, name: &str) -> Option<i64> {
        if let Some(p) = ev.param_by_name(name) {
            return p.as_i64();
        }
        let e = self.stored_enter(ev.tid() as i64)?;
        (e.type_name() == ev.type_name())
            .then(|| e.param_by_name(name).and_then(|p| p.as_i64()))
            .flatten()
    }

    fn param_bytes(&self, ev: &RawEvent<'_>, name: &str) -> Option<Vec<u8>> {
        if let Some(p) = ev.param_by_name(name) {
            return Some(p.bytes.to_vec());
        }
        let e = self.stored_enter(ev.tid() as i64)?;
        if e.type_name() != ev.type_name() {
            return None;
        }
        e.param_by_name(name).map(|p| p.bytes.to_vec())
    }

    fn resolve_path(&self, tid: i64, dirfd: Option<i64>, path: &str) -> String {
        if path.starts_with('/') {
            return normalize(path);
        }
        let base = match dirfd {
            Some(d) if d != PPM_AT_FDCWD => self
                .threads
                .get(&tid)
                .and_then(|t| self.procs.get(&t.pid))
                .and_then(|p| p.fds.get(&d))
                .map(|f| with_slash(f.name.clone()))
                .unwrap_or_default(),
            _ => self
                .threads
                .get(&tid)
                .and_then(|t| self.procs.get(&t.pid))
                .map(|p| p.cwd.clone())
                .unwrap_or_default(),
        };
        let mut out = String::new();
        peregrine_event::format::concatenate_paths(&mut out, &base, path);
        out
    }

    fn add_fd(&mut self, tid: i64, fd: i64, mut f: Fd) {
        if fd < 0 {
            return;
        }
        f.name = sanitize(&f.name);
        if let Some(p) = self.proc_of(tid) {
            p.fds.insert(fd, f);
        }
    }

    /// State changes that libsinsp applies before an event is printed.
    pub fn before(&mut self, ev: &RawEvent<'_>) {
        let tid = ev.tid() as i64;
        self.see_thread(ev);
        let action = self
            .actions
            .get(ev.event_type() as usize)
            .copied()
            .unwrap_or(Action::None);
        if action == Action::None {
            return;
        }
        if ev.direction() == Direction::Enter {
            if action == Action::Listen {
                // A listening socket is a server: its protocol shows from now on.
                if let Some(fd) = ev.param_by_name("fd").and_then(|p| p.as_i64()) {
                    if let Some(f) = self.proc_of(tid).and_then(|p| p.fds.get_mut(&fd)) {
                        f.role = true;
                    }
                }
            }
            let buf = self.enters.entry(tid).or_default();
            buf.clear();
            buf.extend_from_slice(ev.as_bytes());
            return;
        }
        let res = ev
            .param_by_name("res")
            .or_else(|| ev.param_by_name("fd"))
            .and_then(|p| p.as_i64())
            .unwrap_or(-1);
        match action {
            Action::Clone => self.on_clone(ev, res),
            Action::Execve if res == 0 => self.on_execve(ev),
            Action::Open if res >= 0 => {
                let name = self
                    .param_bytes(ev, "name")
                    .or_else(|| self.param_bytes(ev, "pathname"))
                    .map(|b| text(&b))
                    .unwrap_or_default();
                let flags = self.param_i64(ev, "flags").unwrap_or(0) as u32;
                let dirfd = self.param_i64(ev, "dirfd");
                let full = self.resolve_path(tid, dirfd, &name);
                let kind = if flags & PPM_O_DIRECTORY != 0 {
                    'd'
                } else {
                    'f'
                };
                self.add_fd(tid, res, Fd::plain(kind, full));
            }
            Action::Socket if res >= 0 => {
                let domain = self.param_i64(ev, "domain").unwrap_or(0) as u32;
                let ty = self.param_i64(ev, "type").unwrap_or(0) as u32 & 0xf;
                let proto = self.param_i64(ev, "proto").unwrap_or(0) as u32;
                let (kind, l4) = match domain as u8 {
                    PPM_AF_INET | PPM_AF_INET6 => {
                        let k = if domain as u8 == PPM_AF_INET {
                            '4'
                        } else {
                            '6'
                        };
                        let l4 = match (ty, proto) {
                            (1, _) => Some('t'),
                            (2, _) => Some('u'),
                            (3, 1) | (3, 58) => Some('i'),
                            (3, _) => Some('r'),
                            _ => None,
                        };
                        (k, l4)
                    }
                    PPM_AF_UNIX => ('u', None),
                    _ if domain == AF_NETLINK => ('n', None),
                    _ => ('o', None),
                };
                self.add_fd(
                    tid,
                    res,
                    Fd {
                        kind,
                        l4,
                        role: false,
                        name: String::new(),
                    },
                );
            }
            Action::Connect | Action::Accept => {
                let fd = if action == Action::Accept {
                    res
                } else {
                    self.param_i64(ev, "fd").unwrap_or(-1)
                };
                let tuple = ev.param_by_name("tuple").map(|p| p.bytes.to_vec());
                if fd < 0 || (action == Action::Connect && res < 0 && res != -115) {
                    return;
                }
                let Some(tb) = tuple else { return };
                let Some(t) = SockTuple::decode(&tb) else {
                    return;
                };
                let old_l4 = self
                    .proc_of(tid)
                    .and_then(|p| p.fds.get(&fd))
                    .and_then(|f| f.l4);
                let (kind, name) = match t {
                    SockTuple::Inet { .. } => ('4', t.to_string()),
                    SockTuple::Inet6 { sip, dip, .. } => {
                        let mapped = peregrine_event::net::is_ipv4_mapped(&sip)
                            && peregrine_event::net::is_ipv4_mapped(&dip);
                        (if mapped { '4' } else { '6' }, t.to_string())
                    }
                    SockTuple::Unix { path, .. } => {
                        ('u', String::from_utf8_lossy(path).into_owned())
                    }
                    _ => return,
                };
                let l4 = if kind == 'u' {
                    None
                } else {
                    old_l4.or(Some('t'))
                };
                self.add_fd(
                    tid,
                    fd,
                    Fd {
                        kind,
                        l4,
                        role: true,
                        name,
                    },
                );
            }
            Action::Bind if res >= 0 => {
                let fd = self.param_i64(ev, "fd").unwrap_or(-1);
                let Some(a) = ev.param_by_name("addr").map(|p| p.bytes.to_vec()) else {
                    return;
                };
                if let Some(p) = self.proc_of(tid) {
                    if let (Some(f), Some(addr)) = (p.fds.get_mut(&fd), SockAddr::decode(&a)) {
                        if let SockAddr::Unix(path) = addr {
                            f.name = String::from_utf8_lossy(path).into_owned();
                        } else {
                            f.name = addr.to_string();
                        }
                    }
                }
            }
            Action::Pipe | Action::SocketPair if res >= 0 => {
                let kind = if action == Action::Pipe { 'p' } else { 'u' };
                for name in ["fd1", "fd2"] {
                    if let Some(fd) = ev.param_by_name(name).and_then(|p| p.as_i64()) {
                        self.add_fd(tid, fd, Fd::plain(kind, String::new()));
                    }
                }
            }
            Action::Dup if res >= 0 => {
                let old = self
                    .param_i64(ev, "oldfd")
                    .or_else(|| self.param_i64(ev, "fd"));
                if let (Some(old), Some(p)) = (old, self.proc_of(tid)) {
                    if let Some(f) = p.fds.get(&old).cloned() {
                        p.fds.insert(res, f);
                    }
                }
            }
            Action::Chdir if res >= 0 => {
                if let Some(path) = ev
                    .param_by_name("path")
                    .and_then(|p| p.as_str().map(str::to_string))
                {
                    let full = self.resolve_path(tid, None, &path);
                    if let Some(p) = self.proc_of(tid) {
                        p.cwd = with_slash(full);
                    }
                }
            }
            Action::Fchdir if res >= 0 => {
                if let Some(fd) = self.param_i64(ev, "fd") {
                    if let Some(p) = self.proc_of(tid) {
                        if let Some(f) = p.fds.get(&fd) {
                            p.cwd = with_slash(f.name.clone());
                        }
                    }
                }
            }
            Action::NewFd(kind) if res >= 0 => {
                self.add_fd(tid, res, Fd::plain(kind, String::new()));
            }
            _ => {}
        }
    }

    /// State changes libsinsp applies after the event is printed.
    pub fn after(&mut self, ev: &RawEvent<'_>) {
        let tid = ev.tid() as i64;
        let action = self
            .actions
            .get(ev.event_type() as usize)
            .copied()
            .unwrap_or(Action::None);
        match (action, ev.direction()) {
            (Action::Close, Direction::Exit) => {
                let ok = ev.param_by_name("res").and_then(|p| p.as_i64()) == Some(0);
                if let (true, Some(fd)) = (ok, self.param_i64(ev, "fd")) {
                    if let Some(p) = self.proc_of(tid) {
                        p.fds.remove(&fd);
                    }
                }
            }
            (Action::ProcExit, _) => {
                self.threads.remove(&tid);
                self.enters.remove(&tid);
            }
            _ => {}
        }
    }

    /// libsinsp creates a thread entry (named `<NA>`) the first time it
    /// sees an unknown thread, except for events that skip thread lookup.
    fn see_thread(&mut self, ev: &RawEvent<'_>) {
        let tid = ev.tid() as i64;
        if self.threads.contains_key(&tid) {
            return;
        }
        let Some(info) = ev.info() else { return };
        let skip = info.flags & table::eflags::EF_SKIPPARSERESET != 0
            || matches!(
                ev.event_type(),
                table::PPME_CONTAINER_JSON_E
                    | table::PPME_CONTAINER_JSON_2_E
                    | table::PPME_SCHEDSWITCH_6_E
            )
            || (self.actions.get(ev.event_type() as usize) == Some(&Action::Clone)
                && ev.direction() == Direction::Exit);
        if skip {
            return;
        }
        self.threads.insert(
            tid,
            Thread {
                pid: tid,
                comm: None,
            },
        );
        self.procs.entry(tid).or_default();
    }

    fn on_clone(&mut self, ev: &RawEvent<'_>, res: i64) {
        let caller = ev.tid() as i64;
        let flags = ev
            .param_by_name("flags")
            .and_then(|p| p.as_i64())
            .unwrap_or(0) as u32;
        let comm_param = ev
            .param_by_name("comm")
            .and_then(|p| p.as_str().map(str::to_string))
            .or_else(|| {
                ev.param_by_name("exe")
                    .and_then(|p| p.as_str().map(|s| basename(s).to_string()))
            });
        // Inside a pid namespace the parent sees the child's virtual id; the
        // child's own clone exit carries the real one.
        let in_namespace = ev
            .param_by_name("vtid")
            .and_then(|p| p.as_i64())
            .is_some_and(|v| v != caller);
        let (child, parent) = if res > 0 {
            if in_namespace {
                return;
            }
            (res, caller)
        } else if res == 0 {
            let ptid = ev
                .param_by_name("ptid")
                .and_then(|p| p.as_i64())
                .unwrap_or(-1);
            (caller, ptid)
        } else {
            return;
        };
        if self.threads.contains_key(&child) {
            return;
        }
        let parent_thread = self.threads.get(&parent).cloned();
        let is_thread = flags & PPM_CL_CLONE_THREAD != 0;
        let pid = if is_thread {
            parent_thread.as_ref().map_or(child, |t| t.pid)
        } else {
            child
        };
        let comm = parent_thread
            .as_ref()
            .and_then(|t| t.comm.clone())
            .or(comm_param);
        if !is_thread && !self.procs.contains_key(&pid) {
            let copy = parent_thread
                .as_ref()
                .and_then(|t| self.procs.get(&t.pid).cloned())
                .unwrap_or_else(|| Process {
                    cwd: ev
                        .param_by_name("cwd")
                        .and_then(|p| p.as_str().map(|s| with_slash(s.to_string())))
                        .unwrap_or_default(),
                    fds: HashMap::new(),
                });
            self.procs.insert(pid, copy);
        }
        self.threads.insert(child, Thread { pid, comm });
    }

    fn on_execve(&mut self, ev: &RawEvent<'_>) {
        let tid = ev.tid() as i64;
        let comm = ev
            .param_by_name("comm")
            .and_then(|p| p.as_str().map(str::to_string))
            .or_else(|| {
                ev.param_by_name("exe")
                    .and_then(|p| p.as_str().map(|s| basename(s).to_string()))
            })
            .unwrap_or_default();
        let pid = ev
            .param_by_name("pid")
            .and_then(|p| p.as_i64())
            .unwrap_or(tid);
        let cwd = ev
            .param_by_name("cwd")
            .and_then(|p| p.as_str().map(|s| with_slash(s.to_string())));
        let t = self
            .threads
            .entry(tid)
            .or_insert(Thread { pid, comm: None });
        t.comm = Some(comm);
        let pid = t.pid;
        let p = self.procs.entry(pid).or_default();
        if let Some(c) = cwd {
            p.cwd = c;
        }
    }
}

/// Removes `.`/`..`/`//` from an absolute path.
fn normalize(path: &str) -> String {
    let mut out = String::new();
    peregrine_event::format::concatenate_paths(&mut out, "/", path.trim_start_matches('/'));
    out
}

impl ArgContext for Tracker {
    fn thread_known(&self, tid: u64) -> bool {
        self.threads.contains_key(&(tid as i64))
    }
    fn fd(&self, tid: u64, fd: i64) -> Option<FdView<'_>> {
        let t = self.threads.get(&(tid as i64))?;
        let f = self.procs.get(&t.pid)?.fds.get(&fd)?;
        let l4 = if f.role || f.l4 == Some('r') {
            f.l4
        } else {
            None
        };
        Some(FdView {
            type_char: f.kind,
            l4_char: l4,
            name: &f.name,
        })
    }
    fn comm(&self, pid: i64) -> Option<&str> {
        self.threads.get(&pid).and_then(|t| t.comm.as_deref())
    }
    fn cwd(&self, tid: u64) -> Option<&str> {
        let t = self.threads.get(&(tid as i64))?;
        self.procs.get(&t.pid).map(|p| p.cwd.as_str())
    }
    fn user_name(&self, _tid: u64, uid: u32) -> Option<&str> {
        self.users.get(&uid).map(String::as_str)
    }
    fn group_name(&self, _tid: u64, gid: u32) -> Option<&str> {
        self.groups.get(&gid).map(String::as_str)
    }
    fn max_buffer_len(&self) -> usize {
        self.max_buffer_len
    }
}
