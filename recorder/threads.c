/* Threads: the ThreadDef table, and the _thread.start_new_thread wrapper that makes
 * every new thread a recorded one before its target runs (CPython 3.11 has no hook
 * for thread creation; PyEval_SetTrace covers the calling thread only).
 */
#include "recorder_int.h"

#include <stdio.h>

#include "crash.h"
#include "source.h"
#include "sysalloc.h"

typedef struct thread_ent {
    Rewind__ThreadDef def;   /* def.name owned (sysalloc) */
    PyObject *thread_obj;    /* weak: never dereferenced after the thread ends */
} thread_ent;

static thread_ent *threads;   /* (GIL) index = id - 1 */
static size_t nthreads, cap_threads;
static Rewind__ThreadDef **final_defs;
static PyObject *orig_start;  /* strong: the original _thread.start_new_thread */

static void set_name(thread_ent *e, const char *name)
{
    char *copy = rw_sys_strdup(name ? name : "");
    if (!copy)
        return;
    if (e->def.name != protobuf_c_empty_string)
        rw_sys_free(e->def.name);
    e->def.name = copy;
}

uint32_t rw_threads_define_current(const char *name, int is_main)
{
    if (nthreads == cap_threads) {
        size_t cap = cap_threads ? cap_threads * 2 : 16;
        thread_ent *t = rw_sys_realloc(threads, cap * sizeof *t);
        if (!t) {
            rw_state_fail("out of memory defining a thread");
            return 0;
        }
        threads = t;
        cap_threads = cap;
    }
    PyThreadState *ts = PyThreadState_Get();
    thread_ent *e = &threads[nthreads];
    rewind__thread_def__init(&e->def);
    e->thread_obj = NULL;
    uint32_t id = (uint32_t)++nthreads;
    e->def.id = id;
    e->def.ident = ts->thread_id;
    e->def.native_id = ts->native_thread_id;
    e->def.is_main = is_main;
    set_name(e, name);
    rw_writer_def_thread(rw_st.w, id, e->def.ident, e->def.native_id, e->def.name, is_main);
    rw_crash_note_thread(id, e->def.ident);
    rw_tls.tstate = ts;
    rw_tls.thread = id;
    return id;
}

/* The threading.Thread whose bound method `func` is (Thread._bootstrap), or NULL.
 * Borrowed reference. */
static PyObject *thread_object_of(PyObject *func)
{
    if (!PyMethod_Check(func))
        return NULL;
    PyObject *self = PyMethod_GET_SELF(func);
    PyObject *threading = PyDict_GetItemString(PyImport_GetModuleDict(), "threading");
    if (!threading)
        return NULL;
    PyObject *cls = PyObject_GetAttrString(threading, "Thread");
    if (!cls) {
        PyErr_Clear();
        return NULL;
    }
    int is = PyObject_IsInstance(self, cls);
    Py_DECREF(cls);
    if (is < 0)
        PyErr_Clear();
    return is > 0 ? self : NULL;
}

/* Thread._name, read from the instance without running any Python code. */
static int thread_name(PyObject *thread, char *buf, size_t cap)
{
    PyObject *dict = PyObject_GenericGetDict(thread, NULL);
    if (!dict) {
        PyErr_Clear();
        return 0;
    }
    PyObject *name = PyDict_GetItemString(dict, "_name");
    int ok = name && PyUnicode_Check(name);
    if (ok)
        rw_py_str(name, buf, cap);
    Py_DECREF(dict);
    return ok;
}

/* Runs in the new thread: becomes a recorded thread, then calls the target. self is
 * the tuple (func, args, kwargs-or-None). */
static PyObject *boot(PyObject *self, PyObject *unused)
{
    PyObject *func = PyTuple_GET_ITEM(self, 0), *args = PyTuple_GET_ITEM(self, 1);
    PyObject *kwargs = PyTuple_GET_ITEM(self, 2);
    char name[256];
    rw_busy b;
    rw_busy_enter(&b, 0);
    PyObject *thread = thread_object_of(func);
    int named = thread && thread_name(thread, name, sizeof name);
    uint32_t id = rw_threads_define_current(named ? name : NULL, 0);
    if (id)
        threads[id - 1].thread_obj = thread;
    rw_busy_leave(&b);
    rw_source_install_current();
    rw_crash_thread_enter(); /* its own signal stack: a crash in it can be reported */

    PyObject *res = PyObject_Call(func, args, kwargs == Py_None ? NULL : kwargs);
    rw_crash_thread_leave();

    if (id && thread) {
        /* The target has returned but the Thread object is still alive (func holds
         * it): take its final name. */
        rw_busy_enter(&b, 1);
        if (thread_name(thread, name, sizeof name))
            set_name(&threads[id - 1], name);
        threads[id - 1].thread_obj = NULL;
        rw_busy_leave(&b);
    }
    return res;
}

static PyMethodDef boot_def = {"start_new_thread_bootstrap", boot, METH_NOARGS, NULL};

/* Replacement for _thread.start_new_thread(function, args[, kwargs]). Arguments it
 * does not accept are passed through unchanged so the original raises its own
 * error. */
static PyObject *start_wrapper(PyObject *module, PyObject *fargs)
{
    Py_ssize_t n = PyTuple_GET_SIZE(fargs);
    if (n < 2 || n > 3 || !PyCallable_Check(PyTuple_GET_ITEM(fargs, 0)) ||
        !PyTuple_Check(PyTuple_GET_ITEM(fargs, 1)) ||
        (n == 3 && !PyDict_Check(PyTuple_GET_ITEM(fargs, 2))))
        return PyObject_Call(orig_start, fargs, NULL);
    rw_tls.busy++;
    PyObject *state = PyTuple_Pack(3, PyTuple_GET_ITEM(fargs, 0), PyTuple_GET_ITEM(fargs, 1),
                                   n == 3 ? PyTuple_GET_ITEM(fargs, 2) : Py_None);
    PyObject *bootfn = state ? PyCFunction_New(&boot_def, state) : NULL;
    PyObject *empty = PyTuple_New(0);
    rw_tls.busy--;
    PyObject *res = NULL;
    if (bootfn && empty)
        res = PyObject_CallFunctionObjArgs(orig_start, bootfn, empty, NULL);
    Py_XDECREF(state);
    Py_XDECREF(bootfn);
    Py_XDECREF(empty);
    return res;
}

static PyMethodDef start_def = {
    "start_new_thread", start_wrapper, METH_VARARGS,
    "start_new_thread(function, args[, kwargs])\n(start_new() is an obsolete synonym)\n\n"
    "Start a new thread and return its identifier (recorded by rewind)."};

static PyObject *at_exit(PyObject *self, PyObject *unused)
{
    rw_busy b;
    rw_busy_enter(&b, 1);
    rw_threads_refresh_names();
    rw_busy_leave(&b);
    Py_RETURN_NONE;
}

static PyMethodDef at_exit_def = {"rewind_thread_names", at_exit, METH_NOARGS, NULL};

rw_code rw_threads_wrap(rw_err *err)
{
    PyObject *mod;
    /* Thread names are read again at exit: the first atexit function registered
     * runs last, when non-daemon threads have been joined and modules are intact. */
    PyObject *atexit = PyImport_ImportModule("atexit");
    PyObject *fn = PyCFunction_New(&at_exit_def, NULL);
    PyObject *r = atexit && fn ? PyObject_CallMethod(atexit, "register", "O", fn) : NULL;
    Py_XDECREF(r);
    Py_XDECREF(fn);
    Py_XDECREF(atexit);
    if (!r)
        goto fail;

    mod = PyImport_ImportModule("_thread");
    if (!mod)
        goto fail;
    orig_start = PyObject_GetAttrString(mod, "start_new_thread");
    PyObject *modname = PyUnicode_FromString("_thread");
    /* self = the module, like the builtin: cProfile then labels it
     * "<built-in method _thread.start_new_thread>", as for the original. */
    PyObject *wrapper = orig_start && modname ? PyCFunction_NewEx(&start_def, mod, modname) : NULL;
    Py_XDECREF(modname);
    if (!wrapper || PyObject_SetAttrString(mod, "start_new_thread", wrapper) < 0 ||
        PyObject_SetAttrString(mod, "start_new", wrapper) < 0) {
        Py_XDECREF(wrapper);
        Py_DECREF(mod);
        goto fail;
    }
    PyObject *threading = PyDict_GetItemString(PyImport_GetModuleDict(), "threading");
    if (threading && PyObject_SetAttrString(threading, "_start_new_thread", wrapper) < 0)
        PyErr_Clear();
    Py_DECREF(wrapper);
    Py_DECREF(mod);
    return RW_OK;
fail:
    PyErr_Clear();
    return rw_err_set(err, RW_EPYTHON, "cannot wrap _thread.start_new_thread");
}

void rw_threads_refresh_names(void)
{
    PyObject *threading = PyDict_GetItemString(PyImport_GetModuleDict(), "threading");
    if (!threading)
        return;
    PyObject *active = PyObject_GetAttrString(threading, "_active");
    if (active && PyDict_Check(active)) {
        for (size_t i = 0; i < nthreads; i++) {
            PyObject *key = PyLong_FromUnsignedLongLong(threads[i].def.ident);
            PyObject *t = key ? PyDict_GetItemWithError(active, key) : NULL;
            char name[256];
            if (t && thread_name(t, name, sizeof name))
                set_name(&threads[i], name);
            Py_XDECREF(key);
        }
    }
    Py_XDECREF(active);
    PyErr_Clear();
}

Rewind__ThreadDef **rw_threads_final(size_t *n_out)
{
    rw_sys_free(final_defs);
    final_defs = rw_sys_calloc(nthreads ? nthreads : 1, sizeof *final_defs);
    *n_out = final_defs ? nthreads : 0;
    for (size_t i = 0; final_defs && i < nthreads; i++)
        final_defs[i] = &threads[i].def;
    return final_defs;
}

void rw_threads_fini(void)
{
    for (size_t i = 0; i < nthreads; i++)
        if (threads[i].def.name != protobuf_c_empty_string)
            rw_sys_free(threads[i].def.name);
    rw_sys_free(threads);
    rw_sys_free(final_defs);
    threads = NULL;
    final_defs = NULL;
    nthreads = cap_threads = 0;
}
