/* The thread table (see threads.h): ThreadDefs in id order, the stream's thread
 * switch, thread names read from threading, and the ident index for signal handlers.
 */
#include "threads.h"

#include "libc/input.h"

#include <assert.h>
#include <stdatomic.h>

#include "pyhelp.h"
#include "state.h"
#include "sysalloc.h"

typedef struct thread_ent {
    Rewind__ThreadDef def; /* def.name owned (sysalloc) */
} thread_ent;

/* The table. Owner: this file. Global because its writers get no context: a hook
 * defines a thread on its first event (rw_threads_switch), and signal handlers read
 * idents[] to name threads in a report.
 * Invariant: ents[i].def.id == i + 1 for i < n; idents[i] is ents[i]'s ident for
 * i < nidents (nidents == min(n, RW_THREADS_IDENT_CAP)). */
static struct thread_table {
    thread_ent *ents;               /* (GIL) index = id - 1; realloc'd, so handlers
                                     * never read it: they read idents[] */
    size_t n, cap;                  /* (GIL) */
    Rewind__ThreadDef **final_defs; /* (GIL) rw_threads_final's array, owned */
    _Atomic uint64_t idents[RW_THREADS_IDENT_CAP]; /* (GIL writes, any reader) */
    _Atomic uint32_t nidents;       /* published after idents[nidents - 1] */
} tab;

static void set_name(thread_ent *e, const char *name)
{
    char *copy = rw_sys_strdup(name ? name : "");
    if (!copy)
        return;
    if (e->def.name != protobuf_c_empty_string)
        rw_sys_free(e->def.name);
    e->def.name = copy;
}

/* Publishes id -> ident for the handlers: the slot first, then the count. */
static void note_ident(uint32_t id, uint64_t ident)
{
    if (id == 0 || id > RW_THREADS_IDENT_CAP)
        return;
    atomic_store(&tab.idents[id - 1], ident);
    uint32_t n = atomic_load(&tab.nidents);
    while (n < id && !atomic_compare_exchange_weak(&tab.nidents, &n, id))
        ;
}

uint32_t rw_threads_id_of_ident(uint64_t ident)
{
    uint32_t n = atomic_load(&tab.nidents);
    for (uint32_t i = n; i > 0; i--) /* newest first: idents are reused */
        if (atomic_load_explicit(&tab.idents[i - 1], memory_order_relaxed) == ident)
            return i;
    return 0;
}

uint32_t rw_threads_define_current(const char *name, int is_main)
{
    if (tab.n == tab.cap) {
        size_t cap = tab.cap ? tab.cap * 2 : 16;
        thread_ent *t = rw_sys_realloc(tab.ents, cap * sizeof *t);
        if (!t) {
            rw_state_fail("out of memory defining a thread");
            return 0;
        }
        tab.ents = t;
        tab.cap = cap;
    }
    PyThreadState *ts = PyThreadState_Get();
    thread_ent *e = &tab.ents[tab.n];
    rewind__thread_def__init(&e->def);
    uint32_t id = (uint32_t)++tab.n;
    e->def.id = id;
    e->def.ident = ts->thread_id;
    e->def.native_id = ts->native_thread_id;
    e->def.is_main = is_main;
    e->def.input_stream = rw_in_tls.thread; /* the engine defines threads in this order */
    set_name(e, name);
    rw_writer_def_thread(rw_st.w, id, e->def.ident, e->def.native_id, e->def.name, is_main);
    note_ident(id, e->def.ident);
    rw_tls.tstate = ts;
    rw_tls.thread = id;
    return id;
}

uint32_t rw_threads_count(void)
{
    return (uint32_t)tab.n;
}

void (*rw_threads_switch_watch)(int raw);

int rw_threads_switch(uint64_t tick, int raw)
{
    if (rw_tls.thread == 0) {
        /* A thread we did not start (its hooks were installed from outside, or it
         * came from C): define it on its first event. */
        if (rw_tls.busy || !rw_threads_define_current(NULL, 0))
            return 0;
    }
    assert(rw_tls.thread >= 1 && rw_tls.thread <= tab.n);
    if (atomic_load_explicit(&rw_st.side_n, memory_order_relaxed) != 0)
        rw_side_drain();
    rw_stream_put(rw_st.s, RW_REC(RW_K_THREAD, tick), rw_tls.thread);
    rw_st.cur_thread = rw_tls.thread;
    if (RW_UNLIKELY(rw_threads_switch_watch != NULL))
        rw_threads_switch_watch(raw);
    return 1;
}

void rw_threads_set_from_c(uint32_t id, uint64_t origin)
{
    if (id >= 1 && id <= tab.n) {
        tab.ents[id - 1].def.from_c = 1;
        tab.ents[id - 1].def.c_origin = origin;
    }
}

void rw_threads_set_name(uint32_t id, const char *name)
{
    assert(id >= 1 && id <= tab.n);
    if (id >= 1 && id <= tab.n) /* not if a fork child's table was emptied since */
        set_name(&tab.ents[id - 1], name);
}

/* "_name", made once at start-up (rw_threads_install_keys) and not interned, so that
 * the program's own "_name" strings are made as in a plain run. Owner: this file. */
static PyObject *key_name;

int rw_threads_install_keys(void)
{
    key_name = PyUnicode_FromString("_name");
    return key_name != NULL;
}

int rw_threads_name_of(PyObject *thread, char *buf, size_t cap)
{
    PyTypeObject *tp = Py_TYPE(thread);
    PyObject *name = NULL;
    if (tp->tp_getattro == PyObject_GenericGetAttr && !_PyType_Lookup(tp, key_name)) {
        /* The instance's own attribute, found as `thread._name` finds it (no class
         * attribute, so no descriptor runs). Not through PyObject_GenericGetDict: an
         * instance of a 3.11 class keeps its attributes inline and makes its __dict__
         * only when asked for it, 64 bytes that a plain run does not allocate. */
        if (_PyObject_LookupAttr(thread, key_name, &name) < 0)
            PyErr_Clear();
    } else {
        PyObject *dict = PyObject_GenericGetDict(thread, NULL);
        if (!dict) {
            PyErr_Clear();
            return 0;
        }
        name = Py_XNewRef(PyDict_GetItemWithError(dict, key_name));
        Py_DECREF(dict);
        PyErr_Clear();
    }
    int ok = name && PyUnicode_Check(name);
    if (ok)
        rw_py_str(name, buf, cap);
    Py_XDECREF(name);
    return ok;
}

void rw_threads_refresh_names(void)
{
    PyObject *threading = PyDict_GetItemString(PyImport_GetModuleDict(), "threading");
    if (!threading)
        return;
    PyObject *active = PyObject_GetAttrString(threading, "_active");
    if (active && PyDict_Check(active)) {
        for (size_t i = 0; i < tab.n; i++) {
            PyObject *key = PyLong_FromUnsignedLongLong(tab.ents[i].def.ident);
            PyObject *t = key ? PyDict_GetItemWithError(active, key) : NULL;
            char name[256];
            if (t && rw_threads_name_of(t, name, sizeof name))
                set_name(&tab.ents[i], name);
            Py_XDECREF(key);
        }
    }
    Py_XDECREF(active);
    PyErr_Clear();
}

Rewind__ThreadDef **rw_threads_final(size_t *n_out)
{
    rw_sys_free(tab.final_defs);
    tab.final_defs = rw_sys_calloc(tab.n ? tab.n : 1, sizeof *tab.final_defs);
    *n_out = tab.final_defs ? tab.n : 0;
    for (size_t i = 0; tab.final_defs && i < tab.n; i++) {
        assert(tab.ents[i].def.id == i + 1);
        tab.final_defs[i] = &tab.ents[i].def;
    }
    return tab.final_defs;
}

void rw_threads_restart(void)
{
    rw_threads_fini();
    atomic_store(&tab.nidents, 0);
    rw_tls.thread = 0;
    rw_tls.tstate = NULL;
}

void rw_threads_fini(void)
{
    for (size_t i = 0; i < tab.n; i++)
        if (tab.ents[i].def.name != protobuf_c_empty_string)
            rw_sys_free(tab.ents[i].def.name);
    rw_sys_free(tab.ents);
    rw_sys_free(tab.final_defs);
    tab.ents = NULL;
    tab.final_defs = NULL;
    tab.n = tab.cap = 0;
}
