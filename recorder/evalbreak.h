/* The eval breaker's state as the replay's threads leave it (evalbreak.c). */
#ifndef RW_EVALBREAK_H
#define RW_EVALBREAK_H

#include <Python.h>

/* Withdraws a request that the GIL's holder let it go (gil_drop_request), so that its
 * drop_gil does not wait for another thread to take it (threadwrap.c, a thread that
 * asked for a switch and ends). The eval breaker stays as it is: the next thread to
 * take the GIL computes it afresh. GIL held. */
void rw_evalbreak_withdraw_drop_request(PyInterpreterState *interp);

/* Where a thread lets the GIL go at an eval-breaker check (format/records.h, DROP).
 * CPython 3.11 traced checks the breaker at a function's first instruction before its
 * call event (ceval.c, DO_TRACING), so two checks can follow each other with no record
 * between them: the end of a C call, and the RESUME of a weak reference's callback that
 * the next instruction's deallocation calls. Which one the recording's thread let go
 * at decides what the other thread finds (the reference dead or alive: CPython's
 * test_weakref). The spot of a frame: co_firstlineno << 32 | (offset of the
 * instruction being run, in code units, + 1); 0 for none. */

/* The recording: the spot of ts's frame when ts lets the GIL go because another thread
 * asked for it (gil_drop_request up, from _PyThreadState_Swap(NULL) in
 * eval_frame_handle_pending); 0 when no request is up or ts has no Python frame. */
uint64_t rw_evalbreak_drop_spot(PyThreadState *ts);

/* The engine: the calling thread (holding the GIL) calls ask() (which asks for the GIL
 * to be taken from it, so it lets go at that same check) at its first eval-breaker
 * check whose spot is `spot`. Until then the breaker is kept up for it, through the
 * signals flag: a thread other than the main one comes to PyThread_get_thread_ident in
 * handle_signals, the main one to rw_evalbreak_main_check. Cancelled by
 * rw_evalbreak_drop_cancel (its next event, a call that lets the GIL go). */
void rw_evalbreak_drop_at(uint64_t spot, void (*ask)(void));
void rw_evalbreak_drop_cancel(void);

/* _PyErr_CheckSignalsTstate's wrapper (sigwrap.c), main thread, after handle_signals
 * lowered the signals flag: the check above for the main thread. */
void rw_evalbreak_main_check(PyThreadState *ts);

#endif
