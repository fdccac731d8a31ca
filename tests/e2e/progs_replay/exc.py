class Boom(Exception):
    pass


def risky(n):
    if n > 1:
        raise Boom("too big: %d" % n)
    return n


def careful(n):
    try:
        return risky(n)
    except Boom:
        return -1


a = careful(1)
b = careful(5)
c = a + b
