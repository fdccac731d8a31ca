/* Recorder: runs a Python program in the embedded interpreter, exactly as python3
 * would, while recording it into a trace file.
 *
 * Called by cli/cmd_record.c, once per process, from the main thread. Everything the
 * recorder does inside the interpreter (event source, allocation and audit hooks,
 * thread wrapper) is set up and torn down here.
 */
#ifndef RW_RECORDER_H
#define RW_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "records.h"

typedef enum rw_run_kind {
    RW_RUN_SCRIPT,  /* target: path of the script */
    RW_RUN_MODULE,  /* target: module name (python3 -m) */
    RW_RUN_COMMAND, /* target: program text (python3 -c) */
} rw_run_kind;

/* What happened, for the summary line. */
typedef struct rw_record_result {
    int exit_status;      /* what python3 would have returned */
    int term_signal;      /* the process is about to die of this signal (0: none) */
    uint64_t events;
    uint64_t allocations;
    double seconds;       /* wall time from the start of recording to its end */
    char path[4096];      /* the trace file */
    uint64_t file_bytes;
    double writer_cpu;    /* CPU seconds of the trace's writer thread */
    rw_code trace_code;   /* RW_OK, or why the trace is incomplete */
    char trace_msg[256];
    /* 1 when programs this run started were still being recorded when it ended, after
     * waiting RW_FAMILY_WAIT_S seconds for them (follow.h, the family pipe). */
    int family_running;
    /* Bytes of shared memory that other processes could write and that were not
     * followed (recorder/libc/shmem.h: more than it follows in all). */
    uint64_t shm_unfollowed;
} rw_record_result;

/* How long the end of a run waits for the traces of the programs it started. */
#define RW_FAMILY_WAIT_S 5.0

/* Engine mode (cli/cmd_engine.c, DESIGN.md "Replaying"): rw_record_run re-executes a
 * recorded run instead of recording a new one. The path is the recording's, with these
 * differences only: the inputs are answered from `replay` (recorder/libc/input.h,
 * RW_IN_REPLAY), the interpreter is the recorded one (python, hash_seed; the caller has
 * set the environment and cwd from the trace), the trace goes to o->output (the
 * engine's own, which it compares with the recorded one), and trace/profile replace the
 * event source's hook functions (source.h: rw_source_set_hooks) so that the engine can
 * stop in the hook of an event. */
typedef struct rw_reader rw_reader;
struct _object;
struct _frame;
typedef struct rw_record_engine {
    rw_reader *replay;          /* the recorded trace (stays open for the run) */
    const char *python;         /* Metadata.python_program */
    const char *python_build;   /* Metadata.python_build: refused when ours differs */
    uint64_t hash_seed;         /* Metadata.hash_seed */
    uint64_t chaos_seed;        /* Metadata.chaos_seed (chaos.h: what chaos allocated is
                                 * allocated again, nothing is perturbed) */
    /* Py_tracefunc's (PyObject is struct _object, PyFrameObject struct _frame) */
    int (*trace)(struct _object *, struct _frame *, int, struct _object *);
    int (*profile)(struct _object *, struct _frame *, int, struct _object *);
    /* The engine's own records go here instead of into a trace (rw_writer_opts.sink). */
    uint64_t (*sink)(void *ctx, const rw_rec *recs, size_t n);
    void *sink_ctx;
} rw_record_engine;

typedef struct rw_record_opts {
    rw_run_kind kind;
    const char *target;
    int nargs;                  /* the program's arguments after the target */
    char **args;
    const char *output;         /* NULL: "<stem>-N.rwd" in cwd, smallest N not taken */
    int force;                  /* output may replace an existing file */
    int lines;                  /* record line events (and exception events) */
    int allocations;
    int c_calls;
    int line_times;             /* time every line event too (costs one clock read) */
    int keep_env;               /* no default redaction patterns */
    const char *const *redact;  /* extra patterns */
    size_t nredact;
    const char *python;         /* interpreter whose setup to use; NULL: see docs */
    const char *const *py_flags;/* python3's own options (-B, -u, -X dev, ...), given to
                                 * the interpreter before the program */
    size_t npy_flags;
    int flush_ms;               /* < 0: the writer's default */
    double timeout_s;           /* > 0: end the run after this many seconds, with every
                                 * thread's stacks in the trace (exit status 124) */
    int dump_signal;            /* signal that dumps every thread's stacks into the
                                 * trace (default SIGUSR1); 0: none */
    int follow;                 /* record Python children and exec'd Python images into
                                 * traces of their own (default 1) */
    const char *child_of;       /* "HOW:PPID:PARENT_TRACE" when a recorded run started
                                 * this one (follow.h), else NULL */
    int family_fd;              /* a subprocess's inherited family pipe (follow.h), or -1 */
    uint64_t chaos_seed;        /* != 0: --chaos, perturbing thread hand-overs, the order
                                 * of ready descriptors and the clocks from this seed
                                 * (chaos.h; Metadata.chaos_seed) */
    /* Called exactly once when the trace is closed, in the recording process, before
     * rw_record_run returns or (unhandled KeyboardInterrupt) before the process kills
     * itself with SIGINT. */
    void (*on_done)(const rw_record_result *res, void *ctx);
    void *ctx;
    const rw_record_engine *engine; /* NULL: record (the default) */
} rw_record_opts;

/* Default redaction patterns: case-insensitive globs on variable names. NULL-ended. */
extern const char *const rw_record_default_redact[];

/* Sets the defaults: everything recorded, default redaction, writer's flush period,
 * no timeout, SIGUSR1 dumps stacks. */
void rw_record_opts_init(rw_record_opts *o);

/* Runs the program and records it. Returns RW_OK once the program has run (then
 * *res is filled and on_done has been called; res->exit_status is the status to exit
 * with), or an error when it could not be started: the interpreter or script cannot
 * be found (RW_ENOTFOUND), the output exists (RW_EINVAL) or cannot be created
 * (RW_EIO), the interpreter failed to initialise (RW_EPYTHON). */
rw_code rw_record_run(const rw_record_opts *o, rw_record_result *res, rw_err *err);

/* The stem of the default trace name ("<stem>-N.rwd"): the script's name without its
 * extension, the module's name, or "command". */
void rw_record_stem(const rw_record_opts *o, char *out, size_t cap);

#endif
