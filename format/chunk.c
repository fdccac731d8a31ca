/* Chunk parser (codec.h: rw_chunk_decode): a rewind.Chunk payload in, its columns
 * checked and laid out for the decoder (codec_chunk.h) out.
 *
 * Hostile input is the rule here: every length is bounded by the payload, every
 * allocation counts against a budget linear in the payload, every column's count is
 * checked against the kinds column, and anything that does not add up is
 * RW_ECORRUPT naming the column.
 */
#include "codec.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "codec_chunk.h"
#include "codec_varint.h"
#include "rewind.pb-c.h"

/* Kinds that may appear in a file's kinds column. */
static int kind_valid(unsigned k)
{
    return k <= RW_K_C_EXCEPTION || (k >= RW_K_ALLOC_RAW && k <= RW_K_DROP);
}

/* ---- allocation budget ---------------------------------------------------------- */

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

#define F_LAST 25 /* highest Chunk field number */

/* 1 + the column of each Chunk field number that holds one (0: none). */
static const uint8_t field_col[F_LAST + 1] = {
    [8] = 1 + C_TIME,        [9] = 1 + C_CALL_CODE,  [10] = 1 + C_CALL_LINE,
    [11] = 1 + C_LINE_DELTA, [12] = 1 + C_CFUNC,     [13] = 1 + C_EXC_TYPE,
    [15] = 1 + C_ALLOC_SIZE, [16] = 1 + C_ADDR_DELTA, [17] = 1 + C_ADDR_LOW,
    [18] = 1 + C_SWITCH,     [19] = 1 + C_AUDIT_NAME, [21] = 1 + C_ALLOC_REF,
    [22] = 1 + C_FREE_REF,   [24] = 1 + C_GEN,       [25] = 1 + C_DROP,
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
    if (chunk_walk(c, len, &w) < 0)
        return -1;
    /* Pass 2 walked the same bytes as pass 1: it filled exactly what pass 1 sized. */
    assert(w.nkey == c->n_keyframe && w.nexc == c->n_exc_message &&
           w.naudit == c->n_audit_args);
    return 0;
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

rw_code rw_chunk_thread_runs(const rw_chunk *c, uint32_t max_thread, rw_runs_state *st,
                             rw_run_fn fn, void *ctx, rw_err *err)
{
    uint64_t pos = c->first_event;
    uint32_t th = c->thread;
    const uint8_t *sw = c->col[C_SWITCH].p, *dr = c->col[C_DROP].p;
    if (th > max_thread)
        return rw_err_set(err, RW_ECORRUPT, "chunk's start thread id %u out of range", th);
    for (size_t i = 0; i < c->nkinds; i++) {
        unsigned k = c->kinds[i];
        if (k == RW_K_THREAD) {
            uint64_t v = col_next(&sw); /* one per THREAD record (rw_chunk_decode) */
            if (v > max_thread)
                return rw_err_set(err, RW_ECORRUPT, "thread id %llu out of range",
                                  (unsigned long long)v);
            th = (uint32_t)v;
        } else if (RW_IS_EVENT(k) || k == RW_K_AUDIT) {
            if (th != st->last) {
                if (fn(ctx, pos, st->audits, th, st->tail, st->drop))
                    return rw_err_set(err, RW_ENOMEM, "out of memory");
                st->last = th;
                st->tail = 0;
            }
            st->drop = 0; /* a drop's spot counts only where the thread's run ends */
            if (k == RW_K_AUDIT) {
                st->audits++;
                st->tail += st->tail < UINT32_MAX;
            } else {
                st->audits = 0;
                st->tail = 0;
                pos++;
            }
        } else if (k == RW_K_DROP) {
            uint64_t v = col_next(&dr); /* one per DROP record (rw_chunk_decode) */
            if (th == st->last)
                st->drop = v;
        } else if (th == st->last && st->tail < UINT32_MAX && k != RW_K_ALLOC_RAW &&
                   k != RW_K_FREE_RAW) {
            st->tail++; /* RAW records: see rw_run_fn */
        }
    }
    return RW_OK;
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
    else if (col[C_GEN].n != per[RW_K_GEN])
        bad = "gen_frame";
    else if (col[C_DROP].n != per[RW_K_DROP])
        bad = "drop_spot";
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
