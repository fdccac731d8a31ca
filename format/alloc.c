/* The writer side's allocator (alloc.h): libc's, with a failure switch for tests. */
#include "alloc.h"

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

void *rw_realloc(void *p, size_t n)
{
    return must_fail() ? NULL : realloc(p, n);
}

char *rw_strdup(const char *s)
{
    return must_fail() ? NULL : strdup(s);
}

void rw_free(void *p)
{
    free(p);
}

long rw_alloc_fail_after(long n)
{
    atomic_store_explicit(&budget, n < 0 ? -1 : n, memory_order_relaxed);
    return atomic_exchange_explicit(&made, 0, memory_order_relaxed);
}
