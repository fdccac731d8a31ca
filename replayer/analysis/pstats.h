/* The profile as a file pstats loads: what cProfile's -o writes. Called by
 * cli/cmd_stats.c (stats -o). */
#ifndef RW_PSTATS_H
#define RW_PSTATS_H

#include "profile.h"

/* Writes p in the format cProfile's -o writes (marshal of {(file, line, name): (cc,
 * nc, tt, ct, {caller: (nc, cc, tt, ct)})}), which pstats.Stats(path) loads. Errors:
 * RW_EIO naming path. */
rw_code rw_profile_write_pstats(const rw_profile *p, const char *path, rw_err *err);

#endif
