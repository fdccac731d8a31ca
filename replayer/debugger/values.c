/* The log-only values provider (values.h): every question gets the same answer. */
#include "values.h"

#include <stddef.h>

static rw_code no_value(rw_err *err)
{
    return rw_err_set(err, RW_EINVAL, "%s", RW_VALUES_NEED_REEXEC);
}

static rw_code log_eval(void *ctx, const rw_values_at *at, const char *expr, char **out,
                        rw_err *err)
{
    (void)ctx, (void)at, (void)expr, (void)out;
    return no_value(err);
}

static rw_code log_args(void *ctx, const rw_values_at *at, char **out, rw_err *err)
{
    (void)ctx, (void)at, (void)out;
    return no_value(err);
}

static rw_code log_retval(void *ctx, const rw_values_at *at, char **out, rw_err *err)
{
    (void)ctx, (void)at, (void)out;
    return no_value(err);
}

const rw_values rw_values_log_only = {NULL, log_eval, log_args, log_retval};
