/* The recorder's hot-path state (see state.h), its slow paths (thread switches, the
 * side buffer for allocations made without the GIL, sticky failures) and the helpers
 * the hooks use when they must call into Python on the recorder's behalf. */
#include "state.h"

#include <stdarg.h>
#include <stdio.h>

#include "intern.h"
#include "recorder_int.h"

__thread rw_tl rw_tls __attribute__((tls_model("initial-exec")));
rw_state rw_st = {.side_lock = ATOMIC_FLAG_INIT};

static rw_strtab names; /* (GIL) NameDef texts */

int rw_state_switch(uint64_t tick)
{
    if (rw_tls.thread == 0) {
        /* A thread we did not start (its hooks were installed from outside, or it
         * came from C): define it on its first event. */
        if (rw_tls.busy || !rw_threads_define_current(NULL, 0))
            return 0;
    }
    if (atomic_load_explicit(&rw_st.side_n, memory_order_relaxed) != 0)
        rw_side_drain();
    rw_stream_put(rw_st.s, RW_REC(RW_K_THREAD, tick), rw_tls.thread);
    rw_st.cur_thread = rw_tls.thread;
    return 1;
}

static void side_lock(void)
{
    while (atomic_flag_test_and_set_explicit(&rw_st.side_lock, memory_order_acquire))
        __builtin_ia32_pause();
}

static void side_unlock(void)
{
    atomic_flag_clear_explicit(&rw_st.side_lock, memory_order_release);
}

void rw_side_put(uint64_t w0, uint64_t w1, int is_alloc)
{
    side_lock();
    uint32_t n = atomic_load_explicit(&rw_st.side_n, memory_order_relaxed);
    if (n < RW_SIDE_CAP) {
        rw_st.side[n].w0 = w0;
        rw_st.side[n].w1 = w1;
        atomic_store_explicit(&rw_st.side_n, n + 1, memory_order_relaxed);
        rw_st.side_nallocs += (uint64_t)is_alloc;
    } else {
        rw_st.side_dropped++;
    }
    side_unlock();
}

void rw_side_drain(void)
{
    side_lock();
    uint32_t n = atomic_load_explicit(&rw_st.side_n, memory_order_relaxed);
    for (uint32_t i = 0; i < n; i++)
        rw_stream_put(rw_st.s, rw_st.side[i].w0, rw_st.side[i].w1);
    atomic_store_explicit(&rw_st.side_n, 0, memory_order_relaxed);
    side_unlock();
}

void rw_state_fail(const char *fmt, ...)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong(&rw_st.failed, &expected, 1))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rw_st.failure, sizeof rw_st.failure, fmt, ap);
    va_end(ap);
}

/* ---- the recorder working in Python ----------------------------------------------- */

void rw_busy_enter(rw_busy *b, int trace_off)
{
    rw_tls.busy++;
    PyErr_Fetch(&b->et, &b->ev, &b->etb);
    b->gc_was_on = PyGC_Disable();
    b->trace_off = trace_off;
    if (trace_off)
        PyThreadState_EnterTracing(PyThreadState_Get());
}

void rw_busy_leave(rw_busy *b)
{
    if (PyErr_Occurred())
        PyErr_Clear();
    if (b->trace_off)
        PyThreadState_LeaveTracing(PyThreadState_Get());
    if (b->gc_was_on)
        PyGC_Enable();
    PyErr_Restore(b->et, b->ev, b->etb);
    rw_tls.busy--;
}

/* Copies the UTF-8 of a str into buf, cut on a character boundary. Goes through a
 * temporary bytes object so that no UTF-8 cache is left in the str. */
static size_t copy_utf8(PyObject *s, char *buf, size_t cap)
{
    PyObject *b = PyUnicode_AsEncodedString(s, "utf-8", "backslashreplace");
    if (!b) {
        PyErr_Clear();
        buf[0] = '\0';
        return 0;
    }
    size_t n = (size_t)PyBytes_GET_SIZE(b);
    const char *p = PyBytes_AS_STRING(b);
    if (n > cap - 1) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)p[n] & 0xc0) == 0x80)
            n--; /* do not split a UTF-8 sequence */
    }
    memcpy(buf, p, n);
    buf[n] = '\0';
    Py_DECREF(b);
    return n;
}

size_t rw_py_str(PyObject *o, char *buf, size_t cap)
{
    if (PyUnicode_Check(o))
        return copy_utf8(o, buf, cap);
    PyObject *s = PyObject_Str(o);
    if (!s) {
        PyErr_Clear();
        /* As traceback does when str() fails. */
        snprintf(buf, cap, "<exception str() failed>");
        return strlen(buf);
    }
    size_t n = copy_utf8(s, buf, cap);
    Py_DECREF(s);
    return n;
}

size_t rw_py_type_name(PyObject *type, char *buf, size_t cap)
{
    char mod[128] = "";
    char qual[256] = "";
    if (!PyType_Check(type)) {
        return rw_py_str(type, buf, cap);
    }
    PyObject *m = PyObject_GetAttrString(type, "__module__");
    if (m && PyUnicode_Check(m))
        copy_utf8(m, mod, sizeof mod);
    else
        snprintf(mod, sizeof mod, "<unknown>");
    Py_XDECREF(m);
    PyObject *q = PyType_GetQualName((PyTypeObject *)type);
    if (q && PyUnicode_Check(q))
        copy_utf8(q, qual, sizeof qual);
    else
        snprintf(qual, sizeof qual, "%s", ((PyTypeObject *)type)->tp_name);
    Py_XDECREF(q);
    PyErr_Clear();
    if (!strcmp(mod, "builtins") || !strcmp(mod, "__main__"))
        snprintf(buf, cap, "%s", qual);
    else
        snprintf(buf, cap, "%s.%s", mod, qual);
    return strlen(buf);
}

uint32_t rw_name_id(const char *text)
{
    int added;
    uint32_t id = rw_strtab_intern(&names, text, strlen(text), &added);
    if (!id) {
        rw_state_fail("out of memory interning a name");
        return 0;
    }
    if (added)
        rw_writer_def_name(rw_st.w, id, text);
    return id;
}
