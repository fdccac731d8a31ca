"""A trace function that follows everything in this file: the events it gets must be
the events rewind records for this file between the two settrace calls."""
import sys

ME = __file__
seen = []


def full(frame, event, arg):
    if frame.f_code.co_filename == ME:
        seen.append((event, frame.f_code.co_name, frame.f_lineno))
    return full


class Box:
    def __init__(self, v):
        self.v = v

    def grow(self):
        self.v += 1
        return self


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def fails(n):
    if n % 2:
        raise ValueError(n)
    return n


def squares(n):
    for i in range(n):
        yield i * i


def work():
    b = Box(1).grow().grow()
    total = fib(6) + b.v + sum(squares(4))
    for i in range(3):
        try:
            total += fails(i)
        except ValueError:
            total -= 1
    return total


sys._getframe().f_trace = full
sys.settrace(full)
result = work()
sys.settrace(None)
print("result", result)
for item in seen:
    print(*item)
