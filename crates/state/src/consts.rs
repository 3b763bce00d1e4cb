//! libscap flag values state handlers test (`PPM_O_*`, `PPM_CL_*`, …).

pub const PPM_O_RDONLY: u32 = 1 << 0;
pub const PPM_O_WRONLY: u32 = 1 << 1;
pub const PPM_O_CREAT: u32 = 1 << 2;
pub const PPM_O_TRUNC: u32 = 1 << 8;
pub const PPM_O_DIRECTORY: u32 = 1 << 10;
pub const PPM_O_CLOEXEC: u32 = 1 << 12;
pub const PPM_O_TMPFILE: u32 = 1 << 13;

pub const PPM_CL_CLONE_FILES: u32 = 1 << 0;
pub const PPM_CL_CLONE_FS: u32 = 1 << 1;
pub const PPM_CL_CLONE_NEWPID: u32 = 1 << 6;
pub const PPM_CL_CLONE_THREAD: u32 = 1 << 13;
pub const PPM_CL_CLONE_VFORK: u32 = 1 << 27;
pub const PPM_CL_CHILD_IN_PIDNS: u32 = 1 << 29;

pub const PPM_EXE_WRITABLE: u32 = 1 << 0;
pub const PPM_EXE_UPPER_LAYER: u32 = 1 << 1;
pub const PPM_EXE_FROM_MEMFD: u32 = 1 << 2;
pub const PPM_EXE_LOWER_LAYER: u32 = 1 << 3;

/// fcntl commands (`PPM_FCNTL_*`) that duplicate an fd.
pub const PPM_FCNTL_F_DUPFD: u8 = 1;
pub const PPM_FCNTL_F_DUPFD_CLOEXEC: u8 = 0x1a;

pub const PPM_AT_FDCWD: i64 = -100;
pub const AF_NETLINK: u8 = 16;
