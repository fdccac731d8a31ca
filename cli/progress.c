/* Progress bar (progress.h). */
#include "progress.h"

#include "term.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void rw_progress_init(rw_progress *p, const char *label, uint64_t total)
{
    p->label = label;
    p->total = total ? total : 1;
    p->enabled = isatty(2);
    p->shown = 0;
    p->start = p->last = now_s();
}

void rw_progress_update(rw_progress *p, uint64_t done)
{
    if (!p->enabled)
        return;
    double t = now_s();
    if (t - p->start < 0.5 || t - p->last < 0.1)
        return;
    p->last = t;
    p->shown = 1;
    double f = (double)done / (double)p->total;
    if (f > 1)
        f = 1;
    int width = 30, fill = (int)(f * width);
    char bar[31];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    /* Its \r must reach the terminal as it is: below the filter (term.h). */
    FILE *err = rw_term_raw_stderr();
    fflush(stderr);
    fprintf(err, "\r%s [%s] %3d%%", p->label, bar, (int)(f * 100));
    fflush(err);
}

void rw_progress_done(rw_progress *p)
{
    if (p->shown) {
        FILE *err = rw_term_raw_stderr();
        fflush(stderr);
        fprintf(err, "\r%*s\r", 50, "");
        fflush(err);
    }
    p->shown = 0;
}
