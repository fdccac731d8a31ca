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

#include "output.h"
#include "pdb_help.h"
#include "scan.h"

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

/* A display of frame `frame` (the position of its CALL, pdb's frame object): its
 * expression, and the last value pdb holds: its repr (or "** raised E **") and the
 * object's id ("" for an error), which tells a changed object from another one. */
typedef struct display {
    uint64_t frame;
    char *expr;
    char *repr;
    char *id;
} display;

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

    /* A damaged trace: the first damage met (by a command or the background check),
     * said once as "*** the trace is damaged after event N: ..." (damage_said). */
    const rw_reader *r;
    rw_scan_check *check; /* NULL unless rw_pdb_check_trace ran */
    int damaged, damage_said;
    uint64_t damage_first;
    rw_err damage;

    /* pdb's displaying dict: (frame, expression) -> the last value (display). */
    display *displays;
    size_t ndisplays;

    /* The program's recorded output, shown as forward moves pass it: loaded at the
     * first such move (outputs_tried), to out (fd 1) and err_out (fd 2). fwd_from is
     * where the forward move being made started (NOPOS: not one). */
    rw_outputs *outputs;
    int outputs_tried;
    FILE *err_out;
    uint64_t fwd_from;

    /* The --Return-- stops made so far, with the "->value" shown: pdb's user_return
     * stores __return__ in the frame's locals and never removes it, so every later
     * stack entry of that frame (a traceback's frame in `where`) shows it too. */
    struct shown_return {
        uint64_t call_pos, ret_pos;
        char *rv;
    } *returns;
    size_t nreturns, capreturns;
};

#define NOPOS UINT64_MAX

/* ---- output ------------------------------------------------------------------ */

static void msg(rw_pdb *pdb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void msg(rw_pdb *pdb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(pdb->out, fmt, ap);
    va_end(ap);
    fputc('\n', pdb->out);
}

static void error(rw_pdb *pdb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void error(rw_pdb *pdb, const char *fmt, ...)
{
    va_list ap;
    fputs("*** ", pdb->out);
    va_start(ap, fmt);
    vfprintf(pdb->out, fmt, ap);
    va_end(ap);
    fputc('\n', pdb->out);
}

/* Prints an error; a damaged or unreadable trace (not a bad command) also makes
 * the session end with a failure status. */
static void print_damage(rw_pdb *pdb, uint64_t first, const rw_err *e)
{
    if (first)
        error(pdb, "the trace is damaged after event %llu: %s", (unsigned long long)(first - 1),
              e->msg);
    else
        error(pdb, "the trace is damaged from its first event: %s", e->msg);
}

static void say_damage(rw_pdb *pdb)
{
    if (!pdb->damage_said)
        print_damage(pdb, pdb->damage_first, &pdb->damage);
    pdb->damage_said = 1;
}

/* Keeps the first damage found (at first, or earlier in the trace than the one kept). */
static void note_damage(rw_pdb *pdb, uint64_t first, const rw_err *e)
{
    if (pdb->damaged && first >= pdb->damage_first)
        return;
    pdb->damaged = 1;
    pdb->damage_said = 0;
    pdb->damage_first = first;
    pdb->damage = *e;
}

static void fail(rw_pdb *pdb, const rw_err *e)
{
    uint64_t first;
    if (e->code != RW_EINVAL && e->code != RW_ENOTFOUND)
        pdb->last_err = e->code;
    if (rw_scan_damage_at(pdb->r, e, &first)) {
        rw_err x = *e;
        rw_scan_explain_damage(pdb->r, &x);
        note_damage(pdb, first, &x);
        if (pdb->damage_first == first)
            pdb->damage_said = 1;
        print_damage(pdb, first, &x);
        return;
    }
    error(pdb, "%s", e->msg);
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
        return b.oom ? NULL : strdup("");
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
    char *cur = strdup(line);
    if (!cur)
        return NULL;
    int rounds = 0;
    for (;;) {
        char *copy = strdup(cur);
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
                    *rest = strdup(nx);
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
        char *next = strdup(a);
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

static void refresh(rw_pdb *pdb)
{
    rw_session_where(pdb->s, &pdb->stop);
}

static const rw_session_frame *selected_frame(const rw_pdb *pdb)
{
    assert(pdb->stop.nframes && pdb->stop.selected < pdb->stop.nframes);
    return &pdb->stop.frames[pdb->stop.selected];
}

static int source_line(rw_pdb *pdb, uint32_t f, long long line, char *buf, size_t cap)
{
    return rw_session_source_line(pdb->s, f, line, buf, cap);
}

/* Remembers the "->value" shown at the --Return-- stop of the frame opened at
 * call_pos (the return event at ret_pos). Out of memory: not remembered. */
static void remember_return(rw_pdb *pdb, uint64_t call_pos, uint64_t ret_pos, const char *rv)
{
    for (size_t k = 0; k < pdb->nreturns; k++)
        if (pdb->returns[k].call_pos == call_pos && pdb->returns[k].ret_pos == ret_pos)
            return;
    if (pdb->nreturns == pdb->capreturns) {
        size_t cap = pdb->capreturns ? 2 * pdb->capreturns : 8;
        struct shown_return *n = realloc(pdb->returns, cap * sizeof *n);
        if (!n)
            return;
        pdb->returns = n;
        pdb->capreturns = cap;
    }
    char *copy = strdup(rv);
    if (!copy)
        return;
    pdb->returns[pdb->nreturns++] = (struct shown_return){call_pos, ret_pos, copy};
}

/* The "->value" of an earlier --Return-- stop of the frame opened at call_pos, before
 * pos (the latest); NULL when the session made none. */
static const char *earlier_return(const rw_pdb *pdb, uint64_t call_pos, uint64_t pos)
{
    const struct shown_return *best = NULL;
    for (size_t k = 0; k < pdb->nreturns; k++) {
        const struct shown_return *r = &pdb->returns[k];
        if (r->call_pos == call_pos && r->ret_pos < pos && (!best || r->ret_pos > best->ret_pos))
            best = r;
    }
    return best ? best->rv : NULL;
}

/* The frame of the current stop the way format_stack_entry prints it: "->" and
 * reprlib.repr of the return value on the returning frame, when values can be had,
 * and on a frame whose --Return-- stop the session made earlier (pdb's __return__
 * stays in that frame's locals: a traceback's frame below an exception stop). */
static void print_entry(rw_pdb *pdb, uint32_t i, const char *prefix)
{
    assert(i < pdb->stop.nframes);
    const rw_session_frame *f = &pdb->stop.frames[i];
    char line[4096];
    fprintf(pdb->out, "%s%s(%u)%s()", i == pdb->stop.selected ? "> " : prefix, f->file,
            f->line, f->function);
    if (pdb->stop.returning && !pdb->stop.postmortem && i + 1 == pdb->stop.nframes &&
        !rw_session_values_why(pdb->s)) {
        char *rv = NULL;
        int raised = 0;
        rw_err e;
        if (rw_session_value(pdb->s, i, RW_VALUES_RETVAL_SHORT, "", &rv, &raised, &e) ==
                RW_OK && !raised) {
            fprintf(pdb->out, "->%s", rv);
            remember_return(pdb, f->call_pos, pdb->stop.pos, rv);
        }
        free(rv);
    } else if (!pdb->stop.postmortem) {
        const char *rv = earlier_return(pdb, f->call_pos, pdb->stop.pos);
        if (rv) {
            fprintf(pdb->out, "->%s", rv);
        } else if (rw_session_frame_returned(pdb->s, i) == 2 && !rw_session_values_why(pdb->s)) {
            /* A generator's frame, resumed by a new call: the engine tells whether an
             * earlier --Return-- (yield) stop of its code was of this frame. */
            char *v = NULL;
            int raised = 0;
            rw_err e;
            if (rw_session_value(pdb->s, i, RW_VALUES_RETVAL_SHORT, "", &v, &raised, &e) ==
                    RW_OK && !raised)
                fprintf(pdb->out, "->%s", v);
            free(v);
        }
    }
    if (source_line(pdb, f->file_id, f->line, line, sizeof line))
        fprintf(pdb->out, "\n-> %s", strip(line));
    fputc('\n', pdb->out);
}

void rw_pdb_print_stop(rw_pdb *pdb)
{
    if (!pdb->stop.nframes) {
        msg(pdb, "> (no Python frame in thread %u at event %llu)", pdb->stop.thread,
            (unsigned long long)pdb->stop.pos);
        return;
    }
    print_entry(pdb, pdb->stop.selected, "  ");
}

/* What pdb prints before the stack entry when it stops at this event. */
static void print_kind(rw_pdb *pdb)
{
    switch (pdb->stop.event_kind) {
    case RW_K_CALL:
        msg(pdb, "--Call--");
        break;
    case RW_K_RETURN:
        msg(pdb, "--Return--");
        break;
    case RW_K_EXCEPTION: {
        /* pdb's user_exception: "Internal " for a StopIteration without traceback. */
        const char *internal = pdb->stop.exception.internal ? "Internal " : "";
        if (*pdb->stop.exception.message)
            msg(pdb, "%s%s: %s", internal, pdb->stop.exception.type,
                pdb->stop.exception.message);
        else
            msg(pdb, "%s%s", internal, pdb->stop.exception.type);
        break;
    }
    default:
        break;
    }
}

/* What pdb's main prints when it enters post mortem debugging. */
static void print_postmortem(rw_pdb *pdb)
{
    msg(pdb, "Traceback (most recent call last):");
    for (uint32_t i = 0; i < pdb->stop.nframes; i++) {
        const rw_session_frame *f = &pdb->stop.frames[i];
        const char *path = rw_session_file_recorded_path(pdb->s, f->file_id);
        char line[4096];
        msg(pdb, "  File \"%s\", line %u, in %s", path ? path : "?", f->line, f->function);
        if (source_line(pdb, f->file_id, f->line, line, sizeof line))
            msg(pdb, "    %s", strip(line));
    }
    if (*pdb->stop.exception.message)
        msg(pdb, "%s: %s", pdb->stop.exception.type, pdb->stop.exception.message);
    else
        msg(pdb, "%s", pdb->stop.exception.type);
    msg(pdb, "Uncaught exception. Entering post mortem debugging");
    msg(pdb, "Reverse commands (rstep, rnext, rreturn, rcontinue) go back from here; the "
           "recording ends here");
}

/* What happened at a crash stop. */
static void print_crash(rw_pdb *pdb)
{
    const rw_session_crash *c = &pdb->stop.crash;
    if (c->timeout)
        msg(pdb, "Timeout after %.3g s: the run was ended here; thread %u was at this line",
            c->timeout_s, pdb->stop.thread);
    else if (c->hardware)
        msg(pdb, "Crash: %s (a hardware fault at address 0x%llx) in thread %u; its last "
               "event is %llu", c->signal_name, (unsigned long long)c->fault_addr,
            pdb->stop.thread, (unsigned long long)pdb->stop.pos);
    else
        msg(pdb,
            "Crash: %s (sent by kill, raise or abort) in thread %u; its last event is %llu",
            c->signal_name, pdb->stop.thread, (unsigned long long)pdb->stop.pos);
    msg(pdb, "The recording ends here; reverse commands go back. 'rewind info' shows the "
           "C stack and the machine code.");
    print_kind(pdb);
}

/* ---- the program's output ---- */

static int put_piece(void *ctx, const rw_output_piece *p)
{
    rw_pdb *pdb = ctx;
    FILE *f = p->fd == 2 ? pdb->err_out : pdb->out;
    if (f != pdb->out)
        fflush(pdb->out);
    fwrite(p->bytes, 1, p->len, f);
    if (f != pdb->out)
        fflush(f);
    return 0;
}

/* Prints what the program wrote to fds 1 and 2 between events from (excluded) and to,
 * as pdb's terminal shows it between two stops. */
static void show_output(rw_pdb *pdb, uint64_t from, uint64_t to)
{
    if (!pdb->outputs_tried) {
        rw_err e;
        pdb->outputs_tried = 1;
        if (rw_outputs_load(pdb->r, &pdb->outputs, &e) != RW_OK)
            error(pdb, "the program's output cannot be shown: %s", e.msg);
    }
    if (pdb->outputs)
        rw_outputs_between(pdb->outputs, from, to, put_piece, pdb);
}

void rw_pdb_set_outputs(rw_pdb *pdb, rw_outputs *o, FILE *err_out)
{
    rw_outputs_free(pdb->outputs);
    pdb->outputs = o;
    pdb->outputs_tried = 1;
    if (err_out)
        pdb->err_out = err_out;
}

/* Drops the commands queued behind ';;' (pdb drops its command queue when the
 * program ends): a queue that re-queues itself, such as a self-referring alias,
 * must end once the recording does. */
static void drop_queue(rw_pdb *pdb)
{
    for (size_t i = 0; i < pdb->nqueue; i++)
        free(pdb->queue[i]);
    pdb->nqueue = 0;
}

static const char START_MSG[] = "At the start of the program: nothing before this";

/* After a move that gave rc: prints what pdb prints of the stop (pdb->stop) or the
 * error. Returns 1 when the position moved. */
static int moved_to(rw_pdb *pdb, rw_code rc, const rw_err *e)
{
    uint64_t from = pdb->fwd_from;
    pdb->fwd_from = NOPOS;
    if (rc != RW_OK) {
        refresh(pdb);
        fail(pdb, e);
        return 0;
    }
    const rw_stop *st = &pdb->stop;
    /* The postmortem view's position is past the program's last event (its frame's
     * RETURN): what was written there, sys.excepthook's traceback, pdb never lets run
     * (it catches the exception), and it prints its own. */
    uint64_t to = st->reason == RW_STOP_END         ? NOPOS
                  : st->reason == RW_STOP_UNCAUGHT ? st->pos - (st->pos > 0)
                                                   : st->pos;
    if (from != NOPOS && st->moved && (to > from || st->reason == RW_STOP_END))
        show_output(pdb, from, to);
    if (st->cond_failed)
        error(pdb, "the condition of breakpoint %d could not be evaluated (%s): stopped here, "
                 "as pdb does", st->cond_breakpoint, st->cond_why);
    if (st->moved)
        pdb->lineno = 0;
    if (st->reason == RW_STOP_BREAKPOINT)
        pdb->currentbp = st->breakpoint; /* bdb's break_here; its list runs at the stop */
    if (st->deleted)
        msg(pdb, "Deleted breakpoint %d at %s:%u", st->deleted_bp.number,
            rw_session_file_path(pdb->s, st->deleted_bp.file_id), st->deleted_bp.line);
    /* A watchpoint's stop, as gdb says it (going back: the value before the change,
     * and the value here). */
    for (size_t i = 0; i < st->nchanges; i++) {
        msg(pdb, "Watchpoint %d: %s", st->changes[i].number, st->changes[i].expr);
        msg(pdb, "Old value = %s", st->changes[i].old_value);
        msg(pdb, "New value = %s", st->changes[i].new_value);
    }
    switch (st->reason) {
    case RW_STOP_THREAD_END:
        drop_queue(pdb);
        msg(pdb, "The thread finished: the recording of thread %u ends here", st->thread);
        return 0;
    case RW_STOP_UNCAUGHT:
        drop_queue(pdb);
        if (!st->moved) {
            error(pdb, "the recording ends here, at the uncaught exception; reverse commands "
                     "go back");
            return 0;
        }
        print_postmortem(pdb);
        return 1;
    case RW_STOP_END: {
        rw_session_run run;
        drop_queue(pdb);
        rw_session_run_info(pdb->s, &run);
        if (run.has_end)
            msg(pdb, "The program finished and the recording ends here (exit status %d)",
                run.exit_status);
        else
            msg(pdb, "The recording ends here (it was cut short: no end record)");
        if (!st->moved)
            return 0;
        print_kind(pdb);
        return 1;
    }
    case RW_STOP_START:
        if (!st->moved) {
            error(pdb, "%s", START_MSG);
            return 0;
        }
        msg(pdb, "No breakpoint hit before this: back to the start of the program");
        print_kind(pdb);
        return 1;
    case RW_STOP_AT_CALL:
        error(pdb, "Already at the call of %s()", selected_frame(pdb)->function);
        return 0;
    case RW_STOP_CRASH:
        print_crash(pdb);
        return 1;
    default:
        print_kind(pdb);
        return 1;
    }
}

/* ---- life cycle ------------------------------------------------------------------- */

rw_code rw_pdb_new(const rw_reader *r, FILE *out, rw_pdb **out_pdb, rw_err *err)
{
    rw_pdb *pdb = calloc(1, sizeof *pdb);
    if (!pdb)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    pdb->out = out;
    pdb->r = r;
    pdb->err_out = stderr;
    pdb->fwd_from = NOPOS;
    rw_code rc = rw_session_new(r, &pdb->s, err);
    if (rc != RW_OK) {
        free(pdb);
        return rc;
    }
    refresh(pdb);
    *out_pdb = pdb;
    return RW_OK;
}

static void cmdlist_clear(cmdlist *l);
static void display_free(display *d);
static int value(rw_pdb *pdb, const char *cmd, rw_values_op op, const char *text, char **out);

void rw_pdb_free(rw_pdb *pdb)
{
    if (!pdb)
        return;
    rw_scan_check_free(pdb->check);
    rw_session_free(pdb->s);
    for (size_t i = 0; i < pdb->nreturns; i++)
        free(pdb->returns[i].rv);
    free(pdb->returns);
    for (size_t i = 0; i < pdb->naliases; i++) {
        free(pdb->aliases[i].name);
        free(pdb->aliases[i].text);
    }
    free(pdb->aliases);
    for (size_t i = 0; i < pdb->nqueue; i++)
        free(pdb->queue[i]);
    free(pdb->queue);
    for (int i = 0; i < pdb->nlists; i++)
        cmdlist_clear(&pdb->lists[i]);
    free(pdb->lists);
    cmdlist_clear(&pdb->def_void);
    free(pdb->lastcmd);
    for (size_t i = 0; i < pdb->ndisplays; i++)
        display_free(&pdb->displays[i]);
    free(pdb->displays);
    rw_outputs_free(pdb->outputs);
    free(pdb);
}

rw_session *rw_pdb_session(rw_pdb *pdb)
{
    return pdb->s;
}

void rw_pdb_set_input(rw_pdb *pdb, rw_pdb_input fn, void *ctx)
{
    pdb->input = fn;
    pdb->input_ctx = ctx;
}

int rw_pdb_done(const rw_pdb *pdb)
{
    return pdb->done;
}

rw_code rw_pdb_error(const rw_pdb *pdb)
{
    return pdb->last_err;
}

rw_code rw_pdb_check_trace(rw_pdb *pdb, rw_err *err)
{
    if (pdb->check)
        return RW_OK;
    return rw_scan_check_start(pdb->r, &pdb->check, err);
}

/* What the background check found, kept; wait: until it ends. */
static void take_check(rw_pdb *pdb, int wait)
{
    uint64_t first;
    rw_err e;
    if (pdb->check && (wait ? rw_scan_check_wait(pdb->check, &first, &e)
                            : rw_scan_check_poll(pdb->check, &first, &e)))
        note_damage(pdb, first, &e);
}

void rw_pdb_poll_damage(rw_pdb *pdb)
{
    take_check(pdb, 0);
    if (pdb->damaged)
        say_damage(pdb);
}

const rw_err *rw_pdb_damage(rw_pdb *pdb)
{
    take_check(pdb, 1);
    if (!pdb->damaged)
        return NULL;
    say_damage(pdb);
    return &pdb->damage;
}

/* ---- moving: step, next, return, continue, until and the reverse commands ------------- */

typedef rw_code (*move_fn)(rw_session *s, rw_stop *stop, rw_err *err);

static int move(rw_pdb *pdb, move_fn fn)
{
    rw_err e;
    if (fn == rw_session_step || fn == rw_session_next || fn == rw_session_return ||
        fn == rw_session_continue)
        pdb->fwd_from = pdb->stop.pos;
    rw_code rc = fn(pdb->s, &pdb->stop, &e);
    return moved_to(pdb, rc, &e);
}

static int cmd_step(rw_pdb *pdb, const char *arg)
{
    (void)arg;
    return move(pdb, rw_session_step);
}

static int cmd_next(rw_pdb *pdb, const char *arg)
{
    (void)arg;
    return move(pdb, rw_session_next);
}

static int cmd_return(rw_pdb *pdb, const char *arg)
{
    (void)arg;
    return move(pdb, rw_session_return);
}

static int cmd_continue(rw_pdb *pdb, const char *arg)
{
    (void)arg;
    return move(pdb, rw_session_continue);
}

static int cmd_until(rw_pdb *pdb, const char *arg)
{
    long long lineno = 0;
    if (!pdb->stop.nframes)
        return cmd_step(pdb, arg);
    const rw_session_frame *f = selected_frame(pdb);
    if (*arg) {
        if (rw_pdb_parse_int(arg, &lineno) < 0) {
            char r[512];
            py_repr(arg, r, sizeof r);
            error(pdb, "Error in argument: %s", r);
            return 0;
        }
        if (lineno <= (long long)f->line) {
            error(pdb, "\"until\" line number is smaller than current line number");
            return 0;
        }
    } else {
        lineno = (long long)f->line + 1;
    }
    /* pdb 3.11 runs a command list's until and discards it (not a resuming command:
     * the prompt after the list, or the list's resuming line, decides; CPython issue
     * 68328). */
    if (pdb->in_list)
        return 0;
    rw_err e;
    pdb->fwd_from = pdb->stop.pos;
    rw_code rc = rw_session_until(pdb->s, lineno, &pdb->stop, &e);
    return moved_to(pdb, rc, &e);
}

static int cmd_rstep(rw_pdb *pdb, const char *arg)
{
    (void)arg;
    return move(pdb, rw_session_rstep);
}

static int cmd_rnext(rw_pdb *pdb, const char *arg)
{
    (void)arg;
    return move(pdb, rw_session_rnext);
}

static int cmd_rreturn(rw_pdb *pdb, const char *arg)
{
    (void)arg;
    return move(pdb, rw_session_rreturn);
}

static int cmd_rcontinue(rw_pdb *pdb, const char *arg)
{
    (void)arg;
    return move(pdb, rw_session_rcontinue);
}

static int cmd_runtil(rw_pdb *pdb, const char *arg)
{
    long long lineno;
    if (pdb->stop.postmortem || !pdb->stop.nframes)
        return cmd_rstep(pdb, arg);
    const rw_session_frame *f = selected_frame(pdb);
    if (*arg) {
        if (rw_pdb_parse_int(arg, &lineno) < 0) {
            char r[512];
            py_repr(arg, r, sizeof r);
            error(pdb, "Error in argument: %s", r);
            return 0;
        }
        if (lineno >= (long long)f->line) {
            error(pdb, "\"runtil\" line number is greater than current line number");
            return 0;
        }
    } else {
        lineno = (long long)f->line - 1;
    }
    rw_err e;
    rw_code rc = rw_session_runtil(pdb->s, lineno, &pdb->stop, &e);
    return moved_to(pdb, rc, &e);
}

/* ---- goto, when, thread, exceptions, events ------------------------------------------- */

static int cmd_goto(rw_pdb *pdb, const char *arg)
{
    if (!*arg) {
        error(pdb, "goto needs a position: an event number, @start, @end, @exception, "
                 "@peak, a time such as 1.5s, or FILE:LINE");
        return 0;
    }
    rw_err e;
    rw_code rc;
    if (!strcmp(arg, "@exception")) {
        if ((rc = rw_session_goto_uncaught(pdb->s, &pdb->stop, &e)) != RW_OK)
            return moved_to(pdb, rc, &e);
        pdb->lineno = 0;
        print_postmortem(pdb);
        return 1;
    }
    if (!strcmp(arg, "@crash"))
        return moved_to(pdb, rw_session_goto_crash(pdb->s, &pdb->stop, &e), &e);
    if (!strcmp(arg, "@start")) /* the program's first line, pdb's first stop */
        return moved_to(pdb, rw_session_start(pdb->s, &pdb->stop, &e), &e);
    uint64_t pos;
    if (rw_session_parse_position(pdb->s, arg, &pos, &e) != RW_OK) {
        fail(pdb, &e);
        return 0;
    }
    rc = rw_session_goto(pdb->s, pos, &pdb->stop, &e);
    return moved_to(pdb, rc, &e);
}

static int cmd_when(rw_pdb *pdb, const char *arg)
{
    (void)arg;
    rw_session_thread t;
    const char *name = rw_session_thread_info(pdb->s, pdb->stop.thread, &t) ? t.name : "?";
    msg(pdb, "event %llu of %llu, %.6f s since the start, thread %u (%s)%s",
        (unsigned long long)pdb->stop.pos, (unsigned long long)rw_session_nevents(pdb->s),
        pdb->stop.time_ns / 1e9, pdb->stop.thread, name,
        pdb->stop.postmortem ? ", postmortem" : "");
    return 0;
}

static int cmd_thread(rw_pdb *pdb, const char *arg)
{
    uint32_t nthreads = rw_session_nthreads(pdb->s);
    if (!*arg) {
        for (uint32_t i = 1; i < nthreads; i++) {
            rw_session_thread t;
            if (!rw_session_thread_info(pdb->s, i, &t))
                continue;
            msg(pdb, "%s%u %s (ident %llu, native id %llu)%s",
                i == pdb->stop.thread ? "* " : "  ", i, t.name, (unsigned long long)t.ident,
                (unsigned long long)t.native_id,
                t.is_main ? " main" : t.from_c ? " started by C code" : "");
        }
        return 0;
    }
    long long n;
    if (rw_pdb_parse_int(arg, &n) < 0 || n < 1 || (uint64_t)n >= nthreads) {
        error(pdb, "Invalid thread number (%s): 'thread' lists them", arg);
        return 0;
    }
    rw_err e;
    rw_code rc = rw_session_goto_thread(pdb->s, (uint32_t)n, &pdb->stop, &e);
    return moved_to(pdb, rc, &e);
}

typedef struct exc_ctx {
    rw_pdb *pdb;
    int all;              /* every exception, not only the program's own */
    uint64_t count;
    uint64_t others;      /* not the program's own, left out */
} exc_ctx;

#define EXC_LIST_MAX 1000

static int exc_visit(void *p, const rw_session_record *r)
{
    exc_ctx *c = p;
    rw_pdb *pdb = c->pdb;
    if (!c->all && !r->own) {
        c->others++;
        return 0;
    }
    if (++c->count > EXC_LIST_MAX)
        return 0;
    fprintf(pdb->out, "%10llu  thread %u  %s", (unsigned long long)r->pos, r->thread, r->name);
    if (r->text && r->text_len)
        fprintf(pdb->out, ": %.*s", (int)(r->text_len > 200 ? 200 : r->text_len), r->text);
    fprintf(pdb->out, "  %s:%u %s()\n", r->file, r->line, r->function);
    return 0;
}

/* exceptions [--all]: the program's own exceptions (rw_session_record.own), or every
 * one. */
static int cmd_exceptions(rw_pdb *pdb, const char *arg)
{
    exc_ctx c = {pdb, 0, 0, 0};
    if (!strcmp(arg, "--all")) {
        c.all = 1;
    } else if (*arg) {
        error(pdb, "Usage: exceptions [--all] (--all: the standard library's and the import "
                 "machinery's too)");
        return 0;
    }
    rw_err e;
    if (rw_session_visit(pdb->s, 0, UINT64_MAX, 1, exc_visit, &c, &e) != RW_OK) {
        fail(pdb, &e);
        return 0;
    }
    if (!c.count && !c.others)
        msg(pdb, "No exception was raised during the recording");
    else if (!c.count)
        msg(pdb, "No exception was raised in the program's own code (%llu in the standard "
                 "library and the import machinery: 'exceptions --all' lists them)",
            (unsigned long long)c.others);
    else if (c.count > EXC_LIST_MAX)
        msg(pdb, "... and %llu more", (unsigned long long)(c.count - EXC_LIST_MAX));
    if (c.count && c.others)
        msg(pdb, "(%llu more in the standard library and the import machinery: "
                 "'exceptions --all' lists them)", (unsigned long long)c.others);
    return 0;
}

static int ev_visit(void *p, const rw_session_record *r)
{
    rw_pdb *pdb = p;
    if (r->cls == RW_REC_ALLOC || r->cls == RW_REC_FREE)
        return 0; /* allocations would drown the events; `rewind memory` shows them */
    fprintf(pdb->out, "%s%10llu  %-11s t%u", r->is_current ? "=> " : "   ",
            (unsigned long long)r->pos, r->kind_name, r->thread);
    switch (r->cls) {
    case RW_REC_PYTHON:
        fprintf(pdb->out, "  depth %u  %s:%u %s()", r->depth, r->file, r->line, r->function);
        break;
    case RW_REC_EXCEPTION:
    case RW_REC_AUDIT:
        fprintf(pdb->out, r->cls == RW_REC_AUDIT ? "  %s %.*s" : "  %s: %.*s", r->name,
                (int)(r->text_len > 200 ? 200 : r->text_len), r->text ? r->text : "");
        break;
    case RW_REC_C:
        fprintf(pdb->out, "  depth %u  %s", r->depth, r->label);
        break;
    default:
        break;
    }
    fputc('\n', pdb->out);
    return 0;
}

static int cmd_events(rw_pdb *pdb, const char *arg)
{
    long long n = 5;
    if (*arg && (rw_pdb_parse_int(arg, &n) < 0 || n < 0)) {
        error(pdb, "Invalid count (%s)", arg);
        return 0;
    }
    if (n > 1000)
        n = 1000;
    uint64_t pos = pdb->stop.pos;
    uint64_t from = pos > (uint64_t)n ? pos - (uint64_t)n : 0;
    rw_err e;
    if (rw_session_visit(pdb->s, from, pos + (uint64_t)n + 1, 0, ev_visit, pdb, &e) != RW_OK)
        fail(pdb, &e);
    return 0;
}

/* ---- where, up, down, list, longlist, source --------------------------------------------- */

static int cmd_where(rw_pdb *pdb, const char *arg)
{
    (void)arg;
    for (uint32_t i = 0; i < pdb->stop.nframes; i++)
        print_entry(pdb, i, "  ");
    return 0;
}

static void select_frame(rw_pdb *pdb, uint32_t i)
{
    rw_session_select(pdb->s, i);
    pdb->stop.selected = i;
    print_entry(pdb, i, "  ");
    pdb->lineno = 0;
}

static int cmd_up(rw_pdb *pdb, const char *arg)
{
    if (pdb->stop.selected == 0) {
        error(pdb, "Oldest frame");
        return 0;
    }
    long long count = 1;
    if (*arg && rw_pdb_parse_int(arg, &count) < 0) {
        error(pdb, "Invalid frame count (%s)", arg);
        return 0;
    }
    long long nf = count < 0 ? 0 : (long long)pdb->stop.selected - count;
    select_frame(pdb, nf < 0 ? 0 : (uint32_t)nf);
    return 0;
}

static int cmd_down(rw_pdb *pdb, const char *arg)
{
    if (pdb->stop.selected + 1 >= pdb->stop.nframes) {
        error(pdb, "Newest frame");
        return 0;
    }
    long long count = 1;
    if (*arg && rw_pdb_parse_int(arg, &count) < 0) {
        error(pdb, "Invalid frame count (%s)", arg);
        return 0;
    }
    long long last = (long long)pdb->stop.nframes - 1;
    long long nf = count < 0 ? last : (long long)pdb->stop.selected + count;
    select_frame(pdb, (uint32_t)(nf > last ? last : nf));
    return 0;
}

static int file_has_bp_line(const rw_pdb *pdb, uint32_t f, long long line)
{
    for (int i = 1; i < rw_session_break_limit(pdb->s); i++) {
        const rw_breakpoint *b = rw_session_break_get(pdb->s, i);
        if (b && b->file_id == f && (long long)b->line == line)
            return 1;
    }
    return 0;
}

/* pdb's _print_lines: lines first..last of file f (marks 2: as `list` reads it), with
 * B and -> marks when frame is the current one (cur_line > 0). */
static void print_lines(rw_pdb *pdb, uint32_t f, long long first, long long last, int marks,
                        long long cur_line)
{
    char line[4096];
    for (long long n = first; n <= last; n++) {
        if (!(marks == 2 ? rw_session_list_line(pdb->s, f, n, line, sizeof line)
                         : source_line(pdb, f, n, line, sizeof line)))
            break;
        char s[32];
        int k = snprintf(s, sizeof s, "%3lld", n);
        if (k < 4)
            s[k++] = ' ';
        s[k++] = marks && file_has_bp_line(pdb, f, n) ? 'B' : ' ';
        s[k] = '\0';
        size_t l = strlen(line);
        while (l && isspace((unsigned char)line[l - 1]))
            line[--l] = '\0';
        fprintf(pdb->out, "%s%s\t%s\n", s, marks && n == cur_line ? "->" : "", line);
    }
}

static int cmd_list(rw_pdb *pdb, const char *arg)
{
    free(pdb->lastcmd);
    pdb->lastcmd = strdup("list");
    if (!pdb->stop.nframes) {
        error(pdb, "No Python frame here");
        return 0;
    }
    const rw_session_frame *fr = selected_frame(pdb);
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
            error(pdb, "Error in argument: %s", r);
            return 0;
        }
    } else if (!pdb->lineno || !strcmp(arg, ".")) {
        first = (long long)fr->line - 5 > 1 ? (long long)fr->line - 5 : 1;
    } else {
        first = pdb->lineno + 1;
    }
    if (!have_last)
        last = first + 10;
    uint32_t f = fr->file_id;
    long long n = (long long)rw_session_list_nlines(pdb->s, f);
    print_lines(pdb, f, first < 1 ? 1 : first, last, 2, fr->line); /* as `list` reads */
    pdb->lineno = last < n ? last : n;
    if (n < last)
        msg(pdb, "[EOF]");
    return 0;
}

/* The lines of a code object's block: a module is the whole file; a function runs
 * from its first line to the last line indented deeper than it (inspect.getblock). */
static void block_of(rw_pdb *pdb, uint32_t code, long long *first, long long *last)
{
    rw_session_code c;
    int known = rw_session_code_info(pdb->s, code, &c);
    uint32_t f = known ? c.file_id : 0;
    long long n = (long long)rw_session_source_nlines(pdb->s, f);
    if (!known || !strcmp(c.name, "<module>")) {
        *first = 1;
        *last = n;
        return;
    }
    char line[4096];
    long long start = c.first_line ? c.first_line : 1;
    if (!source_line(pdb, f, start, line, sizeof line)) {
        *first = start;
        *last = start - 1;
        return;
    }
    size_t ind = strspn(line, " \t");
    /* Decorators: the block's indentation is that of the def line under them. */
    long long k = start, end = start;
    while (line[ind] == '@' && source_line(pdb, f, k + 1, line, sizeof line)) {
        k++;
        end = k;
    }
    source_line(pdb, f, k, line, sizeof line);
    ind = strspn(line, " \t");
    int open = 0; /* brackets open across lines */
    for (long long i = k; i <= n; i++) {
        if (!source_line(pdb, f, i, line, sizeof line))
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

static int cmd_longlist(rw_pdb *pdb, const char *arg)
{
    (void)arg;
    if (!pdb->stop.nframes) {
        error(pdb, "No Python frame here");
        return 0;
    }
    const rw_session_frame *fr = selected_frame(pdb);
    long long first, last;
    uint32_t f = fr->file_id;
    if (!rw_session_source_nlines(pdb->s, f)) {
        error(pdb, "could not get source code");
        return 0;
    }
    block_of(pdb, fr->code_id, &first, &last);
    print_lines(pdb, f, first, last, 1, fr->line);
    return 0;
}

/* A code object named by the user: its qualname or name, one in the current file
 * first. 0 when none ran. */
static uint32_t find_code(rw_pdb *pdb, const char *name)
{
    uint32_t cur_file = pdb->stop.nframes ? selected_frame(pdb)->file_id : 0;
    return rw_session_find_code(pdb->s, name, cur_file);
}

static int cmd_source(rw_pdb *pdb, const char *arg)
{
    if (!*arg) {
        error(pdb, "source needs a function name");
        return 0;
    }
    const char *why = rw_session_values_why(pdb->s);
    if (!why) {
        /* pdb's: the object the expression gives, its getsourcelines. */
        char *out;
        if (value(pdb, "source", RW_VALUES_SOURCE, arg, &out))
            fputs(out, pdb->out);
        free(out);
        return 0;
    }
    /* Without values: a function that ran, by name, from the recorded source. */
    uint32_t code = find_code(pdb, arg);
    if (!code) {
        char r[512];
        py_repr(arg, r, sizeof r);
        error(pdb, "source: no function named %s ran in this recording (%s to look at "
                 "other objects)", r, why);
        return 0;
    }
    rw_session_code c;
    rw_session_code_info(pdb->s, code, &c);
    uint32_t f = c.file_id;
    if (!rw_session_source_nlines(pdb->s, f)) {
        error(pdb, "could not get source code");
        return 0;
    }
    long long first, last;
    block_of(pdb, code, &first, &last);
    print_lines(pdb, f, first, last, 0, 0);
    return 0;
}

/* ---- breakpoints: break, tbreak, clear, enable, disable, ignore, condition --------------- */

/* pdb's checkline: the line exists and is not blank, a comment or a docstring start. */
static int checkline(rw_pdb *pdb, uint32_t f, long long line)
{
    char buf[4096];
    if (!source_line(pdb, f, line, buf, sizeof buf)) {
        msg(pdb, "End of file");
        return 0;
    }
    const char *s = strip(buf);
    if (!*s || *s == '#' || !strncmp(s, "\"\"\"", 3) || !strncmp(s, "'''", 3)) {
        error(pdb, "Blank or comment");
        return 0;
    }
    return 1;
}

/* find_function: "def NAME(" in file f; its line or 0. */
static long long find_function(rw_pdb *pdb, uint32_t f, const char *name)
{
    char buf[4096];
    size_t n = rw_session_source_nlines(pdb->s, f), nl = strlen(name);
    for (size_t i = 1; i <= n; i++) {
        if (!source_line(pdb, f, (long long)i, buf, sizeof buf))
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

static void list_breaks(rw_pdb *pdb)
{
    int any = 0, limit = rw_session_break_limit(pdb->s);
    for (int i = 1; i < limit; i++)
        any |= rw_session_break_get(pdb->s, i) != NULL;
    if (!any)
        return;
    msg(pdb, "Num Type         Disp Enb   Where");
    for (int i = 1; i < limit; i++) {
        const rw_breakpoint *b = rw_session_break_get(pdb->s, i);
        if (!b)
            continue;
        msg(pdb, "%-4dbreakpoint   %s%s at %s:%u", b->number, b->temporary ? "del  " : "keep ",
            b->enabled ? "yes  " : "no   ", rw_session_file_path(pdb->s, b->file_id), b->line);
        if (b->condition)
            msg(pdb, "\tstop only if %s", b->condition);
        if (b->ignore)
            msg(pdb, "\tignore next %lld hits", b->ignore);
        if (b->hits)
            msg(pdb, "\tbreakpoint already hit %lld time%s", b->hits, b->hits > 1 ? "s" : "");
    }
}

/* The file a breakpoint goes to by default: the selected frame's, else the main
 * program's. */
static uint32_t current_file(rw_pdb *pdb)
{
    return pdb->stop.nframes ? selected_frame(pdb)->file_id : rw_session_main_file(pdb->s);
}

static int do_break(rw_pdb *pdb, const char *argin, int temporary)
{
    if (!*argin) {
        list_breaks(pdb);
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
        file = rw_session_lookup_file(pdb->s, fname);
        if (!file) {
            py_repr(fname, r, sizeof r);
            error(pdb, "%s not found from sys.path", r);
            return 0;
        }
        char *ln = colon + 1;
        while (isspace((unsigned char)*ln))
            ln++;
        if (rw_pdb_parse_int(ln, &lineno) < 0) {
            error(pdb, "Bad lineno: %s", ln);
            return 0;
        }
    } else if (rw_pdb_parse_int(arg, &lineno) < 0) {
        uint32_t code = find_code(pdb, strip(arg));
        rw_session_code c;
        if (code && rw_session_code_info(pdb->s, code, &c)) {
            funcname = c.name;
            lineno = c.first_line;
            file = c.file_id;
        } else {
            /* lineinfo: "def NAME(" in the current file. */
            const char *id = strip(arg);
            const char *last = strrchr(id, '.');
            uint32_t f = current_file(pdb);
            long long ln = *id ? find_function(pdb, f, last ? last + 1 : id) : 0;
            if (!ln) {
                py_repr(id, r, sizeof r);
                error(pdb, "The specified object %s is not a function or was not found along "
                         "sys.path.", r);
                return 0;
            }
            funcname = last ? last + 1 : id;
            lineno = ln;
            file = f;
        }
    }
    if (!file)
        file = current_file(pdb);
    if (!checkline(pdb, file, lineno))
        return 0;
    int number;
    rw_err e;
    if (rw_session_break_add(pdb->s, file, (uint32_t)lineno, funcname,
                             cond && *cond ? cond : NULL, temporary, &number, &e) != RW_OK) {
        error(pdb, "out of memory");
        return 0;
    }
    const rw_breakpoint *b = rw_session_break_get(pdb->s, number);
    msg(pdb, "Breakpoint %d at %s:%u", b->number, rw_session_file_path(pdb->s, file), b->line);
    const char *why;
    if (b->condition && (why = rw_session_values_why(pdb->s)))
        error(pdb, "condition: %s; this breakpoint stops at every hit, as pdb does when a "
                 "condition cannot be evaluated", why);
    return 0;
}

static int cmd_break(rw_pdb *pdb, const char *arg)
{
    return do_break(pdb, arg, 0);
}

static int cmd_tbreak(rw_pdb *pdb, const char *arg)
{
    return do_break(pdb, arg, 1);
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
static const rw_breakpoint *bp_number(rw_pdb *pdb, const char *arg, const char *prefix)
{
    long long n;
    char big[512];
    int limit = rw_session_break_limit(pdb->s);
    if (!*arg) {
        error(pdb, "%sBreakpoint number expected", prefix);
        return NULL;
    }
    if (rw_pdb_parse_int(arg, &n) < 0) {
        if (big_int(arg, big, sizeof big))
            error(pdb, "%sBreakpoint number %s out of range", prefix, big);
        else
            error(pdb, "%sNon-numeric breakpoint number %s", prefix, arg);
        return NULL;
    }
    long long i = n < 0 ? n + limit : n;
    if (i < 0 || i >= limit) {
        error(pdb, "%sBreakpoint number %lld out of range", prefix, n);
        return NULL;
    }
    const rw_breakpoint *b = rw_session_break_get(pdb->s, (int)i);
    if (!b) { /* number 0, or deleted */
        error(pdb, "%sBreakpoint %lld already deleted", prefix, n);
        return NULL;
    }
    return b;
}

static const rw_breakpoint *get_bp(rw_pdb *pdb, const char *arg)
{
    return bp_number(pdb, arg, "");
}

static int for_each_number(rw_pdb *pdb, const char *arg,
                           void (*fn)(rw_pdb *, const rw_breakpoint *))
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", arg);
    char *w[MAX_WORDS];
    size_t n = split_words(buf, w, MAX_WORDS);
    for (size_t i = 0; i < n; i++) {
        const rw_breakpoint *b = get_bp(pdb, w[i]);
        if (b)
            fn(pdb, b);
    }
    return 0;
}

static void bp_str(const rw_pdb *pdb, const rw_breakpoint *b, char *buf, size_t cap)
{
    snprintf(buf, cap, "breakpoint %d at %s:%u", b->number,
             rw_session_file_path(pdb->s, b->file_id), b->line);
}

static void enable_one(rw_pdb *pdb, const rw_breakpoint *b)
{
    char s[4200];
    rw_session_break_enable(pdb->s, b->number, 1);
    bp_str(pdb, b, s, sizeof s);
    msg(pdb, "Enabled %s", s);
}

static void disable_one(rw_pdb *pdb, const rw_breakpoint *b)
{
    char s[4200];
    rw_session_break_enable(pdb->s, b->number, 0);
    bp_str(pdb, b, s, sizeof s);
    msg(pdb, "Disabled %s", s);
}

static void clear_one(rw_pdb *pdb, const rw_breakpoint *b)
{
    char s[4200];
    int number = b->number;
    bp_str(pdb, b, s, sizeof s);
    if (number < pdb->nlists)
        cmdlist_clear(&pdb->lists[number]);
    rw_session_break_delete(pdb->s, number);
    msg(pdb, "Deleted %s", s);
}

static int cmd_enable(rw_pdb *pdb, const char *arg)
{
    return for_each_number(pdb, arg, enable_one);
}

static int cmd_disable(rw_pdb *pdb, const char *arg)
{
    return for_each_number(pdb, arg, disable_one);
}

static int cmd_clear(rw_pdb *pdb, const char *arg)
{
    int limit = rw_session_break_limit(pdb->s);
    if (!*arg) {
        char reply[256] = "";
        if (!pdb->input ||
            !pdb->input(pdb->input_ctx, "Clear all breaks? ", reply, sizeof reply))
            snprintf(reply, sizeof reply, "no");
        const char *r = strip(reply);
        for (char *p = reply; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        if (!strcmp(r, "y") || !strcmp(r, "yes"))
            for (int i = 1; i < limit; i++)
                if (rw_session_break_get(pdb->s, i))
                    clear_one(pdb, rw_session_break_get(pdb->s, i));
        return 0;
    }
    const char *colon = strrchr(arg, ':');
    if (colon) {
        char fname[4096];
        snprintf(fname, sizeof fname, "%.*s", (int)(colon - arg), arg);
        long long lineno;
        if (rw_pdb_parse_int(colon + 1, &lineno) < 0) {
            error(pdb, "Invalid line number (%s)", colon + 1);
            return 0;
        }
        char *c = rw_session_canonic(pdb->s, fname);
        int infile = 0, any = 0;
        for (int i = 1; i < limit; i++) {
            const rw_breakpoint *b = rw_session_break_get(pdb->s, i);
            if (b && c && !strcmp(rw_session_file_path(pdb->s, b->file_id), c)) {
                infile = 1;
                any |= (long long)b->line == lineno;
            }
        }
        if (!infile)
            error(pdb, "There are no breakpoints in %s", c ? c : fname);
        else if (!any)
            error(pdb, "There is no breakpoint at %s:%lld", c, lineno);
        else
            for (int i = 1; i < limit; i++) {
                const rw_breakpoint *b = rw_session_break_get(pdb->s, i);
                if (b && !strcmp(rw_session_file_path(pdb->s, b->file_id), c) &&
                    (long long)b->line == lineno)
                    clear_one(pdb, b);
            }
        free(c);
        return 0;
    }
    return for_each_number(pdb, arg, clear_one);
}

static int cmd_ignore(rw_pdb *pdb, const char *arg)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", arg);
    char *w[3];
    size_t n = split_words(buf, w, 3);
    long long count = 0;
    if (n < 2 || rw_pdb_parse_int(w[1], &count) < 0)
        count = 0;
    const rw_breakpoint *b = get_bp(pdb, n ? w[0] : "");
    if (!b)
        return 0;
    rw_session_break_ignore(pdb->s, b->number, count);
    if (count > 0) {
        if (count > 1)
            msg(pdb, "Will ignore next %lld crossings of breakpoint %d.", count, b->number);
        else
            msg(pdb, "Will ignore next 1 crossing of breakpoint %d.", b->number);
    } else {
        msg(pdb, "Will stop next time breakpoint %d is reached.", b->number);
    }
    return 0;
}

static int cmd_condition(rw_pdb *pdb, const char *arg)
{
    char num[256];
    const char *sp = strchr(arg, ' ');
    snprintf(num, sizeof num, "%.*s", (int)(sp ? (size_t)(sp - arg) : strlen(arg)), arg);
    const rw_breakpoint *b = get_bp(pdb, strip(num));
    if (!b)
        return 0;
    rw_err e;
    if (rw_session_break_condition(pdb->s, b->number, sp && sp[1] ? sp + 1 : NULL, &e) !=
        RW_OK) {
        error(pdb, "out of memory");
        return 0;
    }
    if (!b->condition) {
        msg(pdb, "Breakpoint %d is now unconditional.", b->number);
    } else {
        msg(pdb, "New condition set for breakpoint %d.", b->number);
        const char *why = rw_session_values_why(pdb->s);
        if (why)
            error(pdb, "condition: %s; the breakpoint stops at every hit, as pdb does when "
                     "a condition cannot be evaluated", why);
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
static cmdlist *bp_list(rw_pdb *pdb, int n)
{
    return n > 0 && n < pdb->nlists && pdb->lists[n].defined ? &pdb->lists[n] : NULL;
}

/* pdb's do_commands: the lines that follow (read by the caller, which prompts
 * "(com) " while rw_pdb_defining) are the list of breakpoint arg, the last one set
 * by default, up to "end" or a resuming command (def_line). The list is emptied
 * first, so "commands N" then "end" removes it. */
static int cmd_commands(rw_pdb *pdb, const char *arg)
{
    static const char pfx[] = "cannot set commands: ";
    long long n;
    char num[512];
    int limit = rw_session_break_limit(pdb->s);
    if (!*arg) {
        n = limit - 1; /* len(bdb.Breakpoint.bpbynumber) - 1 */
    } else if (rw_pdb_parse_int(arg, &n) < 0) {
        if (big_int(arg, num, sizeof num))
            bp_number(pdb, num, pfx); /* out of range */
        else
            error(pdb, "Usage: commands [bnum]\n        ...\n        end");
        return 0;
    }
    if (n == 0) {
        /* get_bpbynumber(0): "not arg" holds for the int 0 */
        error(pdb, "%sBreakpoint number expected", pfx);
        return 0;
    }
    snprintf(num, sizeof num, "%lld", n);
    if (!bp_number(pdb, num, pfx))
        return 0;
    cmdlist *l = &pdb->def_void;
    if (n > 0) {
        assert(n < limit);
        if (n >= pdb->nlists) {
            cmdlist *nl = realloc(pdb->lists, (size_t)limit * sizeof *nl);
            if (!nl) {
                error(pdb, "out of memory");
                return 0;
            }
            memset(nl + pdb->nlists, 0, (size_t)(limit - pdb->nlists) * sizeof *nl);
            pdb->lists = nl;
            pdb->nlists = limit;
        }
        l = &pdb->lists[n];
    }
    cmdlist_clear(l);
    l->defined = 1;
    l->doprompt = 1;
    pdb->defining = 1;
    pdb->def_bnum = n > 0 ? (int)n : 0;
    return 0;
}

/* ---- values: asked of the session's provider ------------------------------------------- */

/* What the log knows about the current stop, after the first line of the provider's
 * answer why (a divergence's report goes on with the last inputs, cut where the
 * answer's room ends: the session prints it whole when it ends). */
static void log_shows(rw_pdb *pdb, const char *cmd, const char *full_why)
{
    char why[1024];
    snprintf(why, sizeof why, "%.*s", (int)strcspn(full_why, "\n"), full_why);
    char where[4400] = "";
    if (pdb->stop.nframes) {
        const rw_session_frame *f = selected_frame(pdb);
        snprintf(where, sizeof where, "%s() at %s:%u", f->function, f->file, f->line);
    }
    if (pdb->stop.postmortem) {
        error(pdb, "%s: %s; the log shows: %s, uncaught %s: %s", cmd, why, where,
              pdb->stop.exception.type, pdb->stop.exception.message);
    } else if (pdb->stop.event_kind == RW_K_EXCEPTION &&
               pdb->stop.selected == pdb->stop.current) {
        error(pdb, "%s: %s; the log shows: %s, exception %s: %s", cmd, why, where,
              pdb->stop.exception.type, pdb->stop.exception.message);
    } else {
        error(pdb, "%s: %s; the log shows: %s", cmd, why, where);
    }
}

/* pdb's message(): the text and a newline (one is not doubled). */
static void put_msg(rw_pdb *pdb, const char *s)
{
    size_t n = strlen(s);
    fputs(s, pdb->out);
    if (!n || s[n - 1] != '\n')
        fputc('\n', pdb->out);
}

/* pdb's error() of an exception line ("NameError: name 'x' is not defined"). */
static void put_raised(rw_pdb *pdb, const char *s)
{
    size_t n = strlen(s);
    while (n && s[n - 1] == '\n')
        n--;
    fprintf(pdb->out, "*** %.*s\n", (int)n, s);
}

/* Asks op in the selected frame for command cmd: 1 with the answer in *out (caller
 * frees); 0 when it raised or there are no values, which it printed: pdb's "*** "
 * line, or the one line saying why (log_shows). */
static int value(rw_pdb *pdb, const char *cmd, rw_values_op op, const char *text, char **out)
{
    int raised = 0;
    rw_err e;
    *out = NULL;
    if (rw_session_value(pdb->s, RW_SESSION_SELECTED, op, text, out, &raised, &e) != RW_OK) {
        log_shows(pdb, cmd, e.msg);
        return 0;
    }
    if (raised) {
        put_raised(pdb, *out);
        free(*out);
        *out = NULL;
        return 0;
    }
    return 1;
}

static int cmd_msg_value(rw_pdb *pdb, const char *arg, const char *cmd, rw_values_op op)
{
    char *val;
    if (value(pdb, cmd, op, arg, &val))
        put_msg(pdb, val);
    free(val);
    return 0;
}

static int cmd_p(rw_pdb *pdb, const char *arg) { return cmd_msg_value(pdb, arg, "p", RW_VALUES_P); }
static int cmd_pp(rw_pdb *pdb, const char *arg)
{
    return cmd_msg_value(pdb, arg, "pp", RW_VALUES_PP);
}
static int cmd_whatis(rw_pdb *pdb, const char *arg)
{
    return cmd_msg_value(pdb, arg, "whatis", RW_VALUES_WHATIS);
}

static int cmd_debug(rw_pdb *pdb, const char *arg)
{
    (void)arg;
    error(pdb, "debug: a recursive debugger is not part of a replay ('p', 'pp' and '!' "
             "evaluate in the recorded program; 'interact' starts a console there)");
    return 0;
}

/* pdb's do_interact: code.interact on the frame's names, in a fork of the engine that
 * lives until the console ends (end of input). */
static int cmd_interact(rw_pdb *pdb, const char *arg)
{
    char *out;
    if (!value(pdb, "interact", RW_VALUES_INTERACT_BEGIN, arg, &out))
        return 0;
    fputs(out, pdb->out);
    free(out);
    char line[8192];
    while (pdb->input && pdb->input(pdb->input_ctx, ">>> ", line, sizeof line)) {
        int raised;
        rw_err e;
        if (rw_session_value(pdb->s, RW_SESSION_SELECTED, RW_VALUES_INTERACT_LINE, line, &out,
                             &raised, &e) != RW_OK) {
            error(pdb, "interact: %s", e.msg);
            break;
        }
        fputs(out, pdb->out);
        free(out);
    }
    int raised;
    rw_err e;
    if (rw_session_value(pdb->s, RW_SESSION_SELECTED, RW_VALUES_INTERACT_END, "", &out,
                         &raised, &e) == RW_OK) {
        fputs(out, pdb->out);
        free(out);
    }
    return 0;
}

/* ---- display: pdb's displaying dict, by frame ---- */

static uint64_t cur_frame_key(const rw_pdb *pdb)
{
    return pdb->stop.nframes ? selected_frame(pdb)->call_pos : UINT64_MAX;
}

static void display_free(display *d)
{
    free(d->expr);
    free(d->repr);
    free(d->id);
}

/* id() of expr's value in the selected frame (a new string); "" when it cannot be
 * had; NULL when out of memory. */
static char *value_id(rw_pdb *pdb, const char *expr)
{
    sbuf x = {0};
    char *id = NULL;
    int raised = 0;
    rw_err e;
    sb_add(&x, "id((", 4);
    sb_add(&x, expr, strlen(expr));
    sb_add(&x, "\n))", 3);
    if (x.oom || rw_session_value(pdb->s, RW_SESSION_SELECTED, RW_VALUES_P, x.p, &id, &raised,
                                  &e) != RW_OK || raised) {
        free(id);
        id = strdup("");
    }
    free(x.p);
    return id;
}

/* _getval_except: the repr of expr in the selected frame, or "** raised E **"; and the
 * object's id when want_id and it did not raise (else ""). 0 when there are no values
 * (why in e). */
static int getval_except(rw_pdb *pdb, const char *expr, int want_id, char **repr, char **id,
                         rw_err *e)
{
    int raised;
    *repr = *id = NULL;
    if (rw_session_value(pdb->s, RW_SESSION_SELECTED, RW_VALUES_P, expr, repr, &raised, e) !=
        RW_OK)
        return 0;
    if (raised) {
        size_t n = strlen(*repr);
        while (n && (*repr)[n - 1] == '\n')
            (*repr)[--n] = '\0';
        char *t = malloc(n + sizeof "** raised  **");
        if (t)
            sprintf(t, "** raised %s **", *repr);
        free(*repr);
        *repr = t;
        *id = strdup("");
    } else if (want_id) {
        *id = value_id(pdb, expr);
    } else {
        *id = strdup("");
    }
    if (!*repr || !*id) {
        free(*repr);
        free(*id);
        *repr = *id = NULL;
        rw_err_set(e, RW_ENOMEM, "out of memory");
        return 0;
    }
    return 1;
}

static int cmd_display(rw_pdb *pdb, const char *arg)
{
    uint64_t key = cur_frame_key(pdb);
    if (!*arg) {
        msg(pdb, "Currently displaying:");
        for (size_t i = 0; i < pdb->ndisplays; i++)
            if (pdb->displays[i].frame == key)
                msg(pdb, "%s: %s", pdb->displays[i].expr, pdb->displays[i].repr);
        return 0;
    }
    char *repr, *id;
    rw_err e;
    if (!getval_except(pdb, arg, 1, &repr, &id, &e)) {
        log_shows(pdb, "display", e.msg);
        return 0;
    }
    msg(pdb, "display %s: %s", arg, repr);
    for (size_t i = 0; i < pdb->ndisplays; i++)
        if (pdb->displays[i].frame == key && !strcmp(pdb->displays[i].expr, arg)) {
            free(pdb->displays[i].repr);
            free(pdb->displays[i].id);
            pdb->displays[i].repr = repr;
            pdb->displays[i].id = id;
            return 0;
        }
    display *v = realloc(pdb->displays, (pdb->ndisplays + 1) * sizeof *v);
    char *ex = strdup(arg);
    if (!v || !ex) {
        if (v)
            pdb->displays = v;
        free(ex);
        free(repr);
        free(id);
        error(pdb, "out of memory");
        return 0;
    }
    pdb->displays = v;
    pdb->displays[pdb->ndisplays++] = (display){key, ex, repr, id};
    return 0;
}

static int cmd_undisplay(rw_pdb *pdb, const char *arg)
{
    uint64_t key = cur_frame_key(pdb);
    int found = 0;
    for (size_t i = 0; i < pdb->ndisplays;) {
        display *d = &pdb->displays[i];
        if (d->frame == key && (!*arg || !strcmp(d->expr, arg))) {
            display_free(d);
            memmove(d, d + 1, (pdb->ndisplays - i - 1) * sizeof *d);
            pdb->ndisplays--;
            found = 1;
        } else {
            i++;
        }
    }
    if (*arg && !found)
        error(pdb, "not displaying %s", arg);
    return 0;
}

/* pdb's preloop, at each stop: the displays of the current frame whose value changed
 * ("newvalue is not oldvalue and newvalue != oldvalue": another repr, and not the same
 * object changed in place). */
static void show_displays(rw_pdb *pdb)
{
    uint64_t key = cur_frame_key(pdb);
    for (size_t i = 0; i < pdb->ndisplays; i++) {
        display *d = &pdb->displays[i];
        if (d->frame != key)
            continue;
        char *repr, *id;
        rw_err e;
        if (!getval_except(pdb, d->expr, 0, &repr, &id, &e)) {
            log_shows(pdb, "display", e.msg);
            return;
        }
        if (strcmp(repr, d->repr)) {
            if (strncmp(repr, "** raised ", 10)) {
                free(id);
                id = value_id(pdb, d->expr);
            }
            if (id && *id && d->id && !strcmp(id, d->id)) {
                /* The object pdb holds, changed in place: pdb shows nothing. */
                free(d->repr);
                d->repr = repr;
            } else {
                msg(pdb, "display %s: %s  [old: %s]", d->expr, repr, d->repr);
                free(d->repr);
                free(d->id);
                d->repr = repr;
                d->id = id ? id : strdup("");
                id = NULL;
            }
            free(id);
        } else {
            free(repr);
            free(id);
        }
    }
}

/* ---- watchpoints -------------------------------------------------------------------------- */

/* watch EXPR: a watchpoint in the selected frame; watch: lists them. */
static int cmd_watch(rw_pdb *pdb, const char *arg)
{
    rw_err e;
    if (!*arg) {
        int limit = rw_session_watch_limit(pdb->s), any = 0;
        for (int i = 1; i < limit; i++) {
            const rw_watchpoint *w = rw_session_watch_get(pdb->s, i);
            if (!w)
                continue;
            if (!any)
                msg(pdb, "Num Expression, frame, value here");
            any = 1;
            rw_session_code c;
            const char *fn = rw_session_code_info(pdb->s, w->code_id, &c) ? c.name : "?";
            char *v = NULL;
            if (rw_session_watch_value(pdb->s, i, &v, &e) != RW_OK)
                v = NULL;
            msg(pdb, "%-4d%s  in %s() called at event %llu, thread %u: %s", i, w->expr, fn,
                (unsigned long long)w->frame_call, w->thread, v ? v : e.msg);
            free(v);
        }
        if (!any)
            msg(pdb, "No watchpoints");
        return 0;
    }
    int n;
    char *v;
    rw_code rc = rw_session_watch_add(pdb->s, arg, &n, &v, &e);
    if (rc == RW_ENOMEM) {
        error(pdb, "watch: %s", e.msg);
        return 0;
    }
    if (rc != RW_OK) {
        log_shows(pdb, "watch", e.msg);
        return 0;
    }
    msg(pdb, "Watchpoint %d: %s = %s", n, arg, v);
    free(v);
    return 0;
}

/* unwatch [N ...]: deletes watchpoints (all without an argument). */
static int cmd_unwatch(rw_pdb *pdb, const char *arg)
{
    int limit = rw_session_watch_limit(pdb->s);
    if (!*arg) {
        int any = 0;
        for (int i = 1; i < limit; i++)
            if (rw_session_watch_get(pdb->s, i)) {
                rw_session_watch_delete(pdb->s, i);
                any = 1;
            }
        if (any)
            msg(pdb, "Deleted all watchpoints");
        else
            error(pdb, "No watchpoints to delete");
        return 0;
    }
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", arg);
    char *w[MAX_WORDS];
    size_t nw = split_words(buf, w, MAX_WORDS);
    for (size_t i = 0; i < nw; i++) {
        long long n;
        if (rw_pdb_parse_int(w[i], &n) < 0) {
            error(pdb, "Non-numeric watchpoint number %s", w[i]);
            continue;
        }
        if (n < 1 || n >= limit) {
            error(pdb, "Watchpoint number %lld out of range", n);
            continue;
        }
        if (!rw_session_watch_get(pdb->s, (int)n)) {
            error(pdb, "Watchpoint %lld already deleted", n);
            continue;
        }
        rw_session_watch_delete(pdb->s, (int)n);
        msg(pdb, "Deleted watchpoint %lld", n);
    }
    return 0;
}

static int cmd_args(rw_pdb *pdb, const char *arg)
{
    (void)arg;
    if (!pdb->stop.nframes) {
        log_shows(pdb, "args", "no Python frame here");
        return 0;
    }
    rw_session_code c;
    if (!rw_session_code_info(pdb->s, selected_frame(pdb)->code_id, &c) || !c.n_arg_names)
        return 0;
    char *val = NULL;
    int raised;
    rw_err e;
    if (rw_session_value(pdb->s, RW_SESSION_SELECTED, RW_VALUES_ARGS, "", &val, &raised, &e) ==
        RW_OK) {
        if (raised)
            put_raised(pdb, val);
        else if (*val)
            put_msg(pdb, val);
        free(val);
        return 0;
    }
    error(pdb, "args: %s; the log shows the names:", e.msg);
    for (size_t i = 0; i < c.n_arg_names; i++)
        msg(pdb, "%s", c.arg_names[i]);
    return 0;
}

static int cmd_retval(rw_pdb *pdb, const char *arg)
{
    (void)arg;
    /* pdb's __return__: this frame's return stop, or an earlier --Return-- stop of the
     * session in the frame (a traceback's frame: bdb leaves it in the locals). */
    if (!pdb->stop.nframes || pdb->stop.postmortem ||
        ((pdb->stop.event_kind != RW_K_RETURN || pdb->stop.selected + 1 != pdb->stop.nframes) &&
         !rw_session_frame_returned(pdb->s, pdb->stop.selected))) {
        error(pdb, "Not yet returned!");
        return 0;
    }
    char *val = NULL;
    int raised;
    rw_err e;
    if (rw_session_value(pdb->s, RW_SESSION_SELECTED, RW_VALUES_RETVAL, "", &val, &raised, &e) ==
        RW_OK) {
        if (raised)
            put_raised(pdb, val);
        else
            put_msg(pdb, val);
        free(val);
        return 0;
    }
    error(pdb, "retval: %s; the log shows: %s() returns at event %llu", e.msg,
          selected_frame(pdb)->function, (unsigned long long)pdb->stop.pos);
    return 0;
}

static int cmd_jump(rw_pdb *pdb, const char *arg)
{
    (void)arg;
    error(pdb, "jump: a recording cannot be changed; 'goto POS' moves to any position "
             "(an event number or FILE:LINE)");
    return 0;
}

static int cmd_run(rw_pdb *pdb, const char *arg)
{
    if (*arg) {
        error(pdb, "run: a recording cannot be run with other arguments");
        return 0;
    }
    rw_session_run run;
    rw_session_run_info(pdb->s, &run);
    msg(pdb, "Restarting %s with arguments:", run.target ? run.target : "?");
    fputc('\t', pdb->out);
    for (size_t i = 1; i < run.argc; i++)
        fprintf(pdb->out, "%s%s", i > 1 ? " " : "", run.argv[i]);
    fputc('\n', pdb->out);
    return move(pdb, rw_session_start);
}

/* ---- alias, help, quit ------------------------------------------------------------------ */

static int cmd_alias(rw_pdb *pdb, const char *arg)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", arg);
    char *w[MAX_WORDS];
    size_t n = split_words(buf, w, MAX_WORDS);
    if (!n) {
        /* sorted by name */
        for (size_t i = 0; i < pdb->naliases; i++)
            for (size_t j = i + 1; j < pdb->naliases; j++)
                if (strcmp(pdb->aliases[j].name, pdb->aliases[i].name) < 0) {
                    alias t = pdb->aliases[i];
                    pdb->aliases[i] = pdb->aliases[j];
                    pdb->aliases[j] = t;
                }
        for (size_t i = 0; i < pdb->naliases; i++)
            msg(pdb, "%s = %s", pdb->aliases[i].name, pdb->aliases[i].text);
        return 0;
    }
    size_t k;
    for (k = 0; k < pdb->naliases; k++)
        if (!strcmp(pdb->aliases[k].name, w[0]))
            break;
    if (k < pdb->naliases && n == 1) {
        msg(pdb, "%s = %s", pdb->aliases[k].name, pdb->aliases[k].text);
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
        error(pdb, "out of memory");
        return 0;
    }
    if (k < pdb->naliases) {
        free(pdb->aliases[k].text);
        pdb->aliases[k].text = t.p;
        return 0;
    }
    alias *na = realloc(pdb->aliases, (pdb->naliases + 1) * sizeof *na);
    char *name = strdup(w[0]);
    if (!na || !name) {
        free(t.p);
        free(name);
        if (na)
            pdb->aliases = na;
        error(pdb, "out of memory");
        return 0;
    }
    pdb->aliases = na;
    pdb->aliases[pdb->naliases].name = name;
    pdb->aliases[pdb->naliases].text = t.p;
    pdb->naliases++;
    return 0;
}

static int cmd_unalias(rw_pdb *pdb, const char *arg)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", arg);
    char *w[1];
    if (!split_words(buf, w, 1))
        return 0;
    for (size_t k = 0; k < pdb->naliases; k++)
        if (!strcmp(pdb->aliases[k].name, w[0])) {
            free(pdb->aliases[k].name);
            free(pdb->aliases[k].text);
            pdb->aliases[k] = pdb->aliases[--pdb->naliases];
            break;
        }
    return 0;
}

static int cmd_quit(rw_pdb *pdb, const char *arg)
{
    (void)arg;
    pdb->done = 1;
    return 1;
}

static int cmd_eof(rw_pdb *pdb, const char *arg)
{
    (void)arg;
    msg(pdb, "%s", "");
    pdb->done = 1;
    return 1;
}

static int cmd_help(rw_pdb *pdb, const char *arg);

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
    {"unwatch", cmd_unwatch, NULL},
    {"up", cmd_up, NULL},
    {"w", cmd_where, NULL},
    {"watch", cmd_watch, NULL},
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
static void columnize(rw_pdb *pdb, const char **list, size_t size)
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
                fputs("  ", pdb->out);
            fprintf(pdb->out, "%-*s", c + 1 < nt ? (int)colw[c] : (int)colw[c], texts[c]);
        }
        fputc('\n', pdb->out);
    }
}

static int cmd_help(rw_pdb *pdb, const char *arg)
{
    if (!*arg) {
        const char *names[NCOMMANDS];
        for (size_t i = 0; i < NCOMMANDS; i++)
            names[i] = commands[i].name;
        msg(pdb, "%s", "");
        msg(pdb, "Documented commands (type help <topic>):");
        msg(pdb, "========================================");
        columnize(pdb, names, NCOMMANDS);
        msg(pdb, "%s", "");
        msg(pdb, "Miscellaneous help topics:");
        msg(pdb, "==========================");
        const char *topics[] = {"exec", "pdb"};
        columnize(pdb, topics, 2);
        msg(pdb, "%s", "");
        return 0;
    }
    if (!strcmp(arg, "exec")) {
        msg(pdb, "%s", rw_pdb_help_exec);
        return 0;
    }
    if (!strcmp(arg, "pdb")) {
        msg(pdb, "rewind replay speaks pdb's commands (type help <command>) plus reverse "
               "commands: rstep, rnext, rreturn, rcontinue, runtil, goto, when, thread, "
               "exceptions, events. docs/replay.md has the full reference.");
        return 0;
    }
    const command *c = find_command(arg);
    const rw_pdb_help *h = rw_pdb_help_find(c && c->help ? c->help : arg);
    char r[512];
    if (!h) {
        py_repr(arg, r, sizeof r);
        error(pdb, "No help for %s", r);
        return 0;
    }
    msg(pdb, "%s", h->text);
    return 0;
}

/* ---- dispatch ---------------------------------------------------------------------------- */

/* pdb's default(): a line that names no command runs as a Python statement in the
 * selected frame ("!" forces it), in a throwaway fork of the engine: what it printed
 * (expressions' values too, by pdb's displayhook), or pdb's error line. unknown: the
 * command name, for the message when there are no values. */
static int statement(rw_pdb *pdb, const char *code, const char *unknown)
{
    char *out = NULL;
    int raised = 0;
    rw_err e;
    if (rw_session_value(pdb->s, RW_SESSION_SELECTED, RW_VALUES_EXEC, code, &out, &raised,
                         &e) != RW_OK) {
        if (unknown) {
            char r[512];
            py_repr(unknown, r, sizeof r);
            error(pdb, "Unknown command %s: as a Python statement it cannot run here: %s", r,
                  e.msg);
        } else {
            error(pdb, "Python statements cannot run here: %s", e.msg);
        }
        return 0;
    }
    if (raised)
        put_raised(pdb, out);
    else
        fputs(out, pdb->out);
    free(out);
    return 0;
}

/* cmd.Cmd's onecmd: runs one command line as typed. Returns 1 when the position
 * moved. */
static int run_cmd(rw_pdb *pdb, const char *line)
{
    char name[64];
    size_t cap = strlen(line) + 1;
    char *arg = malloc(cap);
    if (!arg) {
        error(pdb, "out of memory");
        return 0;
    }
    rw_pdb_linekind k = rw_pdb_parseline(line, name, sizeof name, arg, cap);
    int rc = 0;
    if (k == RW_PDB_EMPTY) {
        if (pdb->lastcmd) {
            char *again = strdup(pdb->lastcmd);
            if (again)
                rc = run_cmd(pdb, again);
            free(again);
        }
        free(arg);
        return rc;
    }
    if (k == RW_PDB_STATEMENT) {
        rc = statement(pdb, arg, NULL);
        free(arg);
        return rc;
    }
    /* cmd.Cmd: the line becomes lastcmd (EOF resets it). */
    char *copy = strdup(line);
    free(pdb->lastcmd);
    pdb->lastcmd = copy;
    if (!strcmp(name, "EOF")) {
        free(pdb->lastcmd);
        pdb->lastcmd = NULL;
    }
    const command *c = find_command(name);
    if (c) {
        rc = c->fn(pdb, arg);
    } else {
        /* cmd.Cmd hands default() the stripped line. */
        char *code = strdup(line);
        if (code) {
            char *t = code;
            while (isspace((unsigned char)*t))
                t++;
            size_t n = strlen(t);
            while (n && isspace((unsigned char)t[n - 1]))
                t[--n] = '\0';
            rc = statement(pdb, t, name);
        } else {
            error(pdb, "out of memory");
        }
        free(code);
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
static int def_line(rw_pdb *pdb, const char *line)
{
    assert(pdb->defining && (pdb->def_bnum == 0 || pdb->def_bnum < pdb->nlists));
    cmdlist *l = pdb->def_bnum > 0 ? &pdb->lists[pdb->def_bnum] : &pdb->def_void;
    size_t cap = strlen(line) + 1, namecap = cap + sizeof "help"; /* "?" is "help" */
    char *name = malloc(namecap), *arg = malloc(cap);
    if (!name || !arg) {
        error(pdb, "out of memory");
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
                error(pdb, "out of memory");
            }
            if (c && resumes(c)) {
                l->doprompt = 0;
                end = 1;
            }
        }
        if (end) {
            pdb->defining = 0;
            drop_queue(pdb);
        }
    }
    free(name);
    free(arg);
    return 0;
}

int rw_pdb_onecmd(rw_pdb *pdb, const char *line)
{
    if (pdb->defining)
        return def_line(pdb, line);
    return run_cmd(pdb, line);
}

int rw_pdb_defining(const rw_pdb *pdb)
{
    return pdb->defining;
}

/* Lists that resume in opposite directions (one continues to a breakpoint whose
 * list rcontinues to the first, ...) would go back and forth for ever without a
 * prompt; pdb has no reverse commands, so cannot. A chain of resuming lists that
 * changes direction this often stops at a prompt. */
#define LIST_TURNS_MAX 1000

int rw_pdb_interaction(rw_pdb *pdb)
{
    int num = pdb->currentbp;
    cmdlist *l = NULL;
    /* bp_commands runs from user_line: at line events only. */
    if (num && pdb->stop.event_kind == RW_K_LINE && !pdb->stop.postmortem && !pdb->stop.at_end)
        l = bp_list(pdb, num);
    if (l && pdb->list_turns >= LIST_TURNS_MAX) {
        error(pdb, "breakpoint command lists went back and forth %u times without a prompt "
                 "(lists that resume in opposite directions?): stopped here",
              pdb->list_turns);
        pdb->currentbp = 0;
        l = NULL;
    }
    if (!l) {
        pdb->list_turns = 0;
        pdb->list_dir = 0;
        rw_pdb_print_stop(pdb);
        show_displays(pdb);
        return 0;
    }
    pdb->currentbp = 0;
    /* A copy: the lines may clear or redefine the list. */
    size_t n = l->n;
    int silent = l->silent, doprompt = l->doprompt;
    char **lines = n ? calloc(n, sizeof *lines) : NULL;
    for (size_t i = 0; lines && i < n; i++)
        lines[i] = strdup(l->lines[i]);
    if (n && !lines) {
        error(pdb, "out of memory");
        rw_pdb_print_stop(pdb);
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
    char *lastcmd_back = pdb->lastcmd; /* bp_commands keeps lastcmd */
    pdb->lastcmd = NULL;
    uint64_t from = pdb->stop.pos;
    int moved = 0;
    pdb->in_list = 1;
    /* A line that moves before the last (restart) ends the list, as pdb's Restart
     * does; the new position is a new stop. */
    for (size_t i = 0; i < last && !moved && !pdb->done; i++)
        if (lines[i])
            moved = run_cmd(pdb, lines[i]);
    if (!moved && !pdb->done) {
        if (!silent)
            rw_pdb_print_stop(pdb);
        if (last < n && lines[last])
            moved = run_cmd(pdb, lines[last]);
    }
    pdb->in_list = 0;
    free(pdb->lastcmd);
    pdb->lastcmd = lastcmd_back;
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    if (!rw_session_break_get(pdb->s, num)) /* a temporary breakpoint, deleted at this stop */
        cmdlist_clear(&pdb->lists[num]);
    if (pdb->done)
        return 1;
    if (!moved) {
        pdb->list_turns = 0;
        pdb->list_dir = 0;
        if (doprompt)
            show_displays(pdb); /* pdb's _cmdloop, after the list */
        return 0;
    }
    int dir = pdb->stop.pos > from ? 1 : pdb->stop.pos < from ? -1 : 0;
    if (dir && pdb->list_dir && dir != pdb->list_dir)
        pdb->list_turns++;
    if (dir)
        pdb->list_dir = dir;
    return 1;
}

int rw_pdb_line(rw_pdb *pdb, const char *line)
{
    const char *p = line;
    while (isspace((unsigned char)*p))
        p++;
    if (!*p)
        return rw_pdb_onecmd(pdb, line);
    const char *names[64], *texts[64];
    size_t n = pdb->naliases < 64 ? pdb->naliases : 64;
    for (size_t i = 0; i < n; i++) {
        names[i] = pdb->aliases[i].name;
        texts[i] = pdb->aliases[i].text;
    }
    char *rest = NULL;
    char *x = rw_pdb_expand(line, names, texts, n, &rest);
    if (!x) {
        error(pdb, "alias expansion does not end (an alias that names itself?)");
        return 0;
    }
    if (rest && pdb->nqueue >= 1000) {
        error(pdb, "too many commands queued with ';;'; dropping them");
        drop_queue(pdb);
        free(rest);
        rest = NULL;
    }
    if (rest) {
        char **q = realloc(pdb->queue, (pdb->nqueue + 1) * sizeof *q);
        if (q) {
            pdb->queue = q;
            pdb->queue[pdb->nqueue++] = rest;
        } else {
            free(rest);
        }
    }
    int rc = rw_pdb_onecmd(pdb, x);
    free(x);
    return rc;
}

int rw_pdb_pending(rw_pdb *pdb, char *buf, size_t cap)
{
    if (!pdb->nqueue) {
        pdb->queued_runs = 0;
        return 0;
    }
    /* A queue that never empties (an alias that queues itself: "alias a s ;;a") would
     * run forever where nothing moves; pdb would too. Stop it. */
    if (++pdb->queued_runs > 1000) {
        error(pdb, "more than 1000 commands queued with ';;' in a row (an alias that queues "
                 "itself?): dropped");
        drop_queue(pdb);
        pdb->queued_runs = 0;
        return 0;
    }
    snprintf(buf, cap, "%s", pdb->queue[0]);
    free(pdb->queue[0]);
    memmove(pdb->queue, pdb->queue + 1, (pdb->nqueue - 1) * sizeof *pdb->queue);
    pdb->nqueue--;
    return 1;
}

/* ---- starting point ------------------------------------------------------------------------ */

rw_code rw_pdb_start(rw_pdb *pdb, const char *at, rw_err *err)
{
    rw_code rc;
    if (!at || !strcmp(at, "@start")) {
        rc = rw_session_start(pdb->s, &pdb->stop, err);
    } else if (!strcmp(at, "@crash")) {
        rc = rw_session_goto_crash(pdb->s, &pdb->stop, err);
        if (rc == RW_OK)
            print_crash(pdb);
    } else if (!strcmp(at, "@exception")) {
        rc = rw_session_goto_uncaught(pdb->s, &pdb->stop, err);
        if (rc == RW_OK)
            print_postmortem(pdb);
    } else {
        uint64_t pos;
        rc = rw_session_parse_position(pdb->s, at, &pos, err);
        if (rc == RW_OK)
            rc = rw_session_goto(pdb->s, pos, &pdb->stop, err);
        if (rc == RW_OK)
            print_kind(pdb);
    }
    if (rc != RW_OK)
        refresh(pdb);
    pdb->lineno = 0;
    return rc;
}
