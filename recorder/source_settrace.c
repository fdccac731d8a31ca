/* Event source on PyEval_SetTrace / PyEval_SetProfile (CPython 3.11).
 *
 * The trace function turns call/line/return/exception into raw records, the profile
 * function c_call/c_return/c_exception (and call/return when lines are off). Hot
 * path: one compare (a program's function chained? chain.h), one relaxed load
 * (recording on?), one compare (same thread as the last record?), one relaxed load
 * (side buffer empty?), then a plain append; every event
 * but a line (unless --line-times) reads the clock (rdtsc) too. Ids of code
 * objects and C functions come from defs.h (a co_extra slot; a direct-mapped cache
 * keyed by PyMethodDef, as cProfile keys them).
 *
 * Uses CPython internals (Py_BUILD_CORE): PyFrameObject's fields, _PyEval_SetTrace.
 */
#define Py_BUILD_CORE 1
#include "source.h"

#include "frameobject.h"
#include "internal/pycore_frame.h"
#include "internal/pycore_pylifecycle.h"

#include <time.h>

#include "alloc.h"
#include "chain.h"
#include "defs.h"
#include "emit.h"
#include "pyhelp.h"
#include "secrets.h"
#include "state.h"
#include "sysalloc.h"

/* ---- the hooks -------------------------------------------------------------------- */

static inline uint32_t pyframe_line(PyFrameObject *f)
{
    /* call_trace() sets f_lineno just before calling us. */
    int line = f->f_lineno;
    if (RW_UNLIKELY(line <= 0))
        line = PyFrame_GetLineNumber(f);
    return line > 0 ? (uint32_t)line : 0;
}

/* str() of the last SystemExit's code when it is not an int or None (python3 prints
 * it on stderr): RunEnd.exit_message. Written with the GIL by exception_event. */
static char exit_message[512];
static int system_exit_seen; /* a SystemExit was raised (and may still be unwinding) */

const char *rw_source_exit_message(void)
{
    return exit_message;
}

int rw_source_system_exit_seen(void)
{
    return system_exit_seen;
}

/* Records an exception event; 0 when it could not be. The str() of its value runs the
 * program's code, which may let the GIL go (a socket's repr asks getsockname): another
 * thread's records may come in between, so the thread switch is checked again. */
static int exception_event(uint64_t t, PyObject *arg)
{
    char type[256];
    char msg[RW_BLOB_MAX + 1];
    size_t len = 0;
    uint32_t name = 0;
    rw_busy b;
    rw_busy_enter(&b, 0);
    if (PyTuple_Check(arg) && PyTuple_GET_SIZE(arg) >= 2) {
        rw_py_type_name(PyTuple_GET_ITEM(arg, 0), type, sizeof type);
        name = rw_defs_name_id(type);
        PyObject *value = PyTuple_GET_ITEM(arg, 1);
        if (value != Py_None)
            len = rw_py_str(value, msg, sizeof msg);
        if (PyTuple_GET_ITEM(arg, 0) == PyExc_SystemExit) {
            PyObject *code = value != Py_None ? PyObject_GetAttrString(value, "code") : NULL;
            exit_message[0] = '\0';
            system_exit_seen |= rw_tls.thread == 1; /* the main thread's only */
            if (code && code != Py_None && !PyLong_Check(code)) {
                size_t n = rw_py_str(code, exit_message, sizeof exit_message);
                rw_secrets_scrub(exit_message, n, sizeof exit_message);
            }
            Py_XDECREF(code);
            PyErr_Clear();
        }
    }
    rw_busy_leave(&b);
    len = rw_secrets_scrub(msg, len, sizeof msg);
    if (RW_UNLIKELY(!rw_emit_begin(t)))
        return 0;
    rw_stream_put_text(rw_st.s, RW_REC(RW_K_EXCEPTION, t), name, msg, len);
    return 1;
}

/* The hooks' fast paths: the usual case (the same thread as the last record, no side
 * records, room in the block, a known C function) with no call in it, so that it
 * needs no stack frame. The slow paths do everything, the usual case included. */

static __attribute__((noinline)) void trace_slow(PyFrameObject *f, int what, PyObject *arg)
{
    /* An exception event's tuple taken off the free list for this exception event is
     * CPython's again, not the program's: it stays pending (rw_exc_tuple_forget). */
    if (RW_UNLIKELY(rw_exc_tuple_pending != NULL) &&
        (what != PyTrace_EXCEPTION || arg != rw_exc_tuple_pending))
        rw_exc_tuple_settle();
    if (RW_LIKELY(what == PyTrace_LINE)) {
        /* The clock costs 10-22 ns in this kind of VM, as much as the rest of the
         * hook: lines take the time of the previous event unless --line-times. */
        uint64_t t = rw_st.line_times ? rw_tick() : 0;
        if (RW_UNLIKELY(!rw_emit_begin(t)))
            return;
        rw_stream_put(rw_st.s, RW_REC(RW_K_LINE, t), pyframe_line(f));
        rw_st.nevents++;
        return;
    }
    uint64_t t = rw_tick();
    if (RW_UNLIKELY(!rw_emit_begin(t)))
        return;
    switch (what) {
    case PyTrace_CALL: {
        PyCodeObject *co = f->f_frame->f_code;
        if (RW_UNLIKELY(co->co_flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)))
            /* Which object: its frame lives in it, across its resumptions (each a
             * CALL): the debugger follows a suspended frame by it (bdb's stopframe). */
            rw_stream_put(rw_st.s, RW_REC(RW_K_GEN, t), (uint64_t)(uintptr_t)f->f_frame);
        uint32_t id = rw_defs_code_id(co);
        rw_stream_put(rw_st.s, RW_REC(RW_K_CALL, t), id | ((uint64_t)pyframe_line(f) << 32));
        break;
    }
    case PyTrace_RETURN:
        rw_stream_put(rw_st.s, RW_REC(RW_K_RETURN, t), 0);
        rw_st.nevents++;
        if (RW_UNLIKELY(Py_REFCNT(f) > 1))
            rw_frame_outlives(f); /* the caller's frame object, after the RETURN */
        return;
    case PyTrace_EXCEPTION:
        if (!exception_event(t, arg))
            return;
        break;
    default:
        return; /* opcode events (a program's f_trace_opcodes) are not recorded */
    }
    rw_st.nevents++;
}

/* Records one trace event (call/line/return/exception). */
static inline __attribute__((always_inline)) void trace_record(PyFrameObject *f, int what,
                                                               PyObject *arg)
{
    if (RW_UNLIKELY(!atomic_load_explicit(&rw_st.on, memory_order_relaxed)))
        return;
    if (RW_LIKELY(what == PyTrace_LINE) && RW_LIKELY(!rw_st.line_times) && rw_may_append()) {
        int line = f->f_lineno; /* call_trace() sets it just before calling us */
        if (RW_LIKELY(line > 0) &&
            RW_LIKELY(rw_stream_try_put(rw_st.s, RW_REC(RW_K_LINE, 0), (uint32_t)line))) {
            rw_st.nevents++;
            return;
        }
    }
    trace_slow(f, what, arg);
}

/* The hooks' object is NULL unless the program set a function of its own in this
 * thread's slot (chain.h): then the event is recorded, and handed on. Recording goes
 * on whether or not the program's function is there, and the program's function is
 * called after the recording stopped too. */
static __attribute__((noinline)) int trace_chained(PyObject *obj, PyFrameObject *f, int what,
                                                   PyObject *arg)
{
    trace_record(f, what, arg);
    return rw_chain_trace(obj, f, what, arg);
}

_Atomic uint64_t rw_source_trip_at = UINT64_MAX;
static void (*trip_fn)(PyFrameObject *f, int what, PyObject *arg);

void rw_source_set_trip(void (*trip)(PyFrameObject *f, int what, PyObject *arg))
{
    trip_fn = trip;
}

void rw_source_trip_by(uint64_t at)
{
    if (!trip_fn)
        return;
    uint64_t cur = atomic_load(&rw_source_trip_at);
    while (at < cur && !atomic_compare_exchange_weak(&rw_source_trip_at, &cur, at))
        ;
}

/* The engine's look after an event (rw_source_set_trip). */
static inline __attribute__((always_inline)) void maybe_trip(PyFrameObject *f, int what,
                                                             PyObject *arg)
{
    if (RW_UNLIKELY(rw_st.nevents > atomic_load_explicit(&rw_source_trip_at,
                                                         memory_order_relaxed)))
        trip_fn(f, what, arg);
}

static int trace_fn(PyObject *obj, PyFrameObject *f, int what, PyObject *arg)
{
    int rc = 0;
    if (RW_UNLIKELY(obj != NULL)) {
        rc = trace_chained(obj, f, what, arg);
    } else {
        trace_record(f, what, arg);
        if (RW_UNLIKELY(what == PyTrace_EXCEPTION) && rw_st.allocations &&
            atomic_load_explicit(&rw_st.on, memory_order_relaxed))
            rw_exc_tuple_forget(arg); /* python3 packs no tuple here (alloc.h) */
    }
    maybe_trip(f, what, arg);
    return rc;
}

static __attribute__((noinline)) void profile_slow(PyFrameObject *f, int what, PyObject *arg)
{
    if (RW_UNLIKELY(rw_exc_tuple_pending != NULL))
        rw_exc_tuple_settle();
    int kind;
    switch (what) {
    case PyTrace_C_CALL:
        kind = RW_K_C_CALL;
        break;
    case PyTrace_C_RETURN:
        kind = RW_K_C_RETURN;
        break;
    case PyTrace_C_EXCEPTION:
        kind = RW_K_C_EXCEPTION;
        break;
    case PyTrace_CALL:
    case PyTrace_RETURN:
        /* From here only when lines are off; else the trace function has them. */
        if (!rw_st.lines)
            trace_record(f, what, arg);
        return;
    default:
        return;
    }
    if (!rw_st.c_calls || !PyCFunction_Check(arg))
        return;
    uint64_t t = rw_tick();
    if (RW_UNLIKELY(!rw_emit_begin(t)))
        return;
    rw_stream_put(rw_st.s, RW_REC(kind, t), rw_defs_cfunc_id((PyCFunctionObject *)arg));
    rw_st.nevents++;
}

/* Records one profile event (c_call/c_return/c_exception, and call/return when lines
 * are off). */
static inline __attribute__((always_inline)) void profile_record(PyFrameObject *f, int what,
                                                                 PyObject *arg)
{
    if (RW_UNLIKELY(!atomic_load_explicit(&rw_st.on, memory_order_relaxed)))
        return;
    if ((what == PyTrace_CALL || what == PyTrace_RETURN) && rw_st.lines)
        return; /* the trace function has them */
    if ((what == PyTrace_C_CALL || what == PyTrace_C_RETURN) && RW_LIKELY(rw_st.c_calls) &&
        Py_IS_TYPE(arg, &PyCFunction_Type) && rw_may_append()) {
        const void *key = ((PyCFunctionObject *)arg)->m_ml;
        const rw_defs_cf_slot *slot = rw_defs_cf_slot_of(key);
        if (RW_LIKELY(slot->key == key)) {
            int kind = what == PyTrace_C_CALL ? RW_K_C_CALL : RW_K_C_RETURN;
            if (RW_LIKELY(rw_stream_try_put(rw_st.s, RW_REC(kind, rw_tick()), slot->id))) {
                rw_st.nevents++;
                return;
            }
        }
    }
    profile_slow(f, what, arg);
}

static __attribute__((noinline)) int profile_chained(PyObject *obj, PyFrameObject *f, int what,
                                                     PyObject *arg)
{
    profile_record(f, what, arg);
    int rc = rw_chain_profile(obj, f, what, arg);
    /* The program's function raised on a c_call: CPython then calls nothing and gives
     * no c_return, and the exception comes out of the call. Recorded as the C call
     * raising, so that the recorded call is closed. */
    if (RW_UNLIKELY(rc != 0) && what == PyTrace_C_CALL)
        profile_record(f, PyTrace_C_EXCEPTION, arg);
    return rc;
}

static int profile_fn(PyObject *obj, PyFrameObject *f, int what, PyObject *arg)
{
    int rc = 0;
    if (RW_UNLIKELY(obj != NULL))
        rc = profile_chained(obj, f, what, arg);
    else
        profile_record(f, what, arg);
    maybe_trip(f, what, arg);
    return rc;
}

void rw_source_seed_stack(void)
{
    enum { MAX_SEED = 4096 };
    PyFrameObject *stack[MAX_SEED];
    size_t n = 0;
    PyFrameObject *f = PyEval_GetFrame(); /* borrowed */
    Py_XINCREF(f);
    while (f && n < MAX_SEED) {
        stack[n++] = f;
        f = PyFrame_GetBack(f); /* new reference */
    }
    Py_XDECREF(f);
    uint64_t t = rw_tick();
    for (size_t i = n; i-- > 0;) {
        f = stack[i];
        if (rw_emit_begin(t)) {
            PyCodeObject *co = PyFrame_GetCode(f);
            uint32_t id = rw_defs_code_id(co);
            uint32_t first = co->co_firstlineno > 0 ? (uint32_t)co->co_firstlineno : 0;
            Py_DECREF(co);
            rw_stream_put(rw_st.s, RW_REC(RW_K_CALL, t), id | ((uint64_t)first << 32));
            rw_st.nevents++;
            if (rw_st.lines) {
                int line = PyFrame_GetLineNumber(f);
                rw_stream_put(rw_st.s, RW_REC(RW_K_LINE, t), line > 0 ? (uint32_t)line : 0);
                rw_st.nevents++;
            }
        }
        Py_DECREF(f);
    }
}

int rw_source_trace(PyObject *obj, PyFrameObject *f, int what, PyObject *arg)
{
    return trace_fn(obj, f, what, arg);
}

int rw_source_profile(PyObject *obj, PyFrameObject *f, int what, PyObject *arg)
{
    return profile_fn(obj, f, what, arg);
}

/* ---- installation ----------------------------------------------------------------- */

/* The functions install() puts in place: the recorder's, or an engine's (written once
 * by the main thread before the first install). */
static Py_tracefunc installed_trace = trace_fn, installed_profile = profile_fn;

void rw_source_set_hooks(Py_tracefunc trace, Py_tracefunc profile)
{
    installed_trace = trace ? trace : trace_fn;
    installed_profile = profile ? profile : profile_fn;
}

static void install(PyThreadState *ts)
{
    /* busy: our own sys.settrace/sys.setprofile audit events are not recorded. */
    rw_tls.busy++;
    /* Before the first hook goes in: the program's own functions are chained behind
     * ours from then on (a failure leaves them to replace ours, as the audit hook
     * reports). */
    rw_chain_install(rw_st.lines ? installed_trace : NULL,
                     !rw_st.lines || rw_st.c_calls ? installed_profile : NULL);
    if (rw_st.lines)
        _PyEval_SetTrace(ts, installed_trace, NULL);
    if (!rw_st.lines || rw_st.c_calls)
        _PyEval_SetProfile(ts, installed_profile, NULL);
    if (PyErr_Occurred())
        PyErr_Clear();
    rw_tls.busy--;
}

void rw_source_install_current(void)
{
    install(PyThreadState_Get());
}

void rw_source_install_others(void)
{
    PyThreadState *me = PyThreadState_Get();
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(me->interp); ts;
         ts = PyThreadState_Next(ts))
        if (ts != me)
            install(ts);
}

double rw_source_calibrate(void)
{
    enum { N = 2000, BATCHES = 10 };
    rw_block *blk = rw_sys_calloc(1, sizeof(rw_block) + (N + 8) * sizeof(rw_rec));
    PyCodeObject *co = PyCode_NewEmpty("<calibration>", "calibration", 1);
    PyObject *globals = PyDict_New();
    PyFrameObject *f = (co && globals) ? PyFrame_New(PyThreadState_Get(), co, globals, NULL)
                                       : NULL;
    double ns = 0;
    if (blk && f) {
        blk->cap = N + 8;
        rw_stream *real = rw_st.s;
        int nt = real ? atomic_load(&real->nt) : 0; /* stored as the real ones are */
        rw_stream scratch = {blk->recs, blk->recs + blk->cap, blk, rw_st.w, nt};
        uint32_t cur = rw_st.cur_thread;
        uint64_t nev = rw_st.nevents;
        int on = atomic_load(&rw_st.on);
        uint64_t trip_at = atomic_load(&rw_source_trip_at); /* an engine's: not here */
        atomic_store(&rw_source_trip_at, UINT64_MAX);
        rw_st.s = &scratch;
        rw_st.cur_thread = rw_tls.thread;
        atomic_store(&rw_st.on, 1);
        f->f_lineno = 1;
        /* The fastest of several short batches, as timeit takes the best of its
         * repeats: a batch the scheduler interrupted (a busy machine) would count its
         * wait as the hook's cost, up to a hundred times the real one. */
        for (int b = 0; b < BATCHES; b++) {
            scratch = (rw_stream){blk->recs, blk->recs + blk->cap, blk, rw_st.w, nt};
            struct timespec a, z;
            clock_gettime(CLOCK_MONOTONIC, &a);
            for (int i = 0; i < N; i++)
                trace_fn(NULL, f, PyTrace_LINE, Py_None);
            clock_gettime(CLOCK_MONOTONIC, &z);
            double t = ((double)(z.tv_sec - a.tv_sec) * 1e9 + (double)(z.tv_nsec - a.tv_nsec)) / N;
            if (b == 0 || t < ns)
                ns = t;
        }
        rw_stream_fence(&scratch); /* blk is freed below: its records must land first */
        f->f_lineno = 0;
        atomic_store(&rw_source_trip_at, trip_at);
        atomic_store(&rw_st.on, on);
        rw_st.s = real;
        rw_st.cur_thread = cur;
        rw_st.nevents = nev;
    }
    Py_XDECREF(f);
    Py_XDECREF(globals);
    Py_XDECREF(co);
    PyErr_Clear();
    rw_sys_free(blk);
    return ns;
}

int rw_source_interrupted(void)
{
    return _Py_UnhandledKeyboardInterrupt != 0;
}
