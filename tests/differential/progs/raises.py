"""next over a call that raises, then down into the traceback; a generator's return
raising StopIteration into a for loop; exits with status 3."""

import sys


def inner(d):
    return d["missing"]


def outer():
    try:
        inner({})
    except KeyError as exc:
        return repr(exc)


def gen():
    yield 1
    yield 2


for v in gen():
    print(v)
print(outer())
sys.exit(3)
