/* Timeline export of a recording: the calls of every thread as Chrome trace events
 * (JSON object format, for Perfetto and chrome://tracing), as speedscope's evented
 * profiles (https://www.speedscope.app/file-format-schema.json), or as Perfetto's
 * own protobuf trace (TrackEvent slices, far smaller than JSON; see
 * export_perfetto.c).
 *
 * One cursor pass over a position range. Frames already open at the start of the
 * range open at its start time; frames still open at its end close at its end time,
 * so every thread's opens and closes balance. The output can be bounded: past
 * max_bytes the export stops at the next event, still closing what is open, so a cut
 * export is a valid file too. Used by cli/cmd_export.c; writes only to the FILE it is
 * given.
 */
#ifndef RW_EXPORT_H
#define RW_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "reader.h"

typedef enum rw_export_format {
    RW_EXPORT_CHROME,
    RW_EXPORT_SPEEDSCOPE,
    RW_EXPORT_PERFETTO,
} rw_export_format;

/* The default output bound of `rewind export` (--max-size). */
#define RW_EXPORT_DEFAULT_MAX ((uint64_t)1 << 30)

typedef struct rw_export_opts {
    rw_export_format format;
    uint64_t from, to;        /* events with from <= pos < to */
    /* Stop once about this many bytes are out (0 = no bound): the check is made
     * before each event, against the bytes written so far (speedscope, which writes
     * at the end: the bytes its events will take). The closing part (frames still
     * open, metadata, brackets) comes on top. */
    uint64_t max_bytes;
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *progress_ctx;
} rw_export_opts;

/* What an export did. */
typedef struct rw_export_result {
    uint64_t bytes;           /* written to out */
    int stopped;              /* 1: max_bytes reached before the end of the range */
    uint64_t stop_pos;        /* stopped: the first event left out */
    uint64_t end_pos;         /* the end of the range (o->to bounded by the trace) */
} rw_export_result;

/* Writes the whole document to out and, when res is not NULL, what was done to *res
 * (also when stopped at max_bytes: the result is RW_OK and res->stopped 1; the cli
 * decides the status). Errors: the reader's, RW_ENOMEM, and RW_EIO when a write fails
 * (message names what). out stays open. */
rw_code rw_export_write(const rw_reader *r, const rw_export_opts *o, FILE *out,
                        rw_export_result *res, rw_err *err);

#endif
