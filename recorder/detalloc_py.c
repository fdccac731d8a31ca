/* detalloc as Python's memory (detalloc.h, "the process-wide instance"): the base of
 * the RAW domain and obmalloc's arena allocator, so that every Python object lives in
 * the region at RW_DETALLOC_BASE. obmalloc (the MEM and OBJ domains) carves its small
 * objects from arenas and sends larger requests to RAW, so both land here.
 *
 * Uses CPython internals (Py_BUILD_CORE): _PyRuntime.preconfig, to tell which
 * allocators PYTHONMALLOC or -X dev chose.
 */
#define Py_BUILD_CORE 1
#include <Python.h>

#include "internal/pycore_runtime.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "detalloc.h"

/* Owner: this file. Written once by rw_detalloc_install while the process has one
 * thread, before any PyMem call; read by every hook after. Global because CPython's
 * allocator hooks get only the ctx we give them and fork handlers get none. */
static rw_detalloc *g;

enum { ARENA_ALIGN = 4096 }; /* obmalloc carves 4 KiB pools from an arena */

/* When the region is full (1 TiB) the C library serves, addresses no longer repeat. */
static void *raw_malloc(void *ctx, size_t n)
{
    void *p = rw_detalloc_malloc(g, n);
    return RW_LIKELY(p != NULL) ? p : malloc(n ? n : 1);
}

static void *raw_calloc(void *ctx, size_t nelem, size_t elsize)
{
    void *p = rw_detalloc_calloc(g, nelem, elsize);
    return RW_LIKELY(p != NULL) ? p : calloc(nelem ? nelem : 1, elsize ? elsize : 1);
}

static void *raw_realloc(void *ctx, void *p, size_t n)
{
    void *q = rw_detalloc_realloc(g, p, n);
    if (RW_LIKELY(q != NULL) || !p || !rw_detalloc_owns(g, p))
        return q;
    /* The region is full: move the block to the C library. */
    q = malloc(n ? n : 1);
    if (q) {
        size_t have = rw_detalloc_usable_size(g, p);
        memcpy(q, p, have < n ? have : n);
        rw_detalloc_dealloc(g, p);
    }
    return q;
}

static void raw_free(void *ctx, void *p)
{
    rw_detalloc_dealloc(g, p);
}

static void *arena_alloc(void *ctx, size_t size)
{
    void *p = rw_detalloc_memalign(g, ARENA_ALIGN, size);
    if (RW_UNLIKELY(p == NULL) && posix_memalign(&p, ARENA_ALIGN, size) != 0)
        p = NULL;
    return p;
}

static void arena_free(void *ctx, void *p, size_t size)
{
    rw_detalloc_dealloc(g, p);
}

static const PyMemAllocatorEx raw_hooks = {NULL, raw_malloc, raw_calloc, raw_realloc, raw_free};

static void fork_prepare(void)
{
    rw_detalloc_lock(g);
}

static void fork_done(void)
{
    rw_detalloc_unlock(g);
}

rw_code rw_detalloc_install(rw_err *err)
{
    if (g)
        return RW_OK;
    rw_detalloc *a;
    RW_TRY(rw_detalloc_new(RW_DETALLOC_BASE, RW_DETALLOC_RESERVE, &a, err));
    /* Registered before anything else registers: its prepare handler runs last and its
     * child handler first, so other handlers may allocate. */
    if (pthread_atfork(fork_prepare, fork_done, fork_done) != 0) {
        rw_detalloc_free(a);
        return rw_err_set(err, RW_ENOMEM, "detalloc: cannot register fork handlers");
    }
    g = a;
    PyMem_SetAllocator(PYMEM_DOMAIN_RAW, (PyMemAllocatorEx *)&raw_hooks);
    PyObjectArenaAllocator arenas = {NULL, arena_alloc, arena_free};
    PyObject_SetArenaAllocator(&arenas);
    return RW_OK;
}

void rw_detalloc_after_preinit(void)
{
    if (!g)
        return;
    PyMemAllocatorEx cur;
    PyMem_GetAllocator(PYMEM_DOMAIN_RAW, &cur);
    if (cur.malloc == raw_malloc)
        return;
    /* _PyMem_SetupAllocators put the C library's malloc under RAW (and under MEM and
     * OBJ for "malloc"), with debug hooks over them for the debug variants. Blocks
     * allocated meanwhile are the C library's and are freed there (foreign pointers). */
    int name = _PyRuntime.preconfig.allocator;
    int debug = name == PYMEM_ALLOCATOR_DEBUG || name == PYMEM_ALLOCATOR_PYMALLOC_DEBUG ||
                name == PYMEM_ALLOCATOR_MALLOC_DEBUG;
    int plain = name == PYMEM_ALLOCATOR_MALLOC || name == PYMEM_ALLOCATOR_MALLOC_DEBUG;
    PyMem_SetAllocator(PYMEM_DOMAIN_RAW, (PyMemAllocatorEx *)&raw_hooks);
    if (plain) {
        PyMem_SetAllocator(PYMEM_DOMAIN_MEM, (PyMemAllocatorEx *)&raw_hooks);
        PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, (PyMemAllocatorEx *)&raw_hooks);
    }
    if (debug)
        PyMem_SetupDebugHooks(); /* wraps what is not wrapped yet: RAW (and MEM, OBJ) */
}

rw_detalloc *rw_detalloc_global(void)
{
    return g;
}
