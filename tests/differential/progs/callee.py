def f(n):
    y = n * 2
    return y
