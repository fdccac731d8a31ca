# Addresses with threads that take the GIL from each other: three threads allocate in
# loops with no lock between them, and CPython hands the GIL over every 5 ms at an
# eval-breaker check. The recording shows where each thread let it go (after its last
# event and the records of it that follow); the replay's thread must let it go there
# and take it back in its turn, or its allocations come before the other thread's and
# obmalloc's free lists, hence id()s, differ (docs/reexecution.md, "Threads").
# Marked lines print "RWVAL <line> <repr>".
import sys
import threading

out = []


def spin(k):
    acc = []
    for i in range(150000):
        acc.append((i, k))
        if len(acc) > 100:
            acc = [x for x in acc[-60:] if x[0] % 3]
    out.append(len(acc))


ts = [threading.Thread(target=spin, args=(k,)) for k in range(3)]
for t in ts:
    t.start()
for t in ts:
    t.join()
objs = [object() for _ in range(50)]
ids = [id(o) % 1000003 for o in objs[::10]]
print("RWVAL", sys._getframe().f_lineno, repr(ids))  # rw-value: ids
