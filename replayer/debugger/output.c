/* The program's recorded output (output.h): a list of pieces sorted by position, read
 * once from the trace's inputs. */
#include "output.h"

#include <stdlib.h>
#include <string.h>

#ifdef RW_HAVE_INPUTS_ITER
#include "inputs.h"
#endif

struct rw_outputs {
    rw_output_piece *v;
    size_t n, cap;
};

rw_code rw_outputs_new(rw_outputs **out, rw_err *err)
{
    *out = calloc(1, sizeof **out);
    return *out ? RW_OK : rw_err_set(err, RW_ENOMEM, "out of memory");
}

void rw_outputs_free(rw_outputs *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++)
        free((char *)o->v[i].bytes);
    free(o->v);
    free(o);
}

rw_code rw_outputs_add(rw_outputs *o, uint64_t pos, int fd, const void *bytes, size_t len,
                       rw_err *err)
{
    if (o->n && pos < o->v[o->n - 1].pos)
        return rw_err_set(err, RW_EINVAL, "output at event %llu logged after event %llu",
                          (unsigned long long)pos, (unsigned long long)o->v[o->n - 1].pos);
    if (o->n == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 64;
        rw_output_piece *v = realloc(o->v, cap * sizeof *v);
        if (!v)
            return rw_err_set(err, RW_ENOMEM, "out of memory");
        o->v = v;
        o->cap = cap;
    }
    char *b = malloc(len ? len : 1);
    if (!b)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    memcpy(b, bytes, len);
    o->v[o->n++] = (rw_output_piece){pos, fd, b, len};
    return RW_OK;
}

#ifdef RW_HAVE_INPUTS_ITER
/* The first int64 of a record's key (rw_in_key: little-endian int64s): the fd. */
static int key_fd(const rw_input *in)
{
    if (in->key_len < 8)
        return -1;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | in->key[i];
    return (int64_t)v == 1 || (int64_t)v == 2 ? (int)v : -1;
}
#endif

rw_code rw_outputs_load(const rw_reader *r, rw_outputs **out, rw_err *err)
{
    RW_TRY(rw_outputs_new(out, err));
#ifdef RW_HAVE_INPUTS_ITER
    rw_inputs_iter *it;
    rw_code rc = rw_inputs_iter_open(r, &it, err);
    if (rc != RW_OK) {
        rw_outputs_free(*out);
        *out = NULL;
        return rc;
    }
    rw_input in;
    int got;
    while ((got = rw_inputs_iter_next(it, &in, err)) == 1) {
        if (in.call != RW_CALL_WRITE && in.call != RW_CALL_WRITEV && in.call != RW_CALL_OUTPUT)
            continue;
        int fd = key_fd(&in);
        if (fd < 0 || !in.data_len)
            continue;
        size_t len = in.data_len;
        if (in.call != RW_CALL_OUTPUT && in.result >= 0 && (uint64_t)in.result < len)
            len = (size_t)in.result; /* what was written of what was given */
        if ((rc = rw_outputs_add(*out, in.position, fd, in.data, len, err)) != RW_OK)
            break;
    }
    rw_inputs_iter_free(it);
    if (got < 0)
        rc = err->code;
    if (rc != RW_OK) {
        rw_outputs_free(*out);
        *out = NULL;
    }
    return rc;
#else
    (void)r;
    return RW_OK;
#endif
}

void rw_outputs_between(const rw_outputs *o, uint64_t from, uint64_t to,
                        int (*fn)(void *ctx, const rw_output_piece *p), void *ctx)
{
    size_t lo = 0, hi = o->n;
    while (lo < hi) { /* the first piece with pos > from */
        size_t mid = lo + (hi - lo) / 2;
        if (o->v[mid].pos <= from)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < o->n && o->v[i].pos <= to; i++)
        if (fn(ctx, &o->v[i]))
            return;
}

size_t rw_outputs_count(const rw_outputs *o)
{
    return o->n;
}
