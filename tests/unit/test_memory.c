/* Check suite for replayer/memory: a synthetic trace written with the writer API
 * (two threads, a realloc across threads, an untraced free, tracing mode's frame
 * object and line array, a C frame) gives exact traced memory, statistics, filters
 * and differences at several positions; sizes format as tracemalloc's do. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memory.h"
#include "reader.h"
#include "records.h"
#include "testutil.h"
#include "writer.h"

static const char src_a[] = "import b\nx = [1]\ndef f():\n    y = len(x)\nz = 1\nw = 2\n";
static const char src_b[] = "\n\n\n\n\n\n\n\n\ndef g():\n    return bytearray(300)\n";

/* A writer of a trace of script a.py (file 1: /t/a.py) at *path, opened with flush_ms 0
 * and chunk_records (0: the default). */
static rw_writer *open_writer(const char *name, size_t chunk_records, char **path)
{
    *path = rw_test_path(name);
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    o.flush_ms = 0;
    if (chunk_records)
        o.chunk_records = chunk_records;
    Rewind__Metadata meta = REWIND__METADATA__INIT;
    meta.start_tick = 1000;
    meta.ns_per_tick = 1.0;
    meta.run_kind = "script";
    meta.run_target = "a.py";
    rw_writer *w = NULL;
    rw_err err = {0};
    ck_assert_msg(rw_writer_open(*path, &o, 1, &meta, &w, &err) == RW_OK, "%s", err.msg);
    rw_writer_def_file(w, 1, "/t/a.py", src_a, sizeof src_a - 1, 1);
    return w;
}

/* Event numbers below are the positions the comments name. */
static char *write_trace(void)
{
    char *path;
    rw_writer *w = open_writer("mem.rwd", 5, &path); /* several chunks: state carries */
    rw_err err = {0};
    rw_writer_def_file(w, 2, "/t/b.py", src_b, sizeof src_b - 1, 1);
    rw_writer_def_file(w, 3, "/t/a.py", src_a, sizeof src_a - 1, 1); /* same path again */
    rw_writer_def_code(w, 1, 1, "<module>", "<module>", 1, 0, NULL, 0);
    rw_writer_def_code(w, 2, 3, "f", "f", 3, 0, NULL, 0);
    rw_writer_def_code(w, 3, 2, "g", "g", 10, 0, NULL, 0);
    rw_writer_def_cfunc(w, 1, "<built-in method builtins.len>", "len", "builtins");
    rw_writer_def_thread(w, 1, 1, 1, "MainThread", 1);
    rw_writer_def_thread(w, 2, 2, 2, "worker", 0);
    rw_stream *s = rw_writer_stream(w);
    uint64_t t = 1000;
#define EV(kind, w1) rw_stream_put(s, RW_REC(kind, t += 10), (w1))
#define AN(kind, size, addr) rw_stream_put(s, RW_REC(kind, size), (addr))
    rw_stream_put(s, RW_REC(RW_K_THREAD, t), 1);
    EV(RW_K_CALL, 1 | (uint64_t)1 << 32);      /* 0 <module> line 1 */
    AN(RW_K_ALLOC_OBJ, 100, 0x1000);           /*   (a,1) */
    EV(RW_K_LINE, 2);                          /* 1 */
    AN(RW_K_ALLOC_MEM, 200, 0x2000);           /*   (a,2) */
    AN(RW_K_FREE_OBJ, 0, 0x9990);              /*   never allocated: ignored */
    AN(RW_K_ALLOC_OBJ, 176, 0x3000);           /*   f's frame object: tracing's */
    AN(RW_K_ALLOC_MEM, 40, 0x3100);            /*   f's line array: tracing's */
    EV(RW_K_CALL, 2 | (uint64_t)3 << 32);      /* 2 f line 3 */
    EV(RW_K_LINE, 4);                          /* 3 */
    AN(RW_K_ALLOC_RAW, 1000, 0x4000);          /*   (a,4) (a,2) */
    EV(RW_K_C_CALL, 1);                        /* 4 len */
    AN(RW_K_ALLOC_OBJ, 50, 0x5000);            /*   (a,4) (a,2): the C frame is skipped */
    EV(RW_K_C_RETURN, 1);                      /* 5 */
    rw_stream_put(s, RW_REC(RW_K_THREAD, t), 2);
    EV(RW_K_CALL, 3 | (uint64_t)10 << 32);     /* 6 g line 10, thread 2 */
    AN(RW_K_ALLOC_OBJ, 300, 0x6000);           /*   (b,10) */
    AN(RW_K_FREE_MEM, 0, 0x2000);              /*   realloc of thread 1's block */
    AN(RW_K_ALLOC_MEM, 500, 0x2000);           /*   (b,10) */
    EV(RW_K_LINE, 11);                         /* 7 */
    rw_stream_put(s, RW_REC(RW_K_THREAD, t), 1);
    EV(RW_K_RETURN, 0);                        /* 8 f returns */
    AN(RW_K_FREE_RAW, 0, 0x4000);
    EV(RW_K_LINE, 5);                          /* 9 */
    AN(RW_K_ALLOC_OBJ, 20, 0x7000);            /*   (a,5) */
    EV(RW_K_LINE, 6);                          /* 10; the end is position 11 */
#undef EV
#undef AN
    Rewind__RunEnd end = REWIND__RUN_END__INIT;
    end.stop_reason = "exit";
    ck_assert_msg(rw_writer_close(w, &end, NULL, &err) == RW_OK, "%s", err.msg);
    return path;
}

typedef struct fixture {
    char *path;
    rw_reader *r;
    rw_mem *m;
} fixture;

static void open_fixture(fixture *f, const rw_mem_opts *o)
{
    rw_err err = {0};
    f->path = write_trace();
    ck_assert_msg(rw_reader_open(f->path, &f->r, &err) == RW_OK, "%s", err.msg);
    ck_assert_uint_eq(rw_reader_nevents(f->r), 11);
    ck_assert_msg(rw_mem_new(f->r, o, &f->m, &err) == RW_OK, "%s", err.msg);
}

static void close_fixture(fixture *f)
{
    rw_mem_free(f->m);
    rw_reader_free(f->r);
    free(f->path);
}

static void run_to(fixture *f, uint64_t pos)
{
    rw_err err = {0};
    ck_assert_msg(rw_mem_run_to(f->m, pos, &err) == RW_OK, "%s", err.msg);
}

static rw_mem_usage usage(fixture *f)
{
    rw_mem_usage u;
    rw_mem_get_usage(f->m, &u);
    return u;
}

/* The statistics of the current state as tracemalloc would print them, joined by
 * '|'. */
static char *stats_text(fixture *f, uint32_t thread, const rw_mem_filter *flt, size_t nf,
                        rw_mem_key key, int cumulative)
{
    rw_err err = {0};
    rw_mem_snapshot *s;
    ck_assert(rw_mem_snapshot_take(f->m, thread, &s, &err) == RW_OK);
    ck_assert(rw_mem_snapshot_filter(f->m, s, flt, nf, &err) == RW_OK);
    rw_mem_stat *st;
    size_t n;
    ck_assert_msg(rw_mem_statistics(f->m, s, key, cumulative, &st, &n, &err) == RW_OK, "%s",
                  err.msg);
    static char out[4096];
    out[0] = 0;
    for (size_t i = 0; i < n; i++) {
        char line[512];
        rw_mem_format_stat(f->m, &st[i], 0, line, sizeof line);
        if (i)
            strcat(out, "|");
        strcat(out, line);
    }
    free(st);
    rw_mem_snapshot_free(s);
    return out;
}

START_TEST(test_usage_at_positions)
{
    fixture f;
    open_fixture(&f, NULL);
    static const struct {
        uint64_t pos, current, peak, blocks;
    } want[] = {
        {0, 0, 0, 0},       {1, 100, 100, 1},   {2, 300, 300, 2},   {3, 300, 300, 2},
        {4, 1300, 1300, 3}, {5, 1350, 1350, 4}, {7, 1950, 1950, 5}, {8, 1950, 1950, 5},
        {9, 950, 1950, 4},  {10, 970, 1950, 5}, {11, 970, 1950, 5},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        run_to(&f, want[i].pos);
        rw_mem_usage u = usage(&f);
        ck_assert_uint_eq(u.pos, want[i].pos);
        ck_assert_msg(u.current == want[i].current, "pos %llu: current %llu",
                      (unsigned long long)want[i].pos, (unsigned long long)u.current);
        ck_assert_uint_eq(u.peak, want[i].peak);
        ck_assert_uint_eq(u.blocks, want[i].blocks);
    }
    rw_mem_usage u = usage(&f);
    ck_assert_uint_eq(u.peak_pos, 7);
    ck_assert_uint_eq(u.ignored_frees, 1);
    ck_assert_uint_eq(u.tracer_allocs, 2);
    /* Backwards: replays from the start. */
    run_to(&f, 5);
    ck_assert_uint_eq(usage(&f).current, 1350);
    ck_assert_uint_eq(usage(&f).peak, 1350);
    /* The instant of the peak. */
    rw_err err = {0};
    ck_assert(rw_mem_run_to_alloc(f.m, u.peak_alloc, &err) == RW_OK);
    ck_assert_uint_eq(usage(&f).current, 1950);
    ck_assert(rw_mem_run_to(f.m, 12, &err) == RW_EINVAL);
    close_fixture(&f);
}
END_TEST

START_TEST(test_statistics)
{
    fixture f;
    open_fixture(&f, NULL);
    run_to(&f, 11);
    ck_assert_str_eq(stats_text(&f, 0, NULL, 0, RW_MEM_BY_LINENO, 0),
                     "/t/b.py:10: size=800 B, count=2, average=400 B|"
                     "/t/a.py:1: size=100 B, count=1, average=100 B|"
                     "/t/a.py:4: size=50 B, count=1, average=50 B|"
                     "/t/a.py:5: size=20 B, count=1, average=20 B");
    /* Files 1 and 3 have one path: one group. */
    ck_assert_str_eq(stats_text(&f, 0, NULL, 0, RW_MEM_BY_FILENAME, 0),
                     "/t/b.py:0: size=800 B, count=2, average=400 B|"
                     "/t/a.py:0: size=170 B, count=3, average=57 B");
    /* Equal size and count: the larger traceback first, as sorted(reverse=True). */
    ck_assert_str_eq(stats_text(&f, 0, NULL, 0, RW_MEM_BY_LINENO, 1),
                     "/t/b.py:10: size=800 B, count=2, average=400 B|"
                     "/t/a.py:1: size=100 B, count=1, average=100 B|"
                     "/t/a.py:4: size=50 B, count=1, average=50 B|"
                     "/t/a.py:2: size=50 B, count=1, average=50 B|"
                     "/t/a.py:5: size=20 B, count=1, average=20 B");
    /* str() of a traceback statistic is its oldest frame. */
    ck_assert_str_eq(stats_text(&f, 0, NULL, 0, RW_MEM_BY_TRACEBACK, 0),
                     "/t/b.py:10: size=800 B, count=2, average=400 B|"
                     "/t/a.py:1: size=100 B, count=1, average=100 B|"
                     "/t/a.py:2: size=50 B, count=1, average=50 B|"
                     "/t/a.py:5: size=20 B, count=1, average=20 B");
    ck_assert_str_eq(stats_text(&f, 2, NULL, 0, RW_MEM_BY_LINENO, 0),
                     "/t/b.py:10: size=800 B, count=2, average=400 B");
    rw_mem_stat *st;
    size_t n;
    rw_err err = {0};
    rw_mem_snapshot *s;
    ck_assert(rw_mem_snapshot_take(f.m, 0, &s, &err) == RW_OK);
    ck_assert(rw_mem_statistics(f.m, s, RW_MEM_BY_TRACEBACK, 1, &st, &n, &err) == RW_EINVAL);
    /* The traceback of the block allocated under len(): f then <module>. */
    for (size_t i = 0; i < s->n; i++) {
        if (s->traces[i].size != 50)
            continue;
        uint32_t nf;
        const rw_mem_frame *fr = rw_mem_tb_frames(f.m, s->traces[i].tb, &nf);
        ck_assert_uint_eq(nf, 2);
        ck_assert_uint_eq(fr[0].line, 4);
        ck_assert_uint_eq(fr[1].line, 2);
        ck_assert_uint_eq(rw_mem_tb_total(f.m, s->traces[i].tb), 2);
        ck_assert_str_eq(rw_mem_file_path(f.m, fr[0].file), "/t/a.py");
        char line[64];
        rw_mem_source_line(f.m, fr[0].file, fr[0].line, line, sizeof line);
        ck_assert_str_eq(line, "y = len(x)");
    }
    rw_mem_snapshot_free(s);
    close_fixture(&f);
}
END_TEST

START_TEST(test_filters)
{
    fixture f;
    open_fixture(&f, NULL);
    run_to(&f, 11);
    rw_mem_filter ex_b = {.kind = RW_MEM_FILTER_FILE, .inclusive = 0, .pattern = "*/b.py"};
    ck_assert_str_eq(stats_text(&f, 0, &ex_b, 1, RW_MEM_BY_LINENO, 0),
                     "/t/a.py:1: size=100 B, count=1, average=100 B|"
                     "/t/a.py:4: size=50 B, count=1, average=50 B|"
                     "/t/a.py:5: size=20 B, count=1, average=20 B");
    rw_mem_filter a4 = {.kind = RW_MEM_FILTER_FILE, .inclusive = 1, .pattern = "/t/a.pyc",
                        .lineno = 4};
    ck_assert_str_eq(stats_text(&f, 0, &a4, 1, RW_MEM_BY_LINENO, 0),
                     "/t/a.py:4: size=50 B, count=1, average=50 B");
    /* Line 2 is only an older frame: matched with all_frames alone. */
    rw_mem_filter a2 = {.kind = RW_MEM_FILTER_FILE, .inclusive = 1, .pattern = "/t/?.py",
                        .lineno = 2};
    ck_assert_str_eq(stats_text(&f, 0, &a2, 1, RW_MEM_BY_LINENO, 0), "");
    a2.all_frames = 1;
    ck_assert_str_eq(stats_text(&f, 0, &a2, 1, RW_MEM_BY_LINENO, 0),
                     "/t/a.py:4: size=50 B, count=1, average=50 B");
    /* An inclusive and an exclusive filter together. */
    rw_mem_filter two[2] = {{.kind = RW_MEM_FILTER_FILE, .inclusive = 1, .pattern = "*a.py"},
                            {.kind = RW_MEM_FILTER_FILE, .inclusive = 0, .pattern = "*",
                             .lineno = 1}};
    ck_assert_str_eq(stats_text(&f, 0, two, 2, RW_MEM_BY_LINENO, 0),
                     "/t/a.py:4: size=50 B, count=1, average=50 B|"
                     "/t/a.py:5: size=20 B, count=1, average=20 B");
    /* DomainFilter: every block is in tracemalloc domain 0. */
    rw_mem_filter d1 = {.kind = RW_MEM_FILTER_DOMAIN, .inclusive = 1, .domain = 1};
    ck_assert_str_eq(stats_text(&f, 0, &d1, 1, RW_MEM_BY_LINENO, 0), "");
    d1.inclusive = 0;
    ck_assert_str_eq(stats_text(&f, 2, &d1, 1, RW_MEM_BY_LINENO, 0),
                     "/t/b.py:10: size=800 B, count=2, average=400 B");
    /* Allocator domain: at 5 the RAW block is still there. */
    run_to(&f, 5);
    rw_mem_filter raw = {.kind = RW_MEM_FILTER_ADOMAIN, .inclusive = 1, .domain = RW_MEM_RAW};
    ck_assert_str_eq(stats_text(&f, 0, &raw, 1, RW_MEM_BY_LINENO, 0),
                     "/t/a.py:4: size=1000 B, count=1, average=1000 B");
    close_fixture(&f);
}
END_TEST

START_TEST(test_compare)
{
    fixture f;
    open_fixture(&f, NULL);
    rw_err err = {0};
    rw_mem_snapshot *old, *cur;
    run_to(&f, 5);
    ck_assert(rw_mem_snapshot_take(f.m, 0, &old, &err) == RW_OK);
    run_to(&f, 11);
    ck_assert(rw_mem_snapshot_take(f.m, 0, &cur, &err) == RW_OK);
    rw_mem_stat *st;
    size_t n;
    ck_assert(rw_mem_compare(f.m, cur, old, RW_MEM_BY_LINENO, 0, &st, &n, &err) == RW_OK);
    static const char *const want[] = {
        "/t/a.py:4: size=50 B (-1000 B), count=1 (-1), average=50 B",
        "/t/b.py:10: size=800 B (+800 B), count=2 (+2), average=400 B",
        "/t/a.py:2: size=0 B (-200 B), count=0 (-1)",
        "/t/a.py:5: size=20 B (+20 B), count=1 (+1), average=20 B",
        "/t/a.py:1: size=100 B (+0 B), count=1 (+0), average=100 B",
    };
    ck_assert_uint_eq(n, 5);
    for (size_t i = 0; i < n; i++) {
        char line[256];
        rw_mem_format_stat(f.m, &st[i], 1, line, sizeof line);
        ck_assert_str_eq(line, want[i]);
    }
    free(st);
    rw_mem_snapshot_free(old);
    rw_mem_snapshot_free(cur);
    close_fixture(&f);
}
END_TEST

START_TEST(test_limit_and_keep_tracer)
{
    fixture f;
    rw_mem_opts o = {.max_frames = 1, .keep_tracer_allocs = 1};
    open_fixture(&f, &o);
    run_to(&f, 11);
    rw_mem_usage u = usage(&f);
    ck_assert_uint_eq(u.current, 970 + 176 + 40);
    ck_assert_uint_eq(u.tracer_allocs, 0);
    rw_mem_snapshot *s;
    rw_err err = {0};
    ck_assert(rw_mem_snapshot_take(f.m, 0, &s, &err) == RW_OK);
    for (size_t i = 0; i < s->n; i++) {
        uint32_t nf;
        rw_mem_tb_frames(f.m, s->traces[i].tb, &nf);
        ck_assert_uint_eq(nf, 1);
        if (s->traces[i].size == 50)
            ck_assert_uint_eq(rw_mem_tb_total(f.m, s->traces[i].tb), 2);
    }
    ck_assert_uint_eq(s->traceback_limit, 1);
    rw_mem_snapshot_free(s);
    close_fixture(&f);
    rw_mem_opts bad = {.max_frames = RW_MEM_MAX_FRAMES + 1};
    rw_reader *r;
    char *path = write_trace();
    ck_assert(rw_reader_open(path, &r, &err) == RW_OK);
    rw_mem *m = NULL;
    ck_assert(rw_mem_new(r, &bad, &m, &err) == RW_EINVAL);
    ck_assert_ptr_null(m);
    rw_reader_free(r);
    free(path);
}
END_TEST

START_TEST(test_timeline)
{
    fixture f;
    rw_mem_opts o = {.timeline_buckets = 11};
    open_fixture(&f, &o);
    run_to(&f, 11);
    rw_mem_timeline t;
    rw_mem_get_timeline(f.m, &t);
    ck_assert_uint_eq(t.n, 11);
    uint64_t hi = 0;
    for (size_t i = 0; i < t.n; i++)
        hi = t.max[i] > hi ? t.max[i] : hi;
    ck_assert_uint_eq(hi, 1950);
    ck_assert_uint_eq(t.last[t.n - 1], 970);
    /* Memory only grows until the free at position 9: so do the slices' maxima. */
    for (size_t i = 1; i + 1 < t.n; i++)
        ck_assert_uint_ge(t.max[i], t.max[i - 1]);
    ck_assert_uint_le(t.max[0], 300);
    close_fixture(&f);
}
END_TEST

START_TEST(test_pickle)
{
    fixture f;
    open_fixture(&f, NULL);
    run_to(&f, 11);
    rw_err err = {0};
    rw_mem_snapshot *s;
    ck_assert(rw_mem_snapshot_take(f.m, 0, &s, &err) == RW_OK);
    char *out = rw_test_path("snap.pickle");
    ck_assert_msg(rw_mem_snapshot_dump(f.m, s, out, &err) == RW_OK, "%s", err.msg);
    size_t len;
    uint8_t *b = rw_test_read_file(out, &len);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_gt(len, 40);
    ck_assert_uint_eq(b[0], 0x80);
    ck_assert_uint_eq(b[1], 2);
    ck_assert_uint_eq(b[len - 1], '.');
    free(b);
    /* When Debian's python3 is there, tracemalloc itself reads it back. */
    if (access("/usr/bin/python3", X_OK) == 0) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/python3 -c \"import tracemalloc,sys; "
                 "s=tracemalloc.Snapshot.load(sys.argv[1]); "
                 "print('|'.join(map(str, s.statistics('lineno'))))\" %s",
                 out);
        FILE *p = popen(cmd, "r");
        ck_assert_ptr_nonnull(p);
        char got[1024] = "";
        ck_assert_ptr_nonnull(fgets(got, sizeof got, p));
        ck_assert_int_eq(pclose(p), 0);
        got[strcspn(got, "\n")] = 0;
        ck_assert_str_eq(got, stats_text(&f, 0, NULL, 0, RW_MEM_BY_LINENO, 0));
    }
    ck_assert(rw_mem_snapshot_dump(f.m, s, "/nonexistent-dir/x.pickle", &err) == RW_EIO);
    rw_mem_snapshot_free(s);
    free(out);
    close_fixture(&f);
}
END_TEST

START_TEST(test_format_size)
{
    static const struct {
        double v;
        int sign;
        const char *want;
    } cases[] = {
        {0, 0, "0 B"},           {1023, 0, "1023 B"},        {10239, 0, "10239 B"},
        {10240, 0, "10.0 KiB"},  {102400, 0, "100 KiB"},     {-512, 1, "-512 B"},
        {1536, 1, "+1536 B"},    {5 * 1024 * 1024, 0, "5120 KiB"},
        {104857600, 0, "100 MiB"}, {1e15, 0, "909 TiB"},     {-10240 * 1024, 1, "-10.0 MiB"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[32];
        rw_mem_format_size(cases[i].v, cases[i].sign, buf, sizeof buf);
        ck_assert_str_eq(buf, cases[i].want);
    }
}
END_TEST

/* A trace where f raises exception `name` on line 4 and catches it on line 5: tracing
 * mode made f's frame object and line array before its CALL and packed the exception
 * event's (type, value, traceback) tuple; a plain run makes the frame object when
 * the exception passes through f (PyTraceBack_Here), on line 4. */
static char *write_exc_trace(const char *name)
{
    char *path;
    rw_writer *w = open_writer("memexc.rwd", 0, &path);
    rw_err err = {0};
    rw_writer_def_code(w, 1, 1, "<module>", "<module>", 1, 0, NULL, 0);
    rw_writer_def_code(w, 2, 1, "f", "f", 3, 0, NULL, 0);
    rw_writer_def_thread(w, 1, 1, 1, "MainThread", 1);
    rw_writer_def_name(w, 1, name);
    rw_stream *s = rw_writer_stream(w);
    uint64_t t = 1000;
#define EV(kind, w1) rw_stream_put(s, RW_REC(kind, t += 10), (w1))
#define AN(kind, size, addr) rw_stream_put(s, RW_REC(kind, size), (addr))
    rw_stream_put(s, RW_REC(RW_K_THREAD, t), 1);
    EV(RW_K_CALL, 1 | (uint64_t)1 << 32);      /* 0 <module> line 1 */
    EV(RW_K_LINE, 2);                          /* 1 */
    AN(RW_K_ALLOC_OBJ, 176, 0x3000);           /*   f's frame object: tracing's */
    AN(RW_K_ALLOC_MEM, 40, 0x3100);            /*   f's line array: tracing's */
    EV(RW_K_CALL, 2 | (uint64_t)3 << 32);      /* 2 f line 3 */
    EV(RW_K_LINE, 4);                          /* 3 */
    AN(RW_K_ALLOC_OBJ, 48, 0x4000);            /*   the exception's args: (a,4) */
    AN(RW_K_ALLOC_OBJ, 64, 0x5000);            /*   call_exc_trace's tuple: tracing's */
    rw_stream_put_text(s, RW_REC(RW_K_EXCEPTION, t += 10), 1, "1", 1); /* 4 */
    EV(RW_K_LINE, 5);                          /* 5 */
    EV(RW_K_RETURN, 0);                        /* 6 f returns */
    AN(RW_K_FREE_OBJ, 0, 0x3000);              /*   its frame object dies with it */
    EV(RW_K_LINE, 6);                          /* 7; the end is position 8 */
#undef EV
#undef AN
    Rewind__RunEnd end = REWIND__RUN_END__INIT;
    end.stop_reason = "exit";
    ck_assert_msg(rw_writer_close(w, &end, NULL, &err) == RW_OK, "%s", err.msg);
    return path;
}

static void exc_case(const char *name, const rw_mem_opts *o, uint64_t at5, uint64_t at7,
                     uint64_t tracer, uint64_t revived)
{
    rw_err err = {0};
    char *path = write_exc_trace(name);
    fixture f = {path, NULL, NULL};
    ck_assert_msg(rw_reader_open(path, &f.r, &err) == RW_OK, "%s", err.msg);
    ck_assert_uint_eq(rw_reader_nevents(f.r), 8);
    ck_assert_msg(rw_mem_new(f.r, o, &f.m, &err) == RW_OK, "%s", err.msg);
    run_to(&f, 5);
    ck_assert_uint_eq(usage(&f).current, at5);
    run_to(&f, 8);
    rw_mem_usage u = usage(&f);
    ck_assert_uint_eq(u.current, at7);
    ck_assert_uint_eq(u.tracer_allocs, tracer);
    ck_assert_uint_eq(u.revived_frames, revived);
    close_fixture(&f);
}

START_TEST(test_frame_object_at_exception)
{
    /* f's frame object counts from the exception, on line 4, until f returns; the
     * args tuple stays; the exception event's tuple and the line array never count. */
    exc_case("ValueError", NULL, 48 + 176, 48, 3, 1);
    rw_err err = {0};
    char *path = write_exc_trace("ValueError");
    fixture f = {path, NULL, NULL};
    ck_assert(rw_reader_open(path, &f.r, &err) == RW_OK);
    rw_mem_opts o1 = {.max_frames = 1};
    ck_assert(rw_mem_new(f.r, &o1, &f.m, &err) == RW_OK);
    run_to(&f, 5);
    ck_assert_str_eq(stats_text(&f, 0, NULL, 0, RW_MEM_BY_LINENO, 0),
                     "/t/a.py:4: size=224 B, count=2, average=112 B");
    close_fixture(&f);
    /* FOR_ITER reports a StopIteration to the looping frame without a traceback. */
    exc_case("StopIteration", NULL, 48, 48, 3, 0);
    /* --keep-tracer-allocs: everything as recorded. */
    rw_mem_opts keep = {.keep_tracer_allocs = 1};
    exc_case("ValueError", &keep, 176 + 40 + 48 + 64, 40 + 48 + 64, 0, 0);
}
END_TEST

/* Two reuses of free-listed blocks on line 2: one of a block start-up made (a
 * STARTUP_REUSE record before its ALLOC_OBJ), one of a block the program allocated on
 * line 1. tracemalloc started with the interpreter traces both reuses on line 2;
 * started with the program (its CALL, event 0), it never traced the start-up block;
 * started on line 2 (event 1), it traced neither: line 1's block was allocated before
 * it started, and its reuse stays untraced until it is freed. */
START_TEST(test_startup_reuse)
{
    char *path;
    rw_writer *w = open_writer("memreuse.rwd", 0, &path);
    rw_err err = {0};
    rw_writer_def_code(w, 1, 1, "<module>", "<module>", 1, 0, NULL, 0);
    rw_writer_def_thread(w, 1, 1, 1, "MainThread", 1);
    rw_stream *s = rw_writer_stream(w);
    uint64_t t = 1000;
    rw_stream_put(s, RW_REC(RW_K_THREAD, t), 1);
    rw_stream_put(s, RW_REC(RW_K_CALL, t += 10), 1 | (uint64_t)1 << 32); /* 0 */
    rw_stream_put(s, RW_REC(RW_K_ALLOC_OBJ, 56), 0x6000);                /* line 1 */
    rw_stream_put(s, RW_REC(RW_K_LINE, t += 10), 2);                     /* 1 */
    rw_stream_put(s, RW_REC(RW_K_STARTUP_REUSE, 0), 0);
    rw_stream_put(s, RW_REC(RW_K_ALLOC_OBJ, 64), 0x7000);  /* a start-up block reused */
    rw_stream_put(s, RW_REC(RW_K_ALLOC_OBJ, 56), 0x6000);  /* line 1's block reused */
    rw_stream_put(s, RW_REC(RW_K_LINE, t += 10), 3);                     /* 2 */
    rw_stream_put(s, RW_REC(RW_K_FREE_OBJ, 0), 0x7000);
    rw_stream_put(s, RW_REC(RW_K_LINE, t += 10), 4);                     /* 3 */
    Rewind__RunEnd end = REWIND__RUN_END__INIT;
    end.stop_reason = "exit";
    ck_assert_msg(rw_writer_close(w, &end, NULL, &err) == RW_OK, "%s", err.msg);
    static const struct {
        int since_program;
        uint64_t from, at2, at_end;
        const char *stats;
    } cases[] = {
        {0, 0, 120, 56, "/t/a.py:2: size=120 B, count=2, average=60 B"},
        {1, 0, 56, 56, "/t/a.py:2: size=56 B, count=1, average=56 B"},
        {1, 1, 0, 0, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fixture f = {path, NULL, NULL};
        ck_assert(rw_reader_open(path, &f.r, &err) == RW_OK);
        rw_mem_opts o = {.max_frames = 1, .traced_since_program = cases[i].since_program,
                         .traced_from = cases[i].from};
        ck_assert_msg(rw_mem_new(f.r, &o, &f.m, &err) == RW_OK, "%s", err.msg);
        run_to(&f, 2); /* both reuses made, the start-up block not freed yet */
        ck_assert_uint_eq(usage(&f).current, cases[i].at2);
        ck_assert_str_eq(stats_text(&f, 0, NULL, 0, RW_MEM_BY_LINENO, 0), cases[i].stats);
        run_to(&f, 4);
        ck_assert_uint_eq(usage(&f).current, cases[i].at_end);
        if (i + 1 < sizeof cases / sizeof cases[0])
            f.path = NULL; /* the next case reads the file again */
        close_fixture(&f);
    }
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_usage_at_positions, test_statistics, test_filters,
                            test_compare, test_limit_and_keep_tracer, test_timeline,
                            test_pickle, test_format_size, test_frame_object_at_exception,
                            test_startup_reuse};
    return rw_test_main("memory", "core", 0, tests, RW_TEST_N(tests));
}
