"""An lru_cache filled, cleared, used again (tests/e2e/test_memory.py).

cache_clear() frees 200 lists; CPython keeps up to 80 of them on the list free list,
and the lists made afterwards come from there. tracemalloc gives a block taken off a
free list the traceback of its new object, so those lists belong to the line that
made them again, not to the line that first allocated them.
"""
import functools
import sys
import tracemalloc


@functools.lru_cache(maxsize=None)
def square_list(n):
    return [n] * 3


for i in range(200):
    square_list(i)
info = square_list.cache_info()
square_list.cache_clear()
kept = [square_list(i) for i in range(5)]
pairs = {i: (i, str(i)) for i in range(30)}
if tracemalloc.is_tracing():  # SNAPSHOT
    tracemalloc.take_snapshot().dump(sys.argv[1])
