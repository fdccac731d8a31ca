/* Wraps pthread_create, so that a thread that C code starts has a name that is the
 * same in a replay: the creating thread's own name and how many threads it had
 * started before (rw_thread_origin). A thread that C code started and that then runs
 * Python (PyGILState_Ensure: recorder/threadwrap.c) is matched by it to the recording's
 * thread, whatever order such threads first take the GIL in.
 *
 *   pthread_create   the new thread starts in start_shim, which sets its origin and
 *                    calls the start routine; nothing is logged
 *
 * Only threads started while capture is on for the calling thread are named (the
 * program's threads: rewind's own are started with capture off or paused); the others
 * have origin 0, and are matched in the order they first take the GIL.
 */
#include "input.h"
#include "libc.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>

#include "../sysalloc.h"

__thread uint64_t rw_thread_origin;
_Atomic int rw_threads_started_live;

/* Owner: this file; resolved once (constructor), read by the wrapper. Per-thread:
 * started (threads this one started while named), in TLS. */
static struct {
    int (*pthread_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
} pt;
static __thread uint64_t started;

/* Under a sanitizer whose runtime is linked into the program (clang's), its
 * pthread_create is in this executable, where RTLD_NEXT skips it: a thread started
 * past it is unknown to the sanitizer (LeakSanitizer then took what the thread holds
 * for leaks). Without a sanitizer there is no __interceptor_pthread_create. As
 * files_stdio.c does for fclose. */
__attribute__((constructor)) static void pthread_resolve(void)
{
    void *asan = dlsym(RTLD_DEFAULT, "__interceptor_pthread_create");
    pt.pthread_create = (__typeof__(pt.pthread_create))(asan ? asan
                                                             : dlsym(RTLD_NEXT, "pthread_create"));
}

typedef struct start_box {
    void *(*fn)(void *);
    void *arg;
    uint64_t origin;
} start_box;

static void thread_gone(void *unused)
{
    (void)unused;
    atomic_fetch_sub(&rw_threads_started_live, 1);
}

static void *start_shim(void *p)
{
    start_box b = *(start_box *)p;
    rw_sys_free(p);
    rw_thread_origin = b.origin;
    void *r;
    pthread_cleanup_push(thread_gone, NULL); /* pthread_exit and cancellation too */
    r = b.fn(b.arg);
    pthread_cleanup_pop(1);
    return r;
}

/* A name that is the same in a replay: a thread that capture follows is named by its
 * input stream (or, from C, by its own origin), and the nth thread it starts by a
 * mix of that and n (splitmix64's finaliser: never 0 for the values met). */
static uint64_t origin_of_next(void)
{
    uint64_t self = rw_thread_origin ? rw_thread_origin : rw_in_tls.thread;
    uint64_t z = (self << 32) ^ ++started;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return z ? z : 1;
}

int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    if (!pt.pthread_create)
        pthread_resolve();
    if (RW_LIKELY(rw_in_mode() == RW_IN_OFF))
        return pt.pthread_create(thread, attr, fn, arg);
    start_box *b = rw_sys_malloc(sizeof *b);
    if (!b)
        return pt.pthread_create(thread, attr, fn, arg);
    b->fn = fn;
    b->arg = arg;
    b->origin = origin_of_next();
    atomic_fetch_add(&rw_threads_started_live, 1);
    int rc = pt.pthread_create(thread, attr, start_shim, b);
    if (rc != 0) {
        atomic_fetch_sub(&rw_threads_started_live, 1);
        rw_sys_free(b);
    }
    return rc;
}
