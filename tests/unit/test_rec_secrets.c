/* Check suite for recorder/secrets: which names and options are secret, and the
 * scrubbing of values, URL passwords and option values, at the buffer's bounds. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secrets.h"
#include "testutil.h"

static size_t scrub(char *buf, size_t cap)
{
    return rw_secrets_scrub(buf, strlen(buf), cap);
}

static void setup(void)
{
    static char *env[] = {"GITHUB_TOKEN=ghp_abcdef", "HOME=/root", "PGPASS=hunter22",
                          "DATABASE_URL=postgres://bob:s3cr3tpw@db/x", "SHORT_KEY=ab",
                          "PATH=/usr/bin", NULL};
    static char *argv[] = {"prog.py", "--password", "pw-from-argv", "--api-key=k-from-argv",
                           "--keyword", "notsecret", NULL};
    rw_secrets_init(env, 0, NULL, 0, 6, argv);
}

START_TEST(test_names)
{
    ck_assert(rw_secrets_name_is_secret("GITHUB_TOKEN", 12, 0, NULL, 0));
    ck_assert(rw_secrets_name_is_secret("db_pass", 7, 0, NULL, 0));
    ck_assert(rw_secrets_name_is_secret("SENTRY_DSN", 10, 0, NULL, 0));
    ck_assert(rw_secrets_name_is_secret("SLACK_WEBHOOK_URL", 17, 0, NULL, 0));
    ck_assert(!rw_secrets_name_is_secret("HOME", 4, 0, NULL, 0));
    ck_assert(!rw_secrets_name_is_secret("GITHUB_TOKEN", 12, 1, NULL, 0)); /* --keep-env */
    const char *extra[] = {"MY_*"};
    ck_assert(rw_secrets_name_is_secret("MY_THING", 8, 1, extra, 1));
}
END_TEST

START_TEST(test_options)
{
    char *argv[] = {"p", "--password", "x", "--api-key=y", "--keyword", "z", "--token", NULL};
    size_t keep;
    ck_assert(rw_secrets_arg_is_secret(argv, 2, &keep) && keep == 0);
    ck_assert(rw_secrets_arg_is_secret(argv, 3, &keep) && keep == strlen("--api-key="));
    ck_assert(!rw_secrets_arg_is_secret(argv, 5, &keep)); /* --keyword is no key */
    ck_assert(!rw_secrets_arg_is_secret(argv, 1, &keep));
}
END_TEST

START_TEST(test_values_and_urls)
{
    setup();
    char buf[256];
    strcpy(buf, "token ghp_abcdef and hunter22, home /root");
    scrub(buf, sizeof buf);
    ck_assert_str_eq(buf, "token <redacted> and <redacted>, home /root");
    strcpy(buf, "conn postgres://bob:s3cr3tpw@db/x then ftp://u:other@h/ and http://h/a:b@c");
    scrub(buf, sizeof buf);
    ck_assert_str_eq(buf, "conn postgres://bob:<redacted>@db/x then ftp://u:<redacted>@h/ and "
                          "http://h/a:b@c");
    strcpy(buf, "pw-from-argv k-from-argv notsecret ab");
    scrub(buf, sizeof buf);
    ck_assert_str_eq(buf, "<redacted> <redacted> notsecret ab"); /* "ab": too short */
    strcpy(buf, "('x', ['prog', '--token', 'abc123', \"--secret=zz9\", '--keyword', 'k'])");
    scrub(buf, sizeof buf);
    ck_assert_str_eq(buf, "('x', ['prog', '--token', '<redacted>', \"--secret=<redacted>\", "
                          "'--keyword', 'k'])");
}
END_TEST

START_TEST(test_bounds)
{
    setup();
    /* The mark is longer than the secret: the text grows, and is cut at cap - 1. */
    char buf[16];
    strcpy(buf, "x hunter22 yyy");
    size_t n = scrub(buf, sizeof buf);
    ck_assert_uint_eq(n, 15);
    ck_assert_str_eq(buf, "x <redacted> yy");
    strcpy(buf, "abc hunter22");
    n = scrub(buf, 8);
    ck_assert_uint_eq(n, 7);
    ck_assert_str_eq(buf, "abc <re");
    ck_assert(!strstr(buf, "hunter"));
    char one[1] = {'z'};
    ck_assert_uint_eq(rw_secrets_scrub(one, 1, 1), 0);
    ck_assert_uint_eq(rw_secrets_scrub(one, 0, 0), 0);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_names, test_options, test_values_and_urls, test_bounds};
    return rw_test_main("rec_secrets", "core", 0, tests, RW_TEST_N(tests));
}
