/* The recorded source of a file (FileDef.source) as lines: the one place replayer/ and
 * cli/ split a recorded text into lines and look one up by number. Used by the memory
 * analysis (traceback lines), coverage's .cover writer, `rewind info` (the uncaught
 * exception's traceback) and the debugger's listings.
 *
 * Two newline rules, because the Python tools each command mirrors read differently:
 * RW_SOURCE_TEXT_LF ends a line at "\n" only (a "\r" before it stays in the line:
 * callers strip it as the tool they mirror does), RW_SOURCE_TEXT_UNIVERSAL at "\n",
 * "\r\n" or "\r" (Python's universal newlines, as trace.py reads a file for .cover).
 * A last line without an end counts; an empty text has no line. Every lookup is
 * bounded: a line number past the text (or 0) finds nothing. Stateless functions are
 * thread-safe; an rw_source_text index belongs to its owner.
 */
#ifndef RW_SOURCE_TEXT_H
#define RW_SOURCE_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "vocab.h"

typedef enum rw_source_text_eol {
    RW_SOURCE_TEXT_LF = 0,       /* "\n" ends a line */
    RW_SOURCE_TEXT_UNIVERSAL = 1 /* "\n", "\r\n" or "\r" ends a line */
} rw_source_text_eol;

/* One line of a text: its bytes without their end, and the length of the end (0 for
 * a last line that has none, 1 for "\n" or "\r", 2 for "\r\n"). Borrowed from the
 * text. */
typedef struct rw_source_text_line {
    const char *s;
    size_t len;
    size_t eol_len;
} rw_source_text_line;

/* The recorded source of FileDef file in d: 1 and the text in *text, *len (borrowed
 * from the reader) when the trace holds it, else 0 (file 0, a file past the table, a
 * file recorded without its source). */
int rw_source_text_of_file(const rw_defs *d, uint32_t file, const char **text, size_t *len);

/* Walks the lines of text[0..len): call with *off = 0, then again while it returns 1
 * (*line filled, *off moved past the line's end); 0 at the end of the text. */
int rw_source_text_next(const char *text, size_t len, rw_source_text_eol eol, size_t *off,
                        rw_source_text_line *line);

/* Number of lines of text under eol's rule. */
size_t rw_source_text_count(const char *text, size_t len, rw_source_text_eol eol);

/* Line `lineno` (1-based) of text, found by walking the text (no index: for a lookup
 * or two). 1 and *line filled, or 0 when the text has no such line. */
int rw_source_text_find(const char *text, size_t len, rw_source_text_eol eol, uint64_t lineno,
                        rw_source_text_line *line);

/* ---- an index, for many lookups in one text ------------------------------------- */

/* Invariants (rw_source_text_init): start[0] = 0 <= start[1] <= ... <= start[n] = len;
 * line i (1-based) with its end is text[start[i - 1] .. start[i]). */
typedef struct rw_source_text {
    const char *text; /* borrowed */
    size_t len;
    rw_source_text_eol eol;
    size_t n;         /* lines */
    size_t *start;    /* n + 1 offsets */
} rw_source_text;

/* Indexes the lines of text[0..len) (borrowed: it must outlive t) into t, the
 * caller's storage. RW_ENOMEM (err filled, t left empty: n = 0) when out of memory.
 * Free with rw_source_text_fini. */
rw_code rw_source_text_init(rw_source_text *t, const char *text, size_t len,
                            rw_source_text_eol eol, rw_err *err);
void rw_source_text_fini(rw_source_text *t);

/* Line `lineno` (1-based): 1 and *line filled, or 0 when lineno is 0 or past t->n. */
int rw_source_text_line_at(const rw_source_text *t, uint64_t lineno, rw_source_text_line *line);

#endif
