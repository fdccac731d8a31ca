"""Many threads contending in C on a queue.SimpleQueue, a threading.Lock and a
threading.Condition (issue 14: threads blocked in C on one lock are woken in the
kernel's order; the replay must hand each lock to the thread the recording did).

Producers put numbered items in a SimpleQueue; consumers block in its get() (in C),
take an item, and pass it on under a Lock to a Condition-guarded list, from which
collectors wait (Condition.wait, in C) and take it. Which consumer and which collector
got which item is the kernel's choice while recording. At the line marked STOP,
`p NAME` must show exactly the repr printed for NAME:
    p got     -> the dict printed as got=     (the items each consumer received)
    p took    -> the dict printed as took=    (the items each collector took)
    p order   -> the list printed as order=   (the order items passed the Lock)
"""
import queue
import threading
import time

N_ITEMS = 240
N_CONSUMERS = 6
N_COLLECTORS = 4

q = queue.SimpleQueue()
lock = threading.Lock()
cond = threading.Condition()
shelf = []
got = {}
took = {}
order = []


def consumer(name):
    mine = []
    while True:
        item = q.get()
        if item is None:
            break
        mine.append(item)
        with lock:
            order.append((name, item))
        with cond:
            shelf.append(item)
            cond.notify()
    got[name] = mine


def collector(name):
    mine = []
    while True:
        with cond:
            while not shelf:
                cond.wait()
            item = shelf.pop(0)
        if item is None:
            break
        mine.append(item)
    took[name] = mine


def producer(start):
    for i in range(start, N_ITEMS, 2):
        q.put(i)
        time.sleep(0.0002)  # the consumers are all blocked in get() again


consumers = [threading.Thread(target=consumer, args=(f"c{k}",)) for k in range(N_CONSUMERS)]
collectors = [threading.Thread(target=collector, args=(f"k{k}",)) for k in range(N_COLLECTORS)]
producers = [threading.Thread(target=producer, args=(s,)) for s in (0, 1)]
for t in consumers + collectors + producers:
    t.start()
for t in producers:
    t.join()
for _ in consumers:
    q.put(None)
for t in consumers:
    t.join()
with cond:
    shelf.extend([None] * N_COLLECTORS)
    cond.notify_all()
for t in collectors:
    t.join()
got = dict(sorted(got.items()))
took = dict(sorted(took.items()))
for name in ("got", "took", "order"):
    print(f"{name}={globals()[name]!r}")
done = True  # STOP
