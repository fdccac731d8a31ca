/* Debugger (debugger.h): pdb's commands over the log-only timeline.
 *
 * Forward commands replay bdb's decisions on the recorded events: step, next,
 * return, until and continue set bdb's (stopframe, returnframe, stoplineno) and a
 * forward search stops at the first event where bdb's stop_here / break_here /
 * return and exception rules would have stopped. Reverse commands search backwards
 * for the mirror condition. Frames are named by the position of the CALL that opened
 * them; a generator's frame, which lives across resumptions, by its code and the
 * Python frame that resumes it (the log does not name generator objects).
 */
#include "debugger.h"

#include <assert.h>
#include <ctype.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dbg_help.h"
#include "position.h"
#include "timeline.h"

#define CO_GENERATOR_ANY (0x20 | 0x80 | 0x200) /* CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR */
#define VALUES_MSG "values need a re-execution replay, which this build does not have yet"
#define NOPOS UINT64_MAX

typedef struct pframe {   /* one Python frame of the viewed stack */
    uint32_t code;
    uint32_t line;
    uint64_t call_pos;
} pframe;

typedef struct bp {
    int number;
    uint32_t file;        /* FileDef id */
    uint32_t line;
    int temporary;
    char *cond;
    char *funcname;
    int enabled;
    long long ignore;
    long long hits;
} bp;

typedef struct srcfile {
    int loaded;
    size_t n;             /* lines */
    size_t *off;          /* n + 1 offsets into the source */
} srcfile;

typedef struct alias {
    char *name;
    char *text;
} alias;

/* A breakpoint's command list (pdb's commands, commands_silent and commands_doprompt
 * for one number). doprompt is 0 when the last line resumes (continue, step, ...):
 * such a line can only be the last, since it ends the list being read. */
typedef struct cmdlist {
    int defined;          /* "commands N" ran for this number */
    int silent;
    int doprompt;
    char **lines;         /* as stored by pdb: "name arg", aliases already expanded */
    size_t n;
} cmdlist;

struct rw_dbg {
    const rw_reader *r;
    const rw_defs *defs;
    rw_timeline *tl;
    FILE *out;
    rw_dbg_input input;
    void *input_ctx;
    rw_code last_err;

    char **canon;          /* canonical path by FileDef id */
    srcfile *src;
    uint32_t *file_bps;    /* breakpoints per FileDef id */

    /* The main program: its frame's CALL and RETURN, its thread. */
    uint32_t main_thread;
    uint32_t main_file;
    uint64_t main_call, main_ret;
    uint64_t start_pos;

    /* Where we are. */
    uint64_t pos;
    rw_event ev;
    char *evtext;
    rw_stack raw;
    pframe *stack;
    uint32_t nstack, capstack;
    uint32_t curindex;
    long long lineno;      /* list continuation; 0 = none */
    uint32_t thread;       /* viewed thread */
    int postmortem;
    int at_end;            /* forward commands ran off the end of the program */

    bp **bps;              /* by number; [0] unused; NULL = deleted */
    int nbps;              /* numbers 1..nbps-1 were given */
    uint64_t *pairs;       /* where they can stop, for the line filter (bp_pairs) */
    size_t npairs, cappairs;
    int plain;             /* rw_dbg_set_plain_search */

    alias *aliases;
    size_t naliases;

    char *lastcmd;
    char **queue;
    size_t nqueue;
    unsigned queued_runs; /* queued commands run since the queue was last empty */
    int done;

    /* Breakpoint command lists, by breakpoint number (lists[n] for n < nlists). A
     * list goes with its breakpoint when cleared; a temporary breakpoint's list runs
     * after the breakpoint was deleted at the stop, then goes. */
    cmdlist *lists;
    int nlists;
    int defining;         /* lines are list lines (pdb's commands_defining) */
    int def_bnum;         /* ... of this number; 0 for "commands -K": pdb files that
                           * list under -K, where it never runs (def_void) */
    cmdlist def_void;
    int currentbp;        /* bdb's currentbp: the last breakpoint that stopped a
                           * search, until its list runs (0: none) */
    int in_list;          /* running a list (until only checks its argument) */
    int list_dir;         /* lists that resumed since the last prompt: the last */
    unsigned list_turns;  /* direction (+1 / -1) and how often it reversed */
};

/* ---- output ------------------------------------------------------------------ */

static void msg(rw_dbg *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void msg(rw_dbg *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(d->out, fmt, ap);
    va_end(ap);
    fputc('\n', d->out);
}

static void error(rw_dbg *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void error(rw_dbg *d, const char *fmt, ...)
{
    va_list ap;
    fputs("*** ", d->out);
    va_start(ap, fmt);
    vfprintf(d->out, fmt, ap);
    va_end(ap);
    fputc('\n', d->out);
}

/* Prints an error; a damaged or unreadable trace (not a bad command) also makes
 * the session end with a failure status. */
static void fail(rw_dbg *d, const rw_err *e)
{
    if (e->code != RW_EINVAL && e->code != RW_ENOTFOUND)
        d->last_err = e->code;
    error(d, "%s", e->msg);
}

/* Python's repr() of a str, for messages that quote the user's input. */
static void py_repr(const char *s, char *buf, size_t cap)
{
    char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
    size_t n = 0;
    if (cap < 4) {
        buf[0] = '\0';
        return;
    }
    buf[n++] = q;
    for (; *s && n + 6 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == (unsigned char)q || c == '\\')
            n += (size_t)snprintf(buf + n, cap - n, "\\%c", c);
        else if (c == '\t')
            n += (size_t)snprintf(buf + n, cap - n, "\\t");
        else if (c < 0x20 || c == 0x7f)
            n += (size_t)snprintf(buf + n, cap - n, "\\x%02x", c);
        else
            buf[n++] = (char)c;
    }
    buf[n++] = q;
    buf[n] = '\0';
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static const char *strip(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* ---- the parser --------------------------------------------------------------- */

static int identchar(int c)
{
    return isalnum(c) || c == '_';
}

rw_dbg_linekind rw_dbg_parseline(const char *line, char *name, size_t namecap, char *argbuf,
                                 size_t argcap)
{
    const char *s = line, *e;
    name[0] = '\0';
    argbuf[0] = '\0';
    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    if (e == s)
        return RW_DBG_EMPTY;
    const char *argstart;
    if (*s == '?') {
        snprintf(name, namecap, "help");
        argstart = s + 1;
    } else if (*s == '!') {
        argstart = s + 1;
        size_t n = (size_t)(e - argstart);
        if (n >= argcap)
            n = argcap - 1;
        memcpy(argbuf, argstart, n);
        argbuf[n] = '\0';
        return RW_DBG_STATEMENT;
    } else {
        const char *p = s;
        while (p < e && identchar((unsigned char)*p))
            p++;
        if (p == s) {
            size_t n = (size_t)(e - s);
            if (n >= argcap)
                n = argcap - 1;
            memcpy(argbuf, s, n);
            argbuf[n] = '\0';
            return RW_DBG_STATEMENT;
        }
        size_t n = (size_t)(p - s);
        if (n >= namecap)
            n = namecap - 1;
        memcpy(name, s, n);
        name[n] = '\0';
        argstart = p;
    }
    while (argstart < e && isspace((unsigned char)*argstart))
        argstart++;
    size_t n = (size_t)(e - argstart);
    if (n >= argcap)
        n = argcap - 1;
    memcpy(argbuf, argstart, n);
    argbuf[n] = '\0';
    return RW_DBG_COMMAND;
}

int rw_dbg_parse_int(const char *s, long long *out)
{
    while (isspace((unsigned char)*s))
        s++;
    int neg = 0;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    if (!isdigit((unsigned char)*s))
        return -1;
    unsigned long long v = 0;
    int prev_digit = 0;
    for (; *s && !isspace((unsigned char)*s); s++) {
        if (*s == '_') {
            if (!prev_digit || !isdigit((unsigned char)s[1]))
                return -1;
            prev_digit = 0;
            continue;
        }
        if (!isdigit((unsigned char)*s))
            return -1;
        if (v > (unsigned long long)INT64_MAX / 10)
            return -1;
        v = v * 10 + (unsigned)(*s - '0');
        if (v > (unsigned long long)INT64_MAX)
            return -1;
        prev_digit = 1;
    }
    while (isspace((unsigned char)*s))
        s++;
    if (*s)
        return -1;
    *out = neg ? -(long long)v : (long long)v;
    return 0;
}

/* A growable string. */
typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

#define EXPAND_MAX (64u << 10)

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > EXPAND_MAX) {
        b->oom = 1;
        return;
    }
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

/* Splits s on whitespace into at most max words (pointers into a copy). */
static size_t split_words(char *copy, char **w, size_t max)
{
    size_t n = 0;
    char *p = copy;
    while (*p && n < max) {
        while (isspace((unsigned char)*p))
            *p++ = '\0';
        if (!*p)
            break;
        w[n++] = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
    }
    return n;
}

/* Replaces every occurrence of pat in s by rep (Python's str.replace). */
static char *replace_all(const char *s, const char *pat, const char *rep)
{
    sbuf b = {0};
    size_t pl = strlen(pat), rl = strlen(rep);
    const char *p;
    while ((p = strstr(s, pat))) {
        sb_add(&b, s, (size_t)(p - s));
        sb_add(&b, rep, rl);
        s = p + pl;
    }
    sb_add(&b, s, strlen(s));
    if (b.oom || !b.p) {
        free(b.p);
        return b.oom ? NULL : xstrdup("");
    }
    return b.p;
}

static const char *alias_of(const char *word, const char *const *names,
                            const char *const *texts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(names[i], word))
            return texts[i];
    return NULL;
}

#define MAX_WORDS 256

char *rw_dbg_expand(const char *line, const char *const *names, const char *const *texts,
                    size_t n, char **rest)
{
    *rest = NULL;
    char *cur = xstrdup(line);
    if (!cur)
        return NULL;
    int rounds = 0;
    for (;;) {
        char *copy = xstrdup(cur);
        if (!copy) {
            free(cur);
            return NULL;
        }
        char *w[MAX_WORDS];
        size_t nw = split_words(copy, w, MAX_WORDS);
        const char *a = nw ? alias_of(w[0], names, texts, n) : NULL;
        if (!a) {
            int is_alias_cmd = nw && !strcmp(w[0], "alias");
            free(copy);
            if (!nw)
                return cur;
            if (!is_alias_cmd) {
                char *m = strstr(cur, ";;");
                if (m) {
                    const char *nx = m + 2;
                    while (isspace((unsigned char)*nx))
                        nx++;
                    *rest = xstrdup(nx);
                    if (!*rest) {
                        free(cur);
                        return NULL;
                    }
                    *m = '\0';
                    size_t l = strlen(cur);
                    while (l && isspace((unsigned char)cur[l - 1]))
                        cur[--l] = '\0';
                }
            }
            return cur;
        }
        if (++rounds > 100) {   /* pdb would loop for ever on a self-naming alias */
            free(copy);
            free(cur);
            return NULL;
        }
        char *next = xstrdup(a);
        for (size_t i = 1; next && i < nw; i++) {
            char pat[32];
            snprintf(pat, sizeof pat, "%%%zu", i);
            char *t = replace_all(next, pat, w[i]);
            free(next);
            next = t;
        }
        if (next) {
            sbuf all = {0};
            for (size_t i = 1; i < nw; i++) {
                if (i > 1)
                    sb_add(&all, " ", 1);
                sb_add(&all, w[i], strlen(w[i]));
            }
            char *t = all.oom ? NULL : replace_all(next, "%*", all.p ? all.p : "");
            free(all.p);
            free(next);
            next = t;
        }
        free(copy);
        free(cur);
        if (!next)
            return NULL;
        cur = next;
        if (strlen(cur) >= EXPAND_MAX) {
            free(cur);
            return NULL;
        }
    }
}

/* ---- definitions: files, sources, codes ---------------------------------------- */

static const Rewind__CodeDef *code_def(const rw_dbg *d, uint32_t id)
{
    return id && id < d->defs->ncodes ? d->defs->codes[id] : NULL;
}

static uint32_t code_file(const rw_dbg *d, uint32_t id)
{
    const Rewind__CodeDef *c = code_def(d, id);
    return c && c->file < d->defs->nfiles ? c->file : 0;
}

static const char *code_name(const rw_dbg *d, uint32_t id)
{
    const Rewind__CodeDef *c = code_def(d, id);
    return c && c->name && *c->name ? c->name : "<lambda>";
}

static int code_is_gen(const rw_dbg *d, uint32_t id)
{
    const Rewind__CodeDef *c = code_def(d, id);
    return c && (c->flags & CO_GENERATOR_ANY);
}

static const char *file_path(const rw_dbg *d, uint32_t f)
{
    return f && f < d->defs->nfiles && d->canon[f] ? d->canon[f] : "?";
}

/* pdb's canonic(): <...> names unchanged, others made absolute (against the
 * recording's working directory) and normalised. New string. */
static char *canonic(const char *path, const char *cwd)
{
    size_t n = strlen(path);
    if (n >= 2 && path[0] == '<' && path[n - 1] == '>')
        return xstrdup(path);
    sbuf b = {0};
    if (path[0] != '/' && cwd && *cwd) {
        sb_add(&b, cwd, strlen(cwd));
        sb_add(&b, "/", 1);
    }
    sb_add(&b, path, n);
    if (b.oom || !b.p)
        return NULL;
    /* normpath: collapse //, /./ and /x/../ */
    char *out = malloc(b.n + 2);
    if (!out) {
        free(b.p);
        return NULL;
    }
    size_t o = 0;
    const char *p = b.p;
    int abs = *p == '/';
    if (abs)
        out[o++] = '/';
    while (*p) {
        while (*p == '/')
            p++;
        const char *s = p;
        while (*p && *p != '/')
            p++;
        size_t l = (size_t)(p - s);
        if (!l || (l == 1 && s[0] == '.'))
            continue;
        if (l == 2 && s[0] == '.' && s[1] == '.') {
            size_t base = abs ? 1 : 0;
            if (o > base) {
                while (o > base && out[o - 1] != '/')
                    o--;
                if (o > base)
                    o--;
                continue;
            }
            if (abs)
                continue;
        }
        if (o > (size_t)abs)
            out[o++] = '/';
        memcpy(out + o, s, l);
        o += l;
    }
    if (!o)
        out[o++] = '.';
    out[o] = '\0';
    free(b.p);
    return out;
}

static srcfile *source_of(rw_dbg *d, uint32_t f)
{
    if (!f || f >= d->defs->nfiles || !d->defs->files[f])
        return NULL;
    srcfile *s = &d->src[f];
    if (s->loaded)
        return s->n ? s : NULL;
    s->loaded = 1;
    const Rewind__FileDef *fd = d->defs->files[f];
    if (!fd->has_source && !fd->source.len)
        return NULL;
    const char *t = (const char *)fd->source.data;
    size_t len = fd->source.len, n = 0;
    for (size_t i = 0; i < len; i++)
        if (t[i] == '\n')
            n++;
    if (len && t[len - 1] != '\n')
        n++;
    s->off = malloc((n + 1) * sizeof *s->off);
    if (!s->off)
        return NULL;
    size_t k = 0;
    s->off[k++] = 0;
    for (size_t i = 0; i < len && k <= n; i++)
        if (t[i] == '\n')
            s->off[k++] = i + 1;
    if (k <= n)
        s->off[k] = len;
    s->off[n] = len;
    s->n = n;
    return n ? s : NULL;
}

/* Line `line` (1-based) of file f without its newline, in buf; 0 when none
 * (linecache.getline's ''). */
static int get_line(rw_dbg *d, uint32_t f, long long line, char *buf, size_t cap)
{
    srcfile *s = source_of(d, f);
    if (!s || line < 1 || (size_t)line > s->n)
        return 0;
    const char *t = (const char *)d->defs->files[f]->source.data;
    size_t a = s->off[line - 1], b = s->off[line];
    while (b > a && (t[b - 1] == '\n' || t[b - 1] == '\r'))
        b--;
    size_t n = b - a;
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, t + a, n);
    buf[n] = '\0';
    return 1;
}

static size_t nlines(rw_dbg *d, uint32_t f)
{
    srcfile *s = source_of(d, f);
    return s ? s->n : 0;
}

/* ---- breakpoints ---------------------------------------------------------------- */

static void bp_str(const bp *b, const rw_dbg *d, char *buf, size_t cap)
{
    snprintf(buf, cap, "breakpoint %d at %s:%u", b->number, file_path(d, b->file), b->line);
}

static void bp_delete(rw_dbg *d, bp *b)
{
    d->file_bps[b->file]--;
    d->bps[b->number] = NULL;
    free(b->cond);
    free(b->funcname);
    free(b);
}

/* Empties a command list and forgets that it was defined. */
static void cmdlist_clear(cmdlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->lines[i]);
    free(l->lines);
    memset(l, 0, sizeof *l);
}

/* The command list of breakpoint number n; NULL when none was defined. */
static cmdlist *bp_list(rw_dbg *d, int n)
{
    return n > 0 && n < d->nlists && d->lists[n].defined ? &d->lists[n] : NULL;
}

/* The line a function breakpoint stops at: the function's first line after its
 * def line (CodeDef.lines when recorded); 0 when unknown (then the first line event
 * of each call). */
static uint32_t first_body_line(const Rewind__CodeDef *c)
{
    uint32_t best = 0;
    for (size_t i = 0; i < c->n_lines; i++)
        if (c->lines[i] > c->first_line && (!best || c->lines[i] < best))
            best = c->lines[i];
    return best;
}

/* bdb's checkfuncname for the LINE event ev in frame fr. */
static int bp_checkfunc(rw_dbg *d, const bp *b, const rw_event *ev, const rw_frame *fr)
{
    if (!b->funcname)
        return b->line == ev->line;
    const Rewind__CodeDef *c = code_def(d, ev->code);
    if (!c || strcmp(c->name, b->funcname))
        return 0;
    uint32_t first = first_body_line(c);
    if (first)
        return ev->line == first;
    /* Unknown line starts: the first line event of the call. */
    return fr && fr->call_pos + 1 == ev->pos;
}

/* Does an enabled breakpoint match LINE event ev? Forward (count != 0): bdb's
 * effective(): counts hits, consumes ignore counts, reports a temporary one to
 * delete in *del, and makes the one that stops currentbp (break_here). Backward
 * (count == 0): a pure test. Returns the breakpoint. */
static bp *bp_effective(rw_dbg *d, const rw_event *ev, const rw_frame *fr, int count, int *del)
{
    uint32_t f = code_file(d, ev->code);
    if (!f || !d->file_bps[f])
        return NULL;
    uint32_t line = ev->line;
    int any = 0;
    for (int i = 1; i < d->nbps; i++) {
        bp *b = d->bps[i];
        if (b && b->file == f && b->line == line)
            any = 1;
    }
    if (!any) {
        const Rewind__CodeDef *c = code_def(d, ev->code);
        line = c ? c->first_line : 0;
        for (int i = 1; i < d->nbps; i++) {
            bp *b = d->bps[i];
            if (b && b->file == f && b->line == line)
                any = 1;
        }
        if (!any)
            return NULL;
    }
    for (int i = 1; i < d->nbps; i++) {
        bp *b = d->bps[i];
        if (!b || b->file != f || b->line != line || !b->enabled)
            continue;
        if (!bp_checkfunc(d, b, ev, fr))
            continue;
        if (!count)
            return b;
        b->hits++;
        if (b->cond) {
            /* The condition cannot be evaluated from the log: bdb stops, and does
             * not delete a temporary breakpoint. */
            *del = 0;
            d->currentbp = b->number;
            return b;
        }
        if (b->ignore > 0) {
            b->ignore--;
            continue;
        }
        *del = 1;
        d->currentbp = b->number; /* bdb's break_here; its list runs at the stop */
        return b;
    }
    return NULL;
}

/* ---- positions and stacks -------------------------------------------------------- */

/* The Python frame an event belongs to, in st (the stack after the record, as
 * searches see it): its index, or -1. For RETURN, fr gets the popped frame. */
static const rw_frame *event_frame(const rw_event *ev, const rw_stack *st, rw_frame *tmp)
{
    switch (ev->kind) {
    case RW_K_CALL:
    case RW_K_LINE:
    case RW_K_EXCEPTION:
        for (uint32_t i = st->depth; i > 0; i--)
            if (!st->frames[i - 1].is_c)
                return &st->frames[i - 1];
        return NULL;
    case RW_K_RETURN:
        tmp->code = ev->code;
        tmp->line = ev->line;
        tmp->call_pos = ev->call_pos;
        tmp->call_tick = ev->call_tick;
        tmp->is_c = 0;
        return tmp;
    default:
        return NULL;
    }
}

/* The Python caller of the frame at index i of st (the frame below it), or NULL. */
static const rw_frame *caller_of(const rw_stack *st, uint32_t i)
{
    while (i > 0) {
        i--;
        if (!st->frames[i].is_c)
            return &st->frames[i];
    }
    return NULL;
}

/* Index of fr in st (fr points into st->frames), or st->depth for a popped frame. */
static uint32_t index_in(const rw_stack *st, const rw_frame *fr)
{
    if (fr >= st->frames && fr < st->frames + st->depth)
        return (uint32_t)(fr - st->frames);
    return st->depth;
}

static int in_window(const rw_dbg *d, const rw_event *ev)
{
    if (ev->thread != d->main_thread)
        return 1;
    return ev->pos >= d->main_call && ev->pos <= d->main_ret;
}

static int is_py_event(int kind)
{
    return kind == RW_K_CALL || kind == RW_K_LINE || kind == RW_K_RETURN ||
           kind == RW_K_EXCEPTION;
}

static rw_code load_pos(rw_dbg *d, uint64_t pos, rw_err *err)
{
    RW_TRY(rw_timeline_at(d->tl, pos, &d->ev, &d->raw, err));
    if (d->ev.text) {
        char *t = malloc(d->ev.text_len + 1);
        if (!t)
            return rw_err_set(err, RW_ENOMEM, "out of memory");
        memcpy(t, d->ev.text, d->ev.text_len);
        t[d->ev.text_len] = '\0';
        free(d->evtext);
        d->evtext = t;
        d->ev.text = t;
    }
    d->pos = pos;
    d->thread = d->ev.thread;
    d->postmortem = 0;
    d->at_end = 0;
    d->lineno = 0;
    /* The Python frames, from the main program's frame up in the main thread. */
    uint32_t first = 0;
    if (d->ev.thread == d->main_thread)
        for (uint32_t i = 0; i < d->raw.depth; i++)
            if (d->raw.frames[i].call_pos == d->main_call && !d->raw.frames[i].is_c) {
                first = i;
                break;
            }
    d->nstack = 0;
    for (uint32_t i = first; i < d->raw.depth; i++) {
        if (d->raw.frames[i].is_c)
            continue;
        if (d->nstack == d->capstack) {
            uint32_t cap = d->capstack ? d->capstack * 2 : 32;
            pframe *p = realloc(d->stack, cap * sizeof *p);
            if (!p)
                return rw_err_set(err, RW_ENOMEM, "out of memory");
            d->stack = p;
            d->capstack = cap;
        }
        pframe *p = &d->stack[d->nstack++];
        p->code = d->raw.frames[i].code;
        p->line = d->raw.frames[i].line;
        p->call_pos = d->raw.frames[i].call_pos;
    }
    /* The CALL of a frame shows its def line, as f_lineno does at a call event. */
    if (d->ev.kind == RW_K_CALL && d->nstack && d->ev.line)
        d->stack[d->nstack - 1].line = d->ev.line;
    d->curindex = d->nstack ? d->nstack - 1 : 0;
    return RW_OK;
}

/* The frame of the current stop the way format_stack_entry prints it. */
static void print_entry(rw_dbg *d, uint32_t i, const char *prefix)
{
    const pframe *f = &d->stack[i];
    uint32_t file = code_file(d, f->code);
    char line[4096];
    fprintf(d->out, "%s%s(%u)%s()", i == d->curindex ? "> " : prefix, file_path(d, file),
            f->line, code_name(d, f->code));
    if (get_line(d, file, f->line, line, sizeof line))
        fprintf(d->out, "\n-> %s", strip(line));
    fputc('\n', d->out);
}

void rw_dbg_print_stop(rw_dbg *d)
{
    if (!d->nstack) {
        msg(d, "> (no Python frame in thread %u at event %llu)", d->thread,
            (unsigned long long)d->pos);
        return;
    }
    print_entry(d, d->curindex, "  ");
}

static const char *exc_name(const rw_dbg *d, uint32_t name)
{
    return name && name < d->defs->nnames && d->defs->names[name] ? d->defs->names[name]->text
                                                                   : "Exception";
}

/* What pdb prints before the stack entry when it stops at this event. */
static void print_kind(rw_dbg *d)
{
    switch (d->ev.kind) {
    case RW_K_CALL:
        msg(d, "--Call--");
        break;
    case RW_K_RETURN:
        msg(d, "--Return--");
        break;
    case RW_K_EXCEPTION:
        if (d->ev.text && *d->ev.text)
            msg(d, "%s: %s", exc_name(d, d->ev.name), d->ev.text);
        else
            msg(d, "%s", exc_name(d, d->ev.name));
        break;
    default:
        break;
    }
}

/* Moves to pos and prints its kind line; the entry comes with the interaction. */
static int stop_at(rw_dbg *d, uint64_t pos)
{
    rw_err e;
    if (load_pos(d, pos, &e) != RW_OK) {
        fail(d, &e);
        return 0;
    }
    print_kind(d);
    return 1;
}

/* ---- finding the main program ----------------------------------------------------- */

typedef struct main_ctx {
    rw_dbg *d;
    const char *kind;
    const char *target; /* canonical path for scripts */
} main_ctx;

static int main_match(void *p, const rw_event *ev, const rw_stack *st)
{
    main_ctx *m = p;
    rw_dbg *d = m->d;
    if (ev->kind != RW_K_CALL)
        return 0;
    const Rewind__CodeDef *c = code_def(d, ev->code);
    if (!c || strcmp(c->name, "<module>"))
        return 0;
    uint32_t f = code_file(d, ev->code);
    if (!strcmp(m->kind, "module")) {
        rw_frame tmp;
        const rw_frame *fr = event_frame(ev, st, &tmp);
        const rw_frame *caller = fr ? caller_of(st, index_in(st, fr)) : NULL;
        const Rewind__CodeDef *cc = caller ? code_def(d, caller->code) : NULL;
        if (!cc || strcmp(cc->name, "_run_code"))
            return 0;
        /* runpy is frozen in 3.11 builds ("<frozen runpy>"), a file in others. */
        const char *cp = file_path(d, code_file(d, caller->code));
        size_t n = strlen(cp);
        return !strcmp(cp, "<frozen runpy>") || (n >= 8 && !strcmp(cp + n - 8, "runpy.py"));
    }
    if (!strcmp(m->kind, "command"))
        return !strcmp(file_path(d, f), "<string>");
    return m->target && !strcmp(file_path(d, f), m->target);
}

static int ret_match(void *p, const rw_event *ev, const rw_stack *st)
{
    (void)st;
    const uint64_t *call = p;
    return ev->kind == RW_K_RETURN && ev->call_pos == *call;
}

typedef struct line_in_ctx {
    uint64_t frame;
} line_in_ctx;

static int first_line_match(void *p, const rw_event *ev, const rw_stack *st)
{
    line_in_ctx *c = p;
    rw_frame tmp;
    const rw_frame *fr = event_frame(ev, st, &tmp);
    return ev->kind == RW_K_LINE && ev->line > 0 && fr && fr->call_pos == c->frame;
}

static rw_code find_main(rw_dbg *d, rw_err *err)
{
    const Rewind__Metadata *md = rw_reader_metadata(d->r);
    main_ctx m = {d, md && md->run_kind && *md->run_kind ? md->run_kind : "script", NULL};
    char *target = NULL;
    if (!strcmp(m.kind, "script") && md && md->run_target) {
        target = canonic(md->run_target, md->cwd);
        m.target = target;
    }
    rw_code rc = rw_timeline_next(d->tl, UINT64_MAX, NOPOS, RW_TL_EVENTS, main_match, &m,
                                  &d->main_call, err);
    free(target);
    if (rc == RW_ENOTFOUND)
        return rw_err_set(err, RW_ENOTFOUND,
                          "the recording holds no event of the main program (%s %s)", m.kind,
                          md && md->run_target ? md->run_target : "?");
    RW_TRY(rc);
    rw_event ev;
    RW_TRY(rw_timeline_at(d->tl, d->main_call, &ev, &d->raw, err));
    d->main_thread = ev.thread;
    d->main_file = code_file(d, ev.code);
    /* Its return is near the end of the run: search backwards from there. */
    uint64_t n = rw_timeline_nevents(d->tl);
    rc = rw_timeline_prev(d->tl, n, d->main_call, ret_match, &d->main_call, &d->main_ret, err);
    if (rc == RW_ENOTFOUND)
        d->main_ret = n - 1;
    else
        RW_TRY(rc);
    line_in_ctx lc = {d->main_call};
    rc = rw_timeline_next(d->tl, d->main_call, d->main_ret + 1, RW_TL_EVENTS, first_line_match,
                          &lc, &d->start_pos, err);
    if (rc == RW_ENOTFOUND)
        d->start_pos = d->main_call;
    else
        RW_TRY(rc);
    return RW_OK;
}

/* ---- life cycle ------------------------------------------------------------------- */

rw_code rw_dbg_new(const rw_reader *r, FILE *out, rw_dbg **dp, rw_err *err)
{
    rw_dbg *d = calloc(1, sizeof *d);
    if (!d)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    d->r = r;
    d->out = out;
    d->defs = rw_reader_defs(r);
    d->nbps = 1;
    rw_code rc = rw_timeline_new(r, &d->tl, err);
    if (rc != RW_OK) {
        free(d);
        return rc;
    }
    uint32_t nf = d->defs->nfiles ? d->defs->nfiles : 1;
    d->canon = calloc(nf, sizeof *d->canon);
    d->src = calloc(nf, sizeof *d->src);
    d->file_bps = calloc(nf, sizeof *d->file_bps);
    if (!d->canon || !d->src || !d->file_bps) {
        rw_dbg_free(d);
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    }
    const Rewind__Metadata *md = rw_reader_metadata(r);
    for (uint32_t i = 1; i < d->defs->nfiles; i++) {
        const Rewind__FileDef *f = d->defs->files[i];
        if (f && f->path && !(d->canon[i] = canonic(f->path, md ? md->cwd : NULL))) {
            rw_dbg_free(d);
            return rw_err_set(err, RW_ENOMEM, "out of memory");
        }
    }
    if (!rw_timeline_nevents(d->tl)) {
        rw_dbg_free(d);
        return rw_err_set(err, RW_ENOTFOUND, "the recording holds no events");
    }
    rc = find_main(d, err);
    if (rc != RW_OK) {
        rw_dbg_free(d);
        return rc;
    }
    *dp = d;
    return RW_OK;
}

void rw_dbg_set_plain_search(rw_dbg *d, int on)
{
    d->plain = on != 0;
}

void rw_dbg_free(rw_dbg *d)
{
    if (!d)
        return;
    rw_timeline_free(d->tl);
    if (d->canon)
        for (uint32_t i = 0; i < d->defs->nfiles; i++)
            free(d->canon[i]);
    if (d->src)
        for (uint32_t i = 0; i < d->defs->nfiles; i++)
            free(d->src[i].off);
    free(d->canon);
    free(d->src);
    free(d->file_bps);
    for (int i = 1; i < d->nbps; i++)
        if (d->bps[i]) {
            free(d->bps[i]->cond);
            free(d->bps[i]->funcname);
            free(d->bps[i]);
        }
    free(d->bps);
    free(d->pairs);
    for (size_t i = 0; i < d->naliases; i++) {
        free(d->aliases[i].name);
        free(d->aliases[i].text);
    }
    free(d->aliases);
    for (size_t i = 0; i < d->nqueue; i++)
        free(d->queue[i]);
    free(d->queue);
    for (int i = 0; i < d->nlists; i++)
        cmdlist_clear(&d->lists[i]);
    free(d->lists);
    cmdlist_clear(&d->def_void);
    free(d->lastcmd);
    free(d->evtext);
    free(d->raw.frames);
    free(d->stack);
    free(d);
}

void rw_dbg_set_input(rw_dbg *d, rw_dbg_input fn, void *ctx)
{
    d->input = fn;
    d->input_ctx = ctx;
}

int rw_dbg_done(const rw_dbg *d)
{
    return d->done;
}

rw_code rw_dbg_error(const rw_dbg *d)
{
    return d->last_err;
}

/* ---- postmortem ------------------------------------------------------------------- */

static int has_uncaught(const rw_dbg *d)
{
    const Rewind__RunEnd *e = rw_reader_end(d->r);
    return e && e->uncaught_type && *e->uncaught_type;
}

static void print_exc_only(rw_dbg *d, const Rewind__RunEnd *e)
{
    if (e->uncaught_message && *e->uncaught_message)
        msg(d, "%s: %s", e->uncaught_type, e->uncaught_message);
    else
        msg(d, "%s", e->uncaught_type);
}

/* The postmortem view: the traceback of the uncaught exception as the stack, at
 * the position where sys.excepthook saw it; prints what pdb's main prints. */
static int enter_postmortem(rw_dbg *d, rw_err *err)
{
    const Rewind__RunEnd *e = rw_reader_end(d->r);
    if (!has_uncaught(d)) {
        rw_err_set(err, RW_ENOTFOUND, "the program raised no uncaught exception");
        return 0;
    }
    uint64_t n = rw_timeline_nevents(d->tl);
    uint64_t at = e->uncaught_pos && e->uncaught_pos < n ? e->uncaught_pos : d->main_ret;
    if (load_pos(d, at < n ? at : n - 1, err) != RW_OK)
        return 0;
    d->pos = at;
    d->thread = d->main_thread;
    d->nstack = 0;
    if (e->n_uncaught_traceback > d->capstack) {
        pframe *p = realloc(d->stack, e->n_uncaught_traceback * sizeof *p);
        if (!p) {
            rw_err_set(err, RW_ENOMEM, "out of memory");
            return 0;
        }
        d->stack = p;
        d->capstack = (uint32_t)e->n_uncaught_traceback;
    }
    msg(d, "Traceback (most recent call last):");
    for (size_t i = 0; i < e->n_uncaught_traceback; i++) {
        const Rewind__TracebackEntry *t = e->uncaught_traceback[i];
        pframe *p = &d->stack[d->nstack++];
        p->code = t->code;
        p->line = t->line;
        p->call_pos = 0;
        uint32_t f = code_file(d, t->code);
        char line[4096];
        const Rewind__CodeDef *c = code_def(d, t->code);
        msg(d, "  File \"%s\", line %u, in %s", c && c->file < d->defs->nfiles &&
            d->defs->files[c->file] ? d->defs->files[c->file]->path : "?", t->line,
            code_name(d, t->code));
        if (get_line(d, f, t->line, line, sizeof line))
            msg(d, "    %s", strip(line));
    }
    print_exc_only(d, e);
    msg(d, "Uncaught exception. Entering post mortem debugging");
    msg(d, "Reverse commands (rstep, rnext, rreturn, rcontinue) go back from here; the "
           "recording ends here");
    d->curindex = d->nstack ? d->nstack - 1 : 0;
    d->postmortem = 1;
    return 1;
}

/* Drops the commands queued behind ';;' (pdb drops its command queue when the
 * program ends): a queue that re-queues itself, such as a self-referring alias,
 * must end once the recording does. */
static void drop_queue(rw_dbg *d)
{
    for (size_t i = 0; i < d->nqueue; i++)
        free(d->queue[i]);
    d->nqueue = 0;
}

/* Forward commands that run past the end of the program. */
static int end_of_program(rw_dbg *d)
{
    const Rewind__RunEnd *e = rw_reader_end(d->r);
    rw_err err;
    drop_queue(d);
    if (d->thread != d->main_thread) {
        msg(d, "The thread finished: the recording of thread %u ends here", d->thread);
        return 0;
    }
    if (has_uncaught(d)) {
        if (d->postmortem) {
            error(d, "the recording ends here, at the uncaught exception; reverse commands "
                     "go back");
            return 0;
        }
        if (!enter_postmortem(d, &err)) {
            fail(d, &err);
            return 0;
        }
        return 1;
    }
    if (e)
        msg(d, "The program finished and the recording ends here (exit status %d)",
            e->exit_status);
    else
        msg(d, "The recording ends here (it was cut short: no end record)");
    if (d->at_end && d->pos == d->main_ret)
        return 0;
    if (load_pos(d, d->main_ret, &err) != RW_OK) {
        fail(d, &err);
        return 0;
    }
    d->at_end = 1;
    print_kind(d);
    return 1;
}

/* ---- forward commands: bdb's stopping rules ----------------------------------------- */

enum { S_NONE, S_FRAME, S_BOT };

typedef struct fwd_ctx {
    rw_dbg *d;
    int skind;            /* stopframe: none (step), a frame, or the bottom (continue) */
    pframe sframe;        /* stopframe when S_FRAME */
    uint64_t sparent;     /* its caller's call_pos (generator identity) */
    int has_ret;          /* returnframe */
    uint64_t rframe;
    long long stoplineno;
    int deleted;          /* a temporary breakpoint to delete at the stop */
    bp *hit;
    int has_anchor;       /* return: the frame just below the returning one (Python or
                           * C), whose callee runs until the return */
    uint64_t anchor;
    int bps_only;         /* continue: nothing but a breakpoint can stop it */
    int no_bps;           /* breakpoints set aside (run_forward's frame search) */
} fwd_ctx;

static int same_frame(const rw_dbg *d, const fwd_ctx *c, const rw_frame *fr,
                      const rw_frame *caller)
{
    if (fr->call_pos == c->sframe.call_pos)
        return 1;
    /* A generator's frame lives across resumptions: same code, same resumer. */
    if (fr->code == c->sframe.code && code_is_gen(d, fr->code) && caller &&
        caller->call_pos == c->sparent)
        return 1;
    return 0;
}

static int stop_here(const fwd_ctx *c, int is_sframe, uint32_t line)
{
    if (c->skind == S_FRAME && is_sframe) {
        if (c->stoplineno == -1)
            return 0;
        return (long long)line >= c->stoplineno;
    }
    return c->skind == S_NONE;
}

static int fwd_match(void *p, const rw_event *ev, const rw_stack *st)
{
    fwd_ctx *c = p;
    rw_dbg *d = c->d;
    if (!is_py_event(ev->kind) || !in_window(d, ev))
        return 0;
    rw_frame tmp;
    const rw_frame *fr = event_frame(ev, st, &tmp);
    if (!fr)
        return 0;
    if (ev->thread != d->thread) {
        /* Other threads stop only at breakpoints (pdb would not see them at all). */
        if (ev->kind != RW_K_LINE || c->no_bps || !d->file_bps[code_file(d, ev->code)])
            return 0;
        c->hit = bp_effective(d, ev, fr, 1, &c->deleted);
        return c->hit != NULL;
    }
    const rw_frame *caller = caller_of(st, index_in(st, fr));
    int is_s = c->skind == S_FRAME && same_frame(d, c, fr, caller);
    int gen = code_is_gen(d, fr->code);
    uint32_t line = ev->kind == RW_K_RETURN ? ev->line : fr->line;
    switch (ev->kind) {
    case RW_K_LINE:
        if (stop_here(c, is_s, ev->line))
            return 1;
        if (c->no_bps)
            return 0;
        c->hit = bp_effective(d, ev, fr, 1, &c->deleted);
        return c->hit != NULL;
    case RW_K_CALL:
        if (!stop_here(c, is_s, line))
            return 0;
        return !(c->skind != S_NONE && gen);
    case RW_K_RETURN:
        if (stop_here(c, is_s, line) || (c->has_ret && fr->call_pos == c->rframe))
            return !(c->skind != S_NONE && gen);
        return 0;
    case RW_K_EXCEPTION: {
        const char *tn = exc_name(d, ev->name);
        if (stop_here(c, is_s, line))
            return !(gen && !strcmp(tn, "StopIteration"));
        if (c->skind == S_FRAME && !is_s && code_is_gen(d, c->sframe.code) &&
            (!strcmp(tn, "StopIteration") || !strcmp(tn, "GeneratorExit")))
            return 1;
        return 0;
    }
    default:
        return 0;
    }
}

static int push_pair(rw_dbg *d, uint32_t code, uint32_t line)
{
    if (d->npairs == d->cappairs) {
        size_t cap = d->cappairs ? 2 * d->cappairs : 64;
        uint64_t *v = realloc(d->pairs, cap * sizeof *v);
        if (!v)
            return -1;
        d->pairs = v;
        d->cappairs = cap;
    }
    d->pairs[d->npairs++] = (uint64_t)code << 32 | line;
    return 0;
}

/* The (code, line) pairs of the LINE events at which an enabled breakpoint can stop
 * (bp_effective, bp_checkfunc), for the timeline's line filter: a plain breakpoint at
 * line L of a file stops at L in any code of the file; a function breakpoint at the
 * first body line of a code of that name. Returns 0, and lists nothing, when a pair
 * cannot be known (a function whose line starts were not recorded) or memory runs
 * out: then every chunk is searched. */
static int bp_pairs(rw_dbg *d)
{
    d->npairs = 0;
    for (int i = 1; i < d->nbps; i++) {
        const bp *b = d->bps[i];
        if (!b || !b->enabled)
            continue;
        for (uint32_t id = 1; id < d->defs->ncodes; id++) {
            const Rewind__CodeDef *c = code_def(d, id);
            if (!c || code_file(d, id) != b->file)
                continue;
            uint32_t line = b->line;
            if (b->funcname) {
                if (strcmp(c->name, b->funcname))
                    continue;
                if (!(line = first_body_line(c)))
                    return 0;
            }
            if (push_pair(d, id, line) < 0)
                return 0;
        }
    }
    /* No code can stop: a pair no event has keeps the filter on. */
    return d->npairs || push_pair(d, 0, 0) == 0;
}

/* For a search that only breakpoints can stop (continue, rcontinue): the line filter
 * on, so that chunks where no breakpoint line ran are not decoded. */
static void filter_on(rw_dbg *d)
{
    if (!d->plain && bp_pairs(d))
        rw_timeline_set_lines(d->tl, d->pairs, d->npairs);
}

static void filter_off(rw_dbg *d)
{
    rw_timeline_set_lines(d->tl, NULL, 0);
}

static int any_enabled_bp(const rw_dbg *d)
{
    for (int i = 1; i < d->nbps; i++)
        if (d->bps[i] && d->bps[i]->enabled)
            return 1;
    return 0;
}

static uint64_t window_end(const rw_dbg *d)
{
    return d->thread == d->main_thread ? d->main_ret + 1 : rw_timeline_nevents(d->tl);
}

/* The caller (f_back) of the selected frame, 0 when none. */
static uint64_t parent_call(const rw_dbg *d, uint32_t i)
{
    return i > 0 ? d->stack[i - 1].call_pos : NOPOS;
}

static int run_forward(rw_dbg *d, fwd_ctx *c)
{
    if (d->postmortem)
        return end_of_program(d);
    c->d = d;
    /* bdb: a next/until given at a --Return-- of the stop frame becomes a step. */
    if (d->ev.kind == RW_K_RETURN && c->skind == S_FRAME && c->stoplineno != -1 &&
        c->sframe.call_pos == d->ev.call_pos)
        c->skind = S_NONE;
    uint64_t found;
    rw_err e;
    rw_code rc;
    uint64_t frame = c->has_anchor ? c->anchor : c->has_ret ? c->rframe : c->sframe.call_pos;
    if (c->skind == S_FRAME && !code_is_gen(d, c->sframe.code) && frame != NOPOS &&
        !d->plain) {
        /* next, until and return stop in one frame (or its caller, once it has
         * returned): find that stop with breakpoints set aside, skipping the frame's
         * callees; then a breakpoint hit before it, anywhere, stops first. At one
         * event the frame's own stop wins, as in bdb, so the hit is searched strictly
         * before it (with the line filter). */
        c->no_bps = 1;
        rc = rw_timeline_next_frame(d->tl, d->pos, window_end(d), d->thread, frame, fwd_match,
                                    c, &found, &e);
        c->no_bps = 0;
        if ((rc == RW_OK || rc == RW_ENOTFOUND) && any_enabled_bp(d)) {
            fwd_ctx b = {0};
            b.d = d;
            b.skind = S_BOT;
            b.stoplineno = -1;
            uint64_t hit;
            rw_err eb;
            filter_on(d);
            rw_code rb = rw_timeline_next(d->tl, d->pos, rc == RW_OK ? found : window_end(d),
                                          RW_TL_EVENTS, fwd_match, &b, &hit, &eb);
            filter_off(d);
            if (rb == RW_OK) {
                found = hit;
                rc = RW_OK;
                c->hit = b.hit;
                c->deleted = b.deleted;
            } else if (rb != RW_ENOTFOUND) {
                rc = rb;
                e = eb;
            }
        }
    } else {
        if (c->bps_only)
            filter_on(d);
        rc = rw_timeline_next(d->tl, d->pos, window_end(d), RW_TL_EVENTS, fwd_match, c,
                              &found, &e);
        filter_off(d);
    }
    if (rc == RW_ENOTFOUND)
        return end_of_program(d);
    if (rc != RW_OK) {
        fail(d, &e);
        return 0;
    }
    if (c->hit && c->deleted && c->hit->temporary) {
        char s[4200];
        bp_str(c->hit, d, s, sizeof s);
        msg(d, "Deleted %s", s);
        bp_delete(d, c->hit);
    }
    return stop_at(d, found);
}

static void set_frame(fwd_ctx *c, const rw_dbg *d, uint32_t i)
{
    c->skind = S_FRAME;
    c->sframe = d->stack[i];
    c->sparent = parent_call(d, i);
}

static int cmd_step(rw_dbg *d, const char *arg)
{
    (void)arg;
    fwd_ctx c = {0};
    c.skind = S_NONE;
    return run_forward(d, &c);
}

static int cmd_next(rw_dbg *d, const char *arg)
{
    (void)arg;
    fwd_ctx c = {0};
    if (!d->nstack)
        return cmd_step(d, arg);
    set_frame(&c, d, d->curindex);
    return run_forward(d, &c);
}

static int cmd_return(rw_dbg *d, const char *arg)
{
    (void)arg;
    fwd_ctx c = {0};
    if (!d->nstack)
        return cmd_step(d, arg);
    const pframe *f = &d->stack[d->curindex];
    if (code_is_gen(d, f->code)) {
        set_frame(&c, d, d->curindex);
        c.stoplineno = -1;
    } else if (d->curindex > 0) {
        set_frame(&c, d, d->curindex - 1);
        c.has_ret = 1;
        c.rframe = f->call_pos;
        for (uint32_t i = 1; i < d->raw.depth; i++)
            if (d->raw.frames[i].call_pos == f->call_pos && !d->raw.frames[i].is_c) {
                c.has_anchor = 1;
                c.anchor = d->raw.frames[i - 1].call_pos;
            }
    } else {
        /* f_back is below the program (pdb's <string> frame): never seen. */
        c.skind = S_FRAME;
        c.sframe.call_pos = NOPOS;
        c.sframe.code = 0;
        c.has_ret = 1;
        c.rframe = f->call_pos;
    }
    return run_forward(d, &c);
}

static int cmd_continue(rw_dbg *d, const char *arg)
{
    (void)arg;
    /* Without breakpoints bdb never stops (pdb even removes its trace function):
     * no need to read the rest of the log. */
    if (!any_enabled_bp(d))
        return end_of_program(d);
    fwd_ctx c = {0};
    c.skind = S_BOT;
    c.stoplineno = -1;
    c.bps_only = 1;
    return run_forward(d, &c);
}

static int cmd_until(rw_dbg *d, const char *arg)
{
    long long lineno = 0;
    if (!d->nstack)
        return cmd_step(d, arg);
    const pframe *f = &d->stack[d->curindex];
    if (*arg) {
        if (rw_dbg_parse_int(arg, &lineno) < 0) {
            char r[512];
            py_repr(arg, r, sizeof r);
            error(d, "Error in argument: %s", r);
            return 0;
        }
        if (lineno <= (long long)f->line) {
            error(d, "\"until\" line number is smaller than current line number");
            return 0;
        }
    } else {
        lineno = (long long)f->line + 1;
    }
    /* pdb 3.11 runs a command list's until and discards it (not a resuming command:
     * the prompt after the list, or the list's resuming line, decides; CPython issue
     * 68328). */
    if (d->in_list)
        return 0;
    fwd_ctx c = {0};
    set_frame(&c, d, d->curindex);
    c.has_ret = 1;
    c.rframe = f->call_pos;
    c.stoplineno = lineno;
    return run_forward(d, &c);
}

/* ---- reverse commands ------------------------------------------------------------------ */

typedef struct rev_ctx {
    rw_dbg *d;
    int mode;
    uint64_t frame;      /* call_pos of the frame of interest */
    uint64_t caller;     /* and of its caller */
    long long lineno;
    const bp *hit;       /* R_BREAK: the breakpoint of the last match */
} rev_ctx;

enum { R_STEP, R_NEXT_SAME, R_NEXT_CALLER, R_UNTIL, R_BREAK, R_THREAD };

static int rev_match(void *p, const rw_event *ev, const rw_stack *st)
{
    rev_ctx *c = p;
    rw_dbg *d = c->d;
    if (!is_py_event(ev->kind))
        return 0;
    if (c->mode == R_THREAD)
        return ev->thread == c->frame;
    if ((ev->thread != d->thread && c->mode != R_BREAK) || !in_window(d, ev))
        return 0;
    rw_frame tmp;
    const rw_frame *fr = event_frame(ev, st, &tmp);
    if (!fr)
        return 0;
    switch (c->mode) {
    case R_STEP:
        return 1;
    case R_NEXT_SAME:
        return (ev->kind == RW_K_LINE || ev->kind == RW_K_EXCEPTION) && fr->call_pos == c->frame;
    case R_NEXT_CALLER:
        return (ev->kind == RW_K_LINE || ev->kind == RW_K_EXCEPTION) &&
               fr->call_pos == c->caller;
    case R_UNTIL:
        return (ev->kind == RW_K_LINE && fr->call_pos == c->frame &&
                (long long)ev->line <= c->lineno) ||
               (ev->kind == RW_K_CALL && ev->pos == c->frame);
    case R_BREAK: {
        if (ev->kind != RW_K_LINE)
            return 0;
        int del = 0;
        const bp *b = bp_effective(d, ev, fr, 0, &del);
        if (b)
            c->hit = b; /* the last match wins, as its position does */
        return b != NULL;
    }
    default:
        return 0;
    }
}

static uint64_t window_begin(const rw_dbg *d)
{
    return d->thread == d->main_thread ? d->main_call : 0;
}

/* Where reverse searches start: the current event, or past the end in postmortem. */
static uint64_t rev_from(const rw_dbg *d)
{
    if (d->postmortem)
        return d->main_ret + 1;
    return d->pos;
}

static int run_back(rw_dbg *d, rev_ctx *c, uint64_t begin, const char *none)
{
    uint64_t found;
    rw_err e;
    c->d = d;
    rw_code rc;
    /* Searches within one frame skip its callees. */
    if ((c->mode == R_NEXT_SAME || c->mode == R_UNTIL || c->mode == R_NEXT_CALLER) &&
        !d->plain)
        rc = rw_timeline_prev_frame(d->tl, rev_from(d), begin, d->thread,
                                    c->mode == R_NEXT_CALLER ? c->caller : c->frame, rev_match,
                                    c, &found, &e);
    else {
        if (c->mode == R_BREAK)
            filter_on(d);
        rc = rw_timeline_prev(d->tl, rev_from(d), begin, rev_match, c, &found, &e);
        filter_off(d);
    }
    if (rc == RW_ENOTFOUND) {
        if (none)
            error(d, "%s", none);
        return -1;
    }
    if (rc != RW_OK) {
        fail(d, &e);
        return 0;
    }
    return stop_at(d, found);
}

static const char START_MSG[] = "At the start of the program: nothing before this";

static int cmd_rstep(rw_dbg *d, const char *arg)
{
    (void)arg;
    rev_ctx c = {0};
    c.mode = R_STEP;
    int rc = run_back(d, &c, window_begin(d), START_MSG);
    return rc > 0;
}

static int cmd_rnext(rw_dbg *d, const char *arg)
{
    (void)arg;
    if (d->postmortem || !d->nstack)
        return cmd_rstep(d, arg);
    const pframe *f = &d->stack[d->curindex];
    rev_ctx c = {0};
    c.mode = R_NEXT_SAME;
    c.frame = f->call_pos;
    /* The current frame's earlier lines (not before its call). */
    int rc = run_back(d, &c, f->call_pos + 1 > window_begin(d) ? f->call_pos + 1 :
                      window_begin(d), NULL);
    if (rc >= 0)
        return rc;
    /* At its first line: the caller's line that made the call. */
    if (d->curindex == 0) {
        error(d, "%s", START_MSG);
        return 0;
    }
    c.mode = R_NEXT_CALLER;
    c.caller = d->stack[d->curindex - 1].call_pos;
    rc = run_back(d, &c, c.caller, START_MSG);
    return rc > 0;
}

static int cmd_rreturn(rw_dbg *d, const char *arg)
{
    (void)arg;
    if (d->postmortem || !d->nstack)
        return cmd_rstep(d, arg);
    const pframe *f = &d->stack[d->curindex];
    if (d->ev.kind == RW_K_CALL && d->curindex == d->nstack - 1 && f->call_pos == d->pos) {
        error(d, "Already at the call of %s()", code_name(d, f->code));
        return 0;
    }
    return stop_at(d, f->call_pos);
}

static int cmd_rcontinue(rw_dbg *d, const char *arg)
{
    (void)arg;
    rev_ctx c = {0};
    c.mode = R_BREAK;
    int rc = any_enabled_bp(d) ? run_back(d, &c, window_begin(d), NULL) : -1;
    /* Stopped at a hit: its breakpoint is currentbp, so that its command list runs as
     * at a forward stop (the backward search leaves hit counts alone). */
    if (rc > 0 && c.hit)
        d->currentbp = c.hit->number;
    if (rc >= 0)
        return rc;
    /* No earlier hit: the start of the program. */
    uint64_t to = d->start_pos;
    if (to >= rev_from(d)) {
        error(d, "%s", START_MSG);
        return 0;
    }
    msg(d, "No breakpoint hit before this: back to the start of the program");
    return stop_at(d, to);
}

static int cmd_runtil(rw_dbg *d, const char *arg)
{
    long long lineno;
    if (d->postmortem || !d->nstack)
        return cmd_rstep(d, arg);
    const pframe *f = &d->stack[d->curindex];
    if (*arg) {
        if (rw_dbg_parse_int(arg, &lineno) < 0) {
            char r[512];
            py_repr(arg, r, sizeof r);
            error(d, "Error in argument: %s", r);
            return 0;
        }
        if (lineno >= (long long)f->line) {
            error(d, "\"runtil\" line number is greater than current line number");
            return 0;
        }
    } else {
        lineno = (long long)f->line - 1;
    }
    rev_ctx c = {0};
    c.mode = R_UNTIL;
    c.frame = f->call_pos;
    c.lineno = lineno;
    int rc = run_back(d, &c, f->call_pos, START_MSG);
    return rc > 0;
}

/* ---- goto, when, thread, exceptions, events ------------------------------------------- */

static int any_py_match(void *p, const rw_event *ev, const rw_stack *st)
{
    (void)p;
    (void)st;
    return is_py_event(ev->kind);
}

/* Python events of one thread (ctx: its ThreadDef id; 0: any thread). */
static int thread_py_match(void *p, const rw_event *ev, const rw_stack *st)
{
    (void)st;
    uint32_t want = *(const uint32_t *)p;
    return is_py_event(ev->kind) && (want == 0 || ev->thread == want);
}

/* Goes to the last fatal signal or timeout report (rw_pos_crash): the last Python
 * event of the thread that got the signal (for a timeout, the main thread) before it,
 * so that `where` shows the Python stack at the crash. Prints what happened. */
static int enter_crash(rw_dbg *d, rw_err *err)
{
    uint64_t at, found, n = rw_timeline_nevents(d->tl);
    const Rewind__CrashReport *c;
    if (rw_pos_crash(d->r, &at, &c, err) != RW_OK)
        return 0;
    if (at > n)
        at = n;
    uint32_t thread = c->thread < d->defs->nthreads ? c->thread : 0;
    rw_code rc = rw_timeline_prev(d->tl, at, 0, thread_py_match, &thread, &found, err);
    if (rc == RW_ENOTFOUND && thread) {
        thread = 0; /* the thread ran no Python code: take any thread's last event */
        rc = rw_timeline_prev(d->tl, at, 0, thread_py_match, &thread, &found, err);
    }
    if (rc != RW_OK)
        return 0;
    if (load_pos(d, found, err) != RW_OK)
        return 0;
    if (c->kind == REWIND__CRASH_REPORT__KIND__TIMEOUT)
        msg(d, "Timeout after %.3g s: the run was ended here; thread %u was at this line",
            (double)c->timeout_ms / 1000.0, d->thread);
    else if (c->fault_addr || (c->si_code > 0 && c->signal != SIGABRT))
        msg(d, "Crash: %s (a hardware fault at address 0x%llx) in thread %u; its last "
               "event is %llu", c->signal_name, (unsigned long long)c->fault_addr, d->thread,
            (unsigned long long)found);
    else
        msg(d, "Crash: %s (sent by kill, raise or abort) in thread %u; its last event is %llu",
            c->signal_name, d->thread, (unsigned long long)found);
    msg(d, "The recording ends here; reverse commands go back. 'rewind info' shows the "
           "C stack and the machine code.");
    print_kind(d);
    return 1;
}

static int goto_pos(rw_dbg *d, uint64_t pos)
{
    rw_err e;
    uint64_t found;
    uint64_t n = rw_timeline_nevents(d->tl);
    rw_code rc = pos < n ? rw_timeline_next(d->tl, pos ? pos - 1 : UINT64_MAX, NOPOS,
                                            RW_TL_EVENTS, any_py_match, NULL, &found, &e)
                         : RW_ENOTFOUND;
    if (rc == RW_ENOTFOUND)
        rc = rw_timeline_prev(d->tl, pos < n ? pos : n, 0, any_py_match, NULL, &found, &e);
    if (rc != RW_OK) {
        fail(d, &e);
        return 0;
    }
    return stop_at(d, found);
}

static int cmd_goto(rw_dbg *d, const char *arg)
{
    if (!*arg) {
        error(d, "goto needs a position: an event number, @start, @end, @exception, "
                 "@peak, a time such as 1.5s, or FILE:LINE");
        return 0;
    }
    rw_err e;
    if (!strcmp(arg, "@exception")) {
        if (!enter_postmortem(d, &e)) {
            fail(d, &e);
            return 0;
        }
        return 1;
    }
    if (!strcmp(arg, "@crash")) {
        if (!enter_crash(d, &e)) {
            fail(d, &e);
            return 0;
        }
        return 1;
    }
    uint64_t pos;
    if (rw_pos_parse(d->r, arg, &pos, &e) != RW_OK) {
        fail(d, &e);
        return 0;
    }
    return goto_pos(d, pos);
}

static const Rewind__ThreadDef *thread_def(const rw_dbg *d, uint32_t id)
{
    const Rewind__RunEnd *e = rw_reader_end(d->r);
    if (e)
        for (size_t i = 0; i < e->n_threads; i++)
            if (e->threads[i]->id == id)
                return e->threads[i];
    return id && id < d->defs->nthreads ? d->defs->threads[id] : NULL;
}

static int cmd_when(rw_dbg *d, const char *arg)
{
    (void)arg;
    double ns = rw_reader_tick_ns(d->r, d->ev.tick);
    const Rewind__ThreadDef *t = thread_def(d, d->thread);
    msg(d, "event %llu of %llu, %.6f s since the start, thread %u (%s)%s",
        (unsigned long long)d->pos, (unsigned long long)rw_timeline_nevents(d->tl), ns / 1e9,
        d->thread, t && t->name && *t->name ? t->name : "?",
        d->postmortem ? ", postmortem" : "");
    return 0;
}

static int cmd_thread(rw_dbg *d, const char *arg)
{
    if (!*arg) {
        for (uint32_t i = 1; i < d->defs->nthreads; i++) {
            const Rewind__ThreadDef *t = thread_def(d, i);
            if (!t)
                continue;
            msg(d, "%s%u %s (ident %llu, native id %llu)%s", i == d->thread ? "* " : "  ", i,
                t->name && *t->name ? t->name : "?", (unsigned long long)t->ident,
                (unsigned long long)t->native_id, t->is_main ? " main" : "");
        }
        return 0;
    }
    long long n;
    if (rw_dbg_parse_int(arg, &n) < 0 || n < 1 || (uint64_t)n >= d->defs->nthreads) {
        error(d, "Invalid thread number (%s): 'thread' lists them", arg);
        return 0;
    }
    rev_ctx c = {d, R_THREAD, (uint64_t)n, 0, 0, NULL};
    uint64_t found;
    rw_err e;
    uint64_t from = d->postmortem ? d->main_ret + 1 : d->pos + 1;
    rw_code rc = rw_timeline_prev(d->tl, from, 0, rev_match, &c, &found, &e);
    if (rc == RW_ENOTFOUND)
        rc = rw_timeline_next(d->tl, d->pos, NOPOS, RW_TL_EVENTS, rev_match, &c, &found, &e);
    if (rc == RW_ENOTFOUND) {
        error(d, "Thread %lld ran no Python code", n);
        return 0;
    }
    if (rc != RW_OK) {
        fail(d, &e);
        return 0;
    }
    return stop_at(d, found);
}

typedef struct exc_ctx {
    rw_dbg *d;
    uint64_t count;
} exc_ctx;

#define EXC_LIST_MAX 1000

static int exc_visit(void *p, const rw_event *ev, const rw_stack *st)
{
    exc_ctx *c = p;
    rw_dbg *d = c->d;
    if (ev->kind != RW_K_EXCEPTION)
        return 0;
    if (++c->count > EXC_LIST_MAX)
        return 0;
    rw_frame tmp;
    const rw_frame *fr = event_frame(ev, st, &tmp);
    uint32_t code = fr ? fr->code : ev->code;
    fprintf(d->out, "%10llu  thread %u  %s", (unsigned long long)ev->pos, ev->thread,
            exc_name(d, ev->name));
    if (ev->text && ev->text_len)
        fprintf(d->out, ": %.*s", (int)(ev->text_len > 200 ? 200 : ev->text_len), ev->text);
    fprintf(d->out, "  %s:%u %s()\n", file_path(d, code_file(d, code)), ev->line,
            code_name(d, code));
    return 0;
}

static int cmd_exceptions(rw_dbg *d, const char *arg)
{
    (void)arg;
    exc_ctx c = {d, 0};
    rw_err e;
    if (rw_timeline_visit(d->tl, 0, NOPOS, exc_visit, &c, &e) != RW_OK) {
        fail(d, &e);
        return 0;
    }
    if (!c.count)
        msg(d, "No exception was raised during the recording");
    else if (c.count > EXC_LIST_MAX)
        msg(d, "... and %llu more", (unsigned long long)(c.count - EXC_LIST_MAX));
    return 0;
}

typedef struct ev_ctx {
    rw_dbg *d;
} ev_ctx;

static int ev_visit(void *p, const rw_event *ev, const rw_stack *st)
{
    (void)st;
    rw_dbg *d = ((ev_ctx *)p)->d;
    if (RW_IS_ALLOC(ev->kind) || RW_IS_FREE(ev->kind))
        return 0; /* allocations would drown the events; `rewind memory` shows them */
    int cur = RW_IS_EVENT(ev->kind) && ev->pos == d->pos;
    fprintf(d->out, "%s%10llu  %-11s t%u", cur ? "=> " : "   ", (unsigned long long)ev->pos,
            rw_kind_name(ev->kind), ev->thread);
    switch (ev->kind) {
    case RW_K_CALL:
    case RW_K_LINE:
    case RW_K_RETURN:
        fprintf(d->out, "  depth %u  %s:%u %s()", ev->depth,
                file_path(d, code_file(d, ev->code)), ev->line, code_name(d, ev->code));
        break;
    case RW_K_EXCEPTION:
        fprintf(d->out, "  %s: %.*s", exc_name(d, ev->name),
                (int)(ev->text_len > 200 ? 200 : ev->text_len), ev->text ? ev->text : "");
        break;
    case RW_K_C_CALL:
    case RW_K_C_RETURN:
    case RW_K_C_EXCEPTION: {
        const rw_defs *df = d->defs;
        const char *label = ev->code && ev->code < df->ncfuncs && df->cfuncs[ev->code]
                                ? df->cfuncs[ev->code]->label : "?";
        fprintf(d->out, "  depth %u  %s", ev->depth, label);
        break;
    }
    case RW_K_AUDIT:
        fprintf(d->out, "  %s %.*s", exc_name(d, ev->name),
                (int)(ev->text_len > 200 ? 200 : ev->text_len), ev->text ? ev->text : "");
        break;
    default:
        if (RW_IS_ALLOC(ev->kind))
            fprintf(d->out, "  0x%llx %llu bytes", (unsigned long long)ev->addr,
                    (unsigned long long)ev->size);
        else if (RW_IS_FREE(ev->kind))
            fprintf(d->out, "  0x%llx", (unsigned long long)ev->addr);
        break;
    }
    fputc('\n', d->out);
    return 0;
}

static int cmd_events(rw_dbg *d, const char *arg)
{
    long long n = 5;
    if (*arg && (rw_dbg_parse_int(arg, &n) < 0 || n < 0)) {
        error(d, "Invalid count (%s)", arg);
        return 0;
    }
    if (n > 1000)
        n = 1000;
    uint64_t from = d->pos > (uint64_t)n ? d->pos - (uint64_t)n : 0;
    ev_ctx c = {d};
    rw_err e;
    if (rw_timeline_visit(d->tl, from, d->pos + (uint64_t)n + 1, ev_visit, &c, &e) != RW_OK)
        fail(d, &e);
    return 0;
}

/* ---- where, up, down, list, longlist, source --------------------------------------------- */

static int cmd_where(rw_dbg *d, const char *arg)
{
    (void)arg;
    for (uint32_t i = 0; i < d->nstack; i++)
        print_entry(d, i, "  ");
    return 0;
}

static void select_frame(rw_dbg *d, uint32_t i)
{
    d->curindex = i;
    print_entry(d, i, "  ");
    d->lineno = 0;
}

static int cmd_up(rw_dbg *d, const char *arg)
{
    if (d->curindex == 0) {
        error(d, "Oldest frame");
        return 0;
    }
    long long count = 1;
    if (*arg && rw_dbg_parse_int(arg, &count) < 0) {
        error(d, "Invalid frame count (%s)", arg);
        return 0;
    }
    long long nf = count < 0 ? 0 : (long long)d->curindex - count;
    select_frame(d, nf < 0 ? 0 : (uint32_t)nf);
    return 0;
}

static int cmd_down(rw_dbg *d, const char *arg)
{
    if (d->curindex + 1 >= d->nstack) {
        error(d, "Newest frame");
        return 0;
    }
    long long count = 1;
    if (*arg && rw_dbg_parse_int(arg, &count) < 0) {
        error(d, "Invalid frame count (%s)", arg);
        return 0;
    }
    long long last = (long long)d->nstack - 1;
    long long nf = count < 0 ? last : (long long)d->curindex + count;
    select_frame(d, (uint32_t)(nf > last ? last : nf));
    return 0;
}

static int file_has_bp_line(const rw_dbg *d, uint32_t f, long long line)
{
    for (int i = 1; i < d->nbps; i++)
        if (d->bps[i] && d->bps[i]->file == f && (long long)d->bps[i]->line == line)
            return 1;
    return 0;
}

/* pdb's _print_lines: lines first..last of file f, with B and -> marks when frame
 * is the current one (cur_line > 0). */
static void print_lines(rw_dbg *d, uint32_t f, long long first, long long last, int marks,
                        long long cur_line)
{
    char line[4096];
    for (long long n = first; n <= last; n++) {
        if (!get_line(d, f, n, line, sizeof line))
            break;
        char s[32];
        int k = snprintf(s, sizeof s, "%3lld", n);
        if (k < 4)
            s[k++] = ' ';
        s[k++] = marks && file_has_bp_line(d, f, n) ? 'B' : ' ';
        s[k] = '\0';
        size_t l = strlen(line);
        while (l && isspace((unsigned char)line[l - 1]))
            line[--l] = '\0';
        fprintf(d->out, "%s%s\t%s\n", s, marks && n == cur_line ? "->" : "", line);
    }
}

static int cmd_list(rw_dbg *d, const char *arg)
{
    free(d->lastcmd);
    d->lastcmd = xstrdup("list");
    if (!d->nstack) {
        error(d, "No Python frame here");
        return 0;
    }
    const pframe *fr = &d->stack[d->curindex];
    long long first, last = 0;
    int have_last = 0;
    if (*arg && strcmp(arg, ".")) {
        char a[256];
        snprintf(a, sizeof a, "%s", arg);
        char *comma = strchr(a, ',');
        int ok;
        if (comma) {
            *comma = '\0';
            ok = !strchr(comma + 1, ',') && rw_dbg_parse_int(a, &first) == 0 &&
                 rw_dbg_parse_int(comma + 1, &last) == 0;
            if (ok && last < first)
                last = first + last;
            have_last = 1;
        } else {
            ok = rw_dbg_parse_int(a, &first) == 0;
            if (ok)
                first = first - 5 > 1 ? first - 5 : 1;
        }
        if (!ok) {
            char r[512];
            py_repr(arg, r, sizeof r);
            error(d, "Error in argument: %s", r);
            return 0;
        }
    } else if (!d->lineno || !strcmp(arg, ".")) {
        first = (long long)fr->line - 5 > 1 ? (long long)fr->line - 5 : 1;
    } else {
        first = d->lineno + 1;
    }
    if (!have_last)
        last = first + 10;
    uint32_t f = code_file(d, fr->code);
    long long n = (long long)nlines(d, f);
    print_lines(d, f, first < 1 ? 1 : first, last, 1, fr->line);
    d->lineno = last < n ? last : n;
    if (n < last)
        msg(d, "[EOF]");
    return 0;
}

/* The lines of a code object's block: a module is the whole file; a function runs
 * from its first line to the last line indented deeper than it (inspect.getblock). */
static void block_of(rw_dbg *d, uint32_t code, long long *first, long long *last)
{
    const Rewind__CodeDef *c = code_def(d, code);
    uint32_t f = code_file(d, code);
    long long n = (long long)nlines(d, f);
    if (!c || !strcmp(c->name, "<module>")) {
        *first = 1;
        *last = n;
        return;
    }
    char line[4096];
    long long start = c->first_line ? c->first_line : 1;
    if (!get_line(d, f, start, line, sizeof line)) {
        *first = start;
        *last = start - 1;
        return;
    }
    size_t ind = strspn(line, " \t");
    /* Decorators: the block's indentation is that of the def line under them. */
    long long k = start, end = start;
    while (line[ind] == '@' && get_line(d, f, k + 1, line, sizeof line)) {
        k++;
        end = k;
    }
    get_line(d, f, k, line, sizeof line);
    ind = strspn(line, " \t");
    int open = 0; /* brackets open across lines */
    for (long long i = k; i <= n; i++) {
        if (!get_line(d, f, i, line, sizeof line))
            break;
        size_t li = strspn(line, " \t");
        int blank = !line[li] || line[li] == '#';
        if (i > k && !blank && !open && li <= ind)
            break;
        for (char *p = line; *p; p++)
            if (*p == '(' || *p == '[' || *p == '{')
                open++;
            else if ((*p == ')' || *p == ']' || *p == '}') && open > 0)
                open--;
        if (!blank)
            end = i;
    }
    *first = start;
    *last = end;
}

static int cmd_longlist(rw_dbg *d, const char *arg)
{
    (void)arg;
    if (!d->nstack) {
        error(d, "No Python frame here");
        return 0;
    }
    const pframe *fr = &d->stack[d->curindex];
    long long first, last;
    uint32_t f = code_file(d, fr->code);
    if (!nlines(d, f)) {
        error(d, "could not get source code");
        return 0;
    }
    block_of(d, fr->code, &first, &last);
    print_lines(d, f, first, last, 1, fr->line);
    return 0;
}

/* A code object named by the user: its qualname or name, one in the current file
 * first. 0 when none ran. */
static uint32_t find_code(rw_dbg *d, const char *name)
{
    const char *dot = strrchr(name, '.');
    uint32_t cur_file = d->nstack ? code_file(d, d->stack[d->curindex].code) : 0;
    uint32_t best = 0;
    for (int pass = 0; pass < 2 && !best; pass++)
        for (uint32_t i = 1; i < d->defs->ncodes; i++) {
            const Rewind__CodeDef *c = d->defs->codes[i];
            if (!c || !strcmp(c->name, "<module>"))
                continue;
            int m = (c->qualname && !strcmp(c->qualname, name)) || !strcmp(c->name, name) ||
                    (dot && !strcmp(c->name, dot + 1) && pass == 1);
            if (!m)
                continue;
            if (c->file == cur_file)
                return i;
            if (!best)
                best = i;
        }
    return best;
}

static int cmd_source(rw_dbg *d, const char *arg)
{
    if (!*arg) {
        error(d, "source needs a function name");
        return 0;
    }
    uint32_t code = find_code(d, arg);
    if (!code) {
        char r[512];
        py_repr(arg, r, sizeof r);
        error(d, "source: no function named %s ran in this recording (%s to look at "
                 "other objects)", r, VALUES_MSG);
        return 0;
    }
    uint32_t f = code_file(d, code);
    if (!nlines(d, f)) {
        error(d, "could not get source code");
        return 0;
    }
    long long first, last;
    block_of(d, code, &first, &last);
    print_lines(d, f, first, last, 0, 0);
    return 0;
}

/* ---- breakpoints: break, tbreak, clear, enable, disable, ignore, condition --------------- */

/* pdb's lookupmodule against the recorded files: FILE given as a path, relative to
 * the recording's working directory, without .py, or as the end of a path. */
static uint32_t lookup_file(rw_dbg *d, const char *name)
{
    const Rewind__Metadata *md = rw_reader_metadata(d->r);
    char *c = canonic(name, md ? md->cwd : NULL);
    char with_py[4096 + 4];
    snprintf(with_py, sizeof with_py, "%s%s", name, strstr(name, ".py") ? "" : ".py");
    char *c2 = canonic(with_py, md ? md->cwd : NULL);
    uint32_t found = 0;
    for (uint32_t i = 1; i < d->defs->nfiles && !found; i++)
        if (d->canon[i] && ((c && !strcmp(d->canon[i], c)) || (c2 && !strcmp(d->canon[i], c2))))
            found = i;
    size_t wl = strlen(with_py);
    for (uint32_t i = 1; i < d->defs->nfiles && !found; i++) {
        const char *p = d->canon[i];
        size_t pl = p ? strlen(p) : 0;
        if (p && pl > wl && p[pl - wl - 1] == '/' && !strcmp(p + pl - wl, with_py))
            found = i;
    }
    free(c);
    free(c2);
    return found;
}

/* pdb's checkline: the line exists and is not blank, a comment or a docstring start. */
static int checkline(rw_dbg *d, uint32_t f, long long line)
{
    char buf[4096];
    if (!get_line(d, f, line, buf, sizeof buf)) {
        msg(d, "End of file");
        return 0;
    }
    const char *s = strip(buf);
    if (!*s || *s == '#' || !strncmp(s, "\"\"\"", 3) || !strncmp(s, "'''", 3)) {
        error(d, "Blank or comment");
        return 0;
    }
    return 1;
}

/* find_function: "def NAME(" in file f; its line or 0. */
static long long find_function(rw_dbg *d, uint32_t f, const char *name)
{
    char buf[4096];
    size_t n = nlines(d, f), nl = strlen(name);
    for (size_t i = 1; i <= n; i++) {
        if (!get_line(d, f, (long long)i, buf, sizeof buf))
            break;
        const char *p = buf + strspn(buf, " \t");
        if (!strncmp(p, "async", 5) && isspace((unsigned char)p[5]))
            p += 5 + strspn(p + 5, " \t");
        if (strncmp(p, "def", 3) || !isspace((unsigned char)p[3]))
            continue;
        p += 3 + strspn(p + 3, " \t");
        if (strncmp(p, name, nl))
            continue;
        p += nl;
        p += strspn(p, " \t");
        if (*p == '(')
            return (long long)i;
    }
    return 0;
}

static void list_breaks(rw_dbg *d)
{
    int any = 0;
    for (int i = 1; i < d->nbps; i++)
        any |= d->bps[i] != NULL;
    if (!any)
        return;
    msg(d, "Num Type         Disp Enb   Where");
    for (int i = 1; i < d->nbps; i++) {
        bp *b = d->bps[i];
        if (!b)
            continue;
        msg(d, "%-4dbreakpoint   %s%s at %s:%u", b->number, b->temporary ? "del  " : "keep ",
            b->enabled ? "yes  " : "no   ", file_path(d, b->file), b->line);
        if (b->cond)
            msg(d, "\tstop only if %s", b->cond);
        if (b->ignore)
            msg(d, "\tignore next %lld hits", b->ignore);
        if (b->hits)
            msg(d, "\tbreakpoint already hit %lld time%s", b->hits, b->hits > 1 ? "s" : "");
    }
}

static int do_break(rw_dbg *d, const char *argin, int temporary)
{
    if (!*argin) {
        list_breaks(d);
        return 0;
    }
    char arg[4096], r[4200];
    snprintf(arg, sizeof arg, "%s", argin);
    char *cond = NULL;
    char *comma = strchr(arg, ',');
    if (comma && comma > arg) {
        *comma = '\0';
        cond = comma + 1;
        while (isspace((unsigned char)*cond))
            cond++;
        size_t l = strlen(arg);
        while (l && isspace((unsigned char)arg[l - 1]))
            arg[--l] = '\0';
    }
    uint32_t file = 0;
    long long lineno = 0;
    const char *funcname = NULL;
    char *colon = strrchr(arg, ':');
    if (colon) {
        *colon = '\0';
        char *fname = arg;
        size_t l = strlen(fname);
        while (l && isspace((unsigned char)fname[l - 1]))
            fname[--l] = '\0';
        file = lookup_file(d, fname);
        if (!file) {
            py_repr(fname, r, sizeof r);
            error(d, "%s not found from sys.path", r);
            return 0;
        }
        char *ln = colon + 1;
        while (isspace((unsigned char)*ln))
            ln++;
        if (rw_dbg_parse_int(ln, &lineno) < 0) {
            error(d, "Bad lineno: %s", ln);
            return 0;
        }
    } else if (rw_dbg_parse_int(arg, &lineno) < 0) {
        uint32_t code = find_code(d, strip(arg));
        if (code) {
            const Rewind__CodeDef *c = code_def(d, code);
            funcname = c->name;
            lineno = c->first_line;
            file = c->file;
        } else {
            /* lineinfo: "def NAME(" in the current file. */
            const char *id = strip(arg);
            const char *last = strrchr(id, '.');
            uint32_t f = d->nstack ? code_file(d, d->stack[d->curindex].code) : d->main_file;
            long long ln = *id ? find_function(d, f, last ? last + 1 : id) : 0;
            if (!ln) {
                py_repr(id, r, sizeof r);
                error(d, "The specified object %s is not a function or was not found along "
                         "sys.path.", r);
                return 0;
            }
            funcname = last ? last + 1 : id;
            lineno = ln;
            file = f;
        }
    }
    if (!file)
        file = d->nstack ? code_file(d, d->stack[d->curindex].code) : d->main_file;
    if (!checkline(d, file, lineno))
        return 0;
    bp *b = calloc(1, sizeof *b);
    bp **nb = realloc(d->bps, (size_t)(d->nbps + 1) * sizeof *nb);
    if (!b || !nb) {
        free(b);
        if (nb)
            d->bps = nb;
        error(d, "out of memory");
        return 0;
    }
    d->bps = nb;
    b->number = d->nbps;
    b->file = file;
    b->line = (uint32_t)lineno;
    b->temporary = temporary;
    b->enabled = 1;
    b->cond = cond && *cond ? xstrdup(cond) : NULL;
    b->funcname = funcname ? xstrdup(funcname) : NULL;
    d->bps[d->nbps++] = b;
    d->file_bps[file]++;
    msg(d, "Breakpoint %d at %s:%u", b->number, file_path(d, file), b->line);
    if (b->cond)
        error(d, "condition: %s; this breakpoint stops at every hit, as pdb does when a "
                 "condition cannot be evaluated", VALUES_MSG);
    return 0;
}

static int cmd_break(rw_dbg *d, const char *arg)
{
    return do_break(d, arg, 0);
}

static int cmd_tbreak(rw_dbg *d, const char *arg)
{
    return do_break(d, arg, 1);
}

/* bdb's get_bpbynumber; prints the error and returns NULL. */
/* An int literal (rw_dbg_parse_int's syntax) too large for a long long, which
 * Python's int() takes: its value as %d prints it, in buf (cut to cap). Returns 0
 * when s is no int literal. */
static int big_int(const char *s, char *buf, size_t cap)
{
    size_t n = 0;
    assert(cap > 1);
    while (isspace((unsigned char)*s))
        s++;
    if (*s == '+' || *s == '-') {
        if (*s == '-')
            buf[n++] = '-';
        s++;
    }
    if (!isdigit((unsigned char)*s))
        return 0;
    int lead = 1;
    for (; *s && !isspace((unsigned char)*s); s++) {
        if (*s == '_' && isdigit((unsigned char)s[-1]) && isdigit((unsigned char)s[1]))
            continue;
        if (!isdigit((unsigned char)*s))
            return 0;
        if (lead && *s == '0')
            continue;
        lead = 0;
        if (n + 1 < cap)
            buf[n++] = *s;
    }
    while (isspace((unsigned char)*s))
        s++;
    if (*s || lead)
        return 0;
    buf[n] = '\0';
    return 1;
}

/* bdb's get_bpbynumber (numbers index Breakpoint.bpbynumber, a Python list: [0] is
 * always None, negative numbers count from its end); prints "*** PREFIX" and its
 * message and returns NULL when there is no such breakpoint. */
static bp *bp_number(rw_dbg *d, const char *arg, const char *prefix)
{
    long long n;
    char big[512];
    if (!*arg) {
        error(d, "%sBreakpoint number expected", prefix);
        return NULL;
    }
    if (rw_dbg_parse_int(arg, &n) < 0) {
        if (big_int(arg, big, sizeof big))
            error(d, "%sBreakpoint number %s out of range", prefix, big);
        else
            error(d, "%sNon-numeric breakpoint number %s", prefix, arg);
        return NULL;
    }
    long long i = n < 0 ? n + d->nbps : n;
    if (i < 0 || i >= d->nbps) {
        error(d, "%sBreakpoint number %lld out of range", prefix, n);
        return NULL;
    }
    if (i == 0 || !d->bps[i]) { /* bps is NULL until the first breakpoint */
        error(d, "%sBreakpoint %lld already deleted", prefix, n);
        return NULL;
    }
    return d->bps[i];
}

static bp *get_bp(rw_dbg *d, const char *arg)
{
    return bp_number(d, arg, "");
}

static int for_each_number(rw_dbg *d, const char *arg, void (*fn)(rw_dbg *, bp *))
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", arg);
    char *w[MAX_WORDS];
    size_t n = split_words(buf, w, MAX_WORDS);
    for (size_t i = 0; i < n; i++) {
        bp *b = get_bp(d, w[i]);
        if (b)
            fn(d, b);
    }
    return 0;
}

static void enable_one(rw_dbg *d, bp *b)
{
    char s[4200];
    b->enabled = 1;
    bp_str(b, d, s, sizeof s);
    msg(d, "Enabled %s", s);
}

static void disable_one(rw_dbg *d, bp *b)
{
    char s[4200];
    b->enabled = 0;
    bp_str(b, d, s, sizeof s);
    msg(d, "Disabled %s", s);
}

static void clear_one(rw_dbg *d, bp *b)
{
    char s[4200];
    bp_str(b, d, s, sizeof s);
    if (b->number < d->nlists)
        cmdlist_clear(&d->lists[b->number]);
    bp_delete(d, b);
    msg(d, "Deleted %s", s);
}

static int cmd_enable(rw_dbg *d, const char *arg)
{
    return for_each_number(d, arg, enable_one);
}

static int cmd_disable(rw_dbg *d, const char *arg)
{
    return for_each_number(d, arg, disable_one);
}

static int cmd_clear(rw_dbg *d, const char *arg)
{
    if (!*arg) {
        char reply[256] = "";
        if (!d->input || !d->input(d->input_ctx, "Clear all breaks? ", reply, sizeof reply))
            snprintf(reply, sizeof reply, "no");
        const char *r = strip(reply);
        for (char *p = reply; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        if (!strcmp(r, "y") || !strcmp(r, "yes"))
            for (int i = 1; i < d->nbps; i++)
                if (d->bps[i])
                    clear_one(d, d->bps[i]);
        return 0;
    }
    const char *colon = strrchr(arg, ':');
    if (colon) {
        char fname[4096];
        snprintf(fname, sizeof fname, "%.*s", (int)(colon - arg), arg);
        long long lineno;
        if (rw_dbg_parse_int(colon + 1, &lineno) < 0) {
            error(d, "Invalid line number (%s)", colon + 1);
            return 0;
        }
        const Rewind__Metadata *md = rw_reader_metadata(d->r);
        char *c = canonic(fname, md ? md->cwd : NULL);
        int infile = 0, any = 0;
        for (int i = 1; i < d->nbps; i++) {
            bp *b = d->bps[i];
            if (b && c && !strcmp(file_path(d, b->file), c)) {
                infile = 1;
                any |= (long long)b->line == lineno;
            }
        }
        if (!infile)
            error(d, "There are no breakpoints in %s", c ? c : fname);
        else if (!any)
            error(d, "There is no breakpoint at %s:%lld", c, lineno);
        else
            for (int i = 1; i < d->nbps; i++) {
                bp *b = d->bps[i];
                if (b && !strcmp(file_path(d, b->file), c) && (long long)b->line == lineno)
                    clear_one(d, b);
            }
        free(c);
        return 0;
    }
    return for_each_number(d, arg, clear_one);
}

static int cmd_ignore(rw_dbg *d, const char *arg)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", arg);
    char *w[3];
    size_t n = split_words(buf, w, 3);
    long long count = 0;
    if (n < 2 || rw_dbg_parse_int(w[1], &count) < 0)
        count = 0;
    bp *b = get_bp(d, n ? w[0] : "");
    if (!b)
        return 0;
    b->ignore = count;
    if (count > 0) {
        if (count > 1)
            msg(d, "Will ignore next %lld crossings of breakpoint %d.", count, b->number);
        else
            msg(d, "Will ignore next 1 crossing of breakpoint %d.", b->number);
    } else {
        msg(d, "Will stop next time breakpoint %d is reached.", b->number);
    }
    return 0;
}

static int cmd_condition(rw_dbg *d, const char *arg)
{
    char num[256];
    const char *sp = strchr(arg, ' ');
    snprintf(num, sizeof num, "%.*s", (int)(sp ? (size_t)(sp - arg) : strlen(arg)), arg);
    bp *b = get_bp(d, strip(num));
    if (!b)
        return 0;
    free(b->cond);
    b->cond = sp && sp[1] ? xstrdup(sp + 1) : NULL;
    if (!b->cond) {
        msg(d, "Breakpoint %d is now unconditional.", b->number);
    } else {
        msg(d, "New condition set for breakpoint %d.", b->number);
        error(d, "condition: %s; the breakpoint stops at every hit, as pdb does when a "
                 "condition cannot be evaluated", VALUES_MSG);
    }
    return 0;
}

/* ---- breakpoint command lists ------------------------------------------------------------ */

/* pdb's do_commands: the lines that follow (read by the caller, which prompts
 * "(com) " while rw_dbg_defining) are the list of breakpoint arg, the last one set
 * by default, up to "end" or a resuming command (def_line). The list is emptied
 * first, so "commands N" then "end" removes it. */
static int cmd_commands(rw_dbg *d, const char *arg)
{
    static const char pfx[] = "cannot set commands: ";
    long long n;
    char num[512];
    if (!*arg) {
        n = d->nbps - 1; /* len(bdb.Breakpoint.bpbynumber) - 1 */
    } else if (rw_dbg_parse_int(arg, &n) < 0) {
        if (big_int(arg, num, sizeof num))
            bp_number(d, num, pfx); /* out of range */
        else
            error(d, "Usage: commands [bnum]\n        ...\n        end");
        return 0;
    }
    if (n == 0) {
        /* get_bpbynumber(0): "not arg" holds for the int 0 */
        error(d, "%sBreakpoint number expected", pfx);
        return 0;
    }
    snprintf(num, sizeof num, "%lld", n);
    if (!bp_number(d, num, pfx))
        return 0;
    cmdlist *l = &d->def_void;
    if (n > 0) {
        assert(n < d->nbps);
        if (n >= d->nlists) {
            cmdlist *nl = realloc(d->lists, (size_t)d->nbps * sizeof *nl);
            if (!nl) {
                error(d, "out of memory");
                return 0;
            }
            memset(nl + d->nlists, 0, (size_t)(d->nbps - d->nlists) * sizeof *nl);
            d->lists = nl;
            d->nlists = d->nbps;
        }
        l = &d->lists[n];
    }
    cmdlist_clear(l);
    l->defined = 1;
    l->doprompt = 1;
    d->defining = 1;
    d->def_bnum = n > 0 ? (int)n : 0;
    return 0;
}

/* ---- values --------------------------------------------------------------------------- */

/* What the log knows about the current stop, for the value commands. */
static void log_shows(rw_dbg *d, const char *cmd)
{
    char where[4400] = "";
    if (d->nstack) {
        const pframe *f = &d->stack[d->curindex];
        snprintf(where, sizeof where, "%s() at %s:%u", code_name(d, f->code),
                 file_path(d, code_file(d, f->code)), f->line);
    }
    if (d->postmortem && has_uncaught(d)) {
        const Rewind__RunEnd *e = rw_reader_end(d->r);
        error(d, "%s: %s; the log shows: %s, uncaught %s: %s", cmd, VALUES_MSG, where,
              e->uncaught_type, e->uncaught_message ? e->uncaught_message : "");
    } else if (d->ev.kind == RW_K_EXCEPTION && d->curindex + 1 == d->nstack) {
        error(d, "%s: %s; the log shows: %s, exception %s: %s", cmd, VALUES_MSG, where,
              exc_name(d, d->ev.name), d->ev.text ? d->ev.text : "");
    } else {
        error(d, "%s: %s; the log shows: %s", cmd, VALUES_MSG, where);
    }
}

static int cmd_values(rw_dbg *d, const char *arg, const char *name)
{
    (void)arg;
    log_shows(d, name);
    return 0;
}

static int cmd_p(rw_dbg *d, const char *arg) { return cmd_values(d, arg, "p"); }
static int cmd_pp(rw_dbg *d, const char *arg) { return cmd_values(d, arg, "pp"); }
static int cmd_whatis(rw_dbg *d, const char *arg) { return cmd_values(d, arg, "whatis"); }
static int cmd_interact(rw_dbg *d, const char *arg) { return cmd_values(d, arg, "interact"); }
static int cmd_debug(rw_dbg *d, const char *arg) { return cmd_values(d, arg, "debug"); }

static int cmd_display(rw_dbg *d, const char *arg)
{
    if (!*arg) {
        msg(d, "Currently displaying:");
        return 0;
    }
    return cmd_values(d, arg, "display");
}

static int cmd_undisplay(rw_dbg *d, const char *arg)
{
    if (*arg)
        error(d, "not displaying %s", arg);
    return 0;
}

static int cmd_args(rw_dbg *d, const char *arg)
{
    (void)arg;
    if (!d->nstack)
        return cmd_values(d, arg, "args");
    const Rewind__CodeDef *c = code_def(d, d->stack[d->curindex].code);
    if (!c || !c->n_arg_names)
        return 0;
    error(d, "args: %s; the log shows the names:", VALUES_MSG);
    for (size_t i = 0; i < c->n_arg_names; i++)
        msg(d, "%s", c->arg_names[i]);
    return 0;
}

static int cmd_retval(rw_dbg *d, const char *arg)
{
    (void)arg;
    if (!d->nstack || d->ev.kind != RW_K_RETURN || d->curindex + 1 != d->nstack) {
        error(d, "Not yet returned!");
        return 0;
    }
    error(d, "retval: %s; the log shows: %s() returns at event %llu", VALUES_MSG,
          code_name(d, d->stack[d->curindex].code), (unsigned long long)d->pos);
    return 0;
}

static int cmd_jump(rw_dbg *d, const char *arg)
{
    (void)arg;
    error(d, "jump: a recording cannot be changed; 'goto POS' moves to any position "
             "(an event number or FILE:LINE)");
    return 0;
}

static int cmd_run(rw_dbg *d, const char *arg)
{
    if (*arg) {
        error(d, "run: a recording cannot be run with other arguments");
        return 0;
    }
    const Rewind__Metadata *md = rw_reader_metadata(d->r);
    msg(d, "Restarting %s with arguments:", md && md->run_target ? md->run_target : "?");
    fputc('\t', d->out);
    for (size_t i = 1; md && i < md->n_argv; i++)
        fprintf(d->out, "%s%s", i > 1 ? " " : "", md->argv[i]);
    fputc('\n', d->out);
    return stop_at(d, d->start_pos);
}

/* ---- alias, help, quit ------------------------------------------------------------------ */

static int cmd_alias(rw_dbg *d, const char *arg)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", arg);
    char *w[MAX_WORDS];
    size_t n = split_words(buf, w, MAX_WORDS);
    if (!n) {
        /* sorted by name */
        for (size_t i = 0; i < d->naliases; i++)
            for (size_t j = i + 1; j < d->naliases; j++)
                if (strcmp(d->aliases[j].name, d->aliases[i].name) < 0) {
                    alias t = d->aliases[i];
                    d->aliases[i] = d->aliases[j];
                    d->aliases[j] = t;
                }
        for (size_t i = 0; i < d->naliases; i++)
            msg(d, "%s = %s", d->aliases[i].name, d->aliases[i].text);
        return 0;
    }
    size_t k;
    for (k = 0; k < d->naliases; k++)
        if (!strcmp(d->aliases[k].name, w[0]))
            break;
    if (k < d->naliases && n == 1) {
        msg(d, "%s = %s", d->aliases[k].name, d->aliases[k].text);
        return 0;
    }
    sbuf t = {0};
    sb_add(&t, "", 0);
    for (size_t i = 1; i < n; i++) {
        if (i > 1)
            sb_add(&t, " ", 1);
        sb_add(&t, w[i], strlen(w[i]));
    }
    if (t.oom) {
        free(t.p);
        error(d, "out of memory");
        return 0;
    }
    if (k < d->naliases) {
        free(d->aliases[k].text);
        d->aliases[k].text = t.p;
        return 0;
    }
    alias *na = realloc(d->aliases, (d->naliases + 1) * sizeof *na);
    char *name = xstrdup(w[0]);
    if (!na || !name) {
        free(t.p);
        free(name);
        if (na)
            d->aliases = na;
        error(d, "out of memory");
        return 0;
    }
    d->aliases = na;
    d->aliases[d->naliases].name = name;
    d->aliases[d->naliases].text = t.p;
    d->naliases++;
    return 0;
}

static int cmd_unalias(rw_dbg *d, const char *arg)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", arg);
    char *w[1];
    if (!split_words(buf, w, 1))
        return 0;
    for (size_t k = 0; k < d->naliases; k++)
        if (!strcmp(d->aliases[k].name, w[0])) {
            free(d->aliases[k].name);
            free(d->aliases[k].text);
            d->aliases[k] = d->aliases[--d->naliases];
            break;
        }
    return 0;
}

static int cmd_quit(rw_dbg *d, const char *arg)
{
    (void)arg;
    d->done = 1;
    return 1;
}

static int cmd_eof(rw_dbg *d, const char *arg)
{
    (void)arg;
    msg(d, "%s", "");
    d->done = 1;
    return 1;
}

static int cmd_help(rw_dbg *d, const char *arg);

typedef struct command {
    const char *name;
    int (*fn)(rw_dbg *, const char *);
    const char *help; /* the name whose help text this shares, NULL = own */
} command;

static const command commands[] = {
    {"EOF", cmd_eof, NULL},
    {"a", cmd_args, NULL},
    {"alias", cmd_alias, NULL},
    {"args", cmd_args, NULL},
    {"b", cmd_break, NULL},
    {"break", cmd_break, NULL},
    {"bt", cmd_where, NULL},
    {"c", cmd_continue, NULL},
    {"cl", cmd_clear, NULL},
    {"clear", cmd_clear, NULL},
    {"commands", cmd_commands, NULL},
    {"condition", cmd_condition, NULL},
    {"cont", cmd_continue, NULL},
    {"continue", cmd_continue, NULL},
    {"d", cmd_down, NULL},
    {"debug", cmd_debug, NULL},
    {"disable", cmd_disable, NULL},
    {"display", cmd_display, NULL},
    {"down", cmd_down, NULL},
    {"enable", cmd_enable, NULL},
    {"events", cmd_events, NULL},
    {"exceptions", cmd_exceptions, NULL},
    {"exit", cmd_quit, NULL},
    {"goto", cmd_goto, NULL},
    {"h", cmd_help, NULL},
    {"help", cmd_help, NULL},
    {"ignore", cmd_ignore, NULL},
    {"interact", cmd_interact, NULL},
    {"j", cmd_jump, NULL},
    {"jump", cmd_jump, NULL},
    {"l", cmd_list, NULL},
    {"list", cmd_list, NULL},
    {"ll", cmd_longlist, NULL},
    {"longlist", cmd_longlist, NULL},
    {"n", cmd_next, NULL},
    {"next", cmd_next, NULL},
    {"p", cmd_p, NULL},
    {"pp", cmd_pp, NULL},
    {"q", cmd_quit, NULL},
    {"quit", cmd_quit, NULL},
    {"r", cmd_return, NULL},
    {"rc", cmd_rcontinue, "rcontinue"},
    {"rcont", cmd_rcontinue, "rcontinue"},
    {"rcontinue", cmd_rcontinue, NULL},
    {"restart", cmd_run, NULL},
    {"return", cmd_return, NULL},
    {"retval", cmd_retval, NULL},
    {"rn", cmd_rnext, "rnext"},
    {"rnext", cmd_rnext, NULL},
    {"rr", cmd_rreturn, "rreturn"},
    {"rreturn", cmd_rreturn, NULL},
    {"rs", cmd_rstep, "rstep"},
    {"rstep", cmd_rstep, NULL},
    {"run", cmd_run, NULL},
    {"runt", cmd_runtil, "runtil"},
    {"runtil", cmd_runtil, NULL},
    {"rv", cmd_retval, NULL},
    {"s", cmd_step, NULL},
    {"source", cmd_source, NULL},
    {"step", cmd_step, NULL},
    {"tbreak", cmd_tbreak, NULL},
    {"thread", cmd_thread, NULL},
    {"u", cmd_up, NULL},
    {"unalias", cmd_unalias, NULL},
    {"undisplay", cmd_undisplay, NULL},
    {"unt", cmd_until, NULL},
    {"until", cmd_until, NULL},
    {"up", cmd_up, NULL},
    {"w", cmd_where, NULL},
    {"whatis", cmd_whatis, NULL},
    {"when", cmd_when, NULL},
    {"where", cmd_where, NULL},
};

#define NCOMMANDS (sizeof commands / sizeof *commands)

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

/* cmd.Cmd.columnize for a display width of 79. */
static void columnize(rw_dbg *d, const char **list, size_t size)
{
    const size_t width = 79;
    if (!size)
        return;
    size_t nrows, ncols = 1, colw[128];
    for (nrows = 1; nrows < size; nrows++) {
        ncols = (size + nrows - 1) / nrows;
        if (ncols > 128)
            continue;
        size_t tot = 0;
        for (size_t c = 0; c < ncols; c++) {
            size_t w = 0;
            for (size_t r = 0; r < nrows; r++) {
                size_t i = r + nrows * c;
                if (i < size && strlen(list[i]) > w)
                    w = strlen(list[i]);
            }
            colw[c] = w;
            tot += w + 2;
            if (tot > width)
                break;
        }
        if (tot <= width + 2)
            break;
    }
    if (nrows >= size) {
        nrows = size;
        ncols = 1;
        colw[0] = 0;
    }
    for (size_t r = 0; r < nrows; r++) {
        const char *texts[128];
        size_t nt = 0;
        for (size_t c = 0; c < ncols; c++) {
            size_t i = r + nrows * c;
            texts[nt++] = i < size ? list[i] : "";
        }
        while (nt && !*texts[nt - 1])
            nt--;
        for (size_t c = 0; c < nt; c++) {
            if (c)
                fputs("  ", d->out);
            fprintf(d->out, "%-*s", c + 1 < nt ? (int)colw[c] : (int)colw[c], texts[c]);
        }
        fputc('\n', d->out);
    }
}

static int cmd_help(rw_dbg *d, const char *arg)
{
    if (!*arg) {
        const char *names[NCOMMANDS];
        for (size_t i = 0; i < NCOMMANDS; i++)
            names[i] = commands[i].name;
        msg(d, "%s", "");
        msg(d, "Documented commands (type help <topic>):");
        msg(d, "========================================");
        columnize(d, names, NCOMMANDS);
        msg(d, "%s", "");
        msg(d, "Miscellaneous help topics:");
        msg(d, "==========================");
        const char *topics[] = {"exec", "pdb"};
        columnize(d, topics, 2);
        msg(d, "%s", "");
        return 0;
    }
    if (!strcmp(arg, "exec")) {
        msg(d, "%s", rw_dbg_help_exec);
        return 0;
    }
    if (!strcmp(arg, "pdb")) {
        msg(d, "rewind replay speaks pdb's commands (type help <command>) plus reverse "
               "commands: rstep, rnext, rreturn, rcontinue, runtil, goto, when, thread, "
               "exceptions, events. docs/replay.md has the full reference.");
        return 0;
    }
    const command *c = find_command(arg);
    const rw_dbg_help *h = rw_dbg_help_find(c && c->help ? c->help : arg);
    char r[512];
    if (!h) {
        py_repr(arg, r, sizeof r);
        error(d, "No help for %s", r);
        return 0;
    }
    msg(d, "%s", h->text);
    return 0;
}

/* ---- dispatch ---------------------------------------------------------------------------- */

static int statement(rw_dbg *d, const char *line)
{
    (void)line;
    error(d, "a recording cannot be changed, and Python statements and expressions need a "
             "re-execution replay, which this build does not have yet");
    return 0;
}

/* cmd.Cmd's onecmd: runs one command line as typed. Returns 1 when the position
 * moved. */
static int run_cmd(rw_dbg *d, const char *line)
{
    char name[64];
    size_t cap = strlen(line) + 1;
    char *arg = malloc(cap);
    if (!arg) {
        error(d, "out of memory");
        return 0;
    }
    rw_dbg_linekind k = rw_dbg_parseline(line, name, sizeof name, arg, cap);
    int rc = 0;
    if (k == RW_DBG_EMPTY) {
        if (d->lastcmd) {
            char *again = xstrdup(d->lastcmd);
            if (again)
                rc = run_cmd(d, again);
            free(again);
        }
        free(arg);
        return rc;
    }
    if (k == RW_DBG_STATEMENT) {
        rc = statement(d, line);
        free(arg);
        return rc;
    }
    /* cmd.Cmd: the line becomes lastcmd (EOF resets it). */
    char *copy = xstrdup(line);
    free(d->lastcmd);
    d->lastcmd = copy;
    if (!strcmp(name, "EOF")) {
        free(d->lastcmd);
        d->lastcmd = NULL;
    }
    const command *c = find_command(name);
    if (c) {
        rc = c->fn(d, arg);
    } else {
        char r[512];
        py_repr(name, r, sizeof r);
        error(d, "Unknown command %s: Python statements and expressions need a re-execution "
                 "replay, which this build does not have yet", r);
    }
    free(arg);
    return rc;
}

/* Does a list line naming c end the list being read? pdb 3.11's commands_resuming
 * (continue, step, next, return, quit, jump and their other names; not until),
 * plus the commands that move in time: the reverse ones and goto. */
static int resumes(const command *c)
{
    static int (*const fns[])(rw_dbg *, const char *) = {
        cmd_continue, cmd_step, cmd_next, cmd_return, cmd_quit, cmd_jump,
        cmd_rstep, cmd_rnext, cmd_rreturn, cmd_rcontinue, cmd_runtil, cmd_goto,
    };
    for (size_t i = 0; i < sizeof fns / sizeof *fns; i++)
        if (c->fn == fns[i])
            return 1;
    return 0;
}

/* The command a stored list line names; NULL when none. */
static const command *line_command(const char *line)
{
    char name[64], arg[8];
    if (rw_dbg_parseline(line, name, sizeof name, arg, sizeof arg) != RW_DBG_COMMAND)
        return NULL;
    return find_command(name);
}

/* pdb's handle_command_def: one line of the list being read. As cmd.Cmd.parseline
 * splits it, a line with no command name (empty, "!..." or not starting with an
 * identifier character) is skipped; "silent" marks the list, "end" ends it, any
 * other command is stored as "name arg", and a resuming one also ends the list. The
 * end of a list drops the commands queued behind ";;", as pdb does. */
static int def_line(rw_dbg *d, const char *line)
{
    assert(d->defining && (d->def_bnum == 0 || d->def_bnum < d->nlists));
    cmdlist *l = d->def_bnum > 0 ? &d->lists[d->def_bnum] : &d->def_void;
    size_t cap = strlen(line) + 1, namecap = cap + sizeof "help"; /* "?" is "help" */
    char *name = malloc(namecap), *arg = malloc(cap);
    if (!name || !arg) {
        error(d, "out of memory");
    } else if (rw_dbg_parseline(line, name, namecap, arg, cap) == RW_DBG_COMMAND && *name) {
        const command *c = find_command(name);
        int end = !strcmp(name, "end");
        if (!strcmp(name, "silent")) {
            l->silent = 1;
        } else if (!end) {
            sbuf t = {0};
            sb_add(&t, name, strlen(name));
            if (*arg) {
                sb_add(&t, " ", 1);
                sb_add(&t, arg, strlen(arg));
            }
            char **v = t.oom ? NULL : realloc(l->lines, (l->n + 1) * sizeof *v);
            if (v) {
                l->lines = v;
                l->lines[l->n++] = t.p;
            } else {
                free(t.p);
                error(d, "out of memory");
            }
            if (c && resumes(c)) {
                l->doprompt = 0;
                end = 1;
            }
        }
        if (end) {
            d->defining = 0;
            drop_queue(d);
        }
    }
    free(name);
    free(arg);
    return 0;
}

int rw_dbg_onecmd(rw_dbg *d, const char *line)
{
    if (d->defining)
        return def_line(d, line);
    return run_cmd(d, line);
}

int rw_dbg_defining(const rw_dbg *d)
{
    return d->defining;
}

/* Lists that resume in opposite directions (one continues to a breakpoint whose
 * list rcontinues to the first, ...) would go back and forth for ever without a
 * prompt; pdb has no reverse commands, so cannot. A chain of resuming lists that
 * changes direction this often stops at a prompt. */
#define LIST_TURNS_MAX 1000

int rw_dbg_interaction(rw_dbg *d)
{
    int num = d->currentbp;
    cmdlist *l = NULL;
    /* bp_commands runs from user_line: at line events only. */
    if (num && d->ev.kind == RW_K_LINE && !d->postmortem && !d->at_end)
        l = bp_list(d, num);
    if (l && d->list_turns >= LIST_TURNS_MAX) {
        error(d, "breakpoint command lists went back and forth %u times without a prompt "
                 "(lists that resume in opposite directions?): stopped here",
              d->list_turns);
        d->currentbp = 0;
        l = NULL;
    }
    if (!l) {
        d->list_turns = 0;
        d->list_dir = 0;
        rw_dbg_print_stop(d);
        return 0;
    }
    d->currentbp = 0;
    /* A copy: the lines may clear or redefine the list. */
    size_t n = l->n;
    int silent = l->silent, doprompt = l->doprompt;
    char **lines = n ? calloc(n, sizeof *lines) : NULL;
    for (size_t i = 0; lines && i < n; i++)
        lines[i] = xstrdup(l->lines[i]);
    if (n && !lines) {
        error(d, "out of memory");
        rw_dbg_print_stop(d);
        return 0;
    }
    /* pdb prints the stop after the list, before the program resumes: a resuming
     * last line (which moves at once here) runs after the stop is printed. jump
     * moves nothing here and prints its error in its turn. */
    size_t last = n;
    if (!doprompt && n) {
        const command *c = line_command(lines[n - 1]);
        if (c && c->fn != cmd_jump)
            last = n - 1;
    }
    char *lastcmd_back = d->lastcmd; /* bp_commands keeps lastcmd */
    d->lastcmd = NULL;
    uint64_t from = d->pos;
    int moved = 0;
    d->in_list = 1;
    /* A line that moves before the last (restart) ends the list, as pdb's Restart
     * does; the new position is a new stop. */
    for (size_t i = 0; i < last && !moved && !d->done; i++)
        if (lines[i])
            moved = run_cmd(d, lines[i]);
    if (!moved && !d->done) {
        if (!silent)
            rw_dbg_print_stop(d);
        if (last < n && lines[last])
            moved = run_cmd(d, lines[last]);
    }
    d->in_list = 0;
    free(d->lastcmd);
    d->lastcmd = lastcmd_back;
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    if (!d->bps[num]) /* a temporary breakpoint, deleted at this stop */
        cmdlist_clear(&d->lists[num]);
    if (d->done)
        return 1;
    if (!moved) {
        d->list_turns = 0;
        d->list_dir = 0;
        return 0;
    }
    int dir = d->pos > from ? 1 : d->pos < from ? -1 : 0;
    if (dir && d->list_dir && dir != d->list_dir)
        d->list_turns++;
    if (dir)
        d->list_dir = dir;
    return 1;
}

int rw_dbg_line(rw_dbg *d, const char *line)
{
    const char *p = line;
    while (isspace((unsigned char)*p))
        p++;
    if (!*p)
        return rw_dbg_onecmd(d, line);
    const char *names[64], *texts[64];
    size_t n = d->naliases < 64 ? d->naliases : 64;
    for (size_t i = 0; i < n; i++) {
        names[i] = d->aliases[i].name;
        texts[i] = d->aliases[i].text;
    }
    char *rest = NULL;
    char *x = rw_dbg_expand(line, names, texts, n, &rest);
    if (!x) {
        error(d, "alias expansion does not end (an alias that names itself?)");
        return 0;
    }
    if (rest && d->nqueue >= 1000) {
        error(d, "too many commands queued with ';;'; dropping them");
        drop_queue(d);
        free(rest);
        rest = NULL;
    }
    if (rest) {
        char **q = realloc(d->queue, (d->nqueue + 1) * sizeof *q);
        if (q) {
            d->queue = q;
            d->queue[d->nqueue++] = rest;
        } else {
            free(rest);
        }
    }
    int rc = rw_dbg_onecmd(d, x);
    free(x);
    return rc;
}

int rw_dbg_pending(rw_dbg *d, char *buf, size_t cap)
{
    if (!d->nqueue) {
        d->queued_runs = 0;
        return 0;
    }
    /* A queue that never empties (an alias that queues itself: "alias a s ;;a") would
     * run forever where nothing moves; pdb would too. Stop it. */
    if (++d->queued_runs > 1000) {
        error(d, "more than 1000 commands queued with ';;' in a row (an alias that queues "
                 "itself?): dropped");
        drop_queue(d);
        d->queued_runs = 0;
        return 0;
    }
    snprintf(buf, cap, "%s", d->queue[0]);
    free(d->queue[0]);
    memmove(d->queue, d->queue + 1, (d->nqueue - 1) * sizeof *d->queue);
    d->nqueue--;
    return 1;
}

/* ---- starting point ------------------------------------------------------------------------ */

rw_code rw_dbg_start(rw_dbg *d, const char *at, rw_err *err)
{
    if (!at)
        return load_pos(d, d->start_pos, err);
    if (!strcmp(at, "@crash"))
        return enter_crash(d, err) ? RW_OK : err->code;
    if (!strcmp(at, "@exception")) {
        if (!has_uncaught(d))
            return rw_err_set(err, RW_ENOTFOUND, "the program raised no uncaught exception");
        return enter_postmortem(d, err) ? RW_OK : err->code;
    }
    uint64_t pos;
    RW_TRY(rw_pos_parse(d->r, at, &pos, err));
    uint64_t found, n = rw_timeline_nevents(d->tl);
    rw_code rc = pos < n ? rw_timeline_next(d->tl, pos ? pos - 1 : UINT64_MAX, NOPOS,
                                            RW_TL_EVENTS, any_py_match, NULL, &found, err)
                         : RW_ENOTFOUND;
    if (rc == RW_ENOTFOUND)
        rc = rw_timeline_prev(d->tl, pos < n ? pos : n, 0, any_py_match, NULL, &found, err);
    RW_TRY(rc);
    RW_TRY(load_pos(d, found, err));
    print_kind(d);
    return RW_OK;
}
