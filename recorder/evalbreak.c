/* The eval breaker and signals in threads other than the main one (issue 14).
 *
 * CPython 3.11's DO_TRACING (ceval.c) checks the eval breaker at a function's RESUME
 * before it moves past the instruction, and goes back to the same instruction after
 * handling it. Only the main thread handles signals: another thread that finds the
 * breaker up for a signal leaves it up (handle_signals returns at once) and, traced,
 * runs that RESUME forever, holding the GIL. CPython computes the breaker afresh for
 * the thread that takes the GIL (take_gil, bpo-40010), so this happens when the signal
 * comes while a traced thread holds the GIL and the main thread waits where the signal
 * does not wake it: it came just before the wait, or the wait goes on after EINTR
 * (PyThread_acquire_lock without intr_flag: a buffered file's lock). Plain python3
 * with threading.settrace hangs the same way; under rewind every thread is traced, and
 * a SIGCHLD from a worker process hung a recording of test_asyncio.test_events now and
 * then.
 *
 * The fix (-Wl,--wrap=PyThread_get_thread_ident): when signals are pending and a
 * thread other than the main one, holding the GIL, asks for its identity
 * (handle_signals does, through _Py_IsMainThread), the breaker is computed for that
 * thread as take_gil would: up only for a GIL drop request or an asynchronous
 * exception. The main thread's next take_gil puts it back up, and its handlers run at
 * its next check, as before; where they run is logged (sigwrap.h) and replayed, and
 * the engine runs this same code. Without the link options (the unit tests' shared
 * libpython) nothing calls the wrapper.
 *
 * Uses CPython internals (Py_BUILD_CORE): _PyRuntime's signals_pending and
 * main_thread, the main interpreter's ceval state.
 */
#define Py_BUILD_CORE 1
#include <Python.h>

#include "internal/pycore_frame.h"
#include "opcode.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_runtime.h"

#include "evalbreak.h"
#include "state.h"

unsigned long __real_PyThread_get_thread_ident(void) __attribute__((weak));
unsigned long __wrap_PyThread_get_thread_ident(void);

static inline int signals_pending(void)
{
    return _Py_atomic_load_relaxed(&_PyRuntime.ceval.signals_pending) != 0;
}

/* COMPUTE_EVAL_BREAKER (ceval.c) for a thread that handles neither signals nor
 * pending calls: only a GIL drop request or an asynchronous exception keep the
 * breaker up. */
static void recompute_for_other_thread(PyInterpreterState *interp)
{
    struct _ceval_state *ce = &interp->ceval;
    int up = _Py_atomic_load_relaxed(&ce->gil_drop_request) | ce->pending.async_exc;
    _Py_atomic_store_relaxed(&ce->eval_breaker, up);
}

/* ---- where a thread lets the GIL go (evalbreak.h) --------------------------------- */

/* ts's frame when it is at an instruction of its code, else NULL. */
static _PyInterpreterFrame *frame_at_instr(PyThreadState *ts)
{
    _PyInterpreterFrame *f = ts->cframe ? ts->cframe->current_frame : NULL;
    if (!f || !f->f_code)
        return NULL;
    int i = _PyInterpreterFrame_LASTI(f);
    return i >= 0 && i < (int)Py_SIZE(f->f_code) ? f : NULL;
}

static uint64_t spot_of(PyThreadState *ts)
{
    _PyInterpreterFrame *f = frame_at_instr(ts);
    if (!f)
        return 0;
    return (uint64_t)(uint32_t)f->f_code->co_firstlineno << 32 |
           (uint64_t)(_PyInterpreterFrame_LASTI(f) + 1);
}

uint64_t rw_evalbreak_drop_spot(PyThreadState *ts)
{
    if (!ts || ts->interp != _PyRuntime.interpreters.main ||
        !_Py_atomic_load_relaxed(&ts->interp->ceval.gil_drop_request))
        return 0;
    return spot_of(ts);
}

/* The calling thread's watch (rw_evalbreak_drop_at): ask is NULL when none. */
static __thread struct {
    uint64_t spot;
    void (*ask)(void);
} watch;

/* Keeps the breaker up for the thread that holds the GIL: every check of its comes to
 * handle_signals. */
static void keep_breaker_up(PyInterpreterState *interp)
{
    _Py_atomic_store_relaxed(&_PyRuntime.ceval.signals_pending, 1);
    _Py_atomic_store_relaxed(&interp->ceval.eval_breaker, 1);
}

void rw_evalbreak_drop_at(uint64_t spot, void (*ask)(void))
{
    PyThreadState *ts = PyThreadState_GET();
    if (!ts || ts->interp != _PyRuntime.interpreters.main) {
        ask();
        return;
    }
    watch.spot = spot;
    watch.ask = ask;
    keep_breaker_up(ts->interp);
}

void rw_evalbreak_drop_cancel(void)
{
    watch.ask = NULL;
}

/* Whether ts's frame is at a RESUME (a function's first check, traced): DO_TRACING
 * goes back to the same instruction after the check, so a breaker kept up there would
 * hold the thread at it for ever. */
static int at_resume(PyThreadState *ts)
{
    _PyInterpreterFrame *f = frame_at_instr(ts);
    if (!f)
        return 0;
    int op = _Py_OPCODE(*f->prev_instr);
    return op == RESUME || op == RESUME_QUICK;
}

/* A check of the watching thread ts (holding the GIL): asks at the spot (the request
 * it makes is acted on by this same check, eval_frame_handle_pending looks at it after
 * the signals), keeps the breaker up before it. At a RESUME that is not the spot the
 * replay has left the recording's way (past it the thread makes a call event, and the
 * recording's made no record before it let go): it asks there, as the engine asked at
 * any check before DROP records. */
static void watch_check(PyThreadState *ts)
{
    if (spot_of(ts) == watch.spot || at_resume(ts)) {
        void (*ask)(void) = watch.ask;
        watch.ask = NULL;
        ask();
    } else {
        keep_breaker_up(ts->interp);
    }
}

void rw_evalbreak_main_check(PyThreadState *ts)
{
    if (RW_UNLIKELY(watch.ask != NULL) && ts && ts->interp == _PyRuntime.interpreters.main)
        watch_check(ts);
}

/* ceval.c's handle_signals asks whether the thread may handle signals (the only call
 * out of the loop that DO_TRACING spins in): one that may not, and holds the GIL,
 * lowers the breaker, or looks for the spot it watches. Any other caller
 * (threading.get_ident, RLock, a signal handler in another thread) pays one load. */
unsigned long __wrap_PyThread_get_thread_ident(void)
{
    unsigned long me = __real_PyThread_get_thread_ident();
    if (RW_UNLIKELY(signals_pending()) && me != _PyRuntime.main_thread) {
        PyThreadState *holder =
            (PyThreadState *)_Py_atomic_load_relaxed(&_PyRuntime.gilstate.tstate_current);
        PyInterpreterState *main = _PyRuntime.interpreters.main;
        if (holder && holder->thread_id == me && main) {
            if (RW_UNLIKELY(watch.ask != NULL) && holder->interp == main)
                watch_check(holder);
            else
                recompute_for_other_thread(main);
        }
    }
    return me;
}

void rw_evalbreak_withdraw_drop_request(PyInterpreterState *interp)
{
    _Py_atomic_store_relaxed(&interp->ceval.gil_drop_request, 0);
}
