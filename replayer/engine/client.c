/* The front end's side of the engine (client.h): spawn `rewind __engine`, the
 * protocol's requests and replies (proto.h), restart when asked to go back. */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"

struct rw_engine {
    char *trace;
    pid_t pid;
    int fd;              /* our end of the socket pair */
    uint64_t pos;        /* UINT64_MAX: not stopped yet */
    uint64_t ended_at;   /* the program ended there (its checkpoints remain), or UINT64_MAX */
    int broken;          /* diverged, ended or lost: the next goto restarts */
    char *report;        /* the last divergence report, whole */
    char *note;          /* the last note a stop carried (rw_engine_take_note) */
    int note_new;        /* not taken yet */
};

/* rw_engine_set_sandbox: the user's --no-sandbox (cli/), for every engine started. */
static int sandbox_on = 1;

void rw_engine_set_sandbox(int on)
{
    sandbox_on = on != 0;
}

/* rw_engine_set_checkpoints: the limits passed to the engines started from now on. */
static unsigned ckpt_max = RW_ENGINE_CHECKPOINTS, ckpt_mib = RW_ENGINE_CHECKPOINT_MIB;

void rw_engine_set_checkpoints(unsigned max, unsigned mib)
{
    ckpt_max = max;
    ckpt_mib = mib;
}

static void stop_process(rw_engine *e)
{
    if (e->fd >= 0) {
        close(e->fd);
        e->fd = -1;
    }
    if (e->pid > 0) {
        kill(e->pid, SIGKILL);
        while (waitpid(e->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        e->pid = -1;
    }
    e->pos = UINT64_MAX;
}

/* The rewind executable to start: the one running (an engine is this program in
 * another mode), REWIND_ENGINE_EXE for tests that drive a client from another one. */
static const char *engine_exe(void)
{
    const char *exe = getenv("REWIND_ENGINE_EXE");
    return exe && *exe ? exe : "/proc/self/exe";
}

static rw_code start(rw_engine *e, rw_err *err)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return rw_err_set(err, RW_EPYTHON, "cannot start the engine: socketpair: %s",
                          strerror(errno));
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(sv[0]);
        close(sv[1]);
        return rw_err_set(err, RW_EPYTHON, "cannot start the engine: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        /* The engine dies with its client. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int fd = fcntl(sv[1], F_DUPFD, 3); /* without CLOEXEC */
        if (fd < 0)
            _exit(127);
        /* Nothing else of ours reaches the engine (a descriptor open for writing would
         * be one its sandbox lets the replayed program write to). */
        if (fd > 3)
            close_range(3, (unsigned)fd - 1, 0);
        close_range((unsigned)fd + 1, ~0u, 0);
        char fds[16];
        snprintf(fds, sizeof fds, "%d", fd);
        /* Its stdin is not the user's terminal; stdout and stderr stay ours (what the
         * program writes in replay is answered from the log, not shown from here). */
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            /* Until the program's writes are all answered from the log, what it prints
             * in the engine goes nowhere; REWIND_ENGINE_DEBUG keeps the engine's stderr. */
            dup2(null, 1);
            if (!getenv("REWIND_ENGINE_DEBUG"))
                dup2(null, 2);
            close(null);
        }
        /* Laid out without randomisation from its start, as the engine must be: it
         * would otherwise execute itself again to be (detalloc.h), about 10 ms. */
        int persona = personality(0xffffffff);
        if (persona >= 0)
            (void)personality((unsigned long)persona | ADDR_NO_RANDOMIZE);
        const char *exe = engine_exe();
        char nck[16], mib[16];
        snprintf(nck, sizeof nck, "%u", ckpt_max);
        snprintf(mib, sizeof mib, "%u", ckpt_mib);
        execl(exe, "rewind", "__engine", e->trace, "--fd-in", fds, "--fd-out", fds,
              "--checkpoints", nck, "--checkpoint-memory", mib,
              sandbox_on ? (char *)NULL : "--no-sandbox", (char *)NULL);
        _exit(127);
    }
    close(sv[1]);
    e->pid = pid;
    e->fd = sv[0];
    e->pos = UINT64_MAX;
    e->ended_at = UINT64_MAX;
    e->broken = 0;
    uint8_t *buf;
    rw_eproto_msg m;
    rw_err rerr = {0};
    rw_code rc = rw_eproto_recv(e->fd, &buf, &m, &rerr);
    if (rc != RW_OK) {
        stop_process(e);
        return rw_err_set(err, RW_EPYTHON, "the engine did not start (%s)", rerr.msg);
    }
    if (m.type == RW_EP_READY) {
        free(buf);
        return RW_OK;
    }
    rw_err_set(err, RW_EPYTHON, "%.*s", (int)(m.type == RW_EP_ERROR ? m.text_len : 0),
               m.type == RW_EP_ERROR ? m.text : "the engine answered out of turn");
    free(buf);
    stop_process(e);
    return RW_EPYTHON;
}

rw_code rw_engine_open(const char *trace_path, rw_engine **out, rw_err *err)
{
    rw_engine *e = calloc(1, sizeof *e);
    if (!e || !(e->trace = strdup(trace_path))) {
        free(e);
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    }
    e->fd = -1;
    e->pid = -1;
    e->pos = UINT64_MAX;
    rw_code rc = start(e, err);
    if (rc != RW_OK) {
        free(e->trace);
        free(e);
        return rc;
    }
    *out = e;
    return RW_OK;
}

void rw_engine_close(rw_engine *e)
{
    if (!e)
        return;
    if (e->fd >= 0) {
        rw_eproto_msg q = {.type = RW_EP_QUIT};
        rw_eproto_send(e->fd, &q, NULL);
    }
    stop_process(e);
    free(e->report);
    free(e->note);
    free(e->trace);
    free(e);
}

uint64_t rw_engine_pos(const rw_engine *e)
{
    return e->pos;
}

const char *rw_engine_take_note(rw_engine *e)
{
    if (!e->note_new)
        return NULL;
    e->note_new = 0;
    return e->note;
}

const char *rw_engine_report(const rw_engine *e)
{
    return e->report ? e->report : "";
}

/* Sends req and reads one reply into *buf/m. A lost engine is RW_EIO, and leaves e
 * needing a restart. */
static rw_code exchange(rw_engine *e, const rw_eproto_msg *req, uint8_t **buf, rw_eproto_msg *m,
                        rw_err *err)
{
    rw_err ioerr = {0};
    if (e->fd < 0 || rw_eproto_send(e->fd, req, &ioerr) != RW_OK ||
        rw_eproto_recv(e->fd, buf, m, &ioerr) != RW_OK) {
        int status = 0;
        pid_t w = 0;
        /* Its socket closes a moment before its status is there (a death by SIGSYS is
         * worth telling apart): wait up to 100 ms for it. */
        for (int i = 0; e->pid > 0 && i < 50 && (w = waitpid(e->pid, &status, WNOHANG)) == 0;
             i++)
            nanosleep(&(struct timespec){0, 2000000}, NULL);
        if (e->pid > 0 && w == e->pid) {
            e->pid = -1;
            if (WIFSIGNALED(status))
                snprintf(ioerr.msg, sizeof ioerr.msg, "it died of signal %d",
                         WTERMSIG(status));
            else
                snprintf(ioerr.msg, sizeof ioerr.msg, "it exited with status %d",
                         WEXITSTATUS(status));
        }
        stop_process(e);
        e->broken = 1;
        if (sandbox_on && WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
            return rw_err_set(err, RW_EIO, "the replayed program made a system call the "
                              "sandbox does not allow, with SIGSYS blocked (its name could "
                              "not be reported): the engine was stopped; --no-sandbox runs "
                              "it without the sandbox");
        return rw_err_set(err, RW_EIO, "the engine was lost (%s)", ioerr.msg);
    }
    if (m->type == RW_EP_BLOCKED) {
        /* The engine has ended: answered like a divergence (the next goto restarts, and
         * positions before the call have values). */
        char what[64], msg[512];
        if (m->pos)
            snprintf(what, sizeof what, "after event %" PRIu64, m->pos - 1);
        else
            snprintf(what, sizeof what, "before its first event");
        snprintf(msg, sizeof msg, "the replayed program tried %.*s (a system call the "
                 "sandbox does not allow) %s: the engine was stopped; --no-sandbox runs it "
                 "without the sandbox", (int)(m->text_len < 100 ? m->text_len : 100), m->text,
                 what);
        rw_err_set(err, RW_ECORRUPT, "%s", msg);
        free(e->report);
        e->report = strdup(msg);
        free(*buf);
        *buf = NULL;
        stop_process(e);
        e->broken = 1;
        return RW_ECORRUPT;
    }
    return RW_OK;
}

rw_code rw_engine_goto(rw_engine *e, uint64_t pos, rw_err *err)
{
    /* Behind the engine: with checkpoints it goes back itself (from the nearest one),
     * and answers E when it has none there; without, a new engine. */
    uint64_t here = e->pos != UINT64_MAX ? e->pos : e->ended_at;
    int back = here != UINT64_MAX && pos < here;
    if (e->broken || e->fd < 0 || (back && !ckpt_max)) {
        stop_process(e);
        RW_TRY(start(e, err));
        back = 0;
    }
    rw_eproto_msg req = {.type = RW_EP_GOTO, .pos = pos};
    uint8_t *buf = NULL;
    rw_eproto_msg m;
    RW_TRY(exchange(e, &req, &buf, &m, err));
    if (back && (m.type == RW_EP_ERROR || m.type == RW_EP_ENDED)) {
        free(buf);
        buf = NULL;
        stop_process(e);
        RW_TRY(start(e, err));
        RW_TRY(exchange(e, &req, &buf, &m, err));
    }
    rw_code rc = RW_OK;
    switch (m.type) {
    case RW_EP_STOPPED:
        e->pos = m.pos;
        if (m.text_len) {
            free(e->note);
            e->note = strndup(m.text, m.text_len);
            e->note_new = e->note != NULL;
        }
        e->ended_at = UINT64_MAX;
        break;
    case RW_EP_DIVERGED:
        free(e->report);
        e->report = strndup(m.text, m.text_len);
        e->broken = 1;
        rc = rw_err_set(err, RW_ECORRUPT, "%.*s", (int)m.text_len, m.text);
        break;
    case RW_EP_ENDED:
        /* With checkpoints the ended engine can still go back (serve_dead). */
        if (ckpt_max) {
            e->ended_at = m.pos;
            e->pos = UINT64_MAX;
        } else {
            e->broken = 1;
        }
        rc = rw_err_set(err, RW_EINVAL, "%.*s", (int)m.text_len, m.text);
        break;
    case RW_EP_ERROR:
        rc = rw_err_set(err, RW_EINVAL, "the engine: %.*s", (int)m.text_len, m.text);
        break;
    default:
        e->broken = 1;
        rc = rw_err_set(err, RW_ECORRUPT, "the engine answered '%c' to a goto", m.type);
    }
    free(buf);
    return rc;
}

rw_code rw_engine_ask(rw_engine *e, rw_engine_op op, uint32_t frame, const char *text,
                      char **out, int *raised, rw_err *err)
{
    if (e->fd < 0 || e->broken || e->pos == UINT64_MAX)
        return rw_err_set(err, RW_EINVAL, "the engine is not stopped anywhere");
    rw_eproto_msg req = {.type = RW_EP_ASK, .op = (uint8_t)op, .frame = frame,
                         .text = text ? text : "", .text_len = text ? strlen(text) : 0};
    uint8_t *buf = NULL;
    rw_eproto_msg m;
    RW_TRY(exchange(e, &req, &buf, &m, err));
    rw_code rc = RW_OK;
    if (m.type == RW_EP_VALUE) {
        char *s = strndup(m.text, m.text_len);
        if (!s) {
            rc = rw_err_set(err, RW_ENOMEM, "out of memory");
        } else {
            *out = s;
            *raised = m.raised;
        }
    } else if (m.type == RW_EP_ERROR) {
        rc = rw_err_set(err, RW_EINVAL, "%.*s", (int)m.text_len, m.text);
    } else {
        e->broken = 1;
        rc = rw_err_set(err, RW_ECORRUPT, "the engine answered '%c' to a question", m.type);
    }
    free(buf);
    return rc;
}
