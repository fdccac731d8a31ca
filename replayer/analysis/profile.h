/* cProfile from a trace: the statistics Modules/_lsprof.c would have collected had it
 * been enabled over a window of the recording, plus per-line times.
 *
 * rw_profile_run makes one pass over the events (CALL/RETURN for Python frames,
 * C_CALL/C_RETURN/C_EXCEPTION for builtins) with _lsprof's algorithm; the result is a
 * list of functions labelled as cProfile labels them, merged by label, ready to sort
 * the way pstats sorts, to print (cli/) or to save in pstats' marshal format
 * (pstats.h). Objects
 * here belong to one thread; rw_profile_run decodes chunks ahead of the one it scans
 * on the scan pipeline's helper threads (scan.h, batches).
 */
#ifndef RW_PROFILE_H
#define RW_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "reader.h"

typedef struct rw_profile_opts {
    uint64_t from, to;  /* window of event positions [from, to); to is capped at the end */
    uint32_t thread;    /* ThreadDef id to profile, 0 = every thread */
    int calibrate;      /* subtract Metadata.calib_ns_per_event per event (if measured) */
    int lines;          /* also collect per-line times */
    /* cProfile's window instead of from/to/thread: what `python3 -m cProfile SCRIPT`
     * profiles. The main thread only, from the CALL of the main script's <module> to
     * its RETURN, inside a call of `<built-in method builtins.exec>` (as runctx's exec
     * runs it), followed by one call of `<method 'disable' of '_lsprof.Profiler'
     * objects>` taking no time (runctx's disable, which cProfile counts). */
    int cprofile;
    /* Called now and then with the number of events scanned so far; may be NULL. */
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *progress_ctx;
} rw_profile_opts;

/* Fills o with: the whole trace, every thread, calibration on, no lines. */
void rw_profile_opts_default(rw_profile_opts *o);

/* One caller of a function: the counts of the calls it made to that function, as
 * cProfile's callers dicts hold them. */
typedef struct rw_prof_caller {
    uint32_t func;      /* index of the caller in rw_profile.funcs */
    uint64_t nc, cc;    /* calls, primitive calls (not recursive through this edge) */
    double tt, ct;      /* seconds: inline and total time of those calls */
} rw_prof_caller;

/* One function, keyed by its label (file, line, name) as pstats keys it: Python
 * code is (co_filename, co_firstlineno, co_name), a C function ("~", 0, label). The
 * main script's co_filename is the path given on the command line (Metadata.run_target),
 * as cProfile compiles it, not the absolute path python3 gives it.
 * Invariants: cc <= nc; 0 <= tt; callers sorted by func, each func once. */
typedef struct rw_prof_func {
    const char *file;   /* borrowed from the reader's definitions ("~" for C) */
    uint32_t line;
    const char *name;
    uint64_t cc, nc;    /* primitive calls, all calls */
    double tt, ct;      /* seconds: inline (tottime) and total (cumtime) */
    rw_prof_caller *callers;
    size_t ncallers;
} rw_prof_func;

/* Time attributed to one source line: from a LINE event to the next LINE, RETURN of
 * the same frame (inclusive of the calls the line makes, as line_profiler counts). */
typedef struct rw_prof_line {
    const char *file;
    uint32_t line;
    uint64_t hits;      /* LINE events */
    double time;        /* seconds */
} rw_prof_line;

typedef struct rw_profile {
    rw_prof_func *funcs; /* in the order of their first call in the window */
    size_t nfuncs;
    uint64_t total_calls, prim_calls;
    double total_tt;     /* sum of tt: what pstats prints as "in T seconds" */
    rw_prof_line *lines; /* sorted by file, line; NULL without opts.lines */
    size_t nlines;
    uint64_t events;     /* events scanned in the window */
    double calib_ns;     /* per-event overhead subtracted (0: none): Metadata.calib_ns_per_event,
                            capped at the shortest gap between two events (scan_state) */
    int strip;           /* file names are base names (rw_profile_strip_dirs) */
    /* opts.cprofile: the window found, [from, to) in event positions; found is 0 when
     * the main script's <module> never ran (the profile is then empty). */
    int found;
    uint64_t from, to;
} rw_profile;

/* Profiles the window o->from..o->to of r. Returns a new profile in *out (caller
 * frees with rw_profile_free); it borrows strings from r, which must outlive it.
 * Errors: RW_EINVAL when from > to or from is past the end, RW_ECORRUPT / RW_EIO
 * from reading chunks, RW_ENOMEM. */
rw_code rw_profile_run(const rw_reader *r, const rw_profile_opts *o, rw_profile **out,
                       rw_err *err);
void rw_profile_free(rw_profile *p);

/* pstats' strip_dirs(): file names become their base names and functions whose labels
 * become equal are merged (counts, times and callers summed), keeping the order of
 * first occurrence. */
rw_code rw_profile_strip_dirs(rw_profile *p, rw_err *err);

/* pstats' sort keys. */
typedef enum rw_prof_field {
    RW_PF_CC = 0, RW_PF_NC, RW_PF_TT, RW_PF_CT, RW_PF_FILE, RW_PF_LINE, RW_PF_NAME,
    RW_PF_STDNAME
} rw_prof_field;

#define RW_PROF_SORT_MAX 16 /* sort fields at most (a key may stand for several) */

typedef struct rw_prof_sort {
    int nfields;
    rw_prof_field field[RW_PROF_SORT_MAX];
    int dir[RW_PROF_SORT_MAX]; /* 1 ascending, -1 descending */
    char title[256];           /* "cumulative time, standard name" (pstats' sort_type) */
} rw_prof_sort;

/* Adds one key, spelled as pstats' sort_stats accepts it (a key or a unique
 * abbreviation: "cumulative", "cum"... as Stats.get_sort_arg_defs expands them).
 * RW_EINVAL naming the valid keys otherwise. Start from a zeroed rw_prof_sort. */
rw_code rw_prof_sort_add(rw_prof_sort *s, const char *key, rw_err *err);

/* The order pstats' sort_stats gives: a new array of p->nfuncs indices (caller frees),
 * ties kept in the order of p->funcs as Python's stable sort keeps them. NULL when
 * out of memory. */
size_t *rw_profile_order(const rw_profile *p, const rw_prof_sort *s);

/* func_std_string(): "file:line(name)", or "{label}" for C functions. Writes at most
 * cap bytes (NUL included) and returns the full length. */
size_t rw_prof_func_name(const rw_prof_func *f, char *buf, size_t cap);

#endif
