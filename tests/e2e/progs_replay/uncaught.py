def inner(d):
    return d["missing"]


def outer():
    table = {"present": 1}
    return inner(table)


outer()
