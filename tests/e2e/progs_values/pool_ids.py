# Addresses in a thread pool: ThreadPoolExecutor starts its workers one at a time, as
# work is submitted, while the main thread and the workers already running wait for
# locks (their turns, in the replay, taken without the GIL). A new thread's first
# allocations must come at its recorded place among the others', and so must what
# rewind allocates while it makes the thread a recorded one: otherwise obmalloc's free
# lists differ, and so do the futures' id()s, which cf.wait sorts by to take their
# locks. Marked lines print "RWVAL <line> <repr>".
import concurrent.futures as cf
import sys
import time


def work(i):
    x = [str(j) for j in range(i % 13)]
    if i % 5 == 0:
        time.sleep(0.0005)
    return len(x)


kept = []
total = 0
with cf.ThreadPoolExecutor(max_workers=5) as ex:
    for rnd in range(25):
        futs = [ex.submit(work, i) for i in range(rnd, rnd + 30)]
        for f in futs:
            total += f.result()
        done, _ = cf.wait(futs, timeout=5)  # takes the futures' locks in id() order
        kept.extend(futs[::3])
ids = [id(f) % 1000003 for f in kept[-6:]]
print("RWVAL", sys._getframe().f_lineno, repr(ids))  # rw-value: ids
order = [kept.index(f) for f in sorted(kept[-40:], key=id)]
print("RWVAL", sys._getframe().f_lineno, repr(order))  # rw-value: order
print("RWVAL", sys._getframe().f_lineno, repr(total))  # rw-value: total
