/* The scan pipeline (scan.h).
 *
 * The iterator is a cursor seeked to the window's start and cut at its end. Batches
 * run NWORKER helper threads over NSLOT slots: chunk i is filled into slot i % NSLOT
 * by whichever worker claims it, and taken by the caller in order; a worker waits
 * while it is NSLOT chunks ahead of the caller.
 */
#include "scan.h"

#include <assert.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "records.h"

void rw_scan_opts_default(rw_scan_opts *o)
{
    memset(o, 0, sizeof *o);
    o->to = UINT64_MAX;
}

/* ---- the iterator ----------------------------------------------------------------- */

rw_code rw_scan_open(const rw_reader *r, const rw_scan_opts *o, rw_scan **out, rw_err *err)
{
    rw_scan *s = calloc(1, sizeof *s);
    if (!s)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    s->r = r;
    s->from = o->from;
    s->thread = o->thread;
    if (o->from >= o->to || o->from > rw_reader_nevents(r)) {
        *out = s; /* an empty window: cur stays NULL */
        return RW_OK;
    }
    s->end = o->to;
    rw_code rc = rw_cursor_new(r, 0, SIZE_MAX, &s->cur, err);
    if (rc == RW_OK) {
        rw_cursor_set_flags(s->cur, o->decode);
        if (o->from)
            rc = rw_cursor_seek(s->cur, o->from, err);
    }
    if (rc != RW_OK) {
        rw_scan_close(s);
        return rw_scan_explain_damage(r, err);
    }
    assert(s->from < s->end);
    *out = s;
    return RW_OK;
}

void rw_scan_close(rw_scan *s)
{
    if (!s)
        return;
    rw_cursor_free(s->cur);
    free(s);
}

/* ---- batches ---------------------------------------------------------------------- */

#define NSLOT 4   /* chunks filled ahead at most */
#define NWORKER 2 /* filling threads */

typedef struct slot {
    void *batch; /* the analysis's buffer, reused */
    int ready;   /* filled, not taken yet */
    rw_code rc;
    rw_err err;
} slot;

typedef struct pipe {
    const rw_reader *r;
    const rw_scan_batch_ops *ops;
    size_t first, last; /* inclusive chunk range */
    pthread_t th[NWORKER];
    int nth;
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;
    slot s[NSLOT];      /* chunk i fills s[i % NSLOT] */
    size_t next_claim;  /* next chunk a worker takes; next_take <= next_claim */
    size_t next_take;   /* next chunk the caller takes */
    int stop;
} pipe;

/* The reader's words for chunk i, which a fill found damaged: a cursor over that
 * chunk alone (same limits) fails at the first damaged record, with the message every
 * command that reads through a cursor prints (file, frame, offset). It decodes every
 * record, as `rewind events` does (a cursor cannot skip untimed lines, which
 * RW_DECODE_SKIP_UNTIMED_LINES does: positions would jump). The fill's own message
 * stays when the cursor reads the chunk through (a damage only the analysis sees).
 * Cold: once per failed scan. */
static void reader_words(const rw_reader *r, size_t i, rw_err *err)
{
    rw_cursor *c;
    rw_err e;
    if (rw_cursor_new(r, i, i, &c, &e) != RW_OK)
        return;
    rw_event ev;
    int rc;
    while ((rc = rw_cursor_next(c, &ev, &e)) == 1)
        ;
    if (rc < 0 && e.code == RW_ECORRUPT)
        *err = e;
    rw_cursor_free(c);
}

/* Loads chunk i and has the analysis fill sl from it (outside the lock). The decoder
 * is the reader's (rw_reader_decoder_new): the chunk's own id limits, as a cursor
 * has, so that a chunk is accepted or rejected alike by every command. */
static void fill_slot(pipe *pp, size_t i, slot *sl)
{
    rw_chunk *ch = NULL;
    rw_decoder *d = NULL;
    sl->rc = rw_reader_load_chunk(pp->r, i, &ch, &sl->err);
    if (sl->rc == RW_OK)
        sl->rc = rw_reader_decoder_new(pp->r, i, ch, &d, &sl->err);
    if (sl->rc == RW_OK) {
        rw_decoder_set_flags(d, pp->ops->decode);
        sl->rc = pp->ops->fill(pp->ops->fill_ctx, i, rw_chunk_get_info(ch), d, &sl->batch,
                               &sl->err);
        if (sl->rc == RW_ECORRUPT)
            reader_words(pp->r, i, &sl->err);
    }
    rw_decoder_free(d);
    rw_chunk_free(ch);
}

static void *worker_main(void *arg)
{
    pipe *pp = arg;
    pthread_mutex_lock(&pp->mu);
    for (;;) {
        while (!pp->stop && pp->next_claim <= pp->last &&
               pp->next_claim - pp->next_take >= NSLOT)
            pthread_cond_wait(&pp->cv, &pp->mu);
        if (pp->stop || pp->next_claim > pp->last)
            break;
        size_t i = pp->next_claim++;
        slot *sl = &pp->s[i % NSLOT];
        assert(!sl->ready);
        pthread_mutex_unlock(&pp->mu);
        fill_slot(pp, i, sl);
        pthread_mutex_lock(&pp->mu);
        sl->ready = 1;
        pthread_cond_broadcast(&pp->cv);
    }
    pthread_mutex_unlock(&pp->mu);
    return NULL;
}

static rw_code pipe_start(pipe *pp, rw_err *err)
{
    pthread_mutex_init(&pp->mu, NULL);
    pthread_cond_init(&pp->cv, NULL);
    pp->next_claim = pp->next_take = pp->first;
    for (int i = 0; i < NWORKER; i++) {
        if (pthread_create(&pp->th[i], NULL, worker_main, pp) != 0)
            break;
        pp->nth++;
    }
    if (pp->nth == 0) {
        pthread_cond_destroy(&pp->cv);
        pthread_mutex_destroy(&pp->mu);
        return rw_err_set(err, RW_ENOMEM, "cannot start a decoding thread");
    }
    return RW_OK;
}

/* Waits for the next chunk in order; the slot is the caller's until pipe_release. */
static slot *pipe_take(pipe *pp)
{
    slot *sl = &pp->s[pp->next_take % NSLOT];
    pthread_mutex_lock(&pp->mu);
    while (!sl->ready)
        pthread_cond_wait(&pp->cv, &pp->mu);
    pthread_mutex_unlock(&pp->mu);
    return sl;
}

static void pipe_release(pipe *pp, slot *sl)
{
    pthread_mutex_lock(&pp->mu);
    sl->ready = 0;
    pp->next_take++;
    assert(pp->next_take <= pp->next_claim);
    pthread_cond_broadcast(&pp->cv);
    pthread_mutex_unlock(&pp->mu);
}

static void pipe_stop(pipe *pp)
{
    pthread_mutex_lock(&pp->mu);
    pp->stop = 1;
    pthread_cond_broadcast(&pp->cv);
    pthread_mutex_unlock(&pp->mu);
    for (int i = 0; i < pp->nth; i++)
        pthread_join(pp->th[i], NULL);
    for (int i = 0; i < NSLOT; i++)
        if (pp->s[i].batch)
            pp->ops->free_batch(pp->s[i].batch);
    pthread_cond_destroy(&pp->cv);
    pthread_mutex_destroy(&pp->mu);
}

rw_code rw_scan_batches(const rw_reader *r, uint64_t from, uint64_t to,
                        const rw_scan_batch_ops *ops, rw_err *err)
{
    size_t nchunks = rw_reader_nchunks(r);
    if (nchunks == 0)
        return RW_OK;
    uint64_t nev = rw_reader_nevents(r);
    size_t first = rw_reader_find_chunk(r, from);
    size_t last = to >= nev ? nchunks - 1 : rw_reader_find_chunk(r, to);
    assert(first <= last && last < nchunks);

    pipe pp;
    memset(&pp, 0, sizeof pp);
    pp.r = r;
    pp.ops = ops;
    pp.first = first;
    pp.last = last;
    RW_TRY(pipe_start(&pp, err));
    rw_code rc = RW_OK;
    for (size_t ci = first; ci <= last; ci++) {
        slot *sl = pipe_take(&pp);
        if (sl->rc != RW_OK) {
            *err = sl->err;
            rc = rw_scan_explain_damage(r, err);
            break;
        }
        int t = ops->take(ops->take_ctx, ci, sl->batch, err);
        pipe_release(&pp, sl);
        if (t < 0) {
            rc = err->code;
            break;
        }
        if (t > 0)
            break;
    }
    pipe_stop(&pp);
    return rc;
}

/* ---- damage ---------------------------------------------------------------------- */

#define INTACT_WORDS "; the first %llu events are intact"

/* "frame N at offset O: " in msg: 1 and its end in *rest. */
static int frame_words(const char *msg, const char **rest)
{
    for (const char *p = strstr(msg, "frame "); p; p = strstr(p + 1, "frame ")) {
        unsigned long long n, o;
        int len = 0;
        if (sscanf(p, "frame %llu at offset %llu: %n", &n, &o, &len) == 2 && len > 0) {
            *rest = p + len;
            return 1;
        }
    }
    return 0;
}

int rw_scan_damage_at(const rw_reader *r, const rw_err *err, uint64_t *first)
{
    const char *rest;
    if ((err->code != RW_ECORRUPT && err->code != RW_EIO) || !frame_words(err->msg, &rest))
        return 0;
    unsigned long long e;
    size_t n = rw_reader_nchunks(r);
    if (sscanf(rest, "chunk at event %llu", &e) == 1) {
        for (size_t i = 0; i < n; i++)
            if (rw_reader_chunk(r, i)->first_event == e) {
                *first = e;
                return 1;
            }
        return 0;
    }
    /* A load error: the chunk whose stored frame fails with the same frame words. */
    size_t plen = (size_t)(rest - err->msg);
    for (size_t i = 0; i < n; i++) {
        rw_err ce = {0};
        if (rw_reader_check_chunk(r, i, &ce) != RW_OK && !strncmp(ce.msg, err->msg, plen)) {
            *first = rw_reader_chunk(r, i)->first_event;
            return 1;
        }
    }
    return 0;
}

rw_code rw_scan_explain_damage(const rw_reader *r, rw_err *err)
{
    uint64_t first;
    if (strstr(err->msg, "events are intact") || !rw_scan_damage_at(r, err, &first))
        return err->code;
    size_t len = strlen(err->msg);
    snprintf(err->msg + len, sizeof err->msg - len, INTACT_WORDS, (unsigned long long)first);
    return err->code;
}

/* ---- the background check ----------------------------------------------------------- */

struct rw_scan_check {
    const rw_reader *r;
    pthread_t th;
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;
    int stop;  /* set by rw_scan_check_free */
    int wanted; /* rw_scan_check_wait waits: no holding back */
    int ended; /* the thread is done */
    int found;
    uint64_t first;
    rw_err err;
};

/* rw_scan_check_hold: while held > 0 the checks wait before their next chunk. */
static pthread_mutex_t hold_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cv = PTHREAD_COND_INITIALIZER;
static int held;

void rw_scan_check_hold(int on)
{
    pthread_mutex_lock(&hold_mu);
    held += on ? 1 : -1;
    if (held <= 0) {
        held = 0;
        pthread_cond_broadcast(&hold_cv);
    }
    pthread_mutex_unlock(&hold_mu);
}

/* Waits while the checks are held; 1 when c is to stop. */
static int wait_unheld(rw_scan_check *c)
{
    pthread_mutex_lock(&hold_mu);
    while (held > 0) {
        pthread_mutex_lock(&c->mu);
        int go = c->stop || c->wanted;
        pthread_mutex_unlock(&c->mu);
        if (go)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000 * 1000;
        ts.tv_sec += ts.tv_nsec / 1000000000;
        ts.tv_nsec %= 1000000000;
        pthread_cond_timedwait(&hold_cv, &hold_mu, &ts);
    }
    pthread_mutex_unlock(&hold_mu);
    pthread_mutex_lock(&c->mu);
    int stop = c->stop;
    pthread_mutex_unlock(&c->mu);
    return stop;
}

/* Decodes chunk i to its end. */
static rw_code check_one(const rw_reader *r, size_t i, rw_err *err)
{
    rw_chunk *c = NULL;
    rw_decoder *d = NULL;
    rw_code rc = rw_reader_load_chunk(r, i, &c, err);
    if (rc == RW_OK)
        rc = rw_reader_decoder_new(r, i, c, &d, err);
    if (rc == RW_OK) {
        rw_event ev;
        int k;
        while ((k = rw_decoder_next(d, &ev, err)) == 1)
            ;
        if (k < 0)
            rc = err->code;
    }
    rw_decoder_free(d);
    rw_chunk_free(c);
    return rc;
}

static void *check_main(void *p)
{
    rw_scan_check *c = p;
    size_t n = rw_reader_nchunks(c->r);
    for (size_t i = 0; i < n; i++) {
        if (wait_unheld(c))
            break;
        rw_err e = {0};
        if (check_one(c->r, i, &e) != RW_OK) {
            uint64_t first = rw_reader_chunk(c->r, i)->first_event;
            if (!strstr(e.msg, "events are intact")) {
                size_t len = strlen(e.msg);
                snprintf(e.msg + len, sizeof e.msg - len, INTACT_WORDS,
                         (unsigned long long)first);
            }
            pthread_mutex_lock(&c->mu);
            c->found = 1;
            c->first = first;
            c->err = e;
            pthread_mutex_unlock(&c->mu);
            break;
        }
    }
    pthread_mutex_lock(&c->mu);
    c->ended = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

rw_code rw_scan_check_start(const rw_reader *r, rw_scan_check **out, rw_err *err)
{
    rw_scan_check *c = calloc(1, sizeof *c);
    if (!c)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    c->r = r;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->th, NULL, check_main, c) != 0) {
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        free(c);
        return rw_err_set(err, RW_EIO, "cannot start a thread");
    }
    *out = c;
    return RW_OK;
}

static int check_result(rw_scan_check *c, int wait, uint64_t *first, rw_err *err)
{
    pthread_mutex_lock(&c->mu);
    c->wanted |= wait;
    while (wait && !c->ended)
        pthread_cond_wait(&c->cv, &c->mu);
    int found = c->found;
    if (found) {
        *first = c->first;
        *err = c->err;
    }
    pthread_mutex_unlock(&c->mu);
    return found;
}

int rw_scan_check_poll(rw_scan_check *c, uint64_t *first, rw_err *err)
{
    return check_result(c, 0, first, err);
}

int rw_scan_check_wait(rw_scan_check *c, uint64_t *first, rw_err *err)
{
    return check_result(c, 1, first, err);
}

void rw_scan_check_free(rw_scan_check *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->th, NULL);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

void rw_scan_tune_malloc(void)
{
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
}
