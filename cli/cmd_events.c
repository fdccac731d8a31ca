/* rewind events FILE [--from POS] [--to POS] [--thread N] [--kinds K,...] [--json]:
 * prints the recorded records in order, one per line, as text or JSON lines. */
#include "commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "term.h"
#include "reader.h"
#include "scan.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rewind events [options] FILE\n\n"
            "Print the recorded records in order, one per line: events (call, line, return,\n"
            "exception, c_call, c_return, c_exception), which are numbered, and the\n"
            "annotations between them (alloc_*, free_*, thread, audit, uncaught, gen,\n"
            "startup_reuse, drop), which carry the number of the next event.\n\n"
            "options:\n"
            "  --from POS      start at event POS (default 0)\n"
            "  --to POS        stop after event POS (inclusive; default: the end)\n"
            "  --thread N      only records of thread N (the t<N> of the output)\n"
            "  --kinds K,...   only these kinds: call,line,return,exception,c_call,\n"
            "                  c_return,c_exception,alloc_raw,alloc_mem,alloc_obj,\n"
            "                  free_raw,free_mem,free_obj,thread,audit,uncaught,gen,\n"
            "                  startup_reuse,drop\n"
            "  --json          JSON lines with keys pos, kind, thread, file, func, qualname,\n"
            "                  line, depth, tick, size, addr, name, text (null when a key\n"
            "                  does not apply to the kind)\n"
            "  -h, --help      show this help\n\n"
            "text format: POS KIND tTHREAD FILE:LINE FUNC [details]\n");
}

/* ---- options -------------------------------------------------------------------- */

typedef struct opts {
    const char *path;
    unsigned long long from, to;
    int has_to;
    uint32_t thread;   /* 0 = all */
    int json;
    uint8_t kinds[RW_KIND_MAX]; /* kinds[k]: print kind k */
} opts;

/* --kinds K,...: RW_OPT_CALL into opts.kinds. */
static int parse_kinds(void *dst, const char *list, char *why, size_t cap)
{
    uint8_t *kinds = dst;
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
            snprintf(why, cap, "unknown kind '%.*s'", (int)n, p);
            return -1;
        }
        kinds[found] = 1;
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* Returns RW_OPTS_GO or the exit status (message printed). */
static int parse_args(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    memset(o->kinds, 1, sizeof o->kinds);
    unsigned long long thread = 0;
    const rw_opt table[] = {
        {.long_name = "from", .kind = RW_OPT_UINT, .dst = &o->from, .what = "an event number",
         .max = UINT64_MAX},
        {.long_name = "to", .kind = RW_OPT_UINT, .dst = &o->to, .what = "an event number",
         .max = UINT64_MAX, .seen = &o->has_to},
        {.long_name = "thread", .kind = RW_OPT_UINT, .dst = &thread,
         .what = "a thread number (1, 2, ...)", .min = 1, .max = UINT32_MAX},
        {.long_name = "kinds", .kind = RW_OPT_CALL, .dst = o->kinds, .call = parse_kinds,
         .what = "kinds such as call,line,return"},
        {.long_name = "json", .kind = RW_OPT_FLAG, .dst = &o->json},
    };
    static const char *const argnames[] = {"the trace FILE"};
    rw_cmdline cl = {.cmd = "events", .usage = usage, .opts = table,
                     .nopts = sizeof table / sizeof table[0], .args = &o->path, .maxargs = 1,
                     .argnames = argnames, .nrequired = 1};
    int go = rw_opts_parse(&cl, argc, argv);
    if (go != RW_OPTS_GO)
        return go;
    o->thread = (uint32_t)thread;
    if (o->has_to && o->to < o->from)
        return rw_opts_usage("events", "--to %llu is before --from %llu", o->to, o->from);
    return RW_OPTS_GO;
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
        w.cfunc = ev->code ? rw_defs_cfunc(d, ev->code) : NULL;
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
    if (code && (w.code = rw_defs_code(d, code))) {
        w.file = rw_defs_file(d, w.code->file);
        if (!w.file)
            w.file = rw_defs_file(d, 0); /* a file past the table: the empty placeholder */
        w.line = line;
    }
    return w;
}

static const char *name_text(const rw_defs *d, uint32_t id)
{
    const Rewind__NameDef *n = id ? rw_defs_name(d, id) : NULL;
    return n ? n->text : "?";
}

/* The name a THREAD record's thread was defined with, NULL past the table. */
static const char *thread_def_name(const rw_defs *d, uint32_t id)
{
    const Rewind__ThreadDef *t = rw_defs_thread(d, id);
    return t ? t->name : NULL;
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
    case RW_K_GEN:
        fprintf(out, " frame %#llx", (unsigned long long)ev->addr);
        break;
    case RW_K_DROP: { /* the spot: co_firstlineno << 32 | (instruction index + 1) */
        uint64_t index = ev->addr & 0xffffffffu;
        fprintf(out, " let the GIL go at a check: offset %llu of the code from line %llu",
                (unsigned long long)(index ? 2 * (index - 1) : 0), /* bytes, as dis shows */
                (unsigned long long)(ev->addr >> 32));
        break;
    }
    case RW_K_THREAD: {
        const char *name = thread_def_name(d, ev->name);
        name = name ? name : "";
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
    if (RW_IS_ALLOC(ev->kind) || RW_IS_FREE(ev->kind) || ev->kind == RW_K_GEN ||
        ev->kind == RW_K_DROP)
        fprintf(out, "%llu", (unsigned long long)ev->addr);
    else
        fputs("null", out);
    fprintf(out, ", \"name\": ");
    if (RW_HAS_TEXT(ev->kind))
        rw_json_str(out, name_text(d, ev->name));
    else if (ev->kind == RW_K_THREAD && thread_def_name(d, ev->name))
        rw_json_str(out, thread_def_name(d, ev->name));
    else
        fputs("null", out);
    fprintf(out, ", \"text\": ");
    if (RW_HAS_TEXT(ev->kind))
        rw_json_strn(out, ev->text ? ev->text : "", ev->text ? ev->text_len : 0);
    else
        fputs("null", out);
    fputs("}\n", out);
}

void rw_cli_print_event(FILE *out, const rw_defs *d, const struct rw_scan *c,
                        const rw_event *ev, int json)
{
    where w = locate(d, c, ev);
    if (json)
        print_json(out, d, ev, &w);
    else
        print_text(out, d, ev, &w);
}

int rw_cmd_events(int argc, char **argv)
{
    opts o;
    int prc = parse_args(argc, argv, &o);
    if (prc != RW_OPTS_GO)
        return prc;
    if (o.json)
        rw_term_stdout_unfiltered(); /* escaped by json.h, byte for byte (term.h) */

    rw_reader *r = NULL;
    rw_err err = {0};
    if (rw_cli_open_trace("events", o.path, &r, &err) != RW_OK)
        return rw_cli_fail("events", &err);
    uint64_t nev = rw_reader_nevents(r);
    if (o.from > nev) {
        fprintf(stderr, "rewind events: --from %llu is past the end (the trace has %llu events)\n",
                (unsigned long long)o.from, (unsigned long long)nev);
        rw_reader_free(r);
        return RW_EXIT_FAIL; /* a position this trace does not have */
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
