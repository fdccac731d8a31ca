# Spins in the main thread until a line arrives on stdin (read by a helper thread).
import sys
import threading

stop = threading.Event()


def reader():
    sys.stdin.readline()
    stop.set()


def busy():
    n = 0
    while not stop.is_set():
        n += 1
    return n


threading.Thread(target=reader, name="reader").start()
print("ready", flush=True)
busy()
print("done", flush=True)
