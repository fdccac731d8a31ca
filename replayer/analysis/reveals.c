/* What a trace discloses (reveals.h): the metadata, the definitions, one pass over the
 * audit events and one over the inputs. */
#include "reveals.h"

#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "inputs.h"
#include "vocab.h"

static int list_add(rw_reveal_list *l, const char *s, size_t len, size_t cap)
{
    l->total++;
    for (size_t i = 0; i < l->n; i++)
        if (strlen(l->text[i]) == len && !memcmp(l->text[i], s, len)) {
            l->count[i]++;
            return 0;
        }
    if (l->n >= cap)
        return 0;
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 16;
        char **t = realloc(l->text, nc * sizeof *t);
        if (!t)
            return -1;
        l->text = t;
        uint64_t *c = realloc(l->count, nc * sizeof *c);
        if (!c)
            return -1;
        l->count = c;
        l->cap = nc;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, s, len);
    copy[len] = '\0';
    l->text[l->n] = copy;
    l->count[l->n++] = 1;
    return 0;
}

static void list_free(rw_reveal_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->text[i]);
    free(l->text);
    free(l->count);
}

void rw_reveals_free(rw_reveals *v)
{
    if (!v)
        return;
    list_free(&v->user);
    list_free(&v->env_kept);
    list_free(&v->env_redacted);
    list_free(&v->sources);
    list_free(&v->opened);
    list_free(&v->peers);
    list_free(&v->programs);
    free(v);
}

/* The first argument of an audit repr "('path', 'r', 524865)" -> 'path' (without the
 * tuple's parenthesis and the trailing arguments), or the whole repr. */
static void first_arg(const char *a, size_t n, const char **s, size_t *len)
{
    size_t i = 0;
    if (n && a[0] == '(')
        i = 1;
    size_t depth = 0, j = i;
    char q = 0;
    for (; j < n; j++) {
        char c = a[j];
        if (q) {
            if (c == '\\')
                j++;
            else if (c == q)
                q = 0;
        } else if (c == '\'' || c == '"') {
            q = c;
        } else if (c == '(' || c == '[' || c == '{') {
            depth++;
        } else if (c == ')' || c == ']' || c == '}') {
            if (!depth)
                break;
            depth--;
        } else if (c == ',' && !depth) {
            break;
        }
    }
    *s = a + i;
    *len = j - i;
}

typedef struct scan_ctx {
    rw_reveals *v;
    size_t cap;
    int oom;
} scan_ctx;

static int one_of(const char *name, const char *const *names)
{
    for (; *names; names++)
        if (!strcmp(name, *names))
            return 1;
    return 0;
}

static int on_audit(void *vctx, const rw_audit_event *ev)
{
    scan_ctx *c = vctx;
    static const char *const opens[] = {"open", "os.open", NULL};
    static const char *const peers[] = {"socket.connect", "socket.sendto", "socket.getaddrinfo",
                                        "socket.bind", "http.client.connect", "smtplib.connect",
                                        "ftplib.connect", "urllib.Request", NULL};
    static const char *const programs[] = {"subprocess.Popen", "os.system", "os.exec",
                                           "os.spawn", "os.posix_spawn", "os.startfile", NULL};
    const char *s;
    size_t len;
    rw_reveal_list *l = NULL;
    if (one_of(ev->name, opens))
        l = &c->v->opened;
    else if (one_of(ev->name, peers))
        l = &c->v->peers;
    else if (one_of(ev->name, programs))
        l = &c->v->programs;
    if (!l)
        return 0;
    if (l == &c->v->peers && (!strcmp(ev->name, "socket.connect") ||
                              !strcmp(ev->name, "socket.sendto") ||
                              !strcmp(ev->name, "socket.bind"))) {
        /* (socket, address[, ...]): the address */
        const char *rest;
        size_t rlen;
        first_arg(ev->args, ev->args_len, &rest, &rlen);
        size_t skip = (size_t)(rest - ev->args) + rlen;
        if (skip < ev->args_len && ev->args[skip] == ',') {
            skip++;
            while (skip < ev->args_len && ev->args[skip] == ' ')
                skip++;
            char tmp[1024];
            size_t n = ev->args_len - skip < sizeof tmp - 2 ? ev->args_len - skip : sizeof tmp - 2;
            tmp[0] = '(';
            memcpy(tmp + 1, ev->args + skip, n);
            first_arg(tmp, n + 1, &s, &len);
            if (list_add(l, s, len, c->cap) != 0)
                c->oom = 1;
            return c->oom;
        }
    }
    if (l == &c->v->programs && !strcmp(ev->name, "subprocess.Popen")) {
        /* (executable, args, cwd, env): the args show the command */
        const char *rest;
        size_t rlen;
        first_arg(ev->args, ev->args_len, &rest, &rlen);
        size_t skip = (size_t)(rest - ev->args) + rlen;
        if (skip + 2 < ev->args_len) {
            char tmp[2048];
            size_t n = ev->args_len - skip - 2 < sizeof tmp - 2 ? ev->args_len - skip - 2
                                                                : sizeof tmp - 2;
            tmp[0] = '(';
            memcpy(tmp + 1, ev->args + skip + 2, n);
            first_arg(tmp, n + 1, &s, &len);
            if (list_add(l, s, len, c->cap) != 0)
                c->oom = 1;
            return c->oom;
        }
    }
    first_arg(ev->args, ev->args_len, &s, &len);
    if (list_add(l, s, len, c->cap) != 0)
        c->oom = 1;
    return c->oom;
}

/* "/home/alice/x" -> "alice". */
static void user_from_path(rw_reveal_list *l, const char *p, size_t cap, int *oom)
{
    static const char *const homes[] = {"/home/", "/Users/", NULL};
    for (const char *const *h = homes; *h; h++) {
        size_t hl = strlen(*h);
        if (!strncmp(p, *h, hl) && p[hl]) {
            const char *end = strchr(p + hl, '/');
            size_t len = end ? (size_t)(end - p - hl) : strlen(p + hl);
            if (len && list_add(l, p + hl, len, cap) != 0)
                *oom = 1;
        }
    }
}

/* OpenSSL's draws of random bytes logged in r's inputs (as far as they can be read). */
static uint64_t tls_draws(const rw_reader *r)
{
    rw_inputs_iter *it = NULL;
    rw_err e = {0};
    if (rw_inputs_iter_open(r, &it, &e) != RW_OK)
        return 0;
    uint64_t n = 0;
    rw_input in;
    while (rw_inputs_iter_next(it, &in, &e) > 0)
        n += in.call == RW_CALL_RAND_BYTES && in.result == 1;
    rw_inputs_iter_free(it);
    return n;
}

rw_code rw_reveals_collect(const rw_reader *r, size_t cap, rw_reveals **out, rw_err *err)
{
    rw_reveals *v = calloc(1, sizeof *v);
    if (!v)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    int oom = 0;
    const Rewind__Metadata *m = rw_reader_metadata(r);
    if (m) {
        for (size_t i = 0; i < m->n_env && !oom; i++) {
            const Rewind__EnvVar *e = m->env[i];
            rw_reveal_list *l = e->redacted ? &v->env_redacted : &v->env_kept;
            oom = list_add(l, e->name, strlen(e->name), cap) != 0;
            if (!e->redacted && (!strcmp(e->name, "USER") || !strcmp(e->name, "LOGNAME")) &&
                e->value[0])
                oom |= list_add(&v->user, e->value, strlen(e->value), cap) != 0;
            if (!e->redacted && !strcmp(e->name, "HOME"))
                user_from_path(&v->user, e->value, cap, &oom);
        }
        user_from_path(&v->user, m->cwd, cap, &oom);
    }
    const rw_defs *d = rw_reader_defs(r);
    for (uint32_t id = 1; id < d->nfiles && !oom; id++) {
        const Rewind__FileDef *f = rw_defs_file(d, id);
        if (f && f->has_source && f->source.len) {
            oom = list_add(&v->sources, f->path, strlen(f->path), cap) != 0;
            v->source_bytes += f->source.len;
            user_from_path(&v->user, f->path, cap, &oom);
        }
    }
    if (oom) {
        rw_reveals_free(v);
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    }
    rw_audit_opts ao;
    memset(&ao, 0, sizeof ao);
    ao.to = rw_reader_nevents(r);
    scan_ctx c = {v, cap, 0};
    rw_code rc = rw_audit_scan(r, &ao, on_audit, &c, err);
    if (rc == RW_OK && c.oom)
        rc = rw_err_set(err, RW_ENOMEM, "out of memory");
    if (rc != RW_OK) {
        rw_reveals_free(v);
        return rc;
    }
    const Rewind__RunEnd *end = rw_reader_end(r);
    if (end && end->n_kind_counts > RW_K_EXCEPTION)
        v->exceptions = end->kind_counts[RW_K_EXCEPTION];
    v->tls_draws = tls_draws(r);
    *out = v;
    return RW_OK;
}
