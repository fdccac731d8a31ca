/* Divergence check: the engine's run against the recorded one, record by record
 * (DESIGN.md, "Replaying": every event is checked against the log before a value is
 * shown). The engine's recorder does not write a trace of its own: its writer thread
 * hands the raw records (format/records.h) to rw_check_feed (rw_writer_opts.sink),
 * which compares them with the recording: by the fingerprints of groups of events that
 * the recording's index holds (format/fprint.h), and record by record, reading the
 * recording alongside with format/'s cursor, where a group's fingerprint differs or
 * is missing (an older trace, a rebuilt index) and at a stop for the records of the
 * group not ended yet (rw_check_settle). Nothing is encoded or compressed, and the
 * recording is decoded only where needed. Compared: every record's kind and
 * position; events' thread; calls' code and line; lines' line; C calls' function;
 * exception, audit and uncaught records' name; and, when the recording's memory was
 * deterministic (compare_allocs: a fixed allocator, randomisation off), every
 * allocation's and free's kind, size and address. Without it the allocation records
 * are skipped on both sides: their order and addresses vary from run to run. A
 * difference in allocations alone does not stop the run: it is noted (rw_check_note)
 * and allocations are compared no further (a trace from another build of rewind
 * starts on another heap, and its Python-level run may still be the same). A
 * return's or a line's frame, a C return's function, follow from the calls before
 * them, which agree. THREAD records are not compared (an event names its thread).
 * Owner: check.c. rw_check_feed runs on the engine's writer thread; the rest on the
 * engine's main thread.
 */
#ifndef RW_ENGINE_CHECK_H
#define RW_ENGINE_CHECK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "reader.h"
#include "records.h"

typedef struct rw_check rw_check;

/* A new check of recorded (borrowed; must outlive it). compare_allocs: 0 (allocation
 * records skipped), 1 (all compared), 2 (the MEM and OBJ domains' only; RAW skipped). */
rw_code rw_check_new(const rw_reader *recorded, int compare_allocs, rw_check **out,
                     rw_err *err);
void rw_check_free(rw_check *c);

/* Gives back the recording's chunk the check reads (rw_cursor_unload), keeping its
 * place: for a checkpoint, whose copy would otherwise keep the pages the engine's check
 * reuses for the next chunks. The next record fed loads it again. Only while the
 * check's thread is idle, or in a copy made by fork. */
void rw_check_shed(rw_check *c);

/* rw_writer_sink: compares recs, the engine's next raw records, with the recording.
 * Returns how many of them are events. After the first mismatch it only counts. */
uint64_t rw_check_feed(void *check, const rw_rec *recs, size_t n);

/* By fingerprints (format/fprint.h), when the recording has them, the last records
 * fed may not be compared yet (their group has not ended): compares them, so that the
 * verdict covers every record fed. Call at a stop, after a flush of the writer. */
void rw_check_settle(rw_check *c);

/* Groups of events found equal by their fingerprint, and compared record by record
 * (no fingerprint, a different one, or the last group at a stop). */
void rw_check_counts(const rw_check *c, uint64_t *by_fp, uint64_t *by_record);

/* Sets *at to 0 whenever the verdict is set (after it, sequentially consistent): the
 * recorder's hooks call the engine back when their event count passes *at
 * (recorder/source.h, rw_source_trip_at), so a divergence found on the check's thread
 * stops the run without a look at the verdict at every event. Before the first feed. */
void rw_check_alarm(rw_check *c, _Atomic uint64_t *at);

/* 0 while the runs agree, 1 after a divergence, -1 when the recording could not be
 * read (both final). Any thread; the engine's hooks poll it at every event. */
const _Atomic int *rw_check_verdict(const rw_check *c);

/* After a divergence: returns its position and writes the report ("the replay
 * diverged from the recording at event N: the recording has X, the replay Y"); the
 * replay's event is named with the definitions in engine_path, the engine's own trace
 * (flushed: it holds its definitions), or by id when that cannot be read. After a
 * read error: writes err's message. */
uint64_t rw_check_report(const rw_check *c, const char *engine_path, char *report,
                         size_t cap);

/* When allocations were compared and stopped agreeing while the events still did (the
 * engine then compares events only): one line saying from which event addresses may
 * differ; else NULL. Read it after a flush of the writer. */
const char *rw_check_note(const rw_check *c);

/* Describes ev as read from a trace with definitions d ("call f at a.py:3"). */
void rw_check_describe(const rw_defs *d, const rw_event *ev, char *out, size_t cap);

#endif
