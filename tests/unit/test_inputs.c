/* Check suite for input records in the trace (format/inputs.h): rw_writer_input and
 * the INPUTS frames it writes, rw_inputs_iter reading them back.
 *
 * Records logged from several threads come back exactly, each thread's in its own
 * order and all of them in the order they were given; periodic flushes, closing crash
 * requests and close all write what is pending, and dumps from a signal handler on a
 * thread that is logging never wait for it; a producer over the pending bound
 * waits and loses nothing; big keys are cut and flagged; a fork child's records never
 * reach the parent's file; out of memory ends the trace and says so. On the reading
 * side: no inputs, a file cut anywhere, a damaged frame in an indexed file (the
 * records before it, then an error) and hand-made hostile payloads.
 */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "container.h"
#include "inputs.h"
#include "reader.h"
#include "testutil.h"
#include "writer.h"

/* A record numbered i of thread t: a read of fd t with i's bytes. */
static void make_input(rw_input *in, uint32_t t, uint64_t i, uint8_t *key, uint8_t *data,
                       size_t dlen)
{
    int64_t k[2] = {(int64_t)t, (int64_t)i};
    memcpy(key, k, sizeof k);
    for (size_t j = 0; j < dlen; j++)
        data[j] = (uint8_t)(i * 31 + j * 7 + t);
    memset(in, 0, sizeof *in);
    in->thread = t;
    in->call = RW_CALL_READ;
    in->seq = i;
    in->position = i * 3;
    in->result = (int64_t)dlen - (i % 7 == 0 ? 100 : 0);
    in->err = (int32_t)(i % 5);
    in->flags = i % 11 == 0 ? RW_INPUT_F_INSTALL : 0;
    in->key = key;
    in->key_len = sizeof k;
    in->data = data;
    in->data_len = dlen;
}

/* Thread 6's records (test_dumps_while_logging) are bigger than what malloc keeps in
 * its per-thread caches, so that freeing one takes its arena's lock. */
static size_t dlen_of(uint32_t t, uint64_t i) { return t == 6 ? 1200 : (size_t)(i % 97) * 13; }

static void check_input(const rw_input *in, uint32_t t, uint64_t i)
{
    uint8_t key[16], data[97 * 13];
    rw_input want;
    make_input(&want, t, i, key, data, dlen_of(t, i));
    ck_assert_uint_eq(in->thread, t);
    ck_assert_uint_eq(in->call, RW_CALL_READ);
    ck_assert_uint_eq(in->seq, i);
    ck_assert_uint_eq(in->position, i * 3);
    ck_assert_int_eq(in->result, want.result);
    ck_assert_int_eq(in->err, want.err);
    ck_assert_uint_eq(in->flags, want.flags);
    ck_assert_uint_eq(in->key_len, 16);
    ck_assert_mem_eq(in->key, key, 16);
    ck_assert_uint_eq(in->data_len, want.data_len);
    if (want.data_len)
        ck_assert_mem_eq(in->data, data, want.data_len);
}

static void log_one(rw_writer *w, uint32_t t, uint64_t i)
{
    uint8_t key[16], data[97 * 13];
    rw_input in;
    make_input(&in, t, i, key, data, dlen_of(t, i));
    rw_writer_input(w, &in);
}

/* A few events so that the trace has chunks, and every N-th record an input; a flush
 * every 1000 steps (so that inputs go in several frames). */
static void write_events(rw_writer *w, uint64_t n, uint64_t input_every, uint64_t *inputs)
{
    rw_stream *s = rw_writer_stream(w);
    rw_writer_def_thread(w, 1, 1234, 99, "MainThread", 1);
    rw_writer_def_file(w, 1, "/x/prog.py", "a = 1\n", 6, 1);
    rw_writer_def_code(w, 1, 1, "f", "f", 10, 0, NULL, 0);
    rw_stream_put(s, RW_REC(RW_K_THREAD, 1), 1);
    uint64_t tick = 10, k = 0;
    for (uint64_t i = 0; i < n; i++) {
        rw_stream_put(s, RW_REC(RW_K_CALL, tick += 3), 1 | (10ull << 32));
        rw_stream_put(s, RW_REC(RW_K_RETURN, tick += 3), 0);
        if (input_every && i % input_every == 0)
            log_one(w, 1, k++);
        rw_err err;
        if (i % 1000 == 999 && rw_writer_flush(w, &err) != RW_OK)
            break; /* out of memory tests: the trace has ended */
    }
    if (inputs)
        *inputs = k;
}

/* Reads every input of path; checks that thread t's records are 0, 1, 2, ... and
 * returns the number of records (and per-thread counts in per, up to 8 threads). */
static uint64_t read_inputs(const char *path, uint64_t per[8], int *end_rc)
{
    rw_reader *r;
    rw_err err = {0};
    ck_assert_msg(rw_reader_open(path, &r, &err) == RW_OK, "open: %s", err.msg);
    rw_inputs_iter *it;
    ck_assert_int_eq(rw_inputs_iter_open(r, &it, &err), RW_OK);
    uint64_t n = 0, mine[8] = {0};
    rw_input in;
    int rc;
    while ((rc = rw_inputs_iter_next(it, &in, &err)) == 1) {
        ck_assert_uint_lt(in.thread, 8);
        check_input(&in, in.thread, mine[in.thread]);
        mine[in.thread]++;
        n++;
    }
    if (end_rc)
        *end_rc = rc;
    else
        ck_assert_msg(rc == 0, "inputs: %s", err.msg);
    if (per)
        memcpy(per, mine, sizeof mine);
    rw_inputs_iter_free(it);
    rw_reader_free(r);
    return n;
}

/* Frames of the file image b: offsets of the frames of type `type`, up to cap. */
static size_t find_frames(const uint8_t *b, size_t len, unsigned type, size_t *offs, size_t cap)
{
    size_t off = RW_HEADER_LEN, n = 0;
    while (off + RW_FRAME_HEADER_LEN <= len) {
        rw_frame_header h;
        rw_err e;
        if (rw_frame_header_decode(b + off, &h, &e) != RW_OK)
            break;
        if (h.type == type && n < cap)
            offs[n++] = off;
        off += RW_FRAME_HEADER_LEN + h.stored_len;
    }
    return n;
}

/* ---- writing -------------------------------------------------------------------- */

START_TEST(test_no_inputs)
{
    char *path = rw_test_path("none.rwd");
    rw_writer *w = rw_test_writer_open(path, 0, NULL);
    write_events(w, 100, 0, NULL);
    rw_test_writer_exit(w);
    ck_assert_uint_eq(read_inputs(path, NULL, NULL), 0);
    free(path);
}
END_TEST

START_TEST(test_roundtrip_with_chunks)
{
    char *path = rw_test_path("rt.rwd");
    rw_writer *w = rw_test_writer_open(path, 500, NULL);
    uint64_t k;
    write_events(w, 20000, 7, &k);
    rw_writer_stats st;
    rw_err err;
    Rewind__RunEnd end = REWIND__RUN_END__INIT;
    ck_assert_int_eq(rw_writer_close(w, &end, &st, &err), RW_OK);
    ck_assert_uint_eq(st.inputs, k);
    uint64_t per[8];
    ck_assert_uint_eq(read_inputs(path, per, NULL), k);
    ck_assert_uint_eq(per[1], k);
    /* Many chunks, and inputs between them: more than one INPUTS frame. */
    size_t len;
    uint8_t *b = rw_test_read_file(path, &len);
    size_t offs[4];
    ck_assert_uint_gt(find_frames(b, len, RW_FRAME_INPUTS, offs, 4), 1);
    free(b);
    free(path);
}
END_TEST

typedef struct producer {
    rw_writer *w;
    uint32_t thread;
    uint64_t n;
} producer;

static void *produce(void *arg)
{
    producer *p = arg;
    for (uint64_t i = 0; i < p->n; i++)
        log_one(p->w, p->thread, i);
    return NULL;
}

/* Four threads at once, with the periodic flush running: each thread's records in
 * order, none lost; the main thread's flushes in between. */
START_TEST(test_threads_and_flushes)
{
    char *path = rw_test_path("threads.rwd");
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    o.flush_ms = 1;
    rw_writer *w;
    rw_err err;
    ck_assert_int_eq(rw_writer_open(path, &o, 1, NULL, &w, &err), RW_OK);
    producer ps[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        ps[i] = (producer){w, (uint32_t)i + 2, 5000};
        ck_assert_int_eq(pthread_create(&th[i], NULL, produce, &ps[i]), 0);
    }
    for (int i = 0; i < 20; i++) {
        log_one(w, 1, (uint64_t)i);
        ck_assert_int_eq(rw_writer_flush(w, &err), RW_OK);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    rw_test_writer_exit(w);
    uint64_t per[8];
    ck_assert_uint_eq(read_inputs(path, per, NULL), 20 + 4 * 5000);
    ck_assert_uint_eq(per[1], 20);
    for (int i = 2; i < 6; i++)
        ck_assert_uint_eq(per[i], 5000);
    free(path);
}
END_TEST

/* The periodic flush writes pending inputs without any event or explicit flush. */
static uint64_t inputs_in_file(const char *path)
{
    size_t len;
    uint8_t *b = rw_test_read_file(path, &len);
    size_t offs[64];
    size_t n = find_frames(b, len, RW_FRAME_INPUTS, offs, 64);
    free(b);
    return n;
}

START_TEST(test_periodic_flush_writes_inputs)
{
    char *path = rw_test_path("periodic.rwd");
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    o.flush_ms = 5;
    rw_writer *w;
    rw_err err;
    ck_assert_int_eq(rw_writer_open(path, &o, 1, NULL, &w, &err), RW_OK);
    log_one(w, 1, 0);
    uint64_t frames = 0;
    for (int i = 0; i < 2000 && !(frames = inputs_in_file(path)); i++)
        nanosleep(&(struct timespec){0, 5000000}, NULL);
    ck_assert_uint_eq(frames, 1);
    rw_test_writer_exit(w);
    ck_assert_uint_eq(read_inputs(path, NULL, NULL), 1);
    free(path);
}
END_TEST

/* 48 records of 1 MiB with no flush: past the pending bound the producer waits for
 * the writer thread, and every record arrives. */
START_TEST(test_pending_bound_waits)
{
    char *path = rw_test_path("bound.rwd");
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    o.flush_ms = 0;
    rw_writer *w;
    rw_err err;
    ck_assert_int_eq(rw_writer_open(path, &o, 1, NULL, &w, &err), RW_OK);
    enum { MB = 1 << 20, N = 48 };
    uint8_t *data = malloc(MB);
    for (size_t j = 0; j < MB; j++)
        data[j] = (uint8_t)(j % 251);
    for (uint64_t i = 0; i < N; i++) {
        rw_input in = {.thread = 1, .call = RW_CALL_READ, .seq = i, .result = MB};
        data[0] = (uint8_t)i;
        in.data = data;
        in.data_len = MB;
        rw_writer_input(w, &in);
    }
    rw_test_writer_exit(w);
    rw_reader *r;
    ck_assert_int_eq(rw_reader_open(path, &r, &err), RW_OK);
    rw_inputs_iter *it;
    ck_assert_int_eq(rw_inputs_iter_open(r, &it, &err), RW_OK);
    rw_input in;
    uint64_t n = 0;
    while (rw_inputs_iter_next(it, &in, &err) == 1) {
        ck_assert_uint_eq(in.seq, n);
        ck_assert_uint_eq(in.data_len, MB);
        ck_assert_uint_eq(in.data[0], (uint8_t)n);
        ck_assert_mem_eq(in.data + 1, data + 1, MB - 1);
        n++;
    }
    ck_assert_uint_eq(n, N);
    rw_inputs_iter_free(it);
    rw_reader_free(r);
    free(data);
    free(path);
}
END_TEST

/* One record bigger than the pending bound goes alone; a key over RW_INPUT_KEY_MAX is
 * cut and flagged. */
START_TEST(test_big_records)
{
    char *path = rw_test_path("big.rwd");
    rw_writer *w = rw_test_writer_open(path, 0, NULL);
    size_t big = (40u << 20) + 3;
    uint8_t *data = malloc(big);
    for (size_t j = 0; j < big; j++)
        data[j] = (uint8_t)(j * 13 + j / 4099);
    uint8_t key[RW_INPUT_KEY_MAX + 100];
    memset(key, 'k', sizeof key);
    log_one(w, 1, 0);
    rw_input in = {.thread = 1, .call = RW_CALL_READ, .seq = 1, .result = (int64_t)big};
    in.data = data;
    in.data_len = big;
    rw_writer_input(w, &in);
    rw_input k2 = {.thread = 1, .call = RW_CALL_OPEN, .seq = 2, .result = 3};
    k2.key = key;
    k2.key_len = sizeof key;
    k2.flags = RW_INPUT_F_SCRUBBED;
    rw_writer_input(w, &k2);
    log_one(w, 2, 0);
    rw_test_writer_exit(w);

    rw_reader *r;
    rw_err err;
    ck_assert_int_eq(rw_reader_open(path, &r, &err), RW_OK);
    rw_inputs_iter *it;
    ck_assert_int_eq(rw_inputs_iter_open(r, &it, &err), RW_OK);
    rw_input got;
    ck_assert_int_eq(rw_inputs_iter_next(it, &got, &err), 1);
    check_input(&got, 1, 0);
    ck_assert_int_eq(rw_inputs_iter_next(it, &got, &err), 1);
    ck_assert_uint_eq(got.seq, 1);
    ck_assert_uint_eq(got.data_len, big);
    ck_assert_int_eq(memcmp(got.data, data, big), 0);
    ck_assert_uint_eq(got.flags, 0);
    ck_assert_int_eq(rw_inputs_iter_next(it, &got, &err), 1);
    ck_assert_uint_eq(got.call, RW_CALL_OPEN);
    ck_assert_uint_eq(got.key_len, RW_INPUT_KEY_MAX);
    ck_assert_uint_eq(got.flags, RW_INPUT_F_SCRUBBED | RW_INPUT_F_TRUNCATED);
    ck_assert_uint_eq(got.data_len, 0);
    ck_assert_ptr_nonnull(got.data);
    ck_assert_int_eq(rw_inputs_iter_next(it, &got, &err), 1);
    check_input(&got, 2, 0);
    ck_assert_int_eq(rw_inputs_iter_next(it, &got, &err), 0);
    ck_assert_int_eq(rw_inputs_iter_next(it, &got, &err), 0);
    rw_inputs_iter_free(it);
    rw_reader_free(r);
    free(data);
    free(path);
}
END_TEST

/* A fork child's records never reach the parent's trace, and never wait. */
START_TEST(test_fork_child_is_not_logged)
{
    char *path = rw_test_path("fork.rwd");
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    o.flush_ms = 0;
    rw_writer *w;
    rw_err err;
    ck_assert_int_eq(rw_writer_open(path, &o, 1, NULL, &w, &err), RW_OK);
    log_one(w, 1, 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* Far past the pending bound: with no writer thread here, waiting would hang. */
        uint8_t *data = calloc(1, 1 << 20);
        for (int i = 0; i < 64; i++) {
            rw_input in = {.thread = 7, .call = RW_CALL_READ, .data = data, .data_len = 1 << 20};
            rw_writer_input(w, &in);
        }
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    log_one(w, 1, 1);
    rw_test_writer_exit(w);
    uint64_t per[8];
    ck_assert_uint_eq(read_inputs(path, per, NULL), 2);
    ck_assert_uint_eq(per[7], 0);
    free(path);
}
END_TEST

/* A closing crash request writes the pending inputs before its report. */
static rw_writer *crash_w;
static const uint8_t crash_payload[] = {0x08, 0x00, 0x10, 0x0b};

static void on_segv(int sig)
{
    rw_crash_req req = {crash_payload, sizeof crash_payload, 1, 128 + sig, sig, "signal"};
    rw_writer_crash(crash_w, &req, 5000);
    signal(sig, SIG_DFL);
    raise(sig);
}

START_TEST(test_crash_writes_inputs)
{
    char *path = rw_test_path("crash.rwd");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        rw_writer_opts o;
        rw_writer_opts_default(&o);
        o.flush_ms = 0;
        rw_err err;
        if (rw_writer_open(path, &o, 1, NULL, &crash_w, &err) != RW_OK)
            _exit(2);
        write_events(crash_w, 3000, 10, NULL);
        signal(SIGSEGV, on_segv);
        raise(SIGSEGV);
        _exit(3);
    }
    int status;
    waitpid(pid, &status, 0);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "status %d", status);
    ck_assert_uint_eq(read_inputs(path, NULL, NULL), 300);
    /* The inputs come before the report. */
    size_t len;
    uint8_t *b = rw_test_read_file(path, &len);
    size_t in_off[8], crash_off[2];
    size_t ni = find_frames(b, len, RW_FRAME_INPUTS, in_off, 8);
    ck_assert_uint_ge(ni, 1);
    ck_assert_uint_eq(find_frames(b, len, RW_FRAME_CRASH, crash_off, 2), 1);
    ck_assert_uint_lt(in_off[ni - 1], crash_off[0]);
    free(b);
    free(path);
}
END_TEST

/* Dump requests from a signal handler that interrupts a thread while it logs inputs
 * all complete (the writer thread never waits long for a lock that thread holds), and
 * every input is in the file, in order. */
static rw_writer *dump_w;
static const uint8_t dump_payload[] = {0x08, 0x02};
static _Atomic int dumps_ok, dumps_failed, producer_done;
static _Atomic uint64_t dump_logged;

static void on_dump(int sig)
{
    (void)sig;
    rw_crash_req req = {dump_payload, sizeof dump_payload, 0, 0, 0, "dump"};
    /* 10 s: under ASan on a busy machine the writer may be compressing a large INPUTS
     * frame when the request comes; it serves the request after that frame. */
    if (rw_writer_crash(dump_w, &req, 10000))
        atomic_fetch_add(&dumps_ok, 1);
    else
        atomic_fetch_add(&dumps_failed, 1);
}

static void *dump_producer(void *arg)
{
    (void)arg;
    uint64_t i = 0;
    /* As fast as they come, so that the signals often land while this thread holds
     * the inputs' lock or malloc's. */
    for (; !atomic_load(&producer_done); i++) {
        log_one(dump_w, 6, i);
        if (i >= 50000) /* enough to read back */
            nanosleep(&(struct timespec){0, 200000}, NULL);
    }
    atomic_store(&dump_logged, i);
    return NULL;
}

START_TEST(test_dumps_while_logging)
{
    char *path = rw_test_path("dumps.rwd");
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    o.flush_ms = 2;
    rw_err err;
    ck_assert_int_eq(rw_writer_open(path, &o, 1, NULL, &dump_w, &err), RW_OK);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_dump;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR2, &sa, NULL);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, dump_producer, NULL), 0);
    enum { NDUMPS = 100 };
    for (int n = 1; n <= NDUMPS; n++) {
        pthread_kill(th, SIGUSR2);
        while (atomic_load(&dumps_ok) + atomic_load(&dumps_failed) < n)
            nanosleep(&(struct timespec){0, 100000}, NULL);
    }
    atomic_store(&producer_done, 1);
    pthread_join(th, NULL);
    signal(SIGUSR2, SIG_DFL);
    ck_assert_int_eq(atomic_load(&dumps_failed), 0);
    rw_test_writer_exit(dump_w);
    uint64_t per[8];
    ck_assert_uint_eq(read_inputs(path, per, NULL), atomic_load(&dump_logged));
    ck_assert_uint_eq(per[6], atomic_load(&dump_logged));
    rw_reader *r;
    ck_assert_int_eq(rw_reader_open(path, &r, &err), RW_OK);
    ck_assert_uint_eq(rw_reader_ncrashes(r), NDUMPS);
    rw_reader_free(r);
    free(path);
}
END_TEST

/* Out of memory copying an input ends the trace, which says so; the records before
 * it are there. */
START_TEST(test_out_of_memory)
{
    char *path = rw_test_path("oom.rwd");
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    o.flush_ms = 0;
    rw_writer *w;
    rw_err err;
    ck_assert_int_eq(rw_writer_open(path, &o, 1, NULL, &w, &err), RW_OK);
    for (uint64_t i = 0; i < 10; i++)
        log_one(w, 1, i);
    ck_assert_int_eq(rw_writer_flush(w, &err), RW_OK);
    rw_alloc_fail_after(0);
    log_one(w, 1, 10);
    rw_alloc_fail_after(-1);
    log_one(w, 1, 11); /* after the loss: dropped */
    rw_writer_stats st;
    Rewind__RunEnd end = REWIND__RUN_END__INIT;
    rw_code rc = rw_writer_close(w, &end, &st, &err);
    ck_assert_int_eq(rc, RW_ENOMEM);
    ck_assert_msg(strstr(err.msg, "recording an input"), "%s", err.msg);
    ck_assert_int_eq(st.failed, 1);
    ck_assert_uint_eq(read_inputs(path, NULL, NULL), 10);
    free(path);
}
END_TEST

/* Every allocation failing in turn while inputs are logged: never a crash or a hang;
 * the file always reads, and its inputs are a prefix of those logged. */
START_TEST(test_out_of_memory_at_every_allocation)
{
    char *path = rw_test_path("oom-k.rwd");
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    o.chunk_records = 300;
    o.flush_ms = 0;
    long total = -1;
    for (long k = -1; k < total || total < 0; k++) {
        rw_alloc_fail_after(k < 0 ? -1 : k);
        rw_writer *w;
        rw_err err = {0};
        if (rw_writer_open(path, &o, 1, NULL, &w, &err) != RW_OK) {
            rw_alloc_fail_after(-1);
            continue;
        }
        uint64_t logged;
        write_events(w, 400, 3, &logged);
        Rewind__RunEnd end = REWIND__RUN_END__INIT;
        rw_code rc = rw_writer_close(w, &end, NULL, &err);
        long made = rw_alloc_fail_after(-1);
        if (k < 0) {
            ck_assert_int_eq(rc, RW_OK);
            total = made;
            continue;
        }
        int end_rc;
        uint64_t n = read_inputs(path, NULL, &end_rc);
        ck_assert_int_eq(end_rc, 0);
        ck_assert_uint_le(n, logged);
        if (rc == RW_OK)
            ck_assert_uint_eq(n, logged);
    }
    free(path);
}
END_TEST

/* ---- reading -------------------------------------------------------------------- */

/* A trace cut anywhere: the reader scans; the inputs it gives are a prefix of those
 * logged, ending cleanly or with an error. Cut just before the footer: all of them. */
START_TEST(test_truncated_file)
{
    char *path = rw_test_path("cut-src.rwd"), *cut = rw_test_path("cut.rwd");
    rw_writer *w = rw_test_writer_open(path, 400, NULL);
    uint64_t k;
    write_events(w, 3000, 5, &k);
    rw_test_writer_exit(w);
    size_t len;
    uint8_t *b = rw_test_read_file(path, &len);
    size_t idx[1];
    ck_assert_uint_eq(find_frames(b, len, RW_FRAME_INDEX, idx, 1), 1);
    rw_test_write_file(cut, b, idx[0]);
    ck_assert_uint_eq(read_inputs(cut, NULL, NULL), k);
    uint64_t prev = k;
    for (size_t at = len - 1; at > RW_HEADER_LEN + 40 + len / 53; at -= len / 53) {
        rw_test_write_file(cut, b, at);
        rw_reader *r;
        rw_err err;
        if (rw_reader_open(cut, &r, &err) != RW_OK)
            continue;
        rw_reader_free(r);
        int end_rc;
        uint64_t n = read_inputs(cut, NULL, &end_rc);
        ck_assert_uint_le(n, prev); /* a shorter file never gives more */
        prev = n;
    }
    free(b);
    free(path);
    free(cut);
}
END_TEST

/* A byte flipped in the second INPUTS frame of an indexed trace: the first frame's
 * records, then an error that names the frame; the events still read. */
START_TEST(test_damaged_frame)
{
    char *path = rw_test_path("dmg.rwd");
    rw_writer *w = rw_test_writer_open(path, 400, NULL);
    uint64_t k;
    write_events(w, 3000, 5, &k);
    rw_test_writer_exit(w);
    size_t len;
    uint8_t *b = rw_test_read_file(path, &len);
    size_t offs[64];
    size_t nf = find_frames(b, len, RW_FRAME_INPUTS, offs, 64);
    ck_assert_uint_ge(nf, 3);
    rw_reader *r;
    rw_err err;
    rw_inputs_iter *it;
    rw_input in;
    b[offs[1] + RW_FRAME_HEADER_LEN + 5] ^= 0x10;
    rw_test_write_file(path, b, len);
    ck_assert_int_eq(rw_reader_open(path, &r, &err), RW_OK);
    ck_assert_int_eq(rw_reader_recovery(r)->used, 0);
    ck_assert_int_eq(rw_inputs_iter_open(r, &it, &err), RW_OK);
    uint64_t n = 0;
    int rc;
    while ((rc = rw_inputs_iter_next(it, &in, &err)) == 1)
        check_input(&in, 1, n++);
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(err.msg, "frame"), "%s", err.msg);
    ck_assert_uint_gt(n, 0);
    ck_assert_uint_lt(n, k);
    /* Sticky. */
    ck_assert_int_eq(rw_inputs_iter_next(it, &in, &err), -1);
    rw_inputs_iter_free(it);
    ck_assert_uint_gt(rw_reader_nevents(r), 0);
    rw_reader_free(r);
    free(b);
    free(path);
}
END_TEST

/* A trace without its footer, then one hand-made INPUTS frame of payload p: the
 * reader scans it. Returns the iterator's last result and the records given. */
static int read_handmade(const uint8_t *p, size_t plen, uint64_t *n_out, rw_err *err)
{
    char *path = rw_test_path("hand-src.rwd"), *out = rw_test_path("hand.rwd");
    rw_writer *w = rw_test_writer_open(path, 0, NULL);
    write_events(w, 10, 0, NULL);
    rw_test_writer_exit(w);
    size_t len;
    uint8_t *b = rw_test_read_file(path, &len);
    size_t idx[1];
    ck_assert_uint_eq(find_frames(b, len, RW_FRAME_INDEX, idx, 1), 1);
    uint8_t *frame;
    size_t flen;
    rw_err e;
    ck_assert_int_eq(rw_frame_build(RW_FRAME_INPUTS, p, plen, 0, &frame, &flen, &e), RW_OK);
    uint8_t *img = malloc(idx[0] + flen);
    memcpy(img, b, idx[0]);
    memcpy(img + idx[0], frame, flen);
    rw_test_write_file(out, img, idx[0] + flen);
    free(img);
    free(frame);
    free(b);
    rw_reader *r;
    ck_assert_msg(rw_reader_open(out, &r, err) == RW_OK, "%s", err->msg);
    ck_assert_int_eq(rw_reader_recovery(r)->used, 1);
    ck_assert_uint_eq(rw_reader_nevents(r), 20);
    rw_inputs_iter *it;
    ck_assert_int_eq(rw_inputs_iter_open(r, &it, err), RW_OK);
    rw_input in;
    uint64_t n = 0;
    int rc;
    while ((rc = rw_inputs_iter_next(it, &in, err)) == 1)
        n++;
    rw_inputs_iter_free(it);
    rw_reader_free(r);
    free(path);
    free(out);
    *n_out = n;
    return rc;
}

START_TEST(test_hostile_payloads)
{
    uint64_t n;
    rw_err err;
    /* Two empty records and an unknown top-level field: read. */
    static const uint8_t ok[] = {0x0a, 0x00, 0x10, 0x05, 0x0a, 0x02, 0x08, 0x01};
    ck_assert_int_eq(read_handmade(ok, sizeof ok, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    /* A record whose length runs past the payload. */
    static const uint8_t past[] = {0x0a, 0x00, 0x0a, 0x7f, 0x08};
    ck_assert_int_eq(read_handmade(past, sizeof past, &n, &err), -1);
    ck_assert_uint_eq(n, 1);
    ck_assert_msg(strstr(err.msg, "malformed"), "%s", err.msg);
    /* A record that is not a message (a bad tag inside). */
    static const uint8_t badmsg[] = {0x0a, 0x02, 0x07, 0x00};
    ck_assert_int_eq(read_handmade(badmsg, sizeof badmsg, &n, &err), -1);
    ck_assert_uint_eq(n, 0);
    /* A cut varint. */
    static const uint8_t cutv[] = {0x0a, 0xff};
    ck_assert_int_eq(read_handmade(cutv, sizeof cutv, &n, &err), -1);
    /* A group wire type at the top level. */
    static const uint8_t group[] = {0x0b};
    ck_assert_int_eq(read_handmade(group, sizeof group, &n, &err), -1);
    /* A key longer than the format allows. */
    size_t klen = RW_INPUT_KEY_MAX + 1;
    uint8_t *p = calloc(1, klen + 16);
    size_t o = 0;
    p[o++] = 0x0a;
    size_t inner = 1 + 2 + klen; /* tag 0x42, 2-byte length, bytes */
    p[o++] = (uint8_t)(0x80 | (inner & 0x7f));
    p[o++] = (uint8_t)(inner >> 7);
    p[o++] = 0x42;
    p[o++] = (uint8_t)(0x80 | (klen & 0x7f));
    p[o++] = (uint8_t)(klen >> 7);
    o += klen;
    ck_assert_int_eq(read_handmade(p, o, &n, &err), -1);
    ck_assert_msg(strstr(err.msg, "longer"), "%s", err.msg);
    free(p);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_no_inputs,
                            test_roundtrip_with_chunks,
                            test_threads_and_flushes,
                            test_periodic_flush_writes_inputs,
                            test_pending_bound_waits,
                            test_big_records,
                            test_fork_child_is_not_logged,
                            test_crash_writes_inputs,
                            test_dumps_while_logging,
                            test_out_of_memory,
                            test_out_of_memory_at_every_allocation,
                            test_truncated_file,
                            test_damaged_frame,
                            test_hostile_payloads};
    return rw_test_main("inputs", "core", 120, tests, RW_TEST_N(tests));
}
