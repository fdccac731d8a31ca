/* Thread wrapper: every thread started through _thread (threading included) is
 * defined (threads.h) and gets the event source installed before its target runs.
 * Called once by rw_record_run, main thread, GIL held.
 */
#ifndef RW_THREADWRAP_H
#define RW_THREADWRAP_H

#include <stdint.h>

#include "error.h"

/* Replaces _thread.start_new_thread (and start_new, and threading._start_new_thread
 * when threading is already imported) with a wrapper that installs the event source
 * in the new thread and defines it before its target runs. Also registers the atexit
 * function that calls rw_threads_refresh_names. RW_EPYTHON when it cannot. */
rw_code rw_threadwrap_install(rw_err *err);

/* Called in a thread started through the wrapper once its target has returned, with
 * the GIL: the recorder closes a forked child's trace there when this thread is the
 * child's only thread (its process ends with it, without exit()). NULL: nothing. */
void rw_threadwrap_set_done_hook(void (*fn)(void));

/* Called in a thread started through the wrapper, or started by C code and first
 * running Python (from_c 1), before it is defined, with the GIL and its input stream
 * number: the engine makes threads take their recorded ids there (a thread's id is its
 * rank of definition), and keeps one the recording never defined from running. NULL:
 * nothing. */
void rw_threadwrap_set_define_gate(void (*fn)(uint32_t stream, int from_c));

/* Called in a thread started through the wrapper once it is defined, before its target
 * is called (which allocates before the thread's first event), with the GIL: the
 * engine makes the thread wait there for its recorded turn. NULL: nothing. */
void rw_threadwrap_set_start_gate(void (*fn)(void));

/* Engine, before a replay with several threads runs (applied by rw_threadwrap_install,
 * once the interpreter has its GIL): no thread waiting for the GIL asks
 * its holder to let it go after CPython's switch interval any more (the interval is
 * made an hour), so that the GIL changes hands only where the engine's turns say
 * (server.c): a thread that took it after 5 ms ran on to its next event, allocating
 * where the recording's thread had not. The program still reads and sets its own
 * interval (sys.getswitchinterval, sys.setswitchinterval), which has no effect then. */
void rw_threadwrap_hold_switch_interval(void);

/* The engine's: the calling thread has asked for the GIL to be taken from it at its
 * next eval-breaker check (rw_threadwrap_asked: 1), or not any more (0: it made its
 * next event). When it has let it go there and taken it back (CPython's
 * _PyThreadState_Swap to its state, with no PyEval_SaveThread between: not a call
 * that let the GIL go), rw_threadwrap_gil_back is called, with the GIL. */
void rw_threadwrap_asked(int asked);
extern void (*rw_threadwrap_gil_back)(void);

/* The block PyThread_start_new_thread allocates for the new thread (its function and
 * argument, freed by that thread when it first runs) comes from the C library and is
 * not recorded, unless on is 0: the engine of a trace made before (Metadata.features:
 * "thread-boxes"). */
void rw_threadwrap_thread_boxes(int on);

/* _thread._count()'s answers are logged (recording) and taken from the log (replay),
 * and a thread's uncaught exception is reported inside the recorded thread, unless on
 * is 0: the engine of a trace made before (Metadata.features: "thread-count"). */
void rw_threadwrap_thread_count(int on);

/* A _thread thread's inputs are logged (and replayed) until its thread state goes, so
 * that its teardown's finalizers (a thread-local object that closes its file) are
 * answered from the log, unless on is 0: the engine of a trace made before
 * (Metadata.features: "thread-teardown"), and a recorder told so (tests), which stop
 * at the function's return. */
void rw_threadwrap_thread_teardown(int on);

/* Threads that C code starts and that run Python through PyGILState_Ensure are
 * followed (recorded, and in a replay given their recorded ids and streams) unless
 * on is 0: the engine of a trace made before they were (Metadata.features). In a
 * replay, stream_of gives such a thread the input stream the recording's had, by its
 * origin (libc/libc.h's rw_thread_origin; GIL held); NULL: the next one
 * (rw_in_thread_next), as when recording. */
void rw_threadwrap_follow_c(int on, uint32_t (*stream_of)(uint64_t origin));

#endif
