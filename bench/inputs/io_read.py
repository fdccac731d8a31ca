# Reads a 100 MB file in 64 KiB blocks (issue 14's I/O-heavy benchmark, part 1).
import sys

total = 0
blocks = 0
with open(sys.argv[1], "rb", buffering=0) as f:
    while True:
        b = f.read(65536)
        if not b:
            break
        total += len(b)
        blocks += 1
print(total, blocks)
