/* Check suite for format/vocab.c and the reader's one id-limit rule.
 *
 * Definition lookups get id 0, the last id, one past it and UINT32_MAX on a
 * hand-made table and must answer the documented fallback without reading outside it
 * (ASan checks the reads). The time base gets missing and unusable metadata; path
 * normalisation is compared with Python's posixpath.normpath on a table of cases.
 * Hand-built files check that a chunk using an id defined only after it is rejected
 * by every way of decoding it (cursor, rw_reader_decoder_new, recovery scan).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "container.h"
#include "reader.h"
#include "testutil.h"
#include "vocab.h"

/* ---- definitions ------------------------------------------------------------------ */

typedef struct tables {
    Rewind__FileDef f[3];
    Rewind__CodeDef c[3];
    Rewind__CFuncDef cf[2];
    Rewind__ThreadDef t[3];
    Rewind__NameDef n[2];
    Rewind__FileDef *fp[3];
    Rewind__CodeDef *cp[3];
    Rewind__CFuncDef *cfp[2];
    Rewind__ThreadDef *tp[3];
    Rewind__NameDef *np[2];
    rw_defs d;
} tables;

/* Files 1 (/a.py) and 2 (empty path); codes 1 (f in /a.py, line 7) and 2 (empty
 * names, file 9: past the table); cfunc 1; threads 1 (MainThread) and 2 (no name);
 * name 1. Index 0 of each is the reader's kind of placeholder. */
static void make_tables(tables *t)
{
    memset(t, 0, sizeof *t);
    for (int i = 0; i < 3; i++) {
        Rewind__FileDef f = REWIND__FILE_DEF__INIT;
        Rewind__CodeDef c = REWIND__CODE_DEF__INIT;
        Rewind__ThreadDef th = REWIND__THREAD_DEF__INIT;
        t->f[i] = f;
        t->c[i] = c;
        t->t[i] = th;
        t->fp[i] = &t->f[i];
        t->cp[i] = &t->c[i];
        t->tp[i] = &t->t[i];
    }
    for (int i = 0; i < 2; i++) {
        Rewind__CFuncDef cf = REWIND__CFUNC_DEF__INIT;
        Rewind__NameDef n = REWIND__NAME_DEF__INIT;
        t->cf[i] = cf;
        t->n[i] = n;
        t->cfp[i] = &t->cf[i];
        t->np[i] = &t->n[i];
    }
    t->f[1].id = 1;
    t->f[1].path = "/a.py";
    t->f[2].id = 2;
    t->c[1].id = 1;
    t->c[1].file = 1;
    t->c[1].name = "f";
    t->c[1].qualname = "C.f";
    t->c[1].first_line = 7;
    t->c[2].id = 2;
    t->c[2].file = 9;
    t->c[2].first_line = 3;
    t->cf[1].id = 1;
    t->cf[1].label = "{built-in method builtins.len}";
    t->t[1].id = 1;
    t->t[1].name = "MainThread";
    t->t[2].id = 2;
    t->n[1].id = 1;
    t->n[1].text = "ValueError";
    rw_defs d = {t->fp, 3, t->cp, 3, t->cfp, 2, t->tp, 3, t->np, 2};
    t->d = d;
}

START_TEST(lookups_are_bounded)
{
    tables t;
    make_tables(&t);
    const rw_defs *d = &t.d;
    /* Id 0 is the placeholder, the last id its definition, past it NULL. */
    ck_assert_ptr_eq(rw_defs_code(d, 0), &t.c[0]);
    ck_assert_ptr_eq(rw_defs_code(d, 2), &t.c[2]);
    ck_assert_ptr_null(rw_defs_code(d, 3));
    ck_assert_ptr_null(rw_defs_code(d, UINT32_MAX));
    ck_assert_ptr_eq(rw_defs_file(d, 2), &t.f[2]);
    ck_assert_ptr_null(rw_defs_file(d, 3));
    ck_assert_ptr_eq(rw_defs_cfunc(d, 1), &t.cf[1]);
    ck_assert_ptr_null(rw_defs_cfunc(d, 2));
    ck_assert_ptr_eq(rw_defs_thread(d, 0), &t.t[0]);
    ck_assert_ptr_null(rw_defs_thread(d, 1u << 31));
    ck_assert_ptr_eq(rw_defs_name(d, 1), &t.n[1]);
    ck_assert_ptr_null(rw_defs_name(d, 2));
    /* No tables at all. */
    ck_assert_ptr_null(rw_defs_code(NULL, 1));
    ck_assert_ptr_null(rw_defs_code_name(NULL, 1));
    ck_assert_ptr_null(rw_defs_thread_name(NULL, NULL, 1));
    ck_assert_uint_eq(rw_defs_code_first_line(NULL, 1), 0);
}
END_TEST

START_TEST(texts_are_null_when_unknown)
{
    tables t;
    make_tables(&t);
    const rw_defs *d = &t.d;
    ck_assert_str_eq(rw_defs_code_path(d, 1), "/a.py");
    ck_assert_str_eq(rw_defs_code_name(d, 1), "f");
    ck_assert_str_eq(rw_defs_code_qualname(d, 1), "C.f");
    ck_assert_uint_eq(rw_defs_code_first_line(d, 1), 7);
    ck_assert_uint_eq(rw_defs_code_file(d, 1), 1);
    /* Code 2: empty names, a file past the table. */
    ck_assert_ptr_null(rw_defs_code_name(d, 2));
    ck_assert_ptr_null(rw_defs_code_qualname(d, 2));
    ck_assert_uint_eq(rw_defs_code_file(d, 2), 0);
    ck_assert_ptr_null(rw_defs_code_path(d, 2));
    ck_assert_uint_eq(rw_defs_code_first_line(d, 2), 3);
    /* Id 0 and ids past the tables. */
    for (uint32_t id = 0; id < 2; id++) {
        uint32_t bad = id ? 3 : 0;
        ck_assert_ptr_null(rw_defs_code_path(d, bad));
        ck_assert_ptr_null(rw_defs_code_name(d, bad));
        ck_assert_ptr_null(rw_defs_code_qualname(d, bad));
        ck_assert_uint_eq(rw_defs_code_first_line(d, bad), 0);
        ck_assert_uint_eq(rw_defs_code_file(d, bad), 0);
        ck_assert_ptr_null(rw_defs_file_path(d, bad));
    }
    ck_assert_ptr_null(rw_defs_code_path(d, UINT32_MAX));
    ck_assert_ptr_null(rw_defs_file_path(d, 2)); /* empty path */
    ck_assert_str_eq(rw_defs_cfunc_label(d, 1), "{built-in method builtins.len}");
    ck_assert_ptr_null(rw_defs_cfunc_label(d, 0));
    ck_assert_ptr_null(rw_defs_cfunc_label(d, 2));
    ck_assert_str_eq(rw_defs_name_text(d, 1), "ValueError");
    ck_assert_ptr_null(rw_defs_name_text(d, 0));
    ck_assert_ptr_null(rw_defs_name_text(d, UINT32_MAX));
}
END_TEST

START_TEST(thread_names_prefer_the_final_one)
{
    tables t;
    make_tables(&t);
    const rw_defs *d = &t.d;
    ck_assert_str_eq(rw_defs_thread_name(d, NULL, 1), "MainThread");
    ck_assert_ptr_null(rw_defs_thread_name(d, NULL, 2));
    ck_assert_ptr_null(rw_defs_thread_name(d, NULL, 0));
    ck_assert_ptr_null(rw_defs_thread_name(d, NULL, 3));
    Rewind__ThreadDef f1 = REWIND__THREAD_DEF__INIT, f2 = REWIND__THREAD_DEF__INIT,
                      f9 = REWIND__THREAD_DEF__INIT;
    f1.id = 1; /* final name empty: the defined one stays */
    f2.id = 2;
    f2.name = "worker";
    f9.id = 9; /* a thread the tables do not have */
    f9.name = "ghost";
    Rewind__ThreadDef *fin[] = {&f1, &f2, &f9};
    Rewind__RunEnd end = REWIND__RUN_END__INIT;
    end.n_threads = 3;
    end.threads = fin;
    ck_assert_str_eq(rw_defs_thread_name(d, &end, 1), "MainThread");
    ck_assert_str_eq(rw_defs_thread_name(d, &end, 2), "worker");
    ck_assert_str_eq(rw_defs_thread_name(d, &end, 9), "ghost");
    ck_assert_ptr_null(rw_defs_thread_name(d, &end, 3));
}
END_TEST

/* ---- time base -------------------------------------------------------------------- */

START_TEST(time_base_fallbacks)
{
    rw_timebase tb = rw_timebase_of(NULL, 0);
    ck_assert_uint_eq(tb.start_tick, 0);
    ck_assert(tb.ns_per_tick == 1.0);
    tb = rw_timebase_of(NULL, 500);
    ck_assert_uint_eq(tb.start_tick, 500);

    Rewind__Metadata m = REWIND__METADATA__INIT;
    m.start_tick = 1000;
    m.ns_per_tick = 2.5;
    tb = rw_timebase_of(&m, 500);
    ck_assert_uint_eq(tb.start_tick, 1000); /* metadata wins over the first chunk */
    ck_assert(tb.ns_per_tick == 2.5);
    ck_assert(rw_timebase_ns(&tb, 1100) == 250.0);
    ck_assert(rw_timebase_ns(&tb, 900) == -250.0);
    ck_assert(rw_timebase_span_ns(&tb, 4) == 10.0);
    ck_assert(rw_timebase_ticks(&tb, 10.0) == 4.0);
    ck_assert_uint_eq(rw_timebase_tick_at(&tb, 250.0), 1100);
    ck_assert_uint_eq(rw_timebase_tick_at(&tb, 251.0), 1100); /* truncated */
    ck_assert_uint_eq(rw_timebase_tick_at(&tb, 0), 1000);
    ck_assert_uint_eq(rw_timebase_tick_at(&tb, -5), 1000);
    ck_assert_uint_eq(rw_timebase_tick_at(&tb, NAN), 1000);
    ck_assert_uint_eq(rw_timebase_tick_at(&tb, 1e30), UINT64_MAX);
    ck_assert_uint_eq(rw_timebase_tick_at(&tb, INFINITY), UINT64_MAX);
    rw_timebase late = {UINT64_MAX - 10, 1.0}; /* start + ticks would wrap */
    ck_assert_uint_eq(rw_timebase_tick_at(&late, 5.0), UINT64_MAX - 5);
    ck_assert_uint_eq(rw_timebase_tick_at(&late, 100.0), UINT64_MAX);

    /* start_tick 0 (absent): the first chunk's; unusable calibrations read in ticks. */
    m.start_tick = 0;
    double bad[] = {0.0, -1.0, NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        m.ns_per_tick = bad[i];
        tb = rw_timebase_of(&m, 40);
        ck_assert_uint_eq(tb.start_tick, 40);
        ck_assert(tb.ns_per_tick == 1.0);
        ck_assert(rw_timebase_ns(&tb, 50) == 10.0);
    }
}
END_TEST

/* ---- paths ------------------------------------------------------------------------ */

START_TEST(normpath_is_posixpath)
{
    /* Python 3.11: posixpath.normpath(case[0]) == case[1]. */
    static const char *cases[][2] = {
        {"", "."},           {".", "."},
        {"/", "/"},          {"//", "//"},
        {"///", "/"},        {"//a//b", "//a/b"},
        {"///a/b", "/a/b"},  {"a/b/../c", "a/c"},
        {"../a", "../a"},    {"a/../../b", "../b"},
        {"../../a", "../../a"}, {"/../a", "/a"},
        {"/a/./b/.", "/a/b"}, {"a/..", "."},
        {"./", "."},         {"a//b/", "a/b"},
        {"/a/b/../../..", "/"}, {"x/../y/../..", ".."},
        {".../a", ".../a"},  {"..a/b/..", "..a"},
        {"//../x", "//x"},   {"/a/b/c/../../d", "/a/d"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *n = rw_path_normpath(cases[i][0]);
        ck_assert_ptr_nonnull(n);
        ck_assert_msg(!strcmp(n, cases[i][1]), "normpath(\"%s\") = \"%s\", want \"%s\"",
                      cases[i][0], n, cases[i][1]);
        free(n);
    }
    char *n = rw_path_normpath(NULL);
    ck_assert_str_eq(n, ".");
    free(n);
}
END_TEST

START_TEST(abspath_joins_the_recording_cwd)
{
    static const char *cases[][3] = {
        {"prog.py", "/home/u", "/home/u/prog.py"},
        {"../x/./y.py", "/home/u/", "/home/x/y.py"},
        {"/abs/../p.py", "/home/u", "/p.py"},
        {"", "/home/u", "/home/u"},
        {"rel.py", "", "rel.py"},
        {"rel/../r.py", NULL, "r.py"},
        {"a.py", "//srv", "//srv/a.py"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *n = rw_path_abspath(cases[i][0], cases[i][1]);
        ck_assert_ptr_nonnull(n);
        ck_assert_msg(!strcmp(n, cases[i][2]), "abspath(\"%s\", \"%s\") = \"%s\", want \"%s\"",
                      cases[i][0], cases[i][1] ? cases[i][1] : "(null)", n, cases[i][2]);
        free(n);
    }
}
END_TEST

/* ---- the one id-limit rule ---------------------------------------------------------- */

typedef struct fbuf {
    uint8_t *p;
    size_t n;
} fbuf;

static uint64_t append_frame(fbuf *b, unsigned type, const void *payload, size_t len)
{
    uint8_t *f;
    size_t flen;
    rw_err err;
    ck_assert_int_eq(rw_frame_build(type, payload, len, 0, &f, &flen, &err), RW_OK);
    uint64_t off = b->n;
    b->p = realloc(b->p, b->n + flen);
    memcpy(b->p + b->n, f, flen);
    b->n += flen;
    free(f);
    return off;
}

static uint64_t append_msg(fbuf *b, unsigned type, const ProtobufCMessage *m)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *p = malloc(len ? len : 1);
    protobuf_c_message_pack(m, p);
    uint64_t off = append_frame(b, type, p, len);
    free(p);
    return off;
}

/* One chunk: thread 1 calls code `code` (first line 1) at line 2 and returns. */
static uint8_t *make_chunk(uint32_t code, size_t *len, rw_chunk_info *info)
{
    rw_encoder *e = rw_encoder_new(0);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(rw_encoder_def_code(e, code, 1), RW_OK);
    rw_rec recs[] = {
        {RW_REC(RW_K_THREAD, 0), 1},
        {RW_REC(RW_K_CALL, 10), code | ((uint64_t)2 << 32)},
        {RW_REC(RW_K_LINE, 11), 3},
        {RW_REC(RW_K_RETURN, 12), 0},
    };
    size_t used;
    rw_err err;
    uint8_t *out = NULL;
    ck_assert_int_eq(rw_encoder_feed(e, recs, 4, 1u << 20, &used, &err), RW_OK);
    ck_assert_uint_eq(used, 4);
    ck_assert_int_eq(rw_encoder_finish(e, &out, len, info, &err), RW_OK);
    info->filter = NULL;
    info->filter_len = 0;
    rw_encoder_free(e);
    return out;
}

/* Metadata, definitions of file 1, thread 1 and codes 1..ncodes_before, a chunk
 * calling code `code`, then definitions of the codes up to ncodes_total; with an index
 * and trailer when indexed. */
static fbuf make_file(uint32_t code, uint32_t ncodes_before, uint32_t ncodes_total, int indexed)
{
    fbuf b = {malloc(RW_HEADER_LEN), RW_HEADER_LEN};
    rw_header_encode(b.p, 7);
    Rewind__IndexEntry ent[4];
    Rewind__IndexEntry *entp[4];
    size_t nent = 0;
    for (size_t i = 0; i < 4; i++) {
        Rewind__IndexEntry e = REWIND__INDEX_ENTRY__INIT;
        ent[i] = e;
        entp[i] = &ent[i];
    }
    Rewind__Metadata meta = REWIND__METADATA__INIT;
    meta.start_tick = 1;
    meta.ns_per_tick = 1.0;
    uint64_t mark = b.n;
    ent[nent].type = RW_FRAME_METADATA;
    ent[nent].offset = append_msg(&b, RW_FRAME_METADATA, &meta.base);
    ent[nent++].stored_len = (uint32_t)(b.n - mark - RW_FRAME_HEADER_LEN);

    Rewind__FileDef f1 = REWIND__FILE_DEF__INIT;
    f1.id = 1;
    f1.path = "/p.py";
    Rewind__ThreadDef t1 = REWIND__THREAD_DEF__INIT;
    t1.id = 1;
    Rewind__CodeDef cd[8];
    Rewind__CodeDef *cdp[8];
    for (uint32_t i = 0; i < 8; i++) {
        Rewind__CodeDef c = REWIND__CODE_DEF__INIT;
        cd[i] = c;
        cd[i].id = i + 1;
        cd[i].file = 1;
        cd[i].first_line = 1;
        cdp[i] = &cd[i];
    }
    Rewind__FileDef *fp[] = {&f1};
    Rewind__ThreadDef *tp[] = {&t1};
    Rewind__Definitions d1 = REWIND__DEFINITIONS__INIT;
    d1.n_files = 1;
    d1.files = fp;
    d1.n_threads = 1;
    d1.threads = tp;
    d1.n_codes = ncodes_before;
    d1.codes = cdp;
    mark = b.n;
    ent[nent].type = RW_FRAME_DEFINITIONS;
    ent[nent].offset = append_msg(&b, RW_FRAME_DEFINITIONS, &d1.base);
    ent[nent++].stored_len = (uint32_t)(b.n - mark - RW_FRAME_HEADER_LEN);

    size_t clen;
    rw_chunk_info info;
    uint8_t *chunk = make_chunk(code, &clen, &info);
    mark = b.n;
    ent[nent].type = RW_FRAME_CHUNK;
    ent[nent].offset = append_frame(&b, RW_FRAME_CHUNK, chunk, clen);
    ent[nent].stored_len = (uint32_t)(b.n - mark - RW_FRAME_HEADER_LEN);
    ent[nent].first_event = info.first_event;
    ent[nent].event_count = info.event_count;
    ent[nent].record_count = info.record_count;
    ent[nent].first_tick = info.first_tick;
    ent[nent++].last_tick = info.last_tick;
    free(chunk);

    if (ncodes_total > ncodes_before) {
        Rewind__Definitions d2 = REWIND__DEFINITIONS__INIT;
        d2.n_codes = ncodes_total - ncodes_before;
        d2.codes = cdp + ncodes_before;
        mark = b.n;
        ent[nent].type = RW_FRAME_DEFINITIONS;
        ent[nent].offset = append_msg(&b, RW_FRAME_DEFINITIONS, &d2.base);
        ent[nent++].stored_len = (uint32_t)(b.n - mark - RW_FRAME_HEADER_LEN);
    }
    if (indexed) {
        Rewind__Index ix = REWIND__INDEX__INIT;
        ix.n_frames = nent;
        ix.frames = entp;
        ix.total_events = info.event_count;
        ix.total_records = info.record_count;
        uint64_t ioff = append_msg(&b, RW_FRAME_INDEX, &ix.base);
        b.p = realloc(b.p, b.n + RW_TRAILER_LEN);
        rw_trailer_encode(b.p + b.n, ioff);
        b.n += RW_TRAILER_LEN;
    }
    return b;
}

/* Reads every record of r through a cursor: 1 when all decoded, 0 on an error
 * (whose message is in err). */
static int read_all(const rw_reader *r, rw_err *err)
{
    rw_cursor *c;
    ck_assert_int_eq(rw_cursor_new(r, 0, SIZE_MAX, &c, err), RW_OK);
    rw_event ev;
    int rc;
    while ((rc = rw_cursor_next(c, &ev, err)) == 1)
        ;
    rw_cursor_free(c);
    return rc == 0;
}

START_TEST(chunk_limits_are_what_precedes_the_chunk)
{
    for (int indexed = 0; indexed < 2; indexed++) {
        /* Code 2 is defined before the chunk: every reader accepts it. */
        fbuf b = make_file(2, 2, 3, indexed);
        rw_reader *r = NULL;
        rw_err err = {0};
        ck_assert_int_eq(rw_reader_open_mem(b.p, b.n, "ok.rwd", &r, &err), RW_OK);
        ck_assert_int_eq(rw_reader_recovery(r)->used, !indexed);
        ck_assert_uint_eq(rw_reader_nchunks(r), 1);
        ck_assert_uint_eq(rw_reader_defs(r)->ncodes, 4);
        rw_id_limits lim;
        rw_reader_chunk_limits(r, 0, &lim);
        ck_assert_uint_eq(lim.codes, 2); /* not 3: code 3 comes after the chunk */
        ck_assert_uint_eq(lim.cfuncs, 0);
        ck_assert_uint_eq(lim.threads, 1);
        ck_assert_uint_eq(lim.names, 0);
        ck_assert_ptr_nonnull(lim.code_first_line);
        ck_assert_uint_eq(lim.code_first_line[2], 1);
        ck_assert(read_all(r, &err));
        rw_reader_free(r);
        free(b.p);

        /* Code 3 is only defined after the chunk that calls it. */
        b = make_file(3, 2, 3, indexed);
        ck_assert_int_eq(rw_reader_open_mem(b.p, b.n, "late.rwd", &r, &err), RW_OK);
        if (!indexed) {
            /* The recovery scan decodes the chunk and stops there. */
            ck_assert_int_eq(rw_reader_recovery(r)->used, 1);
            ck_assert_uint_eq(rw_reader_nchunks(r), 0);
            ck_assert_msg(strstr(rw_reader_recovery(r)->why, "call code id out of range"),
                          "%s", rw_reader_recovery(r)->why);
        } else {
            ck_assert_uint_eq(rw_reader_nchunks(r), 1);
            /* The cursor and a decoder made by rw_reader_decoder_new both refuse it. */
            ck_assert(!read_all(r, &err));
            ck_assert_int_eq(err.code, RW_ECORRUPT);
            ck_assert_msg(strstr(err.msg, "call code id out of range"), "%s", err.msg);
            rw_chunk *c = NULL;
            ck_assert_int_eq(rw_reader_load_chunk(r, 0, &c, &err), RW_OK);
            rw_decoder *d = NULL;
            ck_assert_int_eq(rw_reader_decoder_new(r, 0, c, &d, &err), RW_OK);
            rw_event ev;
            int rc;
            while ((rc = rw_decoder_next(d, &ev, &err)) == 1)
                ;
            ck_assert_int_eq(rc, -1);
            ck_assert_msg(strstr(err.msg, "call code id out of range"), "%s", err.msg);
            /* Sticky. */
            ck_assert_int_eq(rw_decoder_next(d, &ev, &err), -1);
            ck_assert_int_eq(err.code, RW_ECORRUPT);
            rw_decoder_free(d);
            ck_assert_int_eq(rw_reader_decoder_new(r, 1, c, &d, &err), RW_EINVAL);
            rw_chunk_free(c);
        }
        rw_reader_free(r);
        free(b.p);
    }
}
END_TEST

START_TEST(reader_time_base)
{
    fbuf b = make_file(1, 1, 1, 1);
    rw_reader *r = NULL;
    rw_err err = {0};
    ck_assert_int_eq(rw_reader_open_mem(b.p, b.n, "t.rwd", &r, &err), RW_OK);
    rw_timebase tb = rw_reader_timebase(r);
    ck_assert_uint_eq(tb.start_tick, 1);
    ck_assert(tb.ns_per_tick == 1.0);
    ck_assert(rw_reader_tick_ns(r, 11) == 10.0);
    rw_reader_free(r);
    free(b.p);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {lookups_are_bounded, texts_are_null_when_unknown,
                            thread_names_prefer_the_final_one, time_base_fallbacks,
                            normpath_is_posixpath, abspath_joins_the_recording_cwd,
                            chunk_limits_are_what_precedes_the_chunk, reader_time_base};
    return rw_test_main("vocab", "vocab", 0, tests, RW_TEST_N(tests));
}
