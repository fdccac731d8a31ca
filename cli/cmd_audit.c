/* rewind audit: the audit events of a recording, with position, thread and, on
 * request, the Python stack; filtered by name globs and thread. The scan is
 * replayer/audit.c. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "commands.h"
#include "json.h"
#include "position.h"
#include "reader.h"

#define CMD "audit"

static const char usage_text[] =
    "usage: rewind audit FILE [--from POS] [--to POS] [--match GLOB ...] [--stack]\n"
    "                         [--thread N] [--json]\n"
    "\n"
    "The audit events of a recording (what a sys.addaudithook hook saw), in order.\n"
    "\n"
    "  --match GLOB   keep events whose name matches GLOB (fnmatch; repeatable)\n"
    "  --stack        print the Python stack at each event, like a traceback\n"
    "  --thread N     only thread N (the thread number this command prints)\n"
    "  --json         one JSON object per line\n"
    "  --from POS     start at this position (default @start)\n"
    "  --to POS       stop before this position (default @end)\n"
    "  -h, --help     show this help\n"
    "\n"
    "Positions: an event number, @start, @end, @exception, a time (1.5s) or FILE:LINE.\n"
    "See docs/audit-export.md.\n";

typedef struct actx {
    const rw_reader *r;
    int stack, json;
    uint64_t n;
} actx;

static void frame_info(const rw_defs *d, const rw_frame *f, const char **file,
                       const char **name)
{
    const Rewind__CodeDef *cd = f->code < d->ncodes ? d->codes[f->code] : NULL;
    *file = cd && cd->file && cd->file < d->nfiles && d->files[cd->file]->path
                ? d->files[cd->file]->path : "?";
    *name = cd && cd->name ? cd->name : "?";
}

static int print_event(void *p, const rw_audit_event *ev)
{
    actx *c = p;
    const rw_defs *d = rw_reader_defs(c->r);
    c->n++;
    if (c->json) {
        printf("{\"pos\":%llu,\"thread\":%u,\"event\":", (unsigned long long)ev->pos,
               ev->thread);
        rw_json_str(stdout, ev->name);
        fputs(",\"args\":", stdout);
        rw_json_strn(stdout, ev->args, ev->args_len);
        if (c->stack) {
            fputs(",\"stack\":[", stdout);
            int first = 1;
            for (uint32_t i = 0; ev->stack && i < ev->stack->depth; i++) {
                const rw_frame *f = &ev->stack->frames[i];
                if (f->is_c)
                    continue;
                const char *file, *name;
                frame_info(d, f, &file, &name);
                fputs(first ? "{\"file\":" : ",{\"file\":", stdout);
                first = 0;
                rw_json_str(stdout, file);
                printf(",\"line\":%u,\"function\":", f->line);
                rw_json_str(stdout, name);
                fputc('}', stdout);
            }
            fputc(']', stdout);
        }
        fputs("}\n", stdout);
        return 0;
    }
    printf("%llu thread %u %s %.*s\n", (unsigned long long)ev->pos, ev->thread, ev->name,
           (int)ev->args_len, ev->args);
    if (c->stack) {
        for (uint32_t i = 0; ev->stack && i < ev->stack->depth; i++) {
            const rw_frame *f = &ev->stack->frames[i];
            if (f->is_c)
                continue;
            const char *file, *name;
            frame_info(d, f, &file, &name);
            printf("  File \"%s\", line %u, in %s\n", file, f->line, name);
        }
    }
    return 0;
}

int rw_cmd_audit(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"from", required_argument, 0, 'f'}, {"to", required_argument, 0, 't'},
        {"match", required_argument, 0, 'm'}, {"stack", no_argument, 0, 's'},
        {"thread", required_argument, 0, 'T'}, {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},       {0, 0, 0, 0}};
    const char *from_s = NULL, *to_s = NULL;
    const char **match = NULL;
    size_t nmatch = 0;
    int stack = 0, json = 0, ch, status = RW_EXIT_FAIL;
    unsigned long thread = 0;
    rw_reader *r = NULL;
    rw_err err = {0};

    optind = 0; /* 0, not 1: glibc then also forgets a half-parsed option group */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'f': from_s = optarg; break;
        case 't': to_s = optarg; break;
        case 'm': {
            const char **n = realloc(match, (nmatch + 1) * sizeof *n);
            if (!n) {
                fprintf(stderr, "rewind audit: out of memory\n");
                goto out;
            }
            match = n;
            match[nmatch++] = optarg;
            break;
        }
        case 's': stack = 1; break;
        case 'j': json = 1; break;
        case 'T': {
            char *end;
            errno = 0;
            thread = strtoul(optarg, &end, 10);
            if (*end || errno || !thread || thread > UINT32_MAX || optarg[0] == '-') {
                fprintf(stderr, "rewind audit: bad thread '%s': give a thread number (1 is "
                                "the main thread)\n", optarg);
                status = RW_EXIT_USAGE;
                goto out;
            }
            break;
        }
        case 'h':
            fputs(usage_text, stdout);
            status = RW_EXIT_OK;
            goto out;
        case ':':
            fprintf(stderr, "rewind audit: option %s needs a value: see --help\n",
                    argv[optind - 1]);
            status = RW_EXIT_USAGE;
            goto out;
        default:
            fprintf(stderr, "rewind audit: unknown option '%s': see --help\n", argv[optind - 1]);
            status = RW_EXIT_USAGE;
            goto out;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, optind >= argc ? "rewind audit: no trace file given: see --help\n"
                                       : "rewind audit: one trace file expected: see --help\n");
        status = RW_EXIT_USAGE;
        goto out;
    }
    if (rw_cli_open_trace(CMD, argv[optind], &r, &err) != RW_OK) {
        status = rw_cli_fail(CMD, &err);
        goto out;
    }
    uint64_t from = 0, to = rw_reader_nevents(r);
    if ((from_s && rw_pos_parse(r, from_s, &from, &err) != RW_OK) ||
        (to_s && rw_pos_parse(r, to_s, &to, &err) != RW_OK)) {
        status = rw_cli_fail(CMD, &err);
        goto out;
    }
    if (from > to) {
        fprintf(stderr, "rewind audit: --from %llu is after --to %llu\n",
                (unsigned long long)from, (unsigned long long)to);
        goto out;
    }
    if (thread >= rw_reader_defs(r)->nthreads) {
        fprintf(stderr, "rewind audit: no thread %lu in %s (it has %u)\n", thread, argv[optind],
                rw_reader_defs(r)->nthreads ? rw_reader_defs(r)->nthreads - 1 : 0);
        goto out;
    }
    rw_audit_opts o = {.from = from, .to = to, .match = match, .nmatch = nmatch,
                       .thread = (uint32_t)thread};
    actx c = {.r = r, .stack = stack, .json = json};
    if (rw_audit_scan(r, &o, print_event, &c, &err) != RW_OK) {
        fflush(stdout);
        status = rw_cli_fail(CMD, &err);
        goto out;
    }
    status = fflush(stdout) == 0 ? RW_EXIT_OK : RW_EXIT_FAIL;
out:
    free(match);
    rw_reader_free(r);
    return status;
}
