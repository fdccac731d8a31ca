/* Crash, hang and dump reports (see crash.h and docs/crashes.md): installs the
 * handlers and holds the two that make reports, the fatal one (SIGSEGV, SIGFPE,
 * SIGABRT, SIGBUS, SIGILL) and the dump signal's. The report itself, the stacks, the
 * disassembly and the timeout thread are the other files of this folder
 * (crash_int.h). Handlers are async-signal-safe: see crash_int.h for the rule.
 */
#include "crash_int.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "libc/input.h"
#include "libc/libc.h"
#include "sigsafe.h"
#include "state.h"

static const int fatal_sigs[] = {SIGSEGV, SIGFPE, SIGABRT, SIGBUS, SIGILL};
#define NFATAL ((int)(sizeof fatal_sigs / sizeof fatal_sigs[0]))
static const char *const fatal_names[] = {"Segmentation fault", "Floating point exception",
                                          "Aborted", "Bus error", "Illegal instruction"};

/* Signals whose default action ends the process without Python hearing of them: the
 * trace is closed with every thread's stacks, then the signal does what it would
 * have done. Only taken when nobody set a disposition before us (nohup's SIG_IGN
 * stays). SIGINT is Python's own (KeyboardInterrupt; recorder.c closes the trace). */
static const int term_sigs[] = {SIGTERM, SIGHUP, SIGQUIT};
#define NTERM ((int)(sizeof term_sigs / sizeof term_sigs[0]))

/* Owner: this file. Written by install and uninstall (main thread, GIL held) and by
 * chain() in a handler (fatal_ours); read by handlers, which get no context. */
static struct handlers_state {
    int installed;
    rw_crash_opts opts;
    struct sigaction prev_fatal[NFATAL]; /* what each fatal signal did before us */
    int fatal_ours[NFATAL];              /* our handler is (still) installed */
    struct sigaction prev_term[NTERM];   /* SIG_DFL, when ours */
    int term_ours[NTERM];
    struct sigaction prev_dump;
    int dump_ours;
    _Atomic int dumps_stuck;             /* a dump timed out: its buffer may still be
                                          * read by the writer, so no more dumps */
} hs;

static int fatal_index(int sig)
{
    for (int i = 0; i < NFATAL; i++)
        if (fatal_sigs[i] == sig)
            return i;
    return -1;
}

/* Lets the signal do what it would have done without us: the previous handler (or
 * default action) takes over. A hardware fault (si_code > 0) is left to happen again
 * by returning (the faulting instruction runs again, and the previous handler gets
 * the genuine siginfo); a sent signal is raised again (SA_NODEFER: at once).
 * Async-signal-safe. */
static void chain(int sig, const siginfo_t *si)
{
    int i = fatal_index(sig);
    if (i >= 0 && hs.fatal_ours[i]) {
        sigaction(sig, &hs.prev_fatal[i], NULL);
        hs.fatal_ours[i] = 0;
    }
    if (si && si->si_code > 0 && sig != SIGABRT)
        return;
    raise(sig);
}

/* Fatal signal handler. Async-signal-safe. */
static void fatal_handler(int sig, siginfo_t *si, void *ucv)
{
    int saved_errno = errno;
    rw_in_pause(); /* rewind's own calls: not the program's inputs */
    pid_t me = rw_sigsafe_tid(), owner = 0;
    if (rw_real_pid() != rw_st.pid) {
        chain(sig, si); /* a forked child: the trace and its writer are the parent's */
    } else if ((owner = rw_crash_report_claim()) == 0) {
        if (!rw_crash_closed()) {
            rw_crash_report *r = rw_crash_report_begin(REWIND__CRASH_REPORT__KIND__FATAL_SIGNAL,
                                                       sig, si, ucv);
            PyThreadState *cur = rw_crash_pystack_current();
            rw_crash_pystack_walk(r, cur);
            rw_crash_cstack_capture(r, ucv);
            if (si && si->si_code > 0)
                rw_crash_disasm(r, r->m.pc);
            else /* no faulting instruction: pc is just after the kill/tgkill syscall */
                rw_crash_report_note(
                    r, "the signal was sent (kill, raise, abort), not a hardware fault");
            char header[80] = "Fatal Python error: ";
            int fi = fatal_index(sig);
            rw_sigsafe_copy(header + strlen(header), sizeof header - strlen(header),
                            fi >= 0 ? fatal_names[fi] : "signal");
            rw_sigsafe_copy(header + strlen(header), sizeof header - strlen(header), "\n\n");
            rw_crash_pystack_text(r, header, cur, 1);
            rw_crash_report_post(r, 0, 1, 128 + sig, sig, "signal", RW_CRASH_WAIT_MS);
        }
        chain(sig, si);
        /* Still alive: the previous handler returned. */
        rw_crash_report_release();
    } else if (owner == me) {
        chain(sig, si); /* a fault inside our own report */
    } else {
        /* Another thread is reporting and will end the process: let it. */
        for (unsigned ms = 0; ms < 2 * RW_CRASH_WAIT_MS && rw_crash_report_claimed(); ms++)
            rw_sigsafe_sleep_ms(1);
        chain(sig, si);
    }
    rw_in_resume();
    errno = saved_errno;
}

/* Whether sig's default action ends the process (not: ignore, stop, continue). */
static int sig_kills(int sig)
{
    return sig != SIGCHLD && sig != SIGCONT && sig != SIGURG && sig != SIGWINCH &&
           sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU && sig != SIGSTOP;
}

/* The TERMINATED report of a signal that ends the process (every thread's stacks),
 * which closes the trace. Async-signal-safe. */
static void terminated_report(int sig, siginfo_t *si, void *ucv)
{
    /* Another thread may be making a dump or the timeout's report: wait for it (as the
     * dump handler does) rather than end the process with the trace open. */
    int claimed = 0;
    for (unsigned ms = 0; rw_real_pid() == rw_st.pid && ms < 2 * RW_CRASH_DUMP_WAIT_MS; ms++) {
        pid_t owner = rw_crash_report_claim();
        if ((claimed = owner == 0) || owner == rw_sigsafe_tid())
            break;
        rw_sigsafe_sleep_ms(1);
    }
    if (claimed) {
        if (!rw_crash_closed()) {
            rw_crash_report *r =
                rw_crash_report_begin(REWIND__CRASH_REPORT__KIND__TERMINATED, sig, si, ucv);
            PyThreadState *cur = rw_crash_pystack_current();
            rw_crash_pystack_walk(r, cur);
            rw_crash_cstack_capture(r, ucv);
            char header[80] = "Terminated by ";
            rw_sigsafe_copy(header + strlen(header), sizeof header - strlen(header),
                            rw_sigsafe_sig_name(sig));
            rw_sigsafe_copy(header + strlen(header), sizeof header - strlen(header), "\n\n");
            rw_crash_pystack_text(r, header, cur, 0);
            rw_crash_report_post(r, 0, 1, 128 + sig, sig, "signal", RW_CRASH_WAIT_MS);
        }
        rw_crash_report_release();
    }
}

/* Terminating signal handler (SIGTERM, SIGHUP, SIGQUIT): a TERMINATED report with
 * every thread's stacks closes the trace, then the default action ends the process as
 * it would have without us. Async-signal-safe. */
static void term_handler(int sig, siginfo_t *si, void *ucv)
{
    int saved_errno = errno;
    rw_in_pause(); /* rewind's own calls: not the program's inputs */
    int i = 0;
    while (i < NTERM && term_sigs[i] != sig)
        i++;
    terminated_report(sig, si, ucv);
    /* What it would have done: the previous disposition (the default action). */
    if (i < NTERM && hs.term_ours[i]) {
        sigaction(sig, &hs.prev_term[i], NULL);
        hs.term_ours[i] = 0;
    }
    raise(sig);
    rw_in_resume();
    errno = saved_errno;
}

/* Dump signal handler: every thread's stacks, recording goes on. Async-signal-safe. */
static void dump_handler(int sig, siginfo_t *si, void *ucv)
{
    int saved_errno = errno;
    rw_in_pause(); /* rewind's own calls: not the program's inputs */
    if (rw_real_pid() != rw_st.pid) {
        /* A forked child has no recording: the signal does what it did before us. */
        sigaction(sig, &hs.prev_dump, NULL);
        raise(sig);
        rw_in_resume();
        errno = saved_errno;
        return;
    }
    /* The program sent it to itself (os.kill(os.getpid(), sig), signal.raise_signal,
     * pthread_kill): it means what it means without rewind, the disposition rewind
     * found (faulthandler.unregister puts rewind's handler back, as python3 gets
     * SIG_DFL back). A dump is for a signal from outside. */
    if (si && si->si_pid == rw_real_pid() &&
        (si->si_code == SI_USER || si->si_code == SI_TKILL || si->si_code == SI_QUEUE)) {
        int dfl = !(hs.prev_dump.sa_flags & SA_SIGINFO) && hs.prev_dump.sa_handler == SIG_DFL;
        int ign = !(hs.prev_dump.sa_flags & SA_SIGINFO) && hs.prev_dump.sa_handler == SIG_IGN;
        if (!ign && !(dfl && !sig_kills(sig))) {
            if (dfl)
                terminated_report(sig, si, ucv);
            sigaction(sig, &hs.prev_dump, NULL);
            hs.dump_ours = 0;
            raise(sig); /* delivered when this handler returns (it is blocked here) */
        }
        rw_in_resume(); /* else ignored, as without rewind */
        errno = saved_errno;
        return;
    }
    /* Another thread may still be finishing a report (a dump signal that arrives while
     * a dump's handler runs goes to another thread, since the first blocks it): wait
     * for it rather than lose this dump. A fatal report never ends: give up then. */
    for (unsigned ms = 0; rw_crash_report_claim() != 0; ms++) {
        if (ms >= 2 * RW_CRASH_DUMP_WAIT_MS) {
            rw_in_resume();
            errno = saved_errno;
            return;
        }
        rw_sigsafe_sleep_ms(1);
    }
    if (!rw_crash_closed() && !atomic_load(&hs.dumps_stuck)) {
        rw_crash_report *r = rw_crash_report_begin(REWIND__CRASH_REPORT__KIND__DUMP, sig, si, ucv);
        PyThreadState *cur = rw_crash_pystack_current();
        rw_crash_pystack_walk(r, cur);
        rw_crash_cstack_capture(r, ucv);
        rw_crash_pystack_text(r, "", cur, 0);
        if (!rw_crash_report_post(r, 1, 0, 0, 0, "dump", RW_CRASH_DUMP_WAIT_MS))
            atomic_store(&hs.dumps_stuck, 1);
    }
    rw_crash_report_release();
    rw_in_resume();
    errno = saved_errno;
}

/* ---- install ------------------------------------------------------------------------ */

rw_code rw_crash_set_handler(int sig, void (*fn)(int, siginfo_t *, void *), int flags,
                             struct sigaction *prev, rw_err *err)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | flags;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, prev) < 0)
        return rw_err_set(err, RW_EIO, "sigaction(%d): %s", sig, strerror(errno));
    return RW_OK;
}

rw_code rw_crash_install(const rw_crash_opts *o, rw_err *err)
{
    if (hs.installed)
        return RW_OK;
    hs.opts = *o;
    RW_TRY(rw_crash_pystack_setup(err));
    RW_TRY(rw_crash_disasm_setup(err));
    rw_crash_sigstack_install();

    /* Warm up what handlers call so that no lazy binding or first-use setup happens
     * inside one: libunwind's caches, the dynamic linker's symbol resolution. (Not
     * the report's 8.6 MB, which a handler fills as it goes: faulting its pages in
     * here cost every recording 6.5 ms.) */
    rw_crash_report *r = rw_crash_report_open();
    rw_own_fds_begin(); /* libunwind's pipe for checking addresses */
    rw_crash_cstack_capture(r, NULL);
    rw_own_fds_end();
    rw_crash_maps_read();

    /* python3 ignores SIGXFSZ (a file size limit gives EFBIG); make sure of it. */
    struct sigaction cur;
    if (sigaction(SIGXFSZ, NULL, &cur) == 0 && cur.sa_handler == SIG_DFL) {
        struct sigaction ign;
        memset(&ign, 0, sizeof ign);
        ign.sa_handler = SIG_IGN;
        sigaction(SIGXFSZ, &ign, NULL);
    }

    for (int i = 0; i < NFATAL; i++) {
        RW_TRY(rw_crash_set_handler(fatal_sigs[i], fatal_handler, SA_NODEFER, &hs.prev_fatal[i],
                                    err));
        hs.fatal_ours[i] = 1;
    }
    for (int i = 0; i < NTERM; i++) {
        struct sigaction was;
        if (term_sigs[i] == o->dump_signal || sigaction(term_sigs[i], NULL, &was) != 0 ||
            (was.sa_flags & SA_SIGINFO) || was.sa_handler != SIG_DFL)
            continue;
        RW_TRY(rw_crash_set_handler(term_sigs[i], term_handler, SA_NODEFER, &hs.prev_term[i],
                                    err));
        hs.term_ours[i] = 1;
    }
    if (o->dump_signal > 0) {
        RW_TRY(rw_crash_set_handler(o->dump_signal, dump_handler, SA_RESTART, &hs.prev_dump,
                                    err));
        hs.dump_ours = 1;
    }
    hs.installed = 1;
    rw_crash_sigstack_enable(1);
    if (o->timeout_s > 0)
        RW_TRY(rw_crash_timer_start(o, err));
    return RW_OK;
}

void rw_crash_restore_if_ours(int sig, void (*fn)(int, siginfo_t *, void *),
                              const struct sigaction *prev)
{
    struct sigaction cur;
    if (sigaction(sig, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
        cur.sa_sigaction == fn)
        sigaction(sig, prev, NULL);
}

void rw_crash_uninstall(void)
{
    if (!hs.installed)
        return;
    rw_crash_timer_stop();
    for (int i = 0; i < NFATAL; i++)
        if (hs.fatal_ours[i]) {
            rw_crash_restore_if_ours(fatal_sigs[i], fatal_handler, &hs.prev_fatal[i]);
            hs.fatal_ours[i] = 0;
        }
    for (int i = 0; i < NTERM; i++)
        if (hs.term_ours[i]) {
            rw_crash_restore_if_ours(term_sigs[i], term_handler, &hs.prev_term[i]);
            hs.term_ours[i] = 0;
        }
    if (hs.dump_ours)
        rw_crash_restore_if_ours(hs.opts.dump_signal, dump_handler, &hs.prev_dump);
    rw_crash_timer_restore();
    hs.dump_ours = 0;
    /* A handler already running on another thread may still post to the writer, which
     * is about to be closed and freed: wait for it to finish, and let no later one post.
     * A fatal report never ends; after twice its wait, the process is ending anyway. */
    int got = 0;
    for (unsigned ms = 0; ms < 2 * RW_CRASH_WAIT_MS; ms++) {
        if ((got = rw_crash_report_claim() == 0))
            break;
        rw_sigsafe_sleep_ms(1);
    }
    rw_crash_report_shut();
    if (got)
        rw_crash_report_release();
    hs.installed = 0;
    rw_crash_sigstack_enable(0);
    /* The altstack, memfd, arena and capstone handle stay: a late signal on another
     * thread may still be running a handler; the process ends soon. */
}
