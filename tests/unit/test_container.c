/* Check suite for format/container.c: CRC-32C, file header, frames, trailer. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <malloc.h>
#include <pthread.h>

#include "alloc.h"
#include "container.h"
#include "testutil.h"

/* ---- CRC-32C -------------------------------------------------------------------- */

START_TEST(crc_known_vectors)
{
    ck_assert_uint_eq(rw_crc32c(0, "123456789", 9), 0xE3069283u);
    ck_assert_uint_eq(rw_crc32c(0, "", 0), 0);
    /* RFC 3720 B.4: 32 bytes of zeros, of 0xff, and an ascending sequence. */
    uint8_t buf[32];
    memset(buf, 0, sizeof buf);
    ck_assert_uint_eq(rw_crc32c(0, buf, 32), 0x8A9136AAu);
    memset(buf, 0xff, sizeof buf);
    ck_assert_uint_eq(rw_crc32c(0, buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    ck_assert_uint_eq(rw_crc32c(0, buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(31 - i);
    ck_assert_uint_eq(rw_crc32c(0, buf, 32), 0x113FDB5Cu);
}
END_TEST

/* Every split point, every alignment: the slice-by-8 loop and its byte-wise head
 * and tail must agree with a plain bitwise CRC. */
static uint32_t crc_bitwise(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return ~c;
}

START_TEST(crc_split_and_alignment)
{
    uint8_t buf[300];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    for (size_t start = 0; start < 9; start++) {
        for (size_t len = 0; len + start <= 100; len++) {
            uint32_t want = crc_bitwise(buf + start, len);
            ck_assert_uint_eq(rw_crc32c(0, buf + start, len), want);
            size_t cut = len / 3;
            uint32_t c = rw_crc32c(0, buf + start, cut);
            ck_assert_uint_eq(rw_crc32c(c, buf + start + cut, len - cut), want);
        }
    }
    ck_assert_uint_eq(rw_crc32c(0, buf, sizeof buf), crc_bitwise(buf, sizeof buf));
}
END_TEST

/* ---- header --------------------------------------------------------------------- */

START_TEST(header_round_trip)
{
    uint8_t h[RW_HEADER_LEN];
    rw_header_encode(h, 0x0123456789abcdefull);
    ck_assert_mem_eq(h, "RWTRACE\0", 8);
    ck_assert_uint_eq(h[8] | h[9] << 8, RW_FORMAT_VERSION);
    ck_assert_uint_eq(h[10], RW_HEADER_LEN);
    uint64_t id = 0;
    rw_err err = {0};
    ck_assert_int_eq(rw_header_decode(h, &id, &err), RW_OK);
    ck_assert(id == 0x0123456789abcdefull);
}
END_TEST

START_TEST(header_errors)
{
    uint8_t h[RW_HEADER_LEN], bad[RW_HEADER_LEN];
    uint64_t id = 7;
    rw_err err = {0};
    rw_header_encode(h, 42);

    memcpy(bad, h, sizeof h);
    bad[0] = 'X';
    ck_assert_int_eq(rw_header_decode(bad, &id, &err), RW_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(err.msg, "not a rewind trace"));

    memcpy(bad, h, sizeof h);
    bad[8] = 2; /* version 2, written by a newer rewind: the same 32 bytes, a valid CRC */
    uint32_t crc = rw_crc32c(0, bad, 28);
    memcpy(bad + 28, &crc, 4); /* little-endian, as the header stores it */
    ck_assert_int_eq(rw_header_decode(bad, &id, &err), RW_EVERSION);
    ck_assert_ptr_nonnull(strstr(err.msg, "version 2"));
    ck_assert_ptr_nonnull(strstr(err.msg, "newer"));

    /* The magic but a damaged header that names another version is no trace of a
     * newer rewind: "version 47978" would mislead. */
    memcpy(bad, h, sizeof h);
    bad[8] = 0x6a;
    bad[9] = 0xbb;
    ck_assert_int_eq(rw_header_decode(bad, &id, &err), RW_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(err.msg, "not a rewind trace, or its header is damaged"));

    /* Every single-bit flip outside the magic and version is caught by the CRC. */
    for (int byte = 10; byte < RW_HEADER_LEN; byte++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(bad, h, sizeof h);
            bad[byte] ^= (uint8_t)(1u << bit);
            ck_assert_int_eq(rw_header_decode(bad, &id, &err), RW_ECORRUPT);
        }
    }
    ck_assert(id == 7); /* untouched on failure */
}
END_TEST

/* ---- frames --------------------------------------------------------------------- */

static void round_trip(const void *payload, size_t len, int level, unsigned want_codec)
{
    uint8_t *frame = NULL;
    size_t flen = 0;
    rw_err err = {0};
    ck_assert_int_eq(rw_frame_build(RW_FRAME_CHUNK, payload, len, level, &frame, &flen, &err),
                     RW_OK);
    rw_frame_header h;
    ck_assert_int_eq(rw_frame_header_decode(frame, &h, &err), RW_OK);
    ck_assert_uint_eq(h.type, RW_FRAME_CHUNK);
    ck_assert_uint_eq(h.codec, want_codec);
    ck_assert_uint_eq(h.raw_len, len);
    ck_assert_uint_eq(flen, RW_FRAME_HEADER_LEN + h.stored_len);
    uint8_t *out = NULL;
    ck_assert_int_eq(rw_frame_payload_decode(&h, frame + RW_FRAME_HEADER_LEN, &out, &err), RW_OK);
    if (len)
        ck_assert_mem_eq(out, payload, len);
    free(out);
    free(frame);
}

START_TEST(frame_round_trip_codecs)
{
    size_t n = 100000;
    uint8_t *text = malloc(n), *noise = malloc(n);
    uint32_t x = 1;
    for (size_t i = 0; i < n; i++) {
        text[i] = (uint8_t)("line 12 of x.py\n"[i % 16]);
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise[i] = (uint8_t)x;
    }
    round_trip(text, n, 3, RW_CODEC_ZSTD);
    round_trip(text, n, 0, RW_CODEC_RAW);
    round_trip(noise, n, 3, RW_CODEC_RAW); /* incompressible: stored raw */
    round_trip("", 0, 3, RW_CODEC_RAW);
    round_trip("", 0, 0, RW_CODEC_RAW);
    round_trip("a", 1, 19, RW_CODEC_RAW);
    free(text);
    free(noise);
}
END_TEST

START_TEST(frame_build_rejects)
{
    uint8_t *frame = NULL;
    size_t flen = 0;
    rw_err err = {0};
    ck_assert_int_eq(rw_frame_build(0, "x", 1, 0, &frame, &flen, &err), RW_EINVAL);
    ck_assert_int_eq(rw_frame_build(256, "x", 1, 0, &frame, &flen, &err), RW_EINVAL);
    ck_assert_int_eq(rw_frame_build(RW_FRAME_CHUNK, "x", (size_t)RW_FRAME_MAX + 1, 0, &frame,
                                    &flen, &err),
                     RW_EINVAL);
    ck_assert_ptr_null(frame);
}
END_TEST

START_TEST(frame_corruption)
{
    char payload[4096];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (char)("abcabcabd"[i % 9]);
    uint8_t *frame = NULL;
    size_t flen = 0;
    rw_err err = {0};
    ck_assert_int_eq(rw_frame_build(RW_FRAME_DEFINITIONS, payload, sizeof payload, 3, &frame,
                                    &flen, &err),
                     RW_OK);
    rw_frame_header h;
    /* Any bit flip in the header is caught (magic, CRC or bounds). */
    for (int byte = 0; byte < RW_FRAME_HEADER_LEN; byte++) {
        for (int bit = 0; bit < 8; bit++) {
            frame[byte] ^= (uint8_t)(1u << bit);
            ck_assert_int_eq(rw_frame_header_decode(frame, &h, &err), RW_ECORRUPT);
            frame[byte] ^= (uint8_t)(1u << bit);
        }
    }
    ck_assert_int_eq(rw_frame_header_decode(frame, &h, &err), RW_OK);
    /* Any flip in the payload is caught by its CRC. */
    uint8_t *out = NULL;
    for (size_t byte = RW_FRAME_HEADER_LEN; byte < flen; byte++) {
        frame[byte] ^= 0x10;
        ck_assert_int_eq(rw_frame_payload_decode(&h, frame + RW_FRAME_HEADER_LEN, &out, &err),
                         RW_ECORRUPT);
        ck_assert_ptr_nonnull(strstr(err.msg, "bad CRC"));
        frame[byte] ^= 0x10;
    }
    ck_assert_ptr_null(out);

    /* A header that lies about the raw length (CRCs recomputed by an attacker) is
     * caught by the zstd content size. */
    rw_frame_header lie = h;
    lie.raw_len = h.raw_len + 1;
    ck_assert_int_eq(rw_frame_payload_decode(&lie, frame + RW_FRAME_HEADER_LEN, &out, &err),
                     RW_ECORRUPT);
    lie.raw_len = RW_FRAME_MAX + 1u;
    ck_assert_int_eq(rw_frame_payload_decode(&lie, frame + RW_FRAME_HEADER_LEN, &out, &err),
                     RW_ECORRUPT);
    /* A stored length shorter than the zstd frame. */
    lie = h;
    lie.stored_len = h.stored_len - 1;
    lie.payload_crc = rw_crc32c(0, frame + RW_FRAME_HEADER_LEN, lie.stored_len);
    ck_assert_int_eq(rw_frame_payload_decode(&lie, frame + RW_FRAME_HEADER_LEN, &out, &err),
                     RW_ECORRUPT);
    /* An unknown codec. */
    lie = h;
    lie.codec = 7;
    ck_assert_int_eq(rw_frame_payload_decode(&lie, frame + RW_FRAME_HEADER_LEN, &out, &err),
                     RW_ECORRUPT);
    ck_assert_ptr_null(out);
    free(frame);
}
END_TEST

/* A header whose fields are out of bounds but whose CRC is valid. */
static void forge_header(uint8_t *hb, unsigned codec, uint32_t stored, uint32_t raw)
{
    hb[0] = 'R';
    hb[1] = 'W';
    hb[2] = 'F';
    hb[3] = 'R';
    hb[4] = RW_FRAME_CHUNK;
    hb[5] = (uint8_t)codec;
    hb[6] = hb[7] = 0;
    for (int i = 0; i < 4; i++) {
        hb[8 + i] = (uint8_t)(stored >> (8 * i));
        hb[12 + i] = (uint8_t)(raw >> (8 * i));
        hb[16 + i] = 0;
    }
    uint32_t c = rw_crc32c(0, hb, 20);
    for (int i = 0; i < 4; i++)
        hb[20 + i] = (uint8_t)(c >> (8 * i));
}

START_TEST(frame_header_bounds)
{
    uint8_t hb[RW_FRAME_HEADER_LEN];
    rw_frame_header h;
    rw_err err = {0};
    forge_header(hb, RW_CODEC_ZSTD, 10, 100);
    ck_assert_int_eq(rw_frame_header_decode(hb, &h, &err), RW_OK);
    forge_header(hb, RW_CODEC_ZSTD, RW_FRAME_MAX + 1u, 100);
    ck_assert_int_eq(rw_frame_header_decode(hb, &h, &err), RW_ECORRUPT);
    forge_header(hb, RW_CODEC_ZSTD, 10, RW_FRAME_MAX + 1u);
    ck_assert_int_eq(rw_frame_header_decode(hb, &h, &err), RW_ECORRUPT);
    forge_header(hb, RW_CODEC_RAW, 10, 11);
    ck_assert_int_eq(rw_frame_header_decode(hb, &h, &err), RW_ECORRUPT);
    forge_header(hb, 2, 10, 10);
    ck_assert_int_eq(rw_frame_header_decode(hb, &h, &err), RW_ECORRUPT);
    forge_header(hb, RW_CODEC_RAW, RW_FRAME_MAX, RW_FRAME_MAX);
    ck_assert_int_eq(rw_frame_header_decode(hb, &h, &err), RW_OK);
}
END_TEST

/* ---- trailer and names ---------------------------------------------------------- */

START_TEST(trailer_round_trip_and_errors)
{
    uint8_t t[RW_TRAILER_LEN];
    uint64_t off = 0;
    rw_err err = {0};
    rw_trailer_encode(t, 0x1122334455ull);
    ck_assert_int_eq(rw_trailer_decode(t, &off, &err), RW_OK);
    ck_assert(off == 0x1122334455ull);
    ck_assert_mem_eq(t + 12, "RWIX", 4);
    for (int byte = 0; byte < RW_TRAILER_LEN; byte++) {
        t[byte] ^= 4;
        off = 9;
        ck_assert_int_eq(rw_trailer_decode(t, &off, &err), RW_ECORRUPT);
        ck_assert(off == 9);
        t[byte] ^= 4;
    }
}
END_TEST

START_TEST(frame_type_names)
{
    ck_assert_str_eq(rw_frame_type_name(RW_FRAME_METADATA), "metadata");
    ck_assert_str_eq(rw_frame_type_name(RW_FRAME_DEFINITIONS), "definitions");
    ck_assert_str_eq(rw_frame_type_name(RW_FRAME_CHUNK), "chunk");
    ck_assert_str_eq(rw_frame_type_name(RW_FRAME_INDEX), "index");
    ck_assert_str_eq(rw_frame_type_name(RW_FRAME_END), "end");
    ck_assert_str_eq(rw_frame_type_name(RW_FRAME_CRASH), "crash");
    ck_assert_str_eq(rw_frame_type_name(0), "unknown");
    ck_assert_str_eq(rw_frame_type_name(200), "unknown");
}
END_TEST

/* zstd's context and workspace come from the writer's allocator (alloc.h), so that
 * they follow its rules on the crash path: with every allocation failing, a compressed
 * frame cannot be built (libc's malloc would have made the workspace anyway). */
START_TEST(frame_zstd_uses_the_writer_allocator)
{
    uint8_t payload[4096];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i % 7);
    rw_frame_buf fb = {0};
    size_t len = 0;
    rw_err err = {0};
    /* The context and the buffer now; zstd's workspace at the first compression. */
    ck_assert_int_eq(rw_frame_buf_reserve(&fb, sizeof payload, 3), 0);
    rw_alloc_fail_after(0);
    rw_code rc = rw_frame_build_in(&fb, RW_FRAME_CHUNK, payload, sizeof payload, 3, &len, &err);
    rw_alloc_fail_after(-1);
    ck_assert_int_eq(rc, RW_ENOMEM);
    ck_assert_int_eq(rw_frame_build_in(&fb, RW_FRAME_CHUNK, payload, sizeof payload, 3, &len,
                                       &err), RW_OK);
    rw_frame_buf_free(&fb);
}
END_TEST

/* rw_alloc_dying: a dying thread takes its blocks from alloc.c's region, not from
 * malloc (whose locks the thread the signal interrupted may hold: glibc's arenas,
 * ASan's size classes); its rw_realloc leaves the old block where it is and copies;
 * rw_free frees nothing; rw_alloc_release frees the blocks of malloc's it let go of
 * (LeakSanitizer checks that it does). Checked from a thread that did not allocate
 * the blocks. */
typedef struct dying_case {
    uint8_t *old, *got, *spare, *zeroed;
    char *dup;
    size_t old_usable;
    size_t heap_before, heap_after; /* glibc's heap in use around the dying work */
    rw_code frame_rc;
    size_t frame_len;
    int frame_in_region;
} dying_case;

static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2(); /* glibc's heap (ASan's is not counted there) */
    return mi.uordblks + mi.hblkhd;
}

static void *dying_thread(void *arg)
{
    dying_case *c = arg;
    static uint8_t payload[1 << 18];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 2654435761u >> 13);
    c->heap_before = heap_in_use();
    rw_alloc_dying(1);
    c->got = rw_realloc(c->old, 1 << 20);
    rw_free(c->spare); /* nothing: the block stays readable below */
    c->zeroed = rw_calloc(1000, 3);
    c->dup = rw_strdup("a dying thread's string");
    /* zstd's context and workspace, and the frame's buffer, through alloc.h. */
    rw_frame_buf fb = {0};
    rw_err err = {0};
    c->frame_rc = rw_frame_build_in(&fb, RW_FRAME_CHUNK, payload, sizeof payload, 3,
                                    &c->frame_len, &err);
    c->frame_in_region = rw_alloc_in_region(fb.buf);
    rw_frame_buf_free(&fb);
    rw_alloc_dying(0);
    c->heap_after = heap_in_use();
    return NULL;
}

START_TEST(alloc_dying_leaves_blocks_alone)
{
    dying_case c = {0};
    c.old = rw_malloc(3000);
    ck_assert_ptr_nonnull(c.old);
    memset(c.old, 0xab, 3000);
    c.old_usable = malloc_usable_size(c.old);
    c.spare = rw_malloc(5000);
    ck_assert_ptr_nonnull(c.spare);
    memset(c.spare, 0xcd, 5000);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, dying_thread, &c), 0);
    pthread_join(t, NULL);
    /* Nothing of malloc's was taken or given back while dying. */
    ck_assert_uint_eq(c.heap_after, c.heap_before);
    ck_assert_ptr_nonnull(c.got);
    ck_assert_ptr_ne(c.got, c.old);
    ck_assert(rw_alloc_in_region(c.got));
    ck_assert(!rw_alloc_in_region(c.old));
    for (size_t i = 0; i < 3000; i++) {
        ck_assert_uint_eq(c.got[i], 0xab);
        ck_assert_uint_eq(c.old[i], 0xab); /* neither moved nor freed */
    }
    for (size_t i = 0; i < 5000; i++)
        ck_assert_uint_eq(c.spare[i], 0xcd);
    ck_assert_uint_eq(malloc_usable_size(c.old), c.old_usable);
    ck_assert(rw_alloc_in_region(c.zeroed));
    for (size_t i = 0; i < 3000; i++)
        ck_assert_uint_eq(c.zeroed[i], 0);
    ck_assert(rw_alloc_in_region(c.dup));
    ck_assert_str_eq(c.dup, "a dying thread's string");
    ck_assert_int_eq(c.frame_rc, RW_OK);
    ck_assert(c.frame_in_region);
    ck_assert_uint_gt(c.frame_len, 24);
    /* A region block given back later, by a thread that is not dying: rw_realloc
     * copies it into a block of malloc's, rw_free leaves it. */
    c.got[(1 << 20) - 1] = 0x5a;
    uint8_t *moved = rw_realloc(c.got, 2 << 20);
    ck_assert_ptr_nonnull(moved);
    ck_assert(!rw_alloc_in_region(moved));
    ck_assert_uint_eq(moved[0], 0xab);
    ck_assert_uint_eq(moved[2999], 0xab);
    ck_assert_uint_eq(moved[(1 << 20) - 1], 0x5a);
    rw_free(moved);
    rw_free(c.got);
    rw_free(c.zeroed);
    rw_free(c.dup);
    rw_alloc_release(); /* frees c.old and c.spare, which the dying thread let go of */
    /* Not dying: realloc as ever (the same block may grow in place or move). */
    uint8_t *p = rw_malloc(16), *q = rw_realloc(p, 32);
    ck_assert_ptr_nonnull(q);
    ck_assert(!rw_alloc_in_region(q));
    rw_free(q);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {crc_known_vectors, crc_split_and_alignment, header_round_trip,
                            header_errors, frame_round_trip_codecs, frame_build_rejects,
                            frame_corruption, frame_header_bounds, trailer_round_trip_and_errors,
                            frame_type_names, frame_zstd_uses_the_writer_allocator,
                            alloc_dying_leaves_blocks_alone};
    return rw_test_main("container", "core", 0, tests, RW_TEST_N(tests));
}
