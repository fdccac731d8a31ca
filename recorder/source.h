/* Event source: the seam between the recorder and the interpreter's event hooks.
 *
 * This backend (source_settrace.c) uses PyEval_SetTrace for call/line/return/exception
 * and PyEval_SetProfile for c_call/c_return/c_exception (with lines off, the profile
 * function alone gives call/return). It and crash.c (which walks frames in signal
 * handlers, as faulthandler does) are the only files that include CPython's internal
 * headers. Other backends (sys.monitoring on 3.12+, a PEP 523 frame evaluator) would
 * implement the same functions. Everything here needs the GIL, but
 * rw_source_extra_index.
 */
#ifndef RW_SOURCE_H
#define RW_SOURCE_H

#include <Python.h>

#include "error.h"

/* Prepares the source (code-object id slot, tables). Call once after the interpreter
 * is initialised and before any other function here. command_text: the source of
 * "<string>" for `-c` runs, or NULL. */
rw_code rw_source_init(const char *command_text, rw_err *err);

/* Starts delivering events of the calling thread to the recorder. */
void rw_source_install_current(void);

/* Same for every other thread that already has a thread state (they are defined
 * when their first event arrives). */
void rw_source_install_others(void);

/* CodeDef id of a code object, defining it (and its file) on first sight. */
uint32_t rw_source_code_id(PyCodeObject *co);

/* The co_extra slot holding each code object's CodeDef id (a uintptr_t; 0 or a
 * missing slot: not defined yet), or -1 before rw_source_init. Reading the slot needs
 * no GIL and defines nothing: crash handlers use it. */
Py_ssize_t rw_source_extra_index(void);

/* Nanoseconds the hook itself costs per line event, measured on a scratch stream
 * (nothing reaches the trace). Call with rw_st set up but before recording starts. */
double rw_source_calibrate(void);

/* 1 when the interpreter is about to kill itself with SIGINT because a
 * KeyboardInterrupt went unhandled (Py_RunMain does that after finalising). */
int rw_source_interrupted(void);

#endif
