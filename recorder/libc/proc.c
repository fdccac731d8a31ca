/* Child processes, logged at the C-library boundary (DESIGN.md, "Nondeterministic
 * inputs"; the pattern is recorder/libc/input.h's read() example). Record mode
 * performs each call and logs it; replay mode performs nothing (no child is made, no
 * signal sent) and answers from the log.
 *
 * Wraps: vfork posix_spawn posix_spawnp system forkpty waitpid wait wait3 wait4 waitid
 * kill killpg tgkill, all imported by libpython 3.11 (os.system, pty.fork) but tgkill
 * (wrapped for C extensions). glibc's system and forkpty make their child with its
 * internals (no wrapper sees it): they are logged whole. fork
 * and execve are exits.c's (they close the trace); pipe/pipe2 are files.c's, syscall()
 * (pidfd_open, pidfd_send_signal) ident.c's.
 *
 * Encodings (key: little-endian int64s, then at most one string; data: "i64" a
 * little-endian int64):
 *
 * call         key                                       result        data
 * FORK         (empty)                                   child's pid   vfork: what the child
 *              (vfork here; fork in exits.c)             or -1         exec'd, its path and
 *                                                                      argv joined by spaces
 *                                                                      (none: it did not)
 * POSIX_SPAWN  the path and argv joined by spaces        child's pid,  -
 *              ("/bin/echo echo hi")                     or -1 with err
 *                                                        the error
 *                                                        number returned
 * SYSTEM       the command                               its status    -
 * FORKPTY      name asked (0/1), termios given (0/1),    child's pid   i64 master fd, then
 *              winsize given (0/1)                       or -1         the name (asked for)
 * OPENPTY      as FORKPTY                                0 or -1       i64 master fd, i64
 *                                                                      slave fd, then the
 *                                                                      name (asked for)
 * WAIT         kind (0 waitpid, 1 wait, 2 wait3, 3       pid           i64 status; then
 *              wait4), pid (-1 for wait/wait3),                        struct rusage when
 *              options, status asked (0/1), rusage                     asked for
 *              asked (0/1)
 * WAITID       idtype, id, options                       0/-1          siginfo_t
 * KILL         kind (0 kill, 1 killpg, 2 tgkill), pid    0/-1          -
 *              (pgrp, tgid), signal, tid (tgkill; else 0)
 *
 * vfork: the child shares our memory, stack included, until it execs or exits, so the
 * wrapper is assembly, as glibc's is: the return address lives in a register across
 * the system call (the child may overwrite the stack slot), and the logging happens in
 * the parent once it runs again. In record mode input capture is paused around the
 * system call: the child, which sees the same thread-local state, calls the wrappers
 * through (its dup2/close/exec are not the recorded process's inputs). In replay no
 * child exists: the parent gets the recorded pid, and what the child would have sent
 * through its pipes is answered by the read wrappers. Rules for this folder:
 * recorder/libc/README.md.
 */
#include "input.h"
#include "shmem.h"
#include "libc.h"

#include <dlfcn.h>
#include <pty.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define STR_(x) #x
/* A macro's value as a string (the system call number in the assembly vfork). */
#define STR(x) STR_(x)

typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                        const posix_spawnattr_t *, char *const[], char *const[]);

/* The C library's functions, written by the constructor before main and any thread,
 * read-only afterwards. Global because a wrapper gets no context. */
static struct proc_state {
    spawn_fn posix_spawn;
    spawn_fn posix_spawnp;
    pid_t (*waitpid)(pid_t, int *, int);
    pid_t (*wait)(int *);
    pid_t (*wait3)(int *, int, struct rusage *);
    pid_t (*wait4)(pid_t, int *, int, struct rusage *);
    int (*waitid)(idtype_t, id_t, siginfo_t *, int);
    int (*kill)(pid_t, int);
    int (*killpg)(pid_t, int);
    int (*tgkill)(pid_t, pid_t, int);
    int (*system)(const char *);
    pid_t (*forkpty)(int *, char *, const struct termios *, const struct winsize *);
    int (*openpty)(int *, int *, char *, const struct termios *, const struct winsize *);
} proc;

#define RESOLVE(name) proc.name = (__typeof__(proc.name))dlsym(RTLD_NEXT, #name)

__attribute__((constructor)) static void proc_resolve(void)
{
    RESOLVE(posix_spawn);
    RESOLVE(posix_spawnp);
    RESOLVE(waitpid);
    RESOLVE(wait);
    RESOLVE(wait3);
    RESOLVE(wait4);
    RESOLVE(waitid);
    RESOLVE(kill);
    RESOLVE(killpg);
    RESOLVE(tgkill);
    RESOLVE(system);
    RESOLVE(forkpty);
    RESOLVE(openpty);
}

/* ---- vfork ---- */

/* The exec a vfork child made, noted by exits.c's exec wrapper in the child (which
 * shares this thread's memory, thread-local storage included, until it execs) and
 * logged by the parent with the pid. Armed by the parent around the system call. */
static __thread struct vfork_exec {
    int armed;
    size_t n;
    char text[1024];
} vfork_exec;

static void note(const char *s)
{
    while (s && *s && vfork_exec.n < sizeof vfork_exec.text)
        vfork_exec.text[vfork_exec.n++] = *s++;
}

void rw_proc_note_exec(const char *path, char *const argv[])
{
    if (!vfork_exec.armed)
        return;
    vfork_exec.n = 0; /* the last attempt is the one that ran (execvp tries a PATH) */
    note(path);
    for (size_t i = 0; argv && argv[i]; i++) {
        note(" ");
        note(argv[i]);
    }
}

/* Called by the assembly vfork below before the system call: the mode; in record mode
 * capture is paused until rw_proc_vfork_after. Not part of any header: the assembly
 * vfork is its only caller. */
__attribute__((visibility("hidden"), used)) int rw_proc_vfork_before(void)
{
    int m = rw_in_mode();
    if (m == RW_IN_RECORD) {
        rw_in_pause();
        vfork_exec.n = 0;
        vfork_exec.armed = 1;
    }
    return m;
}

/* Replay: the recorded pid, and no child. */
__attribute__((visibility("hidden"), used)) pid_t rw_proc_vfork_replay(void)
{
    rw_in_key k;
    rw_in_key_init(&k);
    return (pid_t)rw_in_return(rw_in_take(RW_CALL_FORK, &k));
}

/* In the parent after the system call (or when it failed): raw is its result
 * (-errno on failure), m what rw_proc_vfork_before returned. */
__attribute__((visibility("hidden"), used)) pid_t rw_proc_vfork_after(long raw, int m)
{
    pid_t pid = raw < 0 ? -1 : (pid_t)raw;
    if (raw < 0)
        errno = (int)-raw;
    if (m == RW_IN_RECORD) {
        int e = errno;
        vfork_exec.armed = 0;
        rw_in_resume();
        rw_in_key k;
        rw_in_key_init(&k);
        rw_in_put(RW_CALL_FORK, pid, e, &k, vfork_exec.text, pid > 0 ? vfork_exec.n : 0);
        errno = e;
    }
    return pid;
}

/* Under AddressSanitizer the child must not share our stack: its shadow memory would
 * be the parent's too (ASan's own vfork interceptor, which this replaces, handles that),
 * so the assembly vfork makes a plain fork, which _posixsubprocess's child does not tell apart.
 * The FORK record then cannot say what the child exec'd (the note is in its memory). */
#if defined(__SANITIZE_ADDRESS__) || defined(RW_SANITIZE)
#define RW_VFORK_NR SYS_fork
#else
#define RW_VFORK_NR SYS_vfork
#endif

#if defined(__x86_64__)
/* pid_t vfork(void). Stack at entry: the return address. */
__asm__(".text\n"
        ".globl vfork\n"
        ".type vfork,@function\n"
        "vfork:\n"
        "    sub $8, %rsp\n" /* the call below on a 16-byte aligned stack */
        "    call rw_proc_vfork_before\n"
        "    add $8, %rsp\n"
        "    cmp $2, %eax\n" /* RW_IN_REPLAY */
        "    je rw_proc_vfork_replay\n"
        "    mov %eax, %esi\n" /* the mode survives the system call in both tasks */
        "    pop %rdi\n"       /* the return address, out of the child's way */
        "    mov $" STR(RW_VFORK_NR) ", %eax\n"
        "    syscall\n"
        "    push %rdi\n"
        "    test %rax, %rax\n"
        "    jz 1f\n"
        "    mov %rax, %rdi\n"
        "    jmp rw_proc_vfork_after\n" /* parent (or failure): returns to our caller */
        "1:  ret\n"                     /* child: 0, nothing logged or written */
        ".size vfork, .-vfork\n");
#endif

/* ---- posix_spawn ---- */

static int do_spawn(spawn_fn real, pid_t *pid, const char *path,
                    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
                    char *const argv[], char *const envp[])
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return real(pid, path, fa, attr, argv, envp);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_str(&k, path);
    for (size_t i = 0; argv && argv[i]; i++) {
        rw_in_key_str(&k, " ");
        rw_in_key_str(&k, argv[i]);
    }
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_POSIX_SPAWN, &k);
        if (g->result >= 0) {
            if (pid)
                *pid = (pid_t)g->result;
            return 0;
        }
        return g->err;
    }
    pid_t own;
    rw_in_pause(); /* logged whole (see system) */
    int rc = real(pid ? pid : &own, path, fa, attr, argv, envp);
    rw_in_resume();
    int e = errno;
    rw_in_put(RW_CALL_POSIX_SPAWN, rc == 0 ? (pid ? *pid : own) : -1, rc, &k, NULL, 0);
    errno = e;
    return rc;
}

int posix_spawn(pid_t *restrict pid, const char *restrict path,
                const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *restrict attr,
                char *const argv[restrict], char *const envp[restrict])
{
    return do_spawn(proc.posix_spawn, pid, path, fa, attr, argv, envp);
}

int posix_spawnp(pid_t *restrict pid, const char *restrict file,
                 const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *restrict attr,
                 char *const argv[restrict], char *const envp[restrict])
{
    return do_spawn(proc.posix_spawnp, pid, file, fa, attr, argv, envp);
}

/* os.system: the shell is not run in replay. */
int system(const char *command)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return proc.system(command);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_str(&k, command);
    if (m == RW_IN_REPLAY)
        return (int)rw_in_return(rw_in_take(RW_CALL_SYSTEM, &k));
    rw_in_pause(); /* logged whole: nothing the C library does inside is the program's */
    int r = proc.system(command);
    rw_in_resume();
    int e = errno;
    rw_in_put(RW_CALL_SYSTEM, r, e, &k, NULL, 0);
    errno = e;
    return r;
}

/* FORKPTY's and OPENPTY's key: which of name, termios and window size were given. */
static void pty_key(rw_in_key *k, const char *name, const struct termios *termp,
                    const struct winsize *winp)
{
    rw_in_key_init(k);
    rw_in_key_i64(k, name != NULL);
    rw_in_key_i64(k, termp != NULL);
    rw_in_key_i64(k, winp != NULL);
}

/* Replay: the nfd descriptors of g's data into *fd[i] (those given), then the name
 * (the C library's contract: a buffer large enough for it). */
static void pty_take(const rw_input *g, int *const *fd, size_t nfd, char *name)
{
    size_t head = nfd * sizeof(int64_t);
    for (size_t i = 0; i < nfd; i++) {
        int64_t v = -1;
        if (g->data_len >= head)
            memcpy(&v, g->data + i * sizeof v, sizeof v);
        if (fd[i])
            *fd[i] = (int)v;
    }
    if (name) {
        size_t n = g->data_len > head ? g->data_len - head : 0;
        memcpy(name, g->data + head, n);
        name[n] = '\0';
    }
}

/* FORKPTY's and OPENPTY's data: nfd int64 descriptors, then the name (when asked for,
 * at most 256 bytes) into data, which has room for both. Returns its length. */
static size_t pty_data(uint8_t *data, const int64_t *fd, size_t nfd, const char *name)
{
    size_t n = nfd * sizeof *fd;
    memcpy(data, fd, n);
    if (name) {
        size_t len = strnlen(name, 256);
        memcpy(data + n, name, len);
        n += len;
    }
    return n;
}

/* pty.fork, os.forkpty: the child runs Python on, with capture off until the
 * recorder restarts it there (as after fork). */
pid_t forkpty(int *amaster, char *name, const struct termios *termp,
              const struct winsize *winp)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return proc.forkpty(amaster, name, termp, winp);
    rw_in_key k;
    pty_key(&k, name, termp, winp);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_FORKPTY, &k);
        if (g->result > 0)
            pty_take(g, (int *[]){amaster}, 1, name);
        return (pid_t)rw_in_return(g);
    }
    rw_in_pause(); /* logged whole; resumed in the child too */
    pid_t pid = proc.forkpty(amaster, name, termp, winp);
    rw_in_resume();
    int e = errno;
    if (pid == 0) {
        rw_in_tls.thread = 0;
        return 0;
    }
    if (pid > 0)
        rw_shm_forked();
    uint8_t data[8 + 256];
    int64_t fd = amaster ? *amaster : -1;
    size_t n = pid > 0 ? pty_data(data, &fd, 1, name) : 0;
    rw_in_put(RW_CALL_FORKPTY, pid, e, &k, data, n);
    errno = e;
    return pid;
}

/* os.openpty, pty.openpty: glibc opens /dev/ptmx and then the slave with its internal
 * open, which no wrapper sees (and the replay's sandbox stops), so the pair is logged
 * whole; on replay the descriptors are the recorded numbers, with nothing behind them
 * (reads and writes on them come from the log). */
int openpty(int *amaster, int *aslave, char *name, const struct termios *termp,
            const struct winsize *winp)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return proc.openpty(amaster, aslave, name, termp, winp);
    rw_in_key k;
    pty_key(&k, name, termp, winp);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_OPENPTY, &k);
        if (g->result == 0)
            pty_take(g, (int *[]){amaster, aslave}, 2, name);
        return (int)rw_in_return(g);
    }
    rw_in_pause(); /* logged whole */
    int r = proc.openpty(amaster, aslave, name, termp, winp);
    int e = errno;
    rw_in_resume();
    uint8_t data[16 + 256];
    int64_t fd[2] = {amaster ? *amaster : -1, aslave ? *aslave : -1};
    size_t n = r == 0 ? pty_data(data, fd, 2, name) : 0;
    rw_in_put(RW_CALL_OPENPTY, r, e, &k, data, n);
    errno = e;
    return r;
}

/* ---- waiting ---- */

enum { W_WAITPID, W_WAIT, W_WAIT3, W_WAIT4 };

static pid_t real_wait(int kind, pid_t pid, int *status, int options, struct rusage *ru)
{
    switch (kind) {
    case W_WAIT:
        return proc.wait(status);
    case W_WAIT3:
        return proc.wait3(status, options, ru);
    case W_WAIT4:
        return proc.wait4(pid, status, options, ru);
    default:
        return proc.waitpid(pid, status, options);
    }
}

static pid_t do_wait(int kind, pid_t pid, int *status, int options, struct rusage *ru)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return real_wait(kind, pid, status, options, ru);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, kind);
    rw_in_key_i64(&k, pid);
    rw_in_key_i64(&k, options);
    rw_in_key_i64(&k, status != NULL);
    rw_in_key_i64(&k, ru != NULL);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_WAIT, &k);
        if (g->result > 0) {
            int64_t st = 0;
            size_t have = g->data_len;
            if (have >= 8)
                memcpy(&st, g->data, 8);
            if (status)
                *status = (int)st;
            if (ru) {
                memset(ru, 0, sizeof *ru);
                if (have > 8)
                    memcpy(ru, g->data + 8, have - 8 < sizeof *ru ? have - 8 : sizeof *ru);
            }
        }
        return (pid_t)rw_in_return(g);
    }
    pid_t r = real_wait(kind, pid, status, options, ru);
    int e = errno;
    uint8_t data[8 + sizeof(struct rusage)];
    size_t n = 0;
    if (r > 0) {
        int64_t st = status ? *status : 0;
        memcpy(data, &st, 8);
        n = 8;
        if (ru) {
            memcpy(data + 8, ru, sizeof *ru);
            n += sizeof *ru;
        }
    }
    rw_in_put(RW_CALL_WAIT, r, e, &k, data, n);
    errno = e;
    return r;
}

pid_t waitpid(pid_t pid, int *status, int options)
{
    return do_wait(W_WAITPID, pid, status, options, NULL);
}

pid_t wait(int *status)
{
    return do_wait(W_WAIT, -1, status, 0, NULL);
}

pid_t wait3(int *status, int options, struct rusage *ru)
{
    return do_wait(W_WAIT3, -1, status, options, ru);
}

pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
    return do_wait(W_WAIT4, pid, status, options, ru);
}

int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return proc.waitid(idtype, id, info, options);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, idtype);
    rw_in_key_i64(&k, id);
    rw_in_key_i64(&k, options);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_WAITID, &k);
        if (g->result == 0 && info) {
            memset(info, 0, sizeof *info);
            memcpy(info, g->data, g->data_len < sizeof *info ? g->data_len : sizeof *info);
        }
        return (int)rw_in_return(g);
    }
    int r = proc.waitid(idtype, id, info, options);
    int e = errno;
    rw_in_put(RW_CALL_WAITID, r, e, &k, info, r == 0 && info ? sizeof *info : 0);
    errno = e;
    return r;
}

/* ---- signals to other processes: not sent in replay ---- */

enum { K_KILL, K_KILLPG, K_TGKILL };

static int do_kill(int kind, pid_t pid, pid_t tid, int sig)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return kind == K_KILL     ? proc.kill(pid, sig)
               : kind == K_KILLPG ? proc.killpg(pid, sig)
                                  : proc.tgkill(pid, tid, sig);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, kind);
    rw_in_key_i64(&k, pid);
    rw_in_key_i64(&k, sig);
    rw_in_key_i64(&k, tid);
    if (m == RW_IN_REPLAY)
        return (int)rw_in_return(rw_in_take(RW_CALL_KILL, &k));
    int r = kind == K_KILL     ? proc.kill(pid, sig)
            : kind == K_KILLPG ? proc.killpg(pid, sig)
                               : proc.tgkill(pid, tid, sig);
    return (int)rw_in_logged(RW_CALL_KILL, &k, r, errno, NULL, 0);
}

int kill(pid_t pid, int sig)
{
    return do_kill(K_KILL, pid, 0, sig);
}

int killpg(pid_t pgrp, int sig)
{
    return do_kill(K_KILLPG, pgrp, 0, sig);
}

int tgkill(pid_t tgid, pid_t tid, int sig)
{
    return do_kill(K_TGKILL, tgid, tid, sig);
}
