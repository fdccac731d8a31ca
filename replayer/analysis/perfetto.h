/* Perfetto's native trace format, written by hand: a Trace message
 * (perfetto/protos/perfetto/trace/trace.proto) streamed as its TracePacket fields,
 * one packet sequence carrying a process track, a thread track per thread and
 * TrackEvent slices (TYPE_SLICE_BEGIN/END) whose names are interned (InternedData
 * event_names) and whose categories are "python" and "c". Timestamps are in ns on
 * Perfetto's default clock. Used by export.c; writes only to the FILE it is given.
 */
#ifndef RW_PERFETTO_H
#define RW_PERFETTO_H

#include <stdint.h>
#include <stdio.h>

/* Categories of slices (the interned EventCategory iid is the value + 1). */
enum { RW_PF_CAT_PYTHON = 0, RW_PF_CAT_C = 1 };

typedef struct rw_pf rw_pf;

/* Returns a new writer on out (NULL when out of memory), having written the first
 * packet: the sequence's state cleared, the categories interned and the process
 * track (pid, name; name may be NULL). Caller frees with rw_pf_free. */
rw_pf *rw_pf_new(FILE *out, int64_t pid, const char *name);
void rw_pf_free(rw_pf *p);

/* Writes the track of thread tid (a number > 0 of the caller's, named name), before
 * its first slice. */
void rw_pf_thread(rw_pf *p, uint32_t tid, const char *name);

/* Begins a slice on thread tid's track at ts ns. name_iid (> 0) names it; new_name,
 * when not NULL, is its name, interned in this packet: pass it the first time iid is
 * used, NULL after. */
void rw_pf_begin(rw_pf *p, uint32_t tid, uint64_t ts, uint64_t name_iid, const char *new_name,
                 int cat);

/* Ends the innermost open slice of thread tid at ts ns. */
void rw_pf_end(rw_pf *p, uint32_t tid, uint64_t ts);

/* 1 once a buffer could not grow (the output is then incomplete), else 0. */
int rw_pf_failed(const rw_pf *p);

#endif
