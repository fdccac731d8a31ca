/* `rewind info --reveals` (reveals.h). */
#include "info_reveals.h"

#include <inttypes.h>
#include <string.h>

#include "commands.h"
#include "json.h"
#include "reveals.h"

enum { SHOW = 12, CAP = 10000 };

static void text_list(FILE *out, const char *label, const rw_reveal_list *l, const char *how)
{
    fprintf(out, "%-14s %zu%s", label, l->n, l->n < l->total && l->n == CAP ? "+" : "");
    if (how)
        fprintf(out, " %s", how);
    for (size_t i = 0; i < l->n && i < SHOW; i++)
        fprintf(out, "%s%s", i ? ", " : ": ", l->text[i]);
    if (l->n > SHOW)
        fprintf(out, ", ... (%zu more)", l->n - SHOW);
    fprintf(out, "\n");
}

static void json_list(FILE *out, const char *key, const rw_reveal_list *l, int last)
{
    fprintf(out, "\"%s\": [", key);
    for (size_t i = 0; i < l->n; i++) {
        fputs(i ? ", " : "", out);
        rw_json_str(out, l->text[i]);
    }
    fprintf(out, "]%s", last ? "" : ", ");
}

int rw_cli_print_reveals(FILE *out, const char *path, const rw_reader *r, int json)
{
    rw_reveals *v = NULL;
    rw_err err = {0};
    if (rw_reveals_collect(r, CAP, &v, &err) != RW_OK) {
        fprintf(stderr, "rewind info: %s: %s\n", path, err.msg);
        return 1;
    }
    const Rewind__Metadata *m = rw_reader_metadata(r);
    if (json) {
        fprintf(out, "{\"file\": ");
        rw_json_str(out, path);
        fprintf(out, ", \"hostname\": ");
        rw_json_str(out, m ? m->hostname : "");
        fprintf(out, ", \"cwd\": ");
        rw_json_str(out, m ? m->cwd : "");
        fprintf(out, ", \"argv\": [");
        for (size_t i = 0; m && i < m->n_argv; i++) {
            fputs(i ? ", " : "", out);
            rw_json_str(out, m->argv[i]);
        }
        fprintf(out, "], ");
        json_list(out, "users", &v->user, 0);
        json_list(out, "env_kept", &v->env_kept, 0);
        json_list(out, "env_redacted", &v->env_redacted, 0);
        json_list(out, "sources", &v->sources, 0);
        fprintf(out, "\"source_bytes\": %" PRIu64 ", ", v->source_bytes);
        json_list(out, "files_opened", &v->opened, 0);
        json_list(out, "peers", &v->peers, 0);
        json_list(out, "programs_run", &v->programs, 0);
        fprintf(out, "\"exception_messages\": %" PRIu64 ", \"tls_draws\": %" PRIu64 "}\n",
                v->exceptions, v->tls_draws);
    } else {
        fprintf(out, "what %s would disclose if you shared it:\n", path);
        fprintf(out, "%-14s %s\n", "host name", m && m->hostname[0] ? m->hostname : "-");
        text_list(out, "user names", &v->user, "(from USER, LOGNAME, HOME and paths)");
        fprintf(out, "%-14s %s\n", "working dir", m ? m->cwd : "-");
        if (m && m->run_target[0])
            fprintf(out, "%-14s %s %s\n", "program", m->run_kind, m->run_target);
        fprintf(out, "%-14s", "command line");
        for (size_t i = 0; m && i < m->n_argv; i++)
            fprintf(out, " %s", m->argv[i]);
        fprintf(out, "\n");
        text_list(out, "environment", &v->env_kept, "variables kept with their values");
        text_list(out, "redacted", &v->env_redacted,
                  "variables redacted by name (their values are scrubbed wherever they appear)");
        char how[64];
        snprintf(how, sizeof how, "files, %" PRIu64 " bytes of source embedded", v->source_bytes);
        text_list(out, "source files", &v->sources, how);
        text_list(out, "files opened", &v->opened, "paths (audit 'open')");
        text_list(out, "peers", &v->peers, "addresses contacted (audit socket.*, http.client)");
        text_list(out, "programs run", &v->programs, "(audit subprocess.Popen, os.system, os.exec)");
        fprintf(out, "%-14s %" PRIu64 " exception messages (scrubbed of known secrets)\n",
                "exceptions", v->exceptions);
        if (v->tls_draws)
            fprintf(out, "%-14s %" PRIu64 " draws of OpenSSL's random bytes: whoever has the "
                         "trace can decrypt the TLS traffic it holds\n",
                    "TLS keys", v->tls_draws);
    }
    rw_reveals_free(v);
    return 0;
}
