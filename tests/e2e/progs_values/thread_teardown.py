# A thread's teardown runs the program's code: _thread drops the function's arguments
# and the thread state's clear drops its thread-local objects, whose finalizers here
# read and close a file and read the clock. Their calls are answered from the log: the
# build before made them for real in the replay, where the close shut one of the
# engine's own descriptors (its trace: "Bad file descriptor") and the read found no
# file. Marked lines print "RWVAL <line> <repr>".
import os
import sys
import tempfile
import threading
import time

local = threading.local()
seen = []


class Holder:
    def __init__(self, path, tag):
        self.f = open(path, "rb")
        self.tag = tag

    def __del__(self):
        seen.append((self.tag, self.f.read(6), round(time.time()) % 7 < 7))
        self.f.close()


def work(path, tag):
    local.holder = Holder(path, tag)


def main():
    fd, path = tempfile.mkstemp(prefix="rwv-teardown-")
    os.write(fd, b"abcdef" * 4)
    os.close(fd)
    try:
        for tag in ("one", "two"):
            t = threading.Thread(target=work, args=(path, tag))
            t.start()
            t.join()
            while len(seen) < (1 if tag == "one" else 2):
                time.sleep(0.001)  # the finalizer runs after join's wake-up, at the latest
            got = list(seen)
            print("RWVAL", sys._getframe().f_lineno, repr(got))  # rw-value: got
    finally:
        os.unlink(path)


if __name__ == "__main__":
    main()
