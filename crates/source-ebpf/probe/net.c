/* Sockets: creation, connection, data transfer with full tuples. Included by
 * peregrine.bpf.c. Tuples are read from the kernel socket after the call. */

#define OUTBOUND 1
#define INBOUND 0

HANDLER(socket)
{
	struct aux *a = ev_begin(PPME_SOCKET_SOCKET_X, PPME_SOCKET_SOCKET_X_NP);
	if (!a)
		return 0;
	u32 type = (u32)s->a[1];
	push_fd(a, s->ret);
	push_u32(a, socket_family_to_scap((u32)s->a[0]));
	push_u32(a, type);
	push_u32(a, (u32)s->a[2]);
	push_u32(a, fd_flags_to_scap(type));
	ev_submit(a);
	return 0;
}

HANDLER(socketpair)
{
	struct aux *a = ev_begin(PPME_SOCKET_SOCKETPAIR_X, PPME_SOCKET_SOCKETPAIR_X_NP);
	if (!a)
		return 0;
	int fds[2] = {-1, -1};
	u64 source = 0, peer = 0;
	if (s->ret == 0) {
		bpf_probe_read_user(fds, sizeof(fds), (void *)s->a[3]);
		struct sock *sk = fd_sock(fds[0]);
		if (sk) {
			source = (u64)sk;
			peer = (u64)BPF_CORE_READ((struct unix_sock *)sk, peer);
		}
	}
	push_s64(a, s->ret);
	push_s64(a, fds[0]);
	push_s64(a, fds[1]);
	push_u64(a, source);
	push_u64(a, peer);
	push_u32(a, socket_family_to_scap((u32)s->a[0]));
	push_u32(a, (u32)s->a[1]);
	push_u32(a, (u32)s->a[2]);
	ev_submit(a);
	return 0;
}

HANDLER(bind)
{
	struct aux *a = ev_begin(PPME_SOCKET_BIND_X, PPME_SOCKET_BIND_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_user_sockaddr(a, s->a[1], (u32)s->a[2]);
	push_fd(a, s->a[0]);
	ev_submit(a);
	return 0;
}

HANDLER(connect)
{
	struct aux *a = ev_begin(PPME_SOCKET_CONNECT_X, PPME_SOCKET_CONNECT_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	/* -EINPROGRESS: a non-blocking connect that is under way has a tuple. */
	if (s->ret == 0 || s->ret == -115)
		push_socktuple(a, s->a[0], OUTBOUND, s->a[1]);
	else
		push_empty(a);
	push_fd(a, s->a[0]);
	push_user_sockaddr(a, s->a[1], (u32)s->a[2]);
	ev_submit(a);
	return 0;
}

HANDLER(listen)
{
	struct aux *a = ev_begin(PPME_SOCKET_LISTEN_X, PPME_SOCKET_LISTEN_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_fd(a, s->a[0]);
	push_s32(a, (s32)s->a[1]);
	ev_submit(a);
	return 0;
}

static __always_inline void push_accept_common(struct aux *a, struct sc *s)
{
	push_fd(a, s->ret);
	u32 qlen = 0, qmax = 0;
	u8 qpct = 0;
	if (s->ret >= 0) {
		push_socktuple(a, s->ret, INBOUND, 0);
		struct sock *lsk = fd_sock(s->a[0]);
		if (lsk) {
			qlen = BPF_CORE_READ(lsk, sk_ack_backlog);
			qmax = BPF_CORE_READ(lsk, sk_max_ack_backlog);
			if (qmax)
				qpct = (u8)((u64)qlen * 100 / qmax);
		}
	} else {
		push_empty(a);
	}
	push_u8(a, qpct);
	push_u32(a, qlen);
	push_u32(a, qmax);
}

HANDLER(accept)
{
	struct aux *a = ev_begin(PPME_SOCKET_ACCEPT_5_X, PPME_SOCKET_ACCEPT_5_X_NP);
	if (!a)
		return 0;
	push_accept_common(a, s);
	ev_submit(a);
	return 0;
}

HANDLER(accept4)
{
	struct aux *a = ev_begin(PPME_SOCKET_ACCEPT4_6_X, PPME_SOCKET_ACCEPT4_6_X_NP);
	if (!a)
		return 0;
	push_accept_common(a, s);
	push_s32(a, (s32)fd_flags_to_scap(s->a[3]));
	ev_submit(a);
	return 0;
}

HANDLER(shutdown)
{
	struct aux *a = ev_begin(PPME_SOCKET_SHUTDOWN_X, PPME_SOCKET_SHUTDOWN_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_fd(a, s->a[0]);
	push_u8(a, s->a[1] <= 2 ? (u8)s->a[1] : 0xff);
	ev_submit(a);
	return 0;
}

HANDLER(sendto)
{
	struct aux *a = ev_begin(PPME_SOCKET_SENDTO_X, PPME_SOCKET_SENDTO_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_data(a, s->a[1], io_len(s, false, s->a[2]));
	push_fd(a, s->a[0]);
	push_u32(a, (u32)s->a[2]);
	if (s->ret >= 0)
		push_socktuple(a, s->a[0], OUTBOUND, s->a[4]);
	else
		push_empty(a);
	ev_submit(a);
	return 0;
}

HANDLER(recvfrom)
{
	struct aux *a = ev_begin(PPME_SOCKET_RECVFROM_X, PPME_SOCKET_RECVFROM_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_data(a, s->a[1], io_len(s, true, s->a[2]));
	if (s->ret >= 0)
		push_socktuple(a, s->a[0], INBOUND, s->a[4]);
	else
		push_empty(a);
	push_fd(a, s->a[0]);
	push_u32(a, (u32)s->a[2]);
	ev_submit(a);
	return 0;
}

HANDLER(sendmsg)
{
	struct aux *a = ev_begin(PPME_SOCKET_SENDMSG_X, PPME_SOCKET_SENDMSG_X_NP);
	if (!a)
		return 0;
	struct user_msghdr mh = {};
	bool ok = bpf_probe_read_user(&mh, sizeof(mh), (void *)s->a[1]) == 0;
	u32 total = ok ? iov_total((unsigned long)mh.msg_iov, mh.msg_iovlen) : 0;
	push_s64(a, s->ret);
	if (ok)
		push_len(a, put_iov_data(a, (unsigned long)mh.msg_iov, mh.msg_iovlen,
					 s->ret > 0 ? s->ret : total));
	else
		push_empty(a);
	push_fd(a, s->a[0]);
	push_u32(a, total);
	if (s->ret >= 0 && ok)
		push_socktuple(a, s->a[0], OUTBOUND, (unsigned long)mh.msg_name);
	else
		push_empty(a);
	ev_submit(a);
	return 0;
}

HANDLER(recvmsg)
{
	struct aux *a = ev_begin(PPME_SOCKET_RECVMSG_X, PPME_SOCKET_RECVMSG_X_NP);
	if (!a)
		return 0;
	struct user_msghdr mh = {};
	bool ok = bpf_probe_read_user(&mh, sizeof(mh), (void *)s->a[1]) == 0;
	push_s64(a, s->ret);
	if (s->ret >= 0 && ok) {
		push_u32(a, (u32)s->ret);
		push_len(a, put_iov_data(a, (unsigned long)mh.msg_iov, mh.msg_iovlen, s->ret));
		push_socktuple(a, s->a[0], INBOUND, (unsigned long)mh.msg_name);
		u32 clen = (u32)mh.msg_controllen;
		if (mh.msg_control && clen > 0)
			push_bytes(a, mh.msg_control, clen > 256 ? 256 : clen, true);
		else
			push_empty(a);
	} else {
		push_u32(a, 0);
		push_empty(a);
		push_empty(a);
		push_empty(a);
	}
	push_fd(a, s->a[0]);
	ev_submit(a);
	return 0;
}

/* A PT_DYN sockopt value: index byte (0 bytes, 1 errno, 2 u32, 3 u64) then
 * the value, as libscap encodes it. */
static __always_inline void push_sockopt_val(struct aux *a, int level, int optname,
					     unsigned long uval, u32 len)
{
	u32 p = a->pos;
	if (p > EV_MAX - 16 || !uval) {
		push_empty(a);
		return;
	}
	if (level == 1 /* SOL_SOCKET */ && optname == 4 /* SO_ERROR */) {
		s32 v = 0;
		bpf_probe_read_user(&v, sizeof(v), (void *)uval);
		a->data[EV_BASE + (p & EV_MASK)] = 1;
		*(s64 *)&a->data[EV_BASE + ((p + 1) & EV_MASK)] = -(s64)v;
		a->pos = p + 9;
		push_len(a, 9);
		return;
	}
	if (level == 1 && optname == 57 /* SO_COOKIE */) {
		u64 v = 0;
		bpf_probe_read_user(&v, sizeof(v), (void *)uval);
		a->data[EV_BASE + (p & EV_MASK)] = 3;
		*(u64 *)&a->data[EV_BASE + ((p + 1) & EV_MASK)] = v;
		a->pos = p + 9;
		push_len(a, 9);
		return;
	}
	if (level == 1 && len == 4) {
		u32 v = 0;
		bpf_probe_read_user(&v, sizeof(v), (void *)uval);
		a->data[EV_BASE + (p & EV_MASK)] = 2;
		*(u32 *)&a->data[EV_BASE + ((p + 1) & EV_MASK)] = v;
		a->pos = p + 5;
		push_len(a, 5);
		return;
	}
	a->data[EV_BASE + (p & EV_MASK)] = 0;
	a->pos = p + 1;
	u32 n = put_raw(a, (void *)uval, len > 256 ? 256 : len, true);
	push_len(a, 1 + n);
}

static __always_inline u8 sockopt_level_to_scap(int level)
{
	if (level == 1)
		return P_SOCKOPT_LEVELS_SOL_SOCKET;
	if (level == 6)
		return P_SOCKOPT_LEVELS_SOL_TCP;
	return P_SOCKOPT_LEVELS_UNKNOWN;
}

/* SO_* up to SO_MEMINFO share scap's numbers; SO_COOKIE differs. */
static __always_inline u8 sockopt_name_to_scap(int level, int optname)
{
	if (level != 1)
		return P_SOCKOPT_OPTIONS_UNKNOWN;
	if (optname == 57)
		return P_SOCKOPT_OPTIONS_SO_COOKIE;
	if (optname > 0 && optname <= 0x34)
		return (u8)optname;
	return P_SOCKOPT_OPTIONS_UNKNOWN;
}

HANDLER(getsockopt)
{
	struct aux *a = ev_begin(PPME_SOCKET_GETSOCKOPT_X, PPME_SOCKET_GETSOCKOPT_X_NP);
	if (!a)
		return 0;
	int level = (int)s->a[1], optname = (int)s->a[2];
	u32 optlen = 0;
	bpf_probe_read_user(&optlen, sizeof(optlen), (void *)s->a[4]);
	push_s64(a, s->ret);
	push_fd(a, s->a[0]);
	push_u8(a, sockopt_level_to_scap(level));
	push_u8(a, sockopt_name_to_scap(level, optname));
	if (s->ret == 0)
		push_sockopt_val(a, level, optname, s->a[3], optlen);
	else
		push_empty(a);
	push_u32(a, optlen);
	ev_submit(a);
	return 0;
}

HANDLER(setsockopt)
{
	struct aux *a = ev_begin(PPME_SOCKET_SETSOCKOPT_X, PPME_SOCKET_SETSOCKOPT_X_NP);
	if (!a)
		return 0;
	int level = (int)s->a[1], optname = (int)s->a[2];
	u32 optlen = (u32)s->a[4];
	push_s64(a, s->ret);
	push_fd(a, s->a[0]);
	push_u8(a, sockopt_level_to_scap(level));
	push_u8(a, sockopt_name_to_scap(level, optname));
	push_sockopt_val(a, level, optname, s->a[3], optlen);
	push_u32(a, optlen);
	ev_submit(a);
	return 0;
}

struct k_mmsghdr {
	struct user_msghdr hdr;
	unsigned int len;
};

/* sendmmsg/recvmmsg: reported for their first message. */
HANDLER(sendmmsg)
{
	struct aux *a = ev_begin(PPME_SOCKET_SENDMMSG_X, PPME_SOCKET_SENDMMSG_X_NP);
	if (!a)
		return 0;
	struct k_mmsghdr mh = {};
	bool ok = bpf_probe_read_user(&mh, sizeof(mh), (void *)s->a[1]) == 0;
	push_s64(a, s->ret);
	push_fd(a, s->a[0]);
	push_u32(a, ok ? mh.len : 0);
	if (ok && s->ret > 0)
		push_len(a, put_iov_data(a, (unsigned long)mh.hdr.msg_iov, mh.hdr.msg_iovlen, mh.len));
	else
		push_empty(a);
	if (ok && s->ret > 0)
		push_socktuple(a, s->a[0], OUTBOUND, (unsigned long)mh.hdr.msg_name);
	else
		push_empty(a);
	ev_submit(a);
	return 0;
}

HANDLER(recvmmsg)
{
	struct aux *a = ev_begin(PPME_SOCKET_RECVMMSG_X, PPME_SOCKET_RECVMMSG_X_NP);
	if (!a)
		return 0;
	struct k_mmsghdr mh = {};
	bool ok = bpf_probe_read_user(&mh, sizeof(mh), (void *)s->a[1]) == 0;
	push_s64(a, s->ret);
	push_fd(a, s->a[0]);
	push_u32(a, ok ? mh.len : 0);
	if (ok && s->ret > 0) {
		push_len(a, put_iov_data(a, (unsigned long)mh.hdr.msg_iov, mh.hdr.msg_iovlen, mh.len));
		push_socktuple(a, s->a[0], INBOUND, (unsigned long)mh.hdr.msg_name);
	} else {
		push_empty(a);
		push_empty(a);
	}
	push_empty(a);
	ev_submit(a);
	return 0;
}
