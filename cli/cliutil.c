/* Helpers shared by the subcommands (commands.h): error lines, and the one rule for a
 * damaged trace (rw_cli_open_trace, rw_cli_status). */
#include "commands.h"

#include <stdio.h>
#include <string.h>

/* Whether the trace the command opened was damaged, for rw_cli_status. Process-wide on
 * purpose: the exit status is, and main applies the rule once for every command,
 * including those that only call rw_cli_open_trace. Set by each rw_cli_open_trace. */
static int trace_damaged;

int rw_cli_fail(const char *cmd, const rw_err *err)
{
    fprintf(stderr, "rewind %s: %s\n", cmd, err->msg[0] ? err->msg : rw_code_name(err->code));
    return RW_EXIT_FAIL;
}

rw_code rw_cli_open_trace(const char *cmd, const char *path, rw_reader **r, rw_err *err)
{
    trace_damaged = 0;
    RW_TRY(rw_reader_open(path, r, err));
    const rw_recovery *rec = rw_reader_recovery(*r);
    if (rw_reader_nevents(*r) == 0) {
        rw_cli_no_events(path, *r, err);
        rw_reader_free(*r);
        *r = NULL;
        return err->code;
    }
    if (rec->used) {
        trace_damaged = 1;
        fprintf(stderr,
                "rewind %s: %s is damaged: reading the first %llu events (%s); "
                "'rewind verify' says more\n",
                cmd, path, (unsigned long long)rec->events, rec->why);
    }
    return RW_OK;
}

const char *rw_cli_signal_name(int sig)
{
    static char name[24];
    const char *abbrev = sig > 0 ? sigabbrev_np(sig) : NULL; /* "USR1", or NULL */
    if (abbrev)
        snprintf(name, sizeof name, "SIG%s", abbrev);
    else
        snprintf(name, sizeof name, "signal %d", sig);
    return name;
}

rw_code rw_cli_no_events(const char *path, const rw_reader *r, rw_err *err)
{
    const rw_recovery *rec = rw_reader_recovery(r);
    if (rec->used)
        return rw_err_set(err, RW_ECORRUPT, "%s holds no events: it is damaged (%s); "
                          "'rewind verify' says more", path, rec->why);
    return rw_err_set(err, RW_ECORRUPT,
                      "%s holds no events: the recording ended before the program ran", path);
}

void rw_cli_set_damaged(void)
{
    trace_damaged = 1;
}

int rw_cli_status(int status)
{
    return status == RW_EXIT_OK && trace_damaged ? RW_EXIT_FAIL : status;
}

const char *rw_cli_grouped(unsigned long long n, char *buf, size_t cap)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%llu", n);
    size_t j = 0;
    for (int i = 0; i < len && j + 2 < cap; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            buf[j++] = ',';
        buf[j++] = digits[i];
    }
    buf[j] = '\0';
    return buf;
}
