"""ctypes callbacks from the threads of a C library (libcallbacks.so, built from
callbacks.c by the test): three threads call back four times each, every call with
a new Python thread state (recorder/threadwrap.c: the same OS thread is the same
recorded thread), one of them starts a thread of its own, and a Python thread runs
beside them. Each call reads the clock and the random generators and keeps the
address of an object it made.

Each value is printed once, as `name=repr(value)`, on the recorded stdout. At the line
marked STOP, `p NAME` must show exactly the repr printed for NAME:
    p calls    -> what each call saw, in the order the calls were made
    p started  -> what run_in_threads returned
"""
import ctypes
import os
import random
import threading
import time

lib = ctypes.CDLL(os.path.join(os.path.dirname(os.path.abspath(__file__)), "libcallbacks.so"))
CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_int)
lib.run_in_threads.argtypes = [ctypes.c_int, ctypes.c_int, CALLBACK]

calls = []
lock = threading.Lock()


def call(thread, i):
    objs = [object() for _ in range(10 + i)]
    seen = (thread, i, time.monotonic_ns() % 1000003, random.getrandbits(16),
            os.urandom(2).hex(), id(objs[-1]) % 999983)
    with lock:
        calls.append(seen)
    return 0


def beside():
    for i in range(3):
        call(99, i)
        time.sleep(0.001)


cb = CALLBACK(call)
py = threading.Thread(target=beside)
py.start()
started = lib.run_in_threads(3, 4, cb)
py.join()
print(f"calls={calls!r}")
print(f"started={started!r}")
done = True  # STOP
