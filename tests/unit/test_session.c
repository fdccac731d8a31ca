/* Check suite for replayer/debugger/session: the session engine driven through its C
 * API, without any pdb text. Three traces are written here with the writer API in
 * chunks of a few records (so that searches cross chunk boundaries): a loop calling
 * a function, a program that dies of an uncaught exception, and two threads. The
 * tests assert on the stops the moves return: positions, reasons, stacks,
 * exceptions, breakpoints, and that the fast searches stop where plain ones do. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"
#include "session.h"
#include "testutil.h"
#include "writer.h"

/* ---- traces -------------------------------------------------------------------- */

static uint64_t tick;

static void put(rw_stream *s, int kind, uint64_t w1)
{
    rw_stream_put(s, RW_REC(kind, tick++), w1);
}

static void call(rw_stream *s, uint32_t code, uint32_t line)
{
    put(s, RW_K_CALL, code | (uint64_t)line << 32);
}

/* Opens a writer on a new trace of "prog.py" (source src) in chunks of 7 records. */
static rw_writer *open_trace(const char *name, const char *src, char **path)
{
    *path = rw_test_path(name);
    tick = 1;
    return rw_test_script_trace(*path, 7, src, strlen(src));
}

/* The loop: event 0 is the module's CALL, 1 its line 1; iteration i has line 5 at
 * 2 + 6i, line 6 at 3 + 6i, f's CALL at 4 + 6i, its lines 2 and 3 at 5 + 6i and
 * 6 + 6i and its RETURN at 7 + 6i; then line 5 at 242 and the module's RETURN at 243. */
#define LOOPS 40
#define LOOP_END (2 + 6 * LOOPS + 1)

static char *write_loop(void)
{
    static const char src[] = "def f(x):\n"             /* 1 */
                              "    y = x\n"             /* 2 */
                              "    return y\n"          /* 3 */
                              "\n"                      /* 4 */
                              "for i in range(40):\n"   /* 5 */
                              "    f(i)\n";             /* 6 */
    char *path;
    rw_writer *w = open_trace("loop.rwd", src, &path);
    const char *args[] = {"x"};
    static const uint32_t module_lines[] = {1, 5, 6}, f_lines[] = {1, 2, 3};
    rw_writer_def_code(w, 1, 1, "<module>", "<module>", 1, 0, NULL, 0);
    rw_writer_def_code_lines(w, 1, module_lines, 3, 0);
    rw_writer_def_code(w, 2, 1, "f", "f", 1, 3, args, 1);
    rw_writer_def_code_lines(w, 2, f_lines, 3, 1);
    rw_stream *s = rw_writer_stream(w);
    put(s, RW_K_THREAD, 1);
    call(s, 1, 1);
    put(s, RW_K_LINE, 1);
    for (int i = 0; i < LOOPS; i++) {
        put(s, RW_K_LINE, 5);
        put(s, RW_K_LINE, 6);
        call(s, 2, 1);
        put(s, RW_K_LINE, 2);
        put(s, RW_K_LINE, 3);
        put(s, RW_K_RETURN, 0);
    }
    put(s, RW_K_LINE, 5);
    put(s, RW_K_RETURN, 0);
    rw_test_writer_exit(w);
    return path;
}

/* The uncaught exception: 0 CALL <module>, 1 LINE 4, 2 CALL f, 3 LINE 2,
 * 4 EXCEPTION ValueError('1') in f, 5 RETURN f, 6 EXCEPTION in <module>,
 * 7 RETURN <module>. */
static char *write_uncaught(void)
{
    static const char src[] = "def f(x):\n"              /* 1 */
                              "    raise ValueError(x)\n" /* 2 */
                              "\n"                       /* 3 */
                              "f(1)\n";                  /* 4 */
    char *path;
    rw_writer *w = open_trace("uncaught.rwd", src, &path);
    const char *args[] = {"x"};
    rw_writer_def_code(w, 1, 1, "<module>", "<module>", 1, 0, NULL, 0);
    rw_writer_def_code(w, 2, 1, "f", "f", 1, 3, args, 1);
    rw_writer_def_name(w, 1, "ValueError");
    rw_stream *s = rw_writer_stream(w);
    put(s, RW_K_THREAD, 1);
    call(s, 1, 1);
    put(s, RW_K_LINE, 4);
    call(s, 2, 1);
    put(s, RW_K_LINE, 2);
    rw_stream_put_text(s, RW_REC(RW_K_EXCEPTION, tick++), 1, "1", 1);
    put(s, RW_K_RETURN, 0);
    rw_stream_put_text(s, RW_REC(RW_K_EXCEPTION, tick++), 1, "1", 1);
    put(s, RW_K_RETURN, 0);
    Rewind__RunEnd end = REWIND__RUN_END__INIT;
    end.stop_reason = "exception";
    end.exit_status = 1;
    end.uncaught_type = "ValueError";
    end.uncaught_message = "1";
    end.uncaught_pos = 7;
    Rewind__TracebackEntry t0 = REWIND__TRACEBACK_ENTRY__INIT, t1 = REWIND__TRACEBACK_ENTRY__INIT;
    t0.code = 1;
    t0.line = 4;
    t1.code = 2;
    t1.line = 2;
    Rewind__TracebackEntry *tb[] = {&t0, &t1};
    end.n_uncaught_traceback = 2;
    end.uncaught_traceback = tb;
    rw_test_writer_close(w, &end);
    return path;
}

/* Two threads: 0 CALL <module> (t1), 1 LINE 5, 2 CALL g (t2), 3 LINE 2 (t2),
 * 4 LINE 6 (t1), 5 LINE 3 (t2), 6 RETURN g (t2), 7 RETURN <module> (t1). */
static char *write_threads(void)
{
    static const char src[] = "def g():\n"          /* 1 */
                              "    a = 1\n"         /* 2 */
                              "    b = 2\n"         /* 3 */
                              "\n"                  /* 4 */
                              "t = start(g)\n"      /* 5 */
                              "t.join()\n";         /* 6 */
    char *path;
    rw_writer *w = open_trace("threads.rwd", src, &path);
    rw_writer_def_code(w, 1, 1, "<module>", "<module>", 1, 0, NULL, 0);
    rw_writer_def_code(w, 2, 1, "g", "g", 1, 0, NULL, 0);
    rw_writer_def_thread(w, 2, 2, 2, "worker", 0);
    rw_stream *s = rw_writer_stream(w);
    put(s, RW_K_THREAD, 1);
    call(s, 1, 1);
    put(s, RW_K_LINE, 5);
    put(s, RW_K_THREAD, 2);
    call(s, 2, 1);
    put(s, RW_K_LINE, 2);
    put(s, RW_K_THREAD, 1);
    put(s, RW_K_LINE, 6);
    put(s, RW_K_THREAD, 2);
    put(s, RW_K_LINE, 3);
    put(s, RW_K_RETURN, 0);
    put(s, RW_K_THREAD, 1);
    put(s, RW_K_RETURN, 0);
    rw_test_writer_exit(w);
    return path;
}

typedef struct fixture {
    char *path;
    rw_reader *r;
    rw_session *s;
    rw_stop st;
} fixture;

static void open_fixture(fixture *f, char *(*write)(void))
{
    rw_err err;
    f->path = write();
    ck_assert_msg(rw_reader_open(f->path, &f->r, &err) == RW_OK, "%s", err.msg);
    ck_assert_msg(rw_session_new(f->r, &f->s, &err) == RW_OK, "%s", err.msg);
    ck_assert_msg(rw_session_start(f->s, &f->st, &err) == RW_OK, "%s", err.msg);
}

static void close_fixture(fixture *f)
{
    rw_session_free(f->s);
    rw_reader_free(f->r);
    free(f->path);
}

typedef rw_code (*move_fn)(rw_session *s, rw_stop *stop, rw_err *err);

/* Runs a move that must succeed; returns the stop. */
static const rw_stop *go(fixture *f, move_fn fn)
{
    rw_err err;
    ck_assert_msg(fn(f->s, &f->st, &err) == RW_OK, "%s", err.msg);
    return &f->st;
}

static const rw_stop *go_to(fixture *f, uint64_t pos)
{
    rw_err err;
    ck_assert_msg(rw_session_goto(f->s, pos, &f->st, &err) == RW_OK, "%s", err.msg);
    return &f->st;
}

/* The stop (expr, evaluated once) is at pos for reason, having moved. */
#define ck_stop(expr, p, why)                                                   \
    do {                                                                        \
        const rw_stop *ck_st_ = (expr);                                         \
        ck_assert_uint_eq(ck_st_->pos, (p));                                    \
        ck_assert_int_eq(ck_st_->reason, (why));                                \
        ck_assert_int_eq(ck_st_->moved, 1);                                     \
    } while (0)

/* ---- the loop ------------------------------------------------------------------ */

START_TEST(test_start_and_frames)
{
    fixture f;
    open_fixture(&f, write_loop);
    const rw_stop *st = &f.st;
    ck_stop(st, 1, RW_STOP_LINE);
    ck_assert_uint_eq(st->thread, 1);
    ck_assert_uint_eq(st->nframes, 1);
    ck_assert_uint_eq(st->selected, 0);
    ck_assert_str_eq(st->frames[0].file, "/t/prog.py");
    ck_assert_str_eq(st->frames[0].function, "<module>");
    ck_assert_uint_eq(st->frames[0].line, 1);
    ck_assert_uint_eq(st->frames[0].call_pos, 0);
    ck_assert_int_eq(st->has_exception, 0);
    ck_stop(go(&f, rw_session_step), 2, RW_STOP_LINE);
    ck_stop(go(&f, rw_session_step), 3, RW_STOP_LINE);
    st = go(&f, rw_session_step);
    ck_stop(st, 4, RW_STOP_CALL);
    ck_assert_uint_eq(st->nframes, 2);
    ck_assert_uint_eq(st->selected, 1);
    ck_assert_str_eq(st->frames[1].function, "f");
    ck_assert_uint_eq(st->frames[1].line, 1); /* the def line at its CALL */
    ck_assert_uint_eq(st->frames[1].call_pos, 4);
    ck_assert_uint_eq(st->frames[0].line, 6);
    st = go(&f, rw_session_step);
    ck_stop(st, 5, RW_STOP_LINE);
    /* up: next in the caller's frame runs over the rest of f */
    rw_session_select(f.s, 0);
    rw_stop w;
    rw_session_where(f.s, &w);
    ck_assert_uint_eq(w.selected, 0);
    ck_assert_uint_eq(w.pos, 5);
    ck_stop(go(&f, rw_session_next), 8, RW_STOP_LINE);
    ck_assert_uint_eq(f.st.nframes, 1);
    ck_assert_uint_eq(f.st.frames[0].line, 5);
    /* down again after a step into f */
    go_to(&f, 6);
    ck_assert_uint_eq(f.st.nframes, 2);
    rw_session_select(f.s, 0);
    rw_session_select(f.s, 1);
    rw_session_where(f.s, &w);
    ck_assert_uint_eq(w.selected, 1);
    /* return: f's RETURN, with the frame still on the stack */
    const rw_stop *r = go(&f, rw_session_return);
    ck_stop(r, 7, RW_STOP_RETURN);
    ck_assert_int_eq(r->returning, 1);
    ck_assert_uint_eq(r->nframes, 2);
    ck_assert_str_eq(r->frames[1].function, "f");
    ck_stop(go(&f, rw_session_step), 8, RW_STOP_LINE);
    close_fixture(&f);
}
END_TEST

START_TEST(test_step_rstep_inverse)
{
    fixture f;
    open_fixture(&f, write_loop);
    static uint64_t pos[LOOP_END + 2];
    int n = 0;
    pos[n++] = f.st.pos;
    for (;;) {
        const rw_stop *st = go(&f, rw_session_step);
        if (st->reason == RW_STOP_END)
            break;
        ck_assert_int_lt(n, LOOP_END + 1);
        ck_assert_uint_gt(st->pos, pos[n - 1]);
        pos[n++] = st->pos;
    }
    ck_assert_int_eq(n, 2 + LOOPS * 6 + 2 - 1);
    /* off the end: the program's last RETURN, then nothing more */
    ck_assert_uint_eq(f.st.pos, LOOP_END);
    ck_assert_int_eq(f.st.moved, 1);
    ck_assert_int_eq(f.st.at_end, 1);
    const rw_stop *st = go(&f, rw_session_step);
    ck_assert_int_eq(st->reason, RW_STOP_END);
    ck_assert_int_eq(st->moved, 0);
    ck_assert_uint_eq(st->pos, LOOP_END);
    for (int i = n - 1; i > 0; i--)
        ck_assert_uint_eq(go(&f, rw_session_rstep)->pos, pos[i - 1]);
    /* nothing before the program's first line, pdb's first stop (issue 17) */
    st = go(&f, rw_session_rstep);
    ck_assert_int_eq(st->reason, RW_STOP_START);
    ck_assert_int_eq(st->moved, 0);
    ck_assert_uint_eq(st->pos, pos[0]);
    close_fixture(&f);
}
END_TEST

START_TEST(test_next_rnext_rreturn)
{
    fixture f;
    open_fixture(&f, write_loop);
    uint64_t expect = 1;
    for (int i = 0; i < 2 * LOOPS; i++) {
        expect = i == 0 ? 2 : (i % 2 ? expect + 1 : expect + 5);
        ck_stop(go(&f, rw_session_next), expect, RW_STOP_LINE);
    }
    ck_stop(go(&f, rw_session_next), 2 + 6 * LOOPS, RW_STOP_LINE);
    ck_stop(go(&f, rw_session_next), LOOP_END, RW_STOP_RETURN);
    ck_stop(go(&f, rw_session_rnext), 2 + 6 * LOOPS, RW_STOP_LINE);
    for (int i = 2 * LOOPS; i > 0; i--) {
        uint64_t want = 2 + 6 * (uint64_t)((i - 1) / 2) + (uint64_t)((i - 1) % 2);
        ck_stop(go(&f, rw_session_rnext), want, RW_STOP_LINE);
    }
    ck_stop(go(&f, rw_session_rnext), 1, RW_STOP_LINE);
    /* rnext at the first line of the program: nothing before */
    const rw_stop *st = go(&f, rw_session_rnext);
    ck_assert_int_eq(st->reason, RW_STOP_START);
    ck_assert_int_eq(st->moved, 0);
    /* rnext at f's first line goes to the caller's line of the call */
    go_to(&f, 5);
    ck_stop(go(&f, rw_session_rnext), 3, RW_STOP_LINE);
    /* rreturn: the CALL of the selected frame, then no further */
    go_to(&f, 7);
    ck_stop(go(&f, rw_session_rreturn), 4, RW_STOP_CALL);
    st = go(&f, rw_session_rreturn);
    ck_assert_int_eq(st->reason, RW_STOP_AT_CALL);
    ck_assert_int_eq(st->moved, 0);
    ck_assert_uint_eq(st->pos, 4);
    /* until a later line of the frame; runtil back to an earlier one */
    rw_err err;
    ck_assert(rw_session_start(f.s, &f.st, &err) == RW_OK);
    ck_assert(rw_session_until(f.s, 6, &f.st, &err) == RW_OK);
    ck_stop(&f.st, 3, RW_STOP_LINE);
    go_to(&f, 9);
    ck_assert(rw_session_runtil(f.s, 5, &f.st, &err) == RW_OK);
    ck_stop(&f.st, 8, RW_STOP_LINE);
    close_fixture(&f);
}
END_TEST

START_TEST(test_breakpoints)
{
    fixture f;
    open_fixture(&f, write_loop);
    rw_err err;
    int n1, n2;
    ck_assert_int_eq(rw_session_break_limit(f.s), 1);
    ck_assert_ptr_null(rw_session_break_get(f.s, 0));
    ck_assert_ptr_null(rw_session_break_get(f.s, 1));
    ck_assert(rw_session_break_add(f.s, 1, 3, NULL, NULL, 0, &n1, &err) == RW_OK);
    ck_assert_int_eq(n1, 1);
    ck_assert_int_eq(rw_session_break_limit(f.s), 2);
    static uint64_t hits[LOOPS];
    for (int i = 0; i < LOOPS; i++) {
        const rw_stop *st = go(&f, rw_session_continue);
        ck_stop(st, 6 + 6 * (uint64_t)i, RW_STOP_BREAKPOINT);
        ck_assert_int_eq(st->breakpoint, 1);
        ck_assert_uint_eq(st->nframes, 2);
        ck_assert_uint_eq(st->frames[1].line, 3);
        hits[i] = st->pos;
    }
    ck_assert_int_eq(rw_session_break_get(f.s, 1)->hits, LOOPS);
    ck_assert_int_eq(go(&f, rw_session_continue)->reason, RW_STOP_END);
    for (int i = LOOPS - 1; i >= 0; i--) {
        const rw_stop *st = go(&f, rw_session_rcontinue);
        ck_stop(st, hits[i], RW_STOP_BREAKPOINT);
        ck_assert_int_eq(st->breakpoint, 1);
    }
    /* backwards counts no hits; before the first hit: the start of the program */
    ck_assert_int_eq(rw_session_break_get(f.s, 1)->hits, LOOPS);
    ck_stop(go(&f, rw_session_rcontinue), 1, RW_STOP_START);
    const rw_stop *st = go(&f, rw_session_rcontinue);
    ck_assert_int_eq(st->reason, RW_STOP_START);
    ck_assert_int_eq(st->moved, 0);
    /* ignore counts */
    rw_session_break_ignore(f.s, 1, 2);
    ck_stop(go(&f, rw_session_continue), hits[2], RW_STOP_BREAKPOINT);
    /* a temporary breakpoint goes at its first stop */
    ck_assert(rw_session_break_add(f.s, 1, 2, NULL, NULL, 1, &n2, &err) == RW_OK);
    ck_assert_int_eq(n2, 2);
    st = go(&f, rw_session_continue);
    ck_stop(st, hits[3] - 1, RW_STOP_BREAKPOINT);
    ck_assert_int_eq(st->breakpoint, 2);
    ck_assert_int_eq(st->deleted, 1);
    ck_assert_int_eq(st->deleted_bp.number, 2);
    ck_assert_uint_eq(st->deleted_bp.line, 2);
    ck_assert_ptr_null(rw_session_break_get(f.s, 2));
    ck_assert_int_eq(rw_session_break_limit(f.s), 3);
    /* next stops at a breakpoint in the callee */
    go_to(&f, hits[5] - 3);
    ck_assert_uint_eq(f.st.frames[f.st.selected].line, 6);
    ck_stop(go(&f, rw_session_next), hits[5], RW_STOP_BREAKPOINT);
    /* a disabled breakpoint stops neither way; continue then runs to the end */
    rw_session_break_enable(f.s, 1, 0);
    ck_stop(go(&f, rw_session_rcontinue), 1, RW_STOP_START);
    st = go(&f, rw_session_continue);
    ck_stop(st, LOOP_END, RW_STOP_END);
    ck_assert_int_eq(st->at_end, 1);
    st = go(&f, rw_session_continue);
    ck_assert_int_eq(st->reason, RW_STOP_END);
    ck_assert_int_eq(st->moved, 0);
    /* a condition is kept (never evaluated: every hit stops) */
    rw_session_break_enable(f.s, 1, 1);
    ck_assert(rw_session_break_condition(f.s, 1, "x > 3", &err) == RW_OK);
    ck_assert_str_eq(rw_session_break_get(f.s, 1)->condition, "x > 3");
    rw_session_break_delete(f.s, 1);
    ck_assert_ptr_null(rw_session_break_get(f.s, 1));
    ck_assert_int_eq(rw_session_break_limit(f.s), 3);
    close_fixture(&f);
}
END_TEST

START_TEST(test_goto_and_lookups)
{
    fixture f;
    open_fixture(&f, write_loop);
    ck_stop(go_to(&f, 4), 4, RW_STOP_CALL);
    ck_stop(go_to(&f, LOOP_END), LOOP_END, RW_STOP_RETURN);
    ck_stop(go_to(&f, 100000), LOOP_END, RW_STOP_RETURN);
    ck_stop(go_to(&f, 0), 0, RW_STOP_CALL);
    ck_assert_uint_eq(rw_session_nevents(f.s), LOOP_END + 1);
    uint64_t pos;
    rw_err err;
    ck_assert(rw_session_parse_position(f.s, "@end", &pos, &err) == RW_OK);
    ck_assert(rw_session_parse_position(f.s, "bogus", &pos, &err) != RW_OK);
    ck_assert_uint_eq(rw_session_lookup_file(f.s, "prog"), 1);
    ck_assert_uint_eq(rw_session_lookup_file(f.s, "/t/prog.py"), 1);
    ck_assert_uint_eq(rw_session_lookup_file(f.s, "other.py"), 0);
    ck_assert_uint_eq(rw_session_find_code(f.s, "f", 1), 2);
    ck_assert_uint_eq(rw_session_find_code(f.s, "<module>", 1), 0);
    rw_session_code c;
    ck_assert(rw_session_code_info(f.s, 2, &c));
    ck_assert_str_eq(c.name, "f");
    ck_assert_uint_eq(c.n_arg_names, 1);
    ck_assert_str_eq(c.arg_names[0], "x");
    ck_assert(!rw_session_code_info(f.s, 99, &c));
    char line[64];
    ck_assert_uint_eq(rw_session_source_nlines(f.s, 1), 6);
    ck_assert(rw_session_source_line(f.s, 1, 3, line, sizeof line));
    ck_assert_str_eq(line, "    return y");
    ck_assert(!rw_session_source_line(f.s, 1, 7, line, sizeof line));
    rw_session_thread t;
    ck_assert(rw_session_thread_info(f.s, 1, &t));
    ck_assert_str_eq(t.name, "MainThread");
    char *canon = rw_session_canonic(f.s, "a/../prog.py");
    ck_assert_str_eq(canon, "/t/prog.py");
    free(canon);
    close_fixture(&f);
}
END_TEST

/* What the session tells of the trace goes through the vocabulary (format/vocab.h):
 * ids past their tables read as unknown, paths are pdb's canonic against the
 * recording's cwd (posixpath.abspath), stop times follow the trace's time base. */
START_TEST(test_vocabulary)
{
    fixture f;
    open_fixture(&f, write_loop);
    /* ids 0 and past the tables */
    rw_session_code c;
    ck_assert(!rw_session_code_info(f.s, 0, &c));
    ck_assert(!rw_session_code_info(f.s, 3, &c));
    ck_assert(!rw_session_code_info(f.s, UINT32_MAX, &c));
    ck_assert_str_eq(rw_session_file_path(f.s, 0), "?");
    ck_assert_str_eq(rw_session_file_path(f.s, 2), "?");
    ck_assert_str_eq(rw_session_file_path(f.s, UINT32_MAX), "?");
    ck_assert_str_eq(rw_session_file_recorded_path(f.s, 1), "/t/prog.py");
    ck_assert_ptr_null(rw_session_file_recorded_path(f.s, 2));
    rw_session_thread t;
    ck_assert(!rw_session_thread_info(f.s, 0, &t));
    ck_assert(!rw_session_thread_info(f.s, 2, &t));
    char line[64];
    ck_assert_uint_eq(rw_session_source_nlines(f.s, 0), 0);
    ck_assert_uint_eq(rw_session_source_nlines(f.s, 2), 0);
    ck_assert(!rw_session_source_line(f.s, 2, 1, line, sizeof line));
    /* canonic: <...> names unchanged, others posixpath.abspath against /t */
    static const char *const canon[][2] = {
        {"<string>", "<string>"},     {"<>", "<>"},
        {"<frozen runpy>", "<frozen runpy>"},
        {"../x.py", "/x.py"},         {"./prog.py", "/t/prog.py"},
        {"../t/prog.py", "/t/prog.py"}, {"", "/t"},
        {"a//b/./../c.py", "/t/a/c.py"}, {"/../../t/prog.py", "/t/prog.py"},
        {"//t/prog.py", "//t/prog.py"}, {"<", "/t/<"},
    };
    for (size_t i = 0; i < sizeof canon / sizeof *canon; i++) {
        char *got = rw_session_canonic(f.s, canon[i][0]);
        ck_assert_msg(got && !strcmp(got, canon[i][1]), "%s -> %s, not %s", canon[i][0],
                      got ? got : "NULL", canon[i][1]);
        free(got);
    }
    /* relative names, as break takes them */
    ck_assert_uint_eq(rw_session_lookup_file(f.s, "../t/prog.py"), 1);
    ck_assert_uint_eq(rw_session_lookup_file(f.s, "./prog"), 1);
    ck_assert_uint_eq(rw_session_lookup_file(f.s, "../prog.py"), 0);
    /* stop times: the trace's time base over the event's tick. Ticks here count
     * records from 1; LINE events take the previous event's tick (no --line-times):
     * the module's CALL (event 0) has tick 2, f's first CALL (event 4) tick 6. */
    rw_timebase tb = rw_reader_timebase(f.r);
    ck_assert(tb.ns_per_tick == 1.0);
    double t0 = go_to(&f, 0)->time_ns;
    ck_assert(t0 == rw_timebase_ns(&tb, 2));
    ck_assert(go_to(&f, 1)->time_ns == t0);
    ck_assert(go_to(&f, 4)->time_ns - t0 == 4.0);
    close_fixture(&f);
}
END_TEST

/* until and runtil as pdb's front end gives them (the selected frame's line + 1 and
 * - 1), and until to a line the module never reaches (its return). */
static long long selected_line(rw_session *s)
{
    rw_stop w;
    rw_session_where(s, &w);
    return w.nframes ? (long long)w.frames[w.selected].line : 0;
}

static rw_code until_next(rw_session *s, rw_stop *st, rw_err *e)
{
    return rw_session_until(s, selected_line(s) + 1, st, e);
}

static rw_code until_far(rw_session *s, rw_stop *st, rw_err *e)
{
    return rw_session_until(s, 99, st, e);
}

static rw_code runtil_prev(rw_session *s, rw_stop *st, rw_err *e)
{
    return rw_session_runtil(s, selected_line(s) - 1, st, e);
}

static rw_code runtil_2(rw_session *s, rw_stop *st, rw_err *e)
{
    return rw_session_runtil(s, 2, st, e);
}

/* The fast searches (line filter, callees skipped by keyframes, next/return split in
 * a frame search and a breakpoint search, until and runtil through the line filter and
 * the frame's return, FILE:LINE) stop where plain decoding does. */
START_TEST(test_fast_matches_plain)
{
    fixture a, b;
    rw_err err;
    open_fixture(&a, write_loop);
    b = a;
    ck_assert(rw_session_new(a.r, &b.s, &err) == RW_OK);
    rw_session_set_plain_search(b.s, 1);
    int n;
    for (int k = 0; k < 2; k++) {
        fixture *x = k ? &b : &a;
        ck_assert(rw_session_break_add(x->s, 1, 3, NULL, NULL, 0, &n, &err) == RW_OK);
        ck_assert(rw_session_break_add(x->s, 1, 5, NULL, NULL, 0, &n, &err) == RW_OK);
        rw_session_break_ignore(x->s, 2, 3);
    }
    static const move_fn moves[] = {rw_session_step,  rw_session_next,  rw_session_return,
                                    rw_session_continue, rw_session_rstep, rw_session_rnext,
                                    rw_session_rreturn, rw_session_rcontinue, until_next,
                                    until_far, runtil_prev, runtil_2};
    static const char *const specs[] = {"prog.py:2", "prog.py:6", "/t/prog.py:5",
                                        "prog.py:4", "nope.py:1", "prog.py:0"};
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        uint64_t pa = 7, pb = 9;
        rw_err ea, eb;
        rw_code ra = rw_session_parse_position(a.s, specs[i], &pa, &ea);
        rw_code rb = rw_session_parse_position(b.s, specs[i], &pb, &eb);
        ck_assert_msg(ra == rb && (ra != RW_OK || pa == pb), "%s: %d %llu / %d %llu",
                      specs[i], ra, (unsigned long long)pa, rb, (unsigned long long)pb);
        if (ra != RW_OK)
            ck_assert_str_eq(ea.msg, eb.msg);
    }
    for (uint64_t p = 0; p <= LOOP_END; p++)
        for (size_t i = 0; i < sizeof moves / sizeof *moves; i++) {
            go_to(&a, p);
            go_to(&b, p);
            const rw_stop *sa = go(&a, moves[i]), *sb = go(&b, moves[i]);
            ck_assert_msg(sa->pos == sb->pos && sa->reason == sb->reason &&
                              sa->moved == sb->moved && sa->breakpoint == sb->breakpoint,
                          "at %llu, move %zu: fast %llu/%d, plain %llu/%d",
                          (unsigned long long)p, i, (unsigned long long)sa->pos, sa->reason,
                          (unsigned long long)sb->pos, sb->reason);
        }
    ck_assert_int_eq(rw_session_break_get(a.s, 1)->hits, rw_session_break_get(b.s, 1)->hits);
    rw_session_free(b.s);
    close_fixture(&a);
}
END_TEST

/* ---- values ------------------------------------------------------------------------ */

/* A fake provider over write_loop's program: at an event of iteration k (events
 * 2 + 6k .. 7 + 6k), "x" is k; TRUTH of "eq N" is k == N, of "ge N" k >= N, of "raise"
 * raises. It keeps the positions it was asked at. */
static rw_values_at seen;
static rw_values_kept seen_kept[64]; /* seen.kept, copied */
static uint64_t asked[256];
static size_t nasked;

static long long iteration(uint64_t pos)
{
    return pos < 2 ? -1 : (long long)(pos - 2) / 6;
}

static rw_code fake_ask(void *ctx, const rw_values_at *at, rw_values_op op, const char *text,
                        char **out, int *raised, rw_err *err)
{
    (void)ctx, (void)err;
    seen = *at;
    ck_assert_uint_le(at->nkept, 64);
    if (at->nkept)
        memcpy(seen_kept, at->kept, at->nkept * sizeof *at->kept);
    seen.kept = seen_kept;
    if (nasked < 256)
        asked[nasked++] = at->pos;
    char buf[128];
    long long k = iteration(at->pos), n = 0;
    *raised = 0;
    if (op == RW_VALUES_TRUTH) {
        if (!strcmp(text, "raise")) {
            *raised = 1;
            snprintf(buf, sizeof buf, "NameError: name 'z' is not defined");
        } else if (sscanf(text, "eq %lld", &n) == 1) {
            snprintf(buf, sizeof buf, "%d", k == n);
        } else {
            ck_assert_int_eq(sscanf(text, "ge %lld", &n), 1);
            snprintf(buf, sizeof buf, "%d", k >= n);
        }
    } else {
        snprintf(buf, sizeof buf, "%s", text);
    }
    *out = strdup(buf);
    return RW_OK;
}

static const char *fake_why(void *ctx)
{
    (void)ctx;
    return NULL;
}

static const rw_values fake = {NULL, fake_ask, fake_why};

START_TEST(test_values_seam)
{
    fixture f;
    open_fixture(&f, write_loop);
    char *out = NULL;
    int raised = 0;
    rw_err err;
    ck_assert_int_eq(rw_session_value(f.s, RW_SESSION_SELECTED, RW_VALUES_P, "x", &out, &raised,
                                      &err), RW_EINVAL);
    ck_assert_str_eq(err.msg, RW_VALUES_NEED_REEXEC);
    ck_assert_str_eq(rw_session_values_why(f.s), RW_VALUES_NEED_REEXEC);
    ck_assert_ptr_null(out);
    rw_session_set_values(f.s, &fake);
    ck_assert_ptr_null(rw_session_values_why(f.s));
    go_to(&f, 5);
    rw_session_select(f.s, 0);
    ck_assert_int_eq(rw_session_value(f.s, RW_SESSION_SELECTED, RW_VALUES_P, "i + 1", &out,
                                      &raised, &err), RW_OK);
    ck_assert_str_eq(out, "i + 1");
    free(out);
    ck_assert_uint_eq(seen.pos, 5);
    ck_assert_uint_eq(seen.thread, 1);
    ck_assert_uint_eq(seen.frame_index, 1); /* one below the newest */
    ck_assert_uint_eq(seen.frame_call, 0);
    /* frames are counted from the newest (the engine may see frames below the
     * program's first: runpy's for -m) */
    rw_session_select(f.s, 1);
    ck_assert_int_eq(rw_session_value(f.s, RW_SESSION_SELECTED, RW_VALUES_P, "x", &out,
                                      &raised, &err), RW_OK);
    free(out);
    ck_assert_uint_eq(seen.frame_index, RW_VALUES_NEWEST);
    ck_assert_uint_eq(seen.frame_call, 4);
    ck_assert_int_eq(rw_session_value(f.s, 0, RW_VALUES_P, "i", &out, &raised, &err), RW_OK);
    free(out);
    ck_assert_uint_eq(seen.frame_index, 1);
    rw_session_set_values(f.s, NULL);
    ck_assert_int_eq(rw_session_value(f.s, RW_SESSION_SELECTED, RW_VALUES_P, "x", &out, &raised,
                                      &err), RW_EINVAL);
    close_fixture(&f);
}
END_TEST

/* pdb's __exception__ / __return__ stay in a frame's locals after the stops where bdb
 * stored them: the provider is told of the frame's earlier exception and --Return--
 * stops (write_uncaught: 4 EXCEPTION in f, 5 RETURN f, 6 EXCEPTION in <module> with f
 * as the traceback's frame below it), and a traceback's frame is asked by its place
 * in the traceback. */
START_TEST(test_values_kept_stops)
{
    fixture f;
    open_fixture(&f, write_uncaught);
    rw_session_set_values(f.s, &fake);
    char *out = NULL;
    int raised = 0;
    rw_err err;
    go_to(&f, 3);
    ck_assert_int_eq(rw_session_value(f.s, RW_SESSION_SELECTED, RW_VALUES_P, "x", &out,
                                      &raised, &err), RW_OK);
    free(out);
    ck_assert_uint_eq(seen.nkept, 0);
    ck_assert_int_eq(seen.stop_keeps, 0);
    go_to(&f, 4); /* the exception stop: its own __exception__ is the engine's */
    ck_assert_int_eq(rw_session_value(f.s, RW_SESSION_SELECTED, RW_VALUES_P, "x", &out,
                                      &raised, &err), RW_OK);
    free(out);
    ck_assert_uint_eq(seen.nkept, 0);
    ck_assert_int_eq(seen.stop_keeps, 1);
    go_to(&f, 5);
    ck_assert_int_eq(rw_session_value(f.s, RW_SESSION_SELECTED, RW_VALUES_P, "x", &out,
                                      &raised, &err), RW_OK);
    free(out);
    ck_assert_uint_eq(seen.nkept, 1);
    ck_assert_uint_eq(seen.kept[0].pos, 4);
    ck_assert_int_eq(seen.kept[0].exact, 1);
    const rw_stop *st = go_to(&f, 6);
    ck_assert_uint_eq(st->nframes, 2);
    ck_assert_uint_eq(st->current, 0);
    ck_assert_int_eq(rw_session_frame_returned(f.s, 1), 1);
    ck_assert_int_eq(rw_session_frame_returned(f.s, 0), 0);
    ck_assert_int_eq(rw_session_value(f.s, 1, RW_VALUES_P, "x", &out, &raised, &err), RW_OK);
    free(out);
    ck_assert_uint_eq(seen.frame_index, RW_VALUES_TRACEBACK | 1);
    ck_assert_uint_eq(seen.nkept, 2);
    ck_assert_uint_eq(seen.kept[0].pos, 4);
    ck_assert_uint_eq(seen.kept[1].pos, 5);
    ck_assert_int_eq(seen.kept[1].exact, 1);
    ck_assert_int_eq(rw_session_value(f.s, 0, RW_VALUES_P, "x", &out, &raised, &err), RW_OK);
    free(out);
    ck_assert_uint_eq(seen.frame_index, RW_VALUES_NEWEST);
    ck_assert_uint_eq(seen.nkept, 0);
    /* stops after the position do not count: back at 5, only 4 is before it */
    go_to(&f, 5);
    ck_assert_int_eq(rw_session_value(f.s, RW_SESSION_SELECTED, RW_VALUES_P, "x", &out,
                                      &raised, &err), RW_OK);
    free(out);
    ck_assert_uint_eq(seen.nkept, 1);
    ck_assert_uint_eq(seen.kept[0].pos, 4);
    close_fixture(&f);
}
END_TEST

/* Conditions are evaluated at each hit the log finds, forwards as bdb's effective()
 * does (hits counted, ignore counts only where true, a condition that raises stops and
 * keeps a temporary breakpoint), and backwards with the engine running forwards. */
START_TEST(test_conditions)
{
    fixture f;
    open_fixture(&f, write_loop);
    rw_session_set_values(f.s, &fake);
    int n1, n2;
    rw_err err;
    ck_assert(rw_session_break_add(f.s, 1, 3, NULL, "eq 5", 0, &n1, &err) == RW_OK);
    ck_stop(go(&f, rw_session_continue), 6 + 6 * 5, RW_STOP_BREAKPOINT);
    ck_assert_int_eq(f.st.breakpoint, n1);
    ck_assert_int_eq(f.st.cond_failed, 0);
    ck_assert_int_eq(rw_session_break_get(f.s, n1)->hits, 6);
    /* asked at each hit, in order, in the newest frame */
    ck_assert_uint_eq(nasked, 6);
    for (size_t i = 0; i < nasked; i++)
        ck_assert_uint_eq(asked[i], 6 + 6 * i);
    ck_assert_uint_eq(seen.frame_index, RW_VALUES_NEWEST);
    ck_assert_int_eq(go(&f, rw_session_continue)->reason, RW_STOP_END);
    /* ignore counts apply where the condition is true */
    ck_assert(rw_session_break_condition(f.s, n1, "ge 10", &err) == RW_OK);
    rw_session_break_ignore(f.s, n1, 2);
    go(&f, rw_session_start);
    ck_stop(go(&f, rw_session_continue), 6 + 6 * 12, RW_STOP_BREAKPOINT);
    /* backwards: the last hit whose condition is true, the engine asked forwards */
    ck_assert(rw_session_break_condition(f.s, n1, "eq 3", &err) == RW_OK);
    nasked = 0;
    ck_stop(go(&f, rw_session_rcontinue), 6 + 6 * 3, RW_STOP_BREAKPOINT);
    ck_assert_uint_eq(nasked, 12);
    for (size_t i = 1; i < nasked; i++)
        ck_assert_uint_gt(asked[i], asked[i - 1]);
    ck_assert_int_eq(go(&f, rw_session_rcontinue)->reason, RW_STOP_START);
    /* an unconditional breakpoint bounds the backward search */
    ck_assert(rw_session_break_add(f.s, 1, 2, NULL, NULL, 0, &n2, &err) == RW_OK);
    go_to(&f, 6 + 6 * 20);
    nasked = 0;
    ck_stop(go(&f, rw_session_rcontinue), 5 + 6 * 20, RW_STOP_BREAKPOINT);
    ck_assert_int_eq(f.st.breakpoint, n2);
    ck_assert_uint_eq(nasked, 0);
    rw_session_break_delete(f.s, n2);
    /* a condition that raises stops at the first hit; a temporary one stays */
    rw_session_break_delete(f.s, n1);
    ck_assert(rw_session_break_add(f.s, 1, 3, NULL, "raise", 1, &n2, &err) == RW_OK);
    go(&f, rw_session_start);
    ck_stop(go(&f, rw_session_continue), 6, RW_STOP_BREAKPOINT);
    ck_assert_int_eq(f.st.deleted, 0);
    ck_assert_ptr_nonnull(rw_session_break_get(f.s, n2));
    /* without values every hit stops */
    rw_session_set_values(f.s, NULL);
    ck_assert(rw_session_break_condition(f.s, n2, "eq 5", &err) == RW_OK);
    ck_stop(go(&f, rw_session_continue), 12, RW_STOP_BREAKPOINT);
    close_fixture(&f);
}
END_TEST

/* ---- watchpoints --------------------------------------------------------------------- */

/* A provider for watch searches over write_loop's program: "k3" is the iteration
 * divided by 3 (-1 before the loop), "k" the iteration, "pos" the position asked at;
 * anything else raises. */
static rw_code watch_ask(void *ctx, const rw_values_at *at, rw_values_op op, const char *text,
                         char **out, int *raised, rw_err *err)
{
    (void)ctx, (void)err;
    ck_assert_int_eq(op, RW_VALUES_P);
    if (nasked < 256)
        asked[nasked++] = at->pos;
    char buf[64];
    long long k = iteration(at->pos);
    *raised = 0;
    if (!strcmp(text, "k3"))
        snprintf(buf, sizeof buf, "%lld", k < 0 ? -1 : k / 3);
    else if (!strcmp(text, "pos"))
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)at->pos);
    else if (!strcmp(text, "k"))
        snprintf(buf, sizeof buf, "%lld", k);
    else {
        *raised = 1;
        snprintf(buf, sizeof buf, "NameError: name 'q' is not defined\n");
    }
    *out = strdup(buf);
    return RW_OK;
}

static const rw_values watch_fake = {NULL, watch_ask, fake_why};

static long long k3_at(uint64_t pos)
{
    long long k = iteration(pos);
    return k < 0 ? -1 : k / 3;
}

static void ck_change(const rw_stop *st, const char *old, const char *new)
{
    ck_assert_uint_eq(st->nchanges, 1);
    ck_assert_int_eq(st->changes[0].number, 1);
    ck_assert_str_eq(st->changes[0].old_value, old);
    ck_assert_str_eq(st->changes[0].new_value, new);
}

/* continue and rcontinue with a watchpoint stop where brute force says, from every
 * position, in O(log distance) probes; a watched frame's scope; breakpoints first. */
START_TEST(test_watch)
{
    fixture f;
    open_fixture(&f, write_loop);
    int n;
    char *v = NULL;
    rw_err err;
    /* without values nothing is set */
    ck_assert_int_eq(rw_session_watch_add(f.s, "k3", &n, &v, &err), RW_EINVAL);
    ck_assert_str_eq(err.msg, RW_VALUES_NEED_REEXEC);
    ck_assert_int_eq(rw_session_watch_limit(f.s), 1);
    rw_session_set_values(f.s, &watch_fake);
    ck_assert_uint_eq(f.st.pos, 1);
    ck_assert_int_eq(rw_session_watch_add(f.s, "k3", &n, &v, &err), RW_OK);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(v, "-1");
    free(v);
    char want_old[32], want_new[32];
    for (uint64_t p = 1; p <= LOOP_END; p++) {
        /* forwards: the first position after p whose value differs */
        uint64_t q = p + 1;
        while (q <= LOOP_END && k3_at(q) == k3_at(p))
            q++;
        go_to(&f, p);
        nasked = 0;
        const rw_stop *st = go(&f, rw_session_continue);
        if (q > LOOP_END) {
            ck_assert_int_eq(st->reason, RW_STOP_END);
            ck_assert_uint_eq(st->nchanges, 0);
        } else {
            ck_assert_uint_eq(st->pos, q);
            snprintf(want_old, sizeof want_old, "%lld", k3_at(p));
            snprintf(want_new, sizeof want_new, "%lld", k3_at(q));
            ck_change(st, want_old, want_new);
            /* probes: galloping and bisecting over q - p events */
            uint64_t d = q - p, lg = 0;
            while ((1ull << lg) < d)
                lg++;
            ck_assert_uint_le(rw_session_watch_probes(f.s), 2 * lg + 4);
            ck_assert_uint_eq(nasked, rw_session_watch_probes(f.s));
        }
        /* backwards: the first position of the run that holds at p - 1 */
        go_to(&f, p);
        st = go(&f, rw_session_rcontinue);
        if (p == 1) {
            ck_assert_int_eq(st->reason, RW_STOP_START);
            ck_assert_int_eq(st->moved, 0);
            continue;
        }
        uint64_t j = p - 1;
        while (j > 1 && k3_at(j - 1) == k3_at(p - 1))
            j--;
        if (j == 1) {
            ck_stop(st, 1, RW_STOP_START);
            ck_assert_uint_eq(st->nchanges, 0);
        } else {
            ck_stop(st, j, RW_STOP_LINE);
            snprintf(want_old, sizeof want_old, "%lld", k3_at(j - 1));
            snprintf(want_new, sizeof want_new, "%lld", k3_at(j));
            ck_change(st, want_old, want_new);
        }
    }
    /* a breakpoint before the change stops first, both ways */
    int b;
    ck_assert(rw_session_break_add(f.s, 1, 3, NULL, NULL, 0, &b, &err) == RW_OK);
    go_to(&f, 20);
    ck_stop(go(&f, rw_session_continue), 24, RW_STOP_BREAKPOINT);
    ck_assert_uint_eq(f.st.nchanges, 0);
    ck_assert_int_eq(rw_session_break_get(f.s, b)->hits, 1);
    go_to(&f, 37);
    ck_stop(go(&f, rw_session_rcontinue), 36, RW_STOP_BREAKPOINT);
    go_to(&f, 40); /* the change at 38 comes before the hit at 36 going back */
    ck_stop(go(&f, rw_session_rcontinue), 38, RW_STOP_LINE);
    ck_change(&f.st, "1", "2");
    /* ... and not after it: from 19 the change at 20 comes before the hit at 24 */
    go_to(&f, 19);
    ck_stop(go(&f, rw_session_continue), 20, RW_STOP_LINE);
    ck_change(&f.st, "0", "1");
    ck_assert_int_eq(rw_session_break_get(f.s, b)->hits, 1);
    /* the hits passed before a watch stop are counted (24, 30 and 36 ignored), the
     * ones after it are not */
    rw_session_break_ignore(f.s, b, 3);
    ck_stop(go(&f, rw_session_continue), 38, RW_STOP_LINE);
    ck_change(&f.st, "1", "2");
    ck_assert_int_eq(rw_session_break_get(f.s, b)->hits, 4);
    ck_assert_int_eq(rw_session_break_get(f.s, b)->ignore, 0);
    rw_session_break_delete(f.s, b);
    rw_session_watch_delete(f.s, 1);
    ck_assert_ptr_null(rw_session_watch_get(f.s, 1));
    ck_assert_int_eq(go(&f, rw_session_continue)->reason, RW_STOP_END);
    /* a watch in f's frame of iteration 2 (its CALL at 16, its RETURN at 19) */
    go_to(&f, 16);
    ck_assert_int_eq(rw_session_watch_add(f.s, "k", &n, &v, &err), RW_OK);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(v, "2");
    free(v);
    go_to(&f, 2);
    ck_stop(go(&f, rw_session_continue), 16, RW_STOP_CALL);
    ck_assert_uint_eq(f.st.nchanges, 1);
    ck_assert_str_eq(f.st.changes[0].old_value, RW_WATCH_OUT_OF_SCOPE);
    ck_assert_str_eq(f.st.changes[0].new_value, "2");
    ck_stop(go(&f, rw_session_continue), 20, RW_STOP_LINE);
    ck_assert_str_eq(f.st.changes[0].old_value, "2");
    ck_assert_str_eq(f.st.changes[0].new_value, RW_WATCH_OUT_OF_SCOPE);
    ck_assert_int_eq(go(&f, rw_session_continue)->reason, RW_STOP_END);
    go_to(&f, 30);
    ck_stop(go(&f, rw_session_rcontinue), 20, RW_STOP_LINE);
    ck_stop(go(&f, rw_session_rcontinue), 16, RW_STOP_CALL);
    ck_assert_str_eq(f.st.changes[0].old_value, RW_WATCH_OUT_OF_SCOPE);
    ck_assert_int_eq(go(&f, rw_session_rcontinue)->reason, RW_STOP_START);
    /* an expression that raises has its exception line as its value */
    rw_session_watch_delete(f.s, 2);
    go_to(&f, 16);
    ck_assert_int_eq(rw_session_watch_add(f.s, "q", &n, &v, &err), RW_OK);
    ck_assert_str_eq(v, "*** NameError: name 'q' is not defined");
    free(v);
    go_to(&f, 17);
    ck_stop(go(&f, rw_session_continue), 20, RW_STOP_LINE);
    ck_assert_str_eq(f.st.changes[0].new_value, RW_WATCH_OUT_OF_SCOPE);
    close_fixture(&f);
}
END_TEST

/* A watch in the worker probes the worker's events only; the main thread's moves do
 * not see it. */
START_TEST(test_watch_threads)
{
    fixture f;
    open_fixture(&f, write_threads);
    rw_session_set_values(f.s, &watch_fake);
    rw_err err;
    int n;
    char *v = NULL;
    go_to(&f, 3);
    ck_assert_uint_eq(f.st.thread, 2);
    ck_assert(rw_session_watch_add(f.s, "pos", &n, &v, &err) == RW_OK);
    ck_assert_str_eq(v, "3");
    free(v);
    nasked = 0;
    ck_stop(go(&f, rw_session_continue), 5, RW_STOP_LINE);
    ck_assert_uint_eq(f.st.thread, 2);
    ck_change(&f.st, "3", "5");
    ck_assert_uint_gt(nasked, 0);
    for (size_t i = 0; i < nasked; i++)
        ck_assert(asked[i] == 3 || asked[i] == 5 || asked[i] == 6);
    ck_stop(go(&f, rw_session_continue), 6, RW_STOP_RETURN);
    ck_change(&f.st, "5", "6");
    ck_assert_int_eq(go(&f, rw_session_continue)->reason, RW_STOP_THREAD_END);
    go_to(&f, 5);
    nasked = 0;
    ck_stop(go(&f, rw_session_rcontinue), 3, RW_STOP_LINE);
    ck_change(&f.st, "2", "3");
    for (size_t i = 0; i < nasked; i++)
        ck_assert(asked[i] == 2 || asked[i] == 3);
    /* the main thread's continue does not stop for the worker's watch */
    ck_assert(rw_session_goto_thread(f.s, 1, &f.st, &err) == RW_OK);
    ck_stop(&f.st, 1, RW_STOP_LINE);
    nasked = 0;
    const rw_stop *st = go(&f, rw_session_continue);
    ck_assert_int_eq(st->reason, RW_STOP_END);
    ck_assert_uint_eq(st->nchanges, 0);
    ck_assert_uint_eq(nasked, 0);
    close_fixture(&f);
}
END_TEST

/* ---- the uncaught exception ------------------------------------------------------------ */

START_TEST(test_uncaught_exception)
{
    fixture f;
    open_fixture(&f, write_uncaught);
    ck_stop(&f.st, 1, RW_STOP_LINE);
    ck_stop(go(&f, rw_session_step), 2, RW_STOP_CALL);
    ck_stop(go(&f, rw_session_step), 3, RW_STOP_LINE);
    const rw_stop *st = go(&f, rw_session_step);
    ck_stop(st, 4, RW_STOP_EXCEPTION);
    ck_assert_int_eq(st->has_exception, 1);
    ck_assert_str_eq(st->exception.type, "ValueError");
    ck_assert_str_eq(st->exception.message, "1");
    st = go(&f, rw_session_step);
    ck_stop(st, 5, RW_STOP_RETURN);
    ck_assert_int_eq(st->has_exception, 0);
    /* the program's end is its uncaught exception: the postmortem view */
    st = go(&f, rw_session_continue);
    ck_stop(st, 7, RW_STOP_UNCAUGHT);
    ck_assert_int_eq(st->postmortem, 1);
    ck_assert_str_eq(st->exception.type, "ValueError");
    ck_assert_str_eq(st->exception.message, "1");
    ck_assert_uint_eq(st->nframes, 2);
    ck_assert_str_eq(st->frames[0].function, "<module>");
    ck_assert_uint_eq(st->frames[0].line, 4);
    ck_assert_str_eq(st->frames[1].function, "f");
    ck_assert_uint_eq(st->frames[1].line, 2);
    ck_assert_uint_eq(st->selected, 1);
    st = go(&f, rw_session_step);
    ck_assert_int_eq(st->reason, RW_STOP_UNCAUGHT);
    ck_assert_int_eq(st->moved, 0);
    /* reverse moves go back from past the end */
    ck_stop(go(&f, rw_session_rstep), 7, RW_STOP_RETURN);
    ck_assert_int_eq(f.st.postmortem, 0);
    ck_stop(go(&f, rw_session_rstep), 6, RW_STOP_EXCEPTION);
    st = go(&f, rw_session_goto_uncaught);
    ck_stop(st, 7, RW_STOP_UNCAUGHT);
    ck_assert_int_eq(st->postmortem, 1);
    rw_err err;
    ck_assert_int_eq(rw_session_goto_crash(f.s, &f.st, &err), RW_ENOTFOUND);
    rw_session_run run;
    rw_session_run_info(f.s, &run);
    ck_assert_int_eq(run.has_end, 1);
    ck_assert_int_eq(run.exit_status, 1);
    close_fixture(&f);
}
END_TEST

START_TEST(test_no_uncaught_exception)
{
    fixture f;
    open_fixture(&f, write_loop);
    rw_err err;
    ck_assert_int_eq(rw_session_goto_uncaught(f.s, &f.st, &err), RW_ENOTFOUND);
    ck_assert_uint_eq(f.st.pos, 1);
    close_fixture(&f);
}
END_TEST

/* ---- threads -------------------------------------------------------------------------- */

START_TEST(test_threads)
{
    fixture f;
    open_fixture(&f, write_threads);
    ck_stop(&f.st, 1, RW_STOP_LINE);
    /* stepping in the main thread does not stop in the worker */
    ck_stop(go(&f, rw_session_step), 4, RW_STOP_LINE);
    ck_assert_uint_eq(f.st.thread, 1);
    ck_stop(go(&f, rw_session_step), 7, RW_STOP_RETURN);
    /* a breakpoint in the worker stops there from the main thread */
    rw_err err;
    int n;
    ck_assert(rw_session_break_add(f.s, 1, 3, NULL, NULL, 0, &n, &err) == RW_OK);
    ck_assert(rw_session_start(f.s, &f.st, &err) == RW_OK);
    const rw_stop *st = go(&f, rw_session_continue);
    ck_stop(st, 5, RW_STOP_BREAKPOINT);
    ck_assert_uint_eq(st->thread, 2);
    ck_assert_uint_eq(st->nframes, 1);
    ck_assert_str_eq(st->frames[0].function, "g");
    ck_assert_uint_eq(st->frames[0].call_pos, 2);
    ck_stop(go(&f, rw_session_rstep), 3, RW_STOP_LINE);
    ck_assert_uint_eq(f.st.thread, 2);
    ck_stop(go(&f, rw_session_rstep), 2, RW_STOP_CALL);
    ck_stop(go(&f, rw_session_step), 3, RW_STOP_LINE);
    /* a step stops at the line before the breakpoint is looked at (bdb's order) */
    ck_stop(go(&f, rw_session_step), 5, RW_STOP_LINE);
    ck_stop(go(&f, rw_session_step), 6, RW_STOP_RETURN);
    st = go(&f, rw_session_step);
    ck_assert_int_eq(st->reason, RW_STOP_THREAD_END);
    ck_assert_int_eq(st->moved, 0);
    ck_assert_uint_eq(st->pos, 6);
    /* switching threads: the thread's last event at or before here */
    ck_assert(rw_session_goto_thread(f.s, 1, &f.st, &err) == RW_OK);
    ck_stop(&f.st, 4, RW_STOP_LINE);
    ck_assert_uint_eq(f.st.thread, 1);
    ck_assert(rw_session_goto_thread(f.s, 2, &f.st, &err) == RW_OK);
    ck_stop(&f.st, 3, RW_STOP_LINE);
    ck_assert_uint_eq(rw_session_nthreads(f.s), 3);
    rw_session_thread t;
    ck_assert(rw_session_thread_info(f.s, 2, &t));
    ck_assert_str_eq(t.name, "worker");
    ck_assert_int_eq(t.is_main, 0);
    close_fixture(&f);
}
END_TEST

int main(void)
{
    const TTest *loop_tests[] = {test_start_and_frames, test_step_rstep_inverse,
                                 test_next_rnext_rreturn, test_breakpoints, test_goto_and_lookups,
                                 test_vocabulary, test_fast_matches_plain, test_values_seam,
                                 test_values_kept_stops,
                                 test_conditions, test_watch};
    const TTest *exception_tests[] = {test_uncaught_exception, test_no_uncaught_exception};
    const TTest *threads_tests[] = {test_threads, test_watch_threads};
    Suite *s = suite_create("session");
    rw_test_add_case(s, "loop", 0, loop_tests, RW_TEST_N(loop_tests));
    rw_test_add_case(s, "exception", 0, exception_tests, RW_TEST_N(exception_tests));
    rw_test_add_case(s, "threads", 0, threads_tests, RW_TEST_N(threads_tests));
    return rw_test_run(s);
}
