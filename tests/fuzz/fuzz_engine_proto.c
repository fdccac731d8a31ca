/* Fuzz target for the engine protocol (replayer/engine/proto.h): the engine parses
 * whatever a client sends, the client whatever an engine sends. Each input is a byte
 * stream read as frames from a pipe with rw_eproto_recv (length bounds, short reads,
 * end of file), each frame's body also parsed by rw_eproto_parse directly, and every
 * message that parses is encoded again and must parse back to the same fields (the
 * round trip). Seeds: tests/fuzz/corpus/fuzz_engine_proto/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"

static void round_trip(const rw_eproto_msg *m)
{
    uint8_t *buf;
    size_t n;
    if (rw_eproto_encode(m, &buf, &n, NULL) != RW_OK)
        return;
    rw_eproto_msg b;
    if (n < 5 || rw_eproto_parse(buf + 4, n - 4, &b, NULL) != RW_OK)
        abort();
    if (b.type != m->type || b.pos != m->pos || b.op != m->op || b.frame != m->frame ||
        b.raised != m->raised || b.text_len != m->text_len ||
        memcmp(b.text, m->text, m->text_len))
        abort();
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rw_eproto_msg m;
    if (rw_eproto_parse(data, size, &m, NULL) == RW_OK)
        round_trip(&m);
    if (size > 60000)
        return 0; /* what a pipe holds without a reader */
    int fds[2];
    if (pipe(fds) != 0)
        return 0;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fds[1], data + off, size - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(fds[1]);
    for (int i = 0; i < 64; i++) {
        uint8_t *buf;
        rw_err err;
        if (rw_eproto_recv(fds[0], &buf, &m, &err) != RW_OK)
            break;
        round_trip(&m);
        free(buf);
    }
    close(fds[0]);
    return 0;
}
