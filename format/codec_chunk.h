/* A decoded chunk's layout (private to format/): what rw_chunk_decode (chunk.c) builds
 * from a Chunk payload and the decoder (decoder.c) reads. Invariants, established by
 * rw_chunk_decode: each varint column holds exactly n values of at most 10 bytes in
 * len bytes, and n agrees with the kinds column (so col_next needs no bounds); every
 * kind is one rewind.proto defines for files; texts are as many as their kinds.
 */
#ifndef RW_CODEC_CHUNK_H
#define RW_CODEC_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "rewind.pb-c.h"

/* Allocator (for protobuf-c's keyframes and chunk_parse's arrays) that refuses to go
 * past a budget, so that a hostile chunk cannot make the decoder allocate without
 * bound. Each block carries its size. */
typedef struct budget {
    size_t used, cap;
} budget;

/* Varint columns of a Chunk, by the order the decoder keeps its read pointers. */
enum {
    C_TIME, C_CALL_CODE, C_CALL_LINE, C_LINE_DELTA, C_CFUNC, C_EXC_TYPE, C_ALLOC_SIZE,
    C_ADDR_DELTA, C_ADDR_LOW, C_SWITCH, C_AUDIT_NAME, C_ALLOC_REF, C_FREE_REF, C_GEN, C_DROP, NCOL
};

/* A column as stored: n varints of at most 10 bytes each, back to back, in len
 * bytes (checked by rw_chunk_decode, so col_next needs no bounds). */
typedef struct vcol {
    const uint8_t *p;
    size_t len, n;
} vcol;

/* A bytes value of a repeated field; p is NULL when len is 0 (as protobuf-c has it). */
typedef struct ctext {
    const uint8_t *p;
    size_t len;
} ctext;

struct rw_chunk {
    uint8_t *buf;   /* the payload (owned): kinds, columns and texts point into it */
    uint8_t *cat;   /* columns given in several pieces, each made contiguous (owned) */
    uint64_t first_event, first_tick;
    uint32_t thread;
    int untimed_lines;
    const uint8_t *kinds;
    size_t nkinds;
    vcol col[NCOL];
    ctext *exc_message, *audit_args;
    size_t n_exc_message, n_audit_args;
    Rewind__ThreadStack **keyframe; /* unpacked by protobuf-c, under bud */
    size_t n_keyframe;
    rw_chunk_info info;
    budget bud;
    ProtobufCAllocator alloc;
};

#endif
