/* Alternate signal stacks, so that a stack overflow can still be reported: the main
 * thread's at install, each recorded thread's around its target (threadwrap.c).
 */
#include "crash_int.h"

#include <signal.h>
#include <sys/mman.h>

#define ALTSTACK_SIZE (256u << 10)

/* Owner: this file; written at install and uninstall (main thread, GIL held), read
 * by new threads with the GIL. Global because threadwrap.c's calls carry no context.
 * The stacks stay mapped when uninstalled: a late signal may still be using one. */
static struct sigstack_state {
    int enabled;         /* rw_crash_thread_enter gives threads a stack */
    void *main_altstack; /* the main thread's, or NULL */
} sst;

/* The calling thread's stack from rw_crash_thread_enter, or NULL. */
static __thread void *thread_altstack;

/* Maps a stack and makes it the calling thread's signal stack; NULL when it cannot. */
static void *new_altstack(void)
{
    void *p = mmap(NULL, ALTSTACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    stack_t ss = {.ss_sp = p, .ss_size = ALTSTACK_SIZE, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) < 0) {
        munmap(p, ALTSTACK_SIZE);
        return NULL;
    }
    return p;
}

void rw_crash_thread_enter(void)
{
    if (sst.enabled && !thread_altstack)
        thread_altstack = new_altstack();
}

void rw_crash_thread_leave(void)
{
    if (!thread_altstack)
        return;
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && cur.ss_sp == thread_altstack &&
        !(cur.ss_flags & SS_ONSTACK)) {
        stack_t off = {.ss_flags = SS_DISABLE};
        sigaltstack(&off, NULL);
        munmap(thread_altstack, ALTSTACK_SIZE);
    } /* else someone else's stack is in place now: leave ours mapped */
    thread_altstack = NULL;
}

void rw_crash_sigstack_install(void)
{
    sst.main_altstack = new_altstack();
}

void rw_crash_sigstack_enable(int on)
{
    sst.enabled = on;
}
