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

/* ceval.c's handle_signals asks whether the thread may handle signals (the only call
 * out of the loop that DO_TRACING spins in): one that may not, and holds the GIL,
 * lowers the breaker. Any other caller (threading.get_ident, RLock, a signal handler
 * in another thread) pays one load. */
unsigned long __wrap_PyThread_get_thread_ident(void)
{
    unsigned long me = __real_PyThread_get_thread_ident();
    if (RW_UNLIKELY(signals_pending()) && me != _PyRuntime.main_thread) {
        PyThreadState *holder =
            (PyThreadState *)_Py_atomic_load_relaxed(&_PyRuntime.gilstate.tstate_current);
        PyInterpreterState *main = _PyRuntime.interpreters.main;
        if (holder && holder->thread_id == me && main)
            recompute_for_other_thread(main);
    }
    return me;
}

void rw_evalbreak_withdraw_drop_request(PyInterpreterState *interp)
{
    _Py_atomic_store_relaxed(&interp->ceval.gil_drop_request, 0);
}
