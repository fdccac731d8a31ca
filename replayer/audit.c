/* Audit events of a recording (audit.h): one cursor pass, filtering on kind, thread
 * and name globs. Name matching is done once per NameDef, not per record. */
#include "audit.h"

#include <fnmatch.h>
#include <stdlib.h>

#include "records.h"

rw_code rw_audit_scan(const rw_reader *r, const rw_audit_opts *o, rw_audit_fn fn, void *ctx,
                      rw_err *err)
{
    const rw_defs *d = rw_reader_defs(r);
    uint64_t nev = rw_reader_nevents(r);
    uint64_t to = o->to < nev ? o->to : nev;
    if (!rw_reader_nchunks(r) || o->from > to)
        return RW_OK;
    /* keep[name]: the name matches the globs. */
    uint32_t nn = d->nnames ? d->nnames : 1;
    uint8_t *keep = calloc(nn, 1);
    if (!keep)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < nn; i++) {
        const char *name = i && d->names[i]->text ? d->names[i]->text : "";
        keep[i] = o->nmatch == 0;
        for (size_t k = 0; k < o->nmatch && !keep[i]; k++)
            keep[i] = fnmatch(o->match[k], name, 0) == 0;
    }
    rw_cursor *c;
    rw_code rc = rw_cursor_new(r, 0, SIZE_MAX, &c, err);
    if (rc == RW_OK)
        rw_cursor_set_flags(c, RW_DECODE_SKIP_ALLOCS); /* audit records only */
    if (rc != RW_OK) {
        free(keep);
        return rc;
    }
    if (o->from && (rc = rw_cursor_seek(c, o->from, err)) != RW_OK)
        goto out;
    rw_event ev;
    int n;
    while ((n = rw_cursor_next(c, &ev, err)) == 1) {
        /* Annotations at pos == to happen before event `to`: inside a range ending there
         * only when it is the end of the run. */
        if (ev.pos > to || (ev.pos == to && to < nev))
            break;
        if (ev.kind != RW_K_AUDIT || (o->thread && ev.thread != o->thread))
            continue;
        if (ev.name >= nn || !keep[ev.name])
            continue;
        rw_audit_event ae = {
            .pos = ev.pos,
            .thread = ev.thread,
            .name = ev.name && d->names[ev.name]->text ? d->names[ev.name]->text : "",
            .args = ev.text ? ev.text : "",
            .args_len = ev.text ? ev.text_len : 0,
            .stack = rw_cursor_stack(c, ev.thread),
        };
        if (fn(ctx, &ae))
            break;
    }
    if (n < 0)
        rc = err->code;
out:
    rw_cursor_free(c);
    free(keep);
    return rc;
}
