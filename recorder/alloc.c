/* Allocation hooks: wrap the RAW, MEM and OBJ allocators and append ALLOC_x/FREE_x
 * records (records.h) as tracemalloc sees the calls.
 *
 * MEM and OBJ are called with the GIL held, so a recorded thread appends straight to
 * the stream. RAW may be called without the GIL: such calls (and calls from threads
 * the recorder does not know) go to the side buffer (state.h). A free is recorded
 * before the block is released and an allocation after it is obtained, so the stream
 * never shows an address handed out again before its free (realloc: see below).
 * Nothing is recorded while the recorder itself works (rw_tls.busy): the cyclic GC is
 * off then and no user code runs (except an exception's __str__, which python3 would
 * not have called at that point either), so what is allocated or freed then is the
 * recorder's own temporaries.
 */
#include "recorder_int.h"

typedef struct dom {
    PyMemAllocatorEx prev;
    int kalloc, kfree;
    int raw; /* may be called without the GIL */
} dom;

static dom doms[3];

static inline void rec(const dom *d, uint64_t w0, uint64_t w1, int is_alloc)
{
    if (RW_UNLIKELY(!atomic_load_explicit(&rw_st.on, memory_order_relaxed)))
        return;
    if (RW_LIKELY(rw_tls.thread != 0) &&
        (!d->raw || _PyThreadState_UncheckedGet() == rw_tls.tstate)) {
        if (RW_UNLIKELY(rw_tls.thread != rw_st.cur_thread) && !rw_state_switch(rw_tick()))
            return;
        if (RW_UNLIKELY(atomic_load_explicit(&rw_st.side_n, memory_order_relaxed) != 0))
            rw_side_drain();
        rw_stream_put(rw_st.s, w0, w1);
        rw_st.nallocs += (uint64_t)is_alloc;
    } else {
        rw_side_put(w0, w1, is_alloc);
    }
}

static void *h_malloc(void *ctx, size_t size)
{
    dom *d = ctx;
    void *p = d->prev.malloc(d->prev.ctx, size);
    if (p && !rw_tls.busy)
        rec(d, RW_REC(d->kalloc, size), (uintptr_t)p, 1);
    return p;
}

static void *h_calloc(void *ctx, size_t nelem, size_t elsize)
{
    dom *d = ctx;
    void *p = d->prev.calloc(d->prev.ctx, nelem, elsize);
    if (p && !rw_tls.busy)
        rec(d, RW_REC(d->kalloc, nelem * elsize), (uintptr_t)p, 1); /* no overflow: it succeeded */
    return p;
}

static void *h_realloc(void *ctx, void *ptr, size_t size)
{
    dom *d = ctx;
    void *p = d->prev.realloc(d->prev.ctx, ptr, size);
    if (p && !rw_tls.busy) {
        /* Recorded after success: a failed realloc leaves the old block live. (With
         * RAW called by two threads at once, another thread could in theory be given
         * the old address before this free is recorded.) */
        if (ptr)
            rec(d, RW_REC(d->kfree, 0), (uintptr_t)ptr, 0);
        rec(d, RW_REC(d->kalloc, size), (uintptr_t)p, 1);
    }
    return p;
}

static void h_free(void *ctx, void *ptr)
{
    dom *d = ctx;
    if (ptr && !rw_tls.busy)
        rec(d, RW_REC(d->kfree, 0), (uintptr_t)ptr, 0);
    d->prev.free(d->prev.ctx, ptr);
}

void rw_alloc_install(void)
{
    static const PyMemAllocatorDomain which[3] = {PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM,
                                                  PYMEM_DOMAIN_OBJ};
    static const int kalloc[3] = {RW_K_ALLOC_RAW, RW_K_ALLOC_MEM, RW_K_ALLOC_OBJ};
    static const int kfree[3] = {RW_K_FREE_RAW, RW_K_FREE_MEM, RW_K_FREE_OBJ};
    for (int i = 0; i < 3; i++) {
        dom *d = &doms[i];
        PyMem_GetAllocator(which[i], &d->prev);
        d->kalloc = kalloc[i];
        d->kfree = kfree[i];
        d->raw = which[i] == PYMEM_DOMAIN_RAW;
        PyMemAllocatorEx mine = {d, h_malloc, h_calloc, h_realloc, h_free};
        PyMem_SetAllocator(which[i], &mine);
    }
}
