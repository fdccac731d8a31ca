/* Check suite for replayer/addrmap: random puts and deletes against a plain model. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "addrmap.h"

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
        const rw_addrmap_ent *e = rw_addrmap_get(&m, (uint64_t)(i + 1) * 16);
        ck_assert_int_eq(e != NULL, model[i] != 0);
        if (e)
            ck_assert_uint_eq(e->size + 1, model[i]);
    }
    rw_addrmap copy;
    ck_assert_int_eq(rw_addrmap_copy(&copy, &m), 0);
    ck_assert_uint_eq(copy.count, m.count);
    rw_addrmap_fini(&copy);
    rw_addrmap_fini(&m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("addrmap");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_against_model);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
