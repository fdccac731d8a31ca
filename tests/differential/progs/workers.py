"""Threads: workers fed by a queue, results gathered under a lock."""

import queue
import threading

jobs = queue.Queue()
results = []
lock = threading.Lock()


def work(n):
    return sum(i * i for i in range(n))


def worker():
    while True:
        n = jobs.get()
        if n is None:
            break
        value = work(n)
        with lock:
            results.append(value)


threads = [threading.Thread(target=worker, name=f"w{i}") for i in range(3)]
for t in threads:
    t.start()
for n in range(30):
    jobs.put(n * 10)
for _ in threads:
    jobs.put(None)
for t in threads:
    t.join()
print(len(results), sum(results))  # rewind-snapshot
