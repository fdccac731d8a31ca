/* Writes the seed corpus of fuzz_reader: a few tiny traces made with the real
 * writer, plus truncated and corrupted variants. Not built by CMake (the corpus is
 * committed); rebuild it after a format change with tests/fuzz/README.md's command.
 *
 *   make_corpus OUTDIR [RECORDS]
 *
 * With RECORDS, writes only OUTDIR/demo.rwd of about that many records (a trace to
 * try the commands on).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "inputs.h"
#include "writer.h"

static uint32_t rng = 12345;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng % n;
}

static const char source[] = "import os\n"
                             "\n"
                             "def f(n):\n"
                             "    x = n * 2\n"
                             "    if x > 10:\n"
                             "        raise ValueError('too big')\n"
                             "    return x\n"
                             "\n"
                             "for i in range(10):\n"
                             "    f(i)\n";

/* A program in <module> that calls f(i) in a loop, with len() calls, allocations,
 * an audit event, a second thread, and an uncaught ValueError. */
/* Input records as the wrappers log them (docs/format.md, "Inputs"): an open, reads,
 * a directory listing, a clock, a connect, stdout; with_inputs of them, one each. */
static void put_inputs(rw_writer *w, int k, uint64_t pos)
{
    static uint64_t seq;
    uint8_t key[64], data[40];
    int64_t v[4];
    rw_input in = {.thread = 1, .seq = seq++, .position = pos, .key = key, .data = data};
    switch (k % 6) {
    case 0: /* open("/t/data.txt", O_RDONLY) = 3 */
        v[0] = -100, v[1] = 0, v[2] = 0;
        memcpy(key, v, 24);
        memcpy(key + 24, "/t/data.txt", 11);
        in.call = RW_CALL_OPEN, in.key_len = 35, in.result = 3;
        break;
    case 1: /* read(3, 4096) = 12 */
        v[0] = 3, v[1] = 4096;
        memcpy(key, v, 16);
        memcpy(data, "hello world\n", 12);
        in.call = RW_CALL_READ, in.key_len = 16, in.result = 12, in.data_len = 12;
        break;
    case 2: /* readdir(1): an entry "a.py" */
        v[0] = 1;
        memcpy(key, v, 8);
        v[0] = 1234;
        memcpy(data, v, 8);
        data[8] = 8;
        memcpy(data + 9, "a.py", 4);
        in.call = RW_CALL_READDIR, in.key_len = 8, in.result = 1, in.data_len = 13;
        break;
    case 3: /* clock_gettime(CLOCK_MONOTONIC) */
        v[0] = 1;
        memcpy(key, v, 8);
        v[0] = 1700000000, v[1] = 123456789;
        memcpy(data, v, 16);
        in.call = RW_CALL_CLOCK_GETTIME, in.key_len = 8, in.data_len = 16;
        break;
    case 4: /* connect(4, 127.0.0.1:8080) = -1 ECONNREFUSED */
        v[0] = 4;
        memcpy(key, v, 8);
        memcpy(key + 8, "127.0.0.1:8080", 14);
        in.call = RW_CALL_CONNECT, in.key_len = 22, in.result = -1, in.err = 111;
        break;
    default: /* write(1, "out\n") */
        v[0] = 1, v[1] = 4;
        memcpy(key, v, 16);
        memcpy(data, "out\n", 4);
        in.call = RW_CALL_WRITE, in.key_len = 16, in.result = 4, in.data_len = 4;
        break;
    }
    rw_writer_input(w, &in);
}

static int write_trace(const char *path, size_t nrecs, uint32_t chunk_records, int level,
                       int with_end, int line_times, int with_inputs)
{
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    o.line_times = line_times;
    o.flush_ms = 0;
    o.chunk_records = chunk_records;
    o.zstd_level = level;
    Rewind__Metadata meta = REWIND__METADATA__INIT;
    char *argv[] = {"/t/x.py"};
    meta.n_argv = 1;
    meta.argv = argv;
    meta.cwd = "/t";
    meta.python_version = "3.11.2 (main, Mar 13 2023, 12:18:29) [GCC 12.2.0]";
    meta.tool_version = "rewind 0.1.0";
    meta.platform = "Linux 6.1.0 x86_64";
    meta.hostname = "corpus";
    meta.run_kind = "script";
    meta.run_target = "/t/x.py";
    meta.start_tick = 1000;
    meta.ns_per_tick = 1.0;
    meta.start_unix_ns = 1700000000000000000ll;
    meta.pid = 4242;
    rw_writer *w = NULL;
    rw_err err = {0};
    if (rw_writer_open(path, &o, 1, &meta, &w, &err) != RW_OK) {
        fprintf(stderr, "make_corpus: %s\n", err.msg);
        return -1;
    }
    rw_writer_def_file(w, 1, "/t/x.py", source, sizeof source - 1, 1);
    const char *args[] = {"n"};
    rw_writer_def_code(w, 1, 1, "<module>", "<module>", 1, 0, NULL, 0);
    rw_writer_def_code(w, 2, 1, "f", "f", 3, 0, args, 1);
    rw_writer_def_cfunc(w, 1, "<built-in method builtins.len>", "len", "builtins");
    rw_writer_def_thread(w, 1, 140001, 4001, "MainThread", 1);
    rw_writer_def_thread(w, 2, 140002, 4002, "worker", 0);
    rw_writer_def_name(w, 1, "ValueError");
    rw_writer_def_name(w, 2, "open");
    rw_stream *s = rw_writer_stream(w);
    uint64_t tick = 1000, n = 0;
    rw_stream_put(s, RW_REC(RW_K_THREAD, tick), 1);
    rw_stream_put(s, RW_REC(RW_K_CALL, tick += 3), 1 | (uint64_t)1 << 32);
    rw_stream_put(s, RW_REC(RW_K_LINE, tick += 2), 1);
    static const char audit_args[] = "('/t/data.txt', 'r', 524288)";
    rw_stream_put_text(s, RW_REC(RW_K_AUDIT, tick), 2, audit_args, sizeof audit_args - 1);
    rw_stream_put(s, RW_REC(RW_K_LINE, tick += 2), 9);
    n = 5;
    while (n < nrecs) {
        /* One iteration: line 10, call f, its lines, len(), an allocation, return. */
        rw_stream_put(s, RW_REC(RW_K_LINE, tick += 1 + rnd(4)), 10);
        rw_stream_put(s, RW_REC(RW_K_CALL, tick += 2), 2 | (uint64_t)3 << 32);
        rw_stream_put(s, RW_REC(RW_K_LINE, tick += 1), 4);
        rw_stream_put(s, RW_REC(RW_K_C_CALL, tick += 1), 1);
        rw_stream_put(s, RW_REC(RW_K_ALLOC_OBJ, 32 + rnd(64)), 0x7f0000100000ull + rnd(4096) * 16);
        rw_stream_put(s, RW_REC(RW_K_C_RETURN, tick += 1), 0);
        rw_stream_put(s, RW_REC(RW_K_LINE, tick += 1), 5);
        rw_stream_put(s, RW_REC(RW_K_LINE, tick += 1), 7);
        rw_stream_put(s, RW_REC(RW_K_RETURN, tick += 1), 0);
        n += 9;
        if (with_inputs && (n / 9) % 3 == 0) {
            put_inputs(w, (int)(n / 27), n);
            if ((n / 9) % 9 == 0)
                rw_writer_flush(w, &err); /* more than one INPUTS frame */
        }
        if (rnd(8) == 0) {
            /* The worker thread runs f once. */
            rw_stream_put(s, RW_REC(RW_K_THREAD, tick), 2);
            rw_stream_put(s, RW_REC(RW_K_CALL, tick += 5), 2 | (uint64_t)3 << 32);
            rw_stream_put(s, RW_REC(RW_K_RETURN, tick += 5), 0);
            rw_stream_put(s, RW_REC(RW_K_THREAD, tick), 1);
            n += 4;
        }
    }
    /* f raises at line 6 and nothing catches it. */
    rw_stream_put(s, RW_REC(RW_K_LINE, tick += 1), 10);
    rw_stream_put(s, RW_REC(RW_K_CALL, tick += 2), 2 | (uint64_t)3 << 32);
    rw_stream_put(s, RW_REC(RW_K_LINE, tick += 1), 4);
    rw_stream_put(s, RW_REC(RW_K_LINE, tick += 1), 5);
    rw_stream_put(s, RW_REC(RW_K_LINE, tick += 1), 6);
    rw_stream_put_text(s, RW_REC(RW_K_EXCEPTION, tick += 1), 1, "too big", 7);
    rw_stream_put(s, RW_REC(RW_K_RETURN, tick += 1), 0);
    rw_stream_put_text(s, RW_REC(RW_K_EXCEPTION, tick += 1), 1, "too big", 7);
    rw_stream_put(s, RW_REC(RW_K_RETURN, tick += 1), 0);
    rw_stream_put_text(s, RW_REC(RW_K_UNCAUGHT, tick += 1), 1, "too big", 7);

    Rewind__RunEnd end = REWIND__RUN_END__INIT;
    Rewind__TracebackEntry t0 = REWIND__TRACEBACK_ENTRY__INIT, t1 = REWIND__TRACEBACK_ENTRY__INIT;
    t0.code = 1;
    t0.line = 10;
    t1.code = 2;
    t1.line = 6;
    Rewind__TracebackEntry *tb[] = {&t0, &t1};
    end.exit_status = 1;
    end.end_unix_ns = meta.start_unix_ns + 1234567;
    end.uncaught_type = "ValueError";
    end.uncaught_message = "too big";
    end.n_uncaught_traceback = 2;
    end.uncaught_traceback = tb;
    end.stop_reason = "exit";
    if (rw_writer_close(w, with_end ? &end : NULL, NULL, &err) != RW_OK) {
        fprintf(stderr, "make_corpus: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static int spit(const char *dir, const char *name, const uint8_t *b, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "make_corpus: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

/* cprofile-imports.rwd: imports as rewind stats' cProfile window sees them (the
 * import audit events, _find_and_load, _handle_fromlist and _call_with_frames_removed
 * of <frozen importlib._bootstrap>, a module cProfile has loaded and one it has not). */
static int write_imports(const char *path)
{
    Rewind__Metadata meta = REWIND__METADATA__INIT;
    char *argv[] = {"x.py"};
    meta.n_argv = 1;
    meta.argv = argv;
    meta.cwd = "/t";
    meta.run_kind = "script";
    meta.run_target = "x.py";
    meta.start_tick = 1000;
    meta.ns_per_tick = 1.0;
    meta.calib_ns_per_event = 1.0;
    rw_writer *w = NULL;
    rw_err err = {0};
    if (rw_writer_open(path, NULL, 1, &meta, &w, &err) != RW_OK) {
        fprintf(stderr, "make_corpus: %s\n", err.msg);
        return -1;
    }
    static const char src[] = "import json\nfrom re import _parser\n";
    rw_writer_def_file(w, 1, "/t/x.py", src, sizeof src - 1, 1);
    rw_writer_def_file(w, 2, "<frozen importlib._bootstrap>", NULL, 0, 0);
    rw_writer_def_file(w, 3, "/usr/lib/python3.11/re/__init__.py", NULL, 0, 0);
    rw_writer_def_file(w, 4, "/usr/lib/python3.11/json/__init__.py", NULL, 0, 0);
    rw_writer_def_code(w, 1, 1, "<module>", "<module>", 1, 0, NULL, 0);
    rw_writer_def_code(w, 2, 2, "_find_and_load", "_find_and_load", 1167, 0, NULL, 0);
    rw_writer_def_code(w, 3, 3, "<module>", "<module>", 1, 0, NULL, 0);
    rw_writer_def_code(w, 4, 2, "_call_with_frames_removed", "_call_with_frames_removed", 233,
                       0, NULL, 0);
    rw_writer_def_code(w, 5, 2, "_gcd_import", "_gcd_import", 1190, 0, NULL, 0);
    rw_writer_def_code(w, 6, 2, "_handle_fromlist", "_handle_fromlist", 1209, 0, NULL, 0);
    rw_writer_def_code(w, 7, 4, "<module>", "<module>", 1, 0, NULL, 0);
    rw_writer_def_cfunc(w, 1, "<built-in method builtins.exec>", "exec", "builtins");
    rw_writer_def_cfunc(w, 2, "<method 'format' of 'str' objects>", "format", "");
    rw_writer_def_cfunc(w, 3, "<built-in method builtins.__import__>", "__import__",
                        "builtins");
    rw_writer_def_thread(w, 1, 140001, 4001, "MainThread", 1);
    rw_writer_def_name(w, 1, "import");
    rw_stream *s = rw_writer_stream(w);
    uint64_t t = 1000;
#define CALL(code, line) rw_stream_put(s, RW_REC(RW_K_CALL, t += 3), (code) | (uint64_t)(line) << 32)
#define RET() rw_stream_put(s, RW_REC(RW_K_RETURN, t += 2), 0)
#define CCALL(f) rw_stream_put(s, RW_REC(RW_K_C_CALL, t += 2), (f))
#define CRET() rw_stream_put(s, RW_REC(RW_K_C_RETURN, t += 1), 0)
#define AUDIT(text) rw_stream_put_text(s, RW_REC(RW_K_AUDIT, t), 1, text, sizeof text - 1)
    rw_stream_put(s, RW_REC(RW_K_THREAD, t), 1);
    CALL(1, 1);
    rw_stream_put(s, RW_REC(RW_K_LINE, t += 1), 1);
    AUDIT("('json', None, [])");
    CALL(2, 1167); /* json: loaded by both runs */
    CCALL(1);
    CALL(7, 1);
    AUDIT("('re', None, [])");
    CALL(2, 1167); /* re: cProfile has it */
    CCALL(1);
    CALL(3, 1);
    RET();
    CRET();
    RET();
    RET();
    CRET();
    RET();
    rw_stream_put(s, RW_REC(RW_K_LINE, t += 1), 2);
    CALL(6, 1209); /* from re import _parser: the submodule through __import__ */
    CCALL(2);
    CRET();
    CALL(4, 233);
    CCALL(3);
    AUDIT("('re._parser'");
    CALL(2, 1167);
    RET();
    CRET();
    RET();
    CALL(4, 233); /* and through _gcd_import, with no audit event */
    CALL(5, 1190);
    CALL(2, 1167);
    CCALL(1);
    CALL(3, 1);
    RET();
    CRET();
    RET();
    RET();
    RET();
    RET();
    AUDIT("(");
    CALL(2, 1167); /* a load still running when the trace ends */
#undef CALL
#undef RET
#undef CCALL
#undef CRET
#undef AUDIT
    Rewind__RunEnd end = REWIND__RUN_END__INIT;
    if (rw_writer_close(w, &end, NULL, &err) != RW_OK) {
        fprintf(stderr, "make_corpus: %s\n", err.msg);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: make_corpus OUTDIR [RECORDS]\n");
        return 2;
    }
    const char *dir = argv[1];
    char path[4096];
    if (argc > 2) {
        snprintf(path, sizeof path, "%s/demo.rwd", dir);
        return write_trace(path, strtoull(argv[2], NULL, 10), 262144, 3, 1, 0, 1) ? 1 : 0;
    }
    static const struct {
        const char *name;
        size_t recs;
        uint32_t chunk;
        int level, end, line_times, inputs;
    } seeds[] = {
        {"small.rwd", 60, 16, 3, 1, 0, 0},
        {"raw.rwd", 40, 12, 0, 1, 0, 0},
        {"noend.rwd", 50, 20, 3, 0, 0, 0},
        {"onechunk.rwd", 120, 4096, 3, 1, 0, 0},
        {"timed.rwd", 60, 16, 0, 1, 1, 0},
        {"inputs.rwd", 200, 32, 3, 1, 0, 1},
        {"inputs-raw.rwd", 200, 32, 0, 1, 0, 1},
    };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, seeds[i].name);
        if (write_trace(path, seeds[i].recs, seeds[i].chunk, seeds[i].level, seeds[i].end,
                        seeds[i].line_times, seeds[i].inputs))
            return 1;
    }
    snprintf(path, sizeof path, "%s/cprofile-imports.rwd", dir);
    if (write_imports(path))
        return 1;
    /* Damaged variants of small.rwd and raw.rwd. */
    size_t len;
    snprintf(path, sizeof path, "%s/small.rwd", dir);
    uint8_t *b = slurp(path, &len);
    if (!b)
        return 1;
    int bad = 0;
    bad |= spit(dir, "small-notrailer.rwd", b, len - RW_TRAILER_LEN);
    bad |= spit(dir, "small-cut-half.rwd", b, len / 2);
    bad |= spit(dir, "small-cut-header.rwd", b, RW_HEADER_LEN + 10);
    b[len / 3] ^= 0x40;
    bad |= spit(dir, "small-flipped.rwd", b, len);
    free(b);
    snprintf(path, sizeof path, "%s/raw.rwd", dir);
    b = slurp(path, &len);
    if (!b)
        return 1;
    b[len * 2 / 3] ^= 0x01; /* a raw payload byte: the CRC must catch it */
    bad |= spit(dir, "raw-flipped.rwd", b, len);
    free(b);
    /* inputs-raw.rwd without its footer (the scan finds the INPUTS frames) and cut
     * in its middle. */
    snprintf(path, sizeof path, "%s/inputs-raw.rwd", dir);
    b = slurp(path, &len);
    if (!b)
        return 1;
    bad |= spit(dir, "inputs-raw-notrailer.rwd", b, len - RW_TRAILER_LEN);
    bad |= spit(dir, "inputs-raw-cut-half.rwd", b, len / 2);
    free(b);
    return bad ? 1 : 0;
}
