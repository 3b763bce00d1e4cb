//! The tables a source hands over before (and beside) events: what a scap file
//! carries in its machine-info, process-list, fd-list, user-list and
//! interface-list blocks, and what the live source reads from /proc at startup.
//! Both sources produce these same records, so state cannot tell them apart.
//!
//! Fields mirror libscap's `scap_threadinfo` / `scap_fdinfo` / `scap_userinfo`;
//! anything a given block version lacks stays at its `Default`.

/// One thread, as a process-list block or a /proc scan describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThreadRecord {
    pub tid: i64,
    pub pid: i64,
    pub ptid: i64,
    pub sid: i64,
    pub vpgid: i64,
    pub pgid: i64,
    pub comm: String,
    pub exe: String,
    pub exepath: String,
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    pub fdlimit: i64,
    /// `PPM_CL_*` clone flags.
    pub flags: u32,
    pub uid: u32,
    pub gid: u32,
    pub loginuid: u32,
    pub vmsize_kb: u32,
    pub vmrss_kb: u32,
    pub vmswap_kb: u32,
    pub pfmajor: u64,
    pub pfminor: u64,
    pub vtid: i64,
    pub vpid: i64,
    /// `(subsystem, path)` pairs, e.g. `("cpu", "/docker/<id>")`.
    pub cgroups: Vec<(String, String)>,
    pub root: String,
    pub tty: u32,
    pub clone_ts: u64,
    pub pidns_init_start_ts: u64,
    pub exe_writable: bool,
    pub exe_upper_layer: bool,
    pub exe_lower_layer: bool,
    pub exe_from_memfd: bool,
    pub exe_ino: u64,
    pub exe_ino_ctime: u64,
    pub exe_ino_mtime: u64,
    pub cap_permitted: u64,
    pub cap_effective: u64,
    pub cap_inheritable: u64,
    /// Open file descriptors, from the fd-list block or /proc/PID/fd.
    pub fds: Vec<FdRecord>,
}

/// File-descriptor kinds, numbered like libscap's `scap_fd_type`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum FdKind {
    #[default]
    Unknown = 0,
    File = 1,
    Directory = 2,
    Ipv4Sock = 3,
    Ipv6Sock = 4,
    Ipv4ServSock = 5,
    Ipv6ServSock = 6,
    Fifo = 7,
    UnixSock = 8,
    Event = 9,
    Unsupported = 10,
    SignalFd = 11,
    EventPoll = 12,
    Inotify = 13,
    TimerFd = 14,
    Netlink = 15,
    FileV2 = 16,
    Bpf = 17,
    UserFaultFd = 18,
    IoUring = 19,
    Memfd = 20,
    Pidfd = 21,
}

impl FdKind {
    pub fn from_u8(v: u8) -> FdKind {
        use FdKind::*;
        match v {
            1 => File,
            2 => Directory,
            3 => Ipv4Sock,
            4 => Ipv6Sock,
            5 => Ipv4ServSock,
            6 => Ipv6ServSock,
            7 => Fifo,
            8 => UnixSock,
            9 => Event,
            10 => Unsupported,
            11 => SignalFd,
            12 => EventPoll,
            13 => Inotify,
            14 => TimerFd,
            15 => Netlink,
            16 => FileV2,
            17 => Bpf,
            18 => UserFaultFd,
            19 => IoUring,
            20 => Memfd,
            21 => Pidfd,
            _ => Unknown,
        }
    }
}

/// What an fd points to; the address forms keep network byte order out of the
/// way (addresses as host-order integers / byte arrays, ports as numbers).
/// An IPv4 address `a.b.c.d` is the integer `u32::from_be_bytes([a, b, c, d])`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum FdTarget {
    #[default]
    None,
    /// File, directory, fifo, memfd, …: a path or name.
    Name(String),
    Ipv4 {
        sip: u32,
        dip: u32,
        sport: u16,
        dport: u16,
        l4proto: u8,
    },
    Ipv4Server {
        ip: u32,
        port: u16,
        l4proto: u8,
    },
    Ipv6 {
        sip: [u8; 16],
        dip: [u8; 16],
        sport: u16,
        dport: u16,
        l4proto: u8,
    },
    Ipv6Server {
        ip: [u8; 16],
        port: u16,
        l4proto: u8,
    },
    Unix {
        source: u64,
        dest: u64,
        path: String,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FdRecord {
    pub fd: i64,
    pub ino: u64,
    pub kind: FdKind,
    /// Open flags (`PPM_O_*`) where known.
    pub flags: u32,
    pub target: FdTarget,
    /// Device number of a regular file (scap `FILE_V2` fds), 0 when unknown.
    pub dev: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserRecord {
    pub uid: u32,
    pub gid: u32,
    pub name: String,
    pub homedir: String,
    pub shell: String,
    /// Empty for the host.
    pub container_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupRecord {
    pub gid: u32,
    pub name: String,
    pub container_id: String,
}

/// `/etc/passwd` text (`name:x:uid:gid:gecos:home:shell` lines) as user
/// records of `container_id` (empty: the host); comments and malformed
/// lines are skipped.
pub fn parse_passwd(text: &str, container_id: &str) -> Vec<UserRecord> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 7 {
                return None;
            }
            Some(UserRecord {
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                name: f[0].to_string(),
                homedir: f[5].to_string(),
                shell: f[6].to_string(),
                container_id: container_id.to_string(),
            })
        })
        .collect()
}

/// `/etc/group` text (`name:x:gid:members` lines) as group records.
pub fn parse_group(text: &str, container_id: &str) -> Vec<GroupRecord> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 3 {
                return None;
            }
            Some(GroupRecord {
                gid: f[2].parse().ok()?,
                name: f[0].to_string(),
                container_id: container_id.to_string(),
            })
        })
        .collect()
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MachineInfo {
    pub num_cpus: u32,
    pub memory_size_bytes: u64,
    /// Not carried by scap files (always 0 from them).
    pub max_event_size: u64,
    pub hostname: String,
    pub boot_time_ns: u64,
    pub flags: u64,
    /// Highest pid number on the machine (scap machine-info `max_pid`).
    pub max_pid: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterfaceRecord {
    pub name: String,
    /// IPv4 in host order, or IPv6 bytes.
    pub addr: InterfaceAddr,
    pub netmask: InterfaceAddr,
    pub broadcast: InterfaceAddr,
    pub linkspeed: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum InterfaceAddr {
    #[default]
    None,
    V4(u32),
    V6([u8; 16]),
}
