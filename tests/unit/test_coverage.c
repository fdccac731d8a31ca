/* Check suite for replayer/coverage.h's trace.py helpers: the docstring tokenizer
 * (trace's _find_strings), .cover formatting (write_results_file), module names and
 * the ignore rules, on small inputs whose expected results come from trace.py. */
#include "coverage.h"
#include "testutil.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* Runs the tokenizer over src and returns the marked lines as a string "1,3,4". */
static const char *strs(const char *src)
{
    static char out[256];
    uint8_t mark[64] = {0};
    rw_cov_docstrings(src, strlen(src), mark, sizeof mark);
    out[0] = 0;
    for (size_t l = 0; l < sizeof mark; l++)
        if (mark[l])
            snprintf(out + strlen(out), sizeof out - strlen(out), "%s%zu", out[0] ? "," : "", l);
    return out;
}

START_TEST(docstrings)
{
    /* Module docstring: the first token. */
    ck_assert_str_eq(strs("\"\"\"doc\"\"\"\nx = 1\n"), "1");
    /* Spanning lines: every line of the token. */
    ck_assert_str_eq(strs("'''a\nb\nc'''\nx = 1\n"), "1,2,3");
    /* After a comment or a blank line the first token is not the string (NL first). */
    ck_assert_str_eq(strs("# c\n\"doc\"\n"), "");
    ck_assert_str_eq(strs("\n\"doc\"\n"), "");
    /* Function and class docstrings follow INDENT, even after a comment line. */
    ck_assert_str_eq(strs("def f():\n    \"\"\"d\"\"\"\n    return 1\n"), "2");
    ck_assert_str_eq(strs("class C:\n    # c\n    r'''d\n    e'''\n    x = 1\n"), "3,4");
    /* A string that is not first in its block is not a docstring. */
    ck_assert_str_eq(strs("def f():\n    x = 1\n    \"no\"\n"), "");
    /* After a dedent: DEDENT comes first. */
    ck_assert_str_eq(strs("if x:\n    y = 1\n\"no\"\n"), "");
    /* Strings inside brackets and continued lines never follow INDENT. */
    ck_assert_str_eq(strs("def f():\n    return (\n        \"a\"\n    )\n"), "");
    /* Prefixes, escapes and quotes inside strings do not confuse it. */
    ck_assert_str_eq(strs("def f():\n    f\"x{1}\\\"\" 'y'\n    z = '#'\n"), "2");
    ck_assert_str_eq(strs("def f():\n    Rb'''\\'''\n'''\n"), "2,3");
    /* A name ending in a prefix letter is a name, not a string prefix. */
    ck_assert_str_eq(strs("def f():\n    x = bar'y'\n"), "");
    /* CRLF and lone CR line ends. */
    ck_assert_str_eq(strs("x = 1\r\ndef f():\r\n    'd'\r\n"), "3");
    ck_assert_str_eq(strs("x = 1\rdef f():\r    'd'\r"), "3");
}
END_TEST

START_TEST(count_lines)
{
    ck_assert_uint_eq(rw_cov_count_lines("", 0), 0);
    ck_assert_uint_eq(rw_cov_count_lines("a", 1), 1);
    ck_assert_uint_eq(rw_cov_count_lines("a\n", 2), 1);
    ck_assert_uint_eq(rw_cov_count_lines("a\r\nb\rc\n\n", 8), 4);
}
END_TEST

static char *cover(const char *src, const uint64_t *hits, const uint8_t *exec, size_t n,
                   int missing, size_t *nh, size_t *nl)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(rw_cov_write_cover(f, src, strlen(src), hits, exec, n, missing, nh, nl), 0);
    fclose(f);
    return buf;
}

START_TEST(cover_format)
{
    const char *src = "x = 1\nif x:\n\ty = 2  # pragma\nelse:\n    z = 3  #pragma NO COVER\n"
                      "    w = 4\n# end";
    uint64_t hits[8] = {0, 1, 12345, 1, 0, 0, 0, 0};
    uint8_t exec[8] = {0, 1, 1, 1, 0, 1, 1, 0};
    size_t nh, nl;
    char *out = cover(src, hits, exec, 8, 1, &nh, &nl);
    ck_assert_str_eq(out, "    1: x = 1\n"
                          "12345: if x:\n"
                          "    1:         y = 2  # pragma\n"
                          "       else:\n"
                          "           z = 3  #pragma NO COVER\n"
                          ">>>>>>     w = 4\n"
                          "       # end");
    ck_assert_uint_eq(nh, 3);
    ck_assert_uint_eq(nl, 4);
    free(out);
    /* Without --missing nothing is marked and only hits count. */
    out = cover(src, hits, exec, 8, 0, &nh, &nl);
    ck_assert_ptr_nonnull(strstr(out, "\n           w = 4\n"));
    ck_assert_uint_eq(nl, 3);
    free(out);
    /* Tabs expand by characters, not bytes; CRLF becomes LF; lines past the arrays
     * are plain. */
    uint64_t h2[2] = {0, 0};
    uint8_t e2[2] = {0, 0};
    out = cover("\xc3\xa9\tx\r\nq\tr\n", h2, e2, 2, 1, &nh, &nl);
    ck_assert_str_eq(out, "       \xc3\xa9       x\n       q       r\n");
    free(out);
}
END_TEST

START_TEST(names)
{
    char buf[128];
    rw_cov_modname("/a/b/mod.py", buf, sizeof buf);
    ck_assert_str_eq(buf, "mod");
    rw_cov_modname("<frozen importlib._bootstrap>", buf, sizeof buf);
    ck_assert_str_eq(buf, "<frozen importlib");
    rw_cov_modname("/x/.hidden", buf, sizeof buf);
    ck_assert_str_eq(buf, ".hidden");
    const char *sp[] = {"/usr/lib/python3.11", "/home/u/proj", "/home/u", ""};
    rw_cov_fullmodname("/home/u/proj/pkg/mod.py", sp, 4, buf, sizeof buf);
    ck_assert_str_eq(buf, "pkg.mod");
    rw_cov_fullmodname("/usr/lib/python3.11/json/__init__.py", sp, 4, buf, sizeof buf);
    ck_assert_str_eq(buf, "json.__init__");
    rw_cov_fullmodname("/tmp/x/helper.py", sp, 4, buf, sizeof buf);
    ck_assert_str_eq(buf, "tmp.x.helper");
    rw_cov_fullmodname("/home/u/proj/pkg/noext", sp, 4, buf, sizeof buf);
    ck_assert_str_eq(buf, "pkg"); /* splitext on the dotted name, as trace does */
    rw_cov_funcname("bump", "Counter.bump", buf, sizeof buf);
    ck_assert_str_eq(buf, "Counter.bump");
    rw_cov_funcname("m", "Outer.Inner.m", buf, sizeof buf);
    ck_assert_str_eq(buf, "Inner.m");
    rw_cov_funcname("g", "f.<locals>.g", buf, sizeof buf);
    ck_assert_str_eq(buf, "g");
    rw_cov_funcname("<listcomp>", "C.<listcomp>", buf, sizeof buf);
    ck_assert_str_eq(buf, "<listcomp>");
    rw_cov_funcname("f", "f", buf, sizeof buf);
    ck_assert_str_eq(buf, "f");
}
END_TEST

START_TEST(ignore)
{
    const char *mods[] = {"spam"};
    const char *dirs[] = {"/usr/lib"};
    ck_assert_int_eq(rw_cov_ignored("/a/spam.py", "spam", mods, 1, dirs, 1), 1);
    ck_assert_int_eq(rw_cov_ignored("/a/x.py", "spam.eggs", mods, 1, dirs, 1), 1);
    ck_assert_int_eq(rw_cov_ignored("/a/spamx.py", "spamx", mods, 1, dirs, 1), 0);
    ck_assert_int_eq(rw_cov_ignored("/usr/lib/x.py", "x", mods, 1, dirs, 1), 1);
    ck_assert_int_eq(rw_cov_ignored("/usr/lib.py", "lib", mods, 1, dirs, 1), 0);
    ck_assert_int_eq(rw_cov_ignored("<string>", "<string>", NULL, 0, NULL, 0), 1);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {docstrings, count_lines, cover_format, names, ignore};
    return rw_test_main("coverage", "trace helpers", 0, tests, RW_TEST_N(tests));
}
