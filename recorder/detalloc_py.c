/* detalloc as Python's memory (detalloc.h, "the process-wide instance"): the base of
 * the RAW domain and obmalloc's arena allocator, so that every Python object lives in
 * one of the regions at RW_DETALLOC_BASE, RW_DETALLOC_ARENA_BASE and RW_DETALLOC_LOW_BASE.
 * obmalloc (the MEM and OBJ domains) carves its small objects from arenas (their own
 * region) and sends larger requests to RAW, which the main thread takes low while glibc
 * would take them from its brk heap.
 *
 * Uses CPython internals (Py_BUILD_CORE): _PyRuntime.preconfig, to tell which
 * allocators PYTHONMALLOC or -X dev chose.
 */
#define Py_BUILD_CORE 1
#include <Python.h>

#include "internal/pycore_runtime.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "detalloc.h"
#include "libc/input.h"

/* Owner: this file. Written once by rw_detalloc_install while the process has one
 * thread, before any PyMem call; read by every hook after. Global because CPython's
 * allocator hooks get only the ctx we give them and fork handlers get none. g is the
 * high region, lo the low one, ar the arenas' (NULL when they could not be had). */
static rw_detalloc *g, *lo, *ar;

/* 1 in the thread that called rw_detalloc_install (and in a child forked by it): the
 * thread whose RAW blocks glibc would take from its brk heap (detalloc.h). */
static __thread int main_thread;

/* glibc's mmap threshold as its dynamic rule moves it (detalloc.h). Read and written
 * without the GIL by any thread: relaxed atomics, a racy update is as good as another. */
static _Atomic size_t mmap_threshold = RW_DETALLOC_MMAP_THRESHOLD;

enum { ARENA_ALIGN = 4096 }; /* obmalloc carves 4 KiB pools from an arena */

/* glibc's chunk size for a request of n bytes (request2size: 8 bytes of header, 16-byte
 * alignment, at least 32). */
static inline size_t chunk_size(size_t n)
{
    size_t c = (n + 8 + 15) & ~(size_t)15;
    return c < 32 ? 32 : c;
}

/* The region a new RAW block of n bytes comes from: where glibc would put it. */
static inline rw_detalloc *region_for(size_t n)
{
    if (lo && main_thread &&
        chunk_size(n) < atomic_load_explicit(&mmap_threshold, memory_order_relaxed))
        return lo;
    return g;
}

/* After a block of the high region of usable size have is freed: glibc raises its
 * threshold to the size of an mmapped chunk that it unmaps above the threshold (blocks of
 * the high region below the threshold are threads' heap blocks, not mmapped). */
static inline void note_high_free(size_t have)
{
    size_t mapped = (have + 16 + 4095) & ~(size_t)4095;
    size_t t = atomic_load_explicit(&mmap_threshold, memory_order_relaxed);
    if (mapped > t && mapped <= RW_DETALLOC_MMAP_THRESHOLD_MAX)
        atomic_store_explicit(&mmap_threshold, mapped, memory_order_relaxed);
}

__thread int rw_detalloc_raw_libc;

/* When a region is full the other one serves, and when both are (1 TiB) the C library:
 * addresses then no longer repeat. */
static void *raw_malloc(void *ctx, size_t n)
{
    if (RW_UNLIKELY(rw_detalloc_raw_libc))
        return malloc(n ? n : 1);
    rw_detalloc *r = region_for(n);
    void *p = rw_detalloc_malloc(r, n);
    if (RW_UNLIKELY(p == NULL) && r != g)
        p = rw_detalloc_malloc(g, n);
    return RW_LIKELY(p != NULL) ? p : malloc(n ? n : 1);
}

static void *raw_calloc(void *ctx, size_t nelem, size_t elsize)
{
    if (RW_UNLIKELY(rw_detalloc_raw_libc))
        return calloc(nelem ? nelem : 1, elsize ? elsize : 1);
    size_t n = nelem * elsize; /* only to choose the region: detalloc checks overflow */
    rw_detalloc *r = region_for(n);
    void *p = rw_detalloc_calloc(r, nelem, elsize);
    if (RW_UNLIKELY(p == NULL) && r != g)
        p = rw_detalloc_calloc(g, nelem, elsize);
    return RW_LIKELY(p != NULL) ? p : calloc(nelem ? nelem : 1, elsize ? elsize : 1);
}

/* Whether p, a live block of usable size have, is the calling thread's own thread
 * state, freed by the thread as it ends (CPython's _PyThreadState_DeleteCurrent frees it
 * after letting the GIL go). Such a block is kept, never reused: when the free came
 * would decide what the next allocations of its size get, and that moment is the
 * kernel scheduler's, so the addresses after it would not repeat in a replay. Costs a
 * thread's state (360 bytes) per thread ended. */
static int own_thread_state(const void *p, size_t have)
{
    const PyThreadState *t = p;
    return have >= sizeof *t && t->thread_id == PyThread_get_thread_ident() &&
           _PyThreadState_UncheckedGet() != t;
}

static void raw_free(void *ctx, void *p)
{
    if (lo && rw_detalloc_owns(lo, p)) {
        if (RW_UNLIKELY(own_thread_state(p, rw_detalloc_usable_size(lo, p))))
            return;
        rw_detalloc_dealloc(lo, p);
        return;
    }
    if (RW_LIKELY(rw_detalloc_owns(g, p))) {
        size_t have = rw_detalloc_usable_size(g, p);
        if (RW_UNLIKELY(own_thread_state(p, have)))
            return;
        note_high_free(have);
    }
    rw_detalloc_dealloc(g, p); /* NULL, or the C library's block */
}

/* Moves block p of a (usable size have) to a new block of n bytes of region r, or of
 * the C library when r is full. NULL (p untouched) when nothing can be had. */
static void *move_block(rw_detalloc *a, void *p, size_t have, rw_detalloc *r, size_t n)
{
    void *q = rw_detalloc_malloc(r, n);
    if (!q)
        q = malloc(n ? n : 1);
    if (q) {
        memcpy(q, p, have < n ? have : n);
        if (a == g)
            note_high_free(have);
        rw_detalloc_dealloc(a, p);
    }
    return q;
}

static void *raw_realloc(void *ctx, void *p, size_t n)
{
    if (!p)
        return raw_malloc(ctx, n);
    if (lo && rw_detalloc_owns(lo, p)) {
        /* glibc keeps a heap block in its heap while it stays below the threshold (in
         * place when it can) and takes it to mmap beyond. */
        if (chunk_size(n) < atomic_load_explicit(&mmap_threshold, memory_order_relaxed)) {
            void *q = rw_detalloc_realloc(lo, p, n);
            if (RW_LIKELY(q != NULL))
                return q;
        }
        return move_block(lo, p, rw_detalloc_usable_size(lo, p), g, n);
    }
    /* A high block stays high (glibc mremaps an mmapped chunk; a thread's heap block
     * stays in its heap), a block of the C library stays there. */
    void *q = rw_detalloc_realloc(g, p, n);
    if (RW_LIKELY(q != NULL) || !rw_detalloc_owns(g, p))
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

static void *arena_alloc(void *ctx, size_t size)
{
    void *p = rw_detalloc_memalign(ar ? ar : g, ARENA_ALIGN, size);
    if (RW_UNLIKELY(p == NULL) && ar)
        p = rw_detalloc_memalign(g, ARENA_ALIGN, size);
    if (RW_UNLIKELY(p == NULL) && posix_memalign(&p, ARENA_ALIGN, size) != 0)
        p = NULL;
    return p;
}

static void arena_free(void *ctx, void *p, size_t size)
{
    rw_detalloc_dealloc(ar && rw_detalloc_owns(ar, p) ? ar : g, p);
}

static const PyMemAllocatorEx raw_hooks = {NULL, raw_malloc, raw_calloc, raw_realloc, raw_free};

/* ---- the C library's allocator, for a while ---------------------------------------
 *
 * CPython puts the C library's allocator under RAW for a few calls at a time
 * (_PyMem_SetDefaultAllocator, then the previous allocator back): at start-up, and in
 * Py_RunMain's last steps after Py_FinalizeEx (pymain_free: the import table's copy,
 * the path configuration, argv, the runtime's locks). Meanwhile another thread may free
 * a block of ours: a thread that ends frees its thread state after letting the GIL
 * go, and threading's shutdown has already seen it end (its lock is released before),
 * so the main thread can be in pymain_free by then. The C library's free of a region
 * block aborts the process (a recording of test_values' threads_race, 1 in CI). So
 * while the C library's allocator is in place, it is this one: new blocks are the C
 * library's, as CPython meant, and a block of ours is freed or grown by ours. */
static void *window_malloc(void *ctx, size_t n)
{
    (void)ctx;
    return malloc(n ? n : 1);
}

static void *window_calloc(void *ctx, size_t nelem, size_t elsize)
{
    (void)ctx;
    if (nelem == 0 || elsize == 0)
        nelem = elsize = 1;
    return calloc(nelem, elsize);
}

static int ours(const void *p)
{
    return (lo && rw_detalloc_owns(lo, p)) || rw_detalloc_owns(g, p);
}

static void *window_realloc(void *ctx, void *p, size_t n)
{
    if (p && ours(p))
        return raw_realloc(ctx, p, n);
    return realloc(p, n ? n : 1);
}

static void window_free(void *ctx, void *p)
{
    raw_free(ctx, p); /* ours, or the C library's (rw_detalloc_dealloc) */
}

static const PyMemAllocatorEx window_hooks = {NULL, window_malloc, window_calloc,
                                              window_realloc, window_free};

/* REWIND_TEST_DEFAULT_ALLOC_PAUSE_MS (tests): the first such window opened after
 * finalisation began stays open that long (test_exits' thread that ends at exit). */
static unsigned window_pause_ms;
static _Atomic int window_paused;

int __real__PyMem_SetDefaultAllocator(PyMemAllocatorDomain domain, PyMemAllocatorEx *old)
    __attribute__((weak));
int __wrap__PyMem_SetDefaultAllocator(PyMemAllocatorDomain domain, PyMemAllocatorEx *old);

int __wrap__PyMem_SetDefaultAllocator(PyMemAllocatorDomain domain, PyMemAllocatorEx *old)
{
    int r = __real__PyMem_SetDefaultAllocator(domain, old);
    if (g && domain == PYMEM_DOMAIN_RAW) {
        PyMem_SetAllocator(PYMEM_DOMAIN_RAW, (PyMemAllocatorEx *)&window_hooks);
        if (RW_UNLIKELY(window_pause_ms) && _Py_IsFinalizing() &&
            !atomic_exchange(&window_paused, 1))
            rw_in_sleep_ms(window_pause_ms);
    }
    return r;
}

static void fork_prepare(void)
{
    rw_detalloc_lock(g);
    if (lo)
        rw_detalloc_lock(lo);
    if (ar)
        rw_detalloc_lock(ar);
}

static void fork_done(void)
{
    if (ar)
        rw_detalloc_unlock(ar);
    if (lo)
        rw_detalloc_unlock(lo);
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
    rw_err lerr = {0};
    if (rw_detalloc_new(RW_DETALLOC_LOW_BASE, RW_DETALLOC_LOW_RESERVE, &lo, &lerr) != RW_OK)
        lo = NULL; /* every block high: addresses still repeat when this repeats */
    if (rw_detalloc_new(RW_DETALLOC_ARENA_BASE, RW_DETALLOC_ARENA_RESERVE, &ar, &lerr) != RW_OK)
        ar = NULL; /* arenas high */
    main_thread = 1;
    const char *pause = getenv("REWIND_TEST_DEFAULT_ALLOC_PAUSE_MS");
    window_pause_ms = pause ? (unsigned)strtoul(pause, NULL, 10) : 0;
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

rw_detalloc *rw_detalloc_global_low(void)
{
    return lo;
}
