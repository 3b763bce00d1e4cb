//! The inverse of seeding: the threads and fds state holds now, as the
//! records a capture's process and fd lists carry. A capture started in
//! the middle of a stream (a rule-triggered capture) opens with them, so
//! it reads on its own, as libscap's dumper makes it.

use peregrine_event::records::{FdRecord, FdTarget, ThreadRecord};
use peregrine_event::Tables;

use crate::consts::{
    PPM_EXE_FROM_MEMFD, PPM_EXE_LOWER_LAYER, PPM_EXE_UPPER_LAYER, PPM_EXE_WRITABLE,
};
use crate::fd::{Fd, Role, SockAddrs};
use crate::thread::Thread;
use crate::State;

impl State {
    /// `base` (machine, users, groups, interfaces) with the thread list
    /// replaced by the threads known now, each with its process's fds.
    pub fn snapshot_tables(&self, base: &Tables) -> Tables {
        let threads = self
            .threads
            .iter()
            .filter(|t| !t.dead)
            .map(|t| self.thread_record(t))
            .collect();
        Tables {
            machine: base.machine.clone(),
            threads,
            users: base.users.clone(),
            groups: base.groups.clone(),
            interfaces: base.interfaces.clone(),
        }
    }

    fn thread_record(&self, t: &Thread) -> ThreadRecord {
        let proc_ = self.threads.process(t);
        let strings = |v: &[Box<str>]| v.iter().map(|s| s.to_string()).collect();
        let flag = |f: u32| t.exe_flags & f != 0;
        ThreadRecord {
            tid: t.tid,
            pid: t.pid,
            ptid: t.ptid,
            sid: t.sid,
            vpgid: t.vpgid,
            pgid: t.pgid,
            comm: t.comm.as_deref().unwrap_or_default().to_string(),
            exe: t.exe.to_string(),
            exepath: t.exepath.to_string(),
            args: strings(&t.args),
            env: strings(&t.env),
            cwd: proc_.map(|p| p.cwd.to_string()).unwrap_or_default(),
            fdlimit: t.fdlimit,
            flags: t.flags,
            uid: t.uid,
            gid: t.gid,
            loginuid: t.loginuid,
            vmsize_kb: t.vmsize_kb,
            vmrss_kb: t.vmrss_kb,
            vmswap_kb: t.vmswap_kb,
            pfmajor: t.pfmajor,
            pfminor: t.pfminor,
            vtid: t.vtid,
            vpid: t.vpid,
            cgroups: t
                .cgroups
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            root: t.root.to_string(),
            tty: t.tty,
            clone_ts: t.clone_ts,
            pidns_init_start_ts: t.pidns_init_start_ts,
            exe_writable: flag(PPM_EXE_WRITABLE),
            exe_upper_layer: flag(PPM_EXE_UPPER_LAYER),
            exe_lower_layer: flag(PPM_EXE_LOWER_LAYER),
            exe_from_memfd: flag(PPM_EXE_FROM_MEMFD),
            exe_ino: t.exe_ino,
            exe_ino_ctime: t.exe_ino_ctime,
            exe_ino_mtime: t.exe_ino_mtime,
            cap_permitted: t.cap_permitted,
            cap_effective: t.cap_effective,
            cap_inheritable: t.cap_inheritable,
            // A process's fds are listed once, with its main thread.
            fds: match proc_ {
                Some(p) if t.is_main() => p.fds.iter().map(|(n, f)| fd_record(n, f)).collect(),
                _ => Vec::new(),
            },
        }
    }
}

fn fd_record(fd: i64, f: &Fd) -> FdRecord {
    let l4proto = f.l4 as u8;
    let v4 = u32::from_be_bytes;
    let target = match f.addrs {
        None if f.name.is_empty() => FdTarget::None,
        None => FdTarget::Name(f.name.to_string()),
        // The record keeps this side first, as the /proc scan does.
        Some(SockAddrs::V4 {
            cip,
            cport,
            sip,
            sport,
        }) => {
            let ((a, ap), (b, bp)) = if f.role == Role::Server {
                ((sip, sport), (cip, cport))
            } else {
                ((cip, cport), (sip, sport))
            };
            FdTarget::Ipv4 {
                sip: v4(a),
                dip: v4(b),
                sport: ap,
                dport: bp,
                l4proto,
            }
        }
        Some(SockAddrs::V4Listen { ip, port }) => FdTarget::Ipv4Server {
            ip: v4(ip),
            port,
            l4proto,
        },
        Some(SockAddrs::V6 {
            cip,
            cport,
            sip,
            sport,
        }) => FdTarget::Ipv6 {
            sip: cip,
            dip: sip,
            sport: cport,
            dport: sport,
            l4proto,
        },
        Some(SockAddrs::V6Listen { ip, port }) => FdTarget::Ipv6Server { ip, port, l4proto },
        Some(SockAddrs::Unix { source, dest }) => FdTarget::Unix {
            source,
            dest,
            path: f.name.to_string(),
        },
    };
    FdRecord {
        fd,
        ino: f.ino,
        kind: f.kind,
        flags: f.open_flags,
        target,
        dev: f.dev,
    }
}
