# A C stack overflow in a thread with a small stack: the C JSON encoder recurses into a
# deeply nested list. Only an alternate signal stack in that thread lets a handler run.
import json
import sys
import threading

sys.setrecursionlimit(10**8)


def nest():
    deep = []
    for _ in range(200000):
        deep = [deep]
    json.dumps(deep)


threading.stack_size(1 << 20)
t = threading.Thread(target=nest, name="nester")
t.start()
t.join()
