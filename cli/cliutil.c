/* Helpers shared by the subcommands (commands.h). */
#include "commands.h"

#include <stdio.h>

int rw_cli_fail(const char *cmd, const rw_err *err)
{
    fprintf(stderr, "rewind %s: %s\n", cmd, err->msg[0] ? err->msg : rw_code_name(err->code));
    return RW_EXIT_FAIL;
}
