/* Navigator (nav.h): positions, shadow stacks and searches over decoded chunks.
 *
 * Every operation works chunk by chunk: a chunk is loaded (or taken from the cache),
 * a decoder runs over it from its keyframe, and the records are shown to a callback
 * with the shadow stack of their thread. Backward searches go chunk by chunk towards
 * the start, so a step back costs one or two chunk decodes however long the trace.
 */
#include "nav.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS 6

typedef struct slot {
    size_t index;     /* chunk number; valid when chunk != NULL */
    rw_chunk *chunk;
    uint64_t used;    /* LRU stamp */
} slot;

/* The keyframe stack of one thread at the start of a chunk (cached per chunk). */
typedef struct keyframe {
    int loaded;
    uint32_t thread;
    rw_stack st;
} keyframe;

struct rw_nav {
    const rw_reader *r;
    keyframe *kf;          /* by chunk number; NULL until the first keyframe read */
    slot cache[CACHE_SLOTS];
    uint64_t clock;
    uint64_t decodes;
    const uint64_t *pairs; /* rw_nav_set_line_filter */
    size_t npairs;
    uint64_t skips;
    char *text;            /* copy of the text of the event rw_nav_at returned */
    size_t text_cap;
};

rw_code rw_nav_new(const rw_reader *r, rw_nav **out, rw_err *err)
{
    rw_nav *nav = calloc(1, sizeof *nav);
    if (!nav)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    nav->r = r;
    *out = nav;
    return RW_OK;
}

void rw_nav_free(rw_nav *nav)
{
    if (!nav)
        return;
    for (int i = 0; i < CACHE_SLOTS; i++)
        rw_chunk_free(nav->cache[i].chunk);
    if (nav->kf)
        for (size_t i = 0; i < rw_reader_nchunks(nav->r); i++)
            free(nav->kf[i].st.frames);
    free(nav->kf);
    free(nav->text);
    free(nav);
}

uint64_t rw_nav_nevents(const rw_nav *nav)
{
    return rw_reader_nevents(nav->r);
}

uint64_t rw_nav_decodes(const rw_nav *nav)
{
    return nav->decodes;
}

void rw_nav_set_line_filter(rw_nav *nav, const uint64_t *pairs, size_t n)
{
    assert(!n || pairs);
    nav->pairs = n ? pairs : NULL;
    nav->npairs = pairs ? n : 0;
}

uint64_t rw_nav_skips(const rw_nav *nav)
{
    return nav->skips;
}

/* 0 when the line filter rules chunk k out of the current search. */
static int chunk_may_match(rw_nav *nav, size_t k)
{
    if (!nav->pairs)
        return 1;
    const rw_chunk_info *ci = rw_reader_chunk(nav->r, k);
    if (!ci->filter_len)
        return 1;
    for (size_t i = 0; i < nav->npairs; i++)
        if (rw_filter_may_have(ci->filter, ci->filter_len, (uint32_t)(nav->pairs[i] >> 32),
                               (uint32_t)nav->pairs[i]))
            return 1;
    nav->skips++;
    return 0;
}

/* Chunk k, from the cache or loaded into the least recently used slot. Borrowed
 * until the next load. */
static rw_code get_chunk(rw_nav *nav, size_t k, const rw_chunk **out, rw_err *err)
{
    assert(k < rw_reader_nchunks(nav->r));
    slot *victim = &nav->cache[0];
    for (int i = 0; i < CACHE_SLOTS; i++) {
        slot *s = &nav->cache[i];
        if (s->chunk && s->index == k) {
            s->used = ++nav->clock;
            *out = s->chunk;
            return RW_OK;
        }
        if (!s->chunk || (victim->chunk && s->used < victim->used))
            victim = s;
    }
    rw_chunk *c;
    RW_TRY(rw_reader_load_chunk(nav->r, k, &c, err));
    nav->decodes++;
    rw_chunk_free(victim->chunk);
    victim->chunk = c;
    victim->index = k;
    victim->used = ++nav->clock;
    *out = c;
    return RW_OK;
}

/* The chunk holding event pos (pos < nevents): chunks without events (annotations
 * only) can share a first_event with the next one. */
static size_t chunk_of_event(const rw_nav *nav, uint64_t pos)
{
    size_t k = rw_reader_find_chunk(nav->r, pos);
    while (k > 0) {
        const rw_chunk_info *ci = rw_reader_chunk(nav->r, k);
        if (ci->event_count && pos >= ci->first_event && pos < ci->first_event + ci->event_count)
            break;
        k--;
    }
    return k;
}

/* The first chunk that may hold a record with position >= pos (annotations just
 * before event pos can sit at the tail of an earlier chunk). */
static size_t first_chunk_for(const rw_nav *nav, uint64_t pos)
{
    size_t n = rw_reader_nchunks(nav->r);
    if (!n)
        return 0;
    size_t k = rw_reader_find_chunk(nav->r, pos);
    if (k >= n)
        k = n - 1;
    while (k > 0 && rw_reader_chunk(nav->r, k)->first_event >= pos)
        k--;
    return k;
}

typedef int (*chunk_fn)(void *ctx, const rw_event *ev, const rw_decoder *d);

/* Runs fn over every record of chunk k in order until it returns non-zero.
 * *stopped says whether it did. */
static rw_code scan_chunk(rw_nav *nav, size_t k, chunk_fn fn, void *ctx, int *stopped,
                          rw_err *err)
{
    const rw_chunk *c;
    RW_TRY(get_chunk(nav, k, &c, err));
    rw_decoder *d;
    RW_TRY(rw_reader_decoder_new(nav->r, k, c, &d, err));
    rw_event ev;
    int rc;
    uint64_t last = 0; /* records come in position order (the decoder numbers them) */
    *stopped = 0;
    while ((rc = rw_decoder_next(d, &ev, err)) == 1) {
        assert(ev.pos >= last);
        last = ev.pos;
        (void)last;
        if (fn(ctx, &ev, d)) {
            *stopped = 1;
            break;
        }
    }
    rw_decoder_free(d);
    return rc < 0 ? err->code : RW_OK;
}

static const rw_stack no_stack;

static const rw_stack *stack_of(const rw_decoder *d, uint32_t thread)
{
    const rw_stack *s = rw_decoder_stack(d, thread);
    return s ? s : &no_stack;
}

/* ---- rw_nav_at --------------------------------------------------------- */

typedef struct at_ctx {
    uint64_t pos;
    rw_event *ev;
    rw_stack *st;
    int found;
    int oom;
} at_ctx;

static int copy_stack(rw_stack *dst, const rw_stack *src, uint32_t extra)
{
    uint32_t need = src->depth + extra;
    if (need > dst->cap) {
        rw_frame *f = realloc(dst->frames, (size_t)need * sizeof *f);
        if (!f)
            return -1;
        dst->frames = f;
        dst->cap = need;
    }
    if (src->depth)
        memcpy(dst->frames, src->frames, (size_t)src->depth * sizeof *dst->frames);
    dst->depth = src->depth;
    dst->thread = src->thread;
    return 0;
}

static int at_fn(void *p, const rw_event *ev, const rw_decoder *d)
{
    at_ctx *a = p;
    if (!RW_IS_EVENT(ev->kind) || ev->pos != a->pos)
        return 0;
    *a->ev = *ev;
    const rw_stack *s = stack_of(d, ev->thread);
    int ret = ev->kind == RW_K_RETURN || ev->kind == RW_K_C_RETURN ||
              ev->kind == RW_K_C_EXCEPTION;
    if (copy_stack(a->st, s, ret ? 1 : 0) < 0) {
        a->oom = 1;
        return 1;
    }
    a->st->thread = ev->thread;
    if (ret) {
        /* Put the returning frame back: its depth is ev->depth. */
        uint32_t depth = ev->depth ? ev->depth - 1 : a->st->depth;
        if (depth > a->st->depth)
            depth = a->st->depth;
        rw_frame f = {.code = ev->code, .line = ev->line, .call_pos = ev->call_pos,
                      .call_tick = ev->call_tick, .is_c = (uint8_t)(ev->kind != RW_K_RETURN)};
        a->st->depth = depth;
        a->st->frames[a->st->depth++] = f;
    }
    a->found = 1;
    return 1;
}

rw_code rw_nav_at(rw_nav *nav, uint64_t pos, rw_event *ev, rw_stack *st, rw_err *err)
{
    if (pos >= rw_nav_nevents(nav))
        return rw_err_set(err, RW_EINVAL, "position %llu is past the last event (%llu)",
                          (unsigned long long)pos,
                          (unsigned long long)(rw_nav_nevents(nav) - 1));
    at_ctx a = {pos, ev, st, 0, 0};
    int stopped;
    RW_TRY(scan_chunk(nav, chunk_of_event(nav, pos), at_fn, &a, &stopped, err));
    if (a.oom)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    assert(!a.found || (st->depth <= st->cap && ev->pos == pos));
    if (!a.found)
        return rw_err_set(err, RW_ECORRUPT, "event %llu is not in the chunk the index names",
                          (unsigned long long)pos);
    if (ev->text) {
        if (ev->text_len + 1 > nav->text_cap) {
            char *p = realloc(nav->text, ev->text_len + 1);
            if (!p)
                return rw_err_set(err, RW_ENOMEM, "out of memory");
            nav->text = p;
            nav->text_cap = ev->text_len + 1;
        }
        memcpy(nav->text, ev->text, ev->text_len);
        nav->text[ev->text_len] = '\0';
        ev->text = nav->text;
    }
    return RW_OK;
}

/* ---- searches --------------------------------------------------------------- */

typedef struct search_ctx {
    uint64_t lo, hi;      /* positions lo <= pos < hi are shown (lo > from) */
    int all;
    rw_nav_match m;
    void *ctx;
    int found;
    uint64_t pos;
    int past;             /* a record at or after hi was seen: stop scanning */
    int last_wins;        /* backward: keep going, remember the last match */
} search_ctx;

static int search_fn(void *p, const rw_event *ev, const rw_decoder *d)
{
    search_ctx *s = p;
    int is_event = RW_IS_EVENT(ev->kind);
    if (!is_event && !s->all)
        return 0;
    if (ev->pos < s->lo)
        return 0;
    if (ev->pos >= s->hi) {
        s->past = 1;
        return 1;
    }
    if (s->m(s->ctx, ev, stack_of(d, ev->thread))) {
        s->found = 1;
        s->pos = ev->pos;
        return !s->last_wins;
    }
    return 0;
}

rw_code rw_nav_next(rw_nav *nav, uint64_t from, uint64_t end, int flags, rw_nav_match m,
                    void *ctx, uint64_t *found, rw_err *err)
{
    uint64_t lo = from == UINT64_MAX ? 0 : from + 1;
    uint64_t n = rw_nav_nevents(nav);
    if (end > n + 1)
        end = n + 1;
    search_ctx s = {lo, end, flags & RW_NAV_ALL, m, ctx, 0, 0, 0, 0};
    size_t nchunks = rw_reader_nchunks(nav->r);
    for (size_t k = first_chunk_for(nav, lo); k < nchunks && lo < end; k++) {
        int stopped;
        if (rw_reader_chunk(nav->r, k)->first_event >= end)
            break;
        if (!chunk_may_match(nav, k))
            continue;
        RW_TRY(scan_chunk(nav, k, search_fn, &s, &stopped, err));
        if (s.found) {
            assert(s.pos >= lo && s.pos < end);
            *found = s.pos;
            return RW_OK;
        }
        if (s.past)
            break;
    }
    return rw_err_set(err, RW_ENOTFOUND, "no match after event %llu",
                      (unsigned long long)(from == UINT64_MAX ? 0 : from));
}

rw_code rw_nav_prev(rw_nav *nav, uint64_t from, uint64_t begin, rw_nav_match m, void *ctx,
                    uint64_t *found, rw_err *err)
{
    uint64_t n = rw_nav_nevents(nav);
    if (from > n)
        from = n;
    if (from == 0 || begin >= from)
        return rw_err_set(err, RW_ENOTFOUND, "no match before event %llu",
                          (unsigned long long)from);
    size_t k = chunk_of_event(nav, from - 1);
    for (;;) {
        const rw_chunk_info *ci = rw_reader_chunk(nav->r, k);
        if (ci->event_count && chunk_may_match(nav, k)) {
            search_ctx s = {begin, from, 0, m, ctx, 0, 0, 0, 1};
            int stopped;
            RW_TRY(scan_chunk(nav, k, search_fn, &s, &stopped, err));
            if (s.found) {
                assert(s.pos >= begin && s.pos < from);
                *found = s.pos;
                return RW_OK;
            }
        }
        if (k == 0 || ci->first_event <= begin)
            break;
        k--;
    }
    return rw_err_set(err, RW_ENOTFOUND, "no match before event %llu", (unsigned long long)from);
}

typedef struct visit_ctx {
    uint64_t from, to;
    rw_nav_match fn;
    void *ctx;
    int past;
} visit_ctx;

static int visit_fn(void *p, const rw_event *ev, const rw_decoder *d)
{
    visit_ctx *v = p;
    if (ev->pos < v->from)
        return 0;
    if (ev->pos >= v->to) {
        v->past = 1;
        return 1;
    }
    return v->fn(v->ctx, ev, stack_of(d, ev->thread));
}

rw_code rw_nav_visit(rw_nav *nav, uint64_t from, uint64_t to, rw_nav_match fn, void *ctx,
                     rw_err *err)
{
    visit_ctx v = {from, to, fn, ctx, 0};
    size_t nchunks = rw_reader_nchunks(nav->r);
    for (size_t k = first_chunk_for(nav, from); k < nchunks; k++) {
        int stopped;
        if (rw_reader_chunk(nav->r, k)->first_event > to)
            break;
        RW_TRY(scan_chunk(nav, k, visit_fn, &v, &stopped, err));
        if (stopped)
            break;
    }
    return RW_OK;
}

/* ---- frame-confined searches -------------------------------------------------- */

/* The stack of thread at the start of chunk k (borrowed, valid until the navigator is
 * freed or the entry is reloaded for another thread). Reads the chunk without putting
 * it in the cache, so that keyframe probes do not evict the chunks being stepped in. */
static rw_code keyframe_of(rw_nav *nav, size_t k, uint32_t thread, const rw_stack **out,
                           rw_err *err)
{
    size_t n = rw_reader_nchunks(nav->r);
    assert(k < n);
    if (!nav->kf && !(nav->kf = calloc(n, sizeof *nav->kf)))
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    keyframe *e = &nav->kf[k];
    if (!e->loaded || e->thread != thread) {
        rw_chunk *c = NULL;
        const rw_chunk *cc = NULL;
        for (int i = 0; i < CACHE_SLOTS; i++)
            if (nav->cache[i].chunk && nav->cache[i].index == k)
                cc = nav->cache[i].chunk;
        if (!cc) {
            RW_TRY(rw_reader_load_chunk(nav->r, k, &c, err));
            nav->decodes++;
            cc = c;
        }
        rw_decoder *d;
        rw_code rc = rw_reader_decoder_new(nav->r, k, cc, &d, err);
        if (rc == RW_OK) {
            const rw_stack *s = stack_of(d, thread);
            if (copy_stack(&e->st, s, 0) < 0)
                rc = rw_err_set(err, RW_ENOMEM, "out of memory");
            rw_decoder_free(d);
        }
        rw_chunk_free(c);
        RW_TRY(rc);
        e->loaded = 1;
        e->thread = thread;
    }
    *out = &e->st;
    return RW_OK;
}

/* In stack st, the call position of the frame just above the one opened at
 * frame_call; 0 when that frame is not there or is on top. */
static uint64_t callee_of(const rw_stack *st, uint64_t frame_call)
{
    for (uint32_t i = 0; i + 1 < st->depth; i++)
        if (st->frames[i].call_pos == frame_call)
            return st->frames[i + 1].call_pos;
    return 0;
}

static int runs_callee(const rw_stack *st, uint64_t frame_call, uint64_t callee)
{
    return callee && callee_of(st, frame_call) == callee;
}

rw_code rw_nav_next_in_frame(rw_nav *nav, uint64_t from, uint64_t end, uint32_t thread,
                             uint64_t frame_call, rw_nav_match m, void *ctx, uint64_t *found,
                             rw_err *err)
{
    uint64_t n = rw_nav_nevents(nav);
    if (end > n)
        end = n;
    size_t nchunks = rw_reader_nchunks(nav->r);
    uint64_t lo = from == UINT64_MAX ? 0 : from + 1;
    if (lo >= end)
        return rw_err_set(err, RW_ENOTFOUND, "no match after event %llu",
                          (unsigned long long)lo);
    size_t k = chunk_of_event(nav, lo);
    while (k < nchunks) {
        const rw_chunk_info *ci = rw_reader_chunk(nav->r, k);
        if (ci->first_event >= end)
            break;
        search_ctx s = {lo, end, 0, m, ctx, 0, 0, 0, 0};
        int stopped;
        RW_TRY(scan_chunk(nav, k, search_fn, &s, &stopped, err));
        if (s.found) {
            assert(s.pos >= lo && s.pos < end);
            *found = s.pos;
            return RW_OK;
        }
        if (s.past || k + 1 >= nchunks)
            break;
        /* A callee running at the start of chunk k + 1: find the first chunk whose
         * keyframe no longer shows it (it returned in the chunk before), galloping
         * then bisecting over keyframes. */
        const rw_stack *kf;
        RW_TRY(keyframe_of(nav, k + 1, thread, &kf, err));
        uint64_t callee = callee_of(kf, frame_call);
        size_t next = k + 1;
        if (callee) {
            size_t good = k + 1, step = 1, bad = nchunks;
            for (;;) {
                size_t probe = good + step;
                if (probe >= nchunks)
                    break;
                RW_TRY(keyframe_of(nav, probe, thread, &kf, err));
                if (!runs_callee(kf, frame_call, callee)) {
                    bad = probe;
                    break;
                }
                good = probe;
                step *= 2;
            }
            assert(good < bad && bad <= nchunks);
            while (bad - good > 1) {
                size_t mid = good + (bad - good) / 2;
                RW_TRY(keyframe_of(nav, mid, thread, &kf, err));
                if (runs_callee(kf, frame_call, callee))
                    good = mid;
                else
                    bad = mid;
            }
            next = good; /* the callee returns in chunk good (or never) */
        }
        lo = rw_reader_chunk(nav->r, next)->first_event;
        k = next;
    }
    return rw_err_set(err, RW_ENOTFOUND, "no match after event %llu",
                      (unsigned long long)(from == UINT64_MAX ? 0 : from));
}

rw_code rw_nav_prev_in_frame(rw_nav *nav, uint64_t from, uint64_t begin, uint32_t thread,
                             uint64_t frame_call, rw_nav_match m, void *ctx, uint64_t *found,
                             rw_err *err)
{
    uint64_t n = rw_nav_nevents(nav);
    if (from > n)
        from = n;
    while (from > begin && from > 0) {
        size_t k = chunk_of_event(nav, from - 1);
        const rw_chunk_info *ci = rw_reader_chunk(nav->r, k);
        search_ctx s = {begin, from, 0, m, ctx, 0, 0, 0, 1};
        int stopped;
        RW_TRY(scan_chunk(nav, k, search_fn, &s, &stopped, err));
        if (s.found) {
            assert(s.pos >= begin && s.pos < from);
            *found = s.pos;
            return RW_OK;
        }
        if (ci->first_event <= begin || k == 0)
            break;
        /* A callee running at the start of chunk k began at its call: nothing of the
         * frame's own happened between that call and here. */
        const rw_stack *kf;
        RW_TRY(keyframe_of(nav, k, thread, &kf, err));
        uint64_t callee = callee_of(kf, frame_call);
        from = callee && callee < ci->first_event ? callee : ci->first_event;
    }
    return rw_err_set(err, RW_ENOTFOUND, "no match before event %llu", (unsigned long long)from);
}

/* Does st show the frame opened at frame_call? */
static int shows_frame(const rw_stack *st, uint64_t frame_call)
{
    for (uint32_t i = 0; i < st->depth; i++)
        if (st->frames[i].call_pos == frame_call)
            return 1;
    return 0;
}

typedef struct ret_ctx {
    uint64_t lo, frame_call;
    int found;
    uint64_t pos;
} ret_ctx;

static int ret_fn(void *p, const rw_event *ev, const rw_decoder *d)
{
    (void)d;
    ret_ctx *c = p;
    if (ev->pos < c->lo || ev->kind != RW_K_RETURN || ev->call_pos != c->frame_call)
        return 0;
    c->found = 1;
    c->pos = ev->pos;
    return 1;
}

rw_code rw_nav_frame_return(rw_nav *nav, uint64_t from, uint32_t thread, uint64_t frame_call,
                            uint64_t *found, rw_err *err)
{
    uint64_t n = rw_nav_nevents(nav);
    size_t nchunks = rw_reader_nchunks(nav->r);
    uint64_t lo = from + 1;
    if (lo >= n || !nchunks)
        return rw_err_set(err, RW_ENOTFOUND, "no return after event %llu",
                          (unsigned long long)from);
    size_t k = chunk_of_event(nav, lo);
    /* The last chunk whose keyframe still shows the frame: galloping, then bisecting
     * over keyframes (the frame is on the stack from its call to its return). */
    size_t good = k, step = 1, bad = nchunks;
    const rw_stack *kf;
    for (;;) {
        size_t probe = good + step;
        if (probe >= nchunks)
            break;
        RW_TRY(keyframe_of(nav, probe, thread, &kf, err));
        if (!shows_frame(kf, frame_call)) {
            bad = probe;
            break;
        }
        good = probe;
        step *= 2;
    }
    while (bad - good > 1) {
        size_t mid = good + (bad - good) / 2;
        RW_TRY(keyframe_of(nav, mid, thread, &kf, err));
        if (shows_frame(kf, frame_call))
            good = mid;
        else
            bad = mid;
    }
    for (size_t c = good; c < nchunks; c++) {
        ret_ctx r = {lo, frame_call, 0, 0};
        int stopped;
        RW_TRY(scan_chunk(nav, c, ret_fn, &r, &stopped, err));
        if (r.found) {
            *found = r.pos;
            return RW_OK;
        }
    }
    return rw_err_set(err, RW_ENOTFOUND, "no return after event %llu", (unsigned long long)from);
}
