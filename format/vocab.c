/* The trace's vocabulary (vocab.h): bounded definition lookups, the time base and
 * path normalisation. Lookups never read outside a table: every id is compared with
 * its table's count first. */
#include "vocab.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- definitions ------------------------------------------------------------------ */

/* The entry id of table tab (n entries), or NULL past it. */
#define LOOKUP(d, tab, n, id) ((d) && (id) < (d)->n ? (d)->tab[(id)] : NULL)

const Rewind__FileDef *rw_defs_file(const rw_defs *d, uint32_t id)
{
    return LOOKUP(d, files, nfiles, id);
}

const Rewind__CodeDef *rw_defs_code(const rw_defs *d, uint32_t id)
{
    return LOOKUP(d, codes, ncodes, id);
}

const Rewind__CFuncDef *rw_defs_cfunc(const rw_defs *d, uint32_t id)
{
    return LOOKUP(d, cfuncs, ncfuncs, id);
}

const Rewind__ThreadDef *rw_defs_thread(const rw_defs *d, uint32_t id)
{
    return LOOKUP(d, threads, nthreads, id);
}

const Rewind__NameDef *rw_defs_name(const rw_defs *d, uint32_t id)
{
    return LOOKUP(d, names, nnames, id);
}

/* s, or NULL when it is NULL or empty. */
static const char *text(const char *s)
{
    return s && *s ? s : NULL;
}

/* The definition of code when code is a defined id (not 0, inside the table), or NULL:
 * what every rw_defs_code_* accessor starts from. */
static const Rewind__CodeDef *code_def(const rw_defs *d, uint32_t code)
{
    return code ? rw_defs_code(d, code) : NULL;
}

const char *rw_defs_file_path(const rw_defs *d, uint32_t file)
{
    const Rewind__FileDef *f = file ? rw_defs_file(d, file) : NULL;
    return f ? text(f->path) : NULL;
}

const char *rw_defs_code_path(const rw_defs *d, uint32_t code)
{
    return rw_defs_file_path(d, rw_defs_code_file(d, code));
}

const char *rw_defs_code_name(const rw_defs *d, uint32_t code)
{
    const Rewind__CodeDef *c = code_def(d, code);
    return c ? text(c->name) : NULL;
}

const char *rw_defs_code_qualname(const rw_defs *d, uint32_t code)
{
    const Rewind__CodeDef *c = code_def(d, code);
    return c ? text(c->qualname) : NULL;
}

const char *rw_defs_cfunc_label(const rw_defs *d, uint32_t cfunc)
{
    const Rewind__CFuncDef *c = cfunc ? rw_defs_cfunc(d, cfunc) : NULL;
    return c ? text(c->label) : NULL;
}

const char *rw_defs_name_text(const rw_defs *d, uint32_t name)
{
    const Rewind__NameDef *n = name ? rw_defs_name(d, name) : NULL;
    return n ? text(n->text) : NULL;
}

uint32_t rw_defs_code_first_line(const rw_defs *d, uint32_t code)
{
    const Rewind__CodeDef *c = code_def(d, code);
    return c ? c->first_line : 0;
}

uint32_t rw_defs_code_file(const rw_defs *d, uint32_t code)
{
    const Rewind__CodeDef *c = code_def(d, code);
    return c && c->file < d->nfiles ? c->file : 0;
}

const char *rw_defs_thread_name(const rw_defs *d, const Rewind__RunEnd *end, uint32_t thread)
{
    for (size_t i = 0; end && i < end->n_threads; i++)
        if (end->threads[i] && end->threads[i]->id == thread && text(end->threads[i]->name))
            return end->threads[i]->name;
    const Rewind__ThreadDef *t = thread ? rw_defs_thread(d, thread) : NULL;
    return t ? text(t->name) : NULL;
}

const Rewind__ThreadDef *rw_defs_thread_final(const rw_defs *d, const Rewind__RunEnd *end,
                                              uint32_t thread)
{
    for (size_t i = 0; end && i < end->n_threads; i++)
        if (end->threads[i] && end->threads[i]->id == thread)
            return end->threads[i];
    return thread ? rw_defs_thread(d, thread) : NULL;
}

/* ---- time base -------------------------------------------------------------------- */

rw_timebase rw_timebase_of(const Rewind__Metadata *m, uint64_t first_tick)
{
    rw_timebase tb = {first_tick, 1.0};
    if (m && m->start_tick)
        tb.start_tick = m->start_tick;
    if (m && isfinite(m->ns_per_tick) && m->ns_per_tick > 0)
        tb.ns_per_tick = m->ns_per_tick;
    return tb;
}

uint64_t rw_timebase_tick_at(const rw_timebase *tb, double ns)
{
    if (!(ns > 0))
        return tb->start_tick;
    double ticks = ns / tb->ns_per_tick;
    /* 2^64 is exact as a double; anything at or past it (or past what is left above
     * start_tick) saturates. */
    if (!(ticks < 18446744073709551616.0))
        return UINT64_MAX;
    uint64_t t = (uint64_t)ticks;
    return t > UINT64_MAX - tb->start_tick ? UINT64_MAX : tb->start_tick + t;
}

/* ---- paths ------------------------------------------------------------------------ */

char *rw_path_normpath(const char *path)
{
    if (!path)
        path = "";
    size_t n = strlen(path);
    char *out = malloc(n + 2); /* the result is never longer, or "." */
    if (!out)
        return NULL;
    size_t lead = 0; /* initial slashes kept: 0, 1 or exactly 2 */
    if (path[0] == '/')
        lead = path[1] == '/' && path[2] != '/' ? 2 : 1;
    memset(out, '/', lead);
    size_t o = lead;  /* end of the output */
    size_t ncomp = 0; /* components in it */
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        const char *s = p;
        while (*p && *p != '/')
            p++;
        size_t l = (size_t)(p - s);
        if (!l || (l == 1 && s[0] == '.'))
            continue;
        int dotdot = l == 2 && s[0] == '.' && s[1] == '.';
        if (dotdot && ncomp) {
            /* The last component starts after the last '/' past the leading ones. */
            size_t last = o;
            while (last > lead && out[last - 1] != '/')
                last--;
            if (!(o - last == 2 && out[last] == '.' && out[last + 1] == '.')) {
                o = last > lead ? last - 1 : lead; /* pop it and its separator */
                ncomp--;
                continue;
            }
        } else if (dotdot && lead) {
            continue; /* ".." at the root is the root */
        }
        if (ncomp)
            out[o++] = '/';
        memcpy(out + o, s, l);
        o += l;
        ncomp++;
    }
    if (!o)
        out[o++] = '.';
    out[o] = '\0';
    return out;
}

char *rw_path_abspath(const char *path, const char *cwd)
{
    if (!path)
        path = "";
    if (path[0] == '/' || !cwd || !*cwd)
        return rw_path_normpath(path);
    size_t cl = strlen(cwd), pl = strlen(path);
    char *joined = malloc(cl + pl + 2);
    if (!joined)
        return NULL;
    memcpy(joined, cwd, cl);
    size_t o = cl;
    if (cwd[cl - 1] != '/')
        joined[o++] = '/';
    memcpy(joined + o, path, pl + 1);
    char *out = rw_path_normpath(joined);
    free(joined);
    return out;
}
