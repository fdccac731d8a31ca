/* The cyclic GC's trigger state around rewind's own work (gcmark.h). CPython 3.11
 * internals: the interpreter's gc state and the tuple, list and dict free lists
 * (Objects/tupleobject.c, listobject.c, dictobject.c).
 */
#define Py_BUILD_CORE 1
#include "gcmark.h"

#include <Python.h>

#include "internal/pycore_interp.h"
#include "internal/pycore_pystate.h"

_Static_assert(RW_GCMARK_TUPLES == PyTuple_NFREELISTS, "CPython's tuple free lists changed");
_Static_assert(PyList_MAXFREELIST > 0 && PyDict_MAXFREELIST > 0, "a build without free lists");

/* The objects taken while refilling one free list (GIL; never nested). */
static PyObject *held[PyTuple_MAXFREELIST > PyList_MAXFREELIST ? PyTuple_MAXFREELIST
                                                                : PyList_MAXFREELIST];

void rw_gc_mark_take(rw_gc_mark *m)
{
    PyInterpreterState *is = _PyInterpreterState_GET();
    for (int i = 0; i < 3; i++)
        m->count[i] = is->gc.generations[i].count;
    for (int i = 0; i < RW_GCMARK_TUPLES; i++)
        m->tuples[i] = is->tuple.numfree[i];
    m->lists = is->list.numfree;
    m->dicts = is->dict_state.numfree;
}

/* Makes n objects with make(size) (which takes a free list's entries first, newest
 * first) and frees them newest-made first: the entries it took go back in their order,
 * on top of the fresh ones. */
static void refill(PyObject *(*make)(Py_ssize_t), Py_ssize_t size, int n)
{
    int k = 0;
    while (k < n && (held[k] = make(size)) != NULL)
        k++;
    if (k < n)
        PyErr_Clear();
    while (k > 0)
        Py_DECREF(held[--k]);
}

static PyObject *new_dict(Py_ssize_t unused)
{
    (void)unused;
    return PyDict_New();
}

void rw_gc_mark_back(const rw_gc_mark *m)
{
    PyInterpreterState *is = _PyInterpreterState_GET();
    struct _gc_runtime_state *gc = &is->gc;
    int enabled = gc->enabled;
    gc->enabled = 0;

    struct _Py_tuple_state *ts = &is->tuple;
    for (int i = 0; i < RW_GCMARK_TUPLES; i++) {
        while (ts->numfree[i] > m->tuples[i]) {
            PyTupleObject *op = ts->free_list[i]; /* linked through ob_item[0] */
            ts->free_list[i] = (PyTupleObject *)op->ob_item[0];
            ts->numfree[i]--;
            PyObject_GC_Del(op);
        }
        if (ts->numfree[i] < m->tuples[i]) {
            /* Tuples of the last size are put on their list but never taken off it
             * (tupleobject.c, maybe_freelist_pop: size < PyTuple_MAXSAVESIZE). */
            int takes = i + 1 < PyTuple_MAXSAVESIZE;
            refill(PyTuple_New, i + 1, takes ? m->tuples[i] : m->tuples[i] - ts->numfree[i]);
        }
    }
    struct _Py_list_state *ls = &is->list;
    while (ls->numfree > m->lists)
        PyObject_GC_Del(ls->free_list[--ls->numfree]);
    if (ls->numfree < m->lists)
        refill(PyList_New, 0, m->lists);
    struct _Py_dict_state *ds = &is->dict_state;
    while (ds->numfree > m->dicts)
        PyObject_GC_Del(ds->free_list[--ds->numfree]);
    if (ds->numfree < m->dicts)
        refill(new_dict, 0, m->dicts);

    for (int i = 0; i < 3; i++)
        gc->generations[i].count = m->count[i];
    gc->enabled = enabled;
}
