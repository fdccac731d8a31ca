"""A file mapping larger than a record keeps (256 MiB): a sparse file with a few bytes
after a 300 MiB hole, as CPython's test_mmap makes them. The recording logs the
mapping's data extents only (RW_INPUT_F_EXTENTS); the replay must read the tail and the
zeros before it, with the file gone.
    p m[START:]      -> the bytes printed as tail=
    p m[1 << 20]     -> the int printed as zero=
"""
import mmap
import os
import tempfile

START = 300 << 20
with tempfile.TemporaryDirectory() as d:
    with open(os.path.join(d, "sparse"), "w+b") as f:
        f.seek(START)
        f.write(b"  DEARdear  ")
        f.flush()
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            tail = m[START:]
            zero = m[1 << 20]
            print(f"tail={tail!r}")
            print(f"zero={zero!r}")
            done = True  # STOP
