/* Session engine: a debugging session over a recording, driven from C. It knows
 * where it stands (a position, the viewed thread, the stack there and the selected
 * frame), moves forwards and backwards as bdb's stepping rules say (step, next,
 * return, until, continue and their reverses, goto), keeps the breakpoint table, and
 * answers every question a front end asks about the trace (files, sources, codes,
 * threads). Each move fills an rw_stop; nothing here prints or formats text for a
 * user: front ends (pdb.h today, an editor protocol later) do.
 *
 * Values (p, args, retval, conditions) are asked of an rw_values provider (values.h)
 * through the session: a breakpoint's condition at each hit, during the search (the
 * log finds the candidate lines; the provider evaluates there). One session per
 * thread; the reader it reads may be shared.
 */
#ifndef RW_SESSION_H
#define RW_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "reader.h"
#include "values.h"

typedef struct rw_session rw_session;

/* Why a move ended where it did. */
typedef enum rw_stop_reason {
    RW_STOP_NONE = 0,      /* no move yet */
    RW_STOP_LINE,          /* a LINE event a stepping rule stopped at */
    RW_STOP_CALL,          /* a CALL event (pdb's --Call--) */
    RW_STOP_RETURN,        /* a RETURN event (--Return--) */
    RW_STOP_EXCEPTION,     /* an EXCEPTION event (exception names it) */
    RW_STOP_BREAKPOINT,    /* a LINE event where breakpoint `breakpoint` stopped the search */
    RW_STOP_END,           /* the end of the program: its last RETURN (moved = 0 when the
                            * session was there already) */
    RW_STOP_THREAD_END,    /* the viewed thread (not the main one) has nothing after
                            * this: moved = 0 */
    RW_STOP_UNCAUGHT,      /* the postmortem view of the uncaught exception (moved = 0
                            * when already in it) */
    RW_STOP_START,         /* the start of the program: nothing before (moved = 0), or
                            * back at its first line (rcontinue without a hit, moved = 1) */
    RW_STOP_AT_CALL,       /* rreturn at the CALL of the selected frame: moved = 0 */
    RW_STOP_CRASH,         /* the last Python event before a fatal signal or timeout */
} rw_stop_reason;

/* One Python frame of the stack at a stop; frames[0] is the outermost (the main
 * program's frame in the main thread). */
typedef struct rw_session_frame {
    uint32_t code_id;      /* CodeDef id */
    uint32_t file_id;      /* FileDef id; 0 when unknown */
    const char *file;      /* canonical path, as pdb names it; "?" when unknown */
    const char *function;  /* CodeDef name; "<lambda>" when it has none */
    uint32_t line;         /* current line; the def line at its CALL */
    uint64_t call_pos;     /* position of the CALL that opened it (0 in a postmortem
                            * traceback, which the log gives without calls) */
} rw_session_frame;

/* An exception: type name and message ("" when none). Borrowed from the session. */
typedef struct rw_session_exception {
    const char *type;
    const char *message;
    int internal;          /* a StopIteration raised without a traceback by a generator's
                            * return into a `for` or an `await` (pdb: "Internal ...") */
} rw_session_exception;

/* What a crash stop knows of the signal or timeout that ended the run. */
typedef struct rw_session_crash {
    int timeout;           /* the run was ended by --timeout */
    double timeout_s;
    int hardware;          /* a hardware fault (fault_addr is meaningful), not a kill,
                            * raise or abort */
    uint64_t fault_addr;
    const char *signal_name;
} rw_session_crash;

/* A breakpoint of the table. Numbers start at 1 and are never reused. */
typedef struct rw_breakpoint {
    int number;
    uint32_t file_id;      /* FileDef id */
    uint32_t line;
    int temporary;         /* deleted at the first stop it makes */
    int enabled;
    char *condition;       /* NULL when none; evaluated by the values provider at each
                            * hit (a hit whose condition cannot be evaluated stops) */
    char *funcname;        /* a function breakpoint: the code's name; else NULL */
    long long ignore;      /* hits still to ignore */
    long long hits;
} rw_breakpoint;

/* Where the session stands after a move. Pointers are borrowed from the session and
 * valid until its next move (frames) or until it is freed (strings). */
typedef struct rw_stop {
    rw_stop_reason reason;
    int moved;             /* the position (or the view) changed */
    uint64_t pos;          /* event number; in a postmortem view, where the uncaught
                            * exception was seen */
    uint32_t thread;       /* the viewed thread (ThreadDef id) */
    int event_kind;        /* rw_kind of the event at pos */
    double time_ns;        /* since the start of the recording */
    const rw_session_frame *frames;
    uint32_t nframes;
    uint32_t selected;     /* index of the selected frame (up/down); current after a
                            * move; 0 when there is no frame */
    uint32_t current;      /* index of the frame of the event (nframes - 1 but at an
                            * exception that came up from callees: the frames after it
                            * are its traceback's, as pdb's get_stack(f, tb) lists
                            * them; 0 when there is no frame) */
    int has_exception;     /* exception: the uncaught one in a postmortem view, else
                            * the one the EXCEPTION event at pos raises */
    rw_session_exception exception;
    int returning;         /* a RETURN event: the top frame returns here (its value
                            * is what rw_session_retval asks for) */
    int postmortem;        /* the view of the uncaught exception */
    int at_end;            /* a forward move ran off the end of the program */
    int breakpoint;        /* RW_STOP_BREAKPOINT: the number of the breakpoint */
    int deleted;           /* a temporary breakpoint was deleted by this move ... */
    rw_breakpoint deleted_bp; /* ... a copy of it (condition and funcname NULL) */
    rw_session_crash crash; /* RW_STOP_CRASH */
    int cond_failed;       /* the provider has values but could not evaluate the
                            * condition of breakpoint cond_breakpoint during this move
                            * (the search stopped there): cond_why says why */
    int cond_breakpoint;
    const char *cond_why;
    /* The watchpoints (rw_session_watch_add) whose value changed at a stop a continue
     * or rcontinue made for them (0 for every other move): changes[0 .. nchanges). */
    const struct rw_watch_change *changes;
    size_t nchanges;
} rw_stop;

/* A watchpoint: an expression watched in one frame (named by the position of its
 * CALL) of one thread. Numbers start at 1 and are never reused. */
typedef struct rw_watchpoint {
    int number;
    char *expr;
    uint32_t thread;
    uint64_t frame_call;   /* the CALL of its frame */
    uint32_t code_id;      /* the frame's code (its name, for listings) */
} rw_watchpoint;

/* A watched value that changed: its value before the change and at the stop (a repr,
 * "*** " and the exception line when the expression raised, or RW_WATCH_OUT_OF_SCOPE).
 * Strings borrowed from the session until its next move. */
typedef struct rw_watch_change {
    int number;
    const char *expr;
    const char *old_value;
    const char *new_value;
} rw_watch_change;

/* The value of a watchpoint where its frame is not on the thread's stack. */
#define RW_WATCH_OUT_OF_SCOPE "<out of scope>"

/* ---- life cycle ---- */

/* Returns a new session over r (which must outlive it) in *out, caller frees with
 * rw_session_free. Finds the main program (Metadata.run_kind and run_target), its
 * frame and its first line; the session starts nowhere until rw_session_start or a
 * goto. RW_ENOTFOUND when the trace holds no events or none of the main program;
 * RW_ENOMEM; decode errors as the reader gives them. Values come from
 * rw_values_log_only until rw_session_set_values. */
rw_code rw_session_new(const rw_reader *r, rw_session **out, rw_err *err);
void rw_session_free(rw_session *s);

/* on: every search decodes the chunks in order, without the line filter or skipping
 * callees by keyframes: slow, and the reference the fast searches are tested against
 * (they must stop at the same events). */
void rw_session_set_plain_search(rw_session *s, int on);

/* The provider asked for values (borrowed until the session is freed or another is
 * set); NULL restores rw_values_log_only. */
void rw_session_set_values(rw_session *s, const rw_values *v);

/* The current stop (as the last move left it). */
void rw_session_where(const rw_session *s, rw_stop *stop);

/* ---- moves: each fills *stop on RW_OK; decode errors (the position is then
 * unchanged, or the session is at the event it could load) and RW_ENOMEM otherwise.
 * A move that finds nothing to stop at reports it with moved = 0 and a reason. ---- */

/* The first line of the main program (its CALL when it has no line). */
rw_code rw_session_start(rw_session *s, rw_stop *stop, rw_err *err);

/* step: the next Python event of the viewed thread (or a breakpoint in another). */
rw_code rw_session_step(rw_session *s, rw_stop *stop, rw_err *err);
/* next: the next line of the selected frame, or its return; a breakpoint first. */
rw_code rw_session_next(rw_session *s, rw_stop *stop, rw_err *err);
/* return: the return of the selected frame (a breakpoint first). */
rw_code rw_session_return(rw_session *s, rw_stop *stop, rw_err *err);
/* continue: the next breakpoint hit; the end of the program without one. */
rw_code rw_session_continue(rw_session *s, rw_stop *stop, rw_err *err);
/* until: a line >= lineno of the selected frame, or its return (lineno: bdb's
 * stoplineno; pdb's "until" without argument passes the current line + 1). */
rw_code rw_session_until(rw_session *s, long long lineno, rw_stop *stop, rw_err *err);

/* The reverse moves: rstep (the previous Python event of the thread), rnext (the
 * previous line of the selected frame, or its caller's line of the call), rreturn
 * (the CALL of the selected frame), rcontinue (the previous breakpoint hit, or back
 * to the first line of the program), runtil (the last line <= lineno of the
 * selected frame, or its CALL). Nothing before: RW_STOP_START with moved = 0. */
rw_code rw_session_rstep(rw_session *s, rw_stop *stop, rw_err *err);
rw_code rw_session_rnext(rw_session *s, rw_stop *stop, rw_err *err);
rw_code rw_session_rreturn(rw_session *s, rw_stop *stop, rw_err *err);
rw_code rw_session_rcontinue(rw_session *s, rw_stop *stop, rw_err *err);
rw_code rw_session_runtil(rw_session *s, long long lineno, rw_stop *stop, rw_err *err);

/* goto: the first Python event at or after pos (the last one before it when none). */
rw_code rw_session_goto(rw_session *s, uint64_t pos, rw_stop *stop, rw_err *err);
/* The postmortem view of the uncaught exception: its traceback as the stack.
 * RW_ENOTFOUND when the program raised none. */
rw_code rw_session_goto_uncaught(rw_session *s, rw_stop *stop, rw_err *err);
/* The last Python event of the thread that got the last fatal signal (the main
 * thread for a timeout) before it. RW_ENOTFOUND when the run did not crash. */
rw_code rw_session_goto_crash(rw_session *s, rw_stop *stop, rw_err *err);
/* The last Python event of thread at or before the current position (the first
 * after it when none). RW_ENOTFOUND when the thread ran no Python code. */
rw_code rw_session_goto_thread(rw_session *s, uint32_t thread, rw_stop *stop, rw_err *err);

/* Selects frame i (i < nframes) of the current stack, as up and down do. */
void rw_session_select(rw_session *s, uint32_t i);

/* ---- breakpoints ---- */

/* Adds breakpoint number rw_session_break_limit(s) at line of file_id (a valid
 * FileDef id): a function breakpoint when funcname is not NULL, with a condition
 * when cond is not NULL (both copied). Its number in *number. RW_ENOMEM. */
rw_code rw_session_break_add(rw_session *s, uint32_t file_id, uint32_t line,
                             const char *funcname, const char *cond, int temporary,
                             int *number, rw_err *err);
/* Numbers 1 .. limit - 1 were given (bdb's len(Breakpoint.bpbynumber)). */
int rw_session_break_limit(const rw_session *s);
/* Breakpoint n; NULL when n is out of range or the breakpoint was deleted. */
const rw_breakpoint *rw_session_break_get(const rw_session *s, int n);
/* These take the number of an existing breakpoint (asserted). */
void rw_session_break_delete(rw_session *s, int n);
void rw_session_break_enable(rw_session *s, int n, int on);
void rw_session_break_ignore(rw_session *s, int n, long long count);
/* cond NULL makes it unconditional. RW_ENOMEM (the condition is then unchanged). */
rw_code rw_session_break_condition(rw_session *s, int n, const char *cond, rw_err *err);

/* ---- watchpoints ---- */

/* Adds watchpoint number rw_session_watch_limit(s) on expr (copied) in the selected
 * frame, and returns its number and its value here (a new string, caller frees; as
 * rw_watch_change's). Errors: RW_EINVAL when there is no frame to watch in (postmortem,
 * no Python frame, a traceback's returned frame), the provider's error with its
 * one-line reason when values cannot be had (nothing is added then), RW_ENOMEM.
 *
 * While the viewed thread has watchpoints, continue and rcontinue also stop where a
 * watched value changes: continue at the first position after the current one where
 * one of them differs from its value here, rcontinue at the first position of the
 * run of values that holds just before the current one (the nearest change going
 * back), each unless a breakpoint stops it first. The search probes the values at
 * positions of any event of the thread (galloping away from the current position,
 * then bisecting), so it finds a change between the two nearest probes that differ
 * (docs/replay.md, "Watchpoints"); the stop is the first Python event of the thread
 * at or after the change, and rw_stop.changes says what changed. A provider error
 * during the search ends the move with that error (the position is unchanged). */
rw_code rw_session_watch_add(rw_session *s, const char *expr, int *number, char **value,
                             rw_err *err);
/* Numbers 1 .. limit - 1 were given. */
int rw_session_watch_limit(const rw_session *s);
/* Watchpoint n; NULL when out of range or deleted. */
const rw_watchpoint *rw_session_watch_get(const rw_session *s, int n);
/* Deletes watchpoint n (an existing one: asserted). */
void rw_session_watch_delete(rw_session *s, int n);
/* The value of watchpoint n at the current position (a new string, caller frees), or
 * the provider's error. */
rw_code rw_session_watch_value(rw_session *s, int n, char **value, rw_err *err);
/* Probes (a position and an evaluation of every watched expression there) the last
 * watch search made. */
uint64_t rw_session_watch_probes(const rw_session *s);

/* ---- what the trace knows ---- */

uint64_t rw_session_nevents(const rw_session *s);

/* Canonical path of file f as pdb names it ("?" when unknown), and the path as the
 * recording gave it (NULL when unknown). */
const char *rw_session_file_path(const rw_session *s, uint32_t f);
const char *rw_session_file_recorded_path(const rw_session *s, uint32_t f);
/* pdb's canonic() against the recording's working directory: a new string, caller
 * frees; NULL when out of memory. */
char *rw_session_canonic(const rw_session *s, const char *path);
/* pdb's lookupmodule: the FileDef id of a file named as a path (relative to the
 * recording's cwd), without .py, or as the end of a path; 0 when none. */
uint32_t rw_session_lookup_file(const rw_session *s, const char *name);
/* The file of the main program. */
uint32_t rw_session_main_file(const rw_session *s);

/* The recorded source of file f: its number of lines (0 when not recorded), and line
 * `line` (1-based) without its newline in buf (cut to cap); 0 when there is none. */
size_t rw_session_source_nlines(rw_session *s, uint32_t f);
int rw_session_source_line(rw_session *s, uint32_t f, long long line, char *buf, size_t cap);
/* The same for what pdb's `list` shows in a frame of file f: f's source, but for a
 * frozen standard module ("<frozen posixpath>", no source of its own) the module's
 * file (its __file__) in the standard library, from the recording or this machine. */
size_t rw_session_list_nlines(rw_session *s, uint32_t f);
int rw_session_list_line(rw_session *s, uint32_t f, long long line, char *buf, size_t cap);

typedef struct rw_session_code {
    const char *name;      /* never NULL ("<lambda>" when none) */
    const char *qualname;  /* may be NULL */
    uint32_t file_id;      /* 0 when unknown */
    uint32_t first_line;
    const char *const *arg_names;
    size_t n_arg_names;
} rw_session_code;
/* CodeDef id -> what it says; 0 when id names no code. */
int rw_session_code_info(const rw_session *s, uint32_t id, rw_session_code *out);
/* A code that ran, named by qualname or name (a dotted name by its last part on a
 * second pass), one in file prefer_file first; 0 when none. Modules are not named. */
uint32_t rw_session_find_code(const rw_session *s, const char *name, uint32_t prefer_file);

typedef struct rw_session_thread {
    const char *name;      /* "?" when unknown */
    uint64_t ident, native_id;
    int is_main;
    int from_c;            /* started by C code (RunEnd.threads; 0 when unknown) */
} rw_session_thread;
/* Thread ids are 1 .. rw_session_nthreads - 1. 0 when id names no thread. */
uint32_t rw_session_nthreads(const rw_session *s);
int rw_session_thread_info(const rw_session *s, uint32_t id, rw_session_thread *out);

typedef struct rw_session_run {
    const char *target;    /* Metadata.run_target; NULL when unknown */
    const char *const *argv;
    size_t argc;
    int has_end;           /* the trace has its end record (it was not cut short) */
    int exit_status;
} rw_session_run;
void rw_session_run_info(const rw_session *s, rw_session_run *out);

/* A position spec (replayer/position.h: event number, @start, @end, @peak, a time,
 * FILE:LINE) -> event number. RW_EINVAL / RW_ENOTFOUND with a message. FILE:LINE is
 * found through the chunks' line filters (a few chunk decodes, however long the trace). */
rw_code rw_session_parse_position(rw_session *s, const char *spec, uint64_t *pos,
                                  rw_err *err);

/* One record of the trace as rw_session_visit shows it. */
typedef enum rw_record_class {
    RW_REC_PYTHON,         /* CALL, LINE, RETURN: file, line, function */
    RW_REC_EXCEPTION,      /* name, text; file, line, function of its frame */
    RW_REC_C,              /* C_CALL, C_RETURN, C_EXCEPTION: label */
    RW_REC_AUDIT,          /* name, text */
    RW_REC_ALLOC,          /* addr, size */
    RW_REC_FREE,           /* addr */
    RW_REC_OTHER,
} rw_record_class;

typedef struct rw_session_record {
    rw_record_class cls;
    uint64_t pos;
    const char *kind_name; /* rw_kind_name */
    uint32_t thread;
    int is_current;        /* the event the session stands at */
    uint32_t depth;
    const char *file, *function;
    uint32_t line;
    const char *name;      /* exception type or audit event name ("Exception" unknown) */
    const char *text;      /* not NUL-terminated: text_len bytes; may be NULL */
    size_t text_len;
    const char *label;     /* C function label ("?" unknown) */
    uint64_t addr, size;
    int own;               /* RW_REC_EXCEPTION: raised in the program's own code: in a
                            * frame of a file that is neither a frozen module (the import
                            * machinery, <frozen ...>) nor in the standard library (a
                            * /lib/python3.N/ directory outside site-packages), while the
                            * program runs (main thread: from its first line to its end) */
} rw_session_record;

/* Shows fn every record (events and annotations) with from <= pos < to in order, or
 * only the EXCEPTION events when exceptions_only, until fn returns non-zero. The
 * record is valid during the call only. */
rw_code rw_session_visit(rw_session *s, uint64_t from, uint64_t to, int exceptions_only,
                         int (*fn)(void *ctx, const rw_session_record *rec), void *ctx,
                         rw_err *err);

/* ---- values, through the provider (values.h) ---- */

#define RW_SESSION_SELECTED UINT32_MAX

/* Asks op (text: its expression or statement) at the current position in frame
 * `frame` of the stack (RW_SESSION_SELECTED: the selected one); as rw_values.ask:
 * RW_OK with *out (a new string, caller frees) and *raised, or an error whose message
 * says why there are no values (the provider's reason; in the postmortem view, which
 * no re-execution reaches, RW_EINVAL). */
rw_code rw_session_value(rw_session *s, uint32_t frame, rw_values_op op, const char *text,
                         char **out, int *raised, rw_err *err);
/* The provider's reason when it has no values at all; NULL when it has. */
const char *rw_session_values_why(rw_session *s);
/* Did the session stop at a --Return-- of frame `frame` (an index of the current stack)
 * before this position? pdb's __return__ then stays in its locals (a traceback's
 * frame: `retval` there is pdb's). 1 yes, 0 no, 2 perhaps: a generator's or
 * coroutine's frame, and the session stopped at a --Return-- (a yield) of its code
 * (the values provider can tell whether it was this frame). */
int rw_session_frame_returned(rw_session *s, uint32_t frame);

#endif
