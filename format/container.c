/* The trace file container: file header, frames, trailer and CRC-32C (container.h).
 *
 * Everything here is a pure function of its arguments except the CRC tables, which
 * are built once (pthread_once) and read-only afterwards, so the writer thread and
 * any number of reader threads may call in concurrently. Every length taken from
 * input is checked against RW_FRAME_MAX before it sizes an allocation.
 */
#include "container.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_customMem: exported by libzstd.so */
#include <zstd.h>

#include "alloc.h"

/* ---- little-endian helpers ------------------------------------------------------ */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* ---- CRC-32C (Castagnoli), slice-by-8 ---------------------------------------------
 * Reflected polynomial 0x82F63B78, initial value and final xor 0xFFFFFFFF, as in
 * iSCSI and ext4: rw_crc32c(0, "123456789", 9) == 0xE3069283. crc_table[0] is the
 * classic byte-at-a-time table; crc_table[k][b] is the CRC of byte b followed by k
 * zero bytes, which lets the main loop consume eight bytes per step. */

#define CRC32C_POLY 0x82F63B78u

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
        crc_table[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = crc_table[0][n];
        for (int k = 1; k < 8; k++) {
            c = crc_table[0][c & 0xff] ^ (c >> 8);
            crc_table[k][n] = c;
        }
    }
}

uint32_t rw_crc32c(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    pthread_once(&crc_once, crc_init);
    crc = ~crc;
    while (len && ((uintptr_t)p & 7)) {
        crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
        len--;
    }
    while (len >= 8) {
        /* Assemble the words bytewise: no alignment or endianness assumption, and
         * compilers turn this into plain loads on little-endian targets. */
        uint32_t lo = get32(p) ^ crc;
        uint32_t hi = get32(p + 4);
        crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
              crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
              crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
              crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* ---- names ---------------------------------------------------------------------- */

const char *rw_frame_type_name(unsigned type)
{
    switch (type) {
    case RW_FRAME_METADATA: return "metadata";
    case RW_FRAME_DEFINITIONS: return "definitions";
    case RW_FRAME_CHUNK: return "chunk";
    case RW_FRAME_INDEX: return "index";
    case RW_FRAME_END: return "end";
    case RW_FRAME_CRASH: return "crash";
    case RW_FRAME_INPUTS: return "inputs";
    }
    return "unknown";
}

/* ---- file header ---------------------------------------------------------------- */

void rw_header_encode(uint8_t out[RW_HEADER_LEN], uint64_t file_id)
{
    memset(out, 0, RW_HEADER_LEN);
    memcpy(out, RW_MAGIC, 8);
    put16(out + 8, RW_FORMAT_VERSION);
    put16(out + 10, RW_HEADER_LEN);
    put32(out + 12, 0);
    put64(out + 16, file_id);
    put32(out + 24, 0);
    put32(out + 28, rw_crc32c(0, out, 28));
}

rw_code rw_header_decode(const uint8_t in[RW_HEADER_LEN], uint64_t *file_id, rw_err *err)
{
    if (memcmp(in, RW_MAGIC, 8) != 0)
        return rw_err_set(err, RW_ECORRUPT, "not a rewind trace (bad magic)");
    unsigned version = get16(in + 8);
    /* Every version keeps these 32 bytes and their CRC (docs/format.md): a header that
     * fails it is damaged, whatever version it names; one that passes it and names
     * another version was written by another rewind. */
    if (get32(in + 28) != rw_crc32c(0, in, 28))
        return rw_err_set(err, RW_ECORRUPT,
                          version != RW_FORMAT_VERSION
                              ? "not a rewind trace, or its header is damaged (bad CRC; it "
                                "says format version %u)"
                              : "damaged file header (bad CRC)",
                          version);
    if (version != RW_FORMAT_VERSION)
        return rw_err_set(err, RW_EVERSION,
                          "trace format version %u, written by %s rewind; this one reads "
                          "version %u", version, version > RW_FORMAT_VERSION ? "a newer" : "an older",
                          RW_FORMAT_VERSION);
    if (get16(in + 10) != RW_HEADER_LEN || get32(in + 12) != 0 || get32(in + 24) != 0)
        return rw_err_set(err, RW_ECORRUPT,
                          "damaged file header (header length %u, flags %#x, reserved %#x)",
                          (unsigned)get16(in + 10), (unsigned)get32(in + 12),
                          (unsigned)get32(in + 24));
    if (file_id)
        *file_id = get64(in + 16);
    return RW_OK;
}

/* ---- frames --------------------------------------------------------------------- */

/* zstd allocates its compression workspace through the writer's allocator, so that
 * a workspace that grows on the crash path follows alloc.h's rule (rw_alloc_dying). */
static void *zstd_alloc(void *opaque, size_t size)
{
    (void)opaque;
    return rw_malloc(size);
}

static void zstd_free(void *opaque, void *p)
{
    (void)opaque;
    rw_free(p);
}

static const ZSTD_customMem zstd_mem = {zstd_alloc, zstd_free, NULL};

static void frame_header_encode(uint8_t *out, unsigned type, unsigned codec, uint32_t stored_len,
                                uint32_t raw_len, uint32_t payload_crc)
{
    put32(out, RW_FRAME_MAGIC);
    out[4] = (uint8_t)type;
    out[5] = (uint8_t)codec;
    put16(out + 6, 0);
    put32(out + 8, stored_len);
    put32(out + 12, raw_len);
    put32(out + 16, payload_crc);
    put32(out + 20, rw_crc32c(0, out, 20));
}

static size_t frame_cap(size_t len, int level)
{
    return RW_FRAME_HEADER_LEN + (level > 0 ? ZSTD_compressBound(len) : len);
}

int rw_frame_buf_reserve(rw_frame_buf *fb, size_t len, int level)
{
    if (level > 0 && !fb->cctx && !(fb->cctx = ZSTD_createCCtx_advanced(zstd_mem)))
        return -1;
    size_t cap = frame_cap(len, level);
    if (cap <= fb->cap)
        return 0;
    uint8_t *b = rw_realloc(fb->buf, cap);
    if (!b)
        return -1;
    fb->buf = b;
    fb->cap = cap;
    return 0;
}

void rw_frame_buf_free(rw_frame_buf *fb)
{
    rw_free(fb->buf);
    ZSTD_freeCCtx(fb->cctx);
    memset(fb, 0, sizeof *fb);
}

rw_code rw_frame_build_in(rw_frame_buf *fb, unsigned type, const void *payload, size_t len,
                          int level, size_t *out_len, rw_err *err)
{
    if (type == 0 || type > 255)
        return rw_err_set(err, RW_EINVAL, "frame type %u out of range", type);
    if (len > RW_FRAME_MAX)
        return rw_err_set(err, RW_EINVAL, "%s frame payload of %zu bytes exceeds the %u-byte limit",
                          rw_frame_type_name(type), len, RW_FRAME_MAX);
    if (rw_frame_buf_reserve(fb, len, level) != 0)
        return rw_err_set(err, RW_ENOMEM, "out of memory building a %zu-byte %s frame", len,
                          rw_frame_type_name(type));
    uint8_t *buf = fb->buf;
    size_t cap = fb->cap;
    unsigned codec = RW_CODEC_RAW;
    size_t stored = len;
    if (level > 0 && len > 0) {
        size_t z = ZSTD_compressCCtx(fb->cctx, buf + RW_FRAME_HEADER_LEN,
                                     cap - RW_FRAME_HEADER_LEN, payload, len, level);
        if (ZSTD_isError(z))
            return rw_err_set(err, RW_ENOMEM, "zstd: %s", ZSTD_getErrorName(z));
        if (z < len) {
            codec = RW_CODEC_ZSTD;
            stored = z;
        }
    }
    if (codec == RW_CODEC_RAW && len)
        memcpy(buf + RW_FRAME_HEADER_LEN, payload, len);
    frame_header_encode(buf, type, codec, (uint32_t)stored, (uint32_t)len,
                        rw_crc32c(0, buf + RW_FRAME_HEADER_LEN, stored));
    *out_len = RW_FRAME_HEADER_LEN + stored;
    return RW_OK;
}

rw_code rw_frame_build(unsigned type, const void *payload, size_t len, int level,
                       uint8_t **out, size_t *out_len, rw_err *err)
{
    rw_frame_buf fb = {0};
    rw_code rc = rw_frame_build_in(&fb, type, payload, len, level, out_len, err);
    ZSTD_freeCCtx(fb.cctx);
    if (rc != RW_OK) {
        rw_free(fb.buf);
        return rc;
    }
    *out = fb.buf; /* at least the header: never NULL on success */
    return RW_OK;
}

rw_code rw_frame_header_decode(const uint8_t in[RW_FRAME_HEADER_LEN], rw_frame_header *h,
                               rw_err *err)
{
    if (get32(in) != RW_FRAME_MAGIC)
        return rw_err_set(err, RW_ECORRUPT, "bad frame magic");
    if (get32(in + 20) != rw_crc32c(0, in, 20))
        return rw_err_set(err, RW_ECORRUPT, "bad frame header CRC");
    unsigned codec = in[5];
    uint32_t stored_len = get32(in + 8), raw_len = get32(in + 12);
    if (get16(in + 6) != 0)
        return rw_err_set(err, RW_ECORRUPT, "nonzero reserved bits in frame header");
    if (codec != RW_CODEC_RAW && codec != RW_CODEC_ZSTD)
        return rw_err_set(err, RW_ECORRUPT, "unknown payload codec %u", codec);
    if (stored_len > RW_FRAME_MAX || raw_len > RW_FRAME_MAX)
        return rw_err_set(err, RW_ECORRUPT,
                          "frame length %u (raw %u) exceeds the %u-byte limit", stored_len,
                          raw_len, RW_FRAME_MAX);
    if (codec == RW_CODEC_RAW && stored_len != raw_len)
        return rw_err_set(err, RW_ECORRUPT, "raw frame with stored length %u but raw length %u",
                          stored_len, raw_len);
    h->type = in[4];
    h->codec = (uint8_t)codec;
    h->stored_len = stored_len;
    h->raw_len = raw_len;
    h->payload_crc = get32(in + 16);
    return RW_OK;
}

rw_code rw_frame_payload_check(const rw_frame_header *h, const uint8_t *stored, rw_err *err)
{
    /* The header may come from a caller that did not use rw_frame_header_decode:
     * re-check the bounds that size the allocation. */
    if (h->stored_len > RW_FRAME_MAX || h->raw_len > RW_FRAME_MAX)
        return rw_err_set(err, RW_ECORRUPT, "frame length exceeds the %u-byte limit",
                          RW_FRAME_MAX);
    uint32_t crc = rw_crc32c(0, stored, h->stored_len);
    if (crc != h->payload_crc)
        return rw_err_set(err, RW_ECORRUPT, "bad CRC (stored %08x, computed %08x)",
                          h->payload_crc, crc);
    if (h->codec == RW_CODEC_RAW) {
        if (h->stored_len != h->raw_len)
            return rw_err_set(err, RW_ECORRUPT, "raw frame with stored length %u but raw length %u",
                              h->stored_len, h->raw_len);
    } else if (h->codec == RW_CODEC_ZSTD) {
        unsigned long long csize = ZSTD_getFrameContentSize(stored, h->stored_len);
        if (csize == ZSTD_CONTENTSIZE_ERROR || csize == ZSTD_CONTENTSIZE_UNKNOWN)
            return rw_err_set(err, RW_ECORRUPT, "bad zstd frame (no content size)");
        if (csize != h->raw_len)
            return rw_err_set(err, RW_ECORRUPT, "zstd content size %llu, frame says %u", csize,
                              h->raw_len);
        size_t zlen = ZSTD_findFrameCompressedSize(stored, h->stored_len);
        if (ZSTD_isError(zlen) || zlen != h->stored_len)
            return rw_err_set(err, RW_ECORRUPT, "zstd frame does not fill the payload");
    } else {
        return rw_err_set(err, RW_ECORRUPT, "unknown payload codec %u", h->codec);
    }
    return RW_OK;
}

rw_code rw_frame_payload_decode(const rw_frame_header *h, const uint8_t *stored, uint8_t **out,
                                rw_err *err)
{
    RW_TRY(rw_frame_payload_check(h, stored, err));
    uint8_t *buf = rw_malloc(h->raw_len ? h->raw_len : 1);
    if (!buf)
        return rw_err_set(err, RW_ENOMEM, "out of memory for a %u-byte frame payload",
                          h->raw_len);
    if (h->codec == RW_CODEC_RAW) {
        if (h->raw_len)
            memcpy(buf, stored, h->raw_len);
    } else {
        size_t n = ZSTD_decompress(buf, h->raw_len, stored, h->stored_len);
        if (ZSTD_isError(n) || n != h->raw_len) {
            rw_code rc = rw_err_set(err, RW_ECORRUPT, "zstd: %s",
                                    ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short payload");
            rw_free(buf);
            return rc;
        }
    }
    *out = buf;
    return RW_OK;
}

/* ---- trailer -------------------------------------------------------------------- */

void rw_trailer_encode(uint8_t out[RW_TRAILER_LEN], uint64_t index_offset)
{
    put64(out, index_offset);
    put32(out + 8, rw_crc32c(0, out, 8));
    put32(out + 12, RW_TRAILER_MAGIC);
}

rw_code rw_trailer_decode(const uint8_t in[RW_TRAILER_LEN], uint64_t *index_offset,
                          rw_err *err)
{
    if (get32(in + 12) != RW_TRAILER_MAGIC)
        return rw_err_set(err, RW_ECORRUPT, "no trailer (the recording was cut short?)");
    if (get32(in + 8) != rw_crc32c(0, in, 8))
        return rw_err_set(err, RW_ECORRUPT, "bad trailer CRC");
    *index_offset = get64(in);
    return RW_OK;
}
