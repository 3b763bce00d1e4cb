/* Peregrine's CO-RE probe. One translation unit: the syscall families live
 * in their own files (file.c, process.c, ...) and are included here, so all
 * programs share one set of maps.
 *
 * Every handler `h_<name>` is reachable two ways (the loader picks one):
 *   A. `t_<name>`: tail-called from the `sys_exit` BTF tracepoint dispatcher,
 *      which filters by syscall number and pid first;
 *   B. `x_<name>`: on the syscall's own exit tracepoint
 *      (syscalls/sys_exit_<name>), attached only for wanted syscalls.
 * (fentry/fexit would let B skip the tracing slow path entirely, but this
 * kernel refuses them and has no kprobes; see ARCHITECTURE.md.) */

#include "probe.h"
#include "extract.h"

#define HANDLER(name) static __always_inline int h_##name(void *ctx, struct sc *s)

#include "file.c"
#include "process.c"
#include "fs.c"
#include "net.c"
#include "ipc.c"
#include "security.c"

/* Context of a syscalls/sys_exit_* tracepoint. */
struct sys_exit_tp {
	u64 common;
	s32 nr;
	s32 pad;
	s64 ret;
};

static __always_inline void sc_load_current(struct sc *s, long ret)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(cur_task());
	sc_load(s, regs, ret);
}

#define ENTRY_AS(name, kname)                                                        \
	SEC("tp_btf/sys_exit")                                                       \
	int BPF_PROG(t_##name, struct pt_regs *regs, long ret)                       \
	{                                                                            \
		struct sc s;                                                         \
		sc_load(&s, regs, ret);                                              \
		return h_##name(ctx, &s);                                            \
	}                                                                            \
	SEC("tracepoint/syscalls/sys_exit_" #kname)                                  \
	int x_##name(struct sys_exit_tp *tp)                                         \
	{                                                                            \
		if (cfg_floor || is_self() || (cfg_drop_failed && tp->ret < 0))     \
			return 0;                                                    \
		struct sc s;                                                         \
		sc_load_current(&s, tp->ret);                                        \
		return h_##name(tp, &s);                                             \
	}

#define ENTRY(name) ENTRY_AS(name, name)

/* Design A's dispatcher. */
SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	if (cfg_floor)
		return 0;
	u32 nr = (u32)regs->orig_ax;
	if (nr >= SYSCALL_TABLE || !interest[nr])
		return 0;
	if (cfg_drop_failed && ret < 0)
		return 0;
	if (is_self())
		return 0;
	if (cur_task()->thread_info.status & K_TS_COMPAT)
		return 0; /* 32-bit syscall numbers differ; not supported */
	bpf_tail_call(ctx, &exit_progs, nr);
	return 0;
}

#include "entries.h"

/* Design A's generic events: the dispatcher's target for wanted syscalls
 * without a handler. */
SEC("tp_btf/sys_exit")
int BPF_PROG(t_generic, struct pt_regs *regs, long ret)
{
	struct sc s;
	sc_load(&s, regs, ret);
	return h_generic(ctx, &s);
}

/* Design B's generic events: one program attached to the exit tracepoint
 * of each wanted syscall without a handler. */
SEC("tracepoint/syscalls/sys_exit_getpid")
int x_generic(struct sys_exit_tp *tp)
{
	if (cfg_floor || is_self() || (cfg_drop_failed && tp->ret < 0))
		return 0;
	struct sc s;
	sc_load_current(&s, tp->ret);
	s.nr = (u32)tp->nr;
	return h_generic(tp, &s);
}
