/* The front end's side of the re-execution engine (DESIGN.md, "Replaying": values).
 *
 * rw_engine_open starts an engine process: the rewind executable itself in its hidden
 * engine mode (cli/cmd_engine.c), which embeds the same interpreter as the recorder
 * and runs the recorded program from the trace with every input answered from the log
 * (recorder/libc/input.h) and nothing performed. The two talk over a pipe pair with
 * the protocol of docs/engine-protocol.md. The engine only runs forwards: a position
 * behind it restarts it from the program's start.
 *
 * Owner: replayer/engine/client.c. Not thread-safe: one caller per rw_engine.
 */
#ifndef RW_ENGINE_CLIENT_H
#define RW_ENGINE_CLIENT_H

#include <stdint.h>

#include "error.h"

typedef struct rw_engine rw_engine;

/* Checkpoints (docs/reexecution.md, "Checkpoints"): by default the engine keeps up to
 * this many snapshots of itself, holding up to this many MiB of private memory
 * together, and goes back from the nearest one instead of restarting. */
#define RW_ENGINE_CHECKPOINTS 2000u
#define RW_ENGINE_CHECKPOINT_MIB 1024u

/* The limits of the engines started from now on in this process (`rewind replay
 * --checkpoints N --checkpoint-memory MiB`); max 0 turns checkpoints off. */
void rw_engine_set_checkpoints(unsigned max, unsigned mib);

/* Starts an engine for the trace at path. RW_EPYTHON with a one-line reason when the
 * trace cannot be re-executed here (another Python build, no inputs in the trace, a
 * missing extension module): the log-only commands keep working without it. */
rw_code rw_engine_open(const char *trace_path, rw_engine **out, rw_err *err);

/* Whether the engines started from now on run under their sandbox (default: yes;
 * docs/reexecution.md, "Sandbox"): 0 is the user's --no-sandbox, and only the command
 * line sets it, never a trace. A system call the sandbox stops makes the goto or
 * question that ran into it fail with RW_ECORRUPT and one line naming the call
 * ("the replayed program tried unlinkat ... after event N: ..."), as a divergence
 * does: the engine has ended, and the next goto starts a new one. */
void rw_engine_set_sandbox(int on);

/* Ends the engine process (and any fork of it). NULL is fine. */
void rw_engine_close(rw_engine *e);

/* Runs the engine to event number pos: it stops in the hook of that event, with the
 * program's state exactly as pdb would see it there. On a divergence (the re-run does
 * not match the log) returns RW_ECORRUPT with the report in err->msg (cut to fit:
 * rw_engine_report has it whole); the engine is then unusable until a goto restarts
 * it (any goto after a divergence does). RW_EINVAL when the program ended before pos,
 * RW_EIO when the engine process was lost (the next goto starts a new one). */
rw_code rw_engine_goto(rw_engine *e, uint64_t pos, rw_err *err);

/* The last divergence report, whole ("" if none): several lines, the first one
 * "the replay diverged from the recording at event N: ...". Borrowed until the next
 * goto. */
const char *rw_engine_report(const rw_engine *e);

/* A note the engine gave at a stop (the trace was recorded by another build of rewind;
 * the replay's memory differs from the recording's from some event: inside/check.h),
 * each once per rw_engine; NULL when there is no new one. Borrowed until the next goto. */
const char *rw_engine_take_note(rw_engine *e);

/* The position the engine is stopped at (UINT64_MAX before the first goto). */
uint64_t rw_engine_pos(const rw_engine *e);

/* What to ask at the stop. Each runs in a throwaway fork of the engine, so nothing
 * changes the recording's future, except that INTERACT_* keep one fork for a series
 * of statements. */
typedef enum rw_engine_op {
    RW_ENGINE_P,          /* text = expression: repr(value), as pdb's p */
    RW_ENGINE_PP,         /* pprint.pformat(value), as pdb's pp */
    RW_ENGINE_WHATIS,     /* pdb's whatis text */
    RW_ENGINE_EXEC,       /* text = statement(s), as pdb's !stmt: what it printed */
    RW_ENGINE_ARGS,       /* pdb's args lines */
    RW_ENGINE_RETVAL,     /* repr of the return value at a return event */
    RW_ENGINE_SOURCE,     /* text = expression: pdb's source listing of the object */
    RW_ENGINE_TRUTH,      /* text = expression: "1" when true, "0" when false */
    RW_ENGINE_INTERACT_BEGIN,
    RW_ENGINE_INTERACT_LINE, /* text = one line of an interactive console */
    RW_ENGINE_INTERACT_END,
    RW_ENGINE_CARRY,      /* text = lines of KEEP answers (or empty): put them in the
                           * locals of `frame` for the next questions at this stop (pdb's
                           * __exception__ and __return__ stay from earlier stops); the
                           * engine forgets them at the next goto. Answers "" */
    RW_ENGINE_KEEP,       /* the stop's __exception__ / __return__, as a text CARRY
                           * takes (base64 of their pickle); raised when they cannot
                           * be pickled or there are none */
} rw_engine_op;

/* frame of a traceback's frame at an exception stop: RW_ENGINE_TRACEBACK | k, k >= 1 the
 * k-th frame below the stopped one (pdb's get_stack(f, tb) order). */
#define RW_ENGINE_TRACEBACK 0x80000000u

/* Asks op about frame `frame` of the stopped thread (0 = outermost, as
 * rw_values_at.frame_index; UINT32_MAX = the newest; RW_ENGINE_TRACEBACK | k a frame
 * of the exception's traceback) and returns its text output in
 * *out (caller frees). *raised is set when the evaluation raised: *out is then pdb's
 * error text without the "*** " prefix ("NameError: name 'x' is not defined").
 * INTERACT_LINE sets *raised to 2 when the console wants more lines (pdb's "..."
 * prompt); what the line printed is in *out either way. */
rw_code rw_engine_ask(rw_engine *e, rw_engine_op op, uint32_t frame, const char *text,
                      char **out, int *raised, rw_err *err);

#endif
