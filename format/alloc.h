/* The allocator of the writer's side of format/ (writer, encoder, frame building), in
 * one place so that tests can make it fail, as Lua's ltests and Redis's sdsalloc.h
 * do. In normal runs rw_malloc is malloc plus one atomic count of the allocations
 * made (a fetch-add; these are not hot-path allocations); a test calls
 * rw_alloc_fail_after to make allocations fail from some point on and checks that
 * every caller turns that into an error value instead of a crash. Thread-safe.
 * rw_free is free, or nothing for a block of rw_alloc_dying's region (provided so
 * that every block this module's callers free is paired visibly with its allocator).
 */
#ifndef RW_ALLOC_H
#define RW_ALLOC_H

#include <stddef.h>

void *rw_malloc(size_t n);
void *rw_calloc(size_t n, size_t size);
void *rw_realloc(void *p, size_t n);
char *rw_strdup(const char *s);
void rw_free(void *p);

/* Zeroed pages of their own for a big table that lives as long as its owner (the
 * writer's blocks, the encoder's tables), or NULL. From RW_PAGES_HUGE bytes on the
 * mapping is a whole number of 2 MiB pages, aligned to one and marked MADV_HUGEPAGE:
 * where transparent huge pages are on ("always" or "madvise"), touching it costs one
 * page fault per 2 MiB instead of 512, and nothing changes where they are off.
 * Counted and failed by the test hook below like rw_malloc. rw_pages_free takes the n
 * given to rw_pages_alloc; rw_pages_len(n) is the length of the mapping. */
#define RW_PAGES_HUGE ((size_t)2 << 20)
void *rw_pages_alloc(size_t n);
void rw_pages_free(void *p, size_t n);
size_t rw_pages_len(size_t n);

/* Test hook: after n more successful allocations through the functions above (in any
 * thread), every one fails (returns NULL) until the hook is reset; n < 0 resets it
 * (the default: nothing fails). Returns the number of allocations made since the
 * previous call, so that a test can first count how many a run makes. */
long rw_alloc_fail_after(long n);

/* The calling thread works for a process that a signal is ending (the writer thread
 * closing the trace for a terminating signal's handler, which waits for it on the
 * thread it interrupted, perhaps inside the allocator with one of its locks held:
 * glibc's arenas, AddressSanitizer's size classes). While on (1), this thread's
 * rw_malloc, rw_calloc, rw_realloc and rw_strdup take blocks from a region of address
 * space of alloc.c's own, which no allocator lock guards, and rw_free frees nothing
 * (a block of malloc's is kept on a list until rw_alloc_release frees it: a writer's
 * destruction, in a process that lives on; a dying one never gets there). A region
 * block may be given to rw_free and rw_realloc at any time, from any thread (never to
 * free or realloc): rw_free leaves it, rw_realloc copies it into a new block. */
void rw_alloc_dying(int on);
void rw_alloc_release(void);

/* Whether p is a block of the dying threads' region (tests). */
int rw_alloc_in_region(const void *p);

#endif
