class AppError(Exception):
    pass


def fail(kind):
    if kind == "value":
        raise ValueError("bad value %d" % 42)
    if kind == "app":
        raise AppError("app failed")
    return {}["missing"]


def handle():
    caught = []
    for kind in ("value", "app", "key"):
        try:
            fail(kind)
        except Exception as e:
            caught.append(type(e).__name__)
        finally:
            caught.append("finally")
    try:
        int("not a number")
    except ValueError as e:
        caught.append(str(e))
    return caught


print(handle())
