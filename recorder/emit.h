/* What every hook does before it appends a record: switch the stream to the calling
 * thread (defining the thread when it is new) and drain the side buffer.
 *
 * Hot path: both functions are static inline, and their usual case is a compare and
 * a relaxed load. Called with the GIL by the stream's producer (state.h's rules).
 */
#ifndef RW_EMIT_H
#define RW_EMIT_H

#include "state.h"
#include "threads.h"

/* Must precede every record the GIL holder appends: thread switch, then side records.
 * Returns 0 when nothing may be appended for this thread. */
static inline int rw_emit_begin(uint64_t tick)
{
    if (RW_UNLIKELY(rw_tls.thread != rw_st.cur_thread) && !rw_threads_switch(tick, 0))
        return 0;
    if (RW_UNLIKELY(atomic_load_explicit(&rw_st.side_n, memory_order_relaxed) != 0))
        rw_side_drain();
    return 1;
}

/* rw_emit_begin's usual case, with no call: the calling thread made the last record
 * and the side buffer is empty, so a record may be appended straight away. */
static inline int rw_may_append(void)
{
    return RW_LIKELY(rw_tls.thread == rw_st.cur_thread) &&
           RW_LIKELY(atomic_load_explicit(&rw_st.side_n, memory_order_relaxed) == 0);
}

#endif
