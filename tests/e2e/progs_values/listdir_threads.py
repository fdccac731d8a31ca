"""Two threads listing directories at once (recorder/libc/files_dir.c): os.listdir
opens its stream and reads it without the GIL, so the two threads open streams in
either order, and a replay numbered the streams in its own order: the entries a
READDIR record names were another stream's.

Each value is printed once, as `name=repr(value)`, on the recorded stdout. At the line
marked STOP, `p NAME` must show exactly the repr printed for NAME:
    p seen     -> what each thread's listings held (sorted names, the count of listings)
"""
import os
import threading

for name, n in (("dir_a", 3), ("dir_b", 5)):
    os.makedirs(name, exist_ok=True)
    for i in range(n):
        open(os.path.join(name, f"{name}_{i}"), "w").close()

seen = {}


def lister(name):
    names, count = set(), 0
    for _ in range(1000):
        names.update(os.listdir(name))
        count += 1
    seen[name] = (sorted(names), count)


threads = [threading.Thread(target=lister, args=(d,)) for d in ("dir_a", "dir_b")]
for t in threads:
    t.start()
for t in threads:
    t.join()
seen = sorted(seen.items())
print(f"seen={seen!r}")
done = True  # STOP
