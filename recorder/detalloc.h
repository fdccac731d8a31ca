/* detalloc: a deterministic allocator over a private region at a fixed address, the
 * base of Python's memory in a recorded process and in the replay engine, so that object
 * addresses (id(), id-ordered sets, reprs) repeat between a recording and its replay.
 *
 * The core (rw_detalloc_new .. rw_detalloc_check) is a two-level segregated fit (TLSF)
 * allocator over one reserved range of address space: O(1) malloc and free, immediate
 * coalescing, 16-byte alignment. Where a block lands depends only on the sequence of
 * calls made on the instance, never on the C library's heap, on mmap placement or on
 * what else the process allocates. Every call takes the instance's lock: CPython calls
 * the RAW domain without the GIL. Any base works (the tests use several); the
 * process-wide instance (rw_detalloc_install) sits at RW_DETALLOC_BASE.
 */
#ifndef RW_DETALLOC_H
#define RW_DETALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* The process-wide regions (rw_detalloc_install). Python's memory comes from two of
 * them, placed where a plain run of Debian's python3 (a non-PIE executable) has it, so that
 * an int made from an address (PyLong_FromVoidPtr, id()) has the same number of digits:
 *
 * - the high region, 1 TiB at 32 TiB: RAW blocks of the C library's mmap threshold or
 *   more (plain: mmap), and RAW blocks of threads other than the main one (plain: a
 *   thread's own malloc arena, mmapped). Far from where the kernel puts the executable,
 *   brk, mmaps and the stack, with or without randomisation, and above AddressSanitizer's
 *   shadow memory (which ends near 16 TiB). Ints made from its addresses have two 30-bit
 *   digits, as from plain mmap addresses.
 * - the low region, 768 MiB from 256 MiB up to 1 GiB (2^30): the main thread's smaller RAW
 *   blocks (plain: glibc's brk heap, which starts after the non-PIE executable, below
 *   1 GiB + 11 MiB even with randomisation): type objects, large dicts' tables, big
 *   objects of obmalloc's overflow. Ints made from its addresses have one digit (28 bytes,
 *   not 32), as in a plain run. The rewind executable is non-PIE too and ends near 40 MiB,
 *   so its own brk heap has 200 MiB before it meets the region (glibc then continues with
 *   mmap); below AddressSanitizer's low shadow (from 2 GiB). When the range cannot be had
 *   (taken, say, by a randomised brk) there is no low region and every block is high. */
#define RW_DETALLOC_BASE ((uintptr_t)0x200000000000ull)
#define RW_DETALLOC_RESERVE ((size_t)1 << 40)
/* - the arena region, 1 TiB right above the high one: obmalloc's arenas and the frame
 *   stack's chunks alone (when it can be had; else they are high). Every call on it is
 *   made with the GIL held, so its sequence is the GIL holders' (which a replay
 *   repeats); RAW blocks are allocated and freed without the GIL too (a thread frees its
 *   thread state after letting the GIL go), when the scheduler decides, and an arena
 *   placed after them would move with them — and every small object in it. */
#define RW_DETALLOC_ARENA_BASE (RW_DETALLOC_BASE + RW_DETALLOC_RESERVE)
#define RW_DETALLOC_ARENA_RESERVE ((size_t)1 << 40)
#define RW_DETALLOC_LOW_BASE ((uintptr_t)0x10000000u)
#define RW_DETALLOC_LOW_RESERVE ((size_t)0x30000000u)
/* glibc's default mmap threshold and the largest its dynamic rule raises it to
 * (mallopt(3), M_MMAP_THRESHOLD): a main-thread RAW block goes low while its glibc chunk
 * size is below the threshold; freeing a high block above it raises it to that block's
 * size, as glibc does when it unmaps an mmapped chunk. */
#define RW_DETALLOC_MMAP_THRESHOLD ((size_t)128 << 10)
#define RW_DETALLOC_MMAP_THRESHOLD_MAX ((size_t)32 << 20)

typedef struct rw_detalloc rw_detalloc;

/* Figures of an instance, from counters kept by every call (no walk). */
typedef struct rw_detalloc_stats {
    size_t in_use;         /* bytes of live blocks, headers included */
    size_t nlive;          /* live blocks */
    size_t committed;      /* bytes made readable and writable (mprotect), from the base */
    size_t high_water;     /* bytes from the base ever handed out or written */
    uint64_t releases;     /* madvise(MADV_DONTNEED) calls that gave pages back */
    uint64_t released;     /* bytes they covered */
} rw_detalloc_stats;

/* Reserves [base, base + reserve) (MAP_FIXED_NOREPLACE, PROT_NONE, no swap charged)
 * and sets up an empty allocator in it; its control block lives in the region's first
 * page. base and reserve must be multiples of the page size, reserve at least 1 MiB
 * and at most 2^46. RW_EIO with the reason when the range cannot be had (taken, or
 * refused by the kernel). *out is set only on success; rw_detalloc_free unmaps it. */
rw_code rw_detalloc_new(uintptr_t base, size_t reserve, rw_detalloc **out, rw_err *err);

/* Unmaps the whole region: every block of a dies with it. NULL is a no-op. */
void rw_detalloc_free(rw_detalloc *a);

/* malloc: a block of at least n bytes aligned to 16 (n == 0 gives a unique block), or
 * NULL when the region is full or the kernel refuses to commit more. */
void *rw_detalloc_malloc(rw_detalloc *a, size_t n);

/* calloc: nelem * elsize zero bytes (NULL on overflow). Memory never touched since the
 * region was mapped is not written; a large block is zeroed by giving its pages back
 * rather than by writing them. */
void *rw_detalloc_calloc(rw_detalloc *a, size_t nelem, size_t elsize);

/* A block of n bytes whose address is a multiple of align (a power of two; 16 or less
 * is rw_detalloc_malloc). Freed with rw_detalloc_dealloc like any other. */
void *rw_detalloc_memalign(rw_detalloc *a, size_t align, size_t n);

/* realloc, with C's rules (NULL p: malloc; on failure p is left as it was). Grows in
 * place when the next block is free and large enough; shrinks in place. A p outside
 * the region (a block of the C library's, allocated before the install) goes to the
 * C library's realloc and stays there. */
void *rw_detalloc_realloc(rw_detalloc *a, void *p, size_t n);

/* free. NULL is a no-op; a p outside the region goes to the C library's free. A freed
 * block of 128 KiB or more gives its whole pages back to the kernel (madvise), so the
 * resident size follows the live size. */
void rw_detalloc_dealloc(rw_detalloc *a, void *p);

/* Whether p lies in a's region (one subtraction and a compare). */
static inline int rw_detalloc_owns(const rw_detalloc *a, const void *p);

/* The usable size of a live block of a (at least what was asked for). */
size_t rw_detalloc_usable_size(const rw_detalloc *a, const void *p);

/* Fills *st with a's counters (taken under its lock). */
void rw_detalloc_get_stats(rw_detalloc *a, rw_detalloc_stats *st);

/* Walks every block and checks the invariants (sizes and links, no two free blocks
 * side by side, free lists and bitmaps in agreement, counters). Returns 0, or -1 with
 * what is wrong in why. For tests and debugging: O(blocks). */
int rw_detalloc_check(rw_detalloc *a, char *why, size_t cap);

/* Take and drop a's lock around fork(), so that the child does not inherit it held by
 * a thread that does not exist there (rw_detalloc_install registers them). */
void rw_detalloc_lock(rw_detalloc *a);
void rw_detalloc_unlock(rw_detalloc *a);

/* ---- the process-wide instance, as Python's memory ---- */

/* Reserves the process-wide regions (RW_DETALLOC_BASE, and RW_DETALLOC_LOW_BASE when it
 * can be had) and makes them the base of PYMEM_DOMAIN_RAW (PyMem_SetAllocator) and
 * obmalloc's arena allocator (PyObject_SetArenaAllocator, which 3.11's
 * _PyObject_VirtualAlloc also uses, for the frame stack's chunks), split between them as
 * above. The calling thread is the main thread. Call it first, before anything calls
 * PyMem_* or configures the interpreter: blocks allocated earlier stay the C library's
 * (freed there). A second call does nothing. When the high region cannot be had,
 * returns RW_EIO and Python keeps the C library's allocator (the run works; its addresses
 * will not repeat). Not thread-safe: call it while the process has one thread. */
rw_code rw_detalloc_install(rw_err *err);

/* Puts detalloc back under Python's RAW domain (and MEM/OBJ for PYTHONMALLOC=malloc)
 * when the interpreter's pre-initialisation replaced it: PYTHONMALLOC and -X dev make
 * PyConfig_Read / Py_PreInitialize reset the allocators to the C library's (debug hooks
 * are kept, over detalloc). Call after the pre-initialisation and before
 * Py_InitializeFromConfig; a no-op when nothing was replaced or nothing is installed.
 * Blocks allocated in between stay the C library's. */
void rw_detalloc_after_preinit(void);

/* Set by a thread around a call whose RAW blocks must stay out of the regions
 * (threadwrap.c: the box PyThread_start_new_thread allocates for the new thread, which
 * that thread frees when the kernel first runs it): while it is set, the thread's RAW
 * blocks come from the C library, and alloc.c records neither them nor their frees. */
extern __thread int rw_detalloc_raw_libc;

/* The process-wide high instance, or NULL before rw_detalloc_install (for figures). */
rw_detalloc *rw_detalloc_global(void);

/* The process-wide low instance, or NULL before rw_detalloc_install or when the low
 * range could not be had. */
rw_detalloc *rw_detalloc_global_low(void);

/* Turns address-space randomisation off for this process: when personality() lacks
 * ADDR_NO_RANDOMIZE, sets it and re-executes /proc/self/exe with argv (the process's
 * whole argv, argv[0] included) and the same environment, so that the new image is laid
 * out without randomisation. Returns only when no re-execution happened: randomisation
 * was already off, or the kernel refused (a seccomp filter, say); the run then goes on
 * and rw_detalloc_aslr_off() says so. Call it before anything else, while the process
 * has one thread. */
void rw_detalloc_no_aslr_reexec(char **argv);

/* 1 when this process runs without address-space randomisation, 0 when it does (its
 * trace's metadata should then say that addresses will not repeat in a replay). */
int rw_detalloc_aslr_off(void);

/* ---- inline ---- */

/* The first two fields of the instance, for rw_detalloc_owns (detalloc.c keeps the
 * rest private). */
struct rw_detalloc_head {
    uintptr_t base;
    size_t reserve;
};

static inline int rw_detalloc_owns(const rw_detalloc *a, const void *p)
{
    const struct rw_detalloc_head *h = (const struct rw_detalloc_head *)a;
    return (uintptr_t)p - h->base < h->reserve;
}

#endif
