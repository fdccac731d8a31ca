/* rewind record: argument parsing, the summary line and the exit status. The work
 * is done by recorder/ (rw_record_run). */
#include "commands.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recorder.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rewind record [options] (SCRIPT | -m MODULE | -c CODE) [ARGS...]\n\n"
            "Run a Python program as python3 would and record it into a trace file.\n\n"
            "options:\n"
            "  -o FILE           write the trace to FILE (default: <name>-N.rwd in the\n"
            "                    current directory, with the smallest N not taken)\n"
            "  --force           let -o replace an existing file\n"
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
            "  --flush-ms N      make buffered records durable every N ms (0: only at exit)\n"
            "  --timeout SECONDS when the time is up, record every thread's stacks, close\n"
            "                    the trace and exit with status 124 (for hung tests)\n"
            "  --dump-signal SIG record every thread's stacks when SIG arrives and go on\n"
            "                    (default USR1; a name, a number or 'none')\n"
            "  -h, --help        show this help\n\n"
            "The program's own exit status is rewind's exit status.\n");
}

/* "USR1", "SIGUSR1", "10" -> signal number; 0 for "none"; -1 when not a signal a
 * dump may use (the fatal ones, SIGKILL, SIGSTOP, unknown names). */
static int parse_signal(const char *s)
{
    static const struct {
        const char *name;
        int sig;
    } names[] = {{"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"QUIT", SIGQUIT}, {"HUP", SIGHUP},
                 {"TERM", SIGTERM}, {"INT", SIGINT}, {"PWR", SIGPWR}, {"WINCH", SIGWINCH},
                 {"ALRM", SIGALRM}, {"TRAP", SIGTRAP}, {"URG", SIGURG}};
    if (!strcmp(s, "none"))
        return 0;
    if (!strncmp(s, "SIG", 3))
        s += 3;
    int sig = -1;
    char *end;
    long v = strtol(s, &end, 10);
    if (*s && !*end)
        sig = v > 0 && v < NSIG ? (int)v : -1;
    for (size_t i = 0; sig < 0 && i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(s, names[i].name))
            sig = names[i].sig;
    if (sig == SIGKILL || sig == SIGSTOP || sig == SIGSEGV || sig == SIGFPE || sig == SIGABRT ||
        sig == SIGBUS || sig == SIGILL)
        return -1;
    return sig;
}

static int bad(const char *fmt, const char *arg)
{
    fprintf(stderr, "rewind record: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, ": see 'rewind record --help'\n");
    return RW_EXIT_USAGE;
}

/* Formats n with thousands separators. */
static const char *grouped(unsigned long long n, char *buf, size_t cap)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%llu", n);
    size_t j = 0;
    for (int i = 0; i < len && j + 2 < cap; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            buf[j++] = ',';
        buf[j++] = digits[i];
    }
    buf[j] = '\0';
    return buf;
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
} summary;

static void on_done(const rw_record_result *res, void *ctx)
{
    const summary *s = ctx;
    fflush(stdout);
    if (res->trace_code != RW_OK || res->trace_msg[0])
        fprintf(stderr, "rewind record: %s: the trace is incomplete: %s\n", res->path,
                res->trace_msg[0] ? res->trace_msg : rw_code_name(res->trace_code));
    if (s->quiet)
        return;
    char ev[40], al[40], sz[40];
    fprintf(stderr, "rewind: recorded %s events, %s allocations in %.2f s -> %s (%s)\n",
            grouped(res->events, ev, sizeof ev), grouped(res->allocations, al, sizeof al),
            res->seconds, res->path, human_bytes(res->file_bytes, sz, sizeof sz));
}

int rw_cmd_record(int argc, char **argv)
{
    rw_record_opts o;
    rw_record_opts_init(&o);
    const char **redact = calloc((size_t)argc + 1, sizeof *redact);
    if (!redact) {
        fprintf(stderr, "rewind record: out of memory\n");
        return RW_EXIT_FAIL;
    }
    summary sum = {0};
    int i = 1;
    int have_target = 0;
    for (; i < argc && !have_target; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        /* Options that take a value: "--opt VALUE" or "--opt=VALUE"; -o and -m/-c
         * also accept the value glued on ("-ofile", "-mpkg"). */
#define TAKES(name)                                                                     \
    ((!strcmp(a, name) && (i + 1 < argc ? (val = argv[++i], 1) : (val = NULL, 1))) ||  \
     (!strncmp(a, name "=", strlen(name) + 1) && (val = a + strlen(name) + 1, 1)))
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            free(redact);
            return RW_EXIT_OK;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            sum.quiet = 1;
        } else if (!strcmp(a, "--force")) {
            o.force = 1;
        } else if (!strcmp(a, "--no-lines")) {
            o.lines = 0;
        } else if (!strcmp(a, "--no-allocations")) {
            o.allocations = 0;
        } else if (!strcmp(a, "--no-c-calls")) {
            o.c_calls = 0;
        } else if (!strcmp(a, "--line-times")) {
            o.line_times = 1;
        } else if (!strcmp(a, "--no-follow")) {
            o.follow = 0;
        } else if (TAKES("--child-of")) { /* internal: a recorded run started this one */
            if (!val)
                return free(redact), bad("%s needs HOW:PID:TRACE", a);
            o.child_of = val;
        } else if (!strcmp(a, "--keep-env")) {
            o.keep_env = 1;
        } else if (TAKES("--redact")) {
            if (!val)
                return free(redact), bad("%s needs a PATTERN", a);
            redact[o.nredact++] = val;
        } else if (TAKES("--python")) {
            if (!val)
                return free(redact), bad("%s needs a PATH", a);
            o.python = val;
        } else if (TAKES("--flush-ms")) {
            char *end;
            long v = val ? strtol(val, &end, 10) : -1;
            if (!val || *end || end == val || v < 0 || v > 3600000)
                return free(redact), bad("--flush-ms needs a number of milliseconds, not '%s'",
                                         val ? val : "");
            o.flush_ms = (int)v;
        } else if (TAKES("--timeout")) {
            char *end;
            double v = val ? strtod(val, &end) : -1;
            if (!val || *end || end == val || !(v > 0) || v > 1e7)
                return free(redact), bad("--timeout needs a number of seconds, not '%s'",
                                         val ? val : "");
            o.timeout_s = v;
        } else if (TAKES("--dump-signal")) {
            int sig = val ? parse_signal(val) : -1;
            if (sig < 0)
                return free(redact),
                       bad("--dump-signal needs a signal name or number (not a fatal one) "
                           "or 'none', not '%s'", val ? val : "");
            o.dump_signal = sig;
        } else if (!strcmp(a, "-o") || !strncmp(a, "--output", 8) || !strncmp(a, "-o", 2)) {
            if (!strcmp(a, "-o") || !strcmp(a, "--output"))
                val = i + 1 < argc ? argv[++i] : NULL;
            else if (!strncmp(a, "--output=", 9))
                val = a + 9;
            else if (a[1] == 'o')
                val = a + 2;
            else
                return free(redact), bad("unknown option %s", a);
            if (!val || !*val)
                return free(redact), bad("%s needs a FILE", a);
            o.output = val;
        } else if (!strncmp(a, "-m", 2) || !strncmp(a, "-c", 2)) {
            o.kind = a[1] == 'm' ? RW_RUN_MODULE : RW_RUN_COMMAND;
            if (a[2])
                o.target = a + 2;
            else if (i + 1 < argc)
                o.target = argv[++i];
            else
                return free(redact), bad("%s needs an argument", a);
            have_target = 1;
        } else if (!strcmp(a, "--")) {
            if (i + 1 >= argc)
                return free(redact), bad("%s", "no SCRIPT after --");
            o.kind = RW_RUN_SCRIPT;
            o.target = argv[++i];
            have_target = 1;
        } else if (a[0] == '-' && a[1]) {
            return free(redact), bad("unknown option %s", a);
        } else {
            o.kind = RW_RUN_SCRIPT;
            o.target = a;
            have_target = 1;
        }
#undef TAKES
    }
    if (!have_target) {
        free(redact);
        fprintf(stderr, "rewind record: nothing to run: give SCRIPT, -m MODULE or -c CODE\n");
        usage(stderr);
        return RW_EXIT_USAGE;
    }
    if (o.kind == RW_RUN_MODULE && !o.target[0])
        return free(redact), bad("%s", "-m needs a module name");
    o.nargs = argc - i;
    o.args = argv + i;
    o.redact = redact;
    o.on_done = on_done;
    o.ctx = &sum;

    rw_record_result res;
    rw_err err = {0};
    rw_code rc = rw_record_run(&o, &res, &err);
    free(redact);
    if (rc != RW_OK) {
        rw_cli_fail("record", &err);
        return rc == RW_ENOTFOUND || rc == RW_EINVAL ? RW_EXIT_USAGE : RW_EXIT_FAIL;
    }
    return res.exit_status;
}
