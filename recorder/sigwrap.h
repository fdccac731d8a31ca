/* Signals in a recording and its replay (docs/reexecution.md, "Signals"; issue 14).
 *
 * A Python signal handler runs where the interpreter checks for tripped signals: at an
 * eval-breaker check (ceval.c's handle_signals calls _PyErr_CheckSignalsTstate) or in
 * PyErr_CheckSignals, which C code calls after a system call failed with EINTR, after
 * os.kill, signal.raise_signal, signal.pause, and now and then in long loops (sre,
 * long arithmetic). When the signal arrived is asynchronous; where its handler runs is
 * what a replay must repeat.
 *
 * Recording:
 *  - libc/signals.c's sigaction wrapper puts a front handler before CPython's C-level
 *    handler (signal_handler, recognised as the handler PyOS_setsig installs): the
 *    front sets the signal's bit in rw_sig_pending, then calls CPython's, with input
 *    capture paused (its write to the wakeup fd is not an input of the program).
 *  - sigwrap.c wraps (-Wl,--wrap, with the static libpython) _PyErr_CheckSignalsTstate
 *    and PyErr_CheckSignals: in the main thread, each pending signal is logged as a
 *    SIGNAL record (key: the signal number) at the current event position before
 *    CPython runs the handlers. The calls inside signalmodule.c (raise_signal,
 *    pthread_kill, pause, sigtimedwait) are not wrapped: libc/signals.c logs the
 *    pending signals right after those calls return instead (rw_sig_log_pending).
 *
 * Replay (the engine):
 *  - the front handler drops every real signal (the engine's are not the program's);
 *    kill, raise, alarm, setitimer are answered from the log, not performed.
 *  - rw_sig_replay_poll, called after each input record the main thread takes
 *    (input.c) and after each event (the engine's hooks, when rw_st.nevents reaches
 *    rw_sig_next_pos): while the main thread's next record is a SIGNAL whose position
 *    has been reached, takes it and trips the signal (PyErr_SetInterruptEx, the wakeup
 *    fd off): CPython runs the handler at its next check, which is at the recorded
 *    event position, and after the same inputs.
 */
#ifndef RW_SIGWRAP_H
#define RW_SIGWRAP_H

#include <stdatomic.h>
#include <stdint.h>

/* Bit sig-1: CPython's C handler ran for sig and its Python handler has not been
 * logged yet. Set by the front handler (any thread, in a signal handler), taken by the
 * main thread. */
extern _Atomic uint64_t rw_sig_pending;

/* Replay: the position at which the main thread's next record, a SIGNAL, is due
 * (UINT64_MAX: the next record is not one). Main thread only. */
extern uint64_t rw_sig_next_pos;

/* Record: in the main thread, logs the pending signals as SIGNAL records (their
 * handlers are about to run) and clears them. Anywhere else does nothing. */
void rw_sig_log_pending(void);

/* Replay: trips the signals whose SIGNAL records are due (see above); updates
 * rw_sig_next_pos. Main thread, replay mode; elsewhere does nothing. */
void rw_sig_replay_poll(void);

#endif
