/* JSON text for every JSON output of rewind (export, events --json, audit --json...):
 * strings written so that the output is always valid UTF-8 and valid JSON, whatever
 * bytes the trace holds (file names and messages are bytes: a Python str with
 * surrogateescape'd bytes, a C string cut in the middle of a character).
 *
 * Rules: '"' and '\' are escaped; \n, \r and \t by their short forms (as json.dumps
 * writes them), every other byte below 0x20 (NUL included) as \u00XX; well-formed
 * UTF-8 is copied; any other byte (a stray continuation byte, a sequence cut short,
 * an overlong form, an encoded surrogate as CESU-8 writes them, a code point past
 * U+10FFFF, 0xF5..0xFF) becomes one U+FFFD, written \ufffd. Stateless; thread-safe.
 */
#ifndef RW_JSON_H
#define RW_JSON_H

#include <stddef.h>
#include <stdio.h>

/* Length of the well-formed UTF-8 sequence that starts s (n bytes available): 1 to 4,
 * or 0 when s does not start one (n == 0 included). */
size_t rw_utf8_seq_len(const unsigned char *s, size_t n);

/* Writes s (n bytes, NULs included) to out as a JSON string, quotes included. */
void rw_json_strn(FILE *out, const char *s, size_t n);

/* Same for a NUL-terminated s; NULL is written as null. */
void rw_json_str(FILE *out, const char *s);

#endif
