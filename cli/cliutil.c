/* Helpers shared by the subcommands (commands.h). */
#include "commands.h"

#include <stdio.h>
#include <string.h>

int rw_cli_fail(const char *cmd, const rw_err *err)
{
    fprintf(stderr, "rewind %s: %s\n", cmd, err->msg[0] ? err->msg : rw_code_name(err->code));
    return RW_EXIT_FAIL;
}

rw_code rw_cli_open_trace(const char *cmd, const char *path, rw_reader **r, rw_err *err)
{
    RW_TRY(rw_reader_open(path, r, err));
    const rw_recovery *rec = rw_reader_recovery(*r);
    if (rec->used)
        fprintf(stderr,
                "rewind %s: %s is damaged: reading the first %llu events (%s); "
                "'rewind verify' says more\n",
                cmd, path, (unsigned long long)rec->events, rec->why);
    return RW_OK;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    unsigned v = c & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    return len;
}

/* Prints s (n bytes) as a JSON string; invalid UTF-8 becomes U+FFFD. */
void rw_cli_json_strn(FILE *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', out);
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc((int)c, out);
            i++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n': fputs("\\n", out); break;
            case '\t': fputs("\\t", out); break;
            case '\r': fputs("\\r", out); break;
            default: fprintf(out, "\\u%04x", c); break;
            }
            i++;
        } else {
            size_t l = utf8_len(p + i, n - i);
            if (l == 0) {
                fputs("\\ufffd", out);
                i++;
            } else {
                fwrite(p + i, 1, l, out);
                i += l;
            }
        }
    }
    fputc('"', out);
}

void rw_cli_json_str(FILE *out, const char *s)
{
    if (s)
        rw_cli_json_strn(out, s, strlen(s));
    else
        fputs("null", out);
}
