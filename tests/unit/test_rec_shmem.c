/* Check suite for recorder/libc/shmem.c: shared memory that another process writes.
 * A scenario maps shared memory (anonymous, and a memfd: tmpfs), lets a forked child
 * write to it and reads it after the child's byte on a pipe; the replay, where fork
 * makes no child, must read the same bytes, from the SHARED_MEM records logged before
 * the pipe's read. A record that names a mapping the replay does not have, or a range
 * beyond it, is refused.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libc/input.h"
#include "libc/shmem.h"
#include "reader.h"
#include "testutil.h"
#include "writer.h"

static rw_writer *trace_w;
static char *trace;
static int first_fd;

/* A child writes `word` at `at` in both mappings; the parent reads them after the
 * child's byte arrives on a pipe. */
static void child_writes(rw_test_seen *o, char *anon, char *file, const char *word)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t c = fork();
    if (c == 0) {
        memcpy(anon + 100, word, strlen(word));
        memcpy(file + 5000, word, strlen(word));
        if (write(p[1], "x", 1) != 1)
            _exit(1);
        _exit(0);
    }
    close(p[1]);
    char b;
    rw_test_see(o, "read %zd\n", read(p[0], &b, 1));
    close(p[0]);
    rw_test_see(o, "anon '%.8s' file '%.8s'\n", anon + 100, file + 5000);
    int st;
    waitpid(c, &st, 0);
}

static void scenario(rw_test_seen *o)
{
    char *anon = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(anon, MAP_FAILED);
    int fd = memfd_create("rw-test-shmem", MFD_CLOEXEC); /* tmpfs, as /dev/shm */
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, 16384), 0);
    char *file = mmap(NULL, 16384, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ck_assert_ptr_ne(file, MAP_FAILED);
    rw_test_see(o, "following %u\n", rw_shm_active());
    memcpy(anon, "mine", 4); /* the program's own write: the replay makes it too */
    child_writes(o, anon, file, "first");
    child_writes(o, anon, file, "again");
    rw_test_see(o, "mine '%.4s'\n", anon);
    munmap(anon, 8192);
    munmap(file, 16384);
    close(fd);
    rw_test_see(o, "following after munmap %u\n", rw_shm_active());
}

START_TEST(test_child_writes_replay)
{
    static rw_test_seen rec, rep;
    memset(&rec, 0, sizeof rec);
    memset(&rep, 0, sizeof rep);
    first_fd = dup(0);
    close(first_fd);
    trace = rw_test_path("shmem.rwd");
    trace_w = rw_test_writer_open(trace, 0, NULL);
    rw_in_start(RW_IN_RECORD, NULL);
    rw_in_attach_writer(trace_w);
    scenario(&rec);
    rw_in_stop();
    rw_in_attach_writer(NULL);
    rw_test_writer_exit(trace_w);
    ck_assert_ptr_nonnull(strstr(rec.s, "anon 'first' file 'first'"));
    ck_assert_ptr_nonnull(strstr(rec.s, "anon 'again' file 'again'"));
    ck_assert_ptr_nonnull(strstr(rec.s, "following 2\n"));
    ck_assert_ptr_nonnull(strstr(rec.s, "following after munmap 0\n"));

    for (int fd = first_fd; fd < first_fd + 64; fd++)
        close(fd); /* what the recording left open: the replay may touch none */
    rw_reader *rd = NULL;
    rw_err err = {0};
    ck_assert_msg(rw_reader_open(trace, &rd, &err) == RW_OK, "open: %s", err.msg);
    rw_inputs_iter *it;
    ck_assert_int_eq(rw_inputs_iter_open(rd, &it, &err), RW_OK);
    rw_input in;
    int shared = 0;
    while (rw_inputs_iter_next(it, &in, &err) == 1)
        shared += in.call == RW_CALL_SHARED_MEM;
    rw_inputs_iter_free(it);
    ck_assert_int_ge(shared, 2); /* one before each read after a child */
    rw_in_start(RW_IN_REPLAY, rd);
    scenario(&rep);
    rw_in_stop();
    ck_assert_str_eq(rep.s, rec.s);
}
END_TEST

/* Records made by hand: what rw_in_take hands to rw_shm_apply. */
static int apply(uint64_t rec, uint64_t off, uint64_t len, const char *bytes, size_t cut)
{
    uint8_t buf[128];
    uint64_t head[3] = {rec, off, len};
    memcpy(buf, head, sizeof head);
    memcpy(buf + sizeof head, bytes, strlen(bytes));
    rw_input g = {.call = RW_CALL_SHARED_MEM, .data = buf,
                  .data_len = sizeof head + strlen(bytes) - cut};
    return rw_shm_apply(&g);
}

START_TEST(test_damaged_records_are_refused)
{
    enum { N = 64 };
    char *region = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(region, MAP_FAILED);
    memset(region, '.', N);
    ck_assert_int_eq(rw_shm_follow(region, N, 0x7000, NULL, NULL, 0), 1);
    ck_assert_int_eq(apply(0x7000, 10, 3, "abc", 0), 1);
    ck_assert_int_eq(memcmp(region + 10, "abc", 3), 0);
    ck_assert_int_eq(apply(0x7000, 62, 3, "xyz", 0), 0);        /* past its end */
    ck_assert_int_eq(apply(0x7000, UINT64_MAX, 3, "xyz", 0), 0); /* offset overflows */
    ck_assert_int_eq(apply(0x7000, 0, UINT64_MAX, "xyz", 0), 0); /* more than is there */
    ck_assert_int_eq(apply(0x7000, 0, 3, "xyz", 1), 0);          /* cut short */
    ck_assert_int_eq(apply(0x8000, 0, 3, "xyz", 0), 0);          /* no such mapping */
    ck_assert_int_eq(apply(0x7000, 0, 3, "xyz", 4), 0);          /* a broken header */
    for (size_t i = 0; i < N; i++)
        if (i < 10 || i >= 13)
            ck_assert_int_eq(region[i], '.');
    ck_assert_int_eq(munmap(region, 4096), 0); /* forgets it */
    ck_assert_uint_eq(rw_shm_active(), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("shmem");
    const TTest *tests[] = {test_child_writes_replay, test_damaged_records_are_refused};
    rw_test_add_case(s, "shared memory", 60, tests, RW_TEST_N(tests));
    return rw_test_run(s);
}
