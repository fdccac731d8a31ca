/* JSON strings that are always valid UTF-8 (json.h). */
#include "json.h"

#include <stdint.h>
#include <string.h>

size_t rw_utf8_seq_len(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 0;
    unsigned c = s[0];
    size_t len;
    uint32_t min;
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
        return 0; /* a continuation byte, 0xc0/0xc1 (overlong) or 0xf5..0xff */
    }
    if (n < len)
        return 0;
    uint32_t v = c & (0x7fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0; /* overlong, past Unicode, or a surrogate */
    return len;
}

void rw_json_strn(FILE *out, const char *s, size_t n)
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
        } else if (c < 0x80) {
            fputc((int)c, out);
            i++;
        } else {
            size_t l = rw_utf8_seq_len(p + i, n - i);
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

void rw_json_str(FILE *out, const char *s)
{
    if (s)
        rw_json_strn(out, s, strlen(s));
    else
        fputs("null", out);
}
