"""Imported by prog.py: everything here runs at import time."""


def fact(n):
    return 1 if n <= 1 else n * fact(n - 1)


def evens(n):
    for i in range(n):
        if i % 2 == 0:
            yield i


class Table:
    def __init__(self):
        self.rows = []

    def add(self, row):
        self.rows.append(row)


def parse(text):
    try:
        return int(text)
    except ValueError:
        return -1


TABLE = [fact(i) for i in range(8)]
SQUARES = {i: i * i for i in evens(12)}
t = Table()
for word in "1 two 3 four".split():
    t.add(parse(word))
errors = sum(1 for r in t.rows if r < 0)
