/* The recorder's one hot-path state, and the per-thread part of it.
 *
 * Global because CPython's hooks (trace/profile functions, allocator and audit hooks)
 * and libc wrappers are called without a context we control. Rules:
 *  - rw_st.s (the writer's stream) has one producer at a time: the thread holding the
 *    GIL. Every field marked (GIL) is read and written only by the GIL holder.
 *  - A thread that allocates without holding the GIL (RAW domain) appends to the
 *    spin-locked side buffer instead; the next append by the GIL holder drains it into
 *    the stream. Side records carry no thread: they land at the position of the drain.
 *  - rw_tls.busy > 0 while the recorder itself runs Python code or allocates through
 *    Python (interning names, str() of an exception): its allocations are not recorded.
 */
#ifndef RW_STATE_H
#define RW_STATE_H

#include <Python.h>

#include <stdatomic.h>
#include <stdint.h>
#include <x86intrin.h>

#include "writer.h"

#define RW_SIDE_CAP 8192 /* side buffer records; more are dropped and counted */

/* Per-thread state (initial-exec TLS: one segment load per access). */
typedef struct rw_tl {
    PyThreadState *tstate; /* this thread's tstate, set when its thread is defined */
    uint32_t thread;       /* ThreadDef id; 0 = not (yet) a recorded thread */
    int busy;              /* > 0: the recorder itself is working in this thread */
} rw_tl;

extern __thread rw_tl rw_tls;

typedef struct rw_state {
    rw_stream *s;            /* (GIL) the writer's producer stream */
    rw_writer *w;            /* the writer; definitions may be added from any thread */
    _Atomic int on;          /* recording; cleared at exit and in a forked child */
    uint32_t cur_thread;     /* (GIL) ThreadDef id of the last record's thread */
    uint64_t nevents;        /* (GIL) events appended: the position of the next one */
    uint64_t nallocs;        /* (GIL) allocation records appended directly */
    int lines;               /* options, fixed before recording starts */
    int allocations;
    int c_calls;
    int line_times;          /* read the clock for line events too */
    int pid;                 /* process that owns the trace (a fork child does not) */

    _Atomic uint32_t side_n; /* records in side[]; read relaxed on every append */
    atomic_flag side_lock;   /* guards side[], side_n updates and side_dropped */
    uint64_t side_dropped;
    uint64_t side_nallocs;   /* allocation records that went through side[] */
    rw_rec side[RW_SIDE_CAP];

    _Atomic int failed;      /* sticky: a hook could not do its job (see failure) */
    char failure[200];       /* first cause, reported in RunEnd.lost */
} rw_state;

extern rw_state rw_st;

/* 56-bit tick counter (invariant TSC on x86-64). */
static inline uint64_t rw_tick(void)
{
    return __rdtsc() & RW_TICK_MASK;
}

/* Slow paths of rw_emit_begin (state.c). rw_state_switch defines the calling thread
 * when it is unknown (events path only: needs the GIL and may run Python code), then
 * appends a THREAD record. Returns 0 when the thread cannot be recorded. */
int rw_state_switch(uint64_t tick);
void rw_side_drain(void);

/* Must precede every record the GIL holder appends: thread switch, then side records.
 * Returns 0 when nothing may be appended for this thread. */
static inline int rw_emit_begin(uint64_t tick)
{
    if (RW_UNLIKELY(rw_tls.thread != rw_st.cur_thread) && !rw_state_switch(tick))
        return 0;
    if (RW_UNLIKELY(atomic_load_explicit(&rw_st.side_n, memory_order_relaxed) != 0))
        rw_side_drain();
    return 1;
}

/* rw_emit_begin's usual case, with no call: the calling thread made the last record
 * and the side buffer is empty, so a record may be appended straight away. */
static inline int rw_may_append(void)
{
    return RW_LIKELY(rw_tls.thread == rw_st.cur_thread) &&
           RW_LIKELY(atomic_load_explicit(&rw_st.side_n, memory_order_relaxed) == 0);
}

/* Appends one record to the side buffer (any thread, no GIL needed); is_alloc
 * counts it in side_nallocs. */
void rw_side_put(uint64_t w0, uint64_t w1, int is_alloc);

/* Records the first failure of a hook (sticky); later ones are ignored. */
void rw_state_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
