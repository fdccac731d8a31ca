/* Values providers (values.h): the log-only one, which knows no value, and the one
 * backed by a re-execution engine (replayer/engine/client.h), started at the first
 * question. A build without the engine's client (RW_HAVE_ENGINE_CLIENT unset) gets an
 * engine provider that answers as the log-only one does.
 */
#include "values.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan.h"

#ifdef RW_HAVE_ENGINE_CLIENT
#include "client.h"
#endif

/* ---- log-only ---------------------------------------------------------------------- */

static rw_code log_ask(void *ctx, const rw_values_at *at, rw_values_op op, const char *text,
                       char **out, int *raised, rw_err *err)
{
    (void)ctx, (void)at, (void)op, (void)text, (void)out, (void)raised;
    return rw_err_set(err, RW_EINVAL, "%s", RW_VALUES_NEED_REEXEC);
}

static const char *log_why(void *ctx)
{
    (void)ctx;
    return RW_VALUES_NEED_REEXEC;
}

const rw_values rw_values_log_only = {NULL, log_ask, log_why};

static rw_code off_ask(void *ctx, const rw_values_at *at, rw_values_op op, const char *text,
                       char **out, int *raised, rw_err *err)
{
    (void)ctx, (void)at, (void)op, (void)text, (void)out, (void)raised;
    return rw_err_set(err, RW_EINVAL, "%s", RW_VALUES_OFF);
}

static const char *off_why(void *ctx)
{
    (void)ctx;
    return RW_VALUES_OFF;
}

const rw_values rw_values_off = {NULL, off_ask, off_why};

/* ---- engine-backed ------------------------------------------------------------------- */

/* The longest kept __exception__ / __return__ (base64 of a pickle) carried to later
 * stops: the engine's messages are at most 1 MiB; a bigger one is not carried. */
#define RW_KEPT_MAX (256 * 1024)

typedef struct engine_values {
    rw_values v;           /* first: the provider handed out */
    char *path;
    int tried;             /* the engine was started (or failed to start) */
    rw_err open_err;       /* why it could not start */
#ifdef RW_HAVE_ENGINE_CLIENT
    rw_engine *e;
#endif
    /* The __exception__ / __return__ of exception and --Return-- stops, kept (the
     * engine's KEEP) for the questions of later stops in the same frame: text NULL
     * when they could not be kept (not picklable). */
    struct kept_value {
        uint64_t pos;
        char *text;
    } *kept;
    size_t nkept, capkept;
    uint64_t carry_at;     /* the engine's stop where a CARRY with values was sent last
                            * (UINT64_MAX: none since; the engine forgets it at a goto) */
    char *told;            /* the last divergence report written whole on stderr */
    char *noted;           /* the last engine note written on stderr */
} engine_values;

static rw_code start(engine_values *ev, rw_err *err)
{
    if (!ev->tried) {
        ev->tried = 1;
        memset(&ev->open_err, 0, sizeof ev->open_err);
#ifdef RW_HAVE_ENGINE_CLIENT
        if (rw_engine_open(ev->path, &ev->e, &ev->open_err) != RW_OK)
            ev->e = NULL;
#else
        rw_err_set(&ev->open_err, RW_EPYTHON, "%s", RW_VALUES_NEED_REEXEC);
#endif
    }
    if (ev->open_err.code != RW_OK) {
        *err = ev->open_err;
        return ev->open_err.code;
    }
    return RW_OK;
}

void rw_values_reprlib_cut(char *s)
{
    size_t n = strlen(s);
    if (!n || strchr("[({", s[0]) || !strncmp(s, "set(", 4) || !strncmp(s, "frozenset(", 10) ||
        !strncmp(s, "deque(", 6))
        return;
    size_t k = s[0] == '-' ? 1 : 0, max = 30, i = 13, j = 14;
    if (k < n && strspn(s + k, "0123456789") == n - k) {
        max = 40;
        i = 18;
        j = 19;
    }
    if (n <= max)
        return;
    memmove(s + i + 3, s + n - j, j + 1);
    memcpy(s + i, "...", 3);
}

#ifdef RW_HAVE_ENGINE_CLIENT
_Static_assert(RW_VALUES_TRACEBACK == RW_ENGINE_TRACEBACK, "one encoding of traceback frames");
static const rw_engine_op engine_op[] = {
    [RW_VALUES_P] = RW_ENGINE_P,
    [RW_VALUES_PP] = RW_ENGINE_PP,
    [RW_VALUES_WHATIS] = RW_ENGINE_WHATIS,
    [RW_VALUES_EXEC] = RW_ENGINE_EXEC,
    [RW_VALUES_ARGS] = RW_ENGINE_ARGS,
    [RW_VALUES_RETVAL] = RW_ENGINE_RETVAL,
    [RW_VALUES_RETVAL_SHORT] = RW_ENGINE_RETVAL,
    [RW_VALUES_SOURCE] = RW_ENGINE_SOURCE,
    [RW_VALUES_TRUTH] = RW_ENGINE_TRUTH,
    [RW_VALUES_INTERACT_BEGIN] = RW_ENGINE_INTERACT_BEGIN,
    [RW_VALUES_INTERACT_LINE] = RW_ENGINE_INTERACT_LINE,
    [RW_VALUES_INTERACT_END] = RW_ENGINE_INTERACT_END,
};
#endif

#ifdef RW_HAVE_ENGINE_CLIENT
static struct kept_value *kept_find(engine_values *ev, uint64_t pos)
{
    for (size_t i = 0; i < ev->nkept; i++)
        if (ev->kept[i].pos == pos)
            return &ev->kept[i];
    return NULL;
}

/* Keeps the stop's __exception__ / __return__ at the engine's position (a stop of the
 * session's where pdb stored them). An error only when the engine failed. */
static rw_code keep_here(engine_values *ev, rw_err *err)
{
    uint64_t pos = rw_engine_pos(ev->e);
    if (kept_find(ev, pos))
        return RW_OK;
    char *text = NULL;
    int raised = 0;
    RW_TRY(rw_engine_ask(ev->e, RW_ENGINE_KEEP, RW_VALUES_NEWEST, "", &text, &raised, err));
    if (raised || strlen(text) > RW_KEPT_MAX) {
        free(text);
        text = NULL;
    }
    if (ev->nkept == ev->capkept) {
        size_t cap = ev->capkept ? 2 * ev->capkept : 8;
        struct kept_value *n = realloc(ev->kept, cap * sizeof *n);
        if (!n) {
            free(text);
            return rw_err_set(err, RW_ENOMEM, "out of memory");
        }
        ev->kept = n;
        ev->capkept = cap;
    }
    ev->kept[ev->nkept++] = (struct kept_value){pos, text};
    return RW_OK;
}

/* rw_engine_goto, then the engine's note, if it has one, on stderr: once. */
static rw_code engine_goto(engine_values *ev, uint64_t pos, rw_err *err)
{
    rw_scan_check_hold(1); /* the engine and its check first (scan.h) */
    rw_code rc = rw_engine_goto(ev->e, pos, err);
    rw_scan_check_hold(0);
    const char *note = rw_engine_take_note(ev->e);
    if (note && (!ev->noted || strcmp(ev->noted, note))) { /* a new engine says it again */
        fprintf(stderr, "rewind replay: note: %s\n", note);
        free(ev->noted);
        ev->noted = strdup(note);
    }
    /* The debugger's error line has the report's start; stderr has it whole (the last
     * inputs consumed), once. */
    const char *report = rw_engine_report(ev->e);
    if (rc == RW_ECORRUPT && *report && (!ev->told || strcmp(ev->told, report))) {
        fprintf(stderr, "rewind replay: %s\n", report);
        free(ev->told);
        ev->told = strdup(report);
    }
    return rc;
}

/* Goes to pos (a new engine when it is past it) and keeps what its stop stored. */
static rw_code keep_at(engine_values *ev, uint64_t pos, rw_err *err)
{
    if (kept_find(ev, pos))
        return RW_OK;
    if (rw_engine_pos(ev->e) != pos)
        RW_TRY(engine_goto(ev, pos, err));
    return keep_here(ev, err);
}
#endif

static rw_code engine_ask(void *ctx, const rw_values_at *at, rw_values_op op, const char *text,
                          char **out, int *raised, rw_err *err)
{
    engine_values *ev = ctx;
    *out = NULL;
    *raised = 0;
    RW_TRY(start(ev, err));
#ifdef RW_HAVE_ENGINE_CLIENT
    if (op != RW_VALUES_INTERACT_LINE && op != RW_VALUES_INTERACT_END) {
        /* pdb's __exception__ and __return__ of earlier stops of this frame: kept at
         * those stops (before going on: they are gone later in the run). */
        for (size_t k = 0; k < at->nkept; k++)
            if (at->kept[k].pos < at->pos)
                RW_TRY(keep_at(ev, at->kept[k].pos, err));
        if (rw_engine_pos(ev->e) != at->pos)
            RW_TRY(engine_goto(ev, at->pos, err));
        if (at->stop_keeps)
            RW_TRY(keep_here(ev, err));
        /* CARRY's lines: "FRAME-ID BASE64" as KEEP gave them, the id replaced by "*"
         * for the frame's own stops. */
        size_t len = 1;
        for (size_t k = 0; k < at->nkept; k++) {
            const struct kept_value *kv = at->kept[k].pos < at->pos
                                              ? kept_find(ev, at->kept[k].pos) : NULL;
            if (kv && kv->text)
                len += strlen(kv->text) + 2;
        }
        char *carry = malloc(len);
        if (!carry)
            return rw_err_set(err, RW_ENOMEM, "out of memory");
        size_t n = 0;
        carry[0] = '\0';
        for (size_t k = 0; k < at->nkept; k++) {
            const struct kept_value *kv = at->kept[k].pos < at->pos
                                              ? kept_find(ev, at->kept[k].pos) : NULL;
            if (!kv || !kv->text)
                continue;
            const char *t = kv->text;
            if (at->kept[k].exact) {
                const char *sp = strchr(t, ' ');
                t = sp ? sp + 1 : t;
                n += (size_t)snprintf(carry + n, len - n, "* %s\n", t);
            } else {
                n += (size_t)snprintf(carry + n, len - n, "%s\n", t);
            }
        }
        /* Nothing to carry and nothing carried at this stop: no round trip. */
        uint64_t here = rw_engine_pos(ev->e);
        if (n || ev->carry_at == here) {
            char *ack = NULL;
            int r = 0;
            rw_code rc = rw_engine_ask(ev->e, RW_ENGINE_CARRY, at->frame_index, carry, &ack,
                                       &r, err);
            free(ack);
            ev->carry_at = n ? here : UINT64_MAX;
            if (rc != RW_OK) {
                free(carry);
                return rc;
            }
        }
        free(carry);
    }
    if (op == RW_VALUES_RETVAL_SHORT) {
        /* pdb prints reprlib.repr(frame.f_locals['__return__']): the engine puts the
         * return value there at a RETURN stop, as pdb's user_return does. */
        rw_code rc = rw_engine_ask(ev->e, RW_ENGINE_EXEC, at->frame_index,
                                   "print(__import__('reprlib').repr(__return__))", out,
                                   raised, err);
        if (rc == RW_OK && !*raised) {
            size_t n = strlen(*out);
            while (n && (*out)[n - 1] == '\n')
                (*out)[--n] = '\0';
            return RW_OK;
        }
        if (rc == RW_OK && strstr(*out, "name '__return__' is not defined")) {
            /* The frame has no __return__: RETVAL would say so too (one fork less on
             * the stops of a generator's frame that ask). */
            free(*out);
            *out = strdup("Not yet returned!");
            if (!*out)
                return rw_err_set(err, RW_ENOMEM, "out of memory");
            return RW_OK;
        }
        free(*out);
        *out = NULL;
        *raised = 0;
    }
    RW_TRY(rw_engine_ask(ev->e, engine_op[op], at->frame_index, text, out, raised, err));
    if (op == RW_VALUES_RETVAL_SHORT && !*raised)
        rw_values_reprlib_cut(*out);
    return RW_OK;
#else
    (void)at, (void)op, (void)text;
    return rw_err_set(err, RW_EPYTHON, "%s", RW_VALUES_NEED_REEXEC);
#endif
}

static const char *engine_why(void *ctx)
{
    engine_values *ev = ctx;
    rw_err e;
    if (start(ev, &e) != RW_OK)
        return ev->open_err.msg;
    return NULL;
}

rw_code rw_values_engine_new(const char *trace_path, rw_values **out, rw_err *err)
{
    engine_values *ev = calloc(1, sizeof *ev);
    if (!ev || !(ev->path = strdup(trace_path))) {
        free(ev);
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    }
    ev->v.ctx = ev;
    ev->carry_at = UINT64_MAX;
    ev->v.ask = engine_ask;
    ev->v.why = engine_why;
    *out = &ev->v;
    return RW_OK;
}

rw_code rw_values_engine_start(rw_values *v, rw_err *err)
{
    return start(v->ctx, err);
}

void rw_values_engine_free(rw_values *v)
{
    if (!v)
        return;
    engine_values *ev = v->ctx;
#ifdef RW_HAVE_ENGINE_CLIENT
    rw_engine_close(ev->e);
#endif
    for (size_t i = 0; i < ev->nkept; i++)
        free(ev->kept[i].text);
    free(ev->kept);
    free(ev->told);
    free(ev->noted);
    free(ev->path);
    free(ev);
}
