/* Check suite for the pdb front end (replayer/debugger/pdb.h) and, through it, the
 * session engine and its navigator: the command-line parser (pdb's parseline, int(),
 * alias expansion and ";;"), and the debugger on a trace written here with the writer
 * API in chunks of a few records, so that backward searches cross many chunk
 * boundaries: step/rstep are inverses at every position, rcontinue finds every
 * earlier breakpoint hit, and the stops print as pdb does. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pdb.h"
#include "reader.h"
#include "testutil.h"
#include "inputs.h"
#include "writer.h"

/* ---- parser ------------------------------------------------------------------ */

START_TEST(test_parseline)
{
    char name[16], arg[64];
    ck_assert_int_eq(rw_pdb_parseline("   ", name, sizeof name, arg, sizeof arg), RW_PDB_EMPTY);
    ck_assert_int_eq(rw_pdb_parseline("", name, sizeof name, arg, sizeof arg), RW_PDB_EMPTY);
    ck_assert_int_eq(rw_pdb_parseline("  b  7 , x > 1  ", name, sizeof name, arg, sizeof arg),
                     RW_PDB_COMMAND);
    ck_assert_str_eq(name, "b");
    ck_assert_str_eq(arg, "7 , x > 1");
    ck_assert_int_eq(rw_pdb_parseline("?step", name, sizeof name, arg, sizeof arg),
                     RW_PDB_COMMAND);
    ck_assert_str_eq(name, "help");
    ck_assert_str_eq(arg, "step");
    ck_assert_int_eq(rw_pdb_parseline("!x = 1", name, sizeof name, arg, sizeof arg),
                     RW_PDB_STATEMENT);
    ck_assert_str_eq(arg, "x = 1");
    ck_assert_int_eq(rw_pdb_parseline("(1)", name, sizeof name, arg, sizeof arg),
                     RW_PDB_STATEMENT);
    /* "p(x)": the name stops at the first non-identifier character, as in cmd.py */
    ck_assert_int_eq(rw_pdb_parseline("p(x)", name, sizeof name, arg, sizeof arg),
                     RW_PDB_COMMAND);
    ck_assert_str_eq(name, "p");
    ck_assert_str_eq(arg, "(x)");
    /* names and arguments longer than the buffers are cut, never overrun */
    ck_assert_int_eq(rw_pdb_parseline("abcdefghijklmnopqrstuvwxyz 1", name, sizeof name, arg,
                                      sizeof arg), RW_PDB_COMMAND);
    ck_assert_uint_eq(strlen(name), sizeof name - 1);
}
END_TEST

START_TEST(test_parse_int)
{
    long long v;
    ck_assert_int_eq(rw_pdb_parse_int(" 12 ", &v), 0);
    ck_assert_int_eq(v, 12);
    ck_assert_int_eq(rw_pdb_parse_int("-3", &v), 0);
    ck_assert_int_eq(v, -3);
    ck_assert_int_eq(rw_pdb_parse_int("+1_000", &v), 0);
    ck_assert_int_eq(v, 1000);
    ck_assert_int_eq(rw_pdb_parse_int("1__0", &v), -1);
    ck_assert_int_eq(rw_pdb_parse_int("_1", &v), -1);
    ck_assert_int_eq(rw_pdb_parse_int("1_", &v), -1);
    ck_assert_int_eq(rw_pdb_parse_int("", &v), -1);
    ck_assert_int_eq(rw_pdb_parse_int("x", &v), -1);
    ck_assert_int_eq(rw_pdb_parse_int("1 2", &v), -1);
    ck_assert_int_eq(rw_pdb_parse_int("99999999999999999999", &v), -1);
    ck_assert_int_eq(rw_pdb_parse_int("9223372036854775807", &v), 0);
}
END_TEST

/* The aliases test_expand defines: alias name, then its text. */
static const char *const alias_names[] = {"ss", "pi", "loop", "two"};
static const char *const alias_texts[] = {"step ;; step", "p %1.%2 %* %3", "loop again", "ss"};

/* rw_pdb_expand(line), with the aliases above or with none, gives want and the rest of
 * the line after a ";;" want_rest (NULL: no rest). */
static void expands(const char *line, int aliases, const char *want, const char *want_rest)
{
    char *rest;
    char *x = rw_pdb_expand(line, aliases ? alias_names : NULL, aliases ? alias_texts : NULL,
                            aliases ? 4 : 0, &rest);
    ck_assert_str_eq(x, want);
    if (want_rest)
        ck_assert_str_eq(rest, want_rest);
    else
        ck_assert_ptr_null(rest);
    free(x);
    free(rest);
}

START_TEST(test_expand)
{
    expands("ss", 1, "step", "step");
    expands("pi a b", 1, "p a.b a b %3", NULL);
    /* aliases nest through the first word */
    expands("two", 1, "step", "step");
    /* an alias command keeps its ";;" */
    expands("alias xx n ;; n", 1, "alias xx n ;; n", NULL);
    expands("n ;;   l ;; w", 0, "n", "l ;; w");
    /* a self-naming alias ends with NULL instead of looping */
    char *rest;
    ck_assert_ptr_null(rw_pdb_expand("loop", alias_names, alias_texts, 4, &rest));
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
    rw_writer *w = rw_test_script_trace(path, 7, SOURCE, sizeof SOURCE - 1);
    const char *args[] = {"x"};
    rw_writer_def_code(w, 1, 1, "<module>", "<module>", 1, 0, NULL, 0);
    rw_writer_def_code(w, 2, 1, "f", "f", 1, 3, args, 1);
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
    rw_test_writer_exit(w);
    return path;
}

typedef struct session {
    rw_reader *r;
    rw_pdb *d;
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
    ck_assert_msg(rw_pdb_new(s->r, s->out, &s->d, &err) == RW_OK, "%s", err.msg);
    ck_assert_msg(rw_pdb_start(s->d, NULL, &err) == RW_OK, "%s", err.msg);
}

static void close_session(session *s)
{
    rw_pdb_free(s->d);
    fclose(s->out);
    free(s->buf);
    rw_reader_free(s->r);
    free(s->path);
}

/* What the session printed since offset before (static buffer, cut to 8K). */
static const char *printed_since(session *s, size_t before)
{
    static char out[8192];
    fflush(s->out);
    size_t n = s->len - before;
    if (n >= sizeof out)
        n = sizeof out - 1;
    memcpy(out, s->buf + before, n);
    out[n] = '\0';
    return out;
}

/* Runs cmd and returns what it printed (static buffer). */
static const char *run(session *s, const char *cmd)
{
    fflush(s->out);
    size_t before = s->len;
    rw_pdb_line(s->d, cmd);
    return printed_since(s, before);
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
    rw_pdb_print_stop(s.d);
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
                     "*** Unknown command 'frobnicate': as a Python statement it cannot run "
                     "here: values need a re-execution replay, which this build does not "
                     "have yet\n");
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
    /* nothing before the first line (pdb's first stop: issue 17) */
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

/* What rw_pdb_interaction printed at the current stop (static buffer); *moved gets
 * its result. */
static const char *interact(session *s, int *moved)
{
    fflush(s->out);
    size_t before = s->len;
    *moved = rw_pdb_interaction(s->d);
    return printed_since(s, before);
}

START_TEST(test_command_lists)
{
    session s;
    open_session(&s);
    int moved;
    ck_assert_str_eq(interact(&s, &moved), "> /t/prog.py(1)<module>()\n-> def f(x):\n");
    ck_assert_int_eq(moved, 0);
    ck_assert_str_eq(run(&s, "commands"),
                     "*** cannot set commands: Breakpoint number expected\n");
    run(&s, "b 3");
    ck_assert_str_eq(run(&s, "commands 2"),
                     "*** cannot set commands: Breakpoint number 2 out of range\n");
    ck_assert_str_eq(run(&s, "commands 1 2"), "*** Usage: commands [bnum]\n        ...\n"
                                              "        end\n");
    ck_assert_int_eq(rw_pdb_defining(s.d), 0);
    /* silent, a line, and continue, which ends the list */
    ck_assert_str_eq(run(&s, "commands"), "");
    ck_assert_int_eq(rw_pdb_defining(s.d), 1);
    ck_assert_str_eq(run(&s, "silent"), "");
    ck_assert_str_eq(run(&s, ""), "");         /* skipped, not a repetition */
    ck_assert_str_eq(run(&s, "  when  "), "");
    ck_assert_str_eq(run(&s, "c"), "");
    ck_assert_int_eq(rw_pdb_defining(s.d), 0);
    ck_assert_str_eq(run(&s, "c"), "");
    unsigned long long prev = 0;
    for (int i = 0; i < LOOPS; i++) {
        const char *o = interact(&s, &moved);
        unsigned long long pos;
        ck_assert_msg(sscanf(o, "event %llu", &pos) == 1, "%s", o);
        ck_assert_uint_gt(pos, prev);
        prev = pos;
        ck_assert_int_eq(moved, 1);
        ck_assert_int_eq(strstr(o, "The program finished") != NULL, i == LOOPS - 1);
    }
    /* the last hit's continue ran off the end: a --Return-- stop, no list */
    ck_assert_str_eq(interact(&s, &moved), "> /t/prog.py(5)<module>()\n"
                                           "-> for i in range(40):\n");
    ck_assert_int_eq(moved, 0);
    ck_assert(strstr(run(&s, "b"), "breakpoint already hit 40 times"));
    /* rcontinue runs the list too; rstep to the line does not */
    ck_assert_str_eq(run(&s, "commands 1"), "");
    ck_assert_str_eq(run(&s, "w"), "");
    ck_assert_str_eq(run(&s, "end"), "");
    ck_assert_str_eq(run(&s, "rc"), "");
    ck_assert_str_eq(interact(&s, &moved), "  /t/prog.py(6)<module>()\n-> f(i)\n"
                                           "> /t/prog.py(3)f()\n-> return y\n"
                                           "> /t/prog.py(3)f()\n-> return y\n");
    ck_assert_int_eq(moved, 0);
    ck_assert_str_eq(run(&s, "rs"), "");
    ck_assert_str_eq(interact(&s, &moved), "> /t/prog.py(2)f()\n-> y = x\n");
    /* an empty list is no list */
    ck_assert_str_eq(run(&s, "commands 1"), "");
    ck_assert_str_eq(run(&s, "end"), "");
    run(&s, "c");
    ck_assert_str_eq(interact(&s, &moved), "> /t/prog.py(3)f()\n-> return y\n");
    /* lists that resume in opposite directions stop at a prompt */
    run(&s, "b 2");
    run(&s, "commands 1 ;; silent ;; rc");
    ck_assert_int_eq(rw_pdb_defining(s.d), 1);
    char queued[256];
    while (rw_pdb_pending(s.d, queued, sizeof queued))
        run(&s, queued);
    ck_assert_int_eq(rw_pdb_defining(s.d), 0);
    run(&s, "commands 2");
    run(&s, "silent");
    run(&s, "c");
    run(&s, "restart");
    ck_assert_str_eq(interact(&s, &moved), "> /t/prog.py(1)<module>()\n-> def f(x):\n");
    ck_assert_str_eq(run(&s, "c"), "");
    int n = 0;
    const char *o;
    do {
        o = interact(&s, &moved);
        ck_assert_int_lt(++n, 5000);
    } while (moved);
    ck_assert_msg(strstr(o, "*** breakpoint command lists went back and forth 1000 times"),
                  "%s", o);
    /* clearing a breakpoint drops its list; a temporary one runs its list once */
    run(&s, "cl 1");
    run(&s, "cl 2");
    run(&s, "tbreak 2");
    run(&s, "commands");
    run(&s, "silent");
    run(&s, "end");
    ck_assert_str_eq(run(&s, "c"), "Deleted breakpoint 3 at /t/prog.py:2\n");
    ck_assert_str_eq(interact(&s, &moved), "");
    ck_assert_int_eq(moved, 0);
    ck_assert_str_eq(run(&s, "commands 3"),
                     "*** cannot set commands: Breakpoint 3 already deleted\n");
    close_session(&s);
}
END_TEST

/* The fast searches (the line filter, callees skipped by keyframes, next/return
 * split into a frame search and a breakpoint search) stop where decoding every chunk
 * in order does, and print the same: from every position, every moving command, with
 * breakpoints in the callee and the caller (one with an ignore count). */
START_TEST(test_fast_searches_match_plain)
{
    session a, b;
    rw_err err;
    open_session(&a);
    b = a;
    b.buf = NULL;
    b.out = open_memstream(&b.buf, &b.len);
    ck_assert_ptr_nonnull(b.out);
    ck_assert_msg(rw_pdb_new(a.r, b.out, &b.d, &err) == RW_OK, "%s", err.msg);
    ck_assert_msg(rw_pdb_start(b.d, NULL, &err) == RW_OK, "%s", err.msg);
    rw_session_set_plain_search(rw_pdb_session(b.d), 1);
    static const char *const setup[] = {"b 3", "b 5", "ignore 2 3", "tbreak 2"};
    for (size_t i = 0; i < sizeof setup / sizeof *setup; i++)
        ck_assert_str_eq(run(&a, setup[i]), run(&b, setup[i]));
    static const char *const cmds[] = {"n", "r", "unt", "unt 6", "c", "s",
                                       "rn", "rr", "rc", "rs", "runtil"};
    uint64_t n = rw_reader_nevents(a.r);
    for (uint64_t p = 0; p < n; p++) {
        for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
            char go[64], want[8192];
            snprintf(go, sizeof go, "goto %llu", (unsigned long long)p);
            run(&a, go);
            run(&b, go);
            snprintf(want, sizeof want, "%s", run(&b, cmds[i]));
            const char *got = run(&a, cmds[i]);
            ck_assert_msg(!strcmp(got, want), "at %llu, %s: fast printed\n%s\nplain\n%s",
                          (unsigned long long)p, cmds[i], got, want);
            ck_assert_msg(when(&a) == when(&b), "at %llu, %s: fast at %llu, plain at %llu",
                          (unsigned long long)p, cmds[i], when(&a), when(&b));
        }
    }
    ck_assert_str_eq(run(&a, "b"), run(&b, "b"));
    rw_pdb_free(b.d);
    fclose(b.out);
    free(b.buf);
    close_session(&a);
}
END_TEST

/* ---- values, from a fake provider ------------------------------------------------ */

/* The values of SOURCE's run by position: iteration k runs events 2 + 6k (line 5) ..
 * 7 + 6k (f's return); in f (the newest frame at 4 + 6k .. 7 + 6k) x = k, and y = k
 * from line 3 on; the module has i = k from line 6 on, and lst, one list that grows
 * in place (its id never changes). */
static int fake_lookup(const rw_values_at *at, const char *name, long long *v, int *is_list)
{
    long long k = at->pos < 2 ? -1 : (long long)(at->pos - 2) / 6;
    uint64_t base = 2 + 6 * (uint64_t)(k < 0 ? 0 : k);
    int in_f = at->frame_index == RW_VALUES_NEWEST && k >= 0 && at->pos >= base + 2 &&
               at->pos < 242;
    *is_list = 0;
    if (in_f && !strcmp(name, "x")) {
        *v = k;
        return 1;
    }
    if (in_f && !strcmp(name, "y") && at->pos >= base + 4) {
        *v = k;
        return 1;
    }
    long long i = k >= 0 && at->pos >= base + 1 ? k : k - 1;
    if (!strcmp(name, "i") && i >= 0) {
        *v = i;
        return 1;
    }
    if (!strcmp(name, "lst")) {
        *v = i;
        *is_list = 1;
        return 1;
    }
    return 0;
}

static char *fake_repr(long long v, int is_list)
{
    char buf[1024];
    size_t n = 0;
    if (!is_list) {
        snprintf(buf, sizeof buf, "%lld", v);
        return strdup(buf);
    }
    buf[n++] = '[';
    for (long long j = 0; j <= v && n < 900; j++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%lld", j ? ", " : "", j);
    snprintf(buf + n, sizeof buf - n, "]");
    return strdup(buf);
}

static int fake_interacting;

static rw_code fake_ask(void *ctx, const rw_values_at *at, rw_values_op op, const char *text,
                        char **out, int *raised, rw_err *err)
{
    (void)ctx, (void)err;
    char name[64] = "", buf[256];
    long long v = 0, n;
    int is_list;
    *raised = 0;
    *out = NULL;
    switch (op) {
    case RW_VALUES_ARGS:
        if (!fake_lookup(at, "x", &v, &is_list))
            return rw_err_set(err, RW_EINVAL, "no f here");
        snprintf(buf, sizeof buf, "x = %lld\n", v);
        *out = strdup(buf);
        return RW_OK;
    case RW_VALUES_RETVAL:
    case RW_VALUES_RETVAL_SHORT:
        fake_lookup(at, "y", &v, &is_list);
        *out = fake_repr(v, 0);
        return RW_OK;
    case RW_VALUES_SOURCE:
        *out = strdup(!strcmp(text, "f") ? "  1  \tdef f(x):\n  2  \t    y = x\n" : "");
        return RW_OK;
    case RW_VALUES_INTERACT_BEGIN:
        fake_interacting = 1;
        *out = strdup("*interactive*\n");
        return RW_OK;
    case RW_VALUES_INTERACT_LINE:
        snprintf(buf, sizeof buf, "said %s\n", text);
        *out = strdup(buf);
        return RW_OK;
    case RW_VALUES_INTERACT_END:
        fake_interacting = 0;
        *out = strdup("now exiting InteractiveConsole...\n");
        return RW_OK;
    default:
        break;
    }
    const char *expr = text;
    if (op == RW_VALUES_EXEC) {
        if (!strcmp(text, "z = 1")) {
            *out = strdup("");
            return RW_OK;
        }
        if (sscanf(text, "print(%63[a-z])", name) != 1)
            snprintf(name, sizeof name, "%s", text);
        expr = name;
    }
    if (op == RW_VALUES_TRUTH) {
        ck_assert_int_eq(sscanf(text, "%63s == %lld", name, &n), 2);
        expr = name;
    }
    int want_id = sscanf(expr, "id((%63[a-z]", name) == 1;
    if (!want_id && expr != name)
        snprintf(name, sizeof name, "%s", expr);
    if (!fake_lookup(at, name, &v, &is_list)) {
        *raised = 1;
        snprintf(buf, sizeof buf, "NameError: name '%s' is not defined", name);
        *out = strdup(buf);
        return RW_OK;
    }
    if (want_id) {
        snprintf(buf, sizeof buf, "%lld", is_list ? 1000 : 2000 + v);
        *out = strdup(buf);
    } else if (op == RW_VALUES_TRUTH) {
        *out = strdup(v == n ? "1" : "0");
    } else if (op == RW_VALUES_WHATIS) {
        *out = strdup(is_list ? "<class 'list'>" : "<class 'int'>");
    } else {
        char *r = fake_repr(v, is_list);
        snprintf(buf, sizeof buf, "%s%s%s", op == RW_VALUES_PP ? "pp " : "", r,
                 op == RW_VALUES_EXEC ? "\n" : "");
        free(r);
        *out = strdup(buf);
    }
    return RW_OK;
}

static const char *fake_why(void *ctx)
{
    (void)ctx;
    return NULL;
}

static const rw_values fake = {NULL, fake_ask, fake_why};

static int fake_input(void *ctx, const char *prompt, char *buf, size_t cap)
{
    int *left = ctx;
    ck_assert_str_eq(prompt, ">>> ");
    if (!*left)
        return 0;
    snprintf(buf, cap, "line%d", (*left)--);
    return 1;
}

START_TEST(test_value_commands)
{
    session s;
    int moved, left = 2;
    open_session(&s);
    rw_session_set_values(rw_pdb_session(s.d), &fake);
    rw_pdb_set_input(s.d, fake_input, &left);
    ck_assert_str_eq(run(&s, "p i"), "*** NameError: name 'i' is not defined\n");
    ck_assert_str_eq(run(&s, "until 6"), "");
    ck_assert_str_eq(run(&s, "p i"), "0\n");
    ck_assert_str_eq(run(&s, "display i"), "display i: 0\n");
    ck_assert_str_eq(run(&s, "display lst"), "display lst: [0]\n");
    ck_assert_str_eq(run(&s, "display"), "Currently displaying:\ni: 0\nlst: [0]\n");
    ck_assert_str_eq(run(&s, "s"), "--Call--\n");
    /* another frame: no displays of its own */
    ck_assert_str_eq(interact(&s, &moved), "> /t/prog.py(1)f()\n-> def f(x):\n");
    ck_assert_str_eq(run(&s, "display"), "Currently displaying:\n");
    ck_assert_str_eq(run(&s, "s"), "");
    ck_assert_str_eq(run(&s, "args"), "x = 0\n");
    ck_assert_str_eq(run(&s, "p x"), "0\n");
    ck_assert_str_eq(run(&s, "pp x"), "pp 0\n");
    ck_assert_str_eq(run(&s, "whatis x"), "<class 'int'>\n");
    ck_assert_str_eq(run(&s, "p y"), "*** NameError: name 'y' is not defined\n");
    ck_assert_str_eq(run(&s, "retval"), "*** Not yet returned!\n");
    ck_assert_str_eq(run(&s, "!print(x)"), "0\n");
    ck_assert_str_eq(run(&s, "print(x)"), "0\n");
    ck_assert_str_eq(run(&s, "!z = 1"), "");
    ck_assert_str_eq(run(&s, "frob"), "*** NameError: name 'frob' is not defined\n");
    ck_assert_str_eq(run(&s, "source f"), "  1  \tdef f(x):\n  2  \t    y = x\n");
    ck_assert_str_eq(run(&s, "interact"), "*interactive*\nsaid line2\nsaid line1\n"
                                          "now exiting InteractiveConsole...\n");
    ck_assert_int_eq(fake_interacting, 0);
    /* up: the module's frame */
    ck_assert_str_eq(run(&s, "u"), "> /t/prog.py(6)<module>()\n-> f(i)\n");
    ck_assert_str_eq(run(&s, "p x"), "*** NameError: name 'x' is not defined\n");
    ck_assert_str_eq(run(&s, "p i"), "0\n");
    ck_assert_str_eq(run(&s, "d"), "> /t/prog.py(2)f()\n-> y = x\n");
    /* the return: "->" and the value on the returning frame */
    ck_assert_str_eq(run(&s, "r"), "--Return--\n");
    ck_assert_str_eq(interact(&s, &moved), "> /t/prog.py(3)f()->0\n-> return y\n");
    ck_assert_str_eq(run(&s, "retval"), "0\n");
    ck_assert_str_eq(run(&s, "rv"), "0\n");
    ck_assert_str_eq(run(&s, "w"), "  /t/prog.py(6)<module>()\n-> f(i)\n"
                                   "> /t/prog.py(3)f()->0\n-> return y\n");
    ck_assert_str_eq(run(&s, "u"), "> /t/prog.py(6)<module>()\n-> f(i)\n");
    ck_assert_str_eq(run(&s, "retval"), "*** Not yet returned!\n");
    /* back in the module: i changed, lst changed in place (pdb holds that object) */
    ck_assert_str_eq(run(&s, "n"), "");
    ck_assert_str_eq(interact(&s, &moved), "> /t/prog.py(5)<module>()\n"
                                           "-> for i in range(40):\n");
    ck_assert_str_eq(run(&s, "n"), "");
    ck_assert_str_eq(interact(&s, &moved), "> /t/prog.py(6)<module>()\n-> f(i)\n"
                                           "display i: 1  [old: 0]\n");
    ck_assert_str_eq(run(&s, "display"), "Currently displaying:\ni: 1\nlst: [0, 1]\n");
    ck_assert_str_eq(run(&s, "undisplay lst"), "");
    ck_assert_str_eq(run(&s, "undisplay lst"), "*** not displaying lst\n");
    ck_assert_str_eq(run(&s, "undisplay"), "");
    ck_assert_str_eq(run(&s, "display"), "Currently displaying:\n");
    /* conditional breakpoints: evaluated at each hit; no warning */
    ck_assert_str_eq(run(&s, "b 3, x == 5"), "Breakpoint 1 at /t/prog.py:3\n");
    ck_assert_str_eq(run(&s, "c"), "");
    ck_assert_uint_eq(when(&s), 6 + 6 * 5);
    ck_assert_str_eq(run(&s, "condition 1 x == 7"), "New condition set for breakpoint 1.\n");
    ck_assert_str_eq(run(&s, "commands 1"), "");
    ck_assert_str_eq(run(&s, "p y"), "");
    ck_assert_str_eq(run(&s, "end"), "");
    ck_assert_str_eq(run(&s, "c"), "");
    ck_assert_str_eq(interact(&s, &moved), "7\n> /t/prog.py(3)f()\n-> return y\n");
    ck_assert(strstr(run(&s, "b"), "\tstop only if x == 7\n\tbreakpoint already hit 7 times"));
    ck_assert_str_eq(run(&s, "rc"),
                     "No breakpoint hit before this: back to the start of the program\n");
    run(&s, "goto 100");
    ck_assert_str_eq(run(&s, "condition 1 x == 2"), "New condition set for breakpoint 1.\n");
    ck_assert_str_eq(run(&s, "rc"), "");
    ck_assert_uint_eq(when(&s), 6 + 6 * 2);
    ck_assert_str_eq(run(&s, "condition 1"), "Breakpoint 1 is now unconditional.\n");
    close_session(&s);
}
END_TEST

/* The program's output shows as forward moves pass it, before the stop; not backwards,
 * nor by goto. */
START_TEST(test_program_output)
{
    session s;
    open_session(&s);
    char *ebuf = NULL;
    size_t elen = 0;
    FILE *eout = open_memstream(&ebuf, &elen);
    rw_outputs *o;
    rw_err err;
    ck_assert(rw_outputs_new(&o, &err) == RW_OK);
    ck_assert(rw_outputs_add(o, 4, 1, "hello\n", 6, &err) == RW_OK);
    ck_assert(rw_outputs_add(o, 5, 2, "warn\n", 5, &err) == RW_OK);
    ck_assert(rw_outputs_add(o, 5, 1, "more", 4, &err) == RW_OK);
    ck_assert(rw_outputs_add(o, 244, 1, "bye\n", 4, &err) == RW_OK);
    ck_assert(rw_outputs_add(o, 3, 1, "x", 1, &err) == RW_EINVAL);
    rw_pdb_set_outputs(s.d, o, eout);
    ck_assert_str_eq(run(&s, "s"), "");
    ck_assert_str_eq(run(&s, "s"), "");
    ck_assert_str_eq(run(&s, "s"), "hello\n--Call--\n");
    ck_assert_str_eq(run(&s, "rs"), "");
    ck_assert_str_eq(run(&s, "goto 5"), "");
    ck_assert_str_eq(run(&s, "goto 3"), "");
    ck_assert_str_eq(run(&s, "n"), "hello\nmore");
    fflush(eout);
    ck_assert_str_eq(ebuf, "warn\n");
    ck_assert(strstr(run(&s, "goto 240"), ""));
    const char *end = run(&s, "c");
    ck_assert_msg(!strncmp(end, "bye\nThe program finished", 24), "%s", end);
    close_session(&s);
    fclose(eout);
    free(ebuf);
}
END_TEST

/* rw_outputs_load reads the WRITE records to fds 1 and 2 from the trace's inputs
 * (what was written of what was given), and leaves other calls and fds out. */
START_TEST(test_outputs_from_inputs)
{
    char *path = rw_test_path("out.rwd");
    rw_writer *w = rw_test_script_trace(path, 7, SOURCE, sizeof SOURCE - 1);
    rw_writer_def_code(w, 1, 1, "<module>", "<module>", 1, 0, NULL, 0);
    static const struct { uint32_t call; int64_t fd, result; uint64_t pos; const char *data; }
    recs[] = {{RW_CALL_WRITE, 1, 6, 1, "hello\nNOT"}, {RW_CALL_WRITE, 5, 3, 1, "file"},
              {RW_CALL_READ, 1, 3, 2, "abc"}, {RW_CALL_WRITE, 2, 4, 2, "oops"}};
    for (size_t i = 0; i < sizeof recs / sizeof *recs; i++) {
        uint8_t key[16];
        int64_t k[2] = {recs[i].fd, (int64_t)strlen(recs[i].data)};
        for (int j = 0; j < 16; j++)
            key[j] = (uint8_t)((uint64_t)k[j / 8] >> (8 * (j % 8)));
        rw_input in = {.thread = 1,
                       .call = recs[i].call,
                       .seq = i,
                       .position = recs[i].pos,
                       .result = recs[i].result,
                       .key = key,
                       .key_len = 16,
                       .data = (const uint8_t *)recs[i].data,
                       .data_len = strlen(recs[i].data)};
        rw_writer_input(w, &in);
    }
    rw_stream *st = rw_writer_stream(w);
    rw_stream_put(st, RW_REC(RW_K_THREAD, 1), 1);
    rw_stream_put(st, RW_REC(RW_K_CALL, 1), 1 | (uint64_t)1 << 32);
    rw_stream_put(st, RW_REC(RW_K_LINE, 2), 1);
    rw_stream_put(st, RW_REC(RW_K_RETURN, 3), 0);
    rw_test_writer_exit(w);
    rw_reader *r;
    rw_err err;
    ck_assert_msg(rw_reader_open(path, &r, &err) == RW_OK, "%s", err.msg);
    rw_outputs *o;
    ck_assert_msg(rw_outputs_load(r, &o, &err) == RW_OK, "%s", err.msg);
    ck_assert_uint_eq(rw_outputs_count(o), 2);
    rw_outputs_free(o);
    char *buf = NULL, *ebuf = NULL;
    size_t len = 0, elen = 0;
    FILE *out = open_memstream(&buf, &len), *eout = open_memstream(&ebuf, &elen);
    rw_pdb *d;
    ck_assert_msg(rw_pdb_new(r, out, &d, &err) == RW_OK, "%s", err.msg);
    ck_assert_msg(rw_pdb_start(d, "0", &err) == RW_OK, "%s", err.msg);
    rw_pdb_set_outputs(d, NULL, eout);
    /* set_outputs(NULL) means none: load them again through a new front end */
    rw_pdb_free(d);
    ck_assert_msg(rw_pdb_new(r, out, &d, &err) == RW_OK, "%s", err.msg);
    ck_assert_msg(rw_pdb_start(d, "0", &err) == RW_OK, "%s", err.msg);
    fflush(out);
    size_t before = len;
    rw_pdb_line(d, "s");
    fflush(out);
    ck_assert_str_eq(buf + before, "hello\n");
    rw_pdb_free(d);
    fclose(out);
    fclose(eout);
    free(buf);
    free(ebuf);
    rw_reader_free(r);
    free(path);
}
END_TEST

int main(void)
{
    const TTest *parser_tests[] = {test_parseline, test_parse_int, test_expand};
    const TTest *session_tests[] = {test_start_and_print, test_step_rstep_everywhere,
                                    test_breakpoints_both_ways, test_next_rnext_over_calls,
                                    test_command_lists, test_fast_searches_match_plain,
                                    test_value_commands, test_program_output,
                                    test_outputs_from_inputs};
    Suite *s = suite_create("debugger");
    rw_test_add_case(s, "parser", 0, parser_tests, RW_TEST_N(parser_tests));
    rw_test_add_case(s, "session", 0, session_tests, RW_TEST_N(session_tests));
    return rw_test_run(s);
}
