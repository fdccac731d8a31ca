# Addresses in a program with threads: short-lived threads end (each frees its own
# thread state after it lets the GIL go, when the kernel's scheduler lets it) while the
# main thread fills obmalloc's arenas and allocates RAW blocks. The objects' id()s, and
# the order of a set of them (hashed by id), must be the recorded ones in the replay
# (recorder/detalloc.h: the arena region; detalloc_py.c: thread states are kept).
# Marked lines print "RWVAL <line> <repr>".
import sys
import threading


def worker(n):
    return sum(range(n * 100))


# Instances over 512 bytes are RAW blocks (the main thread's: detalloc's low region,
# where the threads' states are too); hashed by id().
Big = type("Big", (), {"__slots__": tuple("a%d" % i for i in range(70))})
objs = []
for rnd in range(40):
    ts = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for _ in range(300):  # the threads end meanwhile
        objs.extend([object() for _ in range(8)])
        objs.append(Big())
    for t in ts:
        t.join()
late = [id(objs[i]) % 1000003 for i in range(len(objs) - 1, 0, -20011)]
bigs = [o for o in objs if type(o) is Big]
big_ids = [id(o) % 1000003 for o in bigs[-5:]]
print("RWVAL", sys._getframe().f_lineno, repr(big_ids))  # rw-value: big_ids
print("RWVAL", sys._getframe().f_lineno, repr(late))  # rw-value: late
sample = {objs[i] for i in range(0, len(objs), 4999)} | set(bigs[::7])
order = [objs.index(o) for o in sample]
print("RWVAL", sys._getframe().f_lineno, repr(order))  # rw-value: order
