/* Signals at the C-library boundary (recorder/sigwrap.h says how a handler's run is
 * logged and replayed; the pattern is input.h's read() example).
 *
 * Wraps: sigaction (a front handler before CPython's), alarm setitimer getitimer (the
 * timers: not armed in replay), raise pthread_kill (signals to oneself: not sent in
 * replay; kill killpg tgkill are proc.c's), pause sigwait sigwaitinfo sigtimedwait
 * (waits for a signal: answered from the log in replay).
 *
 * Encodings (key: little-endian int64s; data: as said):
 *
 * call     key                                         result       data
 * ITIMER   kind (0 alarm, 1 setitimer, 2 getitimer),    alarm: the   struct itimerval, the
 *          which (alarm: 0), value s, us, interval     seconds      old value (setitimer
 *          s, us (alarm: seconds, 0, 0, 0; getitimer:  left; else   with an old pointer,
 *          0s), old asked (0/1)                        0/-1         getitimer)
 * KILL     kind (3 raise, 4 pthread_kill), 0, signal,  0/-1, or     -
 *          pthread_kill: 1 when the target is the      the error
 *          calling thread, else 0                      returned
 * SIGWAIT  kind (0 pause, 1 sigwait, 2 sigwaitinfo,    the call's   sigwait: i64 signal;
 *          3 sigtimedwait), the set's signals 1-64     result       sigwaitinfo and
 *          as a bit mask, timeout s, ns (else 0, 0),                sigtimedwait: siginfo_t
 *          info asked (0/1)                                         (when asked)
 *
 * The front handler: sigaction recognises CPython's C-level handler as the one
 * PyOS_setsig installs first (dladdr of the caller), and puts `front` in its place for
 * every signal but the synchronous fatal ones (faulthandler and the crash handler keep
 * theirs). Recording: front notes the signal (rw_sig_note) and calls CPython's
 * handler with input capture paused in the thread (its write to a wakeup fd is the
 * signal's, not a call of the program, and must not take input.c's lock from a signal
 * handler). Replay and eval: front drops the signal (a signal sent to the engine is not
 * one of the recording's). A query of the handler answers CPython's, not front.
 * Where the handlers then run is logged by sigwrap.c, also after raise, pthread_kill
 * and the waits, whose checks are signalmodule.c's own. Rules for this folder:
 * recorder/libc/README.md.
 */
#include "input.h"

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "sigwrap.h"

/* The C library's functions (written by the constructor before main and any thread,
 * read-only afterwards) and CPython's C-level handler (written once, by the main
 * thread, when PyOS_setsig first installs it; read by front in any thread). Global
 * because a wrapper and a signal handler get no context. */
static struct sig_state {
    int (*sigaction)(int, const struct sigaction *, struct sigaction *);
    unsigned (*alarm)(unsigned);
    int (*setitimer)(int, const struct itimerval *, struct itimerval *);
    int (*getitimer)(int, struct itimerval *);
    int (*raise)(int);
    int (*pthread_kill)(pthread_t, int);
    int (*pause)(void);
    int (*sigwait)(const sigset_t *, int *);
    int (*sigwaitinfo)(const sigset_t *, siginfo_t *);
    int (*sigtimedwait)(const sigset_t *, siginfo_t *, const struct timespec *);
    void (*_Atomic cpy)(int);
} sg;

#define RESOLVE(name) sg.name = (__typeof__(sg.name))dlsym(RTLD_NEXT, #name)

__attribute__((constructor)) static void sig_resolve(void)
{
    RESOLVE(sigaction);
    RESOLVE(alarm);
    RESOLVE(setitimer);
    RESOLVE(getitimer);
    RESOLVE(raise);
    RESOLVE(pthread_kill);
    RESOLVE(pause);
    RESOLVE(sigwait);
    RESOLVE(sigwaitinfo);
    RESOLVE(sigtimedwait);
}

/* ---- the front handler ---- */

static void front(int sig)
{
    if (atomic_load_explicit(&rw_in_global, memory_order_relaxed) >= RW_IN_REPLAY)
        return;
    void (*h)(int) = atomic_load(&sg.cpy);
    rw_sig_note(sig);
    rw_in_tls.paused++;
    if (h)
        h(sig);
    rw_in_tls.paused--;
}

int rw_sig_trip_as_cpython(int sig)
{
    void (*h)(int) = atomic_load(&sg.cpy);
    if (!h || sig < 1 || sig > 64)
        return 0;
    h(sig);
    return 1;
}

static int frontable(int sig)
{
    return sig >= 1 && sig <= 64 && sig != SIGSEGV && sig != SIGBUS && sig != SIGFPE &&
           sig != SIGILL && sig != SIGABRT && sig != SIGTRAP && sig != SIGSYS;
}

/* Whether the code at ret is inside CPython's PyOS_setsig. */
static int from_pyos_setsig(void *ret)
{
    Dl_info di;
    return dladdr(ret, &di) && di.dli_sname && !strcmp(di.dli_sname, "PyOS_setsig");
}

int sigaction(int sig, const struct sigaction *restrict act, struct sigaction *restrict old)
{
    struct sigaction a;
    if (act && !(act->sa_flags & SA_SIGINFO) && act->sa_handler != SIG_DFL &&
        act->sa_handler != SIG_IGN && frontable(sig)) {
        void (*h)(int) = act->sa_handler;
        if (!atomic_load(&sg.cpy) && from_pyos_setsig(__builtin_return_address(0)))
            atomic_store(&sg.cpy, h);
        if (h == atomic_load(&sg.cpy)) {
            a = *act;
            a.sa_handler = front;
            act = &a;
        }
    }
    int r = sg.sigaction(sig, act, old);
    if (r == 0 && old && !(old->sa_flags & SA_SIGINFO) && old->sa_handler == front)
        old->sa_handler = atomic_load(&sg.cpy);
    return r;
}

/* ---- timers ---- */

enum { T_ALARM, T_SET, T_GET };

static void key_timer(rw_in_key *k, int kind, int which, const struct itimerval *v, int old)
{
    rw_in_key_init(k);
    rw_in_key_i64(k, kind);
    rw_in_key_i64(k, which);
    rw_in_key_i64(k, v ? v->it_value.tv_sec : 0);
    rw_in_key_i64(k, v ? v->it_value.tv_usec : 0);
    rw_in_key_i64(k, v ? v->it_interval.tv_sec : 0);
    rw_in_key_i64(k, v ? v->it_interval.tv_usec : 0);
    rw_in_key_i64(k, old);
}

unsigned alarm(unsigned seconds)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return sg.alarm(seconds);
    struct itimerval v = {{0, 0}, {(time_t)seconds, 0}};
    rw_in_key k;
    key_timer(&k, T_ALARM, 0, &v, 0);
    if (m == RW_IN_REPLAY)
        return (unsigned)rw_in_return(rw_in_take(RW_CALL_ITIMER, &k));
    unsigned r = sg.alarm(seconds);
    return (unsigned)rw_in_logged(RW_CALL_ITIMER, &k, r, errno, NULL, 0);
}

int setitimer(__itimer_which_t which, const struct itimerval *restrict nv,
              struct itimerval *restrict ov)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return sg.setitimer(which, nv, ov);
    rw_in_key k;
    key_timer(&k, T_SET, which, nv, ov != NULL);
    if (m == RW_IN_REPLAY)
        return (int)rw_in_replayed(RW_CALL_ITIMER, &k, ov, sizeof *ov);
    int r = sg.setitimer(which, nv, ov);
    int e = errno;
    return (int)rw_in_logged(RW_CALL_ITIMER, &k, r, e, r == 0 ? ov : NULL, sizeof *ov);
}

int getitimer(__itimer_which_t which, struct itimerval *v)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return sg.getitimer(which, v);
    rw_in_key k;
    key_timer(&k, T_GET, which, NULL, 1);
    if (m == RW_IN_REPLAY)
        return (int)rw_in_replayed(RW_CALL_ITIMER, &k, v, sizeof *v);
    int r = sg.getitimer(which, v);
    int e = errno;
    return (int)rw_in_logged(RW_CALL_ITIMER, &k, r, e, r == 0 ? v : NULL, sizeof *v);
}

/* ---- signals to oneself ---- */

enum { K_RAISE = 3, K_PTHREAD_KILL = 4 };

static void key_kill(rw_in_key *k, int kind, int sig, int self)
{
    rw_in_key_init(k);
    rw_in_key_i64(k, kind);
    rw_in_key_i64(k, 0);
    rw_in_key_i64(k, sig);
    rw_in_key_i64(k, self);
}

int raise(int sig)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return sg.raise(sig);
    rw_in_key k;
    key_kill(&k, K_RAISE, sig, 0);
    if (m == RW_IN_REPLAY)
        return (int)rw_in_return(rw_in_take(RW_CALL_KILL, &k));
    int r = sg.raise(sig);
    return (int)rw_in_logged(RW_CALL_KILL, &k, r, errno, NULL, 0);
}

int pthread_kill(pthread_t t, int sig)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return sg.pthread_kill(t, sig);
    int self = pthread_equal(t, pthread_self()) != 0;
    rw_in_key k;
    key_kill(&k, K_PTHREAD_KILL, sig, self);
    if (m == RW_IN_REPLAY)
        return (int)rw_in_return(rw_in_take(RW_CALL_KILL, &k));
    int r = sg.pthread_kill(t, sig);
    return (int)rw_in_logged(RW_CALL_KILL, &k, r, errno, NULL, 0);
}

/* ---- waiting for a signal ---- */

enum { W_PAUSE, W_SIGWAIT, W_SIGWAITINFO, W_SIGTIMEDWAIT };

static void key_wait(rw_in_key *k, int kind, const sigset_t *set, const struct timespec *t,
                     int info)
{
    int64_t mask = 0;
    for (int s = 1; set && s <= 64; s++)
        if (sigismember(set, s) == 1)
            mask |= (int64_t)(UINT64_C(1) << (s - 1));
    rw_in_key_init(k);
    rw_in_key_i64(k, kind);
    rw_in_key_i64(k, mask);
    rw_in_key_i64(k, t ? t->tv_sec : 0);
    rw_in_key_i64(k, t ? t->tv_nsec : 0);
    rw_in_key_i64(k, info);
}

int pause(void)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return sg.pause();
    rw_in_key k;
    key_wait(&k, W_PAUSE, NULL, NULL, 0);
    if (m == RW_IN_REPLAY)
        return (int)rw_in_return(rw_in_take(RW_CALL_SIGWAIT, &k));
    int r = sg.pause();
    return (int)rw_in_logged(RW_CALL_SIGWAIT, &k, r, errno, NULL, 0);
}

int sigwait(const sigset_t *restrict set, int *restrict sig)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return sg.sigwait(set, sig);
    rw_in_key k;
    key_wait(&k, W_SIGWAIT, set, NULL, 1);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_SIGWAIT, &k);
        int64_t v = 0;
        if (g->data_len >= 8)
            memcpy(&v, g->data, 8);
        *sig = (int)v;
        return (int)rw_in_return(g);
    }
    int got = 0;
    int r = sg.sigwait(set, &got);
    int e = errno;
    *sig = got;
    int64_t v = got;
    return (int)rw_in_logged(RW_CALL_SIGWAIT, &k, r, e, &v, sizeof v);
}

int sigwaitinfo(const sigset_t *restrict set, siginfo_t *restrict info)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return sg.sigwaitinfo(set, info);
    rw_in_key k;
    key_wait(&k, W_SIGWAITINFO, set, NULL, info != NULL);
    if (m == RW_IN_REPLAY)
        return (int)rw_in_replayed(RW_CALL_SIGWAIT, &k, info, sizeof *info);
    int r = sg.sigwaitinfo(set, info);
    int e = errno;
    return (int)rw_in_logged(RW_CALL_SIGWAIT, &k, r, e, r > 0 ? info : NULL, sizeof *info);
}

int sigtimedwait(const sigset_t *restrict set, siginfo_t *restrict info,
                 const struct timespec *restrict t)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return sg.sigtimedwait(set, info, t);
    rw_in_key k;
    key_wait(&k, W_SIGTIMEDWAIT, set, t, info != NULL);
    if (m == RW_IN_REPLAY)
        return (int)rw_in_replayed(RW_CALL_SIGWAIT, &k, info, sizeof *info);
    int r = sg.sigtimedwait(set, info, t);
    int e = errno;
    return (int)rw_in_logged(RW_CALL_SIGWAIT, &k, r, e, r > 0 ? info : NULL, sizeof *info);
}
