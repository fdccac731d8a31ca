/* ctracer_floor: the floor cost of a PyEval_SetTrace / PyEval_SetProfile tracer on
 * CPython 3.11, for bench/record (from ../shared/baseline/ctracer_floor.c, trimmed to
 * the two empty tracers the record benchmark compares against).
 *
 *   start()          PyEval_SetTrace with a C function that returns 0 (call, line,
 *                    return, exception events): what any settrace recorder pays
 *   start_profile()  PyEval_SetProfile with a C function that returns 0 (call, return,
 *                    c_call, c_return, c_exception; no lines)
 *   stop()           removes both
 *
 * Built by bench/record/run.sh; not part of rewind.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static int empty_fn(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    (void)obj;
    (void)frame;
    (void)what;
    (void)arg;
    return 0;
}

static PyObject *m_start(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    PyEval_SetTrace(empty_fn, NULL);
    Py_RETURN_NONE;
}

static PyObject *m_start_profile(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    PyEval_SetProfile(empty_fn, NULL);
    Py_RETURN_NONE;
}

static PyObject *m_stop(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    PyEval_SetTrace(NULL, NULL);
    PyEval_SetProfile(NULL, NULL);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"start", m_start, METH_NOARGS, "settrace with an empty C function"},
    {"start_profile", m_start_profile, METH_NOARGS, "setprofile with an empty C function"},
    {"stop", m_stop, METH_NOARGS, "remove the trace and profile functions"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "ctracer_floor", NULL, -1, methods};

PyMODINIT_FUNC PyInit_ctracer_floor(void)
{
    return PyModule_Create(&mod);
}
