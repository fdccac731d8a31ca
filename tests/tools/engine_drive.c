/* engine_drive: drives a re-execution engine through replayer/engine/client.h for the
 * end-to-end tests (tests/e2e/test_engine.py), one command a line on stdin:
 *   goto POS                 -> "stopped POS" | "error CODE: MESSAGE" (+ report lines)
 *   OP FRAME [TEXT]          -> "value RAISED LEN" then LEN bytes and a newline
 *                               | "error CODE: MESSAGE"
 * OP: p pp whatis exec args retval source truth ibegin iline iend; FRAME a number (0 the
 * newest, 1 its caller...) or "top". The engine is the rewind executable named by
 * REWIND_ENGINE_EXE. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

static const char *const ops[] = {"p",     "pp",    "whatis", "exec",   "args", "retval",
                                  "source", "truth", "ibegin", "iline", "iend"};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: engine_drive TRACE < commands\n");
        return 2;
    }
    rw_engine *e;
    rw_err err = {0};
    if (rw_engine_open(argv[1], &e, &err) != RW_OK) {
        printf("error %s: %s\n", rw_code_name(err.code), err.msg);
        return 1;
    }
    printf("open\n");
    fflush(stdout);
    char line[65536];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        char *sp = strchr(line, ' ');
        char *rest = sp ? sp + 1 : (char *)"";
        if (sp)
            *sp = '\0';
        if (!strcmp(line, "goto")) {
            rw_code rc = rw_engine_goto(e, strtoull(rest, NULL, 10), &err);
            if (rc == RW_OK)
                printf("stopped %llu\n", (unsigned long long)rw_engine_pos(e));
            else if (rc == RW_ECORRUPT)
                printf("error %s: %s\n", rw_code_name(rc),
                       strchr(rw_engine_report(e), '\n') ? "(report below)" : err.msg),
                    printf("report %zu\n%s\n", strlen(rw_engine_report(e)), rw_engine_report(e));
            else
                printf("error %s: %s\n", rw_code_name(rc), err.msg);
        } else {
            int op = -1;
            for (int i = 0; i < (int)(sizeof ops / sizeof ops[0]); i++)
                if (!strcmp(line, ops[i]))
                    op = i;
            if (op < 0) {
                printf("error usage: %s\n", line);
                fflush(stdout);
                continue;
            }
            char *sp2 = strchr(rest, ' ');
            const char *text = sp2 ? sp2 + 1 : "";
            if (sp2)
                *sp2 = '\0';
            uint32_t frame = !strcmp(rest, "top") ? UINT32_MAX : (uint32_t)strtoul(rest, NULL, 10);
            char *out = NULL;
            int raised = 0;
            rw_code rc = rw_engine_ask(e, (rw_engine_op)op, frame, text, &out, &raised, &err);
            if (rc == RW_OK)
                printf("value %d %zu\n%s\n", raised, strlen(out), out);
            else
                printf("error %s: %s\n", rw_code_name(rc), err.msg);
            free(out);
        }
        fflush(stdout);
    }
    rw_engine_close(e);
    return 0;
}
