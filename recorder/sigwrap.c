/* Where Python signal handlers run, logged and replayed (sigwrap.h).
 *
 * The rewind executable is linked with -Wl,--wrap for _PyErr_CheckSignalsTstate,
 * PyErr_CheckSignals, _PyObject_Call and PyErr_WriteUnraisable against the static
 * libpython (as newref.c's wraps): ceval.o's handle_signals and every other object
 * file's PyErr_CheckSignals come to the first two, and signalmodule.o's pass over the
 * tripped signals calls a handler with _PyObject_Call, or reports a signal that found
 * no Python handler (bpo-43406's race) with PyErr_WriteUnraisable: those two are where
 * a recording logs a handler's run, whichever check made the pass (signalmodule.o's
 * own ones too: signal.signal, raise_signal, pthread_kill, pause). Calls from extension
 * modules come to none of them: a handler run there is unlogged, which the replay
 * reports as a divergence. Without the link options nothing calls the __wrap_
 * functions.
 */
#include "sigwrap.h"

#include <inttypes.h>
#include <stdio.h>

#include "evalbreak.h"
#include "libc/input.h"
#include "source.h"
#include "state.h"

_Atomic uint64_t rw_sig_pending;
uint64_t rw_sig_next_pos = UINT64_MAX; /* rw_in_start (replay) sets 0: the first poll
                                        * finds the real value */

/* arrived[sig - 1]: how many times CPython's C handler ran for sig (through the front
 * handler) with no handler run logged for it since. More than runs when CPython
 * coalesced two arrivals into one trip; then the count only stays up. */
static _Atomic uint32_t arrived[64];

int __real__PyErr_CheckSignalsTstate(PyThreadState *tstate) __attribute__((weak));
int __wrap__PyErr_CheckSignalsTstate(PyThreadState *tstate);
int __real_PyErr_CheckSignals(void) __attribute__((weak));
int __wrap_PyErr_CheckSignals(void);
PyObject *__real__PyObject_Call(PyThreadState *tstate, PyObject *callable, PyObject *args,
                                PyObject *kwargs) __attribute__((weak));
PyObject *__wrap__PyObject_Call(PyThreadState *tstate, PyObject *callable, PyObject *args,
                                PyObject *kwargs);
void __real_PyErr_WriteUnraisable(PyObject *obj) __attribute__((weak));
void __wrap_PyErr_WriteUnraisable(PyObject *obj);
/* Not exported by the shared libpython (the unit tests' link): weak, and then unused. */
int PySignal_SetWakeupFd(int fd) __attribute__((weak));

void rw_sig_note(int sig)
{
    if (sig < 1 || sig > 64)
        return;
    atomic_fetch_add(&arrived[sig - 1], 1);
    atomic_fetch_add(&rw_sig_pending, 1);
}

void rw_sig_forget(void)
{
    for (int i = 0; i < 64; i++)
        atomic_store(&arrived[i], 0);
    atomic_store(&rw_sig_pending, 0);
}

int rw_sig_ran(int sig)
{
    if (rw_in_tls.thread != 1 || sig < 1 || sig > 64)
        return 0; /* CPython runs handlers in the main thread only */
    uint32_t n = atomic_load(&arrived[sig - 1]);
    if (n == 0)
        return 0; /* not a signal's: the program's own call, or a trip of its own */
    atomic_fetch_sub(&arrived[sig - 1], 1); /* only this thread takes */
    atomic_fetch_sub(&rw_sig_pending, 1);
    if (atomic_load_explicit(&rw_in_global, memory_order_relaxed) != RW_IN_RECORD ||
        rw_in_tls.paused)
        return 0;
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, sig);
    rw_in_put(RW_CALL_SIGNAL, 0, 0, &k, NULL, 0);
    return 1;
}

/* Makes CPython see sig as if its C handler had run: the flags and the eval breaker,
 * without the byte to the wakeup fd (a descriptor of the recording: the program's
 * read of it is answered from the log). */
static void trip(int sig)
{
    int fd = PySignal_SetWakeupFd ? PySignal_SetWakeupFd(-1) : -1;
    if (!rw_sig_trip_as_cpython(sig))
        PyErr_SetInterruptEx(sig);
    if (fd >= 0)
        PySignal_SetWakeupFd(fd);
}

void rw_sig_replay_poll(void)
{
    static int polling; /* main thread only */
    if (rw_in_tls.thread != 1 || polling ||
        atomic_load_explicit(&rw_in_global, memory_order_relaxed) != RW_IN_REPLAY)
        return;
    polling = 1;
    int sig;
    uint64_t due;
    while ((sig = rw_in_take_signal(rw_st.nevents, &due)) != 0) {
        if (sig < 0) {
            polling = 0;
            rw_in_diverge("the recording has a signal record without a signal number", NULL);
        }
        trip(sig);
    }
    rw_sig_next_pos = due;
    if (due != UINT64_MAX) /* the engine's hooks look there (source.h) */
        rw_source_trip_by(due ? due - 1 : 0);
    polling = 0;
}

/* CPython's own: what its C handler calls to make the eval loop look at signals. */
void _PyEval_SignalReceived(PyInterpreterState *interp) __attribute__((weak));

/* Whether a check is put off: while rewind itself runs Python code (rw_tls.busy: the
 * audit hook's repr of an argument, and PyObject_Repr checks signals), a handler run
 * there would run inside rewind's hook, with tracing off: out of sight and unlogged,
 * and before handlers a plain run runs first. The trips stay; rearm: the eval loop
 * cleared its flag before this check (handle_signals), so it is set again and the
 * program's next check runs them, logs them (recording) or trips them (replay). */
static inline int put_off(int rearm)
{
    if (RW_LIKELY(!rw_tls.busy))
        return 0;
    if (rearm && _PyEval_SignalReceived)
        _PyEval_SignalReceived(PyInterpreterState_Get());
    return 1;
}

/* What both checks do before CPython's on replay: trip the signals due at this
 * position. */
static inline void before_check(void)
{
    if (RW_UNLIKELY(rw_st.nevents >= rw_sig_next_pos))
        rw_sig_replay_poll();
}

int __wrap__PyErr_CheckSignalsTstate(PyThreadState *tstate)
{
    if (RW_UNLIKELY(put_off(1)))
        return 0;
    rw_evalbreak_main_check(tstate); /* a thread that watches for its spot: the main one */
    before_check();
    return __real__PyErr_CheckSignalsTstate(tstate);
}

int __wrap_PyErr_CheckSignals(void)
{
    if (RW_UNLIKELY(put_off(0)))
        return 0;
    before_check();
    return __real_PyErr_CheckSignals();
}

/* The handler call of signalmodule.c's pass: `_PyObject_Call(tstate, func, (signum,
 * frame), NULL)` in the main thread, for a signal that arrived. A class's __init__ or
 * __call__ (typeobject.c, the other callers) passes other arguments, or comes when no
 * signal is waiting: one load, then the call. */
PyObject *__wrap__PyObject_Call(PyThreadState *tstate, PyObject *callable, PyObject *args,
                                PyObject *kwargs)
{
    if (RW_UNLIKELY(atomic_load_explicit(&rw_sig_pending, memory_order_relaxed) != 0) &&
        !kwargs && PyTuple_CheckExact(args) && PyTuple_GET_SIZE(args) == 2 &&
        PyLong_CheckExact(PyTuple_GET_ITEM(args, 0)) &&
        (PyTuple_GET_ITEM(args, 1) == Py_None || PyFrame_Check(PyTuple_GET_ITEM(args, 1)))) {
        int overflow = 0;
        long sig = PyLong_AsLongAndOverflow(PyTuple_GET_ITEM(args, 0), &overflow);
        if (!overflow && sig >= 1 && sig <= 64)
            rw_sig_ran((int)sig);
    }
    return __real__PyObject_Call(tstate, callable, args, kwargs);
}

/* The other end of a signal's trip: no Python handler when the pass came to it (the
 * program set SIG_IGN or SIG_DFL after the signal arrived: bpo-43406), and CPython
 * reports "Signal N ignored due to race condition" as unraisable, with None. */
void __wrap_PyErr_WriteUnraisable(PyObject *obj)
{
    if (RW_UNLIKELY(atomic_load_explicit(&rw_sig_pending, memory_order_relaxed) != 0) &&
        obj == Py_None) {
        PyObject *t, *v, *tb;
        PyErr_Fetch(&t, &v, &tb);
        if (t == PyExc_OSError && v && PyUnicode_Check(v)) {
            const char *msg = PyUnicode_AsUTF8(v);
            int sig = 0, end = 0;
            if (msg && sscanf(msg, "Signal %d ignored due to race condition%n", &sig, &end) == 1 &&
                end > 0 && msg[end] == '\0')
                rw_sig_ran(sig);
            else if (!msg)
                PyErr_Clear();
        }
        PyErr_Restore(t, v, tb);
    }
    __real_PyErr_WriteUnraisable(obj);
}
