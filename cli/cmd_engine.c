/* rewind __engine TRACE --fd-in N --fd-out M [--no-sandbox]: the re-execution engine's process
 * (replayer/engine/inside/server.h), started by the debugger's client
 * (replayer/engine/client.h) and never by hand: not listed in rewind's help. */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "detalloc.h"
#include "sandbox.h"
#include "server.h"

int rw_cmd_engine(int argc, char **argv)
{
    /* First, as record does (cmd_record.c): no address-space randomisation (this may
     * re-execute rewind; argv[-1] is the process's argv[0]) and Python's memory at the
     * fixed address, so that the program's objects land where they did. */
    rw_detalloc_no_aslr_reexec(argv - 1);
    rw_err derr = {0};
    (void)rw_detalloc_install(&derr);

    const char *trace = NULL;
    long in = -1, out = -1, nckpt = -1, mib = -1;
    for (int i = 1; i < argc; i++) {
        char *end;
        if ((!strcmp(argv[i], "--checkpoints") || !strcmp(argv[i], "--checkpoint-memory")) &&
            i + 1 < argc) {
            long v = strtol(argv[i + 1], &end, 10);
            if (*end || end == argv[i + 1] || v < 0 || v > 1 << 24) {
                fprintf(stderr, "rewind __engine: bad number '%s' for %s\n", argv[i + 1],
                        argv[i]);
                return RW_EXIT_USAGE;
            }
            *(argv[i][12] == '-' ? &mib : &nckpt) = v;
            i++;
        } else if ((!strcmp(argv[i], "--fd-in") || !strcmp(argv[i], "--fd-out")) && i + 1 < argc) {
            long v = strtol(argv[i + 1], &end, 10);
            if (*end || v < 0 || v > 1 << 20) {
                fprintf(stderr, "rewind __engine: bad descriptor '%s'\n", argv[i + 1]);
                return RW_EXIT_USAGE;
            }
            *(argv[i][5] == 'i' ? &in : &out) = v;
            i++;
        } else if (!strcmp(argv[i], "--no-sandbox")) {
            /* Only from the user's command line (the client passes it on). */
            rw_sandbox_disable();
        } else if (!trace && argv[i][0] != '-') {
            trace = argv[i];
        } else {
            fprintf(stderr, "rewind __engine: the debugger's engine; not a command to run "
                            "by hand\n");
            return RW_EXIT_USAGE;
        }
    }
    if (!trace || in < 0 || out < 0) {
        fprintf(stderr, "usage: rewind __engine TRACE --fd-in N --fd-out M [--no-sandbox] (the "
                        "debugger starts it)\n");
        return RW_EXIT_USAGE;
    }
    if (nckpt >= 0 || mib >= 0)
        rw_engine_serve_checkpoints(nckpt >= 0 ? (unsigned)nckpt : RW_ENGINE_CHECKPOINTS,
                                  mib >= 0 ? (unsigned)mib : RW_ENGINE_CHECKPOINT_MIB);
    return rw_engine_serve(trace, (int)in, (int)out);
}
