/* The trace's Metadata (meta.h). */
#include "meta.h"

#include <Python.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "detalloc.h"
#include "pyhelp.h"
#include "pysetup.h"
#include "secrets.h"
#include "sysalloc.h"

extern char **environ;

static char *keep(rw_meta *mt, char *s)
{
    if (!s)
        return (char *)"";
    if (mt->nstrings == mt->capstrings) {
        size_t cap = mt->capstrings ? mt->capstrings * 2 : 64;
        char **p = rw_sys_realloc(mt->strings, cap * sizeof *p);
        if (!p) {
            rw_sys_free(s);
            return (char *)"";
        }
        mt->strings = p;
        mt->capstrings = cap;
    }
    mt->strings[mt->nstrings++] = s;
    return s;
}

static char *pystr(rw_meta *mt, PyObject *o)
{
    char buf[4096];
    rw_py_str(o, buf, sizeof buf);
    return keep(mt, rw_sys_strdup(buf));
}

static int redacted(const char *name, size_t len, const rw_record_opts *o)
{
    return rw_secrets_name_is_secret(name, len, o->keep_env, o->redact, o->nredact);
}

/* A copy of text with the run's secrets scrubbed (secrets.h), kept by mt. */
static char *scrubbed(rw_meta *mt, const char *text)
{
    size_t len = strlen(text), cap = len + 1 + 16 * (sizeof RW_SECRETS_MARK);
    char *buf = rw_sys_malloc(cap);
    if (!buf)
        return (char *)"";
    memcpy(buf, text, len + 1);
    rw_secrets_scrub(buf, len, cap);
    return keep(mt, buf);
}

int rw_meta_feature_off(const char *name)
{
    const char *list = getenv("REWIND_RECORD_WITHOUT");
    size_t n = strlen(name);
    for (const char *p = list; p && *p; p += strcspn(p, ",")) {
        p += *p == ',';
        if (!strncmp(p, name, n) && (p[n] == ',' || p[n] == '\0'))
            return 1;
    }
    return 0;
}

void rw_meta_build(rw_meta *mt, const rw_record_opts *o, int64_t unix0, uint64_t tick0,
                   uint64_t seed, double ns_per_tick)
{
    Rewind__Metadata *m = &mt->m;
    rewind__metadata__init(m);
    rewind__record_options__init(&mt->opts);
    m->tool_version = "rewind " REWIND_VERSION;
    m->python_build = (char *)rw_pysetup_build();
    m->tool_build = (char *)rw_pysetup_rewind_build();
    /* What this recorder captures that older ones did not (docs/format.md, "Features"):
     * the engine re-executes a trace without them as those recorders ran it. */
    static char *all[] = {"c-threads", "openssl-draws", "thread-boxes", "input-starts",
                          "thread-count", "shared-memory", "thread-teardown", "prctl",
                          "glib-clock", "syslog", "mntent", "startup-reuses",
                          "tracer-objects"};
    static char *features[sizeof all / sizeof *all];
    size_t nf = 0;
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (!rw_meta_feature_off(all[i]))
            features[nf++] = all[i];
    m->features = features;
    m->n_features = nf;
    /* --child-of HOW:PPID:PARENT_TRACE (follow.c) */
    static char how[16];
    const char *c1 = o->child_of ? strchr(o->child_of, ':') : NULL;
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2 && (size_t)(c1 - o->child_of) < sizeof how) {
        memcpy(how, o->child_of, (size_t)(c1 - o->child_of));
        how[c1 - o->child_of] = '\0';
        m->started_by = how;
        m->parent_pid = strtoll(c1 + 1, NULL, 10);
        m->parent_trace = (char *)(c2 + 1);
    }

    PyObject *sysargv = PySys_GetObject("argv"); /* borrowed */
    if (sysargv && PyList_Check(sysargv)) {
        size_t n = (size_t)PyList_GET_SIZE(sysargv);
        m->argv = rw_sys_calloc(n ? n : 1, sizeof *m->argv);
        if (m->argv) {
            for (size_t i = 0; i < n; i++)
                m->argv[i] = pystr(mt, PyList_GET_ITEM(sysargv, (Py_ssize_t)i));
            m->n_argv = n;
            /* --password VALUE, --token=VALUE, URL passwords, values of secret
             * variables: scrubbed (secrets.h). */
            for (size_t i = n; i-- > 0;) { /* last first: argv[i-1] is still the original */
                char buf[4096 + 16 * sizeof RW_SECRETS_MARK];
                rw_secrets_scrub_arg(m->argv, (int)i, buf, sizeof buf);
                m->argv[i] = keep(mt, rw_sys_strdup(buf));
            }
        }
    }
    char cwd[PATH_MAX];
    m->cwd = keep(mt, rw_sys_strdup(getcwd(cwd, sizeof cwd) ? cwd : ""));
    m->python_version = (char *)Py_GetVersion();
    PyObject *exe = PySys_GetObject("executable");
    if (exe)
        m->python_executable = pystr(mt, exe);
    struct utsname u;
    if (uname(&u) == 0) {
        char plat[600];
        snprintf(plat, sizeof plat, "%s %s %s", u.sysname, u.release, u.machine);
        m->platform = keep(mt, rw_sys_strdup(plat));
        m->hostname = keep(mt, rw_sys_strdup(u.nodename));
    }
    m->start_unix_ns = unix0;
    m->start_tick = tick0;
    m->ns_per_tick = ns_per_tick;
    m->hash_seed = seed;
    m->pid = getpid();

    size_t nenv = 0;
    while (environ[nenv])
        nenv++;
    mt->env = rw_sys_calloc(nenv ? nenv : 1, sizeof *mt->env);
    mt->envp = rw_sys_calloc(nenv ? nenv : 1, sizeof *mt->envp);
    if (mt->env && mt->envp) {
        for (size_t i = 0; i < nenv; i++) {
            const char *e = environ[i], *eq = strchr(e, '=');
            size_t nlen = eq ? (size_t)(eq - e) : strlen(e);
            Rewind__EnvVar *v = &mt->env[i];
            rewind__env_var__init(v);
            char *name = rw_sys_malloc(nlen + 1);
            if (name) {
                memcpy(name, e, nlen);
                name[nlen] = '\0';
            }
            v->name = keep(mt, name);
            v->redacted = redacted(e, nlen, o);
            v->value = v->redacted || !eq ? (char *)"" : scrubbed(mt, eq + 1);
            if (v->redacted && eq)
                v->value_len = (uint32_t)strlen(eq + 1);
            mt->envp[i] = v;
        }
        m->n_env = nenv;
        m->env = mt->envp;
    }

    mt->opts.lines = o->lines;
    mt->opts.allocations = o->allocations;
    mt->opts.c_calls = o->c_calls;
    mt->opts.line_times = o->line_times;
    m->options = &mt->opts;
    static const char *const kinds[] = {"script", "module", "command"};
    m->run_kind = (char *)kinds[o->kind];
    m->run_target = scrubbed(mt, o->target);
    if (o->npy_flags) {
        m->python_flags = rw_sys_calloc(o->npy_flags, sizeof *m->python_flags);
        if (m->python_flags) {
            for (size_t i = 0; i < o->npy_flags; i++)
                m->python_flags[i] = (char *)o->py_flags[i];
            m->n_python_flags = o->npy_flags;
        }
    }
    /* Addresses repeat in a re-execution only when both hold (detalloc.h). */
    m->aslr_off = rw_detalloc_aslr_off() && rw_detalloc_global() != NULL;
    m->chaos_seed = o->chaos_seed; /* 0 unless --chaos (chaos.h) */

    size_t np = 0;
    const char *pats[64];
    if (!o->keep_env)
        for (const char *const *p = rw_record_default_redact; *p && np < 64; p++)
            pats[np++] = *p;
    for (size_t i = 0; i < o->nredact && np < 64; i++)
        pats[np++] = o->redact[i];
    m->redact_patterns = rw_sys_calloc(np ? np : 1, sizeof *m->redact_patterns);
    if (m->redact_patterns) {
        for (size_t i = 0; i < np; i++)
            m->redact_patterns[i] = (char *)pats[i];
        m->n_redact_patterns = np;
    }
}

void rw_meta_free(rw_meta *mt)
{
    for (size_t i = 0; i < mt->nstrings; i++)
        rw_sys_free(mt->strings[i]);
    rw_sys_free(mt->strings);
    rw_sys_free(mt->m.argv);
    rw_sys_free(mt->m.redact_patterns);
    rw_sys_free(mt->m.python_flags);
    rw_sys_free(mt->env);
    rw_sys_free(mt->envp);
}

