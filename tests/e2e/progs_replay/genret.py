def gen():
    yield 1
    return 5


def consume():
    for v in gen():
        pass
    return 0


consume()
