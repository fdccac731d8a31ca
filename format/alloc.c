/* The writer side's allocator (alloc.h): libc's, with a failure switch for tests, and a
 * region of its own for a thread that works for a dying process. */
#include "alloc.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

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

static __thread int dying;

/* ---- a dying thread's region -----------------------------------------------------
 *
 * A thread that works for a process a signal is ending (alloc.h) takes no allocator
 * lock at all: the thread the signal interrupted may hold any of them, glibc's arena
 * locks or the AddressSanitizer allocator's size-class mutexes (a worker terminated
 * while its allocator filled a size class: the writer thread waited for that mutex
 * until the handler gave up, and the trace was left without its end: about 1
 * recording in 130 of test_exits' forkserver pool under ASan). Its blocks come from
 * one region of address space of its own, mapped by system call when first needed (no
 * interposed mmap, no allocator), bumped and never reused, so never locked: every
 * block is fresh, zeroed pages. A block knows its size (a header) for rw_realloc.
 * rw_free of a region block does nothing, from any thread, at any time (a process that
 * lived on after a closing request frees its writer's blocks later). */
#define REGION_SIZE ((size_t)256 << 20) /* address space; pages are touched as used */
#define REGION_ALIGN 16

typedef struct region_hdr {
    size_t size;
    size_t pad_; /* keeps blocks 16-byte aligned */
} region_hdr;

static uint8_t *_Atomic region_base; /* NULL: not mapped yet */
static _Atomic int region_failed;     /* the mapping failed: the old way (malloc) */
static _Atomic size_t region_used;

static uint8_t *region(void)
{
    uint8_t *b = atomic_load(&region_base);
    if (b || atomic_load(&region_failed))
        return b;
    long r = syscall(SYS_mmap, NULL, REGION_SIZE, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == -1 || (void *)r == MAP_FAILED) {
        atomic_store(&region_failed, 1);
        return NULL;
    }
    uint8_t *expected = NULL;
    if (!atomic_compare_exchange_strong(&region_base, &expected, (uint8_t *)r)) {
        syscall(SYS_munmap, (void *)r, REGION_SIZE); /* another dying thread mapped one */
        return expected;
    }
    return (uint8_t *)r;
}

static int in_region(const void *p)
{
    const uint8_t *b = atomic_load_explicit(&region_base, memory_order_relaxed);
    return b && (const uint8_t *)p >= b && (const uint8_t *)p < b + REGION_SIZE;
}

/* A zeroed block of n bytes from the region; NULL when it is full. */
static void *region_alloc(size_t n)
{
    uint8_t *b = atomic_load(&region_base);
    if (!b || n > REGION_SIZE)
        return NULL;
    size_t need = (sizeof(region_hdr) + n + REGION_ALIGN - 1) & ~(size_t)(REGION_ALIGN - 1);
    size_t at = atomic_fetch_add(&region_used, need);
    if (at > REGION_SIZE || need > REGION_SIZE - at)
        return NULL; /* out of memory, as malloc would say */
    region_hdr *h = (region_hdr *)(b + at);
    h->size = n;
    return h + 1;
}

/* Whether the calling thread's blocks come from the region: it is dying and the region
 * could be mapped (if not, malloc's, as before regions). */
static int from_region(void)
{
    return RW_UNLIKELY(dying) && region() != NULL;
}

/* A new block of n bytes, the region's or malloc's (not counted by must_fail). */
static void *take(size_t n)
{
    return from_region() ? region_alloc(n) : malloc(n);
}

static size_t region_size(const void *p)
{
    return ((const region_hdr *)p)[-1].size;
}

/* ---- the allocator ------------------------------------------------------------------ */

void *rw_malloc(size_t n)
{
    return must_fail() ? NULL : take(n);
}

void *rw_calloc(size_t n, size_t size)
{
    if (must_fail())
        return NULL;
    if (from_region()) /* fresh pages: zeroed */
        return size && n > SIZE_MAX / size ? NULL : region_alloc(n * size);
    return calloc(n, size);
}

size_t rw_pages_len(size_t n)
{
    /* Not sysconf: the recorder logs the program's sysconf calls as inputs, and a
     * block is mapped on the program's thread. */
    size_t unit = n >= RW_PAGES_HUGE ? RW_PAGES_HUGE : (size_t)getauxval(AT_PAGESZ);
    return (n + unit - 1) & ~(unit - 1);
}

void *rw_pages_alloc(size_t n)
{
    if (must_fail() || n == 0 || n > SIZE_MAX / 2 - RW_PAGES_HUGE)
        return NULL;
    size_t len = rw_pages_len(n);
    size_t over = len >= RW_PAGES_HUGE ? RW_PAGES_HUGE : 0; /* room to align */
    /* By system call: a dying thread may take these too (no allocator lock). */
    long r = syscall(SYS_mmap, NULL, len + over, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r == -1 || (void *)r == MAP_FAILED)
        return NULL;
    uint8_t *p = (uint8_t *)r;
    if (over) {
        uint8_t *at = (uint8_t *)(((uintptr_t)p + over - 1) & ~(uintptr_t)(over - 1));
        if (at > p)
            syscall(SYS_munmap, p, (size_t)(at - p));
        if (p + over > at)
            syscall(SYS_munmap, at + len, (size_t)(p + over - at));
        p = at;
        (void)syscall(SYS_madvise, p, len, MADV_HUGEPAGE); /* EINVAL without THP: fine */
    }
    return p;
}

void rw_pages_free(void *p, size_t n)
{
    if (p)
        syscall(SYS_munmap, p, rw_pages_len(n));
}

/* The blocks of malloc's a dying thread let go of, until rw_alloc_release: pointers in
 * pages from the region (malloc's when it has none). A block that finds no room is
 * left as it is (leaked). */
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
        defer_page *fresh = take(sizeof *fresh);
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
        rw_free(pg); /* the region's (nothing), or malloc's when there was no region */
        pg = next;
    }
}

int rw_alloc_in_region(const void *p)
{
    return p && in_region(p);
}

void *rw_realloc(void *p, size_t n)
{
    if (must_fail())
        return NULL;
    if (RW_UNLIKELY(dying) || (p && in_region(p))) {
        /* A new block (the region's when dying, else malloc's) and a copy; p stays
         * where it is. The size of a block of malloc's comes from its header
         * (malloc_usable_size: no lock for glibc, nor for ASan's size classes). */
        void *q = take(n);
        if (!p)
            return q;
        if (q) {
            size_t had = in_region(p) ? region_size(p) : malloc_usable_size(p);
            memcpy(q, p, had < n ? had : n);
            if (!in_region(p))
                defer(p); /* dying: freeing it could take the interrupted thread's lock */
        }
        return q;
    }
    return realloc(p, n);
}

char *rw_strdup(const char *s)
{
    if (must_fail())
        return NULL;
    if (from_region()) {
        size_t n = strlen(s) + 1;
        char *p = region_alloc(n);
        return p ? memcpy(p, s, n) : NULL;
    }
    return strdup(s);
}

void rw_free(void *p)
{
    if (!p || in_region(p))
        return;
    if (RW_LIKELY(!dying))
        free(p);
    else
        defer(p);
}

long rw_alloc_fail_after(long n)
{
    atomic_store_explicit(&budget, n < 0 ? -1 : n, memory_order_relaxed);
    return atomic_exchange_explicit(&made, 0, memory_order_relaxed);
}
