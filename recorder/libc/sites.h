/* A memo per call site: what a wrapper decided about the code that calls it, found once
 * per return address (dladdr and friends are too dear for every call) and kept. clock.c
 * remembers whether a clock read made without the GIL is OpenSSL's; crypto.c which
 * OpenSSL a RAND call should reach.
 *
 * Lookups take no lock (a slot's value is written before its address is published);
 * a new site is added under the table's lock, tried only: a signal handler may call a
 * wrapper while its thread adds a site, and a site not added is worked out again on its
 * next call. A full table works every new site out on every call. Sites are never
 * removed (a library unloaded and another loaded at its address would keep the first
 * one's answer: extension modules are not unloaded by CPython).
 *
 * Header-only, static inline: each user has its own table.
 */
#ifndef RW_LIBC_SITES_H
#define RW_LIBC_SITES_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define RW_SITES 128 /* sites a table keeps */

typedef struct rw_sites {
    _Atomic uintptr_t ret[RW_SITES]; /* return addresses, 0 for a free slot */
    void *value[RW_SITES];
    pthread_mutex_t lock; /* adds a site */
} rw_sites;

#define RW_SITES_INIT {.lock = PTHREAD_MUTEX_INITIALIZER}

/* The value kept for the call site at return address ret, or make(ret, arg)'s, kept
 * when there is room and the lock is free. */
static inline void *rw_sites_get(rw_sites *t, const void *ret,
                                 void *(*make)(uintptr_t ret, const void *arg), const void *arg)
{
    uintptr_t r = (uintptr_t)ret;
    size_t h = (size_t)((r * 0x9e3779b97f4a7c15u) >> 57) & (RW_SITES - 1);
    for (size_t i = 0; i < RW_SITES; i++) {
        size_t j = (h + i) & (RW_SITES - 1);
        uintptr_t at = atomic_load_explicit(&t->ret[j], memory_order_acquire);
        if (at == r)
            return t->value[j];
        if (at == 0) {
            void *v = make(r, arg);
            if (pthread_mutex_trylock(&t->lock) == 0) {
                if (atomic_load_explicit(&t->ret[j], memory_order_relaxed) == 0) {
                    t->value[j] = v;
                    atomic_store_explicit(&t->ret[j], r, memory_order_release);
                }
                pthread_mutex_unlock(&t->lock);
            }
            return v;
        }
    }
    return make(r, arg);
}

#endif
