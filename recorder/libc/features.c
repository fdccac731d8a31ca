/* The C-library captures that a trace's features name, in one table (libc.h,
 * rw_libc_features): the recorder and the engine set them from it. The allocation
 * hooks' switches (alloc.h, "startup-reuses", "tracer-objects") sit here too, for the
 * same reason.
 *
 * Rules for this folder: recorder/libc/README.md.
 */
#include "libc.h"

#include "alloc.h"

#include <stddef.h>

static const struct {
    const char *name;
    void (*set)(int on);
} captures[] = {
    {"openssl-draws", rw_crypto_draws}, {"prctl", rw_ident_prctl_logged},
    {"glib-clock", rw_clock_glib_logged}, {"syslog", rw_syslog_logged},
    {"mntent", rw_mntent_logged}, {"startup-reuses", rw_alloc_startup_reuses},
    {"tracer-objects", rw_alloc_tracer_objects},
};

void rw_libc_features(int (*has)(const char *name, const void *ctx), const void *ctx)
{
    for (size_t i = 0; i < sizeof captures / sizeof captures[0]; i++)
        captures[i].set(has(captures[i].name, ctx) != 0);
}
