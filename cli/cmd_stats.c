/* rewind stats: cProfile/pstats statistics of a recording (replayer/profile.h does the
 * work). Prints as pstats' print_stats / print_callers / print_callees print, after
 * strip_dirs() as `python3 -m cProfile` does, or writes cProfile's -o file. */
#include "commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "position.h"
#include "profile.h"
#include "pstats.h"
#include "progress.h"
#include "reader.h"

#define CMD "stats"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rewind stats FILE [options]\n\n"
            "cProfile/pstats statistics of a recording, printed as `python3 -m cProfile`\n"
            "prints them: same call counts, names and ordering rules. By default the\n"
            "window is cProfile's: the main thread from the call of the script's <module>\n"
            "to its return (for -m, from runpy's lookup of the module, which imports its\n"
            "package, to the end of its code), in cProfile's exec, without the imports\n"
            "cProfile's run never makes (docs/stats.md).\n\n"
            "options:\n"
            "  --from POS        profile the events from this position as recorded, every\n"
            "                    thread (default: cProfile's window)\n"
            "  --to POS          ... up to, not including, this position (default: the end)\n"
            "                    POS: an event number, @start, @end, @exception, @peak,\n"
            "                    a time such as 1.5s or 250ms, or FILE:LINE\n"
            "  --test NAME       profile one test of a recorded pytest or unittest run:\n"
            "                    its position range ('rewind tests FILE' lists them)\n"
            "  --no-sandbox      with --test: name the tests by re-executing without the\n"
            "                    engine's sandbox (docs/reexecution.md)\n"
            "  -s, --sort KEY    sort as pstats' sort_stats (repeatable): calls, cumulative\n"
            "                    (cumtime), filename (module), line, name, nfl, pcalls,\n"
            "                    stdname, time (tottime), or a unique abbreviation;\n"
            "                    default: cumulative, as python3 -m cProfile\n"
            "  -n N              print the first N rows only\n"
            "  --callers         print who called each function (pstats' print_callers)\n"
            "  --callees         print what each function called (print_callees)\n"
            "  --lines           print per-line times instead: from each line's start to\n"
            "                    the next line or return of its frame (calls included)\n"
            "  -o FILE           write cProfile's output file (pstats.Stats(FILE) loads it;\n"
            "                    snakeviz and gprof2dot read it) instead of printing\n"
            "  --thread N        only thread N (ThreadDef id, see 'rewind info'), events as\n"
            "                    recorded; with --from/--to and no --thread: every thread,\n"
            "                    each with its own call stack\n"
            "  --no-calibration  keep raw times (default: the recorder's measured cost per\n"
            "                    event is subtracted, as profile.py's calibration does)\n"
            "  --full-paths      keep file names whole (default: base names, as cProfile)\n"
            "  -h, --help        show this help\n");
}

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    rw_progress *p = ctx;
    p->total = total ? total : 1;
    rw_progress_update(p, done);
}

/* ---- printing as pstats prints -------------------------------------------------- */

static void f8(FILE *out, double x)
{
    fprintf(out, "%8.3f", x);
}

static void print_line(FILE *out, const rw_prof_func *f, const char *name)
{
    char c[48];
    if (f->nc != f->cc)
        snprintf(c, sizeof c, "%llu/%llu", (unsigned long long)f->nc, (unsigned long long)f->cc);
    else
        snprintf(c, sizeof c, "%llu", (unsigned long long)f->nc);
    fprintf(out, "%9s ", c);
    f8(out, f->tt);
    fputc(' ', out);
    if (f->nc == 0)
        fprintf(out, "%8s ", "");
    else {
        f8(out, f->tt / (double)f->nc);
        fputc(' ', out);
    }
    f8(out, f->ct);
    fputc(' ', out);
    if (f->cc == 0)
        fprintf(out, "%8s ", "");
    else {
        f8(out, f->ct / (double)f->cc);
        fputc(' ', out);
    }
    fprintf(out, "%s\n", name);
}

/* Tuple order of labels (file, line, name), as sorted(call_dict.keys()) orders them. */
static int cmp_label(const rw_prof_func *x, const rw_prof_func *y)
{
    int c = strcmp(x->file, y->file);
    if (c)
        return c;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return strcmp(x->name, y->name);
}

typedef struct edge {
    const rw_prof_func *of; /* the caller (callers view) or callee (callees view) */
    size_t other;           /* its index */
    const rw_prof_caller *c;
} edge;

static int cmp_edge(const void *a, const void *b)
{
    return cmp_label(((const edge *)a)->of, ((const edge *)b)->of);
}

static void print_call_line(FILE *out, const rw_profile *p, char **names, int width, size_t fi,
                            edge *edges, size_t n, const char *arrow)
{
    fprintf(out, "%-*s%s ", width, names[fi], arrow);
    if (n == 0) {
        fputc('\n', out);
        return;
    }
    qsort(edges, n, sizeof *edges, cmp_edge);
    for (size_t k = 0; k < n; k++) {
        const rw_prof_caller *c = edges[k].c;
        char sub[48];
        if (c->nc != c->cc)
            snprintf(sub, sizeof sub, "%llu/%llu", (unsigned long long)c->nc,
                     (unsigned long long)c->cc);
        else
            snprintf(sub, sizeof sub, "%llu", (unsigned long long)c->nc);
        if (k > 0)
            fprintf(out, "%*s", width + 1, "");
        fprintf(out, "%*s ", k > 0 ? 9 : 7, sub);
        f8(out, c->tt);
        fputc(' ', out);
        f8(out, c->ct);
        fprintf(out, "  %s\n", names[edges[k].other]);
    }
}

static int print_calls(FILE *out, const rw_profile *p, char **names, const size_t *list,
                       size_t count, int width, int callees)
{
    int any = 0;
    for (size_t i = 0; i < p->nfuncs; i++)
        any |= p->funcs[i].ncallers > 0;
    fprintf(out, "%-*s%s\n", width, "Function ", callees ? "called..." : "was called by...");
    if (any)
        fprintf(out, "%*s    ncalls  tottime  cumtime\n", width, "");
    /* callees[f]: every (g, stats of g's caller entry for f). */
    size_t nedges = 0;
    for (size_t i = 0; i < p->nfuncs; i++)
        nedges += p->funcs[i].ncallers;
    edge *all = malloc((nedges ? nedges : 1) * sizeof *all);
    size_t *start = calloc(p->nfuncs + 1, sizeof *start);
    if (!all || !start) {
        free(all);
        free(start);
        return -1;
    }
    if (callees) {
        for (size_t g = 0; g < p->nfuncs; g++)
            for (size_t k = 0; k < p->funcs[g].ncallers; k++)
                start[p->funcs[g].callers[k].func + 1]++;
        for (size_t i = 0; i < p->nfuncs; i++)
            start[i + 1] += start[i];
        size_t *fill = calloc(p->nfuncs ? p->nfuncs : 1, sizeof *fill);
        if (!fill) {
            free(all);
            free(start);
            return -1;
        }
        for (size_t g = 0; g < p->nfuncs; g++)
            for (size_t k = 0; k < p->funcs[g].ncallers; k++) {
                const rw_prof_caller *c = &p->funcs[g].callers[k];
                edge *e = &all[start[c->func] + fill[c->func]++];
                e->of = &p->funcs[g];
                e->other = g;
                e->c = c;
            }
        free(fill);
    } else {
        for (size_t g = 0; g < p->nfuncs; g++) {
            start[g + 1] = start[g] + p->funcs[g].ncallers;
            for (size_t k = 0; k < p->funcs[g].ncallers; k++) {
                all[start[g] + k].other = p->funcs[g].callers[k].func;
                all[start[g] + k].of = &p->funcs[p->funcs[g].callers[k].func];
                all[start[g] + k].c = &p->funcs[g].callers[k];
            }
        }
    }
    for (size_t i = 0; i < count; i++) {
        size_t f = list[i];
        print_call_line(out, p, names, width, f, all + start[f], start[f + 1] - start[f],
                        callees ? "->" : "<-");
    }
    fputs("\n\n", out);
    free(all);
    free(start);
    return 0;
}

static int cmp_line_time(const void *a, const void *b)
{
    const rw_prof_line *x = a, *y = b;
    if (x->time != y->time)
        return x->time > y->time ? -1 : 1;
    int c = strcmp(x->file, y->file);
    if (c)
        return c;
    return x->line < y->line ? -1 : x->line > y->line;
}

static void print_lines(FILE *out, rw_profile *p, int have_n, uint64_t n)
{
    qsort(p->lines, p->nlines, sizeof *p->lines, cmp_line_time);
    size_t count = p->nlines;
    uint64_t hits = 0;
    for (size_t i = 0; i < p->nlines; i++)
        hits += p->lines[i].hits;
    fprintf(out, "         %llu line events on %zu lines\n\n", (unsigned long long)hits,
            p->nlines);
    fprintf(out, "   Ordered by: line time (from a line's start to the next line or return\n"
                 "   of its frame, calls made by the line included)\n");
    if (have_n && n < count) {
        fprintf(out, "   List reduced from %zu to %llu due to restriction <%llu>\n", count,
                (unsigned long long)n, (unsigned long long)n);
        count = (size_t)n;
    }
    fputc('\n', out);
    if (!count)
        return;
    fprintf(out, "      hits     time  per hit filename:lineno\n");
    for (size_t i = 0; i < count; i++) {
        const rw_prof_line *l = &p->lines[i];
        fprintf(out, "%10llu ", (unsigned long long)l->hits);
        f8(out, l->time);
        fputc(' ', out);
        if (l->hits) {
            f8(out, l->time / (double)l->hits);
            fputc(' ', out);
        } else {
            fprintf(out, "%8s ", "");
        }
        fprintf(out, "%s:%u\n", l->file, l->line);
    }
    fputs("\n\n", out);
}

/* ---- the command ------------------------------------------------------------------ */

typedef struct args {
    const char *file, *from, *to, *outfile, *test;
    rw_opt_list sort;
    int have_n, callers, callees, lines, calibrate, full_paths;
    int sandbox; /* 0: --no-sandbox */
    unsigned long long n, thread;
} args;

/* Returns RW_OPTS_GO or the exit status (message printed). */
static int parse(int argc, char **argv, args *a)
{
    memset(a, 0, sizeof *a);
    a->calibrate = 1;
    a->sandbox = 1;
    const rw_opt opts[] = {
        {.long_name = "from", .kind = RW_OPT_POS, .dst = &a->from},
        {.long_name = "to", .kind = RW_OPT_POS, .dst = &a->to},
        {.long_name = "test", .kind = RW_OPT_NONEMPTY, .dst = &a->test, .what = "a test NAME"},
        {.short_name = 's', .long_name = "sort", .kind = RW_OPT_LIST, .dst = &a->sort,
         .what = "a sort key"},
        {.short_name = 'n', .kind = RW_OPT_UINT, .dst = &a->n, .what = "a number of rows",
         .max = UINT64_MAX, .seen = &a->have_n},
        {.short_name = 'o', .kind = RW_OPT_NONEMPTY, .dst = &a->outfile,
         .what = "a file name"},
        {.long_name = "thread", .kind = RW_OPT_UINT, .dst = &a->thread,
         .what = "a thread id (1, 2, ...)", .min = 1, .max = UINT32_MAX},
        {.long_name = "callers", .kind = RW_OPT_FLAG, .dst = &a->callers},
        {.long_name = "callees", .kind = RW_OPT_FLAG, .dst = &a->callees},
        {.long_name = "lines", .kind = RW_OPT_FLAG, .dst = &a->lines},
        {.long_name = "no-calibration", .kind = RW_OPT_CLEAR, .dst = &a->calibrate},
        {.long_name = "full-paths", .kind = RW_OPT_FLAG, .dst = &a->full_paths},
        {.long_name = "no-sandbox", .kind = RW_OPT_CLEAR, .dst = &a->sandbox},
    };
    static const char *const argnames[] = {"the trace FILE"};
    rw_cmdline cl = {.cmd = CMD, .usage = usage, .opts = opts,
                     .nopts = sizeof opts / sizeof opts[0], .args = &a->file, .maxargs = 1,
                     .argnames = argnames, .nrequired = 1};
    int go = rw_opts_parse(&cl, argc, argv);
    if (go != RW_OPTS_GO)
        return go;
    rw_engine_set_sandbox(a->sandbox);
    if (a->sort.n > RW_PROF_SORT_MAX)
        return rw_opts_usage(CMD, "too many sort keys (at most %d)", RW_PROF_SORT_MAX);
    if (a->test && (a->from || a->to))
        return rw_opts_usage(CMD, "--test cannot be combined with --from or --to");
    if (a->lines && (a->callers || a->callees || a->outfile))
        return rw_opts_usage(CMD, "--lines cannot be combined with --callers, --callees or -o");
    return RW_OPTS_GO;
}

int rw_cmd_stats(int argc, char **argv)
{
    args a;
    int go = parse(argc, argv, &a);
    rw_prof_sort sort;
    memset(&sort, 0, sizeof sort);
    rw_err err;
    for (size_t i = 0; go == RW_OPTS_GO && i < a.sort.n; i++)
        if (rw_prof_sort_add(&sort, a.sort.v[i], &err) != RW_OK)
            go = rw_opts_usage(CMD, "%s", err.msg);
    if (go == RW_OPTS_GO && a.sort.n == 0)
        rw_prof_sort_add(&sort, "cumulative", &err);
    rw_opt_list_free(&a.sort);
    if (go != RW_OPTS_GO)
        return go;

    rw_reader *r;
    if (rw_cli_open_trace(CMD, a.file, &r, &err) != RW_OK)
        return rw_cli_fail(CMD, &err);
    rw_profile_opts o;
    rw_profile_opts_default(&o);
    o.calibrate = a.calibrate;
    o.lines = a.lines;
    o.thread = (uint32_t)a.thread;
    int status = RW_EXIT_OK;
    if (a.from && (status = rw_opts_position(CMD, r, "--from", a.from, &o.from)))
        goto out_reader;
    if (a.to && (status = rw_opts_position(CMD, r, "--to", a.to, &o.to)))
        goto out_reader;
    if (a.test) { /* the test's range (cli/cmd_tests.c) */
        rw_cli_test t;
        if ((status = rw_cli_test_lookup(CMD, a.file, r, a.test, &t)))
            goto out_reader;
        o.from = t.first;
        o.to = t.last + 1;
    }
    if (a.thread && a.thread >= rw_reader_defs(r)->nthreads) {
        fprintf(stderr, "rewind " CMD ": --thread %llu: the trace has no such thread "
                "(ids 1..%u)\n", (unsigned long long)a.thread,
                rw_reader_defs(r)->nthreads ? rw_reader_defs(r)->nthreads - 1 : 0);
        status = RW_EXIT_FAIL;
        goto out_reader;
    }

    rw_progress prog;
    rw_progress_init(&prog, "profiling", rw_reader_nevents(r));
    o.progress = on_progress;
    o.progress_ctx = &prog;
    /* No window or thread asked for: cProfile's window (docs/stats.md, "The window"). */
    o.cprofile = !a.from && !a.to && !a.thread && !a.test;
    rw_profile *p = NULL;
    rw_code code = rw_profile_run(r, &o, &p, &err);
    if (code == RW_OK && o.cprofile && !p->found) {
        fprintf(stderr, "rewind " CMD ": the main script's <module> never ran in this trace "
                "(a -c command?): profiling the whole trace; give --from/--to for a window\n");
        rw_profile_free(p);
        p = NULL;
        o.cprofile = 0;
        code = rw_profile_run(r, &o, &p, &err);
    }
    rw_progress_done(&prog);
    if (code != RW_OK) {
        status = rw_opts_fail(CMD, &err);
        goto out_reader;
    }

    if (a.outfile) {
        if (rw_profile_write_pstats(p, a.outfile, &err) != RW_OK)
            status = rw_cli_fail(CMD, &err);
        goto out_profile;
    }
    if (!a.full_paths && rw_profile_strip_dirs(p, &err) != RW_OK) {
        status = rw_cli_fail(CMD, &err);
        goto out_profile;
    }
    FILE *out = stdout;
    if (a.lines) {
        print_lines(out, p, a.have_n, a.n);
        goto out_profile;
    }

    size_t *list = rw_profile_order(p, &sort);
    char **names = calloc(p->nfuncs ? p->nfuncs : 1, sizeof *names);
    size_t maxlen = 0;
    int oom = !list || !names;
    for (size_t i = 0; !oom && i < p->nfuncs; i++) {
        size_t len = rw_prof_func_name(&p->funcs[i], NULL, 0);
        names[i] = malloc(len + 1);
        if (!names[i])
            oom = 1;
        else
            rw_prof_func_name(&p->funcs[i], names[i], len + 1);
        if (len > maxlen)
            maxlen = len;
    }
    if (oom) {
        fprintf(stderr, "rewind " CMD ": out of memory\n");
        status = RW_EXIT_FAIL;
        goto out_names;
    }
    size_t count = p->nfuncs;
    char msg[512];
    int len = snprintf(msg, sizeof msg, "   Ordered by: %s\n", sort.title);
    if (a.have_n && a.n < count) {
        snprintf(msg + len, sizeof msg - (size_t)len,
                 "   List reduced from %zu to %llu due to restriction <%llu>\n", count,
                 (unsigned long long)a.n, (unsigned long long)a.n);
        count = (size_t)a.n;
    }
    size_t width = maxlen;
    if (count < p->nfuncs) {
        width = 0;
        for (size_t i = 0; i < count; i++) {
            size_t l = strlen(names[list[i]]);
            if (l > width)
                width = l;
        }
    }
    width += 2;

    if (!a.callers && !a.callees) {
        fprintf(out, "         %llu function calls ", (unsigned long long)p->total_calls);
        if (p->total_calls != p->prim_calls)
            fprintf(out, "(%llu primitive calls) ", (unsigned long long)p->prim_calls);
        fprintf(out, "in %.3f seconds\n\n", p->total_tt);
        if (count) {
            fprintf(out, "%s\n", msg);
            fprintf(out, "   ncalls  tottime  percall  cumtime  percall filename:lineno(function)\n");
            for (size_t i = 0; i < count; i++)
                print_line(out, &p->funcs[list[i]], names[list[i]]);
            fputs("\n\n", out);
        }
    }
    if (a.callers && count) {
        fprintf(out, "%s\n", msg);
        if (print_calls(out, p, names, list, count, (int)width, 0) < 0)
            oom = 1;
    }
    if (a.callees && count && !oom) {
        fprintf(out, "%s\n", msg);
        if (print_calls(out, p, names, list, count, (int)width, 1) < 0)
            oom = 1;
    }
    if (oom) {
        fprintf(stderr, "rewind " CMD ": out of memory\n");
        status = RW_EXIT_FAIL;
    }
    if (fflush(out) != 0) {
        fprintf(stderr, "rewind " CMD ": cannot write the output: %s\n", strerror(errno));
        status = RW_EXIT_FAIL;
    }
out_names:
    if (names)
        for (size_t i = 0; i < p->nfuncs; i++)
            free(names[i]);
    free(names);
    free(list);
out_profile:
    rw_profile_free(p);
out_reader:
    rw_reader_free(r);
    return status;
}
