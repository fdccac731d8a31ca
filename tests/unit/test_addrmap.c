/* Check suite for replayer/addrmap: random puts and deletes against a plain model. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "addrmap.h"
#include "testutil.h"

#define N 5000

START_TEST(test_against_model)
{
    static uint64_t model[N]; /* size+1 of address (i+1)*16, 0 = absent */
    memset(model, 0, sizeof model);
    rw_addrmap m;
    ck_assert_int_eq(rw_addrmap_init(&m), 0);
    unsigned seed = 42;
    size_t count = 0;
    for (int step = 0; step < 200000; step++) {
        seed = seed * 1103515245u + 12345u;
        size_t i = (seed >> 8) % N;
        uint64_t addr = (uint64_t)(i + 1) * 16;
        if ((seed >> 4) & 1) {
            rw_addrmap_ent old;
            ck_assert_int_eq(rw_addrmap_put(&m, addr, step, i, &old), 0);
            ck_assert_uint_eq(old.addr != 0, model[i] != 0);
            if (old.addr)
                ck_assert_uint_eq(old.size + 1, model[i]);
            count += !model[i];
            model[i] = (uint64_t)step + 1;
        } else {
            rw_addrmap_ent out;
            int had = rw_addrmap_del(&m, addr, &out);
            ck_assert_int_eq(had, model[i] != 0);
            if (had) {
                ck_assert_uint_eq(out.size + 1, model[i]);
                ck_assert_uint_eq(out.aux, i);
                count--;
            }
            model[i] = 0;
        }
        ck_assert_uint_eq(m.count, count);
    }
    for (size_t i = 0; i < N; i++) {
        rw_addrmap_ent e;
        int got = rw_addrmap_get(&m, (uint64_t)(i + 1) * 16, &e);
        ck_assert_int_eq(got, model[i] != 0);
        if (got)
            ck_assert_uint_eq(e.size + 1, model[i]);
    }
    rw_addrmap copy;
    ck_assert_int_eq(rw_addrmap_copy(&copy, &m), 0);
    ck_assert_uint_eq(copy.count, m.count);
    rw_addrmap_fini(&copy);
    rw_addrmap_fini(&m);
}
END_TEST

/* Entries that do not pack in 12 bytes (address 0, addresses of 48 bits and more,
 * sizes and payloads of 24 bits and more) against a model, moving between the
 * segments and the overflow table as they are replaced. */
#define M 3000
START_TEST(test_overflow_against_model)
{
    static const uint64_t addrs[] = {0, 16, 1ull << 47, (1ull << 48) - 16, 1ull << 48,
                                     UINT64_MAX, 0x7f0000001230ull};
    static const uint64_t vals[] = {0, 1, (1u << 24) - 1, 1u << 24, UINT64_MAX};
    enum { NA = sizeof addrs / sizeof addrs[0], NV = sizeof vals / sizeof vals[0] };
    static uint64_t msize[M], maux[M];
    static int live[M];
    memset(live, 0, sizeof live);
    rw_addrmap m;
    ck_assert_int_eq(rw_addrmap_init(&m), 0);
    unsigned seed = 7;
    size_t count = 0;
    for (int step = 0; step < 100000; step++) {
        seed = seed * 1103515245u + 12345u;
        size_t i = (seed >> 8) % M;
        /* Key i: one of the special addresses, or an ordinary one. */
        uint64_t addr = i < NA ? addrs[i] : (uint64_t)i * 48 + (i % 3 ? 0 : 1ull << 50);
        rw_addrmap_ent e;
        if ((seed >> 4) & 1) {
            uint64_t size = vals[(seed >> 12) % NV] ^ (uint64_t)(step % 7);
            uint64_t aux = vals[(seed >> 16) % NV] ^ (uint64_t)(step % 5);
            size_t before = m.count;
            ck_assert_int_eq(rw_addrmap_put(&m, addr, size, aux, &e), 0);
            ck_assert_uint_eq(m.count, before + !live[i]);
            if (live[i]) {
                ck_assert_uint_eq(e.addr, addr);
                ck_assert_uint_eq(e.size, msize[i]);
                ck_assert_uint_eq(e.aux, maux[i]);
            }
            count += !live[i];
            live[i] = 1;
            msize[i] = size;
            maux[i] = aux;
        } else {
            int had = rw_addrmap_del(&m, addr, &e);
            ck_assert_int_eq(had, live[i]);
            if (had) {
                ck_assert_uint_eq(e.size, msize[i]);
                ck_assert_uint_eq(e.aux, maux[i]);
                count--;
            }
            live[i] = 0;
        }
        ck_assert_uint_eq(m.count, count);
    }
    /* Lookups, then an iteration that meets every live key once. */
    static int seen[M];
    memset(seen, 0, sizeof seen);
    for (size_t i = 0; i < M; i++) {
        uint64_t addr = i < NA ? addrs[i] : (uint64_t)i * 48 + (i % 3 ? 0 : 1ull << 50);
        rw_addrmap_ent e;
        ck_assert_int_eq(rw_addrmap_get(&m, addr, &e), live[i]);
        if (live[i]) {
            ck_assert_uint_eq(e.size, msize[i]);
            ck_assert_uint_eq(e.aux, maux[i]);
        }
    }
    rw_addrmap_iter it = {0};
    rw_addrmap_ent e;
    size_t n = 0;
    rw_addrmap copy;
    ck_assert_int_eq(rw_addrmap_copy(&copy, &m), 0);
    while (rw_addrmap_next(&copy, &it, &e)) {
        size_t i = 0;
        while (i < M && (i < NA ? addrs[i] : (uint64_t)i * 48 + (i % 3 ? 0 : 1ull << 50)) !=
                            e.addr)
            i++;
        ck_assert_uint_lt(i, M);
        ck_assert(live[i] && !seen[i]);
        ck_assert_uint_eq(e.size, msize[i]);
        seen[i] = 1;
        n++;
    }
    ck_assert_uint_eq(n, count);
    rw_addrmap_fini(&copy);
    rw_addrmap_fini(&m);
}
END_TEST

/* The point of the map: an entry of a Python block costs at most 24 bytes, at every
 * size past the first segments' minimum, with the entries allocated and freed in
 * the order a program would. */
START_TEST(test_bytes_per_entry)
{
    rw_addrmap m;
    ck_assert_int_eq(rw_addrmap_init(&m), 0);
    uint64_t base = 0x7f3a00000000ull;
    size_t n = 0;
    for (size_t target = 100000; target <= 2000000; target += 50000) {
        for (; n < target; n++)
            ck_assert_int_eq(rw_addrmap_put(&m, base + n * 16, 16 + n % 500, n % 1000, NULL),
                             0);
        ck_assert_uint_eq(m.count, n);
        double per = (double)rw_addrmap_bytes(&m) / (double)n;
        ck_assert_msg(per <= 24.0, "%zu entries: %.1f bytes each", n, per);
    }
    /* Freeing half keeps the rest. */
    for (size_t i = 0; i < n; i += 2)
        ck_assert_int_eq(rw_addrmap_del(&m, base + i * 16, NULL), 1);
    for (size_t i = 0; i < n; i++) {
        rw_addrmap_ent e;
        ck_assert_int_eq(rw_addrmap_get(&m, base + i * 16, &e), (int)(i & 1));
        if (i & 1) {
            ck_assert_uint_eq(e.size, 16 + i % 500);
            ck_assert_uint_eq(e.aux, i % 1000);
        }
    }
    rw_addrmap_fini(&m);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_against_model, test_overflow_against_model,
                            test_bytes_per_entry};
    return rw_test_main("addrmap", "core", 180, tests, RW_TEST_N(tests));
}
