/* Trace writer: the recorder's hot-path stream and the thread that writes the file.
 *
 * The producer (one at a time: the recorder serialises producers, e.g. with the GIL)
 * appends raw records to preallocated blocks with rw_stream_put (no lock, no syscall,
 * no allocation). Full blocks go to the writer thread, which encodes them into
 * columnar chunks (format/codec.h), compresses them and appends frames to the file.
 * A periodic flush (opts.flush_ms) bounds what a SIGKILL can lose. The writer
 * allocates with the libc allocator only, through format/alloc.h (which tests can make
 * fail: out of memory ends the recording with an error, never the program).
 */
#ifndef RW_WRITER_H
#define RW_WRITER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "records.h"
#include "rewind.pb-c.h"

typedef struct rw_writer rw_writer;

/* A block of raw records. `pub` (the end of the records published so far) is
 * written by the producer (release) and read by the writer thread (acquire); records
 * below it are immutable. Once `sealed` is set the producer never touches the block
 * again. */
typedef struct rw_block {
    struct rw_block *next;
    _Atomic(rw_rec *) pub;
    _Atomic uint32_t sealed;
    uint32_t cap;
    rw_rec recs[];
} rw_block;

/* The default block: 1 MiB of records, mapped as one 2 MiB huge page (writer.c
 * block_bytes). Blocks of 2 MiB of records took the same faults and RSS (they lost the
 * replay engine's checkpoints under ASan until copies held their holes:
 * rw_writer_fork_hold). */
#define RW_BLOCK_RECORDS ((uint32_t)65536)

/* Records published in b. */
static inline uint32_t rw_block_fill(rw_block *b)
{
    return (uint32_t)(atomic_load_explicit(&b->pub, memory_order_acquire) - b->recs);
}

/* Producer side. Invariant: blk->recs <= cur <= end == blk->recs + blk->cap. */
typedef struct rw_stream {
    rw_rec *cur;
    rw_rec *end;
    rw_block *blk;
    rw_writer *w;
    /* Records are stored non-temporally (x86-64's movnti): set by rw_writer_open where
     * the writer can fence the producers' cores (membarrier), cleared by the writer
     * thread if that stops working. writer.c, "Non-temporal records". */
    _Atomic int nt;
} rw_stream;

/* A consumer of raw records in place of the encoder (rw_writer_opts.sink): called on
 * the writer thread with the records in order, whole entries per call (a record that
 * takes a BLOB comes with its BLOB and text records); returns how many of them are
 * events. It cannot fail: it keeps its own verdict. */
typedef uint64_t (*rw_writer_sink)(void *ctx, const rw_rec *recs, size_t n);

typedef struct rw_writer_opts {
    int zstd_level;          /* default 1 */
    uint32_t flush_ms;       /* default 250; 0 = only on close/flush */
    uint32_t chunk_records;  /* default 262144 */
    uint32_t block_records;  /* records per block, default RW_BLOCK_RECORDS */
    uint32_t max_blocks;     /* bound on buffered blocks, default 64 (64 MiB of records) */
    unsigned time_shift;     /* default 0 */
    int line_times;          /* time every LINE event too; default 0 (see codec.h) */
    const char *base_dir;    /* relative source paths are read from here (cwd) */
    /* When set, the records go to sink(sink_ctx, ...) instead of the encoder: no chunk
     * is encoded, compressed or written; the file gets the header, the metadata, the
     * definitions and the trailer (the replay engine compares its run with the
     * recording this way: replayer/engine/inside/check.h). Default NULL. */
    rw_writer_sink sink;
    void *sink_ctx;
    /* When set, called with the trace file's descriptor as soon as it is created; the
     * writer uses the descriptor it returns (a recorder moves it out of the recorded
     * program's way: recorder/libc/libc.h, rw_own_fd). Default NULL. */
    int (*own_fd)(int fd);
    int (*close_fd)(int fd); /* closes the trace's descriptor; NULL: close() */
} rw_writer_opts;

/* Fills *o with the defaults above. */
void rw_writer_opts_default(rw_writer_opts *o);

/* Creates path (O_EXCL unless overwrite), writes the header and the METADATA frame
 * (meta->format_version and meta->options are filled in here), starts the writer
 * thread. Returns a new writer in *out. A fork() made by any other thread while the
 * writer thread runs (pthread_atfork; _Fork runs no handlers) waits for that thread
 * to end its current pass, and its start: the child never inherits a lock the writer
 * thread held (writer.c, fork_prepare). */
rw_code rw_writer_open(const char *path, const rw_writer_opts *opts, int overwrite,
                       Rewind__Metadata *meta, rw_writer **out, rw_err *err);

/* The producer stream of w. Borrowed; valid until rw_writer_close. */
rw_stream *rw_writer_stream(rw_writer *w);

/* Slow path of rw_stream_put: hands the current block to the writer thread and takes
 * an empty one, waiting for one when max_blocks are in use (never drops records). */
void rw_stream_refill(rw_stream *s, size_t need);

/* Appends one raw record when the block has room; returns 0, appending nothing, when
 * it is full. Nothing in it is a call, so a hook's fast path built on it needs no
 * stack frame. */
static inline int rw_stream_try_put(rw_stream *s, uint64_t w0, uint64_t w1)
{
    rw_rec *r = s->cur;
    if (RW_UNLIKELY(r == s->end))
        return 0;
#if defined(__x86_64__)
    if (RW_LIKELY(atomic_load_explicit(&s->nt, memory_order_relaxed))) {
        __builtin_ia32_movnti64((long long *)&r->w0, (long long)w0);
        __builtin_ia32_movnti64((long long *)&r->w1, (long long)w1);
    } else {
        r->w0 = w0;
        r->w1 = w1;
    }
#else
    r->w0 = w0;
    r->w1 = w1;
#endif
    s->cur = r + 1;
    atomic_store_explicit(&s->blk->pub, r + 1, memory_order_release);
    return 1;
}

/* Makes this thread's non-temporal stores visible to every thread (sfence): before
 * memory they went to is freed, or written by another thread with no writer thread in
 * between (writer.c, "Non-temporal records"). */
static inline void rw_stream_fence(const rw_stream *s)
{
#if defined(__x86_64__)
    if (atomic_load_explicit(&s->nt, memory_order_relaxed))
        __builtin_ia32_sfence();
#else
    (void)s;
#endif
}

/* Appends one raw record. Hot path: no lock, no syscall, no allocation. */
static inline void rw_stream_put(rw_stream *s, uint64_t w0, uint64_t w1)
{
    if (RW_UNLIKELY(!rw_stream_try_put(s, w0, w1))) {
        rw_stream_refill(s, 1);
        rw_stream_try_put(s, w0, w1); /* an empty block has room */
    }
}

/* Appends a record followed by its text (a BLOB entry), all in one block, published
 * at once. len is cut to RW_BLOB_MAX. */
void rw_stream_put_text(rw_stream *s, uint64_t w0, uint64_t w1, const char *text, size_t len);

/* Logs one input record (format/inputs.h), copying its key and data. Any thread (a
 * mutex guards the pending inputs; no GIL needed). The writer thread writes pending
 * inputs as INPUTS frames in the order they were given, before the next chunk frame,
 * on every flush (the periodic one too), before a closing crash report and at close
 * (a dump leaves them to the next pass). When the
 * pending inputs pass 32 MiB the caller waits for the writer thread to take them, as
 * for a full block; none is dropped while the trace is being written. Data beyond
 * RW_INPUT_DATA_MAX (a key beyond RW_INPUT_KEY_MAX) is cut, with
 * RW_INPUT_F_TRUNCATED. Out of memory ends the trace like a lost definition. In a
 * fork child of the process that opened w (pthread_atfork), and once the trace is
 * finished or writes have stopped, records are dropped without waiting. Not
 * async-signal-safe. */
typedef struct rw_input rw_input;
void rw_writer_input(rw_writer *w, const rw_input *in);

/* Definitions. Each copies its strings; callable from any thread (a mutex guards the
 * pending list). A definition must be added before the first record that uses its id;
 * ids are dense per table, starting at 1. One that cannot be recorded (out of memory)
 * ends the trace before the first record that could use it; the program goes on, its
 * later records and definitions are dropped, and rw_writer_close says so. */
void rw_writer_def_file(rw_writer *w, uint32_t id, const char *path, const char *source,
                        size_t source_len, int has_source);
/* Like rw_writer_def_file with source == NULL: the writer thread reads the file
 * (relative paths against opts.base_dir) when it writes the definition. */
void rw_writer_def_file_lazy(rw_writer *w, uint32_t id, const char *path);
void rw_writer_def_code(rw_writer *w, uint32_t id, uint32_t file, const char *name,
                        const char *qualname, uint32_t first_line, uint32_t flags,
                        const char *const *arg_names, size_t nargs);
/* Attaches line starts and the parent code id to code definition id, which must be
 * the last code defined (call right after rw_writer_def_code). */
void rw_writer_def_code_lines(rw_writer *w, uint32_t id, const uint32_t *lines, size_t n,
                              uint32_t parent);
void rw_writer_def_cfunc(rw_writer *w, uint32_t id, const char *label, const char *name,
                         const char *module);
void rw_writer_def_thread(rw_writer *w, uint32_t id, uint64_t ident, uint64_t native_id,
                          const char *name, int is_main);
void rw_writer_def_name(rw_writer *w, uint32_t id, const char *text);

/* Makes everything appended so far durable in the file (encoded, written; not
 * fsync'd) and returns when done. Call from the producer's thread. */
rw_code rw_writer_flush(rw_writer *w, rw_err *err);

/* In a copy of the writer's process made by fork or _Fork while the writer was idle
 * (after rw_writer_flush, with no producer inside the writer): re-makes the writer's
 * locks and starts a new writer thread on the same state, so that the copy records on
 * where the parent was. The file descriptor is shared with the parent: a copy that
 * writes must first put its own file at the descriptor's number (dup2) holding the
 * same bytes. Call from the copy's only thread. */
rw_code rw_writer_fork_child(rw_writer *w, rw_err *err);

/* In such a copy, before rw_writer_fork_child, from its only thread: gives back the
 * pages of the records it will never read again (the free blocks, and the stream's
 * block, whose records the writer has all taken), so that the parent's next writes to
 * them (it reuses the same blocks) neither copy a page nor leave this process holding
 * the old one. The copy writes there again as a fresh block: no record depends on
 * what a block held before. Returns the bytes given back. */
size_t rw_writer_shed(rw_writer *w);

/* Before a fork made while the writer is idle (after rw_writer_flush), from the
 * producer's thread: leaves the pages of the blocks rw_writer_shed would give back out
 * of the copy (MADV_DONTFORK), so that the parent's next writes to them take no
 * copy-on-write fault and the copy holds none of them. Returns the bytes left out.
 * After the fork the parent calls rw_writer_fork_back (its next forks copy them
 * again); the copy's rw_writer_fork_child maps them again, fresh. */
size_t rw_writer_fork_out(rw_writer *w);
void rw_writer_fork_back(rw_writer *w);

/* In the copy, first of all (before it maps anything), from its only thread: keeps
 * the address ranges left out for rw_writer_fork_child, with mappings of no pages
 * (PROT_NONE), so that nothing else is mapped there in the meantime. */
void rw_writer_fork_hold(rw_writer *w);

/* ---- crash path ----------------------------------------------------------------
 *
 * A fatal signal handler, a hang timer or a dump signal hands a report to the writer
 * thread, which writes everything appended so far, then the report as a CRASH frame
 * (its index entry's first_event is the number of events before it), and, when
 * `close` is set, the END frame, the INDEX and the trailer, so that the trace is
 * complete. */
typedef struct rw_crash_req {
    const uint8_t *payload;  /* packed rewind.CrashReport; caller's memory */
    size_t len;
    int close;               /* 1: finish the trace; 0: a dump, recording goes on */
    int exit_status;         /* for RunEnd when close */
    int term_signal;
    const char *stop_reason; /* static string: "signal", "timeout", ... */
} rw_crash_req;

/* Async-signal-safe (atomics and nanosleep only; no lock, no allocation): posts req
 * (which must stay valid until this returns) and waits up to timeout_ms for the
 * writer thread to carry it out. Returns 1 when done, 0 on timeout or when another
 * request is in flight. After a closing request nothing more is written; the caller
 * must not call rw_writer_close (the process is expected to end). */
int rw_writer_crash(rw_writer *w, const rw_crash_req *req, unsigned timeout_ms);

/* Counters, readable at any time (approximate while running). */
typedef struct rw_writer_stats {
    uint64_t events;
    uint64_t records;
    uint64_t bytes_written;
    uint64_t chunks;
    uint64_t inputs;         /* input records written */
    uint64_t writer_cpu_ns;  /* CPU time of the writer thread, once it has ended (close) */
    int failed;              /* writing stopped (a failed write, out of memory): see lost */
    char lost[200];
} rw_writer_stats;
void rw_writer_get_stats(rw_writer *w, rw_writer_stats *st);

/* Flushes, writes the END frame (end; its counters are filled in here), the INDEX and
 * the trailer, stops the thread, closes the file and frees w. end may be NULL (no END
 * frame: the run was cut short). Final counters go to *st when st is not NULL.
 * Returns the first error seen while writing, if any, after still closing what it
 * can. A failed write (RW_EIO) and running out of memory on the writer's side
 * (RW_ENOMEM: "out of memory after N events: the trace ends there (...)") both end
 * the recording early: the file stays readable up to its last whole chunk, which
 * holds the first N events, and the stats say failed and what was lost. */
rw_code rw_writer_close(rw_writer *w, Rewind__RunEnd *end, rw_writer_stats *st, rw_err *err);

#endif
