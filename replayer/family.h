/* A trace's family: the traces of the Python programs its run started (fork children,
 * subprocesses running Python) and of the image it exec'd, found beside it by name
 * ("run.rwd" -> "run.<pid>.rwd", "run.exec.rwd") and checked by their metadata
 * (Metadata.parent_pid and parent_trace). Used by `rewind info` and `--child PID`.
 */
#ifndef RW_FAMILY_H
#define RW_FAMILY_H

#include <stddef.h>
#include <stdint.h>

#include "reader.h"

typedef struct rw_relative {
    char path[4096];       /* the child's trace, as a path usable from here */
    int64_t pid;           /* its Metadata.pid */
    char started_by[16];   /* "fork", "subprocess", "exec" */
    int ended;             /* 1: it has an END record (status below) */
    int exit_status;
    int term_signal;
    char stop_reason[32];
    int damaged;           /* it could not be opened, or was read by recovery (cut short
                            * or damaged; ended says whether it has an END record) */
} rw_relative;

/* Finds the traces that trace_path's run started (not the exec'd image, which
 * RunEnd.exec names), ordered by pid, in a new array *out of *n entries (caller frees
 * with free). r is trace_path's open reader. Returns RW_OK (possibly with *n == 0) or
 * RW_ENOMEM; a folder that cannot be read gives no children. */
rw_code rw_family_children(const char *trace_path, const rw_reader *r, rw_relative **out,
                           size_t *n, rw_err *err);

/* The path of the child trace of trace_path with that pid, in buf: RW_OK, or
 * RW_ENOTFOUND with a message listing the children there are. */
rw_code rw_family_child_path(const char *trace_path, const rw_reader *r, int64_t pid,
                             char *buf, size_t cap, rw_err *err);

/* Opens the trace of trace_path's child pid: its path goes to buf, a new reader to *out
 * (caller frees). RW_ENOTFOUND (listing the children there are), or the reader's
 * errors on the child's trace. */
rw_code rw_family_open_child(const char *trace_path, int64_t pid, char *buf, size_t cap,
                             rw_reader **out, rw_err *err);

#endif
