/* rewind export: a timeline of the calls of every thread, as Chrome trace events
 * (Perfetto, chrome://tracing), a speedscope file or Perfetto's protobuf trace, its
 * size bounded by --max-size. The work is replayer/export.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "export.h"
#include "position.h"
#include "progress.h"
#include "reader.h"

#define CMD "export"

static const char usage_text[] =
    "usage: rewind export FILE --format chrome|speedscope|perfetto -o OUT [--from POS]\n"
    "                          [--to POS] [--max-size SIZE]\n"
    "\n"
    "Export the calls of every thread as a timeline.\n"
    "\n"
    "  --format F       chrome: trace event JSON for Perfetto / chrome://tracing;\n"
    "                   speedscope: evented profiles for https://www.speedscope.app;\n"
    "                   perfetto: Perfetto's protobuf trace (ui.perfetto.dev), several\n"
    "                   times smaller than chrome's JSON\n"
    "  -o, --output     the file to write ('-' for standard output)\n"
    "  --from POS       start at this position (default @start)\n"
    "  --to POS         stop at this position (default @end)\n"
    "  --max-size SIZE  stop once the output reaches SIZE bytes (suffix K, M, G, T:\n"
    "                   powers of 1024; default 1G; 0 = no limit); the file stays\n"
    "                   valid and the status is 1\n"
    "  -h, --help       show this help\n"
    "\n"
    "See docs/audit-export.md.\n";

/* RW_OPT_CALL of --max-size: digits with an optional K, M, G or T (powers of 1024,
 * "B" or "iB" may follow: 500M, 2GiB, 1048576). */
static int parse_size(void *dst, const char *v, char *why, size_t cap)
{
    (void)why;
    (void)cap;
    char *end;
    if (!*v || *v < '0' || *v > '9')
        return -1;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno)
        return -1;
    static const char units[] = "KMGT";
    const char *u = *end ? strchr(units, *end & ~0x20) : NULL;
    int shift = 0;
    if (u && *u) {
        shift = 10 * (int)(u - units + 1);
        end++;
        if (*end == 'i')
            end++;
        if (*end == 'B' || *end == 'b')
            end++;
    } else if (*end == 'B' || *end == 'b') {
        end++;
    }
    if (*end || (shift && n > (UINT64_MAX >> shift)))
        return -1;
    *(uint64_t *)dst = (uint64_t)n << shift;
    return 0;
}

/* "1.0 GiB": sizes of the warning. */
static void format_size(uint64_t n, char *buf, size_t len)
{
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u)
        snprintf(buf, len, "%.1f %s", v, units[u]);
    else
        snprintf(buf, len, "%llu bytes", (unsigned long long)n);
}

static void progress_cb(void *ctx, uint64_t done, uint64_t total)
{
    rw_progress *p = ctx;
    p->total = total ? total : 1;
    rw_progress_update(p, done);
}

int rw_cmd_export(int argc, char **argv)
{
    const char *outp = NULL, *from_s = NULL, *to_s = NULL, *path = NULL;
    int status = RW_EXIT_FAIL, format = -1;
    rw_reader *r = NULL;
    rw_err err = {0};

    uint64_t max_size = RW_EXPORT_DEFAULT_MAX;
    static const char *const formats[] = {"chrome", "speedscope", "perfetto", NULL};
    static const rw_export_format format_of[] = {RW_EXPORT_CHROME, RW_EXPORT_SPEEDSCOPE,
                                                 RW_EXPORT_PERFETTO};
    const rw_opt opts[] = {
        {.long_name = "format", .kind = RW_OPT_CHOICE, .dst = &format, .choices = formats,
         .what = "a format: chrome, speedscope or perfetto"},
        {.short_name = 'o', .long_name = "output", .kind = RW_OPT_NONEMPTY, .dst = &outp,
         .what = "a file name ('-' for standard output)"},
        {.long_name = "from", .kind = RW_OPT_POS, .dst = &from_s},
        {.long_name = "to", .kind = RW_OPT_POS, .dst = &to_s},
        {.long_name = "max-size", .kind = RW_OPT_CALL, .dst = &max_size, .call = parse_size,
         .what = "a size: bytes, or with K, M, G or T (0 = no limit)"},
    };
    static const char *const argnames[] = {"the trace FILE"};
    rw_cmdline cl = {.cmd = CMD, .usage_text = usage_text, .opts = opts,
                     .nopts = sizeof opts / sizeof opts[0], .args = &path, .maxargs = 1,
                     .argnames = argnames, .nrequired = 1};
    int go = rw_opts_parse(&cl, argc, argv);
    if (go != RW_OPTS_GO)
        return go;
    if (format < 0)
        return rw_opts_usage(CMD, "--format is required: chrome, speedscope or perfetto");
    rw_export_format f = format_of[format];
    if (!outp)
        return rw_opts_usage(CMD, "-o OUT is required ('-' for standard output)");
    if (rw_cli_open_trace(CMD, path, &r, &err) != RW_OK)
        return rw_cli_fail(CMD, &err);
    uint64_t from = 0, to = rw_reader_nevents(r);
    if ((from_s && (status = rw_opts_position(CMD, r, "--from", from_s, &from))) ||
        (to_s && (status = rw_opts_position(CMD, r, "--to", to_s, &to))) ||
        (status = rw_opts_window(CMD, from, to)))
        goto out;
    status = RW_EXIT_FAIL;
    FILE *out = strcmp(outp, "-") ? fopen(outp, "wb") : stdout;
    if (!out) {
        fprintf(stderr, "rewind export: cannot write %s: %s\n", outp, strerror(errno));
        goto out;
    }
    rw_progress prog;
    rw_progress_init(&prog, "export", to - from);
    rw_export_opts o = {.format = f, .from = from, .to = to, .max_bytes = max_size,
                        .progress = progress_cb, .progress_ctx = &prog};
    rw_export_result res = {0};
    rw_code rc = rw_export_write(r, &o, out, &res, &err);
    rw_progress_done(&prog);
    int closed = out == stdout ? fflush(out) : fclose(out);
    if (rc != RW_OK) {
        status = rw_cli_fail(CMD, &err);
    } else if (closed != 0) {
        fprintf(stderr, "rewind export: cannot write %s: %s\n", outp, strerror(errno));
    } else if (res.stopped) {
        char size[32];
        format_size(res.bytes, size, sizeof size);
        fprintf(stderr, "rewind export: stopped at %s at event %llu of %llu: raise --max-size "
                        "or narrow --from/--to\n", size, (unsigned long long)res.stop_pos,
                (unsigned long long)res.end_pos);
    } else {
        status = RW_EXIT_OK;
    }
out:
    rw_reader_free(r);
    return status;
}
