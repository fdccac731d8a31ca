/* Helpers shared by the subcommands (commands.h). */
#include "commands.h"

#include <stdio.h>
#include <string.h>

int rw_cli_fail(const char *cmd, const rw_err *err)
{
    fprintf(stderr, "rewind %s: %s\n", cmd, err->msg[0] ? err->msg : rw_code_name(err->code));
    return RW_EXIT_FAIL;
}

rw_code rw_cli_open_trace(const char *cmd, const char *path, rw_reader **r, rw_err *err)
{
    RW_TRY(rw_reader_open(path, r, err));
    const rw_recovery *rec = rw_reader_recovery(*r);
    if (rec->used)
        fprintf(stderr,
                "rewind %s: %s is damaged: reading the first %llu events (%s); "
                "'rewind verify' says more\n",
                cmd, path, (unsigned long long)rec->events, rec->why);
    return RW_OK;
}
