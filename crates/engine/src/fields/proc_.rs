//! `proc.*` and `thread.*`.

use peregrine_state::consts::{
    PPM_EXE_FROM_MEMFD, PPM_EXE_LOWER_LAYER, PPM_EXE_UPPER_LAYER, PPM_EXE_WRITABLE,
};
use peregrine_state::{State, Thread};

use super::{Ctx, FArg, Fid};
use crate::value::Out;

/// Linux capability names by bit, as libsinsp prints them.
const CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

const SHELLS: &[&str] = &[
    "ash", "bash", "csh", "ksh", "sh", "tcsh", "zsh", "dash", "fish",
];

fn push_joined(out: &mut Out<'_>, head: Option<&str>, items: &[Box<str>]) {
    let off = out.begin_str();
    let mut first = true;
    if let Some(h) = head {
        out.push_bytes(h.as_bytes());
        first = false;
    }
    for a in items {
        if !first {
            out.push_bytes(b" ");
        }
        out.push_bytes(a.as_bytes());
        first = false;
    }
    out.end_str(off);
}

fn cmdline(out: &mut Out<'_>, t: &Thread) {
    push_joined(out, Some(t.name().unwrap_or("")), &t.args)
}

fn caps(out: &mut Out<'_>, bits: u64) {
    let off = out.begin_str();
    let mut first = true;
    for (i, name) in CAPS.iter().enumerate() {
        if bits & (1 << i) != 0 {
            if !first {
                out.push_bytes(b" ");
            }
            out.push_bytes(name.as_bytes());
            first = false;
        }
    }
    out.end_str(off);
}

/// The ancestor at `depth` (0 = the thread itself, 1 = parent, …).
fn ancestor<'a>(state: &'a State, t: &'a Thread, depth: i64) -> Option<&'a Thread> {
    if depth == 0 {
        return Some(t);
    }
    state
        .threads()
        .ancestors(t)
        .nth(usize::try_from(depth - 1).ok()?)
}

fn per_ancestor(
    state: &State,
    t: &Thread,
    arg: &FArg,
    out: &mut Out<'_>,
    f: impl Fn(&mut Out<'_>, &Thread),
) {
    match arg {
        FArg::Index(i) => {
            if let Some(a) = ancestor(state, t, *i) {
                f(out, a)
            }
        }
        // Without an index: every ancestor (a comparison matches any of them).
        _ => {
            for a in state.threads().ancestors(t) {
                f(out, a);
            }
        }
    }
}

fn env_value<'a>(t: &'a Thread, name: &str) -> Option<&'a str> {
    t.env.iter().find_map(|e| {
        let (k, v) = e.split_once('=')?;
        (k == name).then_some(v)
    })
}

fn group_leader<'a>(state: &'a State, t: &'a Thread, id: i64) -> Option<&'a Thread> {
    // The leader of a session / process group is the nearest ancestor (or
    // self) whose pid is that id.
    if t.pid == id {
        return Some(t);
    }
    state.threads().ancestors(t).find(|a| a.pid == id)
}

pub(super) fn extract(fid: Fid, arg: &FArg, ctx: &Ctx<'_>, out: &mut Out<'_>) -> bool {
    let state = ctx.state;
    if fid == Fid::ThreadTid {
        // The event's own thread id, known or not.
        out.i64(ctx.ev.tid() as i64);
        return true;
    }
    let Some(t) = ctx.thread else {
        // No thread: these fields have no value.
        return true;
    };
    // libsinsp's parent is the parent *process* of the thread's process.
    let parent = || state.threads().ancestors(t).next();
    let now = ctx.ev.ts();
    match fid {
        Fid::ProcExe => out.str(t.exe.as_bytes()),
        Fid::ProcPexe => {
            if let Some(p) = parent() {
                out.str(p.exe.as_bytes())
            }
        }
        Fid::ProcAexe => per_ancestor(state, t, arg, out, |o, a| o.str(a.exe.as_bytes())),
        Fid::ProcExepath => out.str(t.exepath.as_bytes()),
        Fid::ProcPexepath => {
            if let Some(p) = parent() {
                out.str(p.exepath.as_bytes())
            }
        }
        Fid::ProcAexepath => per_ancestor(state, t, arg, out, |o, a| o.str(a.exepath.as_bytes())),
        Fid::ProcName => {
            if let Some(n) = t.name() {
                out.str(n.as_bytes())
            }
        }
        Fid::ProcPname => {
            if let Some(n) = parent().and_then(Thread::name) {
                out.str(n.as_bytes())
            }
        }
        Fid::ProcAname => per_ancestor(state, t, arg, out, |o, a| {
            if let Some(n) = a.name() {
                o.str(n.as_bytes())
            }
        }),
        Fid::ProcArgs => match arg {
            FArg::Index(i) => {
                if let Some(a) = usize::try_from(*i).ok().and_then(|i| t.args.get(i)) {
                    out.str(a.as_bytes())
                }
            }
            _ => push_joined(out, None, &t.args),
        },
        Fid::ProcAargs => per_ancestor(state, t, arg, out, |o, a| push_joined(o, None, &a.args)),
        Fid::ProcCmdline => {
            if t.name().is_some() {
                cmdline(out, t)
            }
        }
        Fid::ProcPcmdline => {
            if let Some(p) = parent() {
                cmdline(out, p)
            }
        }
        Fid::ProcAcmdline => per_ancestor(state, t, arg, out, cmdline),
        Fid::ProcCmdnargs => out.u64(t.args.len() as u64),
        Fid::ProcCmdlenargs => {
            let n: usize =
                t.args.iter().map(|a| a.len()).sum::<usize>() + t.args.len().saturating_sub(1);
            out.u64(n as u64)
        }
        Fid::ProcExeline => push_joined(out, Some(&t.exe), &t.args),
        Fid::ProcEnv => match arg {
            FArg::Name(n) => {
                if let Some(v) = env_value(t, n) {
                    out.str(v.as_bytes())
                }
            }
            _ => push_joined(out, None, &t.env),
        },
        Fid::ProcAenv => match arg {
            FArg::Name(n) => {
                // The nearest ancestor (self included) that has the variable.
                let hit = std::iter::once(t)
                    .chain(state.threads().ancestors(t))
                    .find_map(|a| env_value(a, n));
                if let Some(v) = hit {
                    out.str(v.as_bytes())
                }
            }
            _ => push_joined(out, None, &t.env),
        },
        Fid::ProcCwd => {
            if let Some(c) = state.cwd(t) {
                out.str(c.as_bytes())
            }
        }
        Fid::ProcLoginshellid => {
            // The eldest shell among the thread and its ancestors.
            let mut id = None;
            for a in std::iter::once(t).chain(state.threads().ancestors(t)) {
                if a.name().is_some_and(|n| SHELLS.contains(&n)) {
                    id = Some(a.pid);
                }
            }
            if let Some(id) = id {
                out.i64(id)
            }
        }
        Fid::ProcTty => out.u64(t.tty as u64),
        Fid::ProcPid => out.i64(t.pid),
        Fid::ProcPpid => {
            if let Some(p) = parent() {
                out.i64(p.pid)
            } else if t.ptid > 0 {
                out.i64(t.ptid)
            }
        }
        Fid::ProcApid => per_ancestor(state, t, arg, out, |o, a| o.i64(a.pid)),
        Fid::ProcVpid => out.i64(t.vpid),
        Fid::ProcPvpid => {
            if let Some(p) = parent() {
                out.i64(p.vpid)
            }
        }
        Fid::ProcSid => out.i64(t.sid),
        Fid::ProcSname | Fid::ProcSidExe | Fid::ProcSidExepath => {
            if let Some(l) = group_leader(state, t, t.sid) {
                match fid {
                    Fid::ProcSname => {
                        if let Some(n) = l.name() {
                            out.str(n.as_bytes())
                        }
                    }
                    Fid::ProcSidExe => out.str(l.exe.as_bytes()),
                    _ => out.str(l.exepath.as_bytes()),
                }
            }
        }
        Fid::ProcVpgid => out.i64(t.vpgid),
        Fid::ProcPgid => out.i64(if t.pgid >= 0 { t.pgid } else { t.vpgid }),
        Fid::ProcVpgidName
        | Fid::ProcVpgidExe
        | Fid::ProcVpgidExepath
        | Fid::ProcPgidName
        | Fid::ProcPgidExe
        | Fid::ProcPgidExepath => {
            let id = if matches!(
                fid,
                Fid::ProcPgidName | Fid::ProcPgidExe | Fid::ProcPgidExepath
            ) && t.pgid >= 0
            {
                t.pgid
            } else {
                t.vpgid
            };
            if let Some(l) = group_leader(state, t, id) {
                match fid {
                    Fid::ProcVpgidName | Fid::ProcPgidName => {
                        if let Some(n) = l.name() {
                            out.str(n.as_bytes())
                        }
                    }
                    Fid::ProcVpgidExe | Fid::ProcPgidExe => out.str(l.exe.as_bytes()),
                    _ => out.str(l.exepath.as_bytes()),
                }
            }
        }
        Fid::ProcDuration => {
            if t.clone_ts > 0 {
                out.u64(now.saturating_sub(t.clone_ts))
            }
        }
        Fid::ProcPpidDuration => {
            if let Some(p) = parent().filter(|p| p.clone_ts > 0) {
                out.u64(now.saturating_sub(p.clone_ts))
            }
        }
        Fid::ProcPidTs => out.u64(t.clone_ts),
        Fid::ProcPpidTs => {
            if let Some(p) = parent() {
                out.u64(p.clone_ts)
            }
        }
        Fid::ProcIsExeWritable => out.bool(t.exe_flags & PPM_EXE_WRITABLE != 0),
        Fid::ProcIsExeUpperLayer => out.bool(t.exe_flags & PPM_EXE_UPPER_LAYER != 0),
        Fid::ProcIsExeLowerLayer => out.bool(t.exe_flags & PPM_EXE_LOWER_LAYER != 0),
        Fid::ProcIsExeFromMemfd => out.bool(t.exe_flags & PPM_EXE_FROM_MEMFD != 0),
        Fid::ProcIsSidLeader => out.bool(t.sid == t.vpid),
        Fid::ProcIsVpgidLeader => out.bool(t.vpgid == t.vpid),
        Fid::ProcIsPgidLeader => out.bool(t.pgid == t.pid),
        Fid::ProcExeIno => {
            if t.exe_ino > 0 {
                out.i64(t.exe_ino as i64)
            }
        }
        Fid::ProcExeInoCtime => {
            if t.exe_ino_ctime > 0 {
                out.u64(t.exe_ino_ctime)
            }
        }
        Fid::ProcExeInoMtime => {
            if t.exe_ino_mtime > 0 {
                out.u64(t.exe_ino_mtime)
            }
        }
        Fid::ProcExeInoCtimeDurProcStart => {
            if t.exe_ino_ctime > 0 && t.clone_ts > 0 {
                out.u64(t.clone_ts.saturating_sub(t.exe_ino_ctime))
            }
        }
        Fid::ProcExeInoCtimeDurPidnsStart => {
            if t.exe_ino_ctime > 0 && t.pidns_init_start_ts > 0 {
                out.u64(t.exe_ino_ctime.saturating_sub(t.pidns_init_start_ts))
            }
        }
        Fid::ProcPidnsInitStartTs => out.u64(t.pidns_init_start_ts),
        Fid::ThreadCapPermitted => caps(out, t.cap_permitted),
        Fid::ThreadCapInheritable => caps(out, t.cap_inheritable),
        Fid::ThreadCapEffective => caps(out, t.cap_effective),
        Fid::ProcFdopencount => out.u64(state.process(t).map_or(0, |p| p.fds.len() as u64)),
        Fid::ProcFdlimit => out.i64(t.fdlimit),
        Fid::ProcFdusage => {
            if t.fdlimit > 0 {
                let n = state.process(t).map_or(0, |p| p.fds.len());
                out.f64(n as f64 * 100.0 / t.fdlimit as f64)
            }
        }
        Fid::ProcVmsize | Fid::ThreadVmsize => out.u64(t.vmsize_kb as u64),
        Fid::ProcVmrss | Fid::ThreadVmrss => out.u64(t.vmrss_kb as u64),
        Fid::ProcVmswap => out.u64(t.vmswap_kb as u64),
        Fid::ThreadPfmajor => out.u64(t.pfmajor),
        Fid::ThreadPfminor => out.u64(t.pfminor),
        Fid::ThreadTid => out.i64(t.tid),
        Fid::ThreadIsmain => out.bool(t.is_main()),
        Fid::ThreadVtid => out.i64(t.vtid),
        Fid::ThreadExectime | Fid::ThreadTotexectime => out.u64(0),
        Fid::ThreadCgroups => {
            let off = out.begin_str();
            for (i, (k, v)) in t.cgroups.iter().enumerate() {
                if i > 0 {
                    out.push_bytes(b" ");
                }
                out.push_bytes(k.as_bytes());
                out.push_bytes(b"=");
                out.push_bytes(v.as_bytes());
            }
            out.end_str(off)
        }
        Fid::ThreadCgroup => {
            if let FArg::Name(n) = arg {
                if let Some((_, v)) = t.cgroups.iter().find(|(k, _)| **k == **n) {
                    out.str(v.as_bytes())
                }
            }
        }
        Fid::ProcNthreads => out.u64(state.process(t).map_or(0, |p| p.nthreads as u64)),
        Fid::ProcNchilds => {
            let n = state
                .threads()
                .iter()
                .filter(|c| c.ptid == t.pid && c.is_main())
                .count();
            out.u64(n as u64)
        }
        Fid::ThreadCpu | Fid::ThreadCpuUser | Fid::ThreadCpuSystem => out.f64(0.0),
        Fid::ProcStdinType | Fid::ProcStdoutType | Fid::ProcStderrType => {
            let n = std_fd(fid);
            if let Some(f) = state.fd(t, n) {
                out.str(f.type_name().as_bytes())
            }
        }
        Fid::ProcStdinName | Fid::ProcStdoutName | Fid::ProcStderrName => {
            let n = std_fd(fid);
            if let Some(f) = state.fd(t, n) {
                out.str(f.name.as_bytes())
            }
        }
        _ => return false,
    }
    true
}

fn std_fd(fid: Fid) -> i64 {
    match fid {
        Fid::ProcStdinType | Fid::ProcStdinName => 0,
        Fid::ProcStdoutType | Fid::ProcStdoutName => 1,
        _ => 2,
    }
}
