/* Debugger: pdb's command set, forwards and backwards, over a recording (the log-only
 * timeline of DESIGN.md, "Replaying").
 *
 * cli/cmd_replay.c owns the terminal: it reads lines and hands them to
 * rw_dbg_onecmd (or rw_dbg_line, which also does pdb's alias expansion, ";;"
 * splitting and empty-line repetition); the debugger writes everything it has to say
 * to the FILE it was given, in pdb's words ("> file(12)func()", "-> source",
 * "--Call--", "*** ..."). One debugger per thread; it reads a shared reader.
 */
#ifndef RW_DEBUGGER_H
#define RW_DEBUGGER_H

#include <stddef.h>
#include <stdio.h>

#include "reader.h"

typedef struct rw_dbg rw_dbg;

/* Reads one more line for a command that asks a question (clear's "Clear all
 * breaks? "): copies at most cap-1 bytes into buf without the newline; returns 0 at
 * end of input. */
typedef int (*rw_dbg_input)(void *ctx, const char *prompt, char *buf, size_t cap);

/* Returns a new debugger over r (which must outlive it) writing to out, in *dp;
 * caller frees with rw_dbg_free. Finds the main program (Metadata.run_kind and
 * run_target) and its frame. RW_ENOTFOUND when the trace holds no event of it. */
rw_code rw_dbg_new(const rw_reader *r, FILE *out, rw_dbg **dp, rw_err *err);
void rw_dbg_free(rw_dbg *d);

/* on: every search decodes the chunks in order, without the line filter or skipping
 * callees by keyframes: slow, and the reference the fast searches are tested against
 * (they must stop at the same events and print the same). */
void rw_dbg_set_plain_search(rw_dbg *d, int on);

void rw_dbg_set_input(rw_dbg *d, rw_dbg_input fn, void *ctx);

/* Moves to the starting point: the first line of the main program when at is NULL,
 * else a position spec (replayer/position.h, plus @crash); @exception gives the
 * postmortem view of the uncaught exception and prints it as pdb's post_mortem
 * does. Prints nothing else; the stop is printed by rw_dbg_interaction. RW_EINVAL /
 * RW_ENOTFOUND with a message for a bad or absent position. */
rw_code rw_dbg_start(rw_dbg *d, const char *at, rw_err *err);

/* Runs one command line exactly as typed (no alias expansion, as pdb runs its rc
 * lines). Returns 1 when the command moved the position (a "resuming" command in
 * pdb's terms: the caller then starts a new interaction), 0 otherwise. While a
 * breakpoint's command list is being read (rw_dbg_defining), the line is one of the
 * list instead: stored, or ending the list ("end", a resuming command); 0. */
int rw_dbg_onecmd(rw_dbg *d, const char *line);

/* Non-zero while "commands" reads a breakpoint's command list: the caller prompts
 * "(com) " (pdb's prompt then) and hands the lines over as usual; at the end of its
 * input it passes "end" (pdb would read EOF lines for ever). */
int rw_dbg_defining(const rw_dbg *d);

/* Starts the interaction at a new stop (after rw_dbg_start and after each command
 * that moved): pdb's bp_commands, then its interaction. When the breakpoint that
 * stopped the last search has a command list and the stop is at a line, runs the
 * list, prints the stop unless the list is silent, and returns 1 when the list
 * resumed (the position moved, or quit ran: the caller starts a new interaction, or
 * ends); otherwise prints the stop and returns 0: the caller prompts. */
int rw_dbg_interaction(rw_dbg *d);

/* Runs one line read at the prompt: empty = repeat the last command; aliases are
 * expanded and "a ;; b" queues b (rw_dbg_pending). Same return as rw_dbg_onecmd. */
int rw_dbg_line(rw_dbg *d, const char *line);

/* The next command queued by ";;", copied into buf; 0 when none. */
int rw_dbg_pending(rw_dbg *d, char *buf, size_t cap);

/* Prints the current stop ("> file(line)func()" and "-> source"). */
void rw_dbg_print_stop(rw_dbg *d);

/* Non-zero once quit, exit or EOF ran. */
int rw_dbg_done(const rw_dbg *d);

/* Last I/O or decode error seen by a command (they print "*** ..." themselves);
 * RW_OK when none. */
rw_code rw_dbg_error(const rw_dbg *d);

/* ---- the command-line parser (pure; unit tests and the fuzz target use it) ---- */

/* How pdb's cmd.Cmd.parseline splits a line: leading and trailing whitespace go;
 * "?x" is "help x"; a line starting with "!" or with a character that cannot start a
 * command name is a statement. */
typedef enum rw_dbg_linekind {
    RW_DBG_EMPTY = 0,
    RW_DBG_COMMAND = 1, /* name (identifier characters) + argument */
    RW_DBG_STATEMENT = 2,
} rw_dbg_linekind;

/* Splits line into a command name (at most namecap-1 bytes, longer names are cut and
 * then match no command) and a pointer to its stripped argument inside argbuf (a
 * copy of the argument, at most argcap-1 bytes). */
rw_dbg_linekind rw_dbg_parseline(const char *line, char *name, size_t namecap, char *argbuf,
                                 size_t argcap);

/* Parses a Python int literal as int() does for pdb's arguments (surrounding
 * whitespace, a sign, digits with single underscores between them). 0 on success,
 * -1 when it is not one or does not fit in a long long. */
int rw_dbg_parse_int(const char *s, long long *out);

/* Expands aliases the way pdb's precmd does: while the first word names an alias,
 * replace the line by the alias text with %1, %2, ... and %* substituted; then, unless
 * the command is "alias", cut the line at the first ";;" (the rest, left-stripped,
 * goes to *rest as a new string, caller frees; NULL when none). names and texts are
 * n parallel arrays. Returns a new string (caller frees), NULL when out of memory or
 * when the expansion grows past 64 KiB (an alias that names itself through
 * arguments). */
char *rw_dbg_expand(const char *line, const char *const *names, const char *const *texts,
                    size_t n, char **rest);

#endif
