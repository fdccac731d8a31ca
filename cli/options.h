/* The one command-line parser of the rewind subcommands, and the one exit-status
 * policy. Each cli/cmd_*.c describes its options in a table of rw_opt and its
 * command line in an rw_cmdline, then calls rw_opts_parse; every usage mistake is
 * reported the same way: one line on stderr,
 *     rewind CMD: <what is wrong>: see 'rewind CMD --help'
 * and exit status RW_EXIT_USAGE. Only cli/ includes this header.
 *
 * Spellings accepted for every command (getopt_long's, plus "-n=5"):
 *   --name VALUE, --name=VALUE, any unique prefix of a long name (--cov for --coverdir);
 *   -o VALUE, -oVALUE, -o=VALUE; flags grouped (-csm); -h and --help anywhere before
 *   the end of the options print the usage on stdout (status 0); "--" ends the
 *   options; "-" alone is an argument; options and arguments mix in any order unless
 *   the command stops at its first argument (record). A repeated option's last value
 *   wins, except for lists (RW_OPT_LIST, RW_OPT_CALL), which take every value.
 *
 * Exit statuses (README.md, "Exit status"): RW_EXIT_OK when done; RW_EXIT_FAIL when
 * the trace or the program had a problem (missing, unreadable or damaged trace, a
 * position or thread or function this trace does not have, a failed write);
 * RW_EXIT_USAGE for the command line (unknown option, missing or malformed value, a
 * misspelt position, --from after --to). `rewind record` returns the program's own.
 */
#ifndef RW_CLI_OPTIONS_H
#define RW_CLI_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "reader.h"

/* rw_opts_parse's answer when the command line is good and the command should run;
 * any other value is the exit status to return at once. */
#define RW_OPTS_GO (-1)

typedef enum rw_opt_kind {
    RW_OPT_FLAG,    /* no value: *(int *)dst = 1 */
    RW_OPT_CLEAR,   /* no value: *(int *)dst = 0 (--no-calibration) */
    RW_OPT_STR,     /* any string, empty included: *(const char **)dst */
    RW_OPT_NONEMPTY,/* a non-empty string (file names, module names) */
    RW_OPT_POS,     /* a position, kept as given; rw_opts_position resolves it */
    RW_OPT_UINT,    /* decimal integer in [min, max]: *(unsigned long long *)dst */
    RW_OPT_SECONDS, /* a number of seconds, > 0 and <= max: *(double *)dst */
    RW_OPT_SIGNAL,  /* signal name (USR1, SIGUSR1), number or "none": *(int *)dst,
                       0 for none; fatal signals, SIGKILL and SIGSTOP are refused */
    RW_OPT_CHOICE,  /* one of the words of choices: *(int *)dst = its index */
    RW_OPT_LIST,    /* repeatable string: appended to *(rw_opt_list *)dst */
    RW_OPT_CALL,    /* repeatable: call(dst, value), see rw_opt_call */
} rw_opt_kind;

/* Flags of an rw_opt. */
#define RW_OPT_STOP 1u    /* the options end after this one (record's -m and -c) */
#define RW_OPT_LITERAL 2u /* a glued short value keeps a leading '=' (-c=1 is code "=1") */

/* RW_OPT_CALL's function: stores value into dst (the command's own state). Returns 0,
 * -1 when value is malformed (the parser reports it; when why is set, with that
 * reason, else with the option's `what`), or -2 when out of memory. */
typedef int (*rw_opt_call)(void *dst, const char *value, char *why, size_t cap);

/* The values of a repeatable option, in command-line order. v is owned by the
 * command: rw_opt_list_free releases it (the strings are argv's). */
typedef struct rw_opt_list {
    const char **v;
    size_t n;
} rw_opt_list;

void rw_opt_list_free(rw_opt_list *l);

/* One option. At least one of short_name and long_name. `what` completes "OPT needs
 * ..." in messages ("a number of rows"); NULL gives the kind's default. */
typedef struct rw_opt {
    char short_name;          /* 'o' for -o; 0 for none */
    const char *long_name;    /* "output" for --output; NULL for none */
    rw_opt_kind kind;
    void *dst;
    const char *what;
    unsigned long long min, max;   /* RW_OPT_UINT's range; max for RW_OPT_SECONDS */
    const char *const *choices;    /* RW_OPT_CHOICE: NULL-terminated words */
    rw_opt_call call;              /* RW_OPT_CALL */
    unsigned flags;                /* RW_OPT_STOP, RW_OPT_LITERAL */
    int *seen;                     /* when not NULL: set to 1 once the option is given */
} rw_opt;

/* A command's command line: its name and help, its option table, and where its
 * arguments (the words that are not options) go. */
typedef struct rw_cmdline {
    const char *cmd;                /* "stats": messages begin "rewind stats: " */
    void (*usage)(FILE *out);       /* prints the help; or NULL and ... */
    const char *usage_text;         /* ... the help as one string */
    const rw_opt *opts;
    size_t nopts;
    const char **args;              /* out: the arguments, in order */
    size_t maxargs;                 /* room in args: more is "unexpected argument" */
    const char *const *argnames;    /* the required arguments, for "missing ...":
                                       {"the trace FILE", "the FUNCTION to time"} */
    size_t nrequired;
    int stop_at_arg;                /* the first argument ends the options (record) */
    size_t nargs;                   /* out: how many arguments were found */
    int next;                       /* out: index in argv after the last word parsed */
} rw_cmdline;

/* Parses argv[1..argc-1] (argv[0] is the subcommand's name) by cl's table, storing
 * values through the options' dst pointers (defaults are the caller's: whatever dst
 * held before). Returns RW_OPTS_GO when the command should run; RW_EXIT_OK after
 * printing the help on stdout for -h/--help; RW_EXIT_USAGE after one line on stderr
 * for a mistake; RW_EXIT_FAIL when out of memory. Lists filled before a mistake stay
 * filled: the caller frees them in every case. */
int rw_opts_parse(rw_cmdline *cl, int argc, char **argv);

/* Prints "rewind CMD: MSG: see 'rewind CMD --help'" (MSG by printf format) to stderr
 * and returns RW_EXIT_USAGE: for mistakes a command finds after rw_opts_parse
 * (a required option missing, options that exclude each other). */
int rw_opts_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Resolves the position spec given to option opt ("--from") against r
 * (rw_pos_parse). Returns RW_EXIT_OK with *pos set; RW_EXIT_USAGE for a misspelt
 * position, RW_EXIT_FAIL for one this trace does not have (RW_ENOTFOUND) or a read
 * error, after one line on stderr: "rewind CMD: --from SPEC: why". */
int rw_opts_position(const char *cmd, const rw_reader *r, const char *opt, const char *spec,
                     uint64_t *pos);

/* The same message and status for a position resolved some other way: err is what
 * rw_pos_parse (or a caller doing its work) said about spec. */
int rw_opts_position_fail(const char *cmd, const char *opt, const char *spec, const rw_err *err);

/* The window check every command with --from and --to makes: RW_EXIT_OK when
 * from <= to, else RW_EXIT_USAGE after "rewind CMD: --from F is after --to T". */
int rw_opts_window(const char *cmd, uint64_t from, uint64_t to);

/* The exit status for an error a library returned about a value the user gave on
 * the command line (a function name, a window): RW_EXIT_USAGE for RW_EINVAL,
 * RW_EXIT_FAIL otherwise. Prints "rewind CMD: msg", with ": see 'rewind CMD --help'"
 * for a usage error. */
int rw_opts_fail(const char *cmd, const rw_err *err);

/* The signal RW_OPT_SIGNAL reads from s: its number, 0 for "none", -1 when s names
 * no signal a dump may use. */
int rw_opts_signal(const char *s);

#endif
