/* rewind audit: the audit events of a recording, with position, thread and, on
 * request, the Python stack; filtered by name globs and thread. The scan is
 * replayer/audit.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "commands.h"
#include "json.h"
#include "position.h"
#include "reader.h"
#include "term.h"

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
    const Rewind__CodeDef *cd = rw_defs_code(d, f->code);
    const Rewind__FileDef *fd = cd && cd->file ? rw_defs_file(d, cd->file) : NULL;
    *file = fd && fd->path ? fd->path : "?";
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
    const char *from_s = NULL, *to_s = NULL, *path = NULL;
    rw_opt_list match = {0};
    int stack = 0, json = 0, status = RW_EXIT_FAIL;
    unsigned long long thread = 0;
    rw_reader *r = NULL;
    rw_err err = {0};

    const rw_opt opts[] = {
        {.long_name = "from", .kind = RW_OPT_POS, .dst = &from_s},
        {.long_name = "to", .kind = RW_OPT_POS, .dst = &to_s},
        {.long_name = "match", .kind = RW_OPT_LIST, .dst = &match, .what = "a GLOB"},
        {.long_name = "stack", .kind = RW_OPT_FLAG, .dst = &stack},
        {.long_name = "thread", .kind = RW_OPT_UINT, .dst = &thread,
         .what = "a thread number (1 is the main thread)", .min = 1, .max = UINT32_MAX},
        {.long_name = "json", .kind = RW_OPT_FLAG, .dst = &json},
    };
    static const char *const argnames[] = {"the trace FILE"};
    rw_cmdline cl = {.cmd = CMD, .usage_text = usage_text, .opts = opts,
                     .nopts = sizeof opts / sizeof opts[0], .args = &path, .maxargs = 1,
                     .argnames = argnames, .nrequired = 1};
    int go = rw_opts_parse(&cl, argc, argv);
    if (go != RW_OPTS_GO) {
        status = go;
        goto out;
    }
    if (json)
        rw_term_stdout_unfiltered(); /* escaped by json.h, byte for byte (term.h) */
    if (rw_cli_open_trace(CMD, path, &r, &err) != RW_OK) {
        status = rw_cli_fail(CMD, &err);
        goto out;
    }
    uint64_t from = 0, to = rw_reader_nevents(r);
    if ((from_s && (status = rw_opts_position(CMD, r, "--from", from_s, &from))) ||
        (to_s && (status = rw_opts_position(CMD, r, "--to", to_s, &to))) ||
        (status = rw_opts_window(CMD, from, to)))
        goto out;
    status = RW_EXIT_FAIL;
    if (thread >= rw_reader_defs(r)->nthreads) {
        fprintf(stderr, "rewind audit: no thread %llu in %s (it has %u)\n", thread, path,
                rw_reader_defs(r)->nthreads ? rw_reader_defs(r)->nthreads - 1 : 0);
        goto out;
    }
    rw_audit_opts o = {.from = from, .to = to, .match = match.v, .nmatch = match.n,
                       .thread = (uint32_t)thread};
    actx c = {.r = r, .stack = stack, .json = json};
    if (rw_audit_scan(r, &o, print_event, &c, &err) != RW_OK) {
        fflush(stdout);
        status = rw_cli_fail(CMD, &err);
        goto out;
    }
    status = fflush(stdout) == 0 ? RW_EXIT_OK : RW_EXIT_FAIL;
out:
    rw_opt_list_free(&match);
    rw_reader_free(r);
    return status;
}
