/* Check suite for format/codec: raw records -> chunks -> decoded events.
 *
 * A random but well-formed recording (calls, lines, returns, C calls, allocations,
 * exceptions, audit events, thread switches over three threads) is generated
 * together with the events a reader must see; it is encoded with small chunks, and
 * every chunk is decoded on its own and compared event by event. Then damaged chunks
 * must give errors, never crashes.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "rewind.pb-c.h"
#include "testutil.h"

#define NTHREADS 3
#define NCODES 40
#define NCFUNCS 10
#define NNAMES 5

typedef struct gen {
    rw_rec *recs;
    size_t nrecs, cap;
    rw_event *want;      /* expected decoded events; text points into texts */
    uint64_t *untimed;   /* per want: its tick when LINE events are not timed */
    uint64_t last_timed;
    size_t nwant, capw;
    char texts[4096][24];
    size_t ntexts;
    uint64_t tick, pos;
    uint32_t thread;
    uint64_t recent_allocs[512], recent_frees[64]; /* so refs get exercised */
    unsigned nra, nrf;
    uint32_t first_line[NCODES + 1];
    /* model stacks: code (0 = C frame marker via is_c), line */
    struct { uint32_t code, line; int is_c; } stk[NTHREADS + 1][256];
    int depth[NTHREADS + 1];
    unsigned seed;
} gen;

static unsigned rnd(gen *g, unsigned n)
{
    g->seed = g->seed * 1103515245u + 12345u;
    return (g->seed >> 8) % n;
}

static void put(gen *g, uint64_t w0, uint64_t w1)
{
    if (g->nrecs == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 4096;
        g->recs = realloc(g->recs, g->cap * sizeof *g->recs);
        ck_assert_ptr_nonnull(g->recs);
    }
    g->recs[g->nrecs].w0 = w0;
    g->recs[g->nrecs].w1 = w1;
    g->nrecs++;
}

static void put_text(gen *g, uint64_t w0, uint64_t w1, const char *text)
{
    size_t len = strlen(text);
    put(g, w0, w1);
    put(g, RW_REC(RW_K_BLOB, len), 0);
    for (size_t i = 0; i < (len + 15) / 16; i++) {
        rw_rec r;
        memset(&r, 0, sizeof r);
        memcpy(&r, text + i * 16, len - i * 16 < 16 ? len - i * 16 : 16);
        put(g, r.w0, r.w1);
    }
}

static rw_event *want(gen *g, unsigned kind)
{
    if (g->nwant == g->capw) {
        g->capw = g->capw ? g->capw * 2 : 4096;
        g->want = realloc(g->want, g->capw * sizeof *g->want);
        g->untimed = realloc(g->untimed, g->capw * sizeof *g->untimed);
        ck_assert_ptr_nonnull(g->want);
        ck_assert_ptr_nonnull(g->untimed);
    }
    if (RW_IS_EVENT(kind) && kind != RW_K_LINE)
        g->last_timed = g->tick;
    g->untimed[g->nwant] = kind == RW_K_LINE ? g->last_timed : g->tick;
    rw_event *e = &g->want[g->nwant++];
    memset(e, 0, sizeof *e);
    e->kind = (uint8_t)kind;
    e->thread = g->thread;
    e->pos = g->pos;
    e->tick = g->tick;
    return e;
}

static const char *new_text(gen *g)
{
    char *t = g->texts[g->ntexts++ % 4096];
    int n = (int)rnd(g, 20);
    for (int i = 0; i < n; i++)
        t[i] = (char)('a' + rnd(g, 26));
    t[n] = 0;
    return t;
}

/* An event of kind (EXCEPTION or AUDIT) with a random name and a new text. */
static void text_event(gen *g, unsigned kind)
{
    uint32_t name = 1 + rnd(g, NNAMES);
    const char *t = new_text(g);
    put_text(g, RW_REC(kind, g->tick), name, t);
    rw_event *e = want(g, kind);
    e->name = name;
    e->text = t;
    e->text_len = strlen(t);
}

/* One step of a plausible program. */
static void step(gen *g)
{
    uint32_t th = g->thread;
    int d = g->depth[th];
    int top_c = d && g->stk[th][d - 1].is_c;
    unsigned r = rnd(g, 100);
    g->tick += 1 + rnd(g, 300);
    if (r < 3) { /* thread switch */
        uint32_t nt = 1 + rnd(g, NTHREADS);
        g->thread = nt;
        put(g, RW_REC(RW_K_THREAD, g->tick), nt);
        want(g, RW_K_THREAD)->name = nt;
        return;
    }
    if (r < 20 && d < 200 && !top_c) { /* call */
        uint32_t code = 1 + rnd(g, NCODES);
        uint32_t line = g->first_line[code] + (rnd(g, 4) == 0 ? rnd(g, 30) : 0);
        uint64_t frame = 0;
        if (rnd(g, 4) == 0) { /* a generator's frame: a GEN record names it */
            frame = 0x200000000000ull + rnd(g, 1 << 20) * 8;
            put(g, RW_REC(RW_K_GEN, g->tick), frame);
            want(g, RW_K_GEN)->addr = frame;
        }
        put(g, RW_REC(RW_K_CALL, g->tick), code | ((uint64_t)line << 32));
        rw_event *e = want(g, RW_K_CALL);
        e->code = code;
        e->line = line;
        e->addr = frame;
        g->stk[th][d].code = code;
        g->stk[th][d].line = line;
        g->stk[th][d].is_c = 0;
        g->depth[th]++;
        g->pos++;
        return;
    }
    if (r < 30 && d > 0 && !top_c) { /* return */
        put(g, RW_REC(RW_K_RETURN, g->tick), 0);
        want(g, RW_K_RETURN)->code = g->stk[th][d - 1].code;
        g->depth[th]--;
        g->pos++;
        return;
    }
    if (r < 36 && d < 200 && !top_c) { /* c call */
        uint32_t fn = 1 + rnd(g, NCFUNCS);
        put(g, RW_REC(RW_K_C_CALL, g->tick), fn);
        want(g, RW_K_C_CALL)->code = fn;
        g->stk[th][d].code = fn;
        g->stk[th][d].is_c = 1;
        g->depth[th]++;
        g->pos++;
        return;
    }
    if (r < 42 && top_c) { /* c return / exception */
        unsigned k = rnd(g, 5) ? RW_K_C_RETURN : RW_K_C_EXCEPTION;
        put(g, RW_REC(k, g->tick), g->stk[th][d - 1].code);
        want(g, k)->code = g->stk[th][d - 1].code;
        g->depth[th]--;
        g->pos++;
        return;
    }
    if (r < 60) { /* allocation (sometimes unaligned, sometimes far away) */
        unsigned k = RW_K_ALLOC_RAW + rnd(g, 3);
        uint64_t addr = 0x7f0000000000ull + rnd(g, 1 << 20) * 16 + (rnd(g, 10) == 0 ? 3 : 0);
        if (rnd(g, 50) == 0)
            addr = 0x1000 + rnd(g, 100);
        if (g->nrf && rnd(g, 2))
            addr = g->recent_frees[rnd(g, g->nrf < 64 ? g->nrf : 64)];
        g->recent_allocs[g->nra++ % 512] = addr;
        uint64_t size = 1 + rnd(g, rnd(g, 20) ? 512 : 1 << 20);
        if (k == RW_K_ALLOC_OBJ && rnd(g, 8) == 0) { /* a reuse of a start-up block */
            put(g, RW_REC(RW_K_STARTUP_REUSE, 0), 0);
            want(g, RW_K_STARTUP_REUSE);
        }
        put(g, RW_REC(k, size), addr);
        rw_event *e = want(g, k);
        e->size = size;
        e->addr = addr;
        return;
    }
    if (r < 70) { /* free */
        unsigned k = RW_K_FREE_RAW + rnd(g, 3);
        uint64_t addr = 0x7f0000000000ull + rnd(g, 1 << 20) * 16 + (rnd(g, 10) == 0 ? 5 : 0);
        if (g->nra && rnd(g, 3))
            addr = g->recent_allocs[rnd(g, g->nra < 512 ? g->nra : 512)];
        g->recent_frees[g->nrf++ % 64] = addr;
        put(g, RW_REC(k, 0), addr);
        want(g, k)->addr = addr;
        if (rnd(g, 4) == 0) { /* the thread let the GIL go after it, at a check */
            uint64_t spot = (uint64_t)(1 + rnd(g, 5000)) << 32 | (1 + rnd(g, 1 << 16));
            put(g, RW_REC(RW_K_DROP, 0), spot);
            want(g, RW_K_DROP)->addr = spot;
        }
        return;
    }
    if (r < 73 && d > 0 && !top_c) { /* exception */
        text_event(g, RW_K_EXCEPTION);
        g->pos++;
        return;
    }
    if (r < 76) { /* audit */
        text_event(g, RW_K_AUDIT);
        return;
    }
    /* line in the top Python frame (or an orphan line when there is none) */
    if (top_c)
        return;
    uint32_t line = 1 + rnd(g, 500);
    put(g, RW_REC(RW_K_LINE, g->tick), line);
    rw_event *e = want(g, RW_K_LINE);
    e->line = line;
    if (d) {
        e->code = g->stk[th][d - 1].code;
        g->stk[th][d - 1].line = line;
    }
    g->pos++;
}

static void gen_run(gen *g, unsigned seed, size_t steps)
{
    memset(g, 0, sizeof *g);
    g->seed = seed;
    g->thread = 1;
    g->tick = 1000;
    for (uint32_t c = 1; c <= NCODES; c++)
        g->first_line[c] = 1 + rnd(g, 1000);
    put(g, RW_REC(RW_K_THREAD, g->tick), 1);
    want(g, RW_K_THREAD)->name = 1;
    for (size_t i = 0; i < steps; i++)
        step(g);
}

static void gen_free(gen *g)
{
    free(g->recs);
    free(g->untimed);
    free(g->want);
}

typedef struct blob {
    uint8_t *p;
    size_t len;
    uint8_t *filter; /* a copy of the chunk's line filter (encode_all) */
    size_t filter_len;
} blob;

static void blobs_free(blob *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(b[i].p);
        free(b[i].filter);
    }
}

/* Encodes g into chunks of at most chunk_records; returns the number of chunks. */
static size_t encode_all(gen *g, rw_encoder *e, uint64_t chunk_records, blob *out, size_t max)
{
    size_t n = 0, i = 0;
    for (uint32_t c = 1; c <= NCODES; c++)
        ck_assert_int_eq(rw_encoder_def_code(e, c, g->first_line[c]), RW_OK);
    while (i < g->nrecs) {
        size_t used = 0;
        rw_err err;
        ck_assert_int_eq(rw_encoder_feed(e, g->recs + i, g->nrecs - i, chunk_records, &used,
                                         &err), RW_OK);
        i += used;
        if (rw_encoder_pending(e) >= chunk_records || i == g->nrecs) {
            rw_chunk_info ci;
            ck_assert_uint_lt(n, max);
            ck_assert_int_eq(rw_encoder_finish(e, &out[n].p, &out[n].len, &ci, &err), RW_OK);
            ck_assert(rw_filter_valid(ci.filter_len));
            out[n].filter = malloc(ci.filter_len);
            memcpy(out[n].filter, ci.filter, ci.filter_len);
            out[n].filter_len = ci.filter_len;
            n++;
        }
    }
    return n;
}

static void check_event(const rw_event *got, const rw_event *w, uint64_t untimed_tick,
                        int line_times, size_t idx, unsigned shift)
{
    ck_assert_msg(got->kind == w->kind, "event %zu: kind %d, want %d", idx, got->kind, w->kind);
    ck_assert_msg(got->thread == w->thread, "event %zu: thread %u, want %u", idx, got->thread,
                  w->thread);
    ck_assert_msg(got->pos == w->pos, "event %zu: pos %llu, want %llu", idx,
                  (unsigned long long)got->pos, (unsigned long long)w->pos);
    if (RW_IS_EVENT(w->kind)) {
        uint64_t t = line_times ? w->tick : untimed_tick;
        ck_assert_msg(got->tick == (t >> shift) << shift, "event %zu (%s): tick %llu, want %llu",
                      idx, rw_kind_name(w->kind), (unsigned long long)got->tick,
                      (unsigned long long)((t >> shift) << shift));
    }
    switch (w->kind) {
    case RW_K_CALL:
        /* The GEN record's frame: a full chunk takes the CALL after its GEN (the
         * encoder does not end one between them). */
        ck_assert_msg(got->addr == w->addr,
                      "event %zu: call's frame %llx, want %llx", idx,
                      (unsigned long long)got->addr, (unsigned long long)w->addr);
        /* fall through */
    case RW_K_LINE:
        ck_assert_msg(got->line == w->line, "event %zu (%s): line %u, want %u", idx,
                      rw_kind_name(w->kind), got->line, w->line);
        if (w->code)
            ck_assert_msg(got->code == w->code, "event %zu: code %u, want %u", idx, got->code,
                          w->code);
        break;
    case RW_K_RETURN:
    case RW_K_C_CALL:
    case RW_K_C_RETURN:
    case RW_K_C_EXCEPTION:
        ck_assert_msg(got->code == w->code, "event %zu (%s): code %u, want %u", idx,
                      rw_kind_name(w->kind), got->code, w->code);
        break;
    case RW_K_EXCEPTION:
    case RW_K_AUDIT:
        ck_assert_uint_eq(got->name, w->name);
        ck_assert_uint_eq(got->text_len, w->text_len);
        ck_assert(w->text_len == 0 || memcmp(got->text, w->text, w->text_len) == 0);
        break;
    case RW_K_THREAD:
        ck_assert_uint_eq(got->name, w->name);
        break;
    case RW_K_GEN:
    case RW_K_DROP:
        ck_assert_msg(got->addr == w->addr, "event %zu: gen frame or spot %llx, want %llx", idx,
                      (unsigned long long)got->addr, (unsigned long long)w->addr);
        break;
    default:
        if (RW_IS_ALLOC(w->kind))
            ck_assert_uint_eq(got->size, w->size);
        if (RW_IS_ALLOC(w->kind) || RW_IS_FREE(w->kind))
            ck_assert_msg(got->addr == w->addr, "event %zu: addr %llx, want %llx", idx,
                          (unsigned long long)got->addr, (unsigned long long)w->addr);
    }
}

static void check_packed_as_protobuf_c(const blob *b)
{
    Rewind__Chunk *m = rewind__chunk__unpack(NULL, b->len, b->p);
    ck_assert_ptr_nonnull(m);
    size_t len = rewind__chunk__get_packed_size(m);
    uint8_t *again = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(again);
    ck_assert_uint_eq(rewind__chunk__pack(m, again), len);
    ck_assert_uint_eq(len, b->len);
    ck_assert_msg(memcmp(again, b->p, len) == 0, "chunk differs from protobuf-c's packing");
    free(again);
    rewind__chunk__free_unpacked(m, NULL);
}

static void roundtrip(unsigned seed, size_t steps, uint64_t chunk_records, unsigned shift)
{
    static gen g;
    gen_run(&g, seed, steps);
    rw_encoder *e = rw_encoder_new(shift);
    ck_assert_ptr_nonnull(e);
    int line_times = seed % 2;
    rw_encoder_set_line_times(e, line_times);
    blob chunks[4096];
    size_t nch = encode_all(&g, e, chunk_records, chunks, 4096);
    ck_assert_uint_eq(rw_encoder_events(e), g.pos);
    uint32_t first_line[NCODES + 1];
    memcpy(first_line, g.first_line, sizeof first_line);
    rw_id_limits lim = {NCODES, NCFUNCS, NTHREADS, NNAMES, first_line};
    size_t k = 0;
    /* Decode chunks in reverse order: each must stand alone. */
    size_t *start = calloc(nch + 1, sizeof *start);
    for (size_t c = 0; c < nch; c++) {
        rw_chunk *ch;
        rw_err err;
        ck_assert_int_eq(rw_chunk_decode(chunks[c].p, chunks[c].len, &ch, &err), RW_OK);
        start[c + 1] = start[c] + rw_chunk_get_info(ch)->record_count;
        rw_chunk_free(ch);
    }
    ck_assert_uint_eq(start[nch], g.nwant);
    /* The encoder packs chunks itself: byte for byte what protobuf-c packs. */
    for (size_t c = 0; c < nch; c++)
        check_packed_as_protobuf_c(&chunks[c]);
    for (size_t c = nch; c-- > 0;) {
        rw_chunk *ch;
        rw_decoder *d;
        rw_err err;
        ck_assert_int_eq(rw_chunk_decode(chunks[c].p, chunks[c].len, &ch, &err), RW_OK);
        ck_assert_int_eq(rw_decoder_new(ch, &lim, shift, &d, &err), RW_OK);
        int skip = (seed / 2) % 2;
        if (skip)
            rw_decoder_set_flags(d, RW_DECODE_SKIP_ALLOCS);
        rw_event ev;
        k = start[c];
        int rc;
        while ((rc = rw_decoder_next(d, &ev, &err)) == 1) {
            while (skip && k < start[c + 1] &&
                   (RW_IS_ALLOC(g.want[k].kind) || RW_IS_FREE(g.want[k].kind)))
                k++;
            ck_assert_uint_lt(k, g.nwant);
            check_event(&ev, &g.want[k], g.untimed[k], line_times, k, shift);
            /* The line filter has every line the chunk runs (no false negative). */
            if (ev.kind == RW_K_LINE)
                ck_assert_msg(rw_filter_may_have(chunks[c].filter, chunks[c].filter_len,
                                                 ev.code, ev.line),
                              "event %zu: line %u of code %u not in the chunk's filter", k,
                              ev.line, ev.code);
            k++;
        }
        while (skip && k < start[c + 1] &&
               (RW_IS_ALLOC(g.want[k].kind) || RW_IS_FREE(g.want[k].kind)))
            k++;
        ck_assert_msg(rc == 0, "decoder error: %s", err.msg);
        ck_assert_uint_eq(k, start[c + 1]);
        rw_decoder_free(d);
        rw_chunk_free(ch);
    }
    free(start);
    /* And it rules out most lines the chunk does not run (lines past any the
     * generator makes): at most about 5% false positives once folded (a filter that
     * could not fold is fuller). */
    size_t probes = 0, positives = 0;
    for (size_t c = 0; c < nch; c++)
        for (uint32_t code = 1; code <= NCODES && chunks[c].filter_len < RW_FILTER_MAX; code++)
            for (uint32_t line = 100000; line < 100050; line++, probes++)
                positives += (size_t)rw_filter_may_have(chunks[c].filter,
                                                        chunks[c].filter_len, code, line);
    ck_assert_msg(positives * 10 <= probes, "%zu false positives in %zu probes", positives,
                  probes);
    if (chunk_records < 1000)
        ck_assert_uint_gt(probes, 0); /* small chunks: their filters fold */
    blobs_free(chunks, nch);
    rw_encoder_free(e);
    gen_free(&g);
}

START_TEST(test_roundtrip_small_chunks) { roundtrip(1, 20000, 500, 0); }
END_TEST

START_TEST(test_roundtrip_one_chunk) { roundtrip(2, 20000, 1u << 30, 0); }
END_TEST

START_TEST(test_roundtrip_time_shift) { roundtrip(3, 20000, 777, 4); }
END_TEST

START_TEST(test_roundtrip_many_seeds)
{
    for (unsigned s = 10; s < 40; s++)
        roundtrip(s, 3000, 1 + s * 7, s % 3);
}
END_TEST

/* Every truncation and many bit flips of a chunk: an error or a decode, never a
 * crash (run under ASan in CI). */
START_TEST(test_damaged_chunks)
{
    static gen g;
    gen_run(&g, 7, 2000);
    rw_encoder *e = rw_encoder_new(0);
    blob chunks[64];
    size_t nch = encode_all(&g, e, 100000, chunks, 64);
    ck_assert_uint_eq(nch, 1);
    rw_id_limits lim = {NCODES, NCFUNCS, NTHREADS, NNAMES, g.first_line};
    uint8_t *copy = malloc(chunks[0].len);
    size_t errors = 0;
    for (size_t cut = 0; cut <= chunks[0].len; cut += 1 + cut / 64) {
        for (int flip = -1; flip < 8; flip += 3) {
            memcpy(copy, chunks[0].p, chunks[0].len);
            size_t len = cut;
            if (flip >= 0 && cut < chunks[0].len) {
                copy[cut] ^= (uint8_t)(1u << flip);
                len = chunks[0].len;
            }
            rw_chunk *ch;
            rw_decoder *d;
            rw_err err;
            if (rw_chunk_decode(copy, len, &ch, &err) != RW_OK) {
                errors++;
                continue;
            }
            if (rw_decoder_new(ch, &lim, 0, &d, &err) == RW_OK) {
                rw_event ev;
                int rc;
                size_t n = 0;
                while ((rc = rw_decoder_next(d, &ev, &err)) == 1)
                    n++;
                errors += rc < 0;
                ck_assert_uint_le(n, rw_chunk_get_info(ch)->record_count);
                rw_decoder_free(d);
            } else {
                errors++;
            }
            rw_chunk_free(ch);
        }
    }
    ck_assert_uint_gt(errors, 0);
    free(copy);
    blobs_free(chunks, 1);
    rw_encoder_free(e);
    gen_free(&g);
}
END_TEST

/* A kinds column that disagrees with the other columns is reported by name. */
START_TEST(test_column_mismatch)
{
    rw_encoder *e = rw_encoder_new(0);
    rw_rec recs[3] = {{RW_REC(RW_K_CALL, 10), 1}, {RW_REC(RW_K_LINE, 11), 5},
                      {RW_REC(RW_K_RETURN, 12), 0}};
    size_t used;
    rw_err err;
    ck_assert_int_eq(rw_encoder_feed(e, recs, 3, 100, &used, &err), RW_OK);
    ck_assert_uint_eq(used, 3);
    uint8_t *p;
    size_t len;
    rw_chunk_info ci;
    ck_assert_int_eq(rw_encoder_finish(e, &p, &len, &ci, &err), RW_OK);
    ck_assert_uint_eq(ci.event_count, 3);
    /* Re-pack with one line delta too many. */
    Rewind__Chunk *m = rewind__chunk__unpack(NULL, len, p);
    ck_assert_ptr_nonnull(m);
    int32_t deltas[2] = {1, 2};
    m->n_line_delta = 2;
    int32_t *saved = m->line_delta;
    m->line_delta = deltas;
    size_t len2 = rewind__chunk__get_packed_size(m);
    uint8_t *p2 = malloc(len2);
    rewind__chunk__pack(m, p2);
    m->line_delta = saved;
    m->n_line_delta = 1;
    rewind__chunk__free_unpacked(m, NULL);
    rw_chunk *ch;
    ck_assert_int_eq(rw_chunk_decode(p2, len2, &ch, &err), RW_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(err.msg, "line_delta"));
    /* Ids out of range are corruption, not array indexes. */
    ck_assert_int_eq(rw_chunk_decode(p, len, &ch, &err), RW_OK);
    rw_id_limits lim = {0, 0, 0, 0, NULL};
    rw_decoder *d;
    ck_assert_int_eq(rw_decoder_new(ch, &lim, 0, &d, &err), RW_OK);
    rw_event ev;
    ck_assert_int_eq(rw_decoder_next(d, &ev, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "code id"));
    rw_decoder_free(d);
    rw_chunk_free(ch);
    free(p);
    free(p2);
    rw_encoder_free(e);
}
END_TEST

/* A chunk finished by an encoder and read back: its bytes, the decoded chunk and a
 * decoder over it. */
typedef struct readback {
    uint8_t *p;
    size_t len;
    rw_chunk *ch;
    rw_decoder *d;
} readback;

/* Finishes e's chunk and opens a decoder on it with lim, asserting that each step works. */
static void read_back(rw_encoder *e, const rw_id_limits *lim, readback *rb)
{
    rw_err err;
    rw_chunk_info ci;
    ck_assert_int_eq(rw_encoder_finish(e, &rb->p, &rb->len, &ci, &err), RW_OK);
    ck_assert_int_eq(rw_chunk_decode(rb->p, rb->len, &rb->ch, &err), RW_OK);
    ck_assert_int_eq(rw_decoder_new(rb->ch, lim, 0, &rb->d, &err), RW_OK);
}

static void readback_free(readback *rb)
{
    rw_decoder_free(rb->d);
    rw_chunk_free(rb->ch);
    free(rb->p);
}

/* A RETURN or C_RETURN with nothing to pop (recording started mid-frame) is kept
 * and decodes the same way. */
START_TEST(test_unbalanced_stack)
{
    rw_encoder *e = rw_encoder_new(0);
    rw_rec recs[] = {{RW_REC(RW_K_LINE, 1), 40},  {RW_REC(RW_K_RETURN, 2), 0},
                     {RW_REC(RW_K_C_RETURN, 3), 2}, {RW_REC(RW_K_LINE, 4), 7},
                     {RW_REC(RW_K_CALL, 5), 1 | (9ull << 32)}, {RW_REC(RW_K_LINE, 6), 10}};
    size_t used;
    rw_err err;
    uint32_t first[2] = {0, 9};
    rw_encoder_def_code(e, 1, 9);
    ck_assert_int_eq(rw_encoder_feed(e, recs, 6, 100, &used, &err), RW_OK);
    rw_id_limits lim = {1, 2, 0, 0, first};
    readback rb;
    read_back(e, &lim, &rb);
    rw_event ev;
    uint32_t lines[6];
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(rw_decoder_next(rb.d, &ev, &err), 1);
        lines[i] = ev.line;
    }
    ck_assert_int_eq(rw_decoder_next(rb.d, &ev, &err), 0);
    ck_assert_uint_eq(lines[0], 40);
    ck_assert_uint_eq(lines[3], 7);
    ck_assert_uint_eq(lines[4], 9);
    ck_assert_uint_eq(lines[5], 10);
    ck_assert_uint_eq(ev.depth, 1);
    readback_free(&rb);
    rw_encoder_free(e);
}
END_TEST

/* A recursion deeper than RW_STACK_MAX: the frames beyond it are counted, lines in
 * them still decode, and chunks that start inside them decode alone. */
START_TEST(test_stack_overflow_is_counted)
{
    const uint32_t depth = RW_STACK_MAX + 100;
    size_t n = (size_t)depth * 4, k = 0;
    rw_rec *recs = malloc(n * sizeof *recs);
    uint32_t *want_line = malloc(n * sizeof *want_line);
    uint32_t *want_depth = malloc(n * sizeof *want_depth);
    ck_assert_ptr_nonnull(recs);
    uint64_t t = 10;
    for (uint32_t i = 0; i < depth; i++) {
        recs[k] = (rw_rec){RW_REC(RW_K_CALL, t++), 1 | (5ull << 32)};
        want_line[k] = 5;
        want_depth[k++] = i + 1;
        recs[k] = (rw_rec){RW_REC(RW_K_LINE, t++), 6 + i % 3};
        want_line[k] = 6 + i % 3;
        want_depth[k++] = i + 1;
    }
    for (uint32_t i = depth; i > 0; i--) {
        recs[k] = (rw_rec){RW_REC(RW_K_LINE, t++), 9 + i % 2};
        want_line[k] = 9 + i % 2;
        want_depth[k++] = i;
        recs[k] = (rw_rec){RW_REC(RW_K_RETURN, t++), 0};
        want_line[k] = 0;
        want_depth[k++] = i;
    }
    rw_encoder *e = rw_encoder_new(0);
    rw_encoder_def_code(e, 1, 5);
    uint32_t first[2] = {0, 5};
    rw_id_limits lim = {1, 0, 0, 0, first};
    size_t i = 0, idx = 0;
    while (i < k) {
        size_t used;
        rw_err err;
        ck_assert_int_eq(rw_encoder_feed(e, recs + i, k - i, 700000, &used, &err), RW_OK);
        i += used;
        readback rb;
        read_back(e, &lim, &rb);
        rw_event ev;
        int rc;
        while ((rc = rw_decoder_next(rb.d, &ev, &err)) == 1) {
            if (ev.kind == RW_K_LINE || ev.kind == RW_K_CALL)
                ck_assert_msg(ev.line == want_line[idx], "record %zu: line %u, want %u", idx,
                              ev.line, want_line[idx]);
            ck_assert_msg(ev.depth == want_depth[idx], "record %zu: depth %u, want %u", idx,
                          ev.depth, want_depth[idx]);
            idx++;
        }
        ck_assert_int_eq(rc, 0);
        readback_free(&rb);
    }
    ck_assert_uint_eq(idx, k);
    rw_encoder_free(e);
    free(recs);
    free(want_line);
    free(want_depth);
}
END_TEST

/* ---- the Chunk wire format: what protobuf allows must decode the same ---------- */

static size_t wire_get(const uint8_t *p, uint64_t *v)
{
    size_t i = 0;
    *v = 0;
    do
        *v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
    while (p[i++] & 0x80);
    return i;
}

static size_t wire_put(uint8_t *p, uint64_t v)
{
    size_t i = 0;
    for (; v >= 0x80; v >>= 7)
        p[i++] = (uint8_t)(v | 0x80);
    p[i++] = (uint8_t)v;
    return i;
}

/* Re-encodes a Chunk payload into out (room for 4 * len + 64 bytes): mode 0 writes
 * every packed column unpacked (one field per value) after unknown fields of every
 * wire type; mode 1 splits each packed column in two pieces around an empty one. */
static size_t rewire(const uint8_t *p, size_t len, uint8_t *out, int mode)
{
    static const int packed[] = {8, 9, 10, 11, 12, 13, 15, 16, 17, 18, 19, 21, 22};
    size_t o = 0;
    if (mode == 0) {
        o += wire_put(out + o, 99u << 3 | 0);
        o += wire_put(out + o, 123456789);
        o += wire_put(out + o, 100u << 3 | 1);
        memset(out + o, 7, 8), o += 8;
        o += wire_put(out + o, 101u << 3 | 2);
        o += wire_put(out + o, 3);
        memcpy(out + o, "abc", 3), o += 3;
        o += wire_put(out + o, 102u << 3 | 5);
        memset(out + o, 9, 4), o += 4;
    }
    for (size_t i = 0; i < len;) {
        uint64_t key, n;
        size_t start = i;
        i += wire_get(p + i, &key);
        unsigned tag = (unsigned)(key >> 3), wt = key & 7;
        int is_packed = 0;
        for (size_t k = 0; k < sizeof packed / sizeof *packed; k++)
            is_packed |= wt == 2 && (int)tag == packed[k];
        if (wt == 0) {
            i += wire_get(p + i, &n);
        } else {
            ck_assert_uint_eq(wt, 2);
            i += wire_get(p + i, &n);
            i += n;
        }
        if (!is_packed) {
            memcpy(out + o, p + start, i - start);
            o += i - start;
            continue;
        }
        const uint8_t *v = p + i - n, *end = p + i;
        if (mode == 0) {
            while (v < end) {
                uint64_t x;
                o += wire_put(out + o, (uint64_t)tag << 3);
                v += wire_get(v, &x);
                o += wire_put(out + o, x);
            }
        } else {
            const uint8_t *mid = v;
            for (size_t h = 0; h < n / 2; h++) {
                uint64_t x;
                mid += wire_get(mid, &x);
            }
            if (mid > end)
                mid = end;
            const uint8_t *piece[3][2] = {{v, mid}, {mid, mid}, {mid, end}};
            for (int k = 0; k < 3; k++) {
                o += wire_put(out + o, (uint64_t)tag << 3 | 2);
                o += wire_put(out + o, (uint64_t)(piece[k][1] - piece[k][0]));
                memcpy(out + o, piece[k][0], (size_t)(piece[k][1] - piece[k][0]));
                o += (size_t)(piece[k][1] - piece[k][0]);
            }
        }
    }
    return o;
}

/* Decodes a chunk payload with decoder flags into a new array of events (*n of
 * them); *skipped gets rw_decoder_lines_skipped at the end (when not NULL). */
static rw_event *decode_events(const uint8_t *p, size_t len, const rw_id_limits *lim,
                               unsigned flags, size_t *n, uint64_t *skipped)
{
    rw_chunk *ch;
    rw_decoder *d;
    rw_err err;
    ck_assert_int_eq(rw_chunk_decode(p, len, &ch, &err), RW_OK);
    ck_assert_int_eq(rw_decoder_new(ch, lim, 0, &d, &err), RW_OK);
    rw_decoder_set_flags(d, flags);
    size_t cap = rw_chunk_get_info(ch)->record_count + 1;
    rw_event *v = malloc(cap * sizeof *v);
    *n = 0;
    int rc;
    while (*n < cap && (rc = rw_decoder_next(d, &v[*n], &err)) == 1) {
        v[*n].text = NULL; /* points into the chunk: compared by length only */
        (*n)++;
    }
    ck_assert_int_eq(rc, 0);
    if (skipped)
        *skipped = rw_decoder_lines_skipped(d);
    rw_decoder_free(d);
    rw_chunk_free(ch);
    return v;
}

static int same_event(const rw_event *x, const rw_event *y)
{
    return x->kind == y->kind && x->thread == y->thread && x->pos == y->pos &&
           x->tick == y->tick && x->code == y->code && x->line == y->line &&
           x->depth == y->depth && x->call_pos == y->call_pos &&
           x->call_tick == y->call_tick && x->size == y->size && x->addr == y->addr &&
           x->name == y->name && x->text_len == y->text_len;
}

/* The hand-written Chunk parser takes every encoding protobuf allows (unpacked or
 * split columns, unknown fields) as protobuf-c did, and rejects what it rejected. */
START_TEST(test_wire_variants)
{
    static gen g;
    gen_run(&g, 11, 3000);
    rw_encoder *e = rw_encoder_new(0);
    blob chunks[4];
    ck_assert_uint_eq(encode_all(&g, e, 100000, chunks, 4), 1);
    rw_id_limits lim = {NCODES, NCFUNCS, NTHREADS, NNAMES, g.first_line};
    size_t n0, n1;
    rw_event *want = decode_events(chunks[0].p, chunks[0].len, &lim, 0, &n0, NULL);
    ck_assert_uint_eq(n0, g.nwant);
    uint8_t *alt = malloc(chunks[0].len * 4 + 64);
    for (int mode = 0; mode < 2; mode++) {
        size_t len = rewire(chunks[0].p, chunks[0].len, alt, mode);
        rw_event *got = decode_events(alt, len, &lim, 0, &n1, NULL);
        ck_assert_uint_eq(n1, n0);
        for (size_t i = 0; i < n0; i++)
            ck_assert_msg(same_event(&got[i], &want[i]), "mode %d, record %zu differs", mode,
                          i);
        free(got);
    }
    /* A varint of 11 bytes in a column, and kinds with a varint's wire type. */
    static const uint8_t long_varint[] = {0x42, 11, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                          0x80, 0x80, 0x80, 0x80, 0x01};
    static const uint8_t kinds_varint[] = {0x38, 0x01};
    rw_chunk *ch;
    rw_err err;
    ck_assert_int_eq(rw_chunk_decode(long_varint, sizeof long_varint, &ch, &err), RW_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(err.msg, "does not decode"));
    ck_assert_int_eq(rw_chunk_decode(kinds_varint, sizeof kinds_varint, &ch, &err), RW_ECORRUPT);
    free(alt);
    free(want);
    blobs_free(chunks, 1);
    rw_encoder_free(e);
    gen_free(&g);
}
END_TEST

/* SKIP_UNTIMED_LINES returns every other record as it was, counts the LINE events it
 * passes over (all of them when lines are untimed, none when timed), and keeps the
 * stacks exact: the lines other events report do not change. */
START_TEST(test_skip_untimed_lines)
{
    for (int line_times = 0; line_times < 2; line_times++) {
        static gen g;
        gen_run(&g, 12, 3000);
        rw_encoder *e = rw_encoder_new(0);
        rw_encoder_set_line_times(e, line_times);
        blob chunks[4];
        ck_assert_uint_eq(encode_all(&g, e, 100000, chunks, 4), 1);
        rw_id_limits lim = {NCODES, NCFUNCS, NTHREADS, NNAMES, g.first_line};
        size_t n0, n1, lines = 0, k = 0;
        uint64_t skipped;
        rw_event *all = decode_events(chunks[0].p, chunks[0].len, &lim, 0, &n0, NULL);
        rw_event *some = decode_events(chunks[0].p, chunks[0].len, &lim,
                                       RW_DECODE_SKIP_UNTIMED_LINES | RW_DECODE_SKIP_ALLOCS,
                                       &n1, &skipped);
        for (size_t i = 0; i < n0; i++) {
            if (RW_IS_ALLOC(all[i].kind) || RW_IS_FREE(all[i].kind))
                continue;
            if (all[i].kind == RW_K_LINE && !line_times) {
                lines++;
                continue;
            }
            ck_assert_uint_lt(k, n1);
            ck_assert_msg(same_event(&some[k], &all[i]), "record %zu differs", i);
            k++;
        }
        ck_assert_uint_eq(k, n1);
        ck_assert_uint_gt(lines + line_times, 0);
        ck_assert_uint_eq(skipped, lines);
        free(all);
        free(some);
        blobs_free(chunks, 1);
        rw_encoder_free(e);
        gen_free(&g);
    }
}
END_TEST

/* The encoder finds an address among the recent frees with SSE2, AVX2 or AVX-512
 * (whatever the CPU has; RW_ENCODER_FIND chooses): every variant writes the same bytes.
 * A variant the CPU lacks falls back to SSE2. */
START_TEST(test_find_variants_agree)
{
    static const char *const variants[] = {"sse2", "avx2", "avx512"};
    gen g;
    gen_run(&g, 7, 60000);
    blob ref[16], got[16];
    size_t nref = 0;
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        ck_assert_int_eq(setenv("RW_ENCODER_FIND", variants[v], 1), 0);
        rw_encoder *e = rw_encoder_new(0);
        ck_assert_ptr_nonnull(e);
        blob *out = v ? got : ref;
        size_t n = encode_all(&g, e, 20000, out, 16);
        if (!v)
            nref = n;
        ck_assert_uint_eq(n, nref);
        for (size_t c = 0; v && c < n; c++) {
            ck_assert_uint_eq(got[c].len, ref[c].len);
            ck_assert_msg(!memcmp(got[c].p, ref[c].p, ref[c].len), "%s: chunk %zu differs",
                          variants[v], c);
        }
        if (v)
            blobs_free(got, n);
        rw_encoder_free(e);
    }
    unsetenv("RW_ENCODER_FIND");
    blobs_free(ref, nref);
    gen_free(&g);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_roundtrip_small_chunks, test_roundtrip_one_chunk,
                            test_roundtrip_time_shift, test_roundtrip_many_seeds,
                            test_damaged_chunks, test_column_mismatch, test_unbalanced_stack,
                            test_stack_overflow_is_counted, test_wire_variants,
                            test_skip_untimed_lines, test_find_variants_agree};
    return rw_test_main("codec", "core", 120, tests, RW_TEST_N(tests));
}
