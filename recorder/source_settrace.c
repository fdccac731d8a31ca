/* Event source on PyEval_SetTrace / PyEval_SetProfile (CPython 3.11).
 *
 * The trace function turns call/line/return/exception into raw records, the profile
 * function c_call/c_return/c_exception (and call/return when lines are off). Hot
 * path: one relaxed load (recording on?), rdtsc, one compare (same thread as the last
 * record?), one relaxed load (side buffer empty?), then a plain append. Code objects
 * get their id once, stored in a co_extra slot; C functions are keyed by their
 * PyMethodDef as cProfile keys them, behind a direct-mapped cache.
 *
 * The one file that uses CPython internals (Py_BUILD_CORE): PyFrameObject's fields.
 */
#define Py_BUILD_CORE 1
#include "source.h"

#include "frameobject.h"
#include "internal/pycore_frame.h"
#include "internal/pycore_pylifecycle.h"

#include <time.h>

#include "intern.h"
#include "recorder_int.h"
#include "state.h"
#include "sysalloc.h"

/* Mirror of _PyCodeObjectExtra (Objects/codeobject.c, 3.11), which no header
 * declares: reading co_extra directly saves a call per call event. */
typedef struct code_extra {
    Py_ssize_t ce_size;
    void *ce_extras[1];
} code_extra;

static Py_ssize_t extra_index = -1; /* our co_extra slot */
static uint32_t ncodes;             /* (GIL) CodeDef ids handed out */
static rw_strtab files;             /* (GIL) filename -> FileDef id */
static const char *command_source;  /* source of "<string>" for -c, or NULL */

#define CF_CACHE 1024
typedef struct cf_slot {
    const void *key;
    uint32_t id;
} cf_slot;
static cf_slot cf_cache[CF_CACHE]; /* (GIL) direct-mapped front of cfuncs */

static inline cf_slot *cf_slot_of(const void *key)
{
    return &cf_cache[((uintptr_t)key >> 5) & (CF_CACHE - 1)];
}
static rw_ptrtab cfuncs;           /* (GIL) PyMethodDef * -> CFuncDef id */
static uint32_t ncfuncs;

/* ---- definitions (slow paths) ----------------------------------------------------- */

static uint32_t file_id(PyObject *filename)
{
    char path[4096];
    rw_py_str(filename, path, sizeof path);
    int added;
    uint32_t id = rw_strtab_intern(&files, path, strlen(path), &added);
    if (!id) {
        rw_state_fail("out of memory interning a file name");
        return 0;
    }
    if (added) {
        if (command_source && !strcmp(path, "<string>"))
            rw_writer_def_file(rw_st.w, id, path, command_source, strlen(command_source), 1);
        else
            rw_writer_def_file_lazy(rw_st.w, id, path);
    }
    return id;
}

/* Line starts of co as dis.findlinestarts gives them, first occurrence of each line
 * only, into a new sysalloc'd array (*n entries; NULL when none). */
static uint32_t *line_starts(PyCodeObject *co, size_t *n)
{
    *n = 0;
    PyObject *it = PyObject_CallMethod((PyObject *)co, "co_lines", NULL);
    PyObject *iter = it ? PyObject_GetIter(it) : NULL;
    Py_XDECREF(it);
    if (!iter) {
        PyErr_Clear();
        return NULL;
    }
    size_t cap = 0, len = 0;
    uint32_t *lines = NULL, maxline = 0;
    long last = -1;
    PyObject *t;
    while ((t = PyIter_Next(iter))) {
        if (PyTuple_Check(t) && PyTuple_GET_SIZE(t) == 3) {
            PyObject *l = PyTuple_GET_ITEM(t, 2);
            long line = l == Py_None ? -1 : PyLong_AsLong(l);
            if (line > 0 && line != last && line < (1L << 30)) {
                if (len == cap) {
                    cap = cap ? cap * 2 : 64;
                    uint32_t *p = rw_sys_realloc(lines, cap * sizeof *p);
                    if (!p) {
                        Py_DECREF(t);
                        break;
                    }
                    lines = p;
                }
                lines[len++] = (uint32_t)line;
                if ((uint32_t)line > maxline)
                    maxline = (uint32_t)line;
            }
            if (line > 0)
                last = line;
        }
        Py_DECREF(t);
    }
    Py_DECREF(iter);
    PyErr_Clear();
    /* Keep each line's first occurrence only. */
    unsigned char *seen = len ? rw_sys_calloc((size_t)maxline + 1, 1) : NULL;
    size_t k = 0;
    for (size_t i = 0; seen && i < len; i++)
        if (!seen[lines[i]]) {
            seen[lines[i]] = 1;
            lines[k++] = lines[i];
        }
    rw_sys_free(seen);
    *n = seen ? k : 0;
    return lines;
}

static uint32_t code_define_one(PyCodeObject *co, uint32_t parent)
{
    uint32_t file = file_id(co->co_filename);
    char name[256], qual[512];
    rw_py_str(co->co_name, name, sizeof name);
    rw_py_str(co->co_qualname, qual, sizeof qual);

    int flags = co->co_flags;
    size_t nargs = (size_t)co->co_argcount + (size_t)co->co_kwonlyargcount +
                   !!(flags & CO_VARARGS) + !!(flags & CO_VARKEYWORDS);
    char *argbuf = NULL;
    const char **argv = NULL;
    PyObject *vars = PyCode_GetVarnames(co);
    if (vars && PyTuple_Check(vars) && (size_t)PyTuple_GET_SIZE(vars) >= nargs && nargs) {
        argv = rw_sys_calloc(nargs, sizeof *argv);
        argbuf = rw_sys_malloc(nargs * 128);
        if (!argv || !argbuf)
            nargs = 0;
        for (size_t i = 0; i < nargs; i++) {
            rw_py_str(PyTuple_GET_ITEM(vars, (Py_ssize_t)i), argbuf + i * 128, 128);
            argv[i] = argbuf + i * 128;
        }
    } else {
        nargs = 0;
    }
    Py_XDECREF(vars);
    PyErr_Clear();

    size_t nlines;
    uint32_t *lines = line_starts(co, &nlines);
    uint32_t id = ++ncodes;
    rw_writer_def_code(rw_st.w, id, file, name, qual, (uint32_t)co->co_firstlineno,
                       (uint32_t)flags, (const char *const *)argv, nargs);
    rw_writer_def_code_lines(rw_st.w, id, lines, nlines, parent);
    rw_sys_free(lines);
    rw_sys_free(argv);
    rw_sys_free(argbuf);
    /* Fails only when out of memory; the code is then defined again next time. */
    if (_PyCode_SetExtra((PyObject *)co, extra_index, (void *)(uintptr_t)id) < 0)
        PyErr_Clear();

    /* The code objects it holds are defined too, even if they never run: coverage
     * needs the lines of functions that were never called (trace.py compiles the
     * file for that; we have the code objects). */
    PyObject *consts = co->co_consts;
    for (Py_ssize_t i = 0; consts && PyTuple_Check(consts) && i < PyTuple_GET_SIZE(consts); i++) {
        PyObject *c = PyTuple_GET_ITEM(consts, i);
        void *have = NULL;
        if (PyCode_Check(c) && (_PyCode_GetExtra(c, extra_index, &have) < 0 || !have)) {
            PyErr_Clear();
            code_define_one((PyCodeObject *)c, id);
        }
    }
    return id;
}

static uint32_t code_define(PyCodeObject *co)
{
    rw_busy b;
    rw_busy_enter(&b, 0);
    uint32_t id = code_define_one(co, 0);
    rw_busy_leave(&b);
    return id;
}

static inline uint32_t code_id(PyCodeObject *co)
{
    code_extra *ex = (code_extra *)co->co_extra;
    if (RW_LIKELY(ex != NULL && ex->ce_size > extra_index)) {
        uintptr_t v = (uintptr_t)ex->ce_extras[extra_index];
        if (RW_LIKELY(v != 0))
            return (uint32_t)v;
    }
    return code_define(co);
}

uint32_t rw_source_code_id(PyCodeObject *co)
{
    return code_id(co);
}

Py_ssize_t rw_source_extra_index(void)
{
    return extra_index;
}

/* The label cProfile gives a C function (Modules/_lsprof.c, normalizeUserObj). */
static void cfunc_label(PyCFunctionObject *fn, char *buf, size_t cap)
{
    const char *ml = fn->m_ml->ml_name;
    if (fn->m_self == NULL) {
        PyObject *mod = fn->m_module, *modname = NULL;
        if (mod && PyUnicode_Check(mod)) {
            modname = Py_NewRef(mod);
        } else if (mod && PyModule_Check(mod)) {
            modname = PyModule_GetNameObject(mod);
            if (!modname)
                PyErr_Clear();
        }
        char m[256] = "";
        if (modname) {
            rw_py_str(modname, m, sizeof m);
            Py_DECREF(modname);
        }
        if (modname && strcmp(m, "builtins"))
            snprintf(buf, cap, "<%s.%s>", m, ml);
        else
            snprintf(buf, cap, "<%s>", ml);
        return;
    }
    PyObject *name = PyUnicode_FromString(ml);
    if (name) {
        PyObject *mo = _PyType_Lookup(Py_TYPE(fn->m_self), name);
        Py_XINCREF(mo);
        Py_DECREF(name);
        if (mo) {
            PyObject *res = PyObject_Repr(mo);
            Py_DECREF(mo);
            if (res) {
                rw_py_str(res, buf, cap);
                Py_DECREF(res);
                return;
            }
        }
    }
    PyErr_Clear();
    PyObject *modname = fn->m_module;
    if (modname && PyUnicode_Check(modname)) {
        char m[256];
        rw_py_str(modname, m, sizeof m);
        snprintf(buf, cap, "<built-in method %s.%s>", m, ml);
    } else {
        snprintf(buf, cap, "<built-in method %s>", ml);
    }
}

static uint32_t cfunc_define(PyCFunctionObject *fn)
{
    const void *key = fn->m_ml;
    uint32_t id = rw_ptrtab_get(&cfuncs, key);
    if (!id) {
        rw_busy b;
        rw_busy_enter(&b, 0);
        char label[512], module[256] = "";
        cfunc_label(fn, label, sizeof label);
        if (fn->m_module && PyUnicode_Check(fn->m_module))
            rw_py_str(fn->m_module, module, sizeof module);
        rw_busy_leave(&b);
        id = ++ncfuncs;
        if (!rw_ptrtab_put(&cfuncs, key, id))
            rw_state_fail("out of memory interning a C function");
        rw_writer_def_cfunc(rw_st.w, id, label, fn->m_ml->ml_name, module);
    }
    cf_slot *slot = cf_slot_of(key);
    slot->key = key;
    slot->id = id;
    return id;
}

static inline uint32_t cfunc_id(PyCFunctionObject *fn)
{
    const void *key = fn->m_ml;
    const cf_slot *slot = cf_slot_of(key);
    if (RW_LIKELY(slot->key == key))
        return slot->id;
    return cfunc_define(fn);
}

/* ---- the hooks -------------------------------------------------------------------- */

static inline uint32_t frame_line(PyFrameObject *f)
{
    /* call_trace() sets f_lineno just before calling us. */
    int line = f->f_lineno;
    if (RW_UNLIKELY(line <= 0))
        line = PyFrame_GetLineNumber(f);
    return line > 0 ? (uint32_t)line : 0;
}

static void exception_event(uint64_t t, PyObject *arg)
{
    char type[256];
    char msg[RW_BLOB_MAX + 1];
    size_t len = 0;
    uint32_t name = 0;
    rw_busy b;
    rw_busy_enter(&b, 0);
    if (PyTuple_Check(arg) && PyTuple_GET_SIZE(arg) >= 2) {
        rw_py_type_name(PyTuple_GET_ITEM(arg, 0), type, sizeof type);
        name = rw_name_id(type);
        PyObject *value = PyTuple_GET_ITEM(arg, 1);
        if (value != Py_None)
            len = rw_py_str(value, msg, sizeof msg);
    }
    rw_busy_leave(&b);
    rw_stream_put_text(rw_st.s, RW_REC(RW_K_EXCEPTION, t), name, msg, len);
}

/* The hooks' fast paths: the usual case (the same thread as the last record, no side
 * records, room in the block, a known C function) with no call in it, so that it
 * needs no stack frame. The slow paths do everything, the usual case included. */

static __attribute__((noinline)) int trace_slow(PyFrameObject *f, int what, PyObject *arg)
{
    if (RW_LIKELY(what == PyTrace_LINE)) {
        /* The clock costs 10-22 ns in this kind of VM, as much as the rest of the
         * hook: lines take the time of the previous event unless --line-times. */
        uint64_t t = rw_st.line_times ? rw_tick() : 0;
        if (RW_UNLIKELY(!rw_emit_begin(t)))
            return 0;
        rw_stream_put(rw_st.s, RW_REC(RW_K_LINE, t), frame_line(f));
        rw_st.nevents++;
        return 0;
    }
    uint64_t t = rw_tick();
    if (RW_UNLIKELY(!rw_emit_begin(t)))
        return 0;
    switch (what) {
    case PyTrace_CALL: {
        uint32_t id = code_id(f->f_frame->f_code);
        rw_stream_put(rw_st.s, RW_REC(RW_K_CALL, t), id | ((uint64_t)frame_line(f) << 32));
        break;
    }
    case PyTrace_RETURN:
        rw_stream_put(rw_st.s, RW_REC(RW_K_RETURN, t), 0);
        break;
    case PyTrace_EXCEPTION:
        exception_event(t, arg);
        break;
    default:
        return 0;
    }
    rw_st.nevents++;
    return 0;
}

static int trace_fn(PyObject *obj, PyFrameObject *f, int what, PyObject *arg)
{
    if (RW_UNLIKELY(!atomic_load_explicit(&rw_st.on, memory_order_relaxed)))
        return 0;
    if (RW_LIKELY(what == PyTrace_LINE) && RW_LIKELY(!rw_st.line_times) && rw_may_append()) {
        int line = f->f_lineno; /* call_trace() sets it just before calling us */
        if (RW_LIKELY(line > 0) &&
            RW_LIKELY(rw_stream_try_put(rw_st.s, RW_REC(RW_K_LINE, 0), (uint32_t)line))) {
            rw_st.nevents++;
            return 0;
        }
    }
    return trace_slow(f, what, arg);
}

static __attribute__((noinline)) int profile_slow(PyObject *obj, PyFrameObject *f, int what,
                                                  PyObject *arg)
{
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
        return rw_st.lines ? 0 : trace_fn(obj, f, what, arg);
    default:
        return 0;
    }
    if (!rw_st.c_calls || !PyCFunction_Check(arg))
        return 0;
    uint64_t t = rw_tick();
    if (RW_UNLIKELY(!rw_emit_begin(t)))
        return 0;
    rw_stream_put(rw_st.s, RW_REC(kind, t), cfunc_id((PyCFunctionObject *)arg));
    rw_st.nevents++;
    return 0;
}

static int profile_fn(PyObject *obj, PyFrameObject *f, int what, PyObject *arg)
{
    if (RW_UNLIKELY(!atomic_load_explicit(&rw_st.on, memory_order_relaxed)))
        return 0;
    if ((what == PyTrace_CALL || what == PyTrace_RETURN) && rw_st.lines)
        return 0; /* the trace function has them */
    if ((what == PyTrace_C_CALL || what == PyTrace_C_RETURN) && RW_LIKELY(rw_st.c_calls) &&
        Py_IS_TYPE(arg, &PyCFunction_Type) && rw_may_append()) {
        const void *key = ((PyCFunctionObject *)arg)->m_ml;
        const cf_slot *slot = cf_slot_of(key);
        if (RW_LIKELY(slot->key == key)) {
            int kind = what == PyTrace_C_CALL ? RW_K_C_CALL : RW_K_C_RETURN;
            if (RW_LIKELY(rw_stream_try_put(rw_st.s, RW_REC(kind, rw_tick()), slot->id))) {
                rw_st.nevents++;
                return 0;
            }
        }
    }
    return profile_slow(obj, f, what, arg);
}

/* ---- installation ----------------------------------------------------------------- */

static void free_extra(void *p)
{
    (void)p; /* the slot holds an integer id, nothing to free */
}

rw_code rw_source_init(const char *command_text, rw_err *err)
{
    if (extra_index < 0) {
        extra_index = _PyEval_RequestCodeExtraIndex(free_extra);
        if (extra_index < 0)
            return rw_err_set(err, RW_EPYTHON, "cannot reserve a code object extra slot");
    }
    command_source = command_text;
    return RW_OK;
}

static void install(PyThreadState *ts)
{
    /* busy: our own sys.settrace/sys.setprofile audit events are not recorded. */
    rw_tls.busy++;
    if (rw_st.lines)
        _PyEval_SetTrace(ts, trace_fn, NULL);
    if (!rw_st.lines || rw_st.c_calls)
        _PyEval_SetProfile(ts, profile_fn, NULL);
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
    enum { N = 20000 };
    rw_block *blk = rw_sys_calloc(1, sizeof(rw_block) + (N + 8) * sizeof(rw_rec));
    PyCodeObject *co = PyCode_NewEmpty("<calibration>", "calibration", 1);
    PyObject *globals = PyDict_New();
    PyFrameObject *f = (co && globals) ? PyFrame_New(PyThreadState_Get(), co, globals, NULL)
                                       : NULL;
    double ns = 0;
    if (blk && f) {
        blk->cap = N + 8;
        rw_stream scratch = {blk->recs, blk->recs + blk->cap, blk, rw_st.w};
        rw_stream *real = rw_st.s;
        uint32_t cur = rw_st.cur_thread;
        uint64_t nev = rw_st.nevents;
        int on = atomic_load(&rw_st.on);
        rw_st.s = &scratch;
        rw_st.cur_thread = rw_tls.thread;
        atomic_store(&rw_st.on, 1);
        f->f_lineno = 1;
        struct timespec a, z;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (int i = 0; i < N; i++)
            trace_fn(NULL, f, PyTrace_LINE, Py_None);
        clock_gettime(CLOCK_MONOTONIC, &z);
        f->f_lineno = 0;
        atomic_store(&rw_st.on, on);
        rw_st.s = real;
        rw_st.cur_thread = cur;
        rw_st.nevents = nev;
        ns = ((double)(z.tv_sec - a.tv_sec) * 1e9 + (double)(z.tv_nsec - a.tv_nsec)) / N;
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
