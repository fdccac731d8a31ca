/* timeit from a trace: the duration of every recorded call of one Python function.
 *
 * A call lasts from its CALL event to the matching RETURN of the same frame, in the
 * same thread (the decoder pairs them). A generator or coroutine frame makes one
 * call per resume, as cProfile counts them. cli/cmd_timeit.c calls rw_timeit_find
 * then rw_timeit_run; objects here belong to one thread.
 */
#ifndef RW_TIMEIT_H
#define RW_TIMEIT_H

#include <stddef.h>
#include <stdint.h>

#include "reader.h"

/* The function a spec names: every code id that is that function (a module run
 * twice defines its functions twice, with equal labels). */
typedef struct rw_timeit_target {
    uint8_t *is_target;    /* by CodeDef id: 1 for the function's code objects */
    uint32_t ncodes;       /* size of is_target */
    const char *file;      /* borrowed from the reader */
    const char *qualname;
    uint32_t line;         /* co_firstlineno */
    int generator;         /* CO_GENERATOR, CO_COROUTINE or CO_ASYNC_GENERATOR */
} rw_timeit_target;

/* Resolves spec against r's code definitions. Spellings: NAME or QUALNAME
 * ("fib", "Vec.add"), FILE:NAME (FILE is a path or its ending at a '/': "p.py:fib",
 * "pkg/m.py:C.f"), MODULE.QUALNAME ("pkg.m.C.f"; the main script is also
 * "__main__"). Fills *t (free with rw_timeit_target_fini). RW_ENOTFOUND when nothing
 * matches, RW_EINVAL when several different functions do (the message lists them as
 * FILE:LINE(QUALNAME) and says to name the file). */
rw_code rw_timeit_find(const rw_reader *r, const char *spec, rw_timeit_target *t, rw_err *err);
void rw_timeit_target_fini(rw_timeit_target *t);

typedef struct rw_timeit_opts {
    uint64_t from, to;  /* calls that start at or after from and return before to */
    int calibrate;      /* subtract Metadata.calib_ns_per_event per event inside a call */
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *progress_ctx;
} rw_timeit_opts;

void rw_timeit_opts_default(rw_timeit_opts *o);

typedef struct rw_timeit_result {
    uint64_t calls;        /* calls timed */
    uint64_t unfinished;   /* started in the window, no return before its end */
    double best, median, mean, stdev, worst;  /* seconds; stdev is the sample one */
    uint64_t best_pos, worst_pos;             /* event number of that call's CALL */
    uint32_t worst_thread;
    double total;          /* sum of the durations, seconds */
    /* What a duration can be told from: one step of the recorded clock (the tick
     * counter's period times 2^time_shift), seconds. A duration that calibration
     * takes below it is counted in below and taken as 0: the output shows such
     * values as "< resolution", never as 0. */
    double resolution;
    /* Overhead subtracted per event (0: none): the recorder's measure
     * (Metadata.calib_ns_per_event, calib_ns_recorded), but never more than the
     * shortest gap between two events of the window, which one event's hook cannot
     * exceed (calib_capped: the recorder's measure was above it, as when the machine
     * was busy while the recorder measured). */
    double calib_ns, calib_ns_recorded;
    int calib_capped;
    uint64_t below;        /* calls below the resolution after calibration */
} rw_timeit_result;

/* Times every call of t in the window. *res is filled (calls may be 0). Errors:
 * RW_EINVAL for an empty or out-of-range window, reading errors, RW_ENOMEM. */
rw_code rw_timeit_run(const rw_reader *r, const rw_timeit_target *t, const rw_timeit_opts *o,
                      rw_timeit_result *res, rw_err *err);

/* timeit's format_time: "%.3g" in the largest of sec, msec, usec, nsec not above
 * the value ("1.23 usec"). */
void rw_timeit_format(double seconds, char *buf, size_t cap);

/* rw_timeit_format, but a value below resolution (> 0) is written "< R" with R the
 * resolution formatted: what the clock cannot tell from zero. */
void rw_timeit_format_res(double seconds, double resolution, char *buf, size_t cap);

#endif
