/* Check suite for replayer/debugger and replayer/timeline: the command-line parser
 * (pdb's parseline, int(), alias expansion and ";;"), and the debugger on a trace
 * written here with the writer API in chunks of a few records, so that backward
 * searches cross many chunk boundaries: step/rstep are inverses at every position,
 * rcontinue finds every earlier breakpoint hit, and the stops print as pdb does. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debugger.h"
#include "reader.h"
#include "testutil.h"
#include "timeline.h"
#include "writer.h"

/* ---- parser ------------------------------------------------------------------ */

START_TEST(test_parseline)
{
    char name[16], arg[64];
    ck_assert_int_eq(rw_dbg_parseline("   ", name, sizeof name, arg, sizeof arg), RW_DBG_EMPTY);
    ck_assert_int_eq(rw_dbg_parseline("", name, sizeof name, arg, sizeof arg), RW_DBG_EMPTY);
    ck_assert_int_eq(rw_dbg_parseline("  b  7 , x > 1  ", name, sizeof name, arg, sizeof arg),
                     RW_DBG_COMMAND);
    ck_assert_str_eq(name, "b");
    ck_assert_str_eq(arg, "7 , x > 1");
    ck_assert_int_eq(rw_dbg_parseline("?step", name, sizeof name, arg, sizeof arg),
                     RW_DBG_COMMAND);
    ck_assert_str_eq(name, "help");
    ck_assert_str_eq(arg, "step");
    ck_assert_int_eq(rw_dbg_parseline("!x = 1", name, sizeof name, arg, sizeof arg),
                     RW_DBG_STATEMENT);
    ck_assert_str_eq(arg, "x = 1");
    ck_assert_int_eq(rw_dbg_parseline("(1)", name, sizeof name, arg, sizeof arg),
                     RW_DBG_STATEMENT);
    /* "p(x)": the name stops at the first non-identifier character, as in cmd.py */
    ck_assert_int_eq(rw_dbg_parseline("p(x)", name, sizeof name, arg, sizeof arg),
                     RW_DBG_COMMAND);
    ck_assert_str_eq(name, "p");
    ck_assert_str_eq(arg, "(x)");
    /* names and arguments longer than the buffers are cut, never overrun */
    ck_assert_int_eq(rw_dbg_parseline("abcdefghijklmnopqrstuvwxyz 1", name, sizeof name, arg,
                                      sizeof arg), RW_DBG_COMMAND);
    ck_assert_uint_eq(strlen(name), sizeof name - 1);
}
END_TEST

START_TEST(test_parse_int)
{
    long long v;
    ck_assert_int_eq(rw_dbg_parse_int(" 12 ", &v), 0);
    ck_assert_int_eq(v, 12);
    ck_assert_int_eq(rw_dbg_parse_int("-3", &v), 0);
    ck_assert_int_eq(v, -3);
    ck_assert_int_eq(rw_dbg_parse_int("+1_000", &v), 0);
    ck_assert_int_eq(v, 1000);
    ck_assert_int_eq(rw_dbg_parse_int("1__0", &v), -1);
    ck_assert_int_eq(rw_dbg_parse_int("_1", &v), -1);
    ck_assert_int_eq(rw_dbg_parse_int("1_", &v), -1);
    ck_assert_int_eq(rw_dbg_parse_int("", &v), -1);
    ck_assert_int_eq(rw_dbg_parse_int("x", &v), -1);
    ck_assert_int_eq(rw_dbg_parse_int("1 2", &v), -1);
    ck_assert_int_eq(rw_dbg_parse_int("99999999999999999999", &v), -1);
    ck_assert_int_eq(rw_dbg_parse_int("9223372036854775807", &v), 0);
}
END_TEST

START_TEST(test_expand)
{
    const char *names[] = {"ss", "pi", "loop", "two"};
    const char *texts[] = {"step ;; step", "p %1.%2 %* %3", "loop again", "ss"};
    char *rest;
    char *x = rw_dbg_expand("ss", names, texts, 4, &rest);
    ck_assert_str_eq(x, "step");
    ck_assert_str_eq(rest, "step");
    free(x);
    free(rest);
    x = rw_dbg_expand("pi a b", names, texts, 4, &rest);
    ck_assert_str_eq(x, "p a.b a b %3");
    ck_assert_ptr_null(rest);
    free(x);
    /* aliases nest through the first word */
    x = rw_dbg_expand("two", names, texts, 4, &rest);
    ck_assert_str_eq(x, "step");
    ck_assert_str_eq(rest, "step");
    free(x);
    free(rest);
    /* an alias command keeps its ";;" */
    x = rw_dbg_expand("alias xx n ;; n", names, texts, 4, &rest);
    ck_assert_str_eq(x, "alias xx n ;; n");
    ck_assert_ptr_null(rest);
    free(x);
    x = rw_dbg_expand("n ;;   l ;; w", NULL, NULL, 0, &rest);
    ck_assert_str_eq(x, "n");
    ck_assert_str_eq(rest, "l ;; w");
    free(x);
    free(rest);
    /* a self-naming alias ends with NULL instead of looping */
    ck_assert_ptr_null(rw_dbg_expand("loop", names, texts, 4, &rest));
    ck_assert_ptr_null(rest);
}
END_TEST

/* ---- a synthetic trace -------------------------------------------------------- */

static const char SOURCE[] = "def f(x):\n"          /* 1 */
                             "    y = x\n"          /* 2 */
                             "    return y\n"       /* 3 */
                             "\n"                   /* 4 */
                             "for i in range(40):\n" /* 5 */
                             "    f(i)\n";          /* 6 */

#define LOOPS 40

/* Writes the trace of SOURCE, in chunks of 7 records. Returns its path. */
static char *write_trace(void)
{
    char *path = rw_test_path("dbg.rwd");
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    o.chunk_records = 7;
    o.flush_ms = 0;
    Rewind__Metadata meta = REWIND__METADATA__INIT;
    char *argv[] = {"prog.py"};
    meta.n_argv = 1;
    meta.argv = argv;
    meta.cwd = "/t";
    meta.run_kind = "script";
    meta.run_target = "prog.py";
    meta.ns_per_tick = 1.0;
    rw_writer *w;
    rw_err err;
    ck_assert_msg(rw_writer_open(path, &o, 1, &meta, &w, &err) == RW_OK, "%s", err.msg);
    rw_writer_def_file(w, 1, "/t/prog.py", SOURCE, sizeof SOURCE - 1, 1);
    const char *args[] = {"x"};
    rw_writer_def_code(w, 1, 1, "<module>", "<module>", 1, 0, NULL, 0);
    rw_writer_def_code(w, 2, 1, "f", "f", 1, 3, args, 1);
    rw_writer_def_thread(w, 1, 1, 1, "MainThread", 1);
    rw_stream *s = rw_writer_stream(w);
    uint64_t t = 1;
    rw_stream_put(s, RW_REC(RW_K_THREAD, t), 1);
    rw_stream_put(s, RW_REC(RW_K_CALL, t++), 1 | (uint64_t)1 << 32);
    rw_stream_put(s, RW_REC(RW_K_LINE, t++), 1);
    for (int i = 0; i < LOOPS; i++) {
        rw_stream_put(s, RW_REC(RW_K_LINE, t++), 5);
        rw_stream_put(s, RW_REC(RW_K_LINE, t++), 6);
        rw_stream_put(s, RW_REC(RW_K_CALL, t++), 2 | (uint64_t)1 << 32);
        rw_stream_put(s, RW_REC(RW_K_LINE, t++), 2);
        rw_stream_put(s, RW_REC(RW_K_LINE, t++), 3);
        rw_stream_put(s, RW_REC(RW_K_RETURN, t++), 0);
    }
    rw_stream_put(s, RW_REC(RW_K_LINE, t++), 5);
    rw_stream_put(s, RW_REC(RW_K_RETURN, t++), 0);
    Rewind__RunEnd end = REWIND__RUN_END__INIT;
    end.stop_reason = "exit";
    ck_assert_msg(rw_writer_close(w, &end, NULL, &err) == RW_OK, "%s", err.msg);
    return path;
}

typedef struct session {
    rw_reader *r;
    rw_dbg *d;
    char *buf;
    size_t len;
    FILE *out;
    char *path;
} session;

static void open_session(session *s)
{
    rw_err err;
    s->path = write_trace();
    ck_assert_msg(rw_reader_open(s->path, &s->r, &err) == RW_OK, "%s", err.msg);
    ck_assert_uint_gt(rw_reader_nchunks(s->r), 20);
    s->out = open_memstream(&s->buf, &s->len);
    ck_assert_ptr_nonnull(s->out);
    ck_assert_msg(rw_dbg_new(s->r, s->out, &s->d, &err) == RW_OK, "%s", err.msg);
    ck_assert_msg(rw_dbg_start(s->d, NULL, &err) == RW_OK, "%s", err.msg);
}

static void close_session(session *s)
{
    rw_dbg_free(s->d);
    fclose(s->out);
    free(s->buf);
    rw_reader_free(s->r);
    free(s->path);
}

/* Runs cmd and returns what it printed (static buffer). */
static const char *run(session *s, const char *cmd)
{
    static char out[8192];
    fflush(s->out);
    size_t before = s->len;
    rw_dbg_line(s->d, cmd);
    fflush(s->out);
    size_t n = s->len - before;
    if (n >= sizeof out)
        n = sizeof out - 1;
    memcpy(out, s->buf + before, n);
    out[n] = '\0';
    return out;
}

static unsigned long long when(session *s)
{
    unsigned long long pos = 0;
    ck_assert_int_eq(sscanf(run(s, "when"), "event %llu", &pos), 1);
    return pos;
}

START_TEST(test_start_and_print)
{
    session s;
    open_session(&s);
    rw_dbg_print_stop(s.d);
    ck_assert_str_eq(run(&s, "w"), "> /t/prog.py(1)<module>()\n-> def f(x):\n");
    ck_assert_str_eq(run(&s, "s"), "");
    ck_assert_str_eq(run(&s, "s"), "");
    ck_assert_str_eq(run(&s, "s"), "--Call--\n");
    ck_assert_str_eq(run(&s, "w"), "  /t/prog.py(6)<module>()\n-> f(i)\n"
                                   "> /t/prog.py(1)f()\n-> def f(x):\n");
    ck_assert_str_eq(run(&s, "args"),
                     "*** args: values need a re-execution replay, which this build does "
                     "not have yet; the log shows the names:\nx\n");
    ck_assert_str_eq(run(&s, "b 3"), "Breakpoint 1 at /t/prog.py:3\n");
    ck_assert_str_eq(run(&s, "l"), "  1  ->\tdef f(x):\n  2  \t    y = x\n  3 B\t    return y\n"
                                   "  4  \t\n  5  \tfor i in range(40):\n  6  \t    f(i)\n[EOF]\n");
    ck_assert_str_eq(run(&s, "u"), "> /t/prog.py(6)<module>()\n-> f(i)\n");
    ck_assert_str_eq(run(&s, "u"), "*** Oldest frame\n");
    ck_assert_str_eq(run(&s, "frobnicate"),
                     "*** Unknown command 'frobnicate': Python statements and expressions "
                     "need a re-execution replay, which this build does not have yet\n");
    close_session(&s);
}
END_TEST

START_TEST(test_step_rstep_everywhere)
{
    session s;
    open_session(&s);
    enum { MAXS = 400 };
    static unsigned long long pos[MAXS];
    int n = 0;
    pos[n++] = when(&s);
    for (;;) {
        const char *o = run(&s, "s");
        if (strstr(o, "The program finished"))
            break;
        ck_assert_int_lt(n, MAXS);
        pos[n++] = when(&s);
        ck_assert_uint_gt(pos[n - 1], pos[n - 2]);
    }
    /* 2 lines + 40 * (2 lines, call, 2 lines, return) + line + return */
    ck_assert_int_eq(n, 2 + LOOPS * 6 + 2 - 1);
    for (int i = n - 1; i > 0; i--) {
        run(&s, "rs");
        ck_assert_uint_eq(when(&s), pos[i - 1]);
    }
    /* before the first line: the module's call, then nothing */
    ck_assert_str_eq(run(&s, "rs"), "--Call--\n");
    ck_assert_str_eq(run(&s, "rs"), "*** At the start of the program: nothing before this\n");
    close_session(&s);
}
END_TEST

START_TEST(test_breakpoints_both_ways)
{
    session s;
    open_session(&s);
    run(&s, "b 3");
    static unsigned long long hits[LOOPS];
    for (int i = 0; i < LOOPS; i++) {
        ck_assert_str_eq(run(&s, "c"), "");
        hits[i] = when(&s);
    }
    ck_assert(strstr(run(&s, "b"), "breakpoint already hit 40 times"));
    for (int i = LOOPS - 1; i > 0; i--) {
        run(&s, "rc");
        ck_assert_uint_eq(when(&s), hits[i - 1]);
    }
    ck_assert_str_eq(run(&s, "rc"),
                     "No breakpoint hit before this: back to the start of the program\n");
    /* next over each call, rnext back */
    run(&s, "ignore 1 2");
    run(&s, "c");
    ck_assert_uint_eq(when(&s), hits[2]);
    ck_assert_str_eq(run(&s, "tbreak 2"), "Breakpoint 2 at /t/prog.py:2\n");
    ck_assert_str_eq(run(&s, "c"), "Deleted breakpoint 2 at /t/prog.py:2\n");
    ck_assert_str_eq(run(&s, "rr"), "--Call--\n");
    ck_assert_str_eq(run(&s, "rn"), "");
    ck_assert_str_eq(run(&s, "w"), "> /t/prog.py(6)<module>()\n-> f(i)\n");
    unsigned long long at6 = when(&s);
    /* next stops at a breakpoint in the callee, as pdb's does */
    ck_assert_str_eq(run(&s, "n"), "");
    ck_assert_str_eq(run(&s, "w"), "  /t/prog.py(6)<module>()\n-> f(i)\n"
                                   "> /t/prog.py(3)f()\n-> return y\n");
    ck_assert_str_eq(run(&s, "disable 1"), "Disabled breakpoint 1 at /t/prog.py:3\n");
    /* a disabled breakpoint stops neither way */
    ck_assert_str_eq(run(&s, "rc"),
                     "No breakpoint hit before this: back to the start of the program\n");
    char cmd[64];
    snprintf(cmd, sizeof cmd, "goto %llu", at6);
    ck_assert_str_eq(run(&s, cmd), "");
    ck_assert_str_eq(run(&s, "n"), "");
    ck_assert_str_eq(run(&s, "w"), "> /t/prog.py(5)<module>()\n-> for i in range(40):\n");
    ck_assert_str_eq(run(&s, "rn"), "");
    ck_assert_uint_eq(when(&s), at6);
    ck_assert_str_eq(run(&s, "goto 0"), "--Call--\n");
    ck_assert_str_eq(run(&s, "goto @end"), "--Return--\n");
    ck_assert(strstr(run(&s, "goto bogus"), "*** bad position"));
    close_session(&s);
}
END_TEST

/* next over every call of the loop and rnext back: the frame-confined searches skip
 * the callee across chunk boundaries (7-record chunks) and must land on the module's
 * lines: event 1 is line 1, then each iteration i has line 5 at 2 + 6i and line 6 at
 * 3 + 6i, the call of f, its two lines and its return. */
START_TEST(test_next_rnext_over_calls)
{
    session s;
    open_session(&s);
    ck_assert_uint_eq(when(&s), 1);
    unsigned long long expect = 1;
    for (int i = 0; i < 2 * LOOPS; i++) {
        run(&s, "n");
        expect = i == 0 ? 2 : (i % 2 ? expect + 1 : expect + 5);
        ck_assert_uint_eq(when(&s), expect);
    }
    run(&s, "n");
    ck_assert_uint_eq(when(&s), 2 + 6 * LOOPS);
    ck_assert(strstr(run(&s, "n"), "--Return--"));
    run(&s, "rn");
    ck_assert_uint_eq(when(&s), 2 + 6 * LOOPS);
    for (int i = 2 * LOOPS; i > 0; i--) {
        run(&s, "rn");
        unsigned long long want = 2 + 6 * (unsigned long long)((i - 1) / 2) + ((i - 1) % 2);
        ck_assert_uint_eq(when(&s), want);
    }
    run(&s, "rn");
    ck_assert_uint_eq(when(&s), 1);
    /* return from f skips nothing it must see: its own return */
    run(&s, "until 6");
    ck_assert_uint_eq(when(&s), 3);
    run(&s, "s");
    run(&s, "r");
    ck_assert_uint_eq(when(&s), 7);
    close_session(&s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("debugger");
    TCase *tc = tcase_create("parser");
    tcase_add_test(tc, test_parseline);
    tcase_add_test(tc, test_parse_int);
    tcase_add_test(tc, test_expand);
    suite_add_tcase(s, tc);
    tc = tcase_create("session");
    tcase_add_test(tc, test_start_and_print);
    tcase_add_test(tc, test_step_rstep_everywhere);
    tcase_add_test(tc, test_breakpoints_both_ways);
    tcase_add_test(tc, test_next_rnext_over_calls);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
