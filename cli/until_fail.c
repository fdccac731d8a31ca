/* rewind record --until-fail N (until_fail.h): the supervisor. It never starts
 * Python: each attempt is a fork of this process that calls rw_record_run, as a
 * plain `rewind record` would (address-space randomisation is already off and the
 * fixed-address region untouched, so every attempt starts on the same heap). The
 * attempt's stdout and stderr go to unlinked temporary files; the failing attempt's are
 * copied to ours at the end (as Go's `stress` keeps a failure's output). Its result
 * (events, size, or why it could not record) comes back on a pipe.
 *
 * Names: without --keep all every attempt records to OUT itself, and a passing
 * attempt's trace is removed, with the traces of the programs it started (family.h),
 * before the next one; with --keep all attempt k records to OUT.<k>.rwd (its children
 * OUT.<k>.<pid>.rwd), all kept; when the failure came before any pass, up to 10
 * attempts more (without chaos, output not shown) look for a passing run to compare
 * with. The last lines name the traces and the commands to type next (the failed
 * test's name from rw_tests_scan of the failing trace).
 */
#include "until_fail.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "family.h"
#include "libc/libc.h"
#include "reader.h"
#include "tests.h"

/* What an attempt's process tells the supervisor (one message, written once). */
typedef struct uf_msg {
    int kind;               /* UF_DONE or UF_ERROR */
    int code;               /* UF_ERROR: rw_record_run's code */
    rw_record_result res;   /* UF_DONE */
    char msg[256];          /* UF_ERROR: its message */
} uf_msg;

enum { UF_NONE, UF_DONE, UF_ERROR };

/* The supervisor's SIGINT flag (a handler, not SIG_IGN: Python would inherit an
 * ignored SIGINT and never raise KeyboardInterrupt). */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        c += w;
        n -= (size_t)w;
    }
}

/* on_done in the attempt: the result goes to the supervisor, nothing is printed (the
 * attempt's stderr is the program's). */
static void child_done(const rw_record_result *res, void *ctx)
{
    const int *fd = ctx; /* the attempt's end of the result pipe */
    static uf_msg m;
    memset(&m, 0, sizeof m);
    m.kind = UF_DONE;
    m.res = *res;
    write_all(*fd, &m, sizeof m);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

uint64_t rw_until_fail_random_seed(void)
{
    uint64_t s = 0;
    while (s == 0) {
        if (getrandom(&s, sizeof s, 0) != (ssize_t)sizeof s) {
            struct timespec t;
            clock_gettime(CLOCK_REALTIME, &t);
            s = ((uint64_t)t.tv_nsec << 20) ^ (uint64_t)t.tv_sec ^ ((uint64_t)getpid() << 40);
        }
        s &= (1ull << 53) - 1; /* exact in JSON and Python floats alike */
    }
    return s;
}

/* The trace name of attempt k: OUT itself, or OUT without ".rwd", ".<k>.rwd". */
static void attempt_path(const char *base, int keep_all, unsigned long long k, char *out,
                         size_t cap)
{
    if (!keep_all) {
        snprintf(out, cap, "%s", base);
        return;
    }
    size_t len = strlen(base);
    int cut = len > 4 && !strcmp(base + len - 4, ".rwd") ? 4 : 0;
    snprintf(out, cap, "%.*s.%llu.rwd", (int)(len - (size_t)cut), base, k);
}

/* The default base name, as `rewind record` picks one: "<stem>-N.rwd", the smallest N
 * whose name (and, with --keep all, whose attempt names) are free. */
static int default_base(const rw_record_opts *o, const rw_until_fail *u, char *out, size_t cap)
{
    char stem[256];
    rw_record_stem(o, stem, sizeof stem);
    for (unsigned n = 1; n < 1000000; n++) {
        struct stat sb;
        char first[PATH_MAX];
        snprintf(out, cap, "%s-%u.rwd", stem, n);
        attempt_path(out, u->keep_all, 1, first, sizeof first);
        if (lstat(out, &sb) != 0 && lstat(first, &sb) != 0)
            return 0;
    }
    return -1;
}

/* Removes the trace at path and, first, those of the programs its run started
 * (children, subprocesses, an exec'd image; theirs in turn). */
static void remove_trace(const char *path, int depth)
{
    rw_reader *r = NULL;
    rw_err err = {0};
    if (depth < 16 && rw_reader_open(path, &r, &err) == RW_OK) {
        rw_relative *kids = NULL;
        size_t n = 0;
        if (rw_family_children(path, r, &kids, &n, &err) == RW_OK) {
            for (size_t i = 0; i < n; i++)
                if (!kids[i].damaged || kids[i].started_by[0])
                    remove_trace(kids[i].path, depth + 1);
            free(kids);
        }
        const Rewind__RunEnd *e = rw_reader_end(r);
        if (e && e->exec && e->exec->trace && e->exec->trace[0] && !strchr(e->exec->trace, '/')) {
            char img[PATH_MAX];
            const char *slash = strrchr(path, '/');
            snprintf(img, sizeof img, "%.*s%s", slash ? (int)(slash - path + 1) : 0, path,
                     e->exec->trace);
            remove_trace(img, depth + 1);
        }
        rw_reader_free(r);
    }
    unlink(path);
}

/* A file for an attempt's output: unlinked, in $TMPDIR or /tmp. -1 on failure. */
static int capture_file(void)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    char tmpl[PATH_MAX];
    snprintf(tmpl, sizeof tmpl, "%s/rewind-until-fail-XXXXXX", dir);
    fd = mkostemp(tmpl, O_CLOEXEC);
    if (fd >= 0)
        unlink(tmpl);
    return fd;
}

/* Copies what the attempt wrote into capture file from to fd to. */
static void replay_output(int from, int to)
{
    if (from < 0)
        return;
    char buf[65536];
    ssize_t n;
    lseek(from, 0, SEEK_SET);
    while ((n = read(from, buf, sizeof buf)) > 0)
        write_all(to, buf, (size_t)n);
}

static int same_file(int a, int b)
{
    struct stat x, y;
    return fstat(a, &x) == 0 && fstat(b, &y) == 0 && x.st_dev == y.st_dev &&
           x.st_ino == y.st_ino;
}

/* The attempt's process: records the program once into o->output and exits with its
 * status, like `rewind record`. Never returns. */
static _Noreturn void run_attempt(rw_record_opts *o, int out_fd, int err_fd, int res_fd,
                                  pid_t supervisor)
{
    signal(SIGINT, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* the attempt ends with the supervisor */
    if (getppid() != supervisor)
        _exit(128 + SIGTERM);
    if (out_fd >= 0)
        dup2(out_fd, STDOUT_FILENO);
    if (err_fd >= 0)
        dup2(err_fd, STDERR_FILENO);
    /* The program gets the descriptors a run without rewind has: the capture files'
     * own numbers go, the result pipe moves out of its way (rw_own_fd). */
    if (out_fd > STDERR_FILENO)
        close(out_fd);
    if (err_fd > STDERR_FILENO && err_fd != out_fd)
        close(err_fd);
    res_fd = rw_own_fd(res_fd);
    static int fd;
    fd = res_fd;
    o->on_done = child_done;
    o->ctx = &fd;
    rw_record_result res;
    rw_err err = {0};
    rw_code rc = rw_record_run(o, &res, &err);
    if (rc != RW_OK) {
        static uf_msg m;
        memset(&m, 0, sizeof m);
        m.kind = UF_ERROR;
        m.code = rc;
        snprintf(m.msg, sizeof m.msg, "%s", err.msg[0] ? err.msg : rw_code_name(rc));
        write_all(res_fd, &m, sizeof m);
        exit(rc == RW_ENOTFOUND || rc == RW_EINVAL ? RW_EXIT_USAGE : RW_EXIT_FAIL);
    }
    exit(res.exit_status);
}

/* The test the failing run failed, for the commands suggested: its id in buf when the
 * trace holds exactly one failed (or erroring) test, else "NAME". Returns how many
 * tests the trace holds (0: not a pytest or unittest run, or unreadable). */
static size_t failed_test(const char *path, char *buf, size_t cap)
{
    snprintf(buf, cap, "NAME");
    rw_reader *r = NULL;
    rw_err err = {0};
    size_t ntests = 0;
    if (rw_reader_open(path, &r, &err) != RW_OK)
        return 0;
    rw_tests t;
    memset(&t, 0, sizeof t);
    if (rw_tests_scan(r, &t, &err) == RW_OK) {
        size_t nfailed = 0, which = 0;
        ntests = t.n;
        for (size_t i = 0; i < t.n; i++)
            if (t.v[i].outcome == RW_TEST_FAILED || t.v[i].outcome == RW_TEST_ERROR) {
                nfailed++;
                which = i;
            }
        if (nfailed == 1 && t.v[which].id && !strchr(t.v[which].id, '\'') &&
            strlen(t.v[which].id) < cap)
            snprintf(buf, cap, "%s", t.v[which].id);
    }
    rw_tests_free(&t);
    rw_reader_free(r);
    return ntests;
}

/* The last lines of a failure: the traces, and what to type next. */
static void report_failure(const char *fail, const char *pass, int keep_all)
{
    char name[1024];
    int tests = failed_test(fail, name, sizeof name) > 0; /* else not a test run */
    int known = tests && strcmp(name, "NAME") != 0;
    if (tests) {
        fprintf(stderr, "rewind: next: rewind tests %s\n", fail);
        fprintf(stderr, "              rewind replay %s --test '%s@failure'\n", fail, name);
    } else {
        fprintf(stderr, "rewind: next: rewind replay %s\n", fail);
    }
    if (pass)
        fprintf(stderr, "              rewind diff %s%s%s%s %s\n", known ? "--test '" : "",
                known ? name : "", known ? "' " : "", pass, fail);
    else if (keep_all)
        fprintf(stderr, "rewind: no attempt passed, so there is no run to compare with: "
                        "record one with the same command without --until-fail, then "
                        "'rewind diff PASS %s'\n", fail);
    else
        fprintf(stderr, "rewind: --keep all also keeps the passing runs, to compare with "
                        "'rewind diff PASS %s'\n", fail);
}

/* "failed (exit status 1)", "timed out (status 124)", "crashed (SIGSEGV)". */
static void outcome_text(int wst, const rw_record_opts *o, char *buf, size_t cap)
{
    if (WIFSIGNALED(wst)) {
        const char *ab = sigabbrev_np(WTERMSIG(wst));
        snprintf(buf, cap, "FAILED (killed by SIG%s)", ab ? ab : "?");
    } else if (WEXITSTATUS(wst) == 124 && o->timeout_s > 0) {
        snprintf(buf, cap, "FAILED (timed out after %g s, exit status 124)", o->timeout_s);
    } else {
        snprintf(buf, cap, "FAILED (exit status %d)", WEXITSTATUS(wst));
    }
}

int rw_until_fail_run(const rw_until_fail *u, rw_record_opts *o)
{
    char base[PATH_MAX], path[PATH_MAX];
    if (o->output) {
        snprintf(base, sizeof base, "%s", o->output);
    } else if (default_base(o, u, base, sizeof base) != 0) {
        fprintf(stderr, "rewind record: no free trace name in this directory: use -o\n");
        return RW_EXIT_USAGE;
    }
    if (o->kind == RW_RUN_SCRIPT && access(o->target, F_OK) != 0) {
        fprintf(stderr, "rewind record: %s: %s\n", o->target, strerror(errno));
        return RW_EXIT_USAGE;
    }
    if (!o->force) {
        for (unsigned long long k = 1; k <= (u->keep_all ? u->attempts : 1); k++) {
            struct stat sb;
            attempt_path(base, u->keep_all, k, path, sizeof path);
            if (lstat(path, &sb) == 0) {
                fprintf(stderr, "rewind record: %s already exists: choose another name or "
                                "add --force\n", path);
                return RW_EXIT_USAGE;
            }
        }
    }
    int out_fd = capture_file();
    int err_fd = same_file(STDOUT_FILENO, STDERR_FILENO) ? out_fd : capture_file();
    if (out_fd < 0 || err_fd < 0) {
        fprintf(stderr, "rewind record: cannot create a temporary file for the attempts' "
                        "output (%s): set TMPDIR to a writable folder\n", strerror(errno));
        return RW_EXIT_FAIL;
    }
    struct sigaction sa, old_int;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);

    int status = RW_EXIT_OK;
    double t_start = now_s();
    unsigned long long k = 1;
    /* With --keep all, a failure before any pass is followed by up to EXTRA attempts
     * more (within N) until one passes: a run to compare with (rewind diff). */
    enum { EXTRA = 10 };
    unsigned long long passed_k = 0, failed_k = 0, limit = u->attempts;
    char fail_path[PATH_MAX] = "";
    for (; k <= limit; k++) {
        if (interrupted) { /* Ctrl-C between two attempts */
            fprintf(stderr, "rewind: interrupted after %llu attempts\n", k - 1);
            status = 130;
            break;
        }
        attempt_path(base, u->keep_all, k, path, sizeof path);
        uint64_t seed = 0;
        if (u->chaos && !failed_k) { /* the runs to compare with go without chaos */
            seed = u->chaos_seed ? u->chaos_seed + (k - 1) : rw_until_fail_random_seed();
            if (!seed)
                seed = 1;
        }
        o->output = path;
        o->force = 1; /* checked above; a passing attempt's name is reused */
        o->chaos_seed = seed;
        if (out_fd >= 0 && (ftruncate(out_fd, 0) != 0 || lseek(out_fd, 0, SEEK_SET) < 0))
            out_fd = -1;
        if (err_fd >= 0 && err_fd != out_fd &&
            (ftruncate(err_fd, 0) != 0 || lseek(err_fd, 0, SEEK_SET) < 0))
            err_fd = -1;
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) != 0) {
            fprintf(stderr, "rewind record: cannot make a pipe: %s\n", strerror(errno));
            status = RW_EXIT_FAIL;
            break;
        }
        fflush(NULL);
        double t0 = now_s();
        pid_t me = getpid();
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "rewind record: cannot start attempt %llu: %s\n", k, strerror(errno));
            close(pfd[0]);
            close(pfd[1]);
            status = RW_EXIT_FAIL;
            break;
        }
        if (pid == 0) {
            close(pfd[0]);
            run_attempt(o, out_fd, err_fd, pfd[1], me);
        }
        close(pfd[1]);
        int wst = 0;
        while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
            ;
        double t1 = now_s();
        uf_msg m;
        memset(&m, 0, sizeof m);
        size_t got = 0;
        ssize_t n;
        while (got < sizeof m && (n = read(pfd[0], (char *)&m + got, sizeof m - got)) > 0)
            got += (size_t)n;
        close(pfd[0]);
        if (got != sizeof m)
            m.kind = UF_NONE;
        if (m.kind == UF_ERROR) {
            /* rewind could not record: not the program's failure. */
            replay_output(err_fd, STDERR_FILENO);
            fprintf(stderr, "rewind record: %s\n", m.msg);
            if (!failed_k) /* else the failing attempt's status stands */
                status = m.code == RW_ENOTFOUND || m.code == RW_EINVAL ? RW_EXIT_USAGE
                                                                       : RW_EXIT_FAIL;
            break;
        }
        int failed = !(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
        char seedtxt[64] = "";
        if (seed)
            snprintf(seedtxt, sizeof seedtxt, ", chaos seed %llu", (unsigned long long)seed);
        if (interrupted) {
            replay_output(out_fd, STDOUT_FILENO);
            if (err_fd != out_fd)
                replay_output(err_fd, STDERR_FILENO);
            fprintf(stderr, "rewind: attempt %llu/%llu interrupted after %.2f s%s; its trace "
                            "is kept: %s\n", k, u->attempts, t1 - t0, seedtxt, path);
            status = 130;
            break;
        }
        if (!failed) {
            passed_k = k;
            if (failed_k) {
                fprintf(stderr, "rewind: attempt %llu/%llu passed in %.2f s%s: a run to "
                                "compare with\n", k, u->attempts, t1 - t0, seedtxt);
                break;
            }
            if (!u->quiet)
                fprintf(stderr, "rewind: attempt %llu/%llu passed in %.2f s%s (%.1f s in all)\n",
                        k, u->attempts, t1 - t0, seedtxt, t1 - t_start);
            if (m.kind == UF_DONE && m.res.trace_msg[0])
                fprintf(stderr, "rewind record: %s: the trace is incomplete: %s\n", path,
                        m.res.trace_msg);
            if (!u->keep_all)
                remove_trace(path, 0);
            continue;
        }
        char what[96];
        outcome_text(wst, o, what, sizeof what);
        if (failed_k) { /* looking for a passing run after the failure */
            fprintf(stderr, "rewind: attempt %llu/%llu %s in %.2f s%s; its trace: %s\n", k,
                    u->attempts, what, t1 - t0, seedtxt, path);
            continue;
        }
        fprintf(stderr, "rewind: attempt %llu/%llu %s in %.2f s%s (%.1f s in all)\n", k,
                u->attempts, what, t1 - t0, seedtxt, t1 - t_start);
        /* The failing attempt's output, as the program wrote it. */
        fflush(stderr);
        replay_output(out_fd, STDOUT_FILENO);
        if (err_fd != out_fd)
            replay_output(err_fd, STDERR_FILENO);
        if (m.kind == UF_DONE && m.res.trace_msg[0])
            fprintf(stderr, "rewind record: %s: the trace is incomplete: %s\n", path,
                    m.res.trace_msg);
        struct stat sb;
        char ev[40] = "?";
        if (m.kind == UF_DONE)
            rw_cli_grouped(m.res.events, ev, sizeof ev);
        double kb = stat(path, &sb) == 0 ? (double)sb.st_size / 1024.0 : 0.0;
        char size[32];
        if (kb < 1024)
            snprintf(size, sizeof size, "%.1f kB", kb);
        else
            snprintf(size, sizeof size, "%.1f MB", kb / 1024.0);
        fprintf(stderr, "rewind: attempt %llu of %llu failed%s; its trace: %s (%s events, %s)",
                k, u->attempts, seedtxt, path, ev, size);
        status = WIFSIGNALED(wst) ? 128 + WTERMSIG(wst) : WEXITSTATUS(wst);
        failed_k = k;
        snprintf(fail_path, sizeof fail_path, "%s", path);
        if (u->keep_all && passed_k) {
            char last[PATH_MAX];
            attempt_path(base, 1, passed_k, last, sizeof last);
            fprintf(stderr, "; a passing run's: %s\n", last);
            break;
        }
        fprintf(stderr, "\n");
        if (!u->keep_all || k == u->attempts)
            break;
        limit = k + EXTRA < u->attempts ? k + EXTRA : u->attempts;
        fprintf(stderr, "rewind: no attempt passed before it: going on until one does, to "
                        "compare with (at most %llu more attempts%s)\n", limit - k,
                u->chaos ? ", without --chaos" : "");
    }
    if (failed_k && !interrupted) {
        char pass[PATH_MAX];
        if (passed_k)
            attempt_path(base, 1, passed_k, pass, sizeof pass);
        if (passed_k > failed_k)
            fprintf(stderr, "rewind: attempt %llu failed: %s; a passing run's: %s\n",
                    failed_k, fail_path, pass);
        /* without --keep all a passing attempt's trace is gone */
        report_failure(fail_path, u->keep_all && passed_k ? pass : NULL, u->keep_all);
    }
    if (!failed_k && k > u->attempts && status == RW_EXIT_OK) {
        char first[PATH_MAX], last[PATH_MAX];
        attempt_path(base, 1, 1, first, sizeof first);
        attempt_path(base, 1, u->attempts, last, sizeof last);
        if (u->keep_all)
            fprintf(stderr, "rewind: no failure in %llu attempts (%.1f s); the traces are kept: "
                            "%s%s%s\n", u->attempts, now_s() - t_start,
                    u->attempts > 1 ? first : "", u->attempts > 1 ? " ... " : "", last);
        else
            fprintf(stderr, "rewind: no failure in %llu attempts (%.1f s); no trace kept "
                            "(--keep all keeps every attempt's)\n",
                    u->attempts, now_s() - t_start);
    }
    sigaction(SIGINT, &old_int, NULL);
    if (out_fd >= 0)
        close(out_fd);
    if (err_fd >= 0 && err_fd != out_fd)
        close(err_fd);
    return status;
}
