/* Privates shared by the file wrappers (files.c: descriptors and paths; files_dir.c:
 * DIR streams; files_stdio.c: FILE streams): the key and record helpers, and the one
 * table they share, which descriptors refer to a file of the Python installation
 * (logged by reference, RW_INPUT_F_INSTALL). Owner of the table: files.c.
 */
#ifndef RW_LIBC_FILES_INT_H
#define RW_LIBC_FILES_INT_H

#include "input.h"

#include <stdint.h>

/* A key of int64s, an expression: KEY(&k, a, b, c) starts k with a, b, c; KEYP(&k,
 * path, a, b) adds the path. */
static inline void rw_files_key_ints(rw_in_key *k, const int64_t *v, size_t n)
{
    rw_in_key_init(k);
    for (size_t i = 0; i < n; i++)
        rw_in_key_i64(k, v[i]);
}

#define KEY(k, ...)                                                                        \
    rw_files_key_ints(k, (const int64_t[]){__VA_ARGS__},                                   \
                      sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))
#define KEYP(k, path, ...) (KEY(k, __VA_ARGS__), rw_in_key_str(k, path))

/* 1 when path names a file of the Python installation rewind embeds (its standard
 * library directory and lib-dynload, not site-packages or dist-packages): absolute,
 * without "..". */
int rw_files_install_path(const char *path);

/* Record: marks fd as an installation file opened read-only (install 1) or not (0).
 * Replay: recorded fd `fd` is now answered by the real local descriptor lfd (-1:
 * none); an older local descriptor for fd is closed. Out-of-range fds are ignored. */
void rw_files_mark(int fd, int install);
void rw_files_set_local(int fd, int lfd);

/* Record: 1 when fd was marked. Replay: the local descriptor of fd, or -1. */
int rw_files_is_install(int fd);

/* Whether fd is one of rewind's own descriptors (the trace, the crash handler's, ...),
 * which the program is shown as closed: close, fstat and fcntl say EBADF, and listings
 * of the process's descriptor directory leave them out (files_dir.c). */
int rw_files_own_is(int fd);
int rw_files_local(int fd);

/* Replay: forgets the local descriptor of fd without closing it (it now belongs to a
 * FILE or DIR of the real C library), and returns it (-1 when none). */
int rw_files_take_local(int fd);

/* Record: the bytes of regular file fd from offset off to its end, read with the C
 * library's pread (the file position does not move), in a new buffer (caller frees
 * with rw_sys_free) and *len; NULL when fd is not a regular file or cannot be read
 * (*len 0). */
uint8_t *rw_files_read_rest(int fd, int64_t off, size_t *len);

/* Replay: reports that the replay cannot go on (what, printf-like) and does not
 * return. */
void rw_files_diverge(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
