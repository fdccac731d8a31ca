/* Check suite for replayer/profile: synthetic traces (written with the writer API)
 * whose times are known to the tick give exactly the tt/ct/cc/nc and callers that
 * _lsprof's algorithm gives, including recursion, C calls, frames left open at the
 * end, windows, calibration, label merging, pstats' sort keys and the marshal file. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "pstats.h"
#include "reader.h"
#include "testutil.h"
#include "writer.h"

typedef struct ev {
    int kind;
    uint64_t tick;
    uint64_t w1;
} ev;

/* Writes a trace of one thread: ns_per_tick = 1, codes 1 main (prog.py:1), 2 fact
 * (prog.py:5), 3 other "fact" defined at prog.py:5 again; cfunc 1 len. */
static char *write_trace(const char *name, const ev *evs, size_t n, double calib)
{
    char *path = rw_test_path(name);
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    o.flush_ms = 0;
    Rewind__Metadata meta = REWIND__METADATA__INIT;
    meta.ns_per_tick = 1.0;
    meta.calib_ns_per_event = calib;
    meta.run_kind = "script";
    meta.run_target = "prog.py";
    rw_writer *w = NULL;
    rw_err err = {0};
    ck_assert_msg(rw_writer_open(path, &o, 1, &meta, &w, &err) == RW_OK, "%s", err.msg);
    rw_writer_def_file(w, 1, "/src/prog.py", "x\n", 2, 1);
    rw_writer_def_code(w, 1, 1, "main", "main", 1, 0, NULL, 0);
    rw_writer_def_code(w, 2, 1, "fact", "fact", 5, 0, NULL, 0);
    rw_writer_def_code(w, 3, 1, "fact", "fact", 5, 0, NULL, 0);
    rw_writer_def_cfunc(w, 1, "<built-in method builtins.len>", "len", "builtins");
    rw_writer_def_thread(w, 1, 1, 1, "MainThread", 1);
    rw_stream *s = rw_writer_stream(w);
    rw_stream_put(s, RW_REC(RW_K_THREAD, 0), 1);
    for (size_t i = 0; i < n; i++)
        rw_stream_put(s, RW_REC(evs[i].kind, evs[i].tick), evs[i].w1);
    Rewind__RunEnd end = REWIND__RUN_END__INIT;
    ck_assert_msg(rw_writer_close(w, &end, NULL, &err) == RW_OK, "%s", err.msg);
    return path;
}

#define CALL(t, code, line) {RW_K_CALL, t, (uint64_t)(code) | (uint64_t)(line) << 32}
#define RET(t) {RW_K_RETURN, t, 0}
#define CCALL(t, f) {RW_K_C_CALL, t, f}
#define CRET(t, f) {RW_K_C_RETURN, t, f}
#define LINE(t, l) {RW_K_LINE, t, l}

/* main calls fact, which recurses once and calls len; main then calls len. */
static const ev recursion[] = {
    CALL(0, 1, 1),  /* 0 main */
    CALL(10, 2, 5), /* 1 fact */
    CALL(20, 2, 5), /* 2 fact (recursive) */
    CCALL(30, 1),   /* 3 len */
    CRET(35, 1),    /* 4 */
    RET(50),        /* 5 inner fact */
    RET(70),        /* 6 outer fact */
    CCALL(80, 1),   /* 7 len */
    CRET(90, 1),    /* 8 */
    RET(100),       /* 9 main */
};

static rw_profile *run(const char *path, const rw_profile_opts *o)
{
    rw_reader *r = NULL;
    rw_err err = {0};
    ck_assert_msg(rw_reader_open(path, &r, &err) == RW_OK, "%s", err.msg);
    rw_profile *p = NULL;
    ck_assert_msg(rw_profile_run(r, o, &p, &err) == RW_OK, "%s", err.msg);
    /* Strings are borrowed from the reader: copy what the checks need first. */
    static char keep[16][64];
    for (size_t i = 0; i < p->nfuncs && i < 16; i++) {
        snprintf(keep[i], sizeof keep[i], "%s", p->funcs[i].name);
        p->funcs[i].name = keep[i];
        p->funcs[i].file = strcmp(p->funcs[i].file, "~") ? "/src/prog.py" : "~";
    }
    rw_reader_free(r);
    return p;
}

static const rw_prof_func *find(const rw_profile *p, const char *name)
{
    for (size_t i = 0; i < p->nfuncs; i++)
        if (!strcmp(p->funcs[i].name, name))
            return &p->funcs[i];
    ck_abort_msg("no function %s", name);
    return NULL;
}

static const rw_prof_caller *caller(const rw_profile *p, const rw_prof_func *f,
                                    const char *name)
{
    for (size_t i = 0; i < f->ncallers; i++)
        if (!strcmp(p->funcs[f->callers[i].func].name, name))
            return &f->callers[i];
    ck_abort_msg("%s has no caller %s", f->name, name);
    return NULL;
}

#define NS(x) ((x) * 1e-9)
#define ck_assert_time(a, b) ck_assert_double_eq_tol(a, NS(b), 1e-15)

START_TEST(recursion_and_c_calls)
{
    char *path = write_trace("rec.rwd", recursion, sizeof recursion / sizeof recursion[0], 0);
    rw_profile_opts o;
    rw_profile_opts_default(&o);
    rw_profile *p = run(path, &o);
    /* codes 2 and 3 are distinct code objects but only 2 ran: 3 functions. */
    ck_assert_uint_eq(p->nfuncs, 3);
    ck_assert_str_eq(p->funcs[0].name, "main"); /* first-call order */
    const rw_prof_func *m = find(p, "main"), *f = find(p, "fact");
    const rw_prof_func *l = find(p, "<built-in method builtins.len>");
    ck_assert_uint_eq(m->nc, 1);
    ck_assert_uint_eq(m->cc, 1);
    ck_assert_time(m->tt, 30);
    ck_assert_time(m->ct, 100);
    ck_assert_uint_eq(m->ncallers, 0);
    ck_assert_uint_eq(f->nc, 2);
    ck_assert_uint_eq(f->cc, 1);
    ck_assert_time(f->tt, 55);
    ck_assert_time(f->ct, 60);
    ck_assert_uint_eq(f->line, 5);
    ck_assert_uint_eq(f->ncallers, 2);
    const rw_prof_caller *c = caller(p, f, "main");
    ck_assert_uint_eq(c->nc, 1);
    ck_assert_uint_eq(c->cc, 1);
    ck_assert_time(c->tt, 30);
    ck_assert_time(c->ct, 60);
    c = caller(p, f, "fact");
    ck_assert_uint_eq(c->nc, 1);
    ck_assert_uint_eq(c->cc, 1);
    ck_assert_time(c->tt, 25);
    ck_assert_time(c->ct, 30);
    ck_assert_str_eq(l->file, "~");
    ck_assert_uint_eq(l->line, 0);
    ck_assert_uint_eq(l->nc, 2);
    ck_assert_uint_eq(l->cc, 2);
    ck_assert_time(l->tt, 15);
    ck_assert_time(l->ct, 15);
    ck_assert_time(caller(p, l, "fact")->ct, 5);
    ck_assert_time(caller(p, l, "main")->ct, 10);
    ck_assert_uint_eq(p->total_calls, 5);
    ck_assert_uint_eq(p->prim_calls, 4);
    ck_assert_time(p->total_tt, 100);
    ck_assert_uint_eq(p->events, 10);
    rw_profile_free(p);
    free(path);
}
END_TEST

START_TEST(window_and_open_frames)
{
    char *path = write_trace("win.rwd", recursion, sizeof recursion / sizeof recursion[0], 0);
    rw_profile_opts o;
    rw_profile_opts_default(&o);
    o.from = 2; /* the inner fact's call ... */
    o.to = 6;   /* ... to its return: event 6 only ends the last interval */
    rw_profile *p = run(path, &o);
    ck_assert_uint_eq(p->nfuncs, 2);
    const rw_prof_func *f = find(p, "fact");
    ck_assert_uint_eq(f->nc, 1);
    ck_assert_uint_eq(f->cc, 1);
    ck_assert_time(f->tt, 25);
    ck_assert_time(f->ct, 30);
    ck_assert_uint_eq(f->ncallers, 0);
    ck_assert_uint_eq(p->events, 4);
    rw_profile_free(p);

    /* Frames still open at the window's end stop there, as cProfile's disable does. */
    o.from = 0;
    o.to = 3; /* main and both facts open; event 3 at tick 30 closes the window */
    p = run(path, &o);
    const rw_prof_func *m = find(p, "main");
    f = find(p, "fact");
    ck_assert_time(m->ct, 30);
    ck_assert_time(m->tt, 10);
    ck_assert_uint_eq(f->nc, 2);
    ck_assert_uint_eq(f->cc, 1);
    ck_assert_time(f->ct, 20);
    ck_assert_time(f->tt, 20);
    rw_profile_free(p);

    /* An empty window and a bad one. */
    o.from = o.to = 4;
    p = run(path, &o);
    ck_assert_uint_eq(p->nfuncs, 0);
    ck_assert_uint_eq(p->total_calls, 0);
    rw_profile_free(p);
    rw_reader *r = NULL;
    rw_err err = {0};
    ck_assert_int_eq(rw_reader_open(path, &r, &err), RW_OK);
    o.from = 5;
    o.to = 3;
    ck_assert_int_eq(rw_profile_run(r, &o, &p, &err), RW_EINVAL);
    o.from = 11;
    o.to = UINT64_MAX;
    ck_assert_int_eq(rw_profile_run(r, &o, &p, &err), RW_EINVAL);
    rw_reader_free(r);
    free(path);
}
END_TEST

START_TEST(calibration)
{
    /* 1 ns per event: each of the 9 intervals loses a tick. */
    char *path = write_trace("cal.rwd", recursion, sizeof recursion / sizeof recursion[0], 1.0);
    rw_profile_opts o;
    rw_profile_opts_default(&o);
    rw_profile *p = run(path, &o);
    ck_assert_time(find(p, "main")->ct, 91);
    ck_assert_time(find(p, "<built-in method builtins.len>")->tt, 13);
    ck_assert_double_eq(p->calib_ns, 1.0);
    rw_profile_free(p);
    o.calibrate = 0;
    p = run(path, &o);
    ck_assert_time(find(p, "main")->ct, 100);
    ck_assert_double_eq(p->calib_ns, 0);
    rw_profile_free(p);
    free(path);
    /* A measure above the shortest gap between two events (5 ticks, len's call to its
     * return) cannot be right: 100 ns per event is taken as 5, and no interval goes
     * below zero (len's 5 ns and every 10 ns interval less 5). */
    path = write_trace("cal2.rwd", recursion, sizeof recursion / sizeof recursion[0], 100.0);
    rw_profile_opts_default(&o);
    p = run(path, &o);
    ck_assert_double_eq(p->calib_ns, 5.0);
    ck_assert_time(find(p, "<built-in method builtins.len>")->tt, 0 + 5);
    ck_assert_time(find(p, "main")->ct, 100 - 9 * 5 + 0);
    for (size_t i = 0; i < p->nfuncs; i++)
        ck_assert(p->funcs[i].tt >= 0 && p->funcs[i].ct >= p->funcs[i].tt - 1e-15);
    rw_profile_free(p);
    free(path);
}
END_TEST

START_TEST(equal_labels_merge)
{
    /* Two code objects labelled prog.py:5(fact), as when a file runs twice. */
    static const ev evs[] = {
        CALL(0, 1, 1), CALL(10, 2, 5), RET(20), CALL(30, 3, 5), RET(60), RET(100),
    };
    char *path = write_trace("merge.rwd", evs, sizeof evs / sizeof evs[0], 0);
    rw_profile_opts o;
    rw_profile_opts_default(&o);
    rw_profile *p = run(path, &o);
    ck_assert_uint_eq(p->nfuncs, 2);
    const rw_prof_func *f = find(p, "fact");
    ck_assert_uint_eq(f->nc, 2);
    ck_assert_uint_eq(f->cc, 2);
    ck_assert_time(f->tt, 40);
    ck_assert_uint_eq(f->ncallers, 1);
    ck_assert_uint_eq(f->callers[0].nc, 2);
    ck_assert_time(f->callers[0].ct, 40);
    rw_err err;
    ck_assert_int_eq(rw_profile_strip_dirs(p, &err), RW_OK);
    ck_assert_str_eq(find(p, "main")->file, "prog.py");
    rw_profile_free(p);
    free(path);
}
END_TEST

START_TEST(lines)
{
    static const ev evs[] = {
        CALL(0, 1, 1), LINE(5, 2), CALL(10, 2, 5), LINE(12, 6), RET(20),
        LINE(30, 3), LINE(40, 2), RET(45),
    };
    char *path = write_trace("lines.rwd", evs, sizeof evs / sizeof evs[0], 0);
    rw_profile_opts o;
    rw_profile_opts_default(&o);
    o.lines = 1;
    rw_profile *p = NULL;
    rw_reader *r = NULL;
    rw_err err = {0};
    ck_assert_int_eq(rw_reader_open(path, &r, &err), RW_OK);
    ck_assert_int_eq(rw_profile_run(r, &o, &p, &err), RW_OK);
    ck_assert_uint_eq(p->nlines, 3);
    /* Sorted by file then line. Times depend on whether the writer times LINE
     * events (RecordOptions.line_times): 30, 10 and 8 ns when it does; in any case
     * each (inclusive of the calls its line makes) lies within the 45 ns run. */
    ck_assert_uint_eq(p->lines[0].line, 2);
    ck_assert_uint_eq(p->lines[0].hits, 2);
    ck_assert_uint_eq(p->lines[1].line, 3);
    ck_assert_uint_eq(p->lines[1].hits, 1);
    ck_assert_uint_eq(p->lines[2].line, 6);
    ck_assert_uint_eq(p->lines[2].hits, 1);
    for (size_t i = 0; i < 3; i++) {
        ck_assert(p->lines[i].time >= 0);
        ck_assert(p->lines[i].time <= NS(45) + 1e-15);
    }
    rw_profile_free(p);
    rw_reader_free(r);
    free(path);
}
END_TEST

START_TEST(sort_keys_as_pstats)
{
    rw_prof_sort s;
    rw_err err;
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(rw_prof_sort_add(&s, "cumulative", &err), RW_OK);
    ck_assert_int_eq(rw_prof_sort_add(&s, "cumu", &err), RW_OK);
    ck_assert_int_eq(rw_prof_sort_add(&s, "cu", &err), RW_OK);     /* cumtime */
    ck_assert_int_eq(rw_prof_sort_add(&s, "nfl", &err), RW_OK);
    ck_assert_int_eq(s.nfields, 6);
    ck_assert_str_eq(s.title, "cumulative time, cumulative time, cumulative time, "
                              "name/file/line");
    /* Ambiguous fragments are dropped, as get_sort_arg_defs drops them. */
    ck_assert_int_eq(rw_prof_sort_add(&s, "cum", &err), RW_EINVAL);
    ck_assert_int_eq(rw_prof_sort_add(&s, "c", &err), RW_EINVAL);
    ck_assert_int_eq(rw_prof_sort_add(&s, "t", &err), RW_EINVAL);
    ck_assert_int_eq(rw_prof_sort_add(&s, "n", &err), RW_EINVAL);
    ck_assert_int_eq(rw_prof_sort_add(&s, "", &err), RW_EINVAL);
    ck_assert_int_eq(rw_prof_sort_add(&s, "tim", &err), RW_OK);
    ck_assert_int_eq(rw_prof_sort_add(&s, "tot", &err), RW_OK);

    char *path = write_trace("sort.rwd", recursion, sizeof recursion / sizeof recursion[0], 0);
    rw_profile_opts o;
    rw_profile_opts_default(&o);
    rw_profile *p = run(path, &o);
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(rw_prof_sort_add(&s, "stdname", &err), RW_OK);
    size_t *v = rw_profile_order(p, &s);
    ck_assert_ptr_nonnull(v);
    /* "/src/prog.py:1(main)" < "/src/prog.py:5(fact)" < "{built-in ...}" */
    ck_assert_str_eq(p->funcs[v[0]].name, "main");
    ck_assert_str_eq(p->funcs[v[1]].name, "fact");
    ck_assert_str_eq(p->funcs[v[2]].name, "<built-in method builtins.len>");
    free(v);
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(rw_prof_sort_add(&s, "calls", &err), RW_OK);
    v = rw_profile_order(p, &s);
    /* fact and len both have 2 calls: ties keep first-call order. */
    ck_assert_str_eq(p->funcs[v[0]].name, "fact");
    ck_assert_str_eq(p->funcs[v[1]].name, "<built-in method builtins.len>");
    ck_assert_str_eq(p->funcs[v[2]].name, "main");
    free(v);
    char buf[64];
    ck_assert_uint_eq(rw_prof_func_name(find(p, "<built-in method builtins.len>"), buf,
                                        sizeof buf), 30);
    ck_assert_str_eq(buf, "{built-in method builtins.len}");
    rw_profile_free(p);
    free(path);
}
END_TEST

START_TEST(marshal_file)
{
    char *path = write_trace("m.rwd", recursion, sizeof recursion / sizeof recursion[0], 0);
    rw_profile_opts o;
    rw_profile_opts_default(&o);
    rw_profile *p = run(path, &o);
    char *out = rw_test_path("m.prof");
    rw_err err;
    ck_assert_int_eq(rw_profile_write_pstats(p, out, &err), RW_OK);
    size_t len;
    uint8_t *b = rw_test_read_file(out, &len);
    ck_assert_ptr_nonnull(b);
    /* {(u"/src/prog.py", i1, u"main"): (i1, i1, g30e-9, g100e-9, {}), ...} */
    ck_assert_int_eq(b[0], '{');
    ck_assert_int_eq(b[1], ')');
    ck_assert_int_eq(b[2], 3);
    ck_assert_int_eq(b[3], 'u');
    ck_assert_int_eq(b[4], 12);
    ck_assert(!memcmp(b + 8, "/src/prog.py", 12));
    ck_assert_int_eq(b[len - 1], '0');
    free(b);
    ck_assert_int_eq(rw_profile_write_pstats(p, "/nonexistent/dir/x.prof", &err), RW_EIO);
    ck_assert(strstr(err.msg, "/nonexistent/dir/x.prof") != NULL);
    rw_profile_free(p);
    free(out);
    free(path);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {recursion_and_c_calls, window_and_open_frames, calibration,
                            equal_labels_merge, lines, sort_keys_as_pstats, marshal_file};
    return rw_test_main("profile", "core", 0, tests, RW_TEST_N(tests));
}
