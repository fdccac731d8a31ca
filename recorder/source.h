/* Event source: the seam between the recorder and the interpreter's event hooks.
 *
 * This backend (source_settrace.c) uses PyEval_SetTrace for call/line/return/exception
 * and PyEval_SetProfile for c_call/c_return/c_exception (with lines off, the profile
 * function alone gives call/return). Other backends (sys.monitoring on 3.12+, a PEP
 * 523 frame evaluator) would implement the same functions, and take the ids of code
 * objects, C functions and names from defs.h as this one does. Everything here needs
 * the GIL, and rw_defs_init done first.
 */
#ifndef RW_SOURCE_H
#define RW_SOURCE_H

#include <Python.h>

/* The hook functions of this source (Py_tracefunc), for an engine that wraps them. */
int rw_source_trace(PyObject *obj, PyFrameObject *f, int what, PyObject *arg);
int rw_source_profile(PyObject *obj, PyFrameObject *f, int what, PyObject *arg);

/* Engine mode (recorder.h, rw_record_engine): from now on install() puts trace and
 * profile in place of the recorder's own; they must call rw_source_trace and
 * rw_source_profile for every call. NULL, NULL: the recorder's own. Before any install;
 * recording never calls it, so its hooks pay nothing. */
void rw_source_set_hooks(Py_tracefunc trace, Py_tracefunc profile);

/* Engine mode with the recorder's own hooks (a single-threaded replay): after an event,
 * when rw_st.nevents > rw_source_trip_at (UINT64_MAX while recording: never), the hooks
 * call trip(f, what, arg), which looks at what is due there (the engine's stop, a
 * checkpoint, a signal, a divergence) and sets rw_source_trip_at again. One compare per
 * event instead of a wrapper around every hook. Main thread, before any install. */
extern _Atomic uint64_t rw_source_trip_at;
void rw_source_set_trip(void (*trip)(PyFrameObject *f, int what, PyObject *arg));

/* Makes the hooks call trip after event `at` at the latest (no effect without one):
 * for a position learned outside the hooks (the next signal, after an input). */
void rw_source_trip_by(uint64_t at);

/* Starts delivering events of the calling thread to the recorder. */
void rw_source_install_current(void);

/* Same for every other thread that already has a thread state (they are defined
 * when their first event arrives). */
void rw_source_install_others(void);

/* Nanoseconds the hook itself costs per line event, measured on a scratch stream
 * (nothing reaches the trace). Call with rw_st set up but before recording starts. */
double rw_source_calibrate(void);

/* 1 when the interpreter is about to kill itself with SIGINT because a
 * KeyboardInterrupt went unhandled (Py_RunMain does that after finalising). */
int rw_source_interrupted(void);

/* A new trace in a forked child starts in the middle of the program: writes one CALL
 * (and, with lines, one LINE at the current line) for every Python frame of the
 * calling thread, outermost first, so that the trace's stacks are whole from its first
 * event. Needs the GIL and the new writer's stream. */
void rw_source_seed_stack(void);

/* str() of the code of the last SystemExit raised, when it was neither an int nor
 * None ("" otherwise): what python3 prints on stderr as it exits. GIL. */
const char *rw_source_exit_message(void);

/* 1 once a SystemExit has been raised (with lines on). GIL. */
int rw_source_system_exit_seen(void);

#endif
