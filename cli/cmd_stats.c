/* rewind stats: cProfile/pstats statistics of a recording (replayer/profile.h does the
 * work). Prints as pstats' print_stats / print_callers / print_callees print, after
 * strip_dirs() as `python3 -m cProfile` does, or writes cProfile's -o file. */
#include "commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "position.h"
#include "profile.h"
#include "pstats.h"
#include "scan.h"
#include "progress.h"
#include "reader.h"

#define CMD "stats"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rewind stats FILE [options]\n\n"
            "cProfile/pstats statistics of a recording, printed as `python3 -m cProfile`\n"
            "prints them: same call counts, names and ordering rules.\n\n"
            "options:\n"
            "  --from POS        profile from this position (default: the start)\n"
            "  --to POS          ... up to, not including, this position (default: the end)\n"
            "                    POS: an event number, @start, @end, @exception, @peak,\n"
            "                    a time such as 1.5s or 250ms, or FILE:LINE\n"
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
            "  --thread N        only thread N (ThreadDef id, see 'rewind info'); default:\n"
            "                    every thread, each with its own call stack\n"
            "  --no-calibration  keep raw times (default: the recorder's measured cost per\n"
            "                    event is subtracted, as profile.py's calibration does)\n"
            "  --full-paths      keep file names whole (default: base names, as cProfile)\n"
            "  -h, --help        show this help\n");
}

static int bad_usage(const char *msg, const char *arg)
{
    fprintf(stderr, "rewind " CMD ": %s%s%s: see 'rewind " CMD " --help'\n", msg,
            arg ? " " : "", arg ? arg : "");
    return RW_EXIT_USAGE;
}

/* "--opt VALUE" or "--opt=VALUE": the value, advancing *i; NULL when missing. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, int *matched)
{
    size_t len = strlen(name);
    const char *a = argv[*i];
    *matched = 0;
    if (strncmp(a, name, len))
        return NULL;
    if (a[len] == '=') {
        *matched = 1;
        return a + len + 1;
    }
    if (a[len] != '\0')
        return NULL;
    *matched = 1;
    if (*i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
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
    const char *file, *from, *to, *outfile;
    const char *sort[RW_PROF_SORT_MAX];
    int nsort;
    int have_n, callers, callees, lines, calibrate, full_paths;
    uint64_t n, thread;
} args;

static int parse(int argc, char **argv, args *a)
{
    memset(a, 0, sizeof *a);
    a->calibrate = 1;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        const char *v;
        int m;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            usage(stdout);
            return -1;
        }
        if ((v = opt_value(argc, argv, &i, "--from", &m)), m) {
            if (!v)
                return bad_usage("--from needs a position", NULL);
            a->from = v;
        } else if ((v = opt_value(argc, argv, &i, "--to", &m)), m) {
            if (!v)
                return bad_usage("--to needs a position", NULL);
            a->to = v;
        } else if (((v = opt_value(argc, argv, &i, "--sort", &m)), m) ||
                   ((v = opt_value(argc, argv, &i, "-s", &m)), m)) {
            if (!v)
                return bad_usage("--sort needs a key", NULL);
            if (a->nsort == RW_PROF_SORT_MAX)
                return bad_usage("too many sort keys", NULL);
            a->sort[a->nsort++] = v;
        } else if ((v = opt_value(argc, argv, &i, "-n", &m)), m) {
            if (parse_u64(v, &a->n) < 0)
                return bad_usage("-n needs a number of rows, not", v ? v : "nothing");
            a->have_n = 1;
        } else if ((v = opt_value(argc, argv, &i, "-o", &m)), m) {
            if (!v || !*v)
                return bad_usage("-o needs a file name", NULL);
            a->outfile = v;
        } else if ((v = opt_value(argc, argv, &i, "--thread", &m)), m) {
            if (parse_u64(v, &a->thread) < 0 || a->thread == 0 || a->thread > UINT32_MAX)
                return bad_usage("--thread needs a thread id (1, 2, ...), not",
                                 v ? v : "nothing");
        } else if (!strcmp(s, "--callers")) {
            a->callers = 1;
        } else if (!strcmp(s, "--callees")) {
            a->callees = 1;
        } else if (!strcmp(s, "--lines")) {
            a->lines = 1;
        } else if (!strcmp(s, "--no-calibration")) {
            a->calibrate = 0;
        } else if (!strcmp(s, "--full-paths")) {
            a->full_paths = 1;
        } else if (s[0] == '-' && s[1] != '\0') {
            return bad_usage("unknown option", s);
        } else if (!a->file) {
            a->file = s;
        } else {
            return bad_usage("unexpected argument", s);
        }
    }
    if (!a->file)
        return bad_usage("missing the trace FILE", NULL);
    if (a->lines && (a->callers || a->callees || a->outfile))
        return bad_usage("--lines cannot be combined with --callers, --callees or -o", NULL);
    return 0;
}

static int resolve(const rw_reader *r, const char *spec, uint64_t *pos, const char *what)
{
    rw_err e;
    rw_code rc = rw_pos_parse(r, spec, pos, &e);
    if (rc == RW_OK)
        return 0;
    fprintf(stderr, "rewind " CMD ": %s %s: %s\n", what, spec, e.msg);
    return rc == RW_EINVAL ? RW_EXIT_USAGE : RW_EXIT_FAIL;
}

int rw_cmd_stats(int argc, char **argv)
{
    args a;
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc < 0 ? RW_EXIT_OK : rc;
    rw_prof_sort sort;
    memset(&sort, 0, sizeof sort);
    rw_err err;
    for (int i = 0; i < a.nsort; i++)
        if (rw_prof_sort_add(&sort, a.sort[i], &err) != RW_OK)
            return bad_usage(err.msg, NULL);
    if (a.nsort == 0)
        rw_prof_sort_add(&sort, "cumulative", &err);

    /* Chunks are decoded on the scan's helper threads (scan.h). */
    rw_scan_tune_malloc();

    rw_reader *r;
    if (rw_cli_open_trace(CMD, a.file, &r, &err) != RW_OK)
        return rw_cli_fail(CMD, &err);
    rw_profile_opts o;
    rw_profile_opts_default(&o);
    o.calibrate = a.calibrate;
    o.lines = a.lines;
    o.thread = (uint32_t)a.thread;
    int status = RW_EXIT_OK;
    if (a.from && (status = resolve(r, a.from, &o.from, "--from")))
        goto out_reader;
    if (a.to && (status = resolve(r, a.to, &o.to, "--to")))
        goto out_reader;
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
    rw_profile *p = NULL;
    rw_code code = rw_profile_run(r, &o, &p, &err);
    rw_progress_done(&prog);
    if (code != RW_OK) {
        status = code == RW_EINVAL ? (fprintf(stderr, "rewind " CMD ": %s\n", err.msg),
                                      RW_EXIT_USAGE)
                                   : rw_cli_fail(CMD, &err);
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
