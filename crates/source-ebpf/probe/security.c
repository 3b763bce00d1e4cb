/* Identity and privilege (set*id, setsid, capset, prctl), signals, ptrace,
 * bpf, kernel modules, memory mapping, io_uring, namespaces, seccomp, rlimits.
 * Included by peregrine.bpf.c. */

static __always_inline int res_ids(struct sc *s, u16 type, u32 np, int n)
{
	struct aux *a = ev_begin(type, np);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	if (n > 0)
		push_u32(a, (u32)s->a[0]);
	if (n > 1)
		push_u32(a, (u32)s->a[1]);
	if (n > 2)
		push_u32(a, (u32)s->a[2]);
	ev_submit(a);
	return 0;
}

HANDLER(setuid)
{
	return res_ids(s, PPME_SYSCALL_SETUID_X, PPME_SYSCALL_SETUID_X_NP, 1);
}

HANDLER(setgid)
{
	return res_ids(s, PPME_SYSCALL_SETGID_X, PPME_SYSCALL_SETGID_X_NP, 1);
}

HANDLER(setreuid)
{
	return res_ids(s, PPME_SYSCALL_SETREUID_X, PPME_SYSCALL_SETREUID_X_NP, 2);
}

HANDLER(setregid)
{
	return res_ids(s, PPME_SYSCALL_SETREGID_X, PPME_SYSCALL_SETREGID_X_NP, 2);
}

HANDLER(setresuid)
{
	return res_ids(s, PPME_SYSCALL_SETRESUID_X, PPME_SYSCALL_SETRESUID_X_NP, 3);
}

HANDLER(setresgid)
{
	return res_ids(s, PPME_SYSCALL_SETRESGID_X, PPME_SYSCALL_SETRESGID_X_NP, 3);
}

HANDLER(setsid)
{
	struct aux *a = ev_begin(PPME_SYSCALL_SETSID_X, PPME_SYSCALL_SETSID_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	ev_submit(a);
	return 0;
}

HANDLER(setpgid)
{
	struct aux *a = ev_begin(PPME_SYSCALL_SETPGID_X, PPME_SYSCALL_SETPGID_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_s64(a, (s32)s->a[0]);
	push_s64(a, (s32)s->a[1]);
	ev_submit(a);
	return 0;
}

HANDLER(capset)
{
	struct aux *a = ev_begin(PPME_SYSCALL_CAPSET_X, PPME_SYSCALL_CAPSET_X_NP);
	if (!a)
		return 0;
	struct task_struct *t = cur_task();
	push_s64(a, s->ret);
	push_u64(a, task_cap(t, 0));
	push_u64(a, task_cap(t, 1));
	push_u64(a, task_cap(t, 2));
	ev_submit(a);
	return 0;
}

HANDLER(prctl)
{
	struct aux *a = ev_begin(PPME_SYSCALL_PRCTL_X, PPME_SYSCALL_PRCTL_X_NP);
	if (!a)
		return 0;
	u32 option = (u32)s->a[0];
	unsigned long arg2 = s->a[1];
	push_s64(a, s->ret);
	push_u32(a, option); /* PR_* share scap's numbers */
	if (option == K_PR_SET_NAME || option == K_PR_GET_NAME) {
		push_str(a, (void *)arg2, 16, true);
		push_s64(a, 0);
	} else if (option == K_PR_GET_CHILD_SUBREAPER) {
		int v = 0;
		bpf_probe_read_user(&v, sizeof(v), (void *)arg2);
		push_empty(a);
		push_s64(a, v);
	} else {
		push_empty(a);
		push_s64(a, (s64)arg2);
	}
	ev_submit(a);
	return 0;
}

/* A PT_DYN ptrace param: index 0 = u64, 1 = signal number. */
static __always_inline void push_ptrace_dyn(struct aux *a, u8 idx, u64 v)
{
	u32 p = a->pos;
	if (p > EV_MAX - 9) {
		push_empty(a);
		return;
	}
	a->data[EV_BASE + (p & EV_MASK)] = idx;
	if (idx == 1) {
		a->data[EV_BASE + ((p + 1) & EV_MASK)] = (u8)v;
		a->pos = p + 2;
		push_len(a, 2);
	} else {
		*(u64 *)&a->data[EV_BASE + ((p + 1) & EV_MASK)] = v;
		a->pos = p + 9;
		push_len(a, 9);
	}
}

HANDLER(ptrace)
{
	struct aux *a = ev_begin(PPME_SYSCALL_PTRACE_X, PPME_SYSCALL_PTRACE_X_NP);
	if (!a)
		return 0;
	unsigned long req = s->a[0];
	push_s64(a, s->ret);
	push_ptrace_dyn(a, 0, s->a[2]);
	if (req == K_PTRACE_PEEKTEXT || req == K_PTRACE_PEEKDATA || req == K_PTRACE_PEEKUSR) {
		u64 v = 0;
		if (s->ret >= 0)
			bpf_probe_read_user(&v, sizeof(v), (void *)s->a[3]);
		push_ptrace_dyn(a, 0, v);
	} else if (req == K_PTRACE_CONT || req == K_PTRACE_SINGLESTEP || req == 17 /* DETACH */ ||
		   req == K_PTRACE_SYSCALL) {
		push_ptrace_dyn(a, 1, s->a[3]);
	} else {
		push_ptrace_dyn(a, 0, s->a[3]);
	}
	push_u16(a, ptrace_req_to_scap(req));
	push_s64(a, (s32)s->a[1]);
	ev_submit(a);
	return 0;
}

HANDLER(kill)
{
	struct aux *a = ev_begin(PPME_SYSCALL_KILL_X, PPME_SYSCALL_KILL_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_s64(a, (s32)s->a[0]);
	push_u8(a, (u8)s->a[1]);
	ev_submit(a);
	return 0;
}

HANDLER(tkill)
{
	struct aux *a = ev_begin(PPME_SYSCALL_TKILL_X, PPME_SYSCALL_TKILL_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_s64(a, (s32)s->a[0]);
	push_u8(a, (u8)s->a[1]);
	ev_submit(a);
	return 0;
}

HANDLER(tgkill)
{
	struct aux *a = ev_begin(PPME_SYSCALL_TGKILL_X, PPME_SYSCALL_TGKILL_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_s64(a, (s32)s->a[0]);
	push_s64(a, (s32)s->a[1]);
	push_u8(a, (u8)s->a[2]);
	ev_submit(a);
	return 0;
}

HANDLER(bpf)
{
	struct aux *a = ev_begin(PPME_SYSCALL_BPF_2_X, PPME_SYSCALL_BPF_2_X_NP);
	if (!a)
		return 0;
	push_fd(a, s->ret);
	push_u32(a, (u32)s->a[0]); /* BPF_* commands share scap's numbers */
	ev_submit(a);
	return 0;
}

HANDLER(init_module)
{
	struct aux *a = ev_begin(PPME_SYSCALL_INIT_MODULE_X, PPME_SYSCALL_INIT_MODULE_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_data(a, s->a[0], (long)s->a[1]);
	push_u64(a, s->a[1]);
	push_str(a, (void *)s->a[2], MAX_PATH, true);
	ev_submit(a);
	return 0;
}

HANDLER(finit_module)
{
	struct aux *a = ev_begin(PPME_SYSCALL_FINIT_MODULE_X, PPME_SYSCALL_FINIT_MODULE_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_fd(a, s->a[0]);
	push_str(a, (void *)s->a[1], MAX_PATH, true);
	push_u32(a, (u32)s->a[2] & 7);
	ev_submit(a);
	return 0;
}

HANDLER(delete_module)
{
	struct aux *a = ev_begin(PPME_SYSCALL_DELETE_MODULE_X, PPME_SYSCALL_DELETE_MODULE_X_NP);
	if (!a)
		return 0;
	unsigned long kf = s->a[1];
	push_s64(a, s->ret);
	push_str(a, (void *)s->a[0], 64, true);
	push_u32(a, MAP_BIT(kf, K_O_NONBLOCK, P_DELETE_MODULE_FLAGS_O_NONBLOCK) |
			    MAP_BIT(kf, K_O_TRUNC, P_DELETE_MODULE_FLAGS_O_TRUNC));
	ev_submit(a);
	return 0;
}

static __always_inline void push_vm_sizes(struct aux *a)
{
	struct mm_struct *mm = BPF_CORE_READ(cur_task(), mm);
	push_u32(a, mm_vm_size(mm));
	push_u32(a, mm_vm_rss(mm));
	push_u32(a, mm_vm_swap(mm));
}

HANDLER(mmap)
{
	struct aux *a = ev_begin(PPME_SYSCALL_MMAP_X, PPME_SYSCALL_MMAP_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_vm_sizes(a);
	push_u64(a, s->a[0]);
	push_u64(a, s->a[1]);
	push_u32(a, prot_flags_to_scap(s->a[2]));
	push_u32(a, mmap_flags_to_scap(s->a[3]));
	push_fd(a, s->a[4]);
	push_u64(a, s->a[5]);
	ev_submit(a);
	return 0;
}

HANDLER(munmap)
{
	struct aux *a = ev_begin(PPME_SYSCALL_MUNMAP_X, PPME_SYSCALL_MUNMAP_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_vm_sizes(a);
	push_u64(a, s->a[0]);
	push_u64(a, s->a[1]);
	ev_submit(a);
	return 0;
}

HANDLER(brk)
{
	struct aux *a = ev_begin(PPME_SYSCALL_BRK_4_X, PPME_SYSCALL_BRK_4_X_NP);
	if (!a)
		return 0;
	push_u64(a, (u64)s->ret);
	push_vm_sizes(a);
	push_u64(a, s->a[0]);
	ev_submit(a);
	return 0;
}

HANDLER(mprotect)
{
	struct aux *a = ev_begin(PPME_SYSCALL_MPROTECT_X, PPME_SYSCALL_MPROTECT_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_u64(a, s->a[0]);
	push_u64(a, s->a[1]);
	push_u32(a, prot_flags_to_scap(s->a[2]));
	ev_submit(a);
	return 0;
}

HANDLER(io_uring_setup)
{
	struct aux *a = ev_begin(PPME_SYSCALL_IO_URING_SETUP_X, PPME_SYSCALL_IO_URING_SETUP_X_NP);
	if (!a)
		return 0;
	struct io_uring_params p = {};
	bpf_probe_read_user(&p, sizeof(p), (void *)s->a[1]);
	push_s64(a, s->ret);
	push_u32(a, (u32)s->a[0]);
	push_u32(a, p.sq_entries);
	push_u32(a, p.cq_entries);
	push_u32(a, io_uring_setup_flags_to_scap(p.flags));
	push_u32(a, p.sq_thread_cpu);
	push_u32(a, p.sq_thread_idle);
	push_u32(a, p.features & 0x7ff); /* IORING_FEAT_* share scap's bits */
	ev_submit(a);
	return 0;
}

HANDLER(io_uring_enter)
{
	struct aux *a = ev_begin(PPME_SYSCALL_IO_URING_ENTER_X, PPME_SYSCALL_IO_URING_ENTER_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_fd(a, s->a[0]);
	push_u32(a, (u32)s->a[1]);
	push_u32(a, (u32)s->a[2]);
	push_u32(a, (u32)s->a[3] & 0xf);
	push_u32(a, (u32)s->a[4]);
	ev_submit(a);
	return 0;
}

HANDLER(io_uring_register)
{
	struct aux *a =
		ev_begin(PPME_SYSCALL_IO_URING_REGISTER_X, PPME_SYSCALL_IO_URING_REGISTER_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_fd(a, s->a[0]);
	push_u16(a, (u16)s->a[1]);
	push_u64(a, s->a[2]);
	push_u32(a, (u32)s->a[3]);
	ev_submit(a);
	return 0;
}

HANDLER(unshare)
{
	struct aux *a = ev_begin(PPME_SYSCALL_UNSHARE_X, PPME_SYSCALL_UNSHARE_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_u32(a, clone_flags_to_scap(s->a[0]));
	ev_submit(a);
	return 0;
}

HANDLER(setns)
{
	struct aux *a = ev_begin(PPME_SYSCALL_SETNS_X, PPME_SYSCALL_SETNS_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_fd(a, s->a[0]);
	push_u32(a, clone_flags_to_scap(s->a[1]));
	ev_submit(a);
	return 0;
}

HANDLER(seccomp)
{
	struct aux *a = ev_begin(PPME_SYSCALL_SECCOMP_X, PPME_SYSCALL_SECCOMP_X_NP);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_u64(a, s->a[0]);
	push_u64(a, s->a[1]);
	ev_submit(a);
	return 0;
}

static __always_inline int process_vm(struct sc *s, u16 type, u32 np)
{
	struct aux *a = ev_begin(type, np);
	if (!a)
		return 0;
	push_s64(a, s->ret);
	push_s64(a, (s32)s->a[0]);
	if (s->ret > 0)
		push_len(a, put_iov_data(a, s->a[1], s->a[2], s->ret));
	else
		push_empty(a);
	ev_submit(a);
	return 0;
}

HANDLER(process_vm_readv)
{
	return process_vm(s, PPME_SYSCALL_PROCESS_VM_READV_X, PPME_SYSCALL_PROCESS_VM_READV_X_NP);
}

HANDLER(process_vm_writev)
{
	return process_vm(s, PPME_SYSCALL_PROCESS_VM_WRITEV_X, PPME_SYSCALL_PROCESS_VM_WRITEV_X_NP);
}

static __always_inline u8 rlimit_res(unsigned long r)
{
	return r <= 15 ? (u8)r : 0xff; /* RLIMIT_* share scap's numbers */
}

HANDLER(setrlimit)
{
	struct aux *a = ev_begin(PPME_SYSCALL_SETRLIMIT_X, PPME_SYSCALL_SETRLIMIT_X_NP);
	if (!a)
		return 0;
	s64 lim[2] = {-1, -1};
	bpf_probe_read_user(lim, sizeof(lim), (void *)s->a[1]);
	push_s64(a, s->ret);
	push_s64(a, lim[0]);
	push_s64(a, lim[1]);
	push_u8(a, rlimit_res(s->a[0]));
	ev_submit(a);
	return 0;
}

HANDLER(getrlimit)
{
	struct aux *a = ev_begin(PPME_SYSCALL_GETRLIMIT_X, PPME_SYSCALL_GETRLIMIT_X_NP);
	if (!a)
		return 0;
	s64 lim[2] = {-1, -1};
	if (s->ret >= 0)
		bpf_probe_read_user(lim, sizeof(lim), (void *)s->a[1]);
	push_s64(a, s->ret);
	push_s64(a, lim[0]);
	push_s64(a, lim[1]);
	push_u8(a, rlimit_res(s->a[0]));
	ev_submit(a);
	return 0;
}

HANDLER(prlimit64)
{
	struct aux *a = ev_begin(PPME_SYSCALL_PRLIMIT_X, PPME_SYSCALL_PRLIMIT_X_NP);
	if (!a)
		return 0;
	s64 nl[2] = {-1, -1};
	s64 ol[2] = {-1, -1};
	if (s->a[2])
		bpf_probe_read_user(nl, sizeof(nl), (void *)s->a[2]);
	if (s->a[3] && s->ret >= 0)
		bpf_probe_read_user(ol, sizeof(ol), (void *)s->a[3]);
	push_s64(a, s->ret);
	push_s64(a, nl[0]);
	push_s64(a, nl[1]);
	push_s64(a, ol[0]);
	push_s64(a, ol[1]);
	push_s64(a, (s32)s->a[0]);
	push_u8(a, rlimit_res(s->a[1]));
	ev_submit(a);
	return 0;
}

/* Syscalls without an event of their own: PPME_GENERIC_X with the PPM_SC
 * code. One program serves all of them. */
HANDLER(generic)
{
	struct aux *a = ev_begin(PPME_GENERIC_X, PPME_GENERIC_X_NP);
	if (!a)
		return 0;
	u32 nr = s->nr;
	u32 idx = nr;
	barrier_var(idx);
	idx &= SYSCALL_TABLE - 1;
	push_u16(a, nr < SYSCALL_TABLE ? ppm_sc_of[idx] : 0);
	push_u16(a, (u16)nr);
	ev_submit(a);
	return 0;
}
