"""About 100 million events for bench_replay.py (the default N): a loop of small calls
with one call of rare() every million iterations (about every 6 million events),
where the benchmark's breakpoint sits (`--break workload.py:12`)."""
import sys


def small(x):
    return x + 1


def rare(i):
    return i


def main(n):
    t = 0
    for i in range(n):
        t = small(t)
        if i % 1_000_000 == 0:
            rare(i)
    return t


main(int(sys.argv[1]) if len(sys.argv) > 1 else 16_700_000)
