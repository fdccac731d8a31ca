/* ctracer_floor: the floor cost of a PyEval_SetTrace / PyEval_SetProfile tracer on
 * CPython 3.11, for bench/record (from ../shared/baseline/ctracer_floor.c, trimmed to
 * the two empty tracers the record benchmark compares against).
 *
 *   start()          PyEval_SetTrace with a C function that returns 0 (call, line,
 *                    return, exception events): what any settrace recorder pays
 *   start_profile()  PyEval_SetProfile with a C function that returns 0 (call, return,
 *                    c_call, c_return, c_exception; no lines)
 *   start_full()     both of the above, plus pass-through wrappers of the RAW, MEM
 *                    and OBJ allocators: every hook a full recording installs, each
 *                    doing nothing (the floor of `rewind record` with everything on)
 *   stop()           removes the trace and profile functions
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

typedef struct wrap {
    PyMemAllocatorEx prev;
} wrap;
static wrap wraps[3];

static void *w_malloc(void *ctx, size_t size)
{
    wrap *w = ctx;
    return w->prev.malloc(w->prev.ctx, size);
}

static void *w_calloc(void *ctx, size_t nelem, size_t elsize)
{
    wrap *w = ctx;
    return w->prev.calloc(w->prev.ctx, nelem, elsize);
}

static void *w_realloc(void *ctx, void *ptr, size_t size)
{
    wrap *w = ctx;
    return w->prev.realloc(w->prev.ctx, ptr, size);
}

static void w_free(void *ctx, void *ptr)
{
    wrap *w = ctx;
    w->prev.free(w->prev.ctx, ptr);
}

static PyObject *m_start_full(PyObject *self, PyObject *noargs)
{
    static const PyMemAllocatorDomain doms[3] = {PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM,
                                                 PYMEM_DOMAIN_OBJ};
    (void)self;
    (void)noargs;
    for (int i = 0; i < 3; i++) {
        PyMem_GetAllocator(doms[i], &wraps[i].prev);
        PyMemAllocatorEx mine = {&wraps[i], w_malloc, w_calloc, w_realloc, w_free};
        PyMem_SetAllocator(doms[i], &mine);
    }
    PyEval_SetTrace(empty_fn, NULL);
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
    {"start_full", m_start_full, METH_NOARGS,
     "settrace and setprofile with an empty C function, pass-through allocators"},
    {"stop", m_stop, METH_NOARGS, "remove the trace and profile functions"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "ctracer_floor", NULL, -1, methods};

PyMODINIT_FUNC PyInit_ctracer_floor(void)
{
    return PyModule_Create(&mod);
}
