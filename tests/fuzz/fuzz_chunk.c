/* Fuzz target for the chunk codec's decoder: the input is a rewind.Chunk payload
 * (what a CHUNK frame holds once decompressed). Decodes it and walks every record
 * with id limits like a small trace's, then again with wide limits, no first
 * lines and a time shift, then skipping allocations and untimed lines, and its thread
 * runs (rw_chunk_thread_runs). (Not with lim == NULL: unchecked thread ids make the
 * decoder size its stack table by the id, up to 2^25 entries; readers of files
 * always pass limits.) Seeds: tests/fuzz/corpus/fuzz_chunk/,
 * the chunk payloads of raw-codec traces. */
#include <stdint.h>
#include <stdlib.h>

#include "codec.h"

#define MAX_RECORDS (1u << 20)

static void walk(const rw_chunk *c, const rw_id_limits *lim, unsigned shift, unsigned flags)
{
    rw_decoder *d = NULL;
    rw_err err;
    if (rw_decoder_new(c, lim, shift, &d, &err) != RW_OK)
        return;
    rw_decoder_set_flags(d, flags);
    rw_event ev;
    volatile uint64_t sink = 0;
    for (uint32_t n = 0; n < MAX_RECORDS && rw_decoder_next(d, &ev, &err) == 1; n++) {
        const rw_stack *st = rw_decoder_stack(d, ev.thread);
        if (st && st->depth)
            sink += st->frames[st->depth - 1].code;
        for (size_t i = 0; ev.text && i < ev.text_len; i++)
            sink += (uint8_t)ev.text[i];
    }
    for (size_t i = 0; i < rw_decoder_nstacks(d) && i < 64; i++)
        sink += rw_decoder_stack_at(d, i)->depth;
    (void)sink;
    rw_decoder_free(d);
}

/* rw_chunk_thread_runs' fn: the engine's thread order, counted. */
static int count_run(void *ctx, uint64_t pos, uint32_t audits, uint32_t thread, uint32_t tail,
                     uint64_t drop)
{
    (void)ctx;
    volatile uint64_t sink = pos + thread + audits + tail + drop;
    (void)sink;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rw_chunk *c = NULL;
    rw_err err;
    if (rw_chunk_decode(data, size, &c, &err) != RW_OK)
        return 0;
    static const uint32_t first_lines[4] = {0, 1, 3, 10};
    rw_id_limits lim = {3, 2, 2, 2, first_lines};
    walk(c, &lim, 0, 0);
    rw_id_limits wide = {1000, 1000, 1000, 1000, NULL};
    walk(c, &wide, 3, 0);
    walk(c, &wide, 0, RW_DECODE_SKIP_ALLOCS | RW_DECODE_SKIP_UNTIMED_LINES);
    rw_runs_state st = {0};
    (void)rw_chunk_thread_runs(c, 2, &st, count_run, NULL, &err);
    rw_chunk_free(c);
    return 0;
}
