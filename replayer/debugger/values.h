/* Values seam: how the session engine (session.h) asks for the values of a recorded
 * program (an expression in a frame at a position, a frame's arguments, a return
 * value). The log holds no values; the re-execution engine (DESIGN.md, "Replaying")
 * will answer by running the program again to the position. Until then the log-only
 * provider answers every question with RW_EINVAL and RW_VALUES_NEED_REEXEC.
 */
#ifndef RW_VALUES_H
#define RW_VALUES_H

#include <stdint.h>

#include "error.h"

/* The message of the log-only provider (front ends quote it as is). */
#define RW_VALUES_NEED_REEXEC \
    "values need a re-execution replay, which this build does not have yet"

/* Where a value is asked for: the event number, its thread, and the frame (the
 * position of its CALL and its index in the thread's Python stack, 0 = outermost). */
typedef struct rw_values_at {
    uint64_t pos;
    uint32_t thread;
    uint64_t frame_call;
    uint32_t frame_index;
} rw_values_at;

/* A provider: each function returns RW_OK with a new string in *out (caller frees):
 * eval the repr of expr's value, args "name = repr" lines, retval the repr of the
 * value the frame returns at `at`; or an error with a message for the user. */
typedef struct rw_values {
    void *ctx;
    rw_code (*eval)(void *ctx, const rw_values_at *at, const char *expr, char **out,
                    rw_err *err);
    rw_code (*args)(void *ctx, const rw_values_at *at, char **out, rw_err *err);
    rw_code (*retval)(void *ctx, const rw_values_at *at, char **out, rw_err *err);
} rw_values;

/* The provider of a log-only replay: knows no value. */
extern const rw_values rw_values_log_only;

#endif
