/* The recorder working in Python (see pyhelp.h): the busy window and bounded,
 * cache-free str() of objects. */
#include "pyhelp.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "state.h"

void rw_busy_enter(rw_busy *b, int trace_off)
{
    rw_tls.busy++;
    rw_tls.busy_py++;
    PyErr_Fetch(&b->et, &b->ev, &b->etb);
    b->gc_was_on = PyGC_Disable();
    rw_gc_mark_take(&b->gc);
    b->trace_off = trace_off;
    if (trace_off)
        PyThreadState_EnterTracing(PyThreadState_Get());
}

void rw_busy_leave(rw_busy *b)
{
    assert(rw_tls.busy > 0);
    if (PyErr_Occurred())
        PyErr_Clear();
    if (b->trace_off)
        PyThreadState_LeaveTracing(PyThreadState_Get());
    rw_gc_mark_back(&b->gc);
    if (b->gc_was_on)
        PyGC_Enable();
    PyErr_Restore(b->et, b->ev, b->etb);
    rw_tls.busy_py--;
    rw_tls.busy--;
}

/* Copies the UTF-8 of a str into buf, cut on a character boundary. Goes through a
 * temporary bytes object so that no UTF-8 cache is left in the str. */
static size_t copy_utf8(PyObject *s, char *buf, size_t cap)
{
    assert(cap >= 1);
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
