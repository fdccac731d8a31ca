/* Crash, hang and dump reports (see crash.h and docs/crashes.md).
 *
 * Three producers share one report (guarded by `owner`, the tid of the thread building
 * it): the fatal handler (SIGSEGV, SIGFPE, SIGABRT, SIGBUS, SIGILL), the dump signal's
 * handler, and the timeout thread. Each fills the static report, packs it into a
 * static buffer and hands it to the writer thread with rw_writer_crash. Rules for
 * everything reached from a handler: async-signal-safe system calls only (write,
 * pread, open, sigaction, raise, clock_gettime, nanosleep), no malloc (capstone's
 * allocator is a bump arena filled at install), no locks, no Python API that
 * allocates. The faulthandler text is produced by CPython's own dump functions
 * (_Py_DumpTracebackThreads, the code faulthandler runs) into a memfd and read back,
 * so that it is byte for byte what faulthandler prints.
 *
 * Uses CPython internals (Py_BUILD_CORE): frames, the interpreter's thread list.
 */
#define Py_BUILD_CORE 1
#include <Python.h>

#include "crash.h"

#include "internal/pycore_frame.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_pyerrors.h"
#include "internal/pycore_traceback.h"

#include <capstone/capstone.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "source.h"
#include "state.h"
#include "writer.h"

#define MAX_THREADS 100        /* faulthandler's MAX_NTHREADS */
#define MAX_DEPTH 100          /* faulthandler's MAX_FRAME_DEPTH */
#define MAX_PYFRAMES 4096      /* frames of all threads together */
#define MAX_STRING 500         /* faulthandler's MAX_STRING_LENGTH, in characters */
#define STR_CAP 1024           /* escaped, cut to fit */
#define MAX_CFRAMES 128
#define SYM_CAP 256
#define MOD_CAP 512
#define MAX_INSNS 20
#define INSNS_BEFORE 8
#define CODE_WINDOW 64         /* bytes read on each side of pc */
#define TEXT_CAP (512u << 10)
#define PACK_CAP (4u << 20)
#define MAPS_CAP (1u << 20)
#define ALTSTACK_SIZE (256u << 10)
#define ARENA_SIZE (4u << 20)
#define IDENT_CAP 4096
#define CRASH_WAIT_MS 10000    /* how long a closing report waits for the writer: it
                                * encodes every buffered record first (up to 64 blocks) */
#define DUMP_WAIT_MS 10000
#define CSTACK_WAIT_MS 1000

static const int fatal_sigs[] = {SIGSEGV, SIGFPE, SIGABRT, SIGBUS, SIGILL};
#define NFATAL ((int)(sizeof fatal_sigs / sizeof fatal_sigs[0]))
static const char *const fatal_names[] = {"Segmentation fault", "Floating point exception",
                                          "Aborted", "Bus error", "Illegal instruction"};

/* ---- the report (static: guarded by owner) ----------------------------------------- */

typedef struct pyframe {
    Rewind__CrashFrame m;
    char file[STR_CAP];
    char name[STR_CAP];
} pyframe;

typedef struct cframe {
    Rewind__CrashCFrame m;
    char sym[SYM_CAP];
    char mod[MOD_CAP];
} cframe;

typedef struct insn {
    Rewind__CrashInsn m;
    uint8_t bytes[16];
    char mnemonic[32];
    char operands[160];
} insn;

static struct report {
    Rewind__CrashReport m;
    Rewind__CrashThread threads[MAX_THREADS];
    Rewind__CrashThread *threadp[MAX_THREADS];
    pyframe frames[MAX_PYFRAMES];
    Rewind__CrashFrame *framep[MAX_PYFRAMES];
    cframe cframes[MAX_CFRAMES];
    Rewind__CrashCFrame *cframep[MAX_CFRAMES];
    insn insns[MAX_INSNS];
    Rewind__CrashInsn *insnp[MAX_INSNS];
    char text[TEXT_CAP];
    char note[512];
    char signame[16];
} rep;

static uint8_t pack_fatal[PACK_CAP]; /* fatal and timeout reports */
static uint8_t pack_dump[PACK_CAP];  /* dumps: a timed-out dump may still be read */
static char maps[MAPS_CAP];          /* /proc/self/maps, read when a report is made */
static size_t maps_len;
static uint8_t code_buf[2 * CODE_WINDOW];

/* ---- set at install, read-only afterwards --------------------------------------- */

static int installed;
static rw_crash_opts opts;
static PyInterpreterState *interp;
static Py_ssize_t extra_index = -1; /* source_settrace.c's co_extra slot */
static int memfd = -1;
static csh cs;
static cs_insn *cs_one;              /* cs_malloc'd at install */
static int cs_ok;
static struct sigaction prev_fatal[NFATAL];
static int fatal_ours[NFATAL];
static struct sigaction prev_dump, prev_cstack;
static int dump_ours, cstack_ours, cstack_sig;
static void *main_altstack;
static pthread_t main_thread;
static char timeout_header[64];
static char timeout_line[4200];

/* ---- shared between handlers and threads ------------------------------------------ */

static _Atomic pid_t owner;          /* tid of the thread building the report, 0 none */
static _Atomic int closed;           /* a report closed the trace */
static _Atomic int dumps_stuck;      /* a dump timed out: pack_dump may still be read */
static _Atomic int finishing;        /* uninstalled: the trace is about to be closed */
static _Atomic uint64_t idents[IDENT_CAP]; /* ThreadDef id - 1 -> ident */
static _Atomic uint32_t nidents;
static _Atomic int cstack_wanted, cstack_done;

static pthread_t timer;
static int timer_started;
static pthread_mutex_t timer_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t timer_cv;
static int timer_stop;               /* (timer_mu) */

static __thread void *thread_altstack;

/* ---- capstone's memory: a bump arena (async-signal-safe) ----------------------- */

static uint8_t *arena;
static _Atomic size_t arena_used;

static void *arena_malloc(size_t n)
{
    size_t need = ((n + 15) & ~(size_t)15) + 16;
    size_t at = atomic_fetch_add(&arena_used, need);
    if (!arena || at + need > ARENA_SIZE)
        return NULL;
    uint8_t *p = arena + at;
    memcpy(p, &n, sizeof n); /* size header, for realloc */
    return p + 16;
}

static void *arena_calloc(size_t k, size_t n)
{
    if (n && k > SIZE_MAX / n)
        return NULL;
    void *p = arena_malloc(k * n);
    if (p)
        memset(p, 0, k * n);
    return p;
}

static void *arena_realloc(void *old, size_t n)
{
    void *p = arena_malloc(n);
    if (p && old) {
        size_t was;
        memcpy(&was, (uint8_t *)old - 16, sizeof was);
        memcpy(p, old, was < n ? was : n);
    }
    return p;
}

static void arena_free(void *p)
{
    (void)p; /* capstone frees at cs_close only; the arena lives for the process */
}

/* Minimal vsnprintf for capstone's operand printer: flags - 0 # + space, width,
 * precision, length hh h l ll z j t, conversions d i u x X o c s p %. No locale, no
 * allocation: async-signal-safe, unlike glibc's. */
static int fmt_vsnprintf(char *out, size_t cap, const char *fmt, va_list ap)
{
    size_t n = 0;
#define PUT(ch)                                                                        \
    do {                                                                               \
        if (n + 1 < cap)                                                               \
            out[n] = (ch);                                                             \
        n++;                                                                           \
    } while (0)
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            PUT(*p);
            continue;
        }
        p++;
        int left = 0, zero = 0, alt = 0, plus = 0, space = 0, width = 0, prec = -1, len = 0;
        for (;; p++) {
            if (*p == '-')
                left = 1;
            else if (*p == '0')
                zero = 1;
            else if (*p == '#')
                alt = 1;
            else if (*p == '+')
                plus = 1;
            else if (*p == ' ')
                space = 1;
            else
                break;
        }
        if (*p == '*') {
            width = va_arg(ap, int);
            p++;
        }
        while (*p >= '0' && *p <= '9')
            width = width * 10 + (*p++ - '0');
        if (*p == '.') {
            p++;
            prec = 0;
            if (*p == '*') {
                prec = va_arg(ap, int);
                p++;
            }
            while (*p >= '0' && *p <= '9')
                prec = prec * 10 + (*p++ - '0');
        }
        for (;; p++) {
            if (*p == 'h')
                len = len == -1 ? -2 : -1;
            else if (*p == 'l')
                len++;
            else if (*p == 'z' || *p == 'j' || *p == 't')
                len = 2;
            else
                break;
        }
        char c = *p, digits[72];
        const char *s = digits;
        size_t slen = 0;
        char sign = 0;
        const char *prefix = "";
        if (c == '\0')
            break;
        if (c == '%') {
            PUT('%');
            continue;
        }
        if (c == 's') {
            s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            while (s[slen] && (prec < 0 || (int)slen < prec))
                slen++;
        } else if (c == 'c') {
            digits[0] = (char)va_arg(ap, int);
            slen = 1;
        } else if (strchr("diuxXop", c)) {
            unsigned long long v;
            if (c == 'p') {
                v = (uintptr_t)va_arg(ap, void *);
                alt = 1;
            } else if (c == 'd' || c == 'i') {
                long long sv = len >= 2 ? va_arg(ap, long long)
                               : len == 1 ? va_arg(ap, long)
                                          : va_arg(ap, int);
                if (len == -1)
                    sv = (short)sv;
                else if (len == -2)
                    sv = (signed char)sv;
                sign = sv < 0 ? '-' : plus ? '+' : space ? ' ' : 0;
                v = sv < 0 ? 0ull - (unsigned long long)sv : (unsigned long long)sv;
            } else {
                v = len >= 2 ? va_arg(ap, unsigned long long)
                    : len == 1 ? va_arg(ap, unsigned long)
                               : va_arg(ap, unsigned);
                if (len == -1)
                    v = (unsigned short)v;
                else if (len == -2)
                    v = (unsigned char)v;
            }
            unsigned base = c == 'o' ? 8 : (c == 'x' || c == 'X' || c == 'p') ? 16 : 10;
            const char *dig = c == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
            char tmp[64];
            size_t k = 0;
            do {
                tmp[k++] = dig[v % base];
                v /= base;
            } while (v);
            while (prec >= 0 && (int)k < prec && k < sizeof tmp)
                tmp[k++] = '0';
            if (alt && base == 16 && !(k == 1 && tmp[0] == '0'))
                prefix = c == 'X' ? "0X" : "0x";
            else if (alt && base == 8 && tmp[k - 1] != '0')
                prefix = "0";
            for (size_t i = 0; i < k; i++)
                digits[i] = tmp[k - 1 - i];
            slen = k;
        } else {
            PUT('%');
            PUT(c);
            continue;
        }
        int plen = (int)strlen(prefix) + (sign != 0);
        int pad = width > (int)slen + plen ? width - (int)slen - plen : 0;
        if (!left && !(zero && c != 's' && c != 'c'))
            for (; pad > 0; pad--)
                PUT(' ');
        if (sign)
            PUT(sign);
        for (const char *q = prefix; *q; q++)
            PUT(*q);
        if (!left)
            for (; pad > 0; pad--)
                PUT('0');
        for (size_t i = 0; i < slen; i++)
            PUT(s[i]);
        for (; pad > 0; pad--)
            PUT(' ');
    }
#undef PUT
    if (cap)
        out[n < cap ? n : cap - 1] = '\0';
    return (int)n;
}

/* ---- small async-signal-safe helpers --------------------------------------------- */

static pid_t my_tid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void put_str(const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t k = write(STDERR_FILENO, s, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return;
        s += k;
        n -= (size_t)k;
    }
}

/* Bounded copy, always NUL-terminated. */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src && src[i] && i + 1 < cap; i++)
        dst[i] = src[i];
    dst[i] = '\0';
}

static const char *sig_name(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    case SIGQUIT: return "SIGQUIT";
    case SIGHUP: return "SIGHUP";
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGPWR: return "SIGPWR";
    case SIGWINCH: return "SIGWINCH";
    default: return "";
    }
}

static uint32_t thread_id_of(uint64_t ident)
{
    uint32_t n = atomic_load(&nidents);
    for (uint32_t i = n; i > 0; i--) /* newest first: idents are reused */
        if (atomic_load_explicit(&idents[i - 1], memory_order_relaxed) == ident)
            return i;
    return 0;
}

void rw_crash_note_thread(uint32_t id, uint64_t ident)
{
    if (id == 0 || id > IDENT_CAP)
        return;
    atomic_store(&idents[id - 1], ident);
    uint32_t n = atomic_load(&nidents);
    while (n < id && !atomic_compare_exchange_weak(&nidents, &n, id))
        ;
}

/* ---- Python stacks ---------------------------------------------------------------- */

/* str as faulthandler's _Py_DumpASCII writes it: printable ASCII as is, others as
 * \xNN, \uNNNN, \UNNNNNNNN, cut after 500 characters with "...". */
static void escape_str(PyObject *o, char *dst, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    if (!o || !PyUnicode_Check(o) || !PyUnicode_IS_READY(o)) {
        copy_str(dst, cap, "???");
        return;
    }
    Py_ssize_t len = PyUnicode_GET_LENGTH(o);
    int kind = PyUnicode_KIND(o);
    const void *data = PyUnicode_DATA(o);
    int cut = len > MAX_STRING;
    if (cut)
        len = MAX_STRING;
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        char tmp[12];
        size_t k = 0;
        if (ch >= ' ' && ch <= 126) {
            tmp[k++] = (char)ch;
        } else {
            int digits = ch <= 0xff ? 2 : ch <= 0xffff ? 4 : 8;
            tmp[k++] = '\\';
            tmp[k++] = digits == 2 ? 'x' : digits == 4 ? 'u' : 'U';
            for (int d = digits - 1; d >= 0; d--)
                tmp[k++] = hex[(ch >> (4 * d)) & 15];
        }
        if (n + k + 4 > cap) {
            cut = 1;
            break;
        }
        memcpy(dst + n, tmp, k);
        n += k;
    }
    if (cut && n + 4 <= cap) {
        memcpy(dst + n, "...", 3);
        n += 3;
    }
    dst[n] = '\0';
}

static uint32_t frame_code_id(PyCodeObject *co)
{
    if (extra_index < 0)
        return 0;
    struct {
        Py_ssize_t ce_size;
        void *ce_extras[1];
    } *ex = co->co_extra;
    if (!ex || ex->ce_size <= extra_index)
        return 0;
    return (uint32_t)(uintptr_t)ex->ce_extras[extra_index];
}

/* Fills rep.threads from the interpreter's thread list, in faulthandler's order. */
static void walk_threads(PyThreadState *current)
{
    Rewind__CrashReport *m = &rep.m;
    m->n_threads = 0;
    m->threads = rep.threadp;
    if (!interp || _Py_IsFinalizing())
        return;
    size_t used = 0;
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp);
         ts && m->n_threads < MAX_THREADS; ts = PyThreadState_Next(ts)) {
        Rewind__CrashThread *t = &rep.threads[m->n_threads];
        rewind__crash_thread__init(t);
        rep.threadp[m->n_threads++] = t;
        t->ident = ts->thread_id;
        t->thread = thread_id_of(ts->thread_id);
        t->current = ts == current;
        t->frames = &rep.framep[used];
        _PyInterpreterFrame *f = ts->cframe ? ts->cframe->current_frame : NULL;
        for (unsigned depth = 0; f; f = f->previous, depth++) {
            if (depth >= MAX_DEPTH || used >= MAX_PYFRAMES) {
                t->truncated = 1;
                break;
            }
            pyframe *pf = &rep.frames[used];
            rewind__crash_frame__init(&pf->m);
            PyCodeObject *co = f->f_code;
            escape_str(co->co_filename, pf->file, sizeof pf->file);
            escape_str(co->co_name, pf->name, sizeof pf->name);
            pf->m.filename = pf->file;
            pf->m.name = pf->name;
            pf->m.line = PyCode_Addr2Line(co, _PyInterpreterFrame_LASTI(f) *
                                                  (int)sizeof(_Py_CODEUNIT));
            pf->m.code = frame_code_id(co);
            rep.framep[used++] = &pf->m;
            t->n_frames++;
        }
    }
}

/* faulthandler's own text, by CPython's own functions, through the memfd. */
static void render_text(const char *header, PyThreadState *current, int ext_modules)
{
    rep.text[0] = '\0';
    rep.m.text = rep.text;
    if (memfd < 0 || lseek(memfd, 0, SEEK_SET) < 0 || ftruncate(memfd, 0) < 0)
        return;
    if (header[0] && write(memfd, header, strlen(header)) < 0)
        return;
    if (interp && !_Py_IsFinalizing()) {
        const char *msg = _Py_DumpTracebackThreads(memfd, interp, current);
        if (msg) {
            (void)!write(memfd, msg, strlen(msg));
            (void)!write(memfd, "\n", 1);
        }
        if (ext_modules)
            _Py_DumpExtensionModules(memfd, interp);
    }
    ssize_t n = pread(memfd, rep.text, TEXT_CAP - 1, 0);
    rep.text[n > 0 ? n : 0] = '\0';
}

/* Appends a clause to the report's note ("; " between clauses). */
static void add_note(const char *what)
{
    size_t n = strlen(rep.note);
    if (n)
        copy_str(rep.note + n, sizeof rep.note - n, "; ");
    n = strlen(rep.note);
    copy_str(rep.note + n, sizeof rep.note - n, what);
}

/* ---- memory maps, C stack, disassembly ------------------------------------------- */

static void read_maps(void)
{
    maps_len = 0;
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    for (;;) {
        ssize_t k = read(fd, maps + maps_len, MAPS_CAP - 1 - maps_len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        maps_len += (size_t)k;
    }
    close(fd);
    maps[maps_len] = '\0';
}

static uint64_t parse_hex(const char **p)
{
    uint64_t v = 0;
    for (;; (*p)++) {
        char c = **p;
        if (c >= '0' && c <= '9')
            v = v * 16 + (uint64_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = v * 16 + (uint64_t)(c - 'a' + 10);
        else
            return v;
    }
}

/* The mapping holding addr: [start, end), readable, file path and load base. */
typedef struct mapping {
    uint64_t start, end, base;
    int readable;
    const char *path;
    size_t path_len;
} mapping;

static int find_mapping(uint64_t addr, mapping *out)
{
    const char *p = maps, *end = maps + maps_len;
    while (p < end) {
        const char *line = p;
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        p = eol + 1;
        const char *q = line;
        uint64_t s = parse_hex(&q);
        if (*q++ != '-')
            continue;
        uint64_t e = parse_hex(&q);
        if (addr < s || addr >= e)
            continue;
        out->start = s;
        out->end = e;
        out->readable = q[1] == 'r';
        q += 6; /* " rwxp " */
        uint64_t off = parse_hex(&q);
        out->base = s - off;
        for (int field = 0; field < 2 && q < eol; field++) { /* dev, inode */
            while (q < eol && *q == ' ')
                q++;
            while (q < eol && *q != ' ')
                q++;
        }
        while (q < eol && *q == ' ')
            q++;
        out->path = q;
        out->path_len = (size_t)(eol - q);
        return 1;
    }
    return 0;
}

/* Copies [addr, addr + n) into dst as far as it is mapped readable; returns the bytes
 * copied from the start (never touches unmapped memory). */
static size_t read_mem(uint64_t addr, uint8_t *dst, size_t n)
{
    size_t got = 0;
    while (got < n) {
        mapping mp;
        if (!find_mapping(addr + got, &mp) || !mp.readable)
            break;
        size_t k = mp.end - (addr + got) < n - got ? (size_t)(mp.end - (addr + got)) : n - got;
        memcpy(dst + got, (const void *)(uintptr_t)(addr + got), k);
        got += k;
    }
    return got;
}

static unw_cursor_t unw_cur; /* static: handlers may run on a small foreign altstack */
static unw_context_t unw_ctx;

/* C stack from the interrupted context uc (NULL: from here), into rep.cframes. */
static void capture_cstack(void *uc)
{
    Rewind__CrashReport *m = &rep.m;
    m->n_c_frames = 0;
    m->c_frames = rep.cframep;
    int rc;
    if (uc) {
        memcpy(&unw_ctx, uc, sizeof unw_ctx < sizeof(ucontext_t) ? sizeof unw_ctx
                                                                   : sizeof(ucontext_t));
        rc = unw_init_local2(&unw_cur, &unw_ctx, UNW_INIT_SIGNAL_FRAME);
    } else {
        unw_getcontext(&unw_ctx);
        rc = unw_init_local(&unw_cur, &unw_ctx);
    }
    if (rc < 0)
        return;
    do {
        unw_word_t ip = 0, off = 0;
        if (unw_get_reg(&unw_cur, UNW_REG_IP, &ip) < 0 || ip == 0)
            break;
        cframe *cf = &rep.cframes[m->n_c_frames];
        rewind__crash_cframe__init(&cf->m);
        cf->m.pc = ip;
        cf->sym[0] = '\0';
        int prc = unw_get_proc_name(&unw_cur, cf->sym, sizeof cf->sym, &off);
        if (prc == 0 || prc == -UNW_ENOMEM) /* ENOMEM: the name was cut, still useful */
            cf->m.offset = off;
        else
            cf->sym[0] = '\0';
        cf->m.symbol = cf->sym;
        cf->m.signal_frame = unw_is_signal_frame(&unw_cur) > 0;
        mapping mp;
        cf->mod[0] = '\0';
        if (find_mapping(ip, &mp) && mp.path_len && mp.path[0] != '[') {
            size_t k = mp.path_len < sizeof cf->mod - 1 ? mp.path_len : sizeof cf->mod - 1;
            memcpy(cf->mod, mp.path, k);
            cf->mod[k] = '\0';
            cf->m.module_base = mp.base;
        }
        cf->m.module = cf->mod;
        rep.cframep[m->n_c_frames++] = &cf->m;
    } while (m->n_c_frames < MAX_CFRAMES && unw_step(&unw_cur) > 0);
}

/* Disassembles one instruction at addr from bytes p (n available) into one; returns
 * its size, 0 when it does not decode. */
static size_t decode_one(const uint8_t *p, size_t n, uint64_t addr)
{
    const uint8_t *code = p;
    size_t size = n;
    uint64_t a = addr;
    if (!cs_disasm_iter(cs, &code, &size, &a, cs_one))
        return 0;
    return cs_one->size;
}

static void add_insn(uint64_t pc)
{
    insn *in = &rep.insns[rep.m.n_instructions];
    rewind__crash_insn__init(&in->m);
    in->m.address = cs_one->address;
    memcpy(in->bytes, cs_one->bytes, cs_one->size);
    in->m.bytes.data = in->bytes;
    in->m.bytes.len = cs_one->size;
    copy_str(in->mnemonic, sizeof in->mnemonic, cs_one->mnemonic);
    copy_str(in->operands, sizeof in->operands, cs_one->op_str);
    in->m.mnemonic = in->mnemonic;
    in->m.operands = in->operands;
    in->m.faulting = cs_one->address == pc;
    rep.insnp[rep.m.n_instructions++] = &in->m;
}

/* An instruction capstone cannot decode (capstone 4 misses some AVX-512 forms): its
 * first bytes, shown as "(bad)", so that the faulting pc is still marked. */
static void add_bad(const uint8_t *p, size_t n, uint64_t addr, uint64_t pc)
{
    insn *in = &rep.insns[rep.m.n_instructions];
    rewind__crash_insn__init(&in->m);
    in->m.address = addr;
    size_t k = n < 8 ? n : 8;
    memcpy(in->bytes, p, k);
    in->m.bytes.data = in->bytes;
    in->m.bytes.len = k;
    copy_str(in->mnemonic, sizeof in->mnemonic, "(bad)");
    in->operands[0] = '\0';
    in->m.mnemonic = in->mnemonic;
    in->m.operands = in->operands;
    in->m.faulting = addr == pc;
    rep.insnp[rep.m.n_instructions++] = &in->m;
}

/* Up to INSNS_BEFORE instructions before pc and the rest of MAX_INSNS from pc on. x86
 * cannot be decoded backwards: start at the farthest byte before pc from which
 * decoding lands exactly on pc. */
static void disassemble(uint64_t pc)
{
    rep.m.n_instructions = 0;
    rep.m.instructions = rep.insnp;
    if (!cs_ok || pc < CODE_WINDOW)
        return;
    size_t after = read_mem(pc, code_buf + CODE_WINDOW, CODE_WINDOW);
    if (after == 0) {
        add_note("the faulting pc is not in readable memory");
        return;
    }
    /* Readable bytes just before pc: walk back while mapped. */
    size_t before = 0;
    mapping mp;
    if (find_mapping(pc - 1, &mp) && mp.readable) {
        uint64_t lo = mp.start > pc - CODE_WINDOW ? mp.start : pc - CODE_WINDOW;
        before = (size_t)(pc - lo);
        memcpy(code_buf + CODE_WINDOW - before, (const void *)(uintptr_t)lo, before);
    }
    size_t start = 0; /* bytes before pc to start from */
    for (size_t k = before; k > 0; k--) {
        const uint8_t *p = code_buf + CODE_WINDOW - k;
        size_t off = 0, sz;
        while (off < k && (sz = decode_one(p + off, k + after - off, pc - k + off)) > 0)
            off += sz;
        if (off == k) {
            start = k;
            break;
        }
    }
    /* Pass 1: count instructions before pc to skip all but the last INSNS_BEFORE. */
    size_t nbefore = 0, off = 0, sz;
    const uint8_t *p = code_buf + CODE_WINDOW - start;
    while (off < start && (sz = decode_one(p + off, start + after - off, pc - start + off)))
        off += sz, nbefore++;
    size_t skip = nbefore > INSNS_BEFORE ? nbefore - INSNS_BEFORE : 0;
    off = 0;
    for (size_t i = 0; rep.m.n_instructions < MAX_INSNS && off < start + after; i++) {
        sz = decode_one(p + off, start + after - off, pc - start + off);
        if (!sz) {
            add_bad(p + off, start + after - off, pc - start + off, pc);
            break;
        }
        if (i >= skip)
            add_insn(pc);
        off += sz;
    }
}

/* ---- building and posting reports -------------------------------------------------- */

static void report_begin(Rewind__CrashReport__Kind kind, int sig, const siginfo_t *si,
                         const void *ucv)
{
    Rewind__CrashReport *m = &rep.m;
    rewind__crash_report__init(m);
    rep.note[0] = '\0';
    m->note = rep.note;
    m->kind = kind;
    m->signal = sig;
    copy_str(rep.signame, sizeof rep.signame, sig ? sig_name(sig) : "");
    m->signal_name = rep.signame;
    m->text = rep.text;
    rep.text[0] = '\0';
    if (si) {
        m->si_code = si->si_code;
        if (si->si_code > 0 && /* else si_addr's bytes are the sender's pid and uid */
            (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE))
            m->fault_addr = (uint64_t)(uintptr_t)si->si_addr;
    }
    if (ucv)
        m->pc = (uint64_t)((const ucontext_t *)ucv)->uc_mcontext.gregs[REG_RIP];
    uint64_t ident = (uint64_t)pthread_self();
    m->thread_ident = ident;
    m->thread = rw_tls.thread ? rw_tls.thread : thread_id_of(ident);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    m->unix_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    read_maps();
}

/* Packs the report and hands it to the writer. Returns 1 when written. */
static int post(uint8_t *buf, int close, int status, int sig, const char *reason,
                unsigned wait_ms)
{
    rw_writer *w = rw_st.w;
    if (!w || atomic_load(&closed) || atomic_load(&finishing))
        return 0;
    rep.m.note = rep.note;
    size_t len = rewind__crash_report__get_packed_size(&rep.m);
    if (len > PACK_CAP) { /* cannot happen with the bounds above; stay safe anyway */
        rep.m.n_threads = 0;
        rep.m.n_c_frames = 0;
        rep.m.text = (char *)"";
        len = rewind__crash_report__get_packed_size(&rep.m);
    }
    rewind__crash_report__pack(&rep.m, buf);
    rw_crash_req req = {buf, len, close, status, sig, reason};
    int ok = rw_writer_crash(w, &req, wait_ms);
    if (close && ok) {
        atomic_store(&closed, 1);
        atomic_store(&rw_st.on, 0);
    }
    return ok;
}

static int fatal_index(int sig)
{
    for (int i = 0; i < NFATAL; i++)
        if (fatal_sigs[i] == sig)
            return i;
    return -1;
}

/* Lets the signal do what it would have done without us: the previous handler (or
 * default action) takes over. A hardware fault (si_code > 0) is left to happen again
 * by returning (the faulting instruction runs again, and the previous handler gets
 * the genuine siginfo); a sent signal is raised again (SA_NODEFER: at once).
 * Async-signal-safe. */
static void chain(int sig, const siginfo_t *si)
{
    int i = fatal_index(sig);
    if (i >= 0 && fatal_ours[i]) {
        sigaction(sig, &prev_fatal[i], NULL);
        fatal_ours[i] = 0;
    }
    if (si && si->si_code > 0 && sig != SIGABRT)
        return;
    raise(sig);
}

/* Fatal signal handler. Async-signal-safe. */
static void fatal_handler(int sig, siginfo_t *si, void *ucv)
{
    int saved_errno = errno;
    pid_t me = my_tid(), expected = 0;
    if (getpid() != rw_st.pid) {
        chain(sig, si); /* a forked child: the trace and its writer are the parent's */
    } else if (atomic_compare_exchange_strong(&owner, &expected, me)) {
        if (!atomic_load(&closed)) {
            report_begin(REWIND__CRASH_REPORT__KIND__FATAL_SIGNAL, sig, si, ucv);
            PyThreadState *cur = interp && !_Py_IsFinalizing()
                                     ? PyGILState_GetThisThreadState() : NULL;
            walk_threads(cur);
            capture_cstack(ucv);
            if (si && si->si_code > 0)
                disassemble(rep.m.pc);
            else /* no faulting instruction: pc is just after the kill/tgkill syscall */
                add_note("the signal was sent (kill, raise, abort), not a hardware fault");
            char header[80] = "Fatal Python error: ";
            int fi = fatal_index(sig);
            copy_str(header + strlen(header), sizeof header - strlen(header),
                     fi >= 0 ? fatal_names[fi] : "signal");
            copy_str(header + strlen(header), sizeof header - strlen(header), "\n\n");
            render_text(header, cur, 1);
            post(pack_fatal, 1, 128 + sig, sig, "signal", CRASH_WAIT_MS);
        }
        chain(sig, si);
        /* Still alive: the previous handler returned. */
        atomic_store(&owner, 0);
    } else if (expected == me) {
        chain(sig, si); /* a fault inside our own report */
    } else {
        /* Another thread is reporting and will end the process: let it. */
        for (unsigned ms = 0; ms < 2 * CRASH_WAIT_MS && atomic_load(&owner); ms++)
            sleep_ms(1);
        chain(sig, si);
    }
    errno = saved_errno;
}

/* Dump signal handler: every thread's stacks, recording goes on. Async-signal-safe. */
static void dump_handler(int sig, siginfo_t *si, void *ucv)
{
    int saved_errno = errno;
    pid_t expected = 0;
    if (getpid() != rw_st.pid) {
        /* A forked child has no recording: the signal does what it did before us. */
        sigaction(sig, &prev_dump, NULL);
        raise(sig);
        errno = saved_errno;
        return;
    }
    /* Another thread may still be finishing a report (a dump signal that arrives while
     * a dump's handler runs goes to another thread, since the first blocks it): wait
     * for it rather than lose this dump. A fatal report never ends: give up then. */
    for (unsigned ms = 0; !atomic_compare_exchange_strong(&owner, &expected, my_tid());
         ms++) {
        if (ms >= 2 * DUMP_WAIT_MS) {
            errno = saved_errno;
            return;
        }
        expected = 0;
        sleep_ms(1);
    }
    if (!atomic_load(&closed) && !atomic_load(&dumps_stuck)) {
        report_begin(REWIND__CRASH_REPORT__KIND__DUMP, sig, si, ucv);
        PyThreadState *cur = interp && !_Py_IsFinalizing()
                                 ? PyGILState_GetThisThreadState() : NULL;
        walk_threads(cur);
        capture_cstack(ucv);
        render_text("", cur, 0);
        if (!post(pack_dump, 0, 0, 0, "dump", DUMP_WAIT_MS))
            atomic_store(&dumps_stuck, 1);
    }
    atomic_store(&owner, 0);
    errno = saved_errno;
}

/* The main thread's answer to the timeout thread: its own C stack. */
static void cstack_handler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    int saved_errno = errno;
    if (atomic_load(&cstack_wanted)) {
        capture_cstack(ucv);
        rep.m.pc = (uint64_t)((const ucontext_t *)ucv)->uc_mcontext.gregs[REG_RIP];
        atomic_store(&cstack_done, 1);
    }
    errno = saved_errno;
}

static void *timer_main(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);

    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    double whole = (double)(int64_t)opts.timeout_s;
    deadline.tv_sec += (time_t)whole;
    deadline.tv_nsec += (long)((opts.timeout_s - whole) * 1e9);
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&timer_mu);
    int rc = 0;
    while (!timer_stop && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&timer_cv, &timer_mu, &deadline);
    int stop = timer_stop;
    pthread_mutex_unlock(&timer_mu);
    if (stop)
        return NULL;

    pid_t me = my_tid(), expected = 0;
    for (unsigned ms = 0; !atomic_compare_exchange_strong(&owner, &expected, me); ms++) {
        if (ms > 2 * CRASH_WAIT_MS)
            break; /* a crash report never finished: give up waiting, report anyway */
        expected = 0;
        sleep_ms(1);
    }
    report_begin(REWIND__CRASH_REPORT__KIND__TIMEOUT, 0, NULL, NULL);
    rep.m.timeout_ms = (uint64_t)(opts.timeout_s * 1000 + 0.5);
    walk_threads(NULL);
    /* The C stack of the main thread, from a handler running in it. */
    rep.m.thread_ident = (uint64_t)main_thread;
    rep.m.thread = thread_id_of(rep.m.thread_ident);
    atomic_store(&cstack_done, 0);
    atomic_store(&cstack_wanted, 1);
    if (cstack_ours && pthread_kill(main_thread, cstack_sig) == 0)
        for (unsigned ms = 0; ms < CSTACK_WAIT_MS && !atomic_load(&cstack_done); ms++)
            sleep_ms(1);
    atomic_store(&cstack_wanted, 0);
    if (!atomic_load(&cstack_done)) {
        rep.m.n_c_frames = 0;
        add_note("the main thread did not answer the C stack signal within 1 s");
    }
    render_text(timeout_header, NULL, 0);
    post(pack_fatal, 1, RW_CRASH_TIMEOUT_STATUS, 0, "timeout", CRASH_WAIT_MS);
    put_str(timeout_line);
    _exit(RW_CRASH_TIMEOUT_STATUS);
}

/* ---- install ------------------------------------------------------------------------ */

static rw_code set_handler(int sig, void (*fn)(int, siginfo_t *, void *), int flags,
                           struct sigaction *prev, rw_err *err)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | flags;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, prev) < 0)
        return rw_err_set(err, RW_EIO, "sigaction(%d): %s", sig, strerror(errno));
    return RW_OK;
}

static void *new_altstack(void)
{
    void *p = mmap(NULL, ALTSTACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    stack_t ss = {.ss_sp = p, .ss_size = ALTSTACK_SIZE, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) < 0) {
        munmap(p, ALTSTACK_SIZE);
        return NULL;
    }
    return p;
}

void rw_crash_thread_enter(void)
{
    if (installed && !thread_altstack)
        thread_altstack = new_altstack();
}

void rw_crash_thread_leave(void)
{
    if (!thread_altstack)
        return;
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && cur.ss_sp == thread_altstack &&
        !(cur.ss_flags & SS_ONSTACK)) {
        stack_t off = {.ss_flags = SS_DISABLE};
        sigaltstack(&off, NULL);
        munmap(thread_altstack, ALTSTACK_SIZE);
    } /* else someone else's stack is in place now: leave ours mapped */
    thread_altstack = NULL;
}

static rw_code setup_capstone(rw_err *err)
{
    arena = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (arena == MAP_FAILED) {
        arena = NULL;
        return rw_err_set(err, RW_ENOMEM, "cannot reserve capstone's memory");
    }
    cs_opt_mem mem = {arena_malloc, arena_calloc, arena_realloc, arena_free, fmt_vsnprintf};
    if (cs_option(0, CS_OPT_MEM, (size_t)&mem) != CS_ERR_OK ||
        cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
        return rw_err_set(err, RW_ENOMEM, "capstone: cannot open an x86-64 disassembler");
    cs_one = cs_malloc(cs);
    if (!cs_one)
        return rw_err_set(err, RW_ENOMEM, "capstone: out of memory");
    cs_ok = 1;
    return RW_OK;
}

rw_code rw_crash_install(const rw_crash_opts *o, rw_err *err)
{
    if (installed)
        return RW_OK;
    opts = *o;
    interp = PyInterpreterState_Main();
    extra_index = rw_source_extra_index();
    main_thread = pthread_self();
    memfd = (int)syscall(SYS_memfd_create, "rewind-crash", MFD_CLOEXEC);
    if (memfd < 0)
        return rw_err_set(err, RW_EIO, "memfd_create: %s", strerror(errno));
    RW_TRY(setup_capstone(err));
    main_altstack = new_altstack();

    /* Warm up what handlers call so that no lazy binding or first-use setup happens
     * inside one: libunwind's caches, the dynamic linker's symbol resolution. (Not
     * the report's 8.6 MB, which a handler fills as it goes: faulting its pages in
     * here cost every recording 6.5 ms.) */
    capture_cstack(NULL);
    read_maps();
    rewind__crash_report__init(&rep.m);
    (void)rewind__crash_report__get_packed_size(&rep.m);

    /* python3 ignores SIGXFSZ (a file size limit gives EFBIG); make sure of it. */
    struct sigaction cur;
    if (sigaction(SIGXFSZ, NULL, &cur) == 0 && cur.sa_handler == SIG_DFL) {
        struct sigaction ign;
        memset(&ign, 0, sizeof ign);
        ign.sa_handler = SIG_IGN;
        sigaction(SIGXFSZ, &ign, NULL);
    }

    for (int i = 0; i < NFATAL; i++) {
        RW_TRY(set_handler(fatal_sigs[i], fatal_handler, SA_NODEFER, &prev_fatal[i], err));
        fatal_ours[i] = 1;
    }
    if (o->dump_signal > 0) {
        RW_TRY(set_handler(o->dump_signal, dump_handler, SA_RESTART, &prev_dump, err));
        dump_ours = 1;
    }
    atomic_store(&finishing, 0);
    installed = 1;
    if (o->timeout_s > 0) {
        cstack_sig = SIGRTMIN + 7;
        if (set_handler(cstack_sig, cstack_handler, SA_RESTART, &prev_cstack, err) == RW_OK)
            cstack_ours = 1;
        uint64_t us = (uint64_t)(o->timeout_s * 1e6 + 0.5);
        uint64_t sec = us / 1000000, frac = us % 1000000;
        if (frac)
            snprintf(timeout_header, sizeof timeout_header, "Timeout (%lu:%02lu:%02lu.%06lu)!\n",
                     (unsigned long)(sec / 3600), (unsigned long)(sec / 60 % 60),
                     (unsigned long)(sec % 60), (unsigned long)frac);
        else
            snprintf(timeout_header, sizeof timeout_header, "Timeout (%lu:%02lu:%02lu)!\n",
                     (unsigned long)(sec / 3600), (unsigned long)(sec / 60 % 60),
                     (unsigned long)(sec % 60));
        snprintf(timeout_line, sizeof timeout_line,
                 "rewind: timeout after %g s: stacks recorded in %s; exit status %d\n",
                 o->timeout_s, o->path ? o->path : "the trace", RW_CRASH_TIMEOUT_STATUS);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&timer_cv, &ca);
        pthread_condattr_destroy(&ca);
        timer_stop = 0;
        int rc = pthread_create(&timer, NULL, timer_main, NULL);
        if (rc != 0)
            return rw_err_set(err, RW_EIO, "cannot start the timeout thread: %s", strerror(rc));
        timer_started = 1;
    }
    return RW_OK;
}

/* Puts back prev for sig if our handler fn is still the one installed. */
static void restore_if_ours(int sig, void (*fn)(int, siginfo_t *, void *),
                            const struct sigaction *prev)
{
    struct sigaction cur;
    if (sigaction(sig, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
        cur.sa_sigaction == fn)
        sigaction(sig, prev, NULL);
}

void rw_crash_uninstall(void)
{
    if (!installed)
        return;
    if (timer_started) {
        pthread_mutex_lock(&timer_mu);
        timer_stop = 1;
        pthread_cond_signal(&timer_cv);
        pthread_mutex_unlock(&timer_mu);
        pthread_join(timer, NULL);
        timer_started = 0;
    }
    for (int i = 0; i < NFATAL; i++)
        if (fatal_ours[i]) {
            restore_if_ours(fatal_sigs[i], fatal_handler, &prev_fatal[i]);
            fatal_ours[i] = 0;
        }
    if (dump_ours)
        restore_if_ours(opts.dump_signal, dump_handler, &prev_dump);
    if (cstack_ours)
        restore_if_ours(cstack_sig, cstack_handler, &prev_cstack);
    dump_ours = cstack_ours = 0;
    /* A handler already running on another thread may still post to the writer, which
     * is about to be closed and freed: wait for it to finish, and let no later one post.
     * A fatal report never ends; after twice its wait, the process is ending anyway. */
    pid_t expected = 0;
    int got = 0;
    for (unsigned ms = 0; ms < 2 * CRASH_WAIT_MS; ms++) {
        expected = 0;
        if ((got = atomic_compare_exchange_strong(&owner, &expected, my_tid())))
            break;
        sleep_ms(1);
    }
    atomic_store(&finishing, 1);
    if (got)
        atomic_store(&owner, 0);
    installed = 0;
    /* The altstack, memfd, arena and capstone handle stay: a late signal on another
     * thread may still be running a handler; the process ends soon. */
}

int rw_crash_closed(void)
{
    return atomic_load(&closed);
}
