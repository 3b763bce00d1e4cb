//! More live scenarios: fd plumbing and file-system changes, fileless
//! execution, ptrace and signals, identity changes, generic events, the
//! interest filter, our own events, and drops when the consumer stalls.

mod common;

use common::*;
use peregrine_ebpf::Design;
use peregrine_event::table::{self as t, flags};
use peregrine_event::{EventSource, Next, Value};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(15);

fn flag(tbl: &[t::NameValue], name: &str) -> i64 {
    tbl.iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no flag {name}"))
        .value as i64
}

fn fs_ops(design: Design) {
    let mut src = open(
        design,
        &[
            "pipe2",
            "dup2",
            "dup3",
            "unlink",
            "unlinkat",
            "rename",
            "renameat2",
            "mkdir",
            "rmdir",
            "symlink",
            "link",
            "chmod",
            "fchmodat",
            "fcntl",
            "eventfd2",
            "chdir",
            "fchdir",
        ],
    );
    let dir = scratch("fs");
    let p = |n: &str| cstr(dir.join(n).to_str().unwrap());
    let (a, b, sub, lnk, hard) = (p("a"), p("b"), p("sub"), p("lnk"), p("hard"));
    let cdir = cstr(dir.to_str().unwrap());
    std::fs::write(dir.join("a"), b"x").unwrap();
    let child = fork_child(|| {
        let mut fds = [0i32; 2];
        sys(
            libc::SYS_pipe2,
            &[ptr(fds.as_mut_ptr()), libc::O_CLOEXEC as _],
        );
        sys(libc::SYS_dup2, &[fds[0] as _, 20]);
        sys(libc::SYS_dup3, &[fds[1] as _, 21, libc::O_CLOEXEC as _]);
        sys(libc::SYS_fcntl, &[20, libc::F_DUPFD_CLOEXEC as _, 30]);
        sys(libc::SYS_eventfd2, &[5, libc::EFD_NONBLOCK as _]);
        sys(libc::SYS_mkdir, &[ptr(sub.as_ptr()), 0o750]);
        sys(libc::SYS_chdir, &[ptr(cdir.as_ptr())]);
        sys(libc::SYS_fchdir, &[fds[0] as _]); // fails: not a directory
        sys(libc::SYS_rename, &[ptr(a.as_ptr()), ptr(b.as_ptr())]);
        sys(
            libc::SYS_renameat2,
            &[
                libc::AT_FDCWD as _,
                ptr(b.as_ptr()),
                libc::AT_FDCWD as _,
                ptr(a.as_ptr()),
                1,
            ],
        );
        sys(libc::SYS_symlink, &[ptr(a.as_ptr()), ptr(lnk.as_ptr())]);
        sys(libc::SYS_link, &[ptr(a.as_ptr()), ptr(hard.as_ptr())]);
        sys(libc::SYS_chmod, &[ptr(a.as_ptr()), 0o4755]);
        sys(
            libc::SYS_fchmodat,
            &[libc::AT_FDCWD as _, ptr(hard.as_ptr()), 0o600],
        );
        sys(libc::SYS_unlink, &[ptr(lnk.as_ptr())]);
        sys(
            libc::SYS_unlinkat,
            &[
                libc::AT_FDCWD as _,
                ptr(sub.as_ptr()),
                libc::AT_REMOVEDIR as _,
            ],
        );
        sys(libc::SYS_rmdir, &[ptr(sub.as_ptr())]); // fails: already gone
    });
    wait(child);
    let evs = collect(&mut src, child, T);
    for e in &evs {
        e.assert_well_formed();
    }
    let s = |c: &std::ffi::CString| c.to_str().unwrap().to_string();
    let pipe = one(&evs, t::PPME_SYSCALL_PIPE2_X, |_| true);
    assert_eq!(pipe.int("res"), 0);
    let (r, w) = (pipe.int("fd1"), pipe.int("fd2"));
    assert!(r >= 3 && w == r + 1, "{pipe:?}");
    assert!(pipe.int("ino") > 0);
    assert_eq!(pipe.int("flags"), flag(flags::FILE_FLAGS, "O_CLOEXEC"));
    let dup2 = one(&evs, t::PPME_SYSCALL_DUP2_X, |_| true);
    assert_eq!(
        (dup2.int("res"), dup2.int("oldfd"), dup2.int("newfd")),
        (20, r, 20)
    );
    let dup3 = one(&evs, t::PPME_SYSCALL_DUP3_X, |_| true);
    assert_eq!(
        (dup3.int("res"), dup3.int("oldfd"), dup3.int("newfd")),
        (21, w, 21)
    );
    assert_eq!(dup3.int("flags"), flag(flags::FILE_FLAGS, "O_CLOEXEC"));
    let fcntl = one(&evs, t::PPME_SYSCALL_FCNTL_X, |_| true);
    assert!(fcntl.int("res") >= 30, "{fcntl:?}");
    assert_eq!(fcntl.int("fd"), 20);
    assert_eq!(
        fcntl.int("cmd"),
        flag(flags::FCNTL_COMMANDS, "F_DUPFD_CLOEXEC")
    );
    let efd = one(&evs, t::PPME_SYSCALL_EVENTFD2_X, |_| true);
    assert!(efd.int("res") >= 3);
    assert_eq!(efd.int("initval"), 5);
    assert_eq!(efd.int("flags"), flag(flags::FILE_FLAGS, "O_NONBLOCK"));
    let mkdir = one(&evs, t::PPME_SYSCALL_MKDIR_2_X, |_| true);
    assert_eq!(
        (mkdir.int("res"), mkdir.str("path"), mkdir.int("mode")),
        (0, s(&sub), 0o750)
    );
    let chdir = one(&evs, t::PPME_SYSCALL_CHDIR_X, |_| true);
    assert_eq!((chdir.int("res"), chdir.str("path")), (0, s(&cdir)));
    let fchdir = one(&evs, t::PPME_SYSCALL_FCHDIR_X, |_| true);
    assert_eq!(fchdir.int("res"), -(libc::ENOTDIR as i64));
    let rename = one(&evs, t::PPME_SYSCALL_RENAME_X, |_| true);
    assert_eq!(
        (
            rename.int("res"),
            rename.str("oldpath"),
            rename.str("newpath")
        ),
        (0, s(&a), s(&b))
    );
    let r2 = one(&evs, t::PPME_SYSCALL_RENAMEAT2_X, |_| true);
    assert_eq!(
        (r2.int("res"), r2.int("olddirfd"), r2.str("oldpath")),
        (0, -100, s(&b))
    );
    assert_eq!(
        r2.int("flags"),
        flag(flags::RENAMEAT2_FLAGS, "RENAME_NOREPLACE")
    );
    let sym = one(&evs, t::PPME_SYSCALL_SYMLINK_X, |_| true);
    assert_eq!(
        (sym.int("res"), sym.str("target"), sym.str("linkpath")),
        (0, s(&a), s(&lnk))
    );
    let link = one(&evs, t::PPME_SYSCALL_LINK_2_X, |_| true);
    assert_eq!(
        (link.int("res"), link.str("oldpath"), link.str("newpath")),
        (0, s(&a), s(&hard))
    );
    let chmod = one(&evs, t::PPME_SYSCALL_CHMOD_X, |_| true);
    assert_eq!(
        (chmod.int("res"), chmod.str("filename"), chmod.int("mode")),
        (0, s(&a), 0o4755)
    );
    let fchmodat = one(&evs, t::PPME_SYSCALL_FCHMODAT_X, |_| true);
    assert_eq!(
        (
            fchmodat.int("res"),
            fchmodat.int("dirfd"),
            fchmodat.int("mode")
        ),
        (0, -100, 0o600)
    );
    let unlink = one(&evs, t::PPME_SYSCALL_UNLINK_2_X, |_| true);
    assert_eq!((unlink.int("res"), unlink.str("path")), (0, s(&lnk)));
    let unlinkat = one(&evs, t::PPME_SYSCALL_UNLINKAT_2_X, |_| true);
    assert_eq!((unlinkat.int("res"), unlinkat.str("name")), (0, s(&sub)));
    assert_eq!(
        unlinkat.int("flags"),
        flag(flags::UNLINKAT_FLAGS, "AT_REMOVEDIR")
    );
    let rmdir = one(&evs, t::PPME_SYSCALL_RMDIR_2_X, |_| true);
    assert_eq!(rmdir.int("res"), -(libc::ENOENT as i64));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fs_ops_dispatch() {
    if live() {
        fs_ops(Design::Dispatch);
    }
}

#[test]
fn fs_ops_tracepoint() {
    if live() {
        fs_ops(Design::Tracepoint);
    }
}

/// memfd_create + execveat(AT_EMPTY_PATH): the fileless-execution pattern.
fn fileless(design: Design) {
    let mut src = open(design, &["memfd_create", "execveat", "execve", "write"]);
    let image = std::fs::read("/bin/true").expect("/bin/true");
    let name = cstr("peregrine-mem");
    let empty = cstr("");
    let argv = CArgs::new(&["fileless", "arg1"]);
    let envp = CArgs::new(&["X=1"]);
    let child = fork_child(|| {
        let fd = sys(
            libc::SYS_memfd_create,
            &[ptr(name.as_ptr()), libc::MFD_CLOEXEC as _],
        );
        let mut off = 0usize;
        while off < image.len() {
            let n = sys(
                libc::SYS_write,
                &[fd, ptr(image[off..].as_ptr()), (image.len() - off) as _],
            );
            if n <= 0 {
                break;
            }
            off += n as usize;
        }
        sys(
            libc::SYS_execveat,
            &[
                fd,
                ptr(empty.as_ptr()),
                ptr(argv.as_ptr()),
                ptr(envp.as_ptr()),
                libc::AT_EMPTY_PATH as _,
            ],
        );
    });
    let st = wait(child);
    assert_eq!(libc::WEXITSTATUS(st), 0, "the memfd image ran /bin/true");
    let evs = collect(&mut src, child, T);
    for e in &evs {
        e.assert_well_formed();
    }
    let memfd = one(&evs, t::PPME_SYSCALL_MEMFD_CREATE_X, |_| true);
    assert!(memfd.int("fd") >= 3);
    assert_eq!(memfd.str("name"), "peregrine-mem");
    assert_eq!(
        memfd.int("flags"),
        flag(flags::MEMFD_CREATE_FLAGS, "MFD_CLOEXEC")
    );
    // libscap reports a successful execveat as execve (x86_64).
    let exec = one(&evs, t::PPME_SYSCALL_EXECVE_19_X, |e| e.int("res") == 0);
    assert_eq!(exec.str("exe"), "fileless");
    assert_eq!(exec.list("args"), vec!["arg1"]);
    let fl = exec.int("flags");
    assert_ne!(
        fl & flag(flags::EXECVE_FLAGS, "EXE_FROM_MEMFD"),
        0,
        "flags {fl:#x}"
    );
    assert!(
        exec.str("trusted_exepath")
            .starts_with("memfd:peregrine-mem"),
        "{exec:?}"
    );
    assert_eq!(exec.str("filename"), format!("/dev/fd/{}", memfd.int("fd")));
}

#[test]
fn fileless_dispatch() {
    if live() {
        fileless(Design::Dispatch);
    }
}

#[test]
fn fileless_tracepoint() {
    if live() {
        fileless(Design::Tracepoint);
    }
}

/// ptrace attach, signals, identity changes, prctl and a generic syscall.
fn process_control(design: Design) {
    let mut src = open(
        design,
        &[
            "ptrace",
            "kill",
            "tgkill",
            "setuid",
            "setgid",
            "setresuid",
            "setsid",
            "setpgid",
            "prctl",
            "getpid",
            "clone",
            "fork",
            "capset",
            "unshare",
        ],
    );
    let name = cstr("pgtest");
    let child = fork_child(|| {
        let gc = sys(libc::SYS_fork, &[]);
        if gc == 0 {
            let ts = libc::timespec {
                tv_sec: 5,
                tv_nsec: 0,
            };
            sys(libc::SYS_nanosleep, &[ptr(&ts), 0]);
            // SAFETY: leaving the grandchild.
            unsafe { libc::_exit(0) };
        }
        let mut st = 0i32;
        sys(libc::SYS_ptrace, &[libc::PTRACE_ATTACH as _, gc]);
        sys(libc::SYS_wait4, &[gc, ptr(&mut st as *mut i32), 0, 0]);
        sys(libc::SYS_ptrace, &[libc::PTRACE_DETACH as _, gc, 0, 0]);
        sys(libc::SYS_kill, &[gc, libc::SIGKILL as _]);
        sys(libc::SYS_wait4, &[gc, ptr(&mut st as *mut i32), 0, 0]);
        sys(libc::SYS_getpid, &[]);
        sys(
            libc::SYS_prctl,
            &[libc::PR_SET_NAME as _, ptr(name.as_ptr())],
        );
        sys(libc::SYS_setsid, &[]);
        sys(libc::SYS_setpgid, &[0, 0]);
        sys(libc::SYS_setresuid, &[-1, 65534, -1]);
        sys(libc::SYS_setgid, &[65534]); // fails: no longer privileged
        sys(libc::SYS_setuid, &[65534]);
        sys(libc::SYS_unshare, &[libc::CLONE_NEWNS as _]); // fails: unprivileged
    });
    wait(child);
    let evs = collect(&mut src, child, T);
    for e in &evs {
        e.assert_well_formed();
    }
    let gc = one(&evs, t::PPME_SYSCALL_FORK_20_X, |e| e.tid() == child as i64).int("res");
    let attach = one(&evs, t::PPME_SYSCALL_PTRACE_X, |e| {
        e.int("request") == flag(flags::PTRACE_REQUESTS, "PTRACE_ATTACH")
    });
    assert_eq!((attach.int("res"), attach.int("pid")), (0, gc));
    let detach = one(&evs, t::PPME_SYSCALL_PTRACE_X, |e| {
        e.int("request") == flag(flags::PTRACE_REQUESTS, "PTRACE_DETACH")
    });
    assert_eq!(detach.int("res"), 0);
    let kill = one(&evs, t::PPME_SYSCALL_KILL_X, |_| true);
    assert_eq!(
        (kill.int("res"), kill.int("pid"), kill.int("sig")),
        (0, gc, libc::SIGKILL as i64)
    );
    let gexit = one(&evs, t::PPME_PROCEXIT_1_E, |e| e.tid() == gc);
    assert_eq!(gexit.int("sig"), libc::SIGKILL as i64);
    let generic = one(&evs, t::PPME_GENERIC_X, |e| e.tid() == child as i64);
    assert_eq!(generic.ev().type_name(), "getpid");
    assert_eq!(generic.int("nativeID"), libc::SYS_getpid);
    let prctl = one(&evs, t::PPME_SYSCALL_PRCTL_X, |_| true);
    assert_eq!(prctl.int("option"), libc::PR_SET_NAME as i64);
    assert_eq!(prctl.str("arg2_str"), "pgtest");
    let setsid = one(&evs, t::PPME_SYSCALL_SETSID_X, |_| true);
    assert_eq!(setsid.int("res"), child as i64);
    let setpgid = one(&evs, t::PPME_SYSCALL_SETPGID_X, |_| true);
    assert_eq!(
        setpgid.int("res"),
        -(libc::EPERM as i64),
        "a session leader cannot change group"
    );
    let setresuid = one(&evs, t::PPME_SYSCALL_SETRESUID_X, |_| true);
    assert_eq!(setresuid.int("res"), 0);
    assert_eq!(setresuid.int("euid"), 65534);
    assert_eq!(setresuid.int("ruid") as u32, u32::MAX);
    let setgid = one(&evs, t::PPME_SYSCALL_SETGID_X, |_| true);
    assert_eq!(
        (setgid.int("res"), setgid.int("gid")),
        (-(libc::EPERM as i64), 65534)
    );
    let setuid = one(&evs, t::PPME_SYSCALL_SETUID_X, |_| true);
    assert_eq!(setuid.int("uid"), 65534);
    let unshare = one(&evs, t::PPME_SYSCALL_UNSHARE_X, |_| true);
    assert_eq!(unshare.int("res"), -(libc::EPERM as i64));
    assert_eq!(
        unshare.int("flags"),
        flag(flags::CLONE_FLAGS, "CLONE_NEWNS")
    );
}

#[test]
fn process_control_dispatch() {
    if live() {
        process_control(Design::Dispatch);
    }
}

#[test]
fn process_control_tracepoint() {
    if live() {
        process_control(Design::Tracepoint);
    }
}

/// Only wanted syscalls arrive; our own process's events never do.
fn filtering(design: Design) {
    let mut src = open(design, &["openat"]);
    let passwd = cstr("/etc/passwd");
    let own = cstr("/etc/hostname");
    let child = fork_child(|| {
        let fd = sys(
            libc::SYS_openat,
            &[libc::AT_FDCWD as _, ptr(passwd.as_ptr()), 0],
        );
        sys(libc::SYS_close, &[fd]);
        sys(libc::SYS_getpid, &[]);
    });
    // Our own opens, while the child runs, from this thread and another.
    for _ in 0..50 {
        let _ = std::fs::read("/etc/hostname");
    }
    std::thread::spawn(move || {
        let fd = sys(
            libc::SYS_openat,
            &[libc::AT_FDCWD as _, ptr(own.as_ptr()), 0],
        );
        sys(libc::SYS_close, &[fd]);
    })
    .join()
    .unwrap();
    wait(child);
    let evs = collect(&mut src, child, T);
    assert!(evs.iter().any(|e| e.ty() == t::PPME_SYSCALL_OPENAT_2_X));
    for e in &evs {
        assert!(
            matches!(e.ty(), t::PPME_SYSCALL_OPENAT_2_X | t::PPME_PROCEXIT_1_E),
            "unwanted event {e:?}"
        );
    }
    // Drain whatever else arrived for a moment: nothing of ours.
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(300) {
        if let Next::Event(se) = src.next().unwrap() {
            let tid = se.event.tid();
            assert!(
                !std::path::Path::new(&format!("/proc/self/task/{tid}")).exists(),
                "event of our own thread {tid}: {}",
                se.event.type_name()
            );
        }
    }
}

#[test]
fn filtering_dispatch() {
    if live() {
        filtering(Design::Dispatch);
    }
}

#[test]
fn filtering_tracepoint() {
    if live() {
        filtering(Design::Tracepoint);
    }
}

/// The interest filter can change at run time without reloading.
fn interest_changes(design: Design) {
    let mut src = open(design, &["openat", "close", "getpid"]);
    let left = src
        .set_interest(&set(&["openat", "mkdir"]))
        .expect("set interest");
    assert!(
        left.contains_name("mkdir"),
        "mkdir was not loaded: {left:?}"
    );
    let passwd = cstr("/etc/passwd");
    let child = fork_child(|| {
        let fd = sys(
            libc::SYS_openat,
            &[libc::AT_FDCWD as _, ptr(passwd.as_ptr()), 0],
        );
        sys(libc::SYS_close, &[fd]);
        sys(libc::SYS_getpid, &[]);
    });
    wait(child);
    let evs = collect(&mut src, child, T);
    assert!(!of_type(&evs, t::PPME_SYSCALL_OPENAT_2_X).is_empty());
    assert!(of_type(&evs, t::PPME_SYSCALL_CLOSE_X).is_empty(), "{evs:?}");
    assert!(of_type(&evs, t::PPME_GENERIC_X).is_empty(), "{evs:?}");
    // and back
    src.set_interest(&set(&["openat", "close", "getpid"]))
        .expect("widen again");
    let child = fork_child(|| {
        let fd = sys(
            libc::SYS_openat,
            &[libc::AT_FDCWD as _, ptr(passwd.as_ptr()), 0],
        );
        sys(libc::SYS_close, &[fd]);
        sys(libc::SYS_getpid, &[]);
    });
    wait(child);
    let evs = collect(&mut src, child, T);
    assert!(
        !of_type(&evs, t::PPME_SYSCALL_CLOSE_X).is_empty(),
        "{evs:?}"
    );
    assert!(!of_type(&evs, t::PPME_GENERIC_X).is_empty(), "{evs:?}");
}

#[test]
fn interest_changes_dispatch() {
    if live() {
        interest_changes(Design::Dispatch);
    }
}

#[test]
fn interest_changes_tracepoint() {
    if live() {
        interest_changes(Design::Tracepoint);
    }
}

/// A stalled consumer makes the kernel count drops instead of blocking.
fn drops(design: Design) {
    let mut src = open_with(design, set(&["openat", "close"]), |c| {
        c.probe.ring_bytes_per_cpu = 4096;
    });
    let passwd = cstr("/etc/passwd");
    let child = fork_child(|| {
        for _ in 0..5000 {
            let fd = sys(
                libc::SYS_openat,
                &[libc::AT_FDCWD as _, ptr(passwd.as_ptr()), 0],
            );
            sys(libc::SYS_close, &[fd]);
        }
    });
    wait(child);
    let stats = src.stats().expect("stats");
    assert!(stats.n_drops_buffer() > 0, "{stats:?}");
    assert!(stats.n_evts() >= 10_000, "{stats:?}");
    assert_eq!(stats.per_cpu.len(), src.probe().num_cpus());
    let mut delivered = 0u64;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        match src.next().unwrap() {
            Next::Event(se) => {
                assert!(matches!(
                    se.event.event_type(),
                    t::PPME_SYSCALL_OPENAT_2_X | t::PPME_SYSCALL_CLOSE_X | t::PPME_PROCEXIT_1_E
                ));
                delivered += 1;
            }
            Next::Idle => break,
            Next::End => break,
        }
    }
    assert!(delivered > 0);
    let after = src.stats().unwrap();
    assert!(after.n_evts() >= delivered + stats.n_drops_buffer());
    let dc = after.drop_counters();
    assert_eq!(dc.n_drops_buffer, after.n_drops_buffer());
}

#[test]
fn drops_dispatch() {
    if live() {
        drops(Design::Dispatch);
    }
}

#[test]
fn drops_tracepoint() {
    if live() {
        drops(Design::Tracepoint);
    }
}

/// One shared ring: events carry their CPU in a prefix.
#[test]
fn shared_ring_reports_cpus() {
    if !live() {
        return;
    }
    let mut src = open_with(Design::Dispatch, set(&["openat"]), |c| {
        c.probe.shared_ring = true
    });
    let passwd = cstr("/etc/passwd");
    let child = fork_child(|| {
        for _ in 0..10 {
            sys(
                libc::SYS_openat,
                &[libc::AT_FDCWD as _, ptr(passwd.as_ptr()), 0],
            );
        }
    });
    wait(child);
    let evs = collect(&mut src, child, T);
    assert_eq!(of_type(&evs, t::PPME_SYSCALL_OPENAT_2_X).len(), 10);
    let ncpu = src.probe().num_cpus() as u16;
    assert!(evs.iter().all(|e| e.cpu < ncpu));
    for e in &evs {
        e.assert_well_formed();
    }
    assert!(matches!(evs[0].value("name"), Value::Str(_)));
}

/// Every handler loads (passes the verifier) and attaches, in both designs,
/// with the selection Falco makes by default plus everything we handle.
#[test]
fn every_handler_loads() {
    if !live() {
        return;
    }
    let mut all = peregrine_ebpf::ScSet::new();
    for h in peregrine_ebpf::syscalls::HANDLED {
        all.insert_name(h.name);
    }
    let sel = peregrine_ebpf::interest::select(
        &all,
        &peregrine_ebpf::BaseSyscalls {
            all: true,
            ..Default::default()
        },
    );
    for design in [Design::Dispatch, Design::Tracepoint] {
        let src = open_with(design, sel.set, |_| {});
        let p = src.probe();
        assert!(
            p.unsupported()
                .names()
                .all(|n| !n.starts_with("sched_process")),
            "{:?}",
            p.unsupported()
        );
        eprintln!("{design:?}: loaded every handler in {:?}", p.load_time());
    }
}

/// Socket options: SO_ERROR comes back as an errno, ints as u32.
#[test]
fn socket_options() {
    if !live() {
        return;
    }
    let mut src = open(Design::Tracepoint, &["socket", "setsockopt", "getsockopt"]);
    let child = fork_child(|| {
        let s = sys(
            libc::SYS_socket,
            &[libc::AF_INET as _, libc::SOCK_STREAM as _, 0],
        );
        let one: i32 = 1;
        sys(
            libc::SYS_setsockopt,
            &[
                s,
                libc::SOL_SOCKET as _,
                libc::SO_REUSEADDR as _,
                ptr(&one),
                4,
            ],
        );
        let mut err: i32 = -1;
        let mut len: u32 = 4;
        sys(
            libc::SYS_getsockopt,
            &[
                s,
                libc::SOL_SOCKET as _,
                libc::SO_ERROR as _,
                ptr(&mut err as *mut i32),
                ptr(&mut len as *mut u32),
            ],
        );
    });
    wait(child);
    let evs = collect(&mut src, child, T);
    for e in &evs {
        e.assert_well_formed();
    }
    let set = one(&evs, t::PPME_SOCKET_SETSOCKOPT_X, |_| true);
    assert_eq!(
        (set.int("res"), set.int("level"), set.int("optname")),
        (0, 1, 2)
    );
    assert_eq!(set.value("val"), Value::Uint(1));
    assert_eq!(set.int("optlen"), 4);
    let get = one(&evs, t::PPME_SOCKET_GETSOCKOPT_X, |_| true);
    assert_eq!((get.int("res"), get.int("optname")), (0, 4));
    assert_eq!(get.value("val"), Value::Errno(0));
}
