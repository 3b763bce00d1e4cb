/* Peregrine probe core: configuration, maps, and the writer that builds one
 * event in libscap's layout in a per-CPU scratch area, then copies it into
 * the ring buffer.
 *
 *   u64 ts | u64 tid | u32 len | u16 type | u32 nparams | u16 lens[n] | params
 *
 * Positions are kept relative to EV_BASE and masked with EV_MAX - 1 so the
 * verifier can bound every store; writes that would cross EV_MAX are turned
 * into empty params instead. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "scap_events.h"
#include "kernel_defs.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define HDR_LEN 26
/* Bytes before the event: the CPU number in shared-ring mode. */
#define EV_BASE 8
#define EV_MAX (64 * 1024)
#define EV_MASK (EV_MAX - 1)
/* Largest single param write (args, env, data). */
#define CHUNK_MAX (16 * 1024)
#define CHUNK_MASK (CHUNK_MAX - 1)
#define AUX_DATA (EV_BASE + EV_MAX + CHUNK_MAX)
/* Scratch for paths built backwards. */
#define TMP_SIZE 4096
#define TMP_MASK (TMP_SIZE - 1)
#define NAME_CHUNK 256
#define MAX_PATH 4096
#define MAX_ARGS_LEN 4096
#define MAX_ARGV 64
#define SYSCALL_TABLE 512

/* ---------------------------------------------------------------- config */

/* Fixed at load time: user space fills .rodata before load (the layout is
 * mirrored by `RoConfig` in src/loader.rs). */
struct config {
	u64 boot_ns;        /* epoch ns at boot: ts = boot-clock ns + boot_ns */
	u64 rb_flags;       /* bpf_ringbuf_output flags (0: adaptive wakeup) */
	u32 own_tgid;       /* our process: its events are dropped here */
	u32 snaplen;        /* bytes of I/O data captured */
	u8 shared_ring;     /* one ring for all CPUs, events prefixed by CPU */
	u8 floor;           /* benchmark floor: every program returns at once */
	u8 drop_failed;     /* drop exits of failed syscalls (drop_failed_exit) */
	u8 pad[5];
};

const volatile struct config cfg = {.snaplen = 80};

#define cfg_own_tgid (cfg.own_tgid)
#define cfg_boot_ns (cfg.boot_ns)
#define cfg_snaplen (cfg.snaplen)
#define cfg_shared_ring (cfg.shared_ring)
#define cfg_floor (cfg.floor)
#define cfg_drop_failed (cfg.drop_failed)
#define cfg_rb_flags (cfg.rb_flags)

/* Changeable at run time (user space rewrites .bss; mirrored by `Runtime`
 * in src/loader.rs). */
struct runtime {
	u8 interest[SYSCALL_TABLE]; /* by native syscall number: 1 = emit */
	u16 ppm_sc_of[SYSCALL_TABLE]; /* PPM_SC code, for generic events */
	u8 want_procexit;
	u8 pad[7];
};

struct runtime rt;

#define interest (rt.interest)
#define ppm_sc_of (rt.ppm_sc_of)
#define want_procexit (rt.want_procexit)

/* ------------------------------------------------------------------ maps */

struct aux {
	u8 data[AUX_DATA];
	u8 tmp[TMP_SIZE + NAME_CHUNK];
	u32 pos;  /* next payload byte, relative to EV_BASE */
	u32 lens; /* next length slot, relative to EV_BASE */
	u32 nparams;
	u32 pushed;
	/* Set while an event is being built. A program that finds it set was
	 * preempted into (PREEMPT kernels) and drops its event rather than
	 * corrupt the other. */
	u32 busy;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* resized to the number of possible CPUs */
	__type(key, u32);
	__type(value, struct aux);
} auxs SEC(".maps");

struct stats {
	u64 n_evts;
	u64 n_drops_buffer;
	u64 n_drops_max_event_size;
	u64 n_drops_scratch;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct stats);
} stats SEC(".maps");

/* Inner map type of `ringbufs`; user space creates one ring per CPU. */
struct ringbuf_map {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1); /* resized to the number of possible CPUs */
	__type(key, u32);
	__array(values, struct ringbuf_map);
} ringbufs SEC(".maps");

/* Design A: per-syscall handlers reached by tail call from sys_exit. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, SYSCALL_TABLE);
	__type(key, u32);
	__type(value, u32);
} exit_progs SEC(".maps");

/* --------------------------------------------------------------- helpers */

static __always_inline struct stats *stats_get(void)
{
	u32 zero = 0;
	return bpf_map_lookup_elem(&stats, &zero);
}

static __always_inline bool is_self(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == cfg_own_tgid;
}

static __always_inline u64 now_ns(void)
{
	return bpf_ktime_get_boot_ns() + cfg_boot_ns;
}

/* Starts an event of `type` with `np` params. The tid is the current
 * thread's unless the caller overrides it. */
static __always_inline struct aux *ev_begin(u16 type, u32 np)
{
	u32 cpu = bpf_get_smp_processor_id();
	struct aux *a = bpf_map_lookup_elem(&auxs, &cpu);
	if (!a)
		return NULL;
	if (a->busy) {
		struct stats *st = stats_get();
		if (st) {
			st->n_evts++;
			st->n_drops_scratch++;
		}
		return NULL;
	}
	a->busy = 1;
	*(u64 *)&a->data[EV_BASE + 0] = now_ns();
	*(u64 *)&a->data[EV_BASE + 8] = bpf_get_current_pid_tgid() & 0xffffffff;
	*(u16 *)&a->data[EV_BASE + 20] = type;
	*(u32 *)&a->data[EV_BASE + 22] = np;
	a->lens = HDR_LEN;
	a->pos = HDR_LEN + np * 2;
	a->nparams = np;
	a->pushed = 0;
	return a;
}

static __always_inline void ev_set_tid(struct aux *a, u64 tid)
{
	*(u64 *)&a->data[EV_BASE + 8] = tid;
}

static __always_inline void push_len(struct aux *a, u16 len)
{
	u32 l = a->lens;
	*(u16 *)&a->data[EV_BASE + (l & EV_MASK)] = len;
	a->lens = l + 2;
	a->pushed += 1;
}

static __always_inline void push_empty(struct aux *a)
{
	push_len(a, 0);
}

#define PUSH_FIXED(fn, type)                                              \
	static __always_inline void fn(struct aux *a, type v)            \
	{                                                                 \
		u32 p = a->pos;                                           \
		if (p > EV_MAX - sizeof(type)) {                          \
			push_empty(a);                                    \
			return;                                           \
		}                                                         \
		*(type *)&a->data[EV_BASE + (p & EV_MASK)] = v;           \
		a->pos = p + sizeof(type);                                \
		push_len(a, sizeof(type));                                \
	}

PUSH_FIXED(push_u8, u8)
PUSH_FIXED(push_u16, u16)
PUSH_FIXED(push_u32, u32)
PUSH_FIXED(push_u64, u64)
PUSH_FIXED(push_s64, s64)
PUSH_FIXED(push_s32, s32)

/* Appends raw bytes to the current param without closing it. */
static __always_inline u32 put_raw(struct aux *a, const void *src, u32 n, bool user)
{
	u32 p = a->pos;
	if (n > CHUNK_MAX || p > EV_MAX - CHUNK_MAX)
		return 0;
	long err = user ? bpf_probe_read_user(&a->data[EV_BASE + (p & EV_MASK)], n, src)
			: bpf_probe_read_kernel(&a->data[EV_BASE + (p & EV_MASK)], n, src);
	if (err)
		return 0;
	a->pos = p + n;
	return n;
}

static __always_inline u32 put_byte(struct aux *a, u8 c)
{
	u32 p = a->pos;
	if (p >= EV_MAX)
		return 0;
	a->data[EV_BASE + (p & EV_MASK)] = c;
	a->pos = p + 1;
	return 1;
}

/* Appends a NUL-terminated string (terminator included); 0 if unreadable. */
static __always_inline u32 put_str(struct aux *a, const void *src, u32 max, bool user)
{
	u32 p = a->pos;
	if (!src || p > EV_MAX - CHUNK_MAX)
		return 0;
	if (max > CHUNK_MAX)
		max = CHUNK_MAX;
	long n = user ? bpf_probe_read_user_str(&a->data[EV_BASE + (p & EV_MASK)], max, src)
		      : bpf_probe_read_kernel_str(&a->data[EV_BASE + (p & EV_MASK)], max, src);
	if (n <= 0)
		return 0;
	a->pos = p + (u32)n;
	return (u32)n;
}

static __always_inline void push_str(struct aux *a, const void *src, u32 max, bool user)
{
	push_len(a, put_str(a, src, max, user));
}

static __always_inline void push_user_str(struct aux *a, unsigned long uptr)
{
	push_str(a, (const void *)uptr, MAX_PATH, true);
}

static __always_inline void push_bytes(struct aux *a, const void *src, u32 n, bool user)
{
	if (n == 0 || !src) {
		push_empty(a);
		return;
	}
	push_len(a, put_raw(a, src, n, user));
}

/* An fd param: the kernel passes ints; scap stores i64 (AT_FDCWD as -100). */
static __always_inline void push_fd(struct aux *a, long fd)
{
	push_s64(a, (s64)(s32)fd);
}

/* Closes the event and hands it to the ring buffer of this CPU. */
static __always_inline void ev_submit(struct aux *a)
{
	struct stats *st = stats_get();
	u32 size = a->pos;
	u32 cpu = bpf_get_smp_processor_id();
	void *rb = bpf_map_lookup_elem(&ringbufs, &cpu);
	long err = 1;
	if (size > EV_MAX || size < HDR_LEN) {
		if (st)
			st->n_drops_max_event_size++;
		err = 0;
	} else if (rb) {
		*(u32 *)&a->data[EV_BASE + 16] = size;
		if (cfg_shared_ring) {
			*(u32 *)&a->data[0] = cpu;
			*(u32 *)&a->data[4] = 0;
			err = bpf_ringbuf_output(rb, &a->data[0],
						 (size + EV_BASE) & (EV_MAX * 2 - 1), cfg_rb_flags);
		} else {
			err = bpf_ringbuf_output(rb, &a->data[EV_BASE], size, cfg_rb_flags);
		}
	}
	a->busy = 0;
	if (st) {
		st->n_evts++;
		if (err)
			st->n_drops_buffer++;
	}
}

/* --------------------------------------------------------- syscall args */

struct sc {
	unsigned long a[6];
	long ret;
	u32 nr;
};

/* `regs` is a BTF pointer (tp_btf argument or bpf_task_pt_regs), so these
 * are plain loads rather than helper calls. */
static __always_inline void sc_load(struct sc *s, struct pt_regs *regs, long ret)
{
	s->a[0] = regs->di;
	s->a[1] = regs->si;
	s->a[2] = regs->dx;
	s->a[3] = regs->r10;
	s->a[4] = regs->r8;
	s->a[5] = regs->r9;
	s->nr = (u32)regs->orig_ax;
	s->ret = ret;
}
