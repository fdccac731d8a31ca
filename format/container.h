/* The trace file container: file header, frames and trailer (docs/format.md).
 *
 *   file    = header frame* trailer?
 *   header  = 32 bytes: magic "RWTRACE\0", u16 version, u16 header_len (32),
 *             u32 flags (0), u64 file_id, u32 reserved (0), u32 crc32c(bytes 0..27)
 *   frame   = 24-byte frame header, then `stored_len` payload bytes:
 *             u32 magic "RWFR", u8 type, u8 codec (0 raw, 1 zstd), u16 reserved (0),
 *             u32 stored_len, u32 raw_len, u32 crc32c(payload as stored),
 *             u32 crc32c(bytes 0..19 of the frame header)
 *   trailer = 16 bytes: u64 offset of the INDEX frame, u32 crc32c(those 8 bytes),
 *             magic "RWIX"
 * All integers little-endian. Payloads are protobuf messages of format/rewind.proto.
 * Only the writer thread and the reader call this module; no state is global.
 */
#ifndef RW_CONTAINER_H
#define RW_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define RW_FORMAT_VERSION 1
#define RW_MAGIC "RWTRACE\0"
#define RW_HEADER_LEN 32
#define RW_FRAME_HEADER_LEN 24
#define RW_TRAILER_LEN 16
#define RW_FRAME_MAGIC 0x52465752u   /* "RWFR" little-endian */
#define RW_TRAILER_MAGIC 0x58495752u /* "RWIX" little-endian */
/* No frame payload may exceed this, stored or raw: bounds every allocation a
 * reader makes for one frame. */
#define RW_FRAME_MAX (256u << 20)

enum rw_frame_type {
    RW_FRAME_METADATA = 1,
    RW_FRAME_DEFINITIONS = 2,
    RW_FRAME_CHUNK = 3,
    RW_FRAME_INDEX = 4,
    RW_FRAME_END = 5,
    RW_FRAME_CRASH = 6, /* crash, timeout and dump reports (rewind.CrashReport) */
    RW_FRAME_INPUTS = 7, /* input records (rewind.Inputs, format/inputs.h) */
};

enum rw_codec { RW_CODEC_RAW = 0, RW_CODEC_ZSTD = 1 };

/* Name of a frame type for messages ("chunk"); "unknown" when not known. */
const char *rw_frame_type_name(unsigned type);

/* CRC-32C (Castagnoli) of buf, continuing from crc (start with 0). */
uint32_t rw_crc32c(uint32_t crc, const void *buf, size_t len);

typedef struct rw_frame_header {
    uint8_t type;
    uint8_t codec;
    uint32_t stored_len;
    uint32_t raw_len;
    uint32_t payload_crc;
} rw_frame_header;

/* Encodes the 32-byte file header with a random-ish file id into out. */
void rw_header_encode(uint8_t out[RW_HEADER_LEN], uint64_t file_id);

/* Checks a file header. RW_ECORRUPT (not a trace, or damaged) or RW_EVERSION. */
rw_code rw_header_decode(const uint8_t in[RW_HEADER_LEN], uint64_t *file_id, rw_err *err);

/* Builds one frame: compresses payload with zstd at `level` (level 0 = store raw;
 * raw is also used when compression does not shrink it), then fills *out with a new
 * malloc'd buffer holding header + stored payload, and *out_len. Caller frees *out. */
rw_code rw_frame_build(unsigned type, const void *payload, size_t len, int level,
                       uint8_t **out, size_t *out_len, rw_err *err);

/* A frame builder that keeps its buffer and zstd context from one frame to the next:
 * once it has grown to the largest frame it allocates nothing (the writer thread builds
 * every frame in one; writer.c says why allocating there matters). Zero-initialise. */
typedef struct rw_frame_buf {
    uint8_t *buf;
    size_t cap;
    void *cctx; /* ZSTD_CCtx, made on first use */
} rw_frame_buf;

/* As rw_frame_build, into fb->buf (valid until the next call or rw_frame_buf_free). */
rw_code rw_frame_build_in(rw_frame_buf *fb, unsigned type, const void *payload, size_t len,
                          int level, size_t *out_len, rw_err *err);

/* Makes room for a frame of up to `len` payload bytes now (0 on success). */
int rw_frame_buf_reserve(rw_frame_buf *fb, size_t len, int level);

void rw_frame_buf_free(rw_frame_buf *fb);

/* Parses and checks a 24-byte frame header (magic, header CRC, bounds). */
rw_code rw_frame_header_decode(const uint8_t in[RW_FRAME_HEADER_LEN], rw_frame_header *h,
                               rw_err *err);

/* Checks the payload: its CRC, its codec, and for zstd that the frame's own header
 * agrees with the lengths, without decompressing. RW_ECORRUPT on any mismatch. */
rw_code rw_frame_payload_check(const rw_frame_header *h, const uint8_t *stored, rw_err *err);

/* Checks the payload CRC and decompresses it: *out gets a new malloc'd buffer of
 * h->raw_len bytes (caller frees). RW_ECORRUPT on any mismatch. */
rw_code rw_frame_payload_decode(const rw_frame_header *h, const uint8_t *stored,
                                uint8_t **out, rw_err *err);

/* Encodes / decodes the 16-byte trailer. */
void rw_trailer_encode(uint8_t out[RW_TRAILER_LEN], uint64_t index_offset);
rw_code rw_trailer_decode(const uint8_t in[RW_TRAILER_LEN], uint64_t *index_offset,
                          rw_err *err);

#endif
