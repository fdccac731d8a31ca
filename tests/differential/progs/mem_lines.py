"""Allocations whose per-line size and count tracemalloc reports at the marked lines:
lists, dicts, strings, instances, a cleared lru_cache, a generator expression."""

import functools


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


@functools.lru_cache(maxsize=None)
def square(n):
    return [n] * (n % 7 + 1)


def build():
    points = [Point(i, i * 2) for i in range(300)]
    names = {f"key{i}": str(i) * 3 for i in range(200)}
    return points, names


points, names = build()
blob = bytearray(50_000)
squares = [square(i) for i in range(100)]
total = sum(len(s) for s in squares)  # rewind-snapshot
square.cache_clear()
evens = list(x for x in range(1000) if x % 2 == 0)
text = " ".join(names)  # rewind-snapshot
del blob
print(len(points), len(names), total, len(evens), len(text))  # rewind-snapshot
