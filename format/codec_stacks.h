/* Shadow stacks (private to format/): the per-thread stacks the encoder and the decoder
 * both keep, and the rules both apply to them.
 *
 * The encoder and the decoder keep the same shadow stacks by applying the same rules
 * (frame_open, frame_close, line_base) to the same records: line deltas are only
 * decodable because both sides agree on "the frame's previous line". Any change to
 * those rules is a format change. stacks_get, stacks_fini and stack_push are not
 * declared inline on purpose: the compiler keeps them out of line, as it did when
 * the codec was one file; the rules are inline (they run once per record).
 */
#ifndef RW_CODEC_STACKS_H
#define RW_CODEC_STACKS_H

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "codec.h"

/* Per-thread state both sides keep: the stack plus the line base used when a LINE
 * arrives with no Python frame on top (recording started inside a frame). */
typedef struct tstate {
    rw_stack st;
    uint32_t orphan_line;
    uint32_t overflow; /* frames opened beyond RW_STACK_MAX, not stored */
} tstate;

typedef struct stacks {
    tstate *t;       /* indexed by thread id */
    uint32_t n;      /* entries allocated */
} stacks;

__attribute__((unused)) static tstate *stacks_get(stacks *s, uint32_t thread)
{
    if (thread >= s->n) {
        uint32_t n = s->n ? s->n : 8;
        while (n <= thread) {
            if (n > (1u << 24))
                return NULL;
            n *= 2;
        }
        tstate *t = rw_realloc(s->t, (size_t)n * sizeof *t);
        if (!t)
            return NULL;
        memset(t + s->n, 0, (size_t)(n - s->n) * sizeof *t);
        for (uint32_t i = s->n; i < n; i++)
            t[i].st.thread = i;
        s->t = t;
        s->n = n;
    }
    return &s->t[thread];
}

__attribute__((unused)) static void stacks_fini(stacks *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        rw_free(s->t[i].st.frames);
    rw_free(s->t);
    s->t = NULL;
    s->n = 0;
}

__attribute__((unused)) static rw_frame *stack_push(rw_stack *st)
{
    if (st->depth == st->cap) {
        if (st->cap >= RW_STACK_MAX)
            return NULL;
        uint32_t cap = st->cap ? st->cap * 2 : 64;
        rw_frame *f = rw_realloc(st->frames, (size_t)cap * sizeof *f);
        if (!f)
            return NULL;
        st->frames = f;
        st->cap = cap;
    }
    rw_frame *f = &st->frames[st->depth++];
    memset(f, 0, sizeof *f);
    return f;
}

/* RETURN: pops the top frame if it is a Python frame (a RETURN with a C frame or
 * nothing on top pops nothing). Fills *out with the popped frame or zeros. */
static inline void stack_pop_py(rw_stack *st, rw_frame *out)
{
    if (st->depth && !st->frames[st->depth - 1].is_c) {
        *out = st->frames[--st->depth];
    } else {
        memset(out, 0, sizeof *out);
    }
}

/* C_RETURN / C_EXCEPTION: pops the top frame if it is a C frame. */
static inline void stack_pop_c(rw_stack *st, rw_frame *out)
{
    if (st->depth && st->frames[st->depth - 1].is_c) {
        *out = st->frames[--st->depth];
    } else {
        memset(out, 0, sizeof *out);
    }
}

/* CALL / C_CALL: the frame to fill, or NULL when the stack is full (deeper frames
 * are only counted, in overflow) or out of memory (*oom set). */
static inline rw_frame *frame_open(tstate *t, int *oom)
{
    if (t->overflow || t->st.depth >= RW_STACK_MAX) {
        t->overflow++;
        return NULL;
    }
    rw_frame *f = stack_push(&t->st);
    if (!f)
        *oom = 1;
    return f;
}

/* RETURN / C_RETURN / C_EXCEPTION: counted frames close first. */
static inline void frame_close(tstate *t, int is_c, rw_frame *out)
{
    if (t->overflow) {
        t->overflow--;
        memset(out, 0, sizeof *out);
    } else if (is_c) {
        stack_pop_c(&t->st, out);
    } else {
        stack_pop_py(&t->st, out);
    }
}

/* Where a LINE's previous line lives: the top Python frame, else (no Python frame on
 * top, or in a counted frame past RW_STACK_MAX) the orphan base. */
static inline uint32_t *line_base(tstate *t)
{
    rw_stack *st = &t->st;
    if (t->overflow)
        return &t->orphan_line;
    if (st->depth && !st->frames[st->depth - 1].is_c)
        return &st->frames[st->depth - 1].line;
    return &t->orphan_line;
}

/* The code the decoder gives a LINE event (fill_top): the innermost Python frame's,
 * 0 when there is none or frames were counted past RW_STACK_MAX. */
static inline uint32_t top_code(const tstate *t)
{
    if (t->overflow)
        return 0;
    for (uint32_t i = t->st.depth; i-- > 0;)
        if (!t->st.frames[i].is_c)
            return t->st.frames[i].code;
    return 0;
}

#endif
