# A thread woken by a queue's put: the kernel runs it some time after the put, and it
# asks for the GIL 5 ms later. The main thread calls a small function in a loop
# meanwhile and lets the GIL go at one of its eval-breaker checks, often a call's first
# instruction, before tracing mode makes the call's frame object (not recorded). The
# worker then makes a function object, of the frame object's size class, in the block
# the frame object had before: in the replay the main thread must let the GIL go at the
# same check even when the worker is late, or it takes that block first and the
# worker's function objects get other id()s. Marked lines print "RWVAL <line> <repr>".
import queue
import sys
import threading

q = queue.SimpleQueue()
made = []


def worker():
    while True:
        n = q.get()
        if n is None:
            return
        made.append(lambda: n)


def one(a):
    return a


t = threading.Thread(target=worker)
t.start()
total = 0
for rnd in range(30):
    q.put(rnd)
    for i in range(15000):
        total += one(i)
q.put(None)
t.join()
ids = [id(f) % 1000003 for f in made[-6:]]
print("RWVAL", sys._getframe().f_lineno, repr(ids))  # rw-value: ids
print("RWVAL", sys._getframe().f_lineno, repr(total))  # rw-value: total
