/* `rewind diff`: where two runs of one program part, found in one streaming pass over
 * both traces (docs/diff.md). Called by cli/cmd_diff.c; a diff belongs to the thread that
 * runs it, the readers may be shared.
 *
 * What is compared, per thread, event after event: the kind (call, line, return,
 * exception, c_call, c_return, c_exception) and what the event is about, with ids that
 * are interned per run mapped to what they stand for: a Python code object by (file
 * path, qualname, first line), a C function by its cProfile label, an exception by its
 * type name; CALL and LINE also compare the line. Never compared: times, allocations
 * (their records are not even decoded), thread ids, exception messages, audit events.
 *
 * Threads are matched by their input stream (format/inputs.h: 1 = the main thread, then
 * the threads started through _thread in the order the program started them, which is
 * its control flow, not the scheduler's); threads without one (started from C, or a
 * trace cut short before its END frame) by the order in which they were defined.
 * The first difference reported is the one that comes first in run a's order.
 */
#ifndef RW_DIFF_H
#define RW_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "reader.h"

typedef struct rw_diff_opts {
    uint32_t thread;     /* ThreadDef id of run a whose events alone are compared; 0 = all */
    size_t max_pending;  /* events one run may be ahead of the other (all threads together)
                          * before the diff gives up with RW_ENOMEM; 0 = 1 << 22 */
    /* Windows of positions compared, [from[i], to[i]) of run i (a = 0, b = 1), e.g. one
     * test's range in each run (`rewind diff --test`); to[i] == 0: to the end. */
    uint64_t from[2], to[2];
} rw_diff_opts;

/* Where one run stands at the difference. */
typedef struct rw_diff_side {
    uint32_t thread;     /* ThreadDef id in this run; 0 when the thread is not in it */
    uint32_t stream;     /* its input stream (format/inputs.h), 0 when unknown */
    int ended;           /* 1: the thread has no event there (its events, or the
                          * readable part of its trace, ended before) */
    uint64_t pos;        /* the first event that differs (ended: UINT64_MAX) */
    int has_common;      /* 1 when an equal event of the thread came before */
    uint64_t common_pos; /* the last such event (valid when has_common) */
} rw_diff_side;

typedef struct rw_diff_result {
    int differ;          /* 0: every event compared was equal */
    uint64_t compared;   /* pairs of events compared equal (all threads) */
    uint64_t thread_equal; /* of them, in the thread that differs */
    rw_diff_side a, b;   /* valid when differ */
    /* A chunk found damaged after the difference (what was found stands, but an
     * earlier difference in another thread may have been missed): its error, else
     * code RW_OK. */
    rw_err damage;
} rw_diff_result;

/* Compares the events of a and b (both with at least one event) by the rules above and
 * fills *out. Reads both traces once, in order, chunk by chunk; memory is bounded by
 * opts->max_pending compact events. Errors: RW_ENOMEM (out of memory, or the runs'
 * threads are interleaved so differently that one run is more than max_pending events
 * ahead: the message says to use --thread), RW_ECORRUPT / RW_EIO from a damaged chunk
 * (in rw_scan_explain_damage's words, naming the file), RW_EINVAL when opts->thread is
 * not a thread of a. */
rw_code rw_diff_run(const rw_reader *a, const rw_reader *b, const rw_diff_opts *opts,
                    rw_diff_result *out, rw_err *err);

/* The input stream of thread in r: RunEnd.threads' input_stream; for a trace cut short
 * (no END frame), 1 for the main thread and 0 (unknown) for the others. */
uint32_t rw_diff_thread_stream(const rw_reader *r, uint32_t thread);

/* ---- inputs ---------------------------------------------------------------------- */

#define RW_DIFF_KEEP 160 /* bytes of an input's key and data kept (a struct stat: 144) */

/* One input record, copied (format/inputs.h's rw_input, with key and data cut to
 * RW_DIFF_KEEP bytes; key_len and data_len are the whole lengths). */
typedef struct rw_diff_input {
    uint32_t call;
    uint32_t flags;
    uint64_t seq, position;
    int64_t result;
    int32_t err;
    size_t key_len, data_len;
    uint8_t key[RW_DIFF_KEEP], data[RW_DIFF_KEEP];
} rw_diff_input;

/* What two runs' threads consumed from outside before the difference. */
typedef struct rw_diff_inputs {
    /* The last inputs of each stream logged before (at or before the position of) the
     * difference, oldest first; n[i] <= the cap given. */
    rw_diff_input *last[2];
    size_t n[2];
    /* The first record at which the two streams disagree (call, key, result, errno or
     * data, rw_diff_same_data's way; for clocks, sleeps and process and thread ids,
     * whose answers differ in every run, the call only), counted from each stream's start: found = 1 with first[i] the record of
     * run i, or has[i] = 0 when run i's stream had no record there (it ended first). */
    int found;
    int has[2];
    rw_diff_input first[2];
    uint64_t records[2]; /* records of each stream read before the difference */
} rw_diff_inputs;

/* Reads the input records of stream sa of a up to position upto_a, and of stream sb of
 * b up to upto_b (one pass over each trace's INPUTS frames), into *out: the last `keep`
 * of each (arrays allocated here: free with rw_diff_inputs_fini) and the first
 * disagreement. A stream 0 reads nothing. Errors: RW_ENOMEM, RW_ECORRUPT (a damaged
 * INPUTS frame: out holds what came before it, and is still to be finied). */
rw_code rw_diff_read_inputs(const rw_reader *a, uint32_t sa, uint64_t upto_a,
                            const rw_reader *b, uint32_t sb, uint64_t upto_b, size_t keep,
                            rw_diff_inputs *out, rw_err *err);
void rw_diff_inputs_fini(rw_diff_inputs *in);

/* 1 when call's data x and y (n bytes each) say the same: byte for byte, but for a
 * struct stat its times (access, modification, change) do not count: like a clock's,
 * they differ in every run for a file the run wrote or read. */
int rw_diff_same_data(uint32_t call, const uint8_t *x, const uint8_t *y, size_t n);

/* 1 when x and y are call's data that rw_diff_same_data finds the same although their
 * bytes differ (a struct stat whose times differ). */
int rw_diff_times_differ(uint32_t call, const uint8_t *x, const uint8_t *y, size_t n);

/* 1 for the calls whose answers differ in every run (clocks, process and thread ids). */
int rw_diff_run_specific(uint32_t call);

#endif
