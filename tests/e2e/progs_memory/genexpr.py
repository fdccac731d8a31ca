"""Generator expressions and generators (tests/e2e/test_memory.py).

Recording runs the program with a trace function, and CPython 3.11 then gives a
generator's frame a frame object at its first resume (and each code object a line
array the first time it is traced): a plain run makes neither. Some generators here
are finished, some are alive and suspended at the snapshot.
"""
import sys
import tracemalloc

data = list(range(1000))
total = sum(x * 2 for x in data)
names = set(str(x) for x in range(50))
words = sorted((w.upper() for w in "the quick brown fox jumps".split()), key=len)


def countdown(n):
    while n:
        yield [n] * 2
        n -= 1


live = [countdown(10) for _ in range(20)]
firsts = [next(g) for g in live]
halfway = (x * 1.5 for x in data)
started = [next(halfway) for _ in range(10)]
if tracemalloc.is_tracing():  # SNAPSHOT
    tracemalloc.take_snapshot().dump(sys.argv[1])
