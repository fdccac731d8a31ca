/* The trace's Metadata for a run: the program, argv (secrets scrubbed), the
 * environment (redacted by name, secrets scrubbed from the rest), the platform, the
 * recording options, who started the run (--child-of). Main thread, with the GIL,
 * after rw_secrets_init. */
#ifndef RW_META_H
#define RW_META_H

#include <stddef.h>
#include <stdint.h>

#include "recorder.h"
#include "rewind.pb-c.h"

/* A Metadata message whose strings are owned by it (sysalloc), until rw_meta_free. */
typedef struct rw_meta {
    Rewind__Metadata m;
    Rewind__RecordOptions opts;
    Rewind__EnvVar *env;
    Rewind__EnvVar **envp;
    char **strings; /* everything to free */
    size_t nstrings, capstrings;
} rw_meta;

/* Fills mt (zeroed by the caller) for o's run, started at unix0 (ns) and tick0, with
 * this hash seed and clock calibration. Out of memory leaves fields empty. */
void rw_meta_build(rw_meta *mt, const rw_record_opts *o, int64_t unix0, uint64_t tick0,
                   uint64_t seed, double ns_per_tick);
void rw_meta_free(rw_meta *mt);

/* Whether the recording is to be made as a recorder without feature `name` (docs/
 * format.md, "Features") made it: REWIND_RECORD_WITHOUT, a comma-separated list of
 * feature names, for the tests of how older traces replay. Such a feature is left out
 * of Metadata.features, and what it captures is not captured where that can be turned
 * off ("openssl-draws"). */
int rw_meta_feature_off(const char *name);

#endif
