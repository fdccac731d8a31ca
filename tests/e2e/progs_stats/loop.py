"""A short loop of tiny calls for tests/e2e/test_timeit.py: f runs 250 times, g 100,
the generator gen is resumed 41 times (40 values and the final StopIteration)."""


def f(x):
    return x + 1


def g(x):
    return f(x) * 2


def gen(n):
    for i in range(n):
        yield i


total = 0
for i in range(150):
    total += f(i)
for i in range(100):
    total += g(i)
total += sum(gen(40))
print(total)
