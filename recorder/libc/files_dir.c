/* Input capture for directory streams (files.c has the rules and the other file calls).
 * Record: the C library's DIR, each one opened in record mode numbered (1, 2, ... in
 * opening order, the handle a READDIR key names; logged with the opening). Replay: DIR
 * handles of our own from a fixed pool, never dereferenced by anyone but these
 * wrappers, numbered as the recording's (two threads that open streams without the GIL,
 * OpenSSL looking up a certificate directory, open them in either order); every entry
 * comes from the log.
 *
 * Wraps: opendir fdopendir readdir readdir64 closedir dirfd rewinddir.
 *
 *   call        key          result                 data
 *   OPENDIR     path         1, or 0 (errno)        int64 dirfd of the stream, int64
 *                                                   its handle number
 *   FDOPENDIR   fd           1, or 0 (errno)        int64 fd, int64 the handle number
 *   READDIR     handle       1 per entry, 0 at the  d_ino (8 bytes), d_type (1 byte),
 *                            end or on an error     the name
 *   CLOSEDIR    handle       0/-1                   -
 * dirfd and rewinddir log nothing: the stream's descriptor is in its OPENDIR record,
 * and rewinddir has no result (the READDIR records that follow say what it did).
 *
 * Record: the entries of the recording's own trace files are left out of a listing of
 * the directory they are written to (rw_dir_hide_traces), and rewind's own descriptors
 * out of a listing of the process's (/proc/self/fd, /dev/fd), before they are logged:
 * the replay serves the same listing.
 */
#include "files_int.h"
#include "libc.h"

#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/stat.h>

#define DIRS 256 /* streams open at once that are followed (record) or served (replay) */

/* What a recorded listing leaves out: nothing, the trace files (in their directory),
 * rewind's own descriptors (in a listing of the process's). */
enum { HIDE_NONE, HIDE_TRACES, HIDE_OWN_FDS };

/* A replayed stream. */
typedef struct fake_dir {
    int used;
    int fd;      /* the recorded descriptor */
    int from_fd; /* fdopendir: closing the stream closes the program's fd */
    int64_t num;
    struct dirent64 ent; /* what readdir returned last */
} fake_dir;

/* The file's state. Global because wrappers get no context. real: written once
 * (constructor or first call). The rest is guarded by mu (these calls are not
 * async-signal-safe in the C library either):
 *  - next: the last handle number given; it starts again from 1 whenever no followed
 *    stream is open, so that the numbers depend only on the calls (the same in replay,
 *    and in a test that records and replays in one process).
 *  - rec[0..nrec): record, the streams opened in record mode and their numbers.
 *  - pool: replay, the streams handed out (used = 1). */
static struct dir_state {
    struct {
        __typeof__(opendir) *opendir;
        __typeof__(fdopendir) *fdopendir;
        __typeof__(readdir) *readdir;
        __typeof__(readdir64) *readdir64;
        __typeof__(closedir) *closedir;
        __typeof__(dirfd) *dirfd;
        __typeof__(rewinddir) *rewinddir;
    } real;
    pthread_mutex_t mu;
    int64_t next;
    struct {
        DIR *d;
        int64_t num;
        int fd;
        int from_fd;
        int hide; /* HIDE_*: what this listing leaves out */
    } rec[DIRS];
    size_t nrec;
    fake_dir pool[DIRS];
    size_t nfake; /* pool entries in use */
} dst = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void resolve(void)
{
    dst.real.opendir = (__typeof__(opendir) *)dlsym(RTLD_NEXT, "opendir");
    dst.real.fdopendir = (__typeof__(fdopendir) *)dlsym(RTLD_NEXT, "fdopendir");
    dst.real.readdir = (__typeof__(readdir) *)dlsym(RTLD_NEXT, "readdir");
    dst.real.readdir64 = (__typeof__(readdir64) *)dlsym(RTLD_NEXT, "readdir64");
    dst.real.closedir = (__typeof__(closedir) *)dlsym(RTLD_NEXT, "closedir");
    dst.real.dirfd = (__typeof__(dirfd) *)dlsym(RTLD_NEXT, "dirfd");
    dst.real.rewinddir = (__typeof__(rewinddir) *)dlsym(RTLD_NEXT, "rewinddir");
}

__attribute__((constructor)) static void dir_init(void)
{
    resolve();
}

#define REAL(n) (RW_LIKELY(dst.real.n != NULL) ? dst.real.n : (resolve(), dst.real.n))

/* Record: the trace files hidden from listings (rw_dir_hide_traces). Written before the
 * program runs, read-only while it does. */
static struct {
    int on;
    dev_t dev; /* the directory they are in */
    ino_t ino;
    char root[256];
    size_t rootlen;
} hid;

/* The length of name without its trailing ".<digits>" and ".exec" parts. */
static size_t family_root_len(const char *name, size_t len)
{
    for (;;) {
        size_t i = len;
        while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
            i--;
        if (i < len && i > 1 && name[i - 1] == '.') {
            len = i - 1;
            continue;
        }
        if (len > 5 && !memcmp(name + len - 5, ".exec", 5)) {
            len -= 5;
            continue;
        }
        return len;
    }
}

void rw_dir_hide_traces(const char *trace)
{
    hid.on = 0;
    if (!trace)
        return;
    const char *slash = strrchr(trace, '/');
    const char *base = slash ? slash + 1 : trace;
    size_t len = strlen(base);
    if (len <= 4 || strcmp(base + len - 4, ".rwd"))
        return; /* a name of the user's own making: only family names are hidden */
    len = family_root_len(base, len - 4);
    if (len == 0 || len >= sizeof hid.root)
        return;
    char dir[4096];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == trace)
        snprintf(dir, sizeof dir, "/");
    else if ((size_t)snprintf(dir, sizeof dir, "%.*s", (int)(slash - trace), trace) >= sizeof dir)
        return;
    struct stat st;
    rw_in_pause(); /* the recorder's own call, not the program's input */
    int r = stat(dir, &st);
    rw_in_resume();
    if (r != 0)
        return;
    memcpy(hid.root, base, len);
    hid.root[len] = '\0';
    hid.rootlen = len;
    hid.dev = st.st_dev;
    hid.ino = st.st_ino;
    hid.on = 1;
}

/* Whether directory stream fd is the traces' directory (record). */
static int hides(int fd)
{
    if (!hid.on || fd < 0)
        return 0;
    struct stat st;
    rw_in_pause();
    int r = fstat(fd, &st);
    rw_in_resume();
    return r == 0 && st.st_dev == hid.dev && st.st_ino == hid.ino;
}

/* Whether directory stream fd lists this process's descriptors (/proc/self/fd,
 * /dev/fd, /proc/PID/fd, /proc/PID/task/TID/fd): rewind's own are left out (record). */
static int lists_own_fds(int fd)
{
    char link[64], path[128];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    rw_in_pause();
    ssize_t n = readlink(link, path, sizeof path - 1);
    long pid = (long)getpid();
    rw_in_resume();
    if (n <= 0)
        return 0;
    path[n] = '\0';
    char want[32];
    int w = snprintf(want, sizeof want, "/proc/%ld/", pid);
    if (strncmp(path, want, (size_t)w))
        return 0;
    const char *rest = path + w;
    if (!strcmp(rest, "fd"))
        return 1;
    if (strncmp(rest, "task/", 5))
        return 0;
    rest += 5;
    while (*rest >= '0' && *rest <= '9')
        rest++;
    return !strcmp(rest, "/fd");
}

/* Whether entry name of a descriptor listing is one of rewind's own descriptors. */
static int own_fd_name(const char *name)
{
    if (!*name)
        return 0;
    long fd = 0;
    for (const char *c = name; *c; c++) {
        if (*c < '0' || *c > '9' || fd > 1 << 20)
            return 0;
        fd = fd * 10 + (*c - '0');
    }
    return rw_files_own_is((int)fd);
}

/* Whether entry name is one of the hidden trace files: R.rwd or R(.<digits>|.exec)+.rwd. */
static int hidden_name(const char *name)
{
    if (strncmp(name, hid.root, hid.rootlen))
        return 0;
    size_t len = strlen(name);
    if (len < hid.rootlen + 4 || strcmp(name + len - 4, ".rwd"))
        return 0;
    return family_root_len(name, len - 4) == hid.rootlen;
}

/* The replayed stream d is, or NULL when d is the C library's. */
static fake_dir *fake_of(DIR *d)
{
    uintptr_t p = (uintptr_t)d, lo = (uintptr_t)&dst.pool[0];
    if (p < lo || p >= (uintptr_t)&dst.pool[DIRS])
        return NULL;
    return (fake_dir *)d;
}

/* Record: the number of stream d (0: not followed), and its slot. */
static int64_t rec_find(DIR *d, size_t *slot)
{
    for (size_t i = 0; i < dst.nrec; i++)
        if (dst.rec[i].d == d) {
            if (slot)
                *slot = i;
            return dst.rec[i].num;
        }
    return 0;
}

/* The end of opendir/fdopendir. Record: d is the C library's result; replay: d is
 * ignored and the record decides. */
static DIR *opened(int m, uint32_t call, const rw_in_key *k, DIR *d, int e, int from_fd)
{
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(call, k);
        if (!g->result)
            return (DIR *)(rw_in_return(g), NULL);
        int64_t fd = -1, num = 0;
        if (g->data_len >= sizeof fd)
            memcpy(&fd, g->data, sizeof fd);
        if (g->data_len >= 2 * sizeof fd) /* older traces: the replay counts as they did */
            memcpy(&num, g->data + sizeof fd, sizeof num);
        pthread_mutex_lock(&dst.mu);
        fake_dir *f = NULL;
        for (size_t i = 0; i < DIRS && !f; i++)
            if (!dst.pool[i].used)
                f = &dst.pool[i];
        if (f) {
            if (dst.nfake++ == 0)
                dst.next = 0;
            memset(f, 0, sizeof *f);
            f->used = 1;
            f->fd = (int)fd;
            f->from_fd = from_fd;
            f->num = num > 0 ? num : ++dst.next;
        }
        pthread_mutex_unlock(&dst.mu);
        if (!f)
            rw_in_diverge("the replay has more directory streams open than it can serve", g);
        rw_in_return(g);
        return (DIR *)f;
    }
    int64_t fd_num[2] = {-1, 0}; /* the stream's descriptor and handle number */
    if (d) {
        int fd = REAL(dirfd)(d);
        fd_num[0] = fd;
        int hide = hides(fd)           ? HIDE_TRACES
                   : lists_own_fds(fd) ? HIDE_OWN_FDS
                                       : HIDE_NONE;
        pthread_mutex_lock(&dst.mu);
        if (dst.nrec == 0)
            dst.next = 0;
        int64_t num = fd_num[1] = ++dst.next;
        if (dst.nrec < DIRS) { /* beyond: its entries are not logged (nor replayed) */
            dst.rec[dst.nrec].d = d;
            dst.rec[dst.nrec].num = num;
            dst.rec[dst.nrec].fd = fd;
            dst.rec[dst.nrec].from_fd = from_fd;
            dst.rec[dst.nrec].hide = hide;
            dst.nrec++;
        }
        pthread_mutex_unlock(&dst.mu);
    }
    rw_in_put(call, d != NULL, e, k, d ? fd_num : NULL, d ? sizeof fd_num : 0);
    errno = e;
    return d;
}

DIR *opendir(const char *path)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF))
        return REAL(opendir)(path);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_str(&k, path);
    if (m == RW_IN_REPLAY)
        return opened(m, RW_CALL_OPENDIR, &k, NULL, 0, 0);
    DIR *d = REAL(opendir)(path);
    return opened(m, RW_CALL_OPENDIR, &k, d, errno, 0);
}

DIR *fdopendir(int fd)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF))
        return REAL(fdopendir)(fd);
    rw_in_key k;
    KEY(&k, fd);
    if (m == RW_IN_REPLAY)
        return opened(m, RW_CALL_FDOPENDIR, &k, NULL, 0, 1);
    DIR *d = REAL(fdopendir)(fd);
    return opened(m, RW_CALL_FDOPENDIR, &k, d, errno, 1);
}

/* The entry data: d_ino, d_type, the name. */
#define ENT_HEAD 9

static struct dirent64 *replay_entry(fake_dir *f)
{
    rw_in_key k;
    KEY(&k, f->num);
    const rw_input *g = rw_in_take(RW_CALL_READDIR, &k);
    if (!g->result || g->data_len < ENT_HEAD)
        return (struct dirent64 *)(rw_in_return(g), NULL);
    uint64_t ino;
    memcpy(&ino, g->data, 8);
    size_t len = g->data_len - ENT_HEAD;
    if (len >= sizeof f->ent.d_name)
        len = sizeof f->ent.d_name - 1;
    memset(&f->ent, 0, offsetof(struct dirent64, d_name));
    f->ent.d_ino = ino;
    f->ent.d_type = g->data[8];
    f->ent.d_reclen = sizeof f->ent;
    memcpy(f->ent.d_name, g->data + ENT_HEAD, len);
    f->ent.d_name[len] = '\0';
    rw_in_return(g);
    return &f->ent;
}

static void record_entry(int64_t num, const struct dirent64 *ent, int e)
{
    rw_in_key k;
    KEY(&k, num);
    uint8_t buf[ENT_HEAD + sizeof ent->d_name];
    size_t len = 0;
    if (ent) {
        uint64_t ino = ent->d_ino;
        memcpy(buf, &ino, 8);
        buf[8] = ent->d_type;
        len = strnlen(ent->d_name, sizeof ent->d_name);
        memcpy(buf + ENT_HEAD, ent->d_name, len);
        len += ENT_HEAD;
    }
    rw_in_put(RW_CALL_READDIR, ent != NULL, e, &k, ent ? buf : NULL, len);
    errno = e;
}

/* readdir and readdir64 (the same struct on x86_64). */
static struct dirent64 *readdir_any(DIR *d, int is64)
{
    fake_dir *f = fake_of(d);
    if (f)
        return rw_in_mode() == RW_IN_REPLAY ? replay_entry(f) : NULL;
    int m = rw_in_mode();
    if (m == RW_IN_RECORD) {
        size_t slot = 0;
        pthread_mutex_lock(&dst.mu);
        int64_t num = rec_find(d, &slot);
        int hide = num ? dst.rec[slot].hide : HIDE_NONE;
        pthread_mutex_unlock(&dst.mu);
        if (num) {
            struct dirent64 *ent;
            do
                ent = is64 ? REAL(readdir64)(d) : (struct dirent64 *)(void *)REAL(readdir)(d);
            while (ent && ((hide == HIDE_TRACES && hidden_name(ent->d_name)) ||
                           (hide == HIDE_OWN_FDS && own_fd_name(ent->d_name))));
            record_entry(num, ent, errno);
            return ent;
        }
    }
    return is64 ? REAL(readdir64)(d) : (struct dirent64 *)(void *)REAL(readdir)(d);
}

_Static_assert(sizeof(struct dirent) == sizeof(struct dirent64), "dirent64 is dirent");

struct dirent *readdir(DIR *d)
{
    return (struct dirent *)(void *)readdir_any(d, 0);
}

struct dirent64 *readdir64(DIR *d)
{
    return readdir_any(d, 1);
}

static void release(fake_dir *f)
{
    pthread_mutex_lock(&dst.mu);
    f->used = 0;
    dst.nfake--;
    pthread_mutex_unlock(&dst.mu);
}

int closedir(DIR *d)
{
    fake_dir *f = fake_of(d);
    if (f) {
        int r = 0;
        if (rw_in_mode() == RW_IN_REPLAY) {
            rw_in_key k;
            KEY(&k, f->num);
            const rw_input *g = rw_in_take(RW_CALL_CLOSEDIR, &k);
            if (f->from_fd)
                rw_files_set_local(f->fd, -1);
            r = (int)g->result;
            release(f);
            rw_in_return(g);
            return r;
        }
        release(f);
        return r;
    }
    int m = rw_in_mode();
    int64_t num = 0;
    int fd = -1;
    if (m == RW_IN_RECORD || dst.nrec) {
        size_t slot;
        pthread_mutex_lock(&dst.mu);
        num = rec_find(d, &slot);
        if (num) {
            fd = dst.rec[slot].fd;
            dst.rec[slot] = dst.rec[--dst.nrec];
        }
        pthread_mutex_unlock(&dst.mu);
    }
    int r = REAL(closedir)(d);
    int e = errno;
    if (num && m == RW_IN_RECORD) {
        rw_in_key k;
        KEY(&k, num);
        rw_files_mark(fd, 0);
        return (int)rw_in_logged(RW_CALL_CLOSEDIR, &k, r, e, NULL, 0);
    }
    errno = e;
    return r;
}

int dirfd(DIR *d)
{
    fake_dir *f = fake_of(d);
    return f ? f->fd : REAL(dirfd)(d);
}

void rewinddir(DIR *d)
{
    if (!fake_of(d))
        REAL(rewinddir)(d);
}
