/* The eval breaker's state as the replay's threads leave it (evalbreak.c). */
#ifndef RW_EVALBREAK_H
#define RW_EVALBREAK_H

#include <Python.h>

/* Withdraws a request that the GIL's holder let it go (gil_drop_request), so that its
 * drop_gil does not wait for another thread to take it (threadwrap.c, a thread that
 * asked for a switch and ends). The eval breaker stays as it is: the next thread to
 * take the GIL computes it afresh. GIL held. */
void rw_evalbreak_withdraw_drop_request(PyInterpreterState *interp);

#endif
