/* Definitions (see defs.h): files, code objects, C functions and names, each
 * interned once (intern.h's tables) and written to the trace on first sight.
 *
 * Slow paths only, with the GIL; the Python they run (co_lines, str() of names,
 * cProfile's labels) runs inside rw_busy so that none of it is recorded.
 */
#include "defs.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "pyhelp.h"
#include "state.h"
#include "sysalloc.h"

rw_defs_state rw_defs = {.extra_index = -1};

static void free_extra(void *p)
{
    (void)p; /* the slot holds an integer id, nothing to free */
}

rw_code rw_defs_init(const char *command_text, rw_err *err)
{
    if (rw_defs.extra_index < 0) {
        rw_defs.extra_index = _PyEval_RequestCodeExtraIndex(free_extra);
        if (rw_defs.extra_index < 0)
            return rw_err_set(err, RW_EPYTHON, "cannot reserve a code object extra slot");
    }
    rw_defs.command_source = command_text;
    return RW_OK;
}

rw_code rw_defs_restart(rw_err *err)
{
    rw_ptrtab_fini(&rw_defs.cfuncs);
    rw_strtab_fini(&rw_defs.files);
    rw_strtab_fini(&rw_defs.names);
    memset(&rw_defs.cfuncs, 0, sizeof rw_defs.cfuncs);
    memset(&rw_defs.files, 0, sizeof rw_defs.files);
    memset(&rw_defs.names, 0, sizeof rw_defs.names);
    memset(rw_defs.cf_cache, 0, sizeof rw_defs.cf_cache);
    rw_defs.ncodes = rw_defs.ncfuncs = 0;
    /* Code objects keep the parent's ids in the old slot: a new slot starts them all
     * afresh, and each is defined again on first sight. */
    Py_ssize_t slot = _PyEval_RequestCodeExtraIndex(free_extra);
    if (slot < 0)
        return rw_err_set(err, RW_EPYTHON, "no code object extra slot left for a new trace");
    rw_defs.extra_index = slot;
    return RW_OK;
}

/* FileDef id of a code object's co_filename, defined on first sight: with the
 * command's text for "<string>" of a -c run, else lazily (the writer thread reads
 * the file when it writes the definition). */
static uint32_t file_id(PyObject *filename)
{
    char path[4096];
    rw_py_str(filename, path, sizeof path);
    int added;
    uint32_t id = rw_strtab_intern(&rw_defs.files, path, strlen(path), &added);
    if (!id) {
        rw_state_fail("out of memory interning a file name");
        return 0;
    }
    if (added) {
        if (rw_defs.command_source && !strcmp(path, "<string>"))
            rw_writer_def_file(rw_st.w, id, path, rw_defs.command_source,
                               strlen(rw_defs.command_source), 1);
        else
            rw_writer_def_file_lazy(rw_st.w, id, path);
    }
    return id;
}

/* Line starts of co as dis.findlinestarts gives them, first occurrence of each line
 * only, into a new sysalloc'd array (*n entries; NULL when none). */
static uint32_t *line_starts(PyCodeObject *co, size_t *n)
{
    *n = 0;
    PyObject *it = PyObject_CallMethod((PyObject *)co, "co_lines", NULL);
    PyObject *iter = it ? PyObject_GetIter(it) : NULL;
    Py_XDECREF(it);
    if (!iter) {
        PyErr_Clear();
        return NULL;
    }
    size_t cap = 0, len = 0;
    uint32_t *lines = NULL, maxline = 0;
    long last = -1;
    PyObject *t;
    while ((t = PyIter_Next(iter))) {
        if (PyTuple_Check(t) && PyTuple_GET_SIZE(t) == 3) {
            PyObject *l = PyTuple_GET_ITEM(t, 2);
            long line = l == Py_None ? -1 : PyLong_AsLong(l);
            if (line > 0 && line != last && line < (1L << 30)) {
                if (len == cap) {
                    cap = cap ? cap * 2 : 64;
                    uint32_t *p = rw_sys_realloc(lines, cap * sizeof *p);
                    if (!p) {
                        Py_DECREF(t);
                        break;
                    }
                    lines = p;
                }
                lines[len++] = (uint32_t)line;
                if ((uint32_t)line > maxline)
                    maxline = (uint32_t)line;
            }
            if (line > 0)
                last = line;
        }
        Py_DECREF(t);
    }
    Py_DECREF(iter);
    PyErr_Clear();
    /* Keep each line's first occurrence only. */
    unsigned char *seen = len ? rw_sys_calloc((size_t)maxline + 1, 1) : NULL;
    size_t k = 0;
    for (size_t i = 0; seen && i < len; i++)
        if (!seen[lines[i]]) {
            seen[lines[i]] = 1;
            lines[k++] = lines[i];
        }
    rw_sys_free(seen);
    *n = seen ? k : 0;
    return lines;
}

static uint32_t code_define_one(PyCodeObject *co, uint32_t parent)
{
    uint32_t file = file_id(co->co_filename);
    char name[256], qual[512];
    rw_py_str(co->co_name, name, sizeof name);
    rw_py_str(co->co_qualname, qual, sizeof qual);

    int flags = co->co_flags;
    size_t nargs = (size_t)co->co_argcount + (size_t)co->co_kwonlyargcount +
                   !!(flags & CO_VARARGS) + !!(flags & CO_VARKEYWORDS);
    char *argbuf = NULL;
    const char **argv = NULL;
    PyObject *vars = PyCode_GetVarnames(co);
    if (vars && PyTuple_Check(vars) && (size_t)PyTuple_GET_SIZE(vars) >= nargs && nargs) {
        argv = rw_sys_calloc(nargs, sizeof *argv);
        argbuf = rw_sys_malloc(nargs * 128);
        if (!argv || !argbuf)
            nargs = 0;
        for (size_t i = 0; i < nargs; i++) {
            rw_py_str(PyTuple_GET_ITEM(vars, (Py_ssize_t)i), argbuf + i * 128, 128);
            argv[i] = argbuf + i * 128;
        }
    } else {
        nargs = 0;
    }
    Py_XDECREF(vars);
    PyErr_Clear();

    size_t nlines;
    uint32_t *lines = line_starts(co, &nlines);
    uint32_t id = ++rw_defs.ncodes;
    rw_writer_def_code(rw_st.w, id, file, name, qual, (uint32_t)co->co_firstlineno,
                       (uint32_t)flags, (const char *const *)argv, nargs);
    rw_writer_def_code_lines(rw_st.w, id, lines, nlines, parent);
    rw_sys_free(lines);
    rw_sys_free(argv);
    rw_sys_free(argbuf);
    /* Fails only when out of memory; the code is then defined again next time. */
    if (_PyCode_SetExtra((PyObject *)co, rw_defs.extra_index, (void *)(uintptr_t)id) < 0)
        PyErr_Clear();

    /* The code objects it holds are defined too, even if they never run: coverage
     * needs the lines of functions that were never called (trace.py compiles the
     * file for that; we have the code objects). */
    PyObject *consts = co->co_consts;
    for (Py_ssize_t i = 0; consts && PyTuple_Check(consts) && i < PyTuple_GET_SIZE(consts); i++) {
        PyObject *c = PyTuple_GET_ITEM(consts, i);
        void *have = NULL;
        if (PyCode_Check(c) && (_PyCode_GetExtra(c, rw_defs.extra_index, &have) < 0 || !have)) {
            PyErr_Clear();
            code_define_one((PyCodeObject *)c, id);
        }
    }
    return id;
}

uint32_t rw_defs_code_define(PyCodeObject *co)
{
    assert(rw_defs.extra_index >= 0);
    rw_busy b;
    rw_busy_enter(&b, 0);
    uint32_t id = code_define_one(co, 0);
    rw_busy_leave(&b);
    return id;
}

/* The label cProfile gives a C function (Modules/_lsprof.c, normalizeUserObj). */
static void cfunc_label(PyCFunctionObject *fn, char *buf, size_t cap)
{
    const char *ml = fn->m_ml->ml_name;
    if (fn->m_self == NULL) {
        PyObject *mod = fn->m_module, *modname = NULL;
        if (mod && PyUnicode_Check(mod)) {
            modname = Py_NewRef(mod);
        } else if (mod && PyModule_Check(mod)) {
            modname = PyModule_GetNameObject(mod);
            if (!modname)
                PyErr_Clear();
        }
        char m[256] = "";
        if (modname) {
            rw_py_str(modname, m, sizeof m);
            Py_DECREF(modname);
        }
        if (modname && strcmp(m, "builtins"))
            snprintf(buf, cap, "<%s.%s>", m, ml);
        else
            snprintf(buf, cap, "<%s>", ml);
        return;
    }
    PyObject *name = PyUnicode_FromString(ml);
    if (name) {
        PyObject *mo = _PyType_Lookup(Py_TYPE(fn->m_self), name);
        Py_XINCREF(mo);
        Py_DECREF(name);
        if (mo) {
            PyObject *res = PyObject_Repr(mo);
            Py_DECREF(mo);
            if (res) {
                rw_py_str(res, buf, cap);
                Py_DECREF(res);
                return;
            }
        }
    }
    PyErr_Clear();
    PyObject *modname = fn->m_module;
    if (modname && PyUnicode_Check(modname)) {
        char m[256];
        rw_py_str(modname, m, sizeof m);
        snprintf(buf, cap, "<built-in method %s.%s>", m, ml);
    } else {
        snprintf(buf, cap, "<built-in method %s>", ml);
    }
}

uint32_t rw_defs_cfunc_define(PyCFunctionObject *fn)
{
    const void *key = fn->m_ml;
    uint32_t id = rw_ptrtab_get(&rw_defs.cfuncs, key);
    if (!id) {
        rw_busy b;
        rw_busy_enter(&b, 0);
        char label[512], module[256] = "";
        cfunc_label(fn, label, sizeof label);
        if (fn->m_module && PyUnicode_Check(fn->m_module))
            rw_py_str(fn->m_module, module, sizeof module);
        rw_busy_leave(&b);
        id = ++rw_defs.ncfuncs;
        if (!rw_ptrtab_put(&rw_defs.cfuncs, key, id))
            rw_state_fail("out of memory interning a C function");
        rw_writer_def_cfunc(rw_st.w, id, label, fn->m_ml->ml_name, module);
    }
    rw_defs_cf_slot *slot = rw_defs_cf_slot_of(key);
    slot->key = key;
    slot->id = id;
    return id;
}

uint32_t rw_defs_name_id(const char *text)
{
    int added;
    uint32_t id = rw_strtab_intern(&rw_defs.names, text, strlen(text), &added);
    if (!id) {
        rw_state_fail("out of memory interning a name");
        return 0;
    }
    assert(id <= rw_defs.names.n);
    if (added)
        rw_writer_def_name(rw_st.w, id, text);
    return id;
}
