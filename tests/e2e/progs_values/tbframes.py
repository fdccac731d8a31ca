def inner(d):
    return d["missing"]


def outer():
    try:
        inner({})
    except KeyError as exc:
        return repr(exc)


def risky(n):
    if n > 1:
        raise ValueError("too big: %d" % n)
    return n


def careful(n):
    try:
        return risky(n)
    except ValueError:
        return -1


print(outer())
print(careful(1), careful(5))
