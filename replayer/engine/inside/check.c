/* Divergence check (check.h). */
#include "check.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fprint.h"

typedef struct kept {
    rw_rec r;
    uint32_t thread;
} kept;

struct rw_check {
    const rw_reader *rec;
    rw_cursor *rc;       /* over the recording, only forwards */
    int compare_allocs;
    /* The engine's stream as fed so far. */
    uint64_t pos;        /* its events */
    uint32_t thread;     /* the thread of its last THREAD record */
    size_t skip;         /* text records left of the current entry */
    _Atomic int verdict;
    /* The first mismatch (verdict 1) or the read error (verdict -1). */
    uint64_t where;
    char want[600];      /* the recorded side, described when found */
    rw_event seen;       /* the replay's record, ids as the engine numbered them */
    rw_err err;
    /* Allocations stopped being compared (note), and a recorded record read ahead when
     * they did (held). */
    char note[1024];
    rw_event held;
    int has_held;
    /* By fingerprints (fprint.h), when the recording has them (G != 0): the records of
     * the group being fed (positions [group * G, (group + 1) * G)) are hashed and kept;
     * at the group's end its fingerprint is compared with the recording's, and only a
     * group that differs is compared record by record, with the recording's cursor
     * placed at the group's start. At a stop, rw_check_settle compares the kept
     * records not compared yet (settled counts those). */
    uint64_t G;
    uint64_t group;
    rw_fp fp;
    kept *kept;
    size_t nkept, capkept;
    size_t settled;
    uint64_t settled_pos; /* the position of kept[settled] */
    int placed;           /* the cursor is right after kept[settled - 1]'s match */
    _Atomic uint64_t *alarm; /* rw_check_alarm's, or NULL */
    uint64_t groups_by_fp, groups_by_record; /* for the tests and the bench */
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
    c->G = rw_reader_fp_group(recorded);
    if (c->G && getenv("REWIND_CHECK_BY_RECORD")) /* tests: the other way, to compare */
        c->G = 0;
    rw_fp_reset(&c->fp);
    *out = c;
    return RW_OK;
}

/* The verdict, final; then the alarm, so that the hooks look at it. */
static void set_verdict(rw_check *c, int v)
{
    atomic_store(&c->verdict, v);
    if (c->alarm)
        atomic_store(c->alarm, 0);
}

void rw_check_alarm(rw_check *c, _Atomic uint64_t *at)
{
    c->alarm = at;
}

void rw_check_free(rw_check *c)
{
    if (!c)
        return;
    rw_cursor_free(c->rc);
    free(c->kept);
    free(c);
}

void rw_check_shed(rw_check *c)
{
    rw_cursor_unload(c->rc);
    /* The kept records past the group's: a copy made by fork keeps the pages the engine
     * rewrites with the next groups. */
    if (c->kept) {
        long pg = sysconf(_SC_PAGESIZE);
        uintptr_t mask = ~(uintptr_t)(pg - 1);
        uintptr_t from = ((uintptr_t)(c->kept + c->nkept) + (uintptr_t)pg - 1) & mask;
        uintptr_t to = (uintptr_t)(c->kept + c->capkept) & mask;
        if (pg > 0 && to > from)
            (void)madvise((void *)from, to - from, MADV_DONTNEED);
    }
}

const _Atomic int *rw_check_verdict(const rw_check *c)
{
    return &c->verdict;
}

void rw_check_describe(const rw_defs *d, const rw_event *ev, char *out, size_t cap)
{
    const char *kind = rw_kind_name(ev->kind);
    const char *path = d ? rw_defs_code_path(d, ev->code) : NULL;
    const char *name = d ? rw_defs_code_name(d, ev->code) : NULL;
    char idpath[32] = "?", idname[32];
    snprintf(idname, sizeof idname, "code #%u", ev->code);
    path = path ? path : idpath;
    name = name ? name : idname;
    switch (ev->kind) {
    case RW_K_CALL:
    case RW_K_LINE:
    case RW_K_RETURN:
        snprintf(out, cap, "%s %s at %s:%u (thread %u)", kind, name, path, ev->line, ev->thread);
        break;
    case RW_K_EXCEPTION: {
        const char *t = d ? rw_defs_name_text(d, ev->name) : NULL;
        snprintf(out, cap, "exception %s in %s at %s:%u (thread %u)", t ? t : "?", name, path,
                 ev->line, ev->thread);
        break;
    }
    case RW_K_C_CALL:
    case RW_K_C_RETURN:
    case RW_K_C_EXCEPTION: {
        const char *l = d ? rw_defs_cfunc_label(d, ev->code) : NULL;
        if (l)
            snprintf(out, cap, "%s %s (thread %u)", kind, l, ev->thread);
        else
            snprintf(out, cap, "%s of C function #%u (thread %u)", kind, ev->code, ev->thread);
        break;
    }
    default:
        if (RW_IS_ALLOC(ev->kind))
            snprintf(out, cap, "%s of %" PRIu64 " bytes at 0x%" PRIx64 " (thread %u)", kind,
                     ev->size, ev->addr, ev->thread);
        else if (RW_IS_FREE(ev->kind))
            snprintf(out, cap, "%s at 0x%" PRIx64 " (thread %u)", kind, ev->addr, ev->thread);
        else {
            const char *t = d ? rw_defs_name_text(d, ev->name) : NULL;
            if (t)
                snprintf(out, cap, "%s %s", kind, t);
            else
                snprintf(out, cap, "%s #%u", kind, ev->name);
        }
    }
}

/* Whether allocation records of kind k are compared: every one when the memory is
 * deterministic (compare_allocs 1); the MEM and OBJ domains' only with 2 (a
 * multi-threaded replay under REWIND_COMPARE_THREAD_ALLOCS: RAW blocks are also freed
 * without the GIL, when the scheduler decides). */
static int mem_compared(const rw_check *c, unsigned k)
{
    return c->compare_allocs == 1 ||
           (c->compare_allocs == 2 && k != RW_K_ALLOC_RAW && k != RW_K_FREE_RAW);
}

/* The next record of cu that the check compares: THREAD records are not (an event
 * names its thread; with several threads, a thread's allocations between events make
 * switches of their own in one run and not in the other). */
static int next_compared(rw_check *c, rw_event *ev)
{
    if (c->has_held) {
        c->has_held = 0;
        *ev = c->held;
        return 1;
    }
    int g;
    while ((g = rw_cursor_next(c->rc, ev, &c->err)) == 1 &&
           (ev->kind == RW_K_THREAD || ev->kind == RW_K_GEN || ev->kind == RW_K_STARTUP_REUSE ||
            ev->kind == RW_K_DROP ||
            ((RW_IS_ALLOC(ev->kind) || RW_IS_FREE(ev->kind)) && !mem_compared(c, ev->kind))))
        ;
    return g;
}

/* 1 when the recorded record a is the engine's raw record r at the engine's
 * position. */
static int same(const rw_check *c, const rw_event *a, unsigned k, const rw_rec *r)
{
    if (a->kind != k || a->pos != c->pos)
        return 0;
    switch (k) {
    case RW_K_CALL:
        return a->thread == c->thread && a->code == (uint32_t)r->w1 &&
               a->line == (uint32_t)(r->w1 >> 32);
    case RW_K_LINE:
        return a->thread == c->thread && a->line == (uint32_t)r->w1;
    case RW_K_EXCEPTION:
        return a->thread == c->thread && a->name == (uint32_t)r->w1;
    case RW_K_C_CALL:
        return a->thread == c->thread && a->code == (uint32_t)r->w1;
    case RW_K_RETURN:
    case RW_K_C_RETURN:
    case RW_K_C_EXCEPTION:
        return a->thread == c->thread;
    case RW_K_ALLOC_RAW:
    case RW_K_ALLOC_MEM:
    case RW_K_ALLOC_OBJ:
        return a->size == RW_REC_HI(r->w0) && a->addr == r->w1;
    case RW_K_FREE_RAW:
    case RW_K_FREE_MEM:
    case RW_K_FREE_OBJ:
        return a->addr == r->w1;
    default: /* AUDIT, UNCAUGHT */
        return a->name == (uint32_t)r->w1;
    }
}

/* The replay's record r as an event, for the report. Its frame (a line's, a return's)
 * is the recording's, as it was before the recorded record a: the runs agreed so far.
 * got: whether a exists. */
static void seen_event(rw_check *c, unsigned k, const rw_rec *r, const rw_event *a, int got)
{
    rw_event *b = &c->seen;
    memset(b, 0, sizeof *b);
    b->kind = (uint8_t)k;
    b->thread = c->thread;
    b->pos = c->pos;
    const rw_stack *s = rw_cursor_stack(c->rc, c->thread);
    const rw_frame *top = NULL;
    rw_frame before;
    if (s && s->depth > 0 && s->depth <= s->cap) {
        uint32_t d = s->depth;
        int opened = got && a->thread == c->thread &&
                     (a->kind == RW_K_CALL || a->kind == RW_K_C_CALL);
        int closed = got && a->thread == c->thread &&
                     (a->kind == RW_K_RETURN || a->kind == RW_K_C_RETURN ||
                      a->kind == RW_K_C_EXCEPTION);
        if (closed) {
            before = (rw_frame){.code = a->code, .line = a->line,
                                .is_c = a->kind != RW_K_RETURN};
            top = &before;
        } else if (!opened || d >= 2) {
            top = &s->frames[opened ? d - 2 : d - 1];
        }
    } else if (got && a->thread == c->thread && a->kind == RW_K_RETURN) {
        before = (rw_frame){.code = a->code, .line = a->line};
        top = &before;
    }
    if (top) {
        b->code = top->code;
        b->line = top->line;
    }
    switch (k) {
    case RW_K_CALL:
        b->code = (uint32_t)r->w1;
        b->line = (uint32_t)(r->w1 >> 32);
        break;
    case RW_K_LINE:
        b->line = (uint32_t)r->w1;
        break;
    case RW_K_C_CALL:
        b->code = (uint32_t)r->w1;
        break;
    case RW_K_ALLOC_RAW:
    case RW_K_ALLOC_MEM:
    case RW_K_ALLOC_OBJ:
        b->size = RW_REC_HI(r->w0);
        b->addr = r->w1;
        break;
    case RW_K_FREE_RAW:
    case RW_K_FREE_MEM:
    case RW_K_FREE_OBJ:
        b->addr = r->w1;
        break;
    case RW_K_EXCEPTION:
    case RW_K_AUDIT:
    case RW_K_UNCAUGHT:
        b->name = (uint32_t)r->w1;
        break;
    default:
        break;
    }
}

static int is_mem(unsigned k)
{
    return RW_IS_ALLOC(k) || RW_IS_FREE(k);
}

/* Compares one raw record (not THREAD, not BLOB or text) with the recording's next. */
static void compare(rw_check *c, unsigned k, const rw_rec *r)
{
    rw_event a;
    int got = next_compared(c, &a);
    if (got < 0) {
        set_verdict(c, -1);
        return;
    }
    if (got && same(c, &a, k, r))
        return;
    if (c->compare_allocs && (is_mem(k) || (got && is_mem(a.kind)))) {
        /* The memory differs (a trace made by another build of rewind, say): the
         * events may still agree. Allocations are compared no further; the note says
         * from where addresses may differ, and the events go on being compared. */
        char want[256], seen[256];
        if (got)
            rw_check_describe(rw_reader_defs(c->rec), &a, want, sizeof want);
        else
            snprintf(want, sizeof want, "the end of the recording");
        seen_event(c, k, r, &a, got);
        rw_check_describe(NULL, &c->seen, seen, sizeof seen);
        snprintf(c->note, sizeof c->note,
                 "the replay's memory differs from the recording's from event %" PRIu64
                 " (the recording has %s, the replay %s): id() and reprs that show "
                 "addresses may differ from the recording's; a trace recorded by this "
                 "build of rewind repeats them",
                 got && a.pos < c->pos ? a.pos : c->pos, want, seen);
        c->compare_allocs = 0;
        rw_cursor_set_flags(c->rc, RW_DECODE_SKIP_ALLOCS); /* for the chunks to come */
        if (got && !is_mem(a.kind)) {
            c->held = a;
            c->has_held = 1;
        }
        if (!is_mem(k))
            compare(c, k, r);
        return;
    }
    if (got)
        rw_check_describe(rw_reader_defs(c->rec), &a, c->want, sizeof c->want);
    else
        snprintf(c->want, sizeof c->want, "the end of the recording");
    seen_event(c, k, r, &a, got);
    c->where = got && a.pos < c->pos ? a.pos : c->pos;
    set_verdict(c, 1);
}

/* Whether r is not compared: the text records a BLOB says follow it (skipped), the BLOB
 * itself, THREAD records (they set the thread of the records after them), GEN and
 * STARTUP_REUSE records. */
static inline int passed_over(rw_check *c, const rw_rec *r, unsigned k)
{
    if (c->skip) {
        c->skip--;
        return 1;
    }
    if (k == RW_K_BLOB) {
        c->skip = (size_t)((RW_REC_HI(r->w0) + sizeof(rw_rec) - 1) / sizeof(rw_rec));
        return 1;
    }
    if (k == RW_K_THREAD) {
        c->thread = (uint32_t)r->w1;
        return 1;
    }
    /* GEN: an address, the same only where allocations are; STARTUP_REUSE: marks the
     * ALLOC_OBJ after it, which is compared; DROP: the engine's own switches are not
     * noted (its threads let go where it asks). */
    return k == RW_K_GEN || k == RW_K_STARTUP_REUSE || k == RW_K_DROP;
}

/* Record by record: compares each raw record with the recording's next. */
static uint64_t feed_by_record(rw_check *c, const rw_rec *recs, size_t n)
{
    uint64_t events = 0;
    int done = atomic_load_explicit(&c->verdict, memory_order_relaxed) != 0;
    for (size_t i = 0; i < n; i++) {
        const rw_rec *r = &recs[i];
        unsigned k = RW_REC_KIND(r->w0);
        if (passed_over(c, r, k))
            continue;
        if (!done && (!(RW_IS_ALLOC(k) || RW_IS_FREE(k)) || mem_compared(c, k))) {
            compare(c, k, r);
            done = atomic_load_explicit(&c->verdict, memory_order_relaxed) != 0;
        }
        if (RW_IS_EVENT(k)) {
            events++;
            c->pos++;
        }
    }
    return events;
}

/* ---- by fingerprints ---------------------------------------------------------------- */

/* The recording's fingerprint of group g, if its chunk carries one. */
static int recorded_fp(const rw_check *c, uint64_t g, uint64_t *out)
{
    uint64_t last = (g + 1) * c->G - 1; /* the group's last event */
    if (last >= rw_reader_nevents(c->rec))
        return 0;
    const rw_chunk_info *ci = rw_reader_chunk(c->rec, rw_reader_find_chunk(c->rec, last));
    if (!ci || !ci->nfps || last < ci->first_event || last - ci->first_event >= ci->event_count)
        return 0;
    uint64_t first = ci->first_event / c->G; /* the first group that ends in the chunk */
    if (g < first || g - first >= ci->nfps)
        return 0;
    *out = ci->fps[g - first];
    return 1;
}

/* Compares the kept records from kept[settled] on, one by one, with the recording's,
 * placing its cursor at the group's start first when it is not placed yet. */
static void compare_kept(rw_check *c)
{
    if (atomic_load_explicit(&c->verdict, memory_order_relaxed) || c->settled == c->nkept)
        return;
    uint64_t pos = c->pos;
    uint32_t thread = c->thread;
    if (!c->placed) {
        uint64_t at = c->group * c->G, end = rw_reader_nevents(c->rec);
        rw_err e = {0};
        if (rw_cursor_seek(c->rc, at < end ? at : end, &e) != RW_OK) {
            c->err = e;
            set_verdict(c, -1);
            return;
        }
        c->has_held = 0;
        c->placed = 1;
        c->settled = 0;
        c->settled_pos = at;
    }
    c->pos = c->settled_pos;
    for (; c->settled < c->nkept; c->settled++) {
        const kept *kr = &c->kept[c->settled];
        unsigned k = RW_REC_KIND(kr->r.w0);
        c->thread = kr->thread;
        if (!(RW_IS_ALLOC(k) || RW_IS_FREE(k)) || mem_compared(c, k)) {
            compare(c, k, &kr->r);
            if (atomic_load_explicit(&c->verdict, memory_order_relaxed))
                break;
        }
        if (RW_IS_EVENT(k))
            c->pos++;
    }
    c->settled_pos = c->pos;
    c->pos = pos;
    c->thread = thread;
}

/* The group being fed ended (its last event came): by its fingerprint, else record by
 * record; then the next group. */
static void end_group(rw_check *c)
{
    uint64_t want, got = rw_fp_value(&c->fp);
    uint64_t mask = c->compare_allocs ? UINT64_MAX : UINT64_C(0xffffffff);
    /* Kept records a stop compared already are in the fingerprint too. */
    int agreed = 0;
    if (recorded_fp(c, c->group, &want) && ((want ^ got) & mask) == 0)
        agreed = 1;
    if (agreed) {
        c->groups_by_fp++;
    } else {
        c->groups_by_record++;
        compare_kept(c);
    }
    c->group++;
    c->nkept = 0;
    c->settled = 0;
    c->placed = 0;
    rw_fp_reset(&c->fp);
}

/* At most this many records are kept (1.5 MiB). A group with more (a collection that
 * frees a million objects between two events) is compared record by record as it is
 * fed, the kept part first, a keep's worth at a time: keeping it whole took a buffer as
 * large as the group's records, touched fresh (64 MiB and 11,000 page faults on a
 * program that frees a list of a million). */
#define KEEP_MAX ((size_t)65536) /* the buffer's last size: 4096 doubled 4 times */

/* 0 when r is kept; 1 when the records kept before it were compared to make room and
 * a mismatch was found; -1 out of memory. */
static int keep(rw_check *c, const rw_rec *r)
{
    if (c->nkept == c->capkept && c->capkept == KEEP_MAX) {
        compare_kept(c);
        if (atomic_load_explicit(&c->verdict, memory_order_relaxed))
            return 1;
        c->nkept = c->settled = 0; /* placed: the cursor is right after them */
    } else if (c->nkept == c->capkept) {
        size_t cap = c->capkept ? 2 * c->capkept : 4096;
        kept *grown = realloc(c->kept, cap * sizeof *grown);
        if (!grown)
            return -1;
        c->kept = grown;
        c->capkept = cap;
    }
    c->kept[c->nkept++] = (kept){*r, c->thread};
    return 0;
}

static uint64_t feed_by_fp(rw_check *c, const rw_rec *recs, size_t n)
{
    uint64_t events = 0;
    for (size_t i = 0; i < n; i++) {
        const rw_rec *r = &recs[i];
        unsigned k = RW_REC_KIND(r->w0);
        if (passed_over(c, r, k))
            continue;
        int mem = RW_IS_ALLOC(k) || RW_IS_FREE(k);
        if (!mem || mem_compared(c, k)) {
            rw_fp_add(&c->fp, mem, rw_fp_view(k, c->thread, r->w0, r->w1));
            int kr = keep(c, r);
            if (RW_UNLIKELY(kr != 0)) {
                if (kr < 0) {
                    rw_err_set(&c->err, RW_ENOMEM, "the divergence check ran out of memory");
                    set_verdict(c, -1);
                }
                return events + feed_by_record(c, recs + i, n - i); /* counts r's event */
            }
        }
        if (RW_IS_EVENT(k)) {
            events++;
            c->pos++;
            if (RW_UNLIKELY(c->pos % c->G == 0)) {
                end_group(c);
                if (atomic_load_explicit(&c->verdict, memory_order_relaxed))
                    return events + feed_by_record(c, recs + i + 1, n - i - 1);
            }
        }
    }
    return events;
}

uint64_t rw_check_feed(void *check, const rw_rec *recs, size_t n)
{
    rw_check *c = check;
    if (c->G && !atomic_load_explicit(&c->verdict, memory_order_relaxed))
        return feed_by_fp(c, recs, n);
    return feed_by_record(c, recs, n);
}

void rw_check_settle(rw_check *c)
{
    if (c->G)
        compare_kept(c);
}

void rw_check_counts(const rw_check *c, uint64_t *by_fp, uint64_t *by_record)
{
    *by_fp = c->groups_by_fp;
    *by_record = c->groups_by_record;
}

const char *rw_check_note(const rw_check *c)
{
    return c->note[0] ? c->note : NULL;
}

uint64_t rw_check_report(const rw_check *c, const char *engine_path, char *report,
                         size_t cap)
{
    int v = atomic_load_explicit(&c->verdict, memory_order_acquire);
    if (v < 0) {
        snprintf(report, cap, "%s", c->err.msg);
        return c->pos;
    }
    if (v == 0) {
        snprintf(report, cap, "the replay agrees with the recording");
        return c->pos;
    }
    rw_reader *er = NULL;
    rw_err e = {0};
    const rw_defs *ed = NULL;
    if (engine_path && rw_reader_open(engine_path, &er, &e) == RW_OK)
        ed = rw_reader_defs(er);
    char seen[600];
    rw_check_describe(ed, &c->seen, seen, sizeof seen);
    rw_reader_free(er);
    snprintf(report, cap,
             "the replay diverged from the recording at event %" PRIu64
             ": the recording has %s, the replay %s",
             c->where, c->want, seen);
    return c->where;
}
