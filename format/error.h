/* Error values shared by every rewind module.
 *
 * Library code returns an rw_code and fills an rw_err; it never prints or exits.
 * Messages name the thing and say what is wrong ("trace.rwd: frame 812 at offset
 * 93321: bad CRC"); cli/ prints them and picks the exit status.
 */
#ifndef RW_ERROR_H
#define RW_ERROR_H

#include <stdarg.h>

typedef enum rw_code {
    RW_OK = 0,
    RW_EIO,          /* the operating system refused a read or write */
    RW_ECORRUPT,     /* input is malformed: bad magic, CRC, length, id, ... */
    RW_EVERSION,     /* input is from a format version we cannot read */
    RW_ENOMEM,       /* an allocation failed or a bound was exceeded */
    RW_EINVAL,       /* the caller (or the user) asked for something impossible */
    RW_ENOTFOUND,    /* a named thing does not exist */
    RW_EPYTHON,      /* the embedded interpreter failed */
} rw_code;

typedef struct rw_err {
    rw_code code;
    char msg[256];
} rw_err;

/* Fills err (when not NULL) with code and a printf-style message; returns code. */
rw_code rw_err_set(rw_err *err, rw_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Short lower-case name of a code ("corrupt input"). Never NULL. */
const char *rw_code_name(rw_code code);

/* Returns early from the enclosing function unless expr yields RW_OK. */
#define RW_TRY(expr)                                                           \
    do {                                                                       \
        rw_code rw_try_rc_ = (expr);                                           \
        if (rw_try_rc_ != RW_OK)                                               \
            return rw_try_rc_;                                                 \
    } while (0)

#define RW_LIKELY(x) __builtin_expect(!!(x), 1)
#define RW_UNLIKELY(x) __builtin_expect(!!(x), 0)

#endif
