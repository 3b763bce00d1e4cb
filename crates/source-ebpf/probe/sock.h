/* Sockets: the socket behind an fd, sockaddrs from user memory and
 * connection tuples from the kernel socket, as libscap encodes them. */
#pragma once

/* ------------------------------------------------------------- sockets */

static __always_inline struct socket *file_socket(struct file *f)
{
	if (!f)
		return NULL;
	struct inode *i = BPF_CORE_READ(f, f_inode);
	umode_t mode = BPF_CORE_READ(i, i_mode);
	if ((mode & K_S_IFMT) != K_S_IFSOCK)
		return NULL;
	return (struct socket *)BPF_CORE_READ(f, private_data);
}

static __always_inline struct sock *fd_sock(long fd)
{
	struct socket *s = file_socket(fd_file(fd));
	if (!s)
		return NULL;
	return BPF_CORE_READ(s, sk);
}

static __always_inline u16 ntohs16(u16 v)
{
	return (v >> 8) | (v << 8);
}

/* A sockaddr from user memory, as libscap encodes it. */
__noinline u32 put_user_sockaddr(struct aux *a, unsigned long uaddr, u32 alen)
{
	if (!a || !uaddr || alen < 2)
		return 0;
	u16 family = 0;
	if (bpf_probe_read_user(&family, 2, (void *)uaddr))
		return 0;
	if (family == K_AF_INET && alen >= 8) {
		struct sockaddr_in in = {};
		bpf_probe_read_user(&in, sizeof(in), (void *)uaddr);
		put_byte(a, P_SOCKET_FAMILIES_AF_INET);
		u32 p = a->pos;
		if (p > EV_MAX - 6)
			return 1;
		*(u32 *)&a->data[EV_BASE + (p & EV_MASK)] = in.sin_addr.s_addr;
		*(u16 *)&a->data[EV_BASE + ((p + 4) & EV_MASK)] = ntohs16(in.sin_port);
		a->pos = p + 6;
		return 7;
	}
	if (family == K_AF_INET6 && alen >= 24) {
		struct sockaddr_in6 in6 = {};
		bpf_probe_read_user(&in6, sizeof(in6), (void *)uaddr);
		put_byte(a, P_SOCKET_FAMILIES_AF_INET6);
		u32 p = a->pos;
		if (p > EV_MAX - 18)
			return 1;
		__builtin_memcpy(&a->data[EV_BASE + (p & EV_MASK)], &in6.sin6_addr, 16);
		*(u16 *)&a->data[EV_BASE + ((p + 16) & EV_MASK)] = ntohs16(in6.sin6_port);
		a->pos = p + 18;
		return 19;
	}
	if (family == K_AF_UNIX) {
		char first = 0;
		unsigned long path = uaddr + 2;
		bpf_probe_read_user(&first, 1, (void *)path);
		if (first == 0)
			path++; /* abstract socket */
		put_byte(a, P_SOCKET_FAMILIES_AF_UNIX);
		u32 n = put_str(a, (void *)path, K_UNIX_PATH_MAX, true);
		if (n == 0)
			n = put_byte(a, 0);
		return 1 + n;
	}
	return 0;
}

static __always_inline void push_user_sockaddr(struct aux *a, unsigned long uaddr, u32 alen)
{
	push_len(a, put_user_sockaddr(a, uaddr, alen));
}

static __always_inline void put_u32_at(struct aux *a, u32 v)
{
	u32 p = a->pos;
	if (p > EV_MAX - 4)
		return;
	*(u32 *)&a->data[EV_BASE + (p & EV_MASK)] = v;
	a->pos = p + 4;
}

static __always_inline void put_u16_at(struct aux *a, u16 v)
{
	u32 p = a->pos;
	if (p > EV_MAX - 2)
		return;
	*(u16 *)&a->data[EV_BASE + (p & EV_MASK)] = v;
	a->pos = p + 2;
}

static __always_inline void put_u64_at(struct aux *a, u64 v)
{
	u32 p = a->pos;
	if (p > EV_MAX - 8)
		return;
	*(u64 *)&a->data[EV_BASE + (p & EV_MASK)] = v;
	a->pos = p + 8;
}

static __always_inline void put_16_at(struct aux *a, const void *src)
{
	u32 p = a->pos;
	if (p > EV_MAX - 16)
		return;
	bpf_probe_read_kernel(&a->data[EV_BASE + (p & EV_MASK)], 16, src);
	a->pos = p + 16;
}

/* The connection tuple of socket `fd`, read from the kernel socket. `outbound`
 * puts the local end first. `uaddr` (user sockaddr) fills in the remote end
 * when the socket has none (unconnected UDP sendto). */
__noinline u32 put_socktuple(struct aux *a, long fd, int outbound, unsigned long uaddr)
{
	if (!a)
		return 0;
	struct sock *sk = fd_sock(fd);
	if (!sk)
		return 0;
	u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	u32 start = a->pos;
	if (family == K_AF_INET) {
		struct inet_sock *inet = (struct inet_sock *)sk;
		u32 lip = BPF_CORE_READ(inet, inet_saddr);
		u16 lport = ntohs16(BPF_CORE_READ(inet, inet_sport));
		u32 rip = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		u16 rport = ntohs16(BPF_CORE_READ(sk, __sk_common.skc_dport));
		if (rport == 0 && uaddr) {
			struct sockaddr_in in = {};
			bpf_probe_read_user(&in, sizeof(in), (void *)uaddr);
			if (in.sin_family == K_AF_INET) {
				rip = in.sin_addr.s_addr;
				rport = ntohs16(in.sin_port);
			}
		}
		if (lip == 0)
			lip = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		put_byte(a, P_SOCKET_FAMILIES_AF_INET);
		if (outbound) {
			put_u32_at(a, lip);
			put_u16_at(a, lport);
			put_u32_at(a, rip);
			put_u16_at(a, rport);
		} else {
			put_u32_at(a, rip);
			put_u16_at(a, rport);
			put_u32_at(a, lip);
			put_u16_at(a, lport);
		}
		return a->pos - start;
	}
	if (family == K_AF_INET6) {
		struct inet_sock *inet = (struct inet_sock *)sk;
		struct in6_addr lip = BPF_CORE_READ(sk, __sk_common.skc_v6_rcv_saddr);
		struct in6_addr rip = BPF_CORE_READ(sk, __sk_common.skc_v6_daddr);
		u16 lport = ntohs16(BPF_CORE_READ(inet, inet_sport));
		u16 rport = ntohs16(BPF_CORE_READ(sk, __sk_common.skc_dport));
		if (rport == 0 && uaddr) {
			struct sockaddr_in6 in6 = {};
			bpf_probe_read_user(&in6, sizeof(in6), (void *)uaddr);
			if (in6.sin6_family == K_AF_INET6) {
				rip = in6.sin6_addr;
				rport = ntohs16(in6.sin6_port);
			}
		}
		put_byte(a, P_SOCKET_FAMILIES_AF_INET6);
		if (outbound) {
			put_16_at(a, &lip);
			put_u16_at(a, lport);
			put_16_at(a, &rip);
			put_u16_at(a, rport);
		} else {
			put_16_at(a, &rip);
			put_u16_at(a, rport);
			put_16_at(a, &lip);
			put_u16_at(a, lport);
		}
		return a->pos - start;
	}
	if (family == K_AF_UNIX) {
		struct unix_sock *local = (struct unix_sock *)sk;
		struct unix_sock *peer = (struct unix_sock *)BPF_CORE_READ(local, peer);
		const char *path = NULL;
		char upath[K_UNIX_PATH_MAX] = {};
		put_byte(a, P_SOCKET_FAMILIES_AF_UNIX);
		if (outbound) {
			put_u64_at(a, (u64)peer);
			put_u64_at(a, (u64)local);
			if (!peer && uaddr) {
				bpf_probe_read_user(upath, sizeof(upath), (void *)(uaddr + 2));
				path = upath;
			} else if (peer) {
				struct unix_address *ua = BPF_CORE_READ(peer, addr);
				if (ua)
					path = (const char *)&ua->name[0].sun_path;
			}
		} else {
			put_u64_at(a, (u64)local);
			put_u64_at(a, (u64)peer);
			struct unix_address *ua = BPF_CORE_READ(local, addr);
			if (ua)
				path = (const char *)&ua->name[0].sun_path;
		}
		u32 n = 0;
		if (path) {
			char c = 0;
			bpf_probe_read_kernel(&c, 1, path);
			if (c == 0)
				path++; /* abstract */
			n = put_str(a, path, K_UNIX_PATH_MAX, false);
		}
		if (n == 0)
			put_byte(a, 0);
		return a->pos - start;
	}
	return 0;
}

static __always_inline void push_socktuple(struct aux *a, long fd, int outbound,
					   unsigned long uaddr)
{
	push_len(a, put_socktuple(a, fd, outbound, uaddr));
}
