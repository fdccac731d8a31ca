/* A progress bar on stderr for long analyses: shown only when stderr is a terminal
 * and the work has taken more than half a second; cleared when done. */
#ifndef RW_CLI_PROGRESS_H
#define RW_CLI_PROGRESS_H

#include <stdint.h>

typedef struct rw_progress {
    const char *label;
    uint64_t total;
    int enabled;
    int shown;
    double start, last;
} rw_progress;

void rw_progress_init(rw_progress *p, const char *label, uint64_t total);
/* Cheap to call often: redraws at most 10 times a second. */
void rw_progress_update(rw_progress *p, uint64_t done);
void rw_progress_done(rw_progress *p);

#endif
