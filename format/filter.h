/* Line filters: the Bloom filter an index entry holds of its chunk's (code, line)
 * pairs, so that a breakpoint search skips chunks without decoding them. The encoder
 * builds one per chunk (rw_filter_add, inline: it runs on LINE records), the reader's
 * recovery scan rebuilds lost ones, the timeline tests them. Stateless; thread-safe.
 */
#ifndef RW_FILTER_H
#define RW_FILTER_H

#include <stddef.h>
#include <stdint.h>

/* A Bloom filter of the (code, line) pairs of a chunk's LINE events (the code is the
 * innermost Python frame's, as the decoder reports it): a search for breakpoint
 * lines skips the chunks whose filter rules them out without decoding them. Its
 * length is a power of two from RW_FILTER_MIN to RW_FILTER_MAX bytes; each pair sets
 * RW_FILTER_PROBES bits (docs/format.md gives the hash). */
#define RW_FILTER_MIN 64
#define RW_FILTER_MAX 4096
#define RW_FILTER_PROBES 3

/* Building one: rw_filter_add puts a pair in a zeroed buffer of RW_FILTER_MAX bytes;
 * rw_filter_fold then halves it while it stays at most 3/8 full (about 5% false
 * positives), so that a chunk running few lines gets a small filter, and returns the
 * length of the filter, at the start of the buffer. */
size_t rw_filter_fold(uint8_t *f);

/* 1 when a filter of this length is well formed (else it must be ignored). */
int rw_filter_valid(size_t len);

/* 0 when LINE events at (code, line) are certainly not in the chunk, 1 when they
 * may be (always 1 for an absent or malformed filter). */
int rw_filter_may_have(const uint8_t *filter, size_t len, uint32_t code, uint32_t line);

/* The probes of (code, line): RW_FILTER_PROBES 21-bit numbers taken from one 64-bit
 * mix; a filter of B bits tests each probe modulo B (B a power of two, so that a
 * filter folds in half by OR-ing its halves). */
static inline uint64_t rw_filter_hash(uint32_t code, uint32_t line)
{
    uint64_t h = ((uint64_t)code << 32 | line) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return h;
}

/* Puts (code, line) in f, a zeroed buffer of RW_FILTER_MAX bytes. */
static inline void rw_filter_add(uint8_t *f, uint32_t code, uint32_t line)
{
    uint64_t h = rw_filter_hash(code, line);
    for (int i = 0; i < RW_FILTER_PROBES; i++, h >>= 21) {
        uint32_t bit = (uint32_t)h & (RW_FILTER_MAX * 8 - 1);
        f[bit >> 3] |= (uint8_t)(1u << (bit & 7));
    }
}

#endif
