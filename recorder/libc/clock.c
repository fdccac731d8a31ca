/* Time: the clocks, CPU times, sleeps and local time, logged when recording and
 * answered from the log when replaying (input.h; DESIGN.md, "Nondeterministic inputs").
 *
 * Wraps: clock_gettime, clock_getres, gettimeofday, time, times, clock, getrusage,
 * nanosleep, clock_nanosleep, localtime_r, localtime, mktime, tzset, pthread_getcpuclockid;
 * clock_settime and settimeofday (not performed on replay). gmtime/gmtime_r
 * are a pure function of their argument and are not wrapped. glibc's tz code reads TZ
 * and /etc/localtime through its own internals (research/reexecution.md, section 2), so
 * the outer functions are what is logged.
 *
 * Which calls are logged. Every function but the sleeps is logged only when the calling
 * thread holds the GIL (rw_in_gil_held, or under a subinterpreter's thread state), or
 * when OpenSSL or GLib calls it: the interpreter reads the monotonic clock while a
 * thread waits for the GIL or for a lock with a timeout, as often as timing decides,
 * so those reads cannot repeat in a replay; without the GIL a wrapper calls the C
 * library in both modes. OpenSSL runs without the GIL (a handshake) and reads the time
 * a fixed number of times: a session's creation time, a certificate's validity, a
 * ticket's age, which a replay must see as recorded. GLib's main loop (PyGObject's
 * GLib.MainLoop.run lets the GIL go) reads the monotonic clock once or twice an
 * iteration and computes its poll's timeout from it; its iterations follow its poll's
 * results, which are logged. Sleeps are logged whoever calls them (time.sleep drops
 * the GIL first); a replayed sleep does not sleep.
 *
 * Records (key: little-endian int64s; tm = 10 int64s sec, min, hour, mday, mon, year,
 * wday, yday, isdst, gmtoff, then the zone name without its NUL):
 *   call           key                          result        data
 *   CLOCK_GETTIME  clock                        0 / -1        struct timespec
 *   CLOCK_GETRES   clock                        0 / -1        struct timespec (res given)
 *   CLOCK_SETTIME  clock (-1: settimeofday),    0 / -1        -
 *                  sec, nsec (usec)
 *   GETCPUCLOCKID  -                            0 / error     the clock id (int64)
 *   GETTIMEOFDAY   -                            0 / -1        struct timeval, then
 *                                                             struct timezone (tz given)
 *   TIME           -                            the time      -
 *   TIMES          -                            clock_t       struct tms (buf given)
 *   CLOCK          -                            clock_t       -
 *   GETRUSAGE      who                          0 / -1        struct rusage
 *   SLEEP          clock (-1: nanosleep),       0, -1 or an   struct timespec remaining
 *                  flags, req sec, req nsec     error number  (rem given, result != 0)
 *   LOCALTIME      *t                           1 / 0 (NULL)  tm
 *   MKTIME         sec, min, hour, mday, mon,   time_t        tm (the normalised struct)
 *                  year, isdst (the input)
 *   TZSET          -                            0             timezone, daylight (int64),
 *                                                             tzname[0] NUL tzname[1] NUL
 * Replay: a struct tm's tm_zone and tzname[] point at interned copies owned here
 * (never freed: a program may keep them), localtime() returns a struct owned here.
 * Replayed tzset and localtime do not change glibc's own idea of the zone (strftime's
 * %Z reads tm_zone, which is replayed).
 *
 * Chaos mode (recorder/chaos.h) moves clock_gettime's and gettimeofday's values ahead
 * before they are logged: the program, and its replay, see the perturbed value.
 *
 * Rules for this folder: recorder/libc/README.md.
 */
#include "input.h"

#include "chaos.h"
#include "sites.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>

#define ZONES 64    /* distinct zone names a replay can hand out */
#define ZONE_LEN 32 /* bytes per name, NUL included (TZNAME_MAX is 6 on Linux) */
#define TM_WORDS 10 /* int64s of a logged struct tm before its zone name */

/* This file's state. real: the C library's functions, resolved before main by
 * find_real, read-only afterwards. zones/nzones: replay's interned zone names, added
 * under zone_lock by any program thread, never removed (pointers handed out stay
 * valid). local_tm: what a replayed localtime() returns, as glibc's static struct is
 * (not thread-safe, like the real one). sites: counted_site's memo (sites.h).
 * Global because wrappers get no context. */
static struct clock_state {
    struct {
        int (*clock_gettime)(clockid_t, struct timespec *);
        int (*clock_getres)(clockid_t, struct timespec *);
        int (*clock_settime)(clockid_t, const struct timespec *);
        int (*settimeofday)(const struct timeval *, const struct timezone *);
        int (*pthread_getcpuclockid)(pthread_t, clockid_t *);
        int (*gettimeofday)(struct timeval *, void *);
        time_t (*time)(time_t *);
        clock_t (*times)(struct tms *);
        clock_t (*clock)(void);
        int (*getrusage)(__rusage_who_t, struct rusage *);
        int (*nanosleep)(const struct timespec *, struct timespec *);
        int (*clock_nanosleep)(clockid_t, int, const struct timespec *, struct timespec *);
        struct tm *(*localtime_r)(const time_t *, struct tm *);
        struct tm *(*localtime)(const time_t *);
        time_t (*mktime)(struct tm *);
        void (*tzset)(void);
    } real;
    rw_sites sites; /* call sites of reads without the GIL: whether each is OpenSSL's */
    atomic_flag zone_lock;
    unsigned nzones;
    char zones[ZONES][ZONE_LEN];
    struct tm local_tm;
} cst = {.zone_lock = ATOMIC_FLAG_INIT, .sites = RW_SITES_INIT};

#define FIND(name) cst.real.name = (__typeof__(cst.real.name))dlsym(RTLD_NEXT, #name)

/* The C library's name: resolved before main, or on the first call when a wrapper runs
 * before the constructors (a sanitizer's run-time calls getrlimit while it loads). */
#define REAL(name)                                                                       \
    (RW_LIKELY(cst.real.name != NULL)                                                \
         ? cst.real.name                                                            \
         : (__typeof__(cst.real.name))rw_libc_late((void **)&cst.real.name, #name))

/* Early (priority 101): before any other constructor could read a clock. */
__attribute__((constructor(101))) static void find_real(void)
{
    FIND(clock_gettime);
    FIND(clock_getres);
    FIND(clock_settime);
    FIND(settimeofday);
    FIND(pthread_getcpuclockid);
    FIND(gettimeofday);
    FIND(time);
    FIND(times);
    FIND(clock);
    FIND(getrusage);
    FIND(nanosleep);
    FIND(clock_nanosleep);
    FIND(localtime_r);
    FIND(localtime);
    FIND(mktime);
    FIND(tzset);
}

/* GLib's reads are logged (rw_clock_glib_logged): 0 in the engine of a trace made
 * before they were (no "glib-clock" feature). Set before the program runs. */
static int glib_logged = 1;

void rw_clock_glib_logged(int on)
{
    glib_logged = on;
}

/* Whether the code at return address ret is a library whose clock reads without the
 * GIL are as many in a replay (above): OpenSSL's (libssl, libcrypto) or GLib's. */
static int counted_code(uintptr_t ret)
{
    Dl_info di;
    if (!dladdr((void *)ret, &di) || !di.dli_fname)
        return 0;
    const char *base = strrchr(di.dli_fname, '/');
    base = base ? base + 1 : di.dli_fname;
    return !strncmp(base, "libcrypto.so", 12) || !strncmp(base, "libssl.so", 9) ||
           (glib_logged && !strncmp(base, "libglib-2.0.so", 14));
}

/* rw_sites_get's maker: 1 (as a pointer) when the code at ret is counted_code. */
static void *counted_verdict(uintptr_t ret, const void *arg)
{
    (void)arg;
    return (void *)(uintptr_t)counted_code(ret);
}

/* Whether a clock read made without the GIL from return address ret is logged,
 * remembered per call site (a handful: the interpreter's waits, OpenSSL's session and
 * certificate times, GLib's main loop). */
static int counted_site(const void *ret)
{
    return rw_sites_get(&cst.sites, ret, counted_verdict, NULL) != NULL;
}

/* The mode for a clock read from return address ret: RW_IN_OFF unless the caller is
 * logged and holds the GIL (in the main interpreter or a subinterpreter), or is OpenSSL
 * or GLib (their reads without the GIL are as many in a replay: a session's time, a
 * certificate's validity checked against the recording's date, not the replay's; a
 * main loop's timeouts). */
static inline int clock_mode_from(const void *ret)
{
    int m = rw_in_mode();
    if (RW_LIKELY(m == RW_IN_OFF) || (!rw_in_gil_held() &&
                                      !rw_in_gil_held_in_subinterpreter() &&
                                      !counted_site(ret)))
        return RW_IN_OFF;
    return m;
}
#define clock_mode() clock_mode_from(__builtin_return_address(0))

/* ---- clocks ---- */

int clock_gettime(clockid_t clock, struct timespec *tp)
{
    int m = clock_mode();
    if (RW_LIKELY(m == RW_IN_OFF))
        return REAL(clock_gettime)(clock, tp);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, clock);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_CLOCK_GETTIME, &k);
        rw_in_give(tp, sizeof *tp, g);
        return (int)rw_in_return(g);
    }
    int r = REAL(clock_gettime)(clock, tp);
    int e = errno;
    if (RW_UNLIKELY(r == 0 && rw_chaos_active()))
        rw_chaos_clock(clock, tp);
    rw_in_put(RW_CALL_CLOCK_GETTIME, r, e, &k, r == 0 ? tp : NULL, sizeof *tp);
    errno = e;
    return r;
}

int clock_getres(clockid_t clock, struct timespec *res)
{
    int m = clock_mode();
    if (m == RW_IN_OFF)
        return REAL(clock_getres)(clock, res);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, clock);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_CLOCK_GETRES, &k);
        rw_in_give(res, sizeof *res, g);
        return (int)rw_in_return(g);
    }
    int r = REAL(clock_getres)(clock, res);
    int e = errno;
    rw_in_put(RW_CALL_CLOCK_GETRES, r, e, &k, r == 0 && res ? res : NULL, sizeof *res);
    errno = e;
    return r;
}

/* Setting a clock changes the machine: done when recording (the program asked for it),
 * its result logged, and not done on replay (the sandbox would stop the engine). Logged
 * whoever calls, as the sleeps are. Key: the clock (-1: settimeofday) and the time
 * asked for (seconds, then nanoseconds or microseconds). */
static void set_key(rw_in_key *k, int64_t clock, int64_t sec, int64_t frac)
{
    rw_in_key_init(k);
    rw_in_key_i64(k, clock);
    rw_in_key_i64(k, sec);
    rw_in_key_i64(k, frac);
}

int clock_settime(clockid_t clock, const struct timespec *tp)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(clock_settime)(clock, tp);
    rw_in_key k;
    set_key(&k, clock, tp->tv_sec, tp->tv_nsec); /* tp: declared nonnull */
    if (m == RW_IN_REPLAY)
        return (int)rw_in_replayed(RW_CALL_CLOCK_SETTIME, &k, NULL, 0);
    int r = REAL(clock_settime)(clock, tp);
    return (int)rw_in_logged(RW_CALL_CLOCK_SETTIME, &k, r, errno, NULL, 0);
}

int settimeofday(const struct timeval *tv, const struct timezone *tz)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(settimeofday)(tv, tz);
    rw_in_key k;
    set_key(&k, -1, tv ? tv->tv_sec : -1, tv ? tv->tv_usec : -1);
    if (m == RW_IN_REPLAY)
        return (int)rw_in_replayed(RW_CALL_CLOCK_SETTIME, &k, NULL, 0);
    int r = REAL(settimeofday)(tv, tz);
    return (int)rw_in_logged(RW_CALL_CLOCK_SETTIME, &k, r, errno, NULL, 0);
}

/* A thread's CPU-time clock id encodes its kernel thread id, another number in a
 * replay: the recorded id is handed back (time.pthread_getcpuclockid), and a read of
 * that clock is answered from the log under it. */
int pthread_getcpuclockid(pthread_t thread, clockid_t *clock)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(pthread_getcpuclockid)(thread, clock);
    rw_in_key k;
    rw_in_key_init(&k);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_GETCPUCLOCKID, &k);
        int64_t id = 0;
        if (g->data_len == sizeof id) {
            memcpy(&id, g->data, sizeof id);
            *clock = (clockid_t)id;
        }
        return (int)g->result; /* an error number, as the call returns it */
    }
    int r = REAL(pthread_getcpuclockid)(thread, clock);
    int64_t id = r == 0 ? (int64_t)*clock : 0;
    rw_in_put(RW_CALL_GETCPUCLOCKID, r, 0, &k, r == 0 ? &id : NULL, sizeof id);
    return r;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    int m = clock_mode();
    if (m == RW_IN_OFF)
        return REAL(gettimeofday)(tv, tz);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_GETTIMEOFDAY, NULL);
        rw_in_give(tv, sizeof *tv, g);
        if (tz && g->data_len >= sizeof *tv + sizeof(struct timezone))
            memcpy(tz, g->data + sizeof *tv, sizeof(struct timezone));
        return (int)rw_in_return(g);
    }
    int r = REAL(gettimeofday)(tv, tz);
    int e = errno;
    if (RW_UNLIKELY(r == 0 && rw_chaos_active()))
        rw_chaos_timeval(tv);
    unsigned char d[sizeof(struct timeval) + sizeof(struct timezone)] = {0};
    memcpy(d, tv, sizeof *tv); /* declared nonnull */
    if (tz)
        memcpy(d + sizeof *tv, tz, sizeof(struct timezone));
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_put(RW_CALL_GETTIMEOFDAY, r, e, &k, r == 0 ? d : NULL,
              tz ? sizeof d : sizeof(struct timeval));
    errno = e;
    return r;
}

time_t time(time_t *t)
{
    int m = clock_mode();
    if (RW_LIKELY(m == RW_IN_OFF))
        return REAL(time)(t);
    rw_in_key k;
    rw_in_key_init(&k);
    if (m == RW_IN_REPLAY) {
        time_t r = (time_t)rw_in_return(rw_in_take(RW_CALL_TIME, &k));
        if (t)
            *t = r;
        return r;
    }
    time_t r = REAL(time)(t);
    rw_in_put(RW_CALL_TIME, r, errno, &k, NULL, 0);
    return r;
}

clock_t times(struct tms *buf)
{
    int m = clock_mode();
    if (m == RW_IN_OFF)
        return REAL(times)(buf);
    rw_in_key k;
    rw_in_key_init(&k);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_TIMES, &k);
        rw_in_give(buf, sizeof *buf, g);
        return (clock_t)rw_in_return(g);
    }
    clock_t r = REAL(times)(buf);
    int e = errno;
    rw_in_put(RW_CALL_TIMES, r, e, &k, r != (clock_t)-1 ? buf : NULL, sizeof *buf);
    errno = e;
    return r;
}

clock_t clock(void)
{
    int m = clock_mode();
    if (m == RW_IN_OFF)
        return REAL(clock)();
    rw_in_key k;
    rw_in_key_init(&k);
    if (m == RW_IN_REPLAY)
        return (clock_t)rw_in_return(rw_in_take(RW_CALL_CLOCK, &k));
    clock_t r = REAL(clock)();
    int e = errno;
    rw_in_put(RW_CALL_CLOCK, r, e, &k, NULL, 0);
    errno = e;
    return r;
}

int getrusage(__rusage_who_t who, struct rusage *usage)
{
    int m = clock_mode();
    if (m == RW_IN_OFF)
        return REAL(getrusage)(who, usage);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, who);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_GETRUSAGE, &k);
        rw_in_give(usage, sizeof *usage, g);
        return (int)rw_in_return(g);
    }
    int r = REAL(getrusage)(who, usage);
    int e = errno;
    rw_in_put(RW_CALL_GETRUSAGE, r, e, &k, r == 0 ? usage : NULL, sizeof *usage);
    errno = e;
    return r;
}

/* ---- sleeps ---- */

static void sleep_key(rw_in_key *k, int64_t clock, int flags, const struct timespec *req)
{
    rw_in_key_init(k);
    rw_in_key_i64(k, clock);
    rw_in_key_i64(k, flags);
    rw_in_key_i64(k, req ? (int64_t)req->tv_sec : 0);
    rw_in_key_i64(k, req ? (int64_t)req->tv_nsec : 0);
}

int nanosleep(const struct timespec *req, struct timespec *rem)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(nanosleep)(req, rem);
    rw_in_key k;
    sleep_key(&k, -1, 0, req);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_SLEEP, &k);
        rw_in_give(rem, sizeof *rem, g);
        return (int)rw_in_return(g);
    }
    int r = REAL(nanosleep)(req, rem);
    int e = errno;
    rw_in_put(RW_CALL_SLEEP, r, e, &k, r != 0 ? rem : NULL, sizeof *rem);
    errno = e;
    return r;
}

int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req,
                    struct timespec *rem)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(clock_nanosleep)(clock, flags, req, rem);
    rw_in_key k;
    sleep_key(&k, clock, flags, req);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_SLEEP, &k);
        rw_in_give(rem, sizeof *rem, g);
        return (int)rw_in_return(g);
    }
    int r = REAL(clock_nanosleep)(clock, flags, req, rem);
    int e = errno;
    rw_in_put(RW_CALL_SLEEP, r, e, &k, r != 0 ? rem : NULL, sizeof *rem);
    errno = e;
    return r;
}

/* ---- local time ---- */

/* A zone name owned here with the text of s[0..n) (cut to ZONE_LEN - 1 bytes); the
 * same pointer for the same text. Takes zone_lock. */
static char *intern_zone(const char *s, size_t n)
{
    static char full[] = "???"; /* after ZONES distinct names: none expected */
    if (n >= ZONE_LEN)
        n = ZONE_LEN - 1;
    char *out = full;
    while (atomic_flag_test_and_set_explicit(&cst.zone_lock, memory_order_acquire))
        ;
    unsigned i;
    for (i = 0; i < cst.nzones; i++)
        if (strlen(cst.zones[i]) == n && !memcmp(cst.zones[i], s, n))
            break;
    if (i < cst.nzones) {
        out = cst.zones[i];
    } else if (cst.nzones < ZONES) {
        memcpy(cst.zones[cst.nzones], s, n);
        cst.zones[cst.nzones][n] = '\0';
        out = cst.zones[cst.nzones++];
    }
    atomic_flag_clear_explicit(&cst.zone_lock, memory_order_release);
    return out;
}

/* The logged form of tm into d (TM_WORDS int64s, then the zone name): its length. */
static size_t tm_pack(unsigned char *d, size_t cap, const struct tm *tm)
{
    int64_t w[TM_WORDS] = {tm->tm_sec,  tm->tm_min,  tm->tm_hour,  tm->tm_mday,
                           tm->tm_mon,  tm->tm_year, tm->tm_wday,  tm->tm_yday,
                           tm->tm_isdst, tm->tm_gmtoff};
    memcpy(d, w, sizeof w);
    size_t n = tm->tm_zone ? strlen(tm->tm_zone) : 0;
    if (n > cap - sizeof w)
        n = cap - sizeof w;
    if (n)
        memcpy(d + sizeof w, tm->tm_zone, n);
    return sizeof w + n;
}

/* Fills tm from a logged form (a short one leaves tm zeroed: a damaged record). */
static void tm_unpack(struct tm *tm, const rw_input *g)
{
    int64_t w[TM_WORDS];
    memset(tm, 0, sizeof *tm);
    if (g->data_len < sizeof w)
        return;
    memcpy(w, g->data, sizeof w);
    tm->tm_sec = (int)w[0];
    tm->tm_min = (int)w[1];
    tm->tm_hour = (int)w[2];
    tm->tm_mday = (int)w[3];
    tm->tm_mon = (int)w[4];
    tm->tm_year = (int)w[5];
    tm->tm_wday = (int)w[6];
    tm->tm_yday = (int)w[7];
    tm->tm_isdst = (int)w[8];
    tm->tm_gmtoff = (long)w[9];
    tm->tm_zone = intern_zone((const char *)g->data + sizeof w, g->data_len - sizeof w);
}

#define TM_DATA (TM_WORDS * 8 + ZONE_LEN)

/* localtime_r (reentrant) and localtime in the logged mode m; out is where the result
 * goes (the caller's struct, or local_tm when replaying localtime). */
static struct tm *local(int m, const time_t *t, struct tm *out, int reentrant)
{
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, *t);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_LOCALTIME, &k);
        if (g->result)
            tm_unpack(out, g);
        return rw_in_return(g) ? out : NULL;
    }
    struct tm *r = reentrant ? REAL(localtime_r)(t, out) : REAL(localtime)(t);
    int e = errno;
    unsigned char d[TM_DATA];
    size_t n = r ? tm_pack(d, sizeof d, r) : 0;
    rw_in_put(RW_CALL_LOCALTIME, r != NULL, e, &k, r ? d : NULL, n);
    errno = e;
    return r;
}

struct tm *localtime_r(const time_t *restrict t, struct tm *restrict tm)
{
    int m = clock_mode();
    if (m == RW_IN_OFF)
        return REAL(localtime_r)(t, tm);
    return local(m, t, tm, 1);
}

struct tm *localtime(const time_t *t)
{
    int m = clock_mode();
    if (m == RW_IN_OFF)
        return REAL(localtime)(t);
    return local(m, t, &cst.local_tm, 0);
}

time_t mktime(struct tm *tm)
{
    int m = clock_mode();
    if (m == RW_IN_OFF)
        return REAL(mktime)(tm);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, tm->tm_sec);
    rw_in_key_i64(&k, tm->tm_min);
    rw_in_key_i64(&k, tm->tm_hour);
    rw_in_key_i64(&k, tm->tm_mday);
    rw_in_key_i64(&k, tm->tm_mon);
    rw_in_key_i64(&k, tm->tm_year);
    rw_in_key_i64(&k, tm->tm_isdst);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_MKTIME, &k);
        if (g->data_len)
            tm_unpack(tm, g);
        return (time_t)rw_in_return(g);
    }
    time_t r = REAL(mktime)(tm);
    int e = errno;
    unsigned char d[TM_DATA];
    size_t n = tm_pack(d, sizeof d, tm);
    rw_in_put(RW_CALL_MKTIME, r, e, &k, d, n);
    errno = e;
    return r;
}

void tzset(void)
{
    int m = clock_mode();
    if (m == RW_IN_OFF) {
        REAL(tzset)();
        return;
    }
    rw_in_key k;
    rw_in_key_init(&k);
    int64_t w[2];
    if (m == RW_IN_REPLAY) {
        int e = errno;
        const rw_input *g = rw_in_take(RW_CALL_TZSET, &k);
        errno = e; /* tzset sets no errno */
        if (g->data_len < sizeof w)
            return;
        memcpy(w, g->data, sizeof w);
        timezone = (long)w[0];
        daylight = (int)w[1];
        const char *s = (const char *)g->data + sizeof w;
        size_t left = g->data_len - sizeof w;
        for (int i = 0; i < 2; i++) {
            size_t n = strnlen(s, left);
            tzname[i] = intern_zone(s, n);
            s += n < left ? n + 1 : n;
            left -= n < left ? n + 1 : n;
        }
        return;
    }
    REAL(tzset)();
    int e = errno;
    unsigned char d[sizeof w + 2 * ZONE_LEN];
    w[0] = timezone;
    w[1] = daylight;
    memcpy(d, w, sizeof w);
    size_t n = sizeof w;
    for (int i = 0; i < 2; i++) {
        size_t z = tzname[i] ? strnlen(tzname[i], ZONE_LEN - 1) : 0;
        memcpy(d + n, tzname[i] ? tzname[i] : "", z);
        d[n + z] = '\0';
        n += z + 1;
    }
    rw_in_put(RW_CALL_TZSET, 0, e, &k, d, n);
    errno = e;
}
