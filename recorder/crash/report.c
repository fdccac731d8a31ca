/* The crash report: one static buffer that the fatal handler, the dump handler and
 * the timeout thread take turns to fill (rw_crash_report_claim), packed into a
 * static buffer and handed to the writer thread with rw_writer_crash.
 * Async-signal-safe: no allocation (protobuf-c packs into our buffer), atomics only.
 */
#include "crash_int.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>

#include "sigsafe.h"
#include "state.h"
#include "threads.h"
#include "writer.h"

#define PACK_CAP (4u << 20)

/* Owner: this file. Global because its users are signal handlers; the report is
 * static (8.6 MB of bss, its pages faulted in only when a report is made).
 * Invariant: only the thread whose tid is in owner writes rep. */
static struct report_state {
    rw_crash_report rep;
    uint8_t pack_fatal[PACK_CAP]; /* fatal and timeout reports */
    uint8_t pack_dump[PACK_CAP];  /* dumps: a timed-out dump may still be read */
    _Atomic pid_t owner;          /* tid of the thread building the report, 0 none */
    _Atomic int closed;           /* a report closed the trace */
    _Atomic int finishing;        /* uninstalled: the trace is about to be closed */
} rs;

pid_t rw_crash_report_claim(void)
{
    pid_t expected = 0;
    if (atomic_compare_exchange_strong(&rs.owner, &expected, rw_sigsafe_tid()))
        return 0;
    assert(expected != 0);
    return expected;
}

void rw_crash_report_release(void)
{
    atomic_store(&rs.owner, 0);
}

int rw_crash_report_claimed(void)
{
    return atomic_load(&rs.owner) != 0;
}

rw_crash_report *rw_crash_report_begin(Rewind__CrashReport__Kind kind, int sig,
                                       const siginfo_t *si, const void *ucv)
{
    rw_crash_report *r = &rs.rep; /* claimed by the caller (but the timeout thread
                                   * goes ahead after a fatal report never ended) */
    Rewind__CrashReport *m = &r->m;
    rewind__crash_report__init(m);
    r->note[0] = '\0';
    m->note = r->note;
    m->kind = kind;
    m->signal = sig;
    rw_sigsafe_copy(r->signame, sizeof r->signame, sig ? rw_sigsafe_sig_name(sig) : "");
    m->signal_name = r->signame;
    m->text = r->text;
    r->text[0] = '\0';
    if (si) {
        m->si_code = si->si_code;
        if (si->si_code > 0 && /* else si_addr's bytes are the sender's pid and uid */
            (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE))
            m->fault_addr = (uint64_t)(uintptr_t)si->si_addr;
    }
    if (ucv)
        m->pc = (uint64_t)((const ucontext_t *)ucv)->uc_mcontext.gregs[REG_RIP];
    uint64_t ident = (uint64_t)pthread_self();
    m->thread_ident = ident;
    m->thread = rw_tls.thread ? rw_tls.thread : rw_threads_id_of_ident(ident);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    m->unix_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    rw_crash_maps_read();
    return r;
}

void rw_crash_report_note(rw_crash_report *r, const char *what)
{
    size_t n = strlen(r->note);
    if (n)
        rw_sigsafe_copy(r->note + n, sizeof r->note - n, "; ");
    n = strlen(r->note);
    rw_sigsafe_copy(r->note + n, sizeof r->note - n, what);
}

/* Packs the report and hands it to the writer. */
int rw_crash_report_post(rw_crash_report *r, int dump, int close, int status, int sig,
                         const char *reason, unsigned wait_ms)
{
    assert(r == &rs.rep);
    uint8_t *buf = dump ? rs.pack_dump : rs.pack_fatal;
    rw_writer *w = rw_st.w;
    if (!w || atomic_load(&rs.closed) || atomic_load(&rs.finishing))
        return 0;
    r->m.note = r->note;
    size_t len = rewind__crash_report__get_packed_size(&r->m);
    if (len > PACK_CAP) { /* cannot happen with rw_crash_report's bounds; stay safe */
        r->m.n_threads = 0;
        r->m.n_c_frames = 0;
        r->m.text = (char *)"";
        len = rewind__crash_report__get_packed_size(&r->m);
    }
    rewind__crash_report__pack(&r->m, buf);
    rw_crash_req req = {buf, len, close, status, sig, reason};
    int ok = rw_writer_crash(w, &req, wait_ms);
    if (close && ok) {
        atomic_store(&rs.closed, 1);
        atomic_store(&rw_st.on, 0);
    }
    return ok;
}

rw_crash_report *rw_crash_report_open(void)
{
    rewind__crash_report__init(&rs.rep.m);
    (void)rewind__crash_report__get_packed_size(&rs.rep.m);
    atomic_store(&rs.finishing, 0);
    return &rs.rep;
}

void rw_crash_report_shut(void)
{
    atomic_store(&rs.finishing, 1);
}

int rw_crash_closed(void)
{
    return atomic_load(&rs.closed);
}
