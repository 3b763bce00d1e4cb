//! Harness for live probe tests: load the real probe, fork a child that makes
//! raw syscalls, and collect the child's (and its descendants') events until
//! they exit. The child only calls async-signal-safe libc functions (we fork
//! a multi-threaded test process), so everything it needs is prepared first.
#![allow(dead_code)]

use peregrine_ebpf::{interest::ScSet, Design, LiveConfig, LiveSource};
use peregrine_event::raw::RawEvent;
use peregrine_event::table as t;
use peregrine_event::{EventSource, Next, Value};
use std::collections::HashSet;
use std::ffi::CString;
use std::time::{Duration, Instant};

pub const DESIGNS: [Design; 2] = [Design::Dispatch, Design::Tracepoint];

/// An event copied out of the ring for assertions.
#[derive(Clone)]
pub struct Ev {
    pub bytes: Vec<u8>,
    pub cpu: u16,
}

impl std::fmt::Debug for Ev {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let e = self.ev();
        write!(f, "{}:{}(", e.tid(), e.type_name())?;
        for p in e.typed_params() {
            write!(f, "{}={:?} ", p.name(), p.value())?;
        }
        write!(f, ")")
    }
}

impl Ev {
    pub fn ev(&self) -> RawEvent<'_> {
        RawEvent::parse(&self.bytes).expect("event parses").0
    }
    pub fn ty(&self) -> u16 {
        self.ev().event_type()
    }
    pub fn tid(&self) -> i64 {
        self.ev().tid() as i64
    }
    pub fn value(&self, name: &str) -> Value<'_> {
        self.ev()
            .param_by_name(name)
            .unwrap_or_else(|| panic!("{self:?} has no param {name}"))
            .value()
    }
    pub fn int(&self, name: &str) -> i64 {
        match self.value(name) {
            Value::Int(v) | Value::Errno(v) | Value::Fd(v) | Value::Pid(v) => v,
            Value::Uint(v) => v as i64,
            Value::Flags(v) | Value::Uid(v) | Value::Gid(v) => v as i64,
            Value::Signal(v) => v as i64,
            Value::AbsTime(v) | Value::RelTime(v) => v as i64,
            other => panic!("{name} of {self:?} is not an integer: {other:?}"),
        }
    }
    pub fn str(&self, name: &str) -> String {
        match self.value(name) {
            Value::Str(b) | Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            Value::Empty => String::new(),
            other => panic!("{name} of {self:?} is not a string: {other:?}"),
        }
    }
    /// A NUL-separated list param (args, env, cgroups).
    pub fn list(&self, name: &str) -> Vec<String> {
        let p = self.ev().param_by_name(name).expect("param");
        peregrine_event::param::split_nul(p.bytes)
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect()
    }
    /// Every param is present and decodes per the table.
    pub fn assert_well_formed(&self) {
        let e = self.ev();
        let info = e.info().expect("known event type");
        assert_eq!(
            e.nparams() as usize,
            info.params.len(),
            "{self:?}: param count differs from the table"
        );
        for p in e.typed_params() {
            assert_ne!(
                p.value(),
                Value::Invalid,
                "{self:?}: {} is malformed",
                p.name()
            );
        }
    }
}

pub fn set(names: &[&str]) -> ScSet {
    let mut s = ScSet::new();
    for n in names {
        assert!(s.insert_name(n), "unknown syscall {n}");
    }
    s.insert_name("sched_process_exit");
    s
}

pub fn open(design: Design, names: &[&str]) -> LiveSource {
    open_with(design, set(names), |_| {})
}

pub fn open_with(
    design: Design,
    interest: ScSet,
    tweak: impl FnOnce(&mut LiveConfig),
) -> LiveSource {
    let mut cfg = LiveConfig::default();
    cfg.probe.design = design;
    cfg.probe.interest = interest;
    cfg.probe.ring_bytes_per_cpu = 4 << 20;
    cfg.scan_proc = false;
    cfg.poll_interval = Duration::from_millis(50);
    tweak(&mut cfg);
    LiveSource::open(&cfg).unwrap_or_else(|e| panic!("loading the probe ({design:?}): {e}"))
}

/// Forks a child running `f`, which must only make raw syscalls, then
/// `_exit(0)`s. Returns its pid.
pub fn fork_child(f: impl FnOnce()) -> i32 {
    // SAFETY: the child only runs `f` (raw syscalls, no allocation) and exits.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        f();
        // SAFETY: leaving the child without running destructors or atexit.
        unsafe { libc::_exit(0) };
    }
    pid
}

pub fn wait(pid: i32) -> i32 {
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    status
}

/// Collects events of `root` and of every process it creates, until `root`
/// and all of them have exited (procexit seen) or `timeout` passes.
pub fn collect(src: &mut LiveSource, root: i32, timeout: Duration) -> Vec<Ev> {
    let mut tracked: HashSet<i64> = HashSet::from([root as i64]);
    let mut exited: HashSet<i64> = HashSet::new();
    let mut out = Vec::new();
    let start = Instant::now();
    while start.elapsed() < timeout {
        match src.next().expect("next") {
            Next::Event(se) => {
                let e = se.event;
                let tid = e.tid() as i64;
                let ty = e.event_type();
                let is_clone = matches!(
                    ty,
                    t::PPME_SYSCALL_CLONE_20_X
                        | t::PPME_SYSCALL_CLONE3_X
                        | t::PPME_SYSCALL_FORK_20_X
                        | t::PPME_SYSCALL_VFORK_20_X
                );
                // A child's own clone event names its parent in ptid.
                let parent_tracked = is_clone
                    && e.param_by_name("ptid")
                        .and_then(|p| p.as_i64())
                        .is_some_and(|p| tracked.contains(&p));
                if !tracked.contains(&tid) && !parent_tracked {
                    continue;
                }
                tracked.insert(tid);
                if is_clone {
                    if let Some(res) = e.param_by_name("res").and_then(|p| p.as_i64()) {
                        if res > 0 {
                            tracked.insert(res);
                        }
                    }
                }
                if ty == t::PPME_PROCEXIT_1_E {
                    exited.insert(tid);
                }
                out.push(Ev {
                    bytes: e.as_bytes().to_vec(),
                    cpu: se.cpu,
                });
                if tracked.iter().all(|t| exited.contains(t)) {
                    break;
                }
            }
            Next::Idle => {}
            Next::End => break,
        }
    }
    out
}

pub fn of_type(evs: &[Ev], ty: u16) -> Vec<&Ev> {
    evs.iter().filter(|e| e.ty() == ty).collect()
}

pub fn one(evs: &[Ev], ty: u16, pred: impl Fn(&Ev) -> bool) -> Ev {
    let found: Vec<&Ev> = evs.iter().filter(|e| e.ty() == ty && pred(e)).collect();
    assert!(
        !found.is_empty(),
        "no {} event matched among {:#?}",
        t::event_const_name(ty).unwrap_or("?"),
        evs
    );
    found[0].clone()
}

pub fn cstr(s: &str) -> CString {
    CString::new(s).expect("no NUL")
}

/// A NULL-terminated argv/envp built before forking.
pub struct CArgs {
    _owned: Vec<CString>,
    ptrs: Vec<*const libc::c_char>,
}

impl CArgs {
    pub fn new(items: &[&str]) -> CArgs {
        let owned: Vec<CString> = items.iter().map(|s| cstr(s)).collect();
        let mut ptrs: Vec<*const libc::c_char> = owned.iter().map(|c| c.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        CArgs {
            _owned: owned,
            ptrs,
        }
    }
    pub fn as_ptr(&self) -> *const *const libc::c_char {
        self.ptrs.as_ptr()
    }
}

/// Raw syscall helpers for the child (no libc wrappers that may pick other
/// syscalls).
pub fn sys(nr: libc::c_long, a: &[libc::c_long]) -> libc::c_long {
    let g = |i: usize| a.get(i).copied().unwrap_or(0);
    // SAFETY: test children make arbitrary syscalls on purpose.
    unsafe { libc::syscall(nr, g(0), g(1), g(2), g(3), g(4), g(5)) }
}

pub fn ptr<T>(p: *const T) -> libc::c_long {
    p as libc::c_long
}

pub fn live() -> bool {
    peregrine_testkit::live_ready("ebpf probe")
}

/// A scratch directory for a test.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("peregrine-ebpf-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}
