/* Values seam: how the session engine (session.h) asks for the values of a recorded
 * program (an expression in a frame at a position, a frame's arguments, a return
 * value, a statement's output). The log holds no values; the re-execution engine
 * (DESIGN.md, "Replaying"; replayer/engine/client.h) answers by running the program
 * again to the position, in a throwaway fork for each question.
 *
 * A provider answers one kind of question, rw_values_ask, with pdb's text. Two exist:
 * rw_values_log_only, which knows no value and says why (RW_VALUES_NEED_REEXEC), and
 * the engine's (rw_values_engine_new), which falls back to the engine's one-line
 * reason when the engine cannot start or diverged. Unit tests bring their own.
 */
#ifndef RW_VALUES_H
#define RW_VALUES_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* The message of the log-only provider (front ends quote it as is). */
#define RW_VALUES_NEED_REEXEC \
    "values need a re-execution replay, which this build does not have yet"

/* frame_index of the newest frame of the thread (the frame of the event at pos). */
#define RW_VALUES_NEWEST UINT32_MAX

/* frame_index of the k-th frame (k >= 1) of the exception's traceback below an
 * exception stop, as pdb's get_stack(f, tb) lists them after the stopped frame: the
 * engine evaluates in that returned frame's locals, as pdb does. */
#define RW_VALUES_TRACEBACK 0x80000000u

typedef struct rw_values_kept {
    uint64_t pos;
    int exact;
} rw_values_kept;

/* Where a value is asked for: the event number, its thread, and the frame (the
 * position of its CALL and its place in the thread's Python stack counted from the
 * newest, 0 or RW_VALUES_NEWEST = the newest, 1 its caller...; RW_VALUES_TRACEBACK | k
 * a traceback's frame). From the newest because the engine's stack may hold frames
 * below the program's first (runpy's, for `-m`) that the session does not show. */
typedef struct rw_values_at {
    uint64_t pos;
    uint32_t thread;
    uint64_t frame_call;
    uint32_t frame_index;
    /* pdb's user_exception and user_return leave __exception__ and __return__ in the
     * frame's locals: the session's exception and --Return-- stops before pos that may
     * be of this frame, oldest first (a later one's value replaces an earlier one's):
     * exact = 1 when it is this frame, 0 when it is a stop of a generator or coroutine
     * of the same code (the engine compares the frame objects). */
    const rw_values_kept *kept;
    size_t nkept;
    /* pos is itself an exception or --Return-- stop of the session (the provider may
     * keep its __exception__ / __return__ for later questions now). */
    int stop_keeps;
} rw_values_at;


/* The questions, as pdb's commands ask them (the engine's rw_engine_op). */
typedef enum rw_values_op {
    RW_VALUES_P,          /* text = expression: repr(value) (p, display) */
    RW_VALUES_PP,         /* text = expression: pprint.pformat(value) */
    RW_VALUES_WHATIS,     /* text = expression: whatis's line */
    RW_VALUES_EXEC,       /* text = statement(s) as "!stmt" runs them: what they printed */
    RW_VALUES_ARGS,       /* args's "name = repr" lines */
    RW_VALUES_RETVAL,     /* repr of the return value at a RETURN event */
    RW_VALUES_RETVAL_SHORT, /* reprlib.repr of it: the "->value" of a --Return-- stop */
    RW_VALUES_SOURCE,     /* text = expression: source's listing of the object */
    RW_VALUES_TRUTH,      /* text = expression: "1" when true, "0" when false */
    RW_VALUES_INTERACT_BEGIN, /* interact: a console on a fork kept until END */
    RW_VALUES_INTERACT_LINE,  /* text = one line typed at the console: what it printed */
    RW_VALUES_INTERACT_END,
} rw_values_op;

/* A provider. ask returns RW_OK with a new string in *out (caller frees), and
 * *raised = 1 when the evaluation raised (*out is then pdb's error line without the
 * "*** ": "NameError: name 'x' is not defined"); or an error with a one-line message
 * for the user saying why values cannot be had (no engine, a divergence). why returns
 * that message while values cannot be had at all, NULL while they can (it may start
 * the engine to know). */
typedef struct rw_values {
    void *ctx;
    rw_code (*ask)(void *ctx, const rw_values_at *at, rw_values_op op, const char *text,
                   char **out, int *raised, rw_err *err);
    const char *(*why)(void *ctx);
} rw_values;

/* The provider of a log-only replay: knows no value. */
extern const rw_values rw_values_log_only;

/* The provider of a replay told not to re-execute (replay --no-values). */
#define RW_VALUES_OFF "values are off: this replay was started with --no-values"
extern const rw_values rw_values_off;

/* A provider backed by a re-execution engine for the trace at trace_path, started at
 * the first question (or by rw_values_engine_start). When the engine cannot start
 * (another Python build, a trace without inputs, a build without the engine) every
 * question gets RW_EPYTHON and the engine's one-line reason. RW_ENOMEM only. Free
 * with rw_values_engine_free (ends the engine). */
rw_code rw_values_engine_new(const char *trace_path, rw_values **out, rw_err *err);
/* Starts the engine now; its error (the reason) when it cannot start. */
rw_code rw_values_engine_start(rw_values *v, rw_err *err);
void rw_values_engine_free(rw_values *v);

/* reprlib.repr's cut of a long repr, in place, from the whole repr: exact for ints
 * (maxlong 40), strings without escapes and other objects (maxstring, maxother 30); a
 * container's repr is left whole (reprlib cuts its elements, which the whole repr
 * cannot tell). The engine provider's RETVAL_SHORT when the engine has no
 * __return__. */
void rw_values_reprlib_cut(char *repr);

#endif
