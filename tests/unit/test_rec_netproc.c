/* Check suite for recorder/libc/net.c, proc.c and exits.c's fork and exec: each
 * scenario runs once in RW_IN_RECORD mode against real sockets, look-ups and children,
 * its inputs written to a trace, then again in RW_IN_REPLAY mode from that trace, with
 * the recording's descriptors closed and no peer or child: what the program observed
 * must be the same, and a call that differs from the recording is a divergence.
 */
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libc/input.h"
#include "reader.h"
#include "testutil.h"
#include "writer.h"

/* ---- the records: written to a trace in record mode, read back in replay ---- */

static rw_writer *trace_w;
static rw_reader *rd;
static char *trace;
static rw_input *recs; /* the trace's records, for the assertions */
static size_t nrecs, caprecs;

/* The first descriptor the recording may open: the ones below are Check's. */
static int first_fd;

static void start_record(void)
{
    first_fd = dup(0);
    close(first_fd);
    trace = rw_test_path("netproc.rwd");
    trace_w = rw_test_writer_open(trace, 0, NULL);
    rw_in_start(RW_IN_RECORD, NULL);
    rw_in_attach_writer(trace_w);
}

/* Copies every record of the trace into recs. */
static void read_records(rw_reader *r)
{
    rw_err err = {0};
    rw_inputs_iter *it;
    ck_assert_int_eq(rw_inputs_iter_open(r, &it, &err), RW_OK);
    rw_input in;
    int rc;
    while ((rc = rw_inputs_iter_next(it, &in, &err)) == 1) {
        if (nrecs == caprecs) {
            caprecs = caprecs ? 2 * caprecs : 64;
            recs = realloc(recs, caprecs * sizeof *recs);
        }
        uint8_t *k = malloc(in.key_len + 1), *d = malloc(in.data_len + 1);
        memcpy(k, in.key, in.key_len);
        if (in.data_len)
            memcpy(d, in.data, in.data_len);
        in.key = k;
        in.data = d;
        recs[nrecs++] = in;
    }
    ck_assert_msg(rc == 0, "inputs: %s", err.msg);
    rw_inputs_iter_free(it);
}

/* Ends the recording and closes its trace, closes the descriptors it left (so that
 * replay can touch no real socket), and replays from the trace. */
static void start_replay(void)
{
    rw_in_stop();
    rw_in_attach_writer(NULL);
    rw_test_writer_exit(trace_w);
    for (int fd = first_fd; fd < first_fd + 64; fd++)
        close(fd);
    rw_err err = {0};
    ck_assert_msg(rw_reader_open(trace, &rd, &err) == RW_OK, "open: %s", err.msg);
    read_records(rd);
    rw_in_start(RW_IN_REPLAY, rd);
}

static size_t count_call(uint32_t call)
{
    size_t n = 0;
    for (size_t i = 0; i < nrecs; i++)
        n += recs[i].call == call;
    return n;
}

/* Runs scenario in record mode, then in replay mode, and compares what it saw. */
static void round_trip(void (*scenario)(rw_test_seen *o, int recording), rw_test_seen *rec)
{
    static rw_test_seen rep;
    memset(rec, 0, sizeof *rec);
    memset(&rep, 0, sizeof rep);
    start_record();
    scenario(rec, 1);
    start_replay();
    scenario(&rep, 0);
    rw_in_stop();
    ck_assert_uint_gt(nrecs, 0);
    ck_assert_str_eq(rep.s, rec->s);
}

/* ---- socketpair, readiness ---- */

static void pair_scenario(rw_test_seen *o, int recording)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    rw_test_see(o, "pair %d %d\n", sv[0], sv[1]);
    rw_test_see(o, "send %zd\n", send(sv[0], "hello", 5, 0));

    struct pollfd p[2] = {{sv[0], POLLIN, 0}, {sv[1], POLLIN, 0}};
    int pr = poll(p, 2, 1000); /* (before reading revents: argument order is unspecified) */
    rw_test_see(o, "poll %d %d %d\n", pr, p[0].revents, p[1].revents);

    fd_set r;
    FD_ZERO(&r);
    FD_SET(sv[0], &r);
    FD_SET(sv[1], &r);
    struct timeval tv = {1, 0};
    int n = select(sv[1] + 1, &r, NULL, NULL, &tv);
    rw_test_see(o, "select %d %d %d\n", n, FD_ISSET(sv[0], &r), FD_ISSET(sv[1], &r));

    char buf[16] = {0};
    ssize_t got = recv(sv[1], buf, sizeof buf - 1, 0);
    rw_test_see(o, "recv %zd '%s'\n", got, buf);
    /* Nothing left: a non-blocking recv says so. */
    got = recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
    rw_test_see(o, "recv again %zd errno %d\n", got, got < 0 ? errno : 0);

    int type = 0;
    socklen_t tl = sizeof type;
    int gr = getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &tl);
    rw_test_see(o, "getsockopt %d type %d len %u\n", gr, type, (unsigned)tl);

    /* recvmsg with the sender's credentials as a control message. */
    int on = 1;
    rw_test_see(o, "setsockopt %d\n", setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
    struct iovec iov = {(void *)"xy", 2};
    struct msghdr sm = {.msg_iov = &iov, .msg_iovlen = 1};
    rw_test_see(o, "sendmsg %zd\n", sendmsg(sv[0], &sm, 0));
    char a[1], b[4];
    struct iovec riov[2] = {{a, 1}, {b, sizeof b}};
    union {
        char buf[CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct msghdr rm = {.msg_iov = riov, .msg_iovlen = 2, .msg_control = ctl.buf,
                        .msg_controllen = sizeof ctl.buf};
    ssize_t rn = recvmsg(sv[1], &rm, 0);
    struct cmsghdr *c = CMSG_FIRSTHDR(&rm);
    struct ucred cred = {0};
    if (c && c->cmsg_type == SCM_CREDENTIALS)
        memcpy(&cred, CMSG_DATA(c), sizeof cred);
    rw_test_see(o, "recvmsg %zd %c%c ctl %zu pid %d flags %d\n", rn, a[0], b[0],
        (size_t)rm.msg_controllen, (int)cred.pid, rm.msg_flags);
    rw_test_see(o, "shutdown %d\n", shutdown(sv[0], SHUT_WR));
    got = recv(sv[1], buf, sizeof buf, 0);
    rw_test_see(o, "eof %zd\n", got);
    (void)recording;
}

START_TEST(test_pair_and_readiness)
{
    rw_test_seen rec;
    round_trip(pair_scenario, &rec);
    ck_assert_ptr_nonnull(strstr(rec.s, "recv 5 'hello'"));
    ck_assert_ptr_nonnull(strstr(rec.s, "recvmsg 2 xy"));
    ck_assert_ptr_nonnull(strstr(rec.s, "eof 0"));
    ck_assert_uint_eq(count_call(RW_CALL_POLL), 1);
    ck_assert_uint_eq(count_call(RW_CALL_SELECT), 1);
    ck_assert_uint_eq(count_call(RW_CALL_RECV), 3);
}
END_TEST

/* ---- a TCP conversation on 127.0.0.1 with a peer that exists only when recording ---- */

/* The peer: a thread the recorder does not know (input stream 0: not logged). */
static void *peer(void *arg)
{
    int port = *(int *)arg;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(s, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(send(s, "ping", 4, 0), 4);
    char buf[8] = {0};
    ck_assert_int_eq(recv(s, buf, 4, MSG_WAITALL), 4);
    ck_assert_str_eq(buf, "pong");
    close(s);
    return NULL;
}

static void tcp_scenario(rw_test_seen *o, int recording)
{
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rw_test_see(o, "bind %d\n", bind(l, (struct sockaddr *)&a, sizeof a));
    rw_test_see(o, "listen %d\n", listen(l, 4));
    struct sockaddr_in me;
    socklen_t ml = sizeof me;
    ck_assert_int_eq(getsockname(l, (struct sockaddr *)&me, &ml), 0);
    int port = ntohs(me.sin_port);
    rw_test_see(o, "port %d len %u\n", port, (unsigned)ml);

    pthread_t t;
    if (recording)
        ck_assert_int_eq(pthread_create(&t, NULL, peer, &port), 0);
    struct sockaddr_storage peer_addr;
    socklen_t pl = sizeof peer_addr;
    int c = accept4(l, (struct sockaddr *)&peer_addr, &pl, SOCK_CLOEXEC);
    char host[64] = "", serv[16] = "";
    getnameinfo((struct sockaddr *)&peer_addr, pl, host, sizeof host, serv, sizeof serv,
                NI_NUMERICHOST | NI_NUMERICSERV);
    rw_test_see(o, "accept %d from %s:%s\n", c, host, serv);
    char buf[8] = {0};
    struct sockaddr_storage from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(c, buf, 4, MSG_WAITALL, (struct sockaddr *)&from, &fl);
    rw_test_see(o, "recvfrom %zd '%s'\n", n, buf);
    rw_test_see(o, "send %zd\n", send(c, "pong", 4, 0));
    struct sockaddr_in pa;
    socklen_t pal = sizeof pa;
    int pr = getpeername(c, (struct sockaddr *)&pa, &pal);
    rw_test_see(o, "getpeername %d port %d\n", pr, ntohs(pa.sin_port));
    if (recording)
        pthread_join(t, NULL);
    close(c);
    close(l);
}

START_TEST(test_tcp_peer)
{
    rw_test_seen rec;
    round_trip(tcp_scenario, &rec);
    ck_assert_ptr_nonnull(strstr(rec.s, "from 127.0.0.1:"));
    ck_assert_ptr_nonnull(strstr(rec.s, "recvfrom 4 'ping'"));
    /* The peer's address as text ends ACCEPT's data (rewind info --inputs). */
    for (size_t i = 0; i < nrecs; i++) {
        if (recs[i].call != RW_CALL_ACCEPT)
            continue;
        const char *d = (const char *)recs[i].data;
        ck_assert_uint_gt(recs[i].data_len, 8 + sizeof(struct sockaddr_in));
        ck_assert(memmem(d, recs[i].data_len, "127.0.0.1:", 10) != NULL);
    }
    ck_assert_uint_eq(count_call(RW_CALL_ACCEPT), 1);
    /* BIND's key ends with the address as text. */
    for (size_t i = 0; i < nrecs; i++)
        if (recs[i].call == RW_CALL_BIND)
            ck_assert(memmem(recs[i].key, recs[i].key_len, "127.0.0.1:0", 11) != NULL);
}
END_TEST

/* ---- name look-ups ---- */

static void names_scenario(rw_test_seen *o, int recording)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_CANONNAME};
    struct addrinfo *res = NULL;
    int r = getaddrinfo("127.0.0.1", "8080", &hints, &res);
    rw_test_see(o, "getaddrinfo %d\n", r);
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        char h[64] = "";
        inet_ntop(AF_INET, &((struct sockaddr_in *)a->ai_addr)->sin_addr, h, sizeof h);
        rw_test_see(o, " %d %d %d %s:%d canon %s\n", a->ai_family, a->ai_socktype, a->ai_protocol, h,
            ntohs(((struct sockaddr_in *)a->ai_addr)->sin_port),
            a->ai_canonname ? a->ai_canonname : "-");
    }
    freeaddrinfo(res);
    rw_test_see(o, "bad %d\n", getaddrinfo("not an address", NULL, &hints, &res));

    struct servent *s = getservbyname("http", "tcp");
    rw_test_see(o, "serv %s %d %s\n", s ? s->s_name : "-", s ? ntohs((uint16_t)s->s_port) : -1,
        s ? s->s_proto : "-");
    s = getservbyport(htons(22), "tcp");
    rw_test_see(o, "port 22 %s\n", s ? s->s_name : "-");
    struct protoent *p = getprotobyname("udp");
    rw_test_see(o, "proto %s %d\n", p ? p->p_name : "-", p ? p->p_proto : -1);

    struct hostent he, *hr = NULL;
    char buf[4096];
    int herr = 0;
    r = gethostbyname_r("localhost", &he, buf, sizeof buf, &hr, &herr);
    rw_test_see(o, "gethostbyname_r %d %s %d\n", r, hr ? hr->h_name : "-", hr ? hr->h_length : 0);
    for (int i = 0; hr && hr->h_addr_list[i]; i++) {
        char h[64] = "";
        inet_ntop(hr->h_addrtype, hr->h_addr_list[i], h, sizeof h);
        rw_test_see(o, " addr %s\n", h);
    }
    struct in_addr lo = {htonl(INADDR_LOOPBACK)};
    r = gethostbyaddr_r(&lo, sizeof lo, AF_INET, &he, buf, sizeof buf, &hr, &herr);
    rw_test_see(o, "gethostbyaddr_r %d %s\n", r, hr ? hr->h_name : "-");

    struct if_nameindex *ifs = if_nameindex();
    for (struct if_nameindex *i = ifs; i && i->if_index; i++)
        rw_test_see(o, "if %u %s\n", i->if_index, i->if_name);
    if_freenameindex(ifs);
    unsigned lo_index = if_nametoindex("lo");
    char name[IF_NAMESIZE] = "";
    rw_test_see(o, "lo %u %s\n", lo_index, if_indextoname(lo_index, name) ? name : "-");
    (void)recording;
}

START_TEST(test_names)
{
    rw_test_seen rec;
    round_trip(names_scenario, &rec);
    ck_assert_ptr_nonnull(strstr(rec.s, "127.0.0.1:8080 canon 127.0.0.1"));
    ck_assert_ptr_nonnull(strstr(rec.s, "proto udp 17"));
    ck_assert_ptr_nonnull(strstr(rec.s, "if 1 lo"));
}
END_TEST

/* freeaddrinfo tells a replayed list from the C library's. */
START_TEST(test_freeaddrinfo_both)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_flags = AI_NUMERICHOST};
    struct addrinfo *res = NULL;
    start_record();
    ck_assert_int_eq(getaddrinfo("10.1.2.3", NULL, &hints, &res), 0);
    freeaddrinfo(res);
    start_replay();
    struct addrinfo *mine = NULL, *glibc = NULL;
    ck_assert_int_eq(getaddrinfo("10.1.2.3", NULL, &hints, &mine), 0);
    rw_in_pause(); /* rewind's own call: the C library's */
    ck_assert_int_eq(getaddrinfo("10.9.9.9", NULL, &hints, &glibc), 0);
    rw_in_resume();
    ck_assert_uint_eq(((struct sockaddr_in *)mine->ai_addr)->sin_addr.s_addr,
                      inet_addr("10.1.2.3"));
    freeaddrinfo(glibc);
    freeaddrinfo(mine);
    rw_in_stop();
}
END_TEST

/* ---- epoll and eventfd ---- */

static void epoll_scenario(rw_test_seen *o, int recording)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int ev = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event e = {.events = EPOLLIN, .data.u64 = 77};
    rw_test_see(o, "ctl %d\n", epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e));
    uint64_t one = 1;
    rw_test_see(o, "write %zd\n", write(ev, &one, sizeof one)); /* files.c's: replayed too */
    struct epoll_event out[4];
    memset(out, 0, sizeof out);
    int n = epoll_wait(ep, out, 4, 1000);
    rw_test_see(o, "wait %d events %u data %llu\n", n, out[0].events, (unsigned long long)out[0].data.u64);
    n = epoll_wait(ep, out, 4, 0);
    ck_assert_int_eq(n, 1); /* level-triggered: still readable */
    rw_test_see(o, "again %d\n", n);
    (void)recording;
}

START_TEST(test_epoll)
{
    rw_test_seen rec;
    round_trip(epoll_scenario, &rec);
    ck_assert_ptr_nonnull(strstr(rec.s, "wait 1 events 1 data 77"));
}
END_TEST

/* ---- children: fork, vfork + exec, posix_spawn, wait, kill ---- */

static void proc_scenario(rw_test_seen *o, int recording)
{
    pid_t c = fork();
    if (c == 0)
        _exit(7);
    int st = 0;
    pid_t w = waitpid(c, &st, 0);
    rw_test_see(o, "fork waited %d exited %d status %d\n", w == c, WIFEXITED(st), WEXITSTATUS(st));

    c = vfork();
    if (c == 0) {
        char *argv[] = {"sh", "-c", "exit 3", NULL};
        execve("/bin/sh", argv, (char *[]){NULL});
        _exit(127);
    }
    struct rusage ru;
    w = wait4(c, &st, 0, &ru);
    rw_test_see(o, "vfork waited %d status %d\n", w == c, WEXITSTATUS(st));

    pid_t sp = 0;
    char *argv[] = {"sleep", "60", NULL};
    extern char **environ;
    rw_test_see(o, "spawn %d\n", posix_spawnp(&sp, "sleep", NULL, NULL, argv, environ));
    rw_test_see(o, "kill %d\n", kill(sp, SIGTERM));
    siginfo_t si;
    memset(&si, 0, sizeof si);
    rw_test_see(o, "waitid %d\n", waitid(P_PID, (id_t)sp, &si, WEXITED));
    rw_test_see(o, "signalled %d code %d pid-ok %d\n", si.si_status, si.si_code, si.si_pid == sp);
    int sys = system("exit 5");
    rw_test_see(o, "system %d\n", WEXITSTATUS(sys));

    int master = -1;
    char tty[64] = "";
    c = forkpty(&master, tty, NULL, NULL);
    if (c == 0) {
        (void)!write(1, "from the pty\n", 13);
        _exit(0);
    }
    char line[64] = "";
    ssize_t got = read(master, line, sizeof line - 1); /* files.c's: replayed too */
    w = waitpid(c, &st, 0);
    rw_test_see(o, "forkpty %d master-ok %d tty %.8s waited %d\n", c > 0, master >= 0, tty, w == c);
    (void)got;

    w = waitpid(-1, &st, WNOHANG);
    rw_test_see(o, "no child %d errno %d\n", w, errno);
    (void)recording;
}

START_TEST(test_children)
{
    rw_test_seen rec;
    round_trip(proc_scenario, &rec);
    ck_assert_ptr_nonnull(strstr(rec.s, "fork waited 1 exited 1 status 7"));
    ck_assert_ptr_nonnull(strstr(rec.s, "vfork waited 1 status 3"));
    ck_assert_ptr_nonnull(strstr(rec.s, "signalled 15 code 2 pid-ok 1"));
    ck_assert_ptr_nonnull(strstr(rec.s, "system 5"));
    ck_assert_ptr_nonnull(strstr(rec.s, "forkpty 1 master-ok 1 tty /dev/pts waited 1"));
    /* The children's own calls (exec, _exit) are not the recorded process's. */
    ck_assert_uint_eq(count_call(RW_CALL_FORK), 2);
    ck_assert_uint_eq(count_call(RW_CALL_EXECVE), 0);
    ck_assert_uint_eq(count_call(RW_CALL_POSIX_SPAWN), 1);
    /* vfork's FORK says what the child ran; fork's, whose child did not exec, nothing. */
    int vforks = 0;
    for (size_t i = 0; i < nrecs; i++) {
        if (recs[i].call != RW_CALL_FORK)
            continue;
        if (recs[i].data_len) {
            ck_assert_uint_eq(recs[i].data_len, 20);
            ck_assert_mem_eq(recs[i].data, "/bin/sh sh -c exit 3", 20);
            vforks++;
        }
    }
#if defined(__SANITIZE_ADDRESS__) || defined(RW_SANITIZE)
    ck_assert_int_eq(vforks, 0); /* vfork is a fork under ASan (proc.c): no shared note */
#else
    ck_assert_int_eq(vforks, 1);
#endif
    for (size_t i = 0; i < nrecs; i++)
        if (recs[i].call == RW_CALL_POSIX_SPAWN)
            ck_assert(recs[i].key_len == 14 && !memcmp(recs[i].key, "sleep sleep 60", 14));
}
END_TEST

/* A failed exec of the recorded process is logged and answered. */
START_TEST(test_exec_failure)
{
    char *argv[] = {"nothing", NULL};
    start_record();
    ck_assert_int_eq(execve("/nonexistent/nothing", argv, (char *[]){NULL}), -1);
    ck_assert_int_eq(errno, ENOENT);
    start_replay();
    errno = 0;
    ck_assert_int_eq(execve("/nonexistent/nothing", argv, (char *[]){NULL}), -1);
    ck_assert_int_eq(errno, ENOENT);
    rw_in_stop();
    ck_assert_uint_eq(count_call(RW_CALL_EXECVE), 1);
}
END_TEST

/* A call the recording does not have is a divergence: the default ends the process
 * with status 3. */
START_TEST(test_divergence)
{
    start_record();
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(1)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connect(s, (struct sockaddr *)&a, sizeof a);
    start_replay();
    s = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_port = htons(2); /* another peer than the recording's */
    connect(s, (struct sockaddr *)&a, sizeof a);
    ck_abort_msg("the divergence did not stop the replay");
}
END_TEST

/* OFF: no capture started, every call goes through and nothing is logged. */
START_TEST(test_off)
{
    int sv[2];
    ck_assert_int_eq(rw_in_mode(), RW_IN_OFF);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(send(sv[0], "a", 1, 0), 1);
    char c;
    ck_assert_int_eq(recv(sv[1], &c, 1, 0), 1);
    ck_assert_uint_eq(rw_in_tls.seq, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("netproc");
    const TTest *tests[] = {test_pair_and_readiness, test_tcp_peer, test_names,
                            test_freeaddrinfo_both, test_epoll, test_children,
                            test_exec_failure, test_off};
    rw_test_add_case(s, "wrappers", 60, tests, RW_TEST_N(tests));
    TCase *tc = tcase_create("divergence");
    tcase_add_exit_test(tc, test_divergence, 3);
    suite_add_tcase(s, tc);
    return rw_test_run(s);
}
