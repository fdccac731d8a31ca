/* Lock order (locks.h): which thread obtains a semaphore, when several want it, is
 * logged while recording and enforced on replay.
 *
 * Wraps: sem_init, sem_destroy, sem_wait, sem_trywait, sem_timedwait, sem_clockwait,
 * sem_getvalue, sem_post (a release of a private semaphore is the program's own,
 * ordered deed, and is only performed; a shared one's below). CPython's locks
 * (Python/thread_pthread.h, USE_SEMAPHORES) are POSIX semaphores, and every lock a
 * Python thread waits for in C ends in one of these: _thread.lock.acquire,
 * Condition.wait (its waiter lock), queue.SimpleQueue.get, the buffered files' locks.
 *
 * Identity. A semaphore's address repeats on replay only as far as the allocator's
 * order does, which several threads do not keep. What repeats is each thread's own
 * order of work: a semaphore made by a logged thread is named by (its maker's input
 * stream, how many the maker made before it). The name and the semaphore's turn
 * counter live in the sem_t itself: glibc's sem_t is 32 bytes, of which it uses 16
 * (struct new_sem: the 64-bit value and waiter count, the private flag, padding), and
 * sem_init writes only those; the tag below takes the other 16. A semaphore this file
 * did not see made (made before capture, by a thread that is not logged, by another
 * process: sem_open) has no tag (sem_init and glibc's sem_open zero the rest) and is
 * left alone.
 *
 * Record: once the program has a second thread (rw_locks_threaded), every
 * acquisition attempt on a tagged semaphore by a logged thread — waits, tries and
 * timed waits, whether they succeed, fail or time out — is performed, then numbered
 * from the semaphore's turn counter (an atomic increment right after the C library
 * returns: an acquisition that succeeded holds the lock then, so no later successful
 * one can be numbered before it), and logged as an input of the thread: call
 * RW_CALL_SEM_WAIT, key (the semaphore's name, which function), result and errno,
 * data = the turn number (4 bytes, little-endian).
 * Replay: the thread takes its record, waits until the semaphore's turn counter
 * reaches its number (without the GIL when it held it, sleeping on a futex), then:
 * a recorded success takes the semaphore for real (the release that makes it
 * available comes in its order; nobody else contends, as every other thread is
 * waiting for its own turn); a recorded failure, time-out or interruption is returned
 * without touching the semaphore. It then moves the counter on and wakes the waiters.
 * A turn that never comes (no event, no lock turn anywhere for 10 s while the engine
 * runs) is a divergence.
 * Replay, places: a thread that acquires without the GIL comes back when the kernel
 * and the GIL let it, which is not when the recording's thread came back; what it then
 * reads (is there an item in the queue?) depends on how many of the others' events ran
 * meanwhile. So it claims (locks.h) the place where the recording's thread had the GIL
 * again — its next event, or its next input made before that with the GIL held (an
 * exact position) — before it waits, and before returning it waits for the run to get
 * there; meanwhile the run token (the engine's sched_wait) lets no other thread make an
 * event at or after a claimed place. The claim ends at the thread's next input or event,
 * or after a second in which nothing moved; one that ended so while the thread waited
 * for its turn or the release is made again once it has them. A thread that held the
 * GIL at its acquisition (a try, or the first attempt of a blocking acquire) kept it in
 * the recording, so no other thread made an event meanwhile; when the replay's thread must
 * wait for its turn (or for the release) it lets the GIL go, and claims its own exact
 * position first (let_go). Without that claim, a producer's put made while a consumer
 * waited for its try's turn let the consumer find an item the recording's did not.
 *
 * Process-shared semaphores (sem_open, or sem_init with pshared: multiprocessing's
 * Lock, Semaphore and its queues' counters) are another process's input as much as a
 * pipe is: a child's release decides whether the parent's acquisition succeeds, times
 * out or waits. Every acquisition attempt on one by a logged thread (one thread or
 * many) is performed and logged as RW_CALL_SEM_SHARED (key: which function; result
 * and errno), sem_getvalue on one as RW_CALL_SEM_GETVALUE (data: the value, 4 bytes
 * little-endian) and sem_post on one as RW_CALL_SEM_POST (it fails, EOVERFLOW, when
 * the count is at its maximum: the replay's copy, which no child took from, would be).
 * Replay returns the logged outcome without waiting: the engine's /dev/shm is private
 * (docs/reexecution.md, "A private /dev/shm"), and no other process would ever release
 * its copy. A logged success also takes (or gives back) the copy when it can, so that
 * an evaluation's `get_value()` sees the count the program's own acquisitions and
 * releases left. A call made without the GIL (the blocking wait) comes back in its
 * place as any replayed input does (rw_locks_resume_after).
 * glibc marks a shared semaphore in the futex flag word after its 64-bit value (struct
 * new_sem's `private`: LLL_SHARED or LLL_PRIVATE); the start-up probe reads it on one of
 * each kind.
 *
 * Cost: with one thread, a wrapper is the C library's call plus three loads; sem_init
 * writes 16 bytes.
 */
#include "locks.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

#include "input.h"

_Atomic int rw_locks_threaded;
_Atomic int rw_locks_engine_stopped;
uint64_t (*rw_locks_next_event)(uint32_t thread, uint64_t from);
uint32_t (*rw_locks_next_thread)(void);
uint32_t (*rw_locks_gil_holder)(void);
_Atomic int rw_locks_nclaims;
_Atomic uint8_t rw_locks_returning[RW_LOCKS_RETURNING];

#define CLAIMS 4096 /* streams that can claim (later ones do not) */

/* Claims (locks.h): claim[s] = the position stream s claims + 1, 0 = none; top = one
 * past the highest stream that ever claimed. Written by the claiming thread. */
static _Atomic uint64_t claim[CLAIMS];
static _Atomic uint32_t claim_top;
/* soft[s]: the tick (| 1) at which stream s made its claim as it let the GIL go
 * (rw_locks_letting_go), or last found its thread runnable; 0: a claim the others
 * wait for as long as it stands. claim_tid[s]: the claiming thread's kernel id. */
static _Atomic uint64_t soft[CLAIMS];
static _Atomic pid_t claim_tid[CLAIMS];
#define SOFT_TICKS ((uint64_t)150 * 1000 * 1000) /* ~50 ms at 3 GHz, ~75 at 2 */
#define SOFT_GONE UINT64_MAX /* soft[s] of a claim that no longer holds anyone back */

/* Replay, for a divergence's report (rw_locks_describe): what each stream's thread is
 * waiting for inside this file now. phase: 0 nothing, DOING_* below; name and turn:
 * the lock and the acquisition; place: DOING_PLACE's position. Written by the thread
 * itself; read racily by the one that reports. doing_top: one past the highest stream
 * that ever waited. */
enum { DOING_TURN = 1, DOING_OBTAIN = 2, DOING_PLACE = 3 };
static struct {
    _Atomic uint32_t phase;
    _Atomic uint32_t name;
    _Atomic uint32_t turn;
    _Atomic uint64_t place;
    /* The last claim a fallback let go (gave_up below): the claimed position + 1 (0:
     * none yet), the run's position then, and which wait it was (a DOING_* phase). */
    _Atomic uint64_t gave_up;
    _Atomic uint64_t gave_up_at;
    _Atomic uint32_t gave_up_in;
} doing[CLAIMS];
static _Atomic uint32_t doing_top;

/* Makes *top (claim_top, doing_top) at least me + 1. */
static void raise_top(_Atomic uint32_t *top, uint32_t me)
{
    uint32_t t = atomic_load_explicit(top, memory_order_relaxed);
    while (t <= me && !atomic_compare_exchange_weak(top, &t, me + 1))
        ;
}

static void doing_set(uint32_t phase, uint32_t name, uint32_t turn, uint64_t place)
{
    uint32_t me = rw_in_tls.thread;
    if (me == 0 || me >= CLAIMS)
        return;
    raise_top(&doing_top, me);
    atomic_store_explicit(&doing[me].name, name, memory_order_relaxed);
    atomic_store_explicit(&doing[me].turn, turn, memory_order_relaxed);
    atomic_store_explicit(&doing[me].place, place, memory_order_relaxed);
    atomic_store_explicit(&doing[me].phase, phase, memory_order_release);
}

static void doing_done(void)
{
    uint32_t me = rw_in_tls.thread;
    if (me != 0 && me < CLAIMS)
        atomic_store_explicit(&doing[me].phase, 0, memory_order_relaxed);
}

/* Appends one part of rw_locks_describe's text at *n, after "; " when it is not the
 * first, cut at cap. */
__attribute__((format(printf, 4, 5))) static void part(char *buf, size_t cap, size_t *n,
                                                       const char *fmt, ...)
{
    if (*n + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = *n ? snprintf(buf + *n, cap - *n, "; ") : 0;
    if (k > 0)
        *n += (size_t)k < cap - *n ? (size_t)k : cap - *n - 1;
    k = vsnprintf(buf + *n, cap - *n, fmt, ap);
    if (k > 0)
        *n += (size_t)k < cap - *n ? (size_t)k : cap - *n - 1;
    va_end(ap);
}

static const char *const gave_up_in[] = {
    [DOING_TURN] = "while it waited for its turn",
    [DOING_OBTAIN] = "while it waited for the lock's release",
    [DOING_PLACE] = "while it waited for the run to reach it",
};

size_t rw_locks_describe(char *buf, size_t cap)
{
    size_t n = 0;
    if (cap)
        buf[0] = 0;
    uint32_t (*next)(void) = rw_locks_next_thread;
    if (next)
        part(buf, cap, &n, "the recording's next event (%" PRIu64 ") is thread %u's",
             rw_st.nevents, next());
    uint32_t top = atomic_load(&doing_top);
    for (uint32_t s = 1; s < top; s++) {
        uint32_t phase = atomic_load_explicit(&doing[s].phase, memory_order_acquire);
        uint32_t name = atomic_load_explicit(&doing[s].name, memory_order_relaxed);
        uint32_t turn = atomic_load_explicit(&doing[s].turn, memory_order_relaxed);
        uint64_t place = atomic_load_explicit(&doing[s].place, memory_order_relaxed);
        if (phase == DOING_TURN)
            part(buf, cap, &n,
                 "thread %u waits for its turn (acquisition %" PRIu32 ") at lock %08" PRIx32, s,
                 turn, name);
        else if (phase == DOING_OBTAIN)
            part(buf, cap, &n,
                 "thread %u has its turn (acquisition %" PRIu32 ") at lock %08" PRIx32
                 " and waits for the lock's release",
                 s, turn, name);
        else if (phase == DOING_PLACE)
            part(buf, cap, &n,
                 "thread %u, back from lock %08" PRIx32 " (acquisition %" PRIu32
                 "), waits for the run to reach event %" PRIu64,
                 s, name, turn, place);
        uint64_t g = atomic_load_explicit(&doing[s].gave_up, memory_order_acquire);
        uint32_t in = atomic_load_explicit(&doing[s].gave_up_in, memory_order_relaxed);
        if (g && in >= DOING_TURN && in <= DOING_PLACE)
            part(buf, cap, &n,
                 "thread %u let its claim on event %" PRIu64 " go at event %" PRIu64
                 ", after a second without progress %s",
                 s, g - 1, atomic_load_explicit(&doing[s].gave_up_at, memory_order_relaxed),
                 gave_up_in[in]);
    }
    /* The claims standing, and the threads about to take the GIL (rw_locks_returning). */
    top = atomic_load(&claim_top);
    for (uint32_t s = 1; s < top; s++) {
        uint64_t c = atomic_load_explicit(&claim[s], memory_order_acquire);
        uint64_t t = atomic_load_explicit(&soft[s], memory_order_relaxed);
        if (c)
            part(buf, cap, &n, "thread %u claims event %" PRIu64 "%s", s, c - 1,
                 t == SOFT_GONE ? " (no longer holding)" : t ? " (softly)" : "");
    }
    for (uint32_t s = 1; s < RW_LOCKS_RETURNING && s < CLAIMS; s++)
        if (atomic_load_explicit(&rw_locks_returning[s], memory_order_relaxed))
            part(buf, cap, &n, "thread %u is about to take the GIL", s);
    uint32_t (*holder)(void) = rw_locks_gil_holder;
    if (holder) {
        uint32_t h = holder();
        if (h == 0)
            part(buf, cap, &n, "the GIL is free");
        else if (h == UINT32_MAX)
            part(buf, cap, &n, "a thread rewind does not know holds the GIL");
        else
            part(buf, cap, &n, "thread %u holds the GIL", h);
    }
    return n;
}

/* Whether kernel thread tid of this process is running or waits only for a CPU
 * (/proc's state R), rather than sleeping in a wait (a C library's mutex). Raw system
 * calls: nothing of this is the program's. 0 when it cannot tell (the thread ended). */
static int runnable(pid_t tid)
{
    char path[48], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    int fd =
        (int)rw_in_raw_syscall(SYS_openat, AT_FDCWD, (long)path, O_RDONLY | O_CLOEXEC, 0, 0, 0);
    if (fd < 0)
        return 0;
    ssize_t n = rw_in_raw_syscall(SYS_read, fd, (long)buf, sizeof buf - 1, 0, 0, 0);
    rw_in_raw_syscall(SYS_close, fd, 0, 0, 0, 0, 0);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    const char *end = strrchr(buf, ')'); /* the name, in parentheses, may hold spaces */
    return end && end[1] == ' ' && end[2] == 'R';
}

/* A soft claim holds the others for about 50 ms, and for as long again each time its
 * thread is found runnable then: a thread that the machine's load keeps off a CPU is
 * not stuck (CI's busy runs let the thread that closes a socket go first, test_values
 * test_a_send_that_races_a_close); one asleep in a C library's mutex may be, on a
 * thread that waits for its turn. */
int rw_locks_claimed_before(uint64_t pos)
{
    uint32_t me = rw_in_tls.thread, top = atomic_load(&claim_top);
    for (uint32_t s = 1; s < top; s++) {
        uint64_t c = atomic_load_explicit(&claim[s], memory_order_acquire);
        if (c && s != me && c - 1 <= pos) {
            uint64_t t = atomic_load_explicit(&soft[s], memory_order_relaxed);
            if (t == SOFT_GONE)
                continue;
            if (t && ((rw_tick() - t) & RW_TICK_MASK) > SOFT_TICKS) {
                int r = runnable(atomic_load_explicit(&claim_tid[s], memory_order_relaxed));
                atomic_compare_exchange_strong(&soft[s], &t, r ? rw_tick() | 1 : SOFT_GONE);
                if (!r)
                    continue;
            }
            return 1;
        }
    }
    return 0;
}

void rw_locks_release(void)
{
    uint32_t me = rw_in_tls.thread;
    if (me < CLAIMS && atomic_load_explicit(&claim[me], memory_order_relaxed)) {
        atomic_store(&claim[me], 0);
        atomic_fetch_sub(&rw_locks_nclaims, 1);
    }
}

static void claim_at(uint64_t pos)
{
    uint32_t me = rw_in_tls.thread;
    if (me == 0 || me >= CLAIMS)
        return;
    rw_locks_release();
    raise_top(&claim_top, me);
    atomic_fetch_add(&rw_locks_nclaims, 1);
    atomic_store_explicit(&soft[me], 0, memory_order_relaxed);
    /* Not cached: a copy of the engine (a fork) has new thread ids. */
    pid_t tid = (pid_t)rw_in_raw_syscall(SYS_gettid, 0, 0, 0, 0, 0, 0);
    atomic_store_explicit(&claim_tid[me], tid, memory_order_relaxed);
    atomic_store(&claim[me], pos + 1);
}

/* A fallback: the calling thread's claim, if any, is let go after a second in which
 * nothing moved while it waited (`in`: a DOING_* phase), and noted for the report of a
 * turn that never comes (rw_locks_describe). */
static void give_up(uint32_t in)
{
    uint32_t me = rw_in_tls.thread;
    if (me == 0 || me >= CLAIMS)
        return;
    uint64_t c = atomic_load_explicit(&claim[me], memory_order_relaxed);
    if (c) {
        raise_top(&doing_top, me);
        atomic_store_explicit(&doing[me].gave_up_at, rw_st.nevents, memory_order_relaxed);
        atomic_store_explicit(&doing[me].gave_up_in, in, memory_order_relaxed);
        atomic_store_explicit(&doing[me].gave_up, c, memory_order_release);
    }
    rw_locks_release();
}

static int starts_known; /* rw_locks_input_starts; written before the run */

void rw_locks_input_starts(int on)
{
    starts_known = on;
}

uint64_t rw_locks_letting_go(void)
{
    uint32_t me = rw_in_tls.thread;
    if (!starts_known || atomic_load_explicit(&rw_in_global, memory_order_relaxed) != RW_IN_REPLAY ||
        rw_in_mode() != RW_IN_REPLAY || !rw_locks_next_event || !rw_tls.thread ||
        me >= CLAIMS || !rw_in_gil_held())
        return 0;
    uint64_t now = rw_st.nevents, at, began;
    if (!rw_in_next_positions(&at, &began) || at < now ||
        at > rw_locks_next_event(rw_tls.thread, now))
        return 0; /* the thread makes an event first */
    if (began <= now) {
        claim_at(now);
        atomic_store_explicit(&soft[me], rw_tick() | 1, memory_order_relaxed);
        return 0;
    }
    claim_at(began); /* held until the thread is there (rw_locks_wait_start) */
    return began;
}

/* Waits, without the GIL, until the run is at `place`: 1, or 0 when nothing moved for
 * a second while the engine ran. */
static int run_reaches(uint64_t place)
{
    volatile uint64_t *nev = &rw_st.nevents; /* the GIL holder's count: read racily */
    uint64_t now = *nev;
    if (now >= place)
        return 1;
    rw_in_pause();
    int saved = errno, reached = 1;
    uint64_t seen = now;
    unsigned naps = 0; /* of 50 µs since the count last moved */
    while ((now = *nev) < place) {
        if (now != seen || atomic_load(&rw_locks_engine_stopped)) {
            seen = now;
            naps = 0;
        } else if (++naps > 20000) {
            reached = 0;
            break;
        }
        struct timespec nap = {0, 50000};
        nanosleep(&nap, NULL);
    }
    errno = saved;
    rw_in_resume();
    return reached;
}

void rw_locks_wait_start(uint64_t began)
{
    (void)run_reaches(began); /* or not: the check reports a divergence, if it is one */
    uint32_t me = rw_in_tls.thread;
    if (me < CLAIMS)
        atomic_store_explicit(&soft[me], rw_tick() | 1, memory_order_relaxed);
}

#define TAG_MAGIC 0x6b636c72u /* "rlck" */
#define SHARED_OFFSET 8       /* glibc's struct new_sem: the futex flags after the value */
#define TAG_OFFSET 16         /* glibc's struct new_sem on 64-bit */

/* The tag in a sem_t's unused half. turn: record: the next number to hand out;
 * replay: the number whose turn it is (the futex word the others sleep on). waiters:
 * replay, threads asleep on turn. name: (maker's stream << 20) + its rank, in 32
 * bits: compared on replay to find a divergence, not to find the semaphore. */
typedef struct sem_tag {
    uint32_t magic;
    _Atomic uint32_t turn;
    _Atomic uint32_t waiters;
    uint32_t name;
} sem_tag;

_Static_assert(sizeof(sem_t) >= TAG_OFFSET + sizeof(sem_tag), "sem_t has no room for the tag");
_Static_assert(sizeof(void *) == 8, "the tag's offset is glibc's 64-bit layout");

/* Which function an acquisition was (the key's second number). */
enum { OP_WAIT = 0, OP_TRY = 1, OP_TIMED = 2, OP_CLOCK = 3 };
static const char *const op_name[] = {"sem_wait", "sem_trywait", "sem_timedwait",
                                      "sem_clockwait"};

/* This file's state. real: the C library's functions, resolved before main (or on the
 * first call), read-only afterwards. turns: replay, acquisitions replayed so far (any
 * thread, atomically): with the event count, the progress a waiting thread watches.
 * Global because wrappers get no context. */
static struct locks_state {
    struct {
        int (*sem_init)(sem_t *, int, unsigned);
        int (*sem_destroy)(sem_t *);
        int (*sem_wait)(sem_t *);
        int (*sem_trywait)(sem_t *);
        int (*sem_timedwait)(sem_t *, const struct timespec *);
        int (*sem_clockwait)(sem_t *, clockid_t, const struct timespec *);
        int (*sem_getvalue)(sem_t *restrict, int *restrict);
        int (*sem_post)(sem_t *);
        long (*syscall)(long, ...);
    } real;
    _Atomic uint64_t turns;
    int usable; /* the C library leaves a sem_t's tail alone (probed at start-up) */
    int shared_known; /* the flag word at SHARED_OFFSET tells shared from private (probed) */
    uint32_t shared_flag; /* its value on a shared one */
} lst;

/* Per thread: semaphores this thread made while logged (the rank in their names). */
static __thread uint32_t made;

#define FIND(name) lst.real.name = (__typeof__(lst.real.name))dlsym(RTLD_NEXT, #name)
#define REAL(name)                                                                       \
    (RW_LIKELY(lst.real.name != NULL)                                                    \
         ? lst.real.name                                                                 \
         : (__typeof__(lst.real.name))rw_libc_late((void **)&lst.real.name, #name))

/* The futex flag word of glibc's semaphore (LLL_SHARED, 128, when other processes
 * share it; LLL_PRIVATE, 0, when not). */
static uint32_t flag_word(const sem_t *s)
{
    uint32_t w;
    memcpy(&w, (const char *)s + SHARED_OFFSET, sizeof w);
    return w;
}

__attribute__((constructor(101))) static void find_real(void)
{
    FIND(sem_init);
    FIND(sem_destroy);
    FIND(sem_wait);
    FIND(sem_trywait);
    FIND(sem_timedwait);
    FIND(sem_clockwait);
    FIND(sem_getvalue);
    FIND(sem_post);
    FIND(syscall);
    /* The tag's room: a C library whose operations used the whole sem_t would
     * overwrite the tag here, and no semaphore is ever tagged then (locks stay
     * unordered). */
    if (lst.real.sem_init && lst.real.sem_destroy && lst.real.sem_trywait) {
        sem_t probe;
        if (lst.real.sem_init(&probe, 0, 1) == 0) {
            /* After sem_init (a sanitizer's clears the whole sem_t): the operations. */
            memset((char *)&probe + TAG_OFFSET, 0xa5, sizeof(sem_tag));
            unsigned char tail[sizeof(sem_tag)];
            memcpy(tail, (char *)&probe + TAG_OFFSET, sizeof tail);
            lst.real.sem_trywait(&probe);
            sem_post(&probe);
            lst.real.sem_trywait(&probe);
            lst.usable = !memcmp(tail, (char *)&probe + TAG_OFFSET, sizeof tail);
            lst.real.sem_destroy(&probe);
        }
        sem_t priv, shared;
        if (lst.real.sem_init(&priv, 0, 0) == 0 && lst.real.sem_init(&shared, 1, 0) == 0) {
            lst.shared_flag = flag_word(&shared);
            lst.shared_known = lst.shared_flag != flag_word(&priv);
            lst.real.sem_destroy(&priv);
            lst.real.sem_destroy(&shared);
        }
    }
}

/* A record's 4-byte little-endian numbers (a turn, a value). */
static void le32_put(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
}

static uint32_t le32_get(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline sem_tag *tag_of(sem_t *s)
{
    return (sem_tag *)((char *)s + TAG_OFFSET);
}

int sem_init(sem_t *s, int pshared, unsigned value)
{
    int r = REAL(sem_init)(s, pshared, value);
    if (r == 0 && lst.usable) {
        int e = errno;
        sem_tag *t = tag_of(s);
        if (!pshared && rw_in_mode() != RW_IN_OFF &&
            atomic_load_explicit(&rw_in_global, memory_order_relaxed) != RW_IN_EVAL) {
            t->name = (rw_in_tls.thread << 20) + made++;
            atomic_store_explicit(&t->turn, 0, memory_order_relaxed);
            atomic_store_explicit(&t->waiters, 0, memory_order_relaxed);
            t->magic = TAG_MAGIC;
        } else {
            t->magic = 0;
        }
        errno = e;
    }
    return r;
}

int sem_destroy(sem_t *s)
{
    if (lst.usable)
        tag_of(s)->magic = 0;
    return REAL(sem_destroy)(s);
}

/* The C library's acquisition op. */
static int perform(sem_t *s, int op, clockid_t clk, const struct timespec *abs)
{
    switch (op) {
    case OP_TRY:
        return REAL(sem_trywait)(s);
    case OP_TIMED:
        return REAL(sem_timedwait)(s, abs);
    case OP_CLOCK:
        return REAL(sem_clockwait)(s, clk, abs);
    default:
        return REAL(sem_wait)(s);
    }
}

static long futex(_Atomic uint32_t *word, int fop, uint32_t val, const struct timespec *rel)
{
    return REAL(syscall)(SYS_futex, (uint32_t *)word, fop, val, rel, NULL, 0);
}

/* Replay: gives up the GIL when the calling thread holds it (another thread's earlier
 * turn may need it to get there); NULL when it did not. own: the acquisition's recorded
 * position when it was logged with the GIL held (exact), else UINT64_MAX. A thread that
 * held the GIL in the recording kept it through the acquisition: no other thread made an
 * event meanwhile. So it claims its own place before letting go (locks.h): the others'
 * earlier turns may still need their events before it, none may make one at it or later
 * (a producer's put would fill the queue its get then finds empty no more). */
static PyThreadState *let_go(uint64_t own)
{
    if (!rw_in_gil_held())
        return NULL;
    if (own != UINT64_MAX && rw_st.nevents <= own)
        claim_at(own);
    return PyEval_SaveThread();
}

static void take_back(PyThreadState *ts)
{
    if (ts)
        PyEval_RestoreThread(ts);
}

static uint64_t progress(void)
{
    return rw_st.nevents + atomic_load_explicit(&lst.turns, memory_order_relaxed);
}

/* Replay: sleeps until semaphore t's turn is `mine`. */
static void wait_turn(sem_tag *t, uint32_t mine, int op, uint64_t own)
{
    if (atomic_load_explicit(&t->turn, memory_order_acquire) == mine)
        return;
    rw_in_pause(); /* the GIL's and the futex's own calls are not the program's */
    int saved = errno;
    PyThreadState *ts = let_go(own);
    doing_set(DOING_TURN, t->name, mine, 0);
    atomic_fetch_add(&t->waiters, 1);
    uint64_t seen = progress();
    unsigned idle = 0;
    for (;;) {
        uint32_t cur = atomic_load_explicit(&t->turn, memory_order_acquire);
        if (cur == mine)
            break;
        char msg[3072];
        if ((int32_t)(cur - mine) > 0) {
            snprintf(msg, sizeof msg,
                     "thread %u's %s of lock %08" PRIx32 " was the lock's acquisition %" PRIu32
                     " in the recording, and the replay is past it (at %" PRIu32 ")",
                     rw_in_tls.thread, op_name[op], t->name, mine, cur);
            rw_in_diverge(msg, NULL);
        }
        struct timespec second = {1, 0};
        if (futex(&t->turn, FUTEX_WAIT_PRIVATE, cur, &second) == 0 || errno != ETIMEDOUT)
            continue;
        uint64_t now = progress();
        if (now != seen || atomic_load(&rw_locks_engine_stopped)) {
            seen = now;
            idle = 0;
        } else if (++idle == 1) {
            give_up(DOING_TURN); /* a claim of this thread may hold the others back */
        } else if (idle >= 10) {
            int k = snprintf(msg, sizeof msg,
                             "thread %u waits for its turn at lock %08" PRIx32
                             " (the recording's acquisition %" PRIu32
                             ", by %s), but acquisition %" PRIu32
                             " of that lock never came (",
                             rw_in_tls.thread, t->name, mine, op_name[op], cur);
            if (k > 0 && (size_t)k < sizeof msg - 2) {
                size_t n = (size_t)k + rw_locks_describe(msg + k, sizeof msg - (size_t)k - 1);
                snprintf(msg + n, sizeof msg - n, ")");
            }
            rw_in_diverge(msg, NULL);
        }
    }
    doing_done();
    atomic_fetch_sub(&t->waiters, 1);
    take_back(ts);
    errno = saved;
    rw_in_resume();
}

/* Replay: takes semaphore s for real (its turn has come; a release may still be on its
 * way), without the GIL while it blocks (own: as for let_go). */
static void obtain(sem_t *s, uint64_t own, uint32_t mine)
{
    if (REAL(sem_trywait)(s) == 0)
        return;
    rw_in_pause();
    PyThreadState *ts = let_go(own);
    doing_set(DOING_OBTAIN, tag_of(s)->name, mine, 0);
    for (;;) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += 1;
        if (REAL(sem_clockwait)(s, CLOCK_MONOTONIC, &until) == 0)
            break;
        if (errno == ETIMEDOUT)
            give_up(DOING_OBTAIN); /* a second without the release: let the others on */
    }
    doing_done();
    take_back(ts);
    rw_in_resume();
}

/* Replay: the turn is done: the next one's. */
static void next_turn(sem_tag *t)
{
    atomic_fetch_add_explicit(&t->turn, 1, memory_order_release);
    atomic_fetch_add_explicit(&lst.turns, 1, memory_order_relaxed);
    if (atomic_load(&t->waiters))
        futex(&t->turn, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
}

/* Replay, for an acquisition made without the GIL (the thread blocked in C, and the
 * GIL's hand-over decided when it came back): the place where the recording's thread
 * had the GIL back — its next event, or its next input before that (logged with the
 * GIL held, at an exact position) — counted from `from`, the acquisition's recorded
 * position. UINT64_MAX when unknown. */
static uint64_t place_of(uint64_t from)
{
    uint64_t (*next)(uint32_t, uint64_t) = rw_locks_next_event;
    if (!next || !rw_tls.thread)
        return UINT64_MAX;
    uint64_t place = next(rw_tls.thread, from), at;
    if (rw_in_next_position(&at) && at < place)
        place = at;
    return place;
}

/* Tests (REWIND_REPLAY_WAKE_DELAY_MS, read before the program's environment replaces
 * the engine's; 0 to 999): a thread back from a wait in C says so that much later, as
 * when the kernel runs it late on a busy machine. */
static unsigned wake_delay_ms;

__attribute__((constructor)) static void wake_delay_read(void)
{
    const char *ms = getenv("REWIND_REPLAY_WAKE_DELAY_MS");
    if (ms)
        wake_delay_ms = (unsigned)strtoul(ms, NULL, 10) % 1000u;
}

/* Replay: waits, before the caller takes the GIL again, until the run is at `place`
 * (which the thread claimed, locks.h: no other thread makes an event there or later
 * meanwhile), so that what it reads then (a queue's items) is what the recording's
 * thread read. When nothing moves for a second while the engine runs, it goes on (the
 * event check reports a divergence, if it is one). */
static void resume_in_place(uint64_t place)
{
    if (RW_UNLIKELY(wake_delay_ms)) /* tests: a busy machine's late wake-up */
        rw_in_sleep_ms(wake_delay_ms);
    if (rw_tls.thread && rw_tls.thread < RW_LOCKS_RETURNING)
        atomic_store_explicit(&rw_locks_returning[rw_tls.thread], 1, memory_order_release);
    if (place != UINT64_MAX && !run_reaches(place))
        give_up(DOING_PLACE);
}

void rw_locks_returned(void)
{
    if (rw_tls.thread && rw_tls.thread < RW_LOCKS_RETURNING)
        atomic_store_explicit(&rw_locks_returning[rw_tls.thread], 0, memory_order_relaxed);
}

void rw_locks_resume_after(uint64_t recorded_pos)
{
    rw_locks_returned();
    if (rw_in_gil_held())
        return;
    uint64_t place = place_of(recorded_pos);
    if (place == UINT64_MAX || rw_st.nevents >= place)
        return;
    claim_at(place);
    resume_in_place(place);
}

/* A process-shared semaphore (the header): logged as an input, answered from the log. */
static int shared_acquire(sem_t *s, int m, int op, clockid_t clk, const struct timespec *abs)
{
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, op);
    if (m == RW_IN_RECORD) {
        int r = perform(s, op, clk, abs);
        return (int)rw_in_logged(RW_CALL_SEM_SHARED, &k, r, r == 0 ? 0 : errno, NULL, 0);
    }
    const rw_input *g = rw_in_take(RW_CALL_SEM_SHARED, &k);
    if (g->result == 0)
        REAL(sem_trywait)(s); /* in step, for an evaluation's get_value: never waits */
    return (int)rw_in_return(g);
}

static int is_shared(sem_t *s)
{
    return lst.shared_known && flag_word(s) == lst.shared_flag;
}

/* The capture mode for a call on semaphore s when it is a process-shared one (the
 * header), else RW_IN_OFF (the C library's call is made as it is). */
static int shared_mode(sem_t *s)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF) || !is_shared(s) ||
        atomic_load_explicit(&rw_in_global, memory_order_relaxed) == RW_IN_EVAL)
        return RW_IN_OFF;
    return m;
}

static int acquire(sem_t *s, int op, clockid_t clk, const struct timespec *abs)
{
    int m = rw_in_mode();
    sem_tag *t = tag_of(s);
    if (RW_LIKELY(m == RW_IN_OFF) ||
        atomic_load_explicit(&rw_in_global, memory_order_relaxed) == RW_IN_EVAL)
        return perform(s, op, clk, abs);
    if (RW_UNLIKELY(is_shared(s)))
        return shared_acquire(s, m, op, clk, abs);
    if (RW_LIKELY(!atomic_load_explicit(&rw_locks_threaded, memory_order_relaxed)) ||
        t->magic != TAG_MAGIC)
        return perform(s, op, clk, abs);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, t->name);
    rw_in_key_i64(&k, op);
    if (m == RW_IN_RECORD) {
        int r = perform(s, op, clk, abs);
        int e = errno;
        uint8_t le[4];
        le32_put(le, atomic_fetch_add(&t->turn, 1));
        return (int)rw_in_logged(RW_CALL_SEM_WAIT, &k, r, r == 0 ? 0 : e, le, sizeof le);
    }
    rw_locks_returned();
    const rw_input *g = rw_in_take(RW_CALL_SEM_WAIT, &k);
    if (g->data_len != 4)
        rw_in_diverge("a lock acquisition's record has no turn number", g);
    uint32_t mine = le32_get(g->data);
    int r = (int)g->result, e = g->err;
    int held = rw_in_gil_held();
    uint64_t place = held ? UINT64_MAX : place_of(g->position);
    if (place != UINT64_MAX && rw_st.nevents < place)
        claim_at(place); /* before the wait: the wake-up may come late */
    uint64_t own = held ? g->position : UINT64_MAX;
    wait_turn(t, mine, op, own);
    if (r == 0)
        obtain(s, own, mine);
    next_turn(t);
    if (!held) {
        /* The claim made before the wait may have been let go by a fallback (a second
         * without progress while it waited for its turn or the release: a busy
         * machine's): the thread is back now, and holds the others at its place again. */
        uint32_t me = rw_in_tls.thread;
        if (place != UINT64_MAX && rw_st.nevents < place && me < CLAIMS &&
            atomic_load_explicit(&claim[me], memory_order_relaxed) != place + 1)
            claim_at(place);
        doing_set(DOING_PLACE, t->name, mine, place);
        resume_in_place(place);
        doing_done();
    }
    errno = e;
    return r;
}

int sem_wait(sem_t *s)
{
    return acquire(s, OP_WAIT, CLOCK_REALTIME, NULL);
}

int sem_trywait(sem_t *s)
{
    return acquire(s, OP_TRY, CLOCK_REALTIME, NULL);
}

int sem_timedwait(sem_t *s, const struct timespec *abs)
{
    return acquire(s, OP_TIMED, CLOCK_REALTIME, abs);
}

int sem_clockwait(sem_t *s, clockid_t clk, const struct timespec *abs)
{
    return acquire(s, OP_CLOCK, clk, abs);
}

int sem_post(sem_t *s)
{
    int m = shared_mode(s);
    if (RW_LIKELY(m == RW_IN_OFF))
        return REAL(sem_post)(s);
    rw_in_key k;
    rw_in_key_init(&k);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_SEM_POST, &k);
        if (g->result == 0)
            REAL(sem_post)(s); /* in step; the copy may be full (no child took from it) */
        return (int)rw_in_return(g);
    }
    int r = REAL(sem_post)(s);
    return (int)rw_in_logged(RW_CALL_SEM_POST, &k, r, r == 0 ? 0 : errno, NULL, 0);
}

int sem_getvalue(sem_t *restrict s, int *restrict value)
{
    int m = shared_mode(s);
    if (RW_LIKELY(m == RW_IN_OFF))
        return REAL(sem_getvalue)(s, value);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_SEM_GETVALUE, NULL);
        if (g->data_len == 4)
            *value = (int)le32_get(g->data);
        return (int)rw_in_return(g);
    }
    int r = REAL(sem_getvalue)(s, value);
    int e = errno;
    uint8_t le[4];
    le32_put(le, r == 0 ? (uint32_t)*value : 0);
    rw_in_key k;
    rw_in_key_init(&k);
    return (int)rw_in_logged(RW_CALL_SEM_GETVALUE, &k, r, r == 0 ? 0 : e, r == 0 ? le : NULL,
                             r == 0 ? sizeof le : 0);
}
