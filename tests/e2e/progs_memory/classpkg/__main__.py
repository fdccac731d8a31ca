"""python3 -m classpkg: classes made by a module that runpy runs."""
import sys
import tracemalloc


class Shape:
    sides = 0


class Square(Shape):
    sides = 4


class Triangle(Shape):
    sides = 3


kinds = []
for n in range(5, 15):
    kinds.append(type(f"Poly{n}", (Shape,), {"sides": n}))
total = Square.sides + Triangle.sides
for k in kinds:
    total += k.sides
print("total", total)
done = [Square() for _ in range(3)]
if tracemalloc.is_tracing():  # SNAPSHOT
    tracemalloc.take_snapshot().dump(sys.argv[-1])
