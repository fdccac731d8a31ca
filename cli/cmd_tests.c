/* rewind tests: the tests of a recorded pytest or unittest run, with their outcomes,
 * durations and position ranges (replayer/analysis/tests.h does the work), and the
 * --test option that replay, stats, coverage and memory share (commands.h). */
#include "commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "json.h"
#include "reader.h"
#include "tests.h"

#define CMD "tests"

static const char USAGE[] =
    "usage: rewind tests FILE [--json] [--no-values] [--no-sandbox]\n"
    "\n"
    "Every test of a recorded pytest or unittest run: its outcome (passed, failed,\n"
    "error, skipped, xfail, xpass), its duration, its position range FIRST..LAST (for\n"
    "'rewind replay --at', 'rewind events --from/--to') and, for a test that failed,\n"
    "the position of the raise that failed it. Found from the runner's recorded calls;\n"
    "the runner's own test ids are asked once of the re-execution engine when the\n"
    "recording can be re-executed (docs/tests.md).\n"
    "\n"
    "Then 'rewind replay FILE --test NAME' starts at the test's first line, --test\n"
    "NAME@failure at its failure, and 'rewind stats|coverage|memory FILE --test NAME'\n"
    "look at that test only, and 'rewind diff --test NAME PASS FAIL' compares it in two\n"
    "runs. NAME: the id as listed, or a unique ending or part of it.\n"
    "\n"
    "options:\n"
    "  --json        one JSON object: {\"tests\": [...], \"counts\": {...}, ...}\n"
    "  --no-values   do not re-execute: names from the log only (a parametrised test\n"
    "                is numbered test_y[#2], a test whose function never ran ?pytest#N)\n"
    "  --no-sandbox  re-execute without the engine's sandbox (docs/reexecution.md):\n"
    "                only for a recording you trust\n"
    "  -h, --help    show this help\n";

/* Finds the tests of the trace (path, r), named by the engine when values != 0 and
 * it can run. Prints nothing. */
static rw_code find_tests(const char *path, const rw_reader *r, int values, rw_tests *t,
                          rw_err *err)
{
    rw_code rc = rw_tests_scan(r, t, err);
    if (rc != RW_OK)
        return rc;
    if (values) {
        rw_err why;
        rw_tests_name(path, t, &why); /* on failure the log's names stand, t->note says */
    }
    return RW_OK;
}

static void where_text(const rw_reader *r, uint32_t code, uint32_t line, char *buf, size_t cap)
{
    const char *p = rw_defs_code_path(rw_reader_defs(r), code);
    snprintf(buf, cap, "%s:%u", p ? p : "?", line);
}

static void print_json(const char *path, const rw_reader *r, const rw_tests *t,
                       const size_t *counts)
{
    printf("{\"trace\": ");
    rw_json_str(stdout, path);
    printf(", \"runner\": %s", t->has_pytest && t->has_unittest ? "\"pytest+unittest\""
                               : t->has_pytest ? "\"pytest\""
                               : t->has_unittest ? "\"unittest\"" : "null");
    printf(", \"exact_names\": %s, \"note\": ", t->note[0] ? "false" : "true");
    if (t->note[0])
        rw_json_str(stdout, t->note);
    else
        printf("null");
    printf(", \"counts\": {");
    for (int o = 0; o <= RW_TEST_UNKNOWN; o++)
        printf("%s\"%s\": %zu", o ? ", " : "", rw_test_outcome_name((rw_test_outcome)o),
               counts[o]);
    printf("}, \"tests\": [");
    for (size_t i = 0; i < t->n; i++) {
        const rw_test *x = &t->v[i];
        printf("%s\n  {\"id\": ", i ? "," : "");
        rw_json_str(stdout, x->id);
        printf(", \"name\": ");
        rw_json_str(stdout, x->name);
        printf(", \"runner\": \"%s\", \"outcome\": \"%s\", \"exact\": %s, \"duration\": %.9f, "
               "\"first\": %llu, \"last\": %llu, \"thread\": %u",
               x->runner == RW_RUNNER_PYTEST ? "pytest" : "unittest",
               rw_test_outcome_name(x->outcome), x->exact ? "true" : "false",
               x->duration_ns / 1e9, (unsigned long long)x->first,
               (unsigned long long)x->last, x->thread);
        const char *file = x->code ? rw_defs_code_path(rw_reader_defs(r), x->code) : NULL;
        printf(", \"file\": ");
        rw_json_str(stdout, file);
        if (x->body != RW_TESTS_NONE)
            printf(", \"body\": %llu, \"body_line\": %u", (unsigned long long)x->body,
                   x->body_line);
        else
            printf(", \"body\": null, \"body_line\": null");
        if (x->failure != RW_TESTS_NONE) {
            printf(", \"failure\": %llu, \"failure_file\": ", (unsigned long long)x->failure);
            rw_json_str(stdout, rw_defs_code_path(rw_reader_defs(r), x->failure_code));
            printf(", \"failure_line\": %u", x->failure_line);
        } else {
            printf(", \"failure\": null, \"failure_file\": null, \"failure_line\": null");
        }
        printf(", \"subtests_failed\": %u, \"fixture\": %s}", x->subtests_failed,
               x->fixture ? "true" : "false");
    }
    printf("%s]}\n", t->n ? "\n" : "");
}

static void print_text(const rw_reader *r, const rw_tests *t, const size_t *counts)
{
    printf("%-8s %10s  %-23s %s\n", "OUTCOME", "DURATION", "POSITIONS", "TEST");
    for (size_t i = 0; i < t->n; i++) {
        const rw_test *x = &t->v[i];
        char pos[48];
        snprintf(pos, sizeof pos, "%llu..%llu", (unsigned long long)x->first,
                 (unsigned long long)x->last);
        printf("%-8s %9.3fs  %-23s %s\n", rw_test_outcome_name(x->outcome),
               x->duration_ns / 1e9, pos, x->name);
        if (x->failure != RW_TESTS_NONE) {
            char w[4200];
            where_text(r, x->failure_code, x->failure_line, w, sizeof w);
            printf("%8s %10s  %s at %llu: %s\n", "", "",
                   x->outcome == RW_TEST_XFAIL ? "raised" : "failed",
                   (unsigned long long)x->failure, w);
        }
        if (x->subtests_failed)
            printf("%8s %10s  %u subtest%s failed\n", "", "", x->subtests_failed,
                   x->subtests_failed == 1 ? "" : "s");
    }
    printf("%zu test%s:", t->n, t->n == 1 ? "" : "s");
    int any = 0;
    for (int o = 0; o <= RW_TEST_UNKNOWN; o++)
        if (counts[o]) {
            printf("%s %zu %s", any ? "," : "", counts[o],
                   rw_test_outcome_name((rw_test_outcome)o));
            any = 1;
        }
    printf("\n");
    if (t->note[0])
        printf("note: %s\n", t->note);
}

int rw_cmd_tests(int argc, char **argv)
{
    const char *file = NULL;
    int json = 0, values = 1, sandbox = 1;
    const rw_opt opts[] = {
        {.long_name = "json", .kind = RW_OPT_FLAG, .dst = &json},
        {.long_name = "no-values", .kind = RW_OPT_CLEAR, .dst = &values},
        {.long_name = "no-sandbox", .kind = RW_OPT_CLEAR, .dst = &sandbox},
    };
    static const char *const argnames[] = {"the trace FILE"};
    rw_cmdline cl = {.cmd = CMD, .usage_text = USAGE, .opts = opts,
                     .nopts = sizeof opts / sizeof opts[0], .args = &file, .maxargs = 1,
                     .argnames = argnames, .nrequired = 1};
    int go = rw_opts_parse(&cl, argc, argv);
    if (go != RW_OPTS_GO)
        return go;
    rw_engine_set_sandbox(sandbox);
    rw_err err;
    rw_reader *r;
    if (rw_cli_open_trace(CMD, file, &r, &err) != RW_OK)
        return rw_cli_fail(CMD, &err);
    rw_tests t;
    rw_code rc = find_tests(file, r, values, &t, &err);
    if (rc != RW_OK && !t.n) {
        rw_tests_free(&t);
        rw_reader_free(r);
        return rw_cli_fail(CMD, &err);
    }
    int status = RW_EXIT_OK;
    size_t counts[RW_TEST_UNKNOWN + 1] = {0};
    for (size_t i = 0; i < t.n; i++)
        counts[t.v[i].outcome]++;
    if (!t.n && !json) {
        fprintf(stderr, "rewind " CMD ": %s holds no pytest or unittest test (no call of "
                "_pytest.runner.runtestprotocol or unittest.TestCase.run was recorded)\n",
                file);
        status = RW_EXIT_FAIL;
    } else if (json) {
        print_json(file, r, &t, counts);
    } else {
        print_text(r, &t, counts);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "rewind " CMD ": cannot write the output: %s\n", strerror(errno));
        status = RW_EXIT_FAIL;
    }
    if (rc != RW_OK) /* damaged: the tests before the damage were shown */
        status = rw_cli_fail(CMD, &err);
    rw_tests_free(&t);
    rw_reader_free(r);
    return status;
}

int rw_cli_test_lookup(const char *cmd, const char *path, const rw_reader *r, const char *spec,
                       rw_cli_test *out)
{
    memset(out, 0, sizeof *out);
    char name[1024];
    snprintf(name, sizeof name, "%s", spec);
    size_t len = strlen(name);
    const char *suffix = "@failure";
    if (len > strlen(suffix) && !strcmp(name + len - strlen(suffix), suffix)) {
        name[len - strlen(suffix)] = '\0';
        out->at_failure = 1;
    }
    rw_err err;
    rw_tests t;
    if (rw_tests_scan(r, &t, &err) != RW_OK) {
        rw_tests_free(&t);
        return rw_cli_fail(cmd, &err);
    }
    if (!t.n) {
        fprintf(stderr, "rewind %s: --test %s: %s holds no pytest or unittest test: "
                "record the test run with 'rewind record -m pytest ...' or '-m unittest'\n",
                cmd, spec, path);
        rw_tests_free(&t);
        return RW_EXIT_FAIL;
    }
    size_t i;
    rw_code rc = rw_tests_find(&t, name, &i, &err);
    if (rc == RW_ENOTFOUND || (rc == RW_EINVAL && t.note[0])) {
        /* a name as the runner prints it: ask the runner (re-execution) */
        rw_err why;
        if (t.note[0] && rw_tests_name(path, &t, &why) == RW_OK)
            rc = rw_tests_find(&t, name, &i, &err);
    }
    if (rc != RW_OK) {
        int two = !strcmp(cmd, "diff"); /* two traces: say which */
        fprintf(stderr, "rewind %s: --test %s: %s%s%s\n", cmd, spec, two ? path : "",
                two ? ": " : "", err.msg);
        rw_tests_free(&t);
        return rc == RW_EINVAL ? RW_EXIT_USAGE : RW_EXIT_FAIL;
    }
    const rw_test *x = &t.v[i];
    out->first = x->first;
    out->last = x->last;
    out->body = x->body;
    out->failure = x->failure;
    snprintf(out->id, sizeof out->id, "%s", x->id);
    int status = RW_EXIT_OK;
    if (out->at_failure && x->failure == RW_TESTS_NONE) {
        fprintf(stderr, "rewind %s: --test %s: %s %s, no raise failed it: use --test %s\n",
                cmd, spec, x->id,
                x->outcome == RW_TEST_PASSED ? "passed" : x->outcome == RW_TEST_SKIPPED
                ? "was skipped" : "has no recorded failure", name);
        status = RW_EXIT_FAIL;
    }
    rw_tests_free(&t);
    return status;
}
