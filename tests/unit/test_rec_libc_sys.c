/* recorder/libc/clock.c and ident.c: each wrapper, in record mode, returns what the C
 * library returns (reached here through dlsym(RTLD_NEXT): the wrappers are this
 * executable's own definitions) and logs one record; clock reads without the GIL, and
 * calls while input capture is paused or off, are not logged. Records stay in the
 * core's memory (no writer attached); rw_in_tls.seq counts them.
 */
#include <Python.h>

#include <check.h>
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <grp.h>
#include <langinfo.h>
#include <locale.h>
#include <pwd.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "libc/input.h"
#include "reader.h"
#include "testutil.h"

/* The symbol getrlimit (the header renames the C name to getrlimit64). */
extern int plain_getrlimit(int res, struct rlimit64 *rlim) __asm__("getrlimit");

/* The C library's function called name, of the type of the wrapper name. */
#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

/* The interpreter is never finalised: its memory is not a leak of ours (sanitizer
 * builds read this hook). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libpython3.11.so\n";
}

/* The interpreter up with this thread holding the GIL (clock reads are logged only
 * then), input capture recording. */
static void begin(void)
{
    if (!Py_IsInitialized())
        Py_InitializeEx(0);
    rw_tls.tstate = PyThreadState_Get();
    rw_in_start(RW_IN_RECORD, NULL);
}

/* Evaluates expr and checks it logged exactly n records. */
#define LOGS(n, expr)                                                                    \
    do {                                                                                 \
        uint64_t seq0_ = rw_in_tls.seq;                                                  \
        expr;                                                                            \
        ck_assert_uint_eq(rw_in_tls.seq - seq0_, (n));                                   \
    } while (0)

static int64_t ns(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

/* ---- clock.c ---- */

START_TEST(test_clock_gettime)
{
    begin();
    clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID};
    for (size_t i = 0; i < RW_TEST_N(clocks); i++) {
        struct timespec a, b, c;
        ck_assert_int_eq(REAL(clock_gettime)(clocks[i], &a), 0);
        int r;
        LOGS(1, r = clock_gettime(clocks[i], &b));
        ck_assert_int_eq(r, 0);
        ck_assert_int_eq(REAL(clock_gettime)(clocks[i], &c), 0);
        ck_assert(ns(&a) <= ns(&b) && ns(&b) <= ns(&c));
    }
    struct timespec t;
    errno = 0;
    int r;
    LOGS(1, r = clock_gettime((clockid_t)12345, &t));
    ck_assert_int_eq(r, -1);
    ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(test_clock_without_gil_is_not_logged)
{
    begin();
    PyThreadState *ts = PyEval_SaveThread();
    struct timespec t;
    struct timeval tv;
    LOGS(0, clock_gettime(CLOCK_MONOTONIC, &t));
    LOGS(0, gettimeofday(&tv, NULL));
    LOGS(0, time(NULL));
    /* Sleeps are logged whoever calls them. */
    struct timespec req = {0, 1000};
    LOGS(1, nanosleep(&req, NULL));
    PyEval_RestoreThread(ts);
    LOGS(1, clock_gettime(CLOCK_MONOTONIC, &t));
    rw_in_pause();
    LOGS(0, clock_gettime(CLOCK_MONOTONIC, &t));
    rw_in_resume();
    rw_in_stop();
    LOGS(0, clock_gettime(CLOCK_MONOTONIC, &t));
}
END_TEST

START_TEST(test_clock_others)
{
    begin();
    struct timespec res, want;
    int r;
    LOGS(1, r = clock_getres(CLOCK_MONOTONIC, &res));
    ck_assert_int_eq(r, REAL(clock_getres)(CLOCK_MONOTONIC, &want));
    ck_assert_int_eq(ns(&res), ns(&want));

    struct timeval t0, t1, t2;
    struct timezone tz;
    REAL(gettimeofday)(&t0, NULL);
    LOGS(1, r = gettimeofday(&t1, &tz));
    REAL(gettimeofday)(&t2, NULL);
    ck_assert_int_eq(r, 0);
    ck_assert(timercmp(&t0, &t1, <=) && timercmp(&t1, &t2, <=));

    time_t a = REAL(time)(NULL), b, c;
    LOGS(1, b = time(&c));
    ck_assert(a <= b && b <= REAL(time)(NULL));
    ck_assert_int_eq(b, c);

    struct tms ta, tb;
    clock_t ca = REAL(times)(&ta), cb;
    LOGS(1, cb = times(&tb));
    ck_assert(ca <= cb && ta.tms_utime <= tb.tms_utime);

    clock_t k0 = REAL(clock)(), k1;
    LOGS(1, k1 = clock());
    ck_assert(k0 <= k1 && k1 <= REAL(clock)());

    struct rusage ua, ub;
    REAL(getrusage)(RUSAGE_SELF, &ua);
    LOGS(1, r = getrusage(RUSAGE_SELF, &ub));
    ck_assert_int_eq(r, 0);
    ck_assert(timercmp(&ua.ru_utime, &ub.ru_utime, <=));
    ck_assert_int_eq(ua.ru_minflt <= ub.ru_minflt, 1);
}
END_TEST

START_TEST(test_sleeps)
{
    begin();
    struct timespec req = {0, 1000}, rem = {7, 7};
    int r;
    LOGS(1, r = nanosleep(&req, &rem));
    ck_assert_int_eq(r, 0);
    LOGS(1, r = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem));
    ck_assert_int_eq(r, 0);
    struct timespec past = {0, 0};
    LOGS(1, r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL));
    ck_assert_int_eq(r, 0);
    struct timespec bad = {0, -1};
    errno = 0;
    LOGS(1, r = nanosleep(&bad, NULL));
    ck_assert_int_eq(r, -1);
    ck_assert_int_eq(errno, EINVAL);
    LOGS(1, r = clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, NULL));
    ck_assert_int_eq(r, EINVAL);
}
END_TEST

static void check_tm(const struct tm *a, const struct tm *b)
{
    ck_assert_int_eq(a->tm_sec, b->tm_sec);
    ck_assert_int_eq(a->tm_min, b->tm_min);
    ck_assert_int_eq(a->tm_hour, b->tm_hour);
    ck_assert_int_eq(a->tm_mday, b->tm_mday);
    ck_assert_int_eq(a->tm_mon, b->tm_mon);
    ck_assert_int_eq(a->tm_year, b->tm_year);
    ck_assert_int_eq(a->tm_wday, b->tm_wday);
    ck_assert_int_eq(a->tm_yday, b->tm_yday);
    ck_assert_int_eq(a->tm_isdst, b->tm_isdst);
    ck_assert_int_eq(a->tm_gmtoff, b->tm_gmtoff);
    ck_assert_str_eq(a->tm_zone, b->tm_zone);
}

/* A zone given by a POSIX TZ string: no tz database needed. */
#define PARIS "CET-1CEST,M3.5.0,M10.5.0/3"

START_TEST(test_local_time)
{
    setenv("TZ", PARIS, 1);
    begin();
    LOGS(1, tzset());
    ck_assert_str_eq(tzname[0], "CET");
    ck_assert_str_eq(tzname[1], "CEST");
    ck_assert_int_eq(timezone, -3600);
    ck_assert_int_eq(daylight, 1);

    time_t when[] = {1700000000, 1690000000, 0};
    for (size_t i = 0; i < RW_TEST_N(when); i++) {
        struct tm a, b, *p;
        ck_assert_ptr_eq(REAL(localtime_r)(&when[i], &a), &a);
        LOGS(1, p = localtime_r(&when[i], &b));
        ck_assert_ptr_eq(p, &b);
        check_tm(&a, &b);
        LOGS(1, p = localtime(&when[i]));
        ck_assert_ptr_nonnull(p);
        check_tm(&a, p);

        struct tm in = a, out = a;
        in.tm_mday += 40; /* mktime normalises it */
        out.tm_mday += 40;
        time_t ta = REAL(mktime)(&in), tb;
        LOGS(1, tb = mktime(&out));
        ck_assert_int_eq(ta, tb);
        check_tm(&in, &out);
    }
    time_t huge = (time_t)1 << 62;
    struct tm t, *p;
    errno = 0;
    LOGS(1, p = localtime_r(&huge, &t));
    ck_assert_ptr_null(p);
    ck_assert_int_eq(errno, EOVERFLOW);
}
END_TEST

/* ---- ident.c ---- */

START_TEST(test_random)
{
    begin();
    unsigned char a[32] = {0}, zero[32] = {0};
    ssize_t r;
    LOGS(1, r = getrandom(a, sizeof a, 0));
    ck_assert_int_eq(r, sizeof a);
    ck_assert(memcmp(a, zero, sizeof a) != 0);
    errno = 0;
    LOGS(1, r = getrandom(a, 4, 0xffff));
    ck_assert_int_eq(r, -1);
    ck_assert_int_eq(errno, EINVAL);
    long n;
    memset(a, 0, sizeof a);
    LOGS(1, n = syscall(SYS_getrandom, a, (size_t)16, 0));
    ck_assert_int_eq(n, 16);
    ck_assert(memcmp(a, zero, 16) != 0);
}
END_TEST

START_TEST(test_syscall)
{
    begin();
    long n;
    LOGS(1, n = syscall(SYS_gettid));
    ck_assert_int_eq(n, REAL(gettid)());
    /* Other numbers pass through, unlogged. */
    LOGS(0, n = syscall(SYS_getpid));
    ck_assert_int_eq(n, REAL(getpid)());
    errno = 0;
    LOGS(0, n = syscall(SYS_close, -1));
    ck_assert_int_eq(n, -1);
    ck_assert_int_eq(errno, EBADF);

    int fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
    ck_assert_int_ge(fd, 0);
    char buf[4096];
    LOGS(1, n = syscall(SYS_getdents64, fd, buf, sizeof buf));
    ck_assert_int_gt(n, 0);
    LOGS(1, n = syscall(SYS_getdents64, fd, buf, sizeof buf));
    ck_assert_int_ge(n, 0);
    close(fd);

    LOGS(1, n = syscall(SYS_pidfd_open, REAL(getpid)(), 0));
    if (n >= 0) {
        LOGS(1, syscall(SYS_pidfd_send_signal, n, 0, NULL, 0));
        close((int)n);
    }
}
END_TEST

START_TEST(test_ids)
{
    begin();
    errno = 4321;
    LOGS(1, ck_assert_int_eq(getpid(), REAL(getpid)()));
    ck_assert_int_eq(errno, 4321);
    LOGS(1, ck_assert_int_eq(getppid(), REAL(getppid)()));
    LOGS(1, ck_assert_int_eq(gettid(), REAL(gettid)()));
    LOGS(1, ck_assert_int_eq(getuid(), REAL(getuid)()));
    LOGS(1, ck_assert_int_eq(geteuid(), REAL(geteuid)()));
    LOGS(1, ck_assert_int_eq(getgid(), REAL(getgid)()));
    LOGS(1, ck_assert_int_eq(getegid(), REAL(getegid)()));
    gid_t a[256], b[256];
    int na = REAL(getgroups)(256, a), nb;
    LOGS(1, ck_assert_int_eq(getgroups(0, NULL), na));
    LOGS(1, nb = getgroups(256, b));
    ck_assert_int_eq(na, nb);
    ck_assert(nb < 0 || memcmp(a, b, (size_t)nb * sizeof *a) == 0);

    int ga = 256, gb = 256;
    int ra = REAL(getgrouplist)("root", 0, a, &ga), rb;
    LOGS(1, rb = getgrouplist("root", 0, b, &gb));
    ck_assert_int_eq(ra, rb);
    ck_assert_int_eq(ga, gb);
    ck_assert(memcmp(a, b, (size_t)ga * sizeof *a) == 0);
    int one = 0;
    LOGS(1, rb = getgrouplist("root", 0, b, &one));
    ck_assert_int_eq(rb, -1);
    ck_assert_int_eq(one, ga);
}
END_TEST

START_TEST(test_names)
{
    begin();
    struct utsname ua, ub;
    memset(&ua, 0, sizeof ua);
    memset(&ub, 0, sizeof ub);
    REAL(uname)(&ua);
    LOGS(1, ck_assert_int_eq(uname(&ub), 0));
    ck_assert(memcmp(&ua, &ub, sizeof ua) == 0);

    char ha[256], hb[256];
    REAL(gethostname)(ha, sizeof ha);
    LOGS(1, ck_assert_int_eq(gethostname(hb, sizeof hb), 0));
    ck_assert_str_eq(ha, hb);

    char la[256], lb[256];
    int ra = REAL(getlogin_r)(la, sizeof la), rb;
    LOGS(1, rb = getlogin_r(lb, sizeof lb));
    ck_assert_int_eq(ra, rb);
    if (ra == 0)
        ck_assert_str_eq(la, lb);
    char *pa = REAL(getlogin)(), *pb;
    char pa_copy[256] = "";
    if (pa)
        snprintf(pa_copy, sizeof pa_copy, "%s", pa);
    LOGS(1, pb = getlogin());
    ck_assert_int_eq(pa != NULL, pb != NULL);
    if (pb)
        ck_assert_str_eq(pa_copy, pb);

    int fd = open("/dev/null", O_RDONLY);
    char t[256];
    errno = 0;
    LOGS(1, ck_assert_int_eq(ttyname_r(fd, t, sizeof t), ENOTTY));
    LOGS(1, ck_assert_ptr_null(ttyname(fd)));
    close(fd);
    char ct[L_ctermid];
    LOGS(1, ck_assert_ptr_eq(ctermid(ct), ct));
    ck_assert_str_eq(ct, "/dev/tty");
    LOGS(1, ck_assert_str_eq(ctermid(NULL), "/dev/tty"));
}
END_TEST

START_TEST(test_system)
{
    begin();
    errno = 0;
    int pa = REAL(getpriority)(PRIO_PROCESS, 0);
    LOGS(1, ck_assert_int_eq(getpriority(PRIO_PROCESS, 0), pa));
    cpu_set_t sa, sb;
    REAL(sched_getaffinity)(0, sizeof sa, &sa);
    LOGS(1, ck_assert_int_eq(sched_getaffinity(0, sizeof sb, &sb), 0));
    ck_assert(CPU_EQUAL(&sa, &sb));
    LOGS(1, ck_assert_int_eq(sched_getscheduler(0), REAL(sched_getscheduler)(0)));
    LOGS(1, ck_assert_int_eq(sysconf(_SC_NPROCESSORS_ONLN),
                             REAL(sysconf)(_SC_NPROCESSORS_ONLN)));
    LOGS(1, ck_assert_int_eq(__sysconf(_SC_CLK_TCK), REAL(sysconf)(_SC_CLK_TCK)));
    char ca[512], cb[512];
    size_t na = REAL(confstr)(_CS_PATH, ca, sizeof ca), nb;
    LOGS(1, nb = confstr(_CS_PATH, cb, sizeof cb));
    ck_assert_uint_eq(na, nb);
    ck_assert_str_eq(ca, cb);
    LOGS(1, ck_assert_int_eq(confstr(_CS_PATH, NULL, 0), na));
    LOGS(1, ck_assert_int_eq(pathconf("/", _PC_NAME_MAX), REAL(pathconf)("/", _PC_NAME_MAX)));
    LOGS(1, ck_assert_int_eq(fpathconf(0, _PC_PIPE_BUF), REAL(fpathconf)(0, _PC_PIPE_BUF)));

    struct rlimit64 la, lb;
    REAL(getrlimit64)(RLIMIT_NOFILE, &la);
    LOGS(1, ck_assert_int_eq(getrlimit64(RLIMIT_NOFILE, &lb), 0));
    ck_assert(la.rlim_cur == lb.rlim_cur && la.rlim_max == lb.rlim_max);
    memset(&lb, 0, sizeof lb);
    LOGS(1, ck_assert_int_eq(plain_getrlimit(RLIMIT_NOFILE, &lb), 0));
    ck_assert(la.rlim_cur == lb.rlim_cur && la.rlim_max == lb.rlim_max);
    memset(&lb, 0, sizeof lb);
    LOGS(1, ck_assert_int_eq(prlimit64(0, RLIMIT_NOFILE, NULL, &lb), 0));
    ck_assert(la.rlim_cur == lb.rlim_cur && la.rlim_max == lb.rlim_max);

    double avg[3];
    LOGS(1, ck_assert_int_eq(getloadavg(avg, 3), 3));
}
END_TEST

START_TEST(test_users_and_groups)
{
    begin();
    struct passwd *p;
    LOGS(1, p = getpwuid(0));
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->pw_name, "root");
    LOGS(1, p = getpwnam("root"));
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->pw_uid, 0);
    LOGS(1, p = getpwuid(3999999));
    ck_assert_ptr_null(p);

    struct passwd pw, *res = NULL;
    char buf[4096];
    LOGS(1, ck_assert_int_eq(getpwuid_r(0, &pw, buf, sizeof buf, &res), 0));
    ck_assert_ptr_eq(res, &pw);
    struct passwd *want = REAL(getpwuid)(0);
    ck_assert_str_eq(pw.pw_dir, want->pw_dir);
    ck_assert_str_eq(pw.pw_shell, want->pw_shell);
    LOGS(1, ck_assert_int_eq(getpwnam_r("no such user here", &pw, buf, sizeof buf, &res), 0));
    ck_assert_ptr_null(res);
    LOGS(1, ck_assert_int_eq(getpwuid_r(0, &pw, buf, 4, &res), ERANGE));

    struct group *g;
    LOGS(1, g = getgrgid(0));
    ck_assert_ptr_nonnull(g);
    ck_assert_str_eq(g->gr_name, "root");
    LOGS(1, g = getgrnam("root"));
    ck_assert_ptr_nonnull(g);
    struct group gr, *gres = NULL;
    LOGS(1, ck_assert_int_eq(getgrgid_r(0, &gr, buf, sizeof buf, &gres), 0));
    ck_assert_ptr_eq(gres, &gr);
    ck_assert_str_eq(gr.gr_name, "root");
    LOGS(1, ck_assert_int_eq(getgrnam_r("root", &gr, buf, sizeof buf, &gres), 0));
    ck_assert_int_eq(gr.gr_gid, 0);

    setpwent();
    LOGS(1, p = getpwent());
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->pw_name, "root");
    endpwent();
    setgrent();
    LOGS(1, g = getgrent());
    ck_assert_ptr_nonnull(g);
    ck_assert_str_eq(g->gr_name, "root");
    endgrent();
}
END_TEST

START_TEST(test_locale)
{
    begin();
    char *s;
    LOGS(1, s = setlocale(LC_ALL, "C"));
    ck_assert_str_eq(s, "C");
    LOGS(1, s = setlocale(LC_CTYPE, NULL));
    ck_assert_str_eq(s, "C");
    LOGS(1, s = setlocale(LC_ALL, "no-such-locale"));
    ck_assert_ptr_null(s);
    LOGS(1, s = nl_langinfo(CODESET));
    ck_assert_str_eq(s, REAL(nl_langinfo)(CODESET));
}
END_TEST

/* ---- record, then replay from the trace ---- */

static void on_alarm(int sig)
{
    (void)sig;
}

/* What one pass of calls saw; the replay pass must see the same. */
typedef struct seen {
    struct timespec rt, mono, rem;
    struct timeval tv;
    time_t t;
    int sleep_r, sleep_err, clock_bad_r, clock_bad_err;
    struct tm lt;
    char zone[16];
    char tzname0[16], tzname1[16];
    long tz;
    int daylight;
    time_t mk;
    unsigned char rnd[16], rnd2[8];
    pid_t pid;
    long tid;
    struct utsname un;
    char host[256];
    char user[64], home[256];
    int pw_r;
    char gr_name[64];
    char loc[256];
    char codeset[64];
    long cpus;
    struct rlimit64 nofile;
} seen;

static void pass(seen *v, int record)
{
    memset(v, 0, sizeof *v);
    clock_gettime(CLOCK_REALTIME, &v->rt);
    clock_gettime(CLOCK_MONOTONIC, &v->mono);
    errno = 0;
    v->clock_bad_r = clock_gettime((clockid_t)12345, &v->mono);
    v->clock_bad_err = errno;
    gettimeofday(&v->tv, NULL);
    v->t = time(NULL);

    /* A one-hour sleep: the recording's is cut short by a signal; a replay that slept
     * would outlast the test's time limit. The timer is an input (libc/signals.c):
     * armed while recording, answered from the log and not armed in replay. */
    struct sigaction sa = {.sa_handler = on_alarm}, old;
    sigaction(SIGALRM, &sa, &old);
    struct itimerval it = {.it_value = {0, 20000}};
    setitimer(ITIMER_REAL, &it, NULL);
    (void)record;
    struct timespec hour = {3600, 0};
    errno = 0;
    v->sleep_r = nanosleep(&hour, &v->rem);
    v->sleep_err = errno;
    sigaction(SIGALRM, &old, NULL);

    tzset();
    snprintf(v->tzname0, sizeof v->tzname0, "%s", tzname[0]);
    snprintf(v->tzname1, sizeof v->tzname1, "%s", tzname[1]);
    v->tz = timezone;
    v->daylight = daylight;
    time_t when = 1690000000;
    localtime_r(&when, &v->lt);
    snprintf(v->zone, sizeof v->zone, "%s", v->lt.tm_zone);
    v->lt.tm_zone = v->zone;
    struct tm m = v->lt;
    m.tm_mday += 100;
    v->mk = mktime(&m);

    getrandom(v->rnd, sizeof v->rnd, 0);
    syscall(SYS_getrandom, v->rnd2, sizeof v->rnd2, 0);
    v->pid = getpid();
    v->tid = syscall(SYS_gettid);
    uname(&v->un);
    gethostname(v->host, sizeof v->host);
    struct passwd pw, *res;
    char buf[1024];
    v->pw_r = getpwuid_r(0, &pw, buf, sizeof buf, &res);
    snprintf(v->user, sizeof v->user, "%s", res ? res->pw_name : "-");
    snprintf(v->home, sizeof v->home, "%s", res ? res->pw_dir : "-");
    struct group *g = getgrgid(0);
    snprintf(v->gr_name, sizeof v->gr_name, "%s", g ? g->gr_name : "-");
    char *l = setlocale(LC_ALL, "");
    snprintf(v->loc, sizeof v->loc, "%s", l ? l : "-");
    snprintf(v->codeset, sizeof v->codeset, "%s", nl_langinfo(CODESET));
    v->cpus = sysconf(_SC_NPROCESSORS_ONLN);
    getrlimit64(RLIMIT_NOFILE, &v->nofile);
}

static void check_same(const seen *a, const seen *b)
{
    ck_assert_int_eq(ns(&a->rt), ns(&b->rt));
    ck_assert_int_eq(ns(&a->mono), ns(&b->mono));
    ck_assert_int_eq(a->clock_bad_r, b->clock_bad_r);
    ck_assert_int_eq(a->clock_bad_err, b->clock_bad_err);
    ck_assert(a->tv.tv_sec == b->tv.tv_sec && a->tv.tv_usec == b->tv.tv_usec);
    ck_assert_int_eq(a->t, b->t);
    ck_assert_int_eq(a->sleep_r, b->sleep_r);
    ck_assert_int_eq(a->sleep_err, b->sleep_err);
    ck_assert_int_eq(ns(&a->rem), ns(&b->rem));
    ck_assert_str_eq(a->tzname0, b->tzname0);
    ck_assert_str_eq(a->tzname1, b->tzname1);
    ck_assert_int_eq(a->tz, b->tz);
    ck_assert_int_eq(a->daylight, b->daylight);
    check_tm(&a->lt, &b->lt);
    ck_assert_str_eq(a->zone, b->zone);
    ck_assert_int_eq(a->mk, b->mk);
    ck_assert(memcmp(a->rnd, b->rnd, sizeof a->rnd) == 0);
    ck_assert(memcmp(a->rnd2, b->rnd2, sizeof a->rnd2) == 0);
    ck_assert_int_eq(a->pid, b->pid);
    ck_assert_int_eq(a->tid, b->tid);
    ck_assert(memcmp(&a->un, &b->un, sizeof a->un) == 0);
    ck_assert_str_eq(a->host, b->host);
    ck_assert_int_eq(a->pw_r, b->pw_r);
    ck_assert_str_eq(a->user, b->user);
    ck_assert_str_eq(a->home, b->home);
    ck_assert_str_eq(a->gr_name, b->gr_name);
    ck_assert_str_eq(a->loc, b->loc);
    ck_assert_str_eq(a->codeset, b->codeset);
    ck_assert_int_eq(a->cpus, b->cpus);
    ck_assert(a->nofile.rlim_cur == b->nofile.rlim_cur);
}

/* Records a pass into a trace at path, in TZ=PARIS. */
static void record_pass(const char *path, seen *v)
{
    setenv("TZ", PARIS, 1);
    rw_writer *w = rw_test_writer_open(path, 0, NULL); /* reads clocks: before capture */
    begin();
    rw_in_attach_writer(w);
    pass(v, 1);
    rw_in_stop();
    rw_in_attach_writer(NULL);
    rw_test_writer_exit(w);
}

static rw_reader *open_trace(const char *path)
{
    rw_reader *r = NULL;
    rw_err err = {0};
    ck_assert_msg(rw_reader_open(path, &r, &err) == RW_OK, "%s", err.msg);
    return r;
}

START_TEST(test_replay_same_values)
{
    char *path = rw_test_path("values.rwd");
    seen rec, rep;
    record_pass(path, &rec);
    ck_assert_int_eq(rec.sleep_r, -1);
    ck_assert_int_eq(rec.sleep_err, EINTR);
    ck_assert_str_eq(rec.tzname0, "CET");

    /* Another zone where the replay runs: the replay still answers the recorded one. */
    setenv("TZ", "UTC0", 1);
    REAL(tzset)();
    rw_reader *r = open_trace(path);
    rw_in_start(RW_IN_REPLAY, r);
    pass(&rep, 0);
    rw_in_stop();
    check_same(&rec, &rep);
    ck_assert_str_eq(tzname[0], "CET");
    rw_reader_free(r);
    free(path);
}
END_TEST

static jmp_buf diverged_at;
static char diverged_what[700];

static void on_diverge(const char *what, const rw_input *expected)
{
    (void)expected;
    snprintf(diverged_what, sizeof diverged_what, "%s", what);
    longjmp(diverged_at, 1);
}

/* Records clock_gettime(CLOCK_MONOTONIC) then getpid() into a trace at path. */
static void record_two(const char *path)
{
    rw_writer *w = rw_test_writer_open(path, 0, NULL);
    begin();
    rw_in_attach_writer(w);
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    getpid();
    rw_in_stop();
    rw_in_attach_writer(NULL);
    rw_test_writer_exit(w);
}

START_TEST(test_replay_divergence_call)
{
    char *path = rw_test_path("diverge.rwd");
    record_two(path);
    rw_in_set_diverge(on_diverge);
    rw_in_start(RW_IN_REPLAY, open_trace(path));
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    if (!setjmp(diverged_at)) {
        getppid(); /* the recording called getpid here */
        ck_abort_msg("no divergence reported");
    }
    rw_in_stop();
    ck_assert_msg(strstr(diverged_what, "getpid") && strstr(diverged_what, "getppid"), "%s",
                  diverged_what);
    free(path);
}
END_TEST

START_TEST(test_replay_divergence_key)
{
    char *path = rw_test_path("diverge.rwd");
    record_two(path);
    rw_in_set_diverge(on_diverge);
    rw_in_start(RW_IN_REPLAY, open_trace(path));
    struct timespec t;
    if (!setjmp(diverged_at)) {
        clock_gettime(CLOCK_REALTIME, &t); /* the recording read the monotonic clock */
        ck_abort_msg("no divergence reported");
    }
    rw_in_stop();
    ck_assert_msg(strstr(diverged_what, "clock_gettime(1)") &&
                      strstr(diverged_what, "clock_gettime(0)"),
                  "%s", diverged_what);
    free(path);
}
END_TEST

/* ns per call of fn over n calls. */
static double per_call(int (*fn)(clockid_t, struct timespec *), int n)
{
    struct timespec t, a, b;
    REAL(clock_gettime)(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < n; i++)
        fn(CLOCK_MONOTONIC, &t);
    REAL(clock_gettime)(CLOCK_MONOTONIC, &b);
    return (double)(ns(&b) - ns(&a)) / n;
}

/* The cost of clock_gettime: the C library's, the wrapper's with capture off and while
 * recording into a trace (best of 5 rounds), printed for the record (no assertion on
 * time). */
START_TEST(test_clock_cost)
{
    enum { N = 100000, NREC = 2000, ROUNDS = 5 };
    int (*real)(clockid_t, struct timespec *) = REAL(clock_gettime);
    double direct = 1e9, off = 1e9, rec = 1e9;
    for (int r = 0; r < ROUNDS; r++) {
        double d = per_call(real, N), o = per_call(clock_gettime, N);
        direct = d < direct ? d : direct;
        off = o < off ? o : off;
    }
    char *path = rw_test_path("cost.rwd");
    rw_writer *w = rw_test_writer_open(path, 0, NULL);
    begin();
    rw_in_attach_writer(w);
    for (int r = 0; r < ROUNDS; r++) {
        double c = per_call(clock_gettime, NREC);
        rec = c < rec ? c : rec;
    }
    ck_assert_uint_eq(rw_in_tls.seq, NREC * ROUNDS);
    rw_in_stop();
    rw_in_attach_writer(NULL);
    rw_test_writer_exit(w);
    free(path);
    fprintf(stderr, "clock_gettime: libc %.1f ns, wrapper off %.1f ns, recording %.1f ns\n",
            direct, off, rec);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rec_libc_sys");
    const TTest *clock_tests[] = {test_clock_gettime, test_clock_without_gil_is_not_logged,
                                  test_clock_others, test_sleeps, test_local_time,
                                  test_clock_cost};
    const TTest *ident_tests[] = {test_random, test_syscall, test_ids, test_names,
                                  test_system, test_users_and_groups, test_locale};
    rw_test_add_case(s, "clock", 0, clock_tests, RW_TEST_N(clock_tests));
    rw_test_add_case(s, "ident", 0, ident_tests, RW_TEST_N(ident_tests));
    const TTest *replay_tests[] = {test_replay_same_values, test_replay_divergence_call,
                                   test_replay_divergence_key};
    rw_test_add_case(s, "replay", 0, replay_tests, RW_TEST_N(replay_tests));
    return rw_test_run(s);
}
