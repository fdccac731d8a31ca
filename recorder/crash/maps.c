/* The memory maps of the process (/proc/self/maps), snapshot when a report starts:
 * module names for C frames, and which bytes around a faulting pc may be read.
 * Async-signal-safe (open, read, close; a static buffer).
 */
#include "crash_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define MAPS_CAP (1u << 20)

/* Owner: this file. Written by the thread that owns the report (report.c) or by
 * install; global because a handler has no other memory to put it in. */
static struct maps_state {
    char text[MAPS_CAP]; /* the snapshot, NUL-terminated */
    size_t len;
} mp_st;

void rw_crash_maps_read(void)
{
    mp_st.len = 0;
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    for (;;) {
        ssize_t k = read(fd, mp_st.text + mp_st.len, MAPS_CAP - 1 - mp_st.len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        mp_st.len += (size_t)k;
    }
    close(fd);
    mp_st.text[mp_st.len] = '\0';
}

static uint64_t parse_hex(const char **p)
{
    uint64_t v = 0;
    for (;; (*p)++) {
        char c = **p;
        if (c >= '0' && c <= '9')
            v = v * 16 + (uint64_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = v * 16 + (uint64_t)(c - 'a' + 10);
        else
            return v;
    }
}

int rw_crash_maps_find(uint64_t addr, rw_crash_mapping *out)
{
    const char *p = mp_st.text, *end = mp_st.text + mp_st.len;
    while (p < end) {
        const char *line = p;
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        p = eol + 1;
        const char *q = line;
        uint64_t s = parse_hex(&q);
        if (*q++ != '-')
            continue;
        uint64_t e = parse_hex(&q);
        if (addr < s || addr >= e)
            continue;
        out->start = s;
        out->end = e;
        out->readable = q[1] == 'r';
        q += 6; /* " rwxp " */
        uint64_t off = parse_hex(&q);
        out->base = s - off;
        for (int field = 0; field < 2 && q < eol; field++) { /* dev, inode */
            while (q < eol && *q == ' ')
                q++;
            while (q < eol && *q != ' ')
                q++;
        }
        while (q < eol && *q == ' ')
            q++;
        out->path = q;
        out->path_len = (size_t)(eol - q);
        return 1;
    }
    return 0;
}

size_t rw_crash_maps_copy(uint64_t addr, uint8_t *dst, size_t n)
{
    size_t got = 0;
    while (got < n) {
        rw_crash_mapping mp;
        if (!rw_crash_maps_find(addr + got, &mp) || !mp.readable)
            break;
        size_t k = mp.end - (addr + got) < n - got ? (size_t)(mp.end - (addr + got)) : n - got;
        memcpy(dst + got, (const void *)(uintptr_t)(addr + got), k);
        got += k;
    }
    return got;
}
