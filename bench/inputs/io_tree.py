# Lists a tree of 10,000 files and stats each (issue 14's I/O-heavy benchmark, part 2).
import os
import sys

n = 0
size = 0
for root, dirs, files in os.walk(sys.argv[1]):
    for name in files:
        st = os.stat(os.path.join(root, name))
        size += st.st_size
        n += 1
print(n, size)
