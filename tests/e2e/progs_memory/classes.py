"""Class statements against tracemalloc (tests/e2e/test_memory_classes.py): each class
is registered in its base's tp_subclasses under an int made from its address."""
import sys
import tracemalloc


class Base:
    def hello(self):
        return "base"


class Child(Base):
    label = "child"


class Mixin:
    pass


class Both(Child, Mixin):
    __slots__ = ("a", "b")


def make(n):
    made = []
    for i in range(n):
        made.append(type(f"T{i}", (Base,), {"i": i}))
    return made


made = make(20)
classes = [Base, Child, Mixin, Both, *made]
sizes = sorted(set(map(sys.getsizeof, map(id, classes))))
low = max(map(id, classes)) < 2 ** 30
print("address ints", sizes, low)
after = [Child() for _ in range(5)]
if tracemalloc.is_tracing():  # SNAPSHOT
    tracemalloc.take_snapshot().dump(sys.argv[-1])
