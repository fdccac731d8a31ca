/* The engine's seccomp filter and its SIGSYS handler (sandbox.h).
 *
 * The filter is an allow-list built with libseccomp; anything else is SECCOMP_RET_TRAP:
 * the kernel does not make the call and sends the calling thread SIGSYS, whose handler
 * (async-signal-safe: raw system calls of our own, no libc, since rewind's libc
 * wrappers answer write, fcntl and _exit from the log during a replay) reports it and
 * ends the process. Arguments are checked where the kernel lets a filter see them
 * (flags, commands, signal numbers, pids); a filter cannot read memory, so paths are
 * not checked: openat is allowed read-only anywhere. The one write-open the engine
 * needs, its writer opening its memfd as /proc/self/fd/N, is trapped too and answered
 * by the handler with a duplicate of the memfd, once; so are glibc's own calls for
 * POSIX semaphores and shared memory in /dev/shm, answered with a private memfd.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <ucontext.h>
#include <unistd.h>

#include "proto.h"
#include "state.h"

#if defined(__x86_64__) || defined(__aarch64__)
#define HAVE_SANDBOX 1
#else
#define HAVE_SANDBOX 0
#endif

/* Names of the native architecture's system calls, resolved at install (libseccomp's
 * resolver allocates: not for a signal handler). */
#define NSYS 1024

/* nr is the system call `name` of this architecture (aarch64 has no open, link,
 * unlink: only their *at forms). */
#define IS_SYS_(nr, name) ((nr) == SYS_##name)
#if defined(SYS_open)
#define IS_SYS(nr, name) IS_SYS_(nr, name)
#else
#define IS_SYS(nr, name) 0
#endif

/* si_code of a SIGSYS sent by a seccomp filter (the kernel's SYS_SECCOMP). */
#define SIGSYS_FROM_FILTER 1
#define NAME_MAX_LEN 32

static struct sandbox {
    int enabled;                  /* 0 after rw_sandbox_disable */
    int active;                   /* the filter is installed */
    int out;                      /* the client's socket */
    int trace_fd;                 /* the engine's memfd */
    char trace_path[48];          /* "/proc/self/fd/N": what the writer opens */
    atomic_int trace_opened;      /* the one write-open was granted */
    int fork_fd;                  /* in an evaluation fork: its reply socket, else -1 */
    uint32_t arch;                /* the native AUDIT_ARCH_* */
    atomic_int reporting;         /* a thread is reporting: the others wait for the end */
    char names[NSYS][NAME_MAX_LEN];
} sb = {.enabled = 1, .out = -1, .trace_fd = -1, .fork_fd = -1};

/* ---- raw system calls (the handler's only way out) ---------------------------------- */

#if defined(__x86_64__)
static long raw3(long n, long a, long b, long c)
{
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
    return ret;
}
#elif defined(__aarch64__)
static long raw3(long n, long a, long b, long c)
{
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
    return x0;
}
#endif

#if HAVE_SANDBOX
static void raw_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        long w = raw3(SYS_write, fd, (long)p, (long)n);
        if (w == -EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static _Noreturn void raw_exit(int status)
{
    for (;;)
        raw3(SYS_exit_group, status, 0, 0);
}

/* The syscall's arguments and its result register in the trapped thread's context. */
static long arg(const ucontext_t *uc, int i)
{
#if defined(__x86_64__)
    static const int regs[] = {REG_RDI, REG_RSI, REG_RDX, REG_R10, REG_R8, REG_R9};
    return (long)uc->uc_mcontext.gregs[regs[i]];
#else
    return (long)uc->uc_mcontext.regs[i];
#endif
}

static void set_result(ucontext_t *uc, long v)
{
#if defined(__x86_64__)
    uc->uc_mcontext.gregs[REG_RAX] = v;
#else
    uc->uc_mcontext.regs[0] = v;
#endif
}
#endif

/* ---- the handler ------------------------------------------------------------------- */

/* strcmp's answer to "equal?", without the C library. Async-signal-safe. */
static int same_str(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/* Appends s to buf at *n (cap bytes). Async-signal-safe. */
static void put_str(char *buf, size_t cap, size_t *n, const char *s)
{
    while (*s && *n < cap)
        buf[(*n)++] = *s++;
}

static void put_dec(char *buf, size_t cap, size_t *n, uint64_t v)
{
    char d[24];
    int k = 0;
    do {
        d[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k && *n < cap)
        buf[(*n)++] = d[--k];
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The call's name: "unlinkat", or "system call 1000" when the table has none, or
 * "system call 5 of architecture 0x40000003" (an i386 call from a 64-bit process). */
static void call_name(long nr, uint32_t arch, char *buf, size_t cap, size_t *n)
{
    if (arch == sb.arch && nr >= 0 && nr < NSYS && sb.names[nr][0]) {
        put_str(buf, cap, n, sb.names[nr]);
        return;
    }
    put_str(buf, cap, n, "system call ");
    put_dec(buf, cap, n, (uint64_t)nr);
    if (arch != sb.arch) {
        static const char hex[] = "0123456789abcdef";
        put_str(buf, cap, n, " of architecture 0x");
        for (int sh = 28; sh >= 0 && *n < cap; sh -= 4)
            buf[(*n)++] = hex[(arch >> sh) & 15];
    }
}

#if HAVE_SANDBOX
/* The recorder's writer opening the engine's trace (open or openat of trace_path for
 * writing), the first time: answered with a duplicate of the memfd (a fresh memfd:
 * O_TRUNC has nothing to cut). Returns 1 when answered. */
static int grant_trace_open(ucontext_t *uc, long nr)
{
    long path_arg, flags_arg;
    if (nr == SYS_openat) {
        path_arg = arg(uc, 1);
        flags_arg = arg(uc, 2);
    } else if (IS_SYS(nr, open)) {
        path_arg = arg(uc, 0);
        flags_arg = arg(uc, 1);
    } else {
        return 0;
    }
    const char *path = (const char *)path_arg;
    if (sb.trace_fd < 0 || !path || ((int)flags_arg & O_ACCMODE) != O_WRONLY ||
        !same_str(path, sb.trace_path) || atomic_exchange(&sb.trace_opened, 1))
        return 0;
    long fd = raw3(SYS_fcntl, sb.trace_fd, (flags_arg & O_CLOEXEC) ? F_DUPFD_CLOEXEC : F_DUPFD,
                   0);
    set_result(uc, fd);
    return 1;
}

static int in_shm(const char *path)
{
    static const char dir[] = "/dev/shm/";
    for (size_t i = 0; i < sizeof dir - 1; i++)
        if (!path || path[i] != dir[i])
            return 0;
    return 1;
}

/* POSIX semaphores and shared memory (sem_open, shm_open: multiprocessing's locks,
 * multiprocessing.shared_memory) are files in /dev/shm that glibc makes and removes with
 * its own system calls, which no wrapper sees. The engine gets a private /dev/shm
 * instead: a create is answered with a new memfd (as good a file to map shared: the
 * engine has no other process to share it with), an open of an existing one with
 * ENOENT (none exists in its world), link and unlink there with success. Nothing is
 * made or removed on disk. Returns 1 when answered. */
static int private_shm(ucontext_t *uc, long nr)
{
    long r;
    if (nr == SYS_openat || IS_SYS(nr, open)) {
        int at = nr == SYS_openat;
        long flags = arg(uc, at ? 2 : 1);
        if (!in_shm((const char *)arg(uc, at ? 1 : 0)))
            return 0;
        if (flags & O_CREAT)
            r = raw3(SYS_memfd_create, (long)"rewind-shm", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0,
                     0);
        else
            r = -ENOENT;
    } else if (nr == SYS_linkat) {
        if (!in_shm((const char *)arg(uc, 1)) || !in_shm((const char *)arg(uc, 3)))
            return 0;
        r = 0;
    } else if (IS_SYS(nr, link)) {
        if (!in_shm((const char *)arg(uc, 0)) || !in_shm((const char *)arg(uc, 1)))
            return 0;
        r = 0;
    } else if (nr == SYS_unlinkat || IS_SYS(nr, unlink)) {
        if (!in_shm((const char *)arg(uc, nr == SYS_unlinkat ? 1 : 0)))
            return 0;
        r = 0;
    } else {
        return 0;
    }
    set_result(uc, r);
    return 1;
}

/* SIGSYS from the filter: async-signal-safe. */
static void on_sigsys(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    ucontext_t *uc = ucv;
    int saved_errno = errno;
    long nr = si->si_syscall;
    uint32_t arch = si->si_arch;
    if (si->si_code == SIGSYS_FROM_FILTER && arch == sb.arch &&
        (grant_trace_open(uc, nr) || private_shm(uc, nr))) {
        errno = saved_errno;
        return;
    }
    if (atomic_exchange(&sb.reporting, 1)) {
        /* Another thread reports and ends the process: wait for it. */
        struct timespec nap = {1, 0};
        for (;;)
            raw3(SYS_nanosleep, (long)&nap, 0, 0);
    }
    char text[256];
    size_t n = 0;
    uint8_t frame[4 + 1 + 8 + sizeof text];
    if (sb.fork_fd >= 0) {
        /* An evaluation's fork: the answer to its question. */
        put_str(text, sizeof text, &n, "the evaluation tried ");
        if (si->si_code == SIGSYS_FROM_FILTER)
            call_name(nr, arch, text, sizeof text, &n);
        else
            put_str(text, sizeof text, &n, "an unknown system call");
        put_str(text, sizeof text, &n, ", a system call the sandbox does not allow: it was "
                                       "stopped (--no-sandbox runs it without the sandbox)");
        put_le(frame, 1 + 1 + n, 4);
        frame[4] = RW_EP_VALUE;
        frame[5] = 1; /* raised */
        memcpy(frame + 6, text, n);
        raw_write_all(sb.fork_fd, (const char *)frame, 6 + n);
        raw_exit(0);
    }
    if (si->si_code == SIGSYS_FROM_FILTER)
        call_name(nr, arch, text, sizeof text, &n);
    else /* sent by kill, not the filter's */
        put_str(text, sizeof text, &n, "an unknown system call");
    put_le(frame, 1 + 8 + n, 4);
    frame[4] = RW_EP_BLOCKED;
    put_le(frame + 5, rw_st.nevents, 8);
    memcpy(frame + 13, text, n);
    raw_write_all(sb.out, (const char *)frame, 13 + n);
    raw_exit(0);
}
#endif

/* ---- the filter -------------------------------------------------------------------- */

/* Allowed with any arguments: they touch only the process's own memory, threads,
 * signals and descriptors, or read what any process may read. Writing needs a
 * descriptor open for writing, and the filter lets none be opened (openat below):
 * the engine's own are its socket, its memfd, pipes and socket pairs it makes, and
 * /dev/null (the client closes every other one before starting the engine). */
static const char *const allowed[] = {
    /* memory */
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync",
    "membarrier",
    /* threads, forks (evaluations, checkpoints) and their end */
    "clone", "clone3", "futex", "set_robust_list", "get_robust_list", "rseq",
    "set_tid_address", "arch_prctl", "exit", "exit_group", "wait4", "waitid",
    "sched_yield", "sched_getaffinity", "getcpu",
    /* signals of the process itself (rt_sigaction, kill, tgkill: below) */
    "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "rt_sigsuspend", "rt_sigpending",
    "rt_sigtimedwait", "restart_syscall",
    /* time */
    "clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep", "clock_nanosleep",
    /* identity and limits, read */
    "getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid", "getresuid",
    "getresgid", "getgroups", "getpgrp", "getpgid", "getsid", "uname", "sysinfo",
    "getrusage", "times", "getrlimit", "getrandom", "getpriority", "sched_getscheduler",
    "sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "capget",
    "getitimer", "umask",
    /* descriptors the process has */
    "read", "readv", "pread64", "preadv", "preadv2", "write", "writev", "pwrite64",
    "pwritev", "pwritev2", "close", "close_range", "dup", "dup2", "dup3", "lseek",
    "ftruncate", "fallocate", "fsync", "fdatasync", "fadvise64", "pipe", "pipe2",
    "recvfrom", "recvmsg", "shutdown", "getsockopt",
    "poll", "ppoll", "select", "pselect6", "epoll_create1", "epoll_ctl", "epoll_wait",
    "epoll_pwait", "eventfd2", "memfd_create",
    /* file system, read only */
    "fstat", "newfstatat", "stat", "lstat", "statx", "access", "faccessat", "faccessat2",
    "readlink", "readlinkat", "getdents64", "getcwd", "chdir", "fchdir", "statfs",
    "fstatfs", "getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr",
    "flistxattr",
};

/* fcntl commands on the process's own descriptors (no F_SETOWN / F_SETSIG: they would
 * let a descriptor signal another process; no leases, locks or notifications). */
static const int fcntl_cmds[] = {F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL,
                                 F_SETFL, F_GETPIPE_SZ, F_ADD_SEALS, F_GET_SEALS};

/* ioctl requests that only read a descriptor's state (no TIOCSTI: pushing bytes into a
 * terminal's input would be typing in the user's shell). */
static const unsigned long ioctl_reqs[] = {TCGETS, TIOCGWINSZ, FIONREAD, FIONBIO, FIOCLEX,
                                           FIONCLEX};

/* prctl options on the process itself. */
static const int prctl_opts[] = {PR_SET_NAME, PR_GET_NAME, PR_SET_PDEATHSIG,
                                 PR_GET_PDEATHSIG, PR_GET_DUMPABLE, PR_GET_SECCOMP};

static int sys_nr(const char *name)
{
    return seccomp_syscall_resolve_name(name);
}

/* The comparison of argument `arg` (libseccomp's SCMP_A* macros leave a field to the
 * compiler, which clang warns about). */
static struct scmp_arg_cmp cmp_arg(unsigned arg, enum scmp_compare op, scmp_datum_t a,
                                   scmp_datum_t b)
{
    struct scmp_arg_cmp c = {.arg = arg, .op = op, .datum_a = a, .datum_b = b};
    return c;
}

static int add(scmp_filter_ctx ctx, int nr, unsigned n, const struct scmp_arg_cmp *cmp)
{
    if (nr < 0) /* not on this architecture */
        return 0;
    return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, cmp);
}

static rw_code build(scmp_filter_ctx ctx, rw_err *err)
{
    int rc = 0;
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0] && rc == 0; i++)
        rc = add(ctx, sys_nr(allowed[i]), 0, NULL);
    /* Read-only opens, anywhere (a filter cannot see the path). */
    const scmp_datum_t wmask = O_ACCMODE | O_CREAT | O_TRUNC;
    struct scmp_arg_cmp c;
    if (rc == 0) {
        c = cmp_arg(2, SCMP_CMP_MASKED_EQ, wmask, 0);
        rc = add(ctx, sys_nr("openat"), 1, &c);
    }
    if (rc == 0) {
        c = cmp_arg(1, SCMP_CMP_MASKED_EQ, wmask, 0);
        rc = add(ctx, sys_nr("open"), 1, &c);
    }
    for (size_t i = 0; i < sizeof fcntl_cmds / sizeof fcntl_cmds[0] && rc == 0; i++) {
        c = cmp_arg(1, SCMP_CMP_EQ, (scmp_datum_t)fcntl_cmds[i], 0);
        rc = add(ctx, sys_nr("fcntl"), 1, &c);
    }
    for (size_t i = 0; i < sizeof ioctl_reqs / sizeof ioctl_reqs[0] && rc == 0; i++) {
        c = cmp_arg(1, SCMP_CMP_EQ, (scmp_datum_t)ioctl_reqs[i], 0);
        rc = add(ctx, sys_nr("ioctl"), 1, &c);
    }
    for (size_t i = 0; i < sizeof prctl_opts / sizeof prctl_opts[0] && rc == 0; i++) {
        c = cmp_arg(0, SCMP_CMP_EQ, (scmp_datum_t)prctl_opts[i], 0);
        rc = add(ctx, sys_nr("prctl"), 1, &c);
    }
    /* Signal handlers: any query; setting any but SIGSYS's (ours stays). Every number
     * is listed, so that bits above the int the kernel reads cannot pass a !=. */
    if (rc == 0) {
        c = cmp_arg(1, SCMP_CMP_EQ, 0, 0);
        rc = add(ctx, sys_nr("rt_sigaction"), 1, &c);
    }
    for (int s = 1; s <= 64 && rc == 0; s++) {
        if (s == SIGSYS)
            continue;
        c = cmp_arg(0, SCMP_CMP_EQ, (scmp_datum_t)s, 0);
        rc = add(ctx, sys_nr("rt_sigaction"), 1, &c);
    }
    /* Signals to the engine itself only (abort, the sanitizers): a pid cannot be
     * checked to be one of its children, so it signals none (sandbox.h). */
    scmp_datum_t self = (scmp_datum_t)getpid();
    if (rc == 0) {
        c = cmp_arg(0, SCMP_CMP_EQ, self, 0);
        rc = add(ctx, sys_nr("kill"), 1, &c);
    }
    if (rc == 0) {
        c = cmp_arg(0, SCMP_CMP_EQ, self, 0);
        rc = add(ctx, sys_nr("tgkill"), 1, &c);
    }
    /* send() on its sockets, never to an address: an AF_UNIX datagram socket pair would
     * reach any socket named there. Socket pairs are of connected types only (stream,
     * seqpacket: the evaluations' and the checkpoints'), where an address in sendmsg's
     * header (in memory, out of a filter's sight) is refused by the kernel (EISCONN), so
     * sendmsg, which passes a checkpoint its siblings' descriptors, is allowed. */
    if (rc == 0) {
        c = cmp_arg(4, SCMP_CMP_EQ, 0, 0);
        rc = add(ctx, sys_nr("sendto"), 1, &c);
    }
    if (rc == 0) {
        c = cmp_arg(1, SCMP_CMP_MASKED_EQ, 0xf, SOCK_STREAM);
        rc = add(ctx, sys_nr("socketpair"), 1, &c);
    }
    if (rc == 0) {
        c = cmp_arg(1, SCMP_CMP_MASKED_EQ, 0xf, SOCK_SEQPACKET);
        rc = add(ctx, sys_nr("socketpair"), 1, &c);
    }
    if (rc == 0)
        rc = add(ctx, sys_nr("sendmsg"), 0, NULL);
    /* Limits: read any, set the process's own. */
    if (rc == 0) {
        c = cmp_arg(2, SCMP_CMP_EQ, 0, 0);
        rc = add(ctx, sys_nr("prlimit64"), 1, &c);
    }
    if (rc == 0) {
        c = cmp_arg(0, SCMP_CMP_EQ, 0, 0);
        rc = add(ctx, sys_nr("prlimit64"), 1, &c);
    }
    if (rc != 0)
        return rw_err_set(err, RW_EIO, "the sandbox's filter could not be built (%s): "
                          "--no-sandbox runs the engine without it", strerror(-rc));
    return RW_OK;
}

void rw_sandbox_disable(void)
{
    sb.enabled = 0;
}

int rw_sandbox_active(void)
{
    return sb.active;
}

rw_code rw_sandbox_install(int out, int trace_fd, rw_err *err)
{
    if (!sb.enabled || sb.active)
        return RW_OK;
#if !HAVE_SANDBOX
    (void)out, (void)trace_fd;
    return rw_err_set(err, RW_EIO, "the engine has no sandbox on this architecture: "
                      "--no-sandbox runs it without one");
#else
    sb.out = out;
    sb.trace_fd = trace_fd;
    snprintf(sb.trace_path, sizeof sb.trace_path, "/proc/self/fd/%d", trace_fd);
    sb.arch = seccomp_arch_native();
    for (int nr = 0; nr < NSYS; nr++) {
        char *name = seccomp_syscall_resolve_num_arch(sb.arch, nr);
        if (name)
            snprintf(sb.names[nr], NAME_MAX_LEN, "%s", name);
        free(name);
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSYS, &sa, NULL) != 0)
        return rw_err_set(err, RW_EIO, "the sandbox's SIGSYS handler could not be set (%s): "
                          "--no-sandbox runs the engine without it", strerror(errno));
    sigset_t sys;
    sigemptyset(&sys);
    sigaddset(&sys, SIGSYS);
    pthread_sigmask(SIG_UNBLOCK, &sys, NULL);

    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
    if (!ctx)
        return rw_err_set(err, RW_EIO, "the sandbox's filter could not be made: "
                          "--no-sandbox runs the engine without it");
    /* A call of another architecture (int $0x80 from x86-64) is trapped and named too;
     * the filter holds for every thread, those there now included. */
    seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP);
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2); /* a binary tree of the calls */
    rw_code rc = build(ctx, err);
    if (rc == RW_OK) {
        int lr = seccomp_load(ctx);
        if (lr != 0)
            rc = rw_err_set(err, RW_EIO, "the kernel refused the sandbox's filter (%s): "
                            "--no-sandbox runs the engine without it", strerror(-lr));
    }
    seccomp_release(ctx);
    if (rc == RW_OK)
        sb.active = 1;
    return rc;
#endif
}

void rw_sandbox_in_fork(int reply_fd)
{
    if (!sb.active)
        return;
    sb.fork_fd = reply_fd;
    /* The system's call: the C library's prctl is the program's input (ident.c). */
    syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

void rw_sandbox_end_child(pid_t pid)
{
    if (!sb.active && pid > 0)
        kill(pid, SIGKILL);
}
