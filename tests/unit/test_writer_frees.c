/* Check suite for format/writer: its thread never frees a block that a producer
 * allocated.
 *
 * A producer that a termination signal interrupts inside malloc holds its arena's lock
 * while the signal's handler waits for the writer thread to close the trace; a free()
 * of one of the producer's blocks on the writer thread then waits for that lock until
 * the handler gives up, and the trace is left without its end (seen: a spawn Pool's
 * worker terminated while it defined the code of its imports). This executable is
 * linked with --wrap for malloc, calloc, realloc and free (tests/CMakeLists.txt): while
 * tracking is on, the blocks the producer thread allocates are remembered, and a free
 * of one on any other thread is counted.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "writer.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);

/* The producer's live blocks: open addressing, deleted slots marked. */
#define SET_SIZE (1u << 20)
#define GONE ((void *)1)
static void *set[SET_SIZE];
static pthread_mutex_t set_mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int tracking;
static pthread_t producer;
static _Atomic long foreign_frees, tracked;

static size_t slot_of(const void *p)
{
    return (size_t)(((uintptr_t)p * 0x9E3779B97F4A7C15ull) >> 44) & (SET_SIZE - 1);
}

static void set_add(void *p)
{
    pthread_mutex_lock(&set_mu);
    for (size_t i = slot_of(p), k = 0; k < SET_SIZE; i = (i + 1) & (SET_SIZE - 1), k++) {
        if (!set[i] || set[i] == GONE) {
            set[i] = p;
            atomic_fetch_add(&tracked, 1);
            break;
        }
    }
    pthread_mutex_unlock(&set_mu);
}

/* Takes p out of the set: 1 when it was there. */
static int set_take(void *p)
{
    int had = 0;
    pthread_mutex_lock(&set_mu);
    for (size_t i = slot_of(p), k = 0; set[i] && k < SET_SIZE; i = (i + 1) & (SET_SIZE - 1), k++) {
        if (set[i] == p) {
            set[i] = GONE;
            had = 1;
            break;
        }
    }
    pthread_mutex_unlock(&set_mu);
    return had;
}

static int on_producer(void)
{
    return pthread_equal(pthread_self(), producer);
}

void *__wrap_malloc(size_t n)
{
    void *p = __real_malloc(n);
    if (p && atomic_load(&tracking) && on_producer())
        set_add(p);
    return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
    void *p = __real_calloc(n, size);
    if (p && atomic_load(&tracking) && on_producer())
        set_add(p);
    return p;
}

void __wrap_free(void *p)
{
    if (p && atomic_load(&tracking) && set_take(p) && !on_producer())
        atomic_fetch_add(&foreign_frees, 1);
    __real_free(p);
}

void *__wrap_realloc(void *p, size_t n)
{
    int had = p && atomic_load(&tracking) && set_take(p);
    if (had && !on_producer())
        atomic_fetch_add(&foreign_frees, 1);
    void *q = __real_realloc(p, n);
    if (q && atomic_load(&tracking) && on_producer())
        set_add(q);
    return q;
}

/* Definitions of every kind, records that use them, and a flush, many times: the
 * writer thread writes each round's definitions before the next round; none of the
 * blocks they were built in is freed on it, nor any that rw_writer_open made (its
 * buffers grow on the writer thread: the index with every frame, the pack buffer with
 * a big source; the build before made the pack buffer on the producer). */
START_TEST(test_writer_thread_frees_no_producer_block)
{
    char *path = rw_test_path("frees.rwd");
    rw_writer *w;
    rw_err err;
    producer = pthread_self();
    atomic_store(&tracking, 1);
    ck_assert_int_eq(rw_writer_open(path, NULL, 1, NULL, &w, &err), RW_OK);
    rw_stream *s = rw_writer_stream(w);
    size_t big_len = 300000;
    char *big = malloc(big_len);
    ck_assert_ptr_nonnull(big);
    for (size_t i = 0; i < big_len; i++)
        big[i] = i % 64 == 63 ? '\n' : (char)('a' + i % 26);
    uint64_t tick = 100;
    rw_writer_def_thread(w, 1, 1234, 99, "MainThread", 1);
    rw_stream_put(s, RW_REC(RW_K_THREAD, tick), 1);
    const char *args[] = {"a", "b"};
    const uint32_t lines[] = {10, 11, 12};
    for (uint32_t round = 0; round < 50; round++) {
        for (uint32_t k = 0; k < 20; k++) {
            uint32_t id = round * 20 + k + 1;
            char name[32];
            snprintf(name, sizeof name, "f%u", id);
            if (round == 25 && k == 0) /* definitions bigger than the pack buffer */
                rw_writer_def_file(w, id, "/x/big.py", big, big_len, 1);
            else
                rw_writer_def_file(w, id, "/x/prog.py", "a = 1\n", 6, 1);
            rw_writer_def_code(w, id, id, name, name, 10, 0, args, 2);
            rw_writer_def_code_lines(w, id, lines, 3, 0);
            rw_writer_def_cfunc(w, id, name, name, "mod");
            rw_writer_def_name(w, id, name);
            tick += 7;
            rw_stream_put(s, RW_REC(RW_K_CALL, tick), id | (10ull << 32));
            rw_stream_put(s, RW_REC(RW_K_LINE, tick + 1), 11);
            rw_stream_put(s, RW_REC(RW_K_RETURN, tick + 2), 0);
        }
        ck_assert_int_eq(rw_writer_flush(w, &err), RW_OK);
    }
    atomic_store(&tracking, 0);
    ck_assert_int_gt(atomic_load(&tracked), 1000);
    ck_assert_msg(atomic_load(&foreign_frees) == 0,
                  "the writer thread freed %ld blocks that the producer allocated",
                  atomic_load(&foreign_frees));
    ck_assert_int_eq(rw_writer_close(w, NULL, NULL, &err), RW_OK);
    free(big);
    free(path);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_writer_thread_frees_no_producer_block};
    return rw_test_main("writer_frees", "core", 120, tests, RW_TEST_N(tests));
}
