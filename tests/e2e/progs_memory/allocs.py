"""Deterministic allocations for tests/e2e/test_memory.py.

Run under `python3 -X tracemalloc=25 allocs.py OUT` it dumps a tracemalloc snapshot
taken at the line marked SNAPSHOT into OUT; recorded by rewind (not tracing) it does
nothing there, and `rewind memory --at allocs.py:LINE` takes the same snapshot.
tracemalloc is imported first, in both runs, so that nothing between the marked line
and the snapshot allocates (an import would churn the free lists, see below).
"""
import gc
import sys
import tracemalloc

# Automatic collections come when enough containers have been allocated, and tracing
# mode allocates a frame object per call, so they would come at other moments in the
# recorded run: none here.
gc.disable()


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


def build_points(n):
    return [Point(i, -i) for i in range(n)]


def build_dict(n):
    d = {}
    for i in range(n):
        d["key-%d" % i] = "value-%d" % (i * 7)
    return d


def build_buffers():
    return [bytearray(size) for size in (100, 1000, 10000, 100000, 1000000)]


def build_and_free_half(n):
    items = [("item", i) for i in range(n)]
    kept = items[: n // 2]
    del items
    return kept


def nested(depth):
    if depth == 0:
        return [bytes(64 + i) for i in range(50)]
    return nested(depth - 1)


# CPython keeps freed tuples, lists, dicts... on free lists and hands them out again
# without calling the allocator, so what tracemalloc sees depends on how full those
# lists are. Start-up leaves them in another state when rewind embeds the interpreter,
# and the recorder works with Python objects of its own (docs/memory.md), so: run
# every function once, then empty the free lists with a full collection.
build_points(1), build_dict(1), build_buffers(), build_and_free_half(2), nested(1)
gc.collect()

points = build_points(10000)
table = build_dict(2000)
buffers = build_buffers()
half = build_and_free_half(4000)
deep = nested(30)
if tracemalloc.is_tracing():  # SNAPSHOT
    tracemalloc.take_snapshot().dump(sys.argv[1])
