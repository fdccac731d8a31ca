/* C stacks by libunwind, from a signal's interrupted context: program counter,
 * symbol and offset, module and its load base, per frame. Async-signal-safe:
 * libunwind's local unwinder allocates nothing once warmed up at install.
 */
#include "crash_int.h"

#include <string.h>
#include <ucontext.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

/* Owner: this file; used by the thread that owns the report (and once at install).
 * Static, not on the stack: handlers may run on a small foreign altstack. */
static struct cstack_state {
    unw_cursor_t cur;
    unw_context_t ctx;
} cs_st;

void rw_crash_cstack_capture(rw_crash_report *r, void *uc)
{
    Rewind__CrashReport *m = &r->m;
    m->n_c_frames = 0;
    m->c_frames = r->cframep;
    int rc;
    if (uc) {
        memcpy(&cs_st.ctx, uc, sizeof cs_st.ctx < sizeof(ucontext_t) ? sizeof cs_st.ctx
                                                                   : sizeof(ucontext_t));
        rc = unw_init_local2(&cs_st.cur, &cs_st.ctx, UNW_INIT_SIGNAL_FRAME);
    } else {
        unw_getcontext(&cs_st.ctx);
        rc = unw_init_local(&cs_st.cur, &cs_st.ctx);
    }
    if (rc < 0)
        return;
    do {
        unw_word_t ip = 0, off = 0;
        if (unw_get_reg(&cs_st.cur, UNW_REG_IP, &ip) < 0 || ip == 0)
            break;
        rw_crash_cframe *cf = &r->cframes[m->n_c_frames];
        rewind__crash_cframe__init(&cf->m);
        cf->m.pc = ip;
        cf->sym[0] = '\0';
        int prc = unw_get_proc_name(&cs_st.cur, cf->sym, sizeof cf->sym, &off);
        if (prc == 0 || prc == -UNW_ENOMEM) /* ENOMEM: the name was cut, still useful */
            cf->m.offset = off;
        else
            cf->sym[0] = '\0';
        cf->m.symbol = cf->sym;
        cf->m.signal_frame = unw_is_signal_frame(&cs_st.cur) > 0;
        rw_crash_mapping mp;
        cf->mod[0] = '\0';
        if (rw_crash_maps_find(ip, &mp) && mp.path_len && mp.path[0] != '[') {
            size_t k = mp.path_len < sizeof cf->mod - 1 ? mp.path_len : sizeof cf->mod - 1;
            memcpy(cf->mod, mp.path, k);
            cf->mod[k] = '\0';
            cf->m.module_base = mp.base;
        }
        cf->m.module = cf->mod;
        r->cframep[m->n_c_frames++] = &cf->m;
    } while (m->n_c_frames < RW_CRASH_MAX_CFRAMES && unw_step(&cs_st.cur) > 0);
}

