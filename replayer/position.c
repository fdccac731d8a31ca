/* Position specs (position.h). */
#include "position.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addrmap.h"
#include "nav.h"
#include "records.h"
#include "scan.h"

#define SPELLINGS                                                                           \
    "an event number, @start, @end, @main-start, @main-end, @exception, @peak, @crash, a " \
    "time such as 1.5s or 250ms, or FILE:LINE"

/* Runs fn over every record of the trace, in order; stops when fn returns != 0. */
typedef int (*visit_fn)(void *ctx, const rw_event *ev);

static rw_code visit(const rw_reader *r, visit_fn fn, void *ctx, rw_err *err)
{
    rw_scan_opts so;
    rw_scan_opts_default(&so);
    rw_scan *s;
    RW_TRY(rw_scan_open(r, &so, &s, err));
    rw_event ev;
    int rc;
    while ((rc = rw_scan_next(s, &ev, err)) == 1)
        if (fn(ctx, &ev))
            break;
    rw_scan_close(s);
    return rc < 0 ? err->code : RW_OK;
}

typedef struct peak_ctx {
    rw_addrmap live;
    uint64_t cur, best, best_pos;
    int oom;
} peak_ctx;

static int peak_visit(void *p, const rw_event *ev)
{
    peak_ctx *c = p;
    if (RW_IS_ALLOC(ev->kind)) {
        rw_addrmap_ent old;
        if (rw_addrmap_put(&c->live, ev->addr, ev->size, 0, &old) < 0) {
            c->oom = 1;
            return 1;
        }
        if (old.addr)
            c->cur -= old.size;
        c->cur += ev->size;
        if (c->cur > c->best) {
            c->best = c->cur;
            c->best_pos = ev->pos;
        }
    } else if (RW_IS_FREE(ev->kind)) {
        rw_addrmap_ent old;
        if (rw_addrmap_del(&c->live, ev->addr, &old))
            c->cur -= old.size;
    }
    return 0;
}

rw_code rw_pos_peak(const rw_reader *r, uint64_t *pos, uint64_t *bytes, rw_err *err)
{
    peak_ctx c;
    memset(&c, 0, sizeof c);
    if (rw_addrmap_init(&c.live) < 0)
        return rw_err_set(err, RW_ENOMEM, "out of memory finding the memory peak");
    rw_code rc = visit(r, peak_visit, &c, err);
    rw_addrmap_fini(&c.live);
    if (rc != RW_OK)
        return rc;
    if (c.oom)
        return rw_err_set(err, RW_ENOMEM, "out of memory finding the memory peak");
    *pos = c.best_pos;
    if (bytes)
        *bytes = c.best;
    return RW_OK;
}

typedef struct find_ctx {
    int kind;             /* record kind to find, -1 = any event */
    uint64_t min_tick;    /* events: tick >= this */
    uint32_t line;
    const uint8_t *codes; /* code ids whose file matches (FILE:LINE) */
    uint32_t ncodes;
    int found;
    uint64_t pos;
} find_ctx;

static int find_visit(void *p, const rw_event *ev)
{
    find_ctx *c = p;
    if (c->kind >= 0 && ev->kind != c->kind)
        return 0;
    if (c->kind < 0 && !RW_IS_EVENT(ev->kind))
        return 0;
    if (c->codes) {
        if (ev->line != c->line || ev->code > c->ncodes || !c->codes[ev->code])
            return 0;
    } else if (c->kind < 0 && ev->tick < c->min_tick) {
        return 0;
    }
    c->found = 1;
    c->pos = ev->pos;
    return 1;
}

/* Does path name the file spec: equal, or ending in "/" + spec? */
static int path_matches(const char *path, const char *spec)
{
    size_t lp = strlen(path), ls = strlen(spec);
    if (lp == ls)
        return strcmp(path, spec) == 0;
    return lp > ls && path[lp - ls - 1] == '/' && strcmp(path + lp - ls, spec) == 0;
}

static rw_code parse_time(const char *s, double *ns)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0)
        return RW_EINVAL;
    double mul;
    if (!strcmp(end, "s"))
        mul = 1e9;
    else if (!strcmp(end, "ms"))
        mul = 1e6;
    else if (!strcmp(end, "us"))
        mul = 1e3;
    else if (!strcmp(end, "ns"))
        mul = 1;
    else
        return RW_EINVAL;
    *ns = v * mul;
    return RW_OK;
}

rw_code rw_pos_parse(const rw_reader *r, const char *spec, uint64_t *pos, rw_err *err)
{
    uint64_t n = rw_reader_nevents(r);
    if (!spec || !*spec)
        return rw_err_set(err, RW_EINVAL, "empty position: use " SPELLINGS);
    if (isdigit((unsigned char)spec[0])) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(spec, &end, 10);
        if (!*end && !errno) {
            if (v > n)
                return rw_err_set(err, RW_ENOTFOUND,
                                  "position %llu is past the end (the trace has %llu events)",
                                  v, (unsigned long long)n);
            *pos = v;
            return RW_OK;
        }
        double ns;
        if (parse_time(spec, &ns) == RW_OK) {
            find_ctx c = {.kind = -1};
            rw_timebase tb = rw_reader_timebase(r);
            if (!(rw_timebase_ticks(&tb, ns) < 9.0e18)) /* also NaN; past any 56-bit tick */
                return rw_err_set(err, RW_ENOTFOUND, "time %s is past the end of the recording",
                                  spec);
            c.min_tick = rw_timebase_tick_at(&tb, ns);
            RW_TRY(visit(r, find_visit, &c, err));
            if (!c.found)
                return rw_err_set(err, RW_ENOTFOUND, "time %s is past the end of the recording",
                                  spec);
            *pos = c.pos;
            return RW_OK;
        }
        return rw_err_set(err, RW_EINVAL, "bad position '%s': use " SPELLINGS, spec);
    }
    if (!strcmp(spec, "@start")) {
        *pos = 0;
        return RW_OK;
    }
    if (!strcmp(spec, "@end")) {
        *pos = n;
        return RW_OK;
    }
    if (!strcmp(spec, "@main-start"))
        return rw_pos_main_start(r, pos, err);
    if (!strcmp(spec, "@main-end"))
        return rw_pos_main_end(r, pos, err);
    if (!strcmp(spec, "@peak"))
        return rw_pos_peak(r, pos, NULL, err);
    if (!strcmp(spec, "@crash")) {
        uint64_t at = 0;
        RW_TRY(rw_pos_crash(r, &at, NULL, err));
        *pos = at < n ? at : n;
        return RW_OK;
    }
    if (!strcmp(spec, "@exception")) {
        const Rewind__RunEnd *e = rw_reader_end(r);
        if (e && e->uncaught_type && e->uncaught_type[0] && e->uncaught_pos <= n) {
            *pos = e->uncaught_pos;
            return RW_OK;
        }
        find_ctx c = {.kind = RW_K_UNCAUGHT};
        RW_TRY(visit(r, find_visit, &c, err));
        if (!c.found)
            return rw_err_set(err, RW_ENOTFOUND,
                              "@exception: the run ended without an uncaught exception");
        *pos = c.pos;
        return RW_OK;
    }
    if (spec[0] == '@')
        return rw_err_set(err, RW_EINVAL, "unknown position '%s': use " SPELLINGS, spec);
    const char *colon = strrchr(spec, ':');
    if (colon && colon[1]) {
        char *end;
        unsigned long line = strtoul(colon + 1, &end, 10);
        if (*end || line == 0 || line > UINT32_MAX)
            return rw_err_set(err, RW_EINVAL, "bad line number in '%s'", spec);
        size_t flen = (size_t)(colon - spec);
        char *file = strndup(spec, flen);
        if (!file)
            return rw_err_set(err, RW_ENOMEM, "out of memory");
        const rw_defs *d = rw_reader_defs(r);
        uint8_t *codes = calloc(d->ncodes + 1, 1);
        if (!codes) {
            free(file);
            return rw_err_set(err, RW_ENOMEM, "out of memory");
        }
        int any = 0;
        for (uint32_t i = 1; i < d->ncodes; i++) {
            const char *path = rw_defs_code_path(d, i);
            if (path && path_matches(path, file))
                any = codes[i] = 1;
        }
        rw_code rc = RW_OK;
        if (!any) {
            rc = rw_err_set(err, RW_ENOTFOUND, "no code from a file named '%s' ran", file);
        } else {
            find_ctx c = {.kind = RW_K_LINE, .line = (uint32_t)line, .codes = codes,
                          .ncodes = d->ncodes};
            rc = visit(r, find_visit, &c, err);
            if (rc == RW_OK && !c.found)
                rc = rw_err_set(err, RW_ENOTFOUND, "line %lu of %s never ran", line, file);
            if (rc == RW_OK)
                *pos = c.pos;
        }
        free(codes);
        free(file);
        return rc;
    }
    return rw_err_set(err, RW_EINVAL, "bad position '%s': use " SPELLINGS, spec);
}

rw_code rw_pos_time_ns(const rw_reader *r, uint64_t pos, double *ns, rw_err *err)
{
    rw_timebase tb = rw_reader_timebase(r);
    if (pos >= rw_reader_nevents(r)) {
        const Rewind__RunEnd *e = rw_reader_end(r);
        uint64_t t = e && e->end_tick ? e->end_tick
                     : rw_reader_nchunks(r) ? rw_reader_chunk(r, rw_reader_nchunks(r) - 1)->last_tick
                                            : tb.start_tick;
        *ns = rw_timebase_ns(&tb, t);
        return RW_OK;
    }
    rw_scan_opts so;
    rw_scan_opts_default(&so);
    so.from = pos;
    rw_scan *c = NULL;
    rw_code rc = rw_scan_open(r, &so, &c, err);
    rw_event ev;
    if (rc == RW_OK) {
        int got = rw_scan_next(c, &ev, err);
        if (got < 0)
            rc = err->code;
        else if (got == 0)
            rc = rw_err_set(err, RW_ENOTFOUND, "position %llu not found",
                            (unsigned long long)pos);
        else
            *ns = rw_timebase_ns(&tb, ev.tick);
    }
    rw_scan_close(c);
    return rc;
}

rw_code rw_pos_crash(const rw_reader *r, uint64_t *pos, const Rewind__CrashReport **rep,
                     rw_err *err)
{
    size_t dumps = 0;
    for (size_t i = rw_reader_ncrashes(r); i > 0; i--) {
        uint64_t at;
        const Rewind__CrashReport *c = rw_reader_crash(r, i - 1, &at);
        if (c->kind == REWIND__CRASH_REPORT__KIND__FATAL_SIGNAL ||
            c->kind == REWIND__CRASH_REPORT__KIND__TIMEOUT ||
            c->kind == REWIND__CRASH_REPORT__KIND__TERMINATED) {
            *pos = at;
            if (rep)
                *rep = c;
            return RW_OK;
        }
        dumps++;
    }
    if (dumps)
        return rw_err_set(err, RW_ENOTFOUND,
                          "@crash: the run did not crash or time out: no crash record (it has "
                          "%zu stack dump%s: 'rewind info' shows them)", dumps, dumps == 1 ? "" : "s");
    return rw_err_set(err, RW_ENOTFOUND,
                      "@crash: the run did not crash or time out: no crash record");
}

/* ---- @main-end -------------------------------------------------------------------- */

typedef struct main_ctx {
    const rw_defs *d;
    const rw_scan *s;
    int module_mode;     /* run by -m: the main module is exec'd by runpy's _run_code */
    uint64_t call_pos;   /* the main module's CALL, UINT64_MAX before it is found */
    uint32_t depth;
} main_ctx;

static int code_is(const rw_defs *d, uint32_t code, const char *name)
{
    const Rewind__CodeDef *cd = rw_defs_code(d, code);
    return cd && cd->name && !strcmp(cd->name, name);
}

static int main_visit(void *p, const rw_event *ev)
{
    main_ctx *c = p;
    if (c->call_pos == UINT64_MAX) {
        if (ev->kind != RW_K_CALL || !code_is(c->d, ev->code, "<module>"))
            return 0;
        if (c->module_mode) {
            /* The Python frame under it (C frames such as exec() skipped) must be
             * runpy's _run_code. */
            const rw_stack *st = rw_scan_stack(c->s, ev->thread);
            int ok = 0;
            for (uint32_t i = st ? st->depth - 1 : 0; st && i-- > 0;) {
                if (st->frames[i].is_c)
                    continue;
                const char *path = rw_defs_code_path(c->d, st->frames[i].code);
                ok = code_is(c->d, st->frames[i].code, "_run_code") && path &&
                     (path_matches(path, "runpy.py") || !strcmp(path, "<frozen runpy>"));
                break;
            }
            if (!ok)
                return 0;
        } else if (ev->depth != 1) {
            return 0;
        }
        c->call_pos = ev->pos;
        c->depth = ev->depth;
        return 1;
    }
    return 0;
}

/* The main module's CALL (c->call_pos, UINT64_MAX when it never ran). */
static rw_code find_main_call(const rw_reader *r, main_ctx *c, rw_err *err)
{
    const Rewind__Metadata *md = rw_reader_metadata(r);
    *c = (main_ctx){.d = rw_reader_defs(r), .call_pos = UINT64_MAX};
    c->module_mode = md && md->run_kind && !strcmp(md->run_kind, "module");
    rw_scan_opts so;
    rw_scan_opts_default(&so);
    so.thread = 1; /* the main thread: the first ThreadDef */
    so.decode = RW_DECODE_SKIP_ALLOCS;
    rw_scan *s;
    RW_TRY(rw_scan_open(r, &so, &s, err));
    c->s = s;
    rw_event ev;
    int rc;
    while ((rc = rw_scan_next(s, &ev, err)) == 1)
        if (main_visit(c, &ev))
            break;
    rw_scan_close(s);
    return rc < 0 ? err->code : RW_OK;
}

rw_code rw_pos_main_range(const rw_reader *r, uint64_t *start, uint64_t *end, rw_err *err)
{
    main_ctx c;
    RW_TRY(find_main_call(r, &c, err));
    uint64_t n = rw_reader_nevents(r);
    if (start)
        *start = c.call_pos == UINT64_MAX ? n : c.call_pos;
    if (!end)
        return RW_OK;
    /* A main module that never returned (os._exit, a crash, a trace cut short) ends
     * with the run. Its return is found over the chunks' keyframes (rw_nav_frame_return:
     * a few keyframes and one chunk), not by decoding the run to it, which doubled the
     * time of coverage and memory, whose default window ends there. */
    *end = n;
    if (c.call_pos == UINT64_MAX)
        return RW_OK;
    rw_nav *nav;
    RW_TRY(rw_nav_new(r, &nav, err));
    uint64_t found;
    rw_err e = {0};
    rw_code nc = rw_nav_frame_return(nav, c.call_pos, 1, c.call_pos, &found, &e);
    rw_nav_free(nav);
    if (nc == RW_OK)
        *end = found;
    else if (nc != RW_ENOTFOUND) {
        *err = e;
        return rw_scan_explain_damage(r, err); /* the words every reader uses */
    }
    return RW_OK;
}

rw_code rw_pos_main_start(const rw_reader *r, uint64_t *pos, rw_err *err)
{
    return rw_pos_main_range(r, pos, NULL, err);
}

rw_code rw_pos_main_end(const rw_reader *r, uint64_t *pos, rw_err *err)
{
    return rw_pos_main_range(r, NULL, pos, err);
}
