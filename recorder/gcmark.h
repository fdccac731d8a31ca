/* The cyclic GC's trigger state, taken before rewind's own Python-level work and put
 * back after it, so that automatic collections come after the same allocations as in
 * a plain python3 run (docs/memory.md, "Fidelity", cause 3). Used around the
 * recorder's start-up work (recorder.c) and every busy window (pyhelp.c). Needs the
 * GIL; none of it is async-signal-safe.
 */
#ifndef RW_GCMARK_H
#define RW_GCMARK_H

#define RW_GCMARK_TUPLES 20 /* PyTuple_NFREELISTS of CPython 3.11 (checked in gcmark.c) */

/* What decides when the next automatic collection starts: generation 0's count
 * (container allocations minus container frees since the last collection), the older
 * generations' counts, and the lengths of the container free lists (an object taken
 * off a free list is not counted as an allocation, one put on it not as a free). */
typedef struct rw_gc_mark {
    int count[3];
    int tuples[RW_GCMARK_TUPLES]; /* free tuples of each size 1..20 */
    int lists, dicts;             /* free list and dict objects */
} rw_gc_mark;

/* Takes the current state into *m. */
void rw_gc_mark_take(rw_gc_mark *m);

/* Puts the state of *m back: the free lists that grew lose their newest entries (the
 * objects are freed), those that shrank get fresh empty objects under the entries
 * they kept, then the generation counts are set to m's. Objects rewind made and still
 * holds stay alive (they are its own and uncounted, as if made before the count was
 * taken). No collection starts in it. Call with rw_tls.busy raised: its allocations
 * and frees are rewind's, not the program's. */
void rw_gc_mark_back(const rw_gc_mark *m);

#endif
