/* pstats' marshal file (pstats.h): the dict cProfile's -o writes, in the marshal
 * format of Python 3.11: TYPE_DICT of TYPE_SMALL_TUPLE keys and values,
 * TYPE_INT or TYPE_LONG counts, TYPE_BINARY_FLOAT times, TYPE_UNICODE strings. */
#include "pstats.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void w_byte(FILE *f, int b)
{
    putc(b, f);
}

static void w_i32(FILE *f, int32_t v)
{
    uint32_t u = (uint32_t)v;
    unsigned char b[4] = {(unsigned char)u, (unsigned char)(u >> 8), (unsigned char)(u >> 16),
                          (unsigned char)(u >> 24)};
    fwrite(b, 1, 4, f);
}

/* TYPE_INT when it fits, else TYPE_LONG (15-bit digits, least significant first). */
static void w_uint(FILE *f, uint64_t v)
{
    if (v <= INT32_MAX) {
        w_byte(f, 'i');
        w_i32(f, (int32_t)v);
        return;
    }
    uint16_t d[5];
    int n = 0;
    while (v) {
        d[n++] = (uint16_t)(v & 0x7fff);
        v >>= 15;
    }
    w_byte(f, 'l');
    w_i32(f, n);
    for (int i = 0; i < n; i++) {
        w_byte(f, d[i] & 0xff);
        w_byte(f, d[i] >> 8);
    }
}

static void w_float(FILE *f, double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    w_byte(f, 'g');
    for (int i = 0; i < 8; i++)
        w_byte(f, (int)((u >> (8 * i)) & 0xff));
}

static void w_str(FILE *f, const char *s)
{
    size_t len = strlen(s);
    w_byte(f, 'u');
    w_i32(f, (int32_t)len);
    fwrite(s, 1, len, f);
}

static void w_label(FILE *f, const rw_prof_func *fn)
{
    w_byte(f, ')');
    w_byte(f, 3);
    w_str(f, fn->file);
    w_uint(f, fn->line);
    w_str(f, fn->name);
}

rw_code rw_profile_write_pstats(const rw_profile *p, const char *path, rw_err *err)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return rw_err_set(err, RW_EIO, "%s: cannot create: %s", path, strerror(errno));
    w_byte(f, '{');
    for (size_t i = 0; i < p->nfuncs; i++) {
        const rw_prof_func *fn = &p->funcs[i];
        w_label(f, fn);
        w_byte(f, ')');
        w_byte(f, 5);
        w_uint(f, fn->cc);
        w_uint(f, fn->nc);
        w_float(f, fn->tt);
        w_float(f, fn->ct);
        w_byte(f, '{');
        for (size_t k = 0; k < fn->ncallers; k++) {
            const rw_prof_caller *c = &fn->callers[k];
            w_label(f, &p->funcs[c->func]);
            w_byte(f, ')');
            w_byte(f, 4);
            w_uint(f, c->nc);
            w_uint(f, c->cc);
            w_float(f, c->tt);
            w_float(f, c->ct);
        }
        w_byte(f, '0');
    }
    w_byte(f, '0');
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return rw_err_set(err, RW_EIO, "%s: cannot write: %s", path, strerror(errno));
    return RW_OK;
}
