/* The _thread.start_new_thread wrapper that makes every new thread a recorded one
 * before its target runs (CPython 3.11 has no hook for thread creation;
 * PyEval_SetTrace covers the calling thread only), and the atexit function that
 * reads thread names one last time.
 */
#include "threadwrap.h"

#include "crash.h"
#include "detalloc.h"
#include "evalbreak.h"
#include "libc/input.h"
#include "libc/libc.h"
#include "libc/locks.h"
#include "pyhelp.h"
#include "source.h"
#include "state.h"
#include "sysalloc.h"
#include "threads.h"

/* Owner: this file; written once by rw_threadwrap_install (main thread, GIL). Global
 * because the wrapper is a PyCFunction whose self is the _thread module (so that
 * cProfile labels it as the original), which leaves no room for a context. */
static struct threadwrap_state {
    PyObject *orig_start; /* strong: the original _thread.start_new_thread */
    PyObject *orig_count; /* strong: the original _thread._count */
    int older;            /* rw_threadwrap_thread_count(0): the engine of a trace made
                           * before "thread-count": _count() is not logged, and
                           * _thread reports a thread's uncaught exception */
    int teardown_unlogged; /* rw_threadwrap_thread_teardown(0) */
} wrap;

/* What a thread state's on_delete was before log_until_gone took its place. */
typedef struct teardown {
    PyThreadState *ts;
    void (*on_delete)(void *);
    void *data;
} teardown;

/* The thread state's on_delete (tstate_delete_common, GIL held: after its clear, with
 * its thread-local objects gone): its thread's inputs are no longer logged; then the
 * one it replaced (threading's release of the Thread's lock). Another thread deleting
 * it (at finalisation) only calls that one. */
static void teardown_over(void *p)
{
    teardown t = *(teardown *)p;
    rw_sys_free(p);
    if (_PyThreadState_UncheckedGet() == t.ts)
        rw_in_thread_enter(0);
    if (t.on_delete)
        t.on_delete(t.data);
}

/* Keeps the calling thread's inputs logged until its thread state goes (GIL held). */
static void log_until_gone(void)
{
    PyThreadState *ts = _PyThreadState_UncheckedGet();
    teardown *t = ts ? rw_sys_malloc(sizeof *t) : NULL;
    if (!t) {
        rw_in_thread_enter(0);
        return;
    }
    *t = (teardown){ts, ts->on_delete, ts->on_delete_data};
    ts->on_delete = teardown_over;
    ts->on_delete_data = t;
}

/* "threading" and "Thread", made once at start-up (not interned: the program's own
 * strings are then made as in a plain run), so that looking the class up allocates
 * nothing. Owner: this file. */
static PyObject *key_threading, *key_thread;

/* The threading.Thread whose bound method `func` is (Thread._bootstrap), or NULL.
 * Borrowed reference. Allocates nothing and runs no Python code. */
static PyObject *thread_object_of(PyObject *func)
{
    if (!PyMethod_Check(func))
        return NULL;
    PyObject *self = PyMethod_GET_SELF(func);
    PyObject *modules = PyImport_GetModuleDict();
    PyObject *threading =
        modules && PyDict_Check(modules) ? PyDict_GetItemWithError(modules, key_threading) : NULL;
    PyObject *dict = threading && PyModule_Check(threading) ? PyModule_GetDict(threading) : NULL;
    PyObject *cls = dict ? PyDict_GetItemWithError(dict, key_thread) : NULL;
    PyErr_Clear();
    if (!cls || !PyType_Check(cls))
        return NULL;
    return PyObject_TypeCheck(self, (PyTypeObject *)cls) ? self : NULL;
}

/* The recorder's hook for a thread whose target has returned, and the engine's gates
 * before a thread is defined and before its target runs (main thread writes them
 * before any thread starts; read-only after). */
static void (*done_hook)(void);
static void (*define_gate)(uint32_t stream, int from_c);
static void (*start_gate)(void);

void rw_threadwrap_set_define_gate(void (*fn)(uint32_t stream, int from_c))
{
    define_gate = fn;
}

void rw_threadwrap_set_start_gate(void (*fn)(void))
{
    start_gate = fn;
}

/* Runs in the new thread: becomes a recorded thread, then calls the target. self is
 * the tuple (func, args, kwargs-or-None, input stream number, the threading.Thread or
 * None, its name as UTF-8 bytes or None). Allocates nothing from Python's allocators
 * before the target's call: in a recording the thread gets here when it first gets
 * the GIL, which the scheduler decides and no record shows (possibly between two of its
 * starter's events, when the starter lets the GIL go at a check and the new thread
 * hands it back at its target's first one), and in a replay when its first record's
 * turn comes. A block taken or given back here would land at another place in the
 * other threads' allocations (the Thread's __dict__, made to read its name, moved a
 * 64-byte object of the starter's: test_values test_addresses_with_threads_that_end). */
static PyObject *boot(PyObject *self, PyObject *unused)
{
    PyObject *func = PyTuple_GET_ITEM(self, 0), *args = PyTuple_GET_ITEM(self, 1);
    PyObject *kwargs = PyTuple_GET_ITEM(self, 2);
    PyObject *thread = PyTuple_GET_ITEM(self, 4), *named = PyTuple_GET_ITEM(self, 5);
    thread = thread == Py_None ? NULL : thread;
    /* Its inputs are logged (or replayed) as their own stream, numbered in start
     * order (libc/input.h). */
    uint32_t stream = (uint32_t)PyLong_AsUnsignedLong(PyTuple_GET_ITEM(self, 3));
    rw_in_thread_enter(stream);
    if (define_gate)
        define_gate(stream, 0);
    rw_tls.busy++;
    uint32_t id =
        rw_threads_define_current(PyBytes_Check(named) ? PyBytes_AS_STRING(named) : NULL, 0);
    rw_tls.busy--;
    rw_source_install_current();
    rw_crash_thread_enter(); /* its own signal stack: a crash in it can be reported */
    if (start_gate && id)
        start_gate();

    PyObject *res = PyObject_Call(func, args, kwargs == Py_None ? NULL : kwargs);
    if (!res && !wrap.older) {
        /* What _thread's thread_run does, done here: sys.unraisablehook gets the
         * program's function (not this bootstrap) as the object, and the hook's work
         * (the report on stderr) is the thread's, recorded with its inputs. */
        if (PyErr_ExceptionMatches(PyExc_SystemExit))
            PyErr_Clear();
        else
            _PyErr_WriteUnraisableMsg("in thread started by", func);
        res = Py_NewRef(Py_None);
    }
    rw_crash_thread_leave();
    /* Its teardown: _thread frees the function and its arguments, and the thread
     * state's clear drops its thread-local objects, whose finalizers are the program's
     * (their events are recorded): logged until the thread state goes (log_until_gone).
     * What it does after (the C library's, a sanitizer's) is not the program's. */
    if (wrap.teardown_unlogged)
        rw_in_thread_enter(0);
    else
        log_until_gone();

    /* The thread's id now: a fork in the target started a new trace in a child, whose
     * table knows this thread by another id (rw_threads_restart). */
    id = id ? rw_tls.thread : 0;
    if (id && thread) {
        /* The target has returned but the Thread object is still alive (func holds
         * it): take its final name. */
        char name[256];
        rw_busy b;
        rw_busy_enter(&b, 1);
        if (rw_threads_name_of(thread, name, sizeof name))
            rw_threads_set_name(id, name);
        rw_busy_leave(&b);
    }
    if (done_hook)
        done_hook();
    return res;
}

void rw_threadwrap_set_done_hook(void (*fn)(void))
{
    done_hook = fn;
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
        return PyObject_Call(wrap.orig_start, fargs, NULL);
    rw_tls.busy++;
    /* The stream number is taken here, with the GIL, so that threads are numbered in
     * the order the program started them, in the recording and in its replay. The
     * Thread and its name are read here too, where the starter's records place it in
     * both, and not in the new thread (boot). */
    PyObject *func = PyTuple_GET_ITEM(fargs, 0);
    PyObject *thread = thread_object_of(func);
    char name[256];
    rw_busy b;
    rw_busy_enter(&b, 0);
    int has_name = thread && rw_threads_name_of(thread, name, sizeof name);
    rw_busy_leave(&b);
    PyObject *named = has_name ? PyBytes_FromString(name) : Py_NewRef(Py_None);
    PyObject *stream = named ? PyLong_FromUnsignedLong(rw_in_thread_next()) : NULL;
    PyObject *state = stream ? PyTuple_Pack(6, func, PyTuple_GET_ITEM(fargs, 1),
                                            n == 3 ? PyTuple_GET_ITEM(fargs, 2) : Py_None,
                                            stream, thread ? thread : Py_None, named)
                             : NULL;
    Py_XDECREF(stream);
    Py_XDECREF(named);
    PyObject *bootfn = state ? PyCFunction_New(&boot_def, state) : NULL;
    PyObject *empty = PyTuple_New(0);
    rw_tls.busy--;
    PyObject *res = NULL;
    if (bootfn && empty)
        res = PyObject_CallFunctionObjArgs(wrap.orig_start, bootfn, empty, NULL);
    Py_XDECREF(state);
    Py_XDECREF(bootfn);
    Py_XDECREF(empty);
    return res;
}

static PyMethodDef start_def = {
    "start_new_thread", start_wrapper, METH_VARARGS,
    "start_new_thread(function, args[, kwargs])\n(start_new() is an obsolete synonym)\n\n"
    "Start a new thread and return its identifier (recorded by rewind)."};

/* Replacement for _thread._count(): how many threads _thread started are running. A
 * thread stops counting in _thread's thread_run after its function (here: boot) has
 * returned, which no event orders against the other threads, so the count a program
 * reads (test.support's threading_helper waits on it) is an input: logged, and
 * answered from the log in a replay. */
static PyObject *count_wrapper(PyObject *module, PyObject *unused)
{
    int m = wrap.older ? RW_IN_OFF : rw_in_mode();
    rw_in_key k;
    rw_in_key_init(&k);
    if (m == RW_IN_REPLAY)
        return PyLong_FromLongLong(rw_in_take(RW_CALL_THREAD_COUNT, &k)->result);
    PyObject *n = PyObject_CallNoArgs(wrap.orig_count);
    if (m == RW_IN_RECORD && n) {
        long v = PyLong_AsLong(n);
        if (v == -1 && PyErr_Occurred())
            PyErr_Clear();
        else
            rw_in_put(RW_CALL_THREAD_COUNT, v, 0, &k, NULL, 0);
    }
    return n;
}

static PyMethodDef count_def = {
    "_count", count_wrapper, METH_NOARGS,
    "_count() -> integer\n\nReturn the number of currently running Python threads, excluding\n"
    "the main thread (logged by rewind)."};

void rw_threadwrap_thread_count(int on)
{
    wrap.older = !on;
}

void rw_threadwrap_thread_teardown(int on)
{
    wrap.teardown_unlogged = !on;
}

static PyObject *at_exit(PyObject *self, PyObject *unused)
{
    rw_busy b;
    rw_busy_enter(&b, 1);
    rw_threads_refresh_names();
    rw_busy_leave(&b);
    Py_RETURN_NONE;
}

static PyMethodDef at_exit_def = {"rewind_thread_names", at_exit, METH_NOARGS, NULL};

static void hold_interval(void);

/* REWIND_TEST_THREAD_END_PAUSE_MS (tests): a thread other than the main one waits that
 * long after letting the GIL go as it ends, before CPython frees its thread state.
 * Written by rw_threadwrap_install (main thread), before any thread starts. */
static unsigned end_pause_ms;
static pthread_t main_pthread;

rw_code rw_threadwrap_install(rw_err *err)
{
    PyObject *mod;
    hold_interval();
    const char *pause = getenv("REWIND_TEST_THREAD_END_PAUSE_MS");
    end_pause_ms = pause ? (unsigned)strtoul(pause, NULL, 10) : 0;
    main_pthread = pthread_self();
    key_threading = PyUnicode_FromString("threading");
    key_thread = PyUnicode_FromString("Thread");
    if (!key_threading || !key_thread || !rw_threads_install_keys())
        goto fail;
    /* Thread names are read again at exit: the first atexit function registered
     * runs last, when non-daemon threads have been joined and modules are intact. */
    PyObject *modules = PyImport_GetModuleDict();
    int had_atexit = PyDict_GetItemString(modules, "atexit") != NULL;
    PyObject *atexit = PyImport_ImportModule("atexit");
    PyObject *fn = PyCFunction_New(&at_exit_def, NULL);
    PyObject *r = atexit && fn ? PyObject_CallMethod(atexit, "register", "O", fn) : NULL;
    Py_XDECREF(r);
    Py_XDECREF(fn);
    if (!r) {
        Py_XDECREF(atexit);
        goto fail;
    }
    /* python3 has not imported atexit when the program starts: leave it out of
     * sys.modules again, so that the program's first `import atexit` loads it as in a
     * plain run (cProfile's counts of that import). The functions registered live in
     * the interpreter, not in the module object, so a new module sees this one's.
     * Out of sys.modules the module is cyclic garbage (its functions hold it): emptied
     * now, it is freed here, in rewind's start-up work, and not by the program's first
     * collection, where its list and dicts went onto the free lists and the program's
     * next ones were not counted as python3 counts them (docs/memory.md, cause 3). */
    if (!had_atexit) {
        if (PyDict_DelItemString(modules, "atexit") < 0)
            PyErr_Clear();
        PyObject *d = PyModule_GetDict(atexit);
        if (d)
            PyDict_Clear(d);
    }
    Py_DECREF(atexit);

    mod = PyImport_ImportModule("_thread");
    if (!mod)
        goto fail;
    wrap.orig_start = PyObject_GetAttrString(mod, "start_new_thread");
    PyObject *modname = PyUnicode_FromString("_thread");
    /* self = the module, like the builtin: cProfile then labels it
     * "<built-in method _thread.start_new_thread>", as for the original. */
    PyObject *wrapper =
        wrap.orig_start && modname ? PyCFunction_NewEx(&start_def, mod, modname) : NULL;
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
    wrap.orig_count = PyObject_GetAttrString(mod, "_count");
    modname = PyUnicode_FromString("_thread");
    wrapper = wrap.orig_count && modname ? PyCFunction_NewEx(&count_def, mod, modname) : NULL;
    Py_XDECREF(modname);
    if (!wrapper || PyObject_SetAttrString(mod, "_count", wrapper) < 0) {
        Py_XDECREF(wrapper);
        Py_DECREF(mod);
        goto fail;
    }
    Py_DECREF(wrapper);
    Py_DECREF(mod);
    return RW_OK;
fail:
    PyErr_Clear();
    return rw_err_set(err, RW_EPYTHON, "cannot wrap _thread.start_new_thread and _count");
}

/* ---- the switch interval a threaded replay holds ---------------------------------- */

/* Weak: without the link options (a shared libpython) nothing calls the wrappers. */
void __real__PyEval_SetSwitchInterval(unsigned long microseconds) __attribute__((weak));
unsigned long __real__PyEval_GetSwitchInterval(void) __attribute__((weak));
void __wrap__PyEval_SetSwitchInterval(unsigned long microseconds);
unsigned long __wrap__PyEval_GetSwitchInterval(void);

/* wanted: the engine asked (before the interpreter starts); held: the interval is
 * held (from rw_threadwrap_install on); program_us: the program's own. */
static struct {
    int wanted, held;
    unsigned long program_us;
} interval;

void __wrap__PyEval_SetSwitchInterval(unsigned long microseconds)
{
    if (interval.held)
        interval.program_us = microseconds;
    else
        __real__PyEval_SetSwitchInterval(microseconds);
}

unsigned long __wrap__PyEval_GetSwitchInterval(void)
{
    return interval.held ? interval.program_us : __real__PyEval_GetSwitchInterval();
}

void rw_threadwrap_hold_switch_interval(void)
{
    interval.wanted = 1;
}

/* With the GIL, once the interpreter has made its GIL (which sets the interval). */
static void hold_interval(void)
{
    if (!interval.wanted || interval.held || !__real__PyEval_SetSwitchInterval ||
        !__real__PyEval_GetSwitchInterval)
        return;
    interval.program_us = __real__PyEval_GetSwitchInterval();
    interval.held = 1;
    __real__PyEval_SetSwitchInterval(3600UL * 1000000UL);
}

/* ---- where a thread takes the GIL back ----------------------------------------- */

void (*rw_threadwrap_gil_back)(void);
static __thread int asked; /* rw_threadwrap_asked */

void rw_threadwrap_asked(int a)
{
    asked = a;
}

/* 3.11: PyThreadState *_PyThreadState_Swap(struct _gilstate_runtime_state *,
 * PyThreadState *), internal; weak as above. */
PyThreadState *__real__PyThreadState_Swap(void *gilstate, PyThreadState *newts)
    __attribute__((weak));
PyThreadState *__wrap__PyThreadState_Swap(void *gilstate, PyThreadState *newts);
PyThreadState *__real_PyEval_SaveThread(void) __attribute__((weak));
PyThreadState *__wrap_PyEval_SaveThread(void);
void __real_PyEval_ReleaseThread(PyThreadState *ts) __attribute__((weak));
void __wrap_PyEval_ReleaseThread(PyThreadState *ts);

static void c_thread_enter(PyThreadState *ts);

/* Inside PyEval_SaveThread or PyEval_ReleaseThread: their swap is not a drop at a
 * check. */
static __thread int saving;

/* ts lets the GIL go with no call that blocks around it: at an eval-breaker check
 * (eval_frame_handle_pending) when another thread asked for it. A recording notes the
 * spot where the thread's own record is the stream's last (evalbreak.h); the GIL is
 * still held (drop_gil comes next). */
static void note_drop(PyThreadState *ts)
{
    if (atomic_load_explicit(&rw_in_global, memory_order_relaxed) != RW_IN_RECORD ||
        !atomic_load_explicit(&rw_st.on, memory_order_relaxed) || rw_tls.thread == 0 ||
        rw_tls.busy || ts != rw_tls.tstate || rw_st.cur_thread != rw_tls.thread)
        return;
    uint64_t spot = rw_evalbreak_drop_spot(ts);
    if (spot)
        rw_stream_put(rw_st.s, RW_REC(RW_K_DROP, 0), spot);
}

PyThreadState *__wrap__PyThreadState_Swap(void *gilstate, PyThreadState *newts)
{
    PyThreadState *old = __real__PyThreadState_Swap(gilstate, newts);
    if (newts == NULL && old != NULL && !saving)
        note_drop(old);
    if (RW_UNLIKELY(asked) && newts != NULL && rw_threadwrap_gil_back != NULL) {
        asked = 0;
        rw_threadwrap_gil_back();
    }
    /* PyGILState_Ensure in a thread without a thread state makes one with a count of
     * 0 and takes the GIL with it; every other swap-in has a count of at least 1. */
    if (RW_UNLIKELY(newts != NULL && newts->gilstate_counter == 0))
        c_thread_enter(newts);
    return old;
}

/* 3.11: void _PyEval_ReleaseLock(PyThreadState *), internal: how
 * _PyThreadState_DeleteCurrent lets the GIL go as a thread ends (a C library's thread
 * after its callback, PyGILState_Release). A thread that asked for the GIL to be taken
 * from it (the engine's run_end) and ends instead would wait in drop_gil, with the
 * drop request up (FORCE_SWITCHING), until another thread takes the GIL; the thread
 * whose turn it is may be waiting for this one to end (in pthread_join, test_values
 * test_a_thread_that_asks_for_a_switch_and_ends). So the request is withdrawn: the thread
 * lets the GIL go without waiting, as the recording's did. */
void __real__PyEval_ReleaseLock(PyThreadState *ts) __attribute__((weak));
void __wrap__PyEval_ReleaseLock(PyThreadState *ts);

void __wrap__PyEval_ReleaseLock(PyThreadState *ts)
{
    if (RW_UNLIKELY(asked)) {
        asked = 0;
        rw_locks_returned();
        rw_evalbreak_withdraw_drop_request(ts->interp);
    }
    __real__PyEval_ReleaseLock(ts);
    /* Tests: a thread that ends frees its thread state later (detalloc_py.c). */
    if (RW_UNLIKELY(end_pause_ms) && !pthread_equal(pthread_self(), main_pthread))
        rw_in_sleep_ms(end_pause_ms);
}

/* A call that lets the GIL go (or the engine's own waits): not the eval-breaker drop
 * the thread asked for. */
PyThreadState *__wrap_PyEval_SaveThread(void)
{
    asked = 0;
    rw_evalbreak_drop_cancel();
    uint64_t began = 0;
    if (RW_UNLIKELY(rw_locks_next_event != NULL))
        began = rw_locks_letting_go(); /* a threaded replay: libc/locks.h */
    saving = 1;
    PyThreadState *ts = __real_PyEval_SaveThread();
    saving = 0;
    if (RW_UNLIKELY(began != 0))
        rw_locks_wait_start(began);
    return ts;
}

/* A C library's own way to let the GIL go (PyGILState_Release uses SaveThread): not a
 * drop at a check either. */
void __wrap_PyEval_ReleaseThread(PyThreadState *ts)
{
    rw_evalbreak_drop_cancel();
    saving = 1;
    __real_PyEval_ReleaseThread(ts);
    saving = 0;
}

/* ---- the box a new thread starts with --------------------------------------------- */

/* Written by rw_threadwrap_thread_boxes before the run (main thread); read after. */
static int boxes_off;

void rw_threadwrap_thread_boxes(int on)
{
    boxes_off = !on;
}

/* 3.11: unsigned long PyThread_start_new_thread(void (*)(void *), void *); weak as
 * above. It allocates a RAW block for the new thread's function and argument, which the
 * new thread frees as soon as it runs: a moment the kernel picks, while the starter may
 * be allocating (faulthandler's watchdog does not wait for its thread, as
 * threading.Thread.start does), so where the main thread's next blocks landed did not
 * repeat in a replay. The box comes from the C library instead, unrecorded
 * (detalloc.h's rw_detalloc_raw_libc, alloc.c). */
unsigned long __real_PyThread_start_new_thread(void (*func)(void *), void *arg)
    __attribute__((weak));
unsigned long __wrap_PyThread_start_new_thread(void (*func)(void *), void *arg);

unsigned long __wrap_PyThread_start_new_thread(void (*func)(void *), void *arg)
{
    if (boxes_off)
        return __real_PyThread_start_new_thread(func, arg);
    int was = rw_detalloc_raw_libc;
    rw_detalloc_raw_libc = 1;
    unsigned long r = __real_PyThread_start_new_thread(func, arg);
    rw_detalloc_raw_libc = was;
    return r;
}

/* ---- threads that C code starts ------------------------------------------------- */

/* Written by rw_threadwrap_follow_c before the run (main thread); read after. */
static struct {
    int off;                      /* the engine of a trace that did not follow them */
    uint32_t (*stream_of)(uint64_t origin); /* the engine's: the stream it had */
} cthreads;

/* The calling OS thread as a thread from C: its recorded id and input stream (0: not
 * one yet), where its inputs stood when its thread state went, and whether it is
 * being made one (the gates below take the GIL again: their swaps are not new). */
static __thread struct {
    uint32_t id, stream;
    uint64_t seq;
    int entering;
} cthr;

void rw_threadwrap_follow_c(int on, uint32_t (*stream_of)(uint64_t origin))
{
    cthreads.off = !on;
    cthreads.stream_of = stream_of;
}

/* Its thread state's on_delete (PyThreadState_Clear, from PyGILState_Release when its
 * count reaches 0; with the GIL): what the thread does without a thread state is not
 * the program's (its inputs are not logged, as after a _thread target returns). Also
 * called for a thread state cleared by another thread (at finalisation): not then. */
static void c_thread_left(void *ts)
{
    if (_PyThreadState_UncheckedGet() != ts || rw_tls.thread != cthr.id)
        return;
    cthr.seq = rw_in_tls.seq;
    rw_in_thread_enter(0);
    rw_tls.thread = 0;
    rw_tls.tstate = NULL;
}

/* A thread that C code started has taken the GIL with a new thread state, in
 * PyGILState_Ensure (ctypes' callbacks from threads of a C library, an extension's own
 * threads): it becomes a recorded thread, as boot() makes one that _thread started,
 * before the Python code it calls runs. Its stream is taken here, in the order such
 * threads first take the GIL; the engine gives it the one the recording's had, found
 * by the thread's origin (libc/pthread.c: which thread started it, and when). The
 * same OS thread back with a new thread state (the next callback) is the same recorded
 * thread, its stream going on. GIL held. */
static void c_thread_enter(PyThreadState *ts)
{
    if (cthr.entering || cthreads.off || ts->on_delete != NULL ||
        !atomic_load_explicit(&rw_st.on, memory_order_relaxed) || rw_tls.thread != 0)
        return;
    int mode = atomic_load_explicit(&rw_in_global, memory_order_relaxed);
    if (mode != RW_IN_RECORD && mode != RW_IN_REPLAY) /* not an evaluation's */
        return;
    cthr.entering = 1;
    if (cthr.id != 0 && cthr.id <= rw_threads_count()) {
        rw_in_thread_enter(cthr.stream);
        rw_in_tls.seq = cthr.seq;
        rw_tls.thread = cthr.id;
        rw_tls.tstate = ts;
    } else {
        uint32_t stream =
            cthreads.stream_of ? cthreads.stream_of(rw_thread_origin) : rw_in_thread_next();
        rw_in_thread_enter(stream);
        if (define_gate)
            define_gate(stream, 1);
        /* Lock acquisitions are logged from here, as rw_in_thread_next makes them in a
         * recording (libc/locks.h); in a replay, at this thread's first turn. */
        atomic_store(&rw_locks_threaded, 1);
        rw_busy b;
        rw_busy_enter(&b, 0);
        cthr.id = rw_threads_define_current(NULL, 0);
        rw_busy_leave(&b);
        rw_threads_set_from_c(cthr.id, rw_thread_origin);
        cthr.stream = stream;
    }
    ts->on_delete = c_thread_left;
    ts->on_delete_data = ts;
    rw_source_install_current();
    if (start_gate && cthr.id)
        start_gate();
    cthr.entering = 0;
}
