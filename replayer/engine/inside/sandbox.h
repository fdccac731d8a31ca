/* The engine's sandbox (docs/reexecution.md, "Sandbox"): a seccomp filter that lets the
 * engine process make only the system calls re-execution needs (memory, threads, its
 * socket to the front end, reading files, forking its evaluations). Any other call —
 * the replayed program's or anything it loaded — is not made: the engine sends the
 * front end a BLOCKED frame (docs/engine-protocol.md) naming the call and the event
 * counter, and exits. Installed by rw_engine_serve before the program starts; turned
 * off only by `rewind __engine --no-sandbox` (the user's command line, never the trace).
 *
 * Owner: replayer/engine/inside/sandbox.c. One per process; rw_sandbox_install from the
 * engine's main thread before the run's threads exist (it synchronises every thread of
 * the process anyway: SECCOMP_FILTER_FLAG_TSYNC).
 */
#ifndef RW_ENGINE_SANDBOX_H
#define RW_ENGINE_SANDBOX_H

#include <sys/types.h>

#include "error.h"

/* Turns the sandbox off for this process (`--no-sandbox`): rw_sandbox_install then does
 * nothing. Call before rw_sandbox_install. */
void rw_sandbox_disable(void);

/* Installs the filter in every thread of the process, with the SIGSYS handler that
 * reports a blocked call as a BLOCKED frame on `out` (the client's socket). trace_fd is
 * the engine's own trace (a memfd): the recorder's writer opens it for writing as
 * /proc/self/fd/N, the one write-open the sandbox grants, once, by handing it a
 * duplicate of trace_fd. Does nothing after rw_sandbox_disable. RW_EIO with one line
 * (ending in what to do: --no-sandbox) when the kernel refuses the filter or this
 * architecture has none. */
rw_code rw_sandbox_install(int out, int trace_fd, rw_err *err);

/* Whether the filter is installed in this process. */
int rw_sandbox_active(void);

/* In a throwaway fork of the engine (an evaluation), before it evaluates: a blocked call
 * is answered on reply_fd as a raised VALUE ("the evaluation tried ...") instead of a
 * BLOCKED frame to the client, and the fork ends when the engine does. No-op without the
 * sandbox. */
void rw_sandbox_in_fork(int reply_fd);

/* Ends a fork of the engine that waits on its socket: without the sandbox, kill(pid,
 * SIGKILL); with it, nothing: the sandbox lets the engine signal only itself (a pid
 * cannot be checked to be a child), and the fork ends by itself when the engine closes
 * its end of the socket (the caller does) or exits. */
void rw_sandbox_end_child(pid_t pid);

#endif
