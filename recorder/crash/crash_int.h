/* Privates shared by the files of recorder/crash/ (crash.h is the public side).
 *
 * One file per concept: crash.c (install, the fatal and dump signal handlers),
 * report.c (the one static report and who may build it), pystack.c (Python stacks
 * and faulthandler's text), cstack.c (C stacks by libunwind), disasm.c (capstone on
 * reserved memory), maps.c (/proc/self/maps), timer.c (the --timeout thread),
 * sigstack.c (alternate signal stacks), sigsafe.h (small helpers).
 *
 * The rule for everything here that a handler reaches: async-signal-safe. System
 * calls only from the async-signal-safe list (write, pread, open, sigaction, raise,
 * clock_gettime, nanosleep), no malloc, no stdio, no locks, no Python API that
 * allocates; memory and state set up at install. Functions that may also allocate or
 * lock say "install only".
 */
#ifndef RW_CRASH_INT_H
#define RW_CRASH_INT_H

#include <Python.h>

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "crash.h"
#include "rewind.pb-c.h"

#define RW_CRASH_MAX_THREADS 100   /* faulthandler's MAX_NTHREADS */
#define RW_CRASH_MAX_DEPTH 100     /* faulthandler's MAX_FRAME_DEPTH */
#define RW_CRASH_MAX_PYFRAMES 4096 /* frames of all threads together */
#define RW_CRASH_STR_CAP 1024      /* an escaped file or function name, cut to fit */
#define RW_CRASH_MAX_CFRAMES 128
#define RW_CRASH_SYM_CAP 256
#define RW_CRASH_MOD_CAP 512
#define RW_CRASH_MAX_INSNS 20
#define RW_CRASH_TEXT_CAP (512u << 10)
#define RW_CRASH_WAIT_MS 10000  /* how long a closing report waits for the writer: it
                                 * encodes every buffered record first (up to 64 blocks) */
#define RW_CRASH_DUMP_WAIT_MS 10000

/* ---- signal handlers (crash.c) -------------------------------------------------------- */

/* Install only: sets fn as sig's handler (SA_SIGINFO | SA_ONSTACK | flags, nothing
 * masked), the previous one into *prev. RW_EIO when sigaction fails. */
rw_code rw_crash_set_handler(int sig, void (*fn)(int, siginfo_t *, void *), int flags,
                             struct sigaction *prev, rw_err *err);

/* Puts back prev for sig if our handler fn is still the one installed. */
void rw_crash_restore_if_ours(int sig, void (*fn)(int, siginfo_t *, void *),
                              const struct sigaction *prev);

/* ---- the report (report.c) ---------------------------------------------------------- */

typedef struct rw_crash_pyframe {
    Rewind__CrashFrame m;
    char file[RW_CRASH_STR_CAP];
    char name[RW_CRASH_STR_CAP];
} rw_crash_pyframe;

typedef struct rw_crash_cframe {
    Rewind__CrashCFrame m;
    char sym[RW_CRASH_SYM_CAP];
    char mod[RW_CRASH_MOD_CAP];
} rw_crash_cframe;

typedef struct rw_crash_insn {
    Rewind__CrashInsn m;
    uint8_t bytes[16];
    char mnemonic[32];
    char operands[160];
} rw_crash_insn;

/* A CrashReport with all its storage inside (about 8.6 MB): filled in place by a
 * handler, no allocation. m's pointers point into the arrays beside it. */
typedef struct rw_crash_report {
    Rewind__CrashReport m;
    Rewind__CrashThread threads[RW_CRASH_MAX_THREADS];
    Rewind__CrashThread *threadp[RW_CRASH_MAX_THREADS];
    rw_crash_pyframe frames[RW_CRASH_MAX_PYFRAMES];
    Rewind__CrashFrame *framep[RW_CRASH_MAX_PYFRAMES];
    rw_crash_cframe cframes[RW_CRASH_MAX_CFRAMES];
    Rewind__CrashCFrame *cframep[RW_CRASH_MAX_CFRAMES];
    rw_crash_insn insns[RW_CRASH_MAX_INSNS];
    Rewind__CrashInsn *insnp[RW_CRASH_MAX_INSNS];
    char text[RW_CRASH_TEXT_CAP];
    char note[512];
    char signame[16];
} rw_crash_report;

/* Three producers share the one report: the fatal handler, the dump handler and the
 * timeout thread. A producer claims it first: returns 0 when the calling thread now
 * owns it, else the tid of the thread that does. Release when done. */
pid_t rw_crash_report_claim(void);
void rw_crash_report_release(void);
int rw_crash_report_claimed(void); /* 1 while any thread owns the report */

/* Starts a report in the owned buffer (kind, signal and its details, the calling
 * thread, the time; snapshots the memory maps) and returns it. si, ucv may be NULL. */
rw_crash_report *rw_crash_report_begin(Rewind__CrashReport__Kind kind, int sig,
                                       const siginfo_t *si, const void *ucv);

/* Appends a clause to the report's note ("; " between clauses). */
void rw_crash_report_note(rw_crash_report *r, const char *what);

/* Packs r (into the dump buffer when dump, else the fatal one) and hands it to the
 * writer thread, waiting up to wait_ms. close: the report ends the trace with status
 * and sig (then recording stops and rw_crash_closed is 1). Returns 1 when written, 0
 * when not (no writer, trace closed, rw_crash_report_shut, writer too slow). */
int rw_crash_report_post(rw_crash_report *r, int dump, int close, int status, int sig,
                         const char *reason, unsigned wait_ms);

/* Install only: lets posts through, touches the packer once so that no first-use
 * setup happens in a handler, and returns the buffer for install's other warm-ups
 * (nobody can claim it yet). Uninstall: rw_crash_report_shut, no later post. */
rw_crash_report *rw_crash_report_open(void);
void rw_crash_report_shut(void);

/* ---- Python stacks (pystack.c) ------------------------------------------------------- */

/* Install only: remembers the main interpreter and opens the memfd that
 * faulthandler's text goes through. RW_EIO when memfd_create fails. */
rw_code rw_crash_pystack_setup(rw_err *err);

/* The calling thread's tstate when the interpreter is alive, else NULL. */
PyThreadState *rw_crash_pystack_current(void);

/* Fills r->m.threads with every thread's Python stack, in faulthandler's order
 * (current: the thread marked current, may be NULL). */
void rw_crash_pystack_walk(rw_crash_report *r, PyThreadState *current);

/* Fills r->m.text with header and the text faulthandler prints (its own functions,
 * through the memfd); ext_modules adds the extension modules line. */
void rw_crash_pystack_text(rw_crash_report *r, const char *header, PyThreadState *current,
                           int ext_modules);

/* ---- C stacks (cstack.c) ------------------------------------------------------------- */

/* Fills r->m.c_frames from the interrupted context uc (a ucontext_t *), or from the
 * calling function when uc is NULL (at install: warms libunwind's caches up). Needs
 * the maps read (rw_crash_maps_read) for module names. */
void rw_crash_cstack_capture(rw_crash_report *r, void *uc);

/* ---- disassembly (disasm.c) ---------------------------------------------------------- */

/* Install only: capstone on a reserved arena. RW_ENOMEM when it cannot. */
rw_code rw_crash_disasm_setup(rw_err *err);

/* Fills r->m.instructions with the instructions around pc (the faulting one marked),
 * or notes why it cannot. Needs the maps read. */
void rw_crash_disasm(rw_crash_report *r, uint64_t pc);

/* ---- memory maps (maps.c) ------------------------------------------------------------ */

/* The mapping holding an address: [start, end), readable, file path and load base. */
typedef struct rw_crash_mapping {
    uint64_t start, end, base;
    int readable;
    const char *path; /* into the snapshot, not NUL-terminated */
    size_t path_len;
} rw_crash_mapping;

/* Snapshots /proc/self/maps into a static buffer (what the lookups below read). */
void rw_crash_maps_read(void);

/* 1 and *out when the snapshot has a mapping holding addr. */
int rw_crash_maps_find(uint64_t addr, rw_crash_mapping *out);

/* Copies [addr, addr + n) into dst as far as it is mapped readable; returns the bytes
 * copied from the start (never touches unmapped memory). */
size_t rw_crash_maps_copy(uint64_t addr, uint8_t *dst, size_t n);

/* ---- the timeout thread (timer.c) ---------------------------------------------------- */

/* Install only (main thread): starts the thread that, after o->timeout_s, reports
 * every thread's stacks (the main thread's C stack by a signal to it), closes the
 * trace and ends the process with RW_CRASH_TIMEOUT_STATUS. RW_EIO when it cannot. */
rw_code rw_crash_timer_start(const rw_crash_opts *o, rw_err *err);

/* Stops and joins the thread (if started). Not from a handler. Then
 * rw_crash_timer_restore puts back the C stack signal's previous handler. */
void rw_crash_timer_stop(void);
void rw_crash_timer_restore(void);

/* ---- alternate signal stacks (sigstack.c) -------------------------------------------- */

/* Install only: gives the calling (main) thread its stack. enable(1) lets
 * rw_crash_thread_enter give other threads theirs (once the handlers are in), enable(0)
 * stops that (uninstall). */
void rw_crash_sigstack_install(void);
void rw_crash_sigstack_enable(int on);

#endif
