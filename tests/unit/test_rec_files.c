/* Check suite for recorder/libc/files*.c: the file wrappers record what a scenario of
 * file calls learned, and replay it from the trace after the files changed, performing
 * nothing (a file the recording removed is still there, one it created is not, the
 * pipe to which it wrote stays empty). Installation files are logged by reference and
 * read from the local copy; a different call in replay is a divergence (exit 3).
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libc/files_int.h"
#include "inputs.h"
#include "reader.h"
#include "testutil.h"

#define STDLIB_OS RW_PY_STDLIB_DIR "/os.py"

/* What the scenario saw; compared whole (zeroed first, no pointers). */
typedef struct seen {
    int fd;
    ssize_t nread;
    char buf[64];
    struct stat fst;
    off_t end;
    int close_r;
    int stat_r;
    struct stat st;
    int missing_r, missing_errno;
    int nnames;
    char names[8][32];
    unsigned char types[8];
    int closedir_r;
    char cwd[PATH_MAX];
    char cwd_alloc[PATH_MAX];
    char line[64];
    int ffd;
    int fclose_r;
    int pipe_r;
    ssize_t pipe_w, pipe_got;
    char pipe_buf[8];
    int unlink_r;
    int created;
    ssize_t wrote;
    char link[64];
    ssize_t linklen;
    int access_r, access_errno;
    ssize_t os_read;
    char os_head[32];
    int out_w;
} seen;

static char *dir_path, *data_path, *gone_path, *new_path, *link_path;

static void make_world(void)
{
    dir_path = rw_test_path("d");
    data_path = rw_test_path("data.txt");
    gone_path = rw_test_path("gone.txt");
    new_path = rw_test_path("new.txt");
    link_path = rw_test_path("link");
    mkdir(dir_path, 0700);
    char *a = rw_test_path("d/a"), *b = rw_test_path("d/b");
    rw_test_write_file(a, "a", 1);
    rw_test_write_file(b, "b", 1);
    free(a);
    free(b);
    rw_test_write_file(data_path, "hello\nworld\n", 12);
    rw_test_write_file(gone_path, "x", 1);
    unlink(link_path);
    ck_assert_int_eq(symlink("data.txt", link_path), 0);
    unlink(new_path);
}

/* Changes every input the scenario reads, and undoes what it did. */
static void change_world(void)
{
    rw_test_write_file(data_path, "HELLO\nWORLD, longer\n", 20);
    char *c = rw_test_path("d/c");
    rw_test_write_file(c, "c", 1);
    free(c);
    rw_test_write_file(gone_path, "x", 1);
    unlink(new_path);
    unlink(link_path);
    ck_assert_int_eq(symlink("elsewhere", link_path), 0);
}

/* The calls, with fd 1 being out_fd's pipe end. No Check calls in here: they write. */
static void scenario(seen *s)
{
    memset(s, 0, sizeof *s);
    s->fd = open(data_path, O_RDONLY | O_CLOEXEC);
    s->nread = read(s->fd, s->buf, sizeof s->buf - 1);
    fstat(s->fd, &s->fst);
    s->end = lseek(s->fd, 0, SEEK_END);
    s->close_r = close(s->fd);
    s->stat_r = stat(data_path, &s->st);
    struct stat junk;
    s->missing_r = stat("/nonexistent/rewind/test", &junk);
    s->missing_errno = errno;

    DIR *d = opendir(dir_path);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL && s->nnames < 8) {
        snprintf(s->names[s->nnames], sizeof s->names[0], "%.31s", e->d_name);
        s->types[s->nnames++] = e->d_type;
    }
    s->closedir_r = d ? closedir(d) : -2;

    if (!getcwd(s->cwd, sizeof s->cwd))
        s->cwd[0] = '?';
    char *c = getcwd(NULL, 0);
    if (c) {
        snprintf(s->cwd_alloc, sizeof s->cwd_alloc, "%s", c);
        free(c);
    }

    FILE *f = fopen(data_path, "r");
    if (f) {
        if (!fgets(s->line, sizeof s->line, f))
            s->line[0] = '?';
        s->ffd = fileno(f);
        s->fclose_r = fclose(f);
    }

    int p[2];
    s->pipe_r = pipe(p);
    s->pipe_w = write(p[1], "ping", 4);
    s->pipe_got = read(p[0], s->pipe_buf, sizeof s->pipe_buf - 1);
    close(p[0]);
    close(p[1]);

    s->unlink_r = unlink(gone_path);
    int nfd = open(new_path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    s->created = nfd >= 0;
    s->wrote = write(nfd, "new", 3);
    close(nfd);

    s->linklen = readlink(link_path, s->link, sizeof s->link - 1);
    s->access_r = access("/nonexistent/rewind/test", R_OK);
    s->access_errno = errno;

    int ofd = open(STDLIB_OS, O_RDONLY);
    s->os_read = read(ofd, s->os_head, sizeof s->os_head - 1);
    close(ofd);

    s->out_w = (int)write(1, "out!\n", 5);
}

/* Runs the scenario with fd 1 on a pipe (set up with capture off), and returns what
 * arrived on it in *out. */
static void run_captured(seen *s, int mode, rw_writer *w, rw_reader *r, char *out, size_t cap)
{
    int saved = dup(1), p[2];
    ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
    dup2(p[1], 1);
    rw_in_start(mode, r);
    if (w)
        rw_in_attach_writer(w);
    scenario(s);
    rw_in_stop();
    rw_in_attach_writer(NULL);
    dup2(saved, 1);
    close(saved);
    close(p[1]);
    ssize_t n = read(p[0], out, cap - 1);
    out[n > 0 ? n : 0] = '\0';
    close(p[0]);
}

START_TEST(test_install_path)
{
    ck_assert_int_eq(rw_files_install_path(STDLIB_OS), 1);
    ck_assert_int_eq(rw_files_install_path(RW_PY_STDLIB_DIR "/lib-dynload/_json.so"), 1);
    ck_assert_int_eq(rw_files_install_path(RW_PY_STDLIB_DIR "/site-packages/x.py"), 0);
    ck_assert_int_eq(rw_files_install_path(RW_PY_STDLIB_DIR "/dist-packages/x.py"), 0);
    ck_assert_int_eq(rw_files_install_path(RW_PY_STDLIB_DIR "/../../etc/passwd"), 0);
    ck_assert_int_eq(rw_files_install_path(RW_PY_STDLIB_DIR "x/os.py"), 0);
    ck_assert_int_eq(rw_files_install_path("/etc/passwd"), 0);
    ck_assert_int_eq(rw_files_install_path("os.py"), 0);
}
END_TEST

START_TEST(test_record_then_replay)
{
    make_world();
    char *trace = rw_test_path("t.rwd");
    char out[64];

    rw_writer *w = rw_test_writer_open(trace, 0, NULL);
    seen rec;
    run_captured(&rec, RW_IN_RECORD, w, NULL, out, sizeof out);
    rw_test_writer_exit(w);
    /* The recording did what it says. */
    ck_assert_str_eq(out, "out!\n");
    ck_assert_int_eq(rec.nread, 12);
    ck_assert_str_eq(rec.buf, "hello\nworld\n");
    ck_assert_int_eq(rec.missing_r, -1);
    ck_assert_int_eq(rec.missing_errno, ENOENT);
    ck_assert_int_eq(rec.nnames, 4); /* . .. a b */
    ck_assert_str_eq(rec.line, "hello\n");
    ck_assert_str_eq(rec.pipe_buf, "ping");
    ck_assert_int_eq(rec.unlink_r, 0);
    ck_assert_int_eq(access(gone_path, F_OK), -1);
    ck_assert_int_eq(rec.created, 1);
    ck_assert_int_eq(access(new_path, F_OK), 0);
    ck_assert_str_eq(rec.link, "data.txt");
    ck_assert_int_eq(rec.os_read, 31);
    ck_assert_str_eq(rec.cwd, rec.cwd_alloc);

    change_world();
    rw_reader *r = NULL;
    rw_err err = {0};
    ck_assert_int_eq(rw_reader_open(trace, &r, &err), RW_OK);
    seen rep;
    run_captured(&rep, RW_IN_REPLAY, NULL, r, out, sizeof out);
    /* The same answers, and nothing performed. */
    ck_assert_str_eq(rep.buf, rec.buf);
    ck_assert_str_eq(rep.line, rec.line);
    ck_assert_str_eq(rep.link, rec.link);
    ck_assert_int_eq(rep.nnames, rec.nnames);
    ck_assert_int_eq(rep.ffd, rec.ffd);
    ck_assert_int_eq(rep.missing_errno, ENOENT);
    ck_assert_mem_eq(&rep, &rec, sizeof rep);
    ck_assert_str_eq(out, "");                   /* write(1) was not performed */
    ck_assert_int_eq(access(gone_path, F_OK), 0); /* unlink was not */
    ck_assert_int_eq(access(new_path, F_OK), -1); /* nor the creation */

    /* What the trace holds: the installation file by reference, fd 1's bytes, no bytes
     * for another descriptor's write. */
    rw_inputs_iter *it;
    ck_assert_int_eq(rw_inputs_iter_open(r, &it, &err), RW_OK);
    rw_input in;
    int install_open = 0, install_read = 0, out_bytes = 0, other_write = 0, n = 0;
    int64_t os_fd = -1;
    while (rw_inputs_iter_next(it, &in, &err) == 1) {
        n++;
        if (in.call == RW_CALL_OPEN && (in.flags & RW_INPUT_F_INSTALL)) {
            install_open++;
            os_fd = in.result;
        }
        int64_t fd = -1;
        if (in.key_len >= 8)
            memcpy(&fd, in.key, 8);
        if (in.call == RW_CALL_READ && fd == os_fd && (in.flags & RW_INPUT_F_INSTALL)) {
            install_read++;
            ck_assert_uint_eq(in.data_len, 0);
        }
        if (in.call == RW_CALL_WRITE && fd == 1) {
            ck_assert_uint_eq(in.data_len, 5);
            ck_assert_int_eq(memcmp(in.data, "out!\n", 5), 0);
            out_bytes++;
        } else if (in.call == RW_CALL_WRITE) {
            ck_assert_uint_eq(in.data_len, 0);
            other_write++;
        }
    }
    ck_assert_int_eq(install_open, 1);
    ck_assert_int_eq(install_read, 1);
    ck_assert_int_eq(out_bytes, 1);
    ck_assert_int_eq(other_write, 2);
    ck_assert_int_gt(n, 30);
    rw_inputs_iter_free(it);
    rw_reader_free(r);
    free(trace);
}
END_TEST

/* A replay that opens another file than the recording diverges: exit status 3. */
START_TEST(test_divergence_exits)
{
    char *trace = rw_test_path("div.rwd");
    char *a = rw_test_path("a.txt");
    rw_test_write_file(a, "a", 1);
    rw_writer *w = rw_test_writer_open(trace, 0, NULL);
    rw_in_start(RW_IN_RECORD, NULL);
    rw_in_attach_writer(w);
    int fd = open(a, O_RDONLY);
    close(fd);
    rw_in_stop();
    rw_in_attach_writer(NULL);
    rw_test_writer_exit(w);
    rw_reader *r = NULL;
    rw_err err = {0};
    ck_assert_int_eq(rw_reader_open(trace, &r, &err), RW_OK);
    rw_in_start(RW_IN_REPLAY, r);
    open("/somewhere/else", O_RDONLY); /* does not return */
    rw_in_stop();
}
END_TEST

/* OFF: the wrappers are the C library's calls. */
START_TEST(test_off_calls_through)
{
    char *a = rw_test_path("off.txt");
    rw_test_write_file(a, "off", 3);
    int fd = open(a, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    char b[8] = {0};
    ck_assert_int_eq(read(fd, b, sizeof b), 3);
    ck_assert_str_eq(b, "off");
    FILE *f = fdopen(fd, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fileno(f), fd);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(close(fd), -1);
    ck_assert_int_eq(errno, EBADF);
    free(a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rec_files");
    TCase *tc = tcase_create("files");
    tcase_add_test(tc, test_install_path);
    tcase_add_test(tc, test_off_calls_through);
    tcase_add_test(tc, test_record_then_replay);
    tcase_add_exit_test(tc, test_divergence_exits, 3);
    suite_add_tcase(s, tc);
    return rw_test_run(s);
}
