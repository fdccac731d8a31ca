"""Values for pdb's p, pp, whatis, args, retval and source: no input, no time, no id."""


def area(w, h=2, *rest, scale=1, **opts):
    result = w * h * scale
    return result


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __repr__(self):
        return "Point(%d, %d)" % (self.x, self.y)

    def norm(self):
        return abs(self.x) + abs(self.y)


data = {"b": [1, 2, 3], "a": {"nested": (4, 5)}, "long": list(range(30)),
        "text": "word " * 20}
pts = [Point(i, i * i) for i in range(3)]
total = 0
for i in range(5):
    total += area(i, 3, 7, scale=2, unit="m")
    print("total", total)
word = "x" * 50
big = 7 ** 60
print("done", total, pts[2].norm())


def shout(n):
    return "word " * n


loud = shout(20)
print(len(loud))
