/* Line coverage of a recording, as Python's trace module computes it.
 *
 * rw_cov_collect makes one pass over a trace and counts LINE events per (code, line)
 * (trace counts sys.settrace 'line' events the same way), CALL events per code and,
 * on request, caller -> callee pairs. The rest of this header turns those counts
 * into what `python3 -m trace` prints and writes: per-file hit and executable lines,
 * .cover files, module names. Called by cli/cmd_coverage.c; nothing here prints.
 * Objects are not thread-safe; the reader may be shared.
 */
#ifndef RW_COVERAGE_H
#define RW_COVERAGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "reader.h"

typedef struct rw_cov_opts {
    uint64_t from, to;   /* count events with from <= pos < to */
    int callers;         /* also collect caller -> callee pairs (--trackcalls) */
    /* Called now and then with the number of events done (may be NULL). */
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *progress_ctx;
} rw_cov_opts;

/* One caller -> callee pair of code ids (caller 0: the callee was outermost). */
typedef struct rw_cov_pair {
    uint32_t caller, callee;
} rw_cov_pair;

/* Counts per file, merged over every FileDef of the same path. Arrays are indexed by
 * line number and hold nlines entries (line 0 unused). */
typedef struct rw_cov_file {
    uint32_t file;       /* the first FileDef id of this path */
    const char *path;    /* borrowed from the reader */
    uint32_t nlines;
    uint64_t *hits;      /* LINE events per line */
    uint8_t *exec;       /* 1: a line start of a code object of this file, not a
                            docstring line (trace's _find_executable_linenos) */
    int has_lines;       /* some code of this file carried line starts */
} rw_cov_file;

typedef struct rw_cov rw_cov;

/* Counts the trace's events in o's range. Returns a new rw_cov (caller frees with
 * rw_cov_free). Errors: those of the reader (RW_ECORRUPT, RW_EIO), RW_ENOMEM. */
rw_code rw_cov_collect(const rw_reader *r, const rw_cov_opts *o, rw_cov **out, rw_err *err);
void rw_cov_free(rw_cov *c);

/* LINE events counted and the reader the counts belong to. */
uint64_t rw_cov_lines_counted(const rw_cov *c);
/* LINE events of code id at line (0 for ids or lines never seen). */
uint64_t rw_cov_count(const rw_cov *c, uint32_t code, uint32_t line);
/* CALL events of code id (generator resumptions included, as settrace reports). */
uint64_t rw_cov_calls(const rw_cov *c, uint32_t code);
/* Distinct caller -> callee pairs (opts.callers), in first-seen order. Borrowed. */
const rw_cov_pair *rw_cov_pairs(const rw_cov *c, size_t *n);

/* Per-file results for every file with at least one LINE event counted, in FileDef
 * order. Borrowed; valid until rw_cov_free. Executable lines are computed here from
 * CodeDef.lines of every code object of the file minus the docstring lines of its
 * embedded source. */
rw_code rw_cov_files(rw_cov *c, const rw_cov_file **files, size_t *n, rw_err *err);

/* ---- trace.py's helpers, on plain data (unit-tested) -------------------------- */

/* Marks mark[line] = 1 (for 1 <= line < nmark) for every line of a STRING token that
 * follows an INDENT token or opens the file: trace's _find_strings over src. */
void rw_cov_docstrings(const char *src, size_t len, uint8_t *mark, size_t nmark);

/* Number of lines of src as Python's universal-newline reading splits it ("\n",
 * "\r\n" and "\r" end a line; a last line without an end counts). */
size_t rw_cov_count_lines(const char *src, size_t len);

/* Writes a .cover file body to out, as trace's write_results_file: for each source
 * line "%5d: " (hits[n] > 0), ">>>>>> " (show_missing, exec[n] and no "#pragma NO
 * COVER" in the line) or 7 spaces, then the line with tabs expanded to 8 columns and
 * its end written as "\n". hits and exec have nlines entries. *n_hits and *n_lines
 * get trace's counts for the summary. Returns 0, or -1 when a write failed. */
int rw_cov_write_cover(FILE *out, const char *src, size_t len, const uint64_t *hits,
                       const uint8_t *exec, size_t nlines, int show_missing,
                       size_t *n_hits, size_t *n_lines);

/* trace's _modname: the base name without its extension. Writes into buf (size
 * bufsz, always terminated). */
void rw_cov_modname(const char *path, char *buf, size_t bufsz);

/* trace's _fullmodname against the directories syspath[0..n): the path below the
 * longest one holding it, with "/" turned to "." and the extension and leading dots
 * dropped. */
void rw_cov_fullmodname(const char *path, const char *const *syspath, size_t n, char *buf,
                        size_t bufsz);

/* trace's _Ignore.names for a file: 1 when modname is one of mods or a submodule of
 * one, or when path lies in one of dirs (normalised, no trailing "/"). */
int rw_cov_ignored(const char *path, const char *modname, const char *const *mods,
                   size_t nmods, const char *const *dirs, size_t ndirs);

/* The function name trace's --listfuncs and --trackcalls print for a code object:
 * "Class.name" when qualname shows a method defined in a class body, else name. */
void rw_cov_funcname(const char *name, const char *qualname, char *buf, size_t bufsz);

#endif
