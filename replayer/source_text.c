/* Recorded source texts as lines (source_text.h). Every function walks lines with
 * rw_source_text_next, so the newline rule is written once. */
#include "source_text.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

int rw_source_text_of_file(const rw_defs *d, uint32_t file, const char **text, size_t *len)
{
    const Rewind__FileDef *f = file ? rw_defs_file(d, file) : NULL;
    if (!f || !f->has_source)
        return 0;
    *text = (const char *)f->source.data;
    *len = f->source.len;
    return 1;
}

int rw_source_text_next(const char *text, size_t len, rw_source_text_eol eol, size_t *off,
                        rw_source_text_line *line)
{
    size_t i = *off;
    if (i >= len)
        return 0;
    size_t s = i;
    if (eol == RW_SOURCE_TEXT_UNIVERSAL) {
        while (i < len && text[i] != '\n' && text[i] != '\r')
            i++;
    } else {
        const char *nl = memchr(text + i, '\n', len - i);
        i = nl ? (size_t)(nl - text) : len;
    }
    size_t e = 0;
    if (i < len)
        e = text[i] == '\r' && i + 1 < len && text[i + 1] == '\n' ? 2 : 1;
    line->s = text + s;
    line->len = i - s;
    line->eol_len = e;
    *off = i + e;
    assert(*off > s && *off <= len); /* every line moves on */
    return 1;
}

size_t rw_source_text_count(const char *text, size_t len, rw_source_text_eol eol)
{
    size_t n = 0, off = 0;
    rw_source_text_line l;
    while (rw_source_text_next(text, len, eol, &off, &l))
        n++;
    return n;
}

int rw_source_text_find(const char *text, size_t len, rw_source_text_eol eol, uint64_t lineno,
                        rw_source_text_line *line)
{
    if (lineno == 0)
        return 0;
    size_t off = 0;
    rw_source_text_line l;
    for (uint64_t n = 1; rw_source_text_next(text, len, eol, &off, &l); n++)
        if (n == lineno) {
            *line = l;
            return 1;
        }
    return 0;
}

rw_code rw_source_text_init(rw_source_text *t, const char *text, size_t len,
                            rw_source_text_eol eol, rw_err *err)
{
    memset(t, 0, sizeof *t);
    t->text = text;
    t->len = len;
    t->eol = eol;
    size_t n = rw_source_text_count(text, len, eol);
    size_t *start = malloc((n + 1) * sizeof *start);
    if (!start)
        return rw_err_set(err, RW_ENOMEM, "out of memory indexing a source file of %zu bytes",
                          len);
    size_t k = 0, off = 0;
    rw_source_text_line l;
    start[k++] = 0;
    while (rw_source_text_next(text, len, eol, &off, &l))
        start[k++] = off;
    assert(k == n + 1 && start[n] == len);
    t->start = start;
    t->n = n;
    return RW_OK;
}

void rw_source_text_fini(rw_source_text *t)
{
    free(t->start);
    t->start = NULL;
    t->n = 0;
}

int rw_source_text_line_at(const rw_source_text *t, uint64_t lineno, rw_source_text_line *line)
{
    if (lineno == 0 || lineno > t->n)
        return 0;
    size_t off = t->start[lineno - 1];
    assert(off < t->start[lineno] && t->start[lineno] <= t->len);
    int got = rw_source_text_next(t->text, t->len, t->eol, &off, line);
    assert(got && off == t->start[lineno]); /* the index and the walk agree */
    (void)got;
    return 1;
}
