/* Fuzz target for the command lines of every subcommand (cli/options.h and each
 * command's option table, and the position specs they take): the input is split into
 * arguments at newlines; the first names the subcommand, and an argument "@T" stands
 * for a small trace written at start-up. The subcommand then runs on it: any option
 * combination must end in an exit status (0, 1 or 2; -h prints help), never a crash.
 * `record` is parsed only (rw_cmd_record_check: running it would start Python);
 * `replay` runs with standard input at end of file and HOME in the scratch directory,
 * so that only -x and --commands feed it (its commands have fuzz_debugger_cmd).
 * Arguments holding '/' are refused so that output options only write into the
 * scratch directory the target runs in. Seeds: tests/fuzz/corpus/fuzz_cli/.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "inputs.h"
#include "writer.h"

#define MAX_ARGS 24
#define MAX_ARG 256

static char trace_path[256];
static char scratch[64];
static int home_fd = -1, scratch_fd = -1; /* the fuzzer reads its corpus from home */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    if (scratch[0])
        nftw(scratch, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes a small trace with every kind of record into the scratch directory. */
static int make_trace(void)
{
    rw_writer *w;
    rw_err err;
    Rewind__Metadata meta = REWIND__METADATA__INIT;
    char *argv0[] = {(char *)"prog.py"};
    meta.n_argv = 1;
    meta.argv = argv0;
    meta.run_kind = (char *)"script";
    meta.run_target = (char *)"prog.py";
    meta.ns_per_tick = 1.0;
    if (rw_writer_open(trace_path, NULL, 1, &meta, &w, &err) != RW_OK)
        return -1;
    static const char src[] = "def f(n):\n    x = [n] * n\n    return len(x)\n\n"
                              "for i in range(3):\n    f(i)\nraise ValueError('end')\n";
    rw_writer_def_thread(w, 1, 1, 1, "MainThread", 1);
    rw_writer_def_file(w, 1, "prog.py", src, sizeof src - 1, 1);
    rw_writer_def_code(w, 1, 1, "<module>", "<module>", 1, 0, NULL, 0);
    static const char *const args[] = {"n"};
    rw_writer_def_code(w, 2, 1, "f", "f", 1, 0, args, 1);
    static const uint32_t lines1[] = {1, 5, 6, 7}, lines2[] = {2, 3};
    rw_writer_def_code_lines(w, 2, lines2, 2, 1);
    rw_writer_def_cfunc(w, 1, "<built-in method builtins.len>", "len", "builtins");
    rw_writer_def_name(w, 1, "ValueError");
    rw_writer_def_name(w, 2, "open");
    (void)lines1;
    rw_stream *s = rw_writer_stream(w);
    uint64_t t = 1000;
    rw_stream_put(s, RW_REC(RW_K_THREAD, t), 1);
    rw_stream_put(s, RW_REC(RW_K_CALL, t), 1 | (1ull << 32));
    rw_stream_put(s, RW_REC(RW_K_LINE, t), 5);
    rw_stream_put_text(s, RW_REC(RW_K_AUDIT, t), 2, "('prog.py', 'r')", 16);
    /* Inputs for info --inputs: open("data.txt") = 3, then a read of it. */
    uint8_t key[40] = {0};
    int64_t kv[3] = {-100, 0, 0};
    memcpy(key, kv, sizeof kv);
    memcpy(key + 24, "data.txt", 8);
    rw_input in = {.thread = 1, .call = RW_CALL_OPEN, .result = 3, .key = key, .key_len = 32};
    rw_writer_input(w, &in);
    kv[0] = 3, kv[1] = 4096;
    memcpy(key, kv, 16);
    in = (rw_input){.thread = 1, .seq = 1, .call = RW_CALL_READ, .result = 5, .key = key,
                    .key_len = 16, .data = (const uint8_t *)"hello", .data_len = 5};
    rw_writer_input(w, &in);
    for (int i = 0; i < 3; i++) {
        rw_stream_put(s, RW_REC(RW_K_LINE, t += 10), 6);
        rw_stream_put(s, RW_REC(RW_K_CALL, t += 10), 2 | (1ull << 32));
        rw_stream_put(s, RW_REC(RW_K_LINE, t += 10), 2);
        rw_stream_put(s, RW_REC(RW_K_ALLOC_OBJ, 64 + 8 * i), 0x7f0000001000ull + 64 * i);
        rw_stream_put(s, RW_REC(RW_K_LINE, t += 10), 3);
        rw_stream_put(s, RW_REC(RW_K_C_CALL, t += 10), 1);
        rw_stream_put(s, RW_REC(RW_K_C_RETURN, t += 10), 1);
        rw_stream_put(s, RW_REC(RW_K_FREE_OBJ, 0), 0x7f0000001000ull + 64 * i);
        rw_stream_put(s, RW_REC(RW_K_RETURN, t += 10), 0);
    }
    rw_stream_put(s, RW_REC(RW_K_LINE, t += 10), 7);
    rw_stream_put_text(s, RW_REC(RW_K_EXCEPTION, t += 10), 1, "end", 3);
    rw_stream_put_text(s, RW_REC(RW_K_UNCAUGHT, t), 1, "end", 3);
    rw_stream_put(s, RW_REC(RW_K_RETURN, t += 10), 0);
    Rewind__RunEnd end = REWIND__RUN_END__INIT;
    end.exit_status = 1;
    end.uncaught_type = (char *)"ValueError";
    end.uncaught_message = (char *)"end";
    end.uncaught_pos = 30;
    return rw_writer_close(w, &end, NULL, &err) == RW_OK ? 0 : -1;
}

static int init(void)
{
    static int done = 0, ok = 0;
    if (done)
        return ok;
    done = 1;
    snprintf(scratch, sizeof scratch, "/tmp/rewind-fuzz-cli-XXXXXX");
    if (!mkdtemp(scratch))
        return 0;
    home_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    scratch_fd = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (home_fd < 0 || scratch_fd < 0)
        return 0;
    atexit(cleanup);
    snprintf(trace_path, sizeof trace_path, "%s/t.rwd", scratch);
    if (make_trace() < 0)
        return 0;
    if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "r", stdin))
        return 0;
    setenv("HOME", scratch, 1); /* replay reads $HOME/.rewindrc */
    ok = 1;
    return ok;
}

typedef struct cmd {
    const char *name;
    int (*run)(int, char **);
} cmd;

static const cmd cmds[] = {
    {"info", rw_cmd_info},         {"verify", rw_cmd_verify},
    {"events", rw_cmd_events},     {"stats", rw_cmd_stats},
    {"memory", rw_cmd_memory},     {"coverage", rw_cmd_coverage},
    {"audit", rw_cmd_audit},       {"export", rw_cmd_export},
    {"timeit", rw_cmd_timeit},     {"replay", rw_cmd_replay},
    {"tests", rw_cmd_tests},       {"record", rw_cmd_record_check},
    {"diff", rw_cmd_diff},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!init() || size > MAX_ARGS * MAX_ARG)
        return 0;
    static char buf[MAX_ARGS * MAX_ARG + 1];
    memcpy(buf, data, size);
    buf[size] = 0;
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    for (char *p = buf; p && argc < MAX_ARGS;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = 0;
        if (strlen(p) >= MAX_ARG)
            return 0;
        if (!strcmp(p, "@T"))
            argv[argc++] = trace_path;
        else if (strchr(p, '/'))
            return 0;
        else
            argv[argc++] = p;
        p = nl ? nl + 1 : NULL;
    }
    argv[argc] = NULL;
    if (argc == 0)
        return 0;
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(argv[0], cmds[i].name))
            continue;
        /* Output options write into the scratch directory, only while the command
         * runs: libFuzzer reads corpus files by relative path between runs. */
        if (fchdir(scratch_fd) < 0)
            return 0;
        int rc = cmds[i].run(argc, argv);
        if (fchdir(home_fd) < 0)
            abort();
        if (rc < 0 || rc > 2)
            abort(); /* the statuses of options.h: 0, 1 or 2 */
        fflush(stdout);
        break;
    }
    return 0;
}
