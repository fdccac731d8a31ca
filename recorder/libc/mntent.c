/* The mount table: what setmntent and getmntent read, logged when recording and
 * answered from the log when replaying (input.h; DESIGN.md, "Nondeterministic inputs").
 *
 * Wraps: setmntent, getmntent, getmntent_r, endmntent. The C library opens and reads
 * the table (/proc/self/mounts, /etc/mtab) through its own stdio, which no wrapper
 * sees, so a replay read the engine's own mounts: psutil's disk_partitions() found
 * another number of them and the replay diverged. Only the streams these openers made
 * are followed (a table opened with fopen is fopen's stream: files_stdio.c). A trace
 * made before they were logged (no "mntent" feature) has the calls made for real, as
 * then.
 *
 *   call     key                                       result     data
 *   MNTENT   0 setmntent: the file                      1 / 0      -
 *            1 getmntent, 2 getmntent_r: the buffer's   1 / 0      int64 freq, passno,
 *              size (getmntent_r)                                  then fsname, dir,
 *                                                                  type, opts, each
 *                                                                  NUL-terminated
 *            3 endmntent                                the result -
 * Replay: setmntent hands out a stream that reads nothing (fopencookie), getmntent an
 * entry of this file's own storage (not thread-safe, like the C library's).
 *
 * Rules for this folder: recorder/libc/README.md.
 */
#include "input.h"
#include "libc.h"

#include <dlfcn.h>
#include <mntent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

enum { FORM_SET = 0, FORM_GET = 1, FORM_GET_R = 2, FORM_END = 3 };
enum { STREAMS = 16, ENTRY_MAX = 4096 };

/* This file's state. real: the C library's functions, resolved before main, read-only
 * afterwards. streams: the streams setmntent made and this file follows (record: the C
 * library's; replay: the empty ones), under mu. entry/text: what a replayed getmntent
 * returns. logged: 0 in the engine of a trace made before (rw_mntent_logged). Global
 * because wrappers get no context. */
static struct mntent_state {
    struct {
        FILE *(*setmntent)(const char *, const char *);
        struct mntent *(*getmntent)(FILE *);
        struct mntent *(*getmntent_r)(FILE *, struct mntent *, char *, int);
        int (*endmntent)(FILE *);
    } real;
    pthread_mutex_t mu;
    FILE *streams[STREAMS];
    struct mntent entry;
    char text[ENTRY_MAX];
    _Atomic int logged;
} mt = {.mu = PTHREAD_MUTEX_INITIALIZER, .logged = 1};

#define FIND(name) mt.real.name = (__typeof__(mt.real.name))dlsym(RTLD_NEXT, #name)

/* The C library's function: resolved before main, or on the first call when a wrapper
 * runs before the constructors. */
#define REAL(name)                                                                       \
    (RW_LIKELY(mt.real.name != NULL)                                                     \
         ? mt.real.name                                                                  \
         : (__typeof__(mt.real.name))rw_libc_late((void **)&mt.real.name, #name))

__attribute__((constructor(101))) static void find_real(void)
{
    FIND(setmntent);
    FIND(getmntent);
    FIND(getmntent_r);
    FIND(endmntent);
}

void rw_mntent_logged(int on)
{
    atomic_store(&mt.logged, on);
}

/* Adds (add) or takes out f; returns whether f was (or is now) followed. */
static int follow(FILE *f, int add)
{
    int found = 0;
    pthread_mutex_lock(&mt.mu);
    for (int i = 0; i < STREAMS && !found; i++)
        if (add ? mt.streams[i] == NULL : mt.streams[i] == f) {
            mt.streams[i] = add ? f : NULL;
            found = 1;
        }
    pthread_mutex_unlock(&mt.mu);
    return found;
}

static int followed(FILE *f)
{
    int found = 0;
    pthread_mutex_lock(&mt.mu);
    for (int i = 0; i < STREAMS; i++)
        found |= f && mt.streams[i] == f;
    pthread_mutex_unlock(&mt.mu);
    return found;
}

static int mode(void)
{
    int m = rw_in_mode();
    return m != RW_IN_OFF && atomic_load_explicit(&mt.logged, memory_order_relaxed)
               ? m
               : RW_IN_OFF;
}

static ssize_t read_nothing(void *c, char *buf, size_t size)
{
    (void)c, (void)buf, (void)size;
    return 0;
}

FILE *setmntent(const char *file, const char *type)
{
    int m = mode();
    if (m == RW_IN_OFF)
        return REAL(setmntent)(file, type);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, FORM_SET);
    rw_in_key_str(&k, file ? file : "");
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_MNTENT, &k);
        FILE *f = NULL;
        if (g->result)
            f = fopencookie(NULL, "r", (cookie_io_functions_t){read_nothing, NULL, NULL,
                                                               NULL});
        rw_in_return(g);
        if (f && !follow(f, 1)) {
            fclose(f);
            f = NULL;
        }
        return f;
    }
    rw_in_pause(); /* its open and reads are the C library's, not inputs */
    FILE *f = REAL(setmntent)(file, type);
    rw_in_resume();
    int e = errno;
    if (f)
        follow(f, 1); /* more than STREAMS at once: that one's entries are not logged */
    rw_in_put(RW_CALL_MNTENT, f != NULL, e, &k, NULL, 0);
    errno = e;
    return f;
}

/* Record: the entry's record from e (NULL: the end). */
static void put_entry(const rw_in_key *k, const struct mntent *e, int err)
{
    uint8_t d[ENTRY_MAX + 16];
    size_t n = 0;
    if (e) {
        int64_t nums[2] = {e->mnt_freq, e->mnt_passno};
        memcpy(d, nums, sizeof nums);
        n = sizeof nums;
        const char *parts[4] = {e->mnt_fsname, e->mnt_dir, e->mnt_type, e->mnt_opts};
        for (int i = 0; i < 4; i++) {
            const char *p = parts[i] ? parts[i] : "";
            size_t len = strnlen(p, ENTRY_MAX / 4 - 1);
            memcpy(d + n, p, len);
            d[n + len] = '\0';
            n += len + 1;
        }
    }
    rw_in_put(RW_CALL_MNTENT, e != NULL, err, k, e ? d : NULL, n);
}

/* Replay: fills out (its strings in text, cap bytes) from g; 0 when g is not an entry
 * (a damaged record reads as the end of the table). */
static int give_entry(const rw_input *g, struct mntent *out, char *text, size_t cap)
{
    int64_t nums[2];
    if (!g->result || g->data_len < sizeof nums || g->data_len - sizeof nums > cap)
        return 0;
    memcpy(nums, g->data, sizeof nums);
    size_t len = g->data_len - sizeof nums;
    memcpy(text, g->data + sizeof nums, len);
    char *parts[4];
    size_t at = 0;
    for (int i = 0; i < 4; i++) {
        char *nul = at < len ? memchr(text + at, '\0', len - at) : NULL;
        if (!nul)
            return 0;
        parts[i] = text + at;
        at = (size_t)(nul - text) + 1;
    }
    out->mnt_fsname = parts[0];
    out->mnt_dir = parts[1];
    out->mnt_type = parts[2];
    out->mnt_opts = parts[3];
    out->mnt_freq = (int)nums[0];
    out->mnt_passno = (int)nums[1];
    return 1;
}

struct mntent *getmntent(FILE *f)
{
    int m = mode();
    if (m == RW_IN_OFF || !followed(f))
        return REAL(getmntent)(f);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, FORM_GET);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_MNTENT, &k);
        int got = give_entry(g, &mt.entry, mt.text, sizeof mt.text);
        rw_in_return(g);
        return got ? &mt.entry : NULL;
    }
    struct mntent *e = REAL(getmntent)(f);
    int err = errno;
    put_entry(&k, e, err);
    errno = err;
    return e;
}

struct mntent *getmntent_r(FILE *f, struct mntent *result, char *buf, int size)
{
    int m = mode();
    if (m == RW_IN_OFF || !followed(f))
        return REAL(getmntent_r)(f, result, buf, size);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, FORM_GET_R);
    rw_in_key_i64(&k, size);
    if (m == RW_IN_REPLAY) {
        const rw_input *g = rw_in_take(RW_CALL_MNTENT, &k);
        int got = size > 0 && give_entry(g, result, buf, (size_t)size);
        rw_in_return(g);
        return got ? result : NULL;
    }
    struct mntent *e = REAL(getmntent_r)(f, result, buf, size);
    int err = errno;
    put_entry(&k, e, err);
    errno = err;
    return e;
}

int endmntent(FILE *f)
{
    int m = mode();
    if (m == RW_IN_OFF || !follow(f, 0))
        return REAL(endmntent)(f);
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, FORM_END);
    if (m == RW_IN_REPLAY) {
        fclose(f);
        return (int)rw_in_return(rw_in_take(RW_CALL_MNTENT, &k));
    }
    int r = REAL(endmntent)(f);
    int e = errno;
    rw_in_put(RW_CALL_MNTENT, r, e, &k, NULL, 0);
    errno = e;
    return r;
}
