/* The C library boundary: wrappers the rewind executable exports so that libpython's
 * and extension modules' calls reach the recorder (DESIGN.md, "Recording"). Today the
 * ways out of a process (exit, _exit, exec); input capture (clocks, randomness, files,
 * sockets) will live beside them. Rules for code in this folder: recorder/libc/README.
 */
#ifndef RW_LIBC_H
#define RW_LIBC_H

#include <stdint.h>

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

/* OpenSSL's random bytes are inputs (crypto.c) unless on is 0: the engine of a trace
 * made before they were (Metadata.features: "openssl-draws"), which replays OpenSSL's
 * generator as that recorder ran it. */
void rw_crypto_draws(int on);

/* prctl is an input (ident.c) unless on is 0: the engine of a trace made before it was
 * (Metadata.features: "prctl"), which makes the call as that recorder did. */
void rw_ident_prctl_logged(int on);

/* GLib's clock reads without the GIL are inputs (clock.c) unless on is 0: the engine
 * of a trace made before they were (Metadata.features: "glib-clock"). */
void rw_clock_glib_logged(int on);

/* The system log's calls are inputs (syslog.c) unless on is 0: the engine of a trace
 * made before they were (Metadata.features: "syslog"), which makes them as then. */
void rw_syslog_logged(int on);

/* The mount table's reads are inputs (mntent.c) unless on is 0: the engine of a trace
 * made before they were (Metadata.features: "mntent"), which reads it as then. */
void rw_mntent_logged(int on);

/* Sets each capture above from has(name, ctx), the feature that names it ("openssl-
 * draws", "prctl", "glib-clock", "syslog", "mntent"; and alloc.h's "startup-reuses" and
 * "tracer-objects"):
 * a recorder told to record without one (tests), or the engine of a trace made without
 * it, turns that capture off. Before the program runs. */
void rw_libc_features(int (*has)(const char *name, const void *ctx), const void *ctx);

/* In a vfork child of a recording thread, about to exec path with argv: noted for the
 * parent's FORK record (proc.c). Does nothing anywhere else; async-signal-safe (it
 * only copies into the thread's own storage, which a vfork child shares). */
void rw_proc_note_exec(const char *path, char *const argv[]);

/* Record: hides the recording's own trace files from the program's directory listings
 * (readdir), so that a program that lists the directory the trace is written to sees
 * what it sees without rewind. trace is this process's trace path; the files hidden
 * are those of its family in that directory: the name without ".rwd" and without its
 * trailing ".<pid>" or ".exec" parts (a child's, an exec'd image's) and ".<n>" (an
 * --until-fail attempt's) is the root R, and R.rwd and R(.<digits>|.exec)+.rwd are
 * hidden. Main thread (or a forked child's only thread), before the program runs;
 * NULL turns it off. */
void rw_dir_hide_traces(const char *trace);

/* rewind's own descriptors in a recording process (the trace, the crash handler's
 * memory file and libunwind's pipe, --until-fail's pipe to its supervisor).
 * rw_own_fd moves fd near the top of the descriptor limit (at most 1024; fd itself is
 * closed), so that the program's descriptors are numbered as in a run without rewind,
 * and registers it: close, close_range, dup2 and dup3 leave it alone, the program's
 * and those of a forked child before it execs (close says EBADF, as for a descriptor
 * that is not open, which it is not without rewind; dup2 and dup3 onto it say EBUSY;
 * close_range closes the rest of its range). Returns the descriptor to use (fd when it
 * could not be moved; registered all the same). At most 16; thread-safe. */
int rw_own_fd(int fd);

/* rewind's own close of one of its descriptors: unregisters and closes it. */
int rw_own_fd_close(int fd);

/* Closes every descriptor from 3 on but rewind's own: at the very end of a process,
 * when the program is over and only exit remains. */
void rw_own_fds_close_others(void);

/* Replay: the local copies of installation files that the program has open (their
 * descriptors behind the recorded ones) share their offsets with every fork of the
 * engine, as any descriptor does: a checkpoint taken between an import's open and its
 * read would find the file already read by the engine that went on. Before a fork,
 * rw_files_before_copy notes each one's offset; in the copy, rw_files_unshare gives
 * each a description of its own at that offset, under the same number (reopened
 * through /proc/self/fd; left shared when that fails). Two recorded descriptors that
 * are dups of one file get one description each then. Only the calling thread runs. */
void rw_files_before_copy(void);
void rw_files_unshare(void);

/* Between begin and end, the pipes the calling thread makes are rewind's own
 * (rw_own_fd): for a library rewind calls that makes descriptors (libunwind). */
void rw_own_fds_begin(void);
void rw_own_fds_end(void);

/* The calling thread's name by its start (pthread.c): set in a thread that
 * pthread_create started while capture was on for the thread that called it, 0 in
 * the others. The same in a replay. */
extern __thread uint64_t rw_thread_origin;

/* Threads that pthread_create started for the program (those with an origin) and
 * that have not ended: a replay takes no checkpoint while there is one (a fork copies
 * the calling thread only), also when it has no Python thread state at that moment (a
 * C library's thread between two callbacks). */
extern _Atomic int rw_threads_started_live;

#endif
