/* The writer side's allocator (alloc.h): libc's, with a failure switch for tests. */
#include "alloc.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* Allocations left before failing; < 0: never fail. made counts every attempt. */
static _Atomic long budget = -1;
static _Atomic long made;

/* 1 when this allocation must fail (the test hook is on and its budget is spent). */
static int must_fail(void)
{
    atomic_fetch_add_explicit(&made, 1, memory_order_relaxed);
    if (RW_LIKELY(atomic_load_explicit(&budget, memory_order_relaxed) < 0))
        return 0;
    long left = atomic_fetch_sub_explicit(&budget, 1, memory_order_relaxed);
    if (left > 0)
        return 0;
    atomic_store_explicit(&budget, 0, memory_order_relaxed); /* stays failing */
    return 1;
}

void *rw_malloc(size_t n)
{
    return must_fail() ? NULL : malloc(n);
}

void *rw_calloc(size_t n, size_t size)
{
    return must_fail() ? NULL : calloc(n, size);
}

static __thread int dying;

/* The blocks a dying thread let go of, until rw_alloc_release: pointers in pages of
 * their own, which the dying thread mallocs (in its own arena). A block that finds no
 * room (out of memory) is left as it is. */
typedef struct defer_page {
    struct defer_page *next;
    size_t n;
    void *p[510];
} defer_page;

static _Atomic(defer_page *) deferred;

static void defer(void *p)
{
    defer_page *pg = atomic_load(&deferred);
    if (!pg || pg->n == sizeof pg->p / sizeof pg->p[0]) {
        defer_page *fresh = malloc(sizeof *fresh);
        if (!fresh)
            return;
        fresh->n = 0;
        fresh->next = pg;
        pg = fresh;
        atomic_store(&deferred, pg); /* only dying threads push: one at a time */
    }
    pg->p[pg->n++] = p;
}

void rw_alloc_dying(int on)
{
    dying = on;
}

void rw_alloc_release(void)
{
    defer_page *pg = atomic_exchange(&deferred, NULL);
    while (pg) {
        defer_page *next = pg->next;
        for (size_t i = 0; i < pg->n; i++)
            free(pg->p[i]);
        free(pg);
        pg = next;
    }
}

void *rw_realloc(void *p, size_t n)
{
    if (must_fail())
        return NULL;
    if (RW_UNLIKELY(dying) && p) {
        void *q = malloc(n); /* this thread's arena; p is left where it is */
        if (q) {
            size_t had = malloc_usable_size(p); /* reads p's header: no lock */
            memcpy(q, p, had < n ? had : n);
            defer(p);
        }
        return q;
    }
    return realloc(p, n);
}

char *rw_strdup(const char *s)
{
    return must_fail() ? NULL : strdup(s);
}

void rw_free(void *p)
{
    if (RW_LIKELY(!dying))
        free(p);
    else if (p)
        defer(p);
}

long rw_alloc_fail_after(long n)
{
    atomic_store_explicit(&budget, n < 0 ? -1 : n, memory_order_relaxed);
    return atomic_exchange_explicit(&made, 0, memory_order_relaxed);
}
