def count(n):
    i = 0
    while i < n:
        yield [i] * 2
        i += 1


def main():
    total = 0
    for pair in count(3):
        total += pair[0]
    other = count(2)
    next(other)
    try:
        int("x")
    except ValueError:
        pass
    return total


print(main())
