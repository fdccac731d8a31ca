/* Timeline: the debugger's view of a trace as a sequence of numbered events, with
 * the shadow stack of any thread at any event, and searches forwards and backwards.
 *
 * A forward search decodes chunks in order from the starting position; a backward
 * search decodes the chunk holding the starting position, then the one before, and so
 * on, never scanning from the start of the trace. Decoded chunks are kept in a small
 * cache (the last few used), so stepping to and fro around one place decodes nothing.
 * A timeline belongs to one thread; the reader it reads may be shared.
 */
#ifndef RW_TIMELINE_H
#define RW_TIMELINE_H

#include <stdint.h>

#include "codec.h"
#include "reader.h"

typedef struct rw_timeline rw_timeline;

/* Returns a new timeline over r (which must outlive it) in *out; caller frees with
 * rw_timeline_free. RW_ENOMEM when out of memory. */
rw_code rw_timeline_new(const rw_reader *r, rw_timeline **out, rw_err *err);
void rw_timeline_free(rw_timeline *t);

uint64_t rw_timeline_nevents(const rw_timeline *t);

/* The state at event pos (pos < rw_timeline_nevents): the event in *ev (its text is
 * copied into the timeline and stays valid until the next rw_timeline_at) and the
 * shadow stack of its thread in *st: after the event for CALL, LINE and EXCEPTION
 * (and C events), and before it for RETURN, so that a returning frame is still on
 * the stack, as a debugger stopped at a return sees it. st is the caller's storage
 * (zero-initialised the first time, then reused; free its frames with free()).
 * RW_EINVAL when pos is out of range; decode errors as the reader gives them. */
rw_code rw_timeline_at(rw_timeline *t, uint64_t pos, rw_event *ev, rw_stack *st,
                       rw_err *err);

/* What a search shows its predicate: one record and the shadow stack of the
 * record's thread after it (for RETURN the frame is already popped; ev->call_pos
 * and ev->depth name it). Returns non-zero for "this one". Predicates of forward
 * searches see records in order and may keep state; predicates of backward
 * searches must be pure (records of a chunk are shown in order and the last match
 * wins). */
typedef int (*rw_tl_match)(void *ctx, const rw_event *ev, const rw_stack *st);

/* Flags for the searches. */
#define RW_TL_EVENTS 0   /* show events only */
#define RW_TL_ALL 1      /* show annotations too (allocations, audit, threads, ...) */

/* Forward search: the first record after event `from` (pos > from; from may be
 * UINT64_MAX to start at event 0) and before event `end` (pos < end) that m
 * accepts. Its position goes to *found. RW_ENOTFOUND when none does. */
rw_code rw_timeline_next(rw_timeline *t, uint64_t from, uint64_t end, int flags, rw_tl_match m,
                         void *ctx, uint64_t *found, rw_err *err);

/* Backward search: the last event with begin <= pos < from that m accepts, in
 * *found. RW_ENOTFOUND when none does. Decodes chunks from the one holding `from`
 * backwards and stops at the first chunk with a match. */
rw_code rw_timeline_prev(rw_timeline *t, uint64_t from, uint64_t begin, rw_tl_match m,
                         void *ctx, uint64_t *found, rw_err *err);

/* Searches confined to the events of one frame: frame_call is the position of the
 * CALL that opened the frame, thread its thread. They behave as rw_timeline_next /
 * rw_timeline_prev (events only), but skip the events of the frame's callees without
 * reading them when chunk keyframes show a callee running across chunk boundaries (a
 * call that spans a million events costs a few keyframe reads instead of its
 * decode). m must accept no event inside those callees. */
rw_code rw_timeline_next_frame(rw_timeline *t, uint64_t from, uint64_t end, uint32_t thread,
                               uint64_t frame_call, rw_tl_match m, void *ctx, uint64_t *found,
                               rw_err *err);
rw_code rw_timeline_prev_frame(rw_timeline *t, uint64_t from, uint64_t begin, uint32_t thread,
                               uint64_t frame_call, rw_tl_match m, void *ctx, uint64_t *found,
                               rw_err *err);

/* Visits every record (events and annotations) with from <= pos < to, in order,
 * until fn returns non-zero. */
rw_code rw_timeline_visit(rw_timeline *t, uint64_t from, uint64_t to, rw_tl_match fn,
                          void *ctx, rw_err *err);

/* Chunks decoded so far (cache misses): what the benchmark reports. */
uint64_t rw_timeline_decodes(const rw_timeline *t);

/* Restricts rw_timeline_next and rw_timeline_prev to chunks whose line filter
 * (codec.h) may hold one of the n (code << 32 | line) pairs: the others are skipped
 * without being decoded. Only for a predicate that accepts nothing but LINE events at
 * those pairs (continue and rcontinue between breakpoints). pairs is borrowed until
 * the next call; rw_timeline_set_lines(t, NULL, 0) searches every chunk again. */
void rw_timeline_set_lines(rw_timeline *t, const uint64_t *pairs, size_t n);

/* Chunks the line filter let searches skip so far. */
uint64_t rw_timeline_skips(const rw_timeline *t);

#endif
