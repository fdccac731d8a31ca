/* Shared memory that other processes write (docs/reexecution.md, "Shared memory"):
 * a writable MAP_SHARED mapping of anonymous memory, of a file on tmpfs (/dev/shm:
 * multiprocessing's Value, Array and heap, shared_memory.SharedMemory, memfd) or of an
 * unlinked file is followed. In the recording its bytes are compared with a copy (the
 * shadow) before every input call that can see another process's work (a read, a
 * wait, a poll, a process-shared semaphore...), and what changed is logged as a
 * SHARED_MEM record right before that call's record, in the calling thread's stream.
 * The replay, where no other process runs, writes those bytes into its own (private)
 * mapping when the thread takes its next input: at each such call the replayed
 * mapping holds what the recorded one held.
 *
 * A record is entries of (u64 the mapping's address in the recording, u64 offset,
 * u64 length, the bytes), in the machine's order. The program's own writes show up too
 * (the shadow cannot tell them apart); the replay makes them itself and writing them
 * again changes nothing.
 *
 * One object mapped twice by the program (a SharedMemory block attached by name where
 * it was made) is two views of one object in the recording: a SHARED_MAP record after
 * the second mapping's mmap record says so, and the replay puts both on one memfd
 * (rw_shm_alias); each copy the engine forks (a checkpoint, an evaluation) gives itself
 * its own memfd (rw_shm_unshare), so that nothing it writes reaches the others.
 *
 * Not followed: mappings of files on disk (another process writing such a file while
 * the program maps it is not seen), more than MAX_REGIONS mappings or FOLLOW_MAX bytes
 * in all, and changes that no input call comes after (a loop that spins on a shared
 * value without a call).
 */
#include "shmem.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "input.h"
#include "sysalloc.h"

#define MAX_REGIONS 256
#define FOLLOW_MAX ((size_t)64 << 20) /* bytes followed in all */
#define GRAIN 64                        /* bytes compared as one */
#define SCRATCH (64u << 10)
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

typedef struct region {
    uintptr_t addr;  /* where the mapping is in this process */
    uintptr_t rec;   /* where it was in the recording: its name in SHARED_MEM records */
    size_t len;      /* bytes followed from addr */
    uint8_t *shadow; /* record: the bytes as last logged */
    int alone;       /* record: anonymous, and no fork since it was made: nobody else
                      * can write it, so it is not compared */
    uint64_t dev, ino; /* record: the file it maps (0 0: anonymous) */
    uint64_t foff;     /* the file offset it maps from */
    int group;         /* replay: the memfd it shares with another mapping of the same
                        * object (rw_shm_alias), or -1 */
} region;

/* Written under mu by any program thread that maps, unmaps or logs; `n` is read
 * without it by rw_shm_active (a stale 0 only delays a sync to the next call). */
static struct shm_state {
    pthread_mutex_t mu;
    region r[MAX_REGIONS];
    _Atomic unsigned n;
    size_t total;
    int anon_logged; /* replay: the trace logs anonymous shared mappings */
    struct {
        int (*munmap)(void *, size_t);
        void *(*mremap)(void *, size_t, size_t, int, ...);
    } real;
} sh = {.mu = PTHREAD_MUTEX_INITIALIZER, .anon_logged = 1};

int rw_shm_logged = 1;

static _Atomic uint64_t missed; /* rw_shm_missed */

void rw_shm_missed(size_t len)
{
    atomic_fetch_add_explicit(&missed, len, memory_order_relaxed);
}

uint64_t rw_shm_missed_bytes(void)
{
    return atomic_load_explicit(&missed, memory_order_relaxed);
}

static void resolve(void)
{
    if (!sh.real.munmap)
        sh.real.munmap = (int (*)(void *, size_t))dlsym(RTLD_NEXT, "munmap");
    if (!sh.real.mremap)
        sh.real.mremap = (void *(*)(void *, size_t, size_t, int, ...))dlsym(RTLD_NEXT, "mremap");
}

__attribute__((constructor)) static void shm_init(void)
{
    resolve();
}

unsigned rw_shm_active(void)
{
    return atomic_load_explicit(&sh.n, memory_order_relaxed);
}

void rw_shm_anon_logged(int on)
{
    sh.anon_logged = on;
}

int rw_shm_logs_anon(void)
{
    return sh.anon_logged;
}

int rw_shm_follows(int prot, int flags, const struct stat *st, int fd)
{
    if ((flags & MAP_TYPE) == MAP_PRIVATE || (prot & (PROT_READ | PROT_WRITE)) !=
                                                 (PROT_READ | PROT_WRITE))
        return 0;
    if (!st)
        return 1;
    struct statfs fs;
    rw_in_pause(); /* rewind's look, not the program's input */
    int tmpfs = fstatfs(fd, &fs) == 0 && fs.f_type == TMPFS_MAGIC;
    rw_in_resume();
    return tmpfs || st->st_nlink == 0;
}

/* Reads len bytes at addr into out; 0 when some of them cannot be read (a page past a
 * file's end, an address no longer mapped): process_vm_readv reports them instead of
 * faulting. */
static int read_self(uintptr_t addr, uint8_t *out, size_t len)
{
    rw_in_pause(); /* getpid is rewind's here, not the program's input */
    pid_t self = getpid();
    rw_in_resume();
    while (len > 0) {
        struct iovec local = {out, len}, remote = {(void *)addr, len};
        ssize_t got = process_vm_readv(self, &local, 1, &remote, 1, 0);
        if (got <= 0)
            return 0;
        addr += (size_t)got;
        out += got;
        len -= (size_t)got;
    }
    return 1;
}

int rw_shm_snapshot_room(size_t len)
{
    return len > 0 && len <= FOLLOW_MAX;
}

uint8_t *rw_shm_snapshot(const void *addr, size_t len)
{
    if (!rw_shm_snapshot_room(len))
        return NULL;
    uint8_t *s = rw_sys_malloc(len);
    if (s && !read_self((uintptr_t)addr, s, len)) {
        rw_sys_free(s);
        return NULL;
    }
    return s;
}

/* The entry for a mapping at addr (this process's address), or -1; mu held. */
static int find(uintptr_t addr)
{
    unsigned n = atomic_load_explicit(&sh.n, memory_order_relaxed);
    for (unsigned i = 0; i < n; i++)
        if (sh.r[i].addr == addr)
            return (int)i;
    return -1;
}

static void remove_at(unsigned i)
{
    unsigned n = atomic_load_explicit(&sh.n, memory_order_relaxed);
    int group = sh.r[i].group, shared = 0;
    for (unsigned j = 0; j < n; j++)
        shared |= j != i && group >= 0 && sh.r[j].group == group;
    if (group >= 0 && !shared) {
        rw_in_pause();
        close(group); /* its last mapping: the object goes with it */
        rw_in_resume();
    }
    sh.total -= sh.r[i].len;
    rw_sys_free(sh.r[i].shadow);
    sh.r[i] = sh.r[n - 1];
    atomic_store_explicit(&sh.n, n - 1, memory_order_relaxed);
}

int rw_shm_follow(void *addr, size_t len, uintptr_t rec, uint8_t *shadow,
                  const struct stat *st, int64_t off)
{
    int ok = 0;
    uint64_t alias[4] = {0};
    pthread_mutex_lock(&sh.mu);
    int old = find((uintptr_t)addr);
    if (old >= 0)
        remove_at((unsigned)old); /* MAP_FIXED over one we followed */
    unsigned n = atomic_load_explicit(&sh.n, memory_order_relaxed);
    if (len > 0 && n < MAX_REGIONS && (!shadow || len <= FOLLOW_MAX - sh.total)) {
        region *g = &sh.r[n];
        *g = (region){(uintptr_t)addr, rec, len, shadow, shadow && !st, 0, 0, (uint64_t)off, -1};
        if (st) {
            g->dev = (uint64_t)st->st_dev;
            g->ino = (uint64_t)st->st_ino;
            /* Another mapping of the same object: its views (rw_shm_alias). */
            for (unsigned j = 0; j < n; j++)
                if (sh.r[j].ino == g->ino && sh.r[j].dev == g->dev) {
                    uint64_t a[4] = {g->rec, g->foff, sh.r[j].rec, sh.r[j].foff};
                    memcpy(alias, a, sizeof a);
                    break;
                }
        }
        sh.total += len;
        atomic_store_explicit(&sh.n, n + 1, memory_order_relaxed);
        ok = 1;
    }
    pthread_mutex_unlock(&sh.mu);
    if (!ok && shadow) {
        rw_sys_free(shadow);
        rw_shm_missed(len);
    }
    if (alias[0])
        rw_in_put(RW_CALL_SHARED_MAP, 0, 0, NULL, alias, sizeof alias);
    return ok;
}

/* Forgets the mappings inside [addr, addr + len) (an munmap or the old place of an
 * mremap); a mapping cut in part is forgotten whole (its rest is not followed). */
static void forget(uintptr_t addr, size_t len)
{
    if (!rw_shm_active())
        return;
    pthread_mutex_lock(&sh.mu);
    for (unsigned i = 0; i < atomic_load_explicit(&sh.n, memory_order_relaxed);) {
        region *g = &sh.r[i];
        if (g->addr < addr + len && addr < g->addr + g->len)
            remove_at(i);
        else
            i++;
    }
    pthread_mutex_unlock(&sh.mu);
}

int munmap(void *addr, size_t len)
{
    forget((uintptr_t)addr, len);
    if (RW_UNLIKELY(!sh.real.munmap))
        resolve();
    return sh.real.munmap(addr, len);
}

void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
    void *want = NULL;
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        want = va_arg(ap, void *);
        va_end(ap);
    }
    /* Followed again at the new place only where the recording and its replay agree
     * on it: a mapping that moves is forgotten (mmap.resize of anonymous memory). */
    forget((uintptr_t)old, old_len);
    if (RW_UNLIKELY(!sh.real.mremap))
        resolve();
    return sh.real.mremap(old, old_len, new_len, flags, want);
}

void rw_shm_forked(void)
{
    if (!rw_shm_active())
        return;
    pthread_mutex_lock(&sh.mu);
    for (unsigned i = 0; i < atomic_load_explicit(&sh.n, memory_order_relaxed); i++)
        sh.r[i].alone = 0;
    pthread_mutex_unlock(&sh.mu);
}

void rw_shm_restart_child(void)
{
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    sh.mu = fresh;
}

/* ---- record ------------------------------------------------------------------------ */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
    int failed;
} buf;

static void put(buf *b, const void *v, size_t n)
{
    if (b->failed)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n)
            cap *= 2;
        uint8_t *p = rw_sys_realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, v, n);
    b->n += n;
}

/* Appends the changed runs of region g (now: its bytes read at off, len of them) to
 * b, and takes them into its shadow. */
static void diff(buf *b, region *g, size_t off, const uint8_t *now, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t step = len - i < GRAIN ? len - i : GRAIN;
        if (!memcmp(now + i, g->shadow + off + i, step)) {
            i += step;
            continue;
        }
        size_t start = i;
        while (i < len) {
            step = len - i < GRAIN ? len - i : GRAIN;
            if (!memcmp(now + i, g->shadow + off + i, step))
                break;
            i += step;
        }
        uint64_t head[3] = {g->rec, off + start, i - start};
        put(b, head, sizeof head);
        put(b, now + start, i - start);
        memcpy(g->shadow + off + start, now + start, i - start);
    }
}

void rw_shm_sync(void)
{
    static __thread uint8_t *scratch;
    if (!scratch && !(scratch = rw_sys_malloc(SCRATCH)))
        return;
    buf b = {0};
    pthread_mutex_lock(&sh.mu);
    unsigned n = atomic_load_explicit(&sh.n, memory_order_relaxed);
    for (unsigned i = 0; i < n; i++) {
        region *g = &sh.r[i];
        for (size_t off = 0; !g->alone && off < g->len; off += SCRATCH) {
            size_t len = g->len - off < SCRATCH ? g->len - off : SCRATCH;
            if (!read_self(g->addr + off, scratch, len))
                break; /* past a file's end now: what is there cannot be read */
            diff(&b, g, off, scratch, len);
        }
    }
    pthread_mutex_unlock(&sh.mu);
    if (b.failed)
        rw_state_fail("out of memory logging shared memory");
    if (b.n > 0)
        rw_in_put(RW_CALL_SHARED_MEM, 0, 0, NULL, b.p, b.n);
    rw_sys_free(b.p);
}

/* Whether descriptor fd is a regular file's: reading one is not how processes meet
 * (and a program that reads a file in small blocks would pay a comparison for each). */
static int regular_file(int64_t fd)
{
    struct stat st;
    rw_in_pause(); /* rewind's look, not the program's input */
    int yes = fd >= 0 && fd <= INT32_MAX && fstat((int)fd, &st) == 0 && S_ISREG(st.st_mode);
    rw_in_resume();
    return yes;
}

int rw_shm_syncs_before(uint32_t call, const uint8_t *key, size_t key_len)
{
    int64_t fd = -1;
    switch (call) {
    case RW_CALL_READ:
    case RW_CALL_PREAD:
    case RW_CALL_READV: /* key: the descriptor first */
        if (key_len >= sizeof fd)
            memcpy(&fd, key, sizeof fd);
        return !regular_file(fd);
    case RW_CALL_SLEEP:
    case RW_CALL_SIGNAL:
    case RW_CALL_SIGWAIT:
    case RW_CALL_SEM_SHARED:
    case RW_CALL_SEM_GETVALUE:
        return 1;
    default: /* network, readiness, processes */
        return call >= 140 && call < 220;
    }
}

/* ---- replay ------------------------------------------------------------------------ */

/* Maps region g shared from fd at its file offset, in its place (mu held, paused). */
static int map_from(region *g, int fd)
{
    void *p = mmap((void *)g->addr, g->len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
                   fd, (off_t)g->foff);
    return p == (void *)g->addr;
}

/* Writes region g's bytes into fd at its file offset (mu held, paused). */
static int put_bytes(const region *g, int fd)
{
    for (size_t done = 0; done < g->len;) {
        ssize_t w = pwrite(fd, (const uint8_t *)g->addr + done, g->len - done,
                           (off_t)(g->foff + done));
        if (w <= 0)
            return 0;
        done += (size_t)w;
    }
    return 1;
}

int rw_shm_alias(const rw_input *g)
{
    uint64_t v[4];
    if (g->data_len != sizeof v)
        return 0;
    memcpy(v, g->data, sizeof v);
    uint64_t page = (uint64_t)getpagesize();
    int ok = 0;
    pthread_mutex_lock(&sh.mu);
    rw_in_pause();
    unsigned n = atomic_load_explicit(&sh.n, memory_order_relaxed), a = n, b = n;
    for (unsigned i = 0; i < n; i++) {
        if (sh.r[i].rec == v[2] && a == n)
            a = i;
        if (sh.r[i].rec == v[0])
            b = i;
    }
    if (a == n || b == n || a == b || v[1] % page || v[3] % page ||
        v[1] > (uint64_t)INT64_MAX - sh.r[b].len || v[3] > (uint64_t)INT64_MAX - sh.r[a].len ||
        sh.r[b].group >= 0)
        goto out;
    region *old = &sh.r[a], *view = &sh.r[b];
    uint64_t size = v[1] + view->len > v[3] + old->len ? v[1] + view->len : v[3] + old->len;
    int fd = old->group;
    if (fd < 0) {
        fd = memfd_create("rewind-shared", MFD_CLOEXEC);
        old->foff = v[3];
        if (fd < 0 || ftruncate(fd, (off_t)size) != 0 || !put_bytes(old, fd) ||
            !map_from(old, fd)) {
            if (fd >= 0)
                close(fd);
            goto out;
        }
        old->group = fd;
    } else {
        struct stat st;
        if (fstat(fd, &st) != 0 || ((uint64_t)st.st_size < size && ftruncate(fd, (off_t)size)))
            goto out;
    }
    /* The new mapping's bytes are the object's as the recording mapped it: they go in
     * whole, over what the first one holds there (the same, but for another process's
     * writes since the last call that logged them). */
    view->foff = v[1];
    if (!put_bytes(view, fd) || !map_from(view, fd))
        goto out;
    view->group = fd;
    ok = 1;
out:
    rw_in_resume();
    pthread_mutex_unlock(&sh.mu);
    return ok;
}

int rw_shm_grouped(void)
{
    unsigned n = atomic_load_explicit(&sh.n, memory_order_relaxed);
    for (unsigned i = 0; i < n; i++)
        if (sh.r[i].group >= 0)
            return 1;
    return 0;
}

void rw_shm_unshare(void)
{
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    sh.mu = fresh; /* only this thread runs in a new copy */
    unsigned n = atomic_load_explicit(&sh.n, memory_order_relaxed);
    int from[MAX_REGIONS];
    for (unsigned i = 0; i < n; i++)
        from[i] = sh.r[i].group;
    rw_in_pause();
    for (unsigned i = 0; i < n; i++) {
        int old = from[i], first = old >= 0;
        for (unsigned k = 0; first && k < i; k++)
            first = from[k] != old;
        if (!first)
            continue;
        struct stat st;
        int fd = memfd_create("rewind-shared", MFD_CLOEXEC);
        int ok = fd >= 0 && fstat(old, &st) == 0 && ftruncate(fd, st.st_size) == 0;
        static uint8_t chunk[64 << 10];
        for (off_t at = 0; ok && at < st.st_size;) {
            ssize_t r = pread(old, chunk, sizeof chunk, at);
            ok = r > 0 && pwrite(fd, chunk, (size_t)r, at) == r;
            at += r > 0 ? r : 0;
        }
        for (unsigned j = i; j < n; j++) {
            if (from[j] != old)
                continue;
            /* A copy that cannot have its own object keeps each mapping's bytes
             * privately (the views no longer see each other's writes). */
            if (!ok || !map_from(&sh.r[j], fd))
                mmap((void *)sh.r[j].addr, sh.r[j].len, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_FIXED, old, (off_t)sh.r[j].foff);
            sh.r[j].group = ok ? fd : -1;
        }
        close(old);
        if (!ok && fd >= 0)
            close(fd);
    }
    rw_in_resume();
}

int rw_shm_apply(const rw_input *g)
{
    const uint8_t *p = g->data, *end = g->data + g->data_len;
    pthread_mutex_lock(&sh.mu);
    while (p < end) {
        uint64_t head[3];
        if ((size_t)(end - p) < sizeof head)
            goto bad;
        memcpy(head, p, sizeof head);
        p += sizeof head;
        if (head[2] > (uint64_t)(end - p))
            goto bad;
        unsigned n = atomic_load_explicit(&sh.n, memory_order_relaxed), i = 0;
        while (i < n && sh.r[i].rec != head[0])
            i++;
        if (i == n || head[1] > sh.r[i].len || head[2] > sh.r[i].len - head[1])
            goto bad;
        memcpy((uint8_t *)sh.r[i].addr + head[1], p, head[2]);
        p += head[2];
    }
    pthread_mutex_unlock(&sh.mu);
    return 1;
bad:
    pthread_mutex_unlock(&sh.mu);
    return 0;
}
