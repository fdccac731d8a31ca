# Shared memory that child processes write (recorder/libc/shmem.c): multiprocessing's
# Value and Array (its heap: a file in /dev/shm, mapped shared), a SharedMemory block
# a child attaches to by name, and anonymous memory (mmap.mmap(-1, ...)) that a fork
# shares. No child runs in the replay: what they wrote comes from the log, at the call
# after which the parent saw it. Each value changes several times, so that a replay
# that goes back (rcontinue, from a checkpoint) must find the earlier bytes again.
# Marked lines print "RWVAL <line> <repr>".
import mmap
import multiprocessing as mp
import os
import sys
from multiprocessing import shared_memory


def add(counter, squares, i):
    with counter.get_lock():
        counter.value += 10
    squares[i] = i * i


def fill(name, byte):
    block = shared_memory.SharedMemory(name=name)
    block.buf[:4] = bytes([byte]) * 4
    block.close()


def main():
    ctx = mp.get_context("fork")
    counter = ctx.Value("i", 0)
    squares = ctx.Array("d", 4)
    for round_ in range(2):
        ps = [ctx.Process(target=add, args=(counter, squares, i + round_)) for i in range(3)]
        for p in ps:
            p.start()
        for p in ps:
            p.join()
        seen = (counter.value, list(squares))
        print("RWVAL", sys._getframe().f_lineno, repr(seen))  # rw-value: (counter.value, list(squares))

    block = shared_memory.SharedMemory(create=True, size=64)
    try:
        for byte in (7, 9):
            p = ctx.Process(target=fill, args=(block.name, byte))
            p.start()
            p.join()
            got = bytes(block.buf[:6])
            print("RWVAL", sys._getframe().f_lineno, repr(got))  # rw-value: bytes(block.buf[:6])
    finally:
        block.close()
        block.unlink()

    anon = mmap.mmap(-1, 4096)
    for word in (b"first", b"again"):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            anon[:5] = word
            os.write(w, b"x")
            os._exit(0)
        os.close(w)
        os.read(r, 1)  # the child wrote before this byte came
        os.close(r)
        os.waitpid(pid, 0)
        mine = anon[:5]
        print("RWVAL", sys._getframe().f_lineno, repr(mine))  # rw-value: anon[:5]


if __name__ == "__main__":
    main()
