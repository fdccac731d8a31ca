/* Fuzz target for the trace reader: opens the input as a trace file image, reads
 * every record, seeks a few positions and looks at the stacks there, and profiles it
 * (profile.h, both windows).
 *
 * It also decodes each chunk through rw_reader_decoder_new, looks every definition
 * id (and ids past the tables) up through vocab.h, and reads every input record
 * (rw_inputs_iter).
 *
 * Each input runs twice: as given, and with every CRC it holds recomputed (frame
 * headers, payloads, the file header and the trailer), so that mutations get past
 * the CRC checks into the zstd, protobuf, index, definitions and chunk decoders
 * instead of all stopping at "bad CRC". Seeds: tests/fuzz/corpus/fuzz_reader/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "inputs.h"
#include "profile.h"
#include "reader.h"

/* Bounds the work per input (a small zstd frame can expand to RW_FRAME_MAX). */
#define MAX_RECORDS (1u << 20)

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Recomputes the CRCs of a file image in place, walking frames while their magic
 * holds and their lengths fit. */
static void fix_crcs(uint8_t *b, size_t len)
{
    if (len >= RW_HEADER_LEN)
        put32(b + 28, rw_crc32c(0, b, 28));
    size_t off = RW_HEADER_LEN;
    while (len >= RW_FRAME_HEADER_LEN && off <= len - RW_FRAME_HEADER_LEN &&
           get32(b + off) == RW_FRAME_MAGIC) {
        uint32_t stored = get32(b + off + 8);
        if (stored > len - off - RW_FRAME_HEADER_LEN)
            break;
        put32(b + off + 16, rw_crc32c(0, b + off + RW_FRAME_HEADER_LEN, stored));
        put32(b + off + 20, rw_crc32c(0, b + off, 20));
        off += RW_FRAME_HEADER_LEN + stored;
    }
    if (len >= RW_HEADER_LEN + RW_TRAILER_LEN &&
        get32(b + len - 4) == RW_TRAILER_MAGIC)
        put32(b + len - 8, rw_crc32c(0, b + len - RW_TRAILER_LEN, 8));
}

static void stacks_touch(const rw_cursor *c, const rw_reader *r)
{
    const rw_defs *d = rw_reader_defs(r);
    for (uint32_t t = 0; t < d->nthreads && t < 8; t++) {
        const rw_stack *st = rw_cursor_stack(c, t);
        if (!st)
            continue;
        volatile uint64_t sink = 0;
        for (uint32_t i = 0; i < st->depth; i++)
            sink += st->frames[i].code + st->frames[i].line + st->frames[i].call_pos;
        (void)sink;
    }
}

static void exercise(const uint8_t *data, size_t size)
{
    rw_reader *r = NULL;
    rw_err err;
    if (rw_reader_open_mem(data, size, "fuzz.rwd", &r, &err) != RW_OK)
        return;
    const Rewind__Metadata *m = rw_reader_metadata(r);
    (void)m->argv;
    (void)rw_reader_tick_ns(r, 12345);
    const rw_defs *d = rw_reader_defs(r);
    for (uint32_t i = 1; i < d->ncodes; i++)
        (void)d->files[d->codes[i]->file]->path;
    /* The vocabulary's lookups on every id the trace has, and past them. */
    const Rewind__RunEnd *end = rw_reader_end(r);
    size_t textlen = 0;
    for (uint32_t i = 0; i <= d->ncodes + 1 && i < 4096; i++) {
        const char *t[] = {rw_defs_code_path(d, i), rw_defs_code_name(d, i),
                           rw_defs_code_qualname(d, i), rw_defs_cfunc_label(d, i),
                           rw_defs_name_text(d, i), rw_defs_thread_name(d, end, i)};
        for (size_t k = 0; k < sizeof t / sizeof t[0]; k++)
            textlen += t[k] ? strlen(t[k]) : 0;
        textlen += rw_defs_code_first_line(d, i) + rw_defs_code_file(d, i);
    }
    rw_timebase tb = rw_reader_timebase(r);
    (void)rw_timebase_tick_at(&tb, rw_timebase_ns(&tb, 12345));
    /* Every chunk through a decoder with the chunk's limits (what replay and stats use). */
    for (size_t i = 0; i < rw_reader_nchunks(r) && i < 64; i++) {
        rw_chunk *ch = NULL;
        rw_decoder *dec = NULL;
        if (rw_reader_load_chunk(r, i, &ch, &err) == RW_OK &&
            rw_reader_decoder_new(r, i, ch, &dec, &err) == RW_OK) {
            rw_event ev;
            for (uint64_t n = 0; n < MAX_RECORDS && rw_decoder_next(dec, &ev, &err) == 1; n++)
                ;
        }
        rw_decoder_free(dec);
        rw_chunk_free(ch);
    }
    volatile size_t text_sink = textlen;
    (void)text_sink;

    /* rewind stats over it, in cProfile's window (which reads the import audit
     * events' text) and over the whole trace with line times. */
    if (rw_reader_nevents(r) <= MAX_RECORDS) {
        for (int mode = 0; mode < 2; mode++) {
            rw_profile_opts po;
            rw_profile_opts_default(&po);
            po.cprofile = mode;
            po.lines = !mode;
            rw_profile *p = NULL;
            if (rw_profile_run(r, &po, &p, &err) == RW_OK)
                (void)rw_profile_strip_dirs(p, &err);
            rw_profile_free(p);
        }
    }

    /* Every input record, touching its bytes. */
    rw_inputs_iter *it = NULL;
    if (rw_inputs_iter_open(r, &it, &err) == RW_OK) {
        rw_input in;
        uint64_t n = 0, sum = 0;
        while (n < MAX_RECORDS && rw_inputs_iter_next(it, &in, &err) == 1) {
            n++;
            sum += in.thread + in.call + in.seq + (uint64_t)in.result + in.flags;
            if (in.key_len)
                sum += in.key[0] + in.key[in.key_len - 1];
            if (in.data_len)
                sum += in.data[0] + in.data[in.data_len - 1];
            (void)rw_call_name(in.call);
        }
        volatile uint64_t sink = sum;
        (void)sink;
        rw_inputs_iter_free(it);
    }

    rw_cursor *c = NULL;
    if (rw_cursor_new(r, 0, SIZE_MAX, &c, &err) == RW_OK) {
        rw_event ev;
        uint64_t n = 0, bytes = 0;
        while (n < MAX_RECORDS && rw_cursor_next(c, &ev, &err) == 1) {
            n++;
            if (ev.text)
                for (size_t i = 0; i < ev.text_len; i++)
                    bytes += (uint8_t)ev.text[i];
            if ((n & 63) == 0)
                stacks_touch(c, r);
        }
        volatile uint64_t sink = bytes;
        (void)sink;
        uint64_t nev = rw_reader_nevents(r);
        uint64_t targets[] = {0, nev / 3, nev / 2, nev, nev + 1, 1};
        for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
            if (rw_cursor_seek(c, targets[i], &err) != RW_OK)
                continue;
            stacks_touch(c, r);
            for (int k = 0; k < 4 && rw_cursor_next(c, &ev, &err) == 1; k++)
                ;
        }
        rw_cursor_free(c);
    }
    rw_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    exercise(data, size);
    uint8_t *fixed = malloc(size ? size : 1);
    if (!fixed)
        return 0;
    memcpy(fixed, data, size);
    fix_crcs(fixed, size);
    if (size && memcmp(fixed, data, size) != 0)
        exercise(fixed, size);
    free(fixed);
    return 0;
}
