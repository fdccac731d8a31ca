/* rewind record: argument parsing, the summary line and the exit status. The work
 * is done by recorder/ (rw_record_run). */
#include "commands.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detalloc.h"
#include "recorder.h"
#include "until_fail.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rewind record [options] (SCRIPT | -m MODULE | -c CODE) [ARGS...]\n\n"
            "Run a Python program as python3 would and record it into a trace file.\n\n"
            "options:\n"
            "  -o FILE           write the trace to FILE (default: <name>-N.rwd in the\n"
            "                    current directory, with the smallest N not taken)\n"
            "  --force           let -o replace an existing file; record even when python3.11\n"
            "                    was updated after rewind was built\n"
            "  -q                no summary line at exit\n"
            "  --no-lines        leave out line and exception events (faster)\n"
            "  --no-allocations  leave out allocations and frees\n"
            "  --no-c-calls      leave out c_call/c_return/c_exception events\n"
            "  --line-times      read the clock at every line event too (for per-line\n"
            "                    times in 'rewind stats --lines'; costs ~20 ns a line)\n"
            "  --no-follow       do not record Python programs this one starts (children,\n"
            "                    subprocesses, exec) into traces of their own\n"
            "  --keep-env        do not redact environment variables by the default patterns\n"
            "  --redact PATTERN  also redact variables whose name matches PATTERN\n"
            "                    (case-insensitive glob; repeatable). Default patterns:");
    for (const char *const *p = rw_record_default_redact; *p; p++)
        fprintf(out, " %s", *p);
    fprintf(out,
            "\n"
            "  --python PATH     use this python3.11's setup (venv, sys.executable, prefix);\n"
            "                    default: $VIRTUAL_ENV/bin/python3 if set, else /usr/bin/python3\n"
            "  --python-flag OPT give the interpreter one of python3's options (-B, -u, -E,\n"
            "                    -X dev as two flags, ...); repeatable\n"
            "  --flush-ms N      make buffered records durable every N ms (0: only at exit)\n"
            "  --timeout SECONDS when the time is up, record every thread's stacks, close\n"
            "                    the trace and exit with status 124 (for hung tests)\n"
            "  --dump-signal SIG record every thread's stacks when SIG arrives and go on\n"
            "                    (default USR1; a name, a number or 'none')\n"
            "  --until-fail N    run the program up to N times, one trace each, until a run\n"
            "                    fails (non-zero exit, signal, --timeout); keep that run's\n"
            "                    trace and show its output; exit with its status (0 and\n"
            "                    no trace when all N pass)\n"
            "  --keep WHICH      with --until-fail: 'failing' (default: every attempt\n"
            "                    records to FILE, a passing one is removed) or 'all'\n"
            "                    (attempt K records to FILE.K.rwd, all kept)\n"
            "  --chaos           perturb what is legitimately nondeterministic: thread\n"
            "                    hand-over points, the order of ready descriptors, small\n"
            "                    forward clock skews; the seed is in the trace\n"
            "  --chaos-seed S    --chaos from seed S (1 or more); with --until-fail,\n"
            "                    attempt K uses S+K-1 (default: a random seed per run)\n"
            "  -h, --help        show this help\n\n"
            "The program's own exit status is rewind's exit status.\n"
            "See docs/recording.md and docs/flaky-tests.md.\n");
}

static const char *human_bytes(unsigned long long n, char *buf, size_t cap)
{
    if (n < 1024)
        snprintf(buf, cap, "%llu B", n);
    else if (n < 1024 * 1024)
        snprintf(buf, cap, "%.1f kB", n / 1024.0);
    else if (n < 1024ull * 1024 * 1024)
        snprintf(buf, cap, "%.1f MB", n / (1024.0 * 1024));
    else
        snprintf(buf, cap, "%.2f GB", n / (1024.0 * 1024 * 1024));
    return buf;
}

typedef struct summary {
    int quiet;
    /* --until-fail, --keep, --chaos, --chaos-seed */
    unsigned long long until_fail;
    int have_until_fail, keep, have_keep, chaos;
    unsigned long long chaos_seed;
    int have_seed;
} summary;

static void on_done(const rw_record_result *res, void *ctx)
{
    const summary *s = ctx;
    fflush(stdout);
    if (res->trace_code != RW_OK || res->trace_msg[0])
        fprintf(stderr, "rewind record: %s: the trace is incomplete: %s\n", res->path,
                res->trace_msg[0] ? res->trace_msg : rw_code_name(res->trace_code));
    char sz[40];
    if (res->shm_unfollowed)
        fprintf(stderr, "rewind record: %s: %s of shared memory that other processes could "
                        "write was not followed (64 MB at most are): a replay shows what "
                        "this process wrote there, not theirs\n",
                res->path, human_bytes(res->shm_unfollowed, sz, sizeof sz));
    if (s->quiet)
        return;
    char ev[40], al[40];
    char chaos[48] = "";
    if (s->chaos_seed)
        snprintf(chaos, sizeof chaos, ", chaos seed %llu", s->chaos_seed);
    fprintf(stderr, "rewind: recorded %s events, %s allocations in %.2f s (writer thread "
                    "%.2f s CPU) -> %s (%s%s)\n",
            rw_cli_grouped(res->events, ev, sizeof ev),
            rw_cli_grouped(res->allocations, al, sizeof al), res->seconds, res->writer_cpu,
            res->path, human_bytes(res->file_bytes, sz, sizeof sz), chaos);
    if (res->family_running)
        fprintf(stderr, "rewind: Python programs this run started still run after %g s: "
                        "their traces (rewind info %s lists them) are whole when they end\n",
                RW_FAMILY_WAIT_S, res->path);
}

/* The RW_OPT_CALL functions of -m and -c: what to run (both end the options). */
static int run_module(void *dst, const char *mod, char *why, size_t cap)
{
    (void)why;
    (void)cap;
    rw_record_opts *o = dst;
    if (!*mod)
        return -1;
    o->kind = RW_RUN_MODULE;
    o->target = mod;
    return 0;
}

static int run_command(void *dst, const char *code, char *why, size_t cap)
{
    (void)why;
    (void)cap;
    rw_record_opts *o = dst;
    o->kind = RW_RUN_COMMAND;
    o->target = code;
    return 0;
}

/* Parses record's command line into o and s; o->redact is a new list (the strings
 * are argv's), freed by the caller. Returns RW_OPTS_GO or the exit status. */
static int parse(int argc, char **argv, rw_record_opts *o, summary *s, rw_opt_list *redact,
                 rw_opt_list *pyflags)
{
    rw_record_opts_init(o);
    memset(s, 0, sizeof *s);
    memset(redact, 0, sizeof *redact);
    memset(pyflags, 0, sizeof *pyflags);
    const char *script = NULL;
    static const char *const keeps[] = {"failing", "all", NULL};
    unsigned long long flush_ms = 0;
    int have_flush = 0, have_family = 0;
    unsigned long long family_fd = 0;
    const rw_opt opts[] = {
        {.short_name = 'o', .long_name = "output", .kind = RW_OPT_NONEMPTY, .dst = &o->output,
         .what = "a FILE"},
        {.long_name = "force", .kind = RW_OPT_FLAG, .dst = &o->force},
        {.short_name = 'q', .long_name = "quiet", .kind = RW_OPT_FLAG, .dst = &s->quiet},
        {.long_name = "no-lines", .kind = RW_OPT_CLEAR, .dst = &o->lines},
        {.long_name = "no-allocations", .kind = RW_OPT_CLEAR, .dst = &o->allocations},
        {.long_name = "no-c-calls", .kind = RW_OPT_CLEAR, .dst = &o->c_calls},
        {.long_name = "line-times", .kind = RW_OPT_FLAG, .dst = &o->line_times},
        {.long_name = "keep-env", .kind = RW_OPT_FLAG, .dst = &o->keep_env},
        {.long_name = "no-follow", .kind = RW_OPT_CLEAR, .dst = &o->follow},
        /* internal: a recorded run started this one (recorder/follow.h) */
        {.long_name = "child-of", .kind = RW_OPT_NONEMPTY, .dst = &o->child_of,
         .what = "HOW:PID:TRACE"},
        {.long_name = "family-fd", .kind = RW_OPT_UINT, .dst = &family_fd,
         .what = "a descriptor", .max = INT_MAX, .seen = &have_family},
        {.long_name = "redact", .kind = RW_OPT_LIST, .dst = redact, .what = "a PATTERN"},
        {.long_name = "python", .kind = RW_OPT_STR, .dst = &o->python, .what = "a PATH"},
        {.long_name = "python-flag", .kind = RW_OPT_LIST, .dst = pyflags,
         .what = "an interpreter option"},
        {.long_name = "flush-ms", .kind = RW_OPT_UINT, .dst = &flush_ms,
         .what = "a number of milliseconds", .max = 3600000, .seen = &have_flush},
        {.long_name = "timeout", .kind = RW_OPT_SECONDS, .dst = &o->timeout_s, .max = 10000000},
        {.long_name = "dump-signal", .kind = RW_OPT_SIGNAL, .dst = &o->dump_signal},
        {.long_name = "until-fail", .kind = RW_OPT_UINT, .dst = &s->until_fail,
         .what = "a number of attempts (1 to 1000000)", .min = 1, .max = 1000000,
         .seen = &s->have_until_fail},
        {.long_name = "keep", .kind = RW_OPT_CHOICE, .dst = &s->keep, .choices = keeps,
         .seen = &s->have_keep},
        {.long_name = "chaos", .kind = RW_OPT_FLAG, .dst = &s->chaos},
        {.long_name = "chaos-seed", .kind = RW_OPT_UINT, .dst = &s->chaos_seed,
         .what = "a seed (1 to 2^53-1)", .min = 1, .max = (1ull << 53) - 1,
         .seen = &s->have_seed},
        {.short_name = 'm', .kind = RW_OPT_CALL, .dst = o, .call = run_module,
         .what = "a module name", .flags = RW_OPT_STOP | RW_OPT_LITERAL},
        {.short_name = 'c', .kind = RW_OPT_CALL, .dst = o, .call = run_command,
         .what = "CODE", .flags = RW_OPT_STOP | RW_OPT_LITERAL},
    };
    static const char *const argnames[] = {"SCRIPT"};
    rw_cmdline cl = {.cmd = "record", .usage = usage, .opts = opts,
                     .nopts = sizeof opts / sizeof opts[0], .args = &script, .maxargs = 1,
                     .argnames = argnames, .stop_at_arg = 1};
    int go = rw_opts_parse(&cl, argc, argv);
    if (go != RW_OPTS_GO)
        return go;
    if (have_flush)
        o->flush_ms = (int)flush_ms;
    if (have_family)
        o->family_fd = (int)family_fd;
    if (script) {
        o->kind = RW_RUN_SCRIPT;
        o->target = script;
    }
    if (!o->target)
        return rw_opts_usage("record", "nothing to run: give SCRIPT, -m MODULE or -c CODE");
    if (s->have_keep && !s->have_until_fail)
        return rw_opts_usage("record", "--keep goes with --until-fail N");
    if (s->have_seed)
        s->chaos = 1;
    /* A followed child gets the parent's chaos as --chaos-seed (recorder/follow.c). */
    if (o->child_of && (s->have_until_fail || (s->chaos && !s->have_seed)))
        return rw_opts_usage("record", "--until-fail and --chaos are not for --child-of "
                                       "(--chaos-seed S is)");
    o->nargs = argc - cl.next;
    o->args = argv + cl.next;
    o->redact = redact->v;
    o->nredact = redact->n;
    o->py_flags = pyflags->v;
    o->npy_flags = pyflags->n;
    o->on_done = on_done;
    o->ctx = s;
    return RW_OPTS_GO;
}

int rw_cmd_record_check(int argc, char **argv)
{
    rw_record_opts o;
    summary s;
    rw_opt_list redact, pyflags;
    int go = parse(argc, argv, &o, &s, &redact, &pyflags);
    rw_opt_list_free(&redact);
    rw_opt_list_free(&pyflags);
    return go == RW_OPTS_GO ? RW_EXIT_OK : go;
}

int rw_cmd_record(int argc, char **argv)
{
    /* Before anything else: the recorded process runs without address-space
     * randomisation (this may re-execute rewind: main passes argv + 1, so argv[-1] is
     * the process's argv[0]), and Python's memory comes from the private region at a
     * fixed address, so that object addresses repeat in a replay (detalloc.h). Neither
     * is fatal: without them the recording works and only its addresses will not
     * repeat (rw_detalloc_aslr_off, rw_detalloc_global say so). */
    rw_detalloc_no_aslr_reexec(argv - 1);
    rw_err derr = {0};
    (void)rw_detalloc_install(&derr);

    rw_record_opts o;
    summary sum;
    rw_opt_list redact, pyflags;
    int go = parse(argc, argv, &o, &sum, &redact, &pyflags);
    if (go != RW_OPTS_GO) {
        rw_opt_list_free(&redact);
        rw_opt_list_free(&pyflags);
        return go;
    }

    if (sum.have_until_fail) {
        rw_until_fail u = {.attempts = sum.until_fail, .keep_all = sum.keep == 1,
                           .chaos = sum.chaos, .chaos_seed = sum.chaos_seed,
                           .quiet = sum.quiet};
        int st = rw_until_fail_run(&u, &o);
        rw_opt_list_free(&redact);
        rw_opt_list_free(&pyflags);
        return st;
    }
    if (sum.chaos) {
        if (!sum.chaos_seed)
            sum.chaos_seed = rw_until_fail_random_seed();
        o.chaos_seed = sum.chaos_seed;
    }

    rw_record_result res;
    rw_err err = {0};
    rw_code rc = rw_record_run(&o, &res, &err);
    rw_opt_list_free(&redact);
    rw_opt_list_free(&pyflags);
    if (rc != RW_OK) {
        /* As python3: a script that cannot be found is a bad command line (2). */
        rw_cli_fail("record", &err);
        return rc == RW_ENOTFOUND || rc == RW_EINVAL ? RW_EXIT_USAGE : RW_EXIT_FAIL;
    }
    return res.exit_status;
}
