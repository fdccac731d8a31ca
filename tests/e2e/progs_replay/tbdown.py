def inner(n):
    if n > 1:
        raise ValueError("bad %d" % n)
    return n


def middle(n):
    return inner(n) + 1


def outer():
    try:
        middle(5)
    except ValueError:
        pass
    return 0


outer()
