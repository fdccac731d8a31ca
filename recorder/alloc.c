/* Allocation hooks: wrap the RAW, MEM and OBJ allocators and append ALLOC_x/FREE_x
 * records (records.h) as tracemalloc sees the calls.
 *
 * MEM and OBJ are called with the GIL held, so a recorded thread appends straight to
 * the stream (rec() is emit.h's rw_emit_begin, written out so that RAW can take the
 * other branch). RAW may be called without the GIL: such calls (and calls from threads
 * the recorder does not know) go to the side buffer (state.h). A free is recorded
 * before the block is released and an allocation after it is obtained, so the stream
 * never shows an address handed out again before its free (realloc: see below).
 * Nothing is recorded while the recorder itself works (rw_tls.busy): the cyclic GC is
 * off then and no user code runs (except an exception's __str__, which python3 would
 * not have called at that point either), so what is allocated or freed then is the
 * recorder's own temporaries.
 */
#define Py_BUILD_CORE 1 /* _PyType_PreHeaderSize */
#include "alloc.h"

#include "state.h"

#include "internal/pycore_object.h"
#include "detalloc.h"
#include "threads.h"

#include <sys/mman.h>

enum { D_RAW, D_MEM, D_OBJ, ND };

/* The last block this thread obtained from a hooked allocator (0: none since the last
 * reuse check), so that rw_alloc_reused can tell a block just allocated from one
 * taken off a free list. Thread-local: every thread allocates. */
static __thread uintptr_t last_block;
static __thread uintptr_t last_fresh; /* the last object initialised in a fresh block */

/* The blocks of obmalloc's arenas that a recorded OBJ allocation handed out: one bit per
 * 16 bytes of the arena region's first MADE_COVER bytes (detalloc.h; reserved, its
 * pages touched as the arenas are). An object taken off a free list whose block has no
 * bit was made before the recording started, by start-up: its ALLOC_OBJ gets a
 * STARTUP_REUSE record before it, so that `rewind memory --traced-since program` can
 * leave it untraced, as tracemalloc leaves the reuse of a block it never traced
 * (docs/memory.md, cause 9). No bit is ever cleared: a block made before the recording
 * never gets an allocation again, and a block at an address some recorded allocation
 * had is the recording's. Written with the GIL (the OBJ domain's callers hold it).
 * NULL (the reservation failed), or arenas outside the covered range: no reuse is
 * marked. */
#define MADE_COVER ((uintptr_t)1 << 35)
static uint8_t *made;
static int startup_reuses_marked = 1; /* feature "startup-reuses" */

void rw_alloc_startup_reuses(int on)
{
    startup_reuses_marked = on;
}

static inline void made_note(uintptr_t b)
{
    uintptr_t off = b - RW_DETALLOC_ARENA_BASE;
    if (off < MADE_COVER && made)
        made[off >> 7] |= (uint8_t)(1u << ((off >> 4) & 7));
}

/* Whether block b was made before the recording (0 when that cannot be told). */
static inline int made_by_startup(uintptr_t b)
{
    uintptr_t off = b - RW_DETALLOC_ARENA_BASE;
    if (off >= MADE_COVER || !made)
        return 0;
    return !((made[off >> 7] >> ((off >> 4) & 7)) & 1);
}

/* Owner: this file; written once by rw_alloc_install (main thread, GIL held, before
 * recording starts), read by every hook. Global because CPython calls the hooks with
 * the ctx we give them, and the per-domain hooks below rather make the wrapped
 * allocator a fixed address than load it through ctx. */
static struct alloc_state {
    PyMemAllocatorEx prev[ND]; /* the allocators we wrap, by domain */
} alloc;
static const int kalloc[ND] = {RW_K_ALLOC_RAW, RW_K_ALLOC_MEM, RW_K_ALLOC_OBJ};
static const int kfree[ND] = {RW_K_FREE_RAW, RW_K_FREE_MEM, RW_K_FREE_OBJ};

/* The hooks below are generated per domain from always-inline bodies with the domain
 * a constant: the wrapped allocator is then a fixed address and the record's kind an
 * immediate, so fewer values live across the wrapped call and the hook saves fewer
 * registers (mix.py makes 11.6M calls). */
#define HOT static inline __attribute__((always_inline))

HOT void rec(int d, uint64_t w0, uint64_t w1, int is_alloc)
{
    if (RW_UNLIKELY(rw_tls.busy) ||
        RW_UNLIKELY(!atomic_load_explicit(&rw_st.on, memory_order_relaxed)))
        return;
    if (d == D_OBJ && is_alloc)
        made_note((uintptr_t)w1);
    if (RW_LIKELY(rw_tls.thread != 0) &&
        (d != D_RAW || _PyThreadState_UncheckedGet() == rw_tls.tstate)) {
        if (RW_UNLIKELY(rw_tls.thread != rw_st.cur_thread) &&
            !rw_threads_switch(rw_tick(), d == D_RAW))
            return;
        if (RW_UNLIKELY(atomic_load_explicit(&rw_st.side_n, memory_order_relaxed) != 0))
            rw_side_drain();
        rw_stream_put(rw_st.s, w0, w1);
        rw_st.nallocs += (uint64_t)is_alloc;
    } else {
        rw_side_put(w0, w1, is_alloc);
    }
}

/* Boxes: the RAW blocks a thread allocates while rw_detalloc_raw_libc is set (the one
 * PyThread_start_new_thread makes for the new thread: threadwrap.c), from the C
 * library. Neither they nor their frees are recorded: the new thread frees its box when
 * the kernel first runs it, a moment no replay repeats. Kept here from the allocation
 * to the free; added with the GIL, taken by any thread. Full (threads started and not
 * yet run): the free is recorded, of a block readers do not know (they ignore it). */
enum { NBOX = 64 };
static struct {
    _Atomic int n;
    _Atomic uintptr_t slot[NBOX];
} boxes;

static void box_keep(void *p)
{
    for (int i = 0; i < NBOX; i++) {
        uintptr_t none = 0;
        if (atomic_compare_exchange_strong(&boxes.slot[i], &none, (uintptr_t)p)) {
            atomic_fetch_add(&boxes.n, 1);
            return;
        }
    }
}

/* Whether p is a box (and forgets it). One load while no box is out. */
static inline int box_drop(void *p)
{
    if (RW_LIKELY(atomic_load_explicit(&boxes.n, memory_order_relaxed) == 0))
        return 0;
    for (int i = 0; i < NBOX; i++) {
        uintptr_t want = (uintptr_t)p;
        if (atomic_load_explicit(&boxes.slot[i], memory_order_relaxed) == want &&
            atomic_compare_exchange_strong(&boxes.slot[i], &want, 0)) {
            atomic_fetch_sub(&boxes.n, 1);
            return 1;
        }
    }
    return 0;
}

HOT void *do_malloc(int d, size_t size)
{
    void *p = alloc.prev[d].malloc(alloc.prev[d].ctx, size);
    last_block = (uintptr_t)p;
    if (RW_LIKELY(p != NULL)) {
        if (d == D_RAW && RW_UNLIKELY(rw_detalloc_raw_libc))
            box_keep(p);
        else
            rec(d, RW_REC(kalloc[d], size), (uintptr_t)p, 1);
    }
    return p;
}

HOT void *do_calloc(int d, size_t nelem, size_t elsize)
{
    void *p = alloc.prev[d].calloc(alloc.prev[d].ctx, nelem, elsize);
    last_block = (uintptr_t)p;
    if (RW_LIKELY(p != NULL)) {
        if (d == D_RAW && RW_UNLIKELY(rw_detalloc_raw_libc))
            box_keep(p);
        else /* no overflow: it succeeded */
            rec(d, RW_REC(kalloc[d], nelem * elsize), (uintptr_t)p, 1);
    }
    return p;
}

HOT void *do_realloc(int d, void *ptr, size_t size)
{
    void *p = alloc.prev[d].realloc(alloc.prev[d].ctx, ptr, size);
    last_block = (uintptr_t)p;
    if (p) {
        /* Recorded after success: a failed realloc leaves the old block live. (With
         * RAW called by two threads at once, another thread could in theory be given
         * the old address before this free is recorded.) */
        if (ptr)
            rec(d, RW_REC(kfree[d], 0), (uintptr_t)ptr, 0);
        rec(d, RW_REC(kalloc[d], size), (uintptr_t)p, 1);
    }
    return p;
}

HOT void do_free(int d, void *ptr)
{
    if (RW_LIKELY(ptr != NULL) && (d != D_RAW || RW_LIKELY(!box_drop(ptr))))
        rec(d, RW_REC(kfree[d], 0), (uintptr_t)ptr, 0);
    alloc.prev[d].free(alloc.prev[d].ctx, ptr);
}

#define DOMAIN_HOOKS(d, name)                                                              \
    static void *name##_malloc(void *ctx, size_t size) { return do_malloc(d, size); }     \
    static void *name##_calloc(void *ctx, size_t nelem, size_t elsize)                    \
    {                                                                                      \
        return do_calloc(d, nelem, elsize);                                                \
    }                                                                                      \
    static void *name##_realloc(void *ctx, void *ptr, size_t size)                         \
    {                                                                                      \
        return do_realloc(d, ptr, size);                                                   \
    }                                                                                      \
    static void name##_free(void *ctx, void *ptr) { do_free(d, ptr); }

DOMAIN_HOOKS(D_RAW, raw)
DOMAIN_HOOKS(D_MEM, mem)
DOMAIN_HOOKS(D_OBJ, obj)

void rw_alloc_newref(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    size_t pre = _PyType_PreHeaderSize(tp); /* GC header, managed dict pointers */
    uintptr_t b = (uintptr_t)op - pre;
    if (RW_LIKELY(b == last_block)) {
        last_block = 0; /* checked: a second initialisation of it is a reuse */
        last_fresh = (uintptr_t)op;
        return;
    }
    last_fresh = 0;
    /* The size its allocation asked for: basicsize plus items (what PyObject_GC_NewVar
     * and friends ask for), with the pre-header. */
    Py_ssize_t items = Py_SIZE(op) < 0 ? -Py_SIZE(op) : Py_SIZE(op);
    size_t size = pre + (tp->tp_itemsize ? (size_t)_PyObject_VAR_SIZE(tp, items)
                                         : (size_t)tp->tp_basicsize);
    if (RW_UNLIKELY(size == 0 || size > ((size_t)1 << 40)))
        return; /* not a size this object's block can have: leave the block alone */
    if (startup_reuses_marked && made_by_startup(b))
        rec(D_OBJ, RW_REC(RW_K_STARTUP_REUSE, 0), 0, 0);
    rec(D_OBJ, RW_REC(kalloc[D_OBJ], size), b, 0);
}

void rw_alloc_made_here(PyObject *op, size_t size)
{
    if (rw_st.allocations)
        rec(D_OBJ, RW_REC(kalloc[D_OBJ], size),
            (uintptr_t)op - _PyType_PreHeaderSize(Py_TYPE(op)), 1);
}

int rw_alloc_last_fresh(PyObject *op)
{
    return op && (uintptr_t)op == last_fresh;
}

void rw_alloc_install(void)
{
    static const PyMemAllocatorDomain which[ND] = {PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM,
                                                   PYMEM_DOMAIN_OBJ};
    PyMemAllocatorEx mine[ND] = {
        {NULL, raw_malloc, raw_calloc, raw_realloc, raw_free},
        {NULL, mem_malloc, mem_calloc, mem_realloc, mem_free},
        {NULL, obj_malloc, obj_calloc, obj_realloc, obj_free},
    };
    void *bits = mmap(NULL, MADE_COVER >> 7, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    made = bits == MAP_FAILED ? NULL : bits;
    for (int d = 0; d < ND; d++) {
        PyMem_GetAllocator(which[d], &alloc.prev[d]);
        PyMem_SetAllocator(which[d], &mine[d]);
    }
}
