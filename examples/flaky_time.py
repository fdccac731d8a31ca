"""A flaky test that depends on the clock: the second worked example of
docs/flaky-tests.md.

RateLimiter allows `limit` calls per fixed window of `window` seconds, the window
being the monotonic clock divided by its length. Each client makes `limit` calls, a
round trip apart, which must all pass, then one more, which must be refused. That holds
unless the clock crosses into the next window between a client's first call and its
last: the new window starts with a fresh budget and the extra call is allowed. A run
fails when a window boundary lands inside one of its clients' requests: now and then
under plain python3 and when recorded, and often with `rewind record --chaos`, whose
clock reads jump ahead by up to a millisecond. The fix is in the test: take the window
from one clock read, or use a fake clock (see docs/flaky-tests.md).

    python3 examples/flaky_time.py
    rewind record --until-fail 50 --chaos -o time.rwd examples/flaky_time.py
"""

import time
import unittest

WINDOW = 0.05  # seconds
LIMIT = 5
CLIENTS = 20
PAUSE = 0.0001  # seconds between a client's requests (its round trip)


class RateLimiter:
    def __init__(self, limit, window, clock=time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self.current = None
        self.used = 0

    def allow(self, request):
        window = int(self.clock() / self.window)
        if window != self.current:  # a new window: a fresh budget
            self.current = window
            self.used = 0
        if self.used < self.limit:
            self.used += 1
            self.log(request, "allowed")
            return True
        self.log(request, "refused")
        return False

    def log(self, request, verdict):
        # Some work per request, as a real limiter does (formatting, bookkeeping).
        self.last = "%s %s in window %d (%d/%d)" % (request, verdict, self.current,
                                                   self.used, self.limit)


class TestRateLimiter(unittest.TestCase):
    def test_limit_per_window(self):
        for client in range(CLIENTS):
            limiter = RateLimiter(LIMIT, WINDOW)
            for i in range(LIMIT):
                self.assertTrue(limiter.allow("client %d request %d" % (client, i)))
                time.sleep(PAUSE)
            extra = limiter.allow("client %d request %d" % (client, LIMIT))
            self.assertFalse(extra, "request over the limit allowed: " + limiter.last)

    def test_refuses_after_limit_with_a_fixed_clock(self):
        limiter = RateLimiter(2, 1.0, clock=lambda: 7.5)
        self.assertEqual([limiter.allow(i) for i in range(3)], [True, True, False])


if __name__ == "__main__":
    unittest.main()
