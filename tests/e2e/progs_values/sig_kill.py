# Signals the program sends itself (recorder/sigwrap.h): os.kill, signal.raise_signal
# and signal.pthread_kill to the main thread, each with a Python handler that changes
# state the program then reads. The replay sends nothing (the engine's kill, raise and
# pthread_kill are answered from the log): it runs each handler where the recording
# ran it. Each marked line prints "RWVAL <line> <repr>" (test_values_signals.py).
import os
import signal
import sys
import threading
import time

hits = []


def on_usr1(signum, frame):
    hits.append(("usr1", frame.f_lineno, time.monotonic_ns() % 1000003))


def on_usr2(signum, frame):
    hits.append(("usr2", len(hits)))


signal.signal(signal.SIGUSR1, on_usr1)
signal.signal(signal.SIGUSR2, on_usr2)
total = 0
for i in range(9):
    total += i * i
    if i % 3 == 0:
        os.kill(os.getpid(), signal.SIGUSR1)
    n = len(hits)
    print("RWVAL", sys._getframe().f_lineno, repr(n))  # rw-value: n
last = hits[-1]
print("RWVAL", sys._getframe().f_lineno, repr(last))  # rw-value: last
signal.raise_signal(signal.SIGUSR2)
after_raise = list(hits)
print("RWVAL", sys._getframe().f_lineno, repr(after_raise))  # rw-value: after_raise
signal.pthread_kill(threading.main_thread().ident, signal.SIGUSR2)
after_pthread = hits[-1]
print("RWVAL", sys._getframe().f_lineno, repr(after_pthread))  # rw-value: after_pthread
