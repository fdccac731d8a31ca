/* Small async-signal-safe helpers for recorder/crash/: each uses only calls from the
 * async-signal-safe list (gettid, nanosleep, write) and no state, so a signal handler
 * may call any of them.
 */
#ifndef RW_CRASH_SIGSAFE_H
#define RW_CRASH_SIGSAFE_H

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* The calling thread's kernel tid (what the report's owner field holds). */
static inline pid_t rw_sigsafe_tid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

/* Sleeps ms milliseconds, resuming after signals. */
static inline void rw_sigsafe_sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Writes s to stderr whole (short writes and EINTR retried, errors dropped). */
static inline void rw_sigsafe_put_str(const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t k = write(STDERR_FILENO, s, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return;
        s += k;
        n -= (size_t)k;
    }
}

/* Bounded copy, always NUL-terminated (src NULL: empty). */
static inline void rw_sigsafe_copy(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src && src[i] && i + 1 < cap; i++)
        dst[i] = src[i];
    dst[i] = '\0';
}

/* "SIGSEGV" and friends for the signals a report can name; "" for others. */
static inline const char *rw_sigsafe_sig_name(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    case SIGQUIT: return "SIGQUIT";
    case SIGHUP: return "SIGHUP";
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGPWR: return "SIGPWR";
    case SIGWINCH: return "SIGWINCH";
    default: return "";
    }
}

#endif
