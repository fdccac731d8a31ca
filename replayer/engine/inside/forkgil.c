/* The GIL of a throwaway copy of the engine (server.c fork_eval), which has one thread,
 * and a switch of the GIL asked for as a waiting thread asks (server.c run_end), and
 * when the holder's eval breaker is up for another thread's asynchronous exception.
 *
 * _Fork copies the interpreter as the other threads left it: some wait in take_gil and
 * may have asked the holder to drop it (gil_drop_request, eval_breaker), or hold the
 * GIL's own mutex for an instant. The copy's evaluation would then drop the GIL at its
 * first eval-breaker check and wait, forever, for a thread that does not exist to take
 * it (FORCE_SWITCHING), or block on a mutex nobody will release. PyOS_AfterFork_Child
 * would fix both but also runs the program's os.register_at_fork hooks (random
 * reseeds, threading forgets its threads), which would change what the copy shows.
 *
 * Uses CPython internals (Py_BUILD_CORE): _PyRuntime's GIL and the interpreter's
 * ceval state, 3.11's layout.
 */
#define Py_BUILD_CORE 1
#include <Python.h>

#include "internal/pycore_interp.h"
#include "internal/pycore_pystate.h"
#include "internal/pycore_runtime.h"

#include <pthread.h>

#include "server.h"
#include "threads.h"

/* Python/thread_pthread.h: a condition on the monotonic clock, as the GIL's are made
 * (take_gil's timed waits count on it). Not in the headers. */
int _PyThread_cond_init(pthread_cond_t *cond);

void rw_eng_gil_after_fork(void)
{
    struct _gil_runtime_state *gil = &_PyRuntime.ceval.gil;
    /* The copy's only thread holds the GIL; what guards it starts unlocked. */
    pthread_mutex_init(&gil->mutex, NULL);
    _PyThread_cond_init(&gil->cond);
#ifdef FORCE_SWITCHING
    pthread_mutex_init(&gil->switch_mutex, NULL);
    _PyThread_cond_init(&gil->switch_cond);
#endif
    /* No one waits for it here. Pending calls and signals are not the copy's to run
     * (signals are not delivered in a replay), so the breaker can be clear. */
    PyInterpreterState *interp = _PyInterpreterState_GET();
    _Py_atomic_store_relaxed(&interp->ceval.gil_drop_request, 0);
    _Py_atomic_store_relaxed(&interp->ceval.eval_breaker, 0);
}

int rw_eng_gil_async_exc_elsewhere(void)
{
    PyThreadState *ts = _PyThreadState_GET();
    return ts && ts->interp->ceval.pending.async_exc && ts->async_exc == NULL;
}

void rw_eng_gil_ask_switch(void)
{
    PyInterpreterState *interp = _PyInterpreterState_GET();
    _Py_atomic_store_relaxed(&interp->ceval.gil_drop_request, 1);
    _Py_atomic_store_relaxed(&interp->ceval.eval_breaker, 1);
}

uint32_t rw_eng_gil_holder(void)
{
    struct _gil_runtime_state *gil = &_PyRuntime.ceval.gil;
    if (!_Py_atomic_load_relaxed(&gil->locked))
        return 0;
    /* A holder's thread state lives while it holds the GIL: only read when locked. */
    PyThreadState *ts = (PyThreadState *)_Py_atomic_load_relaxed(&gil->last_holder);
    uint32_t id = ts ? rw_threads_id_of_ident(ts->thread_id) : 0;
    return id ? id : UINT32_MAX;
}
