"""A RAW free made without the GIL lands in the tail of another thread's run.

Each round: a worker sleeps in time.sleep; the main thread sends it an asynchronous
exception (PyThreadState_SetAsyncExc), and in tracing mode its next call spins at its
first instruction until another thread takes the GIL (async_exc.py). Meanwhile a third
thread, in a C call without the GIL (libfreelater.so), frees a block that it allocated
with PyMem_RawMalloc: the recorder keeps that free in its side buffer, and the third
thread, taking the GIL back, drains it into the stream after the main thread's last
event, as if the main thread had made it after that event. The replay's main thread
makes no such record: a replay that waited for it spun for good.

Printed: "freed <address>" for each block (the test finds each free in the trace) and
"RWVAL <line> <repr>" for the marked line.
"""
import ctypes
import os
import sys
import threading
import time

lib = ctypes.CDLL(os.path.join(os.path.dirname(os.path.abspath(__file__)), "libfreelater.so"))
lib.free_later.argtypes = (ctypes.c_void_p, ctypes.c_int)
raw_malloc = ctypes.pythonapi.PyMem_RawMalloc
raw_malloc.argtypes = (ctypes.c_size_t,)
raw_malloc.restype = ctypes.c_void_p
set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)


class AsyncExc(Exception):
    pass


def work(started, result):
    try:
        while True:
            started.set()
            time.sleep(0.3)
    except AsyncExc:
        result["worker"] = "raised"


def free_it(p):
    lib.free_later(p, 60)


def check(n):
    return n == 1


results = []
for i in range(3):
    started = threading.Event()
    result = {}
    t = threading.Thread(target=work, args=(started, result), daemon=True)
    t.start()
    started.wait()
    p = raw_malloc(64)
    print("freed", hex(p))
    freer = threading.Thread(target=free_it, args=(p,))
    freer.start()
    time.sleep(0.01)  # the freer is in its C call
    n = set_async_exc(t.ident, ctypes.py_object(AsyncExc))
    ok = check(n)
    freer.join()
    t.join()
    results.append((n, ok, result.get("worker")))
print("RWVAL", sys._getframe().f_lineno, repr(results))  # rw-value: results
