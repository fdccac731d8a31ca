/* Coverage as an LCOV tracefile (genhtml, IDE coverage gutters). Called by
 * cli/cmd_coverage.c (coverage --lcov). */
#ifndef RW_LCOV_H
#define RW_LCOV_H

#include <stddef.h>
#include <stdint.h>

#include "coverage.h"

/* Writes the files[k] with report[k] set (nfiles of each) to the new file path:
 * their lines' hit counts and the calls of the functions defined in them, from cov
 * and r's definitions. A function whose qualified name repeats in a file (lambdas,
 * redefinitions) is named NAME@FIRSTLINE. Errors: RW_EIO, message "cannot write
 * PATH: why". */
rw_code rw_lcov_write(const rw_reader *r, const rw_cov *cov, const rw_cov_file *files,
                      const uint8_t *report, size_t nfiles, const char *path, rw_err *err);

#endif
