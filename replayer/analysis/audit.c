/* Audit events of a recording (audit.h): one scan (scan.h), filtering on kind, thread
 * and name globs. Name matching is done once per NameDef, not per record. */
#include "audit.h"

#include <assert.h>
#include <fnmatch.h>
#include <stdlib.h>

#include "records.h"
#include "scan.h"

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
        const char *name = rw_defs_name_text(d, i);
        name = name ? name : "";
        keep[i] = o->nmatch == 0;
        for (size_t k = 0; k < o->nmatch && !keep[i]; k++)
            keep[i] = fnmatch(o->match[k], name, 0) == 0;
    }
    /* Annotations at pos == to happen before event `to`: inside a range ending there
     * only when it is the end of the run. */
    rw_scan_opts so = {
        .from = o->from,
        .to = to < nev ? to : UINT64_MAX,
        .thread = o->thread,
        .decode = RW_DECODE_SKIP_ALLOCS, /* audit records only */
    };
    rw_scan *s;
    rw_code rc = rw_scan_open(r, &so, &s, err);
    if (rc != RW_OK) {
        free(keep);
        return rc;
    }
    rw_event ev;
    int n;
    while ((n = rw_scan_next(s, &ev, err)) == 1) {
        if (ev.kind != RW_K_AUDIT)
            continue;
        assert(ev.pos >= o->from && ev.pos <= to); /* the window, annotations at its end */
        if (ev.name >= nn || !keep[ev.name])
            continue;
        const char *name = rw_defs_name_text(d, ev.name);
        rw_audit_event ae = {
            .pos = ev.pos,
            .thread = ev.thread,
            .name = name ? name : "",
            .args = ev.text ? ev.text : "",
            .args_len = ev.text ? ev.text_len : 0,
            .stack = rw_scan_stack(s, ev.thread),
        };
        if (fn(ctx, &ae))
            break;
    }
    if (n < 0)
        rc = err->code;
    rw_scan_close(s);
    free(keep);
    return rc;
}
