/* Growable columns (private to format/): the arrays the encoder appends a chunk's
 * values to, and the decoder its allocation addresses. Growing is out of line (rare),
 * pushing inline (once per value). A push returns -1 when the column cannot grow
 * (out of memory) and leaves it as it was.
 */
#ifndef RW_CODEC_COLUMN_H
#define RW_CODEC_COLUMN_H

#include <stdlib.h>

#include "alloc.h"
#include "codec_varint.h"
#include "rewind.pb-c.h"

/* COLUMN(T, name): a type `name` holding n values of T (v[0..n), room for cap), with
 * name_push(c, x). */
#define COLUMN(T, name)                                                        \
    typedef struct name {                                                      \
        T *v;                                                                  \
        size_t n, cap;                                                         \
    } name;                                                                    \
    __attribute__((noinline, unused)) static int name##_grow(name *c)                  \
    {                                                                          \
        size_t cap = c->cap ? c->cap * 2 : 1024;                               \
        T *v = rw_realloc(c->v, cap * sizeof *v);                                 \
        if (!v)                                                                \
            return -1;                                                         \
        c->v = v;                                                              \
        c->cap = cap;                                                          \
        return 0;                                                              \
    }                                                                          \
    static inline int name##_push(name *c, T x)                                \
    {                                                                          \
        if (RW_UNLIKELY(c->n == c->cap) && name##_grow(c) < 0)                 \
            return -1;                                                         \
        c->v[c->n++] = x;                                                      \
        return 0;                                                              \
    }

COLUMN(uint8_t, col_u8)
COLUMN(uint64_t, col_u64)
COLUMN(ProtobufCBinaryData, col_bin)

/* A packed repeated varint field of the chunk, kept in wire form: the bytes that
 * follow the field's tag and length. Encoding at push time makes packing a chunk
 * a copy (protobuf-c sized and then encoded every value again, 16% of the writer
 * thread on mix.py). */
typedef struct col_vb {
    uint8_t *v;
    size_t n, cap; /* bytes */
} col_vb;

__attribute__((noinline, unused)) static int col_vb_grow(col_vb *c)
{
    size_t cap = c->cap ? c->cap * 2 : 4096;
    uint8_t *v = rw_realloc(c->v, cap);
    if (!v)
        return -1;
    c->v = v;
    c->cap = cap;
    return 0;
}

static inline int col_vb_push(col_vb *c, uint64_t x)
{
    if (RW_UNLIKELY(c->cap - c->n < VARINT_MAX) && col_vb_grow(c) < 0)
        return -1;
    c->n = (size_t)(put_varint(c->v + c->n, x) - c->v);
    return 0;
}

/* protobuf's sint32 and sint64 (zigzag). */
static inline int col_vb_push_s32(col_vb *c, int32_t x)
{
    return col_vb_push(c, zigzag32(x));
}

static inline int col_vb_push_s64(col_vb *c, int64_t x)
{
    return col_vb_push(c, zigzag64(x));
}

#endif
