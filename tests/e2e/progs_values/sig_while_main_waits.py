# A signal for the main thread while it waits where a signal does not wake it (a
# buffered file's lock, held by a thread blocked in read: PyThread_acquire_lock goes on
# waiting after EINTR). CPython has set the eval breaker for the main thread; a traced
# thread that holds the GIL meanwhile and calls a function must not spin at the call's
# RESUME (3.11's DO_TRACING: recorder/evalbreak.c), or nobody writes what the reader
# waits for. Plain python3 with threading.settrace hangs here. Marked lines print
# "RWVAL <line> <repr>".
import os
import signal
import sys
import threading
import time

got = []
calls = 0
signal.signal(signal.SIGUSR1, lambda signum, frame: got.append(signum))
rfd, wfd = os.pipe()
r = open(rfd, "rb")
main = threading.get_ident()


def reader():
    r.read(1)  # holds r's lock, waits in read(2)


def f():
    global calls
    calls += 1


def worker():
    time.sleep(0.3)  # the main thread now waits for r's lock
    signal.pthread_kill(main, signal.SIGUSR1)
    end = time.monotonic() + 0.1
    while time.monotonic() < end:  # holds the GIL while the C handler runs in main
        f()
    os.write(wfd, b"ab")


tr = threading.Thread(target=reader)
tr.start()
time.sleep(0.1)
tw = threading.Thread(target=worker)
tw.start()
data = r.read(1)
tr.join()
tw.join()
print("RWVAL", sys._getframe().f_lineno, repr(data))  # rw-value: data
print("RWVAL", sys._getframe().f_lineno, repr((got, calls)))  # rw-value: (got, calls)
