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
 *    front counts the signal's arrival (rw_sig_note), then calls CPython's, with input
 *    capture paused (its write to the wakeup fd is not an input of the program).
 *  - sigwrap.c wraps (-Wl,--wrap, with the static libpython) what CPython's pass over
 *    the tripped signals calls for each: _PyObject_Call with the Python handler and
 *    (signum, frame), or PyErr_WriteUnraisable when the handler was gone (bpo-43406).
 *    There, in the main thread, a signal that arrived is logged as a SIGNAL record
 *    (key: the signal number) at the current event position, right before its handler
 *    runs, whichever check made the pass: a signal that arrives while an earlier
 *    handler of the same pass runs gets its own record at its own position.
 *  - sigwrap.c also wraps _PyErr_CheckSignalsTstate and PyErr_CheckSignals: while
 *    rewind itself runs Python code (rw_tls.busy: the audit hook's repr of an
 *    argument, and PyObject_Repr checks signals), a check is put off to the program's
 *    next one, so that no handler runs inside rewind's hook, out of sight.
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

/* How many signals arrived (CPython's C handler ran for them, through the front
 * handler) and have no handler run logged yet: a hint, zero on the wrappers' fast
 * path. Written by rw_sig_note (any thread, in a signal handler) and rw_sig_ran. */
extern _Atomic uint64_t rw_sig_pending;

/* Record: sig arrived; the front handler calls this before CPython's C handler.
 * Async-signal-safe. */
void rw_sig_note(int sig);

/* A fork child: no signal has arrived (CPython clears its trips there too). */
void rw_sig_forget(void);

/* CPython's pass over the tripped signals is at sig's Python handler (or found none:
 * the race of bpo-43406). Record: when sig arrived, logs a SIGNAL record at the current
 * position and returns 1. Anywhere else (another thread, a trip that no signal made,
 * a replay) returns 0. */
int rw_sig_ran(int sig);

/* Replay: the position at which the main thread's next record, a SIGNAL, is due
 * (UINT64_MAX: the next record is not one). Main thread only. */
extern uint64_t rw_sig_next_pos;

/* Replay: makes CPython see sig as its C handler does (libc/signals.c calls it),
 * also when the program's handler for sig is SIG_IGN or SIG_DFL by now:
 * PyErr_SetInterruptEx trips nothing then, and a recording whose pass over the
 * signals found no handler (the race of bpo-43406) reported it as unraisable. Returns
 * 0 when CPython's C handler is not known (no PyOS_setsig yet). */
int rw_sig_trip_as_cpython(int sig);

/* Replay: trips the signals whose SIGNAL records are due (see above); updates
 * rw_sig_next_pos. Main thread, replay mode; elsewhere does nothing. */
void rw_sig_replay_poll(void);

#endif
