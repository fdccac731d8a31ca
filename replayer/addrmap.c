/* Address hash map (addrmap.h): 256 segments of 12-byte slots, linear probing,
 * backward-shift deletion, plus an overflow table for what does not pack.
 *
 * A slot is three 32-bit words: w0 = addr bits 0..31, w1 = addr bits 32..47 | size
 * bits 0..15 << 16, w2 = size bits 16..23 | aux << 8. A packed address is never 0, so
 * a slot whose address words are 0 is empty. The segment is the top byte of the
 * address's hash, the home slot the low 32 bits scaled to the capacity (which need
 * not be a power of two: segments grow by half, keeping the load between 8/15 and
 * 4/5).
 */
#include "addrmap.h"

#include <stdlib.h>
#include <string.h>

#define SEG_MIN 16u
#define SEG_MAX 0x40000000u /* slots of one segment */

static uint64_t hash(uint64_t x)
{
    /* MurmurHash3's finaliser: every address bit reaches the top byte and the low
     * word. */
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static int packs(uint64_t addr, uint64_t size, uint64_t aux)
{
    return addr && addr < RW_ADDRMAP_COMPACT_ADDR && size < RW_ADDRMAP_COMPACT_SIZE &&
           aux < RW_ADDRMAP_COMPACT_AUX;
}

static uint32_t home_of(const rw_addrmap_seg *s, uint64_t h)
{
    return (uint32_t)(((h & 0xffffffffu) * (uint64_t)s->cap) >> 32);
}

static uint64_t slot_addr(const uint32_t *w)
{
    return (uint64_t)w[0] | ((uint64_t)(w[1] & 0xffffu) << 32);
}

static void slot_unpack(const uint32_t *w, rw_addrmap_ent *e)
{
    e->addr = slot_addr(w);
    e->size = (uint64_t)(w[1] >> 16) | ((uint64_t)(w[2] & 0xffu) << 16);
    e->aux = w[2] >> 8;
}

static void slot_pack(uint32_t *w, uint64_t addr, uint64_t size, uint64_t aux)
{
    w[0] = (uint32_t)addr;
    w[1] = (uint32_t)((addr >> 32) & 0xffffu) | (uint32_t)((size & 0xffffu) << 16);
    w[2] = (uint32_t)((size >> 16) & 0xffu) | (uint32_t)(aux << 8);
}

static int slot_empty(const uint32_t *w)
{
    return !w[0] && !(w[1] & 0xffffu);
}

/* ---- segments ------------------------------------------------------------------- */

static int seg_alloc(rw_addrmap_seg *s, uint32_t cap)
{
    s->w = calloc((size_t)cap * 3, sizeof *s->w);
    if (!s->w)
        return -1;
    s->cap = cap;
    s->count = 0;
    return 0;
}

/* The slot holding addr, or the empty slot that ends its probe. */
static uint32_t seg_find(const rw_addrmap_seg *s, uint64_t addr, uint64_t h)
{
    uint32_t j = home_of(s, h);
    for (;;) {
        const uint32_t *w = &s->w[(size_t)j * 3];
        if (slot_empty(w) || slot_addr(w) == addr)
            return j;
        if (++j == s->cap)
            j = 0;
    }
}

static int seg_grow(rw_addrmap_seg *s)
{
    if (s->cap >= SEG_MAX)
        return -1;
    rw_addrmap_seg n;
    if (seg_alloc(&n, s->cap + s->cap / 2) < 0)
        return -1;
    for (uint32_t i = 0; i < s->cap; i++) {
        const uint32_t *w = &s->w[(size_t)i * 3];
        if (slot_empty(w))
            continue;
        uint32_t j = seg_find(&n, slot_addr(w), hash(slot_addr(w)));
        memcpy(&n.w[(size_t)j * 3], w, 3 * sizeof *w);
    }
    n.count = s->count;
    free(s->w);
    *s = n;
    return 0;
}

/* Removes slot j of s, shifting back the entries after it whose probe crosses it. */
static void seg_remove(rw_addrmap_seg *s, uint32_t j)
{
    uint32_t i = j, k = j;
    for (;;) {
        if (++k == s->cap)
            k = 0;
        uint32_t *wk = &s->w[(size_t)k * 3];
        if (slot_empty(wk))
            break;
        /* The entry at k moves into the hole at i unless its home lies cyclically in
         * (i, k]. */
        uint32_t home = home_of(s, hash(slot_addr(wk)));
        int stays = i <= k ? (i < home && home <= k) : (i < home || home <= k);
        if (stays)
            continue;
        memcpy(&s->w[(size_t)i * 3], wk, 3 * sizeof *wk);
        i = k;
    }
    memset(&s->w[(size_t)i * 3], 0, 3 * sizeof *s->w);
    s->count--;
}

static int seg_del(rw_addrmap_seg *s, uint64_t addr, uint64_t h, rw_addrmap_ent *out)
{
    uint32_t j = seg_find(s, addr, h);
    const uint32_t *w = &s->w[(size_t)j * 3];
    if (slot_empty(w))
        return 0;
    if (out)
        slot_unpack(w, out);
    seg_remove(s, j);
    return 1;
}

/* ---- overflow table ------------------------------------------------------------- */

static size_t big_slot(const rw_addrmap_big *b, uint64_t addr)
{
    return (size_t)hash(addr) & b->mask;
}

static int big_grow(rw_addrmap_big *b)
{
    size_t ncap = b->slots ? (b->mask + 1) * 2 : 64;
    rw_addrmap_ent *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -1;
    rw_addrmap_big old = *b;
    b->slots = ns;
    b->mask = ncap - 1;
    for (size_t i = 0; old.slots && i <= old.mask; i++) {
        if (!old.slots[i].addr)
            continue;
        size_t j = big_slot(b, old.slots[i].addr);
        while (b->slots[j].addr)
            j = (j + 1) & b->mask;
        b->slots[j] = old.slots[i];
    }
    free(old.slots);
    return 0;
}

/* Slot of addr (never 0) in b, or of the empty slot ending its probe; b has slots. */
static size_t big_find(const rw_addrmap_big *b, uint64_t addr)
{
    size_t j = big_slot(b, addr);
    while (b->slots[j].addr && b->slots[j].addr != addr)
        j = (j + 1) & b->mask;
    return j;
}

static int big_del(rw_addrmap_big *b, uint64_t addr, rw_addrmap_ent *out)
{
    if (!b->count)
        return 0;
    size_t j = big_find(b, addr);
    if (!b->slots[j].addr)
        return 0;
    if (out)
        *out = b->slots[j];
    size_t i = j, k = j;
    for (;;) {
        k = (k + 1) & b->mask;
        if (!b->slots[k].addr)
            break;
        size_t home = big_slot(b, b->slots[k].addr);
        int stays = i <= k ? (i < home && home <= k) : (i < home || home <= k);
        if (stays)
            continue;
        b->slots[i] = b->slots[k];
        i = k;
    }
    memset(&b->slots[i], 0, sizeof b->slots[i]);
    b->count--;
    return 1;
}

/* ---- the map -------------------------------------------------------------------- */

int rw_addrmap_init(rw_addrmap *m)
{
    memset(m, 0, sizeof *m);
    for (size_t i = 0; i < RW_ADDRMAP_SEGMENTS; i++)
        if (seg_alloc(&m->seg[i], SEG_MIN) < 0) {
            rw_addrmap_fini(m);
            return -1;
        }
    return 0;
}

void rw_addrmap_fini(rw_addrmap *m)
{
    for (size_t i = 0; i < RW_ADDRMAP_SEGMENTS; i++)
        free(m->seg[i].w);
    free(m->big.slots);
    memset(m, 0, sizeof *m);
}

int rw_addrmap_put(rw_addrmap *m, uint64_t addr, uint64_t size, uint64_t aux,
                   rw_addrmap_ent *old)
{
    rw_addrmap_ent prev = {0};
    if (!addr) {
        if (m->has_zero)
            prev = m->zero;
        else
            m->count++;
        m->has_zero = 1;
        m->zero = (rw_addrmap_ent){0, size, aux};
        if (old)
            *old = prev;
        return 0;
    }
    uint64_t h = hash(addr);
    if (packs(addr, size, aux)) {
        rw_addrmap_seg *s = &m->seg[h >> 56];
        if ((s->count + 1) * 5ull > s->cap * 4ull && seg_grow(s) < 0)
            return -1;
        uint32_t j = seg_find(s, addr, h);
        uint32_t *w = &s->w[(size_t)j * 3];
        if (!slot_empty(w)) {
            slot_unpack(w, &prev);
        } else if (big_del(&m->big, addr, &prev)) {
            /* It moves from the overflow table: the count stays. */
            s->count++;
        } else {
            s->count++;
            m->count++;
        }
        slot_pack(w, addr, size, aux);
        if (old)
            *old = prev;
        return 0;
    }
    rw_addrmap_big *b = &m->big;
    if ((b->count + 1) * 4 > (b->slots ? b->mask + 1 : 0) * 3 && big_grow(b) < 0)
        return -1;
    size_t j = big_find(b, addr);
    if (b->slots[j].addr) {
        prev = b->slots[j];
    } else {
        b->count++;
        if (!seg_del(&m->seg[h >> 56], addr, h, &prev))
            m->count++;
    }
    b->slots[j] = (rw_addrmap_ent){addr, size, aux};
    if (old)
        *old = prev;
    return 0;
}

int rw_addrmap_del(rw_addrmap *m, uint64_t addr, rw_addrmap_ent *out)
{
    int had;
    if (!addr) {
        had = m->has_zero;
        if (had && out)
            *out = m->zero;
        m->has_zero = 0;
    } else {
        uint64_t h = hash(addr);
        had = (addr < RW_ADDRMAP_COMPACT_ADDR && seg_del(&m->seg[h >> 56], addr, h, out)) ||
              big_del(&m->big, addr, out);
    }
    m->count -= (size_t)had;
    return had;
}

int rw_addrmap_get(const rw_addrmap *m, uint64_t addr, rw_addrmap_ent *out)
{
    if (!addr) {
        if (m->has_zero && out)
            *out = m->zero;
        return m->has_zero;
    }
    uint64_t h = hash(addr);
    const rw_addrmap_seg *s = &m->seg[h >> 56];
    if (addr < RW_ADDRMAP_COMPACT_ADDR && s->w) {
        const uint32_t *w = &s->w[(size_t)seg_find(s, addr, h) * 3];
        if (!slot_empty(w)) {
            if (out)
                slot_unpack(w, out);
            return 1;
        }
    }
    if (!m->big.count)
        return 0;
    size_t j = big_find(&m->big, addr);
    if (!m->big.slots[j].addr)
        return 0;
    if (out)
        *out = m->big.slots[j];
    return 1;
}

int rw_addrmap_next(const rw_addrmap *m, rw_addrmap_iter *it, rw_addrmap_ent *out)
{
    for (; it->seg < RW_ADDRMAP_SEGMENTS; it->seg++, it->slot = 0) {
        const rw_addrmap_seg *s = &m->seg[it->seg];
        for (; it->slot < s->cap; it->slot++) {
            const uint32_t *w = &s->w[it->slot * 3];
            if (!slot_empty(w)) {
                slot_unpack(w, out);
                it->slot++;
                return 1;
            }
        }
    }
    if (it->seg == RW_ADDRMAP_SEGMENTS) {
        const rw_addrmap_big *b = &m->big;
        for (; b->slots && it->slot <= b->mask; it->slot++)
            if (b->slots[it->slot].addr) {
                *out = b->slots[it->slot++];
                return 1;
            }
        it->seg++;
        it->slot = 0;
        if (m->has_zero) {
            *out = m->zero;
            return 1;
        }
    }
    return 0;
}

size_t rw_addrmap_bytes(const rw_addrmap *m)
{
    size_t n = m->big.slots ? (m->big.mask + 1) * sizeof *m->big.slots : 0;
    for (size_t i = 0; i < RW_ADDRMAP_SEGMENTS; i++)
        n += (size_t)m->seg[i].cap * 3 * sizeof *m->seg[i].w;
    return n;
}

int rw_addrmap_copy(rw_addrmap *dst, const rw_addrmap *src)
{
    *dst = *src;
    for (size_t i = 0; i < RW_ADDRMAP_SEGMENTS; i++)
        dst->seg[i].w = NULL;
    dst->big.slots = NULL;
    for (size_t i = 0; i < RW_ADDRMAP_SEGMENTS; i++) {
        size_t n = (size_t)src->seg[i].cap * 3 * sizeof *src->seg[i].w;
        if (!src->seg[i].w)
            continue;
        if (!(dst->seg[i].w = malloc(n)))
            goto fail;
        memcpy(dst->seg[i].w, src->seg[i].w, n);
    }
    if (src->big.slots) {
        size_t n = (src->big.mask + 1) * sizeof *src->big.slots;
        if (!(dst->big.slots = malloc(n)))
            goto fail;
        memcpy(dst->big.slots, src->big.slots, n);
    }
    return 0;
fail:
    rw_addrmap_fini(dst);
    return -1;
}
