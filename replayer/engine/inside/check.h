/* Divergence check: the engine's own trace against the recorded one, event by event
 * (DESIGN.md, "Replaying": every event is checked against the log before a value is
 * shown). Both are read with format/'s reader and decoder; the check is incremental
 * (the engine only runs forwards): each call compares from where the last one stopped
 * through the event asked for. Compared: every record's kind; events' code, line and
 * thread; exception, audit and thread records' name; and, when the recording's memory
 * was deterministic (compare_allocs: a fixed allocator, randomisation off), every
 * allocation's and free's kind, size and address. Without it the allocation records
 * are skipped on both sides: their order and addresses vary from run to run.
 * Owner: check.c. Main thread of the engine, inputs paused.
 */
#ifndef RW_ENGINE_CHECK_H
#define RW_ENGINE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "reader.h"

typedef struct rw_check rw_check;

/* A new check of recorded (borrowed; must outlive it). */
rw_code rw_check_new(const rw_reader *recorded, int compare_allocs, rw_check **out,
                     rw_err *err);
void rw_check_free(rw_check *c);

/* Compares the engine's trace at engine_path (flushed through event upto) with the
 * recorded one, through event upto. Returns 0 when they agree, 1 on the first
 * mismatch (*where = its position, report = "at event N: the recording has X, the
 * replay has Y"), -1 when a trace cannot be read (err). */
int rw_check_upto(rw_check *c, const char *engine_path, uint64_t upto, uint64_t *where,
                  char *report, size_t cap, rw_err *err);

/* rw_check_upto, or with partial set, a pass while the engine runs: the end of the
 * engine's trace (still being written) is not a divergence, the check stops at the
 * last event compared whole and the next call goes on from there. */
int rw_check_run(rw_check *c, const char *engine_path, uint64_t upto, int partial,
                 uint64_t *where, char *report, size_t cap, rw_err *err);

/* Describes ev as read from a trace with definitions d ("call f at a.py:3"). */
void rw_check_describe(const rw_defs *d, const rw_event *ev, char *out, size_t cap);

#endif
