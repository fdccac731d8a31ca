/* CPython functions wrapped so that a recorded run allocates as an untraced one would,
 * in tracemalloc's eyes (docs/memory.md, "Fidelity"). The rewind executable is linked
 * with -Wl,--wrap=NAME for each against the static libpython: calls between
 * libpython's object files then come here (calls inside one object file and from
 * extension modules do not).
 *
 *  - _Py_NewReference: every object that CPython's object files create passes here,
 *    so that an object taken off a free list, which calls no allocator, is still seen
 *    (alloc.h, rw_alloc_reused). Objects made in object.c itself (PyObject_Init,
 *    _PyObject_New) are always fresh allocations and need not be.
 *  - _PyFrame_New_NoTrack and PyObject_GC_Del: the frame objects that tracing mode
 *    makes for every frame do not count towards the cyclic GC's thresholds, so that
 *    automatic collections come after the same allocations as in a plain run (and
 *    the same cyclic garbage is alive at a given line).
 *  - PyMethodDescr_Type's tp_descr_get (replaced, not wrapped: CPython calls it through
 *    the type) and PyObject_GC_Del: the bound method that tracing mode makes for every
 *    call of a method descriptor, to hand to the profiler, does not count either.
 *  - PyTraceBack_Here, PyThreadState_GetFrame, PyFrame_GetBack: where a plain run
 *    makes a frame's object (an exception passing through the frame; the warnings
 *    module looking at the caller's frames), the one tracing mode made is counted from
 *    then on, as python3 counts the one it makes there (rw_frame_materialized; also
 *    called for sys._getframe's audit event, audithook.c, and for the caller of a
 *    frame whose object outlives it, rw_frame_outlives). With the feature
 *    "tracer-objects" (the default), tracing mode's frame objects and line arrays
 *    (_PyCode_CreateLineArray) are not recorded either, and each frame object is
 *    recorded where it counts from.
 *
 * Without the link options (a shared libpython) nothing calls the __wrap_ functions
 * and the weak references to the __real_ ones stay unresolved.
 */
#define Py_BUILD_CORE 1
#include <Python.h>

#include <stdarg.h>

#include "frameobject.h"
#include "internal/pycore_frame.h"
#include "internal/pycore_object.h"
#include "internal/pycore_pystate.h"

#include "alloc.h"
#include "state.h"
#include "sysalloc.h"

/* (GIL) Sets of object addresses: open addressing, 0 empty, 1 removed. */
typedef struct addrset {
    uintptr_t *slot;
    size_t cap, used, live; /* used: live + removed */
} addrset;

static size_t slot_of(uintptr_t key, size_t cap)
{
    return (size_t)((key >> 4) * 0x9E3779B97F4A7C15ull) & (cap - 1);
}

static int set_has(const addrset *s, uintptr_t key)
{
    if (!s->live)
        return 0;
    for (size_t i = slot_of(key, s->cap);; i = (i + 1) & (s->cap - 1)) {
        if (s->slot[i] == key)
            return 1;
        if (s->slot[i] == 0)
            return 0;
    }
}

static int set_add(addrset *s, uintptr_t key)
{
    if ((s->used + 1) * 4 > s->cap * 3) {
        size_t cap = s->cap ? s->cap : 64;
        while ((s->live + 1) * 2 > cap)
            cap *= 2;
        uintptr_t *slot = rw_sys_calloc(cap, sizeof *slot);
        if (!slot)
            return 0;
        for (size_t i = 0; i < s->cap; i++) {
            uintptr_t k = s->slot[i];
            if (k > 1) {
                size_t j = slot_of(k, cap);
                while (slot[j])
                    j = (j + 1) & (cap - 1);
                slot[j] = k;
            }
        }
        rw_sys_free(s->slot);
        s->slot = slot;
        s->cap = cap;
        s->used = s->live;
    }
    size_t i = slot_of(key, s->cap);
    while (s->slot[i] > 1)
        i = (i + 1) & (s->cap - 1);
    if (s->slot[i] == 0)
        s->used++;
    s->slot[i] = key;
    s->live++;
    return 1;
}

static int set_remove(addrset *s, uintptr_t key)
{
    if (!s->live)
        return 0;
    for (size_t i = slot_of(key, s->cap);; i = (i + 1) & (s->cap - 1)) {
        if (s->slot[i] == key) {
            s->slot[i] = 1;
            s->live--;
            return 1;
        }
        if (s->slot[i] == 0)
            return 0;
    }
}

/* The frame objects made while recording that count as a plain run's would. Frame
 * objects tracing mode made and not in the set were taken off generation 0's count when
 * made, and are put back when freed. */
static addrset counted;

/* Frame objects made while recording by other paths than tracing mode's (PyFrame_New:
 * Cython's tracebacks, _PyTraceback_Add): a plain run makes them too, so they are
 * counted and recorded as any object. */
static addrset plain;

/* Feature "tracer-objects" (docs/memory.md, causes 2 and 8): tracing mode's frame
 * objects, line arrays and bound methods are not recorded; a frame object is recorded
 * (ALLOC_OBJ) where a plain run would make it, from rw_frame_materialized. Off:
 * recorded as made, as recorders before the feature did (readers leave the frame
 * objects and line arrays out). */
static int tracer_elided = 1;

void __real__Py_NewReference(PyObject *op) __attribute__((weak));
void __wrap__Py_NewReference(PyObject *op);

void __wrap__Py_NewReference(PyObject *op)
{
    __real__Py_NewReference(op);
    if (RW_UNLIKELY(rw_tls.busy) ||
        RW_UNLIKELY(!atomic_load_explicit(&rw_st.on, memory_order_relaxed)))
        return;
    /* Tracing mode's frame objects are made busy (__wrap__PyFrame_New_NoTrack). */
    if (RW_UNLIKELY(Py_TYPE(op) == &PyFrame_Type) && tracer_elided)
        set_add(&plain, (uintptr_t)op);
    if (rw_st.allocations)
        rw_alloc_newref(op);
}

void rw_alloc_tracer_objects(int on)
{
    tracer_elided = on;
}

/* What _PyFrame_New_NoTrack asked for f: PyObject_GC_NewVar's size for the slots of
 * its code (a frame object has no ob_size to read them from). */
static size_t frame_size(PyFrameObject *f)
{
    PyCodeObject *co = f->f_frame->f_code;
    size_t slots = (size_t)co->co_nlocalsplus + (size_t)co->co_stacksize;
    return sizeof(PyGC_Head) + (size_t)_PyObject_VAR_SIZE(&PyFrame_Type, slots);
}

void rw_frame_materialized(PyFrameObject *f)
{
    if (!f || !atomic_load_explicit(&rw_st.on, memory_order_relaxed) ||
        set_has(&counted, (uintptr_t)f) || set_has(&plain, (uintptr_t)f))
        return;
    if (set_add(&counted, (uintptr_t)f)) {
        _PyInterpreterState_GET()->gc.generations[0].count++;
        if (tracer_elided)
            rw_alloc_made_here((PyObject *)f, frame_size(f));
    }
}

void rw_frame_outlives(PyFrameObject *f)
{
    _PyInterpreterFrame *frame = f->f_frame;
    if (!tracer_elided || frame->owner != FRAME_OWNED_BY_THREAD || f->f_back)
        return;
    _PyInterpreterFrame *prev = frame->previous;
    while (prev && _PyFrame_IsIncomplete(prev))
        prev = prev->previous;
    if (prev && prev->frame_obj)
        rw_frame_materialized(prev->frame_obj);
}

PyFrameObject *__real__PyFrame_New_NoTrack(PyCodeObject *code) __attribute__((weak));
PyFrameObject *__wrap__PyFrame_New_NoTrack(PyCodeObject *code);
void __real_PyObject_GC_Del(void *op) __attribute__((weak));
void __wrap_PyObject_GC_Del(void *op);

PyFrameObject *__wrap__PyFrame_New_NoTrack(PyCodeObject *code)
{
    if (!atomic_load_explicit(&rw_st.on, memory_order_relaxed))
        return __real__PyFrame_New_NoTrack(code);
    /* The new object is linked into generation 0 (its count goes up, and a collection
     * may start there): neither would happen in a plain run. */
    struct _gc_runtime_state *gc = &_PyInterpreterState_GET()->gc;
    int enabled = gc->enabled;
    gc->enabled = 0;
    /* Nor would its allocation: not recorded (feature "tracer-objects"). */
    rw_tls.busy += tracer_elided;
    PyFrameObject *f = __real__PyFrame_New_NoTrack(code);
    rw_tls.busy -= tracer_elided;
    gc->enabled = enabled;
    if (f && gc->generations[0].count > 0)
        gc->generations[0].count--;
    return f;
}

int __real__PyCode_CreateLineArray(PyCodeObject *co) __attribute__((weak));
int __wrap__PyCode_CreateLineArray(PyCodeObject *co);

/* The array of line numbers that tracing mode makes for a code object the first time
 * it traces it (only ceval.c calls this): a plain run makes none, so its allocation is
 * not recorded (feature "tracer-objects"). Its free, when the code object goes, is: of
 * a block readers do not know, which they ignore. */
int __wrap__PyCode_CreateLineArray(PyCodeObject *co)
{
    int elide = tracer_elided && atomic_load_explicit(&rw_st.on, memory_order_relaxed);
    rw_tls.busy += elide;
    int r = __real__PyCode_CreateLineArray(co);
    rw_tls.busy -= elide;
    return r;
}

/* ---- tracing mode's bound methods ---------------------------------------------------
 *
 * While any hook is installed, CPython 3.11 calls a method descriptor (`x.append(v)`:
 * LOAD_METHOD leaves the descriptor and x on the stack) by first making a bound method
 * of it to hand to the profiler, and frees that after the call (ceval.c,
 * trace_call_function for CALL, do_call_core for CALL_FUNCTION_EX). A plain run makes
 * none. It is a container allocation: when it is the one that crosses generation 0's
 * threshold, the collection starts before the call instead of at the program's next
 * allocation, and while it lives every collection comes one allocation early.
 *
 * Those two calls reach the descriptor's tp_descr_get from their own call sites, and a
 * bound method the program asks for (`f = x.append`, getattr) from other ones. So the
 * type's tp_descr_get is replaced by get_method, which tells them apart by its return
 * address; the sites are learnt at install, by running a call of each kind under a
 * profile function that sees the object the call made (rw_gctemp_install). A bound
 * method made at such a site neither starts a collection nor counts, and its free
 * gives back nothing (__wrap_PyObject_GC_Del); with the feature "tracer-objects",
 * neither its allocation nor its free is recorded. */
#define TEMP_SITES 4
#define TEMP_LIVE 256 /* more (threads blocked in such calls) are counted, as before */

static descrgetfunc real_method_get;
static const void *temp_site[TEMP_SITES];
static int ntemp_site;
static PyObject *temp_live[TEMP_LIVE]; /* (GIL) live uncounted bound methods */
static int ntemp_live;
static int learning;
static const void *learn_site;
static PyObject *learn_obj;

/* The exception event's tuple (ceval.c, call_exc_trace packs (type, value, traceback)
 * for the trace function): when it is a fresh allocation it must not start a
 * collection either (rw_exc_tuple_forget uncounts it after). Its PyTuple_Pack call
 * site, learnt with the others; __wrap_PyTuple_Pack below. */
static const void *exc_site;
static const void *pack_site;
static PyObject *pack_obj;

static PyObject *get_method(PyObject *descr, PyObject *obj, PyObject *type)
{
    const void *site = __builtin_return_address(0);
    int temp = 0;
    for (int i = 0; i < ntemp_site; i++)
        temp |= site == temp_site[i];
    if (RW_LIKELY(!temp) || ntemp_live == TEMP_LIVE) {
        PyObject *m = real_method_get(descr, obj, type);
        if (RW_UNLIKELY(learning)) {
            learn_site = site;
            learn_obj = m;
        }
        return m;
    }
    struct _gc_runtime_state *gc = &_PyInterpreterState_GET()->gc;
    int enabled = gc->enabled;
    gc->enabled = 0;
    rw_tls.busy += tracer_elided; /* nor recorded (feature "tracer-objects") */
    PyObject *m = real_method_get(descr, obj, type);
    rw_tls.busy -= tracer_elided;
    gc->enabled = enabled;
    if (m && PyObject_IS_GC(m) && gc->generations[0].count > 0) {
        gc->generations[0].count--;
        temp_live[ntemp_live++] = m;
    }
    return m;
}

/* Takes op out of the live temporaries; 0 if it is not one. */
static int temp_forget(void *op)
{
    for (int i = ntemp_live; i-- > 0;)
        if (temp_live[i] == op) {
            temp_live[i] = temp_live[--ntemp_live];
            return 1;
        }
    return 0;
}

static int learn_profile(PyObject *obj, PyFrameObject *f, int what, PyObject *arg)
{
    (void)obj, (void)f;
    if (what == PyTrace_C_CALL && arg == learn_obj && learn_site && ntemp_site < TEMP_SITES) {
        int known = 0;
        for (int i = 0; i < ntemp_site; i++)
            known |= temp_site[i] == learn_site;
        if (!known)
            temp_site[ntemp_site++] = learn_site;
    }
    learn_site = NULL;
    learn_obj = NULL;
    return 0;
}

static int learn_trace(PyObject *obj, PyFrameObject *f, int what, PyObject *arg)
{
    (void)obj, (void)f;
    if (what == PyTrace_EXCEPTION && arg == pack_obj && pack_site)
        exc_site = pack_site;
    pack_site = NULL;
    pack_obj = NULL;
    return 0;
}

PyObject *__wrap_PyTuple_Pack(Py_ssize_t n, ...);

/* PyTuple_Pack as tupleobject.c has it (a variadic function cannot hand its
 * arguments on): the tuple from PyTuple_New, the same free lists. */
PyObject *__wrap_PyTuple_Pack(Py_ssize_t n, ...)
{
    const void *site = __builtin_return_address(0);
    struct _gc_runtime_state *gc = NULL;
    int enabled = 0;
    if (RW_UNLIKELY(site == exc_site)) {
        gc = &_PyInterpreterState_GET()->gc;
        enabled = gc->enabled;
        gc->enabled = 0;
    }
    PyObject *t = PyTuple_New(n);
    if (gc)
        gc->enabled = enabled;
    if (!t)
        return NULL;
    va_list ap;
    va_start(ap, n);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *o = va_arg(ap, PyObject *);
        Py_INCREF(o);
        PyTuple_SET_ITEM(t, i, o);
    }
    va_end(ap);
    if (RW_UNLIKELY(learning)) {
        pack_site = site;
        pack_obj = t;
    }
    return t;
}

int rw_gctemp_install(void)
{
    if (real_method_get)
        return ntemp_site;
    PyThreadState *ts = PyThreadState_Get();
    if (ts->c_profilefunc || ts->c_tracefunc)
        return 0;
    real_method_get = PyMethodDescr_Type.tp_descr_get;
    PyMethodDescr_Type.tp_descr_get = get_method;
    /* One call of each kind (CALL of a method descriptor, and CALL_FUNCTION_EX of one)
     * and an exception event. */
    PyObject *g = PyDict_New();
    learning = 1;
    if (g && _PyEval_SetProfile(ts, learn_profile, NULL) == 0 &&
        _PyEval_SetTrace(ts, learn_trace, NULL) == 0) {
        PyObject *r = PyRun_String("l = []\nl.append(0)\nlist.append(*(l, 1))\n"
                                   "try:\n    raise KeyError(0)\nexcept KeyError:\n    pass\n",
                                   Py_file_input, g, g);
        Py_XDECREF(r);
    }
    _PyEval_SetTrace(ts, NULL, NULL);
    _PyEval_SetProfile(ts, NULL, NULL);
    learning = 0;
    learn_site = pack_site = NULL;
    learn_obj = pack_obj = NULL;
    Py_XDECREF(g);
    PyErr_Clear();
    return ntemp_site;
}

void __wrap_PyObject_GC_Del(void *op)
{
    PyTypeObject *tp = Py_TYPE((PyObject *)op);
    if (RW_UNLIKELY(ntemp_live) && (tp == &PyCFunction_Type || tp == &PyCMethod_Type) &&
        temp_forget(op)) {
        struct _gc_runtime_state *gc = &_PyInterpreterState_GET()->gc;
        int count = gc->generations[0].count;
        rw_tls.busy += tracer_elided;
        __real_PyObject_GC_Del(op);
        rw_tls.busy -= tracer_elided;
        gc->generations[0].count = count;
        return;
    }
    if (tp != &PyFrame_Type || !atomic_load_explicit(&rw_st.on, memory_order_relaxed)) {
        __real_PyObject_GC_Del(op);
        return;
    }
    if (set_remove(&plain, (uintptr_t)op) || /* a plain run's: counted and recorded */
        set_remove(&counted, (uintptr_t)op)) { /* counted as a plain run's: uncounted as one */
        __real_PyObject_GC_Del(op);
        return;
    }
    /* Tracing mode's: its allocation was not recorded, nor is its free. */
    struct _gc_runtime_state *gc = &_PyInterpreterState_GET()->gc;
    int count = gc->generations[0].count;
    rw_tls.busy += tracer_elided;
    __real_PyObject_GC_Del(op);
    rw_tls.busy -= tracer_elided;
    if (count > 0) /* it took one off generation 0 for the frame object */
        gc->generations[0].count++;
}

/* (GIL) The exception event's fresh tuple, which CPython put on the 3-tuple free list
 * after the event (rw_exc_tuple_forget), or NULL. */
PyObject *rw_exc_tuple_pending;

void rw_exc_tuple_settle(void)
{
    PyObject *t = rw_exc_tuple_pending;
    rw_exc_tuple_pending = NULL;
    PyInterpreterState *is = _PyInterpreterState_GET();
    struct _Py_tuple_state *ts = &is->tuple;
    if (ts->free_list[2] == (PyTupleObject *)t && ts->numfree[2] > 0) {
        /* Still on top of its free list: off it and freed, uncounted. */
        ts->free_list[2] = (PyTupleObject *)((PyTupleObject *)t)->ob_item[0];
        ts->numfree[2]--;
        int count = is->gc.generations[0].count;
        PyObject_GC_Del(t);
        is->gc.generations[0].count = count;
    } else {
        /* The program took it off the free list, where python3 made (and counted) a
         * new tuple. */
        is->gc.generations[0].count++;
    }
}

void rw_exc_tuple_forget(PyObject *arg)
{
    if (rw_exc_tuple_pending == arg)
        return; /* the next exception event took it off the free list: back there next */
    if (rw_exc_tuple_pending)
        rw_exc_tuple_settle();
    struct _gc_runtime_state *gc = &_PyInterpreterState_GET()->gc;
    if (!PyTuple_CheckExact(arg) || PyTuple_GET_SIZE(arg) != 3 || Py_REFCNT(arg) != 1 ||
        !rw_alloc_last_fresh(arg) || _PyInterpreterState_GET()->tuple.numfree[2] != 0 ||
        gc->generations[0].count == 0)
        return; /* taken off the free list, it goes back there: as if never made */
    gc->generations[0].count--;
    rw_exc_tuple_pending = arg; /* CPython drops it next: onto the free list, where it was not */
}

int __real_PyTraceBack_Here(PyFrameObject *f) __attribute__((weak));
int __wrap_PyTraceBack_Here(PyFrameObject *f);
PyFrameObject *__real_PyThreadState_GetFrame(PyThreadState *ts) __attribute__((weak));
PyFrameObject *__wrap_PyThreadState_GetFrame(PyThreadState *ts);
PyFrameObject *__real_PyFrame_GetBack(PyFrameObject *f) __attribute__((weak));
PyFrameObject *__wrap_PyFrame_GetBack(PyFrameObject *f);

int __wrap_PyTraceBack_Here(PyFrameObject *f)
{
    rw_frame_materialized(f);
    return __real_PyTraceBack_Here(f);
}

PyFrameObject *__wrap_PyThreadState_GetFrame(PyThreadState *ts)
{
    PyFrameObject *f = __real_PyThreadState_GetFrame(ts);
    rw_frame_materialized(f);
    return f;
}

PyFrameObject *__wrap_PyFrame_GetBack(PyFrameObject *f)
{
    PyFrameObject *back = __real_PyFrame_GetBack(f);
    rw_frame_materialized(back);
    return back;
}
