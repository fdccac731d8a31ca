/* The engine protocol's frames (proto.h, docs/engine-protocol.md). */
#include "proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define OP_MAX 12 /* the last rw_engine_op (client.h: RW_ENGINE_KEEP) */

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Bytes before the text of a message of type t, or -1 for an unknown type; *has_text
 * says whether a text may follow (else the payload is exactly that long). */
static int fixed_part(uint8_t t, int *has_text)
{
    *has_text = 1;
    switch (t) {
    case RW_EP_GOTO:
        *has_text = 0;
        return 8;
    case RW_EP_STOPPED: /* text: a note, once (docs/engine-protocol.md) */
        return 8;
    case RW_EP_QUIT:
        *has_text = 0;
        return 0;
    case RW_EP_ASK:
        return 5;
    case RW_EP_READY:
    case RW_EP_DIVERGED:
    case RW_EP_ENDED:
    case RW_EP_BLOCKED:
        return 8;
    case RW_EP_VALUE:
        return 1;
    case RW_EP_ERROR:
        return 0;
    default:
        return -1;
    }
}

rw_code rw_eproto_parse(const uint8_t *body, size_t len, rw_eproto_msg *m, rw_err *err)
{
    if (len < 1 || len > RW_EPROTO_MAX)
        return rw_err_set(err, RW_ECORRUPT, "engine message of %zu bytes", len);
    rw_eproto_msg x;
    memset(&x, 0, sizeof x);
    x.type = body[0];
    int has_text;
    int fixed = fixed_part(x.type, &has_text);
    if (fixed < 0)
        return rw_err_set(err, RW_ECORRUPT, "engine message of unknown type %u", body[0]);
    const uint8_t *p = body + 1;
    size_t n = len - 1;
    if (n < (size_t)fixed || (!has_text && n != (size_t)fixed))
        return rw_err_set(err, RW_ECORRUPT, "engine message '%c' of %zu bytes", x.type, n);
    switch (x.type) {
    case RW_EP_GOTO:
    case RW_EP_STOPPED:
    case RW_EP_READY:
    case RW_EP_DIVERGED:
    case RW_EP_ENDED:
    case RW_EP_BLOCKED:
        x.pos = get64(p);
        break;
    case RW_EP_ASK:
        x.op = p[0];
        x.frame = get32(p + 1);
        if (x.op > OP_MAX)
            return rw_err_set(err, RW_ECORRUPT, "engine request for unknown op %u", x.op);
        break;
    case RW_EP_VALUE:
        x.raised = p[0];
        if (x.raised > 2)
            return rw_err_set(err, RW_ECORRUPT, "engine value with flag %u", x.raised);
        break;
    default:
        break;
    }
    x.text = (const char *)p + fixed;
    x.text_len = n - (size_t)fixed;
    if (x.text_len && memchr(x.text, 0, x.text_len))
        return rw_err_set(err, RW_ECORRUPT, "engine message '%c' with a NUL in its text",
                          x.type);
    if (!has_text)
        x.text = "";
    *m = x;
    return RW_OK;
}

rw_code rw_eproto_encode(const rw_eproto_msg *m, uint8_t **out, size_t *out_len, rw_err *err)
{
    int has_text;
    int fixed = fixed_part(m->type, &has_text);
    if (fixed < 0)
        return rw_err_set(err, RW_EINVAL, "engine message of unknown type %u", m->type);
    size_t tl = has_text ? m->text_len : 0;
    if (tl > RW_EPROTO_MAX - 1 - (size_t)fixed)
        tl = RW_EPROTO_MAX - 1 - (size_t)fixed;
    size_t body = 1 + (size_t)fixed + tl;
    uint8_t *b = malloc(4 + body);
    if (!b)
        return rw_err_set(err, RW_ENOMEM, "out of memory for an engine message");
    put32(b, (uint32_t)body);
    b[4] = m->type;
    uint8_t *p = b + 5;
    switch (m->type) {
    case RW_EP_GOTO:
    case RW_EP_STOPPED:
    case RW_EP_READY:
    case RW_EP_DIVERGED:
    case RW_EP_ENDED:
    case RW_EP_BLOCKED:
        put64(p, m->pos);
        break;
    case RW_EP_ASK:
        p[0] = m->op;
        put32(p + 1, m->frame);
        break;
    case RW_EP_VALUE:
        p[0] = m->raised;
        break;
    default:
        break;
    }
    if (tl)
        memcpy(p + fixed, m->text, tl);
    /* A NUL would make the frame unreadable: replace any (text from a program). */
    for (size_t i = 0; i < tl; i++)
        if (!p[fixed + i])
            p[fixed + i] = '?';
    *out = b;
    *out_len = 4 + body;
    return RW_OK;
}

static rw_code write_all(int fd, const uint8_t *p, size_t n, rw_err *err)
{
    while (n) {
        /* A socket (the client's end) must not raise SIGPIPE in the debugger when the
         * engine is gone; a pipe (an engine's end) may: the engine dies with its client. */
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == ENOTSOCK)
            w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return rw_err_set(err, RW_EIO, "the engine's pipe is closed");
        p += w;
        n -= (size_t)w;
    }
    return RW_OK;
}

/* 1 read all, 0 end of file before any byte, -1 error or end in the middle. */
static int read_all(int fd, uint8_t *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return got == 0 && r == 0 ? 0 : -1;
        got += (size_t)r;
    }
    return 1;
}

rw_code rw_eproto_send(int fd, const rw_eproto_msg *m, rw_err *err)
{
    uint8_t *b;
    size_t n;
    RW_TRY(rw_eproto_encode(m, &b, &n, err));
    rw_code rc = write_all(fd, b, n, err);
    free(b);
    return rc;
}

rw_code rw_eproto_recv(int fd, uint8_t **buf, rw_eproto_msg *m, rw_err *err)
{
    *buf = NULL;
    uint8_t h[4];
    int r = read_all(fd, h, 4);
    if (r <= 0)
        return rw_err_set(err, RW_EIO, r == 0 ? "closed" : "the engine's pipe broke");
    uint32_t n = get32(h);
    if (n < 1 || n > RW_EPROTO_MAX)
        return rw_err_set(err, RW_ECORRUPT, "engine message of %u bytes", n);
    uint8_t *b = malloc(n);
    if (!b)
        return rw_err_set(err, RW_ENOMEM, "out of memory for an engine message");
    if (read_all(fd, b, n) != 1) {
        free(b);
        return rw_err_set(err, RW_EIO, "the engine's pipe broke in a message");
    }
    rw_code rc = rw_eproto_parse(b, n, m, err);
    if (rc != RW_OK) {
        free(b);
        return rc;
    }
    *buf = b;
    return RW_OK;
}
