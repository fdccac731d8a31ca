/* Memory analysis: tracemalloc's view of a recording at any position.
 *
 * Replays the ALLOC_x/FREE_x records of a trace in order into a live-block map
 * (addrmap.h) whose entries carry an interned traceback: the Python frames of the
 * allocating thread's shadow stack, most recent first, as tracemalloc would have
 * captured them. Snapshots, filters, statistics (Snapshot.statistics/compare_to),
 * the memory-over-time samples and the pickle that tracemalloc.Snapshot.load()
 * reads are built from that. Used by cli/cmd_memory.c. Not thread-safe: one rw_mem
 * per thread; the reader may be shared.
 */
#ifndef RW_MEMORY_H
#define RW_MEMORY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "reader.h"

/* Default traceback limit, as with tracemalloc.start(25) / python3 -X tracemalloc=25. */
#define RW_MEM_DEFAULT_FRAMES 25
/* Largest traceback limit accepted (tracemalloc allows far more; deeper stacks only
 * cost memory here). */
#define RW_MEM_MAX_FRAMES 4096

/* Allocator domains of the records (not tracemalloc domains: every block Python
 * allocates is in tracemalloc domain 0, and so is every trace here). */
enum { RW_MEM_RAW = 0, RW_MEM_MEM = 1, RW_MEM_OBJ = 2 };

/* One frame of a traceback. file is a FileDef id (the first one of its path), 0 for
 * tracemalloc's "<unknown>" frame. */
typedef struct rw_mem_frame {
    uint32_t file;
    uint32_t line;
} rw_mem_frame;

typedef struct rw_mem_opts {
    uint32_t max_frames;  /* traceback limit (1..RW_MEM_MAX_FRAMES); 0 = default */
    uint32_t timeline_buckets; /* samples of memory over time; 0 = none */
    /* Keep the frame objects and line arrays that CPython allocates only because the
     * recorder traced the program (see memory.c, decide_held). */
    int keep_tracer_allocs;
    /* tracemalloc taken to start at event traced_from (tracemalloc.start() on the
     * program's first line: the main module's CALL, rw_pos_main_start), not with the
     * interpreter (python3 -X tracemalloc, the default): a block allocated before it
     * stays untraced, and so does its reuse off a free list (an ALLOC_OBJ at its
     * address with no FREE in between, or after a STARTUP_REUSE record: a block that
     * start-up made before the recording), as tracemalloc leaves the reuse of a block
     * it never traced. */
    int traced_since_program;
    uint64_t traced_from;
    /* Called every so many records with the records done and the total. */
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *progress_ctx;
} rw_mem_opts;

typedef struct rw_mem rw_mem;

/* Returns a new analysis of r (which must outlive it) in *out, at position 0 with
 * nothing traced. Caller frees with rw_mem_free. RW_EINVAL for a bad option,
 * RW_ENOMEM. */
rw_code rw_mem_new(const rw_reader *r, const rw_mem_opts *opts, rw_mem **out, rw_err *err);
void rw_mem_free(rw_mem *m);

/* Moves to the state at event pos (position.h: every record before event pos applied;
 * pos == number of events is the end of the run). Moving backwards replays from the
 * start. A free of a block never allocated in the trace is ignored (tracemalloc
 * ignores untraced blocks); an allocation at a live address replaces that block (as
 * tracemalloc's add_trace does). Errors: those of the reader (RW_ECORRUPT ...),
 * RW_ENOMEM. After an error the analysis must be freed. */
rw_code rw_mem_run_to(rw_mem *m, uint64_t pos, rw_err *err);

/* Moves to the state right after the nalloc-th traced allocation of the trace: a
 * state inside a position, such as the instant of the peak (usage.peak_alloc).
 * usage.pos is then the position of that allocation. */
rw_code rw_mem_run_to_alloc(rw_mem *m, uint64_t nalloc, rw_err *err);

/* Where the analysis stands and what it has seen. current/peak are what
 * tracemalloc.get_traced_memory() would return at pos: peak is the highest current
 * reached by any allocation up to pos, reached at event peak_pos. */
typedef struct rw_mem_usage {
    uint64_t pos;
    uint64_t current, peak, peak_pos;
    uint64_t peak_alloc;      /* allocations applied when the peak was reached */
    uint64_t blocks;          /* live traced blocks */
    uint64_t records;         /* records replayed (events and annotations) */
    uint64_t allocs, frees, ignored_frees;
    uint64_t tracer_allocs;   /* allocations of tracing mode itself, left out */
    uint64_t revived_frames;  /* of those, frame objects counted again when an exception
                               * passed through their frame (a plain run makes them
                               * there); counted in allocs too */
    uint64_t tracebacks;      /* distinct tracebacks interned */
    uint64_t sites;           /* distinct allocation sites (traceback, thread, domain) */
    uint64_t map_bytes;       /* heap held by the live-block map (addrmap.h) */
} rw_mem_usage;
void rw_mem_get_usage(const rw_mem *m, rw_mem_usage *u);

/* ---- snapshots --------------------------------------------------------------- */

/* The live blocks of one allocation site: count blocks of size bytes in all, all
 * allocated with traceback tb (an id of m, rw_mem_tb_*) by one thread in one
 * allocator domain. tracemalloc's statistics and filters see nothing else of a
 * block, so a snapshot holds one of these per site, not one per block. */
typedef struct rw_mem_trace {
    uint64_t size;     /* bytes of the count blocks */
    uint64_t count;    /* >= 1 */
    uint32_t tb;
    uint32_t thread;   /* ThreadDef id of the allocating thread */
    uint32_t site;     /* site id of m */
    uint8_t adomain;   /* RW_MEM_RAW/MEM/OBJ */
} rw_mem_trace;

/* The traced blocks at one position (tracemalloc.take_snapshot()), grouped by site:
 * its memory is bounded by the sites, not the blocks. The traces are in no
 * particular order. Tracebacks and sites are ids of the rw_mem that took it, which
 * must outlive the snapshot. */
typedef struct rw_mem_snapshot {
    rw_mem_trace *traces;
    size_t n;
    uint64_t pos;
    uint64_t allocs, frees;  /* the analysis's state when taken (rw_mem_usage) */
    uint32_t traceback_limit;
} rw_mem_snapshot;

/* Returns a new snapshot of the current state in *out (caller frees with
 * rw_mem_snapshot_free). thread != 0 keeps only blocks allocated by that thread. */
rw_code rw_mem_snapshot_take(const rw_mem *m, uint32_t thread, rw_mem_snapshot **out,
                             rw_err *err);
void rw_mem_snapshot_free(rw_mem_snapshot *s);

/* A filter, as tracemalloc.Filter (kind FILE) or tracemalloc.DomainFilter (kind
 * DOMAIN), or a filter on the allocator domain (kind ADOMAIN, rewind's own). FILE
 * matches pattern (fnmatch, a trailing ".pyc" read as ".py") against the most recent
 * frame, or any frame when all_frames, and lineno when not 0. */
typedef enum rw_mem_filter_kind {
    RW_MEM_FILTER_FILE,
    RW_MEM_FILTER_DOMAIN,
    RW_MEM_FILTER_ADOMAIN,
} rw_mem_filter_kind;

typedef struct rw_mem_filter {
    rw_mem_filter_kind kind;
    int inclusive;
    const char *pattern;  /* FILE */
    uint32_t lineno;      /* FILE: 0 = any line */
    int all_frames;       /* FILE */
    uint32_t domain;      /* DOMAIN: tracemalloc domain; ADOMAIN: RW_MEM_RAW/MEM/OBJ */
} rw_mem_filter;

/* Keeps the traces of s that pass the filters, as Snapshot.filter_traces does: a
 * trace stays when some inclusive filter matches it (or there is none) and every
 * exclusive filter lets it through. RW_ENOMEM. */
rw_code rw_mem_snapshot_filter(rw_mem *m, rw_mem_snapshot *s, const rw_mem_filter *f,
                               size_t nf, rw_err *err);

/* ---- statistics -------------------------------------------------------------- */

typedef enum rw_mem_key {
    RW_MEM_BY_LINENO,
    RW_MEM_BY_FILENAME,
    RW_MEM_BY_TRACEBACK,
} rw_mem_key;

/* A Statistic (size_diff and count_diff 0) or a StatisticDiff. key is a traceback id
 * of m: one frame for lineno, one frame with line 0 for filename, the whole
 * traceback for traceback. */
typedef struct rw_mem_stat {
    uint32_t key;
    int64_t size, size_diff;
    int64_t count, count_diff;
} rw_mem_stat;

/* Snapshot.statistics(key_type, cumulative): a new array (caller frees) of *n
 * statistics in tracemalloc's order (size, count, traceback: largest first).
 * cumulative with RW_MEM_BY_TRACEBACK is RW_EINVAL, as in tracemalloc. */
rw_code rw_mem_statistics(rw_mem *m, const rw_mem_snapshot *s, rw_mem_key key,
                          int cumulative, rw_mem_stat **out, size_t *n, rw_err *err);

/* newer.compare_to(old, key_type, cumulative): StatisticDiffs ordered as
 * Snapshot.compare_to orders them. */
rw_code rw_mem_compare(rw_mem *m, const rw_mem_snapshot *newer, const rw_mem_snapshot *old,
                       rw_mem_key key, int cumulative, rw_mem_stat **out, size_t *n,
                       rw_err *err);

/* ---- tracebacks and text ----------------------------------------------------- */

/* Frames of traceback tb, most recent first (borrowed, valid until the next call that
 * interns: run_to, statistics, compare), their number, and the total number of
 * Python frames on the stack when it was captured (tracemalloc's total_nframe). */
const rw_mem_frame *rw_mem_tb_frames(const rw_mem *m, uint32_t tb, uint32_t *nframes);
uint32_t rw_mem_tb_total(const rw_mem *m, uint32_t tb);

/* Path of a frame's file ("<unknown>" for 0). Borrowed from the reader. */
const char *rw_mem_file_path(const rw_mem *m, uint32_t file);

/* Line `line` of file's embedded source, stripped of surrounding white space as
 * linecache.getline(...).strip(), into buf; "" when unknown. */
void rw_mem_source_line(const rw_mem *m, uint32_t file, uint32_t line, char *buf,
                        size_t len);

/* tracemalloc._format_size(size, sign): "1.5 KiB", "+12 B", ... */
void rw_mem_format_size(double size, int sign, char *buf, size_t len);

/* A duration for the timeline's axis: "2.50s", "12.5ms", "3.0us", "80ns". */
void rw_mem_format_time(double ns, char *buf, size_t len);

/* str() of a Statistic (diff == 0) or StatisticDiff (diff != 0):
 * "file.py:12: size=1024 KiB, count=10, average=102 KiB". */
void rw_mem_format_stat(const rw_mem *m, const rw_mem_stat *st, int diff, char *buf,
                        size_t len);

/* ---- outputs ----------------------------------------------------------------- */

/* Writes s as a pickle that tracemalloc.Snapshot.load(path) returns as an equal
 * Snapshot (protocol 2; traces as (0, size, frames most recent first, total_nframe)).
 * The blocks come from m's live map, so m must still be in the state s was taken in
 * (RW_EINVAL if it moved since). RW_EIO names the file. */
rw_code rw_mem_snapshot_dump(const rw_mem *m, const rw_mem_snapshot *s, const char *path,
                             rw_err *err);

/* Memory over time: opts.timeline_buckets equal slices of the recording's time, each
 * with the highest and the last current traced memory seen in it (a slice with no
 * allocation or free repeats the one before). Valid for the records replayed so far.
 * Borrowed, valid until rw_mem_free. */
typedef struct rw_mem_timeline {
    size_t n;
    double span_ns;      /* time covered: slice i is [i, i+1) * span_ns / n */
    const uint64_t *max;
    const uint64_t *last;
} rw_mem_timeline;
void rw_mem_get_timeline(rw_mem *m, rw_mem_timeline *t);

#endif
