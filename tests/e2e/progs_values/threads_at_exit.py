# Threads that are still running when the program ends: daemon threads that sleep in
# a loop, spin, or wait forever, and threads of _thread that the program started last
# and that may not have run at all. The recording ends where the main thread ended;
# the replay must reach that end with the recorded values, each thread stopping where
# its recording stopped (one in the middle of its sleep, one never started), without
# a divergence. Marked lines print "RWVAL <line> <repr>".
import _thread
import sys
import threading
import time


def sleeper():
    while True:
        time.sleep(0.002)


def spinner():
    n = 0
    while True:
        n += 1


started = threading.Event()


def waiter():
    started.set()
    threading.Event().wait()


threading.Thread(target=sleeper, daemon=True).start()
threading.Thread(target=spinner, daemon=True).start()
threading.Thread(target=waiter, daemon=True).start()
started.wait()
for i in range(4):
    _thread.start_new_thread(sleeper, ())
total = 0
for i in range(3000):
    total += i
print("RWVAL", sys._getframe().f_lineno, repr(total))  # rw-value: total
