/* The debugger's former API (rw_dbg_*), kept as thin inline forwards to the pdb
 * front end (debugger/pdb.h) and the session engine (debugger/session.h) so that
 * tests/unit/test_debugger.c, the reference for pdb's texts, runs unchanged. New
 * code includes debugger/pdb.h or debugger/session.h.
 */
#ifndef RW_DEBUGGER_H
#define RW_DEBUGGER_H

#include "pdb.h"
#include "session.h"

typedef rw_pdb rw_dbg;
typedef rw_pdb_input rw_dbg_input;
typedef rw_pdb_linekind rw_dbg_linekind;

#define RW_DBG_EMPTY RW_PDB_EMPTY
#define RW_DBG_COMMAND RW_PDB_COMMAND
#define RW_DBG_STATEMENT RW_PDB_STATEMENT

static inline rw_code rw_dbg_new(const rw_reader *r, FILE *out, rw_dbg **dp, rw_err *err)
{
    return rw_pdb_new(r, out, dp, err);
}
static inline void rw_dbg_free(rw_dbg *d) { rw_pdb_free(d); }
static inline void rw_dbg_set_plain_search(rw_dbg *d, int on)
{
    rw_session_set_plain_search(rw_pdb_session(d), on);
}
static inline void rw_dbg_set_input(rw_dbg *d, rw_dbg_input fn, void *ctx)
{
    rw_pdb_set_input(d, fn, ctx);
}
static inline rw_code rw_dbg_start(rw_dbg *d, const char *at, rw_err *err)
{
    return rw_pdb_start(d, at, err);
}
static inline int rw_dbg_onecmd(rw_dbg *d, const char *line) { return rw_pdb_onecmd(d, line); }
static inline int rw_dbg_defining(const rw_dbg *d) { return rw_pdb_defining(d); }
static inline int rw_dbg_interaction(rw_dbg *d) { return rw_pdb_interaction(d); }
static inline int rw_dbg_line(rw_dbg *d, const char *line) { return rw_pdb_line(d, line); }
static inline int rw_dbg_pending(rw_dbg *d, char *buf, size_t cap)
{
    return rw_pdb_pending(d, buf, cap);
}
static inline void rw_dbg_print_stop(rw_dbg *d) { rw_pdb_print_stop(d); }
static inline int rw_dbg_done(const rw_dbg *d) { return rw_pdb_done(d); }
static inline rw_code rw_dbg_error(const rw_dbg *d) { return rw_pdb_error(d); }
static inline rw_dbg_linekind rw_dbg_parseline(const char *line, char *name, size_t namecap,
                                               char *argbuf, size_t argcap)
{
    return rw_pdb_parseline(line, name, namecap, argbuf, argcap);
}
static inline int rw_dbg_parse_int(const char *s, long long *out)
{
    return rw_pdb_parse_int(s, out);
}
static inline char *rw_dbg_expand(const char *line, const char *const *names,
                                  const char *const *texts, size_t n, char **rest)
{
    return rw_pdb_expand(line, names, texts, n, rest);
}

#endif
