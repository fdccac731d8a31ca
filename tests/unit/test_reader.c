/* Check suite for format/reader.c, through the real writer and codec.
 *
 * A seeded generator plays a small two-thread program (calls, lines, returns, C
 * calls, allocations, exceptions, audit events, thread switches) into the writer
 * while keeping a model of every record the reader must give back and of each
 * thread's shadow stack. Tests read the trace back whole, seek to every event,
 * cut it at every byte, flip every byte, and damage its footer.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "reader.h"
#include "testutil.h"
#include "writer.h"

/* ---- the generator and its model ------------------------------------------------ */

typedef struct exp_rec {
    uint8_t kind;
    uint32_t thread;
    uint64_t pos, tick;
    uint32_t code, line, depth;
    uint64_t size, addr;
    uint32_t name;
    char text[24];
    size_t text_len;
    uint32_t depth_after; /* the thread's stack depth once the record is applied */
} exp_rec;

typedef struct mframe {
    uint32_t code, line;
    int is_c;
} mframe;

typedef struct mthread {
    mframe f[64];
    uint32_t depth;
} mthread;

typedef struct gen {
    exp_rec *recs;
    size_t n, cap;
    uint64_t pos, tick;
    uint32_t cur;
    mthread th[3];
    uint64_t live[64];
    size_t nlive;
    uint32_t rng;
    rw_stream *s;
} gen;

static const uint32_t first_line[4] = {0, 1, 3, 10};

/* Whether LINE events carry their own time (rw_writer_opts.line_times); when not,
 * a LINE takes the previous event's tick. */
static int line_times = 1;

static uint32_t rnd(gen *g, uint32_t n)
{
    g->rng ^= g->rng << 13;
    g->rng ^= g->rng >> 17;
    g->rng ^= g->rng << 5;
    return g->rng % n;
}

static exp_rec *push_exp(gen *g, unsigned kind)
{
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 256;
        g->recs = realloc(g->recs, g->cap * sizeof *g->recs);
        ck_assert_ptr_nonnull(g->recs);
    }
    exp_rec *e = &g->recs[g->n++];
    memset(e, 0, sizeof *e);
    e->kind = (uint8_t)kind;
    e->thread = g->cur;
    e->pos = g->pos;
    if (RW_IS_EVENT(kind)) {
        if (kind != RW_K_LINE || line_times)
            g->tick += 1 + rnd(g, 40);
        g->pos++;
    }
    e->tick = g->tick;
    return e;
}

/* The "where are we" fields the decoder fills from the top Python frame. */
static void fill_top(const mthread *t, exp_rec *e)
{
    e->depth = t->depth;
    for (uint32_t i = t->depth; i-- > 0;) {
        if (!t->f[i].is_c) {
            e->code = t->f[i].code;
            e->line = t->f[i].line;
            return;
        }
    }
}

static void gen_step(gen *g)
{
    mthread *t = &g->th[g->cur];
    mframe *top = t->depth ? &t->f[t->depth - 1] : NULL;
    uint32_t r = rnd(g, 100);
    exp_rec *e;
    if (top && top->is_c) {
        unsigned k = r < 20 ? RW_K_C_EXCEPTION : RW_K_C_RETURN;
        e = push_exp(g, k);
        e->depth = t->depth;
        e->code = top->code;
        t->depth--;
        rw_stream_put(g->s, RW_REC(k, e->tick), 0);
    } else if (!top || (r < 14 && t->depth < 60)) {
        uint32_t code = 2 + rnd(g, 2), line = first_line[code] + rnd(g, 2);
        e = push_exp(g, RW_K_CALL);
        t->f[t->depth++] = (mframe){code, line, 0};
        e->code = code;
        e->line = line;
        e->depth = t->depth;
        rw_stream_put(g->s, RW_REC(RW_K_CALL, e->tick), code | (uint64_t)line << 32);
    } else if (r < 60) {
        uint32_t line = top->line + rnd(g, 5);
        line = line > 1 ? line - 1 : 1;
        e = push_exp(g, RW_K_LINE);
        top->line = line;
        fill_top(t, e);
        rw_stream_put(g->s, RW_REC(RW_K_LINE, e->tick), line);
    } else if (r < 70 && t->depth > 1) {
        e = push_exp(g, RW_K_RETURN);
        fill_top(t, e);
        t->depth--;
        rw_stream_put(g->s, RW_REC(RW_K_RETURN, e->tick), 0);
    } else if (r < 76) {
        uint32_t fn = 1 + rnd(g, 2);
        e = push_exp(g, RW_K_C_CALL);
        fill_top(t, e);
        t->f[t->depth++] = (mframe){fn, 0, 1};
        e->code = fn;
        e->depth = t->depth;
        rw_stream_put(g->s, RW_REC(RW_K_C_CALL, e->tick), fn);
    } else if (r < 84 || (r < 88 && g->nlive == 0)) {
        unsigned k = RW_K_ALLOC_RAW + rnd(g, 3);
        uint64_t addr = 0x7f0000001000ull + (uint64_t)rnd(g, 1u << 20) * 16 + (r & 1 ? 3 : 0);
        e = push_exp(g, k);
        fill_top(t, e);
        e->size = 1 + rnd(g, 500);
        e->addr = addr;
        if (g->nlive < 64)
            g->live[g->nlive++] = addr;
        rw_stream_put(g->s, RW_REC(k, e->size), addr);
    } else if (r < 88) {
        unsigned k = RW_K_FREE_RAW + rnd(g, 3);
        size_t i = rnd(g, (uint32_t)g->nlive);
        e = push_exp(g, k);
        fill_top(t, e);
        e->addr = g->live[i];
        g->live[i] = g->live[--g->nlive];
        rw_stream_put(g->s, RW_REC(k, 0), e->addr);
    } else if (r < 91) {
        e = push_exp(g, RW_K_EXCEPTION);
        fill_top(t, e);
        e->name = 1;
        e->text_len = (size_t)snprintf(e->text, sizeof e->text, "boom %u", rnd(g, 1000));
        rw_stream_put_text(g->s, RW_REC(RW_K_EXCEPTION, e->tick), 1, e->text, e->text_len);
    } else if (r < 93) {
        e = push_exp(g, RW_K_AUDIT);
        fill_top(t, e);
        e->name = 2;
        e->text_len = (size_t)snprintf(e->text, sizeof e->text, "('f%u.txt', 'r')", rnd(g, 9));
        rw_stream_put_text(g->s, RW_REC(RW_K_AUDIT, e->tick), 2, e->text, e->text_len);
    } else if (r < 96) {
        g->cur = 3 - g->cur;
        e = push_exp(g, RW_K_THREAD);
        fill_top(&g->th[g->cur], e);
        e->name = g->cur;
        rw_stream_put(g->s, RW_REC(RW_K_THREAD, e->tick), g->cur);
    } else {
        /* A line that jumps back to the frame's first line (a loop). */
        e = push_exp(g, RW_K_LINE);
        top->line = first_line[top->code];
        fill_top(t, e);
        rw_stream_put(g->s, RW_REC(RW_K_LINE, e->tick), top->line);
    }
    e->depth_after = g->th[g->cur].depth;
}

static const char source[] = "import os\n"
                             "\n"
                             "def f(n):\n"
                             "    x = n\n"
                             "    return x\n";

/* Writes a trace of about nrecs records to path with chunks of chunk_records. The
 * model goes to *g (caller frees g->recs). with_end: write an END frame. */
static void write_trace(const char *path, size_t nrecs, uint32_t chunk_records, int level,
                        uint32_t seed, int with_end, gen *g)
{
    memset(g, 0, sizeof *g);
    g->rng = seed ? seed : 1;
    g->tick = 1000;
    g->cur = 1;
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    o.flush_ms = 0;
    o.chunk_records = chunk_records;
    o.zstd_level = level;
    o.line_times = line_times;
    Rewind__Metadata meta = REWIND__METADATA__INIT;
    char *argv[] = {"x.py", "--flag"};
    meta.n_argv = 2;
    meta.argv = argv;
    meta.cwd = "/t";
    meta.python_version = "3.11.2 (test)";
    meta.run_kind = "script";
    meta.run_target = "x.py";
    meta.start_tick = 1000;
    meta.ns_per_tick = 2.5;
    meta.start_unix_ns = 1700000000123456789ll;
    rw_writer *w = NULL;
    rw_err err = {0};
    ck_assert_msg(rw_writer_open(path, &o, 1, &meta, &w, &err) == RW_OK, "%s", err.msg);
    rw_writer_def_file(w, 1, "/t/x.py", source, sizeof source - 1, 1);
    const char *args[] = {"n"};
    rw_writer_def_code(w, 1, 1, "<module>", "<module>", 1, 0, NULL, 0);
    rw_writer_def_code(w, 2, 1, "f", "f", 3, 0, args, 1);
    rw_writer_def_code(w, 3, 1, "g", "C.g", 10, 0, NULL, 0);
    rw_writer_def_cfunc(w, 1, "<built-in method builtins.len>", "len", "builtins");
    rw_writer_def_cfunc(w, 2, "<method 'append' of 'list' objects>", "append", "");
    rw_writer_def_thread(w, 1, 140001, 4001, "MainThread", 1);
    rw_writer_def_thread(w, 2, 140002, 4002, "worker", 0);
    rw_writer_def_name(w, 1, "ValueError");
    rw_writer_def_name(w, 2, "open");
    g->s = rw_writer_stream(w);

    /* The recorder names the running thread first (the encoder starts on thread 0,
     * "unknown"; before any event, time is the first chunk's first_tick, 0). */
    exp_rec *e = push_exp(g, RW_K_THREAD);
    e->thread = e->name = 1;
    e->tick = 0;
    rw_stream_put(g->s, RW_REC(RW_K_THREAD, g->tick), 1);
    /* The main thread starts in <module>. */
    e = push_exp(g, RW_K_CALL);
    g->th[1].f[0] = (mframe){1, 1, 0};
    g->th[1].depth = 1;
    e->code = 1;
    e->line = 1;
    e->depth = e->depth_after = 1;
    rw_stream_put(g->s, RW_REC(RW_K_CALL, e->tick), 1 | (uint64_t)1 << 32);
    while (g->n < nrecs)
        gen_step(g);

    Rewind__RunEnd end = REWIND__RUN_END__INIT;
    end.exit_status = 1;
    end.uncaught_type = "ValueError";
    end.uncaught_message = "boom";
    end.stop_reason = "exit";
    ck_assert_msg(rw_writer_close(w, with_end ? &end : NULL, NULL, &err) == RW_OK, "%s", err.msg);
}

/* ---- comparing ------------------------------------------------------------------ */

static void check_rec(const rw_event *ev, const exp_rec *e, size_t i)
{
    ck_assert_msg(ev->kind == e->kind, "record %zu: kind %s, want %s", i, rw_kind_name(ev->kind),
                  rw_kind_name(e->kind));
    ck_assert_msg(ev->pos == e->pos, "record %zu: pos %llu, want %llu", i,
                  (unsigned long long)ev->pos, (unsigned long long)e->pos);
    ck_assert_msg(ev->thread == e->thread, "record %zu: thread %u want %u", i, ev->thread,
                  e->thread);
    ck_assert_msg(ev->tick == e->tick, "record %zu (%s): tick %llu want %llu", i,
                  rw_kind_name(e->kind), (unsigned long long)ev->tick,
                  (unsigned long long)e->tick);
    ck_assert_msg(ev->code == e->code, "record %zu (%s): code %u want %u", i,
                  rw_kind_name(e->kind), ev->code, e->code);
    ck_assert_msg(ev->depth == e->depth, "record %zu (%s): depth %u want %u", i,
                  rw_kind_name(e->kind), ev->depth, e->depth);
    /* C_RETURN and C_EXCEPTION carry no line in the decoder. */
    if (e->kind != RW_K_C_RETURN && e->kind != RW_K_C_EXCEPTION)
        ck_assert_msg(ev->line == e->line, "record %zu (%s): line %u want %u", i,
                      rw_kind_name(e->kind), ev->line, e->line);
    if (RW_IS_ALLOC(e->kind))
        ck_assert_uint_eq(ev->size, e->size);
    if (RW_IS_ALLOC(e->kind) || RW_IS_FREE(e->kind))
        ck_assert_msg(ev->addr == e->addr, "record %zu: addr %#llx want %#llx", i,
                      (unsigned long long)ev->addr, (unsigned long long)e->addr);
    if (RW_HAS_TEXT(e->kind) || e->kind == RW_K_THREAD)
        ck_assert_uint_eq(ev->name, e->name);
    if (RW_HAS_TEXT(e->kind)) {
        ck_assert_uint_eq(ev->text_len, e->text_len);
        ck_assert(memcmp(ev->text, e->text, e->text_len) == 0);
    }
}

/* A digest of every thread's shadow stack as the cursor sees it now. */
static uint64_t stacks_digest(const rw_cursor *c)
{
    uint64_t h = 1469598103934665603ull;
    for (uint32_t t = 1; t <= 2; t++) {
        const rw_stack *st = rw_cursor_stack(c, t);
        uint32_t depth = st ? st->depth : 0;
        h = (h ^ depth) * 1099511628211ull;
        for (uint32_t i = 0; i < depth; i++) {
            const rw_frame *f = &st->frames[i];
            h = (h ^ f->code) * 1099511628211ull;
            h = (h ^ f->line) * 1099511628211ull;
            h = (h ^ f->is_c) * 1099511628211ull;
            h = (h ^ f->call_pos) * 1099511628211ull;
        }
    }
    return h;
}

/* Reads every record of r and checks it against the model prefix. Returns the
 * number of records read; *failed tells whether the cursor reported an error. */
static size_t read_and_check(const rw_reader *r, const gen *g, int *failed)
{
    rw_cursor *c = NULL;
    rw_err err = {0};
    ck_assert_int_eq(rw_cursor_new(r, 0, SIZE_MAX, &c, &err), RW_OK);
    rw_event ev;
    size_t i = 0;
    int rc;
    while ((rc = rw_cursor_next(c, &ev, &err)) == 1) {
        ck_assert_msg(i < g->n, "more records than were written");
        check_rec(&ev, &g->recs[i], i);
        i++;
    }
    *failed = rc < 0;
    rw_cursor_free(c);
    return i;
}

static char *trace_path(const char *name)
{
    return rw_test_path(name);
}

/* ---- tests ---------------------------------------------------------------------- */

START_TEST(round_trip_every_record)
{
    char *path = trace_path("rt.rwd");
    gen g;
    write_trace(path, 3000, 97, 3, 7, 1, &g);
    rw_reader *r = NULL;
    rw_err err = {0};
    ck_assert_msg(rw_reader_open(path, &r, &err) == RW_OK, "%s", err.msg);
    ck_assert_int_eq(rw_reader_recovery(r)->used, 0);
    ck_assert_uint_eq(rw_reader_nrecords(r), g.n);
    ck_assert_uint_eq(rw_reader_nevents(r), g.pos);
    ck_assert_uint_ge(rw_reader_nchunks(r), 20);

    const Rewind__Metadata *m = rw_reader_metadata(r);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(m->n_argv, 2);
    ck_assert_str_eq(m->argv[1], "--flag");
    ck_assert_str_eq(m->run_target, "x.py");
    ck_assert_uint_eq(m->format_version, RW_FORMAT_VERSION);
    ck_assert(rw_reader_tick_ns(r, 1100) == 250.0);
    ck_assert(rw_reader_tick_ns(r, 900) == -250.0);

    const rw_defs *d = rw_reader_defs(r);
    ck_assert_uint_eq(d->nfiles, 2);
    ck_assert_uint_eq(d->ncodes, 4);
    ck_assert_uint_eq(d->ncfuncs, 3);
    ck_assert_uint_eq(d->nthreads, 3);
    ck_assert_uint_eq(d->nnames, 3);
    ck_assert_str_eq(d->files[0]->path, "");
    ck_assert_str_eq(d->files[1]->path, "/t/x.py");
    ck_assert_uint_eq(d->files[1]->source.len, sizeof source - 1);
    ck_assert_str_eq(d->codes[3]->qualname, "C.g");
    ck_assert_uint_eq(d->codes[2]->first_line, 3);
    ck_assert_str_eq(d->cfuncs[1]->label, "<built-in method builtins.len>");
    ck_assert_str_eq(d->threads[2]->name, "worker");
    ck_assert_str_eq(d->names[2]->text, "open");

    const Rewind__RunEnd *end = rw_reader_end(r);
    ck_assert_ptr_nonnull(end);
    ck_assert_int_eq(end->exit_status, 1);
    ck_assert_str_eq(end->uncaught_type, "ValueError");
    ck_assert_uint_eq(end->events, g.pos);
    uint64_t counts[RW_KIND_MAX] = {0};
    for (size_t i = 0; i < g.n; i++)
        counts[g.recs[i].kind]++;
    for (size_t k = 0; k < end->n_kind_counts && k < RW_KIND_MAX; k++)
        ck_assert_msg(end->kind_counts[k] == counts[k], "kind %zu", k);

    /* Chunk infos tile the event numbers. */
    uint64_t next = 0;
    for (size_t i = 0; i < rw_reader_nchunks(r); i++) {
        const rw_chunk_info *ci = rw_reader_chunk(r, i);
        ck_assert_uint_eq(ci->first_event, next);
        next += ci->event_count;
        ck_assert_uint_eq(rw_reader_find_chunk(r, ci->first_event), i);
    }
    ck_assert_ptr_null(rw_reader_chunk(r, rw_reader_nchunks(r)));

    int failed;
    ck_assert_uint_eq(read_and_check(r, &g, &failed), g.n);
    ck_assert(!failed);

    /* The stack after each record matches the model's depth. */
    rw_cursor *c = NULL;
    ck_assert_int_eq(rw_cursor_new(r, 0, SIZE_MAX, &c, &err), RW_OK);
    rw_event ev;
    for (size_t i = 0; rw_cursor_next(c, &ev, &err) == 1; i++) {
        const rw_stack *st = rw_cursor_stack(c, ev.thread);
        ck_assert_ptr_nonnull(st);
        ck_assert_msg(st->depth == g.recs[i].depth_after, "record %zu: depth %u want %u", i,
                      st->depth, g.recs[i].depth_after);
        ck_assert_uint_eq(rw_cursor_thread(c), ev.thread);
    }
    rw_cursor_free(c);
    rw_reader_free(r);
    free(g.recs);
    free(path);
}
END_TEST

/* With RW_DECODE_SKIP_ALLOCS the cursor gives exactly the other records, and seeks
 * still land on the first remaining record of each position. */
START_TEST(skip_allocations)
{
    char *path = trace_path("skip.rwd");
    gen g;
    write_trace(path, 1500, 70, 3, 23, 1, &g);
    rw_reader *r = NULL;
    rw_err err = {0};
    ck_assert_int_eq(rw_reader_open(path, &r, &err), RW_OK);
    rw_cursor *c = NULL;
    ck_assert_int_eq(rw_cursor_new(r, 0, SIZE_MAX, &c, &err), RW_OK);
    rw_cursor_set_flags(c, RW_DECODE_SKIP_ALLOCS);
    rw_event ev;
    size_t i = 0, skipped = 0;
    while (rw_cursor_next(c, &ev, &err) == 1) {
        while (i < g.n && (RW_IS_ALLOC(g.recs[i].kind) || RW_IS_FREE(g.recs[i].kind))) {
            i++;
            skipped++;
        }
        ck_assert_uint_lt(i, g.n);
        check_rec(&ev, &g.recs[i], i);
        i++;
    }
    while (i < g.n && (RW_IS_ALLOC(g.recs[i].kind) || RW_IS_FREE(g.recs[i].kind))) {
        i++;
        skipped++;
    }
    ck_assert_uint_eq(i, g.n);
    ck_assert_uint_gt(skipped, 50);
    for (uint64_t pos = 0; pos < rw_reader_nevents(r); pos += 7) {
        ck_assert_int_eq(rw_cursor_seek(c, pos, &err), RW_OK);
        size_t want = 0;
        while (g.recs[want].pos < pos || RW_IS_ALLOC(g.recs[want].kind) ||
               RW_IS_FREE(g.recs[want].kind))
            want++;
        ck_assert_int_eq(rw_cursor_next(c, &ev, &err), 1);
        check_rec(&ev, &g.recs[want], want);
    }
    rw_cursor_free(c);
    rw_reader_free(r);
    free(g.recs);
    free(path);
}
END_TEST

/* rw_cursor_unload between any two records (with allocations skipped, as the engine's
 * check reads, and without): the next records and the stacks are the same as from a
 * cursor that kept its chunk. */
START_TEST(unload_keeps_the_place)
{
    char *path = trace_path("unload.rwd");
    gen g;
    write_trace(path, 1500, 70, 3, 29, 1, &g);
    rw_reader *r = NULL;
    rw_err err = {0};
    ck_assert_int_eq(rw_reader_open(path, &r, &err), RW_OK);
    for (unsigned flags = 0; flags <= RW_DECODE_SKIP_ALLOCS; flags += RW_DECODE_SKIP_ALLOCS) {
        rw_cursor *a = NULL, *b = NULL;
        ck_assert_int_eq(rw_cursor_new(r, 0, SIZE_MAX, &a, &err), RW_OK);
        ck_assert_int_eq(rw_cursor_new(r, 0, SIZE_MAX, &b, &err), RW_OK);
        rw_cursor_set_flags(a, flags);
        rw_cursor_set_flags(b, flags);
        rw_event ea, eb;
        size_t n = 0;
        for (;;) {
            if (n % 3 == 0 || n % 70 == 69)
                rw_cursor_unload(b);
            int ra = rw_cursor_next(a, &ea, &err), rb = rw_cursor_next(b, &eb, &err);
            ck_assert_int_eq(ra, rb);
            if (ra != 1)
                break;
            exp_rec want = {.kind = ea.kind, .pos = ea.pos, .thread = ea.thread,
                            .tick = ea.tick, .code = ea.code, .depth = ea.depth,
                            .line = ea.line, .size = ea.size, .addr = ea.addr,
                            .name = ea.name,
                            .text_len = ea.text_len < sizeof want.text ? ea.text_len : 0};
            if (want.text_len)
                memcpy(want.text, ea.text, want.text_len);
            ck_assert_uint_eq(eb.text_len, ea.text_len);
            check_rec(&eb, &want, n);
            ck_assert(ea.text_len == 0 || memcmp(ea.text, eb.text, ea.text_len) == 0);
            ck_assert_uint_eq(rw_cursor_thread(a), rw_cursor_thread(b));
            const rw_stack *sa = rw_cursor_stack(a, ea.thread), *sb = rw_cursor_stack(b, eb.thread);
            ck_assert_int_eq(sa == NULL, sb == NULL);
            if (sa) {
                ck_assert_uint_eq(sa->depth, sb->depth);
                uint32_t d = sa->depth < sa->cap ? sa->depth : sa->cap;
                ck_assert(d == 0 || memcmp(sa->frames, sb->frames, d * sizeof sa->frames[0]) == 0);
            }
            n++;
        }
        ck_assert_uint_gt(n, 1000);
        /* Unloaded, then placed anew by a seek: the seek wins. */
        rw_cursor_unload(b);
        ck_assert_int_eq(rw_cursor_seek(b, 100, &err), RW_OK);
        ck_assert_int_eq(rw_cursor_seek(a, 100, &err), RW_OK);
        ck_assert_int_eq(rw_cursor_next(a, &ea, &err), 1);
        ck_assert_int_eq(rw_cursor_next(b, &eb, &err), 1);
        ck_assert_uint_eq(ea.pos, eb.pos);
        ck_assert_uint_eq(ea.kind, eb.kind);
        rw_cursor_free(a);
        rw_cursor_free(b);
    }
    rw_reader_free(r);
    free(g.recs);
    free(path);
}
END_TEST

START_TEST(round_trip_untimed_lines)
{
    char *path = trace_path("untimed.rwd");
    gen g;
    line_times = 0;
    write_trace(path, 2000, 150, 3, 17, 1, &g);
    line_times = 1;
    rw_reader *r = NULL;
    rw_err err = {0};
    ck_assert_msg(rw_reader_open(path, &r, &err) == RW_OK, "%s", err.msg);
    ck_assert(!rw_reader_metadata(r)->options->line_times);
    int failed;
    ck_assert_uint_eq(read_and_check(r, &g, &failed), g.n);
    ck_assert(!failed);
    rw_reader_free(r);
    free(g.recs);
    free(path);
}
END_TEST

START_TEST(round_trip_raw_frames_and_one_chunk)
{
    char *path = trace_path("raw.rwd");
    gen g;
    write_trace(path, 500, 100000, 0, 99, 1, &g);
    rw_reader *r = NULL;
    rw_err err = {0};
    ck_assert_msg(rw_reader_open(path, &r, &err) == RW_OK, "%s", err.msg);
    ck_assert_uint_eq(rw_reader_nchunks(r), 1);
    int failed;
    ck_assert_uint_eq(read_and_check(r, &g, &failed), g.n);
    ck_assert(!failed);
    rw_reader_free(r);
    free(g.recs);
    free(path);
}
END_TEST

START_TEST(seek_every_event)
{
    char *path = trace_path("seek.rwd");
    gen g;
    write_trace(path, 1500, 61, 3, 3, 1, &g);
    rw_reader *r = NULL;
    rw_err err = {0};
    ck_assert_msg(rw_reader_open(path, &r, &err) == RW_OK, "%s", err.msg);

    /* Sequential pass: the stacks before each record. */
    uint64_t *before = malloc((g.n + 1) * sizeof *before);
    rw_cursor *c = NULL;
    ck_assert_int_eq(rw_cursor_new(r, 0, SIZE_MAX, &c, &err), RW_OK);
    rw_event ev;
    before[0] = stacks_digest(c);
    size_t n = 0;
    while (rw_cursor_next(c, &ev, &err) == 1)
        before[++n] = stacks_digest(c);
    ck_assert_uint_eq(n, g.n);

    /* Seek to every event, forwards, then backwards from the end. */
    uint64_t nev = rw_reader_nevents(r);
    for (int pass = 0; pass < 2; pass++) {
        for (uint64_t k = 0; k <= nev; k++) {
            uint64_t pos = pass == 0 ? k : nev - k;
            ck_assert_msg(rw_cursor_seek(c, pos, &err) == RW_OK, "%s", err.msg);
            size_t want = 0;
            while (want < g.n && g.recs[want].pos < pos)
                want++;
            /* The stacks are those just before the target record. */
            ck_assert_msg(stacks_digest(c) == before[want], "seek %llu: stacks differ",
                          (unsigned long long)pos);
            int rc = rw_cursor_next(c, &ev, &err);
            if (want == g.n) {
                ck_assert_int_eq(rc, 0);
                continue;
            }
            ck_assert_int_eq(rc, 1);
            check_rec(&ev, &g.recs[want], want);
            ck_assert(stacks_digest(c) == before[want + 1]);
        }
    }
    /* Out of range. */
    ck_assert_int_eq(rw_cursor_seek(c, nev + 1, &err), RW_EINVAL);
    rw_cursor_free(c);

    /* A cursor over chunks 2..3 only. */
    ck_assert_uint_ge(rw_reader_nchunks(r), 5);
    ck_assert_int_eq(rw_cursor_new(r, 2, 3, &c, &err), RW_OK);
    const rw_chunk_info *c2 = rw_reader_chunk(r, 2), *c3 = rw_reader_chunk(r, 3);
    ck_assert_int_eq(rw_cursor_seek(c, c2->first_event - 1, &err), RW_EINVAL);
    ck_assert_int_eq(rw_cursor_seek(c, c3->first_event + c3->event_count + 1, &err), RW_EINVAL);
    ck_assert_int_eq(rw_cursor_seek(c, c2->first_event, &err), RW_OK);
    uint64_t recs = 0;
    while (rw_cursor_next(c, &ev, &err) == 1)
        recs++;
    ck_assert_uint_ge(recs, c2->event_count + c3->event_count);
    ck_assert_uint_le(recs, c2->record_count + c3->record_count);
    rw_cursor_free(c);
    ck_assert_int_eq(rw_cursor_new(r, rw_reader_nchunks(r) + 1, SIZE_MAX, &c, &err), RW_EINVAL);
    ck_assert_int_eq(rw_cursor_new(r, 3, 2, &c, &err), RW_EINVAL);

    free(before);
    rw_reader_free(r);
    free(g.recs);
    free(path);
}
END_TEST

/* Every prefix of the file: an error (nothing readable yet) or a recovered prefix
 * of the records, growing with the prefix. */
START_TEST(cut_at_every_byte)
{
    char *path = trace_path("cut.rwd");
    gen g;
    write_trace(path, 400, 37, 3, 11, 1, &g);
    size_t len = 0;
    uint8_t *buf = rw_test_read_file(path, &len);
    ck_assert_ptr_nonnull(buf);
    uint64_t prev_events = 0;
    size_t opened = 0;
    for (size_t cut = 0; cut <= len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1); /* exact size: ASan sees any overread */
        memcpy(copy, buf, cut);
        rw_reader *r = NULL;
        rw_err err = {0};
        rw_code rc = rw_reader_open_mem(copy, cut, "cut.rwd", &r, &err);
        if (rc != RW_OK) {
            ck_assert_msg(rc == RW_ECORRUPT, "cut %zu: %s", cut, err.msg);
            ck_assert_msg(strncmp(err.msg, "cut.rwd: ", 9) == 0, "%s", err.msg);
            ck_assert_msg(opened == 0, "cut %zu fails after a shorter cut opened: %s", cut,
                          err.msg);
            free(copy);
            continue;
        }
        opened++;
        const rw_recovery *rec = rw_reader_recovery(r);
        ck_assert_int_eq(rec->used, cut != len);
        if (rec->used) {
            ck_assert_uint_le(rec->good_bytes, cut);
            ck_assert_uint_eq(rec->file_bytes, cut);
            ck_assert_uint_eq(rec->events, rw_reader_nevents(r));
            ck_assert_uint_eq(rec->chunks, rw_reader_nchunks(r));
            ck_assert(rec->why[0]);
        }
        ck_assert_uint_ge(rw_reader_nevents(r), prev_events);
        prev_events = rw_reader_nevents(r);
        int failed;
        size_t n = read_and_check(r, &g, &failed);
        ck_assert_msg(!failed, "cut %zu: recovered chunks must read in full", cut);
        ck_assert_uint_eq(n, rw_reader_nrecords(r));
        if (cut == len)
            ck_assert_uint_eq(n, g.n);
        rw_reader_free(r);
        free(copy);
    }
    ck_assert_uint_gt(opened, len / 2);
    free(buf);
    free(g.recs);
    free(path);
}
END_TEST

/* Every byte flipped in turn: an error at open, or records that match the model up
 * to the first error. */
START_TEST(flip_every_byte)
{
    char *path = trace_path("flip.rwd");
    gen g;
    write_trace(path, 300, 41, 3, 5, 1, &g);
    size_t len = 0;
    uint8_t *buf = rw_test_read_file(path, &len);
    ck_assert_ptr_nonnull(buf);
    size_t opened = 0, recovered = 0;
    for (size_t at = 0; at < len; at++) {
        uint8_t *copy = malloc(len);
        memcpy(copy, buf, len);
        copy[at] ^= 0xff;
        rw_reader *r = NULL;
        rw_err err = {0};
        rw_code rc = rw_reader_open_mem(copy, len, "flip.rwd", &r, &err);
        if (rc != RW_OK) {
            ck_assert_msg(rc == RW_ECORRUPT || rc == RW_EVERSION, "flip %zu: %s", at, err.msg);
            ck_assert(err.msg[0]);
            free(copy);
            continue;
        }
        opened++;
        recovered += rw_reader_recovery(r)->used;
        int failed;
        read_and_check(r, &g, &failed);
        rw_reader_free(r);
        free(copy);
    }
    ck_assert_uint_gt(opened, len / 2);
    ck_assert_uint_gt(recovered, 0);
    free(buf);
    free(g.recs);
    free(path);
}
END_TEST

START_TEST(missing_footer)
{
    char *path = trace_path("nofoot.rwd");
    gen g;
    write_trace(path, 800, 50, 3, 21, 1, &g);
    size_t len = 0;
    uint8_t *buf = rw_test_read_file(path, &len);
    ck_assert_ptr_nonnull(buf);

    /* Without the trailer: everything is recovered by scanning. */
    rw_reader *r = NULL;
    rw_err err = {0};
    ck_assert_int_eq(rw_reader_open_mem(buf, len - RW_TRAILER_LEN, "nofoot.rwd", &r, &err), RW_OK);
    const rw_recovery *rec = rw_reader_recovery(r);
    ck_assert_int_eq(rec->used, 1);
    ck_assert_uint_eq(rec->events, g.pos);
    ck_assert_uint_eq(rec->good_bytes, len - RW_TRAILER_LEN);
    ck_assert_msg(strstr(rec->why, "trailer") != NULL, "%s", rec->why);
    ck_assert_ptr_nonnull(rw_reader_end(r));
    int failed;
    ck_assert_uint_eq(read_and_check(r, &g, &failed), g.n);
    ck_assert(!failed);
    /* The scan measured each chunk's last tick and built its line filter, as the
     * index would have them. */
    rw_reader *ri = NULL;
    ck_assert_int_eq(rw_reader_open_mem(buf, len, "nofoot.rwd", &ri, &err), RW_OK);
    ck_assert_uint_eq(rw_reader_nchunks(ri), rw_reader_nchunks(r));
    for (size_t i = 0; i < rw_reader_nchunks(r); i++) {
        const rw_chunk_info *a = rw_reader_chunk(r, i), *b = rw_reader_chunk(ri, i);
        ck_assert_uint_eq(a->first_event, b->first_event);
        ck_assert_uint_eq(a->event_count, b->event_count);
        ck_assert_uint_eq(a->record_count, b->record_count);
        ck_assert_uint_eq(a->first_tick, b->first_tick);
        ck_assert_uint_eq(a->last_tick, b->last_tick);
        ck_assert_uint_gt(b->filter_len, 0);
        ck_assert_uint_eq(a->filter_len, b->filter_len);
        ck_assert(memcmp(a->filter, b->filter, a->filter_len) == 0);
    }
    rw_reader_free(ri);
    rw_reader_free(r);

    /* A trailer pointing at garbage: same. */
    uint8_t *bad = malloc(len);
    memcpy(bad, buf, len);
    rw_trailer_encode(bad + len - RW_TRAILER_LEN, RW_HEADER_LEN + 1);
    ck_assert_int_eq(rw_reader_open_mem(bad, len, "bad.rwd", &r, &err), RW_OK);
    ck_assert_int_eq(rw_reader_recovery(r)->used, 1);
    ck_assert_uint_eq(rw_reader_nevents(r), g.pos);
    ck_assert_msg(strstr(rw_reader_recovery(r)->why, "index frame") != NULL, "%s",
                  rw_reader_recovery(r)->why);
    rw_reader_free(r);
    free(bad);
    free(buf);
    free(g.recs);
    free(path);
}
END_TEST

/* Rewrites a trace's INDEX frame after edit() changed its message; the CRCs are
 * valid, so only the reader's checks of the entries can catch the lie. */
static uint8_t *rewrite_index(const uint8_t *buf, size_t len, void (*edit)(Rewind__Index *),
                              size_t *out_len)
{
    uint64_t ioff = 0;
    rw_err err = {0};
    ck_assert_int_eq(rw_trailer_decode(buf + len - RW_TRAILER_LEN, &ioff, &err), RW_OK);
    rw_frame_header h;
    ck_assert_int_eq(rw_frame_header_decode(buf + ioff, &h, &err), RW_OK);
    ck_assert_uint_eq(h.type, RW_FRAME_INDEX);
    uint8_t *raw = NULL;
    ck_assert_int_eq(rw_frame_payload_decode(&h, buf + ioff + RW_FRAME_HEADER_LEN, &raw, &err),
                     RW_OK);
    Rewind__Index *ix = rewind__index__unpack(NULL, h.raw_len, raw);
    ck_assert_ptr_nonnull(ix);
    edit(ix);
    size_t plen = rewind__index__get_packed_size(ix);
    uint8_t *p = malloc(plen ? plen : 1);
    rewind__index__pack(ix, p);
    uint8_t *frame;
    size_t flen;
    ck_assert_int_eq(rw_frame_build(RW_FRAME_INDEX, p, plen, 3, &frame, &flen, &err), RW_OK);
    *out_len = ioff + flen + RW_TRAILER_LEN;
    uint8_t *out = malloc(*out_len);
    memcpy(out, buf, ioff);
    memcpy(out + ioff, frame, flen);
    rw_trailer_encode(out + ioff + flen, ioff);
    free(frame);
    free(p);
    free(raw);
    rewind__index__free_unpacked(ix, NULL);
    return out;
}

static void edit_totals(Rewind__Index *ix) { ix->total_events++; }

static void edit_overlap(Rewind__Index *ix)
{
    ck_assert_uint_ge(ix->n_frames, 3);
    ix->frames[2]->offset = ix->frames[1]->offset + 1;
}

static void edit_numbering(Rewind__Index *ix)
{
    for (size_t i = 0; i < ix->n_frames; i++) {
        if (ix->frames[i]->type == RW_FRAME_CHUNK && ix->frames[i]->first_event > 0) {
            ix->frames[i]->first_event--;
            return;
        }
    }
    ck_abort_msg("no second chunk");
}

static void edit_wrong_type(Rewind__Index *ix)
{
    for (size_t i = 0; i < ix->n_frames; i++) {
        if (ix->frames[i]->type == RW_FRAME_DEFINITIONS) {
            ix->frames[i]->type = RW_FRAME_END;
            return;
        }
    }
    ck_abort_msg("no definitions frame");
}

static void edit_chunk_count(Rewind__Index *ix)
{
    for (size_t i = 0; i < ix->n_frames; i++) {
        if (ix->frames[i]->type == RW_FRAME_CHUNK) {
            ix->frames[i]->event_count++;
            ix->frames[i]->record_count++;
            ix->total_events++;
            ix->total_records++;
            /* Later chunks would no longer follow on: shift them too. */
            for (size_t j = i + 1; j < ix->n_frames; j++)
                if (ix->frames[j]->type == RW_FRAME_CHUNK)
                    ix->frames[j]->first_event++;
            return;
        }
    }
}

START_TEST(index_lies_are_caught)
{
    char *path = trace_path("lies.rwd");
    gen g;
    write_trace(path, 500, 60, 3, 12, 1, &g);
    size_t len = 0, blen = 0;
    uint8_t *buf = rw_test_read_file(path, &len);
    static const struct {
        void (*edit)(Rewind__Index *);
        const char *why;
    } cases[] = {
        {edit_totals, "index totals"},
        {edit_overlap, "overlaps"},
        {edit_numbering, "expected"},
        {edit_wrong_type, "index says a end frame"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *bad = rewrite_index(buf, len, cases[i].edit, &blen);
        rw_reader *r = NULL;
        rw_err err = {0};
        ck_assert_msg(rw_reader_open_mem(bad, blen, "lies.rwd", &r, &err) == RW_OK, "%s",
                      err.msg);
        /* The index is refused, the scan reads everything, the reason is kept. */
        const rw_recovery *rec = rw_reader_recovery(r);
        ck_assert_int_eq(rec->used, 1);
        ck_assert_msg(strstr(rec->why, cases[i].why), "case %zu: %s", i, rec->why);
        ck_assert_uint_eq(rw_reader_nevents(r), g.pos);
        int failed;
        ck_assert_uint_eq(read_and_check(r, &g, &failed), g.n);
        rw_reader_free(r);
        free(bad);
    }
    /* Counts that still add up but disagree with the chunk itself are caught when
     * the chunk is loaded. */
    uint8_t *bad = rewrite_index(buf, len, edit_chunk_count, &blen);
    rw_reader *r = NULL;
    rw_err err = {0};
    ck_assert_int_eq(rw_reader_open_mem(bad, blen, "lies.rwd", &r, &err), RW_OK);
    ck_assert_int_eq(rw_reader_recovery(r)->used, 0);
    rw_chunk *ch = NULL;
    ck_assert_int_eq(rw_reader_load_chunk(r, 0, &ch, &err), RW_ECORRUPT);
    ck_assert_msg(strstr(err.msg, "the index says"), "%s", err.msg);
    int failed;
    ck_assert_uint_eq(read_and_check(r, &g, &failed), 0);
    ck_assert(failed);
    rw_reader_free(r);
    free(bad);
    free(buf);
    free(g.recs);
    free(path);
}
END_TEST

START_TEST(cut_short_without_end)
{
    char *path = trace_path("noend.rwd");
    gen g;
    write_trace(path, 600, 64, 3, 33, 0, &g);
    rw_reader *r = NULL;
    rw_err err = {0};
    ck_assert_msg(rw_reader_open(path, &r, &err) == RW_OK, "%s", err.msg);
    ck_assert_int_eq(rw_reader_recovery(r)->used, 0);
    ck_assert_ptr_null(rw_reader_end(r));
    int failed;
    ck_assert_uint_eq(read_and_check(r, &g, &failed), g.n);
    rw_reader_free(r);
    free(g.recs);
    free(path);
}
END_TEST

START_TEST(wrong_version_and_not_a_trace)
{
    char *path = trace_path("ver.rwd");
    gen g;
    write_trace(path, 50, 64, 3, 1, 1, &g);
    size_t len = 0;
    uint8_t *buf = rw_test_read_file(path, &len);
    buf[8] = 9; /* a newer version's header: same layout, CRC made right */
    uint32_t crc = rw_crc32c(0, buf, 28);
    memcpy(buf + 28, &crc, 4);
    rw_reader *r = NULL;
    rw_err err = {0};
    ck_assert_int_eq(rw_reader_open_mem(buf, len, "ver.rwd", &r, &err), RW_EVERSION);
    ck_assert_msg(strstr(err.msg, "ver.rwd: ") == err.msg && strstr(err.msg, "version 9"), "%s",
                  err.msg);
    ck_assert_int_eq(rw_reader_open_mem((const uint8_t *)"hello", 5, "h.txt", &r, &err),
                     RW_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(err.msg, "not a rewind trace"));
    ck_assert_int_eq(rw_reader_open_mem(NULL, 0, "empty", &r, &err), RW_ECORRUPT);
    memset(buf, 'x', 64);
    ck_assert_int_eq(rw_reader_open_mem(buf, len, "junk", &r, &err), RW_ECORRUPT);

    char *missing = trace_path("does-not-exist.rwd");
    ck_assert_int_eq(rw_reader_open(missing, &r, &err), RW_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "does-not-exist.rwd: No such file"));
    ck_assert_int_eq(rw_reader_open(rw_test_tmpdir(), &r, &err), RW_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "not a regular file"));
    free(missing);
    free(buf);
    free(g.recs);
    free(path);
}
END_TEST

/* Hand-built files: header + frames given as (type, protobuf message) pairs. */
static uint8_t *build_file(size_t *len, const unsigned *types, ProtobufCMessage **msgs, size_t n)
{
    size_t cap = RW_HEADER_LEN, used = RW_HEADER_LEN;
    uint8_t *out = malloc(cap);
    rw_header_encode(out, 1);
    for (size_t i = 0; i < n; i++) {
        size_t plen = protobuf_c_message_get_packed_size(msgs[i]);
        uint8_t *p = malloc(plen ? plen : 1);
        protobuf_c_message_pack(msgs[i], p);
        uint8_t *f;
        size_t flen;
        rw_err err;
        ck_assert_int_eq(rw_frame_build(types[i], p, plen, 3, &f, &flen, &err), RW_OK);
        out = realloc(out, used + flen);
        memcpy(out + used, f, flen);
        used += flen;
        free(f);
        free(p);
    }
    *len = used;
    return out;
}

START_TEST(definitions_must_be_dense)
{
    Rewind__Metadata meta = REWIND__METADATA__INIT;
    Rewind__FileDef f2 = REWIND__FILE_DEF__INIT;
    f2.id = 2;
    f2.path = "/skipped/one.py";
    Rewind__FileDef *files[] = {&f2};
    Rewind__Definitions defs = REWIND__DEFINITIONS__INIT;
    defs.n_files = 1;
    defs.files = files;
    unsigned types[] = {RW_FRAME_METADATA, RW_FRAME_DEFINITIONS};
    ProtobufCMessage *msgs[] = {&meta.base, &defs.base};
    size_t len;
    uint8_t *buf = build_file(&len, types, msgs, 2);
    rw_reader *r = NULL;
    rw_err err = {0};
    ck_assert_int_eq(rw_reader_open_mem(buf, len, "d.rwd", &r, &err), RW_OK);
    const rw_recovery *rec = rw_reader_recovery(r);
    ck_assert_int_eq(rec->used, 1);
    ck_assert_msg(strstr(rec->why, "frame 1 at offset") && strstr(rec->why, "file id 2 where 1"),
                  "%s", rec->why);
    ck_assert_uint_lt(rec->good_bytes, len);
    rw_reader_free(r);
    free(buf);

    /* A code naming a file that is not defined. */
    Rewind__CodeDef c1 = REWIND__CODE_DEF__INIT;
    c1.id = 1;
    c1.file = 5;
    Rewind__CodeDef *codes[] = {&c1};
    Rewind__Definitions defs2 = REWIND__DEFINITIONS__INIT;
    defs2.n_codes = 1;
    defs2.codes = codes;
    msgs[1] = &defs2.base;
    buf = build_file(&len, types, msgs, 2);
    ck_assert_int_eq(rw_reader_open_mem(buf, len, "d.rwd", &r, &err), RW_OK);
    ck_assert_msg(strstr(rw_reader_recovery(r)->why, "undefined file 5"), "%s",
                  rw_reader_recovery(r)->why);
    /* A rejected frame adds nothing, not even its valid part. */
    ck_assert_uint_eq(rw_reader_defs(r)->ncodes, 1);
    rw_reader_free(r);
    free(buf);

    /* Valid files and codes followed by a bad thread id: all rolled back. */
    Rewind__FileDef f1 = REWIND__FILE_DEF__INIT;
    f1.id = 1;
    f1.path = "/ok.py";
    Rewind__CodeDef c1ok = REWIND__CODE_DEF__INIT;
    c1ok.id = 1;
    c1ok.file = 1;
    Rewind__ThreadDef t7 = REWIND__THREAD_DEF__INIT;
    t7.id = 7;
    Rewind__FileDef *files1[] = {&f1};
    Rewind__CodeDef *codes1[] = {&c1ok};
    Rewind__ThreadDef *threads1[] = {&t7};
    Rewind__Definitions defs3 = REWIND__DEFINITIONS__INIT;
    defs3.n_files = 1;
    defs3.files = files1;
    defs3.n_codes = 1;
    defs3.codes = codes1;
    defs3.n_threads = 1;
    defs3.threads = threads1;
    msgs[1] = &defs3.base;
    buf = build_file(&len, types, msgs, 2);
    ck_assert_int_eq(rw_reader_open_mem(buf, len, "d.rwd", &r, &err), RW_OK);
    ck_assert_msg(strstr(rw_reader_recovery(r)->why, "thread id 7 where 1"), "%s",
                  rw_reader_recovery(r)->why);
    ck_assert_uint_eq(rw_reader_defs(r)->nfiles, 1);
    ck_assert_uint_eq(rw_reader_defs(r)->ncodes, 1);
    rw_reader_free(r);
    free(buf);

    /* The first frame is not metadata: nothing is readable. */
    unsigned t2[] = {RW_FRAME_DEFINITIONS};
    msgs[0] = &defs2.base;
    buf = build_file(&len, t2, msgs, 1);
    ck_assert_int_eq(rw_reader_open_mem(buf, len, "d.rwd", &r, &err), RW_ECORRUPT);
    ck_assert_msg(strstr(err.msg, "frame 0 at offset 32"), "%s", err.msg);
    free(buf);

    /* Header alone. */
    buf = build_file(&len, t2, msgs, 0);
    ck_assert_int_eq(rw_reader_open_mem(buf, len, "d.rwd", &r, &err), RW_ECORRUPT);
    ck_assert_msg(strstr(err.msg, "no metadata"), "%s", err.msg);
    free(buf);
}
END_TEST

START_TEST(chunk_must_continue_numbering)
{
    /* A file with its second chunk cut out: the index no longer fits, and the scan
     * stops at the chunk whose first event does not follow the first chunk's. */
    char *path = trace_path("num.rwd");
    gen g;
    write_trace(path, 300, 50, 3, 8, 1, &g);
    rw_reader *r = NULL;
    rw_err err = {0};
    ck_assert_int_eq(rw_reader_open(path, &r, &err), RW_OK);
    size_t len = 0;
    uint8_t *buf = rw_test_read_file(path, &len);
    ck_assert_uint_ge(rw_reader_nchunks(r), 3);
    rw_reader_free(r);

    /* Find chunk frames by walking the file. */
    uint64_t off = RW_HEADER_LEN, chunk_off[3] = {0};
    size_t nch = 0;
    while (off + RW_FRAME_HEADER_LEN <= len && nch < 3) {
        rw_frame_header h;
        if (rw_frame_header_decode(buf + off, &h, &err) != RW_OK)
            break;
        if (h.type == RW_FRAME_CHUNK)
            chunk_off[nch++] = off;
        off += RW_FRAME_HEADER_LEN + h.stored_len;
    }
    ck_assert_uint_eq(nch, 3);
    size_t drop = chunk_off[2] - chunk_off[1];
    uint8_t *spliced = malloc(len);
    memcpy(spliced, buf, chunk_off[1]);
    memcpy(spliced + chunk_off[1], buf + chunk_off[2], len - chunk_off[2]);
    ck_assert_int_eq(rw_reader_open_mem(spliced, len - drop, "s.rwd", &r, &err), RW_OK);
    ck_assert_int_eq(rw_reader_recovery(r)->used, 1);
    ck_assert_msg(strstr(rw_reader_recovery(r)->why, "expected"), "%s",
                  rw_reader_recovery(r)->why);
    ck_assert_uint_eq(rw_reader_nchunks(r), 1);
    int failed;
    read_and_check(r, &g, &failed);
    ck_assert(!failed);
    rw_reader_free(r);
    free(spliced);
    free(buf);
    free(g.recs);
    free(path);
}
END_TEST

START_TEST(empty_trace)
{
    char *path = trace_path("empty.rwd");
    gen g;
    write_trace(path, 0, 64, 3, 1, 1, &g); /* only the initial CALL */
    rw_reader *r = NULL;
    rw_err err = {0};
    ck_assert_int_eq(rw_reader_open(path, &r, &err), RW_OK);
    ck_assert_uint_eq(rw_reader_nevents(r), 1);
    rw_reader_free(r);
    free(g.recs);

    /* A writer closed without a record. */
    rw_writer *w = NULL;
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    ck_assert_int_eq(rw_writer_open(path, &o, 1, NULL, &w, &err), RW_OK);
    Rewind__RunEnd end = REWIND__RUN_END__INIT;
    ck_assert_int_eq(rw_writer_close(w, &end, NULL, &err), RW_OK);
    ck_assert_int_eq(rw_reader_open(path, &r, &err), RW_OK);
    ck_assert_uint_eq(rw_reader_nchunks(r), 0);
    ck_assert_uint_eq(rw_reader_nevents(r), 0);
    ck_assert_uint_eq(rw_reader_find_chunk(r, 5), 0);
    rw_cursor *c = NULL;
    ck_assert_int_eq(rw_cursor_new(r, 0, SIZE_MAX, &c, &err), RW_OK);
    rw_event ev;
    ck_assert_int_eq(rw_cursor_next(c, &ev, &err), 0);
    ck_assert_int_eq(rw_cursor_seek(c, 0, &err), RW_OK);
    ck_assert_int_eq(rw_cursor_seek(c, 1, &err), RW_EINVAL);
    ck_assert_ptr_null(rw_cursor_stack(c, 1));
    rw_cursor_free(c);
    ck_assert_int_eq(rw_reader_load_chunk(r, 0, NULL, &err), RW_EINVAL);
    rw_reader_free(r);
    free(path);
}
END_TEST

typedef struct load_job {
    const rw_reader *r;
    uint64_t records;
    int errors;
} load_job;

static void *load_all(void *arg)
{
    load_job *j = arg;
    for (size_t i = 0; i < rw_reader_nchunks(j->r); i++) {
        rw_chunk *ch = NULL;
        rw_err err;
        if (rw_reader_load_chunk(j->r, i, &ch, &err) != RW_OK) {
            j->errors++;
            continue;
        }
        j->records += rw_chunk_get_info(ch)->record_count;
        rw_chunk_free(ch);
    }
    return NULL;
}

START_TEST(load_chunk_from_threads)
{
    char *path = trace_path("mt.rwd");
    gen g;
    write_trace(path, 2000, 80, 3, 4, 1, &g);
    rw_reader *r = NULL;
    rw_err err = {0};
    ck_assert_int_eq(rw_reader_open(path, &r, &err), RW_OK);
    pthread_t th[4];
    load_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (load_job){r, 0, 0};
        pthread_create(&th[i], NULL, load_all, &jobs[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(jobs[i].errors, 0);
        ck_assert_uint_eq(jobs[i].records, g.n);
    }
    rw_reader_free(r);
    free(g.recs);
    free(path);
}
END_TEST

/* A trace still being written (the replay engine follows its own): a reader opened on
 * its first bytes and refreshed as the rest arrives, in pieces that end inside frames,
 * reads what a reader opened on the whole file reads, and scans each frame once. */
START_TEST(refresh_follows_a_growing_file)
{
    char *path = trace_path("grow-src.rwd"), *grow = trace_path("grow.rwd");
    gen g;
    write_trace(path, 3000, 64, 1, 77, 1, &g);
    size_t len = 0;
    uint8_t *buf = rw_test_read_file(path, &len);
    ck_assert_ptr_nonnull(buf);
    len -= RW_TRAILER_LEN; /* as if the index were still to come */
    FILE *f = fopen(grow, "wb");
    ck_assert_ptr_nonnull(f);
    size_t done = len / 7;
    ck_assert_uint_eq(fwrite(buf, 1, done, f), done);
    fflush(f);
    rw_reader *r = NULL;
    rw_err err = {0};
    ck_assert_msg(rw_reader_open(grow, &r, &err) == RW_OK, "%s", err.msg);
    uint64_t events = rw_reader_nevents(r), good = rw_reader_recovery(r)->good_bytes;
    ck_assert_uint_lt(events, g.pos);
    ck_assert_int_eq(rw_reader_refresh(r, &err), RW_OK); /* nothing new: no change */
    ck_assert_uint_eq(rw_reader_nevents(r), events);
    while (done < len) {
        size_t n = len - done < 4099 ? len - done : 4099; /* cuts frames anywhere */
        ck_assert_uint_eq(fwrite(buf + done, 1, n, f), n);
        fflush(f);
        done += n;
        ck_assert_msg(rw_reader_refresh(r, &err) == RW_OK, "%s", err.msg);
        ck_assert_uint_ge(rw_reader_nevents(r), events);
        ck_assert_uint_ge(rw_reader_recovery(r)->good_bytes, good);
        events = rw_reader_nevents(r);
        good = rw_reader_recovery(r)->good_bytes;
    }
    fclose(f);
    ck_assert_uint_eq(good, len);
    ck_assert_uint_eq(rw_reader_nevents(r), g.pos);
    ck_assert_ptr_nonnull(rw_reader_end(r));
    int failed;
    ck_assert_uint_eq(read_and_check(r, &g, &failed), g.n);
    ck_assert(!failed);
    rw_reader *whole = NULL;
    ck_assert_int_eq(rw_reader_open_mem(buf, len, "grow.rwd", &whole, &err), RW_OK);
    ck_assert_uint_eq(rw_reader_nchunks(whole), rw_reader_nchunks(r));
    rw_reader_free(whole);
    rw_reader_free(r);
    free(buf);
    free(g.recs);
    free(path);
    free(grow);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {round_trip_every_record, round_trip_untimed_lines, skip_allocations,
                            round_trip_raw_frames_and_one_chunk, seek_every_event,
                            cut_at_every_byte, flip_every_byte, missing_footer,
                            index_lies_are_caught, cut_short_without_end,
                            wrong_version_and_not_a_trace, definitions_must_be_dense,
                            chunk_must_continue_numbering, empty_trace, load_chunk_from_threads,
                            refresh_follows_a_growing_file, unload_keeps_the_place};
    return rw_test_main("reader", "core", 300, tests, RW_TEST_N(tests));
}
