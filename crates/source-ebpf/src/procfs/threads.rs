//! One thread's record from `/proc/<pid>/task/<tid>`.

use peregrine_event::records::ThreadRecord;
use peregrine_event::table::flags::CLONE_FLAGS;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Fields of `/proc/<id>/stat` after the command name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ProcFields {
    pub comm: String,
    pub ppid: i64,
    pub pgrp: i64,
    pub session: i64,
    pub tty_nr: u32,
    pub minflt: u64,
    pub majflt: u64,
    pub starttime_ticks: u64,
}

impl ProcFields {
    /// Parses a stat line; the command name may contain spaces and parens.
    pub fn parse(stat: &str) -> Option<ProcFields> {
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let comm = stat.get(open + 1..close)?.to_string();
        let rest: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
        let num = |i: usize| rest.get(i).and_then(|v| v.parse::<i64>().ok());
        Some(ProcFields {
            comm,
            ppid: num(1)?,
            pgrp: num(2)?,
            session: num(3)?,
            tty_nr: num(4)? as u32,
            minflt: num(7)? as u64,
            majflt: num(9)? as u64,
            starttime_ticks: num(19)? as u64,
        })
    }
}

fn flag(name: &str) -> u32 {
    CLONE_FLAGS
        .iter()
        .find(|f| f.name == name)
        .map(|f| f.value)
        .unwrap_or(0)
}

/// `key:\tvalue` lines of a status file.
fn status_field<'a>(status: &'a str, key: &str) -> Option<&'a str> {
    status.lines().find_map(|l| {
        l.strip_prefix(key)
            .and_then(|r| r.strip_prefix(':'))
            .map(str::trim)
    })
}

/// The last number of a whitespace-separated list (`NSpid: 1234 5`).
fn last_num(v: Option<&str>) -> Option<i64> {
    v?.split_whitespace().last()?.parse().ok()
}

fn nth_num(v: Option<&str>, n: usize) -> Option<u64> {
    v?.split_whitespace().nth(n)?.parse().ok()
}

fn kb(v: Option<&str>) -> u32 {
    v.and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0)
        .min(u32::MAX as u64) as u32
}

fn hex(v: Option<&str>) -> u64 {
    v.and_then(|s| u64::from_str_radix(s.trim(), 16).ok())
        .unwrap_or(0)
}

/// NUL-separated strings (cmdline, environ).
pub fn split_nul(b: &[u8]) -> Vec<String> {
    b.split(|c| *c == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

fn link(p: &Path) -> String {
    std::fs::read_link(p)
        .map(|l| l.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `(subsystem, path)` pairs from a cgroup file. Version-1 lines give one
/// pair per controller; the unified (v2) line fills in the subsystems the
/// probe reports that no v1 hierarchy owns.
pub fn parse_cgroups(s: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut unified = None;
    for line in s.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_id), Some(ctrls), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if ctrls.is_empty() {
            unified = Some(path.to_string());
            continue;
        }
        for c in ctrls.split(',') {
            out.push((c.to_string(), path.to_string()));
        }
    }
    if let Some(path) = unified {
        for c in ["cpuset", "cpu", "cpuacct", "io", "memory"] {
            if !out.iter().any(|(k, _)| k == c) {
                out.push((c.to_string(), path.clone()));
            }
        }
    }
    out
}

fn ns_of(meta: &std::fs::Metadata, sec: i64, nsec: i64) -> u64 {
    let _ = meta;
    (sec.max(0) as u64) * 1_000_000_000 + nsec.max(0) as u64
}

/// Whether the credentials in `status` may write a file with `meta`: owner,
/// group (including supplementary groups) and other bits, or
/// CAP_DAC_OVERRIDE. ACLs and read-only mounts are not considered.
fn writable(status: &str, meta: &std::fs::Metadata) -> bool {
    let fsuid = nth_num(status_field(status, "Uid"), 3).unwrap_or(u64::MAX) as u32;
    let fsgid = nth_num(status_field(status, "Gid"), 3).unwrap_or(u64::MAX) as u32;
    let mode = meta.mode();
    if meta.uid() == fsuid {
        return true;
    }
    let in_group = meta.gid() == fsgid
        || status_field(status, "Groups")
            .map(|g| g.split_whitespace().any(|x| x.parse() == Ok(meta.gid())))
            .unwrap_or(false);
    let bits = if in_group { mode >> 3 } else { mode };
    if bits & 0o2 != 0 {
        return true;
    }
    hex(status_field(status, "CapEff")) & 0b10 != 0 // CAP_DAC_OVERRIDE
}

/// Reads thread `tid` of process `pid` from its /proc directory (the
/// process's own directory for the leader). `None` if it vanished.
pub fn scan_thread(dir: &Path, tid: i64, pid: i64, boot_ns: u64) -> Option<ThreadRecord> {
    let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
    let f = ProcFields::parse(&stat)?;
    let status = std::fs::read_to_string(dir.join("status")).unwrap_or_default();
    let cmdline = std::fs::read(dir.join("cmdline")).unwrap_or_default();
    let mut args = split_nul(&cmdline);
    let exe = if args.is_empty() {
        f.comm.clone()
    } else {
        args.remove(0)
    };
    let env = split_nul(&std::fs::read(dir.join("environ")).unwrap_or_default());
    let exepath = link(&dir.join("exe"));
    let loginuid = std::fs::read_to_string(dir.join("loginuid"))
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or(u32::MAX);
    let fdlimit = std::fs::read_to_string(dir.join("limits"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).map(str::to_string))
        })
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    let cgroups = std::fs::read_to_string(dir.join("cgroup"))
        .map(|s| parse_cgroups(&s))
        .unwrap_or_default();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    let exe_meta = std::fs::metadata(dir.join("exe")).ok();
    let mut t = ThreadRecord {
        tid,
        pid,
        ptid: status_field(&status, "PPid")
            .and_then(|v| v.parse().ok())
            .unwrap_or(f.ppid),
        sid: f.session,
        vpgid: last_num(status_field(&status, "NSpgid")).unwrap_or(f.pgrp),
        pgid: f.pgrp,
        comm: f.comm.clone(),
        exe,
        exepath: exepath.clone(),
        args,
        env,
        cwd: link(&dir.join("cwd")),
        fdlimit,
        flags: 0,
        uid: nth_num(status_field(&status, "Uid"), 1).unwrap_or(0) as u32,
        gid: nth_num(status_field(&status, "Gid"), 1).unwrap_or(0) as u32,
        loginuid,
        vmsize_kb: kb(status_field(&status, "VmSize")),
        vmrss_kb: kb(status_field(&status, "VmRSS")),
        vmswap_kb: kb(status_field(&status, "VmSwap")),
        pfmajor: f.majflt,
        pfminor: f.minflt,
        vtid: last_num(status_field(&status, "NSpid")).unwrap_or(tid),
        vpid: last_num(status_field(&status, "NStgid")).unwrap_or(pid),
        cgroups,
        root: link(&dir.join("root")),
        tty: f.tty_nr,
        clone_ts: boot_ns + f.starttime_ticks * 1_000_000_000 / hz,
        pidns_init_start_ts: 0,
        exe_writable: exe_meta.as_ref().is_some_and(|m| writable(&status, m)),
        exe_upper_layer: false,
        exe_lower_layer: false,
        exe_from_memfd: exepath.starts_with("/memfd:"),
        exe_ino: exe_meta.as_ref().map(|m| m.ino()).unwrap_or(0),
        exe_ino_ctime: exe_meta
            .as_ref()
            .map(|m| ns_of(m, m.ctime(), m.ctime_nsec()))
            .unwrap_or(0),
        exe_ino_mtime: exe_meta
            .as_ref()
            .map(|m| ns_of(m, m.mtime(), m.mtime_nsec()))
            .unwrap_or(0),
        cap_permitted: hex(status_field(&status, "CapPrm")),
        cap_effective: hex(status_field(&status, "CapEff")),
        cap_inheritable: hex(status_field(&status, "CapInh")),
        fds: Vec::new(),
    };
    if tid != pid {
        // Threads share the leader's fd table and memory.
        t.flags = flag("CLONE_THREAD") | flag("CLONE_FILES") | flag("CLONE_VM");
    }
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_line_with_odd_command_name() {
        let line = "4242 (my (weird) name) S 1 4242 4242 34816 4242 4194560 120 0 3 0 1 2 0 0 20 0 1 0 987654 1000 200 18446744073709551615";
        let f = ProcFields::parse(line).expect("parses");
        assert_eq!(f.comm, "my (weird) name");
        assert_eq!(
            (f.ppid, f.pgrp, f.session, f.tty_nr),
            (1, 4242, 4242, 34816)
        );
        assert_eq!((f.minflt, f.majflt, f.starttime_ticks), (120, 3, 987654));
        assert!(ProcFields::parse("garbage").is_none());
    }

    #[test]
    fn cgroups_v1_and_unified() {
        let s =
            "9:name=systemd:/\n4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n0::/docker/abc\n";
        let c = parse_cgroups(s);
        assert!(c.contains(&("memory".into(), "/docker/abc".into())));
        assert!(c.contains(&("cpu".into(), "/docker/abc".into())));
        assert!(c.contains(&("cpuacct".into(), "/docker/abc".into())));
        assert!(
            c.contains(&("cpuset".into(), "/docker/abc".into())),
            "filled from v2"
        );
        assert_eq!(c.iter().filter(|(k, _)| k == "memory").count(), 1);
        let v2 = parse_cgroups("0::/system.slice/x.service\n");
        assert_eq!(v2.len(), 5);
    }

    #[test]
    fn nul_separated() {
        assert_eq!(split_nul(b"sh\0-c\0echo hi\0"), vec!["sh", "-c", "echo hi"]);
        assert!(split_nul(b"").is_empty());
    }
}
