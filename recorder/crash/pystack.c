/* Python stacks in a signal handler, as faulthandler walks them: every thread's
 * frames from the interpreter's thread list (for the structured report), and
 * faulthandler's own text made by CPython's own dump functions
 * (_Py_DumpTracebackThreads, the code faulthandler runs) into a memfd and read back,
 * so that it is byte for byte what faulthandler prints. Async-signal-safe: reads
 * frames without the GIL and allocates nothing, as faulthandler does.
 *
 * Uses CPython internals (Py_BUILD_CORE): frames, the interpreter's thread list.
 */
#define Py_BUILD_CORE 1
#include <Python.h>

#include "crash_int.h"

#include "internal/pycore_frame.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_pyerrors.h"
#include "internal/pycore_traceback.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "defs.h"
#include "libc/libc.h"
#include "sigsafe.h"
#include "threads.h"

#define MAX_STRING 500 /* faulthandler's MAX_STRING_LENGTH, in characters */

/* Owner: this file; set at install (main thread), read-only afterwards. Global
 * because the handlers that read it get no context. */
static struct pystack_state {
    PyInterpreterState *interp; /* the main interpreter */
    int memfd;                  /* faulthandler's text goes through it; -1: none */
} ps = {NULL, -1};

rw_code rw_crash_pystack_setup(rw_err *err)
{
    ps.interp = PyInterpreterState_Main();
    ps.memfd = (int)syscall(SYS_memfd_create, "rewind-crash", MFD_CLOEXEC);
    if (ps.memfd < 0)
        return rw_err_set(err, RW_EIO, "memfd_create: %s", strerror(errno));
    ps.memfd = rw_own_fd(ps.memfd);
    return RW_OK;
}

PyThreadState *rw_crash_pystack_current(void)
{
    return ps.interp && !_Py_IsFinalizing() ? PyGILState_GetThisThreadState() : NULL;
}

/* str as faulthandler's _Py_DumpASCII writes it: printable ASCII as is, others as
 * \xNN, \uNNNN, \UNNNNNNNN, cut after 500 characters with "...". */
static void escape_str(PyObject *o, char *dst, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    if (!o || !PyUnicode_Check(o) || !PyUnicode_IS_READY(o)) {
        rw_sigsafe_copy(dst, cap, "???");
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

void rw_crash_pystack_walk(rw_crash_report *r, PyThreadState *current)
{
    Rewind__CrashReport *m = &r->m;
    m->n_threads = 0;
    m->threads = r->threadp;
    PyInterpreterState *interp = ps.interp;
    if (!interp || _Py_IsFinalizing())
        return;
    size_t used = 0;
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp);
         ts && m->n_threads < RW_CRASH_MAX_THREADS; ts = PyThreadState_Next(ts)) {
        Rewind__CrashThread *t = &r->threads[m->n_threads];
        rewind__crash_thread__init(t);
        r->threadp[m->n_threads++] = t;
        t->ident = ts->thread_id;
        t->thread = rw_threads_id_of_ident(ts->thread_id);
        t->current = ts == current;
        t->frames = &r->framep[used];
        _PyInterpreterFrame *f = ts->cframe ? ts->cframe->current_frame : NULL;
        for (unsigned depth = 0; f; f = f->previous, depth++) {
            if (depth >= RW_CRASH_MAX_DEPTH || used >= RW_CRASH_MAX_PYFRAMES) {
                t->truncated = 1;
                break;
            }
            rw_crash_pyframe *pf = &r->frames[used];
            rewind__crash_frame__init(&pf->m);
            PyCodeObject *co = f->f_code;
            escape_str(co->co_filename, pf->file, sizeof pf->file);
            escape_str(co->co_name, pf->name, sizeof pf->name);
            pf->m.filename = pf->file;
            pf->m.name = pf->name;
            pf->m.line = PyCode_Addr2Line(co, _PyInterpreterFrame_LASTI(f) *
                                                  (int)sizeof(_Py_CODEUNIT));
            pf->m.code = rw_defs_code_id_peek(co);
            r->framep[used++] = &pf->m;
            t->n_frames++;
        }
    }
}

void rw_crash_pystack_text(rw_crash_report *r, const char *header, PyThreadState *current,
                           int ext_modules)
{
    PyInterpreterState *interp = ps.interp;
    int memfd = ps.memfd;
    r->text[0] = '\0';
    r->m.text = r->text;
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
    ssize_t n = pread(memfd, r->text, RW_CRASH_TEXT_CAP - 1, 0);
    r->text[n > 0 ? n : 0] = '\0';
}
