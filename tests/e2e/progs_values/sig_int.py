# KeyboardInterrupt (SIGINT's default Python handler) raised inside a loop and caught
# by the program (SIGINT sent by the program itself, then by another process), and a
# SIGCHLD handler that runs when a child ends: the replay sends no SIGINT and starts no
# child, and must raise the interrupt and run the handler where the recording did.
# Each marked line prints "RWVAL <line> <repr>" (test_values_signals.py).
import os
import signal
import subprocess
import sys
import time

count = 0
t0 = time.monotonic()
try:
    while True:
        count += 1
        if count % 1000 == 0 and time.monotonic() - t0 > 0.01:
            os.kill(os.getpid(), signal.SIGINT)
except KeyboardInterrupt:
    caught = count
print("RWVAL", sys._getframe().f_lineno, repr(caught))  # rw-value: caught

# SIGINT from another process, while a pure-Python loop runs: the interrupt is
# raised at whatever iteration the eval breaker saw it.
killer = subprocess.Popen(["sh", "-c", "sleep 0.05; kill -INT %d" % os.getpid()])
spun = 0
try:
    while True:
        spun += 1
except KeyboardInterrupt:
    stopped = spun
killer.wait()
print("RWVAL", sys._getframe().f_lineno, repr(stopped))  # rw-value: stopped

children = []


def on_child(signum, frame):
    children.append((signum, frame.f_code.co_name if frame else None))


signal.signal(signal.SIGCHLD, on_child)
out = subprocess.run(["true"]).returncode
k = 0
while not children and k < 10000000:
    k += 1
got = (out, children[:1], k > 0)
print("RWVAL", sys._getframe().f_lineno, repr(got))  # rw-value: got
