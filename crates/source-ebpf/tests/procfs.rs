//! The startup /proc scan against real processes, threads and fds we create.

use peregrine_ebpf::procfs::{by_tid, scan_tables, ProcScan};
use peregrine_event::records::{FdKind, FdTarget};
use peregrine_event::table::flags::{CLONE_FLAGS, FILE_FLAGS};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};

fn ppm(tbl: &[peregrine_event::table::NameValue], name: &str) -> u32 {
    tbl.iter().find(|f| f.name == name).unwrap().value
}

fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("peregrine-procfs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn spawned_process_has_its_context() {
    let dir = scratch("ctx");
    let mut child = Command::new("/bin/sleep")
        .arg("30")
        .env_clear()
        .env("PEREGRINE_SCAN", "yes")
        .current_dir(&dir)
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn sleep");
    let pid = child.id() as i64;
    // wait until the exec is visible
    for _ in 0..100 {
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
        if exe.to_string_lossy().contains("sleep") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let tables = scan_tables(&ProcScan::new(None), None);
    child.kill().unwrap();
    child.wait().unwrap();

    let threads = by_tid(&tables);
    let t = threads.get(&pid).expect("child scanned");
    assert_eq!((t.tid, t.pid), (pid, pid));
    assert_eq!(t.ptid, std::process::id() as i64);
    assert_eq!(t.comm, "sleep");
    assert_eq!(t.exe, "/bin/sleep");
    assert_eq!(t.args, vec!["30"]);
    assert_eq!(t.env, vec!["PEREGRINE_SCAN=yes"]);
    assert_eq!(t.cwd, dir.to_str().unwrap());
    let real = std::fs::canonicalize("/bin/sleep").unwrap();
    assert_eq!(t.exepath, real.to_str().unwrap());
    let meta = std::fs::metadata(&real).unwrap();
    assert_eq!(t.exe_ino, meta.ino());
    assert_eq!(
        t.exe_ino_mtime,
        meta.mtime() as u64 * 1_000_000_000 + meta.mtime_nsec() as u64
    );
    assert!(!t.exe_from_memfd);
    let me = std::fs::read_to_string("/proc/self/status").unwrap();
    let uid: u32 = me
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().nth(1))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(t.uid, uid);
    assert!(t.fdlimit > 0);
    assert!(t.vmsize_kb > 0);
    assert_eq!((t.vtid, t.vpid), (pid, pid));
    assert!(!t.cgroups.is_empty());
    assert_eq!(t.root, "/");
    // started within the last minute, on the epoch clock
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    assert!(t.clone_ts <= now + 1_000_000_000 && t.clone_ts > now - 60_000_000_000);
    let fd0 = t.fds.iter().find(|f| f.fd == 0).expect("stdin");
    assert_eq!(fd0.target, FdTarget::Name("/dev/null".into()));

    let m = tables.machine.as_ref().expect("machine");
    assert!(m.num_cpus >= 1 && m.memory_size_bytes > 0 && !m.hostname.is_empty());
    assert!(tables.users.iter().any(|u| u.uid == 0 && u.name == "root"));
    assert!(tables.groups.iter().any(|g| g.gid == 0));
    assert!(tables.interfaces.iter().any(|i| i.name == "lo"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn own_fds_and_threads() {
    let dir = scratch("fds");
    let file_path = dir.join("data.txt");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file_path)
        .unwrap();
    file.write_all(b"x").unwrap();
    let dirfd = std::fs::File::open(&dir).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let cport = client.local_addr().unwrap().port();
    let listener6 = std::net::TcpListener::bind("[::1]:0").ok();
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let upath = dir.join("u.sock");
    let unix = std::os::unix::net::UnixListener::bind(&upath).unwrap();
    let (pr, pw) = {
        let mut fds = [0i32; 2];
        // SAFETY: pipe2 writes two fds into our array.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        (fds[0], fds[1])
    };
    // SAFETY: plain eventfd/memfd creation; we close them below.
    let efd = unsafe { libc::eventfd(0, 0) };
    let mname = std::ffi::CString::new("scanme").unwrap();
    // SAFETY: as above.
    let mfd = unsafe { libc::memfd_create(mname.as_ptr(), 0) };
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        let _ = rx.recv();
    });

    let tables = scan_tables(&ProcScan::new(None), None);
    let me = std::process::id() as i64;
    let threads = by_tid(&tables);
    let leader = threads.get(&me).expect("our process");
    let mine: Vec<_> = tables.threads.iter().filter(|t| t.pid == me).collect();
    assert!(mine.len() >= 2, "threads of ours: {}", mine.len());
    assert_eq!(mine[0].tid, me, "leader first");
    let thread = mine.iter().find(|t| t.tid != me).unwrap();
    assert_ne!(thread.flags & ppm(CLONE_FLAGS, "CLONE_THREAD"), 0);
    assert!(thread.fds.is_empty(), "threads share the leader's fds");
    assert_eq!(thread.exepath, leader.exepath);

    let fd = |n: i32| {
        leader
            .fds
            .iter()
            .find(|f| f.fd == n as i64)
            .unwrap_or_else(|| panic!("fd {n} missing"))
    };
    let f = fd(file.as_raw_fd());
    assert_eq!(f.kind, FdKind::FileV2);
    assert_eq!(f.target, FdTarget::Name(file_path.to_str().unwrap().into()));
    assert_eq!(f.ino, std::fs::metadata(&file_path).unwrap().ino());
    assert_ne!(f.flags & ppm(FILE_FLAGS, "O_APPEND"), 0);
    assert_ne!(f.flags & ppm(FILE_FLAGS, "O_WRONLY"), 0);
    assert_eq!(fd(dirfd.as_raw_fd()).kind, FdKind::Directory);

    let l = fd(listener.as_raw_fd());
    assert_eq!(l.kind, FdKind::Ipv4ServSock);
    assert_eq!(
        l.target,
        FdTarget::Ipv4Server {
            ip: 0x7f00_0001,
            port,
            l4proto: 6
        }
    );
    let c = fd(client.as_raw_fd());
    assert_eq!(c.kind, FdKind::Ipv4Sock);
    assert_eq!(
        c.target,
        FdTarget::Ipv4 {
            sip: 0x7f00_0001,
            dip: 0x7f00_0001,
            sport: cport,
            dport: port,
            l4proto: 6
        }
    );
    if let Some(l6) = &listener6 {
        assert_eq!(fd(l6.as_raw_fd()).kind, FdKind::Ipv6ServSock);
    }
    let u = fd(udp.as_raw_fd());
    assert!(
        matches!(u.target, FdTarget::Ipv4 { l4proto: 17, .. }),
        "{u:?}"
    );
    let x = fd(unix.as_raw_fd());
    assert_eq!(x.kind, FdKind::UnixSock);
    assert!(matches!(&x.target, FdTarget::Unix { path, .. } if path == upath.to_str().unwrap()));
    let p = fd(pr);
    assert_eq!(p.kind, FdKind::Fifo);
    assert!(p.ino > 0);
    assert_eq!(fd(pw).ino, p.ino, "both ends share the pipe inode");
    assert_ne!(p.flags & ppm(FILE_FLAGS, "O_CLOEXEC"), 0);
    assert_eq!(fd(efd).kind, FdKind::Event);
    let m = fd(mfd);
    assert_eq!(m.kind, FdKind::Memfd);
    assert_eq!(m.target, FdTarget::Name("memfd:scanme".into()));

    tx.send(()).unwrap();
    worker.join().unwrap();
    // SAFETY: closing fds we opened above.
    unsafe {
        libc::close(pr);
        libc::close(pw);
        libc::close(efd);
        libc::close(mfd);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `HOST_ROOT`: /proc and /etc are read below the given root.
#[test]
fn host_root_is_honoured() {
    let root = scratch("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::os::unix::fs::symlink("/proc", root.join("proc")).unwrap();
    std::fs::write(
        root.join("etc/passwd"),
        "hostuser:x:4242:4343:Host User:/home/hostuser:/bin/zsh\n",
    )
    .unwrap();
    std::fs::write(root.join("etc/group"), "hostgroup:x:4343:\n").unwrap();
    let tables = scan_tables(&ProcScan::new(Some(root.clone())), Some(std::process::id()));
    assert_eq!(tables.users.len(), 1);
    assert_eq!(tables.users[0].name, "hostuser");
    assert_eq!(tables.users[0].shell, "/bin/zsh");
    assert_eq!(tables.groups[0].name, "hostgroup");
    assert!(
        tables
            .threads
            .iter()
            .all(|t| t.pid != std::process::id() as i64),
        "our own process is skipped"
    );
    assert!(tables.threads.iter().any(|t| t.pid == 1));
    let _ = std::fs::remove_dir_all(&root);
}
