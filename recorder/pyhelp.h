/* The recorder working in Python: what a hook does when it must call into the
 * interpreter on the recorder's own behalf (defining a code object, naming an
 * exception type, printing an audit argument).
 *
 * Every function here needs the GIL. None is async-signal-safe.
 */
#ifndef RW_PYHELP_H
#define RW_PYHELP_H

#include <Python.h>

#include <stddef.h>

#include "gcmark.h"

/* While the recorder calls into Python: its allocations are not recorded
 * (rw_tls.busy), the cyclic GC cannot start (no finalizers run in the window) and
 * its trigger state is put back when the window ends (gcmark.h: the GC's counts and
 * free lists as if the window had not been, so that collections come where they come
 * in a plain run), the pending exception is set aside and put back untouched, and
 * (trace_off) trace and profile events are off. The C-library calls the program's
 * code makes in the window (a socket's repr asks getsockname) are the program's inputs
 * still: logged, and answered from the log on replay, where the engine's hooks make the
 * same window (rw_tls.busy_py). Pairs nest; leave in the reverse order of entering. */
typedef struct rw_busy {
    PyObject *et, *ev, *etb; /* the pending exception, set aside */
    rw_gc_mark gc;           /* the GC's trigger state at entry */
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

#endif
