/* The tests of a recorded pytest or unittest run, found from the runner's recorded
 * calls (docs/tests.md says exactly which): each test's outcome, position range,
 * duration, the first line of its function and the raise that failed it.
 *
 * rw_tests_scan makes one scan of the trace (scan.h) and needs nothing but the log.
 * Names: a test that the log alone cannot name exactly (a parametrised pytest test,
 * whose id is computed from values; a test whose function never ran: skipped, or its
 * fixture failed) gets its name from the re-execution engine with rw_tests_name, which
 * stops the recorded program once, at the first test, and asks the runner for the ids
 * of every test it is about to run; when the engine cannot run, names from the log
 * stand and parametrised ones are numbered (test_y[#2]).
 *
 * Used by cli/cmd_tests.c and the --test option of replay, stats, coverage and
 * memory. A set belongs to one thread; the reader may be shared.
 */
#ifndef RW_TESTS_H
#define RW_TESTS_H

#include <stddef.h>
#include <stdint.h>

#include "reader.h"

#define RW_TESTS_NONE UINT64_MAX /* a position that is not there */

typedef enum rw_test_runner { RW_RUNNER_PYTEST = 1, RW_RUNNER_UNITTEST = 2 } rw_test_runner;

/* One vocabulary for both runners (docs/tests.md maps each runner's words). */
typedef enum rw_test_outcome {
    RW_TEST_PASSED,
    RW_TEST_FAILED,
    RW_TEST_ERROR,
    RW_TEST_SKIPPED,
    RW_TEST_XFAIL,
    RW_TEST_XPASS,
    RW_TEST_UNKNOWN, /* the run ended (or was cut short) inside the test */
} rw_test_outcome;

const char *rw_test_outcome_name(rw_test_outcome o);

typedef struct rw_test {
    rw_test_runner runner;
    char *id;        /* pytest node id / unittest TestCase.id() */
    char *name;      /* unittest str(test) ("test_x (m.C.test_x)"); pytest: the id */
    int exact;       /* 1: the name is the runner's own; 0: derived from the log */
    rw_test_outcome outcome;
    uint64_t first, last;   /* CALL and RETURN positions of the runner's per-test call */
    uint64_t body;          /* first LINE of the test function, or RW_TESTS_NONE */
    uint32_t body_line;     /* and its line (in code) */
    uint64_t failure;       /* the EXCEPTION event of the raise that failed it, or NONE */
    uint32_t failure_code, failure_line; /* its frame's code and line */
    double duration_ns;     /* from first to last (recording overhead included) */
    uint32_t thread;
    uint32_t code;          /* the test function's CodeDef id; 0 when it never ran */
    uint32_t subtests_failed; /* unittest subTest()s that failed or errored */
    uint64_t protocol;      /* pytest: CALL of _pytest.runner.pytest_runtest_protocol;
                               unittest: the same as first */
    int fixture;            /* 1: not a test but a unittest class or module fixture that
                               failed or skipped, as unittest reports it ("setUpClass
                               (module.Class)"): first..last is the suite's handler */
    uint32_t fixture_code;  /* the fixture's code (the failure's frame), 0 unknown */
} rw_test;

typedef struct rw_tests {
    rw_test *v;
    size_t n, cap;
    int has_pytest, has_unittest;
    uint64_t suite_pos;     /* unittest: CALL of the outermost TestSuite.run, or NONE */
    char note[512];         /* why some names are not exact ("" when all are) */
} rw_tests;

/* Finds every test of r by one scan. *out is filled (free with rw_tests_free); no
 * test is not an error (n == 0). Errors: RW_ENOMEM (*out empty); the scan's RW_ECORRUPT
 * or RW_EIO for a damaged chunk, with *out holding the tests before the damage (the
 * one it cut "unknown"): free it in that case too. */
rw_code rw_tests_scan(const rw_reader *r, rw_tests *out, rw_err *err);
void rw_tests_free(rw_tests *t);

/* Names the tests by the runner's own ids, asked once of the re-execution engine for
 * the trace at path (rw_engine_open). RW_OK when every test got its exact name; any
 * other code leaves the log names, with the reason in t->note and err. */
rw_code rw_tests_name(const char *path, rw_tests *t, rw_err *err);

/* The test spec names: exact id or name, else the one test whose id ends with spec,
 * else the one whose id contains it. Returns its index in *idx; RW_ENOTFOUND when no
 * test matches, RW_EINVAL when several do (the message gives the count and the first
 * few). */
rw_code rw_tests_find(const rw_tests *t, const char *spec, size_t *idx, rw_err *err);

#endif
