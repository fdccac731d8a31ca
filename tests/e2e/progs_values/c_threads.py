"""Threads that C code starts (recorder/threadwrap.c, "threads that C code starts"):
ctypes callbacks run by threads that the C library's pthread_create made, while a
thread of Python's and the main thread run too. Each callback reads the clock, the
random generators and a file, and makes objects whose addresses it keeps. Before
rewind followed such threads, their Python code was not in the recording at all.

Each value is printed once, as `name=repr(value)`, on the recorded stdout. At the line
marked STOP, `p NAME` must show exactly the repr printed for NAME:
    p results  -> what each callback and the Python thread saw, in the order they
                  appended it (the recorded order of the threads)
"""
import ctypes
import os
import random
import threading
import time

libc = ctypes.CDLL(None, use_errno=True)
START = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p)
with open("data.txt", "w") as f:
    f.write("what the file held\n")

results = []
lock = threading.Lock()


def body(arg):
    n = arg or 0
    objs = [object() for _ in range(20 + n)]
    with open("data.txt") as f:
        text = f.read().strip()
    seen = (n, time.time(), os.urandom(4).hex(), random.random(), text,
            min(id(o) for o in objs) % 1000003)
    with lock:
        results.append(seen)
    return 0


start = START(body)
tids = []
for i in range(4):
    tid = ctypes.c_ulong()
    if libc.pthread_create(ctypes.byref(tid), None, start, ctypes.c_void_p(i + 1)) != 0:
        raise OSError(ctypes.get_errno(), "pthread_create")
    tids.append(tid)
py = threading.Thread(target=body, args=(0,))
py.start()
for tid in tids:
    libc.pthread_join(tid, None)
py.join()
os.unlink("data.txt")
print(f"results={results!r}")
done = True  # STOP
