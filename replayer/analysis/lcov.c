/* LCOV tracefile writer (lcov.h): TN, then per source file SF, FN/FNDA/FNF/FNH for
 * its functions and DA/LF/LH for its lines, as geninfo writes them. */
#include "lcov.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

rw_code rw_lcov_write(const rw_reader *r, const rw_cov *cov, const rw_cov_file *files,
                      const uint8_t *report, size_t nfiles, const char *out, rw_err *err)
{
    FILE *f = fopen(out, "w");
    if (!f)
        return rw_err_set(err, RW_EIO, "cannot write %s: %s", out, strerror(errno));
    const rw_defs *d = rw_reader_defs(r);
    fprintf(f, "TN:\n");
    for (size_t k = 0; k < nfiles; k++) {
        if (!report[k])
            continue;
        const rw_cov_file *cf = &files[k];
        fprintf(f, "SF:%s\n", cf->path);
        size_t fnf = 0, fnh = 0;
        for (int pass = 0; pass < 2; pass++)
            for (uint32_t i = 1; i < d->ncodes; i++) {
                const Rewind__CodeDef *cd = rw_defs_code(d, i);
                const Rewind__FileDef *fd = cd->file ? rw_defs_file(d, cd->file) : NULL;
                if (!fd || !fd->path || strcmp(fd->path, cf->path) || !cd->name ||
                    !strcmp(cd->name, "<module>"))
                    continue;
                const char *q = cd->qualname && *cd->qualname ? cd->qualname : cd->name;
                /* Names must be unique in a record: qualify repeats (lambdas, redefinitions)
                 * with their first line. */
                int dup = 0;
                for (uint32_t j = 1; j < i && !dup; j++) {
                    const Rewind__CodeDef *o = rw_defs_code(d, j);
                    dup = o->file == cd->file && o->qualname && cd->qualname &&
                          !strcmp(o->qualname, cd->qualname);
                }
                if (pass == 0) {
                    if (dup)
                        fprintf(f, "FN:%u,%s@%u\n", cd->first_line, q, cd->first_line);
                    else
                        fprintf(f, "FN:%u,%s\n", cd->first_line, q);
                } else {
                    uint64_t calls = rw_cov_calls(cov, i);
                    if (dup)
                        fprintf(f, "FNDA:%llu,%s@%u\n", (unsigned long long)calls, q,
                                cd->first_line);
                    else
                        fprintf(f, "FNDA:%llu,%s\n", (unsigned long long)calls, q);
                    fnf++;
                    fnh += calls > 0;
                }
            }
        fprintf(f, "FNF:%zu\nFNH:%zu\n", fnf, fnh);
        size_t lf = 0, lh = 0;
        /* Line 0 only when it ran: an empty module's code runs there (coverage.c). */
        for (uint32_t l = cf->hits[0] ? 0 : 1; l < cf->nlines; l++) {
            if (!cf->hits[l] && !cf->exec[l])
                continue;
            fprintf(f, "DA:%u,%llu\n", l, (unsigned long long)cf->hits[l]);
            lf++;
            lh += cf->hits[l] > 0;
        }
        fprintf(f, "LF:%zu\nLH:%zu\nend_of_record\n", lf, lh);
    }
    if (fclose(f) != 0)
        return rw_err_set(err, RW_EIO, "cannot write %s: %s", out, strerror(errno));
    return RW_OK;
}
