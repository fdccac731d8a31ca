/* CPython functions wrapped so that a recorded run allocates as an untraced one would,
 * in tracemalloc's eyes (docs/memory.md, "Fidelity"). The rewind executable is linked
 * with -Wl,--wrap=NAME for each against the static libpython: calls between
 * libpython's object files then come here (calls inside one object file and from
 * extension modules do not).
 *
 *  - _Py_NewReference: every object that CPython's object files create passes here,
 *    so that an object taken off a free list, which calls no allocator, is still seen
 *    (alloc.h, rw_alloc_reused). Objects made in object.c itself (PyObject_Init,
 *    _PyObject_New) are always fresh allocations and need not be.
 *  - _PyFrame_New_NoTrack and PyObject_GC_Del: the frame objects that tracing mode
 *    makes for every frame do not count towards the cyclic GC's thresholds, so that
 *    automatic collections come after the same allocations as in a plain run (and
 *    the same cyclic garbage is alive at a given line).
 *
 * Without the link options (a shared libpython) nothing calls the __wrap_ functions
 * and the weak references to the __real_ ones stay unresolved.
 */
#define Py_BUILD_CORE 1
#include <Python.h>

#include "internal/pycore_object.h"
#include "internal/pycore_pystate.h"

#include "alloc.h"
#include "state.h"

void __real__Py_NewReference(PyObject *op) __attribute__((weak));
void __wrap__Py_NewReference(PyObject *op);

void __wrap__Py_NewReference(PyObject *op)
{
    __real__Py_NewReference(op);
    if (RW_UNLIKELY(rw_tls.busy) || !rw_st.allocations ||
        RW_UNLIKELY(!atomic_load_explicit(&rw_st.on, memory_order_relaxed)))
        return;
    rw_alloc_newref(op);
}

PyFrameObject *__real__PyFrame_New_NoTrack(PyCodeObject *code) __attribute__((weak));
PyFrameObject *__wrap__PyFrame_New_NoTrack(PyCodeObject *code);
void __real_PyObject_GC_Del(void *op) __attribute__((weak));
void __wrap_PyObject_GC_Del(void *op);

PyFrameObject *__wrap__PyFrame_New_NoTrack(PyCodeObject *code)
{
    if (!atomic_load_explicit(&rw_st.on, memory_order_relaxed))
        return __real__PyFrame_New_NoTrack(code);
    /* The new object is linked into generation 0 (its count goes up, and a collection
     * may start there): neither would happen in a plain run. */
    struct _gc_runtime_state *gc = &_PyInterpreterState_GET()->gc;
    int enabled = gc->enabled;
    gc->enabled = 0;
    PyFrameObject *f = __real__PyFrame_New_NoTrack(code);
    gc->enabled = enabled;
    if (f && gc->generations[0].count > 0)
        gc->generations[0].count--;
    return f;
}

void __wrap_PyObject_GC_Del(void *op)
{
    if (Py_TYPE((PyObject *)op) != &PyFrame_Type ||
        !atomic_load_explicit(&rw_st.on, memory_order_relaxed)) {
        __real_PyObject_GC_Del(op);
        return;
    }
    struct _gc_runtime_state *gc = &_PyInterpreterState_GET()->gc;
    int count = gc->generations[0].count;
    __real_PyObject_GC_Del(op);
    if (count > 0) /* it took one off generation 0 for the frame object */
        gc->generations[0].count++;
}
