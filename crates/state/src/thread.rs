//! Threads and the process-wide state they share.
//!
//! Like libsinsp, a thread has its own identity (tid, comm, exe, args, uids,
//! …) while the fd table and working directory belong to the process (all
//! threads with the same pid share them). Strings are `Arc`-shared so that
//! clone copies a parent in a few reference-count increments.

use std::sync::Arc;

use peregrine_container::ContainerRef;
use rustc_hash::FxHashMap;

use crate::fd::FdTable;

pub type Strs = Arc<[Box<str>]>;

#[derive(Debug, Clone)]
pub struct Thread {
    pub tid: i64,
    /// -1 when the thread was first seen in an event and its process is
    /// unknown (libsinsp reports `proc.pid` as -1 then).
    pub pid: i64,
    pub ptid: i64,
    pub sid: i64,
    pub vpgid: i64,
    pub pgid: i64,
    pub vtid: i64,
    pub vpid: i64,
    /// `None` for threads known only from an event (`<NA>`).
    pub comm: Option<Arc<str>>,
    pub exe: Arc<str>,
    pub exepath: Arc<str>,
    pub args: Strs,
    pub env: Strs,
    /// `(subsystem, path)` pairs.
    pub cgroups: Arc<[(Box<str>, Box<str>)]>,
    pub root: Arc<str>,
    pub uid: u32,
    pub gid: u32,
    pub euid: u32,
    pub egid: u32,
    pub loginuid: u32,
    pub tty: u32,
    /// `PPM_CL_*` flags of the clone that made it, plus exe flags after exec.
    pub flags: u32,
    /// `PPM_EXE_*` flags from the last execve.
    pub exe_flags: u32,
    pub fdlimit: i64,
    pub pfmajor: u64,
    pub pfminor: u64,
    pub vmsize_kb: u32,
    pub vmrss_kb: u32,
    pub vmswap_kb: u32,
    pub cap_permitted: u64,
    pub cap_effective: u64,
    pub cap_inheritable: u64,
    pub exe_ino: u64,
    pub exe_ino_ctime: u64,
    pub exe_ino_mtime: u64,
    pub clone_ts: u64,
    pub lastexec_ts: u64,
    pub pidns_init_start_ts: u64,
    /// Timestamp of the last event of this thread (for purging).
    pub last_seen_ts: u64,
    /// The container the thread runs in (from its cgroups), `None` on the
    /// host.
    pub container: Option<ContainerRef>,
    /// The thread exited; it is removed after the current event.
    pub dead: bool,
    /// The fd the thread's current event works on (libsinsp's
    /// `m_lastevent_fd`): -1 when the event names none.
    pub last_event_fd: i64,
}

impl Thread {
    /// A thread first seen in an event of its own.
    pub fn unknown(tid: i64) -> Thread {
        let empty: Arc<str> = Arc::from("");
        Thread {
            tid,
            pid: -1,
            ptid: -1,
            sid: -1,
            vpgid: -1,
            pgid: -1,
            vtid: -1,
            vpid: -1,
            comm: None,
            exe: empty.clone(),
            exepath: empty.clone(),
            args: Arc::from(Vec::new()),
            env: Arc::from(Vec::new()),
            cgroups: Arc::from(Vec::new()),
            root: empty.clone(),
            uid: u32::MAX,
            gid: u32::MAX,
            euid: u32::MAX,
            egid: u32::MAX,
            loginuid: u32::MAX,
            tty: 0,
            flags: 0,
            exe_flags: 0,
            fdlimit: 0,
            pfmajor: 0,
            pfminor: 0,
            vmsize_kb: 0,
            vmrss_kb: 0,
            vmswap_kb: 0,
            cap_permitted: 0,
            cap_effective: 0,
            cap_inheritable: 0,
            exe_ino: 0,
            exe_ino_ctime: 0,
            exe_ino_mtime: 0,
            clone_ts: 0,
            lastexec_ts: 0,
            pidns_init_start_ts: 0,
            last_seen_ts: 0,
            container: None,
            dead: false,
            last_event_fd: -1,
        }
    }

    /// Key of the process whose fds and cwd this thread uses.
    #[inline]
    pub fn process_key(&self) -> i64 {
        if self.pid > 0 {
            self.pid
        } else {
            self.tid
        }
    }

    #[inline]
    pub fn is_main(&self) -> bool {
        self.tid == self.pid
    }

    /// The full container id, empty on the host.
    #[inline]
    pub fn container_id(&self) -> &str {
        self.container.as_ref().map_or("", ContainerRef::id)
    }

    /// Recomputes the container from the cgroups.
    pub fn refresh_container(&mut self) {
        self.container = ContainerRef::from_cgroups(self.cgroups.iter().map(|(_, p)| &**p));
    }

    /// `proc.name`, or `None` when unknown.
    pub fn name(&self) -> Option<&str> {
        self.comm.as_deref()
    }
}

/// What threads of one process share.
#[derive(Debug, Clone, Default)]
pub struct Process {
    pub fds: FdTable,
    /// Working directory, always ending in `/`.
    pub cwd: Arc<str>,
    pub nthreads: u32,
}

/// Threads live densely in a vector; a small map from tid to slot keeps
/// the per-event lookup in cache (the map's entries are 16 bytes, a thread
/// is a few hundred).
#[derive(Debug, Default)]
pub struct ThreadTable {
    index: FxHashMap<i64, u32>,
    slots: Vec<Thread>,
    pub(crate) procs: FxHashMap<i64, Process>,
}

impl ThreadTable {
    #[inline]
    pub fn get(&self, tid: i64) -> Option<&Thread> {
        let i = *self.index.get(&tid)?;
        self.slots.get(i as usize)
    }

    #[inline]
    pub fn get_mut(&mut self, tid: i64) -> Option<&mut Thread> {
        let i = *self.index.get(&tid)?;
        self.slots.get_mut(i as usize)
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Thread> {
        self.slots.iter()
    }

    /// The process (fds, cwd) of a thread.
    #[inline]
    pub fn process(&self, t: &Thread) -> Option<&Process> {
        self.procs.get(&t.process_key())
    }

    pub fn process_mut(&mut self, key: i64) -> &mut Process {
        self.procs.entry(key).or_default()
    }

    pub fn process_by_key(&self, key: i64) -> Option<&Process> {
        self.procs.get(&key)
    }

    /// The thread's parent (by `ptid`), skipping nothing.
    #[inline]
    pub fn parent(&self, t: &Thread) -> Option<&Thread> {
        if t.ptid <= 0 || t.ptid == t.tid {
            return None;
        }
        self.get(t.ptid)
    }

    /// The main thread of the thread's process (itself for main threads).
    pub fn main_thread<'a>(&'a self, t: &'a Thread) -> &'a Thread {
        if t.is_main() || t.pid <= 0 {
            return t;
        }
        self.get(t.pid).unwrap_or(t)
    }

    /// Ancestors, nearest first, bounded so a loop in bad data cannot spin.
    pub fn ancestors<'a>(&'a self, t: &'a Thread) -> Ancestors<'a> {
        Ancestors {
            table: self,
            cur: Some(self.main_thread(t)),
            left: 256,
        }
    }

    /// Inserts a thread, accounting it in its process.
    pub(crate) fn insert(&mut self, t: Thread) {
        let key = t.process_key();
        match self.index.get(&t.tid) {
            Some(&i) => {
                let old = std::mem::replace(&mut self.slots[i as usize], t);
                if let Some(p) = self.procs.get_mut(&old.process_key()) {
                    p.nthreads = p.nthreads.saturating_sub(1);
                }
            }
            None => {
                self.index.insert(t.tid, self.slots.len() as u32);
                self.slots.push(t);
            }
        }
        self.procs.entry(key).or_default().nthreads += 1;
    }

    /// Moves a thread's process accounting from `old` to `new` (its pid
    /// became known); a process left without threads hands over its fds.
    pub(crate) fn rekey(&mut self, _tid: i64, old: i64, new: i64) {
        let Some(mut p) = self.procs.remove(&old) else {
            return;
        };
        p.nthreads = p.nthreads.saturating_sub(1);
        let target = self.procs.entry(new).or_default();
        target.nthreads += 1;
        if target.fds.is_empty() {
            target.fds = std::mem::take(&mut p.fds);
        }
        if target.cwd.is_empty() {
            target.cwd = p.cwd.clone();
        }
        if p.nthreads > 0 {
            self.procs.insert(old, p);
        }
    }

    /// Removes a thread; the process goes with its last thread.
    pub(crate) fn remove(&mut self, tid: i64) -> Option<Thread> {
        let i = self.index.remove(&tid)? as usize;
        let t = self.slots.swap_remove(i);
        if let Some(moved) = self.slots.get(i) {
            self.index.insert(moved.tid, i as u32);
        }
        let key = t.process_key();
        if let Some(p) = self.procs.get_mut(&key) {
            p.nthreads = p.nthreads.saturating_sub(1);
            if p.nthreads == 0 {
                self.procs.remove(&key);
            }
        }
        Some(t)
    }
}

/// Walks `ptid` links from a process to init.
pub struct Ancestors<'a> {
    table: &'a ThreadTable,
    cur: Option<&'a Thread>,
    left: u32,
}

impl<'a> Iterator for Ancestors<'a> {
    type Item = &'a Thread;
    fn next(&mut self) -> Option<&'a Thread> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let cur = self.cur?;
        let parent = self.table.parent(cur).map(|p| self.table.main_thread(p));
        self.cur = parent;
        parent
    }
}
