//! The real probe, real syscalls: a forked child makes them, the decoded
//! events must carry the right types and params, in both attach designs.

mod common;

use common::*;
use peregrine_event::net::{SockAddr, SockTuple};
use peregrine_event::table::{self as t, flags};
use peregrine_event::Value;
use std::os::unix::fs::MetadataExt;
use std::time::Duration;

const T: Duration = Duration::from_secs(15);

fn flag(tbl: &[t::NameValue], name: &str) -> i64 {
    tbl.iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no flag {name}"))
        .value as i64
}

fn files(design: peregrine_ebpf::Design) {
    let mut src = open(design, &["openat", "open", "read", "close", "pread64"]);
    let passwd = cstr("/etc/passwd");
    let missing = cstr("/nonexistent/peregrine");
    let child = fork_child(|| {
        let mut buf = [0u8; 64];
        let fd = sys(
            libc::SYS_openat,
            &[
                libc::AT_FDCWD as _,
                ptr(passwd.as_ptr()),
                libc::O_RDONLY as _,
            ],
        );
        sys(libc::SYS_read, &[fd, ptr(buf.as_mut_ptr()), 10]);
        sys(libc::SYS_pread64, &[fd, ptr(buf.as_mut_ptr()), 5, 2]);
        sys(libc::SYS_close, &[fd]);
        sys(
            libc::SYS_open,
            &[
                ptr(missing.as_ptr()),
                (libc::O_WRONLY | libc::O_CREAT) as _,
                0o640,
            ],
        );
    });
    wait(child);
    let evs = collect(&mut src, child, T);
    for e in &evs {
        e.assert_well_formed();
    }
    let content = std::fs::read("/etc/passwd").expect("read passwd");
    let meta = std::fs::metadata("/etc/passwd").expect("stat");

    let open = one(&evs, t::PPME_SYSCALL_OPENAT_2_X, |e| {
        e.str("name") == "/etc/passwd"
    });
    let fd = open.int("fd");
    assert!(fd >= 3, "{open:?}");
    assert_eq!(open.int("dirfd"), -100);
    assert_eq!(open.int("flags"), flag(flags::FILE_FLAGS, "O_RDONLY"));
    assert_eq!(open.int("mode"), 0);
    assert_eq!(open.int("ino") as u64, meta.ino());
    assert_eq!(open.int("dev") as u32, meta.dev() as u32);

    let read = one(&evs, t::PPME_SYSCALL_READ_X, |e| e.int("fd") == fd);
    assert_eq!(read.int("res"), 10);
    assert_eq!(read.int("size"), 10);
    assert_eq!(read.value("data"), Value::Bytes(&content[..10]));

    let pread = one(&evs, t::PPME_SYSCALL_PREAD_X, |e| e.int("fd") == fd);
    assert_eq!((pread.int("res"), pread.int("pos")), (5, 2));
    assert_eq!(pread.value("data"), Value::Bytes(&content[2..7]));

    let close = one(&evs, t::PPME_SYSCALL_CLOSE_X, |e| e.int("fd") == fd);
    assert_eq!(close.int("res"), 0);

    let failed = one(&evs, t::PPME_SYSCALL_OPEN_X, |e| {
        e.str("name") == "/nonexistent/peregrine"
    });
    assert_eq!(failed.int("fd"), -(libc::ENOENT as i64));
    assert_eq!(
        failed.int("flags"),
        flag(flags::FILE_FLAGS, "O_WRONLY") | flag(flags::FILE_FLAGS, "O_CREAT")
    );
    assert_eq!(failed.int("mode"), 0o640);
    assert_eq!(failed.int("ino"), 0);
    // Exit events only, stamped with the child's tid and a wall-clock time.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    for e in &evs {
        if e.ty() != t::PPME_PROCEXIT_1_E {
            assert_eq!(t::direction(e.ty()), t::Direction::Exit, "{e:?}");
        }
        let ts = e.ev().ts();
        assert!(
            ts > now - 60_000_000_000 && ts <= now,
            "ts {ts} vs now {now}"
        );
    }
    let exit = one(&evs, t::PPME_PROCEXIT_1_E, |e| e.tid() == child as i64);
    assert_eq!(exit.int("ret"), 0);
}

#[test]
fn files_dispatch() {
    if live() {
        files(DESIGNS[0]);
    }
}

#[test]
fn files_tracepoint() {
    if live() {
        files(DESIGNS[1]);
    }
}

fn exec(design: peregrine_ebpf::Design) {
    let mut src = open(design, &["execve", "clone", "chdir"]);
    let dir = scratch("exec");
    let cdir = cstr(dir.to_str().unwrap());
    let sh = cstr("/bin/sh");
    let argv = CArgs::new(&["sh", "-c", "exit 3"]);
    let envp = CArgs::new(&["FOO=bar", "PEREGRINE=1"]);
    let bad = cstr("/nonexistent/prog");
    let bad_argv = CArgs::new(&["prog", "--flag"]);
    let child = fork_child(|| {
        sys(libc::SYS_chdir, &[ptr(cdir.as_ptr())]);
        sys(
            libc::SYS_execve,
            &[
                ptr(bad.as_ptr()),
                ptr(bad_argv.as_ptr()),
                ptr(envp.as_ptr()),
            ],
        );
        sys(
            libc::SYS_execve,
            &[ptr(sh.as_ptr()), ptr(argv.as_ptr()), ptr(envp.as_ptr())],
        );
    });
    let status = wait(child);
    assert_eq!(libc::WEXITSTATUS(status), 3);
    let evs = collect(&mut src, child, T);
    for e in &evs {
        e.assert_well_formed();
    }
    let failed = one(&evs, t::PPME_SYSCALL_EXECVE_19_X, |e| e.int("res") < 0);
    assert_eq!(failed.int("res"), -(libc::ENOENT as i64));
    assert_eq!(failed.str("exe"), "prog");
    assert_eq!(failed.list("args"), vec!["--flag"]);
    assert_eq!(failed.str("filename"), "/nonexistent/prog");
    assert!(failed.list("env").contains(&"FOO=bar".to_string()));

    let ok = one(&evs, t::PPME_SYSCALL_EXECVE_19_X, |e| e.int("res") == 0);
    assert_eq!(ok.tid(), child as i64);
    assert_eq!(ok.str("exe"), "sh");
    assert_eq!(ok.list("args"), vec!["-c", "exit 3"]);
    assert_eq!(ok.list("env"), vec!["FOO=bar", "PEREGRINE=1"]);
    assert_eq!((ok.int("tid"), ok.int("pid")), (child as i64, child as i64));
    assert_eq!(ok.int("ptid"), std::process::id() as i64);
    assert_eq!(ok.str("comm"), "sh");
    assert_eq!(ok.str("filename"), "/bin/sh");
    assert_eq!(ok.str("cwd"), dir.to_str().unwrap());
    let real = std::fs::canonicalize("/bin/sh").unwrap();
    assert_eq!(ok.str("trusted_exepath"), real.to_str().unwrap());
    let meta = std::fs::metadata(&real).unwrap();
    assert_eq!(ok.int("exe_ino") as u64, meta.ino());
    assert_eq!(
        ok.int("exe_ino_mtime") as u64,
        meta.mtime() as u64 * 1_000_000_000 + meta.mtime_nsec() as u64
    );
    assert_eq!((ok.int("uid"), ok.int("gid")), (0, 0));
    assert!(ok.int("fdlimit") > 0);
    assert!(ok.int("vm_size") > 0);
    assert_eq!(ok.int("loginuid") as u32, read_loginuid());
    assert_eq!(ok.int("cap_effective") as u64, own_caps("CapEff"));
    // root owns the binary: writable for it; not from memfd, not overlay
    assert_eq!(ok.int("flags"), flag(flags::EXECVE_FLAGS, "EXE_WRITABLE"));
    let cgroups = ok.list("cgroups");
    assert!(
        cgroups.iter().any(|c| c.starts_with("cpu=/")),
        "{cgroups:?}"
    );
    assert!(
        cgroups.iter().any(|c| c.starts_with("memory=/")),
        "{cgroups:?}"
    );
    assert_eq!(ok.int("pgid"), ok.int("vpgid"));
    let exit = one(&evs, t::PPME_PROCEXIT_1_E, |e| e.tid() == child as i64);
    assert_eq!(exit.int("ret"), 3);
    assert_eq!(exit.int("sig"), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

fn read_loginuid() -> u32 {
    std::fs::read_to_string("/proc/self/loginuid")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(u32::MAX)
}

fn own_caps(key: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let v = s
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .unwrap();
    u64::from_str_radix(v.trim(), 16).unwrap()
}

#[test]
fn exec_dispatch() {
    if live() {
        exec(DESIGNS[0]);
    }
}

#[test]
fn exec_tracepoint() {
    if live() {
        exec(DESIGNS[1]);
    }
}

fn clone_fork(design: peregrine_ebpf::Design) {
    let mut src = open(design, &["clone", "clone3", "fork", "vfork"]);
    let child = fork_child(|| {
        let gc = sys(libc::SYS_fork, &[]);
        if gc == 0 {
            // SAFETY: leaving the grandchild at once.
            unsafe { libc::_exit(7) };
        }
        let mut st = 0i32;
        sys(libc::SYS_wait4, &[gc, ptr(&mut st as *mut i32), 0, 0]);
    });
    wait(child);
    let evs = collect(&mut src, child, T);
    for e in &evs {
        e.assert_well_formed();
    }
    let parent = one(&evs, t::PPME_SYSCALL_FORK_20_X, |e| e.tid() == child as i64);
    let gc = parent.int("res");
    assert!(gc > child as i64, "{parent:?}");
    assert_eq!(parent.int("pid"), child as i64);
    assert_eq!(parent.int("pidns_init_start_ts"), 0);
    let kid = one(&evs, t::PPME_SYSCALL_FORK_20_X, |e| e.tid() == gc);
    assert_eq!(kid.int("res"), 0);
    assert_eq!((kid.int("tid"), kid.int("pid")), (gc, gc));
    assert_eq!(kid.int("ptid"), child as i64);
    assert_eq!(kid.int("vtid"), gc);
    assert!(kid.int("pidns_init_start_ts") > 0);
    assert!(!kid.list("cgroups").is_empty());
    // The child's event precedes anything the grandchild does.
    let kid_pos = evs.iter().position(|e| e.tid() == gc).unwrap();
    assert_eq!(evs[kid_pos].ty(), t::PPME_SYSCALL_FORK_20_X);
    let exit = one(&evs, t::PPME_PROCEXIT_1_E, |e| e.tid() == gc);
    assert_eq!(exit.int("ret"), 7);
}

#[test]
fn clone_dispatch() {
    if live() {
        clone_fork(DESIGNS[0]);
    }
}

#[test]
fn clone_tracepoint() {
    if live() {
        clone_fork(DESIGNS[1]);
    }
}

fn sockaddr_in(port: u16) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as u16,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes([127, 0, 0, 1]),
        },
        sin_zero: [0; 8],
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn network(design: peregrine_ebpf::Design) {
    let mut src = open(
        design,
        &[
            "socket",
            "connect",
            "bind",
            "listen",
            "accept4",
            "sendto",
            "recvfrom",
            "shutdown",
            "socketpair",
            "close",
        ],
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let lport = listener.local_addr().unwrap().port();
    let to_listener = sockaddr_in(lport);
    let own_port = free_port();
    let own_addr = sockaddr_in(own_port);
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let udp_to = sockaddr_in(udp.local_addr().unwrap().port());
    let dir = scratch("net");
    let upath = dir.join("srv.sock");
    let _unix = std::os::unix::net::UnixListener::bind(&upath).unwrap();
    let mut un: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    un.sun_family = libc::AF_UNIX as u16;
    for (i, b) in upath.to_str().unwrap().bytes().enumerate() {
        un.sun_path[i] = b as libc::c_char;
    }
    let sz_in = std::mem::size_of::<libc::sockaddr_in>() as libc::c_long;
    let child = fork_child(|| {
        let s = sys(
            libc::SYS_socket,
            &[libc::AF_INET as _, libc::SOCK_STREAM as _, 0],
        );
        sys(libc::SYS_connect, &[s, ptr(&to_listener), sz_in]);
        sys(libc::SYS_shutdown, &[s, libc::SHUT_WR as _]);
        sys(libc::SYS_close, &[s]);
        // listen + accept on our own port
        let l = sys(
            libc::SYS_socket,
            &[libc::AF_INET as _, libc::SOCK_STREAM as _, 0],
        );
        sys(libc::SYS_bind, &[l, ptr(&own_addr), sz_in]);
        sys(libc::SYS_listen, &[l, 5]);
        let c = sys(
            libc::SYS_socket,
            &[libc::AF_INET as _, libc::SOCK_STREAM as _, 0],
        );
        sys(libc::SYS_connect, &[c, ptr(&own_addr), sz_in]);
        sys(libc::SYS_accept4, &[l, 0, 0, libc::SOCK_CLOEXEC as _]);
        // UDP datagram to an unconnected peer
        let u = sys(
            libc::SYS_socket,
            &[libc::AF_INET as _, libc::SOCK_DGRAM as _, 0],
        );
        let msg = b"ping";
        sys(
            libc::SYS_sendto,
            &[u, ptr(msg.as_ptr()), 4, 0, ptr(&udp_to), sz_in],
        );
        // unix stream
        let x = sys(
            libc::SYS_socket,
            &[libc::AF_UNIX as _, libc::SOCK_STREAM as _, 0],
        );
        let sz_un = std::mem::size_of::<libc::sockaddr_un>() as libc::c_long;
        sys(libc::SYS_connect, &[x, ptr(&un), sz_un]);
        let mut pair = [0i32; 2];
        sys(
            libc::SYS_socketpair,
            &[
                libc::AF_UNIX as _,
                libc::SOCK_STREAM as _,
                0,
                ptr(pair.as_mut_ptr()),
            ],
        );
    });
    wait(child);
    let evs = collect(&mut src, child, T);
    for e in &evs {
        e.assert_well_formed();
    }
    let lo = [127u8, 0, 0, 1];
    let sock = one(&evs, t::PPME_SOCKET_SOCKET_X, |_| true);
    assert_eq!(sock.int("domain"), libc::AF_INET as i64);
    assert_eq!(sock.int("type"), libc::SOCK_STREAM as i64);

    let conn = one(
        &evs,
        t::PPME_SOCKET_CONNECT_X,
        |e| matches!(e.value("addr"), Value::SockAddr(SockAddr::Inet { port, .. }) if port == lport),
    );
    assert_eq!(conn.int("res"), 0);
    match conn.value("tuple") {
        Value::SockTuple(SockTuple::Inet {
            sip,
            sport,
            dip,
            dport,
        }) => {
            assert_eq!((sip, dip, dport), (lo, lo, lport));
            assert!(sport > 1024);
        }
        other => panic!("tuple {other:?}"),
    }
    let shut = one(&evs, t::PPME_SOCKET_SHUTDOWN_X, |_| true);
    assert_eq!(shut.int("how"), libc::SHUT_WR as i64);

    let bind = one(&evs, t::PPME_SOCKET_BIND_X, |_| true);
    assert_eq!(bind.int("res"), 0);
    assert_eq!(
        bind.value("addr"),
        Value::SockAddr(SockAddr::Inet {
            ip: lo,
            port: own_port
        })
    );
    let listen = one(&evs, t::PPME_SOCKET_LISTEN_X, |_| true);
    assert_eq!((listen.int("res"), listen.int("backlog")), (0, 5));
    let acc = one(&evs, t::PPME_SOCKET_ACCEPT4_6_X, |_| true);
    assert!(acc.int("fd") >= 0);
    match acc.value("tuple") {
        Value::SockTuple(SockTuple::Inet {
            sip, dip, dport, ..
        }) => assert_eq!((sip, dip, dport), (lo, lo, own_port)),
        other => panic!("accept tuple {other:?}"),
    }
    assert_eq!(acc.int("flags"), flag(flags::FILE_FLAGS, "O_CLOEXEC"));
    assert_eq!(acc.int("queuemax"), 5);

    let sendto = one(&evs, t::PPME_SOCKET_SENDTO_X, |_| true);
    assert_eq!(sendto.int("res"), 4);
    assert_eq!(sendto.value("data"), Value::Bytes(b"ping"));
    match sendto.value("tuple") {
        Value::SockTuple(SockTuple::Inet { dip, dport, .. }) => {
            assert_eq!((dip, dport), (lo, udp.local_addr().unwrap().port()))
        }
        other => panic!("sendto tuple {other:?}"),
    }

    let uconn = one(&evs, t::PPME_SOCKET_CONNECT_X, |e| {
        matches!(e.value("addr"), Value::SockAddr(SockAddr::Unix(_)))
    });
    assert_eq!(uconn.int("res"), 0);
    match uconn.value("tuple") {
        Value::SockTuple(SockTuple::Unix { source, dest, path }) => {
            assert_ne!(source, 0);
            assert_ne!(dest, 0);
            assert_eq!(path, upath.to_str().unwrap().as_bytes());
        }
        other => panic!("unix tuple {other:?}"),
    }
    let pair = one(&evs, t::PPME_SOCKET_SOCKETPAIR_X, |_| true);
    assert_eq!(pair.int("res"), 0);
    assert!(pair.int("fd1") >= 0 && pair.int("fd2") >= 0);
    assert_ne!(pair.int("source"), 0);
    assert_ne!(pair.int("peer"), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn network_dispatch() {
    if live() {
        network(DESIGNS[0]);
    }
}

#[test]
fn network_tracepoint() {
    if live() {
        network(DESIGNS[1]);
    }
}
