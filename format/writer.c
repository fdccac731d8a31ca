/* Trace writer (see writer.h).
 *
 * Threads: the producer appends to the tail block; the writer thread consumes from
 * the head block, encodes, compresses and writes. `mu` guards the block lists, the
 * flush/stop requests and the free list; `defs_mu` guards the pending definitions;
 * `in_mu` the pending inputs (rw_writer_input: any thread; written as INPUTS frames
 * before the next chunk, on every flush, when they pass INPUTS_PENDING_MAX, before a
 * closing crash report and at close). No thread holds two of these locks at once.
 * The writer thread never blocks on in_mu and never frees a block a producer
 * allocated, an input's node or a definition (see rw_writer_input, inputs_lock and
 * spent_push): a signal handler on a producer, which may hold its malloc arena's lock,
 * may wait for it.
 * The file descriptor and the index belong to the writer thread while it runs and to
 * the closing thread after it has been joined.
 *
 * Durability: frames are appended whole; when a write fails (disk full, file size
 * limit, EIO) the file is cut back to the end of the last whole frame, the failure is
 * kept, and records are consumed and dropped from then on so that the program never
 * blocks. A reader then recovers everything up to that frame. Out of memory anywhere
 * on the writer's side (a definition, the encoder, a frame, the index) ends the
 * recording the same way (stop_oom), never the program: nothing here aborts or exits.
 */
#include "writer.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "codec.h"
#include "container.h"
#include "fprint.h"
#include "inputs.h"

#define SOURCE_MAX (16u << 20) /* bigger sources are not embedded */

/* Inputs: a producer waits for the writer thread when the pending ones pass this
 * (never drops one); an INPUTS frame holds about this much (more for one big record). */
#define INPUTS_PENDING_MAX (32u << 20)
#define INPUTS_FRAME_TARGET (4u << 20)
/* Bound on the packed size of an Input besides its key and data bytes (every field at
 * its longest varint, the tags and the length prefixes, and the Inputs field's). */
#define INPUT_OVERHEAD 96
_Static_assert(INPUT_OVERHEAD + RW_INPUT_KEY_MAX + RW_INPUT_DATA_MAX <= RW_FRAME_MAX,
               "one input record fits in one frame");

/* A pending input: the record, its key and data right after it. */
typedef struct in_node {
    struct in_node *next;
    size_t size; /* of the node, for the pending bound */
    rw_input in;
} in_node;

typedef struct def_list {
    Rewind__Definitions d;   /* arrays grow with the lists below */
    size_t cap_files, cap_codes, cap_cfuncs, cap_threads, cap_names;
} def_list;

/* Written definitions, for a producer to free (spent_push, spent_free). */
typedef struct spent_defs {
    struct spent_defs *next;
    def_list l;
} spent_defs;

#define OUT_MAX 128u /* blocks whose pages a fork can leave out */

struct rw_writer {
    int fd;
    rw_writer_opts opts;
    char *base_dir;
    rw_stream stream;

    pthread_mutex_t mu;
    pthread_cond_t cv_work;  /* writer waits: sealed block, flush, stop */
    pthread_cond_t cv_free;  /* producer waits for a free block */
    pthread_cond_t cv_done;  /* flushers wait for flush_done */
    rw_block *free_list;
    uint32_t nblocks;
    rw_block *head;          /* oldest block not fully consumed (writer) */
    uint32_t head_idx;
    uint64_t flush_req, flush_done;
    int stop;
    pthread_t thread;
    int thread_started;
    /* The writer thread's first work (writer_init), which rw_writer_open waits for: done,
     * its result, and what it writes (the producer's, valid while it waits). */
    int init_done;
    rw_code init_rc;
    rw_err init_err;
    const Rewind__Metadata *init_meta;
    const char *init_path;

    pthread_mutex_t defs_mu;
    def_list pending;        /* added by producers (defs_mu) */
    int defs_lost;           /* a definition could not be recorded (defs_mu; sticky) */
    def_list taken;          /* taken by the writer, not written yet (writer only) */
    _Atomic(spent_defs *) spent; /* written, freed by the next producer (lock-free) */

    pthread_mutex_t in_mu;
    pthread_cond_t cv_in;    /* producers wait for room in the pending inputs */
    in_node *in_head, **in_tail; /* pending inputs, in the order given (in_mu) */
    size_t in_bytes;         /* their size (in_mu) */
    int in_lost;             /* an input could not be copied (in_mu; sticky) */
    _Atomic int in_done;     /* no more are taken: dropped, never waited for */
    int in_stopping;         /* writer: ending the trace for a lost input */
    int in_crash;            /* writer: 1 in a crash request, 2 when in_mu was not free */
    in_node *in_taken;       /* writer: taken from the pending ones, not written yet */
    in_node *in_written;     /* writer: written, to hand back to the producers */
    in_node *in_recycle;     /* written, freed by the next producer (in_mu) */
    int in_wake;             /* a producer waits for room: write inputs now (mu) */
    unsigned gen;            /* fork generation at open (fork_gen) */

    /* Forks (fork_prepare): the writer thread waits between two passes while one is
     * made. */
    pthread_cond_t cv_fork;  /* fork_prepare waits for parked */
    int fork_hold;           /* a fork is being made: wait (mu) */
    int parked;              /* the thread waits for the fork, or has left its loop (mu) */
    pid_t owner;             /* the process whose writer thread runs, 0: none (live_mu) */
    struct rw_writer *live_next; /* the list of writers with a thread (live_mu) */
    /* Record pages left out of the next fork (rw_writer_fork_out): start, length. The
     * stream's block first, then the free list's in its order. */
    uintptr_t out[OUT_MAX][2];
    unsigned nout;
    unsigned char held[OUT_MAX]; /* in a copy: out[i] is kept by rw_writer_fork_hold */

    /* The writer thread's scratch, kept from one frame to the next: once grown it
     * allocates nothing per frame. That matters beyond speed: a producer interrupted
     * by a dump signal inside malloc holds an allocator lock (ASan's size-class
     * locks are shared by all threads; glibc's arenas are when threads outnumber
     * them) until its handler returns, and the handler waits for this thread. */
    rw_frame_buf fb;         /* frames: buffer and zstd context */
    uint8_t *pack;           /* protobuf payloads (definitions, inputs) */
    size_t pack_cap;
    uint8_t *chunk;          /* the packed chunk (rw_encoder_finish_into) */
    size_t chunk_cap;
    Rewind__Input *in_msgs;  /* an INPUTS frame's messages */
    Rewind__Input **in_ptrs;
    size_t in_cap;

    rw_encoder *enc;
    Rewind__IndexEntry *index;
    size_t nindex, capindex;
    uint64_t offset;         /* end of the last whole frame */
    struct timespec last_emit;

    rw_code first_rc;
    rw_err first_err;
    int failed;              /* writes stopped (sticky; set by stop_writing) */
    uint64_t failed_at_event;
    uint64_t events_written;  /* events of the chunks written whole */

    _Atomic uint64_t st_events, st_records, st_bytes, st_chunks, st_inputs;
    uint64_t sink_events, sink_records; /* with opts.sink: what it was given */
    _Atomic uint64_t st_cpu_ns; /* the writer thread's CPU time, set as it ends */

    /* Crash path: 0 idle, 1 posted (crash_req valid), 2 being done, 3 done. */
    _Atomic int crash_state;
    const rw_crash_req *_Atomic crash_req;
    _Atomic int closed; /* a closing crash request finished the file */
};

/* The writer thread wakes at least this often to look for crash requests, which
 * cannot signal its condition variable (not async-signal-safe). */
#define CRASH_POLL_MS 20

void rw_writer_opts_default(rw_writer_opts *o)
{
    memset(o, 0, sizeof *o);
    o->zstd_level = 1;
    o->flush_ms = 250;
    o->chunk_records = 262144;
    o->block_records = RW_BLOCK_RECORDS;
    o->max_blocks = 64;
    o->time_shift = 0;
}

/* ---- blocks ----------------------------------------------------------------- */

/* A block is pages of its own (rw_pages_alloc). One of half a huge page or more (the
 * default) is mapped as a whole huge page, so that where transparent huge pages are
 * on the producer's first touch of it is one page fault instead of 257 or more; the
 * rest of the page is never written. */
static size_t block_bytes(uint32_t cap)
{
    size_t n = sizeof(rw_block) + (size_t)cap * sizeof(rw_rec);
    return n >= RW_PAGES_HUGE / 2 && n < RW_PAGES_HUGE ? RW_PAGES_HUGE : n;
}

static rw_block *block_new(uint32_t cap)
{
    rw_block *b = rw_pages_alloc(block_bytes(cap));
    if (!b)
        return NULL;
    b->cap = cap;
    atomic_init(&b->pub, b->recs);
    return b;
}

static void block_free(rw_block *b)
{
    rw_pages_free(b, block_bytes(b->cap));
}

static void block_reset(rw_block *b)
{
    b->next = NULL;
    atomic_store_explicit(&b->pub, b->recs, memory_order_relaxed);
    atomic_store_explicit(&b->sealed, 0, memory_order_relaxed);
}

/* ---- locks taken by the program's threads ------------------------------------- */

/* A program thread holds mu or defs_mu with its asynchronous signals blocked. A dump
 * signal handled by a thread that holds one would otherwise wait for this file's
 * thread (rw_writer_crash), which waits for the lock: a deadlock until the dump's
 * timeout. Faults stay unblocked (blocking them is undefined). The cost is two
 * sigprocmask calls per block of records and per definition. */
static sigset_t async_sigs;
static pthread_once_t async_once = PTHREAD_ONCE_INIT;
static __thread sigset_t held_mask;

static void async_sigs_init(void)
{
    sigfillset(&async_sigs);
    sigdelset(&async_sigs, SIGSEGV);
    sigdelset(&async_sigs, SIGBUS);
    sigdelset(&async_sigs, SIGFPE);
    sigdelset(&async_sigs, SIGILL);
    sigdelset(&async_sigs, SIGABRT);
}

static void producer_lock(pthread_mutex_t *m)
{
    pthread_once(&async_once, async_sigs_init);
    pthread_sigmask(SIG_BLOCK, &async_sigs, &held_mask);
    pthread_mutex_lock(m);
}

static void producer_unlock(pthread_mutex_t *m)
{
    pthread_mutex_unlock(m);
    pthread_sigmask(SIG_SETMASK, &held_mask, NULL);
}

/* ---- Non-temporal records ------------------------------------------------------
 *
 * The producer stores records with movnti (rw_stream_try_put): they go to memory
 * through the core's write-combining buffers, with no read for ownership of the line.
 * A block is reused once the writer thread has read it, so with ordinary stores the
 * producer's next pass over it asked the writer's core for every line it held: on
 * calls.py with two vCPUs the interpreter thread took 0.7 to 1.6 s more CPU than
 * pinned to one (2.2 s), depending on where the host put the vCPUs; with movnti it
 * takes the same as on one core (bench/record/RESULTS.md, 2026-12-07). Only where the
 * process may run on more than one CPU (nt_worth_it).
 *
 * Such stores are not ordered with the ordinary stores that follow them (`pub`, the
 * seal, the GIL handed to another thread, which writes the same block next), so a
 * reader on another core could see a record's place published before the record. The
 * writer thread reads records only after a membarrier(PRIVATE_EXPEDITED), which makes
 * every core running this process execute a full barrier (the interrupt drains its
 * write-combining buffers): once per block, and at each read into the producer's
 * block (a flush, the periodic one, a crash, the close). About a thousand a run of
 * calls.py. Without membarrier (registration refused) records are stored as before. */
#if defined(__x86_64__) && defined(SYS_membarrier)
#define NT_RECORDS 1
#define MEMBARRIER_PRIVATE_EXPEDITED (1 << 3)
#define MEMBARRIER_REGISTER_PRIVATE_EXPEDITED (1 << 4)

static int nt_register(void)
{
    return syscall(SYS_membarrier, MEMBARRIER_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

/* Whether the process may run on more than one CPU. Pinned to one, the writer reads a
 * block from the cache the producer wrote it in, and the next pass's ordinary stores
 * hit there: movnti, which goes around the cache, made mix.py's recording 4% slower
 * there. By the system call: sched_getaffinity is a logged input of the program's
 * thread (recorder/libc). */
static int nt_worth_it(void)
{
    uint64_t set[16] = {0};
    long n = syscall(SYS_sched_getaffinity, 0, sizeof set, set);
    int cpus = 0;
    for (long i = 0; i < n / 8 && cpus < 2; i++)
        cpus += __builtin_popcountll(set[i]);
    return n <= 0 || cpus > 1;
}
#else
static int nt_register(void)
{
    return 0;
}

static int nt_worth_it(void)
{
    return 0;
}
#endif

/* Off unless REWIND_NT_RECORDS=1: the two fresh-clone CI runs after it was made the
 * default failed. The first (a pool worker's trace cut short) was not these stores'
 * (writer_init); the second, a recording that aborted in free(), "munmap_chunk():
 * invalid pointer", is not understood, and until it is ordinary stores stay the default
 * (docs/TEAM-NOTES.md, 2026-12-07 midday and afternoon). */
static int nt_wanted(void)
{
    const char *v = getenv("REWIND_NT_RECORDS");
    return v && strcmp(v, "1") == 0;
}

/* Before this thread reads records: every record published so far (below a `pub` it
 * has loaded) is visible to it. */
static void producers_fence(rw_writer *w)
{
#ifdef NT_RECORDS
    if (!atomic_load_explicit(&w->stream.nt, memory_order_relaxed))
        return;
    if (syscall(SYS_membarrier, MEMBARRIER_PRIVATE_EXPEDITED, 0, 0) == 0)
        return;
    if (nt_register() && syscall(SYS_membarrier, MEMBARRIER_PRIVATE_EXPEDITED, 0, 0) == 0)
        return; /* a copy made by fork, whose registration did not come with it */
    /* No way to fence the producers' cores: they store as before from now on, and
     * what they stored already is out of their buffers once each core has taken an
     * interrupt (the scheduler's tick comes every 1 to 10 ms). */
    atomic_store_explicit(&w->stream.nt, 0, memory_order_relaxed);
    struct timespec ts = {0, 20 * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
#else
    (void)w;
#endif
}

/* Takes a block for the producer; waits while max_blocks are in use. mu held. */
static rw_block *take_block(rw_writer *w)
{
    for (;;) {
        if (w->free_list) {
            rw_block *b = w->free_list;
            w->free_list = b->next;
            block_reset(b);
            return b;
        }
        if (w->nblocks < w->opts.max_blocks) {
            rw_block *b = block_new(w->opts.block_records);
            if (b) {
                w->nblocks++;
                return b;
            }
        }
        pthread_cond_signal(&w->cv_work);
        pthread_cond_wait(&w->cv_free, &w->mu);
    }
}

void rw_stream_refill(rw_stream *s, size_t need)
{
    rw_writer *w = s->w;
    producer_lock(&w->mu);
    /* Never NULL: rw_writer_open maps a spare beside the stream's block, so when no
     * new one can be mapped take_block waits for one the writer thread gives back. */
    rw_block *b = take_block(w);
    assert(b != NULL);
    rw_block *old = s->blk;
    old->next = b;
    atomic_store_explicit(&old->pub, s->cur, memory_order_release);
    atomic_store_explicit(&old->sealed, 1, memory_order_release);
    s->blk = b;
    s->cur = b->recs;
    s->end = b->recs + b->cap;
    (void)need; /* every entry fits in an empty block (RW_BLOB_MAX bound) */
    pthread_cond_signal(&w->cv_work);
    producer_unlock(&w->mu);
}

void rw_stream_put_text(rw_stream *s, uint64_t w0, uint64_t w1, const char *text, size_t len)
{
    if (len > RW_BLOB_MAX)
        len = RW_BLOB_MAX;
    size_t need = 2 + (len + 15) / 16;
    if ((size_t)(s->end - s->cur) < need)
        rw_stream_refill(s, need);
    rw_rec *r = s->cur;
    r[0].w0 = w0;
    r[0].w1 = w1;
    r[1].w0 = RW_REC(RW_K_BLOB, len);
    r[1].w1 = 0;
    if (len) {
        memcpy(&r[2], text, len);
        size_t pad = (need - 2) * 16 - len;
        if (pad)
            memset((char *)&r[2] + len, 0, pad);
    }
    s->cur = r + need;
    atomic_store_explicit(&s->blk->pub, s->cur, memory_order_release);
}

rw_stream *rw_writer_stream(rw_writer *w) { return &w->stream; }

/* ---- definitions -------------------------------------------------------------- */

static char *xstrdup(const char *s) { return rw_strdup(s ? s : ""); }

/* Grows a protobuf-c repeated message-pointer field by one slot; jumps to `oom` when
 * out of memory. */
#define DEF_PUSH(list, field, capfield, item)                                        \
    do {                                                                             \
        if ((list)->d.n_##field == (list)->capfield) {                               \
            size_t cap_ = (list)->capfield ? (list)->capfield * 2 : 64;              \
            void *v_ = rw_realloc((list)->d.field, cap_ * sizeof *(list)->d.field);  \
            if (!v_)                                                                 \
                goto oom;                                                            \
            (list)->d.field = v_;                                                    \
            (list)->capfield = cap_;                                                 \
        }                                                                            \
        (list)->d.field[(list)->d.n_##field++] = (item);                             \
    } while (0)

static void def_list_init(def_list *l)
{
    memset(l, 0, sizeof *l);
    rewind__definitions__init(&l->d);
}

static int def_list_empty(const def_list *l)
{
    return !l->d.n_files && !l->d.n_codes && !l->d.n_cfuncs && !l->d.n_threads && !l->d.n_names;
}

/* Frees one definition and its strings (NULL: nothing). */
static void file_def_free(Rewind__FileDef *f)
{
    if (!f)
        return;
    rw_free(f->path);
    rw_free(f->source.data);
    rw_free(f);
}

static void code_def_free(Rewind__CodeDef *c)
{
    if (!c)
        return;
    rw_free(c->name);
    rw_free(c->qualname);
    for (size_t j = 0; j < c->n_arg_names; j++)
        rw_free(c->arg_names[j]);
    rw_free(c->arg_names);
    rw_free(c->lines);
    rw_free(c);
}

static void cfunc_def_free(Rewind__CFuncDef *c)
{
    if (!c)
        return;
    rw_free(c->label);
    rw_free(c->name);
    rw_free(c->module);
    rw_free(c);
}

static void thread_def_free(Rewind__ThreadDef *t)
{
    if (!t)
        return;
    rw_free(t->name);
    rw_free(t);
}

static void name_def_free(Rewind__NameDef *n)
{
    if (!n)
        return;
    rw_free(n->text);
    rw_free(n);
}

static void def_list_clear(def_list *l)
{
    for (size_t i = 0; i < l->d.n_files; i++)
        file_def_free(l->d.files[i]);
    for (size_t i = 0; i < l->d.n_codes; i++)
        code_def_free(l->d.codes[i]);
    for (size_t i = 0; i < l->d.n_cfuncs; i++)
        cfunc_def_free(l->d.cfuncs[i]);
    for (size_t i = 0; i < l->d.n_threads; i++)
        thread_def_free(l->d.threads[i]);
    for (size_t i = 0; i < l->d.n_names; i++)
        name_def_free(l->d.names[i]);
    l->d.n_files = l->d.n_codes = l->d.n_cfuncs = l->d.n_threads = l->d.n_names = 0;
}

static void def_list_fini(def_list *l)
{
    def_list_clear(l);
    rw_free(l->d.files);
    rw_free(l->d.codes);
    rw_free(l->d.cfuncs);
    rw_free(l->d.threads);
    rw_free(l->d.names);
}

/* The writer thread never frees what a producer allocated (as with inputs): a
 * producer that a termination signal interrupts inside malloc holds its arena's lock
 * while its handler waits for this thread, and free() of one of its blocks waits for
 * that lock: the trace was left without its end (a spawn Pool's worker terminated
 * while it defined its imports' code, 10 s later). So written definitions go, list
 * arrays and all, on a lock-free stack that the next producer to define something
 * frees. Out of memory for the node, they are freed here, as before. */
static void spent_push(rw_writer *w, def_list *l)
{
    spent_defs *n = rw_malloc(sizeof *n);
    if (!n) {
        def_list_clear(l);
        return;
    }
    n->l = *l;
    def_list_init(l);
    n->next = atomic_load(&w->spent);
    while (!atomic_compare_exchange_weak(&w->spent, &n->next, n))
        ;
}

/* Frees a stack that spent_push made (taken whole with atomic_exchange). */
static void spent_free(spent_defs *n)
{
    while (n) {
        spent_defs *next = n->next;
        def_list_fini(&n->l);
        rw_free(n);
        n = next;
    }
}

/* A producer's part: frees what the writer thread has written. */
static void spent_recycle(rw_writer *w)
{
    if (atomic_load_explicit(&w->spent, memory_order_relaxed))
        spent_free(atomic_exchange(&w->spent, NULL));
}

/* Moves every definition of src to the end of dst. Returns -1 when out of memory
 * (src is left as it was). */
static int def_list_move(def_list *dst, def_list *src)
{
#define MOVE(field, capfield)                                                        \
    for (size_t i = 0; i < src->d.n_##field; i++)                                    \
        DEF_PUSH(dst, field, capfield, src->d.field[i]);                             \
    src->d.n_##field = 0;
    MOVE(files, cap_files)
    MOVE(codes, cap_codes)
    MOVE(cfuncs, cap_cfuncs)
    MOVE(threads, cap_threads)
    MOVE(names, cap_names)
#undef MOVE
    return 0;
oom:
    return -1;
}

/* A definition could not be recorded (out of memory): from now on every definition
 * is dropped, and the writer thread ends the trace before the first record that may
 * use one (take_defs). A lost definition must not end the program, and a trace with
 * a hole in its definitions would not read. defs_mu held; releases it. */
static void def_lost(rw_writer *w)
{
    w->defs_lost = 1;
    producer_unlock(&w->defs_mu);
}

/* Each rw_writer_def_* builds its definition outside the lock, then appends it to
 * the pending list, unless an allocation failed or a definition was lost before
 * (then it frees what it built and def_lost makes the loss sticky). */

void rw_writer_def_file(rw_writer *w, uint32_t id, const char *path, const char *source,
                        size_t source_len, int has_source)
{
    spent_recycle(w);
    Rewind__FileDef *f = rw_malloc(sizeof *f);
    int ok = f != NULL;
    if (ok) {
        rewind__file_def__init(f);
        f->id = id;
        f->path = xstrdup(path);
        f->has_source = has_source && source;
        ok = f->path != NULL;
        if (ok && f->has_source) {
            f->source.data = rw_malloc(source_len ? source_len : 1);
            ok = f->source.data != NULL;
            if (ok) {
                memcpy(f->source.data, source, source_len);
                f->source.len = source_len;
            }
        }
    }
    producer_lock(&w->defs_mu);
    if (!ok || w->defs_lost)
        goto oom;
    DEF_PUSH(&w->pending, files, cap_files, f);
    producer_unlock(&w->defs_mu);
    return;
oom:
    def_lost(w);
    file_def_free(f);
}

void rw_writer_def_file_lazy(rw_writer *w, uint32_t id, const char *path)
{
    spent_recycle(w);
    Rewind__FileDef *f = rw_malloc(sizeof *f);
    int ok = f != NULL;
    if (ok) {
        rewind__file_def__init(f);
        f->id = id;
        f->path = xstrdup(path);
        f->has_source = 1; /* "read me": resolved by the writer thread */
        f->source.data = NULL;
        ok = f->path != NULL;
    }
    producer_lock(&w->defs_mu);
    if (!ok || w->defs_lost)
        goto oom;
    DEF_PUSH(&w->pending, files, cap_files, f);
    producer_unlock(&w->defs_mu);
    return;
oom:
    def_lost(w);
    file_def_free(f);
}

void rw_writer_def_code(rw_writer *w, uint32_t id, uint32_t file, const char *name,
                        const char *qualname, uint32_t first_line, uint32_t flags,
                        const char *const *arg_names, size_t nargs)
{
    spent_recycle(w);
    Rewind__CodeDef *c = rw_malloc(sizeof *c);
    int ok = c != NULL;
    if (ok) {
        rewind__code_def__init(c);
        c->id = id;
        c->file = file;
        c->name = xstrdup(name);
        c->qualname = xstrdup(qualname);
        c->first_line = first_line;
        c->flags = flags;
        ok = c->name && c->qualname;
        if (ok && nargs) {
            c->arg_names = rw_calloc(nargs, sizeof *c->arg_names);
            ok = c->arg_names != NULL;
            for (size_t i = 0; ok && i < nargs; i++)
                ok = (c->arg_names[c->n_arg_names++] = xstrdup(arg_names[i])) != NULL;
        }
    }
    producer_lock(&w->defs_mu);
    if (!ok || w->defs_lost)
        goto oom;
    DEF_PUSH(&w->pending, codes, cap_codes, c);
    producer_unlock(&w->defs_mu);
    return;
oom:
    def_lost(w);
    code_def_free(c);
}

void rw_writer_def_code_lines(rw_writer *w, uint32_t id, const uint32_t *lines, size_t n,
                              uint32_t parent)
{
    spent_recycle(w);
    uint32_t *v = NULL;
    if (n && !(v = rw_malloc(n * sizeof *v))) {
        producer_lock(&w->defs_mu);
        def_lost(w); /* the code's lines would be wrong: lose it as a whole */
        return;
    }
    if (n)
        memcpy(v, lines, n * sizeof *v);
    producer_lock(&w->defs_mu);
    size_t nc = w->pending.d.n_codes;
    Rewind__CodeDef *c = nc ? w->pending.d.codes[nc - 1] : NULL;
    if (c && c->id == id) {
        c->parent = parent;
        if (n) {
            rw_free(c->lines);
            c->lines = v;
            c->n_lines = n;
            v = NULL;
        }
    }
    producer_unlock(&w->defs_mu);
    rw_free(v);
}

void rw_writer_def_cfunc(rw_writer *w, uint32_t id, const char *label, const char *name,
                         const char *module)
{
    spent_recycle(w);
    Rewind__CFuncDef *c = rw_malloc(sizeof *c);
    int ok = c != NULL;
    if (ok) {
        rewind__cfunc_def__init(c);
        c->id = id;
        c->label = xstrdup(label);
        c->name = xstrdup(name);
        c->module = xstrdup(module);
        ok = c->label && c->name && c->module;
    }
    producer_lock(&w->defs_mu);
    if (!ok || w->defs_lost)
        goto oom;
    DEF_PUSH(&w->pending, cfuncs, cap_cfuncs, c);
    producer_unlock(&w->defs_mu);
    return;
oom:
    def_lost(w);
    cfunc_def_free(c);
}

void rw_writer_def_thread(rw_writer *w, uint32_t id, uint64_t ident, uint64_t native_id,
                          const char *name, int is_main)
{
    spent_recycle(w);
    Rewind__ThreadDef *t = rw_malloc(sizeof *t);
    int ok = t != NULL;
    if (ok) {
        rewind__thread_def__init(t);
        t->id = id;
        t->ident = ident;
        t->native_id = native_id;
        t->name = xstrdup(name);
        t->is_main = is_main != 0;
        ok = t->name != NULL;
    }
    producer_lock(&w->defs_mu);
    if (!ok || w->defs_lost)
        goto oom;
    DEF_PUSH(&w->pending, threads, cap_threads, t);
    producer_unlock(&w->defs_mu);
    return;
oom:
    def_lost(w);
    thread_def_free(t);
}

void rw_writer_def_name(rw_writer *w, uint32_t id, const char *text)
{
    spent_recycle(w);
    Rewind__NameDef *n = rw_malloc(sizeof *n);
    int ok = n != NULL;
    if (ok) {
        rewind__name_def__init(n);
        n->id = id;
        n->text = xstrdup(text);
        ok = n->text != NULL;
    }
    producer_lock(&w->defs_mu);
    if (!ok || w->defs_lost)
        goto oom;
    DEF_PUSH(&w->pending, names, cap_names, n);
    producer_unlock(&w->defs_mu);
    return;
oom:
    def_lost(w);
    name_def_free(n);
}

/* ---- inputs ------------------------------------------------------------------ */

/* Forks seen by this process (pthread_atfork): a writer belongs to the process that
 * opened it. A fork child has the parent's writer in its memory but not its thread;
 * its inputs must neither reach the parent's file nor wait for room forever.
 *
 * A fork copies the calling thread only, and every lock as it was at that instant: one
 * the writer thread held then is held in the child for good. glibc's fork takes its
 * malloc locks around the copy, but the AddressSanitizer runtime of GCC 12 takes none
 * of its own (a size class's mutex, its thread registry): a child forked while the
 * writer thread allocated (when it starts, and when it writes definitions) hung at its
 * first allocation of that size or its first new thread. A recorded program's child
 * that forked again right after opening its own trace hung that way, its child's
 * writer thread stuck starting (test_exits' fork in a thread, 1 run in 40). So the
 * writers with a thread in this process are listed, and fork_prepare makes each
 * thread wait between two passes, at the top of its loop, holding nothing, until the
 * fork is made. */
static _Atomic unsigned fork_gen;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER; /* held across a fork */
static rw_writer *live;

/* This process's id, by the system call: getpid is a logged input while recording
 * (recorder/libc/ident.c), and a fork's handlers must log nothing (a replay makes no
 * fork). */
static pid_t self_pid(void)
{
    return (pid_t)syscall(SYS_getpid);
}

static void live_add(rw_writer *w)
{
    pthread_mutex_lock(&live_mu);
    w->owner = self_pid();
    w->live_next = live;
    live = w;
    pthread_mutex_unlock(&live_mu);
}

static void live_remove(rw_writer *w)
{
    pthread_mutex_lock(&live_mu);
    for (rw_writer **p = &live; *p; p = &(*p)->live_next) {
        if (*p == w) {
            *p = w->live_next;
            break;
        }
    }
    w->owner = 0;
    pthread_mutex_unlock(&live_mu);
}

/* Waits until every writer thread of this process is parked (writer_main). A thread
 * still starting is waited for too: its start allocates. A crash request unparks the
 * thread (the process is ending). */
static void fork_prepare(void)
{
    pthread_mutex_lock(&live_mu);
    pid_t me = self_pid();
    for (rw_writer *w = live; w; w = w->live_next) {
        if (w->owner != me)
            continue; /* a _Fork copy's writer whose thread was not restarted */
        pthread_mutex_lock(&w->mu);
        w->fork_hold = 1;
        pthread_cond_signal(&w->cv_work);
        while (!w->parked)
            pthread_cond_wait(&w->cv_fork, &w->mu);
        pthread_mutex_unlock(&w->mu);
    }
}

static void fork_parent(void)
{
    pid_t me = self_pid();
    for (rw_writer *w = live; w; w = w->live_next) {
        if (w->owner != me)
            continue;
        pthread_mutex_lock(&w->mu);
        w->fork_hold = 0;
        pthread_cond_signal(&w->cv_work);
        pthread_mutex_unlock(&w->mu);
    }
    pthread_mutex_unlock(&live_mu);
}

static void fork_child(void)
{
    atomic_fetch_add_explicit(&fork_gen, 1, memory_order_relaxed);
    /* No writer thread is copied: the list starts empty (its lock is held by the
     * parent's fork_prepare). */
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    live_mu = fresh;
    live = NULL;
}

static void fork_init(void)
{
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* Tells the writer thread that a producer waits for room (takes mu; call without
 * in_mu). */
static void inputs_wake(rw_writer *w)
{
    producer_lock(&w->mu);
    w->in_wake = 1;
    pthread_cond_signal(&w->cv_work);
    producer_unlock(&w->mu);
}

static void free_inputs(in_node *n);

void rw_writer_input(rw_writer *w, const rw_input *in)
{
    if (atomic_load_explicit(&fork_gen, memory_order_relaxed) != w->gen)
        return;
    size_t klen = in->key ? in->key_len : 0, dlen = in->data ? in->data_len : 0;
    uint32_t flags = in->flags;
    if (klen > RW_INPUT_KEY_MAX) {
        klen = RW_INPUT_KEY_MAX;
        flags |= RW_INPUT_F_TRUNCATED;
    }
    if (dlen > RW_INPUT_DATA_MAX) {
        dlen = RW_INPUT_DATA_MAX;
        flags |= RW_INPUT_F_TRUNCATED;
    }
    /* Copied before the lock: a fault in the caller's memory never happens with it
     * held (the crash path takes it). */
    size_t size = sizeof(in_node) + klen + dlen;
    in_node *n = rw_malloc(size);
    if (n) {
        n->next = NULL;
        n->size = size;
        n->in = *in;
        n->in.flags = flags;
        uint8_t *p = (uint8_t *)(n + 1);
        if (klen)
            memcpy(p, in->key, klen);
        n->in.key = p;
        n->in.key_len = klen;
        if (dlen)
            memcpy(p + klen, in->data, dlen);
        n->in.data = p + klen;
        n->in.data_len = dlen;
    }
    /* A plain lock, signals not blocked (a record's cost stays one lock and one
     * malloc): the writer thread, which a signal handler on this very thread may be
     * waiting for (rw_writer_crash), never waits for in_mu (inputs_lock), nor frees a
     * node (the producers do, below: a node is in its producer's malloc arena, whose
     * lock this thread may hold). Nothing in here faults; the wait releases it. */
    pthread_mutex_lock(&w->in_mu);
    in_node *done = w->in_recycle;
    w->in_recycle = NULL;
    if (!n)
        w->in_lost = 1; /* the writer thread ends the trace (write_inputs) */
    /* Room: wait for the writer thread to take the pending ones. One record bigger
     * than the bound goes alone. */
    while (n && !w->in_done && !w->in_lost && w->in_bytes &&
           w->in_bytes + size > INPUTS_PENDING_MAX) {
        pthread_mutex_unlock(&w->in_mu);
        inputs_wake(w);
        pthread_mutex_lock(&w->in_mu);
        /* Untimed: a timeout would need the clock, a call the wrappers log, from
         * inside the logging of a call. inputs_done wakes it. */
        if (!w->in_done && w->in_bytes && w->in_bytes + size > INPUTS_PENDING_MAX)
            pthread_cond_wait(&w->cv_in, &w->in_mu);
    }
    if (n && !w->in_done && !w->in_lost) {
        *w->in_tail = n;
        w->in_tail = &n->next;
        w->in_bytes += size;
        n = NULL;
    }
    pthread_mutex_unlock(&w->in_mu);
    rw_free(n);
    free_inputs(done);
}

static void free_inputs(in_node *n)
{
    while (n) {
        in_node *next = n->next;
        rw_free(n);
        n = next;
    }
}

/* Reads a lazily defined file's source (writer thread). Leaves has_source = 0 when
 * the file cannot be read or is too big. */
static void load_source(rw_writer *w, Rewind__FileDef *f)
{
    f->has_source = 0;
    if (!f->path || !f->path[0] || f->path[0] == '<')
        return;
    char buf[4096];
    const char *path = f->path;
    if (path[0] != '/' && w->base_dir) {
        if (snprintf(buf, sizeof buf, "%s/%s", w->base_dir, path) >= (int)sizeof buf)
            return;
        path = buf;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)SOURCE_MAX) {
        close(fd);
        return;
    }
    size_t len = (size_t)st.st_size, got = 0;
    uint8_t *data = rw_malloc(len ? len : 1);
    if (!data) {
        close(fd);
        return;
    }
    while (got < len) {
        ssize_t n = read(fd, data + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    f->source.data = data;
    f->source.len = got;
    f->has_source = 1;
}

/* ---- frames ------------------------------------------------------------------- */

static void fail(rw_writer *w, rw_code rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(rw_writer *w, rw_code rc, const char *fmt, ...)
{
    if (w->first_rc != RW_OK)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->first_err.msg, sizeof w->first_err.msg, fmt, ap);
    va_end(ap);
    w->first_err.code = rc;
    w->first_rc = rc;
}

/* Stops all further writes (sticky): the file ends with the last whole frame, and the
 * events in it are those of the chunks written so far. */
static void stop_writing(rw_writer *w)
{
    if (w->failed)
        return;
    w->failed = 1;
    w->failed_at_event = w->events_written;
}

/* Out of memory on the writer thread: ends the recording cleanly, saying where. */
static void stop_oom(rw_writer *w, const char *what)
{
    fail(w, RW_ENOMEM, "out of memory after %llu events: the trace ends there (%s)",
         (unsigned long long)w->events_written, what);
    stop_writing(w);
}

static int index_push(rw_writer *w, unsigned type, uint64_t offset, uint32_t stored,
                      const rw_chunk_info *ci)
{
    if (w->nindex == w->capindex) {
        size_t cap = w->capindex ? w->capindex * 2 : 256;
        Rewind__IndexEntry *v = rw_realloc(w->index, cap * sizeof *v);
        if (!v)
            return -1;
        w->index = v;
        w->capindex = cap;
    }
    Rewind__IndexEntry *e = &w->index[w->nindex++];
    rewind__index_entry__init(e);
    e->type = type;
    e->offset = offset;
    e->stored_len = stored;
    if (ci) {
        e->first_event = ci->first_event;
        e->event_count = ci->event_count;
        e->record_count = ci->record_count;
        e->first_tick = ci->first_tick;
        e->last_tick = ci->last_tick;
        if (ci->filter_len && (e->line_filter.data = rw_malloc(ci->filter_len))) {
            memcpy(e->line_filter.data, ci->filter, ci->filter_len);
            e->line_filter.len = ci->filter_len;
        }
        if (ci->nfps && (e->fingerprint = rw_malloc(ci->nfps * sizeof *e->fingerprint))) {
            memcpy(e->fingerprint, ci->fps, ci->nfps * sizeof *e->fingerprint);
            e->n_fingerprint = ci->nfps;
        }
    }
    return 0;
}

/* Appends one frame at w->offset. On failure cuts the file back to w->offset and
 * stops all further writes. */
static void write_frame(rw_writer *w, unsigned type, const uint8_t *payload, size_t len,
                        const rw_chunk_info *ci)
{
    if (w->failed)
        return;
    size_t flen;
    rw_err err;
    if (rw_frame_build_in(&w->fb, type, payload, len, w->opts.zstd_level, &flen, &err) !=
        RW_OK) {
        if (err.code == RW_ENOMEM) {
            stop_oom(w, err.msg);
        } else {
            fail(w, err.code, "%s", err.msg);
            stop_writing(w);
        }
        return;
    }
    const uint8_t *frame = w->fb.buf;
    size_t done = 0;
    while (done < flen) {
        ssize_t n = pwrite(w->fd, frame + done, flen - done, (off_t)(w->offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : ENOSPC;
            fail(w, RW_EIO, "writing the trace at byte %llu: %s",
                 (unsigned long long)(w->offset + done), strerror(e));
            stop_writing(w);
            if (ftruncate(w->fd, (off_t)w->offset) < 0) {
                /* The torn frame stays; readers stop at it (CRC). */
            }
            return;
        }
        done += (size_t)n;
    }
    /* Chunks are written in order and whole: each continues the numbering. */
    assert(!ci || ci->first_event == w->events_written);
    int indexed = index_push(w, type, w->offset, (uint32_t)(flen - RW_FRAME_HEADER_LEN), ci) == 0;
    w->offset += flen;
    if (ci)
        w->events_written = ci->first_event + ci->event_count;
    /* The frame is whole, but an index without it would be wrong: end here (a reader
     * finds no index and scans, up to this frame). */
    if (!indexed)
        stop_oom(w, "the trace index");
    atomic_store_explicit(&w->st_bytes, w->offset, memory_order_relaxed);
}

/* Room for a payload of len bytes in w->pack (NULL: out of memory). */
static uint8_t *pack_room(rw_writer *w, size_t len)
{
    if (len > w->pack_cap || !w->pack) {
        size_t cap = w->pack_cap ? w->pack_cap : 4096;
        while (cap < len)
            cap *= 2;
        uint8_t *p = rw_realloc(w->pack, cap);
        if (!p)
            return NULL;
        w->pack = p;
        w->pack_cap = cap;
    }
    return w->pack;
}

/* Writes the definitions taken so far (sources of lazy files are read now). */
static void write_defs(rw_writer *w)
{
    if (def_list_empty(&w->taken))
        return;
    for (size_t i = 0; i < w->taken.d.n_files; i++) {
        Rewind__FileDef *f = w->taken.d.files[i];
        if (f->has_source && !f->source.data)
            load_source(w, f);
    }
    size_t len = rewind__definitions__get_packed_size(&w->taken.d);
    uint8_t *buf = pack_room(w, len);
    if (!buf) {
        stop_oom(w, "writing definitions");
        return;
    }
    rewind__definitions__pack(&w->taken.d, buf);
    write_frame(w, RW_FRAME_DEFINITIONS, buf, len, NULL);
    spent_push(w, &w->taken);
}

static void emit_chunk(rw_writer *w);

/* Writes n inputs from h as one INPUTS frame. */
static void write_input_frame(rw_writer *w, const in_node *h, size_t n)
{
    if (n > w->in_cap) {
        size_t cap = w->in_cap ? w->in_cap : 256;
        while (cap < n)
            cap *= 2;
        Rewind__Input *m = rw_realloc(w->in_msgs, cap * sizeof *m);
        if (m)
            w->in_msgs = m;
        Rewind__Input **p = m ? rw_realloc(w->in_ptrs, cap * sizeof *p) : NULL;
        if (p)
            w->in_ptrs = p;
        if (!m || !p)
            goto oom;
        w->in_cap = cap;
    }
    Rewind__Input *msgs = w->in_msgs;
    Rewind__Input **ptrs = w->in_ptrs;
    for (size_t i = 0; i < n; i++, h = h->next) {
        Rewind__Input *m = &msgs[i];
        rewind__input__init(m);
        m->thread = h->in.thread;
        m->seq = h->in.seq;
        m->position = h->in.position;
        m->started = h->in.started;
        m->call = h->in.call;
        m->result = h->in.result;
        m->err = h->in.err;
        m->flags = h->in.flags;
        m->key.data = (uint8_t *)h->in.key;
        m->key.len = h->in.key_len;
        m->data.data = (uint8_t *)h->in.data;
        m->data.len = h->in.data_len;
        ptrs[i] = m;
    }
    Rewind__Inputs msg = REWIND__INPUTS__INIT;
    msg.n_inputs = n;
    msg.inputs = ptrs;
    size_t len = rewind__inputs__get_packed_size(&msg);
    uint8_t *buf = pack_room(w, len);
    if (!buf)
        goto oom;
    rewind__inputs__pack(&msg, buf);
    write_frame(w, RW_FRAME_INPUTS, buf, len, NULL);
    if (!w->failed)
        atomic_fetch_add_explicit(&w->st_inputs, n, memory_order_relaxed);
    return;
oom:
    stop_oom(w, "writing inputs");
}

/* Takes the pending inputs and writes them as INPUTS frames, in the order they were
 * given. Once writes have stopped they are dropped, and so are later ones (in_done):
 * the program never waits for a writer that writes nothing. When a producer could
 * not copy one (out of memory), ends the trace as take_defs does for a definition:
 * the inputs before the loss and the events fed so far are written, nothing after. */
static int inputs_lock(rw_writer *w);

static void write_inputs(rw_writer *w)
{
    /* Two rounds at most: what a crash request left (in_taken), then what is pending
     * now. A producer faster than this thread waits at the bound instead of keeping it
     * here. */
    for (int round = 0; round < 2; round++) {
        if (!inputs_lock(w))
            return; /* a crash request waits, or cannot have the lock: a later pass */
        /* Hand the inputs written last time back to the producers, who free them. */
        if (w->in_written) {
            in_node *t = w->in_written;
            while (t->next)
                t = t->next;
            t->next = w->in_recycle;
            w->in_recycle = w->in_written;
            w->in_written = NULL;
        }
        if (!w->in_taken) {
            w->in_taken = w->in_head;
            w->in_head = NULL;
            w->in_tail = &w->in_head;
            w->in_bytes = 0;
            pthread_cond_broadcast(&w->cv_in);
        }
        int lost = w->in_lost;
        if (w->failed)
            w->in_done = 1;
        pthread_mutex_unlock(&w->in_mu);
        if (!w->in_taken) {
            if (lost && !w->failed && !w->in_stopping) {
                w->in_stopping = 1;
                emit_chunk(w);
                stop_oom(w, "recording an input");
            }
            return;
        }
        while (w->in_taken) {
            /* A dump waits for this thread: it comes first, the rest after it. */
            if (!w->in_crash && atomic_load(&w->crash_state) == 1)
                return;
            in_node *h = w->in_taken, *e = h;
            size_t n = 0, est = 0;
            while (e && (n == 0 || est + INPUT_OVERHEAD + e->in.key_len + e->in.data_len <=
                                       INPUTS_FRAME_TARGET)) {
                est += INPUT_OVERHEAD + e->in.key_len + e->in.data_len;
                n++;
                e = e->next;
            }
            if (!w->failed)
                write_input_frame(w, h, n);
            while (h != e) {
                in_node *next = h->next;
                h->next = w->in_written;
                w->in_written = h;
                h = next;
            }
            w->in_taken = e;
        }
    }
}

/* No more inputs are taken (the writer thread is gone or the file is finished):
 * producers drop them instead of waiting for room. In a closing crash request the lock
 * may not come (inputs_lock): a producer waiting for room then waits for the end of
 * the process, which that request is for. */
static void inputs_done(rw_writer *w)
{
    atomic_store(&w->in_done, 1);
    if (inputs_lock(w)) {
        pthread_cond_broadcast(&w->cv_in);
        pthread_mutex_unlock(&w->in_mu);
    }
}

/* Takes in_mu on the writer thread: 1 when held. A producer holds it for a few
 * instructions, but a producer interrupted by a dump or termination signal holds it
 * until its handler returns, and the handler waits for this thread (producers do not
 * block signals for it). So: never block on it. Outside a crash request, try until
 * it is free or a crash request comes (0: that request is carried out first); in
 * one, try for at most CRASH_INPUTS_MS, once per request. The inputs stay pending, in
 * order, for a later pass. */
#define CRASH_INPUTS_MS 100
static int inputs_lock(rw_writer *w)
{
    if (!w->in_crash) {
        while (pthread_mutex_trylock(&w->in_mu) != 0) {
            if (atomic_load(&w->crash_state) == 1)
                return 0;
            nanosleep(&(struct timespec){0, 20000L}, NULL);
        }
        return 1;
    }
    for (int i = 0; w->in_crash == 1 && i < CRASH_INPUTS_MS * 10; i++) {
        if (pthread_mutex_trylock(&w->in_mu) == 0)
            return 1;
        nanosleep(&(struct timespec){0, 100000L}, NULL);
    }
    w->in_crash = 2;
    return 0;
}

/* Moves pending definitions to `taken` and tells the encoder the first lines. When a
 * producer lost a definition (def_lost), ends the trace: the records fed so far were
 * all published before this call's lock, so before the loss, and cannot use the lost
 * id (a definition comes before the records that use it); they are written, and
 * nothing after them. */
static void take_defs(rw_writer *w)
{
    pthread_mutex_lock(&w->defs_mu);
    size_t c0 = w->taken.d.n_codes;
    int bad = def_list_move(&w->taken, &w->pending);
    int lost = w->defs_lost;
    pthread_mutex_unlock(&w->defs_mu);
    if (bad) {
        stop_oom(w, "collecting definitions");
        return;
    }
    for (size_t i = c0; i < w->taken.d.n_codes; i++) {
        if (rw_encoder_def_code(w->enc, w->taken.d.codes[i]->id,
                                w->taken.d.codes[i]->first_line) != RW_OK) {
            /* CALL lines of that code would be stored against the wrong base. */
            stop_oom(w, "code definitions");
            return;
        }
    }
    if (lost && !w->failed) {
        emit_chunk(w);
        stop_oom(w, "recording a definition");
    }
}

static void emit_chunk(rw_writer *w)
{
    if (rw_encoder_pending(w->enc) == 0)
        return;
    size_t len;
    rw_chunk_info ci;
    rw_err err;
    if (rw_encoder_finish_into(w->enc, &w->chunk, &w->chunk_cap, &len, &ci, &err) != RW_OK) {
        if (err.code == RW_ENOMEM) {
            stop_oom(w, err.msg);
        } else {
            fail(w, err.code, "%s", err.msg);
            stop_writing(w);
        }
        return;
    }
    write_defs(w);
    write_inputs(w);
    write_frame(w, RW_FRAME_CHUNK, w->chunk, len, &ci);
    clock_gettime(CLOCK_MONOTONIC, &w->last_emit);
    atomic_fetch_add_explicit(&w->st_chunks, 1, memory_order_relaxed);
}

/* Events and records taken so far: the encoder's, or the sink's. */
static uint64_t taken_events(const rw_writer *w)
{
    return w->opts.sink ? w->sink_events : rw_encoder_events(w->enc);
}

static uint64_t taken_records(const rw_writer *w)
{
    return w->opts.sink ? w->sink_records : rw_encoder_records(w->enc);
}

/* ---- writer thread ------------------------------------------------------------ */

static int head_sealed(rw_writer *w)
{
    return atomic_load_explicit(&w->head->sealed, memory_order_acquire);
}

/* Consumes what is visible in the blocks, at most `budget` blocks (a producer faster
 * than this thread would otherwise keep it here forever), and returns early when a
 * crash request waits (unless this is the crash request's own pass). Called without
 * mu. With `partial` 0 it stops at the producer's block: reading that block while
 * the producer writes it would bounce its cache lines (pub, and the records) between
 * the two cores on every record. */
static void consume_some(rw_writer *w, size_t budget, int for_crash, int partial)
{
    for (; budget > 0; budget--) {
        rw_block *b = w->head;
        int sealed = atomic_load_explicit(&b->sealed, memory_order_acquire);
        if (!sealed && !partial)
            return;
        uint32_t fill = rw_block_fill(b);
        if (w->head_idx < fill)
            producers_fence(w); /* the records below fill, stored non-temporally */
        take_defs(w);
        if (w->opts.sink && w->head_idx < fill) {
            w->sink_events += w->opts.sink(w->opts.sink_ctx, &b->recs[w->head_idx],
                                           fill - w->head_idx);
            w->sink_records += fill - w->head_idx;
            w->head_idx = fill;
        }
        while (w->head_idx < fill) {
            size_t used = 0;
            rw_err err;
            rw_code rc = rw_encoder_feed(w->enc, &b->recs[w->head_idx], fill - w->head_idx,
                                         w->opts.chunk_records, &used, &err);
            w->head_idx += (uint32_t)used;
            if (rc != RW_OK) {
                if (rc == RW_ENOMEM) {
                    stop_oom(w, err.msg);
                } else {
                    fail(w, rc, "%s", err.msg);
                    stop_writing(w);
                }
                w->head_idx = fill; /* drop the rest of this block */
            }
            /* a GEN that ends this block waits for its CALL in the next one */
            if (rw_encoder_pending(w->enc) >= w->opts.chunk_records &&
                !(rw_encoder_after_gen(w->enc) && !w->failed)) {
                emit_chunk(w);
                if (rw_encoder_pending(w->enc) >= w->opts.chunk_records) {
                    /* The chunk could not be finished (out of memory): writes have
                     * stopped and the full encoder takes no more; drop the rest. */
                    assert(w->failed);
                    w->head_idx = fill;
                }
            }
        }
        atomic_store_explicit(&w->st_events, taken_events(w), memory_order_relaxed);
        atomic_store_explicit(&w->st_records, taken_records(w), memory_order_relaxed);
        if (!sealed)
            return;
        /* The producer is done with b: recycle it. */
        pthread_mutex_lock(&w->mu);
        rw_block *next = b->next;
        b->next = w->free_list;
        w->free_list = b;
        w->head = next;
        w->head_idx = 0;
        pthread_cond_signal(&w->cv_free);
        pthread_mutex_unlock(&w->mu);
        if (!for_crash && atomic_load(&w->crash_state) == 1)
            return;
    }
}

static void consume(rw_writer *w, int partial) { consume_some(w, SIZE_MAX, 0, partial); }

static int64_t ms_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

static void write_tail(rw_writer *w, Rewind__RunEnd *end);
static int do_crash_work(rw_writer *w, const rw_crash_req *req);

/* Carries out a crash request on the writer thread. Returns 1 when it closed the
 * trace. */
static int do_crash(rw_writer *w, const rw_crash_req *req)
{
    /* Inputs before a closing report (the process ends); a dump leaves them to the
     * next pass, so that the thread waiting for it waits for no backlog of them. */
    w->in_crash = req->close ? 1 : 2;
    /* A closing request's process ends: the thread that waits for this one (a signal
     * handler) may hold a malloc arena's lock (alloc.h). A dump's goes on, and its
     * handler gives up waiting after a while. */
    rw_alloc_dying(req->close);
    int closed = do_crash_work(w, req);
    rw_alloc_dying(0);
    w->in_crash = 0;
    return closed;
}

static int do_crash_work(rw_writer *w, const rw_crash_req *req)
{
    /* Everything appended before the request, including what arrived since this
     * thread's last pass: at most every block there is, since the program may go on
     * appending (a dump) faster than this thread encodes. */
    consume_some(w, w->opts.max_blocks + 1, 1, 1);
    emit_chunk(w);
    take_defs(w);
    write_defs(w);
    write_inputs(w);
    uint64_t at = w->offset;
    size_t before = w->nindex;
    write_frame(w, RW_FRAME_CRASH, req->payload, req->len, NULL);
    if (w->nindex > before && w->index[before].offset == at)
        w->index[before].first_event = taken_events(w);
    if (!req->close)
        return 0;
    Rewind__RunEnd end = REWIND__RUN_END__INIT;
    end.exit_status = req->exit_status;
    end.term_signal = req->term_signal;
    end.stop_reason = (char *)(req->stop_reason ? req->stop_reason : "signal");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    end.end_unix_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    write_tail(w, &end);
    w->closed = 1;
    stop_writing(w); /* nothing may be written after the trailer */
    inputs_done(w);
    return 1;
}

/* The writer thread's first work, which rw_writer_open waits for: its encoder, its
 * scratch buffers, the header and the METADATA frame. Every heap block this thread
 * grows or frees later is made here or after, on this thread, so none is in a
 * producer's malloc arena: a producer that a terminating signal interrupts inside
 * malloc holds its arena's lock while its handler waits for this thread, and this
 * thread's realloc of a block of that arena waited for the lock until the handler gave
 * up (the pack buffer, made by rw_writer_open on the program's thread: a pool worker
 * terminated while it defined a code object, its trace left without its end, 2
 * test_exits runs in 30 beside test_values; definitions and inputs were made safe the
 * same way before, spent_push and in_recycle). */
static uint64_t file_id_new(void);

static rw_code writer_init(rw_writer *w, rw_err *err)
{
    const char *path = w->init_path;
    w->enc = rw_encoder_new(w->opts.time_shift);
    if (!w->enc)
        return rw_err_set(err, RW_ENOMEM, "out of memory for the trace buffer");
    rw_encoder_set_line_times(w->enc, w->opts.line_times);
    uint8_t hdr[RW_HEADER_LEN];
    rw_header_encode(hdr, file_id_new());
    if (pwrite(w->fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr)
        return rw_err_set(err, RW_EIO, "cannot write %s: %s", path, strerror(errno));
    w->offset = RW_HEADER_LEN;
    size_t len = rewind__metadata__get_packed_size(w->init_meta);
    /* The scratch starts at a size most frames fit in (no allocation per frame). */
    uint8_t *buf = pack_room(w, len > 65536 ? len : 65536);
    if (!buf || rw_frame_buf_reserve(&w->fb, 65536, w->opts.zstd_level) != 0)
        return rw_err_set(err, RW_ENOMEM, "out of memory writing metadata");
    rewind__metadata__pack(w->init_meta, buf);
    write_frame(w, RW_FRAME_METADATA, buf, len, NULL);
    if (w->failed)
        return rw_err_set(err, w->first_err.code, "%s: %s", path, w->first_err.msg);
    return RW_OK;
}

static void *writer_main(void *arg)
{
    rw_writer *w = arg;
    /* Signals are for the program's threads; a file size limit must give EFBIG here
     * rather than kill the process. */
    pthread_once(&async_once, async_sigs_init);
    pthread_sigmask(SIG_BLOCK, &async_sigs, NULL);

    if (!w->init_done) { /* not a fork's copy (rw_writer_fork_child) */
        rw_err ierr = {0};
        rw_code irc = writer_init(w, &ierr);
        pthread_mutex_lock(&w->mu);
        w->init_err = ierr;
        w->init_rc = irc;
        w->init_done = 1;
        pthread_cond_broadcast(&w->cv_done);
        if (irc != RW_OK) {
            w->parked = 1; /* a fork made meanwhile waits for no pass of this thread */
            pthread_cond_broadcast(&w->cv_fork);
            pthread_mutex_unlock(&w->mu);
            return NULL; /* rw_writer_open joins it */
        }
        pthread_mutex_unlock(&w->mu);
    }

    pthread_mutex_lock(&w->mu);
    for (;;) {
        /* A fork is being made (fork_prepare): wait for its end here, holding
         * nothing. A crash request is served at once, fork or not. */
        while (w->fork_hold && atomic_load(&w->crash_state) != 1) {
            if (!w->parked) {
                w->parked = 1;
                pthread_cond_broadcast(&w->cv_fork);
            }
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += CRASH_POLL_MS * 1000000L;
            ts.tv_sec += ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&w->cv_work, &w->mu, &ts);
        }
        w->parked = 0;
        while (!w->stop && w->flush_req == w->flush_done && !head_sealed(w) && !w->in_wake &&
               !w->fork_hold && atomic_load(&w->crash_state) != 1) {
            uint32_t ms = w->opts.flush_ms && w->opts.flush_ms < CRASH_POLL_MS
                              ? w->opts.flush_ms : CRASH_POLL_MS;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += (long)ms * 1000000L;
            ts.tv_sec += ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
            if (pthread_cond_timedwait(&w->cv_work, &w->mu, &ts) != 0)
                break; /* timeout: periodic flush, crash requests */
        }
        if (w->fork_hold && atomic_load(&w->crash_state) != 1)
            continue; /* park first */
        uint64_t req = w->flush_req;
        int stop = w->stop, in_wake = w->in_wake;
        w->in_wake = 0;
        pthread_mutex_unlock(&w->mu);

        /* Sealed blocks only, unless everything must be written now. */
        int due = w->opts.flush_ms && ms_since(&w->last_emit) >= (int64_t)w->opts.flush_ms;
        int all = req != w->flush_done || stop || due;
        consume(w, all);
        if (all) {
            emit_chunk(w);
            take_defs(w);
            write_defs(w);
        }
        if (all || in_wake)
            write_inputs(w);
        int crash_closed = 0;
        if (atomic_load(&w->crash_state) == 1) {
            atomic_store(&w->crash_state, 2);
            crash_closed = do_crash(w, atomic_load(&w->crash_req));
            atomic_store(&w->crash_state, 3);
        }

        pthread_mutex_lock(&w->mu);
        if (crash_closed)
            break;
        if (req != w->flush_done) {
            w->flush_done = req;
            pthread_cond_broadcast(&w->cv_done);
        }
        if (stop)
            break;
    }
    w->parked = 1; /* for good: a fork no longer waits for this thread */
    pthread_cond_broadcast(&w->cv_fork);
    pthread_mutex_unlock(&w->mu);
    struct timespec cpu;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0)
        atomic_store_explicit(&w->st_cpu_ns,
                              (uint64_t)cpu.tv_sec * 1000000000u + (uint64_t)cpu.tv_nsec,
                              memory_order_relaxed);
    return NULL;
}

/* ---- open / flush / close ----------------------------------------------------- */

static uint64_t file_id_new(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    x ^= (uint64_t)getpid() << 32;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

static int close_trace_fd(rw_writer *w)
{
    return w->opts.close_fd ? w->opts.close_fd(w->fd) : close(w->fd);
}

static void writer_destroy(rw_writer *w)
{
    rw_alloc_release(); /* what a closing crash request let go of: the process lived on */
    live_remove(w);
    rw_encoder_free(w->enc);
    def_list_fini(&w->pending);
    def_list_fini(&w->taken);
    spent_free(atomic_exchange(&w->spent, NULL));
    free_inputs(w->in_head);
    free_inputs(w->in_taken);
    free_inputs(w->in_written);
    free_inputs(w->in_recycle);
    for (size_t i = 0; i < w->nindex; i++) {
        rw_free(w->index[i].line_filter.data);
        rw_free(w->index[i].fingerprint);
    }
    rw_free(w->index);
    rw_free(w->base_dir);
    while (w->free_list) {
        rw_block *b = w->free_list;
        w->free_list = b->next;
        block_free(b);
    }
    for (rw_block *b = w->head; b;) {
        rw_block *n = b->next;
        block_free(b);
        b = n;
    }
    rw_frame_buf_free(&w->fb);
    rw_free(w->pack);
    rw_free(w->chunk);
    rw_free(w->in_msgs);
    rw_free(w->in_ptrs);
    pthread_mutex_destroy(&w->mu);
    pthread_mutex_destroy(&w->defs_mu);
    pthread_mutex_destroy(&w->in_mu);
    pthread_cond_destroy(&w->cv_in);
    pthread_cond_destroy(&w->cv_work);
    pthread_cond_destroy(&w->cv_free);
    pthread_cond_destroy(&w->cv_done);
    pthread_cond_destroy(&w->cv_fork);
    if (w->fd >= 0)
        close_trace_fd(w);
    rw_free(w);
}

rw_code rw_writer_open(const char *path, const rw_writer_opts *opts, int overwrite,
                       Rewind__Metadata *meta, rw_writer **out, rw_err *err)
{
    rw_writer *w = rw_calloc(1, sizeof *w);
    if (!w)
        return rw_err_set(err, RW_ENOMEM, "out of memory opening %s", path);
    w->fd = -1;
    if (opts)
        w->opts = *opts;
    else
        rw_writer_opts_default(&w->opts);
    if (w->opts.block_records < 1024)
        w->opts.block_records = 1024;
    if (w->opts.max_blocks < 2)
        w->opts.max_blocks = 2;
    if (w->opts.chunk_records == 0)
        w->opts.chunk_records = 262144;
    if (w->opts.time_shift > 32)
        w->opts.time_shift = 32;
    if (w->opts.base_dir && !(w->base_dir = rw_strdup(w->opts.base_dir))) {
        rw_free(w);
        return rw_err_set(err, RW_ENOMEM, "out of memory opening %s", path);
    }
    w->opts.base_dir = NULL;
    pthread_mutex_init(&w->mu, NULL);
    pthread_mutex_init(&w->defs_mu, NULL);
    pthread_mutex_init(&w->in_mu, NULL);
    pthread_cond_init(&w->cv_in, NULL);
    w->in_tail = &w->in_head;
    pthread_once(&fork_once, fork_init);
    w->gen = atomic_load(&fork_gen);
    pthread_cond_init(&w->cv_work, NULL);
    pthread_cond_init(&w->cv_free, NULL);
    pthread_cond_init(&w->cv_done, NULL);
    pthread_cond_init(&w->cv_fork, NULL);
    def_list_init(&w->pending);
    def_list_init(&w->taken);
    clock_gettime(CLOCK_MONOTONIC, &w->last_emit);

    /* The stream's block and a spare: the producer never waits on the one block it
     * holds itself (take_block's promise to rw_stream_refill). */
    rw_block *b = block_new(w->opts.block_records);
    rw_block *spare = b ? block_new(w->opts.block_records) : NULL;
    if (!b || !spare) {
        if (b)
            block_free(b);
        writer_destroy(w);
        return rw_err_set(err, RW_ENOMEM, "out of memory for the trace buffer");
    }
    spare->next = NULL;
    w->free_list = spare;
    w->nblocks = 2;
    w->head = b;
    w->stream.blk = b;
    w->stream.cur = b->recs;
    w->stream.end = b->recs + b->cap;
    w->stream.w = w;
    atomic_init(&w->stream.nt, nt_wanted() && nt_worth_it() && nt_register());

    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL);
    w->fd = open(path, flags, 0644);
    if (w->fd >= 0 && opts && opts->own_fd)
        w->fd = opts->own_fd(w->fd);
    if (w->fd < 0) {
        int e = errno;
        writer_destroy(w);
        if (e == EEXIST)
            return rw_err_set(err, RW_EINVAL, "%s already exists: choose another name with -o",
                              path);
        return rw_err_set(err, RW_EIO, "cannot create %s: %s", path, strerror(e));
    }

    Rewind__Metadata empty = REWIND__METADATA__INIT;
    Rewind__RecordOptions ropt = REWIND__RECORD_OPTIONS__INIT;
    if (!meta)
        meta = &empty;
    meta->format_version = RW_FORMAT_VERSION;
    Rewind__RecordOptions *had = meta->options;
    if (!meta->options)
        meta->options = &ropt;
    meta->options->flush_ms = w->opts.flush_ms;
    meta->options->chunk_records = w->opts.chunk_records;
    meta->options->zstd_level = w->opts.zstd_level;
    meta->options->time_shift = w->opts.time_shift;
    meta->options->line_times = w->opts.line_times != 0;
    w->init_meta = meta;
    w->init_path = path;

    live_add(w); /* before the thread starts: a fork waits for its start too */
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        meta->options = had;
        writer_destroy(w);
        return rw_err_set(err, RW_ENOMEM, "cannot start the trace writer thread");
    }
    /* The header and the metadata are the thread's first work (writer_init). */
    producer_lock(&w->mu);
    while (!w->init_done)
        pthread_cond_wait(&w->cv_done, &w->mu);
    producer_unlock(&w->mu);
    meta->options = had;
    w->init_meta = NULL;
    w->init_path = NULL;
    if (w->init_rc != RW_OK) {
        pthread_join(w->thread, NULL);
        rw_err e = w->init_err;
        writer_destroy(w);
        return rw_err_set(err, e.code, "%s", e.msg);
    }
    w->thread_started = 1;
    *out = w;
    return RW_OK;
}

static void write_tail(rw_writer *w, Rewind__RunEnd *end)
{
    uint64_t nevents = taken_events(w), nrecords = taken_records(w);
    if (end && !w->failed) {
        uint64_t counts[RW_K_DROP + 1];
        memcpy(counts, rw_encoder_kind_counts(w->enc), sizeof counts);
        end->events = nevents;
        end->records = nrecords;
        end->end_tick = rw_encoder_last_tick(w->enc);
        end->n_kind_counts = w->opts.sink ? 0 : RW_K_DROP + 1; /* a sink: not counted */
        end->kind_counts = counts;
        size_t len = rewind__run_end__get_packed_size(end);
        uint8_t *buf = pack_room(w, len);
        if (buf) {
            rewind__run_end__pack(end, buf);
            write_frame(w, RW_FRAME_END, buf, len, NULL);
        } else {
            stop_oom(w, "writing the end record");
        }
        end->n_kind_counts = 0;
        end->kind_counts = NULL;
    }
    if (!w->failed) {
        Rewind__Index idx = REWIND__INDEX__INIT;
        Rewind__IndexEntry **ptrs = rw_malloc((w->nindex + 1) * sizeof *ptrs);
        if (!ptrs)
            stop_oom(w, "writing the trace index");
        if (ptrs) {
            for (size_t i = 0; i < w->nindex; i++)
                ptrs[i] = &w->index[i];
            idx.n_frames = w->nindex;
            idx.frames = ptrs;
            idx.total_events = nevents;
            idx.total_records = nrecords;
            idx.fingerprint_group = RW_FP_GROUP;
            size_t len = rewind__index__get_packed_size(&idx);
            uint8_t *buf = pack_room(w, len);
            if (!buf)
                stop_oom(w, "writing the trace index");
            if (buf) {
                uint64_t at = w->offset;
                rewind__index__pack(&idx, buf);
                write_frame(w, RW_FRAME_INDEX, buf, len, NULL);
                if (!w->failed) {
                    uint8_t tr[RW_TRAILER_LEN];
                    rw_trailer_encode(tr, at);
                    if (pwrite(w->fd, tr, sizeof tr, (off_t)w->offset) != (ssize_t)sizeof tr) {
                        fail(w, RW_EIO, "writing the trace trailer: %s", strerror(errno));
                        if (ftruncate(w->fd, (off_t)w->offset) < 0) {
                            /* readers rebuild the index by scanning */
                        }
                    } else {
                        w->offset += sizeof tr;
                    }
                }
            }
            rw_free(ptrs);
        }
    }
}

int rw_writer_crash(rw_writer *w, const rw_crash_req *req, unsigned timeout_ms)
{
    struct timespec ms = {0, 1000000L};
    unsigned waited = 0;
    /* A request still in flight (its frame may already be in the file, which is what a
     * program watching the file sees) finishes first; only idle (0) or done (3) take
     * a new one, and a closed trace takes none. */
    for (;;) {
        if (atomic_load(&w->closed))
            return 0;
        int expected = atomic_load(&w->crash_state);
        if (expected == 0 || expected == 3) {
            atomic_store(&w->crash_req, req);
            if (atomic_compare_exchange_strong(&w->crash_state, &expected, 1))
                break;
            continue;
        }
        if (waited++ >= timeout_ms)
            return 0;
        nanosleep(&ms, NULL);
    }
    for (; waited <= timeout_ms; waited++) {
        if (atomic_load(&w->crash_state) == 3)
            return 1;
        nanosleep(&ms, NULL);
    }
    return 0;
}

rw_code rw_writer_flush(rw_writer *w, rw_err *err)
{
    if (atomic_load(&w->closed))
        return RW_OK; /* a crash request already finished the file */
    producer_lock(&w->mu);
    uint64_t my = ++w->flush_req;
    pthread_cond_signal(&w->cv_work);
    while (w->flush_done < my)
        pthread_cond_wait(&w->cv_done, &w->mu);
    producer_unlock(&w->mu);
    if (w->first_rc != RW_OK) {
        if (err)
            *err = w->first_err;
        return w->first_rc;
    }
    return RW_OK;
}

void rw_writer_get_stats(rw_writer *w, rw_writer_stats *st)
{
    memset(st, 0, sizeof *st);
    st->events = atomic_load_explicit(&w->st_events, memory_order_relaxed);
    st->records = atomic_load_explicit(&w->st_records, memory_order_relaxed);
    st->bytes_written = atomic_load_explicit(&w->st_bytes, memory_order_relaxed);
    st->chunks = atomic_load_explicit(&w->st_chunks, memory_order_relaxed);
    st->inputs = atomic_load_explicit(&w->st_inputs, memory_order_relaxed);
    st->writer_cpu_ns = atomic_load_explicit(&w->st_cpu_ns, memory_order_relaxed);
    st->failed = w->failed;
    if (w->failed)
        snprintf(st->lost, sizeof st->lost,
                 "%.140s; the trace holds the events before #%llu", w->first_err.msg,
                 (unsigned long long)w->failed_at_event);
}

rw_code rw_writer_close(rw_writer *w, Rewind__RunEnd *end, rw_writer_stats *st, rw_err *err)
{
    /* Seal the producer's block so that the thread drains everything. */
    pthread_mutex_lock(&w->mu);
    rw_block *b = w->stream.blk;
    atomic_store_explicit(&b->pub, w->stream.cur, memory_order_release);
    w->stop = 1;
    w->flush_req++;
    pthread_cond_signal(&w->cv_work);
    pthread_mutex_unlock(&w->mu);
    if (w->thread_started)
        pthread_join(w->thread, NULL);
    /* Anything the thread saw before stop is consumed; consume again in case the
     * last fill was published after its final pass. */
    consume(w, 1);
    emit_chunk(w);
    take_defs(w);
    write_defs(w);
    write_inputs(w);
    inputs_done(w);

    rw_writer_stats local;
    rw_writer_get_stats(w, &local);
    local.events = taken_events(w);
    local.records = taken_records(w);

    if (!w->closed)
        write_tail(w, end);
    if (close_trace_fd(w) < 0)
        fail(w, RW_EIO, "closing the trace: %s", strerror(errno));
    w->fd = -1;
    rw_writer_get_stats(w, &local);
    local.events = taken_events(w);
    local.records = taken_records(w);
    local.bytes_written = w->offset;
    if (st)
        *st = local;
    rw_code rc = w->first_rc;
    if (rc != RW_OK && err)
        *err = w->first_err;
    writer_destroy(w);
    return rc;
}

/* ---- a snapshot of the writer's process ------------------------------------------ */

/* b's record pages, from the first whole page after its header to the mapping's end
 * (mmap rounds it up): [*lo, *hi). 0 when there is none. */
static int block_pages(const rw_block *b, uintptr_t *lo, uintptr_t *hi)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    *lo = ((uintptr_t)b->recs + page - 1) & ~(page - 1);
    *hi = ((uintptr_t)b + sizeof(rw_block) + (size_t)b->cap * sizeof(rw_rec) + page - 1) &
          ~(page - 1);
    return *hi > *lo;
}

/* The stream's block holds nothing to read again: the writer has taken every record
 * published in it, and it is the oldest block (none sealed waits). Then nothing below
 * the cursor is read again and nothing above it was written since the block was
 * reused. */
static int stream_block_idle(rw_writer *w)
{
    rw_block *b = w->stream.blk;
    return b && w->head == b && w->head_idx == rw_block_fill(b) &&
           w->stream.cur == atomic_load_explicit(&b->pub, memory_order_relaxed);
}

/* Gives back b's record pages (none when a fork left them out: madvise fails on
 * pages that are not mapped). */
static size_t shed_block(rw_block *b)
{
    uintptr_t lo, hi;
    if (!block_pages(b, &lo, &hi) || madvise((void *)lo, hi - lo, MADV_DONTNEED) != 0)
        return 0;
    return hi - lo;
}

/* b's pages were left out of this copy (rw_writer_fork_out): there is nothing of them
 * here to give back, and a hold (rw_writer_fork_hold) is not memory. */
static int block_left_out(const rw_writer *w, const rw_block *b)
{
    uintptr_t lo, hi;
    if (!w->nout || !block_pages(b, &lo, &hi))
        return 0;
    for (unsigned i = 0; i < w->nout; i++)
        if (w->out[i][0] == lo)
            return 1;
    return 0;
}

size_t rw_writer_shed(rw_writer *w)
{
    size_t n = 0;
    for (rw_block *b = w->free_list; b; b = b->next)
        if (!block_left_out(w, b))
            n += shed_block(b);
    /* The stream's block: its first page, which holds the header, stays. */
    if (stream_block_idle(w) && !block_left_out(w, w->stream.blk))
        n += shed_block(w->stream.blk);
    return n;
}

static void leave_out(rw_writer *w, const rw_block *b, size_t *n)
{
    uintptr_t lo, hi;
    if (w->nout < OUT_MAX && block_pages(b, &lo, &hi) &&
        madvise((void *)lo, hi - lo, MADV_DONTFORK) == 0) {
        w->out[w->nout][0] = lo;
        w->out[w->nout][1] = hi - lo;
        w->nout++;
        *n += hi - lo;
    }
}

size_t rw_writer_fork_out(rw_writer *w)
{
    size_t n = 0;
    pthread_mutex_lock(&w->mu); /* the writer thread idles, but it owns the free list */
    w->nout = 0;
    memset(w->held, 0, sizeof w->held);
    if (stream_block_idle(w))
        leave_out(w, w->stream.blk, &n);
    for (rw_block *b = w->free_list; b; b = b->next)
        leave_out(w, b, &n);
    pthread_mutex_unlock(&w->mu);
    return n;
}

void rw_writer_fork_back(rw_writer *w)
{
    for (unsigned i = 0; i < w->nout; i++)
        (void)madvise((void *)w->out[i][0], w->out[i][1], MADV_DOFORK);
    w->nout = 0;
}

/* In a copy made while pages were left out, first of all: the ranges become mappings
 * of no pages and no access, so that nothing this copy maps before it takes over (a
 * malloc's mmap, the program's shared objects made its own) lands where the writer's
 * blocks go back. The kernel puts a new mapping in any hole that fits; a block's is
 * 1 to 2 MiB. */
void rw_writer_fork_hold(rw_writer *w)
{
    for (unsigned i = 0; i < w->nout; i++) {
        void *at = (void *)w->out[i][0];
        void *p = mmap(at, w->out[i][1], PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1,
                       0);
        if (p != MAP_FAILED && p != at) /* before Linux 4.17: a hint, not taken */
            munmap(p, w->out[i][1]);
        w->held[i] = p == at;
    }
}

/* In a copy made while pages were left out: maps them again, fresh (no record depends
 * on what a block held before), in place of the holds. The first few are faulted in at
 * once: the stream's block is written next and the free list's first blocks after it,
 * and one call faults a page in for a twentieth of what a write fault costs in some
 * VMs. */
static rw_code fork_in(rw_writer *w, rw_err *err)
{
    for (unsigned i = 0; i < w->nout; i++) {
        void *at = (void *)w->out[i][0];
        int populate = i < 4 ? MAP_POPULATE : 0;
        int place = w->held[i] ? MAP_FIXED : MAP_FIXED_NOREPLACE; /* a hold is ours */
        void *p = mmap(at, w->out[i][1], PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | place | populate, -1, 0);
        if (p != at) {
            int e = p == MAP_FAILED ? errno : EEXIST; /* before Linux 4.17: a hint */
            if (p != MAP_FAILED)
                munmap(p, w->out[i][1]);
            return rw_err_set(err, RW_ENOMEM, "cannot map the trace writer's blocks again: %s",
                              strerror(e));
        }
        w->held[i] = 0;
    }
    w->nout = 0;
    return RW_OK;
}

rw_code rw_writer_fork_child(rw_writer *w, rw_err *err)
{
    if (w->nout && fork_in(w, err) != RW_OK)
        return RW_ENOMEM;
    if (atomic_load_explicit(&w->stream.nt, memory_order_relaxed) && !nt_register())
        atomic_store_explicit(&w->stream.nt, 0, memory_order_relaxed);
    /* The parent's thread held none of these for good (it was idle: rw_writer_flush
     * had returned), but it may have held one for an instant when the copy was made. */
    pthread_mutex_init(&w->mu, NULL);
    pthread_mutex_init(&w->defs_mu, NULL);
    pthread_mutex_init(&w->in_mu, NULL);
    pthread_cond_init(&w->cv_work, NULL);
    pthread_cond_init(&w->cv_free, NULL);
    pthread_cond_init(&w->cv_done, NULL);
    pthread_cond_init(&w->cv_in, NULL);
    pthread_cond_init(&w->cv_fork, NULL);
    /* The list's lock too (another thread of the parent may have held it): the
     * parent's writer thread is not this process's, a new one is (fork_prepare). */
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    live_mu = fresh;
    live_remove(w);
    w->fork_hold = w->parked = 0;
    w->flush_done = w->flush_req; /* no flusher waits in this process */
    w->thread_started = 0;
    if (!w->stop && !atomic_load(&w->closed)) {
        live_add(w);
        if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
            live_remove(w);
            return rw_err_set(err, RW_ENOMEM, "cannot start the trace writer thread");
        }
        w->thread_started = 1;
    }
    return RW_OK;
}
