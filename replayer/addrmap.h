/* Address -> (size, payload) hash map for replaying allocations.
 *
 * The analyses that follow memory (memory, @peak positions) keep every live block of
 * the recording in one of these, so its cost per entry bounds their memory: an entry
 * whose address fits 48 bits, whose size and payload fit 24 bits each (every block a
 * Python program allocates, save blocks of 16 MiB and more) is packed in 12 bytes.
 * The map is 256 segments chosen by hash, each open addressing with linear probing
 * and backward-shift deletion, grown by half when 4/5 full: the slots cost 15 to 23
 * bytes per entry, and growing one segment at a time needs no second copy of the
 * whole map. Other entries (and address 0) go to a small overflow table of 24-byte
 * slots. Not thread-safe.
 */
#ifndef RW_ADDRMAP_H
#define RW_ADDRMAP_H

#include <stddef.h>
#include <stdint.h>

/* Entries packed in 12 bytes: addr < 2^48, size and aux < 2^24. */
#define RW_ADDRMAP_COMPACT_ADDR (1ull << 48)
#define RW_ADDRMAP_COMPACT_SIZE (1ull << 24)
#define RW_ADDRMAP_COMPACT_AUX (1ull << 24)

#define RW_ADDRMAP_SEGMENTS 256

typedef struct rw_addrmap_ent {
    uint64_t addr;
    uint64_t size;
    uint64_t aux;    /* caller's data (e.g. an allocation site id) */
} rw_addrmap_ent;

/* One segment: cap slots of 3 words (see addrmap.c, pack). Invariant: count * 5 <=
 * cap * 4, so every probe meets an empty slot. */
typedef struct rw_addrmap_seg {
    uint32_t *w;
    uint32_t cap, count;
} rw_addrmap_seg;

/* The overflow table: 24-byte slots, addr 0 = empty (address 0 itself lives in
 * zero). Invariant: count * 4 <= (mask + 1) * 3. */
typedef struct rw_addrmap_big {
    rw_addrmap_ent *slots;
    size_t mask;     /* capacity - 1, 0 with no table */
    size_t count;
} rw_addrmap_big;

typedef struct rw_addrmap {
    rw_addrmap_seg seg[RW_ADDRMAP_SEGMENTS];
    rw_addrmap_big big;
    int has_zero;
    rw_addrmap_ent zero;
    size_t count;    /* entries in all: segments, overflow and zero */
} rw_addrmap;

/* Initialises an empty map. Returns 0, or -1 when out of memory (then nothing is
 * held and rw_addrmap_fini is optional). */
int rw_addrmap_init(rw_addrmap *m);
/* Frees what m holds; m may be zeroed or initialised. */
void rw_addrmap_fini(rw_addrmap *m);

/* Inserts or replaces addr (any value, 0 included). Returns 0, or -1 when out of
 * memory (map unchanged). *old (when not NULL) gets the replaced entry, or an entry
 * of zeroes when addr was not there (m->count tells which for address 0). */
int rw_addrmap_put(rw_addrmap *m, uint64_t addr, uint64_t size, uint64_t aux,
                   rw_addrmap_ent *old);

/* Removes addr. Returns 1 and fills *out (when not NULL) if it was there, else 0. */
int rw_addrmap_del(rw_addrmap *m, uint64_t addr, rw_addrmap_ent *out);

/* Looks addr up: returns 1 and fills *out (when not NULL) if it is there, else 0. */
int rw_addrmap_get(const rw_addrmap *m, uint64_t addr, rw_addrmap_ent *out);

/* Iteration over every entry, in no particular order. The map must not change during
 * it. Usage: rw_addrmap_iter it = {0}; while (rw_addrmap_next(m, &it, &e)) ... */
typedef struct rw_addrmap_iter {
    size_t seg, slot;
} rw_addrmap_iter;
int rw_addrmap_next(const rw_addrmap *m, rw_addrmap_iter *it, rw_addrmap_ent *out);

/* Bytes of heap the map holds (slots and overflow; not the rw_addrmap itself). */
size_t rw_addrmap_bytes(const rw_addrmap *m);

/* Copies the map (for snapshots). Returns 0 or -1 (dst then holds nothing). */
int rw_addrmap_copy(rw_addrmap *dst, const rw_addrmap *src);

#endif
