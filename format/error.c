/* Error values: formatting and names. */
#include "error.h"

#include <stdio.h>

rw_code rw_err_set(rw_err *err, rw_code code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

const char *rw_code_name(rw_code code)
{
    switch (code) {
    case RW_OK: return "ok";
    case RW_EIO: return "i/o error";
    case RW_ECORRUPT: return "corrupt input";
    case RW_EVERSION: return "unsupported version";
    case RW_ENOMEM: return "out of memory";
    case RW_EINVAL: return "invalid request";
    case RW_ENOTFOUND: return "not found";
    case RW_EPYTHON: return "python error";
    }
    return "unknown error";
}
