"""Values in worker threads while the others want the GIL (a stop in one thread whose
throwaway copy for `p` inherited the others' requests to hand the GIL over hung)."""
import os
import queue
import sys
import threading

jobs = queue.Queue()
lock = threading.Lock()
results = []


def work(n):
    s = sum(i * i for i in range(n))
    os.write(1, f"RWVAL {sys._getframe().f_lineno} {(n, s)!r}\n".encode())  # rw-value: (n, s)
    return s


def worker():
    while True:
        n = jobs.get()
        if n is None:
            break
        value = work(n)
        with lock:
            results.append(value)


threads = [threading.Thread(target=worker) for _ in range(3)]
for t in threads:
    t.start()
for n in range(6):
    jobs.put(20000 + n)
for _ in threads:
    jobs.put(None)
for t in threads:
    t.join()
print(len(results), sum(results))
