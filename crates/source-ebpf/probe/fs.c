/* File system operations and fd bookkeeping: directories, links, renames,
 * permissions, mounts, dup/fcntl, stat family. Included by peregrine.bpf.c. */

/* res + one user path. */
static __always_inline int res_path(struct sc *s, u16 type, u32 np, unsigned long path)
{
	struct aux *a = ev_begin(type, np);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_user_str(a, path);
	ev_submit(a);
	return 0;
}

/* res + one fd. */
static __always_inline int res_fd(struct sc *s, u16 type, u32 np, long fd)
{
	struct aux *a = ev_begin(type, np);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_fd(a, fd);
	ev_submit(a);
	return 0;
}

HANDLER(chdir)
{
	return res_path(s, PPME_SYSCALL_CHDIR_X, PPME_SYSCALL_CHDIR_X_NP, s->a[0]);
}

HANDLER(fchdir)
{
	return res_fd(s, PPME_SYSCALL_FCHDIR_X, PPME_SYSCALL_FCHDIR_X_NP, s->a[0]);
}

HANDLER(chroot)
{
	return res_path(s, PPME_SYSCALL_CHROOT_X, PPME_SYSCALL_CHROOT_X_NP, s->a[0]);
}

HANDLER(rmdir)
{
	return res_path(s, PPME_SYSCALL_RMDIR_2_X, PPME_SYSCALL_RMDIR_2_X_NP, s->a[0]);
}

HANDLER(unlink)
{
	return res_path(s, PPME_SYSCALL_UNLINK_2_X, PPME_SYSCALL_UNLINK_2_X_NP, s->a[0]);
}

HANDLER(stat)
{
	return res_path(s, PPME_SYSCALL_STAT_X, PPME_SYSCALL_STAT_X_NP, s->a[0]);
}

HANDLER(lstat)
{
	return res_path(s, PPME_SYSCALL_LSTAT_X, PPME_SYSCALL_LSTAT_X_NP, s->a[0]);
}

HANDLER(fstat)
{
	return res_fd(s, PPME_SYSCALL_FSTAT_X, PPME_SYSCALL_FSTAT_X_NP, s->a[0]);
}

HANDLER(getdents)
{
	return res_fd(s, PPME_SYSCALL_GETDENTS_X, PPME_SYSCALL_GETDENTS_X_NP, s->a[0]);
}

HANDLER(getdents64)
{
	return res_fd(s, PPME_SYSCALL_GETDENTS64_X, PPME_SYSCALL_GETDENTS64_X_NP, s->a[0]);
}

HANDLER(mkdir)
{
	struct aux *a = ev_begin(PPME_SYSCALL_MKDIR_2_X, PPME_SYSCALL_MKDIR_2_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_user_str(a, s->a[0]);
	push_u32(a, (u32)s->a[1]);
	ev_submit(a);
	return 0;
}

HANDLER(mkdirat)
{
	struct aux *a = ev_begin(PPME_SYSCALL_MKDIRAT_X, PPME_SYSCALL_MKDIRAT_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_fd(a, dirfd_arg(s->a[0]));
	push_user_str(a, s->a[1]);
	push_u32(a, (u32)s->a[2]);
	ev_submit(a);
	return 0;
}

HANDLER(unlinkat)
{
	struct aux *a = ev_begin(PPME_SYSCALL_UNLINKAT_2_X, PPME_SYSCALL_UNLINKAT_2_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_fd(a, dirfd_arg(s->a[0]));
	push_user_str(a, s->a[1]);
	push_u32(a, (u32)s->a[2] & P_UNLINKAT_FLAGS_AT_REMOVEDIR);
	ev_submit(a);
	return 0;
}

/* res + two user paths (rename, link, symlink). */
static __always_inline int res_two_paths(struct sc *s, u16 type, u32 np)
{
	struct aux *a = ev_begin(type, np);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_user_str(a, s->a[0]);
	push_user_str(a, s->a[1]);
	ev_submit(a);
	return 0;
}

HANDLER(rename)
{
	return res_two_paths(s, PPME_SYSCALL_RENAME_X, PPME_SYSCALL_RENAME_X_NP);
}

HANDLER(link)
{
	return res_two_paths(s, PPME_SYSCALL_LINK_2_X, PPME_SYSCALL_LINK_2_X_NP);
}

HANDLER(symlink)
{
	return res_two_paths(s, PPME_SYSCALL_SYMLINK_X, PPME_SYSCALL_SYMLINK_X_NP);
}

/* res, olddirfd, oldpath, newdirfd, newpath [, flags] */
static __always_inline struct aux *two_at_paths(struct sc *s, u16 type, u32 np)
{
	struct aux *a = ev_begin(type, np);
	if (!a)
		return NULL;
	push_s64(a, s->ret);
	push_fd(a, dirfd_arg(s->a[0]));
	push_user_str(a, s->a[1]);
	push_fd(a, dirfd_arg(s->a[2]));
	push_user_str(a, s->a[3]);
	return a;
}

HANDLER(renameat)
{
	struct aux *a = two_at_paths(s, PPME_SYSCALL_RENAMEAT_X, PPME_SYSCALL_RENAMEAT_X_NP);
	if (a)
		ev_submit(a);
	return 0;
}

HANDLER(renameat2)
{
	struct aux *a = two_at_paths(s, PPME_SYSCALL_RENAMEAT2_X, PPME_SYSCALL_RENAMEAT2_X_NP);
	if (!a)
		return 0;
	push_u32(a, (u32)s->a[4] & 7);
	ev_submit(a);
	return 0;
}

HANDLER(linkat)
{
	struct aux *a = two_at_paths(s, PPME_SYSCALL_LINKAT_2_X, PPME_SYSCALL_LINKAT_2_X_NP);
	if (!a)
		return 0;
	push_u32(a, (u32)s->a[4] & (P_LINKAT_FLAGS_AT_SYMLINK_FOLLOW | P_LINKAT_FLAGS_AT_EMPTY_PATH));
	ev_submit(a);
	return 0;
}

HANDLER(symlinkat)
{
	struct aux *a = ev_begin(PPME_SYSCALL_SYMLINKAT_X, PPME_SYSCALL_SYMLINKAT_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_user_str(a, s->a[0]);
	push_fd(a, dirfd_arg(s->a[1]));
	push_user_str(a, s->a[2]);
	ev_submit(a);
	return 0;
}

HANDLER(chmod)
{
	struct aux *a = ev_begin(PPME_SYSCALL_CHMOD_X, PPME_SYSCALL_CHMOD_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_user_str(a, s->a[0]);
	push_u32(a, (u32)s->a[1] & 07777);
	ev_submit(a);
	return 0;
}

HANDLER(fchmod)
{
	struct aux *a = ev_begin(PPME_SYSCALL_FCHMOD_X, PPME_SYSCALL_FCHMOD_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_fd(a, s->a[0]);
	push_u32(a, (u32)s->a[1] & 07777);
	ev_submit(a);
	return 0;
}

HANDLER(fchmodat)
{
	struct aux *a = ev_begin(PPME_SYSCALL_FCHMODAT_X, PPME_SYSCALL_FCHMODAT_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_fd(a, dirfd_arg(s->a[0]));
	push_user_str(a, s->a[1]);
	push_u32(a, (u32)s->a[2] & 07777);
	ev_submit(a);
	return 0;
}

/* chown/lchown: res, path, uid, gid */
static __always_inline int chown_like(struct sc *s, u16 type, u32 np)
{
	struct aux *a = ev_begin(type, np);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_user_str(a, s->a[0]);
	push_u32(a, (u32)s->a[1]);
	push_u32(a, (u32)s->a[2]);
	ev_submit(a);
	return 0;
}

HANDLER(chown)
{
	return chown_like(s, PPME_SYSCALL_CHOWN_X, PPME_SYSCALL_CHOWN_X_NP);
}

HANDLER(lchown)
{
	return chown_like(s, PPME_SYSCALL_LCHOWN_X, PPME_SYSCALL_LCHOWN_X_NP);
}

HANDLER(fchown)
{
	struct aux *a = ev_begin(PPME_SYSCALL_FCHOWN_X, PPME_SYSCALL_FCHOWN_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_fd(a, s->a[0]);
	push_u32(a, (u32)s->a[1]);
	push_u32(a, (u32)s->a[2]);
	ev_submit(a);
	return 0;
}

HANDLER(fchownat)
{
	struct aux *a = ev_begin(PPME_SYSCALL_FCHOWNAT_X, PPME_SYSCALL_FCHOWNAT_X_NP);
	if (!a)
		return 0;
	unsigned long kf = s->a[4];
	u32 f = MAP_BIT(kf, 0x100, P_FCHOWNAT_FLAGS_AT_SYMLINK_NOFOLLOW) |
		MAP_BIT(kf, 0x1000, P_FCHOWNAT_FLAGS_AT_EMPTY_PATH);
	push_s64(a, s->ret);
	push_fd(a, dirfd_arg(s->a[0]));
	push_user_str(a, s->a[1]);
	push_u32(a, (u32)s->a[2]);
	push_u32(a, (u32)s->a[3]);
	push_u32(a, f);
	ev_submit(a);
	return 0;
}

HANDLER(mount)
{
	struct aux *a = ev_begin(PPME_SYSCALL_MOUNT_X, PPME_SYSCALL_MOUNT_X_NP);
	if (!a)
		return 0;
	u32 flags = (u32)s->a[3];
	if ((flags & 0xffff0000U) == 0xc0ed0000U) /* MS_MGC_VAL magic */
		flags &= 0xffff;
	push_s64(a, s->ret);
	push_user_str(a, s->a[0]);
	push_user_str(a, s->a[1]);
	push_user_str(a, s->a[2]);
	push_u32(a, flags);
	ev_submit(a);
	return 0;
}

HANDLER(umount2)
{
	struct aux *a = ev_begin(PPME_SYSCALL_UMOUNT2_X, PPME_SYSCALL_UMOUNT2_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_user_str(a, s->a[0]);
	push_u32(a, (u32)s->a[1] & 0xf);
	ev_submit(a);
	return 0;
}

HANDLER(mknod)
{
	struct aux *a = ev_begin(PPME_SYSCALL_MKNOD_X, PPME_SYSCALL_MKNOD_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_user_str(a, s->a[0]);
	push_u32(a, (u32)s->a[1]);
	push_u32(a, (u32)s->a[2]);
	ev_submit(a);
	return 0;
}

HANDLER(mknodat)
{
	struct aux *a = ev_begin(PPME_SYSCALL_MKNODAT_X, PPME_SYSCALL_MKNODAT_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_fd(a, dirfd_arg(s->a[0]));
	push_user_str(a, s->a[1]);
	push_u32(a, (u32)s->a[2]);
	push_u32(a, (u32)s->a[3]);
	ev_submit(a);
	return 0;
}

HANDLER(access)
{
	struct aux *a = ev_begin(PPME_SYSCALL_ACCESS_X, PPME_SYSCALL_ACCESS_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_user_str(a, s->a[0]);
	push_u32(a, access_flags_to_scap(s->a[1]));
	ev_submit(a);
	return 0;
}

HANDLER(newfstatat)
{
	struct aux *a = ev_begin(PPME_SYSCALL_NEWFSTATAT_X, PPME_SYSCALL_NEWFSTATAT_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_fd(a, dirfd_arg(s->a[0]));
	push_user_str(a, s->a[1]);
	push_u32(a, (u32)s->a[3] & 0x1900);
	ev_submit(a);
	return 0;
}

HANDLER(flock)
{
	struct aux *a = ev_begin(PPME_SYSCALL_FLOCK_X, PPME_SYSCALL_FLOCK_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_fd(a, s->a[0]);
	push_u32(a, (u32)s->a[1] & 0xf);
	ev_submit(a);
	return 0;
}

HANDLER(lseek)
{
	struct aux *a = ev_begin(PPME_SYSCALL_LSEEK_X, PPME_SYSCALL_LSEEK_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_fd(a, s->a[0]);
	push_u64(a, s->a[1]);
	push_u8(a, s->a[2] <= 2 ? (u8)s->a[2] : 0xff);
	ev_submit(a);
	return 0;
}

HANDLER(ioctl)
{
	struct aux *a = ev_begin(PPME_SYSCALL_IOCTL_3_X, PPME_SYSCALL_IOCTL_3_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_fd(a, s->a[0]);
	push_u64(a, s->a[1]);
	push_u64(a, s->a[2]);
	ev_submit(a);
	return 0;
}

HANDLER(fcntl)
{
	struct aux *a = ev_begin(PPME_SYSCALL_FCNTL_X, PPME_SYSCALL_FCNTL_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_fd(a, s->a[0]);
	push_u8(a, fcntl_cmd_to_scap(s->a[1]));
	push_u64(a, s->a[2]);
	ev_submit(a);
	return 0;
}

HANDLER(dup)
{
	struct aux *a = ev_begin(PPME_SYSCALL_DUP_1_X, PPME_SYSCALL_DUP_1_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_fd(a, s->a[0]);
	ev_submit(a);
	return 0;
}

HANDLER(dup2)
{
	struct aux *a = ev_begin(PPME_SYSCALL_DUP2_X, PPME_SYSCALL_DUP2_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_fd(a, s->a[0]);
	push_fd(a, s->a[1]);
	ev_submit(a);
	return 0;
}

HANDLER(dup3)
{
	struct aux *a = ev_begin(PPME_SYSCALL_DUP3_X, PPME_SYSCALL_DUP3_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_fd(a, s->a[0]);
	push_fd(a, s->a[1]);
	push_u32(a, fd_flags_to_scap(s->a[2]) & P_FILE_FLAGS_O_CLOEXEC);
	ev_submit(a);
	return 0;
}

HANDLER(close_range)
{
	struct aux *a = ev_begin(PPME_SYSCALL_CLOSE_RANGE_X, PPME_SYSCALL_CLOSE_RANGE_X_NP);
	if (!a)
		return 0;
	unsigned long kf = s->a[2];
	push_s64(a, s->ret);
	push_u32(a, (u32)s->a[0]);
	push_u32(a, (u32)s->a[1]);
	push_u32(a, MAP_BIT(kf, 2, P_CLOSE_RANGE_FLAGS_CLOSE_RANGE_UNSHARE) |
			    MAP_BIT(kf, 4, P_CLOSE_RANGE_FLAGS_CLOSE_RANGE_CLOEXEC));
	ev_submit(a);
	return 0;
}

HANDLER(splice)
{
	struct aux *a = ev_begin(PPME_SYSCALL_SPLICE_X, PPME_SYSCALL_SPLICE_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_fd(a, s->a[0]);
	push_fd(a, s->a[2]);
	push_u64(a, s->a[4]);
	push_u32(a, (u32)s->a[5] & 0xf);
	ev_submit(a);
	return 0;
}

HANDLER(sendfile)
{
	struct aux *a = ev_begin(PPME_SYSCALL_SENDFILE_X, PPME_SYSCALL_SENDFILE_X_NP);
	if (!a)
		return 0;
	u64 off = 0;
	if (s->a[2])
		bpf_probe_read_user(&off, sizeof(off), (void *)s->a[2]);
	push_s64(a, s->ret);
	push_u64(a, off);
	push_fd(a, s->a[0]);
	push_fd(a, s->a[1]);
	push_u64(a, s->a[3]);
	ev_submit(a);
	return 0;
}

HANDLER(copy_file_range)
{
	struct aux *a = ev_begin(PPME_SYSCALL_COPY_FILE_RANGE_X, PPME_SYSCALL_COPY_FILE_RANGE_X_NP);
	if (!a)
		return 0;
	u64 offin = 0, offout = 0;
	if (s->a[1])
		bpf_probe_read_user(&offin, sizeof(offin), (void *)s->a[1]);
	if (s->a[3])
		bpf_probe_read_user(&offout, sizeof(offout), (void *)s->a[3]);
	push_s64(a, s->ret);
	push_fd(a, s->a[2]);
	push_u64(a, offout);
	push_fd(a, s->a[0]);
	push_u64(a, offin);
	push_u64(a, s->a[4]);
	ev_submit(a);
	return 0;
}

HANDLER(open_by_handle_at)
{
	struct aux *a = ev_begin(PPME_SYSCALL_OPEN_BY_HANDLE_AT_X, PPME_SYSCALL_OPEN_BY_HANDLE_AT_X_NP);
	if (!a)
		return 0;
	struct file *f = s->ret >= 0 ? fd_file(s->ret) : NULL;
	struct file_id id;
	file_id_of(f, &id);
	push_fd(a, s->ret);
	push_fd(a, dirfd_arg(s->a[0]));
	push_u32(a, open_result_flags((u32)s->a[2], &id));
	push_file_path(a, f);
	push_u32(a, id.dev);
	push_u64(a, id.ino);
	ev_submit(a);
	return 0;
}
