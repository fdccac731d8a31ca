/* pdb front end: pdb's command set, forwards and backwards, over a session engine
 * (session.h), in pdb's words ("> file(12)func()", "-> source", "--Call--",
 * "*** ..."). It parses and prints; everything it knows of the trace comes from the
 * session.
 *
 * cli/cmd_replay.c owns the terminal: it reads lines and hands them to
 * rw_pdb_onecmd (or rw_pdb_line, which also does pdb's alias expansion, ";;"
 * splitting and empty-line repetition); the front end writes everything it has to
 * say to the FILE it was given. One front end per thread; it reads a shared reader.
 */
#ifndef RW_PDB_H
#define RW_PDB_H

#include <stddef.h>
#include <stdio.h>

#include "output.h"
#include "reader.h"
#include "session.h"

typedef struct rw_pdb rw_pdb;

/* Reads one more line for a command that asks a question (clear's "Clear all
 * breaks? "): copies at most cap-1 bytes into buf without the newline; returns 0 at
 * end of input. */
typedef int (*rw_pdb_input)(void *ctx, const char *prompt, char *buf, size_t cap);

/* Returns a new front end over a new session on r (which must outlive it) writing to
 * out, in *out_pdb; caller frees with rw_pdb_free. Errors as rw_session_new's. */
rw_code rw_pdb_new(const rw_reader *r, FILE *out, rw_pdb **out_pdb, rw_err *err);
void rw_pdb_free(rw_pdb *p);

/* The session it drives (borrowed, owned by the front end): for the plain-search
 * switch, a values provider, or a look at the stop. */
rw_session *rw_pdb_session(rw_pdb *p);

void rw_pdb_set_input(rw_pdb *p, rw_pdb_input fn, void *ctx);

/* The program's recorded output (output.h) that forward moves (step, next, return,
 * continue, until) print as they pass it, before the stop they print: what went to
 * fd 1 to the front end's FILE, what went to fd 2 to err_out (stderr by default).
 * Loaded from the trace at the first forward move unless set here (o is then the
 * front end's; NULL: none; err_out NULL keeps stderr). Backward moves, goto and
 * thread print none. */
void rw_pdb_set_outputs(rw_pdb *p, rw_outputs *o, FILE *err_out);

/* Moves to the starting point: the first line of the main program when at is NULL,
 * else a position spec (replayer/position.h, plus @crash); @exception gives the
 * postmortem view of the uncaught exception and prints it as pdb's post_mortem
 * does. Prints nothing else; the stop is printed by rw_pdb_interaction. RW_EINVAL /
 * RW_ENOTFOUND with a message for a bad or absent position. */
rw_code rw_pdb_start(rw_pdb *p, const char *at, rw_err *err);

/* Runs one command line exactly as typed (no alias expansion, as pdb runs its rc
 * lines). Returns 1 when the command moved the position (a "resuming" command in
 * pdb's terms: the caller then starts a new interaction), 0 otherwise. While a
 * breakpoint's command list is being read (rw_pdb_defining), the line is one of the
 * list instead: stored, or ending the list ("end", a resuming command); 0. */
int rw_pdb_onecmd(rw_pdb *p, const char *line);

/* Non-zero while "commands" reads a breakpoint's command list: the caller prompts
 * "(com) " (pdb's prompt then) and hands the lines over as usual; at the end of its
 * input it passes "end" (pdb would read EOF lines for ever). */
int rw_pdb_defining(const rw_pdb *p);

/* Starts the interaction at a new stop (after rw_pdb_start and after each command
 * that moved): pdb's bp_commands, then its interaction, with its preloop (the
 * displays of the current frame whose value changed). When the breakpoint that
 * stopped the last search has a command list and the stop is at a line, runs the
 * list, prints the stop unless the list is silent, and returns 1 when the list
 * resumed (the position moved, or quit ran: the caller starts a new interaction, or
 * ends); otherwise prints the stop and returns 0: the caller prompts. */
int rw_pdb_interaction(rw_pdb *p);

/* Runs one line read at the prompt: empty = repeat the last command; aliases are
 * expanded and "a ;; b" queues b (rw_pdb_pending). Same return as rw_pdb_onecmd. */
int rw_pdb_line(rw_pdb *p, const char *line);

/* The next command queued by ";;", copied into buf; 0 when none. */
int rw_pdb_pending(rw_pdb *p, char *buf, size_t cap);

/* Prints the current stop ("> file(line)func()" and "-> source"). */
void rw_pdb_print_stop(rw_pdb *p);

/* Non-zero once quit, exit or EOF ran. */
int rw_pdb_done(const rw_pdb *p);

/* Last I/O or decode error seen by a command (they print "*** ..." themselves);
 * RW_OK when none. */
rw_code rw_pdb_error(const rw_pdb *p);

/* A damaged trace. A command that meets a damaged chunk says so in pdb's style,
 * "*** the trace is damaged after event N: <the reader's words>; the first N+1 events
 * are intact", and the session's status becomes a failure (rw_pdb_error). Moves that
 * jump over chunks without decoding them (continue without breakpoints, goto, the line
 * filter's skips) cannot meet them: rw_pdb_check_trace starts decoding every chunk on
 * a thread of its own (replayer/scan.h, rw_scan_check), rw_pdb_poll_damage says at
 * once (never blocking) damage that check or a command found and was not said yet (the
 * caller calls it before each prompt), and rw_pdb_damage, at the end, waits for the
 * check, says what is left to say and returns the first damage (borrowed, valid until
 * rw_pdb_free), or NULL for an intact trace. */
rw_code rw_pdb_check_trace(rw_pdb *p, rw_err *err);
void rw_pdb_poll_damage(rw_pdb *p);
const rw_err *rw_pdb_damage(rw_pdb *p);

/* ---- the command-line parser (pure; unit tests and the fuzz target use it) ---- */

/* How pdb's cmd.Cmd.parseline splits a line: leading and trailing whitespace go;
 * "?x" is "help x"; a line starting with "!" or with a character that cannot start a
 * command name is a statement. */
typedef enum rw_pdb_linekind {
    RW_PDB_EMPTY = 0,
    RW_PDB_COMMAND = 1, /* name (identifier characters) + argument */
    RW_PDB_STATEMENT = 2,
} rw_pdb_linekind;

/* Splits line into a command name (at most namecap-1 bytes, longer names are cut and
 * then match no command) and its stripped argument in argbuf (a copy, at most
 * argcap-1 bytes). */
rw_pdb_linekind rw_pdb_parseline(const char *line, char *name, size_t namecap, char *argbuf,
                                 size_t argcap);

/* Parses a Python int literal as int() does for pdb's arguments (surrounding
 * whitespace, a sign, digits with single underscores between them). 0 on success,
 * -1 when it is not one or does not fit in a long long. */
int rw_pdb_parse_int(const char *s, long long *out);

/* Expands aliases the way pdb's precmd does: while the first word names an alias,
 * replace the line by the alias text with %1, %2, ... and %* substituted; then, unless
 * the command is "alias", cut the line at the first ";;" (the rest, left-stripped,
 * goes to *rest as a new string, caller frees; NULL when none). names and texts are
 * n parallel arrays. Returns a new string (caller frees), NULL when out of memory or
 * when the expansion grows past 64 KiB (an alias that names itself through
 * arguments). */
char *rw_pdb_expand(const char *line, const char *const *names, const char *const *texts,
                    size_t n, char **rest);

#endif
