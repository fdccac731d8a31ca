def add(a, b):
    c = a + b
    return c


def fact(n):
    if n <= 1:
        return 1
    return n * fact(n - 1)


def main():
    x = add(1, 2)
    y = fact(4)
    total = 0
    for i in range(3):
        total += add(i, x)
    return x + y + total


result = main()
