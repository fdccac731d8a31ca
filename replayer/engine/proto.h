/* The engine protocol (docs/engine-protocol.md): the messages the front end
 * (client.c) and the engine process (inside/server.c) exchange over their pipe pair.
 *
 * A message is a frame: a 4-byte little-endian length n (1 <= n <= RW_EPROTO_MAX),
 * then n bytes: a type byte and its payload. Parsing is defensive (the engine reads
 * what a client sends, the client what a possibly broken engine sends): every length
 * is bounded, every payload checked against its type; the fuzz target
 * tests/fuzz/fuzz_engine_proto.c drives rw_eproto_parse. No Python, no recorder.
 */
#ifndef RW_ENGINE_PROTO_H
#define RW_ENGINE_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define RW_EPROTO_VERSION 1
#define RW_EPROTO_MAX (1u << 20) /* largest frame body: 1 MiB */

typedef enum rw_eproto_type {
    /* client -> engine */
    RW_EP_GOTO = 'G',    /* pos: run forwards to event pos and stop there */
    RW_EP_ASK = 'A',     /* op, frame, text: evaluate at the stop */
    RW_EP_QUIT = 'Q',    /* end the engine */
    /* engine -> client */
    RW_EP_READY = 'R',   /* pos = the recorded trace's events; text = the engine's version */
    RW_EP_STOPPED = 'S', /* pos: stopped in the hook of event pos */
    RW_EP_DIVERGED = 'D',/* pos, text: the first mismatch (report) */
    RW_EP_ENDED = 'X',   /* pos = events run, text: the program ended first */
    RW_EP_VALUE = 'V',   /* raised, text: an ASK's answer */
    RW_EP_ERROR = 'E',   /* text: the request could not be carried out */
    RW_EP_BLOCKED = 'B', /* pos = the event counter, text = the call's name: the sandbox
                          * stopped a system call and the engine ended (sandbox.h) */
} rw_eproto_type;

/* One message. text is borrowed (from the frame parsed) and need not be NUL-ended;
 * text_len bytes, none of them NUL. */
typedef struct rw_eproto_msg {
    uint8_t type;
    uint64_t pos;      /* GOTO, READY, STOPPED, DIVERGED, ENDED, BLOCKED */
    uint8_t op;        /* ASK: rw_engine_op */
    uint32_t frame;    /* ASK */
    uint8_t raised;    /* VALUE: 0 value, 1 raised, 2 more input wanted (interact) */
    const char *text;  /* ASK, READY, DIVERGED, ENDED, VALUE, ERROR, BLOCKED */
    size_t text_len;
} rw_eproto_msg;

/* Parses one frame body (after the length) into *m (pointers into body). RW_ECORRUPT
 * naming what is wrong: an unknown type, a payload of the wrong size, a NUL in text,
 * an op out of range. */
rw_code rw_eproto_parse(const uint8_t *body, size_t len, rw_eproto_msg *m, rw_err *err);

/* Encodes m as a whole frame (length included) into a new malloc'd buffer (*out,
 * *out_len; caller frees). Text longer than fits is cut. RW_ENOMEM. */
rw_code rw_eproto_encode(const rw_eproto_msg *m, uint8_t **out, size_t *out_len, rw_err *err);

/* Writes m to fd (the whole frame; EINTR retried). RW_EIO when the peer is gone. */
rw_code rw_eproto_send(int fd, const rw_eproto_msg *m, rw_err *err);

/* Reads one frame from fd into *buf (a new malloc'd body, caller frees, also on error
 * NULL) and parses it into *m, which points into *buf. RW_EIO on end of file (msg
 * "closed") or a read error, RW_ECORRUPT on a bad frame. */
rw_code rw_eproto_recv(int fd, uint8_t **buf, rw_eproto_msg *m, rw_err *err);

#endif
