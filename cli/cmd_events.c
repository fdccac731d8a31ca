/* rewind events FILE [--from POS] [--to POS] [--thread N] [--kinds K,...] [--json]:
 * prints the recorded records in order, one per line, as text or JSON lines. */
#include "commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "reader.h"
#include "scan.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rewind events [options] FILE\n\n"
            "Print the recorded records in order, one per line: events (call, line, return,\n"
            "exception, c_call, c_return, c_exception), which are numbered, and the\n"
            "annotations between them (alloc_*, free_*, thread, audit, uncaught), which\n"
            "carry the number of the next event.\n\n"
            "options:\n"
            "  --from POS      start at event POS (default 0)\n"
            "  --to POS        stop after event POS (inclusive; default: the end)\n"
            "  --thread N      only records of thread N (the t<N> of the output)\n"
            "  --kinds K,...   only these kinds: call,line,return,exception,c_call,\n"
            "                  c_return,c_exception,alloc_raw,alloc_mem,alloc_obj,\n"
            "                  free_raw,free_mem,free_obj,thread,audit,uncaught\n"
            "  --json          JSON lines with keys pos, kind, thread, file, func, qualname,\n"
            "                  line, depth, tick, size, addr, name, text (null when a key\n"
            "                  does not apply to the kind)\n"
            "  -h, --help      show this help\n\n"
            "text format: POS KIND tTHREAD FILE:LINE FUNC [details]\n");
}

/* ---- options -------------------------------------------------------------------- */

typedef struct opts {
    const char *path;
    uint64_t from, to;
    int has_to;
    uint32_t thread;   /* 0 = all */
    int json;
    uint8_t kinds[RW_KIND_MAX]; /* kinds[k]: print kind k */
} opts;

static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_kinds(const char *list, uint8_t *kinds)
{
    memset(kinds, 0, RW_KIND_MAX);
    const char *p = list;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        int found = -1;
        for (int k = 0; k < RW_KIND_MAX && n; k++) {
            const char *name = rw_kind_name(k);
            if (k != RW_K_BLOB && strcmp(name, "?") && strlen(name) == n && !strncmp(name, p, n))
                found = k;
        }
        if (found < 0) {
            fprintf(stderr, "rewind events: unknown kind '%.*s' in --kinds: see 'rewind "
                            "events --help'\n",
                    (int)n, p);
            return -1;
        }
        kinds[found] = 1;
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* Returns -1 (message printed) on a bad command line, 1 for --help, 0 otherwise. */
static int parse_args(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    memset(o->kinds, 1, sizeof o->kinds);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return 1;
        if (!strcmp(a, "--json")) {
            o->json = 1;
            continue;
        }
        if (!strcmp(a, "--from") || !strcmp(a, "--to") || !strcmp(a, "--thread") ||
            !strcmp(a, "--kinds")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "rewind events: %s needs a value\n", a);
                return -1;
            }
            val = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "rewind events: unknown option '%s': see 'rewind events --help'\n",
                    a);
            return -1;
        } else {
            if (o->path) {
                fprintf(stderr, "rewind events: one FILE only ('%s' is extra)\n", a);
                return -1;
            }
            o->path = a;
            continue;
        }
        uint64_t v = 0;
        if (!strcmp(a, "--kinds")) {
            if (parse_kinds(val, o->kinds) < 0)
                return -1;
            continue;
        }
        if (parse_u64(val, &v) < 0) {
            fprintf(stderr, "rewind events: %s wants a number, not '%s'\n", a, val);
            return -1;
        }
        if (!strcmp(a, "--from")) {
            o->from = v;
        } else if (!strcmp(a, "--to")) {
            o->to = v;
            o->has_to = 1;
        } else {
            if (v == 0 || v > UINT32_MAX) {
                fprintf(stderr, "rewind events: --thread wants a thread number (1, 2, ...)\n");
                return -1;
            }
            o->thread = (uint32_t)v;
        }
    }
    if (!o->path) {
        fprintf(stderr, "rewind events: which trace? usage: rewind events [options] FILE\n");
        return -1;
    }
    if (o->has_to && o->to < o->from) {
        fprintf(stderr, "rewind events: --to %llu is before --from %llu\n",
                (unsigned long long)o->to, (unsigned long long)o->from);
        return -1;
    }
    return 0;
}

/* ---- printing ------------------------------------------------------------------- */

/* Where a record happened: its Python code and line. For C_* records the event's
 * code is the C function; the Python caller is the top Python frame of the stack. */
typedef struct where {
    const Rewind__CodeDef *code;    /* NULL when unknown */
    const Rewind__FileDef *file;
    uint32_t line;
    const Rewind__CFuncDef *cfunc;  /* C_* only */
} where;

static where locate(const rw_defs *d, const rw_scan *c, const rw_event *ev)
{
    where w = {NULL, NULL, 0, NULL};
    uint32_t code = ev->code, line = ev->line;
    if (ev->kind == RW_K_C_CALL || ev->kind == RW_K_C_RETURN || ev->kind == RW_K_C_EXCEPTION) {
        w.cfunc = ev->code < d->ncfuncs && ev->code ? d->cfuncs[ev->code] : NULL;
        code = line = 0;
        const rw_stack *st = rw_scan_stack(c, ev->thread);
        for (uint32_t i = st ? st->depth : 0; i-- > 0;) {
            if (!st->frames[i].is_c) {
                code = st->frames[i].code;
                line = st->frames[i].line;
                break;
            }
        }
    }
    if (code && code < d->ncodes) {
        w.code = d->codes[code];
        w.file = d->files[w.code->file];
        w.line = line;
    }
    return w;
}

static const char *name_text(const rw_defs *d, uint32_t id)
{
    return id && id < d->nnames ? d->names[id]->text : "?";
}

static void print_text(FILE *out, const rw_defs *d, const rw_event *ev, const where *w)
{
    fprintf(out, "%7llu %-9s t%u", (unsigned long long)ev->pos, rw_kind_name(ev->kind),
            ev->thread);
    if (w->code)
        fprintf(out, " %s:%u %s", w->file->path[0] ? w->file->path : "<unknown>", w->line,
                w->code->name);
    else if (ev->kind != RW_K_THREAD)
        fprintf(out, " -");
    switch (ev->kind) {
    case RW_K_C_CALL:
    case RW_K_C_RETURN:
    case RW_K_C_EXCEPTION:
        fprintf(out, " %s", w->cfunc ? w->cfunc->label : "<unknown C function>");
        break;
    case RW_K_EXCEPTION:
    case RW_K_UNCAUGHT:
        fprintf(out, " %s: %.*s", name_text(d, ev->name), (int)ev->text_len, ev->text);
        break;
    case RW_K_AUDIT:
        fprintf(out, " %s %.*s", name_text(d, ev->name), (int)ev->text_len, ev->text);
        break;
    case RW_K_ALLOC_RAW:
    case RW_K_ALLOC_MEM:
    case RW_K_ALLOC_OBJ:
        fprintf(out, " %llu bytes at %#llx", (unsigned long long)ev->size,
                (unsigned long long)ev->addr);
        break;
    case RW_K_FREE_RAW:
    case RW_K_FREE_MEM:
    case RW_K_FREE_OBJ:
        fprintf(out, " %#llx", (unsigned long long)ev->addr);
        break;
    case RW_K_THREAD: {
        const char *name = ev->name < d->nthreads ? d->threads[ev->name]->name : "";
        fprintf(out, " now running%s%s", name[0] ? " " : "", name);
        break;
    }
    default:
        break;
    }
    fputc('\n', out);
}

static void print_json(FILE *out, const rw_defs *d, const rw_event *ev, const where *w)
{
    fprintf(out, "{\"pos\": %llu, \"kind\": \"%s\", \"thread\": %u, \"file\": ",
            (unsigned long long)ev->pos, rw_kind_name(ev->kind), ev->thread);
    rw_json_str(out, w->file ? w->file->path : NULL);
    fprintf(out, ", \"func\": ");
    if (w->cfunc)
        rw_json_str(out, w->cfunc->label);
    else
        rw_json_str(out, w->code ? w->code->name : NULL);
    fprintf(out, ", \"qualname\": ");
    if (w->cfunc)
        rw_json_str(out, w->cfunc->name);
    else
        rw_json_str(out, w->code ? w->code->qualname : NULL);
    fprintf(out, ", \"line\": ");
    if (w->code)
        fprintf(out, "%u", w->line);
    else
        fputs("null", out);
    fprintf(out, ", \"depth\": %u, \"tick\": %llu, \"size\": ", ev->depth,
            (unsigned long long)ev->tick);
    if (RW_IS_ALLOC(ev->kind))
        fprintf(out, "%llu", (unsigned long long)ev->size);
    else
        fputs("null", out);
    fprintf(out, ", \"addr\": ");
    if (RW_IS_ALLOC(ev->kind) || RW_IS_FREE(ev->kind))
        fprintf(out, "%llu", (unsigned long long)ev->addr);
    else
        fputs("null", out);
    fprintf(out, ", \"name\": ");
    if (RW_HAS_TEXT(ev->kind))
        rw_json_str(out, name_text(d, ev->name));
    else if (ev->kind == RW_K_THREAD && ev->name < d->nthreads)
        rw_json_str(out, d->threads[ev->name]->name);
    else
        fputs("null", out);
    fprintf(out, ", \"text\": ");
    if (RW_HAS_TEXT(ev->kind))
        rw_json_strn(out, ev->text ? ev->text : "", ev->text ? ev->text_len : 0);
    else
        fputs("null", out);
    fputs("}\n", out);
}

int rw_cmd_events(int argc, char **argv)
{
    opts o;
    int prc = parse_args(argc, argv, &o);
    if (prc > 0) {
        usage(stdout);
        return RW_EXIT_OK;
    }
    if (prc < 0)
        return RW_EXIT_USAGE;

    rw_reader *r = NULL;
    rw_err err = {0};
    if (rw_reader_open(o.path, &r, &err) != RW_OK)
        return rw_cli_fail("events", &err);
    const rw_recovery *rec = rw_reader_recovery(r);
    if (rec->used)
        fprintf(stderr, "rewind events: %s is damaged: showing the first %llu events (%s)\n",
                o.path, (unsigned long long)rec->events, rec->why);
    uint64_t nev = rw_reader_nevents(r);
    if (o.from > nev) {
        fprintf(stderr, "rewind events: --from %llu is past the end (the trace has %llu events)\n",
                (unsigned long long)o.from, (unsigned long long)nev);
        rw_reader_free(r);
        return RW_EXIT_USAGE;
    }

    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    const rw_defs *d = rw_reader_defs(r);
    /* --to is inclusive; without it the annotations after the last event come too. */
    rw_scan_opts so = {
        .from = o.from,
        .to = o.has_to && o.to < UINT64_MAX ? o.to + 1 : UINT64_MAX,
        .thread = o.thread,
    };
    rw_scan *c = NULL;
    int status = RW_EXIT_OK;
    if (rw_scan_open(r, &so, &c, &err) != RW_OK) {
        status = rw_cli_fail("events", &err);
    } else {
        rw_event ev;
        int rc;
        while ((rc = rw_scan_next(c, &ev, &err)) == 1) {
            if (!o.kinds[ev.kind])
                continue;
            where w = locate(d, c, &ev);
            if (o.json)
                print_json(stdout, d, &ev, &w);
            else
                print_text(stdout, d, &ev, &w);
        }
        if (rc < 0) {
            fflush(stdout);
            status = rw_cli_fail("events", &err);
        }
    }
    rw_scan_close(c);
    rw_reader_free(r);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "rewind events: error writing the output\n");
        status = RW_EXIT_FAIL;
    }
    return status;
}
