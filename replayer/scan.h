/* The scan pipeline: chunks -> decoded records -> a window of event positions and a
 * thread filter -> the analysis. Every analysis runs on it (profile, memory, coverage,
 * audit, export, timeit, position searches, the events command).
 *
 * Two modes share the window rule:
 *  - the iterator (rw_scan_open, rw_scan_next, rw_scan_stack): records in global order
 *    with the shadow stacks as they are after each one;
 *  - batches (rw_scan_batches): helper threads load and decode the next chunks into the
 *    analysis's own compact arrays while the caller's thread consumes the current one,
 *    in chunk order (profile's column scan: decoding costs far more than its work).
 * A scan belongs to the thread that opened it; the reader may be shared.
 *
 * The window is [from, to) over record positions (an event's number; for an
 * annotation, the number of events before it). to is not capped: the annotations
 * after the last event carry pos == rw_reader_nevents, so a window ending past the end
 * (UINT64_MAX) keeps them and one ending at the end drops them.
 */
#ifndef RW_SCAN_H
#define RW_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "reader.h"

typedef struct rw_scan_opts {
    uint64_t from, to; /* window of positions [from, to), see above */
    uint32_t thread;   /* ThreadDef id whose records are kept; 0 = every thread */
    unsigned decode;   /* RW_DECODE_* flags (codec.h), e.g. RW_DECODE_SKIP_ALLOCS */
} rw_scan_opts;

/* Fills o with: every record of every thread, nothing skipped. */
void rw_scan_opts_default(rw_scan_opts *o);

/* ---- the iterator ----------------------------------------------------------------- */

/* Private to this module; declared here so that rw_scan_next can be inlined in the
 * analyses' per-event loops (a call less per event). Invariants: cur == NULL means
 * the scan yields nothing more; while cur != NULL, every record it returned had
 * from <= pos < end, and end <= the window's to. */
typedef struct rw_scan {
    const rw_reader *r; /* for rw_scan_explain_damage on the error path */
    rw_cursor *cur;
    uint64_t from;   /* the window's start, for the asserts */
    uint64_t end;    /* first position past the window; 0 once the scan has ended */
    uint32_t thread; /* 0 = every thread */
} rw_scan;

/* Starts a scan of r over o's window, positioned before its first record (the first
 * record whose pos is >= from: annotations before event `from` come first). A window
 * that is empty (from >= to) or starts past the end (from > nevents) yields no record.
 * Returns a new scan in *out (caller frees with rw_scan_close). Errors: RW_ENOMEM,
 * RW_ECORRUPT / RW_EIO from loading the first chunk. */
rw_code rw_scan_open(const rw_reader *r, const rw_scan_opts *o, rw_scan **out, rw_err *err);
void rw_scan_close(rw_scan *s);

/* See "damage" below; declared first for rw_scan_next. */
rw_code rw_scan_explain_damage(const rw_reader *r, rw_err *err);

/* Next record of the window: 1 = *ev filled, 0 = the window is done (and stays done),
 * -1 = the trace is damaged there (err filled, rw_scan_explain_damage's words; the
 * records before stay valid). Text in *ev is borrowed until the scan moves to another
 * chunk. */
static inline int rw_scan_next(rw_scan *s, rw_event *ev, rw_err *err)
{
    int rc;
    if (RW_UNLIKELY(!s->cur))
        return 0;
    while ((rc = rw_cursor_next(s->cur, ev, err)) == 1) {
        if (RW_UNLIKELY(ev->pos >= s->end)) {
            s->end = 0; /* done: every later record is past the end too */
            return 0;
        }
        if (s->thread && ev->thread != s->thread)
            continue;
        return 1;
    }
    if (RW_UNLIKELY(rc < 0))
        rw_scan_explain_damage(s->r, err); /* cold: once, at the end of the scan */
    return rc;
}

/* Shadow stack of thread after the last record returned (its own frame included for
 * a CALL, still included for a RETURN). Borrowed; valid until the next rw_scan_next.
 * NULL for a thread not seen yet. */
static inline const rw_stack *rw_scan_stack(const rw_scan *s, uint32_t thread)
{
    return s->cur ? rw_cursor_stack(s->cur, thread) : NULL;
}

/* ---- batches ---------------------------------------------------------------------- */

/* What an analysis gives rw_scan_batches. Each batch is the analysis's own buffer
 * (one per pipeline slot, reused from chunk to chunk: *batch is NULL the first time,
 * and what fill leaves there is passed back next time and to free_batch at the end). */
typedef struct rw_scan_batch_ops {
    unsigned decode; /* RW_DECODE_* flags for every chunk's decoder */
    /* On a helper thread (several at once): turns chunk `index` (info ci, decoder d
     * positioned before its first record) into *batch. fill_ctx is only read. */
    rw_code (*fill)(const void *fill_ctx, size_t index, const rw_chunk_info *ci,
                    rw_decoder *d, void **batch, rw_err *err);
    /* On the caller's thread, once per chunk in order: 0 to go on, 1 to stop early,
     * -1 on error (err filled). */
    int (*take)(void *take_ctx, size_t index, void *batch, rw_err *err);
    void (*free_batch)(void *batch);
    const void *fill_ctx;
    void *take_ctx;
} rw_scan_batch_ops;

/* Runs the chunks holding the events of [from, to) (to capped at the end) through
 * ops: fill on helper threads a few chunks ahead, take in order. Each chunk's decoder
 * is the reader's (rw_reader_decoder_new: the chunk's own id limits), as under the
 * iterator, so both modes accept and reject the same chunks. Returns RW_OK, take's
 * error, or fill's for the first chunk that failed (RW_ECORRUPT, RW_EIO, RW_ENOMEM);
 * a damaged chunk is reported in the reader's words (file, frame, offset), as by the
 * iterator. An empty trace calls nothing. */
rw_code rw_scan_batches(const rw_reader *r, uint64_t from, uint64_t to,
                        const rw_scan_batch_ops *ops, rw_err *err);

/* ---- damage ---------------------------------------------------------------------- */

/* The one way every reader of chunks says how much of a damaged trace is intact. For an
 * error about a damaged chunk (RW_ECORRUPT or RW_EIO naming "frame N at offset O" as the
 * reader and the decoder word them), rw_scan_damage_at finds that chunk's first event
 * (the events before it are intact): 1 and *first, else 0 (another error, or no chunk of
 * r matches). A decoder error names it ("chunk at event E"); a load error (bad CRC,
 * zstd) only names the frame, so the chunks' CRCs are checked up to the one that fails
 * the same way (a CRC pass over the file on the error path, as `rewind info` makes).
 * rw_scan_explain_damage appends "; the first E events are intact" to such an error
 * (once: a second call leaves it alone) and returns err->code. The scan's iterator and
 * batches call it on their errors; commands that read chunks otherwise call it too. */
int rw_scan_damage_at(const rw_reader *r, const rw_err *err, uint64_t *first);

/* ---- the background check ----------------------------------------------------------- */

/* Decodes every chunk of r on a thread of its own and keeps the first damaged one: for
 * a reader that jumps over chunks without decoding them (the debugger's continue and
 * goto), so that damage it runs over is still found and said. The reader must outlive
 * the check. Errors: RW_ENOMEM, RW_EIO (no thread). */
typedef struct rw_scan_check rw_scan_check;
rw_code rw_scan_check_start(const rw_reader *r, rw_scan_check **out, rw_err *err);

/* 1 when the check found a damaged chunk: its first event in *first and the error in
 * *err (explained as by rw_scan_explain_damage); 0 while it runs or when every chunk
 * decoded. rw_scan_check_poll never blocks; rw_scan_check_wait waits for the end. */
int rw_scan_check_poll(rw_scan_check *c, uint64_t *first, rw_err *err);
int rw_scan_check_wait(rw_scan_check *c, uint64_t *first, rw_err *err);

/* Holds every background check of the process back (on) before its next chunk, or lets
 * them go on (off; calls nest). The debugger holds them while the re-execution engine
 * runs to a position, so that the engine and its check have the cores: the damage check
 * goes on while the user reads, and rw_scan_check_wait is never held back. */
void rw_scan_check_hold(int on);

/* Stops the check where it is (without decoding the rest), joins and frees it. NULL is
 * a no-op. */
void rw_scan_check_free(rw_scan_check *c);

/* ---- process set-up ------------------------------------------------------------- */

/* Tunes glibc's malloc for scans: chunk buffers of a few MB allocated and freed on
 * helper threads stay in the heap for reuse instead of being unmapped and faulted
 * in again for every chunk (a third of stats' run time on a 42 M-event trace).
 * Process-wide: call once from main, never in a recorded process (its malloc must
 * behave as under python3). */
void rw_scan_tune_malloc(void);

#endif
