//! Param positions by name, resolved once per event type.
//!
//! State handlers read a handful of params (`res`, `fd`, `name`, `flags`, …)
//! from many event types and layouts. Looking names up per event would cost
//! string compares on every open; this table answers with one index load.

use std::sync::OnceLock;

use peregrine_event::param::Param;
use peregrine_event::table::{self, EVENT_MAX};
use peregrine_event::RawEvent;

macro_rules! param_names {
    ($($id:ident = $name:literal),* $(,)?) => {
        /// The param names state handlers use.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u8)]
        #[allow(non_camel_case_types)]
        pub enum P { $($id),* }
        const NAMES: &[&str] = &[$($name),*];
    };
}

param_names! {
    RES = "res", FD = "fd", NAME = "name", FLAGS = "flags", DIRFD = "dirfd", MODE = "mode",
    DEV = "dev", INO = "ino", PATH = "path", PATHNAME = "pathname", TUPLE = "tuple", ADDR = "addr",
    FD1 = "fd1", FD2 = "fd2", OLDFD = "oldfd", NEWFD = "newfd", DOMAIN = "domain", TYPE = "type",
    PROTO = "proto", CMD = "cmd", EXE = "exe", ARGS = "args", TID = "tid", PID = "pid", PTID = "ptid",
    CWD = "cwd", FDLIMIT = "fdlimit", PGFT_MAJ = "pgft_maj", PGFT_MIN = "pgft_min", VM_SIZE = "vm_size",
    VM_RSS = "vm_rss", VM_SWAP = "vm_swap", COMM = "comm", CGROUPS = "cgroups", ENV = "env",
    TTY = "tty", PGID = "pgid", LOGINUID = "loginuid", UID = "uid", GID = "gid", VTID = "vtid",
    VPID = "vpid", PIDNS_INIT_START_TS = "pidns_init_start_ts", CAP_INHERITABLE = "cap_inheritable",
    CAP_PERMITTED = "cap_permitted", CAP_EFFECTIVE = "cap_effective", EXE_INO = "exe_ino",
    EXE_INO_CTIME = "exe_ino_ctime", EXE_INO_MTIME = "exe_ino_mtime", TRUSTED_EXEPATH = "trusted_exepath",
    RUID = "ruid", EUID = "euid", SUID = "suid", RGID = "rgid", EGID = "egid", SGID = "sgid",
    NEWDIRFD = "newdirfd", OLDPATH = "oldpath", NEWPATH = "newpath", TARGET = "target",
    LINKPATH = "linkpath", SOURCE = "source", STATUS = "status", INITVAL = "initval",
    MASK = "mask", FILENAME = "filename", DATA = "data", SIZE = "size", QUEUEPEPOCH = "queuepepoch",
    SID = "sid", VPGID = "vpgid", NEWUID = "newuid", NEWGID = "newgid",
}

pub const COUNT: usize = NAMES.len();
const NONE: u8 = u8::MAX;

fn index_table() -> &'static [[u8; COUNT]] {
    static TABLE: OnceLock<Vec<[u8; COUNT]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        (0..EVENT_MAX as u16)
            .map(|t| {
                let mut row = [NONE; COUNT];
                if let Some(info) = table::event_info(t) {
                    for (slot, name) in row.iter_mut().zip(NAMES) {
                        if let Some(i) = info.param_index(name) {
                            *slot = i as u8;
                        }
                    }
                }
                row
            })
            .collect()
    })
}

/// Index of `p` in events of type `event_type`.
#[inline]
pub fn index(event_type: u16, p: P) -> Option<usize> {
    let i = *index_table().get(event_type as usize)?.get(p as usize)?;
    (i != NONE).then_some(i as usize)
}

/// Index of the param an fd-using event names its fd by: `fd`, else its
/// first fd-typed param. Precomputed per event type.
pub fn fd_param_index(event_type: u16) -> Option<usize> {
    static TABLE: OnceLock<Vec<u8>> = OnceLock::new();
    let t = TABLE.get_or_init(|| {
        (0..EVENT_MAX as u16)
            .map(|t| {
                let Some(info) = table::event_info(t) else {
                    return NONE;
                };
                info.param_index("fd")
                    .or_else(|| {
                        info.params.iter().position(|p| {
                            matches!(p.ty, table::ParamType::Fd | table::ParamType::Fd32)
                        })
                    })
                    .map_or(NONE, |i| i as u8)
            })
            .collect()
    });
    let i = *t.get(event_type as usize)?;
    (i != NONE).then_some(i as usize)
}

/// Typed-access helpers over a [`RawEvent`] by [`P`] name.
pub trait ParamsExt<'a> {
    fn p(&self, p: P) -> Option<Param<'a>>;
    /// A non-empty param's raw bytes.
    fn bytes(&self, p: P) -> Option<&'a [u8]> {
        self.p(p).map(|x| x.bytes).filter(|b| !b.is_empty())
    }
    fn int(&self, p: P) -> Option<i64> {
        self.p(p)
            .filter(|x| !x.bytes.is_empty())
            .and_then(|x| x.as_i64())
    }
    fn uint(&self, p: P) -> Option<u64> {
        self.p(p)
            .filter(|x| !x.bytes.is_empty())
            .and_then(|x| x.as_u64())
    }
    /// A string param without its NUL, lossily as UTF-8.
    fn text(&self, p: P) -> Option<&'a [u8]> {
        self.p(p)
            .filter(|x| !x.bytes.is_empty())
            .map(|x| x.as_bytes_str())
    }
}

impl<'a> ParamsExt<'a> for RawEvent<'a> {
    #[inline]
    fn p(&self, p: P) -> Option<Param<'a>> {
        let i = index(self.event_type(), p)?;
        self.typed_param(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_names_per_type() {
        assert_eq!(index(table::PPME_SYSCALL_OPEN_X, P::FD), Some(0));
        assert_eq!(index(table::PPME_SYSCALL_OPEN_X, P::RES), None);
        assert!(index(table::PPME_SYSCALL_OPEN_X, P::NAME).is_some());
        assert_eq!(index(table::PPME_SYSCALL_OPEN_X, P::TUPLE), None);
        assert_eq!(NAMES.len(), COUNT);
    }
}
