"""A program measured by coverage.py: branches, a thread, a function never called."""
import threading


def branchy(n):
    if n > 5:
        return "big"
    elif n < 0:
        return "neg"
    return "small"


def unused():
    x = 1
    return x


def worker(k, out):
    for i in range(k):
        out.append(branchy(i))


out = []
t = threading.Thread(target=worker, args=(8, out))
t.start()
t.join()
print(branchy(3), len(out))
