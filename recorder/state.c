/* The recorder's hot-path state (see state.h) and its slow paths that need nothing
 * but the state: the side buffer for allocations made without the GIL, and sticky
 * failures. (The thread switch is threads.c's: it may define a thread.) */
#include "state.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>

__thread rw_thread_local rw_tls __attribute__((tls_model("initial-exec")));
rw_state rw_st = {.side_lock = ATOMIC_FLAG_INIT};

static void side_lock(void)
{
    while (atomic_flag_test_and_set_explicit(&rw_st.side_lock, memory_order_acquire))
        __builtin_ia32_pause();
}

static void side_unlock(void)
{
    atomic_flag_clear_explicit(&rw_st.side_lock, memory_order_release);
}

void rw_side_put(uint64_t w0, uint64_t w1, int is_alloc)
{
    side_lock();
    uint32_t n = atomic_load_explicit(&rw_st.side_n, memory_order_relaxed);
    if (n < RW_SIDE_CAP) {
        rw_st.side[n].w0 = w0;
        rw_st.side[n].w1 = w1;
        atomic_store_explicit(&rw_st.side_n, n + 1, memory_order_relaxed);
        rw_st.side_nallocs += (uint64_t)is_alloc;
    } else {
        rw_st.side_dropped++;
    }
    side_unlock();
}

void rw_side_drain(void)
{
    side_lock();
    uint32_t n = atomic_load_explicit(&rw_st.side_n, memory_order_relaxed);
    assert(n <= RW_SIDE_CAP);
    for (uint32_t i = 0; i < n; i++)
        rw_stream_put(rw_st.s, rw_st.side[i].w0, rw_st.side[i].w1);
    atomic_store_explicit(&rw_st.side_n, 0, memory_order_relaxed);
    side_unlock();
}

void rw_state_fail(const char *fmt, ...)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong(&rw_st.failed, &expected, 1))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rw_st.failure, sizeof rw_st.failure, fmt, ap);
    va_end(ap);
}
