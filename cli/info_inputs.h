/* `rewind info --inputs`: what a trace holds from outside the program (its input
 * records, format/inputs.h, and the environment of its metadata), so that a user
 * knows what sharing it reveals: files read and their sizes, the Python installation's
 * files (counted, not stored), directories listed, the environment, network peers,
 * child processes (forks, and the commands run: posix_spawn, system, what a vfork
 * child exec'd), bytes of stdin and pipes, clock and random reads, what the program
 * wrote to stdout and stderr, and a count of every other call. Printed as text or
 * JSON.
 *
 * Keys are decoded by the wrappers' conventions (docs/format.md, "Inputs"); a record
 * whose key or data does not follow them is counted, never trusted: no path, address
 * or command comes from it.
 */
#ifndef RW_CLI_INFO_INPUTS_H
#define RW_CLI_INFO_INPUTS_H

#include <stdio.h>

#include "reader.h"

/* Prints what r (read from path) holds from outside. Returns 0, or 1 when the inputs
 * could not all be read (what was read is printed, and one line on stderr says why). */
int rw_cli_print_inputs(FILE *out, const char *path, const rw_reader *r, int json);

#endif
