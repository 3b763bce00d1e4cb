/* fd-creating IPC and notification objects: pipes, eventfd, signalfd,
 * inotify, timerfd, memfd, epoll, userfaultfd, pidfd. Included by
 * peregrine.bpf.c. */

static __always_inline struct aux *pipe_common(struct sc *s, u16 type, u32 np)
{
	struct aux *a = ev_begin(type, np);
	if (!a)
		return NULL;
	int fds[2] = {-1, -1};
	u64 ino = 0;
	if (s->ret == 0 && !bpf_probe_read_user(fds, sizeof(fds), (void *)s->a[0])) {
		struct file_id id;
		file_id_of(fd_file(fds[0]), &id);
		ino = id.ino;
	}
	push_s64(a, s->ret);
	push_s64(a, fds[0]);
	push_s64(a, fds[1]);
	push_u64(a, ino);
	return a;
}

HANDLER(pipe)
{
	struct aux *a = pipe_common(s, PPME_SYSCALL_PIPE_X, PPME_SYSCALL_PIPE_X_NP);
	if (a)
		ev_submit(a);
	return 0;
}

HANDLER(pipe2)
{
	struct aux *a = pipe_common(s, PPME_SYSCALL_PIPE2_X, PPME_SYSCALL_PIPE2_X_NP);
	if (!a)
		return 0;
	unsigned long f = s->a[1];
	push_u32(a, fd_flags_to_scap(f) | MAP_BIT(f, K_O_DIRECT, P_FILE_FLAGS_O_DIRECT));
	ev_submit(a);
	return 0;
}

HANDLER(eventfd)
{
	struct aux *a = ev_begin(PPME_SYSCALL_EVENTFD_X, PPME_SYSCALL_EVENTFD_X_NP);
	if (!a)
		return 0;
	push_fd(a, s->ret);
	push_u64(a, (u32)s->a[0]);
	push_u32(a, 0);
	ev_submit(a);
	return 0;
}

HANDLER(eventfd2)
{
	struct aux *a = ev_begin(PPME_SYSCALL_EVENTFD2_X, PPME_SYSCALL_EVENTFD2_X_NP);
	if (!a)
		return 0;
	push_fd(a, s->ret);
	push_u16(a, (u16)fd_flags_to_scap((s32)s->a[1]));
	push_u64(a, (u32)s->a[0]);
	ev_submit(a);
	return 0;
}

HANDLER(signalfd)
{
	struct aux *a = ev_begin(PPME_SYSCALL_SIGNALFD_X, PPME_SYSCALL_SIGNALFD_X_NP);
	if (!a)
		return 0;
	u64 mask = 0;
	bpf_probe_read_user(&mask, sizeof(mask), (void *)s->a[1]);
	push_fd(a, s->ret);
	push_fd(a, s->a[0]);
	push_u32(a, (u32)mask);
	push_u8(a, 0);
	ev_submit(a);
	return 0;
}

HANDLER(signalfd4)
{
	struct aux *a = ev_begin(PPME_SYSCALL_SIGNALFD4_X, PPME_SYSCALL_SIGNALFD4_X_NP);
	if (!a)
		return 0;
	u64 mask = 0;
	bpf_probe_read_user(&mask, sizeof(mask), (void *)s->a[1]);
	push_fd(a, s->ret);
	push_u16(a, (u16)fd_flags_to_scap((s32)s->a[3]));
	push_fd(a, s->a[0]);
	push_u32(a, (u32)mask);
	ev_submit(a);
	return 0;
}

HANDLER(inotify_init)
{
	struct aux *a = ev_begin(PPME_SYSCALL_INOTIFY_INIT_X, PPME_SYSCALL_INOTIFY_INIT_X_NP);
	if (!a)
		return 0;
	push_fd(a, s->ret);
	push_u8(a, 0);
	ev_submit(a);
	return 0;
}

HANDLER(inotify_init1)
{
	struct aux *a = ev_begin(PPME_SYSCALL_INOTIFY_INIT1_X, PPME_SYSCALL_INOTIFY_INIT1_X_NP);
	if (!a)
		return 0;
	push_fd(a, s->ret);
	push_u16(a, (u16)fd_flags_to_scap((s32)s->a[0]));
	ev_submit(a);
	return 0;
}

HANDLER(timerfd_create)
{
	struct aux *a = ev_begin(PPME_SYSCALL_TIMERFD_CREATE_X, PPME_SYSCALL_TIMERFD_CREATE_X_NP);
	if (!a)
		return 0;
	push_fd(a, s->ret);
	push_u8(a, (u8)s->a[0]);
	push_u8(a, (u8)fd_flags_to_scap((s32)s->a[1]));
	ev_submit(a);
	return 0;
}

HANDLER(memfd_create)
{
	struct aux *a = ev_begin(PPME_SYSCALL_MEMFD_CREATE_X, PPME_SYSCALL_MEMFD_CREATE_X_NP);
	if (!a)
		return 0;
	push_fd(a, s->ret);
	push_str(a, (void *)s->a[0], 256, true);
	push_u32(a, memfd_flags_to_scap(s->a[1]));
	ev_submit(a);
	return 0;
}

HANDLER(epoll_create)
{
	struct aux *a = ev_begin(PPME_SYSCALL_EPOLL_CREATE_X, PPME_SYSCALL_EPOLL_CREATE_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_s32(a, (s32)s->a[0]);
	ev_submit(a);
	return 0;
}

HANDLER(epoll_create1)
{
	struct aux *a = ev_begin(PPME_SYSCALL_EPOLL_CREATE1_X, PPME_SYSCALL_EPOLL_CREATE1_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_u32(a, MAP_BIT(s->a[0], K_O_CLOEXEC, P_EPOLL_CREATE1_FLAGS_EPOLL_CLOEXEC));
	ev_submit(a);
	return 0;
}

HANDLER(userfaultfd)
{
	struct aux *a = ev_begin(PPME_SYSCALL_USERFAULTFD_X, PPME_SYSCALL_USERFAULTFD_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_u32(a, fd_flags_to_scap((s32)s->a[0]));
	ev_submit(a);
	return 0;
}

HANDLER(pidfd_open)
{
	struct aux *a = ev_begin(PPME_SYSCALL_PIDFD_OPEN_X, PPME_SYSCALL_PIDFD_OPEN_X_NP);
	if (!a)
		return 0;
	push_fd(a, s->ret);
	push_s64(a, (s32)s->a[0]);
	push_u32(a, MAP_BIT(s->a[1], K_O_NONBLOCK, P_PIDFD_OPEN_FLAGS_PIDFD_NONBLOCK));
	ev_submit(a);
	return 0;
}

HANDLER(pidfd_getfd)
{
	struct aux *a = ev_begin(PPME_SYSCALL_PIDFD_GETFD_X, PPME_SYSCALL_PIDFD_GETFD_X_NP);
	if (!a)
		return 0;
	push_fd(a, s->ret);
	push_fd(a, s->a[0]);
	push_fd(a, s->a[1]);
	push_u32(a, (u32)s->a[2]);
	ev_submit(a);
	return 0;
}
