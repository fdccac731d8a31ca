/* Audit hook: every audit event becomes an AUDIT record (event NameDef id + bounded
 * repr of its arguments); "sys.excepthook" also gives the UNCAUGHT record and the
 * details RunEnd reports. Events the recorder causes itself (rw_tls.busy) are not
 * recorded. The hook runs no user code but an uncaught exception's __str__ (as
 * printing its traceback would): arguments are printed by builtins' own reprs or as
 * <TypeName object>, and trace events are off while it works.
 *
 * A plain python3 run has no audit hook, and CPython then builds no argument tuple for
 * an event: the tuple it builds for ours must leave the cyclic GC's count and the
 * tuple free lists as they were (args_build, args_forget; docs/memory.md cause 3).
 */
#define Py_BUILD_CORE 1
#include "audithook.h"

#include "frameobject.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal/pycore_pystate.h"
#include "internal/pycore_runtime.h"

#include "alloc.h"
#include "chain.h"
#include "defs.h"
#include "emit.h"
#include "gcmark.h"
#include "pyhelp.h"
#include "secrets.h"
#include "state.h"

#define REPR_STR_MAX 200  /* characters of a str/bytes kept before repr */
#define REPR_ITEMS_MAX 16 /* items of a container printed before "..." */
#define REPR_DEPTH_MAX 3

/* Owner: this file; written by the GIL holder inside the hook. Static rather than on
 * the stack because the hook runs on whatever thread raised the event, whose stack
 * may be small. (The rw_uncaught comes through the hook's userData.) */
static struct audithook_state {
    char text[RW_BLOB_MAX + 1]; /* (GIL) the repr of the event being recorded */
    /* (GIL) The argument tuple __wrap__Py_VaBuildValue_SizeT built for the event
     * being raised (borrowed: only compared), and the GC's state before it. */
    PyObject *built;
    rw_gc_mark before;
    /* (GIL) A freshly allocated argument tuple kept off the free list, emptied; ours
     * alone once CPython has dropped it, freed at the next event (args_forget). */
    PyObject *kept;
} ah;

static int hook(const char *event, PyObject *args, void *data);

/* Ours is the only audit hook: a plain run would not build the event's arguments. */
static int sole_hook(void)
{
    const _Py_AuditHookEntry *e = _PyRuntime.audit_hook_head;
    PyObject *py_hooks = _PyInterpreterState_GET()->audit_hooks;
    return e && !e->next && e->hookCFunction == hook &&
           (!py_hooks || (PyList_Check(py_hooks) && PyList_GET_SIZE(py_hooks) == 0));
}

/* sys_audit_tstate (Python/sysmodule.c, its only caller) builds an event's arguments
 * with it, then passes them to the hooks and drops them. The rewind executable is
 * linked with -Wl,--wrap=_Py_VaBuildValue_SizeT. When ours is the only hook, the
 * arguments are built as rewind's own work (busy: not recorded as the program's
 * allocations, the way a reused free-list block would be), already as a tuple (what
 * sys_audit_tstate would make of a single value), and the GC's state before is
 * kept for args_forget. */
PyObject *__real__Py_VaBuildValue_SizeT(const char *fmt, va_list va) __attribute__((weak));
PyObject *__wrap__Py_VaBuildValue_SizeT(const char *fmt, va_list va);

PyObject *__wrap__Py_VaBuildValue_SizeT(const char *fmt, va_list va)
{
    if (!atomic_load_explicit(&rw_st.on, memory_order_relaxed) || rw_tls.busy || !sole_hook())
        return __real__Py_VaBuildValue_SizeT(fmt, va);
    rw_tls.busy++;
    rw_gc_mark_take(&ah.before);
    PyObject *v = __real__Py_VaBuildValue_SizeT(fmt, va);
    if (v && !PyTuple_Check(v)) {
        PyObject *t = PyTuple_Pack(1, v);
        Py_DECREF(v);
        v = t;
    }
    ah.built = v;
    rw_tls.busy--;
    return v;
}

/* Called by the hook (busy, out of its rw_busy window) with the event's arguments. A tuple taken off its free
 * list goes back there when CPython drops it: nothing to do. A fresh one (its free
 * list was empty, generation 0 counted it) would be put on its free list and stay
 * counted, where a plain run has neither: it is kept here instead, emptied, and
 * uncounted. */
static void args_forget(PyObject *args, PyObject *built)
{
    if (args != built)
        return;
    PyInterpreterState *is = _PyInterpreterState_GET();
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    if (Py_REFCNT(args) != 1 || n < 1 || n >= PyTuple_MAXSAVESIZE || ah.kept)
        return;
    if (is->gc.generations[0].count != ah.before.count[0] + 1 ||
        is->tuple.numfree[n - 1] != 0 || ah.before.tuples[n - 1] != 0)
        return; /* not fresh (or a collection started): left as it is */
    Py_INCREF(args);
    for (Py_ssize_t i = 0; i < n; i++)
        Py_CLEAR(((PyTupleObject *)args)->ob_item[i]);
    is->gc.generations[0].count--;
    ah.kept = args;
}

/* Frees the tuple args_forget kept, once CPython has dropped it (busy). */
static void kept_free(void)
{
    PyObject *t = ah.kept;
    if (!t)
        return;
    ah.kept = NULL;
    if (Py_REFCNT(t) != 1) { /* someone else took it: theirs now */
        Py_DECREF(t);
        return;
    }
    struct _gc_runtime_state *gc = &_PyInterpreterState_GET()->gc;
    int count = gc->generations[0].count;
    PyObject_GC_UnTrack(t);
    PyObject_GC_Del(t);
    gc->generations[0].count = count; /* it was never counted */
}

typedef struct out {
    char *buf;
    size_t cap, len; /* len < cap; buf[len] == 0 */
} out;

static void put(out *o, const char *s, size_t n)
{
    if (o->len + n > o->cap - 1)
        n = o->cap - 1 - o->len;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void puts_(out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_obj_str(out *o, PyObject *s)
{
    char tmp[1024];
    size_t n = rw_py_str(s, tmp, sizeof tmp);
    put(o, tmp, n);
}

static void put_repr(out *o, PyObject *v)
{
    PyObject *r = PyObject_Repr(v);
    if (r) {
        put_obj_str(o, r);
        Py_DECREF(r);
    } else {
        PyErr_Clear();
        puts_(o, "<repr failed>");
    }
}

static void put_other(out *o, PyObject *v)
{
    char tmp[300];
    snprintf(tmp, sizeof tmp, "<%s object>", Py_TYPE(v)->tp_name);
    puts_(o, tmp);
}

static void repr_bounded(out *o, PyObject *v, int depth)
{
    if (o->len >= o->cap - 1)
        return;
    if (v == Py_None || PyBool_Check(v) || PyFloat_CheckExact(v) || PyComplex_CheckExact(v)) {
        put_repr(o, v);
    } else if (PyLong_CheckExact(v)) {
        /* Huge ints: repr is quadratic and may refuse (int_max_str_digits). */
        if (_PyLong_NumBits(v) < 4000)
            put_repr(o, v);
        else
            puts_(o, "<int object>");
    } else if (PyUnicode_Check(v)) {
        Py_ssize_t n = PyUnicode_GET_LENGTH(v);
        PyObject *cut = PyUnicode_Substring(v, 0, n > REPR_STR_MAX ? REPR_STR_MAX : n);
        if (cut) {
            put_repr(o, cut);
            Py_DECREF(cut);
        }
        if (n > REPR_STR_MAX)
            puts_(o, "...");
    } else if (PyBytes_Check(v) || PyByteArray_Check(v)) {
        Py_ssize_t n = PyBytes_Check(v) ? PyBytes_GET_SIZE(v) : PyByteArray_GET_SIZE(v);
        const char *p = PyBytes_Check(v) ? PyBytes_AS_STRING(v) : PyByteArray_AS_STRING(v);
        PyObject *cut = PyBytes_FromStringAndSize(p, n > REPR_STR_MAX ? REPR_STR_MAX : n);
        if (cut) {
            put_repr(o, cut);
            Py_DECREF(cut);
        }
        if (n > REPR_STR_MAX)
            puts_(o, "...");
    } else if (PyTuple_Check(v) || PyList_Check(v)) {
        int tuple = PyTuple_Check(v);
        if (depth >= REPR_DEPTH_MAX) {
            puts_(o, tuple ? "(...)" : "[...]");
            return;
        }
        Py_ssize_t n = PySequence_Fast_GET_SIZE(v);
        puts_(o, tuple ? "(" : "[");
        for (Py_ssize_t i = 0; i < n && o->len < o->cap - 1; i++) {
            if (i)
                puts_(o, ", ");
            if (i == REPR_ITEMS_MAX) {
                puts_(o, "...");
                break;
            }
            /* A list may change under us only through our own calls, which run no
             * user code; still re-check the size. */
            if (i >= PySequence_Fast_GET_SIZE(v))
                break;
            PyObject *item = PySequence_Fast_GET_ITEM(v, i);
            Py_INCREF(item);
            repr_bounded(o, item, depth + 1);
            Py_DECREF(item);
        }
        if (tuple && n == 1)
            puts_(o, ",");
        puts_(o, tuple ? ")" : "]");
    } else if (PyDict_CheckExact(v)) {
        if (depth >= REPR_DEPTH_MAX) {
            puts_(o, "{...}");
            return;
        }
        puts_(o, "{");
        Py_ssize_t pos = 0, i = 0;
        PyObject *k, *val;
        while (PyDict_Next(v, &pos, &k, &val) && o->len < o->cap - 1) {
            if (i)
                puts_(o, ", ");
            if (i++ == REPR_ITEMS_MAX) {
                puts_(o, "...");
                break;
            }
            repr_bounded(o, k, depth + 1);
            puts_(o, ": ");
            repr_bounded(o, val, depth + 1);
        }
        puts_(o, "}");
    } else if (PyCode_Check(v)) {
        char tmp[300];
        rw_py_str(((PyCodeObject *)v)->co_qualname, tmp, sizeof tmp);
        puts_(o, "<code object ");
        puts_(o, tmp);
        puts_(o, ">");
    } else if (Py_IS_TYPE(v, &PyType_Type)) {
        char tmp[300];
        snprintf(tmp, sizeof tmp, "<class '%s'>", ((PyTypeObject *)v)->tp_name);
        puts_(o, tmp);
    } else if (PyModule_Check(v)) {
        const char *name = PyModule_GetName(v);
        if (!name) {
            PyErr_Clear();
            name = "?";
        }
        puts_(o, "<module '");
        puts_(o, name);
        puts_(o, "'>");
    } else if (PyFunction_Check(v)) {
        puts_(o, "<function ");
        put_obj_str(o, ((PyFunctionObject *)v)->func_qualname);
        puts_(o, ">");
    } else {
        put_other(o, v);
    }
}

size_t rw_audithook_repr(PyObject *args, char *buf, size_t cap)
{
    assert(cap >= 16);
    out o = {buf, cap, 0};
    buf[0] = '\0';
    repr_bounded(&o, args, 0);
    return o.len;
}

static void on_excepthook(rw_uncaught *uc, PyObject *args, uint64_t t)
{
    /* args: (hook, type, value, traceback) */
    if (!PyTuple_Check(args) || PyTuple_GET_SIZE(args) < 4)
        return;
    PyObject *type = PyTuple_GET_ITEM(args, 1), *value = PyTuple_GET_ITEM(args, 2);
    PyObject *tb = PyTuple_GET_ITEM(args, 3);
    rw_py_type_name(type, uc->type, sizeof uc->type);
    size_t len = value == Py_None ? 0 : rw_py_str(value, uc->message, sizeof uc->message);
    uc->message[len] = '\0';
    len = rw_secrets_scrub(uc->message, len, sizeof uc->message);
    uint32_t name = rw_defs_name_id(uc->type);

    /* Keep the outermost frames when the traceback is deeper than the table. */
    uc->ntb = 0;
    for (PyObject *p = tb; p && PyTraceBack_Check(p) && uc->ntb < RW_UNCAUGHT_TB_MAX;
         p = (PyObject *)((PyTracebackObject *)p)->tb_next) {
        PyTracebackObject *e = (PyTracebackObject *)p;
        PyCodeObject *co = PyFrame_GetCode(e->tb_frame);
        Rewind__TracebackEntry *te = &uc->tb[uc->ntb];
        rewind__traceback_entry__init(te);
        te->code = rw_defs_code_id(co);
        te->line = e->tb_lineno > 0 ? (uint32_t)e->tb_lineno : 0;
        Py_DECREF(co);
        uc->tbp[uc->ntb] = te;
        uc->ntb++;
    }
    if (!rw_emit_begin(t))
        return;
    uc->pos = rw_st.nevents;
    uc->seen = 1;
    rw_stream_put_text(rw_st.s, RW_REC(RW_K_UNCAUGHT, t), name, uc->message, len);
}

static void (*turn)(int written);

void rw_audithook_set_turn(void (*fn)(int written))
{
    turn = fn;
}

static int hook(const char *event, PyObject *args, void *data)
{
    PyObject *built = ah.built;
    ah.built = NULL;
    if (!atomic_load_explicit(&rw_st.on, memory_order_relaxed) || rw_tls.busy)
        return 0;
    if (turn)
        turn(0);
    uint64_t t = rw_tick();
    /* The thread switch first: it may define the thread, which cannot happen busy. */
    if (!rw_emit_begin(t))
        return 0;
    rw_busy b;
    rw_busy_enter(&b, 1);
    kept_free();
    uint32_t name = rw_defs_name_id(event);
    size_t len = rw_audithook_repr(args, ah.text, sizeof ah.text);
    len = rw_secrets_scrub(ah.text, len, sizeof ah.text);
    /* The repr ran the program's code, which may have let the GIL go (a socket's repr
     * asks getsockname) and another thread's records come in: this thread's again. */
    if (rw_emit_begin(t))
        rw_stream_put_text(rw_st.s, RW_REC(RW_K_AUDIT, t), name, ah.text, len);
    if (turn)
        turn(1);
    if (!strcmp(event, "sys.excepthook"))
        on_excepthook(data, args, t);
    /* The program installs its own trace or profile function (pdb, coverage,
     * threading.settrace): chained behind rewind's hook (chain.h). Only when that could
     * not be set up does it replace rewind's in this thread, and the trace cannot be
     * whole: say so rather than lose events silently. */
    if (!rw_chain_on() && ((!strcmp(event, "sys.settrace") && rw_st.lines) ||
        (!strcmp(event, "sys.setprofile") && (!rw_st.lines || rw_st.c_calls))))
        rw_state_fail("the program called %s in thread %u at event %llu, which replaced "
                      "rewind's hook there: that thread's later events are missing",
                      event, rw_tls.thread, (unsigned long long)rw_st.nevents);
    rw_busy_leave(&b);
    /* After the window, which puts the GC's state back. */
    if (!strcmp(event, "sys._getframe") && PyTuple_GET_SIZE(args) == 1 &&
        PyFrame_Check(PyTuple_GET_ITEM(args, 0)))
        rw_frame_materialized((PyFrameObject *)PyTuple_GET_ITEM(args, 0));
    rw_tls.busy++;
    args_forget(args, built);
    rw_tls.busy--;
    return 0;
}

rw_code rw_audithook_install(rw_uncaught *uc, rw_err *err)
{
    assert(uc != NULL);
    rw_tls.busy++;
    int rc = PySys_AddAuditHook(hook, uc);
    rw_tls.busy--;
    if (rc < 0) {
        PyErr_Clear();
        return rw_err_set(err, RW_EPYTHON, "cannot add the audit hook");
    }
    return RW_OK;
}
