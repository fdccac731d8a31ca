/* Columnar chunk codec: raw records <-> rewind.Chunk messages, with shadow stacks.
 *
 * The encoder runs on the writer thread: it is fed raw records (format/records.h) in
 * global order, keeps a shadow stack per thread (for line deltas and keyframes) and
 * packs them into the columns of one Chunk at a time. The decoder does the inverse
 * for one chunk, starting from the chunk's keyframe, so chunks decode independently.
 * Neither knows anything of Python. Objects here are not thread-safe; use one per
 * thread.
 *
 * Files: encoder.c (the encoder and the Chunk message it writes), chunk.c (the Chunk
 * parser, rw_chunk_decode), decoder.c (the decoder); their shared privates are
 * codec_varint.h (varints), codec_column.h (growable columns), codec_stacks.h (shadow
 * stack rules), codec_addr.h (address coding) and codec_chunk.h (a parsed chunk's
 * layout); filter.h is the line filter.
 */
#ifndef RW_CODEC_H
#define RW_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "filter.h"
#include "records.h"

/* Deepest shadow stack kept: frames opened beyond it (a runaway recursion under a
 * raised recursion limit) are counted, not stored; events' depth includes them. */
#define RW_STACK_MAX (1u << 20)

/* One frame of a shadow stack. `line` is kept apart from `code` on purpose: the
 * decoder writes line (4 bytes) on every LINE and reads code right after; adjacent,
 * the two reads merge into one 8-byte load that cannot be forwarded from the 4-byte
 * store, a stall that was a third of the decoder's time. */
typedef struct rw_frame {
    uint32_t code;      /* CodeDef id (Python frame) or CFuncDef id (is_c) */
    uint8_t is_c;
    uint64_t call_pos;  /* event number of the call that opened the frame */
    uint64_t call_tick; /* absolute tick of that call */
    uint32_t line;      /* current line of a Python frame; 0 for C frames */
} rw_frame;

typedef struct rw_stack {
    uint32_t thread; /* ThreadDef id */
    uint32_t depth;
    uint32_t cap;
    rw_frame *frames; /* frames[0] is the outermost */
} rw_stack;

/* Summary of one encoded chunk (also what the index stores). */
typedef struct rw_chunk_info {
    uint64_t first_event;
    uint64_t event_count;
    uint64_t record_count;
    uint64_t first_tick;
    uint64_t last_tick;
    /* The chunk's line filter (IndexEntry.line_filter), or NULL and 0 when it has
     * none: then any line may be in the chunk. Borrowed: from the encoder, valid
     * until its next call; from the reader, as long as the reader. */
    const uint8_t *filter;
    uint32_t filter_len;
    /* The fingerprints of the groups of events that end in the chunk (format/fprint.h;
     * IndexEntry.fingerprint), in order, or NULL and 0. Borrowed, as the filter. */
    const uint64_t *fps;
    uint32_t nfps;
} rw_chunk_info;

/* ---- encoder ---------------------------------------------------------------- */

typedef struct rw_encoder rw_encoder;

/* Returns a new encoder (caller frees with rw_encoder_free), or NULL when out of
 * memory. time_shift: stored time deltas are tick deltas >> time_shift. */
rw_encoder *rw_encoder_new(unsigned time_shift);
void rw_encoder_free(rw_encoder *e);

/* Line events carry a time (on) or take the previous event's (off, the default:
 * their raw tick is ignored). Takes effect at the next chunk. */
void rw_encoder_set_line_times(rw_encoder *e, int on);

/* Tells the encoder a code object's first line (CALL lines are stored relative to
 * it). Call before feeding the first CALL of that code id. */
rw_code rw_encoder_def_code(rw_encoder *e, uint32_t id, uint32_t first_line);

/* Feeds up to n raw records, whole entries only (a record that takes a BLOB goes
 * with its BLOB and text records), stopping early once the current chunk holds
 * max_pending records. *consumed gets the number of records taken; the caller
 * finishes the chunk and feeds the rest. Returns RW_ENOMEM when a column cannot
 * grow, RW_EINVAL on a malformed raw entry (a recorder bug). */
rw_code rw_encoder_feed(rw_encoder *e, const rw_rec *recs, size_t n, uint64_t max_pending,
                        size_t *consumed, rw_err *err);

/* Records buffered in the current chunk. */
uint64_t rw_encoder_pending(const rw_encoder *e);

/* 1 when the last record fed was a GEN: its CALL comes next, and a chunk should not end
 * between them (the decoder gives the CALL the GEN's address within a chunk only). */
int rw_encoder_after_gen(const rw_encoder *e);

/* Serialises the current chunk as a rewind.Chunk message into *buf, a malloc'd buffer
 * of *cap bytes that grows (realloc) when the chunk needs more (*buf may be NULL with
 * *cap 0), so that a writer keeping one buffer touches no fresh memory per chunk;
 * *out_len gets the message's length. Describes it in *info and starts the next chunk
 * (whose keyframe is the shadow stacks as they are now). Must not be called with no
 * pending records. */
rw_code rw_encoder_finish_into(rw_encoder *e, uint8_t **buf, size_t *cap, size_t *out_len,
                               rw_chunk_info *info, rw_err *err);

/* Same, into a new malloc'd buffer (*out, *out_len; caller frees). */
rw_code rw_encoder_finish(rw_encoder *e, uint8_t **out, size_t *out_len, rw_chunk_info *info,
                          rw_err *err);

/* Totals over everything fed so far. */
uint64_t rw_encoder_events(const rw_encoder *e);
uint64_t rw_encoder_records(const rw_encoder *e);
const uint64_t *rw_encoder_kind_counts(const rw_encoder *e); /* RW_KIND_MAX entries */
uint64_t rw_encoder_last_tick(const rw_encoder *e);

/* ---- decoder ---------------------------------------------------------------- */

/* One decoded record. Text is borrowed from the chunk and valid until the chunk is
 * freed. For annotations (allocations, audit, ...), pos is the number of events
 * before the record and tick the time of the last event before it. */
typedef struct rw_event {
    uint8_t kind;     /* rw_kind */
    uint32_t thread;  /* ThreadDef id of the thread it happened in */
    uint64_t pos;
    uint64_t tick;
    uint32_t code;    /* CALL, LINE, RETURN, EXCEPTION: the frame's CodeDef id;
                         C_*: CFuncDef id; others: the code of the thread's top
                         Python frame, 0 if none */
    uint32_t line;    /* CALL, LINE: its line; others: the top Python frame's line */
    uint32_t depth;   /* stack depth of the thread after a CALL/C_CALL and before a
                         RETURN/C_RETURN/C_EXCEPTION, i.e. the frame's own depth
                         (outermost = 1); others: current depth */
    uint64_t call_pos;  /* RETURN, C_RETURN, C_EXCEPTION: the matching call's pos */
    uint64_t call_tick; /* and its tick (0 when the call came before the recording) */
    uint64_t size;      /* ALLOC_*: bytes */
    uint64_t addr;      /* ALLOC_*, FREE_*: address; GEN, and the CALL right after a GEN:
                           the generator's or coroutine's frame (0: none) */
    uint32_t name;      /* EXCEPTION, UNCAUGHT, AUDIT: NameDef id; THREAD: new thread */
    const char *text;   /* EXCEPTION, UNCAUGHT: message; AUDIT: arguments */
    size_t text_len;
} rw_event;

/* A decoded chunk: the message plus its info. Owns its memory. */
typedef struct rw_chunk rw_chunk;

/* What a decoder checks ids against: an id is valid when 1 <= id <= the count
 * (threads and names may also be 0, "unknown"). code_first_line[id] is the first
 * line of code id (an array of codes + 1 entries), or NULL when unknown (then CALL
 * lines decode relative to 0). */
typedef struct rw_id_limits {
    uint32_t codes, cfuncs, threads, names;
    const uint32_t *code_first_line;
} rw_id_limits;

/* Unpacks a rewind.Chunk payload into a new chunk (caller frees with
 * rw_chunk_free). Checks column lengths against the kinds column. RW_ECORRUPT with a
 * message naming the column when they disagree. */
rw_code rw_chunk_decode(const uint8_t *payload, size_t len, rw_chunk **out, rw_err *err);
/* Same, taking payload, a malloc'd buffer of len bytes: the chunk keeps it (its
 * columns are read in place) and frees it, on error too. Saves a copy. */
rw_code rw_chunk_decode_take(uint8_t *payload, size_t len, rw_chunk **out, rw_err *err);
void rw_chunk_free(rw_chunk *c);
const rw_chunk_info *rw_chunk_get_info(const rw_chunk *c);

/* What rw_chunk_thread_runs carries from one chunk to the next: the thread of the
 * last event or AUDIT record (0 for none), the AUDIT records since the last event, and
 * the records of that thread since its last event (its tail: allocations, frees, AUDIT
 * and other records), and the spot of a DROP record after them (0: none). Zero it
 * before the first chunk. */
typedef struct rw_runs_state {
    uint32_t last;
    uint32_t audits;
    uint32_t tail;
    uint64_t drop;
} rw_runs_state;

/* One run of the threads (rw_chunk_thread_runs, rw_reader_thread_runs): thread's
 * records start at event pos, after `audits` AUDIT records (of any thread) at pos.
 * Audit records count: an audit event is raised in C, where the call may have let
 * another thread run before it or after it (a name lookup, a send with the GIL
 * released). tail: the records of the previous run's thread after its last event
 * (allocations, frees, AUDIT records: it let the GIL go after them; the engine makes
 * its thread let go there too), RAW allocations and frees left out: those of other
 * threads, made without the GIL, go through the recorder's side buffer and join the
 * stream where the next GIL holder drains it, a place no replay repeats (a finished
 * thread frees its thread state after it let the GIL go). drop: where that thread let
 * the GIL go, the spot of the DROP record after its tail (0: not at an eval-breaker
 * check it noted; DROP records are not in the tail). Nonzero: out of memory. */
typedef int (*rw_run_fn)(void *ctx, uint64_t pos, uint32_t audits, uint32_t thread,
                         uint32_t tail, uint64_t drop);

/* The thread runs of chunk c without decoding its events: fn for each event or AUDIT
 * record whose thread differs from the previous one's (st: carried across chunks).
 * Reads the kinds and the thread switches only. RW_ECORRUPT for a thread id above
 * max_thread; fn's nonzero return stops with RW_ENOMEM (fn ran out of memory). */
rw_code rw_chunk_thread_runs(const rw_chunk *c, uint32_t max_thread, rw_runs_state *st,
                             rw_run_fn fn, void *ctx, rw_err *err);

/* Iterates the records of one chunk, keeping the shadow stack of every thread. */
typedef struct rw_decoder rw_decoder;

/* Returns a new decoder positioned before the first record of chunk c (which must
 * outlive it), its stacks loaded from the keyframe. Ids are checked against lim
 * (copied; the first-line array must outlive the decoder), or not at all when lim
 * is NULL. */
rw_code rw_decoder_new(const rw_chunk *c, const rw_id_limits *lim, unsigned time_shift,
                       rw_decoder **out, rw_err *err);
void rw_decoder_free(rw_decoder *d);

/* Decoder options, set before the first rw_decoder_next. SKIP_ALLOCS: ALLOC_* and
 * FREE_* records are passed over without being decoded or returned (for analyses
 * that follow execution only: they go about twice as fast on allocation-heavy
 * traces). Positions are unaffected. */
#define RW_DECODE_SKIP_ALLOCS 1u
/* SKIP_UNTIMED_LINES: LINE events that carry no time of their own (recorded without
 * --line-times: their tick is the previous event's) are applied to the shadow stacks
 * but not returned, only counted by rw_decoder_lines_skipped (for analyses that need
 * no more of them, like a profile without line times). Positions are unaffected: the
 * next record's pos counts them. */
#define RW_DECODE_SKIP_UNTIMED_LINES 2u
void rw_decoder_set_flags(rw_decoder *d, unsigned flags);

/* LINE events passed over so far under RW_DECODE_SKIP_UNTIMED_LINES. */
uint64_t rw_decoder_lines_skipped(const rw_decoder *d);

/* Decodes the next record into *ev. Returns 1 when a record was decoded, 0 at the end
 * of the chunk, and -1 (err filled, RW_ECORRUPT) when the chunk is inconsistent. */
int rw_decoder_next(rw_decoder *d, rw_event *ev, rw_err *err);

/* The index in the chunk of the next record (skipped ones count): a new decoder of the
 * same chunk, with the same flags, that has reached it again is in the same state. */
size_t rw_decoder_index(const rw_decoder *d);

/* Shadow stacks as they are after the last decoded record. Borrowed; valid until the
 * next rw_decoder_next. rw_decoder_stack returns NULL for a thread never seen. */
size_t rw_decoder_nstacks(const rw_decoder *d);
const rw_stack *rw_decoder_stack_at(const rw_decoder *d, size_t i);
const rw_stack *rw_decoder_stack(const rw_decoder *d, uint32_t thread);
uint32_t rw_decoder_thread(const rw_decoder *d); /* thread current now */

#endif
