/* Helpers shared by the Check suites (tests/unit/test_*.c): a scratch directory that
 * removes itself, whole-file reads and writes, traces written with the writer API, and
 * running a suite from a table of tests.
 *
 * Set-up helpers (rw_test_tmpdir, rw_test_path, rw_test_write_file) fail the running
 * test with a message on an OS error, since they are not what is being tested;
 * rw_test_read_file returns NULL so that a test can check a file's absence. Safe with
 * CK_FORK=yes: each process removes only the directory it created itself.
 */
#ifndef RW_TESTUTIL_H
#define RW_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "writer.h"

/* The process's scratch directory ($TMPDIR or /tmp, "rewind-test-" and six random
 * characters), created on first use and removed with everything in it when the process
 * that created it exits.
 * A child forked after the first call (CK_FORK=yes) shares its parent's directory.
 * Borrowed; valid until exit. */
const char *rw_test_tmpdir(void);

/* Returns "<scratch dir>/<name>" as a new string (caller frees). The same name gives the
 * same path within one process and the children it forks; the file is not created. */
char *rw_test_path(const char *name);

/* Creates or truncates path and writes len bytes of buf to it. */
void rw_test_write_file(const char *path, const void *buf, size_t len);

/* Returns the whole content of path in a new buffer (caller frees) followed by one NUL
 * byte that *len does not count, or NULL with errno set when it cannot be read. */
uint8_t *rw_test_read_file(const char *path, size_t *len);

/* Opens a writer on a new trace at path with meta (NULL: none), flushing only when a
 * chunk is full, of chunk_records records (0: the writer's default). Fails the running
 * test when it cannot. */
rw_writer *rw_test_writer_open(const char *path, uint32_t chunk_records,
                               Rewind__Metadata *meta);

/* Closes w with end (NULL: no run end); fails the running test unless that succeeds. */
void rw_test_writer_close(rw_writer *w, Rewind__RunEnd *end);

/* Closes w with a run end that says only that the program exited (stop reason "exit"). */
void rw_test_writer_exit(rw_writer *w);

/* Opens a writer (rw_test_writer_open) on the trace of a script "prog.py" run in /t,
 * one tick a nanosecond, whose file 1 is "/t/prog.py" holding src (len bytes) and
 * whose thread 1 is MainThread; the caller defines the codes and writes the events. */
rw_writer *rw_test_script_trace(const char *path, uint32_t chunk_records, const char *src,
                                size_t len);

/* What a scenario observed, as text (appended by rw_test_see, cut at its size): a
 * recording and its replay run one scenario and compare theirs. */
typedef struct rw_test_seen {
    char s[8192];
    size_t n;
} rw_test_seen;
void rw_test_see(rw_test_seen *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The number of elements of array a (a table of tests). */
#define RW_TEST_N(a) (sizeof(a) / sizeof *(a))

/* Adds to s a test case called name holding the n tests of tests, in order. timeout is
 * the case's time limit in seconds, or 0 to keep Check's (CK_DEFAULT_TIMEOUT). */
void rw_test_add_case(Suite *s, const char *name, int timeout, const TTest *const *tests,
                      size_t n);

/* Runs every test of s (which it frees) and returns main's exit status: EXIT_SUCCESS
 * when all passed, EXIT_FAILURE otherwise. */
int rw_test_run(Suite *s);

/* A suite called suite of one test case (see rw_test_add_case), run by rw_test_run:
 * the whole main() of most suites. */
int rw_test_main(const char *suite, const char *tcase, int timeout, const TTest *const *tests,
                 size_t n);

#endif
