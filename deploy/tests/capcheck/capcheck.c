// SPDX-License-Identifier: Apache-2.0
// capcheck: does this process have what Peregrine's agent needs? Prints one
// JSON object, one key per need, each "ok" or the error seen:
//   bpf        load + attach a CO-RE tp_btf and a raw_tp program, ring buffer
//   ringbuf    events arrived from both programs within a second
//   proc_*     host /proc of a process owned by another user (argv[2]):
//              environ, exe link, fd directory, fd links, root link
//   host_etc   $HOST_ROOT/etc/passwd readable (user names)
//   socket     the runtime socket argv[3] answers an HTTP GET /_ping
//              (a Docker-API socket, mounted read-only)
//   memlock    what RLIMIT_MEMLOCK allows (informational)
// Usage: capcheck PROC_ROOT OTHER_PID [SOCKET]
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "capcheck.skel.h"

struct capcheck_sample {
    unsigned int tgid;
    unsigned int ppid;
    unsigned char kind;
};

static int seen_enter, seen_exit;

static int on_sample(void *ctx, void *data, size_t len)
{
    (void)ctx;
    const struct capcheck_sample *s = data;
    if (len < sizeof(*s))
        return 0;
    if (s->kind == 1)
        seen_enter++;
    if (s->kind == 2)
        seen_exit++;
    return 0;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
    (void)level;
    (void)fmt;
    (void)args;
    return 0;
}

static void report(const char *key, int err, int last)
{
    if (err == 0)
        printf("  \"%s\": \"ok\"%s\n", key, last ? "" : ",");
    else
        printf("  \"%s\": \"%s\"%s\n", key, strerror(err), last ? "" : ",");
}

static int check_bpf(int *ringbuf_err)
{
    *ringbuf_err = ECANCELED;
    struct capcheck_bpf *skel = capcheck_bpf__open();
    if (!skel)
        return errno ? errno : EINVAL;
    int err = capcheck_bpf__load(skel);
    if (err) {
        capcheck_bpf__destroy(skel);
        return -err;
    }
    err = capcheck_bpf__attach(skel);
    if (err) {
        capcheck_bpf__destroy(skel);
        return -err;
    }
    struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_sample, NULL, NULL);
    if (!rb) {
        capcheck_bpf__destroy(skel);
        return errno ? errno : EINVAL;
    }
    for (int i = 0; i < 10 && !(seen_enter && seen_exit); i++)
        ring_buffer__poll(rb, 100);
    *ringbuf_err = (seen_enter && seen_exit) ? 0 : ENODATA;
    ring_buffer__free(rb);
    capcheck_bpf__destroy(skel);
    return 0;
}

static int check_read(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return errno;
    char buf[64];
    int err = read(fd, buf, sizeof(buf)) < 0 ? errno : 0;
    close(fd);
    return err;
}

static int check_link(const char *path)
{
    char target[PATH_MAX];
    return readlink(path, target, sizeof(target)) < 0 ? errno : 0;
}

// Lists the fd directory; on success also resolves its first fd link.
static int check_fds(const char *dir, int *link_err)
{
    *link_err = ECANCELED;
    DIR *d = opendir(dir);
    if (!d)
        return errno;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        *link_err = check_link(path);
        break;
    }
    int err = errno;
    closedir(d);
    return err;
}

static int check_socket(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path))
        return ENAMETOOLONG;
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        return errno;
    int err = 0;
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        err = errno;
    } else {
        const char req[] = "GET /_ping HTTP/1.0\r\nHost: d\r\n\r\n";
        char resp[512] = {0};
        if (write(fd, req, sizeof(req) - 1) < 0 || read(fd, resp, sizeof(resp) - 1) <= 0)
            err = errno ? errno : EIO;
        else if (!strstr(resp, " 200 "))
            err = EPROTO;
    }
    close(fd);
    return err;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: capcheck PROC_ROOT OTHER_PID [SOCKET]\n");
        return 2;
    }
    libbpf_set_print(quiet);
    char path[PATH_MAX];
    printf("{\n");
    int ringbuf_err;
    report("bpf", check_bpf(&ringbuf_err), 0);
    report("ringbuf", ringbuf_err, 0);
    snprintf(path, sizeof(path), "%s/%s/environ", argv[1], argv[2]);
    report("proc_environ", check_read(path), 0);
    snprintf(path, sizeof(path), "%s/%s/exe", argv[1], argv[2]);
    report("proc_exe", check_link(path), 0);
    snprintf(path, sizeof(path), "%s/%s/root", argv[1], argv[2]);
    report("proc_root", check_link(path), 0);
    snprintf(path, sizeof(path), "%s/%s/fd", argv[1], argv[2]);
    int link_err;
    report("proc_fd_dir", check_fds(path, &link_err), 0);
    report("proc_fd_link", link_err, 0);
    const char *host_root = getenv("HOST_ROOT");
    snprintf(path, sizeof(path), "%s/etc/passwd", host_root ? host_root : "");
    report("host_etc", check_read(path), 0);
    if (argc == 4)
        report("socket", check_socket(argv[3]), 0);
    struct rlimit rl;
    getrlimit(RLIMIT_MEMLOCK, &rl);
    printf("  \"memlock_cur\": %lld\n}\n", (long long)rl.rlim_cur);
    return 0;
}
