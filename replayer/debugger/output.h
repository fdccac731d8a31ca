/* The program's recorded output: what it wrote to its stdout (fd 1) and stderr (fd 2),
 * by position, from the WRITE records of the trace's inputs (format/inputs.h), so that
 * the debugger shows it where the replay passes it, as pdb shows a program's output
 * between two stops.
 *
 * A piece written with position p was written after event p-1 and before event p: a
 * forward move from event a to event b passes the pieces with a < p <= b.
 */
#ifndef RW_OUTPUT_H
#define RW_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "reader.h"

typedef struct rw_outputs rw_outputs;

typedef struct rw_output_piece {
    uint64_t pos;
    int fd;                /* 1 or 2 */
    const char *bytes;
    size_t len;
} rw_output_piece;

/* An empty list, in *out (caller frees with rw_outputs_free). RW_ENOMEM. */
rw_code rw_outputs_new(rw_outputs **out, rw_err *err);
void rw_outputs_free(rw_outputs *o);

/* Adds a piece (bytes copied); pieces must come in position order (as the trace
 * logs them). RW_ENOMEM, RW_EINVAL out of order. */
rw_code rw_outputs_add(rw_outputs *o, uint64_t pos, int fd, const void *bytes, size_t len,
                       rw_err *err);

/* The pieces of r's inputs that wrote to fd 1 or 2 (write, writev; the "output"
 * record). A trace without inputs gives an empty list; so does a build whose reader
 * cannot read inputs yet. Errors: the reader's, RW_ENOMEM. */
rw_code rw_outputs_load(const rw_reader *r, rw_outputs **out, rw_err *err);

/* Calls fn on each piece with from < pos <= to, in order, until fn returns non-zero. */
void rw_outputs_between(const rw_outputs *o, uint64_t from, uint64_t to,
                        int (*fn)(void *ctx, const rw_output_piece *p), void *ctx);

size_t rw_outputs_count(const rw_outputs *o);

#endif
