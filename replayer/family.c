/* Finding a trace's children beside it (family.h). */
#include "family.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "dir/run.rwd" -> dir "dir", stem "run". */
static void split(const char *path, char *dir, size_t dcap, char *stem, size_t scap)
{
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(dir, dcap, "%.*s", (int)(slash - path ? slash - path : 1), path);
    else
        snprintf(dir, dcap, ".");
    snprintf(stem, scap, "%s", slash ? slash + 1 : path);
    size_t len = strlen(stem);
    if (len > 4 && !strcmp(stem + len - 4, ".rwd"))
        stem[len - 4] = '\0';
}

/* name is "<stem>.<digits>.rwd"? */
static int child_name(const char *name, const char *stem)
{
    size_t sl = strlen(stem), nl = strlen(name);
    if (nl <= sl + 5 || strncmp(name, stem, sl) || name[sl] != '.' ||
        strcmp(name + nl - 4, ".rwd"))
        return 0;
    for (size_t i = sl + 1; i < nl - 4; i++)
        if (name[i] < '0' || name[i] > '9')
            return 0;
    return 1;
}

static const char *base_of(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int by_pid(const void *a, const void *b)
{
    const rw_relative *x = a, *y = b;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

rw_code rw_family_children(const char *trace_path, const rw_reader *r, rw_relative **out,
                           size_t *n, rw_err *err)
{
    *out = NULL;
    *n = 0;
    const Rewind__Metadata *m = rw_reader_metadata(r);
    char dir[2048], stem[1024];
    split(trace_path, dir, sizeof dir, stem, sizeof stem);
    DIR *dp = opendir(dir);
    if (!dp)
        return RW_OK;
    rw_relative *v = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (!child_name(de->d_name, stem))
            continue;
        if (cnt == cap) {
            size_t nc = cap ? 2 * cap : 8;
            rw_relative *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                free(v);
                closedir(dp);
                return rw_err_set(err, RW_ENOMEM, "out of memory");
            }
            v = nv;
            cap = nc;
        }
        rw_relative *c = &v[cnt];
        memset(c, 0, sizeof *c);
        snprintf(c->path, sizeof c->path, "%s/%s", dir, de->d_name);
        c->pid = strtoll(de->d_name + strlen(stem) + 1, NULL, 10);
        rw_reader *cr = NULL;
        rw_err cerr = {0};
        if (rw_reader_open(c->path, &cr, &cerr) != RW_OK) {
            c->damaged = 1;
            cnt++;
            continue;
        }
        const Rewind__Metadata *cm = rw_reader_metadata(cr);
        /* Only a child of this very run: same parent pid and trace name. */
        int mine = cm && m && cm->parent_pid == m->pid && cm->parent_trace &&
                   !strcmp(base_of(cm->parent_trace), base_of(trace_path));
        if (mine) {
            snprintf(c->started_by, sizeof c->started_by, "%s", cm->started_by);
            const Rewind__RunEnd *e = rw_reader_end(cr);
            if (e) {
                c->ended = 1;
                c->exit_status = e->exit_status;
                c->term_signal = e->term_signal;
                snprintf(c->stop_reason, sizeof c->stop_reason, "%s", e->stop_reason);
            }
            c->damaged = rw_reader_recovery(cr)->used;
            cnt++;
        }
        rw_reader_free(cr);
    }
    closedir(dp);
    if (cnt)
        qsort(v, cnt, sizeof *v, by_pid);
    *out = v;
    *n = cnt;
    return RW_OK;
}

rw_code rw_family_child_path(const char *trace_path, const rw_reader *r, int64_t pid,
                             char *buf, size_t cap, rw_err *err)
{
    rw_relative *v;
    size_t n;
    RW_TRY(rw_family_children(trace_path, r, &v, &n, err));
    char list[512] = "";
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].pid == pid) {
            snprintf(buf, cap, "%s", v[i].path);
            free(v);
            return RW_OK;
        }
        if (at < sizeof list)
            at += (size_t)snprintf(list + at, sizeof list - at, "%s%lld", i ? ", " : "",
                                   (long long)v[i].pid);
    }
    free(v);
    if (!n)
        return rw_err_set(err, RW_ENOTFOUND, "%s: no child was recorded beside this trace",
                          trace_path);
    return rw_err_set(err, RW_ENOTFOUND, "%s: no child with pid %lld (children: %s)", trace_path,
                      (long long)pid, list);
}

rw_code rw_family_open_child(const char *trace_path, int64_t pid, char *buf, size_t cap,
                             rw_reader **out, rw_err *err)
{
    rw_reader *parent = NULL;
    RW_TRY(rw_reader_open(trace_path, &parent, err));
    rw_code rc = rw_family_child_path(trace_path, parent, pid, buf, cap, err);
    rw_reader_free(parent);
    RW_TRY(rc);
    return rw_reader_open(buf, out, err);
}
