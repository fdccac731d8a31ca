/* backtrace: the C library's, as under python3.
 *
 * Wraps: backtrace. The rewind executable needs libunwind (recorder/crash/cstack.c),
 * and libunwind.so defines a `backtrace` of its own, a weak symbol that the dynamic
 * linker finds before the C library's for every caller in the process (the executable
 * lists libunwind first). numpy calls backtrace() on every binary operation whose
 * temporary it could reuse (check_callers); libunwind's walk checks each address by
 * writing it to a pipe of its own and reading it back, and those read and write calls
 * reached the wrappers as the program's: a replay, whose engine has that pipe at
 * another descriptor, diverged there ("the recording has read(996, 1), the replay
 * called read(993, 1)"). This definition, in the executable, is found first and
 * hands the call to the C library's, which makes no system call for it.
 */
#include <dlfcn.h>
#include <execinfo.h>
#include <stddef.h>

typedef int (*rw_backtrace_fn)(void **, int);

/* The C library's backtrace, resolved before main; read-only afterwards. */
static rw_backtrace_fn libc_backtrace;

static rw_backtrace_fn find_libc_backtrace(void)
{
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    rw_backtrace_fn f = libc ? (rw_backtrace_fn)dlsym(libc, "backtrace") : NULL;
    if (libc)
        dlclose(libc);
    return f;
}

__attribute__((constructor(101))) static void find_real(void)
{
    libc_backtrace = find_libc_backtrace();
}

int backtrace(void **buffer, int size)
{
    rw_backtrace_fn f = libc_backtrace ? libc_backtrace : find_libc_backtrace();
    return f && f != backtrace ? f(buffer, size) : 0;
}
