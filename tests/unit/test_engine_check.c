/* Check suite for the engine's divergence check (replayer/engine/inside/check.h) and
 * the writer's sink mode (format/writer.h, rw_writer_opts.sink).
 *
 * A recording is written through the writer as usual; the "replay" is the same stream
 * written again through a writer whose records go to rw_check_feed: when the streams
 * are equal the check agrees and counts every event, whatever the text records and
 * block hand-offs in between; one changed line, call, allocation address, audit name
 * or an extra event is reported at its position, named with each side's own
 * definitions; allocations count only when asked. Every test runs twice: with the
 * recording's fingerprints (format/fprint.h: groups compared whole, a differing one and
 * the last one record by record) and record by record throughout
 * (REWIND_CHECK_BY_RECORD, as for a trace without fingerprints).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../replayer/engine/inside/check.h"
#include "reader.h"
#include "testutil.h"
#include "writer.h"

/* What to change in a stream, at step `at`. BURST_ADDR: the address of the burst's
 * allocation number `at`. */
typedef enum { SAME, LINE, CALL, ADDR, ADDR_LINE, EXTRA_ALLOC, AUDIT, EXTRA, SHORT,
               BURST_ADDR } change;

/* Both streams allocate BURST raw blocks with no event between them at step burst_at
 * (as a collection frees a large list), more than the check keeps of a group. */
#define BURST 200000
static uint64_t burst_at = UINT64_MAX;

/* n steps of call/line/alloc/(audit with text)/return; returns the events. The
 * replay's code 2 is "g" where the recording's is "h": same id, other names. */
static uint64_t put_stream(rw_writer *w, uint64_t n, change ch, uint64_t at, int replay)
{
    rw_stream *s = rw_writer_stream(w);
    uint64_t tick = 100 + (replay ? 5000 : 0), events = 0; /* times never compared */
    rw_writer_def_thread(w, 1, 1234, 99, "MainThread", 1);
    rw_writer_def_file(w, 1, "/x/prog.py", "a = 1\n", 6, 1);
    rw_writer_def_code(w, 1, 1, "f", "f", 10, 0, NULL, 0);
    rw_writer_def_code(w, 2, 1, replay ? "g" : "h", replay ? "g" : "h", 20, 0, NULL, 0);
    rw_writer_def_name(w, 1, "open");
    rw_writer_def_name(w, 2, "exec");
    rw_stream_put(s, RW_REC(RW_K_THREAD, tick), 1);
    for (uint64_t i = 0; i < n; i++) {
        if (ch == SHORT && i == at)
            break;
        tick += 7;
        int here = i == at;
        uint32_t code = here && ch == CALL ? 2 : 1;
        rw_stream_put(s, RW_REC(RW_K_CALL, tick), code | ((uint64_t)(code == 2 ? 20 : 10) << 32));
        int later = ch == ADDR_LINE && i == at + 100; /* a line after the memory differs */
        rw_stream_put(s, RW_REC(RW_K_LINE, tick + 1),
                      (here && ch == LINE) || later ? 99 : 11 + i % 5);
        rw_stream_put(s, RW_REC(RW_K_ALLOC_OBJ, 32 + i % 64),
                      0x10000 + (i % 1000) * 32 + (here && (ch == ADDR || ch == ADDR_LINE) ? 8 : 0));
        if (i == burst_at)
            for (uint64_t b = 0; b < BURST; b++)
                rw_stream_put(s, RW_REC(RW_K_ALLOC_RAW, 48),
                              0x800000 + b * 64 + (ch == BURST_ADDR && b == at ? 16 : 0));
        if (here && ch == EXTRA_ALLOC)
            rw_stream_put(s, RW_REC(RW_K_ALLOC_RAW, 24), 0x90000);
        if (i % 100 == 0 || (here && ch == AUDIT))
            rw_stream_put_text(s, RW_REC(RW_K_AUDIT, tick), here && ch == AUDIT ? 2 : 1,
                               "('x', 'r', 'a longer argument text')", 35);
        if (here && ch == EXTRA) {
            rw_stream_put(s, RW_REC(RW_K_LINE, tick + 1), 12);
            events++;
        }
        rw_stream_put(s, RW_REC(RW_K_RETURN, tick + 2), 0);
        events += 3;
    }
    return events;
}

static char *recording(uint64_t n)
{
    char *path = rw_test_path("recorded.rwd");
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    o.block_records = 1000;
    o.chunk_records = 3000;
    rw_writer *w;
    rw_err err;
    ck_assert_int_eq(rw_writer_open(path, &o, 1, NULL, &w, &err), RW_OK);
    put_stream(w, n, SAME, 0, 0);
    ck_assert_int_eq(rw_writer_close(w, NULL, NULL, &err), RW_OK);
    return path;
}

typedef struct result {
    int verdict;
    uint64_t where, events, counted, by_fp, by_record;
    char report[2048];
    char note[800];
} result;

/* Replays n steps with ch at step at against the recording at path. */
static result replay(const char *path, uint64_t n, change ch, uint64_t at, int allocs)
{
    rw_reader *r;
    rw_err err;
    ck_assert_msg(rw_reader_open(path, &r, &err) == RW_OK, "%s", err.msg);
    rw_check *c;
    ck_assert_int_eq(rw_check_new(r, allocs, &c, &err), RW_OK);
    char *epath = rw_test_path("engine.rwd");
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    o.block_records = 777; /* other block boundaries than the recording's */
    o.sink = rw_check_feed;
    o.sink_ctx = c;
    rw_writer *w;
    ck_assert_int_eq(rw_writer_open(epath, &o, 1, NULL, &w, &err), RW_OK);
    result res = {0};
    res.events = put_stream(w, n, ch, at, 1);
    ck_assert_int_eq(rw_writer_flush(w, &err), RW_OK);
    rw_check_settle(c); /* as the engine does at a stop */
    rw_check_counts(c, &res.by_fp, &res.by_record);
    res.verdict = atomic_load(rw_check_verdict(c));
    res.where = rw_check_report(c, epath, res.report, sizeof res.report);
    snprintf(res.note, sizeof res.note, "%s", rw_check_note(c) ? rw_check_note(c) : "");
    rw_writer_stats st;
    ck_assert_int_eq(rw_writer_close(w, NULL, &st, &err), RW_OK);
    res.counted = st.events;
    /* Nothing was encoded: the engine's trace holds its definitions and no event. */
    rw_reader *er;
    ck_assert_msg(rw_reader_open(epath, &er, &err) == RW_OK, "%s", err.msg);
    ck_assert_uint_eq(rw_reader_nchunks(er), 0);
    ck_assert_str_eq(rw_defs_code_name(rw_reader_defs(er), 2), "g");
    rw_reader_free(er);
    rw_check_free(c);
    rw_reader_free(r);
    free(epath);
    return res;
}

/* The loop tests' _i: 0 by fingerprints, 1 record by record. */
static void set_mode(int by_record)
{
    if (by_record)
        setenv("REWIND_CHECK_BY_RECORD", "1", 1);
    else
        unsetenv("REWIND_CHECK_BY_RECORD");
}

START_TEST(test_equal_streams_agree)
{
    set_mode(_i);
    char *path = recording(5000);
    result res = replay(path, 5000, SAME, 0, 1);
    ck_assert_msg(res.verdict == 0, "%s", res.report);
    ck_assert_uint_eq(res.counted, res.events);
    ck_assert_uint_eq(res.events, 15000);
    /* 7 whole groups of 2048 events, found equal by their fingerprints; the last 664
     * events compared one by one at the stop. */
    ck_assert_uint_eq(res.by_fp, _i ? 0 : 15000 / 2048);
    ck_assert_uint_eq(res.by_record, 0);
    free(path);
}
END_TEST

START_TEST(test_a_trace_without_fingerprints_is_compared_record_by_record)
{
    /* The index is what holds them: a trace whose index was lost (a recording that
     * was killed) is read by a scan, and has none. */
    char *path = recording(3000);
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, -16, SEEK_END), 0);
    ck_assert_int_eq(fputc('X', f), 'X'); /* the trailer's magic */
    fclose(f);
    rw_reader *r;
    rw_err err;
    ck_assert_msg(rw_reader_open(path, &r, &err) == RW_OK, "%s", err.msg);
    ck_assert_uint_eq(rw_reader_fp_group(r), 0);
    rw_reader_free(r);
    unsetenv("REWIND_CHECK_BY_RECORD");
    result same = replay(path, 3000, SAME, 0, 1);
    ck_assert_msg(same.verdict == 0, "%s", same.report);
    ck_assert_uint_eq(same.by_fp, 0);
    result line = replay(path, 3000, LINE, 2500, 1);
    ck_assert_int_eq(line.verdict, 1);
    ck_assert_uint_eq(line.where, 2500 * 3 + 1);
    free(path);
}
END_TEST

START_TEST(test_other_line_is_reported_at_its_position)
{
    set_mode(_i);
    char *path = recording(5000);
    result res = replay(path, 5000, LINE, 1234, 0);
    ck_assert_int_eq(res.verdict, 1);
    ck_assert_uint_eq(res.where, 1234 * 3 + 1);
    ck_assert_msg(strstr(res.report, "at event 3703: the recording has line f at "
                                     "/x/prog.py:15 (thread 1), the replay line f at "
                                     "/x/prog.py:99 (thread 1)"), "%s", res.report);
    ck_assert_uint_eq(res.counted, res.events); /* counting goes on after it */
    free(path);
}
END_TEST

START_TEST(test_other_call_is_named_by_each_side)
{
    set_mode(_i);
    char *path = recording(3000);
    result res = replay(path, 3000, CALL, 2000, 0);
    ck_assert_int_eq(res.verdict, 1);
    ck_assert_uint_eq(res.where, 6000);
    ck_assert_msg(strstr(res.report, "the recording has call f at /x/prog.py:10 (thread 1), "
                                     "the replay call g at /x/prog.py:20"), "%s", res.report);
    free(path);
}
END_TEST

START_TEST(test_allocations_count_only_when_asked)
{
    set_mode(_i);
    char *path = recording(3000);
    result off = replay(path, 3000, ADDR, 700, 0);
    ck_assert_msg(off.verdict == 0, "%s", off.report);
    ck_assert_str_eq(off.note, "");
    /* Compared, another address is noted, and the run goes on: the events agree. */
    result on = replay(path, 3000, ADDR, 700, 1);
    ck_assert_msg(on.verdict == 0, "%s", on.report);
    ck_assert_msg(strstr(on.note, "memory differs from the recording's from event 2102 (the "
                                  "recording has alloc_obj of 92 bytes at 0x15780 (thread 1), the "
                                  "replay alloc_obj of 92 bytes at 0x15788 (thread 1))"), "%s", on.note);
    ck_assert_uint_eq(on.counted, on.events);
    /* After it, events are still compared. */
    result line = replay(path, 3000, ADDR_LINE, 700, 1);
    ck_assert_int_eq(line.verdict, 1);
    ck_assert_uint_eq(line.where, 800 * 3 + 1);
    ck_assert_msg(strstr(line.note, "from event 2102"), "%s", line.note);
    /* An allocation the recording has not: the event after it still meets its own. */
    result extra = replay(path, 3000, EXTRA_ALLOC, 900, 1);
    ck_assert_msg(extra.verdict == 0, "%s", extra.report);
    ck_assert_msg(strstr(extra.note, "from event 2702 (the recording has audit open, the "
                                     "replay alloc_raw of 24 bytes at 0x90000 (thread 1))"),
                  "%s", extra.note);
    free(path);
}
END_TEST

START_TEST(test_audit_name_and_extra_event)
{
    set_mode(_i);
    char *path = recording(3000);
    result a = replay(path, 3000, AUDIT, 1500, 0);
    ck_assert_int_eq(a.verdict, 1);
    ck_assert_msg(strstr(a.report, "the recording has audit open, the replay audit exec"),
                  "%s", a.report);
    result x = replay(path, 3000, EXTRA, 10, 0);
    ck_assert_int_eq(x.verdict, 1);
    ck_assert_uint_eq(x.where, 32);
    ck_assert_msg(strstr(x.report, "the recording has return f"), "%s", x.report);
    ck_assert_msg(strstr(x.report, "the replay line f at /x/prog.py:12"), "%s", x.report);
    free(path);
}
END_TEST

START_TEST(test_a_group_larger_than_the_check_keeps)
{
    /* Step 1000's group (events 2048-4095) has 200,000 allocations more than the
     * others: compared by its fingerprint when equal, and a change after the burst, or
     * inside it, is still reported where it is. */
    set_mode(_i);
    burst_at = 1000;
    char *path = recording(3000);
    result same = replay(path, 3000, SAME, 0, 1);
    ck_assert_msg(same.verdict == 0, "%s", same.report);
    ck_assert_str_eq(same.note, "");
    ck_assert_uint_eq(same.counted, 9000);
    ck_assert_uint_eq(same.by_fp, _i ? 0 : 9000 / 2048);
    ck_assert_uint_eq(same.by_record, 0);
    result line = replay(path, 3000, LINE, 1003, 1);
    ck_assert_int_eq(line.verdict, 1);
    ck_assert_uint_eq(line.where, 1003 * 3 + 1);
    ck_assert_msg(strstr(line.report, "the recording has line f at /x/prog.py:14 (thread 1), "
                                      "the replay line f at /x/prog.py:99"), "%s", line.report);
    ck_assert_uint_eq(line.counted, line.events);
    result addr = replay(path, 3000, BURST_ADDR, 150001, 1);
    ck_assert_msg(addr.verdict == 0, "%s", addr.report);
    ck_assert_msg(strstr(addr.note, "from event 3002 (the recording has alloc_raw of 48 bytes "
                                    "at 0x1127c40 (thread 1), the replay alloc_raw of 48 "
                                    "bytes at 0x1127c50 (thread 1))"), "%s", addr.note);
    burst_at = UINT64_MAX;
    free(path);
}
END_TEST

START_TEST(test_replay_past_the_recordings_end)
{
    set_mode(_i);
    char *path = recording(1000);
    result res = replay(path, 1001, SAME, 0, 0);
    ck_assert_int_eq(res.verdict, 1);
    ck_assert_uint_eq(res.where, 3000);
    ck_assert_msg(strstr(res.report, "the recording has the end of the recording, the replay "
                                     "call f at /x/prog.py:10"), "%s", res.report);
    /* A replay that stops short of the recording's end agrees with what it ran. */
    result part = replay(path, 1000, SHORT, 400, 1);
    ck_assert_msg(part.verdict == 0, "%s", part.report);
    ck_assert_uint_eq(part.counted, 1200);
    free(path);
}
END_TEST

Suite *engine_check_suite(void)
{
    Suite *s = suite_create("engine_check");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_equal_streams_agree, 0, 2);
    tcase_add_loop_test(tc, test_other_line_is_reported_at_its_position, 0, 2);
    tcase_add_loop_test(tc, test_other_call_is_named_by_each_side, 0, 2);
    tcase_add_loop_test(tc, test_allocations_count_only_when_asked, 0, 2);
    tcase_add_loop_test(tc, test_audit_name_and_extra_event, 0, 2);
    tcase_add_loop_test(tc, test_replay_past_the_recordings_end, 0, 2);
    tcase_add_loop_test(tc, test_a_group_larger_than_the_check_keeps, 0, 2);
    tcase_add_test(tc, test_a_trace_without_fingerprints_is_compared_record_by_record);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return rw_test_run(engine_check_suite());
}
