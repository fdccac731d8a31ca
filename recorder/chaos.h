/* Chaos mode (`rewind record --chaos`): perturbs, from one seed, what a program may not
 * rely on, so that rare interleavings and timings show up sooner:
 *   - thread hand-overs: at random moments (every 50 µs to 1 ms) a helper thread takes
 *     the GIL for a few microseconds, so that whichever thread holds it gives it up
 *     at its next call or backward jump and the threads queue up again; the switch
 *     interval is redrawn each time (10 µs to 1 ms);
 *   - readiness: the events epoll_wait returns are shuffled, and when poll or select
 *     report several ready descriptors some are held back (reported at a later call,
 *     as if they became ready just after), one always kept;
 *   - clocks: the wall and monotonic clocks jump ahead by up to 1 ms on a quarter of
 *     the reads, never backwards.
 * Every perturbed value is logged as the input the program saw (recorder/libc), and
 * thread order is the logged event order, so the trace replays as any other. The
 * descriptor and clock perturbations are drawn from the seed and the call's rank in
 * its family: the same seed gives the same choices to the same sequence of calls.
 * The hand-over moments are timed (a helper thread), hence not repeatable.
 *
 * rw_chaos_start runs once (recorder.c, main thread, GIL held, before the program);
 * the perturbing functions are called by recorder/libc's wrappers in record mode only,
 * on the values they are about to log. No Python headers here (libc/ includes it).
 */
#ifndef RW_CHAOS_H
#define RW_CHAOS_H

#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/time.h>
#include <time.h>

/* Turns chaos on with seed (!= 0): the first switch interval, the helper thread that
 * forces hand-overs. Needs the GIL. A helper thread that cannot start leaves the other
 * perturbations on. replaying (the re-execution engine of a chaos trace): only makes
 * what the recording allocated here (the helper's thread state), at the same point
 * of the run, so that addresses repeat; nothing is perturbed. */
void rw_chaos_start(uint64_t seed, int replaying);

/* Sets the seed of the value perturbations (clocks, readiness) and starts their draws
 * again from the first; 0 turns them off. rw_chaos_start calls it; tests call it
 * alone (no interpreter needed). Before the program runs, or with the GIL held. */
void rw_chaos_set_seed(uint64_t seed);

/* 1 when chaos is on (any thread; one relaxed load). */
int rw_chaos_active(void);

/* A clock value about to be logged: moved ahead by the skew drawn for this read, and
 * never before the last value given for the same clock. Clocks other than the wall,
 * monotonic and boot clocks are left alone. */
void rw_chaos_clock(clockid_t clock, struct timespec *tp);

/* gettimeofday's value: as rw_chaos_clock(CLOCK_REALTIME). */
void rw_chaos_timeval(struct timeval *tv);

/* epoll_wait's n > 1 events: shuffled. */
void rw_chaos_epoll(struct epoll_event *ev, int n);

/* poll's result r (> 1 ready entries): some ready entries' revents cleared, at least
 * one kept. Returns the new count. */
int rw_chaos_poll(struct pollfd *fds, nfds_t nfds, int r);

/* select's result r (> 1 bits set across the sets given): some bits cleared, at least
 * one kept. Returns the new count. */
int rw_chaos_select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, int r);

#endif
