/* Helpers shared by the Check suites: scratch directory, whole-file reads and writes,
 * traces written with the writer API, running a suite.
 * See testutil.h. Test code only: it may abort the running test on OS errors. */
#include "testutil.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Fails the running test unless cond holds. Not ck_assert_msg: that one also reports
 * progress on success, which aborts when called outside a test (an unchecked fixture). */
#define REQUIRE(cond, ...)                                                     \
    do {                                                                       \
        if (!(cond))                                                           \
            ck_abort_msg(__VA_ARGS__);                                         \
    } while (0)

/* The scratch directory and the process that made it. A child forked by Check inherits
 * both and uses the same directory; the pid keeps the child's exit from removing it. */
static char tmpdir[PATH_MAX];
static pid_t tmpdir_owner;

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

static void remove_tmpdir(void)
{
    if (tmpdir[0] && tmpdir_owner == getpid())
        nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *rw_test_tmpdir(void)
{
    if (tmpdir[0])
        return tmpdir;
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    /* mkdtemp's template: the prefix, then six 'X' it replaces. */
    int n = snprintf(tmpdir, sizeof tmpdir, "%s/rewind-test-......", base);
    REQUIRE(n > 0 && (size_t)n < sizeof tmpdir, "TMPDIR too long: %s", base);
    memset(tmpdir + n - 6, 'X', 6);
    REQUIRE(mkdtemp(tmpdir) != NULL, "mkdtemp %s: %s", tmpdir, strerror(errno));
    tmpdir_owner = getpid();
    atexit(remove_tmpdir);
    return tmpdir;
}

char *rw_test_path(const char *name)
{
    const char *dir = rw_test_tmpdir();
    size_t len = strlen(dir) + 1 + strlen(name) + 1;
    char *path = malloc(len);
    REQUIRE(path != NULL, "out of memory");
    snprintf(path, len, "%s/%s", dir, name);
    return path;
}

void rw_test_write_file(const char *path, const void *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0, "open %s: %s", path, strerror(errno));
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        REQUIRE(w > 0, "write %s: %s", path, strerror(errno));
        p += w;
        len -= (size_t)w;
    }
    REQUIRE(close(fd) == 0, "close %s: %s", path, strerror(errno));
}

uint8_t *rw_test_read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, used = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        if (used + 1 >= cap) {
            uint8_t *bigger = realloc(buf, cap * 2);
            if (!bigger)
                break;
            buf = bigger;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + used, cap - used - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        if (r == 0) {
            close(fd);
            buf[used] = 0;
            *len = used;
            return buf;
        }
        used += (size_t)r;
    }
    int saved = buf ? errno : ENOMEM;
    free(buf);
    close(fd);
    errno = saved;
    return NULL;
}

rw_writer *rw_test_writer_open(const char *path, uint32_t chunk_records,
                               Rewind__Metadata *meta)
{
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    o.flush_ms = 0;
    if (chunk_records)
        o.chunk_records = chunk_records;
    rw_writer *w;
    rw_err err;
    REQUIRE(rw_writer_open(path, &o, 1, meta, &w, &err) == RW_OK, "%s", err.msg);
    return w;
}

void rw_test_writer_close(rw_writer *w, Rewind__RunEnd *end)
{
    rw_err err;
    REQUIRE(rw_writer_close(w, end, NULL, &err) == RW_OK, "%s", err.msg);
}

void rw_test_writer_exit(rw_writer *w)
{
    Rewind__RunEnd end = REWIND__RUN_END__INIT;
    end.stop_reason = "exit";
    rw_test_writer_close(w, &end);
}

rw_writer *rw_test_script_trace(const char *path, uint32_t chunk_records, const char *src,
                                size_t len)
{
    Rewind__Metadata meta = REWIND__METADATA__INIT;
    char *argv[] = {"prog.py"};
    meta.n_argv = 1;
    meta.argv = argv;
    meta.cwd = "/t";
    meta.run_kind = "script";
    meta.run_target = "prog.py";
    meta.ns_per_tick = 1.0;
    rw_writer *w = rw_test_writer_open(path, chunk_records, &meta);
    rw_writer_def_file(w, 1, "/t/prog.py", src, len, 1);
    rw_writer_def_thread(w, 1, 1, 1, "MainThread", 1);
    return w;
}

void rw_test_add_case(Suite *s, const char *name, int timeout, const TTest *const *tests,
                      size_t n)
{
    TCase *tc = tcase_create(name);
    if (timeout > 0)
        tcase_set_timeout(tc, timeout);
    for (size_t i = 0; i < n; i++)
        tcase_add_test(tc, tests[i]);
    suite_add_tcase(s, tc);
}

int rw_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

int rw_test_main(const char *suite, const char *tcase, int timeout, const TTest *const *tests,
                 size_t n)
{
    Suite *s = suite_create(suite);
    rw_test_add_case(s, tcase, timeout, tests, n);
    return rw_test_run(s);
}

void rw_test_see(rw_test_seen *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(o->s + o->n, sizeof o->s - o->n, fmt, ap);
    va_end(ap);
    if (w > 0)
        o->n += (size_t)w < sizeof o->s - o->n ? (size_t)w : sizeof o->s - o->n - 1;
}
