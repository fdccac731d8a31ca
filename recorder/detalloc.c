/* detalloc's core (detalloc.h): a TLSF allocator over one reserved region.
 *
 * Layout: the region starts with the instance (struct rw_detalloc, its free-list heads
 * and bitmaps), then blocks side by side up to an end sentinel (a used block of size 0 in
 * the region's last page). Each block opens with a 16-byte header: the size of the block
 * before it (valid while that one is free) and its own size with two flags (free, previous
 * free). A free block keeps its free-list links in its first 16 payload bytes. At start
 * one free block spans the whole region: blocks are carved from the low end of the free
 * block that TLSF's good-fit search picks, so addresses depend only on the calls made.
 *
 * The region is reserved PROT_NONE and made read-write (committed) in 64 MiB steps as
 * the highest byte ever used (hwm) grows: no syscall on the usual path. Nothing at or
 * above hwm was ever written, so calloc skips it. A freed block of RELEASE_MIN or more
 * gives its whole pages back (MADV_DONTNEED): they read as zeros and cost no memory until
 * touched again. Syscalls are made directly (x86-64), never through the C library's
 * interposable mmap/mprotect/madvise, which rewind's input capture may wrap.
 *
 * Invariants (rw_detalloc_check): block sizes are multiples of 16, at least MIN_BLOCK,
 * and tile [first, sentinel) exactly; no two free blocks are neighbours; a block's
 * F_PREV_FREE flag equals its neighbour's F_FREE, and then its prev_size is that
 * neighbour's size; every free block is in the list of its size class and no other.
 */
#include "detalloc.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

enum {
    ALIGN_LOG2 = 4,
    ALIGN = 1 << ALIGN_LOG2,
    SL_LOG2 = 5, /* 32 size classes per power of two: at most 3% wasted by rounding */
    SL_COUNT = 1 << SL_LOG2,
    FL_SHIFT = SL_LOG2 + ALIGN_LOG2, /* sizes below 512 have one exact class each */
    FL_COUNT = 40,                   /* sizes below 2^48 */
    HDR = 16,
    MIN_BLOCK = 32, /* header + the two free-list links */
};
#define SMALL_BLOCK ((size_t)1 << FL_SHIFT)
#define F_FREE ((size_t)1)
#define F_PREV_FREE ((size_t)2)
#define F_MASK ((size_t)15)
#define PAGE ((uintptr_t)4096)
#define COMMIT_STEP ((uintptr_t)64 << 20)
#define RELEASE_MIN ((size_t)128 << 10)
#define MAX_RESERVE ((size_t)1 << 46)
#define MAX_REQUEST ((size_t)1 << 46)

typedef struct blk {
    size_t prev_size;       /* the previous block's size, valid while it is free */
    size_t size;            /* this block's size, header included, | F_FREE | F_PREV_FREE */
    struct blk *next_free;  /* free blocks only: the list of their size class */
    struct blk *prev_free;
} blk;

struct rw_detalloc {
    uintptr_t base; /* struct rw_detalloc_head: keep these two first */
    size_t reserve;
    atomic_int lock;     /* 1 while a thread works on the instance; guards all below */
    uintptr_t first;     /* the first block */
    uintptr_t sentinel;  /* the end sentinel's header (base + reserve - HDR) */
    uintptr_t commit_end; /* [base, commit_end) and the last page are read-write */
    uintptr_t hwm;       /* no byte in [hwm, the last page) was ever written */
    rw_detalloc_stats st;
    uint64_t fl_bitmap;             /* bit f: some list of first level f is not empty */
    uint32_t sl_bitmap[FL_COUNT];   /* bit s of [f]: heads[f][s] is not empty */
    blk *heads[FL_COUNT][SL_COUNT]; /* free lists by size class */
};

/* ---- system calls, direct ---- */

#if defined(__x86_64__)
static long sys6(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#define SYS(n, a1, a2, a3, a4, a5, a6)                                                    \
    sys6((n), (long)(a1), (long)(a2), (long)(a3), (long)(a4), (long)(a5), (long)(a6))
#else
static long sysret(long r)
{
    return r == -1 ? -errno : r;
}
#define SYS(n, a1, a2, a3, a4, a5, a6)                                                    \
    sysret(syscall((n), (long)(a1), (long)(a2), (long)(a3), (long)(a4), (long)(a5), (long)(a6)))
#endif

static long sys_mmap(uintptr_t addr, size_t len, int prot, int flags)
{
    return SYS(SYS_mmap, addr, len, prot, flags, -1, 0);
}
static int sys_munmap(uintptr_t addr, size_t len)
{
    return (int)SYS(SYS_munmap, addr, len, 0, 0, 0, 0);
}
static int sys_mprotect(uintptr_t addr, size_t len, int prot)
{
    return (int)SYS(SYS_mprotect, addr, len, prot, 0, 0, 0);
}
static int sys_madvise(uintptr_t addr, size_t len, int advice)
{
    return (int)SYS(SYS_madvise, addr, len, advice, 0, 0, 0);
}

/* ---- the lock ---- */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void lock_slow(rw_detalloc *a)
{
    for (;;) {
        for (int i = 0; i < 100; i++) {
            if (!atomic_load_explicit(&a->lock, memory_order_relaxed) &&
                !atomic_exchange_explicit(&a->lock, 1, memory_order_acquire))
                return;
            cpu_relax();
        }
        sched_yield(); /* the holder may be descheduled */
    }
}

static inline void lock(rw_detalloc *a)
{
    if (RW_UNLIKELY(atomic_exchange_explicit(&a->lock, 1, memory_order_acquire)))
        lock_slow(a);
}

static inline void unlock(rw_detalloc *a)
{
    atomic_store_explicit(&a->lock, 0, memory_order_release);
}

void rw_detalloc_lock(rw_detalloc *a)
{
    lock(a);
}

void rw_detalloc_unlock(rw_detalloc *a)
{
    unlock(a);
}

/* ---- blocks ---- */

static inline size_t bsize(const blk *b)
{
    return b->size & ~F_MASK;
}

static inline blk *at(uintptr_t p)
{
    return (blk *)p;
}

static inline blk *next_phys(const blk *b)
{
    return at((uintptr_t)b + bsize(b));
}

static inline void *payload(blk *b)
{
    return (char *)b + HDR;
}

static inline blk *hdr_of(const void *p)
{
    return at((uintptr_t)p - HDR);
}

static inline uintptr_t round_up(uintptr_t x, uintptr_t to)
{
    return (x + to - 1) & ~(to - 1);
}

static inline int msb(size_t x)
{
    return 63 - __builtin_clzll(x);
}

/* The size class of a block of size bytes. */
static inline void mapping(size_t size, int *fl, int *sl)
{
    if (size < SMALL_BLOCK) {
        *fl = 0;
        *sl = (int)(size >> ALIGN_LOG2);
    } else {
        int m = msb(size);
        *sl = (int)((size >> (m - SL_LOG2)) ^ SL_COUNT);
        *fl = m - FL_SHIFT + 1;
    }
}

static void insert_free(rw_detalloc *a, blk *b)
{
    int fl, sl;
    mapping(bsize(b), &fl, &sl);
    blk *head = a->heads[fl][sl];
    b->next_free = head;
    b->prev_free = NULL;
    if (head)
        head->prev_free = b;
    a->heads[fl][sl] = b;
    a->fl_bitmap |= (uint64_t)1 << fl;
    a->sl_bitmap[fl] |= (uint32_t)1 << sl;
}

static void remove_free(rw_detalloc *a, blk *b)
{
    int fl, sl;
    mapping(bsize(b), &fl, &sl);
    blk *next = b->next_free, *prev = b->prev_free;
    if (next)
        next->prev_free = prev;
    if (prev) {
        prev->next_free = next;
    } else {
        a->heads[fl][sl] = next;
        if (!next) {
            a->sl_bitmap[fl] &= ~((uint32_t)1 << sl);
            if (!a->sl_bitmap[fl])
                a->fl_bitmap &= ~((uint64_t)1 << fl);
        }
    }
}

/* A free block of at least size bytes (size a block size), or NULL. Good fit: the
 * size is rounded up to its class's upper bound, so any block of the class found fits. */
static blk *find(rw_detalloc *a, size_t size)
{
    if (size >= SMALL_BLOCK)
        size += ((size_t)1 << (msb(size) - SL_LOG2)) - 1;
    int fl, sl;
    mapping(size, &fl, &sl);
    if (fl >= FL_COUNT)
        return NULL;
    uint32_t sl_map = a->sl_bitmap[fl] & (~(uint32_t)0 << sl);
    if (!sl_map) {
        uint64_t fl_map = fl + 1 < 64 ? a->fl_bitmap & (~(uint64_t)0 << (fl + 1)) : 0;
        if (!fl_map)
            return NULL;
        fl = __builtin_ctzll(fl_map);
        sl_map = a->sl_bitmap[fl];
    }
    return a->heads[fl][__builtin_ctz(sl_map)];
}

/* The size of the block that holds n bytes, or 0 when n is too large. */
static inline size_t block_size(size_t n)
{
    if (RW_UNLIKELY(n > MAX_REQUEST))
        return 0;
    size_t s = (n + HDR + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    return s < MIN_BLOCK ? MIN_BLOCK : s;
}

/* The end of what carving a block of size s from [b, b + total) writes. */
static inline uintptr_t need_for(const blk *b, size_t total, size_t s)
{
    return total - s >= MIN_BLOCK ? (uintptr_t)b + s + MIN_BLOCK : (uintptr_t)b + total + HDR;
}

/* Makes [.., need) writable and raises hwm to need. 0 when the kernel refuses. */
static int grow(rw_detalloc *a, uintptr_t need)
{
    if (need > a->commit_end) {
        uintptr_t last_page = a->base + a->reserve - PAGE;
        uintptr_t to = a->base + round_up(need - a->base, COMMIT_STEP);
        if (to > last_page)
            to = last_page;
        if (need > to + PAGE)
            return 0; /* cannot happen: blocks end at the sentinel */
        if (to > a->commit_end) {
            if (sys_mprotect(a->commit_end, to - a->commit_end, PROT_READ | PROT_WRITE) != 0)
                return 0;
            a->commit_end = to;
        }
    }
    a->hwm = need;
    return 1;
}

/* [b, b + total) (not in any list, the bytes need_for names writable) becomes a used
 * block of size s, and what is left after it a free block when it is large enough. */
static void carve(rw_detalloc *a, blk *b, size_t total, size_t s)
{
    size_t prev_flag = b->size & F_PREV_FREE;
    if (total - s >= MIN_BLOCK) {
        blk *r = at((uintptr_t)b + s);
        r->size = (total - s) | F_FREE;
        b->size = s | prev_flag;
        insert_free(a, r);
        blk *n = next_phys(r);
        n->prev_size = total - s; /* n's F_PREV_FREE was set: [b, b+total) was free */
        n->size |= F_PREV_FREE;
    } else {
        b->size = total | prev_flag;
        next_phys(b)->size &= ~F_PREV_FREE;
    }
}

/* Turns used block b into a free one, merged with free neighbours, and lists it. */
static void free_block(rw_detalloc *a, blk *b)
{
    size_t size = bsize(b);
    blk *n = next_phys(b);
    if (b->size & F_PREV_FREE) {
        blk *p = at((uintptr_t)b - b->prev_size);
        remove_free(a, p);
        size += bsize(p);
        b = p;
    }
    if (n->size & F_FREE) {
        remove_free(a, n);
        size += bsize(n);
        n = next_phys(n);
    }
    b->size = size | F_FREE; /* the block before a free block is never free */
    n->prev_size = size;
    n->size |= F_PREV_FREE;
    insert_free(a, b);
}

/* Gives the whole pages of [lo, hi) back to the kernel; they then read as zeros. */
static void release_range(rw_detalloc *a, uintptr_t lo, uintptr_t hi, int counted)
{
    lo = round_up(lo, PAGE);
    hi &= ~(PAGE - 1);
    if (hi <= lo)
        return;
    sys_madvise(lo, hi - lo, MADV_DONTNEED);
    if (counted) {
        a->st.releases++;
        a->st.released += hi - lo;
    }
}

/* Takes a block of size s, setting *fresh to the hwm before (bytes from there on are
 * zero). Needs the lock. */
static blk *take(rw_detalloc *a, size_t s, uintptr_t *fresh)
{
    blk *b = find(a, s);
    if (RW_UNLIKELY(!b))
        return NULL;
    size_t total = bsize(b);
    uintptr_t need = need_for(b, total, s);
    *fresh = a->hwm;
    if (RW_UNLIKELY(need > a->hwm) && !grow(a, need))
        return NULL;
    remove_free(a, b);
    carve(a, b, total, s);
    a->st.in_use += bsize(b);
    a->st.nlive++;
    return b;
}

/* ---- public ---- */

rw_code rw_detalloc_new(uintptr_t base, size_t reserve, rw_detalloc **out, rw_err *err)
{
    if (base % PAGE || reserve % PAGE || reserve < ((size_t)1 << 20) || reserve > MAX_RESERVE ||
        base + reserve < base)
        return rw_err_set(err, RW_EINVAL,
                          "detalloc: a region of %zu bytes at %#lx is not page-aligned or "
                          "not between 1 MiB and 64 TiB", reserve, (unsigned long)base);
    long m = sys_mmap(base, reserve, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE);
    if (m < 0 && m > -4096)
        return rw_err_set(err, RW_EIO, "detalloc: cannot reserve %zu bytes at %#lx: %s",
                          reserve, (unsigned long)base, strerror((int)-m));
    if ((uintptr_t)m != base) { /* a kernel before 4.17 takes the address as a hint */
        sys_munmap((uintptr_t)m, reserve);
        return rw_err_set(err, RW_EIO, "detalloc: cannot reserve %zu bytes at %#lx: taken",
                          reserve, (unsigned long)base);
    }
    uintptr_t last_page = base + reserve - PAGE;
    uintptr_t commit = base + COMMIT_STEP < last_page ? base + COMMIT_STEP : last_page;
    if (sys_mprotect(base, commit - base, PROT_READ | PROT_WRITE) != 0 ||
        sys_mprotect(last_page, PAGE, PROT_READ | PROT_WRITE) != 0) {
        sys_munmap(base, reserve);
        return rw_err_set(err, RW_ENOMEM, "detalloc: cannot commit memory at %#lx",
                          (unsigned long)base);
    }
    rw_detalloc *a = (rw_detalloc *)base; /* fresh pages: all zero */
    a->base = base;
    a->reserve = reserve;
    a->commit_end = commit;
    a->first = round_up(base + sizeof *a, 64);
    a->sentinel = base + reserve - HDR;
    blk *s = at(a->sentinel);
    blk *g = at(a->first);
    g->size = (a->sentinel - a->first) | F_FREE;
    s->prev_size = bsize(g);
    s->size = F_PREV_FREE; /* size 0, used: never merged, never handed out */
    insert_free(a, g);
    a->hwm = a->first + MIN_BLOCK;
    *out = a;
    return RW_OK;
}

void rw_detalloc_free(rw_detalloc *a)
{
    if (a)
        sys_munmap(a->base, a->reserve);
}

void *rw_detalloc_malloc(rw_detalloc *a, size_t n)
{
    size_t s = block_size(n);
    if (RW_UNLIKELY(!s))
        return NULL;
    uintptr_t fresh;
    lock(a);
    blk *b = take(a, s, &fresh);
    unlock(a);
    return b ? payload(b) : NULL;
}

/* Zeroes [p, p + n): writes the partial pages and gives the whole ones back. */
static void zero_range(rw_detalloc *a, char *p, size_t n)
{
    if (n < RELEASE_MIN) {
        memset(p, 0, n);
        return;
    }
    uintptr_t lo = round_up((uintptr_t)p, PAGE), hi = ((uintptr_t)p + n) & ~(PAGE - 1);
    memset(p, 0, lo - (uintptr_t)p);
    sys_madvise(lo, hi - lo, MADV_DONTNEED);
    memset((char *)hi, 0, (uintptr_t)p + n - hi);
    (void)a;
}

void *rw_detalloc_calloc(rw_detalloc *a, size_t nelem, size_t elsize)
{
    size_t n;
    if (__builtin_mul_overflow(nelem, elsize, &n))
        return NULL;
    size_t s = block_size(n);
    if (RW_UNLIKELY(!s))
        return NULL;
    uintptr_t fresh;
    lock(a);
    blk *b = take(a, s, &fresh);
    unlock(a);
    if (!b)
        return NULL;
    char *p = payload(b);
    if (fresh > (uintptr_t)p) {
        size_t dirty = fresh - (uintptr_t)p;
        zero_range(a, p, dirty < n ? dirty : n);
    }
    return p;
}

void *rw_detalloc_memalign(rw_detalloc *a, size_t align, size_t n)
{
    if (align <= ALIGN)
        return rw_detalloc_malloc(a, n);
    if (align & (align - 1) || align > ((size_t)1 << 30))
        return NULL;
    size_t s = block_size(n);
    if (RW_UNLIKELY(!s) || s > MAX_REQUEST)
        return NULL;
    size_t req = s + align + MIN_BLOCK;
    uintptr_t fresh;
    lock(a);
    blk *b = take(a, req, &fresh);
    if (!b) {
        unlock(a);
        return NULL;
    }
    uintptr_t p = (uintptr_t)payload(b), q = round_up(p, align);
    if (q != p && q - p < MIN_BLOCK)
        q += align;
    blk *c = b;
    if (q != p) { /* the piece before q goes back */
        c = hdr_of((void *)q);
        size_t lead = (uintptr_t)c - (uintptr_t)b;
        c->size = bsize(b) - lead;
        b->size = lead | (b->size & F_PREV_FREE);
        a->st.in_use -= lead;
        free_block(a, b); /* sets c's F_PREV_FREE */
    }
    if (bsize(c) - s >= MIN_BLOCK) { /* and the piece after the block */
        blk *r = at((uintptr_t)c + s);
        r->size = bsize(c) - s;
        a->st.in_use -= bsize(r);
        c->size = s | (c->size & F_PREV_FREE);
        free_block(a, r);
    }
    unlock(a);
    return (void *)q;
}

void rw_detalloc_dealloc(rw_detalloc *a, void *p)
{
    if (RW_UNLIKELY(!rw_detalloc_owns(a, p))) {
        free(p); /* NULL, or the C library's block from before the install */
        return;
    }
    blk *b = hdr_of(p);
    size_t size = bsize(b);
    int big = size >= RELEASE_MIN;
    if (RW_UNLIKELY(big)) /* still ours alone: no lock needed for the syscall */
        release_range(a, (uintptr_t)p + 2 * sizeof(void *), (uintptr_t)b + size, 0);
    lock(a);
    if (RW_UNLIKELY(big)) {
        a->st.releases++;
        a->st.released += ((((uintptr_t)b + size) & ~(PAGE - 1)) -
                           round_up((uintptr_t)p + 2 * sizeof(void *), PAGE));
    }
    a->st.in_use -= size;
    a->st.nlive--;
    free_block(a, b);
    unlock(a);
}

void *rw_detalloc_realloc(rw_detalloc *a, void *p, size_t n)
{
    if (!p)
        return rw_detalloc_malloc(a, n);
    if (RW_UNLIKELY(!rw_detalloc_owns(a, p)))
        return realloc(p, n);
    size_t s = block_size(n);
    if (RW_UNLIKELY(!s))
        return NULL;
    blk *b = hdr_of(p);
    size_t cur = bsize(b);
    if (s <= cur) {
        if (cur - s < MIN_BLOCK)
            return p;
        /* Shrink in place: the tail becomes a free block (merged with the next). */
        lock(a);
        blk *r = at((uintptr_t)b + s);
        r->size = cur - s;
        b->size = s | (b->size & F_PREV_FREE);
        a->st.in_use -= cur - s;
        if (cur - s >= RELEASE_MIN)
            release_range(a, (uintptr_t)r + MIN_BLOCK, (uintptr_t)r + (cur - s), 1);
        free_block(a, r);
        unlock(a);
        return p;
    }
    lock(a);
    blk *nx = next_phys(b);
    if ((nx->size & F_FREE) && cur + bsize(nx) >= s) {
        /* Grow in place into the free block after. */
        size_t total = cur + bsize(nx);
        uintptr_t need = need_for(b, total, s);
        if (need <= a->hwm || grow(a, need)) {
            remove_free(a, nx);
            carve(a, b, total, s);
            a->st.in_use += bsize(b) - cur;
            unlock(a);
            return p;
        }
    }
    unlock(a);
    void *q = rw_detalloc_malloc(a, n);
    if (!q)
        return NULL;
    memcpy(q, p, cur - HDR);
    rw_detalloc_dealloc(a, p);
    return q;
}

size_t rw_detalloc_usable_size(const rw_detalloc *a, const void *p)
{
    (void)a;
    return bsize(hdr_of(p)) - HDR;
}

void rw_detalloc_get_stats(rw_detalloc *a, rw_detalloc_stats *st)
{
    lock(a);
    *st = a->st;
    st->committed = a->commit_end - a->base;
    st->high_water = a->hwm - a->base;
    unlock(a);
}

#define BAD(...)                                                                           \
    do {                                                                                   \
        snprintf(why, cap, __VA_ARGS__);                                                   \
        unlock(a);                                                                         \
        return -1;                                                                         \
    } while (0)

int rw_detalloc_check(rw_detalloc *a, char *why, size_t cap)
{
    lock(a);
    size_t nfree = 0, nlive = 0, in_use = 0;
    int prev_free = 0;
    size_t prev_size = 0;
    uintptr_t p = a->first;
    while (p < a->sentinel) {
        blk *b = at(p);
        size_t sz = bsize(b);
        if (sz < MIN_BLOCK || sz % ALIGN || p + sz > a->sentinel)
            BAD("block at %#lx: bad size %zu", (unsigned long)p, sz);
        if (!!(b->size & F_PREV_FREE) != prev_free)
            BAD("block at %#lx: previous-free flag %d, previous block free %d",
                (unsigned long)p, !!(b->size & F_PREV_FREE), prev_free);
        if (prev_free && b->prev_size != prev_size)
            BAD("block at %#lx: prev_size %zu, previous block's size %zu", (unsigned long)p,
                b->prev_size, prev_size);
        int is_free = !!(b->size & F_FREE);
        if (is_free && prev_free)
            BAD("block at %#lx: two free blocks side by side", (unsigned long)p);
        if (is_free) {
            nfree++;
            int fl, sl, found = 0;
            mapping(sz, &fl, &sl);
            for (blk *f = a->heads[fl][sl]; f && !found; f = f->next_free)
                found = f == b;
            if (!found)
                BAD("free block at %#lx of size %zu is not in its list", (unsigned long)p, sz);
        } else {
            nlive++;
            in_use += sz;
        }
        prev_free = is_free;
        prev_size = sz;
        p += sz;
    }
    if (p != a->sentinel)
        BAD("blocks end at %#lx, not at the sentinel", (unsigned long)p);
    blk *s = at(a->sentinel);
    if (bsize(s) != 0 || (s->size & F_FREE) || !!(s->size & F_PREV_FREE) != prev_free)
        BAD("sentinel damaged");
    size_t listed = 0;
    for (int fl = 0; fl < FL_COUNT; fl++) {
        if (!!(a->fl_bitmap & ((uint64_t)1 << fl)) != !!a->sl_bitmap[fl])
            BAD("first-level bitmap disagrees at %d", fl);
        for (int sl = 0; sl < SL_COUNT; sl++) {
            blk *h = a->heads[fl][sl];
            if (!!(a->sl_bitmap[fl] & ((uint32_t)1 << sl)) != !!h)
                BAD("second-level bitmap disagrees at %d/%d", fl, sl);
            for (blk *f = h, *prev = NULL; f; prev = f, f = f->next_free) {
                int ffl, fsl;
                mapping(bsize(f), &ffl, &fsl);
                if (!(f->size & F_FREE) || ffl != fl || fsl != sl || f->prev_free != prev)
                    BAD("list %d/%d: block at %#lx misplaced", fl, sl, (unsigned long)f);
                listed++;
            }
        }
    }
    if (listed != nfree)
        BAD("%zu blocks listed, %zu free blocks", listed, nfree);
    if (nlive != a->st.nlive || in_use != a->st.in_use)
        BAD("counters: %zu live blocks of %zu bytes, counted %zu of %zu", nlive, in_use,
            a->st.nlive, a->st.in_use);
    if (a->hwm > a->commit_end + PAGE && a->hwm < a->base + a->reserve - PAGE)
        BAD("hwm %#lx above the committed end %#lx", (unsigned long)a->hwm,
            (unsigned long)a->commit_end);
    unlock(a);
    return 0;
}

/* ---- address-space randomisation ---- */

#include <sys/personality.h>

/* Whether randomisation was off when this image started: written once by
 * rw_detalloc_no_aslr_reexec (one thread, at start), read after. -1: not asked. */
static int aslr_was_off = -1;

static int persona(void)
{
    return (int)SYS(SYS_personality, 0xffffffffUL, 0, 0, 0, 0, 0);
}

void rw_detalloc_no_aslr_reexec(char **argv)
{
    extern char **environ;
    int p = persona();
    if (p < 0) {
        aslr_was_off = 0;
        return;
    }
    if (p & ADDR_NO_RANDOMIZE) {
        /* This image is laid out without randomisation. Programs that this one starts
         * get it back, as they would under python3 (a recorded child that is followed
         * re-executes itself). */
        aslr_was_off = 1;
        SYS(SYS_personality, (unsigned long)(p & ~ADDR_NO_RANDOMIZE), 0, 0, 0, 0, 0);
        return;
    }
    aslr_was_off = 0;
    if (SYS(SYS_personality, (unsigned long)(p | ADDR_NO_RANDOMIZE), 0, 0, 0, 0, 0) < 0)
        return;
    int now = persona();
    if (now >= 0 && (now & ADDR_NO_RANDOMIZE)) /* a seccomp filter may say yes and not do it */
        SYS(SYS_execve, "/proc/self/exe", argv, environ, 0, 0, 0);
    SYS(SYS_personality, (unsigned long)p, 0, 0, 0, 0, 0); /* not re-executed: put it back */
}

int rw_detalloc_aslr_off(void)
{
    if (aslr_was_off < 0) {
        int p = persona();
        return p >= 0 && (p & ADDR_NO_RANDOMIZE);
    }
    return aslr_was_off;
}
