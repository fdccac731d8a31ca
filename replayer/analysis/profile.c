/* cProfile from a trace (profile.h).
 *
 * The scan mirrors Modules/_lsprof.c (3.11): a stack of contexts per thread, each
 * holding the time its call started (t0) and the time spent in its subcalls (subt);
 * an entry per function with callcount, recursivecallcount and recursionLevel (a
 * call is primitive when the function was not already running), and a subentry per
 * (caller, callee) pair counted the same way. Entries are arrays indexed by a dense
 * key (CodeDef id, or ncodes + CFuncDef id), so the per-event work is a few array
 * updates: a subentry is found through a one-slot cache in the caller's entry, and
 * only on a miss through an open-addressed table. The scan runs in batches
 * (scan.h): the pipeline's helper threads decode the next chunks into compact event
 * arrays (fill_batch) while this thread runs the state machine over the current one
 * (take_batch): decoding costs far more than the profile itself.
 *
 * Time is a virtual clock that advances by each event's tick delta minus the
 * recorder's measured per-event cost (never by less than zero, and the cost never
 * above the shortest gap between two events), which is what profile.py's
 * calibration does to every interval.
 *
 * opts.cprofile gives what `python3 -m cProfile` would have collected on the run
 * (docs/stats.md): the main script's <module> in cProfile's exec and disable, the
 * imports of modules cProfile had loaded left out and the sys.path walks it makes
 * differently modelled (ib_flush, the "imports cProfile would not have seen"
 * section), one function per label as snapshot_stats keeps them.
 */
#include "profile.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"
#include "scan.h"

/* ---- the chunks, decoded ahead (rw_scan_batches) --------------------------------- */

/* cev.imp of a _find_and_load CALL, from the "import" audit event before it: bits
 * 0-1 IMP_*, bits 2-7 the number of dots in the module's name plus 1 (0: unknown). */
enum { IMP_UNKNOWN = 0, IMP_PRELOADED, IMP_NEW };
#define IMP_KIND(x) ((x) & 3)
#define IMP_DOTS(x) ((int)((x) >> 2) - 1) /* -1: unknown */
#define IMP_DOTS_MAX 63

static int is_cprofile_module(const char *name, size_t len);

/* One event as the scan needs it. key: CALL/RETURN the CodeDef id, C_* ncodes + the
 * CFuncDef id, LINE the CodeDef id. */
typedef struct cev {
    uint64_t tick;
    uint64_t pos;
    uint32_t key;
    uint32_t line;
    uint32_t depth;
    uint32_t thread;
    uint32_t folded; /* untimed LINE events just before this one, left out */
    uint8_t kind;
    uint8_t imp;     /* CALL: IMP_* from an "import" audit event at its position */
    uint8_t mod;     /* ... and its module: 1 + index in cprofile_modules, 0: none */
} cev;

/* One chunk's events in the window, as a helper thread filled them. */
typedef struct batch {
    cev *v;
    size_t n, cap;
    uint64_t folded;      /* LINE events left out (fold_lines), in all */
    uint32_t tail_folded; /* of which after v[n - 1] */
    /* The shortest tick gap in the chunk between two events with nothing between
     * them (UINT64_MAX: none): one event's hook costs no more (scan_state.calib). */
    uint64_t min_gap;
} batch;

/* What the helper threads read (never write) while they fill batches. */
typedef struct fill_ctx {
    uint64_t from, to;       /* events kept: [from, to], to only for the clock */
    uint32_t ncodes;
    unsigned time_shift;
    /* Leave out a LINE event that has the tick of the event kept before it in its
     * chunk (untimed lines): without line stats it only adds its calibration debt,
     * which scan adds for it from cev.folded. Saves the scan most of its events. */
    int fold_lines;
    /* NameDef id of the "import" audit event, 0: no cev.imp (opts.cprofile only). */
    uint32_t import_name;
} fill_ctx;

/* Appends an event to b, carrying the lines folded before it; NULL when b is full
 * (the chunk holds more events than its index says). */
static cev *batch_push(batch *b, size_t *n, uint32_t *folded)
{
    if (RW_UNLIKELY(*n == b->cap))
        return NULL;
    cev *c = &b->v[(*n)++];
    b->folded += *folded;
    c->folded = *folded;
    *folded = 0;
    return c;
}

/* Fills a LINE event pushed by take_lines (batch_push has set its folded). Key, line
 * and depth are only read with line stats, and then lines are never passed over. */
static void line_cev(cev *c, uint64_t tick, uint64_t pos, uint32_t thread)
{
    c->tick = tick;
    c->pos = pos;
    c->kind = RW_K_LINE;
    c->thread = thread;
    c->key = c->line = c->depth = 0;
    c->imp = IMP_UNKNOWN;
    c->mod = 0;
}

/* Takes the untimed LINE events at positions p .. p + run - 1, which the decoder
 * passed over (RW_DECODE_SKIP_UNTIMED_LINES) and which all have the tick of the event
 * before them, as fill_batch's loop takes LINE events one by one: before `from`
 * left out, the first kept unless it can fold, the others folded, and the first at
 * or past `to` kept to end the window. Returns 1 when the window ended, -1 when b is
 * full, else 0. */
static int take_lines(const fill_ctx *fc, batch *b, size_t *n, uint32_t *folded, uint64_t p,
                      uint64_t run, uint64_t tick, uint32_t thread)
{
    uint64_t lo = p > fc->from ? p : fc->from, hi = p + run;
    if (lo >= hi)
        return 0;
    uint64_t cut = hi < fc->to ? hi : fc->to; /* [lo, cut): inside the window */
    if (cut > lo) {
        uint64_t m = cut - lo;
        if (!(*n && b->v[*n - 1].tick == tick)) {
            cev *c = batch_push(b, n, folded);
            if (!c)
                return -1;
            line_cev(c, tick, lo, thread);
            m--;
        }
        *folded += (uint32_t)m; /* a chunk holds fewer than 2^32 records */
    }
    uint64_t q = lo > fc->to ? lo : fc->to;
    if (q < hi) {
        cev *c = batch_push(b, n, folded);
        if (!c)
            return -1;
        line_cev(c, tick, q, thread);
        return 1;
    }
    return 0;
}

/* rw_scan_batch_ops.fill: decodes chunk i into *out, a batch reused from chunk to
 * chunk. Runs on a helper thread. */
static rw_code fill_batch(const void *ctx, size_t i, const rw_chunk_info *ci, rw_decoder *d,
                          void **out, rw_err *err)
{
    const fill_ctx *fc = ctx;
    batch *b = *out;
    if (!b) {
        b = *out = calloc(1, sizeof *b);
        if (!b)
            return rw_err_set(err, RW_ENOMEM, "out of memory");
    }
    b->n = 0;
    b->folded = 0;
    b->tail_folded = 0;
    size_t need = ci->event_count + 1;
    if (need > b->cap) {
        cev *v = realloc(b->v, need * sizeof *v);
        if (!v)
            return rw_err_set(err, RW_ENOMEM, "out of memory");
        b->v = v;
        b->cap = need;
    }
    const uint64_t from = fc->from, to = fc->to;
    const uint32_t ncodes = fc->ncodes;
    const int fold = fc->fold_lines;
    const unsigned shift = fc->time_shift;
    const uint64_t end = ci->first_event + ci->event_count;
    uint64_t tick = (ci->first_tick >> shift) << shift; /* of the last event decoded */
    uint64_t skipped = 0; /* LINE events the decoder passed over, taken */
    uint32_t thread = rw_decoder_thread(d); /* current after the last record */
    rw_event ev;
    int k, full = 0;
    size_t n = 0;
    uint32_t folded = 0;
    uint8_t imp = IMP_UNKNOWN, mod = 0;
    uint64_t imp_pos = 0, min_gap = UINT64_MAX;
    uint64_t hooks = 0; /* events since the tick last moved */
    while ((k = rw_decoder_next(d, &ev, err)) >= 0) {
        uint64_t run = rw_decoder_lines_skipped(d) - skipped;
        if (run) { /* the events just before this record (or the chunk's end) */
            skipped += run;
            hooks += run;
            int t = take_lines(fc, b, &n, &folded, (k ? ev.pos : end) - run, run, tick, thread);
            full = t < 0;
            if (t != 0)
                break;
        }
        if (k == 0)
            break;
        thread = ev.thread;
        if (ev.kind == RW_K_AUDIT && fc->import_name && ev.name == fc->import_name) {
            /* sys.audit("import", name, ...) from import.c, just before it calls
             * _find_and_load(name): the arguments' repr starts "('name', ". */
            imp = IMP_UNKNOWN;
            if (ev.text && ev.text_len > 2 && ev.text[0] == '(' && ev.text[1] == '\'') {
                const char *q = memchr(ev.text + 2, '\'', ev.text_len - 2);
                if (q) {
                    size_t len = (size_t)(q - ev.text - 2), dots = 0;
                    for (size_t j = 0; j < len; j++)
                        dots += ev.text[2 + j] == '.';
                    mod = (uint8_t)is_cprofile_module(ev.text + 2, len);
                    imp = (mod ? IMP_PRELOADED : IMP_NEW) |
                          (uint8_t)((dots < IMP_DOTS_MAX ? dots + 1 : IMP_DOTS_MAX) << 2);
                    imp_pos = ev.pos;
                }
            }
        }
        if (!RW_IS_EVENT(ev.kind))
            continue;
        if (ev.tick > tick) {
            if (hooks == 1 && ev.tick - tick < min_gap)
                min_gap = ev.tick - tick; /* two events with nothing between them */
            hooks = 0;
        }
        hooks++;
        tick = ev.tick;
        if (ev.pos < from)
            continue;
        if (fold && ev.kind == RW_K_LINE && n && ev.tick == b->v[n - 1].tick && ev.pos < to) {
            folded++;
            continue;
        }
        cev *c = batch_push(b, &n, &folded);
        if (!c) {
            full = 1;
            break;
        }
        c->tick = ev.tick;
        c->pos = ev.pos;
        c->kind = ev.kind;
        c->thread = ev.thread;
        c->line = ev.line;
        c->depth = ev.depth;
        c->key = ev.kind >= RW_K_C_CALL && ev.kind <= RW_K_C_EXCEPTION ? ncodes + ev.code
                                                                       : ev.code;
        c->imp = ev.kind == RW_K_CALL && imp_pos == ev.pos ? imp : IMP_UNKNOWN;
        c->mod = c->imp != IMP_UNKNOWN ? mod : 0;
        if (ev.kind == RW_K_CALL)
            imp = IMP_UNKNOWN;
        if (ev.pos >= to)
            break;
    }
    b->n = n;
    b->folded += folded;
    b->tail_folded = folded;
    b->min_gap = min_gap;
    if (k < 0)
        return err->code;
    if (full)
        return rw_err_set(err, RW_ECORRUPT, "chunk %zu holds more events than its index says",
                          i);
    return RW_OK;
}

static void free_batch(void *p)
{
    batch *b = p;
    free(b->v);
    free(b);
}

/* ---- the _lsprof state ---------------------------------------------------------- */

/* ProfilerEntry. order != 0 once created (1 + index in first-call order). */
typedef struct entry {
    double tt, it;           /* total and inline time, virtual ticks */
    uint64_t calls, rec;     /* callcount, recursivecallcount */
    int64_t level;           /* recursionLevel */
    uint32_t cache_callee;   /* last subentry looked up from this caller */
    uint32_t cache_sub;
    uint32_t order;
} entry;

/* ProfilerSubEntry: calls from caller to callee. */
typedef struct sub {
    uint32_t caller, callee;
    int64_t level;
    uint64_t calls, rec;
    double tt, it;
} sub;

/* ProfilerContext. sub: the subentry of (caller, key) found at the call, 0 if none. */
typedef struct pctx {
    double t0, subt;
    uint32_t key;
    uint32_t sub;
} pctx;

/* A LINE whose time is still running in one frame (code 0: none). */
typedef struct lpend {
    uint32_t code, line;
    double t0;
} lpend;

typedef struct tstate {
    pctx *v;
    uint32_t n, cap;
    lpend *lp;               /* by stack depth */
    uint32_t lcap;
} tstate;

typedef struct lstat {
    uint64_t hits;
    double time;
} lstat;

typedef struct lines_of {
    lstat *v;                /* by line number */
    uint32_t n;
} lines_of;

typedef struct prof {
    const rw_reader *r;
    const rw_defs *defs;
    uint32_t ncodes;         /* keys < ncodes are CodeDef ids, others ncodes + CFuncDef */
    uint32_t nkeys;
    entry *e;
    uint32_t *order;         /* keys in first-call order */
    uint32_t norder;
    sub *s;                  /* s[0] unused */
    uint32_t nsub, capsub;
    uint32_t *tab;           /* open-addressed: sub index or 0 */
    uint32_t tabbits;
    tstate *t;               /* by ThreadDef id */
    uint32_t nt;
    lines_of *lines;         /* by CodeDef id, when collecting lines */
    double now;              /* virtual clock */
    int oom;
    /* Labels: the main script's files (by FileDef id, nfiles bytes) are named
     * main_label, the path as given, as cProfile names them (NULL: keep the path). */
    const uint8_t *main_files;
    const char *main_label;
    /* The keys past the trace's functions: cProfile's own exec and disable, and the
     * getcwd its sys.path makes importlib call, when the trace has no such C function
     * (keys xkey, xkey + 1, xkey + 2). */
    uint32_t xkey;
    uint8_t *role;           /* by CodeDef id: ROLE_* (opts.cprofile), else NULL */
    uint8_t *mod_of_code;    /* by CodeDef id: a preloaded module's <module>: 1 + index */
    uint8_t loaded[64];      /* by cprofile_modules index: loaded once in the window */
    uint32_t import_key;     /* builtins.__import__'s key, UINT32_MAX: none */
    uint32_t format_key;     /* str.format's key, UINT32_MAX: none */
    int snapshot;            /* labels as snapshot_stats keeps them (opts.cprofile) */
    /* cProfile's sys.path (ib_flush): isinstance's key, getcwd's key, and whether the
     * script's directory is given as '' (a script named without a '/'). */
    uint32_t isinstance_key, getcwd_key;
    int entry0;              /* E0_*: cProfile's sys.path[0], dirname(script) as given */
    /* _path_join (its code, its list comprehension's, str.rstrip, str.join): what
     * FileFinder.__init__ calls to make a relative entry absolute. */
    uint32_t join_key, join_listcomp_key, rstrip_key, strjoin_key;
} prof;

static inline uint32_t tab_slot(uint64_t k, uint32_t bits)
{
    return (uint32_t)((k * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - bits));
}

static int tab_grow(prof *p)
{
    uint32_t bits = p->tabbits ? p->tabbits + 1 : 10;
    uint32_t *t = calloc((size_t)1 << bits, sizeof *t);
    if (!t)
        return -1;
    uint32_t mask = (1u << bits) - 1;
    for (uint32_t i = 1; i <= p->nsub; i++) {
        uint64_t k = ((uint64_t)p->s[i].caller << 32) | p->s[i].callee;
        uint32_t h = tab_slot(k, bits);
        while (t[h])
            h = (h + 1) & mask;
        t[h] = i;
    }
    free(p->tab);
    p->tab = t;
    p->tabbits = bits;
    return 0;
}

/* getSubEntry / newSubEntry: the subentry of (caller, callee), created when create
 * is set. 0 when absent (or out of memory: p->oom). */
static uint32_t get_sub(prof *p, uint32_t caller, uint32_t callee, int create)
{
    entry *ce = &p->e[caller];
    if (ce->cache_sub && ce->cache_callee == callee)
        return ce->cache_sub;
    uint64_t k = ((uint64_t)caller << 32) | callee;
    uint32_t mask = (1u << p->tabbits) - 1;
    uint32_t h = tab_slot(k, p->tabbits);
    for (;; h = (h + 1) & mask) {
        uint32_t i = p->tab[h];
        if (!i)
            break;
        if (p->s[i].caller == caller && p->s[i].callee == callee) {
            ce->cache_callee = callee;
            ce->cache_sub = i;
            return i;
        }
    }
    if (!create)
        return 0;
    if (p->nsub + 1 >= p->capsub) {
        uint32_t cap = p->capsub * 2;
        sub *ns = realloc(p->s, (size_t)cap * sizeof *ns);
        if (!ns) {
            p->oom = 1;
            return 0;
        }
        p->s = ns;
        p->capsub = cap;
    }
    uint32_t i = ++p->nsub;
    memset(&p->s[i], 0, sizeof p->s[i]);
    p->s[i].caller = caller;
    p->s[i].callee = callee;
    if ((uint64_t)p->nsub * 2 > ((uint64_t)1 << p->tabbits)) {
        if (tab_grow(p) < 0) {
            p->nsub--;
            p->oom = 1;
            return 0;
        }
    } else {
        p->tab[h] = i;
    }
    ce->cache_callee = callee;
    ce->cache_sub = i;
    return i;
}

static tstate *thread_state(prof *p, uint32_t th)
{
    if (RW_UNLIKELY(th >= p->nt)) {
        uint32_t n = th + 8;
        tstate *t = realloc(p->t, (size_t)n * sizeof *t);
        if (!t) {
            p->oom = 1;
            return NULL;
        }
        memset(t + p->nt, 0, (size_t)(n - p->nt) * sizeof *t);
        p->t = t;
        p->nt = n;
    }
    return &p->t[th];
}

/* initContext. */
static void enter(prof *p, tstate *t, uint32_t key)
{
    entry *e = &p->e[key];
    if (RW_UNLIKELY(!e->order)) {
        p->order[p->norder++] = key;
        e->order = p->norder;
    }
    if (RW_UNLIKELY(t->n == t->cap)) {
        uint32_t cap = t->cap ? t->cap * 2 : 64;
        pctx *v = realloc(t->v, (size_t)cap * sizeof *v);
        if (!v) {
            p->oom = 1;
            return;
        }
        t->v = v;
        t->cap = cap;
    }
    pctx *c = &t->v[t->n++];
    c->key = key;
    c->subt = 0;
    c->sub = 0;
    e->level++;
    if (t->n > 1) {
        uint32_t s = get_sub(p, t->v[t->n - 2].key, key, 1);
        if (s)
            p->s[s].level++;
        c->sub = s;
    }
    c->t0 = p->now;
}

/* ptrace_leave_call + Stop: key is the function returning. */
static void leave(prof *p, tstate *t, uint32_t key)
{
    if (t->n == 0)
        return; /* a frame opened before the window */
    pctx *c = &t->v[--t->n];
    entry *e = &p->e[key];
    if (RW_UNLIKELY(!e->order))
        return; /* never entered: _lsprof only drops the context */
    double tt = p->now - c->t0;
    double it = tt - c->subt;
    if (t->n > 0)
        t->v[t->n - 1].subt += tt;
    if (--e->level == 0)
        e->tt += tt;
    else
        e->rec++;
    e->it += it;
    e->calls++;
    if (t->n > 0) {
        uint32_t s = RW_LIKELY(key == c->key) ? c->sub : get_sub(p, t->v[t->n - 1].key, key, 0);
        if (s) {
            sub *se = &p->s[s];
            if (--se->level == 0)
                se->tt += tt;
            else
                se->rec++;
            se->it += it;
            se->calls++;
        }
    }
}

/* Line numbers and depths past these are not tracked (a corrupt trace's; CPython's
 * are far below). */
#define LINE_MAX_TRACKED (UINT32_C(1) << 24)

static lpend *line_slot(prof *p, tstate *t, uint32_t depth)
{
    if (RW_UNLIKELY(depth >= LINE_MAX_TRACKED))
        return NULL;
    if (RW_UNLIKELY(depth >= t->lcap)) {
        uint32_t cap = depth + 64;
        lpend *v = realloc(t->lp, (size_t)cap * sizeof *v);
        if (!v) {
            p->oom = 1;
            return NULL;
        }
        memset(v + t->lcap, 0, (size_t)(cap - t->lcap) * sizeof *v);
        t->lp = v;
        t->lcap = cap;
    }
    return &t->lp[depth];
}

static lstat *line_stat(prof *p, uint32_t code, uint32_t line)
{
    if (RW_UNLIKELY(code >= p->ncodes || line >= LINE_MAX_TRACKED))
        return NULL;
    lines_of *lo = &p->lines[code];
    if (RW_UNLIKELY(line >= lo->n)) {
        uint32_t n = line + 32;
        lstat *v = realloc(lo->v, (size_t)n * sizeof *v);
        if (!v) {
            p->oom = 1;
            return NULL;
        }
        memset(v + lo->n, 0, (size_t)(n - lo->n) * sizeof *v);
        lo->v = v;
        lo->n = n;
    }
    return &lo->v[line];
}

static void line_close(prof *p, lpend *lp)
{
    if (lp->code) {
        lstat *ls = line_stat(p, lp->code, lp->line);
        if (ls)
            ls->time += p->now - lp->t0;
        lp->code = 0;
    }
}

/* ---- the scan ------------------------------------------------------------------- */

void rw_profile_opts_default(rw_profile_opts *o)
{
    memset(o, 0, sizeof *o);
    o->to = UINT64_MAX;
    o->calibrate = 1;
}

static void prof_fini(prof *p)
{
    for (uint32_t i = 0; i < p->nt; i++) {
        free(p->t[i].v);
        free(p->t[i].lp);
    }
    free(p->t);
    if (p->lines)
        for (uint32_t i = 0; i < p->ncodes; i++)
            free(p->lines[i].v);
    free(p->lines);
    free(p->e);
    free(p->order);
    free(p->s);
    free(p->tab);
    free(p->role);
    free(p->mod_of_code);
}

/* code_role: what the import filter needs to know of a code. */
enum { ROLE_NONE = 0, ROLE_FIND_AND_LOAD, ROLE_CWFR, ROLE_GCD_IMPORT, ROLE_HANDLE_FROMLIST,
       ROLE_MODULE, ROLE_MODULE_PRELOADED, ROLE_GET_SPEC, ROLE_PATH_IMPORTER_CACHE,
       ROLE_PATH_HOOKS, ROLE_FILEFINDER_INIT, ROLE_FILL_CACHE, ROLE_PATH_ISABS,
       ROLE_FIND_AND_LOAD_UNLOCKED };

#define IB_MAX ((size_t)1 << 20) /* events held at most (ibuf) */

/* cProfile's sys.path[0]: unknown (not a script), '' (then _path_importer_cache('')
 * calls getcwd, and finds the working directory's finder made before profiling),
 * the working directory itself, another absolute directory, '.' or another relative
 * path (a new finder, which FileFinder.__init__ makes absolute with getcwd). */
enum { E0_NONE = 0, E0_EMPTY, E0_CWD, E0_ABS, E0_DOT, E0_REL };

typedef struct ibuf_ev {
    cev ev;
    double now;
} ibuf_ev;

typedef struct ibuf {
    ibuf_ev *v;
    size_t n, cap;
    uint32_t depth;          /* of the outermost held call */
    size_t *match;           /* scratch: index of each CALL's return */
    size_t *stk;
} ibuf;

/* The scan's state between chunks (rw_scan_batch_ops.take runs once per chunk). */
typedef struct scan_state {
    prof *p;
    const rw_profile_opts *o;
    uint64_t to;         /* the window's end */
    uint64_t total;      /* events in the window, for progress */
    /* Per-event cost subtracted from the clock: Metadata.calib_ns_per_event, but
     * never more than min_gap, the shortest gap between two consecutive events of the
     * chunks taken so far (a busy machine can make the recorder's one measurement at
     * start-up 100 times too high, which would make every time 0). */
    double calib_ticks;
    uint64_t min_gap;
    uint64_t last_tick;  /* of the last event taken */
    uint64_t n;          /* events scanned */
    double debt;         /* calibration not yet subtracted */
    int started;         /* an event was taken: last_tick is set */
    /* opts.cprofile: CP_WAIT until the CALL of a code in start (by CodeDef id) in
     * thread only, CP_IN while it runs, CP_DONE after its RETURN. */
    int cp;
    const uint8_t *start;
    uint32_t exec_key, disable_key;
    /* A -m run: the CodeDef id of runpy's _run_module_as_main (0: none, or a script).
     * Its CALL arms the window at the depth of its callees (arm_depth); the first
     * call at that depth (_get_module_details, which imports the module's package)
     * opens it, and the RETURN of _run_module_as_main closes it (mod_depth: the
     * depth of its callees once open, 0 for a script's window). */
    uint32_t rmam_key;
    uint32_t arm_depth, mod_depth;
    uint64_t win_from, win_to;
    ibuf ib;             /* CP_IN: the events of an import held until it ends */
} scan_state;

enum { CP_OFF = 0, CP_WAIT, CP_IN, CP_DONE };

/* The end of cProfile's window: the exec around the main code returns and runctx
 * calls disable, which _lsprof's flush_unmatched stops at once. */
static void cp_close(prof *p, tstate *t, const scan_state *ss)
{
    while (t->n > 0)
        leave(p, t, t->v[t->n - 1].key);
    enter(p, t, ss->disable_key);
    leave(p, t, ss->disable_key);
}

/* One event through the _lsprof state of thread t (and the line times). */
static inline void apply_ev(prof *p, tstate *t, const cev *ev, int lines)
{
    switch (ev->kind) {
    case RW_K_CALL:
    case RW_K_C_CALL:
        enter(p, t, ev->key);
        if (lines && ev->kind == RW_K_CALL) {
            lpend *lp = line_slot(p, t, ev->depth);
            if (lp)
                lp->code = 0;
        }
        break;
    case RW_K_RETURN:
        leave(p, t, ev->key);
        if (lines) {
            lpend *lp = line_slot(p, t, ev->depth);
            if (lp)
                line_close(p, lp);
        }
        break;
    case RW_K_C_RETURN:
    case RW_K_C_EXCEPTION:
        leave(p, t, ev->key);
        break;
    case RW_K_LINE:
        if (lines && ev->key) {
            lpend *lp = line_slot(p, t, ev->depth);
            if (lp) {
                line_close(p, lp);
                lstat *ls = line_stat(p, ev->key, ev->line);
                if (ls)
                    ls->hits++;
                lp->code = ev->key;
                lp->line = ev->line;
                lp->t0 = p->now;
            }
        }
        break;
    default:
        break;
    }
}

/* ---- imports cProfile would not have seen ------------------------------------------- *
 *
 * `python3 -m cProfile` imports 50-odd modules before it profiles (pstats, re, typing,
 * inspect, ...: cprofile_modules), so the program's own imports of them find them in
 * sys.modules and make no call; a plain run (and so the recording) imports them at the
 * program's first import. In cProfile's window the profile leaves those loads out:
 *   - a call of importlib's _find_and_load that loads such a module (the name from
 *     the "import" audit event import.c raises just before calling it, or else the
 *     file of the <module> code the load itself runs), with everything under it;
 *   - a call of _call_with_frames_removed whose _gcd_import leads to such a load (the
 *     parent package of `import a.b`, a submodule `from a import b` brings), which
 *     cProfile's run never makes because the module is already there.
 * Such calls are known only at their end, so their events are held in ib (with the
 * clock at each) from the outermost one's CALL to its RETURN, then run through the
 * state with the loads left out, the clock not advancing during them. A held import
 * that grows past IB_MAX events is run through as it is (calls still running are
 * kept), and what follows it goes through live. */

/* The modules `python3 -m cProfile` (Debian's python3.11) has imported before it
 * starts profiling and a plain `python3 script.py` under rewind has not: sorted
 * set(sys.modules) of a script run both ways (tests/e2e/test_stats.py checks it). */
static const char *const cprofile_modules[] = {
    /* cprofile-modules-begin */
    "_ast", "_collections", "_functools", "_locale", "_lsprof", "_opcode", "_operator",
    "_sre", "_typing", "_weakrefset", "ast", "collections", "collections.abc",
    "contextlib", "copy", "copyreg", "dataclasses", "dis", "enum", "errno", "functools",
    "gettext", "importlib", "importlib._abc", "importlib._bootstrap",
    "importlib._bootstrap_external", "importlib.machinery", "importlib.util", "inspect",
    "itertools", "keyword", "linecache", "locale", "opcode", "operator", "optparse",
    "profile", "pstats", "re", "re._casefix", "re._compiler", "re._constants",
    "re._parser", "reprlib", "runpy", "textwrap", "token", "tokenize", "types", "typing",
    "typing.io", "typing.re", "warnings", "weakref",
    /* cprofile-modules-end */
};
#define NCPROFILE_MODULES (sizeof cprofile_modules / sizeof cprofile_modules[0])
_Static_assert(NCPROFILE_MODULES <= 64, "prof.loaded has 64 entries");

/* 1 + the index of name in cprofile_modules, 0 when it is not there. */
static int is_cprofile_module(const char *name, size_t len)
{
    for (size_t i = 0; i < NCPROFILE_MODULES; i++)
        if (strlen(cprofile_modules[i]) == len && !memcmp(cprofile_modules[i], name, len))
            return (int)i + 1;
    return 0;
}


static int ib_push(prof *p, ibuf *b, const cev *ev)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        ibuf_ev *v = realloc(b->v, cap * sizeof *v);
        if (!v) {
            p->oom = 1;
            return -1;
        }
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n].ev = *ev;
    b->v[b->n].now = p->now;
    b->n++;
    return 0;
}

static int is_call(uint8_t k)
{
    return k == RW_K_CALL || k == RW_K_C_CALL;
}

static int is_ret(uint8_t k)
{
    return k == RW_K_RETURN || k == RW_K_C_RETURN || k == RW_K_C_EXCEPTION;
}

/* The module the _find_and_load call held at [k, m] loads, as 1 + its index in
 * cprofile_modules (0: another one, or not known): from the audit event before it,
 * or the first <module> it runs that is not under a nested load. */
static int fal_module(const prof *p, const ibuf *b, size_t k, size_t m)
{
    /* None in sys.modules (a blocked import): it raises without loading, under
     * cProfile too. Else it calls _find_and_load_unlocked first. */
    size_t u = k + 1;
    while (u < m && u < b->n && b->v[u].ev.kind == RW_K_LINE)
        u++;
    for (; u < m && u < b->n; u++) {
        const cev *e = &b->v[u].ev;
        if (e->kind == RW_K_CALL && e->key < p->ncodes &&
            p->role[e->key] == ROLE_FIND_AND_LOAD_UNLOCKED)
            break;
        if (is_call(e->kind) && b->match[u] < m)
            u = b->match[u];
    }
    if (u >= m || u >= b->n)
        return 0;
    if (IMP_KIND(b->v[k].ev.imp) != IMP_UNKNOWN)
        return b->v[k].ev.mod;
    for (size_t i = k + 1; i < m && i < b->n; i++) {
        const cev *e = &b->v[i].ev;
        if (e->kind != RW_K_CALL || e->key >= p->ncodes)
            continue;
        uint8_t role = p->role[e->key];
        if (role == ROLE_FIND_AND_LOAD)
            i = b->match[i];
        else if (role == ROLE_MODULE || role == ROLE_MODULE_PRELOADED)
            return p->mod_of_code[e->key];
    }
    return 0;
}

/* A held call at [k, m] that cProfile's run would not have made: returns the module
 * whose load it is (as fal_module), 0 to keep the call. Only a module's first load
 * is left out (a second one means the program took it out of sys.modules, which it
 * does under cProfile too), and only a load made by an import statement or for one
 * (import.c's audit event, a parent package, a fromlist): importlib.import_module
 * reaches _find_and_load under cProfile too, and test.support's import_fresh_module
 * takes the module out of sys.modules first. */
static int drop_call(const prof *p, const ibuf *b, size_t k, size_t m)
{
    const cev *e = &b->v[k].ev;
    if (e->kind != RW_K_CALL || e->key >= p->ncodes || m >= b->n)
        return 0;
    int mod = 0;
    if (p->role[e->key] == ROLE_FIND_AND_LOAD) {
        if (IMP_KIND(e->imp) == IMP_UNKNOWN)
            return 0;
        mod = fal_module(p, b, k, m);
    } else if (p->role[e->key] == ROLE_CWFR) {
        /* _call_with_frames_removed(import_, name): its first call is import_
         * (_gcd_import, or builtins.__import__ and import.c), which calls
         * _find_and_load. */
        size_t g = k + 1;
        if (g >= m || !is_call(b->v[g].ev.kind))
            return 0;
        uint32_t gk = b->v[g].ev.key;
        if (!(gk < p->ncodes && p->role[gk] == ROLE_GCD_IMPORT) && gk != p->import_key)
            return 0; /* _handle_fromlist passes builtins.__import__ as import_ */
        for (size_t i = g + 1; i < b->match[g] && i < b->n; i++) {
            const cev *c = &b->v[i].ev;
            if (!is_call(c->kind))
                continue;
            if (c->kind == RW_K_CALL && c->key < p->ncodes &&
                p->role[c->key] == ROLE_FIND_AND_LOAD) {
                mod = fal_module(p, b, i, b->match[i]);
                break;
            }
            i = b->match[i];
        }
    }
    return mod && !p->loaded[mod - 1] ? mod : 0;
}

/* One call of key, taking no time. */
static void zero_call(prof *p, tstate *t, uint32_t key)
{
    enter(p, t, key);
    leave(p, t, key);
}

/* What FileFinder.__init__ of cProfile's relative sys.path[0] calls and the absolute
 * one of the recording does not: getcwd(), and for a path other than '.'
 * _path_join(getcwd(), path) (its comprehension, two rstrip, a join). */
static void abspath_calls(prof *p, tstate *t, int join)
{
    zero_call(p, t, p->getcwd_key);
    if (!join || p->join_key == UINT32_MAX || p->join_listcomp_key == UINT32_MAX ||
        p->rstrip_key == UINT32_MAX || p->strjoin_key == UINT32_MAX)
        return;
    enter(p, t, p->join_key);
    enter(p, t, p->join_listcomp_key);
    zero_call(p, t, p->rstrip_key);
    zero_call(p, t, p->rstrip_key);
    leave(p, t, p->join_listcomp_key);
    zero_call(p, t, p->strjoin_key);
    leave(p, t, p->join_key);
}

/* Runs the held events through thread t's state, leaving out the loads cProfile would
 * not have made, and empties the buffer. The clock stands still while a left-out
 * call runs. */
static void ib_flush(prof *p, ibuf *b, tstate *t, int lines)
{
    size_t n = b->n;
    if (!n)
        return;
    size_t *match = realloc(b->match, n * sizeof *match);
    size_t *stk = match ? realloc(b->stk, n * sizeof *stk) : NULL;
    if (match)
        b->match = match;
    if (stk)
        b->stk = stk;
    if (!match || !stk) {
        p->oom = 1;
        b->n = 0;
        return;
    }
    size_t sp = 0;
    for (size_t i = 0; i < n; i++) {
        match[i] = n; /* no return held: runs to the end */
        if (is_call(b->v[i].ev.kind))
            stk[sp++] = i;
        else if (is_ret(b->v[i].ev.kind) && sp)
            match[stk[--sp]] = i;
    }
    /* cProfile's sys.path: the _find_and_load calls running (where each ends, its
     * depth, the dots in its module's name, -1 unknown) and the walk of sys.path by a
     * PathFinder._get_spec (walk_*). */
    enum { FAL_MAX = 64 };
    size_t fal_end[FAL_MAX];
    uint32_t fal_depth[FAL_MAX];
    int fal_dots[FAL_MAX], nfal = 0;
    size_t dup_from = 0, dup_to = SIZE_MAX, it1_from = SIZE_MAX, it1_to = 0;
    uint32_t walk_depth = 0, ff_depth = 0; /* ff_depth: a FileFinder.__init__ running */
    int walk_cwd = 0;
    const int cached = p->entry0 == E0_EMPTY || p->entry0 == E0_CWD;
    double skew = 0;
    for (size_t i = 0; i < n; i++) {
        while (nfal && i > fal_end[nfal - 1])
            nfal--;
        if (i == dup_to) {
            /* cProfile's sys.path has one more entry (the working directory, whose
             * finder it made before profiling) before the ones the recorded walk went
             * on to, and the module is not there either: the first entry's iteration
             * once more, with its finder found in the cache and its directory listing
             * read already, taking no time. */
            for (size_t k = dup_from; k < dup_to; k++) {
                const cev *c = &b->v[k].ev;
                if (c->kind == RW_K_CALL && c->key < p->ncodes &&
                    (p->role[c->key] == ROLE_PATH_HOOKS ||
                     p->role[c->key] == ROLE_FILL_CACHE) && match[k] < dup_to) {
                    k = match[k];
                    continue;
                }
                if (c->kind != RW_K_LINE)
                    apply_ev(p, t, c, lines);
            }
            dup_to = SIZE_MAX;
        }
        const int in_it1 = i >= it1_from && i < it1_to;
        if (in_it1 && p->entry0 == E0_DOT && b->v[i].ev.kind == RW_K_CALL &&
            b->v[i].ev.key < p->ncodes && p->role[b->v[i].ev.key] == ROLE_PATH_ISABS &&
            b->v[i].ev.depth == ff_depth + 1 && match[i] < n) {
            /* FileFinder('.') takes getcwd() without asking _path_isabs. */
            skew += b->v[match[i]].now - b->v[i].now;
            i = match[i];
            ff_depth = 0;
            continue;
        }
        if (in_it1 && cached && b->v[i].ev.kind == RW_K_CALL && b->v[i].ev.key < p->ncodes &&
            (p->role[b->v[i].ev.key] == ROLE_PATH_HOOKS ||
             p->role[b->v[i].ev.key] == ROLE_FILL_CACHE) && match[i] < n) {
            /* cProfile's first entry's finder was made and used before it profiled. */
            skew += b->v[match[i]].now - b->v[i].now;
            i = match[i];
            continue;
        }
        int mod = is_call(b->v[i].ev.kind) ? drop_call(p, b, i, match[i]) : 0;
        if (mod) {
            p->loaded[mod - 1] = 1;
            skew += b->v[match[i]].now - b->v[i].now;
            i = match[i];
            continue;
        }
        /* _handle_fromlist formats "pkg.name" only for a submodule pkg lacks: under
         * cProfile it has it. */
        if (b->v[i].ev.kind == RW_K_C_CALL && b->v[i].ev.key == p->format_key &&
            match[i] < n) {
            size_t k = match[i] + 1;
            while (k < n && b->v[k].ev.kind == RW_K_LINE)
                k++;
            if (k < n && (mod = drop_call(p, b, k, match[k])) != 0) {
                p->loaded[mod - 1] = 1;
                skew += b->v[match[k]].now - b->v[i].now;
                i = match[k];
                continue;
            }
        }
        p->now = b->v[i].now - skew;
        const cev *e = &b->v[i].ev;
        uint8_t role = e->kind == RW_K_CALL && e->key < p->ncodes ? p->role[e->key] : ROLE_NONE;
        if (role == ROLE_FIND_AND_LOAD && (mod = fal_module(p, b, i, match[i])) != 0)
            p->loaded[mod - 1] = 1; /* loaded here: a later load is the program's */
        if (role == ROLE_FIND_AND_LOAD && nfal < FAL_MAX) {
            int dots = IMP_DOTS(e->imp);
            /* No audit event: the parent package _find_and_load_unlocked imports
             * through _call_with_frames_removed and _gcd_import has one dot less. */
            if (dots < 0 && nfal && fal_depth[nfal - 1] + 4 == e->depth && fal_dots[nfal - 1] > 0)
                dots = fal_dots[nfal - 1] - 1;
            fal_end[nfal] = match[i];
            fal_depth[nfal] = e->depth;
            fal_dots[nfal++] = dots;
        } else if (role == ROLE_GET_SPEC) {
            /* Its iterations over the path start with isinstance(entry, str). */
            size_t it[2];
            int nit = 0;
            for (size_t k = i + 1; k < match[i] && k < n && nit < 2; k++) {
                const cev *c = &b->v[k].ev;
                if (c->kind == RW_K_C_CALL && c->depth == e->depth + 1 &&
                    c->key == p->isinstance_key)
                    it[nit++] = k;
                if (is_call(c->kind) && match[k] < n)
                    k = match[k];
            }
            int dots = nfal ? fal_dots[nfal - 1] : -1;
            int syswalk = p->entry0 != E0_NONE && (dots == 0 || (dots < 0 && nit >= 2));
            if (syswalk && nit >= 2) {
                dup_from = it[0];
                dup_to = it[1];
            }
            it1_from = syswalk && nit ? it[0] : SIZE_MAX;
            it1_to = syswalk && nit ? (nit >= 2 ? it[1] : match[i]) : 0;
            walk_cwd = syswalk && p->entry0 == E0_EMPTY;
            walk_depth = e->depth;
        }
        apply_ev(p, t, e, lines);
        if (in_it1 && role == ROLE_FILEFINDER_INIT &&
            (p->entry0 == E0_DOT || p->entry0 == E0_REL)) {
            abspath_calls(p, t, p->entry0 == E0_REL);
            ff_depth = e->depth;
        }
        if (walk_cwd && role == ROLE_PATH_IMPORTER_CACHE && e->depth == walk_depth + 1) {
            /* cProfile's first entry is '': _path_importer_cache('') calls getcwd. */
            enter(p, t, p->getcwd_key);
            leave(p, t, p->getcwd_key);
            walk_cwd = 0;
        }
    }
    p->now = b->v[n - 1].now - skew;
    b->n = 0;
}

/* rw_scan_batch_ops.take: runs one chunk's events through the _lsprof state. Returns
 * 1 once the window has ended. Kept in this file, with its helpers inlined: it is the
 * per-event loop. */
static int take_batch(void *ctx, size_t ci, void *bp, rw_err *err)
{
    (void)ci;
    scan_state *ss = ctx;
    prof *p = ss->p;
    const batch *b = bp;
    const uint32_t only = ss->o->thread;
    const int lines = ss->o->lines;
    const uint64_t to = ss->to;
    if (b->min_gap < ss->min_gap)
        ss->min_gap = b->min_gap;
    if ((double)ss->min_gap < ss->calib_ticks)
        ss->calib_ticks = (double)ss->min_gap; /* the recorder's measure cannot be right */
    const double calib_ticks = ss->calib_ticks;
    uint64_t last_tick = ss->last_tick;
    double debt = ss->debt;
    int started = ss->started, done = 0;
    for (size_t i = 0; i < b->n; i++) {
        const cev *ev = &b->v[i];
        /* The clock: each event ends the interval that began at the one before. */
        if (RW_LIKELY(started)) {
            /* Untimed events (LINE when the recorder leaves lines untimed) carry
             * the previous tick: their hook's cost is subtracted from the next
             * interval that has a length. Folded lines add theirs one by one,
             * so that the sums stay those of the events taken one at a time. */
            for (uint32_t j = 0; j < ev->folded; j++)
                debt += calib_ticks;
            debt += calib_ticks;
            if (ev->tick > last_tick) {
                double dt = (double)(ev->tick - last_tick) - debt;
                if (dt > 0)
                    p->now += dt;
                debt = 0;
            }
        }
        started = 1;
        last_tick = ev->tick;
        if (ev->pos >= to) {
            done = 1; /* this event only closes the window's last interval */
            break;
        }
        if (only && ev->thread != only)
            continue;
        tstate *t = thread_state(p, ev->thread);
        if (RW_UNLIKELY(!t))
            break;
        if (RW_UNLIKELY(ss->cp != CP_OFF)) {
            if (ss->cp == CP_WAIT) {
                /* A module of cprofile_modules loaded before the window (runpy's imports
                 * for -m) is in sys.modules in both runs: a load in the window is then
                 * a program's reload (import_fresh_module), which cProfile sees too. */
                if (ev->kind == RW_K_CALL && ev->key < p->ncodes) {
                    if (p->mod_of_code[ev->key])
                        p->loaded[p->mod_of_code[ev->key] - 1] = 1;
                    else if (p->role[ev->key] == ROLE_FIND_AND_LOAD && ev->mod)
                        p->loaded[ev->mod - 1] = 1;
                }
                if (ss->rmam_key && ev->kind == RW_K_CALL && ev->key == ss->rmam_key &&
                    !ss->arm_depth) {
                    ss->arm_depth = ev->depth + 1;
                    continue;
                }
                if (ss->arm_depth && (ev->kind == RW_K_CALL || ev->kind == RW_K_C_CALL) &&
                    ev->depth == ss->arm_depth) {
                    ss->mod_depth = ss->arm_depth; /* runpy's module lookup: -m's window */
                } else if (ev->kind != RW_K_CALL || ev->key >= p->ncodes ||
                           !ss->start[ev->key]) {
                    continue;
                }
                assert(t->n == 0);
                enter(p, t, ss->exec_key); /* runctx's exec(code): the <module>'s caller */
                ss->cp = CP_IN;
                ss->win_from = ev->pos;
            }
            ibuf *ib = &ss->ib;
            if (ib->n) { /* holding an import until it ends */
                if (ib_push(p, ib, ev) < 0)
                    break;
                /* An import that runs the program (a module doing its work at import)
                 * is let through once it holds IB_MAX events: a load of one of
                 * cprofile_modules takes a few thousand. */
                if ((is_ret(ev->kind) && ev->depth == ib->depth) || ib->n >= IB_MAX)
                    ib_flush(p, ib, t, lines);
                continue;
            }
            if (ev->kind == RW_K_CALL && ev->key < p->ncodes &&
                (p->role[ev->key] == ROLE_FIND_AND_LOAD || p->role[ev->key] == ROLE_CWFR ||
                 p->role[ev->key] == ROLE_HANDLE_FROMLIST)) {
                ib->depth = ev->depth;
                ib_push(p, ib, ev);
                continue;
            }
        }
        if (RW_UNLIKELY(ss->mod_depth) && ss->cp == CP_IN && t->n == 1 &&
            ev->depth < ss->mod_depth) {
            /* _run_module_as_main's own events, between its callees: its RETURN
             * ends the window (after _run_code's exec of the module's code). */
            if (ev->kind != RW_K_RETURN)
                continue;
            cp_close(p, t, ss);
            ss->cp = CP_DONE;
            ss->win_to = ev->pos;
            done = 1;
            break;
        }
        apply_ev(p, t, ev, lines);
        if (RW_UNLIKELY(ss->cp == CP_IN) && t->n == 1 && !ss->mod_depth) {
            /* the main code returned */
            cp_close(p, t, ss);
            ss->cp = CP_DONE;
            ss->win_to = ev->pos + 1;
            done = 1;
            break;
        }
        if (RW_UNLIKELY(p->oom))
            break;
    }
    for (uint32_t j = 0; !done && j < b->tail_folded; j++)
        debt += calib_ticks;
    ss->n += b->n - (done ? 1 : 0) + b->folded;
    ss->last_tick = last_tick;
    ss->debt = debt;
    ss->started = started;
    if (ss->o->progress)
        ss->o->progress(ss->o->progress_ctx, ss->n, ss->total);
    if (p->oom) {
        rw_err_set(err, RW_ENOMEM, "out of memory while profiling");
        return -1;
    }
    return done;
}

/* The id of the NameDef text, 0 when the trace has none. */
static uint32_t name_id(const rw_defs *defs, const char *text)
{
    for (uint32_t i = 1; i < defs->nnames; i++) {
        const Rewind__NameDef *nd = rw_defs_name(defs, i);
        if (nd && nd->text && !strcmp(nd->text, text))
            return i;
    }
    return 0;
}

/* Runs the events of the window through p. */
static rw_code scan(prof *p, const rw_profile_opts *o, uint64_t from, uint64_t to,
                    double calib_ticks, scan_state *cp, uint64_t *nevents,
                    double *calib_used, rw_err *err)
{
    const rw_reader *r = p->r;
    fill_ctx fc = {
        .from = from,
        .to = to,
        .ncodes = p->ncodes,
        .time_shift = rw_reader_time_shift(r),
        .fold_lines = !o->lines,
        .import_name = cp->cp != CP_OFF ? name_id(p->defs, "import") : 0,
    };
    scan_state ss = {
        .p = p,
        .o = o,
        .to = to,
        .total = (to < rw_reader_nevents(r) ? to : rw_reader_nevents(r)) - from,
        .calib_ticks = calib_ticks,
        .min_gap = UINT64_MAX,
        .cp = cp->cp,
        .start = cp->start,
        .exec_key = cp->exec_key,
        .disable_key = cp->disable_key,
        .rmam_key = cp->rmam_key,
    };
    /* Calls and returns only; lines only as a count when they are folded. */
    const rw_scan_batch_ops ops = {
        .decode = RW_DECODE_SKIP_ALLOCS | (fc.fold_lines ? RW_DECODE_SKIP_UNTIMED_LINES : 0),
        .fill = fill_batch,
        .take = take_batch,
        .free_batch = free_batch,
        .fill_ctx = &fc,
        .take_ctx = &ss,
    };
    rw_code rc = rw_scan_batches(r, from, to, &ops, err);
    if (ss.ib.n && o->thread) { /* the trace ends inside an import */
        tstate *t = thread_state(p, o->thread);
        if (t)
            ib_flush(p, &ss.ib, t, o->lines);
    }
    free(ss.ib.v);
    free(ss.ib.match);
    free(ss.ib.stk);
    if (rc == RW_OK && p->oom)
        rc = rw_err_set(err, RW_ENOMEM, "out of memory while profiling");
    *nevents = ss.n;
    *calib_used = ss.calib_ticks;
    cp->cp = ss.cp;
    cp->win_from = ss.win_from;
    cp->win_to = ss.win_to;
    return rc;
}

/* ---- building the result -------------------------------------------------------- */

/* The labels of cProfile's own calls (rw_profile_opts.cprofile). */
static const char EXEC_LABEL[] = "<built-in method builtins.exec>";
static const char DISABLE_LABEL[] = "<method 'disable' of '_lsprof.Profiler' objects>";
static const char GETCWD_LABEL[] = "<built-in method posix.getcwd>";

static int label_eq(const rw_prof_func *a, const rw_prof_func *b)
{
    return a->line == b->line && !strcmp(a->name, b->name) && !strcmp(a->file, b->file);
}

static uint64_t label_hash(const rw_prof_func *f)
{
    uint64_t h = UINT64_C(1469598103934665603) ^ f->line;
    for (const char *s = f->file; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    h = (h ^ 0xff) * UINT64_C(1099511628211);
    for (const char *s = f->name; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    return h;
}

static int cmp_caller(const void *a, const void *b)
{
    const rw_prof_caller *x = a, *y = b;
    return x->func < y->func ? -1 : x->func > y->func;
}

/* Merges functions with equal labels (pstats' add_func_stats), keeping first-occurrence
 * order; callers are remapped and merged too. */
static rw_code merge_labels(rw_profile *p, rw_err *err)
{
    size_t n = p->nfuncs;
    if (n == 0)
        return RW_OK;
    size_t cap = 16;
    while (cap < n * 2)
        cap *= 2;
    size_t *tab = malloc(cap * sizeof *tab);
    size_t *map = malloc(n * sizeof *map);
    if (!tab || !map) {
        free(tab);
        free(map);
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < cap; i++)
        tab[i] = SIZE_MAX;
    size_t m = 0;
    rw_prof_func *f = p->funcs;
    for (size_t i = 0; i < n; i++) {
        size_t h = (size_t)label_hash(&f[i]) & (cap - 1);
        while (tab[h] != SIZE_MAX && !label_eq(&f[tab[h]], &f[i]))
            h = (h + 1) & (cap - 1);
        if (tab[h] == SIZE_MAX) {
            tab[h] = m;
            if (m != i)
                f[m] = f[i];
            map[i] = m++;
            continue;
        }
        size_t j = tab[h];
        map[i] = j;
        f[j].cc += f[i].cc;
        f[j].nc += f[i].nc;
        f[j].tt += f[i].tt;
        f[j].ct += f[i].ct;
        size_t nn = f[j].ncallers + f[i].ncallers;
        rw_prof_caller *c = realloc(f[j].callers, (nn ? nn : 1) * sizeof *c);
        if (!c) {
            free(tab);
            free(map);
            return rw_err_set(err, RW_ENOMEM, "out of memory");
        }
        memcpy(c + f[j].ncallers, f[i].callers, f[i].ncallers * sizeof *c);
        free(f[i].callers);
        f[j].callers = c;
        f[j].ncallers = nn;
    }
    for (size_t i = 0; i < m; i++) {
        rw_prof_caller *c = f[i].callers;
        for (size_t k = 0; k < f[i].ncallers; k++)
            c[k].func = (uint32_t)map[c[k].func];
        qsort(c, f[i].ncallers, sizeof *c, cmp_caller);
        size_t w = 0;
        for (size_t k = 0; k < f[i].ncallers; k++) {
            if (w && c[w - 1].func == c[k].func) {
                c[w - 1].nc += c[k].nc;
                c[w - 1].cc += c[k].cc;
                c[w - 1].tt += c[k].tt;
                c[w - 1].ct += c[k].ct;
            } else {
                c[w++] = c[k];
            }
        }
        f[i].ncallers = w;
    }
    p->nfuncs = m;
    free(tab);
    free(map);
    return RW_OK;
}

/* The file pstats names for a code: its FileDef's path ("" for file 0, as the
 * placeholder has it), "?" for a code or file past the tables; the main script's
 * path as given on the command line. */
static const char *code_file(const prof *p, uint32_t code)
{
    const Rewind__CodeDef *cd = rw_defs_code(p->defs, code);
    const Rewind__FileDef *fd = cd ? rw_defs_file(p->defs, cd->file) : NULL;
    if (fd && p->main_files && p->main_files[cd->file])
        return p->main_label; /* the path as given, as cProfile compiles the script */
    return fd && fd->path ? fd->path : "?";
}

static int cmp_line(const void *a, const void *b)
{
    const rw_prof_line *x = a, *y = b;
    int c = strcmp(x->file, y->file);
    if (c)
        return c;
    return x->line < y->line ? -1 : x->line > y->line;
}

static rw_code build_lines(prof *p, rw_profile *out, double factor, rw_err *err)
{
    size_t n = 0;
    for (uint32_t c = 1; c < p->ncodes; c++)
        for (uint32_t l = 0; l < p->lines[c].n; l++)
            n += p->lines[c].v[l].hits || p->lines[c].v[l].time > 0;
    out->lines = calloc(n ? n : 1, sizeof *out->lines);
    if (!out->lines)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    size_t k = 0;
    for (uint32_t c = 1; c < p->ncodes; c++) {
        const char *file = code_file(p, c);
        for (uint32_t l = 0; l < p->lines[c].n; l++) {
            const lstat *ls = &p->lines[c].v[l];
            if (!ls->hits && !(ls->time > 0))
                continue;
            out->lines[k].file = file;
            out->lines[k].line = l;
            out->lines[k].hits = ls->hits;
            out->lines[k].time = ls->time * factor;
            k++;
        }
    }
    qsort(out->lines, k, sizeof *out->lines, cmp_line);
    size_t w = 0;
    for (size_t i = 0; i < k; i++) {
        if (w && !cmp_line(&out->lines[w - 1], &out->lines[i])) {
            out->lines[w - 1].hits += out->lines[i].hits;
            out->lines[w - 1].time += out->lines[i].time;
        } else {
            out->lines[w++] = out->lines[i];
        }
    }
    out->nlines = w;
    return RW_OK;
}

/* cProfile's snapshot_stats keys its dict by label, so of several functions with one
 * label (two comprehensions on a line, a module imported twice, eval'd code) the
 * last that getstats() lists wins: its counts and callers stay, the others' are lost
 * (the calls they made still count as made by the label). getstats() lists by code
 * object address, which the trace does not hold; the last defined (highest key)
 * stands for it. Zeroes the others, which merge_labels then folds into the winner. */
static int keep_last_of_label(const prof *p, rw_profile *out)
{
    size_t n = out->nfuncs, cap = 16;
    while (cap < n * 2)
        cap *= 2;
    size_t *tab = malloc(cap * sizeof *tab);
    if (!tab)
        return -1;
    for (size_t i = 0; i < cap; i++)
        tab[i] = SIZE_MAX;
    rw_prof_func *f = out->funcs;
    for (size_t i = 0; i < n; i++) {
        size_t h = (size_t)label_hash(&f[i]) & (cap - 1);
        while (tab[h] != SIZE_MAX && !label_eq(&f[tab[h]], &f[i]))
            h = (h + 1) & (cap - 1);
        if (tab[h] == SIZE_MAX) {
            tab[h] = i;
            continue;
        }
        size_t j = tab[h], lose = p->order[j] > p->order[i] ? i : j;
        tab[h] = lose == i ? j : i;
        f[lose].nc = f[lose].cc = 0;
        f[lose].tt = f[lose].ct = 0;
        f[lose].ncallers = 0;
    }
    free(tab);
    return 0;
}

static rw_code build(prof *p, rw_profile *out, double factor, rw_err *err)
{
    const rw_defs *defs = p->defs;
    out->nfuncs = p->norder;
    out->funcs = calloc(p->norder ? p->norder : 1, sizeof *out->funcs);
    if (!out->funcs)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    /* Callers per callee: count, then fill. */
    for (uint32_t i = 1; i <= p->nsub; i++)
        out->funcs[p->e[p->s[i].callee].order - 1].ncallers++;
    for (uint32_t i = 0; i < p->norder; i++) {
        uint32_t key = p->order[i];
        const entry *e = &p->e[key];
        rw_prof_func *f = &out->funcs[i];
        if (key >= p->xkey) {
            f->file = "~";
            f->line = 0;
            f->name = key == p->xkey       ? EXEC_LABEL
                      : key == p->xkey + 1 ? DISABLE_LABEL
                                           : GETCWD_LABEL;
        } else if (key < p->ncodes) {
            const Rewind__CodeDef *cd = rw_defs_code(defs, key);
            f->file = code_file(p, key);
            f->line = cd ? cd->first_line : 0;
            f->name = cd && cd->name ? cd->name : "?";
        } else {
            const Rewind__CFuncDef *cf = rw_defs_cfunc(defs, key - p->ncodes);
            f->file = "~";
            f->line = 0;
            f->name = cf && cf->label ? cf->label : "?";
        }
        f->nc = e->calls;
        f->cc = e->calls - e->rec;
        f->tt = e->it * factor;
        f->ct = e->tt * factor;
        f->callers = calloc(f->ncallers ? f->ncallers : 1, sizeof *f->callers);
        if (!f->callers)
            return rw_err_set(err, RW_ENOMEM, "out of memory");
        f->ncallers = 0;
    }
    for (uint32_t i = 1; i <= p->nsub; i++) {
        const sub *s = &p->s[i];
        rw_prof_func *f = &out->funcs[p->e[s->callee].order - 1];
        rw_prof_caller *c = &f->callers[f->ncallers++];
        c->func = p->e[s->caller].order - 1;
        c->nc = s->calls;
        c->cc = s->calls - s->rec;
        c->tt = s->it * factor;
        c->ct = s->tt * factor;
    }
    if (p->snapshot && keep_last_of_label(p, out) < 0)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    /* pstats computes its totals on the dictionary as loaded, before any merge. */
    for (size_t i = 0; i < out->nfuncs; i++) {
        out->total_calls += out->funcs[i].nc;
        out->prim_calls += out->funcs[i].cc;
        out->total_tt += out->funcs[i].tt;
    }
    return merge_labels(out, err);
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && !strcmp(s + n - k, tail);
}

/* Marks in files (by FileDef id) the main program's file: for a script, the file whose
 * path is the script's absolute path as python3 makes it (Metadata.run_target joined to
 * Metadata.cwd, normalised on both sides); for -m, a file whose path ends in the
 * module's name as a path ("/pkg/mod.py" or "/pkg/mod/__main__.py"). Returns how many
 * are marked, -1 when out of memory. */
static int find_main_files(const rw_defs *defs, const Rewind__Metadata *m, uint8_t *files)
{
    const char *kind = m && m->run_kind ? m->run_kind : "";
    const char *target = m && m->run_target ? m->run_target : "";
    if (!*target || (strcmp(kind, "script") && strcmp(kind, "module")))
        return 0;
    char *want = NULL, *want2 = NULL;
    if (!strcmp(kind, "script")) {
        want = rw_path_abspath(target, m->cwd);
        if (!want)
            return -1;
    } else {
        size_t len = strlen(target);
        want = malloc(len + 5);
        want2 = malloc(len + 14);
        if (!want || !want2) {
            free(want);
            free(want2);
            return -1;
        }
        want[0] = '/';
        for (size_t i = 0; i < len; i++)
            want[i + 1] = target[i] == '.' ? '/' : target[i];
        memcpy(want2, want, len + 1);
        memcpy(want + len + 1, ".py", 4);
        memcpy(want2 + len + 1, "/__main__.py", 13);
    }
    int n = 0;
    for (uint32_t i = 1; i < defs->nfiles && n >= 0; i++) {
        const Rewind__FileDef *fd = rw_defs_file(defs, i);
        if (!fd || !fd->path || !*fd->path)
            continue;
        if (want2) {
            files[i] = ends_with(fd->path, want) || ends_with(fd->path, want2);
        } else {
            char *norm = rw_path_normpath(fd->path);
            if (!norm) {
                n = -1;
                break;
            }
            files[i] = !strcmp(norm, want);
            free(norm);
        }
        n += files[i];
    }
    free(want);
    free(want2);
    return n;
}

/* The module a stdlib file is ("re" for .../lib/python3.11/re/__init__.py) is one
 * cProfile has imported before it starts: 1 + its index in cprofile_modules, or 0. */
static int is_cprofile_file(const char *path)
{
    const char *s = strstr(path, "/lib/python3.11/");
    if (!s)
        return 0;
    s += strlen("/lib/python3.11/");
    size_t len = strlen(s);
    if (len < 4 || strcmp(s + len - 3, ".py"))
        return 0;
    len -= 3;
    if (len >= 9 && !memcmp(s + len - 9, "/__init__", 9))
        len -= 9;
    char name[256];
    if (len == 0 || len >= sizeof name)
        return 0;
    for (size_t i = 0; i < len; i++)
        name[i] = s[i] == '/' ? '.' : s[i];
    return is_cprofile_module(name, len);
}

/* ROLE_* of a code for the import filter. */
static uint8_t code_role(const rw_defs *defs, uint32_t c)
{
    const Rewind__CodeDef *cd = rw_defs_code(defs, c);
    const Rewind__FileDef *fd = cd ? rw_defs_file(defs, cd->file) : NULL;
    if (!cd || !cd->name || !fd || !fd->path)
        return ROLE_NONE;
    if (!strcmp(cd->name, "<module>"))
        return is_cprofile_file(fd->path) ? ROLE_MODULE_PRELOADED : ROLE_MODULE;
    if (!strcmp(fd->path, "<frozen importlib._bootstrap_external>")) {
        if (cd->qualname && !strcmp(cd->qualname, "PathFinder._get_spec"))
            return ROLE_GET_SPEC;
        if (!strcmp(cd->name, "_path_importer_cache"))
            return ROLE_PATH_IMPORTER_CACHE;
        if (!strcmp(cd->name, "_path_hooks"))
            return ROLE_PATH_HOOKS;
        if (cd->qualname && !strcmp(cd->qualname, "FileFinder._fill_cache"))
            return ROLE_FILL_CACHE;
        if (!strcmp(cd->name, "_path_isabs"))
            return ROLE_PATH_ISABS;
        if (cd->qualname && !strcmp(cd->qualname, "FileFinder.__init__"))
            return ROLE_FILEFINDER_INIT;
        return ROLE_NONE;
    }
    if (strcmp(fd->path, "<frozen importlib._bootstrap>"))
        return ROLE_NONE;
    if (!strcmp(cd->name, "_find_and_load"))
        return ROLE_FIND_AND_LOAD;
    if (!strcmp(cd->name, "_find_and_load_unlocked"))
        return ROLE_FIND_AND_LOAD_UNLOCKED;
    if (!strcmp(cd->name, "_call_with_frames_removed"))
        return ROLE_CWFR;
    if (!strcmp(cd->name, "_gcd_import"))
        return ROLE_GCD_IMPORT;
    if (!strcmp(cd->name, "_handle_fromlist"))
        return ROLE_HANDLE_FROMLIST;
    return ROLE_NONE;
}

/* The key of the C function labelled label, or fallback when the trace has none. */
static uint32_t cfunc_key(const prof *p, const char *label, uint32_t fallback)
{
    for (uint32_t i = 1; i < p->defs->ncfuncs; i++) {
        const Rewind__CFuncDef *cf = rw_defs_cfunc(p->defs, i);
        if (cf && cf->label && !strcmp(cf->label, label))
            return p->ncodes + i;
    }
    return fallback;
}


/* The key of importlib._bootstrap_external's code with qualname q, or fallback. */
static uint32_t code_key(const prof *p, const char *q, uint32_t fallback)
{
    for (uint32_t c = 1; c < p->ncodes; c++) {
        const Rewind__CodeDef *cd = rw_defs_code(p->defs, c);
        const Rewind__FileDef *fd = cd ? rw_defs_file(p->defs, cd->file) : NULL;
        if (cd && cd->qualname && !strcmp(cd->qualname, q) && fd && fd->path &&
            !strcmp(fd->path, "<frozen importlib._bootstrap_external>"))
            return c;
    }
    return fallback;
}

/* The CodeDef id of runpy's function name (`<frozen runpy>` in 3.11, or runpy.py of a
 * build that does not freeze it), 0 when the trace has none. */
static uint32_t runpy_code(const rw_defs *defs, const char *name)
{
    for (uint32_t c = 1; c < defs->ncodes; c++) {
        const Rewind__CodeDef *cd = rw_defs_code(defs, c);
        const Rewind__FileDef *fd = cd ? rw_defs_file(defs, cd->file) : NULL;
        if (cd && cd->name && !strcmp(cd->name, name) && fd && fd->path &&
            (!strcmp(fd->path, "<frozen runpy>") || ends_with(fd->path, "/runpy.py")))
            return c;
    }
    return 0;
}

/* What cProfile's sys.path[0] (os.path.dirname of the script as given) is. */
static int entry0_of(const Rewind__Metadata *m)
{
    const char *t = m->run_target, *slash = strrchr(t, '/');
    if (!slash)
        return E0_EMPTY;
    size_t len = slash == t ? 1 : (size_t)(slash - t);
    if (len == 1 && t[0] == '.')
        return E0_DOT;
    if (t[0] != '/')
        return E0_REL;
    char dir[4096];
    if (len >= sizeof dir)
        return E0_ABS;
    memcpy(dir, t, len);
    dir[len] = 0;
    char *a = rw_path_normpath(dir), *b = rw_path_normpath(m->cwd ? m->cwd : "");
    int same = a && b && !strcmp(a, b);
    free(a);
    free(b);
    return same ? E0_CWD : E0_ABS;
}

/* The main thread's ThreadDef id (1 when none says so). */
static uint32_t main_thread(const rw_defs *defs)
{
    for (uint32_t i = 1; i < defs->nthreads; i++) {
        const Rewind__ThreadDef *td = rw_defs_thread(defs, i);
        if (td && td->is_main)
            return i;
    }
    return 1;
}

rw_code rw_profile_run(const rw_reader *r, const rw_profile_opts *o, rw_profile **out,
                       rw_err *err)
{
    uint64_t nev = rw_reader_nevents(r);
    uint64_t from = o->from, to = o->to < nev ? o->to : nev;
    if (from > nev)
        return rw_err_set(err, RW_EINVAL, "--from %llu is past the end of the trace (%llu events)",
                          (unsigned long long)from, (unsigned long long)nev);
    if (from > to)
        return rw_err_set(err, RW_EINVAL, "the window is empty: --from %llu is after --to %llu",
                          (unsigned long long)from, (unsigned long long)to);
    const Rewind__Metadata *m = rw_reader_metadata(r);
    const rw_timebase tb = rw_reader_timebase(r);
    double calib_ns = o->calibrate && m && m->calib_ns_per_event > 0 ? m->calib_ns_per_event : 0;

    prof p;
    memset(&p, 0, sizeof p);
    p.r = r;
    p.defs = rw_reader_defs(r);
    p.ncodes = p.defs->ncodes ? p.defs->ncodes : 1;
    p.nkeys = p.ncodes + (p.defs->ncfuncs ? p.defs->ncfuncs : 1);
    p.xkey = p.nkeys;
    p.nkeys += 3;
    uint8_t *main_files = calloc(p.defs->nfiles ? p.defs->nfiles : 1, 1);
    uint8_t *start = o->cprofile ? calloc(p.ncodes, 1) : NULL;
    int nmain = main_files ? find_main_files(p.defs, m, main_files) : -1;
    if (nmain > 0 && m->run_kind && !strcmp(m->run_kind, "script")) {
        p.main_files = main_files;
        p.main_label = m->run_target;
    }
    scan_state cp = {.cp = CP_OFF};
    if (o->cprofile && start) {
        for (uint32_t c = 1; nmain > 0 && c < p.ncodes; c++) {
            const Rewind__CodeDef *cd = rw_defs_code(p.defs, c);
            start[c] = cd && cd->file < p.defs->nfiles && main_files[cd->file] && cd->name &&
                       !strcmp(cd->name, "<module>");
        }
        p.role = calloc(p.ncodes, 1);
        p.mod_of_code = calloc(p.ncodes, 1);
        if (!p.role || !p.mod_of_code)
            nmain = -1;
        for (uint32_t c = 1; p.role && p.mod_of_code && c < p.ncodes; c++) {
            p.role[c] = code_role(p.defs, c);
            if (p.role[c] == ROLE_MODULE_PRELOADED) {
                const Rewind__CodeDef *cd = rw_defs_code(p.defs, c);
                p.mod_of_code[c] = (uint8_t)is_cprofile_file(rw_defs_file(p.defs, cd->file)->path);
            }
        }
        p.snapshot = 1;
        p.import_key = cfunc_key(&p, "<built-in method builtins.__import__>", UINT32_MAX);
        p.format_key = cfunc_key(&p, "<method 'format' of 'str' objects>", UINT32_MAX);
        p.isinstance_key = cfunc_key(&p, "<built-in method builtins.isinstance>", UINT32_MAX);
        p.getcwd_key = cfunc_key(&p, GETCWD_LABEL, p.xkey + 2);
        p.entry0 = nmain > 0 && !strcmp(m->run_kind, "script") ? entry0_of(m) : E0_NONE;
        p.join_key = code_key(&p, "_path_join", UINT32_MAX);
        p.join_listcomp_key = code_key(&p, "_path_join.<locals>.<listcomp>", UINT32_MAX);
        p.rstrip_key = cfunc_key(&p, "<method 'rstrip' of 'str' objects>", UINT32_MAX);
        p.strjoin_key = cfunc_key(&p, "<method 'join' of 'str' objects>", UINT32_MAX);
        cp.cp = CP_WAIT;
        cp.start = start;
        cp.exec_key = cfunc_key(&p, EXEC_LABEL, p.xkey);
        cp.disable_key = cfunc_key(&p, DISABLE_LABEL, p.xkey + 1);
        if (nmain >= 0 && m && m->run_kind && !strcmp(m->run_kind, "module"))
            cp.rmam_key = runpy_code(p.defs, "_run_module_as_main");
        from = 0;
        to = nev;
    }
    rw_profile_opts oo = *o;
    if (o->cprofile)
        oo.thread = main_thread(p.defs);
    o = &oo;
    p.e = calloc(p.nkeys, sizeof *p.e);
    p.order = calloc(p.nkeys, sizeof *p.order);
    p.capsub = 1024;
    p.s = calloc(p.capsub, sizeof *p.s);
    if (o->lines)
        p.lines = calloc(p.ncodes, sizeof *p.lines);
    rw_profile *res = calloc(1, sizeof *res);
    if (!p.e || !p.order || !p.s || (o->lines && !p.lines) || !res || tab_grow(&p) < 0 ||
        nmain < 0 || (o->cprofile && !start)) {
        prof_fini(&p);
        free(res);
        free(main_files);
        free(start);
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    }
    uint64_t n = 0;
    double calib_used = 0;
    rw_code rc = scan(&p, o, from, to, rw_timebase_ticks(&tb, calib_ns), &cp, &n, &calib_used,
                      err);
    calib_ns = rw_timebase_span_ns(&tb, calib_used);
    if (rc == RW_OK) {
        /* flush_unmatched: what is still running stops at the window's end. */
        for (uint32_t i = 0; i < p.nt; i++) {
            tstate *t = &p.t[i];
            for (uint32_t d = 0; d < t->lcap; d++)
                line_close(&p, &t->lp[d]);
            if (cp.cp == CP_IN && i == o->thread)
                cp_close(&p, t, &cp); /* the trace ends inside the main code */
            while (t->n > 0)
                leave(&p, t, t->v[t->n - 1].key);
        }
        if (cp.cp == CP_IN)
            cp.win_to = nev;
        if (cp.cp == CP_IN || cp.cp == CP_DONE) {
            res->found = 1;
            res->from = cp.win_from;
            res->to = cp.win_to;
            n = cp.win_to - cp.win_from;
        }
        res->events = n;
        res->calib_ns = calib_ns;
        double factor = rw_timebase_span_ns(&tb, 1.0) * 1e-9; /* virtual ticks -> s */
        rc = build(&p, res, factor, err);
        if (rc == RW_OK && o->lines)
            rc = build_lines(&p, res, factor, err);
    }
    prof_fini(&p);
    free(main_files);
    free(start);
    if (rc != RW_OK) {
        rw_profile_free(res);
        return rc;
    }
    *out = res;
    return RW_OK;
}

void rw_profile_free(rw_profile *p)
{
    if (!p)
        return;
    if (p->funcs)
        for (size_t i = 0; i < p->nfuncs; i++)
            free(p->funcs[i].callers);
    free(p->funcs);
    free(p->lines);
    free(p);
}

/* ---- strip_dirs ------------------------------------------------------------------- */

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

rw_code rw_profile_strip_dirs(rw_profile *p, rw_err *err)
{
    for (size_t i = 0; i < p->nfuncs; i++)
        p->funcs[i].file = base_name(p->funcs[i].file);
    for (size_t i = 0; i < p->nlines; i++)
        p->lines[i].file = base_name(p->lines[i].file);
    if (p->nlines) {
        qsort(p->lines, p->nlines, sizeof *p->lines, cmp_line);
        size_t w = 0;
        for (size_t i = 0; i < p->nlines; i++) {
            if (w && !cmp_line(&p->lines[w - 1], &p->lines[i])) {
                p->lines[w - 1].hits += p->lines[i].hits;
                p->lines[w - 1].time += p->lines[i].time;
            } else {
                p->lines[w++] = p->lines[i];
            }
        }
        p->nlines = w;
    }
    p->strip = 1;
    return merge_labels(p, err);
}

/* ---- sorting as pstats sorts -------------------------------------------------------- */

typedef struct sort_def {
    const char *word;
    int n;
    rw_prof_field field[3];
    int dir[3];
    const char *title;
} sort_def;

/* Stats.sort_arg_dict_default, in its order (the order matters for abbreviations). */
static const sort_def sort_defs[] = {
    {"calls", 1, {RW_PF_NC}, {-1}, "call count"},
    {"ncalls", 1, {RW_PF_NC}, {-1}, "call count"},
    {"cumtime", 1, {RW_PF_CT}, {-1}, "cumulative time"},
    {"cumulative", 1, {RW_PF_CT}, {-1}, "cumulative time"},
    {"filename", 1, {RW_PF_FILE}, {1}, "file name"},
    {"line", 1, {RW_PF_LINE}, {1}, "line number"},
    {"module", 1, {RW_PF_FILE}, {1}, "file name"},
    {"name", 1, {RW_PF_NAME}, {1}, "function name"},
    {"nfl", 3, {RW_PF_NAME, RW_PF_FILE, RW_PF_LINE}, {1, 1, 1}, "name/file/line"},
    {"pcalls", 1, {RW_PF_CC}, {-1}, "primitive call count"},
    {"stdname", 1, {RW_PF_STDNAME}, {1}, "standard name"},
    {"time", 1, {RW_PF_TT}, {-1}, "internal time"},
    {"tottime", 1, {RW_PF_TT}, {-1}, "internal time"},
};
#define NSORT (sizeof sort_defs / sizeof sort_defs[0])

/* Stats.get_sort_arg_defs: the definition key expands to, or NULL. Every fragment of
 * each word is added until one is already present; fragments met twice are removed. */
static const sort_def *sort_lookup(const char *key)
{
    enum { MAXF = 128 };
    const char *fw[MAXF];
    size_t fl[MAXF];
    int fd[MAXF], bad[MAXF];
    int nf = 0;
    for (size_t w = 0; w < NSORT; w++) {
        const char *word = sort_defs[w].word;
        for (size_t len = strlen(word); len > 0; len--) {
            int found = -1;
            for (int i = 0; i < nf; i++)
                if (fl[i] == len && !strncmp(fw[i], word, len))
                    found = i;
            if (found >= 0) {
                bad[found] = 1;
                break;
            }
            if (nf == MAXF)
                break;
            fw[nf] = word;
            fl[nf] = len;
            fd[nf] = (int)w;
            bad[nf] = 0;
            nf++;
        }
    }
    size_t kl = strlen(key);
    for (int i = 0; i < nf; i++)
        if (!bad[i] && fl[i] == kl && !strncmp(fw[i], key, kl))
            return &sort_defs[fd[i]];
    return NULL;
}

rw_code rw_prof_sort_add(rw_prof_sort *s, const char *key, rw_err *err)
{
    const sort_def *d = sort_lookup(key);
    if (!d)
        return rw_err_set(err, RW_EINVAL,
                          "unknown sort key '%s': use calls, cumulative (cumtime), filename "
                          "(module), line, name, nfl, pcalls, stdname, time (tottime), or a "
                          "unique abbreviation", key);
    if (s->nfields + d->n > RW_PROF_SORT_MAX)
        return rw_err_set(err, RW_EINVAL, "too many sort keys (at most %d)", RW_PROF_SORT_MAX);
    for (int i = 0; i < d->n; i++) {
        s->field[s->nfields] = d->field[i];
        s->dir[s->nfields] = d->dir[i];
        s->nfields++;
    }
    size_t len = strlen(s->title);
    snprintf(s->title + len, sizeof s->title - len, "%s%s", len ? ", " : "", d->title);
    return RW_OK;
}

size_t rw_prof_func_name(const rw_prof_func *f, char *buf, size_t cap)
{
    int n;
    if (!strcmp(f->file, "~") && f->line == 0) {
        size_t len = strlen(f->name);
        if (len >= 2 && f->name[0] == '<' && f->name[len - 1] == '>')
            n = snprintf(buf, cap, "{%.*s}", (int)(len - 2), f->name + 1);
        else
            n = snprintf(buf, cap, "%s", f->name);
    } else {
        n = snprintf(buf, cap, "%s:%u(%s)", f->file, f->line, f->name);
    }
    return n < 0 ? 0 : (size_t)n;
}

typedef struct sort_ctx {
    const rw_profile *p;
    const rw_prof_sort *s;
    char **std;
} sort_ctx;

static int dcmp(double a, double b)
{
    return a < b ? -1 : a > b;
}

/* TupleComp.compare, then the original order (Python's sort is stable). */
static int compare(const sort_ctx *c, size_t a, size_t b)
{
    const rw_prof_func *x = &c->p->funcs[a], *y = &c->p->funcs[b];
    for (int i = 0; i < c->s->nfields; i++) {
        int r = 0;
        switch (c->s->field[i]) {
        case RW_PF_CC: r = x->cc < y->cc ? -1 : x->cc > y->cc; break;
        case RW_PF_NC: r = x->nc < y->nc ? -1 : x->nc > y->nc; break;
        case RW_PF_TT: r = dcmp(x->tt, y->tt); break;
        case RW_PF_CT: r = dcmp(x->ct, y->ct); break;
        case RW_PF_FILE: r = strcmp(x->file, y->file); break;
        case RW_PF_LINE: r = x->line < y->line ? -1 : x->line > y->line; break;
        case RW_PF_NAME: r = strcmp(x->name, y->name); break;
        case RW_PF_STDNAME: r = strcmp(c->std[a], c->std[b]); break;
        }
        if (r)
            return r < 0 ? -c->s->dir[i] : c->s->dir[i];
    }
    return a < b ? -1 : a > b;
}

static void merge_sort(const sort_ctx *c, size_t *v, size_t *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    merge_sort(c, v, tmp, h);
    merge_sort(c, v + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = compare(c, v[i], v[j]) <= 0 ? v[i++] : v[j++];
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

size_t *rw_profile_order(const rw_profile *p, const rw_prof_sort *s)
{
    size_t n = p->nfuncs;
    size_t *v = malloc((n ? n : 1) * sizeof *v);
    size_t *tmp = malloc((n ? n : 1) * sizeof *tmp);
    char **std = calloc(n ? n : 1, sizeof *std);
    int ok = v && tmp && std;
    for (size_t i = 0; ok && i < n; i++) {
        size_t len = rw_prof_func_name(&p->funcs[i], NULL, 0);
        std[i] = malloc(len + 1);
        if (!std[i])
            ok = 0;
        else
            rw_prof_func_name(&p->funcs[i], std[i], len + 1);
        v[i] = i;
    }
    if (ok) {
        sort_ctx c = {p, s, std};
        merge_sort(&c, v, tmp, n);
    }
    if (std)
        for (size_t i = 0; i < n; i++)
            free(std[i]);
    free(std);
    free(tmp);
    if (!ok) {
        free(v);
        return NULL;
    }
    return v;
}
