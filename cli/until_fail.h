/* `rewind record --until-fail N`: runs the program up to N times, each run recorded
 * by a forked copy of this process (so that each attempt starts a fresh interpreter,
 * exactly as `rewind record` would), until one fails: a non-zero exit status, a
 * signal, or --timeout's 124. Progress goes to stderr, one line per attempt; the
 * failing attempt's trace is kept and its output shown, then the commands to type
 * next (docs/recording.md, "Until it fails"). Only cli/cmd_record.c calls it, once, from the main thread, before
 * anything else has started a thread or Python.
 */
#ifndef RW_CLI_UNTIL_FAIL_H
#define RW_CLI_UNTIL_FAIL_H

#include <stdint.h>

#include "recorder.h"

typedef struct rw_until_fail {
    unsigned long long attempts; /* N >= 1 */
    int keep_all;                /* keep every attempt's trace as OUT.<k>.rwd */
    int chaos;                   /* each attempt runs with --chaos */
    uint64_t chaos_seed;         /* 0: a fresh random seed per attempt; else attempt k
                                    runs with chaos_seed + k - 1 */
    int quiet;                   /* no line for the attempts that pass */
} rw_until_fail;

/* Runs the attempts with o's recording options (o->output is the base name: NULL
 * for "<stem>-N.rwd" in the current directory, as `rewind record`). o is changed
 * for each attempt. Returns the exit status of the command: the failing attempt's
 * (128 + N for a signal N), 0 when every attempt passed, RW_EXIT_USAGE or
 * RW_EXIT_FAIL (after one line on stderr) when the attempts could not be run, 130
 * when interrupted. */
int rw_until_fail_run(const rw_until_fail *u, rw_record_opts *o);

/* A random chaos seed (never 0), from getrandom. */
uint64_t rw_until_fail_random_seed(void);

#endif
