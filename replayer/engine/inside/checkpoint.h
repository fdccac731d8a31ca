/* Checkpoints of the engine (docs/reexecution.md, "Checkpoints"): copies of the engine
 * process made by _Fork as it runs forwards, each blocked on a private socket, so that
 * a position behind the engine is reached from the nearest copy at or before it
 * instead of from the program's start. Called by server.c only, from the thread that
 * holds the GIL, with inputs paused (rw_in_pause). One set per process: the engine is
 * one per process, and a checkpoint that takes over inherits the set.
 */
#ifndef RW_ENGINE_CHECKPOINT_H
#define RW_ENGINE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* What the checkpoints need of the engine around a fork (server.c). */
typedef struct rw_ckpt_env {
    int trace_fd; /* the engine's own trace (a memfd shared with every copy) */
    /* Before the fork: the writer flushed and idle, the engine's helper threads out of
     * malloc. RW_OK or an error (no checkpoint is taken then). */
    rw_code (*quiesce)(rw_err *err);
    /* In a copy just made, before anything else: keeps the address ranges that quiesce
     * left out of the copy for revive (nothing else may be mapped there meanwhile).
     * May be NULL. */
    void (*hold)(void);
    /* After the fork, in the engine: lets the helper threads go on. */
    void (*release)(void);
    /* In a checkpoint that takes over, once the trace file is its own: the GIL and the
     * helper threads (the writer's, the check's) again. An error ends the process. */
    rw_code (*revive)(rw_err *err);
    /* In a copy just made, from its only thread, before it waits: gives back the
     * memory it will not read again (the writer's idle blocks), which the engine goes
     * on writing; returns the bytes. May be NULL. */
    size_t (*shed)(void);
} rw_ckpt_env;

/* At most this many: each is a process, and a descriptor of the engine's (passed on,
 * RW_CKPT_FDS_PER_MSG at a time, when a checkpoint takes over). */
#define RW_CKPT_MAX 2000u
#define RW_CKPT_FDS_PER_MSG 200u

/* Turns checkpoints on with at most max of them (0: off; capped at RW_CKPT_MAX) holding
 * at most mib MiB of private memory together (0: no bound but the number), one every
 * `every` events (0: about every 250 ms of running, more when they cost more). log_fd
 * >= 0 gets one line per checkpoint taken, resumed or dropped (tests, bench). env is
 * copied. */
void rw_ckpt_setup(unsigned max, unsigned mib, uint64_t every, const rw_ckpt_env *env,
                   int log_fd);

/* Whether checkpoints are on (and not given up on). */
int rw_ckpt_on(void);

/* The engine is at event `here` and runs to `goal`: a checkpoint is due in the hook of
 * the returned event (UINT64_MAX when off): a periodic one, or one just before the
 * goal (the user's next backward step starts there). */
uint64_t rw_ckpt_due(uint64_t here, uint64_t goal);

/* In the hook of event pos, GIL held, inputs paused, running to goal: takes a
 * checkpoint when one is due (at the goal itself: the user's stop, kept unless one is
 * very near). Returns 0 in the engine, whether one was taken or not; returns 1 in a
 * checkpoint that took over, with *target the position the client asked for (>= pos):
 * it is the engine now and must run there and stop. */
int rw_ckpt_take(uint64_t pos, uint64_t goal, uint64_t *target);

/* A checkpoint was due at pos but cannot be taken there (the program has threads other
 * than the one making the event: a fork would copy only that one): the next try comes
 * a little later (an eighth of the spacing). */
void rw_ckpt_not_now(uint64_t pos);

/* The engine is stopped at `here` and the client asks for target < here: hands the run
 * to the checkpoint nearest at or before target, which answers the client from then
 * on. Returns 1 when one took over (this process must end now, without a word on the
 * client's socket), 0 when there is none (the caller restarts as before). */
int rw_ckpt_go_back(uint64_t here, uint64_t target);

/* The engine is stopped at pos, its work done (flushed, checked), about to answer the
 * client: the checkpoints' memory grew as the engine went on, and is counted again
 * (and thinned to the limit). */
void rw_ckpt_stopped(uint64_t pos);

/* The engine leaves its stop at here for target: where the user works (the thinning
 * keeps checkpoints denser near it), and where and when the run starts (for the
 * spacing). */
void rw_ckpt_running(uint64_t here, uint64_t target);

#endif
