/* timeit from a trace (timeit.h): one pass over the RETURN events, each of which the
 * decoder pairs with its CALL (call_pos, call_tick). The target is a byte map by
 * CodeDef id, so the pass does no lookup per event. */
#include "timeit.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"
#include "scan.h"

#define CO_GENERATOR 0x0020
#define CO_COROUTINE 0x0080
#define CO_ASYNC_GENERATOR 0x0200

/* The path of cd's file ("" for file 0, as the placeholder has it), "?" for a file
 * past the table. */
static const char *file_of(const rw_defs *d, const Rewind__CodeDef *cd)
{
    const Rewind__FileDef *fd = rw_defs_file(d, cd->file);
    return fd && fd->path ? fd->path : "?";
}

/* path equals suffix, or ends with "/" + suffix. */
static int path_ends(const char *path, const char *suffix, size_t slen)
{
    size_t plen = strlen(path);
    if (plen < slen || memcmp(path + plen - slen, suffix, slen))
        return 0;
    return plen == slen || path[plen - slen - 1] == '/';
}

/* The dotted module a file path stands for ends with mod (at a dot boundary):
 * "pkg/m.py" is "...pkg.m", "pkg/__init__.py" is "...pkg". */
static int module_matches(const char *path, const char *mod, size_t mlen, const char *main_path)
{
    if (mlen == 8 && !memcmp(mod, "__main__", 8))
        return main_path && *main_path && path_ends(path, main_path, strlen(main_path));
    char buf[1024];
    size_t plen = strlen(path);
    if (plen >= sizeof buf)
        return 0;
    memcpy(buf, path, plen + 1);
    if (plen > 3 && !strcmp(buf + plen - 3, ".py"))
        buf[plen -= 3] = '\0';
    if (plen >= 9 && !strcmp(buf + plen - 9, "/__init__"))
        buf[plen -= 9] = '\0';
    for (size_t i = 0; i < plen; i++)
        if (buf[i] == '/')
            buf[i] = '.';
    if (plen < mlen || memcmp(buf + plen - mlen, mod, mlen))
        return 0;
    return plen == mlen || buf[plen - mlen - 1] == '.';
}

static int same_function(const rw_defs *d, const Rewind__CodeDef *a, const Rewind__CodeDef *b)
{
    return a->first_line == b->first_line && !strcmp(a->qualname ? a->qualname : "",
                                                     b->qualname ? b->qualname : "") &&
           !strcmp(file_of(d, a), file_of(d, b));
}

/* Does code definition cd match spec in the given spelling? */
static int matches(const rw_defs *d, const Rewind__CodeDef *cd, const char *spec, int how,
                   const char *main_path)
{
    const char *name = cd->name ? cd->name : "", *qual = cd->qualname ? cd->qualname : "";
    switch (how) {
    case 0: /* NAME or QUALNAME */
        return !strcmp(qual, spec) || !strcmp(name, spec);
    case 1: { /* FILE:NAME */
        const char *colon = strrchr(spec, ':');
        const char *fn = colon + 1;
        return (!strcmp(qual, fn) || !strcmp(name, fn)) &&
               path_ends(file_of(d, cd), spec, (size_t)(colon - spec));
    }
    default: { /* MODULE.QUALNAME */
        size_t sl = strlen(spec), ql = strlen(qual);
        if (ql + 1 >= sl || strcmp(spec + sl - ql, qual) || spec[sl - ql - 1] != '.')
            return 0;
        return module_matches(file_of(d, cd), spec, sl - ql - 1, main_path);
    }
    }
}

rw_code rw_timeit_find(const rw_reader *r, const char *spec, rw_timeit_target *t, rw_err *err)
{
    const rw_defs *d = rw_reader_defs(r);
    const Rewind__Metadata *m = rw_reader_metadata(r);
    const char *main_path = m && m->run_kind && !strcmp(m->run_kind, "script") ? m->run_target
                                                                               : NULL;
    if (!*spec)
        return rw_err_set(err, RW_EINVAL, "empty function name");
    uint32_t n = d->ncodes ? d->ncodes : 1;
    uint8_t *map = calloc(n, 1);
    if (!map)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    /* Spellings in order: FILE:NAME when there is a colon; else an exact name or
     * qualname, then MODULE.QUALNAME. */
    int hows[2], nhow = 0;
    if (strchr(spec, ':'))
        hows[nhow++] = 1;
    else {
        hows[nhow++] = 0;
        if (strchr(spec, '.'))
            hows[nhow++] = 2;
    }
    const Rewind__CodeDef *found[8];
    int nfound = 0, distinct = 0;
    for (int h = 0; h < nhow && !distinct; h++) {
        for (uint32_t i = 1; i < d->ncodes; i++) {
            const Rewind__CodeDef *cd = rw_defs_code(d, i);
            if (!cd || !matches(d, cd, spec, hows[h], main_path))
                continue;
            map[i] = 1;
            int seen = 0;
            for (int k = 0; k < nfound; k++)
                seen |= same_function(d, found[k], cd);
            if (!seen) {
                if (nfound < 8)
                    found[nfound++] = cd;
                distinct++;
            }
        }
    }
    if (distinct == 0) {
        free(map);
        return rw_err_set(err, RW_ENOTFOUND,
                          "no function '%s' in this trace (spell it NAME, QUALNAME, FILE:NAME "
                          "or MODULE.QUALNAME)", spec);
    }
    if (distinct > 1) {
        char list[200] = "";
        size_t len = 0;
        for (int k = 0; k < nfound && k < 3; k++) {
            int w = snprintf(list + len, sizeof list - len, "%s%s:%u(%s)", k ? ", " : "",
                             file_of(d, found[k]), found[k]->first_line,
                             found[k]->qualname ? found[k]->qualname : "?");
            if (w < 0 || (size_t)w >= sizeof list - len)
                break;
            len += (size_t)w;
        }
        free(map);
        return rw_err_set(err, RW_EINVAL, "'%s' names %d functions (%s%s): name one as "
                          "FILE:QUALNAME", spec, distinct, list, distinct > 3 ? ", ..." : "");
    }
    t->is_target = map;
    t->ncodes = n;
    t->file = file_of(d, found[0]);
    t->qualname = found[0]->qualname ? found[0]->qualname : "?";
    t->line = found[0]->first_line;
    t->generator = (found[0]->flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)) != 0;
    return RW_OK;
}

void rw_timeit_target_fini(rw_timeit_target *t)
{
    free(t->is_target);
    t->is_target = NULL;
}

void rw_timeit_opts_default(rw_timeit_opts *o)
{
    memset(o, 0, sizeof *o);
    o->to = UINT64_MAX;
    o->calibrate = 1;
}

/* One call: its raw length and the events it holds (its RETURN included). */
typedef struct call_dur {
    double ticks;
    uint64_t events;
    uint64_t pos;
    uint32_t thread;
} call_dur;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

rw_code rw_timeit_run(const rw_reader *r, const rw_timeit_target *t, const rw_timeit_opts *o,
                      rw_timeit_result *res, rw_err *err)
{
    uint64_t nev = rw_reader_nevents(r);
    uint64_t from = o->from, to = o->to < nev ? o->to : nev;
    if (from > to)
        return rw_err_set(err, RW_EINVAL, "the window is empty: --from %llu is after --to %llu",
                          (unsigned long long)from, (unsigned long long)to);
    const Rewind__Metadata *m = rw_reader_metadata(r);
    const rw_timebase tb = rw_reader_timebase(r);
    double calib_ticks = o->calibrate && m && m->calib_ns_per_event > 0
                             ? rw_timebase_ticks(&tb, m->calib_ns_per_event)
                             : 0;
    memset(res, 0, sizeof *res);
    res->resolution = rw_timebase_span_ns(&tb, (double)(UINT64_C(1) << rw_reader_time_shift(r)))
                      * 1e-9;
    res->calib_ns_recorded = calib_ticks > 0 ? m->calib_ns_per_event : 0;
    if (rw_reader_nchunks(r) == 0 || from == to)
        return RW_OK;
    rw_scan_opts so = {
        .from = from,
        .to = to,
        .decode = RW_DECODE_SKIP_ALLOCS, /* calls and returns only */
    };
    rw_scan *c;
    RW_TRY(rw_scan_open(r, &so, &c, err));
    call_dur *dur = NULL;
    size_t n = 0, cap = 0;
    rw_event ev;
    int k;
    rw_code rc = RW_OK;
    uint64_t seen = 0;
    /* The shortest gap between two events with nothing between them: an upper bound
     * on what one event's hook costs on the clock (profile.py's calibration measures
     * the same thing by running code with and without its hook). */
    uint64_t last_tick = 0, min_gap = UINT64_MAX;
    unsigned hooks = 0; /* events since the tick last moved */
    while ((k = rw_scan_next(c, &ev, err)) == 1) {
        if (!RW_IS_EVENT(ev.kind))
            continue;
        assert(ev.pos >= from && ev.pos < to);
        if (RW_UNLIKELY((++seen & 0xFFFFF) == 0) && o->progress)
            o->progress(o->progress_ctx, seen, nev);
        if (ev.tick > last_tick) {
            if (hooks == 1 && last_tick && ev.tick - last_tick < min_gap)
                min_gap = ev.tick - last_tick;
            last_tick = ev.tick;
            hooks = 0;
        }
        hooks++;
        if (ev.kind == RW_K_CALL && ev.code < t->ncodes &&
            t->is_target[ev.code]) {
            res->unfinished++; /* until its return is seen */
            continue;
        }
        if (ev.kind != RW_K_RETURN || ev.code >= t->ncodes || !t->is_target[ev.code] ||
            ev.call_pos < from || ev.call_tick == 0)
            continue;
        res->unfinished--;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 1024;
            call_dur *v = realloc(dur, nc * sizeof *v);
            if (!v) {
                rc = rw_err_set(err, RW_ENOMEM, "out of memory");
                break;
            }
            dur = v;
            cap = nc;
        }
        call_dur *d = &dur[n++];
        d->ticks = ev.tick > ev.call_tick ? (double)(ev.tick - ev.call_tick) : 0;
        d->events = ev.pos - ev.call_pos;
        d->pos = ev.call_pos;
        d->thread = ev.thread;
    }
    if (k < 0)
        rc = err->code;
    rw_scan_close(c);
    if (calib_ticks > 0 && min_gap != UINT64_MAX && (double)min_gap < calib_ticks) {
        calib_ticks = (double)min_gap; /* the recorder's figure cannot be right */
        res->calib_capped = 1;
    }
    res->calib_ns = calib_ticks > 0 ? rw_timebase_span_ns(&tb, calib_ticks) : 0;
    double worst = -1, best = INFINITY, sum = 0;
    double *secs = rc == RW_OK && n ? malloc(n * sizeof *secs) : NULL;
    if (rc == RW_OK && n && !secs)
        rc = rw_err_set(err, RW_ENOMEM, "out of memory");
    for (size_t i = 0; rc == RW_OK && i < n; i++) {
        double ticks = dur[i].ticks - calib_ticks * (double)dur[i].events;
        double s = ticks > 0 ? rw_timebase_span_ns(&tb, ticks) * 1e-9 : 0;
        if (s < res->resolution) {
            res->below++; /* the clock cannot tell it from zero */
            s = 0;
        }
        secs[i] = s;
        sum += s;
        if (s > worst) {
            worst = s;
            res->worst_pos = dur[i].pos;
            res->worst_thread = dur[i].thread;
        }
        if (s < best) {
            best = s;
            res->best_pos = dur[i].pos;
        }
    }
    free(dur);
    if (rc == RW_OK && n > 0) {
        res->calls = n;
        res->total = sum;
        res->best = best;
        res->worst = worst;
        res->mean = sum / (double)n;
        double ss = 0;
        for (size_t i = 0; i < n; i++)
            ss += (secs[i] - res->mean) * (secs[i] - res->mean);
        res->stdev = n > 1 ? sqrt(ss / (double)(n - 1)) : 0;
        qsort(secs, n, sizeof *secs, cmp_double);
        res->median = n % 2 ? secs[n / 2] : (secs[n / 2 - 1] + secs[n / 2]) / 2;
    }
    free(secs);
    return rc;
}

void rw_timeit_format(double seconds, char *buf, size_t cap)
{
    static const struct {
        const char *unit;
        double scale;
    } units[] = {{"sec", 1.0}, {"msec", 1e-3}, {"usec", 1e-6}, {"nsec", 1e-9}};
    size_t i = 0;
    while (i + 1 < sizeof units / sizeof units[0] && !(seconds >= units[i].scale))
        i++;
    snprintf(buf, cap, "%.3g %s", seconds / units[i].scale, units[i].unit);
}

void rw_timeit_format_res(double seconds, double resolution, char *buf, size_t cap)
{
    if (resolution > 0 && seconds < resolution) {
        char r[32];
        rw_timeit_format(resolution, r, sizeof r);
        snprintf(buf, cap, "< %s", r);
        return;
    }
    rw_timeit_format(seconds, buf, cap);
}
