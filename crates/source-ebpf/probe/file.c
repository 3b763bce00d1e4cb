/* Files: open family, close, read/write family. Included by peregrine.bpf.c.
 * Each handler emits the syscall's exit event with the enter params too. */

static __always_inline u32 open_result_flags(u32 kflags, struct file_id *id)
{
	u32 f = open_flags_to_scap(kflags);
	if (id->created)
		f |= P_FILE_FLAGS_O_F_CREATED;
	if (id->ol == OVL_UPPER)
		f |= P_FILE_FLAGS_FD_UPPER_LAYER;
	else if (id->ol == OVL_LOWER)
		f |= P_FILE_FLAGS_FD_LOWER_LAYER;
	return f;
}

static __always_inline long dirfd_arg(unsigned long v)
{
	int fd = (int)v;
	return fd == K_AT_FDCWD ? -100 : fd;
}

HANDLER(open)
{
	struct aux *a = ev_begin(PPME_SYSCALL_OPEN_X, PPME_SYSCALL_OPEN_X_NP);
	if (!a)
		return 0;
	struct file_id id;
	file_id_of(s->ret >= 0 ? fd_file(s->ret) : NULL, &id);
	u32 kflags = (u32)s->a[1];
	push_fd(a, s->ret);
	push_user_str(a, s->a[0]);
	push_u32(a, open_result_flags(kflags, &id));
	push_u32(a, open_mode_to_scap(kflags, (u32)s->a[2]));
	push_u32(a, id.dev);
	push_u64(a, id.ino);
	ev_submit(a);
	return 0;
}

HANDLER(openat)
{
	struct aux *a = ev_begin(PPME_SYSCALL_OPENAT_2_X, PPME_SYSCALL_OPENAT_2_X_NP);
	if (!a)
		return 0;
	struct file_id id;
	file_id_of(s->ret >= 0 ? fd_file(s->ret) : NULL, &id);
	u32 kflags = (u32)s->a[2];
	push_fd(a, s->ret);
	push_fd(a, dirfd_arg(s->a[0]));
	push_user_str(a, s->a[1]);
	push_u32(a, open_result_flags(kflags, &id));
	push_u32(a, open_mode_to_scap(kflags, (u32)s->a[3]));
	push_u32(a, id.dev);
	push_u64(a, id.ino);
	ev_submit(a);
	return 0;
}

HANDLER(openat2)
{
	struct aux *a = ev_begin(PPME_SYSCALL_OPENAT2_X, PPME_SYSCALL_OPENAT2_X_NP);
	if (!a)
		return 0;
	struct file_id id;
	file_id_of(s->ret >= 0 ? fd_file(s->ret) : NULL, &id);
	struct open_how how = {};
	bpf_probe_read_user(&how, sizeof(how), (void *)s->a[2]);
	push_fd(a, s->ret);
	push_fd(a, dirfd_arg(s->a[0]));
	push_user_str(a, s->a[1]);
	push_u32(a, open_result_flags((u32)how.flags, &id));
	push_u32(a, open_mode_to_scap((u32)how.flags, (u32)how.mode));
	push_u32(a, (u32)how.resolve & 0x3f); /* RESOLVE_* share scap's bits */
	push_u32(a, id.dev);
	push_u64(a, id.ino);
	ev_submit(a);
	return 0;
}

HANDLER(creat)
{
	struct aux *a = ev_begin(PPME_SYSCALL_CREAT_X, PPME_SYSCALL_CREAT_X_NP);
	if (!a)
		return 0;
	struct file_id id;
	file_id_of(s->ret >= 0 ? fd_file(s->ret) : NULL, &id);
	push_fd(a, s->ret);
	push_user_str(a, s->a[0]);
	push_u32(a, (u32)s->a[1] & 07777);
	push_u32(a, id.dev);
	push_u64(a, id.ino);
	u16 cf = 0;
	if (id.ol == OVL_UPPER)
		cf = P_CREAT_FLAGS_FD_UPPER_LAYER_CREAT;
	else if (id.ol == OVL_LOWER)
		cf = P_CREAT_FLAGS_FD_LOWER_LAYER_CREAT;
	push_u16(a, cf);
	ev_submit(a);
	return 0;
}

HANDLER(close)
{
	struct aux *a = ev_begin(PPME_SYSCALL_CLOSE_X, PPME_SYSCALL_CLOSE_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_fd(a, s->a[0]);
	ev_submit(a);
	return 0;
}

/* Up to the snaplen of a user buffer. */
static __always_inline void push_data(struct aux *a, unsigned long buf, long n)
{
	if (n <= 0 || !buf) {
		push_empty(a);
		return;
	}
	u32 len = n > cfg_snaplen ? cfg_snaplen : (u32)n;
	push_bytes(a, (const void *)buf, len, true);
}

/* read-like: data is what was returned; write-like: what was passed. */
static __always_inline long io_len(struct sc *s, bool is_read, unsigned long count)
{
	if (is_read)
		return s->ret;
	return s->ret > 0 ? s->ret : (long)count;
}

HANDLER(read)
{
	struct aux *a = ev_begin(PPME_SYSCALL_READ_X, PPME_SYSCALL_READ_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_data(a, s->a[1], io_len(s, true, s->a[2]));
	push_fd(a, s->a[0]);
	push_u32(a, (u32)s->a[2]);
	ev_submit(a);
	return 0;
}

HANDLER(write)
{
	struct aux *a = ev_begin(PPME_SYSCALL_WRITE_X, PPME_SYSCALL_WRITE_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_data(a, s->a[1], io_len(s, false, s->a[2]));
	push_fd(a, s->a[0]);
	push_u32(a, (u32)s->a[2]);
	ev_submit(a);
	return 0;
}

HANDLER(pread64)
{
	struct aux *a = ev_begin(PPME_SYSCALL_PREAD_X, PPME_SYSCALL_PREAD_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_data(a, s->a[1], io_len(s, true, s->a[2]));
	push_fd(a, s->a[0]);
	push_u32(a, (u32)s->a[2]);
	push_u64(a, s->a[3]);
	ev_submit(a);
	return 0;
}

HANDLER(pwrite64)
{
	struct aux *a = ev_begin(PPME_SYSCALL_PWRITE_X, PPME_SYSCALL_PWRITE_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_data(a, s->a[1], io_len(s, false, s->a[2]));
	push_fd(a, s->a[0]);
	push_u32(a, (u32)s->a[2]);
	push_u64(a, s->a[3]);
	ev_submit(a);
	return 0;
}

#define MAX_IOVEC 8

/* Total length of an iovec array. */
static __always_inline u32 iov_total(unsigned long uiov, unsigned long cnt)
{
	u32 total = 0;
	for (int i = 0; i < MAX_IOVEC; i++) {
		if (i >= cnt)
			break;
		struct iovec v = {};
		if (bpf_probe_read_user(&v, sizeof(v), (void *)(uiov + i * sizeof(v))))
			break;
		total += (u32)v.iov_len;
	}
	return total;
}

/* Gathers up to `limit` bytes (at most the snaplen) from an iovec array. */
__noinline u32 put_iov_data(struct aux *a, unsigned long uiov, unsigned long cnt,
				   long limit)
{
	if (!a || limit <= 0)
		return 0;
	u32 want = limit > cfg_snaplen ? cfg_snaplen : (u32)limit;
	u32 got = 0;
	for (int i = 0; i < MAX_IOVEC; i++) {
		if (i >= cnt || got >= want)
			break;
		struct iovec v = {};
		if (bpf_probe_read_user(&v, sizeof(v), (void *)(uiov + i * sizeof(v))))
			break;
		u32 n = (u32)v.iov_len;
		if (n > want - got)
			n = want - got;
		if (n == 0)
			continue;
		got += put_raw(a, v.iov_base, n, true);
	}
	return got;
}

HANDLER(readv)
{
	struct aux *a = ev_begin(PPME_SYSCALL_READV_X, PPME_SYSCALL_READV_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_u32(a, iov_total(s->a[1], s->a[2]));
	push_len(a, put_iov_data(a, s->a[1], s->a[2], s->ret));
	push_fd(a, s->a[0]);
	ev_submit(a);
	return 0;
}

HANDLER(writev)
{
	struct aux *a = ev_begin(PPME_SYSCALL_WRITEV_X, PPME_SYSCALL_WRITEV_X_NP);
	if (!a)
		return 0;
	u32 total = iov_total(s->a[1], s->a[2]);
	push_s64(a, s->ret);
	push_len(a, put_iov_data(a, s->a[1], s->a[2], s->ret > 0 ? s->ret : total));
	push_fd(a, s->a[0]);
	push_u32(a, total);
	ev_submit(a);
	return 0;
}

HANDLER(preadv)
{
	struct aux *a = ev_begin(PPME_SYSCALL_PREADV_X, PPME_SYSCALL_PREADV_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_u32(a, iov_total(s->a[1], s->a[2]));
	push_len(a, put_iov_data(a, s->a[1], s->a[2], s->ret));
	push_fd(a, s->a[0]);
	push_u64(a, s->a[3]);
	ev_submit(a);
	return 0;
}

HANDLER(pwritev)
{
	struct aux *a = ev_begin(PPME_SYSCALL_PWRITEV_X, PPME_SYSCALL_PWRITEV_X_NP);
	if (!a)
		return 0;
	u32 total = iov_total(s->a[1], s->a[2]);
	push_s64(a, s->ret);
	push_len(a, put_iov_data(a, s->a[1], s->a[2], s->ret > 0 ? s->ret : total));
	push_fd(a, s->a[0]);
	push_u32(a, total);
	push_u64(a, s->a[3]);
	ev_submit(a);
	return 0;
}
