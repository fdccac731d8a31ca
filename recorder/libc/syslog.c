/* The system log: what the program sends to it, logged when recording and not sent
 * again on replay (input.h; DESIGN.md, "Nondeterministic inputs").
 *
 * Wraps: openlog, syslog, vsyslog, closelog, setlogmask, and the fortified __syslog_chk
 * and __vsyslog_chk (Python's syslog module, built with _FORTIFY_SOURCE, calls
 * __syslog_chk). The C library sends to /dev/log through its own socket, connect and send
 * calls, which no wrapper sees: a replay made them for real, and its sandbox stopped
 * the engine at the socket (CPython's test_syslog). Recording pauses capture around
 * the real call and logs the outer one; a replay takes the record and sends nothing.
 * A trace made before they were logged (no "syslog" feature) has the calls made for
 * real, as then.
 *
 *   call     key                                         result       data
 *   SYSLOG   0 openlog: option, facility, then the ident  0            -
 *            1 syslog/vsyslog: priority, then the message 0            -
 *              (formatted, at most 4095 bytes)
 *            2 closelog                                   0            -
 *            3 setlogmask: the mask                       the old mask -
 *
 * Rules for this folder: recorder/libc/README.md.
 */
#include "input.h"
#include "libc.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <syslog.h>

enum { FORM_OPEN = 0, FORM_MESSAGE = 1, FORM_CLOSE = 2, FORM_MASK = 3, MESSAGE_MAX = 4096 };

/* This file's state. real: the C library's functions, resolved before main, read-only
 * afterwards. logged: 0 in the engine of a trace made before (rw_syslog_logged), set
 * before the program runs. Global because wrappers get no context. */
static struct syslog_state {
    struct {
        void (*openlog)(const char *, int, int);
        void (*vsyslog)(int, const char *, va_list);
        void (*vsyslog_chk)(int, int, const char *, va_list);
        void (*closelog)(void);
        int (*setlogmask)(int);
    } real;
    _Atomic int logged;
} sl = {.logged = 1};

#define FIND(name) sl.real.name = (__typeof__(sl.real.name))dlsym(RTLD_NEXT, #name)

__attribute__((constructor(101))) static void find_real(void)
{
    FIND(openlog);
    FIND(vsyslog);
    sl.real.vsyslog_chk = (__typeof__(sl.real.vsyslog_chk))dlsym(RTLD_NEXT, "__vsyslog_chk");
    FIND(closelog);
    FIND(setlogmask);
}

void rw_syslog_logged(int on)
{
    atomic_store(&sl.logged, on);
}

/* The mode for a call: RW_IN_OFF when not captured (or a trace from before). */
static int mode(void)
{
    int m = rw_in_mode();
    return m != RW_IN_OFF && atomic_load_explicit(&sl.logged, memory_order_relaxed)
               ? m
               : RW_IN_OFF;
}

/* Replay: takes the record and sends nothing. Record: the real call (run), unlogged
 * inside, then the record. Returns the result. */
static int64_t logged_call(int m, const rw_in_key *k, int64_t (*run)(void *), void *arg)
{
    if (m == RW_IN_REPLAY)
        return rw_in_return(rw_in_take(RW_CALL_SYSLOG, k));
    rw_in_pause(); /* its socket, connect and send are the C library's, not inputs */
    int64_t r = run(arg);
    rw_in_resume();
    int e = errno;
    rw_in_put(RW_CALL_SYSLOG, r, e, k, NULL, 0);
    errno = e;
    return r;
}

struct open_args {
    const char *ident;
    int option, facility;
};

static int64_t run_open(void *a)
{
    struct open_args *o = a;
    if (sl.real.openlog)
        sl.real.openlog(o->ident, o->option, o->facility);
    return 0;
}

void openlog(const char *ident, int option, int facility)
{
    struct open_args o = {ident, option, facility};
    int m = mode();
    if (m == RW_IN_OFF) {
        run_open(&o);
        return;
    }
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, FORM_OPEN);
    rw_in_key_i64(&k, option);
    rw_in_key_i64(&k, facility);
    rw_in_key_str(&k, ident ? ident : "");
    logged_call(m, &k, run_open, &o);
}

/* The real call: the fortified one when the program called that (flag >= 0). */
static void send_real(int priority, int flag, const char *format, va_list ap)
{
    if (flag >= 0 && sl.real.vsyslog_chk)
        sl.real.vsyslog_chk(priority, flag, format, ap);
    else if (sl.real.vsyslog)
        sl.real.vsyslog(priority, format, ap);
}

static void message(int priority, int flag, const char *format, va_list ap)
{
    int m = mode();
    if (m == RW_IN_OFF) {
        send_real(priority, flag, format, ap);
        return;
    }
    char text[MESSAGE_MAX];
    va_list copy;
    va_copy(copy, ap);
    vsnprintf(text, sizeof text, format, copy);
    va_end(copy);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, FORM_MESSAGE);
    rw_in_key_i64(&k, priority);
    rw_in_key_str(&k, text);
    if (m == RW_IN_REPLAY) {
        rw_in_return(rw_in_take(RW_CALL_SYSLOG, &k));
        return;
    }
    rw_in_pause();
    send_real(priority, flag, format, ap);
    rw_in_resume();
    int e = errno;
    rw_in_put(RW_CALL_SYSLOG, 0, e, &k, NULL, 0);
    errno = e;
}

void syslog(int priority, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    message(priority, -1, format, ap);
    va_end(ap);
}

void vsyslog(int priority, const char *format, va_list ap)
{
    message(priority, -1, format, ap);
}

void __syslog_chk(int priority, int flag, const char *format, ...);
void __vsyslog_chk(int priority, int flag, const char *format, va_list ap);

void __syslog_chk(int priority, int flag, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    message(priority, flag < 0 ? 0 : flag, format, ap);
    va_end(ap);
}

void __vsyslog_chk(int priority, int flag, const char *format, va_list ap)
{
    message(priority, flag < 0 ? 0 : flag, format, ap);
}

static int64_t run_close(void *a)
{
    (void)a;
    if (sl.real.closelog)
        sl.real.closelog();
    return 0;
}

void closelog(void)
{
    int m = mode();
    if (m == RW_IN_OFF) {
        run_close(NULL);
        return;
    }
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, FORM_CLOSE);
    logged_call(m, &k, run_close, NULL);
}

static int64_t run_mask(void *a)
{
    return sl.real.setlogmask ? sl.real.setlogmask(*(int *)a) : 0;
}

int setlogmask(int mask)
{
    int m = mode();
    if (m == RW_IN_OFF)
        return (int)run_mask(&mask);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, FORM_MASK);
    rw_in_key_i64(&k, mask);
    return (int)logged_call(m, &k, run_mask, &mask);
}
