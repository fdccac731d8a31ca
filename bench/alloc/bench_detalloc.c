/* bench_detalloc: ns per operation of a mixed malloc/free/realloc/calloc load, through
 * detalloc (recorder/detalloc.h) and through the C library's malloc, on the same
 * sequence of calls. The sizes follow what reaches Python's RAW domain: mostly 513 B to
 * 8 KiB (obmalloc's larger objects), some small, a few up to 1 MiB; realloc grows and
 * shrinks lists. Run on an idle machine; take the minimum over rounds.
 *
 *     ./build/bench/bench_detalloc [ops_millions=10] [rounds=5] [threads=1]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "detalloc.h"

enum { NSLOTS = 4096 };

typedef struct api {
    const char *name;
    void *(*malloc_)(size_t);
    void *(*calloc_)(size_t, size_t);
    void *(*realloc_)(void *, size_t);
    void (*free_)(void *);
} api;

static rw_detalloc *da;
static void *d_malloc(size_t n) { return rw_detalloc_malloc(da, n); }
static void *d_calloc(size_t a, size_t b) { return rw_detalloc_calloc(da, a, b); }
static void *d_realloc(void *p, size_t n) { return rw_detalloc_realloc(da, p, n); }
static void d_free(void *p) { rw_detalloc_dealloc(da, p); }

static const api apis[] = {
    {"detalloc", d_malloc, d_calloc, d_realloc, d_free},
    {"glibc", malloc, calloc, realloc, free},
};

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static size_t size_of(uint64_t r)
{
    unsigned k = r % 100;
    if (k < 25)
        return 16 + (r >> 8) % 497;        /* small */
    if (k < 97)
        return 513 + (r >> 8) % 7680;      /* obmalloc's overflow to RAW */
    if (k < 99)
        return 8192 + (r >> 8) % 122880;   /* up to 128 KiB */
    return 131072 + (r >> 8) % 917504;     /* up to 1 MiB: pages given back */
}

typedef struct job {
    const api *a;
    long ops;
    uint64_t seed;
} job;

static void *run(void *arg)
{
    job *j = arg;
    void **slot = calloc(NSLOTS, sizeof *slot);
    uint64_t s = j->seed;
    for (long i = 0; i < j->ops; i++) {
        uint64_t r = rnd(&s);
        void **x = &slot[r % NSLOTS];
        unsigned what = (r >> 40) % 10;
        if (!*x) {
            size_t n = size_of(rnd(&s));
            *x = what == 0 ? j->a->calloc_(1, n) : j->a->malloc_(n);
            ((char *)*x)[0] = 1; /* touch it, as a program would */
        } else if (what < 3) {
            *x = j->a->realloc_(*x, size_of(rnd(&s)));
            ((char *)*x)[0] = 1;
        } else {
            j->a->free_(*x);
            *x = NULL;
        }
    }
    for (int i = 0; i < NSLOTS; i++)
        j->a->free_(slot[i]);
    free(slot);
    return NULL;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long ops = (argc > 1 ? atol(argv[1]) : 10) * 1000000L;
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    int nthreads = argc > 3 ? atoi(argv[3]) : 1;
    if (ops <= 0 || rounds <= 0 || nthreads <= 0 || nthreads > 64) {
        fprintf(stderr, "usage: bench_detalloc [ops_millions] [rounds] [threads]\n");
        return 2;
    }
    rw_err err = {0};
    if (rw_detalloc_new(RW_DETALLOC_BASE, RW_DETALLOC_RESERVE, &da, &err) != RW_OK) {
        fprintf(stderr, "bench_detalloc: %s\n", err.msg);
        return 1;
    }
    double best[2] = {1e30, 1e30};
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < 2; k++) { /* alternate, so drift is shared */
            const api *a = &apis[(r + k) % 2];
            pthread_t t[64];
            job j[64];
            double t0 = now();
            for (int i = 0; i < nthreads; i++) {
                j[i] = (job){a, ops / nthreads, 0x9e3779b97f4a7c15ull + (uint64_t)i};
                pthread_create(&t[i], NULL, run, &j[i]);
            }
            for (int i = 0; i < nthreads; i++)
                pthread_join(t[i], NULL);
            double ns = (now() - t0) * 1e9 / (double)ops;
            int idx = a == &apis[0] ? 0 : 1;
            if (ns < best[idx])
                best[idx] = ns;
        }
    }
    rw_detalloc_stats st;
    rw_detalloc_get_stats(da, &st);
    printf("%ld ops x %d rounds, %d thread(s), min ns/op: detalloc %.1f, glibc %.1f "
           "(ratio %.2f); detalloc gave pages back %llu times\n",
           ops, rounds, nthreads, best[0], best[1], best[0] / best[1],
           (unsigned long long)st.releases);
    rw_detalloc_free(da);
    return 0;
}
