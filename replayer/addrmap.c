/* Address hash map (addrmap.h): open addressing, linear probing, backward shift. */
#include "addrmap.h"

#include <stdlib.h>
#include <string.h>

static size_t slot_of(const rw_addrmap *m, uint64_t addr)
{
    uint64_t h = addr * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 20) & m->mask;
}

int rw_addrmap_init(rw_addrmap *m)
{
    m->mask = 1023;
    m->count = 0;
    m->slots = calloc(m->mask + 1, sizeof *m->slots);
    return m->slots ? 0 : -1;
}

void rw_addrmap_fini(rw_addrmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->count = 0;
}

static int grow(rw_addrmap *m)
{
    size_t ncap = (m->mask + 1) * 2;
    rw_addrmap_ent *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -1;
    rw_addrmap old = *m;
    m->slots = ns;
    m->mask = ncap - 1;
    for (size_t i = 0; i <= old.mask; i++) {
        if (!old.slots[i].addr)
            continue;
        size_t j = slot_of(m, old.slots[i].addr);
        while (m->slots[j].addr)
            j = (j + 1) & m->mask;
        m->slots[j] = old.slots[i];
    }
    free(old.slots);
    return 0;
}

int rw_addrmap_put(rw_addrmap *m, uint64_t addr, uint64_t size, uint64_t aux,
                   rw_addrmap_ent *old)
{
    if ((m->count + 1) * 4 > (m->mask + 1) * 3 && grow(m) < 0)
        return -1;
    size_t j = slot_of(m, addr);
    while (m->slots[j].addr && m->slots[j].addr != addr)
        j = (j + 1) & m->mask;
    if (old) {
        if (m->slots[j].addr)
            *old = m->slots[j];
        else
            memset(old, 0, sizeof *old);
    }
    if (!m->slots[j].addr)
        m->count++;
    m->slots[j].addr = addr;
    m->slots[j].size = size;
    m->slots[j].aux = aux;
    return 0;
}

int rw_addrmap_del(rw_addrmap *m, uint64_t addr, rw_addrmap_ent *out)
{
    size_t j = slot_of(m, addr);
    while (m->slots[j].addr && m->slots[j].addr != addr)
        j = (j + 1) & m->mask;
    if (!m->slots[j].addr)
        return 0;
    if (out)
        *out = m->slots[j];
    /* Backward-shift deletion keeps probe chains intact without tombstones: an
     * entry after the hole moves into it unless its home slot lies cyclically in
     * (hole, entry]. */
    size_t i = j, k = j;
    for (;;) {
        k = (k + 1) & m->mask;
        if (!m->slots[k].addr)
            break;
        size_t home = slot_of(m, m->slots[k].addr);
        int stays = i <= k ? (i < home && home <= k) : (i < home || home <= k);
        if (stays)
            continue;
        m->slots[i] = m->slots[k];
        i = k;
    }
    memset(&m->slots[i], 0, sizeof m->slots[i]);
    m->count--;
    return 1;
}

const rw_addrmap_ent *rw_addrmap_get(const rw_addrmap *m, uint64_t addr)
{
    size_t j = slot_of(m, addr);
    while (m->slots[j].addr) {
        if (m->slots[j].addr == addr)
            return &m->slots[j];
        j = (j + 1) & m->mask;
    }
    return NULL;
}

int rw_addrmap_copy(rw_addrmap *dst, const rw_addrmap *src)
{
    dst->slots = malloc((src->mask + 1) * sizeof *dst->slots);
    if (!dst->slots)
        return -1;
    memcpy(dst->slots, src->slots, (src->mask + 1) * sizeof *dst->slots);
    dst->mask = src->mask;
    dst->count = src->count;
    return 0;
}
