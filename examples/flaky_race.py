"""A flaky test with a thread race: the worked example of docs/flaky-tests.md.

Two threads deposit into one account. Account.deposit reads the balance, calls a
method (the fee), then writes the balance back: a read-modify-write with no lock.
CPython switches threads only at certain points (a call, a backward jump), and the call
to fee() is one of them, between the read and the write: when a switch lands there,
the other thread's deposits made meanwhile are overwritten and the final balance is
short. Under plain python3 that happens in a few runs in a hundred; recorded, where each
event costs time, far more often; with `rewind record --chaos` the hand-overs move
around at random too. The fix: a threading.Lock around the three lines (see
docs/flaky-tests.md).

    python3 examples/flaky_race.py                      # usually passes
    python3 -m pytest examples/flaky_race.py            # the same test under pytest
    rewind record --until-fail 50 -o race.rwd examples/flaky_race.py
"""

import threading
import unittest

DEPOSITS = 5000  # per thread


class Account:
    def __init__(self):
        self.balance = 0

    def fee(self, amount):
        return 0 if amount >= 1 else 1

    def deposit(self, amount):
        balance = self.balance  # read
        balance += amount - self.fee(amount)  # a call: a thread switch may land here
        self.balance = balance  # write: what another thread did meanwhile is lost


def audit(n):
    """Some work between deposits, as a real worker would do."""
    total = 0
    for i in range(n):
        total += i
    return total


def worker(account, deposits):
    for _ in range(deposits):
        audit(20)
        account.deposit(1)


class TestAccount(unittest.TestCase):
    def test_concurrent_deposits(self):
        account = Account()
        threads = [threading.Thread(target=worker, args=(account, DEPOSITS)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(account.balance, 2 * DEPOSITS)

    def test_single_deposit(self):
        account = Account()
        account.deposit(5)
        self.assertEqual(account.balance, 5)


if __name__ == "__main__":
    unittest.main()
