# A finalizer that runs in a thread's teardown, after the thread's function returned
# (the Thread object's last reference goes there), and reads os.getpid(), as
# multiprocessing's Finalize does (a queue's feeder thread in CPython's
# test_multiprocessing_fork). The thread's calls are not logged there; the replay must
# still give the recorded process's pid, not the engine's. Marked lines print
# "RWVAL <line> <repr>".
import os
import sys
import threading
import time
import weakref

pid = os.getpid()
seen = []


def on_free(i):
    seen.append((i, os.getpid() == pid))


for i in range(4):
    t = threading.Thread(target=time.sleep, args=(0.05,))
    weakref.finalize(t, on_free, i)
    t.start()
    del t  # the thread's own reference is the last
    while len(seen) <= i:
        time.sleep(0.001)
print("RWVAL", sys._getframe().f_lineno, repr(seen))  # rw-value: seen
