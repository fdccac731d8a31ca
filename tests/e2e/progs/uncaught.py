def inner(x):
    return 1 / x


def outer():
    print("about to fail")
    return inner(0)


outer()
