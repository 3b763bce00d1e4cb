//! Which syscalls the probe handles, with their native (x86_64) numbers, the
//! exit event each emits, and the `PPM_SC_*` codes libscap names them by.

use peregrine_event::table::{self as t, SYSCALL_NAMES};

#[path = "x86_64_syscalls.rs"]
mod x86_64;
pub use x86_64::X86_64_SYSCALLS;

/// Size of the probe's per-syscall tables (native numbers must be below it).
pub const SYSCALL_TABLE: usize = 512;

/// A syscall with a handler of its own in the probe (program `t_<name>` for
/// design A, `x_<name>` for design B).
#[derive(Debug, Clone, Copy)]
pub struct Handled {
    /// Syscall name, as libscap's `PPM_SC_*` and the kernel name it.
    pub name: &'static str,
    /// The exit event it emits.
    pub exit_event: u16,
}

const fn h(name: &'static str, exit_event: u16) -> Handled {
    Handled { name, exit_event }
}

/// Every syscall with its own handler (mirrors `probe/entries.h`).
pub static HANDLED: &[Handled] = &[
    h("open", t::PPME_SYSCALL_OPEN_X),
    h("openat", t::PPME_SYSCALL_OPENAT_2_X),
    h("openat2", t::PPME_SYSCALL_OPENAT2_X),
    h("creat", t::PPME_SYSCALL_CREAT_X),
    h("close", t::PPME_SYSCALL_CLOSE_X),
    h("read", t::PPME_SYSCALL_READ_X),
    h("write", t::PPME_SYSCALL_WRITE_X),
    h("pread64", t::PPME_SYSCALL_PREAD_X),
    h("pwrite64", t::PPME_SYSCALL_PWRITE_X),
    h("readv", t::PPME_SYSCALL_READV_X),
    h("writev", t::PPME_SYSCALL_WRITEV_X),
    h("preadv", t::PPME_SYSCALL_PREADV_X),
    h("pwritev", t::PPME_SYSCALL_PWRITEV_X),
    h("execve", t::PPME_SYSCALL_EXECVE_19_X),
    h("execveat", t::PPME_SYSCALL_EXECVEAT_X),
    h("clone", t::PPME_SYSCALL_CLONE_20_X),
    h("clone3", t::PPME_SYSCALL_CLONE3_X),
    h("fork", t::PPME_SYSCALL_FORK_20_X),
    h("vfork", t::PPME_SYSCALL_VFORK_20_X),
    h("chdir", t::PPME_SYSCALL_CHDIR_X),
    h("fchdir", t::PPME_SYSCALL_FCHDIR_X),
    h("chroot", t::PPME_SYSCALL_CHROOT_X),
    h("mkdir", t::PPME_SYSCALL_MKDIR_2_X),
    h("mkdirat", t::PPME_SYSCALL_MKDIRAT_X),
    h("rmdir", t::PPME_SYSCALL_RMDIR_2_X),
    h("unlink", t::PPME_SYSCALL_UNLINK_2_X),
    h("unlinkat", t::PPME_SYSCALL_UNLINKAT_2_X),
    h("rename", t::PPME_SYSCALL_RENAME_X),
    h("renameat", t::PPME_SYSCALL_RENAMEAT_X),
    h("renameat2", t::PPME_SYSCALL_RENAMEAT2_X),
    h("link", t::PPME_SYSCALL_LINK_2_X),
    h("linkat", t::PPME_SYSCALL_LINKAT_2_X),
    h("symlink", t::PPME_SYSCALL_SYMLINK_X),
    h("symlinkat", t::PPME_SYSCALL_SYMLINKAT_X),
    h("chmod", t::PPME_SYSCALL_CHMOD_X),
    h("fchmod", t::PPME_SYSCALL_FCHMOD_X),
    h("fchmodat", t::PPME_SYSCALL_FCHMODAT_X),
    h("chown", t::PPME_SYSCALL_CHOWN_X),
    h("lchown", t::PPME_SYSCALL_LCHOWN_X),
    h("fchown", t::PPME_SYSCALL_FCHOWN_X),
    h("fchownat", t::PPME_SYSCALL_FCHOWNAT_X),
    h("mount", t::PPME_SYSCALL_MOUNT_X),
    h("umount2", t::PPME_SYSCALL_UMOUNT2_X),
    h("mknod", t::PPME_SYSCALL_MKNOD_X),
    h("mknodat", t::PPME_SYSCALL_MKNODAT_X),
    h("access", t::PPME_SYSCALL_ACCESS_X),
    h("stat", t::PPME_SYSCALL_STAT_X),
    h("lstat", t::PPME_SYSCALL_LSTAT_X),
    h("fstat", t::PPME_SYSCALL_FSTAT_X),
    h("newfstatat", t::PPME_SYSCALL_NEWFSTATAT_X),
    h("getdents", t::PPME_SYSCALL_GETDENTS_X),
    h("getdents64", t::PPME_SYSCALL_GETDENTS64_X),
    h("flock", t::PPME_SYSCALL_FLOCK_X),
    h("lseek", t::PPME_SYSCALL_LSEEK_X),
    h("ioctl", t::PPME_SYSCALL_IOCTL_3_X),
    h("fcntl", t::PPME_SYSCALL_FCNTL_X),
    h("dup", t::PPME_SYSCALL_DUP_1_X),
    h("dup2", t::PPME_SYSCALL_DUP2_X),
    h("dup3", t::PPME_SYSCALL_DUP3_X),
    h("close_range", t::PPME_SYSCALL_CLOSE_RANGE_X),
    h("splice", t::PPME_SYSCALL_SPLICE_X),
    h("sendfile", t::PPME_SYSCALL_SENDFILE_X),
    h("copy_file_range", t::PPME_SYSCALL_COPY_FILE_RANGE_X),
    h("open_by_handle_at", t::PPME_SYSCALL_OPEN_BY_HANDLE_AT_X),
    h("socket", t::PPME_SOCKET_SOCKET_X),
    h("socketpair", t::PPME_SOCKET_SOCKETPAIR_X),
    h("bind", t::PPME_SOCKET_BIND_X),
    h("connect", t::PPME_SOCKET_CONNECT_X),
    h("listen", t::PPME_SOCKET_LISTEN_X),
    h("accept", t::PPME_SOCKET_ACCEPT_5_X),
    h("accept4", t::PPME_SOCKET_ACCEPT4_6_X),
    h("shutdown", t::PPME_SOCKET_SHUTDOWN_X),
    h("sendto", t::PPME_SOCKET_SENDTO_X),
    h("recvfrom", t::PPME_SOCKET_RECVFROM_X),
    h("sendmsg", t::PPME_SOCKET_SENDMSG_X),
    h("recvmsg", t::PPME_SOCKET_RECVMSG_X),
    h("getsockopt", t::PPME_SOCKET_GETSOCKOPT_X),
    h("setsockopt", t::PPME_SOCKET_SETSOCKOPT_X),
    h("sendmmsg", t::PPME_SOCKET_SENDMMSG_X),
    h("recvmmsg", t::PPME_SOCKET_RECVMMSG_X),
    h("pipe", t::PPME_SYSCALL_PIPE_X),
    h("pipe2", t::PPME_SYSCALL_PIPE2_X),
    h("eventfd", t::PPME_SYSCALL_EVENTFD_X),
    h("eventfd2", t::PPME_SYSCALL_EVENTFD2_X),
    h("signalfd", t::PPME_SYSCALL_SIGNALFD_X),
    h("signalfd4", t::PPME_SYSCALL_SIGNALFD4_X),
    h("inotify_init", t::PPME_SYSCALL_INOTIFY_INIT_X),
    h("inotify_init1", t::PPME_SYSCALL_INOTIFY_INIT1_X),
    h("timerfd_create", t::PPME_SYSCALL_TIMERFD_CREATE_X),
    h("memfd_create", t::PPME_SYSCALL_MEMFD_CREATE_X),
    h("epoll_create", t::PPME_SYSCALL_EPOLL_CREATE_X),
    h("epoll_create1", t::PPME_SYSCALL_EPOLL_CREATE1_X),
    h("userfaultfd", t::PPME_SYSCALL_USERFAULTFD_X),
    h("pidfd_open", t::PPME_SYSCALL_PIDFD_OPEN_X),
    h("pidfd_getfd", t::PPME_SYSCALL_PIDFD_GETFD_X),
    h("setuid", t::PPME_SYSCALL_SETUID_X),
    h("setgid", t::PPME_SYSCALL_SETGID_X),
    h("setreuid", t::PPME_SYSCALL_SETREUID_X),
    h("setregid", t::PPME_SYSCALL_SETREGID_X),
    h("setresuid", t::PPME_SYSCALL_SETRESUID_X),
    h("setresgid", t::PPME_SYSCALL_SETRESGID_X),
    h("setsid", t::PPME_SYSCALL_SETSID_X),
    h("setpgid", t::PPME_SYSCALL_SETPGID_X),
    h("capset", t::PPME_SYSCALL_CAPSET_X),
    h("prctl", t::PPME_SYSCALL_PRCTL_X),
    h("ptrace", t::PPME_SYSCALL_PTRACE_X),
    h("kill", t::PPME_SYSCALL_KILL_X),
    h("tkill", t::PPME_SYSCALL_TKILL_X),
    h("tgkill", t::PPME_SYSCALL_TGKILL_X),
    h("bpf", t::PPME_SYSCALL_BPF_2_X),
    h("init_module", t::PPME_SYSCALL_INIT_MODULE_X),
    h("finit_module", t::PPME_SYSCALL_FINIT_MODULE_X),
    h("delete_module", t::PPME_SYSCALL_DELETE_MODULE_X),
    h("mmap", t::PPME_SYSCALL_MMAP_X),
    h("munmap", t::PPME_SYSCALL_MUNMAP_X),
    h("brk", t::PPME_SYSCALL_BRK_4_X),
    h("mprotect", t::PPME_SYSCALL_MPROTECT_X),
    h("io_uring_setup", t::PPME_SYSCALL_IO_URING_SETUP_X),
    h("io_uring_enter", t::PPME_SYSCALL_IO_URING_ENTER_X),
    h("io_uring_register", t::PPME_SYSCALL_IO_URING_REGISTER_X),
    h("unshare", t::PPME_SYSCALL_UNSHARE_X),
    h("setns", t::PPME_SYSCALL_SETNS_X),
    h("seccomp", t::PPME_SYSCALL_SECCOMP_X),
    h("process_vm_readv", t::PPME_SYSCALL_PROCESS_VM_READV_X),
    h("process_vm_writev", t::PPME_SYSCALL_PROCESS_VM_WRITEV_X),
    h("setrlimit", t::PPME_SYSCALL_SETRLIMIT_X),
    h("getrlimit", t::PPME_SYSCALL_GETRLIMIT_X),
    h("prlimit64", t::PPME_SYSCALL_PRLIMIT_X),
];

/// The handler entry for a syscall name.
pub fn handled(name: &str) -> Option<&'static Handled> {
    HANDLED.iter().find(|h| h.name == name)
}

/// Native number of a syscall on x86_64.
pub fn native_nr(name: &str) -> Option<u32> {
    X86_64_SYSCALLS
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(nr, _)| *nr)
}

/// Syscall name of a native x86_64 number.
pub fn native_name(nr: u32) -> Option<&'static str> {
    X86_64_SYSCALLS
        .iter()
        .find(|(n, _)| *n == nr)
        .map(|(_, name)| *name)
}

/// `PPM_SC_*` code of a syscall or tracepoint name.
pub fn ppm_sc_code(name: &str) -> Option<u16> {
    if name.is_empty() {
        return None;
    }
    SYSCALL_NAMES
        .iter()
        .position(|n| *n == name)
        .map(|i| i as u16)
}

/// Name of a `PPM_SC_*` code.
pub fn ppm_sc_name(code: u16) -> Option<&'static str> {
    t::syscall_name(code)
}

/// The kernel's name for a syscall (its `SYSCALL_DEFINE` name, used by the
/// `syscalls/sys_exit_<name>` tracepoints), where it differs from the ABI
/// name.
pub fn kernel_name(name: &str) -> &str {
    match name {
        "umount2" => "umount",
        "stat" => "newstat",
        "lstat" => "newlstat",
        "fstat" => "newfstat",
        "sendfile" => "sendfile64",
        "uname" => "newuname",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_handled_syscall_has_a_number_a_code_and_its_event() {
        for h in HANDLED {
            let nr = native_nr(h.name).unwrap_or_else(|| panic!("{} has no x86_64 number", h.name));
            assert!((nr as usize) < SYSCALL_TABLE, "{}", h.name);
            assert!(
                ppm_sc_code(h.name).is_some(),
                "{} has no PPM_SC code",
                h.name
            );
            let info = t::event_info(h.exit_event).expect("event in table");
            assert!(
                !info.is_old_version(),
                "{} emits an old event layout",
                h.name
            );
            assert_eq!(
                t::direction(h.exit_event),
                t::Direction::Exit,
                "{} emits an enter event",
                h.name
            );
        }
    }

    #[test]
    fn known_numbers() {
        assert_eq!(native_nr("openat"), Some(257));
        assert_eq!(native_nr("execve"), Some(59));
        assert_eq!(native_name(435), Some("clone3"));
        assert_eq!(ppm_sc_code("read"), Some(3));
        assert_eq!(kernel_name("umount2"), "umount");
    }

    #[test]
    fn entries_header_lists_every_handled_syscall() {
        let src = include_str!("../probe/entries.h");
        for h in HANDLED {
            let plain = format!("ENTRY({})", h.name);
            let renamed = format!("ENTRY_AS({},", h.name);
            assert!(
                src.contains(&plain) || src.contains(&renamed),
                "probe/entries.h lacks {}",
                h.name
            );
        }
    }
}
