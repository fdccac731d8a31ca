/* The program's trace and profile functions behind rewind's hooks (chain.h).
 *
 * How the slots are taken over: _PyEval_SetTrace and _PyEval_SetProfile (CPython 3.11)
 * are the one place every setter goes through; their first bytes are replaced by a jump
 * to set_trace/set_profile here, which do what CPython's do (audit event, reentrancy
 * check, reference counts, use_tracing) except that a function the program sets in its
 * own thread is kept aside, per thread, while the thread's slot keeps rewind's hook and
 * takes the program's object. sys.gettrace() then returns what it would without rewind
 * (the program's object, or None), and sys.settrace(sys.gettrace()) or a settrace(None)
 * followed by a restore cannot remove rewind's hook. CPython's own trampolines stay the
 * chained functions for Python-level tracers, so the program's function is called with
 * CPython's exact semantics (f_trace, its return value, locals, removal on error).
 *
 * frame.f_trace_lines: CPython stops giving line events of a frame to the trace hook
 * when it is False (coverage's PyTracer sets it). The attribute becomes a descriptor of
 * ours storing 1 (True) or 2 (False) in the char: both non-zero, so rewind's hook keeps
 * the frame's lines, and the program's function only gets those where bit 0 is set.
 */
#define Py_BUILD_CORE 1
#include "chain.h"

#include "frameobject.h"
#include "internal/pycore_frame.h"
#include "internal/pycore_pystate.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "state.h"

#define LINES_ON 1  /* f_trace_lines: the program's True */
#define LINES_OFF 2 /* the program's False; still non-zero for the interpreter */

enum { TRACE, PROFILE };

/* The function chained in one slot of the calling thread. (GIL; each thread its own.)
 * Valid only while ts is the thread's current thread state: a thread state made later
 * on the same OS thread starts without one. */
typedef struct chained {
    PyThreadState *ts;
    Py_tracefunc func; /* NULL: none */
    int obj_null;      /* the program gave no object: the slot holds None for it */
} chained;

static __thread chained chain_of[2];

/* C calls the interpreter would not have traced. CPython decides at a C call's start
 * whether to trace it (use_tracing: the thread has a trace or profile function), and
 * then gives its c_return or c_exception to the profile function of the moment. Under
 * rewind every call is traced; a C call that started while the program had no function
 * in this thread must not end, for the program, in a c_return of a function set since
 * (the c_return of sys.setprofile itself, of the exec running the script). When the
 * program goes from no function to one, the frames on the stack are noted: a frame
 * that is inside a C call is one of them, and the first C event of each afterwards
 * either ends that call (c_return, c_exception: not passed on) or starts a new one
 * (c_call: passed on; the frame was not in a C call). (GIL; each thread its own.) */
enum { UNTRACED_MAX = 64 }; /* frames nearer the top are the ones that matter */
static __thread struct untraced {
    PyThreadState *ts;
    int n;
    PyFrameObject *frames[UNTRACED_MAX]; /* not owned: compared, never dereferenced */
} untraced;

/* One slot's setter. Owner: this file; written by rw_chain_install (main thread, before
 * user code), then under the GIL. */
typedef struct slot {
    const char *audit;   /* the audit event CPython raises */
    const char *busy;    /* CPython's reentrancy message */
    Py_tracefunc hook;   /* rewind's function in this slot; NULL: rewind leaves it alone */
    int reentrant;       /* a set is in progress (CPython keeps the same flag) */
} slot;

static slot slots[2] = {
    {"sys.settrace", "Cannot install a trace function while another trace function is being "
                     "installed", NULL, 0},
    {"sys.setprofile", "Cannot install a profile function while another profile function is "
                       "being installed", NULL, 0},
};

static int installed;

int rw_chain_on(void)
{
    return installed;
}

/* ---- the setters ------------------------------------------------------------------ */

static Py_tracefunc *func_field(PyThreadState *ts, int which)
{
    return which == TRACE ? &ts->c_tracefunc : &ts->c_profilefunc;
}

static PyObject **obj_field(PyThreadState *ts, int which)
{
    return which == TRACE ? &ts->c_traceobj : &ts->c_profileobj;
}

/* CPython 3.11's _PyEval_SetTrace/_PyEval_SetProfile after the audit event: the slot
 * is emptied first (a finalizer of the old object runs with the slot empty), then set. */
static void store(PyThreadState *ts, int which, Py_tracefunc func, PyObject *arg)
{
    Py_tracefunc *fp = func_field(ts, which);
    PyObject **op = obj_field(ts, which);
    PyObject *old = *op;
    *fp = NULL;
    *op = NULL;
    _PyThreadState_UpdateTracingState(ts);
    Py_XINCREF(arg);
    Py_XDECREF(old);
    *fp = func;
    *op = arg;
    _PyThreadState_UpdateTracingState(ts);
}

/* The slot keeps rewind's hook; func (NULL: none) becomes the thread's chained function
 * and arg the slot's object, None standing for a NULL arg so that the hook still sees
 * that something is chained. While the old object goes (its finalizer may run Python
 * code), rewind's hook is in place with no object: that code is recorded, and given to
 * no program function, as CPython gives it to none. */
static void chain(PyThreadState *ts, int which, Py_tracefunc func, PyObject *arg)
{
    chained *c = &chain_of[which];
    Py_tracefunc *fp = func_field(ts, which);
    PyObject **op = obj_field(ts, which);
    PyObject *obj = func && !arg ? Py_None : arg;
    PyObject *old = *op;
    c->func = NULL;
    c->ts = NULL;
    *op = NULL;
    *fp = slots[which].hook;
    _PyThreadState_UpdateTracingState(ts);
    Py_XINCREF(obj);
    Py_XDECREF(old);
    *op = obj;
    c->func = func;
    c->ts = ts;
    c->obj_null = func && !arg;
}

/* 1 when the program has a trace or profile function of its own in thread ts (the
 * calling one): CPython's use_tracing without rewind. */
static int program_traces(PyThreadState *ts)
{
    for (int which = TRACE; which <= PROFILE; which++) {
        if (slots[which].hook) {
            if (chain_of[which].func && chain_of[which].ts == ts)
                return 1;
        } else if (*func_field(ts, which)) {
            return 1;
        }
    }
    return 0;
}

static void note_untraced_calls(PyThreadState *ts)
{
    untraced.ts = ts;
    untraced.n = 0;
    PyFrameObject *f = PyThreadState_GetFrame(ts); /* new reference */
    while (f && untraced.n < UNTRACED_MAX) {
        untraced.frames[untraced.n++] = f;
        PyFrameObject *back = PyFrame_GetBack(f);
        Py_DECREF(f);
        f = back;
    }
    Py_XDECREF(f);
}

/* 1 when this C event must not reach the program's profile function (see untraced). */
static int untraced_c_event(PyFrameObject *f, int what)
{
    if (untraced.ts != _PyThreadState_GET()) {
        untraced.n = 0;
        return 0;
    }
    for (int i = 0; i < untraced.n; i++) {
        if (untraced.frames[i] == f) {
            untraced.frames[i] = untraced.frames[--untraced.n];
            return what != PyTrace_C_CALL;
        }
    }
    return 0;
}

static int set_func(int which, PyThreadState *ts, Py_tracefunc func, PyObject *arg)
{
    slot *s = &slots[which];
    if (s->reentrant) {
        PyErr_SetString(PyExc_RuntimeError, s->busy);
        s->reentrant = 0;
        return -1;
    }
    s->reentrant = 1;
    if (PySys_Audit(s->audit, NULL) < 0) {
        s->reentrant = 0;
        return -1;
    }
    PyThreadState *cur = _PyThreadState_GET();
    Py_tracefunc *fp = func_field(ts, which);
    if (!s->hook) {
        store(ts, which, func, arg); /* rewind does not use this slot */
    } else if (func == s->hook) {
        /* rewind installs its hook: a function already there (set before recording
         * began) is chained rather than lost, when it is this thread's. */
        if (*fp == s->hook) {
            /* already there, with its chained function if any */
        } else if (*fp && ts == cur) {
            PyObject *obj = *obj_field(ts, which);
            Py_XINCREF(obj);
            chain(ts, which, *fp, obj);
            Py_XDECREF(obj);
        } else {
            store(ts, which, func, arg);
        }
    } else if (ts == cur) {
        int before = program_traces(ts);
        chain(ts, which, func, arg);
        if (!before && program_traces(ts))
            note_untraced_calls(ts);
        else if (which == PROFILE && !func)
            untraced.n = 0; /* what it holds is for the profile function gone */
    } else {
        /* Another thread's slot (no CPython path does this; a C extension might): its
         * chained function cannot be kept for it, so it replaces rewind's hook there. */
        store(ts, which, func, arg);
        if (func)
            rw_state_fail("a C extension set the %s function of another thread, which "
                          "replaced rewind's hook there: that thread's later events are "
                          "missing", which == TRACE ? "trace" : "profile");
    }
    s->reentrant = 0;
    return 0;
}

static int set_trace(PyThreadState *ts, Py_tracefunc func, PyObject *arg)
{
    return set_func(TRACE, ts, func, arg);
}

static int set_profile(PyThreadState *ts, Py_tracefunc func, PyObject *arg)
{
    return set_func(PROFILE, ts, func, arg);
}

/* ---- the forwarders --------------------------------------------------------------- */

int rw_chain_trace(PyObject *obj, PyFrameObject *f, int what, PyObject *arg)
{
    const chained *c = &chain_of[TRACE];
    if (!c->func || c->ts != _PyThreadState_GET())
        return 0;
    if (what == PyTrace_LINE && !(f->f_trace_lines & LINES_ON))
        return 0; /* the interpreter would not have made this event for the program */
    return c->func(c->obj_null ? NULL : obj, f, what, arg);
}

int rw_chain_profile(PyObject *obj, PyFrameObject *f, int what, PyObject *arg)
{
    const chained *c = &chain_of[PROFILE];
    if (!c->func || c->ts != _PyThreadState_GET())
        return 0;
    if (RW_UNLIKELY(untraced.n != 0) && what >= PyTrace_C_CALL &&
        what <= PyTrace_C_RETURN && untraced_c_event(f, what))
        return 0;
    return c->func(c->obj_null ? NULL : obj, f, what, arg);
}

/* ---- frame.f_trace_lines ---------------------------------------------------------- */

static PyObject *lines_get(PyObject *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(((PyFrameObject *)self)->f_trace_lines & LINES_ON);
}

/* As structmember.c's T_BOOL member, which it replaces. */
static int lines_set(PyObject *self, PyObject *v, void *closure)
{
    (void)closure;
    if (!v) {
        PyErr_SetString(PyExc_TypeError, "can't delete numeric/char attribute");
        return -1;
    }
    if (!PyBool_Check(v)) {
        PyErr_SetString(PyExc_TypeError, "attribute value type must be bool");
        return -1;
    }
    ((PyFrameObject *)self)->f_trace_lines = v == Py_True ? LINES_ON : LINES_OFF;
    return 0;
}

static PyGetSetDef lines_def = {"f_trace_lines", lines_get, lines_set,
                                "Emit per-line trace events?", NULL};

static int take_lines_attribute(void)
{
    PyObject *d = PyDescr_NewGetSet(&PyFrame_Type, &lines_def);
    int rc = d ? PyDict_SetItemString(PyFrame_Type.tp_dict, "f_trace_lines", d) : -1;
    Py_XDECREF(d);
    if (rc < 0) {
        PyErr_Clear();
        return -1;
    }
    PyType_Modified(&PyFrame_Type);
    return 0;
}

/* ---- redirection ------------------------------------------------------------------ */

enum { JUMP_LEN = 13 };

/* Writes "movabs $to, %r11; jmp *%r11" over the first bytes of from. r11 is scratch in
 * the x86-64 calling convention, and the jump keeps the arguments and return address,
 * so `to` runs as if called instead. The original is never run again. */
static int redirect(void *from, void *to)
{
    unsigned char code[JUMP_LEN] = {0x49, 0xBB};
    uint64_t target = (uint64_t)(uintptr_t)to;
    memcpy(code + 2, &target, sizeof target);
    code[10] = 0x41;
    code[11] = 0xFF;
    code[12] = 0xE3;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = (uintptr_t)from & ~(page - 1);
    uintptr_t hi = ((uintptr_t)from + JUMP_LEN + page - 1) & ~(page - 1);
    if (mprotect((void *)lo, hi - lo, PROT_READ | PROT_WRITE | PROT_EXEC) != 0)
        return -1;
    memcpy(from, code, JUMP_LEN);
    mprotect((void *)lo, hi - lo, PROT_READ | PROT_EXEC);
    __builtin___clear_cache((char *)from, (char *)from + JUMP_LEN);
    return 0;
}

int rw_chain_install(Py_tracefunc trace_hook, Py_tracefunc profile_hook)
{
    if (installed)
        return 0;
    /* Slots rewind does not use are set as CPython sets them: only the others need the
     * redirection. Both are redirected before either hook is taken, so that a failure
     * leaves CPython's behaviour whole. */
    if (trace_hook && redirect((void *)_PyEval_SetTrace, (void *)set_trace) != 0)
        return -1;
    if (profile_hook && redirect((void *)_PyEval_SetProfile, (void *)set_profile) != 0)
        return -1; /* set_trace, if in place, acts as CPython's with no hook known */
    slots[TRACE].hook = trace_hook;
    slots[PROFILE].hook = profile_hook;
    if (trace_hook)
        take_lines_attribute();
    installed = 1;
    return 0;
}
