/* C stacks by libunwind, from a signal's interrupted context: program counter,
 * symbol and offset, module and its load base, per frame. Async-signal-safe:
 * libunwind's local unwinder allocates nothing once warmed up at install. Symbols
 * come from the dynamic loader (dladdr1), not from unw_get_proc_name, which reads the
 * module's ELF image with malloc: a terminating signal that interrupted malloc then
 * waited forever for the allocator's lock the interrupted thread held (seen with
 * AddressSanitizer's allocator, in a multiprocessing worker that Pool.terminate's
 * SIGTERM reached in malloc). The loader's table has the exported symbols: libc's,
 * the extension modules', and all of the rewind executable's (-rdynamic).
 */
#include "crash_int.h"

#include <dlfcn.h>
#include <link.h>
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
        cf->m.signal_frame = unw_is_signal_frame(&cs_st.cur) > 0;
        /* A caller's pc is the return address, which may be past the end of a
         * function that ends in a call: its symbol is the one holding pc - 1. */
        int exact = m->n_c_frames == 0 || cf->m.signal_frame;
        Dl_info info;
        const ElfW(Sym) *sym = NULL;
        if (dladdr1((void *)(ip - !exact), &info, (void **)&sym, RTLD_DL_SYMENT) &&
            info.dli_sname && info.dli_saddr && ip >= (unw_word_t)info.dli_saddr) {
            off = ip - (unw_word_t)info.dli_saddr;
            /* A static function is not in the table: the exported one before it is
             * not its name. */
            if (!sym || sym->st_size == 0 || off - !exact < sym->st_size) {
                size_t k = strlen(info.dli_sname);
                if (k > sizeof cf->sym - 1)
                    k = sizeof cf->sym - 1; /* cut: still useful */
                memcpy(cf->sym, info.dli_sname, k);
                cf->sym[k] = '\0';
                cf->m.offset = off;
            }
        }
        cf->m.symbol = cf->sym;
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

