//! The event table: every libscap event type (`PPME_*`) with its name,
//! direction, category, flags and per-param name, type and print format, plus
//! the flag/enum name tables and the `PPM_SC_*` syscall names that generic
//! events carry.
//!
//! The facts are transcribed from falcosecurity/libs by `tools/gen_tables.py`
//! into `gen_*.rs`; everything else here is Peregrine's. Lookups are array
//! indexing: [`event_info`] is what the decode path calls per event.

// Generated tables keep one line per entry; rustfmt would quadruple them.
#[rustfmt::skip]
#[path = "gen_events.rs"]
mod events;
#[rustfmt::skip]
#[path = "gen_flags.rs"]
pub mod flags;
#[rustfmt::skip]
#[path = "gen_syscalls.rs"]
mod syscalls;

pub use events::*;
pub use syscalls::{SC_MAX, SYSCALL_NAMES};

/// Param types, numbered like libscap's `ppm_param_type` (`PT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ParamType {
    None = 0,
    Int8 = 1,
    Int16 = 2,
    Int32 = 3,
    Int64 = 4,
    Uint8 = 5,
    Uint16 = 6,
    Uint32 = 7,
    Uint64 = 8,
    /// NUL-terminated printable string.
    Charbuf = 9,
    /// Raw bytes.
    Bytebuf = 10,
    /// i64 interpreted as a negative errno on failure.
    Errno = 11,
    /// Family byte + address.
    Sockaddr = 12,
    /// Family byte + source and destination.
    Socktuple = 13,
    /// i64 file descriptor.
    Fd = 14,
    /// i64 pid/tid.
    Pid = 15,
    /// u16 count + count × (i64 fd, u16 flags).
    Fdlist = 16,
    Fspath = 17,
    /// u16 `PPM_SC_*` code.
    Syscallid = 18,
    Sigtype = 19,
    /// u64 nanoseconds.
    Reltime = 20,
    /// u64 nanoseconds since the epoch.
    Abstime = 21,
    Port = 22,
    L4proto = 23,
    Sockfamily = 24,
    Bool = 25,
    Ipv4addr = 26,
    /// u8 index into the param's dynamic type list, then that type.
    Dyn = 27,
    Flags8 = 28,
    Flags16 = 29,
    Flags32 = 30,
    Uid = 31,
    Gid = 32,
    Double = 33,
    Sigset = 34,
    /// NUL-separated strings.
    Charbufarray = 35,
    CharbufPairArray = 36,
    Ipv4net = 37,
    Ipv6addr = 38,
    Ipv6net = 39,
    Ipaddr = 40,
    Ipnet = 41,
    Mode = 42,
    /// Path relative to the dirfd param named by [`ParamAux::DirFd`].
    Fsrelpath = 43,
    Enumflags8 = 44,
    Enumflags16 = 45,
    Enumflags32 = 46,
    /// i32 file descriptor.
    Fd32 = 47,
    /// i32 pid.
    Pid32 = 48,
}

impl ParamType {
    /// The `PT_*` name, as `--list-events` shows it.
    pub fn name(self) -> &'static str {
        use ParamType::*;
        match self {
            None => "NONE",
            Int8 => "INT8",
            Int16 => "INT16",
            Int32 => "INT32",
            Int64 => "INT64",
            Uint8 => "UINT8",
            Uint16 => "UINT16",
            Uint32 => "UINT32",
            Uint64 => "UINT64",
            Charbuf => "CHARBUF",
            Bytebuf => "BYTEBUF",
            Errno => "ERRNO",
            Sockaddr => "SOCKADDR",
            Socktuple => "SOCKTUPLE",
            Fd => "FD",
            Pid => "PID",
            Fdlist => "FDLIST",
            Fspath => "FSPATH",
            Syscallid => "SYSCALLID",
            Sigtype => "SIGTYPE",
            Reltime => "RELTIME",
            Abstime => "ABSTIME",
            Port => "PORT",
            L4proto => "L4PROTO",
            Sockfamily => "SOCKFAMILY",
            Bool => "BOOL",
            Ipv4addr => "IPV4ADDR",
            Dyn => "DYN",
            Flags8 => "FLAGS8",
            Flags16 => "FLAGS16",
            Flags32 => "FLAGS32",
            Uid => "UID",
            Gid => "GID",
            Double => "DOUBLE",
            Sigset => "SIGSET",
            Charbufarray => "CHARBUFARRAY",
            CharbufPairArray => "CHARBUF_PAIR_ARRAY",
            Ipv4net => "IPV4NET",
            Ipv6addr => "IPV6ADDR",
            Ipv6net => "IPV6NET",
            Ipaddr => "IPADDR",
            Ipnet => "IPNET",
            Mode => "MODE",
            Fsrelpath => "FSRELPATH",
            Enumflags8 => "ENUMFLAGS8",
            Enumflags16 => "ENUMFLAGS16",
            Enumflags32 => "ENUMFLAGS32",
            Fd32 => "FD32",
            Pid32 => "PID32",
        }
    }

    /// Byte width of fixed-size integer-like types, `None` for variable ones.
    pub fn fixed_size(self) -> Option<usize> {
        use ParamType::*;
        Some(match self {
            Int8 | Uint8 | Flags8 | Enumflags8 | Sigtype | L4proto | Sockfamily => 1,
            Int16 | Uint16 | Flags16 | Enumflags16 | Syscallid | Port => 2,
            Int32 | Uint32 | Flags32 | Enumflags32 | Uid | Gid | Mode | Bool | Ipv4addr
            | Sigset | Fd32 | Pid32 => 4,
            Int64 | Uint64 | Errno | Fd | Pid | Reltime | Abstime | Double => 8,
            Ipv6addr => 16,
            _ => return Option::None,
        })
    }
}

/// Print formats, like libscap's `ppm_print_format` (`PF_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PrintFmt {
    Na = 0,
    Dec = 1,
    Hex = 2,
    /// Decimal padded to 10 digits.
    _10PaddedDec = 3,
    Id = 4,
    Dir = 5,
    Oct = 6,
}

/// Extra per-param information.
#[derive(Debug, Clone, Copy)]
pub enum ParamAux {
    None,
    /// Flag or enum names for `Flags*`, `Enumflags*` and `Mode` params.
    Flags(&'static [NameValue]),
    /// For `Fsrelpath`: the index of the dirfd param the path is relative to.
    DirFd(u8),
    /// For `Dyn`: the types selected by the param's leading index byte.
    Dyn(&'static [ParamInfo]),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameValue {
    pub name: &'static str,
    pub value: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct ParamInfo {
    pub name: &'static str,
    pub ty: ParamType,
    pub fmt: PrintFmt,
    pub aux: ParamAux,
}

impl ParamInfo {
    /// Flag names of a flags/enum/mode param (empty for others).
    pub fn flag_names(&self) -> &'static [NameValue] {
        match self.aux {
            ParamAux::Flags(f) => f,
            _ => &[],
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct EventInfo {
    /// Syscall or event name (`open`, `execve`, `procinfo`, …); `NA` for unused slots.
    pub name: &'static str,
    /// `EC_*` bits: one syscall category in the low bits plus a source kind.
    pub category: u32,
    /// `EF_*` bits.
    pub flags: u32,
    pub params: &'static [ParamInfo],
}

impl EventInfo {
    #[inline]
    pub fn is_large_payload(&self) -> bool {
        self.flags & eflags::EF_LARGE_PAYLOAD != 0
    }
    #[inline]
    pub fn is_old_version(&self) -> bool {
        self.flags & eflags::EF_OLD_VERSION != 0
    }
    #[inline]
    pub fn is_unused(&self) -> bool {
        self.flags & eflags::EF_UNUSED != 0
    }
    /// The syscall category (`EC_FILE`, `EC_NET`, …, `EC_IO_READ`, …).
    #[inline]
    pub fn syscall_category(&self) -> u32 {
        self.category & category::EC_SYSCALL_CATEGORY_MASK
    }
    #[inline]
    pub fn is_internal(&self) -> bool {
        self.category & category::EC_INTERNAL != 0
    }
    /// Index of the param with this name.
    pub fn param_index(&self, name: &str) -> Option<usize> {
        self.params.iter().position(|p| p.name == name)
    }
}

/// Event categories (`EC_*`).
pub mod category {
    pub const EC_UNKNOWN: u32 = 0;
    pub const EC_OTHER: u32 = 1;
    pub const EC_FILE: u32 = 2;
    pub const EC_NET: u32 = 3;
    pub const EC_IPC: u32 = 4;
    pub const EC_MEMORY: u32 = 5;
    pub const EC_PROCESS: u32 = 6;
    pub const EC_SLEEP: u32 = 7;
    pub const EC_SYSTEM: u32 = 8;
    pub const EC_SIGNAL: u32 = 9;
    pub const EC_USER: u32 = 10;
    pub const EC_TIME: u32 = 11;
    pub const EC_PROCESSING: u32 = 12;
    pub const EC_IO_BASE: u32 = 32;
    pub const EC_IO_READ: u32 = 32;
    pub const EC_IO_WRITE: u32 = 33;
    pub const EC_IO_OTHER: u32 = 34;
    pub const EC_WAIT: u32 = 1 << 6;
    pub const EC_SCHEDULER: u32 = 1 << 7;
    pub const EC_INTERNAL: u32 = 1 << 8;
    pub const EC_SYSCALL: u32 = 1 << 9;
    pub const EC_TRACEPOINT: u32 = 1 << 10;
    pub const EC_PLUGIN: u32 = 1 << 11;
    pub const EC_METAEVENT: u32 = 1 << 12;
    pub const EC_ITER: u32 = 1 << 13;
    /// The bits that hold the syscall category.
    pub const EC_SYSCALL_CATEGORY_MASK: u32 = (1 << 8) - 1;
}

/// Event flags (`EF_*`).
pub mod eflags {
    pub const EF_NONE: u32 = 0;
    pub const EF_CREATES_FD: u32 = 1 << 0;
    pub const EF_DESTROYS_FD: u32 = 1 << 1;
    pub const EF_USES_FD: u32 = 1 << 2;
    pub const EF_READS_FROM_FD: u32 = 1 << 3;
    pub const EF_WRITES_TO_FD: u32 = 1 << 4;
    pub const EF_MODIFIES_STATE: u32 = 1 << 5;
    pub const EF_UNUSED: u32 = 1 << 6;
    pub const EF_WAITS: u32 = 1 << 7;
    pub const EF_SKIPPARSERESET: u32 = 1 << 8;
    pub const EF_OLD_VERSION: u32 = 1 << 9;
    pub const EF_LARGE_PAYLOAD: u32 = 1 << 11;
    pub const EF_CONVERTER_MANAGED: u32 = 1 << 12;
}

/// Enter or exit half of a syscall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Enter,
    Exit,
}

impl Direction {
    /// `>` for enter, `<` for exit, as `evt.dir` shows them.
    pub fn symbol(self) -> &'static str {
        match self {
            Direction::Enter => ">",
            Direction::Exit => "<",
        }
    }
}

/// Even event numbers are enter events, odd ones exit events.
#[inline]
pub fn direction(event_type: u16) -> Direction {
    if event_type & 1 == 0 {
        Direction::Enter
    } else {
        Direction::Exit
    }
}

/// The table entry of an event type, or `None` past the table (a capture
/// from a newer producer).
#[inline]
pub fn event_info(event_type: u16) -> Option<&'static EventInfo> {
    EVENTS.get(event_type as usize)
}

/// Whether the event type uses 32-bit param lengths.
#[inline]
pub fn is_large_payload(event_type: u16) -> bool {
    match EVENTS.get(event_type as usize) {
        Some(e) => e.is_large_payload(),
        None => false,
    }
}

/// Syscall name for a `PPM_SC_*` code (generic events carry one).
#[inline]
pub fn syscall_name(code: u16) -> Option<&'static str> {
    match SYSCALL_NAMES.get(code as usize) {
        Some(n) if !n.is_empty() => Some(n),
        _ => None,
    }
}

/// The `PPME_*` constant name of an event type (for `--list-events` and errors).
pub fn event_const_name(event_type: u16) -> Option<&'static str> {
    EVENT_CONST_NAMES.get(event_type as usize).copied()
}

/// One row of [`list_events`].
#[derive(Debug, Clone, Copy)]
pub struct EventEntry {
    pub event_type: u16,
    pub const_name: &'static str,
    pub direction: Direction,
    pub info: &'static EventInfo,
}

/// Every event type in the table, in number order (unused slots included;
/// check [`EventInfo::is_unused`]).
pub fn list_events() -> impl Iterator<Item = EventEntry> {
    EVENTS.iter().enumerate().map(|(i, info)| EventEntry {
        event_type: i as u16,
        const_name: EVENT_CONST_NAMES[i],
        direction: direction(i as u16),
        info,
    })
}

/// Event types whose name is `name` (all versions, both directions).
pub fn event_types_named(name: &str) -> impl Iterator<Item = u16> + '_ {
    EVENTS
        .iter()
        .enumerate()
        .filter(move |(_, e)| e.name == name && !e.is_unused())
        .map(|(i, _)| i as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_entries() {
        let open_x = event_info(PPME_SYSCALL_OPEN_X).unwrap();
        assert_eq!(open_x.name, "open");
        assert_eq!(direction(PPME_SYSCALL_OPEN_X), Direction::Exit);
        assert_eq!(open_x.params[0].name, "fd");
        assert_eq!(open_x.params[0].ty, ParamType::Fd);
        assert_eq!(open_x.params[2].name, "flags");
        assert!(open_x.params[2]
            .flag_names()
            .iter()
            .any(|f| f.name == "O_CLOEXEC"));
        assert_eq!(event_info(PPME_PROCINFO_E).unwrap().name, "procinfo");
        assert!(event_info(PPME_PROCINFO_E).unwrap().is_internal());
        assert!(is_large_payload(PPME_CONTAINER_JSON_2_E));
        assert!(!is_large_payload(PPME_CONTAINER_JSON_E));
        assert!(event_info(EVENT_MAX as u16).is_none());
        assert_eq!(syscall_name(3), Some("read"));
    }

    #[test]
    fn every_entry_is_consistent() {
        assert_eq!(EVENTS.len(), EVENT_MAX);
        assert_eq!(EVENT_CONST_NAMES.len(), EVENT_MAX);
        for e in list_events() {
            assert!(!e.info.name.is_empty(), "{}", e.const_name);
            assert!(e.info.params.len() <= 32, "{}", e.const_name);
            let dir_ok = match e.direction {
                Direction::Enter => e.const_name.ends_with("_E"),
                Direction::Exit => e.const_name.ends_with("_X"),
            };
            assert!(dir_ok, "{} at {}", e.const_name, e.event_type);
            for p in e.info.params {
                if let ParamAux::DirFd(i) = p.aux {
                    let d = e.info.params[i as usize].ty;
                    assert!(
                        matches!(d, ParamType::Fd | ParamType::Fd32),
                        "{}",
                        e.const_name
                    );
                }
                if matches!(
                    p.ty,
                    ParamType::Flags8
                        | ParamType::Flags16
                        | ParamType::Flags32
                        | ParamType::Enumflags8
                        | ParamType::Enumflags16
                        | ParamType::Enumflags32
                ) {
                    assert!(!p.flag_names().is_empty(), "{} {}", e.const_name, p.name);
                }
            }
        }
    }

    #[test]
    fn versions_share_names() {
        let execves: Vec<u16> = event_types_named("execve").collect();
        assert!(execves.contains(&PPME_SYSCALL_EXECVE_19_X));
        assert!(execves.contains(&PPME_SYSCALL_EXECVE_8_X));
    }
}
