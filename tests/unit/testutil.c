/* Helpers shared by the Check suites: scratch directory, whole-file reads and writes.
 * See testutil.h. Test code only: it may abort the running test on OS errors. */
#include "testutil.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
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
