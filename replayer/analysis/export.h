/* Timeline export of a recording: the calls of every thread as Chrome trace events
 * (JSON object format, for Perfetto and chrome://tracing) or as speedscope's evented
 * profiles (https://www.speedscope.app/file-format-schema.json).
 *
 * One cursor pass over a position range. Frames already open at the start of the
 * range open at its start time; frames still open at its end close at its end time,
 * so every thread's opens and closes balance. Used by cli/cmd_export.c; writes only
 * to the FILE it is given.
 */
#ifndef RW_EXPORT_H
#define RW_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "reader.h"

typedef enum rw_export_format { RW_EXPORT_CHROME, RW_EXPORT_SPEEDSCOPE } rw_export_format;

typedef struct rw_export_opts {
    rw_export_format format;
    uint64_t from, to;        /* events with from <= pos < to */
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *progress_ctx;
} rw_export_opts;

/* Writes the whole JSON document to out. Errors: the reader's, RW_ENOMEM, and RW_EIO
 * when a write fails (message names what). out stays open. */
rw_code rw_export_write(const rw_reader *r, const rw_export_opts *o, FILE *out, rw_err *err);

#endif
