/* Trace reader: opens a trace file, loads its index, metadata and definitions, and
 * gives cursors over its records in global order with seeking by event number.
 *
 * A file without a valid footer (cut short by a kill, a crash or a full disk) is read
 * by scanning its frames up to the first damaged one; rw_reader_recovery says what
 * was recovered. Every malformed input gives an error value, never a crash, a hang or
 * an unbounded allocation. A reader may be shared by several threads once opened
 * (it is read-only); a cursor belongs to one thread.
 */
#ifndef RW_READER_H
#define RW_READER_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "error.h"
#include "rewind.pb-c.h"
#include "vocab.h"

typedef struct rw_reader rw_reader;

/* Opens path and loads everything but the chunks. Returns a new reader in *out
 * (caller frees with rw_reader_free). Errors: RW_EIO (cannot open or read: message
 * names the file and the OS error), RW_ECORRUPT (not a trace, or the header, metadata
 * or definitions are damaged), RW_EVERSION. */
rw_code rw_reader_open(const char *path, rw_reader **out, rw_err *err);

/* Same, on a file image in memory (the fuzz target uses it). buf must outlive r. */
rw_code rw_reader_open_mem(const uint8_t *buf, size_t len, const char *name, rw_reader **out,
                           rw_err *err);
void rw_reader_free(rw_reader *r);

/* A reader that a recovery scan opened (no valid footer: a file still being written,
 * such as the replay engine's own trace) reads the frames appended since, going on
 * from the first frame the last scan could not read, so that following a growing file
 * costs its new frames only. Chunks found so are not decoded ahead: they carry no line
 * filter and their last tick is their first (a cursor still decodes and checks them). Nothing new, or a reader read from its index or from
 * memory: RW_OK, no change. Not while other threads or cursors use the reader.
 * RW_EIO when the file cannot be stat'ed or shrank; RW_ENOMEM. */
rw_code rw_reader_refresh(rw_reader *r, rw_err *err);

/* What recovery found. used == 0 when the file had a valid footer. */
typedef struct rw_recovery {
    int used;
    uint64_t chunks;
    uint64_t events;
    uint64_t good_bytes;   /* the file is intact up to here */
    uint64_t file_bytes;
    char why[160];         /* what stopped the scan ("bad CRC in frame 12") */
} rw_recovery;
const rw_recovery *rw_reader_recovery(const rw_reader *r);

/* Decoded messages. Borrowed; valid until rw_reader_free. end is NULL when the run
 * was cut short (no END frame). */
const Rewind__Metadata *rw_reader_metadata(const rw_reader *r);

/* Whether the recording lists `name` in Metadata.features (docs/format.md, "Features");
 * md may be NULL. */
int rw_meta_has_feature(const Rewind__Metadata *md, const char *name);
const Rewind__RunEnd *rw_reader_end(const rw_reader *r);

/* Crash, timeout and dump reports (CRASH frames), in file order. rw_reader_crash
 * returns report i (borrowed; NULL when i is out of range) and, in *pos, the number
 * of events before it. A CRASH frame that does not decode is skipped. */
size_t rw_reader_ncrashes(const rw_reader *r);
const Rewind__CrashReport *rw_reader_crash(const rw_reader *r, size_t i, uint64_t *pos);

/* Definitions, indexed by id (vocab.h: rw_defs and its bounded lookups). Borrowed;
 * valid until rw_reader_free. */
const rw_defs *rw_reader_defs(const rw_reader *r);

/* Checks chunk i's frame as stored (header, bounds, payload CRC, zstd framing)
 * without decoding it: RW_OK, or RW_ECORRUPT naming the frame, its offset and the
 * chunk's events. Reading a whole trace this way costs a CRC pass over the file
 * (`rewind info` does it). Thread-safe. */
rw_code rw_reader_check_chunk(const rw_reader *r, size_t i, rw_err *err);

/* Chunks, in order. */
size_t rw_reader_nchunks(const rw_reader *r);
const rw_chunk_info *rw_reader_chunk(const rw_reader *r, size_t i);
uint64_t rw_reader_nevents(const rw_reader *r);
uint64_t rw_reader_nrecords(const rw_reader *r);
uint64_t rw_reader_file_size(const rw_reader *r);
unsigned rw_reader_time_shift(const rw_reader *r);
/* Events per fingerprint group (format/fprint.h), or 0 when the trace's chunks carry
 * no fingerprints (an older trace, or one whose index was lost and rebuilt). Chunks
 * whose count of fingerprints is not the number of groups that end in them have none
 * (rw_chunk_info.nfps 0). */
unsigned rw_reader_fp_group(const rw_reader *r);
/* Index of the chunk holding event pos (the last chunk whose first_event <= pos). */
size_t rw_reader_find_chunk(const rw_reader *r, uint64_t pos);

/* Reads, checks and decodes chunk i into a new chunk (caller frees with
 * rw_chunk_free). Thread-safe. */
rw_code rw_reader_load_chunk(const rw_reader *r, size_t i, rw_chunk **out, rw_err *err);

/* The order of the threads' events and audit records: fn (codec.h's rw_run_fn) for
 * the first one and for each one whose thread differs from the previous one's, in
 * order. Decodes no event (each
 * chunk's kinds and thread switches only): several times faster than a cursor. fn
 * returns nonzero when out of memory (RW_ENOMEM). Errors: the chunks' (RW_ECORRUPT
 * for a thread id the definitions before a chunk do not hold). */
rw_code rw_reader_thread_runs(const rw_reader *r, rw_run_fn fn, void *ctx, rw_err *err);

/* The id limits chunk i is decoded against: the one rule every reader of the trace
 * follows. An id a chunk uses is valid when 1 <= id <= the number of definitions of
 * its table that DEFINITIONS frames before the chunk (in file order) hold; thread and
 * name ids may also be 0 ("unknown"). This is the schema's "every id a chunk uses is
 * defined in a DEFINITIONS frame that precedes the chunk" (rewind.proto): an id that
 * only a later frame defines makes the chunk corrupt for every command alike. The
 * first-line array covers every code of the file and is borrowed from the reader.
 * i must be < rw_reader_nchunks (asserted). */
void rw_reader_chunk_limits(const rw_reader *r, size_t i, rw_id_limits *out);

/* A new decoder over chunk c, which is chunk i of this reader as rw_reader_load_chunk
 * returned it, with that chunk's id limits (rw_reader_chunk_limits) and the file's
 * time shift: the way to decode a chunk outside a cursor. Errors are prefixed with
 * the file, frame and offset. Caller frees with rw_decoder_free; c must outlive it. */
rw_code rw_reader_decoder_new(const rw_reader *r, size_t i, const rw_chunk *c,
                              rw_decoder **out, rw_err *err);

/* ---- cursor ------------------------------------------------------------------ */

typedef struct rw_cursor rw_cursor;

/* Returns a new cursor before the first record of chunk `first` that stops after
 * chunk `last` (inclusive; use SIZE_MAX for the end). Caller frees it. */
rw_code rw_cursor_new(const rw_reader *r, size_t first, size_t last, rw_cursor **out,
                      rw_err *err);
void rw_cursor_free(rw_cursor *c);

/* Decoder flags (codec.h: RW_DECODE_SKIP_ALLOCS) for the chunks this cursor loads.
 * Call right after rw_cursor_new; a later call takes effect from the next chunk the
 * cursor loads (every seek to another chunk reloads). Positions are unaffected. */
void rw_cursor_set_flags(rw_cursor *c, unsigned flags);

/* Next record in global order: 1 = *ev filled, 0 = end, -1 = error (err filled; the
 * records before stay valid). */
int rw_cursor_next(rw_cursor *c, rw_event *ev, rw_err *err);

/* Frees the loaded chunk and its decoder (the memory they hold), keeping the place: the
 * next rw_cursor_next loads the chunk again and decodes up to the same record. Stacks
 * and thread are unknown (NULL, 0) until then. For a process that keeps a cursor idle
 * for long (the engine's checkpoints). */
void rw_cursor_unload(rw_cursor *c);

/* Moves so that the next rw_cursor_next returns the event numbered pos (the first
 * record whose pos equals it: annotations before that event come first). */
rw_code rw_cursor_seek(rw_cursor *c, uint64_t pos, rw_err *err);

/* Shadow stacks after the last record returned. Borrowed; valid until the next call
 * on the cursor. NULL for a thread not seen yet. */
const rw_stack *rw_cursor_stack(const rw_cursor *c, uint32_t thread);
uint32_t rw_cursor_thread(const rw_cursor *c);

/* The trace's time base (vocab.h: rw_timebase_of over its metadata and first chunk). */
rw_timebase rw_reader_timebase(const rw_reader *r);

/* Absolute tick -> nanoseconds since the start of the recording, by
 * rw_reader_timebase's rule. */
double rw_reader_tick_ns(const rw_reader *r, uint64_t tick);

#endif
