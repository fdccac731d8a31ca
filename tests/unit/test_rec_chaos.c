/* Check suite for recorder/chaos: the value perturbations drawn from a seed (clocks
 * never go back and jump at most 1 ms ahead; epoll's events are permuted; poll and
 * select keep at least one ready descriptor and report the count they leave), the
 * same choices for the same seed and call sequence, and nothing when off. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "chaos.h"
#include "testutil.h"

static int64_t ns(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

START_TEST(test_off_changes_nothing)
{
    rw_chaos_set_seed(0);
    ck_assert(!rw_chaos_active());
    struct timespec t = {5, 7};
    rw_chaos_clock(CLOCK_MONOTONIC, &t);
    ck_assert(t.tv_sec == 5 && t.tv_nsec == 7);
    struct epoll_event ev[3] = {{.data.fd = 1}, {.data.fd = 2}, {.data.fd = 3}};
    rw_chaos_epoll(ev, 3);
    ck_assert(ev[0].data.fd == 1 && ev[1].data.fd == 2 && ev[2].data.fd == 3);
    struct pollfd p[2] = {{.fd = 1, .revents = POLLIN}, {.fd = 2, .revents = POLLIN}};
    ck_assert_int_eq(rw_chaos_poll(p, 2, 2), 2);
}
END_TEST

START_TEST(test_clock_forward_bounded_monotonic)
{
    rw_chaos_set_seed(12345);
    ck_assert(rw_chaos_active());
    int64_t last = 0, real = 1000000000000;
    int jumped = 0;
    for (int i = 0; i < 4000; i++) {
        real += 1000; /* the real clock moves 1 µs between reads */
        struct timespec t = {real / 1000000000, real % 1000000000};
        rw_chaos_clock(CLOCK_MONOTONIC, &t);
        int64_t v = ns(&t);
        ck_assert(t.tv_nsec >= 0 && t.tv_nsec < 1000000000);
        ck_assert_int_ge(v, real);           /* never behind the real clock */
        ck_assert_int_le(v, real + 1000000); /* at most 1 ms ahead */
        ck_assert_int_ge(v, last);           /* never back */
        jumped += v > real;
        last = v;
    }
    ck_assert_int_gt(jumped, 500); /* a quarter of the reads jump, and the stalls after */
    /* Per-process CPU clocks are left alone. */
    struct timespec c = {1, 2};
    rw_chaos_clock(CLOCK_PROCESS_CPUTIME_ID, &c);
    ck_assert(c.tv_sec == 1 && c.tv_nsec == 2);
    struct timeval tv = {100, 999999};
    rw_chaos_timeval(&tv);
    ck_assert(tv.tv_sec >= 100 && tv.tv_usec >= 0 && tv.tv_usec < 1000000);
    rw_chaos_set_seed(0);
}
END_TEST

/* The clock values of 200 reads under seed, into out. */
static void clock_run(uint64_t seed, int64_t *out)
{
    rw_chaos_set_seed(seed);
    for (int i = 0; i < 200; i++) {
        struct timespec t = {2000 + i, 0};
        rw_chaos_clock(CLOCK_REALTIME, &t);
        out[i] = ns(&t);
    }
    rw_chaos_set_seed(0);
}

START_TEST(test_same_seed_same_choices)
{
    static int64_t a[200], b[200], c[200];
    clock_run(77, a);
    clock_run(77, b);
    clock_run(78, c);
    ck_assert(!memcmp(a, b, sizeof a));
    ck_assert(memcmp(a, c, sizeof a));
    int orders[2][8];
    for (int run = 0; run < 2; run++) {
        rw_chaos_set_seed(99);
        struct epoll_event ev[8];
        for (int i = 0; i < 8; i++)
            ev[i].data.fd = i;
        rw_chaos_epoll(ev, 8);
        int seen = 0;
        for (int i = 0; i < 8; i++) {
            orders[run][i] = ev[i].data.fd;
            seen |= 1 << ev[i].data.fd;
        }
        ck_assert_int_eq(seen, 0xff); /* a permutation */
    }
    ck_assert(!memcmp(orders[0], orders[1], sizeof orders[0]));
    rw_chaos_set_seed(0);
}
END_TEST

START_TEST(test_readiness_thinned_never_emptied)
{
    rw_chaos_set_seed(4242);
    int thinned = 0;
    for (int round = 0; round < 500; round++) {
        struct pollfd p[6];
        int ready = 0;
        for (int i = 0; i < 6; i++) {
            p[i].fd = i;
            p[i].events = POLLIN;
            p[i].revents = (round + i) % 3 ? POLLIN : 0;
            ready += p[i].revents != 0;
        }
        int left = rw_chaos_poll(p, 6, ready);
        int count = 0;
        for (int i = 0; i < 6; i++)
            count += p[i].revents != 0;
        ck_assert_int_eq(left, count);
        ck_assert_int_ge(left, 1);
        ck_assert_int_le(left, ready);
        thinned += left < ready;

        fd_set r, w;
        FD_ZERO(&r);
        FD_ZERO(&w);
        FD_SET(3, &r);
        FD_SET(5, &r);
        FD_SET(5, &w);
        int sleft = rw_chaos_select(6, &r, &w, NULL, 3);
        int scount = FD_ISSET(3, &r) + FD_ISSET(5, &r) + FD_ISSET(5, &w);
        ck_assert_int_eq(sleft, scount);
        ck_assert_int_ge(sleft, 1);
        ck_assert(!FD_ISSET(4, &r) && !FD_ISSET(3, &w));
    }
    ck_assert_int_gt(thinned, 100);
    /* One ready descriptor is always reported. */
    struct pollfd one[2] = {{.fd = 1, .revents = POLLIN}, {.fd = 2}};
    ck_assert_int_eq(rw_chaos_poll(one, 2, 1), 1);
    ck_assert_int_eq(one[0].revents, POLLIN);
    rw_chaos_set_seed(0);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_off_changes_nothing, test_clock_forward_bounded_monotonic,
                            test_same_seed_same_choices, test_readiness_thinned_never_emptied};
    return rw_test_main("rec_chaos", "core", 0, tests, RW_TEST_N(tests));
}
