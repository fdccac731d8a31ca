/* The trace's vocabulary: bounded lookups into its definitions (files, code objects,
 * C functions, threads, names), its time base (ticks <-> nanoseconds), and the path
 * normalisation every reader applies to file names. Every reader of a trace (format/,
 * replayer/, cli/) takes these instead of indexing the tables or reading Metadata
 * itself, so that all of them give the same answer for the same out-of-range id or
 * missing field. The id limits a chunk's decoder checks come from the reader
 * (rw_reader_chunk_limits in reader.h), as they depend on where the chunk lies.
 * Everything here is read-only and thread-safe.
 */
#ifndef RW_VOCAB_H
#define RW_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "rewind.pb-c.h"

/* ---- definitions ------------------------------------------------------------------ */

/* The definition tables of a trace, indexed by id (rw_reader_defs). Each table's ids
 * are dense from 1; index 0 holds an empty placeholder (every string "", every id 0),
 * so x[0] is never NULL. Id 0 means "unknown" wherever an id is stored. Borrowed from
 * the reader. */
typedef struct rw_defs {
    Rewind__FileDef **files;
    uint32_t nfiles;     /* ids 1..nfiles-1 are valid */
    Rewind__CodeDef **codes;
    uint32_t ncodes;
    Rewind__CFuncDef **cfuncs;
    uint32_t ncfuncs;
    Rewind__ThreadDef **threads;
    uint32_t nthreads;
    Rewind__NameDef **names;
    uint32_t nnames;
} rw_defs;

/* Bounded lookups. The definition of id, the empty placeholder for id 0, and NULL for
 * an id past the table (which never reads outside it). d may be NULL (then NULL). */
const Rewind__FileDef *rw_defs_file(const rw_defs *d, uint32_t id);
const Rewind__CodeDef *rw_defs_code(const rw_defs *d, uint32_t id);
const Rewind__CFuncDef *rw_defs_cfunc(const rw_defs *d, uint32_t id);
const Rewind__ThreadDef *rw_defs_thread(const rw_defs *d, uint32_t id);
const Rewind__NameDef *rw_defs_name(const rw_defs *d, uint32_t id);

/* Text of a definition, or NULL when it is unknown: id 0, an id past its table, a code
 * whose file id is 0 or past the file table, or a text that is empty. Callers choose
 * how an unknown text prints ("?", "<unknown>", ""). */
const char *rw_defs_code_path(const rw_defs *d, uint32_t code); /* its file's path */
const char *rw_defs_code_name(const rw_defs *d, uint32_t code);
const char *rw_defs_code_qualname(const rw_defs *d, uint32_t code);
const char *rw_defs_cfunc_label(const rw_defs *d, uint32_t cfunc);
const char *rw_defs_name_text(const rw_defs *d, uint32_t name);
const char *rw_defs_file_path(const rw_defs *d, uint32_t file);

/* CodeDef.first_line and CodeDef.file of a code, 0 when the code is unknown (and, for
 * the file, when the code names a file past the table). */
uint32_t rw_defs_code_first_line(const rw_defs *d, uint32_t code);
uint32_t rw_defs_code_file(const rw_defs *d, uint32_t code);

/* A thread's name: its final name from the END frame (RunEnd.threads, a thread may
 * rename itself) when that is not empty, else the name it had when defined, else NULL.
 * end may be NULL (a trace cut short). */
const char *rw_defs_thread_name(const rw_defs *d, const Rewind__RunEnd *end, uint32_t thread);

/* What the trace says of a thread: its record in the END frame (RunEnd.threads, which
 * alone has input_stream, from_c and c_origin) when there is one, else its definition;
 * NULL when neither knows it. end may be NULL. */
const Rewind__ThreadDef *rw_defs_thread_final(const rw_defs *d, const Rewind__RunEnd *end,
                                              uint32_t thread);

/* ---- time base -------------------------------------------------------------------- */

/* How ticks (the recorder's clock, as stored in events) map to nanoseconds since the
 * start of the recording. The one rule (rw_timebase_of):
 *   start_tick  = Metadata.start_tick, or when it is 0 (absent) the first chunk's
 *                 first_tick, or 0 when there are no chunks;
 *   ns_per_tick = Metadata.ns_per_tick when it is finite and > 0, else 1.0 (a
 *                 trace without a usable calibration reads in ticks). */
typedef struct rw_timebase {
    uint64_t start_tick;
    double ns_per_tick; /* finite, > 0 */
} rw_timebase;

/* The time base of metadata m (NULL: none) whose first chunk starts at first_tick
 * (0 when there are no chunks). */
rw_timebase rw_timebase_of(const Rewind__Metadata *m, uint64_t first_tick);

/* Absolute tick -> nanoseconds since start (negative before it). */
static inline double rw_timebase_ns(const rw_timebase *tb, uint64_t tick)
{
    double d = tick >= tb->start_tick ? (double)(tick - tb->start_tick)
                                      : -(double)(tb->start_tick - tick);
    return d * tb->ns_per_tick;
}

/* A duration: ticks -> nanoseconds, and nanoseconds -> ticks (fractional). */
static inline double rw_timebase_span_ns(const rw_timebase *tb, double ticks)
{
    return ticks * tb->ns_per_tick;
}
static inline double rw_timebase_ticks(const rw_timebase *tb, double ns)
{
    return ns / tb->ns_per_tick;
}

/* The absolute tick at ns nanoseconds since start, truncated toward start; ns <= 0
 * (or NaN) gives start_tick, and a time past the clock's range gives UINT64_MAX. */
uint64_t rw_timebase_tick_at(const rw_timebase *tb, double ns);

/* ---- paths ------------------------------------------------------------------------ */

/* Python's posixpath.normpath(path) as a new string (caller frees), NULL when out of
 * memory: "//" and "/./" collapse, "x/.." goes, ".." at the root goes, leading ".."
 * of a relative path stay, exactly two leading slashes stay (POSIX leaves "//" to the
 * implementation), "" gives ".". path NULL is taken as "". */
char *rw_path_normpath(const char *path);

/* posixpath.abspath as the recorded program would have seen it: path joined to cwd
 * (the recording's working directory, Metadata.cwd) when it is relative and cwd is
 * not NULL or empty, then rw_path_normpath. New string (caller frees), NULL when out
 * of memory. */
char *rw_path_abspath(const char *path, const char *cwd);

#endif
