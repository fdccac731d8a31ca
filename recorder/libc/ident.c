/* Randomness, identity and the system: what the process learns about who and where it
 * runs, logged when recording and answered from the log when replaying (input.h;
 * DESIGN.md, "Nondeterministic inputs").
 *
 * Wraps: getrandom, getentropy (glibc's makes the system call itself: OpenSSL seeds its
 * generator with it), syscall (the only definition: SYS_getrandom, SYS_gettid,
 * SYS_getdents64, SYS_pidfd_open and SYS_pidfd_send_signal are inputs, every other
 * number passes through untouched in both modes), getpid, getppid, gettid, getuid,
 * geteuid, getgid, getegid, getgroups, getgrouplist, getlogin, getlogin_r, uname,
 * gethostname, ttyname, ttyname_r, ctermid, getpriority, setpriority, setuid setgid
 * seteuid setegid setreuid setregid setresuid setresgid setgroups initgroups, getsid
 * getpgid getpgrp setsid setpgid, nice, sethostname setdomainname,
 * sched_setscheduler sched_setparam sched_setaffinity sched_getparam
 * sched_rr_get_interval, sched_getaffinity,
 * sched_getscheduler, sysconf, __sysconf, confstr, pathconf, fpathconf, getrlimit,
 * getrlimit64, prlimit, prlimit64, getloadavg, getpwuid(_r), getpwnam(_r), getpwent,
 * getgrgid(_r), getgrnam(_r), getgrent, setpwent, endpwent, setgrent, endgrent,
 * setlocale, nl_langinfo; and rw_in_identity_facts (input.h), which logs the pid and
 * the parent's pid when the recording starts, for evaluations. NSS and locale
 * functions read files through glibc's internals (research/reexecution.md, section 2):
 * the outer functions are what is logged.
 *
 * Records (key: little-endian int64s, then an optional string; "form" tells the
 * variants of one call apart; pw = int64 uid, gid, then name, passwd, gecos, dir,
 * shell, each NUL-terminated; gr = int64 gid, member count, then name, passwd and the
 * members, each NUL-terminated; s = a string without its NUL):
 *   call               key                            result           data
 *   GETRANDOM          count, flags                   bytes or -1      the bytes
 *                      count, 0, 1 (getentropy)       0 or -1          the bytes
 *   GETTID             -                              the tid          -
 *   GETDENTS           fd, count                      bytes or -1      the bytes
 *   PIDFD_OPEN         pid, flags                     fd or -1         -
 *   PIDFD_SEND_SIGNAL  pidfd, sig, info given, flags  0 or -1          -
 *   GETPID, GETPPID    -                              the pid          -
 *   GETID              0 uid, 1 euid, 2 gid, 3 egid   the id           -
 *                      4 getsid, 5 getpgid, then pid; the id or -1     -
 *                      6 getpgrp
 *   GETGROUPS          0, size                        count or -1      gid_t[count] (size > 0)
 *                      1, group, *ngroups, then user  (getgrouplist)   int32 *ngroups after,
 *                                                                      gid_t[] (what fit)
 *   GETLOGIN           form 0 / form 1, size (_r)     1/0 / error nr   s
 *   UNAME              -                              0 or -1          struct utsname
 *   GETHOSTNAME        len                            0 or -1          the bytes written
 *   TTYNAME            form 0, fd / 1, fd, len (_r)   1/0 / error nr   s
 *   CTERMID            s given                        1                s
 *   GETPRIORITY        which, who                     the priority     -
 *   SCHED_GETAFFINITY  pid, size                      0 or -1          the mask (size bytes)
 *   SCHED_GETSCHEDULER pid                            policy or -1     -
 *   SYSCONF            name                           the value        -
 *   CONFSTR            name, len                      size needed      the bytes written
 *   PATHCONF           0, name, path / 1, fd, name    the value        -
 *   GETRLIMIT          0, resource / 1, pid,          0 or -1          struct rlimit64 (the
 *                      resource, new given (prlimit)                   old one, when asked)
 *   GETLOADAVG         nelem                          count or -1      double[count]
 *   GETPW              form (0 getpwuid, 1 _r, 2      1/0 / error nr   pw (none: not found)
 *                      getpwnam, 3 _r, 4 getpwent),
 *                      uid, buflen (_r), then the
 *                      name (by name)
 *   GETGR              as GETPW with gid              as GETPW         gr
 *   SETLOCALE          category, locale given,        1/0              s (the result)
 *                      then the locale
 *   NL_LANGINFO        item                           1                s
 * Replay writes what the call would have written: the caller's buffers, or storage
 * owned here for the functions that return static storage (getlogin, ttyname,
 * ctermid(NULL), getpwuid, getgrgid, ... and setlocale and nl_langinfo, whose strings
 * come from a ring of slots: valid until a few calls later, as the C library's are
 * valid until the next call).
 *
 * setlocale in replay: the recorded result is returned, and a setlocale that set a
 * locale is also performed, with the recorded resulting name, because the engine's
 * C library must then behave as the recording's did for the functions not wrapped
 * (mbstowcs and wcstombs in the interpreter's file-name and argv decoding, strcoll,
 * wcscoll, strxfrm, localeconv, strftime, the ctype tables). When that locale is not
 * installed where the replay runs, a UTF-8 name falls back to C.UTF-8 (the codeset is
 * what decoding needs); locale-dependent formatting may then differ. nl_langinfo is
 * answered from the log.
 *
 * Rules for this folder: recorder/libc/README.md.
 */
#include "input.h"

#include <dlfcn.h>
#include <grp.h>
#include <langinfo.h>
#include <locale.h>
#include <pwd.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#define TEXT_SLOTS 8      /* setlocale/nl_langinfo strings handed out in a replay */
#define TEXT_LEN 1024     /* bytes per slot, NUL included */
#define ENTRY_MAX 16384   /* a logged passwd or group entry (more is cut) */
#define STATIC_LEN 4096   /* the non-_r forms' storage (login, tty, entries' strings) */

/* This file's state. real: the C library's functions, resolved before main by
 * find_real, read-only afterwards. The rest is replay's storage for the functions
 * that return static storage; like the C library's it is shared by all threads (the
 * replayed threads run one at a time under the run token). text_next picks the next
 * slot of text (atomic). Global because wrappers get no context. */
static struct ident_state {
    struct {
        long (*syscall)(long, ...);
        ssize_t (*getrandom)(void *, size_t, unsigned);
        int (*getentropy)(void *, size_t);
        pid_t (*getpid)(void);
        pid_t (*getppid)(void);
        pid_t (*gettid)(void);
        uid_t (*getuid)(void);
        uid_t (*geteuid)(void);
        gid_t (*getgid)(void);
        gid_t (*getegid)(void);
        int (*getgroups)(int, gid_t *);
        int (*getgrouplist)(const char *, gid_t, gid_t *, int *);
        char *(*getlogin)(void);
        int (*getlogin_r)(char *, size_t);
        int (*uname)(struct utsname *);
        int (*gethostname)(char *, size_t);
        char *(*ttyname)(int);
        int (*ttyname_r)(int, char *, size_t);
        char *(*ctermid)(char *);
        int (*getpriority)(__priority_which_t, id_t);
        int (*setpriority)(__priority_which_t, id_t, int);
        int (*prctl)(int, ...);
        int (*nice)(int);
        int (*sethostname)(const char *, size_t);
        int (*setdomainname)(const char *, size_t);
        int (*setuid)(uid_t);
        int (*setgid)(gid_t);
        int (*seteuid)(uid_t);
        int (*setegid)(gid_t);
        int (*setreuid)(uid_t, uid_t);
        int (*setregid)(gid_t, gid_t);
        int (*setresuid)(uid_t, uid_t, uid_t);
        int (*setresgid)(gid_t, gid_t, gid_t);
        int (*setgroups)(size_t, const gid_t *);
        int (*initgroups)(const char *, gid_t);
        int (*sched_setscheduler)(pid_t, int, const struct sched_param *);
        int (*sched_setparam)(pid_t, const struct sched_param *);
        int (*sched_setaffinity)(pid_t, size_t, const cpu_set_t *);
        int (*sched_getparam)(pid_t, struct sched_param *);
        int (*sched_rr_get_interval)(pid_t, struct timespec *);
        pid_t (*getsid)(pid_t);
        pid_t (*getpgid)(pid_t);
        pid_t (*getpgrp)(void);
        pid_t (*setsid)(void);
        int (*setpgid)(pid_t, pid_t);
        int (*sched_getaffinity)(pid_t, size_t, cpu_set_t *);
        int (*sched_getscheduler)(pid_t);
        long (*sysconf)(int);
        long (*__sysconf)(int);
        size_t (*confstr)(int, char *, size_t);
        long (*pathconf)(const char *, int);
        long (*fpathconf)(int, int);
        int (*getrlimit64)(__rlimit_resource_t, struct rlimit64 *);
        int (*prlimit64)(pid_t, __rlimit_resource_t, const struct rlimit64 *,
                         struct rlimit64 *);
        int (*getloadavg)(double *, int);
        struct passwd *(*getpwuid)(uid_t);
        struct passwd *(*getpwnam)(const char *);
        int (*getpwuid_r)(uid_t, struct passwd *, char *, size_t, struct passwd **);
        int (*getpwnam_r)(const char *, struct passwd *, char *, size_t, struct passwd **);
        struct passwd *(*getpwent)(void);
        struct group *(*getgrent)(void);
        void (*setpwent)(void);
        void (*endpwent)(void);
        void (*setgrent)(void);
        void (*endgrent)(void);
        struct group *(*getgrgid)(gid_t);
        struct group *(*getgrnam)(const char *);
        int (*getgrgid_r)(gid_t, struct group *, char *, size_t, struct group **);
        int (*getgrnam_r)(const char *, struct group *, char *, size_t, struct group **);
        char *(*setlocale)(int, const char *);
        char *(*nl_langinfo)(nl_item);
    } real;
    char login[STATIC_LEN];
    char tty[STATIC_LEN];
    char ctermid[L_ctermid + 1];
    struct passwd pw;
    char pwbuf[ENTRY_MAX];
    struct group gr;
    char grbuf[ENTRY_MAX];
    _Atomic unsigned text_next;
    char text[TEXT_SLOTS][TEXT_LEN];
} ist;

#define FIND(name) ist.real.name = (__typeof__(ist.real.name))dlsym(RTLD_NEXT, #name)

/* The C library's name: resolved before main, or on the first call when a wrapper runs
 * before the constructors (a sanitizer's run-time calls getrlimit while it loads). */
#define REAL(name)                                                                       \
    (RW_LIKELY(ist.real.name != NULL)                                                \
         ? ist.real.name                                                            \
         : (__typeof__(ist.real.name))rw_libc_late((void **)&ist.real.name, #name))

/* Early (priority 101): exits.c's wrappers call syscall() from any context. */
__attribute__((constructor(101))) static void find_real(void)
{
    FIND(syscall);
    FIND(getrandom);
    FIND(getentropy);
    FIND(getpid);
    FIND(getppid);
    FIND(gettid);
    FIND(getuid);
    FIND(geteuid);
    FIND(getgid);
    FIND(getegid);
    FIND(getgroups);
    FIND(getgrouplist);
    FIND(getlogin);
    FIND(getlogin_r);
    FIND(uname);
    FIND(gethostname);
    FIND(ttyname);
    FIND(ttyname_r);
    FIND(ctermid);
    FIND(getpriority);
    FIND(setpriority);
    FIND(prctl);
    FIND(setuid);
    FIND(setgid);
    FIND(seteuid);
    FIND(setegid);
    FIND(setreuid);
    FIND(setregid);
    FIND(setresuid);
    FIND(setresgid);
    FIND(setgroups);
    FIND(initgroups);
    FIND(sched_setscheduler);
    FIND(sched_setparam);
    FIND(sched_setaffinity);
    FIND(sched_getparam);
    FIND(sched_rr_get_interval);
    FIND(getsid);
    FIND(getpgid);
    FIND(getpgrp);
    FIND(setsid);
    FIND(setpgid);
    FIND(nice);
    FIND(sethostname);
    FIND(setdomainname);
    FIND(sched_getaffinity);
    FIND(sched_getscheduler);
    FIND(sysconf);
    FIND(__sysconf);
    FIND(confstr);
    FIND(pathconf);
    FIND(fpathconf);
    FIND(getrlimit64);
    FIND(prlimit64);
    FIND(getloadavg);
    FIND(getpwuid);
    FIND(getpwnam);
    FIND(getpwuid_r);
    FIND(getpwnam_r);
    FIND(getpwent);
    FIND(getgrent);
    FIND(setpwent);
    FIND(endpwent);
    FIND(setgrent);
    FIND(endgrent);
    FIND(getgrgid);
    FIND(getgrnam);
    FIND(getgrgid_r);
    FIND(getgrnam_r);
    FIND(setlocale);
    FIND(nl_langinfo);
}

/* The logged string into dst (cap bytes, NUL-terminated, cut to fit). */
static void give_str(char *dst, size_t cap, const rw_input *g)
{
    if (!dst || !cap)
        return;
    size_t n = g->data_len < cap - 1 ? g->data_len : cap - 1;
    if (n)
        memcpy(dst, g->data, n);
    dst[n] = '\0';
}

/* The logged string in the next slot of the text ring (replay's setlocale and
 * nl_langinfo results). */
static char *give_text(const rw_input *g)
{
    unsigned i = atomic_fetch_add_explicit(&ist.text_next, 1, memory_order_relaxed);
    char *s = ist.text[i % TEXT_SLOTS];
    give_str(s, TEXT_LEN, g);
    return s;
}

static size_t slen(const char *s)
{
    return s ? strlen(s) : 0;
}

/* ---- syscall() ---- */

/* The system call itself (input.h), for a syscall() made before find_real ran too. */
/* Not instrumented by AddressSanitizer: some callers run before its shadow memory
 * exists (getrlimit64 below). */
#define NO_ASAN __attribute__((no_sanitize("address")))

NO_ASAN long rw_in_raw_syscall(long n, long a, long b, long c, long d, long e, long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    if (ret < 0 && ret > -4096) {
        errno = (int)-ret;
        return -1;
    }
    return ret;
}

static long pass(long n, const long *a)
{
    if (RW_UNLIKELY(!ist.real.syscall)) /* no dlsym here: a vfork child may call */
        return rw_in_raw_syscall(n, a[0], a[1], a[2], a[3], a[4], a[5]);
    return ist.real.syscall(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* A logged system call: key k, result from pass(), data = the bytes at out when the
 * result is a positive length (count bytes at most). */
static long logged_syscall(int m, uint32_t call, const rw_in_key *k, long n, const long *a,
                           void *out, size_t count)
{
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(call, k);
        rw_in_give(out, count, g);
        return (long)rw_in_return(g);
    }
    long r = pass(n, a);
    int e = errno;
    rw_in_put(call, r, e, k, out && r > 0 ? out : NULL, r > 0 ? (size_t)r : 0);
    errno = e;
    return r;
}

/* The sixth argument is read from the caller's stack whether it passed one or not, as
 * glibc's own syscall() does: not an error, so not instrumented. */
__attribute__((no_sanitize("address")))
long syscall(long number, ...)
{
    long a[6];
    va_list ap;
    va_start(ap, number);
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    switch (number) {
    case SYS_getrandom:
    case SYS_gettid:
    case SYS_getdents64:
    case SYS_pidfd_open:
    case SYS_pidfd_send_signal:
        break;
    default:
        return pass(number, a);
    }
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return pass(number, a);
    rw_in_key k;
    rw_in_key_init(&k);
    switch (number) {
    case SYS_getrandom:
        rw_in_key_i64(&k, a[1]);
        rw_in_key_i64(&k, a[2]);
        return logged_syscall(m, RW_CALL_GETRANDOM, &k, number, a, (void *)a[0],
                              (size_t)a[1]);
    case SYS_gettid:
        return logged_syscall(m, RW_CALL_GETTID, &k, number, a, NULL, 0);
    case SYS_getdents64:
        rw_in_key_i64(&k, a[0]);
        rw_in_key_i64(&k, a[2]);
        return logged_syscall(m, RW_CALL_GETDENTS, &k, number, a, (void *)a[1],
                              (size_t)a[2]);
    case SYS_pidfd_open:
        rw_in_key_i64(&k, a[0]);
        rw_in_key_i64(&k, a[1]);
        return logged_syscall(m, RW_CALL_PIDFD_OPEN, &k, number, a, NULL, 0);
    default: /* SYS_pidfd_send_signal */
        rw_in_key_i64(&k, a[0]);
        rw_in_key_i64(&k, a[1]);
        rw_in_key_i64(&k, a[2] != 0);
        rw_in_key_i64(&k, a[3]);
        return logged_syscall(m, RW_CALL_PIDFD_SEND_SIGNAL, &k, number, a, NULL, 0);
    }
}

ssize_t getrandom(void *buf, size_t count, unsigned flags)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(getrandom)(buf, count, flags);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, (int64_t)count);
    rw_in_key_i64(&k, flags);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_GETRANDOM, &k);
        rw_in_give(buf, count, g);
        return (ssize_t)rw_in_return(g);
    }
    ssize_t r = REAL(getrandom)(buf, count, flags);
    int e = errno;
    rw_in_put(RW_CALL_GETRANDOM, r, e, &k, r > 0 ? buf : NULL, r > 0 ? (size_t)r : 0);
    errno = e;
    return r;
}

int getentropy(void *buf, size_t count)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(getentropy)(buf, count);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, (int64_t)count);
    rw_in_key_i64(&k, 0);
    rw_in_key_i64(&k, 1);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_GETRANDOM, &k);
        rw_in_give(buf, count, g);
        return (int)rw_in_return(g);
    }
    int r = REAL(getentropy)(buf, count);
    return (int)rw_in_logged(RW_CALL_GETRANDOM, &k, r, errno, r == 0 ? buf : NULL,
                             r == 0 ? count : 0);
}

/* ---- ids: a result and nothing else ---- */

/* In a replay, a call of the program's that is not logged: a thread's after its
 * function returned (its teardown, where weakref callbacks and finalizers still run the
 * program's Python code: multiprocessing's Finalize compares os.getpid() with the pid
 * it saved) or one of a C thread not followed. The process's ids are then the
 * recording's, not the engine's. */
static int replayed_unlogged(void)
{
    int g = atomic_load_explicit(&rw_in_global, memory_order_relaxed);
    return (g == RW_IN_REPLAY || g == RW_IN_EVAL) && rw_in_tls.thread == 0 &&
           !rw_in_tls.paused && rw_tls.busy == rw_tls.busy_py;
}

/* A function of no argument whose result is all it tells; which >= 0 goes in the key.
 * fact: the recording's answer where replayed_unlogged (getpid, getppid). */
#define ID_CALL(type, name, CALL, which, fact)                                           \
    type name(void)                                                                      \
    {                                                                                    \
        int m = rw_in_mode();                                                            \
        int64_t v;                                                                       \
        if (m == RW_IN_OFF)                                                              \
            return (fact) && RW_UNLIKELY(replayed_unlogged()) &&                         \
                           rw_in_recorded_fact(RW_CALL_##CALL, &v)                       \
                       ? (type)v                                                         \
                       : REAL(name)();                                                   \
        rw_in_key k;                                                                     \
        rw_in_key_init(&k);                                                              \
        if ((which) >= 0)                                                                \
            rw_in_key_i64(&k, (which));                                                  \
        if (m == RW_IN_REPLAY)                                                           \
            return (type)rw_in_return(rw_in_take(RW_CALL_##CALL, &k));                   \
        type r = REAL(name)();                                                           \
        rw_in_put(RW_CALL_##CALL, (int64_t)r, errno, &k, NULL, 0);                       \
        return r;                                                                        \
    }

ID_CALL(pid_t, getpid, GETPID, -1, 1)
ID_CALL(pid_t, getppid, GETPPID, -1, 1)
ID_CALL(pid_t, gettid, GETTID, -1, 0)
ID_CALL(uid_t, getuid, GETID, 0, 0)
ID_CALL(uid_t, geteuid, GETID, 1, 0)
ID_CALL(gid_t, getgid, GETID, 2, 0)
ID_CALL(gid_t, getegid, GETID, 3, 0)
ID_CALL(pid_t, getpgrp, GETID, 6, 0)

/* A process's session or group (os.getsid, os.getpgid): GETID with the pid. */
static pid_t group_of(int which, pid_t (*real)(pid_t), pid_t pid)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return real(pid);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, which);
    rw_in_key_i64(&k, pid);
    if (m == RW_IN_REPLAY)
        return (pid_t)rw_in_replayed(RW_CALL_GETID, &k, NULL, 0);
    pid_t r = real(pid);
    return (pid_t)rw_in_logged(RW_CALL_GETID, &k, r, errno, NULL, 0);
}

pid_t getsid(pid_t pid)
{
    return group_of(4, REAL(getsid), pid);
}

pid_t getpgid(pid_t pid)
{
    return group_of(5, REAL(getpgid), pid);
}

void rw_in_identity_facts(void)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return;
    rw_in_key k;
    rw_in_key_init(&k);
    if (m == RW_IN_REPLAY) { /* taken, they are the evaluations' answers (input.c) */
        rw_in_take_optional(RW_CALL_GETPID, &k);
        rw_in_take_optional(RW_CALL_GETPPID, &k);
        return;
    }
    rw_in_put_flags(RW_CALL_GETPID, REAL(getpid)(), 0, &k, NULL, 0, RW_INPUT_F_OPTIONAL);
    rw_in_put_flags(RW_CALL_GETPPID, REAL(getppid)(), 0, &k, NULL, 0, RW_INPUT_F_OPTIONAL);
}

int getgroups(int size, gid_t list[])
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(getgroups)(size, list);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, 0);
    rw_in_key_i64(&k, size);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_GETGROUPS, &k);
        if (size > 0)
            rw_in_give(list, (size_t)size * sizeof *list, g);
        return (int)rw_in_return(g);
    }
    int r = REAL(getgroups)(size, list);
    int e = errno;
    rw_in_put(RW_CALL_GETGROUPS, r, e, &k, size > 0 && r > 0 ? list : NULL,
              r > 0 ? (size_t)r * sizeof *list : 0);
    errno = e;
    return r;
}

int getgrouplist(const char *user, gid_t group, gid_t *groups, int *ngroups)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(getgrouplist)(user, group, groups, ngroups);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, 1);
    rw_in_key_i64(&k, group);
    rw_in_key_i64(&k, *ngroups);
    rw_in_key_str(&k, user);
    int cap = *ngroups;
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_GETGROUPS, &k);
        int32_t n = 0;
        if (g->data_len >= sizeof n) {
            memcpy(&n, g->data, sizeof n);
            size_t have = (g->data_len - sizeof n) / sizeof *groups;
            size_t fit = cap > 0 ? (size_t)cap : 0;
            if (have)
                memcpy(groups, g->data + sizeof n, (have < fit ? have : fit) * sizeof *groups);
        }
        *ngroups = n;
        return (int)rw_in_return(g);
    }
    rw_in_pause(); /* its own file and NSS reads are not inputs */
    int r = REAL(getgrouplist)(user, group, groups, ngroups);
    rw_in_resume();
    int e = errno;
    unsigned char d[sizeof(int32_t) + 1024 * sizeof(gid_t)];
    int32_t n = *ngroups;
    size_t len = n < cap ? (size_t)n : (size_t)(cap > 0 ? cap : 0);
    if (len > 1024)
        len = 1024;
    memcpy(d, &n, sizeof n);
    if (r >= 0 && len)
        memcpy(d + sizeof n, groups, len * sizeof *groups);
    rw_in_put(RW_CALL_GETGROUPS, r, e, &k, d, sizeof n + (r >= 0 ? len * sizeof *groups : 0));
    errno = e;
    return r;
}

/* ---- names of the user, the machine, the terminal ---- */

char *getlogin(void)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(getlogin)();
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, 0);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_GETLOGIN, &k);
        if (!g->result)
            return (char *)(intptr_t)rw_in_return(g);
        give_str(ist.login, sizeof ist.login, g);
        rw_in_return(g);
        return ist.login;
    }
    rw_in_pause(); /* its own file and NSS reads are not inputs */
    char *r = REAL(getlogin)();
    rw_in_resume();
    int e = errno;
    rw_in_put(RW_CALL_GETLOGIN, r != NULL, e, &k, r, slen(r));
    errno = e;
    return r;
}

int getlogin_r(char *buf, size_t n)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(getlogin_r)(buf, n);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, 1);
    rw_in_key_i64(&k, (int64_t)n);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_GETLOGIN, &k);
        if (g->result == 0)
            give_str(buf, n, g);
        return (int)rw_in_return(g);
    }
    rw_in_pause(); /* its own file and NSS reads are not inputs */
    int r = REAL(getlogin_r)(buf, n);
    rw_in_resume();
    int e = errno;
    rw_in_put(RW_CALL_GETLOGIN, r, e, &k, r == 0 ? buf : NULL, r == 0 ? strnlen(buf, n) : 0);
    errno = e;
    return r;
}

int uname(struct utsname *buf)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(uname)(buf);
    rw_in_key k;
    rw_in_key_init(&k);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_UNAME, &k);
        rw_in_give(buf, sizeof *buf, g);
        return (int)rw_in_return(g);
    }
    int r = REAL(uname)(buf);
    int e = errno;
    rw_in_put(RW_CALL_UNAME, r, e, &k, r == 0 ? buf : NULL, sizeof *buf);
    errno = e;
    return r;
}

int gethostname(char *name, size_t len)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(gethostname)(name, len);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, (int64_t)len);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_GETHOSTNAME, &k);
        rw_in_give(name, len, g);
        return (int)rw_in_return(g);
    }
    int r = REAL(gethostname)(name, len);
    int e = errno;
    size_t n = r == 0 ? strnlen(name, len) : 0;
    if (r == 0 && n < len)
        n++; /* the NUL */
    rw_in_put(RW_CALL_GETHOSTNAME, r, e, &k, r == 0 ? name : NULL, n);
    errno = e;
    return r;
}

char *ttyname(int fd)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(ttyname)(fd);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, 0);
    rw_in_key_i64(&k, fd);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_TTYNAME, &k);
        if (g->result)
            give_str(ist.tty, sizeof ist.tty, g);
        return rw_in_return(g) ? ist.tty : NULL;
    }
    rw_in_pause(); /* its own file and NSS reads are not inputs */
    char *r = REAL(ttyname)(fd);
    rw_in_resume();
    int e = errno;
    rw_in_put(RW_CALL_TTYNAME, r != NULL, e, &k, r, slen(r));
    errno = e;
    return r;
}

int ttyname_r(int fd, char *buf, size_t len)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(ttyname_r)(fd, buf, len);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, 1);
    rw_in_key_i64(&k, fd);
    rw_in_key_i64(&k, (int64_t)len);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_TTYNAME, &k);
        if (g->result == 0)
            give_str(buf, len, g);
        return (int)rw_in_return(g);
    }
    rw_in_pause(); /* its own file and NSS reads are not inputs */
    int r = REAL(ttyname_r)(fd, buf, len);
    rw_in_resume();
    int e = errno;
    rw_in_put(RW_CALL_TTYNAME, r, e, &k, r == 0 ? buf : NULL, r == 0 ? strnlen(buf, len) : 0);
    errno = e;
    return r;
}

char *ctermid(char *s)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(ctermid)(s);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, s != NULL);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_CTERMID, &k);
        char *out = s ? s : ist.ctermid;
        give_str(out, L_ctermid, g);
        rw_in_return(g);
        return out;
    }
    rw_in_pause(); /* its own file and NSS reads are not inputs */
    char *r = REAL(ctermid)(s);
    rw_in_resume();
    int e = errno;
    rw_in_put(RW_CALL_CTERMID, 1, e, &k, r, slen(r));
    errno = e;
    return r;
}

/* ---- scheduling and limits ---- */

int getpriority(__priority_which_t which, id_t who)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(getpriority)(which, who);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, which);
    rw_in_key_i64(&k, who);
    if (m == RW_IN_REPLAY)
        return (int)rw_in_return(rw_in_take(RW_CALL_GETPRIORITY, &k));
    int r = REAL(getpriority)(which, who);
    rw_in_put(RW_CALL_GETPRIORITY, r, errno, &k, NULL, 0);
    return r;
}

/* os.setpriority: performed when recording, not on replay (the answer is logged). */
int setpriority(__priority_which_t which, id_t who, int prio)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(setpriority)(which, who, prio);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, which);
    rw_in_key_i64(&k, who);
    rw_in_key_i64(&k, prio);
    if (m == RW_IN_REPLAY)
        return (int)rw_in_return(rw_in_take(RW_CALL_SETPRIORITY, &k));
    int r = REAL(setpriority)(which, who, prio);
    rw_in_put(RW_CALL_SETPRIORITY, r, errno, &k, NULL, 0);
    return r;
}

/* prctl: what a process asks of itself (a capability's bound, its name, its parent's
 * death signal...) and sets on itself. Performed when recording; on replay nothing is
 * performed and the recorded result is given: libcap's constructor probes the
 * capability bounding set with PR_CAPBSET_READ while an extension module that links it
 * loads (python3-apt's apt_pkg), which the engine's sandbox refused. A trace made
 * before prctl was logged (no "prctl" feature) has the call made for real, as then.
 * Key: the option, then the second argument where it is a value; PR_SET_NAME the
 * name. Data: what the call wrote at its second argument (PR_GET_NAME 16 bytes, the
 * int getters 4, PR_GET_TID_ADDRESS a pointer). */
static _Atomic int prctl_logged = 1;

void rw_ident_prctl_logged(int on)
{
    atomic_store(&prctl_logged, on);
}

/* Bytes option writes at its second argument (0: it writes none there). */
static size_t prctl_out_size(int option)
{
    switch (option) {
    case PR_GET_NAME:
        return 16;
    case PR_GET_TID_ADDRESS:
        return sizeof(void *);
    case PR_GET_PDEATHSIG:
    case PR_GET_TSC:
    case PR_GET_ENDIAN:
    case PR_GET_FPEMU:
    case PR_GET_FPEXC:
    case PR_GET_UNALIGN:
    case PR_GET_CHILD_SUBREAPER:
        return sizeof(int);
    default:
        return 0;
    }
}

/* Whether option's second argument is a value (part of the key), not an address. */
static int prctl_arg_is_value(int option)
{
    switch (option) {
    case PR_CAPBSET_READ:
    case PR_CAPBSET_DROP:
    case PR_SET_PDEATHSIG:
    case PR_SET_DUMPABLE:
    case PR_SET_KEEPCAPS:
    case PR_SET_TIMERSLACK:
    case PR_SET_CHILD_SUBREAPER:
    case PR_SET_NO_NEW_PRIVS:
    case PR_SET_THP_DISABLE:
    case PR_CAP_AMBIENT:
    case PR_GET_SPECULATION_CTRL:
    case PR_SET_SECCOMP:
        return 1;
    default:
        return 0;
    }
}

int prctl(int option, ...)
{
    va_list ap;
    va_start(ap, option); /* as glibc's own prctl, which passes four on */
    unsigned long a2 = va_arg(ap, unsigned long), a3 = va_arg(ap, unsigned long);
    unsigned long a4 = va_arg(ap, unsigned long), a5 = va_arg(ap, unsigned long);
    va_end(ap);
    int m = rw_in_mode();
    if (m == RW_IN_OFF || !atomic_load_explicit(&prctl_logged, memory_order_relaxed))
        return REAL(prctl)(option, a2, a3, a4, a5);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, option);
    if (prctl_arg_is_value(option)) {
        rw_in_key_i64(&k, (int64_t)a2);
        if (option == PR_CAP_AMBIENT)
            rw_in_key_i64(&k, (int64_t)a3);
    } else if (option == PR_SET_NAME && a2) {
        char name[17]; /* the kernel takes at most 15 bytes and a NUL */
        size_t n = strnlen((const char *)a2, 16);
        memcpy(name, (const char *)a2, n);
        name[n] = '\0';
        rw_in_key_str(&k, name);
    }
    size_t out = a2 ? prctl_out_size(option) : 0;
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_PRCTL, &k);
        if (out && g->result == 0)
            rw_in_give((void *)a2, out, g);
        return (int)rw_in_return(g);
    }
    int r = REAL(prctl)(option, a2, a3, a4, a5);
    int e = errno;
    rw_in_put(RW_CALL_PRCTL, r, e, &k, r == 0 && out ? (const void *)a2 : NULL,
              r == 0 ? out : 0);
    errno = e;
    return r;
}

/* The process's identity or scheduling set (os.setuid and the like, os.setgroups,
 * os.initgroups, os.sched_setscheduler, os.sched_setparam, os.sched_setaffinity):
 * performed when recording, not on replay, where the engine keeps its own (and glibc
 * would make every thread of the engine make the setxid calls); the outcome is logged.
 * What is read after it is logged as any (GETID, GETGROUPS, SCHED_GET*). Key: the form
 * (0-7 setuid, setgid, seteuid, setegid, setreuid, setregid, setresuid, setresgid; 8
 * setgroups; 9 initgroups; 10 sched_setscheduler; 11 sched_setparam; 12
 * sched_setaffinity; 13 setsid (then 0); 14 setpgid; 15 sethostname, 16 setdomainname:
 * the length, then the name; 17 nice: the increment, the result the new niceness:
 * glibc's nice makes its getpriority and setpriority calls itself), then its arguments (setgroups:
 * the count and at most 28 groups; initgroups: the group, then the user; the
 * scheduler's: pid, policy, priority; pid, priority; pid, the mask's size and its first
 * 16 words). */
enum { SETID_GROUPS = 8, SETID_INIT = 9, SETID_KEY_GROUPS = 28 };

#define SETID_BODY(form, realcall, ...)                                                    \
    int m = rw_in_mode();                                                                  \
    if (m == RW_IN_OFF)                                                                    \
        return realcall;                                                                   \
    rw_in_key k;                                                                           \
    rw_in_key_init(&k);                                                                    \
    rw_in_key_i64(&k, form);                                                               \
    int64_t args_[] = {__VA_ARGS__};                                                       \
    for (size_t i_ = 0; i_ < sizeof args_ / sizeof *args_; i_++)                           \
        rw_in_key_i64(&k, args_[i_]);                                                      \
    if (m == RW_IN_REPLAY)                                                                 \
        return (int)rw_in_replayed(RW_CALL_SETID, &k, NULL, 0);                            \
    int r_ = realcall;                                                                     \
    return (int)rw_in_logged(RW_CALL_SETID, &k, r_, errno, NULL, 0)

int setuid(uid_t uid)
{
    SETID_BODY(0, REAL(setuid)(uid), uid);
}

int setgid(gid_t gid)
{
    SETID_BODY(1, REAL(setgid)(gid), gid);
}

int seteuid(uid_t uid)
{
    SETID_BODY(2, REAL(seteuid)(uid), uid);
}

int setegid(gid_t gid)
{
    SETID_BODY(3, REAL(setegid)(gid), gid);
}

/* -1 (no change) is keyed as -1. */
int setreuid(uid_t ruid, uid_t euid)
{
    SETID_BODY(4, REAL(setreuid)(ruid, euid), (int)ruid, (int)euid);
}

int setregid(gid_t rgid, gid_t egid)
{
    SETID_BODY(5, REAL(setregid)(rgid, egid), (int)rgid, (int)egid);
}

int setresuid(uid_t ruid, uid_t euid, uid_t suid)
{
    SETID_BODY(6, REAL(setresuid)(ruid, euid, suid), (int)ruid, (int)euid, (int)suid);
}

int setresgid(gid_t rgid, gid_t egid, gid_t sgid)
{
    SETID_BODY(7, REAL(setresgid)(rgid, egid, sgid), (int)rgid, (int)egid, (int)sgid);
}

int setgroups(size_t n, const gid_t *groups)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(setgroups)(n, groups);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, SETID_GROUPS);
    rw_in_key_i64(&k, (int64_t)n);
    for (size_t i = 0; i < n && i < SETID_KEY_GROUPS; i++)
        rw_in_key_i64(&k, groups[i]);
    if (m == RW_IN_REPLAY)
        return (int)rw_in_replayed(RW_CALL_SETID, &k, NULL, 0);
    int r = REAL(setgroups)(n, groups);
    return (int)rw_in_logged(RW_CALL_SETID, &k, r, errno, NULL, 0);
}

int initgroups(const char *user, gid_t group)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(initgroups)(user, group);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, SETID_INIT);
    rw_in_key_i64(&k, group);
    rw_in_key_str(&k, user);
    if (m == RW_IN_REPLAY)
        return (int)rw_in_replayed(RW_CALL_SETID, &k, NULL, 0);
    rw_in_pause(); /* its NSS reads are not inputs */
    int r = REAL(initgroups)(user, group);
    int e = errno;
    rw_in_resume();
    return (int)rw_in_logged(RW_CALL_SETID, &k, r, e, NULL, 0);
}

pid_t setsid(void)
{
    SETID_BODY(13, REAL(setsid)(), 0);
}

int setpgid(pid_t pid, pid_t pgid)
{
    SETID_BODY(14, REAL(setpgid)(pid, pgid), pid, pgid);
}

/* sethostname and setdomainname (socket.sethostname): forms 15 and 16. */
static int set_name(int form, int (*realfn)(const char *, size_t), const char *name, size_t len)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return realfn(name, len);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, form);
    rw_in_key_i64(&k, (int64_t)len);
    char text[256];
    size_t n = name ? strnlen(name, len < sizeof text - 1 ? len : sizeof text - 1) : 0;
    if (n)
        memcpy(text, name, n);
    text[n] = '\0';
    rw_in_key_str(&k, text);
    if (m == RW_IN_REPLAY)
        return (int)rw_in_replayed(RW_CALL_SETID, &k, NULL, 0);
    int r = realfn(name, len);
    return (int)rw_in_logged(RW_CALL_SETID, &k, r, errno, NULL, 0);
}

int sethostname(const char *name, size_t len)
{
    return set_name(15, REAL(sethostname), name, len);
}

int setdomainname(const char *name, size_t len)
{
    return set_name(16, REAL(setdomainname), name, len);
}

/* os.nice: -1 is a niceness as well as a failure; errno tells (logged). */
int nice(int inc)
{
    SETID_BODY(17, (errno = 0, REAL(nice)(inc)), inc);
}

int sched_setscheduler(pid_t pid, int policy, const struct sched_param *param)
{
    SETID_BODY(10, REAL(sched_setscheduler)(pid, policy, param), pid, policy,
               param ? param->sched_priority : -1);
}

int sched_setparam(pid_t pid, const struct sched_param *param)
{
    SETID_BODY(11, REAL(sched_setparam)(pid, param), pid, param ? param->sched_priority : -1);
}

int sched_setaffinity(pid_t pid, size_t size, const cpu_set_t *mask)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(sched_setaffinity)(pid, size, mask);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, 12);
    rw_in_key_i64(&k, pid);
    rw_in_key_i64(&k, (int64_t)size);
    for (size_t i = 0; mask && i < 16 && (i + 1) * sizeof(uint64_t) <= size; i++) {
        uint64_t w;
        memcpy(&w, (const unsigned char *)mask + i * sizeof w, sizeof w);
        rw_in_key_i64(&k, (int64_t)w);
    }
    if (m == RW_IN_REPLAY)
        return (int)rw_in_replayed(RW_CALL_SETID, &k, NULL, 0);
    int r = REAL(sched_setaffinity)(pid, size, mask);
    return (int)rw_in_logged(RW_CALL_SETID, &k, r, errno, NULL, 0);
}

/* A query of the scheduler that fills a struct: logged as sched_getscheduler's, key
 * (pid, form: 1 sched_getparam, 2 sched_rr_get_interval), data the struct. */
#define SCHED_QUERY(form, realcall, pid, out)                                              \
    int m = rw_in_mode();                                                                  \
    if (m == RW_IN_OFF)                                                                    \
        return realcall;                                                                   \
    rw_in_key k;                                                                           \
    rw_in_key_init(&k);                                                                    \
    rw_in_key_i64(&k, pid);                                                                \
    rw_in_key_i64(&k, form);                                                               \
    if (m == RW_IN_REPLAY)                                                                 \
        return (int)rw_in_replayed(RW_CALL_SCHED_GETSCHEDULER, &k, out, sizeof *(out));    \
    int r_ = realcall;                                                                     \
    return (int)rw_in_logged(RW_CALL_SCHED_GETSCHEDULER, &k, r_, errno,                    \
                             r_ == 0 ? (out) : NULL, r_ == 0 ? sizeof *(out) : 0)

int sched_getparam(pid_t pid, struct sched_param *param)
{
    SCHED_QUERY(1, REAL(sched_getparam)(pid, param), pid, param);
}

int sched_rr_get_interval(pid_t pid, struct timespec *t)
{
    SCHED_QUERY(2, REAL(sched_rr_get_interval)(pid, t), pid, t);
}

int sched_getaffinity(pid_t pid, size_t size, cpu_set_t *mask)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(sched_getaffinity)(pid, size, mask);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, pid);
    rw_in_key_i64(&k, (int64_t)size);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_SCHED_GETAFFINITY, &k);
        rw_in_give(mask, size, g);
        return (int)rw_in_return(g);
    }
    int r = REAL(sched_getaffinity)(pid, size, mask);
    int e = errno;
    rw_in_put(RW_CALL_SCHED_GETAFFINITY, r, e, &k, r == 0 ? mask : NULL, size);
    errno = e;
    return r;
}

int sched_getscheduler(pid_t pid)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(sched_getscheduler)(pid);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, pid);
    if (m == RW_IN_REPLAY)
        return (int)rw_in_return(rw_in_take(RW_CALL_SCHED_GETSCHEDULER, &k));
    int r = REAL(sched_getscheduler)(pid);
    rw_in_put(RW_CALL_SCHED_GETSCHEDULER, r, errno, &k, NULL, 0);
    return r;
}

static long sysconf_of(long (*real)(int), int name)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return real(name);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, name);
    if (m == RW_IN_REPLAY)
        return (long)rw_in_return(rw_in_take(RW_CALL_SYSCONF, &k));
    long r = real(name);
    rw_in_put(RW_CALL_SYSCONF, r, errno, &k, NULL, 0);
    return r;
}

long sysconf(int name)
{
    return sysconf_of(REAL(sysconf), name);
}

/* What PTHREAD_STACK_MIN and CLK_TCK expand to. */
long __sysconf(int name)
{
    return sysconf_of(REAL(__sysconf), name);
}

size_t confstr(int name, char *buf, size_t len)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(confstr)(name, buf, len);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, name);
    rw_in_key_i64(&k, (int64_t)len);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_CONFSTR, &k);
        rw_in_give(buf, len, g);
        return (size_t)rw_in_return(g);
    }
    size_t r = REAL(confstr)(name, buf, len);
    int e = errno;
    size_t n = buf && r ? (r < len ? r : len) : 0;
    rw_in_put(RW_CALL_CONFSTR, (int64_t)r, e, &k, n ? buf : NULL, n);
    errno = e;
    return r;
}

long pathconf(const char *path, int name)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(pathconf)(path, name);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, 0);
    rw_in_key_i64(&k, name);
    rw_in_key_str(&k, path);
    if (m == RW_IN_REPLAY)
        return (long)rw_in_return(rw_in_take(RW_CALL_PATHCONF, &k));
    long r = REAL(pathconf)(path, name);
    rw_in_put(RW_CALL_PATHCONF, r, errno, &k, NULL, 0);
    return r;
}

long fpathconf(int fd, int name)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(fpathconf)(fd, name);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, 1);
    rw_in_key_i64(&k, fd);
    rw_in_key_i64(&k, name);
    if (m == RW_IN_REPLAY)
        return (long)rw_in_return(rw_in_take(RW_CALL_PATHCONF, &k));
    long r = REAL(fpathconf)(fd, name);
    rw_in_put(RW_CALL_PATHCONF, r, errno, &k, NULL, 0);
    return r;
}

/* getrlimit and prlimit in the logged mode m: form 0 (getrlimit) or 1 (prlimit). A
 * replayed prlimit sets no limit. */
static int rlimit_of(int m, int form, pid_t pid, __rlimit_resource_t res,
                     const struct rlimit64 *nw, struct rlimit64 *old)
{
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, form);
    if (form)
        rw_in_key_i64(&k, pid);
    rw_in_key_i64(&k, res);
    if (form)
        rw_in_key_i64(&k, nw != NULL);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_GETRLIMIT, &k);
        rw_in_give(old, sizeof *old, g);
        return (int)rw_in_return(g);
    }
    int r = form ? REAL(prlimit64)(pid, res, nw, old) : REAL(getrlimit64)(res, old);
    int e = errno;
    rw_in_put(RW_CALL_GETRLIMIT, r, e, &k, r == 0 && old ? old : NULL, sizeof *old);
    errno = e;
    return r;
}

/* getrlimit64 and prlimit64 go to the system call while the constructors have not run:
 * a sanitizer's run-time asks for limits while it loads, when dlsym cannot be called
 * and, under AddressSanitizer, before its shadow memory exists: these four are not
 * instrumented. */
/* rw_in_mode, but read here first: it may be an instrumented out-of-line copy. */
#define EARLY_MODE()                                                                       \
    (atomic_load_explicit(&rw_in_global, memory_order_relaxed) == RW_IN_OFF ? RW_IN_OFF    \
                                                                            : rw_in_mode())

NO_ASAN int getrlimit64(__rlimit_resource_t res, struct rlimit64 *rlim)
{
    int m = EARLY_MODE();
    if (m == RW_IN_OFF)
        return ist.real.getrlimit64
                   ? ist.real.getrlimit64(res, rlim)
                   : (int)rw_in_raw_syscall(SYS_prlimit64, 0, res, 0, (long)rlim, 0, 0);
    return rlimit_of(m, 0, 0, res, NULL, rlim);
}

NO_ASAN int prlimit64(pid_t pid, __rlimit_resource_t res, const struct rlimit64 *nw,
              struct rlimit64 *old)
{
    int m = EARLY_MODE();
    if (m == RW_IN_OFF)
        return ist.real.prlimit64 ? ist.real.prlimit64(pid, res, nw, old)
                                  : (int)rw_in_raw_syscall(SYS_prlimit64, pid, res, (long)nw,
                                                           (long)old, 0, 0);
    return rlimit_of(m, 1, pid, res, nw, old);
}

/* The plain names (the same structs on x86-64): <sys/resource.h> renames getrlimit
 * and prlimit to their *64 forms under _FILE_OFFSET_BITS=64, so they are defined
 * under their symbol names. */
int getrlimit_plain(__rlimit_resource_t res, struct rlimit64 *rlim) __asm__("getrlimit");
NO_ASAN int getrlimit_plain(__rlimit_resource_t res, struct rlimit64 *rlim)
{
    return getrlimit64(res, rlim);
}

int prlimit_plain(pid_t pid, __rlimit_resource_t res, const struct rlimit64 *nw,
                  struct rlimit64 *old) __asm__("prlimit");
NO_ASAN int prlimit_plain(pid_t pid, __rlimit_resource_t res, const struct rlimit64 *nw,
                  struct rlimit64 *old)
{
    return prlimit64(pid, res, nw, old);
}

int getloadavg(double loadavg[], int nelem)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(getloadavg)(loadavg, nelem);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, nelem);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_GETLOADAVG, &k);
        if (nelem > 0)
            rw_in_give(loadavg, (size_t)nelem * sizeof *loadavg, g);
        return (int)rw_in_return(g);
    }
    int r = REAL(getloadavg)(loadavg, nelem);
    int e = errno;
    rw_in_put(RW_CALL_GETLOADAVG, r, e, &k, r > 0 ? loadavg : NULL,
              r > 0 ? (size_t)r * sizeof *loadavg : 0);
    errno = e;
    return r;
}

/* ---- users and groups (NSS) ---- */

/* A packed entry being built: d[0..n) of cap, trunc set when something was cut. */
typedef struct pack {
    unsigned char *d;
    size_t n, cap;
    int trunc;
} pack;

static void pack_i64(pack *p, int64_t v)
{
    if (p->n + 8 > p->cap) {
        p->trunc = 1;
        return;
    }
    memcpy(p->d + p->n, &v, 8);
    p->n += 8;
}

static void pack_str(pack *p, const char *s)
{
    size_t len = slen(s) + 1;
    if (p->n + len > p->cap) {
        p->trunc = 1;
        return;
    }
    memcpy(p->d + p->n, s ? s : "", len);
    p->n += len;
}

/* A packed entry being read: the next string (NULL when none is left). */
typedef struct unpack {
    const unsigned char *d;
    size_t n, at;
} unpack;

static int64_t unpack_i64(unpack *u)
{
    int64_t v = 0;
    if (u->at + 8 <= u->n) {
        memcpy(&v, u->d + u->at, 8);
        u->at += 8;
    }
    return v;
}

/* The next string copied into buf (at *used, of cap): NULL when it does not fit. */
static char *unpack_str(unpack *u, char *buf, size_t *used, size_t cap)
{
    const char *s = u->at < u->n ? (const char *)u->d + u->at : "";
    size_t left = u->at < u->n ? u->n - u->at : 0;
    size_t len = strnlen(s, left);
    u->at += len < left ? len + 1 : len;
    if (*used + len + 1 > cap)
        return NULL;
    char *out = buf + *used;
    memcpy(out, s, len);
    out[len] = '\0';
    *used += len + 1;
    return out;
}

static size_t pw_pack(unsigned char *d, const struct passwd *pw, int *trunc)
{
    pack p = {d, 0, ENTRY_MAX, 0};
    pack_i64(&p, pw->pw_uid);
    pack_i64(&p, pw->pw_gid);
    pack_str(&p, pw->pw_name);
    pack_str(&p, pw->pw_passwd);
    pack_str(&p, pw->pw_gecos);
    pack_str(&p, pw->pw_dir);
    pack_str(&p, pw->pw_shell);
    *trunc = p.trunc;
    return p.n;
}

/* Fills pw (strings in buf) from g: 0, or ERANGE when buf is too small. */
static int pw_fill(const rw_input *g, struct passwd *pw, char *buf, size_t cap)
{
    unpack u = {g->data, g->data_len, 0};
    size_t used = 0;
    pw->pw_uid = (uid_t)unpack_i64(&u);
    pw->pw_gid = (gid_t)unpack_i64(&u);
    char **f[] = {&pw->pw_name, &pw->pw_passwd, &pw->pw_gecos, &pw->pw_dir, &pw->pw_shell};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        if (!(*f[i] = unpack_str(&u, buf, &used, cap)))
            return ERANGE;
    return 0;
}

static size_t gr_pack(unsigned char *d, const struct group *gr, int *trunc)
{
    pack p = {d, 0, ENTRY_MAX, 0};
    int64_t nmem = 0;
    while (gr->gr_mem && gr->gr_mem[nmem])
        nmem++;
    pack_i64(&p, gr->gr_gid);
    pack_i64(&p, nmem);
    pack_str(&p, gr->gr_name);
    pack_str(&p, gr->gr_passwd);
    for (int64_t i = 0; i < nmem; i++)
        pack_str(&p, gr->gr_mem[i]);
    *trunc = p.trunc;
    return p.n;
}

/* Fills gr (member array and strings in buf) from g: 0, or ERANGE. */
static int gr_fill(const rw_input *g, struct group *gr, char *buf, size_t cap)
{
    unpack u = {g->data, g->data_len, 0};
    gr->gr_gid = (gid_t)unpack_i64(&u);
    int64_t nmem = unpack_i64(&u);
    size_t pad = (size_t)(-(uintptr_t)buf & (sizeof(char *) - 1));
    if (nmem < 0 || (uint64_t)nmem > g->data_len ||
        pad + ((size_t)nmem + 1) * sizeof(char *) > cap)
        return ERANGE;
    char **mem = (char **)(void *)(buf + pad);
    size_t used = pad + ((size_t)nmem + 1) * sizeof(char *);
    if (!(gr->gr_name = unpack_str(&u, buf, &used, cap)) ||
        !(gr->gr_passwd = unpack_str(&u, buf, &used, cap)))
        return ERANGE;
    for (int64_t i = 0; i < nmem; i++)
        if (!(mem[i] = unpack_str(&u, buf, &used, cap)))
            return ERANGE;
    mem[nmem] = NULL;
    gr->gr_mem = mem;
    return 0;
}

/* The key of a GETPW/GETGR call: form, id, buflen (the _r forms), name (by name);
 * form 4 (getpwent, getgrent) alone. */
static void nss_key(rw_in_key *k, int form, int64_t id, size_t buflen, const char *name)
{
    rw_in_key_init(k);
    rw_in_key_i64(k, form);
    if (form == 4)
        return;
    if (!(form & 2))
        rw_in_key_i64(k, id);
    if (form & 1)
        rw_in_key_i64(k, (int64_t)buflen);
    if (form & 2)
        rw_in_key_str(k, name);
}

/* Logs a found entry (packed into d, n bytes) or none. */
static void nss_put(uint32_t call, int64_t r, int e, const rw_in_key *k,
                    const unsigned char *d, size_t n, int trunc)
{
    rw_in_put_flags(call, r, e, k, n ? d : NULL, n, trunc ? RW_INPUT_F_TRUNCATED : 0);
}

/* getpwuid (form 0), getpwnam (2) and getpwent (4) in the logged mode m. */
static struct passwd *pw_static(int m, int form, uid_t uid, const char *name)
{
    rw_in_key k;
    nss_key(&k, form, uid, 0, name);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_GETPW, &k);
        int found = g->result && g->data_len &&
                    pw_fill(g, &ist.pw, ist.pwbuf, sizeof ist.pwbuf) == 0;
        rw_in_return(g);
        return found ? &ist.pw : NULL;
    }
    rw_in_pause(); /* its own file and NSS reads are not inputs */
    struct passwd *r = form == 4 ? REAL(getpwent)()
                       : form ? REAL(getpwnam)(name) : REAL(getpwuid)(uid);
    rw_in_resume();
    int e = errno;
    unsigned char d[ENTRY_MAX];
    int trunc = 0;
    size_t n = r ? pw_pack(d, r, &trunc) : 0;
    nss_put(RW_CALL_GETPW, r != NULL, e, &k, d, n, trunc);
    errno = e;
    return r;
}

/* getpwuid_r (form 1) and getpwnam_r (3) in the logged mode m. */
static int pw_r(int m, int form, uid_t uid, const char *name, struct passwd *pw, char *buf,
                size_t buflen, struct passwd **result)
{
    rw_in_key k;
    nss_key(&k, form, uid, buflen, name);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_GETPW, &k);
        int r = (int)rw_in_return(g);
        *result = NULL;
        if (r == 0 && g->data_len) {
            r = pw_fill(g, pw, buf, buflen);
            if (r == 0)
                *result = pw;
        }
        return r;
    }
    rw_in_pause(); /* its own file and NSS reads are not inputs */
    int r = form == 3 ? REAL(getpwnam_r)(name, pw, buf, buflen, result)
                      : REAL(getpwuid_r)(uid, pw, buf, buflen, result);
    rw_in_resume();
    int e = errno;
    unsigned char d[ENTRY_MAX];
    int trunc = 0;
    size_t n = r == 0 && *result ? pw_pack(d, *result, &trunc) : 0;
    nss_put(RW_CALL_GETPW, r, e, &k, d, n, trunc);
    errno = e;
    return r;
}

struct passwd *getpwuid(uid_t uid)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(getpwuid)(uid);
    return pw_static(m, 0, uid, NULL);
}

struct passwd *getpwnam(const char *name)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(getpwnam)(name);
    return pw_static(m, 2, 0, name);
}

/* pwd.getpwall and grp.getgrall: setpwent, endpwent, setgrent and endgrent tell
 * nothing, so they are not logged; a replay does not perform them (they would load the
 * local NSS modules, whose libraries the sandbox stops: libnss_systemd's libcap calls
 * prctl), since the getpwent and getgrent between them come from the log. */
#define NSS_REWIND(name)                                                                   \
    void name(void)                                                                        \
    {                                                                                      \
        if (rw_in_mode() != RW_IN_REPLAY && REAL(name))                                    \
            REAL(name)();                                                                  \
    }
NSS_REWIND(setpwent)
NSS_REWIND(endpwent)
NSS_REWIND(setgrent)
NSS_REWIND(endgrent)

struct passwd *getpwent(void)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(getpwent)();
    return pw_static(m, 4, 0, NULL);
}

int getpwuid_r(uid_t uid, struct passwd *restrict pw, char *restrict buf, size_t buflen,
               struct passwd **restrict result)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(getpwuid_r)(uid, pw, buf, buflen, result);
    return pw_r(m, 1, uid, NULL, pw, buf, buflen, result);
}

int getpwnam_r(const char *restrict name, struct passwd *restrict pw, char *restrict buf,
               size_t buflen, struct passwd **restrict result)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(getpwnam_r)(name, pw, buf, buflen, result);
    return pw_r(m, 3, 0, name, pw, buf, buflen, result);
}

/* getgrgid (form 0), getgrnam (2) and getgrent (4) in the logged mode m. */
static struct group *gr_static(int m, int form, gid_t gid, const char *name)
{
    rw_in_key k;
    nss_key(&k, form, gid, 0, name);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_GETGR, &k);
        int found = g->result && g->data_len &&
                    gr_fill(g, &ist.gr, ist.grbuf, sizeof ist.grbuf) == 0;
        rw_in_return(g);
        return found ? &ist.gr : NULL;
    }
    rw_in_pause(); /* its own file and NSS reads are not inputs */
    struct group *r = form == 4 ? REAL(getgrent)()
                      : form ? REAL(getgrnam)(name) : REAL(getgrgid)(gid);
    rw_in_resume();
    int e = errno;
    unsigned char d[ENTRY_MAX];
    int trunc = 0;
    size_t n = r ? gr_pack(d, r, &trunc) : 0;
    nss_put(RW_CALL_GETGR, r != NULL, e, &k, d, n, trunc);
    errno = e;
    return r;
}

/* getgrgid_r (form 1) and getgrnam_r (3) in the logged mode m. */
static int gr_r(int m, int form, gid_t gid, const char *name, struct group *gr, char *buf,
                size_t buflen, struct group **result)
{
    rw_in_key k;
    nss_key(&k, form, gid, buflen, name);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_GETGR, &k);
        int r = (int)rw_in_return(g);
        *result = NULL;
        if (r == 0 && g->data_len) {
            r = gr_fill(g, gr, buf, buflen);
            if (r == 0)
                *result = gr;
        }
        return r;
    }
    rw_in_pause(); /* its own file and NSS reads are not inputs */
    int r = form == 3 ? REAL(getgrnam_r)(name, gr, buf, buflen, result)
                      : REAL(getgrgid_r)(gid, gr, buf, buflen, result);
    rw_in_resume();
    int e = errno;
    unsigned char d[ENTRY_MAX];
    int trunc = 0;
    size_t n = r == 0 && *result ? gr_pack(d, *result, &trunc) : 0;
    nss_put(RW_CALL_GETGR, r, e, &k, d, n, trunc);
    errno = e;
    return r;
}

struct group *getgrgid(gid_t gid)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(getgrgid)(gid);
    return gr_static(m, 0, gid, NULL);
}

struct group *getgrnam(const char *name)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(getgrnam)(name);
    return gr_static(m, 2, 0, name);
}

struct group *getgrent(void)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(getgrent)();
    return gr_static(m, 4, 0, NULL);
}

int getgrgid_r(gid_t gid, struct group *restrict gr, char *restrict buf, size_t buflen,
               struct group **restrict result)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(getgrgid_r)(gid, gr, buf, buflen, result);
    return gr_r(m, 1, gid, NULL, gr, buf, buflen, result);
}

int getgrnam_r(const char *restrict name, struct group *restrict gr, char *restrict buf,
               size_t buflen, struct group **restrict result)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(getgrnam_r)(name, gr, buf, buflen, result);
    return gr_r(m, 3, 0, name, gr, buf, buflen, result);
}

/* ---- locale ---- */

/* Replay: makes the engine's C library use the locale the recording ended up with
 * (see the file's opening comment). */
static void follow_locale(int category, const char *name)
{
    if (REAL(setlocale)(category, name))
        return;
    if (strstr(name, "UTF-8") || strstr(name, "utf8") || strstr(name, "UTF8") ||
        strstr(name, "utf-8"))
        REAL(setlocale)(category, "C.UTF-8");
}

char *setlocale(int category, const char *locale)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(setlocale)(category, locale);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, category);
    rw_in_key_i64(&k, locale != NULL);
    rw_in_key_str(&k, locale);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_SETLOCALE, &k);
        if (!g->result)
            return (char *)(intptr_t)rw_in_return(g);
        char *s = give_text(g);
        if (locale)
            follow_locale(category, s);
        rw_in_return(g);
        return s;
    }
    char *r = REAL(setlocale)(category, locale);
    int e = errno;
    rw_in_put(RW_CALL_SETLOCALE, r != NULL, e, &k, r, slen(r));
    errno = e;
    return r;
}

char *nl_langinfo(nl_item item)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return REAL(nl_langinfo)(item);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, item);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_NL_LANGINFO, &k);
        char *s = give_text(g);
        rw_in_return(g);
        return s;
    }
    char *r = REAL(nl_langinfo)(item);
    int e = errno;
    rw_in_put(RW_CALL_NL_LANGINFO, 1, e, &k, r, slen(r));
    errno = e;
    return r;
}
