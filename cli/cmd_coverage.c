/* rewind coverage: line counts of a recording, printed and written the way
 * `python3 -m trace` does (.cover files, summary table, functions called, calling
 * relationships), plus an LCOV tracefile. The counting is replayer/analysis/coverage.c,
 * the LCOV writer replayer/analysis/lcov.c. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client.h"
#include "commands.h"
#include "coverage.h"
#include "lcov.h"
#include "position.h"
#include "progress.h"
#include "reader.h"
#include "source_text.h"

#define CMD "coverage"

static const char usage_text[] =
    "usage: rewind coverage FILE [--count] [--coverdir DIR] [--summary] [--missing]\n"
    "                            [--listfuncs] [--trackcalls] [--ignore-module MOD,...]\n"
    "                            [--ignore-dir DIR:...] [--lcov OUT.info]\n"
    "                            [--from POS] [--to POS]\n"
    "\n"
    "Line coverage of a recording, as `python3 -m trace` reports it.\n"
    "\n"
    "  -c, --count           write <module>.cover files with per-line counts\n"
    "  -C, --coverdir DIR    put .cover files in DIR (default: beside each source file)\n"
    "  -m, --missing         mark executable lines never run with '>>>>>> '\n"
    "  -s, --summary         print 'lines cov% module (path)' for each file\n"
    "  -l, --listfuncs       print the functions called\n"
    "  -T, --trackcalls      print the calling relationships\n"
    "      --ignore-module M ignore modules M (comma-separated) and their submodules\n"
    "      --ignore-dir D    ignore files under D (several joined by ':')\n"
    "      --lcov OUT        write an LCOV tracefile (SF/FN/FNDA/DA/LF/LH records)\n"
    "      --from POS        count from this position (default @main-start, where the\n"
    "                        program's code starts, as trace starts; @start: the whole\n"
    "                        recording, a -m module's package import included)\n"
    "      --to POS          count up to this position (default @main-end, where the\n"
    "                        program's code returns, as trace stops; @end: the whole\n"
    "                        recording, atexit handlers and finalisation included)\n"
    "      --test NAME       count one test of a recorded pytest or unittest run: its\n"
    "                        position range ('rewind tests FILE' lists the tests)\n"
    "      --no-sandbox      with --test: name the tests by re-executing without the\n"
    "                        engine's sandbox (docs/reexecution.md)\n"
    "  -h, --help            show this help\n"
    "\n"
    "With none of --count, --summary, --listfuncs, --trackcalls or --lcov, the summary\n"
    "is printed. Positions: an event number, @start, @end, @main-start, @main-end,\n"
    "@exception, a time (1.5s) or FILE:LINE. See docs/coverage.md.\n";

typedef struct strlist {
    char **v;
    size_t n;
} strlist;

static int strlist_add(strlist *l, const char *s, size_t n)
{
    char **v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (!v)
        return -1;
    l->v = v;
    l->v[l->n] = strndup(s, n);
    if (!l->v[l->n])
        return -1;
    l->n++;
    return 0;
}

/* Splits s at sep, trimming spaces (trace: mod.strip()), skipping empty items. */
static int strlist_split(strlist *l, const char *s, char sep)
{
    while (*s) {
        const char *e = strchr(s, sep);
        if (!e)
            e = s + strlen(s);
        const char *a = s, *b = e;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (b > a && strlist_add(l, a, (size_t)(b - a)) < 0)
            return -1;
        s = *e ? e + 1 : e;
    }
    return 0;
}

static void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static int mkdirs(const char *dir)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf)
        return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, 0777) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0777) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* The directories trace's _fullmodname would have searched: sys.path of the
 * recorded run, rebuilt from its metadata (script directory or cwd, PYTHONPATH,
 * the interpreter's standard directories). */
static int build_syspath(const rw_reader *r, strlist *sp)
{
    const Rewind__Metadata *m = rw_reader_metadata(r);
    const char *cwd = m && m->cwd ? m->cwd : "";
    char buf[PATH_MAX];
    if (m && m->run_kind && !strcmp(m->run_kind, "script") && m->run_target &&
        *m->run_target) {
        /* The script's directory: os.path.dirname(os.path.abspath(script)). */
        char *dir = rw_path_abspath(m->run_target, cwd);
        if (!dir)
            return -1;
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir)
            *slash = 0;
        else if (slash)
            slash[1] = 0;
        int rc = strlist_add(sp, dir, strlen(dir));
        free(dir);
        if (rc < 0)
            return -1;
    } else if (*cwd && strlist_add(sp, cwd, strlen(cwd)) < 0) {
        return -1;
    }
    for (size_t i = 0; m && i < m->n_env; i++)
        if (m->env[i]->name && !strcmp(m->env[i]->name, "PYTHONPATH") && m->env[i]->value &&
            strlist_split(sp, m->env[i]->value, ':') < 0)
            return -1;
    int major = 3, minor = 11;
    if (m && m->python_version)
        sscanf(m->python_version, "%d.%d", &major, &minor);
    const char *fmt[] = {"/usr/lib/python%d.%d", "/usr/lib/python%d.%d/lib-dynload",
                         "/usr/local/lib/python%d.%d/dist-packages"};
    for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++) {
        snprintf(buf, sizeof buf, fmt[i], major, minor);
        if (strlist_add(sp, buf, strlen(buf)) < 0)
            return -1;
    }
    snprintf(buf, sizeof buf, "/usr/lib/python%d/dist-packages", major);
    return strlist_add(sp, buf, strlen(buf));
}

typedef struct func3 {
    const char *file;
    char mod[256];
    char func[512];
} func3;

static int func3_cmp(const func3 *a, const func3 *b)
{
    int s = strcmp(a->file, b->file);
    if (!s)
        s = strcmp(a->mod, b->mod);
    if (!s)
        s = strcmp(a->func, b->func);
    return s;
}

static int func3_qcmp(const void *a, const void *b)
{
    return func3_cmp(a, b);
}

typedef struct pair3 {
    func3 p, c;
} pair3;

static int pair3_qcmp(const void *a, const void *b)
{
    const pair3 *x = a, *y = b;
    int s = func3_cmp(&x->p, &y->p);
    return s ? s : func3_cmp(&x->c, &y->c);
}

static void func3_of(const rw_defs *d, uint32_t code, func3 *f)
{
    const Rewind__CodeDef *cd = rw_defs_code(d, code);
    const Rewind__FileDef *fd = cd && cd->file ? rw_defs_file(d, cd->file) : NULL;
    const char *path = fd && fd->path ? fd->path : "";
    f->file = path;
    rw_cov_modname(path, f->mod, sizeof f->mod);
    rw_cov_funcname(cd && cd->name ? cd->name : "", cd ? cd->qualname : NULL, f->func,
                    sizeof f->func);
}

static int print_listfuncs(const rw_reader *r, const rw_cov *cov)
{
    const rw_defs *d = rw_reader_defs(r);
    func3 *v = calloc(d->ncodes ? d->ncodes : 1, sizeof *v);
    if (!v)
        return -1;
    size_t n = 0;
    for (uint32_t i = 1; i < d->ncodes; i++)
        if (rw_cov_calls(cov, i))
            func3_of(d, i, &v[n++]);
    qsort(v, n, sizeof *v, func3_qcmp);
    if (n) {
        printf("\nfunctions called:\n");
        for (size_t i = 0; i < n; i++)
            if (!i || func3_cmp(&v[i - 1], &v[i]))
                printf("filename: %s, modulename: %s, funcname: %s\n", v[i].file, v[i].mod,
                       v[i].func);
    }
    free(v);
    return 0;
}

static int print_trackcalls(const rw_reader *r, const rw_cov *cov)
{
    const rw_defs *d = rw_reader_defs(r);
    size_t np;
    const rw_cov_pair *pairs = rw_cov_pairs(cov, &np);
    pair3 *v = calloc(np ? np : 1, sizeof *v);
    if (!v)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < np; i++) {
        if (!pairs[i].caller)
            continue; /* outermost frames: trace shows its own runctx as the caller */
        func3_of(d, pairs[i].caller, &v[n].p);
        func3_of(d, pairs[i].callee, &v[n].c);
        n++;
    }
    qsort(v, n, sizeof *v, pair3_qcmp);
    if (n) {
        printf("\ncalling relationships:\n");
        const char *lastfile = "", *lastcfile = "";
        for (size_t i = 0; i < n; i++) {
            if (i && !pair3_qcmp(&v[i - 1], &v[i]))
                continue;
            const func3 *p = &v[i].p, *c = &v[i].c;
            if (strcmp(p->file, lastfile)) {
                printf("\n*** %s ***\n", p->file);
                lastfile = p->file;
                lastcfile = "";
            }
            if (strcmp(c->file, p->file) && strcmp(lastcfile, c->file)) {
                printf("  --> %s\n", c->file);
                lastcfile = c->file;
            }
            printf("    %s.%s -> %s.%s\n", p->mod, p->func, c->mod, c->func);
        }
    }
    free(v);
    return 0;
}

typedef struct sumrow {
    char mod[512];
    size_t n_lines;
    int percent;
    const char *path;
} sumrow;

static int sumrow_cmp(const void *a, const void *b)
{
    return strcmp(((const sumrow *)a)->mod, ((const sumrow *)b)->mod);
}

static void progress_cb(void *ctx, uint64_t done, uint64_t total)
{
    rw_progress *p = ctx;
    p->total = total ? total : 1;
    rw_progress_update(p, done);
}

int rw_cmd_coverage(int argc, char **argv)
{
    int count = 0, summary = 0, missing = 0, listfuncs = 0, trackcalls = 0;
    const char *coverdir = NULL, *lcov = NULL, *from_s = NULL, *to_s = NULL, *trace = NULL;
    const char *test = NULL;
    int sandbox = 1;
    strlist mods = {0}, dirs = {0}, syspath = {0};
    int status = RW_EXIT_FAIL;
    rw_reader *r = NULL;
    rw_cov *cov = NULL;
    uint8_t *report = NULL;
    rw_err err = {0};

    rw_opt_list mods_arg = {0}, dirs_arg = {0};
    const rw_opt opts[] = {
        {.short_name = 'c', .long_name = "count", .kind = RW_OPT_FLAG, .dst = &count},
        {.short_name = 'C', .long_name = "coverdir", .kind = RW_OPT_STR, .dst = &coverdir,
         .what = "a directory"},
        {.short_name = 's', .long_name = "summary", .kind = RW_OPT_FLAG, .dst = &summary},
        {.short_name = 'm', .long_name = "missing", .kind = RW_OPT_FLAG, .dst = &missing},
        {.short_name = 'l', .long_name = "listfuncs", .kind = RW_OPT_FLAG, .dst = &listfuncs},
        {.short_name = 'T', .long_name = "trackcalls", .kind = RW_OPT_FLAG, .dst = &trackcalls},
        {.long_name = "ignore-module", .kind = RW_OPT_LIST, .dst = &mods_arg,
         .what = "module names (MOD,...)"},
        {.long_name = "ignore-dir", .kind = RW_OPT_LIST, .dst = &dirs_arg,
         .what = "directories (DIR:...)"},
        {.long_name = "lcov", .kind = RW_OPT_STR, .dst = &lcov, .what = "a file name"},
        {.long_name = "from", .kind = RW_OPT_POS, .dst = &from_s},
        {.long_name = "to", .kind = RW_OPT_POS, .dst = &to_s},
        {.long_name = "test", .kind = RW_OPT_NONEMPTY, .dst = &test, .what = "a test NAME"},
        {.long_name = "no-sandbox", .kind = RW_OPT_CLEAR, .dst = &sandbox},
    };
    static const char *const argnames[] = {"the trace FILE"};
    rw_cmdline cl = {.cmd = CMD, .usage_text = usage_text, .opts = opts,
                     .nopts = sizeof opts / sizeof opts[0], .args = &trace, .maxargs = 1,
                     .argnames = argnames, .nrequired = 1};
    int go = rw_opts_parse(&cl, argc, argv);
    rw_engine_set_sandbox(sandbox);
    for (size_t i = 0; go == RW_OPTS_GO && i < mods_arg.n; i++)
        if (strlist_split(&mods, mods_arg.v[i], ',') < 0)
            go = -2;
    for (size_t i = 0; go == RW_OPTS_GO && i < dirs_arg.n; i++) {
        size_t before = dirs.n;
        if (strlist_split(&dirs, dirs_arg.v[i], ':') < 0)
            go = -2;
        for (size_t k = before; go == RW_OPTS_GO && k < dirs.n; k++) {
            /* trace's _Ignore keeps os.path.normpath of each directory. */
            char *n = rw_path_normpath(dirs.v[k]);
            if (!n) {
                go = -2;
                break;
            }
            free(dirs.v[k]);
            dirs.v[k] = n;
        }
    }
    rw_opt_list_free(&mods_arg);
    rw_opt_list_free(&dirs_arg);
    if (go == -2)
        goto oom;
    if (go != RW_OPTS_GO) {
        status = go;
        goto out;
    }
    if (test && (from_s || to_s)) {
        status = rw_opts_usage(CMD, "--test cannot be combined with --from or --to");
        goto out;
    }
    if (!count && !summary && !listfuncs && !trackcalls && !lcov)
        summary = 1;
    if (rw_cli_open_trace(CMD, trace, &r, &err) != RW_OK) {
        status = rw_cli_fail(CMD, &err);
        goto out;
    }
    uint64_t from = 0, to = rw_reader_nevents(r);
    if ((from_s && (status = rw_opts_position(CMD, r, "--from", from_s, &from))) ||
        (to_s && (status = rw_opts_position(CMD, r, "--to", to_s, &to))))
        goto out;
    if ((!from_s || !to_s) && !test) {
        /* trace's window: from the program's code's start (after python3 compiled the
         * script, or runpy imported a -m module's package: trace's _get_module_details
         * runs before its settrace), @main-start, to its return, before atexit handlers
         * and finalisation, @main-end. @start when the code never ran or --to is before
         * it; @end when --from is past its return. */
        uint64_t main_start = 0, main_end = to;
        if (rw_pos_main_range(r, &main_start, to_s ? NULL : &main_end, &err) != RW_OK) {
            /* a damaged trace: said as every reader says it, no option to name */
            status = rw_cli_fail(CMD, &err);
            goto out;
        }
        if (!from_s && main_start < rw_reader_nevents(r) && main_start <= to)
            from = main_start;
        if (!to_s && from < main_end)
            to = main_end;
    }
    if ((status = rw_opts_window(CMD, from, to)))
        goto out;
    if (test) { /* the test's range (cli/cmd_tests.c) */
        rw_cli_test t;
        if ((status = rw_cli_test_lookup(CMD, trace, r, test, &t)))
            goto out;
        from = t.first;
        to = t.last + 1;
    }
    status = RW_EXIT_FAIL;
    rw_progress prog;
    rw_progress_init(&prog, "coverage", to - from);
    rw_cov_opts o = {.from = from, .to = to, .callers = trackcalls, .progress = progress_cb,
                     .progress_ctx = &prog};
    rw_code rc = rw_cov_collect(r, &o, &cov, &err);
    rw_progress_done(&prog);
    if (rc != RW_OK) {
        status = rw_cli_fail(CMD, &err);
        goto out;
    }
    if ((listfuncs && print_listfuncs(r, cov) < 0) ||
        (trackcalls && print_trackcalls(r, cov) < 0))
        goto oom;

    const rw_cov_file *files;
    size_t nfiles;
    if (rw_cov_files(cov, &files, &nfiles, &err) != RW_OK) {
        status = rw_cli_fail(CMD, &err);
        goto out;
    }
    if (build_syspath(r, &syspath) < 0)
        goto oom;
    report = calloc(nfiles ? nfiles : 1, 1);
    sumrow *rows = calloc(nfiles ? nfiles : 1, sizeof *rows);
    if (!report || !rows) {
        free(rows);
        goto oom;
    }
    const rw_defs *d = rw_reader_defs(r);
    size_t nrows = 0;
    int failed = 0, warned = 0;
    for (size_t k = 0; k < nfiles; k++) {
        const rw_cov_file *cf = &files[k];
        size_t pl = strlen(cf->path);
        char mod[512];
        rw_cov_modname(cf->path, mod, sizeof mod);
        if ((pl >= 2 && cf->path[0] == '<' && cf->path[pl - 1] == '>') ||
            rw_cov_ignored(cf->path, mod, (const char *const *)mods.v, mods.n,
                           (const char *const *)dirs.v, dirs.n))
            continue;
        report[k] = 1;
        if (!count && !summary)
            continue;
        const char *src;
        size_t srclen;
        if (!rw_source_text_of_file(d, cf->file, &src, &srclen)) {
            fprintf(stderr, "rewind coverage: %s: its source is not in the trace: no report\n",
                    cf->path);
            continue;
        }
        if (missing && !cf->has_lines && !warned++)
            fprintf(stderr, "rewind coverage: %s: the trace has no line starts for its code: "
                            "lines never run are not marked\n", cf->path);
        char path[PATH_MAX], dir[PATH_MAX], cover[PATH_MAX + 600];
        snprintf(path, sizeof path, "%s", cf->path);
        if (pl > 4 && !strcmp(path + pl - 4, ".pyc"))
            path[pl - 1] = 0;
        if (coverdir) {
            snprintf(dir, sizeof dir, "%s", coverdir);
            rw_cov_fullmodname(path, (const char *const *)syspath.v, syspath.n, mod,
                               sizeof mod);
        } else {
            snprintf(dir, sizeof dir, "%s", path);
            char *slash = strrchr(dir, '/');
            if (slash)
                *slash = 0;
            else
                snprintf(dir, sizeof dir, ".");
            rw_cov_modname(path, mod, sizeof mod);
        }
        FILE *out;
        if (count) {
            if (coverdir && mkdirs(dir) < 0) {
                fprintf(stderr, "rewind coverage: cannot create %s: %s\n", dir,
                        strerror(errno));
                failed = 1;
                break;
            }
            snprintf(cover, sizeof cover, "%s/%s.cover", dir, mod);
            out = fopen(cover, "w");
        } else {
            snprintf(cover, sizeof cover, "/dev/null");
            out = fopen(cover, "w");
        }
        if (!out) {
            fprintf(stderr, "rewind coverage: cannot write %s: %s: skipped (use --coverdir)\n",
                    cover, strerror(errno));
            failed = 1;
            continue;
        }
        size_t n_hits, n_lines;
        int wr = rw_cov_write_cover(out, src, srclen, cf->hits, cf->exec, cf->nlines, missing,
                                    &n_hits, &n_lines);
        if (fclose(out) != 0 || wr < 0) {
            fprintf(stderr, "rewind coverage: cannot write %s: %s\n", cover, strerror(errno));
            failed = 1;
        }
        if (summary && n_lines) {
            /* trace keeps one row per module name: the last file of that name wins. */
            size_t j;
            for (j = 0; j < nrows && strcmp(rows[j].mod, mod); j++)
                ;
            if (j == nrows)
                nrows++;
            snprintf(rows[j].mod, sizeof rows[j].mod, "%s", mod);
            rows[j].n_lines = n_lines;
            rows[j].percent = (int)(100 * n_hits / n_lines);
            rows[j].path = cf->path;
        }
    }
    if (summary && nrows) {
        qsort(rows, nrows, sizeof *rows, sumrow_cmp);
        printf("lines   cov%%   module   (path)\n");
        for (size_t j = 0; j < nrows; j++)
            printf("%5zu   %3d%%   %s   (%s)\n", rows[j].n_lines, rows[j].percent, rows[j].mod,
                   rows[j].path);
    }
    free(rows);
    if (lcov) {
        rw_err lerr;
        if (rw_lcov_write(r, cov, files, report, nfiles, lcov, &lerr) != RW_OK) {
            fprintf(stderr, "rewind coverage: %s\n", lerr.msg);
            failed = 1;
        }
    }
    if (fflush(stdout) != 0)
        failed = 1;
    status = failed ? RW_EXIT_FAIL : RW_EXIT_OK;
    goto out;
oom:
    fprintf(stderr, "rewind coverage: out of memory\n");
    status = RW_EXIT_FAIL;
out:
    free(report);
    rw_cov_free(cov);
    rw_reader_free(r);
    strlist_free(&mods);
    strlist_free(&dirs);
    strlist_free(&syspath);
    return status;
}
