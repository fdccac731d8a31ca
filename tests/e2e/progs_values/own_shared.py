# Anonymous shared memory that only the program writes (mmap.mmap(-1, ...)): the
# replay's engine must keep it private, or its checkpoints (forks) would share it and
# a step back would see the later bytes. Each marker shows what the previous round
# wrote, before this round writes again. Marked lines print "RWVAL <line> <repr>".
import mmap
import sys


def busy(n):
    t = 0
    for i in range(n):
        t += i % 7
    return t


def main():
    m = mmap.mmap(-1, 4096)
    for k in range(5):
        busy(4000)
        print("RWVAL", sys._getframe().f_lineno, repr(m[:8]))  # rw-value: m[:8]
        m[:8] = str(k).encode() * 8


if __name__ == "__main__":
    main()
