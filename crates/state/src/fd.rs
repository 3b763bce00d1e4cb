//! File descriptors as libsinsp models them: a kind, a name as Falco shows
//! it (`/etc/passwd`, `127.0.0.1:47192->127.0.0.1:80`, …), and for sockets
//! the addresses and the role (client or server) that `fd.cip`/`fd.sip`
//! and friends read.

use std::fmt::Write as _;
use std::sync::Arc;

use peregrine_event::net::{write_ipv4, write_ipv6};
use peregrine_event::records::FdKind;
use rustc_hash::FxHashMap;

/// Layer-4 protocol, numbered like libscap's `SCAP_L4_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum L4 {
    #[default]
    Unknown = 0,
    Na = 1,
    Tcp = 2,
    Udp = 3,
    Icmp = 4,
    Raw = 5,
}

impl L4 {
    pub fn from_u8(v: u8) -> L4 {
        match v {
            1 => L4::Na,
            2 => L4::Tcp,
            3 => L4::Udp,
            4 => L4::Icmp,
            5 => L4::Raw,
            _ => L4::Unknown,
        }
    }
    /// `fd.l4proto` spelling.
    pub fn name(self) -> Option<&'static str> {
        match self {
            L4::Tcp => Some("tcp"),
            L4::Udp => Some("udp"),
            L4::Icmp => Some("icmp"),
            L4::Raw => Some("raw"),
            _ => None,
        }
    }
    pub fn letter(self) -> Option<char> {
        match self {
            L4::Tcp => Some('t'),
            L4::Udp => Some('u'),
            L4::Icmp => Some('i'),
            L4::Raw => Some('r'),
            _ => None,
        }
    }
}

/// Who initiated a connection, from this fd's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    #[default]
    None,
    Client,
    Server,
}

/// Network endpoints of a socket. For connected sockets `c*` is the client
/// and `s*` the server, whichever side this fd is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SockAddrs {
    V4 {
        cip: [u8; 4],
        cport: u16,
        sip: [u8; 4],
        sport: u16,
    },
    V4Listen {
        ip: [u8; 4],
        port: u16,
    },
    V6 {
        cip: [u8; 16],
        cport: u16,
        sip: [u8; 16],
        sport: u16,
    },
    V6Listen {
        ip: [u8; 16],
        port: u16,
    },
    Unix {
        source: u64,
        dest: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fd {
    pub kind: FdKind,
    /// `PPM_O_*` open flags (files) or 0.
    pub open_flags: u32,
    pub l4: L4,
    pub role: Role,
    /// `fd.name` as Falco prints it. Shared so that dup and fork copy cheaply.
    pub name: Arc<str>,
    pub addrs: Option<SockAddrs>,
    pub dev: u32,
    pub ino: u64,
    /// Path of a unix socket or the raw name the syscall gave (for fd.name
    /// of unix sockets and `fs.path.*`).
    pub mount_id: u64,
}

impl Fd {
    pub fn new(kind: FdKind, name: impl Into<Arc<str>>) -> Fd {
        Fd {
            kind,
            open_flags: 0,
            l4: L4::Unknown,
            role: Role::None,
            name: name.into(),
            addrs: None,
            dev: 0,
            ino: 0,
            mount_id: 0,
        }
    }

    /// `fd.typechar`.
    pub fn type_char(&self) -> char {
        type_char(self.kind)
    }

    /// `fd.type`.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            FdKind::File | FdKind::FileV2 => "file",
            FdKind::Directory => "directory",
            FdKind::Ipv4Sock | FdKind::Ipv4ServSock => "ipv4",
            FdKind::Ipv6Sock | FdKind::Ipv6ServSock => "ipv6",
            FdKind::UnixSock => "unix",
            FdKind::Fifo => "pipe",
            FdKind::Event => "event",
            FdKind::SignalFd => "signalfd",
            FdKind::EventPoll => "eventpoll",
            FdKind::Inotify => "inotify",
            FdKind::TimerFd => "timerfd",
            FdKind::Netlink => "netlink",
            FdKind::Bpf => "bpf",
            FdKind::UserFaultFd => "userfaultfd",
            FdKind::IoUring => "io_uring",
            FdKind::Memfd => "memfd",
            FdKind::Pidfd => "pidfd",
            FdKind::Unsupported => "unsupported",
            FdKind::Unknown => "<NA>",
        }
    }

    pub fn is_socket(&self) -> bool {
        matches!(
            self.kind,
            FdKind::Ipv4Sock
                | FdKind::Ipv6Sock
                | FdKind::Ipv4ServSock
                | FdKind::Ipv6ServSock
                | FdKind::UnixSock
                | FdKind::Netlink
        )
    }

    pub fn is_file_like(&self) -> bool {
        matches!(
            self.kind,
            FdKind::File | FdKind::FileV2 | FdKind::Directory | FdKind::Memfd
        )
    }
}

pub fn type_char(kind: FdKind) -> char {
    match kind {
        FdKind::File | FdKind::FileV2 => 'f',
        FdKind::Directory => 'd',
        FdKind::Ipv4Sock | FdKind::Ipv4ServSock => '4',
        FdKind::Ipv6Sock | FdKind::Ipv6ServSock => '6',
        FdKind::Fifo => 'p',
        FdKind::UnixSock => 'u',
        FdKind::Event => 'e',
        FdKind::Unsupported => 'o',
        FdKind::SignalFd => 's',
        FdKind::EventPoll => 'l',
        FdKind::Inotify => 'i',
        FdKind::TimerFd => 't',
        FdKind::Netlink => 'n',
        FdKind::Bpf => 'b',
        FdKind::UserFaultFd => 'u',
        FdKind::IoUring => 'r',
        FdKind::Memfd => 'm',
        FdKind::Pidfd => 'P',
        FdKind::Unknown => '?',
    }
}

/// Renders `ip:port->ip:port` (client first) or `ip:port` for listeners.
pub fn render_addrs(out: &mut String, a: &SockAddrs) {
    match a {
        SockAddrs::V4 {
            cip,
            cport,
            sip,
            sport,
        } => {
            let _ = write_ipv4(out, *cip);
            let _ = write!(out, ":{cport}->");
            let _ = write_ipv4(out, *sip);
            let _ = write!(out, ":{sport}");
        }
        SockAddrs::V4Listen { ip, port } => {
            let _ = write_ipv4(out, *ip);
            let _ = write!(out, ":{port}");
        }
        SockAddrs::V6 {
            cip,
            cport,
            sip,
            sport,
        } => {
            let _ = write_ipv6(out, cip);
            let _ = write!(out, ":{cport}->");
            let _ = write_ipv6(out, sip);
            let _ = write!(out, ":{sport}");
        }
        SockAddrs::V6Listen { ip, port } => {
            let _ = write_ipv6(out, ip);
            let _ = write!(out, ":{port}");
        }
        SockAddrs::Unix { .. } => {}
    }
}

/// One process's fds. Small fds (the common case) live in a vector indexed
/// by number; the rest in a map.
#[derive(Debug, Clone, Default)]
pub struct FdTable {
    low: Vec<Option<Fd>>,
    high: FxHashMap<i64, Fd>,
    len: usize,
}

const LOW_FDS: i64 = 64;

impl FdTable {
    pub fn get(&self, fd: i64) -> Option<&Fd> {
        if (0..LOW_FDS).contains(&fd) {
            self.low.get(fd as usize)?.as_ref()
        } else {
            self.high.get(&fd)
        }
    }

    pub fn get_mut(&mut self, fd: i64) -> Option<&mut Fd> {
        if (0..LOW_FDS).contains(&fd) {
            self.low.get_mut(fd as usize)?.as_mut()
        } else {
            self.high.get_mut(&fd)
        }
    }

    /// Inserts or replaces; returns whether a new slot was used.
    pub fn insert(&mut self, fd: i64, f: Fd) -> bool {
        if fd < 0 {
            return false;
        }
        let added = if fd < LOW_FDS {
            let i = fd as usize;
            if self.low.len() <= i {
                self.low.resize(i + 1, None);
            }
            self.low[i].replace(f).is_none()
        } else {
            self.high.insert(fd, f).is_none()
        };
        if added {
            self.len += 1;
        }
        added
    }

    pub fn remove(&mut self, fd: i64) -> Option<Fd> {
        let old = if (0..LOW_FDS).contains(&fd) {
            self.low.get_mut(fd as usize).and_then(Option::take)
        } else {
            self.high.remove(&fd)
        };
        if old.is_some() {
            self.len -= 1;
        }
        old
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = (i64, &Fd)> {
        self.low
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.as_ref().map(|f| (i as i64, f)))
            .chain(self.high.iter().map(|(k, v)| (*k, v)))
    }

    /// Drops fds opened with close-on-exec (`execve` does that).
    pub fn close_on_exec(&mut self) -> usize {
        let doomed: Vec<i64> = self
            .iter()
            .filter(|(_, f)| f.open_flags & crate::consts::PPM_O_CLOEXEC != 0)
            .map(|(n, _)| n)
            .collect();
        for n in &doomed {
            self.remove(*n);
        }
        doomed.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_low_and_high_fds() {
        let mut t = FdTable::default();
        assert!(t.insert(3, Fd::new(FdKind::File, "/a")));
        assert!(t.insert(5000, Fd::new(FdKind::File, "/b")));
        assert!(!t.insert(3, Fd::new(FdKind::File, "/c")));
        assert!(!t.insert(-1, Fd::new(FdKind::File, "/d")));
        assert_eq!(t.len(), 2);
        assert_eq!(&*t.get(3).unwrap().name, "/c");
        assert_eq!(t.iter().count(), 2);
        assert!(t.remove(5000).is_some());
        assert!(t.remove(5000).is_none());
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn renders_tuples_client_first() {
        let mut s = String::new();
        render_addrs(
            &mut s,
            &SockAddrs::V4 {
                cip: [127, 0, 0, 1],
                cport: 47192,
                sip: [127, 0, 0, 1],
                sport: 80,
            },
        );
        assert_eq!(s, "127.0.0.1:47192->127.0.0.1:80");
    }
}
