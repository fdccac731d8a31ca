/* Checkpoints of the engine (checkpoint.h).
 *
 * A checkpoint is a copy of the engine made by _Fork in the hook of an event (the
 * program's state there is exactly what the engine would have if it ran there again:
 * the run is deterministic), blocked in recvmsg on its end of a private socket pair.
 * The engine keeps the other ends, sorted by position. To reach a position behind it,
 * the engine sends the chosen copy the target, the list of the others and their
 * sockets (SCM_RIGHTS), and ends: the copy inherited the client's socket and is the
 * engine from then on. A copy whose socket is closed (the engine dropped it, or the
 * engine died) exits, so none outlives the engine that holds it.
 *
 * The engine's own trace is a memfd that every copy shares with the engine (same file,
 * not a copy): a copy that takes over first puts a copy of the file's first bytes, as
 * they were when it was made, at every descriptor it has on that file, so that it
 * never writes into the file the engine or another copy writes.
 *
 * Spacing: one every `interval` events, with interval recomputed at each checkpoint so
 * that they come about every SPACING_MS of the engine's running time, or further apart
 * when what each costs the run after it (its copy-on-write faults) would be more than
 * COST_SHARE of it, and never closer than half the spacing by the clock. Thinning: beyond
 * the limits (number, private memory) the checkpoint whose removal leaves the smallest
 * gap for its distance from where the user works goes, so that they are dense near
 * the user's stops and sparse far away.
 */
#include "checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"
#include "libc/libc.h"
#include "libc/shmem.h"

#define SPACING_MS 250     /* of engine running time between periodic checkpoints */
#define SPACING_MAX_MS 1000 /* what their cost can stretch it to */
#define COST_SHARE 0.1      /* of the running time, at most, for their faults */
#define FIRST_INTERVAL 100000u
#define MIN_INTERVAL 2000u
#define FD_ROOM 256u       /* descriptors left to the rest when checkpoints take many */

typedef struct ckpt {
    uint64_t pos;  /* made in the hook of this event */
    pid_t pid;
    int fd;        /* our end of its socket */
    uint64_t mem;  /* its private dirty memory at the last count (bytes) */
    uint64_t bound; /* more than it can ever have: the engine's resident memory at the fork */
    uint64_t born;    /* the order it was made in (the engine's count) */
    uint64_t counted; /* when its memory was last read (C.clock), 0: not since it moved */
} ckpt;

/* What a copy is sent when it takes over: one message with this and n entries, then
 * the n descriptors in messages of at most RW_CKPT_FDS_PER_MSG (a message carries at
 * most 253). */
typedef struct handover {
    uint64_t target, focus, interval, births, spacing_us, fault_ns;
    uint32_t n;
} handover;

typedef struct entry {
    uint64_t pos;
    int64_t pid;
    uint64_t mem, born, bound;
} entry;

/* One per process (checkpoint.h). Written by the GIL holder only. */
static struct {
    int on;
    unsigned max;
    uint64_t max_bytes;
    rw_ckpt_env env;
    int log_fd;
    ckpt list[RW_CKPT_MAX + 1]; /* sorted by pos */
    unsigned n;
    uint64_t interval, due, focus;
    uint64_t near_goal;         /* the goal a checkpoint just before was taken for */
    uint64_t mark_pos;          /* the rate: events since mark_pos, time since mark_t */
    struct timespec mark_t;
    double spacing;             /* seconds of running between periodic ones */
    double fault_s;             /* a copy-on-write fault's cost, measured (0: not yet) */
    uint64_t mem_total;         /* the sum of their last counts */
    uint64_t bound_total;       /* the sum of their bounds: while it is within the limit,
                                 * no count is needed */
    uint64_t clock, births;     /* counts made, checkpoints made */
    uint64_t every;             /* a fixed interval (tests), or 0: by time */
    pid_t reap[64];             /* dropped children not reaped yet */
    unsigned nreap;
    unsigned copy_delay_us;     /* REWIND_CHECKPOINT_COPY_DELAY_MS (tests), or 0 */
} C = {.log_fd = -1, .due = UINT64_MAX, .near_goal = UINT64_MAX, .spacing = SPACING_MS / 1e3};

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
    if (C.log_fd < 0)
        return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    (void)!write(C.log_fd, line, (size_t)n); /* O_APPEND: whole lines */
}

static size_t page_size(void)
{
    long pg = sysconf(_SC_PAGESIZE);
    return pg > 0 ? (size_t)pg : 4096;
}

static double since(const struct timespec *t0, const struct timespec *t1)
{
    return (double)(t1->tv_sec - t0->tv_sec) + (double)(t1->tv_nsec - t0->tv_nsec) / 1e9;
}

/* n events as an interval: at least MIN_INTERVAL, at most 1e12. */
static uint64_t events(double n)
{
    return n < MIN_INTERVAL ? MIN_INTERVAL : n > 1e12 ? (uint64_t)1e12 : (uint64_t)n;
}

/* Where the rate is measured from. */
static void mark(uint64_t pos)
{
    C.mark_pos = pos;
    clock_gettime(CLOCK_MONOTONIC, &C.mark_t);
}

/* What a copy-on-write fault costs here: from 1 us on bare metal to 20 us in some VMs,
 * where they are most of what a checkpoint costs the run after it (every page the
 * engine writes again is copied). Timed at the first PROBE_FORKS forks, page by page
 * on pages written before the fork, in the engine right after it (the copy has its
 * own and never touches them): the least of their medians (single faults vary 5x). */
enum { PROBE_PAGES = 32, PROBE_FORKS = 4 };
static char *probe;
static unsigned probed;

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void probe_before_fork(void)
{
    if (probed >= PROBE_FORKS || probe)
        return;
    size_t pg = page_size();
    void *p = mmap(NULL, PROBE_PAGES * pg, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return;
    probe = p;
    for (size_t i = 0; i < PROBE_PAGES; i++)
        probe[i * pg] = 1;
}

static void probe_after_fork(int in_copy)
{
    if (!probe)
        return;
    size_t pg = page_size();
    if (!in_copy) {
        double t[PROBE_PAGES];
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (size_t i = 0; i < PROBE_PAGES; i++) {
            ((volatile char *)probe)[i * pg] = 2;
            clock_gettime(CLOCK_MONOTONIC, &t1);
            t[i] = since(&t0, &t1);
            t0 = t1;
        }
        qsort(t, PROBE_PAGES, sizeof t[0], by_value);
        if (!probed++ || t[PROBE_PAGES / 2] < C.fault_s)
            C.fault_s = t[PROBE_PAGES / 2];
    }
    munmap(probe, PROBE_PAGES * pg);
    probe = NULL;
}

void rw_ckpt_setup(unsigned max, unsigned mib, uint64_t every, const rw_ckpt_env *env,
                   int log_fd)
{
    C.every = every;
    C.max = max > RW_CKPT_MAX ? RW_CKPT_MAX : max;
    /* A descriptor each: the soft limit goes up to the hard one if need be, and the
     * number down to what it allows, FD_ROOM left for the engine and the program. */
    struct rlimit rl;
    if (C.max && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rlim_t want = (rlim_t)C.max + FD_ROOM;
        if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
            rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want
                                                                                : rl.rlim_max;
            (void)setrlimit(RLIMIT_NOFILE, &rl);
            if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want)
                C.max = rl.rlim_cur > FD_ROOM + 1 ? (unsigned)(rl.rlim_cur - FD_ROOM) : 1;
        }
    }
    C.max_bytes = (uint64_t)mib << 20;
    C.env = *env;
    C.log_fd = log_fd;
    const char *delay = getenv("REWIND_CHECKPOINT_COPY_DELAY_MS");
    C.copy_delay_us = delay ? (unsigned)strtoul(delay, NULL, 10) * 1000u : 0;
    C.on = C.max > 0;
    C.interval = every ? every : FIRST_INTERVAL;
    C.due = C.on ? 0 : UINT64_MAX; /* the first at the first event: nothing is behind it */
    mark(0);
}

int rw_ckpt_on(void)
{
    return C.on;
}

/* Just before the user's target: a move back from there costs a short run. */
static uint64_t before_goal(uint64_t goal)
{
    uint64_t near = C.interval / 64;
    return goal != UINT64_MAX && goal > near ? goal - near : UINT64_MAX;
}

uint64_t rw_ckpt_due(uint64_t here, uint64_t goal)
{
    if (!C.on)
        return UINT64_MAX;
    uint64_t pre = before_goal(goal);
    return pre > here && pre < C.due ? pre : C.due;
}

void rw_ckpt_not_now(uint64_t pos)
{
    uint64_t soon = C.interval / 8 > MIN_INTERVAL / 4 ? C.interval / 8 : MIN_INTERVAL / 4;
    if (C.on && C.due <= pos)
        C.due = pos + soon;
}

static void reap_some(void)
{
    unsigned k = 0;
    for (unsigned i = 0; i < C.nreap; i++) {
        pid_t r = waitpid(C.reap[i], NULL, WNOHANG);
        if (r == 0)
            C.reap[k++] = C.reap[i]; /* still exiting */
    }
    C.nreap = k;
}

/* Ends checkpoint i: its process first (its memory goes now), then its entry. */
static void drop(unsigned i)
{
    ckpt c = C.list[i];
    logf_("drop %" PRIu64 " %d", c.pos, (int)c.pid);
    /* Closing its socket ends it; SIGKILL frees its memory now, and is sent only while
     * its end of the socket is open (the pid is still the checkpoint's). */
    struct pollfd pfd = {.fd = c.fd, .events = POLLIN};
    int alive = poll(&pfd, 1, 0) == 0;
    if (alive)
        rw_sandbox_end_child(c.pid); /* a kill without the sandbox (sandbox.h) */
    close(c.fd);
    /* Ours to reap when we made it; a copy made by an engine that has ended since
     * belongs to init, and waitpid says ECHILD. */
    if (waitpid(c.pid, NULL, WNOHANG) == 0) {
        if (C.nreap == sizeof C.reap / sizeof C.reap[0])
            reap_some();
        if (C.nreap < sizeof C.reap / sizeof C.reap[0])
            C.reap[C.nreap++] = c.pid;
    }
    C.mem_total -= c.mem <= C.mem_total ? c.mem : C.mem_total;
    C.bound_total -= c.bound <= C.bound_total ? c.bound : C.bound_total;
    memmove(&C.list[i], &C.list[i + 1], (C.n - i - 1) * sizeof C.list[0]);
    C.n--;
}

/* Reads /proc/PID/NAME into buf (NUL-terminated): 1, or 0 when it cannot be read or
 * is empty (the process is gone). */
static int read_proc(pid_t pid, const char *name, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    return 1;
}

/* The figure after `key` (a line's start, e.g. "\nVmPTE:") in /proc/pid/name, in kB
 * as the kernel writes it, as bytes; 0 when unknown. */
static uint64_t proc_kb(pid_t pid, const char *name, const char *key)
{
    char buf[4096];
    if (!read_proc(pid, name, buf, sizeof buf))
        return 0;
    const char *p = strstr(buf, key);
    return p ? strtoull(p + strlen(key), NULL, 10) * 1024u : 0;
}

/* The memory that pid's end would give back (bytes; 0 when unknown): the pages only
 * it maps (its private dirty memory) and its page tables, which every copy has of its
 * own (VmPTE: about 0.2% of what it maps, not in smaps). */
static uint64_t private_dirty(pid_t pid)
{
    return proc_kb(pid, "smaps_rollup", "\nPrivate_Dirty:") +
           proc_kb(pid, "status", "\nVmPTE:");
}

/* Reading a checkpoint's memory costs about 0.1 ms (the kernel walks its page
 * tables; 16 reads a look took 14% of the engine's time with 1000 checkpoints), so
 * each look reads this many, whatever their number. */
#define COUNT_EACH 4
/* Of which the newest ones. A copy's private memory grows while the engine runs on
 * after it was made (each page the engine writes first is then the copy's alone) and
 * stops growing at the next fork: a page the engine writes after that is shared by the
 * two copies and in neither's private memory, until one of them goes (the neighbours
 * of a dropped one are read again, below). */
#define COUNT_NEWEST 2

/* More than a copy made now can hold (bytes): this process's resident memory (statm:
 * no page-table walk), page tables for it, and 1 MiB for what a copy touches after its
 * fork; when unreadable, as much as makes the limit count. */
static uint64_t resident(void)
{
    char buf[128];
    unsigned long long size, res;
    if (!read_proc(getpid(), "statm", buf, sizeof buf) ||
        sscanf(buf, "%llu %llu", &size, &res) != 2)
        return UINT64_MAX / (2 * RW_CKPT_MAX + 2);
    uint64_t b = (uint64_t)res * page_size();
    return b + b / 64 + (1u << 20);
}

static void count(unsigned i)
{
    ckpt *c = &C.list[i];
    uint64_t m = private_dirty(c->pid);
    C.mem_total = C.mem_total - (c->mem <= C.mem_total ? c->mem : C.mem_total) + m;
    c->mem = m;
    c->counted = ++C.clock;
}

/* Reads the memory of the ones that most need it: all when few, else those not
 * counted since they moved (a neighbour was dropped), the newest, and those counted
 * longest ago, COUNT_EACH in all. */
static void count_some(void)
{
    if (C.n <= 4 * COUNT_EACH) {
        for (unsigned i = 0; i < C.n; i++)
            count(i);
        return;
    }
    uint64_t start = C.clock;
    for (unsigned i = 0; i < C.n; i++)
        if (C.list[i].counted == 0)
            count(i);
    for (unsigned k = 0; k < COUNT_NEWEST; k++) {
        int best = -1;
        for (unsigned i = 0; i < C.n; i++)
            if (C.list[i].counted <= start && (best < 0 || C.list[i].born > C.list[best].born))
                best = (int)i;
        if (best >= 0)
            count((unsigned)best);
    }
    while (C.clock - start < COUNT_EACH) {
        int best = -1;
        for (unsigned i = 0; i < C.n; i++)
            if (C.list[i].counted <= start &&
                (best < 0 || C.list[i].counted < C.list[best].counted))
                best = (int)i;
        if (best < 0)
            break;
        count((unsigned)best);
    }
}

/* The index of the last checkpoint at or before pos, or -1. */
static int at_or_before(uint64_t pos)
{
    int i = (int)C.n - 1;
    while (i >= 0 && C.list[i].pos > pos)
        i--;
    return i;
}

/* The checkpoint to drop first. The gap dropping i leaves (from the previous one, or
 * the program's start, to the next one, or the engine at here), weighed by i's
 * distance from the user's place: near it the gaps stay small, far away they grow
 * with the distance, up to 3 times the nearest ones (beyond a quarter of the run the
 * weight no longer falls: a goto far away must not find a gap much longer than the
 * run's average; bench/checkpoints measured 9 times: far gotos took 3 s where the
 * average gap took 0.2).
 * The first one (the program's start) stays unless memory is short (over_mem):
 * without it going back there is a new engine. */
static unsigned pick(uint64_t here, int over_mem)
{
    unsigned first = C.n > 1 && !over_mem ? 1 : 0, best = first;
    uint64_t span = C.n && C.list[C.n - 1].pos > here ? C.list[C.n - 1].pos : here;
    double reach = span / 8 > C.interval ? (double)(span / 8) : (double)C.interval;
    double best_score = 0;
    for (unsigned i = first; i < C.n; i++) {
        uint64_t prev = i ? C.list[i - 1].pos : 0;
        uint64_t next = i + 1 < C.n ? C.list[i + 1].pos
                                    : (here > C.list[i].pos ? here : C.list[i].pos);
        uint64_t p = C.list[i].pos;
        uint64_t dist = p > C.focus ? p - C.focus : C.focus - p;
        double far = (double)dist < 2 * reach ? (double)dist : 2 * reach;
        double score = (double)(next - prev) / (reach + far);
        if (i == first || score < best_score) {
            best = i;
            best_score = score;
        }
    }
    return best;
}

/* Whether process pid has given its memory back: gone, or a zombie (a process's
 * memory goes before it becomes one). */
static int gone(pid_t pid)
{
    char buf[512];
    if (!read_proc(pid, "stat", buf, sizeof buf))
        return 1;
    const char *p = strrchr(buf, ')'); /* "PID (COMM) STATE ...": COMM may hold ')' */
    return !p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X';
}

/* Waits (at most about half a second) until the processes in pids are gone. */
static void wait_gone(const pid_t *pids, unsigned n)
{
    for (unsigned naps = 0, i = 0; i < n && naps < 500;) {
        if (gone(pids[i])) {
            i++;
            continue;
        }
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
        naps++;
    }
}

/* Drops checkpoints until both limits hold. here: the engine's position.
 *
 * Memory: a page that two checkpoints share, and the engine no longer maps, is in
 * neither's private memory; when one of them goes it becomes the other's (in time,
 * its neighbours'). So after dropping for memory, the count waits for the dropped
 * ones to be gone and reads their neighbours again, until the bound holds with the
 * survivors' pages as they are then. */
static void thin(uint64_t here)
{
    /* A copy's private memory is at most what the engine had in memory when it was
     * made (the copy only gives back after): while those add up to less than the
     * limit, it holds without a look (the looks cost 3 ms a checkpoint on a short run:
     * all are read while there are few). */
    if (C.max_bytes && C.bound_total > C.max_bytes)
        count_some();
    for (;;) {
        pid_t dropped[RW_CKPT_MAX + 1];
        unsigned ndropped = 0, over_mem = 0;
        while (C.n > C.max || (C.max_bytes && C.mem_total > C.max_bytes && C.n > 0)) {
            int short_mem = C.max_bytes && C.mem_total > C.max_bytes;
            over_mem |= (unsigned)short_mem;
            unsigned i = pick(here, short_mem);
            dropped[ndropped++] = C.list[i].pid;
            drop(i);
            if (i > 0)
                C.list[i - 1].counted = 0;
            if (i < C.n)
                C.list[i].counted = 0;
        }
        if (!over_mem)
            return;
        wait_gone(dropped, ndropped);
        for (unsigned i = 0; i < C.n; i++)
            if (C.list[i].counted == 0)
                count(i);
    }
}

/* Puts a copy of the trace file's first `size` bytes at every descriptor this process
 * has on it. 0 or -1 (errno). */
static int own_trace_file(uint64_t size, const int *socks, size_t nsocks)
{
    struct stat old;
    if (fstat(C.env.trace_fd, &old) != 0)
        return -1;
    int nfd = memfd_create("rewind-engine-trace", MFD_CLOEXEC);
    if (nfd < 0)
        return -1;
    char *buf = malloc(1 << 20);
    if (!buf) {
        close(nfd);
        errno = ENOMEM;
        return -1;
    }
    for (uint64_t off = 0; off < size;) {
        size_t want = size - off < (1u << 20) ? (size_t)(size - off) : (1u << 20);
        ssize_t r = pread(C.env.trace_fd, buf, want, (off_t)off);
        if (r <= 0 || pwrite(nfd, buf, (size_t)r, (off_t)off) != r) {
            if (r == 0)
                errno = EIO;
            free(buf);
            close(nfd);
            return -1;
        }
        off += (uint64_t)r;
    }
    free(buf);
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        close(nfd);
        return -1;
    }
    /* The checkpoints' sockets are not the file: no fstat for them (with 257 of them,
     * those calls were most of a resume's 29 ms under strace). */
    int maxfd = -1;
    for (size_t i = 0; i < nsocks; i++)
        maxfd = socks[i] > maxfd ? socks[i] : maxfd;
    unsigned char *sock = maxfd >= 0 ? calloc((size_t)maxfd / 8 + 1, 1) : NULL;
    for (size_t i = 0; sock && i < nsocks; i++)
        if (socks[i] >= 0)
            sock[socks[i] / 8] |= (unsigned char)(1u << (socks[i] % 8));
    int rc = 0, dfd = dirfd(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        int fd = atoi(de->d_name);
        struct stat st;
        if (de->d_name[0] < '0' || de->d_name[0] > '9' || fd == nfd || fd == dfd ||
            (sock && fd <= maxfd && (sock[fd / 8] >> (fd % 8) & 1)) ||
            fstat(fd, &st) != 0 || st.st_dev != old.st_dev || st.st_ino != old.st_ino)
            continue;
        int flags = fcntl(fd, F_GETFD);
        if (dup2(nfd, fd) < 0 || (flags >= 0 && fcntl(fd, F_SETFD, flags) < 0))
            rc = -1;
    }
    free(sock);
    closedir(d);
    close(nfd);
    return rc;
}

/* Receives one message of the handover into buf (cap bytes), the descriptors it
 * carries appended to fds (*nfds of at most RW_CKPT_MAX so far). Its length, or -1
 * (the engine is gone, or the message is not the engine's: the caller ends). */
static ssize_t receive(int fd, void *buf, size_t cap, int *fds, size_t *nfds)
{
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(RW_CKPT_FDS_PER_MSG * sizeof(int))];
    } cbuf;
    struct msghdr mh;
    ssize_t got;
    do {
        struct iovec iov = {buf, cap};
        memset(&mh, 0, sizeof mh);
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = cbuf.b;
        mh.msg_controllen = sizeof cbuf.b;
        got = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    } while (got < 0 && errno == EINTR);
    for (struct cmsghdr *cm = got >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm;
         cm = CMSG_NXTHDR(&mh, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
            size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t j = 0; j < k; j++) {
                if (*nfds == RW_CKPT_MAX)
                    return -1;
                memcpy(&fds[(*nfds)++], CMSG_DATA(cm) + j * sizeof(int), sizeof(int));
            }
        }
    return got > 0 && !(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ? got : -1;
}

/* In the copy: waits until the engine hands over (returns the target) or lets go
 * (ends the process). */
static uint64_t wait_for_turn(int fd, uint64_t pos, uint64_t file_size)
{
    size_t cap = sizeof(handover) + RW_CKPT_MAX * sizeof(entry);
    uint8_t *msg = malloc(cap);
    if (!msg)
        _exit(0);
    static int fds[RW_CKPT_MAX]; /* a copy's only thread uses it, once */
    size_t nfds = 0;
    ssize_t got = receive(fd, msg, cap, fds, &nfds);
    if (got < (ssize_t)sizeof(handover))
        _exit(0); /* let go, or the engine is gone */
    handover h;
    memcpy(&h, msg, sizeof h);
    if (h.n > RW_CKPT_MAX || nfds != 0 || (size_t)got != sizeof h + h.n * sizeof(entry) ||
        h.target < pos)
        _exit(0); /* not from our engine */
    while (nfds < h.n) {
        uint32_t k;
        size_t had = nfds;
        if (receive(fd, &k, sizeof k, fds, &nfds) != (ssize_t)sizeof k || k == 0 ||
            k > RW_CKPT_FDS_PER_MSG || nfds != had + k || nfds > h.n)
            _exit(0);
    }
    close(fd);
    /* A copy of this one stays in its place (a checkpoint is not used up), made now
     * while this process has no thread but this one. */
    int sv[2];
    pid_t keep = -1;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0) {
        rw_files_before_copy();
        keep = _Fork();
        if (keep == 0) {
            rw_files_unshare(); /* the engine that goes on reads them */
            close(sv[0]);
            for (size_t i = 0; i < nfds; i++)
                close(fds[i]);
            free(msg);
            return wait_for_turn(sv[1], pos, file_size);
        }
        close(sv[1]);
        if (keep < 0)
            close(sv[0]);
        else
            rw_shm_unshare(); /* the copy keeps the shared objects' bytes as they are */
    }
    /* The engine now: the file first, then the threads that write and read it. */
    rw_err err = {0};
    if (own_trace_file(file_size, fds, nfds) != 0) {
        logf_("resume %" PRIu64 " %d failed: the trace copy: %s", pos, (int)getpid(),
              strerror(errno));
        _exit(1);
    }
    if (C.env.revive(&err) != RW_OK) {
        logf_("resume %" PRIu64 " %d failed: %s", pos, (int)getpid(), err.msg);
        _exit(1);
    }
    C.n = 0;
    C.mem_total = 0;
    C.bound_total = 0;
    C.clock = 1; /* the engine's counts are as old as any this copy makes */
    C.births = h.births;
    for (uint32_t i = 0; i < h.n; i++) {
        entry e;
        memcpy(&e, msg + sizeof h + i * sizeof e, sizeof e);
        C.list[C.n++] = (ckpt){.pos = e.pos, .pid = (pid_t)e.pid, .fd = fds[i],
                               .mem = e.mem, .born = e.born, .bound = e.bound,
                               .counted = 1};
        C.mem_total += e.mem;
        C.bound_total += e.bound;
    }
    free(msg);
    if (keep > 0) {
        unsigned at = (unsigned)(at_or_before(pos) + 1);
        memmove(&C.list[at + 1], &C.list[at], (C.n - at) * sizeof C.list[0]);
        C.list[at] = (ckpt){.pos = pos, .pid = keep, .fd = sv[0], .born = ++C.births,
                            .bound = resident()};
        C.bound_total += C.list[at].bound;
        C.n++;
    }
    C.nreap = 0; /* the engine's children are not ours */
    C.focus = h.focus;
    C.interval = h.interval ? h.interval : FIRST_INTERVAL;
    C.spacing = h.spacing_us ? (double)h.spacing_us / 1e6 : SPACING_MS / 1e3;
    C.fault_s = (double)h.fault_ns / 1e9;
    if (C.fault_s > 0 && probed == 0)
        probed = 1; /* the engine's figure: the probes go on refining it */
    C.near_goal = UINT64_MAX;
    mark(pos);
    C.due = pos + C.interval;
    logf_("resume %" PRIu64 " %d %" PRIu64, pos, (int)getpid(), h.target);
    if (keep > 0)
        logf_("take %" PRIu64 " %d keep", pos, (int)keep);
    return h.target;
}

int rw_ckpt_take(uint64_t pos, uint64_t goal, uint64_t *target)
{
    if (!C.on)
        return 0;
    int at_stop = pos >= goal;
    int before = !at_stop && pos >= before_goal(goal);
    int user = at_stop || before; /* where the user works */
    if (!user && pos < C.due)
        return 0;
    if (!user && !C.every && C.n > 0) {
        /* Periodic, and due by the count: not before half the spacing by the clock.
         * The count comes from an earlier stretch's rate, and the start's (imports,
         * the first checkpoint's faults) is slower than what follows: mix.py took
         * five in its first 250 ms, each costing the run after it 20-40 ms of
         * copy-on-write faults here. */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double dt = since(&C.mark_t, &now);
        if (dt < C.spacing / 2) {
            double rate = dt > 0.002 && pos > C.mark_pos ? (double)(pos - C.mark_pos) / dt
                                                         : 0;
            C.due = pos + events(rate * (C.spacing - dt));
            return 0;
        }
    }
    /* One just before the goal is enough (each fork costs the run that follows it its
     * copy-on-write faults: 20-30 ms on a large engine in some VMs). */
    if (before && C.near_goal == goal && pos < C.due)
        return 0;
    /* Not beside another one: near the user's stops a much smaller gap is worth it; at
     * the stop itself, none when another is within an eighth of the spacing (the one
     * just before the goal is 1/64 of the spacing before it: a move back runs that far). */
    uint64_t near = at_stop ? C.interval / 8 : user ? C.interval / 128 : C.interval / 2;
    int j = at_or_before(pos);
    int have_near = (j >= 0 && pos - C.list[j].pos <= near) ||
                    ((unsigned)(j + 1) < C.n && C.list[j + 1].pos - pos <= near);
    if (pos >= C.due)
        C.due = pos + C.interval;
    if (have_near)
        return 0;
    unsigned at = (unsigned)(j + 1);
    if (C.n >= C.max) {
        /* Full: not one that the thinning would drop at once (the fork and the pages
         * it makes the engine copy would be for nothing). */
        memmove(&C.list[at + 1], &C.list[at], (C.n - at) * sizeof C.list[0]);
        C.list[at] = (ckpt){.pos = pos, .pid = -1, .fd = -1};
        C.n++;
        unsigned worst = pick(pos, 0);
        C.n--;
        memmove(&C.list[at], &C.list[at + 1], (C.n - at) * sizeof C.list[0]);
        if (worst == at)
            return 0;
    }
    reap_some();
    rw_err err = {0};
    if (C.env.quiesce(&err) != RW_OK) {
        logf_("no checkpoint at %" PRIu64 ": %s", pos, err.msg);
        return 0;
    }
    struct stat st;
    int sv[2];
    if (fstat(C.env.trace_fd, &st) != 0 ||
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        C.env.release();
        return 0;
    }
    probe_before_fork();
    rw_files_before_copy();
    /* The copy makes the program's shared objects its own by copying their bytes: the
     * engine, which goes on writing them, waits until it has. */
    int grouped = rw_shm_grouped();
    struct timespec f0, f1;
    clock_gettime(CLOCK_MONOTONIC, &f0);
    pid_t pid = _Fork(); /* no atfork handlers: the copy must not start a trace */
    if (pid == 0 && C.env.hold)
        C.env.hold(); /* before anything in the copy maps memory */
    clock_gettime(CLOCK_MONOTONIC, &f1);
    double fork_s = since(&f0, &f1);
    probe_after_fork(pid == 0);
    if (pid == 0) {
        if (C.copy_delay_us) /* tests: a copy that a busy machine runs late */
            usleep(C.copy_delay_us);
        rw_shm_unshare(); /* the program's shared objects: the copy's own from here */
        if (grouped) {
            char done = 1;
            while (write(sv[1], &done, 1) < 0 && errno == EINTR)
                ;
        }
        rw_files_unshare(); /* and the local files' offsets */
        close(sv[0]);
        for (unsigned i = 0; i < C.n; i++)
            close(C.list[i].fd); /* only the engine holds them: see the file's comment */
        C.n = 0;
        if (C.env.shed)
            C.env.shed();
        *target = wait_for_turn(sv[1], pos, (uint64_t)st.st_size);
        return 1;
    }
    if (pid > 0 && grouped) {
        char done;
        while (read(sv[0], &done, 1) < 0 && errno == EINTR)
            ;
    }
    C.env.release();
    close(sv[1]);
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        logf_("no checkpoint at %" PRIu64 ": fork: %s", pos, strerror(e));
        /* Out of processes (a container's pids limit, RLIMIT_NPROC): keep fewer, and
         * leave the program's own forks and the evaluations' room. */
        if (e == EAGAIN && C.n > 8) {
            C.max = C.n - 8;
            thin(pos);
        }
        return 0;
    }
    ckpt c = {.pos = pos, .pid = pid, .fd = sv[0], .born = ++C.births, .bound = resident()};
    memmove(&C.list[at + 1], &C.list[at], (C.n - at) * sizeof C.list[0]);
    C.list[at] = c;
    C.n++;
    C.bound_total += c.bound;
    logf_("take %" PRIu64 " %d%s", pos, (int)pid, at_stop ? " stop" : user ? " near" : "");
    if (before)
        C.near_goal = goal;
    if (C.births == 1) {
        /* The first, at the program's first event: the running time and the rate
         * count from here. From the engine's setup they counted its start too (the
         * interpreter's initialisation: 50-100 ms), so the time gate let the next one
         * come 100,000 events later (5-10 ms of running), its copy-on-write faults
         * (600 pages, about 20 ms here) for a stretch a rerun covers as fast. */
        mark(pos);
        return 0;
    }
    /* The spacing: SPACING_MS of running between two, or more when their cost asks it.
     * Each costs its fork and, in the run after it, a copy-on-write fault on every
     * page the engine writes again: those pages are then the copy's alone, so the
     * previous copy's private memory, read now, counts them (with the few pages the
     * copy wrote itself). bench/checkpoints' program copies about 170 pages after each,
     * mix.py 2000, at 12-20 us a fault in this VM kind: the spacing keeps that under
     * COST_SHARE of the running time. The rate is measured over at least half the
     * spacing (a few ms after a fork or a resume run slower, and a spacing made from
     * them drew checkpoints 3 ms apart). */
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double dt = since(&C.mark_t, &now);
    if (!C.every && pos > C.mark_pos && dt >= C.spacing / 2) {
        double pages = 0;
        for (unsigned k = 0; k < C.n; k++)
            if (C.list[k].born == C.births - 1)
                pages = (double)private_dirty(C.list[k].pid) / (double)page_size();
        double cost = fork_s + pages * C.fault_s;
        double spacing = cost / COST_SHARE;
        C.spacing = spacing < SPACING_MS / 1e3       ? SPACING_MS / 1e3
                    : spacing > SPACING_MAX_MS / 1e3 ? SPACING_MAX_MS / 1e3
                                                     : spacing;
        C.interval = events((double)(pos - C.mark_pos) / dt * C.spacing);
        C.due = pos + C.interval;
        logf_("spacing %.0f %.0f %.1f %.1f", C.spacing * 1e3, pages, C.fault_s * 1e6,
              fork_s * 1e3);
        mark(pos);
    }
    thin(pos);
    return 0;
}

void rw_ckpt_stopped(uint64_t pos)
{
    if (C.on && C.max_bytes)
        thin(pos);
}

void rw_ckpt_running(uint64_t here, uint64_t target)
{
    C.focus = target;
    mark(here);
}

/* Sends one message of the handover on fd, with n descriptors: 0 or -1. */
static int send_one(int fd, const void *buf, size_t len, const int *fds, uint32_t n)
{
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(RW_CKPT_FDS_PER_MSG * sizeof(int))];
    } cbuf;
    struct iovec iov = {(void *)buf, len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    memset(&cbuf, 0, sizeof cbuf);
    if (n) {
        mh.msg_control = cbuf.b;
        mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(n * sizeof(int));
        memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
    }
    ssize_t sent;
    do
        sent = sendmsg(fd, &mh, MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    return sent == (ssize_t)len ? 0 : -1;
}

/* Sends checkpoint i the handover: the target and every other checkpoint. */
static int hand_to(unsigned i, uint64_t target)
{
    size_t len = sizeof(handover) + (C.n - 1) * sizeof(entry);
    uint8_t *msg = malloc(len);
    if (!msg)
        return -1;
    handover h = {.target = target, .focus = target, .interval = C.interval,
                  .births = C.births, .spacing_us = (uint64_t)(C.spacing * 1e6),
                  .fault_ns = (uint64_t)(C.fault_s * 1e9), .n = C.n - 1};
    memcpy(msg, &h, sizeof h);
    static int fds[RW_CKPT_MAX]; /* the GIL holder's */
    uint32_t k = 0;
    for (unsigned j = 0; j < C.n; j++) {
        if (j == i)
            continue;
        entry e = {.pos = C.list[j].pos, .pid = C.list[j].pid, .mem = C.list[j].mem,
                   .born = C.list[j].born, .bound = C.list[j].bound};
        memcpy(msg + sizeof h + k * sizeof e, &e, sizeof e);
        fds[k++] = C.list[j].fd;
    }
    int rc = send_one(C.list[i].fd, msg, len, NULL, 0);
    free(msg);
    for (uint32_t at = 0; rc == 0 && at < k; at += RW_CKPT_FDS_PER_MSG) {
        uint32_t n = k - at < RW_CKPT_FDS_PER_MSG ? k - at : RW_CKPT_FDS_PER_MSG;
        rc = send_one(C.list[i].fd, &n, sizeof n, fds + at, n);
    }
    return rc;
}

int rw_ckpt_go_back(uint64_t here, uint64_t target)
{
    if (!C.on)
        return 0;
    for (int i = at_or_before(target); i >= 0; i = at_or_before(target)) {
        /* Forwards, only a checkpoint past the engine saves anything. */
        if (target > here && C.list[i].pos <= here)
            return 0;
        logf_("handover %" PRIu64 " -> %" PRIu64 " %d for %" PRIu64, here, C.list[i].pos,
              (int)C.list[i].pid, target);
        if (hand_to((unsigned)i, target) == 0)
            return 1;
        drop((unsigned)i); /* gone (killed from outside): the next one back */
    }
    return 0;
}
