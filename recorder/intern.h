/* Interning tables of the recorder: text -> dense id and pointer -> dense id.
 *
 * Used on slow paths only (first sight of a file, exception type, audit event name,
 * C function). Memory comes from recorder/sysalloc.h. Not thread-safe: callers hold
 * the GIL. Ids start at 1 and are dense, as the trace's definition tables require.
 */
#ifndef RW_INTERN_H
#define RW_INTERN_H

#include <stddef.h>
#include <stdint.h>

/* Text -> id. Zero-initialised storage is an empty table. */
typedef struct rw_strtab {
    char **keys;     /* cap slots, NULL = empty; each key owned by the table */
    uint32_t *ids;
    size_t cap;      /* power of two or 0 */
    size_t n;
} rw_strtab;

/* Returns the id of text[0..len) (len bytes, no NUL needed), adding it with id n+1
 * when absent; *added tells which. Returns 0 when out of memory. */
uint32_t rw_strtab_intern(rw_strtab *t, const char *text, size_t len, int *added);
void rw_strtab_fini(rw_strtab *t);

/* Pointer -> id. Zero-initialised storage is an empty table. */
typedef struct rw_ptrtab {
    const void **keys;
    uint32_t *ids;
    size_t cap;
    size_t n;
} rw_ptrtab;

/* Returns the id stored for key, or 0. */
uint32_t rw_ptrtab_get(const rw_ptrtab *t, const void *key);
/* Stores key -> id (id != 0, key not present). Returns 0 when out of memory. */
int rw_ptrtab_put(rw_ptrtab *t, const void *key, uint32_t id);
void rw_ptrtab_fini(rw_ptrtab *t);

#endif
