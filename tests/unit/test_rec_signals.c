/* Check suite for recorder/libc/signals.c and the SIGNAL records of recorder/sigwrap.h:
 * a scenario arms timers, signals itself and waits for a signal in RW_IN_RECORD mode
 * (for real, with a C handler counting deliveries), its inputs written to a trace; then
 * runs again in RW_IN_REPLAY mode from that trace, where no timer may be armed and no
 * signal sent: the handler must not run, and every call must answer what it answered
 * while recording. Then the SIGNAL records: logged in the main thread from the pending
 * mask, taken in replay only once their position is reached.
 */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "libc/input.h"
#include "reader.h"
#include "sigwrap.h"
#include "state.h"
#include "testutil.h"
#include "writer.h"

static rw_writer *trace_w;
static rw_reader *rd;
static char *trace;

static void start_record(void)
{
    trace = rw_test_path("signals.rwd");
    trace_w = rw_test_writer_open(trace, 0, NULL);
    rw_in_start(RW_IN_RECORD, NULL);
    rw_in_attach_writer(trace_w);
}

static void start_replay(void)
{
    rw_in_stop();
    rw_in_attach_writer(NULL);
    rw_test_writer_exit(trace_w);
    rw_err err = {0};
    ck_assert_msg(rw_reader_open(trace, &rd, &err) == RW_OK, "open: %s", err.msg);
    rw_in_start(RW_IN_REPLAY, rd);
}

static volatile sig_atomic_t delivered[65];

static void count(int sig)
{
    delivered[sig]++;
}

/* What a program sees of its timers and of the signals it sends itself. recording: 1
 * while recording (the handler must run then, and never in replay). */
static void scenario(rw_test_seen *o, int recording)
{
    memset((void *)delivered, 0, sizeof delivered);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = count;
    sigemptyset(&sa.sa_mask);
    ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
    ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);

    rw_test_see(o, "alarm %u\n", alarm(30));
    struct itimerval v = {{0, 0}, {20, 0}}, old, now;
    memset(&old, 0, sizeof old);
    rw_test_see(o, "setitimer %d\n", setitimer(ITIMER_REAL, &v, &old));
    rw_test_see(o, "old %ld\n", (long)old.it_value.tv_sec); /* the alarm's 30 s, less a little */
    memset(&now, 0, sizeof now);
    int r = getitimer(ITIMER_REAL, &now);
    rw_test_see(o, "getitimer %d %ld %ld\n", r, (long)now.it_value.tv_sec, (long)now.it_value.tv_usec);
    struct itimerval off = {{0, 0}, {0, 0}};
    rw_test_see(o, "off %d\n", setitimer(ITIMER_REAL, &off, NULL));
    rw_test_see(o, "alarm again %u\n", alarm(0));

    rw_test_see(o, "raise %d\n", raise(SIGUSR1));
    rw_test_see(o, "pthread_kill %d\n", pthread_kill(pthread_self(), SIGUSR1));
    ck_assert_int_eq(delivered[SIGUSR1], recording ? 2 : 0);

    /* A signal waited for: blocked, sent, then taken by sigtimedwait. */
    sigset_t set, was;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    ck_assert_int_eq(pthread_sigmask(SIG_BLOCK, &set, &was), 0);
    rw_test_see(o, "raise blocked %d\n", raise(SIGUSR1));
    siginfo_t si;
    memset(&si, 0, sizeof si);
    struct timespec t = {5, 0};
    r = sigtimedwait(&set, &si, &t);
    rw_test_see(o, "sigtimedwait %d signo %d\n", r, si.si_signo);
    ck_assert_int_eq(pthread_sigmask(SIG_SETMASK, &was, NULL), 0);
    ck_assert_int_eq(delivered[SIGUSR1], recording ? 2 : 0);
    ck_assert_int_eq(delivered[SIGALRM], 0);
}

START_TEST(test_timers_and_signals_to_self)
{
    static rw_test_seen rec, rep;
    memset(&rec, 0, sizeof rec);
    memset(&rep, 0, sizeof rep);
    start_record();
    scenario(&rec, 1);
    start_replay();
    scenario(&rep, 0);
    rw_in_stop();
    ck_assert_str_eq(rep.s, rec.s);
    ck_assert_ptr_nonnull(strstr(rec.s, "alarm 0\n"));
    ck_assert_ptr_nonnull(strstr(rec.s, "old 2")); /* 29 s or so */
    /* 20 s less a little (the kernel may round up to 20 s) */
    ck_assert_msg(strstr(rec.s, "getitimer 0 19 ") || strstr(rec.s, "getitimer 0 20 "), "%s",
                  rec.s);
    ck_assert_ptr_nonnull(strstr(rec.s, "alarm again 0\n"));
    ck_assert_ptr_nonnull(strstr(rec.s, "raise 0\npthread_kill 0\n"));
    ck_assert_ptr_nonnull(strstr(rec.s, "sigtimedwait 10 signo 10\n"));
}
END_TEST

/* A handler's run becomes a SIGNAL record at the current position when its signal
 * arrived (and only then: the program's own trips are not logged); replay takes them
 * only from that position on, and only when they are next. */
START_TEST(test_signal_records)
{
    start_record();
    rw_st.nevents = 7;
    rw_sig_note(SIGINT);
    rw_sig_note(SIGUSR2);
    rw_sig_note(SIGUSR2); /* two arrivals, one trip: the count stays up */
    ck_assert_uint_eq(atomic_load(&rw_sig_pending), 3);
    ck_assert_int_eq(rw_sig_ran(SIGINT), 1);
    ck_assert_int_eq(rw_sig_ran(SIGINT), 0); /* a trip no signal made */
    ck_assert_int_eq(rw_sig_ran(SIGTERM), 0);
    ck_assert_int_eq(rw_sig_ran(0), 0);
    ck_assert_int_eq(rw_sig_ran(65), 0);
    ck_assert_int_eq(rw_sig_ran(SIGUSR2), 1);
    ck_assert_uint_eq(atomic_load(&rw_sig_pending), 1);
    (void)alarm(0); /* an ordinary record after them */
    rw_sig_forget();
    ck_assert_uint_eq(atomic_load(&rw_sig_pending), 0);
    ck_assert_int_eq(rw_sig_ran(SIGUSR2), 0);
    start_replay();

    uint64_t due = 0;
    rw_st.nevents = 6;
    ck_assert_int_eq(rw_in_take_signal(rw_st.nevents, &due), 0);
    ck_assert_uint_eq(due, 7);
    rw_st.nevents = 7;
    ck_assert_int_eq(rw_in_take_signal(rw_st.nevents, &due), SIGINT);
    ck_assert_int_eq(rw_in_take_signal(rw_st.nevents, &due), SIGUSR2);
    ck_assert_int_eq(rw_in_take_signal(rw_st.nevents, &due), 0);
    ck_assert_uint_eq(due, UINT64_MAX); /* the next record is the alarm's */
    ck_assert_uint_eq(alarm(0), 0);
    rw_in_stop();
    rw_st.nevents = 0;
}
END_TEST

/* A call that is not the recorded one where a SIGNAL is next: a divergence. */
START_TEST(test_signal_not_taken_diverges)
{
    start_record();
    rw_st.nevents = 3;
    rw_sig_note(SIGUSR1);
    rw_sig_ran(SIGUSR1);
    start_replay();
    rw_st.nevents = 0; /* the run never reached the signal's position */
    alarm(0);          /* exits with status 3 */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("signals");
    const TTest *tests[] = {test_timers_and_signals_to_self, test_signal_records};
    rw_test_add_case(s, "wrappers", 60, tests, RW_TEST_N(tests));
    TCase *tc = tcase_create("divergence");
    tcase_add_exit_test(tc, test_signal_not_taken_diverges, 3);
    suite_add_tcase(s, tc);
    return rw_test_run(s);
}
