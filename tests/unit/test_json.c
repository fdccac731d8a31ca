/* Check suite for replayer/json: whatever the bytes, the output is one JSON string in
 * strictly valid UTF-8 (checked by a validator written here, independently of the
 * module), and valid text comes back unchanged when the string is decoded. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "testutil.h"

/* Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing past U+10FFFF. */
static int strict_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t v, min;
        if ((c & 0xe0) == 0xc0) {
            len = 2, v = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, v = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, v = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (n - i < len)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            v = (v << 6) | (s[i + k] & 0x3f);
        }
        if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}

static void put_utf8(uint32_t v, char **o)
{
    unsigned char *p = (unsigned char *)*o;
    if (v < 0x80) {
        *p++ = (unsigned char)v;
    } else if (v < 0x800) {
        *p++ = (unsigned char)(0xc0 | (v >> 6));
        *p++ = (unsigned char)(0x80 | (v & 0x3f));
    } else {
        *p++ = (unsigned char)(0xe0 | (v >> 12));
        *p++ = (unsigned char)(0x80 | ((v >> 6) & 0x3f));
        *p++ = (unsigned char)(0x80 | (v & 0x3f));
    }
    *o = (char *)p;
}

/* Decodes the JSON string literal j (RFC 8259) into a new buffer, *len bytes; NULL
 * when j is not one (a raw control character, a bad escape, no quotes). */
static char *json_decode(const char *j, size_t jl, size_t *len)
{
    if (jl < 2 || j[0] != '"' || j[jl - 1] != '"')
        return NULL;
    char *out = malloc(jl * 3 + 1), *o = out;
    for (size_t i = 1; i < jl - 1; i++) {
        unsigned char c = (unsigned char)j[i];
        if (c < 0x20 || c == '"') {
            free(out);
            return NULL;
        }
        if (c != '\\') {
            *o++ = (char)c;
            continue;
        }
        if (++i >= jl - 1) {
            free(out);
            return NULL;
        }
        switch (j[i]) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            if (i + 4 >= jl - 1) {
                free(out);
                return NULL;
            }
            char hex[5] = {j[i + 1], j[i + 2], j[i + 3], j[i + 4], 0};
            char *end;
            unsigned long v = strtoul(hex, &end, 16);
            /* A surrogate escape would need its pair; the writer never emits one. */
            if (*end || (v >= 0xd800 && v <= 0xdfff)) {
                free(out);
                return NULL;
            }
            put_utf8((uint32_t)v, &o);
            i += 4;
            break;
        }
        default:
            free(out);
            return NULL;
        }
    }
    *len = (size_t)(o - out);
    return out;
}

/* Encodes s (n bytes) with rw_json_strn into a new buffer of *len bytes. */
static char *encode(const char *s, size_t n, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    ck_assert_ptr_nonnull(f);
    rw_json_strn(f, s, n);
    ck_assert_int_eq(fclose(f), 0);
    return buf;
}

/* Encodes s, checks the output, and returns it decoded (caller frees). */
static char *through(const char *s, size_t n, size_t *dl)
{
    size_t el;
    char *e = encode(s, n, &el);
    ck_assert_msg(strict_utf8((const unsigned char *)e, el), "output is not valid UTF-8: %s", e);
    char *d = json_decode(e, el, dl);
    ck_assert_msg(d != NULL, "output is not a JSON string: %s", e);
    free(e);
    ck_assert(strict_utf8((const unsigned char *)d, *dl));
    return d;
}

static void check_same(const char *s, size_t n)
{
    ck_assert(strict_utf8((const unsigned char *)s, n));
    size_t dl;
    char *d = through(s, n, &dl);
    ck_assert_uint_eq(dl, n);
    ck_assert(memcmp(d, s, n) == 0);
    free(d);
}

/* s has invalid bytes: each becomes U+FFFD, the text around them stays. */
static void check_replaced(const char *s, size_t n, const char *want, size_t wn)
{
    ck_assert(!strict_utf8((const unsigned char *)s, n));
    size_t dl;
    char *d = through(s, n, &dl);
    ck_assert_uint_eq(dl, wn);
    ck_assert(memcmp(d, want, wn) == 0);
    free(d);
}

#define SAME(lit) check_same(lit, sizeof(lit) - 1)
#define REPLACED(lit, want) check_replaced(lit, sizeof(lit) - 1, want, sizeof(want) - 1)
#define FFFD "\xef\xbf\xbd"

START_TEST(test_valid_round_trips)
{
    SAME("");
    SAME("plain ascii");
    SAME("quote \" backslash \\ slash /");
    SAME("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xef\xbf\xbf");
    SAME("\x7f del");
}
END_TEST

START_TEST(test_control_characters)
{
    SAME("\n\r\t\b\f\x01\x1f");
    SAME("nul \0 inside");
    size_t el;
    char *e = encode("a\0b\x01\n", 5, &el);
    ck_assert_str_eq(e, "\"a\\u0000b\\u0001\\n\"");
    free(e);
}
END_TEST

START_TEST(test_invalid_bytes)
{
    REPLACED("a\xff" "b", "a" FFFD "b");
    REPLACED("\x80", FFFD);                                 /* lone continuation */
    REPLACED("\xc0\xaf", FFFD FFFD);                         /* overlong '/' */
    REPLACED("\xe0\x80\xaf", FFFD FFFD FFFD);                /* overlong, 3 bytes */
    REPLACED("\xf0\x80\x80\xaf", FFFD FFFD FFFD FFFD);       /* overlong, 4 bytes */
    REPLACED("\xed\xa0\x80", FFFD FFFD FFFD);                /* lone high surrogate */
    REPLACED("\xed\xbf\xbf", FFFD FFFD FFFD);                /* lone low surrogate */
    REPLACED("\xed\xa0\xbd\xed\xb8\x80",                     /* CESU-8 pair for U+1F600 */
             FFFD FFFD FFFD FFFD FFFD FFFD);
    REPLACED("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);       /* past U+10FFFF */
    REPLACED("\xf5\x80\x80\x80", FFFD FFFD FFFD FFFD);       /* 0xf5 never starts one */
    REPLACED("\xf8\x88\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD);
    REPLACED("cut \xe2\x82", "cut " FFFD FFFD);              /* sequence cut short */
    REPLACED("\xe2\x82" "x", FFFD FFFD "x");
    REPLACED("\xc3", FFFD);
    /* surrogateescape: Python's os.fsencode of '\udcff' gives the byte 0xff. */
    REPLACED("/tmp/f\xff\xfe.py", "/tmp/f" FFFD FFFD ".py");
}
END_TEST

START_TEST(test_null_and_cstr)
{
    char *buf = NULL;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    rw_json_str(f, NULL);
    fputc(' ', f);
    rw_json_str(f, "x\"y");
    fclose(f);
    ck_assert_str_eq(buf, "null \"x\\\"y\"");
    free(buf);
}
END_TEST

/* Random bytes, biased towards the ones that start or continue sequences. */
START_TEST(test_random_bytes)
{
    static const unsigned char pool[] = {0x00, 0x0a, 0x1f, '"', '\\', 'a', 0x7f, 0x80, 0xbf,
                                         0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4,
                                         0xf5, 0xff, 0xa0, 0x90, 0x8f};
    unsigned seed = 12345;
    char s[16];
    for (int iter = 0; iter < 200000; iter++) {
        seed = seed * 1103515245u + 12345u;
        size_t n = (seed >> 16) % sizeof s;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            s[i] = (char)pool[(seed >> 16) % sizeof pool];
        }
        size_t dl;
        char *d = through(s, n, &dl);
        if (strict_utf8((const unsigned char *)s, n)) {
            ck_assert_uint_eq(dl, n);
            ck_assert(memcmp(d, s, n) == 0);
        }
        free(d);
    }
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_valid_round_trips, test_control_characters, test_invalid_bytes,
                            test_null_and_cstr, test_random_bytes};
    return rw_test_main("json", "core", 0, tests, RW_TEST_N(tests));
}
