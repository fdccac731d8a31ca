/* The engine process (DESIGN.md, "Replaying"; docs/engine-protocol.md): re-executes a
 * recorded run through the recorder's own path (recorder.h, rw_record_engine) with
 * every input answered from the trace, stops in the hook of the event a client asks
 * for, checks the run against the log (check.h) and answers questions about the
 * program's state in a throwaway fork. Called by cli/cmd_engine.c, once per process.
 */
#ifndef RW_ENGINE_SERVER_H
#define RW_ENGINE_SERVER_H

/* Serves the client on fd_in/fd_out (may be one socket) for the trace at path;
 * returns the process's exit status (the program's end, a lost client and a
 * divergence all end the process from inside, with status 0). */
int rw_engine_serve(const char *trace, int fd_in, int fd_out);

/* Before rw_engine_serve: keep at most max checkpoints (0: none; the engine restarts
 * to go back) holding at most mib MiB of private memory together (checkpoint.h). */
void rw_engine_serve_checkpoints(unsigned max, unsigned mib);

/* In a throwaway copy made by _Fork with the GIL held: makes the GIL that of a process
 * whose only thread holds it (forkgil.c). */
void rw_eng_gil_after_fork(void);

/* Asks the GIL's holder (the caller) to let it go at its next eval-breaker check, as a
 * thread waiting for it does after the switch interval (gil_drop_request): the holder
 * then waits until another thread has taken it (FORCE_SWITCHING), so one must be about
 * to. forkgil.c. */
void rw_eng_gil_ask_switch(void);

/* Whether an asynchronous exception (PyThreadState_SetAsyncExc) waits for a thread
 * other than the calling one, which holds the GIL: the interpreter's eval breaker is up
 * for it, and stays up until that thread runs. */
int rw_eng_gil_async_exc_elsewhere(void);

/* Who holds the GIL now (any thread, racy; for a divergence's report): 0 when it is
 * free, the holder's thread id, UINT32_MAX for a thread that is not a recorded one.
 * forkgil.c. */
uint32_t rw_eng_gil_holder(void);

#endif
