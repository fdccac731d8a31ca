/* rewind info FILE [--json] [--reveals | --inputs]: what a trace holds: the program and its environment,
 * start time and duration, how it ended (exit status, signal, uncaught exception,
 * crash, timeout and dump reports as faulthandler prints them with C frames and code
 * with a Python-style traceback from the embedded sources), counts per record kind,
 * threads and files. Works on damaged traces too, from what can be read. */
#include "commands.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "container.h"
#include "reader.h"
#include "term.h"
#include "family.h"
#include "info_inputs.h"
#include "info_reveals.h"
#include "json.h"
#include "scan.h"
#include "source_text.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rewind info [--json] [--reveals | --inputs] [--child PID] FILE\n\n"
            "Show what a trace holds: the program, its arguments and working directory,\n"
            "the Python version, start time and duration, how the run ended (exit status,\n"
            "signal, the uncaught exception with its traceback), the number of events of\n"
            "each kind, allocations, audit events, exceptions, threads and source files.\n\n"
            "options:\n"
            "  --json      one JSON object instead of text\n"
            "  --reveals   what the trace would disclose if shared: host, user names,\n"
            "              environment, command line, sources, files opened, peers\n"
            "  --inputs    what the trace holds from outside the program: files read\n"
            "              and their sizes, directories listed, environment, network\n"
            "              peers, child processes, stdin, clock and random reads, and\n"
            "              what the program wrote to stdout and stderr\n"
            "  --child PID the trace of the child PID that this run started (beside it)\n"
            "  -h, --help  show this help\n");
}

/* ---- JSON output ---------------------------------------------------------------- */


/* ---- helpers -------------------------------------------------------------------- */

/* "2023-11-14 22:13:20.123 UTC" */
static void format_time(int64_t unix_ns, char *buf, size_t len)
{
    time_t sec = (time_t)(unix_ns / 1000000000);
    int ms = (int)((unix_ns % 1000000000) / 1000000);
    if (ms < 0) {
        ms += 1000;
        sec--;
    }
    struct tm tm;
    if (!gmtime_r(&sec, &tm)) {
        snprintf(buf, len, "?");
        return;
    }
    char d[32];
    strftime(d, sizeof d, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(buf, len, "%s.%03d UTC", d, ms);
}

static void format_duration(double ns, char *buf, size_t len)
{
    if (ns < 0)
        snprintf(buf, len, "?");
    else if (ns < 1e3)
        snprintf(buf, len, "%.0f ns", ns);
    else if (ns < 1e6)
        snprintf(buf, len, "%.1f us", ns / 1e3);
    else if (ns < 1e9)
        snprintf(buf, len, "%.1f ms", ns / 1e6);
    else
        snprintf(buf, len, "%.3f s", ns / 1e9);
}

/* Line `line` (1-based) of the recorded source of FileDef file, without surrounding
 * whitespace, as Python's traceback prints it. *len = 0 when there is no such line. */
static const char *source_line(const rw_defs *d, uint32_t file, uint32_t line, size_t *len)
{
    const char *text;
    size_t n;
    rw_source_text_line l;
    *len = 0;
    if (!rw_source_text_of_file(d, file, &text, &n) ||
        !rw_source_text_find(text, n, RW_SOURCE_TEXT_LF, line, &l))
        return NULL;
    const char *s = l.s, *e = l.s + l.len;
    while (s < e && (*s == ' ' || *s == '\t' || *s == '\f'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        e--;
    *len = (size_t)(e - s);
    return s;
}

typedef struct summary {
    uint64_t kinds[RW_KIND_MAX];
    int counted;          /* kinds[] is filled */
    int from_scan;        /* ... by reading the chunks (no END record) */
    char scan_err[256];   /* the scan stopped early */
    uint64_t last_tick;
} summary;

/* Counts records per kind by reading every chunk. */
static void count_kinds(const rw_reader *r, summary *s)
{
    rw_scan *c = NULL;
    rw_scan_opts so;
    rw_err err = {0};
    rw_scan_opts_default(&so); /* every record, annotations after the last event too */
    s->from_scan = 1;
    if (rw_scan_open(r, &so, &c, &err) != RW_OK) {
        snprintf(s->scan_err, sizeof s->scan_err, "%s", err.msg);
        return;
    }
    rw_event ev;
    int rc;
    while ((rc = rw_scan_next(c, &ev, &err)) == 1)
        s->kinds[ev.kind]++;
    if (rc < 0)
        snprintf(s->scan_err, sizeof s->scan_err, "%s", err.msg);
    rw_scan_close(c);
    s->counted = 1;
}

static const char *thread_name(const rw_defs *d, const Rewind__RunEnd *end, uint32_t id)
{
    const char *name = rw_defs_thread_name(d, end, id);
    return name ? name : "";
}

/* Whether thread `id` was started by C code (RunEnd.threads; unknown without it). */
static int thread_from_c(const rw_defs *d, const Rewind__RunEnd *end, uint32_t id)
{
    const Rewind__ThreadDef *t = rw_defs_thread_final(d, end, id);
    return t && t->from_c;
}

/* ---- text ----------------------------------------------------------------------- */

static void print_traceback(FILE *out, const rw_defs *d, const Rewind__RunEnd *end)
{
    if (end->n_uncaught_traceback)
        fprintf(out, "Traceback (most recent call last):\n");
    for (size_t i = 0; i < end->n_uncaught_traceback; i++) {
        const Rewind__TracebackEntry *te = end->uncaught_traceback[i];
        const Rewind__CodeDef *code = rw_defs_code(d, te->code);
        const char *path = rw_defs_code_path(d, te->code), *name = rw_defs_code_name(d, te->code);
        fprintf(out, "  File \"%s\", line %u, in %s\n", path ? path : "<unknown>", te->line,
                name ? name : "<unknown>");
        size_t n;
        const char *src = source_line(d, code ? code->file : 0, te->line, &n);
        if (n)
            fprintf(out, "    %.*s\n", (int)n, src);
    }
    if (end->uncaught_message[0])
        fprintf(out, "%s: %s\n", end->uncaught_type, end->uncaught_message);
    else
        fprintf(out, "%s\n", end->uncaught_type);
}

/* ---- crash, timeout and dump reports --------------------------------------------- */

static const char *crash_kind(const Rewind__CrashReport *c)
{
    switch (c->kind) {
    case REWIND__CRASH_REPORT__KIND__FATAL_SIGNAL:
        return "fatal signal";
    case REWIND__CRASH_REPORT__KIND__TIMEOUT:
        return "timeout";
    case REWIND__CRASH_REPORT__KIND__DUMP:
        return "stack dump";
    case REWIND__CRASH_REPORT__KIND__TERMINATED:
        return "terminated";
    default:
        return "report";
    }
}

/* Each report: faulthandler's text verbatim, then the C frames, then the machine code
 * around the faulting pc with the faulting instruction marked "=>". */
static void print_crashes(FILE *out, const rw_reader *r)
{
    size_t n = rw_reader_ncrashes(r);
    for (size_t i = 0; i < n; i++) {
        uint64_t pos;
        const Rewind__CrashReport *c = rw_reader_crash(r, i, &pos);
        fprintf(out, "%s at event %llu", crash_kind(c), (unsigned long long)pos);
        if (c->signal)
            fprintf(out, ": %s (signal %d, si_code %d: %s)",
                    c->signal_name[0] ? c->signal_name : rw_cli_signal_name(c->signal), c->signal,
                    c->si_code, c->si_code > 0 ? "a hardware fault" : "sent by a process");
        if (c->kind == REWIND__CRASH_REPORT__KIND__TIMEOUT)
            fprintf(out, ": after %.3f s", (double)c->timeout_ms / 1000.0);
        fprintf(out, "\n");
        if (c->kind == REWIND__CRASH_REPORT__KIND__FATAL_SIGNAL && c->si_code > 0)
            fprintf(out, "  fault address 0x%llx, pc 0x%llx\n",
                    (unsigned long long)c->fault_addr, (unsigned long long)c->pc);
        if (c->note[0])
            fprintf(out, "  note: %s\n", c->note);
        fprintf(out, "\n%s", c->text);
        if (c->text[0] && c->text[strlen(c->text) - 1] != '\n')
            fprintf(out, "\n");
        if (c->n_c_frames) {
            fprintf(out, "\nC stack of thread %u (ident 0x%llx), innermost first:\n", c->thread,
                    (unsigned long long)c->thread_ident);
            for (size_t k = 0; k < c->n_c_frames; k++) {
                const Rewind__CrashCFrame *f = c->c_frames[k];
                if (f->signal_frame) /* as gdb shows it: the handler ran on top of f */
                    fprintf(out, "        <signal handler called>\n");
                fprintf(out, "  #%-3zu 0x%016llx in ", k, (unsigned long long)f->pc);
                if (f->symbol[0])
                    fprintf(out, "%s+0x%llx", f->symbol, (unsigned long long)f->offset);
                else
                    fprintf(out, "??");
                if (f->module[0])
                    fprintf(out, " (%s+0x%llx)", f->module,
                            (unsigned long long)(f->pc - f->module_base));
                fprintf(out, "\n");
            }
        }
        if (c->n_instructions) {
            fprintf(out, "\nmachine code around pc 0x%llx:\n", (unsigned long long)c->pc);
            for (size_t k = 0; k < c->n_instructions; k++) {
                const Rewind__CrashInsn *in = c->instructions[k];
                char hex[64] = "";
                size_t h = 0;
                for (size_t b = 0; b < in->bytes.len && h + 4 < sizeof hex; b++)
                    h += (size_t)snprintf(hex + h, sizeof hex - h, "%s%02x", b ? " " : "",
                                          in->bytes.data[b]);
                fprintf(out, "  %s 0x%016llx  %-30s %s%s%s\n", in->faulting ? "=>" : "  ",
                        (unsigned long long)in->address, hex, in->mnemonic,
                        in->operands[0] ? " " : "", in->operands);
            }
        }
        if (i + 1 < n)
            fprintf(out, "\n");
    }
}

static void json_crashes(FILE *out, const rw_reader *r)
{
    size_t n = rw_reader_ncrashes(r);
    fprintf(out, ", \"crashes\": [");
    for (size_t i = 0; i < n; i++) {
        uint64_t pos;
        const Rewind__CrashReport *c = rw_reader_crash(r, i, &pos);
        static const char *const kinds[] = {"fatal_signal", "timeout", "dump", "terminated"};
        fprintf(out, "%s{\"kind\": \"%s\", \"pos\": %llu, \"signal\": %d, \"signal_name\": ",
                i ? ", " : "", (unsigned)c->kind < 4 ? kinds[c->kind] : "unknown",
                (unsigned long long)pos, c->signal);
        rw_json_str(out, c->signal_name);
        fprintf(out, ", \"si_code\": %d, \"fault_addr\": %llu, \"pc\": %llu, \"thread\": %u, "
                     "\"thread_ident\": %llu, \"timeout_ms\": %llu, \"unix_ns\": %lld, \"note\": ",
                c->si_code, (unsigned long long)c->fault_addr, (unsigned long long)c->pc,
                c->thread, (unsigned long long)c->thread_ident,
                (unsigned long long)c->timeout_ms, (long long)c->unix_ns);
        rw_json_str(out, c->note);
        fprintf(out, ", \"text\": ");
        rw_json_str(out, c->text);
        fprintf(out, ", \"threads\": [");
        for (size_t t = 0; t < c->n_threads; t++) {
            const Rewind__CrashThread *th = c->threads[t];
            fprintf(out, "%s{\"thread\": %u, \"ident\": %llu, \"current\": %s, \"truncated\": %s, "
                         "\"frames\": [", t ? ", " : "", th->thread,
                    (unsigned long long)th->ident, th->current ? "true" : "false",
                    th->truncated ? "true" : "false");
            for (size_t k = 0; k < th->n_frames; k++) {
                const Rewind__CrashFrame *f = th->frames[k];
                fprintf(out, "%s{\"code\": %u, \"file\": ", k ? ", " : "", f->code);
                rw_json_str(out, f->filename);
                fprintf(out, ", \"line\": %d, \"func\": ", f->line);
                rw_json_str(out, f->name);
                fprintf(out, "}");
            }
            fprintf(out, "]}");
        }
        fprintf(out, "], \"c_frames\": [");
        for (size_t k = 0; k < c->n_c_frames; k++) {
            const Rewind__CrashCFrame *f = c->c_frames[k];
            fprintf(out, "%s{\"pc\": %llu, \"symbol\": ", k ? ", " : "",
                    (unsigned long long)f->pc);
            rw_json_str(out, f->symbol);
            fprintf(out, ", \"offset\": %llu, \"module\": ", (unsigned long long)f->offset);
            rw_json_str(out, f->module);
            fprintf(out, ", \"module_base\": %llu, \"signal_frame\": %s}",
                    (unsigned long long)f->module_base, f->signal_frame ? "true" : "false");
        }
        fprintf(out, "], \"instructions\": [");
        for (size_t k = 0; k < c->n_instructions; k++) {
            const Rewind__CrashInsn *in = c->instructions[k];
            fprintf(out, "%s{\"address\": %llu, \"bytes\": \"", k ? ", " : "",
                    (unsigned long long)in->address);
            for (size_t b = 0; b < in->bytes.len; b++)
                fprintf(out, "%02x", in->bytes.data[b]);
            fprintf(out, "\", \"mnemonic\": ");
            rw_json_str(out, in->mnemonic);
            fprintf(out, ", \"operands\": ");
            rw_json_str(out, in->operands);
            fprintf(out, ", \"faulting\": %s}", in->faulting ? "true" : "false");
        }
        fprintf(out, "]}");
    }
    fprintf(out, "]");
}

/* "ended" line: which way out ended the run (RunEnd.stop_reason and friends). */
static void print_ending(FILE *out, const Rewind__RunEnd *end)
{
    if (!end) {
        fprintf(out, "ended        cut short (no end record)\n");
        return;
    }
    const char *why = end->stop_reason;
    fprintf(out, "ended        ");
    if (!strcmp(why, "exec") && end->exec) {
        const Rewind__ExecInfo *e = end->exec;
        fprintf(out, "exec %s", e->path[0] ? e->path : "(a file descriptor)");
        for (size_t i = 1; i < e->n_argv && i < 8; i++)
            fprintf(out, " %s", e->argv[i]);
        if (e->n_argv > 8)
            fprintf(out, " ...");
        if (e->trace[0])
            fprintf(out, "\n             recorded into %s", e->trace);
        else if (e->not_followed[0])
            fprintf(out, " (not followed: %s)", e->not_followed);
    } else if (end->term_signal) {
        fprintf(out, "%s %s", !strcmp(why, "signal") || !why[0] ? "signal" : why,
                rw_cli_signal_name(end->term_signal));
        fprintf(out, " (exit status %d)", end->exit_status);
    } else if (!strcmp(why, "_exit")) {
        fprintf(out, "os._exit(%d)", end->exit_status);
    } else if (!strcmp(why, "exit()")) {
        fprintf(out, "exit(%d) called from C", end->exit_status);
    } else {
        fprintf(out, "exit status %d", end->exit_status);
        if (!strcmp(why, "SystemExit"))
            fprintf(out, end->exit_message && end->exit_message[0] ? " (SystemExit: %s)"
                                                                    : " (SystemExit)",
                    end->exit_message);
        else if (why[0] && strcmp(why, "exit"))
            fprintf(out, " (%s)", why);
    }
    fprintf(out, "\n");
}

/* "started by" and "children" lines (family.h). */
static void print_family(FILE *out, const char *path, const rw_reader *r)
{
    const Rewind__Metadata *m = rw_reader_metadata(r);
    if (m && m->started_by && m->started_by[0])
        fprintf(out, "started by   %s of pid %" PRId64 " (%s)\n", m->started_by, m->parent_pid,
                m->parent_trace);
    /* Children the run forked but that have no trace of their own. */
    const Rewind__RunEnd *end = rw_reader_end(r);
    rw_relative *kids;
    size_t n;
    rw_err err = {0};
    if (rw_family_children(path, r, &kids, &n, &err) != RW_OK)
        n = 0, kids = NULL;
    for (size_t i = 0; end && i < end->n_children; i++) {
        const Rewind__ChildRun *c = end->children[i];
        int found = 0;
        for (size_t k = 0; k < n && !found; k++)
            found = kids[k].pid == c->pid;
        if (!found)
            fprintf(out, "child        pid %d, forked at event %llu: %s%s\n", c->pid,
                    (unsigned long long)c->pos,
                    c->not_followed[0] ? "not followed: " : "",
                    c->not_followed[0] ? c->not_followed
                        : "no trace of its own (it ran no Python, or exec'd another program)");
    }
    if (!n) {
        free(kids);
        return;
    }
    fprintf(out, "children     %zu recorded beside it (rewind info --child PID)\n", n);
    for (size_t i = 0; i < n; i++) {
        const rw_relative *c = &kids[i];
        fprintf(out, "  pid %-8lld %-10s %s: ", (long long)c->pid, c->started_by, c->path);
        if (!c->ended)
            fprintf(out, "cut short\n");
        else if (c->term_signal)
            fprintf(out, "signal %s\n", rw_cli_signal_name(c->term_signal));
        else if (c->stop_reason[0] && strcmp(c->stop_reason, "exit"))
            fprintf(out, "exit status %d (%s)\n", c->exit_status, c->stop_reason);
        else
            fprintf(out, "exit status %d\n", c->exit_status);
    }
    free(kids);
}

/* Writes s for a POSIX shell: as it is when it holds only safe characters, else in
 * single quotes ('\'' for a quote). */
static void put_shell_word(FILE *out, const char *s)
{
    int plain = *s != '\0';
    for (const char *p = s; *p && plain; p++)
        plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                       "@%_+=:,./-", *p) != NULL;
    if (plain) {
        fputs(s, out);
        return;
    }
    fputc('\'', out);
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            fputs("'\\''", out);
        else
            fputc(*p, out);
    }
    fputc('\'', out);
}

/* The command line that ran the program, as python3 takes it: `python3 [flags] -m
 * MODULE ARGS`, `-c CODE ARGS` or `SCRIPT ARGS` (sys.argv[0] is "-m" or "-c" at the
 * start of such a run, which the argv line shows as recorded). */
static void put_command(FILE *out, const Rewind__Metadata *m)
{
    fputs("python3", out);
    for (size_t i = 0; i < m->n_python_flags; i++) {
        fputc(' ', out);
        put_shell_word(out, m->python_flags[i]);
    }
    size_t first = 1;
    if (m->run_kind && !strcmp(m->run_kind, "module"))
        fputs(" -m ", out);
    else if (m->run_kind && !strcmp(m->run_kind, "command"))
        fputs(" -c ", out);
    else
        first = 0; /* the script's path is argv[0] */
    if (first)
        put_shell_word(out, m->run_target ? m->run_target : "");
    for (size_t i = first; i < m->n_argv; i++) {
        fputc(' ', out);
        put_shell_word(out, m->argv[i]);
    }
}

static void print_text(FILE *out, const char *path, const rw_reader *r, const summary *s)
{
    const Rewind__Metadata *m = rw_reader_metadata(r);
    const Rewind__RunEnd *end = rw_reader_end(r);
    const rw_defs *d = rw_reader_defs(r);
    const rw_recovery *rec = rw_reader_recovery(r);
    uint64_t size = rw_reader_file_size(r), nev = rw_reader_nevents(r);
    char buf[64];

    fprintf(out, "trace        %s\n", path);
    fprintf(out, "format       version %u, %llu bytes", RW_FORMAT_VERSION, (unsigned long long)size);
    if (nev)
        fprintf(out, ", %.2f bytes per event", (double)size / (double)nev);
    fprintf(out, "\n");
    if (rec->used)
        fprintf(out, "damaged      recovered %llu chunks, %llu events; %s byte %llu (%s)\n",
                (unsigned long long)rec->chunks, (unsigned long long)rec->events,
                rec->good_bytes == rec->file_bytes ? "no usable index after"
                                                   : "the tail was damaged after",
                (unsigned long long)rec->good_bytes, rec->why);
    fprintf(out, "program      %s %s\n", m->run_kind[0] ? m->run_kind : "?", m->run_target);
    fprintf(out, "command      ");
    put_command(out, m);
    fprintf(out, "\n");
    fprintf(out, "argv        ");
    for (size_t i = 0; i < m->n_argv; i++)
        fprintf(out, " %s", m->argv[i]);
    fprintf(out, "\n");
    fprintf(out, "cwd          %s\n", m->cwd);
    const char *nl = strchr(m->python_version, '\n');
    fprintf(out, "python       %.*s\n",
            (int)(nl ? (size_t)(nl - m->python_version) : strlen(m->python_version)),
            m->python_version);
    if (m->python_build && m->python_build[0])
        fprintf(out, "python build %s\n", m->python_build);
    if (m->platform[0] || m->hostname[0])
        fprintf(out, "platform     %s%s%s\n", m->platform, m->hostname[0] ? " on " : "",
                m->hostname);
    format_time(m->start_unix_ns, buf, sizeof buf);
    fprintf(out, "started      %s", buf);
    if (m->pid)
        fprintf(out, ", pid %" PRId64, m->pid);
    if (m->tool_version[0])
        fprintf(out, ", by %s", m->tool_version);
    if (m->tool_build[0]) /* the replay warns when its own differs (docs/reexecution.md) */
        fprintf(out, " (build %.12s)", m->tool_build);
    fprintf(out, "\n");
    if (m->chaos_seed) /* rewind record --chaos (docs/recording.md) */
        fprintf(out, "chaos        seed %" PRIu64 " (--chaos-seed %" PRIu64 " repeats it)\n",
                m->chaos_seed, m->chaos_seed);
    uint64_t last = end ? end->end_tick : s->last_tick;
    format_duration(rw_reader_tick_ns(r, last), buf, sizeof buf);
    fprintf(out, "duration     %s%s\n", buf, end ? "" : " (up to the last recorded event)");
    print_ending(out, end);
    print_family(out, path, r);
    if (end) {
        if (end->lost[0])
            fprintf(out, "lost         %s\n", end->lost);
        if (end->dropped_frees)
            fprintf(out, "dropped      %llu frees of blocks allocated before recording\n",
                    (unsigned long long)end->dropped_frees);
    }
    fprintf(out, "events       %llu in %llu records, %zu chunks\n", (unsigned long long)nev,
            (unsigned long long)rw_reader_nrecords(r), rw_reader_nchunks(r));
    if (s->counted) {
        fprintf(out, "kinds%s\n", s->from_scan ? "        (counted from the chunks)" : "");
        for (int k = 0; k < RW_KIND_MAX; k++)
            if (s->kinds[k])
                fprintf(out, "  %-13s %llu\n", rw_kind_name(k), (unsigned long long)s->kinds[k]);
        uint64_t allocs = s->kinds[RW_K_ALLOC_RAW] + s->kinds[RW_K_ALLOC_MEM] +
                          s->kinds[RW_K_ALLOC_OBJ];
        fprintf(out, "allocations  %llu\n", (unsigned long long)allocs);
        fprintf(out, "audit        %llu\n", (unsigned long long)s->kinds[RW_K_AUDIT]);
        fprintf(out, "exceptions   %llu\n", (unsigned long long)s->kinds[RW_K_EXCEPTION]);
    }
    if (s->scan_err[0])
        fprintf(out, "unreadable   %s\n", s->scan_err);
    fprintf(out, "threads      %u\n", d->nthreads - 1);
    for (uint32_t i = 1; i < d->nthreads; i++) {
        const Rewind__ThreadDef *t = rw_defs_thread(d, i);
        fprintf(out, "  t%-3u ident %llu, native id %llu, %s%s%s\n", i,
                (unsigned long long)t->ident, (unsigned long long)t->native_id,
                thread_name(d, end, i), t->is_main ? " (main)" : "",
                !thread_from_c(d, end, i)          ? ""
                : thread_name(d, end, i)[0] ? " (started by C code)"
                                            : "(started by C code)");
    }
    fprintf(out, "files        %u\n", d->nfiles - 1);
    for (uint32_t i = 1; i < d->nfiles; i++) {
        const Rewind__FileDef *f = rw_defs_file(d, i);
        if (f->has_source)
            fprintf(out, "  %s (%zu bytes of source)\n", f->path, f->source.len);
        else
            fprintf(out, "  %s (no source)\n", f->path);
    }
    if (end && end->uncaught_type[0]) {
        fprintf(out, "uncaught exception at event %llu:\n", (unsigned long long)end->uncaught_pos);
        print_traceback(out, d, end);
    }
    if (rw_reader_ncrashes(r)) {
        fprintf(out, "\n");
        print_crashes(out, r);
    }
}

/* ---- JSON ----------------------------------------------------------------------- */

static void json_family(FILE *out, const char *path, const rw_reader *r)
{
    rw_relative *kids = NULL;
    size_t n = 0;
    rw_err err = {0};
    rw_family_children(path, r, &kids, &n, &err);
    fprintf(out, ", \"children\": [");
    for (size_t i = 0; i < n; i++) {
        const rw_relative *c = &kids[i];
        fprintf(out, "%s{\"pid\": %lld, \"trace\": ", i ? ", " : "", (long long)c->pid);
        rw_json_str(out, c->path);
        fprintf(out, ", \"started_by\": ");
        rw_json_str(out, c->started_by);
        if (c->ended) {
            fprintf(out, ", \"exit_status\": %d, \"term_signal\": %d, \"stop_reason\": ",
                    c->exit_status, c->term_signal);
            rw_json_str(out, c->stop_reason);
        } else {
            fprintf(out, ", \"exit_status\": null, \"term_signal\": null, \"stop_reason\": null");
        }
        fprintf(out, ", \"damaged\": %s}", c->damaged ? "true" : "false");
    }
    fprintf(out, "]");
    free(kids);
}

static void print_json(FILE *out, const char *path, const rw_reader *r, const summary *s)
{
    const Rewind__Metadata *m = rw_reader_metadata(r);
    const Rewind__RunEnd *end = rw_reader_end(r);
    const rw_defs *d = rw_reader_defs(r);
    const rw_recovery *rec = rw_reader_recovery(r);
    uint64_t size = rw_reader_file_size(r), nev = rw_reader_nevents(r);
    char buf[64];

    fprintf(out, "{\"file\": ");
    rw_json_str(out, path);
    fprintf(out, ", \"format_version\": %u, \"file_bytes\": %llu, \"bytes_per_event\": ",
            RW_FORMAT_VERSION, (unsigned long long)size);
    if (nev)
        fprintf(out, "%.3f", (double)size / (double)nev);
    else
        fprintf(out, "null");
    fprintf(out, ", \"recovery\": ");
    if (rec->used) {
        fprintf(out, "{\"chunks\": %llu, \"events\": %llu, \"good_bytes\": %llu, \"why\": ",
                (unsigned long long)rec->chunks, (unsigned long long)rec->events,
                (unsigned long long)rec->good_bytes);
        rw_json_str(out, rec->why);
        fprintf(out, "}");
    } else {
        fprintf(out, "null");
    }
    fprintf(out, ", \"run_kind\": ");
    rw_json_str(out, m->run_kind);
    fprintf(out, ", \"run_target\": ");
    rw_json_str(out, m->run_target);
    char *cmd = NULL;
    size_t cmdlen = 0;
    FILE *mem = open_memstream(&cmd, &cmdlen);
    if (mem) {
        put_command(mem, m);
        fclose(mem);
    }
    fprintf(out, ", \"command\": ");
    rw_json_str(out, cmd ? cmd : "");
    free(cmd);
    fprintf(out, ", \"argv\": [");
    for (size_t i = 0; i < m->n_argv; i++) {
        fputs(i ? ", " : "", out);
        rw_json_str(out, m->argv[i]);
    }
    fprintf(out, "], \"cwd\": ");
    rw_json_str(out, m->cwd);
    fprintf(out, ", \"python_version\": ");
    rw_json_str(out, m->python_version);
    fprintf(out, ", \"python_executable\": ");
    rw_json_str(out, m->python_executable);
    fprintf(out, ", \"python_build\": ");
    rw_json_str(out, m->python_build ? m->python_build : "");
    fprintf(out, ", \"platform\": ");
    rw_json_str(out, m->platform);
    fprintf(out, ", \"hostname\": ");
    rw_json_str(out, m->hostname);
    fprintf(out, ", \"tool_version\": ");
    rw_json_str(out, m->tool_version);
    fprintf(out, ", \"tool_build\": ");
    rw_json_str(out, m->tool_build);
    format_time(m->start_unix_ns, buf, sizeof buf);
    fprintf(out, ", \"pid\": %" PRId64 ", \"start_unix_ns\": %" PRId64 ", \"start_time\": ", m->pid,
            m->start_unix_ns);
    rw_json_str(out, buf);
    fprintf(out, ", \"started_by\": ");
    rw_json_str(out, m->started_by ? m->started_by : "");
    fprintf(out, ", \"chaos_seed\": %" PRIu64, m->chaos_seed);
    fprintf(out, ", \"parent_pid\": %" PRId64 ", \"parent_trace\": ", m->parent_pid);
    rw_json_str(out, m->parent_trace ? m->parent_trace : "");
    json_family(out, path, r);
    uint64_t last = end ? end->end_tick : s->last_tick;
    fprintf(out, ", \"duration_ns\": %.0f", rw_reader_tick_ns(r, last));
    fprintf(out, ", \"cut_short\": %s", end ? "false" : "true");
    if (end) {
        fprintf(out, ", \"exit_status\": %d, \"term_signal\": %d, \"stop_reason\": ",
                end->exit_status, end->term_signal);
        rw_json_str(out, end->stop_reason);
        fprintf(out, ", \"exit_message\": ");
        rw_json_str(out, end->exit_message ? end->exit_message : "");
        fprintf(out, ", \"exec\": ");
        if (end->exec) {
            fprintf(out, "{\"path\": ");
            rw_json_str(out, end->exec->path);
            fprintf(out, ", \"argv\": [");
            for (size_t i = 0; i < end->exec->n_argv; i++) {
                fputs(i ? ", " : "", out);
                rw_json_str(out, end->exec->argv[i]);
            }
            fprintf(out, "], \"trace\": ");
            rw_json_str(out, end->exec->trace);
            fprintf(out, ", \"not_followed\": ");
            rw_json_str(out, end->exec->not_followed);
            fprintf(out, "}");
        } else {
            fprintf(out, "null");
        }
        fprintf(out, ", \"lost\": ");
        rw_json_str(out, end->lost);
        fprintf(out, ", \"dropped_frees\": %llu", (unsigned long long)end->dropped_frees);
    } else {
        fprintf(out, ", \"exit_status\": null, \"term_signal\": null, \"stop_reason\": null, "
                     "\"exit_message\": null, \"exec\": null, "
                     "\"lost\": null, \"dropped_frees\": null");
    }
    fprintf(out, ", \"events\": %llu, \"records\": %llu, \"chunks\": %zu",
            (unsigned long long)nev, (unsigned long long)rw_reader_nrecords(r),
            rw_reader_nchunks(r));
    fprintf(out, ", \"kind_counts\": {");
    int first = 1;
    for (int k = 0; s->counted && k < RW_KIND_MAX; k++) {
        if (!s->kinds[k])
            continue;
        fprintf(out, "%s\"%s\": %llu", first ? "" : ", ", rw_kind_name(k),
                (unsigned long long)s->kinds[k]);
        first = 0;
    }
    uint64_t allocs =
        s->kinds[RW_K_ALLOC_RAW] + s->kinds[RW_K_ALLOC_MEM] + s->kinds[RW_K_ALLOC_OBJ];
    fprintf(out, "}, \"kind_counts_from_scan\": %s", s->from_scan ? "true" : "false");
    fprintf(out, ", \"allocations\": %llu, \"audit\": %llu, \"exceptions\": %llu",
            (unsigned long long)allocs, (unsigned long long)s->kinds[RW_K_AUDIT],
            (unsigned long long)s->kinds[RW_K_EXCEPTION]);
    fprintf(out, ", \"unreadable\": ");
    rw_json_str(out, s->scan_err[0] ? s->scan_err : NULL);
    fprintf(out, ", \"threads\": [");
    for (uint32_t i = 1; i < d->nthreads; i++) {
        const Rewind__ThreadDef *t = rw_defs_thread(d, i);
        fprintf(out, "%s{\"id\": %u, \"ident\": %llu, \"native_id\": %llu, \"name\": ",
                i > 1 ? ", " : "", i, (unsigned long long)t->ident,
                (unsigned long long)t->native_id);
        rw_json_str(out, thread_name(d, end, i));
        fprintf(out, ", \"is_main\": %s, \"from_c\": %s}", t->is_main ? "true" : "false",
                thread_from_c(d, end, i) ? "true" : "false");
    }
    fprintf(out, "], \"files\": [");
    for (uint32_t i = 1; i < d->nfiles; i++) {
        const Rewind__FileDef *f = rw_defs_file(d, i);
        fprintf(out, "%s{\"id\": %u, \"path\": ", i > 1 ? ", " : "", i);
        rw_json_str(out, f->path);
        fprintf(out, ", \"has_source\": %s, \"source_bytes\": %zu}",
                f->has_source ? "true" : "false", f->has_source ? f->source.len : 0);
    }
    fprintf(out, "], \"uncaught\": ");
    if (end && end->uncaught_type[0]) {
        fprintf(out, "{\"type\": ");
        rw_json_str(out, end->uncaught_type);
        fprintf(out, ", \"message\": ");
        rw_json_str(out, end->uncaught_message);
        fprintf(out, ", \"pos\": %llu, \"traceback\": [", (unsigned long long)end->uncaught_pos);
        for (size_t i = 0; i < end->n_uncaught_traceback; i++) {
            const Rewind__TracebackEntry *te = end->uncaught_traceback[i];
            const Rewind__CodeDef *code = rw_defs_code(d, te->code);
            const Rewind__FileDef *file = code ? rw_defs_file(d, code->file) : NULL;
            fprintf(out, "%s{\"file\": ", i ? ", " : "");
            rw_json_str(out, file ? file->path : NULL);
            fprintf(out, ", \"line\": %u, \"func\": ", te->line);
            rw_json_str(out, code ? code->name : NULL);
            fprintf(out, ", \"qualname\": ");
            rw_json_str(out, code ? code->qualname : NULL);
            size_t n;
            const char *src = source_line(d, code ? code->file : 0, te->line, &n);
            fprintf(out, ", \"source\": ");
            if (n)
                rw_json_strn(out, src, n);
            else
                fprintf(out, "null");
            fprintf(out, "}");
        }
        fprintf(out, "]}");
    } else {
        fprintf(out, "null");
    }
    json_crashes(out, r);
    fprintf(out, "}\n");
}

int rw_cmd_info(int argc, char **argv)
{
    const char *path = NULL;
    int json = 0, reveals = 0, inputs = 0;
    unsigned long long child = 0;
    int have_child = 0;
    const rw_opt opts[] = {{.long_name = "json", .kind = RW_OPT_FLAG, .dst = &json},
                           {.long_name = "reveals", .kind = RW_OPT_FLAG, .dst = &reveals},
                           {.long_name = "inputs", .kind = RW_OPT_FLAG, .dst = &inputs},
                           {.long_name = "child", .kind = RW_OPT_UINT, .dst = &child,
                            .what = "a process id", .max = 4194304, .seen = &have_child}};
    static const char *const argnames[] = {"the trace FILE"};
    rw_cmdline cl = {.cmd = "info", .usage = usage, .opts = opts,
                     .nopts = sizeof opts / sizeof opts[0], .args = &path, .maxargs = 1,
                     .argnames = argnames, .nrequired = 1};
    int go = rw_opts_parse(&cl, argc, argv);
    if (go != RW_OPTS_GO)
        return go;
    if (json)
        rw_term_stdout_unfiltered(); /* escaped by json.h, byte for byte (term.h) */
    rw_reader *r = NULL;
    rw_err err = {0};
    char child_path[4096];
    if (have_child) {
        if (rw_family_open_child(path, (int64_t)child, child_path, sizeof child_path, &r,
                                 &err) != RW_OK)
            return rw_cli_fail("info", &err);
        path = child_path;
    } else if (rw_reader_open(path, &r, &err) != RW_OK) {
        return rw_cli_fail("info", &err);
    }
    if (reveals && inputs) {
        rw_reader_free(r);
        fprintf(stderr, "rewind info: --reveals and --inputs cannot be combined\n");
        return RW_EXIT_USAGE;
    }
    if (reveals) {
        int rc = rw_cli_print_reveals(stdout, path, r, json);
        rw_reader_free(r);
        return rc;
    }
    if (inputs) {
        const rw_recovery *rec = rw_reader_recovery(r);
        if (rec->used)
            fprintf(stderr, "rewind info: %s is damaged: showing the inputs of its first %llu "
                            "bytes (%s); 'rewind verify' says more\n",
                    path, (unsigned long long)rec->good_bytes, rec->why);
        int rc = rw_cli_print_inputs(stdout, path, r, json);
        int damaged = rec->used; /* rec belongs to r */
        rw_reader_free(r);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            fprintf(stderr, "rewind info: error writing the output\n");
            return RW_EXIT_FAIL;
        }
        return rc || damaged ? RW_EXIT_FAIL : RW_EXIT_OK;
    }

    summary s;
    memset(&s, 0, sizeof s);
    const Rewind__RunEnd *end = rw_reader_end(r);
    if (end && end->n_kind_counts) {
        for (size_t k = 0; k < end->n_kind_counts && k < RW_KIND_MAX; k++)
            s.kinds[k] = end->kind_counts[k];
        s.counted = 1;
    } else {
        count_kinds(r, &s);
    }
    size_t nch = rw_reader_nchunks(r);
    s.last_tick = nch ? rw_reader_chunk(r, nch - 1)->last_tick : 0;
    const rw_recovery *rec = rw_reader_recovery(r);
    int damaged = 0;
    if (!rw_reader_nevents(r)) {
        rw_err nerr;
        rw_cli_no_events(path, r, &nerr);
        fprintf(stderr, "rewind info: %s\n", nerr.msg);
        damaged = 1;
    } else if (rec->used) {
        damaged = 1;
        fprintf(stderr,
                "rewind info: %s is damaged: showing the first %llu events (%s); "
                "'rewind verify' says more\n",
                path, (unsigned long long)rec->events, rec->why);
    }
    /* The index can be intact and a chunk not: every chunk's CRC, as verify does
     * (without decoding them). */
    for (size_t i = 0; i < nch && !damaged; i++) {
        rw_err cerr = {0};
        if (rw_reader_check_chunk(r, i, &cerr) != RW_OK) {
            fprintf(stderr, "rewind info: %s is damaged: %s; the events from %llu on cannot be "
                            "read; 'rewind verify' says more\n",
                    path, cerr.msg, (unsigned long long)rw_reader_chunk(r, i)->first_event);
            damaged = 1;
        }
    }

    if (json)
        print_json(stdout, path, r, &s);
    else
        print_text(stdout, path, r, &s);
    rw_reader_free(r);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "rewind info: error writing the output\n");
        return RW_EXIT_FAIL;
    }
    return damaged ? RW_EXIT_FAIL : RW_EXIT_OK;
}
