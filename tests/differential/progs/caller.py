import callee


def caller():
    x = callee.f(3)
    return x + 1


print(caller())
