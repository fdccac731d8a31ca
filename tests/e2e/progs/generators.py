def count(n):
    i = 0
    while i < n:
        yield i
        i += 1


def pipeline():
    squares = (x * x for x in count(5))
    total = sum(squares)
    evens = [x for x in count(6) if x % 2 == 0]
    g = count(3)
    first = next(g)
    rest = list(g)
    return total, evens, first, rest


def delegate():
    yield from count(2)
    got = yield "ping"
    yield got


d = delegate()
print(pipeline(), next(d), next(d), next(d), d.send("pong"), list(d))
