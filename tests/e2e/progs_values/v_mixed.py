# Values that depend on the outside and on addresses (issue 14's tests). Each marked
# line prints "RWVAL <line> <repr>" while recording; the replay must show the same
# repr with `p EXPR` at that line (test_values.py).
import datetime
import os
import random
import sys
import time
import uuid


def mark(value):
    return value


class Obj:
    def __init__(self, n):
        self.n = n


now = time.time()
print("RWVAL", sys._getframe().f_lineno, repr(now))  # rw-value: now
when = datetime.datetime.now()
print("RWVAL", sys._getframe().f_lineno, repr(when))  # rw-value: when
r = random.random()
print("RWVAL", sys._getframe().f_lineno, repr(r))  # rw-value: r
u = uuid.uuid4()
print("RWVAL", sys._getframe().f_lineno, repr(u))  # rw-value: u
raw = os.urandom(8).hex()
print("RWVAL", sys._getframe().f_lineno, repr(raw))  # rw-value: raw
h = hash("rewind")
print("RWVAL", sys._getframe().f_lineno, repr(h))  # rw-value: h
objs = {Obj(i) for i in range(20)}
order = [o.n for o in objs]
print("RWVAL", sys._getframe().f_lineno, repr(order))  # rw-value: order
plain = object()
print("RWVAL", sys._getframe().f_lineno, repr(plain))  # rw-value: plain
pid = os.getpid()
print("RWVAL", sys._getframe().f_lineno, repr(pid))  # rw-value: pid
home = os.environ.get("RW_VALUES_ENV", "unset")
print("RWVAL", sys._getframe().f_lineno, repr(home))  # rw-value: home
cwd = os.getcwd()
print("RWVAL", sys._getframe().f_lineno, repr(cwd))  # rw-value: cwd
