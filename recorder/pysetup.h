/* The interpreter rewind embeds: which python3.11's setup to take, starting it as
 * python3 would start the program (PyConfig from the same command line), and checking
 * that the installed standard library is the one the linked-in interpreter goes with.
 * Main thread, before anything else of the recorder. */
#ifndef RW_PYSETUP_H
#define RW_PYSETUP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "recorder.h"

/* The interpreter whose setup to take: want (--python), else $VIRTUAL_ENV/bin/python3,
 * else /usr/bin/python3, into out. RW_ENOTFOUND (not executable), RW_EINVAL (another
 * minor version of Python). */
rw_code rw_pysetup_pick(const char *want, char *out, size_t cap, rw_err *err);

/* Initialises the embedded interpreter for o's program as `python OPTIONS PROGRAM ARGS`
 * (o->py_flags first), with a hash seed chosen (and returned in *seed) when python3
 * would pick a random one; a re-execution passes the recorded seed in *seed (nonzero:
 * used as is). RW_EINVAL (the command line was refused), RW_EPYTHON. */
rw_code rw_pysetup_start(const rw_record_opts *o, const char *python, uint64_t *seed,
                         rw_err *err);

/* Replaces the process with python3 running o's program as it would have without
 * rewind (the system's execve: no wrapper follows it). Returns only if the exec failed. */
void rw_pysetup_exec_unrecorded(const rw_record_opts *o, const char *python);

/* After rw_pysetup_start: RW_EPYTHON with one line saying how to rebuild when the
 * standard library the interpreter loaded is not the build rewind was linked with
 * (python3.11 was updated since), unless force. Also sets rw_pysetup_build. */
rw_code rw_pysetup_check_stdlib(int force, rw_err *err);

/* The interpreter's build, as Metadata.python_build records it. */
const char *rw_pysetup_build(void);

/* The rewind executable's own build, as Metadata.tool_build records it: its GNU build
 * ID in hex ("" when the linker wrote none). A re-execution of a trace recorded by
 * another build is not exact: the interpreter's static objects (types, small ints,
 * interned strings) are at other addresses, and what a program orders by id() or
 * hashes by address can come out in another order. Any thread; cached. */
#define RW_BUILD_ID_MAX 64 /* hex digits kept */
const char *rw_pysetup_rewind_build(void);

#endif
