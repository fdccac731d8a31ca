/* Session engine (session.h): bdb's stepping rules replayed on the recorded events.
 *
 * Forward moves set bdb's (stopframe, returnframe, stoplineno) and a forward search
 * stops at the first event where bdb's stop_here / break_here / return and exception
 * rules would have stopped. Reverse moves search backwards for the mirror condition.
 * Frames are named by the position of the CALL that opened them; a generator's frame,
 * which lives across resumptions, by its code and the Python frame that resumes it
 * (the log does not name generator objects). The searches themselves (chunk cache,
 * line filter, callees skipped by keyframes) are the navigator's (nav.h).
 */
#include "session.h"

#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nav.h"
#include "position.h"
#include "source_text.h"

#define CO_GENERATOR_ANY (0x20 | 0x80 | 0x200) /* CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR */
#define NOPOS UINT64_MAX

/* The lines of one recorded source (replayer/source_text.h), indexed at first use. */
typedef struct srcfile {
    int loaded;
    char *owned;          /* the text when read from a file (a frozen module's) */
    rw_source_text text;  /* split on '\n' only, as pdb's linecache does not (a lone
                           * '\r' is no line break here: docs/replay.md) */
} srcfile;

/* Invariants (session_ok checks them after every move):
 *  - frames[0 .. nframes) is the Python stack at pos, nframes <= capframes and
 *    nframes <= raw.depth (postmortem: the traceback instead); selected < nframes,
 *    or 0 when nframes == 0;
 *  - pos < the number of events, except in the postmortem view, where it may be
 *    the number of events (the uncaught exception seen after the last one);
 *  - bps[1 .. nbps) are the breakpoints by number (NULL once deleted), bps[0] is
 *    unused, nbps >= 1; a live bps[i] has number i and a file_id in 1 .. nfiles-1;
 *    file_bps[f] counts the live breakpoints of file f;
 *  - main_call <= start_pos and main_call <= main_ret < the number of events. */
struct rw_session {
    const rw_reader *r;
    const rw_defs *defs;
    rw_timebase tb;        /* the trace's time base, for stop times */
    rw_nav *nav;
    const rw_values *values;

    /* Per-file tables, indexed by FileDef id 0 .. nfiles-1 (nfiles = defs->nfiles,
     * at least 1). */
    uint32_t nfiles;
    char **canon;          /* canonical path (NULL when the file has no path) */
    srcfile *src;
    srcfile *listsrc;      /* what `list` shows for a frozen module (list_source_of) */
    uint32_t *file_bps;    /* live breakpoints */

    /* The main program: its frame's CALL and RETURN, its thread, its first line. */
    uint32_t main_thread;
    uint32_t main_file;
    uint64_t main_call, main_ret;
    uint64_t start_pos;

    /* Where we are. */
    uint64_t pos;
    rw_event ev;
    char *evtext;
    rw_stack raw;          /* the thread's whole stack at pos, C frames included */
    rw_session_frame *frames;
    uint32_t nframes, capframes;
    uint32_t selected;
    uint32_t thread;       /* viewed thread */
    int postmortem;
    int at_end;            /* forward moves ran off the end of the program */

    /* How the last move ended (rw_session_where). */
    rw_stop_reason reason;
    int moved;
    int hit;               /* breakpoint number of a BREAKPOINT stop */
    int deleted;
    rw_breakpoint deleted_bp;
    rw_session_crash crash;
    rw_err cond_err;       /* a condition the provider could not evaluate in the last
                            * move (cond_err.code != RW_OK) */
    int cond_bp;           /* ... of this breakpoint */

    rw_breakpoint **bps;   /* by number; [0] unused; NULL = deleted */
    int nbps;              /* numbers 1..nbps-1 were given */
    uint64_t *pairs;       /* where they can stop, for the line filter (bp_pairs) */
    size_t npairs, cappairs;
    int plain;             /* rw_session_set_plain_search */

    /* bdb's per-frame trace state: the frames (by the position of their CALL) that
     * have no local trace function (f_trace), as the forward moves that entered them
     * left them (docs/replay.md, "Which frames pdb sees"). Sorted, no duplicates.
     * Frames not listed are traced. */
    uint64_t *untraced;
    size_t nuntraced, capuntraced;

    /* The stop's extras: the frame of the event in frames[current] (frames after it
     * are the traceback of an exception that came up from callees), and whether an
     * EXCEPTION stop is an internal StopIteration. */
    uint32_t current;
    int exc_internal;

    /* The EXCEPTION and RETURN stops made so far (pdb's user_exception and
     * user_return store __exception__ / __return__ in the frame's locals there, for
     * good): by the frame's CALL position. */
    struct kept_stop {
        uint64_t call_pos, pos;
        uint32_t code;
        int kind;
    } *kept;
    size_t nkept, capkept;

    /* Watchpoints by number (watches[0] unused, NULL once deleted; numbers 1 ..
     * nwatches-1 were given), what changed at the last move's stop (changes owns
     * its strings), and the probes of the last watch search. */
    rw_watchpoint **watches;
    int nwatches;
    rw_watch_change *changes;
    size_t nchanges;
    uint64_t probes;
    /* A continue that a watchpoint ends at watch_stop: its breakpoint search ends
     * before fwd_end, and finding nothing it stops at watch_stop (NOPOS: not such a
     * continue). */
    uint64_t fwd_end, watch_stop;
};

/* ---- definitions: files, sources, codes ---------------------------------------- */

/* Every look into the trace's definitions goes through vocab.h's bounded lookups, so
 * an id past its table reads as unknown here as in every other command. */

/* The CodeDef of id; NULL for id 0 or an id past the table. */
static const Rewind__CodeDef *code_def(const rw_session *s, uint32_t id)
{
    return id ? rw_defs_code(s->defs, id) : NULL;
}

/* Its FileDef id; 0 when the code or its file is unknown. */
static uint32_t code_file(const rw_session *s, uint32_t id)
{
    return rw_defs_code_file(s->defs, id);
}

/* Its name as pdb prints it: a code without one is a lambda. */
static const char *code_name(const rw_session *s, uint32_t id)
{
    const char *name = rw_defs_code_name(s->defs, id);
    return name ? name : "<lambda>";
}

static int code_is_gen(const rw_session *s, uint32_t id)
{
    const Rewind__CodeDef *c = code_def(s, id);
    return c && (c->flags & CO_GENERATOR_ANY);
}

const char *rw_session_file_path(const rw_session *s, uint32_t f)
{
    return f && f < s->nfiles && s->canon[f] ? s->canon[f] : "?";
}

const char *rw_session_file_recorded_path(const rw_session *s, uint32_t f)
{
    const Rewind__FileDef *fd = rw_defs_file(s->defs, f);
    return fd ? fd->path : NULL;
}

/* The text of a name (an exception type, an audit event); "Exception" when unknown. */
static const char *name_text(const rw_session *s, uint32_t name)
{
    const char *text = rw_defs_name_text(s->defs, name);
    return text ? text : "Exception";
}

/* pdb's canonic() (bdb.Bdb.canonic: os.path.abspath, then normcase, which is the
 * identity on POSIX), with the recording's working directory as the current one:
 * a "<...>" name (<string>, <frozen runpy>) unchanged, any other path made absolute
 * against cwd and normalised (vocab.h: rw_path_abspath). New string, caller frees;
 * NULL when out of memory. */
static char *canonic(const char *path, const char *cwd)
{
    size_t n = strlen(path);
    if (n >= 2 && path[0] == '<' && path[n - 1] == '>')
        return strdup(path);
    return rw_path_abspath(path, cwd);
}

static const char *recording_cwd(const rw_session *s)
{
    const Rewind__Metadata *md = rw_reader_metadata(s->r);
    return md ? md->cwd : NULL;
}

char *rw_session_canonic(const rw_session *s, const char *path)
{
    return canonic(path, recording_cwd(s));
}

uint32_t rw_session_lookup_file(const rw_session *s, const char *name)
{
    char *c = canonic(name, recording_cwd(s));
    char with_py[4096 + 4];
    snprintf(with_py, sizeof with_py, "%s%s", name, strstr(name, ".py") ? "" : ".py");
    char *c2 = canonic(with_py, recording_cwd(s));
    uint32_t found = 0;
    for (uint32_t i = 1; i < s->nfiles && !found; i++)
        if (s->canon[i] && ((c && !strcmp(s->canon[i], c)) || (c2 && !strcmp(s->canon[i], c2))))
            found = i;
    size_t wl = strlen(with_py);
    for (uint32_t i = 1; i < s->nfiles && !found; i++) {
        const char *p = s->canon[i];
        size_t pl = p ? strlen(p) : 0;
        if (p && pl > wl && p[pl - wl - 1] == '/' && !strcmp(p + pl - wl, with_py))
            found = i;
    }
    free(c);
    free(c2);
    return found;
}

uint32_t rw_session_main_file(const rw_session *s)
{
    return s->main_file;
}

/* File f's recorded source as lines (indexed at the first use); NULL when f is unknown
 * or has no recorded source. */
static srcfile *source_of(rw_session *s, uint32_t f)
{
    const Rewind__FileDef *fd = f ? rw_defs_file(s->defs, f) : NULL;
    if (!fd)
        return NULL;
    assert(f < s->nfiles);
    srcfile *sf = &s->src[f];
    if (sf->loaded)
        return sf->text.n ? sf : NULL;
    sf->loaded = 1;
    const char *text;
    size_t len;
    if (!rw_source_text_of_file(s->defs, f, &text, &len))
        return NULL;
    rw_err err = {0};
    if (rw_source_text_init(&sf->text, text, len, RW_SOURCE_TEXT_LF, &err) != RW_OK)
        return NULL; /* out of memory: shown as a file without source */
    return sf->text.n ? sf : NULL;
}

/* Line `line` of sf into buf (no line end); 0 when there is none. */
static int srcfile_line(const srcfile *sf, long long line, char *buf, size_t cap)
{
    rw_source_text_line ln;
    if (!sf || line < 1 || !rw_source_text_line_at(&sf->text, (uint64_t)line, &ln))
        return 0;
    size_t n = ln.len;
    while (n && ln.s[n - 1] == '\r')
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, ln.s, n);
    buf[n] = '\0';
    return 1;
}

int rw_session_source_line(rw_session *s, uint32_t f, long long line, char *buf, size_t cap)
{
    return srcfile_line(source_of(s, f), line, buf, cap);
}

size_t rw_session_source_nlines(rw_session *s, uint32_t f)
{
    srcfile *sf = source_of(s, f);
    return sf ? sf->text.n : 0;
}

/* Reads a whole file into a new NUL-terminated buffer (caller frees); NULL when it
 * cannot be read or is too large. */
static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            if (cap > ((size_t)64 << 20)) {
                free(buf);
                fclose(fp);
                return NULL;
            }
            cap = cap ? 2 * cap : 65536;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(fp);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, fp);
        n += got;
        if (!got)
            break;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

#ifndef RW_PY_STDLIB_DIR
#define RW_PY_STDLIB_DIR ""
#endif

/* What pdb's `list` reads for file f: the file itself, but for a frozen standard
 * module ("<frozen posixpath>", which linecache cannot read) the module's __file__
 * (pdb 3.11, gh-93696): the recorded source of a file of the trace at that path
 * within the standard library, else that file of this machine's standard library
 * (rewind runs the same build: docs/replay.md). NULL when there is none. */
static srcfile *list_source_of(rw_session *s, uint32_t f)
{
    const Rewind__FileDef *fd = f ? rw_defs_file(s->defs, f) : NULL;
    const char *p = fd ? fd->path : NULL;
    if (!p || strncmp(p, "<frozen ", 8) || p[strlen(p) - 1] != '>')
        return source_of(s, f);
    srcfile *sf = &s->listsrc[f];
    if (sf->loaded)
        return sf->text.n ? sf : NULL;
    sf->loaded = 1;
    char rel[1024];
    size_t k = 0;
    for (const char *q = p + 8; *q && *q != '>' && k + 4 < sizeof rel; q++)
        rel[k++] = *q == '.' ? '/' : *q;
    memcpy(rel + k, ".py", 4);
    size_t rl = strlen(rel);
    const char *text = NULL;
    size_t len = 0;
    for (uint32_t i = 1; i < s->nfiles && !text; i++) {
        const char *c = s->canon[i];
        size_t cl = c ? strlen(c) : 0;
        if (c && cl > rl && c[cl - rl - 1] == '/' && !strcmp(c + cl - rl, rel) &&
            strstr(c, "/python3") && !rw_source_text_of_file(s->defs, i, &text, &len))
            text = NULL;
    }
    static const char stdlib_dir[] = RW_PY_STDLIB_DIR; /* "" when the build has none */
    if (!text && stdlib_dir[0]) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", stdlib_dir, rel);
        if ((sf->owned = read_file(path, &len)))
            text = sf->owned;
    }
    rw_err err = {0};
    if (!text || rw_source_text_init(&sf->text, text, len, RW_SOURCE_TEXT_LF, &err) != RW_OK)
        return NULL;
    return sf->text.n ? sf : NULL;
}

size_t rw_session_list_nlines(rw_session *s, uint32_t f)
{
    srcfile *sf = list_source_of(s, f);
    return sf ? sf->text.n : 0;
}

int rw_session_list_line(rw_session *s, uint32_t f, long long line, char *buf, size_t cap)
{
    return srcfile_line(list_source_of(s, f), line, buf, cap);
}

int rw_session_code_info(const rw_session *s, uint32_t id, rw_session_code *out)
{
    const Rewind__CodeDef *c = code_def(s, id);
    if (!c)
        return 0;
    out->name = code_name(s, id);
    out->qualname = c->qualname;
    out->file_id = code_file(s, id);
    out->first_line = c->first_line;
    out->arg_names = (const char *const *)c->arg_names;
    out->n_arg_names = c->n_arg_names;
    return 1;
}

uint32_t rw_session_find_code(const rw_session *s, const char *name, uint32_t prefer_file)
{
    const char *dot = strrchr(name, '.');
    uint32_t best = 0;
    for (int pass = 0; pass < 2 && !best; pass++)
        for (uint32_t i = 1; i < s->defs->ncodes; i++) {
            const Rewind__CodeDef *c = code_def(s, i);
            if (!c || !strcmp(c->name, "<module>"))
                continue;
            int m = (c->qualname && !strcmp(c->qualname, name)) || !strcmp(c->name, name) ||
                    (dot && !strcmp(c->name, dot + 1) && pass == 1);
            if (!m)
                continue;
            if (c->file == prefer_file)
                return i;
            if (!best)
                best = i;
        }
    return best;
}

/* What the trace says of thread id (vocab.h); NULL when it does not know it. */
static const Rewind__ThreadDef *thread_def(const rw_session *s, uint32_t id)
{
    return rw_defs_thread_final(s->defs, rw_reader_end(s->r), id);
}

uint32_t rw_session_nthreads(const rw_session *s)
{
    return s->defs->nthreads;
}

int rw_session_thread_info(const rw_session *s, uint32_t id, rw_session_thread *out)
{
    const Rewind__ThreadDef *t = thread_def(s, id);
    if (!t)
        return 0;
    const char *name = rw_defs_thread_name(s->defs, rw_reader_end(s->r), id);
    out->name = name ? name : "?";
    out->ident = t->ident;
    out->native_id = t->native_id;
    out->is_main = t->is_main;
    out->from_c = t->from_c;
    return 1;
}

void rw_session_run_info(const rw_session *s, rw_session_run *out)
{
    const Rewind__Metadata *md = rw_reader_metadata(s->r);
    const Rewind__RunEnd *e = rw_reader_end(s->r);
    out->target = md ? md->run_target : NULL;
    out->argv = md ? (const char *const *)md->argv : NULL;
    out->argc = md ? md->n_argv : 0;
    out->has_end = e != NULL;
    out->exit_status = e ? e->exit_status : 0;
}

uint64_t rw_session_nevents(const rw_session *s)
{
    return rw_nav_nevents(s->nav);
}

/* ---- breakpoints ---------------------------------------------------------------- */

static void bp_delete(rw_session *s, rw_breakpoint *b)
{
    assert(b->number > 0 && b->number < s->nbps && s->bps[b->number] == b);
    assert(s->file_bps[b->file_id] > 0);
    s->file_bps[b->file_id]--;
    s->bps[b->number] = NULL;
    free(b->condition);
    free(b->funcname);
    free(b);
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
static int bp_checkfunc(const rw_session *s, const rw_breakpoint *b, const rw_event *ev,
                        const rw_frame *fr)
{
    if (!b->funcname)
        return b->line == ev->line;
    const Rewind__CodeDef *c = code_def(s, ev->code);
    if (!c || strcmp(c->name, b->funcname))
        return 0;
    uint32_t first = first_body_line(c);
    if (first)
        return ev->line == first;
    /* Unknown line starts: the first line event of the call. */
    return fr && fr->call_pos + 1 == ev->pos;
}

/* bdb's eval of a breakpoint's condition in the newest frame of LINE event ev, asked of
 * the values provider: 1 true, 0 false, -1 when it cannot be had (it raised, or the
 * provider has no values: bdb then stops). A provider that has values but fails (a
 * divergence) is noted in cond_err for the front end. */
static int bp_cond(rw_session *s, const rw_breakpoint *b, const rw_event *ev)
{
    rw_values_at at = {.pos = ev->pos, .thread = ev->thread, .frame_index = RW_VALUES_NEWEST};
    char *out = NULL;
    int raised = 0;
    rw_err e;
    rw_code rc = s->values->ask(s->values->ctx, &at, RW_VALUES_TRUTH, b->condition, &out,
                                &raised, &e);
    if (rc != RW_OK) {
        if (s->cond_err.code == RW_OK && !s->values->why(s->values->ctx)) {
            s->cond_err = e;
            s->cond_bp = b->number;
        }
        return -1;
    }
    int v = raised ? -1 : out && !strcmp(out, "1");
    free(out);
    return v;
}

/* Does an enabled breakpoint match LINE event ev? Forward (count != 0): bdb's
 * effective(): counts hits, evaluates conditions, consumes ignore counts and reports a
 * temporary one to delete in *del. Backward (count == 0): a pure test that takes
 * conditions as true (rev_match evaluates them). Returns the breakpoint. */
static rw_breakpoint *bp_effective(rw_session *s, const rw_event *ev, const rw_frame *fr,
                                   int count, int *del)
{
    uint32_t f = code_file(s, ev->code);
    if (!f || !s->file_bps[f])
        return NULL;
    uint32_t line = ev->line;
    int any = 0;
    for (int i = 1; i < s->nbps; i++) {
        rw_breakpoint *b = s->bps[i];
        if (b && b->file_id == f && b->line == line)
            any = 1;
    }
    if (!any) {
        const Rewind__CodeDef *c = code_def(s, ev->code);
        line = c ? c->first_line : 0;
        for (int i = 1; i < s->nbps; i++) {
            rw_breakpoint *b = s->bps[i];
            if (b && b->file_id == f && b->line == line)
                any = 1;
        }
        if (!any)
            return NULL;
    }
    for (int i = 1; i < s->nbps; i++) {
        rw_breakpoint *b = s->bps[i];
        if (!b || b->file_id != f || b->line != line || !b->enabled)
            continue;
        if (!bp_checkfunc(s, b, ev, fr))
            continue;
        if (!count)
            return b;
        b->hits++;
        if (b->condition) {
            /* The ignore count applies to the hits where the condition is true; a
             * condition that cannot be evaluated stops, and does not delete a
             * temporary breakpoint. */
            int v = bp_cond(s, b, ev);
            if (v < 0) {
                *del = 0;
                return b;
            }
            if (!v)
                continue;
        }
        if (b->ignore > 0) {
            b->ignore--;
            continue;
        }
        *del = 1;
        return b; /* bdb's break_here */
    }
    return NULL;
}

rw_code rw_session_break_add(rw_session *s, uint32_t file_id, uint32_t line,
                             const char *funcname, const char *cond, int temporary,
                             int *number, rw_err *err)
{
    assert(file_id > 0 && file_id < s->nfiles && rw_defs_file(s->defs, file_id));
    rw_breakpoint *b = calloc(1, sizeof *b);
    rw_breakpoint **nb = realloc(s->bps, (size_t)(s->nbps + 1) * sizeof *nb);
    if (nb)
        s->bps = nb;
    if (!b || !nb) {
        free(b);
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    }
    b->number = s->nbps;
    b->file_id = file_id;
    b->line = line;
    b->temporary = temporary;
    b->enabled = 1;
    b->condition = cond ? strdup(cond) : NULL;
    b->funcname = funcname ? strdup(funcname) : NULL;
    s->bps[s->nbps++] = b;
    s->file_bps[file_id]++;
    *number = b->number;
    return RW_OK;
}

int rw_session_break_limit(const rw_session *s)
{
    return s->nbps;
}

const rw_breakpoint *rw_session_break_get(const rw_session *s, int n)
{
    return n > 0 && n < s->nbps ? s->bps[n] : NULL;
}

static rw_breakpoint *bp_live(rw_session *s, int n)
{
    assert(n > 0 && n < s->nbps && s->bps[n]);
    return s->bps[n];
}

void rw_session_break_delete(rw_session *s, int n)
{
    bp_delete(s, bp_live(s, n));
}

void rw_session_break_enable(rw_session *s, int n, int on)
{
    bp_live(s, n)->enabled = on != 0;
}

void rw_session_break_ignore(rw_session *s, int n, long long count)
{
    bp_live(s, n)->ignore = count;
}

rw_code rw_session_break_condition(rw_session *s, int n, const char *cond, rw_err *err)
{
    rw_breakpoint *b = bp_live(s, n);
    char *c = NULL;
    if (cond && !(c = strdup(cond)))
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    free(b->condition);
    b->condition = c;
    return RW_OK;
}

static int any_enabled_bp(const rw_session *s)
{
    for (int i = 1; i < s->nbps; i++)
        if (s->bps[i] && s->bps[i]->enabled)
            return 1;
    return 0;
}

static int push_pair(rw_session *s, uint32_t code, uint32_t line)
{
    if (s->npairs == s->cappairs) {
        size_t cap = s->cappairs ? 2 * s->cappairs : 64;
        uint64_t *v = realloc(s->pairs, cap * sizeof *v);
        if (!v)
            return -1;
        s->pairs = v;
        s->cappairs = cap;
    }
    s->pairs[s->npairs++] = (uint64_t)code << 32 | line;
    return 0;
}

/* The (code, line) pairs of the LINE events at which an enabled breakpoint can stop
 * (bp_effective, bp_checkfunc), for the navigator's line filter: a plain breakpoint
 * at line L of a file stops at L in any code of the file; a function breakpoint at
 * the first body line of a code of that name. Returns 0, and lists nothing, when a
 * pair cannot be known (a function whose line starts were not recorded) or memory
 * runs out: then every chunk is searched. */
static int bp_pairs(rw_session *s)
{
    s->npairs = 0;
    for (int i = 1; i < s->nbps; i++) {
        const rw_breakpoint *b = s->bps[i];
        if (!b || !b->enabled)
            continue;
        for (uint32_t id = 1; id < s->defs->ncodes; id++) {
            const Rewind__CodeDef *c = code_def(s, id);
            if (!c || code_file(s, id) != b->file_id)
                continue;
            uint32_t line = b->line;
            if (b->funcname) {
                if (strcmp(c->name, b->funcname))
                    continue;
                if (!(line = first_body_line(c)))
                    return 0;
            }
            if (push_pair(s, id, line) < 0)
                return 0;
        }
    }
    /* No code can stop: a pair no event has keeps the filter on. */
    return s->npairs || push_pair(s, 0, 0) == 0;
}

/* For a search that only breakpoints can stop (continue, rcontinue): the line filter
 * on, so that chunks where no breakpoint line ran are not decoded. */
static void filter_on(rw_session *s)
{
    if (!s->plain && bp_pairs(s))
        rw_nav_set_line_filter(s->nav, s->pairs, s->npairs);
}

static void filter_off(rw_session *s)
{
    rw_nav_set_line_filter(s->nav, NULL, 0);
}

/* Does path name the file spec: equal, or ending in "/" + spec (as position.c)? */
static int path_matches(const char *path, const char *spec, size_t ls)
{
    size_t lp = strlen(path);
    if (lp == ls)
        return strncmp(path, spec, ls) == 0;
    return lp > ls && path[lp - ls - 1] == '/' && strncmp(path + lp - ls, spec, ls) == 0;
}

static int pair_match(void *p, const rw_event *ev, const rw_stack *st)
{
    (void)st;
    const rw_session *s = p;
    if (ev->kind != RW_K_LINE)
        return 0;
    uint64_t key = (uint64_t)ev->code << 32 | ev->line;
    for (size_t i = 0; i < s->npairs; i++)
        if (s->pairs[i] == key)
            return 1;
    return 0;
}

/* FILE:LINE (rw_pos_parse's meaning: the first LINE event at that line of a code
 * whose recorded path is FILE or ends in "/FILE"), found through the chunks' line
 * filters: only the chunks that may hold one of those (code, line) pairs are
 * decoded. 1 when spec is of that form (*rc then says how it went), else 0. */
static int parse_file_line(rw_session *s, const char *spec, uint64_t *pos, rw_code *rc,
                           rw_err *err)
{
    const char *colon = strrchr(spec, ':');
    if (!colon || !colon[1] || colon == spec || spec[0] == '@' ||
        (spec[0] >= '0' && spec[0] <= '9'))
        return 0;
    char *end;
    unsigned long line = strtoul(colon + 1, &end, 10);
    if (*end || line == 0 || line > UINT32_MAX || colon[1] < '0' || colon[1] > '9')
        return 0; /* rw_pos_parse words the error */
    size_t flen = (size_t)(colon - spec);
    s->npairs = 0;
    for (uint32_t i = 1; i < s->defs->ncodes; i++) {
        const char *path = rw_defs_code_path(s->defs, i);
        if (path && path_matches(path, spec, flen) && push_pair(s, i, (uint32_t)line) < 0) {
            *rc = rw_err_set(err, RW_ENOMEM, "out of memory");
            return 1;
        }
    }
    if (!s->npairs) {
        *rc = rw_err_set(err, RW_ENOTFOUND, "no code from a file named '%.*s' ran",
                         (int)flen, spec);
        return 1;
    }
    rw_nav_set_line_filter(s->nav, s->pairs, s->npairs);
    *rc = rw_nav_next(s->nav, UINT64_MAX, NOPOS, RW_NAV_EVENTS, pair_match, s, pos, err);
    filter_off(s);
    s->npairs = 0;
    if (*rc == RW_ENOTFOUND)
        *rc = rw_err_set(err, RW_ENOTFOUND, "line %lu of %.*s never ran", line, (int)flen,
                         spec);
    return 1;
}

rw_code rw_session_parse_position(rw_session *s, const char *spec, uint64_t *pos,
                                  rw_err *err)
{
    rw_code rc;
    if (!s->plain && spec && parse_file_line(s, spec, pos, &rc, err))
        return rc;
    return rw_pos_parse(s->r, spec, pos, err);
}

/* ---- bdb's per-frame trace state -------------------------------------------------- */

/* Index of the first entry >= call in s->untraced. */
static size_t untraced_lower(const rw_session *s, uint64_t call)
{
    size_t lo = 0, hi = s->nuntraced;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->untraced[mid] < call)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Does the frame opened at call have no local trace function? */
static int is_untraced(const rw_session *s, uint64_t call)
{
    if (!s->nuntraced)
        return 0;
    size_t i = untraced_lower(s, call);
    return i < s->nuntraced && s->untraced[i] == call;
}

/* Records the trace state of the frame opened at call. Out of memory: the frame is
 * left traced (as stepping would have it). */
static void set_traced(rw_session *s, uint64_t call, int traced)
{
    size_t i = untraced_lower(s, call);
    int there = i < s->nuntraced && s->untraced[i] == call;
    if (traced && there) {
        memmove(s->untraced + i, s->untraced + i + 1, (s->nuntraced - i - 1) * sizeof(uint64_t));
        s->nuntraced--;
    } else if (!traced && !there) {
        if (s->nuntraced == s->capuntraced) {
            size_t cap = s->capuntraced ? 2 * s->capuntraced : 32;
            uint64_t *v = realloc(s->untraced, cap * sizeof *v);
            if (!v)
                return;
            s->untraced = v;
            s->capuntraced = cap;
        }
        memmove(s->untraced + i + 1, s->untraced + i, (s->nuntraced - i) * sizeof(uint64_t));
        s->untraced[i] = call;
        s->nuntraced++;
    }
}

/* ---- positions and stacks -------------------------------------------------------- */

/* The Python frame an event belongs to in st (the stack after the record, as
 * searches see it), or NULL. For RETURN, the popped frame, rebuilt in *tmp. */
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
    assert(i <= st->depth);
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

static int in_window(const rw_session *s, const rw_event *ev)
{
    if (ev->thread != s->main_thread)
        return 1;
    return ev->pos >= s->main_call && ev->pos <= s->main_ret;
}

static int is_py_event(int kind)
{
    return kind == RW_K_CALL || kind == RW_K_LINE || kind == RW_K_RETURN ||
           kind == RW_K_EXCEPTION;
}

static int grow_frames(rw_session *s, uint32_t need)
{
    if (need <= s->capframes)
        return 0;
    uint32_t cap = s->capframes ? s->capframes : 32;
    while (cap < need)
        cap *= 2;
    rw_session_frame *p = realloc(s->frames, cap * sizeof *p);
    if (!p)
        return -1;
    s->frames = p;
    s->capframes = cap;
    return 0;
}

static void set_frame(rw_session *s, rw_session_frame *p, uint32_t code, uint32_t line,
                      uint64_t call_pos)
{
    p->code_id = code;
    p->file_id = code_file(s, code);
    p->file = rw_session_file_path(s, p->file_id);
    p->function = code_name(s, code);
    p->line = line;
    p->call_pos = call_pos;
}

/* The last event of a thread before a position, as prev_event finds it. */
typedef struct prev_ctx {
    uint32_t thread;
    int py_only;          /* CALL, LINE, RETURN and EXCEPTION only (else C events too) */
    int found;
    int kind;
    uint32_t code, line, name;
    uint64_t pos;
    uint64_t frame_call;  /* the call position of the event's Python frame (NOPOS) */
    uint64_t gen;         /* a CALL's generator frame (rw_event.addr; 0: none) */
} prev_ctx;

static int prev_match(void *p, const rw_event *ev, const rw_stack *st)
{
    prev_ctx *c = p;
    if (ev->thread != c->thread || (c->py_only && !is_py_event(ev->kind)))
        return 0;
    rw_frame tmp;
    const rw_frame *fr = event_frame(ev, st, &tmp);
    c->found = 1;
    c->kind = ev->kind;
    c->code = ev->code;
    c->line = ev->line;
    c->name = ev->name;
    c->pos = ev->pos;
    c->frame_call = fr ? fr->call_pos : NOPOS;
    c->gen = ev->kind == RW_K_CALL ? ev->addr : 0;
    return 1; /* backward: the last match wins */
}

/* The last event of c->thread before pos into *c (c->found = 0 when none). */
static rw_code prev_event(rw_session *s, uint64_t pos, prev_ctx *c, rw_err *err)
{
    uint64_t found;
    c->found = 0;
    rw_code rc = rw_nav_prev(s->nav, pos, 0, prev_match, c, &found, err);
    return rc == RW_ENOTFOUND ? RW_OK : rc;
}

/* The viewed thread's CALL event at pos into *c: 1, or 0 when the event there is
 * another (or cannot be read). */
static int call_at(rw_session *s, uint64_t pos, prev_ctx *c)
{
    rw_err e;
    *c = (prev_ctx){.thread = s->thread, .py_only = 1};
    return prev_event(s, pos + 1, c, &e) == RW_OK && c->found && c->pos == pos &&
           c->kind == RW_K_CALL;
}

/* Is the EXCEPTION event ev a StopIteration raised without a traceback: the one the
 * interpreter raises when a generator or coroutine returns into a `for` or an `await`
 * (FOR_ITER and SEND call the trace function with it)? Its thread's event just before
 * is then that generator's RETURN (a StopIteration that went through a call has a
 * C_EXCEPTION or an EXCEPTION before it). */
static int internal_stopiteration(const rw_session *s, const char *type, int prev_kind,
                                  uint32_t prev_code)
{
    return !strcmp(type, "StopIteration") && prev_kind == RW_K_RETURN &&
           code_is_gen(s, prev_code);
}

#define TB_MAX 1000 /* traceback frames shown below an exception stop */

/* At an EXCEPTION stop: whether it is an internal StopIteration, and the frames of the
 * exception's traceback below the current frame, appended after it as pdb's
 * get_stack(f, tb) lists them: each callee it came up from (its EXCEPTION, then its
 * RETURN, just before the caller's EXCEPTION), at the line where it passed. */
static rw_code load_traceback(rw_session *s, rw_err *err)
{
    prev_ctx p = {s->thread, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    RW_TRY(prev_event(s, s->pos, &p, err));
    s->exc_internal = p.found && internal_stopiteration(s, name_text(s, s->ev.name), p.kind,
                                                        p.code);
    if (s->exc_internal || !s->nframes)
        return RW_OK;
    uint64_t at = s->pos, fcall = s->frames[s->nframes - 1].call_pos;
    for (int k = 0; k < TB_MAX; k++) {
        prev_ctx r = {s->thread, 1, 0, 0, 0, 0, 0, 0, 0, 0};
        RW_TRY(prev_event(s, at, &r, err));
        if (!r.found || r.kind != RW_K_RETURN || r.frame_call == NOPOS || r.frame_call <= fcall)
            break;
        prev_ctx x = {s->thread, 1, 0, 0, 0, 0, 0, 0, 0, 0};
        RW_TRY(prev_event(s, r.pos, &x, err));
        if (!x.found || x.kind != RW_K_EXCEPTION || x.frame_call != r.frame_call)
            break;
        if (grow_frames(s, s->nframes + 1) < 0)
            return rw_err_set(err, RW_ENOMEM, "out of memory");
        set_frame(s, &s->frames[s->nframes++], r.code, x.line, r.frame_call);
        at = x.pos;
        fcall = r.frame_call;
    }
    return RW_OK;
}

/* Moves to event pos: the event, its thread's stack, and the Python frames from the
 * main program's frame up (in the main thread). Leaves postmortem and the end. */
static rw_code load_pos(rw_session *s, uint64_t pos, rw_err *err)
{
    RW_TRY(rw_nav_at(s->nav, pos, &s->ev, &s->raw, err));
    if (s->ev.text) {
        char *t = malloc(s->ev.text_len + 1);
        if (!t)
            return rw_err_set(err, RW_ENOMEM, "out of memory");
        memcpy(t, s->ev.text, s->ev.text_len);
        t[s->ev.text_len] = '\0';
        free(s->evtext);
        s->evtext = t;
        s->ev.text = t;
    }
    s->pos = pos;
    s->thread = s->ev.thread;
    s->postmortem = 0;
    s->at_end = 0;
    uint32_t first = 0;
    if (s->ev.thread == s->main_thread)
        for (uint32_t i = 0; i < s->raw.depth; i++)
            if (s->raw.frames[i].call_pos == s->main_call && !s->raw.frames[i].is_c) {
                first = i;
                break;
            }
    s->nframes = 0;
    if (grow_frames(s, s->raw.depth) < 0)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    for (uint32_t i = first; i < s->raw.depth; i++) {
        const rw_frame *f = &s->raw.frames[i];
        if (!f->is_c)
            set_frame(s, &s->frames[s->nframes++], f->code, f->line, f->call_pos);
    }
    /* The CALL of a frame shows its def line, as f_lineno does at a call event. */
    if (s->ev.kind == RW_K_CALL && s->nframes && s->ev.line)
        s->frames[s->nframes - 1].line = s->ev.line;
    s->current = s->nframes ? s->nframes - 1 : 0;
    s->exc_internal = 0;
    assert(s->nframes <= s->raw.depth);
    if (s->ev.kind == RW_K_EXCEPTION)
        RW_TRY(load_traceback(s, err));
    s->selected = s->current;
    return RW_OK;
}

static rw_stop_reason reason_of_kind(int kind)
{
    switch (kind) {
    case RW_K_CALL:
        return RW_STOP_CALL;
    case RW_K_RETURN:
        return RW_STOP_RETURN;
    case RW_K_EXCEPTION:
        return RW_STOP_EXCEPTION;
    default:
        return RW_STOP_LINE;
    }
}

static int has_uncaught(const rw_session *s)
{
    const Rewind__RunEnd *e = rw_reader_end(s->r);
    return e && e->uncaught_type && *e->uncaught_type;
}

void rw_session_where(const rw_session *s, rw_stop *stop)
{
    assert(s->selected < s->nframes || s->selected == 0);
    memset(stop, 0, sizeof *stop);
    stop->reason = s->reason;
    stop->moved = s->moved;
    stop->pos = s->pos;
    stop->thread = s->thread;
    stop->event_kind = s->ev.kind;
    stop->time_ns = rw_timebase_ns(&s->tb, s->ev.tick);
    stop->frames = s->frames;
    stop->nframes = s->nframes;
    stop->selected = s->selected;
    stop->current = s->current;
    stop->postmortem = s->postmortem;
    stop->at_end = s->at_end;
    if (s->postmortem) {
        const Rewind__RunEnd *e = rw_reader_end(s->r);
        stop->has_exception = 1;
        stop->exception.type = e->uncaught_type;
        stop->exception.message = e->uncaught_message ? e->uncaught_message : "";
    } else if (s->ev.kind == RW_K_EXCEPTION) {
        stop->has_exception = 1;
        stop->exception.type = name_text(s, s->ev.name);
        stop->exception.message = s->ev.text ? s->ev.text : "";
        stop->exception.internal = s->exc_internal;
    }
    stop->returning = s->ev.kind == RW_K_RETURN;
    stop->breakpoint = s->hit;
    stop->deleted = s->deleted;
    stop->deleted_bp = s->deleted_bp;
    stop->crash = s->crash;
    stop->cond_failed = s->cond_err.code != RW_OK;
    stop->cond_breakpoint = s->cond_bp;
    stop->cond_why = s->cond_err.msg;
    stop->changes = s->changes;
    stop->nchanges = s->nchanges;
}

#ifndef NDEBUG
/* The invariants of struct rw_session, for asserts after each move: 1 when they
 * hold. Costs O(files + breakpoints). */
static int session_ok(const rw_session *s)
{
    uint64_t n = rw_nav_nevents(s->nav);
    if (s->pos >= n || s->main_ret >= n || s->main_call > s->start_pos ||
        s->main_call > s->main_ret)
        return 0;
    if (s->nframes > s->capframes ||
        (!s->postmortem && s->nframes && s->current + 1 > s->raw.depth))
        return 0;
    if (!s->postmortem && (s->nframes ? s->current >= s->nframes : s->current != 0))
        return 0;
    if (s->nframes ? s->selected >= s->nframes : s->selected != 0)
        return 0;
    if (s->nbps < 1 || s->nfiles < 1)
        return 0;
    uint64_t live = 0, counted = 0;
    for (int i = 1; i < s->nbps; i++) {
        const rw_breakpoint *b = s->bps[i];
        if (!b)
            continue;
        if (b->number != i || !b->file_id || b->file_id >= s->nfiles || !s->file_bps[b->file_id])
            return 0;
        live++;
    }
    for (uint32_t f = 0; f < s->nfiles; f++)
        counted += s->file_bps[f];
    return live == counted;
}
#endif

/* Notes an EXCEPTION or RETURN stop (struct kept_stop). Out of memory: not noted (its
 * __exception__ / __return__ is then not seen at later stops). */
static void keep_stop(rw_session *s)
{
    if (s->postmortem || !s->nframes ||
        (s->ev.kind != RW_K_EXCEPTION && s->ev.kind != RW_K_RETURN))
        return;
    uint64_t call = s->frames[s->current].call_pos;
    for (size_t i = 0; i < s->nkept; i++)
        if (s->kept[i].pos == s->pos && s->kept[i].call_pos == call)
            return;
    if (s->nkept == s->capkept) {
        size_t cap = s->capkept ? 2 * s->capkept : 16;
        struct kept_stop *n = realloc(s->kept, cap * sizeof *n);
        if (!n)
            return;
        s->kept = n;
        s->capkept = cap;
    }
    s->kept[s->nkept++] = (struct kept_stop){call, s->pos, s->frames[s->current].code_id,
                                             s->ev.kind};
}

#define KEPT_MAX 64     /* kept stops carried to a question */
#define CHAIN_MAX 4096  /* earlier resumptions of a generator looked at */

/* A RETURN of one code at one line in one thread: a generator's suspension. */
typedef struct susp_ctx {
    uint32_t thread, code, line;
    uint64_t frame_call;
} susp_ctx;

static int susp_match(void *p, const rw_event *ev, const rw_stack *st)
{
    susp_ctx *c = p;
    if (ev->thread != c->thread || ev->kind != RW_K_RETURN || ev->code != c->code ||
        ev->line != c->line)
        return 0;
    rw_frame tmp;
    const rw_frame *fr = event_frame(ev, st, &tmp);
    c->frame_call = fr ? fr->call_pos : NOPOS;
    return 1;
}

/* The calls of the earlier resumptions of generator frame f, back to position begin,
 * newest first, into calls (cap): each resumption goes on at the line where the one
 * before suspended, of the same object when the log names it (GEN records; before
 * them, the engine compares the frame objects of what this finds). Their number. */
static size_t gen_chain(rw_session *s, const rw_session_frame *f, uint64_t begin,
                        uint64_t *calls, size_t cap)
{
    size_t n = 0;
    uint64_t c = f->call_pos;
    while (n < cap && c != NOPOS && c > begin) {
        prev_ctx at, fc;
        rw_err e;
        if (!call_at(s, c, &at))
            break;
        susp_ctx x = {s->thread, f->code_id, at.line, NOPOS};
        uint64_t found, from = c;
        int same = 0;
        while (rw_nav_prev(s->nav, from, begin, susp_match, &x, &found, &e) == RW_OK &&
               x.frame_call != NOPOS && x.frame_call < c) {
            /* A recording with GEN records names the object: a suspension of
             * another one at the same line (two coroutines of one function) is
             * passed over. */
            if (!at.gen ||
                (call_at(s, x.frame_call, &fc) && (fc.gen == at.gen || !fc.gen))) {
                same = 1;
                break;
            }
            from = found;
            x.frame_call = NOPOS;
        }
        if (!same)
            break;
        calls[n++] = x.frame_call;
        c = x.frame_call;
    }
    return n;
}

/* The kept stops before pos that may be of frame f (struct kept_stop), oldest first,
 * into out (cap entries, the latest ones); their number. A frame's own stops are
 * exact; a generator's or coroutine's frame is resumed by a new call each time: the
 * stops of its earlier resumptions (gen_chain) are candidates, which the engine
 * confirms by comparing the frame objects. kinds: RW_K_RETURN only, or 0 for both. */
static size_t kept_for(rw_session *s, const rw_session_frame *f, uint64_t pos, int kinds,
                       rw_values_kept *out, size_t cap)
{
    uint64_t own[2] = {0, 0}; /* the latest own stop of each kind, + 1 */
    uint64_t begin = NOPOS;   /* the earliest stop of another call of this code */
    for (size_t i = 0; i < s->nkept; i++) {
        const struct kept_stop *k = &s->kept[i];
        if (k->pos >= pos || (kinds && k->kind != kinds))
            continue;
        if (k->call_pos == f->call_pos) {
            int x = k->kind == RW_K_RETURN;
            if (k->pos + 1 > own[x])
                own[x] = k->pos + 1;
        } else if (k->code == f->code_id && (begin == NOPOS || k->pos < begin)) {
            begin = k->pos;
        }
    }
    uint64_t chain[CHAIN_MAX];
    size_t nchain = begin != NOPOS && code_is_gen(s, f->code_id)
                        ? gen_chain(s, f, begin > 0 ? begin - 1 : 0, chain, CHAIN_MAX)
                        : 0;
    size_t n = 0;
    uint64_t after = 0;
    for (;;) {
        /* s->kept is in the order the stops were made; the list goes by position. */
        const struct kept_stop *next = NULL;
        for (size_t i = 0; i < s->nkept; i++) {
            const struct kept_stop *k = &s->kept[i];
            if (k->pos < after || k->pos >= pos || (kinds && k->kind != kinds))
                continue;
            if (k->call_pos == f->call_pos) {
                if (k->pos + 1 != own[k->kind == RW_K_RETURN])
                    continue;
            } else {
                if (k->code != f->code_id)
                    continue;
                size_t j = 0;
                while (j < nchain && chain[j] != k->call_pos)
                    j++;
                if (j == nchain)
                    continue;
            }
            if (!next || k->pos < next->pos)
                next = k;
        }
        if (!next)
            break;
        if (n == cap) {
            memmove(out, out + 1, (cap - 1) * sizeof *out);
            n--;
        }
        out[n++] = (rw_values_kept){next->pos, next->call_pos == f->call_pos};
        after = next->pos + 1;
    }
    return n;
}

/* Ends a move: records how and fills *stop. */
static rw_code report(rw_session *s, rw_stop *stop, rw_stop_reason reason, int moved)
{
    assert(session_ok(s));
    keep_stop(s);
    s->reason = reason;
    s->moved = moved;
    rw_session_where(s, stop);
    return RW_OK;
}

/* Frees n changes and their texts. */
static void changes_release(rw_watch_change *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)c[i].expr);
        free((char *)c[i].old_value);
        free((char *)c[i].new_value);
    }
    free(c);
}

static void changes_free(rw_session *s)
{
    changes_release(s->changes, s->nchanges);
    s->changes = NULL;
    s->nchanges = 0;
}

/* Starts a move: forgets how the last one ended. */
static void begin_move(rw_session *s)
{
    changes_free(s);
    s->hit = 0;
    s->deleted = 0;
    memset(&s->deleted_bp, 0, sizeof s->deleted_bp);
    memset(&s->crash, 0, sizeof s->crash);
    memset(&s->cond_err, 0, sizeof s->cond_err);
    s->cond_bp = 0;
}

/* Moves to pos and reports a stop at its event. */
static rw_code stop_at(rw_session *s, uint64_t pos, rw_stop *stop, rw_err *err)
{
    RW_TRY(load_pos(s, pos, err));
    return report(s, stop, reason_of_kind(s->ev.kind), 1);
}

/* ---- finding the main program ----------------------------------------------------- */

typedef struct main_ctx {
    rw_session *s;
    const char *kind;
    const char *target; /* canonical path for scripts */
} main_ctx;

static int main_match(void *p, const rw_event *ev, const rw_stack *st)
{
    main_ctx *m = p;
    rw_session *s = m->s;
    if (ev->kind != RW_K_CALL)
        return 0;
    const Rewind__CodeDef *c = code_def(s, ev->code);
    if (!c || strcmp(c->name, "<module>"))
        return 0;
    uint32_t f = code_file(s, ev->code);
    if (!strcmp(m->kind, "module")) {
        rw_frame tmp;
        const rw_frame *fr = event_frame(ev, st, &tmp);
        const rw_frame *caller = fr ? caller_of(st, index_in(st, fr)) : NULL;
        const Rewind__CodeDef *cc = caller ? code_def(s, caller->code) : NULL;
        if (!cc || strcmp(cc->name, "_run_code"))
            return 0;
        /* runpy is frozen in 3.11 builds ("<frozen runpy>"), a file in others. */
        const char *cp = rw_session_file_path(s, code_file(s, caller->code));
        size_t n = strlen(cp);
        return !strcmp(cp, "<frozen runpy>") || (n >= 8 && !strcmp(cp + n - 8, "runpy.py"));
    }
    if (!strcmp(m->kind, "command"))
        return !strcmp(rw_session_file_path(s, f), "<string>");
    return m->target && !strcmp(rw_session_file_path(s, f), m->target);
}

static int ret_match(void *p, const rw_event *ev, const rw_stack *st)
{
    (void)st;
    const uint64_t *call = p;
    return ev->kind == RW_K_RETURN && ev->call_pos == *call;
}

static int first_line_match(void *p, const rw_event *ev, const rw_stack *st)
{
    const uint64_t *frame_call = p;
    rw_frame tmp;
    const rw_frame *fr = event_frame(ev, st, &tmp);
    return ev->kind == RW_K_LINE && ev->line > 0 && fr && fr->call_pos == *frame_call;
}

static rw_code find_main(rw_session *s, rw_err *err)
{
    const Rewind__Metadata *md = rw_reader_metadata(s->r);
    main_ctx m = {s, md && md->run_kind && *md->run_kind ? md->run_kind : "script", NULL};
    char *target = NULL;
    if (!strcmp(m.kind, "script") && md && md->run_target) {
        target = canonic(md->run_target, md->cwd);
        m.target = target;
    }
    rw_code rc = rw_nav_next(s->nav, UINT64_MAX, NOPOS, RW_NAV_EVENTS, main_match, &m,
                             &s->main_call, err);
    free(target);
    if (rc == RW_ENOTFOUND)
        return rw_err_set(err, RW_ENOTFOUND,
                          "the recording holds no event of the main program (%s %s)", m.kind,
                          md && md->run_target ? md->run_target : "?");
    RW_TRY(rc);
    rw_event ev;
    RW_TRY(rw_nav_at(s->nav, s->main_call, &ev, &s->raw, err));
    s->main_thread = ev.thread;
    s->main_file = code_file(s, ev.code);
    /* Its return is near the end of the run: search backwards from there. A damaged
     * chunk on the way (the trace's last ones: a stranger's file, a disk that failed)
     * leaves it unknown, as in a run that ended before it returned: the session opens,
     * and the moves that reach the damage say so (the first intact events stay
     * reachable). */
    uint64_t n = rw_nav_nevents(s->nav);
    rw_err back;
    rc = rw_nav_prev(s->nav, n, s->main_call, ret_match, &s->main_call, &s->main_ret, &back);
    if (rc == RW_ENOTFOUND || rc == RW_ECORRUPT || rc == RW_EIO)
        s->main_ret = n - 1;
    else if (rc != RW_OK) {
        *err = back;
        return rc;
    }
    rc = rw_nav_next(s->nav, s->main_call, s->main_ret + 1, RW_NAV_EVENTS, first_line_match,
                     &s->main_call, &s->start_pos, err);
    if (rc == RW_ENOTFOUND)
        s->start_pos = s->main_call;
    else
        RW_TRY(rc);
    assert(s->main_call <= s->start_pos && s->main_call <= s->main_ret);
    return RW_OK;
}

/* ---- life cycle ------------------------------------------------------------------- */

rw_code rw_session_new(const rw_reader *r, rw_session **out, rw_err *err)
{
    rw_session *s = calloc(1, sizeof *s);
    if (!s)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    s->r = r;
    s->defs = rw_reader_defs(r);
    s->tb = rw_reader_timebase(r);
    s->values = &rw_values_log_only;
    s->nbps = 1;
    s->nwatches = 1;
    s->fwd_end = s->watch_stop = NOPOS;
    rw_code rc = rw_nav_new(r, &s->nav, err);
    if (rc != RW_OK) {
        free(s);
        return rc;
    }
    s->nfiles = s->defs->nfiles ? s->defs->nfiles : 1;
    s->canon = calloc(s->nfiles, sizeof *s->canon);
    s->src = calloc(s->nfiles, sizeof *s->src);
    s->listsrc = calloc(s->nfiles, sizeof *s->listsrc);
    s->file_bps = calloc(s->nfiles, sizeof *s->file_bps);
    if (!s->canon || !s->src || !s->listsrc || !s->file_bps) {
        rw_session_free(s);
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    }
    for (uint32_t i = 1; i < s->nfiles; i++) {
        const Rewind__FileDef *f = rw_defs_file(s->defs, i);
        if (f && f->path && !(s->canon[i] = canonic(f->path, recording_cwd(s)))) {
            rw_session_free(s);
            return rw_err_set(err, RW_ENOMEM, "out of memory");
        }
    }
    if (!rw_nav_nevents(s->nav)) {
        rw_session_free(s);
        return rw_err_set(err, RW_ENOTFOUND, "the recording holds no events");
    }
    rc = find_main(s, err);
    if (rc != RW_OK) {
        rw_session_free(s);
        return rc;
    }
    *out = s;
    return RW_OK;
}

void rw_session_free(rw_session *s)
{
    if (!s)
        return;
    free(s->kept);
    rw_nav_free(s->nav);
    if (s->canon)
        for (uint32_t i = 0; i < s->nfiles; i++)
            free(s->canon[i]);
    if (s->src)
        for (uint32_t i = 0; i < s->nfiles; i++)
            rw_source_text_fini(&s->src[i].text);
    if (s->listsrc)
        for (uint32_t i = 0; i < s->nfiles; i++) {
            rw_source_text_fini(&s->listsrc[i].text);
            free(s->listsrc[i].owned);
        }
    free(s->canon);
    free(s->src);
    free(s->listsrc);
    free(s->file_bps);
    for (int i = 1; i < s->nbps; i++)
        if (s->bps[i]) {
            free(s->bps[i]->condition);
            free(s->bps[i]->funcname);
            free(s->bps[i]);
        }
    free(s->bps);
    for (int i = 1; i < s->nwatches; i++)
        if (s->watches[i]) {
            free(s->watches[i]->expr);
            free(s->watches[i]);
        }
    free(s->watches);
    changes_free(s);
    free(s->pairs);
    free(s->untraced);
    free(s->evtext);
    free(s->raw.frames);
    free(s->frames);
    free(s);
}

void rw_session_set_plain_search(rw_session *s, int on)
{
    s->plain = on != 0;
}

void rw_session_set_values(rw_session *s, const rw_values *v)
{
    s->values = v ? v : &rw_values_log_only;
}

void rw_session_select(rw_session *s, uint32_t i)
{
    assert(i < s->nframes);
    s->selected = i;
}

/* ---- postmortem and the end ----------------------------------------------------- */

/* The postmortem view: the traceback of the uncaught exception as the stack, at the
 * position where sys.excepthook saw it. */
static rw_code enter_postmortem(rw_session *s, rw_stop *stop, rw_err *err)
{
    const Rewind__RunEnd *e = rw_reader_end(s->r);
    if (!has_uncaught(s))
        return rw_err_set(err, RW_ENOTFOUND, "the program raised no uncaught exception");
    uint64_t n = rw_nav_nevents(s->nav);
    uint64_t at = e->uncaught_pos && e->uncaught_pos < n ? e->uncaught_pos : s->main_ret;
    RW_TRY(load_pos(s, at < n ? at : n - 1, err));
    s->pos = at;
    s->thread = s->main_thread;
    s->nframes = 0;
    if (e->n_uncaught_traceback > UINT32_MAX ||
        grow_frames(s, (uint32_t)e->n_uncaught_traceback) < 0)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    for (size_t i = 0; i < e->n_uncaught_traceback; i++) {
        const Rewind__TracebackEntry *t = e->uncaught_traceback[i];
        set_frame(s, &s->frames[s->nframes++], t->code, t->line, 0);
    }
    s->selected = s->nframes ? s->nframes - 1 : 0;
    s->current = s->selected;
    s->postmortem = 1;
    return report(s, stop, RW_STOP_UNCAUGHT, 1);
}

/* Where forward moves that run past the end of the program stop. */
static rw_code end_of_program(rw_session *s, rw_stop *stop, rw_err *err)
{
    if (s->thread != s->main_thread)
        return report(s, stop, RW_STOP_THREAD_END, 0);
    if (has_uncaught(s)) {
        if (s->postmortem)
            return report(s, stop, RW_STOP_UNCAUGHT, 0);
        return enter_postmortem(s, stop, err);
    }
    if (s->at_end && s->pos == s->main_ret)
        return report(s, stop, RW_STOP_END, 0);
    RW_TRY(load_pos(s, s->main_ret, err));
    s->at_end = 1;
    return report(s, stop, RW_STOP_END, 1);
}

/* ---- forward moves: bdb's stopping rules ----------------------------------------- */

enum { S_NONE, S_FRAME, S_BOT };

typedef struct fwd_ctx {
    rw_session *s;
    int skind;            /* stopframe: none (step), a frame, or the bottom (continue) */
    uint32_t scode;       /* stopframe's code when S_FRAME */
    uint64_t scall;       /* ... and the position of the CALL of its activation: a
                           * generator's moves to each resumption of the same object */
    int sgen;             /* stopframe is a generator or coroutine frame ... */
    uint64_t sframe;      /* ... whose frame the log names (GEN records; 0: it does not) */
    int ssuspended;       /* ... suspended (its activation returned) at line ssusp_line */
    uint32_t ssusp_line;
    uint64_t start;       /* the position the move started from: frames opened after it
                           * were entered during the move */
    int prev_kind;        /* the viewed thread's last event (internal StopIteration) */
    uint32_t prev_code;
    int has_ret;          /* returnframe */
    uint64_t rframe;
    long long stoplineno;
    int deleted;          /* a temporary breakpoint to delete at the stop */
    rw_breakpoint *hit;
    int has_anchor;       /* return: the frame just below the returning one (Python or
                           * C), whose callee runs until the return */
    uint64_t anchor;
    int bps_only;         /* continue: nothing but a breakpoint can stop it */
    int until;            /* until: stoplineno is a line to reach (fast_until) */
    int no_bps;           /* breakpoints set aside (run_forward's frame search) */
} fwd_ctx;

/* bdb's `frame is self.stopframe`. A generator's or coroutine's frame lives across
 * resumptions, each a CALL of its own: the stop frame's activation is followed from
 * its suspension (its RETURN) to the next CALL that resumes the same object (fwd_track):
 * the CALL the log's GEN record names with the same frame, or, in a recording made
 * before GEN records (or a CALL whose GEN record ended the chunk before), the next
 * CALL of its code that resumes at the line where it suspended. */
static int same_frame(const fwd_ctx *c, const rw_frame *fr)
{
    return c->skind == S_FRAME && fr->call_pos == c->scall;
}

/* Follows the stop frame across suspensions (see same_frame); ev is an event of the
 * viewed thread. */
static void fwd_track(fwd_ctx *c, const rw_event *ev)
{
    if (!c->sgen)
        return;
    if (ev->kind == RW_K_RETURN && ev->call_pos == c->scall) {
        c->ssuspended = 1;
        c->ssusp_line = ev->line;
    } else if (ev->kind == RW_K_CALL && c->ssuspended && ev->code == c->scode &&
               (c->sframe && ev->addr ? ev->addr == c->sframe : ev->line == c->ssusp_line)) {
        c->scall = ev->pos;
        c->ssuspended = 0;
    }
}

/* bdb's dispatch_call: does a frame entered during the move get a local trace
 * function? It does when stop_here(frame) or break_anywhere(frame) (its file has a
 * breakpoint, enabled or not); the stop frame resumed keeps the one it had. */
static int entry_traced(const rw_session *s, const fwd_ctx *c, const rw_frame *fr)
{
    if (c->skind == S_NONE || same_frame(c, fr))
        return 1;
    uint32_t f = code_file(s, fr->code);
    return f && f < s->nfiles && s->file_bps[f] > 0;
}

/* Does frame fr (of the viewed thread) get line, return and exception events? */
static int fwd_traced(const rw_session *s, const fwd_ctx *c, const rw_frame *fr)
{
    if (fr->call_pos > c->start && fr->call_pos != NOPOS)
        return entry_traced(s, c, fr);
    return !is_untraced(s, fr->call_pos);
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
    rw_session *s = c->s;
    if (!is_py_event(ev->kind) || !in_window(s, ev)) {
        if (RW_IS_EVENT(ev->kind) && ev->thread == s->thread) {
            c->prev_kind = ev->kind;
            c->prev_code = ev->code;
        }
        return 0;
    }
    rw_frame tmp;
    const rw_frame *fr = event_frame(ev, st, &tmp);
    if (!fr)
        return 0;
    if (ev->thread != s->thread) {
        /* Other threads stop only at breakpoints (pdb would not see them at all). */
        if (ev->kind != RW_K_LINE || c->no_bps || !s->file_bps[code_file(s, ev->code)])
            return 0;
        c->hit = bp_effective(s, ev, fr, 1, &c->deleted);
        return c->hit != NULL;
    }
    int prev_kind = c->prev_kind;
    uint32_t prev_code = c->prev_code;
    c->prev_kind = ev->kind;
    c->prev_code = ev->code;
    fwd_track(c, ev);
    /* A frame without a local trace function has no events but its CALL (which asks
     * the global one, dispatch_call, and does not stop it: entry_traced). */
    if (ev->kind != RW_K_CALL && !fwd_traced(s, c, fr))
        return 0;
    int is_s = same_frame(c, fr);
    int gen = code_is_gen(s, fr->code);
    uint32_t line = ev->kind == RW_K_RETURN ? ev->line : fr->line;
    switch (ev->kind) {
    case RW_K_LINE:
        if (stop_here(c, is_s, ev->line))
            return 1;
        if (c->no_bps)
            return 0;
        c->hit = bp_effective(s, ev, fr, 1, &c->deleted);
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
        const char *tn = name_text(s, ev->name);
        if (stop_here(c, is_s, line))
            return !(gen && internal_stopiteration(s, tn, prev_kind, prev_code));
        if (c->skind == S_FRAME && !is_s && c->sgen &&
            (!strcmp(tn, "StopIteration") || !strcmp(tn, "GeneratorExit")))
            return 1;
        return 0;
    }
    default:
        return 0;
    }
}

static uint64_t window_end(const rw_session *s)
{
    uint64_t end = s->thread == s->main_thread ? s->main_ret + 1 : rw_nav_nevents(s->nav);
    return s->fwd_end < end ? s->fwd_end : end;
}

/* Where a forward move whose search found nothing stops: the stop a watchpoint chose
 * (rw_session_continue), else the end of the program. */
static rw_code run_out(rw_session *s, rw_stop *stop, rw_err *err)
{
    if (s->watch_stop == NOPOS)
        return end_of_program(s, stop, err);
    RW_TRY(load_pos(s, s->watch_stop, err));
    return report(s, stop, reason_of_kind(s->ev.kind), 1);
}

/* Lines of code `code` (its recorded line table) compared with `line` (above: >=,
 * else <=) as line-filter pairs; 0 when the table was not recorded or memory ran out. */
static int line_pairs(rw_session *s, uint32_t code, long long line, int above)
{
    const Rewind__CodeDef *cd = code_def(s, code);
    s->npairs = 0;
    if (!cd || !cd->n_lines)
        return 0;
    for (size_t i = 0; i < cd->n_lines; i++)
        if (above ? (long long)cd->lines[i] >= line : (long long)cd->lines[i] <= line)
            if (push_pair(s, code, cd->lines[i]) < 0)
                return 0;
    return s->npairs || push_pair(s, 0, 0) == 0;
}

typedef struct line_ctx {
    const rw_session *s;
    uint64_t frame;       /* the frame's CALL */
    uint32_t code;        /* and its code */
    long long line;
    int above;
    uint64_t others;      /* lines of the same code in other frames seen ... */
    uint64_t limit;       /* ... and how many make the search give up (0: never) */
    int gave_up;
} line_ctx;

static int frame_line_match(void *p, const rw_event *ev, const rw_stack *st)
{
    line_ctx *c = p;
    if (ev->kind != RW_K_LINE || ev->thread != c->s->thread)
        return 0;
    rw_frame tmp;
    const rw_frame *fr = event_frame(ev, st, &tmp);
    int in_line = c->above ? (long long)ev->line >= c->line : (long long)ev->line <= c->line;
    if (fr && fr->call_pos == c->frame)
        return in_line;
    if (c->limit && in_line && fr && fr->code == c->code &&
        ++c->others >= c->limit) {
        c->gave_up = 1;
        return 1;
    }
    return 0;
}

/* frame_line_match, or the frame's RETURN. */
static int frame_line_or_return(void *p, const rw_event *ev, const rw_stack *st)
{
    line_ctx *c = p;
    if (ev->kind == RW_K_RETURN && ev->thread == c->s->thread && ev->call_pos == c->frame)
        return 1;
    return frame_line_match(p, ev, st);
}

/* until's own stop, without breakpoints: the first line >= stoplineno of the stop
 * frame, found through the line filter, or the frame's RETURN, found over keyframes
 * (rw_nav_frame_return), whichever comes first; so `until` at the end of a loop that
 * runs for millions of events decodes a few chunks. 0 when this cannot be used (no
 * recorded line table): then the frame-confined search does it. */
static int fast_until(rw_session *s, fwd_ctx *c, uint64_t *found, rw_code *rc, rw_err *err)
{
    if (!c->until || c->sgen || c->scall == NOPOS || is_untraced(s, c->scall) ||
        !line_pairs(s, c->scode, c->stoplineno, 1))
        return 0;
    /* Near (this chunk and the next): a plain scan. A line found later in the same
     * frame is the answer whatever comes between: the frame has not returned. */
    line_ctx l = {s, c->scall, c->scode, c->stoplineno, 1, 0, 0, 0};
    size_t k = rw_reader_find_chunk(s->r, s->pos), nch = rw_reader_nchunks(s->r);
    uint64_t near = k + 2 < nch ? rw_reader_chunk(s->r, k + 2)->first_event : NOPOS;
    if (near > window_end(s))
        near = window_end(s);
    *rc = rw_nav_next(s->nav, s->pos, near, RW_NAV_EVENTS, frame_line_or_return, &l, found,
                      err);
    if (*rc != RW_ENOTFOUND || near == window_end(s))
        return 1;
    /* Then through the line filter: a line of the frame found is the answer (the
     * frame has not returned before it). The same lines run by other frames of the
     * code (later calls) make it give up after a few, for the bounded search below. */
    l.limit = 64;
    rw_nav_set_line_filter(s->nav, s->pairs, s->npairs);
    *rc = rw_nav_next(s->nav, near - 1, window_end(s), RW_NAV_EVENTS, frame_line_match, &l,
                      found, err);
    filter_off(s);
    if ((*rc == RW_OK && !l.gave_up) || (*rc != RW_OK && *rc != RW_ENOTFOUND))
        return 1;
    int searched = *rc == RW_ENOTFOUND; /* no such line of the frame to the end */
    l.limit = 0;
    uint64_t ret = NOPOS;
    *rc = rw_nav_frame_return(s->nav, s->pos, s->thread, c->scall, &ret, err);
    if (*rc != RW_OK && *rc != RW_ENOTFOUND)
        return 1;
    uint64_t end = ret != NOPOS ? ret : window_end(s);
    if (end > window_end(s))
        end = window_end(s);
    if (searched) {
        *rc = RW_ENOTFOUND;
    } else {
        rw_nav_set_line_filter(s->nav, s->pairs, s->npairs);
        *rc = rw_nav_next(s->nav, near - 1, end, RW_NAV_EVENTS, frame_line_match, &l, found,
                          err);
        filter_off(s);
    }
    if (*rc == RW_ENOTFOUND && ret != NOPOS && ret < window_end(s)) {
        *found = ret;
        *rc = RW_OK;
    }
    return 1;
}

/* return's own stop, without breakpoints: the returning frame's RETURN (bdb's
 * returnframe; nothing of its caller, the stop frame, runs before it), found over
 * keyframes. 0 when this does not apply (until, a generator, a frame without a trace
 * function, or the session at that RETURN already: then the caller's next line). */
static int fast_return(rw_session *s, fwd_ctx *c, uint64_t *found, rw_code *rc, rw_err *err)
{
    if (!c->has_ret || c->until || c->skind != S_FRAME || is_untraced(s, c->rframe) ||
        (s->ev.kind == RW_K_RETURN && s->ev.call_pos == c->rframe) || c->rframe > s->pos)
        return 0;
    *rc = rw_nav_frame_return(s->nav, s->pos, s->thread, c->rframe, found, err);
    if (*rc == RW_OK && *found >= window_end(s))
        *rc = rw_err_set(err, RW_ENOTFOUND, "the frame returns after the program's end");
    return 1;
}

/* Where the move c from the current position stops: RW_OK with *out, RW_ENOTFOUND
 * (nothing before the window's end; err untouched), or an error. Breakpoint hit and
 * ignore counts change as the search passes hits, as bdb's do. */
static rw_code fwd_find(rw_session *s, fwd_ctx *c, uint64_t *out, rw_err *err)
{
    c->s = s;
    c->start = s->pos;
    c->prev_kind = s->ev.kind;
    c->prev_code = s->ev.code;
    c->sgen = c->skind == S_FRAME && code_is_gen(s, c->scode);
    prev_ctx at;
    c->sframe = c->sgen && c->scall != NOPOS && call_at(s, c->scall, &at) ? at.gen : 0;
    /* bdb: a next/until given at a --Return-- of the stop frame becomes a step. */
    if (s->ev.kind == RW_K_RETURN && c->skind == S_FRAME && c->stoplineno != -1 &&
        c->scall == s->ev.call_pos)
        c->skind = S_NONE;
    uint64_t found;
    rw_err e;
    rw_code rc;
    uint64_t frame = c->has_anchor ? c->anchor : c->has_ret ? c->rframe : c->scall;
    if (c->skind == S_FRAME && !code_is_gen(s, c->scode) && frame != NOPOS && !s->plain) {
        /* next, until and return stop in one frame (or its caller, once it has
         * returned): find that stop with breakpoints set aside, skipping the frame's
         * callees; then a breakpoint hit before it, anywhere, stops first. At one
         * event the frame's own stop wins, as in bdb, so the hit is searched strictly
         * before it (with the line filter). */
        c->no_bps = 1;
        if (!fast_until(s, c, &found, &rc, &e) && !fast_return(s, c, &found, &rc, &e))
            rc = rw_nav_next_in_frame(s->nav, s->pos, window_end(s), s->thread, frame,
                                      fwd_match, c, &found, &e);
        c->no_bps = 0;
        if ((rc == RW_OK || rc == RW_ENOTFOUND) && any_enabled_bp(s)) {
            fwd_ctx b = {0};
            b.s = s;
            b.skind = S_BOT;
            b.stoplineno = -1;
            uint64_t hit;
            rw_err eb;
            filter_on(s);
            rw_code rb = rw_nav_next(s->nav, s->pos, rc == RW_OK ? found : window_end(s),
                                     RW_NAV_EVENTS, fwd_match, &b, &hit, &eb);
            filter_off(s);
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
            filter_on(s);
        rc = rw_nav_next(s->nav, s->pos, window_end(s), RW_NAV_EVENTS, fwd_match, c, &found,
                         &e);
        filter_off(s);
    }
    if (rc == RW_OK)
        *out = found;
    else if (rc != RW_ENOTFOUND)
        *err = e;
    return rc;
}

static int watched(const rw_session *s);
static rw_code watch_forward(rw_session *s, fwd_ctx *c, rw_stop *stop, rw_err *err);

/* Makes the forward move c (step, next, until, return; continue's breakpoint search),
 * watchpoints aside. */
static rw_code move_forward(rw_session *s, fwd_ctx *c, rw_stop *stop, rw_err *err)
{
    begin_move(s);
    if (s->postmortem)
        return end_of_program(s, stop, err);
    uint64_t found;
    rw_code rc = fwd_find(s, c, &found, err);
    if (rc == RW_ENOTFOUND)
        return run_out(s, stop, err);
    RW_TRY(rc);
    assert(found > s->pos);
    /* The frames the move entered that are still on the stack keep the trace state
     * their entry gave them (before a temporary breakpoint goes). */
    rw_event fev;
    rw_stack fst = {0};
    rc = rw_nav_at(s->nav, found, &fev, &fst, err);
    for (uint32_t i = 0; rc == RW_OK && i < fst.depth; i++) {
        const rw_frame *fr = &fst.frames[i];
        if (!fr->is_c && fr->call_pos > c->start && fr->call_pos != NOPOS)
            set_traced(s, fr->call_pos, fev.thread != s->thread || entry_traced(s, c, fr));
    }
    free(fst.frames);
    RW_TRY(rc);
    if (c->hit) {
        s->hit = c->hit->number;
        if (c->deleted && c->hit->temporary) {
            s->deleted = 1;
            s->deleted_bp = *c->hit;
            s->deleted_bp.condition = s->deleted_bp.funcname = NULL;
            bp_delete(s, c->hit);
        }
    }
    RW_TRY(load_pos(s, found, err));
    return report(s, stop, s->hit ? RW_STOP_BREAKPOINT : reason_of_kind(s->ev.kind), 1);
}

/* A forward move: with watchpoints of the viewed thread, a watched value that changes
 * before the move's stop stops it there (watch_forward; continue has its own,
 * watch_continue). */
static rw_code run_forward(rw_session *s, fwd_ctx *c, rw_stop *stop, rw_err *err)
{
    if (!s->postmortem && !c->bps_only && s->fwd_end == NOPOS && watched(s))
        return watch_forward(s, c, stop, err);
    return move_forward(s, c, stop, err);
}

static void stop_in_frame(fwd_ctx *c, const rw_session *s, uint32_t i)
{
    assert(i < s->nframes);
    c->skind = S_FRAME;
    c->scode = s->frames[i].code_id;
    c->scall = s->frames[i].call_pos;
}

rw_code rw_session_step(rw_session *s, rw_stop *stop, rw_err *err)
{
    fwd_ctx c = {0};
    c.skind = S_NONE;
    /* bdb's set_step at a --Return--: the caller gets its local trace function back
     * (frame_returning.f_back.f_trace), so that stepping goes on in it. */
    if (!s->postmortem && s->ev.kind == RW_K_RETURN && s->raw.depth) {
        const rw_frame *caller = caller_of(&s->raw, s->raw.depth - 1);
        if (caller)
            set_traced(s, caller->call_pos, 1);
    }
    return run_forward(s, &c, stop, err);
}

rw_code rw_session_next(rw_session *s, rw_stop *stop, rw_err *err)
{
    fwd_ctx c = {0};
    if (!s->nframes)
        return rw_session_step(s, stop, err);
    stop_in_frame(&c, s, s->selected);
    return run_forward(s, &c, stop, err);
}

rw_code rw_session_return(rw_session *s, rw_stop *stop, rw_err *err)
{
    fwd_ctx c = {0};
    if (!s->nframes)
        return rw_session_step(s, stop, err);
    const rw_session_frame *f = &s->frames[s->selected];
    if (code_is_gen(s, f->code_id)) {
        stop_in_frame(&c, s, s->selected);
        c.stoplineno = -1;
    } else if (s->selected > 0) {
        stop_in_frame(&c, s, s->selected - 1);
        c.has_ret = 1;
        c.rframe = f->call_pos;
        for (uint32_t i = 1; i < s->raw.depth; i++)
            if (s->raw.frames[i].call_pos == f->call_pos && !s->raw.frames[i].is_c) {
                c.has_anchor = 1;
                c.anchor = s->raw.frames[i - 1].call_pos;
            }
    } else {
        /* f_back is below the program (pdb's <string> frame): never seen. */
        c.skind = S_FRAME;
        c.scall = NOPOS;
        c.scode = 0;
        c.has_ret = 1;
        c.rframe = f->call_pos;
    }
    return run_forward(s, &c, stop, err);
}

static rw_code watch_continue(rw_session *s, rw_stop *stop, rw_err *err);

static rw_code continue_plain(rw_session *s, rw_stop *stop, rw_err *err)
{
    /* Without breakpoints bdb never stops (pdb even removes its trace function):
     * no need to read the rest of the log. */
    if (!any_enabled_bp(s)) {
        begin_move(s);
        return run_out(s, stop, err);
    }
    fwd_ctx c = {0};
    c.skind = S_BOT;
    c.stoplineno = -1;
    c.bps_only = 1;
    return run_forward(s, &c, stop, err);
}

rw_code rw_session_continue(rw_session *s, rw_stop *stop, rw_err *err)
{
    if (!s->postmortem && watched(s))
        return watch_continue(s, stop, err);
    return continue_plain(s, stop, err);
}

rw_code rw_session_until(rw_session *s, long long lineno, rw_stop *stop, rw_err *err)
{
    if (!s->nframes)
        return rw_session_step(s, stop, err);
    fwd_ctx c = {0};
    stop_in_frame(&c, s, s->selected);
    c.has_ret = 1;
    c.rframe = s->frames[s->selected].call_pos;
    c.stoplineno = lineno;
    c.until = 1;
    return run_forward(s, &c, stop, err);
}

/* ---- reverse moves ------------------------------------------------------------------ */

enum { R_STEP, R_NEXT_SAME, R_NEXT_CALLER, R_UNTIL, R_BREAK, R_THREAD };

/* A conditional hit rcontinue passed, to evaluate afterwards (rev_match). */
typedef struct cond_cand {
    uint64_t pos;
    uint32_t thread;
    int number;          /* the breakpoint */
} cond_cand;

typedef struct rev_ctx {
    rw_session *s;
    int mode;
    uint64_t frame;      /* call_pos of the frame of interest (R_THREAD: the thread) */
    uint64_t caller;     /* and of its caller */
    long long lineno;
    const rw_breakpoint *hit; /* R_BREAK: the breakpoint of the last match */
    int defer;           /* R_BREAK: conditions are evaluated after the search */
    cond_cand *cands;    /* ... the conditional hits passed */
    size_t ncands, capcands;
    int oom;
} rev_ctx;

static int cand_cmp(const void *a, const void *b)
{
    const cond_cand *x = a, *y = b;
    if (x->pos != y->pos)
        return x->pos < y->pos ? -1 : 1;
    return x->number - y->number;
}

/* R_BREAK with a provider that has values: a line whose only matching breakpoints are
 * conditional is kept and the search goes on, to the first line with an unconditional
 * one; rw_session_rcontinue then evaluates the kept ones oldest first,
 * so that the engine runs forwards once. Returns 1 when the line stops the search. */
static int rev_break(rev_ctx *c, const rw_event *ev, const rw_frame *fr)
{
    rw_session *s = c->s;
    int del = 0;
    const rw_breakpoint *b = bp_effective(s, ev, fr, 0, &del);
    if (!b)
        return 0;
    if (!c->defer) {
        c->hit = b; /* the last match wins, as its position does */
        return 1;
    }
    uint32_t f = b->file_id, line = b->line;
    for (int i = 1; i < s->nbps; i++) {
        rw_breakpoint *o = s->bps[i];
        if (!o || o->file_id != f || o->line != line || !o->enabled ||
            !bp_checkfunc(s, o, ev, fr))
            continue;
        if (!o->condition) {
            c->hit = o;
            return 1;
        }
        if (c->ncands == c->capcands) {
            size_t cap = c->capcands ? 2 * c->capcands : 16;
            cond_cand *v = realloc(c->cands, cap * sizeof *v);
            if (!v) {
                c->oom = 1;
                c->hit = o;
                return 1;
            }
            c->cands = v;
            c->capcands = cap;
        }
        c->cands[c->ncands++] = (cond_cand){ev->pos, ev->thread, o->number};
    }
    return 0;
}

static int rev_match(void *p, const rw_event *ev, const rw_stack *st)
{
    rev_ctx *c = p;
    rw_session *s = c->s;
    if (!is_py_event(ev->kind))
        return 0;
    if (c->mode == R_THREAD)
        return ev->thread == c->frame;
    if ((ev->thread != s->thread && c->mode != R_BREAK) || !in_window(s, ev))
        return 0;
    rw_frame tmp;
    const rw_frame *fr = event_frame(ev, st, &tmp);
    if (!fr || is_untraced(s, fr->call_pos))
        return 0; /* a frame without a local trace function: pdb sees none of it */
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
    case R_BREAK:
        return ev->kind == RW_K_LINE && rev_break(c, ev, fr);
    default:
        return 0;
    }
}

/* Where reverse searches end: in the main thread, the program's first line (pdb's
 * first stop: nothing before it is shown, as pdb waits for the main file); else the
 * start of the trace. */
static uint64_t window_begin(const rw_session *s)
{
    return s->thread == s->main_thread ? s->start_pos : 0;
}

/* Where reverse searches start: the current event, or past the end in postmortem. */
static uint64_t rev_from(const rw_session *s)
{
    if (s->postmortem)
        return s->main_ret + 1;
    return s->pos;
}

/* The backward search of c from rev_from down to begin: RW_OK with *found,
 * RW_ENOTFOUND (err untouched), or an error. */
static rw_code search_back(rw_session *s, rev_ctx *c, uint64_t begin, uint64_t *found,
                           rw_err *err)
{
    rw_err e;
    rw_code rc;
    c->s = s;
    if (begin < window_begin(s))
        begin = window_begin(s);
    if (begin >= rev_from(s))
        return RW_ENOTFOUND;
    /* Searches within one frame skip its callees. */
    if ((c->mode == R_NEXT_SAME || c->mode == R_UNTIL || c->mode == R_NEXT_CALLER) &&
        !s->plain)
        rc = rw_nav_prev_in_frame(s->nav, rev_from(s), begin, s->thread,
                                  c->mode == R_NEXT_CALLER ? c->caller : c->frame, rev_match,
                                  c, found, &e);
    else {
        if (c->mode == R_BREAK)
            filter_on(s);
        rc = rw_nav_prev(s->nav, rev_from(s), begin, rev_match, c, found, &e);
        filter_off(s);
    }
    if (rc != RW_OK && rc != RW_ENOTFOUND)
        *err = e;
    assert(rc != RW_OK || (*found >= begin && *found < rev_from(s)));
    return rc;
}

/* Ends a reverse move whose search gave rc: a stop at found, or at the start. */
static rw_code back_to(rw_session *s, rw_code rc, uint64_t found, rw_stop *stop, rw_err *err)
{
    if (rc == RW_ENOTFOUND)
        return report(s, stop, RW_STOP_START, 0);
    RW_TRY(rc);
    return stop_at(s, found, stop, err);
}

static rw_code rstep_move(rw_session *s, rw_stop *stop, rw_err *err)
{
    begin_move(s);
    rev_ctx c = {0};
    c.mode = R_STEP;
    uint64_t found = 0;
    rw_code rc = search_back(s, &c, window_begin(s), &found, err);
    /* bdb never stops at the internal StopIteration of a generator frame (it stops
     * in the frame the generator returned to instead): go past it. */
    while (rc == RW_OK) {
        rw_event ev;
        rw_stack st = {0};
        rc = rw_nav_at(s->nav, found, &ev, &st, err);
        int skip = 0;
        if (rc == RW_OK && ev.kind == RW_K_EXCEPTION && st.depth &&
            code_is_gen(s, st.frames[st.depth - 1].code) &&
            !strcmp(name_text(s, ev.name), "StopIteration")) {
            prev_ctx p = {ev.thread, 0, 0, 0, 0, 0, 0, 0, 0, 0};
            rc = prev_event(s, found, &p, err);
            skip = rc == RW_OK && p.found &&
                   internal_stopiteration(s, "StopIteration", p.kind, p.code);
        }
        free(st.frames);
        if (rc != RW_OK || !skip)
            break;
        uint64_t from = found;
        rc = rw_nav_prev(s->nav, from, window_begin(s), rev_match, &c, &found, err);
    }
    return back_to(s, rc, found, stop, err);
}

static rw_code rnext_move(rw_session *s, rw_stop *stop, rw_err *err)
{
    if (s->postmortem || !s->nframes)
        return rw_session_rstep(s, stop, err);
    begin_move(s);
    const rw_session_frame *f = &s->frames[s->selected];
    rev_ctx c = {0};
    c.mode = R_NEXT_SAME;
    c.frame = f->call_pos;
    uint64_t found = 0;
    /* The current frame's earlier lines (not before its call). */
    rw_code rc = search_back(s, &c, f->call_pos + 1 > window_begin(s) ? f->call_pos + 1 :
                             window_begin(s), &found, err);
    if (rc != RW_ENOTFOUND)
        return back_to(s, rc, found, stop, err);
    /* At its first line: the caller's line that made the call. */
    if (s->selected == 0)
        return report(s, stop, RW_STOP_START, 0);
    c.mode = R_NEXT_CALLER;
    c.caller = s->frames[s->selected - 1].call_pos;
    rc = search_back(s, &c, c.caller, &found, err);
    return back_to(s, rc, found, stop, err);
}

static rw_code rreturn_move(rw_session *s, rw_stop *stop, rw_err *err)
{
    if (s->postmortem || !s->nframes)
        return rw_session_rstep(s, stop, err);
    begin_move(s);
    const rw_session_frame *f = &s->frames[s->selected];
    if (s->ev.kind == RW_K_CALL && s->selected == s->nframes - 1 && f->call_pos == s->pos)
        return report(s, stop, RW_STOP_AT_CALL, 0);
    if (f->call_pos < window_begin(s)) {
        /* The main program's frame: pdb's first stop is its first line. */
        if (s->pos <= s->start_pos)
            return report(s, stop, RW_STOP_START, 0);
        return stop_at(s, s->start_pos, stop, err);
    }
    return stop_at(s, f->call_pos, stop, err);
}

static rw_code watch_back_stop(rw_session *s, uint64_t from, rw_code rc, rw_stop *stop,
                               rw_err *err);

rw_code rw_session_rstep(rw_session *s, rw_stop *stop, rw_err *err)
{
    uint64_t from = s->pos;
    return watch_back_stop(s, from, rstep_move(s, stop, err), stop, err);
}

rw_code rw_session_rnext(rw_session *s, rw_stop *stop, rw_err *err)
{
    uint64_t from = s->pos;
    return watch_back_stop(s, from, rnext_move(s, stop, err), stop, err);
}

rw_code rw_session_rreturn(rw_session *s, rw_stop *stop, rw_err *err)
{
    uint64_t from = s->pos;
    return watch_back_stop(s, from, rreturn_move(s, stop, err), stop, err);
}

/* rcontinue's search: the previous breakpoint hit (its position and breakpoint), or
 * RW_ENOTFOUND (err untouched), or an error. The position does not change. */
static rw_code rcontinue_find(rw_session *s, uint64_t *where, const rw_breakpoint **hit,
                              rw_err *err)
{
    rev_ctx c = {0};
    c.mode = R_BREAK;
    c.defer = !s->values->why(s->values->ctx);
    uint64_t found = 0;
    rw_code rc = any_enabled_bp(s) ? search_back(s, &c, window_begin(s), &found, err)
                                   : RW_ENOTFOUND;
    if (rc == RW_OK && c.oom) {
        free(c.cands);
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    }
    /* The conditional hits after the unconditional one (or the start), oldest first
     * (the navigator may show a chunk's events in either order): the last whose
     * condition is true (or cannot be evaluated) wins. */
    if (rc == RW_OK || rc == RW_ENOTFOUND) {
        size_t m = 0;
        for (size_t i = 0; i < c.ncands; i++)
            if (rc != RW_OK || c.cands[i].pos > found)
                c.cands[m++] = c.cands[i];
        if (m)
            qsort(c.cands, m, sizeof *c.cands, cand_cmp);
        c.ncands = m;
        size_t i = 0;
        while (i < c.ncands) {
            /* One line's entries are cands[i .. j), by breakpoint number: the first
             * true one stops there. */
            size_t j = i + 1;
            while (j < c.ncands && c.cands[j].pos == c.cands[i].pos)
                j++;
            for (size_t k = i; k < j; k++) {
                if (k > i && c.cands[k].number == c.cands[k - 1].number)
                    continue; /* seen twice */
                const rw_breakpoint *b = rw_session_break_get(s, c.cands[k].number);
                rw_event ev = {0};
                ev.pos = c.cands[k].pos;
                ev.thread = c.cands[k].thread;
                if (b && bp_cond(s, b, &ev) != 0) {
                    found = c.cands[k].pos;
                    c.hit = b;
                    rc = RW_OK;
                    break;
                }
            }
            i = j;
        }
    }
    free(c.cands);
    if (rc == RW_OK) {
        assert(c.hit);
        *where = found;
        *hit = c.hit;
    }
    return rc;
}

/* Ends rcontinue after rcontinue_find gave rc. */
static rw_code rcontinue_end(rw_session *s, rw_code rc, uint64_t found,
                             const rw_breakpoint *hit, rw_stop *stop, rw_err *err)
{
    if (rc == RW_OK) {
        /* Stopped at a hit (the backward search leaves hit counts alone). */
        RW_TRY(load_pos(s, found, err));
        s->hit = hit->number;
        return report(s, stop, RW_STOP_BREAKPOINT, 1);
    }
    if (rc != RW_ENOTFOUND)
        return rc;
    /* No earlier hit: the start of the program. */
    if (s->start_pos >= rev_from(s))
        return report(s, stop, RW_STOP_START, 0);
    RW_TRY(load_pos(s, s->start_pos, err));
    return report(s, stop, RW_STOP_START, 1);
}

static rw_code watch_rcontinue(rw_session *s, rw_stop *stop, rw_err *err);

rw_code rw_session_rcontinue(rw_session *s, rw_stop *stop, rw_err *err)
{
    if (watched(s))
        return watch_rcontinue(s, stop, err);
    begin_move(s);
    uint64_t found = 0;
    const rw_breakpoint *hit = NULL;
    rw_code rc = rcontinue_find(s, &found, &hit, err);
    return rcontinue_end(s, rc, found, hit, stop, err);
}

static rw_code runtil_move(rw_session *s, long long lineno, rw_stop *stop, rw_err *err)
{
    if (s->postmortem || !s->nframes)
        return rw_session_rstep(s, stop, err);
    begin_move(s);
    const rw_session_frame *f = &s->frames[s->selected];
    rev_ctx c = {0};
    c.mode = R_UNTIL;
    c.frame = f->call_pos;
    c.lineno = lineno;
    uint64_t found = 0;
    rw_code rc;
    if (!s->plain && !is_untraced(s, f->call_pos) && line_pairs(s, f->code_id, lineno, 0)) {
        /* The lines <= lineno of the frame through the line filter, else its CALL. */
        line_ctx l = {s, f->call_pos, f->code_id, lineno, 0, 0, 0, 0};
        uint64_t begin = f->call_pos + 1 > window_begin(s) ? f->call_pos + 1 : window_begin(s);
        rw_nav_set_line_filter(s->nav, s->pairs, s->npairs);
        rc = begin < rev_from(s) ? rw_nav_prev(s->nav, rev_from(s), begin, frame_line_match, &l,
                                               &found, err)
                                 : RW_ENOTFOUND;
        filter_off(s);
        if (rc == RW_ENOTFOUND && f->call_pos >= window_begin(s) && f->call_pos < rev_from(s)) {
            found = f->call_pos;
            rc = RW_OK;
        }
    } else {
        rc = search_back(s, &c, f->call_pos, &found, err);
    }
    return back_to(s, rc, found, stop, err);
}

rw_code rw_session_runtil(rw_session *s, long long lineno, rw_stop *stop, rw_err *err)
{
    uint64_t from = s->pos;
    return watch_back_stop(s, from, runtil_move(s, lineno, stop, err), stop, err);
}

/* ---- goto, threads, the crash --------------------------------------------------------- */

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

rw_code rw_session_start(rw_session *s, rw_stop *stop, rw_err *err)
{
    begin_move(s);
    return stop_at(s, s->start_pos, stop, err);
}

rw_code rw_session_goto(rw_session *s, uint64_t pos, rw_stop *stop, rw_err *err)
{
    begin_move(s);
    uint64_t found;
    uint64_t n = rw_nav_nevents(s->nav);
    rw_code rc = pos < n ? rw_nav_next(s->nav, pos ? pos - 1 : UINT64_MAX, NOPOS,
                                       RW_NAV_EVENTS, any_py_match, NULL, &found, err)
                         : RW_ENOTFOUND;
    if (rc == RW_ENOTFOUND)
        rc = rw_nav_prev(s->nav, pos < n ? pos : n, 0, any_py_match, NULL, &found, err);
    RW_TRY(rc);
    return stop_at(s, found, stop, err);
}

rw_code rw_session_goto_uncaught(rw_session *s, rw_stop *stop, rw_err *err)
{
    begin_move(s);
    return enter_postmortem(s, stop, err);
}

/* The last fatal signal or timeout report (rw_pos_crash): the last Python event of
 * the thread that got the signal (for a timeout, the main thread) before it, so that
 * the stack there is the Python stack at the crash. */
rw_code rw_session_goto_crash(rw_session *s, rw_stop *stop, rw_err *err)
{
    begin_move(s);
    uint64_t at, found, n = rw_nav_nevents(s->nav);
    const Rewind__CrashReport *c;
    RW_TRY(rw_pos_crash(s->r, &at, &c, err));
    if (at > n)
        at = n;
    uint32_t thread = rw_defs_thread(s->defs, c->thread) ? c->thread : 0;
    rw_code rc = rw_nav_prev(s->nav, at, 0, thread_py_match, &thread, &found, err);
    if (rc == RW_ENOTFOUND && thread) {
        thread = 0; /* the thread ran no Python code: take any thread's last event */
        rc = rw_nav_prev(s->nav, at, 0, thread_py_match, &thread, &found, err);
    }
    RW_TRY(rc);
    RW_TRY(load_pos(s, found, err));
    s->crash.timeout = c->kind == REWIND__CRASH_REPORT__KIND__TIMEOUT;
    s->crash.timeout_s = (double)c->timeout_ms / 1000.0;
    s->crash.hardware = c->fault_addr || (c->si_code > 0 && c->signal != SIGABRT);
    s->crash.fault_addr = c->fault_addr;
    s->crash.signal_name = c->signal_name;
    return report(s, stop, RW_STOP_CRASH, 1);
}

rw_code rw_session_goto_thread(rw_session *s, uint32_t thread, rw_stop *stop, rw_err *err)
{
    begin_move(s);
    rev_ctx c = {0};
    c.s = s;
    c.mode = R_THREAD;
    c.frame = thread;
    uint64_t found;
    uint64_t from = s->postmortem ? s->main_ret + 1 : s->pos + 1;
    rw_code rc = rw_nav_prev(s->nav, from, 0, rev_match, &c, &found, err);
    if (rc == RW_ENOTFOUND)
        rc = rw_nav_next(s->nav, s->pos, NOPOS, RW_NAV_EVENTS, rev_match, &c, &found, err);
    if (rc == RW_ENOTFOUND)
        return rw_err_set(err, RW_ENOTFOUND, "Thread %u ran no Python code", thread);
    RW_TRY(rc);
    return stop_at(s, found, stop, err);
}

/* ---- visiting records ------------------------------------------------------------------ */

/* Is file f the interpreter's rather than the program's: a frozen module (the import
 * machinery and the standard modules frozen into the interpreter), or a file of the
 * standard library (under a lib/python3.N directory, but not in its site-packages)? */
static int file_is_pythons(const rw_session *s, uint32_t f)
{
    const char *p = rw_session_file_path(s, f);
    if (!strncmp(p, "<frozen ", 8))
        return 1;
    const char *lib = strstr(p, "/lib/python3.");
    if (!lib)
        return 0;
    const char *q = lib + strlen("/lib/python3.");
    while (*q >= '0' && *q <= '9')
        q++;
    return *q == '/' && !strstr(q, "/site-packages/") && !strstr(q, "/dist-packages/");
}

typedef struct visit_ctx {
    rw_session *s;
    int exceptions_only;
    int (*fn)(void *ctx, const rw_session_record *rec);
    void *ctx;
} visit_ctx;

static int visit_one(void *p, const rw_event *ev, const rw_stack *st)
{
    visit_ctx *v = p;
    rw_session *s = v->s;
    if (v->exceptions_only && ev->kind != RW_K_EXCEPTION)
        return 0;
    rw_session_record r;
    memset(&r, 0, sizeof r);
    r.pos = ev->pos;
    r.kind_name = rw_kind_name(ev->kind);
    r.thread = ev->thread;
    r.is_current = RW_IS_EVENT(ev->kind) && ev->pos == s->pos;
    r.depth = ev->depth;
    r.line = ev->line;
    r.text = ev->text;
    r.text_len = ev->text_len;
    r.addr = ev->addr;
    r.size = ev->size;
    switch (ev->kind) {
    case RW_K_CALL:
    case RW_K_LINE:
    case RW_K_RETURN:
        r.cls = RW_REC_PYTHON;
        r.file = rw_session_file_path(s, code_file(s, ev->code));
        r.function = code_name(s, ev->code);
        break;
    case RW_K_EXCEPTION: {
        rw_frame tmp;
        const rw_frame *fr = event_frame(ev, st, &tmp);
        uint32_t code = fr ? fr->code : ev->code;
        r.cls = RW_REC_EXCEPTION;
        r.name = name_text(s, ev->name);
        r.file = rw_session_file_path(s, code_file(s, code));
        r.function = code_name(s, code);
        r.own = !file_is_pythons(s, code_file(s, code)) &&
                (ev->thread != s->main_thread ||
                 (ev->pos >= s->start_pos && ev->pos <= s->main_ret));
        break;
    }
    case RW_K_C_CALL:
    case RW_K_C_RETURN:
    case RW_K_C_EXCEPTION: {
        const char *label = rw_defs_cfunc_label(s->defs, ev->code);
        r.cls = RW_REC_C;
        r.label = label ? label : "?";
        break;
    }
    case RW_K_AUDIT:
        r.cls = RW_REC_AUDIT;
        r.name = name_text(s, ev->name);
        break;
    default:
        r.cls = RW_IS_ALLOC(ev->kind) ? RW_REC_ALLOC : RW_IS_FREE(ev->kind) ? RW_REC_FREE
                                                                            : RW_REC_OTHER;
        break;
    }
    return v->fn(v->ctx, &r);
}

rw_code rw_session_visit(rw_session *s, uint64_t from, uint64_t to, int exceptions_only,
                         int (*fn)(void *ctx, const rw_session_record *rec), void *ctx,
                         rw_err *err)
{
    visit_ctx v = {s, exceptions_only, fn, ctx};
    return rw_nav_visit(s->nav, from, to, visit_one, &v, err);
}

/* ---- values ------------------------------------------------------------------------------ */

rw_code rw_session_value(rw_session *s, uint32_t frame, rw_values_op op, const char *text,
                         char **out, int *raised, rw_err *err)
{
    *out = NULL;
    *raised = 0;
    if (s->postmortem)
        return rw_err_set(err, RW_EINVAL, "values are not kept past the uncaught exception: "
                          "'exceptions' lists where it was raised, 'goto N' goes there");
    if (frame == RW_SESSION_SELECTED || frame >= s->nframes)
        frame = s->selected;
    rw_values_at at;
    at.pos = s->pos;
    at.thread = s->thread;
    /* Counted from the newest: the engine's stack may hold frames below the main
     * program's, which the session does not show. A frame of the traceback below an
     * exception stop has returned: pdb evaluates in its frame object's locals, which
     * the engine reaches through the exception's traceback. */
    if (frame > s->current)
        at.frame_index = RW_VALUES_TRACEBACK | (frame - s->current);
    else
        at.frame_index = frame == s->current ? RW_VALUES_NEWEST : s->current - frame;
    at.frame_call = s->nframes ? s->frames[frame].call_pos : 0;
    rw_values_kept kept[KEPT_MAX];
    at.kept = kept;
    at.nkept = s->nframes ? kept_for(s, &s->frames[frame], s->pos, 0, kept, KEPT_MAX) : 0;
    at.stop_keeps = s->nframes && (s->ev.kind == RW_K_EXCEPTION || s->ev.kind == RW_K_RETURN);
    return s->values->ask(s->values->ctx, &at, op, text ? text : "", out, raised, err);
}

int rw_session_frame_returned(rw_session *s, uint32_t frame)
{
    if (s->postmortem || frame >= s->nframes)
        return 0;
    rw_values_kept kept[KEPT_MAX];
    size_t n = kept_for(s, &s->frames[frame], s->pos, RW_K_RETURN, kept, KEPT_MAX);
    for (size_t i = 0; i < n; i++)
        if (kept[i].exact)
            return 1;
    return n ? 2 : 0;
}

const char *rw_session_values_why(rw_session *s)
{
    return s->values->why(s->values->ctx);
}

/* ---- watchpoints -------------------------------------------------------------------------- */

/* A watch search probes values at positions: each probe goes to an event of the viewed
 * thread (the provider's engine goes there: forwards it runs on, backwards it resumes
 * its nearest checkpoint) and evaluates every watched expression of the thread there.
 * Probes are kept for the search, by position. */
typedef struct wprobe {
    uint64_t pos;
    char **vals;
} wprobe;

typedef struct wsearch {
    rw_session *s;
    uint32_t thread;
    const rw_watchpoint **w;  /* the thread's watchpoints */
    size_t nw;
    wprobe *p;
    size_t np, capp;
    /* Where the watched frames come and go, which the log tells without a probe: each
     * one's CALL, and the event after its RETURN (NOPOS when it never returns). */
    uint64_t *bounds;
    size_t nbounds;
} wsearch;

static int watched(const rw_session *s)
{
    for (int i = 1; i < s->nwatches; i++)
        if (s->watches[i] && s->watches[i]->thread == s->thread)
            return 1;
    return 0;
}

static void wsearch_fini(wsearch *ws)
{
    for (size_t i = 0; i < ws->np; i++) {
        for (size_t k = 0; k < ws->nw; k++)
            free(ws->p[i].vals[k]);
        free(ws->p[i].vals);
    }
    free(ws->p);
    free(ws->w);
    free(ws->bounds);
    ws->s->probes = ws->np;
}

/* The search's watchpoints: those of the viewed thread (or watchpoint only, when > 0). */
static rw_code wsearch_init(wsearch *ws, rw_session *s, int only, rw_err *err)
{
    memset(ws, 0, sizeof *ws);
    ws->s = s;
    ws->thread = s->thread;
    ws->w = calloc((size_t)s->nwatches, sizeof *ws->w);
    if (!ws->w)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    for (int i = 1; i < s->nwatches; i++) {
        const rw_watchpoint *w = s->watches[i];
        if (w && (only ? i == only : w->thread == s->thread))
            ws->w[ws->nw++] = w;
    }
    return RW_OK;
}

/* ws->bounds of its watchpoints (once per search). */
static rw_code wsearch_bounds(wsearch *ws, rw_err *err)
{
    ws->bounds = malloc(2 * (ws->nw ? ws->nw : 1) * sizeof *ws->bounds);
    if (!ws->bounds)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    for (size_t k = 0; k < ws->nw; k++) {
        uint64_t call = ws->w[k]->frame_call, ret;
        if (call >= rw_nav_nevents(ws->s->nav))
            continue; /* a frame whose CALL the log does not hold */
        rw_err e;
        rw_code rc = rw_nav_frame_return(ws->s->nav, call, ws->thread, call, &ret, &e);
        if (rc != RW_OK && rc != RW_ENOTFOUND) {
            *err = e;
            return rc;
        }
        ws->bounds[ws->nbounds++] = call;
        ws->bounds[ws->nbounds++] = rc == RW_OK ? ret + 1 : NOPOS;
    }
    return RW_OK;
}

/* A new copy of the first n bytes of t, "*** " before it when prefix; NULL when out of
 * memory. */
static char *value_text(const char *t, int prefix)
{
    size_t n = strlen(t);
    while (n && t[n - 1] == '\n')
        n--;
    char *v = malloc(n + 5);
    if (v)
        snprintf(v, n + 5, "%s%.*s", prefix ? "*** " : "", (int)n, t);
    return v;
}

/* The value of w at event q of its thread, whose stack is st: a new string in *out. */
static rw_code watch_eval(rw_session *s, const rw_watchpoint *w, uint64_t q, const rw_stack *st,
                          char **out, rw_err *err)
{
    /* Its frame's place among the Python frames from the main program's up, then
     * counted from the newest, as rw_session_value counts them. */
    uint32_t first = 0;
    if (w->thread == s->main_thread)
        for (uint32_t i = 0; i < st->depth; i++)
            if (st->frames[i].call_pos == s->main_call && !st->frames[i].is_c) {
                first = i;
                break;
            }
    uint32_t n = 0, at = UINT32_MAX;
    for (uint32_t i = first; i < st->depth; i++) {
        if (st->frames[i].is_c)
            continue;
        if (st->frames[i].call_pos == w->frame_call && at == UINT32_MAX)
            at = n;
        n++;
    }
    if (at == UINT32_MAX) {
        *out = strdup(RW_WATCH_OUT_OF_SCOPE);
        return *out ? RW_OK : rw_err_set(err, RW_ENOMEM, "out of memory");
    }
    rw_values_at a;
    memset(&a, 0, sizeof a);
    a.pos = q;
    a.thread = w->thread;
    a.frame_call = w->frame_call;
    a.frame_index = at + 1 == n ? RW_VALUES_NEWEST : n - 1 - at;
    char *text = NULL;
    int raised = 0;
    RW_TRY(s->values->ask(s->values->ctx, &a, RW_VALUES_P, w->expr, &text, &raised, err));
    *out = value_text(text ? text : "", raised);
    free(text);
    return *out ? RW_OK : rw_err_set(err, RW_ENOMEM, "out of memory");
}

/* The watched values at event q of the search's thread (borrowed from ws). */
static rw_code probe(wsearch *ws, uint64_t q, char ***vals, rw_err *err)
{
    for (size_t i = 0; i < ws->np; i++)
        if (ws->p[i].pos == q) {
            *vals = ws->p[i].vals;
            return RW_OK;
        }
    if (ws->np == ws->capp) {
        size_t cap = ws->capp ? 2 * ws->capp : 32;
        wprobe *p = realloc(ws->p, cap * sizeof *p);
        if (!p)
            return rw_err_set(err, RW_ENOMEM, "out of memory");
        ws->p = p;
        ws->capp = cap;
    }
    char **v = calloc(ws->nw ? ws->nw : 1, sizeof *v);
    if (!v)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    rw_event ev;
    rw_stack st = {0};
    rw_code rc = rw_nav_at(ws->s->nav, q, &ev, &st, err);
    assert(rc != RW_OK || ev.thread == ws->thread);
    for (size_t k = 0; rc == RW_OK && k < ws->nw; k++)
        rc = watch_eval(ws->s, ws->w[k], q, &st, &v[k], err);
    free(st.frames);
    if (rc != RW_OK) {
        for (size_t k = 0; k < ws->nw; k++)
            free(v[k]);
        free(v);
        return rc;
    }
    ws->p[ws->np++] = (wprobe){q, v};
    *vals = v;
    return RW_OK;
}

static int same_values(const wsearch *ws, char **a, char **b)
{
    for (size_t k = 0; k < ws->nw; k++)
        if (strcmp(a[k], b[k]))
            return 0;
    return 1;
}

static int thread_ev_match(void *p, const rw_event *ev, const rw_stack *st)
{
    (void)st;
    return ev->thread == *(const uint32_t *)p;
}

/* The first event of the thread with from <= pos < end (py: a Python event) in *q;
 * *found = 0 when there is none. */
static rw_code thread_event(wsearch *ws, int py, uint64_t from, uint64_t end, uint64_t *q,
                            int *found, rw_err *err)
{
    *found = 0;
    if (from >= end)
        return RW_OK;
    rw_err e;
    uint32_t t = ws->thread;
    rw_code rc = rw_nav_next(ws->s->nav, from ? from - 1 : UINT64_MAX, end, RW_NAV_EVENTS,
                             py ? thread_py_match : thread_ev_match, &t, q, &e);
    if (rc == RW_ENOTFOUND)
        return RW_OK;
    if (rc != RW_OK) {
        *err = e;
        return rc;
    }
    *found = 1;
    return RW_OK;
}

/* Bisects between events lo and hi of the thread (lo < hi), one of which has the
 * values ref (lo forwards, hi backwards) and the other not, until they are adjacent
 * events of the thread with that property. */
static rw_code bisect(wsearch *ws, int forward, char **ref, uint64_t *lo, uint64_t *hi,
                      rw_err *err)
{
    uint64_t top = *hi; /* no event of the thread in [top, hi) */
    while (top > *lo + 1) {
        uint64_t mid = *lo + (top - *lo) / 2, q;
        int found;
        char **v;
        RW_TRY(thread_event(ws, 0, mid, *hi, &q, &found, err));
        if (!found) {
            top = mid;
            continue;
        }
        RW_TRY(probe(ws, q, &v, err));
        if (same_values(ws, v, ref) == forward)
            *lo = q;
        else
            *hi = top = q;
    }
    return RW_OK;
}

/* Forwards from event cur (whose values are ref) to event last (included): the first
 * Python event of the thread at or after the nearest change the probes find, where the
 * values differ from ref, in *stop (*found = 0 when none up to last). */
static rw_code watch_fwd(wsearch *ws, uint64_t cur, uint64_t last, char **ref, uint64_t *stop,
                         int *found, rw_err *err)
{
    uint64_t lo = cur;
    *found = 0;
    /* A watched frame that comes or goes changes its value (to or from <out of
     * scope>): the first such place after cur ends the search, probes or not. */
    uint64_t b = NOPOS, glast = last;
    for (size_t k = 0; k < ws->nbounds; k++)
        if (ws->bounds[k] > cur && ws->bounds[k] <= last && ws->bounds[k] < b)
            b = ws->bounds[k];
    if (b != NOPOS) {
        uint64_t q;
        int f;
        char **v;
        RW_TRY(thread_event(ws, 0, b, last + 1, &q, &f, err));
        if (f) {
            RW_TRY(probe(ws, q, &v, err));
            if (!same_values(ws, v, ref))
                glast = q; /* the gallop goes no further */
        }
    }
    for (;;) {
        /* Gallop: cur + 1, + 2, + 4, ... until a probe differs. */
        uint64_t base = lo, step = 1, hi = NOPOS, lim = glast > lo ? glast : last;
        while (hi == NOPOS) {
            if (lim <= lo)
                return RW_OK;
            uint64_t p = lim - base > step ? base + step : lim, q;
            if (p <= lo)
                p = lo + 1;
            int f;
            char **v;
            RW_TRY(thread_event(ws, 0, p, lim + 1, &q, &f, err));
            if (!f) {
                lim = p - 1; /* nothing of the thread in [p, lim] */
                continue;
            }
            RW_TRY(probe(ws, q, &v, err));
            if (!same_values(ws, v, ref))
                hi = q;
            else
                lo = q;
            step *= 2;
        }
        RW_TRY(bisect(ws, 1, ref, &lo, &hi, err));
        uint64_t sp;
        int f;
        char **v;
        RW_TRY(thread_event(ws, 1, hi, last + 1, &sp, &f, err));
        if (!f)
            return RW_OK;
        RW_TRY(probe(ws, sp, &v, err));
        if (same_values(ws, v, ref)) {
            lo = sp; /* changed back before the next Python event: search on from it */
            continue;
        }
        *stop = sp;
        *found = 1;
        return RW_OK;
    }
}

/* Backwards from before `from` down to event `first` (included): the first Python
 * event of the run of values that holds at the thread's last Python event before from,
 * in *stop, and the adjacent event before the change in *before (*found = 0 when the
 * run goes back to first). */
static rw_code watch_back(wsearch *ws, uint64_t from, uint64_t first, uint64_t *stop,
                          uint64_t *before, int *found, rw_err *err)
{
    *found = 0;
    uint64_t p;
    if (first >= from)
        return RW_OK;
    rw_err e;
    uint32_t t = ws->thread;
    rw_code rc = rw_nav_prev(ws->s->nav, from, first, thread_py_match, &t, &p, &e);
    if (rc == RW_ENOTFOUND)
        return RW_OK;
    if (rc != RW_OK) {
        *err = e;
        return rc;
    }
    char **ref, **v;
    RW_TRY(probe(ws, p, &ref, err));
    /* A watched frame that came or went before p changed its value there, probes or
     * not: the last such place searches no further back. */
    uint64_t b = first, hi = p, lo = NOPOS, step = 1;
    int at_bound = 0;
    for (size_t k = 0; k < ws->nbounds; k++)
        if (ws->bounds[k] > b && ws->bounds[k] <= p)
            b = ws->bounds[k];
    if (b > first) {
        uint64_t q;
        int f;
        RW_TRY(thread_event(ws, 0, b, p + 1, &q, &f, err));
        assert(f); /* p itself at least */
        RW_TRY(probe(ws, q, &v, err));
        first = q;
        at_bound = same_values(ws, v, ref);
    }
    /* Gallop: p - 1, - 2, - 4, ... down to first, until a probe differs. */
    while (lo == NOPOS) {
        uint64_t at = p - first > step ? p - step : first, q;
        int f;
        RW_TRY(thread_event(ws, 0, at, hi, &q, &f, err));
        if (f) {
            RW_TRY(probe(ws, q, &v, err));
            if (same_values(ws, v, ref))
                hi = q;
            else
                lo = q;
        }
        if (lo == NOPOS && at == first) {
            if (!at_bound)
                return RW_OK;
            /* The run began where the frame came or went: at first, after the
             * thread's event before it. */
            uint32_t th = ws->thread;
            rw_err e2;
            rw_code r2 = rw_nav_prev(ws->s->nav, first, 0, thread_ev_match, &th, &lo, &e2);
            if (r2 == RW_ENOTFOUND)
                return RW_OK;
            if (r2 != RW_OK) {
                *err = e2;
                return r2;
            }
            hi = first;
        }
        step *= 2;
    }
    for (;;) {
        RW_TRY(bisect(ws, 0, ref, &lo, &hi, err));
        uint64_t sp;
        int f;
        RW_TRY(thread_event(ws, 1, hi, p + 1, &sp, &f, err));
        assert(f); /* p itself */
        RW_TRY(probe(ws, sp, &v, err));
        if (!same_values(ws, v, ref)) {
            lo = sp; /* changed again before the next Python event: bisect after it */
            hi = p;
            continue;
        }
        *stop = sp;
        *before = lo;
        *found = 1;
        return RW_OK;
    }
}

/* The changes between the values old and new (both of ws), for rw_stop.changes. */
static rw_code changes_of(wsearch *ws, char **old, char **new, rw_watch_change **out,
                          size_t *n, rw_err *err)
{
    *out = calloc(ws->nw ? ws->nw : 1, sizeof **out);
    *n = 0;
    if (!*out)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    for (size_t k = 0; k < ws->nw; k++) {
        if (!strcmp(old[k], new[k]))
            continue;
        rw_watch_change *c = &(*out)[(*n)++];
        c->number = ws->w[k]->number;
        c->expr = strdup(ws->w[k]->expr);
        c->old_value = strdup(old[k]);
        c->new_value = strdup(new[k]);
        if (!c->expr || !c->old_value || !c->new_value) {
            changes_release(*out, *n);
            *out = NULL;
            return rw_err_set(err, RW_ENOMEM, "out of memory");
        }
    }
    return RW_OK;
}

/* Puts the changes found at the stop just made. */
static void install_changes(rw_session *s, rw_watch_change *c, size_t n, rw_stop *stop)
{
    changes_free(s);
    s->changes = c;
    s->nchanges = n;
    rw_session_where(s, stop);
}

/* The breakpoints' hit and ignore counts, to put back after a search made to find a
 * stop without making it (hits_restore frees them). NULL when out of memory. */
static long long *hits_save(const rw_session *s)
{
    long long *saved = malloc((2 * (size_t)s->nbps + 1) * sizeof *saved);
    for (int i = 1; saved && i < s->nbps; i++)
        if (s->bps[i]) {
            saved[2 * i] = s->bps[i]->hits;
            saved[2 * i + 1] = s->bps[i]->ignore;
        }
    return saved;
}

static void hits_restore(rw_session *s, long long *saved)
{
    for (int i = 1; i < s->nbps; i++)
        if (s->bps[i]) {
            s->bps[i]->hits = saved[2 * i];
            s->bps[i]->ignore = saved[2 * i + 1];
        }
    free(saved);
}

/* The breakpoint stop a plain continue would make (its position in *b, NOPOS when none
 * before the window's end), without making it: hit and ignore counts as they were. */
static rw_code next_break(rw_session *s, uint64_t *b, rw_err *err)
{
    *b = NOPOS;
    if (!any_enabled_bp(s))
        return RW_OK;
    long long *saved = hits_save(s);
    if (!saved)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    fwd_ctx c = {0};
    c.s = s;
    c.skind = S_BOT;
    c.stoplineno = -1;
    c.bps_only = 1;
    c.start = s->pos;
    c.prev_kind = s->ev.kind;
    c.prev_code = s->ev.code;
    rw_err e;
    filter_on(s);
    rw_code rc = rw_nav_next(s->nav, s->pos, window_end(s), RW_NAV_EVENTS, fwd_match, &c, b, &e);
    filter_off(s);
    hits_restore(s, saved);
    if (rc == RW_ENOTFOUND) {
        *b = NOPOS;
        return RW_OK;
    }
    if (rc != RW_OK)
        *err = e;
    return rc;
}

/* The first change of a watched value after the current position, up to event last:
 * *found, its position in *sp and the changes there in *ch, *nch (the caller's, to
 * install or release). */
static rw_code first_change(rw_session *s, uint64_t last, uint64_t *sp, int *found,
                            rw_watch_change **ch, size_t *nch, rw_err *err)
{
    *found = 0;
    *ch = NULL;
    *nch = 0;
    wsearch ws;
    RW_TRY(wsearch_init(&ws, s, 0, err));
    char **ref, **now;
    rw_code rc = wsearch_bounds(&ws, err);
    if (rc == RW_OK)
        rc = probe(&ws, s->pos, &ref, err);
    if (rc == RW_OK)
        rc = watch_fwd(&ws, s->pos, last, ref, sp, found, err);
    if (rc == RW_OK && *found)
        rc = probe(&ws, *sp, &now, err);
    if (rc == RW_OK && *found)
        rc = changes_of(&ws, ref, now, ch, nch, err);
    wsearch_fini(&ws);
    return rc;
}

/* Going back from `from` down to event first: where the run of watched values that
 * holds just before `from` began (*sp, with the changes there in *ch, *nch), when that
 * is after event `after` (*found; NOPOS: anywhere). */
static rw_code last_change(rw_session *s, uint64_t from, uint64_t first, uint64_t after,
                           uint64_t *sp, int *found, rw_watch_change **ch, size_t *nch,
                           rw_err *err)
{
    *ch = NULL;
    *nch = 0;
    wsearch ws;
    RW_TRY(wsearch_init(&ws, s, 0, err));
    uint64_t before = 0;
    rw_code rc = wsearch_bounds(&ws, err);
    if (rc == RW_OK)
        rc = watch_back(&ws, from, first, sp, &before, found, err);
    if (rc == RW_OK && *found && (after == NOPOS || *sp > after)) {
        char **old, **now;
        rc = probe(&ws, before, &old, err);
        if (rc == RW_OK)
            rc = probe(&ws, *sp, &now, err);
        if (rc == RW_OK)
            rc = changes_of(&ws, old, now, ch, nch, err);
    } else {
        *found = 0;
    }
    wsearch_fini(&ws);
    return rc;
}

/* Ends a forward move made after a watch search (found: a change at sp, the move's
 * stop set there when it came first): the changes go with the stop when it is at sp,
 * else they are released. */
static rw_code watch_forward_end(rw_session *s, rw_code rc, int found, uint64_t sp,
                                 rw_watch_change *ch, size_t nch, rw_stop *stop)
{
    s->fwd_end = s->watch_stop = NOPOS;
    if (rc == RW_OK && found && s->pos == sp && !s->postmortem) {
        install_changes(s, ch, nch, stop);
        return RW_OK;
    }
    changes_release(ch, nch);
    return rc;
}

/* A watch stop at sp, with the changes there (taken). */
static rw_code watch_stop_at(rw_session *s, uint64_t sp, rw_watch_change *ch, size_t nch,
                             rw_stop *stop, rw_err *err)
{
    rw_code rc = stop_at(s, sp, stop, err);
    if (rc == RW_OK) {
        install_changes(s, ch, nch, stop);
        return RW_OK;
    }
    changes_release(ch, nch);
    return rc;
}

static rw_code watch_continue(rw_session *s, rw_stop *stop, rw_err *err)
{
    begin_move(s);
    uint64_t end = window_end(s);
    if (s->pos + 1 >= end)
        return continue_plain(s, stop, err);
    uint64_t b, sp = NOPOS;
    RW_TRY(next_break(s, &b, err));
    memset(&s->cond_err, 0, sizeof s->cond_err);
    s->cond_bp = 0;
    int found = 0;
    rw_watch_change *ch = NULL;
    size_t nch = 0;
    RW_TRY(first_change(s, b != NOPOS ? b : end - 1, &sp, &found, &ch, &nch, err));
    if (found && sp != b) {
        /* The watch stops first: the breakpoint search up to it counts the hits
         * before it, then stops there. */
        s->fwd_end = sp + 1;
        s->watch_stop = sp;
    }
    return watch_forward_end(s, continue_plain(s, stop, err), found, sp, ch, nch, stop);
}

/* run_forward with watchpoints: where the move would stop (found without making it:
 * hit counts as they were), then the first change of a watched value up to there. A
 * change before the stop stops the move there instead (its breakpoint search counts
 * the hits before it, as continue's does); a change that shows at the stop itself is
 * reported with it, as gdb reports a watchpoint that triggers on a step. */
static rw_code watch_forward(rw_session *s, fwd_ctx *c, rw_stop *stop, rw_err *err)
{
    begin_move(s);
    long long *saved = hits_save(s);
    if (!saved)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    fwd_ctx d = *c;
    uint64_t found = NOPOS, sp = NOPOS;
    rw_code rc = fwd_find(s, &d, &found, err);
    hits_restore(s, saved);
    if (rc != RW_OK && rc != RW_ENOTFOUND)
        return rc;
    uint64_t last = rc == RW_OK ? found : window_end(s) - 1;
    int wf = 0;
    rw_watch_change *ch = NULL;
    size_t nch = 0;
    if (last > s->pos)
        RW_TRY(first_change(s, last, &sp, &wf, &ch, &nch, err));
    if (wf && (rc != RW_OK || sp < found)) {
        s->fwd_end = sp + 1;
        s->watch_stop = sp;
    }
    return watch_forward_end(s, move_forward(s, c, stop, err), wf, sp, ch, nch, stop);
}

static rw_code watch_rcontinue(rw_session *s, rw_stop *stop, rw_err *err)
{
    begin_move(s);
    uint64_t found = 0, sp = 0;
    const rw_breakpoint *hit = NULL;
    rw_code rc = rcontinue_find(s, &found, &hit, err);
    if (rc != RW_OK && rc != RW_ENOTFOUND)
        return rc;
    int wf = 0;
    rw_watch_change *ch = NULL;
    size_t nch = 0;
    RW_TRY(last_change(s, rev_from(s), rc == RW_OK ? found : window_begin(s),
                       rc == RW_OK ? found : NOPOS, &sp, &wf, &ch, &nch, err));
    if (!wf)
        return rcontinue_end(s, rc, found, hit, stop, err);
    return watch_stop_at(s, sp, ch, nch, stop, err);
}

/* A reverse move made from `from` (rstep, rnext, rreturn, runtil; rcontinue has its
 * own, watch_rcontinue) that gave rc: with watchpoints of the viewed thread, a watched
 * value that changed between the move's stop and `from` stops it at the latest change
 * instead: the first position of the run of values that holds just before `from`,
 * when that run began after the stop (as rcontinue's watch stops). */
static rw_code watch_back_stop(rw_session *s, uint64_t from, rw_code rc, rw_stop *stop,
                               rw_err *err)
{
    if (rc != RW_OK || s->postmortem || s->pos >= from || !watched(s))
        return rc;
    uint64_t sp = 0;
    int wf = 0;
    rw_watch_change *ch = NULL;
    size_t nch = 0;
    RW_TRY(last_change(s, from, s->pos, s->pos, &sp, &wf, &ch, &nch, err));
    if (!wf)
        return RW_OK;
    begin_move(s);
    return watch_stop_at(s, sp, ch, nch, stop, err);
}

rw_code rw_session_watch_add(rw_session *s, const char *expr, int *number, char **value,
                             rw_err *err)
{
    if (s->postmortem)
        return rw_err_set(err, RW_EINVAL, "values are not kept past the uncaught exception: "
                          "'exceptions' lists where it was raised, 'goto N' goes there");
    if (!s->nframes)
        return rw_err_set(err, RW_EINVAL, "no Python frame here to watch in");
    if (s->selected > s->current)
        return rw_err_set(err, RW_EINVAL, "this frame of the traceback has returned: select "
                          "a frame of the stack (up, down) to watch in");
    const char *why = s->values->why(s->values->ctx);
    if (why)
        return rw_err_set(err, RW_EINVAL, "%s", why);
    if (s->nwatches == INT32_MAX)
        return rw_err_set(err, RW_ENOMEM, "too many watchpoints");
    rw_watchpoint **v = realloc(s->watches, ((size_t)s->nwatches + 1) * sizeof *v);
    if (!v)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    s->watches = v;
    s->watches[0] = NULL;
    rw_watchpoint *w = calloc(1, sizeof *w);
    if (!w || !(w->expr = strdup(expr))) {
        free(w);
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    }
    const rw_session_frame *f = &s->frames[s->selected];
    w->number = s->nwatches;
    w->thread = s->thread;
    w->frame_call = f->call_pos;
    w->code_id = f->code_id;
    /* Its value here, as the searches will see it. */
    s->watches[s->nwatches] = w;
    wsearch ws;
    char **vals;
    rw_code rc = wsearch_init(&ws, s, s->nwatches + 1, err);
    if (rc == RW_OK) {
        ws.w[ws.nw++] = w;
        rc = probe(&ws, s->pos, &vals, err);
        if (rc == RW_OK && !(*value = strdup(vals[0])))
            rc = rw_err_set(err, RW_ENOMEM, "out of memory");
        wsearch_fini(&ws);
    }
    if (rc != RW_OK) {
        s->watches[s->nwatches] = NULL;
        free(w->expr);
        free(w);
        return rc;
    }
    *number = s->nwatches++;
    return RW_OK;
}

int rw_session_watch_limit(const rw_session *s)
{
    return s->nwatches;
}

const rw_watchpoint *rw_session_watch_get(const rw_session *s, int n)
{
    return n > 0 && n < s->nwatches ? s->watches[n] : NULL;
}

void rw_session_watch_delete(rw_session *s, int n)
{
    assert(rw_session_watch_get(s, n));
    free(s->watches[n]->expr);
    free(s->watches[n]);
    s->watches[n] = NULL;
}

rw_code rw_session_watch_value(rw_session *s, int n, char **value, rw_err *err)
{
    const rw_watchpoint *w = rw_session_watch_get(s, n);
    assert(w);
    if (s->postmortem)
        return rw_err_set(err, RW_EINVAL, "values are not kept past the uncaught exception");
    if (w->thread != s->thread)
        return rw_err_set(err, RW_EINVAL, "watched in thread %u", w->thread);
    wsearch ws;
    char **vals;
    RW_TRY(wsearch_init(&ws, s, n, err));
    rw_code rc = probe(&ws, s->pos, &vals, err);
    if (rc == RW_OK && !(*value = strdup(vals[0])))
        rc = rw_err_set(err, RW_ENOMEM, "out of memory");
    wsearch_fini(&ws);
    return rc;
}

uint64_t rw_session_watch_probes(const rw_session *s)
{
    return s->probes;
}
