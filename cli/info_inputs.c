/* `rewind info --inputs` (info_inputs.h).
 *
 * One pass over the trace's input records (rw_inputs_iter) follows the program's
 * descriptors as OPEN, DUP, PIPE, SOCKET, CONNECT, ACCEPT and CLOSE give and take them,
 * so that a read is put to the file, pipe, socket or stdin it came from, and the
 * directory streams as OPENDIR and READDIR use them. Every table is bounded (CAP
 * entries, descriptors below FD_TAB): what does not fit is counted. Records whose key
 * or data do not follow the wrappers' conventions add to `unreadable` and nothing else.
 */
#include "info_inputs.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "inputs.h"
#include "json.h"

enum { CAP = 10000, SHOW = 50, FD_TAB = 65536, DIR_STREAMS = 256, ADDR_MAX = 128 };

/* ---- a bounded table of strings ---------------------------------------------------- */

typedef struct ent {
    char *s;
    uint64_t a, b;   /* per table: bytes and opens, entries, times seen */
    unsigned how;    /* peers: PEER_* bits */
} ent;

typedef struct strtab {
    ent *e;
    size_t n, cap;
    uint32_t *slot;  /* 1 + index into e, 0 empty; nslot a power of two */
    size_t nslot;
    uint64_t dropped; /* strings not kept (the table was full) */
} strtab;

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

static int tab_rehash(strtab *t, size_t nslot)
{
    uint32_t *slot = calloc(nslot, sizeof *slot);
    if (!slot)
        return -1;
    for (size_t i = 0; i < t->n; i++) {
        size_t j = hash(t->e[i].s, strlen(t->e[i].s)) & (nslot - 1);
        while (slot[j])
            j = (j + 1) & (nslot - 1);
        slot[j] = (uint32_t)i + 1;
    }
    free(t->slot);
    t->slot = slot;
    t->nslot = nslot;
    return 0;
}

/* The entry of s (n bytes, no NUL), made when new; NULL when the table is full or
 * memory runs out (counted in dropped). */
static ent *tab_get(strtab *t, const char *s, size_t n)
{
    if (!t->nslot && tab_rehash(t, 64) < 0)
        return NULL;
    size_t j = hash(s, n) & (t->nslot - 1);
    for (; t->slot[j]; j = (j + 1) & (t->nslot - 1)) {
        ent *e = &t->e[t->slot[j] - 1];
        if (!strncmp(e->s, s, n) && e->s[n] == '\0')
            return e;
    }
    if (t->n >= CAP) {
        t->dropped++;
        return NULL;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        ent *v = realloc(t->e, cap * sizeof *v);
        if (!v) {
            t->dropped++;
            return NULL;
        }
        t->e = v;
        t->cap = cap;
    }
    char *copy = malloc(n + 1);
    if (!copy) {
        t->dropped++;
        return NULL;
    }
    memcpy(copy, s, n);
    copy[n] = '\0';
    ent *e = &t->e[t->n];
    memset(e, 0, sizeof *e);
    e->s = copy;
    t->slot[j] = (uint32_t)++t->n;
    if (t->n * 2 > t->nslot && tab_rehash(t, t->nslot * 2) < 0) {
        /* still consistent at this load; the next one may find it full */
    }
    return e;
}

static void tab_free(strtab *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->e[i].s);
    free(t->e);
    free(t->slot);
}

/* ---- what the records say ----------------------------------------------------------- */

enum fd_kind { FD_NONE, FD_FILE, FD_INSTALL, FD_STDIN, FD_PIPE, FD_SOCKET };
enum { PEER_CONNECT = 1, PEER_ACCEPT = 2, PEER_BIND = 4, PEER_SEND = 8 };

typedef struct fd_ent {
    uint8_t kind;
    int32_t file; /* FD_FILE: index in files, -1 when the table was full */
} fd_ent;

typedef struct dir_stream {
    int64_t handle;
    int32_t dir;  /* index in dirs, -1 unknown */
    int bound;
} dir_stream;

typedef struct inputs_summary {
    uint64_t records;
    strtab files, install, dirs, peers, spawns, execs;
    uint64_t failed_opens, install_bytes, stdin_bytes, pipe_bytes, net_bytes, other_bytes;
    uint64_t out_bytes[3]; /* [1] stdout, [2] stderr */
    uint64_t clock_reads, random_reads, random_bytes;
    uint64_t tls_draws, tls_bytes; /* OpenSSL's random bytes (crypto.c): its keys */
    uint64_t shm_records, shm_bytes; /* what other processes wrote to shared memory */
    uint64_t syslog_messages, syslog_bytes; /* what the program sent to the system log */
    int64_t *forks;
    size_t nforks, capforks;
    uint64_t more_forks;
    uint64_t other[RW_CALL_MAX + 1];
    uint64_t unknown_calls; /* numbers that are none of ours */
    uint64_t unreadable;    /* keys or data that do not follow the conventions */
    uint64_t install_flagged;
    fd_ent *fds;
    dir_stream streams[DIR_STREAMS]; /* open directory streams, bound or waiting */
    size_t nstreams;
    uint64_t dir_entries_unknown;
} inputs_summary;

static uint64_t sat_add(uint64_t a, uint64_t b) { return a + b < a ? UINT64_MAX : a + b; }

/* Key int64 number i (little-endian): 1, or 0 when the key is shorter. */
static int key_i64(const rw_input *in, size_t i, int64_t *v)
{
    if (in->key_len < 8 * (i + 1))
        return 0;
    uint64_t x = 0;
    for (int b = 7; b >= 0; b--)
        x = x << 8 | in->key[8 * i + (size_t)b];
    *v = (int64_t)x;
    return 1;
}

/* The string after nints int64s: 1 when there is a non-empty one without NUL. */
static int key_str(const rw_input *in, size_t nints, const char **s, size_t *n)
{
    if (in->key_len <= 8 * nints)
        return 0;
    const char *p = (const char *)in->key + 8 * nints;
    size_t len = in->key_len - 8 * nints;
    if (memchr(p, '\0', len))
        return 0;
    *s = p;
    *n = len;
    return 1;
}

static fd_ent *fd_at(inputs_summary *s, int64_t fd)
{
    return fd >= 0 && fd < FD_TAB ? &s->fds[fd] : NULL;
}

static void add_peer(inputs_summary *s, const char *a, size_t n, unsigned how)
{
    ent *e = tab_get(&s->peers, a, n);
    if (e) {
        e->how |= how;
        e->a++;
    }
}

/* A descriptor's bytes read, put where it came from. */
static void add_read(inputs_summary *s, int64_t fd, const rw_input *in)
{
    fd_ent *f = fd_at(s, fd);
    if ((in->flags & RW_INPUT_F_INSTALL) || (f && f->kind == FD_INSTALL)) {
        s->install_bytes = sat_add(s->install_bytes, in->result > 0 ? (uint64_t)in->result : 0);
        return;
    }
    uint64_t n = in->data_len;
    switch (f ? f->kind : FD_NONE) {
    case FD_FILE:
        if (f->file >= 0)
            s->files.e[f->file].a += n;
        else
            s->other_bytes += n;
        break;
    case FD_STDIN: s->stdin_bytes += n; break;
    case FD_PIPE: s->pipe_bytes += n; break;
    case FD_SOCKET: s->net_bytes += n; break;
    default: s->other_bytes += n; break;
    }
}

/* A stream opened on dir; handle: its number when the record has it (0: older traces,
 * bound to the first READDIR of a handle not seen yet). */
static void open_dir_stream(inputs_summary *s, int32_t dir, int64_t handle)
{
    if (s->nstreams == DIR_STREAMS) /* forget the oldest waiting or bound one */
        memmove(s->streams, s->streams + 1, --s->nstreams * sizeof *s->streams);
    s->streams[s->nstreams++] = (dir_stream){handle > 0 ? handle : 0, dir, handle > 0};
}

/* The stream of handle h: the bound one, else the oldest opened and not yet used. */
static dir_stream *dir_stream_of(inputs_summary *s, int64_t h)
{
    for (size_t i = 0; i < s->nstreams; i++)
        if (s->streams[i].bound && s->streams[i].handle == h)
            return &s->streams[i];
    for (size_t i = 0; i < s->nstreams; i++)
        if (!s->streams[i].bound) {
            s->streams[i].bound = 1;
            s->streams[i].handle = h;
            return &s->streams[i];
        }
    return NULL;
}

static void close_dir_stream(inputs_summary *s, int64_t h)
{
    for (size_t i = 0; i < s->nstreams; i++)
        if (s->streams[i].bound && s->streams[i].handle == h) {
            memmove(s->streams + i, s->streams + i + 1,
                    (s->nstreams - i - 1) * sizeof *s->streams);
            s->nstreams--;
            return;
        }
}

/* ACCEPT's data: an i64 length (-1: none asked), that many bytes of sockaddr (at most
 * ADDR_MAX), then the peer's address text; or, plainly, the text. */
static int accept_peer(const rw_input *in, const char **a, size_t *n)
{
    const char *d = (const char *)in->data;
    size_t len = in->data_len;
    if (len >= 8) {
        int64_t l;
        memcpy(&l, d, 8);
        size_t off = 8 + (l < 0 ? 0 : (size_t)(l > ADDR_MAX ? ADDR_MAX : l));
        if ((l >= -1 && l <= 4096) && off < len && !memchr(d + off, '\0', len - off)) {
            *a = d + off;
            *n = len - off;
            return 1;
        }
    }
    if (len && !memchr(d, '\0', len)) {
        *a = d;
        *n = len;
        return 1;
    }
    return 0;
}

static void add_record(inputs_summary *s, const rw_input *in)
{
    int64_t fd, v;
    const char *str;
    size_t n;
    s->records++;
    if (in->flags & RW_INPUT_F_INSTALL)
        s->install_flagged++;
    if (!rw_call_name(in->call)) {
        s->unknown_calls++;
        return;
    }
    switch (in->call) {
    case RW_CALL_OPEN: {
        if (!key_str(in, 3, &str, &n)) {
            s->unreadable++;
            return;
        }
        int install = (in->flags & RW_INPUT_F_INSTALL) != 0;
        if (in->result < 0) {
            s->failed_opens++;
            return;
        }
        ent *e = tab_get(install ? &s->install : &s->files, str, n);
        if (e)
            e->b++;
        fd_ent *f = fd_at(s, in->result);
        if (f) {
            f->kind = install ? FD_INSTALL : FD_FILE;
            f->file = !install && e ? (int32_t)(e - s->files.e) : -1;
        }
        return;
    }
    case RW_CALL_READ:
    case RW_CALL_PREAD:
    case RW_CALL_READV:
        if (!key_i64(in, 0, &fd)) {
            s->unreadable++;
            return;
        }
        add_read(s, fd, in);
        return;
    case RW_CALL_RECV:
    case RW_CALL_RECVMSG:
        s->net_bytes += in->result > 0 && (uint64_t)in->result <= in->data_len
                            ? (uint64_t)in->result : 0;
        return;
    case RW_CALL_CLOSE:
        if (in->key_len == 8 && key_i64(in, 0, &fd) && in->result == 0 && fd_at(s, fd))
            *fd_at(s, fd) = (fd_ent){FD_NONE, -1};
        return;
    case RW_CALL_DUP:
        if (!key_i64(in, 0, &fd)) {
            s->unreadable++;
            return;
        }
        if (in->result >= 0 && fd_at(s, in->result))
            *fd_at(s, in->result) = fd_at(s, fd) ? *fd_at(s, fd) : (fd_ent){FD_NONE, -1};
        return;
    case RW_CALL_PIPE:
    case RW_CALL_SOCKETPAIR:
        if (in->result == 0) {
            /* pipe: int fds[2]; socketpair: i64 sv[0], i64 sv[1] */
            int wide = in->call == RW_CALL_SOCKETPAIR;
            if (in->data_len != (wide ? 16u : 8u)) {
                s->unreadable++;
                return;
            }
            for (int i = 0; i < 2; i++) {
                int64_t x;
                if (wide) {
                    memcpy(&x, in->data + 8 * i, 8);
                } else {
                    int32_t y;
                    memcpy(&y, in->data + 4 * i, 4);
                    x = y;
                }
                if (fd_at(s, x))
                    *fd_at(s, x) = (fd_ent){FD_PIPE, -1};
            }
        }
        return;
    case RW_CALL_SOCKET:
        if (in->result >= 0 && fd_at(s, in->result))
            *fd_at(s, in->result) = (fd_ent){FD_SOCKET, -1};
        return;
    case RW_CALL_CONNECT:
    case RW_CALL_BIND:
        if (!key_i64(in, 0, &fd) || !key_str(in, 1, &str, &n)) {
            s->unreadable++;
            return;
        }
        add_peer(s, str, n, in->call == RW_CALL_CONNECT ? PEER_CONNECT : PEER_BIND);
        if (fd_at(s, fd))
            *fd_at(s, fd) = (fd_ent){FD_SOCKET, -1};
        return;
    case RW_CALL_SEND:
    case RW_CALL_SENDMSG:
        /* sendto: fd, len, flags, address; sendmsg: fd, flags, total, controllen, name */
        if (key_str(in, in->call == RW_CALL_SEND ? 3 : 4, &str, &n))
            add_peer(s, str, n, PEER_SEND);
        return;
    case RW_CALL_ACCEPT:
        if (in->result >= 0) {
            if (fd_at(s, in->result))
                *fd_at(s, in->result) = (fd_ent){FD_SOCKET, -1};
            if (accept_peer(in, &str, &n))
                add_peer(s, str, n, PEER_ACCEPT);
            else if (in->data_len)
                s->unreadable++;
        }
        return;
    case RW_CALL_OPENDIR:
    case RW_CALL_FDOPENDIR: {
        int32_t dir = -1;
        if (in->call == RW_CALL_OPENDIR) {
            if (!key_str(in, 0, &str, &n)) {
                s->unreadable++;
                return;
            }
            if (in->result != 1)
                return;
            ent *e = tab_get(&s->dirs, str, n);
            dir = e ? (int32_t)(e - s->dirs.e) : -1;
        } else {
            if (in->key_len != 8 || !key_i64(in, 0, &fd)) {
                s->unreadable++;
                return;
            }
            if (in->result != 1)
                return;
            fd_ent *f = fd_at(s, fd);
            if (f && f->kind == FD_FILE && f->file >= 0) {
                const char *path = s->files.e[f->file].s;
                ent *e = tab_get(&s->dirs, path, strlen(path));
                dir = e ? (int32_t)(e - s->dirs.e) : -1;
            }
        }
        if (dir >= 0)
            s->dirs.e[dir].b++;
        int64_t handle = 0;
        if (in->data_len >= 16)
            memcpy(&handle, in->data + 8, sizeof handle);
        open_dir_stream(s, dir, handle);
        return;
    }
    case RW_CALL_READDIR: {
        if (in->key_len != 8 || !key_i64(in, 0, &v)) {
            s->unreadable++;
            return;
        }
        dir_stream *d = dir_stream_of(s, v);
        if (in->result != 1)
            return;
        if (d && d->dir >= 0)
            s->dirs.e[d->dir].a++;
        else
            s->dir_entries_unknown++;
        return;
    }
    case RW_CALL_CLOSEDIR:
        if (key_i64(in, 0, &v))
            close_dir_stream(s, v);
        return;
    case RW_CALL_FORK:
    case RW_CALL_FORKPTY:
        /* vfork's data: what the child exec'd, path and argv joined by spaces */
        if (in->call == RW_CALL_FORK && in->result > 0 && in->data_len &&
            !memchr(in->data, '\0', in->data_len)) {
            ent *e = tab_get(&s->spawns, (const char *)in->data, in->data_len);
            if (e)
                e->a++;
        }
        if (in->result > 0) {
            if (s->nforks == s->capforks) {
                size_t cap = s->capforks ? s->capforks * 2 : 16;
                int64_t *p = s->nforks < CAP ? realloc(s->forks, cap * sizeof *p) : NULL;
                if (!p) {
                    s->more_forks++;
                    return;
                }
                s->forks = p;
                s->capforks = cap;
            }
            s->forks[s->nforks++] = in->result;
        }
        return;
    case RW_CALL_POSIX_SPAWN:
    case RW_CALL_SYSTEM:
    case RW_CALL_EXECVE: {
        if (!key_str(in, 0, &str, &n)) {
            s->unreadable++;
            return;
        }
        ent *e = tab_get(in->call == RW_CALL_EXECVE ? &s->execs : &s->spawns, str, n);
        if (e)
            e->a++;
        return;
    }
    case RW_CALL_WRITE:
    case RW_CALL_PWRITE:
    case RW_CALL_WRITEV:
    case RW_CALL_OUTPUT:
        if (!key_i64(in, 0, &fd)) {
            if (in->call != RW_CALL_OUTPUT) {
                s->unreadable++;
                return;
            }
            fd = 1;
        }
        if (fd == 1 || fd == 2)
            s->out_bytes[fd] += in->data_len;
        else if (in->call != RW_CALL_OUTPUT)
            s->other[in->call]++; /* a write to a file: nothing from outside */
        return;
    case RW_CALL_GETRANDOM:
        s->random_reads++;
        s->random_bytes += in->data_len;
        return;
    case RW_CALL_RAND_BYTES:
        s->tls_draws++;
        s->tls_bytes += in->data_len;
        return;
    case RW_CALL_SHARED_MEM:
        s->shm_records++;
        s->shm_bytes = sat_add(s->shm_bytes, in->data_len);
        return;
    case RW_CALL_SYSLOG: {
        int64_t form;
        const char *text;
        size_t len;
        if (key_i64(in, 0, &form) && form == 1 && key_str(in, 2, &text, &len)) {
            s->syslog_messages++;
            s->syslog_bytes = sat_add(s->syslog_bytes, len);
        } else {
            s->other[in->call]++;
        }
        return;
    }
    default:
        if (in->call >= 80 && in->call < 100) {
            s->clock_reads++;
            return;
        }
        s->other[in->call]++;
        return;
    }
}

static void summary_free(inputs_summary *s)
{
    tab_free(&s->files);
    tab_free(&s->install);
    tab_free(&s->dirs);
    tab_free(&s->peers);
    tab_free(&s->spawns);
    tab_free(&s->execs);
    free(s->forks);
    free(s->fds);
}

/* ---- printing ------------------------------------------------------------------------ */

static const char *peer_how(unsigned how)
{
    if (how & PEER_CONNECT)
        return "connected to";
    if (how & PEER_ACCEPT)
        return "accepted from";
    if (how & PEER_SEND)
        return "sent to";
    return "bound to";
}

static uint64_t files_bytes(const strtab *t)
{
    uint64_t n = 0;
    for (size_t i = 0; i < t->n; i++)
        n = sat_add(n, t->e[i].a);
    return n;
}

static void more(FILE *out, size_t shown, size_t n, uint64_t dropped)
{
    if (n > shown || dropped)
        fprintf(out, "  ... %" PRIu64 " more (--json lists up to %d)\n",
                (uint64_t)(n - shown) + dropped, CAP);
}

static void print_text(FILE *out, const char *path, const inputs_summary *s,
                       const Rewind__Metadata *m)
{
    fprintf(out, "what %s holds from outside the program (%" PRIu64 " input records):\n", path,
            s->records);
    fprintf(out, "%-14s %zu%s, %" PRIu64 " bytes stored\n", "files read",
            s->files.n, s->files.dropped ? "+" : "", files_bytes(&s->files));
    for (size_t i = 0; i < s->files.n && i < SHOW; i++)
        fprintf(out, "  %12" PRIu64 " bytes  %s\n", s->files.e[i].a, s->files.e[i].s);
    more(out, s->files.n < SHOW ? s->files.n : SHOW, s->files.n, s->files.dropped);
    if (s->failed_opens)
        fprintf(out, "%-14s %" PRIu64 " (paths tried that could not be opened)\n",
                "failed opens", s->failed_opens);
    fprintf(out, "%-14s %zu%s files of the Python installation, %" PRIu64
                 " bytes read (not stored: the replay reads the local copy)\n",
            "installation", s->install.n, s->install.dropped ? "+" : "", s->install_bytes);
    fprintf(out, "%-14s %zu%s\n", "directories", s->dirs.n, s->dirs.dropped ? "+" : "");
    for (size_t i = 0; i < s->dirs.n && i < SHOW; i++)
        fprintf(out, "  %12" PRIu64 " entries  %s\n", s->dirs.e[i].a, s->dirs.e[i].s);
    more(out, s->dirs.n < SHOW ? s->dirs.n : SHOW, s->dirs.n, s->dirs.dropped);
    if (s->dir_entries_unknown)
        fprintf(out, "  %12" PRIu64 " entries  of directories not known\n",
                s->dir_entries_unknown);
    size_t nenv = m ? m->n_env : 0, nred = 0;
    for (size_t i = 0; i < nenv; i++)
        nred += m->env[i]->redacted;
    fprintf(out, "%-14s %zu variables, %zu with their values redacted", "environment", nenv,
            nred);
    for (size_t i = 0, k = 0; i < nenv; i++)
        if (m->env[i]->redacted && k < SHOW)
            fprintf(out, "%s%s", k++ ? ", " : ": ", m->env[i]->name);
    fprintf(out, "%s\n", nred > SHOW ? ", ..." : "");
    fprintf(out, "%-14s %zu%s, %" PRIu64 " bytes received\n", "network peers", s->peers.n,
            s->peers.dropped ? "+" : "", s->net_bytes);
    for (size_t i = 0; i < s->peers.n && i < SHOW; i++)
        fprintf(out, "  %-13s %s\n", peer_how(s->peers.e[i].how), s->peers.e[i].s);
    more(out, s->peers.n < SHOW ? s->peers.n : SHOW, s->peers.n, s->peers.dropped);
    fprintf(out, "%-14s %zu%s forks, %zu%s commands run", "processes", s->nforks,
            s->more_forks ? "+" : "", s->spawns.n, s->spawns.dropped ? "+" : "");
    if (s->execs.n)
        fprintf(out, ", %zu failed execs", s->execs.n);
    fprintf(out, "\n");
    for (size_t i = 0; i < s->nforks && i < SHOW; i++)
        fprintf(out, "  fork          pid %" PRId64 "\n", s->forks[i]);
    for (size_t i = 0; i < s->spawns.n && i < SHOW; i++)
        fprintf(out, "  command       %s\n", s->spawns.e[i].s);
    for (size_t i = 0; i < s->execs.n && i < SHOW; i++)
        fprintf(out, "  exec (failed) %s\n", s->execs.e[i].s);
    fprintf(out, "%-14s %" PRIu64 " bytes\n", "stdin", s->stdin_bytes);
    fprintf(out, "%-14s %" PRIu64 " bytes read from pipes and socket pairs\n", "pipes",
            s->pipe_bytes);
    if (s->other_bytes)
        fprintf(out, "%-14s %" PRIu64 " bytes read from descriptors opened before recording\n",
                "other reads", s->other_bytes);
    fprintf(out, "%-14s %" PRIu64 " reads\n", "clock", s->clock_reads);
    fprintf(out, "%-14s %" PRIu64 " reads, %" PRIu64 " bytes\n", "random", s->random_reads,
            s->random_bytes);
    if (s->tls_draws)
        fprintf(out, "%-14s %" PRIu64 " draws of OpenSSL's random bytes, %" PRIu64
                     " bytes: the run's TLS keys (the trace decrypts the traffic it holds)\n",
                "TLS", s->tls_draws, s->tls_bytes);
    if (s->shm_records)
        fprintf(out, "%-14s %" PRIu64 " changes by other processes, %" PRIu64 " bytes\n",
                "shared memory", s->shm_records, s->shm_bytes);
    fprintf(out, "%-14s %" PRIu64 " bytes to stdout, %" PRIu64 " bytes to stderr\n", "output",
            s->out_bytes[1], s->out_bytes[2]);
    if (s->syslog_messages)
        fprintf(out, "%-14s %" PRIu64 " messages, %" PRIu64 " bytes\n", "system log",
                s->syslog_messages, s->syslog_bytes);
    fprintf(out, "%-14s", "other calls");
    int any = 0;
    for (int c = 0; c <= RW_CALL_MAX; c++)
        if (s->other[c]) {
            fprintf(out, "%s%s %" PRIu64, any ? ", " : " ", rw_call_name((uint32_t)c),
                    s->other[c]);
            any = 1;
        }
    fprintf(out, "%s\n", any ? "" : " none");
    if (s->unreadable || s->unknown_calls)
        fprintf(out, "%-14s %" PRIu64 " records whose key or data do not follow the format's "
                     "conventions, %" PRIu64 " of calls not known (counted, not shown)\n",
                "unreadable", s->unreadable, s->unknown_calls);
}

static void json_tab(FILE *out, const char *key, const strtab *t, const char *a,
                     const char *b)
{
    fprintf(out, ", \"%s\": [", key);
    for (size_t i = 0; i < t->n; i++) {
        fprintf(out, "%s{\"%s\": ", i ? ", " : "", !strcmp(key, "peers") ? "address" : "path");
        rw_json_str(out, t->e[i].s);
        if (a)
            fprintf(out, ", \"%s\": %" PRIu64, a, t->e[i].a);
        if (b)
            fprintf(out, ", \"%s\": %" PRIu64, b, t->e[i].b);
        if (!strcmp(key, "peers")) {
            fprintf(out, ", \"how\": [");
            static const char *const hows[] = {"connect", "accept", "bind", "send"};
            for (int k = 0, first = 1; k < 4; k++)
                if (t->e[i].how & (1u << k)) {
                    fprintf(out, "%s\"%s\"", first ? "" : ", ", hows[k]);
                    first = 0;
                }
            fprintf(out, "]");
        }
        fprintf(out, "}");
    }
    fprintf(out, "], \"%s_not_listed\": %" PRIu64, key, t->dropped);
}

static void print_json(FILE *out, const char *path, const inputs_summary *s,
                       const Rewind__Metadata *m, const char *damaged)
{
    fprintf(out, "{\"file\": ");
    rw_json_str(out, path);
    fprintf(out, ", \"records\": %" PRIu64 ", \"damaged\": ", s->records);
    rw_json_str(out, damaged);
    json_tab(out, "files", &s->files, "bytes", "opens");
    fprintf(out, ", \"failed_opens\": %" PRIu64, s->failed_opens);
    fprintf(out, ", \"installation\": {\"files\": %zu, \"bytes\": %" PRIu64 "}", s->install.n,
            s->install_bytes);
    json_tab(out, "directories", &s->dirs, "entries", "opens");
    fprintf(out, ", \"directory_entries_unknown\": %" PRIu64, s->dir_entries_unknown);
    size_t nenv = m ? m->n_env : 0;
    fprintf(out, ", \"environment\": {\"count\": %zu, \"redacted\": [", nenv);
    for (size_t i = 0, k = 0; i < nenv; i++)
        if (m->env[i]->redacted) {
            fputs(k++ ? ", " : "", out);
            rw_json_str(out, m->env[i]->name);
        }
    fprintf(out, "]}");
    json_tab(out, "peers", &s->peers, "times", NULL);
    fprintf(out, ", \"network_bytes_received\": %" PRIu64 ", \"forks\": [", s->net_bytes);
    for (size_t i = 0; i < s->nforks; i++)
        fprintf(out, "%s%" PRId64, i ? ", " : "", s->forks[i]);
    fprintf(out, "], \"forks_not_listed\": %" PRIu64 ", \"spawns\": [", s->more_forks);
    for (size_t i = 0; i < s->spawns.n; i++) {
        fputs(i ? ", " : "", out);
        rw_json_str(out, s->spawns.e[i].s);
    }
    fprintf(out, "], \"failed_execs\": [");
    for (size_t i = 0; i < s->execs.n; i++) {
        fputs(i ? ", " : "", out);
        rw_json_str(out, s->execs.e[i].s);
    }
    fprintf(out, "], \"stdin_bytes\": %" PRIu64 ", \"pipe_bytes\": %" PRIu64
                 ", \"other_read_bytes\": %" PRIu64 ", \"clock_reads\": %" PRIu64
                 ", \"random_reads\": %" PRIu64 ", \"random_bytes\": %" PRIu64
                 ", \"tls_draws\": %" PRIu64 ", \"tls_bytes\": %" PRIu64
                 ", \"shared_memory_changes\": %" PRIu64 ", \"shared_memory_bytes\": %" PRIu64
                 ", \"stdout_bytes\": %" PRIu64 ", \"stderr_bytes\": %" PRIu64
                 ", \"syslog_messages\": %" PRIu64 ", \"syslog_bytes\": %" PRIu64
                 ", \"other_calls\": {",
            s->stdin_bytes, s->pipe_bytes, s->other_bytes, s->clock_reads, s->random_reads,
            s->random_bytes, s->tls_draws, s->tls_bytes, s->shm_records, s->shm_bytes,
            s->out_bytes[1], s->out_bytes[2], s->syslog_messages, s->syslog_bytes);
    int any = 0;
    for (int c = 0; c <= RW_CALL_MAX; c++)
        if (s->other[c]) {
            fprintf(out, "%s\"%s\": %" PRIu64, any ? ", " : "", rw_call_name((uint32_t)c),
                    s->other[c]);
            any = 1;
        }
    fprintf(out, "}, \"unreadable\": %" PRIu64 ", \"unknown_calls\": %" PRIu64 "}\n",
            s->unreadable, s->unknown_calls);
}

int rw_cli_print_inputs(FILE *out, const char *path, const rw_reader *r, int json)
{
    inputs_summary *s = calloc(1, sizeof *s);
    fd_ent *fds = s ? malloc(FD_TAB * sizeof *fds) : NULL;
    if (!fds) {
        free(s);
        fprintf(stderr, "rewind info: out of memory\n");
        return 1;
    }
    s->fds = fds;
    for (size_t i = 0; i < FD_TAB; i++)
        fds[i] = (fd_ent){FD_NONE, -1};
    fds[0].kind = FD_STDIN;
    rw_inputs_iter *it = NULL;
    rw_err err = {0};
    char damaged[sizeof err.msg] = "";
    int rc = -1;
    if (rw_inputs_iter_open(r, &it, &err) == RW_OK) {
        rw_input in;
        while ((rc = rw_inputs_iter_next(it, &in, &err)) == 1)
            add_record(s, &in);
        rw_inputs_iter_free(it);
    }
    if (rc < 0)
        snprintf(damaged, sizeof damaged, "%s", err.msg);
    const Rewind__Metadata *m = rw_reader_metadata(r);
    if (json)
        print_json(out, path, s, m, damaged[0] ? damaged : NULL);
    else
        print_text(out, path, s, m);
    if (damaged[0])
        fprintf(stderr, "rewind info: the inputs end early, after record %" PRIu64 ": %s\n",
                s->records, damaged);
    summary_free(s);
    free(s);
    return damaged[0] ? 1 : 0;
}
