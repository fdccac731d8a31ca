/* Where two runs part (diff.h).
 *
 * The two traces are read by two scans in global order, one event of each in turn. Each
 * event goes to its thread pair (a thread of run a and its match in run b): when the
 * pair holds events of the other run waiting, the oldest is compared with it; else it
 * waits in the pair's queue. For two runs that interleave alike the queues stay near
 * empty; when they interleave differently, a queue holds the events one run's thread is
 * ahead of the other's (bounded by max_pending). A pair that differed takes nothing more.
 *
 * The first difference found is not always the first in run a's order: a thread of run
 * a may wait for run b's events of it while another thread already differed. So after
 * the first one, run b alone is read on until no event of run a before it still waits
 * (or run b ends), and the earliest difference wins.
 */
#include "diff.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inputs.h"
#include "scan.h"

enum { DEFAULT_PENDING = 1 << 22 };

/* ---- interning: what an id stands for, the same number in both runs ----------------- */

typedef struct interner {
    char **s;       /* strings by id - 1 */
    size_t *len;
    uint64_t *h;
    size_t n, cap;
    uint32_t *slot; /* 1 + index, 0 empty; nslot a power of two */
    size_t nslot;
} interner;

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

static int intern_rehash(interner *t, size_t nslot)
{
    uint32_t *slot = calloc(nslot, sizeof *slot);
    if (!slot)
        return -1;
    for (size_t i = 0; i < t->n; i++) {
        size_t j = t->h[i] & (nslot - 1);
        while (slot[j])
            j = (j + 1) & (nslot - 1);
        slot[j] = (uint32_t)i + 1;
    }
    free(t->slot);
    t->slot = slot;
    t->nslot = nslot;
    return 0;
}

/* The id (>= 1) of s (n bytes), new when first seen; 0 when out of memory. */
static uint32_t intern(interner *t, const char *s, size_t n)
{
    if ((t->n + 1) * 2 > t->nslot && intern_rehash(t, t->nslot ? t->nslot * 2 : 256) < 0)
        return 0;
    uint64_t h = hash_bytes(s, n);
    size_t j = h & (t->nslot - 1);
    for (; t->slot[j]; j = (j + 1) & (t->nslot - 1)) {
        size_t i = t->slot[j] - 1;
        if (t->h[i] == h && t->len[i] == n && !memcmp(t->s[i], s, n))
            return (uint32_t)i + 1;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        char **sv = realloc(t->s, cap * sizeof *sv);
        if (sv)
            t->s = sv;
        size_t *lv = sv ? realloc(t->len, cap * sizeof *lv) : NULL;
        if (lv)
            t->len = lv;
        uint64_t *hv = lv ? realloc(t->h, cap * sizeof *hv) : NULL;
        if (!hv)
            return 0;
        t->h = hv;
        t->cap = cap;
    }
    char *copy = malloc(n ? n : 1);
    if (!copy)
        return 0;
    memcpy(copy, s, n);
    t->s[t->n] = copy;
    t->len[t->n] = n;
    t->h[t->n] = h;
    t->slot[j] = (uint32_t)++t->n;
    return (uint32_t)t->n;
}

static void intern_free(interner *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->s[i]);
    free(t->s);
    free(t->len);
    free(t->h);
    free(t->slot);
}

/* ---- the compared form of an event ------------------------------------------------- */

typedef struct item {
    uint64_t pos;
    uint32_t what;  /* canonical code (Python events) or C function (C events) */
    uint32_t line;  /* CALL, LINE; else 0 */
    uint32_t name;  /* EXCEPTION: canonical type name; else 0 */
    uint8_t kind;
} item;

static int same(const item *x, const item *y)
{
    return x->kind == y->kind && x->what == y->what && x->line == y->line &&
           x->name == y->name;
}

/* ---- thread pairs --------------------------------------------------------------------- */

typedef struct pair {
    uint32_t t[2];      /* ThreadDef id in each run, 0 when absent */
    uint32_t stream[2];
    uint32_t key;
    item *q;            /* ring of waiting events, all of run qside */
    size_t qcap, qhead, qn;
    int qside;
    int diverged;
    int has_common;
    uint64_t common[2];
    uint64_t equal;
} pair;

/* ---- run b's decoder on a thread of its own ---------------------------------------------- */

/* The fields of an event the comparison reads. */
typedef struct bev {
    uint64_t pos;
    uint32_t thread, code, line, name;
    uint8_t kind;
} bev;

enum { BATCH = 8192, NBATCH = 4 };

/* Run b's scan, decoded on a helper thread into a ring of NBATCH batches of events
 * (annotations left out) that the comparing thread takes in order: decoding is most of
 * the work, and the two runs' decoding then overlap. Slots: the producer fills slot
 * (head + count) % NBATCH while count < NBATCH, the consumer reads slot head while
 * count > 0; count, head, ended and stop are guarded by mu. */
typedef struct feeder {
    rw_scan *scan;     /* used by the producer only once started */
    pthread_t th;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bev *buf[NBATCH];
    size_t len[NBATCH];
    size_t head, count;
    int ended, end_rc; /* the producer is done: end_rc 0 (end) or -1 (err) */
    rw_err err;
    int stop;          /* the consumer wants no more */
    int have;          /* the consumer holds slot head, at idx */
    size_t idx;
} feeder;

static void *feeder_main(void *arg)
{
    feeder *f = arg;
    int rc = 1;
    rw_err err = {0};
    while (rc == 1) {
        pthread_mutex_lock(&f->mu);
        while (f->count == NBATCH && !f->stop)
            pthread_cond_wait(&f->cv, &f->mu);
        size_t slot = (f->head + f->count) % NBATCH;
        int stop = f->stop;
        pthread_mutex_unlock(&f->mu);
        if (stop)
            break;
        bev *b = f->buf[slot];
        size_t n = 0;
        rw_event ev;
        while (n < BATCH && (rc = rw_scan_next(f->scan, &ev, &err)) == 1) {
            if (!RW_IS_EVENT(ev.kind))
                continue;
            b[n++] = (bev){ev.pos, ev.thread, ev.code, ev.line, ev.name, ev.kind};
        }
        pthread_mutex_lock(&f->mu);
        if (n) {
            f->len[slot] = n;
            f->count++;
        }
        if (rc != 1) {
            f->ended = 1;
            f->end_rc = rc < 0 ? -1 : 0;
            f->err = err;
        }
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
    }
    return NULL;
}

/* Starts the producer over scan (taken). RW_OK, or RW_ENOMEM / RW_EIO. */
static rw_code feeder_start(feeder *f, rw_scan *scan, rw_err *err)
{
    memset(f, 0, sizeof *f);
    f->scan = scan;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    for (int i = 0; i < NBATCH; i++)
        if (!(f->buf[i] = malloc(BATCH * sizeof *f->buf[i])))
            return rw_err_set(err, RW_ENOMEM, "out of memory for the decoding buffers");
    if (pthread_create(&f->th, NULL, feeder_main, f) != 0)
        return rw_err_set(err, RW_EIO, "cannot start a decoding thread");
    f->started = 1;
    return RW_OK;
}

/* Next event of run b: 1, 0 at the end, -1 (err filled). */
static int feeder_next(feeder *f, rw_event *ev, rw_err *err)
{
    for (;;) {
        if (f->have && f->idx < f->len[f->head]) {
            const bev *b = &f->buf[f->head][f->idx++];
            ev->pos = b->pos;
            ev->thread = b->thread;
            ev->code = b->code;
            ev->line = b->line;
            ev->name = b->name;
            ev->kind = b->kind;
            return 1;
        }
        pthread_mutex_lock(&f->mu);
        if (f->have) { /* give the slot back */
            f->head = (f->head + 1) % NBATCH;
            f->count--;
            f->have = 0;
            pthread_cond_broadcast(&f->cv);
        }
        while (!f->count && !f->ended)
            pthread_cond_wait(&f->cv, &f->mu);
        if (f->count) {
            f->have = 1;
            f->idx = 0;
            pthread_mutex_unlock(&f->mu);
            continue;
        }
        int rc = f->end_rc;
        if (rc < 0)
            *err = f->err;
        pthread_mutex_unlock(&f->mu);
        return rc;
    }
}

/* Stops and joins the producer, frees the batches and the scan. */
static void feeder_fini(feeder *f)
{
    if (f->started) {
        pthread_mutex_lock(&f->mu);
        f->stop = 1;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
        pthread_join(f->th, NULL);
    }
    for (int i = 0; i < NBATCH; i++)
        free(f->buf[i]);
    rw_scan_close(f->scan);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
}

typedef struct side_state {
    const rw_reader *r;
    const rw_defs *d;
    rw_scan *scan;      /* run a's; run b's is in feed */
    feeder *feed;
    int done;
    uint32_t *code_canon, *cfunc_canon, *name_canon; /* by id; 0 = unknown */
    uint32_t ncodes, ncfuncs, nnames;
    uint32_t *pair_of;  /* thread id -> 1 + pair index; 0 = none */
    uint32_t nthreads;
} side_state;

typedef struct differ {
    side_state s[2];
    pair *pairs;
    size_t npairs, cappairs;
    size_t pending, max_pending;
    uint64_t compared;
    int found;
    uint64_t rank;      /* run a's position of the best difference so far */
    uint64_t a_at;      /* position of run a's last event read */
    size_t best;        /* its pair */
    rw_diff_side best_side[2];
} differ;

uint32_t rw_diff_thread_stream(const rw_reader *r, uint32_t thread)
{
    const Rewind__RunEnd *end = rw_reader_end(r);
    if (end) {
        for (size_t i = 0; i < end->n_threads; i++)
            if (end->threads[i] && end->threads[i]->id == thread)
                return end->threads[i]->input_stream;
        return 0;
    }
    const Rewind__ThreadDef *t = rw_defs_thread(rw_reader_defs(r), thread);
    return t && t->is_main ? 1 : 0;
}

/* The matching key of each thread of a run: its input stream, else 2^31 + its rank
 * among the threads without one (in definition order). */
static uint32_t *thread_keys(const rw_reader *r, uint32_t nthreads)
{
    uint32_t *keys = calloc(nthreads ? nthreads : 1, sizeof *keys);
    if (!keys)
        return NULL;
    uint32_t rank = 0;
    for (uint32_t id = 1; id < nthreads; id++) {
        uint32_t st = rw_diff_thread_stream(r, id);
        keys[id] = st && st < 0x80000000u ? st : 0x80000000u + rank++;
    }
    keys[0] = UINT32_MAX; /* "unknown thread" */
    return keys;
}

static pair *pair_for_key(differ *D, uint32_t key)
{
    for (size_t i = 0; i < D->npairs; i++) /* few threads: at set-up only */
        if (D->pairs[i].key == key)
            return &D->pairs[i];
    if (D->npairs == D->cappairs) {
        size_t cap = D->cappairs ? D->cappairs * 2 : 8;
        pair *p = realloc(D->pairs, cap * sizeof *p);
        if (!p)
            return NULL;
        D->pairs = p;
        D->cappairs = cap;
    }
    pair *p = &D->pairs[D->npairs++];
    memset(p, 0, sizeof *p);
    p->key = key;
    return p;
}

/* Sets up pairs for every thread of both runs. Threads are matched by key; many
 * threads (a pool of thousands) cost a quadratic set-up, sorted keys would not. */
static rw_code make_pairs(differ *D, rw_err *err)
{
    for (int s = 0; s < 2; s++) {
        side_state *S = &D->s[s];
        S->nthreads = S->d->nthreads ? S->d->nthreads : 1;
        uint32_t *keys = thread_keys(S->r, S->nthreads);
        S->pair_of = calloc(S->nthreads, sizeof *S->pair_of);
        if (!keys || !S->pair_of) {
            free(keys);
            return rw_err_set(err, RW_ENOMEM, "out of memory matching the threads");
        }
        for (uint32_t id = 0; id < S->nthreads; id++) {
            pair *p = pair_for_key(D, keys[id]);
            if (!p) {
                free(keys);
                return rw_err_set(err, RW_ENOMEM, "out of memory matching the threads");
            }
            p->t[s] = id;
            p->stream[s] = id ? rw_diff_thread_stream(S->r, id) : 0;
            S->pair_of[id] = (uint32_t)(p - D->pairs) + 1;
        }
        free(keys);
    }
    /* Thread id 0 is only a placeholder: a pair made of it alone has no thread. */
    return RW_OK;
}

/* Canonical ids of a run's definitions, through the shared interners. */
static rw_code canon_defs(side_state *S, interner *codes, interner *cfuncs, interner *names,
                          rw_err *err)
{
    const rw_defs *d = S->d;
    S->ncodes = d->ncodes;
    S->ncfuncs = d->ncfuncs;
    S->nnames = d->nnames;
    S->code_canon = calloc(d->ncodes ? d->ncodes : 1, sizeof *S->code_canon);
    S->cfunc_canon = calloc(d->ncfuncs ? d->ncfuncs : 1, sizeof *S->cfunc_canon);
    S->name_canon = calloc(d->nnames ? d->nnames : 1, sizeof *S->name_canon);
    if (!S->code_canon || !S->cfunc_canon || !S->name_canon)
        return rw_err_set(err, RW_ENOMEM, "out of memory reading the definitions");
    char buf[8192];
    for (uint32_t id = 1; id < d->ncodes; id++) {
        const char *path = rw_defs_code_path(d, id), *qual = rw_defs_code_qualname(d, id);
        int n = snprintf(buf, sizeof buf, "%s%c%s%c%u", path ? path : "", 0, qual ? qual : "",
                         0, rw_defs_code_first_line(d, id));
        size_t len = n < 0 ? 0 : (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1;
        if (!(S->code_canon[id] = intern(codes, buf, len)))
            return rw_err_set(err, RW_ENOMEM, "out of memory reading the definitions");
    }
    for (uint32_t id = 1; id < d->ncfuncs; id++) {
        const char *label = rw_defs_cfunc_label(d, id);
        label = label ? label : "";
        if (!(S->cfunc_canon[id] = intern(cfuncs, label, strlen(label))))
            return rw_err_set(err, RW_ENOMEM, "out of memory reading the definitions");
    }
    for (uint32_t id = 1; id < d->nnames; id++) {
        const char *text = rw_defs_name_text(d, id);
        text = text ? text : "";
        if (!(S->name_canon[id] = intern(names, text, strlen(text))))
            return rw_err_set(err, RW_ENOMEM, "out of memory reading the definitions");
    }
    return RW_OK;
}

static item make_item(const side_state *S, const rw_event *ev)
{
    item it = {ev->pos, 0, 0, 0, ev->kind};
    if (ev->kind >= RW_K_C_CALL) {
        it.what = ev->code < S->ncfuncs ? S->cfunc_canon[ev->code] : 0;
    } else {
        it.what = ev->code < S->ncodes ? S->code_canon[ev->code] : 0;
        if (ev->kind == RW_K_CALL || ev->kind == RW_K_LINE)
            it.line = ev->line;
        if (ev->kind == RW_K_EXCEPTION)
            it.name = ev->name < S->nnames ? S->name_canon[ev->name] : 0;
    }
    return it;
}

/* ---- queues ---------------------------------------------------------------------------- */

static item *q_head(pair *p)
{
    return &p->q[p->qhead];
}

static void q_pop(differ *D, pair *p)
{
    p->qhead = (p->qhead + 1) & (p->qcap - 1);
    p->qn--;
    D->pending--;
}

static void q_clear(differ *D, pair *p)
{
    D->pending -= p->qn;
    p->qn = p->qhead = 0;
}

/* 0, or -1 when the queue cannot grow (err filled). */
static int q_push(differ *D, pair *p, int side, const item *it, rw_err *err)
{
    if (D->pending >= D->max_pending) {
        rw_err_set(err, RW_ENOMEM,
                   "the runs' threads are interleaved too differently to be compared in "
                   "one pass (one run is %zu events ahead of the other): compare one "
                   "thread at a time with --thread N", D->pending);
        return -1;
    }
    if (p->qn == p->qcap) {
        size_t cap = p->qcap ? p->qcap * 2 : 64;
        item *q = malloc(cap * sizeof *q);
        if (!q) {
            rw_err_set(err, RW_ENOMEM, "out of memory buffering events");
            return -1;
        }
        for (size_t i = 0; i < p->qn; i++) /* unwrap the ring */
            q[i] = p->q[(p->qhead + i) & (p->qcap - 1)];
        free(p->q);
        p->q = q;
        p->qcap = cap;
        p->qhead = 0;
    }
    if (!p->qn)
        p->qside = side;
    p->q[(p->qhead + p->qn) & (p->qcap - 1)] = *it;
    p->qn++;
    D->pending++;
    return 0;
}

/* ---- differences ----------------------------------------------------------------------- */

/* A difference in pair p: run i's event at pos[i], or none (has[i] == 0: the thread
 * ended there). Kept when it comes before the best so far in run a's order. */
static void candidate(differ *D, pair *p, const int has[2], const uint64_t pos[2])
{
    /* A thread that ended in run a ranks after its last equal event; one that is not in
     * run a (or had no event there) last: another thread must have parted before. */
    uint64_t rank = has[0] ? pos[0] : p->has_common ? p->common[0] + 1 : UINT64_MAX - 1;
    p->diverged = 1;
    q_clear(D, p);
    if (D->found && rank >= D->rank)
        return;
    D->found = 1;
    D->rank = rank;
    D->best = (size_t)(p - D->pairs);
    for (int i = 0; i < 2; i++) {
        rw_diff_side *s = &D->best_side[i];
        s->thread = p->t[i];
        s->stream = p->stream[i];
        s->ended = !has[i];
        s->pos = has[i] ? pos[i] : UINT64_MAX;
        s->has_common = p->has_common;
        s->common_pos = p->common[i];
    }
}

/* One event of run s. 0, or -1 (err filled). */
static int take(differ *D, int s, const rw_event *ev, rw_err *err)
{
    side_state *S = &D->s[s];
    if (ev->thread >= S->nthreads)
        return rw_err_set(err, RW_ECORRUPT, "event %llu names thread %u, past the thread table",
                          (unsigned long long)ev->pos, ev->thread), -1;
    pair *p = &D->pairs[S->pair_of[ev->thread] - 1];
    if (p->diverged)
        return 0;
    item it = make_item(S, ev);
    if (!p->t[!s] || !p->t[s]) { /* the thread is in one run only */
        int has[2] = {s == 0, s == 1};
        uint64_t pos[2] = {ev->pos, ev->pos};
        candidate(D, p, has, pos);
        return 0;
    }
    if (p->qn && p->qside != s) {
        item *h = q_head(p);
        const item *x = s == 0 ? &it : h, *y = s == 0 ? h : &it;
        if (same(x, y)) {
            p->has_common = 1;
            p->common[0] = x->pos;
            p->common[1] = y->pos;
            p->equal++;
            D->compared++;
            q_pop(D, p);
        } else {
            int has[2] = {1, 1};
            uint64_t pos[2] = {x->pos, y->pos};
            candidate(D, p, has, pos);
        }
        return 0;
    }
    return q_push(D, p, s, &it, err);
}

/* The common case, one event of each run in the same thread pair with nothing waiting:
 * compared at once, without the queue. 1 when done so, 0 to take them one by one. */
static int take_pair_fast(differ *D, const rw_event *ea, const rw_event *eb)
{
    const side_state *A = &D->s[0], *B = &D->s[1];
    if (ea->thread >= A->nthreads || eb->thread >= B->nthreads)
        return 0;
    uint32_t pi = A->pair_of[ea->thread];
    if (pi != B->pair_of[eb->thread])
        return 0;
    pair *p = &D->pairs[pi - 1];
    if (p->qn || p->diverged || !p->t[0] || !p->t[1])
        return 0;
    item x = make_item(A, ea), y = make_item(B, eb);
    if (same(&x, &y)) {
        p->has_common = 1;
        p->common[0] = x.pos;
        p->common[1] = y.pos;
        p->equal++;
        D->compared++;
    } else {
        int has[2] = {1, 1};
        uint64_t pos[2] = {x.pos, y.pos};
        candidate(D, p, has, pos);
    }
    return 1;
}

/* Whether an event of run a before the best difference still waits for run b. */
static int a_waits_before(const differ *D)
{
    for (size_t i = 0; i < D->npairs; i++) {
        const pair *p = &D->pairs[i];
        if (!p->diverged && p->qn && p->qside == 0 && p->q[p->qhead].pos < D->rank)
            return 1;
    }
    return 0;
}

/* At the end of one run (or both): a thread whose events wait while the other run has
 * ended differs where they start. */
static void resolve_end(differ *D)
{
    for (size_t i = 0; i < D->npairs; i++) {
        pair *p = &D->pairs[i];
        if (p->diverged || !p->qn || !D->s[!p->qside].done)
            continue;
        int has[2] = {p->qside == 0, p->qside == 1};
        uint64_t pos[2] = {p->q[p->qhead].pos, p->q[p->qhead].pos};
        candidate(D, p, has, pos);
    }
}

/* Next event (not annotation) of run s: 1, 0 at its end, -1 on error. */
static int next_event(side_state *S, rw_event *ev, rw_err *err)
{
    if (S->feed)
        return feeder_next(S->feed, ev, err);
    int rc;
    while ((rc = rw_scan_next(S->scan, ev, err)) == 1)
        if (RW_IS_EVENT(ev->kind))
            return 1;
    return rc;
}

static void differ_fini(differ *D)
{
    for (int s = 0; s < 2; s++) {
        if (D->s[s].feed) {
            feeder_fini(D->s[s].feed); /* closes its scan */
            free(D->s[s].feed);
        } else {
            rw_scan_close(D->s[s].scan);
        }
        free(D->s[s].code_canon);
        free(D->s[s].cfunc_canon);
        free(D->s[s].name_canon);
        free(D->s[s].pair_of);
    }
    for (size_t i = 0; i < D->npairs; i++)
        free(D->pairs[i].q);
    free(D->pairs);
}

rw_code rw_diff_run(const rw_reader *a, const rw_reader *b, const rw_diff_opts *opts,
                    rw_diff_result *out, rw_err *err)
{
    differ D;
    memset(&D, 0, sizeof D);
    interner codes = {0}, cfuncs = {0}, names = {0};
    D.max_pending = opts && opts->max_pending ? opts->max_pending : DEFAULT_PENDING;
    D.s[0].r = a;
    D.s[1].r = b;
    rw_code rc = RW_OK;
    uint32_t only[2] = {0, 0};
    for (int s = 0; s < 2 && rc == RW_OK; s++) {
        D.s[s].d = rw_reader_defs(D.s[s].r);
        rc = canon_defs(&D.s[s], &codes, &cfuncs, &names, err);
    }
    if (rc == RW_OK)
        rc = make_pairs(&D, err);
    if (rc == RW_OK && opts && opts->thread) {
        if (opts->thread >= D.s[0].nthreads) {
            rc = rw_err_set(err, RW_EINVAL, "--thread %u: the first trace has no thread %u "
                            "(its threads are 1 to %u)", opts->thread, opts->thread,
                            D.s[0].nthreads - 1);
        } else {
            pair *p = &D.pairs[D.s[0].pair_of[opts->thread] - 1];
            only[0] = opts->thread;
            only[1] = p->t[1] ? p->t[1] : UINT32_MAX; /* no match: nothing of run b */
        }
    }
    for (int s = 0; s < 2 && rc == RW_OK; s++) {
        rw_scan_opts so;
        rw_scan_opts_default(&so);
        so.decode = RW_DECODE_SKIP_ALLOCS;
        so.thread = only[s];
        if (opts && opts->to[s]) {
            so.from = opts->from[s];
            so.to = opts->to[s];
        }
        rc = rw_scan_open(D.s[s].r, &so, &D.s[s].scan, err);
    }
    if (rc == RW_OK) { /* run b decoded on a thread of its own */
        feeder *f = calloc(1, sizeof *f);
        if (!f) {
            rc = rw_err_set(err, RW_ENOMEM, "out of memory");
        } else {
            D.s[1].feed = f;
            rc = feeder_start(f, D.s[1].scan, err);
            D.s[1].scan = NULL;
        }
    }
    rw_err late = {0};
    rw_event ev;
    int turn = 0;
    unsigned tick = 0;
    while (rc == RW_OK) {
        int s;
        if (!D.found && !D.s[0].done && !D.s[1].done) {
            /* one event of each run, a's first */
            rw_event eb;
            int na = next_event(&D.s[0], &ev, err), nb = 0;
            if (na == 0) {
                D.s[0].done = 1;
                continue;
            }
            if (na > 0) {
                D.a_at = ev.pos;
                nb = next_event(&D.s[1], &eb, err);
            }
            if (na < 0 || nb < 0) {
                rc = err->code;
                break;
            }
            if (nb == 0)
                D.s[1].done = 1;
            else if (take_pair_fast(&D, &ev, &eb))
                continue;
            if (take(&D, 0, &ev, err) < 0 || (nb && take(&D, 1, &eb, err) < 0)) {
                if (!D.found)
                    rc = err->code;
                else
                    late = *err;
                break;
            }
            continue;
        }
        if (D.found && (D.s[0].done || D.a_at >= D.rank)) {
            /* run b alone, while an earlier event of run a may still differ */
            if (D.s[1].done || ((++tick & 255) == 0 && !a_waits_before(&D)))
                break;
            s = 1;
        } else {
            if (D.s[0].done && D.s[1].done)
                break;
            s = D.s[0].done ? 1 : D.s[1].done ? 0 : turn;
            turn ^= 1;
        }
        int n = next_event(&D.s[s], &ev, err);
        if (n == 0) {
            D.s[s].done = 1;
            continue;
        }
        if (n < 0 || take(&D, s, &ev, err) < 0) {
            if (!D.found)
                rc = err->code;
            else
                late = *err;
            break; /* after a difference: what was found stands */
        }
        if (s == 0)
            D.a_at = ev.pos;
    }
    if (rc == RW_OK) {
        resolve_end(&D);
        memset(out, 0, sizeof *out);
        out->differ = D.found;
        out->compared = D.compared;
        out->damage = late;
        if (D.found) {
            out->a = D.best_side[0];
            out->b = D.best_side[1];
            out->thread_equal = D.pairs[D.best].equal;
        }
    }
    differ_fini(&D);
    intern_free(&codes);
    intern_free(&cfuncs);
    intern_free(&names);
    return rc;
}

/* ---- inputs ------------------------------------------------------------------------------ */

static void copy_input(rw_diff_input *o, const rw_input *in)
{
    o->call = in->call;
    o->flags = in->flags;
    o->seq = in->seq;
    o->position = in->position;
    o->result = in->result;
    o->err = in->err;
    o->key_len = in->key_len;
    o->data_len = in->data_len;
    memcpy(o->key, in->key, in->key_len < RW_DIFF_KEEP ? in->key_len : RW_DIFF_KEEP);
    memcpy(o->data, in->data, in->data_len < RW_DIFF_KEEP ? in->data_len : RW_DIFF_KEEP);
}

/* Calls whose answers differ in every run (clocks, sleeps, process and thread ids):
 * equal when the same call was made. */
int rw_diff_run_specific(uint32_t call)
{
    return (call >= 80 && call < 100) || call == RW_CALL_GETPID || call == RW_CALL_GETPPID ||
           call == RW_CALL_GETTID;
}

/* x86-64 struct stat: st_atim, st_mtim, st_ctim at 72..120 of 144 bytes. */
enum { STAT_SIZE = 144, STAT_TIMES = 72, STAT_TIMES_END = 120 };

static int is_stat(uint32_t call, size_t n)
{
    return n == STAT_SIZE && (call == RW_CALL_STAT || call == RW_CALL_LSTAT ||
                              call == RW_CALL_FSTAT || call == RW_CALL_FSTATAT);
}

int rw_diff_same_data(uint32_t call, const uint8_t *x, const uint8_t *y, size_t n)
{
    if (is_stat(call, n))
        return !memcmp(x, y, STAT_TIMES) &&
               !memcmp(x + STAT_TIMES_END, y + STAT_TIMES_END, n - STAT_TIMES_END);
    return !n || !memcmp(x, y, n);
}

int rw_diff_times_differ(uint32_t call, const uint8_t *x, const uint8_t *y, size_t n)
{
    return is_stat(call, n) && rw_diff_same_data(call, x, y, n) &&
           memcmp(x + STAT_TIMES, y + STAT_TIMES, STAT_TIMES_END - STAT_TIMES);
}

static int same_input(const rw_input *x, const rw_input *y)
{
    if (x->call == y->call && rw_diff_run_specific(x->call))
        return 1; /* a sleep's key is its absolute deadline: a time too */
    return x->call == y->call && x->result == y->result && x->err == y->err &&
           x->key_len == y->key_len && x->data_len == y->data_len &&
           (!x->key_len || !memcmp(x->key, y->key, x->key_len)) &&
           rw_diff_same_data(x->call, x->data, y->data, x->data_len);
}

/* A directory listing's entry for a trace file (a name ending in ".rwd": a program
 * recorded in a folder with traces of other runs lists them, and the two runs saw
 * different ones). The entry data: d_ino (8 bytes), d_type, the name. */
static int trace_entry(const rw_input *in)
{
    enum { HEAD = 9 };
    return in->call == RW_CALL_READDIR && in->result == 1 && in->data_len > HEAD + 4 &&
           !memcmp(in->data + in->data_len - 4, ".rwd", 4);
}

typedef struct in_side {
    rw_inputs_iter *it;
    uint32_t stream;
    uint64_t upto;
    int done;
} in_side;

/* Next record of the side's stream at or before upto: 1, 0 (done), -1 (err). */
static int next_input(in_side *S, rw_input *in, rw_err *err)
{
    if (S->done)
        return 0;
    int rc;
    while ((rc = rw_inputs_iter_next(S->it, in, err)) == 1) {
        if (in->thread != S->stream)
            continue;
        if (in->position > S->upto)
            break;
        return 1;
    }
    S->done = 1;
    return rc < 0 ? -1 : 0;
}

rw_code rw_diff_read_inputs(const rw_reader *a, uint32_t sa, uint64_t upto_a,
                            const rw_reader *b, uint32_t sb, uint64_t upto_b, size_t keep,
                            rw_diff_inputs *out, rw_err *err)
{
    memset(out, 0, sizeof *out);
    keep = keep ? keep : 1;
    in_side S[2] = {{NULL, sa, upto_a, sa == 0}, {NULL, sb, upto_b, sb == 0}};
    const rw_reader *r[2] = {a, b};
    size_t head[2] = {0, 0};
    rw_code rc = RW_OK;
    for (int i = 0; i < 2 && rc == RW_OK; i++) {
        if (!(out->last[i] = calloc(keep, sizeof *out->last[i])))
            rc = rw_err_set(err, RW_ENOMEM, "out of memory reading the inputs");
        else if (!S[i].done)
            rc = rw_inputs_iter_open(r[i], &S[i].it, err);
    }
    int compare = sa && sb;
    while (rc == RW_OK && !(S[0].done && S[1].done)) {
        rw_input in[2];
        int got[2];
        for (int i = 0; i < 2 && rc == RW_OK; i++) {
            for (;;) {
                got[i] = next_input(&S[i], &in[i], err);
                if (got[i] < 0) {
                    rc = err->code;
                    break;
                }
                if (got[i] == 1) {
                    copy_input(&out->last[i][(head[i] + out->n[i]) % keep], &in[i]);
                    if (out->n[i] < keep)
                        out->n[i]++;
                    else
                        head[i] = (head[i] + 1) % keep;
                    out->records[i]++;
                    if (trace_entry(&in[i]))
                        continue; /* listed, never compared */
                }
                break;
            }
        }
        if (rc != RW_OK)
            break;
        /* before the first event (position 0): the interpreter's start-up, its stats
         * of files and the trace's own directory, not the program's */
        int startup = (got[0] && in[0].position == 0) || (got[1] && in[1].position == 0);
        if (compare && !out->found && !startup && (got[0] || got[1]) &&
            !(got[0] && got[1] && same_input(&in[0], &in[1]))) {
            out->found = 1;
            for (int i = 0; i < 2; i++) {
                out->has[i] = got[i];
                if (got[i])
                    copy_input(&out->first[i], &in[i]);
            }
        }
    }
    for (int i = 0; i < 2; i++) {
        rw_inputs_iter_free(S[i].it);
        /* oldest first */
        if (out->last[i] && head[i]) {
            rw_diff_input *v = malloc(keep * sizeof *v);
            if (v) {
                for (size_t k = 0; k < out->n[i]; k++)
                    v[k] = out->last[i][(head[i] + k) % keep];
                free(out->last[i]);
                out->last[i] = v;
            } else if (rc == RW_OK) {
                rc = rw_err_set(err, RW_ENOMEM, "out of memory reading the inputs");
                out->n[i] = 0;
            } else {
                out->n[i] = 0;
            }
        }
    }
    return rc;
}

void rw_diff_inputs_fini(rw_diff_inputs *in)
{
    free(in->last[0]);
    free(in->last[1]);
    in->last[0] = in->last[1] = NULL;
    in->n[0] = in->n[1] = 0;
}
