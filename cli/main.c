/* rewind: entry point and subcommand dispatch.
 *
 * Subcommands live in cli/cmd_*.c, one function each (commands.h), every one linked
 * in; the table below names them. Exit statuses: options.h and README.md. */
#include "commands.h"

#include <stdio.h>
#include <string.h>

#include "scan.h"
#include "term.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"record", rw_cmd_record, "run a Python program and record it into a trace file"},
    {"info", rw_cmd_info, "show a trace's program, exit status, counts, threads, files"},
    {"verify", rw_cmd_verify, "check a trace's CRCs and structure; report recovery"},
    {"events", rw_cmd_events, "print the recorded events (a position range, as text or JSON)"},
    {"stats", rw_cmd_stats, "cProfile/pstats statistics of the recording"},
    {"memory", rw_cmd_memory, "tracemalloc statistics at any position"},
    {"coverage", rw_cmd_coverage, "line counts and coverage, like python3 -m trace"},
    {"audit", rw_cmd_audit, "the audit events of the run"},
    {"export", rw_cmd_export, "export a timeline for Perfetto / chrome://tracing / speedscope"},
    {"timeit", rw_cmd_timeit, "timeit-style statistics of every call of one function"},
    {"replay", rw_cmd_replay, "time-travel debugger with pdb's commands, both directions"},
    {"diff", rw_cmd_diff, "where two runs of a program part: both stacks, inputs, events"},
    {"tests", rw_cmd_tests, "the tests of a recorded pytest or unittest run, with outcomes"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: rewind COMMAND [ARGS...]\n\n"
                 "Record a Python program once, then debug and analyse the recording anywhere.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'rewind COMMAND --help' describes one command. Version %s.\n", REWIND_VERSION);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return RW_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
        usage(stdout);
        return RW_EXIT_OK;
    }
    if (!strcmp(name, "--version") || !strcmp(name, "version")) {
        printf("rewind %s\n", REWIND_VERSION);
        return RW_EXIT_OK;
    }
    /* Analyses decode chunk after chunk into buffers of a few MB (scan.h). Not for
     * record: the recorded program's own malloc must behave as under python3. */
    int runs_python = !strcmp(name, "record") || !strcmp(name, "__engine");
    if (!runs_python)
        rw_scan_tune_malloc();
    /* Text from a trace never reaches the terminal as control characters (term.h).
     * record's output is the program's own, as under python3; export's stdout is a
     * file format (JSON escaped by json.h, or binary), kept byte for byte. */
    if (!runs_python) {
        rw_term_install();
        if (!strcmp(name, "export"))
            rw_term_stdout_unfiltered();
    }
    /* The engine the debugger starts: the same path as record (its program's malloc
     * and terminal as under python3), not listed above. */
    if (!strcmp(name, "__engine"))
        return rw_cmd_engine(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (!strcmp(commands[i].name, name))
            return rw_cli_status(commands[i].run(argc - 1, argv + 1));
    }
    fprintf(stderr, "rewind: unknown command '%s': run 'rewind --help' for the list\n", name);
    return RW_EXIT_USAGE;
}
