/* OpenSSL's random bytes, logged when recording and answered from the log when
 * replaying (input.h; docs/reexecution.md, "TLS").
 *
 * Wraps: RAND_bytes_ex, RAND_priv_bytes_ex, RAND_status, RAND_poll, RAND_add,
 * RAND_seed (libcrypto 3; libssl and libcrypto itself call them through their PLT, so the
 * definitions here, exported from the executable, are the ones bound).
 *
 * Why not the C-library calls under them. OpenSSL's generators are seeded with
 * getentropy (logged, ident.c), but every child generator also draws on its parent with
 * its own heap address as additional input, and C-library heap addresses are not the
 * same in a replay (the engine's own allocations come between the program's). The
 * bytes then differ, and with them every choice OpenSSL makes from them: the number of
 * draws a key or a blinding value takes (rejection sampling), the keys themselves (a
 * peer's recorded answer can then not be decrypted: the replay's TLS sends an alert where
 * the recording read). So the bytes are the input: a recording logs what the generator
 * gave, with capture paused inside it (its getpid, time and getentropy calls are its
 * own business); a replay hands the logged bytes back and never runs the generator.
 * RAND_status and RAND_poll are logged by their result in the same way; RAND_add and
 * RAND_seed feed the recording's generator and do nothing in a replay.
 *
 * Draws on shared state. Threads that share an RSA key share its blinding values, made
 * and renewed by whichever thread needs them first, without the GIL: the replay's
 * order of those draws is not the recording's. The bytes are logged RW_INPUT_F_OPTIONAL:
 * a replay that does not draw where the recording did skips the record, and a draw the
 * recording made elsewhere gets stand-in bytes (stand_in). Blinding cancels out of
 * the result, so the program sees what it saw; a draw whose bytes reach the output
 * diverges later, as it would have.
 *
 * Records (key: little-endian int64s):
 *   call         key                          result        data
 *   RAND_BYTES   0 public / 1 private, num,   1 or <= 0     the num bytes (when 1)
 *                strength
 *   RAND_STATUS  0 RAND_status / 1 RAND_poll  the result    -
 *
 * The real functions are found on a call site's first call, in the caller's own scope:
 * the executable links no OpenSSL, and libcrypto is loaded by an extension module
 * (_ssl, _hashlib) with RTLD_LOCAL, out of RTLD_NEXT's reach; the caller's handle gives
 * the definitions it was linked with (a wheel that bundles its own OpenSSL binds to
 * rewind's wrappers too, and must reach its own copy, not the system's).
 *
 * Rules for this folder: recorder/libc/README.md.
 */
#include "input.h"

#include "libc.h"
#include "sites.h"

#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <string.h>

/* OpenSSL's types, opaque here. */
typedef struct ossl_lib_ctx_st OSSL_LIB_CTX;

typedef int (*bytes_fn)(OSSL_LIB_CTX *, unsigned char *, size_t, unsigned int);
typedef int (*int_fn)(void);
typedef void (*add_fn)(const void *, int, double);
typedef void (*seed_fn)(const void *, int);

/* The real function each call site binds (real()): sites.h's memo. Global because
 * wrappers get no context. */
static struct crypto_state {
    rw_sites sites;
} cst = {.sites = RW_SITES_INIT};

/* dl_iterate_phdr's callback: the path of the first libcrypto loaded. */
static int find_libcrypto(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    const char *name = info->dlpi_name;
    if (!name || !*name)
        return 0;
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    if (strncmp(base, "libcrypto.so", 12))
        return 0;
    *(const char **)arg = name;
    return 1;
}

/* name in the scope of the object at path (itself, then what it was linked with). */
static void *symbol_near(const char *path, const char *name)
{
    void *h = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
    if (!h)
        return NULL;
    void *f = dlsym(h, name);
    dlclose(h);
    return f;
}

/* The definition of name that the code at ret would have bound without rewind: in its
 * own object's scope (libssl and the libcrypto it was linked with, a wheel's bundled
 * copy as well as the system's), else the first libcrypto loaded. NULL when none is. */
static void *resolve(uintptr_t ret, const char *name, void *self)
{
    void *f = NULL;
    Dl_info di;
    if (dladdr((void *)ret, &di) && di.dli_fname && di.dli_fname[0])
        f = symbol_near(di.dli_fname, name);
    if (!f || f == self) {
        const char *path = NULL;
        dl_iterate_phdr(find_libcrypto, &path);
        f = path ? symbol_near(path, name) : NULL;
    }
    return f == self ? NULL : f;
}

/* What real() looks up: the name and the wrapper. */
typedef struct wanted {
    const char *name;
    void *self;
} wanted;

/* rw_sites_get's maker. */
static void *resolve_site(uintptr_t ret, const void *arg)
{
    const wanted *w = arg;
    return resolve(ret, w->name, w->self);
}

/* The real function for the call site at ret, remembered per site. self: the wrapper. */
static void *real(const void *ret, const char *name, void *self)
{
    wanted w = {name, self};
    return rw_sites_get(&cst.sites, ret, resolve_site, &w);
}

/* Replay: bytes for a draw the recording made in another thread (or not at all), a
 * function of the thread's place in its log so that every replay draws the same. */
static void stand_in(unsigned char *buf, size_t num)
{
    uint64_t x = ((uint64_t)rw_in_tls.thread << 40) ^ rw_in_tls.seq ^ num;
    for (size_t i = 0; i < num; i += 8) {
        uint64_t z = (x += 0x9e3779b97f4a7c15u); /* splitmix64 */
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        z ^= z >> 31;
        memcpy(buf + i, &z, num - i < 8 ? num - i : 8);
    }
}

/* Set by rw_crypto_draws(0) before the run (the engine of a trace made before the draws
 * were logged: Metadata.features has no "openssl-draws"); read by every wrapper. */
static int draws_unlogged;

void rw_crypto_draws(int on)
{
    draws_unlogged = !on;
}

/* The capture mode of a wrapper here: off for such a trace, whose recorder let OpenSSL
 * run its generator (its getentropy calls were logged, and are answered). */
static inline int mode(void)
{
    return draws_unlogged ? RW_IN_OFF : rw_in_mode();
}

/* One of the two byte sources: which 0 public, 1 private; f the real one. */
static int rand_bytes(int which, bytes_fn f, OSSL_LIB_CTX *ctx, unsigned char *buf,
                      size_t num, unsigned int strength)
{
    int m = mode();
    if (m == RW_IN_OFF)
        return f ? f(ctx, buf, num, strength) : 0;
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, which);
    rw_in_key_i64(&k, (int64_t)num);
    rw_in_key_i64(&k, strength);
    if (m == RW_IN_REPLAY) {
        /* An evaluation at a stop gets stand-in bytes too: it may not read the log, and
         * a refusal would show as `ssl.SSLError: (0, None)`. */
        const rw_input *g =
            atomic_load_explicit(&rw_in_global, memory_order_relaxed) == RW_IN_EVAL
                ? NULL
                : rw_in_take_optional(RW_CALL_RAND_BYTES, &k);
        if (!g) {
            stand_in(buf, num);
            return 1;
        }
        if (g->result == 1)
            rw_in_give(buf, num, g);
        return (int)rw_in_return(g);
    }
    rw_in_pause();
    int r = f ? f(ctx, buf, num, strength) : 0;
    int e = errno;
    rw_in_resume();
    rw_in_put_flags(RW_CALL_RAND_BYTES, r, e, &k, r == 1 ? buf : NULL, r == 1 ? num : 0,
                    RW_INPUT_F_OPTIONAL);
    errno = e;
    return r;
}

int RAND_bytes_ex(OSSL_LIB_CTX *ctx, unsigned char *buf, size_t num, unsigned int strength)
{
    bytes_fn f = (bytes_fn)real(__builtin_return_address(0), "RAND_bytes_ex",
                                (void *)RAND_bytes_ex);
    return rand_bytes(0, f, ctx, buf, num, strength);
}

int RAND_priv_bytes_ex(OSSL_LIB_CTX *ctx, unsigned char *buf, size_t num,
                       unsigned int strength)
{
    bytes_fn f = (bytes_fn)real(__builtin_return_address(0), "RAND_priv_bytes_ex",
                                (void *)RAND_priv_bytes_ex);
    return rand_bytes(1, f, ctx, buf, num, strength);
}

/* RAND_status (form 0) and RAND_poll (form 1): a result, nothing else. */
static int rand_int(int form, int_fn f)
{
    int m = mode();
    if (m == RW_IN_OFF)
        return f ? f() : 0;
    rw_in_key k;
    rw_in_key_init(&k);
    rw_in_key_i64(&k, form);
    if (m == RW_IN_REPLAY)
        return (int)rw_in_replayed(RW_CALL_RAND_STATUS, &k, NULL, 0);
    rw_in_pause();
    int r = f ? f() : 0;
    int e = errno;
    rw_in_resume();
    return (int)rw_in_logged(RW_CALL_RAND_STATUS, &k, r, e, NULL, 0);
}

int RAND_status(void)
{
    return rand_int(0, (int_fn)real(__builtin_return_address(0), "RAND_status",
                                    (void *)RAND_status));
}

int RAND_poll(void)
{
    return rand_int(1, (int_fn)real(__builtin_return_address(0), "RAND_poll",
                                    (void *)RAND_poll));
}

/* Bytes mixed into the generator: the recording's generator gets them; a replay has
 * none to feed. */
void RAND_add(const void *buf, int num, double randomness)
{
    int m = mode();
    add_fn f = (add_fn)real(__builtin_return_address(0), "RAND_add", (void *)RAND_add);
    if (m == RW_IN_REPLAY || !f)
        return;
    rw_in_pause();
    f(buf, num, randomness);
    rw_in_resume();
}

void RAND_seed(const void *buf, int num)
{
    int m = mode();
    seed_fn f = (seed_fn)real(__builtin_return_address(0), "RAND_seed", (void *)RAND_seed);
    if (m == RW_IN_REPLAY || !f)
        return;
    rw_in_pause();
    f(buf, num);
    rw_in_resume();
}
