/* rewind replay: the time-travel debugger's command line and input loop.
 *
 * Commands come first from ~/.rewindrc and ./.rewindrc, then from -x options and
 * --commands files (like pdb's .pdbrc lines and -c options: a command that moves
 * the position ends that batch, and the rest run at the next stop), then from stdin,
 * with the "(rewind) " prompt, as pdb reads its "(Pdb) " prompt (with readline's
 * editing and history at a terminal, when built with it). A breakpoint's command
 * list ("commands") is read from the same stream, with pdb's "(com) " prompt on
 * stdin. The pdb front end (replayer/debugger/pdb.h) prints everything else.
 *
 * Values (p, display, conditions, ...) come from a re-execution engine
 * (replayer/debugger/values.h), started at the first question that needs one: by
 * default when it can start (the trace has inputs and this Python build runs it), with
 * the log-only commands working and the value commands saying why when it cannot;
 * --values requires it (the replay fails at once with the reason); --no-values never
 * starts it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef RW_HAVE_READLINE
#include <readline/history.h>
#include <readline/readline.h>
#endif

#include "client.h"
#include "commands.h"
#include "family.h"
#include "pdb.h"
#include "reader.h"
#include "term.h"

#define PROMPT "(rewind) "
#define COM_PROMPT "(com) " /* while "commands" reads a breakpoint's list, as pdb */

static const char USAGE[] =
    "usage: rewind replay [--at POS] [-x CMD]... [--commands FILE] [--no-rc] [--child PID]\n"
    "                     [--values | --no-values] [--no-sandbox] [--test NAME[@failure]]\n"
    "                     [--checkpoints N] [--checkpoint-memory MIB] TRACE\n"
    "\n"
    "Time-travel debugger with pdb's commands, forwards and backwards.\n"
    "  --at POS         start at POS instead of the first line of the program: an event\n"
    "                   number, @start, @end, @exception (postmortem), @peak, a time\n"
    "                   (1.5s, 250ms) or FILE:LINE\n"
    "  --test NAME      start at the first line of test NAME's function (a test of a\n"
    "                   recorded pytest or unittest run: 'rewind tests TRACE' lists\n"
    "                   them); NAME@failure at the raise that failed it\n"
    "  -x CMD           run CMD first (repeatable), like pdb's -c\n"
    "  --commands FILE  run the commands of FILE first, one a line\n"
    "  --no-rc          do not read ~/.rewindrc and ./.rewindrc\n"
    "  --child PID      debug the child PID that this run started (its trace is beside\n"
    "                   TRACE: rewind info TRACE lists them)\n"
    "  --values         values (p, display, conditions, ...) must be available: fail\n"
    "                   at once, saying why, when the recording cannot be re-executed\n"
    "                   here (by default the log-only commands work and the value\n"
    "                   commands say why)\n"
    "  --no-values      do not re-execute the recording: log-only commands\n"
    "  --no-sandbox     re-execute without the engine's sandbox, which stops any system\n"
    "                   call re-execution does not need (opening files for writing,\n"
    "                   sockets, exec, unlink...): only for a recording you trust\n"
    "                   (docs/reexecution.md, \"Sandbox\")\n"
    "  --checkpoints N  keep up to N snapshots of the re-execution (default and most:\n"
    "                   2000), so that going back with values runs from the nearest one\n"
    "                   instead of from the program's start; 0: none\n"
    "  --checkpoint-memory MIB\n"
    "                   the snapshots hold at most MIB MiB of private memory together\n"
    "                   (default 1024; 0: no bound but their number)\n"
    "  -h, --help       show this help\n";

typedef struct lines {
    char **v;
    size_t n, head;
} lines;

static int lines_add(lines *l, const char *s, size_t len)
{
    char **v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (!v)
        return -1;
    l->v = v;
    char *c = malloc(len + 1);
    if (!c)
        return -1;
    memcpy(c, s, len);
    c[len] = '\0';
    l->v[l->n++] = c;
    return 0;
}

static void lines_free(lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

/* Adds the lines of path (stripped; blank lines and # comments skipped, as pdb's
 * execRcLines does). Returns -1 when it cannot be read and must exist. */
static int lines_file(lines *l, const char *path, int must)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return must ? -1 : 0;
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&buf, &cap, f)) >= 0) {
        char *s = buf;
        while (*s == ' ' || *s == '\t')
            s++;
        size_t len = strlen(s);
        while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' ' ||
                       s[len - 1] == '\t'))
            len--;
        if (!len || s[0] == '#')
            continue;
        if (lines_add(l, s, len) < 0)
            break;
    }
    free(buf);
    fclose(f);
    return 0;
}

/* One line from stdin after the prompt; 0 at end of input. At a terminal, with
 * readline's line editing and history (a line is remembered unless blank or the same
 * as the previous one). */
static int read_line(const char *prompt, char **buf, size_t *cap)
{
#ifdef RW_HAVE_READLINE
    if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
        fflush(stdout);
        /* readline's own control sequences go to the terminal unfiltered (term.h);
         * everything the debugger prints goes through stdout, filtered. */
        rl_outstream = rw_term_raw_stdout();
        char *l = readline(prompt);
        if (!l)
            return 0;
        size_t n = strlen(l);
        if (n + 1 > *cap) {
            char *nb = realloc(*buf, n + 1);
            if (!nb) {
                free(l);
                return 0;
            }
            *buf = nb;
            *cap = n + 1;
        }
        memcpy(*buf, l, n + 1);
        if (l[strspn(l, " \t")]) {
            HIST_ENTRY *last = history_length ? history_get(history_base + history_length - 1)
                                              : NULL;
            if (!last || strcmp(last->line, l))
                add_history(l);
        }
        free(l);
        return 1;
    }
#endif
    fputs(prompt, stdout);
    fflush(stdout);
    ssize_t n = getline(buf, cap, stdin);
    if (n < 0)
        return 0;
    while (n && ((*buf)[n - 1] == '\n' || (*buf)[n - 1] == '\r'))
        (*buf)[--n] = '\0';
    return 1;
}

static int ask(void *ctx, const char *prompt, char *out, size_t cap)
{
    (void)ctx;
    char *buf = NULL;
    size_t bcap = 0;
    int ok = read_line(prompt, &buf, &bcap);
    if (ok)
        snprintf(out, cap, "%s", buf);
    free(buf);
    return ok;
}

/* The RW_OPT_CALL functions of -x and --commands: both append to one list, in
 * command-line order. */
static int add_command(void *l, const char *cmd, char *why, size_t cap)
{
    (void)why;
    (void)cap;
    return lines_add(l, cmd, strlen(cmd)) < 0 ? -2 : 0;
}

static int add_commands_file(void *l, const char *path, char *why, size_t cap)
{
    if (lines_file(l, path, 1) == 0)
        return 0;
    snprintf(why, cap, "cannot read the commands file: check the path");
    return -1;
}

int rw_cmd_replay(int argc, char **argv)
{
    const char *at = NULL, *trace = NULL, *test = NULL;
    char test_at[32];
    lines first = {0}, cmds = {0};
    int rc_files = 1;
    unsigned long long child = 0;
    int have_child = 0;
    int values = 2; /* 1: --values, 0: --no-values, 2: when the engine can start */
    int sandbox = 1;
    unsigned long long nckpt = RW_ENGINE_CHECKPOINTS, ckpt_mib = RW_ENGINE_CHECKPOINT_MIB;
    const rw_opt opts[] = {
        {.long_name = "at", .kind = RW_OPT_POS, .dst = &at},
        {.long_name = "test", .kind = RW_OPT_NONEMPTY, .dst = &test, .what = "a test NAME"},
        {.short_name = 'x', .kind = RW_OPT_CALL, .dst = &cmds, .call = add_command,
         .what = "a debugger command"},
        {.long_name = "commands", .kind = RW_OPT_CALL, .dst = &cmds, .call = add_commands_file,
         .what = "a FILE of commands"},
        {.long_name = "no-rc", .kind = RW_OPT_CLEAR, .dst = &rc_files},
        {.long_name = "child", .kind = RW_OPT_UINT, .dst = &child, .what = "a process id",
         .max = 4194304, .seen = &have_child},
        {.long_name = "values", .kind = RW_OPT_FLAG, .dst = &values},
        {.long_name = "no-values", .kind = RW_OPT_CLEAR, .dst = &values},
        {.long_name = "no-sandbox", .kind = RW_OPT_CLEAR, .dst = &sandbox},
        {.long_name = "checkpoints", .kind = RW_OPT_UINT, .dst = &nckpt,
         .what = "a number of checkpoints (0 to 2000)", .max = 2000},
        {.long_name = "checkpoint-memory", .kind = RW_OPT_UINT, .dst = &ckpt_mib,
         .what = "a size in MiB", .max = 1u << 24},
    };
    static const char *const argnames[] = {"the TRACE file"};
    rw_cmdline cl = {.cmd = "replay", .usage_text = USAGE, .opts = opts,
                     .nopts = sizeof opts / sizeof opts[0], .args = &trace, .maxargs = 1,
                     .argnames = argnames, .nrequired = 1};
    int go = rw_opts_parse(&cl, argc, argv);
    if (go == RW_OPTS_GO && test && at)
        go = rw_opts_usage("replay", "--test cannot be combined with --at");
    if (go != RW_OPTS_GO) {
        lines_free(&cmds);
        return go;
    }
    rw_engine_set_sandbox(sandbox);
    if (rc_files) {
        const char *home = getenv("HOME");
        if (home) {
            char path[4096];
            snprintf(path, sizeof path, "%s/.rewindrc", home);
            lines_file(&first, path, 0);
        }
        lines_file(&first, ".rewindrc", 0);
    }
    for (size_t i = 0; i < cmds.n; i++)
        lines_add(&first, cmds.v[i], strlen(cmds.v[i]));
    lines_free(&cmds);

    rw_err err;
    rw_reader *r;
    char child_path[4096];
    if (have_child) { /* the trace of a child this run started, beside it (family.h) */
        rw_reader *parent;
        rw_code crc = rw_reader_open(trace, &parent, &err);
        if (crc == RW_OK) {
            crc = rw_family_child_path(trace, parent, (int64_t)child, child_path,
                                       sizeof child_path, &err);
            rw_reader_free(parent);
        }
        if (crc != RW_OK) {
            lines_free(&first);
            return rw_cli_fail("replay", &err);
        }
        trace = child_path;
    }
    if (rw_cli_open_trace("replay", trace, &r, &err) != RW_OK) {
        lines_free(&first);
        return rw_cli_fail("replay", &err);
    }
    if (test) { /* where the test starts or failed (cli/cmd_tests.c) */
        rw_cli_test t;
        int st = rw_cli_test_lookup("replay", trace, r, test, &t);
        if (st != RW_EXIT_OK) {
            rw_reader_free(r);
            lines_free(&first);
            return st;
        }
        uint64_t pos = t.at_failure ? t.failure : t.body != UINT64_MAX ? t.body : t.first;
        snprintf(test_at, sizeof test_at, "%llu", (unsigned long long)pos);
        at = test_at;
    }
    rw_pdb *d;
    if (rw_pdb_new(r, stdout, &d, &err) != RW_OK) {
        rw_reader_free(r);
        lines_free(&first);
        return rw_cli_fail("replay", &err);
    }
    rw_pdb_set_input(d, ask, NULL);
    rw_values *vals = NULL;
    if (values) {
        rw_engine_set_checkpoints((unsigned)nckpt, (unsigned)ckpt_mib);
        if (rw_values_engine_new(trace, &vals, &err) != RW_OK ||
            (values == 1 && rw_values_engine_start(vals, &err) != RW_OK)) {
            rw_values_engine_free(vals);
            rw_pdb_free(d);
            rw_reader_free(r);
            lines_free(&first);
            return rw_cli_fail("replay", &err);
        }
        rw_session_set_values(rw_pdb_session(d), vals);
    } else {
        rw_session_set_values(rw_pdb_session(d), &rw_values_off);
    }
    /* Damage in chunks a move jumps over is found in the background (pdb.h). */
    if (rw_pdb_check_trace(d, &err) != RW_OK) {
        rw_pdb_free(d);
        rw_values_engine_free(vals);
        rw_reader_free(r);
        lines_free(&first);
        return rw_cli_fail("replay", &err);
    }
    if (rw_pdb_start(d, at, &err) != RW_OK) {
        rw_pdb_free(d);
        rw_values_engine_free(vals);
        rw_reader_free(r);
        lines_free(&first);
        return at ? rw_opts_position_fail("replay", "--at", at, &err)
                  : rw_cli_fail("replay", &err);
    }

    char *buf = NULL;
    size_t cap = 0;
    char queued[8192];
    int need_entry = 1;
    while (!rw_pdb_done(d)) {
        if (need_entry) {
            int moved = 0;
            while (first.head < first.n && !rw_pdb_done(d))
                if (rw_pdb_onecmd(d, first.v[first.head++])) {
                    moved = 1;
                    break;
                }
            if (moved || rw_pdb_done(d))
                continue;
            if (rw_pdb_interaction(d)) /* a breakpoint's command list resumed */
                continue;
            need_entry = 0;
        }
        int moved;
        rw_pdb_poll_damage(d);
        if (rw_pdb_pending(d, queued, sizeof queued))
            moved = rw_pdb_line(d, queued);
        else if (read_line(rw_pdb_defining(d) ? COM_PROMPT : PROMPT, &buf, &cap))
            moved = rw_pdb_line(d, buf);
        else if (rw_pdb_defining(d))
            moved = rw_pdb_onecmd(d, "end"); /* then EOF at the usual prompt */
        else
            moved = rw_pdb_onecmd(d, "EOF");
        if (moved)
            need_entry = 1;
    }
    const rw_err *damage = rw_pdb_damage(d); /* waits for the background check */
    fflush(stdout);
    int status = rw_pdb_error(d) == RW_OK && !damage ? RW_EXIT_OK : RW_EXIT_FAIL;
    if (damage)
        fprintf(stderr, "rewind replay: %s\n", damage->msg);
    free(buf);
    rw_pdb_free(d);
    rw_values_engine_free(vals);
    rw_reader_free(r);
    lines_free(&first);
    return status;
}
