/* Input capture for the stdio openers (files.c has the rules and the other file
 * calls). A FILE reads through the C library's internals, which no wrapper sees, so
 * record logs the whole file's bytes when it is opened (CPython reads the main script
 * with fopen + getc, getpath reads pyvenv.cfg the same way), and replay hands out a
 * memory stream of them (fopencookie: reads, writes into memory, seeks; nothing reaches
 * a file). fileno() of such a stream answers the recorded descriptor number.
 * A file of the installation opened read-only is logged by reference and replay opens
 * the local copy. A stream that fdopen makes for reading on something that is not a
 * regular file (a pipe from a child, a socket, a terminal) cannot be read ahead: in
 * both modes it is a cookie stream whose functions are the wrapped read, write, lseek
 * and close on the descriptor, so its reads are logged (and answered) one by one as
 * read calls, as the program makes them (apt_pkg reads `dpkg
 * --print-foreign-architectures` so); its FOPEN record says RW_INPUT_F_STREAM. fopen of
 * such a file (a FIFO by name) is logged RW_INPUT_F_TRUNCATED, as every such stream was
 * before, and a replay that reads it diverges.
 *
 * Wraps: fopen fopen64 fdopen freopen freopen64 fclose fileno.
 *
 *   call        key                                  result       data
 *   FOPEN       fopen: mode (its first 8 bytes as    the stream's the file's bytes
 *               an int64), path                      fd, or -1    (from the stream's
 *               fdopen: fd, mode                                  position for fdopen)
 *               freopen: the stream's fd, mode, path              when the mode reads
 *   FCLOSE      fd                                   0/EOF        -
 * freopen cannot be replayed (the stream is the C library's, e.g. stdin): the replay
 * diverges there. libpython does not call it.
 */
#include "files_int.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "sysalloc.h"

#define FILES 256 /* streams open at once that are followed */

/* The file's state. Global because wrappers get no context. real: written once
 * (constructor or first call). files[0..n) lists the streams the wrappers opened
 * (record: the C library's; replay: memory streams or local copies), with the
 * recorded descriptor; guarded by mu, n also read without it (0: nothing to look up). */
static struct stdio_state {
    struct {
        __typeof__(fopen) *fopen;
        __typeof__(fdopen) *fdopen;
        __typeof__(freopen) *freopen;
        __typeof__(fclose) *fclose;
        __typeof__(fileno) *fileno;
        __typeof__(lseek64) *lseek64;
    } real;
    pthread_mutex_t mu;
    struct {
        FILE *f;
        int fd;
        int replay; /* 1: a stream made in replay mode; 2: record's stream on a
                     * descriptor (fd_stream) */
    } files[FILES];
    _Atomic size_t n;
} sst = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Under AddressSanitizer, fclose is also the sanitizer's: its fclose forgets the
 * memory streams (open_memstream) it was told of. Ours overrides it where the runtime
 * is linked into the program (clang's), and RTLD_NEXT would skip it, so a later memory
 * stream at the freed address failed the sanitizer's own check. Without a sanitizer
 * there is no __interceptor_fclose. */
static void *next_fclose(void)
{
    void *asan = dlsym(RTLD_DEFAULT, "__interceptor_fclose");
    return asan ? asan : dlsym(RTLD_NEXT, "fclose");
}

static void resolve(void)
{
    sst.real.fopen = (__typeof__(fopen) *)dlsym(RTLD_NEXT, "fopen");
    sst.real.fdopen = (__typeof__(fdopen) *)dlsym(RTLD_NEXT, "fdopen");
    sst.real.freopen = (__typeof__(freopen) *)dlsym(RTLD_NEXT, "freopen");
    sst.real.fclose = (__typeof__(fclose) *)next_fclose();
    sst.real.fileno = (__typeof__(fileno) *)dlsym(RTLD_NEXT, "fileno");
    sst.real.lseek64 = (__typeof__(lseek64) *)dlsym(RTLD_NEXT, "lseek64");
}

__attribute__((constructor)) static void stdio_init(void)
{
    resolve();
}

#define REAL(n) (RW_LIKELY(sst.real.n != NULL) ? sst.real.n : (resolve(), sst.real.n))

static void remember(FILE *f, int fd, int replay)
{
    pthread_mutex_lock(&sst.mu);
    size_t n = sst.n;
    if (n < FILES) {
        sst.files[n].f = f;
        sst.files[n].fd = fd;
        sst.files[n].replay = replay;
        sst.n = n + 1;
    }
    pthread_mutex_unlock(&sst.mu);
}

/* Looks f up: 1 with its fd and mode (and forgets it when forget), 0 when not ours. */
static int lookup(FILE *f, int *fd, int *replay, int forget)
{
    if (sst.n == 0)
        return 0;
    int found = 0;
    pthread_mutex_lock(&sst.mu);
    size_t n = sst.n;
    for (size_t i = 0; i < n; i++)
        if (sst.files[i].f == f) {
            *fd = sst.files[i].fd;
            *replay = sst.files[i].replay;
            if (forget) {
                sst.files[i] = sst.files[n - 1];
                sst.n = n - 1;
            }
            found = 1;
            break;
        }
    pthread_mutex_unlock(&sst.mu);
    return found;
}

static int64_t mode_key(const char *mode)
{
    char b[8] = {0};
    size_t len = mode ? strnlen(mode, sizeof b) : 0;
    memcpy(b, mode, len);
    int64_t v;
    memcpy(&v, b, sizeof v);
    return v;
}

static int mode_reads(const char *mode)
{
    return mode && (mode[0] == 'r' || strchr(mode, '+'));
}

static int mode_read_only(const char *mode)
{
    return mode && mode[0] == 'r' && !strchr(mode, '+');
}

/* ---- replay's memory streams ---------------------------------------------------- */

typedef struct memfile {
    uint8_t *b;
    size_t len, cap;
    size_t pos;
    int append;
    int truncated; /* the recording does not have the bytes: reading diverges */
    int fd;
} memfile;

static ssize_t mem_read(void *c, char *buf, size_t size)
{
    memfile *m = c;
    if (m->truncated)
        rw_files_diverge("the program reads the stream of descriptor %d, whose bytes the "
                         "recording could not keep (not a regular file)",
                         m->fd);
    size_t n = m->pos < m->len ? m->len - m->pos : 0;
    if (n > size)
        n = size;
    memcpy(buf, m->b + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

static ssize_t mem_write(void *c, const char *buf, size_t size)
{
    memfile *m = c;
    if (m->append)
        m->pos = m->len;
    if (m->pos + size > m->cap) {
        size_t cap = m->cap ? m->cap : 256;
        while (cap < m->pos + size)
            cap *= 2;
        uint8_t *b = rw_sys_realloc(m->b, cap);
        if (!b) {
            errno = ENOMEM;
            return -1;
        }
        memset(b + m->cap, 0, cap - m->cap);
        m->b = b;
        m->cap = cap;
    }
    memcpy(m->b + m->pos, buf, size);
    m->pos += size;
    if (m->pos > m->len)
        m->len = m->pos;
    return (ssize_t)size;
}

static int mem_seek(void *c, off64_t *off, int whence)
{
    memfile *m = c;
    int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)m->pos
                                                               : (int64_t)m->len;
    int64_t p = base + *off;
    if (p < 0 || (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END)) {
        errno = EINVAL;
        return -1;
    }
    m->pos = (size_t)p;
    *off = p;
    return 0;
}

static int mem_close(void *c)
{
    memfile *m = c;
    rw_sys_free(m->b);
    rw_sys_free(m);
    return 0;
}

/* A cookie stream on c with io, opened with the access of fopen's mode. */
static FILE *cookie_open(void *c, const char *mode, cookie_io_functions_t io)
{
    char how[3] = {mode[0] == 'w' || mode[0] == 'a' ? mode[0] : 'r', 0, 0};
    if (strchr(mode, '+'))
        how[1] = '+';
    return fopencookie(c, how, io);
}

/* A memory stream on g's bytes, opened with mode's access. */
static FILE *mem_open(const rw_input *g, const char *mode)
{
    memfile *m = rw_sys_calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->fd = (int)g->result;
    m->truncated = (g->flags & RW_INPUT_F_TRUNCATED) != 0;
    m->append = mode[0] == 'a';
    if (g->data_len) {
        m->b = rw_sys_malloc(g->data_len);
        if (!m->b) {
            rw_sys_free(m);
            return NULL;
        }
        memcpy(m->b, g->data, g->data_len);
        m->len = m->cap = g->data_len;
    }
    FILE *f = cookie_open(m, mode, (cookie_io_functions_t){mem_read, mem_write, mem_seek,
                                                            mem_close});
    if (!f)
        mem_close(m);
    return f;
}

/* ---- streams on a descriptor that is not a regular file ----------------------------- */

typedef struct fdstream {
    int fd;
} fdstream;

/* The wrapped calls (files.c): logged when recording, answered when replaying. */
static ssize_t fd_read(void *c, char *buf, size_t size)
{
    return read(((fdstream *)c)->fd, buf, size);
}

static ssize_t fd_write(void *c, const char *buf, size_t size)
{
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(((fdstream *)c)->fd, buf + done, size - done);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    return (ssize_t)done; /* fopencookie: 0 on an error, never negative */
}

static int fd_seek(void *c, off64_t *off, int whence)
{
    off64_t r = lseek64(((fdstream *)c)->fd, *off, whence);
    if (r < 0)
        return -1;
    *off = r;
    return 0;
}

static int fd_close(void *c)
{
    int fd = ((fdstream *)c)->fd;
    rw_sys_free(c);
    return close(fd);
}

/* A stream with mode's access on fd whose I/O is the wrapped calls on fd. */
static FILE *fd_stream(int fd, const char *mode)
{
    fdstream *c = rw_sys_malloc(sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    FILE *f = cookie_open(c, mode, (cookie_io_functions_t){fd_read, fd_write, fd_seek,
                                                            fd_close});
    if (!f)
        rw_sys_free(c);
    return f;
}

/* Whether fd is a regular file (the system's fstat: the wrapped one is an input). */
static int regular_fd(int fd)
{
    struct stat st;
    return syscall(SYS_fstat, fd, &st) != 0 || S_ISREG(st.st_mode);
}

/* ---- the openers ----------------------------------------------------------------- */

/* Replay of any opener: fd is the descriptor fdopen got (-1 for fopen), path the file
 * fopen opened. */
static FILE *replay_open(const rw_in_key *k, const char *path, const char *mode, int fd)
{
    const rw_input *g = rw_in_take(RW_CALL_FOPEN, k);
    if (g->result < 0)
        return (FILE *)(rw_in_return(g), NULL);
    FILE *f;
    if (g->flags & RW_INPUT_F_STREAM) {
        f = fd_stream((int)g->result, mode);
    } else if (g->flags & RW_INPUT_F_INSTALL) {
        if (fd >= 0) {
            int lfd = rw_files_take_local(fd);
            f = lfd >= 0 ? REAL(fdopen)(lfd, mode) : NULL;
        } else {
            f = REAL(fopen)(path, mode);
        }
    } else {
        rw_files_set_local((int)g->result, -1);
        f = mem_open(g, mode);
    }
    if (!f) {
        char msg[300];
        snprintf(msg, sizeof msg, "the replay cannot make the stream of descriptor %lld (%s)",
                 (long long)g->result, strerror(errno));
        rw_in_diverge(msg, g);
    }
    remember(f, (int)g->result, 1);
    rw_in_return(g);
    return f;
}

/* Record of any opener, after the C library's: logs the bytes the stream can read. */
static FILE *record_open(const rw_in_key *k, FILE *f, int e, const char *path,
                         const char *mode, int64_t from)
{
    if (!f) {
        rw_in_put(RW_CALL_FOPEN, -1, e, k, NULL, 0);
        errno = e;
        return NULL;
    }
    int fd = REAL(fileno)(f);
    uint32_t flags = 0;
    uint8_t *data = NULL;
    size_t len = 0;
    if (mode_read_only(mode) &&
        (path ? path[0] == '/' && rw_files_install_path(path) : rw_files_is_install(fd))) {
        flags = RW_INPUT_F_INSTALL;
    } else if (mode_reads(mode)) {
        data = rw_files_read_rest(fd, from, &len);
        if (!data)
            flags = RW_INPUT_F_TRUNCATED;
    }
    rw_files_mark(fd, 0);
    rw_in_put_flags(RW_CALL_FOPEN, fd, e, k, data, len, flags);
    rw_sys_free(data);
    remember(f, fd, 0);
    errno = e;
    return f;
}

FILE *fopen(const char *path, const char *mode)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF))
        return REAL(fopen)(path, mode);
    rw_in_key k;
    KEYP(&k, path, mode_key(mode));
    if (m == RW_IN_REPLAY)
        return replay_open(&k, path, mode, -1);
    FILE *f = REAL(fopen)(path, mode);
    return record_open(&k, f, errno, path, mode, 0);
}

FILE *fopen64(const char *path, const char *mode)
{
    return fopen(path, mode);
}

FILE *fdopen(int fd, const char *mode)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF))
        return REAL(fdopen)(fd, mode);
    rw_in_key k;
    KEY(&k, fd, mode_key(mode));
    if (m == RW_IN_REPLAY)
        return replay_open(&k, NULL, mode, fd);
    if (mode_reads(mode) && !regular_fd(fd)) {
        FILE *f = fd_stream(fd, mode);
        int e = errno;
        rw_files_mark(fd, 0);
        rw_in_put_flags(RW_CALL_FOPEN, f ? fd : -1, f ? 0 : e, &k, NULL, 0,
                        f ? RW_INPUT_F_STREAM : 0);
        if (f)
            remember(f, fd, 2);
        errno = e;
        return f;
    }
    int64_t at = REAL(lseek64)(fd, 0, SEEK_CUR);
    FILE *f = REAL(fdopen)(fd, mode);
    return record_open(&k, f, errno, NULL, mode, at < 0 ? 0 : at);
}

FILE *freopen(const char *path, const char *mode, FILE *stream)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF))
        return REAL(freopen)(path, mode, stream);
    int fd = -1, replay = 0;
    lookup(stream, &fd, &replay, 1);
    if (!replay)
        fd = REAL(fileno)(stream);
    rw_in_key k;
    KEYP(&k, path, fd, mode_key(mode));
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_FOPEN, &k);
        rw_in_diverge("the program reopens a stream (freopen), which a replay cannot do", g);
    }
    FILE *f = REAL(freopen)(path, mode, stream);
    return record_open(&k, f, errno, path, mode, 0);
}

FILE *freopen64(const char *path, const char *mode, FILE *stream)
{
    return freopen(path, mode, stream);
}

int fclose(FILE *f)
{
    int fd, replay;
    if (!lookup(f, &fd, &replay, 1))
        return REAL(fclose)(f);
    int m = rw_in_mode();
    int r = REAL(fclose)(f); /* replay: a memory stream, or a local copy */
    int e = errno;
    rw_in_key k;
    KEY(&k, fd);
    if (m == RW_IN_REPLAY && replay)
        return (int)rw_in_replayed(RW_CALL_FCLOSE, &k, NULL, 0);
    if (m == RW_IN_RECORD && replay != 1) {
        rw_files_mark(fd, 0);
        return (int)rw_in_logged(RW_CALL_FCLOSE, &k, r, e, NULL, 0);
    }
    errno = e;
    return r;
}

int fileno(FILE *f)
{
    int fd, replay;
    if (RW_UNLIKELY(sst.n != 0) && lookup(f, &fd, &replay, 0) && replay)
        return fd;
    return REAL(fileno)(f);
}
