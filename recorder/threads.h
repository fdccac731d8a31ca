/* The thread table: every recorded thread's ThreadDef (id, ident, native id, name),
 * the switch of the stream from one thread to another, and a lock-free ident -> id
 * index that signal handlers may read.
 *
 * Called by the hooks (through emit.h), by threadwrap.c for each new thread, by
 * recorder.c at the start and end of the run, and by crash/ (ident lookups). Needs
 * the GIL unless a function says otherwise.
 */
#ifndef RW_THREADS_H
#define RW_THREADS_H

#include <Python.h>

#include <stddef.h>
#include <stdint.h>

#include "rewind.pb-c.h"

/* Makes the calling thread the one whose records follow: defines it first when it is
 * not a recorded thread yet (a thread we did not start: its hooks were installed from
 * outside, or it came from C), drains the side buffer, appends a THREAD record. The
 * slow path of rw_emit_begin. Returns 0 when the thread cannot be recorded (the
 * recorder is busy in it, or out of memory). */
int rw_threads_switch(uint64_t tick, int raw);

/* The engine's (server.c run_end), NULL otherwise: called at the end of
 * rw_threads_switch, with the GIL; raw: the record that follows is a RAW allocation or
 * free. The engine sets rw_st.cur_thread to 0 to see a thread's next records here, one
 * at a time. */
extern void (*rw_threads_switch_watch)(int raw);

/* Defines the calling thread (ThreadDef) and makes it a recorded thread: sets
 * rw_tls.thread and rw_tls.tstate. name may be NULL (unknown). Returns the id, 0 when
 * out of memory. */
uint32_t rw_threads_define_current(const char *name, int is_main);

/* Marks thread `id` as started by C code, with its origin (ThreadDef.from_c and
 * c_origin in RunEnd). GIL. */
void rw_threads_set_from_c(uint32_t id, uint64_t origin);

/* Threads defined so far (the last id). GIL. */
uint32_t rw_threads_count(void);

/* Renames thread id (1 <= id <= threads defined). Out of memory keeps the old name. */
void rw_threads_set_name(uint32_t id, const char *name);

/* Makes the attribute name rw_threads_name_of looks up (start-up, GIL, before any
 * rw_threads_name_of). 0: out of memory. */
int rw_threads_install_keys(void);

/* Reads Thread._name of a threading.Thread instance into buf without running any
 * Python code and without giving the instance a __dict__. Returns 1 when it had one.
 * Needs rw_busy. */
int rw_threads_name_of(PyObject *thread, char *buf, size_t cap);

/* Re-reads the names of threads that are still alive (threading._active) and of the
 * main thread. Called once near the end of the run, with the interpreter intact. */
void rw_threads_refresh_names(void);

/* ThreadDef id of the thread with this ident (threading.get_ident), 0 when unknown;
 * the newest such thread when an ident was reused. Lock-free, no GIL:
 * async-signal-safe. Knows the first RW_THREADS_IDENT_CAP threads. */
#define RW_THREADS_IDENT_CAP 4096
uint32_t rw_threads_id_of_ident(uint64_t ident);

/* The final thread table for RunEnd.threads: n_out entries, owned by the thread
 * table (valid until rw_threads_fini). */
Rewind__ThreadDef **rw_threads_final(size_t *n_out);
/* Empties the table for a new trace in a forked child (the other threads are gone;
 * the caller defines the current one again). Single thread, GIL held, recording off. */
void rw_threads_restart(void);
void rw_threads_fini(void);

#endif
