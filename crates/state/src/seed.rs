//! Seeding state from the tables a source hands over (a capture's
//! process/fd/user lists, or the live /proc scan).

use std::collections::HashSet;
use std::sync::Arc;

use peregrine_event::records::{FdKind, FdRecord, FdTarget, ThreadRecord};
use peregrine_event::Tables;

use crate::fd::{render_addrs, Fd, Role, SockAddrs, L4};
use crate::thread::Thread;
use crate::State;

/// One copy of each distinct argv, environment and cgroup list while
/// seeding: the threads of a process (and often many processes) carry
/// the same ones, which would otherwise be held once per thread.
#[derive(Default)]
struct Shared {
    strs: HashSet<Arc<[Box<str>]>>,
    cgroups: HashSet<CgroupList>,
}

impl Shared {
    fn strs(&mut self, v: Vec<String>) -> Arc<[Box<str>]> {
        let v: Vec<Box<str>> = v.into_iter().map(String::into_boxed_str).collect();
        if let Some(held) = self.strs.get(&v[..]) {
            return held.clone();
        }
        let a: Arc<[Box<str>]> = v.into();
        self.strs.insert(a.clone());
        a
    }

    fn cgroups(&mut self, v: Vec<(String, String)>) -> CgroupList {
        let v: Vec<(Box<str>, Box<str>)> = v
            .into_iter()
            .map(|(k, p)| (k.into_boxed_str(), p.into_boxed_str()))
            .collect();
        if let Some(held) = self.cgroups.get(&v[..]) {
            return held.clone();
        }
        let a: CgroupList = v.into();
        self.cgroups.insert(a.clone());
        a
    }
}

type CgroupList = Arc<[(Box<str>, Box<str>)]>;

fn with_slash(s: &str) -> String {
    if s.ends_with('/') || s.is_empty() {
        s.to_string()
    } else {
        format!("{s}/")
    }
}

impl State {
    /// Seeds from borrowed tables (each record is copied in turn).
    pub(crate) fn seed(&mut self, tables: &Tables) {
        let ports = self.seed_users(tables);
        let mut shared = Shared::default();
        for r in &tables.threads {
            self.add_record_with(r.clone(), &ports, &mut shared);
        }
    }

    /// Seeds from tables given away: each record's strings move into state
    /// (or are dropped when an equal one is held), so the process table is
    /// never held twice.
    pub(crate) fn seed_owned(&mut self, mut tables: Tables) {
        let ports = self.seed_users(&tables);
        let mut shared = Shared::default();
        for r in std::mem::take(&mut tables.threads) {
            self.add_record_with(r, &ports, &mut shared);
        }
    }

    /// Users and groups; returns the ports this machine listens on.
    fn seed_users(&mut self, tables: &Tables) -> HashSet<u16> {
        for u in &tables.users {
            self.users.add_user(u);
        }
        for g in &tables.groups {
            self.users.add_group(g);
        }
        // libsinsp turns IPv4 connections around when their source port is
        // one this machine listens on, so the client comes first.
        tables
            .threads
            .iter()
            .flat_map(|t| t.fds.iter())
            .filter_map(|f| match f.target {
                FdTarget::Ipv4Server { port, .. } => Some(port),
                _ => None,
            })
            .collect()
    }

    /// Adds one thread (and its fds) from a record.
    pub fn add_record(&mut self, r: &ThreadRecord) {
        self.add_record_with(r.clone(), &HashSet::new(), &mut Shared::default());
    }

    fn add_record_with(
        &mut self,
        r: ThreadRecord,
        server_ports: &HashSet<u16>,
        shared: &mut Shared,
    ) {
        let mut t = Thread::unknown(r.tid);
        t.pid = r.pid;
        t.ptid = r.ptid;
        t.sid = r.sid;
        t.vpgid = r.vpgid;
        t.pgid = r.pgid;
        t.vtid = r.vtid;
        t.vpid = r.vpid;
        t.comm = Some(r.comm.as_str().into());
        t.exe = r.exe.as_str().into();
        t.exepath = r.exepath.as_str().into();
        t.args = shared.strs(r.args);
        t.env = shared.strs(r.env);
        t.cgroups = shared.cgroups(r.cgroups);
        t.root = r.root.as_str().into();
        t.uid = r.uid;
        t.gid = r.gid;
        t.euid = r.uid;
        t.egid = r.gid;
        t.loginuid = r.loginuid;
        t.tty = r.tty;
        t.flags = r.flags;
        t.exe_flags = (r.exe_writable as u32)
            | ((r.exe_upper_layer as u32) << 1)
            | ((r.exe_from_memfd as u32) << 2)
            | ((r.exe_lower_layer as u32) << 3);
        t.fdlimit = r.fdlimit;
        t.pfmajor = r.pfmajor;
        t.pfminor = r.pfminor;
        t.vmsize_kb = r.vmsize_kb;
        t.vmrss_kb = r.vmrss_kb;
        t.vmswap_kb = r.vmswap_kb;
        t.cap_permitted = r.cap_permitted;
        t.cap_effective = r.cap_effective;
        t.cap_inheritable = r.cap_inheritable;
        t.exe_ino = r.exe_ino;
        t.exe_ino_ctime = r.exe_ino_ctime;
        t.exe_ino_mtime = r.exe_ino_mtime;
        t.clone_ts = r.clone_ts;
        t.pidns_init_start_ts = r.pidns_init_start_ts;
        let key = t.process_key();
        let is_main = r.tid == r.pid;
        if !self.insert_thread(t) {
            return;
        }
        let p = self.threads.process_mut(key);
        if is_main || p.cwd.is_empty() {
            p.cwd = with_slash(&r.cwd).into();
        }
        for rec in &r.fds {
            let f = fd_from_record(rec, server_ports);
            if p.fds.len() < self.config.max_fds_per_process || p.fds.get(rec.fd).is_some() {
                p.fds.insert(rec.fd, f);
            }
        }
    }
}

fn fd_from_record(r: &FdRecord, server_ports: &HashSet<u16>) -> Fd {
    let mut f = Fd::new(r.kind, "");
    f.open_flags = r.flags;
    f.ino = r.ino;
    let addrs = match &r.target {
        FdTarget::None => None,
        FdTarget::Name(n) => {
            f.name = n.as_str().into();
            None
        }
        FdTarget::Ipv4 {
            sip,
            dip,
            sport,
            dport,
            l4proto,
        } => {
            f.l4 = L4::from_u8(*l4proto);
            f.role = Role::Client;
            let (s, d) = (sip.to_be_bytes(), dip.to_be_bytes());
            Some(if server_ports.contains(sport) {
                f.role = Role::Server;
                SockAddrs::V4 {
                    cip: d,
                    cport: *dport,
                    sip: s,
                    sport: *sport,
                }
            } else {
                SockAddrs::V4 {
                    cip: s,
                    cport: *sport,
                    sip: d,
                    sport: *dport,
                }
            })
        }
        FdTarget::Ipv4Server { ip, port, l4proto } => {
            f.l4 = L4::from_u8(*l4proto);
            f.role = Role::Server;
            Some(SockAddrs::V4Listen {
                ip: ip.to_be_bytes(),
                port: *port,
            })
        }
        FdTarget::Ipv6 {
            sip,
            dip,
            sport,
            dport,
            l4proto,
        } => {
            f.l4 = L4::from_u8(*l4proto);
            f.role = Role::Client;
            Some(SockAddrs::V6 {
                cip: *sip,
                cport: *sport,
                sip: *dip,
                sport: *dport,
            })
        }
        FdTarget::Ipv6Server { ip, port, l4proto } => {
            f.l4 = L4::from_u8(*l4proto);
            f.role = Role::Server;
            Some(SockAddrs::V6Listen {
                ip: *ip,
                port: *port,
            })
        }
        FdTarget::Unix { source, dest, path } => {
            f.name = path.as_str().into();
            Some(SockAddrs::Unix {
                source: *source,
                dest: *dest,
            })
        }
    };
    if !f.name.bytes().all(|c| (b' '..=b'~').contains(&c)) {
        // libsinsp keeps only printable ASCII in fd names.
        f.name = f
            .name
            .chars()
            .filter(|c| (' '..='~').contains(c))
            .collect::<String>()
            .into();
    }
    if let Some(a) = &addrs {
        if !matches!(a, SockAddrs::Unix { .. }) {
            let mut n = String::new();
            render_addrs(&mut n, a);
            f.name = n.into();
        }
    }
    f.addrs = addrs;
    if f.kind == FdKind::Unknown && f.addrs.is_none() && !f.name.is_empty() {
        f.kind = FdKind::File;
    }
    f
}
