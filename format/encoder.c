/* Chunk encoder (codec.h): raw records in, rewind.Chunk payloads out.
 *
 * Runs on the writer thread. rw_encoder_feed applies each raw record to the shadow
 * stacks (codec_stacks.h) and the address state (codec_addr.h) and appends its values
 * to the chunk's columns, already in wire form (codec_column.h); rw_encoder_finish
 * writes the Chunk message around them and starts the next chunk with a keyframe.
 * The feed loop (rw_encoder_feed -> encode_one and what it inlines) is the writer
 * thread's hot path and stays in this one file.
 */
#include "codec.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "codec_addr.h"
#include "codec_column.h"
#include "codec_stacks.h"
#include "codec_varint.h"
#include "filter.h"
#include "fprint.h"
#include "rewind.pb-c.h"

/* ---- address slots ---------------------------------------------------------------- */

/* Encoder-side index from an address to its latest allocation: one slot per hash
 * holding the address and the allocation's number counted over the whole trace, so
 * that a lookup touches one slot, starting a chunk costs nothing, and a slot from an
 * earlier chunk (number below the chunk's first) or another address only loses a
 * reference. */
#define ENC_SLOTS 32768

typedef struct enc_slot {
    uint64_t addr;
    uint64_t seq; /* number of the allocation that returned addr */
} enc_slot;

/* ---- finding an address among the recent frees ------------------------------------ */

/* recent_find (codec_addr.h) compares the 32 slots two at a time with SSE2, which every
 * x86-64 CPU has; a third of the encoder's instructions went there on mix.py. With
 * AVX2 the compare takes four slots at a time, with AVX-512 eight; the encoder picks
 * once, from what the CPU has (find_fn). */
typedef unsigned (*find_fn)(const addrstate *a, uint64_t addr);

static unsigned find_sse2(const addrstate *a, uint64_t addr)
{
    return recent_find(a, addr);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define RW_FIND_X86 1

__attribute__((target("avx2"))) static unsigned find_avx2(const addrstate *a, uint64_t addr)
{
    __m256i want = _mm256_set1_epi64x((long long)addr);
    uint32_t hit = 0;
#pragma GCC unroll 8
    for (unsigned s = 0; s < RECENT_N; s += 4) {
        __m256i eq = _mm256_cmpeq_epi64(_mm256_loadu_si256((const __m256i *)&a->recent[s]), want);
        hit |= (uint32_t)_mm256_movemask_pd(_mm256_castsi256_pd(eq)) << s;
    }
    return recent_place(a, hit);
}

__attribute__((target("avx512f"))) static unsigned find_avx512(const addrstate *a,
                                                                uint64_t addr)
{
    __m512i want = _mm512_set1_epi64((long long)addr);
    uint32_t hit = 0;
#pragma GCC unroll 4
    for (unsigned s = 0; s < RECENT_N; s += 8)
        hit |= (uint32_t)_mm512_cmpeq_epi64_mask(_mm512_loadu_si512(&a->recent[s]), want) << s;
    return recent_place(a, hit);
}
#endif

static find_fn pick_find(void)
{
#ifdef RW_FIND_X86
    const char *force = getenv("RW_ENCODER_FIND"); /* tests: sse2, avx2 or avx512 */
    __builtin_cpu_init();
    if (force)
        return !strcmp(force, "avx512") && __builtin_cpu_supports("avx512f") ? find_avx512
               : !strcmp(force, "avx2") && __builtin_cpu_supports("avx2")    ? find_avx2
                                                                            : find_sse2;
    if (__builtin_cpu_supports("avx512f"))
        return find_avx512;
    if (__builtin_cpu_supports("avx2"))
        return find_avx2;
#endif
    return find_sse2;
}

/* Lines already put in the chunk's filter, so that a line run again (a loop's) costs
 * one compare instead of a hash and three probes: an eighth of the encoder's time on
 * calls.py went to the filter. A collision only puts a line in again (no change). */
#define FILTER_SEEN 2048

/* ---- the encoder ------------------------------------------------------------------ */

struct rw_encoder {
    unsigned time_shift;
    int line_times, c_line_times; /* option; its value for the current chunk */
    stacks stk;
    uint32_t thread;          /* current thread */
    uint64_t prev_q;          /* previous event tick >> time_shift */
    uint64_t last_tick;
    uint64_t events, records; /* totals so far */
    uint64_t kind_counts[RW_KIND_MAX];
    uint32_t *first_line;     /* by code id */
    uint32_t nfirst;

    /* current chunk */
    uint64_t c_first_event, c_first_tick, c_events;
    uint32_t c_thread;
    /* The keyframe captured at chunk start: nkey stacks, whose frames point into
     * key_fp, whose entries point into key_f. Kept from one chunk to the next and grown
     * only past its most: a crash report's last chunk must not wait for an allocator
     * lock that the crashed thread may hold (docs/crashes.md). */
    Rewind__ThreadStack *key;
    size_t nkey;
    Rewind__StackFrame *key_f, **key_fp;
    size_t cap_key, cap_key_f, cap_key_fp;
    col_u8 kinds;
    col_vb time_delta;
    col_vb call_code;
    col_vb call_line;  /* sint32 */
    col_vb line_delta; /* sint32 */
    col_vb cfunc;
    col_vb exc_type;
    col_bin exc_message;
    col_vb alloc_size;
    col_vb addr_delta; /* sint64 */
    col_vb addr_low;
    col_vb alloc_ref;
    col_vb free_ref;
    col_vb switch_thread;
    col_vb audit_name;
    col_bin audit_args;
    col_vb gen_frame;
    col_vb drop_spot;
    int after_gen; /* a GEN was fed and its CALL, the next record, not yet */

    addrstate as;
    find_fn find;     /* recent_find's, for this CPU */
    uint32_t prev_j;  /* j of the previous referring free */
    enc_slot *slots;  /* ENC_SLOTS entries, direct-mapped, after the encoder */
    uint64_t alloc_seq;   /* allocations encoded so far (the next one's number) */
    uint64_t c_alloc_seq; /* number of the chunk's first allocation */

    uint8_t filter[RW_FILTER_MAX]; /* the chunk's line filter */
    uint8_t filter_out[RW_FILTER_MAX]; /* the last finished chunk's, folded */
    uint64_t seen[FILTER_SEEN];    /* (code, line) + 1 put in it, direct-mapped */

    /* Fingerprints (fprint.h): the current group's lanes, the values of the groups
     * that ended in the current chunk, and those of the last finished chunk. */
    rw_fp fp;
    uint64_t *fps, *fps_out;
    size_t nfps, cap_fps, cap_fps_out;
};

/* One mapping holds the encoder and then its slots (rw_encoder_new): at least one
 * huge page. */
#define ENC_SLOTS_AT ((sizeof(rw_encoder) + 63) & ~(size_t)63)
#define ENC_TABLES_LEN                                                                    \
    (ENC_SLOTS_AT + ENC_SLOTS * sizeof(enc_slot) > RW_PAGES_HUGE                         \
         ? ENC_SLOTS_AT + ENC_SLOTS * sizeof(enc_slot)                                    \
         : RW_PAGES_HUGE)

/* *a, an array of *cap entries of sz bytes, made room for n, its contents not kept. */
static int room(void **a, size_t sz, size_t *cap, size_t n)
{
    if (n <= *cap)
        return 0;
    size_t want = n > 2 * *cap ? n : 2 * *cap;
    rw_free(*a);
    *a = rw_malloc(want * sz);
    *cap = *a ? want : 0;
    return *a ? 0 : -1;
}

/* Captures every non-empty stack (and the current thread's, even when empty) into a
 * new keyframe. */
static int keyframe_capture(rw_encoder *e)
{
    e->nkey = 0;
    size_t n = 0, nf = 0;
    for (uint32_t i = 0; i < e->stk.n; i++)
        if (e->stk.t[i].st.depth || e->stk.t[i].overflow) {
            n++;
            nf += e->stk.t[i].st.depth;
        }
    if (!n)
        return 0;
    if (nf == 0)
        nf = 1;
    if (room((void **)&e->key, sizeof *e->key, &e->cap_key, n) != 0 ||
        room((void **)&e->key_f, sizeof *e->key_f, &e->cap_key_f, nf) != 0 ||
        room((void **)&e->key_fp, sizeof *e->key_fp, &e->cap_key_fp, nf) != 0)
        return -1;
    size_t at = 0;
    for (uint32_t i = 0; i < e->stk.n; i++) {
        rw_stack *st = &e->stk.t[i].st;
        if (!st->depth && !e->stk.t[i].overflow)
            continue;
        Rewind__ThreadStack *ts = &e->key[e->nkey++];
        rewind__thread_stack__init(ts);
        ts->thread = i;
        ts->overflow = e->stk.t[i].overflow;
        ts->frames = &e->key_fp[at];
        for (uint32_t j = 0; j < st->depth; j++) {
            Rewind__StackFrame *f = &e->key_f[at];
            rewind__stack_frame__init(f);
            f->code = st->frames[j].code;
            f->is_c = st->frames[j].is_c;
            f->line = st->frames[j].line;
            f->call_pos = st->frames[j].call_pos;
            f->call_tick = st->frames[j].call_tick;
            e->key_fp[at++] = f;
            ts->n_frames++;
        }
    }
    return 0;
}

static void chunk_reset(rw_encoder *e)
{
    e->kinds.n = e->time_delta.n = e->call_code.n = e->call_line.n = 0;
    e->line_delta.n = e->cfunc.n = e->exc_type.n = e->alloc_size.n = 0;
    e->addr_delta.n = e->addr_low.n = e->switch_thread.n = e->audit_name.n = 0;
    e->alloc_ref.n = e->free_ref.n = e->gen_frame.n = e->drop_spot.n = 0;
    addr_reset(&e->as);
    e->c_alloc_seq = e->alloc_seq;
    e->prev_j = 0;
    e->c_line_times = e->line_times;
    for (size_t i = 0; i < e->exc_message.n; i++)
        rw_free(e->exc_message.v[i].data);
    for (size_t i = 0; i < e->audit_args.n; i++)
        rw_free(e->audit_args.v[i].data);
    e->exc_message.n = e->audit_args.n = 0;
    e->c_first_event = e->events;
    e->c_first_tick = e->prev_q << e->time_shift;
    e->c_events = 0;
    e->c_thread = e->thread;
    for (uint32_t i = 0; i < e->stk.n; i++)
        e->stk.t[i].orphan_line = 0;
    memset(e->filter, 0, sizeof e->filter);
    memset(e->seen, 0, sizeof e->seen);
}

rw_encoder *rw_encoder_new(unsigned time_shift)
{
    /* The encoder and its slots in pages of their own: the slots are touched all over
     * from the first allocations on, so one huge page where they are on (alloc.h)
     * takes the place of about 150 page faults. */
    rw_encoder *e = rw_pages_alloc(ENC_TABLES_LEN);
    if (!e)
        return NULL;
    e->slots = (enc_slot *)((uint8_t *)e + ENC_SLOTS_AT);
    e->time_shift = time_shift > 32 ? 32 : time_shift;
    e->find = pick_find();
    rw_fp_reset(&e->fp);
    chunk_reset(e);
    return e;
}

void rw_encoder_set_line_times(rw_encoder *e, int on)
{
    e->line_times = on != 0;
    if (e->kinds.n == 0)
        e->c_line_times = e->line_times;
}

void rw_encoder_free(rw_encoder *e)
{
    if (!e)
        return;
    chunk_reset(e);
    rw_free(e->fps);
    rw_free(e->fps_out);
    rw_free(e->key);
    rw_free(e->key_f);
    rw_free(e->key_fp);
    stacks_fini(&e->stk);
    rw_free(e->first_line);
    rw_free(e->kinds.v);
    rw_free(e->time_delta.v);
    rw_free(e->call_code.v);
    rw_free(e->call_line.v);
    rw_free(e->line_delta.v);
    rw_free(e->cfunc.v);
    rw_free(e->exc_type.v);
    rw_free(e->exc_message.v);
    rw_free(e->alloc_size.v);
    rw_free(e->addr_delta.v);
    rw_free(e->addr_low.v);
    rw_free(e->alloc_ref.v);
    rw_free(e->free_ref.v);
    rw_free(e->as.allocs.v);
    rw_free(e->switch_thread.v);
    rw_free(e->audit_name.v);
    rw_free(e->audit_args.v);
    rw_free(e->gen_frame.v);
    rw_free(e->drop_spot.v);
    rw_pages_free(e, ENC_TABLES_LEN);
}

rw_code rw_encoder_def_code(rw_encoder *e, uint32_t id, uint32_t first_line)
{
    if (id >= e->nfirst) {
        uint32_t n = e->nfirst ? e->nfirst : 256;
        while (n <= id)
            n *= 2;
        uint32_t *v = rw_realloc(e->first_line, (size_t)n * sizeof *v);
        if (!v)
            return RW_ENOMEM;
        memset(v + e->nfirst, 0, (size_t)(n - e->nfirst) * sizeof *v);
        e->first_line = v;
        e->nfirst = n;
    }
    e->first_line[id] = first_line;
    return RW_OK;
}

uint64_t rw_encoder_pending(const rw_encoder *e) { return e->kinds.n; }
int rw_encoder_after_gen(const rw_encoder *e) { return e->after_gen; }
uint64_t rw_encoder_events(const rw_encoder *e) { return e->events; }
uint64_t rw_encoder_records(const rw_encoder *e) { return e->records; }
const uint64_t *rw_encoder_kind_counts(const rw_encoder *e) { return e->kind_counts; }
uint64_t rw_encoder_last_tick(const rw_encoder *e) { return e->last_tick; }

/* Entry length in records of the entry starting at r (1, or 2 + text records). */
static size_t entry_len(const rw_rec *r, size_t avail)
{
    if (!RW_HAS_TEXT(RW_REC_KIND(r->w0)))
        return 1;
    if (avail < 2 || RW_REC_KIND(r[1].w0) != RW_K_BLOB)
        return 0;
    uint64_t len = RW_REC_HI(r[1].w0);
    if (len > RW_BLOB_MAX)
        return 0;
    return 2 + (size_t)((len + 15) / 16);
}

static int push_text(col_bin *c, const rw_rec *blob)
{
    size_t len = (size_t)RW_REC_HI(blob->w0);
    ProtobufCBinaryData b = {len, NULL};
    b.data = rw_malloc(len ? len : 1);
    if (!b.data)
        return -1;
    memcpy(b.data, blob + 1, len);
    if (col_bin_push(c, b) < 0) {
        rw_free(b.data);
        return -1;
    }
    return 0;
}

/* Direct-mapped: a collision only loses a back reference (the address is then coded
 * explicitly). Small enough to stay in the L2 cache; a probing table sized to the
 * chunk missed the cache on every lookup (70% of the encoder's time on mix.py). */
static enc_slot *slot_of_addr(rw_encoder *e, uint64_t addr)
{
    return &e->slots[(size_t)((addr * 0x9E3779B97F4A7C15ull) >> 49) & (ENC_SLOTS - 1)];
}

static int push_explicit(rw_encoder *e, uint64_t addr, uint64_t pred)
{
    if (col_vb_push_s64(&e->addr_delta, addr_code(addr, pred)) < 0)
        return -1;
    if ((addr & 7) && col_vb_push(&e->addr_low, (uint32_t)(addr & 7)) < 0)
        return -1;
    return 0;
}

static int encode_alloc(rw_encoder *e, uint64_t addr, uint64_t size)
{
    addrstate *a = &e->as;
    unsigned k = e->find(a, addr);
    if (col_vb_push(&e->alloc_ref, k) < 0)
        return -1;
    if (k) {
        recent_take(a, k);
    } else {
        unsigned c = size_class(size);
        if (push_explicit(e, addr, alloc_pred(a, c)) < 0)
            return -1;
        a->last[c] = addr;
    }
    a->prev_alloc = addr;
    enc_slot *slot = slot_of_addr(e, addr);
    slot->addr = addr;
    slot->seq = e->alloc_seq++;
    return 0;
}

static int encode_free(rw_encoder *e, uint64_t addr)
{
    addrstate *a = &e->as;
    uint32_t j = 0, v = 0;
    const enc_slot *slot = slot_of_addr(e, addr);
    if (slot->addr == addr && slot->seq >= e->c_alloc_seq &&
        e->alloc_seq - slot->seq <= FREE_REF_MAX)
        j = (uint32_t)(e->alloc_seq - slot->seq); /* allocs[len(allocs) - j] is addr */
    if (j) {
        int64_t dj = (int64_t)j - (int64_t)e->prev_j;
        v = 1 + (uint32_t)(((uint64_t)dj << 1) ^ (uint64_t)(dj >> 63));
        e->prev_j = j;
    }
    if (col_vb_push(&e->free_ref, v) < 0)
        return -1;
    if (!j) {
        if (push_explicit(e, addr, a->prev_free) < 0)
            return -1;
        a->prev_free = addr;
    }
    recent_push(a, addr);
    return 0;
}

/* Encodes the time of an event; ticks that go backwards count as no time. */
static int push_time(rw_encoder *e, uint64_t tick)
{
    uint64_t q = tick >> e->time_shift;
    uint64_t d = q >= e->prev_q ? q - e->prev_q : 0;
    if (q > e->prev_q)
        e->prev_q = q;
    if (tick > e->last_tick)
        e->last_tick = tick;
    return col_vb_push(&e->time_delta, d);
}

/* The group ends with the event just encoded: its fingerprint goes with the chunk. */
static int fp_end_group(rw_encoder *e, rw_fp *fp)
{
    if (e->nfps == e->cap_fps) {
        size_t cap = e->cap_fps ? 2 * e->cap_fps : 64;
        uint64_t *grown = rw_realloc(e->fps, cap * sizeof *grown);
        if (!grown)
            return -1;
        e->fps = grown;
        e->cap_fps = cap;
    }
    e->fps[e->nfps++] = rw_fp_value(fp);
    rw_fp_reset(fp);
    return 0;
}

/* fp: the group's fingerprint so far, a local of rw_encoder_feed's loop, so that its two
 * lanes stay in registers: through e->fp every record's hash step also waited for the
 * store and load of the last one (a quarter of the encoder's time on calls.py). */
static rw_code encode_one(rw_encoder *e, rw_fp *fp, const rw_rec *r, rw_err *err)
{
    unsigned k = RW_REC_KIND(r->w0);
    uint64_t hi = RW_REC_HI(r->w0);
    tstate *t = RW_LIKELY(e->thread < e->stk.n) ? &e->stk.t[e->thread]
                                                 : stacks_get(&e->stk, e->thread);
    rw_frame popped;
    int bad = 0;
    if (!t)
        return rw_err_set(err, RW_ENOMEM, "encoder: out of memory for thread stacks");

    switch (k) {
    case RW_K_CALL: {
        e->after_gen = 0;
        uint32_t code = (uint32_t)r->w1, line = (uint32_t)(r->w1 >> 32);
        uint32_t first = code < e->nfirst ? e->first_line[code] : 0;
        int oom = 0;
        rw_frame *f = frame_open(t, &oom);
        if (oom)
            return rw_err_set(err, RW_ENOMEM, "encoder: out of memory for a stack");
        if (f) {
            f->code = code;
            f->line = line;
            f->call_pos = e->events;
            f->call_tick = (hi >> e->time_shift) << e->time_shift;
        } else {
            t->orphan_line = line; /* lines in counted frames go against this */
        }
        bad |= col_vb_push(&e->call_code, code);
        bad |= col_vb_push_s32(&e->call_line, (int32_t)(line - first));
        bad |= push_time(e, hi);
        break;
    }
    case RW_K_LINE: {
        uint32_t *base = line_base(t);
        uint32_t line = (uint32_t)r->w1;
        bad |= col_vb_push_s32(&e->line_delta, (int32_t)(line - *base));
        *base = line;
        if (e->c_line_times)
            bad |= push_time(e, hi);
        uint32_t code = top_code(t);
        uint64_t key = ((uint64_t)code << 32 | line) + 1;
        uint64_t *seen = &e->seen[(code * 0x9E3779B1u + line * 0x85EBCA77u) >> 21];
        if (*seen != key) {
            rw_filter_add(e->filter, code, line);
            *seen = key;
        }
        break;
    }
    case RW_K_RETURN:
        frame_close(t, 0, &popped);
        bad |= push_time(e, hi);
        break;
    case RW_K_EXCEPTION:
    case RW_K_UNCAUGHT:
        bad |= col_vb_push(&e->exc_type, (uint32_t)r->w1);
        bad |= push_text(&e->exc_message, r + 1);
        if (k == RW_K_EXCEPTION)
            bad |= push_time(e, hi);
        break;
    case RW_K_C_CALL: {
        int oom = 0;
        rw_frame *f = frame_open(t, &oom);
        if (oom)
            return rw_err_set(err, RW_ENOMEM, "encoder: out of memory for a stack");
        if (f) {
            f->code = (uint32_t)r->w1;
            f->is_c = 1;
            f->call_pos = e->events;
            f->call_tick = (hi >> e->time_shift) << e->time_shift;
        }
        bad |= col_vb_push(&e->cfunc, (uint32_t)r->w1);
        bad |= push_time(e, hi);
        break;
    }
    case RW_K_C_RETURN:
    case RW_K_C_EXCEPTION:
        frame_close(t, 1, &popped);
        bad |= push_time(e, hi);
        break;
    case RW_K_ALLOC_RAW:
    case RW_K_ALLOC_MEM:
    case RW_K_ALLOC_OBJ:
        bad |= col_vb_push(&e->alloc_size, hi);
        bad |= encode_alloc(e, r->w1, hi);
        break;
    case RW_K_FREE_RAW:
    case RW_K_FREE_MEM:
    case RW_K_FREE_OBJ:
        bad |= encode_free(e, r->w1);
        break;
    case RW_K_THREAD:
        if (r->w1 > UINT32_MAX)
            return rw_err_set(err, RW_EINVAL, "encoder: thread id %llu out of range",
                              (unsigned long long)r->w1);
        e->thread = (uint32_t)r->w1;
        if (!stacks_get(&e->stk, e->thread))
            return rw_err_set(err, RW_ENOMEM, "encoder: out of memory for thread stacks");
        bad |= col_vb_push(&e->switch_thread, e->thread);
        break;
    case RW_K_AUDIT:
        bad |= col_vb_push(&e->audit_name, (uint32_t)r->w1);
        bad |= push_text(&e->audit_args, r + 1);
        break;
    case RW_K_GEN:
        bad |= col_vb_push(&e->gen_frame, r->w1);
        e->after_gen = 1; /* until its CALL, the record after it */
        break;
    case RW_K_STARTUP_REUSE: /* no payload */
        break;
    case RW_K_DROP:
        bad |= col_vb_push(&e->drop_spot, r->w1);
        break;
    default:
        return rw_err_set(err, RW_EINVAL, "encoder: raw record of unknown kind %u", k);
    }
    if (bad || col_u8_push(&e->kinds, (uint8_t)k) < 0)
        return rw_err_set(err, RW_ENOMEM, "encoder: out of memory for chunk columns");
    if (k != RW_K_THREAD && k != RW_K_GEN && k != RW_K_STARTUP_REUSE && k != RW_K_DROP) /* fprint.h */
        rw_fp_add(fp, RW_IS_ALLOC(k) || RW_IS_FREE(k), rw_fp_view(k, e->thread, r->w0, r->w1));
    if (RW_IS_EVENT(k)) {
        e->events++;
        e->c_events++;
        if (RW_UNLIKELY((e->events & (RW_FP_GROUP - 1)) == 0) && fp_end_group(e, fp) < 0)
            return rw_err_set(err, RW_ENOMEM, "encoder: out of memory for fingerprints");
    }
    e->records++;
    e->kind_counts[k]++;
    return RW_OK;
}

rw_code rw_encoder_feed(rw_encoder *e, const rw_rec *recs, size_t n, uint64_t max_pending,
                        size_t *consumed, rw_err *err)
{
    size_t i = 0;
    rw_code rc = RW_OK;
    rw_fp fp = e->fp;
    /* A GEN record names the CALL right after it (decoder.c gives the CALL its
     * address): a full chunk takes that CALL too. */
    while (i < n && (e->kinds.n < max_pending || e->after_gen)) {
        if (e->kinds.n == 0 && keyframe_capture(e) < 0) {
            rc = rw_err_set(err, RW_ENOMEM, "encoder: out of memory for a keyframe");
            break;
        }
        size_t len = entry_len(&recs[i], n - i);
        if (len == 0 || len > n - i) {
            rc = rw_err_set(err, RW_EINVAL, "encoder: truncated text entry at record %zu", i);
            break;
        }
        rc = encode_one(e, &fp, &recs[i], err);
        if (rc != RW_OK)
            break;
        i += len;
    }
    e->fp = fp;
    *consumed = i;
    return rc;
}

/* ---- chunk packing: the Chunk message in protobuf wire form, fields in number
 * order with proto3's defaults left out, as protobuf-c packs it (a unit test compares
 * the two byte for byte). */

/* Size of field `num` holding len bytes (tag, length, bytes). */
static size_t len_field_size(unsigned num, size_t len)
{
    return varint_size((uint64_t)num << 3 | WT_LEN) + varint_size(len) + len;
}

static uint8_t *put_len_field(uint8_t *p, unsigned num, const void *data, size_t len)
{
    p = put_varint(p, (uint64_t)num << 3 | WT_LEN);
    p = put_varint(p, len);
    if (len)
        memcpy(p, data, len);
    return p + len;
}

static size_t varint_field_size(unsigned num, uint64_t x)
{
    return x ? varint_size((uint64_t)num << 3 | WT_VARINT) + varint_size(x) : 0;
}

static uint8_t *put_varint_field(uint8_t *p, unsigned num, uint64_t x)
{
    if (!x)
        return p;
    p = put_varint(p, (uint64_t)num << 3 | WT_VARINT);
    return put_varint(p, x);
}

typedef struct packed_col {
    unsigned num;
    const col_vb *c; /* a varint column, or NULL */
    const col_bin *b; /* a repeated bytes field, or NULL */
} packed_col;

rw_code rw_encoder_finish(rw_encoder *e, uint8_t **out, size_t *out_len, rw_chunk_info *info,
                          rw_err *err)
{
    uint8_t *buf = NULL;
    size_t cap = 0;
    rw_code rc = rw_encoder_finish_into(e, &buf, &cap, out_len, info, err);
    if (rc != RW_OK) {
        rw_free(buf);
        return rc;
    }
    *out = buf;
    return RW_OK;
}

rw_code rw_encoder_finish_into(rw_encoder *e, uint8_t **bufp, size_t *cap, size_t *out_len,
                               rw_chunk_info *info, rw_err *err)
{
    /* Fields 7 to 22, in number order; 7 (kinds) is written apart. */
    const packed_col cols[] = {
        {8, &e->time_delta, NULL},     {9, &e->call_code, NULL},
        {10, &e->call_line, NULL},     {11, &e->line_delta, NULL},
        {12, &e->cfunc, NULL},         {13, &e->exc_type, NULL},
        {14, NULL, &e->exc_message},   {15, &e->alloc_size, NULL},
        {16, &e->addr_delta, NULL},    {17, &e->addr_low, NULL},
        {18, &e->switch_thread, NULL}, {19, &e->audit_name, NULL},
        {20, NULL, &e->audit_args},    {21, &e->alloc_ref, NULL},
        {22, &e->free_ref, NULL},
    };
    size_t len = varint_field_size(1, e->c_first_event) + varint_field_size(2, e->c_events) +
                 varint_field_size(3, e->kinds.n) + varint_field_size(4, e->c_first_tick) +
                 varint_field_size(5, e->c_thread);
    for (size_t i = 0; i < e->nkey; i++)
        len += len_field_size(6, rewind__thread_stack__get_packed_size(&e->key[i]));
    if (e->kinds.n)
        len += len_field_size(7, e->kinds.n);
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        if (cols[i].c && cols[i].c->n)
            len += len_field_size(cols[i].num, cols[i].c->n);
        for (size_t j = 0; cols[i].b && j < cols[i].b->n; j++)
            len += len_field_size(cols[i].num, cols[i].b->v[j].len);
    }
    len += varint_field_size(23, !e->c_line_times);
    if (e->gen_frame.n)
        len += len_field_size(24, e->gen_frame.n);
    if (e->drop_spot.n)
        len += len_field_size(25, e->drop_spot.n);

    if (!*bufp || *cap < len) {
        uint8_t *grown = rw_realloc(*bufp, len ? len : 1);
        if (!grown)
            return rw_err_set(err, RW_ENOMEM, "encoder: out of memory packing a chunk");
        *bufp = grown;
        *cap = len ? len : 1;
    }
    uint8_t *buf = *bufp;
    uint8_t *p = buf;
    p = put_varint_field(p, 1, e->c_first_event);
    p = put_varint_field(p, 2, e->c_events);
    p = put_varint_field(p, 3, e->kinds.n);
    p = put_varint_field(p, 4, e->c_first_tick);
    p = put_varint_field(p, 5, e->c_thread);
    for (size_t i = 0; i < e->nkey; i++) {
        size_t n = rewind__thread_stack__get_packed_size(&e->key[i]);
        p = put_varint(p, 6u << 3 | WT_LEN);
        p = put_varint(p, n);
        p += rewind__thread_stack__pack(&e->key[i], p);
    }
    if (e->kinds.n)
        p = put_len_field(p, 7, e->kinds.v, e->kinds.n);
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        if (cols[i].c && cols[i].c->n)
            p = put_len_field(p, cols[i].num, cols[i].c->v, cols[i].c->n);
        for (size_t j = 0; cols[i].b && j < cols[i].b->n; j++)
            p = put_len_field(p, cols[i].num, cols[i].b->v[j].data, cols[i].b->v[j].len);
    }
    p = put_varint_field(p, 23, !e->c_line_times);
    if (e->gen_frame.n)
        p = put_len_field(p, 24, e->gen_frame.v, e->gen_frame.n);
    if (e->drop_spot.n)
        p = put_len_field(p, 25, e->drop_spot.v, e->drop_spot.n);
    if ((size_t)(p - buf) != len) {
        return rw_err_set(err, RW_EINVAL, "encoder: chunk packed to %zu bytes, not %zu",
                          (size_t)(p - buf), len);
    }
    info->first_event = e->c_first_event;
    info->event_count = e->c_events;
    info->record_count = e->kinds.n;
    info->first_tick = e->c_first_tick;
    info->last_tick = e->last_tick;
    info->filter_len = (uint32_t)rw_filter_fold(e->filter);
    memcpy(e->filter_out, e->filter, info->filter_len);
    info->filter = e->filter_out;
    uint64_t *t = e->fps_out; /* this chunk's fingerprints out, the old array in */
    size_t tcap = e->cap_fps_out;
    e->fps_out = e->fps;
    e->cap_fps_out = e->cap_fps;
    e->fps = t;
    e->cap_fps = tcap;
    info->fps = e->fps_out;
    info->nfps = (uint32_t)e->nfps;
    e->nfps = 0;
    *out_len = len;
    chunk_reset(e);
    return RW_OK;
}
