/* Columnar chunk codec (see codec.h and docs/format.md).
 *
 * The encoder and the decoder keep the same shadow stacks by applying the same rules
 * (stack_call, stack_pop_py, stack_pop_c, line_base) to the same records: line
 * deltas are only decodable because both sides agree on "the frame's previous line".
 * Any change to those rules is a format change.
 */
#include "codec.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <stdlib.h>
#include <string.h>

#include "rewind.pb-c.h"

const char *rw_kind_name(int kind)
{
    switch (kind) {
    case RW_K_CALL: return "call";
    case RW_K_LINE: return "line";
    case RW_K_RETURN: return "return";
    case RW_K_EXCEPTION: return "exception";
    case RW_K_C_CALL: return "c_call";
    case RW_K_C_RETURN: return "c_return";
    case RW_K_C_EXCEPTION: return "c_exception";
    case RW_K_ALLOC_RAW: return "alloc_raw";
    case RW_K_ALLOC_MEM: return "alloc_mem";
    case RW_K_ALLOC_OBJ: return "alloc_obj";
    case RW_K_FREE_RAW: return "free_raw";
    case RW_K_FREE_MEM: return "free_mem";
    case RW_K_FREE_OBJ: return "free_obj";
    case RW_K_THREAD: return "thread";
    case RW_K_AUDIT: return "audit";
    case RW_K_UNCAUGHT: return "uncaught";
    case RW_K_BLOB: return "blob";
    }
    return "?";
}

/* Kinds that may appear in a file's kinds column. */
static int kind_valid(unsigned k)
{
    return k <= RW_K_C_EXCEPTION || (k >= RW_K_ALLOC_RAW && k <= RW_K_UNCAUGHT);
}

/* ---- shadow stacks (shared rules) ------------------------------------------- */

/* Per-thread state both sides keep: the stack plus the line base used when a LINE
 * arrives with no Python frame on top (recording started inside a frame). */
typedef struct tstate {
    rw_stack st;
    uint32_t orphan_line;
    uint32_t overflow; /* frames opened beyond RW_STACK_MAX, not stored */
} tstate;

typedef struct stacks {
    tstate *t;       /* indexed by thread id */
    uint32_t n;      /* entries allocated */
} stacks;

static tstate *stacks_get(stacks *s, uint32_t thread)
{
    if (thread >= s->n) {
        uint32_t n = s->n ? s->n : 8;
        while (n <= thread) {
            if (n > (1u << 24))
                return NULL;
            n *= 2;
        }
        tstate *t = realloc(s->t, (size_t)n * sizeof *t);
        if (!t)
            return NULL;
        memset(t + s->n, 0, (size_t)(n - s->n) * sizeof *t);
        for (uint32_t i = s->n; i < n; i++)
            t[i].st.thread = i;
        s->t = t;
        s->n = n;
    }
    return &s->t[thread];
}

static void stacks_fini(stacks *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        free(s->t[i].st.frames);
    free(s->t);
    s->t = NULL;
    s->n = 0;
}

static rw_frame *stack_push(rw_stack *st)
{
    if (st->depth == st->cap) {
        if (st->cap >= RW_STACK_MAX)
            return NULL;
        uint32_t cap = st->cap ? st->cap * 2 : 64;
        rw_frame *f = realloc(st->frames, (size_t)cap * sizeof *f);
        if (!f)
            return NULL;
        st->frames = f;
        st->cap = cap;
    }
    rw_frame *f = &st->frames[st->depth++];
    memset(f, 0, sizeof *f);
    return f;
}

/* RETURN: pops the top frame if it is a Python frame (a RETURN with a C frame or
 * nothing on top pops nothing). Fills *out with the popped frame or zeros. */
static void stack_pop_py(rw_stack *st, rw_frame *out)
{
    if (st->depth && !st->frames[st->depth - 1].is_c) {
        *out = st->frames[--st->depth];
    } else {
        memset(out, 0, sizeof *out);
    }
}

/* C_RETURN / C_EXCEPTION: pops the top frame if it is a C frame. */
static void stack_pop_c(rw_stack *st, rw_frame *out)
{
    if (st->depth && st->frames[st->depth - 1].is_c) {
        *out = st->frames[--st->depth];
    } else {
        memset(out, 0, sizeof *out);
    }
}

/* CALL / C_CALL: the frame to fill, or NULL when the stack is full (deeper frames
 * are only counted, in overflow) or out of memory (*oom set). */
static rw_frame *frame_open(tstate *t, int *oom)
{
    if (t->overflow || t->st.depth >= RW_STACK_MAX) {
        t->overflow++;
        return NULL;
    }
    rw_frame *f = stack_push(&t->st);
    if (!f)
        *oom = 1;
    return f;
}

/* RETURN / C_RETURN / C_EXCEPTION: counted frames close first. */
static void frame_close(tstate *t, int is_c, rw_frame *out)
{
    if (t->overflow) {
        t->overflow--;
        memset(out, 0, sizeof *out);
    } else if (is_c) {
        stack_pop_c(&t->st, out);
    } else {
        stack_pop_py(&t->st, out);
    }
}

/* Where a LINE's previous line lives: the top Python frame, else (no Python frame on
 * top, or in a counted frame past RW_STACK_MAX) the orphan base. */
static uint32_t *line_base(tstate *t)
{
    rw_stack *st = &t->st;
    if (t->overflow)
        return &t->orphan_line;
    if (st->depth && !st->frames[st->depth - 1].is_c)
        return &st->frames[st->depth - 1].line;
    return &t->orphan_line;
}

/* The code the decoder gives a LINE event (fill_top): the innermost Python frame's,
 * 0 when there is none or frames were counted past RW_STACK_MAX. */
static uint32_t top_code(const tstate *t)
{
    if (t->overflow)
        return 0;
    for (uint32_t i = t->st.depth; i-- > 0;)
        if (!t->st.frames[i].is_c)
            return t->st.frames[i].code;
    return 0;
}

/* ---- growable columns ------------------------------------------------------- */

#define COLUMN(T, name)                                                        \
    typedef struct name {                                                      \
        T *v;                                                                  \
        size_t n, cap;                                                         \
    } name;                                                                    \
    __attribute__((noinline)) static int name##_grow(name *c)                  \
    {                                                                          \
        size_t cap = c->cap ? c->cap * 2 : 1024;                               \
        T *v = realloc(c->v, cap * sizeof *v);                                 \
        if (!v)                                                                \
            return -1;                                                         \
        c->v = v;                                                              \
        c->cap = cap;                                                          \
        return 0;                                                              \
    }                                                                          \
    static inline int name##_push(name *c, T x)                                \
    {                                                                          \
        if (RW_UNLIKELY(c->n == c->cap) && name##_grow(c) < 0)                 \
            return -1;                                                         \
        c->v[c->n++] = x;                                                      \
        return 0;                                                              \
    }

COLUMN(uint8_t, col_u8)
COLUMN(uint32_t, col_u32)
COLUMN(uint64_t, col_u64)
COLUMN(ProtobufCBinaryData, col_bin)

/* A packed repeated varint field of the chunk, kept in wire form: the bytes that
 * follow the field's tag and length. Encoding at push time makes packing a chunk
 * a copy (protobuf-c sized and then encoded every value again, 16% of the writer
 * thread on mix.py). */
typedef struct col_vb {
    uint8_t *v;
    size_t n, cap; /* bytes */
} col_vb;

#define VARINT_MAX 10

__attribute__((noinline)) static int col_vb_grow(col_vb *c)
{
    size_t cap = c->cap ? c->cap * 2 : 4096;
    uint8_t *v = realloc(c->v, cap);
    if (!v)
        return -1;
    c->v = v;
    c->cap = cap;
    return 0;
}

/* Writes x as a protobuf varint at p; returns the end. */
static inline uint8_t *put_varint(uint8_t *p, uint64_t x)
{
    while (x >= 0x80) {
        *p++ = (uint8_t)(x | 0x80);
        x >>= 7;
    }
    *p++ = (uint8_t)x;
    return p;
}

static inline int col_vb_push(col_vb *c, uint64_t x)
{
    if (RW_UNLIKELY(c->cap - c->n < VARINT_MAX) && col_vb_grow(c) < 0)
        return -1;
    c->n = (size_t)(put_varint(c->v + c->n, x) - c->v);
    return 0;
}

/* protobuf's sint32 and sint64 (zigzag). */
static inline int col_vb_push_s32(col_vb *c, int32_t x)
{
    return col_vb_push(c, (uint32_t)(((uint32_t)x << 1) ^ (uint32_t)(x >> 31)));
}

static inline int col_vb_push_s64(col_vb *c, int64_t x)
{
    return col_vb_push(c, ((uint64_t)x << 1) ^ (uint64_t)(x >> 63));
}

/* ---- addresses (shared rules, see rewind.proto "Addresses") -------------------- */

#define RECENT_N 32 /* recent_find keeps one bit per slot in a uint32_t */
#define NCLASS 34
#define FREE_REF_MAX (1u << 30) /* the encoder refers back at most this far */

typedef struct addrstate {
    col_u64 allocs;            /* every ALLOC address of the chunk, in order */
    uint64_t recent[RECENT_N]; /* last frees: ring, recent[(head + i) % N] is the i-th */
    unsigned head, nrecent;    /* most recent (i = 0) */
    uint64_t last[NCLASS];     /* last explicit ALLOC address per size class */
    uint64_t prev_alloc, prev_free;
} addrstate;

static void addr_reset(addrstate *a)
{
    a->allocs.n = 0;
    a->head = a->nrecent = 0;
    memset(a->last, 0, sizeof a->last);
    a->prev_alloc = a->prev_free = 0;
}

static unsigned size_class(uint64_t size)
{
    return size <= 512 ? (unsigned)((size + 15) >> 4) : NCLASS - 1;
}

static uint64_t alloc_pred(const addrstate *a, unsigned c)
{
    if (!a->last[c])
        return a->prev_alloc;
    return a->last[c] + (c < NCLASS - 1 ? 16u * c : 0);
}

#define RECENT(a, i) ((a)->recent[((a)->head + (i)) & (RECENT_N - 1)])

/* Removes and returns the k-th most recent free (1 <= k <= nrecent): the k - 1 more
 * recent ones move up one place, so the usual k = 1 costs nothing. */
static uint64_t recent_take(addrstate *a, unsigned k)
{
    uint64_t v = RECENT(a, k - 1);
    for (unsigned i = k - 1; i > 0; i--)
        RECENT(a, i) = RECENT(a, i - 1);
    a->head = (a->head + 1) & (RECENT_N - 1);
    a->nrecent--;
    return v;
}

/* 1 + the place of addr among the recent frees, most recent first (the smallest when
 * it is there twice), or 0. Compares all the slots without a branch: the place found
 * varies from one record to the next (mix.py: none 23%, 1 24%, 2 19%, 3-9 33%), so a
 * loop that stopped at the first match mispredicted its exit. */
static unsigned recent_find(const addrstate *a, uint64_t addr)
{
    uint32_t hit = 0; /* bit s: slot s holds addr */
#ifdef __SSE2__
    /* Two slots per step; SSE2 has no 64-bit compare: both 32-bit halves equal. */
    __m128i want = _mm_set1_epi64x((long long)addr);
#pragma GCC unroll 16
    for (unsigned s = 0; s < RECENT_N; s += 2) {
        __m128i eq = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)&a->recent[s]), want);
        eq = _mm_and_si128(eq, _mm_shuffle_epi32(eq, _MM_SHUFFLE(2, 3, 0, 1)));
        hit |= (uint32_t)_mm_movemask_pd(_mm_castsi128_pd(eq)) << s;
    }
#else
    for (unsigned s = 0; s < RECENT_N; s++)
        hit |= (uint32_t)(a->recent[s] == addr) << s;
#endif
    /* Slot s is place (s - head) mod N: rotate so that bit i is place i. */
    hit = (hit >> a->head) | (a->head ? hit << (RECENT_N - a->head) : 0);
    if (a->nrecent < RECENT_N)
        hit &= (1u << a->nrecent) - 1;
    return hit ? (unsigned)__builtin_ctz(hit) + 1 : 0;
}

static void recent_push(addrstate *a, uint64_t addr)
{
    a->head = (a->head - 1) & (RECENT_N - 1);
    a->recent[a->head] = addr;
    if (a->nrecent < RECENT_N)
        a->nrecent++;
}

/* Explicit address coding: ((a >> 3) - (p >> 3)) << 1 | unaligned. */
static int64_t addr_code(uint64_t a, uint64_t pred)
{
    int64_t d = (int64_t)((a >> 3) - (pred >> 3));
    return (int64_t)((uint64_t)d << 1) | ((a & 7) != 0);
}

/* ---- encoder ---------------------------------------------------------------- */

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

/* ---- line filter ------------------------------------------------------------ */

/* The probes of (code, line): RW_FILTER_PROBES 21-bit numbers taken from one 64-bit
 * mix; a filter of B bits tests each probe modulo B (B a power of two, so that a
 * filter folds in half by OR-ing its halves). */
static uint64_t filter_hash(uint32_t code, uint32_t line)
{
    uint64_t h = ((uint64_t)code << 32 | line) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return h;
}

void rw_filter_add(uint8_t *f, uint32_t code, uint32_t line)
{
    uint64_t h = filter_hash(code, line);
    for (int i = 0; i < RW_FILTER_PROBES; i++, h >>= 21) {
        uint32_t bit = (uint32_t)h & (RW_FILTER_MAX * 8 - 1);
        f[bit >> 3] |= (uint8_t)(1u << (bit & 7));
    }
}

int rw_filter_valid(size_t len)
{
    return len >= RW_FILTER_MIN && len <= RW_FILTER_MAX && (len & (len - 1)) == 0;
}

int rw_filter_may_have(const uint8_t *filter, size_t len, uint32_t code, uint32_t line)
{
    if (!filter || !rw_filter_valid(len))
        return 1;
    uint64_t h = filter_hash(code, line);
    for (int i = 0; i < RW_FILTER_PROBES; i++, h >>= 21) {
        uint32_t bit = (uint32_t)h & (uint32_t)(len * 8 - 1);
        if (!(filter[bit >> 3] & (1u << (bit & 7))))
            return 0;
    }
    return 1;
}

size_t rw_filter_fold(uint8_t *f)
{
    size_t len = RW_FILTER_MAX;
    while (len > RW_FILTER_MIN) {
        size_t half = len / 2, ones = 0;
        for (size_t i = 0; i < half; i++)
            ones += (size_t)__builtin_popcount(f[i] | f[half + i]);
        if (ones * 8 > half * 8 * 3)
            break;
        for (size_t i = 0; i < half; i++)
            f[i] |= f[half + i];
        len = half;
    }
    return len;
}

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
    Rewind__ThreadStack **key;    /* keyframe captured at chunk start */
    size_t nkey;
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

    addrstate as;
    uint32_t prev_j;  /* j of the previous referring free */
    enc_slot *slots;  /* ENC_SLOTS entries, direct-mapped */
    uint64_t alloc_seq;   /* allocations encoded so far (the next one's number) */
    uint64_t c_alloc_seq; /* number of the chunk's first allocation */

    uint8_t filter[RW_FILTER_MAX]; /* the chunk's line filter */
    uint8_t filter_out[RW_FILTER_MAX]; /* the last finished chunk's, folded */
    uint64_t last_key;             /* the last (code, line) put in it, + 1 */
};

static void keyframe_free(Rewind__ThreadStack **key, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!key[i])
            continue;
        for (size_t j = 0; j < key[i]->n_frames; j++)
            free(key[i]->frames[j]);
        free(key[i]->frames);
        free(key[i]);
    }
    free(key);
}

/* Captures every non-empty stack (and the current thread's, even when empty) into a
 * new keyframe. */
static int keyframe_capture(rw_encoder *e)
{
    keyframe_free(e->key, e->nkey);
    e->key = NULL;
    e->nkey = 0;
    size_t n = 0;
    for (uint32_t i = 0; i < e->stk.n; i++)
        if (e->stk.t[i].st.depth || e->stk.t[i].overflow)
            n++;
    if (!n)
        return 0;
    e->key = calloc(n, sizeof *e->key);
    if (!e->key)
        return -1;
    for (uint32_t i = 0; i < e->stk.n; i++) {
        rw_stack *st = &e->stk.t[i].st;
        if (!st->depth && !e->stk.t[i].overflow)
            continue;
        Rewind__ThreadStack *ts = malloc(sizeof *ts);
        if (!ts)
            return -1;
        rewind__thread_stack__init(ts);
        e->key[e->nkey++] = ts;
        ts->thread = i;
        ts->overflow = e->stk.t[i].overflow;
        ts->frames = calloc(st->depth ? st->depth : 1, sizeof *ts->frames);
        if (!ts->frames)
            return -1;
        for (uint32_t j = 0; j < st->depth; j++) {
            Rewind__StackFrame *f = malloc(sizeof *f);
            if (!f)
                return -1;
            rewind__stack_frame__init(f);
            f->code = st->frames[j].code;
            f->is_c = st->frames[j].is_c;
            f->line = st->frames[j].line;
            f->call_pos = st->frames[j].call_pos;
            f->call_tick = st->frames[j].call_tick;
            ts->frames[ts->n_frames++] = f;
        }
    }
    return 0;
}

static void chunk_reset(rw_encoder *e)
{
    e->kinds.n = e->time_delta.n = e->call_code.n = e->call_line.n = 0;
    e->line_delta.n = e->cfunc.n = e->exc_type.n = e->alloc_size.n = 0;
    e->addr_delta.n = e->addr_low.n = e->switch_thread.n = e->audit_name.n = 0;
    e->alloc_ref.n = e->free_ref.n = 0;
    addr_reset(&e->as);
    e->c_alloc_seq = e->alloc_seq;
    e->prev_j = 0;
    e->c_line_times = e->line_times;
    for (size_t i = 0; i < e->exc_message.n; i++)
        free(e->exc_message.v[i].data);
    for (size_t i = 0; i < e->audit_args.n; i++)
        free(e->audit_args.v[i].data);
    e->exc_message.n = e->audit_args.n = 0;
    e->c_first_event = e->events;
    e->c_first_tick = e->prev_q << e->time_shift;
    e->c_events = 0;
    e->c_thread = e->thread;
    for (uint32_t i = 0; i < e->stk.n; i++)
        e->stk.t[i].orphan_line = 0;
    memset(e->filter, 0, sizeof e->filter);
    e->last_key = 0;
}

rw_encoder *rw_encoder_new(unsigned time_shift)
{
    rw_encoder *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->slots = calloc(ENC_SLOTS, sizeof *e->slots);
    if (!e->slots) {
        free(e);
        return NULL;
    }
    e->time_shift = time_shift > 32 ? 32 : time_shift;
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
    keyframe_free(e->key, e->nkey);
    stacks_fini(&e->stk);
    free(e->first_line);
    free(e->kinds.v);
    free(e->time_delta.v);
    free(e->call_code.v);
    free(e->call_line.v);
    free(e->line_delta.v);
    free(e->cfunc.v);
    free(e->exc_type.v);
    free(e->exc_message.v);
    free(e->alloc_size.v);
    free(e->addr_delta.v);
    free(e->addr_low.v);
    free(e->alloc_ref.v);
    free(e->free_ref.v);
    free(e->as.allocs.v);
    free(e->slots);
    free(e->switch_thread.v);
    free(e->audit_name.v);
    free(e->audit_args.v);
    free(e);
}

rw_code rw_encoder_def_code(rw_encoder *e, uint32_t id, uint32_t first_line)
{
    if (id >= e->nfirst) {
        uint32_t n = e->nfirst ? e->nfirst : 256;
        while (n <= id)
            n *= 2;
        uint32_t *v = realloc(e->first_line, (size_t)n * sizeof *v);
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
    b.data = malloc(len ? len : 1);
    if (!b.data)
        return -1;
    memcpy(b.data, blob + 1, len);
    if (col_bin_push(c, b) < 0) {
        free(b.data);
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
    unsigned k = recent_find(a, addr);
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

static rw_code encode_one(rw_encoder *e, const rw_rec *r, rw_err *err)
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
        if (key != e->last_key) {
            rw_filter_add(e->filter, code, line);
            e->last_key = key;
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
    default:
        return rw_err_set(err, RW_EINVAL, "encoder: raw record of unknown kind %u", k);
    }
    if (bad || col_u8_push(&e->kinds, (uint8_t)k) < 0)
        return rw_err_set(err, RW_ENOMEM, "encoder: out of memory for chunk columns");
    if (RW_IS_EVENT(k)) {
        e->events++;
        e->c_events++;
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
    while (i < n && e->kinds.n < max_pending) {
        if (e->kinds.n == 0 && keyframe_capture(e) < 0) {
            rc = rw_err_set(err, RW_ENOMEM, "encoder: out of memory for a keyframe");
            break;
        }
        size_t len = entry_len(&recs[i], n - i);
        if (len == 0 || len > n - i) {
            rc = rw_err_set(err, RW_EINVAL, "encoder: truncated text entry at record %zu", i);
            break;
        }
        rc = encode_one(e, &recs[i], err);
        if (rc != RW_OK)
            break;
        i += len;
    }
    *consumed = i;
    return rc;
}

/* ---- chunk packing: the Chunk message in protobuf wire form, fields in number
 * order with proto3's defaults left out, as protobuf-c packs it (a unit test compares
 * the two byte for byte). */

enum { WT_VARINT = 0, WT_64BIT = 1, WT_LEN = 2, WT_32BIT = 5 }; /* wire types */

static size_t varint_size(uint64_t x)
{
    size_t n = 1;
    while (x >= 0x80) {
        x >>= 7;
        n++;
    }
    return n;
}

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
        len += len_field_size(6, rewind__thread_stack__get_packed_size(e->key[i]));
    if (e->kinds.n)
        len += len_field_size(7, e->kinds.n);
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        if (cols[i].c && cols[i].c->n)
            len += len_field_size(cols[i].num, cols[i].c->n);
        for (size_t j = 0; cols[i].b && j < cols[i].b->n; j++)
            len += len_field_size(cols[i].num, cols[i].b->v[j].len);
    }
    len += varint_field_size(23, !e->c_line_times);

    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return rw_err_set(err, RW_ENOMEM, "encoder: out of memory packing a chunk");
    uint8_t *p = buf;
    p = put_varint_field(p, 1, e->c_first_event);
    p = put_varint_field(p, 2, e->c_events);
    p = put_varint_field(p, 3, e->kinds.n);
    p = put_varint_field(p, 4, e->c_first_tick);
    p = put_varint_field(p, 5, e->c_thread);
    for (size_t i = 0; i < e->nkey; i++) {
        size_t n = rewind__thread_stack__get_packed_size(e->key[i]);
        p = put_varint(p, 6u << 3 | WT_LEN);
        p = put_varint(p, n);
        p += rewind__thread_stack__pack(e->key[i], p);
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
    if ((size_t)(p - buf) != len) {
        free(buf);
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
    *out = buf;
    *out_len = len;
    chunk_reset(e);
    return RW_OK;
}

/* ---- decoder ---------------------------------------------------------------- */

/* Largest thread id a decoder without limits accepts (its stack table is indexed by
 * thread id; a hostile id must not make it allocate gigabytes). */
#define UNCHECKED_THREADS_MAX (1u << 20)

/* Allocator (for protobuf-c's keyframes and chunk_parse's arrays) that refuses to go
 * past a budget, so that a hostile chunk cannot make the decoder allocate without
 * bound. Each block carries its size. */
typedef struct budget {
    size_t used, cap;
} budget;

static void *budget_alloc(void *data, size_t size)
{
    budget *b = data;
    if (size > b->cap - b->used || size > SIZE_MAX - 16)
        return NULL;
    size_t *p = malloc(size + 16);
    if (!p)
        return NULL;
    b->used += size;
    p[0] = size;
    return (char *)p + 16;
}

static void budget_free(void *data, void *ptr)
{
    budget *b = data;
    if (!ptr)
        return;
    size_t *p = (size_t *)((char *)ptr - 16);
    b->used -= p[0];
    free(p);
}

/* ---- chunk columns ---------------------------------------------------------- */

/* Varint columns of a Chunk, by the order the decoder keeps its read pointers. */
enum {
    C_TIME, C_CALL_CODE, C_CALL_LINE, C_LINE_DELTA, C_CFUNC, C_EXC_TYPE, C_ALLOC_SIZE,
    C_ADDR_DELTA, C_ADDR_LOW, C_SWITCH, C_AUDIT_NAME, C_ALLOC_REF, C_FREE_REF, NCOL
};

/* A column as stored: n varints of at most 10 bytes each, back to back, in len
 * bytes (checked by rw_chunk_decode, so col_next needs no bounds). */
typedef struct vcol {
    const uint8_t *p;
    size_t len, n;
} vcol;

/* A bytes value of a repeated field; p is NULL when len is 0 (as protobuf-c has it). */
typedef struct ctext {
    const uint8_t *p;
    size_t len;
} ctext;

/* col_next for a varint of more than one byte. */
static uint64_t col_next_long(const uint8_t **pp)
{
    const uint8_t *p = *pp;
    uint64_t v = p[0] & 0x7f;
    unsigned i = 1;
    for (; p[i] & 0x80; i++)
        v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
    v |= (uint64_t)p[i] << (7 * i); /* i <= 9: checked at decode */
    *pp = p + i + 1;
    return v;
}

/* Next value of a checked column, modulo 2^64; the caller knows one is left. */
static inline uint64_t col_next(const uint8_t **pp)
{
    const uint8_t *p = *pp;
    if (RW_LIKELY(p[0] < 0x80)) {
        *pp = p + 1;
        return p[0];
    }
    return col_next_long(pp);
}

static inline int32_t unzigzag32(uint64_t v)
{
    uint32_t u = (uint32_t)v;
    return (int32_t)((u >> 1) ^ (0u - (u & 1)));
}

static inline int64_t unzigzag64(uint64_t v)
{
    return (int64_t)((v >> 1) ^ (0 - (v & 1)));
}

struct rw_chunk {
    uint8_t *buf;   /* the payload (owned): kinds, columns and texts point into it */
    uint8_t *cat;   /* columns given in several pieces, each made contiguous (owned) */
    uint64_t first_event, first_tick;
    uint32_t thread;
    int untimed_lines;
    const uint8_t *kinds;
    size_t nkinds;
    vcol col[NCOL];
    ctext *exc_message, *audit_args;
    size_t n_exc_message, n_audit_args;
    Rewind__ThreadStack **keyframe; /* unpacked by protobuf-c, under bud */
    size_t n_keyframe;
    rw_chunk_info info;
    budget bud;
    ProtobufCAllocator alloc;
};

/* ---- the Chunk wire format --------------------------------------------------- */

/* rw_chunk_decode reads the Chunk message itself instead of unpacking it with
 * protobuf-c: the varint columns stay packed in the payload and the decoder reads
 * them in order (col_next), so a chunk costs no per-value unpacking or allocation,
 * and the columns a decoder skips (allocations, under SKIP_ALLOCS) are only checked.
 * It accepts what rewind__chunk__unpack accepts and rejects what it rejects: fields
 * in any order, unknown fields skipped, a singular field given twice takes the last
 * value, repeated scalars packed or not and split over several occurrences
 * (concatenated), a wrong wire type for a known field is an error, and the same
 * limits on tags and lengths (5 bytes) and varints (10 bytes; values truncated to
 * the field's width). Keyframes, a few small submessages, still go through
 * protobuf-c. */

#define F_LAST 23 /* highest Chunk field number */

/* 1 + the column of each Chunk field number that holds one (0: none). */
static const uint8_t field_col[F_LAST + 1] = {
    [8] = 1 + C_TIME,        [9] = 1 + C_CALL_CODE,  [10] = 1 + C_CALL_LINE,
    [11] = 1 + C_LINE_DELTA, [12] = 1 + C_CFUNC,     [13] = 1 + C_EXC_TYPE,
    [15] = 1 + C_ALLOC_SIZE, [16] = 1 + C_ADDR_DELTA, [17] = 1 + C_ADDR_LOW,
    [18] = 1 + C_SWITCH,     [19] = 1 + C_AUDIT_NAME, [21] = 1 + C_ALLOC_REF,
    [22] = 1 + C_FREE_REF,
};

/* A field's key (protobuf-c's parse_tag_and_wiretype): bytes used, 0 when bad. */
static size_t wire_tag(const uint8_t *p, size_t rem, uint32_t *tag, unsigned *wt)
{
    if ((p[0] & 0xf8) == 0)
        return 0; /* field number 0 */
    *wt = p[0] & 7;
    uint32_t t = (p[0] & 0x7fu) >> 3;
    if (!(p[0] & 0x80)) {
        *tag = t;
        return 1;
    }
    size_t max = rem < 5 ? rem : 5;
    for (size_t i = 1; i < max; i++) {
        t |= (uint32_t)(p[i] & 0x7f) << (4 + 7 * (i - 1));
        if (!(p[i] & 0x80)) {
            *tag = t;
            return i + 1;
        }
    }
    return 0;
}

/* Length of the varint at p (at most 10 bytes, within rem), 0 when bad. */
static size_t wire_varint_len(const uint8_t *p, size_t rem)
{
    size_t max = rem < 10 ? rem : 10;
    for (size_t i = 0; i < max; i++)
        if (!(p[i] & 0x80))
            return i + 1;
    return 0;
}

/* Value of a well-formed varint of len bytes, modulo 2^64. */
static uint64_t wire_varint(const uint8_t *p, size_t len)
{
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++)
        v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
    return v;
}

/* Length prefix (protobuf-c's scan_length_prefixed_data: at most 5 bytes, the
 * value taken modulo 2^32): bytes used and *len, 0 when bad or past rem. */
static size_t wire_len(const uint8_t *p, size_t rem, size_t *len)
{
    size_t max = rem < 5 ? rem : 5;
    uint32_t v = 0;
    for (size_t i = 0; i < max; i++) {
        v |= (uint32_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            if (v > rem - (i + 1))
                return 0;
            *len = v;
            return i + 1;
        }
    }
    return 0;
}

/* Checks that p[0..len) is a run of varints of at most 10 bytes each, as
 * protobuf-c's packed parsing wants, and counts them. Returns -1 when it is not.
 * Eight bytes at a time: a run of continuation bytes longer than 8 crosses a word
 * boundary, so only the runs carried from word to word need counting. */
static int packed_count(const uint8_t *p, size_t len, size_t *count)
{
    const uint64_t hi = UINT64_C(0x8080808080808080);
    size_t n = 0, i = 0;
    unsigned run = 0; /* continuation bytes since the last terminator */
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        uint64_t t = ~w & hi; /* bit 8k + 7 set: byte k ends a varint */
        if (!t) {
            run += 8;
            if (run >= 10)
                return -1;
            continue;
        }
        if (run + (unsigned)__builtin_ctzll(t) / 8 >= 10)
            return -1;
        run = 7 - (63 - (unsigned)__builtin_clzll(t)) / 8;
        n += (size_t)(((t >> 7) * UINT64_C(0x0101010101010101)) >> 56); /* bytes in t */
    }
    for (; i < len; i++) {
        if (p[i] & 0x80) {
            if (++run >= 10)
                return -1;
        } else {
            run = 0;
            n++;
        }
    }
    if (run)
        return -1; /* the last varint does not end */
    *count = n;
    return 0;
}

/* State of a walk over the fields (chunk_walk). */
typedef struct walk {
    int pass;
    unsigned pieces[NCOL]; /* non-empty occurrences of each column's field */
    uint8_t *wr[NCOL];     /* pass 2: where the next piece of a split column goes */
    size_t nexc, naudit, nkey;
} walk;

/* Walks the fields of the Chunk message in c->buf[0..len). Pass 1 checks every
 * field, takes the scalars and sizes what the repeated fields hold (column pieces
 * in c->col, texts and keyframes in c->n_*). Pass 2, needed when pass 1 found texts,
 * keyframes or a column given in several pieces, fills the arrays sized by pass 1.
 * Returns 0, or -1 when the message does not decode. */
static int chunk_walk(rw_chunk *c, size_t len, walk *w)
{
    const uint8_t *p = c->buf, *end = c->buf + len;
    while (p < end) {
        uint32_t tag;
        unsigned wt;
        size_t used = wire_tag(p, (size_t)(end - p), &tag, &wt);
        if (!used)
            return -1;
        p += used;
        size_t rem = (size_t)(end - p);
        const uint8_t *field = p; /* the field's bytes after its key */
        const uint8_t *val = p;   /* its value (after a length prefix) */
        size_t vlen = 0;
        switch (wt) {
        case WT_VARINT:
            vlen = wire_varint_len(p, rem);
            if (!vlen)
                return -1;
            break;
        case WT_64BIT:
        case WT_32BIT:
            vlen = wt == WT_64BIT ? 8 : 4;
            if (rem < vlen)
                return -1;
            break;
        case WT_LEN: {
            size_t hdr = wire_len(p, rem, &vlen);
            if (!hdr)
                return -1;
            val = p + hdr;
            break;
        }
        default:
            return -1; /* groups and reserved wire types */
        }
        p = val + vlen;
        if (tag > F_LAST)
            continue; /* unknown field */
        int k = field_col[tag] - 1;
        if (k >= 0) {
            vcol *col = &c->col[k];
            if (w->pass == 2) {
                if (w->pieces[k] > 1) {
                    memcpy(w->wr[k], val, vlen);
                    w->wr[k] += vlen;
                }
                continue;
            }
            if (wt == WT_LEN) {
                size_t n;
                if (packed_count(val, vlen, &n) < 0)
                    return -1;
                col->n += n;
            } else if (wt == WT_VARINT) {
                col->n++; /* one value, not packed */
            } else {
                return -1;
            }
            if (vlen) {
                if (!w->pieces[k]++)
                    col->p = val;
                col->len += vlen;
            }
            continue;
        }
        switch (tag) {
        case 1: case 2: case 3: case 4: case 5: {
            if (wt != WT_VARINT)
                return -1;
            uint64_t v = wire_varint(val, vlen);
            if (tag == 1)
                c->first_event = v;
            else if (tag == 2)
                c->info.event_count = v;
            else if (tag == 3)
                c->info.record_count = v;
            else if (tag == 4)
                c->first_tick = v;
            else
                c->thread = (uint32_t)v;
            break;
        }
        case 6: /* keyframe */
            if (wt != WT_LEN)
                return -1;
            if (w->pass == 1) {
                c->n_keyframe++;
            } else {
                Rewind__ThreadStack *ts = rewind__thread_stack__unpack(&c->alloc, vlen, val);
                if (!ts)
                    return -1;
                c->keyframe[w->nkey++] = ts;
            }
            break;
        case 7: /* kinds */
            if (wt != WT_LEN)
                return -1;
            c->kinds = vlen ? val : NULL;
            c->nkinds = vlen;
            break;
        case 14: case 20: { /* exc_message, audit_args */
            if (wt != WT_LEN)
                return -1;
            ctext t = {vlen ? val : NULL, vlen};
            if (tag == 14 && w->pass == 1)
                c->n_exc_message++;
            else if (tag == 14)
                c->exc_message[w->nexc++] = t;
            else if (w->pass == 1)
                c->n_audit_args++;
            else
                c->audit_args[w->naudit++] = t;
            break;
        }
        case 23: { /* untimed_lines: protobuf-c reads a bool from the field's bytes
                    * whatever their wire type, true when any has a low bit set */
            int on = 0;
            for (const uint8_t *b = field; b < p; b++)
                on |= (*b & 0x7f) != 0;
            c->untimed_lines = on;
            break;
        }
        default:
            break; /* unknown field */
        }
    }
    return 0;
}

/* Parses the payload c->buf[0..len) into c (see chunk_walk). */
static int chunk_parse(rw_chunk *c, size_t len)
{
    walk w;
    memset(&w, 0, sizeof w);
    w.pass = 1;
    if (chunk_walk(c, len, &w) < 0)
        return -1;
    size_t cat = 0;
    for (int k = 0; k < NCOL; k++)
        if (w.pieces[k] > 1)
            cat += c->col[k].len;
    if (!cat && !c->n_keyframe && !c->n_exc_message && !c->n_audit_args)
        return 0;
    /* Pass 2. Each array is at most a fixed multiple of the payload (an entry takes
     * at least 2 bytes of it), and all count against the budget. */
    if (cat && !(c->cat = budget_alloc(&c->bud, cat)))
        return -1;
    if (c->n_keyframe) {
        if (!(c->keyframe = budget_alloc(&c->bud, c->n_keyframe * sizeof *c->keyframe)))
            return -1;
        memset(c->keyframe, 0, c->n_keyframe * sizeof *c->keyframe);
    }
    if (c->n_exc_message &&
        !(c->exc_message = budget_alloc(&c->bud, c->n_exc_message * sizeof(ctext))))
        return -1;
    if (c->n_audit_args &&
        !(c->audit_args = budget_alloc(&c->bud, c->n_audit_args * sizeof(ctext))))
        return -1;
    uint8_t *at = c->cat;
    for (int k = 0; k < NCOL; k++) {
        if (w.pieces[k] > 1) {
            w.wr[k] = at;
            c->col[k].p = at;
            at += c->col[k].len;
        }
    }
    w.pass = 2;
    return chunk_walk(c, len, &w);
}

void rw_chunk_free(rw_chunk *c)
{
    if (!c)
        return;
    for (size_t i = 0; c->keyframe && i < c->n_keyframe; i++)
        if (c->keyframe[i])
            rewind__thread_stack__free_unpacked(c->keyframe[i], &c->alloc);
    budget_free(&c->bud, c->keyframe);
    budget_free(&c->bud, c->exc_message);
    budget_free(&c->bud, c->audit_args);
    budget_free(&c->bud, c->cat);
    free(c->buf);
    free(c);
}

/* Counts the records of each kind in per[] (RW_KIND_MAX entries). Four tables, so
 * that runs of one kind do not wait on one counter. */
static void count_kinds(const uint8_t *k, size_t n, size_t *per)
{
    size_t t[4][256];
    memset(t, 0, sizeof t);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        t[0][k[i]]++;
        t[1][k[i + 1]]++;
        t[2][k[i + 2]]++;
        t[3][k[i + 3]]++;
    }
    for (; i < n; i++)
        t[0][k[i]]++;
    for (unsigned v = 0; v < 256; v++) {
        size_t sum = t[0][v] + t[1][v] + t[2][v] + t[3][v];
        if (v < RW_KIND_MAX)
            per[v] = sum;
        else if (sum)
            per[RW_K_BLOB] += sum; /* invalid too */
    }
}

/* Parses payload buf[0..len), which the new chunk owns from now on (freed on
 * error too), and checks its columns against its kinds. */
static rw_code chunk_decode(uint8_t *buf, size_t len, rw_chunk **out, rw_err *err)
{
    rw_chunk *c = calloc(1, sizeof *c);
    if (!c) {
        free(buf);
        return rw_err_set(err, RW_ENOMEM, "out of memory decoding a chunk");
    }
    c->buf = buf;
    /* What protobuf-c was allowed: packed varints expand at most 8x (one byte -> one
     * uint64); strings copy. Keyframes and the arrays of chunk_parse count. */
    c->bud.cap = len > (SIZE_MAX - (64u << 20)) / 16 ? SIZE_MAX : len * 16 + (64u << 20);
    c->alloc.alloc = budget_alloc;
    c->alloc.free = budget_free;
    c->alloc.allocator_data = &c->bud;
    if (chunk_parse(c, len) < 0) {
        rw_chunk_free(c);
        return rw_err_set(err, RW_ECORRUPT, "chunk message does not decode");
    }
    /* Count what each column must hold. */
    size_t per[RW_KIND_MAX] = {0};
    count_kinds(c->kinds, c->nkinds, per);
    uint64_t events = 0, invalid = 0;
    for (unsigned k = 0; k < RW_KIND_MAX; k++) {
        if (!kind_valid(k))
            invalid += per[k];
        else if (RW_IS_EVENT(k))
            events += per[k];
    }
    if (invalid) {
        size_t i = 0;
        while (kind_valid(c->kinds[i]))
            i++;
        unsigned k = c->kinds[i];
        rw_chunk_free(c);
        return rw_err_set(err, RW_ECORRUPT, "chunk record %zu has unknown kind %u", i, k);
    }
    const char *bad = NULL;
    const vcol *col = c->col;
    size_t nalloc = per[RW_K_ALLOC_RAW] + per[RW_K_ALLOC_MEM] + per[RW_K_ALLOC_OBJ];
    size_t nfree = per[RW_K_FREE_RAW] + per[RW_K_FREE_MEM] + per[RW_K_FREE_OBJ];
    if (c->info.record_count != c->nkinds)
        bad = "record_count";
    else if (c->info.event_count != events)
        bad = "event_count";
    else if (col[C_TIME].n != events - (c->untimed_lines ? per[RW_K_LINE] : 0))
        bad = "time_delta";
    else if (col[C_CALL_CODE].n != per[RW_K_CALL] || col[C_CALL_LINE].n != per[RW_K_CALL])
        bad = "call_code/call_line";
    else if (col[C_LINE_DELTA].n != per[RW_K_LINE])
        bad = "line_delta";
    else if (col[C_CFUNC].n != per[RW_K_C_CALL])
        bad = "cfunc";
    else if (col[C_EXC_TYPE].n != per[RW_K_EXCEPTION] + per[RW_K_UNCAUGHT] ||
             c->n_exc_message != col[C_EXC_TYPE].n)
        bad = "exc_type/exc_message";
    else if (col[C_ALLOC_SIZE].n != nalloc)
        bad = "alloc_size";
    else if (col[C_ALLOC_REF].n != nalloc)
        bad = "alloc_ref";
    else if (col[C_FREE_REF].n != nfree)
        bad = "free_ref";
    else if (col[C_ADDR_DELTA].n > nalloc + nfree)
        bad = "addr_delta";
    else if (col[C_ADDR_LOW].n > col[C_ADDR_DELTA].n)
        bad = "addr_low";
    else if (col[C_SWITCH].n != per[RW_K_THREAD])
        bad = "switch_thread";
    else if (col[C_AUDIT_NAME].n != per[RW_K_AUDIT] || c->n_audit_args != per[RW_K_AUDIT])
        bad = "audit_name/audit_args";
    else if (c->first_event > UINT64_MAX - events)
        bad = "first_event";
    if (bad) {
        rw_chunk_free(c);
        return rw_err_set(err, RW_ECORRUPT, "chunk column '%s' does not match its kinds", bad);
    }
    c->info.first_event = c->first_event;
    c->info.first_tick = c->first_tick;
    c->info.last_tick = c->first_tick; /* refined by a decoder pass; see reader */
    *out = c;
    return RW_OK;
}

rw_code rw_chunk_decode(const uint8_t *payload, size_t len, rw_chunk **out, rw_err *err)
{
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return rw_err_set(err, RW_ENOMEM, "out of memory decoding a chunk");
    if (len)
        memcpy(buf, payload, len);
    return chunk_decode(buf, len, out, err);
}

rw_code rw_chunk_decode_take(uint8_t *payload, size_t len, rw_chunk **out, rw_err *err)
{
    return chunk_decode(payload, len, out, err);
}

const rw_chunk_info *rw_chunk_get_info(const rw_chunk *c) { return &c->info; }

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
};

static rw_code decode_err(rw_decoder *d, rw_err *err, const char *what)
{
    d->failed = 1;
    return rw_err_set(err, RW_ECORRUPT, "chunk at event %llu, record %zu: %s",
                      (unsigned long long)d->c->first_event, d->i, what);
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
    tstate *t = &d->stk.t[d->thread]; /* exists: ensured at start and on THREAD */
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
    case RW_K_AUDIT: {
        uint32_t name = (uint32_t)col_next(&d->rd[C_AUDIT_NAME]);
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
