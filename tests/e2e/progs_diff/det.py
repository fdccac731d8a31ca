# Deterministic: two recordings of it take the same path, call by call.
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def main():
    total = 0
    for i in range(22):
        total += fib(i)
    words = sorted(str(i) for i in range(50))
    print(total, len(words))


main()
