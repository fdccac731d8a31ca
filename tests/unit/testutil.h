/* Helpers shared by the Check suites (tests/unit/test_*.c): a scratch directory that
 * removes itself, and whole-file reads and writes.
 *
 * Set-up helpers (rw_test_tmpdir, rw_test_path, rw_test_write_file) fail the running
 * test with a message on an OS error, since they are not what is being tested;
 * rw_test_read_file returns NULL so that a test can check a file's absence. Safe with
 * CK_FORK=yes: each process removes only the directory it created itself.
 */
#ifndef RW_TESTUTIL_H
#define RW_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

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

#endif
