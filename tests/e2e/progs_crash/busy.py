# Spins in the main thread until a line arrives on stdin (read by a helper thread).
# "ready" is printed from inside busy(), so a dump made after it finds that frame.
import sys
import threading

stop = threading.Event()


def reader():
    sys.stdin.readline()
    stop.set()


def busy():
    print("ready", flush=True)
    n = 0
    while not stop.is_set():
        n += 1
    return n


threading.Thread(target=reader, name="reader").start()
busy()
print("done", flush=True)
