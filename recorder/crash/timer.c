/* The --timeout thread (faulthandler's dump_traceback_later with exit=True): at the
 * deadline it reports every thread's stacks, the main thread's C stack taken by a
 * signal handler running in it, closes the trace and ends the process with status
 * 124. Its texts are formatted when armed, so that the report path allocates nothing.
 */
#include "crash_int.h"
#include "libc/input.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "sigsafe.h"
#include "threads.h"

#define CSTACK_WAIT_MS 1000

/* Owner: this file. Written by rw_crash_timer_start (main thread) before the thread
 * starts, then read by it; stop under mu; cstack_* and rep shared with the main
 * thread's signal handler. Global because that handler gets no context. */
static struct timer_state {
    double timeout_s;
    pthread_t main_thread;    /* where the C stack signal goes */
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;                 /* (mu) rw_crash_timer_stop asks the thread to end */
    struct sigaction prev_cstack;
    int cstack_ours, cstack_sig;
    _Atomic int cstack_wanted, cstack_done;
    rw_crash_report *rep;     /* the report the handler adds the C stack to */
    char header[64];          /* "Timeout (0:00:05)!\n", as faulthandler's */
    char line[4200];          /* the one line printed on stderr at the end */
} tm = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* The main thread's answer to the timeout thread: its own C stack, into the report
 * the timeout thread owns. Async-signal-safe. */
static void cstack_handler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    int saved_errno = errno;
    rw_in_pause(); /* libunwind's reads (/proc/self/maps) are rewind's, not inputs */
    if (atomic_load(&tm.cstack_wanted)) {
        rw_crash_cstack_capture(tm.rep, ucv);
        tm.rep->m.pc = (uint64_t)((const ucontext_t *)ucv)->uc_mcontext.gregs[REG_RIP];
        atomic_store(&tm.cstack_done, 1);
    }
    rw_in_resume();
    errno = saved_errno;
}

/* The timeout thread: waits for the deadline (or rw_crash_timer_stop), then reports,
 * closes the trace and ends the process like dump_traceback_later(exit=True). */
static void *timer_main(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);

    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    double whole = (double)(int64_t)tm.timeout_s;
    deadline.tv_sec += (time_t)whole;
    deadline.tv_nsec += (long)((tm.timeout_s - whole) * 1e9);
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&tm.mu);
    int rc = 0;
    while (!tm.stop && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&tm.cv, &tm.mu, &deadline);
    int stop = tm.stop;
    pthread_mutex_unlock(&tm.mu);
    if (stop)
        return NULL;

    for (unsigned ms = 0; rw_crash_report_claim() != 0; ms++) {
        if (ms > 2 * RW_CRASH_WAIT_MS)
            break; /* a crash report never finished: give up waiting, report anyway */
        rw_sigsafe_sleep_ms(1);
    }
    rw_crash_report *r = rw_crash_report_begin(REWIND__CRASH_REPORT__KIND__TIMEOUT, 0, NULL,
                                               NULL);
    r->m.timeout_ms = (uint64_t)(tm.timeout_s * 1000 + 0.5);
    rw_crash_pystack_walk(r, NULL);
    /* The C stack of the main thread, from a handler running in it. */
    r->m.thread_ident = (uint64_t)tm.main_thread;
    r->m.thread = rw_threads_id_of_ident(r->m.thread_ident);
    tm.rep = r;
    atomic_store(&tm.cstack_done, 0);
    atomic_store(&tm.cstack_wanted, 1);
    if (tm.cstack_ours && pthread_kill(tm.main_thread, tm.cstack_sig) == 0)
        for (unsigned ms = 0; ms < CSTACK_WAIT_MS && !atomic_load(&tm.cstack_done); ms++)
            rw_sigsafe_sleep_ms(1);
    atomic_store(&tm.cstack_wanted, 0);
    if (!atomic_load(&tm.cstack_done)) {
        r->m.n_c_frames = 0;
        rw_crash_report_note(r, "the main thread did not answer the C stack signal within 1 s");
    }
    rw_crash_pystack_text(r, tm.header, NULL, 0);
    rw_crash_report_post(r, 0, 1, RW_CRASH_TIMEOUT_STATUS, 0, "timeout", RW_CRASH_WAIT_MS);
    rw_sigsafe_put_str(tm.line);
    _exit(RW_CRASH_TIMEOUT_STATUS);
}

rw_code rw_crash_timer_start(const rw_crash_opts *o, rw_err *err)
{
    tm.timeout_s = o->timeout_s;
    tm.main_thread = pthread_self();
    tm.cstack_sig = SIGRTMIN + 7;
    if (rw_crash_set_handler(tm.cstack_sig, cstack_handler, SA_RESTART, &tm.prev_cstack, err) ==
        RW_OK)
        tm.cstack_ours = 1;
    uint64_t us = (uint64_t)(o->timeout_s * 1e6 + 0.5);
    uint64_t sec = us / 1000000, frac = us % 1000000;
    if (frac)
        snprintf(tm.header, sizeof tm.header, "Timeout (%lu:%02lu:%02lu.%06lu)!\n",
                 (unsigned long)(sec / 3600), (unsigned long)(sec / 60 % 60),
                 (unsigned long)(sec % 60), (unsigned long)frac);
    else
        snprintf(tm.header, sizeof tm.header, "Timeout (%lu:%02lu:%02lu)!\n",
                 (unsigned long)(sec / 3600), (unsigned long)(sec / 60 % 60),
                 (unsigned long)(sec % 60));
    snprintf(tm.line, sizeof tm.line,
             "rewind: timeout after %g s: stacks recorded in %s; exit status %d\n",
             o->timeout_s, o->path ? o->path : "the trace", RW_CRASH_TIMEOUT_STATUS);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&tm.cv, &ca);
    pthread_condattr_destroy(&ca);
    tm.stop = 0;
    rw_in_pause(); /* rewind's own thread: not one the program started (libc/pthread.c) */
    int rc = pthread_create(&tm.thread, NULL, timer_main, NULL);
    rw_in_resume();
    if (rc != 0)
        return rw_err_set(err, RW_EIO, "cannot start the timeout thread: %s", strerror(rc));
    tm.started = 1;
    return RW_OK;
}

void rw_crash_timer_stop(void)
{
    if (tm.started) {
        pthread_mutex_lock(&tm.mu);
        tm.stop = 1;
        pthread_cond_signal(&tm.cv);
        pthread_mutex_unlock(&tm.mu);
        pthread_join(tm.thread, NULL);
        tm.started = 0;
    }
}

void rw_crash_timer_restore(void)
{
    if (tm.cstack_ours)
        rw_crash_restore_if_ours(tm.cstack_sig, cstack_handler, &tm.prev_cstack);
    tm.cstack_ours = 0;
}
