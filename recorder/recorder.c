/* rw_record_run, the run's life: start the embedded interpreter like python3
 * (pysetup.c), open the trace (meta.c for its metadata), install the hooks, run the
 * program with Py_RunMain, and close the trace on every way out: the program's return,
 * exit()/_exit()/exec (recorder/libc), a signal's report (crash/), a fork child's own
 * trace (start_child). The run's end records the exit status, how it ended, the
 * uncaught exception, the threads and the children.
 *
 * Order: Py_InitializeFromConfig (site runs unrecorded), then the writer is opened
 * (its metadata needs sys.executable and friends), then the hooks go in, then
 * Py_RunMain. Startup allocations are therefore not in the trace; a reader ignores
 * the frees of blocks it never saw allocated, as tracemalloc does.
 *
 * Inputs (libc/input.h) are captured from just before the interpreter starts (its
 * start-up reads are inputs too) to the trace's close; rewind's own work in between
 * (the metadata, the trace's opening and closing, the summary line) is paused. The
 * re-execution engine (rw_record_engine) runs this same path with the inputs answered
 * from the recorded trace, so that the program starts on the same heap.
 */
#include "recorder.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "audithook.h"
#include "chaos.h"
#include "crash.h"
#include "defs.h"
#include "follow.h"
#include "gcmark.h"
#include "libc/input.h"
#include "libc/libc.h"
#include "libc/shmem.h"
#include "meta.h"
#include "pyhelp.h"
#include "pysetup.h"
#include "secrets.h"
#include "source.h"
#include "state.h"
#include "sysalloc.h"
#include "threads.h"
#include "threadwrap.h"

extern char **environ;

const char *const rw_record_default_redact[] = {
    "*PASS*",    "*SECRET*", "*TOKEN*",   "*KEY*",     "*AUTH*",    "*CREDENTIAL*",
    "*COOKIE*",  "*SESSION*", "*DSN*",    "*WEBHOOK*", "*PRIVATE*", NULL,
};

void rw_record_opts_init(rw_record_opts *o)
{
    memset(o, 0, sizeof *o);
    o->lines = o->allocations = o->c_calls = 1;
    o->flush_ms = -1;
    o->dump_signal = SIGUSR1;
    o->follow = 1;
    o->family_fd = -1;
}

#define RW_MAX_CHILDREN 1024 /* children listed in RunEnd; more are only found by name */

/* The run, from start to close. One per process (the hooks are global). */
typedef struct run {
    const rw_record_opts *o;
    rw_record_result *res;
    rw_uncaught uncaught;
    struct timespec t0;
    uint64_t tick0;
    int64_t unix0;
    int finished;
    int finalized; /* Py_FinalizeEx has run (Py_AtExit called) */
    Rewind__ExecInfo exec; /* stop_reason "exec": what ran instead */
    int exec_set;
    /* What a forked child needs to open a trace of its own (start_child). */
    uint64_t seed;
    double ns_per_tick, calib_ns;
    char python[PATH_MAX];
    int is_child;          /* this process is a fork child recording its own trace */
    pthread_t child_thread;/* is_child: the thread that forked, the child's only one */
    /* The children this run forked (RunEnd.children), appended by on_libc_end from
     * the thread that forked. */
    _Atomic size_t nchildren;
    Rewind__ChildRun children[RW_MAX_CHILDREN];
    Rewind__ChildRun *childp[RW_MAX_CHILDREN];
    char child_trace[RW_MAX_CHILDREN][256]; /* a file name (NAME_MAX) */
} run;

static run *the_run; /* set while a run is in progress (Py_AtExit has no context) */

static int64_t ts_ns(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static int64_t now_ns(clockid_t clk)
{
    struct timespec t;
    clock_gettime(clk, &t);
    return ts_ns(&t);
}

/* A (CLOCK_MONOTONIC, tick) pair read together: of three tries, the one whose clock
 * read took the fewest ticks (a preemption between the reads would skew one). */
static void clock_pair(int64_t *ns, uint64_t *tick)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 3; i++) {
        uint64_t a = rw_tick();
        int64_t t = now_ns(CLOCK_MONOTONIC);
        uint64_t b = rw_tick();
        uint64_t span = b >= a ? b - a : UINT64_MAX; /* a tick going back: the worst */
        if (i == 0 || span < best) {
            best = span;
            *ns = t;
            *tick = b >= a ? a + span / 2 : a;
        }
    }
}

/* ns per tick, measured over 1 ms against CLOCK_MONOTONIC: each end is known to
 * within a clock read (about 25 ns), so within 1e-4. It used to spin for 5 ms,
 * which every recording paid. */
static double calibrate_tick(void)
{
    int64_t a, b;
    uint64_t ta, tb;
    clock_pair(&a, &ta);
    do
        clock_pair(&b, &tb);
    while (b - a < 1000000);
    return tb > ta ? (double)(b - a) / (double)(tb - ta) : 1.0;
}

/* ---- output file ----------------------------------------------------------------------- */

void rw_record_stem(const rw_record_opts *o, char *out, size_t cap)
{
    if (o->kind == RW_RUN_SCRIPT) {
        const char *base = strrchr(o->target, '/');
        base = base ? base + 1 : o->target;
        snprintf(out, cap, "%s", *base ? base : "script");
        char *dot = strrchr(out, '.');
        if (dot && dot != out)
            *dot = '\0';
    } else if (o->kind == RW_RUN_MODULE) {
        snprintf(out, cap, "%s", o->target);
    } else {
        snprintf(out, cap, "command");
    }
}

static rw_code pick_output(const rw_record_opts *o, char *out, size_t cap, rw_err *err)
{
    if (o->output) {
        struct stat sb;
        if (!o->force && lstat(o->output, &sb) == 0)
            return rw_err_set(err, RW_EINVAL,
                              "%s already exists: choose another name or add --force", o->output);
        snprintf(out, cap, "%s", o->output);
        return RW_OK;
    }
    char stem[256];
    rw_record_stem(o, stem, sizeof stem);
    for (unsigned n = 1; n < 1000000; n++) {
        struct stat sb;
        snprintf(out, cap, "%s-%u.rwd", stem, n);
        if (lstat(out, &sb) != 0 && errno == ENOENT)
            return RW_OK;
    }
    return rw_err_set(err, RW_EINVAL, "no free name %s-N.rwd in this directory: use -o", stem);
}

/* ---- end of the run -------------------------------------------------------------------- */

/* The terminating signals, held in the calling thread while a trace opens or closes:
 * arriving then, one would cut the trace short (the handlers are already gone, or not
 * yet able to record); held, it acts as soon as the trace is whole. Only for this
 * thread: a signal the kernel gives another thread of the process then still acts at
 * once (the usual case at exit is a single thread). */
static void hold_term_signals(sigset_t *was)
{
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigaddset(&term, SIGHUP);
    sigaddset(&term, SIGQUIT);
    sigaddset(&term, SIGINT);
    pthread_sigmask(SIG_BLOCK, &term, was);
}

static void finish_trace(run *r, int status, int sig, const char *reason);

/* Closes the run's trace (once): the crash, hang and terminating-signal handlers go
 * first, with the terminating signals held from before they go until the trace is
 * whole. */
static void finish(run *r, int status, int sig, const char *reason)
{
    if (rw_real_pid() != rw_st.pid)
        return; /* a forked child without a trace of its own: the trace is the parent's */
    sigset_t was;
    rw_in_pause();
    hold_term_signals(&was);
    rw_crash_uninstall();
    int closed_here = !r->finished;
    if (closed_here)
        finish_trace(r, status, sig, reason);
    pthread_sigmask(SIG_SETMASK, &was, NULL);
    if (closed_here) {
        /* The traces of the programs this run started are whole when the first
         * `rewind record` returns (follow.h: not at an exec, whose image waits, nor
         * when a signal ends the run). */
        if (!sig && strcmp(reason, "exec"))
            r->res->family_running = rw_follow_wait_family(RW_FAMILY_WAIT_S);
        if (r->o->on_done && !r->is_child) /* a child's stderr is the program's */
            r->o->on_done(r->res, r->o->ctx);
    }
    rw_in_resume();
}

static void finish_trace(run *r, int status, int sig, const char *reason)
{
    r->finished = 1;
    status &= 0xFF; /* what the parent sees: exit(300) is 44 */
    atomic_store(&rw_st.on, 0);
    if (atomic_load(&rw_st.side_n))
        rw_side_drain();

    Rewind__RunEnd end;
    rewind__run_end__init(&end);
    end.exit_status = status;
    end.term_signal = sig;
    end.end_unix_ns = now_ns(CLOCK_REALTIME);
    end.end_tick = rw_tick();
    end.stop_reason = (char *)reason;
    if (!strcmp(reason, "SystemExit"))
        end.exit_message = (char *)rw_source_exit_message();
    if (r->exec_set)
        end.exec = &r->exec;
    size_t nkids = atomic_load(&r->nchildren);
    if (nkids > RW_MAX_CHILDREN)
        nkids = RW_MAX_CHILDREN;
    atomic_thread_fence(memory_order_acquire);
    end.n_children = 0;
    while (end.n_children < nkids && r->childp[end.n_children])
        end.n_children++;
    end.children = r->childp;
    if (r->uncaught.seen) {
        end.uncaught_type = r->uncaught.type;
        end.uncaught_message = r->uncaught.message;
        end.uncaught_pos = r->uncaught.pos;
        end.n_uncaught_traceback = r->uncaught.ntb;
        end.uncaught_traceback = r->uncaught.tbp;
    }
    size_t nth;
    end.threads = rw_threads_final(&nth);
    end.n_threads = nth;
    char lost[400] = "";
    if (atomic_load(&rw_st.failed))
        snprintf(lost, sizeof lost, "%s", rw_st.failure);
    if (rw_st.side_dropped)
        snprintf(lost + strlen(lost), sizeof lost - strlen(lost),
                 "%s%llu allocation records made without the GIL were dropped (side buffer full)",
                 lost[0] ? "; " : "", (unsigned long long)rw_st.side_dropped);
    end.lost = lost;

    rw_record_result *res = r->res;
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    res->seconds = (double)(ts_ns(&t1) - ts_ns(&r->t0)) / 1e9;
    res->exit_status = status;
    res->term_signal = sig;
    res->allocations = rw_st.nallocs + rw_st.side_nallocs;
    rw_writer_stats ws;
    memset(&ws, 0, sizeof ws);
    rw_err err = {0};
    /* Capture ends before the writer goes: another thread of the program (a Pool's
     * handler threads, a daemon) may be logging a call right now, and must not reach a
     * closed writer. attach(NULL) waits for a call being logged. What the process does
     * after this (Py_FinalizeEx's reads) is not the recorded program's any more. */
    rw_in_stop();
    rw_in_attach_writer(NULL);
    res->trace_code = rw_writer_close(rw_st.w, &end, &ws, &err);
    /* ws.lost says what was lost (the events after #N); the error alone does not. */
    if (rw_crash_closed())
        snprintf(res->trace_msg, sizeof res->trace_msg,
                 "a fatal signal's report closed the trace, and the program's own handler "
                 "let it run on unrecorded");
    else if (ws.failed && ws.lost[0])
        snprintf(res->trace_msg, sizeof res->trace_msg, "%s", ws.lost);
    else if (res->trace_code != RW_OK)
        snprintf(res->trace_msg, sizeof res->trace_msg, "%s", err.msg);
    else if (lost[0]) /* what the hooks could not record (RunEnd.lost), cut to fit */
        snprintf(res->trace_msg, sizeof res->trace_msg, "%.*s",
                 (int)sizeof res->trace_msg - 1, lost);
    rw_st.w = NULL;
    rw_st.s = NULL;
    res->events = ws.events ? ws.events : rw_st.nevents;
    struct stat sb;
    res->file_bytes = stat(res->path, &sb) == 0 ? (uint64_t)sb.st_size : ws.bytes_written;
    res->writer_cpu = (double)ws.writer_cpu_ns * 1e-9;
    res->shm_unfollowed = rw_shm_missed_bytes();
}

/* Py_AtExit: the interpreter is gone. Stop recording; when Py_RunMain is about to kill
 * the process with SIGINT (unhandled KeyboardInterrupt), close the trace now. */
static void at_exit(void)
{
    run *r = the_run;
    if (!r)
        return;
    atomic_store(&rw_st.on, 0);
    r->finalized = 1;
    if (rw_source_interrupted()) {
        finish(r, 128 + SIGINT, SIGINT, "signal");
    }
}

/* Fills r->exec from the exec about to happen and, when the new image is our Python,
 * makes ex run it under `rewind record` into "<trace stem>.exec.rwd" (follow.h). The
 * process is about to be replaced: what is allocated here is never freed. */
static void describe_exec(run *r, rw_libc_exec *ex)
{
    enum { MAX_ARGS = 64, MAX_ARG = 500 };
    Rewind__ExecInfo *e = &r->exec;
    rewind__exec_info__init(e);
    e->path = (char *)(ex->path ? ex->path : "");
    size_t argc = 0;
    while (ex->argv && ex->argv[argc])
        argc++;
    static char *args[MAX_ARGS];
    static char argbuf[MAX_ARGS][MAX_ARG + 1];
    for (size_t i = 0; i < argc && i < MAX_ARGS; i++) {
        rw_secrets_scrub_arg(ex->argv, (int)i, argbuf[i], sizeof argbuf[i]);
        args[i] = argbuf[i];
    }
    e->argv = args;
    e->n_argv = argc < MAX_ARGS ? argc : MAX_ARGS;
    e->trace = (char *)"";
    e->not_followed = (char *)"";
    r->exec_set = 1;
    if (!ex->path)
        return;
    char **nargv = malloc((RW_FOLLOW_EXTRA_ARGS + 2 * argc + 5) * sizeof *nargv);
    static char name[RW_FOLLOW_NAME_CAP];
    const char *why = NULL;
    const char *exe = nargv ? rw_follow_argv(ex->path, ex->argv, ex->envp, "exec", (long)getpid(),
                                             name, sizeof name, nargv,
                                             RW_FOLLOW_EXTRA_ARGS + 2 * argc + 5, &why)
                            : NULL;
    if (exe) {
        e->trace = (char *)rw_follow_base(name);
        ex->path = exe;
        ex->argv = nargv;
    } else {
        free(nargv);
        if (why)
            e->not_followed = (char *)why;
        else if (!r->o->follow)
            e->not_followed = (char *)"--no-follow";
        else
            e->not_followed = (char *)"not Python";
    }
}

/* rw_libc_features's question for a recorder: whether it records feature name. */
static int recorder_has(const char *name, const void *ctx)
{
    (void)ctx;
    return !rw_meta_feature_off(name);
}

/* The process's name as python3's would be: the interpreter's file name ("python3"),
 * which the kernel shows in /proc/self/stat and comm, ps and top, and psutil's
 * Process().name(); the threads the program starts take it from the main thread.
 * rewind executes itself again through /proc/self/exe (detalloc.h), which named it
 * "exe". The system's call: the C library's prctl is the program's input. */
static void name_process(const char *python)
{
    const char *base = strrchr(python, '/');
    base = base ? base + 1 : python;
    char comm[16] = {0}; /* the kernel keeps 15 bytes */
    memcpy(comm, base, strnlen(base, sizeof comm - 1));
    (void)syscall(SYS_prctl, PR_SET_NAME, comm, 0, 0, 0);
}

/* The C library's way out (recorder/libc): close the trace before the process goes.
 * exit() after Py_FinalizeEx is Py_Exit ending a SystemExit (script and -c modes);
 * before it, a C extension's exit(). */
static void on_libc_end(rw_libc_way way, int status, rw_libc_exec *ex)
{
    run *r = the_run;
    if (!r)
        return;
    const char *reason = NULL; /* the ways out: the trace is closed below */
    switch (way) {
    case RW_LIBC_EXIT:
        reason = r->finalized ? "SystemExit" : "exit()";
        break;
    case RW_LIBC_ATEXIT:
        reason = "exit";
        break;
    case RW_LIBC__EXIT:
        if (rw_crash_closed())
            return; /* the timeout's report closed the trace and ends the process */
        reason = "_exit";
        break;
    case RW_LIBC_EXEC:
        describe_exec(r, ex);
        reason = "exec";
        status = 0;
        break;
    case RW_LIBC_FORKED: {
        /* In the parent, right after fork(): remember the child. Its own trace is
         * opened by after_fork_child if it runs Python (os.fork, multiprocessing); a
         * C-level fork that execs (subprocess) is followed by the exec wrapper. */
        size_t i = atomic_fetch_add(&r->nchildren, 1);
        if (i >= RW_MAX_CHILDREN)
            break;
        Rewind__ChildRun *c = &r->children[i];
        rewind__child_run__init(c);
        c->pid = status;
        c->pos = rw_st.nevents;
        if (r->o->follow) {
            char name[PATH_MAX];
            rw_follow_child_trace(status, name, sizeof name);
            snprintf(r->child_trace[i], sizeof r->child_trace[i], "%s", rw_follow_base(name));
            c->trace = r->child_trace[i];
        } else {
            c->not_followed = (char *)"--no-follow";
        }
        atomic_thread_fence(memory_order_release);
        r->childp[i] = c; /* published last: finish stops at the first unpublished one */
        break;
    }
    case RW_LIBC_EXEC_FAILED:
        fprintf(stderr, "rewind record: the exec failed (%s): the program goes on unrecorded\n",
                strerror(errno));
        break;
    }
    if (reason) {
        finish(r, status, 0, reason);
    }
}

/* A forked child must never write to the parent's trace, nor log inputs into it (a
 * child that runs Python starts both again in start_child_trace). */
static void in_child(void)
{
    atomic_store(&rw_st.on, 0);
    rw_in_restart_child();
    rw_in_stop();
}

/* The recorded clock's step (docs/format.md, "Time"): the low bits of a tick left out
 * while one step stays at most RW_TIME_STEP_NS. Reading the clock costs more than that
 * (rdtsc: 10-11 ns on the development VM), so those bits are the read's own jitter; on
 * calls.py they were a quarter of the writer's zstd time and a tenth of its encoding
 * (bench/record/RESULTS.md, "Where the time goes"). 0 when two ticks are longer. */
#define RW_TIME_STEP_NS 4.0

static unsigned time_shift_for(double ns_per_tick)
{
    unsigned s = 0;
    while (s < 8 && (double)(UINT64_C(2) << s) * ns_per_tick <= RW_TIME_STEP_NS)
        s++;
    return s;
}

/* Writer options of the run's recordings. */
static void writer_opts(const rw_record_opts *o, const char *cwd, double ns_per_tick,
                        rw_writer_opts *wo)
{
    rw_writer_opts_default(wo);
    wo->time_shift = time_shift_for(ns_per_tick);
    if (o->flush_ms >= 0)
        wo->flush_ms = (uint32_t)o->flush_ms;
    wo->line_times = o->line_times;
    wo->base_dir = cwd;
    if (o->engine && o->engine->sink) {
        wo->sink = o->engine->sink;
        wo->sink_ctx = o->engine->sink_ctx;
    }
    if (!o->engine) { /* the trace's descriptor is out of the program's reach */
        wo->own_fd = rw_own_fd;
        wo->close_fd = rw_own_fd_close;
    }
}

static void start_child_trace(run *r);

/* A forked child that runs Python (os.fork, multiprocessing's fork and forkserver
 * methods) records into a trace of its own, "<stem>.<pid>.rwd" (follow.h): the
 * parent's writer, thread table and definitions are left behind, new ones start, and
 * the child's trace opens with the stack it was forked in. Runs in the child as
 * os.register_at_fork's after_in_child, single-threaded, GIL held, recording off. On
 * failure the child runs on unrecorded and says so once on stderr. */
static void start_child(run *r)
{
    /* A child is often told to end as soon as it starts (Pool.terminate). */
    sigset_t was;
    rw_in_pause();
    hold_term_signals(&was);
    start_child_trace(r);
    pthread_sigmask(SIG_SETMASK, &was, NULL);
    rw_in_resume();
}

static void start_child_trace(run *r)
{
    char path[PATH_MAX];
    pid_t pid = getpid();
    rw_follow_child_trace(pid, path, sizeof path);
    int64_t parent_pid = rw_st.pid;
    char parent_trace[PATH_MAX];
    snprintf(parent_trace, sizeof parent_trace, "%s", r->res->path);

    rw_err err = {0};
    rw_code rc = rw_defs_restart(&err);
    rw_threads_restart();
    /* Inputs: the child's own, from here, kept until its writer is open. */
    rw_in_restart_child();
    rw_in_start(RW_IN_RECORD, NULL);
    rw_st.w = NULL;
    rw_st.s = NULL;
    r->finished = 1; /* until the child's trace is open: nothing to close before */
    rw_st.cur_thread = 0;
    rw_st.nevents = rw_st.nallocs = 0;
    atomic_store(&rw_st.side_n, 0);
    atomic_flag_clear(&rw_st.side_lock);
    rw_st.side_dropped = rw_st.side_nallocs = 0;
    atomic_store(&rw_st.failed, 0);
    rw_st.failure[0] = '\0';

    r->unix0 = now_ns(CLOCK_REALTIME);
    r->tick0 = rw_tick();
    rw_meta mt;
    memset(&mt, 0, sizeof mt);
    rw_meta_build(&mt, r->o, r->unix0, r->tick0, r->seed, r->ns_per_tick);
    mt.m.calib_ns_per_event = r->calib_ns;
    mt.m.started_by = (char *)"fork";
    mt.m.parent_pid = parent_pid;
    mt.m.parent_trace = parent_trace;
    rw_writer_opts wo;
    writer_opts(r->o, mt.m.cwd, r->ns_per_tick, &wo);
    if (rc == RW_OK)
        rc = rw_writer_open(path, &wo, 1, &mt.m, &rw_st.w, &err);
    rw_meta_free(&mt);
    if (rc != RW_OK) {
        fprintf(stderr, "rewind record: the forked child %ld is not recorded: %s\n", (long)pid,
                err.msg);
        rw_st.w = NULL;
        rw_in_stop();
        return;
    }
    rw_st.s = rw_writer_stream(rw_st.w);
    rw_in_attach_writer(rw_st.w);
    rw_st.pid = pid; /* the handlers and wrappers now act for this process's trace */
    snprintf(r->res->path, sizeof r->res->path, "%s", path);
    rw_follow_init(path, r->python, r->o, &err); /* its own children: "<stem>.<pid>.<pid>" */
    rw_dir_hide_traces(path);
    r->is_child = 1;
    r->child_thread = pthread_self();
    r->finished = r->finalized = 0;
    r->exec_set = 0;
    atomic_store(&r->nchildren, 0);
    memset(r->childp, 0, sizeof r->childp); /* the parent's children are not ours */
    memset(&r->uncaught, 0, sizeof r->uncaught);
    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    rw_threads_define_current(NULL, 1);
    rw_source_seed_stack();
    atomic_store(&rw_st.on, 1);
}

/* A fork child forked from a thread other than the main one ends when that thread's
 * target returns: glibc then ends the process without exit() (the last thread), and
 * our writer thread would keep it alive. Close the trace first (threadwrap.h). */
static void thread_done(void)
{
    run *r = the_run;
    if (r && r->is_child && !r->finished && rw_real_pid() == rw_st.pid &&
        pthread_equal(pthread_self(), r->child_thread)) {
        finish(r, 0, 0, "exit");
    }
}

static PyObject *after_fork_child(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    run *r = the_run;
    if (r && !r->finished && r->o->follow && !rw_crash_closed())
        start_child(r);
    Py_RETURN_NONE;
}

static PyMethodDef after_fork_def = {"_rewind_after_fork_child", after_fork_child, METH_NOARGS,
                                     NULL};

/* os.register_at_fork(after_in_child=...): Python calls it in a child of os.fork. */
static rw_code register_at_fork(rw_err *err)
{
    /* posix, which python3 imports at start-up: os is not there yet under -S. */
    PyObject *os = PyImport_ImportModule("posix");
    PyObject *fn = PyCFunction_New(&after_fork_def, NULL);
    PyObject *reg = os ? PyObject_GetAttrString(os, "register_at_fork") : NULL;
    PyObject *args = PyTuple_New(0);
    PyObject *kw = fn ? Py_BuildValue("{s:O}", "after_in_child", fn) : NULL;
    PyObject *res = reg && args && kw ? PyObject_Call(reg, args, kw) : NULL;
    int ok = res != NULL;
    Py_XDECREF(res);
    Py_XDECREF(kw);
    Py_XDECREF(args);
    Py_XDECREF(reg);
    Py_XDECREF(fn);
    Py_XDECREF(os);
    PyErr_Clear();
    return ok ? RW_OK : rw_err_set(err, RW_EPYTHON, "os.register_at_fork failed");
}

rw_code rw_record_run(const rw_record_opts *o, rw_record_result *res, rw_err *err)
{
    /* Zero as a static is; cleared again only for a second run in one process: its
     * 340 KB (the children's tables) would otherwise be 85 page faults of every run. */
    static run r;
    static int ran;
    if (ran++)
        memset(&r, 0, sizeof r);
    memset(res, 0, sizeof *res);
    r.o = o;
    r.res = res;

    const rw_record_engine *eng = o->engine;
    char python[PATH_MAX];
    if (eng) {
        /* The recorded interpreter; the script comes from the log, not from here. */
        snprintf(python, sizeof python, "%s", eng->python);
    } else {
        RW_TRY(rw_pysetup_pick(o->python, python, sizeof python, err));
        if (o->kind == RW_RUN_SCRIPT) {
            struct stat sb;
            if (stat(o->target, &sb) != 0) {
                if (o->child_of) /* a child: python3's own message and status (2) */
                    rw_pysetup_exec_unrecorded(o, python);
                return rw_err_set(err, RW_ENOTFOUND, "%s: %s", o->target, strerror(errno));
            }
        }
    }
    RW_TRY(pick_output(o, res->path, sizeof res->path, err));

    uint64_t seed = eng ? eng->hash_seed : 0;
    if (!eng) { /* as a recorder before the features it is told to leave out (tests) */
        rw_libc_features(recorder_has, NULL);
        if (rw_meta_feature_off("shared-memory"))
            rw_shm_logged = 0;
        if (rw_meta_feature_off("thread-teardown"))
            rw_threadwrap_thread_teardown(0);
        name_process(python);
    }
    rw_in_start(eng ? RW_IN_REPLAY : RW_IN_RECORD, eng ? eng->replay : NULL);
    rw_in_identity_facts();
    rw_code started = rw_pysetup_start(o, python, &seed, err);
    if (started != RW_OK) {
        rw_in_stop();
        return started;
    }
    rw_gc_mark gc_mark;
    rw_gc_mark_take(&gc_mark); /* rewind's own work below must not move the GC */
    /* From here to Py_RunMain, everything is rewind's own work: its libc calls (the
     * metadata's getcwd and uname, the trace's opening, the clock's calibration) are
     * neither logged nor answered from the log. The Python-visible work in between is
     * the same in both modes. */
    rw_in_pause();
    rw_code checked = rw_pysetup_check_stdlib(o->force, err);
    if (checked == RW_OK && eng && eng->python_build && eng->python_build[0] &&
        strcmp(eng->python_build, rw_pysetup_build()))
        checked = rw_err_set(err, RW_EPYTHON,
                             "the trace was recorded with another Python build (%s; this "
                             "rewind embeds %s)", eng->python_build, rw_pysetup_build());
    if (checked != RW_OK) {
        rw_in_stop();
        rw_in_resume();
        Py_FinalizeEx();
        return checked;
    }

    /* Before any hook: it runs two calls under a profile function of its own. */
    rw_gctemp_install();
    rw_st.lines = o->lines;
    rw_st.allocations = o->allocations;
    rw_st.c_calls = o->c_calls;
    rw_st.line_times = o->line_times;
    rw_st.pid = rw_real_pid();
    double ns_per_tick = calibrate_tick();
    r.unix0 = now_ns(CLOCK_REALTIME);
    r.tick0 = rw_tick();

    rw_meta mt;
    memset(&mt, 0, sizeof mt);
    {
        /* The secrets to scrub from everything written from now on (secrets.h). */
        int nargs = o->nargs + 1;
        char **args = rw_sys_calloc((size_t)nargs + 1, sizeof *args);
        if (args) {
            args[0] = (char *)o->target;
            for (int i = 0; i < o->nargs; i++)
                args[i + 1] = o->args[i];
            rw_secrets_init(environ, o->keep_env, o->redact, o->nredact, nargs, args);
            rw_sys_free(args);
        }
    }
    rw_meta_build(&mt, o, r.unix0, r.tick0, seed, ns_per_tick);
    mt.m.python_program = python;
    mt.m.inputs = 1;
    rw_code rc = rw_defs_init(o->kind == RW_RUN_COMMAND ? o->target : NULL, err);
    if (rc == RW_OK) {
        /* The hook's own cost, before the writer exists (scratch stream only). */
        rw_tls.thread = 1; /* the calibration does not define a thread */
        mt.m.calib_ns_per_event = rw_source_calibrate();
        rw_tls.thread = 0;
    }

    r.seed = seed;
    r.ns_per_tick = ns_per_tick;
    r.calib_ns = mt.m.calib_ns_per_event;
    snprintf(r.python, sizeof r.python, "%s", python);
    rw_writer_opts wo;
    writer_opts(o, mt.m.cwd, ns_per_tick, &wo);
    /* From the trace's file to the handlers that close it (rw_crash_install) and the
     * recording's start, a terminating signal would leave a trace with no trailer:
     * held until the run is under way, then the handlers close it. */
    sigset_t term_was;
    hold_term_signals(&term_was);
    if (rc == RW_OK) {
        rw_in_pause(); /* its thread is rewind's, not the program's (libc/pthread.c) */
        rc = rw_writer_open(res->path, &wo, o->force, &mt.m, &rw_st.w, err);
        rw_in_resume();
    }
    rw_meta_free(&mt);
    if (rc != RW_OK && o->child_of && !eng) {
        /* A process the recorded program started cannot write its trace (it changed
         * user, as subprocess's user= does, or its directory is read-only): the
         * program runs as without rewind rather than fail where python3 would not. */
        fprintf(stderr, "rewind record: %s; this child process runs unrecorded\n", err->msg);
        fflush(stderr);
        rw_in_stop();
        pthread_sigmask(SIG_SETMASK, &term_was, NULL); /* exec keeps a mask */
        rw_pysetup_exec_unrecorded(o, python);
    }
    if (rc != RW_OK) {
        pthread_sigmask(SIG_SETMASK, &term_was, NULL);
        rw_in_stop();
        rw_in_resume();
        Py_FinalizeEx();
        return rc;
    }
    rw_st.s = rw_writer_stream(rw_st.w);
    if (!eng)
        rw_in_attach_writer(rw_st.w); /* the start-up's inputs first */
    rc = rw_follow_init(res->path, python, o, err);
    rw_dir_hide_traces(eng ? NULL : res->path);
    if (rc == RW_OK) {
        rw_threads_define_current("MainThread", 1);
        the_run = &r;
        Py_AtExit(at_exit);
        rw_libc_set_end(on_libc_end);
        pthread_atfork(NULL, NULL, in_child);
        rc = rw_audithook_install(&r.uncaught, err);
    }
    if (rc == RW_OK)
        rc = rw_threadwrap_install(err);
    if (rc == RW_OK)
        rc = register_at_fork(err);
    rw_threadwrap_set_done_hook(thread_done);
    if (rc == RW_OK) {
        rw_crash_opts co = {res->path, o->timeout_s, o->dump_signal};
        rc = rw_crash_install(&co, err);
    }
    if (rc != RW_OK) {
        /* Nothing ran: no trace. Disarm what was armed, so that the exit that follows
         * does not close a trace that is gone. */
        rw_libc_set_end(NULL);
        the_run = NULL;
        rw_crash_uninstall();
        rw_in_attach_writer(NULL);
        rw_in_stop();
        rw_writer_close(rw_st.w, NULL, NULL, NULL);
        rw_st.w = NULL;
        rw_st.s = NULL;
        unlink(res->path);
        pthread_sigmask(SIG_SETMASK, &term_was, NULL);
        rw_in_resume();
        Py_FinalizeEx();
        return rc;
    }
    if (o->allocations)
        rw_alloc_install();
    if (eng)
        rw_source_set_hooks(eng->trace, eng->profile);
    clock_gettime(CLOCK_MONOTONIC, &r.t0);
    atomic_store(&rw_st.on, 1);
    rw_source_install_current();
    rw_source_install_others();
    /* Perturbed values are logged as inputs; the engine of a chaos trace makes what
     * chaos allocated, at the same point (chaos.h). */
    if (eng) {
        if (eng->chaos_seed)
            rw_chaos_start(eng->chaos_seed, 1);
    } else if (o->chaos_seed) {
        rw_chaos_start(o->chaos_seed, 0);
    }
    /* The GC as python3 has it when its main runs: generation counts and container
     * free lists as they were before rewind's own work above (gcmark.h). */
    rw_tls.busy++;
    rw_gc_mark_back(&gc_mark);
    rw_tls.busy--;
    rw_in_resume();
    pthread_sigmask(SIG_SETMASK, &term_was, NULL); /* a signal held since acts now */

    int status = Py_RunMain();
    /* -m mode hands a SystemExit's status back here (script and -c modes end in
     * exit(), see on_libc_end). */
    int system_exit = !r.uncaught.seen && (status || rw_source_system_exit_seen());
    finish(&r, status, 0, system_exit ? "SystemExit" : "exit");
    rw_in_stop();
    rw_libc_set_end(NULL);
    the_run = NULL;
    rw_threads_fini();
    return RW_OK;
}
