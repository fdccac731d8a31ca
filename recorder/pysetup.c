/* The interpreter rewind embeds (pysetup.h): setup, start, and the build check. */
#include "pysetup.h"

#include <Python.h>

#include <elf.h>
#include <errno.h>
#include <link.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "detalloc.h"
#include "libc/input.h"
#include "sysalloc.h"

/* python3 resolves to the venv's interpreter when one is active (its bin/ comes first
 * in PATH); otherwise we use Debian's, whose libpython we embed. */
rw_code rw_pysetup_pick(const char *want, char *out, size_t cap, rw_err *err)
{
    const char *venv = getenv("VIRTUAL_ENV");
    if (want) {
        snprintf(out, cap, "%s", want);
    } else if (venv && *venv) {
        snprintf(out, cap, "%s/bin/python3", venv);
        if (access(out, X_OK) != 0)
            snprintf(out, cap, "/usr/bin/python3");
    } else {
        snprintf(out, cap, "/usr/bin/python3");
    }
    if (access(out, X_OK) != 0)
        return rw_err_set(err, RW_ENOTFOUND, "%s: %s: give an executable python3.11 with --python",
                          out, strerror(errno));
    /* We embed libpython3.11: an interpreter of another minor version would bring a
     * standard library this one cannot run. */
    char real[PATH_MAX];
    if (realpath(out, real)) {
        const char *base = strrchr(real, '/');
        base = base ? base + 1 : real;
        if (!strncmp(base, "python3.", 8) && strncmp(base, "python3.11", 10))
            return rw_err_set(err, RW_EINVAL,
                              "%s is %s, but rewind embeds Python 3.11: use a 3.11 interpreter",
                              out, base);
    }
    return RW_OK;
}

static rw_code status_err(PyStatus st, rw_err *err)
{
    if (PyStatus_IsExit(st))
        return rw_err_set(err, RW_EINVAL, "the interpreter refused the command line (status %d)",
                          st.exitcode);
    return rw_err_set(err, RW_EPYTHON, "cannot start the interpreter: %s%s%s",
                      st.func ? st.func : "", st.func ? ": " : "", st.err_msg ? st.err_msg : "?");
}

/* -X warn_default_encoding (or PYTHONWARNDEFAULTENCODING) is read from the command
 * line with the pre-configuration's, and Py_InitializeFromConfig reads a configuration
 * that PyConfig_Read has read once more without it (its arguments are parsed already),
 * which turns it off: python3 reads its configuration once. Put back in the
 * interpreter's configuration (io.text_encoding reads it) and in sys.flags. */
static void keep_warn_default_encoding(void)
{
    PyInterpreterState *interp = PyInterpreterState_Get();
    PyConfig *config = (PyConfig *)_PyInterpreterState_GetConfig(interp);
    config->warn_default_encoding = 1;
    PyObject *flags = PySys_GetObject("flags"); /* borrowed */
    enum { WARN_DEFAULT_ENCODING = 15 };          /* its field in 3.11's sys.flags */
    if (flags && PyTuple_Check(flags) && PyTuple_GET_SIZE(flags) > WARN_DEFAULT_ENCODING) {
        PyObject *one = PyLong_FromLong(1);
        if (one) {
            PyObject *was = PyTuple_GET_ITEM(flags, WARN_DEFAULT_ENCODING);
            PyTuple_SET_ITEM(flags, WARN_DEFAULT_ENCODING, one);
            Py_XDECREF(was);
        }
    }
    PyErr_Clear();
}

/* python3's command line for o (rw_sys_free it), its count in *count; NULL when out of
 * memory. */
static char **python_argv(const rw_record_opts *o, const char *python, size_t *count)
{
    size_t n = 0;
    char **argv = rw_sys_calloc((size_t)o->nargs + o->npy_flags + 5, sizeof *argv);
    if (!argv)
        return NULL;
    argv[n++] = (char *)python;
    for (size_t i = 0; i < o->npy_flags; i++)
        argv[n++] = (char *)o->py_flags[i];
    if (o->kind == RW_RUN_MODULE)
        argv[n++] = "-m";
    else if (o->kind == RW_RUN_COMMAND)
        argv[n++] = "-c";
    else if (o->target[0] == '-')
        argv[n++] = "--"; /* a script named like an option */
    argv[n++] = (char *)o->target;
    for (int i = 0; i < o->nargs; i++)
        argv[n++] = o->args[i];
    *count = n;
    return argv;
}

void rw_pysetup_exec_unrecorded(const rw_record_opts *o, const char *python)
{
    size_t n = 0;
    char **argv = python_argv(o, python, &n);
    if (argv)
        syscall(SYS_execve, python, argv, environ); /* the system's: no wrapper follows it */
}

rw_code rw_pysetup_start(const rw_record_opts *o, const char *python, uint64_t *seed,
                            rw_err *err)
{
    size_t n = 0;
    char **argv = python_argv(o, python, &n);
    if (!argv)
        return rw_err_set(err, RW_ENOMEM, "out of memory");

    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    config.parse_argv = 1;
    /* The command line first: setting it pre-initializes Python from it (-X dev, -X
     * utf8, -E, -I decide the pre-configuration), where any other string set first
     * pre-initializes without it (sys.flags.dev_mode stayed False under -X dev). */
    PyStatus st = PyConfig_SetBytesArgv(&config, (Py_ssize_t)n, argv);
    if (!PyStatus_Exception(st))
        st = PyConfig_SetBytesString(&config, &config.program_name, python);
    if (!PyStatus_Exception(st))
        st = PyConfig_Read(&config);
    if (!PyStatus_Exception(st)) {
        /* Choose the hash seed when python3 would pick a random one, so that the run
         * can be repeated: it is in the trace's metadata. */
        if (*seed) { /* a re-execution: the recorded one */
            config.use_hash_seed = 1;
            config.hash_seed = (unsigned long)*seed;
        } else if (!config.use_hash_seed) {
            uint32_t r = 0;
            rw_in_pause(); /* rewind's own choice, not the program's input */
            while (r == 0)
                if (getrandom(&r, sizeof r, 0) != sizeof r)
                    r = (uint32_t)time(NULL) | 1;
            rw_in_resume();
            config.use_hash_seed = 1;
            config.hash_seed = r;
        }
        *seed = config.hash_seed;
        rw_detalloc_after_preinit(); /* PYTHONMALLOC, -X dev: Python's memory stays ours */
        int warn_default_encoding = config.warn_default_encoding;
        st = Py_InitializeFromConfig(&config);
        if (!PyStatus_Exception(st) && warn_default_encoding)
            keep_warn_default_encoding();
    }
    PyConfig_Clear(&config);
    rw_sys_free(argv);
    if (PyStatus_Exception(st) && !PyStatus_IsExit(st) && !o->engine) {
        /* The interpreter cannot start with this configuration (PYTHONTRACEMALLOC or -X
         * tracemalloc out of range, ...): say it as python3 says it (its fatal error and
         * the Python exception behind it, status 1). Nothing of the trace exists yet. */
        Py_ExitStatusException(st);
    }
    if (PyStatus_Exception(st))
        return status_err(st, err);
    return RW_OK;
}

#ifndef RW_PY_STDLIB_STAMP
#define RW_PY_STDLIB_STAMP 0 /* shared libpython: it and the stdlib are updated together */
#endif
#ifndef RW_PY_DEB_VERSION
#define RW_PY_DEB_VERSION ""
#endif

static char python_build[128]; /* set by rw_pysetup_check_stdlib; read-only after */

static void build_fill(void)
{
    snprintf(python_build, sizeof python_build, "%s%sstdlib %lld", RW_PY_DEB_VERSION,
             RW_PY_DEB_VERSION[0] ? ", " : "", (long long)RW_PY_STDLIB_STAMP);
}

const char *rw_pysetup_build(void)
{
    if (!python_build[0])
        build_fill();
    return python_build;
}

/* dl_iterate_phdr's callback: the first object is the executable; its GNU build ID
 * note, in hex, goes to the buffer. */
static int build_id_of(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    char *out = data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
            const char *name = p + sizeof *n;
            const unsigned char *desc =
                (const unsigned char *)name + ((n->n_namesz + 3u) & ~3u);
            const char *next = (const char *)desc + ((n->n_descsz + 3u) & ~3u);
            if (next > end)
                break;
            if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && !memcmp(name, "GNU", 4)) {
                size_t k = 0;
                for (uint32_t j = 0; j < n->n_descsz && k + 3 <= RW_BUILD_ID_MAX; j++, k += 2)
                    snprintf(out + k, 3, "%02x", desc[j]);
                return 1;
            }
            p = next;
        }
    }
    return 1; /* the executable has none */
}

const char *rw_pysetup_rewind_build(void)
{
    static char id[RW_BUILD_ID_MAX + 1];
    static int done;
    if (!done) {
        dl_iterate_phdr(build_id_of, id);
        done = 1;
    }
    return id;
}

/* The linked-in interpreter must go with the standard library it runs: after a Debian
 * update of python3.11 the stdlib is new and the interpreter inside rewind is old
 * (CMakeLists.txt records the stdlib's os.py time stamp at build). Needs the GIL. */
rw_code rw_pysetup_check_stdlib(int force, rw_err *err)
{
    build_fill();
    if (!RW_PY_STDLIB_STAMP)
        return RW_OK;
    /* The standard library's os.py, where sys._stdlib_dir says it is: os itself is not
     * imported at start-up under -S, and a module looked up by name must not be made
     * (PyImport_AddModule put an empty os in sys.modules there, which the program then
     * imported). */
    PyObject *dir = PySys_GetObject("_stdlib_dir"); /* borrowed */
    PyObject *file = dir && PyUnicode_Check(dir) ? PyUnicode_FromFormat("%U/os.py", dir) : NULL;
    const char *path = file ? PyUnicode_AsUTF8(file) : NULL;
    struct stat sb;
    int same = !path || stat(path, &sb) != 0 || (long long)sb.st_mtime == RW_PY_STDLIB_STAMP;
    char where[PATH_MAX] = "";
    if (path)
        snprintf(where, sizeof where, "%s", path);
    Py_XDECREF(file);
    PyErr_Clear();
    if (same || force)
        return RW_OK;
    char *slash = strrchr(where, '/');
    if (slash)
        *slash = '\0';
    char built[32], found[32];
    time_t b = (time_t)RW_PY_STDLIB_STAMP, f = sb.st_mtime;
    strftime(built, sizeof built, "%Y-%m-%d %H:%M", gmtime(&b));
    strftime(found, sizeof found, "%Y-%m-%d %H:%M", gmtime(&f));
    return rw_err_set(err, RW_EPYTHON,
                      "python3.11 was updated after rewind was built: rebuild rewind "
                      "(scripts/build.sh) or add --force (standard library of %s in %s; "
                      "rewind's interpreter goes with the one of %s)", found, where, built);
}

