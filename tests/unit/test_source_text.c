/* Check suite for replayer/source_text: both newline rules on a table of texts (the
 * expected lines are what Python gives: bytes.split(b"\n") without the empty piece
 * after a last "\n" for LF, universal-newline reading for UNIVERSAL), the walk, the
 * search and the index agreeing line by line, and every lookup bounded: line 0, a
 * line past the text, file 0, a file past the table, a file without its source. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "source_text.h"
#include "testutil.h"

typedef struct text_case {
    const char *text;
    rw_source_text_eol eol;
    const char *lines[6]; /* expected, NULL-terminated */
    size_t eols[6];       /* each line's end length */
} text_case;

static const text_case cases[] = {
    {"", RW_SOURCE_TEXT_LF, {NULL}, {0}},
    {"", RW_SOURCE_TEXT_UNIVERSAL, {NULL}, {0}},
    {"a", RW_SOURCE_TEXT_LF, {"a", NULL}, {0}},
    {"a\n", RW_SOURCE_TEXT_LF, {"a", NULL}, {1}},
    {"a\nb", RW_SOURCE_TEXT_LF, {"a", "b", NULL}, {1, 0}},
    {"\n\n", RW_SOURCE_TEXT_LF, {"", "", NULL}, {1, 1}},
    {"a\r\nb\r\n", RW_SOURCE_TEXT_LF, {"a\r", "b\r", NULL}, {1, 1}},
    {"a\r\nb\r\n", RW_SOURCE_TEXT_UNIVERSAL, {"a", "b", NULL}, {2, 2}},
    {"a\rb\r", RW_SOURCE_TEXT_LF, {"a\rb\r", NULL}, {0}},
    {"a\rb\r", RW_SOURCE_TEXT_UNIVERSAL, {"a", "b", NULL}, {1, 1}},
    {"\r\r\n\n", RW_SOURCE_TEXT_UNIVERSAL, {"", "", "", NULL}, {1, 2, 1}},
    {"x\r", RW_SOURCE_TEXT_UNIVERSAL, {"x", NULL}, {1}},
    {"\tdef f():\f\n  pass", RW_SOURCE_TEXT_UNIVERSAL, {"\tdef f():\f", "  pass", NULL}, {1, 0}},
};

static size_t nexpected(const text_case *c)
{
    size_t n = 0;
    while (c->lines[n])
        n++;
    return n;
}

static void check_line(const rw_source_text_line *l, const text_case *c, size_t i)
{
    ck_assert_uint_eq(l->len, strlen(c->lines[i]));
    ck_assert(memcmp(l->s, c->lines[i], l->len) == 0);
    ck_assert_uint_eq(l->eol_len, c->eols[i]);
}

START_TEST(test_walk_matches_python)
{
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const text_case *c = &cases[k];
        size_t len = strlen(c->text), n = nexpected(c), off = 0, i = 0;
        rw_source_text_line l;
        while (rw_source_text_next(c->text, len, c->eol, &off, &l)) {
            ck_assert_msg(i < n, "case %zu: more lines than %zu", k, n);
            check_line(&l, c, i);
            i++;
        }
        ck_assert_uint_eq(i, n);
        ck_assert_uint_eq(off, len);
        ck_assert_uint_eq(rw_source_text_count(c->text, len, c->eol), n);
    }
}
END_TEST

START_TEST(test_find_and_index_agree)
{
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const text_case *c = &cases[k];
        size_t len = strlen(c->text), n = nexpected(c);
        rw_source_text t;
        rw_err err;
        ck_assert_int_eq(rw_source_text_init(&t, c->text, len, c->eol, &err), RW_OK);
        ck_assert_uint_eq(t.n, n);
        rw_source_text_line a, b;
        for (size_t i = 0; i < n; i++) {
            ck_assert(rw_source_text_find(c->text, len, c->eol, i + 1, &a));
            ck_assert(rw_source_text_line_at(&t, i + 1, &b));
            check_line(&a, c, i);
            check_line(&b, c, i);
        }
        /* Bounded: line 0 and every line past the text find nothing. */
        ck_assert(!rw_source_text_find(c->text, len, c->eol, 0, &a));
        ck_assert(!rw_source_text_find(c->text, len, c->eol, n + 1, &a));
        ck_assert(!rw_source_text_find(c->text, len, c->eol, UINT64_MAX, &a));
        ck_assert(!rw_source_text_line_at(&t, 0, &b));
        ck_assert(!rw_source_text_line_at(&t, n + 1, &b));
        ck_assert(!rw_source_text_line_at(&t, UINT64_MAX, &b));
        rw_source_text_fini(&t);
        rw_source_text_fini(&t); /* twice is harmless */
    }
}
END_TEST

START_TEST(test_file_lookup_is_bounded)
{
    static const char src[] = "print(1)\n";
    Rewind__FileDef f0 = REWIND__FILE_DEF__INIT, f1 = REWIND__FILE_DEF__INIT,
                    f2 = REWIND__FILE_DEF__INIT;
    f1.id = 1;
    f1.path = "/x/a.py";
    f1.has_source = 1;
    f1.source.data = (uint8_t *)src;
    f1.source.len = sizeof src - 1;
    f2.id = 2;
    f2.path = "/x/b.py"; /* recorded without its source */
    Rewind__FileDef *files[] = {&f0, &f1, &f2};
    rw_defs d;
    memset(&d, 0, sizeof d);
    d.files = files;
    d.nfiles = 3;
    const char *text = NULL;
    size_t len = 0;
    ck_assert(rw_source_text_of_file(&d, 1, &text, &len));
    ck_assert_ptr_eq(text, src);
    ck_assert_uint_eq(len, sizeof src - 1);
    ck_assert(!rw_source_text_of_file(&d, 0, &text, &len));
    ck_assert(!rw_source_text_of_file(&d, 2, &text, &len));
    ck_assert(!rw_source_text_of_file(&d, 3, &text, &len));
    ck_assert(!rw_source_text_of_file(&d, UINT32_MAX, &text, &len));
    ck_assert(!rw_source_text_of_file(NULL, 1, &text, &len));
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_walk_matches_python, test_find_and_index_agree,
                            test_file_lookup_is_bounded};
    return rw_test_main("source_text", "core", 0, tests, RW_TEST_N(tests));
}
