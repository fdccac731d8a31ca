# A file written, read back and deleted; a directory listed; stdin read. The replay
# must show what was read although nothing exists any more (test_values.py).
import os
import sys

os.makedirs("vdir", exist_ok=True)
for name in ("b.txt", "a.txt", "c.txt"):
    with open(os.path.join("vdir", name), "w") as f:
        f.write(name.upper() * 3)
listing = os.listdir("vdir")
print("RWVAL", sys._getframe().f_lineno, repr(listing))  # rw-value: listing
with open(os.path.join("vdir", "a.txt")) as f:
    text = f.read()
print("RWVAL", sys._getframe().f_lineno, repr(text))  # rw-value: text
size = os.stat(os.path.join("vdir", "c.txt")).st_size
print("RWVAL", sys._getframe().f_lineno, repr(size))  # rw-value: size
for name in os.listdir("vdir"):
    os.unlink(os.path.join("vdir", name))
os.rmdir("vdir")
gone = os.path.exists("vdir")
print("RWVAL", sys._getframe().f_lineno, repr(gone))  # rw-value: gone
line = sys.stdin.readline()
print("RWVAL", sys._getframe().f_lineno, repr(line))  # rw-value: line
total = 0
for i in range(3):
    total += len(line) * i
    print("RWVAL", sys._getframe().f_lineno, repr(total))  # rw-value: total
