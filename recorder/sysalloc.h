/* The recorder's own allocator: the libc allocator, called directly.
 *
 * Code in recorder/ allocates only through these macros, never through PyMem_* or
 * PyObject_* (the domains the recorder hooks), so its own memory never shows up in a
 * trace and can never re-enter an allocation hook. One place to change the choice.
 */
#ifndef RW_SYSALLOC_H
#define RW_SYSALLOC_H

#include <stdlib.h>
#include <string.h>

#define rw_sys_malloc(n) malloc(n)          /* libc malloc: never a hooked domain */
#define rw_sys_calloc(n, sz) calloc(n, sz)  /* zeroed; overflow-checked by libc */
#define rw_sys_realloc(p, n) realloc(p, n)
#define rw_sys_free(p) free(p)

/* strdup through the recorder's allocator; NULL when out of memory. */
static inline char *rw_sys_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = rw_sys_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

#endif
