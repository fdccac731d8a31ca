/* Record kinds and the raw 16-byte records the recorder appends on its hot path.
 *
 * The recorder writes raw records (below) into the writer's stream; the writer thread
 * turns them into columnar chunks (format/codec.h). Kind values are those of the
 * Kind enum of format/rewind.proto and are stored in files: never renumber them.
 */
#ifndef RW_RECORDS_H
#define RW_RECORDS_H

#include <stdint.h>

typedef enum rw_kind {
    /* Events: numbered, each with a time. */
    RW_K_CALL = 0,
    RW_K_LINE = 1,
    RW_K_RETURN = 2,
    RW_K_EXCEPTION = 3,
    RW_K_C_CALL = 4,
    RW_K_C_RETURN = 5,
    RW_K_C_EXCEPTION = 6,
    /* Annotations: not numbered, positioned between events. */
    RW_K_ALLOC_RAW = 16,
    RW_K_ALLOC_MEM = 17,
    RW_K_ALLOC_OBJ = 18,
    RW_K_FREE_RAW = 19,
    RW_K_FREE_MEM = 20,
    RW_K_FREE_OBJ = 21,
    RW_K_THREAD = 22,
    RW_K_AUDIT = 23,
    RW_K_UNCAUGHT = 24,
    RW_K_GEN = 25, /* before the CALL of a generator's or coroutine's frame: which one */
    /* Before an ALLOC_OBJ that reuses a free-listed block made before the recording
     * started (recorder/alloc.h): no payload. */
    RW_K_STARTUP_REUSE = 26,
    /* Where the last record's thread let the GIL go at an eval-breaker check (another
     * thread had asked for it): rw_drop_spot of its frame there. The replay's thread
     * lets go at the check with the same spot (recorder/evalbreak.h). */
    RW_K_DROP = 27,
    /* Raw stream only, never in a file: a string that belongs to the previous
     * record (EXCEPTION message, AUDIT arguments, UNCAUGHT message). */
    RW_K_BLOB = 63,
} rw_kind;

#define RW_KIND_MAX 64                  /* kind values are < RW_KIND_MAX */
#define RW_IS_EVENT(k) ((k) < 16)
#define RW_IS_ALLOC(k) ((k) >= RW_K_ALLOC_RAW && (k) <= RW_K_ALLOC_OBJ)
#define RW_IS_FREE(k) ((k) >= RW_K_FREE_RAW && (k) <= RW_K_FREE_OBJ)
#define RW_HAS_TEXT(k) ((k) == RW_K_EXCEPTION || (k) == RW_K_AUDIT || (k) == RW_K_UNCAUGHT)

/* Name of a kind as the docs and `rewind events` print it ("call", "alloc_obj").
 * Never NULL: unknown values give "?". */
const char *rw_kind_name(int kind);

/* A raw record: two words.
 *
 *   w0 bits 0..7   kind
 *   w0 bits 8..63  events, AUDIT, UNCAUGHT, THREAD: the tick (56 bits);
 *                  ALLOC_*: the size; BLOB: the text length in bytes
 *   w1             CALL: code id | (line << 32)   LINE: line     RETURN: 0
 *                  EXCEPTION, UNCAUGHT: exception type NameDef id
 *                  C_CALL, C_RETURN, C_EXCEPTION: CFuncDef id
 *                  ALLOC_*, FREE_*: address       THREAD: ThreadDef id
 *                  AUDIT: event NameDef id        BLOB: 0
 *                  GEN: the address of the frame (its _PyInterpreterFrame)
 *                  DROP: the spot (co_firstlineno << 32 | instruction offset + 1)
 *
 * EXCEPTION, AUDIT and UNCAUGHT records are always followed by one BLOB record and
 * then ceil(len / 16) records of raw text bytes (the last one zero-padded).
 */
typedef struct rw_rec {
    uint64_t w0;
    uint64_t w1;
} rw_rec;

#define RW_REC(kind, hi) (((uint64_t)(hi) << 8) | (uint64_t)(kind))
#define RW_REC_KIND(w0) ((unsigned)((w0) & 0xff))
#define RW_REC_HI(w0) ((w0) >> 8)
#define RW_TICK_MASK ((UINT64_C(1) << 56) - 1)

/* Largest text a BLOB may carry; longer strings are cut by the producer. */
#define RW_BLOB_MAX 4096

#endif
