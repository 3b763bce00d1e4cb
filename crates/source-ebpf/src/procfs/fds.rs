//! A process's open fds from `/proc/<pid>/fd` and `fdinfo`.

use super::sockets::SocketInfo;
use peregrine_event::records::{FdKind, FdRecord, FdTarget};
use peregrine_event::table::flags::FILE_FLAGS;
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

fn ppm(name: &str) -> u32 {
    FILE_FLAGS
        .iter()
        .find(|f| f.name == name)
        .map(|f| f.value)
        .unwrap_or(0)
}

/// Kernel open flags (as fdinfo prints them, octal) to scap's `PPM_O_*`.
pub fn open_flags_to_scap(k: u32) -> u32 {
    let mut r = match k & 0o3 {
        0o1 => ppm("O_WRONLY"),
        0o2 => ppm("O_RDWR"),
        _ => ppm("O_RDONLY"),
    };
    let map = [
        (0o100, "O_CREAT"),
        (0o2000, "O_APPEND"),
        (0o10000, "O_DSYNC"),
        (0o200, "O_EXCL"),
        (0o4000, "O_NONBLOCK"),
        (0o1000, "O_TRUNC"),
        (0o40000, "O_DIRECT"),
        (0o200000, "O_DIRECTORY"),
        (0o100000, "O_LARGEFILE"),
        (0o2000000, "O_CLOEXEC"),
    ];
    for (bit, name) in map {
        if k & bit != 0 {
            r |= ppm(name);
        }
    }
    if k & 0o4010000 == 0o4010000 {
        r |= ppm("O_SYNC");
    }
    r
}

/// The kind of an fd from its `/proc/<pid>/fd/<n>` link target, for targets
/// that are not paths.
pub fn fd_kind_of_link(target: &str) -> Option<FdKind> {
    let anon = target.strip_prefix("anon_inode:")?;
    Some(match anon.trim_start_matches('[').trim_end_matches(']') {
        "eventfd" => FdKind::Event,
        "signalfd" => FdKind::SignalFd,
        "eventpoll" => FdKind::EventPoll,
        "inotify" => FdKind::Inotify,
        "timerfd" => FdKind::TimerFd,
        "io_uring" => FdKind::IoUring,
        "userfaultfd" => FdKind::UserFaultFd,
        "pidfd" => FdKind::Pidfd,
        s if s.starts_with("bpf") => FdKind::Bpf,
        _ => FdKind::Unsupported,
    })
}

/// `socket:[123]` / `pipe:[123]` → 123.
fn bracket_ino(s: &str, prefix: &str) -> Option<u64> {
    s.strip_prefix(prefix)?
        .strip_prefix('[')?
        .strip_suffix(']')?
        .parse()
        .ok()
}

fn fdinfo_flags(pdir: &Path, fd: i64) -> u32 {
    std::fs::read_to_string(pdir.join("fdinfo").join(fd.to_string()))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("flags:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0)
}

/// Every fd of the process at `pdir`; sockets resolved through `sockets`.
pub fn scan_fds(pdir: &Path, sockets: &HashMap<u64, SocketInfo>) -> Vec<FdRecord> {
    let fd_dir = pdir.join("fd");
    let mut fds = super::list_numeric(&fd_dir);
    fds.sort_unstable();
    let mut out = Vec::with_capacity(fds.len());
    for fd in fds {
        let lpath = fd_dir.join(fd.to_string());
        let Ok(target) = std::fs::read_link(&lpath) else {
            continue;
        };
        let target = target.to_string_lossy().into_owned();
        let kflags = fdinfo_flags(pdir, fd);
        let flags = open_flags_to_scap(kflags);
        let rec = if let Some(ino) = bracket_ino(&target, "socket:") {
            match sockets.get(&ino) {
                Some(s) => FdRecord {
                    fd,
                    ino,
                    kind: s.kind,
                    flags,
                    target: s.target.clone(),
                    dev: 0,
                },
                None => FdRecord {
                    fd,
                    ino,
                    kind: FdKind::Unsupported,
                    flags,
                    target: FdTarget::Name(target),
                    dev: 0,
                },
            }
        } else if let Some(ino) = bracket_ino(&target, "pipe:") {
            FdRecord {
                fd,
                ino,
                kind: FdKind::Fifo,
                flags,
                target: FdTarget::Name(target),
                dev: 0,
            }
        } else if let Some(kind) = fd_kind_of_link(&target) {
            let ino = std::fs::metadata(&lpath).map(|m| m.ino()).unwrap_or(0);
            FdRecord {
                fd,
                ino,
                kind,
                flags,
                target: FdTarget::Name(target),
                dev: 0,
            }
        } else if target.starts_with("/memfd:") {
            let ino = std::fs::metadata(&lpath).map(|m| m.ino()).unwrap_or(0);
            let name = target
                .trim_start_matches('/')
                .trim_end_matches(" (deleted)")
                .to_string();
            FdRecord {
                fd,
                ino,
                kind: FdKind::Memfd,
                flags,
                target: FdTarget::Name(name),
                dev: 0,
            }
        } else if target.starts_with('/') {
            let meta = std::fs::metadata(&lpath).ok();
            let is_dir = meta.as_ref().is_some_and(|m| m.is_dir());
            let is_fifo = meta
                .as_ref()
                .is_some_and(|m| m.mode() & libc::S_IFMT == libc::S_IFIFO);
            FdRecord {
                fd,
                ino: meta.as_ref().map(|m| m.ino()).unwrap_or(0),
                kind: if is_dir {
                    FdKind::Directory
                } else if is_fifo {
                    FdKind::Fifo
                } else {
                    FdKind::FileV2
                },
                flags,
                target: FdTarget::Name(target),
                dev: meta.as_ref().map(|m| m.dev() as u32).unwrap_or(0),
            }
        } else {
            FdRecord {
                fd,
                ino: 0,
                kind: FdKind::Unsupported,
                flags,
                target: FdTarget::Name(target),
                dev: 0,
            }
        };
        out.push(rec);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_flags_convert() {
        let f = open_flags_to_scap(0o2000002); // O_RDWR|O_CLOEXEC
        assert_eq!(f, ppm("O_RDWR") | ppm("O_CLOEXEC"));
        assert_eq!(open_flags_to_scap(0), ppm("O_RDONLY"));
        let w = open_flags_to_scap(0o1101); // WRONLY|CREAT|TRUNC
        assert_eq!(w, ppm("O_WRONLY") | ppm("O_CREAT") | ppm("O_TRUNC"));
    }

    #[test]
    fn anon_inode_kinds() {
        assert_eq!(fd_kind_of_link("anon_inode:[eventfd]"), Some(FdKind::Event));
        assert_eq!(fd_kind_of_link("anon_inode:inotify"), Some(FdKind::Inotify));
        assert_eq!(
            fd_kind_of_link("anon_inode:[timerfd]"),
            Some(FdKind::TimerFd)
        );
        assert_eq!(fd_kind_of_link("anon_inode:bpf-map"), Some(FdKind::Bpf));
        assert_eq!(fd_kind_of_link("/etc/passwd"), None);
        assert_eq!(bracket_ino("socket:[42]", "socket:"), Some(42));
    }
}
