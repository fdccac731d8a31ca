/* `rewind info --reveals`: what a trace would disclose if shared (replayer/analysis/
 * reveals.h), printed as text or JSON. */
#ifndef RW_CLI_INFO_REVEALS_H
#define RW_CLI_INFO_REVEALS_H

#include <stdio.h>

#include "reader.h"

/* Prints what r (read from path) discloses. Returns 0, or 1 after printing the error
 * on stderr. */
int rw_cli_print_reveals(FILE *out, const char *path, const rw_reader *r, int json);

#endif
