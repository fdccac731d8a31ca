/* Allocation hooks: every malloc/calloc/realloc/free of the RAW, MEM and OBJ domains
 * as an ALLOC_x/FREE_x record (format/records.h), as tracemalloc sees them.
 * Installed once by rw_record_run; the hooks then run in every thread.
 */
#ifndef RW_ALLOC_H
#define RW_ALLOC_H

#include <stddef.h>

/* Wraps the RAW, MEM and OBJ allocators of the running interpreter. Called once,
 * with the GIL, after Py_InitializeFromConfig: blocks allocated earlier are not in the
 * trace, and their frees are recorded like any other (readers ignore frees of unknown
 * blocks, as tracemalloc does). */
void rw_alloc_install(void);

/* A Python object was initialised (_Py_NewReference; op is a PyObject *): when its
 * block is not the one this thread's allocator hook just handed out, the object was
 * taken off a free list (tuples, lists, dicts, floats, ...), and tracemalloc gives its
 * block the current traceback (_PyTraceMalloc_NewReference) if it traces the block.
 * A block that start-up made gets a STARTUP_REUSE record first. Recorded as an ALLOC_OBJ
 * of the block with the object's size, which readers apply as tracemalloc's
 * add_trace: the block gets the traceback of that position (docs/memory.md,
 * "Fidelity"). Called with the GIL (newref.c), only while recording and not busy. */
struct _object;
void rw_alloc_newref(struct _object *op);

/* Reuses of blocks that start-up made are marked (STARTUP_REUSE) unless on is 0: a
 * recorder told to record without the feature "startup-reuses" (tests). Before the
 * program runs. */
void rw_alloc_startup_reuses(int on);

/* Records op's allocation here, where a plain run would have made it, as the
 * allocation hooks would have recorded it then (an ALLOC_OBJ of its block, size the
 * bytes its allocation asked for): a frame object that tracing mode made earlier
 * without recording it (newref.c). With the GIL; only while allocations are recorded. */
void rw_alloc_made_here(struct _object *op, size_t size);

/* Tracing mode's frame objects, line arrays and bound methods are left out of the
 * recording, and a frame object recorded where a plain run would make it
 * (rw_alloc_made_here), unless
 * on is 0: a recorder told to record without the feature "tracer-objects" (tests), or
 * the replay of a trace made before it. Before the program runs. */
void rw_alloc_tracer_objects(int on);

/* Whether op is the last object this thread initialised, in a block the allocator had
 * just handed out (not one reused from a free list). Only while allocations are
 * recorded (else 0). */
int rw_alloc_last_fresh(struct _object *op);

/* The (type, value, traceback) tuple that tracing mode packs for an exception event
 * (ceval.c, call_exc_trace), passed to the trace function when no function of the
 * program's is chained (a plain run without a trace function packs none). When it was
 * a fresh allocation (its free list was empty), it is uncounted by the cyclic GC, and
 * rw_exc_tuple_settle, called at a later event once CPython has put it on the free
 * list, takes it off and frees it without touching the counts (or, if the program
 * took it off first, counts that allocation as python3 would have), so that the GC's
 * counts and free lists stay python3's (newref.c). With the GIL. */
void rw_exc_tuple_forget(struct _object *arg);
void rw_exc_tuple_settle(void);
extern struct _object *rw_exc_tuple_pending; /* non-NULL: settle at the next event */

/* A plain run would make frame object f here (f is a PyFrameObject *, or NULL): the
 * one tracing mode made, uncounted by the cyclic GC (newref.c), counts in generation
 * 0 from now until it is freed, as python3's would (docs/memory.md cause 3), and its
 * allocation is recorded here (feature "tracer-objects"). Once per frame object; a
 * frame object that a plain run would have made too (PyFrame_New) is left alone. With
 * the GIL. */
struct _frame;
void rw_frame_materialized(struct _frame *f);

/* Frame object f's frame is about to return (its RETURN event) and something else holds
 * f: CPython then makes the object of the frame's caller, to be f's f_back
 * (frame.c, take_ownership), which counts from here as rw_frame_materialized's do.
 * With the GIL; feature "tracer-objects" only (a replay of an older trace runs as its
 * recorder did). */
void rw_frame_outlives(struct _frame *f);

/* Tracing mode's bound methods for calls of method descriptors neither count towards
 * the cyclic GC's thresholds nor start a collection, and an exception event's fresh
 * tuple starts none (newref.c). Learns where CPython makes them by running two calls
 * and an exception under hook functions of its own: call it before any hook is
 * installed, with the GIL, inside rewind's own start-up work (the GC's state put back
 * after it, gcmark.h). Returns the number of bound-method call sites found (2 on
 * CPython 3.11; 0 leaves them counted, as before). */
int rw_gctemp_install(void);

#endif
