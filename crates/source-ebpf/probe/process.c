/* Processes: execve/execveat, clone/clone3/fork/vfork, process exit and the
 * scheduler tracepoints that complete them. Included by peregrine.bpf.c.
 *
 * - exec success is reported from sched_process_exec (the new image is in
 *   place there); exec failure from the syscall's exit.
 * - a clone's child event comes from sched_process_fork (fired in the parent
 *   before the child runs, so it precedes every event of the child); the
 *   parent's (and failures) from the syscall's exit. */

#define NR_CLONE 56
#define NR_FORK 57
#define NR_VFORK 58
#define NR_EXECVE 59
#define NR_EXECVEAT 322
#define NR_CLONE3 435

/* The process context params shared by clone and exec events, from `tid`
 * (param 4) through `comm` (param 14). */
static __always_inline void push_proc_common(struct aux *a, struct task_struct *t)
{
	struct mm_struct *mm = BPF_CORE_READ(t, mm);
	push_s64(a, task_tid(t));
	push_s64(a, task_tgid(t));
	push_s64(a, task_ptid(t));
	push_task_cwd(a, t);
	push_u64(a, task_fdlimit(t));
	push_u64(a, BPF_CORE_READ(t, maj_flt));
	push_u64(a, BPF_CORE_READ(t, min_flt));
	push_u32(a, mm_vm_size(mm));
	push_u32(a, mm_vm_rss(mm));
	push_u32(a, mm_vm_swap(mm));
	push_str(a, t->comm, 16, false);
}

/* ------------------------------------------------------------------ exec */

/* Params 15 onwards of an exec exit event. `env` is pushed by the caller
 * between cgroups and tty, so this starts at tty. */
static __always_inline void push_exec_tail(struct aux *a, struct task_struct *t)
{
	struct file *exe = task_exe_file(t);
	struct inode *ino = exe ? BPF_CORE_READ(exe, f_inode) : NULL;
	push_u32(a, task_tty(t));
	push_s64(a, pid_vnr(task_pid_of(t, PIDTYPE_PGID)));
	push_u32(a, task_loginuid(t));
	push_u32(a, exe_flags(scalar_of(t), (u64)exe));
	push_u64(a, task_cap(t, 0));
	push_u64(a, task_cap(t, 1));
	push_u64(a, task_cap(t, 2));
	push_u64(a, ino ? BPF_CORE_READ(ino, i_ino) : 0);
	push_u64(a, inode_time_ns(ino, true));
	push_u64(a, inode_time_ns(ino, false));
	push_u32(a, task_euid(t));
	push_file_path(a, exe);
	push_s64(a, pid_nr(task_pid_of(t, PIDTYPE_PGID)));
	push_u32(a, task_egid(t));
}

/* A failed execve/execveat: the old image is still in place, argv and envp
 * are still readable in user memory. */
static __always_inline int exec_failed(struct sc *s, bool at)
{
	if (s->ret == 0)
		return 0; /* success: sched_process_exec reports it */
	u16 type = at ? PPME_SYSCALL_EXECVEAT_X : PPME_SYSCALL_EXECVE_19_X;
	u32 np = at ? PPME_SYSCALL_EXECVEAT_X_NP : PPME_SYSCALL_EXECVE_19_X_NP;
	struct aux *a = ev_begin(type, np);
	if (!a)
		return 0;
	struct task_struct *t = cur_task();
	unsigned long argv = at ? s->a[2] : s->a[1];
	unsigned long envp = at ? s->a[3] : s->a[2];
	unsigned long argv0 = 0;
	push_s64(a, s->ret);
	bpf_probe_read_user(&argv0, sizeof(argv0), (void *)argv);
	push_str(a, (void *)argv0, MAX_PATH, true);
	push_len(a, put_user_strv(a, argv, 1));
	push_proc_common(a, t);
	push_cgroups(a, t);
	push_len(a, put_user_strv(a, envp, 0));
	push_exec_tail(a, t);
	if (!at)
		push_user_str(a, s->a[0]);
	ev_submit(a);
	return 0;
}

HANDLER(execve)
{
	return exec_failed(s, false);
}

HANDLER(execveat)
{
	return exec_failed(s, true);
}

static __always_inline bool is_kthread(struct task_struct *t)
{
	return (BPF_CORE_READ(t, flags) & K_PF_KTHREAD) != 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	if (cfg_floor || is_self())
		return 0;
	struct task_struct *t = cur_task();
	if (is_kthread(t))
		return 0;
	/* A successful execveat looks like execve here (and to libscap, which
	 * reports it as execve on x86_64 too); the filename tells them apart
	 * ("/dev/fd/N..." for an fd-relative one). */
	if (!interest[NR_EXECVE] && !interest[NR_EXECVEAT])
		return 0;
	struct aux *a = ev_begin(PPME_SYSCALL_EXECVE_19_X, PPME_SYSCALL_EXECVE_19_X_NP);
	if (!a)
		return 0;
	push_s64(a, 0);
	push_exe_args_from_mm(a, t);
	push_proc_common(a, t);
	push_cgroups(a, t);
	push_env_from_mm(a, t);
	push_exec_tail(a, t);
	push_str(a, BPF_CORE_READ(bprm, filename), MAX_PATH, false);
	ev_submit(a);
	return 0;
}

/* ----------------------------------------------------------------- clone */

static __always_inline u32 clone_scap_flags(struct task_struct *t, unsigned long kflags)
{
	u32 f = clone_flags_to_scap(kflags);
	struct pid *p = BPF_CORE_READ(t, thread_pid);
	unsigned int level = BPF_CORE_READ(p, level);
	if (level != 0) {
		f |= P_CLONE_FLAGS_CLONE_CHILD_IN_PIDNS;
	} else {
		struct pid_namespace *ns = BPF_CORE_READ(p, numbers[0].ns);
		if (BPF_CORE_READ(t, nsproxy, pid_ns_for_children) != ns)
			f |= P_CLONE_FLAGS_CLONE_CHILD_IN_PIDNS;
	}
	return f;
}

/* The 21 params of a clone-family exit event, for task `t`. */
static __always_inline void push_clone_event(struct aux *a, struct task_struct *t, long res,
					     unsigned long kflags, bool child)
{
	push_s64(a, res);
	if (res >= 0)
		push_exe_args_from_mm(a, t);
	else {
		push_empty(a);
		push_empty(a);
	}
	push_proc_common(a, t);
	push_cgroups(a, t);
	push_u32(a, clone_scap_flags(t, kflags));
	push_u32(a, task_euid(t));
	push_u32(a, task_egid(t));
	push_s64(a, pid_vnr(task_pid_of(t, PIDTYPE_PID)));
	push_s64(a, pid_vnr(BPF_CORE_READ(t, group_leader, thread_pid)));
	push_u64(a, child ? task_pidns_init_start(t) : 0);
}

static __always_inline int clone_parent(struct sc *s, u16 type, u32 np, unsigned long kflags)
{
	if (s->ret == 0)
		return 0; /* the child: sched_process_fork reports it */
	struct aux *a = ev_begin(type, np);
	if (!a)
		return 0;
	push_clone_event(a, cur_task(), s->ret, kflags, false);
	ev_submit(a);
	return 0;
}

HANDLER(clone)
{
	return clone_parent(s, PPME_SYSCALL_CLONE_20_X, PPME_SYSCALL_CLONE_20_X_NP, s->a[0]);
}

HANDLER(clone3)
{
	u64 kflags = 0;
	bpf_probe_read_user(&kflags, sizeof(kflags), (void *)s->a[0]);
	return clone_parent(s, PPME_SYSCALL_CLONE3_X, PPME_SYSCALL_CLONE3_X_NP, kflags);
}

HANDLER(fork)
{
	return clone_parent(s, PPME_SYSCALL_FORK_20_X, PPME_SYSCALL_FORK_20_X_NP, 0);
}

HANDLER(vfork)
{
	return clone_parent(s, PPME_SYSCALL_VFORK_20_X, PPME_SYSCALL_VFORK_20_X_NP,
			    K_CLONE_VFORK | K_CLONE_VM);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_fork, struct task_struct *parent, struct task_struct *child)
{
	if (cfg_floor || is_self())
		return 0;
	struct task_struct *cur = cur_task();
	if (is_kthread(cur))
		return 0;
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(cur);
	u32 nr = (u32)BPF_CORE_READ(regs, orig_ax);
	unsigned long arg0 = BPF_CORE_READ(regs, di);
	if (nr >= SYSCALL_TABLE || !interest[nr])
		return 0;
	u16 type;
	u32 np;
	unsigned long kflags = 0;
	switch (nr) {
	case NR_CLONE:
		type = PPME_SYSCALL_CLONE_20_X;
		np = PPME_SYSCALL_CLONE_20_X_NP;
		kflags = arg0;
		break;
	case NR_CLONE3:
		type = PPME_SYSCALL_CLONE3_X;
		np = PPME_SYSCALL_CLONE3_X_NP;
		bpf_probe_read_user(&kflags, sizeof(kflags), (void *)arg0);
		break;
	case NR_FORK:
		type = PPME_SYSCALL_FORK_20_X;
		np = PPME_SYSCALL_FORK_20_X_NP;
		break;
	case NR_VFORK:
		type = PPME_SYSCALL_VFORK_20_X;
		np = PPME_SYSCALL_VFORK_20_X_NP;
		kflags = K_CLONE_VFORK | K_CLONE_VM;
		break;
	default:
		return 0;
	}
	struct aux *a = ev_begin(type, np);
	if (!a)
		return 0;
	ev_set_tid(a, BPF_CORE_READ(child, pid));
	push_clone_event(a, child, 0, kflags, true);
	ev_submit(a);
	return 0;
}

/* ------------------------------------------------------------------ exit */

#define MAX_THREAD_SCAN 16

/* Who inherits the children of an exiting thread: a live thread of its
 * group, else the init of its pid namespace; -1 when a subreaper may be
 * involved (user space resolves it), 0 when it has no children. */
__noinline s64 exit_reaper(u64 task)
{
	struct task_struct *t = (struct task_struct *)task;
	if (!t)
		return 0;
	struct list_head *head = &t->children;
	if (BPF_CORE_READ(head, next) == head)
		return 0;
	struct signal_struct *sig = BPF_CORE_READ(t, signal);
	struct list_head *thead = &sig->thread_head;
	struct list_head *next = BPF_CORE_READ(thead, next);
	for (int i = 0; i < MAX_THREAD_SCAN; i++) {
		if (next == thead)
			break;
		struct task_struct *th = container_of(next, struct task_struct, thread_node);
		if (!(BPF_CORE_READ(th, flags) & 0x00000004 /* PF_EXITING */))
			return BPF_CORE_READ(th, pid);
		next = BPF_CORE_READ(th, thread_node.next);
	}
	if (BPF_CORE_READ_BITFIELD_PROBED(sig, has_child_subreaper))
		return -1;
	struct pid *p = BPF_CORE_READ(t, thread_pid);
	unsigned int level = BPF_CORE_READ(p, level);
	struct pid_namespace *ns = BPF_CORE_READ(p, numbers[level & 31].ns);
	struct task_struct *reaper = BPF_CORE_READ(ns, child_reaper);
	if (reaper == t)
		return 0;
	return BPF_CORE_READ(reaper, pid);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_exit, struct task_struct *task)
{
	if (cfg_floor || !want_procexit || is_self())
		return 0;
	struct task_struct *t = cur_task();
	if (is_kthread(t))
		return 0;
	struct aux *a = ev_begin(PPME_PROCEXIT_1_E, PPME_PROCEXIT_1_E_NP);
	if (!a)
		return 0;
	s32 code = BPF_CORE_READ(t, exit_code);
	u8 sig = 0;
	if ((code & 0x7f) != 0 && (code & 0x7f) != 0x7f)
		sig = code & 0x7f;
	push_s64(a, code);
	push_s64(a, (code >> 8) & 0xff);
	push_u8(a, sig);
	push_u8(a, (code & 0x80) ? 1 : 0);
	push_s64(a, exit_reaper(scalar_of(t)));
	ev_submit(a);
	return 0;
}
