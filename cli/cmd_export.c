/* rewind export: a timeline of the calls of every thread, as Chrome trace events
 * (Perfetto, chrome://tracing) or a speedscope file. The work is replayer/export.c. */
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
    "usage: rewind export FILE --format chrome|speedscope -o OUT.json [--from POS] [--to POS]\n"
    "\n"
    "Export the calls of every thread as a timeline.\n"
    "\n"
    "  --format F     chrome: trace event JSON for Perfetto / chrome://tracing;\n"
    "                 speedscope: evented profiles for https://www.speedscope.app\n"
    "  -o, --output   the file to write ('-' for standard output)\n"
    "  --from POS     start at this position (default @start)\n"
    "  --to POS       stop at this position (default @end)\n"
    "  -h, --help     show this help\n"
    "\n"
    "See docs/audit-export.md.\n";

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

    static const char *const formats[] = {"chrome", "speedscope", NULL};
    const rw_opt opts[] = {
        {.long_name = "format", .kind = RW_OPT_CHOICE, .dst = &format, .choices = formats,
         .what = "a format: chrome or speedscope"},
        {.short_name = 'o', .long_name = "output", .kind = RW_OPT_NONEMPTY, .dst = &outp,
         .what = "a file name ('-' for standard output)"},
        {.long_name = "from", .kind = RW_OPT_POS, .dst = &from_s},
        {.long_name = "to", .kind = RW_OPT_POS, .dst = &to_s},
    };
    static const char *const argnames[] = {"the trace FILE"};
    rw_cmdline cl = {.cmd = CMD, .usage_text = usage_text, .opts = opts,
                     .nopts = sizeof opts / sizeof opts[0], .args = &path, .maxargs = 1,
                     .argnames = argnames, .nrequired = 1};
    int go = rw_opts_parse(&cl, argc, argv);
    if (go != RW_OPTS_GO)
        return go;
    if (format < 0)
        return rw_opts_usage(CMD, "--format is required: chrome or speedscope");
    rw_export_format f = format == 0 ? RW_EXPORT_CHROME : RW_EXPORT_SPEEDSCOPE;
    if (!outp)
        return rw_opts_usage(CMD, "-o OUT.json is required ('-' for standard output)");
    if (rw_cli_open_trace(CMD, path, &r, &err) != RW_OK)
        return rw_cli_fail(CMD, &err);
    uint64_t from = 0, to = rw_reader_nevents(r);
    if ((from_s && (status = rw_opts_position(CMD, r, "--from", from_s, &from))) ||
        (to_s && (status = rw_opts_position(CMD, r, "--to", to_s, &to))) ||
        (status = rw_opts_window(CMD, from, to)))
        goto out;
    status = RW_EXIT_FAIL;
    FILE *out = strcmp(outp, "-") ? fopen(outp, "w") : stdout;
    if (!out) {
        fprintf(stderr, "rewind export: cannot write %s: %s\n", outp, strerror(errno));
        goto out;
    }
    rw_progress prog;
    rw_progress_init(&prog, "export", to - from);
    rw_export_opts o = {.format = f, .from = from, .to = to, .progress = progress_cb,
                        .progress_ctx = &prog};
    rw_code rc = rw_export_write(r, &o, out, &err);
    rw_progress_done(&prog);
    int closed = out == stdout ? fflush(out) : fclose(out);
    if (rc != RW_OK) {
        status = rw_cli_fail(CMD, &err);
    } else if (closed != 0) {
        fprintf(stderr, "rewind export: cannot write %s: %s\n", outp, strerror(errno));
    } else {
        status = RW_EXIT_OK;
    }
out:
    rw_reader_free(r);
    return status;
}
