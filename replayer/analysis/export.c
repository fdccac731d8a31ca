/* Timeline export (export.h).
 *
 * Each thread keeps its own stack of the frames this export has opened, so closes
 * always match the innermost open frame: a RETURN closes every frame above the
 * Python frame it returns from (C calls left open by an exception), a C_RETURN whose
 * call is not open is ignored. Chrome and Perfetto events stream out as they come
 * (Perfetto's through perfetto.c); speedscope needs one profile per thread, so its
 * events are buffered per thread, and the bytes they will take are counted as they
 * are buffered. The output goes through a counting stream (fopencookie) so that the
 * bound on its size is checked before every event whatever the format.
 */
#include "export.h"

#include <assert.h>
#include <math.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "json.h"
#include "perfetto.h"
#include "records.h"
#include "scan.h"

typedef struct open_frame {
    uint32_t id;         /* CodeDef or CFuncDef id */
    uint8_t is_c;
    uint64_t call_pos;
} open_frame;

typedef struct sp_event {
    double at;
    uint32_t frame;      /* index in shared.frames */
    uint8_t open;
} sp_event;

typedef struct tstate {
    open_frame *st;
    size_t depth, cap;
    sp_event *ev;        /* speedscope only */
    size_t nev, evcap;
    int seen;
    double first, last;
} tstate;

typedef struct exporter {
    const rw_reader *r;
    const rw_defs *d;
    rw_timebase tb;      /* the trace's (rw_reader_timebase) */
    const rw_export_opts *o;
    FILE *out;
    tstate *t;           /* by ThreadDef id */
    uint32_t nthreads;
    uint32_t *fcode, *fcfunc; /* speedscope frame index + 1, 0 = not assigned */
    uint32_t nframes;
    uint32_t *forder;    /* frame index -> id | (is_c << 31) */
    long long pid;
    int first_chrome;
    int oom;
    rw_pf *pf;           /* perfetto only */
    uint64_t written;    /* bytes through the counting stream */
    uint64_t pending;    /* speedscope: bytes its buffered events will take */
    FILE *real;          /* the caller's stream, under out */
} exporter;

/* The counting stream's write: forwards to the caller's stream. */
static ssize_t count_write(void *cookie, const char *data, size_t n)
{
    exporter *x = cookie;
    size_t w = fwrite(data, 1, n, x->real);
    x->written += w;
    return w == n ? (ssize_t)n : -1;
}

/* Bytes out so far (through the stream or in its buffer), or that will be: what the
 * bound is checked against. */
static uint64_t out_bytes(const exporter *x)
{
    return x->written + __fpending(x->out) + x->pending;
}

/* A string as JSON (json.h); NULL as "". */
static void json_cstr(FILE *out, const char *s)
{
    rw_json_str(out, s ? s : "");
}

static double ts_us(const exporter *x, uint64_t tick)
{
    return rw_timebase_ns(&x->tb, tick) / 1000.0;
}

static const char *frame_name(const exporter *x, uint32_t id, int is_c)
{
    if (is_c) {
        const Rewind__CFuncDef *cf = rw_defs_cfunc(x->d, id);
        return cf && cf->label ? cf->label : "?";
    }
    const Rewind__CodeDef *cd = rw_defs_code(x->d, id);
    if (!cd)
        return "?";
    return cd->qualname && *cd->qualname ? cd->qualname : cd->name ? cd->name : "?";
}

static const char *code_path(const exporter *x, uint32_t id)
{
    const char *path = rw_defs_code_path(x->d, id);
    return path ? path : "";
}

static tstate *thread_of(exporter *x, uint32_t th)
{
    return th < x->nthreads ? &x->t[th] : &x->t[0];
}

static uint32_t sp_frame(exporter *x, uint32_t id, int is_c)
{
    /* The decoder checked the id against the definitions, which the maps cover. */
    assert(id < (is_c ? x->d->ncfuncs : x->d->ncodes) + 1);
    uint32_t *slot = is_c ? &x->fcfunc[id] : &x->fcode[id];
    if (!*slot) {
        x->forder[x->nframes] = id | (is_c ? 1u << 31 : 0);
        *slot = ++x->nframes;
    }
    return *slot - 1;
}

static const char *thread_name(const exporter *x, uint32_t th);

static void emit(exporter *x, uint32_t th, const open_frame *f, int open, double at)
{
    tstate *t = thread_of(x, th);
    if (!t->seen) {
        t->seen = 1;
        t->first = at;
        if (x->pf)
            rw_pf_thread(x->pf, th, thread_name(x, th));
    }
    t->last = at;
    if (x->pf) {
        uint64_t ns = at > 0 ? (uint64_t)llround(at * 1000.0) : 0;
        if (!open) {
            rw_pf_end(x->pf, th, ns);
            return;
        }
        uint32_t before = x->nframes;
        uint32_t iid = sp_frame(x, f->id, f->is_c) + 1;
        rw_pf_begin(x->pf, th, ns, iid,
                    x->nframes != before ? frame_name(x, f->id, f->is_c) : NULL,
                    f->is_c ? RW_PF_CAT_C : RW_PF_CAT_PYTHON);
        return;
    }
    if (x->o->format == RW_EXPORT_CHROME) {
        fputs(x->first_chrome ? "\n" : ",\n", x->out);
        x->first_chrome = 0;
        fprintf(x->out, "{\"ph\":\"%c\",\"ts\":%.3f,\"pid\":%lld,\"tid\":%u,\"cat\":\"%s\",\"name\":",
                open ? 'B' : 'E', at, x->pid, th, f->is_c ? "c" : "python");
        json_cstr(x->out, frame_name(x, f->id, f->is_c));
        if (open && !f->is_c) {
            fputs(",\"args\":{\"file\":", x->out);
            json_cstr(x->out, code_path(x, f->id));
            fprintf(x->out, ",\"line\":%u}", rw_defs_code_first_line(x->d, f->id));
        }
        fputc('}', x->out);
        return;
    }
    if (t->nev == t->evcap) {
        size_t cap = t->evcap ? t->evcap * 2 : 1024;
        sp_event *n = realloc(t->ev, cap * sizeof *n);
        if (!n) {
            x->oom = 1;
            return;
        }
        t->ev = n;
        t->evcap = cap;
    }
    sp_event *e = &t->ev[t->nev++];
    e->at = at;
    e->frame = sp_frame(x, f->id, f->is_c);
    e->open = (uint8_t)open;
    if (x->o->max_bytes) { /* the size bound: count what write_speedscope will print */
        char tmp[96];
        int k = snprintf(tmp, sizeof tmp, ",{\"type\":\"O\",\"frame\":%u,\"at\":%.3f}",
                         e->frame, e->at);
        x->pending += k > 0 ? (uint64_t)k : 0;
    }
}

static void push(exporter *x, uint32_t th, uint32_t id, int is_c, uint64_t call_pos, double at)
{
    tstate *t = thread_of(x, th);
    if (t->depth == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        open_frame *n = realloc(t->st, cap * sizeof *n);
        if (!n) {
            x->oom = 1;
            return;
        }
        t->st = n;
        t->cap = cap;
    }
    open_frame *f = &t->st[t->depth++];
    f->id = id;
    f->is_c = (uint8_t)is_c;
    f->call_pos = call_pos;
    emit(x, th, f, 1, at);
}

/* Closes frames down to and including the one opened at call_pos with kind is_c;
 * nothing when no such frame is open. */
static void pop_to(exporter *x, uint32_t th, int is_c, uint64_t call_pos, double at)
{
    tstate *t = thread_of(x, th);
    size_t k = t->depth;
    while (k > 0 && !(t->st[k - 1].is_c == is_c && t->st[k - 1].call_pos == call_pos))
        k--;
    if (!k)
        return;
    while (t->depth >= k) {
        emit(x, th, &t->st[t->depth - 1], 0, at);
        t->depth--;
        if (!t->depth)
            break;
    }
}

static const char *thread_name(const exporter *x, uint32_t th)
{
    const char *name = rw_defs_thread_name(x->d, rw_reader_end(x->r), th);
    if (name)
        return name;
    return th == 1 ? "MainThread" : "thread";
}

static void write_speedscope(exporter *x, double start, double stop)
{
    FILE *out = x->out;
    const Rewind__Metadata *m = rw_reader_metadata(x->r);
    fputs("{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\n"
          "\"exporter\":\"rewind " REWIND_VERSION "\",\"name\":", out);
    json_cstr(out, m && m->run_target ? m->run_target : "rewind trace");
    fputs(",\"activeProfileIndex\":0,\n\"shared\":{\"frames\":[", out);
    for (uint32_t i = 0; i < x->nframes; i++) {
        uint32_t id = x->forder[i] & 0x7fffffffu;
        int is_c = (x->forder[i] >> 31) != 0;
        fputs(i ? ",\n{\"name\":" : "\n{\"name\":", out);
        json_cstr(out, frame_name(x, id, is_c));
        if (!is_c) {
            fputs(",\"file\":", out);
            json_cstr(out, code_path(x, id));
            fprintf(out, ",\"line\":%u", rw_defs_code_first_line(x->d, id));
        }
        fputc('}', out);
    }
    fputs("]},\n\"profiles\":[", out);
    int firstp = 1;
    for (uint32_t th = 0; th < x->nthreads; th++) {
        tstate *t = &x->t[th];
        if (!t->nev)
            continue;
        fputs(firstp ? "\n{\"type\":\"evented\",\"name\":" : ",\n{\"type\":\"evented\",\"name\":",
              out);
        firstp = 0;
        char name[300];
        snprintf(name, sizeof name, "%s (thread %u)", thread_name(x, th), th);
        json_cstr(out, name);
        fprintf(out, ",\"unit\":\"microseconds\",\"startValue\":%.3f,\"endValue\":%.3f,\"events\":[",
                start, stop);
        for (size_t i = 0; i < t->nev; i++)
            fprintf(out, "%s{\"type\":\"%c\",\"frame\":%u,\"at\":%.3f}", i ? "," : "",
                    t->ev[i].open ? 'O' : 'C', t->ev[i].frame, t->ev[i].at);
        fputs("]}", out);
    }
    fputs("\n]}\n", out);
}

rw_code rw_export_write(const rw_reader *r, const rw_export_opts *o, FILE *caller_out,
                        rw_export_result *res, rw_err *err)
{
    exporter x;
    memset(&x, 0, sizeof x);
    x.r = r;
    x.d = rw_reader_defs(r);
    x.tb = rw_reader_timebase(r);
    x.o = o;
    x.real = caller_out;
    cookie_io_functions_t io = {.write = count_write};
    FILE *out = fopencookie(&x, "w", io);
    if (!out)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    x.out = out;
    x.first_chrome = 1;
    rw_export_result result = {0};
    const Rewind__Metadata *m = rw_reader_metadata(r);
    x.pid = m ? m->pid : 0;
    x.nthreads = x.d->nthreads ? x.d->nthreads : 1;
    x.t = calloc(x.nthreads, sizeof *x.t);
    x.fcode = calloc(x.d->ncodes + 1, sizeof *x.fcode);
    x.fcfunc = calloc(x.d->ncfuncs + 1, sizeof *x.fcfunc);
    x.forder = calloc((size_t)x.d->ncodes + x.d->ncfuncs + 2, sizeof *x.forder);
    rw_code rc = RW_OK;
    rw_scan *c = NULL;
    if (!x.t || !x.fcode || !x.fcfunc || !x.forder) {
        rc = rw_err_set(err, RW_ENOMEM, "out of memory");
        goto out;
    }
    uint64_t nev = rw_reader_nevents(r), to = o->to < nev ? o->to : nev;
    result.end_pos = to;
    if (o->format == RW_EXPORT_CHROME) {
        fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[", out);
    } else if (o->format == RW_EXPORT_PERFETTO) {
        x.pf = rw_pf_new(out, x.pid, m && m->run_target ? m->run_target : "python");
        if (!x.pf) {
            rc = rw_err_set(err, RW_ENOMEM, "out of memory");
            goto out;
        }
    }
    double start = 0, stop = 0;
    if (rw_reader_nchunks(r) && o->from < to) {
        rw_scan_opts so = {
            .from = o->from,
            .to = to,
            .decode = RW_DECODE_SKIP_ALLOCS, /* calls only */
        };
        if ((rc = rw_scan_open(r, &so, &c, err)) != RW_OK)
            goto out;
        /* Frames open at the start of the range, opened at its first event's time. */
        int opened = !o->from;
        rw_event ev;
        int n;
        uint64_t tick = 0;
        while ((n = rw_scan_next(c, &ev, err)) == 1) {
            if (o->max_bytes && out_bytes(&x) >= o->max_bytes && RW_IS_EVENT(ev.kind)) {
                result.stopped = 1;
                result.stop_pos = ev.pos;
                break;
            }
            double at = ts_us(&x, ev.tick);
            if (!opened) {
                opened = 1;
                start = at;
                for (uint32_t th = 1; th < x.nthreads; th++) {
                    const rw_stack *st = rw_scan_stack(c, th);
                    for (uint32_t i = 0; st && i < st->depth; i++) {
                        /* The record just read may have changed this stack; frames it
                         * pushed are handled below as calls. */
                        if (st->frames[i].call_pos >= ev.pos)
                            break;
                        push(&x, th, st->frames[i].code, st->frames[i].is_c,
                             st->frames[i].call_pos, at);
                    }
                }
                /* A RETURN just read popped its frame: reopen it so it can close. */
                if (ev.kind == RW_K_RETURN || ev.kind == RW_K_C_RETURN ||
                    ev.kind == RW_K_C_EXCEPTION) {
                    tstate *t = thread_of(&x, ev.thread);
                    int found = 0;
                    for (size_t i = 0; i < t->depth; i++)
                        found |= t->st[i].call_pos == ev.call_pos;
                    if (!found && ev.call_pos < ev.pos)
                        push(&x, ev.thread, ev.code, ev.kind != RW_K_RETURN, ev.call_pos, at);
                }
            } else if (start == 0 && stop == 0) {
                start = at;
            }
            stop = at;
            switch (ev.kind) {
            case RW_K_CALL:
                push(&x, ev.thread, ev.code, 0, ev.pos, at);
                break;
            case RW_K_C_CALL:
                push(&x, ev.thread, ev.code, 1, ev.pos, at);
                break;
            case RW_K_RETURN:
                pop_to(&x, ev.thread, 0, ev.call_pos, at);
                break;
            case RW_K_C_RETURN:
            case RW_K_C_EXCEPTION:
                pop_to(&x, ev.thread, 1, ev.call_pos, at);
                break;
            default:
                break;
            }
            if (x.oom || (x.pf && rw_pf_failed(x.pf))) {
                rc = rw_err_set(err, RW_ENOMEM, "out of memory for the timeline");
                goto out;
            }
            if (o->progress && ++tick == 1u << 20) {
                tick = 0;
                o->progress(o->progress_ctx, ev.pos - o->from, to - o->from);
            }
        }
        if (n < 0) {
            rc = err->code;
            goto out;
        }
        /* Close what is still open at the end of the range. */
        for (uint32_t th = 0; th < x.nthreads; th++)
            while (x.t[th].depth) {
                emit(&x, th, &x.t[th].st[x.t[th].depth - 1], 0, stop);
                x.t[th].depth--;
            }
    }
    if (o->format == RW_EXPORT_CHROME) {
        /* Names of the process and of every thread that has events. */
        fputs(x.first_chrome ? "\n" : ",\n", out);
        fprintf(out, "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%lld,\"tid\":0,"
                     "\"args\":{\"name\":", x.pid);
        json_cstr(out, m && m->run_target ? m->run_target : "python");
        fputs("}}", out);
        for (uint32_t th = 0; th < x.nthreads; th++) {
            if (!x.t[th].seen)
                continue;
            fprintf(out, ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%lld,\"tid\":%u,"
                         "\"args\":{\"name\":", x.pid, th);
            json_cstr(out, thread_name(&x, th));
            fputs("}}", out);
        }
        fputs("\n]}\n", out);
    } else if (o->format == RW_EXPORT_SPEEDSCOPE) {
        write_speedscope(&x, start, stop);
    }
    if (x.oom || (x.pf && rw_pf_failed(x.pf)))
        rc = rw_err_set(err, RW_ENOMEM, "out of memory for the timeline");
    else if (fflush(out) != 0 || ferror(out) || ferror(caller_out))
        rc = rw_err_set(err, RW_EIO, "writing the timeline failed");
out:
    fclose(out); /* the counting stream; the caller's stays open */
    result.bytes = x.written;
    if (rc == RW_OK && res)
        *res = result;
    rw_pf_free(x.pf);
    rw_scan_close(c);
    for (uint32_t th = 0; x.t && th < x.nthreads; th++) {
        free(x.t[th].st);
        free(x.t[th].ev);
    }
    free(x.t);
    free(x.fcode);
    free(x.fcfunc);
    free(x.forder);
    return rc;
}
