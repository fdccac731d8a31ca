/* rewind timeit: timeit-style statistics of every recorded call of one function
 * (replayer/timeit.h does the work). */
#include "commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "position.h"
#include "progress.h"
#include "reader.h"
#include "timeit.h"

#define CMD "timeit"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rewind timeit FILE FUNCTION [--from POS] [--to POS] [--no-calibration]\n\n"
            "Durations of every recorded call of FUNCTION, from its call to its return:\n"
            "number of calls, best, median, mean, standard deviation and worst, and the\n"
            "position of the slowest call ('rewind replay FILE --at POS' starts there).\n\n"
            "FUNCTION: NAME or QUALNAME (fib, Vec.add), FILE:NAME (prog.py:fib, where FILE\n"
            "may be any ending of the path at a '/'), or MODULE.QUALNAME (pkg.mod.Vec.add;\n"
            "the main script is __main__). A generator or coroutine is timed per resume:\n"
            "each next()/send() up to its yield is one call, as cProfile counts them.\n\n"
            "options:\n"
            "  --from POS        only calls that start at or after this position\n"
            "  --to POS          ... and return before this one\n"
            "                    POS: an event number, @start, @end, @exception, @peak,\n"
            "                    a time such as 1.5s or 250ms, or FILE:LINE\n"
            "  --no-calibration  keep raw times (default: the recorder's measured cost per\n"
            "                    event inside a call is subtracted, capped at the shortest\n"
            "                    gap between two events; a time below the clock's\n"
            "                    resolution is shown as \"< RESOLUTION\")\n"
            "  -h, --help        show this help\n");
}

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    rw_progress *p = ctx;
    p->total = total ? total : 1;
    rw_progress_update(p, done);
}

int rw_cmd_timeit(int argc, char **argv)
{
    const char *from = NULL, *to = NULL, *args[2] = {NULL, NULL};
    int calibrate = 1;
    const rw_opt opts[] = {
        {.long_name = "from", .kind = RW_OPT_POS, .dst = &from},
        {.long_name = "to", .kind = RW_OPT_POS, .dst = &to},
        {.long_name = "no-calibration", .kind = RW_OPT_CLEAR, .dst = &calibrate},
    };
    static const char *const argnames[] = {"the trace FILE", "the FUNCTION to time"};
    rw_cmdline cl = {.cmd = CMD, .usage = usage, .opts = opts,
                     .nopts = sizeof opts / sizeof opts[0], .args = args, .maxargs = 2,
                     .argnames = argnames, .nrequired = 2};
    int go = rw_opts_parse(&cl, argc, argv);
    if (go != RW_OPTS_GO)
        return go;
    const char *file = args[0], *fn = args[1];

    rw_err err;
    rw_reader *r;
    if (rw_cli_open_trace(CMD, file, &r, &err) != RW_OK)
        return rw_cli_fail(CMD, &err);
    int status = RW_EXIT_OK;
    rw_timeit_opts o;
    rw_timeit_opts_default(&o);
    o.calibrate = calibrate;
    rw_timeit_target t;
    memset(&t, 0, sizeof t);
    if (from && (status = rw_opts_position(CMD, r, "--from", from, &o.from)))
        goto out;
    if (to && (status = rw_opts_position(CMD, r, "--to", to, &o.to)))
        goto out;
    if (rw_timeit_find(r, fn, &t, &err) != RW_OK) {
        status = rw_opts_fail(CMD, &err); /* an ambiguous name is a usage error */
        goto out;
    }
    rw_progress prog;
    rw_progress_init(&prog, "timing", rw_reader_nevents(r));
    o.progress = on_progress;
    o.progress_ctx = &prog;
    rw_timeit_result res;
    rw_code rc = rw_timeit_run(r, &t, &o, &res, &err);
    rw_progress_done(&prog);
    if (rc != RW_OK) {
        status = rw_opts_fail(CMD, &err); /* an empty window is a usage error */
        goto out;
    }

    printf("%s:%u(%s): %llu call%s", t.file, t.line, t.qualname,
           (unsigned long long)res.calls, res.calls == 1 ? "" : "s");
    if (t.generator)
        printf(" (a generator or coroutine: each resume is one call)");
    printf("\n");
    if (res.unfinished)
        printf("  %llu more call%s still running at the end of the window, not counted\n",
               (unsigned long long)res.unfinished, res.unfinished == 1 ? "" : "s");
    if (res.calls) {
        char b[6][32];
        const double q = res.resolution;
        rw_timeit_format_res(res.best, q, b[0], sizeof b[0]);
        rw_timeit_format_res(res.median, q, b[1], sizeof b[1]);
        rw_timeit_format_res(res.mean, q, b[2], sizeof b[2]);
        rw_timeit_format_res(res.stdev, q, b[3], sizeof b[3]);
        rw_timeit_format_res(res.worst, q, b[4], sizeof b[4]);
        rw_timeit_format_res(res.total, q, b[5], sizeof b[5]);
        printf("  best    %12s   at position %llu\n", b[0], (unsigned long long)res.best_pos);
        printf("  median  %12s\n", b[1]);
        printf("  mean    %12s\n", b[2]);
        printf("  stdev   %12s\n", b[3]);
        printf("  worst   %12s   at position %llu (thread %u)\n", b[4],
               (unsigned long long)res.worst_pos, res.worst_thread);
        printf("  total   %12s\n", b[5]);
        printf("  replay the slowest call: rewind replay %s --at %llu\n", file,
               (unsigned long long)res.worst_pos);
    }
    char qb[32];
    rw_timeit_format(res.resolution, qb, sizeof qb);
    printf("  clock resolution %s", qb);
    if (res.calib_ns > 0) {
        char cb[32];
        rw_timeit_format(res.calib_ns * 1e-9, cb, sizeof cb);
        printf("; recorder overhead subtracted: %s per event inside a call", cb);
    }
    printf("\n");
    if (res.calib_capped) {
        char rb[32];
        rw_timeit_format(res.calib_ns_recorded * 1e-9, rb, sizeof rb);
        printf("  (the recorder measured %s per event, more than the shortest gap between two\n"
               "  events of the recording: the gap is taken instead)\n", rb);
    }
    if (res.below)
        printf("  %llu call%s took no longer than the clock resolution once the overhead "
               "was subtracted: shown as < %s\n", (unsigned long long)res.below,
               res.below == 1 ? "" : "s", qb);
    if (!calibrate)
        printf("  (raw times: no calibration)\n");
    if (fflush(stdout) != 0) {
        fprintf(stderr, "rewind " CMD ": cannot write the output: %s\n", strerror(errno));
        status = RW_EXIT_FAIL;
    }
out:
    rw_timeit_target_fini(&t);
    rw_reader_free(r);
    return status;
}
