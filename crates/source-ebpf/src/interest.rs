//! Which syscalls reach user space: sets of `PPM_SC_*` codes and Falco's
//! `base_syscalls` selection (`custom_set`, `repair`, `all`) as pure
//! functions. The engine passes the codes its compiled rules need; this module
//! adds what state tracking needs and the live source turns the result into
//! the probe's kernel-side filter.

use crate::syscalls::{ppm_sc_code, ppm_sc_name};
use peregrine_event::table::{self as t, category, eflags, list_events, SC_MAX};

const WORDS: usize = SC_MAX.div_ceil(64);

/// A set of `PPM_SC_*` codes (syscalls and the tracepoints libscap numbers
/// alongside them, such as `sched_process_exit`).
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct ScSet {
    bits: [u64; WORDS],
}

impl std::fmt::Debug for ScSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

impl ScSet {
    pub fn new() -> ScSet {
        ScSet::default()
    }

    /// Every code with a name.
    pub fn all() -> ScSet {
        let mut s = ScSet::new();
        for code in 1..SC_MAX as u16 {
            if ppm_sc_name(code).is_some() {
                s.insert(code);
            }
        }
        s
    }

    pub fn insert(&mut self, code: u16) {
        if (code as usize) < SC_MAX {
            self.bits[code as usize / 64] |= 1 << (code % 64);
        }
    }

    pub fn remove(&mut self, code: u16) {
        if (code as usize) < SC_MAX {
            self.bits[code as usize / 64] &= !(1 << (code % 64));
        }
    }

    pub fn contains(&self, code: u16) -> bool {
        (code as usize) < SC_MAX && self.bits[code as usize / 64] & (1 << (code % 64)) != 0
    }

    /// Adds a syscall by name; false when the name is unknown.
    pub fn insert_name(&mut self, name: &str) -> bool {
        match ppm_sc_code(name) {
            Some(c) => {
                self.insert(c);
                true
            }
            None => false,
        }
    }

    pub fn contains_name(&self, name: &str) -> bool {
        ppm_sc_code(name).is_some_and(|c| self.contains(c))
    }

    pub fn union(mut self, other: &ScSet) -> ScSet {
        for (a, b) in self.bits.iter_mut().zip(other.bits.iter()) {
            *a |= b;
        }
        self
    }

    pub fn difference(mut self, other: &ScSet) -> ScSet {
        for (a, b) in self.bits.iter_mut().zip(other.bits.iter()) {
            *a &= !b;
        }
        self
    }

    pub fn intersects(&self, other: &ScSet) -> bool {
        self.bits
            .iter()
            .zip(other.bits.iter())
            .any(|(a, b)| a & b != 0)
    }

    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|w| *w == 0)
    }

    pub fn len(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        (0..SC_MAX as u16).filter(move |c| self.contains(*c))
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.iter().filter_map(ppm_sc_name)
    }

    /// The set for event types (e.g. those a rule matches): each event maps to
    /// the syscalls that produce it, as libscap's event-to-syscall table does.
    pub fn from_event_types(types: impl IntoIterator<Item = u16>) -> ScSet {
        let mut s = ScSet::new();
        for ty in types {
            for name in event_sc_names(ty).into_iter().flatten() {
                s.insert_name(name);
            }
        }
        s
    }

    /// Falco's `event_names_to_sc_set`: names of events (`open`, `execve`,
    /// `procexit`) or of syscalls without an event of their own (generic
    /// events, e.g. `getpid`). Returns the set and the names that matched
    /// nothing.
    pub fn from_event_names<'a>(names: impl IntoIterator<Item = &'a str>) -> (ScSet, Vec<&'a str>) {
        let mut s = ScSet::new();
        let mut unknown = Vec::new();
        for name in names {
            let before = s;
            for ty in t::event_types_named(name) {
                if ty != t::PPME_GENERIC_E && ty != t::PPME_GENERIC_X {
                    for n in event_sc_names(ty).into_iter().flatten() {
                        s.insert_name(n);
                    }
                }
            }
            if s == before && !s.insert_name(name) {
                unknown.push(name);
            }
        }
        (s, unknown)
    }
}

/// The syscalls (or tracepoint codes) that produce an event type: by name,
/// with the renames and 32-bit twins libscap's table records.
pub fn event_sc_names(event_type: u16) -> [Option<&'static str>; 2] {
    let Some(info) = t::event_info(event_type) else {
        return [None, None];
    };
    if info.is_unused() || event_type == t::PPME_GENERIC_E || event_type == t::PPME_GENERIC_X {
        return [None, None];
    }
    let cname = t::event_const_name(event_type).unwrap_or("");
    if cname.starts_with("PPME_SOCKET_ACCEPT4") {
        return [Some("accept4"), None];
    }
    let base: &'static str = match info.name {
        "procexit" => "sched_process_exit",
        "switch" => "sched_switch",
        "signaldeliver" => "signal_deliver",
        "page_fault" => return [Some("page_fault_user"), Some("page_fault_kernel")],
        "llseek" => "_llseek",
        "pread" => "pread64",
        "pwrite" => "pwrite64",
        "prlimit" => "prlimit64",
        other => other,
    };
    if ppm_sc_code(base).is_none() {
        return [None, None];
    }
    let twin = match base {
        "getrlimit" => Some("ugetrlimit"),
        "fcntl" => Some("fcntl64"),
        "sendfile" => Some("sendfile64"),
        "setresuid" => Some("setresuid32"),
        "setresgid" => Some("setresgid32"),
        "setuid" => Some("setuid32"),
        "setgid" => Some("setgid32"),
        "getuid" => Some("getuid32"),
        "geteuid" => Some("geteuid32"),
        "getgid" => Some("getgid32"),
        "getegid" => Some("getegid32"),
        "getresuid" => Some("getresuid32"),
        "getresgid" => Some("getresgid32"),
        _ => None,
    };
    [Some(base), twin]
}

/// The syscalls that reach user space as generic events: every named
/// `PPM_SC_*` code that no specific event type covers (libscap's generic
/// entry), less the `na_1` placeholder.
pub fn generic_set() -> ScSet {
    let specific = ScSet::from_event_types(2..t::EVENT_MAX as u16);
    let mut s = ScSet::new();
    for (code, name) in t::SYSCALL_NAMES.iter().enumerate().skip(1) {
        let code = code as u16;
        if !name.is_empty() && !name.starts_with("na_") && !specific.contains(code) {
            s.insert(code);
        }
    }
    s
}

/// Syscalls libscap never lets a driver drop (`UF_NEVER_DROP`).
const NEVER_DROP: &[&str] = &[
    "open",
    "creat",
    "close",
    "execve",
    "clone",
    "fork",
    "vfork",
    "pipe",
    "pipe2",
    "eventfd",
    "eventfd2",
    "chdir",
    "fchdir",
    "openat",
    "dup",
    "dup2",
    "dup3",
    "signalfd",
    "signalfd4",
    "timerfd_create",
    "inotify_init",
    "inotify_init1",
    "setrlimit",
    "prlimit64",
    "socket",
    "bind",
    "socketpair",
    "chroot",
    "userfaultfd",
    "clone3",
    "execveat",
    "epoll_create",
    "epoll_create1",
    "prctl",
    "close_range",
];

/// libsinsp's state set (`sinsp_state_sc_set`): every syscall or tracepoint
/// whose events modify state, plus the never-drop syscalls.
pub fn state_set() -> ScSet {
    let mut s = ScSet::new();
    for e in list_events() {
        if e.event_type < 2 || e.info.is_unused() {
            continue;
        }
        let kind = e.info.category & (category::EC_SYSCALL | category::EC_TRACEPOINT);
        if e.info.flags & eflags::EF_MODIFIES_STATE != 0 && kind != 0 {
            for name in event_sc_names(e.event_type).into_iter().flatten() {
                s.insert_name(name);
            }
        }
    }
    for n in NEVER_DROP {
        s.insert_name(n);
    }
    s
}

fn category_set(pred: impl Fn(u32) -> bool) -> ScSet {
    ScSet::from_event_types(
        list_events()
            .filter(|e| pred(e.info.syscall_category()))
            .map(|e| e.event_type),
    )
}

/// High-volume I/O syscalls Falco leaves out unless `base_syscalls.all`
/// (I/O read/write categories minus the state set).
pub fn ignored_set() -> ScSet {
    category_set(|c| c == category::EC_IO_READ || c == category::EC_IO_WRITE)
        .difference(&state_set())
}

/// libsinsp's `sinsp_repair_state_sc_set`: the minimal additions that keep
/// process, fd and network state right for the given set.
pub fn repair(set: &ScSet) -> ScSet {
    let mut out = *set;
    for n in [
        "clone",
        "clone3",
        "fork",
        "vfork",
        "execve",
        "execveat",
        "fchdir",
        "chdir",
        "chroot",
        "capset",
        "setgid",
        "setgid32",
        "setpgid",
        "setresgid",
        "setresgid32",
        "setresuid",
        "setresuid32",
        "setsid",
        "setuid",
        "setuid32",
        "prctl",
        "sched_process_exit",
    ] {
        out.insert_name(n);
    }
    let net = category_set(|c| c == category::EC_NET);
    let files = category_set(|c| {
        c == category::EC_FILE
            || c == category::EC_IO_READ
            || c == category::EC_IO_WRITE
            || c == category::EC_IO_OTHER
    });
    let uses_net = net.intersects(set);
    if uses_net {
        out.insert_name("socket");
        out.insert_name("getsockopt");
        out.insert_name("close");
    }
    if ["accept", "accept4", "listen"]
        .iter()
        .any(|n| set.contains_name(n))
    {
        out.insert_name("bind");
    }
    if files.intersects(set) {
        out.insert_name("close");
    }
    out
}

/// Falco's `base_syscalls` configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BaseSyscalls {
    /// Names to add (or, with a leading `!`, to remove).
    pub custom_set: Vec<String>,
    /// Add only the syscalls state needs for the rules' syscalls.
    pub repair: bool,
    /// Keep the high-volume I/O syscalls (Falco's `-A`).
    pub all: bool,
}

/// The outcome of [`select`]: the final set and the names that were ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub set: ScSet,
    pub invalid_names: Vec<String>,
    /// Rule syscalls left out of the final set (e.g. ignored I/O syscalls).
    pub unsupported: ScSet,
}

/// The syscalls to capture for rules needing `rules`, following Falco's
/// `configure_interesting_sets` step by step.
pub fn select(rules: &ScSet, base: &BaseSyscalls) -> Selection {
    let mut positive = Vec::new();
    let mut negative = Vec::new();
    for n in &base.custom_set {
        if let Some(rest) = n.strip_prefix('!') {
            if !rest.is_empty() {
                negative.push(rest);
            }
        } else if !n.is_empty() {
            positive.push(n.as_str());
        }
    }
    let (pos_set, mut invalid) = ScSet::from_event_names(positive.iter().copied());
    let (neg_set, invalid_neg) = ScSet::from_event_names(negative.iter().copied());
    invalid.extend(invalid_neg);

    let base_set = if pos_set.is_empty() {
        state_set()
    } else {
        pos_set
    };
    let mut selected = rules.union(&base_set);
    if base.repair && pos_set.is_empty() {
        selected = repair(rules);
    }
    selected = selected.difference(&neg_set);
    if !base.all {
        selected = selected.difference(&ignored_set());
    }
    if base.repair && !base.custom_set.is_empty() {
        selected = repair(&selected);
    }
    selected.insert_name("sched_process_exit");
    Selection {
        set: selected,
        invalid_names: invalid.into_iter().map(str::to_string).collect(),
        unsupported: rules.difference(&selected),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> ScSet {
        let mut s = ScSet::new();
        for n in names {
            assert!(s.insert_name(n), "{n}");
        }
        s
    }

    #[test]
    fn events_map_to_their_syscalls() {
        let s = ScSet::from_event_types([t::PPME_SYSCALL_PREAD_X, t::PPME_PROCEXIT_1_E]);
        assert!(s.contains_name("pread64"));
        assert!(s.contains_name("sched_process_exit"));
        assert_eq!(s.len(), 2);
        let s = ScSet::from_event_types([t::PPME_SYSCALL_SETUID_X]);
        assert!(s.contains_name("setuid") && s.contains_name("setuid32"));
    }

    #[test]
    fn names_cover_events_and_generic_syscalls() {
        let (s, bad) = ScSet::from_event_names(["open", "procexit", "getpid", "nonsense"]);
        assert!(s.contains_name("open"));
        assert!(s.contains_name("sched_process_exit"));
        assert!(s.contains_name("getpid"));
        assert_eq!(bad, vec!["nonsense"]);
    }

    #[test]
    fn state_set_has_lifecycle_but_not_reads() {
        let s = state_set();
        for n in [
            "clone", "execve", "close", "openat", "chdir", "setuid", "socket", "dup2",
        ] {
            assert!(s.contains_name(n), "{n}");
        }
        assert!(!s.contains_name("read"));
        assert!(!s.contains_name("getpid"));
        let ign = ignored_set();
        assert!(ign.contains_name("read") && ign.contains_name("write"));
        assert!(!ign.contains_name("close"));
    }

    #[test]
    fn default_selection_is_rules_plus_state_minus_io() {
        let rules = set(&["open", "read", "connect"]);
        let sel = select(&rules, &BaseSyscalls::default());
        assert!(sel.set.contains_name("open"));
        assert!(sel.set.contains_name("connect"));
        assert!(sel.set.contains_name("clone"));
        assert!(
            !sel.set.contains_name("read"),
            "I/O is dropped without `all`"
        );
        assert!(sel.unsupported.contains_name("read"));
        let all = select(
            &rules,
            &BaseSyscalls {
                all: true,
                ..Default::default()
            },
        );
        assert!(all.set.contains_name("read"));
    }

    #[test]
    fn custom_set_replaces_state_set_and_negatives_remove() {
        let rules = set(&["openat"]);
        let base = BaseSyscalls {
            custom_set: vec![
                "clone".into(),
                "execve".into(),
                "!openat".into(),
                "bogus".into(),
            ],
            ..Default::default()
        };
        let sel = select(&rules, &base);
        assert!(sel.set.contains_name("clone"));
        assert!(sel.set.contains_name("execve"));
        assert!(!sel.set.contains_name("openat"), "negatives win over rules");
        assert!(!sel.set.contains_name("socket"), "state set not added");
        assert!(sel.set.contains_name("sched_process_exit"));
        assert_eq!(sel.invalid_names, vec!["bogus".to_string()]);
    }

    #[test]
    fn repair_adds_only_what_state_needs() {
        let rules = set(&["connect", "accept"]);
        let base = BaseSyscalls {
            repair: true,
            ..Default::default()
        };
        let sel = select(&rules, &base);
        for n in [
            "connect",
            "accept",
            "socket",
            "getsockopt",
            "close",
            "bind",
            "execve",
            "setuid",
        ] {
            assert!(sel.set.contains_name(n), "{n}");
        }
        assert!(!sel.set.contains_name("openat"));
        assert!(!sel.set.contains_name("dup2"));
        let files = select(&set(&["openat"]), &base);
        assert!(files.set.contains_name("close"));
        assert!(!files.set.contains_name("socket"));
    }
}
