/* Definitions: what the trace names once and then refers to by a dense id (files,
 * code objects, C functions, exception and audit event names), interned here so
 * that every event source (settrace today, sys.monitoring or a PEP 523 evaluator
 * later) hands out the same ids the same way.
 *
 * Called by the event source and the audit hook, with the GIL. The inline lookups
 * are the hooks' fast paths (no call, no hash); the define functions are their slow
 * paths (first sight: they run Python code inside rw_busy and write a definition to
 * the trace). rw_defs_code_id_peek alone may run anywhere, signal handlers included.
 */
#ifndef RW_DEFS_H
#define RW_DEFS_H

#include <Python.h>

#include <stdint.h>

#include "error.h"
#include "intern.h"

#define RW_DEFS_CF_CACHE 1024 /* slots of the C-function cache; a power of two */

/* One slot of the direct-mapped C-function cache: key is the PyMethodDef, as
 * cProfile keys C functions. */
typedef struct rw_defs_cf_slot {
    const void *key;
    uint32_t id;
} rw_defs_cf_slot;

/* The definitions' state. Owner: defs.c, the only writer, always with the GIL; the
 * inline lookups below read it from the hooks. Global because the hooks that need an
 * id get no context (CPython calls them). Ids start at 1 and are dense, as the
 * trace's definition tables require; 0 means "none". */
typedef struct rw_defs_state {
    /* Hot: read on every C call (cf_cache) and every Python call (extra_index). */
    rw_defs_cf_slot cf_cache[RW_DEFS_CF_CACHE]; /* (GIL) front of cfuncs; a slot is
                                                 * overwritten by the last define */
    Py_ssize_t extra_index;     /* co_extra slot holding each code object's CodeDef id;
                                 * -1 before rw_defs_init, then fixed */
    /* Cold: first sights only. */
    uint32_t ncodes;            /* (GIL) CodeDef ids handed out */
    uint32_t ncfuncs;           /* (GIL) CFuncDef ids handed out */
    rw_ptrtab cfuncs;           /* (GIL) PyMethodDef * -> CFuncDef id */
    rw_strtab files;            /* (GIL) filename -> FileDef id */
    rw_strtab names;            /* (GIL) NameDef texts */
    const char *command_source; /* source of "<string>" for -c, or NULL; borrowed */
} rw_defs_state;

extern rw_defs_state rw_defs;

/* Reserves the co_extra slot. command_text: the source of "<string>" for `-c` runs
 * (borrowed: must outlive the run), or NULL. Call once after the interpreter is
 * initialised and before anything else here. RW_EPYTHON when no slot is left. */
rw_code rw_defs_init(const char *command_text, rw_err *err);

/* Forgets every definition, for a new trace in a forked child: the tables empty and
 * a new co_extra slot, so that ids start again from 1 as the child's trace defines
 * them. Single thread, GIL held, recording off. RW_EPYTHON when no slot is left. */
rw_code rw_defs_restart(rw_err *err);

/* ---- code objects --------------------------------------------------------------- */

/* Mirror of _PyCodeObjectExtra (Objects/codeobject.c, 3.11), which no header
 * declares: reading co_extra directly saves a call per call event. */
typedef struct rw_defs_code_extra {
    Py_ssize_t ce_size;
    void *ce_extras[1];
} rw_defs_code_extra;

/* Defines co (its file, and the code objects among its constants), stores its id in
 * co_extra and returns it. The slow path of rw_defs_code_id. */
uint32_t rw_defs_code_define(PyCodeObject *co);

/* CodeDef id of the code object stored in its co_extra slot, 0 when it has none (or
 * before rw_defs_init). Defines nothing, takes no lock, needs no GIL:
 * async-signal-safe as long as co is a live code object. */
static inline uint32_t rw_defs_code_id_peek(PyCodeObject *co)
{
    Py_ssize_t slot = rw_defs.extra_index;
    const rw_defs_code_extra *ex = (const rw_defs_code_extra *)co->co_extra;
    if (slot < 0 || !ex || ex->ce_size <= slot)
        return 0;
    return (uint32_t)(uintptr_t)ex->ce_extras[slot];
}

/* CodeDef id of a code object, defining it on first sight. */
static inline uint32_t rw_defs_code_id(PyCodeObject *co)
{
    rw_defs_code_extra *ex = (rw_defs_code_extra *)co->co_extra;
    if (RW_LIKELY(ex != NULL && ex->ce_size > rw_defs.extra_index)) {
        uintptr_t v = (uintptr_t)ex->ce_extras[rw_defs.extra_index];
        if (RW_LIKELY(v != 0))
            return (uint32_t)v;
    }
    return rw_defs_code_define(co);
}

/* ---- C functions ---------------------------------------------------------------- */

/* The cache slot of a C function's key (its PyMethodDef). A hit is slot->key == key. */
static inline rw_defs_cf_slot *rw_defs_cf_slot_of(const void *key)
{
    return &rw_defs.cf_cache[((uintptr_t)key >> 5) & (RW_DEFS_CF_CACHE - 1)];
}

/* Defines fn (labelled as cProfile labels it) unless its PyMethodDef is known, puts
 * it in the cache and returns its id. The slow path of rw_defs_cfunc_id. */
uint32_t rw_defs_cfunc_define(PyCFunctionObject *fn);

/* CFuncDef id of a C function, defining it on first sight. */
static inline uint32_t rw_defs_cfunc_id(PyCFunctionObject *fn)
{
    const void *key = fn->m_ml;
    const rw_defs_cf_slot *slot = rw_defs_cf_slot_of(key);
    if (RW_LIKELY(slot->key == key))
        return slot->id;
    return rw_defs_cfunc_define(fn);
}

/* ---- names ---------------------------------------------------------------------- */

/* NameDef id of the NUL-terminated text (exception type names, audit event names),
 * defined in the trace on first use. 0 when out of memory (the failure is recorded). */
uint32_t rw_defs_name_id(const char *text);

#endif
