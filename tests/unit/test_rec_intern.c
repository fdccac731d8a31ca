/* Check suite for recorder/intern: the text and pointer tables behind the trace's
 * definitions (defs.c). Ids must be dense from 1, stable across growth, and a text
 * must match on all its bytes, not on a prefix. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intern.h"
#include "testutil.h"

#define N 3000

START_TEST(test_strtab_dense_and_stable)
{
    rw_strtab t;
    memset(&t, 0, sizeof t);
    char buf[32];
    for (int i = 0; i < N; i++) {
        int added = -1;
        snprintf(buf, sizeof buf, "name-%d", i);
        ck_assert_uint_eq(rw_strtab_intern(&t, buf, strlen(buf), &added), (uint32_t)i + 1);
        ck_assert_int_eq(added, 1);
    }
    ck_assert_uint_eq(t.n, N);
    for (int i = N - 1; i >= 0; i--) { /* after every growth */
        int added = -1;
        snprintf(buf, sizeof buf, "name-%d", i);
        ck_assert_uint_eq(rw_strtab_intern(&t, buf, strlen(buf), &added), (uint32_t)i + 1);
        ck_assert_int_eq(added, 0);
    }
    ck_assert_uint_eq(t.n, N);
    rw_strtab_fini(&t);
    ck_assert_uint_eq(t.n, 0);
    ck_assert_ptr_null(t.keys);
}
END_TEST

START_TEST(test_strtab_length_not_prefix)
{
    rw_strtab t;
    memset(&t, 0, sizeof t);
    int added;
    const char *text = "abcdef";
    uint32_t ab = rw_strtab_intern(&t, text, 2, &added);      /* "ab", no NUL needed */
    uint32_t abc = rw_strtab_intern(&t, text, 3, &added);     /* "abc": not "ab" */
    uint32_t empty = rw_strtab_intern(&t, text, 0, &added);   /* "" is a text too */
    ck_assert_uint_eq(ab, 1);
    ck_assert_uint_eq(abc, 2);
    ck_assert_uint_eq(empty, 3);
    ck_assert_uint_eq(rw_strtab_intern(&t, "ab", 2, &added), ab);
    ck_assert_int_eq(added, 0);
    ck_assert_uint_eq(rw_strtab_intern(&t, "", 0, &added), empty);
    rw_strtab_fini(&t);
}
END_TEST

START_TEST(test_ptrtab)
{
    rw_ptrtab t;
    memset(&t, 0, sizeof t);
    static char keys[N];
    ck_assert_uint_eq(rw_ptrtab_get(&t, &keys[0]), 0); /* empty table */
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(rw_ptrtab_put(&t, &keys[i], (uint32_t)i + 1), 1);
    for (int i = 0; i < N; i++)
        ck_assert_uint_eq(rw_ptrtab_get(&t, &keys[i]), (uint32_t)i + 1);
    int local;
    ck_assert_uint_eq(rw_ptrtab_get(&t, &local), 0);
    rw_ptrtab_fini(&t);
    ck_assert_uint_eq(rw_ptrtab_get(&t, &keys[0]), 0);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_strtab_dense_and_stable, test_strtab_length_not_prefix,
                            test_ptrtab};
    return rw_test_main("rec_intern", "core", 0, tests, RW_TEST_N(tests));
}
