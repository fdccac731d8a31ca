#!/usr/bin/env python3
"""A program for rewind coverage tests.

Branches, loops, a function never called, a class, a generator and an imported
helper module: every kind of line trace.py counts or marks as missing.
"""
import cov_helper


def branches(n):
    """Classify n."""
    if n % 3 == 0:
        return "fizz"
    elif n % 5 == 0:
        return "buzz"
    else:
        return str(n)


def never_called(x):
    """Documented, but never run."""
    y = x * 2
    return y + 1


class Counter:
    '''A class with a docstring.'''

    def __init__(self):
        self.n = 0

    def bump(self, k=1):
        self.n += k
        return self.n

    def unused(self):
        return -1


def squares(limit):
    for i in range(limit):
        yield i * i


def main():
    out = []
    for i in range(1, 16):
        out.append(branches(i))
    c = Counter()
    while c.n < 5:
        c.bump()
    total = sum(squares(6))
    try:
        cov_helper.fail()
    except ValueError:
        total += 1
    data = {k: v for k, v in zip("abc", range(3))}
    print(len(out), c.n, total, cov_helper.scale(3), sorted(data))


if __name__ == "__main__":
    main()
