/* Reading kernel state: tasks, credentials, files, paths, cgroups, sockets.
 * Every read goes through CO-RE so the object runs on any BTF kernel. */
#pragma once

#include "probe.h"
#include "flags.h"

/* Kernels before 6.15 name the kernfs parent `parent`. */
struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

/* Kernels before 6.3 keep capabilities as two u32 words. */
struct kernel_cap_struct___old {
	u32 cap[2];
} __attribute__((preserve_access_index));

/* Kernels before 6.11 keep timespec64 inode times. */
struct inode___old {
	struct timespec64 i_mtime;
	struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));

/* ------------------------------------------------------------------ task */

/* A kernel pointer as a plain number, so it can be passed to global (separately
 * verified) functions, which take scalars. */
static __always_inline u64 scalar_of(const void *p)
{
	u64 v = 0;
	bpf_probe_read_kernel(&v, sizeof(v), &p);
	return v;
}

static __always_inline struct task_struct *cur_task(void)
{
	return (struct task_struct *)bpf_get_current_task_btf();
}

static __always_inline struct pid *task_pid_of(struct task_struct *t, enum pid_type type)
{
	if (type == PIDTYPE_PID)
		return BPF_CORE_READ(t, thread_pid);
	return BPF_CORE_READ(t, signal, pids[type]);
}

/* Number of a pid in the host namespace. */
static __always_inline s64 pid_nr(struct pid *p)
{
	if (!p)
		return 0;
	return BPF_CORE_READ(p, numbers[0].nr);
}

/* Number of a pid in its innermost namespace. */
static __always_inline s64 pid_vnr(struct pid *p)
{
	if (!p)
		return 0;
	unsigned int level = BPF_CORE_READ(p, level);
	return BPF_CORE_READ(p, numbers[level & 31].nr);
}

static __always_inline s64 task_tid(struct task_struct *t)
{
	return BPF_CORE_READ(t, pid);
}

static __always_inline s64 task_tgid(struct task_struct *t)
{
	return BPF_CORE_READ(t, tgid);
}

static __always_inline s64 task_ptid(struct task_struct *t)
{
	return BPF_CORE_READ(t, real_parent, tgid);
}

static __always_inline u64 task_fdlimit(struct task_struct *t)
{
	return BPF_CORE_READ(t, signal, rlim[K_RLIMIT_NOFILE].rlim_cur);
}

static __always_inline u32 pages_kb(s64 pages)
{
	if (pages < 0)
		pages = 0;
	return (u32)(pages * 4); /* 4 KiB pages */
}

static __always_inline s64 mm_counter(struct mm_struct *mm, int idx)
{
	if (!mm)
		return 0;
	return BPF_CORE_READ(mm, rss_stat[idx & 3].count);
}

static __always_inline u32 mm_vm_size(struct mm_struct *mm)
{
	if (!mm)
		return 0;
	return pages_kb(BPF_CORE_READ(mm, total_vm));
}

static __always_inline u32 mm_vm_rss(struct mm_struct *mm)
{
	return pages_kb(mm_counter(mm, MM_FILEPAGES) + mm_counter(mm, MM_ANONPAGES) +
			mm_counter(mm, MM_SHMEMPAGES));
}

static __always_inline u32 mm_vm_swap(struct mm_struct *mm)
{
	return pages_kb(mm_counter(mm, MM_SWAPENTS));
}

static __always_inline u32 task_euid(struct task_struct *t)
{
	return BPF_CORE_READ(t, cred, euid.val);
}

static __always_inline u32 task_egid(struct task_struct *t)
{
	return BPF_CORE_READ(t, cred, egid.val);
}

static __always_inline u32 task_loginuid(struct task_struct *t)
{
	if (bpf_core_field_exists(t->loginuid))
		return BPF_CORE_READ(t, loginuid.val);
	return 0xffffffff;
}

static __always_inline u64 cap_value(kernel_cap_t *c)
{
	if (bpf_core_field_exists(((struct kernel_cap_struct___old *)0)->cap)) {
		struct kernel_cap_struct___old *o = (void *)c;
		u32 lo = BPF_CORE_READ(o, cap[0]);
		u32 hi = BPF_CORE_READ(o, cap[1]);
		return ((u64)hi << 32) | lo;
	}
	return BPF_CORE_READ(c, val);
}

/* 0 inheritable, 1 permitted, 2 effective; scap numbers capabilities like
 * the kernel does. */
static __always_inline u64 task_cap(struct task_struct *t, int which)
{
	const struct cred *cred = BPF_CORE_READ(t, cred);
	if (!cred)
		return 0;
	if (which == 0)
		return cap_value((kernel_cap_t *)&cred->cap_inheritable);
	if (which == 1)
		return cap_value((kernel_cap_t *)&cred->cap_permitted);
	return cap_value((kernel_cap_t *)&cred->cap_effective);
}

static __always_inline u32 encode_dev(u32 dev)
{
	u32 major = dev >> K_MINORBITS;
	u32 minor = dev & ((1U << K_MINORBITS) - 1);
	return (minor & 0xff) | (major << 8) | ((minor & ~0xffU) << 12);
}

static __always_inline u32 task_tty(struct task_struct *t)
{
	struct tty_struct *tty = BPF_CORE_READ(t, signal, tty);
	if (!tty)
		return 0;
	int index = BPF_CORE_READ(tty, index);
	int major = BPF_CORE_READ(tty, driver, major);
	int minor_start = BPF_CORE_READ(tty, driver, minor_start);
	return encode_dev(((u32)major << K_MINORBITS) + (u32)minor_start + (u32)index);
}

/* start_time of the init task of the pid namespace `t` lives in. */
static __always_inline u64 task_pidns_init_start(struct task_struct *t)
{
	struct pid *p = BPF_CORE_READ(t, thread_pid);
	if (!p)
		return 0;
	unsigned int level = BPF_CORE_READ(p, level);
	struct pid_namespace *ns = BPF_CORE_READ(p, numbers[level & 31].ns);
	return BPF_CORE_READ(ns, child_reaper, start_time);
}

/* ----------------------------------------------------------------- files */

/* The open file behind fd `fd` of the current task, as a BTF pointer so
 * callers can read its fields with plain loads (no helper call per field). */
static __always_inline struct file *fd_file(long fd)
{
	if (fd < 0)
		return NULL;
	struct task_struct *t = cur_task();
	struct fdtable *fdt = t->files->fdt;
	if (!fdt || (unsigned long)fd >= fdt->max_fds)
		return NULL;
	struct file **fds = fdt->fd;
	struct file *f = NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	if (!f)
		return NULL;
	return bpf_core_cast(f, struct file);
}

enum overlay { OVL_NONE, OVL_UPPER, OVL_LOWER };

static __always_inline enum overlay file_overlay(struct file *f)
{
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
	if (!d)
		return OVL_NONE;
	unsigned long magic = BPF_CORE_READ(d, d_sb, s_magic);
	if (magic != K_OVERLAYFS_SUPER_MAGIC)
		return OVL_NONE;
	/* ovl_inode keeps the upper dentry right after its embedded inode. */
	char *inode = (char *)BPF_CORE_READ(d, d_inode);
	unsigned long isize = bpf_core_type_size(struct inode);
	struct dentry *upper = NULL;
	if (!inode || !isize)
		return OVL_LOWER;
	bpf_probe_read_kernel(&upper, sizeof(upper), inode + isize);
	if (upper && BPF_CORE_READ(upper, d_inode, i_ino) != 0)
		return OVL_UPPER;
	return OVL_LOWER;
}

struct file_id {
	u32 dev;
	u64 ino;
	enum overlay ol;
	bool created;
};

/* Device, inode, overlay layer and O_CREAT outcome of a file from fd_file()
 * (plain loads through BTF pointers). */
static __always_inline void file_id_of(struct file *f, struct file_id *id)
{
	id->dev = 0;
	id->ino = 0;
	id->ol = OVL_NONE;
	id->created = false;
	if (!f)
		return;
	struct inode *i = f->f_inode;
	id->dev = encode_dev(i->i_sb->s_dev);
	id->ino = i->i_ino;
	id->created = (f->f_mode & K_FMODE_CREATED) != 0;
	struct dentry *d = f->f_path.dentry;
	if (d->d_sb->s_magic != K_OVERLAYFS_SUPER_MAGIC)
		return;
	/* ovl_inode keeps the upper dentry right after its embedded inode. */
	char *inode = (char *)d->d_inode;
	unsigned long isize = bpf_core_type_size(struct inode);
	struct dentry *upper = NULL;
	id->ol = OVL_LOWER;
	if (!inode || !isize)
		return;
	bpf_probe_read_kernel(&upper, sizeof(upper), inode + isize);
	if (upper && BPF_CORE_READ(upper, d_inode, i_ino) != 0)
		id->ol = OVL_UPPER;
}

static __always_inline u64 inode_time_ns(struct inode *i, bool ctime)
{
	if (!i)
		return 0;
	s64 sec;
	s64 nsec;
	if (bpf_core_field_exists(i->i_ctime_sec)) {
		if (ctime) {
			sec = BPF_CORE_READ(i, i_ctime_sec);
			nsec = BPF_CORE_READ(i, i_ctime_nsec);
		} else {
			sec = BPF_CORE_READ(i, i_mtime_sec);
			nsec = BPF_CORE_READ(i, i_mtime_nsec);
		}
	} else {
		struct inode___old *o = (void *)i;
		if (ctime) {
			sec = BPF_CORE_READ(o, __i_ctime.tv_sec);
			nsec = BPF_CORE_READ(o, __i_ctime.tv_nsec);
		} else {
			sec = BPF_CORE_READ(o, i_mtime.tv_sec);
			nsec = BPF_CORE_READ(o, i_mtime.tv_nsec);
		}
	}
	return (u64)sec * 1000000000ULL + (u64)nsec;
}

/* -------------------------------------------------------------- paths */

#define MAX_PATH_COMPONENTS 64

struct path_walk {
	struct aux *a;
	struct dentry *dentry;
	struct mount *mnt;
	struct mount *mnt_parent;
	struct dentry *mnt_root;
	u32 end;
};

/* One step of the walk: a name written before the previous ones, or a jump
 * from a mount's root to its mount point. 1 stops the loop. */
static long path_step(u32 i, void *c)
{
	struct path_walk *w = c;
	struct aux *a = w->a;
	if (!a)
		return 1;
	struct dentry *dentry = w->dentry;
	struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
	if (dentry == w->mnt_root || dentry == parent) {
		if (dentry != w->mnt_root || w->mnt == w->mnt_parent)
			return 1;
		struct mount *mnt = w->mnt;
		struct mount *up = w->mnt_parent;
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = up;
		w->mnt_parent = BPF_CORE_READ(up, mnt_parent);
		w->mnt_root = BPF_CORE_READ(up, mnt.mnt_root);
		return 0;
	}
	u32 len = BPF_CORE_READ(dentry, d_name.len);
	const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
	u32 end = w->end;
	if (len == 0 || len >= NAME_CHUNK || end < len + 2 || end > TMP_SIZE)
		return 1;
	end -= len;
	if (bpf_probe_read_kernel(&a->tmp[end & TMP_MASK], len & (NAME_CHUNK - 1), name))
		return 1;
	end -= 1;
	a->tmp[end & TMP_MASK] = '/';
	w->end = end;
	w->dentry = parent;
	return 0;
}

/* Writes a path into the event as a NUL-terminated string, walking dentries
 * up to the root and across mount points (an approximation of d_path). A
 * path with no named component (pipe, memfd, anon inode) becomes the name of
 * its dentry, as libscap does. Global: verified once. */
__noinline u32 put_path(struct aux *a, u64 dentry_p, u64 vfsmnt_p)
{
	struct dentry *dentry = (struct dentry *)dentry_p;
	struct vfsmount *vfsmnt = (struct vfsmount *)vfsmnt_p;
	if (!a || !dentry || !vfsmnt)
		return 0;
	struct path_walk w = {
		.a = a,
		.dentry = dentry,
		.mnt = container_of(vfsmnt, struct mount, mnt),
		.end = TMP_SIZE,
	};
	struct mount *m0 = w.mnt;
	w.mnt_parent = BPF_CORE_READ(m0, mnt_parent);
	w.mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
	bpf_loop(MAX_PATH_COMPONENTS, path_step, &w, 0);

	u32 end = w.end;
	if (end >= TMP_SIZE) {
		dentry = w.dentry;
		if (dentry == w.mnt_root && dentry == BPF_CORE_READ(dentry, d_parent)) {
			put_byte(a, '/'); /* the root itself */
			return put_byte(a, 0) + 1;
		}
		return put_str(a, BPF_CORE_READ(dentry, d_name.name), NAME_CHUNK, false);
	}
	u32 n = TMP_SIZE - end;
	u32 p = a->pos;
	if (n > TMP_SIZE || p > EV_MAX - TMP_SIZE - 1)
		return 0;
	if (bpf_probe_read_kernel(&a->data[EV_BASE + (p & EV_MASK)], n & TMP_MASK,
				  &a->tmp[end & TMP_MASK]))
		return 0;
	a->pos = p + (n & TMP_MASK);
	return (n & TMP_MASK) + put_byte(a, 0);
}

static __always_inline void push_file_path(struct aux *a, struct file *f)
{
	if (!f) {
		push_empty(a);
		return;
	}
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
	struct vfsmount *m = BPF_CORE_READ(f, f_path.mnt);
	push_len(a, put_path(a, (u64)d, (u64)m));
}

static __always_inline void push_task_cwd(struct aux *a, struct task_struct *t)
{
	struct dentry *d = BPF_CORE_READ(t, fs, pwd.dentry);
	struct vfsmount *m = BPF_CORE_READ(t, fs, pwd.mnt);
	push_len(a, put_path(a, (u64)d, (u64)m));
}

static __always_inline struct file *task_exe_file(struct task_struct *t)
{
	return BPF_CORE_READ(t, mm, exe_file);
}

/* ------------------------------------------------------------ cgroups */

#define MAX_CGROUP_DEPTH 32

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	struct kernfs_node___old *o = (void *)kn;
	return BPF_CORE_READ(o, parent);
}

struct cg_walk {
	struct aux *a;
	struct kernfs_node *kn;
	u32 end;
};

/* One cgroup path component, written before the previous ones. */
static long cg_step(u32 i, void *c)
{
	struct cg_walk *w = c;
	struct aux *a = w->a;
	if (!a || !w->kn)
		return 1;
	struct kernfs_node *kn = w->kn;
	struct kernfs_node *parent = kn_parent(kn);
	if (!parent)
		return 1; /* the root has no name of its own */
	const char *name = BPF_CORE_READ(kn, name);
	u32 end = w->end;
	if (end < NAME_CHUNK + 2 || end > TMP_SIZE)
		return 1;
	/* read into the staging slot past TMP_SIZE, then copy it into place
	 * once its length is known */
	long n = bpf_probe_read_kernel_str(&a->tmp[TMP_SIZE], NAME_CHUNK, name);
	if (n <= 1)
		return 1;
	u32 len = (u32)(n - 1);
	if (len >= NAME_CHUNK)
		return 1;
	u32 dst = end - len;
	if (bpf_probe_read_kernel(&a->tmp[dst & TMP_MASK], len & (NAME_CHUNK - 1), &a->tmp[TMP_SIZE]))
		return 1;
	dst -= 1;
	a->tmp[dst & TMP_MASK] = '/';
	w->end = dst;
	w->kn = parent;
	return 0;
}

/* "subsys=/a/b\0" for one cgroup subsystem. Global: verified once. */
__noinline u32 put_cgroup(struct aux *a, u64 task, int id)
{
	struct task_struct *t = (struct task_struct *)task;
	if (!a || !t)
		return 0;
	const char *ssname = BPF_CORE_READ(t, cgroups, subsys[id & 15], ss, name);
	struct kernfs_node *kn = BPF_CORE_READ(t, cgroups, subsys[id & 15], cgroup, kn);
	if (!ssname || !kn)
		return 0;
	u32 start = a->pos;
	if (put_str(a, ssname, 32, false) == 0)
		return 0;
	a->pos -= 1; /* overwrite the NUL */
	put_byte(a, '=');
	struct cg_walk w = {.a = a, .kn = kn, .end = TMP_SIZE};
	bpf_loop(MAX_CGROUP_DEPTH, cg_step, &w, 0);
	u32 end = w.end;
	if (end >= TMP_SIZE) {
		put_byte(a, '/');
	} else {
		u32 n = TMP_SIZE - end;
		u32 p = a->pos;
		if (n > TMP_SIZE || p > EV_MAX - TMP_SIZE - 1)
			return 0;
		if (bpf_probe_read_kernel(&a->data[EV_BASE + (p & EV_MASK)], n & TMP_MASK,
					  &a->tmp[end & TMP_MASK]))
			return 0;
		a->pos = p + (n & TMP_MASK);
	}
	put_byte(a, 0);
	return a->pos - start;
}

/* The cgroups param: the subsystems libscap reports, NUL-separated. */
static __always_inline void push_cgroups(struct aux *a, struct task_struct *t)
{
	u64 tv = scalar_of(t);
	u32 total = 0;
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, cpuset_cgrp_id))
		total += put_cgroup(a, tv, bpf_core_enum_value(enum cgroup_subsys_id, cpuset_cgrp_id));
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, cpu_cgrp_id))
		total += put_cgroup(a, tv, bpf_core_enum_value(enum cgroup_subsys_id, cpu_cgrp_id));
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, cpuacct_cgrp_id))
		total += put_cgroup(a, tv, bpf_core_enum_value(enum cgroup_subsys_id, cpuacct_cgrp_id));
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, io_cgrp_id))
		total += put_cgroup(a, tv, bpf_core_enum_value(enum cgroup_subsys_id, io_cgrp_id));
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		total += put_cgroup(a, tv, bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id));
	push_len(a, total);
}

/* ------------------------------------------------------- process memory */

/* args/env straight from the process's memory: NUL-separated strings. */
static __always_inline u32 put_mm_area(struct aux *a, unsigned long start, unsigned long end,
				       u32 max)
{
	if (end <= start)
		return 0;
	unsigned long n = end - start;
	if (n > max)
		n = max;
	u32 got = put_raw(a, (const void *)start, (u32)n, true);
	if (got && a->data[EV_BASE + ((a->pos - 1) & EV_MASK)] != 0)
		put_byte(a, 0), got++;
	return got;
}

/* exe (argv[0]) and args (the rest) of the current, freshly exec'd image. */
static __always_inline void push_exe_args_from_mm(struct aux *a, struct task_struct *t)
{
	unsigned long s = BPF_CORE_READ(t, mm, arg_start);
	unsigned long e = BPF_CORE_READ(t, mm, arg_end);
	u32 exe = put_str(a, (const void *)s, MAX_PATH, true);
	push_len(a, exe);
	if (exe == 0 || s + exe >= e) {
		push_empty(a);
		return;
	}
	push_len(a, put_mm_area(a, s + exe, e, MAX_ARGS_LEN));
}

static __always_inline void push_env_from_mm(struct aux *a, struct task_struct *t)
{
	unsigned long s = BPF_CORE_READ(t, mm, env_start);
	unsigned long e = BPF_CORE_READ(t, mm, env_end);
	push_len(a, put_mm_area(a, s, e, MAX_ARGS_LEN));
}

struct strv_walk {
	struct aux *a;
	unsigned long uarr;
	u32 total;
};

static long strv_step(u32 i, void *c)
{
	struct strv_walk *w = c;
	struct aux *a = w->a;
	unsigned long p = 0;
	if (!a || w->total > MAX_ARGS_LEN)
		return 1;
	if (bpf_probe_read_user(&p, sizeof(p), (void *)(w->uarr + i * 8)) || !p)
		return 1;
	u32 n = put_str(a, (void *)p, MAX_PATH, true);
	if (n == 0)
		return 1;
	w->total += n;
	return 0;
}

/* The strings of a user array of string pointers (argv/envp of a failed
 * execve), NUL-separated, from index `skip`. Global: verified once. */
__noinline u32 put_user_strv(struct aux *a, unsigned long uarr, int skip)
{
	if (!a || !uarr)
		return 0;
	struct strv_walk w = {.a = a, .uarr = uarr + (skip & 1) * 8, .total = 0};
	bpf_loop(MAX_ARGV, strv_step, &w, 0);
	return w.total;
}

/* --------------------------------------------------------- exe details */

static __always_inline bool in_group(struct task_struct *t, u32 gid)
{
	struct group_info *gi = BPF_CORE_READ(t, cred, group_info);
	if (!gi)
		return false;
	int n = BPF_CORE_READ(gi, ngroups);
	for (int i = 0; i < 32; i++) {
		if (i >= n)
			break;
		if (BPF_CORE_READ(gi, gid[i].val) == gid)
			return true;
	}
	return false;
}

/* Whether the current credentials may write the exe's inode: the checks of
 * inode_permission minus ACLs and LSMs. */
static __always_inline bool exe_writable(struct task_struct *t, struct inode *i)
{
	if (!i)
		return false;
	umode_t mode = BPF_CORE_READ(i, i_mode);
	unsigned long sflags = BPF_CORE_READ(i, i_sb, s_flags);
	unsigned int iflags = BPF_CORE_READ(i, i_flags);
	if (sflags & K_SB_RDONLY)
		return false;
	if (iflags & K_S_IMMUTABLE)
		return false;
	u32 iuid = BPF_CORE_READ(i, i_uid.val);
	u32 igid = BPF_CORE_READ(i, i_gid.val);
	u32 fsuid = BPF_CORE_READ(t, cred, fsuid.val);
	u32 fsgid = BPF_CORE_READ(t, cred, fsgid.val);
	if (iuid == fsuid)
		return (mode & 0200) != 0 || true;
	u32 m = mode;
	if (igid == fsgid || in_group(t, igid))
		m >>= 3;
	if (m & 02)
		return true;
	u64 eff = task_cap(t, 2);
	return (eff & (1ULL << K_CAP_DAC_OVERRIDE)) || (eff & (1ULL << K_CAP_FOWNER));
}

static __always_inline bool exe_from_memfd(struct file *f)
{
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
	if (!d || BPF_CORE_READ(d, d_parent) != d)
		return false;
	char buf[8] = {};
	const unsigned char *name = BPF_CORE_READ(d, d_name.name);
	if (bpf_probe_read_kernel_str(buf, sizeof(buf), name) < 7)
		return false;
	return buf[0] == 'm' && buf[1] == 'e' && buf[2] == 'm' && buf[3] == 'f' && buf[4] == 'd' &&
	       buf[5] == ':';
}

__noinline u32 exe_flags(u64 task, u64 exe_p)
{
	struct task_struct *t = (struct task_struct *)task;
	struct file *exe = (struct file *)exe_p;
	u32 fl = 0;
	if (!t || !exe)
		return 0;
	struct inode *i = BPF_CORE_READ(exe, f_inode);
	if (exe_writable(t, i))
		fl |= P_EXECVE_FLAGS_EXE_WRITABLE;
	enum overlay ol = file_overlay(exe);
	if (ol == OVL_UPPER)
		fl |= P_EXECVE_FLAGS_EXE_UPPER_LAYER;
	else if (ol == OVL_LOWER)
		fl |= P_EXECVE_FLAGS_EXE_LOWER_LAYER;
	if (exe_from_memfd(exe))
		fl |= P_EXECVE_FLAGS_EXE_FROM_MEMFD;
	return fl;
}

#include "sock.h"
