/* Where Python signal handlers run, logged and replayed (sigwrap.h).
 *
 * The rewind executable is linked with -Wl,--wrap=_PyErr_CheckSignalsTstate and
 * -Wl,--wrap=PyErr_CheckSignals against the static libpython (as newref.c's wraps):
 * ceval.o's handle_signals and every other object file's PyErr_CheckSignals come here.
 * Calls inside signalmodule.o and from extension modules do not (libc/signals.c covers
 * the first; the second have a handler run unlogged, which the replay reports as a
 * divergence). Without the link options nothing calls the __wrap_ functions.
 */
#include "sigwrap.h"

#include <inttypes.h>
#include <stdio.h>

#include "libc/input.h"
#include "source.h"
#include "state.h"

_Atomic uint64_t rw_sig_pending;
uint64_t rw_sig_next_pos = UINT64_MAX; /* rw_in_start (replay) sets 0: the first poll
                                        * finds the real value */

int __real__PyErr_CheckSignalsTstate(PyThreadState *tstate) __attribute__((weak));
int __wrap__PyErr_CheckSignalsTstate(PyThreadState *tstate);
int __real_PyErr_CheckSignals(void) __attribute__((weak));
int __wrap_PyErr_CheckSignals(void);
/* Not exported by the shared libpython (the unit tests' link): weak, and then unused. */
int PySignal_SetWakeupFd(int fd) __attribute__((weak));

void rw_sig_log_pending(void)
{
    if (rw_in_tls.thread != 1)
        return; /* CPython runs handlers in the main thread only */
    uint64_t m = atomic_exchange(&rw_sig_pending, 0);
    if (!m || rw_in_mode() != RW_IN_RECORD)
        return;
    for (int sig = 1; sig <= 64; sig++)
        if (m & (UINT64_C(1) << (sig - 1))) {
            rw_in_key k;
            rw_in_key_init(&k);
            rw_in_key_i64(&k, sig);
            rw_in_put(RW_CALL_SIGNAL, 0, 0, &k, NULL, 0);
        }
}

/* Makes CPython see sig as if its C handler had run: the flags and the eval breaker,
 * without the byte to the wakeup fd (a descriptor of the recording: the program's
 * read of it is answered from the log). */
static void trip(int sig)
{
    int fd = PySignal_SetWakeupFd ? PySignal_SetWakeupFd(-1) : -1;
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

/* What both checks do before CPython's: log the signals noted since (recording), or
 * trip the ones due at this position (replay). */
static inline void before_check(void)
{
    if (RW_UNLIKELY(atomic_load_explicit(&rw_sig_pending, memory_order_relaxed)))
        rw_sig_log_pending();
    else if (RW_UNLIKELY(rw_st.nevents >= rw_sig_next_pos))
        rw_sig_replay_poll();
}

int __wrap__PyErr_CheckSignalsTstate(PyThreadState *tstate)
{
    before_check();
    return __real__PyErr_CheckSignalsTstate(tstate);
}

int __wrap_PyErr_CheckSignals(void)
{
    before_check();
    return __real_PyErr_CheckSignals();
}
