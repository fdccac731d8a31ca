/* Line coverage of a recording (coverage.h).
 *
 * Counting keeps one array of counters per code id, indexed by line - base, sized
 * from the code's line starts, so a LINE event costs an index and an increment; a
 * line outside the array (a trace without line starts) grows it on a slow path.
 * The per-file view merges the code arrays of every FileDef of one path and
 * computes executable lines the way trace.py does: line starts of every code
 * object of the file, minus the lines of strings that open a block (docstrings).
 */
#include "coverage.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"
#include "scan.h"
#include "source_text.h"

/* Counters of one code id: cnt[line - base] for base <= line < base + len. */
typedef struct code_counts {
    uint32_t base;
    uint32_t len;
    uint64_t *cnt;
} code_counts;

/* Set of caller -> callee pairs: open addressing on the packed 64-bit key, plus the
 * pairs in first-seen order. Used on CALL events only, and only for --trackcalls. */
typedef struct pair_set {
    uint64_t *slots; /* key + 1; 0 = empty */
    size_t mask;
    size_t count;
    rw_cov_pair *order;
} pair_set;

struct rw_cov {
    const rw_reader *r;
    uint32_t ncodes;    /* ids 1..ncodes-1 */
    code_counts *codes;
    uint64_t *calls;
    uint64_t lines_counted;
    pair_set pairs;
    rw_cov_file *files; /* built by rw_cov_files */
    size_t nfiles;
    int files_built;
};

/* Lines beyond this are taken as corrupt input (CPython limits line numbers to int,
 * but no real source has a billion lines). */
#define LINE_MAX_SANE (1u << 26)

static rw_code code_init(code_counts *cc, const Rewind__CodeDef *d)
{
    uint32_t lo = d->first_line ? d->first_line : 1, hi = lo;
    for (size_t i = 0; i < d->n_lines; i++) {
        uint32_t l = d->lines[i];
        if (!l || l > LINE_MAX_SANE)
            continue;
        if (l < lo)
            lo = l;
        if (l > hi)
            hi = l;
    }
    if (hi > LINE_MAX_SANE)
        hi = lo;
    cc->base = lo;
    cc->len = hi - lo + 1;
    cc->cnt = calloc(cc->len, sizeof *cc->cnt);
    return cc->cnt ? RW_OK : RW_ENOMEM;
}

/* Slow path: line is outside cc's array. Grows it to hold line. */
static int code_grow(code_counts *cc, uint32_t line)
{
    if (line > LINE_MAX_SANE)
        return 0; /* not a line a source has: ignored */
    /* Line 0 is counted: the code of an empty module (a comment-only __init__.py) has
     * its one LINE event there, and trace counts it ((file, 0) in its counts, a .cover
     * file for the module with no line marked). */
    uint32_t lo = line < cc->base ? line : cc->base;
    uint32_t hi = cc->base + cc->len - 1;
    if (line > hi)
        hi = line;
    uint32_t len = hi - lo + 1;
    uint64_t *n = calloc(len, sizeof *n);
    if (!n)
        return -1;
    memcpy(n + (cc->base - lo), cc->cnt, (size_t)cc->len * sizeof *n);
    free(cc->cnt);
    cc->cnt = n;
    cc->base = lo;
    cc->len = len;
    return 0;
}

static inline int count_line(code_counts *cc, uint32_t line)
{
    uint32_t off = line - cc->base;
    if (RW_LIKELY(off < cc->len)) {
        cc->cnt[off]++;
        return 0;
    }
    if (code_grow(cc, line) < 0)
        return -1;
    off = line - cc->base;
    if (off < cc->len)
        cc->cnt[off]++;
    return 0;
}

static int pair_add(pair_set *s, uint32_t caller, uint32_t callee)
{
    uint64_t key = ((uint64_t)caller << 32 | callee) + 1;
    if ((s->count + 1) * 2 > s->mask + 1) {
        size_t cap = s->mask ? (s->mask + 1) * 2 : 256;
        uint64_t *slots = calloc(cap, sizeof *slots);
        rw_cov_pair *order = realloc(s->order, cap / 2 * sizeof *order);
        if (!slots || !order) {
            free(slots);
            if (order)
                s->order = order;
            return -1;
        }
        s->order = order;
        for (size_t i = 0; s->mask && i <= s->mask; i++) {
            uint64_t k = s->slots[i];
            if (!k)
                continue;
            size_t j = (size_t)((k * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
            while (slots[j])
                j = (j + 1) & (cap - 1);
            slots[j] = k;
        }
        free(s->slots);
        s->slots = slots;
        s->mask = cap - 1;
    }
    size_t j = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & s->mask;
    while (s->slots[j]) {
        if (s->slots[j] == key)
            return 0;
        j = (j + 1) & s->mask;
    }
    s->slots[j] = key;
    s->order[s->count].caller = caller;
    s->order[s->count].callee = callee;
    s->count++;
    return 0;
}

void rw_cov_free(rw_cov *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i < c->ncodes; i++)
        free(c->codes[i].cnt);
    free(c->codes);
    free(c->calls);
    free(c->pairs.slots);
    free(c->pairs.order);
    for (size_t i = 0; i < c->nfiles; i++) {
        free(c->files[i].hits);
        free(c->files[i].exec);
    }
    free(c->files);
    free(c);
}

/* The caller of the frame just pushed on st: the nearest Python frame below it. */
static uint32_t caller_of(const rw_stack *st)
{
    if (!st || st->depth < 2)
        return 0;
    for (uint32_t i = st->depth - 1; i-- > 0;)
        if (!st->frames[i].is_c)
            return st->frames[i].code;
    return 0;
}

rw_code rw_cov_collect(const rw_reader *r, const rw_cov_opts *o, rw_cov **out, rw_err *err)
{
    const rw_defs *d = rw_reader_defs(r);
    uint64_t nev = rw_reader_nevents(r);
    uint64_t from = o->from, to = o->to < nev ? o->to : nev;
    rw_cov *c = calloc(1, sizeof *c);
    if (!c)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    c->r = r;
    c->ncodes = d->ncodes ? d->ncodes : 1;
    c->codes = calloc(c->ncodes, sizeof *c->codes);
    c->calls = calloc(c->ncodes, sizeof *c->calls);
    if (!c->codes || !c->calls)
        goto oom;
    for (uint32_t i = 1; i < d->ncodes; i++)
        if (code_init(&c->codes[i], rw_defs_code(d, i)) != RW_OK)
            goto oom;

    if (from >= to || !rw_reader_nchunks(r)) {
        *out = c;
        return RW_OK;
    }
    rw_scan_opts so = {
        .from = from,
        .to = to,
        .decode = RW_DECODE_SKIP_ALLOCS, /* lines only: allocations are noise */
    };
    rw_scan *cur;
    rw_code rc = rw_scan_open(r, &so, &cur, err);
    if (rc != RW_OK) {
        rw_cov_free(c);
        return rc;
    }
    rw_event ev;
    int n;
    uint64_t tick = 0, counted = 0; /* counted: lines_counted, kept in a register */
    while ((n = rw_scan_next(cur, &ev, err)) == 1) {
        assert(ev.pos >= from && ev.pos < to);
        if (ev.kind == RW_K_LINE) {
            /* The decoder checked the frame's code id against the definitions. */
            if (RW_UNLIKELY(ev.code == 0 || ev.code >= c->ncodes))
                continue;
            if (count_line(&c->codes[ev.code], ev.line) < 0)
                goto oom_cur;
            counted++;
        } else if (ev.kind == RW_K_CALL) {
            if (RW_UNLIKELY(ev.code == 0 || ev.code >= c->ncodes))
                continue;
            c->calls[ev.code]++;
            if (o->callers &&
                pair_add(&c->pairs, caller_of(rw_scan_stack(cur, ev.thread)), ev.code) < 0)
                goto oom_cur;
        }
        if (o->progress && ++tick == 1u << 20) {
            tick = 0;
            o->progress(o->progress_ctx, ev.pos - from, to - from);
        }
    }
    if (n < 0) {
        rc = err->code;
        goto fail;
    }
    c->lines_counted += counted;
    rw_scan_close(cur);
    *out = c;
    return RW_OK;
oom_cur:
    rc = rw_err_set(err, RW_ENOMEM, "out of memory counting lines");
fail:
    rw_scan_close(cur);
    rw_cov_free(c);
    return rc;
oom:
    rw_cov_free(c);
    return rw_err_set(err, RW_ENOMEM, "out of memory for %u code objects", d->ncodes);
}

uint64_t rw_cov_lines_counted(const rw_cov *c)
{
    return c->lines_counted;
}

uint64_t rw_cov_count(const rw_cov *c, uint32_t code, uint32_t line)
{
    if (code == 0 || code >= c->ncodes)
        return 0;
    const code_counts *cc = &c->codes[code];
    uint32_t off = line - cc->base;
    return off < cc->len ? cc->cnt[off] : 0;
}

uint64_t rw_cov_calls(const rw_cov *c, uint32_t code)
{
    return code && code < c->ncodes ? c->calls[code] : 0;
}

const rw_cov_pair *rw_cov_pairs(const rw_cov *c, size_t *n)
{
    *n = c->pairs.count;
    return c->pairs.order;
}

/* ---- per-file view -------------------------------------------------------------- */

/* The path of FileDef f as the per-file view names it ("" when it has none). */
static const char *file_path(const rw_defs *d, uint32_t f)
{
    const Rewind__FileDef *fd = rw_defs_file(d, f);
    return fd && fd->path ? fd->path : "";
}

static int cmp_path(const void *a, const void *b, void *ctx)
{
    const rw_defs *d = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int s = strcmp(file_path(d, x), file_path(d, y));
    return s ? s : (x > y) - (x < y);
}

rw_code rw_cov_files(rw_cov *c, const rw_cov_file **files, size_t *n, rw_err *err)
{
    if (c->files_built) {
        *files = c->files;
        *n = c->nfiles;
        return RW_OK;
    }
    const rw_defs *d = rw_reader_defs(c->r);
    uint32_t nf = d->nfiles ? d->nfiles : 1;
    /* canon[f]: the first FileDef id with f's path. */
    uint32_t *canon = calloc(nf, sizeof *canon), *idx = calloc(nf, sizeof *idx);
    uint32_t *maxl = calloc(nf, sizeof *maxl);
    int32_t *slot = malloc(nf * sizeof *slot);
    if (!canon || !idx || !maxl || !slot)
        goto oom;
    for (uint32_t i = 1; i < nf; i++)
        idx[i - 1] = i;
    qsort_r(idx, nf - 1, sizeof *idx, cmp_path, (void *)d);
    for (uint32_t k = 0; k + 1 < nf; k++) {
        uint32_t f = idx[k];
        canon[f] = f;
        if (k) {
            uint32_t p = idx[k - 1];
            if (!strcmp(file_path(d, p), file_path(d, f)))
                canon[f] = canon[p];
        }
    }
    /* Which files were hit, and how many lines each needs. */
    for (uint32_t i = 1; i < c->ncodes; i++) {
        uint32_t f = rw_defs_code_file(d, i); /* 0 when unknown or past the table */
        if (!f)
            continue;
        assert(f < nf);
        f = canon[f];
        const code_counts *cc = &c->codes[i];
        uint32_t top = cc->base + cc->len - 1;
        if (top > maxl[f])
            maxl[f] = top;
    }
    for (uint32_t f = 0; f < nf; f++)
        slot[f] = -1;
    size_t nout = 0;
    for (uint32_t i = 1; i < c->ncodes; i++) {
        uint32_t f = rw_defs_code_file(d, i);
        if (!f)
            continue;
        const code_counts *cc = &c->codes[i];
        for (uint32_t k = 0; k < cc->len; k++)
            if (cc->cnt[k]) {
                f = canon[f];
                if (slot[f] < 0)
                    slot[f] = 0, nout++;
                break;
            }
    }
    c->files = calloc(nout ? nout : 1, sizeof *c->files);
    if (!c->files)
        goto oom;
    size_t j = 0;
    for (uint32_t f = 1; f < nf; f++) {
        if (slot[f] < 0)
            continue;
        slot[f] = (int32_t)j;
        rw_cov_file *cf = &c->files[j++];
        c->nfiles = j;
        cf->file = f;
        cf->path = file_path(d, f);
        const char *src;
        size_t srclen;
        size_t srclines = rw_source_text_of_file(d, f, &src, &srclen)
                              ? rw_source_text_count(src, srclen, RW_SOURCE_TEXT_UNIVERSAL)
                              : 0;
        size_t nl = (size_t)maxl[f] + 1;
        if (srclines + 1 > nl)
            nl = srclines + 1;
        cf->nlines = (uint32_t)nl;
        cf->hits = calloc(nl, sizeof *cf->hits);
        cf->exec = calloc(nl, 1);
        if (!cf->hits || !cf->exec)
            goto oom;
    }
    for (uint32_t i = 1; i < c->ncodes; i++) {
        uint32_t f = rw_defs_code_file(d, i);
        if (!f || slot[canon[f]] < 0)
            continue;
        rw_cov_file *cf = &c->files[slot[canon[f]]];
        const code_counts *cc = &c->codes[i];
        for (uint32_t k = 0; k < cc->len; k++)
            cf->hits[cc->base + k] += cc->cnt[k];
        const Rewind__CodeDef *cd = rw_defs_code(d, i);
        if (cd->n_lines)
            cf->has_lines = 1;
        for (size_t k = 0; k < cd->n_lines; k++)
            if (cd->lines[k] && cd->lines[k] < cf->nlines)
                cf->exec[cd->lines[k]] = 1;
    }
    /* Docstring lines are not executable (trace's _find_strings). */
    for (size_t k = 0; k < c->nfiles; k++) {
        rw_cov_file *cf = &c->files[k];
        const char *src;
        size_t srclen;
        if (!rw_source_text_of_file(d, cf->file, &src, &srclen))
            continue;
        uint8_t *strs = calloc(cf->nlines, 1);
        if (!strs)
            goto oom;
        rw_cov_docstrings(src, srclen, strs, cf->nlines);
        for (uint32_t l = 0; l < cf->nlines; l++)
            if (strs[l])
                cf->exec[l] = 0;
        free(strs);
    }
    free(canon);
    free(idx);
    free(maxl);
    free(slot);
    c->files_built = 1;
    *files = c->files;
    *n = c->nfiles;
    return RW_OK;
oom:
    free(canon);
    free(idx);
    free(maxl);
    free(slot);
    return rw_err_set(err, RW_ENOMEM, "out of memory for per-file coverage");
}

/* ---- trace.py's helpers --------------------------------------------------------- */

size_t rw_cov_count_lines(const char *src, size_t len)
{
    return rw_source_text_count(src, len, RW_SOURCE_TEXT_UNIVERSAL);
}

/* Tokens the docstring rule tells apart. */
enum { T_INDENT, T_STRING, T_OTHER };

static int is_id_start(unsigned char ch)
{
    return ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch >= 0x80;
}

static int is_id_char(unsigned char ch)
{
    return is_id_start(ch) || (ch >= '0' && ch <= '9');
}

/* Length of a string prefix (r, b, u, f and their two-letter mixes, any case) at s
 * followed by a quote, or -1 when s does not start a string. */
static int string_prefix(const char *s, const char *end)
{
    int n = 0;
    while (n < 2 && s + n < end && strchr("rRbBuUfF", s[n]) && s[n])
        n++;
    for (int k = n; k >= 0; k--) {
        if (s + k >= end || (s[k] != '\'' && s[k] != '"'))
            continue;
        if (k == 2) {
            char a = (char)(s[0] | 0x20), b = (char)(s[1] | 0x20);
            /* rb, br, fr, rf only */
            if (!((a == 'r' && (b == 'b' || b == 'f')) || (b == 'r' && (a == 'b' || a == 'f'))))
                continue;
        }
        return k;
    }
    return -1;
}

void rw_cov_docstrings(const char *src, size_t len, uint8_t *mark, size_t nmark)
{
    const char *p = src, *end = src + len;
    size_t line = 1;
    int prev = T_INDENT;          /* trace: "If the first token is a string..." */
    int parens = 0, continued = 0, at_line_start = 1;
    size_t indents[128];
    size_t nind = 1;
    indents[0] = 0;
    /* Skips a UTF-8 byte order mark, as tokenize does. */
    if (len >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
        (unsigned char)p[2] == 0xBF)
        p += 3;
    while (p < end) {
        if (at_line_start && !parens && !continued) {
            /* Measure the indentation of a new logical line. */
            size_t col = 0;
            while (p < end && (*p == ' ' || *p == '\t' || *p == '\f')) {
                if (*p == ' ')
                    col++;
                else if (*p == '\t')
                    col = (col / 8 + 1) * 8;
                else
                    col = 0;
                p++;
            }
            at_line_start = 0;
            if (p >= end)
                break;
            if (*p == '#' || *p == '\n' || *p == '\r') {
                /* Blank or comment-only line: COMMENT and/or NL tokens, no INDENT. */
                if (*p == '#') {
                    while (p < end && *p != '\n' && *p != '\r')
                        p++;
                }
                prev = T_OTHER;
                continue; /* the newline is handled below */
            }
            if (col > indents[nind - 1]) {
                if (nind < sizeof indents / sizeof indents[0])
                    indents[nind++] = col;
                prev = T_INDENT;
            } else {
                while (nind > 1 && col < indents[nind - 1]) {
                    nind--;
                    prev = T_OTHER; /* DEDENT */
                }
            }
        }
        unsigned char ch = (unsigned char)*p;
        if (ch == '\n' || ch == '\r') {
            if (ch == '\r' && p + 1 < end && p[1] == '\n')
                p++;
            p++;
            line++;
            if (!continued)
                prev = T_OTHER; /* NEWLINE or NL */
            continued = 0;
            at_line_start = 1;
            continue;
        }
        if (ch == ' ' || ch == '\t' || ch == '\f') {
            p++;
            continue;
        }
        if (ch == '#') {
            while (p < end && *p != '\n' && *p != '\r')
                p++;
            prev = T_OTHER;
            continue;
        }
        if (ch == '\\' && p + 1 < end && (p[1] == '\n' || p[1] == '\r')) {
            p++;
            continued = 1;
            if (*p == '\r' && p + 1 < end && p[1] == '\n')
                p++;
            p++;
            line++;
            at_line_start = 1;
            continue;
        }
        int pre = string_prefix(p, end);
        if (pre >= 0 && (pre == 0 || is_id_start(ch))) {
            const char *q = p + pre;
            char quote = *q;
            int triple = q + 2 < end && q[1] == quote && q[2] == quote;
            size_t start_line = line;
            q += triple ? 3 : 1;
            while (q < end) {
                if (*q == '\\' && q + 1 < end) {
                    q++;
                    if (*q == '\r' && q + 1 < end && q[1] == '\n')
                        q++;
                    if (*q == '\n' || *q == '\r')
                        line++;
                    q++;
                    continue;
                }
                if (*q == '\n' || *q == '\r') {
                    if (!triple)
                        break; /* unterminated: tokenize gives ERRORTOKEN */
                    if (*q == '\r' && q + 1 < end && q[1] == '\n')
                        q++;
                    line++;
                    q++;
                    continue;
                }
                if (*q == quote) {
                    if (!triple) {
                        q++;
                        break;
                    }
                    if (q + 2 < end && q[1] == quote && q[2] == quote) {
                        q += 3;
                        break;
                    }
                }
                q++;
            }
            if (prev == T_INDENT)
                for (size_t l = start_line; l <= line && l < nmark; l++)
                    mark[l] = 1;
            prev = T_STRING;
            p = q;
            continue;
        }
        if (is_id_start(ch)) {
            while (p < end && is_id_char((unsigned char)*p))
                p++;
        } else if (ch >= '0' && ch <= '9') {
            while (p < end && (is_id_char((unsigned char)*p) || *p == '.'))
                p++;
        } else {
            if (ch == '(' || ch == '[' || ch == '{')
                parens++;
            else if ((ch == ')' || ch == ']' || ch == '}') && parens > 0)
                parens--;
            p++;
        }
        prev = T_OTHER;
    }
}

/* Columns a UTF-8 lead byte starts (continuation bytes take none). */
static int is_cont(unsigned char ch)
{
    return (ch & 0xC0) == 0x80;
}

int rw_cov_write_cover(FILE *out, const char *src, size_t len, const uint64_t *hits,
                       const uint8_t *exec, size_t nlines, int show_missing,
                       size_t *n_hits, size_t *n_lines)
{
    size_t off = 0, lineno = 0, nh = 0, nl = 0;
    int bom = len >= 3 && (unsigned char)src[0] == 0xEF && (unsigned char)src[1] == 0xBB &&
              (unsigned char)src[2] == 0xBF;
    rw_source_text_line line; /* trace.py reads the source with universal newlines */
    while (rw_source_text_next(src, len, RW_SOURCE_TEXT_UNIVERSAL, &off, &line)) {
        lineno++;
        size_t s = (size_t)(line.s - src), e = s + line.len;
        int has_end = line.eol_len > 0;
        uint64_t h = lineno < nlines ? hits[lineno] : 0;
        if (h) {
            fprintf(out, "%5llu: ", (unsigned long long)h);
            nh++;
            nl++;
        } else if (show_missing && lineno < nlines && exec[lineno] &&
                   !memmem(src + s, e - s, "#pragma NO COVER", 16)) {
            fputs(">>>>>> ", out);
            nl++;
        } else {
            fputs("       ", out);
        }
        /* str.expandtabs(8): columns count characters, the BOM is not one. */
        size_t col = 0;
        size_t from = s;
        if (lineno == 1 && bom) {
            fwrite(src, 1, 3, out);
            from = s + 3;
        }
        for (size_t k = from; k < e; k++) {
            unsigned char ch = (unsigned char)src[k];
            if (ch == '\t') {
                size_t n = 8 - col % 8;
                fprintf(out, "%*s", (int)n, "");
                col += n;
            } else {
                fputc(ch, out);
                if (!is_cont(ch))
                    col++;
            }
        }
        if (has_end)
            fputc('\n', out);
    }
    *n_hits = nh;
    *n_lines = nl;
    return ferror(out) ? -1 : 0;
}

static void copy_out(char *buf, size_t bufsz, const char *s, size_t n)
{
    if (!bufsz)
        return;
    if (n >= bufsz)
        n = bufsz - 1;
    memcpy(buf, s, n);
    buf[n] = 0;
}

/* os.path.splitext's extension start in base[0..n): the last '.' not leading the
 * name (leading dots do not start an extension). Returns n when there is none. */
static size_t ext_start(const char *base, size_t n)
{
    size_t lead = 0;
    while (lead < n && base[lead] == '.')
        lead++;
    for (size_t i = n; i-- > lead;)
        if (base[i] == '.')
            return i;
    return n;
}

void rw_cov_modname(const char *path, char *buf, size_t bufsz)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t n = strlen(base);
    copy_out(buf, bufsz, base, ext_start(base, n));
}

void rw_cov_fullmodname(const char *path, const char *const *syspath, size_t n, char *buf,
                        size_t bufsz)
{
    size_t plen = strlen(path), longest = 0;
    for (size_t i = 0; i < n; i++) {
        size_t dl = strlen(syspath[i]);
        if (dl < plen && !strncmp(path, syspath[i], dl) && path[dl] == '/' && dl > longest)
            longest = dl;
    }
    /* base.replace(os.sep, "."), then os.path.splitext on that dotted name, then
     * lstrip("."). */
    const char *base = longest ? path + longest + 1 : path;
    size_t bl = strlen(base);
    char *dotted = malloc(bl + 1);
    if (!dotted) {
        copy_out(buf, bufsz, base, bl);
        return;
    }
    for (size_t i = 0; i <= bl; i++)
        dotted[i] = base[i] == '/' ? '.' : base[i];
    size_t stop = ext_start(dotted, bl), k = 0;
    while (k < stop && dotted[k] == '.')
        k++;
    copy_out(buf, bufsz, dotted + k, stop - k);
    free(dotted);
}

int rw_cov_ignored(const char *path, const char *modname, const char *const *mods,
                   size_t nmods, const char *const *dirs, size_t ndirs)
{
    if (!strcmp(modname, "<string>"))
        return 1;
    size_t ml = strlen(modname);
    for (size_t i = 0; i < nmods; i++) {
        size_t l = strlen(mods[i]);
        if (!strcmp(modname, mods[i]) || (ml > l && !strncmp(modname, mods[i], l) &&
                                          modname[l] == '.'))
            return 1;
    }
    for (size_t i = 0; i < ndirs; i++) {
        size_t l = strlen(dirs[i]);
        if (!strncmp(path, dirs[i], l) && path[l] == '/')
            return 1;
    }
    return 0;
}

void rw_cov_funcname(const char *name, const char *qualname, char *buf, size_t bufsz)
{
    size_t nl = strlen(name), ql = qualname ? strlen(qualname) : 0;
    /* "...Class.name": the segment before name is a class when it is not a function
     * scope ("<locals>") or a comprehension. Comprehensions and the like ("<listcomp>")
     * are never stored in a class dict. */
    if (ql > nl + 1 && !strcmp(qualname + ql - nl, name) && qualname[ql - nl - 1] == '.' &&
        (name[0] != '<' || !strcmp(name, "<lambda>"))) {
        size_t e = ql - nl - 1, s = e;
        while (s > 0 && qualname[s - 1] != '.')
            s--;
        if (e > s && qualname[s] != '<') {
            char tmp[512];
            size_t cl = e - s;
            if (cl + 1 + nl < sizeof tmp) {
                memcpy(tmp, qualname + s, cl);
                tmp[cl] = '.';
                memcpy(tmp + cl + 1, name, nl + 1);
                copy_out(buf, bufsz, tmp, cl + 1 + nl);
                return;
            }
        }
    }
    copy_out(buf, bufsz, name, nl);
}
