/* Audit hook (PySys_AddAuditHook): every audit event becomes an AUDIT record, and
 * "sys.excepthook" also the UNCAUGHT record and what RunEnd says of the uncaught
 * exception. Named audithook, not audit: replayer/audit.h is the analysis that reads
 * these records back (rw_audit_scan). Installed once by rw_record_run, GIL held.
 */
#ifndef RW_AUDITHOOK_H
#define RW_AUDITHOOK_H

#include <Python.h>

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "state.h" /* RW_BLOB_MAX */
#include "rewind.pb-c.h"

#define RW_UNCAUGHT_TB_MAX 64 /* traceback entries kept; deeper ones are dropped */

/* What the audit hook learnt about the exception that reached sys.excepthook. Filled
 * by the hook (GIL); read by recorder.c's finish() once the program has run. */
typedef struct rw_uncaught {
    int seen;                /* the UNCAUGHT record was written (at event pos) */
    char type[256];
    char message[RW_BLOB_MAX + 1];
    uint64_t pos;
    size_t ntb;
    Rewind__TracebackEntry tb[RW_UNCAUGHT_TB_MAX];   /* outermost first */
    Rewind__TracebackEntry *tbp[RW_UNCAUGHT_TB_MAX];
} rw_uncaught;

/* Adds the audit hook. uc receives the uncaught exception; it must live until the
 * end of the run (audit hooks cannot be removed: recording stops instead). */
rw_code rw_audithook_install(rw_uncaught *uc, rw_err *err);

/* The engine's, for a replay with several threads: turn(0) before an audit record is
 * written (waits for the thread's turn, as events do), turn(1) after. GIL held. Set
 * before the run. */
void rw_audithook_set_turn(void (*turn)(int written));

/* Writes the bounded repr of an audit argument tuple into buf (cap >= 16). Only
 * builtins' own reprs run; other objects print as <TypeName object>. Needs rw_busy. */
size_t rw_audithook_repr(PyObject *args, char *buf, size_t cap);

#endif
