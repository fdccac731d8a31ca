/* rewind diff PASS FAIL [--test NAME] [--context N] [--inputs N] [--thread N] [--force]
 * [--json]:
 * where two runs of one program part (replayer/analysis/diff.h; docs/diff.md): the first
 * event that differs, both stacks there, the inputs each run's thread consumed before
 * it, and the next events of each. Exit status as diff(1)'s: 0 the same, 1 different,
 * 2 trouble (usage, different programs, a trace that cannot be read). */
#include "commands.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "diff.h"
#include "inputs.h"
#include "json.h"
#include "scan.h"
#include "term.h"

enum { EXIT_SAME = 0, EXIT_DIFFER = 1, EXIT_TROUBLE = 2 };

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rewind diff [options] PASS FAIL\n\n"
            "Show where two recordings of the same program part: the first event at which\n"
            "their control flow differs (calls, lines, returns, exceptions, C calls, compared\n"
            "thread by thread; times, allocations and thread ids never count), the stack of\n"
            "each run there, the inputs its thread consumed just before (clock and random\n"
            "reads, files, ...), and the next events of each run.\n\n"
            "options:\n"
            "  --test NAME   compare only the test NAME of each run (as 'rewind tests' lists\n"
            "                it): what the runner did before it is left out\n"
            "  --context N   events of each run shown after the difference (default 5)\n"
            "  --inputs N    last inputs of each run shown before it (default 5)\n"
            "  --thread N    compare only thread N of PASS (t<N> in 'rewind events') and its\n"
            "                match in FAIL (threads match by the order they were started)\n"
            "  --force       compare traces of different programs (main file or arguments)\n"
            "  --no-sandbox  with --test: name the tests by re-executing without the engine's\n"
            "                sandbox (docs/reexecution.md)\n"
            "  --json        one JSON object instead of text\n"
            "  -h, --help    show this help\n\n"
            "exit status: 0 no difference, 1 a difference, 2 trouble (a bad command line,\n"
            "traces of different programs, a trace that cannot be read)\n");
}

typedef struct opts {
    const char *path[2];
    unsigned long long context, ninputs, thread;
    int json, force, sandbox;
    const char *test;
} opts;

static int parse_args(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->context = 5;
    o->ninputs = 5;
    o->sandbox = 1;
    const rw_opt table[] = {
        {.long_name = "context", .kind = RW_OPT_UINT, .dst = &o->context,
         .what = "a number of events", .max = 1000000},
        {.long_name = "inputs", .kind = RW_OPT_UINT, .dst = &o->ninputs,
         .what = "a number of inputs", .max = 100000},
        {.long_name = "thread", .kind = RW_OPT_UINT, .dst = &o->thread,
         .what = "a thread number (1, 2, ...)", .min = 1, .max = UINT32_MAX - 1},
        {.long_name = "force", .kind = RW_OPT_FLAG, .dst = &o->force},
        {.long_name = "test", .kind = RW_OPT_NONEMPTY, .dst = &o->test, .what = "a test NAME"},
        {.long_name = "json", .kind = RW_OPT_FLAG, .dst = &o->json},
        {.long_name = "no-sandbox", .kind = RW_OPT_CLEAR, .dst = &o->sandbox},
    };
    static const char *const argnames[] = {"the PASS trace", "the FAIL trace"};
    rw_cmdline cl = {.cmd = "diff", .usage = usage, .opts = table,
                     .nopts = sizeof table / sizeof table[0], .args = o->path, .maxargs = 2,
                     .argnames = argnames, .nrequired = 2};
    int go = rw_opts_parse(&cl, argc, argv);
    rw_engine_set_sandbox(o->sandbox);
    return go;
}

/* ---- the same program? -------------------------------------------------------------- */

/* The command line a trace ran, for messages: "script prog.py a b". */
static void program_text(const Rewind__Metadata *m, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    if (!m)
        return;
    for (size_t i = 0; i < m->n_argv && n + 1 < cap; i++) {
        int k = snprintf(buf + n, cap - n, "%s%s", i ? " " : "", m->argv[i]);
        n = k < 0 ? cap : n + (size_t)k;
    }
}

/* 1 when a and b ran the same program: the same kind of run, target and argv. */
static int same_program(const Rewind__Metadata *a, const Rewind__Metadata *b)
{
    if (!a || !b)
        return a == b;
    if (strcmp(a->run_kind, b->run_kind) || strcmp(a->run_target, b->run_target) ||
        a->n_argv != b->n_argv)
        return 0;
    for (size_t i = 0; i < a->n_argv; i++)
        if (strcmp(a->argv[i], b->argv[i]))
            return 0;
    return 1;
}

/* ---- printing an input -------------------------------------------------------------- */

static int64_t le64(const uint8_t *p)
{
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--)
        x = x << 8 | p[i];
    return (int64_t)x;
}

static size_t kept(size_t len)
{
    return len < RW_DIFF_KEEP ? len : RW_DIFF_KEEP;
}

static void hex(FILE *out, const uint8_t *p, size_t n, size_t whole)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%02x", p[i]);
    if (whole > n)
        fputs("...", out);
}

static void text_preview(FILE *out, const uint8_t *p, size_t n, size_t whole)
{
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
            fputc(p[i], out);
        else if (p[i] == '\n')
            fputs("\\n", out);
        else
            fprintf(out, "\\x%02x", p[i]);
    }
    fputc('"', out);
    if (whole > n)
        fputs("...", out);
}

/* "getrandom(...) = 2496: 2496 bytes 9f3a..." on one line (no newline). */
static void print_input(FILE *out, const rw_diff_input *in)
{
    const char *name = rw_call_name(in->call);
    fprintf(out, "#%" PRIu64 " at event %" PRIu64 ": ", in->seq, in->position);
    if (name)
        fputs(name, out);
    else
        fprintf(out, "call %u", in->call);
    size_t kn = kept(in->key_len), dn = kept(in->data_len);
    switch (in->call) {
    case RW_CALL_CLOCK_GETTIME:
    case RW_CALL_CLOCK_GETRES:
        if (kn >= 8)
            fprintf(out, "(clock %" PRId64 ")", le64(in->key));
        fprintf(out, " = %" PRId64, in->result);
        if (in->data_len >= 16)
            fprintf(out, ": %" PRId64 ".%09" PRId64 " s", le64(in->data), le64(in->data + 8));
        break;
    case RW_CALL_GETTIMEOFDAY:
        fprintf(out, " = %" PRId64, in->result);
        if (in->data_len >= 16)
            fprintf(out, ": %" PRId64 ".%06" PRId64 " s", le64(in->data), le64(in->data + 8));
        break;
    case RW_CALL_READ:
    case RW_CALL_PREAD:
    case RW_CALL_READV:
    case RW_CALL_RECV:
        if (kn >= 8)
            fprintf(out, "(fd %" PRId64 ")", le64(in->key));
        fprintf(out, " = %" PRId64, in->result);
        if (in->data_len) {
            fprintf(out, ": %zu bytes ", in->data_len);
            text_preview(out, in->data, dn > 32 ? 32 : dn, in->data_len);
        }
        break;
    case RW_CALL_STAT:
    case RW_CALL_LSTAT:
    case RW_CALL_FSTAT:
    case RW_CALL_FSTATAT: {
        /* key: a path, an fd, or dirfd, flags and a path (files.c) */
        size_t off = in->call == RW_CALL_FSTATAT ? 16 : 0;
        if (in->call == RW_CALL_FSTAT && kn >= 8)
            fprintf(out, "(fd %" PRId64 ")", le64(in->key));
        else if (kn > off && !memchr(in->key + off, '\0', kn - off)) {
            fputc('(', out);
            text_preview(out, in->key + off, kn - off, in->key_len - off);
            fputc(')', out);
        }
        fprintf(out, " = %" PRId64, in->result);
        if (in->data_len == 144 && dn == 144) /* x86-64 struct stat: st_size, st_mtim */
            fprintf(out, ": size %" PRId64 ", mtime %" PRId64 ".%09" PRId64, le64(in->data + 48),
                    le64(in->data + 88), le64(in->data + 96));
        break;
    }
    case RW_CALL_OPEN:
        if (kn > 24 && !memchr(in->key + 24, '\0', kn - 24)) {
            fputc('(', out);
            text_preview(out, in->key + 24, kn - 24, in->key_len - 24);
            fputc(')', out);
        }
        fprintf(out, " = %" PRId64, in->result);
        break;
    default:
        fprintf(out, " = %" PRId64, in->result);
        if (in->data_len) {
            fprintf(out, ": %zu bytes ", in->data_len);
            hex(out, in->data, dn > 16 ? 16 : dn, in->data_len);
        }
        break;
    }
    if (in->err && in->result < 0)
        fprintf(out, " (errno %d)", in->err);
    if (in->flags & RW_INPUT_F_INSTALL)
        fputs(" [installation file]", out);
}

static void json_input(FILE *out, const rw_diff_input *in)
{
    fprintf(out, "{\"seq\": %" PRIu64 ", \"position\": %" PRIu64 ", \"call\": ", in->seq,
            in->position);
    rw_json_str(out, rw_call_name(in->call));
    fprintf(out, ", \"call_number\": %u, \"result\": %" PRId64 ", \"errno\": %d, "
                 "\"flags\": %u, \"key_len\": %zu, \"key_hex\": \"",
            in->call, in->result, in->err, in->flags, in->key_len);
    hex(out, in->key, kept(in->key_len), 0);
    fprintf(out, "\", \"data_len\": %zu, \"data_hex\": \"", in->data_len);
    hex(out, in->data, kept(in->data_len), 0);
    fprintf(out, "\"}");
}

/* ---- one run at the difference -------------------------------------------------------- */

static const char *thread_name(const rw_reader *r, uint32_t thread)
{
    const char *n = rw_defs_thread_name(rw_reader_defs(r), rw_reader_end(r), thread);
    return n ? n : "";
}

static void print_frame(FILE *out, const rw_defs *d, const rw_frame *f, int json, int first)
{
    if (json) {
        fputs(first ? "" : ", ", out);
        if (f->is_c) {
            fprintf(out, "{\"c\": true, \"func\": ");
            rw_json_str(out, rw_defs_cfunc_label(d, f->code));
            fputs("}", out);
        } else {
            fprintf(out, "{\"c\": false, \"file\": ");
            rw_json_str(out, rw_defs_code_path(d, f->code));
            fprintf(out, ", \"line\": %u, \"func\": ", f->line);
            rw_json_str(out, rw_defs_code_qualname(d, f->code));
            fputs("}", out);
        }
        return;
    }
    if (f->is_c) {
        const char *l = rw_defs_cfunc_label(d, f->code);
        fprintf(out, "    [C] %s\n", l ? l : "<unknown C function>");
    } else {
        const char *p = rw_defs_code_path(d, f->code), *q = rw_defs_code_qualname(d, f->code);
        fprintf(out, "    %s:%u %s\n", p ? p : "<unknown>", f->line, q ? q : "?");
    }
}

/* Prints run `label`'s side of the difference: its last equal event, the event that
 * differs (or that the thread ended), its stack there, then `context` events. Returns
 * RW_OK or a scan error (err). */
static rw_code show_side(FILE *out, const char *label, const rw_reader *r,
                         const rw_diff_side *s, uint64_t context, int json, rw_err *err)
{
    const rw_defs *d = rw_reader_defs(r);
    if (json) {
        fprintf(out, "{\"file\": ");
        rw_json_str(out, label);
        fprintf(out, ", \"thread\": %u, \"thread_name\": ", s->thread);
        rw_json_str(out, s->thread ? thread_name(r, s->thread) : NULL);
        fprintf(out, ", \"input_stream\": %u, \"ended\": %s, \"pos\": ", s->stream,
                s->ended ? "true" : "false");
        if (s->ended)
            fputs("null", out);
        else
            fprintf(out, "%" PRIu64, s->pos);
        fputs(", \"last_equal\": ", out);
        if (s->has_common)
            fprintf(out, "%" PRIu64, s->common_pos);
        else
            fputs("null", out);
    } else {
        fprintf(out, "%s", label);
        if (!s->thread)
            fprintf(out, ": this thread is not in this run\n");
        else if (s->ended)
            fprintf(out, ": thread %u has no more events here\n", s->thread);
        else
            fprintf(out, ": event %" PRIu64 " (thread %u)\n", s->pos, s->thread);
    }
    rw_code rc = RW_OK;
    rw_scan *sc = NULL;
    if (s->thread && (s->has_common || !s->ended)) {
        rw_scan_opts so;
        rw_scan_opts_default(&so);
        so.decode = RW_DECODE_SKIP_ALLOCS;
        so.thread = s->thread;
        so.from = s->has_common ? s->common_pos : s->pos;
        rc = rw_scan_open(r, &so, &sc, err);
    }
    int printed_stack = 0;
    uint64_t shown = 0;
    const char *sep = "";
    if (json)
        fputs(", \"events\": [", out);
    while (rc == RW_OK && sc) {
        rw_event ev;
        int n = rw_scan_next(sc, &ev, err);
        if (n < 0)
            rc = err->code;
        if (n <= 0)
            break;
        if (!RW_IS_EVENT(ev.kind))
            continue;
        int is_common = s->has_common && ev.pos == s->common_pos;
        int is_diff = !s->ended && ev.pos == s->pos;
        if (!is_common && !is_diff && (!printed_stack || shown >= context))
            break; /* (an event before the difference cannot come: the thread's events
                    * from the last equal one on are the difference's) */
        if (json) {
            fputs(sep, out);
            sep = ", ";
            fprintf(out, "{\"role\": \"%s\", \"event\": ",
                    is_common ? "last_equal" : is_diff ? "differs" : "after");
            rw_cli_print_event(out, d, sc, &ev, 1);
            fputs("}", out);
        } else {
            fputs(is_common ? "  last equal event:\n  " : is_diff ? "  differs:\n  " : "  ",
                  out);
            rw_cli_print_event(out, d, sc, &ev, 0);
        }
        if (!is_common && !is_diff) {
            shown++;
            continue;
        }
        if (is_diff || s->ended) {
            const rw_stack *st = rw_scan_stack(sc, s->thread);
            if (json)
                fputs(", {\"role\": \"stack\", \"frames\": [", out);
            else
                fputs("  stack (most recent call last):\n", out);
            /* a deep recursion: the outermost 10 and innermost 20 frames in text */
            uint32_t depth = st ? (st->depth < RW_STACK_MAX ? st->depth : RW_STACK_MAX) : 0;
            for (uint32_t i = 0; i < depth; i++) {
                if (!json && depth > 40 && i == 10) {
                    fprintf(out, "    ... %u frames ...\n", depth - 30);
                    i = depth - 21;
                    continue;
                }
                print_frame(out, d, &st->frames[i], json, i == 0);
            }
            /* A return leaves the stack without its frame: shown, as where it returns
             * from is what differs. */
            int ret = ev.kind == RW_K_RETURN || ev.kind == RW_K_C_RETURN ||
                      ev.kind == RW_K_C_EXCEPTION;
            if (ret && ev.depth > depth) {
                rw_frame f = {.code = ev.code, .is_c = ev.kind != RW_K_RETURN,
                              .line = ev.kind == RW_K_RETURN ? ev.line : 0};
                print_frame(out, d, &f, json, depth == 0);
            }
            if (json)
                fputs("]}", out);
            printed_stack = 1;
            if (s->ended) {
                if (!json)
                    fputs("  (the thread's events end here in this run)\n", out);
                break;
            }
            if (context && !json)
                fputs("  next events:\n", out);
        }
    }
    if (printed_stack && !s->ended && shown < context && rc == RW_OK && !json)
        fputs("  (no more events of the thread)\n", out);
    rw_scan_close(sc);
    if (json)
        fputs("]", out);
    return rc;
}

/* Whether two kept inputs differ in what they answered (the kept bytes only). */
static int input_differs(const rw_diff_input *x, const rw_diff_input *y)
{
    return x->call == y->call &&
           (x->result != y->result || x->err != y->err || x->data_len != y->data_len ||
            !rw_diff_same_data(x->call, x->data, y->data, kept(x->data_len)));
}

/* "first input of the WHO that differs ...", then each run's record (or `none`). */
static void text_first_difference(FILE *out, const char *const label[2],
                                  const rw_diff_inputs *in, const char *who, const char *none)
{
    fprintf(out, "first input of the %s that differs between the runs (start-up, clocks, ids "
                 "and file times aside):\n", who);
    for (int i = 0; i < 2; i++) {
        fprintf(out, "  %s: ", label[i]);
        if (in->has[i])
            print_input(out, &in->first[i]);
        else
            fputs(none, out);
        fputc('\n', out);
    }
}

/* JSON's "first_input_difference": null, or the record of each run (null: none). */
static void json_first_difference(FILE *out, const rw_diff_inputs *in)
{
    if (!in->found) {
        fputs("null", out);
        return;
    }
    fputs("[", out);
    for (int i = 0; i < 2; i++) {
        fputs(i ? ", " : "", out);
        if (in->has[i])
            json_input(out, &in->first[i]);
        else
            fputs("null", out);
    }
    fputs("]", out);
}

static void show_inputs_text(FILE *out, const char *const label[2], const rw_diff_inputs *in,
                             const rw_diff_side *side[2], uint64_t want)
{
    int marks = 0;
    for (int i = 0; i < 2 && want; i++) {
        if (!side[i]->stream) {
            fprintf(out, "%s: the inputs of this thread are not known (no input stream)\n",
                    label[i]);
            continue;
        }
        fprintf(out, "%s: inputs of thread %u before the difference (%" PRIu64 " in all",
                label[i], side[i]->thread, in->records[i]);
        if (in->n[i] < in->records[i])
            fprintf(out, ", the last %zu", in->n[i]);
        fprintf(out, ")%s\n", in->n[i] ? ":" : "");
        for (size_t k = 0; k < in->n[i]; k++) {
            /* "*": the other run's input as far from the difference answered otherwise;
             * "~" for a clock or an id, which differ in every run */
            size_t from_end = in->n[i] - 1 - k;
            const rw_diff_input *x = &in->last[i][k];
            const rw_diff_input *y =
                from_end < in->n[!i] ? &in->last[!i][in->n[!i] - 1 - from_end] : NULL;
            int mark = y && input_differs(x, y);
            int times = y && !mark && x->call == y->call &&
                        rw_diff_times_differ(x->call, x->data, y->data, kept(x->data_len));
            fputs(times ? "~ " : !mark ? "  " : rw_diff_run_specific(x->call) ? "~ " : "* ",
                  out);
            mark |= times;
            marks |= mark;
            print_input(out, &in->last[i][k]);
            fputc('\n', out);
        }
    }
    if (marks)
        fputs("(* answered otherwise in the other run; ~ a clock, an id or a file's times, "
              "which differ in every run)\n", out);
    if (!side[0]->stream || !side[1]->stream)
        return;
    if (!in->found) {
        fprintf(out, "the two threads' inputs before the difference are the same (start-up, "
                     "clocks, ids and file times aside)\n");
        return;
    }
    text_first_difference(out, label, in, "thread", "no more inputs before the difference");
}

static void show_inputs_json(FILE *out, const rw_diff_inputs *in, const rw_diff_side *side[2])
{
    fputs(", \"inputs\": [", out);
    for (int i = 0; i < 2; i++) {
        fprintf(out, "%s{\"known\": %s, \"records\": %" PRIu64 ", \"last\": [", i ? ", " : "",
                side[i]->stream ? "true" : "false", in->records[i]);
        for (size_t k = 0; k < in->n[i]; k++) {
            fputs(k ? ", " : "", out);
            json_input(out, &in->last[i][k]);
        }
        fputs("]}", out);
    }
    fputs("], \"first_input_difference\": ", out);
    json_first_difference(out, in);
}

/* ---- the command ----------------------------------------------------------------------- */

/* How a run ended, in words ("exit status 3", "signal SIGTERM", "os._exit(3)", "exec", "cut
 * short"): the status and the way out only (an exit message holds values). */
static void end_text(const Rewind__RunEnd *e, char *buf, size_t cap)
{
    const char *abbrev = e && e->term_signal ? sigabbrev_np(e->term_signal) : NULL;
    if (!e)
        snprintf(buf, cap, "cut short");
    else if (!strcmp(e->stop_reason, "exec"))
        snprintf(buf, cap, "exec");
    else if (e->term_signal && abbrev)
        snprintf(buf, cap, "signal SIG%s", abbrev);
    else if (e->term_signal)
        snprintf(buf, cap, "signal %d", e->term_signal);
    else if (!strcmp(e->stop_reason, "_exit"))
        snprintf(buf, cap, "os._exit(%d)", e->exit_status);
    else
        snprintf(buf, cap, "exit status %d", e->exit_status);
}

/* Runs whose events are all equal: when they ended otherwise (the exit status came from
 * a value, sys.exit(n) or os._exit(n), whose origin is an input), ends the "no
 * difference" line or JSON object with both endings and the main threads' first input
 * that differs, and returns 1; else ends it as it is and returns 0. */
static int show_endings(FILE *out, const opts *o, rw_reader *const r[2])
{
    char ends[2][160];
    for (int i = 0; i < 2; i++)
        end_text(rw_reader_end(r[i]), ends[i], sizeof ends[i]);
    if (o->test || !strcmp(ends[0], ends[1])) {
        fputs(o->json ? "}\n" : "\n", out);
        return 0;
    }
    rw_diff_inputs in;
    rw_err err = {0};
    rw_code rc = rw_diff_read_inputs(r[0], 1, rw_reader_nevents(r[0]), r[1], 1,
                                     rw_reader_nevents(r[1]), 1, &in, &err);
    if (rc != RW_OK)
        in.found = 0; /* what was read is not shown: the line below says why */
    if (o->json) {
        fputs(", \"ends\": [", out);
        rw_json_str(out, ends[0]);
        fputs(", ", out);
        rw_json_str(out, ends[1]);
        fputs("], \"first_input_difference\": ", out);
        json_first_difference(out, &in);
        fputs("}\n", out);
    } else {
        fprintf(out, ", but the runs ended otherwise: %s %s, %s %s\n", o->path[0], ends[0],
                o->path[1], ends[1]);
        if (rc == RW_OK && !in.found)
            fputs("the main threads' inputs are the same (start-up, clocks, ids and file "
                  "times aside)\n", out);
        else if (rc == RW_OK)
            text_first_difference(out, o->path, &in, "main thread", "no more inputs");
    }
    rw_diff_inputs_fini(&in);
    if (rc != RW_OK) {
        fflush(out);
        fprintf(stderr, "rewind diff: the inputs end early: %s\n", err.msg);
    }
    return 1;
}

/* The position up to which a run's inputs count as "before the difference". */
static uint64_t inputs_upto(const rw_diff_side *s, const rw_reader *r)
{
    if (!s->ended)
        return s->pos;
    return s->has_common ? s->common_pos + 1 : rw_reader_nevents(r);
}

/* ", "test": {"id", "ranges": [[first, last], [first, last]]}" of --test. */
static void json_test(FILE *out, const rw_cli_test *tst)
{
    fputs(", \"test\": {\"id\": ", out);
    rw_json_str(out, tst[0].id);
    fprintf(out, ", \"ranges\": [[%" PRIu64 ", %" PRIu64 "], [%" PRIu64 ", %" PRIu64 "]]}",
            tst[0].first, tst[0].last, tst[1].first, tst[1].last);
}

int rw_cmd_diff(int argc, char **argv)
{
    opts o;
    int prc = parse_args(argc, argv, &o);
    if (prc != RW_OPTS_GO)
        return prc;
    if (o.json)
        rw_term_stdout_unfiltered(); /* escaped by json.h, byte for byte (term.h) */

    rw_reader *r[2] = {NULL, NULL};
    rw_err err = {0};
    int damaged[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        if (rw_cli_open_trace("diff", o.path[i], &r[i], &err) != RW_OK) {
            rw_cli_fail("diff", &err);
            rw_reader_free(r[0]);
            return EXIT_TROUBLE;
        }
        damaged[i] = rw_reader_recovery(r[i])->used;
    }
    if (damaged[0] || damaged[1])
        rw_cli_set_damaged();
    int status = EXIT_TROUBLE;
    const Rewind__Metadata *m[2] = {rw_reader_metadata(r[0]), rw_reader_metadata(r[1])};
    if (!same_program(m[0], m[1]) && !o.force) {
        char pa[256], pb[256];
        program_text(m[0], pa, sizeof pa);
        program_text(m[1], pb, sizeof pb);
        fprintf(stderr, "rewind diff: %s and %s are recordings of different programs ('%s' "
                        "and '%s'): compare them anyway with --force\n",
                o.path[0], o.path[1], pa, pb);
        goto done;
    }
    rw_diff_opts dopts = {.thread = (uint32_t)o.thread, .max_pending = 0};
    rw_cli_test tst[2];
    if (o.test) {
        if (strlen(o.test) > 8 && !strcmp(o.test + strlen(o.test) - 8, "@failure")) {
            fprintf(stderr, "rewind diff: --test %s: diff compares whole tests: use --test "
                            "%.*s\n", o.test, (int)strlen(o.test) - 8, o.test);
            goto done;
        }
        for (int i = 0; i < 2; i++) {
            if (rw_cli_test_lookup("diff", o.path[i], r[i], o.test, &tst[i]) != RW_EXIT_OK)
                goto done;
            dopts.from[i] = tst[i].first;
            dopts.to[i] = tst[i].last + 1;
        }
    }
    rw_diff_result res;
    rw_code rc = rw_diff_run(r[0], r[1], &dopts, &res, &err);
    if (rc != RW_OK) {
        if (rc == RW_EINVAL)
            rw_opts_fail("diff", &err);
        else
            rw_cli_fail("diff", &err);
        goto done;
    }
    if (res.damage.code != RW_OK)
        fprintf(stderr, "rewind diff: %s (the difference shown was found before it)\n",
                res.damage.msg);
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    FILE *out = stdout;
    uint64_t seeds[2] = {m[0] ? m[0]->hash_seed : 0, m[1] ? m[1]->hash_seed : 0};
    if (!res.differ) {
        if (o.json) {
            fprintf(out, "{\"differ\": false, \"equal_events\": %" PRIu64 ", \"files\": [",
                    res.compared);
            rw_json_str(out, o.path[0]);
            fputs(", ", out);
            rw_json_str(out, o.path[1]);
            fputs("]", out);
            if (o.test)
                json_test(out, tst);
        } else {
            fprintf(out, "no difference in %" PRIu64 " events%s%s", res.compared,
                    o.test ? " of " : "", o.test ? tst[0].id : "");
        }
        status = show_endings(out, &o, r) ? EXIT_DIFFER : EXIT_SAME;
        if (damaged[0] || damaged[1]) {
            fprintf(stderr, "rewind diff: only the readable part of the damaged trace was "
                            "compared: the runs may still differ after it\n");
            status = EXIT_TROUBLE;
        }
        goto flush;
    }
    const rw_diff_side *side[2] = {&res.a, &res.b};
    const char *label[2] = {o.path[0], o.path[1]};
    uint32_t t = res.a.thread ? res.a.thread : res.b.thread;
    const rw_reader *tr = res.a.thread ? r[0] : r[1];
    if (o.json) {
        fprintf(out, "{\"differ\": true, \"equal_events\": %" PRIu64
                     ", \"thread_equal_events\": %" PRIu64 ", \"hash_seeds\": [%" PRIu64
                     ", %" PRIu64 "]",
                res.compared, res.thread_equal, seeds[0], seeds[1]);
        if (o.test)
            json_test(out, tst);
        fputs(", \"runs\": [", out);
    } else {
        fprintf(out, "%s and %s part in thread %u%s%s%s after %" PRIu64
                     " equal events of it (%" PRIu64 " in all threads)\n",
                o.path[0], o.path[1], t, thread_name(tr, t)[0] ? " (" : "", thread_name(tr, t),
                thread_name(tr, t)[0] ? ")" : "", res.thread_equal, res.compared);
        if (o.test)
            fprintf(out, "compared: %s, events %" PRIu64 "..%" PRIu64 " of %s and %" PRIu64
                         "..%" PRIu64 " of %s\n", tst[0].id, tst[0].first, tst[0].last,
                    o.path[0], tst[1].first, tst[1].last, o.path[1]);
        if (seeds[0] != seeds[1])
            fprintf(out, "hash seeds differ: %" PRIu64 " and %" PRIu64 "\n", seeds[0],
                    seeds[1]);
        for (int i = 0; i < 2; i++)
            if (damaged[i])
                fprintf(out, "note: %s is damaged; it ends after its readable part\n",
                        o.path[i]);
        fputc('\n', out);
    }
    for (int i = 0; i < 2; i++) {
        if (o.json && i)
            fputs(", ", out);
        if (show_side(out, label[i], r[i], side[i], o.context, o.json, &err) != RW_OK) {
            fflush(out);
            rw_cli_fail("diff", &err);
            goto done;
        }
        if (o.json)
            fputs("}", out);
        else
            fputc('\n', out);
    }
    if (o.json)
        fputs("]", out);
    rw_diff_inputs in;
    rc = rw_diff_read_inputs(r[0], res.a.thread ? res.a.stream : 0, inputs_upto(&res.a, r[0]),
                             r[1], res.b.thread ? res.b.stream : 0, inputs_upto(&res.b, r[1]),
                             (size_t)(o.ninputs ? o.ninputs : 1), &in, &err);
    if (o.ninputs || in.found) {
        if (o.json) {
            if (!o.ninputs)
                in.n[0] = in.n[1] = 0;
            show_inputs_json(out, &in, side);
        } else {
            if (!o.ninputs)
                in.n[0] = in.n[1] = 0;
            show_inputs_text(out, label, &in, side, o.ninputs);
        }
    }
    rw_diff_inputs_fini(&in);
    if (o.json)
        fputs("}\n", out);
    if (rc != RW_OK) {
        fflush(out);
        fprintf(stderr, "rewind diff: the inputs end early: %s\n", err.msg);
    }
    status = EXIT_DIFFER;
flush:
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "rewind diff: error writing the output\n");
        status = EXIT_TROUBLE;
    }
done:
    rw_reader_free(r[0]);
    rw_reader_free(r[1]);
    return status;
}
