/* The C library's ways out of a process, wrapped so that every one of them closes the
 * trace first (DESIGN.md, "Every way a process ends closes its trace").
 *
 * The rewind executable exports these definitions (-rdynamic), so the dynamic linker
 * binds libpython's and every extension module's calls to them; with the static
 * libpython the link binds them directly. Each wrapper does nothing of its own unless
 * a recording is in progress in this very process: then it ends the recording with the
 * exit path named, and calls the C library's function. In a fork or vfork child of the
 * recorded process (whose trace is not this one) only exec acts: a Python image is run
 * under `rewind record` instead (follow.h). Rules for this folder: recorder/libc/README.
 *
 * Inputs (input.h; the layout beside the others in proc.c): fork logs FORK (key
 * empty, result the child's pid or -1) in the parent; in replay no child is made and
 * the parent gets the recorded pid. A failed exec of the recorded process that left
 * the trace open logs EXECVE (key: the path, "/dev/fd/N" for fexecve; result -1, err
 * its errno); in replay nothing is executed: the same steps are answered from the log.
 */

#include "libc.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "follow.h"
#include "input.h"
#include "shmem.h"
#include "state.h"

typedef void (*exit_fn)(int);
typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);
typedef pid_t (*fork_fn)(void);

/* The C library's functions, looked up once before main (a vfork child must not call
 * dlsym). Written before any thread exists, read-only afterwards. */
static exit_fn real_exit;
static exit_fn real__exit;
static execve_fn real_execve;
static fexecve_fn real_fexecve;
static fork_fn real_fork;

/* Ends the recording (recorder.c's on_libc_end), set by the recorder while a run is in
 * progress; NULL otherwise. Written by the main thread only. */
static rw_libc_end_fn end_fn;

__attribute__((constructor)) static void find_real(void)
{
    real_exit = (exit_fn)dlsym(RTLD_NEXT, "exit");
    real__exit = (exit_fn)dlsym(RTLD_NEXT, "_exit");
    real_execve = (execve_fn)dlsym(RTLD_NEXT, "execve");
    real_fexecve = (fexecve_fn)dlsym(RTLD_NEXT, "fexecve");
    real_fork = (fork_fn)dlsym(RTLD_NEXT, "fork");
}

/* 1 when this process is the recorded one and its trace is still open. The pid test
 * is a system call on purpose: after vfork the child shares our memory, and glibc no
 * longer caches the pid. */
static int recording_here(void)
{
    return end_fn && rw_st.pid && rw_real_pid() == rw_st.pid;
}

/* atexit: an exit that did not come through our exit() (glibc's own, when the last
 * thread of a process ends) still closes the trace. After our wrapper it finds the
 * trace closed and does nothing. */
static void at_libc_exit(void)
{
    if (recording_here())
        end_fn(RW_LIBC_ATEXIT, 0, NULL);
}

void rw_libc_set_end(rw_libc_end_fn fn)
{
    static int registered;
    if (fn && !registered)
        registered = atexit(at_libc_exit) == 0;
    end_fn = fn;
}

void exit(int status)
{
    if (recording_here())
        end_fn(RW_LIBC_EXIT, status, NULL);
    if (!real_exit)
        syscall(SYS_exit_group, status);
    real_exit(status);
    __builtin_unreachable();
}

void _exit(int status)
{
    if (recording_here())
        end_fn(RW_LIBC__EXIT, status, NULL);
    if (real__exit)
        real__exit(status);
    syscall(SYS_exit_group, status);
    __builtin_unreachable();
}

void _Exit(int status)
{
    _exit(status);
}

/* exec: the trace is closed before the new image replaces this one (the recorder
 * decides whether to follow a Python image into a trace of its own and may hand back
 * another program to run). When the exec fails the process goes on unrecorded; the
 * trace already says "exec" and the recorder says so on stderr. */
/* In a fork or vfork child of the recorded process (subprocess, multiprocessing's
 * spawn): a Python image is run under `rewind record` into a trace of its own. Only
 * the stack is written here: a vfork child shares the parent's memory. */
static void follow_child(const char *path, char *const argv[], char *const envp[])
{
    size_t argc = 0;
    while (argv && argv[argc])
        argc++;
    char name[RW_FOLLOW_NAME_CAP];
    char *nargv[RW_FOLLOW_EXTRA_ARGS + 2 * argc + 5];
    const char *why;
    const char *exe = rw_follow_argv(path, argv, envp, "subprocess", (long)rw_real_pid(), name,
                                     sizeof name, nargv, RW_FOLLOW_EXTRA_ARGS + 2 * argc + 5, &why);
    if (exe)
        real_execve(exe, nargv, envp); /* returns only when it failed: run it bare */
}

/* EXECVE's key: the path, or /dev/fd/N for fexecve. */
static void exec_key(rw_in_key *k, const char *path, int fd)
{
    char fdpath[32];
    if (fd >= 0) {
        snprintf(fdpath, sizeof fdpath, "/dev/fd/%d", fd);
        path = fdpath;
    }
    rw_in_key_init(k);
    rw_in_key_str(k, path);
}

/* Record: logs an exec that returned (failed) with rc; keeps errno. */
static int exec_failed(int m, const char *path, int fd, int rc)
{
    if (m == RW_IN_RECORD) {
        int e = errno;
        rw_in_key k;
        exec_key(&k, path, fd);
        rw_in_put(RW_CALL_EXECVE, rc, e, &k, NULL, 0);
        errno = e;
    }
    return rc;
}

/* Replay: the recording's steps (the same wrapped calls, in the same order), answered
 * from the log; nothing is executed. An exec that succeeded in the recording has no
 * EXECVE record (its trace ended there): reaching it is a divergence. */
static int replay_exec(const char *path, int fd)
{
    if (recording_here() && fd < 0)
        (void)access(path, X_OK);
    rw_in_key k;
    exec_key(&k, path, fd);
    return (int)rw_in_return(rw_in_take(RW_CALL_EXECVE, &k));
}

static int do_exec(const char *path, int fd, char *const argv[], char *const envp[])
{
    int m = rw_in_mode(); /* off in fork and vfork children: they are not replayed */
    if (m == RW_IN_REPLAY)
        return replay_exec(path, fd);
    if (!recording_here()) {
        rw_proc_note_exec(path, argv);
        if (end_fn && rw_st.pid && path)
            follow_child(path, argv, envp);
        if (fd >= 0)
            return exec_failed(m, path, fd, real_fexecve(fd, argv, envp));
        return exec_failed(m, path, fd, real_execve(path, argv, envp));
    }
    /* os.execvp tries every folder of PATH: only an attempt that can succeed closes
     * the trace. */
    if (fd < 0 && access(path, X_OK) != 0)
        return exec_failed(m, path, fd, real_execve(path, argv, envp));
    rw_libc_exec ex = {path, fd, argv, envp};
    end_fn(RW_LIBC_EXEC, 0, &ex);
    /* Followed: under rewind record. Should that exec fail, the bare one below runs the
     * program unrecorded, and the closed trace names an exec trace that never came. */
    if (ex.path != path || ex.argv != argv || ex.envp != envp)
        real_execve(ex.path, ex.argv, ex.envp);
    int rc;
    if (fd >= 0)
        rc = real_fexecve(fd, argv, envp);
    else
        rc = real_execve(path, argv, envp);
    int saved = errno;
    end_fn(RW_LIBC_EXEC_FAILED, 0, &ex);
    errno = saved;
    return rc;
}

int execve(const char *path, char *const argv[], char *const envp[])
{
    return do_exec(path, -1, argv, envp);
}

int execv(const char *path, char *const argv[])
{
    extern char **environ;
    return do_exec(path, -1, argv, environ);
}

int fexecve(int fd, char *const argv[], char *const envp[])
{
    return do_exec(NULL, fd, argv, envp);
}

/* fork: the parent notes the child (RunEnd.children); a child that runs Python opens
 * its own trace from os.register_at_fork (recorder.c), not here: between fork and
 * exec a child may only make async-signal-safe calls. Input capture is off in the
 * child (its calls are not the recorded process's) until the recorder restarts it
 * there (rw_in_restart_child). In replay the parent gets the recorded pid and no
 * child exists. */
pid_t fork(void)
{
    int m = rw_in_mode();
    rw_in_key k;
    rw_in_key_init(&k);
    pid_t pid;
    int e;
    if (m == RW_IN_REPLAY) {
        pid = (pid_t)rw_in_return(rw_in_take(RW_CALL_FORK, &k));
        e = errno;
    } else {
        pid = real_fork ? real_fork() : (pid_t)syscall(SYS_fork);
        e = errno;
        if (m == RW_IN_RECORD) {
            if (pid == 0) {
                rw_in_tls.thread = 0;
                return pid;
            }
            if (pid > 0)
                rw_shm_forked();
            rw_in_put(RW_CALL_FORK, pid, e, &k, NULL, 0);
        }
    }
    if (pid > 0 && recording_here())
        end_fn(RW_LIBC_FORKED, (int)pid, NULL);
    errno = e;
    return pid;
}
