/* Audit events of a recording (what PySys_AddAuditHook / sys.addaudithook hooks saw).
 *
 * rw_audit_scan walks the AUDIT records of a position range in order and hands each
 * one, with the recording thread's shadow stack at that point, to a callback. Used
 * by cli/cmd_audit.c; nothing here prints. The reader may be shared; a scan is not.
 */
#ifndef RW_AUDIT_H
#define RW_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "reader.h"

typedef struct rw_audit_opts {
    uint64_t from, to;            /* records with from <= pos < to (to = nevents: all) */
    const char *const *match;     /* fnmatch globs on the event name; none = all */
    size_t nmatch;
    uint32_t thread;              /* ThreadDef id to keep; 0 = every thread */
} rw_audit_opts;

typedef struct rw_audit_event {
    uint64_t pos;                 /* events before it */
    uint32_t thread;              /* ThreadDef id */
    const char *name;             /* event name ("open"); "" when unknown */
    const char *args;             /* bounded repr of the arguments (not terminated) */
    size_t args_len;
    const rw_stack *stack;        /* Python stack then (C frames included); may be NULL */
} rw_audit_event;

/* Returns 0 to go on, non-zero to stop the scan (the scan then returns RW_OK). */
typedef int (*rw_audit_fn)(void *ctx, const rw_audit_event *ev);

/* Calls fn for every AUDIT record in o's range whose name matches one of o->match and
 * whose thread is o->thread. Everything handed to fn is borrowed and valid during
 * the call only. Errors: the reader's (RW_ECORRUPT, RW_EIO, RW_ENOMEM). */
rw_code rw_audit_scan(const rw_reader *r, const rw_audit_opts *o, rw_audit_fn fn, void *ctx,
                      rw_err *err);

#endif
