/* Chaos mode (chaos.h): the draws, the clock skews, the readiness perturbations and
 * the hand-over helper thread. */
#include <Python.h>

#include "chaos.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "libc/input.h"

/* The draws' families: each has its own counter, so that the descriptor and clock
 * choices depend only on the seed and on the rank of the call in its family. */
enum { S_CLOCK, S_READY, S_SWITCH, S_HELPER, NSTREAMS };

#define SKEW_MAX_NS 1000000  /* a clock read jumps ahead by at most 1 ms */
#define NCLOCKS 8            /* clock ids 0 .. 7: REALTIME .. BOOTTIME */
#define SWITCH_MIN_US 10     /* the switch interval drawn: 10 µs .. 1 ms, log-uniform */
#define SWITCH_SPAN 100      /* max / min */
#define DROP_MAX_US 50       /* a hand-over gives the GIL up for at most 50 µs */
#define HELPER_MIN_US 50     /* the helper forces a hand-over every 50 µs .. 1 ms */
#define HELPER_MAX_US 1000

/* Chaos state. seed: set once by rw_chaos_start before the program runs (0: off),
 * read by every thread. count: each family's draws so far (atomic: poll and epoll are
 * logged without the GIL). last: per clock, the last value handed out (ns), written by
 * logged clock reads, which hold the GIL. Global because the libc wrappers that call
 * in get no context. */
static struct chaos {
    _Atomic uint64_t seed;
    _Atomic uint64_t count[NSTREAMS];
    _Atomic int64_t last[NCLOCKS];
    pthread_t helper;
} C;

/* splitmix64's finaliser. */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* The next draw of family s. */
static uint64_t draw(int s)
{
    uint64_t n = atomic_fetch_add_explicit(&C.count[s], 1, memory_order_relaxed);
    return mix(atomic_load_explicit(&C.seed, memory_order_relaxed) ^
               mix(((uint64_t)s << 56) ^ n));
}

/* A value in [0, n) from draw r. */
static uint64_t below(uint64_t r, uint64_t n)
{
    return n ? r % n : 0;
}

void rw_chaos_set_seed(uint64_t seed)
{
    for (int i = 0; i < NSTREAMS; i++)
        atomic_store(&C.count[i], 0);
    for (int i = 0; i < NCLOCKS; i++)
        atomic_store(&C.last[i], 0);
    atomic_store(&C.seed, seed);
}

int rw_chaos_active(void)
{
    return atomic_load_explicit(&C.seed, memory_order_relaxed) != 0;
}

/* ---- clocks ----------------------------------------------------------------------- */

static int skewed(clockid_t c)
{
    return c == CLOCK_REALTIME || c == CLOCK_MONOTONIC || c == CLOCK_MONOTONIC_RAW ||
           c == CLOCK_REALTIME_COARSE || c == CLOCK_MONOTONIC_COARSE || c == CLOCK_BOOTTIME;
}

/* The value (ns) to give for clock c whose real reading is ns. */
static int64_t skew(clockid_t c, int64_t ns)
{
    uint64_t r = draw(S_CLOCK);
    int64_t v = ns;
    if ((r & 3) == 0)
        v += (int64_t)below(r >> 2, SKEW_MAX_NS + 1);
    int64_t last = atomic_load_explicit(&C.last[c], memory_order_relaxed);
    if (v < last)
        v = last;
    atomic_store_explicit(&C.last[c], v, memory_order_relaxed);
    return v;
}

void rw_chaos_clock(clockid_t clock, struct timespec *tp)
{
    if (!rw_chaos_active() || !tp || clock < 0 || clock >= NCLOCKS || !skewed(clock))
        return;
    int64_t v = skew(clock, (int64_t)tp->tv_sec * 1000000000 + tp->tv_nsec);
    tp->tv_sec = v / 1000000000;
    tp->tv_nsec = v % 1000000000;
}

void rw_chaos_timeval(struct timeval *tv)
{
    if (!rw_chaos_active() || !tv)
        return;
    int64_t v = skew(CLOCK_REALTIME, (int64_t)tv->tv_sec * 1000000000 + tv->tv_usec * 1000);
    tv->tv_sec = v / 1000000000;
    tv->tv_usec = (v % 1000000000) / 1000;
}

/* ---- readiness -------------------------------------------------------------------- */

void rw_chaos_epoll(struct epoll_event *ev, int n)
{
    if (!rw_chaos_active() || !ev || n < 2)
        return;
    for (int i = n - 1; i > 0; i--) { /* Fisher-Yates */
        int j = (int)below(draw(S_READY), (uint64_t)i + 1);
        struct epoll_event t = ev[i];
        ev[i] = ev[j];
        ev[j] = t;
    }
}

int rw_chaos_poll(struct pollfd *fds, nfds_t nfds, int r)
{
    if (!rw_chaos_active() || !fds || r < 2)
        return r;
    /* keep: the rank among the ready entries of the one always reported. */
    int keep = (int)below(draw(S_READY), (uint64_t)r), rank = 0, left = 0;
    for (nfds_t i = 0; i < nfds; i++) {
        if (!fds[i].revents)
            continue;
        if (rank++ != keep && (draw(S_READY) & 1))
            fds[i].revents = 0;
        else
            left++;
    }
    return left;
}

int rw_chaos_select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, int r)
{
    if (!rw_chaos_active() || r < 2 || nfds <= 0)
        return r;
    if (nfds > FD_SETSIZE)
        nfds = FD_SETSIZE;
    fd_set *sets[3] = {rd, wr, ex};
    int keep = (int)below(draw(S_READY), (uint64_t)r), rank = 0, left = 0;
    for (int s = 0; s < 3; s++) {
        if (!sets[s])
            continue;
        for (int fd = 0; fd < nfds; fd++) {
            if (!FD_ISSET(fd, sets[s]))
                continue;
            if (rank++ != keep && (draw(S_READY) & 1))
                FD_CLR(fd, sets[s]);
            else
                left++;
        }
    }
    return left;
}

/* ---- thread hand-overs ------------------------------------------------------------ */

/* A switch interval drawn log-uniformly in [SWITCH_MIN_US, SWITCH_MIN_US * SPAN]. */
static unsigned long interval_us(uint64_t r)
{
    double u = (double)(r >> 11) / 9007199254740992.0; /* [0, 1) */
    double us = SWITCH_MIN_US * pow(SWITCH_SPAN, u);
    return (unsigned long)us;
}

/* The helper thread: runs no Python code and makes no event; every signal blocked.
 * At random moments it asks for the GIL with its own thread state: the holder, any
 * program thread, is made to drop it at its next eval-breaker check (a call, a
 * backward jump), wherever that falls; the helper redraws the switch interval, keeps
 * the GIL a few microseconds so that the program's other threads queue up, and lets
 * it go to whichever of them the kernel wakes. It ends when the interpreter
 * finalises (a thread taking the GIL then is ended by CPython itself).
 *
 * Not instrumented by ASan: CPython ends it with pthread_exit from inside take_gil,
 * uninstrumented code that does not unpoison this frame's redzones first, and ASan's
 * own teardown of the thread then writes onto them (a stack-buffer-underflow report
 * in a sanitizer build, seen in test_until_fail). */
__attribute__((no_sanitize("address")))
static void *helper_main(void *arg)
{
    PyThreadState *ts = arg;
    ts->thread_id = PyThread_get_thread_ident(); /* it was made in the main thread */
    ts->native_thread_id = PyThread_get_thread_native_id();
    while (!_Py_IsFinalizing()) {
        uint64_t r = draw(S_HELPER);
        long us = HELPER_MIN_US + (long)below(r, HELPER_MAX_US - HELPER_MIN_US + 1);
        struct timespec nap = {0, us * 1000};
        nanosleep(&nap, NULL);
        if (_Py_IsFinalizing())
            break;
        PyEval_RestoreThread(ts);
        _PyEval_SetSwitchInterval(interval_us(draw(S_SWITCH)));
        struct timespec hold = {0, (long)below(r >> 20, DROP_MAX_US + 1) * 1000};
        nanosleep(&hold, NULL);
        PyEval_SaveThread();
    }
    return NULL;
}

void rw_chaos_start(uint64_t seed, int replaying)
{
    if (!seed)
        return;
    /* The helper's thread state, made here in both modes: its block comes from
     * Python's allocator, which must hand out the same addresses to a replay. */
    PyThreadState *ts = PyThreadState_New(PyThreadState_Get()->interp);
    rw_chaos_set_seed(seed);
    _PyEval_SetSwitchInterval(interval_us(draw(S_SWITCH)));
    if (replaying) {
        rw_chaos_set_seed(0); /* a replay answers every value from the log */
        return;
    }
    if (!ts)
        return;
    sigset_t all, was;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &was);
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&at, 256 * 1024);
    rw_in_pause(); /* rewind's own thread: not one the program started (libc/pthread.c) */
    (void)pthread_create(&C.helper, &at, helper_main, ts);
    rw_in_resume();
    pthread_attr_destroy(&at);
    pthread_sigmask(SIG_SETMASK, &was, NULL);
}
