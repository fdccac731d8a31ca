"""An exception passing through a frame that goes on running: python3 makes that
frame's object there (PyTraceBack_Here) and it lives as long as the frame
(tests/e2e/test_memory_classes.py, docs/memory.md cause 8)."""
import sys
import tracemalloc


def check(n):
    if n % 3 == 0:
        raise ValueError(n)
    return n


def main():
    total = 0
    alive = []
    for n in range(1, 8):
        try:
            total += check(n)
        except ValueError:
            total -= 1
    alive.append(total)
    if tracemalloc.is_tracing():  # SNAPSHOT
        tracemalloc.take_snapshot().dump(sys.argv[-1])
    return alive


print(main())
