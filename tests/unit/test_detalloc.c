/* Check suite for recorder/detalloc: random malloc/calloc/realloc/free with content
 * checks and the invariants walked, alignment, coalescing, pages given back, calloc's
 * zeros, the same calls giving the same addresses, foreign pointers, threads, the
 * region's bounds. Each test gets its own process (CK_FORK) and region. */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "detalloc.h"
#include "testutil.h"

/* Above AddressSanitizer's shadow memory and the process-wide region. */
#define BASE ((uintptr_t)0x300000000000ull)
#define BASE2 ((uintptr_t)0x310000000000ull)
#define RESERVE ((size_t)1 << 36)

static rw_detalloc *open_at(uintptr_t base, size_t reserve)
{
    rw_detalloc *a = NULL;
    rw_err err = {0};
    rw_code rc = rw_detalloc_new(base, reserve, &a, &err);
    ck_assert_msg(rc == RW_OK, "rw_detalloc_new: %s", err.msg);
    return a;
}

static void check_ok(rw_detalloc *a)
{
    char why[256] = "";
    ck_assert_msg(rw_detalloc_check(a, why, sizeof why) == 0, "%s", why);
}

/* xorshift64*: the same seed, the same sequence. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* A size for the stress: mostly small, some of obmalloc's 513..4K, a few large. */
static size_t rnd_size(uint64_t *s)
{
    uint64_t r = rnd(s);
    switch (r % 16) {
    case 0:
        return (size_t)(r >> 8) % (r & 0x100 ? (1u << 20) : (1u << 16)); /* up to 1 MiB */
    case 1:
    case 2:
        return 513 + (size_t)(r >> 8) % 8000;
    default:
        return (size_t)(r >> 8) % 512;
    }
}

static unsigned char tag_of(uintptr_t p, size_t i)
{
    return (unsigned char)((p >> 4) + i * 7);
}

static void fill(void *p, size_t n)
{
    unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        c[i] = tag_of((uintptr_t)p, i);
}

/* Checks the first n bytes still hold what fill(orig, n) wrote. */
static void expect(const void *p, const void *orig, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != tag_of((uintptr_t)orig, i))
            ck_abort_msg("block %p (was %p): byte %zu of %zu changed", p, orig, i, n);
}

/* Checks that n bytes at p are zero (no Check call per byte: each one writes to a pipe). */
static void expect_zero(const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i])
            ck_abort_msg("block %p: byte %zu of %zu is not zero", p, i, n);
}

typedef struct slot {
    void *p;
    void *orig; /* the address its content was written for */
    size_t n;
} slot;

enum { NSLOTS = 512 };

/* Runs nops random operations with seed on a, keeping up to NSLOTS live blocks; writes
 * the address each allocation returned to addrs (when not NULL, nops entries). */
static void stress(rw_detalloc *a, uint64_t seed, int nops, uintptr_t *addrs, int check_every)
{
    static slot s[NSLOTS];
    memset(s, 0, sizeof s);
    for (int op = 0; op < nops; op++) {
        uint64_t r = rnd(&seed);
        slot *x = &s[r % NSLOTS];
        uintptr_t got = 0;
        if (x->p && (r >> 20) % 3 == 0) {
            expect(x->p, x->orig, x->n);
            size_t n = rnd_size(&seed);
            void *q = rw_detalloc_realloc(a, x->p, n);
            if (!q || (uintptr_t)q % 16)
                ck_abort_msg("realloc: %p", q);
            expect(q, x->orig, x->n < n ? x->n : n);
            fill(q, n);
            *x = (slot){q, q, n};
            got = (uintptr_t)q;
        } else if (x->p) {
            expect(x->p, x->orig, x->n);
            rw_detalloc_dealloc(a, x->p);
            x->p = NULL;
        } else {
            size_t n = rnd_size(&seed);
            void *q;
            if ((r >> 20) % 4 == 0) {
                q = rw_detalloc_calloc(a, 1, n);
                if (!q)
                    ck_abort_msg("calloc(%zu) failed", n);
                expect_zero(q, n);
            } else {
                q = rw_detalloc_malloc(a, n);
                if (!q)
                    ck_abort_msg("malloc(%zu) failed", n);
            }
            if ((uintptr_t)q % 16 || rw_detalloc_usable_size(a, q) < n)
                ck_abort_msg("block %p of %zu bytes", q, n);
            fill(q, n);
            *x = (slot){q, q, n};
            got = (uintptr_t)q;
        }
        if (addrs)
            addrs[op] = got;
        if (check_every && op % check_every == 0)
            check_ok(a);
    }
    for (int i = 0; i < NSLOTS; i++)
        if (s[i].p) {
            expect(s[i].p, s[i].orig, s[i].n);
            rw_detalloc_dealloc(a, s[i].p);
        }
    check_ok(a);
    rw_detalloc_stats st;
    rw_detalloc_get_stats(a, &st);
    ck_assert_uint_eq(st.in_use, 0);
    ck_assert_uint_eq(st.nlive, 0);
}

START_TEST(test_stress)
{
    rw_detalloc *a = open_at(BASE, RESERVE);
    stress(a, 0x9e3779b97f4a7c15ull, 20000, NULL, 97);
    rw_detalloc_free(a);
}
END_TEST

START_TEST(test_alignment_and_sizes)
{
    rw_detalloc *a = open_at(BASE, RESERVE);
    void *p[300];
    for (size_t n = 0; n < 300; n++) {
        p[n] = rw_detalloc_malloc(a, n * 13);
        ck_assert_ptr_nonnull(p[n]);
        ck_assert_uint_eq((uintptr_t)p[n] % 16, 0);
        ck_assert(rw_detalloc_owns(a, p[n]));
        ck_assert_uint_ge(rw_detalloc_usable_size(a, p[n]), n * 13);
        memset(p[n], 0xab, n * 13);
    }
    ck_assert_ptr_ne(p[0], p[1]); /* malloc(0): a unique block */
    for (size_t align = 32; align <= ((size_t)1 << 20); align <<= 1) {
        void *q = rw_detalloc_memalign(a, align, 1000);
        ck_assert_ptr_nonnull(q);
        ck_assert_uint_eq((uintptr_t)q % align, 0);
        memset(q, 1, 1000);
        check_ok(a);
        if (align % 64 == 0)
            rw_detalloc_dealloc(a, q);
    }
    ck_assert_ptr_null(rw_detalloc_memalign(a, 48, 10)); /* not a power of two */
    for (size_t n = 0; n < 300; n++)
        rw_detalloc_dealloc(a, p[n]);
    check_ok(a);
    rw_detalloc_free(a);
}
END_TEST

START_TEST(test_coalescing)
{
    rw_detalloc *a = open_at(BASE, RESERVE);
    char *x = rw_detalloc_malloc(a, 1000);
    char *y = rw_detalloc_malloc(a, 1000);
    char *z = rw_detalloc_malloc(a, 1000);
    char *w = rw_detalloc_malloc(a, 1000); /* keeps z's block from the big free one */
    ck_assert_ptr_eq(y, x + 1024);         /* side by side, 16-byte headers */
    ck_assert_ptr_eq(z, y + 1024);
    rw_detalloc_dealloc(a, x);
    rw_detalloc_dealloc(a, z);
    check_ok(a);
    rw_detalloc_dealloc(a, y); /* joins x and z: one free block of 3 x 1024 */
    check_ok(a);
    char *big = rw_detalloc_malloc(a, 3 * 1024 - 16);
    ck_assert_ptr_eq(big, x);
    rw_detalloc_dealloc(a, big);
    rw_detalloc_dealloc(a, w); /* everything free: one block again */
    check_ok(a);
    ck_assert_ptr_eq(rw_detalloc_malloc(a, 100), x);
    rw_detalloc_free(a);
}
END_TEST

START_TEST(test_realloc_in_place)
{
    rw_detalloc *a = open_at(BASE, RESERVE);
    char *p = rw_detalloc_malloc(a, 100);
    fill(p, 100);
    char *q = rw_detalloc_realloc(a, p, 100000); /* the free space after it */
    ck_assert_ptr_eq(q, p);
    expect(q, p, 100);
    char *r = rw_detalloc_malloc(a, 10);        /* now after q */
    char *s = rw_detalloc_realloc(a, q, 50000); /* shrinks in place */
    ck_assert_ptr_eq(s, p);
    check_ok(a);
    char *t = rw_detalloc_realloc(a, s, 60000); /* into the tail it gave back */
    ck_assert_ptr_eq(t, p);
    fill(t, 60000);
    char *u = rw_detalloc_realloc(a, t, 200000); /* r is in the way: moves */
    ck_assert_ptr_ne(u, p);
    expect(u, p, 60000);
    check_ok(a);
    rw_detalloc_dealloc(a, r);
    rw_detalloc_dealloc(a, u);
    check_ok(a);
    rw_detalloc_free(a);
}
END_TEST

/* How many of the pages of [p, p + n) are resident. */
static size_t resident(void *p, size_t n)
{
    long pg = sysconf(_SC_PAGESIZE);
    uintptr_t lo = (uintptr_t)p & ~(uintptr_t)(pg - 1);
    size_t npages = ((uintptr_t)p + n - lo + pg - 1) / pg;
    unsigned char *v = malloc(npages);
    ck_assert_int_eq(mincore((void *)lo, npages * pg, v), 0);
    size_t k = 0;
    for (size_t i = 0; i < npages; i++)
        k += v[i] & 1;
    free(v);
    return k;
}

START_TEST(test_pages_returned)
{
    rw_detalloc *a = open_at(BASE, RESERVE);
    size_t n = 8 << 20;
    char *p = rw_detalloc_malloc(a, n);
    char *guard = rw_detalloc_malloc(a, 16); /* so that p does not merge into the rest */
    memset(p, 0x5a, n);
    ck_assert_uint_ge(resident(p, n), n / 4096 - 1);
    rw_detalloc_dealloc(a, p);
    ck_assert_uint_le(resident(p, n), 2); /* the header's and the tail's pages */
    rw_detalloc_stats st;
    rw_detalloc_get_stats(a, &st);
    ck_assert_uint_ge(st.releases, 1);
    ck_assert_uint_ge(st.released, n - 8192);
    /* Small frees keep their pages. */
    char *s = rw_detalloc_malloc(a, 4000);
    memset(s, 1, 4000);
    rw_detalloc_dealloc(a, s);
    rw_detalloc_get_stats(a, &st);
    ck_assert_uint_eq(st.releases, 1);
    /* The pages come back as zeros, and calloc of the same block writes nothing big. */
    char *c = rw_detalloc_calloc(a, 1, n - 16); /* the class of p's block (good fit) */
    ck_assert_ptr_eq(c, p);
    ck_assert_uint_le(resident(c, n - 16), 2);
    expect_zero(c, n - 16);
    rw_detalloc_dealloc(a, c);
    rw_detalloc_dealloc(a, guard);
    check_ok(a);
    rw_detalloc_free(a);
}
END_TEST

START_TEST(test_calloc_zeroes_reused_memory)
{
    rw_detalloc *a = open_at(BASE, RESERVE);
    /* Fresh memory is not written: a huge calloc costs no resident pages. */
    size_t huge = (size_t)3 << 30; /* beyond one commit step, and more than we touch */
    char *h = rw_detalloc_calloc(a, 1, huge);
    ck_assert_ptr_nonnull(h);
    ck_assert_int_eq(h[huge - 1], 0);
    ck_assert_uint_le(resident(h, huge), 4);
    rw_detalloc_dealloc(a, h);
    /* Dirty small and mid-size blocks are zeroed. */
    for (size_t n = 16; n < ((size_t)1 << 20); n = n * 3 + 5) {
        char *p = rw_detalloc_malloc(a, n);
        memset(p, 0xee, n);
        rw_detalloc_dealloc(a, p);
        char *q = rw_detalloc_calloc(a, n, 1);
        ck_assert_ptr_eq(q, p);
        expect_zero(q, n);
        rw_detalloc_dealloc(a, q);
    }
    ck_assert_ptr_null(rw_detalloc_calloc(a, SIZE_MAX / 2, 3)); /* overflow */
    check_ok(a);
    rw_detalloc_free(a);
}
END_TEST

enum { NDET = 6000 };

START_TEST(test_same_calls_same_addresses)
{
    static uintptr_t one[NDET], two[NDET], three[NDET];
    rw_detalloc *a = open_at(BASE, RESERVE);
    /* Whatever else the process does in between must not matter. */
    void *noise = malloc(12345);
    stress(a, 42, NDET, one, 0);
    rw_detalloc_free(a);
    free(noise);
    void *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    a = open_at(BASE, RESERVE);
    stress(a, 42, NDET, two, 0);
    rw_detalloc_free(a);
    munmap(m, 1 << 20);
    ck_assert_mem_eq(one, two, sizeof one);
    /* At another base, the same offsets. */
    a = open_at(BASE2, RESERVE);
    stress(a, 42, NDET, three, 0);
    rw_detalloc_free(a);
    for (int i = 0; i < NDET; i++)
        ck_assert_uint_eq(one[i] ? one[i] - BASE : 0, three[i] ? three[i] - BASE2 : 0);
    /* A different sequence gives different addresses (the check above can fail). */
    a = open_at(BASE, RESERVE);
    stress(a, 43, NDET, two, 0);
    rw_detalloc_free(a);
    ck_assert(memcmp(one, two, sizeof one) != 0);
}
END_TEST

START_TEST(test_foreign_pointers)
{
    rw_detalloc *a = open_at(BASE, RESERVE);
    char *p = malloc(100);
    strcpy(p, "from the C library");
    ck_assert(!rw_detalloc_owns(a, p));
    char *q = rw_detalloc_realloc(a, p, 100000); /* stays the C library's */
    ck_assert_ptr_nonnull(q);
    ck_assert(!rw_detalloc_owns(a, q));
    ck_assert_str_eq(q, "from the C library");
    rw_detalloc_dealloc(a, q); /* the C library's free (ASan would see a leak otherwise) */
    rw_detalloc_dealloc(a, NULL);
    ck_assert(!rw_detalloc_owns(a, (void *)(BASE + RESERVE)));
    ck_assert(rw_detalloc_owns(a, (void *)(BASE + RESERVE - 1)));
    check_ok(a);
    rw_detalloc_free(a);
}
END_TEST

START_TEST(test_region_bounds)
{
    rw_err err = {0};
    rw_detalloc *a = open_at(BASE, (size_t)4 << 20), *b = NULL;
    ck_assert_int_eq(rw_detalloc_new(BASE, (size_t)4 << 20, &b, &err), RW_EIO); /* taken */
    ck_assert_ptr_null(b);
    ck_assert_int_eq(rw_detalloc_new(BASE + 1, (size_t)4 << 20, &b, &err), RW_EINVAL);
    ck_assert_int_eq(rw_detalloc_new(BASE2, 4096, &b, &err), RW_EINVAL);
    ck_assert_ptr_null(rw_detalloc_malloc(a, (size_t)8 << 20)); /* larger than the region */
    ck_assert_ptr_null(rw_detalloc_malloc(a, SIZE_MAX));
    /* Fill it, then empty it. */
    void *p[1024];
    int n = 0;
    while (n < 1024 && (p[n] = rw_detalloc_malloc(a, 100000)) != NULL) {
        memset(p[n], 7, 100000); /* every byte handed out is writable */
        n++;
    }
    ck_assert_int_gt(n, 30);
    ck_assert_int_lt(n, 1024);
    check_ok(a);
    for (int i = 0; i < n; i += 2)
        rw_detalloc_dealloc(a, p[i]);
    for (int i = 1; i < n; i += 2)
        rw_detalloc_dealloc(a, p[i]);
    check_ok(a);
    void *all = rw_detalloc_malloc(a, (size_t)4 << 20 >> 1);
    ck_assert_ptr_nonnull(all);
    rw_detalloc_free(a);
    /* Unmapped: the base can be had again. */
    a = open_at(BASE, (size_t)4 << 20);
    rw_detalloc_free(a);
}
END_TEST

typedef struct worker {
    rw_detalloc *a;
    uint64_t seed;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    slot s[64] = {{0}};
    for (int op = 0; op < 20000; op++) {
        uint64_t r = rnd(&w->seed);
        slot *x = &s[r % 64];
        if (x->p) {
            expect(x->p, x->orig, x->n);
            if ((r >> 20) % 2) {
                size_t n = rnd_size(&w->seed) % 5000;
                char *q = rw_detalloc_realloc(w->a, x->p, n);
                expect(q, x->orig, x->n < n ? x->n : n);
                fill(q, n);
                *x = (slot){q, q, n};
            } else {
                rw_detalloc_dealloc(w->a, x->p);
                x->p = NULL;
            }
        } else {
            size_t n = rnd_size(&w->seed) % 5000;
            char *q = rw_detalloc_malloc(w->a, n);
            fill(q, n);
            *x = (slot){q, q, n};
        }
    }
    for (int i = 0; i < 64; i++)
        rw_detalloc_dealloc(w->a, s[i].p);
    return NULL;
}

START_TEST(test_threads)
{
    rw_detalloc *a = open_at(BASE, RESERVE);
    pthread_t t[4];
    worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){a, 1000 + (uint64_t)i};
        ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    check_ok(a);
    rw_detalloc_stats st;
    rw_detalloc_get_stats(a, &st);
    ck_assert_uint_eq(st.nlive, 0);
    rw_detalloc_free(a);
}
END_TEST

START_TEST(test_commit_grows)
{
    rw_detalloc *a = open_at(BASE, RESERVE);
    rw_detalloc_stats st;
    rw_detalloc_get_stats(a, &st);
    size_t first = st.committed;
    char *p[3];
    for (int i = 0; i < 3; i++) {
        p[i] = rw_detalloc_malloc(a, 50 << 20);
        p[i][0] = 1;
        p[i][(50 << 20) - 1] = 1;
    }
    rw_detalloc_get_stats(a, &st);
    ck_assert_uint_gt(st.committed, first);
    ck_assert_uint_ge(st.high_water, (size_t)150 << 20);
    for (int i = 0; i < 3; i++)
        rw_detalloc_dealloc(a, p[i]);
    check_ok(a);
    rw_detalloc_free(a);
}
END_TEST

START_TEST(test_aslr_query)
{
    int off = rw_detalloc_aslr_off();
    ck_assert(off == 0 || off == 1);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_stress,          test_alignment_and_sizes,
                            test_coalescing,      test_realloc_in_place,
                            test_pages_returned,  test_calloc_zeroes_reused_memory,
                            test_same_calls_same_addresses, test_foreign_pointers,
                            test_region_bounds,   test_threads,
                            test_commit_grows,    test_aslr_query};
    return rw_test_main("detalloc", "core", 0, tests, RW_TEST_N(tests));
}
