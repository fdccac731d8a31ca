/* rewind memory: tracemalloc statistics of a recording at any position, differences
 * between two positions, memory over time (terminal chart, SVG) and snapshots that
 * tracemalloc.Snapshot.load() reads. The analysis is replayer/memory.c. */
#include "commands.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "memory.h"
#include "memplot.h"
#include "position.h"
#include "progress.h"
#include "reader.h"

#define CMD "memory"
#define MAX_FILTERS 64
#define TL_BUCKETS 600  /* samples for --plot; --timeline folds them into columns */
#define TL_COLS 60
#define TL_ROWS 15

static void usage(FILE *out)
{
    fprintf(out,
        "usage: rewind memory FILE [--at POS] [-n N] [--group-by lineno|filename|traceback]\n"
        "                          [--limit-frames N] [--cumulative] [--filter PATTERN[:LINE]]\n"
        "                          [--exclude PATTERN[:LINE]] [--all-frames]\n"
        "                          [--domain D | --exclude-domain D] [--thread N]\n"
        "                          [--compare-to POS] [--timeline] [--plot OUT.svg]\n"
        "                          [-o SNAPSHOT.pickle] [--test NAME]\n"
        "                          [--traced-since interpreter|program|POS]\n\n"
        "What tracemalloc would have reported at a position of the recording: the traced\n"
        "memory (current and peak so far, as tracemalloc.get_traced_memory()) and the top\n"
        "statistics as snapshot.statistics(key_type, cumulative) prints them.\n\n"
        "options:\n"
        "  --at POS            position of the snapshot (default @main-end, the end of the\n"
        "                      main module's code, before finalisation): an event number,\n"
        "                      @start, @end (after finalisation), @main-end, @exception,\n"
        "                      @peak, a time (1.5s, 250ms) or FILE:LINE (the first time\n"
        "                      that line ran); the state at POS is everything allocated\n"
        "                      and freed before event POS runs\n"
        "  -n N                show the top N statistics (default 10; 0 = all)\n"
        "  --group-by KEY      lineno (default), filename or traceback\n"
        "  --limit-frames N    frames kept per traceback, most recent first (default 25,\n"
        "                      as tracemalloc.start(25)); like tracemalloc's limit\n"
        "  --cumulative        count every frame of a traceback (lineno, filename only)\n"
        "  --filter PAT[:LINE] keep traces whose most recent frame's file matches the\n"
        "                      fnmatch pattern PAT (and line LINE): tracemalloc.Filter(True)\n"
        "  --exclude PAT[:LINE]  drop them: tracemalloc.Filter(False); both repeatable\n"
        "  --all-frames        filters look at every frame, not the most recent only\n"
        "  --domain D          keep domain D: a number is a tracemalloc domain (every\n"
        "                      Python allocation is in domain 0), raw, mem or obj an\n"
        "                      allocator domain (PyMem_RawMalloc, PyMem_Malloc, PyObject_Malloc)\n"
        "  --exclude-domain D  drop domain D\n"
        "  --thread N          only blocks allocated by thread N (ThreadDef id, see\n"
        "                      'rewind info')\n"
        "  --compare-to POS    differences against the state at POS, as\n"
        "                      snapshot.compare_to(old, key_type, cumulative) prints them\n"
        "  --timeline          chart of current traced memory over the run\n"
        "  --plot OUT.svg      the same chart as an SVG file\n"
        "  --test NAME         one test of a recorded pytest or unittest run: the state\n"
        "                      at its end compared to its start (--at the position after\n"
        "                      its last, --compare-to its first; 'rewind tests' lists them)\n"
        "  --no-sandbox        with --test: name the tests by re-executing without the\n"
        "                      engine's sandbox (docs/reexecution.md)\n"
        "  --traced-since WHEN tracemalloc started with the interpreter (default, as\n"
        "                      python3 -X tracemalloc), with the program (as\n"
        "                      tracemalloc.start() on its first line) or at a position\n"
        "                      (FILE:LINE: where a tracemalloc.start() call ran): what\n"
        "                      was allocated before it stays untraced, reused off a free\n"
        "                      list or not\n"
        "  -o FILE             write the (filtered) snapshot as a pickle that\n"
        "                      tracemalloc.Snapshot.load(FILE) reads\n"
        "  -h, --help          show this help\n");
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno || v > max)
        return -1;
    *out = v;
    return 0;
}

typedef struct opts {
    const char *file;
    const char *at, *compare_to;
    const char *test; /* --test: sets at and compare_to (run) */
    unsigned long long top;
    rw_mem_key key;
    unsigned long long limit_frames;
    int cumulative, all_frames;
    const char *since; /* --traced-since: interpreter (NULL), program or a position */
    rw_mem_filter filters[MAX_FILTERS];
    char *patterns[MAX_FILTERS];
    size_t nfilters;
    unsigned long long thread;
    int timeline;
    const char *plot, *out;
    int sandbox; /* 0: --no-sandbox */
} opts;

/* PATTERN[:LINE] -> filter: a trailing ":digits" is the line, as in tracemalloc's
 * command-line examples; anything else belongs to the pattern. */
static int add_file_filter(opts *o, const char *arg, int inclusive, char *why, size_t cap)
{
    if (o->nfilters == MAX_FILTERS)
        return snprintf(why, cap, "too many filters (at most %d)", MAX_FILTERS), -1;
    if (!*arg)
        return snprintf(why, cap, "empty filter pattern"), -1;
    char *pat = strdup(arg);
    if (!pat)
        return -2;
    rw_mem_filter *f = &o->filters[o->nfilters];
    memset(f, 0, sizeof *f);
    f->kind = RW_MEM_FILTER_FILE;
    f->inclusive = inclusive;
    char *colon = strrchr(pat, ':');
    if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
        unsigned long long line;
        if (parse_uint(colon + 1, UINT32_MAX, &line) < 0 || line == 0) {
            free(pat);
            return snprintf(why, cap, "bad line number"), -1;
        }
        f->lineno = (uint32_t)line;
        *colon = 0;
    }
    f->pattern = pat;
    o->patterns[o->nfilters++] = pat;
    return 0;
}

static int add_domain_filter(opts *o, const char *arg, int inclusive, char *why, size_t cap)
{
    if (o->nfilters == MAX_FILTERS)
        return snprintf(why, cap, "too many filters (at most %d)", MAX_FILTERS), -1;
    rw_mem_filter *f = &o->filters[o->nfilters];
    memset(f, 0, sizeof *f);
    f->inclusive = inclusive;
    unsigned long long d;
    if (!strcmp(arg, "raw") || !strcmp(arg, "mem") || !strcmp(arg, "obj")) {
        f->kind = RW_MEM_FILTER_ADOMAIN;
        f->domain = arg[0] == 'r' ? RW_MEM_RAW : arg[0] == 'm' ? RW_MEM_MEM : RW_MEM_OBJ;
    } else if (parse_uint(arg, UINT32_MAX, &d) == 0) {
        f->kind = RW_MEM_FILTER_DOMAIN;
        f->domain = (uint32_t)d;
    } else {
        return -1;
    }
    o->nfilters++;
    return 0;
}

/* The RW_OPT_CALL functions of --filter, --exclude, --domain, --exclude-domain. */
static int filter_in(void *o, const char *v, char *why, size_t cap)
{
    return add_file_filter(o, v, 1, why, cap);
}

static int filter_out(void *o, const char *v, char *why, size_t cap)
{
    return add_file_filter(o, v, 0, why, cap);
}

static int domain_in(void *o, const char *v, char *why, size_t cap)
{
    return add_domain_filter(o, v, 1, why, cap);
}

static int domain_out(void *o, const char *v, char *why, size_t cap)
{
    return add_domain_filter(o, v, 0, why, cap);
}

/* Returns RW_OPTS_GO when parsed, else the exit status to return. */
static int parse_args(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->top = 10;
    o->limit_frames = RW_MEM_DEFAULT_FRAMES;
    o->sandbox = 1;
    int key = 0; /* index in keys */
    static const char *const keys[] = {"lineno", "filename", "traceback", NULL};
    static const rw_mem_key key_of[] = {RW_MEM_BY_LINENO, RW_MEM_BY_FILENAME,
                                        RW_MEM_BY_TRACEBACK};
    const rw_opt table[] = {
        {.long_name = "at", .kind = RW_OPT_POS, .dst = &o->at},
        {.long_name = "compare-to", .kind = RW_OPT_POS, .dst = &o->compare_to},
        {.long_name = "test", .kind = RW_OPT_NONEMPTY, .dst = &o->test, .what = "a test NAME"},
        {.long_name = "no-sandbox", .kind = RW_OPT_CLEAR, .dst = &o->sandbox},
        {.short_name = 'n', .long_name = "top", .kind = RW_OPT_UINT, .dst = &o->top,
         .what = "a count (0 for all)", .max = 1000000000},
        {.long_name = "group-by", .kind = RW_OPT_CHOICE, .dst = &key, .choices = keys,
         .what = "lineno, filename or traceback"},
        {.long_name = "limit-frames", .kind = RW_OPT_UINT, .dst = &o->limit_frames,
         .what = "a number of frames from 1 to 4096", .min = 1, .max = RW_MEM_MAX_FRAMES},
        {.long_name = "cumulative", .kind = RW_OPT_FLAG, .dst = &o->cumulative},
        {.long_name = "all-frames", .kind = RW_OPT_FLAG, .dst = &o->all_frames},
        {.long_name = "traced-since", .kind = RW_OPT_POS, .dst = &o->since},
        {.long_name = "filter", .kind = RW_OPT_CALL, .dst = o, .call = filter_in,
         .what = "a file name pattern, PATTERN[:LINE]"},
        {.long_name = "exclude", .kind = RW_OPT_CALL, .dst = o, .call = filter_out,
         .what = "a file name pattern, PATTERN[:LINE]"},
        {.long_name = "domain", .kind = RW_OPT_CALL, .dst = o, .call = domain_in,
         .what = "a domain: a number, raw, mem or obj"},
        {.long_name = "exclude-domain", .kind = RW_OPT_CALL, .dst = o, .call = domain_out,
         .what = "a domain: a number, raw, mem or obj"},
        {.long_name = "thread", .kind = RW_OPT_UINT, .dst = &o->thread,
         .what = "a thread id from 'rewind info'", .min = 1, .max = 0x0fffffff},
        {.long_name = "timeline", .kind = RW_OPT_FLAG, .dst = &o->timeline},
        {.long_name = "plot", .kind = RW_OPT_STR, .dst = &o->plot, .what = "a file name"},
        {.short_name = 'o', .long_name = "output", .kind = RW_OPT_STR, .dst = &o->out,
         .what = "a file name"},
    };
    static const char *const argnames[] = {"the trace FILE"};
    rw_cmdline cl = {.cmd = CMD, .usage = usage, .opts = table,
                     .nopts = sizeof table / sizeof table[0], .args = &o->file, .maxargs = 1,
                     .argnames = argnames, .nrequired = 1};
    int go = rw_opts_parse(&cl, argc, argv);
    if (go != RW_OPTS_GO)
        return go;
    rw_engine_set_sandbox(o->sandbox);
    o->key = key_of[key];
    if (o->test && (o->at || o->compare_to))
        return rw_opts_usage(CMD, "--test cannot be combined with --at or --compare-to");
    if (o->cumulative && o->key == RW_MEM_BY_TRACEBACK)
        return rw_opts_usage(CMD, "--cumulative cannot be used with --group-by traceback");
    for (size_t i = 0; i < o->nfilters; i++)
        o->filters[i].all_frames = o->all_frames;
    return RW_OPTS_GO;
}

static void progress_cb(void *ctx, uint64_t done, uint64_t total)
{
    (void)total;
    rw_progress_update(ctx, done);
}

static void size_both(uint64_t v, char *buf, size_t len)
{
    char h[32];
    rw_mem_format_size((double)v, 0, h, sizeof h);
    snprintf(buf, len, "%llu B (%s)", (unsigned long long)v, h);
}

/* Resolves spec; @peak becomes the instant of the peak (a record count) rather than
 * the position, whose state may already have freed something. */
typedef struct target {
    int is_peak;
    uint64_t pos;
    const char *spec;
} target;

static rw_code resolve(const rw_reader *r, const char *spec, target *t, rw_err *err)
{
    memset(t, 0, sizeof *t);
    t->spec = spec;
    if (!strcmp(spec, "@peak")) {
        t->is_peak = 1;
        return RW_OK;
    }
    return rw_pos_parse(r, spec, &t->pos, err);
}

static rw_code goto_target(rw_mem *m, const target *t, uint64_t peak_alloc, rw_err *err)
{
    if (t->is_peak)
        return rw_mem_run_to_alloc(m, peak_alloc, err);
    return rw_mem_run_to(m, t->pos, err);
}

static void print_traceback(const rw_mem *m, uint32_t key)
{
    uint32_t n;
    const rw_mem_frame *fr = rw_mem_tb_frames(m, key, &n);
    char src[512];
    for (uint32_t i = n; i-- > 0;) { /* Traceback.format(): oldest first */
        printf("  File \"%s\", line %u\n", rw_mem_file_path(m, fr[i].file), fr[i].line);
        rw_mem_source_line(m, fr[i].file, fr[i].line, src, sizeof src);
        if (src[0])
            printf("    %s\n", src);
    }
}

static const char *key_name(rw_mem_key k)
{
    return k == RW_MEM_BY_LINENO ? "lineno" : k == RW_MEM_BY_FILENAME ? "filename" : "traceback";
}

static void print_stats(const rw_mem *m, const opts *o, const rw_mem_stat *st, size_t n,
                        int diff)
{
    size_t shown = o->top && o->top < n ? (size_t)o->top : n;
    printf("Top %zu %s by %s%s:\n", shown, diff ? "differences" : "statistics",
           key_name(o->key), o->cumulative ? " (cumulative)" : "");
    char line[8192];
    for (size_t i = 0; i < shown; i++) {
        rw_mem_format_stat(m, &st[i], diff, line, sizeof line);
        printf("%s\n", line);
        if (o->key == RW_MEM_BY_TRACEBACK)
            print_traceback(m, st[i].key);
    }
    if (shown < n) {
        int64_t size = 0, count = 0, sd = 0, cd = 0;
        for (size_t i = shown; i < n; i++) {
            size += st[i].size;
            count += st[i].count;
            sd += st[i].size_diff;
            cd += st[i].count_diff;
        }
        char a[32], b[32];
        rw_mem_format_size((double)size, 0, a, sizeof a);
        if (diff) {
            rw_mem_format_size((double)sd, 1, b, sizeof b);
            printf("%zu other: size=%s (%s), count=%lld (%+lld)\n", n - shown, a, b,
                   (long long)count, (long long)cd);
        } else {
            printf("%zu other: size=%s, count=%lld\n", n - shown, a, (long long)count);
        }
    }
}

static void print_timeline(const rw_mem_timeline *t, const rw_mem_usage *end_u, double at_ns)
{
    uint64_t col[TL_COLS];
    uint64_t ymax = 0;
    size_t per = t->n / TL_COLS;
    for (size_t c = 0; c < TL_COLS; c++) {
        col[c] = 0;
        for (size_t i = c * per; i < (c + 1) * per && i < t->n; i++)
            if (t->max[i] > col[c])
                col[c] = t->max[i];
        if (col[c] > ymax)
            ymax = col[c];
    }
    char top[32], mid[32], zero[32], peak[32], t0[32], t1[32];
    rw_mem_format_size((double)ymax, 0, top, sizeof top);
    rw_mem_format_size((double)ymax / 2, 0, mid, sizeof mid);
    rw_mem_format_size(0, 0, zero, sizeof zero);
    rw_mem_format_size((double)end_u->peak, 0, peak, sizeof peak);
    printf("Current traced memory over time (peak %s; each column is the highest in its "
           "slice):\n", peak);
    for (int row = 0; row < TL_ROWS; row++) {
        const char *label = row == 0 ? top : row == TL_ROWS / 2 ? mid
                            : row == TL_ROWS - 1 ? zero : "";
        printf("%10s |", label);
        for (size_t c = 0; c < TL_COLS; c++) {
            /* Rows filled from the bottom: ceil(v / ymax * rows). */
            int level = ymax ? (int)ceil((double)col[c] / (double)ymax * TL_ROWS) : 0;
            putchar(level >= TL_ROWS - row ? '#' : ' ');
        }
        putchar('\n');
    }
    printf("%10s +", "");
    for (int c = 0; c < TL_COLS; c++)
        putchar('-');
    putchar('\n');
    if (at_ns >= 0 && t->span_ns > 0) {
        int c = (int)(at_ns / t->span_ns * TL_COLS);
        if (c >= TL_COLS)
            c = TL_COLS - 1;
        printf("%10s  %*s^ --at\n", "", c, "");
    }
    rw_mem_format_time(0, t0, sizeof t0);
    rw_mem_format_time(t->span_ns, t1, sizeof t1);
    printf("%10s  %-*s%s\n", "", TL_COLS - (int)strlen(t1), t0, t1);
}

static int run(const opts *o)
{
    rw_err err = {0};
    rw_reader *r = NULL;
    rw_mem *m = NULL;
    rw_mem_snapshot *snap = NULL, *old = NULL;
    rw_mem_stat *st = NULL;
    size_t nst = 0;
    int status = RW_EXIT_OK;
    rw_progress prog;

    if (rw_cli_open_trace(CMD, o->file, &r, &err) != RW_OK)
        return rw_cli_fail(CMD, &err);
    if (o->thread && o->thread >= rw_reader_defs(r)->nthreads) {
        fprintf(stderr, "rewind " CMD ": no thread %llu in %s (it has threads 1 to %u)\n",
                o->thread, o->file, rw_reader_defs(r)->nthreads - 1);
        rw_reader_free(r);
        return RW_EXIT_FAIL;
    }
    /* --test: the state after the test's last event compared to the one before its
     * first (cli/cmd_tests.c finds them). */
    char test_at[32], test_from[32];
    opts tw = *o;
    if (o->test) {
        rw_cli_test t;
        if ((status = rw_cli_test_lookup(CMD, o->file, r, o->test, &t))) {
            rw_reader_free(r);
            return status;
        }
        snprintf(test_at, sizeof test_at, "%llu", (unsigned long long)t.last + 1);
        snprintf(test_from, sizeof test_from, "%llu", (unsigned long long)t.first);
        tw.at = test_at;
        tw.compare_to = test_from;
        o = &tw;
    }
    target at, cmp;
    const char *opt = "--at", *spec = o->at ? o->at : "@main-end";
    rw_code prc = resolve(r, spec, &at, &err);
    if (prc == RW_OK && o->compare_to) {
        opt = "--compare-to";
        spec = o->compare_to;
        prc = resolve(r, spec, &cmp, &err);
    }
    /* --traced-since: tracemalloc.start() with the program (the main module's CALL) or
     * at a position; nothing before it is traced (memory.h). */
    uint64_t traced_from = 0;
    const char *since = o->since && strcmp(o->since, "interpreter") ? o->since : NULL;
    if (prc == RW_OK && since) {
        opt = "--traced-since";
        spec = since;
        prc = !strcmp(since, "program") ? rw_pos_main_start(r, &traced_from, &err)
                                        : rw_pos_parse(r, since, &traced_from, &err);
    }
    if (prc != RW_OK) {
        rw_reader_free(r);
        /* A damaged trace found while looking for the position is the trace's fault,
         * said as every command says it (the default position was not the user's). */
        if (err.code == RW_ECORRUPT || err.code == RW_EIO || err.code == RW_EVERSION ||
            err.code == RW_ENOMEM)
            return rw_opts_fail(CMD, &err);
        if (err.code == RW_EINVAL && spec == since)
            return rw_opts_usage(CMD, "--traced-since %s: not interpreter, program or a "
                                 "position (an event number, @start, FILE:LINE...)", since);
        return rw_opts_position_fail(CMD, opt, spec, &err);
    }
    if (since && !rw_meta_has_feature(rw_reader_metadata(r), "startup-reuses"))
        fprintf(stderr, "rewind memory: note: %s was recorded before rewind marked the reuse "
                        "of blocks that start-up made: --traced-since program counts them as "
                        "--traced-since interpreter does\n", o->file);
    rw_progress_init(&prog, "rewind memory", rw_reader_nrecords(r));
    rw_mem_opts mo = {.max_frames = (uint32_t)o->limit_frames,
                      .timeline_buckets = (o->timeline || o->plot) ? TL_BUCKETS : 0,
                      .traced_since_program = since != NULL,
                      .traced_from = traced_from,
                      .progress = progress_cb,
                      .progress_ctx = &prog};
    if (rw_mem_new(r, &mo, &m, &err) != RW_OK)
        goto fail;

    /* @peak needs the whole run first; so do the timeline and a position before
     * --compare-to's (both are reached by replaying forwards from the start). */
    uint64_t peak_alloc = 0;
    rw_mem_usage end_u = {0};
    int need_end = o->timeline || o->plot || at.is_peak || (o->compare_to && cmp.is_peak);
    if (need_end) {
        if (rw_mem_run_to(m, rw_reader_nevents(r), &err) != RW_OK)
            goto fail;
        rw_mem_get_usage(m, &end_u);
        peak_alloc = end_u.peak_alloc;
    }
    if (o->compare_to) {
        if (goto_target(m, &cmp, peak_alloc, &err) != RW_OK ||
            rw_mem_snapshot_take(m, (uint32_t)o->thread, &old, &err) != RW_OK ||
            rw_mem_snapshot_filter(m, old, o->filters, o->nfilters, &err) != RW_OK)
            goto fail;
    }
    if (goto_target(m, &at, peak_alloc, &err) != RW_OK)
        goto fail;
    rw_mem_usage u;
    rw_mem_get_usage(m, &u);
    if (rw_mem_snapshot_take(m, (uint32_t)o->thread, &snap, &err) != RW_OK ||
        rw_mem_snapshot_filter(m, snap, o->filters, o->nfilters, &err) != RW_OK)
        goto fail;
    if (o->compare_to) {
        if (rw_mem_compare(m, snap, old, o->key, o->cumulative, &st, &nst, &err) != RW_OK)
            goto fail;
    } else if (rw_mem_statistics(m, snap, o->key, o->cumulative, &st, &nst, &err) != RW_OK) {
        goto fail;
    }
    if (o->out && rw_mem_snapshot_dump(m, snap, o->out, &err) != RW_OK)
        goto fail;
    rw_mem_timeline tl;
    rw_mem_get_timeline(m, &tl);
    if (o->plot) {
        char title[512];
        snprintf(title, sizeof title, "rewind memory: %s", o->file);
        if (rw_mem_plot_svg(o->plot, &tl, title, &err) != RW_OK)
            goto fail;
    }
    rw_progress_done(&prog);

    char cur[64], peak[64];
    size_both(u.current, cur, sizeof cur);
    size_both(u.peak, peak, sizeof peak);
    printf("Snapshot at position %llu (%s) of %llu events%s\n", (unsigned long long)u.pos,
           at.spec, (unsigned long long)rw_reader_nevents(r),
           at.is_peak ? ", at the instant of the peak" : "");
    printf("Traced memory: current %s, peak %s at position %llu\n", cur, peak,
           (unsigned long long)u.peak_pos);
    uint64_t sel = 0, nsel = 0;
    for (size_t i = 0; i < snap->n; i++) {
        sel += snap->traces[i].size;
        nsel += snap->traces[i].count;
    }
    char selb[64];
    size_both(sel, selb, sizeof selb);
    printf("Traces: %llu blocks", (unsigned long long)u.blocks);
    if (o->nfilters || o->thread)
        printf(", %llu selected by the filters (%s)", (unsigned long long)nsel, selb);
    printf("; traceback limit %u frames\n", (unsigned)o->limit_frames);
    if (o->compare_to)
        printf("Compared to position %llu (%s)\n", (unsigned long long)old->pos, cmp.spec);
    printf("\n");
    print_stats(m, o, st, nst, o->compare_to != NULL);
    if (o->timeline) {
        double at_ns = -1;
        if (rw_pos_time_ns(r, u.pos, &at_ns, &err) != RW_OK)
            at_ns = -1;
        printf("\n");
        print_timeline(&tl, &end_u, at_ns);
    }
    if (o->plot)
        printf("\nWrote the memory chart to %s\n", o->plot);
    if (o->out)
        printf("Wrote the snapshot to %s (tracemalloc.Snapshot.load)\n", o->out);
    goto done;
fail:
    rw_progress_done(&prog);
    status = rw_cli_fail(CMD, &err);
done:
    free(st);
    rw_mem_snapshot_free(snap);
    rw_mem_snapshot_free(old);
    rw_mem_free(m);
    rw_reader_free(r);
    return status;
}

int rw_cmd_memory(int argc, char **argv)
{
    opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc == RW_OPTS_GO)
        rc = run(&o);
    for (size_t i = 0; i < o.nfilters; i++)
        free(o.patterns[i]);
    return rc;
}
