/* Address coding (private to format/): the state the encoder and the decoder keep to
 * code an ALLOC or FREE address as a reference to a recent free, to an earlier
 * allocation of the chunk, or as a delta from a prediction (rewind.proto,
 * "Addresses"). Both sides apply the same rules to the same records; any change is a
 * format change. recent_take stays out of line (not declared inline) as it was
 * before the codec was split; the rest is inline.
 */
#ifndef RW_CODEC_ADDR_H
#define RW_CODEC_ADDR_H

#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "codec_column.h"

#define RECENT_N 32 /* recent_find keeps one bit per slot in a uint32_t */
#define NCLASS 34
#define FREE_REF_MAX (1u << 30) /* the encoder refers back at most this far */

typedef struct addrstate {
    col_u64 allocs;            /* every ALLOC address of the chunk, in order */
    uint64_t recent[RECENT_N]; /* last frees: ring, recent[(head + i) % N] is the i-th */
    unsigned head, nrecent;    /* most recent (i = 0) */
    uint64_t last[NCLASS];     /* last explicit ALLOC address per size class */
    uint64_t prev_alloc, prev_free;
} addrstate;

static inline void addr_reset(addrstate *a)
{
    a->allocs.n = 0;
    a->head = a->nrecent = 0;
    memset(a->last, 0, sizeof a->last);
    a->prev_alloc = a->prev_free = 0;
}

static inline unsigned size_class(uint64_t size)
{
    return size <= 512 ? (unsigned)((size + 15) >> 4) : NCLASS - 1;
}

static inline uint64_t alloc_pred(const addrstate *a, unsigned c)
{
    if (!a->last[c])
        return a->prev_alloc;
    return a->last[c] + (c < NCLASS - 1 ? 16u * c : 0);
}

#define RECENT(a, i) ((a)->recent[((a)->head + (i)) & (RECENT_N - 1)])

/* Removes and returns the k-th most recent free (1 <= k <= nrecent): the k - 1 more
 * recent ones move up one place, so the usual k = 1 costs nothing. */
__attribute__((unused)) static uint64_t recent_take(addrstate *a, unsigned k)
{
    uint64_t v = RECENT(a, k - 1);
    for (unsigned i = k - 1; i > 0; i--)
        RECENT(a, i) = RECENT(a, i - 1);
    a->head = (a->head + 1) & (RECENT_N - 1);
    a->nrecent--;
    return v;
}

/* recent_find's answer from the slots that hold the address (bit s: slot s). */
static inline unsigned recent_place(const addrstate *a, uint32_t hit)
{
    /* Slot s is place (s - head) mod N: rotate so that bit i is place i. */
    hit = (hit >> a->head) | (a->head ? hit << (RECENT_N - a->head) : 0);
    if (a->nrecent < RECENT_N)
        hit &= (1u << a->nrecent) - 1;
    return hit ? (unsigned)__builtin_ctz(hit) + 1 : 0;
}

/* 1 + the place of addr among the recent frees, most recent first (the smallest when
 * it is there twice), or 0. Compares all the slots without a branch: the place found
 * varies from one record to the next (mix.py: none 23%, 1 24%, 2 19%, 3-9 33%), so a
 * loop that stopped at the first match mispredicted its exit. */
static inline unsigned recent_find(const addrstate *a, uint64_t addr)
{
    uint32_t hit = 0; /* bit s: slot s holds addr */
#ifdef __SSE2__
    /* Two slots per step; SSE2 has no 64-bit compare: both 32-bit halves equal. */
    __m128i want = _mm_set1_epi64x((long long)addr);
#pragma GCC unroll 16
    for (unsigned s = 0; s < RECENT_N; s += 2) {
        __m128i eq = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)&a->recent[s]), want);
        eq = _mm_and_si128(eq, _mm_shuffle_epi32(eq, _MM_SHUFFLE(2, 3, 0, 1)));
        hit |= (uint32_t)_mm_movemask_pd(_mm_castsi128_pd(eq)) << s;
    }
#else
    for (unsigned s = 0; s < RECENT_N; s++)
        hit |= (uint32_t)(a->recent[s] == addr) << s;
#endif
    return recent_place(a, hit);
}

static inline void recent_push(addrstate *a, uint64_t addr)
{
    a->head = (a->head - 1) & (RECENT_N - 1);
    a->recent[a->head] = addr;
    if (a->nrecent < RECENT_N)
        a->nrecent++;
}

/* Explicit address coding: ((a >> 3) - (p >> 3)) << 1 | unaligned. */
static inline int64_t addr_code(uint64_t a, uint64_t pred)
{
    int64_t d = (int64_t)((a >> 3) - (pred >> 3));
    return (int64_t)((uint64_t)d << 1) | ((a & 7) != 0);
}

#endif
