# An asynchronous exception for another thread (PyThreadState_SetAsyncExc, as
# CPython's test_threading raises one): the interpreter's eval breaker stays up until
# that thread runs, and in tracing mode the main thread's next call cannot get past its
# first instruction (3.11's DO_TRACING goes back to it after the check): it spins there
# until the worker takes the GIL. The replay holds CPython's switch interval, so the
# engine must hand the GIL over there (server.c run_end). Marked lines print
# "RWVAL <line> <repr>".
import ctypes
import sys
import threading
import time


class AsyncExc(Exception):
    pass


results = []


def work(started, result):
    try:
        while True:
            started.set()
            time.sleep(0.002)
    except AsyncExc:
        result["worker"] = "raised"


def check(n):
    return n == 1


set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)
for i in range(20):  # each round: the worker may be back from its sleep or not yet
    started = threading.Event()
    result = {}
    t = threading.Thread(target=work, args=(started, result), daemon=True)
    t.start()
    started.wait()
    n = set_async_exc(t.ident, ctypes.py_object(AsyncExc))
    ok = check(n)
    t.join()
    results.append((n, ok, result.get("worker")))
print("RWVAL", sys._getframe().f_lineno, repr(results))  # rw-value: results
