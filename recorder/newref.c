/* _Py_NewReference, wrapped (the rewind executable is linked with
 * -Wl,--wrap=_Py_NewReference against the static libpython): every object that
 * CPython's own object files create passes here, so that an object taken off a free
 * list, which calls no allocator, is still seen (alloc.h, rw_alloc_reused). Objects
 * made in object.c itself (PyObject_Init, _PyObject_New) call it directly and are not
 * seen: they are always fresh allocations.
 *
 * Without the link option (a shared libpython) nothing calls __wrap__Py_NewReference
 * and the weak reference to __real__Py_NewReference stays unresolved.
 */
#define Py_BUILD_CORE 1
#include <Python.h>

#include "internal/pycore_object.h"

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
    PyTypeObject *tp = Py_TYPE(op);
    size_t pre = _PyType_PreHeaderSize(tp);
    size_t size = tp->tp_itemsize ? (size_t)_PyObject_VAR_SIZE(tp, Py_SIZE(op))
                                  : (size_t)tp->tp_basicsize;
    rw_alloc_reused((char *)op - pre, pre + size);
}
