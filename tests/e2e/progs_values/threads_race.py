"""Threads racing on a shared list (issue 14: threads replay in the recorded order).

Three threads append to one list while they count; where the interpreter switched
between them decides the list's order, which differs from run to run. At the line
marked STOP, `p NAME` must show exactly the repr printed for NAME:
    p order   -> the list printed as order=    (which thread appended when)
    p counts  -> the dict printed as counts=   (the counts each thread reached)
    p total   -> the int printed as total=     (an unlocked read-modify-write race)
"""
import threading

order = []
counts = {}
total = 0


def work(name):
    global total
    n = 0
    for i in range(200000):
        n += 1
        t = total
        total = t + 1
        if i % 20000 == 0:
            order.append((name, i))
    counts[name] = n


threads = [threading.Thread(target=work, args=(c,)) for c in "abc"]
for t in threads:
    t.start()
for t in threads:
    t.join()
for name in ("order", "counts", "total"):
    print(f"{name}={globals()[name]!r}")
done = True  # STOP
