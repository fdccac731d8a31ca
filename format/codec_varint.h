/* Varint and zigzag packing shared by the codec's files (private to format/): protobuf's
 * wire types, writing a varint, its size, and reading one from a column that
 * rw_chunk_decode has already checked (so the reads need no bounds). All static inline:
 * they run once per value on the encoder's and the decoder's hot paths.
 */
#ifndef RW_CODEC_VARINT_H
#define RW_CODEC_VARINT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define VARINT_MAX 10 /* bytes in the longest varint */

enum { WT_VARINT = 0, WT_64BIT = 1, WT_LEN = 2, WT_32BIT = 5 }; /* wire types */

static inline size_t varint_size(uint64_t x)
{
    size_t n = 1;
    while (x >= 0x80) {
        x >>= 7;
        n++;
    }
    return n;
}

/* Writes x as a protobuf varint at p; returns the end. */
static inline uint8_t *put_varint(uint8_t *p, uint64_t x)
{
    while (x >= 0x80) {
        *p++ = (uint8_t)(x | 0x80);
        x >>= 7;
    }
    *p++ = (uint8_t)x;
    return p;
}

/* protobuf's sint32 and sint64 (zigzag). */
static inline uint64_t zigzag32(int32_t x)
{
    return (uint32_t)(((uint32_t)x << 1) ^ (uint32_t)(x >> 31));
}

static inline uint64_t zigzag64(int64_t x)
{
    return ((uint64_t)x << 1) ^ (uint64_t)(x >> 63);
}

/* col_next for a varint of more than one byte. */
static inline uint64_t col_next_long(const uint8_t **pp)
{
    const uint8_t *p = *pp;
    uint64_t v = p[0] & 0x7f;
    unsigned i = 1;
    for (; p[i] & 0x80; i++)
        v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
    v |= (uint64_t)p[i] << (7 * i); /* i <= 9: checked at decode */
    *pp = p + i + 1;
    return v;
}

/* Next value of a checked column, modulo 2^64; the caller knows one is left. */
static inline uint64_t col_next(const uint8_t **pp)
{
    const uint8_t *p = *pp;
    if (RW_LIKELY(p[0] < 0x80)) {
        *pp = p + 1;
        return p[0];
    }
    return col_next_long(pp);
}

static inline int32_t unzigzag32(uint64_t v)
{
    uint32_t u = (uint32_t)v;
    return (int32_t)((u >> 1) ^ (0u - (u & 1)));
}

static inline int64_t unzigzag64(uint64_t v)
{
    return (int64_t)((v >> 1) ^ (0 - (v & 1)));
}

#endif
