/* Terminal-safe output (term.h): glibc cookie streams over the original stdout and
 * stderr. Each write of the stream's buffer is escaped (rw_term_escape) into a buffer
 * of the filter's own and written to the original stream, which is flushed at once, so
 * that a fflush of the filter reaches the descriptor as before (the original stdout is
 * made unbuffered: the filter buffers). Text with nothing to escape is written as it is.
 */
#include "term.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"

typedef struct filter {
    FILE *raw;        /* the original stream */
    FILE *cooked;     /* the filter over it */
    unsigned char held[4]; /* a UTF-8 sequence cut short by the last write */
    size_t nheld;
    char *out;        /* escaped text */
    size_t cap;
} filter;

static filter filters[2]; /* stdout, stderr: one process, one terminal */
static int installed;

static const char hex[] = "0123456789abcdef";

static char *put_x(char *o, unsigned c)
{
    *o++ = '\\';
    *o++ = 'x';
    *o++ = hex[c >> 4];
    *o++ = hex[c & 15];
    return o;
}

static char *put_u(char *o, unsigned cp)
{
    *o++ = '\\';
    *o++ = 'u';
    for (int s = 12; s >= 0; s -= 4)
        *o++ = hex[(cp >> s) & 15];
    return o;
}

/* A sequence that rw_utf8_seq_len rejects only because in ends too soon. */
static int cut_short(const unsigned char *p, size_t n)
{
    size_t len = p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : p[0] >= 0xe0 && p[0] <= 0xef ? 3
               : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : 0;
    if (!len || n >= len)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return 1;
}

size_t rw_term_escape(const unsigned char *in, size_t n, int final, char *out,
                      size_t *written)
{
    char *o = out;
    size_t i = 0;
    while (i < n) {
        unsigned c = in[i];
        if (c >= 0x20 && c < 0x7f) {
            *o++ = (char)c;
            i++;
            continue;
        }
        if (c == '\n' || c == '\t') {
            *o++ = (char)c;
            i++;
            continue;
        }
        if (c < 0x80) { /* C0 controls and DEL */
            o = put_x(o, c);
            i++;
            continue;
        }
        size_t len = rw_utf8_seq_len(in + i, n - i);
        if (len == 0) {
            if (!final && cut_short(in + i, n - i))
                break; /* the rest comes with the next write */
            o = put_x(o, c);
            i++;
            continue;
        }
        if (len == 2 && c == 0xc2 && in[i + 1] < 0xa0) {
            o = put_u(o, in[i + 1]); /* C1: U+0080..U+009F */
        } else if (len == 3 && c == 0xe2) {
            unsigned cp = ((c & 0x0fu) << 12) | ((in[i + 1] & 0x3fu) << 6) | (in[i + 2] & 0x3fu);
            if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
                o = put_u(o, cp);
            else {
                memcpy(o, in + i, len);
                o += len;
            }
        } else {
            memcpy(o, in + i, len);
            o += len;
        }
        i += len;
    }
    *written = (size_t)(o - out);
    return i;
}

/* Whether in holds nothing to escape (the common case: plain ASCII text). */
static int clean(const unsigned char *in, size_t n)
{
    /* Eight bytes at a time: a word with no byte below 0x20 or above 0x7e is clean
     * (the usual SWAR tests; a word with a \n or \t is checked byte by byte). */
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, in + i, 8);
        uint64_t low = (w - ones * 0x20) & ~w & highs;          /* a byte < 0x20 */
        uint64_t high = ((w + ones * (0x80 - 0x7f)) | w) & highs; /* a byte >= 0x7f */
        if (!(low | high))
            continue;
        for (size_t k = i; k < i + 8; k++) {
            unsigned c = in[k];
            if ((c < 0x20 && c != '\n' && c != '\t') || c >= 0x7f)
                return 0;
        }
    }
    for (; i < n; i++) {
        unsigned c = in[i];
        if ((c < 0x20 && c != '\n' && c != '\t') || c >= 0x7f)
            return 0;
    }
    return 1;
}

/* Escapes in (after what was held) and writes it to the raw stream. 0 or -1. */
static int filter_put(filter *f, const unsigned char *in, size_t n, int final)
{
    if (!f->nheld && clean(in, n))
        return n && fwrite(in, 1, n, f->raw) != n ? -1 : fflush(f->raw) == 0 ? 0 : -1;
    unsigned char small[4 + 64];
    const unsigned char *src = in;
    unsigned char *joined = NULL;
    size_t len = n;
    if (f->nheld) {
        len = f->nheld + n;
        joined = len <= sizeof small ? small : malloc(len);
        if (!joined)
            return -1;
        memcpy(joined, f->held, f->nheld);
        if (n)
            memcpy(joined + f->nheld, in, n);
        src = joined;
    }
    int rc = 0;
    if (len > (SIZE_MAX - 8) / 4) {
        rc = -1;
        goto out;
    }
    if (4 * len + 8 > f->cap) {
        char *nb = realloc(f->out, 4 * len + 8);
        if (!nb) {
            rc = -1;
            goto out;
        }
        f->out = nb;
        f->cap = 4 * len + 8;
    }
    size_t w;
    size_t used = rw_term_escape(src, len, final, f->out, &w);
    f->nheld = len - used;
    memcpy(f->held, src + used, f->nheld);
    if ((w && fwrite(f->out, 1, w, f->raw) != w) || fflush(f->raw) != 0)
        rc = -1;
out:
    if (joined != small)
        free(joined);
    return rc;
}

static ssize_t cookie_write(void *c, const char *buf, size_t size)
{
    filter *f = c;
    return filter_put(f, (const unsigned char *)buf, size, 0) == 0 ? (ssize_t)size : 0;
}

static int cookie_close(void *c)
{
    filter *f = c;
    int rc = f->nheld ? filter_put(f, NULL, 0, 1) : 0;
    free(f->out);
    f->out = NULL;
    f->cap = 0;
    return rc;
}

/* At exit, before stdio's own flush: a sequence still held is written escaped. */
static void finish(void)
{
    for (int i = 0; i < 2; i++) {
        filter *f = &filters[i];
        if (!f->cooked)
            continue;
        fflush(f->cooked);
        if (f->nheld)
            filter_put(f, NULL, 0, 1);
    }
}

int rw_term_install(void)
{
    if (installed)
        return 0;
    cookie_io_functions_t io = {.write = cookie_write, .close = cookie_close};
    FILE *raw[2] = {stdout, stderr};
    FILE *cooked[2];
    for (int i = 0; i < 2; i++) {
        filters[i].raw = raw[i];
        cooked[i] = fopencookie(&filters[i], "w", io);
        if (!cooked[i]) {
            if (i)
                fclose(cooked[0]);
            memset(filters, 0, sizeof filters);
            return -1;
        }
        filters[i].cooked = cooked[i];
    }
    if (isatty(STDOUT_FILENO))
        setvbuf(cooked[0], NULL, _IOLBF, BUFSIZ);
    else
        setvbuf(cooked[0], NULL, _IOFBF, BUFSIZ);
    setvbuf(cooked[1], NULL, _IONBF, 0);
    stdout = cooked[0];
    stderr = cooked[1];
    installed = 1;
    atexit(finish);
    return 0;
}

FILE *rw_term_raw_stdout(void)
{
    return filters[0].raw ? filters[0].raw : stdout;
}

FILE *rw_term_raw_stderr(void)
{
    return filters[1].raw ? filters[1].raw : stderr;
}

void rw_term_stdout_unfiltered(void)
{
    if (!filters[0].cooked || stdout != filters[0].cooked)
        return;
    fflush(stdout);
    stdout = filters[0].raw;
}
