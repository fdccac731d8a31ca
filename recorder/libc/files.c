/* Input capture for files and file descriptors (input.h has the pattern, files_dir.c
 * the DIR streams, files_stdio.c the FILE streams). Record: perform, then log. Replay
 * (the engine): perform nothing, answer from the log; no file is opened, read,
 * written, created or removed, and no descriptor of the engine is touched because a
 * recorded number happens to be the same. The exception: a file of the Python
 * installation (rw_files_install_path) opened read-only is logged by reference
 * (RW_INPUT_F_INSTALL, reads log their result and no bytes); the replay opens the local
 * copy, reads it really, and diverges when a read's length differs from the recording.
 *
 * Wraps: open open64 openat openat64 creat creat64 __open_2 __open64_2 __openat_2
 * __openat64_2, read __read_chk pread pread64 __pread64_chk readv preadv preadv64
 * preadv2 preadv64v2, pwritev pwritev64 pwritev2 pwritev64v2,
 * lseek lseek64, stat stat64 lstat lstat64 fstat fstat64 fstatat fstatat64 statx,
 * access faccessat eaccess euidaccess, getcwd __getcwd_chk, readlink __readlink_chk
 * readlinkat __readlinkat_chk, realpath __realpath_chk, close close_range, dup dup2
 * dup3, fcntl fcntl64, ioctl, isatty, pipe pipe2, write pwrite pwrite64 writev, fsync
 * fdatasync syncfs sync, ftruncate ftruncate64 truncate truncate64, unlink unlinkat sem_unlink
 * shm_unlink, shm_open, rename
 * renameat renameat2, mkdir mkdirat, rmdir, chmod fchmod fchmodat, chown lchown fchown
 * fchownat, utimensat futimens utimes, symlink symlinkat, link linkat, umask, chdir
 * fchdir, flock lockf lockf64, posix_fadvise posix_fadvise64, posix_fallocate
 * posix_fallocate64 fallocate fallocate64, mkfifo mkfifoat mknod
 * mknodat, statvfs statvfs64 fstatvfs fstatvfs64, getxattr lgetxattr fgetxattr
 * listxattr llistxattr flistxattr setxattr lsetxattr fsetxattr removexattr
 * lremovexattr fremovexattr, copy_file_range, splice tee, memfd_create, chroot,
 * tcgetattr tcsetattr tcgetpgrp tcsetpgrp tcflush tcdrain tcflow tcsendbreak tcgetsid,
 * sendfile sendfile64, mmap mmap64 (of a file; anonymous mappings call through).
 *
 * Keys (rw_in_key: little-endian int64s, then at most one string, the path) and data:
 *   call        key                                      result      data
 *   OPEN        dirfd (AT_FDCWD for open), flags, mode,  fd          -
 *               path (creat: O_CREAT|O_WRONLY|O_TRUNC)
 *   READ        fd, count                                bytes       the bytes read
 *   PREAD       fd, count, offset                        bytes       the bytes read
 *   READV       fd, total (preadv: fd, total, offset)    bytes       the bytes read
 *   LSEEK       fd, offset, whence                       offset      -
 *   STAT/LSTAT  path                                     0/-1        struct stat
 *   FSTAT       fd                                       0/-1        struct stat
 *   FSTATAT     dirfd, flags, path                       0/-1        struct stat
 *   STATX       dirfd, flags, mask, path                 0/-1        struct statx
 *   ACCESS      dirfd, mode, flags, path (access:        0/-1        -
 *               AT_FDCWD,mode,0; eaccess: AT_EACCESS)
 *   GETCWD      size                                     1/0         the path
 *   READLINK    dirfd, bufsiz, path                      length      the target
 *   REALPATH    path                                     1/0         the resolved path
 *   CLOSE       fd (close_range: first, last, flags)     0/-1        -
 *   DUP         fd / fd, newfd / fd, newfd, flags        new fd      -
 *   FCNTL       fd, cmd, arg (0 for a pointer argument)  result      struct flock (the
 *                                                                    F_GETLK family)
 *   IOCTL       fd, request                              result      the out struct of
 *               TIOCGWINSZ, FIONREAD, TIOCOUTQ, TCGETS, TIOCGPGRP, TIOCGSID, TIOCGPTN,
 *               TIOCMGET (other requests: none; in replay their out memory is not written)
 *   ISATTY      fd                                       1/0         -
 *   PIPE        flags                                    0/-1        int fds[2]
 *   WRITE       fd, count                                bytes       the bytes written,
 *   PWRITE      fd, count, offset                                    for fds 1 and 2
 *   WRITEV      fd, total                                            only
 *   FSYNC       fd, 0 (fsync) or 1 (fdatasync)           0/-1        -
 *   FTRUNCATE   fd, length; TRUNCATE length, path        0/-1        -
 *   UNLINK      dirfd, flags, path                       0/-1        -
 *   RENAME      olddirfd, newdirfd, flags, strlen(old),  0/-1        -
 *               old and new paths one after the other
 *   MKDIR       dirfd, mode, path; RMDIR path            0/-1        -
 *   CHMOD       dirfd, mode, flags, path / fd, mode      0/-1        -
 *   CHOWN       dirfd, uid, gid, flags, path / fd, uid, gid          -
 *   UTIME       dirfd, flags, 4 time fields (-1 for NULL: now), path (futimens: none)
 *   SYMLINK     newdirfd, strlen(target), target and link path       -
 *   LINK        olddirfd, newdirfd, flags, strlen(old), old and new  -
 *   UMASK       mask                                     old mask    -
 *   CHDIR       path / fd                                0/-1        -
 *   FLOCK       fd, operation / fd, cmd, len (lockf)     0/-1        -
 *   POSIX_FADVISE fd, offset, len, advice                error number
 *   MKFIFO      dirfd, mode (S_IFIFO for mkfifo), dev, path          -
 *   STATVFS     path / fd                                0/-1        struct statvfs
 *   XATTR       kind (0 get, 1 lget, 2 fget, 3 list, 4 llist, 5 flist, 6 set, 7 lset,
 *               8 fset, 9 remove, 10 lremove, 11 fremove), fd (-1), size, flags,
 *               strlen(name), name then path             length      the value or list
 *   COPY_FILE_RANGE fdin, offin (-1: NULL), fdout, offout, len, flags   int64 offin,
 *                                                                    offout after
 *   SENDFILE    out, in, offset (-1: NULL), count        bytes       int64 offset after
 *   MMAP_FILE   length, prot, flags, fd, offset          address     the mapped bytes (up
 *               to the file's end) of a readable mapping
 *
 * Threads: any program thread; the tables below are touched with relaxed atomics (a
 * descriptor is used by one thread at a time in any program that works).
 */
#include "files_int.h"
#include "libc.h"
#include "secrets.h"

#include <dirent.h>
#include <dlfcn.h>
#include <semaphore.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <net/if.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <termios.h>
#include <unistd.h>

#include "shmem.h"
#include "sysalloc.h"

#ifndef RW_PY_STDLIB_DIR
#define RW_PY_STDLIB_DIR "" /* no installation to log by reference */
#endif

_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "stat64 is stat on x86_64");
_Static_assert(sizeof(off_t) == 8, "off64_t is off_t");

#define FD_TAB 4096    /* descriptors the installation table follows */
#define KERNEL_TERMIOS 36 /* what TCGETS writes: the kernel's struct termios */

/* The C library's functions (dlsym RTLD_NEXT), resolved by the constructor before main,
 * or by the first call that comes earlier (another library's constructor). */
#define REALS(X)                                                                           \
    X(open) X(open64) X(openat) X(openat64) X(read) X(pread) X(pread64) X(readv)        \
    X(preadv) X(preadv64) X(preadv64v2) X(pwritev64v2) X(lseek) X(lseek64) X(stat)        \
    X(stat64) X(lstat) X(lstat64)                                                        \
    X(fstat) X(fstat64) X(fstatat) X(fstatat64) X(statx) X(access) X(faccessat)          \
    X(eaccess) X(getcwd) X(readlink) X(readlinkat) X(realpath) X(close) X(close_range)   \
    X(dup) X(dup2) X(dup3) X(fcntl) X(ioctl) X(isatty) X(pipe) X(pipe2) X(write)         \
    X(pwrite) X(pwrite64) X(writev) X(fsync) X(fdatasync) X(syncfs) X(sync)              \
    X(ftruncate) X(ftruncate64)                                                          \
    X(truncate) X(truncate64) X(unlink) X(unlinkat) X(sem_unlink) X(shm_unlink)          \
    X(shm_open)                                                                          \
    X(rename) X(renameat) X(renameat2)                                                   \
    X(mkdir) X(mkdirat) X(rmdir) X(chmod) X(fchmod) X(fchmodat) X(chown) X(lchown)       \
    X(fchown) X(fchownat) X(utimensat) X(futimens) X(utimes) X(symlink) X(symlinkat)     \
    X(link) X(linkat) X(umask) X(chdir) X(fchdir) X(flock) X(lockf) X(lockf64)           \
    X(posix_fadvise) X(posix_fadvise64) X(mknod) X(mknodat) X(mkfifo) X(mkfifoat)        \
    X(posix_fallocate) X(posix_fallocate64) X(fallocate) X(fallocate64)                  \
    X(statvfs) X(statvfs64) X(fstatvfs) X(fstatvfs64) X(getxattr) X(lgetxattr)           \
    X(fgetxattr) X(listxattr) X(llistxattr) X(flistxattr) X(setxattr) X(lsetxattr)       \
    X(fsetxattr) X(removexattr) X(lremovexattr) X(fremovexattr) X(copy_file_range)       \
    X(splice) X(tee) X(memfd_create) X(chroot) X(tcgetattr) X(tcsetattr) X(tcgetpgrp)      \
    X(tcsetpgrp) X(tcflush) X(tcdrain) X(tcflow) X(tcsendbreak) X(tcgetsid)                \
    X(sendfile) X(sendfile64) X(mmap) X(mmap64)

/* The file's state. Global because wrappers get no context.
 *  - real: written once (constructor, or the first early call: same values), then read.
 *  - install[fd] (record): 1 while fd is a read-only descriptor of an installation file
 *    that this process opened in record mode; written by the thread that opens, dups
 *    or closes fd.
 *  - local[fd] (replay): 1 + the engine's real descriptor of the local copy behind
 *    recorded descriptor fd, 0 for none; written likewise. */
static struct files_state {
    struct {
#define DECL(n) __typeof__(n) *n;
        REALS(DECL)
#undef DECL
    } real;
    uint8_t install[FD_TAB];
    int local[FD_TAB];
} fst;

static void resolve(void)
{
#define RES(n) fst.real.n = (__typeof__(n) *)dlsym(RTLD_NEXT, #n);
    REALS(RES)
#undef RES
}

/* The DIR and FILE wrappers are in objects that nothing else names: an archive member
 * is linked only when named, so name them (input.c names this file). */
__attribute__((used)) static void *const keep_linked[] = {(void *)opendir, (void *)fopen};

__attribute__((constructor)) static void files_init(void)
{
    resolve();
}

#define REAL(n) (RW_LIKELY(fst.real.n != NULL) ? fst.real.n : (resolve(), fst.real.n))

/* ---- the installation table ---------------------------------------------------- */

int rw_files_install_path(const char *p)
{
    static const char dir[] = RW_PY_STDLIB_DIR;
    size_t n = sizeof dir - 1;
    if (n == 0 || !p || strncmp(p, dir, n) != 0 || p[n] != '/')
        return 0;
    return !strstr(p + n, "/site-packages/") && !strstr(p + n, "/dist-packages/") &&
           !strstr(p + n, "/..");
}

void rw_files_mark(int fd, int install)
{
    if (fd >= 0 && fd < FD_TAB)
        __atomic_store_n(&fst.install[fd], (uint8_t)(install != 0), __ATOMIC_RELAXED);
}

int rw_files_is_install(int fd)
{
    return fd >= 0 && fd < FD_TAB && __atomic_load_n(&fst.install[fd], __ATOMIC_RELAXED);
}

int rw_files_local(int fd)
{
    if (fd < 0 || fd >= FD_TAB)
        return -1;
    return __atomic_load_n(&fst.local[fd], __ATOMIC_RELAXED) - 1;
}

int rw_files_take_local(int fd)
{
    if (fd < 0 || fd >= FD_TAB)
        return -1;
    return __atomic_exchange_n(&fst.local[fd], 0, __ATOMIC_RELAXED) - 1;
}

void rw_files_set_local(int fd, int lfd)
{
    if (fd < 0 || fd >= FD_TAB) {
        if (lfd >= 0)
            REAL(close)(lfd);
        return;
    }
    int old = __atomic_exchange_n(&fst.local[fd], lfd + 1, __ATOMIC_RELAXED) - 1;
    if (old >= 0 && old != lfd)
        REAL(close)(old);
}

/* The local descriptors' offsets at the last rw_files_before_copy (-1: none). */
static int64_t copy_off[FD_TAB];

void rw_files_before_copy(void)
{
    for (int fd = 0; fd < FD_TAB; fd++) {
        int lfd = rw_files_local(fd);
        copy_off[fd] = lfd >= 0 ? (int64_t)REAL(lseek64)(lfd, 0, SEEK_CUR) : -1;
    }
}

void rw_files_unshare(void)
{
    for (int fd = 0; fd < FD_TAB; fd++) {
        int lfd = rw_files_local(fd);
        if (lfd < 0 || copy_off[fd] < 0)
            continue;
        char path[40];
        snprintf(path, sizeof path, "/proc/self/fd/%d", lfd);
        int nfd = REAL(open)(path, O_RDONLY | O_CLOEXEC);
        if (nfd < 0)
            continue;
        if (REAL(lseek64)(nfd, (off_t)copy_off[fd], SEEK_SET) == (off_t)copy_off[fd])
            REAL(dup3)(nfd, lfd, O_CLOEXEC);
        REAL(close)(nfd);
    }
}

uint8_t *rw_files_read_rest(int fd, int64_t off, size_t *len)
{
    struct stat st;
    *len = 0;
    if (REAL(fstat)(fd, &st) != 0 || !S_ISREG(st.st_mode) || off < 0)
        return NULL;
    size_t cap = st.st_size > off ? (size_t)(st.st_size - off) + 1 : 4096;
    size_t got = 0;
    uint8_t *buf = rw_sys_malloc(cap);
    while (buf) {
        if (got == cap) { /* the file grew, or /proc says 0 */
            uint8_t *b = cap < SIZE_MAX / 2 ? rw_sys_realloc(buf, cap * 2) : NULL;
            if (!b)
                break;
            buf = b;
            cap *= 2;
        }
        ssize_t r = REAL(pread64)(fd, buf + got, cap - got, (off_t)(off + (int64_t)got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        if (r == 0) {
            *len = got;
            return buf;
        }
        got += (size_t)r;
    }
    rw_sys_free(buf);
    return NULL;
}

void rw_files_diverge(const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rw_in_diverge(msg, NULL);
}

/* Replay: the local descriptor behind recorded fd, which the record g says is an
 * installation file; diverges when there is none. */
static int local_for(int fd, const rw_input *g)
{
    int lfd = rw_files_local(fd);
    if (lfd < 0) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "descriptor %d reads an installation file, but the replay has no local "
                 "copy open for it", fd);
        rw_in_diverge(msg, g);
    }
    return lfd;
}

/* Replay: the end of a read from a local installation file: diverges when it did not
 * give what the recording got, else returns the recorded result and errno. */
static ssize_t local_checked(int fd, const rw_input *g, ssize_t r)
{
    if (r != g->result) {
        char msg[240];
        snprintf(msg, sizeof msg,
                 "reading descriptor %d (an installation file) gave %zd bytes, the recording "
                 "%lld: the local Python installation differs from the recording's",
                 fd, r, (long long)g->result);
        rw_in_diverge(msg, g);
    }
    return (ssize_t)rw_in_return(g);
}

/* ---- the wrapper shapes ---------------------------------------------------------- */

/* An int-returning call with no output: realexpr performs it, keyexpr builds k_. */
#define WRAP_INT(call, realexpr, keyexpr)                                                  \
    int m_ = rw_in_mode();                                                                 \
    if (RW_LIKELY(m_ == RW_IN_OFF))                                                        \
        return realexpr;                                                                   \
    rw_in_key k_;                                                                          \
    keyexpr;                                                                               \
    if (m_ == RW_IN_REPLAY)                                                                \
        return (int)rw_in_replayed(call, &k_, NULL, 0);                                 \
    int r_ = realexpr;                                                                     \
    return (int)rw_in_logged(call, &k_, r_, errno, NULL, 0)

/* A call of type T that fills out (cap bytes); lenexpr (in terms of r_) is how many
 * bytes to log. */
#define WRAP_OUT(T, call, realexpr, keyexpr, out, cap, lenexpr)                            \
    int m_ = rw_in_mode();                                                                 \
    if (RW_LIKELY(m_ == RW_IN_OFF))                                                        \
        return realexpr;                                                                   \
    rw_in_key k_;                                                                          \
    keyexpr;                                                                               \
    if (m_ == RW_IN_REPLAY)                                                                \
        return (T)rw_in_replayed(call, &k_, out, cap);                                  \
    T r_ = realexpr;                                                                       \
    int e_ = errno;                                                                        \
    return (T)rw_in_logged(call, &k_, r_, e_, out, lenexpr)

static int own_is(int fd); /* rewind's own descriptors (below) */

/* Two paths: strlen(a) as the last int, then a and b. */
static void key_two(rw_in_key *k, const char *a, const char *b)
{
    rw_in_key_i64(k, a ? (int64_t)strlen(a) : 0);
    rw_in_key_str(k, a);
    rw_in_key_str(k, b);
}

/* ---- open ----------------------------------------------------------------------- */

/* The dirfd in the keys of calls on /dev/shm's names (shm_open, sem_unlink,
 * shm_unlink), which glibc makes with its own system calls: the name is as given. */
#define RW_SEM_DIR (-200)
#define RW_SHM_DIR (-201)

static int has_mode(int flags)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

static int read_only(int flags)
{
    return (flags & O_ACCMODE) == O_RDONLY && !(flags & (O_CREAT | O_TRUNC)) &&
           (flags & O_TMPFILE) != O_TMPFILE;
}

/* Every open, after the real call (record: r_in is its result) or instead of it
 * (replay). */
static int open_common(int m, int dirfd, const char *path, int flags, mode_t mode, int r_in)
{
    rw_in_key k;
    KEYP(&k, path, dirfd, flags, (int64_t)mode);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_OPEN, &k);
        if (g->result >= 0) {
            int lfd = -1;
            if (g->flags & RW_INPUT_F_INSTALL) {
                lfd = REAL(open64)(path, O_RDONLY | O_CLOEXEC | (flags & O_DIRECTORY));
                if (lfd < 0) {
                    char msg[PATH_MAX + 100];
                    snprintf(msg, sizeof msg,
                             "the local copy of installation file %s cannot be opened (%s)",
                             path, strerror(errno));
                    rw_in_diverge(msg, g);
                }
            }
            rw_files_set_local((int)g->result, lfd);
        }
        return (int)rw_in_return(g);
    }
    int e = errno;
    int install = r_in >= 0 && read_only(flags) && path && path[0] == '/' &&
                  rw_files_install_path(path);
    if (r_in >= 0)
        rw_files_mark(r_in, install);
    rw_in_put_flags(RW_CALL_OPEN, r_in, e, &k, NULL, 0, install ? RW_INPUT_F_INSTALL : 0);
    errno = e;
    return r_in;
}

#define OPEN_BODY(realcall, dirfd)                                                         \
    mode_t mode = 0;                                                                       \
    if (has_mode(flags)) {                                                                 \
        va_list ap;                                                                        \
        va_start(ap, flags);                                                               \
        mode = (mode_t)va_arg(ap, int);                                                    \
        va_end(ap);                                                                        \
    }                                                                                      \
    int m = rw_in_mode();                                                                  \
    if (RW_LIKELY(m == RW_IN_OFF))                                                         \
        return realcall;                                                                   \
    if (m == RW_IN_REPLAY)                                                                 \
        return open_common(m, dirfd, path, flags, mode, -1);                            \
    int r = realcall;                                                                      \
    return open_common(m, dirfd, path, flags, mode, r)

int open(const char *path, int flags, ...)
{
    OPEN_BODY(REAL(open)(path, flags, mode), AT_FDCWD);
}

int open64(const char *path, int flags, ...)
{
    OPEN_BODY(REAL(open64)(path, flags, mode), AT_FDCWD);
}

/* A shared memory object (multiprocessing's SharedMemory): an open like any other, a
 * descriptor the replay answers from the log (its mapping's bytes are logged as a
 * file's: mmap_file), where the sandbox's memfd had another number. */
int shm_open(const char *name, int oflag, mode_t mode)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF))
        return REAL(shm_open)(name, oflag, mode);
    if (m == RW_IN_REPLAY)
        return open_common(m, RW_SHM_DIR, name, oflag, mode, -1);
    int r = REAL(shm_open)(name, oflag, mode);
    return open_common(m, RW_SHM_DIR, name, oflag, mode, r);
}

int openat(int dirfd, const char *path, int flags, ...)
{
    OPEN_BODY(REAL(openat)(dirfd, path, flags, mode), dirfd);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
    OPEN_BODY(REAL(openat64)(dirfd, path, flags, mode), dirfd);
}

int creat(const char *path, mode_t mode)
{
    return open64(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

int creat64(const char *path, mode_t mode)
{
    return open64(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

/* The _FORTIFY_SOURCE entry points (libpython calls __open64_2): no mode. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

int __open_2(const char *path, int flags)
{
    return open64(path, flags);
}

int __open64_2(const char *path, int flags)
{
    return open64(path, flags);
}

int __openat_2(int dirfd, const char *path, int flags)
{
    return openat64(dirfd, path, flags);
}

int __openat64_2(int dirfd, const char *path, int flags)
{
    return openat64(dirfd, path, flags);
}

/* ---- reads ----------------------------------------------------------------------- */

ssize_t read(int fd, void *buf, size_t n)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF))
        return REAL(read)(fd, buf, n);
    rw_in_key k;
    KEY(&k, fd, (int64_t)n);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_READ, &k);
        if (g->flags & RW_INPUT_F_INSTALL)
            return local_checked(fd, g, REAL(read)(local_for(fd, g), buf, n));
        memcpy(buf, g->data, g->data_len <= n ? g->data_len : n);
        return (ssize_t)rw_in_return(g);
    }
    ssize_t r = REAL(read)(fd, buf, n);
    int e = errno;
    if (rw_files_is_install(fd))
        rw_in_put_flags(RW_CALL_READ, r, e, &k, NULL, 0, RW_INPUT_F_INSTALL);
    else
        rw_in_put(RW_CALL_READ, r, e, &k, buf, r > 0 ? (size_t)r : 0);
    errno = e;
    return r;
}

static ssize_t pread_any(int fd, void *buf, size_t n, off_t off)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF))
        return REAL(pread64)(fd, buf, n, off);
    rw_in_key k;
    KEY(&k, fd, (int64_t)n, (int64_t)off);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_PREAD, &k);
        if (g->flags & RW_INPUT_F_INSTALL)
            return local_checked(fd, g, REAL(pread64)(local_for(fd, g), buf, n, off));
        memcpy(buf, g->data, g->data_len <= n ? g->data_len : n);
        return (ssize_t)rw_in_return(g);
    }
    ssize_t r = REAL(pread64)(fd, buf, n, off);
    int e = errno;
    if (rw_files_is_install(fd))
        rw_in_put_flags(RW_CALL_PREAD, r, e, &k, NULL, 0, RW_INPUT_F_INSTALL);
    else
        rw_in_put(RW_CALL_PREAD, r, e, &k, buf, r > 0 ? (size_t)r : 0);
    errno = e;
    return r;
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
    return pread_any(fd, buf, n, off);
}

ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
    return pread_any(fd, buf, n, off);
}

ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen);

ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    if (n > buflen)
        abort(); /* what the C library's __chk_fail does, less the message */
    return read(fd, buf, n);
}

ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen)
{
    if (n > buflen)
        abort();
    return pread_any(fd, buf, n, off);
}

static size_t iov_total(const struct iovec *iov, int cnt)
{
    size_t t = 0;
    for (int i = 0; iov && i < cnt; i++)
        t += iov[i].iov_len;
    return t;
}

/* Copies len bytes of src into the buffers of iov (replay), or gathers them from iov
 * into dst (record). */
static void iov_scatter(const struct iovec *iov, int cnt, const uint8_t *src, size_t len)
{
    for (int i = 0; i < cnt && len; i++) {
        size_t c = iov[i].iov_len < len ? iov[i].iov_len : len;
        memcpy(iov[i].iov_base, src, c);
        src += c;
        len -= c;
    }
}

static void iov_gather(const struct iovec *iov, int cnt, uint8_t *dst, size_t len)
{
    for (int i = 0; i < cnt && len; i++) {
        size_t c = iov[i].iov_len < len ? iov[i].iov_len : len;
        memcpy(dst, iov[i].iov_base, c);
        dst += c;
        len -= c;
    }
}

/* readv (off < 0: at the file's position) and preadv; flags: preadv2's, keyed only
 * when set. */
static ssize_t readv_any(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
    rw_in_key k;
    if (flags)
        KEY(&k, fd, (int64_t)iov_total(iov, cnt), (int64_t)off, flags);
    else if (off < 0)
        KEY(&k, fd, (int64_t)iov_total(iov, cnt));
    else
        KEY(&k, fd, (int64_t)iov_total(iov, cnt), (int64_t)off);
    if (rw_in_mode() == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_READV, &k);
        if (g->flags & RW_INPUT_F_INSTALL) {
            int lfd = local_for(fd, g);
            return local_checked(fd, g, off < 0 ? REAL(readv)(lfd, iov, cnt)
                                                : REAL(preadv64)(lfd, iov, cnt, off));
        }
        iov_scatter(iov, cnt, g->data, g->data_len);
        return (ssize_t)rw_in_return(g);
    }
    ssize_t r = flags      ? REAL(preadv64v2)(fd, iov, cnt, off, flags)
                : off < 0  ? REAL(readv)(fd, iov, cnt)
                           : REAL(preadv64)(fd, iov, cnt, off);
    int e = errno;
    if (rw_files_is_install(fd)) {
        rw_in_put_flags(RW_CALL_READV, r, e, &k, NULL, 0, RW_INPUT_F_INSTALL);
    } else if (r > 0) {
        uint8_t *d = rw_sys_malloc((size_t)r);
        if (d)
            iov_gather(iov, cnt, d, (size_t)r);
        rw_in_put_flags(RW_CALL_READV, r, e, &k, d, d ? (size_t)r : 0,
                        d ? 0 : RW_INPUT_F_TRUNCATED);
        rw_sys_free(d);
    } else {
        rw_in_put(RW_CALL_READV, r, e, &k, NULL, 0);
    }
    errno = e;
    return r;
}

ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
    if (RW_LIKELY(rw_in_mode() == RW_IN_OFF))
        return REAL(readv)(fd, iov, cnt);
    return readv_any(fd, iov, cnt, -1, 0);
}

ssize_t preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{
    if (RW_LIKELY(rw_in_mode() == RW_IN_OFF))
        return REAL(preadv64)(fd, iov, cnt, off);
    return readv_any(fd, iov, cnt, off < 0 ? 0 : off, 0);
}

ssize_t preadv64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
    return preadv(fd, iov, cnt, off);
}

/* os.preadv (CPython calls preadv2 where the C library has it). off -1: the file's
 * position. */
ssize_t preadv2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
    if (RW_LIKELY(rw_in_mode() == RW_IN_OFF))
        return REAL(preadv64v2)(fd, iov, cnt, off, flags);
    return readv_any(fd, iov, cnt, off < 0 ? -1 : off, flags);
}

ssize_t preadv64v2(int fd, const struct iovec *iov, int cnt, off64_t off, int flags)
{
    return preadv2(fd, iov, cnt, off, flags);
}

static off_t lseek_any(int fd, off_t off, int whence)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF))
        return REAL(lseek64)(fd, off, whence);
    rw_in_key k;
    KEY(&k, fd, (int64_t)off, whence);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_LSEEK, &k);
        int lfd = rw_files_local(fd);
        if (lfd >= 0 && g->result >= 0 && REAL(lseek64)(lfd, off, whence) != g->result) {
            char msg[200];
            snprintf(msg, sizeof msg,
                     "seeking descriptor %d (an installation file) did not reach offset %lld",
                     fd, (long long)g->result);
            rw_in_diverge(msg, g);
        }
        return (off_t)rw_in_return(g);
    }
    off_t r = REAL(lseek64)(fd, off, whence);
    return (off_t)rw_in_logged(RW_CALL_LSEEK, &k, r, errno, NULL, 0);
}

off_t lseek(int fd, off_t off, int whence)
{
    return lseek_any(fd, off, whence);
}

off64_t lseek64(int fd, off64_t off, int whence)
{
    return lseek_any(fd, off, whence);
}

/* ---- the stat family ----------------------------------------------------------------- */

#define STAT_LEN (r_ == 0 ? sizeof(struct stat) : 0)

int stat(const char *path, struct stat *st)
{
    WRAP_OUT(int, RW_CALL_STAT, REAL(stat)(path, st), (rw_in_key_init(&k_), rw_in_key_str(&k_, path)),
             st, sizeof *st, STAT_LEN);
}

int stat64(const char *path, struct stat64 *st)
{
    WRAP_OUT(int, RW_CALL_STAT, REAL(stat64)(path, st), (rw_in_key_init(&k_), rw_in_key_str(&k_, path)),
             st, sizeof *st, STAT_LEN);
}

int lstat(const char *path, struct stat *st)
{
    WRAP_OUT(int, RW_CALL_LSTAT, REAL(lstat)(path, st), (rw_in_key_init(&k_), rw_in_key_str(&k_, path)),
             st, sizeof *st, STAT_LEN);
}

int lstat64(const char *path, struct stat64 *st)
{
    WRAP_OUT(int, RW_CALL_LSTAT, REAL(lstat64)(path, st), (rw_in_key_init(&k_), rw_in_key_str(&k_, path)),
             st, sizeof *st, STAT_LEN);
}

int fstat(int fd, struct stat *st)
{
    WRAP_OUT(int, RW_CALL_FSTAT, m_ == RW_IN_RECORD && own_is(fd) ? (errno = EBADF, -1)
                                                                   : REAL(fstat)(fd, st),
             KEY(&k_, fd), st, sizeof *st, STAT_LEN);
}

int fstat64(int fd, struct stat64 *st)
{
    WRAP_OUT(int, RW_CALL_FSTAT, m_ == RW_IN_RECORD && own_is(fd) ? (errno = EBADF, -1)
                                                                   : REAL(fstat64)(fd, st),
             KEY(&k_, fd), st, sizeof *st, STAT_LEN);
}

int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    WRAP_OUT(int, RW_CALL_FSTATAT, REAL(fstatat)(dirfd, path, st, flags),
             KEYP(&k_, path, dirfd, flags), st, sizeof *st, STAT_LEN);
}

int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
    WRAP_OUT(int, RW_CALL_FSTATAT, REAL(fstatat64)(dirfd, path, st, flags),
             KEYP(&k_, path, dirfd, flags), st, sizeof *st, STAT_LEN);
}

int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *sx)
{
    WRAP_OUT(int, RW_CALL_STATX, REAL(statx)(dirfd, path, flags, mask, sx),
             KEYP(&k_, path, dirfd, flags, (int64_t)mask), sx, sizeof *sx,
             r_ == 0 ? sizeof *sx : 0);
}

int statvfs(const char *path, struct statvfs *sv)
{
    WRAP_OUT(int, RW_CALL_STATVFS, REAL(statvfs)(path, sv),
             (rw_in_key_init(&k_), rw_in_key_str(&k_, path)), sv, sizeof *sv,
             r_ == 0 ? sizeof *sv : 0);
}

int statvfs64(const char *path, struct statvfs64 *sv)
{
    WRAP_OUT(int, RW_CALL_STATVFS, REAL(statvfs64)(path, sv),
             (rw_in_key_init(&k_), rw_in_key_str(&k_, path)), sv, sizeof *sv,
             r_ == 0 ? sizeof *sv : 0);
}

int fstatvfs(int fd, struct statvfs *sv)
{
    WRAP_OUT(int, RW_CALL_STATVFS, REAL(fstatvfs)(fd, sv), KEY(&k_, fd), sv, sizeof *sv,
             r_ == 0 ? sizeof *sv : 0);
}

int fstatvfs64(int fd, struct statvfs64 *sv)
{
    WRAP_OUT(int, RW_CALL_STATVFS, REAL(fstatvfs64)(fd, sv), KEY(&k_, fd), sv, sizeof *sv,
             r_ == 0 ? sizeof *sv : 0);
}

/* ---- access, getcwd, readlink, realpath ---------------------------------------------- */

int access(const char *path, int mode)
{
    WRAP_INT(RW_CALL_ACCESS, REAL(access)(path, mode), KEYP(&k_, path, AT_FDCWD, mode, 0));
}

int faccessat(int dirfd, const char *path, int mode, int flags)
{
    WRAP_INT(RW_CALL_ACCESS, REAL(faccessat)(dirfd, path, mode, flags),
             KEYP(&k_, path, dirfd, mode, flags));
}

int eaccess(const char *path, int mode)
{
    WRAP_INT(RW_CALL_ACCESS, REAL(eaccess)(path, mode),
             KEYP(&k_, path, AT_FDCWD, mode, AT_EACCESS));
}

int euidaccess(const char *path, int mode)
{
    return eaccess(path, mode);
}

/* Replay of a call that returns a string in buf (size bytes), or in memory it mallocs
 * when buf is NULL (alloc bytes; 0: the string's length + 1). */
static char *replay_string(const rw_input *g, char *buf, size_t size, size_t alloc)
{
    if (!g->result)
        return (char *)(rw_in_return(g), NULL);
    size_t len = g->data_len;
    if (!buf) {
        size_t cap = alloc > len ? alloc : len + 1;
        buf = malloc(cap); /* the caller frees it with free(), as the C library's */
        if (!buf) {
            errno = ENOMEM;
            return NULL;
        }
        size = cap;
    }
    if (size == 0) { /* cannot happen with the same key */
        errno = ERANGE;
        return NULL;
    }
    if (len >= size)
        len = size - 1;
    memcpy(buf, g->data, len);
    buf[len] = '\0';
    rw_in_return(g);
    return buf;
}

char *getcwd(char *buf, size_t size)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF))
        return REAL(getcwd)(buf, size);
    rw_in_key k;
    KEY(&k, (int64_t)size, buf ? 1 : 0);
    if (m == RW_IN_REPLAY)
        return replay_string(rw_in_take(RW_CALL_GETCWD, &k), buf, size, size);
    char *r = REAL(getcwd)(buf, size);
    int e = errno;
    rw_in_put(RW_CALL_GETCWD, r != NULL, e, &k, r, r ? strlen(r) : 0);
    errno = e;
    return r;
}

char *__getcwd_chk(char *buf, size_t size, size_t buflen);

char *__getcwd_chk(char *buf, size_t size, size_t buflen)
{
    if (size > buflen)
        abort();
    return getcwd(buf, size);
}

static ssize_t readlink_any(int dirfd, const char *path, char *buf, size_t n)
{
    WRAP_OUT(ssize_t, RW_CALL_READLINK,
             dirfd == AT_FDCWD ? REAL(readlink)(path, buf, n)
                               : REAL(readlinkat)(dirfd, path, buf, n),
             KEYP(&k_, path, dirfd, (int64_t)n), buf, n, r_ > 0 ? (size_t)r_ : 0);
}

ssize_t readlink(const char *path, char *buf, size_t n)
{
    return readlink_any(AT_FDCWD, path, buf, n);
}

ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t n)
{
    /* readlinkat(AT_FDCWD, ...) is readlink: the same record. */
    return readlink_any(dirfd, path, buf, n);
}

ssize_t __readlink_chk(const char *path, char *buf, size_t n, size_t buflen);
ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t n, size_t buflen);

ssize_t __readlink_chk(const char *path, char *buf, size_t n, size_t buflen)
{
    if (n > buflen)
        abort();
    return readlink_any(AT_FDCWD, path, buf, n);
}

ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t n, size_t buflen)
{
    if (n > buflen)
        abort();
    return readlink_any(dirfd, path, buf, n);
}

char *realpath(const char *path, char *resolved)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF))
        return REAL(realpath)(path, resolved);
    rw_in_key k;
    KEYP(&k, path, resolved ? 1 : 0);
    if (m == RW_IN_REPLAY)
        return replay_string(rw_in_take(RW_CALL_REALPATH, &k), resolved, PATH_MAX, 0);
    char *r = REAL(realpath)(path, resolved);
    int e = errno;
    rw_in_put(RW_CALL_REALPATH, r != NULL, e, &k, r, r ? strlen(r) : 0);
    errno = e;
    return r;
}

char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen);

char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen)
{
    if (resolved && resolvedlen < PATH_MAX)
        abort();
    return realpath(path, resolved);
}

/* ---- rewind's own descriptors (libc.h, rw_own_fd) ------------------------------------- */

#define OWN_FDS 16

/* Slots hold fd + 1 (0: free). own_n: slots in use, so that a close outside the
 * recording pays one load. */
static struct {
    _Atomic int fd[OWN_FDS];
    _Atomic int n;
    int floor; /* where moved descriptors start; 0 until computed */
} own;

static __thread int own_scope; /* rw_own_fds_begin depth of the calling thread */

static int own_is(int fd)
{
    if (RW_LIKELY(atomic_load_explicit(&own.n, memory_order_relaxed) == 0) || fd < 0)
        return 0;
    for (int i = 0; i < OWN_FDS; i++)
        if (atomic_load_explicit(&own.fd[i], memory_order_relaxed) == fd + 1)
            return 1;
    return 0;
}

int rw_files_own_is(int fd)
{
    return own_is(fd);
}

static void own_forget(int fd)
{
    for (int i = 0; i < OWN_FDS; i++) {
        int want = fd + 1;
        if (atomic_compare_exchange_strong(&own.fd[i], &want, 0)) {
            atomic_fetch_sub(&own.n, 1);
            return;
        }
    }
}

static int own_floor(void)
{
    if (own.floor)
        return own.floor;
    struct rlimit rl;
    rlim_t top = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < top)
        top = rl.rlim_cur;
    own.floor = top > 2 * OWN_FDS + 8 ? (int)(top - 2 * OWN_FDS) : 3;
    return own.floor;
}

int rw_own_fd(int fd)
{
    if (fd < 0)
        return fd;
    int e = errno;
    int hi = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, own_floor());
    if (hi >= 0) {
        REAL(close)(fd);
        fd = hi;
    }
    for (int i = 0; i < OWN_FDS; i++) {
        int zero = 0;
        if (atomic_compare_exchange_strong(&own.fd[i], &zero, fd + 1)) {
            atomic_fetch_add(&own.n, 1);
            break;
        }
    }
    errno = e;
    return fd;
}

int rw_own_fd_close(int fd)
{
    own_forget(fd);
    return REAL(close)(fd);
}

void rw_own_fds_begin(void)
{
    own_scope++;
}

void rw_own_fds_end(void)
{
    own_scope--;
}

/* close_range over [first, last] but for rewind's own descriptors in it: the gaps
 * between them closed one range at a time. The first failure is the result. */
static int close_range_but_own(unsigned int first, unsigned int last, int flags)
{
    int mine[OWN_FDS], n = 0;
    for (int i = 0; i < OWN_FDS; i++) {
        int v = atomic_load_explicit(&own.fd[i], memory_order_relaxed) - 1;
        if (v >= 0 && (unsigned int)v >= first && (unsigned int)v <= last)
            mine[n++] = v;
    }
    if (n == 0)
        return REAL(close_range)(first, last, flags);
    for (int i = 1; i < n; i++) /* a handful: insertion sort */
        for (int j = i; j > 0 && mine[j - 1] > mine[j]; j--) {
            int t = mine[j];
            mine[j] = mine[j - 1];
            mine[j - 1] = t;
        }
    int r = 0, e = 0;
    unsigned int from = first; /* the next descriptor to close; own ones are ints */
    for (int i = 0; i < n; i++) {
        unsigned int mine_i = (unsigned int)mine[i];
        if (mine_i > from && REAL(close_range)(from, mine_i - 1, flags) != 0 && r == 0)
            r = -1, e = errno;
        from = mine_i + 1;
    }
    if (from <= last && REAL(close_range)(from, last, flags) != 0 && r == 0)
        r = -1, e = errno;
    errno = e;
    return r;
}

void rw_own_fds_close_others(void)
{
    close_range_but_own(3, ~0u, 0);
}

/* ---- descriptors: close, dup, fcntl, ioctl, isatty, pipe ------------------------------- */

int close(int fd)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF)) {
        if (RW_UNLIKELY(own_is(fd))) /* a forked child's close, before it execs */
            return errno = EBADF, -1;
        return REAL(close)(fd);
    }
    rw_in_key k;
    KEY(&k, fd);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_CLOSE, &k);
        rw_files_set_local(fd, -1);
        return (int)rw_in_return(g);
    }
    /* The program's close of rewind's descriptor: not open in a run without rewind. */
    int r = own_is(fd) ? (errno = EBADF, -1) : REAL(close)(fd);
    int e = errno;
    rw_files_mark(fd, 0);
    return (int)rw_in_logged(RW_CALL_CLOSE, &k, r, e, NULL, 0);
}

int close_range(unsigned int first, unsigned int last, int flags)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF))
        return close_range_but_own(first, last, flags);
    rw_in_key k;
    KEY(&k, (int64_t)first, (int64_t)last, flags);
    unsigned int end = last < FD_TAB - 1 ? last : FD_TAB - 1;
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_CLOSE, &k);
        if (g->result == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
            for (unsigned int fd = first; fd <= end; fd++)
                rw_files_set_local((int)fd, -1);
        return (int)rw_in_return(g);
    }
    int r = close_range_but_own(first, last, flags);
    int e = errno;
    if (r == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
        for (unsigned int fd = first; fd <= end; fd++)
            rw_files_mark((int)fd, 0);
    return (int)rw_in_logged(RW_CALL_CLOSE, &k, r, e, NULL, 0);
}

/* After a dup of fd into nfd (the result): the installation state follows. */
static void dup_record(int fd, int nfd)
{
    if (nfd >= 0)
        rw_files_mark(nfd, rw_files_is_install(fd));
}

static void dup_replay(int fd, int nfd)
{
    if (nfd < 0 || nfd == fd)
        return;
    int lfd = rw_files_local(fd);
    rw_files_set_local(nfd, lfd >= 0 ? REAL(fcntl)(lfd, F_DUPFD_CLOEXEC, 0) : -1);
}

/* dup (newfd -2), dup2 (flags -1) and dup3. */
static int dup_any(int fd, int newfd, int flags)
{
    rw_in_key k;
    if (newfd == -2)
        KEY(&k, fd);
    else if (flags == -1)
        KEY(&k, fd, newfd);
    else
        KEY(&k, fd, newfd, flags);
    if (rw_in_mode() == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_DUP, &k);
        dup_replay(fd, (int)g->result);
        return (int)rw_in_return(g);
    }
    int r;
    if (newfd != -2 && own_is(newfd)) /* it would replace rewind's descriptor */
        r = -1, errno = EBUSY;
    else
        r = newfd == -2 ? REAL(dup)(fd) : flags == -1 ? REAL(dup2)(fd, newfd)
                                                      : REAL(dup3)(fd, newfd, flags);
    int e = errno;
    dup_record(fd, r);
    return (int)rw_in_logged(RW_CALL_DUP, &k, r, e, NULL, 0);
}

int dup(int fd)
{
    if (RW_LIKELY(rw_in_mode() == RW_IN_OFF))
        return REAL(dup)(fd);
    return dup_any(fd, -2, -1);
}

int dup2(int fd, int newfd)
{
    if (RW_LIKELY(rw_in_mode() == RW_IN_OFF))
        return own_is(newfd) ? (errno = EBUSY, -1) : REAL(dup2)(fd, newfd);
    return dup_any(fd, newfd, -1);
}

int dup3(int fd, int newfd, int flags)
{
    if (RW_LIKELY(rw_in_mode() == RW_IN_OFF))
        return own_is(newfd) ? (errno = EBUSY, -1) : REAL(dup3)(fd, newfd, flags);
    return dup_any(fd, newfd, flags);
}

/* fcntl's argument: an int, or a pointer for these commands. */
static int fcntl_pointer(int cmd)
{
    switch (cmd) {
    case F_GETLK: case F_SETLK: case F_SETLKW:
    case F_OFD_GETLK: case F_OFD_SETLK: case F_OFD_SETLKW:
    case F_GETOWN_EX: case F_SETOWN_EX:
    case F_GET_RW_HINT: case F_SET_RW_HINT:
    case F_GET_FILE_RW_HINT: case F_SET_FILE_RW_HINT:
        return 1;
    default:
        return 0;
    }
}

/* Bytes fcntl writes to its pointer argument. */
static size_t fcntl_out(int cmd)
{
    switch (cmd) {
    case F_GETLK: case F_OFD_GETLK:
        return sizeof(struct flock);
    case F_GETOWN_EX:
        return sizeof(struct f_owner_ex);
    case F_GET_RW_HINT: case F_GET_FILE_RW_HINT:
        return sizeof(uint64_t);
    default:
        return 0;
    }
}

/* The commands that take no argument: whatever the caller's register held is not part
 * of the call (os.get_inheritable's F_GETFD: another value in every run). */
static int fcntl_no_arg(int cmd)
{
    switch (cmd) {
    case F_GETFD: case F_GETFL: case F_GETOWN: case F_GETSIG: case F_GETLEASE:
    case F_GETPIPE_SZ: case F_GET_SEALS:
        return 1;
    default:
        return 0;
    }
}

static int fcntl_any(int fd, int cmd, void *arg)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF))
        return REAL(fcntl)(fd, cmd, arg);
    int ptr = fcntl_pointer(cmd);
    size_t out = fcntl_out(cmd);
    rw_in_key k;
    KEY(&k, fd, cmd, ptr || fcntl_no_arg(cmd) ? 0 : (int64_t)(intptr_t)arg);
    int dupping = cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC;
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_FCNTL, &k);
        if (out && arg && g->data_len)
            memcpy(arg, g->data, g->data_len < out ? g->data_len : out);
        if (dupping)
            dup_replay(fd, (int)g->result);
        return (int)rw_in_return(g);
    }
    int r = own_is(fd) ? (errno = EBADF, -1) : REAL(fcntl)(fd, cmd, arg);
    int e = errno;
    if (dupping)
        dup_record(fd, r);
    return (int)rw_in_logged(RW_CALL_FCNTL, &k, r, e, arg, r >= 0 && arg ? out : 0);
}

int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *); /* as the C library reads it */
    va_end(ap);
    return fcntl_any(fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...);

int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_any(fd, cmd, arg);
}

/* Bytes ioctl writes to its argument for the requests whose result we log. */
static size_t ioctl_out(unsigned long req)
{
    switch (req) {
    case TIOCGWINSZ:
        return sizeof(struct winsize);
    case FIONREAD:
    case TIOCOUTQ:
    case TIOCMGET:
        return sizeof(int);
    case TCGETS:
        return KERNEL_TERMIOS;
    case TIOCGPGRP:
    case TIOCGSID:
        return sizeof(pid_t);
    case TIOCGPTN:
        return sizeof(unsigned int);
    /* A network interface's state, in the struct ifreq given (its name in, the rest
     * out): libuuid reads the hardware addresses, netifaces and psutil the rest. */
    case SIOCGIFFLAGS:
    case SIOCGIFADDR:
    case SIOCGIFDSTADDR:
    case SIOCGIFBRDADDR:
    case SIOCGIFNETMASK:
    case SIOCGIFMETRIC:
    case SIOCGIFMTU:
    case SIOCGIFHWADDR:
    case SIOCGIFINDEX:
    case SIOCGIFNAME:
    case SIOCGIFTXQLEN:
    case SIOCGIFMAP:
        return sizeof(struct ifreq);
    default:
        return 0;
    }
}

/* SIOCGIFCONF: the interfaces, written to the buffer that struct ifconf points to
 * (ifc_len in: its size; out: the bytes written). Logged as ifc_len after the call,
 * then those bytes. */
static int ioctl_ifconf(int m, int fd, unsigned long req, struct ifconf *ifc)
{
    rw_in_key k;
    KEY(&k, fd, (int64_t)req);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_IOCTL, &k);
        int len = 0;
        if (g->result >= 0 && ifc && g->data_len >= sizeof len) {
            memcpy(&len, g->data, sizeof len);
            size_t n = g->data_len - sizeof len;
            if (ifc->ifc_buf) {
                size_t room = ifc->ifc_len > 0 ? (size_t)ifc->ifc_len : 0;
                memcpy(ifc->ifc_buf, g->data + sizeof len, n < room ? n : room);
            }
            ifc->ifc_len = len;
        }
        return (int)rw_in_return(g);
    }
    int r = REAL(ioctl)(fd, req, ifc);
    int e = errno;
    uint8_t small[4096], *buf = small;
    size_t n = 0;
    if (r >= 0 && ifc) {
        size_t got = ifc->ifc_buf && ifc->ifc_len > 0 ? (size_t)ifc->ifc_len : 0;
        n = sizeof(int) + got;
        if (n > sizeof small && !(buf = rw_sys_malloc(n)))
            buf = small, n = sizeof(int), got = 0; /* out of memory: the count only */
        memcpy(buf, &ifc->ifc_len, sizeof(int));
        if (got)
            memcpy(buf + sizeof(int), ifc->ifc_buf, got);
    }
    int64_t v = rw_in_logged(RW_CALL_IOCTL, &k, r, e, n ? buf : NULL, n);
    if (buf != small)
        rw_sys_free(buf);
    return (int)v;
}

int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF))
        return REAL(ioctl)(fd, req, arg);
    if (req == SIOCGIFCONF)
        return ioctl_ifconf(m, fd, req, arg);
    size_t out = ioctl_out(req);
    rw_in_key k;
    KEY(&k, fd, (int64_t)req);
    if (m == RW_IN_REPLAY)
        return (int)rw_in_replayed(RW_CALL_IOCTL, &k, out ? arg : NULL, out);
    int r = REAL(ioctl)(fd, req, arg);
    int e = errno;
    return (int)rw_in_logged(RW_CALL_IOCTL, &k, r, e, out ? arg : NULL,
                                r >= 0 && arg ? out : 0);
}

/* The terminal functions: glibc's make their ioctls internally, where no wrapper sees
 * them (a replay's tcgetattr asked the kernel about a descriptor that is not there).
 * One call, TERMIOS, keyed by the descriptor, which function and its argument;
 * tcgetattr logs the struct termios. Those that change the terminal are not performed
 * on replay. */
enum { TC_GETATTR, TC_SETATTR, TC_GETPGRP, TC_SETPGRP, TC_FLUSH, TC_DRAIN, TC_FLOW,
       TC_SENDBREAK, TC_GETSID };

int tcgetattr(int fd, struct termios *t)
{
    WRAP_OUT(int, RW_CALL_TERMIOS, REAL(tcgetattr)(fd, t), KEY(&k_, fd, TC_GETATTR, 0), t,
             sizeof *t, r_ == 0 ? sizeof *t : 0);
}

int tcsetattr(int fd, int act, const struct termios *t)
{
    WRAP_INT(RW_CALL_TERMIOS, REAL(tcsetattr)(fd, act, t), KEY(&k_, fd, TC_SETATTR, act));
}

pid_t tcgetpgrp(int fd)
{
    WRAP_INT(RW_CALL_TERMIOS, REAL(tcgetpgrp)(fd), KEY(&k_, fd, TC_GETPGRP, 0));
}

int tcsetpgrp(int fd, pid_t pg)
{
    WRAP_INT(RW_CALL_TERMIOS, REAL(tcsetpgrp)(fd, pg), KEY(&k_, fd, TC_SETPGRP, pg));
}

int tcflush(int fd, int queue)
{
    WRAP_INT(RW_CALL_TERMIOS, REAL(tcflush)(fd, queue), KEY(&k_, fd, TC_FLUSH, queue));
}

int tcdrain(int fd)
{
    WRAP_INT(RW_CALL_TERMIOS, REAL(tcdrain)(fd), KEY(&k_, fd, TC_DRAIN, 0));
}

int tcflow(int fd, int action)
{
    WRAP_INT(RW_CALL_TERMIOS, REAL(tcflow)(fd, action), KEY(&k_, fd, TC_FLOW, action));
}

int tcsendbreak(int fd, int duration)
{
    WRAP_INT(RW_CALL_TERMIOS, REAL(tcsendbreak)(fd, duration),
             KEY(&k_, fd, TC_SENDBREAK, duration));
}

pid_t tcgetsid(int fd)
{
    WRAP_INT(RW_CALL_TERMIOS, REAL(tcgetsid)(fd), KEY(&k_, fd, TC_GETSID, 0));
}

int isatty(int fd)
{
    WRAP_INT(RW_CALL_ISATTY, REAL(isatty)(fd), KEY(&k_, fd));
}

static int pipe_any(int fds[2], int flags)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF)) {
        int r = REAL(pipe2)(fds, flags);
        if (RW_UNLIKELY(own_scope) && r == 0) {
            fds[0] = rw_own_fd(fds[0]);
            fds[1] = rw_own_fd(fds[1]);
        }
        return r;
    }
    rw_in_key k;
    KEY(&k, flags);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_PIPE, &k);
        if (g->result == 0 && g->data_len == 2 * sizeof(int)) {
            memcpy(fds, g->data, 2 * sizeof(int));
            rw_files_set_local(fds[0], -1);
            rw_files_set_local(fds[1], -1);
        }
        return (int)rw_in_return(g);
    }
    int r = REAL(pipe2)(fds, flags);
    int e = errno;
    if (r == 0) {
        rw_files_mark(fds[0], 0);
        rw_files_mark(fds[1], 0);
    }
    return (int)rw_in_logged(RW_CALL_PIPE, &k, r, e, fds, r == 0 ? 2 * sizeof(int) : 0);
}

int pipe(int fds[2])
{
    return pipe_any(fds, 0);
}

int pipe2(int fds[2], int flags)
{
    return pipe_any(fds, flags);
}

/* ---- writes: not performed in replay; bytes logged for fds 1 and 2 only ----------------- */

static int output_fd(int fd)
{
    return fd == 1 || fd == 2;
}

/* Logs a write to fd 1 or 2 with its bytes scrubbed of the run's secrets (what the
 * program printed is shown by a replay and leaves with the trace, secrets.h); the
 * result and errno stay the real ones. */
static int64_t log_output(uint32_t call, const rw_in_key *k, int64_t r, int e,
                          const void *buf, size_t len)
{
    size_t cap = len * 2 + 64;
    char *d = len ? rw_sys_malloc(cap) : NULL;
    if (d) {
        memcpy(d, buf, len);
        len = rw_secrets_scrub(d, len, cap);
    }
    rw_in_put_flags(call, r, e, k, d, d ? len : 0, len && !d ? RW_INPUT_F_TRUNCATED : 0);
    rw_sys_free(d);
    errno = e;
    return r;
}

ssize_t write(int fd, const void *buf, size_t n)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF))
        return REAL(write)(fd, buf, n);
    rw_in_key k;
    KEY(&k, fd, (int64_t)n);
    if (m == RW_IN_REPLAY)
        return (ssize_t)rw_in_replayed(RW_CALL_WRITE, &k, NULL, 0);
    ssize_t r = REAL(write)(fd, buf, n);
    int e = errno;
    if (output_fd(fd))
        return (ssize_t)log_output(RW_CALL_WRITE, &k, r, e, buf, r > 0 ? (size_t)r : 0);
    return (ssize_t)rw_in_logged(RW_CALL_WRITE, &k, r, e, buf, 0);
}

static ssize_t pwrite_any(int fd, const void *buf, size_t n, off_t off)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF))
        return REAL(pwrite64)(fd, buf, n, off);
    rw_in_key k;
    KEY(&k, fd, (int64_t)n, (int64_t)off);
    if (m == RW_IN_REPLAY)
        return (ssize_t)rw_in_replayed(RW_CALL_PWRITE, &k, NULL, 0);
    ssize_t r = REAL(pwrite64)(fd, buf, n, off);
    int e = errno;
    if (output_fd(fd))
        return (ssize_t)log_output(RW_CALL_PWRITE, &k, r, e, buf, r > 0 ? (size_t)r : 0);
    return (ssize_t)rw_in_logged(RW_CALL_PWRITE, &k, r, e, buf, 0);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    return pwrite_any(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
    return pwrite_any(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF))
        return REAL(writev)(fd, iov, cnt);
    rw_in_key k;
    KEY(&k, fd, (int64_t)iov_total(iov, cnt));
    if (m == RW_IN_REPLAY)
        return (ssize_t)rw_in_replayed(RW_CALL_WRITEV, &k, NULL, 0);
    ssize_t r = REAL(writev)(fd, iov, cnt);
    int e = errno;
    uint8_t *d = NULL;
    if (output_fd(fd) && r > 0 && (d = rw_sys_malloc((size_t)r)) != NULL)
        iov_gather(iov, cnt, d, (size_t)r);
    if (d) {
        log_output(RW_CALL_WRITEV, &k, r, e, d, (size_t)r);
        rw_sys_free(d);
        errno = e;
        return r;
    }
    rw_in_put_flags(RW_CALL_WRITEV, r, e, &k, NULL, 0,
                    output_fd(fd) && r > 0 ? RW_INPUT_F_TRUNCATED : 0);
    errno = e;
    return r;
}

/* os.pwritev (preadv2's twin): keyed by fd, the bytes' count, the offset and flags;
 * not made on replay. */
static ssize_t pwritev_any(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF))
        return REAL(pwritev64v2)(fd, iov, cnt, off, flags);
    rw_in_key k;
    KEY(&k, fd, (int64_t)iov_total(iov, cnt), (int64_t)off, flags);
    if (m == RW_IN_REPLAY)
        return (ssize_t)rw_in_replayed(RW_CALL_WRITEV, &k, NULL, 0);
    ssize_t r = REAL(pwritev64v2)(fd, iov, cnt, off, flags);
    return (ssize_t)rw_in_logged(RW_CALL_WRITEV, &k, r, errno, NULL, 0);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    return pwritev_any(fd, iov, cnt, off, 0);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
    return pwritev_any(fd, iov, cnt, off, 0);
}

ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
    return pwritev_any(fd, iov, cnt, off, flags);
}

ssize_t pwritev64v2(int fd, const struct iovec *iov, int cnt, off64_t off, int flags)
{
    return pwritev_any(fd, iov, cnt, off, flags);
}

/* ---- calls that change files: not performed in replay ---------------------------------- */

int fsync(int fd)
{
    WRAP_INT(RW_CALL_FSYNC, REAL(fsync)(fd), KEY(&k_, fd, 0));
}

int fdatasync(int fd)
{
    WRAP_INT(RW_CALL_FSYNC, REAL(fdatasync)(fd), KEY(&k_, fd, 1));
}

int syncfs(int fd)
{
    WRAP_INT(RW_CALL_FSYNC, REAL(syncfs)(fd), KEY(&k_, fd, 2));
}

/* os.sync: no result to log; not made in a replay (the sandbox stopped the engine at
 * it: CPython's test_posix). */
void sync(void)
{
    if (rw_in_mode() != RW_IN_REPLAY)
        REAL(sync)();
}

int ftruncate(int fd, off_t len)
{
    WRAP_INT(RW_CALL_FTRUNCATE, REAL(ftruncate64)(fd, len), KEY(&k_, fd, (int64_t)len));
}

int ftruncate64(int fd, off64_t len)
{
    WRAP_INT(RW_CALL_FTRUNCATE, REAL(ftruncate64)(fd, len), KEY(&k_, fd, (int64_t)len));
}

int truncate(const char *path, off_t len)
{
    WRAP_INT(RW_CALL_TRUNCATE, REAL(truncate64)(path, len), KEYP(&k_, path, (int64_t)len));
}

int truncate64(const char *path, off64_t len)
{
    WRAP_INT(RW_CALL_TRUNCATE, REAL(truncate64)(path, len), KEYP(&k_, path, (int64_t)len));
}

int unlink(const char *path)
{
    WRAP_INT(RW_CALL_UNLINK, REAL(unlink)(path), KEYP(&k_, path, AT_FDCWD, 0));
}

int unlinkat(int dirfd, const char *path, int flags)
{
    WRAP_INT(RW_CALL_UNLINK, REAL(unlinkat)(dirfd, path, flags), KEYP(&k_, path, dirfd, flags));
}

/* A named semaphore's or shared memory object's name (multiprocessing's Lock and
 * SharedMemory, its resource tracker): glibc removes /dev/shm's file with its own
 * system call, which the unlink wrappers do not see, and which a replay's sandbox
 * answers with a success (docs/reexecution.md, "A private /dev/shm"): the recording's
 * result is the input (whether another process had removed it first: CPython's
 * test_resource_tracker). Keyed by the name as given, with dirfd RW_SEM_DIR or
 * RW_SHM_DIR. */
int sem_unlink(const char *name)
{
    WRAP_INT(RW_CALL_UNLINK, REAL(sem_unlink)(name), KEYP(&k_, name, RW_SEM_DIR, 0));
}

int shm_unlink(const char *name)
{
    WRAP_INT(RW_CALL_UNLINK, REAL(shm_unlink)(name), KEYP(&k_, name, RW_SHM_DIR, 0));
}

int rename(const char *from, const char *to)
{
    WRAP_INT(RW_CALL_RENAME, REAL(rename)(from, to),
             (KEY(&k_, AT_FDCWD, AT_FDCWD, 0), key_two(&k_, from, to)));
}

int renameat(int fromfd, const char *from, int tofd, const char *to)
{
    WRAP_INT(RW_CALL_RENAME, REAL(renameat)(fromfd, from, tofd, to),
             (KEY(&k_, fromfd, tofd, 0), key_two(&k_, from, to)));
}

int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned int flags)
{
    WRAP_INT(RW_CALL_RENAME, REAL(renameat2)(fromfd, from, tofd, to, flags),
             (KEY(&k_, fromfd, tofd, (int64_t)flags), key_two(&k_, from, to)));
}

int mkdir(const char *path, mode_t mode)
{
    WRAP_INT(RW_CALL_MKDIR, REAL(mkdir)(path, mode), KEYP(&k_, path, AT_FDCWD, (int64_t)mode));
}

int mkdirat(int dirfd, const char *path, mode_t mode)
{
    WRAP_INT(RW_CALL_MKDIR, REAL(mkdirat)(dirfd, path, mode),
             KEYP(&k_, path, dirfd, (int64_t)mode));
}

int chroot(const char *path)
{
    WRAP_INT(RW_CALL_CHROOT, REAL(chroot)(path), (rw_in_key_init(&k_), rw_in_key_str(&k_, path)));
}

int rmdir(const char *path)
{
    WRAP_INT(RW_CALL_RMDIR, REAL(rmdir)(path), (rw_in_key_init(&k_), rw_in_key_str(&k_, path)));
}

int chmod(const char *path, mode_t mode)
{
    WRAP_INT(RW_CALL_CHMOD, REAL(chmod)(path, mode), KEYP(&k_, path, AT_FDCWD, (int64_t)mode, 0));
}

int fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
    WRAP_INT(RW_CALL_CHMOD, REAL(fchmodat)(dirfd, path, mode, flags),
             KEYP(&k_, path, dirfd, (int64_t)mode, flags));
}

int fchmod(int fd, mode_t mode)
{
    WRAP_INT(RW_CALL_CHMOD, REAL(fchmod)(fd, mode), KEY(&k_, fd, (int64_t)mode));
}

int chown(const char *path, uid_t uid, gid_t gid)
{
    WRAP_INT(RW_CALL_CHOWN, REAL(chown)(path, uid, gid),
             KEYP(&k_, path, AT_FDCWD, (int64_t)uid, (int64_t)gid, 0));
}

int lchown(const char *path, uid_t uid, gid_t gid)
{
    WRAP_INT(RW_CALL_CHOWN, REAL(lchown)(path, uid, gid),
             KEYP(&k_, path, AT_FDCWD, (int64_t)uid, (int64_t)gid, AT_SYMLINK_NOFOLLOW));
}

int fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags)
{
    WRAP_INT(RW_CALL_CHOWN, REAL(fchownat)(dirfd, path, uid, gid, flags),
             KEYP(&k_, path, dirfd, (int64_t)uid, (int64_t)gid, flags));
}

int fchown(int fd, uid_t uid, gid_t gid)
{
    WRAP_INT(RW_CALL_CHOWN, REAL(fchown)(fd, uid, gid), KEY(&k_, fd, (int64_t)uid, (int64_t)gid));
}

/* UTIME's key: dirfd, flags, the two times (-1s for NULL), then the path. */
static void key_times(rw_in_key *k, int dirfd, int flags, const struct timespec *t,
                      const char *path)
{
    KEY(k, dirfd, flags, t ? t[0].tv_sec : -1, t ? t[0].tv_nsec : -1, t ? t[1].tv_sec : -1,
        t ? t[1].tv_nsec : -1);
    if (path)
        rw_in_key_str(k, path);
}

int utimensat(int dirfd, const char *path, const struct timespec t[2], int flags)
{
    WRAP_INT(RW_CALL_UTIME, REAL(utimensat)(dirfd, path, t, flags),
             key_times(&k_, dirfd, flags, t, path));
}

int futimens(int fd, const struct timespec t[2])
{
    WRAP_INT(RW_CALL_UTIME, REAL(futimens)(fd, t), key_times(&k_, fd, 0, t, NULL));
}

int utimes(const char *path, const struct timeval tv[2])
{
    struct timespec ts[2];
    if (tv) {
        ts[0].tv_sec = tv[0].tv_sec;
        ts[0].tv_nsec = tv[0].tv_usec * 1000;
        ts[1].tv_sec = tv[1].tv_sec;
        ts[1].tv_nsec = tv[1].tv_usec * 1000;
    }
    WRAP_INT(RW_CALL_UTIME, REAL(utimes)(path, tv),
             key_times(&k_, AT_FDCWD, 0, tv ? ts : NULL, path));
}

int symlink(const char *target, const char *linkpath)
{
    WRAP_INT(RW_CALL_SYMLINK, REAL(symlink)(target, linkpath),
             (KEY(&k_, AT_FDCWD), key_two(&k_, target, linkpath)));
}

int symlinkat(const char *target, int dirfd, const char *linkpath)
{
    WRAP_INT(RW_CALL_SYMLINK, REAL(symlinkat)(target, dirfd, linkpath),
             (KEY(&k_, dirfd), key_two(&k_, target, linkpath)));
}

int link(const char *from, const char *to)
{
    WRAP_INT(RW_CALL_LINK, REAL(link)(from, to),
             (KEY(&k_, AT_FDCWD, AT_FDCWD, 0), key_two(&k_, from, to)));
}

int linkat(int fromfd, const char *from, int tofd, const char *to, int flags)
{
    WRAP_INT(RW_CALL_LINK, REAL(linkat)(fromfd, from, tofd, to, flags),
             (KEY(&k_, fromfd, tofd, flags), key_two(&k_, from, to)));
}

mode_t umask(mode_t mask)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF))
        return REAL(umask)(mask);
    rw_in_key k;
    KEY(&k, (int64_t)mask);
    if (m == RW_IN_REPLAY)
        return (mode_t)rw_in_replayed(RW_CALL_UMASK, &k, NULL, 0);
    mode_t r = REAL(umask)(mask);
    return (mode_t)rw_in_logged(RW_CALL_UMASK, &k, r, errno, NULL, 0);
}

int chdir(const char *path)
{
    WRAP_INT(RW_CALL_CHDIR, REAL(chdir)(path), (rw_in_key_init(&k_), rw_in_key_str(&k_, path)));
}

int fchdir(int fd)
{
    WRAP_INT(RW_CALL_CHDIR, REAL(fchdir)(fd), KEY(&k_, fd));
}

int flock(int fd, int op)
{
    WRAP_INT(RW_CALL_FLOCK, REAL(flock)(fd, op), KEY(&k_, fd, op));
}

int lockf(int fd, int cmd, off_t len)
{
    WRAP_INT(RW_CALL_FLOCK, REAL(lockf64)(fd, cmd, len), KEY(&k_, fd, cmd, (int64_t)len));
}

int lockf64(int fd, int cmd, off64_t len)
{
    WRAP_INT(RW_CALL_FLOCK, REAL(lockf64)(fd, cmd, len), KEY(&k_, fd, cmd, (int64_t)len));
}

/* Space for a file: performed when recording, not on replay (the descriptor is the
 * recording's there); posix_fallocate returns an error number, fallocate -1 and
 * errno, as recorded. */
int posix_fallocate(int fd, off_t off, off_t len)
{
    WRAP_INT(RW_CALL_FALLOCATE, REAL(posix_fallocate64)(fd, off, len),
             KEY(&k_, fd, -1, (int64_t)off, (int64_t)len));
}

int posix_fallocate64(int fd, off64_t off, off64_t len)
{
    WRAP_INT(RW_CALL_FALLOCATE, REAL(posix_fallocate64)(fd, off, len),
             KEY(&k_, fd, -1, (int64_t)off, (int64_t)len));
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
    WRAP_INT(RW_CALL_FALLOCATE, REAL(fallocate64)(fd, mode, off, len),
             KEY(&k_, fd, mode, (int64_t)off, (int64_t)len));
}

int fallocate64(int fd, int mode, off64_t off, off64_t len)
{
    WRAP_INT(RW_CALL_FALLOCATE, REAL(fallocate64)(fd, mode, off, len),
             KEY(&k_, fd, mode, (int64_t)off, (int64_t)len));
}

int posix_fadvise(int fd, off_t off, off_t len, int advice)
{
    WRAP_INT(RW_CALL_POSIX_FADVISE, REAL(posix_fadvise64)(fd, off, len, advice),
             KEY(&k_, fd, (int64_t)off, (int64_t)len, advice));
}

int posix_fadvise64(int fd, off64_t off, off64_t len, int advice)
{
    WRAP_INT(RW_CALL_POSIX_FADVISE, REAL(posix_fadvise64)(fd, off, len, advice),
             KEY(&k_, fd, (int64_t)off, (int64_t)len, advice));
}

int mkfifo(const char *path, mode_t mode)
{
    WRAP_INT(RW_CALL_MKFIFO, REAL(mkfifo)(path, mode),
             KEYP(&k_, path, AT_FDCWD, (int64_t)(mode | S_IFIFO), 0));
}

int mkfifoat(int dirfd, const char *path, mode_t mode)
{
    WRAP_INT(RW_CALL_MKFIFO, REAL(mkfifoat)(dirfd, path, mode),
             KEYP(&k_, path, dirfd, (int64_t)(mode | S_IFIFO), 0));
}

int mknod(const char *path, mode_t mode, dev_t dev)
{
    WRAP_INT(RW_CALL_MKFIFO, REAL(mknod)(path, mode, dev),
             KEYP(&k_, path, AT_FDCWD, (int64_t)mode, (int64_t)dev));
}

int mknodat(int dirfd, const char *path, mode_t mode, dev_t dev)
{
    WRAP_INT(RW_CALL_MKFIFO, REAL(mknodat)(dirfd, path, mode, dev),
             KEYP(&k_, path, dirfd, (int64_t)mode, (int64_t)dev));
}

/* ---- extended attributes --------------------------------------------------------- */

enum { XA_GET, XA_LGET, XA_FGET, XA_LIST, XA_LLIST, XA_FLIST, XA_SET, XA_LSET, XA_FSET,
       XA_REMOVE, XA_LREMOVE, XA_FREMOVE };

static void key_xattr(rw_in_key *k, int kind, int fd, size_t size, int flags,
                      const char *name, const char *path)
{
    KEY(k, kind, fd, (int64_t)size, flags);
    key_two(k, name, path);
}

/* The readers: value (size bytes) gets the value or the list; size 0 asks the length. */
#define WRAP_XREAD(realexpr, kind, fd, name, path)                                         \
    WRAP_OUT(ssize_t, RW_CALL_XATTR, realexpr, key_xattr(&k_, kind, fd, size, 0, name, path), \
             size ? value : NULL, size, size && r_ > 0 ? (size_t)r_ : 0)

ssize_t getxattr(const char *path, const char *name, void *value, size_t size)
{
    WRAP_XREAD(REAL(getxattr)(path, name, value, size), XA_GET, -1, name, path);
}

ssize_t lgetxattr(const char *path, const char *name, void *value, size_t size)
{
    WRAP_XREAD(REAL(lgetxattr)(path, name, value, size), XA_LGET, -1, name, path);
}

ssize_t fgetxattr(int fd, const char *name, void *value, size_t size)
{
    WRAP_XREAD(REAL(fgetxattr)(fd, name, value, size), XA_FGET, fd, name, NULL);
}

ssize_t listxattr(const char *path, char *value, size_t size)
{
    WRAP_XREAD(REAL(listxattr)(path, value, size), XA_LIST, -1, NULL, path);
}

ssize_t llistxattr(const char *path, char *value, size_t size)
{
    WRAP_XREAD(REAL(llistxattr)(path, value, size), XA_LLIST, -1, NULL, path);
}

ssize_t flistxattr(int fd, char *value, size_t size)
{
    WRAP_XREAD(REAL(flistxattr)(fd, value, size), XA_FLIST, fd, NULL, NULL);
}

int setxattr(const char *path, const char *name, const void *value, size_t size, int flags)
{
    WRAP_INT(RW_CALL_XATTR, REAL(setxattr)(path, name, value, size, flags),
             key_xattr(&k_, XA_SET, -1, size, flags, name, path));
}

int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)
{
    WRAP_INT(RW_CALL_XATTR, REAL(lsetxattr)(path, name, value, size, flags),
             key_xattr(&k_, XA_LSET, -1, size, flags, name, path));
}

int fsetxattr(int fd, const char *name, const void *value, size_t size, int flags)
{
    WRAP_INT(RW_CALL_XATTR, REAL(fsetxattr)(fd, name, value, size, flags),
             key_xattr(&k_, XA_FSET, fd, size, flags, name, NULL));
}

int removexattr(const char *path, const char *name)
{
    WRAP_INT(RW_CALL_XATTR, REAL(removexattr)(path, name),
             key_xattr(&k_, XA_REMOVE, -1, 0, 0, name, path));
}

int lremovexattr(const char *path, const char *name)
{
    WRAP_INT(RW_CALL_XATTR, REAL(lremovexattr)(path, name),
             key_xattr(&k_, XA_LREMOVE, -1, 0, 0, name, path));
}

int fremovexattr(int fd, const char *name)
{
    WRAP_INT(RW_CALL_XATTR, REAL(fremovexattr)(fd, name),
             key_xattr(&k_, XA_FREMOVE, fd, 0, 0, name, NULL));
}

/* ---- copies between descriptors ----------------------------------------------------- */

/* copy_file_range, and splice (os.splice): data moves between two descriptors in the
 * kernel; the count moved and the offsets after (when the caller gave them, two int64s,
 * -1: not given) are what the program learns. Not performed on replay (splice's
 * descriptors are the recorded numbers: the sandbox stops it); copy_file_range moves a
 * local copy's position as a read would (seek_local). */
typedef ssize_t move_fn(int, off64_t *, int, off64_t *, size_t, unsigned int);

static ssize_t moved(uint32_t call, move_fn *real, int seek_local, int in, off64_t *inoff,
                     int out, off64_t *outoff, size_t len, unsigned int flags)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF))
        return real(in, inoff, out, outoff, len, flags);
    rw_in_key k;
    KEY(&k, in, inoff ? *inoff : -1, out, outoff ? *outoff : -1, (int64_t)len, (int64_t)flags);
    int64_t after[2];
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(call, &k);
        if (g->data_len == sizeof after) {
            memcpy(after, g->data, sizeof after);
            if (inoff)
                *inoff = after[0];
            if (outoff)
                *outoff = after[1];
        }
        int lfd = seek_local ? rw_files_local(in) : -1;
        if (lfd >= 0 && !inoff && g->result > 0)
            REAL(lseek64)(lfd, g->result, SEEK_CUR);
        return (ssize_t)rw_in_return(g);
    }
    ssize_t r = real(in, inoff, out, outoff, len, flags);
    int e = errno;
    after[0] = inoff ? *inoff : -1;
    after[1] = outoff ? *outoff : -1;
    return (ssize_t)rw_in_logged(call, &k, r, e, after, sizeof after);
}

ssize_t copy_file_range(int in, off64_t *inoff, int out, off64_t *outoff, size_t len,
                        unsigned int flags)
{
    return moved(RW_CALL_COPY_FILE_RANGE, REAL(copy_file_range), 1, in, inoff, out, outoff,
                 len, flags);
}

ssize_t splice(int in, off64_t *inoff, int out, off64_t *outoff, size_t len,
               unsigned int flags)
{
    return moved(RW_CALL_SPLICE, REAL(splice), 0, in, inoff, out, outoff, len, flags);
}

/* os.memfd_create: a descriptor, as open gives one (on replay the recorded number,
 * with nothing behind it: what is read from it comes from the log). */
int memfd_create(const char *name, unsigned int flags)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF))
        return REAL(memfd_create)(name, flags);
    rw_in_key k;
    KEYP(&k, name, (int64_t)flags);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_MEMFD_CREATE, &k);
        if (g->result >= 0)
            rw_files_set_local((int)g->result, -1);
        return (int)rw_in_return(g);
    }
    int r = REAL(memfd_create)(name, flags);
    int e = errno;
    if (r >= 0)
        rw_files_mark(r, 0);
    return (int)rw_in_logged(RW_CALL_MEMFD_CREATE, &k, r, e, NULL, 0);
}

ssize_t tee(int in, int out, size_t len, unsigned int flags)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF))
        return REAL(tee)(in, out, len, flags);
    rw_in_key k;
    KEY(&k, in, -2, out, -2, (int64_t)len, (int64_t)flags); /* -2: tee, not splice */
    if (m == RW_IN_REPLAY)
        return (ssize_t)rw_in_return(rw_in_take(RW_CALL_SPLICE, &k));
    ssize_t r = REAL(tee)(in, out, len, flags);
    return (ssize_t)rw_in_logged(RW_CALL_SPLICE, &k, r, errno, NULL, 0);
}

static ssize_t sendfile_any(int out, int in, off_t *off, size_t count)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF))
        return REAL(sendfile64)(out, in, off, count);
    rw_in_key k;
    KEY(&k, out, in, off ? (int64_t)*off : -1, (int64_t)count);
    int64_t after;
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_SENDFILE, &k);
        if (off && g->data_len == sizeof after) {
            memcpy(&after, g->data, sizeof after);
            *off = (off_t)after;
        }
        int lfd = rw_files_local(in);
        if (lfd >= 0 && !off && g->result > 0)
            REAL(lseek64)(lfd, g->result, SEEK_CUR);
        return (ssize_t)rw_in_return(g);
    }
    ssize_t r = REAL(sendfile64)(out, in, off, count);
    int e = errno;
    after = off ? (int64_t)*off : -1;
    return (ssize_t)rw_in_logged(RW_CALL_SENDFILE, &k, r, e, &after, sizeof after);
}

ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
    return sendfile_any(out, in, off, count);
}

ssize_t sendfile64(int out, int in, off64_t *off, size_t count)
{
    return sendfile_any(out, in, off, count);
}

/* ---- mmap of a file ----------------------------------------------------------------- */

/* A mapping of more than this many bytes of a file with holes (a sparse file: a test
 * writes a few bytes 4 GiB into it) logs only its data extents (RW_INPUT_F_EXTENTS):
 * all its bytes would be more than a record keeps (RW_INPUT_DATA_MAX). */
#define MMAP_EXTENTS_MIN (1u << 20)
#define MMAP_EXTENTS_MAX 4096

/* Record: the data extents of fd's bytes [off, off + n) (SEEK_DATA/SEEK_HOLE, the
 * descriptor's offset put back), packed with the mapping p's bytes there into a buffer
 * of *size bytes (rw_sys_free it). NULL when the file has no holes there, the file
 * system cannot tell, or there are too many extents: then all n bytes are logged. */
static uint8_t *mmap_extents(int fd, off_t off, size_t n, const uint8_t *p, size_t *size)
{
    off_t at = REAL(lseek64)(fd, 0, SEEK_CUR);
    if (at < 0)
        return NULL;
    uint64_t *ext = rw_sys_malloc(2 * MMAP_EXTENTS_MAX * sizeof *ext); /* a thread's stack
                                                                          * may be small */
    if (!ext)
        return NULL;
    size_t next = 0, bytes = 0;
    off_t pos = off, end = off + (off_t)n;
    int ok = 1;
    while (pos < end) {
        off_t d = REAL(lseek64)(fd, pos, SEEK_DATA);
        if (d < 0) {
            ok = errno == ENXIO; /* no data after pos */
            break;
        }
        if (d >= end)
            break;
        off_t h = REAL(lseek64)(fd, d, SEEK_HOLE);
        if (h < 0 || h <= d || next == MMAP_EXTENTS_MAX) {
            ok = 0;
            break;
        }
        if (h > end)
            h = end;
        ext[2 * next] = (uint64_t)(d - off);
        ext[2 * next + 1] = (uint64_t)(h - d);
        next++;
        bytes += (size_t)(h - d);
        pos = h;
    }
    REAL(lseek64)(fd, at, SEEK_SET);
    size_t head = sizeof(uint64_t) * (1 + 2 * next);
    uint8_t *buf = ok && bytes < n ? rw_sys_malloc(head + bytes) : NULL;
    if (!buf) {
        rw_sys_free(ext);
        return NULL;
    }
    uint64_t count = next;
    memcpy(buf, &count, sizeof count);
    memcpy(buf + sizeof count, ext, head - sizeof count);
    uint8_t *q = buf + head;
    for (size_t i = 0; i < next; i++) {
        memcpy(q, p + ext[2 * i], ext[2 * i + 1]);
        q += ext[2 * i + 1];
    }
    rw_sys_free(ext);
    *size = head + bytes;
    return buf;
}

/* Replay: puts a mapping's logged bytes (whole, or as extents) into p (len bytes, zero
 * filled); 0 when the record's extents do not fit in it. */
static int mmap_fill(uint8_t *p, size_t len, const rw_input *g)
{
    if (!(g->flags & RW_INPUT_F_EXTENTS)) {
        memcpy(p, g->data, g->data_len < len ? g->data_len : len);
        return 1;
    }
    uint64_t count;
    if (g->data_len < sizeof count)
        return 0;
    memcpy(&count, g->data, sizeof count);
    if (count > (g->data_len - sizeof count) / (2 * sizeof(uint64_t)))
        return 0;
    const uint8_t *q = g->data + sizeof count + count * 2 * sizeof(uint64_t);
    const uint8_t *end = g->data + g->data_len;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t e[2];
        memcpy(e, g->data + sizeof count + i * sizeof e, sizeof e);
        if (e[0] > len || e[1] > len - e[0] || e[1] > (uint64_t)(end - q))
            return 0;
        memcpy(p + e[0], q, e[1]);
        q += e[1];
    }
    return 1;
}

/* A mapping whose changes by other processes can matter (shmem.c follows the ones the
 * recording followed, by their recorded address). */
static int shared_writable(int prot, int flags)
{
    return (flags & MAP_TYPE) != MAP_PRIVATE && (prot & PROT_READ) && (prot & PROT_WRITE);
}

static void *mmap_file(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    rw_in_key k;
    KEY(&k, (int64_t)len, prot, flags, fd, (int64_t)off);
    if (rw_in_mode() == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_MMAP_FILE, &k);
        if ((void *)(intptr_t)g->result == MAP_FAILED)
            return (void *)(intptr_t)rw_in_return(g);
        void *hint = addr ? addr : (void *)(intptr_t)g->result;
        int fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
        void *p;
        if ((g->flags & RW_INPUT_F_TRUNCATED) && !(g->flags & RW_INPUT_F_INSTALL)) {
            char msg[200];
            snprintf(msg, sizeof msg, "the recording kept only %zu bytes of a %zu-byte mapping "
                     "of descriptor %d (too big for a record): its bytes are not known",
                     g->data_len, len, fd);
            rw_in_diverge(msg, g);
        }
        if (g->flags & RW_INPUT_F_INSTALL) {
            p = REAL(mmap64)(hint, len, prot, (flags & ~(MAP_SHARED | MAP_SHARED_VALIDATE)) |
                                                  MAP_PRIVATE,
                             local_for(fd, g), off);
        } else {
            p = REAL(mmap64)(hint, len, prot | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | fixed,
                             -1, 0);
            if (p != MAP_FAILED) {
                if (!mmap_fill(p, len, g))
                    rw_in_diverge("a file mapping's record holds extents beyond the mapping "
                                  "(a damaged or forged trace)", g);
                if (!(prot & PROT_WRITE))
                    mprotect(p, len, prot);
            }
        }
        if (p == MAP_FAILED) {
            char msg[200];
            snprintf(msg, sizeof msg, "mapping %zu bytes of descriptor %d failed (%s)", len, fd,
                     strerror(errno));
            rw_in_diverge(msg, g);
        }
        /* What other processes wrote to it comes in SHARED_MEM records, and whether it
         * maps an object that another mapping maps in a SHARED_MAP record (shmem.c). */
        if (shared_writable(prot, flags) &&
            rw_shm_follow(p, len, (uintptr_t)g->result, NULL, NULL, 0)) {
            int e = g->err; /* g goes with the next take */
            const rw_input *a = rw_in_take_optional(RW_CALL_SHARED_MAP, NULL);
            if (a && !rw_shm_alias(a))
                rw_in_diverge("a shared mapping's record names mappings the replay does not "
                              "have (a damaged or forged trace)", a);
            errno = e;
            return p;
        }
        rw_in_return(g);
        return p;
    }
    void *p = REAL(mmap64)(addr, len, prot, flags, fd, off);
    int e = errno;
    if (p == MAP_FAILED) {
        rw_in_put(RW_CALL_MMAP_FILE, (int64_t)(intptr_t)p, e, &k, NULL, 0);
    } else if (rw_files_is_install(fd)) {
        rw_in_put_flags(RW_CALL_MMAP_FILE, (int64_t)(intptr_t)p, e, &k, NULL, 0,
                        RW_INPUT_F_INSTALL);
    } else {
        /* Only the bytes up to the file's end exist (the pages past it fault). */
        struct stat st;
        size_t n = 0;
        if ((prot & PROT_READ) && REAL(fstat)(fd, &st) == 0 && st.st_size > off)
            n = (size_t)(st.st_size - off) < len ? (size_t)(st.st_size - off) : len;
        /* A followed mapping logs the bytes its shadow starts from: another process may
         * write between two reads of them. */
        int follow = n && rw_shm_logged && rw_shm_follows(prot, flags, &st, fd);
        uint8_t *shadow = follow ? rw_shm_snapshot(p, n) : NULL;
        if (follow && !shadow)
            rw_shm_missed(n); /* too big to follow */
        const uint8_t *bytes = shadow ? shadow : p;
        size_t size = 0;
        uint8_t *ext = n > MMAP_EXTENTS_MIN ? mmap_extents(fd, off, n, bytes, &size) : NULL;
        if (ext) {
            rw_in_put_flags(RW_CALL_MMAP_FILE, (int64_t)(intptr_t)p, e, &k, ext, size,
                            RW_INPUT_F_EXTENTS);
            rw_sys_free(ext);
        } else {
            rw_in_put(RW_CALL_MMAP_FILE, (int64_t)(intptr_t)p, e, &k, n ? bytes : NULL, n);
        }
        if (shadow)
            rw_shm_follow(p, n, (uintptr_t)p, shadow, &st, (int64_t)off);
    }
    errno = e;
    return p;
}

/* Anonymous shared memory (mmap.mmap(-1, n), which a fork shares with the child).
 * Record: logged (fd -1, no data) and followed (shmem.c). Replay: private, at the
 * recorded address when the trace logged it: the engine's checkpoints are forks, and
 * a mapping they shared would carry the engine's later writes back into them. */
static void *mmap_anon_shared(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(mmap64)(addr, len, prot, flags, fd, off);
    /* An evaluation's (p mmap.mmap(-1, n)) is its own: no record to take. */
    if (m == RW_IN_REPLAY && (!rw_shm_logs_anon() || atomic_load_explicit(
                                  &rw_in_global, memory_order_relaxed) == RW_IN_EVAL))
        return REAL(mmap64)(addr, len, prot, (flags & ~MAP_TYPE) | MAP_PRIVATE, fd, off);
    if (m == RW_IN_RECORD && !rw_shm_logged)
        return REAL(mmap64)(addr, len, prot, flags, fd, off);
    rw_in_key k;
    KEY(&k, (int64_t)len, prot, flags, fd, (int64_t)off);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_MMAP_FILE, &k);
        if ((void *)(intptr_t)g->result == MAP_FAILED)
            return (void *)(intptr_t)rw_in_return(g);
        void *hint = addr ? addr : (void *)(intptr_t)g->result;
        void *p = REAL(mmap64)(hint, len, prot, (flags & ~MAP_TYPE) | MAP_PRIVATE, fd, off);
        if (p == MAP_FAILED) {
            char msg[200];
            snprintf(msg, sizeof msg, "mapping %zu bytes of shared memory failed (%s)", len,
                     strerror(errno));
            rw_in_diverge(msg, g);
        }
        if (shared_writable(prot, flags))
            rw_shm_follow(p, len, (uintptr_t)g->result, NULL, NULL, 0);
        rw_in_return(g);
        return p;
    }
    void *p = REAL(mmap64)(addr, len, prot, flags, fd, off);
    int e = errno;
    rw_in_put(RW_CALL_MMAP_FILE, (int64_t)(intptr_t)p, e, &k, NULL, 0);
    if (p != MAP_FAILED && rw_shm_follows(prot, flags, NULL, -1)) {
        uint8_t *shadow = rw_shm_snapshot_room(len) ? rw_sys_calloc(1, len) : NULL;
        if (shadow)
            rw_shm_follow(p, len, (uintptr_t)p, shadow, NULL, 0);
        else
            rw_shm_missed(len);
    }
    errno = e;
    return p;
}

static void *mmap_any(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (RW_LIKELY(fd < 0 || (flags & MAP_ANONYMOUS))) {
        if (RW_LIKELY((flags & MAP_TYPE) == MAP_PRIVATE))
            return REAL(mmap64)(addr, len, prot, flags, fd, off);
        return mmap_anon_shared(addr, len, prot, flags, fd, off);
    }
    if (rw_in_mode() == RW_IN_OFF)
        return REAL(mmap64)(addr, len, prot, flags, fd, off);
    return mmap_file(addr, len, prot, flags, fd, off);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return mmap_any(addr, len, prot, flags, fd, off);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
    return mmap_any(addr, len, prot, flags, fd, off);
}
