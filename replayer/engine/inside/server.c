/* The engine process (server.h): set-up from the trace, the stop check in the hooks,
 * the request loop at a stop, the throwaway forks that evaluate.
 *
 * The stop check: in a single-threaded replay the recorder's own hooks compare
 * rw_st.nevents, the position of the next event, with rw_source_trip_at (the target,
 * the next signal, 0 after a divergence) and call eng_tripped when it passed: one
 * compare per event, which the recording pays too (never true there). With several
 * threads the hook functions are replaced by eng_trace and eng_profile
 * (rw_record_engine), which wait for the thread's turn, call the recorder's, and
 * look at the target, the verdict and the next signal themselves.
 *
 * Everything the engine does for itself while the program runs (the pipe, reading
 * the traces, forking) is bracketed with rw_in_pause so that none of it is answered
 * from the log, and none of it touches Python: Python-visible work happens only in
 * the forks, so the run goes on exactly as recorded.
 */
#include <Python.h>

#include "server.h"

#include "frameobject.h"
#include "marshal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audithook.h"
#include "check.h"
#include "checkpoint.h"
#include "client.h"
#include "detalloc.h"
#include "evalbreak.h"
#include "evalpy.h"
#include "libc/input.h"
#include "libc/libc.h"
#include "libc/locks.h"
#include "libc/shmem.h"
#include "proto.h"
#include "pysetup.h"
#include "reader.h"
#include "recorder.h"
#include "sandbox.h"
#include "sigwrap.h"
#include "source.h"
#include "state.h"
#include "threadwrap.h"
#include "threads.h"

#define RUN_TAIL_MAX 64 /* a longer tail is not watched (each record a slow path) */

/* The engine's state: one per process (the hooks get no context). Written by the
 * thread that holds the GIL (the stop check, the loop at a stop) and by
 * rw_engine_serve before the program runs. */
static struct engine {
    int in, out;
    rw_reader *rec;
    uint64_t target;      /* look in the hook of this event: min(goal, next checkpoint) */
    uint64_t goal;        /* stop in the hook of this event */
    unsigned ckpt_max, ckpt_mib; /* checkpoints' limits (rw_engine_serve_checkpoints) */
    int ckpt_log;         /* REWIND_ENGINE_LOG's descriptor, or -1 */
    uint64_t ckpt_every;  /* REWIND_CHECKPOINT_EVERY: a fixed spacing (tests), or 0 */
    char epath[64];       /* the engine's own trace (a memfd) */
    rw_check *check;
    int ended;            /* ENDED was sent */
    int goto_pending;     /* a GOTO awaits its answer (STOPPED, DIVERGED, ENDED, ERROR) */
    pid_t ia_pid;         /* the interact fork, or 0 */
    int ia_fd;
    pid_t zy_pid;         /* the stop's zygote (zygote_main), or 0 */
    int zy_fd;
    char *carried;        /* CARRY's text for frame carried_frame at this stop, or NULL */
    uint32_t carried_frame;
    /* The recorded thread order (multi-threaded recordings only): a run of records
     * (events and audit records) of thread sched_thread[i] starts at event
     * sched_pos[i], after sched_audits[i] audit records there; sched_tail[i]: the
     * records of the run before it after its last event, sched_drop[i] where that run's
     * thread let the GIL go (0: not noted) (rw_run_fn). */
    uint64_t *sched_pos;
    uint32_t *sched_thread;
    uint32_t *sched_audits;
    uint32_t *sched_tail;
    uint64_t *sched_drop;
    size_t nsched, sched_i; /* sched_i: the run the replay is in (moves forwards) */
    /* The audit records written at event position audit_pos (GIL). */
    uint64_t audit_pos;
    uint32_t audit_n;
    uint32_t *stream_id;    /* input stream -> the recorded thread id (RunEnd.threads) */
    uint8_t *stream_c;      /* input stream -> its thread was started by C code: 1, and
                             * 2 once a thread of the replay has claimed it (GIL) */
    uint64_t *stream_origin; /* input stream -> ThreadDef.c_origin */
    uint32_t nstream_ids;
    const _Atomic int *verdict; /* the check's (check.h): nonzero stops the run */
    int noted;                  /* the check's note was sent (at a stop) */
    char build_note[512];       /* the trace was recorded by another build of rewind */
    int build_noted;            /* build_note was sent (at the first stop) */
    int threads_allocs;         /* REWIND_COMPARE_THREAD_ALLOCS: compare them anyway */
    int drops_ignored;          /* REWIND_IGNORE_DROPS (tests): as a trace without DROP */
    /* run_end: thread tail_thread lets the GIL go after tail_left more records, at the
     * check with spot tail_drop (0: its first). */
    uint32_t tail_thread, tail_left;
    uint64_t tail_drop;
} E = {.target = UINT64_MAX, .goal = UINT64_MAX, .ia_fd = -1, .zy_fd = -1, .ckpt_max = RW_ENGINE_CHECKPOINTS,
       .ckpt_mib = RW_ENGINE_CHECKPOINT_MIB, .ckpt_log = -1};

void rw_engine_serve_checkpoints(unsigned max, unsigned mib)
{
    E.ckpt_max = max;
    E.ckpt_mib = mib;
}

/* Where the run stops next (goal), and where the hooks look (a checkpoint may be due
 * before it). */
/* Where the recorder's hooks next call eng_tripped (single-threaded replays: the
 * engine's wrappers look themselves): the stop's target, the next signal's position, at
 * once after a divergence. The check's thread zeroes it when it finds one
 * (rw_check_alarm); a verdict read after the store catches one found meanwhile. */
static void refresh_trip(void)
{
    if (E.nsched)
        return;
    uint64_t at = E.target, sig = rw_sig_next_pos;
    if (sig == 0)
        at = 0;
    else if (sig - 1 < at)
        at = sig - 1;
    atomic_store(&rw_source_trip_at, at);
    if (E.verdict && atomic_load(E.verdict))
        atomic_store(&rw_source_trip_at, 0);
}

static void set_goal(uint64_t goal)
{
    E.goal = goal;
    uint64_t due = rw_ckpt_due(rw_st.nevents ? rw_st.nevents - 1 : 0, goal);
    E.target = due < goal ? due : goal;
    refresh_trip();
}

/* Ends the engine now, from anywhere: nothing of the run is worth closing. */
static _Noreturn void die(int status)
{
    rw_in_pause();
    rw_libc_set_end(NULL);
    if (E.ia_pid > 0)
        rw_sandbox_end_child(E.ia_pid);
    if (E.zy_pid > 0)
        rw_sandbox_end_child(E.zy_pid);
    _exit(status);
}

static void send_msg(uint8_t type, uint64_t pos, const char *text)
{
    rw_eproto_msg m = {.type = type, .pos = pos, .text = text ? text : "",
                       .text_len = text ? strlen(text) : 0};
    if (rw_eproto_send(E.out, &m, NULL) != RW_OK)
        die(0); /* the client is gone */
}

static void send_value(int raised, const char *text, size_t len)
{
    rw_eproto_msg m = {.type = RW_EP_VALUE, .raised = (uint8_t)raised, .text = text,
                       .text_len = len};
    if (rw_eproto_send(E.out, &m, NULL) != RW_OK)
        die(0);
}

/* After a divergence or the program's end: answers the pending goto, then every
 * later one, with this message until the client goes. */
static _Noreturn void serve_dead(uint8_t type, uint64_t pos, const char *text)
{
    atomic_store(&rw_locks_engine_stopped, 1); /* for good: no lock turn is awaited */
    if (E.goto_pending) {
        E.goto_pending = 0;
        send_msg(type, pos, text);
    }
    for (;;) {
        uint8_t *buf;
        rw_eproto_msg m;
        if (rw_eproto_recv(E.in, &buf, &m, NULL) != RW_OK)
            die(0);
        uint8_t t = m.type;
        uint64_t p = m.pos;
        free(buf);
        if (t == RW_EP_QUIT)
            die(0);
        /* After the program's end a checkpoint can still go back (not after a
         * divergence: the client starts a new engine then). */
        if (t == RW_EP_GOTO && type == RW_EP_ENDED && p < pos && rw_ckpt_go_back(pos, p))
            die(0);
        if (t == RW_EP_GOTO)
            send_msg(type, pos, text);
        else
            send_msg(RW_EP_ERROR, 0, "the engine is not stopped anywhere");
    }
}

/* ---- evaluation in a throwaway fork ---------------------------------------------- */

/* The newest frame of the stop and what the hook was given. */
typedef struct stop {
    PyFrameObject *frame;
    int what;
    PyObject *arg;
    uint64_t pos;
} stop;

/* {path: [lines]} of every recorded file with its text (for `source`). */
static PyObject *recorded_sources(void)
{
    PyObject *d = PyDict_New();
    const rw_defs *defs = rw_reader_defs(E.rec);
    for (uint32_t id = 1; d; id++) {
        const Rewind__FileDef *f = rw_defs_file(defs, id);
        if (!f)
            break;
        if (!f->has_source || !f->path)
            continue;
        PyObject *text = PyUnicode_DecodeUTF8((const char *)f->source.data,
                                              (Py_ssize_t)f->source.len, "replace");
        PyObject *lines = text ? PyUnicode_Splitlines(text, 1) : NULL;
        if (lines)
            PyDict_SetItemString(d, f->path, lines);
        Py_XDECREF(lines);
        Py_XDECREF(text);
        PyErr_Clear();
    }
    return d;
}

/* The helper's _import(name): the module, imported with the inputs paused. */
static PyObject *import_paused(PyObject *self, PyObject *name)
{
    (void)self;
    rw_in_pause();
    PyObject *m = PyImport_Import(name);
    rw_in_resume();
    return m;
}

static PyMethodDef import_def = {"_import", import_paused, METH_O, NULL};

/* The helper's module (evalpy.py), made once per fork: an interact fork keeps its
 * console, a stop's zygote (zygote_main) has it made before it forks for each
 * question. Its imports (pprint, inspect, code, ...: when a question needs them) read
 * the local standard library for real: this is the engine's own work, not the
 * program's, and happens in throwaway forks only. The evaluation itself runs refused
 * (RW_IN_EVAL). */
static PyObject *eval_helper(void)
{
    static PyObject *g;
    if (!g) {
        rw_in_pause();
        g = PyDict_New();
        PyObject *imp = g ? PyCFunction_New(&import_def, NULL) : NULL;
        if (g)
            PyDict_SetItemString(g, "__builtins__", PyEval_GetBuiltins());
        if (imp)
            PyDict_SetItemString(g, "_import", imp);
        Py_XDECREF(imp);
        /* Its code as the build compiled it (evalpy.py: compiling the text here took
         * 11-15 ms, most of a stop's first question), or its text when this
         * interpreter's bytecode is not the build's. */
        PyObject *co = NULL;
        if (PyImport_GetMagicNumber() == RW_ENGINE_EVALPY_MAGIC)
            co = PyMarshal_ReadObjectFromString((const char *)rw_engine_evalpy_code,
                                                sizeof rw_engine_evalpy_code);
        if (!co) {
            PyErr_Clear();
            co = Py_CompileString(rw_engine_evalpy, "<string>", Py_file_input);
        }
        PyObject *r = g && co ? PyEval_EvalCode(co, g, g) : NULL;
        Py_XDECREF(r);
        Py_XDECREF(co);
        PyErr_Clear();
        rw_in_resume();
    }
    return g;
}

/* The helper's need(op, carried): the modules op uses, imported now (inputs paused).
 * In a stop's zygote, before each question's copy: they stay for the next ones. */
static void eval_need(int op, int carried)
{
    PyObject *g = eval_helper();
    PyObject *fn = g ? PyDict_GetItemString(g, "need") : NULL;
    if (!fn)
        return;
    rw_in_pause();
    PyObject *r = PyObject_CallFunction(fn, "iO", op, carried ? Py_True : Py_False);
    Py_XDECREF(r);
    PyErr_Clear();
    rw_in_resume();
}

/* Runs op in this (forked) process: returns a new (raised, text) pair in *raised,
 * *text (malloc'd). GIL held. */
static void evaluate(const stop *st, int op, uint32_t frame_ix, const char *text, size_t len,
                     int *raised, char **out)
{
    *raised = 1;
    *out = NULL;
    /* The frame: 0 = the newest of the stopped thread, the one of its event (the count
     * starts there: below the program's first frame the engine has frames the session
     * does not show, runpy's for `-m`). References kept: a throwaway. */
    PyFrameObject *frames[4096];
    size_t n = 0;
    PyFrameObject *cur = st->frame;
    Py_XINCREF(cur);
    while (cur && n < 4096) {
        frames[n++] = cur;
        cur = PyFrame_GetBack(cur); /* new reference */
    }
    Py_XDECREF(cur);
    size_t ix = frame_ix == UINT32_MAX || (frame_ix & RW_ENGINE_TRACEBACK) ? 0
                : frame_ix < n ? frame_ix : SIZE_MAX;
    if (ix == SIZE_MAX) {
        *out = strdup("no such frame");
        return;
    }
    PyFrameObject *f = frames[ix];
    if (frame_ix != UINT32_MAX && (frame_ix & RW_ENGINE_TRACEBACK)) {
        /* A frame of the traceback below an exception stop, as pdb's get_stack(f, tb)
         * lists them: the traceback's entries after the stopped frame's own; the frame
         * has returned, and its object keeps its locals. */
        PyObject *tb = st->what == PyTrace_EXCEPTION && st->arg && PyTuple_Check(st->arg) &&
                               PyTuple_GET_SIZE(st->arg) >= 3
                           ? PyTuple_GET_ITEM(st->arg, 2)
                           : NULL;
        if (tb && PyTraceBack_Check(tb) &&
            ((PyTracebackObject *)tb)->tb_frame == f)
            tb = (PyObject *)((PyTracebackObject *)tb)->tb_next;
        for (uint32_t k = frame_ix & ~RW_ENGINE_TRACEBACK; k > 1 && tb && PyTraceBack_Check(tb);
             k--)
            tb = (PyObject *)((PyTracebackObject *)tb)->tb_next;
        if (!tb || !PyTraceBack_Check(tb) || !(frame_ix & ~RW_ENGINE_TRACEBACK)) {
            *out = strdup("no such frame in the traceback");
            return;
        }
        f = ((PyTracebackObject *)tb)->tb_frame;
        ix = SIZE_MAX; /* none of the stop's extras */
    }
    PyObject *g = eval_helper();
    PyObject *extra = PyDict_New();
    if (ix == 0 && extra && st->what == PyTrace_RETURN) {
        /* A frame left by an exception returns NULL to the hook, and None to a Python
         * trace function: pdb's user_return stores None. */
        PyDict_SetItemString(extra, "__return__", st->arg ? st->arg : Py_None);
    } else if (ix == 0 && extra && st->arg) {
        if (st->what == PyTrace_EXCEPTION && PyTuple_Check(st->arg) &&
                 PyTuple_GET_SIZE(st->arg) >= 2) {
            PyObject *te = PyTuple_GetSlice(st->arg, 0, 2);
            if (te)
                PyDict_SetItemString(extra, "__exception__", te);
            Py_XDECREF(te);
        }
    }
    eval_need(op, E.carried && E.carried_frame == frame_ix);
    PyObject *sources = op == RW_ENGINE_SOURCE ? recorded_sources() : PyDict_New();
    PyObject *fn = g ? PyDict_GetItemString(g, "run") : NULL;
    PyObject *t = PyUnicode_DecodeUTF8(text, (Py_ssize_t)len, "surrogateescape");
    PyObject *carried = PyUnicode_FromString(E.carried && E.carried_frame == frame_ix
                                                 ? E.carried : "");
    PyObject *res = fn && t && extra && sources && carried
                        ? PyObject_CallFunction(fn, "OiOOOO", (PyObject *)f, op, t, extra,
                                                sources, carried)
                        : NULL;
    Py_XDECREF(carried);
    if (res && op == RW_ENGINE_EXEC)
        PyFrame_LocalsToFast(f, 0); /* as pdb's !stmt: assignments reach the frame */
    PyObject *s = NULL;
    if (res && PyTuple_Check(res) && PyTuple_GET_SIZE(res) == 2) {
        *raised = (int)PyLong_AsLong(PyTuple_GET_ITEM(res, 0));
        s = PyUnicode_AsEncodedString(PyTuple_GET_ITEM(res, 1), "utf-8", "backslashreplace");
    }
    if (s) {
        *out = strndup(PyBytes_AS_STRING(s), (size_t)PyBytes_GET_SIZE(s));
    } else {
        /* The helper itself failed (not the expression: run() catches that): say what
         * Python said. */
        char why[400] = "";
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        PyObject *es = ev ? PyObject_Str(ev) : NULL;
        const char *tn = et && PyType_Check(et) ? ((PyTypeObject *)et)->tp_name : NULL;
        const char *em = es ? PyUnicode_AsUTF8(es) : NULL;
        if (tn)
            snprintf(why, sizeof why, ": %s%s%s", tn, em && *em ? ": " : "", em ? em : "");
        Py_XDECREF(es);
        Py_XDECREF(et);
        Py_XDECREF(ev);
        Py_XDECREF(tb);
        PyErr_Clear();
        *raised = 1;
        size_t cap = strlen(why) + 64;
        *out = malloc(cap);
        if (*out)
            snprintf(*out, cap, "the engine could not evaluate this%s", why);
    }
    if (*raised == 1 && *out && !(*out)[0]) {
        free(*out);
        *out = strdup("the evaluation failed");
    }
    Py_XDECREF(s);
    Py_XDECREF(res);
    Py_XDECREF(t);
    Py_XDECREF(sources);
    Py_XDECREF(extra);
    PyErr_Clear();
}

/* In the fork: nothing recorded, nothing performed, nothing taken from the log. */
static void become_throwaway(void)
{
    /* The hooks stay, but record nothing (the recorder's are off, and the stop
     * check's target is past everything); the exits close no trace. */
    atomic_store(&rw_st.on, 0);
    rw_libc_set_end(NULL);
    rw_eng_gil_after_fork();
}

static void child_reply(int fd, int raised, const char *text)
{
    rw_in_pause();
    rw_eproto_msg m = {.type = RW_EP_VALUE, .raised = (uint8_t)raised, .text = text,
                       .text_len = strlen(text)};
    rw_eproto_send(fd, &m, NULL);
    rw_in_resume();
}

/* A copy of this process joined to it by a socket pair (_Fork: no at-fork handlers run,
 * the copy must not start a trace). Returns the copy's pid here and 0 in the copy, *fd
 * being each side's own end; -1 (errno) with nothing left open when either fails. */
static pid_t fork_joined(int *fd)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return -1;
    rw_files_before_copy();
    pid_t pid = _Fork();
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        errno = e;
        return -1;
    }
    if (pid == 0) {
        rw_shm_unshare(); /* what the copy writes to shared objects stays in it */
        rw_files_unshare(); /* what it reads of local files moves no offset here */
    }
    close(sv[pid == 0 ? 0 : 1]);
    *fd = sv[pid == 0 ? 1 : 0];
    return pid;
}

/* Forks a throwaway copy of the engine that evaluates op and replies on a socket; for
 * INTERACT_BEGIN the copy stays and serves lines until INTERACT_END. Returns the pid
 * and our end of the socket, or -1 (errno). GIL held (the copy has it too). */
static pid_t fork_eval(const stop *st, int op, uint32_t frame, const char *text, size_t len,
                       int *fd_out)
{
    int fd;
    pid_t pid = fork_joined(&fd);
    if (pid != 0) {
        *fd_out = fd;
        return pid;
    }
    rw_sandbox_in_fork(fd);
    become_throwaway();
    rw_in_eval_mode();
    int raised;
    char *out;
    evaluate(st, op, frame, text, len, &raised, &out);
    child_reply(fd, raised, out ? out : "");
    free(out);
    while (op == RW_ENGINE_INTERACT_BEGIN) {
        uint8_t *buf;
        rw_eproto_msg m;
        rw_in_pause();
        rw_code rc = rw_eproto_recv(fd, &buf, &m, NULL);
        rw_in_resume();
        if (rc != RW_OK || m.type != RW_EP_ASK) {
            free(buf);
            break;
        }
        evaluate(st, m.op, frame, m.text, m.text_len, &raised, &out);
        free(buf);
        child_reply(fd, raised, out ? out : "");
        free(out);
        if (m.op == RW_ENGINE_INTERACT_END)
            break;
    }
    _exit(0);
}

/* What became of an evaluation's fork that gave no answer (its wait status). */
static void no_answer(int status, char *why, size_t cap)
{
    if (WIFSIGNALED(status))
        snprintf(why, cap, "the evaluation crashed (signal %d)", WTERMSIG(status));
    else
        snprintf(why, cap, "the evaluation ended without an answer");
}

/* Reads the fork's reply and forwards it to the client. */
static void forward_reply(pid_t pid, int fd, int wait_exit)
{
    uint8_t *buf;
    rw_eproto_msg m;
    rw_code rc = rw_eproto_recv(fd, &buf, &m, NULL);
    if (rc == RW_OK && m.type == RW_EP_VALUE) {
        send_value(m.raised, m.text, m.text_len);
    } else {
        int status = 0;
        waitpid(pid, &status, 0);
        wait_exit = 0;
        char why[128];
        no_answer(status, why, sizeof why);
        send_msg(RW_EP_ERROR, 0, why);
    }
    free(buf);
    if (wait_exit) {
        close(fd);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
}

static void interact_end(void)
{
    if (E.ia_pid > 0) {
        close(E.ia_fd);
        rw_sandbox_end_child(E.ia_pid);
        waitpid(E.ia_pid, NULL, 0);
    }
    E.ia_pid = 0;
    E.ia_fd = -1;
}

/* The stop's zygote: a throwaway fork made at the stop's first question, which makes
 * the helper's module (its imports: some 30 ms) once, then forks a copy of itself for
 * each question of the stop, so that every question still runs in a fresh copy of the
 * stopped program and none changes what the next one sees. Its copy answers on a
 * socket pair of its own: the zygote forwards the answer, or says what became of a
 * copy that gave none. It ends with the stop (zygote_end), or with the engine. */
static void zygote_reply(int fd, uint8_t type, int raised, const char *text, size_t len)
{
    rw_in_pause();
    rw_eproto_msg m = {.type = type, .raised = (uint8_t)raised, .text = text,
                       .text_len = len};
    rw_eproto_send(fd, &m, NULL);
    rw_in_resume();
}

static _Noreturn void zygote_main(const stop *st, int fd)
{
    rw_sandbox_in_fork(fd);
    become_throwaway();
    rw_in_eval_mode();
    eval_helper();
    for (;;) {
        uint8_t *buf;
        rw_eproto_msg m;
        rw_in_pause();
        rw_code rc = rw_eproto_recv(fd, &buf, &m, NULL);
        rw_in_resume();
        if (rc != RW_OK || m.type != RW_EP_ASK)
            _exit(0);
        /* The zygote's own calls are real (paused); only the evaluation is refused. */
        eval_need(m.op, E.carried && E.carried_frame == m.frame);
        int cfd;
        rw_in_pause();
        pid_t pid = fork_joined(&cfd);
        if (pid == 0) {
            rw_sandbox_in_fork(cfd);
            rw_eng_gil_after_fork();
            rw_in_resume();
            int raised;
            char *out;
            evaluate(st, m.op, m.frame, m.text, m.text_len, &raised, &out);
            child_reply(cfd, raised, out ? out : "");
            _exit(0);
        }
        free(buf);
        if (pid < 0) {
            rw_in_resume();
            char why[128];
            snprintf(why, sizeof why, "cannot fork to evaluate: %s", strerror(errno));
            zygote_reply(fd, RW_EP_ERROR, 0, why, strlen(why));
            continue;
        }
        uint8_t *ans = NULL;
        rw_eproto_msg a;
        rc = rw_eproto_recv(cfd, &ans, &a, NULL);
        close(cfd);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        rw_in_resume();
        if (rc == RW_OK && a.type == RW_EP_VALUE) {
            zygote_reply(fd, RW_EP_VALUE, a.raised, a.text, a.text_len);
        } else {
            char why[128];
            no_answer(status, why, sizeof why);
            zygote_reply(fd, RW_EP_ERROR, 0, why, strlen(why));
        }
        free(ans);
    }
}

static void zygote_end(void)
{
    if (E.zy_pid > 0) {
        close(E.zy_fd);
        rw_sandbox_end_child(E.zy_pid);
        while (waitpid(E.zy_pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    E.zy_pid = 0;
    E.zy_fd = -1;
}

/* Asks the stop's zygote (made now if need be) and forwards its answer. 0 when there
 * is no zygote to ask (the caller forks as before). GIL held. */
static int zygote_ask(const stop *st, const rw_eproto_msg *m)
{
    if (E.zy_pid <= 0) {
        int fd;
        pid_t pid = fork_joined(&fd);
        if (pid < 0)
            return 0;
        if (pid == 0)
            zygote_main(st, fd);
        E.zy_pid = pid;
        E.zy_fd = fd;
        if (E.ckpt_log >= 0) /* REWIND_ENGINE_LOG: tests tell it from the checkpoints */
            dprintf(E.ckpt_log, "zygote %d\n", (int)pid);
    }
    uint8_t *buf = NULL;
    rw_eproto_msg a;
    if (rw_eproto_send(E.zy_fd, m, NULL) != RW_OK ||
        rw_eproto_recv(E.zy_fd, &buf, &a, NULL) != RW_OK ||
        (a.type != RW_EP_VALUE && a.type != RW_EP_ERROR)) {
        free(buf);
        zygote_end();
        send_msg(RW_EP_ERROR, 0, "the evaluation's fork was lost");
        return 1;
    }
    if (a.type == RW_EP_VALUE) {
        send_value(a.raised, a.text, a.text_len);
    } else {
        char why[512];
        snprintf(why, sizeof why, "%.*s", (int)a.text_len, a.text);
        send_msg(RW_EP_ERROR, 0, why[0] ? why : "the evaluation failed");
    }
    free(buf);
    return 1;
}

static void ask(const stop *st, const rw_eproto_msg *m)
{
    if (m->op == RW_ENGINE_INTERACT_LINE || m->op == RW_ENGINE_INTERACT_END) {
        if (E.ia_pid <= 0) {
            send_msg(RW_EP_ERROR, 0, "no interactive console is open");
            return;
        }
        if (rw_eproto_send(E.ia_fd, m, NULL) != RW_OK) {
            interact_end();
            send_msg(RW_EP_ERROR, 0, "the interactive console is gone");
            return;
        }
        int end = m->op == RW_ENGINE_INTERACT_END;
        forward_reply(E.ia_pid, E.ia_fd, 0);
        if (end)
            interact_end();
        return;
    }
    if (m->op == RW_ENGINE_CARRY) {
        /* Kept in the engine (C memory, outside the program's allocator's view: the
         * run goes on as recorded) for the forks of the next questions. */
        free(E.carried);
        E.carried = m->text_len ? strndup(m->text, m->text_len) : NULL;
        E.carried_frame = m->frame;
        zygote_end(); /* made with the carried values before these */
        send_value(0, "", 0);
        return;
    }
    if (m->op == RW_ENGINE_INTERACT_BEGIN)
        interact_end();
    else if (zygote_ask(st, m))
        return;
    int fd;
    pid_t pid = fork_eval(st, m->op, m->frame, m->text, m->text_len, &fd);
    if (pid < 0) {
        char why[128];
        snprintf(why, sizeof why, "cannot fork to evaluate: %s", strerror(errno));
        send_msg(RW_EP_ERROR, 0, why);
        return;
    }
    if (m->op == RW_ENGINE_INTERACT_BEGIN) {
        E.ia_pid = pid;
        E.ia_fd = fd;
        forward_reply(pid, fd, 0);
    } else {
        forward_reply(pid, fd, 1);
    }
}

/* ---- the stop -------------------------------------------------------------------- */

static void report_divergence(uint64_t where, const char *what)
{
    /* The report: what differs, then the last inputs the replay consumed. */
    size_t cap = 16384, n = 0;
    char *rep = malloc(cap);
    if (!rep)
        die(1);
    n += (size_t)snprintf(rep + n, cap - n, "%s", what);
    if (E.build_note[0])
        n += (size_t)snprintf(rep + n, cap - n, "\nnote: %s", E.build_note);
    const rw_input *recent[8];
    size_t k = rw_in_recent(recent, 8);
    if (k)
        n += (size_t)snprintf(rep + n, cap - n, "\nthe last inputs consumed (oldest first):");
    else
        n += (size_t)snprintf(rep + n, cap - n, "\nno input was consumed before it");
    for (size_t i = 0; i < k && n < cap; i++) {
        const char *name = rw_call_name(recent[i]->call);
        n += (size_t)snprintf(rep + n, cap - n,
                              "\n  %s = %" PRId64 "%s%s (thread %u, input %" PRIu64
                              ", before event %" PRIu64 ")",
                              name ? name : "?", recent[i]->result, recent[i]->err ? ", errno " : "",
                              recent[i]->err ? strerror(recent[i]->err) : "", recent[i]->thread,
                              recent[i]->seq, recent[i]->position);
    }
    serve_dead(RW_EP_DIVERGED, where, rep);
}

/* rw_in_set_diverge: an input the run asked for is not the recorded one. */
static void on_input_divergence(const char *what, const rw_input *expected)
{
    (void)expected;
    rw_in_pause();
    char msg[3200];
    snprintf(msg, sizeof msg, "the replay diverged from the recording at event %" PRIu64 ": %s",
             rw_st.nevents, what);
    report_divergence(rw_st.nevents, msg);
}

/* Serves the client at a stop until it asks to go on (sets E.target). GIL held. */
static void at_stop(PyFrameObject *f, int what, PyObject *arg)
{
    rw_in_pause();
    atomic_store(&rw_locks_engine_stopped, 1); /* threads waiting at a lock wait on */
    int saved_errno = errno;
    stop st = {f, what, arg, rw_st.nevents - 1};
    E.target = UINT64_MAX; /* the forks that evaluate never stop (become_throwaway) */
    E.goal = UINT64_MAX;
    refresh_trip();
    free(E.carried);
    E.carried = NULL;
    rw_err err = {0};
    if (rw_writer_flush(rw_st.w, &err) != RW_OK) {
        char msg[400];
        snprintf(msg, sizeof msg, "the engine's own trace failed: %s", err.msg);
        serve_dead(RW_EP_ERROR, 0, msg);
    }
    /* Flushed: the check (the writer thread's sink) has had every record so far, and
     * compared them all once the last group's are (by fingerprints, a group is
     * compared when it ends). */
    rw_check_settle(E.check);
    if (E.ckpt_log >= 0) { /* REWIND_ENGINE_LOG: how the check compared (tests, bench) */
        uint64_t by_fp, by_record;
        rw_check_counts(E.check, &by_fp, &by_record);
        dprintf(E.ckpt_log, "check %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", st.pos, by_fp,
                by_record);
    }
    int v = atomic_load_explicit(E.verdict, memory_order_acquire);
    if (v != 0) {
        char report[2048];
        uint64_t where = rw_check_report(E.check, E.epath, report, sizeof report);
        if (v < 0) {
            char msg[2200];
            snprintf(msg, sizeof msg, "the engine cannot compare its run with the log: %s",
                     report);
            serve_dead(RW_EP_ERROR, 0, msg);
        }
        report_divergence(where, report);
    }
    E.goto_pending = 0;
    const char *note = rw_check_note(E.check), *send = note && !E.noted ? note : NULL;
    char both[sizeof E.build_note + 1024];
    if (!E.build_noted && E.build_note[0]) {
        snprintf(both, sizeof both, "%s%s%s", E.build_note, send ? "; " : "", send ? send : "");
        send = both;
        E.build_noted = 1;
    }
    rw_ckpt_stopped(st.pos);
    send_msg(RW_EP_STOPPED, st.pos, send);
    E.noted |= note != NULL;
    for (;;) {
        uint8_t *buf;
        rw_eproto_msg m;
        if (rw_eproto_recv(E.in, &buf, &m, NULL) != RW_OK)
            die(0);
        if (m.type == RW_EP_QUIT)
            die(0);
        if (m.type == RW_EP_GOTO) {
            uint64_t p = m.pos;
            free(buf);
            if (p != st.pos && rw_ckpt_go_back(st.pos, p)) {
                /* A checkpoint took over: it answers this goto, and the client talks
                 * to it from now on. */
                interact_end();
                zygote_end();
                die(0);
            }
            if (p > st.pos) {
                interact_end();
                zygote_end();
                rw_ckpt_running(st.pos, p);
                set_goal(p);
                E.goto_pending = 1;
                atomic_store(&rw_locks_engine_stopped, 0);
                break;
            }
            if (p == st.pos) {
                send_msg(RW_EP_STOPPED, st.pos, NULL);
            } else {
                char msg[128];
                snprintf(msg, sizeof msg, "the engine is at event %" PRIu64
                         ", past %" PRIu64 ": start a new one", st.pos, p);
                send_msg(RW_EP_ERROR, 0, msg);
            }
            continue;
        }
        if (m.type == RW_EP_ASK)
            ask(&st, &m);
        else
            send_msg(RW_EP_ERROR, 0, "unexpected request");
        free(buf);
    }
    errno = saved_errno;
    rw_in_resume();
}

/* ---- the run token: threads take turns as recorded ---------------------------------- */

/* The calling thread asks for the GIL to be taken from it at its next eval-breaker
 * check (run_end): it then waits in take_gil, until its next event, lock acquisition or
 * replayed input (rw_locks_returned), which others may count on (will_take_gil). */
static void ask_switch(void)
{
    uint32_t me = rw_tls.thread;
    rw_threadwrap_asked(1);
    if (me < RW_LOCKS_RETURNING)
        atomic_store_explicit(&rw_locks_returning[me], 1, memory_order_release);
    rw_eng_gil_ask_switch();
}

/* ask_switch at the check where the recording's thread let the GIL go: the first one
 * whose spot is `drop` (evalbreak.h; format/records.h, DROP), or the next one. */
static void ask_switch_at(uint64_t drop)
{
    if (drop == 0)
        ask_switch();
    else
        rw_evalbreak_drop_at(drop, ask_switch);
}

/* rw_threadwrap_gil_back: a thread that let the GIL go at the switch it asked for has
 * it back (CPython's take_gil, right after the eval-breaker check: the place where the
 * recording's thread let it go). Any thread that wanted the GIL could take it first,
 * this one included. It lets it go again and comes back as a thread back from a call
 * that let the GIL go does (locks.h: it claims the place of its next event or input
 * and waits for the run to get there), before it runs on and allocates. */
static void gil_back(void)
{
    PyThreadState *ts = PyEval_SaveThread();
    rw_locks_resume_after(rw_st.nevents);
    PyEval_RestoreThread(ts);
}

/* Stops watching for the end of a run's tail (GIL held). */
static void tail_unwatch(void)
{
    rw_threads_switch_watch = NULL;
    E.tail_thread = 0;
}

/* The audit records written so far at the current event position (GIL). */
static uint32_t audits_here(void)
{
    return E.audit_pos == rw_st.nevents ? E.audit_n : 0;
}

/* The recorded thread of the next record at event pos, after `audits` audit records
 * there (0 past the end). */
static uint32_t sched_thread_after(uint64_t pos, uint32_t audits)
{
    while (E.sched_i + 1 < E.nsched &&
           (E.sched_pos[E.sched_i + 1] < pos ||
            (E.sched_pos[E.sched_i + 1] == pos && E.sched_audits[E.sched_i + 1] <= audits)))
        E.sched_i++;
    return E.nsched ? E.sched_thread[E.sched_i] : 0;
}

/* The recorded thread of the replay's next record (0 past the end). */
static uint32_t sched_thread_now(void)
{
    return sched_thread_after(rw_st.nevents, audits_here());
}

/* rw_locks_next_thread: sched_thread_now's answer without moving sched_i (any thread,
 * without the GIL; as if no audit record were written at the position yet). */
static uint32_t next_thread_racy(void)
{
    size_t i = *(volatile size_t *)&E.sched_i;
    uint64_t pos = *(volatile uint64_t *)&rw_st.nevents;
    while (i + 1 < E.nsched && (E.sched_pos[i + 1] < pos ||
                                (E.sched_pos[i + 1] == pos && E.sched_audits[i + 1] == 0)))
        i++;
    return E.nsched ? E.sched_thread[i] : 0;
}

/* rw_locks_next_event: the first position at or after `from` whose event the
 * recording has in thread `me`. Any thread, without the GIL: the tables are fixed once
 * loaded, and sched_i (moved by the GIL's holder) is only a place to start from. */
static uint64_t next_event_of(uint32_t me, uint64_t from)
{
    size_t i = *(volatile size_t *)&E.sched_i;
    while (i > 0 && E.sched_pos[i] > from)
        i--;
    while (i + 1 < E.nsched && E.sched_pos[i + 1] <= from)
        i++;
    if (E.sched_thread[i] == me)
        return from;
    for (size_t n = 0; ++i < E.nsched && n < (1u << 20); n++)
        if (E.sched_thread[i] == me)
            return E.sched_pos[i];
    return UINT64_MAX;
}

/* One entry of the order of the threads (rw_reader_thread_runs' fn). */
static int sched_add(void *ctx, uint64_t pos, uint32_t audits, uint32_t thread, uint32_t tail,
                     uint64_t drop)
{
    size_t *cap = ctx;
    if (E.nsched == *cap) {
        size_t n = *cap ? 2 * *cap : 1024;
        uint64_t *np = realloc(E.sched_pos, n * sizeof *np);
        if (!np)
            return -1;
        E.sched_pos = np;
        uint32_t *nt = realloc(E.sched_thread, n * sizeof *nt);
        if (!nt)
            return -1;
        E.sched_thread = nt;
        uint32_t *na = realloc(E.sched_audits, n * sizeof *na);
        if (!na)
            return -1;
        E.sched_audits = na;
        uint32_t *nl = realloc(E.sched_tail, n * sizeof *nl);
        if (!nl)
            return -1;
        E.sched_tail = nl;
        uint64_t *nd = realloc(E.sched_drop, n * sizeof *nd);
        if (!nd)
            return -1;
        E.sched_drop = nd;
        *cap = n;
    }
    E.sched_drop[E.nsched] = E.drops_ignored ? 0 : drop;
    E.sched_tail[E.nsched] = tail;
    E.sched_pos[E.nsched] = pos;
    E.sched_audits[E.nsched] = audits;
    E.sched_thread[E.nsched++] = thread;
    return 0;
}

/* Reads the recorded order of the threads' events: one entry per switch (each chunk's
 * kinds and switches, no event decoded: about 0.06 s per 10 M events here). A
 * single-threaded recording has none and pays nothing. */
static rw_code sched_load(rw_err *err)
{
    E.drops_ignored = getenv("REWIND_IGNORE_DROPS") != NULL;
    const rw_defs *d = rw_reader_defs(E.rec);
    if (!d || d->nthreads < 3) /* nthreads counts the unused id 0 */
        return RW_OK;
    size_t cap = 0;
    rw_code rc = rw_reader_thread_runs(E.rec, sched_add, &cap, err);
    if (rc == RW_ENOMEM)
        return rw_err_set(err, RW_ENOMEM, "out of memory reading the threads' order");
    return rc;
}

/* A wait for a turn that nothing ends (GIL held). The check compares by groups of
 * events, and the records of the group under way are not compared yet: compared now,
 * a difference there came first (the thread whose turn it is went another way before
 * it stopped making events) and is reported instead, with its position. */
static void report_stuck(const char *msg)
{
    rw_err err = {0};
    if (rw_writer_flush(rw_st.w, &err) == RW_OK) {
        rw_check_settle(E.check);
        if (atomic_load_explicit(E.verdict, memory_order_acquire) > 0) {
            char report[2048];
            uint64_t where = rw_check_report(E.check, E.epath, report, sizeof report);
            report_divergence(where, report);
        }
    }
    report_divergence(rw_st.nevents, msg);
}

/* Gives up the GIL until ready(arg) (GIL held on entry and on return; inputs paused);
 * arg is the waiting thread's (recorded) id.
 * Other threads run meanwhile. When nothing moves for about 10 s (no event, no new
 * thread) the wait is a divergence, described by stuck(arg). */
static void wait_turn(int (*ready)(uint32_t), uint32_t arg,
                      void (*stuck)(uint32_t, char *, size_t))
{
    rw_in_pause();
    int saved_errno = errno;
    struct timespec nap = {0, 20000};
    if (arg < RW_LOCKS_RETURNING) /* it takes the GIL again to look (will_take_gil) */
        atomic_store_explicit(&rw_locks_returning[arg], 1, memory_order_release);
    for (unsigned spins = 0; !ready(arg); spins++) {
        if (spins > 250000) {
            char msg[2560];
            stuck(arg, msg, sizeof msg);
            report_stuck(msg);
        }
        uint64_t before = rw_st.nevents + rw_threads_count();
        PyThreadState *ts = PyEval_SaveThread();
        if (spins < 50)
            sched_yield();
        else
            nanosleep(&nap, NULL);
        PyEval_RestoreThread(ts);
        if (rw_st.nevents + rw_threads_count() != before)
            spins = 0;
    }
    if (arg < RW_LOCKS_RETURNING)
        atomic_store_explicit(&rw_locks_returning[arg], 0, memory_order_relaxed);
    errno = saved_errno;
    rw_in_resume();
}

/* Whether the recorded order gives the calling thread (me) the next record, and no
 * other thread claims a position below `below` (a thread back from a wait in C claims
 * the place where the recording's had the GIL back: libc/locks.h). */
static int turn_unclaimed(uint32_t me, uint64_t below)
{
    uint32_t want = sched_thread_now();
    if (want != me && want != 0)
        return 0;
    return !atomic_load_explicit(&rw_locks_nclaims, memory_order_relaxed) || below == 0 ||
           !rw_locks_claimed_before(below - 1);
}

static int my_turn(uint32_t me)
{
    return turn_unclaimed(me, rw_st.nevents + 1);
}

/* my_turn for an audit record of the calling thread. A claim of the current position
 * itself does not hold it back: the claimant's next record is its event there (or an
 * input), and the recorded order places this audit record, at the same position,
 * before that (a call raises its audit event, then blocks and lets the GIL go to the
 * claimant, which had come back from its own wait: a poll that returns while another
 * thread's sendmsg raises "socket.sendmsg"). */
static int my_audit_turn(uint32_t me)
{
    return turn_unclaimed(me, rw_st.nevents);
}

/* Appends " (...)" to msg: whose event the recorded order has next and what the threads
 * inside a lock's wrapper wait for (rw_locks_describe), where the thread whose turn
 * never came may be held. */
static void add_locks(char *msg, size_t cap)
{
    char locks[2048];
    size_t n = strlen(msg);
    if (rw_locks_describe(locks, sizeof locks) && n < cap)
        snprintf(msg + n, cap - n, " (%s)", locks);
}

static void turn_never_came(uint32_t me, char *msg, size_t cap)
{
    snprintf(msg, cap,
             "the replay diverged from the recording at event %" PRIu64
             ": the recording has an event of thread %u next, which never came "
             "(thread %u was waiting for its turn)",
             rw_st.nevents, sched_thread_now(), me);
    add_locks(msg, cap);
}

static void audit_never_came(uint32_t me, char *msg, size_t cap)
{
    snprintf(msg, cap,
             "the replay diverged from the recording at event %" PRIu64
             ": thread %u made an audit event where the recording has thread %u's turn",
             rw_st.nevents, me, sched_thread_now());
}

/* The audit hook's (audithook.h): before an audit record of the calling thread, waits
 * for its turn as an event does; after it, counts it. GIL held. */
static void audit_hook_turn(int written)
{
    uint32_t me = rw_tls.thread;
    if (!me)
        return;
    if (!written) {
        rw_threadwrap_asked(0);
        rw_locks_returned();
        if (RW_UNLIKELY(atomic_load_explicit(&rw_locks_nclaims, memory_order_relaxed)))
            rw_locks_release(); /* this thread's claim: it is at its next record */
        if (!my_audit_turn(me))
            wait_turn(my_audit_turn, me, audit_never_came);
        return;
    }
    if (E.audit_pos != rw_st.nevents) {
        E.audit_pos = rw_st.nevents;
        E.audit_n = 0;
    }
    E.audit_n++;
}

/* Before an event of the calling thread, and before a new thread's target runs (its
 * first allocations come before its first event): waits, without the GIL, until the
 * recorded order says the next record is this thread's (DESIGN.md: the run token).
 * The thread whose turn it is takes the GIL meanwhile. */
static void sched_wait(void)
{
    uint32_t me = rw_tls.thread;
    rw_threadwrap_asked(0); /* it made its next event before it let the GIL go */
    rw_evalbreak_drop_cancel(); /* or before it came to the spot it watched for */
    rw_locks_returned();
    if (RW_UNLIKELY(E.tail_thread != 0))
        tail_unwatch(); /* an event before the tail ended: the replay's differs */
    if (RW_UNLIKELY(atomic_load_explicit(&rw_locks_nclaims, memory_order_relaxed)))
        rw_locks_release(); /* this thread's claim, if any: it is at its event */
    if (me && !my_turn(me))
        wait_turn(my_turn, me, turn_never_came);
}

static int earlier_defined(uint32_t want)
{
    return rw_threads_count() + 1 >= want;
}

static void earlier_never_came(uint32_t want, char *msg, size_t cap)
{
    snprintf(msg, cap,
             "the replay diverged from the recording at event %" PRIu64
             ": thread %u was recorded after %u others, which never all started",
             rw_st.nevents, want, want - 1);
}

/* Whether the thread recorded as `id` may be defined and start: the threads recorded
 * before it are, and its first record is next. */
static int may_start(uint32_t id)
{
    return earlier_defined(id) && (!E.nsched || my_turn(id));
}

static void start_never_came(uint32_t id, char *msg, size_t cap)
{
    if (!earlier_defined(id))
        earlier_never_came(id, msg, cap);
    else
        turn_never_came(id, msg, cap);
}

/* A thread that goes no further in the recording: there, the program ended first.
 * It lets the GIL go for good (when it holds it), with its inputs paused, and the
 * program's end does not wait for it (CPython's does not wait for daemon threads or
 * _thread's; a fork for a checkpoint leaves it behind, and no checkpoint is taken
 * while it lives). */
static _Noreturn void stay_for_good(void)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
    rw_in_pause();
    PyThreadState *ts = PyGILState_GetThisThreadState(); /* defined or not */
    if (ts && ts == _PyThreadState_UncheckedGet())
        PyEval_SaveThread();
    pthread_mutex_lock(&mu);
    for (;;)
        pthread_cond_wait(&never, &mu); /* a futex: the sandbox allows it */
}

/* rw_libc_features's question for the engine: whether the trace (md) has feature name. */
static int trace_has(const char *name, const void *md)
{
    return rw_meta_has_feature(md, name);
}

/* rw_in_set_ran_out's: a thread other than the main one has made every call the
 * recording logged for it, and makes one more. When the recording has no later event
 * of the thread, the program ended while that call was under way (a daemon thread
 * blocked in a wait that never returned: a wait is logged when it returns) or before
 * the thread got to it: it stays in the call, as the recording's did. */
static void ran_out(uint32_t stream)
{
    uint32_t me = rw_tls.thread;
    (void)stream;
    if (me <= 1 || !E.nsched)
        return;
    size_t i = *(volatile size_t *)&E.sched_i; /* from there to the order's end: rare */
    while (i > 0 && E.sched_pos[i] > rw_st.nevents)
        i--;
    uint64_t end = rw_reader_nevents(E.rec);
    for (; i < E.nsched; i++) {
        uint64_t run_end = i + 1 < E.nsched ? E.sched_pos[i + 1] : end;
        if (E.sched_thread[i] == me && run_end > rw_st.nevents)
            return; /* it has an event at or after this position */
    }
    stay_for_good();
}

/* Thread ids are ranks of definition: a new thread waits, before it is defined, until
 * the threads recorded before it are (threadwrap.h's gate; GIL held). Threads started
 * by two threads at once would otherwise take each other's ids. It also waits for its
 * first record's turn: what it allocates while it is made a recorded thread (its name,
 * unrecorded, freed at once) changes the order of obmalloc's free lists when it comes
 * among other threads' allocations, as it can while they wait for their turns without
 * the GIL; in the recording it came right before the thread's first record. A thread
 * that _thread started and the recording never defined (no recorded thread had its
 * input stream): the program ended before it first took the GIL there, so it ran
 * nothing, nor does it here. */
static void define_gate(uint32_t stream, int from_c)
{
    if (!from_c && (stream >= E.nstream_ids || !E.stream_id[stream]))
        stay_for_good();
    if (stream < E.nstream_ids && E.stream_id[stream] && !may_start(E.stream_id[stream]))
        wait_turn(may_start, E.stream_id[stream], start_never_came);
}

/* Whether the recording gave input stream `st` to a thread that C code started:
 * threads that _thread starts pass over it (rw_in_thread_reserve). */
static int stream_of_c(uint32_t st)
{
    return st < E.nstream_ids && E.stream_c[st];
}

/* The input stream of a thread that C code started, when it first takes the GIL
 * (threadwrap.h; GIL held): the recording's unclaimed one of the same origin (which
 * thread started it, and when: libc/pthread.c). A thread of unknown origin (0: its
 * starter was not followed, or did not go through pthread_create) takes the first
 * unclaimed one of unknown origin, in the order such threads first take the GIL, which
 * need not be the recording's: two of them at once can take each other's, and the
 * check then reports where the replay parts from the recording. None: a new number. */
static uint32_t claim_c_stream(uint64_t origin)
{
    for (uint32_t st = 2; st < E.nstream_ids; st++)
        if (E.stream_c[st] == 1 && E.stream_origin[st] == origin) {
            E.stream_c[st] = 2;
            return st;
        }
    return rw_in_thread_next();
}

/* Which recorded thread each input stream was (from the run's end: a trace cut short
 * has none, and threads are then defined in the order they come; so has a trace whose
 * threads have no streams, from before they were kept). A stream no recorded thread
 * had was a thread's that never ran (define_gate). */
static rw_code streams_load(rw_err *err)
{
    const Rewind__RunEnd *end = rw_reader_end(E.rec);
    if (!end)
        return RW_OK;
    uint32_t max = 0;
    for (size_t i = 0; i < end->n_threads; i++)
        if (end->threads[i]->input_stream > max && end->threads[i]->input_stream < (1u << 20))
            max = end->threads[i]->input_stream;
    if (!max)
        return RW_OK;
    E.stream_id = calloc((size_t)max + 1, sizeof *E.stream_id);
    E.stream_c = calloc((size_t)max + 1, 1);
    E.stream_origin = calloc((size_t)max + 1, sizeof *E.stream_origin);
    if (!E.stream_id || !E.stream_c || !E.stream_origin)
        return rw_err_set(err, RW_ENOMEM, "out of memory reading the threads");
    E.nstream_ids = max + 1;
    int any_c = 0;
    for (size_t i = 0; i < end->n_threads; i++) {
        uint32_t st = end->threads[i]->input_stream;
        if (st && st <= max) {
            E.stream_id[st] = end->threads[i]->id;
            E.stream_c[st] = end->threads[i]->from_c;
            E.stream_origin[st] = end->threads[i]->c_origin;
            any_c |= end->threads[i]->from_c;
        }
    }
    if (any_c)
        rw_in_thread_reserve(stream_of_c);
    return RW_OK;
}

/* Whether the calling thread is the program's only one (GIL held). A checkpoint is a
 * fork, which copies the calling thread only: one is taken only where the program has
 * no other (before its first thread starts, after the last one ended). A thread being
 * started has its thread state already (made by the starting thread), and one that
 * ended has none: it is not in the middle of any of the program's work. A thread that
 * C code started has a thread state only while it runs Python: it counts as long as
 * it lives (libc/libc.h). */
static int one_thread(void)
{
    PyThreadState *t = PyInterpreterState_ThreadHead(PyThreadState_Get()->interp);
    return t && !PyThreadState_Next(t) &&
           atomic_load_explicit(&rw_threads_started_live, memory_order_relaxed) == 0;
}

/* The hooks looked (E.target passed): a checkpoint may be due, the goal reached, or
 * the check found a divergence. GIL held. */
static void at_trip(PyFrameObject *f, int what, PyObject *arg)
{
    int ckpt = rw_ckpt_on() && !atomic_load_explicit(E.verdict, memory_order_relaxed);
    if (ckpt && !one_thread()) {
        rw_ckpt_not_now(rw_st.nevents - 1);
    } else if (ckpt) {
        uint64_t target;
        rw_in_pause();
        int saved_errno = errno;
        int resumed = rw_ckpt_take(rw_st.nevents - 1, E.goal, &target);
        errno = saved_errno;
        rw_in_resume();
        if (resumed) { /* a checkpoint that took over: the engine now */
            E.goal = target;
            E.goto_pending = 1;
        }
    }
    if (rw_st.nevents > E.goal || atomic_load_explicit(E.verdict, memory_order_relaxed))
        at_stop(f, what, arg);
    else
        set_goal(E.goal);
}

static int signal_place(uint32_t me)
{
    return rw_st.nevents >= rw_sig_next_pos && my_turn(me);
}

/* After an event of the main thread whose next one comes after other threads' events,
 * with a signal's handler due right before it: the recording's main thread took the
 * GIL back and ran the handler at its first check (a signal another thread raised).
 * Without a wait the thread would pass that check before the signal is due, and run
 * the handler a check later: it waits here, after its event, for that place, and the
 * signal is tripped there. */
static void signal_wait(void)
{
    uint64_t at = rw_sig_next_pos;
    if (rw_tls.thread != 1 || at == UINT64_MAX || at <= rw_st.nevents ||
        next_event_of(1, rw_st.nevents) != at)
        return;
    wait_turn(signal_place, 1, turn_never_came);
    rw_sig_replay_poll();
}

/* After an event of a replay with several threads: trips the signals due here, or
 * waits for one due right before the main thread's next event (signal_wait). */
static inline void signals_after_event(void)
{
    if (RW_UNLIKELY(rw_st.nevents >= rw_sig_next_pos)) /* after the stop: not in a fork */
        rw_sig_replay_poll();
    else if (RW_UNLIKELY(rw_sig_next_pos != UINT64_MAX))
        signal_wait();
}

/* rw_threads_switch_watch while a run's tail is watched: the watched thread made one
 * more record (rw_st.cur_thread was 0, so it came through rw_threads_switch). RAW
 * records do not count, as the tails leave them out (codec.h's rw_run_fn). */
static void tail_record(int raw)
{
    if (rw_tls.thread != E.tail_thread) {
        tail_unwatch();
        return;
    }
    if (!raw && --E.tail_left == 0) {
        uint64_t drop = E.tail_drop;
        tail_unwatch();
        ask_switch_at(drop);
        return;
    }
    rw_st.cur_thread = 0; /* the next record comes through here too */
}

/* Whether thread `want` is about to take the GIL (GIL held by the caller): it looks for
 * its turn in wait_turn, it is back from a wait in C or let the GIL go at a switch it
 * asked for (all three rw_locks_returning), or it was started (its input stream was
 * taken) and is not defined yet, so it is taking the GIL for the first time. */
static int will_take_gil(uint32_t want)
{
    if (want < RW_LOCKS_RETURNING &&
        atomic_load_explicit(&rw_locks_returning[want], memory_order_acquire))
        return 1;
    if (want <= rw_threads_count())
        return 0;
    uint32_t next = rw_in_thread_streams();
    for (uint32_t st = 2; st < next && st < E.nstream_ids; st++)
        if (E.stream_id[st] == want && !E.stream_c[st]) /* those are not taken early */
            return 1;
    return 0;
}

/* Whether thread `want` comes to take the GIL soon (GIL held by the caller): a thread
 * back from a blocking call is woken by the kernel some time after what released it
 * (a queue's put), and the holder may reach the end of its run first. Left to run on,
 * it would make what it made after the switch in the recording (in tracing mode the
 * next call's frame object, which is not recorded, of the size class of functions)
 * before the other thread's run, and obmalloc would hand the other thread other
 * blocks (test_values test_addresses_in_a_thread_pool: the replay of a recording made
 * beside another replayed differently 11 times in 12 under strace). So it waits, up to
 * 20 ms in naps of 50 µs, for the thread to say it comes (will_take_gil). A thread
 * that comes back by no path rewind sees would make every switch wait that long: after
 * 16 waits in vain, it no longer waits. */
#define TAKER_NAPS 400
#define TAKER_MISSES 16

static int taker_comes(uint32_t want)
{
    static unsigned misses;
    if (will_take_gil(want))
        return 1;
    if (misses >= TAKER_MISSES)
        return 0;
    rw_in_pause();
    int saved = errno, comes = 0;
    for (unsigned naps = 0; naps < TAKER_NAPS && !comes; naps++) {
        struct timespec nap = {0, 50000};
        nanosleep(&nap, NULL);
        comes = will_take_gil(want);
    }
    errno = saved;
    rw_in_resume();
    misses += !comes;
    return comes;
}

/* After an event of the calling thread that ends its run in the recording: the
 * recording's thread let the GIL go after its tail (sched_tail: the records it made
 * after the event, often none), at its first eval-breaker check after them (a thread
 * waiting for the GIL had asked for it) or in a call that blocks. Left alone, the
 * replay's thread would run on to its next event and allocate and free before the
 * thread whose turn it is (obmalloc's free lists, hence id()s, would differ). Waiting
 * right after the event would be too early: what the thread does without records
 * before it lets go (it reads a flag that the other thread sets, it releases a lock the
 * other obtains) would then come after the other's run. So the thread asks for the GIL
 * to be taken from it at its next eval-breaker check after its tail, as the recording's
 * waiting thread asked; the tail's records are seen one by one through
 * rw_threads_switch (rw_st.cur_thread 0). Only when the thread whose turn it is is
 * about to take the GIL (will_take_gil, waited for a little: taker_comes): drop_gil
 * then waits until another thread takes it, and that one will. Or when an
 * asynchronous exception waits for another thread: the eval breaker stays up until
 * that thread has run, and in tracing mode a function's first instruction does not
 * get past it (CPython 3.11's DO_TRACING goes back to it after the check), so the
 * recording's thread ran no further than its next call before it let the GIL go there,
 * and the replay's would spin at that call. */
static void run_end(void)
{
    uint32_t me = rw_tls.thread;
    uint32_t want = sched_thread_now();
    size_t i = E.sched_i;
    if (!me || want == me || want == 0 || i == 0 || E.sched_pos[i] != rw_st.nevents ||
        E.sched_audits[i] != 0 || E.sched_thread[i - 1] != me ||
        E.sched_tail[i] > RUN_TAIL_MAX ||
        (!rw_eng_gil_async_exc_elsewhere() && !taker_comes(want)))
        return;
    if (E.sched_tail[i] == 0) {
        ask_switch_at(E.sched_drop[i]);
        return;
    }
    E.tail_thread = me;
    E.tail_left = E.sched_tail[i];
    E.tail_drop = E.sched_drop[i];
    rw_threads_switch_watch = tail_record;
    rw_st.cur_thread = 0;
}

/* Only the callbacks that make an event wait for their turn: the profile function's
 * Python calls and returns make none (the trace function has them), nor do lines
 * when the recording had no line events. */
static int eng_trace(PyObject *obj, PyFrameObject *f, int what, PyObject *arg)
{
    int turns = RW_UNLIKELY(E.nsched != 0) && (what != PyTrace_LINE || rw_st.lines);
    if (turns)
        sched_wait();
    int rc = rw_source_trace(obj, f, what, arg);
    if (RW_UNLIKELY(rw_st.nevents > E.target) ||
        RW_UNLIKELY(atomic_load_explicit(E.verdict, memory_order_relaxed)))
        at_trip(f, what, arg);
    signals_after_event();
    if (turns)
        run_end();
    return rc;
}

/* Single-threaded replays (no schedule): the recorder's own hooks call this when the
 * event count passed rw_source_trip_at; it does what eng_trace does after an event. */
static void eng_tripped(PyFrameObject *f, int what, PyObject *arg)
{
    if (rw_st.nevents > E.target || atomic_load_explicit(E.verdict, memory_order_relaxed))
        at_trip(f, what, arg);
    if (rw_st.nevents >= rw_sig_next_pos)
        rw_sig_replay_poll();
    refresh_trip();
}

static int eng_profile(PyObject *obj, PyFrameObject *f, int what, PyObject *arg)
{
    int turns = RW_UNLIKELY(E.nsched != 0) && what >= PyTrace_C_CALL && rw_st.c_calls;
    if (turns)
        sched_wait();
    int rc = rw_source_profile(obj, f, what, arg);
    if (RW_UNLIKELY(rw_st.nevents > E.target) ||
        RW_UNLIKELY(atomic_load_explicit(E.verdict, memory_order_relaxed)))
        at_trip(f, what, arg);
    signals_after_event();
    if (turns)
        run_end();
    return rc;
}

/* ---- checkpoints (checkpoint.h) ---------------------------------------------------- */

/* What a fork needs of the engine's helper thread: the writer (which runs the check)
 * idle after a flush, every record so far compared. These three functions are all that
 * the checkpoints know of the writer and the check. */
static rw_code ckpt_quiesce(rw_err *err)
{
    rw_code rc = rw_writer_flush(rw_st.w, err);
    if (rc != RW_OK)
        return rc;
    /* The idle record blocks stay out of the copy: the engine writes them next, and a
     * page shared with the copy would cost it a fault each (11-15 us in some VMs). */
    rw_writer_fork_out(rw_st.w);
    return RW_OK;
}

/* In the copy, first: the ranges quiesce left out stay the writer's (ckpt_revive maps
 * them again; until then the copy's own mmaps, the shared objects it makes its own
 * among them, would land there and the revive would fail). */
static void ckpt_hold(void)
{
    rw_writer_fork_hold(rw_st.w);
}

static void ckpt_release(void)
{
    rw_writer_fork_back(rw_st.w);
}

/* In a copy just made: the writer's blocks it will not read again go, and the check's
 * chunk of the recording (read again when the copy takes over): the engine reuses
 * that memory, which would otherwise become this copy's page by page. The chunk goes
 * back to the writer thread's arena, whose free top glibc gives back only beyond a
 * trim threshold that it raises as big blocks come and go (it stayed: 0.8 MiB a
 * checkpoint): 0 while it is freed, in this copy only, and glibc's default after. */
static size_t ckpt_shed(void)
{
    size_t n = rw_writer_shed(rw_st.w);
    mallopt(M_TRIM_THRESHOLD, 0);
    if (E.check)
        rw_check_shed(E.check);
    malloc_trim(0);
    mallopt(M_TRIM_THRESHOLD, 128 * 1024);
    return n;
}

/* In a checkpoint that takes over (its only thread holds the GIL): the writer thread
 * again, on the state it left when the copy was made (the check's with it). */
static rw_code ckpt_revive(rw_err *err)
{
    rw_eng_gil_after_fork();
    return rw_writer_fork_child(rw_st.w, err);
}

/* ---- set-up ---------------------------------------------------------------------- */

/* rw_record_opts.on_done: the program ended (the trace is closed). */
static void on_done(const rw_record_result *res, void *ctx)
{
    (void)ctx;
    rw_in_pause();
    /* The trace is closed: the check has had every record. A run that went another
     * way before its end is a divergence, not an end. */
    rw_check_settle(E.check);
    if (atomic_load_explicit(E.verdict, memory_order_acquire) > 0) {
        char report[2048];
        uint64_t where = rw_check_report(E.check, E.epath, report, sizeof report);
        report_divergence(where, report);
    }
    /* A run that ends before the recording's did went another way where the check had
     * nothing left to compare (a thread's C-level work that no event orders decided
     * it: a loop on _thread._count() while another thread ends). */
    uint64_t recorded = rw_reader_nevents(E.rec);
    if (rw_reader_end(E.rec) && res->events < recorded) {
        char report[300];
        snprintf(report, sizeof report,
                 "the replay diverged from the recording at event %" PRIu64
                 ": the program ended there, where the recording goes on to %" PRIu64
                 " events",
                 res->events, recorded);
        report_divergence(res->events, report);
    }
    char msg[200];
    snprintf(msg, sizeof msg, "the program ended after %" PRIu64 " events", res->events);
    E.ended = 1;
    serve_dead(RW_EP_ENDED, res->events, msg);
}

/* The recorded environment, with a stand-in of the same length for a redacted value. */
static void set_environment(const Rewind__Metadata *md)
{
    clearenv();
    for (size_t i = 0; i < md->n_env; i++) {
        const Rewind__EnvVar *v = md->env[i];
        if (!v->name || !v->name[0] || strchr(v->name, '='))
            continue;
        if (v->redacted) {
            size_t n = v->value_len < 65536 ? v->value_len : 65536;
            char *s = malloc(n + 1);
            if (!s)
                continue;
            memset(s, '*', n);
            s[n] = '\0';
            setenv(v->name, s, 1);
            free(s);
        } else {
            setenv(v->name, v->value ? v->value : "", 1);
        }
    }
}

static rw_code setup(const char *trace, rw_err *err)
{
    RW_TRY(rw_reader_open(trace, &E.rec, err));
    const Rewind__Metadata *md = rw_reader_metadata(E.rec);
    /* A forked child's first: its trace has no inputs of its own either. */
    if (md && md->started_by && !strcmp(md->started_by, "fork"))
        return rw_err_set(err, RW_EPYTHON,
                          "%s is a forked child's trace, which starts in the middle of a "
                          "program: it cannot be re-executed on its own (the parent's trace, "
                          "%s, has the values up to the fork)", trace,
                          md->parent_trace && md->parent_trace[0] ? md->parent_trace : "?");
    if (!md || !md->inputs || !md->python_program || !md->python_program[0])
        return rw_err_set(err, RW_EPYTHON,
                          "%s was recorded without input capture: it cannot be re-executed "
                          "(values need a trace recorded by this version of rewind)", trace);
    if (!md->run_kind || !md->run_target)
        return rw_err_set(err, RW_ECORRUPT, "%s: the metadata does not say what ran", trace);
    const char *mine = rw_pysetup_rewind_build();
    if (md->tool_build && md->tool_build[0] && mine[0] && strcmp(md->tool_build, mine))
        snprintf(E.build_note, sizeof E.build_note,
                 "%s was recorded by another build of rewind (build ID %.12s, this one is "
                 "%.12s): the interpreter's own objects are at other addresses here, so the "
                 "replay can diverge where the program orders or hashes objects by id(); the "
                 "rewind that recorded it replays it exactly", trace, md->tool_build, mine);
    if (md->python_build && md->python_build[0] && strcmp(md->python_build, rw_pysetup_build()))
        return rw_err_set(err, RW_EPYTHON,
                          "%s was recorded with another Python build (%s) than this rewind's "
                          "(%s): it cannot be re-executed here", trace, md->python_build,
                          rw_pysetup_build());
    if (access(md->python_program, X_OK) != 0)
        return rw_err_set(err, RW_EPYTHON, "%s was recorded with %s, which is not here", trace,
                          md->python_program);
    /* Allocations are compared when both runs' memory is deterministic (detalloc.h). */
    int fixed = md->aslr_off && rw_detalloc_aslr_off() && rw_detalloc_global() != NULL;
    /* With several threads, allocations made without the GIL, or between a thread's
     * return from C and its next event, interleave as the scheduler decides: only
     * the events' order is enforced (sched_wait), so addresses are not compared. */
    const rw_defs *defs = rw_reader_defs(E.rec);
    if (defs && defs->nthreads > 2) /* nthreads counts the unused id 0 */
        fixed = fixed && E.threads_allocs ? 2 : 0; /* 2: MEM and OBJ only (check.h) */
    RW_TRY(rw_check_new(E.rec, fixed, &E.check, err));
    E.verdict = rw_check_verdict(E.check);
    RW_TRY(sched_load(err));
    if (E.nsched) {
        rw_locks_next_event = next_event_of;
        rw_locks_next_thread = next_thread_racy;
        rw_locks_gil_holder = rw_eng_gil_holder;
        rw_threadwrap_hold_switch_interval();
    } else {
        rw_check_alarm(E.check, &rw_source_trip_at);
        rw_source_set_trip(eng_tripped);
    }
    RW_TRY(streams_load(err));
    return RW_OK;
}

int rw_engine_serve(const char *trace, int fd_in, int fd_out)
{
    E.in = fd_in;
    E.out = fd_out;
    signal(SIGPIPE, SIG_DFL);
    /* A log of the checkpoints (tests, bench/checkpoints): read before the recorded
     * environment replaces ours. */
    const char *log = getenv("REWIND_ENGINE_LOG");
    if (log && *log)
        E.ckpt_log = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (E.ckpt_log >= 0)
        dprintf(E.ckpt_log, "start %d %u %u\n", (int)getpid(), E.ckpt_max, E.ckpt_mib);
    /* Development: compare the MEM and OBJ domains' allocations in a multi-threaded
     * replay too (the note then says where the addresses first differ). */
    E.threads_allocs = getenv("REWIND_COMPARE_THREAD_ALLOCS") != NULL;
    const char *every = getenv("REWIND_CHECKPOINT_EVERY");
    if (every && *every)
        E.ckpt_every = strtoull(every, NULL, 10);
    rw_err err = {0};
    if (setup(trace, &err) != RW_OK) {
        send_msg(RW_EP_ERROR, 0, err.msg);
        return 1;
    }
    const Rewind__Metadata *md = rw_reader_metadata(E.rec);
    send_msg(RW_EP_READY, rw_reader_nevents(E.rec), "rewind " REWIND_VERSION);

    /* The first goto says where to stop; the run starts then. */
    for (;;) {
        uint8_t *buf;
        rw_eproto_msg m;
        if (rw_eproto_recv(E.in, &buf, &m, NULL) != RW_OK)
            return 0;
        uint8_t t = m.type;
        uint64_t p = m.pos;
        free(buf);
        if (t == RW_EP_QUIT)
            return 0;
        if (t == RW_EP_GOTO) {
            E.goal = p;
            E.goto_pending = 1;
            break;
        }
        send_msg(RW_EP_ERROR, 0, "the engine is not stopped anywhere");
    }

    int mfd = memfd_create("rewind-engine-trace", MFD_CLOEXEC);
    if (mfd < 0) {
        snprintf(err.msg, sizeof err.msg, "memfd_create: %s", strerror(errno));
        serve_dead(RW_EP_ERROR, 0, err.msg);
    }
    snprintf(E.epath, sizeof E.epath, "/proc/self/fd/%d", mfd);
    /* Checkpoints: where the program has one thread (one_thread, docs/reexecution.md). */
    rw_ckpt_env cenv = {.trace_fd = mfd, .quiesce = ckpt_quiesce, .release = ckpt_release,
                        .revive = ckpt_revive, .shed = ckpt_shed,
                        .hold = ckpt_hold};
    rw_ckpt_setup(E.ckpt_max, E.ckpt_mib, E.ckpt_every, &cenv, E.ckpt_log);
    set_goal(E.goal);
    if (!E.nsched) /* the first event looks (the first signal poll: rw_in_start) */
        atomic_store(&rw_source_trip_at, 0);
    set_environment(md);
    if (md->cwd && md->cwd[0])
        (void)!chdir(md->cwd); /* for what is not answered from the log yet */

    rw_record_opts o;
    rw_record_opts_init(&o);
    static const char *const kinds[] = {"script", "module", "command"};
    for (int k = 0; k < 3; k++)
        if (!strcmp(md->run_kind, kinds[k]))
            o.kind = (rw_run_kind)k;
    o.target = md->run_target;
    o.nargs = md->n_argv > 1 ? (int)md->n_argv - 1 : 0;
    o.args = md->n_argv > 1 ? md->argv + 1 : NULL;
    o.output = E.epath;
    o.force = 1;
    if (md->options) {
        o.lines = md->options->lines;
        o.allocations = md->options->allocations;
        o.c_calls = md->options->c_calls;
        o.line_times = md->options->line_times;
    }
    o.keep_env = 1; /* the recorded patterns are complete */
    o.redact = (const char *const *)md->redact_patterns;
    o.nredact = md->n_redact_patterns;
    o.py_flags = (const char *const *)md->python_flags;
    o.npy_flags = md->n_python_flags;
    o.flush_ms = 0;
    o.dump_signal = 0;
    o.follow = 0;
    o.on_done = on_done;
    rw_record_engine eng = {
        .replay = E.rec,
        .python = md->python_program,
        .python_build = md->python_build,
        .hash_seed = md->hash_seed,
        .chaos_seed = md->chaos_seed,
        /* With several threads, a wrapper waits for the thread's turn before each event
         * and looks after it; with one, the recorder's hooks look (rw_source_set_trip). */
        .trace = E.nsched ? eng_trace : NULL,
        .profile = E.nsched ? eng_profile : NULL,
        .sink = rw_check_feed,
        .sink_ctx = E.check,
    };
    o.engine = &eng;
    rw_in_set_diverge(on_input_divergence);
    rw_in_set_ran_out(ran_out);
    if (E.nstream_ids)
        rw_threadwrap_set_define_gate(define_gate);
    /* Threads that C code started are followed as the recording followed them. */
    rw_threadwrap_follow_c(rw_meta_has_feature(md, "c-threads"),
                           E.nstream_ids ? claim_c_stream : NULL);
    rw_threadwrap_thread_boxes(rw_meta_has_feature(md, "thread-boxes"));
    rw_threadwrap_thread_count(rw_meta_has_feature(md, "thread-count"));
    rw_threadwrap_thread_teardown(rw_meta_has_feature(md, "thread-teardown"));
    rw_libc_features(trace_has, md);
    rw_shm_anon_logged(rw_meta_has_feature(md, "shared-memory"));
    rw_locks_input_starts(rw_meta_has_feature(md, "input-starts"));
    if (E.nsched) {
        rw_audithook_set_turn(audit_hook_turn);
        rw_threadwrap_set_start_gate(sched_wait);
        rw_threadwrap_gil_back = gil_back;
    }

    rw_record_result res;
    /* From here on, only the calls the engine needs (sandbox.h); all threads are ours. */
    if (rw_sandbox_install(E.out, mfd, &err) != RW_OK)
        serve_dead(RW_EP_ERROR, 0, err.msg);
    rw_code rc = rw_record_run(&o, &res, &err);
    if (rc != RW_OK)
        serve_dead(RW_EP_ERROR, 0, err.msg);
    if (!E.ended) {
        char msg[200];
        snprintf(msg, sizeof msg, "the program ended after %" PRIu64 " events", rw_st.nevents);
        serve_dead(RW_EP_ENDED, rw_st.nevents, msg);
    }
    return 0;
}
