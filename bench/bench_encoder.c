/* bench_encoder: the writer thread's work per record, on the records of a real trace.
 * Run on demand, never as a test:
 *
 *   bench_encoder TRACE [ROUNDS (default 5)]
 *
 * Reads every record of TRACE (events and annotations: allocations, frees, thread
 * switches, audit events) back into the raw records the recorder appended, then,
 * ROUNDS times, feeds them all through a new encoder the way the writer thread does
 * (chunks of 262144 records) and compresses each chunk with zstd level 1. Prints the
 * minimum time per record of each stage over the rounds. The recording's timing noise
 * (other processes, the interpreter beside the writer) is gone, so two builds can be
 * compared on the same input to within a few percent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

#include "codec.h"
#include "reader.h"

#define CHUNK_RECORDS 262144

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct recs {
    rw_rec *v;
    size_t n, cap;
} recs;

static void put(recs *r, uint64_t w0, uint64_t w1)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 1 << 20;
        r->v = realloc(r->v, r->cap * sizeof *r->v);
        if (!r->v) {
            fprintf(stderr, "bench_encoder: out of memory\n");
            exit(1);
        }
    }
    r->v[r->n].w0 = w0;
    r->v[r->n].w1 = w1;
    r->n++;
}

/* A record and its text as rw_stream_put_text lays them out: the record, a BLOB
 * record holding the length, then the text in 16-byte records. */
static void put_text(recs *r, uint64_t w0, uint64_t w1, const char *text, size_t len)
{
    if (len > RW_BLOB_MAX)
        len = RW_BLOB_MAX;
    put(r, w0, w1);
    put(r, RW_REC(RW_K_BLOB, len), 0);
    for (size_t off = 0; off < len; off += sizeof(rw_rec)) {
        rw_rec chunk = {0, 0};
        memcpy(&chunk, text + off, len - off < sizeof chunk ? len - off : sizeof chunk);
        put(r, chunk.w0, chunk.w1);
    }
}

/* Raw records back from decoded ones (records.h; the recorder's source_settrace.c,
 * alloc.c, audit.c and threads.c append them). */
static void to_raw(recs *r, const rw_event *ev, uint32_t *thread)
{
    if (ev->thread != *thread && ev->kind != RW_K_THREAD && RW_IS_EVENT(ev->kind)) {
        put(r, RW_REC(RW_K_THREAD, 0), ev->thread);
        *thread = ev->thread;
    }
    switch (ev->kind) {
    case RW_K_CALL:
        put(r, RW_REC(RW_K_CALL, ev->tick), ev->code | (uint64_t)ev->line << 32);
        break;
    case RW_K_LINE:
        put(r, RW_REC(RW_K_LINE, 0), ev->line);
        break;
    case RW_K_RETURN:
    case RW_K_C_RETURN:
    case RW_K_C_EXCEPTION:
        put(r, RW_REC(ev->kind, ev->tick), ev->kind == RW_K_RETURN ? 0 : ev->code);
        break;
    case RW_K_C_CALL:
        put(r, RW_REC(RW_K_C_CALL, ev->tick), ev->code);
        break;
    case RW_K_EXCEPTION:
    case RW_K_UNCAUGHT:
        put_text(r, RW_REC(ev->kind, ev->tick), ev->name, ev->text, ev->text_len);
        break;
    case RW_K_AUDIT:
        put_text(r, RW_REC(RW_K_AUDIT, 0), ev->name, ev->text, ev->text_len);
        break;
    case RW_K_THREAD:
        put(r, RW_REC(RW_K_THREAD, 0), ev->name);
        *thread = ev->name;
        break;
    default:
        if (RW_IS_ALLOC(ev->kind))
            put(r, RW_REC(ev->kind, ev->size), ev->addr);
        else if (RW_IS_FREE(ev->kind))
            put(r, RW_REC(ev->kind, 0), ev->addr);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: bench_encoder TRACE [ROUNDS]\n");
        return 2;
    }
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    if (rounds < 1)
        rounds = 1;
    rw_reader *rd;
    rw_cursor *cur;
    rw_err err;
    if (rw_reader_open(argv[1], &rd, &err) != RW_OK ||
        rw_cursor_new(rd, 0, SIZE_MAX, &cur, &err) != RW_OK) {
        fprintf(stderr, "bench_encoder: %s: %s\n", argv[1], err.msg);
        return 1;
    }
    recs r = {0};
    rw_event ev;
    uint32_t thread = 0;
    int rc;
    while ((rc = rw_cursor_next(cur, &ev, &err)) == 1)
        to_raw(&r, &ev, &thread);
    if (rc < 0) {
        fprintf(stderr, "bench_encoder: %s: %s\n", argv[1], err.msg);
        return 1;
    }
    rw_cursor_free(cur);
    const rw_defs *defs = rw_reader_defs(rd);

    double best_enc = 1e30, best_zstd = 1e30;
    size_t packed = 0, compressed = 0;
    ZSTD_CCtx *z = ZSTD_createCCtx();
    for (int round = 0; round < rounds; round++) {
        rw_encoder *e = rw_encoder_new(rw_reader_time_shift(rd));
        for (uint32_t i = 1; i < defs->ncodes; i++)
            rw_encoder_def_code(e, i, defs->codes[i]->first_line);
        uint8_t **chunks = NULL;
        size_t *lens = NULL, nch = 0, i = 0;
        double t0 = now();
        while (i < r.n) {
            size_t used;
            if (rw_encoder_feed(e, r.v + i, r.n - i, CHUNK_RECORDS, &used, &err) != RW_OK) {
                fprintf(stderr, "bench_encoder: %s\n", err.msg);
                return 1;
            }
            i += used;
            if (rw_encoder_pending(e) >= CHUNK_RECORDS || i == r.n) {
                rw_chunk_info info;
                chunks = realloc(chunks, (nch + 1) * sizeof *chunks);
                lens = realloc(lens, (nch + 1) * sizeof *lens);
                if (rw_encoder_finish(e, &chunks[nch], &lens[nch], &info, &err) != RW_OK) {
                    fprintf(stderr, "bench_encoder: %s\n", err.msg);
                    return 1;
                }
                nch++;
            }
        }
        double t1 = now();
        size_t psum = 0, zsum = 0;
        size_t cap = 0;
        uint8_t *zbuf = NULL;
        double t2 = now();
        for (size_t c = 0; c < nch; c++) {
            size_t need = ZSTD_compressBound(lens[c]);
            if (need > cap) {
                free(zbuf);
                zbuf = malloc(cap = need);
            }
            size_t n = ZSTD_compressCCtx(z, zbuf, cap, chunks[c], lens[c], 1);
            if (ZSTD_isError(n)) {
                fprintf(stderr, "bench_encoder: zstd: %s\n", ZSTD_getErrorName(n));
                return 1;
            }
            psum += lens[c];
            zsum += n;
        }
        double t3 = now();
        free(zbuf);
        for (size_t c = 0; c < nch; c++)
            free(chunks[c]);
        free(chunks);
        free(lens);
        rw_encoder_free(e);
        if (t1 - t0 < best_enc)
            best_enc = t1 - t0;
        if (t3 - t2 < best_zstd)
            best_zstd = t3 - t2;
        packed = psum;
        compressed = zsum;
    }
    ZSTD_freeCCtx(z);
    printf("records      %zu (%llu events)\n", r.n, (unsigned long long)rw_reader_nevents(rd));
    printf("encode+pack  %.2f ns/record  (%.3f s, min of %d)\n", best_enc / (double)r.n * 1e9,
           best_enc, rounds);
    printf("zstd -1      %.2f ns/record  (%.3f s)\n", best_zstd / (double)r.n * 1e9, best_zstd);
    printf("sizes        %.2f bytes/record packed, %.3f compressed\n",
           (double)packed / (double)r.n, (double)compressed / (double)r.n);
    free(r.v);
    rw_reader_free(rd);
    return 0;
}
