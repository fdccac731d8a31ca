/* Crash, hang and dump reports: faulthandler inside the recording (docs/crashes.md).
 *
 * Installed by rw_record_run (main thread, GIL held) once the writer is open. Fatal
 * signals, the --timeout timer and the dump signal each write a rewind.CrashReport
 * (CRASH frame) through rw_writer_crash. Everything the handlers use is allocated
 * at install; the handlers themselves are async-signal-safe. Implemented in
 * recorder/crash/ (crash/crash_int.h maps its files).
 */
#ifndef RW_CRASH_H
#define RW_CRASH_H

#include <stdint.h>

#include "error.h"

/* Exit status of a run ended by --timeout (as timeout(1)). */
#define RW_CRASH_TIMEOUT_STATUS 124

typedef struct rw_crash_opts {
    const char *path;    /* the trace file, named in the timeout message */
    double timeout_s;    /* > 0: end the run after this many seconds */
    int dump_signal;     /* signal that dumps every thread's stacks; 0: none */
} rw_crash_opts;

/* Installs the fatal handlers (SIGSEGV, SIGFPE, SIGABRT, SIGBUS, SIGILL), the dump
 * signal's handler, a sigaltstack for the calling thread, SIGXFSZ ignored (as python3
 * does), and starts the timeout thread. Needs the GIL, rw_st.w open and rw_defs_init
 * done (reports read code ids from its co_extra slot). o is copied. Errors:
 * RW_ENOMEM (memory, capstone), RW_EIO (sigaction, thread). */
rw_code rw_crash_install(const rw_crash_opts *o, rw_err *err);

/* Stops the timeout thread and puts back the previous handlers of the signals that
 * are still ours. Call before the trace is closed. Idempotent. */
void rw_crash_uninstall(void);

/* Gives the calling thread its own alternate signal stack (so a stack overflow in it
 * can still be reported), and takes it away again. threadwrap.c calls them around a
 * new thread's target. */
void rw_crash_thread_enter(void);
void rw_crash_thread_leave(void);

/* 1 when a report closed the trace (the recorder must not expect to write more). */
int rw_crash_closed(void);

#endif
