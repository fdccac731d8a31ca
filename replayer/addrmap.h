/* Address -> (size, payload) hash map for replaying allocations.
 *
 * The analyses that follow memory (memory, @peak positions) keep every live block of
 * the recording in one of these: open addressing with linear probing and backward-
 * shift deletion, keys are block addresses (never 0). Not thread-safe.
 */
#ifndef RW_ADDRMAP_H
#define RW_ADDRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct rw_addrmap_ent {
    uint64_t addr;   /* 0 = empty slot */
    uint64_t size;
    uint64_t aux;    /* caller's data (e.g. a traceback id) */
} rw_addrmap_ent;

typedef struct rw_addrmap {
    rw_addrmap_ent *slots;
    size_t mask;     /* capacity - 1 (capacity is a power of two) */
    size_t count;
} rw_addrmap;

/* Initialises an empty map. Returns 0, or -1 when out of memory. */
int rw_addrmap_init(rw_addrmap *m);
void rw_addrmap_fini(rw_addrmap *m);

/* Inserts or replaces addr. Returns 0, or -1 when out of memory (map unchanged).
 * *old (when not NULL) gets the replaced entry, or an entry with addr 0. */
int rw_addrmap_put(rw_addrmap *m, uint64_t addr, uint64_t size, uint64_t aux,
                   rw_addrmap_ent *old);

/* Removes addr. Returns 1 and fills *out (when not NULL) if it was there, else 0. */
int rw_addrmap_del(rw_addrmap *m, uint64_t addr, rw_addrmap_ent *out);

/* Looks addr up: the entry (borrowed, valid until the next change) or NULL. */
const rw_addrmap_ent *rw_addrmap_get(const rw_addrmap *m, uint64_t addr);

/* Copies the map (for snapshots). Returns 0 or -1. */
int rw_addrmap_copy(rw_addrmap *dst, const rw_addrmap *src);

#endif
