/* rewind verify FILE: checks every frame's CRC and decodes every chunk record by
 * record, then prints one line: "FILE: OK, ..." (exit 0) or what is damaged and
 * what could still be read (exit 1). */
#include "commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "reader.h"
#include "scan.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: rewind verify FILE\n\n"
                 "Check a trace: the header, every frame's CRC, the index, and every chunk\n"
                 "decoded record by record. Prints 'FILE: OK, ...' and exits 0 when the trace\n"
                 "is intact; otherwise says what was damaged and how much is still readable,\n"
                 "and exits 1.\n\n"
                 "options:\n"
                 "  -h, --help  show this help\n");
}

/* Walks the frames from the header up to `limit` bytes, checking each frame
 * header and payload CRC (non-chunk payloads are also decompressed; chunks are
 * decompressed by the reader pass). Counts frames in *nframes. */
static rw_code walk_frames(const char *path, uint64_t limit, uint64_t *nframes, rw_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return rw_err_set(err, RW_EIO, "%s: %s", path, strerror(errno));
    rw_code rc = RW_OK;
    uint64_t off = RW_HEADER_LEN, n = 0;
    uint8_t *buf = NULL;
    if (fseeko(f, (off_t)off, SEEK_SET) != 0)
        rc = rw_err_set(err, RW_EIO, "%s: %s", path, strerror(errno));
    while (rc == RW_OK && limit - off >= RW_FRAME_HEADER_LEN) {
        uint8_t hb[RW_FRAME_HEADER_LEN];
        rw_frame_header h;
        rw_err e = {0};
        if (fread(hb, 1, sizeof hb, f) != sizeof hb) {
            rc = rw_err_set(err, RW_EIO, "%s: read error at offset %llu", path,
                            (unsigned long long)off);
            break;
        }
        if (rw_frame_header_decode(hb, &h, &e) != RW_OK) {
            rc = rw_err_set(err, e.code, "%s: frame %llu at offset %llu: %s", path,
                            (unsigned long long)n, (unsigned long long)off, e.msg);
            break;
        }
        if (h.stored_len > limit - off - RW_FRAME_HEADER_LEN) {
            rc = rw_err_set(err, RW_ECORRUPT, "%s: frame %llu at offset %llu: truncated", path,
                            (unsigned long long)n, (unsigned long long)off);
            break;
        }
        uint8_t *nb = realloc(buf, h.stored_len ? h.stored_len : 1);
        if (!nb) {
            rc = rw_err_set(err, RW_ENOMEM, "%s: out of memory", path);
            break;
        }
        buf = nb;
        if (fread(buf, 1, h.stored_len, f) != h.stored_len) {
            rc = rw_err_set(err, RW_EIO, "%s: read error at offset %llu", path,
                            (unsigned long long)off);
            break;
        }
        if (h.type == RW_FRAME_CHUNK) {
            uint32_t crc = rw_crc32c(0, buf, h.stored_len);
            if (crc != h.payload_crc)
                rw_err_set(&e, RW_ECORRUPT, "bad CRC (stored %08x, computed %08x)",
                           h.payload_crc, crc);
        } else {
            uint8_t *raw = NULL;
            rw_frame_payload_decode(&h, buf, &raw, &e);
            free(raw);
        }
        if (e.code != RW_OK) {
            rc = rw_err_set(err, e.code, "%s: frame %llu at offset %llu: %s", path,
                            (unsigned long long)n, (unsigned long long)off, e.msg);
            break;
        }
        off += RW_FRAME_HEADER_LEN + h.stored_len;
        n++;
    }
    if (rc == RW_OK && off != limit)
        rc = rw_err_set(err, RW_ECORRUPT, "%s: %llu stray bytes at offset %llu, before the trailer",
                        path, (unsigned long long)(limit - off), (unsigned long long)off);
    free(buf);
    fclose(f);
    if (rc == RW_OK)
        *nframes = n;
    return rc;
}

/* Decodes every record of every chunk; counts them. */
static rw_code decode_all(const rw_reader *r, uint64_t *events, uint64_t *records, rw_err *err)
{
    rw_cursor *c = NULL;
    RW_TRY(rw_cursor_new(r, 0, SIZE_MAX, &c, err));
    rw_event ev;
    int rc;
    uint64_t ne = 0, nr = 0;
    while ((rc = rw_cursor_next(c, &ev, err)) == 1) {
        nr++;
        ne += RW_IS_EVENT(ev.kind) ? 1 : 0;
    }
    rw_cursor_free(c);
    *events = ne;
    *records = nr;
    return rc < 0 ? (err ? err->code : RW_ECORRUPT) : RW_OK;
}

int rw_cmd_verify(int argc, char **argv)
{
    const char *path = NULL;
    static const char *const argnames[] = {"the trace FILE"};
    rw_cmdline cl = {.cmd = "verify", .usage = usage, .args = &path, .maxargs = 1,
                     .argnames = argnames, .nrequired = 1};
    int go = rw_opts_parse(&cl, argc, argv);
    if (go != RW_OPTS_GO)
        return go;

    rw_reader *r = NULL;
    rw_err err = {0};
    if (rw_reader_open(path, &r, &err) != RW_OK)
        return rw_cli_fail("verify", &err);
    const rw_recovery *rec = rw_reader_recovery(r);
    uint64_t limit = rec->used ? rec->good_bytes : rw_reader_file_size(r) - RW_TRAILER_LEN;
    uint64_t nframes = 0, events = 0, records = 0;
    rw_code rc = walk_frames(path, limit, &nframes, &err);
    if (rc == RW_OK)
        rc = decode_all(r, &events, &records, &err);
    if (rc == RW_OK && (events != rw_reader_nevents(r) || records != rw_reader_nrecords(r)))
        rc = rw_err_set(&err, RW_ECORRUPT,
                        "%s: the chunks hold %llu events in %llu records, the index says %llu "
                        "in %llu",
                        path, (unsigned long long)events, (unsigned long long)records,
                        (unsigned long long)rw_reader_nevents(r),
                        (unsigned long long)rw_reader_nrecords(r));
    const Rewind__RunEnd *end = rw_reader_end(r);
    if (rc == RW_OK && !rec->used && end && (end->events != events || end->records != records))
        rc = rw_err_set(&err, RW_ECORRUPT,
                        "%s: the end record counts %llu events and %llu records, the chunks "
                        "hold %llu and %llu",
                        path, (unsigned long long)end->events, (unsigned long long)end->records,
                        (unsigned long long)events, (unsigned long long)records);

    if (rc != RW_OK)
        rw_scan_explain_damage(r, &err); /* the words every command uses */
    uint64_t intact = rw_reader_nevents(r);
    if (rc != RW_OK && !rw_scan_damage_at(r, &err, &intact))
        intact = UINT64_MAX; /* not known */
    int status;
    if (rc == RW_OK && rw_reader_nevents(r) == 0 && !rec->used && end) {
        /* Whole, with its end: the run ended (a signal, say) before the program ran. */
        const char *why = end->stop_reason && end->stop_reason[0] ? end->stop_reason : "?";
        printf("%s: OK, %llu frames, %zu chunks, 0 events: the recording ended before the "
               "program ran (%s", path, (unsigned long long)nframes, rw_reader_nchunks(r), why);
        if (!strcmp(why, "signal") && end->term_signal > 0)
            printf(" %s", rw_cli_signal_name(end->term_signal));
        printf(")\n");
        status = RW_EXIT_OK;
    } else if (rc == RW_OK && rw_reader_nevents(r) == 0) {
        rw_cli_no_events(path, r, &err);
        printf("%s: damaged: %s\n", path, err.msg + strlen(path) + 1);
        status = RW_EXIT_FAIL;
    } else if (rc != RW_OK) {
        /* Damage the open did not see (the index was fine), e.g. a chunk's CRC. */
        const char *msg = err.msg;
        size_t pl = strlen(path);
        if (!strncmp(msg, path, pl) && !strncmp(msg + pl, ": ", 2))
            msg += pl + 2;
        printf("%s: damaged: %s\n", path, msg);
        status = RW_EXIT_FAIL;
    } else if (rec->used) {
        if (rec->good_bytes == rec->file_bytes)
            printf("%s: recovered %llu chunks, %llu events; the file ends at byte %llu "
                   "without a usable index (%s)\n",
                   path, (unsigned long long)rec->chunks, (unsigned long long)rec->events,
                   (unsigned long long)rec->good_bytes, rec->why);
        else
            printf("%s: recovered %llu chunks, %llu events; the tail after byte %llu was "
                   "damaged (%s)\n",
                   path, (unsigned long long)rec->chunks, (unsigned long long)rec->events,
                   (unsigned long long)rec->good_bytes, rec->why);
        status = RW_EXIT_FAIL;
    } else {
        printf("%s: OK, %llu frames, %zu chunks, %llu events, %llu records\n", path,
               (unsigned long long)nframes, rw_reader_nchunks(r), (unsigned long long)events,
               (unsigned long long)records);
        status = RW_EXIT_OK;
    }
    if (status != RW_EXIT_OK) {
        /* The report is on stdout; stderr says it too, as every read command does. */
        if (rw_reader_nevents(r) == 0)
            fprintf(stderr, "rewind verify: %s holds no events\n", path);
        else if (rc != RW_OK && intact == UINT64_MAX)
            fprintf(stderr, "rewind verify: %s\n", err.msg);
        else
            fprintf(stderr, "rewind verify: %s is damaged: the first %llu events can be read\n",
                    path, (unsigned long long)(rc != RW_OK ? intact : rec->events));
    }
    rw_reader_free(r);
    if (fflush(stdout) != 0)
        status = RW_EXIT_FAIL;
    return status;
}
