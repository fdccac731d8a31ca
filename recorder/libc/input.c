/* Input capture's core (input.h): the records' way to the writer when recording, and
 * the per-thread queues that answer the wrappers when replaying.
 *
 * Record: a record goes straight to the writer (rw_writer_input copies it under the
 * writer's own mutex); before the writer exists (the interpreter's start-up) records
 * are kept in a list here and handed over by rw_in_attach_writer.
 * Replay: the trace's records come in the order they were logged, every thread's
 * mixed; a thread asking for its next record pulls records from the file until it
 * finds one of its own, queueing the others' on the way. The queues hold copies.
 */
#include "input.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "reader.h"
#include "sysalloc.h"
#include "writer.h"

#include "files_int.h"
#include "sigwrap.h"
#include "locks.h"
#include "shmem.h"

/* The wrappers (libc/files*.c, ...) are archive members that the program does not
 * name: an executable that captures inputs links this file, so it names them. */
__attribute__((used)) static int (*const keep_linked[])(const char *) = {
    rw_files_install_path,
};

_Atomic int rw_in_global;
__thread rw_in_tls_t rw_in_tls;

#define MAX_STREAMS 4096 /* threads a replay tells apart; later ones diverge */
#define RECENT 16        /* records kept for a divergence report */

/* An owned copy of a record (key and data follow the struct). */
typedef struct owned {
    struct owned *next;
    rw_input in;
} owned;

/* The core's state. Written by: rw_in_start/stop/attach (main thread, before and after
 * the program runs, or with the program's threads stopped), rw_in_put_flags and
 * rw_in_take (any program thread, under mu). Global because wrappers get no context. */
static struct input_state {
    pthread_mutex_t mu;
    rw_writer *w;            /* record: where records go; NULL: keep them in kept */
    owned *kept, **kept_tail;/* record: records logged before the writer exists */
    _Atomic uint32_t next_stream;
    /* Replay. */
    rw_inputs_iter *it;
    int at_end;              /* the iterator gave its last record */
    owned *head[MAX_STREAMS], *tail[MAX_STREAMS]; /* queued records per stream */
    owned *last[MAX_STREAMS];                     /* the record a thread took last */
    owned *recent[RECENT];   /* copies without data, newest at recent_n - 1 (mod) */
    size_t recent_n;
    rw_in_diverge_fn diverge;
    void (*ran_out)(uint32_t stream); /* rw_in_set_ran_out */
    int (*reserved)(uint32_t stream); /* rw_in_thread_reserve */
} in = {.mu = PTHREAD_MUTEX_INITIALIZER, .next_stream = 2};

static owned *copy_input(const rw_input *src, int with_data)
{
    size_t dlen = with_data ? src->data_len : 0;
    owned *o = rw_sys_malloc(sizeof *o + src->key_len + dlen + 1);
    if (!o)
        return NULL;
    o->next = NULL;
    o->in = *src;
    uint8_t *p = (uint8_t *)(o + 1);
    if (src->key_len)
        memcpy(p, src->key, src->key_len);
    o->in.key = p;
    p += src->key_len;
    if (dlen)
        memcpy(p, src->data, dlen);
    p[dlen] = 0;
    o->in.data = p;
    o->in.data_len = dlen;
    return o;
}

void rw_in_put_flags(uint32_t call, int64_t result, int err, const rw_in_key *k,
                     const void *data, size_t len, uint32_t flags)
{
    int saved = errno;
    rw_in_pause(); /* the writer may call wrapped functions (write) */
    uint64_t now = rw_st.nevents; /* racy without the GIL: a place, not an identity */
    uint64_t began = rw_in_tls.start;
    rw_in_tls.start = UINT64_MAX; /* a wrapper that logs sets it again (rw_in_mode) */
    /* What other processes wrote to shared memory, before the call that may see it. */
    if (RW_UNLIKELY(rw_shm_active()) &&
        rw_shm_syncs_before(call, k ? k->b : NULL, k ? k->n : 0))
        rw_shm_sync();
    rw_input r = {
        .thread = rw_in_tls.thread,
        .call = call,
        .seq = rw_in_tls.seq++,
        .position = now,
        .started = began < now ? began : 0,
        .result = result,
        .err = err,
        .flags = flags,
        .key = k ? k->b : NULL,
        .key_len = k ? k->n : 0,
        .data = data,
        .data_len = data ? len : 0,
    };
    pthread_mutex_lock(&in.mu);
    if (in.w) {
        rw_writer_input(in.w, &r);
    } else {
        owned *o = copy_input(&r, 1);
        if (o) {
            *in.kept_tail = o;
            in.kept_tail = &o->next;
        } else {
            rw_state_fail("out of memory logging an input (%s)", rw_call_name(call));
        }
    }
    pthread_mutex_unlock(&in.mu);
    rw_in_resume();
    errno = saved;
}

static void free_list(owned *o)
{
    while (o) {
        owned *n = o->next;
        rw_sys_free(o);
        o = n;
    }
}

void rw_in_start(int mode, rw_reader *replay_from)
{
    pthread_mutex_lock(&in.mu);
    in.kept_tail = &in.kept;
    if (in.it) { /* a second start in this process: the first one's reader is done */
        rw_inputs_iter_free(in.it);
        in.it = NULL;
    }
    in.at_end = 0;
    if (mode == RW_IN_REPLAY) {
        rw_err err = {0};
        if (rw_inputs_iter_open(replay_from, &in.it, &err) != RW_OK) {
            fprintf(stderr, "rewind: cannot read the trace's inputs: %s\n", err.msg);
            in.at_end = 1;
        }
    }
    pthread_mutex_unlock(&in.mu);
    rw_in_tls.thread = 1;
    rw_in_tls.seq = 0;
    rw_sig_next_pos = mode == RW_IN_REPLAY ? 0 : UINT64_MAX;
    atomic_store(&rw_in_global, mode);
}

void rw_in_attach_writer(rw_writer *w)
{
    pthread_mutex_lock(&in.mu);
    in.w = w;
    if (w) {
        for (owned *o = in.kept; o; o = o->next)
            rw_writer_input(w, &o->in);
        free_list(in.kept);
        in.kept = NULL;
        in.kept_tail = &in.kept;
    }
    pthread_mutex_unlock(&in.mu);
}

void rw_in_stop(void)
{
    atomic_store(&rw_in_global, RW_IN_OFF);
}

void rw_in_eval_mode(void)
{
    if (rw_in_tls.thread == 0)
        rw_in_tls.thread = 1;
    rw_in_tls.paused = 0;
    atomic_store(&rw_in_global, RW_IN_EVAL);
}

/* What a refused call (RW_IN_EVAL) returns: NULL for the calls that return a pointer
 * (result 0: what their records say for "none"), -1 for the others; errno EPERM. */
static const rw_input *refusal(uint32_t call)
{
    static __thread rw_input no;
    int ptr = call == RW_CALL_OPENDIR || call == RW_CALL_FDOPENDIR || call == RW_CALL_READDIR ||
              call == RW_CALL_FOPEN || call == RW_CALL_REALPATH || call == RW_CALL_GETLOGIN ||
              call == RW_CALL_CTERMID || call == RW_CALL_LOCALTIME || call == RW_CALL_SETLOCALE ||
              call == RW_CALL_GETCWD || call == RW_CALL_TTYNAME || call == RW_CALL_GETPW ||
              call == RW_CALL_GETGR;
    memset(&no, 0, sizeof no);
    no.thread = rw_in_tls.thread;
    no.call = call;
    no.result = ptr ? 0 : -1;
    /* The look-ups return an error code, not -1: EAI_SYSTEM says "see errno" (-1 is
     * EAI_BADFLAGS, which Python showed as "Bad value for ai_flags"). */
    if (call == RW_CALL_GETADDRINFO || call == RW_CALL_GETNAMEINFO)
        no.result = EAI_SYSTEM;
    no.err = EPERM;
    no.data = (const uint8_t *)"";
    no.key = (const uint8_t *)"";
    return &no;
}

/* ---- the clocks and facts an evaluation reads -----------------------------------------
 *
 * An evaluation at a stop (RW_IN_EVAL) performs no input call, but `p time.time() - t0`
 * or `p datetime.now()` is a question about the program's time: its clock reads are
 * answered with the value the replay read last before the stop (the program's "now"),
 * so time stands still at the stop. The replay keeps its latest answer of each clock
 * (clock_last, moved there from the stream's last record by rw_in_take through
 * keep_for_evaluations). A clock the
 * program never read before the stop is refused as other calls are. localtime of
 * another time than the last one is made from the last one's zone offset and name
 * (gmtime of t plus the offset: a pure function, no zone file read). A sleep returns
 * at once. */
enum { CLOCK_IDS = 12, SLOT_GETRES = CLOCK_IDS, SLOT_TOD = 2 * CLOCK_IDS, SLOT_TIME,
       SLOT_TIMES, SLOT_CLOCK, SLOT_RUSAGE, SLOT_LOCALTIME, CLOCK_SLOTS };

static owned *clock_last[CLOCK_SLOTS]; /* (mu) */

static int64_t key_i64(const rw_input *r)
{
    int64_t v = 0;
    if (r->key_len >= sizeof v)
        memcpy(&v, r->key, sizeof v);
    return v;
}

static int clock_slot(const rw_input *r)
{
    switch (r->call) {
    case RW_CALL_CLOCK_GETTIME:
    case RW_CALL_CLOCK_GETRES: {
        int64_t id = key_i64(r);
        if (id < 0 || id >= CLOCK_IDS)
            return -1;
        return (r->call == RW_CALL_CLOCK_GETRES ? SLOT_GETRES : 0) + (int)id;
    }
    case RW_CALL_GETTIMEOFDAY:
        return SLOT_TOD;
    case RW_CALL_TIME:
        return SLOT_TIME;
    case RW_CALL_TIMES:
        return SLOT_TIMES;
    case RW_CALL_CLOCK:
        return SLOT_CLOCK;
    case RW_CALL_GETRUSAGE:
        return SLOT_RUSAGE;
    case RW_CALL_LOCALTIME:
        return SLOT_LOCALTIME;
    default:
        return -1;
    }
}

/* The process's identity, which does not change under a program that does not fork
 * or set it (a fork child's replay starts from its own log): an evaluation asking
 * the same (call, key) as a read before the stop gets that answer. The working
 * directory too, until the program's next chdir (then it is not known until the
 * program's next getcwd). */
#define FACTS 64

static owned *fact_last[FACTS]; /* (mu) */

static int is_fact(uint32_t call)
{
    return call == RW_CALL_GETPID || call == RW_CALL_GETPPID || call == RW_CALL_GETID ||
           call == RW_CALL_UNAME || call == RW_CALL_GETHOSTNAME || call == RW_CALL_GETLOGIN ||
           call == RW_CALL_GETTID || call == RW_CALL_SYSCONF || call == RW_CALL_GETRLIMIT ||
           call == RW_CALL_GETCWD;
}

static int same_key(const rw_input *a, const uint8_t *key, size_t len)
{
    return a->key_len == len && (!len || !memcmp(a->key, key, len));
}

/* (mu) Stores o, a copy of a clock read or a fact that succeeded, as the latest of its
 * kind; 1 if o is now owned here (0: no room for another fact). */
static int keep_latest(owned *o)
{
    int slot = clock_slot(&o->in);
    if (slot >= 0) {
        rw_sys_free(clock_last[slot]);
        clock_last[slot] = o;
        return 1;
    }
    int free_slot = -1;
    for (int i = 0; i < FACTS; i++) {
        owned *f = fact_last[i];
        if (!f) {
            if (free_slot < 0)
                free_slot = i;
        } else if (f->in.call == o->in.call && same_key(&f->in, o->in.key, o->in.key_len)) {
            rw_sys_free(f);
            fact_last[i] = o;
            return 1;
        }
    }
    if (free_slot < 0)
        return 0;
    fact_last[free_slot] = o;
    return 1;
}

/* (mu) Keeps a copy of r, the record a thread just took, as its clock's or fact's
 * latest if it is one; a chdir forgets the working directory. A copy: the taking thread
 * reads r until its next take, and another thread's take of the same clock replaces the
 * latest (OpenSSL reads the time in two threads without the GIL). */
static void keep_for_evaluations(const rw_input *r)
{
    if (r->call == RW_CALL_CHDIR)
        for (int i = 0; i < FACTS; i++)
            if (fact_last[i] && fact_last[i]->in.call == RW_CALL_GETCWD) {
                rw_sys_free(fact_last[i]);
                fact_last[i] = NULL;
            }
    if (r->result < 0 || (clock_slot(r) < 0 && !is_fact(r->call)))
        return;
    owned *o = copy_input(r, 1);
    if (o && !keep_latest(o))
        rw_sys_free(o);
}

int rw_in_recorded_fact(uint32_t call, int64_t *result)
{
    int found = 0;
    pthread_mutex_lock(&in.mu);
    for (int i = 0; i < FACTS && !found; i++)
        if (fact_last[i] && fact_last[i]->in.call == call && fact_last[i]->in.key_len == 0) {
            *result = fact_last[i]->in.result;
            found = 1;
        }
    pthread_mutex_unlock(&in.mu);
    return found;
}

/* An evaluation's clock read, identity call or sleep (key k): the latest answer before
 * the stop, or NULL (refused). */
static const rw_input *evaluation_answer(uint32_t call, const rw_in_key *k)
{
    static __thread rw_input slept; /* a sleep returns at once: time stands still */
    if (call == RW_CALL_SLEEP) {
        memset(&slept, 0, sizeof slept);
        slept.call = call;
        slept.key = slept.data = (const uint8_t *)"";
        return &slept;
    }
    rw_input want = {.call = call, .key = k ? k->b : NULL, .key_len = k ? k->n : 0};
    if (is_fact(call)) {
        for (int i = 0; i < FACTS; i++)
            if (fact_last[i] && fact_last[i]->in.call == call &&
                same_key(&fact_last[i]->in, want.key, want.key_len))
                return &fact_last[i]->in;
        return NULL;
    }
    int slot = clock_slot(&want);
    if (slot < 0 || !clock_last[slot])
        return NULL;
    const rw_input *last = &clock_last[slot]->in;
    if (same_key(last, want.key, want.key_len))
        return last;
    enum { WORDS = 10 }; /* clock.c's packed struct tm: sec ... isdst, gmtoff, zone */
    if (call != RW_CALL_LOCALTIME || want.key_len != sizeof(int64_t) || !last->result ||
        last->data_len < WORDS * sizeof(int64_t))
        return NULL;
    static __thread rw_input made;
    static __thread uint8_t data[WORDS * sizeof(int64_t) + 64];
    int64_t w[WORDS], t;
    memcpy(w, last->data, sizeof w);
    memcpy(&t, want.key, sizeof t);
    time_t shifted = (time_t)(t + w[9]);
    struct tm tm;
    if (!gmtime_r(&shifted, &tm))
        return NULL;
    int64_t v[WORDS] = {tm.tm_sec, tm.tm_min, tm.tm_hour, tm.tm_mday, tm.tm_mon, tm.tm_year,
                        tm.tm_wday, tm.tm_yday, w[8], w[9]};
    size_t zone = last->data_len - sizeof w;
    if (zone > sizeof data - sizeof v)
        zone = sizeof data - sizeof v;
    memcpy(data, v, sizeof v);
    memcpy(data + sizeof v, last->data + sizeof w, zone);
    made = *last;
    made.key = want.key;
    made.data = data;
    made.data_len = sizeof v + zone;
    return &made;
}

void rw_in_restart_child(void)
{
    /* Only this thread runs: the mutex may have been held by a thread that is gone. */
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    in.mu = fresh;
    free_list(in.kept);
    in.kept = NULL;
    in.kept_tail = &in.kept;
    in.w = NULL;
    atomic_store(&in.next_stream, 2);
    rw_sig_forget(); /* CPython clears its trips in a fork child */
    rw_shm_restart_child();
    atomic_store(&rw_locks_threaded, 0);
    rw_in_tls.thread = 1;
    rw_in_tls.seq = 0;
}

uint32_t rw_in_thread_streams(void)
{
    return atomic_load(&in.next_stream);
}

uint32_t rw_in_thread_next(void)
{
    atomic_store(&rw_locks_threaded, 1); /* locks.c: acquisitions are logged from now */
    uint32_t s = atomic_fetch_add(&in.next_stream, 1);
    while (in.reserved && in.reserved(s))
        s = atomic_fetch_add(&in.next_stream, 1);
    return s;
}

void rw_in_thread_reserve(int (*fn)(uint32_t stream))
{
    in.reserved = fn;
}

void rw_in_thread_enter(uint32_t stream)
{
    rw_in_tls.thread = stream;
    rw_in_tls.seq = 0;
}

void rw_in_set_diverge(rw_in_diverge_fn fn)
{
    in.diverge = fn;
}

void rw_in_set_ran_out(void (*fn)(uint32_t stream))
{
    in.ran_out = fn;
}

size_t rw_in_recent(const rw_input **out, size_t cap)
{
    size_t n = in.recent_n < RECENT ? in.recent_n : RECENT;
    if (n > cap)
        n = cap;
    for (size_t i = 0; i < n; i++) {
        owned *o = in.recent[(in.recent_n - n + i) % RECENT];
        out[i] = &o->in;
    }
    return n;
}

static void remember(const rw_input *r)
{
    owned *o = copy_input(r, 0);
    if (!o)
        return;
    size_t slot = in.recent_n % RECENT;
    rw_sys_free(in.recent[slot]);
    in.recent[slot] = o;
    in.recent_n++;
}

/* Pulls records from the file until stream s has one queued after record `after` (its
 * first when NULL) (mu held). 0 when the file has no more. */
static int fill_after(uint32_t s, const owned *after)
{
    while (after ? !after->next : !in.head[s]) {
        if (in.at_end || !in.it)
            return 0;
        rw_input r;
        rw_err err = {0};
        int got = rw_inputs_iter_next(in.it, &r, &err);
        if (got <= 0) {
            in.at_end = 1;
            return 0;
        }
        if (r.thread == 0 || r.thread >= MAX_STREAMS)
            continue;
        owned *o = copy_input(&r, 1);
        if (!o)
            return 0;
        if (in.tail[r.thread])
            in.tail[r.thread]->next = o;
        else
            in.head[r.thread] = o;
        in.tail[r.thread] = o;
    }
    return 1;
}

/* Pulls records until stream s has one queued (mu held). 0 when the file has no more. */
static int fill(uint32_t s)
{
    return fill_after(s, NULL);
}

int rw_in_next_positions(uint64_t *pos, uint64_t *started)
{
    uint32_t s = rw_in_tls.thread;
    if (s == 0 || s >= MAX_STREAMS)
        return 0;
    rw_in_pause();
    pthread_mutex_lock(&in.mu);
    int got = fill(s);
    if (got) {
        *pos = in.head[s]->in.position;
        *started = in.head[s]->in.started ? in.head[s]->in.started : *pos;
    }
    pthread_mutex_unlock(&in.mu);
    rw_in_resume();
    return got;
}

int rw_in_next_position(uint64_t *pos)
{
    uint64_t started;
    return rw_in_next_positions(pos, &started);
}

static void key_text(const uint8_t *k, size_t n, char *out, size_t cap)
{
    size_t o = 0, i = 0;
    out[0] = '\0';
    for (; i + 8 <= n && i < 8 * 4; i += 8) {
        int text = 1; /* eight printable bytes: the key's string has begun */
        for (size_t j = i; j < i + 8 && text; j++)
            text = k[j] >= 0x20 && k[j] < 0x7f;
        if (text)
            break;
        int64_t v;
        memcpy(&v, k + i, 8);
        o += (size_t)snprintf(out + o, cap - o, "%s%lld", o ? ", " : "", (long long)v);
        if (o >= cap)
            return;
    }
    /* A trailing string (a path): shown when printable. */
    size_t rest = n - i;
    int printable = rest > 0;
    for (size_t j = i; j < n && printable; j++)
        printable = k[j] >= 0x20 && k[j] < 0x7f;
    if (printable && o < cap)
        snprintf(out + o, cap - o, "%s'%.*s'", o ? ", " : "", (int)(rest > 200 ? 200 : rest),
                 (const char *)k + i);
}

static void diverged(const char *what, const rw_input *expected)
{
    rw_in_diverge_fn fn = in.diverge;
    if (fn)
        fn(what, expected);
    fprintf(stderr, "rewind: the replay diverged from the recording: %s\n", what);
    _exit(3);
}

void rw_in_diverge(const char *what, const rw_input *expected)
{
    rw_in_pause(); /* for good: the thread never comes back */
    diverged(what, expected);
    _exit(3);
}

int rw_in_take_signal(uint64_t pos, uint64_t *due)
{
    uint32_t s = rw_in_tls.thread;
    *due = UINT64_MAX;
    if (s == 0 || s >= MAX_STREAMS ||
        atomic_load_explicit(&rw_in_global, memory_order_relaxed) != RW_IN_REPLAY)
        return 0;
    int sig = 0;
    rw_in_pause();
    pthread_mutex_lock(&in.mu);
    owned *o = fill(s) ? in.head[s] : NULL;
    if (o && o->in.call == RW_CALL_SIGNAL) {
        if (o->in.position <= pos) {
            int64_t v = 0;
            if (o->in.key_len >= 8)
                memcpy(&v, o->in.key, 8);
            sig = v > 0 && v < 65 ? (int)v : -1;
            in.head[s] = o->next;
            if (!in.head[s])
                in.tail[s] = NULL;
            remember(&o->in);
            rw_sys_free(o);
            rw_in_tls.seq++;
        } else {
            *due = o->in.position;
        }
    }
    pthread_mutex_unlock(&in.mu);
    rw_in_resume();
    return sig;
}

/* Development (docs/engine-protocol.md): REWIND_ENGINE_INPUTS=FILE, read before the
 * program's environment replaces the engine's, appends a line per input taken: the OS
 * thread, the stream, its record's number, call, recorded position and the replay's
 * event count then. -1 when unset. */
static int take_log = -1;

__attribute__((constructor)) static void take_log_open(void)
{
    const char *path = getenv("REWIND_ENGINE_INPUTS");
    if (path && *path)
        take_log = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

static void take_logged(uint32_t s, const rw_input *g, uint32_t call)
{
    char line[160];
    int n = snprintf(line, sizeof line,
                     "take tid %ld stream %u seq %llu call %u at %llu now %llu asked %u\n",
                     (long)syscall(SYS_gettid), s, (unsigned long long)g->seq, g->call,
                     (unsigned long long)g->position, (unsigned long long)rw_st.nevents, call);
    if (n > 0 && write(take_log, line, (size_t)n) < 0)
        take_log = -1;
}

#define OPTIONAL_AHEAD 64 /* records rw_in_take_optional looks at */

/* Whether record g is call with key k (NULL: any key). */
static int same_call(const rw_input *g, uint32_t call, const rw_in_key *k)
{
    return g->call == call && (!k || same_key(g, k->b, k->n));
}

const rw_input *rw_in_take_optional(uint32_t call, const rw_in_key *k)
{
    if (atomic_load_explicit(&rw_in_global, memory_order_relaxed) != RW_IN_EVAL) {
        /* The call is here when it is among the thread's next optional records (a
         * few: a trace is a stranger's file): those before it were made by another
         * thread in the replay, and rw_in_take skips them. */
        uint32_t s = rw_in_tls.thread;
        int here = 0, looked = 0;
        rw_in_pause();
        pthread_mutex_lock(&in.mu);
        if (s < MAX_STREAMS && fill(s)) {
            for (const owned *o = in.head[s]; o && looked++ < OPTIONAL_AHEAD;
                 o = fill_after(s, o) ? o->next : NULL) {
                if (same_call(&o->in, call, k)) {
                    here = 1;
                    break;
                }
                if (o->in.call == RW_CALL_SHARED_MEM)
                    continue; /* rw_in_take applies it on the way */
                if (!(o->in.flags & RW_INPUT_F_OPTIONAL))
                    break;
            }
        }
        pthread_mutex_unlock(&in.mu);
        rw_in_resume();
        if (!here)
            return NULL;
    }
    return rw_in_take(call, k);
}

const rw_input *rw_in_take(uint32_t call, const rw_in_key *k)
{
    if (RW_UNLIKELY(atomic_load_explicit(&rw_in_global, memory_order_relaxed) == RW_IN_EVAL)) {
        const rw_input *now = evaluation_answer(call, k);
        return now ? now : refusal(call);
    }
    if (RW_UNLIKELY(atomic_load_explicit(&rw_locks_nclaims, memory_order_relaxed)))
        rw_locks_release(); /* locks.h: the thread is back in its place */
    uint32_t s = rw_in_tls.thread;
    char msg[700];
    rw_in_pause(); /* the reader calls wrapped functions (pread); a divergence never
                    * comes back, so the thread stays paused then */
    pthread_mutex_lock(&in.mu);
    if (s >= MAX_STREAMS) {
        pthread_mutex_unlock(&in.mu);
        snprintf(msg, sizeof msg, "thread stream %u is beyond what a replay follows", s);
        diverged(msg, NULL);
    }
    rw_sys_free(in.last[s]);
    in.last[s] = NULL;
next:
    if (!fill(s)) {
        pthread_mutex_unlock(&in.mu);
        if (in.ran_out)
            in.ran_out(s); /* returns when the call is a divergence */
        char seen[300];
        key_text(k ? k->b : NULL, k ? k->n : 0, seen, sizeof seen);
        snprintf(msg, sizeof msg,
                 "thread %u called %s(%s), its call number %llu, but the recording has no "
                 "more inputs for that thread",
                 s, rw_call_name(call) ? rw_call_name(call) : "?", seen,
                 (unsigned long long)rw_in_tls.seq);
        diverged(msg, NULL);
    }
    owned *o = in.head[s];
    in.head[s] = o->next;
    if (!in.head[s])
        in.tail[s] = NULL;
    o->next = NULL;
    if (RW_UNLIKELY(o->in.call == RW_CALL_SHARED_MEM)) {
        /* Shared memory as other processes left it before this call (shmem.c). */
        int ok = rw_shm_apply(&o->in);
        uint64_t seq = o->in.seq, at = o->in.position;
        rw_sys_free(o);
        rw_in_tls.seq++;
        if (ok)
            goto next;
        pthread_mutex_unlock(&in.mu);
        snprintf(msg, sizeof msg,
                 "thread %u, input %llu (recorded at event %llu): shared memory written by "
                 "another process names a mapping the replay does not have (a damaged or "
                 "forged trace)",
                 s, (unsigned long long)seq, (unsigned long long)at);
        diverged(msg, NULL);
    }
    if (RW_UNLIKELY(o->in.flags & RW_INPUT_F_OPTIONAL) && !same_call(&o->in, call, k)) {
        rw_sys_free(o); /* made by another thread in the replay, or not at all */
        rw_in_tls.seq++;
        goto next;
    }
    remember(&o->in);
    keep_for_evaluations(&o->in);
    in.last[s] = o;
    pthread_mutex_unlock(&in.mu);
    rw_in_tls.seq++;
    if (RW_UNLIKELY(take_log >= 0))
        take_logged(s, &o->in, call); /* paused: the write is not the program's */
    rw_in_resume();

    if (!same_call(&o->in, call, k)) {
        char want[300], seen[300];
        key_text(o->in.key, o->in.key_len, want, sizeof want);
        key_text(k ? k->b : NULL, k ? k->n : 0, seen, sizeof seen);
        snprintf(msg, sizeof msg,
                 "thread %u, input %llu (recorded at event %llu): the recording has %s(%s), "
                 "the replay called %s(%s)",
                 s, (unsigned long long)o->in.seq, (unsigned long long)o->in.position,
                 rw_call_name(o->in.call) ? rw_call_name(o->in.call) : "?", want,
                 rw_call_name(call) ? rw_call_name(call) : "?", seen);
        diverged(msg, &o->in);
    }
    /* A signal handler that ran right after this call (EINTR, raise) is due now. */
    if (s == 1)
        rw_sig_replay_poll();
    if (RW_UNLIKELY(rw_locks_next_event != NULL) && call != RW_CALL_SEM_WAIT)
        rw_locks_resume_after(o->in.position); /* locks.h: a call made without the GIL */
    return &o->in;
}

void *rw_libc_late(void **slot, const char *name)
{
    *slot = dlsym(RTLD_NEXT, name);
    return *slot;
}
