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
#include <stdlib.h>
#include <string.h>

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
        return rc;
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
            rc = sl->rc;
            *err = sl->err;
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

void rw_scan_tune_malloc(void)
{
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
}
