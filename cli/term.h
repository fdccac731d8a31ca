/* Terminal-safe output: every read command's stdout and stderr pass through a filter
 * that shows control characters escaped, so that text from a trace (file names, source
 * lines, reprs, exception messages, audit arguments, recorded output) can never drive
 * the terminal. One place instead of escaping at each of the hundreds of print sites,
 * which a new one would forget. main installs it; JSON and binary output opt out.
 */
#ifndef RW_CLI_TERM_H
#define RW_CLI_TERM_H

#include <stddef.h>
#include <stdio.h>

/* Replaces stdout and stderr with filtering streams over the same descriptors (stdout
 * line-buffered at a terminal, else fully; stderr unbuffered, as before). What is
 * shown escaped: C0 controls but \n and \t as \xHH, DEL as \x7f, bytes that are not
 * well-formed UTF-8 (lone 0x80-0x9F included) as \xHH, C1 controls (U+0080-U+009F
 * written in UTF-8) and the bidi embeddings, overrides and isolates U+202A-U+202E,
 * U+2066-U+2069 as \u0085, \u202e. Everything else, other UTF-8 included, is copied;
 * a backslash is not doubled (ordinary text and reprs read as before). A UTF-8
 * sequence split across writes is held until its end comes. Call once, before any
 * output. Returns 0, or -1 when a stream cannot be made (output then stays raw). */
int rw_term_install(void);

/* The streams below the filters (the process's original stdout and stderr), or stdout
 * and stderr themselves when no filter is installed: for output that must reach the
 * terminal as it is (readline's own control sequences, the progress bar's \r). Flush
 * the filtered stream first when both are used. */
FILE *rw_term_raw_stdout(void);
FILE *rw_term_raw_stderr(void);

/* Puts the original stdout back (after flushing the filter): for a command whose stdout
 * is JSON (already escaped by replayer/json.h, and kept byte for byte) or binary. */
void rw_term_stdout_unfiltered(void);

/* The filter itself, on in[0..n): writes the escaped text to out (room for 4 * n
 * bytes) and its length to *written; returns the input bytes consumed. Unless final, a
 * UTF-8 sequence cut short by the end of in is left unconsumed (at most 3 bytes), to
 * come again with the bytes that follow; final escapes it. Pure; thread-safe. */
size_t rw_term_escape(const unsigned char *in, size_t n, int final, char *out,
                      size_t *written);

#endif
