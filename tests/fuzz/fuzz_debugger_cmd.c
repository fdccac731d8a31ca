/* Fuzz target for the debugger's command parser and commands: each input is a script
 * of command lines (at most 64 run) fed to a fresh debugger over a small trace
 * written once with the writer API (a loop calling a function, with an exception),
 * after the pure parsers (rw_pdb_parseline, rw_pdb_parse_int, rw_pdb_expand) have seen
 * every line; each stop runs its breakpoint's command list (rw_pdb_interaction), as
 * the command line does. Output goes to /dev/null: the target looks for crashes,
 * leaks and sanitizer reports, and for hangs (every command is bounded by the trace's
 * size, a chain of resuming lists by it and by the debugger's back-and-forth limit).
 * Seeds: tests/fuzz/corpus/fuzz_debugger_cmd/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pdb.h"
#include "reader.h"
#include "writer.h"

#define MAX_LINES 64

static const char SOURCE[] = "def f(x):\n    if x > 2:\n        raise ValueError(x)\n"
                             "    return x\n\nfor i in range(5):\n    try:\n        f(i)\n"
                             "    except ValueError:\n        pass\n";

static rw_reader *reader;

static void put(rw_stream *s, int kind, uint64_t *t, uint64_t w1)
{
    rw_stream_put(s, RW_REC(kind, (*t)++), w1);
}

/* Writes the trace once; NULL reader when that fails (then inputs only reach the
 * parsers). */
static void setup(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    char path[] = "/tmp/rewind-fuzz-dbg-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return;
    close(fd);
    rw_writer_opts o;
    rw_writer_opts_default(&o);
    o.chunk_records = 5;
    o.flush_ms = 0;
    Rewind__Metadata meta = REWIND__METADATA__INIT;
    meta.cwd = "/t";
    meta.run_kind = "script";
    meta.run_target = "prog.py";
    meta.ns_per_tick = 1.0;
    rw_writer *w;
    rw_err err;
    if (rw_writer_open(path, &o, 1, &meta, &w, &err) != RW_OK) {
        unlink(path);
        return;
    }
    rw_writer_def_file(w, 1, "/t/prog.py", SOURCE, sizeof SOURCE - 1, 1);
    const char *args[] = {"x"};
    rw_writer_def_code(w, 1, 1, "<module>", "<module>", 1, 0, NULL, 0);
    rw_writer_def_code(w, 2, 1, "f", "f", 1, 3, args, 1);
    rw_writer_def_thread(w, 1, 1, 1, "MainThread", 1);
    rw_writer_def_name(w, 1, "ValueError");
    rw_stream *s = rw_writer_stream(w);
    uint64_t t = 1;
    put(s, RW_K_THREAD, &t, 1);
    put(s, RW_K_CALL, &t, 1 | (uint64_t)1 << 32);
    put(s, RW_K_LINE, &t, 1);
    for (int i = 0; i < 5; i++) {
        put(s, RW_K_LINE, &t, 6);
        put(s, RW_K_LINE, &t, 7);
        put(s, RW_K_LINE, &t, 8);
        put(s, RW_K_CALL, &t, 2 | (uint64_t)1 << 32);
        put(s, RW_K_LINE, &t, 2);
        if (i > 2) {
            put(s, RW_K_LINE, &t, 3);
            rw_stream_put_text(s, RW_REC(RW_K_EXCEPTION, t++), 1, "3", 1);
            put(s, RW_K_RETURN, &t, 0);
            rw_stream_put_text(s, RW_REC(RW_K_EXCEPTION, t++), 1, "3", 1);
            put(s, RW_K_LINE, &t, 9);
            put(s, RW_K_LINE, &t, 10);
        } else {
            put(s, RW_K_LINE, &t, 4);
            put(s, RW_K_RETURN, &t, 0);
        }
    }
    put(s, RW_K_LINE, &t, 6);
    put(s, RW_K_RETURN, &t, 0);
    Rewind__RunEnd end = REWIND__RUN_END__INIT;
    end.stop_reason = "exit";
    if (rw_writer_close(w, &end, NULL, &err) == RW_OK)
        rw_reader_open(path, &reader, &err);
    unlink(path);
}

typedef struct script {
    char **lines;
    size_t n, next;
} script;

static int ask(void *ctx, const char *prompt, char *buf, size_t cap)
{
    (void)prompt;
    script *s = ctx;
    if (s->next >= s->n)
        return 0;
    snprintf(buf, cap, "%s", s->lines[s->next++]);
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    script sc = {calloc(MAX_LINES, sizeof(char *)), 0, 0};
    for (char *p = text, *e; sc.lines && p && sc.n < MAX_LINES; p = e ? e + 1 : NULL) {
        e = strchr(p, '\n');
        if (e)
            *e = '\0';
        sc.lines[sc.n++] = p;
    }
    const char *names[] = {"a", "b", "self"};
    const char *texts[] = {"%1 %2 ;; %*", "a x y", "self %1"};
    for (size_t i = 0; i < sc.n; i++) {
        char name[64], *arg = malloc(strlen(sc.lines[i]) + 1), *rest = NULL;
        if (arg)
            rw_pdb_parseline(sc.lines[i], name, sizeof name, arg, strlen(sc.lines[i]) + 1);
        free(arg);
        long long v;
        rw_pdb_parse_int(sc.lines[i], &v);
        free(rw_pdb_expand(sc.lines[i], names, texts, 3, &rest));
        free(rest);
    }
    FILE *out = fopen("/dev/null", "w");
    rw_pdb *d = NULL;
    rw_err err;
    if (reader && out && rw_pdb_new(reader, out, &d, &err) == RW_OK &&
        rw_pdb_start(d, NULL, &err) == RW_OK) {
        rw_pdb_set_input(d, ask, &sc);
        char queued[512];
        while (sc.next < sc.n && !rw_pdb_done(d)) {
            int moved = rw_pdb_line(d, sc.lines[sc.next++]);
            for (;;) {
                /* As cli/cmd_replay.c: each new stop runs its breakpoint's list. */
                while (moved && !rw_pdb_done(d))
                    moved = rw_pdb_interaction(d);
                if (rw_pdb_done(d) || !rw_pdb_pending(d, queued, sizeof queued))
                    break;
                moved = rw_pdb_line(d, queued);
            }
        }
    }
    rw_pdb_free(d);
    if (out)
        fclose(out);
    free(sc.lines);
    free(text);
    return 0;
}
