/* rewind export: a timeline of the calls of every thread, as Chrome trace events
 * (Perfetto, chrome://tracing) or a speedscope file. The work is replayer/export.c. */
#include <errno.h>
#include <getopt.h>
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
    static const struct option longopts[] = {
        {"format", required_argument, 0, 'F'}, {"output", required_argument, 0, 'o'},
        {"from", required_argument, 0, 'f'},   {"to", required_argument, 0, 't'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *fmt = NULL, *outp = NULL, *from_s = NULL, *to_s = NULL;
    int ch, status = RW_EXIT_FAIL;
    rw_reader *r = NULL;
    rw_err err = {0};

    optind = 0; /* 0, not 1: glibc then also forgets a half-parsed option group */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
        switch (ch) {
        case 'F': fmt = optarg; break;
        case 'o': outp = optarg; break;
        case 'f': from_s = optarg; break;
        case 't': to_s = optarg; break;
        case 'h':
            fputs(usage_text, stdout);
            return RW_EXIT_OK;
        case ':':
            fprintf(stderr, "rewind export: option %s needs a value: see --help\n",
                    argv[optind - 1]);
            return RW_EXIT_USAGE;
        default:
            fprintf(stderr, "rewind export: unknown option '%s': see --help\n", argv[optind - 1]);
            return RW_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, optind >= argc ? "rewind export: no trace file given: see --help\n"
                                       : "rewind export: one trace file expected: see --help\n");
        return RW_EXIT_USAGE;
    }
    rw_export_format f;
    if (!fmt) {
        fprintf(stderr, "rewind export: --format is required: chrome or speedscope\n");
        return RW_EXIT_USAGE;
    } else if (!strcmp(fmt, "chrome")) {
        f = RW_EXPORT_CHROME;
    } else if (!strcmp(fmt, "speedscope")) {
        f = RW_EXPORT_SPEEDSCOPE;
    } else {
        fprintf(stderr, "rewind export: unknown format '%s': use chrome or speedscope\n", fmt);
        return RW_EXIT_USAGE;
    }
    if (!outp) {
        fprintf(stderr, "rewind export: -o OUT.json is required ('-' for standard output)\n");
        return RW_EXIT_USAGE;
    }
    if (rw_cli_open_trace(CMD, argv[optind], &r, &err) != RW_OK)
        return rw_cli_fail(CMD, &err);
    uint64_t from = 0, to = rw_reader_nevents(r);
    if ((from_s && rw_pos_parse(r, from_s, &from, &err) != RW_OK) ||
        (to_s && rw_pos_parse(r, to_s, &to, &err) != RW_OK)) {
        status = rw_cli_fail(CMD, &err);
        goto out;
    }
    if (from > to) {
        fprintf(stderr, "rewind export: --from %llu is after --to %llu\n",
                (unsigned long long)from, (unsigned long long)to);
        goto out;
    }
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
