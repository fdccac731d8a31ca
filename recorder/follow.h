/* Following: a Python program that the recorded one starts (exec of a Python image,
 * subprocess running python3 or sys.executable) is recorded into a trace of its own,
 * named from this one ("run.rwd" -> "run.<pid>.rwd", an exec -> "run.exec.rwd"), by
 * running it under `rewind record` instead of the bare interpreter.
 *
 * rw_follow_init runs once in the recording process (main thread, before the program);
 * everything it prepares is read-only afterwards, so that the functions below can run
 * in a vfork child, where nothing may be allocated, locked or written to shared memory:
 * they only read what was prepared and write into the caller's (stack) buffers.
 */
#ifndef RW_FOLLOW_H
#define RW_FOLLOW_H

#include <limits.h>
#include <stddef.h>

#include "error.h"
#include "recorder.h"

/* Arguments rw_follow_argv adds in front of the program's own, at most. */
#define RW_FOLLOW_EXTRA_ARGS 48

/* rw_follow_argv's name buffer: the child trace's path, what it passes on, and the
 * interpreter a script names (RW_FOLLOW_STORE bytes at its end). */
#define RW_FOLLOW_STORE (2 * PATH_MAX)
#define RW_FOLLOW_NAME_CAP (2 * PATH_MAX + 64 + RW_FOLLOW_STORE)

/* Prepares following for the run recording into trace (its path as given) with the
 * interpreter python (its path as given), passing on o's recording options. When
 * o->follow is 0 nothing is followed. Errors: RW_ENOMEM. */
rw_code rw_follow_init(const char *trace, const char *python, const rw_record_opts *o,
                       rw_err *err);

/* Builds, in out[0..outcap), the argv that records the program `path argv` (an exec
 * that is about to happen, with the environment envp; NULL: this process's) into a
 * trace of its own, and returns the path to exec instead (the rewind executable); NULL
 * when it is not followed, with *why (a static string) saying why, or NULL when the
 * image is not Python at all. A Python image is our interpreter by any of its names
 * (a virtual environment's link), a script whose `#!` line names it (directly or
 * through `/usr/bin/env python3`), or `env python3 ...`. how is "exec" (the recorded
 * process itself execs: the new trace is "<stem>.exec.rwd") or "subprocess" (a child
 * of the recorded process: "<stem>.<pid>.rwd"). The child trace's path is written to
 * name (cap bytes, RW_FOLLOW_NAME_CAP). Async-signal-safe and vfork-safe: it reads a
 * script's first line and looks at files with the system's calls, not the wrapped
 * C library's. */
const char *rw_follow_argv(const char *path, char *const argv[], char *const envp[],
                           const char *how, long pid, char *name, size_t cap, char **out,
                           size_t outcap, const char **why);

/* The path of the trace of the forked child pid: "<stem>.<pid>.rwd". */
void rw_follow_child_trace(long pid, char *name, size_t cap);

/* The part of a child trace's path after the folder (for ExecInfo.trace). */
const char *rw_follow_base(const char *name);

/* The family pipe: the first recording of a run (`rewind record`, or the image a
 * recording exec'd) makes a pipe; its write end is held by every recording the run
 * starts (forked children inherit it, subprocesses get it across their exec with
 * --family-fd) until it ends, and is out of the program's reach (rw_own_fd). At its
 * end the first recording closes its own copy and waits, at most timeout_s seconds,
 * for the end of file: the traces of the programs it started are then whole when
 * `rewind record` returns (a forkserver or a resource tracker ends just after its
 * parent). Returns 1 when some still ran after timeout_s, else 0 (also when there is
 * no pipe: a child's run, --no-follow). */
int rw_follow_wait_family(double timeout_s);

#endif
