/* The program's own trace and profile functions, chained behind rewind's hooks.
 *
 * CPython has one trace and one profile slot per thread; rewind's hooks hold them. Every
 * way of setting a slot (sys.settrace/setprofile, PyEval_SetTrace/SetProfile from C as
 * coverage's CTracer does, cProfile, the trampolines removing a function that raised)
 * goes through _PyEval_SetTrace/_PyEval_SetProfile, whose entries rw_chain_install
 * redirects here: a function the program sets becomes the thread's chained function and
 * rewind's hook stays. The hooks record an event, then hand it to rw_chain_trace or
 * rw_chain_profile, which call the chained function as CPython would have.
 * Everything here needs the GIL. Owner of the per-thread chained functions: this file.
 */
#ifndef RW_CHAIN_H
#define RW_CHAIN_H

#include <Python.h>

/* Takes over the slots rewind's hooks occupy: trace (when trace_hook is not NULL) and
 * profile (profile_hook), the functions rewind installs there. From now on, setting a
 * function other than these in the calling thread chains it: the thread's slot keeps
 * rewind's hook, and its object (what sys.gettrace()/getprofile() return) becomes the
 * program's, None when none is set. Also makes frame.f_trace_lines a flag of the
 * program's alone (rewind's hook keeps getting line events of a frame the program set it
 * False on). Once, before user code, main thread. Returns 0, or -1 when the interpreter's
 * code could not be redirected (nothing changed then: the program's functions replace
 * rewind's hooks as before, and rw_chain_on() says 0). */
int rw_chain_install(Py_tracefunc trace_hook, Py_tracefunc profile_hook);

/* 1 once rw_chain_install succeeded. */
int rw_chain_on(void);

/* Called by rewind's trace hook, after it recorded the event, when its object is not
 * NULL (the thread has a chained function, or had one): calls the chained trace function
 * with what CPython's call_trace would have given it (line events only where the
 * program's f_trace_lines is True) and returns its result (-1: it raised, and CPython's
 * trampoline has already removed it). */
int rw_chain_trace(PyObject *obj, PyFrameObject *f, int what, PyObject *arg);

/* The same for rewind's profile hook and the chained profile function: every event. */
int rw_chain_profile(PyObject *obj, PyFrameObject *f, int what, PyObject *arg);

#endif
