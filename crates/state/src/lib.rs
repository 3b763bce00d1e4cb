//! System state built from events: threads with their lineage, per-process
//! fd tables, users and groups. Stage: **state**.
//!
//! [`State::update`] applies one (folded, exit-side) event; the engine then
//! reads the event's thread and fds through [`State::thread`] and friends.
//! Removals (a closed fd, an exited thread) take effect at the start of the
//! next update, so rules on `close` and `procexit` still see what goes away,
//! as in libsinsp.
//!
//! Memory is bounded: the thread table and each fd table have a capacity
//! (Falco's `falco_libs.thread_table_size`), and [`State::purge`] drops
//! threads that have not been seen for a while and no longer exist.
//!
//! ```
//! use peregrine_event::{raw::encode_event, RawEvent, Tables};
//! use peregrine_event::table::PPME_SYSCALL_OPEN_X;
//! use peregrine_state::{State, StateConfig};
//!
//! let mut state = State::new(StateConfig::default(), &Tables::default());
//! let mut buf = Vec::new();
//! encode_event(&mut buf, 1, 42, PPME_SYSCALL_OPEN_X, false,
//!     &[&3i64.to_le_bytes(), b"/etc/passwd\0", &1u32.to_le_bytes(), &0u32.to_le_bytes(),
//!       &0u32.to_le_bytes(), &0u64.to_le_bytes()]);
//! let (ev, _) = RawEvent::parse(&buf).unwrap();
//! state.update(&ev);
//! let t = state.thread(42).unwrap();
//! assert_eq!(&*state.fd(t, 3).unwrap().name, "/etc/passwd");
//! ```

pub mod consts;
mod context;
pub mod fd;
pub mod fold;
mod handlers;
pub mod params;
mod seed;
mod snapshot;
pub mod thread;
pub mod users;

use peregrine_event::table::{self, EVENT_MAX};
use peregrine_event::{RawEvent, Tables};

pub use fd::{Fd, FdTable, Role, SockAddrs, L4};
pub use fold::{Folded, Folder};
pub use thread::{Process, Thread, ThreadTable};
pub use users::{Group, User, Users};

/// Reads a thread the state has never seen (live: from /proc).
pub type ThreadLookup =
    Box<dyn FnMut(i64) -> Option<peregrine_event::records::ThreadRecord> + Send>;

pub struct StateConfig {
    /// Most threads kept (Falco's `falco_libs.thread_table_size`).
    pub max_threads: usize,
    /// Most fds kept per process.
    pub max_fds_per_process: usize,
    pub thread_lookup: Option<ThreadLookup>,
}

impl Default for StateConfig {
    fn default() -> StateConfig {
        StateConfig {
            max_threads: 262_144,
            max_fds_per_process: 4096,
            thread_lookup: None,
        }
    }
}

/// Counters for what state did and what it refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateStats {
    pub events: u64,
    pub threads_added: u64,
    pub threads_removed: u64,
    /// New threads refused because the table was full.
    pub threads_dropped: u64,
    pub threads_purged: u64,
    /// Threads first seen in an event (not from clone, /proc or the capture).
    pub threads_unknown: u64,
    pub threads_looked_up: u64,
    pub fds_added: u64,
    pub fds_removed: u64,
    /// New fds refused because the process's table was full.
    pub fds_dropped: u64,
}

/// What an event type means to state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    None,
    Clone,
    Execve,
    ProcExit,
    Open,
    Socket,
    Connect,
    Accept,
    Bind,
    Listen,
    Pipe,
    SocketPair,
    Dup,
    Fcntl,
    Close,
    Chdir,
    Fchdir,
    Chroot,
    SetUid,
    SetResUid,
    SetReUid,
    SetGid,
    SetResGid,
    SetReGid,
    SetSid,
    Capset,
    /// send*/recv*: datagram sockets learn their peer from the tuple.
    Transfer {
        outgoing: bool,
    },
    /// An fd-creating syscall whose fd kind is known from its name.
    NewFd(peregrine_event::records::FdKind),
    MemfdCreate,
    PidfdOpen,
}

fn action_for(name: &str) -> Action {
    use peregrine_event::records::FdKind as K;
    match name {
        "clone" | "fork" | "vfork" | "clone3" => Action::Clone,
        "execve" | "execveat" => Action::Execve,
        "procexit" => Action::ProcExit,
        "open" | "openat" | "openat2" | "creat" | "open_by_handle_at" => Action::Open,
        "socket" => Action::Socket,
        "connect" => Action::Connect,
        "accept" | "accept4" => Action::Accept,
        "bind" => Action::Bind,
        "listen" => Action::Listen,
        "pipe" | "pipe2" => Action::Pipe,
        "socketpair" => Action::SocketPair,
        "dup" | "dup2" | "dup3" => Action::Dup,
        "fcntl" => Action::Fcntl,
        "close" => Action::Close,
        "chdir" => Action::Chdir,
        "fchdir" => Action::Fchdir,
        "chroot" => Action::Chroot,
        "setuid" => Action::SetUid,
        "setresuid" => Action::SetResUid,
        "setreuid" => Action::SetReUid,
        "setgid" => Action::SetGid,
        "setresgid" => Action::SetResGid,
        "setregid" => Action::SetReGid,
        "setsid" => Action::SetSid,
        "capset" => Action::Capset,
        "send" | "sendto" | "sendmsg" | "sendmmsg" => Action::Transfer { outgoing: true },
        "recv" | "recvfrom" | "recvmsg" | "recvmmsg" => Action::Transfer { outgoing: false },
        "eventfd" | "eventfd2" => Action::NewFd(K::Event),
        "signalfd" | "signalfd4" => Action::NewFd(K::SignalFd),
        "timerfd_create" => Action::NewFd(K::TimerFd),
        "inotify_init" | "inotify_init1" => Action::NewFd(K::Inotify),
        "epoll_create" | "epoll_create1" => Action::NewFd(K::EventPoll),
        "userfaultfd" => Action::NewFd(K::UserFaultFd),
        "io_uring_setup" => Action::NewFd(K::IoUring),
        "bpf" => Action::NewFd(K::Bpf),
        "memfd_create" => Action::MemfdCreate,
        "pidfd_open" | "pidfd_getfd" => Action::PidfdOpen,
        _ => Action::None,
    }
}

/// The fd an event works on: an fd-creating exit's result, or the `fd`
/// param of an event that uses or closes one; -1 otherwise.
fn event_fd(ev: &RawEvent<'_>) -> i64 {
    use table::eflags::{EF_CREATES_FD, EF_DESTROYS_FD, EF_USES_FD};
    let Some(info) = ev.info() else { return -1 };
    let exit = table::direction(ev.event_type()) == table::Direction::Exit;
    if exit && info.flags & EF_CREATES_FD != 0 {
        let res = ev.typed_param(0).and_then(|p| p.as_i64()).unwrap_or(-1);
        if res < 0 {
            return -1;
        }
        // Two-fd syscalls point at the second fd, like libsinsp.
        use params::ParamsExt;
        return ev.int(params::P::FD2).unwrap_or(res);
    }
    if info.flags & (EF_USES_FD | EF_DESTROYS_FD) == 0 {
        return -1;
    }
    let idx = info.param_index("fd").or_else(|| {
        info.params
            .iter()
            .position(|p| matches!(p.ty, table::ParamType::Fd | table::ParamType::Fd32))
    });
    idx.and_then(|i| ev.typed_param(i))
        .filter(|p| !p.bytes.is_empty())
        .and_then(|p| p.as_i64())
        .unwrap_or(-1)
}

/// Removals deferred to the start of the next event.
#[derive(Debug, Default)]
struct Pending {
    close: Option<(i64, i64)>,
    exit: Option<i64>,
}

pub struct State {
    pub(crate) threads: ThreadTable,
    pub(crate) users: Users,
    pub(crate) config: StateConfig,
    pub(crate) stats: StateStats,
    actions: Vec<Action>,
    pending: Pending,
    /// Scratch for building names (paths, tuples) without reallocating.
    pub(crate) scratch: String,
    /// Largest buffer rendered in `evt.args` (sysdig: 80).
    pub max_buffer_len: usize,
    /// Boot time from the machine info, for `pidns_init_start_ts` defaults.
    pub boot_ts: u64,
}

impl State {
    pub fn new(config: StateConfig, tables: &Tables) -> State {
        let mut s = State::empty(config, tables);
        s.seed(tables);
        s
    }

    /// [`State::new`] from tables given away, so the process table is not
    /// held twice while state is built (a replay's peak memory).
    pub fn from_tables(config: StateConfig, tables: Tables) -> State {
        let mut s = State::empty(config, &tables);
        s.seed_owned(tables);
        s
    }

    fn empty(config: StateConfig, tables: &Tables) -> State {
        let actions = (0..EVENT_MAX as u16)
            .map(|t| {
                table::event_info(t)
                    .filter(|i| !i.is_unused())
                    .map_or(Action::None, |i| {
                        // State changes come from exit events (and procexit).
                        let enter = table::direction(t) == table::Direction::Enter;
                        let a = action_for(i.name);
                        if enter && a != Action::ProcExit {
                            Action::None
                        } else {
                            a
                        }
                    })
            })
            .collect();
        State {
            threads: ThreadTable::default(),
            users: Users::default(),
            config,
            stats: StateStats::default(),
            actions,
            pending: Pending::default(),
            scratch: String::new(),
            max_buffer_len: 80,
            boot_ts: tables.machine.as_ref().map_or(0, |m| m.boot_time_ns),
        }
    }

    /// Adds what a source learned later (e.g. a proc-list block mid-file).
    pub fn add_tables(&mut self, tables: &Tables) {
        self.seed(tables);
    }

    pub fn stats(&self) -> StateStats {
        self.stats
    }

    pub fn threads(&self) -> &ThreadTable {
        &self.threads
    }

    pub fn users(&self) -> &Users {
        &self.users
    }

    pub fn users_mut(&mut self) -> &mut Users {
        &mut self.users
    }

    #[inline]
    pub fn thread(&self, tid: i64) -> Option<&Thread> {
        self.threads.get(tid)
    }

    /// The process-wide part (fds, cwd) of a thread.
    #[inline]
    pub fn process(&self, t: &Thread) -> Option<&Process> {
        self.threads.process(t)
    }

    #[inline]
    pub fn fd(&self, t: &Thread, fd: i64) -> Option<&Fd> {
        self.threads.process(t)?.fds.get(fd)
    }

    /// The thread's working directory (ends with `/`), if known.
    pub fn cwd(&self, t: &Thread) -> Option<&str> {
        self.threads
            .process(t)
            .map(|p| &*p.cwd)
            .filter(|c| !c.is_empty())
    }

    pub fn user(&self, t: &Thread) -> Option<&User> {
        self.users.user(t.container_id(), t.uid)
    }

    pub fn group(&self, t: &Thread) -> Option<&Group> {
        self.users.group(t.container_id(), t.gid)
    }

    /// Applies one event. Enter events other than `procexit` change nothing
    /// (the folder has merged them into their exits).
    pub fn update(&mut self, ev: &RawEvent<'_>) {
        self.flush_pending();
        self.stats.events += 1;
        let tid = ev.tid() as i64;
        let action = self
            .actions
            .get(ev.event_type() as usize)
            .copied()
            .unwrap_or(Action::None);
        self.ensure_thread(ev, action);
        if let Some(t) = self.threads.get_mut(tid) {
            t.last_seen_ts = ev.ts();
            t.last_event_fd = event_fd(ev);
        }
        if action != Action::None {
            handlers::apply(self, ev, action);
        }
    }

    /// Drops threads not seen for `max_age_ns` (by event time `now`) for
    /// which `still_exists(tid)` says no. Returns how many were removed.
    pub fn purge(
        &mut self,
        now: u64,
        max_age_ns: u64,
        still_exists: impl Fn(i64) -> bool,
    ) -> usize {
        let stale: Vec<i64> = self
            .threads
            .iter()
            .filter(|t| now.saturating_sub(t.last_seen_ts) > max_age_ns && !still_exists(t.tid))
            .map(|t| t.tid)
            .collect();
        for tid in &stale {
            self.threads.remove(*tid);
        }
        self.stats.threads_purged += stale.len() as u64;
        stale.len()
    }

    fn flush_pending(&mut self) {
        if let Some((key, fd)) = self.pending.close.take() {
            if let Some(p) = self.threads.procs.get_mut(&key) {
                if p.fds.remove(fd).is_some() {
                    self.stats.fds_removed += 1;
                }
            }
        }
        if let Some(tid) = self.pending.exit.take() {
            if self.threads.get(tid).is_some_and(|t| t.dead) {
                self.threads.remove(tid);
                self.stats.threads_removed += 1;
            }
        }
    }

    pub(crate) fn defer_close(&mut self, key: i64, fd: i64) {
        self.pending.close = Some((key, fd));
    }

    pub(crate) fn defer_exit(&mut self, tid: i64) {
        self.pending.exit = Some(tid);
    }

    /// libsinsp creates an entry for a thread the first time one of its
    /// events arrives, except for events that must not (clone exits carry
    /// the child's identity and create it themselves; some meta events have
    /// no thread).
    fn ensure_thread(&mut self, ev: &RawEvent<'_>, action: Action) {
        let tid = ev.tid() as i64;
        if self.threads.get(tid).is_some() || tid <= 0 {
            return;
        }
        let Some(info) = ev.info() else { return };
        if info.flags & table::eflags::EF_SKIPPARSERESET != 0
            || info.category & table::category::EC_METAEVENT != 0
            || info.category & table::category::EC_INTERNAL != 0
            || info.name == "switch"
            || action == Action::Clone
        {
            return;
        }
        if let Some(lookup) = self.config.thread_lookup.as_mut() {
            if let Some(rec) = lookup(tid) {
                self.stats.threads_looked_up += 1;
                self.add_record(&rec);
                return;
            }
        }
        if self.insert_thread(Thread::unknown(tid)) {
            self.stats.threads_unknown += 1;
        }
    }

    /// Inserts a thread unless the table is full. Returns whether it went in.
    pub(crate) fn insert_thread(&mut self, mut t: Thread) -> bool {
        if self.threads.get(t.tid).is_none() && self.threads.len() >= self.config.max_threads {
            self.stats.threads_dropped += 1;
            return false;
        }
        if t.container.is_none() && !t.cgroups.is_empty() {
            t.refresh_container();
        }
        self.threads.insert(t);
        self.stats.threads_added += 1;
        true
    }

    /// Adds an fd to a thread's process, within the per-process bound.
    pub(crate) fn add_fd(&mut self, tid: i64, fd: i64, f: Fd) {
        if fd < 0 {
            return;
        }
        let Some(key) = self.threads.get(tid).map(Thread::process_key) else {
            return;
        };
        let max = self.config.max_fds_per_process;
        let p = self.threads.process_mut(key);
        if p.fds.get(fd).is_none() && p.fds.len() >= max {
            self.stats.fds_dropped += 1;
            return;
        }
        if p.fds.insert(fd, f) {
            self.stats.fds_added += 1;
        }
    }
}
