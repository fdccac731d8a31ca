/* Input capture, the core every C-library wrapper uses (DESIGN.md, "Nondeterministic
 * inputs"; format/inputs.h for the record and the call numbers).
 *
 * A wrapper asks rw_in_mode() first:
 *  - RW_IN_OFF: call the C library and return (not a program thread, rewind's own
 *    code, no recording): this is also the case in every process rewind is not
 *    recording or replaying.
 *  - RW_IN_RECORD: call the C library, then rw_in_put() the result, errno, key and the
 *    bytes the call produced; return what the C library returned, errno as it left it.
 *  - RW_IN_REPLAY: perform nothing: g = rw_in_take(call, &key) gives the recorded
 *    record (the thread's next one; a different call or key is a divergence and
 *    rw_in_take does not return); copy g->data where the call would have written,
 *    then `errno = g->err` and return g->result.
 *
 *     ssize_t read(int fd, void *buf, size_t n)
 *     {
 *         int m = rw_in_mode();
 *         if (m == RW_IN_OFF)
 *             return real.read(fd, buf, n);
 *         rw_in_key k;
 *         rw_in_key_init(&k);
 *         rw_in_key_i64(&k, fd);
 *         rw_in_key_i64(&k, (int64_t)n);
 *         if (m == RW_IN_REPLAY) {
 *             const rw_input *g = rw_in_take(RW_CALL_READ, &k);
 *             memcpy(buf, g->data, g->data_len <= n ? g->data_len : n);
 *             return rw_in_return(g);
 *         }
 *         ssize_t r = real.read(fd, buf, n);
 *         int e = errno;
 *         rw_in_put(RW_CALL_READ, r, e, &k, buf, r > 0 ? (size_t)r : 0);
 *         errno = e;
 *         return r;
 *     }
 *
 * Threads: each program thread has its own input stream (rw_in_thread): the main
 * thread is 1 from rw_in_start, a thread started through _thread gets the next number
 * (threadwrap.c), in start order, which the run token makes the same in replay; a
 * thread that C code made gets one when it first runs Python (PyGILState_Ensure),
 * and is logged while it has a thread state (threadwrap.c). A thread with stream 0
 * (rewind's writer thread, a C thread outside Python) is never logged.
 *
 * rewind's own code that calls wrapped functions from a program thread (opening the
 * trace, the summary line, crash reports) brackets itself in rw_in_pause()/
 * rw_in_resume(): nothing in between is logged or replayed.
 *
 * Owner: input.c. Async-signal-safety: rw_in_mode is; rw_in_put and rw_in_take take
 * a lock and allocate, so a signal handler that calls wrapped functions must pause.
 */
#ifndef RW_LIBC_INPUT_H
#define RW_LIBC_INPUT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "inputs.h"
#include "state.h"

/* RW_IN_EVAL: a throwaway fork of the engine evaluating an expression for the
 * debugger (p, !stmt). Nothing may be performed and the log must not be consumed:
 * wrappers see RW_IN_REPLAY (rw_in_mode maps it), and rw_in_take answers every call
 * with a refusal (result -1, or 0 for the calls that return a pointer, errno EPERM, no
 * data) without looking at the log. So no wrapper needs to know about it. */
enum { RW_IN_OFF = 0, RW_IN_RECORD = 1, RW_IN_REPLAY = 2, RW_IN_EVAL = 3 };

/* Process-wide mode: RW_IN_OFF until rw_in_start. Written by the main thread
 * (rw_in_start/rw_in_stop), read by every wrapper. */
extern _Atomic int rw_in_global;

/* Per thread: the input stream (0 = not logged) and the pause depth. */
typedef struct rw_in_tls {
    uint32_t thread;
    uint32_t paused;
    uint64_t seq;   /* records this thread logged or took */
    uint64_t start; /* record: the event count when the wrapper began (rw_in_mode) */
} rw_in_tls_t;
extern __thread rw_in_tls_t rw_in_tls;

/* What a wrapper must do for the calling thread, now: nothing while rewind itself
 * works (rw_tls.busy), except in its windows that run the program's Python code for
 * it (pyhelp.h's rw_busy: a repr, a str), which the replay's engine makes alike. Cheap:
 * one relaxed load, and while capture is on a few TLS loads. The process-wide mode comes first: a wrapper may
 * run before the thread-local storage is usable (a sanitizer's start-up calls
 * getrlimit and open before the program's constructors). */
static inline int rw_in_mode(void)
{
    int m = atomic_load_explicit(&rw_in_global, memory_order_relaxed);
    if (RW_LIKELY(m == RW_IN_OFF) || RW_LIKELY(rw_in_tls.thread == 0) || rw_in_tls.paused ||
        rw_tls.busy != rw_tls.busy_py)
        return RW_IN_OFF;
    if (m == RW_IN_RECORD) /* where the call begins: Input.started (rw_in_put_flags) */
        rw_in_tls.start = *(volatile uint64_t *)&rw_st.nevents;
    return m == RW_IN_EVAL ? RW_IN_REPLAY : m;
}

/* Whether the calling thread holds the GIL: its recorded tstate is the interpreter's
 * current one. Clock reads are logged only then (clock.c): the interpreter itself reads
 * the clock while it waits for the GIL or for a lock, as often as timing decides. */
static inline int rw_in_gil_held(void)
{
    return rw_tls.tstate && _PyThreadState_UncheckedGet() == rw_tls.tstate;
}

/* Whether the calling thread holds the GIL in a subinterpreter (test.support's
 * run_in_subinterp: the same OS thread under another thread state, which holds the GIL
 * the interpreters share in 3.11). Its clock reads are as many in a replay as the
 * main interpreter's (clock.c). */
static inline int rw_in_gil_held_in_subinterpreter(void)
{
    PyThreadState *ts = _PyThreadState_UncheckedGet();
    return rw_tls.tstate && ts && ts != rw_tls.tstate && ts->interp != rw_tls.tstate->interp &&
           ts->thread_id == PyThread_get_thread_ident();
}

static inline void rw_in_pause(void)
{
    rw_in_tls.paused++;
}

static inline void rw_in_resume(void)
{
    rw_in_tls.paused--;
}

/* rewind's own sleep of ms milliseconds (test knobs): not an input of the program's. */
static inline void rw_in_sleep_ms(unsigned ms)
{
    struct timespec t = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    rw_in_pause();
    nanosleep(&t, NULL);
    rw_in_resume();
}

/* The identifying arguments of a call, built on the stack (no allocation). */
typedef struct rw_in_key {
    size_t n;
    uint8_t b[RW_INPUT_KEY_MAX];
} rw_in_key;

static inline void rw_in_key_init(rw_in_key *k)
{
    k->n = 0;
}

static inline void rw_in_key_i64(rw_in_key *k, int64_t v)
{
    if (k->n + 8 <= sizeof k->b) {
        memcpy(k->b + k->n, &v, 8);
        k->n += 8;
    }
}

/* Appends s (NULL as ""), cut to what fits; the last part of a key. */
static inline void rw_in_key_str(rw_in_key *k, const char *s)
{
    size_t len = s ? strlen(s) : 0;
    if (len > sizeof k->b - k->n)
        len = sizeof k->b - k->n;
    if (len)
        memcpy(k->b + k->n, s, len);
    k->n += len;
}

/* Record mode: logs one call of the calling thread. data may be NULL (len 0). Keeps
 * errno. flags: RW_INPUT_F_*. */
void rw_in_put_flags(uint32_t call, int64_t result, int err, const rw_in_key *k,
                     const void *data, size_t len, uint32_t flags);

static inline void rw_in_put(uint32_t call, int64_t result, int err, const rw_in_key *k,
                             const void *data, size_t len)
{
    rw_in_put_flags(call, result, err, k, data, len, 0);
}

/* Replay mode: the calling thread's next record, which must be `call` with key k
 * (k may be NULL: not compared). On a mismatch, or when the thread's records are
 * used up, reports the divergence (rw_in_set_diverge) and does not return. The
 * record and its bytes stay valid until this thread's next rw_in_take. */
const rw_input *rw_in_take(uint32_t call, const rw_in_key *k);

/* Replay (recorder/sigwrap.h): when the calling thread's next record is a SIGNAL
 * logged at a position <= pos, takes it (the thread's last taken record stays valid)
 * and returns its signal number; otherwise takes nothing, returns 0 and sets *due to
 * the next record's position if it is a SIGNAL, else UINT64_MAX. */
int rw_in_take_signal(uint64_t pos, uint64_t *due);

/* Replay: the recorded position (events before it) of the calling thread's next
 * record, without taking it: 1, or 0 when the thread has no more (locks.c). */
int rw_in_next_position(uint64_t *pos);
/* The same, and where that call began (its Input.started, or its position). */
int rw_in_next_positions(uint64_t *pos, uint64_t *started);

/* Replay: the latest logged answer of an identity call without arguments (GETPID,
 * GETPPID: the facts logged at the start, then every one taken) in *result: 1, or 0
 * when there is none. Any thread. */
int rw_in_recorded_fact(uint32_t call, int64_t *result);

/* Sets errno from g and returns its result (the end of a replayed call). */
static inline int64_t rw_in_return(const rw_input *g)
{
    errno = g->err;
    return g->result;
}

/* Replay, for calls logged with RW_INPUT_F_OPTIONAL: the calling thread's next record
 * when it is `call` with key k (taken, as rw_in_take takes it), else NULL and nothing is
 * taken: the replay makes a call here that the recording made elsewhere. rw_in_take
 * skips an optional record that is not the call asked for. */
const rw_input *rw_in_take_optional(uint32_t call, const rw_in_key *k);

/* Replay: takes the thread's next record (call, key k), copies its data (at most cap
 * bytes) to out when out is not NULL, sets errno and returns the recorded result. */
static inline int64_t rw_in_replayed(uint32_t call, const rw_in_key *k, void *out, size_t cap)
{
    const rw_input *g = rw_in_take(call, k);
    if (out && g->data_len)
        memcpy(out, g->data, g->data_len < cap ? g->data_len : cap);
    return rw_in_return(g);
}

/* Record: logs the call's result r, errno e and len bytes of data, sets errno to e and
 * returns r. */
static inline int64_t rw_in_logged(uint32_t call, const rw_in_key *k, int64_t r, int e,
                                   const void *data, size_t len)
{
    rw_in_put(call, r, e, k, data, len);
    errno = e;
    return r;
}

/* Copies a taken record's bytes into dst (up to cap), when there is somewhere to put
 * them. */
static inline void rw_in_give(void *dst, size_t cap, const rw_input *g)
{
    if (dst && g->data_len)
        memcpy(dst, g->data, g->data_len < cap ? g->data_len : cap);
}

/* Where the records go and come from. */
typedef struct rw_writer rw_writer;
typedef struct rw_reader rw_reader;

/* A wrapper's real function looked up on its first call (dlsym(RTLD_NEXT, name) into
 * *slot), when the wrapper runs before the constructors that resolve them: the REAL()
 * macros of clock.c, ident.c, locks.c and mntent.c. */
void *rw_libc_late(void **slot, const char *name);

/* Starts input capture in this process: mode RW_IN_RECORD or RW_IN_REPLAY; the
 * calling (main) thread becomes stream 1. Record: records are kept in memory until
 * rw_in_attach_writer. Replay: records are read from r (which must stay open). */
void rw_in_start(int mode, rw_reader *replay_from);

/* Record: from now on records go to w (those kept so far first). NULL detaches
 * (records are kept again, e.g. while a fork child opens its own trace). */
void rw_in_attach_writer(rw_writer *w);

/* A system call made directly (x86-64), past every wrapper and the C library's
 * syscall(), which rewind's own replay would log or take from the log: -1 and errno
 * on failure, as syscall() returns. For rewind's own work in a replayed process. */
long rw_in_raw_syscall(long n, long a, long b, long c, long d, long e, long f);

/* Stops capture (every wrapper calls through from now on). */
void rw_in_stop(void);

/* In the engine's throwaway fork (RW_IN_EVAL above), for the calling thread, which
 * becomes a logged one if it was not: every wrapped call it makes from now on is
 * refused with EPERM. The process must never go back to replaying. */
void rw_in_eval_mode(void);

/* Right after rw_in_start, in the main thread: logs the process's pid and parent's pid
 * (record) or takes them (replay), RW_INPUT_F_OPTIONAL (older traces have none), so
 * that `p os.getppid()` at a stop answers as the program would have even where it
 * never asked (ident.c). */
void rw_in_identity_facts(void);

/* In a fork child that records a trace of its own: the parent's kept records are
 * dropped, the calling thread is stream 1 again, the others are gone. */
void rw_in_restart_child(void);

/* Threads: the next stream number, taken by the thread that starts a new one (GIL
 * held, so the order is the run's), and set by the new thread before it runs. */
uint32_t rw_in_thread_next(void);
void rw_in_thread_enter(uint32_t stream);
/* The streams taken so far end before this number (the first thread's is 1). */
uint32_t rw_in_thread_streams(void);
/* Engine, before the run: rw_in_thread_next passes over the numbers fn says the
 * recording gave to threads that C code started (they took theirs when they first
 * took the GIL, which need not be at the same place in a replay: threadwrap.h). */
void rw_in_thread_reserve(int (*fn)(uint32_t stream));

/* Replay: what to do on a divergence. fn gets a one-line description (expected and
 * seen call, the thread, the record's position and seq) and must not return; default:
 * print it on stderr and _exit(3). */
typedef void (*rw_in_diverge_fn)(const char *what, const rw_input *expected);
void rw_in_set_diverge(rw_in_diverge_fn fn);

/* Replay: what to do when the calling thread's records are used up and it makes
 * another call (stream: its input stream): fn does not return when the thread is to
 * stay in the call for good (the recording ended while the call was under way);
 * otherwise, or with no fn, the call is a divergence. */
void rw_in_set_ran_out(void (*fn)(uint32_t stream));

/* Replay: reports a divergence a wrapper found itself (what: one line saying what the
 * replay saw; expected: the record it was answering, or NULL) as rw_in_take does; does
 * not return. */
void rw_in_diverge(const char *what, const rw_input *expected) __attribute__((noreturn));

/* Replay: the last records taken by any thread (newest last), for divergence
 * reports: up to cap of them into out; returns how many. Pointers valid until the
 * next take. */
size_t rw_in_recent(const rw_input **out, size_t cap);

#endif
