/* The recorder's one hot-path state, and the per-thread part of it.
 *
 * The bottom of recorder/'s include graph: it includes only format/'s writer.h, and
 * every other recorder header may include it. Owner: state.c.
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
#include <sys/syscall.h>
#include <unistd.h>
#include <x86intrin.h>

#include "writer.h"

#define RW_SIDE_CAP 8192 /* side buffer records; more are dropped and counted */

/* Per-thread state (initial-exec TLS: one segment load per access). Each field is
 * written by its own thread only: tstate and thread by rw_threads_define_current
 * (threads.c), busy by whoever makes the recorder work in Python (pyhelp.h). Global
 * because the hooks get no context; thread-local because every hook asks "which
 * recorded thread am I?" and must not take a lock to find out. */
typedef struct rw_thread_local {
    PyThreadState *tstate; /* this thread's tstate, set when its thread is defined */
    uint32_t thread;       /* ThreadDef id; 0 = not (yet) a recorded thread */
    int busy;              /* > 0: the recorder itself is working in this thread */
    int busy_py;           /* how many of those are rw_busy windows (pyhelp.h), where it
                            * runs the program's Python code for itself: a repr, str */
} rw_thread_local;

extern __thread rw_thread_local rw_tls;

/* The process-wide part. Written by: recorder.c (w, s, options, pid, on; before the
 * hooks go in and at the end of the run), the hooks (GIL fields), any thread
 * (side buffer, failure), the crash handlers (on, cleared when a report closed the
 * trace). The layout is the hot path's: trace_fn, profile_fn and the allocation hooks
 * read on, cur_thread, side_n, s and line_times at fixed offsets; keep the first
 * fields where they are. */
typedef struct rw_state {
    rw_stream *s;            /* (GIL) the writer's producer stream */
    rw_writer *w;            /* the writer; definitions may be added from any thread */
    _Atomic int on;          /* recording; cleared at exit and in a forked child */
    uint32_t cur_thread;     /* (GIL) ThreadDef id of the last record's thread */
    uint64_t nevents;        /* (GIL) events appended: the position of the next one */
    uint64_t nallocs;        /* (GIL) allocation records appended directly */
    int lines;               /* options, fixed before recording starts (recorder.c) */
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

/* The process's own id, from the kernel: getpid() is an input, answered from the log
 * in a replay (and logged while recording). */
static inline pid_t rw_real_pid(void)
{
    return (pid_t)syscall(SYS_getpid);
}

/* 56-bit tick counter (invariant TSC on x86-64). */
static inline uint64_t rw_tick(void)
{
    return __rdtsc() & RW_TICK_MASK;
}

/* Appends the side buffer's records to the stream and empties it. Needs the GIL
 * (the caller is the stream's producer). */
void rw_side_drain(void);

/* Appends one record to the side buffer (any thread, no GIL needed); is_alloc
 * counts it in side_nallocs. */
void rw_side_put(uint64_t w0, uint64_t w1, int is_alloc);

/* Records the first failure of a hook (sticky); later ones are ignored. Any thread;
 * not async-signal-safe (vsnprintf). The cause is reported at exit in RunEnd.lost. */
void rw_state_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
