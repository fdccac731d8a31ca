/* Allocation hooks: every malloc/calloc/realloc/free of the RAW, MEM and OBJ domains
 * as an ALLOC_x/FREE_x record (format/records.h), as tracemalloc sees them.
 * Installed once by rw_record_run; the hooks then run in every thread.
 */
#ifndef RW_ALLOC_H
#define RW_ALLOC_H

/* Wraps the RAW, MEM and OBJ allocators of the running interpreter. Called once,
 * with the GIL, after Py_InitializeFromConfig: blocks allocated earlier are not in the
 * trace, and their frees are recorded like any other (readers ignore frees of unknown
 * blocks, as tracemalloc does). */
void rw_alloc_install(void);

#endif
