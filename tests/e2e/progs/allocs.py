import json
import os
import sys


class Point:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y


def build(n):
    data = []
    for i in range(1000, 1000 + n):
        data.append(Point(i, -i))
    return data


def start():
    pass


def checkpoint():
    pass


# Warm up first: the first traced call of a code object allocates its line table in
# the interpreter's tracing mode, which plain python3 (and tracemalloc) never does.
build(1)
if os.environ.get("ALLOCS_TRACEMALLOC"):
    import tracemalloc
    tracemalloc.start(1)
# Empty the free lists: a tuple reused from one gets the traceback of its new object
# only when its block is traced (allocated after tracemalloc.start()), and rewind
# records such reuses (docs/memory.md, "Fidelity") without knowing where the test's
# window starts.
import gc
gc.collect()
start()
keep = build(10000)
checkpoint()
if os.environ.get("ALLOCS_TRACEMALLOC"):
    snap = tracemalloc.take_snapshot()
    me = os.path.abspath(__file__)
    stats = {}
    for st in snap.statistics("lineno"):
        frame = st.traceback[0]
        if os.path.abspath(frame.filename) == me:
            stats[frame.lineno] = [st.count, st.size]
    json.dump(stats, sys.stdout)
