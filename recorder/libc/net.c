/* Sockets, name look-ups and readiness, logged at the C-library boundary (DESIGN.md,
 * "Nondeterministic inputs"; the pattern is recorder/libc/input.h's read() example).
 * Record mode performs each call and logs it; replay mode performs nothing (no socket,
 * connection, look-up or wait exists) and answers from the log.
 *
 * Wraps: socket socketpair connect accept accept4 bind listen recv recvfrom recvmsg
 * send sendto sendmsg getsockopt setsockopt getsockname getpeername shutdown
 * getaddrinfo freeaddrinfo getnameinfo gethostbyname_r gethostbyaddr_r getservbyname
 * getservbyport getprotobyname if_nameindex if_freenameindex if_nametoindex
 * if_indextoname poll ppoll select pselect epoll_create epoll_create1 epoll_ctl
 * epoll_wait epoll_pwait eventfd, and eventfd_read and eventfd_write through read and
 * write (none has a *64 variant). libpython 3.11 and its lib-dynload modules import all
 * of them but ppoll, pselect, epoll_create, epoll_pwait
 * (wrapped for C extensions); gai_strerror needs nothing, the non-_r gethostby* are
 * not imported. glibc's own look-ups (NSS, DNS) call its internals, never these.
 *
 * Encodings. Key: little-endian int64s, then at most one string (input.h). In data,
 * "i64" is a little-endian int64, "str" is an i64 length (-1: NULL) then the bytes,
 * "addr" is an i64 length as the call reported it (-1: no address asked for) then
 * min(length, sizeof(struct sockaddr_storage)) bytes of struct sockaddr. Address text
 * (in keys and ACCEPT's data): "127.0.0.1:8080", "[::1]:80", a unix socket's path,
 * "@name" for an abstract one, "" for an unnamed one, "family N" otherwise.
 *
 * call         key                                        result      data
 * SOCKET       domain, type, protocol                     fd          -
 * SOCKETPAIR   domain, type, protocol                     0/-1        i64 sv[0], i64 sv[1]
 * CONNECT      fd, address text                           0/-1        -
 * ACCEPT       fd, flags (accept: 0), address asked (0/1) fd          addr, then the peer's
 *                                                                     text (rest of data)
 * BIND         fd, address text                           0/-1        -
 * LISTEN       fd, backlog                                0/-1        -
 * RECV         fd, len, flags, address capacity (-1 for   n           the n bytes, then for
 *              recv and a NULL address)                               an address: addr
 * RECVMSG      fd, flags, iov total, namelen, controllen  n           the n bytes; addr
 *                                                                     (msg_name); i64
 *                                                                     controllen then the
 *                                                                     control bytes (cut at
 *                                                                     64 KiB); i64 msg_flags
 * SEND         fd, len, flags, then (sendto with an       n           -
 *              address) the address text
 * SENDMSG      fd, flags, iov total, controllen, then     n           -
 *              msg_name's text
 * GETSOCKOPT   fd, level, optname, optlen capacity        0/-1        i64 optlen, the bytes
 * SETSOCKOPT   fd, level, optname, optlen, the value      0/-1        -
 *              when optlen == sizeof(int) (else 0)
 * GETSOCKNAME  fd, capacity                               0/-1        addr
 * GETPEERNAME  fd, capacity                               0/-1        addr
 * SHUTDOWN     fd, how                                    0/-1        -
 * GETADDRINFO  hints given (0/1), ai_flags, ai_family,    EAI code    i64 count, then each:
 *              ai_socktype, ai_protocol, node given,                  i64 flags, family,
 *              service given, "node service"                          socktype, protocol;
 *                                                                     addr; str canonname
 * GETNAMEINFO  hostlen, servlen, flags, address text      EAI code    str host, str serv
 * GETHOSTBY    kind (0 gethostbyname_r, 1 gethostbyaddr_r) error num. i64 h_errno, i64 found;
 *              buflen, addr type (kind 1), name or the                if found: str h_name,
 *              address (inet_ntop)                                    i64 addrtype, i64
 *                                                                     length, i64 naliases,
 *                                                                     str each, i64 naddrs,
 *                                                                     length bytes each
 * GETSERVBY    kind (0 byname, 1 byport), port (kind 1,   found 1/0   if found: str s_name,
 *              network order), "name proto" / "proto"                 i64 s_port, str
 *                                                                     s_proto, i64 naliases,
 *                                                                     str each
 * GETPROTOBY   name                                       found 1/0   if found: str p_name,
 *                                                                     i64 p_proto, i64
 *                                                                     naliases, str each
 * IF_NAMEINDEX kind (0 if_nameindex, 1 if_nametoindex,    0 if_name-  kind 0: i64 count,
 *              2 if_indextoname), index (kind 2), name    index: list then each i64 index,
 *              (kind 1)                                   1/0; else   str name; kind 2:
 *                                                         the call's  str name
 * POLL         kind (0 poll, 1 ppoll), nfds, timeout (ms; n           nfds revents (int16)
 *              ppoll: ns, -1 NULL), then fd*65536+events
 *              per entry (as many as fit)
 * SELECT       kind (0 select, 1 pselect), nfds, sets     n           each given set's first
 *              given (1 read, 2 write, 4 except),                     ceil(nfds/64)*8 bytes;
 *              timeout in µs (-1 NULL)                                select with a timeout:
 *                                                                     i64 sec, i64 usec left
 * EPOLL_CREATE kind (0 epoll_create, 1 epoll_create1), arg fd         -
 * EPOLL_CTL    epfd, op, fd, events (0: none, or DEL)     0/-1        -
 *              (not data: callers set part of the union)
 * EPOLL_WAIT   kind (0 epoll_wait, 1 epoll_pwait), epfd,  n           n struct epoll_event
 *              maxevents, timeout                                     (12 bytes each)
 * EVENTFD      initval, flags                             fd          -
 *
 * Replay writes only where the call would have written, never beyond the caller's
 * sizes; a record whose data is shorter than its layout (damaged, or cut) gives zeroes
 * for what is missing. Rules for this folder: recorder/libc/README.md.
 *
 * Chaos mode (recorder/chaos.h) perturbs readiness before it is logged: epoll's events
 * are shuffled, poll's and select's ready sets thinned (one kept).
 */
#undef _FORTIFY_SOURCE /* our recv/poll definitions, not glibc's inline checkers */
#include "input.h"

#include "chaos.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "sysalloc.h"

#define CONTROL_MAX 65536 /* recvmsg control bytes logged; more are cut */
#define TEXT_MAX 256      /* an address as text */

/* A block this file allocated in replay (a getaddrinfo list, an if_nameindex array),
 * found again by the free function; the answer follows the header. */
typedef struct block {
    struct block *next;
    void *user; /* what the caller was given */
} block;

/* The file's state. The real functions are written by the constructor, before main
 * and any thread, read-only afterwards. The blocks list is guarded by mu (any program
 * thread in replay); nblocks lets the free functions skip the lock when it is empty.
 * serv and proto are replay's static answers (getservbyname and getprotobyname return
 * static storage, unsynchronised, as the C library's do). Global because a wrapper
 * gets no context. */
static struct net_state {
    int (*socket)(int, int, int);
    int (*socketpair)(int, int, int, int[2]);
    int (*connect)(int, const struct sockaddr *, socklen_t);
    int (*accept)(int, struct sockaddr *, socklen_t *);
    int (*accept4)(int, struct sockaddr *, socklen_t *, int);
    int (*bind)(int, const struct sockaddr *, socklen_t);
    int (*listen)(int, int);
    ssize_t (*recv)(int, void *, size_t, int);
    ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
    ssize_t (*recvmsg)(int, struct msghdr *, int);
    ssize_t (*send)(int, const void *, size_t, int);
    ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
    ssize_t (*sendmsg)(int, const struct msghdr *, int);
    int (*getsockopt)(int, int, int, void *, socklen_t *);
    int (*setsockopt)(int, int, int, const void *, socklen_t);
    int (*getsockname)(int, struct sockaddr *, socklen_t *);
    int (*getpeername)(int, struct sockaddr *, socklen_t *);
    int (*shutdown)(int, int);
    int (*getaddrinfo)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
    void (*freeaddrinfo)(struct addrinfo *);
    int (*getnameinfo)(const struct sockaddr *, socklen_t, char *, socklen_t, char *,
                       socklen_t, int);
    int (*gethostbyname_r)(const char *, struct hostent *, char *, size_t, struct hostent **,
                           int *);
    int (*gethostbyaddr_r)(const void *, socklen_t, int, struct hostent *, char *, size_t,
                           struct hostent **, int *);
    struct servent *(*getservbyname)(const char *, const char *);
    struct servent *(*getservbyport)(int, const char *);
    struct protoent *(*getprotobyname)(const char *);
    struct if_nameindex *(*if_nameindex)(void);
    void (*if_freenameindex)(struct if_nameindex *);
    unsigned (*if_nametoindex)(const char *);
    char *(*if_indextoname)(unsigned, char *);
    int (*poll)(struct pollfd *, nfds_t, int);
    int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
    int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
    int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *,
                   const sigset_t *);
    int (*epoll_create)(int);
    int (*epoll_create1)(int);
    int (*epoll_ctl)(int, int, int, struct epoll_event *);
    int (*epoll_wait)(int, struct epoll_event *, int, int);
    int (*epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
    int (*eventfd)(unsigned, int);

    pthread_mutex_t mu;
    block *blocks;
    _Atomic int nblocks;

    struct servent serv;
    char *serv_aliases[16];
    char serv_buf[1024];
    struct protoent proto;
    char *proto_aliases[16];
    char proto_buf[1024];
} net = {.mu = PTHREAD_MUTEX_INITIALIZER};

#define RESOLVE(name) net.name = (__typeof__(net.name))dlsym(RTLD_NEXT, #name)

__attribute__((constructor)) static void net_resolve(void)
{
    RESOLVE(socket);
    RESOLVE(socketpair);
    RESOLVE(connect);
    RESOLVE(accept);
    RESOLVE(accept4);
    RESOLVE(bind);
    RESOLVE(listen);
    RESOLVE(recv);
    RESOLVE(recvfrom);
    RESOLVE(recvmsg);
    RESOLVE(send);
    RESOLVE(sendto);
    RESOLVE(sendmsg);
    RESOLVE(getsockopt);
    RESOLVE(setsockopt);
    RESOLVE(getsockname);
    RESOLVE(getpeername);
    RESOLVE(shutdown);
    RESOLVE(getaddrinfo);
    RESOLVE(freeaddrinfo);
    RESOLVE(getnameinfo);
    RESOLVE(gethostbyname_r);
    RESOLVE(gethostbyaddr_r);
    RESOLVE(getservbyname);
    RESOLVE(getservbyport);
    RESOLVE(getprotobyname);
    RESOLVE(if_nameindex);
    RESOLVE(if_freenameindex);
    RESOLVE(if_nametoindex);
    RESOLVE(if_indextoname);
    RESOLVE(poll);
    RESOLVE(ppoll);
    RESOLVE(select);
    RESOLVE(pselect);
    RESOLVE(epoll_create);
    RESOLVE(epoll_create1);
    RESOLVE(epoll_ctl);
    RESOLVE(epoll_wait);
    RESOLVE(epoll_pwait);
    RESOLVE(eventfd);
}

/* ---- encoding: data written in two passes (measure, then fill) ---- */

/* Data being built: with p NULL only n counts (the measuring pass). */
typedef struct wbuf {
    uint8_t *p;
    size_t n, cap;
} wbuf;

static void w_raw(wbuf *w, const void *d, size_t n)
{
    if (w->p && n && w->n + n <= w->cap)
        memcpy(w->p + w->n, d, n);
    w->n += n;
}

static void w_i64(wbuf *w, int64_t v)
{
    w_raw(w, &v, 8);
}

static void w_str(wbuf *w, const char *s)
{
    if (!s) {
        w_i64(w, -1);
        return;
    }
    size_t n = strlen(s);
    w_i64(w, (int64_t)n);
    w_raw(w, s, n);
}

/* An "addr": the length the call reported, then min(len, sockaddr_storage) bytes of
 * which the first `readable` come from sa (what the caller's buffer held), zeroes
 * after them. */
static void w_addr(wbuf *w, const struct sockaddr *sa, int64_t len, size_t readable)
{
    if (!sa || len < 0) {
        w_i64(w, -1);
        return;
    }
    w_i64(w, len);
    size_t kept = (size_t)len < sizeof(struct sockaddr_storage) ? (size_t)len
                                                                  : sizeof(struct sockaddr_storage);
    size_t from = readable < kept ? readable : kept;
    w_raw(w, sa, from);
    static const uint8_t zeroes[sizeof(struct sockaddr_storage)];
    w_raw(w, zeroes, kept - from);
}

static void w_strs(wbuf *w, char *const *v)
{
    int64_t n = 0;
    while (v && v[n])
        n++;
    w_i64(w, n);
    for (int64_t i = 0; i < n; i++)
        w_str(w, v[i]);
}

typedef void (*encode_fn)(wbuf *w, const void *ctx);

/* Logs one record whose data enc writes from ctx: measured, then built on the stack
 * or, when large, in one allocation. Keeps errno. */
static void put_encoded(uint32_t call, int64_t result, int err, const rw_in_key *k,
                        encode_fn enc, const void *ctx)
{
    uint8_t stack[1024];
    wbuf w = {0};
    enc(&w, ctx);
    size_t n = w.n;
    w.p = n <= sizeof stack ? stack : rw_sys_malloc(n);
    w.n = 0;
    w.cap = n;
    uint32_t flags = 0;
    if (w.p)
        enc(&w, ctx);
    else
        flags = RW_INPUT_F_TRUNCATED, n = 0;
    rw_in_put_flags(call, result, err, k, w.p, n, flags);
    if (w.p != stack)
        rw_sys_free(w.p);
}

/* ---- decoding a replayed record ---- */

/* A record's data being read; reads past the end give zeroes and NULL. */
typedef struct rbuf {
    const uint8_t *p;
    size_t n, at;
} rbuf;

static rbuf r_of(const rw_input *g)
{
    rbuf r = {g->data, g->data_len, 0};
    return r;
}

static const uint8_t *r_raw(rbuf *r, size_t n)
{
    if (n > r->n - r->at) {
        r->at = r->n;
        return NULL;
    }
    const uint8_t *q = r->p + r->at;
    r->at += n;
    return q;
}

static int64_t r_i64(rbuf *r)
{
    int64_t v = 0;
    const uint8_t *q = r_raw(r, 8);
    if (q)
        memcpy(&v, q, 8);
    return v;
}

/* A "str": its bytes (not NUL-terminated) and length, or NULL (-1 or missing). */
static const char *r_str(rbuf *r, size_t *len)
{
    int64_t n = r_i64(r);
    *len = 0;
    if (n < 0)
        return NULL;
    const uint8_t *q = r_raw(r, (size_t)n);
    if (q)
        *len = (size_t)n;
    return (const char *)q;
}

/* An "addr" into the caller's (sa, *len) as the call would have filled them. */
static void r_addr(rbuf *r, struct sockaddr *sa, socklen_t *len)
{
    int64_t full = r_i64(r);
    if (full < 0)
        return;
    size_t kept = (size_t)full < sizeof(struct sockaddr_storage) ? (size_t)full
                                                                   : sizeof(struct sockaddr_storage);
    const uint8_t *b = r_raw(r, kept);
    if (sa && len) {
        size_t c = kept < *len ? kept : *len;
        if (b)
            memcpy(sa, b, c);
        else
            memset(sa, 0, c);
        *len = (socklen_t)full;
    }
}

/* Copies n bytes of the record into dst (zeroes where the record is short). */
static void r_into(rbuf *r, void *dst, size_t n)
{
    size_t have = r->n - r->at < n ? r->n - r->at : n;
    if (have)
        memcpy(dst, r->p + r->at, have);
    if (have < n)
        memset((uint8_t *)dst + have, 0, n - have);
    r->at += have;
}

/* ---- addresses as text ---- */

static void addr_text(const struct sockaddr *sa, socklen_t len, char *out, size_t cap)
{
    out[0] = '\0';
    if (!sa || len < sizeof(sa_family_t))
        return;
    char h[INET6_ADDRSTRLEN];
    switch (sa->sa_family) {
    case AF_INET:
        if (len >= sizeof(struct sockaddr_in)) {
            const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
            if (inet_ntop(AF_INET, &s->sin_addr, h, sizeof h))
                snprintf(out, cap, "%s:%u", h, ntohs(s->sin_port));
        }
        return;
    case AF_INET6:
        if (len >= sizeof(struct sockaddr_in6)) {
            const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
            if (inet_ntop(AF_INET6, &s->sin6_addr, h, sizeof h))
                snprintf(out, cap, "[%s]:%u", h, ntohs(s->sin6_port));
        }
        return;
    case AF_UNIX: {
        const struct sockaddr_un *s = (const struct sockaddr_un *)sa;
        size_t off = offsetof(struct sockaddr_un, sun_path);
        size_t n = len > off ? len - off : 0;
        if (n > sizeof s->sun_path)
            n = sizeof s->sun_path;
        size_t o = 0, i = 0;
        if (n && s->sun_path[0] == '\0') { /* abstract: the name may hold any byte */
            out[o++] = '@';
            i = 1;
        } else {
            n = strnlen(s->sun_path, n);
        }
        for (; i < n && o + 1 < cap; i++) {
            unsigned char c = (unsigned char)s->sun_path[i];
            out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
        }
        out[o] = '\0';
        return;
    }
    default:
        snprintf(out, cap, "family %d", (int)sa->sa_family);
    }
}

/* ---- sockets ---- */

int socket(int domain, int type, int protocol)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return net.socket(domain, type, protocol);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, domain);
    rw_in_key_i64(&k, type);
    rw_in_key_i64(&k, protocol);
    if (m == RW_IN_REPLAY)
        return (int)rw_in_return(rw_in_take(RW_CALL_SOCKET, &k));
    int r = net.socket(domain, type, protocol);
    return (int)rw_in_logged(RW_CALL_SOCKET, &k, r, errno, NULL, 0);
}

int socketpair(int domain, int type, int protocol, int sv[2])
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return net.socketpair(domain, type, protocol, sv);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, domain);
    rw_in_key_i64(&k, type);
    rw_in_key_i64(&k, protocol);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_SOCKETPAIR, &k);
        if (g->result == 0) {
            rbuf d = r_of(g);
            sv[0] = (int)r_i64(&d);
            sv[1] = (int)r_i64(&d);
        }
        return (int)rw_in_return(g);
    }
    int r = net.socketpair(domain, type, protocol, sv);
    int e = errno;
    int64_t fds[2] = {r == 0 ? sv[0] : -1, r == 0 ? sv[1] : -1};
    rw_in_put(RW_CALL_SOCKETPAIR, r, e, &k, fds, sizeof fds);
    errno = e;
    return r;
}

/* connect and bind: (fd, the address as text). */
static int fd_addr_call(uint32_t call, int fd, const struct sockaddr *sa, socklen_t len,
                        int (*real)(int, const struct sockaddr *, socklen_t))
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return real(fd, sa, len);
    char text[TEXT_MAX];
    addr_text(sa, len, text, sizeof text);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, fd);
    rw_in_key_str(&k, text);
    if (m == RW_IN_REPLAY)
        return (int)rw_in_return(rw_in_take(call, &k));
    int r = real(fd, sa, len);
    int e = errno;
    rw_in_put(call, r, e, &k, NULL, 0);
    errno = e;
    return r;
}

int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
    return fd_addr_call(RW_CALL_CONNECT, fd, addr.__sockaddr__, len, net.connect);
}

int bind(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
    return fd_addr_call(RW_CALL_BIND, fd, addr.__sockaddr__, len, net.bind);
}

/* ACCEPT's data: the peer's address, then its text. */
/* An address a call wrote: its reported length, and how many bytes of it are there
 * (the caller's buffer may have been shorter). */
typedef struct addr_ctx {
    const struct sockaddr *sa;
    socklen_t len;
    size_t readable;
} addr_ctx;

static void enc_accept(wbuf *w, const void *ctx)
{
    const addr_ctx *a = ctx;
    char text[TEXT_MAX];
    addr_text(a->sa, a->len < a->readable ? a->len : (socklen_t)a->readable, text,
              sizeof text);
    w_addr(w, a->sa, a->len, a->readable);
    w_raw(w, text, strlen(text));
}

/* accept (is4 0) and accept4. The peer's address is always logged: when the caller
 * asks for none, the real call fills ours. */
static int do_accept(int fd, struct sockaddr *sa, socklen_t *len, int flags, int is4)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return is4 ? net.accept4(fd, sa, len, flags) : net.accept(fd, sa, len);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, fd);
    rw_in_key_i64(&k, flags);
    rw_in_key_i64(&k, sa != NULL);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_ACCEPT, &k);
        if (g->result >= 0) {
            rbuf d = r_of(g);
            r_addr(&d, sa, len);
        }
        return (int)rw_in_return(g);
    }
    struct sockaddr_storage own;
    socklen_t own_len = sizeof own;
    struct sockaddr *use = sa ? sa : (struct sockaddr *)&own;
    socklen_t *use_len = sa ? len : &own_len;
    socklen_t cap = use_len ? *use_len : 0;
    int r = is4 ? net.accept4(fd, use, use_len, flags) : net.accept(fd, use, use_len);
    int e = errno;
    if (r >= 0 && use_len) {
        addr_ctx a = {use, *use_len, cap}; /* the kernel wrote at most cap bytes */
        put_encoded(RW_CALL_ACCEPT, r, e, &k, enc_accept, &a);
    } else {
        rw_in_put(RW_CALL_ACCEPT, r, e, &k, NULL, 0);
    }
    errno = e;
    return r;
}

int accept(int fd, __SOCKADDR_ARG addr, socklen_t *restrict len)
{
    return do_accept(fd, addr.__sockaddr__, len, 0, 0);
}

int accept4(int fd, __SOCKADDR_ARG addr, socklen_t *restrict len, int flags)
{
    return do_accept(fd, addr.__sockaddr__, len, flags, 1);
}

/* Calls keyed by two ints whose result is all there is: listen, shutdown. */
static int two_int_call(uint32_t call, int a, int b, int (*real)(int, int))
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return real(a, b);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, a);
    rw_in_key_i64(&k, b);
    if (m == RW_IN_REPLAY)
        return (int)rw_in_return(rw_in_take(call, &k));
    int r = real(a, b);
    int e = errno;
    rw_in_put(call, r, e, &k, NULL, 0);
    errno = e;
    return r;
}

int listen(int fd, int backlog)
{
    return two_int_call(RW_CALL_LISTEN, fd, backlog, net.listen);
}

int shutdown(int fd, int how)
{
    return two_int_call(RW_CALL_SHUTDOWN, fd, how, net.shutdown);
}

/* RECV's data for recvfrom with an address: the bytes, then the address. */
typedef struct recvfrom_ctx {
    const void *buf;
    size_t n;
    const struct sockaddr *sa;
    int64_t len;
    size_t readable;
} recvfrom_ctx;

static void enc_recvfrom(wbuf *w, const void *ctx)
{
    const recvfrom_ctx *a = ctx;
    w_raw(w, a->buf, a->n);
    w_addr(w, a->sa, a->len, a->readable);
}

/* recv (sa NULL, fromcall 0) and recvfrom. */
static ssize_t do_recv(int fd, void *buf, size_t n, int flags, struct sockaddr *sa,
                       socklen_t *len, int fromcall)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return fromcall ? net.recvfrom(fd, buf, n, flags, sa, len) : net.recv(fd, buf, n, flags);
    int want_addr = sa && len;
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, fd);
    rw_in_key_i64(&k, (int64_t)n);
    rw_in_key_i64(&k, flags);
    rw_in_key_i64(&k, want_addr ? (int64_t)*len : -1);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_RECV, &k);
        if (g->result >= 0) {
            rbuf d = r_of(g);
            size_t got = (size_t)g->result;
            /* MSG_TRUNC may report more than the buffer held: only n were written. */
            size_t logged = got < n ? got : n;
            r_into(&d, buf, logged);
            if (want_addr)
                r_addr(&d, sa, len);
        }
        return (ssize_t)rw_in_return(g);
    }
    socklen_t cap = want_addr ? *len : 0;
    ssize_t r = fromcall ? net.recvfrom(fd, buf, n, flags, sa, len) : net.recv(fd, buf, n, flags);
    int e = errno;
    size_t got = r > 0 ? ((size_t)r < n ? (size_t)r : n) : 0;
    if (r >= 0 && want_addr) {
        recvfrom_ctx a = {buf, got, sa, *len, cap};
        put_encoded(RW_CALL_RECV, r, e, &k, enc_recvfrom, &a);
    } else {
        rw_in_put(RW_CALL_RECV, r, e, &k, buf, got);
    }
    errno = e;
    return r;
}

ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    return do_recv(fd, buf, n, flags, NULL, NULL, 0);
}

ssize_t recvfrom(int fd, void *restrict buf, size_t n, int flags, __SOCKADDR_ARG addr,
                 socklen_t *restrict len)
{
    return do_recv(fd, buf, n, flags, addr.__sockaddr__, len, 1);
}

static size_t iov_total(const struct msghdr *msg)
{
    size_t t = 0;
    for (size_t i = 0; msg && i < msg->msg_iovlen; i++)
        t += msg->msg_iov[i].iov_len;
    return t;
}

/* RECVMSG's data. cap_name and cap_control: what the caller's buffers held. */
typedef struct recvmsg_ctx {
    const struct msghdr *msg;
    size_t n;
    socklen_t cap_name;
    size_t cap_control;
} recvmsg_ctx;

static void enc_recvmsg(wbuf *w, const void *ctx)
{
    const recvmsg_ctx *a = ctx;
    const struct msghdr *msg = a->msg;
    size_t left = a->n;
    for (size_t i = 0; i < msg->msg_iovlen && left; i++) {
        size_t c = msg->msg_iov[i].iov_len < left ? msg->msg_iov[i].iov_len : left;
        w_raw(w, msg->msg_iov[i].iov_base, c);
        left -= c;
    }
    w_addr(w, msg->msg_name, msg->msg_name ? (int64_t)msg->msg_namelen : -1, a->cap_name);
    size_t cl = msg->msg_control ? msg->msg_controllen : 0;
    if (cl > a->cap_control)
        cl = a->cap_control;
    if (cl > CONTROL_MAX)
        cl = CONTROL_MAX;
    w_i64(w, (int64_t)cl);
    w_raw(w, msg->msg_control, cl);
    w_i64(w, msg->msg_flags);
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return net.recvmsg(fd, msg, flags);
    size_t total = iov_total(msg);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, fd);
    rw_in_key_i64(&k, flags);
    rw_in_key_i64(&k, (int64_t)total);
    rw_in_key_i64(&k, msg->msg_name ? (int64_t)msg->msg_namelen : -1);
    rw_in_key_i64(&k, msg->msg_control ? (int64_t)msg->msg_controllen : -1);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_RECVMSG, &k);
        if (g->result >= 0) {
            rbuf d = r_of(g);
            size_t left = (size_t)g->result < total ? (size_t)g->result : total;
            for (size_t i = 0; i < msg->msg_iovlen && left; i++) {
                size_t c = msg->msg_iov[i].iov_len < left ? msg->msg_iov[i].iov_len : left;
                r_into(&d, msg->msg_iov[i].iov_base, c);
                left -= c;
            }
            r_addr(&d, msg->msg_name, msg->msg_name ? &msg->msg_namelen : NULL);
            int64_t cl = r_i64(&d);
            size_t ckept = cl > 0 ? (size_t)cl : 0;
            if (!msg->msg_control || ckept > msg->msg_controllen)
                ckept = msg->msg_control ? msg->msg_controllen : 0;
            r_into(&d, msg->msg_control, ckept);
            if (msg->msg_control)
                msg->msg_controllen = ckept;
            msg->msg_flags = (int)r_i64(&d);
        }
        return (ssize_t)rw_in_return(g);
    }
    recvmsg_ctx a = {msg, 0, msg->msg_name ? msg->msg_namelen : 0,
                     msg->msg_control ? msg->msg_controllen : 0};
    ssize_t r = net.recvmsg(fd, msg, flags);
    int e = errno;
    if (r >= 0) {
        a.n = (size_t)r < total ? (size_t)r : total;
        uint32_t cut = msg->msg_control && msg->msg_controllen > CONTROL_MAX
                           ? RW_INPUT_F_TRUNCATED
                           : 0;
        if (cut) {
            /* Measured and logged like put_encoded, with the cut said. */
            wbuf w = {0};
            enc_recvmsg(&w, &a);
            size_t n = w.n;
            w.p = rw_sys_malloc(n ? n : 1);
            w.cap = n;
            w.n = 0;
            if (w.p)
                enc_recvmsg(&w, &a);
            rw_in_put_flags(RW_CALL_RECVMSG, r, e, &k, w.p, w.p ? n : 0, cut);
            rw_sys_free(w.p);
        } else {
            put_encoded(RW_CALL_RECVMSG, r, e, &k, enc_recvmsg, &a);
        }
    } else {
        rw_in_put(RW_CALL_RECVMSG, r, e, &k, NULL, 0);
    }
    errno = e;
    return r;
}

/* send (sa NULL) and sendto: not performed in replay. */
static ssize_t do_send(int fd, const void *buf, size_t n, int flags,
                       const struct sockaddr *sa, socklen_t len, int tocall)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return tocall ? net.sendto(fd, buf, n, flags, sa, len) : net.send(fd, buf, n, flags);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, fd);
    rw_in_key_i64(&k, (int64_t)n);
    rw_in_key_i64(&k, flags);
    if (sa) {
        char text[TEXT_MAX];
        addr_text(sa, len, text, sizeof text);
        rw_in_key_str(&k, text);
    }
    if (m == RW_IN_REPLAY)
        return (ssize_t)rw_in_return(rw_in_take(RW_CALL_SEND, &k));
    ssize_t r = tocall ? net.sendto(fd, buf, n, flags, sa, len) : net.send(fd, buf, n, flags);
    return (ssize_t)rw_in_logged(RW_CALL_SEND, &k, r, errno, NULL, 0);
}

ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    return do_send(fd, buf, n, flags, NULL, 0, 0);
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags, __CONST_SOCKADDR_ARG addr,
               socklen_t len)
{
    return do_send(fd, buf, n, flags, addr.__sockaddr__, len, 1);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return net.sendmsg(fd, msg, flags);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, fd);
    rw_in_key_i64(&k, flags);
    rw_in_key_i64(&k, (int64_t)iov_total(msg));
    rw_in_key_i64(&k, msg->msg_control ? (int64_t)msg->msg_controllen : 0);
    if (msg->msg_name) {
        char text[TEXT_MAX];
        addr_text(msg->msg_name, msg->msg_namelen, text, sizeof text);
        rw_in_key_str(&k, text);
    }
    if (m == RW_IN_REPLAY)
        return (ssize_t)rw_in_return(rw_in_take(RW_CALL_SENDMSG, &k));
    ssize_t r = net.sendmsg(fd, msg, flags);
    return (ssize_t)rw_in_logged(RW_CALL_SENDMSG, &k, r, errno, NULL, 0);
}

typedef struct opt_ctx {
    const void *val;
    socklen_t len;
} opt_ctx;

static void enc_opt(wbuf *w, const void *ctx)
{
    const opt_ctx *a = ctx;
    w_i64(w, a->len);
    w_raw(w, a->val, a->len);
}

int getsockopt(int fd, int level, int name, void *restrict val, socklen_t *restrict len)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return net.getsockopt(fd, level, name, val, len);
    socklen_t cap = len ? *len : 0;
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, fd);
    rw_in_key_i64(&k, level);
    rw_in_key_i64(&k, name);
    rw_in_key_i64(&k, cap);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_GETSOCKOPT, &k);
        if (g->result == 0 && len) {
            rbuf d = r_of(g);
            int64_t got = r_i64(&d);
            size_t c = got > 0 ? ((size_t)got < cap ? (size_t)got : cap) : 0;
            if (val)
                r_into(&d, val, c);
            *len = (socklen_t)got;
        }
        return (int)rw_in_return(g);
    }
    int r = net.getsockopt(fd, level, name, val, len);
    int e = errno;
    if (r == 0 && len) {
        opt_ctx a = {val, val ? (*len < cap ? *len : cap) : 0};
        /* The length the kernel reported is what the caller sees; the bytes are cap's. */
        put_encoded(RW_CALL_GETSOCKOPT, r, e, &k, enc_opt, &a);
    } else {
        rw_in_put(RW_CALL_GETSOCKOPT, r, e, &k, NULL, 0);
    }
    errno = e;
    return r;
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return net.setsockopt(fd, level, name, val, len);
    int iv = 0;
    if (val && len == sizeof(int))
        memcpy(&iv, val, sizeof iv);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, fd);
    rw_in_key_i64(&k, level);
    rw_in_key_i64(&k, name);
    rw_in_key_i64(&k, len);
    rw_in_key_i64(&k, iv);
    if (m == RW_IN_REPLAY)
        return (int)rw_in_return(rw_in_take(RW_CALL_SETSOCKOPT, &k));
    int r = net.setsockopt(fd, level, name, val, len);
    return (int)rw_in_logged(RW_CALL_SETSOCKOPT, &k, r, errno, NULL, 0);
}

static void enc_addr(wbuf *w, const void *ctx)
{
    const addr_ctx *a = ctx;
    w_addr(w, a->sa, a->len, a->readable);
}

/* getsockname and getpeername. */
static int name_call(uint32_t call, int fd, struct sockaddr *sa, socklen_t *len,
                     int (*real)(int, struct sockaddr *, socklen_t *))
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return real(fd, sa, len);
    socklen_t cap = len ? *len : 0;
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, fd);
    rw_in_key_i64(&k, cap);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(call, &k);
        if (g->result == 0) {
            rbuf d = r_of(g);
            r_addr(&d, sa, len);
        }
        return (int)rw_in_return(g);
    }
    int r = real(fd, sa, len);
    int e = errno;
    if (r == 0 && sa && len) {
        addr_ctx a = {sa, *len, cap}; /* the kernel wrote at most cap bytes */
        put_encoded(call, r, e, &k, enc_addr, &a);
    } else {
        rw_in_put(call, r, e, &k, NULL, 0);
    }
    errno = e;
    return r;
}

int getsockname(int fd, __SOCKADDR_ARG addr, socklen_t *restrict len)
{
    return name_call(RW_CALL_GETSOCKNAME, fd, addr.__sockaddr__, len, net.getsockname);
}

int getpeername(int fd, __SOCKADDR_ARG addr, socklen_t *restrict len)
{
    return name_call(RW_CALL_GETPEERNAME, fd, addr.__sockaddr__, len, net.getpeername);
}

/* ---- blocks handed to the caller in replay ---- */

/* A zeroed block of n bytes after its header, listed so that free_block finds it. */
static void *new_block(size_t n)
{
    size_t head = (sizeof(block) + 15) & ~(size_t)15;
    block *b = rw_sys_calloc(1, head + n);
    if (!b)
        return NULL;
    b->user = (uint8_t *)b + head;
    pthread_mutex_lock(&net.mu);
    b->next = net.blocks;
    net.blocks = b;
    atomic_fetch_add(&net.nblocks, 1);
    pthread_mutex_unlock(&net.mu);
    return b->user;
}

/* Frees p when it is one of ours: 1, else 0 (the C library's). */
static int free_block(void *p)
{
    if (!p || atomic_load_explicit(&net.nblocks, memory_order_relaxed) == 0)
        return 0;
    block *found = NULL;
    pthread_mutex_lock(&net.mu);
    for (block **at = &net.blocks; *at; at = &(*at)->next) {
        if ((*at)->user == p) {
            found = *at;
            *at = found->next;
            atomic_fetch_sub(&net.nblocks, 1);
            break;
        }
    }
    pthread_mutex_unlock(&net.mu);
    rw_sys_free(found);
    return found != NULL;
}

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* ---- name look-ups ---- */

/* A look-up is logged whole: while the C library performs it, capture is paused, for
 * the NSS modules it loads (libnss_systemd, libnss_resolve, ...) make socket calls of
 * their own through these very wrappers, which are not the program's and which a
 * replay, answering the look-up from the log, never makes. */

static void enc_addrinfo(wbuf *w, const void *ctx)
{
    const struct addrinfo *list = ctx;
    int64_t n = 0;
    for (const struct addrinfo *a = list; a; a = a->ai_next)
        n++;
    w_i64(w, n);
    for (const struct addrinfo *a = list; a; a = a->ai_next) {
        w_i64(w, a->ai_flags);
        w_i64(w, a->ai_family);
        w_i64(w, a->ai_socktype);
        w_i64(w, a->ai_protocol);
        w_addr(w, a->ai_addr, a->ai_addr ? (int64_t)a->ai_addrlen : -1, a->ai_addrlen);
        w_str(w, a->ai_canonname);
    }
}

/* Replay: the recorded list as one block (freeaddrinfo knows it). */
static struct addrinfo *replay_addrinfo(const rw_input *g)
{
    /* First pass: the size; second: the fill. */
    rbuf d = r_of(g);
    int64_t n = r_i64(&d);
    if (n <= 0 || (uint64_t)n > g->data_len)
        return NULL;
    size_t size = align8((size_t)n * sizeof(struct addrinfo));
    for (int64_t i = 0; i < n; i++) {
        for (int j = 0; j < 4; j++)
            r_i64(&d);
        int64_t al = r_i64(&d);
        if (al >= 0) {
            size_t kept = (size_t)al < sizeof(struct sockaddr_storage)
                              ? (size_t)al
                              : sizeof(struct sockaddr_storage);
            r_raw(&d, kept);
            size += align8(sizeof(struct sockaddr_storage));
        }
        size_t cl;
        if (r_str(&d, &cl))
            size += align8(cl + 1);
    }
    uint8_t *mem = new_block(size);
    if (!mem)
        return NULL;
    struct addrinfo *ai = (struct addrinfo *)mem;
    uint8_t *extra = mem + align8((size_t)n * sizeof(struct addrinfo));
    d = r_of(g);
    r_i64(&d);
    for (int64_t i = 0; i < n; i++) {
        struct addrinfo *a = &ai[i];
        a->ai_flags = (int)r_i64(&d);
        a->ai_family = (int)r_i64(&d);
        a->ai_socktype = (int)r_i64(&d);
        a->ai_protocol = (int)r_i64(&d);
        int64_t al = r_i64(&d);
        if (al >= 0) {
            size_t kept = (size_t)al < sizeof(struct sockaddr_storage)
                              ? (size_t)al
                              : sizeof(struct sockaddr_storage);
            r_into(&d, extra, kept);
            a->ai_addr = (struct sockaddr *)extra;
            a->ai_addrlen = (socklen_t)kept;
            extra += align8(sizeof(struct sockaddr_storage));
        }
        size_t cl;
        const char *c = r_str(&d, &cl);
        if (c) {
            memcpy(extra, c, cl);
            extra[cl] = '\0';
            a->ai_canonname = (char *)extra;
            extra += align8(cl + 1);
        }
        a->ai_next = i + 1 < n ? &ai[i + 1] : NULL;
    }
    return ai;
}

int getaddrinfo(const char *restrict node, const char *restrict service,
                const struct addrinfo *restrict hints, struct addrinfo **restrict res)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return net.getaddrinfo(node, service, hints, res);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, hints != NULL);
    rw_in_key_i64(&k, hints ? hints->ai_flags : 0);
    rw_in_key_i64(&k, hints ? hints->ai_family : 0);
    rw_in_key_i64(&k, hints ? hints->ai_socktype : 0);
    rw_in_key_i64(&k, hints ? hints->ai_protocol : 0);
    rw_in_key_i64(&k, node != NULL);
    rw_in_key_i64(&k, service != NULL);
    rw_in_key_str(&k, node);
    rw_in_key_str(&k, " ");
    rw_in_key_str(&k, service);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_GETADDRINFO, &k);
        *res = NULL;
        if (g->result == 0) {
            *res = replay_addrinfo(g);
            if (!*res) {
                errno = ENOMEM;
                return EAI_MEMORY;
            }
        }
        return (int)rw_in_return(g);
    }
    rw_in_pause();
    int r = net.getaddrinfo(node, service, hints, res);
    rw_in_resume();
    int e = errno;
    if (r == 0)
        put_encoded(RW_CALL_GETADDRINFO, r, e, &k, enc_addrinfo, *res);
    else
        rw_in_put(RW_CALL_GETADDRINFO, r, e, &k, NULL, 0);
    errno = e;
    return r;
}

void freeaddrinfo(struct addrinfo *ai)
{
    if (!free_block(ai))
        net.freeaddrinfo(ai);
}

typedef struct nameinfo_ctx {
    const char *host, *serv;
} nameinfo_ctx;

static void enc_nameinfo(wbuf *w, const void *ctx)
{
    const nameinfo_ctx *a = ctx;
    w_str(w, a->host);
    w_str(w, a->serv);
}

/* Copies a replayed "str" into a caller's buffer of cap bytes (NUL-terminated). */
static void str_into(rbuf *d, char *dst, size_t cap)
{
    size_t n;
    const char *s = r_str(d, &n);
    if (!dst || !cap)
        return;
    if (!s)
        n = 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, s, n);
    dst[n] = '\0';
}

int getnameinfo(const struct sockaddr *restrict sa, socklen_t salen, char *restrict host,
                socklen_t hostlen, char *restrict serv, socklen_t servlen, int flags)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return net.getnameinfo(sa, salen, host, hostlen, serv, servlen, flags);
    char text[TEXT_MAX];
    addr_text(sa, salen, text, sizeof text);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, host ? (int64_t)hostlen : -1);
    rw_in_key_i64(&k, serv ? (int64_t)servlen : -1);
    rw_in_key_i64(&k, flags);
    rw_in_key_str(&k, text);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_GETNAMEINFO, &k);
        if (g->result == 0) {
            rbuf d = r_of(g);
            str_into(&d, host, host ? hostlen : 0);
            str_into(&d, serv, serv ? servlen : 0);
        }
        return (int)rw_in_return(g);
    }
    rw_in_pause();
    int r = net.getnameinfo(sa, salen, host, hostlen, serv, servlen, flags);
    rw_in_resume();
    int e = errno;
    if (r == 0) {
        nameinfo_ctx a = {host && hostlen ? host : NULL, serv && servlen ? serv : NULL};
        put_encoded(RW_CALL_GETNAMEINFO, r, e, &k, enc_nameinfo, &a);
    } else {
        rw_in_put(RW_CALL_GETNAMEINFO, r, e, &k, NULL, 0);
    }
    errno = e;
    return r;
}

typedef struct hostent_ctx {
    int herr;
    const struct hostent *h;
} hostent_ctx;

static void enc_hostent(wbuf *w, const void *ctx)
{
    const hostent_ctx *a = ctx;
    w_i64(w, a->herr);
    w_i64(w, a->h != NULL);
    if (!a->h)
        return;
    const struct hostent *h = a->h;
    w_str(w, h->h_name);
    w_i64(w, h->h_addrtype);
    w_i64(w, h->h_length);
    w_strs(w, h->h_aliases);
    int64_t n = 0;
    while (h->h_addr_list && h->h_addr_list[n])
        n++;
    w_i64(w, n);
    for (int64_t i = 0; i < n; i++)
        w_raw(w, h->h_addr_list[i], h->h_length > 0 ? (size_t)h->h_length : 0);
}

/* A bump allocator over the caller's buffer (gethostby*_r keep everything there). */
typedef struct bump {
    char *p;
    size_t left;
} bump;

static void *bump_take(bump *b, size_t n, size_t align)
{
    uintptr_t at = ((uintptr_t)b->p + align - 1) & ~(uintptr_t)(align - 1);
    size_t pad = at - (uintptr_t)b->p;
    if (pad > b->left || n > b->left - pad)
        return NULL;
    b->p = (char *)at + n;
    b->left -= pad + n;
    return (void *)at;
}

static char *bump_str(bump *b, const char *s, size_t n)
{
    char *d = bump_take(b, n + 1, 1);
    if (d) {
        if (n)
            memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Reads a "str" list into a NULL-terminated array in b (NULL when it does not fit). */
static char **bump_strs(bump *b, rbuf *d)
{
    int64_t n = r_i64(d);
    if (n < 0 || (uint64_t)n > d->n)
        n = 0;
    char **v = bump_take(b, ((size_t)n + 1) * sizeof(char *), sizeof(char *));
    if (!v)
        return NULL;
    for (int64_t i = 0; i < n; i++) {
        size_t len;
        const char *s = r_str(d, &len);
        v[i] = bump_str(b, s ? s : "", s ? len : 0);
        if (!v[i])
            return NULL;
    }
    v[n] = NULL;
    return v;
}

/* Replay of gethostby*_r: the entry rebuilt in the caller's buffer. */
static int replay_hostent(const rw_input *g, struct hostent *ret, char *buf, size_t buflen,
                          struct hostent **result, int *h_errnop)
{
    rbuf d = r_of(g);
    int herr = (int)r_i64(&d);
    int found = (int)r_i64(&d);
    if (h_errnop)
        *h_errnop = herr;
    *result = NULL;
    if (found && g->result == 0) {
        bump b = {buf, buflen};
        size_t nl;
        const char *name = r_str(&d, &nl);
        ret->h_name = bump_str(&b, name ? name : "", name ? nl : 0);
        ret->h_addrtype = (int)r_i64(&d);
        ret->h_length = (int)r_i64(&d);
        ret->h_aliases = bump_strs(&b, &d);
        int64_t n = r_i64(&d);
        size_t len = ret->h_length > 0 ? (size_t)ret->h_length : 0;
        if (n < 0 || (uint64_t)n > d.n)
            n = 0;
        ret->h_addr_list = bump_take(&b, ((size_t)n + 1) * sizeof(char *), sizeof(char *));
        if (!ret->h_name || !ret->h_aliases || !ret->h_addr_list) {
            errno = ERANGE;
            return ERANGE;
        }
        for (int64_t i = 0; i < n; i++) {
            ret->h_addr_list[i] = bump_take(&b, len ? len : 1, 8);
            if (!ret->h_addr_list[i]) {
                errno = ERANGE;
                return ERANGE;
            }
            r_into(&d, ret->h_addr_list[i], len);
        }
        ret->h_addr_list[n] = NULL;
        *result = ret;
    }
    return (int)rw_in_return(g);
}

int gethostbyname_r(const char *restrict name, struct hostent *restrict ret,
                    char *restrict buf, size_t buflen, struct hostent **restrict result,
                    int *restrict h_errnop)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return net.gethostbyname_r(name, ret, buf, buflen, result, h_errnop);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, 0);
    rw_in_key_i64(&k, (int64_t)buflen);
    rw_in_key_i64(&k, 0);
    rw_in_key_str(&k, name);
    if (m == RW_IN_REPLAY)
        return replay_hostent(rw_in_take(RW_CALL_GETHOSTBY, &k), ret, buf, buflen, result,
                              h_errnop);
    rw_in_pause();
    int r = net.gethostbyname_r(name, ret, buf, buflen, result, h_errnop);
    rw_in_resume();
    int e = errno;
    hostent_ctx a = {h_errnop ? *h_errnop : 0, r == 0 ? *result : NULL};
    put_encoded(RW_CALL_GETHOSTBY, r, e, &k, enc_hostent, &a);
    errno = e;
    return r;
}

int gethostbyaddr_r(const void *restrict addr, socklen_t len, int type,
                    struct hostent *restrict ret, char *restrict buf, size_t buflen,
                    struct hostent **restrict result, int *restrict h_errnop)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return net.gethostbyaddr_r(addr, len, type, ret, buf, buflen, result, h_errnop);
    char text[TEXT_MAX] = "";
    if (addr && ((type == AF_INET && len >= 4) || (type == AF_INET6 && len >= 16)))
        inet_ntop(type, addr, text, sizeof text);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, 1);
    rw_in_key_i64(&k, (int64_t)buflen);
    rw_in_key_i64(&k, type);
    rw_in_key_str(&k, text);
    if (m == RW_IN_REPLAY)
        return replay_hostent(rw_in_take(RW_CALL_GETHOSTBY, &k), ret, buf, buflen, result,
                              h_errnop);
    rw_in_pause();
    int r = net.gethostbyaddr_r(addr, len, type, ret, buf, buflen, result, h_errnop);
    rw_in_resume();
    int e = errno;
    hostent_ctx a = {h_errnop ? *h_errnop : 0, r == 0 ? *result : NULL};
    put_encoded(RW_CALL_GETHOSTBY, r, e, &k, enc_hostent, &a);
    errno = e;
    return r;
}

static void enc_servent(wbuf *w, const void *ctx)
{
    const struct servent *s = ctx;
    w_str(w, s->s_name);
    w_i64(w, s->s_port);
    w_str(w, s->s_proto);
    w_strs(w, s->s_aliases);
}

/* getservbyname (kind 0) and getservbyport. Replay answers from net.serv. */
static struct servent *do_servby(int kind, const char *name, int port, const char *proto)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return kind ? net.getservbyport(port, proto) : net.getservbyname(name, proto);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, kind);
    rw_in_key_i64(&k, kind ? port : 0);
    if (!kind) {
        rw_in_key_str(&k, name);
        rw_in_key_str(&k, " ");
    }
    rw_in_key_str(&k, proto);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_GETSERVBY, &k);
        if (!g->result) {
            rw_in_return(g);
            return NULL;
        }
        rbuf d = r_of(g);
        bump b = {net.serv_buf, sizeof net.serv_buf};
        size_t n;
        const char *s = r_str(&d, &n);
        net.serv.s_name = bump_str(&b, s ? s : "", s ? n : 0);
        net.serv.s_port = (int)r_i64(&d);
        s = r_str(&d, &n);
        net.serv.s_proto = bump_str(&b, s ? s : "", s ? n : 0);
        net.serv.s_aliases = bump_strs(&b, &d);
        if (!net.serv.s_aliases) {
            net.serv_aliases[0] = NULL;
            net.serv.s_aliases = net.serv_aliases;
        }
        rw_in_return(g);
        return &net.serv;
    }
    rw_in_pause();
    struct servent *r = kind ? net.getservbyport(port, proto) : net.getservbyname(name, proto);
    rw_in_resume();
    int e = errno;
    if (r)
        put_encoded(RW_CALL_GETSERVBY, 1, e, &k, enc_servent, r);
    else
        rw_in_put(RW_CALL_GETSERVBY, 0, e, &k, NULL, 0);
    errno = e;
    return r;
}

struct servent *getservbyname(const char *name, const char *proto)
{
    return do_servby(0, name, 0, proto);
}

struct servent *getservbyport(int port, const char *proto)
{
    return do_servby(1, NULL, port, proto);
}

static void enc_protoent(wbuf *w, const void *ctx)
{
    const struct protoent *p = ctx;
    w_str(w, p->p_name);
    w_i64(w, p->p_proto);
    w_strs(w, p->p_aliases);
}

struct protoent *getprotobyname(const char *name)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return net.getprotobyname(name);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_str(&k, name);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_GETPROTOBY, &k);
        if (!g->result) {
            rw_in_return(g);
            return NULL;
        }
        rbuf d = r_of(g);
        bump b = {net.proto_buf, sizeof net.proto_buf};
        size_t n;
        const char *s = r_str(&d, &n);
        net.proto.p_name = bump_str(&b, s ? s : "", s ? n : 0);
        net.proto.p_proto = (int)r_i64(&d);
        net.proto.p_aliases = bump_strs(&b, &d);
        if (!net.proto.p_aliases) {
            net.proto_aliases[0] = NULL;
            net.proto.p_aliases = net.proto_aliases;
        }
        rw_in_return(g);
        return &net.proto;
    }
    rw_in_pause();
    struct protoent *r = net.getprotobyname(name);
    rw_in_resume();
    int e = errno;
    if (r)
        put_encoded(RW_CALL_GETPROTOBY, 1, e, &k, enc_protoent, r);
    else
        rw_in_put(RW_CALL_GETPROTOBY, 0, e, &k, NULL, 0);
    errno = e;
    return r;
}

/* ---- interfaces ---- */

static void enc_ifs(wbuf *w, const void *ctx)
{
    const struct if_nameindex *v = ctx;
    int64_t n = 0;
    while (v[n].if_index || v[n].if_name)
        n++;
    w_i64(w, n);
    for (int64_t i = 0; i < n; i++) {
        w_i64(w, v[i].if_index);
        w_str(w, v[i].if_name);
    }
}

static struct if_nameindex *replay_ifs(const rw_input *g)
{
    rbuf d = r_of(g);
    int64_t n = r_i64(&d);
    if (n < 0 || (uint64_t)n > g->data_len)
        n = 0;
    size_t size = ((size_t)n + 1) * sizeof(struct if_nameindex);
    for (int64_t i = 0; i < n; i++) {
        size_t len;
        r_i64(&d);
        r_str(&d, &len);
        size += len + 1;
    }
    uint8_t *mem = new_block(size);
    if (!mem)
        return NULL;
    struct if_nameindex *v = (struct if_nameindex *)mem;
    char *names = (char *)(mem + ((size_t)n + 1) * sizeof(struct if_nameindex));
    d = r_of(g);
    r_i64(&d);
    for (int64_t i = 0; i < n; i++) {
        v[i].if_index = (unsigned)r_i64(&d);
        size_t len;
        const char *s = r_str(&d, &len);
        if (s)
            memcpy(names, s, len);
        names[len] = '\0';
        v[i].if_name = names;
        names += len + 1;
    }
    return v; /* calloc'd: the last entry is {0, NULL} */
}

struct if_nameindex *if_nameindex(void)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return net.if_nameindex();
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, 0);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_IF_NAMEINDEX, &k);
        if (!g->result) {
            rw_in_return(g);
            return NULL;
        }
        struct if_nameindex *v = replay_ifs(g);
        rw_in_return(g);
        if (!v)
            errno = ENOBUFS;
        return v;
    }
    rw_in_pause();
    struct if_nameindex *r = net.if_nameindex();
    rw_in_resume();
    int e = errno;
    if (r)
        put_encoded(RW_CALL_IF_NAMEINDEX, 1, e, &k, enc_ifs, r);
    else
        rw_in_put(RW_CALL_IF_NAMEINDEX, 0, e, &k, NULL, 0);
    errno = e;
    return r;
}

void if_freenameindex(struct if_nameindex *v)
{
    if (!free_block(v))
        net.if_freenameindex(v);
}

unsigned if_nametoindex(const char *name)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return net.if_nametoindex(name);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, 1);
    rw_in_key_i64(&k, 0);
    rw_in_key_str(&k, name);
    if (m == RW_IN_REPLAY)
        return (unsigned)rw_in_return(rw_in_take(RW_CALL_IF_NAMEINDEX, &k));
    rw_in_pause();
    unsigned r = net.if_nametoindex(name);
    rw_in_resume();
    int e = errno;
    rw_in_put(RW_CALL_IF_NAMEINDEX, r, e, &k, NULL, 0);
    errno = e;
    return r;
}

char *if_indextoname(unsigned index, char name[IF_NAMESIZE])
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return net.if_indextoname(index, name);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, 2);
    rw_in_key_i64(&k, index);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_IF_NAMEINDEX, &k);
        if (!g->result) {
            rw_in_return(g);
            return NULL;
        }
        rbuf d = r_of(g);
        str_into(&d, name, IF_NAMESIZE);
        rw_in_return(g);
        return name;
    }
    rw_in_pause();
    char *r = net.if_indextoname(index, name);
    rw_in_resume();
    int e = errno;
    if (r) {
        /* One "str": the name. */
        size_t n = strnlen(r, IF_NAMESIZE);
        uint8_t data[8 + IF_NAMESIZE];
        int64_t len = (int64_t)n;
        memcpy(data, &len, 8);
        memcpy(data + 8, r, n);
        rw_in_put(RW_CALL_IF_NAMEINDEX, 1, e, &k, data, 8 + n);
    } else {
        rw_in_put(RW_CALL_IF_NAMEINDEX, 0, e, &k, NULL, 0);
    }
    errno = e;
    return r;
}

/* ---- readiness ---- */

static void poll_key(rw_in_key *k, int kind, const struct pollfd *fds, nfds_t nfds,
                     int64_t timeout)
{
    rw_in_key_init(k);
    rw_in_key_i64(k, kind);
    rw_in_key_i64(k, (int64_t)nfds);
    rw_in_key_i64(k, timeout);
    for (nfds_t i = 0; i < nfds && k->n + 8 <= sizeof k->b; i++)
        rw_in_key_i64(k, (int64_t)fds[i].fd * 65536 + (uint16_t)fds[i].events);
}

/* Replay: the revents from g (int16 each, as many as recorded). */
static int poll_replay(const rw_input *g, struct pollfd *fds, nfds_t nfds)
{
    rbuf d = r_of(g);
    for (nfds_t i = 0; i < nfds; i++) {
        int16_t re = 0;
        r_into(&d, &re, sizeof re);
        fds[i].revents = re;
    }
    return (int)rw_in_return(g);
}

/* Record: logs the revents after a poll or ppoll that returned r. */
static void poll_put(const rw_in_key *k, int r, int e, const struct pollfd *fds, nfds_t nfds)
{
    int16_t small[256];
    int16_t *re = nfds <= 256 ? small : rw_sys_malloc(nfds * sizeof *re);
    if (r >= 0 && re) {
        for (nfds_t i = 0; i < nfds; i++)
            re[i] = fds[i].revents;
        rw_in_put(RW_CALL_POLL, r, e, k, re, nfds * sizeof *re);
    } else {
        rw_in_put_flags(RW_CALL_POLL, r, e, k, NULL, 0, r >= 0 ? RW_INPUT_F_TRUNCATED : 0);
    }
    if (re != small)
        rw_sys_free(re);
}

/* glibc declares poll's fds write-only (for its fortify checks); the events in them
 * are read here, as the kernel reads them. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return net.poll(fds, nfds, timeout);
    rw_in_key k;
    poll_key(&k, 0, fds, nfds, timeout);
    if (m == RW_IN_REPLAY)
        return poll_replay(rw_in_take(RW_CALL_POLL, &k), fds, nfds);
    int r = net.poll(fds, nfds, timeout);
    int e = errno;
    if (RW_UNLIKELY(r > 1 && rw_chaos_active()))
        r = rw_chaos_poll(fds, nfds, r);
    poll_put(&k, r, e, fds, nfds);
    errno = e;
    return r;
}

int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *ts, const sigset_t *mask)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return net.ppoll(fds, nfds, ts, mask);
    rw_in_key k;
    poll_key(&k, 1, fds, nfds, ts ? (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec : -1);
    if (m == RW_IN_REPLAY)
        return poll_replay(rw_in_take(RW_CALL_POLL, &k), fds, nfds);
    int r = net.ppoll(fds, nfds, ts, mask);
    int e = errno;
    if (RW_UNLIKELY(r > 1 && rw_chaos_active()))
        r = rw_chaos_poll(fds, nfds, r);
    poll_put(&k, r, e, fds, nfds);
    errno = e;
    return r;
}

#pragma GCC diagnostic pop

/* The bytes of an fd_set that select looks at for nfds (whole 64-bit words). */
static size_t set_bytes(int nfds)
{
    if (nfds <= 0)
        return 0;
    if (nfds > FD_SETSIZE)
        nfds = FD_SETSIZE;
    return ((size_t)nfds + 63) / 64 * 8;
}

static void select_key(rw_in_key *k, int kind, int nfds, fd_set *r, fd_set *w, fd_set *x,
                       int64_t timeout_us)
{
    rw_in_key_init(k);
    rw_in_key_i64(k, kind);
    rw_in_key_i64(k, nfds);
    rw_in_key_i64(k, (r ? 1 : 0) | (w ? 2 : 0) | (x ? 4 : 0));
    rw_in_key_i64(k, timeout_us);
}

static int select_replay(const rw_input *g, int nfds, fd_set *r, fd_set *w, fd_set *x,
                         struct timeval *tv)
{
    rbuf d = r_of(g);
    size_t n = set_bytes(nfds);
    if (g->result >= 0) {
        fd_set *sets[3] = {r, w, x};
        for (int i = 0; i < 3; i++)
            if (sets[i])
                r_into(&d, sets[i], n);
        if (tv) {
            tv->tv_sec = r_i64(&d);
            tv->tv_usec = r_i64(&d);
        }
    }
    return (int)rw_in_return(g);
}

static void select_put(const rw_in_key *k, int res, int e, int nfds, fd_set *r, fd_set *w,
                       fd_set *x, const struct timeval *tv)
{
    uint8_t data[3 * sizeof(fd_set) + 16];
    size_t n = set_bytes(nfds), o = 0;
    if (res >= 0) {
        fd_set *sets[3] = {r, w, x};
        for (int i = 0; i < 3; i++) {
            if (sets[i]) {
                memcpy(data + o, sets[i], n);
                o += n;
            }
        }
        if (tv) {
            int64_t t[2] = {tv->tv_sec, tv->tv_usec};
            memcpy(data + o, t, 16);
            o += 16;
        }
    }
    rw_in_put(RW_CALL_SELECT, res, e, k, data, o);
}

int select(int nfds, fd_set *restrict r, fd_set *restrict w, fd_set *restrict x,
           struct timeval *restrict tv)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return net.select(nfds, r, w, x, tv);
    rw_in_key k;
    select_key(&k, 0, nfds, r, w, x, tv ? (int64_t)tv->tv_sec * 1000000 + tv->tv_usec : -1);
    if (m == RW_IN_REPLAY)
        return select_replay(rw_in_take(RW_CALL_SELECT, &k), nfds, r, w, x, tv);
    int res = net.select(nfds, r, w, x, tv);
    int e = errno;
    if (RW_UNLIKELY(res > 1 && rw_chaos_active()))
        res = rw_chaos_select(nfds, r, w, x, res);
    select_put(&k, res, e, nfds, r, w, x, tv);
    errno = e;
    return res;
}

int pselect(int nfds, fd_set *restrict r, fd_set *restrict w, fd_set *restrict x,
            const struct timespec *restrict ts, const sigset_t *restrict mask)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return net.pselect(nfds, r, w, x, ts, mask);
    rw_in_key k;
    select_key(&k, 1, nfds, r, w, x,
               ts ? (int64_t)ts->tv_sec * 1000000 + ts->tv_nsec / 1000 : -1);
    if (m == RW_IN_REPLAY)
        return select_replay(rw_in_take(RW_CALL_SELECT, &k), nfds, r, w, x, NULL);
    int res = net.pselect(nfds, r, w, x, ts, mask);
    int e = errno;
    if (RW_UNLIKELY(res > 1 && rw_chaos_active()))
        res = rw_chaos_select(nfds, r, w, x, res);
    select_put(&k, res, e, nfds, r, w, x, NULL);
    errno = e;
    return res;
}

/* epoll_create (form 0, arg = size) and epoll_create1 (form 1, arg = flags). */
static int epoll_create_any(int form, int arg)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return form ? net.epoll_create1(arg) : net.epoll_create(arg);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, form);
    rw_in_key_i64(&k, arg);
    if (m == RW_IN_REPLAY)
        return (int)rw_in_return(rw_in_take(RW_CALL_EPOLL_CREATE, &k));
    int r = form ? net.epoll_create1(arg) : net.epoll_create(arg);
    return (int)rw_in_logged(RW_CALL_EPOLL_CREATE, &k, r, errno, NULL, 0);
}

int epoll_create(int size)
{
    return epoll_create_any(0, size);
}

int epoll_create1(int flags)
{
    return epoll_create_any(1, flags);
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return net.epoll_ctl(epfd, op, fd, ev);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, epfd);
    rw_in_key_i64(&k, op);
    rw_in_key_i64(&k, fd);
    rw_in_key_i64(&k, ev && op != EPOLL_CTL_DEL ? (int64_t)ev->events : 0);
    /* Not ev->data: select.epoll sets data.fd only, and the rest of the union is
     * whatever the stack held; for EPOLL_CTL_DEL it passes an event it never set. */
    if (m == RW_IN_REPLAY)
        return (int)rw_in_return(rw_in_take(RW_CALL_EPOLL_CTL, &k));
    int r = net.epoll_ctl(epfd, op, fd, ev);
    return (int)rw_in_logged(RW_CALL_EPOLL_CTL, &k, r, errno, NULL, 0);
}

/* epoll_wait (mask unused) and epoll_pwait. */
static int do_epoll_wait(int kind, int epfd, struct epoll_event *ev, int max, int timeout,
                         const sigset_t *mask)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return kind ? net.epoll_pwait(epfd, ev, max, timeout, mask)
                    : net.epoll_wait(epfd, ev, max, timeout);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, kind);
    rw_in_key_i64(&k, epfd);
    rw_in_key_i64(&k, max);
    rw_in_key_i64(&k, timeout);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_EPOLL_WAIT, &k);
        if (g->result > 0 && ev && max > 0) {
            size_t n = (size_t)g->result < (size_t)max ? (size_t)g->result : (size_t)max;
            rbuf d = r_of(g);
            r_into(&d, ev, n * sizeof *ev);
        }
        return (int)rw_in_return(g);
    }
    int r = kind ? net.epoll_pwait(epfd, ev, max, timeout, mask)
                 : net.epoll_wait(epfd, ev, max, timeout);
    int e = errno;
    if (RW_UNLIKELY(r > 1 && rw_chaos_active()))
        rw_chaos_epoll(ev, r);
    rw_in_put(RW_CALL_EPOLL_WAIT, r, e, &k, ev, r > 0 ? (size_t)r * sizeof *ev : 0);
    errno = e;
    return r;
}

int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
    return do_epoll_wait(0, epfd, ev, max, timeout, NULL);
}

int epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout, const sigset_t *mask)
{
    return do_epoll_wait(1, epfd, ev, max, timeout, mask);
}

/* glibc's eventfd_read and eventfd_write call its internal read and write, which no
 * wrapper sees: the value read was not logged, and a replay's write went to a
 * descriptor that is not there. These are glibc's, through the wrapped calls. */
int eventfd_read(int fd, eventfd_t *value)
{
    return read(fd, value, sizeof *value) == (ssize_t)sizeof *value ? 0 : -1;
}

int eventfd_write(int fd, eventfd_t value)
{
    return write(fd, &value, sizeof value) == (ssize_t)sizeof value ? 0 : -1;
}

int eventfd(unsigned initval, int flags)
{
    int m = rw_in_mode();
    if (m == RW_IN_OFF)
        return net.eventfd(initval, flags);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, initval);
    rw_in_key_i64(&k, flags);
    if (m == RW_IN_REPLAY)
        return (int)rw_in_return(rw_in_take(RW_CALL_EVENTFD, &k));
    int r = net.eventfd(initval, flags);
    return (int)rw_in_logged(RW_CALL_EVENTFD, &k, r, errno, NULL, 0);
}
