/* pdb front end (pdb.h): pdb's commands and texts over the session engine.
 *
 * Each command parses its argument as pdb does, calls the session (session.h) and
 * prints what pdb prints, byte for byte. What the front end keeps is pdb's own state:
 * aliases, the ";;" queue, the last command, breakpoint command lists, bdb's
 * currentbp and list's continuation line. Stops, stacks and breakpoints live in the
 * session; values are asked of it (and its values provider).
 */
#include "pdb.h"

#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pdb_help.h"

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

struct rw_pdb {
    rw_session *s;
    rw_stop stop;          /* where the session stands (refreshed after each move) */
    FILE *out;
    rw_pdb_input input;
    void *input_ctx;
    rw_code last_err;
    long long lineno;      /* list continuation; 0 = none */

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

static void msg(rw_pdb *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void msg(rw_pdb *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(d->out, fmt, ap);
    va_end(ap);
    fputc('\n', d->out);
}

static void error(rw_pdb *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void error(rw_pdb *d, const char *fmt, ...)
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
static void fail(rw_pdb *d, const rw_err *e)
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

rw_pdb_linekind rw_pdb_parseline(const char *line, char *name, size_t namecap, char *argbuf,
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
        return RW_PDB_EMPTY;
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
        return RW_PDB_STATEMENT;
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
            return RW_PDB_STATEMENT;
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
    return RW_PDB_COMMAND;
}

int rw_pdb_parse_int(const char *s, long long *out)
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

char *rw_pdb_expand(const char *line, const char *const *names, const char *const *texts,
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

/* ---- the stop ---------------------------------------------------------------------- */

static void refresh(rw_pdb *d)
{
    rw_session_where(d->s, &d->stop);
}

static const rw_session_frame *selected_frame(const rw_pdb *d)
{
    assert(d->stop.nframes && d->stop.selected < d->stop.nframes);
    return &d->stop.frames[d->stop.selected];
}

static int source_line(rw_pdb *d, uint32_t f, long long line, char *buf, size_t cap)
{
    return rw_session_source_line(d->s, f, line, buf, cap);
}

/* The frame of the current stop the way format_stack_entry prints it. */
static void print_entry(rw_pdb *d, uint32_t i, const char *prefix)
{
    assert(i < d->stop.nframes);
    const rw_session_frame *f = &d->stop.frames[i];
    char line[4096];
    fprintf(d->out, "%s%s(%u)%s()", i == d->stop.selected ? "> " : prefix, f->file, f->line,
            f->function);
    if (source_line(d, f->file_id, f->line, line, sizeof line))
        fprintf(d->out, "\n-> %s", strip(line));
    fputc('\n', d->out);
}

void rw_pdb_print_stop(rw_pdb *d)
{
    if (!d->stop.nframes) {
        msg(d, "> (no Python frame in thread %u at event %llu)", d->stop.thread,
            (unsigned long long)d->stop.pos);
        return;
    }
    print_entry(d, d->stop.selected, "  ");
}

/* What pdb prints before the stack entry when it stops at this event. */
static void print_kind(rw_pdb *d)
{
    switch (d->stop.event_kind) {
    case RW_K_CALL:
        msg(d, "--Call--");
        break;
    case RW_K_RETURN:
        msg(d, "--Return--");
        break;
    case RW_K_EXCEPTION:
        if (*d->stop.exception.message)
            msg(d, "%s: %s", d->stop.exception.type, d->stop.exception.message);
        else
            msg(d, "%s", d->stop.exception.type);
        break;
    default:
        break;
    }
}

/* What pdb's main prints when it enters post mortem debugging. */
static void print_postmortem(rw_pdb *d)
{
    msg(d, "Traceback (most recent call last):");
    for (uint32_t i = 0; i < d->stop.nframes; i++) {
        const rw_session_frame *f = &d->stop.frames[i];
        const char *path = rw_session_file_recorded_path(d->s, f->file_id);
        char line[4096];
        msg(d, "  File \"%s\", line %u, in %s", path ? path : "?", f->line, f->function);
        if (source_line(d, f->file_id, f->line, line, sizeof line))
            msg(d, "    %s", strip(line));
    }
    if (*d->stop.exception.message)
        msg(d, "%s: %s", d->stop.exception.type, d->stop.exception.message);
    else
        msg(d, "%s", d->stop.exception.type);
    msg(d, "Uncaught exception. Entering post mortem debugging");
    msg(d, "Reverse commands (rstep, rnext, rreturn, rcontinue) go back from here; the "
           "recording ends here");
}

/* What happened at a crash stop. */
static void print_crash(rw_pdb *d)
{
    const rw_session_crash *c = &d->stop.crash;
    if (c->timeout)
        msg(d, "Timeout after %.3g s: the run was ended here; thread %u was at this line",
            c->timeout_s, d->stop.thread);
    else if (c->hardware)
        msg(d, "Crash: %s (a hardware fault at address 0x%llx) in thread %u; its last "
               "event is %llu", c->signal_name, (unsigned long long)c->fault_addr,
            d->stop.thread, (unsigned long long)d->stop.pos);
    else
        msg(d, "Crash: %s (sent by kill, raise or abort) in thread %u; its last event is %llu",
            c->signal_name, d->stop.thread, (unsigned long long)d->stop.pos);
    msg(d, "The recording ends here; reverse commands go back. 'rewind info' shows the "
           "C stack and the machine code.");
    print_kind(d);
}

/* Drops the commands queued behind ';;' (pdb drops its command queue when the
 * program ends): a queue that re-queues itself, such as a self-referring alias,
 * must end once the recording does. */
static void drop_queue(rw_pdb *d)
{
    for (size_t i = 0; i < d->nqueue; i++)
        free(d->queue[i]);
    d->nqueue = 0;
}

static const char START_MSG[] = "At the start of the program: nothing before this";

/* After a move that gave rc: prints what pdb prints of the stop (d->stop) or the
 * error. Returns 1 when the position moved. */
static int moved_to(rw_pdb *d, rw_code rc, const rw_err *e)
{
    if (rc != RW_OK) {
        refresh(d);
        fail(d, e);
        return 0;
    }
    const rw_stop *st = &d->stop;
    if (st->moved)
        d->lineno = 0;
    if (st->reason == RW_STOP_BREAKPOINT)
        d->currentbp = st->breakpoint; /* bdb's break_here; its list runs at the stop */
    if (st->deleted)
        msg(d, "Deleted breakpoint %d at %s:%u", st->deleted_bp.number,
            rw_session_file_path(d->s, st->deleted_bp.file_id), st->deleted_bp.line);
    switch (st->reason) {
    case RW_STOP_THREAD_END:
        drop_queue(d);
        msg(d, "The thread finished: the recording of thread %u ends here", st->thread);
        return 0;
    case RW_STOP_UNCAUGHT:
        drop_queue(d);
        if (!st->moved) {
            error(d, "the recording ends here, at the uncaught exception; reverse commands "
                     "go back");
            return 0;
        }
        print_postmortem(d);
        return 1;
    case RW_STOP_END: {
        rw_session_run run;
        drop_queue(d);
        rw_session_run_info(d->s, &run);
        if (run.has_end)
            msg(d, "The program finished and the recording ends here (exit status %d)",
                run.exit_status);
        else
            msg(d, "The recording ends here (it was cut short: no end record)");
        if (!st->moved)
            return 0;
        print_kind(d);
        return 1;
    }
    case RW_STOP_START:
        if (!st->moved) {
            error(d, "%s", START_MSG);
            return 0;
        }
        msg(d, "No breakpoint hit before this: back to the start of the program");
        print_kind(d);
        return 1;
    case RW_STOP_AT_CALL:
        error(d, "Already at the call of %s()", selected_frame(d)->function);
        return 0;
    case RW_STOP_CRASH:
        print_crash(d);
        return 1;
    default:
        print_kind(d);
        return 1;
    }
}

/* ---- life cycle ------------------------------------------------------------------- */

rw_code rw_pdb_new(const rw_reader *r, FILE *out, rw_pdb **out_pdb, rw_err *err)
{
    rw_pdb *d = calloc(1, sizeof *d);
    if (!d)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    d->out = out;
    rw_code rc = rw_session_new(r, &d->s, err);
    if (rc != RW_OK) {
        free(d);
        return rc;
    }
    refresh(d);
    *out_pdb = d;
    return RW_OK;
}

static void cmdlist_clear(cmdlist *l);

void rw_pdb_free(rw_pdb *d)
{
    if (!d)
        return;
    rw_session_free(d->s);
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
    free(d);
}

rw_session *rw_pdb_session(rw_pdb *d)
{
    return d->s;
}

void rw_pdb_set_input(rw_pdb *d, rw_pdb_input fn, void *ctx)
{
    d->input = fn;
    d->input_ctx = ctx;
}

int rw_pdb_done(const rw_pdb *d)
{
    return d->done;
}

rw_code rw_pdb_error(const rw_pdb *d)
{
    return d->last_err;
}

/* ---- moving: step, next, return, continue, until and the reverse commands ------------- */

typedef rw_code (*move_fn)(rw_session *s, rw_stop *stop, rw_err *err);

static int move(rw_pdb *d, move_fn fn)
{
    rw_err e;
    rw_code rc = fn(d->s, &d->stop, &e);
    return moved_to(d, rc, &e);
}

static int cmd_step(rw_pdb *d, const char *arg)
{
    (void)arg;
    return move(d, rw_session_step);
}

static int cmd_next(rw_pdb *d, const char *arg)
{
    (void)arg;
    return move(d, rw_session_next);
}

static int cmd_return(rw_pdb *d, const char *arg)
{
    (void)arg;
    return move(d, rw_session_return);
}

static int cmd_continue(rw_pdb *d, const char *arg)
{
    (void)arg;
    return move(d, rw_session_continue);
}

static int cmd_until(rw_pdb *d, const char *arg)
{
    long long lineno = 0;
    if (!d->stop.nframes)
        return cmd_step(d, arg);
    const rw_session_frame *f = selected_frame(d);
    if (*arg) {
        if (rw_pdb_parse_int(arg, &lineno) < 0) {
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
    rw_err e;
    rw_code rc = rw_session_until(d->s, lineno, &d->stop, &e);
    return moved_to(d, rc, &e);
}

static int cmd_rstep(rw_pdb *d, const char *arg)
{
    (void)arg;
    return move(d, rw_session_rstep);
}

static int cmd_rnext(rw_pdb *d, const char *arg)
{
    (void)arg;
    return move(d, rw_session_rnext);
}

static int cmd_rreturn(rw_pdb *d, const char *arg)
{
    (void)arg;
    return move(d, rw_session_rreturn);
}

static int cmd_rcontinue(rw_pdb *d, const char *arg)
{
    (void)arg;
    return move(d, rw_session_rcontinue);
}

static int cmd_runtil(rw_pdb *d, const char *arg)
{
    long long lineno;
    if (d->stop.postmortem || !d->stop.nframes)
        return cmd_rstep(d, arg);
    const rw_session_frame *f = selected_frame(d);
    if (*arg) {
        if (rw_pdb_parse_int(arg, &lineno) < 0) {
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
    rw_err e;
    rw_code rc = rw_session_runtil(d->s, lineno, &d->stop, &e);
    return moved_to(d, rc, &e);
}

/* ---- goto, when, thread, exceptions, events ------------------------------------------- */

static int cmd_goto(rw_pdb *d, const char *arg)
{
    if (!*arg) {
        error(d, "goto needs a position: an event number, @start, @end, @exception, "
                 "@peak, a time such as 1.5s, or FILE:LINE");
        return 0;
    }
    rw_err e;
    rw_code rc;
    if (!strcmp(arg, "@exception")) {
        if ((rc = rw_session_goto_uncaught(d->s, &d->stop, &e)) != RW_OK)
            return moved_to(d, rc, &e);
        d->lineno = 0;
        print_postmortem(d);
        return 1;
    }
    if (!strcmp(arg, "@crash"))
        return moved_to(d, rw_session_goto_crash(d->s, &d->stop, &e), &e);
    uint64_t pos;
    if (rw_session_parse_position(d->s, arg, &pos, &e) != RW_OK) {
        fail(d, &e);
        return 0;
    }
    rc = rw_session_goto(d->s, pos, &d->stop, &e);
    return moved_to(d, rc, &e);
}

static int cmd_when(rw_pdb *d, const char *arg)
{
    (void)arg;
    rw_session_thread t;
    const char *name = rw_session_thread_info(d->s, d->stop.thread, &t) ? t.name : "?";
    msg(d, "event %llu of %llu, %.6f s since the start, thread %u (%s)%s",
        (unsigned long long)d->stop.pos, (unsigned long long)rw_session_nevents(d->s),
        d->stop.time_ns / 1e9, d->stop.thread, name, d->stop.postmortem ? ", postmortem" : "");
    return 0;
}

static int cmd_thread(rw_pdb *d, const char *arg)
{
    uint32_t nthreads = rw_session_nthreads(d->s);
    if (!*arg) {
        for (uint32_t i = 1; i < nthreads; i++) {
            rw_session_thread t;
            if (!rw_session_thread_info(d->s, i, &t))
                continue;
            msg(d, "%s%u %s (ident %llu, native id %llu)%s", i == d->stop.thread ? "* " : "  ",
                i, t.name, (unsigned long long)t.ident, (unsigned long long)t.native_id,
                t.is_main ? " main" : "");
        }
        return 0;
    }
    long long n;
    if (rw_pdb_parse_int(arg, &n) < 0 || n < 1 || (uint64_t)n >= nthreads) {
        error(d, "Invalid thread number (%s): 'thread' lists them", arg);
        return 0;
    }
    rw_err e;
    rw_code rc = rw_session_goto_thread(d->s, (uint32_t)n, &d->stop, &e);
    return moved_to(d, rc, &e);
}

typedef struct exc_ctx {
    rw_pdb *d;
    uint64_t count;
} exc_ctx;

#define EXC_LIST_MAX 1000

static int exc_visit(void *p, const rw_session_record *r)
{
    exc_ctx *c = p;
    rw_pdb *d = c->d;
    if (++c->count > EXC_LIST_MAX)
        return 0;
    fprintf(d->out, "%10llu  thread %u  %s", (unsigned long long)r->pos, r->thread, r->name);
    if (r->text && r->text_len)
        fprintf(d->out, ": %.*s", (int)(r->text_len > 200 ? 200 : r->text_len), r->text);
    fprintf(d->out, "  %s:%u %s()\n", r->file, r->line, r->function);
    return 0;
}

static int cmd_exceptions(rw_pdb *d, const char *arg)
{
    (void)arg;
    exc_ctx c = {d, 0};
    rw_err e;
    if (rw_session_visit(d->s, 0, UINT64_MAX, 1, exc_visit, &c, &e) != RW_OK) {
        fail(d, &e);
        return 0;
    }
    if (!c.count)
        msg(d, "No exception was raised during the recording");
    else if (c.count > EXC_LIST_MAX)
        msg(d, "... and %llu more", (unsigned long long)(c.count - EXC_LIST_MAX));
    return 0;
}

static int ev_visit(void *p, const rw_session_record *r)
{
    rw_pdb *d = p;
    if (r->cls == RW_REC_ALLOC || r->cls == RW_REC_FREE)
        return 0; /* allocations would drown the events; `rewind memory` shows them */
    fprintf(d->out, "%s%10llu  %-11s t%u", r->is_current ? "=> " : "   ",
            (unsigned long long)r->pos, r->kind_name, r->thread);
    switch (r->cls) {
    case RW_REC_PYTHON:
        fprintf(d->out, "  depth %u  %s:%u %s()", r->depth, r->file, r->line, r->function);
        break;
    case RW_REC_EXCEPTION:
    case RW_REC_AUDIT:
        fprintf(d->out, r->cls == RW_REC_AUDIT ? "  %s %.*s" : "  %s: %.*s", r->name,
                (int)(r->text_len > 200 ? 200 : r->text_len), r->text ? r->text : "");
        break;
    case RW_REC_C:
        fprintf(d->out, "  depth %u  %s", r->depth, r->label);
        break;
    default:
        break;
    }
    fputc('\n', d->out);
    return 0;
}

static int cmd_events(rw_pdb *d, const char *arg)
{
    long long n = 5;
    if (*arg && (rw_pdb_parse_int(arg, &n) < 0 || n < 0)) {
        error(d, "Invalid count (%s)", arg);
        return 0;
    }
    if (n > 1000)
        n = 1000;
    uint64_t pos = d->stop.pos;
    uint64_t from = pos > (uint64_t)n ? pos - (uint64_t)n : 0;
    rw_err e;
    if (rw_session_visit(d->s, from, pos + (uint64_t)n + 1, 0, ev_visit, d, &e) != RW_OK)
        fail(d, &e);
    return 0;
}

/* ---- where, up, down, list, longlist, source --------------------------------------------- */

static int cmd_where(rw_pdb *d, const char *arg)
{
    (void)arg;
    for (uint32_t i = 0; i < d->stop.nframes; i++)
        print_entry(d, i, "  ");
    return 0;
}

static void select_frame(rw_pdb *d, uint32_t i)
{
    rw_session_select(d->s, i);
    d->stop.selected = i;
    print_entry(d, i, "  ");
    d->lineno = 0;
}

static int cmd_up(rw_pdb *d, const char *arg)
{
    if (d->stop.selected == 0) {
        error(d, "Oldest frame");
        return 0;
    }
    long long count = 1;
    if (*arg && rw_pdb_parse_int(arg, &count) < 0) {
        error(d, "Invalid frame count (%s)", arg);
        return 0;
    }
    long long nf = count < 0 ? 0 : (long long)d->stop.selected - count;
    select_frame(d, nf < 0 ? 0 : (uint32_t)nf);
    return 0;
}

static int cmd_down(rw_pdb *d, const char *arg)
{
    if (d->stop.selected + 1 >= d->stop.nframes) {
        error(d, "Newest frame");
        return 0;
    }
    long long count = 1;
    if (*arg && rw_pdb_parse_int(arg, &count) < 0) {
        error(d, "Invalid frame count (%s)", arg);
        return 0;
    }
    long long last = (long long)d->stop.nframes - 1;
    long long nf = count < 0 ? last : (long long)d->stop.selected + count;
    select_frame(d, (uint32_t)(nf > last ? last : nf));
    return 0;
}

static int file_has_bp_line(const rw_pdb *d, uint32_t f, long long line)
{
    for (int i = 1; i < rw_session_break_limit(d->s); i++) {
        const rw_breakpoint *b = rw_session_break_get(d->s, i);
        if (b && b->file_id == f && (long long)b->line == line)
            return 1;
    }
    return 0;
}

/* pdb's _print_lines: lines first..last of file f, with B and -> marks when frame
 * is the current one (cur_line > 0). */
static void print_lines(rw_pdb *d, uint32_t f, long long first, long long last, int marks,
                        long long cur_line)
{
    char line[4096];
    for (long long n = first; n <= last; n++) {
        if (!source_line(d, f, n, line, sizeof line))
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

static int cmd_list(rw_pdb *d, const char *arg)
{
    free(d->lastcmd);
    d->lastcmd = xstrdup("list");
    if (!d->stop.nframes) {
        error(d, "No Python frame here");
        return 0;
    }
    const rw_session_frame *fr = selected_frame(d);
    long long first, last = 0;
    int have_last = 0;
    if (*arg && strcmp(arg, ".")) {
        char a[256];
        snprintf(a, sizeof a, "%s", arg);
        char *comma = strchr(a, ',');
        int ok;
        if (comma) {
            *comma = '\0';
            ok = !strchr(comma + 1, ',') && rw_pdb_parse_int(a, &first) == 0 &&
                 rw_pdb_parse_int(comma + 1, &last) == 0;
            if (ok && last < first)
                last = first + last;
            have_last = 1;
        } else {
            ok = rw_pdb_parse_int(a, &first) == 0;
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
    uint32_t f = fr->file_id;
    long long n = (long long)rw_session_source_nlines(d->s, f);
    print_lines(d, f, first < 1 ? 1 : first, last, 1, fr->line);
    d->lineno = last < n ? last : n;
    if (n < last)
        msg(d, "[EOF]");
    return 0;
}

/* The lines of a code object's block: a module is the whole file; a function runs
 * from its first line to the last line indented deeper than it (inspect.getblock). */
static void block_of(rw_pdb *d, uint32_t code, long long *first, long long *last)
{
    rw_session_code c;
    int known = rw_session_code_info(d->s, code, &c);
    uint32_t f = known ? c.file_id : 0;
    long long n = (long long)rw_session_source_nlines(d->s, f);
    if (!known || !strcmp(c.name, "<module>")) {
        *first = 1;
        *last = n;
        return;
    }
    char line[4096];
    long long start = c.first_line ? c.first_line : 1;
    if (!source_line(d, f, start, line, sizeof line)) {
        *first = start;
        *last = start - 1;
        return;
    }
    size_t ind = strspn(line, " \t");
    /* Decorators: the block's indentation is that of the def line under them. */
    long long k = start, end = start;
    while (line[ind] == '@' && source_line(d, f, k + 1, line, sizeof line)) {
        k++;
        end = k;
    }
    source_line(d, f, k, line, sizeof line);
    ind = strspn(line, " \t");
    int open = 0; /* brackets open across lines */
    for (long long i = k; i <= n; i++) {
        if (!source_line(d, f, i, line, sizeof line))
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

static int cmd_longlist(rw_pdb *d, const char *arg)
{
    (void)arg;
    if (!d->stop.nframes) {
        error(d, "No Python frame here");
        return 0;
    }
    const rw_session_frame *fr = selected_frame(d);
    long long first, last;
    uint32_t f = fr->file_id;
    if (!rw_session_source_nlines(d->s, f)) {
        error(d, "could not get source code");
        return 0;
    }
    block_of(d, fr->code_id, &first, &last);
    print_lines(d, f, first, last, 1, fr->line);
    return 0;
}

/* A code object named by the user: its qualname or name, one in the current file
 * first. 0 when none ran. */
static uint32_t find_code(rw_pdb *d, const char *name)
{
    uint32_t cur_file = d->stop.nframes ? selected_frame(d)->file_id : 0;
    return rw_session_find_code(d->s, name, cur_file);
}

static int cmd_source(rw_pdb *d, const char *arg)
{
    if (!*arg) {
        error(d, "source needs a function name");
        return 0;
    }
    uint32_t code = find_code(d, arg);
    if (!code) {
        /* Other objects are values: the provider would name them. */
        char r[512], *val = NULL;
        rw_err ve;
        if (rw_session_eval(d->s, arg, &val, &ve) == RW_OK) {
            free(val);
            snprintf(ve.msg, sizeof ve.msg, "its value is no function");
        }
        py_repr(arg, r, sizeof r);
        error(d, "source: no function named %s ran in this recording (%s to look at "
                 "other objects)", r, ve.msg);
        return 0;
    }
    rw_session_code c;
    rw_session_code_info(d->s, code, &c);
    uint32_t f = c.file_id;
    if (!rw_session_source_nlines(d->s, f)) {
        error(d, "could not get source code");
        return 0;
    }
    long long first, last;
    block_of(d, code, &first, &last);
    print_lines(d, f, first, last, 0, 0);
    return 0;
}

/* ---- breakpoints: break, tbreak, clear, enable, disable, ignore, condition --------------- */

/* pdb's checkline: the line exists and is not blank, a comment or a docstring start. */
static int checkline(rw_pdb *d, uint32_t f, long long line)
{
    char buf[4096];
    if (!source_line(d, f, line, buf, sizeof buf)) {
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
static long long find_function(rw_pdb *d, uint32_t f, const char *name)
{
    char buf[4096];
    size_t n = rw_session_source_nlines(d->s, f), nl = strlen(name);
    for (size_t i = 1; i <= n; i++) {
        if (!source_line(d, f, (long long)i, buf, sizeof buf))
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

static void list_breaks(rw_pdb *d)
{
    int any = 0, limit = rw_session_break_limit(d->s);
    for (int i = 1; i < limit; i++)
        any |= rw_session_break_get(d->s, i) != NULL;
    if (!any)
        return;
    msg(d, "Num Type         Disp Enb   Where");
    for (int i = 1; i < limit; i++) {
        const rw_breakpoint *b = rw_session_break_get(d->s, i);
        if (!b)
            continue;
        msg(d, "%-4dbreakpoint   %s%s at %s:%u", b->number, b->temporary ? "del  " : "keep ",
            b->enabled ? "yes  " : "no   ", rw_session_file_path(d->s, b->file_id), b->line);
        if (b->condition)
            msg(d, "\tstop only if %s", b->condition);
        if (b->ignore)
            msg(d, "\tignore next %lld hits", b->ignore);
        if (b->hits)
            msg(d, "\tbreakpoint already hit %lld time%s", b->hits, b->hits > 1 ? "s" : "");
    }
}

/* The file a breakpoint goes to by default: the selected frame's, else the main
 * program's. */
static uint32_t current_file(rw_pdb *d)
{
    return d->stop.nframes ? selected_frame(d)->file_id : rw_session_main_file(d->s);
}

static int do_break(rw_pdb *d, const char *argin, int temporary)
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
        file = rw_session_lookup_file(d->s, fname);
        if (!file) {
            py_repr(fname, r, sizeof r);
            error(d, "%s not found from sys.path", r);
            return 0;
        }
        char *ln = colon + 1;
        while (isspace((unsigned char)*ln))
            ln++;
        if (rw_pdb_parse_int(ln, &lineno) < 0) {
            error(d, "Bad lineno: %s", ln);
            return 0;
        }
    } else if (rw_pdb_parse_int(arg, &lineno) < 0) {
        uint32_t code = find_code(d, strip(arg));
        rw_session_code c;
        if (code && rw_session_code_info(d->s, code, &c)) {
            funcname = c.name;
            lineno = c.first_line;
            file = c.file_id;
        } else {
            /* lineinfo: "def NAME(" in the current file. */
            const char *id = strip(arg);
            const char *last = strrchr(id, '.');
            uint32_t f = current_file(d);
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
        file = current_file(d);
    if (!checkline(d, file, lineno))
        return 0;
    int number;
    rw_err e;
    if (rw_session_break_add(d->s, file, (uint32_t)lineno, funcname, cond && *cond ? cond : NULL,
                             temporary, &number, &e) != RW_OK) {
        error(d, "out of memory");
        return 0;
    }
    const rw_breakpoint *b = rw_session_break_get(d->s, number);
    msg(d, "Breakpoint %d at %s:%u", b->number, rw_session_file_path(d->s, file), b->line);
    if (b->condition)
        error(d, "condition: %s; this breakpoint stops at every hit, as pdb does when a "
                 "condition cannot be evaluated", RW_VALUES_NEED_REEXEC);
    return 0;
}

static int cmd_break(rw_pdb *d, const char *arg)
{
    return do_break(d, arg, 0);
}

static int cmd_tbreak(rw_pdb *d, const char *arg)
{
    return do_break(d, arg, 1);
}

/* An int literal (rw_pdb_parse_int's syntax) too large for a long long, which
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
static const rw_breakpoint *bp_number(rw_pdb *d, const char *arg, const char *prefix)
{
    long long n;
    char big[512];
    int limit = rw_session_break_limit(d->s);
    if (!*arg) {
        error(d, "%sBreakpoint number expected", prefix);
        return NULL;
    }
    if (rw_pdb_parse_int(arg, &n) < 0) {
        if (big_int(arg, big, sizeof big))
            error(d, "%sBreakpoint number %s out of range", prefix, big);
        else
            error(d, "%sNon-numeric breakpoint number %s", prefix, arg);
        return NULL;
    }
    long long i = n < 0 ? n + limit : n;
    if (i < 0 || i >= limit) {
        error(d, "%sBreakpoint number %lld out of range", prefix, n);
        return NULL;
    }
    const rw_breakpoint *b = rw_session_break_get(d->s, (int)i);
    if (!b) { /* number 0, or deleted */
        error(d, "%sBreakpoint %lld already deleted", prefix, n);
        return NULL;
    }
    return b;
}

static const rw_breakpoint *get_bp(rw_pdb *d, const char *arg)
{
    return bp_number(d, arg, "");
}

static int for_each_number(rw_pdb *d, const char *arg,
                           void (*fn)(rw_pdb *, const rw_breakpoint *))
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", arg);
    char *w[MAX_WORDS];
    size_t n = split_words(buf, w, MAX_WORDS);
    for (size_t i = 0; i < n; i++) {
        const rw_breakpoint *b = get_bp(d, w[i]);
        if (b)
            fn(d, b);
    }
    return 0;
}

static void bp_str(const rw_pdb *d, const rw_breakpoint *b, char *buf, size_t cap)
{
    snprintf(buf, cap, "breakpoint %d at %s:%u", b->number,
             rw_session_file_path(d->s, b->file_id), b->line);
}

static void enable_one(rw_pdb *d, const rw_breakpoint *b)
{
    char s[4200];
    rw_session_break_enable(d->s, b->number, 1);
    bp_str(d, b, s, sizeof s);
    msg(d, "Enabled %s", s);
}

static void disable_one(rw_pdb *d, const rw_breakpoint *b)
{
    char s[4200];
    rw_session_break_enable(d->s, b->number, 0);
    bp_str(d, b, s, sizeof s);
    msg(d, "Disabled %s", s);
}

static void clear_one(rw_pdb *d, const rw_breakpoint *b)
{
    char s[4200];
    int number = b->number;
    bp_str(d, b, s, sizeof s);
    if (number < d->nlists)
        cmdlist_clear(&d->lists[number]);
    rw_session_break_delete(d->s, number);
    msg(d, "Deleted %s", s);
}

static int cmd_enable(rw_pdb *d, const char *arg)
{
    return for_each_number(d, arg, enable_one);
}

static int cmd_disable(rw_pdb *d, const char *arg)
{
    return for_each_number(d, arg, disable_one);
}

static int cmd_clear(rw_pdb *d, const char *arg)
{
    int limit = rw_session_break_limit(d->s);
    if (!*arg) {
        char reply[256] = "";
        if (!d->input || !d->input(d->input_ctx, "Clear all breaks? ", reply, sizeof reply))
            snprintf(reply, sizeof reply, "no");
        const char *r = strip(reply);
        for (char *p = reply; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        if (!strcmp(r, "y") || !strcmp(r, "yes"))
            for (int i = 1; i < limit; i++)
                if (rw_session_break_get(d->s, i))
                    clear_one(d, rw_session_break_get(d->s, i));
        return 0;
    }
    const char *colon = strrchr(arg, ':');
    if (colon) {
        char fname[4096];
        snprintf(fname, sizeof fname, "%.*s", (int)(colon - arg), arg);
        long long lineno;
        if (rw_pdb_parse_int(colon + 1, &lineno) < 0) {
            error(d, "Invalid line number (%s)", colon + 1);
            return 0;
        }
        char *c = rw_session_canonic(d->s, fname);
        int infile = 0, any = 0;
        for (int i = 1; i < limit; i++) {
            const rw_breakpoint *b = rw_session_break_get(d->s, i);
            if (b && c && !strcmp(rw_session_file_path(d->s, b->file_id), c)) {
                infile = 1;
                any |= (long long)b->line == lineno;
            }
        }
        if (!infile)
            error(d, "There are no breakpoints in %s", c ? c : fname);
        else if (!any)
            error(d, "There is no breakpoint at %s:%lld", c, lineno);
        else
            for (int i = 1; i < limit; i++) {
                const rw_breakpoint *b = rw_session_break_get(d->s, i);
                if (b && !strcmp(rw_session_file_path(d->s, b->file_id), c) &&
                    (long long)b->line == lineno)
                    clear_one(d, b);
            }
        free(c);
        return 0;
    }
    return for_each_number(d, arg, clear_one);
}

static int cmd_ignore(rw_pdb *d, const char *arg)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", arg);
    char *w[3];
    size_t n = split_words(buf, w, 3);
    long long count = 0;
    if (n < 2 || rw_pdb_parse_int(w[1], &count) < 0)
        count = 0;
    const rw_breakpoint *b = get_bp(d, n ? w[0] : "");
    if (!b)
        return 0;
    rw_session_break_ignore(d->s, b->number, count);
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

static int cmd_condition(rw_pdb *d, const char *arg)
{
    char num[256];
    const char *sp = strchr(arg, ' ');
    snprintf(num, sizeof num, "%.*s", (int)(sp ? (size_t)(sp - arg) : strlen(arg)), arg);
    const rw_breakpoint *b = get_bp(d, strip(num));
    if (!b)
        return 0;
    rw_err e;
    if (rw_session_break_condition(d->s, b->number, sp && sp[1] ? sp + 1 : NULL, &e) !=
        RW_OK) {
        error(d, "out of memory");
        return 0;
    }
    if (!b->condition) {
        msg(d, "Breakpoint %d is now unconditional.", b->number);
    } else {
        msg(d, "New condition set for breakpoint %d.", b->number);
        error(d, "condition: %s; the breakpoint stops at every hit, as pdb does when a "
                 "condition cannot be evaluated", RW_VALUES_NEED_REEXEC);
    }
    return 0;
}

/* ---- breakpoint command lists ------------------------------------------------------------ */

/* Empties a command list and forgets that it was defined. */
static void cmdlist_clear(cmdlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->lines[i]);
    free(l->lines);
    memset(l, 0, sizeof *l);
}

/* The command list of breakpoint number n; NULL when none was defined. */
static cmdlist *bp_list(rw_pdb *d, int n)
{
    return n > 0 && n < d->nlists && d->lists[n].defined ? &d->lists[n] : NULL;
}

/* pdb's do_commands: the lines that follow (read by the caller, which prompts
 * "(com) " while rw_pdb_defining) are the list of breakpoint arg, the last one set
 * by default, up to "end" or a resuming command (def_line). The list is emptied
 * first, so "commands N" then "end" removes it. */
static int cmd_commands(rw_pdb *d, const char *arg)
{
    static const char pfx[] = "cannot set commands: ";
    long long n;
    char num[512];
    int limit = rw_session_break_limit(d->s);
    if (!*arg) {
        n = limit - 1; /* len(bdb.Breakpoint.bpbynumber) - 1 */
    } else if (rw_pdb_parse_int(arg, &n) < 0) {
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
        assert(n < limit);
        if (n >= d->nlists) {
            cmdlist *nl = realloc(d->lists, (size_t)limit * sizeof *nl);
            if (!nl) {
                error(d, "out of memory");
                return 0;
            }
            memset(nl + d->nlists, 0, (size_t)(limit - d->nlists) * sizeof *nl);
            d->lists = nl;
            d->nlists = limit;
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

/* ---- values: asked of the session's provider ------------------------------------------- */

/* What the log knows about the current stop, after the provider's answer why. */
static void log_shows(rw_pdb *d, const char *cmd, const char *why)
{
    char where[4400] = "";
    if (d->stop.nframes) {
        const rw_session_frame *f = selected_frame(d);
        snprintf(where, sizeof where, "%s() at %s:%u", f->function, f->file, f->line);
    }
    if (d->stop.postmortem) {
        error(d, "%s: %s; the log shows: %s, uncaught %s: %s", cmd, why, where,
              d->stop.exception.type, d->stop.exception.message);
    } else if (d->stop.event_kind == RW_K_EXCEPTION &&
               d->stop.selected + 1 == d->stop.nframes) {
        error(d, "%s: %s; the log shows: %s, exception %s: %s", cmd, why, where,
              d->stop.exception.type, d->stop.exception.message);
    } else {
        error(d, "%s: %s; the log shows: %s", cmd, why, where);
    }
}

static int cmd_values(rw_pdb *d, const char *arg, const char *name)
{
    char *val = NULL;
    rw_err e;
    if (rw_session_eval(d->s, arg, &val, &e) == RW_OK) {
        msg(d, "%s", val);
        free(val);
        return 0;
    }
    log_shows(d, name, e.msg);
    return 0;
}

static int cmd_p(rw_pdb *d, const char *arg) { return cmd_values(d, arg, "p"); }
static int cmd_pp(rw_pdb *d, const char *arg) { return cmd_values(d, arg, "pp"); }
static int cmd_whatis(rw_pdb *d, const char *arg) { return cmd_values(d, arg, "whatis"); }
static int cmd_interact(rw_pdb *d, const char *arg) { return cmd_values(d, arg, "interact"); }
static int cmd_debug(rw_pdb *d, const char *arg) { return cmd_values(d, arg, "debug"); }

static int cmd_display(rw_pdb *d, const char *arg)
{
    if (!*arg) {
        msg(d, "Currently displaying:");
        return 0;
    }
    return cmd_values(d, arg, "display");
}

static int cmd_undisplay(rw_pdb *d, const char *arg)
{
    if (*arg)
        error(d, "not displaying %s", arg);
    return 0;
}

static int cmd_args(rw_pdb *d, const char *arg)
{
    if (!d->stop.nframes)
        return cmd_values(d, arg, "args");
    rw_session_code c;
    if (!rw_session_code_info(d->s, selected_frame(d)->code_id, &c) || !c.n_arg_names)
        return 0;
    char *val = NULL;
    rw_err e;
    if (rw_session_args(d->s, &val, &e) == RW_OK) {
        fputs(val, d->out);
        free(val);
        return 0;
    }
    error(d, "args: %s; the log shows the names:", e.msg);
    for (size_t i = 0; i < c.n_arg_names; i++)
        msg(d, "%s", c.arg_names[i]);
    return 0;
}

static int cmd_retval(rw_pdb *d, const char *arg)
{
    (void)arg;
    if (!d->stop.nframes || d->stop.event_kind != RW_K_RETURN ||
        d->stop.selected + 1 != d->stop.nframes) {
        error(d, "Not yet returned!");
        return 0;
    }
    char *val = NULL;
    rw_err e;
    if (rw_session_retval(d->s, &val, &e) == RW_OK) {
        msg(d, "%s", val);
        free(val);
        return 0;
    }
    error(d, "retval: %s; the log shows: %s() returns at event %llu", e.msg,
          selected_frame(d)->function, (unsigned long long)d->stop.pos);
    return 0;
}

static int cmd_jump(rw_pdb *d, const char *arg)
{
    (void)arg;
    error(d, "jump: a recording cannot be changed; 'goto POS' moves to any position "
             "(an event number or FILE:LINE)");
    return 0;
}

static int cmd_run(rw_pdb *d, const char *arg)
{
    if (*arg) {
        error(d, "run: a recording cannot be run with other arguments");
        return 0;
    }
    rw_session_run run;
    rw_session_run_info(d->s, &run);
    msg(d, "Restarting %s with arguments:", run.target ? run.target : "?");
    fputc('\t', d->out);
    for (size_t i = 1; i < run.argc; i++)
        fprintf(d->out, "%s%s", i > 1 ? " " : "", run.argv[i]);
    fputc('\n', d->out);
    return move(d, rw_session_start);
}

/* ---- alias, help, quit ------------------------------------------------------------------ */

static int cmd_alias(rw_pdb *d, const char *arg)
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

static int cmd_unalias(rw_pdb *d, const char *arg)
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

static int cmd_quit(rw_pdb *d, const char *arg)
{
    (void)arg;
    d->done = 1;
    return 1;
}

static int cmd_eof(rw_pdb *d, const char *arg)
{
    (void)arg;
    msg(d, "%s", "");
    d->done = 1;
    return 1;
}

static int cmd_help(rw_pdb *d, const char *arg);

typedef struct command {
    const char *name;
    int (*fn)(rw_pdb *, const char *);
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
static void columnize(rw_pdb *d, const char **list, size_t size)
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

static int cmd_help(rw_pdb *d, const char *arg)
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
        msg(d, "%s", rw_pdb_help_exec);
        return 0;
    }
    if (!strcmp(arg, "pdb")) {
        msg(d, "rewind replay speaks pdb's commands (type help <command>) plus reverse "
               "commands: rstep, rnext, rreturn, rcontinue, runtil, goto, when, thread, "
               "exceptions, events. docs/replay.md has the full reference.");
        return 0;
    }
    const command *c = find_command(arg);
    const rw_pdb_help *h = rw_pdb_help_find(c && c->help ? c->help : arg);
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

static int statement(rw_pdb *d, const char *line)
{
    (void)line;
    error(d, "a recording cannot be changed, and Python statements and expressions need a "
             "re-execution replay, which this build does not have yet");
    return 0;
}

/* cmd.Cmd's onecmd: runs one command line as typed. Returns 1 when the position
 * moved. */
static int run_cmd(rw_pdb *d, const char *line)
{
    char name[64];
    size_t cap = strlen(line) + 1;
    char *arg = malloc(cap);
    if (!arg) {
        error(d, "out of memory");
        return 0;
    }
    rw_pdb_linekind k = rw_pdb_parseline(line, name, sizeof name, arg, cap);
    int rc = 0;
    if (k == RW_PDB_EMPTY) {
        if (d->lastcmd) {
            char *again = xstrdup(d->lastcmd);
            if (again)
                rc = run_cmd(d, again);
            free(again);
        }
        free(arg);
        return rc;
    }
    if (k == RW_PDB_STATEMENT) {
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
    static int (*const fns[])(rw_pdb *, const char *) = {
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
    if (rw_pdb_parseline(line, name, sizeof name, arg, sizeof arg) != RW_PDB_COMMAND)
        return NULL;
    return find_command(name);
}

/* pdb's handle_command_def: one line of the list being read. As cmd.Cmd.parseline
 * splits it, a line with no command name (empty, "!..." or not starting with an
 * identifier character) is skipped; "silent" marks the list, "end" ends it, any
 * other command is stored as "name arg", and a resuming one also ends the list. The
 * end of a list drops the commands queued behind ";;", as pdb does. */
static int def_line(rw_pdb *d, const char *line)
{
    assert(d->defining && (d->def_bnum == 0 || d->def_bnum < d->nlists));
    cmdlist *l = d->def_bnum > 0 ? &d->lists[d->def_bnum] : &d->def_void;
    size_t cap = strlen(line) + 1, namecap = cap + sizeof "help"; /* "?" is "help" */
    char *name = malloc(namecap), *arg = malloc(cap);
    if (!name || !arg) {
        error(d, "out of memory");
    } else if (rw_pdb_parseline(line, name, namecap, arg, cap) == RW_PDB_COMMAND && *name) {
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

int rw_pdb_onecmd(rw_pdb *d, const char *line)
{
    if (d->defining)
        return def_line(d, line);
    return run_cmd(d, line);
}

int rw_pdb_defining(const rw_pdb *d)
{
    return d->defining;
}

/* Lists that resume in opposite directions (one continues to a breakpoint whose
 * list rcontinues to the first, ...) would go back and forth for ever without a
 * prompt; pdb has no reverse commands, so cannot. A chain of resuming lists that
 * changes direction this often stops at a prompt. */
#define LIST_TURNS_MAX 1000

int rw_pdb_interaction(rw_pdb *d)
{
    int num = d->currentbp;
    cmdlist *l = NULL;
    /* bp_commands runs from user_line: at line events only. */
    if (num && d->stop.event_kind == RW_K_LINE && !d->stop.postmortem && !d->stop.at_end)
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
        rw_pdb_print_stop(d);
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
        rw_pdb_print_stop(d);
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
    uint64_t from = d->stop.pos;
    int moved = 0;
    d->in_list = 1;
    /* A line that moves before the last (restart) ends the list, as pdb's Restart
     * does; the new position is a new stop. */
    for (size_t i = 0; i < last && !moved && !d->done; i++)
        if (lines[i])
            moved = run_cmd(d, lines[i]);
    if (!moved && !d->done) {
        if (!silent)
            rw_pdb_print_stop(d);
        if (last < n && lines[last])
            moved = run_cmd(d, lines[last]);
    }
    d->in_list = 0;
    free(d->lastcmd);
    d->lastcmd = lastcmd_back;
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    if (!rw_session_break_get(d->s, num)) /* a temporary breakpoint, deleted at this stop */
        cmdlist_clear(&d->lists[num]);
    if (d->done)
        return 1;
    if (!moved) {
        d->list_turns = 0;
        d->list_dir = 0;
        return 0;
    }
    int dir = d->stop.pos > from ? 1 : d->stop.pos < from ? -1 : 0;
    if (dir && d->list_dir && dir != d->list_dir)
        d->list_turns++;
    if (dir)
        d->list_dir = dir;
    return 1;
}

int rw_pdb_line(rw_pdb *d, const char *line)
{
    const char *p = line;
    while (isspace((unsigned char)*p))
        p++;
    if (!*p)
        return rw_pdb_onecmd(d, line);
    const char *names[64], *texts[64];
    size_t n = d->naliases < 64 ? d->naliases : 64;
    for (size_t i = 0; i < n; i++) {
        names[i] = d->aliases[i].name;
        texts[i] = d->aliases[i].text;
    }
    char *rest = NULL;
    char *x = rw_pdb_expand(line, names, texts, n, &rest);
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
    int rc = rw_pdb_onecmd(d, x);
    free(x);
    return rc;
}

int rw_pdb_pending(rw_pdb *d, char *buf, size_t cap)
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

rw_code rw_pdb_start(rw_pdb *d, const char *at, rw_err *err)
{
    rw_code rc;
    if (!at) {
        rc = rw_session_start(d->s, &d->stop, err);
    } else if (!strcmp(at, "@crash")) {
        rc = rw_session_goto_crash(d->s, &d->stop, err);
        if (rc == RW_OK)
            print_crash(d);
    } else if (!strcmp(at, "@exception")) {
        rc = rw_session_goto_uncaught(d->s, &d->stop, err);
        if (rc == RW_OK)
            print_postmortem(d);
    } else {
        uint64_t pos;
        rc = rw_session_parse_position(d->s, at, &pos, err);
        if (rc == RW_OK)
            rc = rw_session_goto(d->s, pos, &d->stop, err);
        if (rc == RW_OK)
            print_kind(d);
    }
    if (rc != RW_OK)
        refresh(d);
    d->lineno = 0;
    return rc;
}
