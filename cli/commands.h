/* Subcommands of the rewind command. Each takes the arguments after its own name
 * (argv[0] is the subcommand name), parses them with options.h and returns the
 * process exit status. Only cli/ prints and exits; each command reports a failure as
 * one line on stderr: "rewind CMD: <what>: <what to do>". */
#ifndef RW_CLI_COMMANDS_H
#define RW_CLI_COMMANDS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "reader.h"

/* Exit statuses of every command but record, which returns the program's own (the
 * policy, README.md "Exit status", is spelt out in options.h). */
#define RW_EXIT_OK 0     /* done */
#define RW_EXIT_FAIL 1   /* the trace or the program had a problem, or a write failed */
#define RW_EXIT_USAGE 2  /* the command line was bad */

#include "options.h"

int rw_cmd_record(int argc, char **argv);
int rw_cmd_info(int argc, char **argv);
int rw_cmd_verify(int argc, char **argv);
int rw_cmd_events(int argc, char **argv);
int rw_cmd_stats(int argc, char **argv);
int rw_cmd_memory(int argc, char **argv);
int rw_cmd_coverage(int argc, char **argv);
int rw_cmd_audit(int argc, char **argv);
int rw_cmd_export(int argc, char **argv);
int rw_cmd_timeit(int argc, char **argv);
int rw_cmd_replay(int argc, char **argv);
int rw_cmd_diff(int argc, char **argv);
int rw_cmd_tests(int argc, char **argv);
/* Hidden: the re-execution engine (replayer/engine/client.h starts it). */
int rw_cmd_engine(int argc, char **argv);

/* Parses record's command line as rw_cmd_record does and runs nothing: RW_EXIT_OK when
 * it would record, else the status it would return, after the same message (help
 * included). For the command-line fuzz target, which cannot start Python. */
int rw_cmd_record_check(int argc, char **argv);

/* Prints one record ev of scan c (the scan that returned it: C events are placed at its
 * stack's top Python frame) as `rewind events` does: its text line, or with json its
 * JSON object and a newline (cmd_events.c). */
struct rw_scan;
void rw_cli_print_event(FILE *out, const rw_defs *d, const struct rw_scan *c,
                        const rw_event *ev, int json);
/* The test that --test SPEC names (replay, stats, coverage, memory: cli/cmd_tests.c):
 * SPEC is a test id as 'rewind tests' lists it, or a unique ending or part of one,
 * with "@failure" after it for the raise that failed the test. */
typedef struct rw_cli_test {
    uint64_t first, last; /* the test's position range, both included */
    uint64_t body;        /* its function's first line, or UINT64_MAX (never ran) */
    uint64_t failure;     /* the raise that failed it, or UINT64_MAX */
    int at_failure;       /* SPEC ended with @failure */
    char id[1024];
} rw_cli_test;

/* Finds the test SPEC names in the trace (path, r) for command cmd. RW_EXIT_OK with
 * *out filled, else the status after one line on stderr: RW_EXIT_FAIL for no such
 * test (or @failure of a test that did not fail), RW_EXIT_USAGE when several match. */
int rw_cli_test_lookup(const char *cmd, const char *path, const rw_reader *r, const char *spec,
                       rw_cli_test *out);

/* Prints "rewind CMD: MSG" to stderr for an error value; returns RW_EXIT_FAIL.
 * rw_opts_fail (options.h) also gives RW_EINVAL its usage status. */
int rw_cli_fail(const char *cmd, const rw_err *err);

/* The rule for a damaged trace, the same for every read command (README.md "Exit
 * status"): what can be shown is shown, one line on stderr says the trace is damaged and
 * how much of it was read, and the status is RW_EXIT_FAIL; a trace with no events is an
 * error (one line, RW_EXIT_FAIL), never an empty report.
 *
 * rw_cli_open_trace opens the trace at path for command cmd (rw_reader_open). A trace
 * with no events gives RW_ECORRUPT (rw_cli_no_events' words) and no reader. When only
 * part of it could be read (a killed recording, a damaged file) it says so on stderr,
 * "rewind CMD: PATH is damaged: reading the first N events (why); ...", so that an
 * analysis of the part is never taken for one of the whole run, and marks the trace
 * damaged for rw_cli_status. A chunk found damaged later (its CRC, its decoding) is an
 * error from the scan, in rw_scan_explain_damage's words (replayer/scan.h): the command
 * prints it with rw_cli_fail and returns RW_EXIT_FAIL. */
rw_code rw_cli_open_trace(const char *cmd, const char *path, rw_reader **r, rw_err *err);

/* Fills err with "PATH holds no events: ..." (RW_ECORRUPT) for r; returns its code. */
rw_code rw_cli_no_events(const char *path, const rw_reader *r, rw_err *err);

/* "SIGTERM" for 15, "signal N" for a number without a name: in a static buffer. */
const char *rw_cli_signal_name(int sig);

/* Marks the trace damaged for a command that opens it on its own and has said so. */
void rw_cli_set_damaged(void);

/* The exit status of a command that returned status: RW_EXIT_FAIL instead of
 * RW_EXIT_OK when its trace was damaged (main applies it to every command). */
int rw_cli_status(int status);

/* n with thousands separators ("1,234,567") in buf; returns buf. */
const char *rw_cli_grouped(unsigned long long n, char *buf, size_t cap);

#endif
