/* Lock order (locks.c): the order in which threads obtain each semaphore — every lock
 * of CPython's (PyThread_type_lock: _thread.lock, threading.Lock and Condition's
 * waiters, queue.SimpleQueue, the buffered file objects' locks, the import lock) — is
 * logged while recording and enforced by the replay, so that of several threads
 * blocked in C on one lock the one the recording woke is the one the replay wakes.
 *
 * Owner: locks.c. The engine (replayer/engine/inside/server.c) tells it when it is
 * stopped, so that a thread waiting for its turn at a lock while the debugger is idle
 * is not taken for a divergence.
 */
#ifndef RW_LIBC_LOCKS_H
#define RW_LIBC_LOCKS_H

#include <stdatomic.h>

/* Set (to 1, for good in this process) when the program's second thread is given its
 * input stream (rw_in_thread_next): from then on every acquisition is logged. Until
 * then nothing is (one thread needs no order): single-threaded programs pay one load
 * per lock operation. Cleared by rw_in_restart_child. */
extern _Atomic int rw_locks_threaded;

/* The engine is stopped at a position (1) or runs (0): while stopped, a thread that
 * waits for its turn at a lock does not count the time towards a divergence. */
extern _Atomic int rw_locks_engine_stopped;

/* Replay, set by the engine before the program runs (NULL: one thread, or no
 * engine): the position of the first event at or after `from` that the recording has
 * in thread `thread` (UINT64_MAX when none). Callable without the GIL. */
#include <stdint.h>
extern uint64_t (*rw_locks_next_event)(uint32_t thread, uint64_t from);
/* Replay, set by the engine with rw_locks_next_event: the thread whose record the
 * recorded order has next, read without the GIL (for a divergence's report only: racy,
 * and blind to audit records sharing the position). */
extern uint32_t (*rw_locks_next_thread)(void);
/* Replay, set by the engine with them: who holds the GIL now, for the same report (racy):
 * 0 when it is free, its thread's id, or UINT32_MAX for a thread rewind does not know. */
extern uint32_t (*rw_locks_gil_holder)(void);

/* Replay: places claimed in the event order. A thread that comes back from a wait
 * in C claims the position where the recording's thread had the GIL back (locks.c,
 * resume_in_place); until it releases the claim, no other thread makes the event at
 * that position or a later one, so that no thread runs ahead of it. The claim is
 * released when the thread takes its next input or makes its next event. */
extern _Atomic int rw_locks_nclaims; /* claims standing (any thread; one load) */

/* Replay: rw_locks_returning[t] is 1 while thread t is about to take the GIL: from the
 * moment it, back from a wait in C without the GIL, waits for its place
 * (resume_in_place), or asks for a switch of the GIL (the engine's run_end), until its
 * next lock acquisition, replayed input or event (rw_locks_returned); and while it
 * looks for its turn in the engine's wait_turn. */
#define RW_LOCKS_RETURNING 4096
extern _Atomic uint8_t rw_locks_returning[RW_LOCKS_RETURNING];
void rw_locks_returned(void);
/* Whether a thread other than the calling one claims a position <= pos. */
int rw_locks_claimed_before(uint64_t pos);

/* Replay, for a divergence's report: writes into buf (cap bytes, NUL-terminated) whose
 * event the recorded order has next, what each thread waiting inside a lock's wrapper
 * waits for ("the recording's next event (25029) is thread 3's; thread 2 has its turn
 * (acquisition 554) at lock 00100077 and waits for the lock's release; ..."), the
 * claims standing and the threads about to take the GIL, and returns the length.
 * Callable without the GIL. */
#include <stddef.h>
size_t rw_locks_describe(char *buf, size_t cap);

/* Releases the calling thread's claim, if it has one. */
void rw_locks_release(void);

/* Replay of a trace that logs where calls began (Input.started: Metadata.features
 * "input-starts"; rw_locks_input_starts(1) before the run), as the calling thread lets
 * the GIL go in a call of its own (PyEval_SaveThread: threadwrap.c), with the GIL: when
 * its next input comes before its next event (the call that lets the GIL go makes it:
 * a send, a read, a lock's wait), claims the position where that call began in the
 * recording until it takes the input, and returns that position when it is later than
 * the current one (0 otherwise): the caller, once it has let the GIL go, waits for the
 * run to get there (rw_locks_wait_start). What the call's C code does before it (it
 * reads a socket's descriptor, which another thread's close sets to -1) then comes
 * among the other threads' events where it came in the recording. Once the thread is
 * there the claim is soft: the others wait for it at most about 50 ms (a call that
 * first waits for a C library's mutex that a waiting thread holds would otherwise
 * never get there). */
void rw_locks_input_starts(int on);
uint64_t rw_locks_letting_go(void);
void rw_locks_wait_start(uint64_t began);

/* Replay (rw_in_take, for a replayed call other than a lock's): when the calling
 * thread does not hold the GIL (the call was one that lets it go: a read, a sleep,
 * getaddrinfo), claims and waits for the place where the recording's thread had the
 * GIL back, as after a lock (locks.c). recorded_pos: the call's recorded position. */
void rw_locks_resume_after(uint64_t recorded_pos);

#endif
