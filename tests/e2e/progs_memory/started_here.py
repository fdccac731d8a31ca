"""tracemalloc.start() on a line of the program, after imports and allocations (issue 17).

Run as `python3 started_here.py OUT` it starts tracemalloc on the line marked START and
dumps the traces taken at the line marked SNAPSHOT into OUT (a tracemalloc snapshot);
recorded by rewind as `started_here.py -` it runs the same lines without tracing, and
`rewind memory --traced-since started_here.py:START --at started_here.py:SNAPSHOT`
must give the same blocks. _tracemalloc (built in) is used so that nothing is imported
for tracemalloc before the snapshot; the import of tracemalloc.py after it only writes
the snapshot. Before START the program makes lists, tuples, dicts and floats that it
frees (free-listed: untraced when reused after START) and keeps some (untraced until
freed)."""
import _tracemalloc
import sys

early = [(i, float(i), [i] * 3, {"k": i}) for i in range(500)]
kept = early[::7]
del early
_tracemalloc.start(1) if sys.argv[1] != "-" else None  # START

import collections  # noqa: E402
import functools  # noqa: E402


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


@functools.lru_cache(maxsize=None)
def square(n):
    return [n] * (n % 7 + 1)


points = [Point(i, i * 2) for i in range(300)]
names = {f"key{i}": str(i) * 3 for i in range(200)}
squares = [square(i) for i in range(100)]
square.cache_clear()
pairs = [(i, -i) for i in range(50)]
counts = collections.Counter(str(i % 13) for i in range(400))
del kept[::2]
text = " ".join(names)
if _tracemalloc.is_tracing():  # SNAPSHOT
    traces = _tracemalloc._get_traces()
    import tracemalloc
    tracemalloc.Snapshot(traces, 1).dump(sys.argv[1])
