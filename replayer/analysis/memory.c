/* Memory analysis (memory.h): tracemalloc rebuilt from the allocation records.
 *
 * One forward pass over the records keeps every live block in an rw_addrmap whose
 * aux is the block's allocation site: an interned (traceback, thread, allocator
 * domain), shared by every block allocated there, so that a live block costs only
 * its map entry (addrmap.h: at most 24 bytes, with address and size). Snapshots
 * hold one entry per site, never one per block. Tracebacks are interned by content ((file, line) frames plus total_nframe) in one
 * table shared by the blocks and by the statistic keys (which are tracebacks too, as
 * in tracemalloc: a lineno key is a one-frame traceback). Allocations in a row on one
 * thread with no event between them share a stack, so the traceback is computed once
 * per (thread, position).
 */
#include "memory.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "addrmap.h"
#include "records.h"
#include "scan.h"
#include "source_text.h"

/* Keys of statistics are interned with this total so that they never collide with
 * the tracebacks of blocks (whose total is at most 65535, like tracemalloc's). */
#define KEY_TOTAL UINT32_MAX
#define TOTAL_MAX 65535u
#define PROGRESS_EVERY (1u << 18)

/* An allocation site: what tracemalloc and the filters know of a block besides its
 * address and size. */
typedef struct site {
    uint32_t tb;
    uint32_t thread;
    uint8_t dom;
} site;

typedef struct tb_ent {
    uint64_t hash;
    uint32_t off;    /* first frame in m->frames */
    uint32_t n;      /* frames (>= 1) */
    uint32_t total;  /* total_nframe, or KEY_TOTAL for statistic keys */
} tb_ent;

typedef struct held_alloc {
    rw_event ev;
    uint32_t site; /* taken when read: the cursor's stacks move on */
    int keep;
} held_alloc;

/* Last traceback computed for a thread: valid for allocations at the same position;
 * with the site of that traceback in each allocator domain (NO_SITE = not yet). */
#define NO_SITE UINT32_MAX
typedef struct th_cache {
    uint64_t pos;
    uint32_t tb;
    uint32_t site[3];
    int valid;
} th_cache;

struct rw_mem {
    const rw_reader *r;
    rw_mem_opts o;

    /* definitions */
    uint32_t nfiles;
    uint32_t *file_canon;  /* FileDef id -> first FileDef id with the same path */
    uint32_t ncodes;
    uint32_t *code_file;   /* CodeDef id -> canonical FileDef id (0 unknown) */

    /* interned tracebacks. Invariant: every id in idx is < ntb, and
     * frames[tbs[i].off .. off+n) belong to tb i only. */
    tb_ent *tbs;
    uint32_t ntb, captb;
    rw_mem_frame *frames;
    size_t nframes, capframes;
    uint32_t *idx;         /* open addressing: tb id + 1, 0 = empty */
    size_t idxmask;
    rw_mem_frame *scratch; /* max_frames entries */

    th_cache *cache;
    uint32_t ncache;

    /* interned allocation sites: the aux of live blocks. Invariant: every id in
     * site_idx is < nsites. */
    site *sites;
    uint32_t nsites, capsites;
    uint32_t *site_idx;    /* open addressing: site id + 1, 0 = empty */
    size_t site_mask;

    /* replay state */
    rw_scan *cur;
    rw_event pending;      /* read but not applied (an event at or past the target) */
    int has_pending;
    int at_end;
    rw_addrmap live;
    /* --traced-since: the blocks tracemalloc, started at o.traced_from, would not
     * trace. Every block allocated before that event, and each reuse of such a block
     * off a free list until it is freed: _PyTraceMalloc_NewReference gives a reused
     * object the current traceback only when it traces its block. */
    rw_addrmap untraced;
    rw_mem_usage u;
    uint64_t next_progress;
    uint64_t stop_alloc;   /* stop once this many allocations are applied */
    int stopped;
    /* The last allocations read, not applied yet: they may be tracing mode's own
     * (decide_held). Invariant: nheld <= 2; a kept entry is never dropped. */
    held_alloc held[2];
    int nheld;
    int startup_reuse;     /* a STARTUP_REUSE was read: the next ALLOC_OBJ is its */
    int plain_frames;      /* feature "tracer-objects": tracing mode's frame objects and
                            * line arrays are not in the trace, and a frame object's
                            * ALLOC_OBJ is where a plain run makes it */
    uint8_t *code_seen;    /* CodeDef id -> a CALL of it was replayed */
    uint64_t *gen_frame;   /* CodeDef id of a generator-like code -> the size of its
                            * frame object (0 = not known yet) */
    /* The frame object that tracing mode made for the frame at each depth of each
     * thread and decide_held dropped (size 0: none): revive_frame_object brings it
     * back when an exception passes through that frame. Indexed [thread][depth]. */
    struct fobj_stack {
        struct fobj {
            uint64_t addr, size;
        } *v;
        uint32_t cap;
    } *fobj;
    uint32_t nfobj;

    /* timeline */
    rw_timebase timebase;  /* the trace's; samples run from its start_tick */
    uint64_t span_ticks;
    uint64_t *tl_max, *tl_last;
    uint8_t *tl_seen;
    uint64_t *tl_out_max, *tl_out_last;
};

static rw_code oom(rw_err *err)
{
    return rw_err_set(err, RW_ENOMEM, "out of memory replaying allocations");
}

/* ---- definitions --------------------------------------------------------------- */

/* The path of FileDef f, NULL for an unknown file (0 or past the table). */
static const char *def_path(const rw_defs *d, uint32_t f)
{
    const Rewind__FileDef *fd = f ? rw_defs_file(d, f) : NULL;
    return fd ? fd->path : NULL;
}

/* qsort_r comparator of FileDef ids (every one with a path) by path, then id; ctx is
 * the rw_defs. */
static int cmp_file_path(const void *a, const void *b, void *ctx)
{
    const rw_defs *d = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int c = strcmp(def_path(d, x), def_path(d, y));
    return c ? c : (x > y) - (x < y);
}

/* Maps every FileDef id to the smallest id with the same path, so that frames of two
 * definitions of one file compare equal (tracemalloc compares filenames). */
static rw_code load_defs(rw_mem *m, rw_err *err)
{
    const rw_defs *d = rw_reader_defs(m->r);
    m->nfiles = d->nfiles;
    m->file_canon = calloc(d->nfiles + 1, sizeof *m->file_canon);
    uint32_t *order = malloc((d->nfiles + 1) * sizeof *order);
    if (!m->file_canon || !order) {
        free(order);
        return oom(err);
    }
    uint32_t n = 0;
    for (uint32_t f = 1; f < d->nfiles; f++)
        if (def_path(d, f))
            order[n++] = f;
    qsort_r(order, n, sizeof *order, cmp_file_path, (void *)d);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t f = order[i];
        if (i > 0 && !strcmp(def_path(d, order[i - 1]), def_path(d, f)))
            m->file_canon[f] = m->file_canon[order[i - 1]];
        else
            m->file_canon[f] = f;
    }
    free(order);

    m->ncodes = d->ncodes;
    m->code_file = calloc(d->ncodes + 1, sizeof *m->code_file);
    if (!m->code_file)
        return oom(err);
    for (uint32_t c = 1; c < d->ncodes; c++) {
        m->code_file[c] = m->file_canon[rw_defs_code_file(d, c)];
    }
    return RW_OK;
}

const char *rw_mem_file_path(const rw_mem *m, uint32_t file)
{
    const char *p = def_path(rw_reader_defs(m->r), file);
    return p ? p : "<unknown>";
}

void rw_mem_source_line(const rw_mem *m, uint32_t file, uint32_t line, char *buf, size_t len)
{
    const char *text;
    size_t n;
    rw_source_text_line l;
    if (len == 0)
        return;
    buf[0] = 0;
    /* linecache.getline(...).strip(): lines end at "\n", whitespace goes both sides. */
    if (!rw_source_text_of_file(rw_reader_defs(m->r), file, &text, &n) ||
        !rw_source_text_find(text, n, RW_SOURCE_TEXT_LF, line, &l))
        return;
    const char *s = l.s, *e = l.s + l.len;
    while (s < e && isspace((unsigned char)*s))
        s++;
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    size_t k = (size_t)(e - s) < len - 1 ? (size_t)(e - s) : len - 1;
    memcpy(buf, s, k);
    buf[k] = 0;
}

/* ---- traceback interning -------------------------------------------------------- */

static uint64_t hash_frames(const rw_mem_frame *f, uint32_t n, uint32_t total)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ total;
    for (uint32_t i = 0; i < n; i++) {
        h ^= ((uint64_t)f[i].file << 32) | f[i].line;
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 29;
    }
    return h;
}

static int idx_grow(rw_mem *m)
{
    size_t ncap = m->idx ? (m->idxmask + 1) * 2 : 1024;
    uint32_t *ni = calloc(ncap, sizeof *ni);
    if (!ni)
        return -1;
    for (uint32_t id = 0; id < m->ntb; id++) {
        size_t j = (size_t)m->tbs[id].hash & (ncap - 1);
        while (ni[j])
            j = (j + 1) & (ncap - 1);
        ni[j] = id + 1;
    }
    free(m->idx);
    m->idx = ni;
    m->idxmask = ncap - 1;
    return 0;
}

/* Interns frames f[0..n) (most recent first) with total; *id gets its id. */
static rw_code intern_tb(rw_mem *m, const rw_mem_frame *f, uint32_t n, uint32_t total,
                         uint32_t *id, rw_err *err)
{
    uint64_t h = hash_frames(f, n, total);
    if (m->idx) {
        size_t j = (size_t)h & m->idxmask;
        for (; m->idx[j]; j = (j + 1) & m->idxmask) {
            const tb_ent *t = &m->tbs[m->idx[j] - 1];
            if (t->hash == h && t->n == n && t->total == total &&
                !memcmp(&m->frames[t->off], f, n * sizeof *f)) {
                *id = m->idx[j] - 1;
                return RW_OK;
            }
        }
    }
    if (m->ntb == UINT32_MAX - 1 || m->nframes + n > UINT32_MAX)
        return rw_err_set(err, RW_ENOMEM, "too many distinct tracebacks");
    if ((size_t)(m->ntb + 1) * 2 > (m->idx ? m->idxmask + 1 : 0) && idx_grow(m) < 0)
        return oom(err);
    if (m->ntb == m->captb) {
        uint32_t nc = m->captb ? m->captb * 2 : 256;
        tb_ent *nt = realloc(m->tbs, (size_t)nc * sizeof *nt);
        if (!nt)
            return oom(err);
        m->tbs = nt;
        m->captb = nc;
    }
    if (m->nframes + n > m->capframes) {
        size_t nc = m->capframes ? m->capframes * 2 : 1024;
        while (nc < m->nframes + n)
            nc *= 2;
        rw_mem_frame *nf = realloc(m->frames, nc * sizeof *nf);
        if (!nf)
            return oom(err);
        m->frames = nf;
        m->capframes = nc;
    }
    memcpy(&m->frames[m->nframes], f, n * sizeof *f);
    tb_ent *t = &m->tbs[m->ntb];
    t->hash = h;
    t->off = (uint32_t)m->nframes;
    t->n = n;
    t->total = total;
    m->nframes += n;
    size_t j = (size_t)h & m->idxmask;
    while (m->idx[j])
        j = (j + 1) & m->idxmask;
    m->idx[j] = m->ntb + 1;
    *id = m->ntb++;
    return RW_OK;
}

const rw_mem_frame *rw_mem_tb_frames(const rw_mem *m, uint32_t tb, uint32_t *nframes)
{
    if (tb >= m->ntb) {
        *nframes = 0;
        return NULL;
    }
    *nframes = m->tbs[tb].n;
    return &m->frames[m->tbs[tb].off];
}

uint32_t rw_mem_tb_total(const rw_mem *m, uint32_t tb)
{
    return tb < m->ntb && m->tbs[tb].total != KEY_TOTAL ? m->tbs[tb].total : 0;
}

/* The traceback of an allocation by ev->thread at ev->pos: the Python frames of its
 * shadow stack from the innermost outwards, at most max_frames of them, C frames
 * skipped; tracemalloc's ("<unknown>", 0) when there is none. */
static rw_code alloc_tb(rw_mem *m, const rw_event *ev, uint32_t *id, rw_err *err)
{
    uint32_t th = ev->thread;
    if (th < m->ncache && m->cache[th].valid && m->cache[th].pos == ev->pos) {
        *id = m->cache[th].tb;
        return RW_OK;
    }
    const rw_stack *st = rw_scan_stack(m->cur, th);
    uint32_t n = 0, total = 0;
    if (st) {
        for (uint32_t i = st->depth; i-- > 0;) {
            const rw_frame *fr = &st->frames[i];
            if (fr->is_c)
                continue;
            if (n < m->o.max_frames) {
                m->scratch[n].file = fr->code < m->ncodes ? m->code_file[fr->code] : 0;
                m->scratch[n].line = fr->line;
                n++;
            }
            if (total < TOTAL_MAX)
                total++;
        }
    }
    if (n == 0) {
        m->scratch[0].file = 0;
        m->scratch[0].line = 0;
        n = total = 1;
    }
    RW_TRY(intern_tb(m, m->scratch, n, total, id, err));
    if (th >= m->ncache) {
        uint32_t nc = m->ncache ? m->ncache : 8;
        while (nc <= th)
            nc *= 2;
        th_cache *c = realloc(m->cache, (size_t)nc * sizeof *c);
        if (!c)
            return oom(err);
        memset(c + m->ncache, 0, (size_t)(nc - m->ncache) * sizeof *c);
        m->cache = c;
        m->ncache = nc;
    }
    m->cache[th].valid = 1;
    m->cache[th].pos = ev->pos;
    m->cache[th].tb = *id;
    for (int d = 0; d < 3; d++)
        m->cache[th].site[d] = NO_SITE;
    return RW_OK;
}

static uint64_t hash_site(const site *s)
{
    uint64_t h = ((uint64_t)s->tb << 32 | s->thread) * 0x9E3779B97F4A7C15ull;
    return (h ^ (h >> 31) ^ s->dom) * 0xff51afd7ed558ccdull;
}

static int site_idx_grow(rw_mem *m)
{
    size_t ncap = m->site_idx ? (m->site_mask + 1) * 2 : 256;
    uint32_t *ni = calloc(ncap, sizeof *ni);
    if (!ni)
        return -1;
    for (uint32_t id = 0; id < m->nsites; id++) {
        size_t j = (size_t)hash_site(&m->sites[id]) & (ncap - 1);
        while (ni[j])
            j = (j + 1) & (ncap - 1);
        ni[j] = id + 1;
    }
    free(m->site_idx);
    m->site_idx = ni;
    m->site_mask = ncap - 1;
    return 0;
}

/* Interns the site (tb, thread, dom); *id gets its id. */
static rw_code intern_site(rw_mem *m, uint32_t tb, uint32_t thread, uint8_t dom, uint32_t *id,
                           rw_err *err)
{
    site k = {tb, thread, dom};
    uint64_t h = hash_site(&k);
    if (m->site_idx)
        for (size_t j = (size_t)h & m->site_mask; m->site_idx[j];
             j = (j + 1) & m->site_mask) {
            const site *x = &m->sites[m->site_idx[j] - 1];
            if (x->tb == tb && x->thread == thread && x->dom == dom) {
                *id = m->site_idx[j] - 1;
                return RW_OK;
            }
        }
    if (m->nsites == NO_SITE - 1)
        return rw_err_set(err, RW_ENOMEM, "too many distinct allocation sites");
    if ((size_t)(m->nsites + 1) * 2 > (m->site_idx ? m->site_mask + 1 : 0) &&
        site_idx_grow(m) < 0)
        return oom(err);
    if (m->nsites == m->capsites) {
        uint32_t nc = m->capsites ? m->capsites * 2 : 256;
        site *ns = realloc(m->sites, (size_t)nc * sizeof *ns);
        if (!ns)
            return oom(err);
        m->sites = ns;
        m->capsites = nc;
    }
    m->sites[m->nsites] = k;
    size_t j = (size_t)h & m->site_mask;
    while (m->site_idx[j])
        j = (j + 1) & m->site_mask;
    m->site_idx[j] = m->nsites + 1;
    *id = m->nsites++;
    return RW_OK;
}

/* The site of an allocation (record ev, read now: the cursor's stacks are ev's). */
static rw_code alloc_site(rw_mem *m, const rw_event *ev, uint32_t *id, rw_err *err)
{
    uint32_t tb;
    RW_TRY(alloc_tb(m, ev, &tb, err));
    uint8_t dom = (uint8_t)(ev->kind - RW_K_ALLOC_RAW);
    /* alloc_tb left the thread's cache valid for ev. */
    uint32_t *c = &m->cache[ev->thread].site[dom];
    if (*c == NO_SITE)
        RW_TRY(intern_site(m, tb, ev->thread, dom, c, err));
    *id = *c;
    return RW_OK;
}

/* ---- lifetime and replay -------------------------------------------------------- */

static uint64_t end_tick(const rw_reader *r)
{
    const Rewind__RunEnd *e = rw_reader_end(r);
    uint64_t t = rw_reader_nchunks(r) ? rw_reader_chunk(r, rw_reader_nchunks(r) - 1)->last_tick
                                      : 0;
    if (e && e->end_tick > t)
        t = e->end_tick;
    return t;
}

static void reset_state(rw_mem *m)
{
    memset(&m->u, 0, sizeof m->u);
    m->has_pending = 0;
    m->at_end = 0;
    m->nheld = 0;
    m->startup_reuse = 0;
    m->stopped = 0;
    if (m->code_seen)
        memset(m->code_seen, 0, m->ncodes + 1);
    if (m->gen_frame)
        memset(m->gen_frame, 0, (m->ncodes + 1) * sizeof *m->gen_frame);
    for (uint32_t i = 0; i < m->nfobj; i++)
        if (m->fobj[i].v)
            memset(m->fobj[i].v, 0, m->fobj[i].cap * sizeof *m->fobj[i].v);
    m->next_progress = PROGRESS_EVERY;
    for (uint32_t i = 0; i < m->ncache; i++)
        m->cache[i].valid = 0;
    if (m->tl_max) {
        memset(m->tl_max, 0, m->o.timeline_buckets * sizeof *m->tl_max);
        memset(m->tl_last, 0, m->o.timeline_buckets * sizeof *m->tl_last);
        memset(m->tl_seen, 0, m->o.timeline_buckets);
    }
}

rw_code rw_mem_new(const rw_reader *r, const rw_mem_opts *opts, rw_mem **out, rw_err *err)
{
    rw_mem_opts o = {0};
    if (opts)
        o = *opts;
    if (o.max_frames == 0)
        o.max_frames = RW_MEM_DEFAULT_FRAMES;
    if (o.max_frames > RW_MEM_MAX_FRAMES)
        return rw_err_set(err, RW_EINVAL, "traceback limit %u is too large (at most %u)",
                          o.max_frames, RW_MEM_MAX_FRAMES);
    if (o.timeline_buckets > (1u << 20))
        return rw_err_set(err, RW_EINVAL, "too many timeline samples (%u)", o.timeline_buckets);
    rw_mem *m = calloc(1, sizeof *m);
    if (!m)
        return oom(err);
    m->r = r;
    m->o = o;
    m->plain_frames = rw_meta_has_feature(rw_reader_metadata(r), "tracer-objects");
    rw_code rc = load_defs(m, err);
    if (rc != RW_OK) {
        rw_mem_free(m);
        return rc;
    }
    m->scratch = malloc(o.max_frames * sizeof *m->scratch);
    m->code_seen = calloc(m->ncodes + 1, 1);
    m->gen_frame = calloc(m->ncodes + 1, sizeof *m->gen_frame);
    if (!m->scratch || !m->code_seen || !m->gen_frame || rw_addrmap_init(&m->live) < 0 ||
        (o.traced_since_program && rw_addrmap_init(&m->untraced) < 0)) {
        rw_mem_free(m);
        return oom(err);
    }
    if (o.timeline_buckets) {
        size_t nb = o.timeline_buckets;
        m->tl_max = calloc(nb, sizeof *m->tl_max);
        m->tl_last = calloc(nb, sizeof *m->tl_last);
        m->tl_out_max = calloc(nb, sizeof *m->tl_out_max);
        m->tl_out_last = calloc(nb, sizeof *m->tl_out_last);
        m->tl_seen = calloc(nb, 1);
        if (!m->tl_max || !m->tl_last || !m->tl_out_max || !m->tl_out_last || !m->tl_seen) {
            rw_mem_free(m);
            return oom(err);
        }
    }
    m->timebase = rw_reader_timebase(r);
    uint64_t t1 = end_tick(r);
    m->span_ticks = t1 > m->timebase.start_tick ? t1 - m->timebase.start_tick : 0;
    reset_state(m);
    *out = m;
    return RW_OK;
}

void rw_mem_free(rw_mem *m)
{
    if (!m)
        return;
    rw_scan_close(m->cur);
    rw_addrmap_fini(&m->live);
    rw_addrmap_fini(&m->untraced);
    free(m->sites);
    free(m->site_idx);
    free(m->file_canon);
    free(m->code_file);
    free(m->tbs);
    free(m->frames);
    free(m->idx);
    free(m->scratch);
    free(m->code_seen);
    free(m->gen_frame);
    for (uint32_t i = 0; i < m->nfobj; i++)
        free(m->fobj[i].v);
    free(m->fobj);
    free(m->cache);
    free(m->tl_max);
    free(m->tl_last);
    free(m->tl_seen);
    free(m->tl_out_max);
    free(m->tl_out_last);
    free(m);
}

static void timeline_note(rw_mem *m, uint64_t tick)
{
    if (!m->tl_max)
        return;
    uint64_t n = m->o.timeline_buckets;
    uint64_t dt = tick > m->timebase.start_tick ? tick - m->timebase.start_tick : 0;
    uint64_t b = m->span_ticks ? (uint64_t)((double)dt / (double)(m->span_ticks + 1) * (double)n)
                               : 0;
    if (b >= n)
        b = n - 1;
    if (!m->tl_seen[b] || m->u.current > m->tl_max[b])
        m->tl_max[b] = m->u.current;
    m->tl_last[b] = m->u.current;
    m->tl_seen[b] = 1;
}

/* 1 when tracemalloc started at o.traced_from does not trace this allocation: one
 * before that event (an annotation's position is the event after it), kept in
 * m->untraced, or the reuse of such a block (an ALLOC_OBJ at an address that no FREE
 * gave back since); 0 when it does; -1 when out of memory. */
static int untraced_alloc(rw_mem *m, const rw_event *ev)
{
    if (ev->pos <= m->o.traced_from)
        return rw_addrmap_put(&m->untraced, ev->addr, ev->size, 0, NULL) < 0 ? -1 : 1;
    return m->untraced.count && rw_addrmap_get(&m->untraced, ev->addr, NULL);
}

static rw_code apply_alloc(rw_mem *m, const held_alloc *h, rw_err *err)
{
    const rw_event *ev = &h->ev;
    rw_addrmap_ent old;
    int untraced = m->o.traced_since_program ? untraced_alloc(m, ev) : 0;
    if (untraced < 0)
        return oom(err);
    if (untraced) {
        m->u.allocs++; /* numbered as in every mode (rw_mem_run_to_alloc) */
        if (m->u.allocs == m->stop_alloc)
            m->stopped = 1;
        return RW_OK;
    }
    size_t before = m->live.count;
    if (rw_addrmap_put(&m->live, ev->addr, ev->size, h->site, &old) < 0)
        return oom(err);
    if (m->live.count == before) { /* replaced a live block */
        m->u.current -= old.size;
        m->u.blocks--;
    }
    m->u.current += ev->size;
    m->u.blocks++;
    m->u.allocs++;
    if (m->u.current > m->u.peak) {
        m->u.peak = m->u.current;
        m->u.peak_pos = ev->pos;
        m->u.peak_alloc = m->u.allocs;
    }
    timeline_note(m, ev->tick);
    if (m->u.allocs == m->stop_alloc)
        m->stopped = 1;
    return RW_OK;
}

static void apply_free(rw_mem *m, const rw_event *ev)
{
    rw_addrmap_ent old;
    m->u.frees++;
    if (m->untraced.count && rw_addrmap_del(&m->untraced, ev->addr, NULL))
        return; /* a block tracemalloc did not trace (untraced_alloc) */
    if (rw_addrmap_del(&m->live, ev->addr, &old)) {
        m->u.current -= old.size;
        m->u.blocks--;
        timeline_note(m, ev->tick);
    } else {
        m->u.ignored_frees++;
    }
}

/* Applies held allocations in order until none is left or the stop is reached. */
static rw_code flush_held(rw_mem *m, rw_err *err)
{
    while (m->nheld && !m->stopped) {
        held_alloc h = m->held[0];
        m->held[0] = m->held[1];
        m->nheld--;
        RW_TRY(apply_alloc(m, &h, err));
    }
    return RW_OK;
}

#define EXC_TUPLE_SIZE 64 /* 16 (PyGC_Head) + 24 (PyTupleObject) + 3 * 8 */
#define CO_GENLIKE (0x20 | 0x80 | 0x200) /* CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR */

/* Tracing mode's own allocations, in traces without the feature "tracer-objects" (its
 * recorder leaves them out; a frame object's ALLOC_OBJ is then where a plain run makes
 * it, newref.c). CPython 3.11's call_trace() makes the frame object
 * of a frame when its first trace event (CALL) is delivered, and the code object's
 * line array (PyMem) the first time that code is traced; both come right before the
 * CALL record, after everything the program allocated. Without a trace function
 * neither would exist, so tracemalloc would not see them: drop them here (their
 * frees are then ignored, as frees of blocks never traced).
 *
 * A generator's (or coroutine's) frame object is made at its first resume only and
 * outlives it; later resumes allocate nothing. The first CALL of a generator-like
 * code is the first resume of its first generator, with the line array after the
 * frame object: both are dropped, and the frame object's size (the same for every
 * generator of that code) is remembered. At a later CALL of that code, the last
 * allocation before it is the frame object of a generator's first resume when it has
 * that size; otherwise it is the program's (a resumed generator makes none). */
/* The slot of the frame at depth of thread, grown as needed; NULL when out of memory
 * (the frame object is then not revived). */
static struct fobj *fobj_slot(rw_mem *m, uint32_t thread, uint32_t depth)
{
    if (thread >= m->nfobj) {
        uint32_t n = m->nfobj ? m->nfobj : 8;
        while (n <= thread)
            n *= 2;
        struct fobj_stack *ns = realloc(m->fobj, (size_t)n * sizeof *ns);
        if (!ns)
            return NULL;
        memset(ns + m->nfobj, 0, (size_t)(n - m->nfobj) * sizeof *ns);
        m->fobj = ns;
        m->nfobj = n;
    }
    struct fobj_stack *st = &m->fobj[thread];
    if (depth >= st->cap) {
        uint32_t n = st->cap ? st->cap : 64;
        while (n <= depth)
            n *= 2;
        struct fobj *nv = realloc(st->v, (size_t)n * sizeof *nv);
        if (!nv)
            return NULL;
        memset(nv + st->cap, 0, (size_t)(n - st->cap) * sizeof *nv);
        st->v = nv;
        st->cap = n;
    }
    return &st->v[depth];
}

/* Remembers (or forgets, size 0) the frame object dropped at CALL ev. */
static void note_frame_object(rw_mem *m, const rw_event *ev, uint64_t addr, uint64_t size)
{
    struct fobj *f = size || (ev->thread < m->nfobj && ev->depth < m->fobj[ev->thread].cap)
                         ? fobj_slot(m, ev->thread, ev->depth)
                         : NULL;
    if (f) {
        f->addr = addr;
        f->size = size;
    }
}

/* An exception passing through a frame: a plain run makes the frame's object there
 * (PyTraceBack_Here), which lives as long as the frame or the traceback, at the line
 * the exception passed. Under tracing mode that object was made at the frame's CALL
 * and left out (decide_held); it is the same object, freed at the same moment, so it
 * becomes a block allocated here. Not for StopIteration: FOR_ITER reports the one a
 * Python __next__ raised to the frame that loops, which makes no traceback entry. */
static rw_code revive_frame_object(rw_mem *m, const rw_event *ev, rw_err *err)
{
    if (ev->thread >= m->nfobj || ev->depth >= m->fobj[ev->thread].cap)
        return RW_OK;
    struct fobj *f = &m->fobj[ev->thread].v[ev->depth];
    if (!f->size)
        return RW_OK;
    const char *name = rw_defs_name_text(rw_reader_defs(m->r), ev->name);
    if (name && (!strcmp(name, "StopIteration") || !strcmp(name, "StopAsyncIteration")))
        return RW_OK;
    held_alloc h;
    memset(&h, 0, sizeof h);
    h.ev.kind = RW_K_ALLOC_OBJ;
    h.ev.thread = ev->thread;
    h.ev.pos = ev->pos;
    h.ev.tick = ev->tick;
    h.ev.addr = f->addr;
    h.ev.size = f->size;
    f->size = 0;
    if (rw_addrmap_get(&m->live, h.ev.addr, NULL))
        return RW_OK; /* the address holds another block: the object is gone */
    RW_TRY(alloc_site(m, &h.ev, &h.site, err));
    RW_TRY(apply_alloc(m, &h, err));
    m->u.revived_frames++;
    return RW_OK;
}

static void decide_held(rw_mem *m, const rw_event *ev)
{
    int undecided = m->nheld && !m->held[m->nheld - 1].keep;
    int dropped = 0;
    if (ev->kind == RW_K_CALL && undecided && !m->o.keep_tracer_allocs && !m->plain_frames) {
        const rw_defs *d = rw_reader_defs(m->r);
        uint32_t c = ev->code;
        const Rewind__CodeDef *cd = rw_defs_code(d, c);
        int genlike = cd && (cd->flags & CO_GENLIKE);
        int first = c < m->ncodes && !m->code_seen[c];
        held_alloc *h = m->held;
        int n = m->nheld;
        if (h[n - 1].ev.thread == ev->thread) {
            if (first && n == 2 && h[0].ev.kind == RW_K_ALLOC_OBJ &&
                h[1].ev.kind == RW_K_ALLOC_MEM && h[0].ev.thread == ev->thread) {
                if (genlike)
                    m->gen_frame[c] = h[0].ev.size;
                note_frame_object(m, ev, h[0].ev.addr, h[0].ev.size);
                m->nheld = 0;
                m->u.tracer_allocs += 2;
                dropped = 1;
            } else if (h[n - 1].ev.kind == RW_K_ALLOC_OBJ &&
                       (!genlike || (c < m->ncodes && m->gen_frame[c] &&
                                     h[n - 1].ev.size == m->gen_frame[c]))) {
                note_frame_object(m, ev, h[n - 1].ev.addr, h[n - 1].ev.size);
                m->nheld--;
                m->u.tracer_allocs++;
                dropped = 1;
            }
        }
    }
    if (ev->kind == RW_K_CALL && !dropped)
        note_frame_object(m, ev, 0, 0);
    /* call_exc_trace() hands the trace function (type, value, traceback) in a tuple it
     * packs right before the EXCEPTION record: a 3-tuple (GC header, tuple header and
     * three items, 64 bytes) of tracing mode's own, often off the free list. */
    if (ev->kind == RW_K_EXCEPTION && undecided && !m->o.keep_tracer_allocs) {
        const held_alloc *h = &m->held[m->nheld - 1];
        if (h->ev.kind == RW_K_ALLOC_OBJ && h->ev.size == EXC_TUPLE_SIZE &&
            h->ev.thread == ev->thread) {
            m->nheld--;
            m->u.tracer_allocs++;
        }
    }
    if (ev->kind == RW_K_CALL && ev->code < m->ncodes)
        m->code_seen[ev->code] = 1;
    for (int i = 0; i < m->nheld; i++)
        m->held[i].keep = 1;
}

/* Replays until the next record is an event numbered >= pos, or until the
 * stop_alloc-th allocation has been applied. */
static rw_code run(rw_mem *m, uint64_t pos, uint64_t stop_alloc, rw_err *err)
{
    uint64_t nev = rw_reader_nevents(m->r);
    if (pos > nev)
        return rw_err_set(err, RW_EINVAL, "position %llu is past the end (%llu events)",
                          (unsigned long long)pos, (unsigned long long)nev);
    if (!m->cur || pos < m->u.pos || stop_alloc < m->u.allocs) {
        rw_scan_close(m->cur);
        m->cur = NULL;
        rw_addrmap_fini(&m->live);
        if (rw_addrmap_init(&m->live) < 0)
            return oom(err);
        if (m->o.traced_since_program) {
            rw_addrmap_fini(&m->untraced);
            if (rw_addrmap_init(&m->untraced) < 0)
                return oom(err);
        }
        reset_state(m);
        rw_scan_opts so;
        rw_scan_opts_default(&so);
        RW_TRY(rw_scan_open(m->r, &so, &m->cur, err));
    }
    m->stop_alloc = stop_alloc;
    m->stopped = stop_alloc <= m->u.allocs;
    uint64_t total = rw_reader_nrecords(m->r);
    while (!m->stopped) {
        rw_event ev;
        if (m->has_pending) {
            ev = m->pending;
            m->has_pending = 0;
        } else {
            if (m->at_end) {
                RW_TRY(flush_held(m, err));
                break;
            }
            int got = rw_scan_next(m->cur, &ev, err);
            if (got < 0)
                return err->code;
            if (got == 0) {
                m->at_end = 1;
                m->u.pos = nev;
                continue;
            }
            m->u.records++;
            if (m->u.records >= m->next_progress) {
                m->next_progress += PROGRESS_EVERY;
                if (m->o.progress)
                    m->o.progress(m->o.progress_ctx, m->u.records, total);
            }
        }
        if (ev.kind == RW_K_STARTUP_REUSE) {
            m->startup_reuse = 1;
            continue;
        }
        if (m->startup_reuse && ev.kind == RW_K_ALLOC_OBJ) {
            /* Its ALLOC_OBJ (another thread's records drained from the side buffer
             * may come between the two). */
            m->startup_reuse = 0;
            if (m->o.traced_since_program) {
                m->u.pos = ev.pos;
                continue; /* a block start-up made: untraced */
            }
        }
        if (RW_IS_ALLOC(ev.kind)) {
            held_alloc *last = m->nheld ? &m->held[m->nheld - 1] : NULL;
            if (last && !last->keep && last->ev.kind == RW_K_ALLOC_RAW &&
                ev.kind != RW_K_ALLOC_RAW && last->ev.addr == ev.addr &&
                last->ev.thread == ev.thread) {
                /* PyMem_Malloc / PyObject_Malloc of more than 512 bytes: pymalloc
                 * asked PyMem_RawMalloc for the block, and both hooks recorded it
                 * (the inner one first). tracemalloc traces it once, in the outer
                 * call: so does this. */
                RW_TRY(alloc_site(m, &ev, &last->site, err));
                last->ev = ev;
                m->u.pos = ev.pos;
                continue;
            }
            if (m->nheld == 2) {
                held_alloc first = m->held[0];
                m->held[0] = m->held[1];
                m->nheld = 1;
                RW_TRY(apply_alloc(m, &first, err));
            }
            RW_TRY(alloc_site(m, &ev, &m->held[m->nheld].site, err));
            m->held[m->nheld].ev = ev;
            m->held[m->nheld].keep = 0;
            m->nheld++;
            m->u.pos = ev.pos;
            continue;
        }
        if (ev.kind == RW_K_GEN)
            continue; /* between a generator's frame object and its CALL (decide_held) */
        if (RW_IS_EVENT(ev.kind))
            decide_held(m, &ev);
        RW_TRY(flush_held(m, err));
        if (m->stopped || (RW_IS_EVENT(ev.kind) && ev.pos >= pos)) {
            m->pending = ev;
            m->has_pending = 1;
            m->u.pos = ev.pos;
            break;
        }
        if (RW_IS_FREE(ev.kind))
            apply_free(m, &ev);
        else if (ev.kind == RW_K_EXCEPTION && !m->o.keep_tracer_allocs && !m->plain_frames)
            RW_TRY(revive_frame_object(m, &ev, err));
        /* After event k the state is that of position k + 1; an annotation belongs to
         * the position of the event after it. */
        m->u.pos = RW_IS_EVENT(ev.kind) ? ev.pos + 1 : ev.pos;
    }
    return RW_OK;
}

rw_code rw_mem_run_to(rw_mem *m, uint64_t pos, rw_err *err)
{
    RW_TRY(run(m, pos, UINT64_MAX, err));
    m->u.pos = pos;
    return RW_OK;
}

rw_code rw_mem_run_to_alloc(rw_mem *m, uint64_t nalloc, rw_err *err)
{
    return run(m, rw_reader_nevents(m->r), nalloc, err);
}

void rw_mem_get_usage(const rw_mem *m, rw_mem_usage *u)
{
    *u = m->u;
    u->tracebacks = m->ntb;
    u->sites = m->nsites;
    u->map_bytes = rw_addrmap_bytes(&m->live);
}

void rw_mem_get_timeline(rw_mem *m, rw_mem_timeline *t)
{
    memset(t, 0, sizeof *t);
    if (!m->tl_max)
        return;
    size_t n = m->o.timeline_buckets;
    uint64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        if (m->tl_seen[i]) {
            /* The slice starts at the level the previous one ended with. */
            m->tl_out_max[i] = m->tl_max[i] > prev ? m->tl_max[i] : prev;
            prev = m->tl_last[i];
        } else {
            m->tl_out_max[i] = prev;
        }
        m->tl_out_last[i] = prev;
    }
    t->n = n;
    t->span_ns = rw_timebase_span_ns(&m->timebase, (double)m->span_ticks);
    t->max = m->tl_out_max;
    t->last = m->tl_out_last;
}

/* ---- snapshots and filters ------------------------------------------------------ */

typedef struct acc2 {
    uint64_t size, count;
} acc2;

rw_code rw_mem_snapshot_take(const rw_mem *m, uint32_t thread, rw_mem_snapshot **out,
                             rw_err *err)
{
    /* Per site: the blocks and bytes live there. */
    size_t ns = m->nsites ? m->nsites : 1;
    rw_mem_snapshot *s = calloc(1, sizeof *s);
    acc2 *a = calloc(ns, sizeof *a);
    if (!s || !a) {
        free(s);
        free(a);
        return oom(err);
    }
    rw_addrmap_iter it = {0};
    rw_addrmap_ent e;
    size_t used = 0;
    while (rw_addrmap_next(&m->live, &it, &e)) {
        assert(e.aux < m->nsites);
        if (thread && m->sites[e.aux].thread != thread)
            continue;
        used += !a[e.aux].count;
        a[e.aux].count++;
        a[e.aux].size += e.size;
    }
    s->traces = malloc((used ? used : 1) * sizeof *s->traces);
    if (!s->traces) {
        free(s);
        free(a);
        return oom(err);
    }
    for (uint32_t i = 0; i < m->nsites; i++) {
        if (!a[i].count)
            continue;
        rw_mem_trace *t = &s->traces[s->n++];
        t->size = a[i].size;
        t->count = a[i].count;
        t->site = i;
        t->tb = m->sites[i].tb;
        t->thread = m->sites[i].thread;
        t->adomain = m->sites[i].dom;
    }
    free(a);
    s->pos = m->u.pos;
    s->allocs = m->u.allocs;
    s->frees = m->u.frees;
    s->traceback_limit = m->o.max_frames;
    *out = s;
    return RW_OK;
}

void rw_mem_snapshot_free(rw_mem_snapshot *s)
{
    if (!s)
        return;
    free(s->traces);
    free(s);
}

/* tracemalloc's _normalize_filename as a new string (NULL when out of memory):
 * os.path.normcase is the identity on POSIX, and "x.pyc" becomes "x.py". Not a path
 * normalisation (vocab.h's rw_path_normpath): tracemalloc compares file names as the
 * interpreter gave them, "./" and ".." included. */
static char *tracemalloc_filename(const char *name)
{
    size_t n = strlen(name);
    char *s = strdup(name);
    if (s && n >= 4 && !strcmp(s + n - 4, ".pyc"))
        s[n - 1] = 0;
    return s;
}

/* fnmatch.fnmatch on POSIX: no escapes, '*' crosses '/', case-sensitive. */
static int frame_match(const rw_mem *m, const rw_mem_filter *f, const char *pat,
                       const rw_mem_frame *fr)
{
    const char *path = rw_mem_file_path(m, fr->file);
    size_t n = strlen(path);
    int ok;
    if (n >= 4 && !strcmp(path + n - 4, ".pyc")) {
        char *p = tracemalloc_filename(path);
        ok = p && fnmatch(pat, p, FNM_NOESCAPE) == 0;
        free(p);
    } else {
        ok = fnmatch(pat, path, FNM_NOESCAPE) == 0;
    }
    return ok && (f->lineno == 0 || f->lineno == fr->line);
}

/* Filter._match / DomainFilter._match for one trace. */
static int filter_match(const rw_mem *m, const rw_mem_filter *f, const char *pat,
                        const rw_mem_trace *t)
{
    switch (f->kind) {
    case RW_MEM_FILTER_DOMAIN:
        return (f->domain == 0) ^ !f->inclusive;
    case RW_MEM_FILTER_ADOMAIN:
        return (f->domain == t->adomain) ^ !f->inclusive;
    case RW_MEM_FILTER_FILE:
        break;
    }
    uint32_t n;
    const rw_mem_frame *fr = rw_mem_tb_frames(m, t->tb, &n);
    if (f->all_frames) {
        for (uint32_t i = 0; i < n; i++)
            if (frame_match(m, f, pat, &fr[i]))
                return f->inclusive;
        return !f->inclusive;
    }
    return n && frame_match(m, f, pat, &fr[0]) ^ !f->inclusive;
}

rw_code rw_mem_snapshot_filter(rw_mem *m, rw_mem_snapshot *s, const rw_mem_filter *f,
                               size_t nf, rw_err *err)
{
    if (nf == 0)
        return RW_OK;
    char **pats = calloc(nf, sizeof *pats);
    /* Per traceback and allocator domain: 0 unknown, 1 keep, 2 drop. Filters look at
     * nothing else of a trace (tracemalloc domains are all 0). */
    uint8_t *memo = calloc((size_t)m->ntb * 3, 1);
    if (!pats || !memo) {
        free(pats);
        free(memo);
        return oom(err);
    }
    rw_code rc = RW_OK;
    for (size_t i = 0; i < nf; i++)
        if (f[i].kind == RW_MEM_FILTER_FILE &&
            !(pats[i] = tracemalloc_filename(f[i].pattern ? f[i].pattern : "*")))
            rc = oom(err);
    int any_incl = 0;
    for (size_t i = 0; i < nf; i++)
        any_incl |= f[i].inclusive;
    size_t k = 0;
    for (size_t j = 0; rc == RW_OK && j < s->n; j++) {
        const rw_mem_trace *t = &s->traces[j];
        uint8_t *mm = &memo[(size_t)t->tb * 3 + t->adomain];
        if (!*mm) {
            int keep = !any_incl;
            for (size_t i = 0; i < nf && !keep; i++)
                if (f[i].inclusive && filter_match(m, &f[i], pats[i], t))
                    keep = 1;
            for (size_t i = 0; i < nf && keep; i++)
                if (!f[i].inclusive && !filter_match(m, &f[i], pats[i], t))
                    keep = 0;
            *mm = keep ? 1 : 2;
        }
        if (*mm == 1)
            s->traces[k++] = *t;
    }
    if (rc == RW_OK)
        s->n = k;
    for (size_t i = 0; i < nf; i++)
        free(pats[i]);
    free(pats);
    free(memo);
    return rc;
}

/* ---- statistics ----------------------------------------------------------------- */

/* The key of a non-cumulative statistic for traceback tb. */
static rw_code key_of(rw_mem *m, uint32_t tb, rw_mem_key kt, uint32_t *key, rw_err *err)
{
    uint32_t n;
    const rw_mem_frame *fr = rw_mem_tb_frames(m, tb, &n);
    if (kt == RW_MEM_BY_TRACEBACK) {
        /* Copy out: interning may move the frames array. */
        if (n > m->o.max_frames)
            return rw_err_set(err, RW_EINVAL, "traceback longer than the limit");
        memcpy(m->scratch, fr, n * sizeof *fr);
        return intern_tb(m, m->scratch, n, KEY_TOTAL, key, err);
    }
    rw_mem_frame one = fr[0];
    if (kt == RW_MEM_BY_FILENAME)
        one.line = 0;
    return intern_tb(m, &one, 1, KEY_TOTAL, key, err);
}

typedef struct acc {
    int64_t size, count;
} acc;

/* Adds the traces of s into a[key] (a has room for every key id; keys must have
 * been interned already so that the table no longer grows). When a is NULL, only
 * interns the keys. */
static rw_code group(rw_mem *m, const rw_mem_snapshot *s, rw_mem_key kt, int cumulative,
                     acc *a, rw_err *err)
{
    for (size_t j = 0; j < s->n; j++) {
        const rw_mem_trace *t = &s->traces[j];
        if (!cumulative) {
            uint32_t key;
            RW_TRY(key_of(m, t->tb, kt, &key, err));
            if (a) {
                a[key].size += (int64_t)t->size;
                a[key].count += (int64_t)t->count;
            }
            continue;
        }
        /* Cumulative: every frame counts, a frame seen twice (recursion) twice, as
         * in Snapshot._group_by. */
        uint32_t n;
        const rw_mem_frame *fr = rw_mem_tb_frames(m, t->tb, &n);
        for (uint32_t i = 0; i < n; i++) {
            rw_mem_frame one = fr[i];
            if (kt == RW_MEM_BY_FILENAME)
                one.line = 0;
            uint32_t key;
            RW_TRY(intern_tb(m, &one, 1, KEY_TOTAL, &key, err));
            fr = rw_mem_tb_frames(m, t->tb, &n); /* interning may have moved it */
            if (a) {
                a[key].size += (int64_t)t->size;
                a[key].count += (int64_t)t->count;
            }
        }
    }
    return RW_OK;
}

/* Traceback.__lt__ order: frames oldest first, filename then line, shorter first. */
static int cmp_tb(const rw_mem *m, uint32_t a, uint32_t b)
{
    uint32_t na, nb;
    const rw_mem_frame *fa = rw_mem_tb_frames(m, a, &na);
    const rw_mem_frame *fb = rw_mem_tb_frames(m, b, &nb);
    for (uint32_t i = 0; i < na && i < nb; i++) {
        const rw_mem_frame *x = &fa[na - 1 - i], *y = &fb[nb - 1 - i];
        if (x->file != y->file) {
            int c = strcmp(rw_mem_file_path(m, x->file), rw_mem_file_path(m, y->file));
            if (c)
                return c < 0 ? -1 : 1;
        }
        if (x->line != y->line)
            return x->line < y->line ? -1 : 1;
    }
    return (na > nb) - (na < nb);
}

#define CMP(x, y)                                                              \
    do {                                                                       \
        if ((x) != (y))                                                        \
            return (x) < (y) ? 1 : -1; /* descending */                        \
    } while (0)

/* qsort_r comparators of statistics, tracemalloc's order; ctx is the rw_mem. */
static int cmp_stat(const void *pa, const void *pb, void *ctx)
{
    const rw_mem_stat *a = pa, *b = pb;
    CMP(a->size, b->size);
    CMP(a->count, b->count);
    return -cmp_tb(ctx, a->key, b->key);
}

static int64_t iabs(int64_t v) { return v < 0 ? -v : v; }

static int cmp_diff(const void *pa, const void *pb, void *ctx)
{
    const rw_mem_stat *a = pa, *b = pb;
    CMP(iabs(a->size_diff), iabs(b->size_diff));
    CMP(a->size, b->size);
    CMP(iabs(a->count_diff), iabs(b->count_diff));
    CMP(a->count, b->count);
    return -cmp_tb(ctx, a->key, b->key);
}

static rw_code stats_impl(rw_mem *m, const rw_mem_snapshot *s, const rw_mem_snapshot *old,
                          rw_mem_key kt, int cumulative, rw_mem_stat **out, size_t *n,
                          rw_err *err)
{
    if (cumulative && kt == RW_MEM_BY_TRACEBACK)
        return rw_err_set(err, RW_EINVAL, "cumulative mode cannot be used with key type "
                                          "'traceback'");
    RW_TRY(group(m, s, kt, cumulative, NULL, err));
    if (old)
        RW_TRY(group(m, old, kt, cumulative, NULL, err));
    size_t nt = m->ntb ? m->ntb : 1;
    acc *a = calloc(nt, sizeof *a);
    acc *b = old ? calloc(nt, sizeof *b) : NULL;
    rw_code rc = RW_OK;
    if (!a || (old && !b))
        rc = oom(err);
    if (rc == RW_OK)
        rc = group(m, s, kt, cumulative, a, err);
    if (rc == RW_OK && old)
        rc = group(m, old, kt, cumulative, b, err);
    rw_mem_stat *st = NULL;
    size_t k = 0;
    if (rc == RW_OK) {
        for (size_t i = 0; i < nt; i++)
            if (a[i].count || (b && b[i].count))
                k++;
        st = malloc((k ? k : 1) * sizeof *st);
        if (!st)
            rc = oom(err);
    }
    if (rc == RW_OK) {
        k = 0;
        for (size_t i = 0; i < nt; i++) {
            if (!a[i].count && !(b && b[i].count))
                continue;
            rw_mem_stat *x = &st[k++];
            x->key = (uint32_t)i;
            x->size = a[i].size;
            x->count = a[i].count;
            x->size_diff = b ? a[i].size - b[i].size : 0;
            x->count_diff = b ? a[i].count - b[i].count : 0;
        }
        qsort_r(st, k, sizeof *st, old ? cmp_diff : cmp_stat, m);
        *out = st;
        *n = k;
    }
    free(a);
    free(b);
    return rc;
}

rw_code rw_mem_statistics(rw_mem *m, const rw_mem_snapshot *s, rw_mem_key key,
                          int cumulative, rw_mem_stat **out, size_t *n, rw_err *err)
{
    return stats_impl(m, s, NULL, key, cumulative, out, n, err);
}

rw_code rw_mem_compare(rw_mem *m, const rw_mem_snapshot *newer, const rw_mem_snapshot *old,
                       rw_mem_key key, int cumulative, rw_mem_stat **out, size_t *n,
                       rw_err *err)
{
    return stats_impl(m, newer, old, key, cumulative, out, n, err);
}

/* ---- text ----------------------------------------------------------------------- */

void rw_mem_format_time(double ns, char *buf, size_t len)
{
    if (ns >= 1e9)
        snprintf(buf, len, "%.2fs", ns / 1e9);
    else if (ns >= 1e6)
        snprintf(buf, len, "%.1fms", ns / 1e6);
    else if (ns >= 1e3)
        snprintf(buf, len, "%.1fus", ns / 1e3);
    else
        snprintf(buf, len, "%.0fns", ns);
}

void rw_mem_format_size(double size, int sign, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    for (int u = 0; u < 5; u++) {
        double a = size < 0 ? -size : size;
        if (a < 100 && u != 0) {
            snprintf(buf, len, sign ? "%+.1f %s" : "%.1f %s", size, units[u]);
            return;
        }
        if (a < 10 * 1024 || u == 4) {
            snprintf(buf, len, sign ? "%+.0f %s" : "%.0f %s", size, units[u]);
            return;
        }
        size /= 1024;
    }
}

void rw_mem_format_stat(const rw_mem *m, const rw_mem_stat *st, int diff, char *buf,
                        size_t len)
{
    /* str(Traceback) is str of its oldest frame (Traceback[0]). */
    uint32_t n;
    const rw_mem_frame *fr = rw_mem_tb_frames(m, st->key, &n);
    const rw_mem_frame *oldest = n ? &fr[n - 1] : NULL;
    char size[32], sdiff[32], avg[32];
    rw_mem_format_size((double)st->size, 0, size, sizeof size);
    int k;
    const char *path = oldest ? rw_mem_file_path(m, oldest->file) : "<unknown>";
    unsigned line = oldest ? oldest->line : 0;
    if (diff) {
        rw_mem_format_size((double)st->size_diff, 1, sdiff, sizeof sdiff);
        k = snprintf(buf, len, "%s:%u: size=%s (%s), count=%lld (%+lld)", path, line, size,
                     sdiff, (long long)st->count, (long long)st->count_diff);
    } else {
        k = snprintf(buf, len, "%s:%u: size=%s, count=%lld", path, line, size,
                     (long long)st->count);
    }
    if (st->count && k >= 0 && (size_t)k < len) {
        rw_mem_format_size((double)st->size / (double)st->count, 0, avg, sizeof avg);
        snprintf(buf + k, len - (size_t)k, ", average=%s", avg);
    }
}

/* ---- pickle --------------------------------------------------------------------- */

/* A pickle (protocol 2) writer with a memo for the strings and traceback tuples
 * that traces share. */
typedef struct pk {
    FILE *f;
    uint32_t memo;     /* next memo index */
    int failed;
} pk;

static void pk_bytes(pk *p, const void *b, size_t n)
{
    if (n && fwrite(b, 1, n, p->f) != n)
        p->failed = 1;
}

static void pk_op(pk *p, uint8_t op) { pk_bytes(p, &op, 1); }

static uint32_t pk_put(pk *p)
{
    uint32_t id = p->memo++;
    if (id < 256) {
        uint8_t b[2] = {'q', (uint8_t)id}; /* BINPUT */
        pk_bytes(p, b, 2);
    } else {
        uint8_t b[5] = {'r', (uint8_t)id, (uint8_t)(id >> 8), (uint8_t)(id >> 16),
                        (uint8_t)(id >> 24)}; /* LONG_BINPUT */
        pk_bytes(p, b, 5);
    }
    return id;
}

static void pk_get(pk *p, uint32_t id)
{
    if (id < 256) {
        uint8_t b[2] = {'h', (uint8_t)id}; /* BINGET */
        pk_bytes(p, b, 2);
    } else {
        uint8_t b[5] = {'j', (uint8_t)id, (uint8_t)(id >> 8), (uint8_t)(id >> 16),
                        (uint8_t)(id >> 24)}; /* LONG_BINGET */
        pk_bytes(p, b, 5);
    }
}

static void pk_uint(pk *p, uint64_t v)
{
    if (v < 256) {
        uint8_t b[2] = {'K', (uint8_t)v}; /* BININT1 */
        pk_bytes(p, b, 2);
    } else if (v < 65536) {
        uint8_t b[3] = {'M', (uint8_t)v, (uint8_t)(v >> 8)}; /* BININT2 */
        pk_bytes(p, b, 3);
    } else if (v < 0x80000000u) {
        uint8_t b[5] = {'J', (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                        (uint8_t)(v >> 24)}; /* BININT */
        pk_bytes(p, b, 5);
    } else {
        /* LONG1: little-endian two's complement; a top byte with bit 7 set needs a
         * zero byte after it to stay positive. */
        uint8_t b[11];
        uint8_t n = 0;
        uint64_t x = v;
        while (x) {
            b[2 + n++] = (uint8_t)x;
            x >>= 8;
        }
        if (b[2 + n - 1] & 0x80)
            b[2 + n++] = 0;
        b[0] = 0x8a;
        b[1] = n;
        pk_bytes(p, b, 2 + (size_t)n);
    }
}

static void pk_str(pk *p, const char *s)
{
    size_t n = strlen(s);
    uint8_t b[5] = {'X', (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16),
                    (uint8_t)(n >> 24)}; /* BINUNICODE */
    pk_bytes(p, b, 5);
    pk_bytes(p, s, n);
}

static void pk_global(pk *p, const char *module, const char *name)
{
    pk_op(p, 'c'); /* GLOBAL */
    pk_bytes(p, module, strlen(module));
    pk_op(p, '\n');
    pk_bytes(p, name, strlen(name));
    pk_op(p, '\n');
}

#define MEMO_NONE UINT32_MAX

rw_code rw_mem_snapshot_dump(const rw_mem *m, const rw_mem_snapshot *s, const char *path,
                             rw_err *err)
{
    /* The blocks are those of the live map: it must still be in the snapshot's state
     * (state is a function of (pos, allocs, frees): replay is deterministic). */
    if (s->pos != m->u.pos || s->allocs != m->u.allocs || s->frees != m->u.frees)
        return rw_err_set(err, RW_EINVAL, "the analysis moved since the snapshot was taken "
                                          "(at position %llu, now %llu)",
                          (unsigned long long)s->pos, (unsigned long long)m->u.pos);
    uint32_t *tb_memo = malloc((m->ntb ? m->ntb : 1) * sizeof *tb_memo);
    uint32_t *file_memo = malloc((m->nfiles + 1) * sizeof *file_memo);
    uint8_t *keep = calloc(m->nsites ? m->nsites : 1, 1);
    if (!tb_memo || !file_memo || !keep) {
        free(tb_memo);
        free(file_memo);
        free(keep);
        return oom(err);
    }
    for (size_t j = 0; j < s->n; j++)
        if (s->traces[j].site < m->nsites)
            keep[s->traces[j].site] = 1;
    for (uint32_t i = 0; i < m->ntb; i++)
        tb_memo[i] = MEMO_NONE;
    for (uint32_t i = 0; i <= m->nfiles; i++)
        file_memo[i] = MEMO_NONE;
    pk p = {0};
    p.f = fopen(path, "wb");
    if (!p.f) {
        free(tb_memo);
        free(file_memo);
        free(keep);
        return rw_err_set(err, RW_EIO, "%s: cannot create: %s", path, strerror(errno));
    }
    static const uint8_t proto[2] = {0x80, 2};
    pk_bytes(&p, proto, 2);
    /* Snapshot.__reduce_ex__(2): copyreg.__newobj__(Snapshot) then BUILD with
     * __dict__ {'traces': _Traces(__dict__ {'_traces': [...]}), 'traceback_limit': N}. */
    pk_global(&p, "tracemalloc", "Snapshot");
    pk_put(&p);
    pk_op(&p, ')');    /* EMPTY_TUPLE */
    pk_op(&p, 0x81);   /* NEWOBJ */
    pk_put(&p);
    pk_op(&p, '}');    /* EMPTY_DICT */
    pk_put(&p);
    pk_op(&p, '(');    /* MARK */
    pk_str(&p, "traces");
    pk_put(&p);
    pk_global(&p, "tracemalloc", "_Traces");
    pk_put(&p);
    pk_op(&p, ')');
    pk_op(&p, 0x81);
    pk_put(&p);
    pk_op(&p, '}');
    pk_put(&p);
    pk_str(&p, "_traces");
    pk_put(&p);
    pk_op(&p, ']');    /* EMPTY_LIST: take_snapshot() gives a list too */
    pk_put(&p);
    rw_addrmap_iter it = {0};
    rw_addrmap_ent e;
    size_t j = 0;
    while (rw_addrmap_next(&m->live, &it, &e)) {
        if (!keep[e.aux])
            continue;
        if (j++ % 1000 == 0) {
            if (j > 1)
                pk_op(&p, 'e'); /* APPENDS */
            pk_op(&p, '(');
        }
        uint32_t tb = m->sites[e.aux].tb;
        pk_op(&p, '(');
        pk_uint(&p, 0); /* tracemalloc domain */
        pk_uint(&p, e.size);
        if (tb_memo[tb] != MEMO_NONE) {
            pk_get(&p, tb_memo[tb]);
        } else {
            uint32_t n;
            const rw_mem_frame *fr = rw_mem_tb_frames(m, tb, &n);
            pk_op(&p, '(');
            for (uint32_t i = 0; i < n; i++) {
                uint32_t fid = fr[i].file <= m->nfiles ? fr[i].file : 0;
                if (file_memo[fid] != MEMO_NONE) {
                    pk_get(&p, file_memo[fid]);
                } else {
                    pk_str(&p, rw_mem_file_path(m, fid));
                    file_memo[fid] = pk_put(&p);
                }
                pk_uint(&p, fr[i].line);
                pk_op(&p, 0x86); /* TUPLE2 */
            }
            pk_op(&p, 't'); /* TUPLE */
            tb_memo[tb] = pk_put(&p);
        }
        pk_uint(&p, rw_mem_tb_total(m, tb));
        pk_op(&p, 't');
    }
    if (j)
        pk_op(&p, 'e');
    pk_op(&p, 's');    /* SETITEM: {'_traces': [...]} */
    pk_op(&p, 'b');    /* BUILD the _Traces */
    pk_str(&p, "traceback_limit");
    pk_put(&p);
    pk_uint(&p, s->traceback_limit);
    pk_op(&p, 'u');    /* SETITEMS */
    pk_op(&p, 'b');    /* BUILD the Snapshot */
    pk_op(&p, '.');    /* STOP */
    free(tb_memo);
    free(file_memo);
    free(keep);
    int bad = p.failed | (fclose(p.f) != 0);
    if (bad)
        return rw_err_set(err, RW_EIO, "%s: write failed: %s", path, strerror(errno));
    return RW_OK;
}
