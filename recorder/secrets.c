/* Secrets (secrets.h): the table of values to scrub, and the scrubbing. */
#include "secrets.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "recorder.h"
#include "sysalloc.h"

/* Owner: this file. Written by rw_secrets_init on the main thread before the program
 * runs; read-only afterwards (any thread). Global because the hooks that scrub get no
 * context. Values shorter than MIN_LEN are not kept: scrubbing "1" everywhere would
 * destroy the trace and protect nothing. */
enum { MAX_SECRETS = 256, MIN_LEN = 4 };
static struct secrets_state {
    char *value[MAX_SECRETS];
    size_t len[MAX_SECRETS];
    size_t n;
} sec;

int rw_secrets_name_is_secret(const char *name, size_t len, int keep_env,
                              const char *const *extra, size_t nextra)
{
    char n[512];
    if (len >= sizeof n)
        len = sizeof n - 1;
    memcpy(n, name, len);
    n[len] = '\0';
    if (!keep_env)
        for (const char *const *p = rw_record_default_redact; *p; p++)
            if (!fnmatch(*p, n, FNM_CASEFOLD))
                return 1;
    for (size_t i = 0; i < nextra; i++)
        if (!fnmatch(extra[i], n, FNM_CASEFOLD))
            return 1;
    return 0;
}

static void add(const char *v, size_t len)
{
    if (len < MIN_LEN || sec.n >= MAX_SECRETS)
        return;
    for (size_t i = 0; i < sec.n; i++)
        if (sec.len[i] == len && !memcmp(sec.value[i], v, len))
            return;
    char *copy = rw_sys_malloc(len + 1);
    if (!copy)
        return;
    memcpy(copy, v, len);
    copy[len] = '\0';
    /* Longest first, so that a secret containing another is scrubbed whole. */
    size_t at = sec.n;
    while (at > 0 && sec.len[at - 1] < len) {
        sec.value[at] = sec.value[at - 1];
        sec.len[at] = sec.len[at - 1];
        at--;
    }
    sec.value[at] = copy;
    sec.len[at] = len;
    sec.n++;
}

/* The password of the first "scheme://user:pass@" at or after s (n bytes): its offset
 * in *off and length in *plen; 0 when there is none. */
static int url_password(const char *s, size_t n, size_t *off, size_t *plen)
{
    for (size_t i = 0; i + 3 < n; i++) {
        if (s[i] != ':' || s[i + 1] != '/' || s[i + 2] != '/' || i == 0 ||
            !isalpha((unsigned char)s[i - 1]))
            continue;
        size_t a = i + 3, colon = 0;
        for (size_t j = a; j < n; j++) {
            char c = s[j];
            if (c == '/' || c == '?' || c == '#' || isspace((unsigned char)c) || c == '"' ||
                c == '\'')
                break;
            if (c == ':' && !colon)
                colon = j;
            if (c == '@') {
                if (colon && j > colon + 1) {
                    *off = colon + 1;
                    *plen = j - colon - 1;
                    return 1;
                }
                break;
            }
        }
    }
    return 0;
}

static void add_url_passwords(const char *v, size_t n)
{
    size_t off, plen, at = 0;
    while (at < n && url_password(v + at, n - at, &off, &plen)) {
        add(v + at + off, plen);
        at += off + plen;
    }
}

/* Words of an option name ("--api-key" -> api, key) that make its value a secret. */
static int secret_option(const char *a, size_t len)
{
    static const char *const words[] = {"pass", "passwd", "password", "passphrase", "token",
                                        "secret", "key", "apikey", "auth", "credential",
                                        "credentials", "cookie", "dsn", "webhook", "private",
                                        NULL};
    size_t i = 0;
    while (i < len && a[i] == '-')
        i++;
    if (i == 0)
        return 0;
    while (i < len) {
        size_t j = i;
        while (j < len && a[j] != '-' && a[j] != '_')
            j++;
        for (const char *const *w = words; *w; w++)
            if (strlen(*w) == j - i && !strncasecmp(a + i, *w, j - i))
                return 1;
        i = j + 1;
    }
    return 0;
}

int rw_secrets_arg_is_secret(char **argv, int i, size_t *keep)
{
    const char *a = argv[i];
    const char *eq = a[0] == '-' ? strchr(a, '=') : NULL;
    if (eq && secret_option(a, (size_t)(eq - a))) {
        *keep = (size_t)(eq - a) + 1;
        return 1;
    }
    if (i > 0 && argv[i - 1][0] == '-' && !strchr(argv[i - 1], '=') &&
        secret_option(argv[i - 1], strlen(argv[i - 1]))) {
        *keep = 0;
        return 1;
    }
    return 0;
}

void rw_secrets_init(char **env, int keep_env, const char *const *extra, size_t nextra,
                     int argc, char **argv)
{
    for (size_t i = 0; env && env[i]; i++) {
        const char *e = env[i], *eq = strchr(e, '=');
        if (!eq)
            continue;
        size_t vlen = strlen(eq + 1);
        if (rw_secrets_name_is_secret(e, (size_t)(eq - e), keep_env, extra, nextra))
            add(eq + 1, vlen);
        add_url_passwords(eq + 1, vlen);
    }
    for (int i = 0; i < argc; i++) {
        size_t keep;
        if (rw_secrets_arg_is_secret(argv, i, &keep))
            add(argv[i] + keep, strlen(argv[i] + keep));
        add_url_passwords(argv[i], strlen(argv[i]));
    }
}

/* Replaces buf[at, at+n) with the mark, within cap. Returns the new length. */
static size_t replace(char *buf, size_t len, size_t cap, size_t at, size_t n)
{
    static const char mark[] = RW_SECRETS_MARK;
    size_t m = sizeof mark - 1;
    size_t tail = len - at - n;
    size_t newlen = len - n + m;
    if (newlen > cap - 1) { /* cut the tail to fit */
        newlen = cap - 1;
        if (at + m > newlen)
            m = newlen - at;
        tail = newlen - at - m;
    }
    memmove(buf + at + m, buf + at + n, tail);
    memcpy(buf + at, mark, m);
    buf[newlen] = '\0';
    return newlen;
}

/* In a repr of an argument list ("['prog', '--token', 'x', '--key=y']"): the quoted
 * value after a quoted secret option, or after its '='. Returns 1 with the value's
 * span in *off, *n (relative to s) when one is found. */
static int quoted_option_value(const char *s, size_t len, size_t *off, size_t *n)
{
    for (size_t i = 0; i + 2 < len; i++) {
        char q = s[i];
        if ((q != '\'' && q != '"') || s[i + 1] != '-')
            continue;
        size_t a = i + 1, j = a;
        while (j < len && s[j] != q && s[j] != '=')
            j++;
        if (j >= len || !secret_option(s + a, j - a))
            continue;
        if (s[j] == '=') { /* '--token=value' */
            size_t e = j + 1;
            while (e < len && s[e] != q)
                e++;
            *off = j + 1;
            *n = e - j - 1;
            return 1;
        }
        /* '--token', 'value' */
        size_t k = j + 1;
        while (k < len && (s[k] == ',' || s[k] == ' '))
            k++;
        if (k >= len || (s[k] != '\'' && s[k] != '"'))
            continue;
        char q2 = s[k];
        size_t e = k + 1;
        while (e < len && s[e] != q2)
            e++;
        *off = k + 1;
        *n = e - k - 1;
        return 1;
    }
    return 0;
}

size_t rw_secrets_scrub(char *buf, size_t len, size_t cap)
{
    if (!cap)
        return 0;
    if (len > cap - 1)
        len = cap - 1;
    buf[len] = '\0';
    for (size_t s = 0; s < sec.n; s++) {
        size_t at = 0;
        const char *hit;
        while (at < len && (hit = memmem(buf + at, len - at, sec.value[s], sec.len[s]))) {
            size_t pos = (size_t)(hit - buf);
            len = replace(buf, len, cap, pos, sec.len[s]);
            at = pos + sizeof RW_SECRETS_MARK - 1;
        }
    }
    size_t at = 0, off, plen;
    while (at < len && url_password(buf + at, len - at, &off, &plen)) {
        size_t pos = at + off;
        if (plen == sizeof RW_SECRETS_MARK - 1 && !memcmp(buf + pos, RW_SECRETS_MARK, plen)) {
            at = pos + plen;
            continue;
        }
        len = replace(buf, len, cap, pos, plen);
        at = pos + sizeof RW_SECRETS_MARK - 1;
    }
    /* A text cut short (a bounded str(): it then fills the buffer but for a partial
     * UTF-8 character) may end in the first bytes of a secret. Only such a text: the
     * search is quadratic in a secret's length. */
    for (size_t s = 0; len + 4 >= cap && s < sec.n; s++)
        for (size_t k = sec.len[s] - 1 < len ? sec.len[s] - 1 : len; k >= 3; k--)
            if (!memcmp(buf + len - k, sec.value[s], k)) {
                len = replace(buf, len, cap, len - k, k);
                break;
            }
    at = 0;
    while (at < len && quoted_option_value(buf + at, len - at, &off, &plen)) {
        size_t pos = at + off;
        if (!(plen == sizeof RW_SECRETS_MARK - 1 && !memcmp(buf + pos, RW_SECRETS_MARK, plen)) &&
            plen)
            len = replace(buf, len, cap, pos, plen);
        at = pos + (plen ? sizeof RW_SECRETS_MARK - 1 : 1);
    }
    return len;
}

size_t rw_secrets_scrub_arg(char *const *argv, int i, char *out, size_t cap)
{
    size_t keep;
    if (rw_secrets_arg_is_secret((char **)argv, i, &keep)) {
        int n = snprintf(out, cap, "%.*s%s", (int)(keep < cap / 2 ? keep : cap / 2), argv[i],
                         RW_SECRETS_MARK);
        return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
    }
    snprintf(out, cap, "%s", argv[i]);
    return rw_secrets_scrub(out, strlen(out), cap);
}
