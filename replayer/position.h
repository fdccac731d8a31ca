/* Positions users name on command lines, resolved against a trace.
 *
 * A position is an event number. The state "at position P" (memory, stacks) is the
 * state when event P happens: every annotation before it has been applied. Positions
 * run from 0 to the number of events; P == number of events is the end of the run
 * (every record applied). Accepted spellings:
 *   N             an event number
 *   @start        0
 *   @end          the end of the run (after the interpreter's finalisation)
 *   @main-end     the end of the program's own code: the main module's RETURN (the
 *                 state after its last line, before finalisation and atexit)
 *   @exception    where the uncaught exception reached sys.excepthook
 *   @peak         where traced memory (all domains) was highest
 *   @crash        where the last fatal signal or --timeout report was made (CRASH
 *                 frame; dumps do not count)
 *   1.5s 250ms 40us 100ns   the first event at or after that time since the start
 *   FILE:LINE     the first time line LINE of a file ending in FILE ran
 */
#ifndef RW_POSITION_H
#define RW_POSITION_H

#include <stdint.h>

#include "reader.h"

/* Resolves spec to *pos. RW_EINVAL with a message saying what is accepted when the
 * spelling is wrong, RW_ENOTFOUND when it names nothing in this trace (no uncaught
 * exception, a line that never ran, a time past the end). */
rw_code rw_pos_parse(const rw_reader *r, const char *spec, uint64_t *pos, rw_err *err);

/* @main-end: the RETURN event of the main module's frame in the main thread (for
 * -m, the module that runpy's _run_code executes; else the <module> frame at depth
 * 1), or the end of the run when that frame never returned. */
rw_code rw_pos_main_end(const rw_reader *r, uint64_t *pos, rw_err *err);

/* @main-start: the main module's CALL event (as @main-end finds it): where the
 * program's own code starts, after python3 compiled the script (or runpy imported the
 * -m module's package); the end of the run when it never ran. */
rw_code rw_pos_main_start(const rw_reader *r, uint64_t *pos, rw_err *err);

/* Both at once, by one scan for the main module's CALL: start as rw_pos_main_start,
 * end as rw_pos_main_end; either may be NULL (not wanted). */
rw_code rw_pos_main_range(const rw_reader *r, uint64_t *start, uint64_t *end, rw_err *err);

/* The position of the highest traced memory and that amount (bytes), by one pass
 * over the trace. */
rw_code rw_pos_peak(const rw_reader *r, uint64_t *pos, uint64_t *bytes, rw_err *err);

/* The last closing report (fatal signal or timeout) of the trace, and its position
 * (the number of events before it). RW_ENOTFOUND when the trace has none. */
rw_code rw_pos_crash(const rw_reader *r, uint64_t *pos, const Rewind__CrashReport **rep,
                     rw_err *err);

/* Nanoseconds since the start of the recording at event pos (its tick). */
rw_code rw_pos_time_ns(const rw_reader *r, uint64_t pos, double *ns, rw_err *err);

#endif
