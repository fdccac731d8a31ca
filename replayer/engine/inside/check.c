/* Divergence check (check.h). */
#include "check.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rw_check {
    const rw_reader *rec;
    rw_cursor *rc;       /* over the recording, only forwards */
    rw_reader *er;       /* the engine's trace, kept open and refreshed between passes */
    uint64_t next;       /* first position not compared yet (its annotations neither) */
    int compare_allocs;
};

rw_code rw_check_new(const rw_reader *recorded, int compare_allocs, rw_check **out,
                     rw_err *err)
{
    rw_check *c = calloc(1, sizeof *c);
    if (!c)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    c->rec = recorded;
    c->compare_allocs = compare_allocs;
    rw_code rc = rw_cursor_new(recorded, 0, SIZE_MAX, &c->rc, err);
    if (rc != RW_OK) {
        free(c);
        return rc;
    }
    if (!compare_allocs)
        rw_cursor_set_flags(c->rc, RW_DECODE_SKIP_ALLOCS);
    *out = c;
    return RW_OK;
}

void rw_check_free(rw_check *c)
{
    if (!c)
        return;
    rw_cursor_free(c->rc);
    rw_reader_free(c->er);
    free(c);
}

void rw_check_describe(const rw_defs *d, const rw_event *ev, char *out, size_t cap)
{
    const char *kind = rw_kind_name(ev->kind);
    const char *path = rw_defs_code_path(d, ev->code);
    const char *name = rw_defs_code_name(d, ev->code);
    path = path ? path : "?";
    name = name ? name : "?";
    switch (ev->kind) {
    case RW_K_CALL:
    case RW_K_LINE:
    case RW_K_RETURN:
        snprintf(out, cap, "%s %s at %s:%u (thread %u)", kind, name, path, ev->line, ev->thread);
        break;
    case RW_K_EXCEPTION: {
        const char *t = rw_defs_name_text(d, ev->name);
        snprintf(out, cap, "exception %s in %s at %s:%u (thread %u)", t ? t : "?", name, path,
                 ev->line, ev->thread);
        break;
    }
    case RW_K_C_CALL:
    case RW_K_C_RETURN:
    case RW_K_C_EXCEPTION: {
        const char *l = rw_defs_cfunc_label(d, ev->code);
        snprintf(out, cap, "%s %s (thread %u)", kind, l ? l : "?", ev->thread);
        break;
    }
    default:
        if (RW_IS_ALLOC(ev->kind))
            snprintf(out, cap, "%s of %" PRIu64 " bytes at 0x%" PRIx64, kind, ev->size, ev->addr);
        else if (RW_IS_FREE(ev->kind))
            snprintf(out, cap, "%s at 0x%" PRIx64, kind, ev->addr);
        else {
            const char *t = rw_defs_name_text(d, ev->name);
            snprintf(out, cap, "%s %s", kind, t ? t : "");
        }
    }
}

/* 1 when a and b are the same record (ids compared: both runs define them in the
 * same order when they agree). */
static int same(const rw_check *c, const rw_event *a, const rw_event *b)
{
    if (a->kind != b->kind || a->pos != b->pos)
        return 0;
    if (RW_IS_EVENT(a->kind))
        return a->code == b->code && a->line == b->line && a->thread == b->thread &&
               (a->kind != RW_K_EXCEPTION || a->name == b->name);
    if (RW_IS_ALLOC(a->kind))
        return a->size == b->size && a->addr == b->addr;
    if (RW_IS_FREE(a->kind))
        return a->addr == b->addr;
    return a->name == b->name;
}

/* The next record of cu that the check compares: THREAD records are not (an event
 * names its thread; with several threads, a thread's allocations between events make
 * switches of their own in one run and not in the other). */
static int next_compared(rw_cursor *cu, rw_event *ev, rw_err *err)
{
    int g;
    while ((g = rw_cursor_next(cu, ev, err)) == 1 && ev->kind == RW_K_THREAD)
        ;
    return g;
}

int rw_check_upto(rw_check *c, const char *engine_path, uint64_t upto, uint64_t *where,
                  char *report, size_t cap, rw_err *err)
{
    return rw_check_run(c, engine_path, upto, 0, where, report, cap, err);
}

int rw_check_run(rw_check *c, const char *engine_path, uint64_t upto, int partial,
                 uint64_t *where, char *report, size_t cap, rw_err *err)
{
    if (upto < c->next)
        return 0;
    /* The engine's trace grows while the program runs: opened once, then only the
     * frames appended since the last pass are read (reopening it scanned the whole file
     * every pass, a cost that grew with the square of the run's length). */
    if (!c->er && rw_reader_open(engine_path, &c->er, err) != RW_OK)
        return -1;
    if (rw_reader_refresh(c->er, err) != RW_OK)
        return -1;
    rw_reader *er = c->er;
    rw_cursor *ec = NULL;
    int result = -1;
    if (rw_cursor_new(er, 0, SIZE_MAX, &ec, err) != RW_OK)
        goto out;
    if (!c->compare_allocs)
        rw_cursor_set_flags(ec, RW_DECODE_SKIP_ALLOCS);
    if (rw_cursor_seek(ec, c->next, err) != RW_OK) {
        if (partial) { /* the engine's trace does not reach it yet */
            result = 0;
            goto out;
        }
        goto out;
    }
    const rw_defs *rd = rw_reader_defs(c->rec), *ed = rw_reader_defs(er);
    for (;;) {
        rw_event a, b;
        int ga = next_compared(c->rc, &a, err);
        if (ga < 0)
            goto out;
        int gb = next_compared(ec, &b, err);
        if (gb < 0 && !partial)
            goto out;
        if (gb <= 0 && partial) {
            /* The engine's trace ends here for now: back to the last event compared
             * whole, on both sides, for the next pass. */
            result = rw_cursor_seek(c->rc, c->next, err) == RW_OK ? 0 : -1;
            goto out;
        }
        char want[512], seen[512];
        if (ga == 0 || gb == 0 || !same(c, &a, &b)) {
            if (ga)
                rw_check_describe(rd, &a, want, sizeof want);
            else
                snprintf(want, sizeof want, "the end of the recording");
            if (gb)
                rw_check_describe(ed, &b, seen, sizeof seen);
            else
                snprintf(seen, sizeof seen, "nothing more (the replay's trace ends)");
            uint64_t at = ga ? a.pos : gb ? b.pos : c->next;
            *where = at;
            snprintf(report, cap,
                     "the replay diverged from the recording at event %" PRIu64
                     ": the recording has %s, the replay %s",
                     at, want, seen);
            result = 1;
            goto out;
        }
        if (RW_IS_EVENT(a.kind)) {
            c->next = a.pos + 1;
            if (a.pos >= upto) {
                result = 0;
                goto out;
            }
        }
    }
out:
    rw_cursor_free(ec);
    return result;
}
