/* The subcommands' option parser (options.h): one pass over argv by a table of
 * rw_opt, getopt_long's spellings, one message format for every mistake, and the
 * helpers that give positions, windows and library errors their exit status. */
#include "options.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "position.h"

#define SEE_HELP "see 'rewind %s --help'"

void rw_opt_list_free(rw_opt_list *l)
{
    if (!l)
        return;
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static int vusage(const char *cmd, const char *fmt, va_list ap)
{
    char msg[768];
    vsnprintf(msg, sizeof msg, fmt, ap);
    fprintf(stderr, "rewind %s: %s: " SEE_HELP "\n", cmd, msg, cmd);
    return RW_EXIT_USAGE;
}

int rw_opts_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vusage(cmd, fmt, ap);
    va_end(ap);
    return rc;
}

int rw_opts_signal(const char *s)
{
    static const struct {
        const char *name;
        int sig;
    } names[] = {{"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"QUIT", SIGQUIT}, {"HUP", SIGHUP},
                 {"TERM", SIGTERM}, {"INT", SIGINT}, {"PWR", SIGPWR}, {"WINCH", SIGWINCH},
                 {"ALRM", SIGALRM}, {"TRAP", SIGTRAP}, {"URG", SIGURG}};
    if (!strcmp(s, "none"))
        return 0;
    if (!strncmp(s, "SIG", 3))
        s += 3;
    int sig = -1;
    char *end;
    long v = strtol(s, &end, 10);
    if (*s && !*end)
        sig = v > 0 && v < NSIG ? (int)v : -1;
    for (size_t i = 0; sig < 0 && i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(s, names[i].name))
            sig = names[i].sig;
    if (sig == SIGKILL || sig == SIGSTOP || sig == SIGSEGV || sig == SIGFPE || sig == SIGABRT ||
        sig == SIGBUS || sig == SIGILL)
        return -1;
    return sig;
}

/* What an option of this kind needs, for "OPT needs ...". */
static const char *default_what(rw_opt_kind k)
{
    switch (k) {
    case RW_OPT_POS: return "a position (N, @start, @end, @exception, 1.5s, FILE:LINE)";
    case RW_OPT_UINT: return "a number";
    case RW_OPT_SECONDS: return "a number of seconds";
    case RW_OPT_SIGNAL: return "a signal name or number (not a fatal one) or 'none'";
    case RW_OPT_NONEMPTY: return "a non-empty value";
    default: return "a value";
    }
}

static int takes_value(const rw_opt *o)
{
    return o->kind != RW_OPT_FLAG && o->kind != RW_OPT_CLEAR;
}

/* Strict unsigned decimal: no sign, no blanks, no overflow. */
static int parse_uint(const char *s, unsigned long long *out)
{
    if (!*s || *s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

/* Stores value for option o, named `name` as the user spelt it. Returns RW_OPTS_GO
 * or the exit status after the message. */
static int store(const rw_cmdline *cl, const rw_opt *o, const char *name, const char *value)
{
    const char *what = o->what ? o->what : default_what(o->kind);
    char why[256] = "";
    if (o->seen)
        *o->seen = 1;
    switch (o->kind) {
    case RW_OPT_FLAG:
        *(int *)o->dst = 1;
        return RW_OPTS_GO;
    case RW_OPT_CLEAR:
        *(int *)o->dst = 0;
        return RW_OPTS_GO;
    case RW_OPT_STR:
    case RW_OPT_POS:
        if (o->kind == RW_OPT_POS && !*value)
            break;
        *(const char **)o->dst = value;
        return RW_OPTS_GO;
    case RW_OPT_NONEMPTY:
        if (!*value)
            break;
        *(const char **)o->dst = value;
        return RW_OPTS_GO;
    case RW_OPT_UINT: {
        unsigned long long v;
        if (parse_uint(value, &v) < 0 || v < o->min || v > o->max)
            break;
        *(unsigned long long *)o->dst = v;
        return RW_OPTS_GO;
    }
    case RW_OPT_SECONDS: {
        char *end;
        errno = 0;
        double v = strtod(value, &end);
        if (errno || end == value || *end || !(v > 0) || v > (double)o->max)
            break;
        *(double *)o->dst = v;
        return RW_OPTS_GO;
    }
    case RW_OPT_SIGNAL: {
        int sig = rw_opts_signal(value);
        if (sig < 0)
            break;
        *(int *)o->dst = sig;
        return RW_OPTS_GO;
    }
    case RW_OPT_CHOICE:
        for (int i = 0; o->choices[i]; i++)
            if (!strcmp(value, o->choices[i])) {
                *(int *)o->dst = i;
                return RW_OPTS_GO;
            }
        break;
    case RW_OPT_LIST: {
        rw_opt_list *l = o->dst;
        const char **v = realloc(l->v, (l->n + 1) * sizeof *v);
        if (!v) {
            fprintf(stderr, "rewind %s: out of memory\n", cl->cmd);
            return RW_EXIT_FAIL;
        }
        l->v = v;
        l->v[l->n++] = value;
        return RW_OPTS_GO;
    }
    case RW_OPT_CALL: {
        int rc = o->call(o->dst, value, why, sizeof why);
        if (rc == 0)
            return RW_OPTS_GO;
        if (rc == -2) {
            fprintf(stderr, "rewind %s: out of memory\n", cl->cmd);
            return RW_EXIT_FAIL;
        }
        if (why[0])
            return rw_opts_usage(cl->cmd, "%s '%s': %s", name, value, why);
        break;
    }
    }
    return rw_opts_usage(cl->cmd, "%s needs %s, not '%s'", name, what, value);
}

/* The option whose long name is name (n bytes): an exact match, else the one long
 * name it is a unique prefix of. *help is set for --help (or a prefix of it only).
 * NULL with *ambiguous set when several names start with it. */
static const rw_opt *find_long(const rw_cmdline *cl, const char *name, size_t n, int *help,
                               int *ambiguous)
{
    const rw_opt *found = NULL;
    int nfound = 0;
    *help = *ambiguous = 0;
    if (n == 0)
        return NULL;
    for (size_t i = 0; i < cl->nopts; i++) {
        const char *l = cl->opts[i].long_name;
        if (!l || strncmp(l, name, n))
            continue;
        if (!l[n])
            return &cl->opts[i];
        found = &cl->opts[i];
        nfound++;
    }
    int help_prefix = n <= 4 && !strncmp("help", name, n);
    if (help_prefix && n == 4) {
        *help = 1;
        return NULL;
    }
    if (nfound + help_prefix > 1) {
        *ambiguous = 1;
        return NULL;
    }
    *help = help_prefix;
    return found;
}

static const rw_opt *find_short(const rw_cmdline *cl, char c)
{
    for (size_t i = 0; i < cl->nopts; i++)
        if (cl->opts[i].short_name == c)
            return &cl->opts[i];
    return NULL;
}

static int help(const rw_cmdline *cl)
{
    if (cl->usage)
        cl->usage(stdout);
    else if (cl->usage_text)
        fputs(cl->usage_text, stdout);
    return RW_EXIT_OK;
}

/* An argument (not an option): stored, or "unexpected". Sets *stop when the command
 * stops at its first argument. */
static int take_arg(rw_cmdline *cl, const char *a, int *stop)
{
    if (cl->nargs == cl->maxargs)
        return rw_opts_usage(cl->cmd, "unexpected argument '%s'", a);
    cl->args[cl->nargs++] = a;
    *stop = cl->stop_at_arg;
    return RW_OPTS_GO;
}

/* "--name[=value]" at argv[*i]. */
static int parse_long(rw_cmdline *cl, int argc, char **argv, int *i, int *stop)
{
    const char *a = argv[*i] + 2;
    const char *eq = strchr(a, '=');
    size_t n = eq ? (size_t)(eq - a) : strlen(a);
    char name[64];
    snprintf(name, sizeof name, "--%.*s", (int)(n < 60 ? n : 60), a);
    int is_help, ambiguous;
    const rw_opt *o = find_long(cl, a, n, &is_help, &ambiguous);
    if (ambiguous)
        return rw_opts_usage(cl->cmd, "ambiguous option %s", name);
    if (is_help && !o)
        return eq ? rw_opts_usage(cl->cmd, "--help takes no value") : help(cl);
    if (!o)
        return rw_opts_usage(cl->cmd, "unknown option %s", name);
    snprintf(name, sizeof name, "--%s", o->long_name);
    if (!takes_value(o)) {
        if (eq)
            return rw_opts_usage(cl->cmd, "%s takes no value", name);
        return store(cl, o, name, NULL);
    }
    const char *value;
    if (eq) {
        value = eq + 1;
    } else if (*i + 1 < argc) {
        value = argv[++*i];
    } else {
        return rw_opts_usage(cl->cmd, "%s needs %s", name,
                             o->what ? o->what : default_what(o->kind));
    }
    *stop = (o->flags & RW_OPT_STOP) != 0;
    return store(cl, o, name, value);
}

/* "-abc", "-oVALUE", "-o VALUE", "-o=VALUE" at argv[*i]. */
static int parse_short(rw_cmdline *cl, int argc, char **argv, int *i, int *stop)
{
    const char *a = argv[*i];
    for (size_t k = 1; a[k]; k++) {
        char name[3] = {'-', a[k], 0};
        if (a[k] == 'h')
            return help(cl);
        const rw_opt *o = find_short(cl, a[k]);
        if (!o)
            return rw_opts_usage(cl->cmd, "unknown option %s", k == 1 ? a : name);
        if (!takes_value(o)) {
            int rc = store(cl, o, name, NULL);
            if (rc != RW_OPTS_GO)
                return rc;
            continue;
        }
        const char *value = a + k + 1;
        if (*value) {
            if (*value == '=' && !(o->flags & RW_OPT_LITERAL))
                value++;
        } else if (*i + 1 < argc) {
            value = argv[++*i];
        } else {
            return rw_opts_usage(cl->cmd, "%s needs %s", name,
                                 o->what ? o->what : default_what(o->kind));
        }
        *stop = (o->flags & RW_OPT_STOP) != 0;
        return store(cl, o, name, value);
    }
    return RW_OPTS_GO;
}

int rw_opts_parse(rw_cmdline *cl, int argc, char **argv)
{
    cl->nargs = 0;
    int i = 1, stop = 0, rc = RW_OPTS_GO;
    for (; i < argc && !stop && rc == RW_OPTS_GO; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            /* Everything after is an argument (with stop_at_arg, only the first). */
            for (i++; i < argc && !stop && rc == RW_OPTS_GO; i++)
                rc = take_arg(cl, argv[i], &stop);
            break;
        }
        if (a[0] == '-' && a[1] == '-')
            rc = parse_long(cl, argc, argv, &i, &stop);
        else if (a[0] == '-' && a[1])
            rc = parse_short(cl, argc, argv, &i, &stop);
        else
            rc = take_arg(cl, a, &stop);
    }
    cl->next = i;
    if (rc != RW_OPTS_GO)
        return rc;
    if (cl->nargs < cl->nrequired && !stop)
        return rw_opts_usage(cl->cmd, "missing %s", cl->argnames[cl->nargs]);
    return RW_OPTS_GO;
}

int rw_opts_position_fail(const char *cmd, const char *opt, const char *spec, const rw_err *err)
{
    const char *msg = err->msg[0] ? err->msg : rw_code_name(err->code);
    if (err->code == RW_EINVAL)
        return rw_opts_usage(cmd, "%s %s: %s", opt, spec, msg);
    fprintf(stderr, "rewind %s: %s %s: %s\n", cmd, opt, spec, msg);
    return RW_EXIT_FAIL;
}

int rw_opts_position(const char *cmd, const rw_reader *r, const char *opt, const char *spec,
                     uint64_t *pos)
{
    rw_err e = {0};
    if (rw_pos_parse(r, spec, pos, &e) == RW_OK)
        return RW_EXIT_OK;
    return rw_opts_position_fail(cmd, opt, spec, &e);
}

int rw_opts_window(const char *cmd, uint64_t from, uint64_t to)
{
    if (from <= to)
        return RW_EXIT_OK;
    return rw_opts_usage(cmd, "--from %llu is after --to %llu", (unsigned long long)from,
                         (unsigned long long)to);
}

int rw_opts_fail(const char *cmd, const rw_err *err)
{
    if (err->code == RW_EINVAL)
        return rw_opts_usage(cmd, "%s", err->msg[0] ? err->msg : rw_code_name(err->code));
    return rw_cli_fail(cmd, err);
}
