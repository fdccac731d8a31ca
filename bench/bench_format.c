/* bench_format: speed and size of the trace format on a synthetic stream shaped
 * like a real Python trace (mostly LINE events with small deltas, calls and returns
 * on a plausible stack, short C calls, some allocations and frees, rare
 * exceptions). Run on demand, never as a test:
 *
 *   bench_format [RECORDS (default 8000000)] [PATH (default $TMPDIR/rewind-bench.rwd)]
 *
 * Prints: the hot-path append rate (records/s through rw_stream_put, with enough
 * buffer blocks that the producer never waits for the writer thread), end-to-end
 * writer throughput (open to close, MB/s of compressed file written and events/s),
 * the file's bytes per event, and the reader's decode speed (events/s through
 * rw_cursor_next on one thread).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "reader.h"
#include "writer.h"

#define NCODES 200
#define NCFUNCS 50

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 88172645463325252ull;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

/* Code ids drawn with a skew: a few hot functions take most calls. */
static uint32_t hot_code(void)
{
    uint32_t r = rnd(100);
    if (r < 60)
        return 1 + rnd(10);
    if (r < 90)
        return 11 + rnd(40);
    return 51 + rnd(NCODES - 50);
}

static uint32_t first_line_of(uint32_t code) { return 10 + code * 20; }

typedef struct frame {
    uint32_t code, line;
} frame;

/* Fills recs with n raw records (EXCEPTION text is sent separately by the
 * producer: its record is marked by w1 = name id and replayed with put_text). */
static uint64_t generate(rw_rec *recs, size_t n)
{
    frame stack[64];
    int depth = 1, in_c = 0;
    stack[0] = (frame){1, first_line_of(1)};
    uint64_t tick = 1000000, events = 0, addr = 0x7f3a12000000ull;
    size_t i = 0;
    recs[i++] = (rw_rec){RW_REC(RW_K_THREAD, tick), 1};
    recs[i++] = (rw_rec){RW_REC(RW_K_CALL, tick), 1 | (uint64_t)first_line_of(1) << 32};
    events++;
    while (i < n) {
        uint32_t r = rnd(1000);
        frame *top = &stack[depth - 1];
        tick += 40 + rnd(200);
        if (in_c) {
            recs[i++] = (rw_rec){RW_REC(RW_K_C_RETURN, tick), 0};
            in_c = 0;
            events++;
        } else if (r < 700) {
            /* Mostly the next line; loops jump back a few lines. */
            uint32_t d = rnd(10);
            if (d < 7)
                top->line += 1;
            else if (d < 9)
                top->line += 2 + rnd(3);
            else if (top->line > first_line_of(top->code) + 3)
                top->line -= 1 + rnd(3);
            recs[i++] = (rw_rec){RW_REC(RW_K_LINE, tick), top->line};
            events++;
        } else if (r < 780 && depth < 40) {
            uint32_t code = hot_code();
            stack[depth++] = (frame){code, first_line_of(code)};
            recs[i++] = (rw_rec){RW_REC(RW_K_CALL, tick), code | (uint64_t)first_line_of(code) << 32};
            events++;
        } else if (r < 860 && depth > 3) {
            depth--;
            recs[i++] = (rw_rec){RW_REC(RW_K_RETURN, tick), 0};
            events++;
        } else if (r < 930) {
            recs[i++] = (rw_rec){RW_REC(RW_K_C_CALL, tick), 1 + rnd(NCFUNCS)};
            in_c = 1;
            events++;
        } else if (r < 970) {
            addr += 16 * (1 + rnd(64));
            recs[i++] = (rw_rec){RW_REC(RW_K_ALLOC_OBJ, 16 + 8 * rnd(64)), addr};
        } else if (r < 998) {
            recs[i++] = (rw_rec){RW_REC(RW_K_FREE_OBJ, 0), addr - 16 * rnd(256)};
        } else {
            recs[i++] = (rw_rec){RW_REC(RW_K_EXCEPTION, tick), 1};
            events++;
        }
    }
    return events;
}

/* The producer's loop: what the recorder's hooks do per record. */
static void replay(rw_stream *s, const rw_rec *recs, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        if (RW_UNLIKELY(RW_REC_KIND(recs[i].w0) == RW_K_EXCEPTION))
            rw_stream_put_text(s, recs[i].w0, recs[i].w1, "'missing-key'", 13);
        else
            rw_stream_put(s, recs[i].w0, recs[i].w1);
    }
}

static void define(rw_writer *w)
{
    rw_writer_def_file(w, 1, "/bench/app.py", "pass\n", 5, 1);
    char name[48], short_name[16];
    for (uint32_t c = 1; c <= NCODES; c++) {
        snprintf(name, sizeof name, "func_%u", c);
        rw_writer_def_code(w, c, 1, name, name, first_line_of(c), 0, NULL, 0);
    }
    for (uint32_t c = 1; c <= NCFUNCS; c++) {
        snprintf(short_name, sizeof short_name, "m%u", c);
        snprintf(name, sizeof name, "<built-in method builtins.%s>", short_name);
        rw_writer_def_cfunc(w, c, name, short_name, "builtins");
    }
    rw_writer_def_thread(w, 1, 1, 1, "MainThread", 1);
    rw_writer_def_name(w, 1, "KeyError");
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 8000000;
    if (n < 1000)
        n = 1000;
    char path[4096];
    if (argc > 2) {
        snprintf(path, sizeof path, "%s", argv[2]);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/rewind-bench.rwd", tmp && *tmp ? tmp : "/tmp");
    }
    rw_rec *recs = malloc(n * sizeof *recs);
    if (!recs) {
        fprintf(stderr, "bench_format: out of memory for %zu records\n", n);
        return 1;
    }
    uint64_t events = generate(recs, n);

    /* ---- writer end to end: default options, the producer waits when the writer
     * thread falls behind, as the recorder would ---- */
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    rw_writer *w = NULL;
    rw_err err = {0};
    rw_writer_stats st;
    Rewind__RunEnd end = REWIND__RUN_END__INIT;
    double t0 = now();
    if (rw_writer_open(path, &o, 1, NULL, &w, &err) != RW_OK) {
        fprintf(stderr, "bench_format: %s\n", err.msg);
        return 1;
    }
    define(w);
    replay(rw_writer_stream(w), recs, 0, n);
    if (rw_writer_close(w, &end, &st, &err) != RW_OK) {
        fprintf(stderr, "bench_format: %s\n", err.msg);
        return 1;
    }
    double t3 = now();

    /* ---- hot path: enough blocks that the producer never waits; the first half
     * maps them, a flush hands them back, and the second half is timed on warm
     * recycled blocks (the recorder's steady state) ---- */
    rw_writer_opts oh = o;
    oh.max_blocks = (uint32_t)(n / oh.block_records + 4);
    rw_writer_stats sth;
    char hot_path[4200];
    snprintf(hot_path, sizeof hot_path, "%s.hot", path);
    if (rw_writer_open(hot_path, &oh, 1, NULL, &w, &err) != RW_OK) {
        fprintf(stderr, "bench_format: %s\n", err.msg);
        return 1;
    }
    define(w);
    rw_stream *s = rw_writer_stream(w);
    size_t half = n / 2;
    double tc0 = now();
    replay(s, recs, 0, half);
    double tc1 = now();
    if (rw_writer_flush(w, &err) != RW_OK) {
        fprintf(stderr, "bench_format: %s\n", err.msg);
        return 1;
    }
    double t1 = now();
    replay(s, recs, half, n);
    double t2 = now();
    if (rw_writer_close(w, &end, &sth, &err) != RW_OK) {
        fprintf(stderr, "bench_format: %s\n", err.msg);
        return 1;
    }
    unlink(hot_path);
    free(recs);

    /* ---- read ---- */
    rw_reader *r = NULL;
    double t4 = now();
    if (rw_reader_open(path, &r, &err) != RW_OK) {
        fprintf(stderr, "bench_format: %s\n", err.msg);
        return 1;
    }
    rw_cursor *c = NULL;
    if (rw_cursor_new(r, 0, SIZE_MAX, &c, &err) != RW_OK) {
        fprintf(stderr, "bench_format: %s\n", err.msg);
        return 1;
    }
    rw_event ev;
    uint64_t got = 0, got_events = 0, sum = 0;
    int rc;
    while ((rc = rw_cursor_next(c, &ev, &err)) == 1) {
        got++;
        got_events += RW_IS_EVENT(ev.kind);
        sum += ev.line;
    }
    double t5 = now();
    if (rc < 0 || got != n) {
        fprintf(stderr, "bench_format: read back %llu of %zu records: %s\n",
                (unsigned long long)got, n, rc < 0 ? err.msg : "count differs");
        return 1;
    }
    rw_cursor_free(c);
    size_t nchunks = rw_reader_nchunks(r);
    rw_reader_free(r);
    unlink(path);

    double mb = (double)st.bytes_written / 1e6;
    printf("bench_format: %zu records (%llu events), %zu chunks, zstd level %d, chunk %u records\n",
           n, (unsigned long long)events, nchunks, o.zstd_level, o.chunk_records);
    size_t warm = n - half;
    printf("  %-38s %12.1f M records/s  (%.2f ns/record; %.2f ns on fresh blocks)\n",
           "hot path (rw_stream_put, warm blocks)", (double)warm / (t2 - t1) / 1e6,
           (t2 - t1) * 1e9 / (double)warm, (tc1 - tc0) * 1e9 / (double)half);
    printf("  %-38s %12.1f M events/s   %.1f MB/s compressed, %.1f MB/s raw records\n",
           "writer end to end (open..close)", (double)events / (t3 - t0) / 1e6, mb / (t3 - t0),
           (double)n * 16 / 1e6 / (t3 - t0));
    printf("  %-38s %12.3f bytes/event  (%.2f bytes/record; raw records are 16; %.1fx)\n",
           "file size", (double)st.bytes_written / (double)events,
           (double)st.bytes_written / (double)n, (double)n * 16 / (double)st.bytes_written);
    printf("  %-38s %12.1f M events/s   (%.1f M records/s, open included)\n",
           "reader decode (rw_cursor_next, 1 thread)", (double)got_events / (t5 - t4) / 1e6,
           (double)got / (t5 - t4) / 1e6);
    if (sum == 42)
        printf("\n"); /* keeps the loop's loads alive */
    return 0;
}
