/* Perfetto protobuf writer (perfetto.h).
 *
 * Protobuf wire format: a field is a key varint (number << 3 | wire type) and a
 * value, varint (type 0) or length-delimited (type 2: a varint length, then the
 * bytes). A Trace is nothing but its repeated field 1 (TracePacket), so packets can
 * be streamed one by one. Each message is built in its own buffer, inner ones first,
 * and copied into its parent as a length-delimited field. Field numbers are those of
 * Perfetto's protos (trace_packet.proto, track_event/track_event.proto,
 * track_event/track_descriptor.proto, process_descriptor.proto,
 * thread_descriptor.proto, interned_data/interned_data.proto).
 */
#include "perfetto.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"

/* Trace */
#define F_TRACE_PACKET 1
/* TracePacket */
#define F_PKT_TIMESTAMP 8
#define F_PKT_SEQUENCE_ID 10        /* trusted_packet_sequence_id */
#define F_PKT_TRACK_EVENT 11
#define F_PKT_INTERNED_DATA 12
#define F_PKT_SEQUENCE_FLAGS 13
#define F_PKT_TRACK_DESCRIPTOR 60
#define SEQ_INCREMENTAL_STATE_CLEARED 1
#define SEQ_NEEDS_INCREMENTAL_STATE 2
/* TrackDescriptor, ProcessDescriptor, ThreadDescriptor */
#define F_TD_UUID 1
#define F_TD_NAME 2
#define F_TD_PROCESS 3
#define F_TD_THREAD 4
#define F_TD_PARENT_UUID 5
#define F_PD_PID 1
#define F_PD_NAME 6
#define F_THD_PID 1
#define F_THD_TID 2
#define F_THD_NAME 5
/* TrackEvent */
#define F_TE_CATEGORY_IIDS 3
#define F_TE_TYPE 9
#define F_TE_NAME_IID 10
#define F_TE_TRACK_UUID 11
#define TYPE_SLICE_BEGIN 1
#define TYPE_SLICE_END 2
/* InternedData, EventCategory, EventName */
#define F_ID_EVENT_CATEGORIES 1
#define F_ID_EVENT_NAMES 2
#define F_IID 1
#define F_INAME 2

#define SEQUENCE 1
#define PROCESS_UUID 1
#define THREAD_UUID(tid) (0x100u + (uint64_t)(tid))

enum { WT_VARINT = 0, WT_LEN = 2 };

typedef struct buf {
    uint8_t *b;
    size_t n, cap;
} buf;

struct rw_pf {
    FILE *out;
    int64_t pid;
    int failed;
    buf pkt, msg, sub, sub2;   /* scratch: packet, its message, nested ones */
};

static void put(rw_pf *p, buf *b, const void *data, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n)
            cap *= 2;
        uint8_t *nb = realloc(b->b, cap);
        if (!nb) {
            p->failed = 1;
            return;
        }
        b->b = nb;
        b->cap = cap;
    }
    memcpy(b->b + b->n, data, n);
    b->n += n;
}

static void varint(rw_pf *p, buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t k = 0;
    do {
        tmp[k] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            tmp[k] |= 0x80;
        k++;
    } while (v);
    put(p, b, tmp, k);
}

static void f_uint(rw_pf *p, buf *b, uint32_t field, uint64_t v)
{
    varint(p, b, (uint64_t)field << 3 | WT_VARINT);
    varint(p, b, v);
}

static void f_bytes(rw_pf *p, buf *b, uint32_t field, const void *data, size_t n)
{
    varint(p, b, (uint64_t)field << 3 | WT_LEN);
    varint(p, b, n);
    put(p, b, data, n);
}

/* A string field. Protobuf strings must be UTF-8 and names from a trace need not be:
 * each invalid byte becomes U+FFFD, as the JSON export does (replayer/json.h). */
static void f_str(rw_pf *p, buf *b, uint32_t field, const char *s)
{
    size_t n = s ? strlen(s) : 0, i = 0, seq;
    while (i < n && (seq = rw_utf8_seq_len((const unsigned char *)s + i, n - i)) > 0)
        i += seq;
    if (i == n) {
        f_bytes(p, b, field, s ? s : "", n);
        return;
    }
    char small[512];
    char *t = n * 3 < sizeof small ? small : malloc(n * 3 + 1);
    if (!t) {
        f_bytes(p, b, field, "?", 1);
        return;
    }
    size_t o = 0;
    for (i = 0; i < n;) {
        seq = rw_utf8_seq_len((const unsigned char *)s + i, n - i);
        if (seq) {
            memcpy(t + o, s + i, seq);
            o += seq;
            i += seq;
        } else {
            memcpy(t + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    f_bytes(p, b, field, t, o);
    if (t != small)
        free(t);
}

/* Appends inner to b as field `field`, then empties inner. */
static void f_msg(rw_pf *p, buf *b, uint32_t field, buf *inner)
{
    f_bytes(p, b, field, inner->b, inner->n);
    inner->n = 0;
}

/* Writes p->pkt as one TracePacket of the trace, then empties it. */
static void flush_packet(rw_pf *p)
{
    uint8_t head[11];
    size_t k = 0;
    uint64_t v = p->pkt.n;
    head[k++] = F_TRACE_PACKET << 3 | WT_LEN;
    do {
        head[k] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            head[k] |= 0x80;
        k++;
    } while (v);
    if (!p->failed) {
        fwrite(head, 1, k, p->out);
        fwrite(p->pkt.b, 1, p->pkt.n, p->out);
    }
    p->pkt.n = 0;
}

rw_pf *rw_pf_new(FILE *out, int64_t pid, const char *name)
{
    rw_pf *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->out = out;
    p->pid = pid;
    /* interned_data { event_categories { iid name } x 2 } */
    static const char *const cats[] = {"python", "c"};
    for (int i = 0; i < 2; i++) {
        f_uint(p, &p->sub, F_IID, (uint64_t)i + 1);
        f_str(p, &p->sub, F_INAME, cats[i]);
        f_msg(p, &p->msg, F_ID_EVENT_CATEGORIES, &p->sub);
    }
    f_uint(p, &p->pkt, F_PKT_SEQUENCE_ID, SEQUENCE);
    f_uint(p, &p->pkt, F_PKT_SEQUENCE_FLAGS, SEQ_INCREMENTAL_STATE_CLEARED);
    f_msg(p, &p->pkt, F_PKT_INTERNED_DATA, &p->msg);
    /* track_descriptor { uuid process { pid process_name } } */
    f_uint(p, &p->sub, F_PD_PID, (uint64_t)pid);
    if (name)
        f_str(p, &p->sub, F_PD_NAME, name);
    f_uint(p, &p->msg, F_TD_UUID, PROCESS_UUID);
    f_msg(p, &p->msg, F_TD_PROCESS, &p->sub);
    f_msg(p, &p->pkt, F_PKT_TRACK_DESCRIPTOR, &p->msg);
    flush_packet(p);
    if (p->failed) {
        rw_pf_free(p);
        return NULL;
    }
    return p;
}

void rw_pf_free(rw_pf *p)
{
    if (!p)
        return;
    free(p->pkt.b);
    free(p->msg.b);
    free(p->sub.b);
    free(p->sub2.b);
    free(p);
}

void rw_pf_thread(rw_pf *p, uint32_t tid, const char *name)
{
    f_uint(p, &p->sub, F_THD_PID, (uint64_t)p->pid);
    f_uint(p, &p->sub, F_THD_TID, tid);
    if (name)
        f_str(p, &p->sub, F_THD_NAME, name);
    f_uint(p, &p->msg, F_TD_UUID, THREAD_UUID(tid));
    f_uint(p, &p->msg, F_TD_PARENT_UUID, PROCESS_UUID);
    f_msg(p, &p->msg, F_TD_THREAD, &p->sub);
    f_uint(p, &p->pkt, F_PKT_SEQUENCE_ID, SEQUENCE);
    f_msg(p, &p->pkt, F_PKT_TRACK_DESCRIPTOR, &p->msg);
    flush_packet(p);
}

static void event(rw_pf *p, uint32_t tid, uint64_t ts, int type, uint64_t name_iid,
                  const char *new_name, int cat)
{
    f_uint(p, &p->msg, F_TE_TYPE, (uint64_t)type);
    f_uint(p, &p->msg, F_TE_TRACK_UUID, THREAD_UUID(tid));
    if (type == TYPE_SLICE_BEGIN) {
        f_uint(p, &p->msg, F_TE_CATEGORY_IIDS, (uint64_t)cat + 1);
        f_uint(p, &p->msg, F_TE_NAME_IID, name_iid);
    }
    f_uint(p, &p->pkt, F_PKT_TIMESTAMP, ts);
    f_uint(p, &p->pkt, F_PKT_SEQUENCE_ID, SEQUENCE);
    f_uint(p, &p->pkt, F_PKT_SEQUENCE_FLAGS, SEQ_NEEDS_INCREMENTAL_STATE);
    f_msg(p, &p->pkt, F_PKT_TRACK_EVENT, &p->msg);
    if (new_name) {
        f_uint(p, &p->sub2, F_IID, name_iid);
        f_str(p, &p->sub2, F_INAME, new_name);
        f_msg(p, &p->sub, F_ID_EVENT_NAMES, &p->sub2);
        f_msg(p, &p->pkt, F_PKT_INTERNED_DATA, &p->sub);
    }
    flush_packet(p);
}

void rw_pf_begin(rw_pf *p, uint32_t tid, uint64_t ts, uint64_t name_iid, const char *new_name,
                 int cat)
{
    event(p, tid, ts, TYPE_SLICE_BEGIN, name_iid, new_name, cat);
}

void rw_pf_end(rw_pf *p, uint32_t tid, uint64_t ts)
{
    event(p, tid, ts, TYPE_SLICE_END, 0, NULL, 0);
}

int rw_pf_failed(const rw_pf *p)
{
    return p->failed;
}
