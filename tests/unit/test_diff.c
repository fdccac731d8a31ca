/* Check suite for replayer/analysis/diff.h: the comparison on traces written with the
 * writer API, where the ids, thread numbers and interleavings are chosen: code ids
 * numbered differently in the two runs, threads interleaved differently, threads
 * matched by input stream, the earliest difference in run a's order when another
 * thread's is found first, a thread that ends, the pending bound, and the inputs. */
#include "diff.h"
#include "testutil.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "inputs.h"

typedef struct ev {
    uint32_t thread; /* ThreadDef id */
    uint8_t kind;
    uint64_t w1;
} ev;

#define CALL(t, code, line) {t, RW_K_CALL, (uint64_t)(code) | (uint64_t)(line) << 32}
#define LINE(t, l) {t, RW_K_LINE, l}
#define RET(t) {t, RW_K_RETURN, 0}

/* A trace of prog.py with codes f (first line 1) and g (first line 10), defined in the
 * order given (swap: g is code 1), threads 1..nthreads (thread i's input stream is
 * streams[i - 1]; NULL: i), the events evs, and the inputs ins. Returns its path
 * (caller frees). */
static char *write_trace(const char *name, int swap, uint32_t nthreads, const uint32_t *streams,
                         const ev *evs, size_t n, const rw_input *ins, size_t nins)
{
    char *path = rw_test_path(name);
    rw_writer *w = rw_test_script_trace(path, 7, "x\n", 2); /* small chunks */
    rw_writer_def_code(w, 1, 1, swap ? "g" : "f", swap ? "g" : "f", swap ? 10 : 1, 0, NULL, 0);
    rw_writer_def_code(w, 2, 1, swap ? "f" : "g", swap ? "f" : "g", swap ? 1 : 10, 0, NULL, 0);
    for (uint32_t t = 2; t <= nthreads; t++)
        rw_writer_def_thread(w, t, t, t, "T", 0);
    for (size_t i = 0; i < nins; i++)
        rw_writer_input(w, &ins[i]);
    rw_stream *s = rw_writer_stream(w);
    uint32_t cur = 0;
    for (size_t i = 0; i < n; i++) {
        if (evs[i].thread != cur)
            rw_stream_put(s, RW_REC(RW_K_THREAD, i), cur = evs[i].thread);
        uint64_t w1 = evs[i].w1;
        if (swap && evs[i].kind == RW_K_CALL) /* the same function, the other id */
            w1 = (3 - (w1 & 0xffffffffu)) | (w1 >> 32) << 32;
        rw_stream_put(s, RW_REC(evs[i].kind, i), w1);
    }
    Rewind__RunEnd end = REWIND__RUN_END__INIT;
    Rewind__ThreadDef defs[8], *pdefs[8];
    ck_assert_uint_le(nthreads, 8);
    for (uint32_t t = 0; t < nthreads; t++) {
        rewind__thread_def__init(&defs[t]);
        defs[t].id = t + 1;
        defs[t].is_main = t == 0;
        defs[t].input_stream = streams ? streams[t] : t + 1;
        pdefs[t] = &defs[t];
    }
    end.n_threads = nthreads;
    end.threads = pdefs;
    rw_test_writer_close(w, &end);
    return path;
}

static rw_reader *open_trace(const char *path)
{
    rw_reader *r = NULL;
    rw_err err = {0};
    ck_assert_msg(rw_reader_open(path, &r, &err) == RW_OK, "%s", err.msg);
    return r;
}

static rw_code diff(const char *a, const char *b, uint32_t thread, size_t max_pending,
                    rw_diff_result *res, rw_err *err)
{
    rw_reader *ra = open_trace(a), *rb = open_trace(b);
    rw_diff_opts o = {.thread = thread, .max_pending = max_pending};
    rw_code rc = rw_diff_run(ra, rb, &o, res, err);
    rw_reader_free(ra);
    rw_reader_free(rb);
    return rc;
}

/* Thread 1 calls f, which calls g; thread 2 calls g alone. */
static const ev two_threads[] = {
    CALL(1, 1, 1), LINE(1, 2), CALL(2, 2, 10), LINE(2, 11), LINE(1, 3), CALL(1, 2, 10),
    LINE(1, 11),   RET(1),     LINE(2, 12),    RET(2),      RET(1),
};
/* The same, thread 2 running first and for longer. */
static const ev two_threads_other_order[] = {
    CALL(2, 2, 10), LINE(2, 11), LINE(2, 12), CALL(1, 1, 1), LINE(1, 2), RET(2),
    LINE(1, 3),     CALL(1, 2, 10), LINE(1, 11), RET(1),     RET(1),
};

START_TEST(same_runs_other_ids_and_interleaving)
{
    char *a = write_trace("a.rwd", 0, 2, NULL, two_threads, RW_TEST_N(two_threads), NULL, 0);
    char *b = write_trace("b.rwd", 1, 2, NULL, two_threads_other_order,
                          RW_TEST_N(two_threads_other_order), NULL, 0);
    rw_diff_result res;
    rw_err err = {0};
    ck_assert_msg(diff(a, b, 0, 0, &res, &err) == RW_OK, "%s", err.msg);
    ck_assert_int_eq(res.differ, 0);
    ck_assert_uint_eq(res.compared, RW_TEST_N(two_threads));
    free(a);
    free(b);
}
END_TEST

START_TEST(threads_matched_by_stream)
{
    /* Run b defined its threads the other way round: ThreadDef 1 is stream 2. Its
     * events are two_threads with the thread numbers swapped: the same runs. */
    ev swapped[RW_TEST_N(two_threads)];
    for (size_t i = 0; i < RW_TEST_N(two_threads); i++) {
        swapped[i] = two_threads[i];
        swapped[i].thread = 3 - two_threads[i].thread;
    }
    uint32_t streams[] = {2, 1};
    char *a = write_trace("a.rwd", 0, 2, NULL, two_threads, RW_TEST_N(two_threads), NULL, 0);
    char *b = write_trace("b.rwd", 0, 2, streams, swapped, RW_TEST_N(swapped), NULL, 0);
    rw_diff_result res;
    rw_err err = {0};
    ck_assert_msg(diff(a, b, 0, 0, &res, &err) == RW_OK, "%s", err.msg);
    ck_assert_int_eq(res.differ, 0);
    /* Matched by definition order instead, they differ at the first event. */
    char *c = write_trace("c.rwd", 0, 2, NULL, swapped, RW_TEST_N(swapped), NULL, 0);
    ck_assert_msg(diff(a, c, 0, 0, &res, &err) == RW_OK, "%s", err.msg);
    ck_assert_int_eq(res.differ, 1);
    ck_assert_uint_eq(res.a.pos, 0);
    ck_assert_int_eq(res.a.has_common, 0);
    /* --thread 2 of a is thread 1 of b */
    ck_assert_msg(diff(a, b, 2, 0, &res, &err) == RW_OK, "%s", err.msg);
    ck_assert_int_eq(res.differ, 0);
    ck_assert_uint_eq(res.compared, 4);
    ck_assert_int_eq(diff(a, b, 3, 0, &res, &err), RW_EINVAL);
    free(a);
    free(b);
    free(c);
}
END_TEST

START_TEST(branch_and_earliest)
{
    /* Thread 1 differs at its 4th event (line 3 against 4); in run b, thread 1 runs
     * late, so thread 2's difference (a later one in run a's order) is met first. */
    static const ev a_evs[] = {
        CALL(1, 1, 1), LINE(1, 2), LINE(1, 3), LINE(1, 5), /* 0..3 */
        CALL(2, 1, 1), LINE(2, 2), LINE(2, 3), RET(2),     /* 4..7 */
        RET(1),
    };
    static const ev b_evs[] = {
        CALL(2, 1, 1), LINE(2, 2), LINE(2, 4), RET(2),     /* 0..3: differs at 2 */
        CALL(1, 1, 1), LINE(1, 2), LINE(1, 4), LINE(1, 5), /* 4..7: differs at 6 */
        RET(1),
    };
    char *a = write_trace("a.rwd", 0, 2, NULL, a_evs, RW_TEST_N(a_evs), NULL, 0);
    char *b = write_trace("b.rwd", 0, 2, NULL, b_evs, RW_TEST_N(b_evs), NULL, 0);
    rw_diff_result res;
    rw_err err = {0};
    ck_assert_msg(diff(a, b, 0, 0, &res, &err) == RW_OK, "%s", err.msg);
    ck_assert_int_eq(res.differ, 1);
    ck_assert_uint_eq(res.a.thread, 1);
    ck_assert_uint_eq(res.b.thread, 1);
    ck_assert_uint_eq(res.a.pos, 2);
    ck_assert_uint_eq(res.b.pos, 6);
    ck_assert_int_eq(res.a.has_common, 1);
    ck_assert_uint_eq(res.a.common_pos, 1);
    ck_assert_uint_eq(res.b.common_pos, 5);
    ck_assert_uint_eq(res.thread_equal, 2);
    /* Only thread 2: its own difference. */
    ck_assert_msg(diff(a, b, 2, 0, &res, &err) == RW_OK, "%s", err.msg);
    ck_assert_int_eq(res.differ, 1);
    ck_assert_uint_eq(res.a.thread, 2);
    ck_assert_uint_eq(res.a.pos, 6);
    ck_assert_uint_eq(res.b.pos, 2);
    free(a);
    free(b);
}
END_TEST

START_TEST(thread_ends_and_pending_bound)
{
    static const ev a_evs[] = {CALL(1, 1, 1), LINE(1, 2), LINE(1, 3), RET(1)};
    static const ev b_evs[] = {CALL(1, 1, 1), LINE(1, 2)};
    char *a = write_trace("a.rwd", 0, 1, NULL, a_evs, RW_TEST_N(a_evs), NULL, 0);
    char *b = write_trace("b.rwd", 0, 1, NULL, b_evs, RW_TEST_N(b_evs), NULL, 0);
    rw_diff_result res;
    rw_err err = {0};
    ck_assert_msg(diff(a, b, 0, 0, &res, &err) == RW_OK, "%s", err.msg);
    ck_assert_int_eq(res.differ, 1);
    ck_assert_int_eq(res.a.ended, 0);
    ck_assert_uint_eq(res.a.pos, 2);
    ck_assert_int_eq(res.b.ended, 1);
    ck_assert_uint_eq(res.b.common_pos, 1);
    /* the other way round */
    ck_assert_msg(diff(b, a, 0, 0, &res, &err) == RW_OK, "%s", err.msg);
    ck_assert_int_eq(res.a.ended, 1);
    ck_assert_uint_eq(res.b.pos, 2);
    /* Thread 2 runs first in d, thread 1 first in c: events wait for the other run. */
    char *c = write_trace("c.rwd", 0, 2, NULL, two_threads, RW_TEST_N(two_threads), NULL, 0);
    char *d = write_trace("d.rwd", 0, 2, NULL, two_threads_other_order,
                          RW_TEST_N(two_threads_other_order), NULL, 0);
    ck_assert_int_eq(diff(c, d, 0, 2, &res, &err), RW_ENOMEM);
    ck_assert_ptr_nonnull(strstr(err.msg, "--thread"));
    ck_assert_msg(diff(c, d, 0, 100, &res, &err) == RW_OK, "%s", err.msg);
    ck_assert_int_eq(res.differ, 0);
    free(a);
    free(b);
    free(c);
    free(d);
}
END_TEST

static rw_input input(uint32_t thread, uint64_t seq, uint64_t pos, uint32_t call,
                      const char *data)
{
    rw_input in = {0};
    in.thread = thread;
    in.seq = seq;
    in.position = pos;
    in.call = call;
    in.result = (int64_t)strlen(data);
    in.key = (const uint8_t *)"";
    in.data = (const uint8_t *)data;
    in.data_len = strlen(data);
    return in;
}

START_TEST(inputs_before)
{
    static const ev evs[] = {CALL(1, 1, 1), LINE(1, 2), LINE(1, 3), LINE(1, 4), RET(1)};
    rw_input ia[] = {input(1, 0, 0, RW_CALL_READ, "same"), input(1, 1, 1, RW_CALL_CLOCK_GETTIME, "t1"),
                     input(2, 0, 1, RW_CALL_READ, "other thread"),
                     input(1, 2, 2, RW_CALL_GETRANDOM, "aaaa"), input(1, 3, 3, RW_CALL_READ, "x"),
                     input(1, 4, 4, RW_CALL_READ, "after")};
    rw_input ib[] = {input(1, 0, 0, RW_CALL_READ, "same"), input(1, 1, 1, RW_CALL_CLOCK_GETTIME, "t2"),
                     input(1, 2, 2, RW_CALL_GETRANDOM, "bbbb"), input(1, 3, 3, RW_CALL_READ, "x")};
    char *a = write_trace("a.rwd", 0, 2, NULL, evs, RW_TEST_N(evs), ia, RW_TEST_N(ia));
    char *b = write_trace("b.rwd", 0, 2, NULL, evs, RW_TEST_N(evs), ib, RW_TEST_N(ib));
    rw_reader *ra = open_trace(a), *rb = open_trace(b);
    rw_diff_inputs in;
    rw_err err = {0};
    ck_assert_msg(rw_diff_read_inputs(ra, 1, 3, rb, 1, 3, 2, &in, &err) == RW_OK, "%s", err.msg);
    ck_assert_uint_eq(in.records[0], 4); /* thread 2's and the one after are not */
    ck_assert_uint_eq(in.records[1], 4);
    ck_assert_uint_eq(in.n[0], 2);
    ck_assert_uint_eq(in.last[0][0].seq, 2);
    ck_assert_uint_eq(in.last[0][1].seq, 3);
    ck_assert_int_eq(memcmp(in.last[1][0].data, "bbbb", 4), 0);
    /* the clock differs, but clocks differ in every run: the random read is first */
    ck_assert_int_eq(in.found, 1);
    ck_assert_uint_eq(in.first[0].call, RW_CALL_GETRANDOM);
    ck_assert_int_eq(memcmp(in.first[0].data, "aaaa", 4), 0);
    ck_assert_int_eq(memcmp(in.first[1].data, "bbbb", 4), 0);
    rw_diff_inputs_fini(&in);
    /* up to position 1: nothing differs but the clock */
    ck_assert_msg(rw_diff_read_inputs(ra, 1, 1, rb, 1, 1, 5, &in, &err) == RW_OK, "%s", err.msg);
    ck_assert_int_eq(in.found, 0);
    ck_assert_uint_eq(in.n[0], 2);
    rw_diff_inputs_fini(&in);
    /* stream 2 of a against stream 2 of b (none): b has no record there */
    ck_assert_msg(rw_diff_read_inputs(ra, 2, 4, rb, 2, 4, 5, &in, &err) == RW_OK, "%s", err.msg);
    ck_assert_int_eq(in.found, 1);
    ck_assert_int_eq(in.has[0], 1);
    ck_assert_int_eq(in.has[1], 0);
    rw_diff_inputs_fini(&in);
    rw_reader_free(ra);
    rw_reader_free(rb);
    free(a);
    free(b);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        same_runs_other_ids_and_interleaving, threads_matched_by_stream, branch_and_earliest,
        thread_ends_and_pending_bound, inputs_before,
    };
    return rw_test_main("diff", "core", 0, tests, RW_TEST_N(tests));
}
