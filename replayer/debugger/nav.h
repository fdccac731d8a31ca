/* Navigator: the session engine's random access to a trace as a sequence of numbered
 * events, with the shadow stack of any thread at any event, and searches forwards and
 * backwards. (Named apart from export's Perfetto timeline and memory's timeline.)
 *
 * A forward search decodes chunks in order from the starting position; a backward
 * search decodes the chunk holding the starting position, then the one before, and so
 * on, never scanning from the start of the trace. Decoded chunks are kept in a small
 * cache (the last few used), so stepping to and fro around one place decodes nothing.
 * Chunks are decoded against the reader's id limits (rw_reader_decoder_new), so the
 * debugger accepts and rejects exactly the chunks every other command does.
 * A navigator belongs to one thread; the reader it reads may be shared.
 */
#ifndef RW_NAV_H
#define RW_NAV_H

#include <stdint.h>

#include "codec.h"
#include "reader.h"

typedef struct rw_nav rw_nav;

/* Returns a new navigator over r (which must outlive it) in *out; caller frees with
 * rw_nav_free. RW_ENOMEM when out of memory. */
rw_code rw_nav_new(const rw_reader *r, rw_nav **out, rw_err *err);
void rw_nav_free(rw_nav *nav);

uint64_t rw_nav_nevents(const rw_nav *nav);

/* The state at event pos (pos < rw_nav_nevents): the event in *ev (its text is
 * copied into the navigator and stays valid until the next rw_nav_at) and the
 * shadow stack of its thread in *st: after the event for CALL, LINE and EXCEPTION
 * (and C events), and before it for RETURN, so that a returning frame is still on
 * the stack, as a debugger stopped at a return sees it. st is the caller's storage
 * (zero-initialised the first time, then reused; free its frames with free()).
 * RW_EINVAL when pos is out of range; decode errors as the reader gives them. */
rw_code rw_nav_at(rw_nav *nav, uint64_t pos, rw_event *ev, rw_stack *st, rw_err *err);

/* What a search shows its predicate: one record and the shadow stack of the
 * record's thread after it (for RETURN the frame is already popped; ev->call_pos
 * and ev->depth name it). Returns non-zero for "this one". Predicates of forward
 * searches see records in order and may keep state; predicates of backward
 * searches must be pure (records of a chunk are shown in order and the last match
 * wins). */
typedef int (*rw_nav_match)(void *ctx, const rw_event *ev, const rw_stack *st);

/* Flags for the searches. */
#define RW_NAV_EVENTS 0   /* show events only */
#define RW_NAV_ALL 1      /* show annotations too (allocations, audit, threads, ...) */

/* Forward search: the first record after event `from` (pos > from; from may be
 * UINT64_MAX to start at event 0) and before event `end` (pos < end) that m
 * accepts. Its position goes to *found. RW_ENOTFOUND when none does. */
rw_code rw_nav_next(rw_nav *nav, uint64_t from, uint64_t end, int flags, rw_nav_match m,
                    void *ctx, uint64_t *found, rw_err *err);

/* Backward search: the last event with begin <= pos < from that m accepts, in
 * *found. RW_ENOTFOUND when none does. Decodes chunks from the one holding `from`
 * backwards and stops at the first chunk with a match. */
rw_code rw_nav_prev(rw_nav *nav, uint64_t from, uint64_t begin, rw_nav_match m, void *ctx,
                    uint64_t *found, rw_err *err);

/* Searches confined to the events of one frame: frame_call is the position of the
 * CALL that opened the frame, thread its thread. They behave as rw_nav_next /
 * rw_nav_prev (events only), but skip the events of the frame's callees without
 * reading them when chunk keyframes show a callee running across chunk boundaries (a
 * call that spans a million events costs a few keyframe reads instead of its
 * decode). m must accept no event inside those callees. */
rw_code rw_nav_next_in_frame(rw_nav *nav, uint64_t from, uint64_t end, uint32_t thread,
                             uint64_t frame_call, rw_nav_match m, void *ctx, uint64_t *found,
                             rw_err *err);
rw_code rw_nav_prev_in_frame(rw_nav *nav, uint64_t from, uint64_t begin, uint32_t thread,
                             uint64_t frame_call, rw_nav_match m, void *ctx, uint64_t *found,
                             rw_err *err);

/* The RETURN of the frame opened at frame_call (of thread) after event from, in
 * *found: found over chunk keyframes (galloping then bisecting to the last chunk that
 * opens with the frame on the stack), so a frame that runs for millions of events
 * costs a few keyframe reads and one chunk scan. RW_ENOTFOUND when it never returns. */
rw_code rw_nav_frame_return(rw_nav *nav, uint64_t from, uint32_t thread, uint64_t frame_call,
                            uint64_t *found, rw_err *err);

/* Visits every record (events and annotations) with from <= pos < to, in order,
 * until fn returns non-zero. */
rw_code rw_nav_visit(rw_nav *nav, uint64_t from, uint64_t to, rw_nav_match fn, void *ctx,
                     rw_err *err);

/* Chunks decoded so far (cache misses): what the benchmark reports. */
uint64_t rw_nav_decodes(const rw_nav *nav);

/* Restricts rw_nav_next and rw_nav_prev to chunks whose line filter
 * (codec.h) may hold one of the n (code << 32 | line) pairs: the others are skipped
 * without being decoded. Only for a predicate that accepts nothing but LINE events at
 * those pairs (continue and rcontinue between breakpoints). pairs is borrowed until
 * the next call; rw_nav_set_line_filter(nav, NULL, 0) searches every chunk again. */
void rw_nav_set_line_filter(rw_nav *nav, const uint64_t *pairs, size_t n);

/* Chunks the line filter let searches skip so far. */
uint64_t rw_nav_skips(const rw_nav *nav);

#endif
