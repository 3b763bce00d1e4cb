// SPDX-License-Identifier: Apache-2.0
// The kinds of BPF objects Peregrine's probe uses: a CO-RE tp_btf program, a
// raw tracepoint program and a ring buffer. Loaded by capcheck.c to find the
// least capabilities that run them.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct capcheck_sample {
    __u32 tgid;
    __u32 ppid; // read through CO-RE relocations on task_struct
    __u8 kind;  // 1: tp_btf sys_enter, 2: raw_tp sys_exit
};

static __always_inline void push(__u8 kind)
{
    struct capcheck_sample *s = bpf_ringbuf_reserve(&events, sizeof(*s), 0);
    if (!s)
        return;
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    s->tgid = bpf_get_current_pid_tgid() >> 32;
    s->ppid = BPF_CORE_READ(task, real_parent, tgid);
    s->kind = kind;
    bpf_ringbuf_submit(s, 0);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *regs, long id)
{
    push(1);
    return 0;
}

SEC("raw_tp/sys_exit")
int on_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
    push(2);
    return 0;
}
