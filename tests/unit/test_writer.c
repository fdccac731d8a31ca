/* Check suite for format/writer: the stream, the writer thread, durability.
 *
 * Traces are written through the public writer API and read back with the reader:
 * everything appended comes back in order across many blocks and chunks; a process
 * killed with SIGKILL after the periodic flush leaves a trace whose recovered part is
 * exactly a prefix; a file size limit hit while writing leaves a valid trace up to the
 * last whole frame and the program is not killed or blocked; dump requests from a
 * signal handler complete whatever the interrupted thread was doing; running out of
 * memory at any allocation (format/alloc.h's failure switch) ends the trace cleanly
 * at its last whole chunk and says so.
 */
#define _GNU_SOURCE 1
#include <check.h>
#include <sched.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "reader.h"
#include "testutil.h"
#include "writer.h"

/* Writes a deterministic stream: n steps of call/line/return/alloc/audit. */
static void write_stream(rw_writer *w, uint64_t n, uint64_t *events_out)
{
    rw_stream *s = rw_writer_stream(w);
    uint64_t tick = 100, events = 0;
    rw_writer_def_thread(w, 1, 1234, 99, "MainThread", 1);
    rw_writer_def_file(w, 1, "/x/prog.py", "a = 1\n", 6, 1);
    rw_writer_def_code(w, 1, 1, "f", "f", 10, 0, NULL, 0);
    rw_writer_def_name(w, 1, "open");
    rw_stream_put(s, RW_REC(RW_K_THREAD, tick), 1);
    for (uint64_t i = 0; i < n; i++) {
        tick += 7;
        rw_stream_put(s, RW_REC(RW_K_CALL, tick), 1 | (10ull << 32));
        rw_stream_put(s, RW_REC(RW_K_LINE, tick + 1), 11 + i % 5);
        rw_stream_put(s, RW_REC(RW_K_ALLOC_OBJ, 32 + i % 64), 0x10000 + (i % 1000) * 32);
        if (i % 1000 == 0)
            rw_stream_put_text(s, RW_REC(RW_K_AUDIT, tick), 1, "('x', 'r')", 10);
        rw_stream_put(s, RW_REC(RW_K_RETURN, tick + 2), 0);
        events += 3;
    }
    *events_out = events;
}

static void read_all(const char *path, uint64_t *events, uint64_t *records, int *recovered)
{
    rw_reader *r;
    rw_err err;
    ck_assert_msg(rw_reader_open(path, &r, &err) == RW_OK, "open: %s", err.msg);
    rw_cursor *c;
    ck_assert_int_eq(rw_cursor_new(r, 0, SIZE_MAX, &c, &err), RW_OK);
    rw_event ev;
    int rc;
    uint64_t ne = 0, nr = 0, expect_line = 0;
    while ((rc = rw_cursor_next(c, &ev, &err)) == 1) {
        nr++;
        if (RW_IS_EVENT(ev.kind)) {
            ck_assert_uint_eq(ev.pos, ne);
            ne++;
        }
        if (ev.kind == RW_K_LINE) {
            ck_assert_uint_eq(ev.line, 11 + expect_line % 5);
            ck_assert_uint_eq(ev.code, 1);
            expect_line++;
        }
    }
    ck_assert_msg(rc == 0, "cursor: %s", err.msg);
    rw_cursor_free(c);
    *events = ne;
    *records = nr;
    *recovered = rw_reader_recovery(r)->used;
    rw_reader_free(r);
}

START_TEST(test_many_blocks_roundtrip)
{
    char *path = rw_test_path("many.rwd");
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    o.block_records = 1024;   /* force many block hand-offs */
    o.max_blocks = 3;         /* and back-pressure */
    o.chunk_records = 5000;
    rw_writer *w;
    rw_err err;
    Rewind__Metadata meta = REWIND__METADATA__INIT;
    ck_assert_int_eq(rw_writer_open(path, &o, 0, &meta, &w, &err), RW_OK);
    uint64_t events;
    write_stream(w, 200000, &events);
    Rewind__RunEnd end = REWIND__RUN_END__INIT;
    end.exit_status = 3;
    rw_writer_stats st;
    ck_assert_int_eq(rw_writer_close(w, &end, &st, &err), RW_OK);
    ck_assert_uint_eq(st.events, events);
    uint64_t ne, nr;
    int recovered;
    read_all(path, &ne, &nr, &recovered);
    ck_assert_uint_eq(ne, events);
    ck_assert_uint_eq(nr, st.records);
    ck_assert_int_eq(recovered, 0);
    /* O_EXCL: a second open of the same path refuses to overwrite. */
    ck_assert_int_eq(rw_writer_open(path, &o, 0, &meta, &w, &err), RW_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "already exists"));
    free(path);
}
END_TEST

/* Records are stored non-temporally, when asked for (REWIND_NT_RECORDS=1), where
 * membarrier can fence the producer's core (writer.c, "Non-temporal records"), and the
 * writer thread reads into the producer's block only after that fence: a flush every
 * millisecond while the producer writes small blocks (each one reused as soon as it
 * is read) reads every record as written (read_all checks each line and position). The race the fence closes (a record still
 * in the producer's write-combining buffer when the writer reads it) is too short to
 * show here: the test passes without the fence too; it fails if the stores stop being
 * non-temporal where they can be, or if a partial read loses or garbles a record. */
START_TEST(test_partial_reads_of_nontemporal_records)
{
#if defined(__x86_64__) && defined(SYS_membarrier)
    long cmds = syscall(SYS_membarrier, 0 /* MEMBARRIER_CMD_QUERY */, 0, 0);
    cpu_set_t cpus;
    int many = sched_getaffinity(0, sizeof cpus, &cpus) != 0 || CPU_COUNT(&cpus) > 1;
    int can = many && cmds > 0 && (cmds & (1 << 3)) && (cmds & (1 << 4));
#else
    int can = 0;
#endif
    char *path = rw_test_path("nt.rwd");
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    o.block_records = 1024;
    o.max_blocks = 4;
    o.chunk_records = 3000;
    o.flush_ms = 1;
    rw_writer *w;
    rw_err err;
    unsetenv("REWIND_NT_RECORDS"); /* off by default (writer.c, nt_wanted) */
    ck_assert_int_eq(rw_writer_open(path, &o, 1, NULL, &w, &err), RW_OK);
    ck_assert_int_eq(atomic_load(&rw_writer_stream(w)->nt), 0);
    ck_assert_int_eq(rw_writer_close(w, NULL, NULL, &err), RW_OK);
    setenv("REWIND_NT_RECORDS", "1", 1);
    ck_assert_int_eq(rw_writer_open(path, &o, 1, NULL, &w, &err), RW_OK);
    unsetenv("REWIND_NT_RECORDS");
    ck_assert_int_eq(atomic_load(&rw_writer_stream(w)->nt), can);
    uint64_t events;
    write_stream(w, 300000, &events); /* 1,200 blocks, a flush every millisecond */
    rw_writer_stats st;
    ck_assert_int_eq(rw_writer_close(w, NULL, &st, &err), RW_OK);
    ck_assert_msg(!st.failed, "%s", st.lost);
    uint64_t ne, nr;
    int recovered;
    read_all(path, &ne, &nr, &recovered);
    ck_assert_uint_eq(ne, events);
    ck_assert_int_eq(recovered, 0);
    free(path);
}
END_TEST

/* A writer at path with options o, file 1 and code 1 ("g" at line 10) defined. */
static rw_writer *writer_at(const char *path, const rw_writer_opts *o)
{
    rw_writer *w;
    rw_err err;
    Rewind__Metadata meta = REWIND__METADATA__INIT;
    ck_assert_int_eq(rw_writer_open(path, o, 0, &meta, &w, &err), RW_OK);
    rw_writer_def_file(w, 1, "/x/prog.py", "a = 1\n", 6, 1);
    rw_writer_def_code(w, 1, 1, "g", "g", 10, 0, NULL, 0);
    return w;
}

/* Closes w and opens its file, which holds at least min_chunks chunks. */
static rw_reader *close_and_read(rw_writer *w, const char *path, size_t min_chunks)
{
    Rewind__RunEnd end = REWIND__RUN_END__INIT;
    rw_writer_stats st;
    rw_err err;
    ck_assert_int_eq(rw_writer_close(w, &end, &st, &err), RW_OK);
    rw_reader *r;
    ck_assert_msg(rw_reader_open(path, &r, &err) == RW_OK, "open: %s", err.msg);
    ck_assert_uint_gt(rw_reader_nchunks(r), min_chunks);
    return r;
}

/* A GEN record names the CALL after it (decoder.c gives the CALL its address), so no
 * chunk ends between them: not when a chunk fills on the GEN, nor when the GEN ends a
 * block and its CALL opens the next. */
START_TEST(test_gen_and_its_call_share_a_chunk)
{
    char *path = rw_test_path("gen.rwd");
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    o.block_records = 1024; /* 1024 = 3 * 341 + 1: GENs end blocks now and then */
    o.chunk_records = 1000; /* and fill chunks */
    o.flush_ms = 0;         /* no periodic flush, which may cut anywhere */
    rw_writer *w = writer_at(path, &o);
    rw_stream *s = rw_writer_stream(w);
    rw_writer_def_thread(w, 1, 1234, 99, "MainThread", 1);
    rw_stream_put(s, RW_REC(RW_K_THREAD, 100), 1);
    const uint64_t n = 20000;
    for (uint64_t i = 0; i < n; i++) {
        rw_stream_put(s, RW_REC(RW_K_GEN, 100 + i), 0x200000000000ull + i * 16);
        rw_stream_put(s, RW_REC(RW_K_CALL, 100 + i), 1 | (10ull << 32));
        rw_stream_put(s, RW_REC(RW_K_RETURN, 100 + i), 0);
    }
    rw_reader *r = close_and_read(w, path, 50);
    rw_err err;
    rw_cursor *c;
    ck_assert_int_eq(rw_cursor_new(r, 0, SIZE_MAX, &c, &err), RW_OK);
    rw_event ev;
    int rc;
    uint64_t calls = 0;
    while ((rc = rw_cursor_next(c, &ev, &err)) == 1)
        if (ev.kind == RW_K_CALL) {
            ck_assert_msg(ev.addr == 0x200000000000ull + calls * 16,
                          "call %llu: frame %llx", (unsigned long long)calls,
                          (unsigned long long)ev.addr);
            calls++;
        }
    ck_assert_msg(rc == 0, "cursor: %s", err.msg);
    ck_assert_uint_eq(calls, n);
    rw_cursor_free(c);
    rw_reader_free(r);
    free(path);
}
END_TEST

/* rw_reader_thread_runs (the engine's thread order, from kinds and switches only)
 * gives the runs a cursor's events and audit records give, across blocks and chunks,
 * each placed by its event and the audit records before it there, with the records of
 * the thread before after its last event. */
typedef struct runs {
    uint64_t pos[8192];
    uint32_t thread[8192];
    uint32_t audits[8192];
    uint32_t tail[8192];
    uint64_t drop[8192];
    size_t n;
} runs;

static int add_run(void *ctx, uint64_t pos, uint32_t audits, uint32_t thread, uint32_t tail,
                   uint64_t drop)
{
    runs *r = ctx;
    if (r->n == 8192)
        return -1;
    r->drop[r->n] = drop;
    r->pos[r->n] = pos;
    r->audits[r->n] = audits;
    r->tail[r->n] = tail;
    r->thread[r->n++] = thread;
    return 0;
}

START_TEST(test_thread_runs_as_a_cursor_sees_them)
{
    char *path = rw_test_path("runs.rwd");
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    o.block_records = 1024;
    o.chunk_records = 700;
    rw_writer *w = writer_at(path, &o);
    rw_stream *s = rw_writer_stream(w);
    for (uint32_t t = 1; t <= 3; t++)
        rw_writer_def_thread(w, t, 1000 + t, 10 + t, "T", t == 1);
    rw_writer_def_name(w, 1, "socket.sendto");
    unsigned seed = 7;
    uint32_t cur = 0;
    for (int i = 0; i < 3000; i++) {
        seed = seed * 1103515245u + 12345u;
        uint32_t t = 1 + (seed >> 16) % 3;
        if (t != cur || (seed >> 8) % 5 == 0) /* a switch to the same thread: no run */
            rw_stream_put(s, RW_REC(RW_K_THREAD, 100 + i), t);
        cur = t;
        unsigned n = 1 + (seed >> 20) % 4;
        for (unsigned k = 0; k < n; k++) {
            rw_stream_put(s, RW_REC(RW_K_ALLOC_OBJ, 32), 0x10000 + k * 32);
            rw_stream_put(s, RW_REC(RW_K_CALL, 100 + i), 1 | (10ull << 32));
            rw_stream_put(s, RW_REC(RW_K_RETURN, 100 + i), 0);
        }
        if ((seed >> 28) % 3 == 0) /* a free after the run's last event: its tail */
            rw_stream_put(s, RW_REC(RW_K_FREE_OBJ, 0), 0x10000);
        if ((seed >> 12) % 4 == 0) /* a RAW free after it: not in the tail */
            rw_stream_put(s, RW_REC(RW_K_FREE_RAW, 0), 0x20000);
        for (unsigned k = 0; k < (seed >> 24) % 3; k++) /* audits after the last event */
            rw_stream_put_text(s, RW_REC(RW_K_AUDIT, 100 + i), 1, "x", 1);
        if ((seed >> 6) % 3 == 0) /* where it let the GIL go: not in the tail */
            rw_stream_put(s, RW_REC(RW_K_DROP, 0), ((uint64_t)i << 32) | 7);
        if ((seed >> 26) % 4 == 0) { /* another thread's audit alone, between two events */
            uint32_t other = 1 + t % 3;
            rw_stream_put(s, RW_REC(RW_K_THREAD, 100 + i), other);
            rw_stream_put_text(s, RW_REC(RW_K_AUDIT, 100 + i), 1, "y", 1);
            rw_stream_put(s, RW_REC(RW_K_THREAD, 100 + i), t);
        }
    }
    rw_reader *r = close_and_read(w, path, 10);
    rw_err err;
    static runs want, got;
    want.n = got.n = 0;
    rw_cursor *c;
    ck_assert_int_eq(rw_cursor_new(r, 0, SIZE_MAX, &c, &err), RW_OK);
    rw_event ev;
    int rc;
    uint32_t last = 0, audits = 0, alone = 0, tail = 0, clean = 0, raw_tails = 0;
    uint32_t drops = 0, drops_in_a_run = 0;
    uint64_t drop = 0;
    while ((rc = rw_cursor_next(c, &ev, &err)) == 1) {
        if (ev.kind == RW_K_DROP) {
            ck_assert_uint_eq(ev.addr & 0xffffffffu, 7); /* the spot, as written */
            if (ev.thread == last)
                drop = ev.addr;
            continue;
        }
        if (!RW_IS_EVENT(ev.kind) && ev.kind != RW_K_AUDIT) {
            raw_tails += ev.kind == RW_K_FREE_RAW && ev.thread == last;
            tail += ev.kind != RW_K_THREAD && ev.kind != RW_K_ALLOC_RAW &&
                    ev.kind != RW_K_FREE_RAW && ev.thread == last;
            continue;
        }
        if (ev.thread != last) {
            ck_assert_int_eq(add_run(&want, ev.pos, audits, ev.thread, tail, drop), 0);
            alone += audits != 0;
            clean += tail == 0;
            drops += drop != 0;
            last = ev.thread;
            tail = 0;
        } else {
            drops_in_a_run += drop != 0; /* the same thread went on: no run ends there */
        }
        drop = 0;
        if (RW_IS_EVENT(ev.kind)) {
            audits = 0;
            tail = 0;
        } else {
            audits++;
            tail++;
        }
    }
    ck_assert_msg(rc == 0, "cursor: %s", err.msg);
    rw_cursor_free(c);
    ck_assert_int_eq(rw_reader_thread_runs(r, add_run, &got, &err), RW_OK);
    ck_assert_uint_gt(want.n, 1000);
    ck_assert_uint_gt(alone, 100); /* runs that start after audit records at their place */
    ck_assert_uint_gt(clean, 100); /* and runs after a clean end, and after a tail */
    ck_assert_uint_gt(want.n - clean, 100);
    ck_assert_uint_gt(raw_tails, 100); /* RAW records after a last event, not counted */
    ck_assert_uint_gt(drops, 100);          /* runs that end at a noted check */
    ck_assert_uint_gt(drops_in_a_run, 100); /* and drops the same thread came back from */
    ck_assert_uint_eq(got.n, want.n);
    for (size_t i = 0; i < want.n; i++) {
        ck_assert_uint_eq(got.pos[i], want.pos[i]);
        ck_assert_uint_eq(got.thread[i], want.thread[i]);
        ck_assert_uint_eq(got.audits[i], want.audits[i]);
        ck_assert_uint_eq(got.tail[i], want.tail[i]);
        ck_assert_uint_eq(got.drop[i], want.drop[i]);
    }
    rw_reader_free(r);
    free(path);
}
END_TEST

START_TEST(test_flush_makes_records_readable)
{
    char *path = rw_test_path("flush.rwd");
    rw_writer *w;
    rw_err err;
    ck_assert_int_eq(rw_writer_open(path, NULL, 1, NULL, &w, &err), RW_OK);
    uint64_t events;
    write_stream(w, 1000, &events);
    ck_assert_int_eq(rw_writer_flush(w, &err), RW_OK);
    /* Read while the writer is still open: no footer yet, recovery by scanning. */
    uint64_t ne, nr;
    int recovered;
    read_all(path, &ne, &nr, &recovered);
    ck_assert_uint_eq(ne, events);
    ck_assert_int_eq(recovered, 1);
    ck_assert_int_eq(rw_writer_close(w, NULL, NULL, &err), RW_OK);
    free(path);
}
END_TEST

/* A child records without end, the periodic flush runs, then SIGKILL. */
START_TEST(test_sigkill_leaves_readable_prefix)
{
    char *path = rw_test_path("killed.rwd");
    unlink(path);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        rw_writer_opts o;
        rw_writer_opts_default(&o);
        o.flush_ms = 20;
        rw_writer *w;
        rw_err err;
        if (rw_writer_open(path, &o, 1, NULL, &w, &err) != RW_OK)
            _exit(2);
        uint64_t events;
        write_stream(w, 5000, &events);
        struct timespec ts = {1, 0}; /* fifty flush periods */
        nanosleep(&ts, NULL);
        raise(SIGKILL);
        _exit(3);
    }
    int status;
    waitpid(pid, &status, 0);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    uint64_t ne, nr;
    int recovered;
    read_all(path, &ne, &nr, &recovered);
    ck_assert_int_eq(recovered, 1);
    ck_assert_uint_eq(ne, 15000); /* everything appended before the sleep */
    free(path);
}
END_TEST

/* A copy of the writer's process made while the writer was idle (after a flush), as
 * the engine's checkpoints are: rw_writer_shed gives back its idle blocks, and
 * rw_writer_fork_child gives the copy a writer thread of its own, which goes on where
 * the parent stopped and closes a whole trace. */
static void write_more(rw_writer *w, uint64_t from, uint64_t n)
{
    rw_stream *s = rw_writer_stream(w);
    for (uint64_t i = from; i < from + n; i++) {
        uint64_t tick = 100 + 7 * (i + 1);
        rw_stream_put(s, RW_REC(RW_K_CALL, tick), 1 | (10ull << 32));
        rw_stream_put(s, RW_REC(RW_K_LINE, tick + 1), 11 + i % 5);
        rw_stream_put(s, RW_REC(RW_K_RETURN, tick + 2), 0);
    }
}

/* In the copy: a writer thread of its own, 3000 more events written, the trace closed
 * whole. Returns the copy's exit status (0: all went well). */
static int copy_goes_on(rw_writer *w)
{
    rw_err err;
    if (rw_writer_fork_child(w, &err) != RW_OK)
        return 4;
    write_more(w, 3000, 2000);
    if (rw_writer_flush(w, &err) != RW_OK)
        return 5;
    write_more(w, 5000, 1000);
    return rw_writer_close(w, NULL, NULL, &err) == RW_OK ? 0 : 6;
}

/* The test process: pid (the writer's process) went well, and the trace the copy
 * closed holds the parent's 3000 events and the copy's 3000. Frees path. */
static void check_copy_closed(char *path, pid_t pid)
{
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
    uint64_t ne, nr;
    int recovered;
    read_all(path, &ne, &nr, &recovered);
    ck_assert_int_eq(recovered, 0); /* closed whole, by the copy */
    ck_assert_uint_eq(ne, 3 * 6000);
    free(path);
}

/* In a test's child process: a writer at path with 3000 events written and flushed,
 * its thread idle, as the engine's is when a checkpoint is made. Exits 2 or 3 when
 * that fails. */
static rw_writer *idle_writer(const char *path)
{
    rw_writer *w;
    rw_err err;
    if (rw_writer_open(path, NULL, 1, NULL, &w, &err) != RW_OK)
        _exit(2);
    uint64_t events;
    write_stream(w, 3000, &events);
    if (rw_writer_flush(w, &err) != RW_OK)
        _exit(3);
    return w;
}

/* In the test's child: how its copy c went (its exit status; 7 when it could not be
 * waited for, 8 when a signal ended it). */
static int copy_status(pid_t c)
{
    int status = 1;
    if (c < 0 || waitpid(c, &status, 0) != c)
        return 7;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 8;
}

/* Runs body in a process of its own (the writer it gets from idle_writer is left open
 * there, not in the test process), whose exit status is body's, then checks the trace
 * at name that the copies closed (check_copy_closed). */
static void in_writer_process(const char *name, int (*body)(rw_writer *w))
{
    char *path = rw_test_path(name);
    unlink(path);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(body(idle_writer(path)));
    check_copy_closed(path, pid);
}

static int fork_child_goes_on(rw_writer *w)
{
    pid_t c = _Fork(); /* as the engine: no atfork handlers */
    if (c == 0) {
        /* As a checkpoint does: the spare block and the stream's (all of its records
         * taken at the flush) go, but for the latter's first page; the copy then writes
         * there as in fresh blocks. */
        size_t block = RW_BLOCK_RECORDS * sizeof(rw_rec);
        if (rw_writer_shed(w) < 2 * block - 8192)
            _exit(9);
        _exit(copy_goes_on(w));
    }
    return copy_status(c);
}

START_TEST(test_fork_child_goes_on)
{
    in_writer_process("forked.rwd", fork_child_goes_on);
}
END_TEST

/* The engine's checkpoints leave the writer's idle blocks out of the copy
 * (rw_writer_fork_out): the copy has no pages there until rw_writer_fork_child maps
 * them again, and then records on and closes a whole trace; after rw_writer_fork_back
 * the parent's next fork copies them again. */
static int fork_out_leaves_the_blocks_out(rw_writer *w)
{
    size_t block = RW_BLOCK_RECORDS * sizeof(rw_rec);
    if (rw_writer_fork_out(w) < 2 * block - 8192) /* the spare and the stream's */
        return 10;
    pid_t c = _Fork();
    if (c == 0) {
        if (rw_writer_shed(w) != 0) /* nothing of them is here to give back */
            _exit(11);
        _exit(copy_goes_on(w));
    }
    rw_writer_fork_back(w);
    int status = copy_status(c);
    if (status != 0)
        return status;
    /* The parent's blocks are copied by a fork again: a copy reads them. */
    if (rw_writer_fork_out(w) == 0)
        return 12;
    rw_writer_fork_back(w);
    c = _Fork();
    if (c == 0)
        _exit(rw_writer_shed(w) >= 2 * block - 8192 ? 0 : 13);
    if (c < 0 || waitpid(c, &status, 0) != c)
        return 14;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 15;
}

START_TEST(test_fork_out_leaves_the_blocks_out)
{
    in_writer_process("forked_out.rwd", fork_out_leaves_the_blocks_out);
}
END_TEST

/* The ranges this process leaves out of its copies (VmFlags "dc" in smaps: the
 * kernel's VM_DONTCOPY, what MADV_DONTFORK sets). Returns how many, at most max. */
static unsigned dontcopy_ranges(uintptr_t (*r)[2], unsigned max)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return 0;
    char line[512];
    unsigned n = 0;
    uintptr_t lo = 0, hi = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long a, b;
        if (sscanf(line, "%lx-%lx ", &a, &b) == 2) {
            lo = a;
            hi = b;
        } else if (strncmp(line, "VmFlags:", 8) == 0 && strstr(line, " dc") && n < max) {
            r[n][0] = lo;
            r[n][1] = hi;
            n++;
        }
    }
    fclose(f);
    return n;
}

/* A copy maps memory of its own before it takes over (a malloc's mmap, the program's
 * shared objects made its own). The kernel puts a mapping in any hole that fits, the
 * ranges the writer's blocks left out of the copy among them, and then
 * rw_writer_fork_child could not map the blocks again. rw_writer_fork_hold, first
 * thing in the copy, keeps them: a mapping asked for exactly there lands elsewhere. */
static int fork_hold_keeps_the_blocks_place(rw_writer *w)
{
    if (rw_writer_fork_out(w) == 0)
        return 10;
    static uintptr_t out[16][2];
    unsigned nout = dontcopy_ranges(out, 16);
    if (nout < 2) /* the spare block and the stream's */
        return 16;
    pid_t c = _Fork();
    if (c == 0) {
        rw_writer_fork_hold(w);
        for (unsigned i = 0; i < nout; i++) {
            size_t len = out[i][1] - out[i][0];
            void *p = mmap((void *)out[i][0], len, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED)
                _exit(17);
            if ((uintptr_t)p == out[i][0])
                _exit(18); /* the hole was free: the block cannot come back */
        }
        _exit(copy_goes_on(w));
    }
    rw_writer_fork_back(w);
    return copy_status(c);
}

START_TEST(test_fork_hold_keeps_the_blocks_place)
{
    in_writer_process("forked_held.rwd", fork_hold_keeps_the_blocks_place);
}
END_TEST

/* RLIMIT_FSIZE hit mid-recording: no SIGXFSZ death, no blocking, the file stays
 * readable up to the last whole frame and the failure is reported. */
static char *path2;

START_TEST(test_file_size_limit)
{
    char *path = rw_test_path("limited.rwd");
    path2 = rw_test_path("limited.txt");
    unlink(path);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct rlimit rl = {20000, 20000};
        setrlimit(RLIMIT_FSIZE, &rl);
        rw_writer_opts o;
        rw_writer_opts_default(&o);
        o.chunk_records = 2000;
        o.zstd_level = 0; /* store raw: reach the limit quickly */
        rw_writer *w;
        rw_err err;
        if (rw_writer_open(path, &o, 1, NULL, &w, &err) != RW_OK)
            _exit(2);
        uint64_t events;
        write_stream(w, 20000, &events);
        rw_writer_stats st;
        Rewind__RunEnd end = REWIND__RUN_END__INIT;
        rw_code rc = rw_writer_close(w, &end, &st, &err);
        if (rc != RW_EIO || !st.failed || !strstr(st.lost, "File too large"))
            _exit(4);
        /* The message names the first event the file does not hold. */
        const char *hash = strstr(st.lost, "before #");
        FILE *f = fopen(path2, "w");
        if (!hash || !f)
            _exit(5);
        fprintf(f, "%s", hash + 8);
        fclose(f);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    uint64_t ne, nr;
    int recovered;
    read_all(path, &ne, &nr, &recovered);
    ck_assert_int_eq(recovered, 1);
    ck_assert_uint_gt(ne, 0);
    ck_assert_uint_lt(ne, 60000);
    size_t len;
    uint8_t *said = rw_test_read_file(path2, &len);
    ck_assert_ptr_nonnull(said);
    ck_assert_uint_eq(strtoull((char *)said, NULL, 10), ne);
    free(said);
    free(path2);
    free(path);
}
END_TEST

/* The N of "out of memory after N events" in msg. */
static uint64_t events_said(const char *msg)
{
    const char *p = strstr(msg, "out of memory after ");
    ck_assert_msg(p != NULL, "%s", msg);
    ck_assert_msg(strstr(msg, " events: the trace ends there"), "%s", msg);
    return strtoull(p + strlen("out of memory after "), NULL, 10);
}

START_TEST(test_out_of_memory_ends_the_trace)
{
    char *path = rw_test_path("oom.rwd");
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    o.chunk_records = 2000;
    o.flush_ms = 0;
    rw_writer *w;
    rw_err err;
    ck_assert_int_eq(rw_writer_open(path, &o, 1, NULL, &w, &err), RW_OK);
    uint64_t events;
    write_stream(w, 3000, &events);
    ck_assert_int_eq(rw_writer_flush(w, &err), RW_OK);
    /* From here every allocation fails: the definitions below are lost, and so is
     * everything after them, but the program goes on. */
    rw_alloc_fail_after(0);
    uint64_t more;
    write_stream(w, 3000, &more);
    rw_writer_stats st;
    Rewind__RunEnd end = REWIND__RUN_END__INIT;
    rw_code rc = rw_writer_close(w, &end, &st, &err);
    rw_alloc_fail_after(-1);
    ck_assert_int_eq(rc, RW_ENOMEM);
    ck_assert_uint_eq(events_said(err.msg), events);
    ck_assert_int_eq(st.failed, 1);
    ck_assert_msg(strstr(st.lost, "out of memory after"), "%s", st.lost);
    uint64_t ne, nr;
    int recovered;
    read_all(path, &ne, &nr, &recovered);
    ck_assert_uint_eq(ne, events);
    ck_assert_int_eq(recovered, 1); /* no index: the reader scanned */
    free(path);
}
END_TEST

/* One small recording with the k-th allocation (and all after it) failing, for every
 * k up to the number a whole recording makes: never a crash, and either a whole trace
 * or an error that says where the trace ends, which the file confirms. */
START_TEST(test_out_of_memory_at_every_allocation)
{
    char *path = rw_test_path("oom-k.rwd");
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    o.chunk_records = 300;
    o.flush_ms = 0;
    long total = -1;
    for (long k = -1; k < total || total < 0; k++) {
        rw_alloc_fail_after(k < 0 ? -1 : k); /* k = -1: count the allocations */
        rw_writer *w;
        rw_err err = {0};
        rw_code rc = rw_writer_open(path, &o, 1, NULL, &w, &err);
        if (rc != RW_OK) {
            rw_alloc_fail_after(-1);
            ck_assert_msg(rc == RW_ENOMEM, "k=%ld: %s", k, err.msg);
            continue;
        }
        uint64_t events;
        write_stream(w, 400, &events);
        rw_writer_stats st;
        Rewind__RunEnd end = REWIND__RUN_END__INIT;
        rc = rw_writer_close(w, &end, &st, &err);
        long made = rw_alloc_fail_after(-1);
        if (k < 0) {
            ck_assert_int_eq(rc, RW_OK);
            total = made;
            ck_assert_int_gt(total, 10);
            continue;
        }
        uint64_t ne, nr;
        int recovered;
        read_all(path, &ne, &nr, &recovered);
        if (rc == RW_OK) {
            ck_assert_uint_eq(ne, events);
            continue;
        }
        ck_assert_msg(rc == RW_ENOMEM, "k=%ld: %s", k, err.msg);
        ck_assert_msg(st.failed, "k=%ld", k);
        ck_assert_msg(events_said(err.msg) == ne, "k=%ld: %s, file holds %llu", k, err.msg,
                      (unsigned long long)ne);
    }
    free(path);
}
END_TEST

START_TEST(test_text_entries_cross_blocks)
{
    char *path = rw_test_path("texts.rwd");
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    o.block_records = 1024;
    rw_writer *w;
    rw_err err;
    ck_assert_int_eq(rw_writer_open(path, &o, 1, NULL, &w, &err), RW_OK);
    rw_stream *s = rw_writer_stream(w);
    rw_writer_def_thread(w, 1, 1, 1, "MainThread", 1);
    rw_writer_def_name(w, 1, "ValueError");
    rw_writer_def_code(w, 1, 0, "f", "f", 1, 0, NULL, 0);
    rw_stream_put(s, RW_REC(RW_K_THREAD, 1), 1);
    rw_stream_put(s, RW_REC(RW_K_CALL, 1), 1 | (1ull << 32));
    char text[RW_BLOB_MAX + 100];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = (char)('a' + i % 26);
    for (int i = 0; i < 300; i++)
        rw_stream_put_text(s, RW_REC(RW_K_EXCEPTION, 2 + i), 1, text, (size_t)(i * 37) % sizeof text);
    ck_assert_int_eq(rw_writer_close(w, NULL, NULL, &err), RW_OK);
    rw_reader *r;
    ck_assert_int_eq(rw_reader_open(path, &r, &err), RW_OK);
    rw_cursor *c;
    ck_assert_int_eq(rw_cursor_new(r, 0, SIZE_MAX, &c, &err), RW_OK);
    rw_event ev;
    int n = 0;
    while (rw_cursor_next(c, &ev, &err) == 1) {
        if (ev.kind != RW_K_EXCEPTION)
            continue;
        size_t want = (size_t)(n * 37) % sizeof text;
        if (want > RW_BLOB_MAX)
            want = RW_BLOB_MAX;
        ck_assert_uint_eq(ev.text_len, want);
        ck_assert(want == 0 || memcmp(ev.text, text, want) == 0);
        n++;
    }
    ck_assert_int_eq(n, 300);
    rw_cursor_free(c);
    rw_reader_free(r);
    free(path);
}
END_TEST

/* A fatal signal whose handler posts a closing crash request: the trace is complete
 * (footer, END with the signal), with every event appended before the crash. */
static rw_writer *crash_w;
static const uint8_t crash_payload[] = {0x08, 0x0b}; /* any bytes: opaque here */

static void on_segv(int sig)
{
    rw_crash_req req = {crash_payload, sizeof crash_payload, 1, 128 + sig, sig, "signal"};
    rw_writer_crash(crash_w, &req, 5000);
    signal(sig, SIG_DFL);
    raise(sig);
}

START_TEST(test_crash_request_completes_trace)
{
    char *path = rw_test_path("crash.rwd");
    unlink(path);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        rw_err err;
        if (rw_writer_open(path, NULL, 1, NULL, &crash_w, &err) != RW_OK)
            _exit(2);
        uint64_t events;
        write_stream(crash_w, 3000, &events);
        signal(SIGSEGV, on_segv);
        raise(SIGSEGV);
        _exit(3);
    }
    int status;
    waitpid(pid, &status, 0);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "status %d", status);
    uint64_t ne, nr;
    int recovered;
    read_all(path, &ne, &nr, &recovered);
    ck_assert_int_eq(recovered, 0);
    ck_assert_uint_eq(ne, 9000);
    rw_reader *r;
    rw_err err;
    ck_assert_int_eq(rw_reader_open(path, &r, &err), RW_OK);
    ck_assert_ptr_nonnull(rw_reader_end(r));
    ck_assert_int_eq(rw_reader_end(r)->term_signal, SIGSEGV);
    ck_assert_str_eq(rw_reader_end(r)->stop_reason, "signal");
    ck_assert_uint_eq(rw_reader_ncrashes(r), 1);
    uint64_t pos = 0;
    const Rewind__CrashReport *cr = rw_reader_crash(r, 0, &pos);
    ck_assert_ptr_nonnull(cr);
    ck_assert_uint_eq(pos, 9000);
    ck_assert_int_eq((int)cr->kind, 11);
    ck_assert_ptr_null(rw_reader_crash(r, 1, NULL));
    rw_reader_free(r);
    free(path);
}
END_TEST

/* Dump requests posted from a signal handler that interrupts a thread while it appends
 * (tiny blocks and back-pressure: it is often inside the buffer's lock or a
 * definition's) all complete: the writer thread never waits for a lock held by the
 * interrupted thread. */
static rw_writer *dump_w;
static const uint8_t dump_payload[] = {0x08, 0x02};
static _Atomic int dumps_ok, dumps_failed, producer_done;

static void on_dump(int sig)
{
    (void)sig;
    rw_crash_req req = {dump_payload, sizeof dump_payload, 0, 0, 0, "dump"};
    if (rw_writer_crash(dump_w, &req, 2000))
        atomic_fetch_add(&dumps_ok, 1);
    else
        atomic_fetch_add(&dumps_failed, 1);
}

static void *dump_producer(void *arg)
{
    (void)arg;
    rw_stream *s = rw_writer_stream(dump_w);
    rw_writer_def_thread(dump_w, 1, 1234, 99, "MainThread", 1);
    rw_writer_def_file(dump_w, 1, "/x/prog.py", "a = 1\n", 6, 1);
    rw_writer_def_code(dump_w, 1, 1, "f", "f", 10, 0, NULL, 0);
    rw_stream_put(s, RW_REC(RW_K_THREAD, 1), 1);
    for (uint32_t i = 0; !atomic_load(&producer_done); i++) {
        rw_stream_put(s, RW_REC(RW_K_CALL, 2), 1 | (10ull << 32));
        rw_stream_put(s, RW_REC(RW_K_RETURN, 3), 0);
        if (i % 64 == 0)
            rw_writer_def_name(dump_w, i / 64 + 1, "name");
    }
    return NULL;
}

START_TEST(test_dumps_while_appending)
{
    char *path = rw_test_path("dumps.rwd");
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    o.block_records = 16;
    o.max_blocks = 2;
    rw_err err;
    ck_assert_int_eq(rw_writer_open(path, &o, 1, NULL, &dump_w, &err), RW_OK);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_dump;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR2, &sa, NULL);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, dump_producer, NULL), 0);
    enum { NDUMPS = 200 };
    for (int n = 1; n <= NDUMPS; n++) {
        pthread_kill(th, SIGUSR2);
        /* One at a time: the next signal only after this one's handler returned. */
        while (atomic_load(&dumps_ok) + atomic_load(&dumps_failed) < n)
            nanosleep(&(struct timespec){0, 100000}, NULL);
    }
    atomic_store(&producer_done, 1);
    pthread_join(th, NULL);
    signal(SIGUSR2, SIG_DFL);
    int failed = atomic_load(&dumps_failed);
    ck_assert_msg(failed == 0, "%d of %d dump requests timed out", failed, NDUMPS);
    ck_assert_int_eq(rw_writer_close(dump_w, NULL, NULL, &err), RW_OK);
    rw_reader *r;
    ck_assert_msg(rw_reader_open(path, &r, &err) == RW_OK, "open: %s", err.msg);
    ck_assert_uint_eq(rw_reader_ncrashes(r), NDUMPS);
    rw_reader_free(r);
    free(path);
}
END_TEST

/* ---- forks made while the writer thread runs ------------------------------------ */

/* A fork copies the calling thread only: whatever lock the writer thread held at that
 * instant stays held in the child for good. glibc's fork takes its malloc locks around
 * the copy, but GCC 12's AddressSanitizer allocator takes none of its own (its size
 * classes' mutexes, its thread registry), so a child forked while the writer thread
 * allocated (as it does when it starts, and when it writes definitions) hung at its
 * own first allocation of that size or its first new thread: a recorded program's
 * child that forked again right after opening its trace (test_exits' fork in a
 * thread, its grandchild's writer thread stuck starting). The writer thread now waits
 * between two passes while a fork is made (fork_prepare). */

static _Atomic int in_pass; /* the slow sink below is running, on the writer thread */

static uint64_t slow_sink(void *ctx, const rw_rec *recs, size_t n)
{
    (void)ctx;
    (void)recs;
    atomic_store(&in_pass, 1);
    free(malloc(64));
    nanosleep(&(struct timespec){0, 1000000L}, NULL);
    atomic_store(&in_pass, 0);
    return n;
}

static _Atomic int pumping;

/* The producer: records and flushes without a pause, so that the writer thread is in
 * the sink most of the time. */
static void *pump(void *arg)
{
    rw_writer *w = arg;
    rw_stream *s = rw_writer_stream(w);
    uint64_t tick = 1;
    rw_err err;
    while (atomic_load(&pumping)) {
        for (int i = 0; i < 100; i++)
            rw_stream_put(s, RW_REC(RW_K_LINE, tick++), 1);
        if (rw_writer_flush(w, &err) != RW_OK)
            break;
    }
    return NULL;
}

/* The child's memory is the parent's at the fork: the writer thread was never inside
 * a pass then. */
START_TEST(test_fork_waits_between_passes)
{
    char *path = rw_test_path("forkpass.rwd");
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    o.sink = slow_sink;
    rw_writer *w;
    rw_err err;
    ck_assert_int_eq(rw_writer_open(path, &o, 1, NULL, &w, &err), RW_OK);
    atomic_store(&pumping, 1);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, pump, w), 0);
    enum { NFORKS = 100 };
    int inside = 0;
    for (int i = 0; i < NFORKS; i++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0)
            _exit(atomic_load(&in_pass));
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status));
        inside += WEXITSTATUS(status);
        nanosleep(&(struct timespec){0, 300000L}, NULL);
    }
    atomic_store(&pumping, 0);
    pthread_join(th, NULL);
    ck_assert_int_eq(rw_writer_close(w, NULL, NULL, &err), RW_OK);
    ck_assert_msg(inside == 0, "%d of %d forks copied the writer thread inside a pass", inside,
                  NFORKS);
    free(path);
}
END_TEST

static void spin_us(int us)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do
        clock_gettime(CLOCK_MONOTONIC, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < us * 1000L);
}

static void *nothing(void *arg)
{
    return arg;
}

/* A fork right after rw_writer_open (the writer thread starting), whose child starts
 * a thread and allocates: under AddressSanitizer it hung without the wait. */
START_TEST(test_fork_right_after_open)
{
    char *path = rw_test_path("forkopen.rwd");
    enum { NFORKS = 100 };
    for (int i = 0; i < NFORKS; i++) {
        rw_writer *w;
        rw_err err;
        ck_assert_int_eq(rw_writer_open(path, NULL, 1, NULL, &w, &err), RW_OK);
        spin_us(i % 50); /* the fork at every point of the thread's start */
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            signal(SIGALRM, SIG_DFL); /* not Check's handler, which kills the group */
            alarm(10);                /* a hang ends as SIGALRM */
            pthread_t th;
            if (pthread_create(&th, NULL, nothing, NULL) != 0 || pthread_join(th, NULL) != 0)
                _exit(2);
            for (size_t size = 8; size <= 4096; size *= 2)
                free(malloc(size));
            _exit(0);
        }
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "fork %d: the child did not end well (status 0x%x; SIGALRM: it hung)", i,
                      status);
        ck_assert_int_eq(rw_writer_close(w, NULL, NULL, &err), RW_OK);
    }
    free(path);
}
END_TEST

/* THP's setting: 1 when "always" or "madvise" is chosen, 0 for "never" or unknown. */
static int thp_on(void)
{
    char line[128] = "";
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!f)
        return 0;
    int ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    return ok && (strstr(line, "[always]") || strstr(line, "[madvise]"));
}

/* /proc/self/smaps' THPeligible for the mapping that starts at p: 1, 0, or -1 when the
 * mapping or the field is not there (kernels before 5.0). */
static int thp_eligible(const void *p)
{
    char line[512], start[32];
    snprintf(start, sizeof start, "%lx-", (unsigned long)(uintptr_t)p);
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return -1;
    int in = 0, v = -1;
    while (fgets(line, sizeof line, f)) {
        if (strchr(line, '-') && strncmp(line, start, strlen(start)) == 0)
            in = 1;
        else if (in && sscanf(line, "THPeligible: %d", &v) == 1)
            break;
    }
    fclose(f);
    return v;
}

/* rw_pages_alloc (alloc.h): zeroed pages; from 2 MiB on whole huge pages, aligned and
 * eligible for THP where it is on, which is what keeps a recording's page faults
 * within twice the untraced run's (docs/recording.md, "Memory"); the default block
 * is mapped as one; the test hook fails it like rw_malloc. */
START_TEST(test_pages_alloc)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    /* The default block is one huge page's mapping (writer.c block_bytes). */
    ck_assert_uint_le(sizeof(rw_block) + RW_BLOCK_RECORDS * sizeof(rw_rec), RW_PAGES_HUGE);
    ck_assert_uint_ge(sizeof(rw_block) + RW_BLOCK_RECORDS * sizeof(rw_rec), RW_PAGES_HUGE / 2);
    ck_assert_uint_eq(rw_pages_len(100), page);
    ck_assert_uint_eq(rw_pages_len(RW_PAGES_HUGE), RW_PAGES_HUGE);
    ck_assert_uint_eq(rw_pages_len(RW_PAGES_HUGE + 1), 2 * RW_PAGES_HUGE);

    uint8_t *small = rw_pages_alloc(100);
    ck_assert_ptr_nonnull(small);
    ck_assert_uint_eq((uintptr_t)small % page, 0);
    small[page - 1] = 1;
    for (size_t n = 3 * RW_PAGES_HUGE / 2; n <= 3 * RW_PAGES_HUGE; n += RW_PAGES_HUGE / 2) {
        uint8_t *p = rw_pages_alloc(n);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq((uintptr_t)p % RW_PAGES_HUGE, 0);
        for (size_t i = 0; i < n; i += page)
            ck_assert_uint_eq(p[i] | p[n - 1], 0);
        memset(p, 0xa5, n);
        if (thp_on()) {
            int e = thp_eligible(p);
            ck_assert_msg(e != 0, "a %zu-byte mapping is not eligible for huge pages", n);
        }
        rw_pages_free(p, n);
    }
    rw_pages_free(small, 100);

    rw_alloc_fail_after(0);
    ck_assert_ptr_null(rw_pages_alloc(RW_PAGES_HUGE));
    rw_alloc_fail_after(-1);
    void *p = rw_pages_alloc(RW_PAGES_HUGE);
    ck_assert_ptr_nonnull(p);
    rw_pages_free(p, RW_PAGES_HUGE);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_many_blocks_roundtrip, test_partial_reads_of_nontemporal_records,
                            test_gen_and_its_call_share_a_chunk,
                            test_thread_runs_as_a_cursor_sees_them,
                            test_flush_makes_records_readable,
                            test_fork_child_goes_on, test_fork_out_leaves_the_blocks_out,
                            test_fork_hold_keeps_the_blocks_place,
                            test_sigkill_leaves_readable_prefix, test_file_size_limit,
                            test_text_entries_cross_blocks, test_crash_request_completes_trace,
                            test_dumps_while_appending, test_out_of_memory_ends_the_trace,
                            test_out_of_memory_at_every_allocation,
                            test_fork_waits_between_passes, test_fork_right_after_open,
                            test_pages_alloc};
    return rw_test_main("writer", "core", 120, tests, RW_TEST_N(tests));
}
