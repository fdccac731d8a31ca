# One shared memory block mapped twice in the same process (SharedMemory attached by
# name, as CPython's test_multiprocessing ShareableList tests do): a write through one
# mapping shows through the other. The replay makes the two mappings views of one
# object again (recorder/libc/shmem.c: the build before kept two private copies and
# showed 0); its checkpoints and evaluations get their own copy of it. Marked lines
# print "RWVAL <line> <repr>".
import sys
from multiprocessing import shared_memory


def busy(n):
    t = 0
    for i in range(n):
        t += i % 7
    return t


def main():
    a = shared_memory.SharedMemory(create=True, size=64)
    b = shared_memory.SharedMemory(name=a.name)
    try:
        for k in range(1, 5):
            busy(3000)
            seen = bytes(b.buf[:2]) + bytes(b.buf[5:6])
            print("RWVAL", sys._getframe().f_lineno, repr(seen))  # rw-value: bytes(b.buf[:2]) + bytes(b.buf[5:6])
            a.buf[0] = k
            b.buf[1] = 10 * k
    finally:
        b.close()
        a.close()
        a.unlink()


if __name__ == "__main__":
    main()
