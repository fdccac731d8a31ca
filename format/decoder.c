/* Chunk decoder (codec.h: rw_decoder_*): the records of one parsed chunk, in order,
 * with the shadow stack of every thread, starting from the chunk's keyframe.
 *
 * rw_decoder_next and what it inlines (the LINE fast path, next_time, skip_allocs,
 * the stack rules) is the hottest loop of every analysis and stays in this one file.
 * Ids are checked against the limits given at rw_decoder_new (the reader's
 * rw_reader_chunk_limits); a record that fails a check makes the decoder fail for
 * good: every later rw_decoder_next returns -1 again.
 */
#include "codec.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "codec_addr.h"
#include "codec_chunk.h"
#include "codec_stacks.h"
#include "codec_varint.h"
#include "rewind.pb-c.h"

/* Largest thread id a decoder without limits accepts (its stack table is indexed by
 * thread id; a hostile id must not make it allocate gigabytes). */
#define UNCHECKED_THREADS_MAX (1u << 20)

struct rw_decoder {
    const rw_chunk *c;
    rw_id_limits lim;
    int check;
    unsigned flags;
    int failed; /* an error was returned: every later call returns it again */
    unsigned time_shift;
    stacks stk;
    uint32_t thread;
    uint64_t pos, q;
    addrstate as;
    uint32_t prev_j;
    size_t i; /* next record */
    const uint8_t *rd[NCOL]; /* next value of each column */
    size_t i_addr, i_low;    /* values taken from addr_delta and addr_low */
    size_t i_exc, i_audit;   /* texts taken */
    uint64_t timed;          /* bit k set: records of kind k take a time_delta */
    int skip_lines;          /* SKIP_UNTIMED_LINES asked, and this chunk's lines untimed */
    uint64_t lines_skipped;
    uint64_t gen;            /* the last GEN record's frame, for the CALL after it */
};

static rw_code decode_err(rw_decoder *d, rw_err *err, const char *what)
{
    d->failed = 1;
    return rw_err_set(err, RW_ECORRUPT, "chunk at event %llu, record %zu: %s",
                      (unsigned long long)d->c->first_event, d->i, what);
}

size_t rw_decoder_index(const rw_decoder *d)
{
    return d->i;
}

rw_code rw_decoder_new(const rw_chunk *c, const rw_id_limits *lim, unsigned time_shift,
                       rw_decoder **out, rw_err *err)
{
    rw_decoder *d = calloc(1, sizeof *d);
    if (!d)
        return rw_err_set(err, RW_ENOMEM, "out of memory for a decoder");
    d->c = c;
    for (int k = 0; k < NCOL; k++)
        d->rd[k] = c->col[k].p;
    for (unsigned k = 0; RW_IS_EVENT(k); k++)
        if (!(k == RW_K_LINE && c->untimed_lines))
            d->timed |= UINT64_C(1) << k;
    d->time_shift = time_shift > 32 ? 32 : time_shift;
    if (lim) {
        d->lim = *lim;
        d->check = 1;
    }
    d->pos = c->first_event;
    d->q = c->first_tick >> d->time_shift;
    d->thread = c->thread;
    rw_code rc = RW_OK;
    if ((d->check && d->thread > d->lim.threads) || d->thread > UNCHECKED_THREADS_MAX)
        rc = decode_err(d, err, "start thread id out of range");
    for (size_t i = 0; rc == RW_OK && i < c->n_keyframe; i++) {
        const Rewind__ThreadStack *ts = c->keyframe[i];
        if ((d->check && ts->thread > d->lim.threads) || ts->thread > UNCHECKED_THREADS_MAX) {
            rc = decode_err(d, err, "keyframe thread id out of range");
            break;
        }
        if (ts->n_frames > RW_STACK_MAX) {
            rc = decode_err(d, err, "keyframe stack too deep");
            break;
        }
        tstate *t = stacks_get(&d->stk, ts->thread);
        if (!t) {
            rc = rw_err_set(err, RW_ENOMEM, "out of memory for thread stacks");
            break;
        }
        t->st.depth = 0;
        t->overflow = ts->overflow;
        for (size_t j = 0; j < ts->n_frames; j++) {
            const Rewind__StackFrame *sf = ts->frames[j];
            uint32_t limit = sf->is_c ? d->lim.cfuncs : d->lim.codes;
            if (d->check && (sf->code == 0 || sf->code > limit)) {
                rc = decode_err(d, err, "keyframe code id out of range");
                break;
            }
            rw_frame *f = stack_push(&t->st);
            if (!f) {
                rc = rw_err_set(err, RW_ENOMEM, "out of memory for a keyframe stack");
                break;
            }
            f->code = sf->code;
            f->is_c = sf->is_c;
            f->line = sf->line;
            f->call_pos = sf->call_pos;
            f->call_tick = sf->call_tick;
        }
    }
    if (rc == RW_OK && !stacks_get(&d->stk, d->thread))
        rc = rw_err_set(err, RW_ENOMEM, "out of memory for thread stacks");
    if (rc != RW_OK) {
        rw_decoder_free(d);
        return rc;
    }
    *out = d;
    return RW_OK;
}

void rw_decoder_free(rw_decoder *d)
{
    if (!d)
        return;
    stacks_fini(&d->stk);
    free(d->as.allocs.v);
    free(d);
}

/* frame_close's rule, but the popped frame is returned in place (valid until the
 * next push) rather than copied, NULL when nothing was popped: reading a copy back
 * right after writing it stalled on store forwarding. */
static inline const rw_frame *frame_close_ref(tstate *t, int is_c)
{
    rw_stack *st = &t->st;
    if (t->overflow) {
        t->overflow--;
        return NULL;
    }
    if (st->depth && !st->frames[st->depth - 1].is_c == !is_c)
        return &st->frames[--st->depth];
    return NULL;
}

/* Fills the "where are we" fields of an event from the top Python frame; inside
 * frames counted past RW_STACK_MAX the code is unknown (0) and the line is the
 * orphan line. */
static inline void fill_top(const tstate *t, rw_event *ev)
{
    const rw_stack *st = &t->st;
    ev->depth = st->depth + t->overflow;
    if (t->overflow) {
        ev->code = 0;
        ev->line = t->orphan_line;
        return;
    }
    for (uint32_t i = st->depth; i-- > 0;) {
        if (!st->frames[i].is_c) {
            ev->code = st->frames[i].code;
            ev->line = st->frames[i].line;
            return;
        }
    }
}

/* Reads an explicit address predicted by pred. */
static int next_explicit(rw_decoder *d, uint64_t pred, uint64_t *addr, rw_err *err)
{
    if (d->i_addr >= d->c->col[C_ADDR_DELTA].n) {
        decode_err(d, err, "addr_delta column too short");
        return -1;
    }
    d->i_addr++;
    int64_t v = unzigzag64(col_next(&d->rd[C_ADDR_DELTA]));
    uint64_t a = ((pred >> 3) + (uint64_t)(v >> 1)) << 3;
    if (v & 1) {
        if (d->i_low >= d->c->col[C_ADDR_LOW].n) {
            decode_err(d, err, "addr_low column too short or out of range");
            return -1;
        }
        d->i_low++;
        uint32_t low = (uint32_t)col_next(&d->rd[C_ADDR_LOW]);
        if (low > 7 || low == 0) {
            decode_err(d, err, "addr_low column too short or out of range");
            return -1;
        }
        a |= low;
    }
    *addr = a;
    return 0;
}

static int decode_alloc(rw_decoder *d, uint64_t size, uint64_t *addr, rw_err *err)
{
    addrstate *a = &d->as;
    uint32_t k = (uint32_t)col_next(&d->rd[C_ALLOC_REF]);
    if (k) {
        if (k > a->nrecent) {
            decode_err(d, err, "alloc_ref out of range");
            return -1;
        }
        *addr = recent_take(a, k);
    } else {
        unsigned c = size_class(size);
        if (next_explicit(d, alloc_pred(a, c), addr, err) < 0)
            return -1;
        a->last[c] = *addr;
    }
    a->prev_alloc = *addr;
    if (col_u64_push(&a->allocs, *addr) < 0) {
        d->failed = 1;
        rw_err_set(err, RW_ENOMEM, "out of memory decoding allocations");
        return -1;
    }
    return 0;
}

static int decode_free(rw_decoder *d, uint64_t *addr, rw_err *err)
{
    addrstate *a = &d->as;
    uint32_t v = (uint32_t)col_next(&d->rd[C_FREE_REF]);
    if (v) {
        uint64_t z = v - 1;
        int64_t dj = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
        int64_t j = (int64_t)d->prev_j + dj;
        if (j < 1 || (uint64_t)j > a->allocs.n) {
            decode_err(d, err, "free_ref out of range");
            return -1;
        }
        *addr = a->allocs.v[a->allocs.n - (uint64_t)j];
        d->prev_j = (uint32_t)j;
    } else {
        if (next_explicit(d, a->prev_free, addr, err) < 0)
            return -1;
        a->prev_free = *addr;
    }
    recent_push(a, *addr);
    return 0;
}

void rw_decoder_set_flags(rw_decoder *d, unsigned flags)
{
    d->flags = flags;
    d->skip_lines = (flags & RW_DECODE_SKIP_UNTIMED_LINES) && d->c->untimed_lines;
}

uint64_t rw_decoder_lines_skipped(const rw_decoder *d) { return d->lines_skipped; }

/* Index of the first record at or after i that is not an ALLOC_* or FREE_* (n if
 * none). Eight kinds at a time: branching on each kind mispredicts on allocation-
 * heavy traces. Kinds were checked (< 64) at decode, so the byte sums below carry
 * nothing into the next byte. */
static inline size_t skip_allocs(const uint8_t *kinds, size_t n, size_t i)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), hi = ones * 0x80;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, kinds + i, 8);
        /* High bit of each byte: kind >= ALLOC_RAW, and kind > FREE_OBJ. */
        uint64_t ge = w + ones * (0x80 - RW_K_ALLOC_RAW);
        uint64_t gt = w + ones * (0x80 - RW_K_FREE_OBJ - 1);
        uint64_t keep = ~(ge & ~gt) & hi;
        if (keep)
            return i + (unsigned)__builtin_ctzll(keep) / 8;
    }
    while (i < n && (unsigned)(kinds[i] - RW_K_ALLOC_RAW) <= RW_K_FREE_OBJ - RW_K_ALLOC_RAW)
        i++;
    return i;
}

/* Reads the time of an event of kind k into d->q (when its kind takes one). */
static inline int next_time(rw_decoder *d, unsigned k, rw_err *err)
{
    if ((d->timed >> k) & 1) {
        /* Columns were length-checked in rw_chunk_decode. */
        uint64_t dt = col_next(&d->rd[C_TIME]);
        if (RW_UNLIKELY(dt > (UINT64_MAX >> d->time_shift) - d->q)) {
            decode_err(d, err, "time overflows");
            return -1;
        }
        d->q += dt;
    }
    return 0;
}

/* rw_decoder_next for every record but the usual LINE: record d->i, which is not
 * an allocation when they are skipped. */
static __attribute__((noinline)) int next_record(rw_decoder *d, rw_event *ev, rw_err *err)
{
    const rw_chunk *c = d->c;
    if (RW_UNLIKELY(d->failed)) {
        rw_err_set(err, RW_ECORRUPT, "chunk at event %llu: decoding already failed",
                   (unsigned long long)c->first_event);
        return -1;
    }
    if (d->i >= c->nkinds)
        return 0;
    unsigned k = c->kinds[d->i];
    assert(d->thread < d->stk.n); /* ensured at start and on THREAD */
    tstate *t = &d->stk.t[d->thread];
    /* Field by field: a memset (or a compound literal) of the event compiles to
     * `rep stos`, whose start-up cost was half of the decoder's time. */
    ev->kind = (uint8_t)k;
    ev->thread = d->thread;
    ev->pos = d->pos;
    ev->code = ev->line = ev->depth = ev->name = 0;
    ev->call_pos = ev->call_tick = ev->size = ev->addr = 0;
    ev->text = NULL;
    ev->text_len = 0;
    if (next_time(d, k, err) < 0)
        return -1;
    ev->tick = d->q << d->time_shift;

    switch (k) {
    case RW_K_CALL: {
        uint32_t code = (uint32_t)col_next(&d->rd[C_CALL_CODE]);
        int32_t dl = unzigzag32(col_next(&d->rd[C_CALL_LINE]));
        if (d->check && (code == 0 || code > d->lim.codes)) {
            decode_err(d, err, "call code id out of range");
            return -1;
        }
        uint32_t first = (d->check && d->lim.code_first_line) ? d->lim.code_first_line[code] : 0;
        int oom = 0;
        rw_frame *f = frame_open(t, &oom);
        if (oom) {
            d->failed = 1;
            rw_err_set(err, RW_ENOMEM, "out of memory for a stack");
            return -1;
        }
        ev->code = code;
        ev->line = first + (uint32_t)dl;
        ev->addr = d->gen; /* a generator's frame: which object */
        d->gen = 0;
        if (f) {
            f->code = code;
            f->line = ev->line;
            f->call_pos = d->pos;
            f->call_tick = ev->tick;
        } else {
            t->orphan_line = ev->line; /* lines in counted frames go against this */
        }
        ev->depth = t->st.depth + t->overflow;
        break;
    }
    case RW_K_LINE: {
        uint32_t dl = (uint32_t)unzigzag32(col_next(&d->rd[C_LINE_DELTA]));
        uint32_t *base = line_base(t);
        *base += dl;
        fill_top(t, ev);
        ev->line = *base;
        break;
    }
    case RW_K_RETURN: {
        fill_top(t, ev);
        const rw_frame *f = frame_close_ref(t, 0);
        ev->code = f ? f->code : 0;
        if (f) {
            ev->call_pos = f->call_pos;
            ev->call_tick = f->call_tick;
        }
        break;
    }
    case RW_K_EXCEPTION:
    case RW_K_UNCAUGHT: {
        uint32_t name = (uint32_t)col_next(&d->rd[C_EXC_TYPE]);
        assert(d->i_exc < c->n_exc_message); /* counted against the kinds at decode */
        const ctext *b = &c->exc_message[d->i_exc++];
        if (d->check && name > d->lim.names) {
            decode_err(d, err, "exception name id out of range");
            return -1;
        }
        fill_top(t, ev);
        ev->name = name;
        ev->text = (const char *)b->p;
        ev->text_len = b->len;
        break;
    }
    case RW_K_C_CALL: {
        uint32_t fn = (uint32_t)col_next(&d->rd[C_CFUNC]);
        if (d->check && (fn == 0 || fn > d->lim.cfuncs)) {
            decode_err(d, err, "c function id out of range");
            return -1;
        }
        fill_top(t, ev);
        int oom = 0;
        rw_frame *f = frame_open(t, &oom);
        if (oom) {
            d->failed = 1;
            rw_err_set(err, RW_ENOMEM, "out of memory for a stack");
            return -1;
        }
        if (f) {
            f->code = fn;
            f->is_c = 1;
            f->call_pos = d->pos;
            f->call_tick = ev->tick;
        }
        ev->code = fn;
        ev->depth = t->st.depth + t->overflow;
        break;
    }
    case RW_K_C_RETURN:
    case RW_K_C_EXCEPTION: {
        uint32_t depth = t->st.depth + t->overflow;
        int counted = t->overflow != 0;
        const rw_frame *f = frame_close_ref(t, 1);
        fill_top(t, ev); /* the calling Python frame's line */
        if (f) {
            ev->code = f->code;
            ev->call_pos = f->call_pos;
            ev->call_tick = f->call_tick;
        } else {
            ev->code = 0;
        }
        ev->depth = f || counted ? depth : 0;
        break;
    }
    case RW_K_ALLOC_RAW:
    case RW_K_ALLOC_MEM:
    case RW_K_ALLOC_OBJ:
        ev->size = col_next(&d->rd[C_ALLOC_SIZE]);
        if (decode_alloc(d, ev->size, &ev->addr, err) < 0)
            return -1;
        fill_top(t, ev);
        break;
    case RW_K_FREE_RAW:
    case RW_K_FREE_MEM:
    case RW_K_FREE_OBJ:
        if (decode_free(d, &ev->addr, err) < 0)
            return -1;
        fill_top(t, ev);
        break;
    case RW_K_THREAD: {
        uint32_t th = (uint32_t)col_next(&d->rd[C_SWITCH]);
        if (d->check && th > d->lim.threads) {
            decode_err(d, err, "thread id out of range");
            return -1;
        }
        if (th > UNCHECKED_THREADS_MAX || !stacks_get(&d->stk, th)) {
            d->failed = 1;
            rw_err_set(err, RW_ENOMEM, "thread id %u: out of memory for thread stacks", th);
            return -1;
        }
        d->thread = th;
        t = &d->stk.t[th];
        ev->thread = th;
        ev->name = th;
        fill_top(t, ev);
        break;
    }
    case RW_K_GEN:
        ev->addr = d->gen = col_next(&d->rd[C_GEN]);
        fill_top(t, ev);
        break;
    case RW_K_STARTUP_REUSE: /* no payload */
        fill_top(t, ev);
        break;
    case RW_K_DROP:
        ev->addr = col_next(&d->rd[C_DROP]); /* the spot */
        fill_top(t, ev);
        break;
    case RW_K_AUDIT: {
        uint32_t name = (uint32_t)col_next(&d->rd[C_AUDIT_NAME]);
        assert(d->i_audit < c->n_audit_args);
        const ctext *b = &c->audit_args[d->i_audit++];
        if (d->check && name > d->lim.names) {
            decode_err(d, err, "audit name id out of range");
            return -1;
        }
        fill_top(t, ev);
        ev->name = name;
        ev->text = (const char *)b->p;
        ev->text_len = b->len;
        break;
    }
    default:
        decode_err(d, err, "unknown record kind");
        return -1;
    }
    if (RW_IS_EVENT(k))
        d->pos++;
    d->i++;
    /* Positions only grow, one per event, from the chunk's first_event. */
    assert(d->pos >= c->first_event && d->pos - c->first_event <= d->i);
    return 1;
}

/* SKIP_UNTIMED_LINES: applies the LINE records from d->i on to the stacks (as
 * next_record does, with line_base), passing over allocations between them under
 * SKIP_ALLOCS; leaves d->i at the next record to return. */
static void skip_lines(rw_decoder *d)
{
    const rw_chunk *c = d->c;
    size_t i = d->i;
    while (i < c->nkinds) {
        unsigned k = c->kinds[i];
        if (k == RW_K_LINE) {
            uint32_t *base = line_base(&d->stk.t[d->thread]);
            *base += (uint32_t)unzigzag32(col_next(&d->rd[C_LINE_DELTA]));
            d->pos++;
            d->lines_skipped++;
            i++;
        } else if ((d->flags & RW_DECODE_SKIP_ALLOCS) &&
                   (unsigned)(k - RW_K_ALLOC_RAW) <= RW_K_FREE_OBJ - RW_K_ALLOC_RAW) {
            i = skip_allocs(c->kinds, c->nkinds, i);
        } else {
            break;
        }
    }
    d->i = i;
}

int rw_decoder_next(rw_decoder *d, rw_event *ev, rw_err *err)
{
    const rw_chunk *c = d->c;
    size_t i = d->i;
    if (d->flags & RW_DECODE_SKIP_ALLOCS) {
        /* Allocation columns are never read again in this mode. */
        i = skip_allocs(c->kinds, c->nkinds, i);
        d->i = i;
    }
    if (d->skip_lines && !d->failed) {
        skip_lines(d);
        i = d->i;
    }
    /* Two events in three are a LINE in a Python frame: decoded here, with none of
     * next_record's switch (line_base and fill_top in short). */
    if (RW_LIKELY(i < c->nkinds) && c->kinds[i] == RW_K_LINE && RW_LIKELY(!d->failed)) {
        tstate *t = &d->stk.t[d->thread]; /* exists: ensured at start and on THREAD */
        rw_stack *st = &t->st;
        rw_frame *top = st->depth && !t->overflow ? &st->frames[st->depth - 1] : NULL;
        if (RW_LIKELY(top && !top->is_c)) {
            if (next_time(d, RW_K_LINE, err) < 0)
                return -1;
            uint32_t line = top->line + (uint32_t)unzigzag32(col_next(&d->rd[C_LINE_DELTA]));
            top->line = line;
            ev->kind = RW_K_LINE;
            ev->thread = d->thread;
            ev->pos = d->pos++;
            ev->tick = d->q << d->time_shift;
            ev->code = top->code;
            ev->line = line;
            ev->depth = st->depth;
            ev->name = 0;
            ev->call_pos = ev->call_tick = ev->size = ev->addr = 0;
            ev->text = NULL;
            ev->text_len = 0;
            d->i = i + 1;
            return 1;
        }
    }
    return next_record(d, ev, err);
}

size_t rw_decoder_nstacks(const rw_decoder *d) { return d->stk.n; }

const rw_stack *rw_decoder_stack_at(const rw_decoder *d, size_t i)
{
    return i < d->stk.n ? &d->stk.t[i].st : NULL;
}

const rw_stack *rw_decoder_stack(const rw_decoder *d, uint32_t thread)
{
    return thread < d->stk.n ? &d->stk.t[thread].st : NULL;
}

uint32_t rw_decoder_thread(const rw_decoder *d) { return d->thread; }
