/* Fingerprints of a run's records, by groups of events (docs/format.md, "Fingerprints").
 *
 * The recorder's encoder hashes every record as the replay engine's divergence check
 * compares it (replayer/engine/inside/check.h: kind; an event's thread; a call's code
 * and line; a line's line; a C call's function; an exception's, audit's or uncaught
 * exception's name; an allocation's size and address; a free's address), and stores
 * one 64-bit fingerprint per group of RW_FP_GROUP events in the trace's index. The
 * engine hashes its own records the same way and compares a group's fingerprint
 * instead of decoding the recording record by record; only a group whose fingerprint
 * differs, and the last, unfinished one at a stop, are compared record by record.
 *
 * Group g holds the records whose position (the number of events before them; an
 * event's position is its number) is in [g * G, (g + 1) * G): its G events, and the
 * annotations (allocations, frees, audit, uncaught) between event g * G - 1 and event
 * (g + 1) * G - 1. THREAD records are left out (an event carries its thread), so are
 * GEN, STARTUP_REUSE and DROP records and a text's BLOB and text records. A group ends with
 * its last event.
 *
 * The fingerprint: two 64-bit lanes, events (and audit, uncaught) and memory
 * (allocations, frees), each starting at its seed; a record's view is x = v0 * K1 ^ v1
 * with v0 = kind | (thread or size) << 8 and v1 = its compared payload (below), and it
 * goes into its lane as h = rotl64(h ^ x, 23) * K2. The group's value is
 * (fmix64(events) >> 32) | (fmix64(memory) >> 32) << 32 (fmix64: MurmurHash3's
 * finaliser). Not a cryptographic hash: it finds a replay that went another way, not a
 * forged trace (a forger writes the log the check compares against anyway).
 */
#ifndef RW_FPRINT_H
#define RW_FPRINT_H

#include <stdint.h>

#include "records.h"

#define RW_FP_GROUP 2048u /* events per group, as written; a trace says its own */
#define RW_FP_K1 UINT64_C(0x9E3779B97F4A7C15)
#define RW_FP_K2 UINT64_C(0xC2B2AE3D27D4EB4F)
#define RW_FP_SEED_EV UINT64_C(0x243F6A8885A308D3)
#define RW_FP_SEED_MEM UINT64_C(0x13198A2E03707344)

typedef struct rw_fp {
    uint64_t ev, mem;
} rw_fp;

/* Per kind: which part of w1 is compared, whether the thread is, and the size. */
static const uint64_t rw_fp_w1_mask[RW_KIND_MAX] = {
    [RW_K_CALL] = UINT64_MAX,          [RW_K_LINE] = UINT32_MAX,
    [RW_K_EXCEPTION] = UINT32_MAX,     [RW_K_C_CALL] = UINT32_MAX,
    [RW_K_ALLOC_RAW] = UINT64_MAX,     [RW_K_ALLOC_MEM] = UINT64_MAX,
    [RW_K_ALLOC_OBJ] = UINT64_MAX,     [RW_K_FREE_RAW] = UINT64_MAX,
    [RW_K_FREE_MEM] = UINT64_MAX,      [RW_K_FREE_OBJ] = UINT64_MAX,
    [RW_K_AUDIT] = UINT32_MAX,         [RW_K_UNCAUGHT] = UINT32_MAX,
};
static const uint64_t rw_fp_thread_mask[RW_KIND_MAX] = {
    [RW_K_CALL] = UINT32_MAX,      [RW_K_LINE] = UINT32_MAX,      [RW_K_RETURN] = UINT32_MAX,
    [RW_K_EXCEPTION] = UINT32_MAX, [RW_K_C_CALL] = UINT32_MAX,    [RW_K_C_RETURN] = UINT32_MAX,
    [RW_K_C_EXCEPTION] = UINT32_MAX,
};
static const uint64_t rw_fp_size_mask[RW_KIND_MAX] = {
    [RW_K_ALLOC_RAW] = UINT64_MAX, [RW_K_ALLOC_MEM] = UINT64_MAX, [RW_K_ALLOC_OBJ] = UINT64_MAX,
};

static inline void rw_fp_reset(rw_fp *s)
{
    s->ev = RW_FP_SEED_EV;
    s->mem = RW_FP_SEED_MEM;
}

/* The view of raw record (w0, w1) of kind k (not THREAD, BLOB or text), made while
 * thread was current. */
static inline uint64_t rw_fp_view(unsigned k, uint32_t thread, uint64_t w0, uint64_t w1)
{
    uint64_t v0 = (uint64_t)k | (((uint64_t)thread & rw_fp_thread_mask[k]) |
                                 (RW_REC_HI(w0) & rw_fp_size_mask[k]))
                                    << 8;
    return v0 * RW_FP_K1 ^ (w1 & rw_fp_w1_mask[k]);
}

static inline uint64_t rw_fp_step(uint64_t h, uint64_t x)
{
    h ^= x;
    return ((h << 23) | (h >> 41)) * RW_FP_K2;
}

/* Adds a record's view to its lane (mem: an allocation or a free). Branch-free. */
static inline void rw_fp_add(rw_fp *s, int mem, uint64_t x)
{
    uint64_t e = rw_fp_step(s->ev, x), m = rw_fp_step(s->mem, x);
    s->ev = mem ? s->ev : e;
    s->mem = mem ? m : s->mem;
}

static inline uint64_t rw_fp_fmix(uint64_t h)
{
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    return h;
}

/* The group's fingerprint. */
static inline uint64_t rw_fp_value(const rw_fp *s)
{
    return (rw_fp_fmix(s->ev) >> 32) | (rw_fp_fmix(s->mem) >> 32) << 32;
}

/* The events' half of a fingerprint (what is compared when allocations are not). */
#define RW_FP_EVENTS(v) ((v) & UINT64_C(0xffffffff))

#endif
