/* The C library boundary: wrappers the rewind executable exports so that libpython's
 * and extension modules' calls reach the recorder (DESIGN.md, "Recording"). Today the
 * ways out of a process (exit, _exit, exec); input capture (clocks, randomness, files,
 * sockets) will live beside them. Rules for code in this folder: recorder/libc/README.
 */
#ifndef RW_LIBC_H
#define RW_LIBC_H

/* How the process is leaving, as a wrapper saw it. */
typedef enum rw_libc_way {
    RW_LIBC_EXIT,        /* exit(status): after a SystemExit, or a C extension's exit() */
    RW_LIBC__EXIT,       /* _exit(status) / _Exit: os._exit, or C code */
    RW_LIBC_EXEC,        /* execve/execv/fexecve about to run (ex filled) */
    RW_LIBC_EXEC_FAILED, /* the exec returned: the process goes on, unrecorded */
    RW_LIBC_FORKED,      /* fork() returned in the parent: status is the child's pid */
    RW_LIBC_ATEXIT,      /* the C library's atexit handlers run, and no wrapper saw an
                          * exit: the last thread of the process ended (glibc calls its
                          * own exit(0) then), status 0 */
} rw_libc_way;

/* An exec about to happen. The callback may replace path, argv and envp (to follow a
 * Python image into a trace of its own); fd >= 0 for fexecve (path is then NULL). */
typedef struct rw_libc_exec {
    const char *path;
    int fd;
    char *const *argv;
    char *const *envp;
} rw_libc_exec;

/* Ends the recording; called by a wrapper in the recorded process only (never in a
 * fork or vfork child), in the thread that is leaving, GIL held or not. */
typedef void (*rw_libc_end_fn)(rw_libc_way way, int status, rw_libc_exec *ex);

/* Arms (fn) or disarms (NULL) the wrappers. Main thread, before and after the run. */
void rw_libc_set_end(rw_libc_end_fn fn);

/* In a vfork child of a recording thread, about to exec path with argv: noted for the
 * parent's FORK record (proc.c). Does nothing anywhere else; async-signal-safe (it
 * only copies into the thread's own storage, which a vfork child shares). */
void rw_proc_note_exec(const char *path, char *const argv[]);

#endif
