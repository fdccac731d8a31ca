"""Calls of every kind cProfile and trace count: recursion, mutual recursion, closures,
methods, properties, generators, a lambda, builtins, a caught exception."""


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def is_even(n):
    return True if n == 0 else is_odd(n - 1)


def is_odd(n):
    return False if n == 0 else is_even(n - 1)


def counter():
    count = 0

    def bump(step=1):
        nonlocal count
        count += step
        return count
    return bump


class Account:
    def __init__(self, balance):
        self._balance = balance

    @property
    def balance(self):
        return self._balance

    def withdraw(self, amount):
        if amount > self._balance:
            raise ValueError("insufficient funds")
        self._balance -= amount
        return self._balance


def squares(limit):
    for i in range(limit):
        yield i * i


def main():
    results = [fib(15), is_even(31), is_odd(20)]
    bump = counter()
    for _ in range(10):
        bump()
    acct = Account(100)
    refused = 0
    for amount in (30, 50, 40, 10):
        try:
            acct.withdraw(amount)
        except ValueError:
            refused += 1
    total = sum(squares(50))
    key = sorted(["pear", "fig", "apple"], key=lambda s: len(s))
    print(results, bump(0), acct.balance, refused, total, key)  # rewind-snapshot


main()
