//! Startup state from /proc: every thread with its process context and open
//! fds, users and groups, the machine and its interfaces, in the same records
//! a capture file's blocks carry. Reads `$HOST_ROOT/proc` and `$HOST_ROOT/etc`
//! when a host root is set (running in a container). Pure Rust; unreadable
//! entries (processes that exit mid-scan, permission errors) are skipped.

mod fds;
mod sockets;
mod threads;
mod users;

pub use fds::{fd_kind_of_link, scan_fds};
pub use sockets::{SocketInfo, SocketTable};
pub use threads::{scan_thread, ProcFields};
pub use users::{parse_group, parse_passwd};

use peregrine_event::records::{InterfaceAddr, InterfaceRecord, MachineInfo, ThreadRecord};
use peregrine_event::source::Tables;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where to read from.
#[derive(Debug, Clone)]
pub struct ProcScan {
    root: PathBuf,
}

impl ProcScan {
    /// `host_root` is the host's `/` as mounted here (`HOST_ROOT`); `None`
    /// reads this machine's `/proc` and `/etc`.
    pub fn new(host_root: Option<PathBuf>) -> ProcScan {
        ProcScan {
            root: host_root.unwrap_or_else(|| PathBuf::from("/")),
        }
    }

    pub fn proc(&self) -> PathBuf {
        self.root.join("proc")
    }

    pub fn etc(&self) -> PathBuf {
        self.root.join("etc")
    }

    /// Path inside the host's `/proc`.
    pub fn proc_path(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.proc().join(rel)
    }
}

/// Everything a capture file's header blocks would carry. Our own process
/// (`skip_tgid`) is left out, as its events are.
pub fn scan_tables(scan: &ProcScan, skip_tgid: Option<u32>) -> Tables {
    let boot_ns = boot_time_ns(scan);
    let mut sockets = SocketTable::default();
    let mut threads = Vec::new();
    for pid in list_numeric(&scan.proc()) {
        if Some(pid as u32) == skip_tgid {
            continue;
        }
        scan_process(scan, pid, boot_ns, &mut sockets, &mut threads);
    }
    let users = std::fs::read_to_string(scan.etc().join("passwd"))
        .map(|s| parse_passwd(&s))
        .unwrap_or_default();
    let groups = std::fs::read_to_string(scan.etc().join("group"))
        .map(|s| parse_group(&s))
        .unwrap_or_default();
    Tables {
        machine: Some(machine_info(scan, boot_ns)),
        threads,
        users,
        groups,
        interfaces: interfaces(),
    }
}

/// All threads of one process, the leader first, fds on the leader only
/// (threads share them).
pub fn scan_process(
    scan: &ProcScan,
    pid: i64,
    boot_ns: u64,
    sockets: &mut SocketTable,
    out: &mut Vec<ThreadRecord>,
) {
    let pdir = scan.proc_path(pid.to_string());
    let mut tids = list_numeric(&pdir.join("task"));
    if tids.is_empty() {
        tids.push(pid);
    }
    tids.sort_by_key(|t| (*t != pid, *t));
    let Some(mut leader) = scan_thread(&pdir, pid, pid, boot_ns) else {
        return;
    };
    let netns = std::fs::read_link(pdir.join("ns/net"))
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    sockets.load_netns(&netns, &pdir.join("net"));
    leader.fds = scan_fds(&pdir, sockets.netns(&netns));
    let mut threads = Vec::with_capacity(tids.len().saturating_sub(1));
    for tid in tids {
        if tid == pid {
            continue;
        }
        let tdir = pdir.join("task").join(tid.to_string());
        if let Some(mut t) = scan_thread(&tdir, tid, pid, boot_ns) {
            // Process-wide fields come from the leader.
            t.exe.clone_from(&leader.exe);
            t.exepath.clone_from(&leader.exepath);
            t.args.clone_from(&leader.args);
            t.env.clone_from(&leader.env);
            t.ptid = leader.ptid;
            threads.push(t);
        }
    }
    out.push(leader);
    out.extend(threads);
}

/// Numeric entries of a directory (pids, tids, fds), unsorted.
pub fn list_numeric(dir: &Path) -> Vec<i64> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<i64>().ok()))
        .collect()
}

/// Epoch nanoseconds at boot, from `btime` in /proc/stat (seconds), refined
/// with the clocks when reading our own machine.
pub fn boot_time_ns(scan: &ProcScan) -> u64 {
    if scan.root == Path::new("/") {
        return crate::loader::boot_time_ns();
    }
    std::fs::read_to_string(scan.proc_path("stat"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("btime "))
                .and_then(|v| v.trim().parse::<u64>().ok())
        })
        .map(|s| s * 1_000_000_000)
        .unwrap_or(0)
}

fn machine_info(scan: &ProcScan, boot_ns: u64) -> MachineInfo {
    // SAFETY: sysconf has no preconditions.
    let cpus = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.max(1) as u32;
    let mem_kb = std::fs::read_to_string(scan.proc_path("meminfo"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(0);
    let hostname = std::fs::read_to_string(scan.proc_path("sys/kernel/hostname"))
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    MachineInfo {
        num_cpus: cpus,
        memory_size_bytes: mem_kb * 1024,
        max_event_size: 64 * 1024,
        hostname,
        boot_time_ns: boot_ns,
        flags: 0,
        max_pid: std::fs::read_to_string(scan.proc_path("sys/kernel/pid_max"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0),
    }
}

/// Addresses of this network namespace's interfaces.
pub fn interfaces() -> Vec<InterfaceRecord> {
    let mut out = Vec::new();
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs allocates a list we free below.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return out;
    }
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: cur walks the list getifaddrs returned.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_addr.is_null() || ifa.ifa_name.is_null() {
            continue;
        }
        // SAFETY: ifa_name is a NUL-terminated string owned by the list.
        let name = unsafe { std::ffi::CStr::from_ptr(ifa.ifa_name) }
            .to_string_lossy()
            .into_owned();
        let conv = |sa: *const libc::sockaddr| -> InterfaceAddr {
            if sa.is_null() {
                return InterfaceAddr::None;
            }
            // SAFETY: sa points to a sockaddr of the family it names.
            unsafe {
                match (*sa).sa_family as i32 {
                    libc::AF_INET => {
                        let sin = &*(sa as *const libc::sockaddr_in);
                        InterfaceAddr::V4(u32::from_be(sin.sin_addr.s_addr))
                    }
                    libc::AF_INET6 => {
                        let sin6 = &*(sa as *const libc::sockaddr_in6);
                        InterfaceAddr::V6(sin6.sin6_addr.s6_addr)
                    }
                    _ => InterfaceAddr::None,
                }
            }
        };
        let addr = conv(ifa.ifa_addr);
        if addr == InterfaceAddr::None {
            continue;
        }
        out.push(InterfaceRecord {
            name,
            addr,
            netmask: conv(ifa.ifa_netmask),
            broadcast: conv(ifa.ifa_ifu),
            linkspeed: 0,
        });
    }
    // SAFETY: freeing the list getifaddrs gave us.
    unsafe { libc::freeifaddrs(head) };
    out
}

/// Threads indexed by tid (for tests and callers that need lookups).
pub fn by_tid(tables: &Tables) -> HashMap<i64, &ThreadRecord> {
    tables.threads.iter().map(|t| (t.tid, t)).collect()
}
