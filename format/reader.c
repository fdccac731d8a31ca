/* Trace reader (reader.h): index or recovery scan at open, chunk loading, cursors.
 *
 * Opening reads the header, then tries the footer (trailer -> INDEX frame -> index
 * entries, each checked against the file size, frame order and event numbering) and
 * loads METADATA, DEFINITIONS and END through it. When any of that is missing or
 * damaged the reader starts again from the header and scans frame by frame until the
 * first bad one, keeping everything before it (rw_recovery says what and why).
 *
 * After open a reader is immutable: rw_reader_load_chunk reads with pread (or from
 * the caller's memory image) and allocates per call, so any number of threads may
 * load chunks at once. Messages this file unpacks go through a counting allocator
 * that caps each unpack at a multiple of its payload size, so a hostile payload cannot
 * make protobuf-c allocate without bound.
 *
 * INPUTS frames (inputs.h) are only located at open (from the index, or by the scan);
 * rw_inputs_iter reads them one at a time and unpacks their records one at a time.
 */
#include "reader.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "container.h"
#include "inputs.h"
#include "records.h"

/* Per-unpack allocation budget: protobuf-c may expand a payload (a 2-byte empty
 * submessage becomes a struct of ~60 bytes plus a pointer), so the cap is generous,
 * but linear in the payload. */
#define UNPACK_FACTOR 32
#define UNPACK_SLACK (1u << 20)

/* Largest time_shift accepted from Metadata.options (the decoder's own bound). */
#define TIME_SHIFT_MAX 32

typedef struct inputs_ent {
    uint64_t offset;     /* of the frame header */
    uint32_t stored_len;
    uint32_t frame;      /* frame number in file order */
} inputs_ent;

typedef struct chunk_ent {
    rw_chunk_info info;
    uint64_t offset;     /* of the frame header */
    uint32_t stored_len;
    uint32_t frame;      /* frame number in file order (0 = METADATA) */
    rw_id_limits lim;    /* definitions that precede the chunk (code_first_line unset) */
} chunk_ent;

/* Counting allocator handed to protobuf-c. Each block carries its size in a
 * 16-byte prefix (keeps max_align_t alignment) so that frees are counted too. */
typedef struct cap_alloc {
    ProtobufCAllocator pa;
    size_t used;
    size_t cap;
    int hit; /* the last unpack ran into the cap */
} cap_alloc;

struct rw_reader {
    char *name;
    uint8_t scan_filter[RW_FILTER_MAX]; /* the recovery scan's, for one chunk */
    int fd;              /* -1 when reading from mem */
    const uint8_t *mem;
    uint64_t size;
    uint64_t file_id;
    unsigned time_shift;
    unsigned fp_group;   /* Index.fingerprint_group when valid, else 0 */

    Rewind__Metadata *meta;
    Rewind__RunEnd *end;
    Rewind__CrashReport **crashes; /* CRASH frames that decoded, file order, owned */
    uint64_t *crash_pos;           /* events before each */
    size_t ncrashes, capcrashes, capcrashpos;
    size_t bad_crashes;            /* CRASH frames that did not decode (skipped) */
    Rewind__Definitions **defmsgs; /* every DEFINITIONS message, owned */
    size_t ndefmsgs, capdefmsgs;
    rw_defs defs;
    uint32_t capfiles, capcodes, capcfuncs, capthreads, capnames;
    uint32_t *first_lines; /* CodeDef.first_line by code id, for the decoder */
    size_t capfirst;
    /* Placeholders for id 0 of each table, so defs->x[0] is never NULL. */
    Rewind__FileDef ph_file;
    Rewind__CodeDef ph_code;
    Rewind__CFuncDef ph_cfunc;
    Rewind__ThreadDef ph_thread;
    Rewind__NameDef ph_name;

    chunk_ent *chunks;
    size_t nchunks, capchunks;
    inputs_ent *inputs;  /* INPUTS frames, file order */
    size_t ninputs, capinputs;
    uint64_t nevents, nrecords;
    rw_recovery rec;
    uint64_t scan_off;   /* where the recovery scan stopped (rw_reader_refresh) */
    int scan_light;      /* rw_reader_refresh's scans: chunk headers only */
    size_t scan_frame;   /* the number of the frame there */
    cap_alloc alloc;
};

/* ---- allocation ----------------------------------------------------------------- */

static void *cap_alloc_fn(void *data, size_t size)
{
    cap_alloc *a = data;
    if (size > a->cap || a->used > a->cap - size || size > SIZE_MAX - 16) {
        a->hit = 1;
        return NULL;
    }
    unsigned char *p = malloc(size + 16);
    if (!p)
        return NULL;
    memcpy(p, &size, sizeof size);
    a->used += size;
    return p + 16;
}

static void cap_free_fn(void *data, void *ptr)
{
    cap_alloc *a = data;
    if (!ptr)
        return;
    unsigned char *p = (unsigned char *)ptr - 16;
    size_t size;
    memcpy(&size, p, sizeof size);
    a->used -= size;
    free(p);
}

/* Unpacks one message of descriptor d with a budget linear in len. NULL when the
 * payload is malformed or over budget (r->alloc.hit tells which). */
static ProtobufCMessage *unpack(rw_reader *r, const ProtobufCMessageDescriptor *d,
                                const uint8_t *buf, size_t len)
{
    r->alloc.cap = r->alloc.used + (size_t)UNPACK_FACTOR * len + UNPACK_SLACK;
    r->alloc.hit = 0;
    return protobuf_c_message_unpack(d, &r->alloc.pa, len, buf);
}

static void free_msg(rw_reader *r, void *msg)
{
    if (msg)
        protobuf_c_message_free_unpacked(msg, &r->alloc.pa);
}

/* Grows *arr (elements of size elem) to hold at least need elements. */
static rw_code grow(void *arr, size_t elem, size_t *cap, size_t need, rw_err *err)
{
    if (need <= *cap)
        return RW_OK;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / elem)
            return rw_err_set(err, RW_ENOMEM, "table too large");
        ncap *= 2;
    }
    void *p = realloc(*(void **)arr, ncap * elem);
    if (!p)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    *(void **)arr = p;
    *cap = ncap;
    return RW_OK;
}

/* Same for the uint32_t-sized definition tables. */
static rw_code grow32(void *arr, size_t elem, uint32_t *cap, size_t need, rw_err *err)
{
    if (need > UINT32_MAX)
        return rw_err_set(err, RW_ECORRUPT, "too many definitions");
    size_t c = *cap;
    RW_TRY(grow(arr, elem, &c, need, err));
    *cap = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
    return RW_OK;
}

/* ---- raw reads ------------------------------------------------------------------ */

/* Reads len bytes at off into buf. The range must lie within the file. */
static rw_code read_at(const rw_reader *r, uint64_t off, void *buf, size_t len, rw_err *err)
{
    if (off > r->size || len > r->size - off)
        return rw_err_set(err, RW_ECORRUPT, "%s: read of %zu bytes at offset %llu is past the end",
                          r->name, len, (unsigned long long)off);
    if (r->fd < 0) {
        memcpy(buf, r->mem + off, len);
        return RW_OK;
    }
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(r->fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return rw_err_set(err, RW_EIO, "%s: read at offset %llu: %s", r->name,
                              (unsigned long long)off, strerror(errno));
        }
        if (n == 0)
            return rw_err_set(err, RW_ECORRUPT, "%s: file shrank while reading (offset %llu)",
                              r->name, (unsigned long long)off);
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return RW_OK;
}

/* Frame number used for the INDEX frame before its place in the file is known. */
#define INDEX_FRAME SIZE_MAX

/* Re-labels a container error with the file, frame number and offset. */
static rw_code frame_err(const rw_reader *r, size_t frame, uint64_t off, const rw_err *e,
                         rw_err *err)
{
    if (frame == INDEX_FRAME)
        return rw_err_set(err, e->code, "%s: index frame at offset %llu: %s", r->name,
                          (unsigned long long)off, e->msg);
    return rw_err_set(err, e->code, "%s: frame %zu at offset %llu: %s", r->name, frame,
                      (unsigned long long)off, e->msg);
}

/* Reads and checks the frame at off: header, bounds against the file, payload CRC,
 * decompression. On success fills *h and *payload (new buffer of h->raw_len bytes,
 * caller frees). Thread-safe. Errors are prefixed "NAME: frame N at offset O: ". */
static rw_code read_frame(const rw_reader *r, uint64_t off, size_t frame, rw_frame_header *h,
                          uint8_t **payload, rw_err *err)
{
    rw_err e = {0};
    uint8_t hb[RW_FRAME_HEADER_LEN];
    if (off > r->size || r->size - off < RW_FRAME_HEADER_LEN) {
        rw_err_set(&e, RW_ECORRUPT, "truncated frame header (%llu bytes left)",
                   (unsigned long long)(off > r->size ? 0 : r->size - off));
        return frame_err(r, frame, off, &e, err);
    }
    RW_TRY(read_at(r, off, hb, sizeof hb, err));
    if (rw_frame_header_decode(hb, h, &e) != RW_OK)
        return frame_err(r, frame, off, &e, err);
    uint64_t body = off + RW_FRAME_HEADER_LEN;
    if (h->stored_len > r->size - body) {
        rw_err_set(&e, RW_ECORRUPT, "truncated %s frame (payload of %u bytes, %llu left)",
                   rw_frame_type_name(h->type), h->stored_len,
                   (unsigned long long)(r->size - body));
        return frame_err(r, frame, off, &e, err);
    }
    const uint8_t *stored;
    uint8_t *owned = NULL;
    if (r->fd < 0) {
        stored = r->mem + body;
    } else {
        owned = malloc(h->stored_len ? h->stored_len : 1);
        if (!owned)
            return rw_err_set(err, RW_ENOMEM, "%s: frame %zu: out of memory for %u bytes",
                              r->name, frame, h->stored_len);
        rw_code rc = read_at(r, body, owned, h->stored_len, err);
        if (rc != RW_OK) {
            free(owned);
            return rc;
        }
        stored = owned;
    }
    rw_code rc = rw_frame_payload_decode(h, stored, payload, &e);
    free(owned);
    if (rc != RW_OK)
        return frame_err(r, frame, off, &e, err);
    return RW_OK;
}

/* The first fields of a Chunk message (first_event 1, event_count 2, record_count 3,
 * first_tick 4: the writer puts them first) against the index entry, from the first
 * bytes of the payload only: a chunk whose CRC is right can still say other counts
 * than the index (a file made up by hand). */
static rw_code check_chunk_head(const chunk_ent *c, const rw_frame_header *h,
                                const uint8_t *stored, rw_err *e)
{
    uint8_t head[64];
    size_t n = 0;
    if (h->codec == RW_CODEC_RAW) {
        n = h->stored_len < sizeof head ? h->stored_len : sizeof head;
        memcpy(head, stored, n);
    } else {
        ZSTD_DStream *z = ZSTD_createDStream();
        if (!z)
            return RW_OK; /* out of memory: the CRC check stands alone */
        ZSTD_inBuffer in = {stored, h->stored_len, 0};
        ZSTD_outBuffer out = {head, sizeof head, 0};
        size_t zr = ZSTD_initDStream(z);
        while (!ZSTD_isError(zr) && out.pos < out.size && in.pos < in.size)
            zr = ZSTD_decompressStream(z, &out, &in);
        ZSTD_freeDStream(z);
        if (ZSTD_isError(zr))
            return rw_err_set(e, RW_ECORRUPT, "zstd: %s", ZSTD_getErrorName(zr));
        n = out.pos;
    }
    uint64_t got[5] = {0};
    int seen[5] = {0};
    size_t at = 0;
    while (at < n) {
        uint64_t key = 0, v = 0;
        int shift = 0;
        while (at < n && shift < 64) {
            key |= (uint64_t)(head[at] & 0x7f) << shift;
            shift += 7;
            if (!(head[at++] & 0x80))
                break;
        }
        if ((key & 7) != 0 || (key >> 3) < 1 || (key >> 3) > 4)
            break; /* past the counts (or not a varint field): done */
        shift = 0;
        int complete = 0;
        while (at < n && shift < 64) {
            v |= (uint64_t)(head[at] & 0x7f) << shift;
            shift += 7;
            if (!(head[at++] & 0x80)) {
                complete = 1;
                break;
            }
        }
        if (!complete)
            break;
        got[key >> 3] = v;
        seen[key >> 3] = 1;
    }
    const uint64_t want[5] = {0, c->info.first_event, c->info.event_count,
                              c->info.record_count, c->info.first_tick};
    for (int f = 1; f <= 4; f++)
        if (got[f] != want[f] && (seen[f] || want[f]))
            return rw_err_set(e, RW_ECORRUPT,
                              "chunk holds events %llu+%llu (%llu records), the index says "
                              "%llu+%llu (%llu)",
                              (unsigned long long)got[1], (unsigned long long)got[2],
                              (unsigned long long)got[3], (unsigned long long)want[1],
                              (unsigned long long)want[2], (unsigned long long)want[3]);
    return RW_OK;
}

rw_code rw_reader_check_chunk(const rw_reader *r, size_t i, rw_err *err)
{
    assert(i < r->nchunks);
    const chunk_ent *c = &r->chunks[i];
    rw_err e = {0};
    uint8_t hb[RW_FRAME_HEADER_LEN];
    rw_frame_header h;
    if (c->offset > r->size || r->size - c->offset < RW_FRAME_HEADER_LEN) {
        rw_err_set(&e, RW_ECORRUPT, "truncated frame header");
        return frame_err(r, c->frame, c->offset, &e, err);
    }
    RW_TRY(read_at(r, c->offset, hb, sizeof hb, err));
    if (rw_frame_header_decode(hb, &h, &e) != RW_OK)
        return frame_err(r, c->frame, c->offset, &e, err);
    uint64_t body = c->offset + RW_FRAME_HEADER_LEN;
    if (h.type != RW_FRAME_CHUNK || h.stored_len != c->stored_len ||
        h.stored_len > r->size - body) {
        rw_err_set(&e, RW_ECORRUPT, h.type != RW_FRAME_CHUNK ? "not a chunk frame"
                   : h.stored_len != c->stored_len ? "the chunk frame's length is not the index's"
                                                   : "truncated chunk frame");
        return frame_err(r, c->frame, c->offset, &e, err);
    }
    const uint8_t *stored = r->fd < 0 ? r->mem + body : NULL;
    uint8_t *owned = NULL;
    if (!stored) {
        owned = malloc(h.stored_len ? h.stored_len : 1);
        if (!owned)
            return rw_err_set(err, RW_ENOMEM, "%s: out of memory for %u bytes", r->name,
                              h.stored_len);
        rw_code rc = read_at(r, body, owned, h.stored_len, err);
        if (rc != RW_OK) {
            free(owned);
            return rc;
        }
        stored = owned;
    }
    rw_code rc = rw_frame_payload_check(&h, stored, &e);
    if (rc == RW_OK)
        rc = check_chunk_head(c, &h, stored, &e);
    free(owned);
    if (rc != RW_OK) {
        char what[sizeof e.msg + 96];
        snprintf(what, sizeof what, "chunk %zu (events %llu to %llu): %.180s", i,
                 (unsigned long long)c->info.first_event,
                 (unsigned long long)(c->info.first_event + c->info.event_count), e.msg);
        rw_err_set(&e, rc, "%s", what);
        return frame_err(r, c->frame, c->offset, &e, err);
    }
    return RW_OK;
}

/* ---- loading messages ----------------------------------------------------------- */

static rw_code bad_msg(rw_reader *r, size_t frame, uint64_t off, const char *what, rw_err *err)
{
    rw_err e;
    rw_err_set(&e, RW_ECORRUPT, "cannot decode the %s message (%s)", what,
               r->alloc.hit ? "it would need too much memory" : "malformed protobuf");
    return frame_err(r, frame, off, &e, err);
}

static rw_code load_metadata(rw_reader *r, const uint8_t *p, size_t len, size_t frame,
                             uint64_t off, rw_err *err)
{
    rw_err e;
    if (r->meta) {
        rw_err_set(&e, RW_ECORRUPT, "second metadata frame");
        return frame_err(r, frame, off, &e, err);
    }
    Rewind__Metadata *m =
        (Rewind__Metadata *)unpack(r, &rewind__metadata__descriptor, p, len);
    if (!m)
        return bad_msg(r, frame, off, "metadata", err);
    unsigned shift = m->options ? m->options->time_shift : 0;
    if (shift > TIME_SHIFT_MAX) {
        free_msg(r, m);
        rw_err_set(&e, RW_ECORRUPT, "time_shift %u out of range", shift);
        return frame_err(r, frame, off, &e, err);
    }
    r->meta = m;
    r->time_shift = shift;
    return RW_OK;
}

/* Checks that each definition's id is the next one of its table and appends it. */
#define ADD_DEFS(tab, ntab, captab, n_in, in, what)                                   \
    do {                                                                              \
        RW_TRY(grow32(&r->defs.tab, sizeof *r->defs.tab, &r->captab,                  \
                      (size_t)r->defs.ntab + (n_in), err));                           \
        for (size_t i_ = 0; i_ < (n_in); i_++) {                                      \
            if ((in)[i_]->id != r->defs.ntab) {                                       \
                rw_err_set(&e, RW_ECORRUPT, "%s id %u where %u was expected", what,   \
                           (unsigned)(in)[i_]->id, (unsigned)r->defs.ntab);           \
                return frame_err(r, frame, off, &e, err);                             \
            }                                                                         \
            r->defs.tab[r->defs.ntab++] = (in)[i_];                                   \
        }                                                                             \
    } while (0)

static rw_code add_defs_all(rw_reader *r, Rewind__Definitions *d, size_t frame, uint64_t off,
                            rw_err *err)
{
    rw_err e;
    ADD_DEFS(files, nfiles, capfiles, d->n_files, d->files, "file");
    for (size_t i = 0; i < d->n_codes; i++) {
        if (d->codes[i]->file >= r->defs.nfiles) {
            rw_err_set(&e, RW_ECORRUPT, "code %u names undefined file %u",
                       (unsigned)d->codes[i]->id, (unsigned)d->codes[i]->file);
            return frame_err(r, frame, off, &e, err);
        }
    }
    ADD_DEFS(codes, ncodes, capcodes, d->n_codes, d->codes, "code");
    ADD_DEFS(cfuncs, ncfuncs, capcfuncs, d->n_cfuncs, d->cfuncs, "cfunc");
    ADD_DEFS(threads, nthreads, capthreads, d->n_threads, d->threads, "thread");
    ADD_DEFS(names, nnames, capnames, d->n_names, d->names, "name");
    RW_TRY(grow(&r->first_lines, sizeof *r->first_lines, &r->capfirst, r->defs.ncodes, err));
    for (size_t i = 0; i < d->n_codes; i++)
        r->first_lines[d->codes[i]->id] = d->codes[i]->first_line;
    return RW_OK;
}

/* Adds one DEFINITIONS message to the tables, all of it or (on error) none. */
static rw_code add_defs(rw_reader *r, Rewind__Definitions *d, size_t frame, uint64_t off,
                        rw_err *err)
{
    rw_defs saved = r->defs;
    rw_code rc = add_defs_all(r, d, frame, off, err);
    if (rc != RW_OK) {
        r->defs.nfiles = saved.nfiles;
        r->defs.ncodes = saved.ncodes;
        r->defs.ncfuncs = saved.ncfuncs;
        r->defs.nthreads = saved.nthreads;
        r->defs.nnames = saved.nnames;
    }
    return rc;
}

static rw_code load_defs(rw_reader *r, const uint8_t *p, size_t len, size_t frame, uint64_t off,
                         rw_err *err)
{
    RW_TRY(grow(&r->defmsgs, sizeof *r->defmsgs, &r->capdefmsgs, r->ndefmsgs + 1, err));
    Rewind__Definitions *d =
        (Rewind__Definitions *)unpack(r, &rewind__definitions__descriptor, p, len);
    if (!d)
        return bad_msg(r, frame, off, "definitions", err);
    /* Owned from here on, even when its contents are rejected below. */
    r->defmsgs[r->ndefmsgs++] = d;
    return add_defs(r, d, frame, off, err);
}

static rw_code load_end(rw_reader *r, const uint8_t *p, size_t len, size_t frame, uint64_t off,
                        rw_err *err)
{
    if (r->end) {
        rw_err e;
        rw_err_set(&e, RW_ECORRUPT, "second end frame");
        return frame_err(r, frame, off, &e, err);
    }
    Rewind__RunEnd *m = (Rewind__RunEnd *)unpack(r, &rewind__run_end__descriptor, p, len);
    if (!m)
        return bad_msg(r, frame, off, "end", err);
    r->end = m;
    return RW_OK;
}

/* A CRASH frame: kept when it decodes; a damaged one is skipped and counted (it
 * says nothing about the rest of the file). pos = events before it. */
static rw_code load_crash(rw_reader *r, const uint8_t *p, size_t len, uint64_t pos,
                          rw_err *err)
{
    Rewind__CrashReport *m =
        (Rewind__CrashReport *)unpack(r, &rewind__crash_report__descriptor, p, len);
    if (!m) {
        r->bad_crashes++;
        return RW_OK;
    }
    rw_code rc = grow(&r->crashes, sizeof *r->crashes, &r->capcrashes, r->ncrashes + 1, err);
    if (rc == RW_OK)
        rc = grow(&r->crash_pos, sizeof *r->crash_pos, &r->capcrashpos, r->ncrashes + 1, err);
    if (rc != RW_OK) {
        free_msg(r, m);
        return rc;
    }
    r->crashes[r->ncrashes] = m;
    r->crash_pos[r->ncrashes++] = pos;
    return RW_OK;
}

/* The id limits of a chunk that comes after the definitions loaded so far (the rule
 * of rw_reader_chunk_limits: what precedes the chunk in the file). */
static rw_id_limits current_limits(const rw_reader *r)
{
    assert(r->defs.ncodes >= 1 && r->defs.ncfuncs >= 1 && r->defs.nthreads >= 1 &&
           r->defs.nnames >= 1); /* init_tables put the placeholders in */
    rw_id_limits l = {r->defs.ncodes - 1, r->defs.ncfuncs - 1, r->defs.nthreads - 1,
                      r->defs.nnames - 1, r->first_lines};
    return l;
}

/* Appends a chunk entry after checking that it continues the event numbering. */
static rw_code add_chunk(rw_reader *r, const rw_chunk_info *info, uint64_t off,
                         uint32_t stored_len, size_t frame, rw_err *err)
{
    rw_err e;
    if (info->first_event != r->nevents) {
        rw_err_set(&e, RW_ECORRUPT, "chunk starts at event %llu, expected %llu",
                   (unsigned long long)info->first_event, (unsigned long long)r->nevents);
        return frame_err(r, frame, off, &e, err);
    }
    /* Every record takes at least one byte of a payload bounded by RW_FRAME_MAX,
     * which also keeps the running totals far from overflow. */
    if (info->record_count > RW_FRAME_MAX || info->event_count > info->record_count) {
        rw_err_set(&e, RW_ECORRUPT, "chunk claims %llu events in %llu records",
                   (unsigned long long)info->event_count,
                   (unsigned long long)info->record_count);
        return frame_err(r, frame, off, &e, err);
    }
    if (info->last_tick < info->first_tick) {
        rw_err_set(&e, RW_ECORRUPT, "chunk ends at tick %llu before it starts (%llu)",
                   (unsigned long long)info->last_tick, (unsigned long long)info->first_tick);
        return frame_err(r, frame, off, &e, err);
    }
    RW_TRY(grow(&r->chunks, sizeof *r->chunks, &r->capchunks, r->nchunks + 1, err));
    /* Checked above: chunks tile the event numbers in file order. */
    assert(info->first_event == r->nevents && info->event_count <= info->record_count);
    chunk_ent *c = &r->chunks[r->nchunks];
    c->info = *info;
    c->info.filter = NULL;
    c->info.filter_len = 0;
    if (info->filter && rw_filter_valid(info->filter_len)) { /* else: no filter */
        uint8_t *f = malloc(info->filter_len);
        if (!f)
            return rw_err_set(err, RW_ENOMEM, "%s: out of memory for the index", r->name);
        memcpy(f, info->filter, info->filter_len);
        c->info.filter = f;
        c->info.filter_len = info->filter_len;
    }
    c->info.fps = NULL;
    c->info.nfps = 0;
    /* Fingerprints: kept when there are as many as groups end in the chunk (else the
     * chunk has none, and the engine compares it record by record). */
    uint64_t g = r->fp_group;
    if (g && info->nfps && info->fps &&
        info->nfps == (info->first_event + info->event_count) / g - info->first_event / g) {
        uint64_t *f = malloc(info->nfps * sizeof *f);
        if (!f)
            return rw_err_set(err, RW_ENOMEM, "%s: out of memory for the index", r->name);
        memcpy(f, info->fps, info->nfps * sizeof *f);
        c->info.fps = f;
        c->info.nfps = info->nfps;
    }
    r->nchunks++;
    c->offset = off;
    c->stored_len = stored_len;
    c->frame = frame > UINT32_MAX ? UINT32_MAX : (uint32_t)frame;
    c->lim = current_limits(r);
    c->lim.code_first_line = NULL; /* r->first_lines may move; rw_reader_chunk_limits */
    r->nevents += info->event_count;
    r->nrecords += info->record_count;
    return RW_OK;
}

/* Remembers where an INPUTS frame is (read by rw_inputs_iter). */
static rw_code add_inputs(rw_reader *r, uint64_t off, uint32_t stored_len, size_t frame,
                          rw_err *err)
{
    RW_TRY(grow(&r->inputs, sizeof *r->inputs, &r->capinputs, r->ninputs + 1, err));
    inputs_ent *e = &r->inputs[r->ninputs++];
    e->offset = off;
    e->stored_len = stored_len;
    e->frame = frame > UINT32_MAX ? UINT32_MAX : (uint32_t)frame;
    return RW_OK;
}

/* Drops everything loaded after the header, for a fresh start by scanning. */
static void reset_loaded(rw_reader *r)
{
    free_msg(r, r->meta);
    free_msg(r, r->end);
    for (size_t i = 0; i < r->ndefmsgs; i++)
        free_msg(r, r->defmsgs[i]);
    for (size_t i = 0; i < r->ncrashes; i++)
        free_msg(r, r->crashes[i]);
    r->ncrashes = r->bad_crashes = 0;
    for (size_t i = 0; i < r->nchunks; i++) {
        free((void *)r->chunks[i].info.filter);
        free((void *)r->chunks[i].info.fps);
    }
    r->fp_group = 0;
    r->meta = NULL;
    r->end = NULL;
    r->ndefmsgs = 0;
    r->defs.nfiles = r->defs.ncodes = r->defs.ncfuncs = r->defs.nthreads = r->defs.nnames = 1;
    r->nchunks = 0;
    r->ninputs = 0;
    r->nevents = r->nrecords = 0;
    r->time_shift = 0;
}

/* ---- the index path ------------------------------------------------------------- */

/* Loads the METADATA, DEFINITIONS or END frame an index entry points at. */
static rw_code load_indexed_frame(rw_reader *r, const Rewind__IndexEntry *ie, size_t frame,
                                  rw_err *err)
{
    rw_frame_header h;
    uint8_t *p = NULL;
    RW_TRY(read_frame(r, ie->offset, frame, &h, &p, err));
    rw_code rc;
    if (h.type != ie->type || h.stored_len != ie->stored_len) {
        rw_err e;
        rw_err_set(&e, RW_ECORRUPT, "index says a %s frame of %u bytes, file has a %s frame of %u",
                   rw_frame_type_name(ie->type), (unsigned)ie->stored_len,
                   rw_frame_type_name(h.type), h.stored_len);
        rc = frame_err(r, frame, ie->offset, &e, err);
    } else if (h.type == RW_FRAME_METADATA) {
        rc = load_metadata(r, p, h.raw_len, frame, ie->offset, err);
    } else if (h.type == RW_FRAME_DEFINITIONS) {
        rc = load_defs(r, p, h.raw_len, frame, ie->offset, err);
    } else {
        rc = load_end(r, p, h.raw_len, frame, ie->offset, err);
    }
    free(p);
    return rc;
}

static rw_code load_from_index(rw_reader *r, rw_err *err)
{
    rw_err e;
    if (r->size < RW_HEADER_LEN + RW_TRAILER_LEN)
        return rw_err_set(err, RW_ECORRUPT, "%s: no trailer (the file is too short)", r->name);
    uint8_t tb[RW_TRAILER_LEN];
    uint64_t trailer_off = r->size - RW_TRAILER_LEN, index_off;
    RW_TRY(read_at(r, trailer_off, tb, sizeof tb, err));
    if (rw_trailer_decode(tb, &index_off, &e) != RW_OK)
        return rw_err_set(err, e.code, "%s: %s", r->name, e.msg);
    if (index_off < RW_HEADER_LEN || index_off > trailer_off ||
        trailer_off - index_off < RW_FRAME_HEADER_LEN)
        return rw_err_set(err, RW_ECORRUPT, "%s: trailer points at offset %llu, outside the file",
                          r->name, (unsigned long long)index_off);

    rw_frame_header h;
    uint8_t *p = NULL;
    RW_TRY(read_frame(r, index_off, INDEX_FRAME, &h, &p, err));
    if (h.type != RW_FRAME_INDEX ||
        index_off + RW_FRAME_HEADER_LEN + h.stored_len != trailer_off) {
        free(p);
        return rw_err_set(err, RW_ECORRUPT,
                          "%s: trailer points at a %s frame at offset %llu that does not end "
                          "at the trailer",
                          r->name, rw_frame_type_name(h.type), (unsigned long long)index_off);
    }
    Rewind__Index *ix = (Rewind__Index *)unpack(r, &rewind__index__descriptor, p, h.raw_len);
    free(p);
    if (!ix)
        return rw_err_set(err, RW_ECORRUPT, "%s: cannot decode the index message (%s)", r->name,
                          r->alloc.hit ? "it would need too much memory" : "malformed protobuf");

    rw_code rc = RW_OK;
    uint64_t prev_end = RW_HEADER_LEN;
    /* A power of two the engine can keep a group of: else no fingerprints. */
    r->fp_group = ix->fingerprint_group >= 64 && ix->fingerprint_group <= (1u << 20) &&
                          (ix->fingerprint_group & (ix->fingerprint_group - 1)) == 0
                      ? ix->fingerprint_group
                      : 0;
    if (ix->n_frames == 0 || ix->frames[0]->type != RW_FRAME_METADATA ||
        ix->frames[0]->offset != RW_HEADER_LEN) {
        rc = rw_err_set(err, RW_ECORRUPT, "%s: index: does not start with the metadata frame",
                        r->name);
        goto out;
    }
    for (size_t i = 0; i < ix->n_frames && rc == RW_OK; i++) {
        const Rewind__IndexEntry *ie = ix->frames[i];
        if (ie->offset < prev_end || ie->offset > index_off ||
            index_off - ie->offset < RW_FRAME_HEADER_LEN ||
            index_off - ie->offset - RW_FRAME_HEADER_LEN < ie->stored_len) {
            rc = rw_err_set(err, RW_ECORRUPT,
                            "%s: index: entry %zu (offset %llu) overlaps another frame or the "
                            "index",
                            r->name, i, (unsigned long long)ie->offset);
            break;
        }
        prev_end = ie->offset + RW_FRAME_HEADER_LEN + ie->stored_len;
        if (ie->type > 255) {
            rc = rw_err_set(err, RW_ECORRUPT, "%s: index: entry %zu has frame type %u", r->name,
                            i, (unsigned)ie->type);
            break;
        }
        switch (ie->type) {
        case RW_FRAME_METADATA:
            if (i != 0) {
                rc = rw_err_set(err, RW_ECORRUPT, "%s: index: entry %zu is a second metadata frame",
                                r->name, i);
                break;
            }
            /* fall through */
        case RW_FRAME_DEFINITIONS:
        case RW_FRAME_END:
            rc = load_indexed_frame(r, ie, i, err);
            break;
        case RW_FRAME_CHUNK: {
            rw_chunk_info info = {ie->first_event, ie->event_count, ie->record_count,
                                  ie->first_tick, ie->last_tick, ie->line_filter.data,
                                  (uint32_t)(ie->line_filter.len > UINT32_MAX
                                                 ? 0 : ie->line_filter.len),
                                  ie->fingerprint,
                                  (uint32_t)(ie->n_fingerprint > UINT32_MAX
                                                 ? 0 : ie->n_fingerprint)};
            rc = add_chunk(r, &info, ie->offset, ie->stored_len, i, err);
            break;
        }
        case RW_FRAME_CRASH: {
            rw_frame_header fh;
            uint8_t *fp = NULL;
            if (read_frame(r, ie->offset, i, &fh, &fp, &e) == RW_OK && fh.type == RW_FRAME_CRASH)
                rc = load_crash(r, fp, fh.raw_len,
                                ie->first_event < r->nevents ? ie->first_event : r->nevents, err);
            else
                r->bad_crashes++;
            free(fp);
            break;
        }
        case RW_FRAME_INPUTS:
            rc = add_inputs(r, ie->offset, ie->stored_len, i, err);
            break;
        default: /* unknown or reserved types are skipped, as the schema demands */
            break;
        }
    }
    if (rc == RW_OK && (ix->total_events != r->nevents || ix->total_records != r->nrecords))
        rc = rw_err_set(err, RW_ECORRUPT,
                        "%s: index totals (%llu events, %llu records) disagree with its "
                        "chunks (%llu, %llu)",
                        r->name, (unsigned long long)ix->total_events,
                        (unsigned long long)ix->total_records, (unsigned long long)r->nevents,
                        (unsigned long long)r->nrecords);
out:
    free_msg(r, ix);
    return rc;
}

/* ---- the recovery scan ---------------------------------------------------------- */

/* Decodes a chunk found by the scan record by record, so that only chunks that read
 * in full are kept, and measures its last tick and builds its line filter (the index
 * would have held them). rw_reader_refresh's scans (r->scan_light) take the chunk's
 * header only: the file they follow is being written by this process's own engine,
 * its chunks are decoded once by whoever reads them, and neither the last tick nor the
 * filter is asked for (the chunk then has none: every line may be in it). */
static rw_code scan_chunk(rw_reader *r, const uint8_t *p, size_t len, size_t frame,
                          uint64_t off, rw_chunk_info *info, rw_err *err)
{
    rw_chunk *c = NULL;
    rw_decoder *d = NULL;
    rw_err e;
    rw_id_limits lim = current_limits(r);
    rw_code rc = rw_chunk_decode(p, len, &c, &e);
    if (rc == RW_OK && r->scan_light) {
        *info = *rw_chunk_get_info(c);
        info->last_tick = info->first_tick;
        info->filter = NULL;
        info->filter_len = 0;
        rw_chunk_free(c);
        return RW_OK;
    }
    if (rc == RW_OK)
        rc = rw_decoder_new(c, &lim, r->time_shift, &d, &e);
    if (rc == RW_OK) {
        *info = *rw_chunk_get_info(c);
        memset(r->scan_filter, 0, sizeof r->scan_filter);
        rw_event ev;
        int n;
        while ((n = rw_decoder_next(d, &ev, &e)) > 0) {
            if (RW_IS_EVENT(ev.kind))
                info->last_tick = ev.tick;
            if (ev.kind == RW_K_LINE)
                rw_filter_add(r->scan_filter, ev.code, ev.line);
        }
        if (n < 0)
            rc = e.code;
        info->filter_len = (uint32_t)rw_filter_fold(r->scan_filter);
        info->filter = r->scan_filter;
    }
    rw_decoder_free(d);
    rw_chunk_free(c);
    if (rc != RW_OK)
        return frame_err(r, frame, off, &e, err);
    return RW_OK;
}

/* Reads the frames from offset off (frame number frame), keeping each good one, until
 * the first bad one or the end: the recovery of a file without a valid footer, from its
 * header on, and rw_reader_refresh's, from where the last scan stopped. Fails only when
 * not even the metadata frame can be read. index_why says why the index could not be
 * used. */
static rw_code scan(rw_reader *r, uint64_t off, size_t frame, const char *index_why,
                    rw_err *err)
{
    rw_err e = {0};
    const char *why = NULL;

    for (;; frame++) {
        if (off == r->size) {
            why = index_why;
            break;
        }
        if (r->size - off == RW_TRAILER_LEN) {
            uint8_t tb[RW_TRAILER_LEN];
            uint64_t ioff;
            RW_TRY(read_at(r, off, tb, sizeof tb, err));
            if (rw_trailer_decode(tb, &ioff, &e) == RW_OK) {
                why = index_why;
                break;
            }
        }
        rw_frame_header h;
        uint8_t *p = NULL;
        rw_code rc = read_frame(r, off, frame, &h, &p, &e);
        if (rc == RW_EIO || rc == RW_ENOMEM)
            return rw_err_set(err, rc, "%s", e.msg);
        if (rc == RW_OK) {
            if (frame == 0 && h.type != RW_FRAME_METADATA) {
                rc = rw_err_set(&e, RW_ECORRUPT,
                                "%s: frame 0 at offset %llu: a %s frame where the metadata "
                                "frame should be",
                                r->name, (unsigned long long)off, rw_frame_type_name(h.type));
            } else if (h.type == RW_FRAME_METADATA) {
                rc = load_metadata(r, p, h.raw_len, frame, off, &e);
            } else if (h.type == RW_FRAME_DEFINITIONS) {
                rc = load_defs(r, p, h.raw_len, frame, off, &e);
            } else if (h.type == RW_FRAME_END) {
                rc = load_end(r, p, h.raw_len, frame, off, &e);
            } else if (h.type == RW_FRAME_CRASH) {
                rc = load_crash(r, p, h.raw_len, r->nevents, &e);
            } else if (h.type == RW_FRAME_INPUTS) {
                rc = add_inputs(r, off, h.stored_len, frame, &e);
            } else if (h.type == RW_FRAME_CHUNK) {
                rw_chunk_info info;
                rc = scan_chunk(r, p, h.raw_len, frame, off, &info, &e);
                if (rc == RW_OK)
                    rc = add_chunk(r, &info, off, h.stored_len, frame, &e);
            }
            free(p);
        }
        if (rc == RW_ENOMEM)
            return rw_err_set(err, rc, "%s", e.msg);
        if (rc != RW_OK) {
            if (frame == 0)
                return rw_err_set(err, rc, "%s (nothing is readable without it)", e.msg);
            why = e.msg;
            break;
        }
        off += RW_FRAME_HEADER_LEN + h.stored_len;
    }
    if (!r->meta)
        return rw_err_set(err, RW_ECORRUPT, "%s: no metadata frame (the file ends after its header)",
                          r->name);
    r->scan_off = off;
    r->scan_frame = frame;
    r->rec.used = 1;
    r->rec.chunks = r->nchunks;
    r->rec.events = r->nevents;
    r->rec.good_bytes = off;
    r->rec.file_bytes = r->size;
    /* Strip the "NAME: " prefix: the report names the file itself. */
    size_t nl = strlen(r->name);
    if (why && !strncmp(why, r->name, nl) && !strncmp(why + nl, ": ", 2))
        why += nl + 2;
    if (!why)
        why = "unknown";
    size_t wl = strlen(why);
    if (wl >= sizeof r->rec.why)
        wl = sizeof r->rec.why - 1; /* a cut message beats none */
    memcpy(r->rec.why, why, wl);
    r->rec.why[wl] = 0;
    return RW_OK;
}

/* ---- open / free ---------------------------------------------------------------- */

static rw_reader *reader_alloc(const char *name)
{
    rw_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->name = strdup(name ? name : "<memory>");
    if (!r->name) {
        free(r);
        return NULL;
    }
    r->fd = -1;
    r->alloc.pa.alloc = cap_alloc_fn;
    r->alloc.pa.free = cap_free_fn;
    r->alloc.pa.allocator_data = &r->alloc;
    Rewind__FileDef f = REWIND__FILE_DEF__INIT;
    Rewind__CodeDef c = REWIND__CODE_DEF__INIT;
    Rewind__CFuncDef cf = REWIND__CFUNC_DEF__INIT;
    Rewind__ThreadDef t = REWIND__THREAD_DEF__INIT;
    Rewind__NameDef n = REWIND__NAME_DEF__INIT;
    r->ph_file = f;
    r->ph_code = c;
    r->ph_cfunc = cf;
    r->ph_thread = t;
    r->ph_name = n;
    return r;
}

/* Sets up the id-0 placeholders once the tables exist. */
static rw_code init_tables(rw_reader *r, rw_err *err)
{
    RW_TRY(grow32(&r->defs.files, sizeof *r->defs.files, &r->capfiles, 1, err));
    RW_TRY(grow32(&r->defs.codes, sizeof *r->defs.codes, &r->capcodes, 1, err));
    RW_TRY(grow32(&r->defs.cfuncs, sizeof *r->defs.cfuncs, &r->capcfuncs, 1, err));
    RW_TRY(grow32(&r->defs.threads, sizeof *r->defs.threads, &r->capthreads, 1, err));
    RW_TRY(grow32(&r->defs.names, sizeof *r->defs.names, &r->capnames, 1, err));
    RW_TRY(grow(&r->first_lines, sizeof *r->first_lines, &r->capfirst, 1, err));
    r->first_lines[0] = 0;
    r->defs.files[0] = &r->ph_file;
    r->defs.codes[0] = &r->ph_code;
    r->defs.cfuncs[0] = &r->ph_cfunc;
    r->defs.threads[0] = &r->ph_thread;
    r->defs.names[0] = &r->ph_name;
    r->defs.nfiles = r->defs.ncodes = r->defs.ncfuncs = r->defs.nthreads = r->defs.nnames = 1;
    return RW_OK;
}

static rw_code open_common(rw_reader *r, rw_err *err)
{
    RW_TRY(init_tables(r, err));
    if (r->size < RW_HEADER_LEN)
        return rw_err_set(err, RW_ECORRUPT, "%s: not a rewind trace (only %llu bytes)", r->name,
                          (unsigned long long)r->size);
    uint8_t hb[RW_HEADER_LEN];
    rw_err e;
    RW_TRY(read_at(r, 0, hb, sizeof hb, err));
    if (rw_header_decode(hb, &r->file_id, &e) != RW_OK)
        return rw_err_set(err, e.code, "%s: %s", r->name, e.msg);

    rw_err ie = {0};
    rw_code rc = load_from_index(r, &ie);
    if (rc == RW_OK) {
        if (!r->meta) /* load_from_index insists on entry 0 being metadata */
            return rw_err_set(err, RW_ECORRUPT, "%s: no metadata frame", r->name);
        r->rec.good_bytes = r->rec.file_bytes = r->size;
        return RW_OK;
    }
    if (rc != RW_ECORRUPT) {
        *err = ie;
        return rc;
    }
    reset_loaded(r);
    return scan(r, RW_HEADER_LEN, 0, ie.msg, err);
}

rw_code rw_reader_refresh(rw_reader *r, rw_err *err)
{
    if (!r->rec.used || r->fd < 0)
        return RW_OK; /* read whole from its index, or from memory */
    struct stat st;
    if (fstat(r->fd, &st) != 0)
        return rw_err_set(err, RW_EIO, "%s: %s", r->name, strerror(errno));
    if ((uint64_t)st.st_size <= r->size && r->scan_off == r->size)
        return RW_OK; /* nothing appended */
    if ((uint64_t)st.st_size < r->size)
        return rw_err_set(err, RW_EIO, "%s: the file shrank while being read", r->name);
    r->size = (uint64_t)st.st_size;
    r->scan_light = 1;
    rw_code rc = scan(r, r->scan_off, r->scan_frame, "the file ends here for now", err);
    r->scan_light = 0;
    return rc;
}

rw_code rw_reader_open(const char *path, rw_reader **out, rw_err *err)
{
    rw_reader *r = reader_alloc(path);
    if (!r)
        return rw_err_set(err, RW_ENOMEM, "%s: out of memory", path);
    /* O_NONBLOCK: a FIFO with no writer must not hang the open (it is refused just
     * below); it changes nothing for a regular file's reads. */
    r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    int open_errno = errno;
    const char *bad = NULL;
    if (r->fd < 0 ? stat(path, &st) != 0 || S_ISREG(st.st_mode) : fstat(r->fd, &st) != 0)
        bad = strerror(r->fd < 0 ? open_errno : errno); /* a socket cannot be opened: */
    else if (S_ISDIR(st.st_mode))                      /* say what it is instead */
        bad = "is a directory, not a regular file: give the path of a .rwd trace";
    else if (S_ISFIFO(st.st_mode))
        bad = "is a FIFO (named pipe), not a regular file: save the trace to a file first";
    else if (S_ISSOCK(st.st_mode))
        bad = "is a socket, not a regular file: give the path of a .rwd trace";
    else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
        bad = "is a device, not a regular file: give the path of a .rwd trace";
    else if (!S_ISREG(st.st_mode))
        bad = "is not a regular file";
    if (bad) {
        rw_code rc = rw_err_set(err, RW_EIO, "%s: %s", path, bad);
        rw_reader_free(r);
        return rc;
    }
    r->size = (uint64_t)st.st_size;
    rw_code rc = open_common(r, err);
    if (rc != RW_OK) {
        rw_reader_free(r);
        return rc;
    }
    *out = r;
    return RW_OK;
}

rw_code rw_reader_open_mem(const uint8_t *buf, size_t len, const char *name, rw_reader **out,
                           rw_err *err)
{
    rw_reader *r = reader_alloc(name);
    if (!r)
        return rw_err_set(err, RW_ENOMEM, "%s: out of memory", name ? name : "<memory>");
    static const uint8_t empty[1];
    r->mem = buf ? buf : empty;
    r->size = buf ? len : 0;
    rw_code rc = open_common(r, err);
    if (rc != RW_OK) {
        rw_reader_free(r);
        return rc;
    }
    *out = r;
    return RW_OK;
}

void rw_reader_free(rw_reader *r)
{
    if (!r)
        return;
    reset_loaded(r);
    if (r->fd >= 0)
        close(r->fd);
    free(r->defmsgs);
    free(r->defs.files);
    free(r->defs.codes);
    free(r->defs.cfuncs);
    free(r->defs.threads);
    free(r->defs.names);
    free(r->first_lines);
    free(r->chunks);
    free(r->inputs);
    free(r->crashes);
    free(r->crash_pos);
    free(r->name);
    free(r);
}

/* ---- accessors ------------------------------------------------------------------ */

const rw_recovery *rw_reader_recovery(const rw_reader *r) { return &r->rec; }
const Rewind__Metadata *rw_reader_metadata(const rw_reader *r) { return r->meta; }
const Rewind__RunEnd *rw_reader_end(const rw_reader *r) { return r->end; }

size_t rw_reader_ncrashes(const rw_reader *r) { return r->ncrashes; }

const Rewind__CrashReport *rw_reader_crash(const rw_reader *r, size_t i, uint64_t *pos)
{
    if (i >= r->ncrashes)
        return NULL;
    if (pos)
        *pos = r->crash_pos[i];
    return r->crashes[i];
}

int rw_meta_has_feature(const Rewind__Metadata *md, const char *name)
{
    for (size_t i = 0; md && i < md->n_features; i++)
        if (md->features[i] && !strcmp(md->features[i], name))
            return 1;
    return 0;
}

const rw_defs *rw_reader_defs(const rw_reader *r) { return &r->defs; }
size_t rw_reader_nchunks(const rw_reader *r) { return r->nchunks; }
uint64_t rw_reader_nevents(const rw_reader *r) { return r->nevents; }
uint64_t rw_reader_nrecords(const rw_reader *r) { return r->nrecords; }
uint64_t rw_reader_file_size(const rw_reader *r) { return r->size; }
unsigned rw_reader_time_shift(const rw_reader *r) { return r->time_shift; }
unsigned rw_reader_fp_group(const rw_reader *r) { return r->fp_group; }

const rw_chunk_info *rw_reader_chunk(const rw_reader *r, size_t i)
{
    return i < r->nchunks ? &r->chunks[i].info : NULL;
}

size_t rw_reader_find_chunk(const rw_reader *r, uint64_t pos)
{
    size_t lo = 0, hi = r->nchunks; /* answer in [lo, hi) once a chunk qualifies */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->chunks[mid].info.first_event <= pos)
            lo = mid;
        else
            hi = mid;
    }
    assert(r->nchunks == 0 || lo < r->nchunks);
    return lo;
}

rw_timebase rw_reader_timebase(const rw_reader *r)
{
    return rw_timebase_of(r->meta, r->nchunks ? r->chunks[0].info.first_tick : 0);
}

double rw_reader_tick_ns(const rw_reader *r, uint64_t tick)
{
    rw_timebase tb = rw_reader_timebase(r);
    return rw_timebase_ns(&tb, tick);
}

void rw_reader_chunk_limits(const rw_reader *r, size_t i, rw_id_limits *out)
{
    assert(i < r->nchunks);
    *out = r->chunks[i].lim;
    out->code_first_line = r->first_lines;
    /* The chunk's limits are those of a prefix of the tables. */
    assert(out->codes < r->defs.ncodes && out->cfuncs < r->defs.ncfuncs &&
           out->threads < r->defs.nthreads && out->names < r->defs.nnames);
}

rw_code rw_reader_decoder_new(const rw_reader *r, size_t i, const rw_chunk *c,
                              rw_decoder **out, rw_err *err)
{
    if (i >= r->nchunks)
        return rw_err_set(err, RW_EINVAL, "%s: no chunk %zu (the trace has %zu)", r->name, i,
                          r->nchunks);
    rw_id_limits lim;
    rw_reader_chunk_limits(r, i, &lim);
    rw_err e;
    if (rw_decoder_new(c, &lim, r->time_shift, out, &e) != RW_OK)
        return frame_err(r, r->chunks[i].frame, r->chunks[i].offset, &e, err);
    return RW_OK;
}

rw_code rw_reader_thread_runs(const rw_reader *r, rw_run_fn fn, void *ctx, rw_err *err)
{
    rw_runs_state st = {0};
    for (size_t i = 0; i < r->nchunks; i++) {
        rw_chunk *c;
        RW_TRY(rw_reader_load_chunk(r, i, &c, err));
        rw_id_limits lim;
        rw_reader_chunk_limits(r, i, &lim);
        rw_err e;
        rw_code rc = rw_chunk_thread_runs(c, lim.threads, &st, fn, ctx, &e);
        rw_chunk_free(c);
        if (rc == RW_ENOMEM) { /* fn's: no frame to name */
            *err = e;
            return rc;
        }
        if (rc != RW_OK)
            return frame_err(r, r->chunks[i].frame, r->chunks[i].offset, &e, err);
    }
    return RW_OK;
}

rw_code rw_reader_load_chunk(const rw_reader *r, size_t i, rw_chunk **out, rw_err *err)
{
    if (i >= r->nchunks)
        return rw_err_set(err, RW_EINVAL, "%s: no chunk %zu (the trace has %zu)", r->name, i,
                          r->nchunks);
    const chunk_ent *ce = &r->chunks[i];
    rw_frame_header h;
    uint8_t *p = NULL;
    RW_TRY(read_frame(r, ce->offset, ce->frame, &h, &p, err));
    rw_err e;
    if (h.type != RW_FRAME_CHUNK || h.stored_len != ce->stored_len) {
        free(p);
        rw_err_set(&e, RW_ECORRUPT, "expected a chunk frame of %u bytes, found a %s frame of %u",
                   ce->stored_len, rw_frame_type_name(h.type), h.stored_len);
        return frame_err(r, ce->frame, ce->offset, &e, err);
    }
    rw_chunk *c = NULL;
    rw_code rc = rw_chunk_decode_take(p, h.raw_len, &c, &e); /* takes p */
    if (rc != RW_OK)
        return frame_err(r, ce->frame, ce->offset, &e, err);
    const rw_chunk_info *ci = rw_chunk_get_info(c);
    if (ci->first_event != ce->info.first_event || ci->event_count != ce->info.event_count ||
        ci->record_count != ce->info.record_count || ci->first_tick != ce->info.first_tick) {
        rw_err_set(&e, RW_ECORRUPT,
                   "chunk holds events %llu+%llu (%llu records), the index says %llu+%llu (%llu)",
                   (unsigned long long)ci->first_event, (unsigned long long)ci->event_count,
                   (unsigned long long)ci->record_count,
                   (unsigned long long)ce->info.first_event,
                   (unsigned long long)ce->info.event_count,
                   (unsigned long long)ce->info.record_count);
        rw_chunk_free(c);
        return frame_err(r, ce->frame, ce->offset, &e, err);
    }
    *out = c;
    return RW_OK;
}

/* ---- cursors -------------------------------------------------------------------- */

/* Invariants: unless empty, first <= last < nchunks; when dec != NULL, chunk `cur`
 * (first <= cur <= last) is loaded into chunk/dec and next_pos is the pos the next
 * record of that chunk will carry. */
struct rw_cursor {
    const rw_reader *r;
    int empty;
    size_t first, last;
    size_t cur;
    rw_chunk *chunk;
    rw_decoder *dec;
    uint64_t next_pos;
    int clean; /* no record carrying next_pos has been returned yet */
    /* A decode error is sticky: a decoder that failed is in an unknown state and is
     * dropped, and rw_cursor_next keeps returning the error until a seek. */
    int broken;
    rw_err broken_err;
    unsigned flags; /* given to each decoder */
    /* Unloaded (rw_cursor_unload) with the chunk cur's decoder at this record index + 1
     * (0: not unloaded). */
    size_t reload_at;
};

static void cursor_unload(rw_cursor *c)
{
    rw_decoder_free(c->dec);
    rw_chunk_free(c->chunk);
    c->dec = NULL;
    c->chunk = NULL;
}

/* Loads chunk i (replacing the current one) positioned before its first record. */
static rw_code cursor_load(rw_cursor *c, size_t i, rw_err *err)
{
    const rw_reader *r = c->r;
    cursor_unload(c);
    c->cur = i;
    rw_chunk *ch = NULL;
    RW_TRY(rw_reader_load_chunk(r, i, &ch, err));
    rw_decoder *d = NULL;
    rw_code rc = rw_reader_decoder_new(r, i, ch, &d, err);
    if (rc != RW_OK) {
        rw_chunk_free(ch);
        return rc;
    }
    rw_decoder_set_flags(d, c->flags);
    c->chunk = ch;
    c->dec = d;
    c->next_pos = r->chunks[i].info.first_event;
    c->clean = 1;
    c->broken = 0;
    return RW_OK;
}

rw_code rw_cursor_new(const rw_reader *r, size_t first, size_t last, rw_cursor **out,
                      rw_err *err)
{
    int empty = 0;
    if (first >= r->nchunks) {
        if (first > r->nchunks)
            return rw_err_set(err, RW_EINVAL, "%s: no chunk %zu (the trace has %zu)", r->name,
                              first, r->nchunks);
        empty = 1;
    } else {
        if (last >= r->nchunks)
            last = r->nchunks - 1;
        if (first > last)
            return rw_err_set(err, RW_EINVAL, "%s: empty chunk range %zu..%zu", r->name, first,
                              last);
    }
    rw_cursor *c = calloc(1, sizeof *c);
    if (!c)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    c->r = r;
    c->empty = empty;
    c->first = c->cur = first;
    c->last = empty ? first : last;
    *out = c;
    return RW_OK;
}

void rw_cursor_set_flags(rw_cursor *c, unsigned flags)
{
    c->flags = flags;
}

void rw_cursor_free(rw_cursor *c)
{
    if (!c)
        return;
    cursor_unload(c);
    free(c);
}

/* Makes the cursor broken after its decoder failed with e. */
static __attribute__((noinline)) int cursor_fail(rw_cursor *c, const rw_err *e, rw_err *err)
{
    const chunk_ent *ce = &c->r->chunks[c->cur];
    frame_err(c->r, ce->frame, ce->offset, e, &c->broken_err);
    c->broken = 1;
    cursor_unload(c);
    if (err)
        *err = c->broken_err;
    return -1;
}

/* Decodes one record of the loaded chunk, adding the file's context to errors.
 * Inline: it runs once per record. */
static inline __attribute__((always_inline)) int cursor_decode(rw_cursor *c, rw_event *ev, rw_err *err)
{
    rw_err e;
    int rc = rw_decoder_next(c->dec, ev, &e);
    if (RW_UNLIKELY(rc < 0))
        return cursor_fail(c, &e, err);
    if (RW_LIKELY(rc > 0)) {
        assert(ev->pos == c->next_pos); /* records come in position order */
        c->clean = RW_IS_EVENT(ev->kind);
        c->next_pos = ev->pos + (c->clean ? 1 : 0);
    }
    return rc;
}

/* The cursor's invariants (see struct rw_cursor), for asserts. */
__attribute__((unused)) static int cursor_ok(const rw_cursor *c)
{
    const rw_reader *r = c->r;
    if (c->empty)
        return !c->dec && c->first == r->nchunks;
    return c->first <= c->last && c->last < r->nchunks && c->first <= c->cur &&
           c->cur <= c->last && (!c->dec || c->chunk) && !(c->dec && c->broken);
}

void rw_cursor_unload(rw_cursor *c)
{
    if (c->dec) {
        c->reload_at = rw_decoder_index(c->dec) + 1;
        cursor_unload(c);
    }
}

/* Loads chunk cur again after rw_cursor_unload, decoding up to where it was. */
static __attribute__((noinline)) rw_code cursor_reload(rw_cursor *c, rw_err *err)
{
    size_t at = c->reload_at - 1;
    c->reload_at = 0;
    RW_TRY(cursor_load(c, c->cur, err));
    rw_event ev;
    while (rw_decoder_index(c->dec) < at) {
        int rc = cursor_decode(c, &ev, err);
        if (rc < 0)
            return err ? err->code : RW_ECORRUPT;
        if (rc == 0)
            break; /* the chunk's end: as it was */
    }
    return RW_OK;
}

int rw_cursor_next(rw_cursor *c, rw_event *ev, rw_err *err)
{
    int rc;
    assert(cursor_ok(c));
    /* The usual case first: a loaded chunk with records left (a cursor with a
     * decoder is neither empty nor broken). */
    if (RW_LIKELY(c->dec != NULL)) {
        if (RW_LIKELY((rc = cursor_decode(c, ev, err)) != 0))
            return rc;
    } else if (c->empty) {
        return 0;
    } else if (c->broken) {
        if (err)
            *err = c->broken_err;
        return -1;
    } else {
        if ((c->reload_at ? cursor_reload(c, err) : cursor_load(c, c->cur, err)) != RW_OK)
            return -1;
        if ((rc = cursor_decode(c, ev, err)) != 0)
            return rc;
    }
    /* The loaded chunk is done: on to the next ones. */
    for (;;) {
        if (c->cur >= c->last)
            return 0; /* the decoder stays: its stacks are the final ones */
        if (cursor_load(c, c->cur + 1, err) != RW_OK)
            return -1;
        if ((rc = cursor_decode(c, ev, err)) != 0)
            return rc;
    }
}

rw_code rw_cursor_seek(rw_cursor *c, uint64_t pos, rw_err *err)
{
    const rw_reader *r = c->r;
    assert(cursor_ok(c));
    c->reload_at = 0; /* a seek places the cursor anew */
    if (c->empty) {
        if (pos == r->nevents)
            return RW_OK;
        return rw_err_set(err, RW_EINVAL, "%s: position %llu is outside this cursor's range",
                          r->name, (unsigned long long)pos);
    }
    const rw_chunk_info *fi = &r->chunks[c->first].info, *li = &r->chunks[c->last].info;
    uint64_t lo = fi->first_event, hi = li->first_event + li->event_count;
    if (pos < lo || pos > hi)
        return rw_err_set(err, RW_EINVAL, "%s: position %llu is outside %llu..%llu", r->name,
                          (unsigned long long)pos, (unsigned long long)lo,
                          (unsigned long long)hi);
    /* The first record carrying pos may be an annotation at the tail of an earlier
     * chunk (or in a chunk with no events): step back while a chunk starts at pos. */
    size_t k = rw_reader_find_chunk(r, pos);
    if (k > c->last)
        k = c->last;
    while (k > c->first && r->chunks[k].info.first_event >= pos)
        k--;
    /* Reuse the loaded chunk when it is that one and nothing at pos was returned. */
    if (!(c->dec && c->cur == k && (c->next_pos < pos || (c->next_pos == pos && c->clean))))
        RW_TRY(cursor_load(c, k, err));
    rw_event ev;
    rw_err e;
    while (c->next_pos < pos) {
        int rc = cursor_decode(c, &ev, &e);
        if (rc < 0)
            return rw_err_set(err, e.code, "%s", e.msg);
        if (rc > 0)
            continue;
        if (c->cur >= c->last)
            break;
        RW_TRY(cursor_load(c, c->cur + 1, err));
    }
    return RW_OK;
}

const rw_stack *rw_cursor_stack(const rw_cursor *c, uint32_t thread)
{
    return c->dec ? rw_decoder_stack(c->dec, thread) : NULL;
}

uint32_t rw_cursor_thread(const rw_cursor *c)
{
    return c->dec ? rw_decoder_thread(c->dec) : 0;
}

/* ---- inputs --------------------------------------------------------------------- */

struct rw_inputs_iter {
    const rw_reader *r;
    size_t next;             /* next entry of r->inputs to read */
    size_t frame_no;         /* file frame number of the payload, for messages */
    uint64_t frame_off;
    uint8_t *payload;        /* the current frame's Inputs message */
    size_t len, pos;         /* its length, and where the next field starts */
    Rewind__Input *cur;      /* the record given last */
    cap_alloc alloc;
    rw_code failed;          /* sticky: RW_OK until an error */
    rw_err fail_err;
};

rw_code rw_inputs_iter_open(const rw_reader *r, rw_inputs_iter **out, rw_err *err)
{
    rw_inputs_iter *it = calloc(1, sizeof *it);
    if (!it)
        return rw_err_set(err, RW_ENOMEM, "%s: out of memory", r->name);
    it->r = r;
    it->alloc.pa.alloc = cap_alloc_fn;
    it->alloc.pa.free = cap_free_fn;
    it->alloc.pa.allocator_data = &it->alloc;
    *out = it;
    return RW_OK;
}

void rw_inputs_iter_free(rw_inputs_iter *it)
{
    if (!it)
        return;
    if (it->cur)
        protobuf_c_message_free_unpacked(&it->cur->base, &it->alloc.pa);
    free(it->payload);
    free(it);
}

/* A protobuf varint at p[*pos..len). 0 when malformed or cut. */
static int pb_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*pos >= len)
            return 0;
        uint8_t b = p[(*pos)++];
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 1;
        }
    }
    return 0;
}

static int iter_fail(rw_inputs_iter *it, rw_err *err, const char *what)
{
    const rw_reader *r = it->r;
    it->failed = RW_ECORRUPT;
    rw_err_set(&it->fail_err, RW_ECORRUPT, "%s: inputs frame %zu at offset %llu: %s", r->name,
               it->frame_no, (unsigned long long)it->frame_off, what);
    if (err)
        *err = it->fail_err;
    return -1;
}

/* The next Input submessage of the current payload: its bytes in [*at, *at + *n), or
 * 0 at the end of the payload, -1 when the payload is malformed. Other top-level
 * fields are skipped (unknown fields of a later version). */
static int next_record(rw_inputs_iter *it, size_t *at, size_t *n)
{
    const uint8_t *p = it->payload;
    while (it->pos < it->len) {
        uint64_t tag, v;
        if (!pb_varint(p, it->len, &it->pos, &tag) || (tag >> 3) == 0)
            return -1;
        switch (tag & 7) {
        case 0:
            if (!pb_varint(p, it->len, &it->pos, &v))
                return -1;
            break;
        case 1:
        case 5: {
            size_t w = (tag & 7) == 1 ? 8 : 4;
            if (it->len - it->pos < w)
                return -1;
            it->pos += w;
            break;
        }
        case 2:
            if (!pb_varint(p, it->len, &it->pos, &v) || v > it->len - it->pos)
                return -1;
            if ((tag >> 3) == 1) {
                *at = it->pos;
                *n = (size_t)v;
                it->pos += (size_t)v;
                return 1;
            }
            it->pos += (size_t)v;
            break;
        default: /* groups: not in this schema */
            return -1;
        }
    }
    return 0;
}

/* Loads the next INPUTS frame: 1, 0 when there is none, -1 on error. */
static int load_inputs_frame(rw_inputs_iter *it, rw_err *err)
{
    const rw_reader *r = it->r;
    free(it->payload);
    it->payload = NULL;
    it->len = it->pos = 0;
    if (it->next >= r->ninputs)
        return 0;
    const inputs_ent *e = &r->inputs[it->next++];
    it->frame_no = e->frame;
    it->frame_off = e->offset;
    rw_frame_header h;
    uint8_t *p = NULL;
    rw_err fe = {0};
    rw_code rc = read_frame(r, e->offset, e->frame, &h, &p, &fe);
    if (rc != RW_OK) {
        it->failed = rc;
        it->fail_err = fe;
        if (err)
            *err = fe;
        return -1;
    }
    if (h.type != RW_FRAME_INPUTS || h.stored_len != e->stored_len) {
        free(p);
        return iter_fail(it, err, "the index points at another frame");
    }
    it->payload = p;
    it->len = h.raw_len;
    return 1;
}

int rw_inputs_iter_next(rw_inputs_iter *it, rw_input *in, rw_err *err)
{
    if (it->failed != RW_OK) {
        if (err)
            *err = it->fail_err;
        return -1;
    }
    if (it->cur) {
        protobuf_c_message_free_unpacked(&it->cur->base, &it->alloc.pa);
        it->cur = NULL;
    }
    for (;;) {
        size_t at = 0, n = 0;
        int got = it->payload ? next_record(it, &at, &n) : 0;
        if (got < 0)
            return iter_fail(it, err, "malformed Inputs message");
        if (got == 0) {
            int lf = load_inputs_frame(it, err);
            if (lf <= 0)
                return lf;
            continue;
        }
        /* Bounded by the record's own bytes (each record unpacks alone). */
        it->alloc.cap = it->alloc.used + (size_t)UNPACK_FACTOR * n + 4096;
        it->alloc.hit = 0;
        Rewind__Input *m = rewind__input__unpack(&it->alloc.pa, n, it->payload + at);
        if (!m)
            return iter_fail(it, err, it->alloc.hit ? "a record would need too much memory"
                                                    : "malformed Input record");
        it->cur = m;
        if (m->key.len > RW_INPUT_KEY_MAX || m->data.len > RW_INPUT_DATA_MAX)
            return iter_fail(it, err, "a record's key or data is longer than the format allows");
        static const uint8_t none[1];
        in->thread = m->thread;
        in->call = m->call;
        in->seq = m->seq;
        in->position = m->position;
        in->started = m->started < m->position ? m->started : 0;
        in->result = m->result;
        in->err = m->err;
        in->flags = m->flags;
        in->key = m->key.len ? m->key.data : none;
        in->key_len = m->key.len;
        in->data = m->data.len ? m->data.data : none;
        in->data_len = m->data.len;
        return 1;
    }
}
