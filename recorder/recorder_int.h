/* Privates shared by the recorder's .c files: slow-path helpers that run Python
 * code on the recorder's behalf, interning of names, and the pieces rw_record_run
 * assembles (allocation hooks, audit hook, thread table). All need the GIL unless
 * said otherwise.
 */
#ifndef RW_RECORDER_INT_H
#define RW_RECORDER_INT_H

#include "state.h"

#include "rewind.pb-c.h"

/* ---- the recorder working in Python (state.c) ----------------------------------- */

/* While the recorder calls into Python: its allocations are not recorded (busy), the
 * cyclic GC cannot start (no finalizers run in the window), the pending exception is
 * set aside and put back untouched, and (trace_off) trace/profile events are off. */
typedef struct rw_busy {
    PyObject *et, *ev, *etb;
    int gc_was_on;
    int trace_off;
} rw_busy;
void rw_busy_enter(rw_busy *b, int trace_off);
void rw_busy_leave(rw_busy *b);

/* Copies str(o) (o itself when it is a str) as UTF-8 into buf (cap >= 1), cut at
 * cap - 1 bytes on a character boundary and NUL-terminated; returns the length. Never
 * leaves an exception set, never caches anything in o. Must run inside rw_busy. */
size_t rw_py_str(PyObject *o, char *buf, size_t cap);

/* The exception type's name as a traceback prints it: "module.qualname", or the
 * qualname alone for builtins and __main__. Same contract as rw_py_str. */
size_t rw_py_type_name(PyObject *type, char *buf, size_t cap);

/* NameDef id of the NUL-terminated text (exception type names, audit event names),
 * defined in the trace on first use. 0 when out of memory (the failure is recorded). */
uint32_t rw_name_id(const char *text);

/* ---- allocation hooks (alloc.c) ------------------------------------------------- */

/* Wraps the RAW, MEM and OBJ allocators of the running interpreter. Called once,
 * with the GIL, after Py_InitializeFromConfig: blocks allocated earlier are not in the
 * trace, and their frees are recorded like any other (readers ignore frees of unknown
 * blocks, as tracemalloc does). */
void rw_alloc_install(void);

/* ---- audit hook (audit.c) ------------------------------------------------------- */

/* What the audit hook learnt about the exception that reached sys.excepthook. */
typedef struct rw_uncaught {
    int seen;
    char type[256];
    char message[RW_BLOB_MAX + 1];
    uint64_t pos;
    size_t ntb;
    Rewind__TracebackEntry tb[64];   /* outermost first; deeper ones are dropped */
    Rewind__TracebackEntry *tbp[64];
} rw_uncaught;

/* Adds the audit hook (PySys_AddAuditHook). uc receives the uncaught exception; it
 * must live until the end of the run. */
rw_code rw_audit_install(rw_uncaught *uc, rw_err *err);

/* Writes the bounded repr of an audit argument tuple into buf (cap >= 16). Only
 * builtins' own reprs run; other objects print as <TypeName object>. */
size_t rw_audit_repr(PyObject *args, char *buf, size_t cap);

/* ---- threads (threads.c) -------------------------------------------------------- */

/* Defines the calling thread (ThreadDef) and makes it a recorded thread: sets
 * rw_tls.thread and rw_tls.tstate. name may be NULL (unknown). Returns the id, 0 when
 * out of memory. */
uint32_t rw_threads_define_current(const char *name, int is_main);

/* Replaces _thread.start_new_thread (and start_new, and threading._start_new_thread
 * when threading is already imported) with a wrapper that installs the event source
 * in the new thread and defines it before its target runs. Also registers the atexit
 * function that calls rw_threads_refresh_names. */
rw_code rw_threads_wrap(rw_err *err);

/* Re-reads the names of threads that are still alive (threading._active) and of the
 * main thread. Called once near the end of the run, with the interpreter intact. */
void rw_threads_refresh_names(void);

/* The final thread table for RunEnd.threads: n_out entries, owned by the thread
 * table (valid until rw_threads_fini). */
Rewind__ThreadDef **rw_threads_final(size_t *n_out);
void rw_threads_fini(void);

#endif
