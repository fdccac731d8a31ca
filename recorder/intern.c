/* Open-addressing hash tables (linear probing, load <= 1/2) for the recorder's
 * interning. Keys are never removed, so no tombstones are needed. */
#include "intern.h"

#include "sysalloc.h"

static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static uint64_t hash_ptr(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

static int str_grow(rw_strtab *t)
{
    size_t cap = t->cap ? t->cap * 2 : 64;
    char **keys = rw_sys_calloc(cap, sizeof *keys);
    uint32_t *ids = rw_sys_calloc(cap, sizeof *ids);
    if (!keys || !ids) {
        rw_sys_free(keys);
        rw_sys_free(ids);
        return 0;
    }
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->keys[i])
            continue;
        size_t j = hash_bytes(t->keys[i], strlen(t->keys[i])) & (cap - 1);
        while (keys[j])
            j = (j + 1) & (cap - 1);
        keys[j] = t->keys[i];
        ids[j] = t->ids[i];
    }
    rw_sys_free(t->keys);
    rw_sys_free(t->ids);
    t->keys = keys;
    t->ids = ids;
    t->cap = cap;
    return 1;
}

uint32_t rw_strtab_intern(rw_strtab *t, const char *text, size_t len, int *added)
{
    *added = 0;
    if ((t->n + 1) * 2 > t->cap && !str_grow(t))
        return 0;
    size_t j = hash_bytes(text, len) & (t->cap - 1);
    for (; t->keys[j]; j = (j + 1) & (t->cap - 1))
        if (!strncmp(t->keys[j], text, len) && t->keys[j][len] == '\0')
            return t->ids[j];
    char *k = rw_sys_malloc(len + 1);
    if (!k)
        return 0;
    memcpy(k, text, len);
    k[len] = '\0';
    t->keys[j] = k;
    t->ids[j] = (uint32_t)++t->n;
    *added = 1;
    return t->ids[j];
}

void rw_strtab_fini(rw_strtab *t)
{
    for (size_t i = 0; i < t->cap; i++)
        rw_sys_free(t->keys[i]);
    rw_sys_free(t->keys);
    rw_sys_free(t->ids);
    memset(t, 0, sizeof *t);
}

uint32_t rw_ptrtab_get(const rw_ptrtab *t, const void *key)
{
    if (!t->cap)
        return 0;
    for (size_t j = hash_ptr(key) & (t->cap - 1); t->keys[j]; j = (j + 1) & (t->cap - 1))
        if (t->keys[j] == key)
            return t->ids[j];
    return 0;
}

int rw_ptrtab_put(rw_ptrtab *t, const void *key, uint32_t id)
{
    if ((t->n + 1) * 2 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        const void **keys = rw_sys_calloc(cap, sizeof *keys);
        uint32_t *ids = rw_sys_calloc(cap, sizeof *ids);
        if (!keys || !ids) {
            rw_sys_free(keys);
            rw_sys_free(ids);
            return 0;
        }
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->keys[i])
                continue;
            size_t j = hash_ptr(t->keys[i]) & (cap - 1);
            while (keys[j])
                j = (j + 1) & (cap - 1);
            keys[j] = t->keys[i];
            ids[j] = t->ids[i];
        }
        rw_sys_free(t->keys);
        rw_sys_free(t->ids);
        t->keys = keys;
        t->ids = ids;
        t->cap = cap;
    }
    size_t j = hash_ptr(key) & (t->cap - 1);
    while (t->keys[j])
        j = (j + 1) & (t->cap - 1);
    t->keys[j] = key;
    t->ids[j] = id;
    t->n++;
    return 1;
}

void rw_ptrtab_fini(rw_ptrtab *t)
{
    rw_sys_free(t->keys);
    rw_sys_free(t->ids);
    memset(t, 0, sizeof *t);
}
