"""Deterministic workload for tests/e2e/test_stats.py: recursion (plain and mutual),
generators, a class, builtins and C methods, exceptions caught in Python and raised
by C functions."""


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def is_even(n):
    return True if n == 0 else is_odd(n - 1)


def is_odd(n):
    return False if n == 0 else is_even(n - 1)


def squares(n):
    for i in range(n):
        yield i * i


class Stack:
    def __init__(self):
        self.items = []

    def push(self, x):
        self.items.append(x)

    def pop(self):
        return self.items.pop()

    def __len__(self):
        return len(self.items)


def parse(text):
    try:
        return int(text)
    except ValueError:
        return None


def checked(x):
    if x % 3 == 0:
        raise KeyError(x)
    return x


def main():
    total = fib(12)
    total += sum(1 for k in range(30) if is_even(k))
    s = Stack()
    for v in squares(20):
        s.push(v)
    while len(s):
        total += s.pop()
    words = sorted(str(i) for i in range(25))
    total += len(words) + sum(len(w) for w in words)
    for t in ("1", "x", "22", "", "7"):
        r = parse(t)
        total += r or 0
    for i in range(10):
        try:
            total += checked(i)
        except KeyError:
            total -= 1
    print(total, isinstance(s, Stack), max(words), "".join(words[:3]))


if __name__ == "__main__":
    main()
