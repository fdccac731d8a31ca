# A signal another thread raises (recorder/sigwrap.h, the engine's signal_wait):
# signal.raise_signal in a second thread trips SIGUSR1 there, and the main thread runs
# the Python handler at its first check after it has the GIL back, in the middle of its
# loop. The replay must run each handler at the same place: what the loop had counted
# then. Marked lines print "RWVAL <line> <repr>".
import signal
import sys
import threading
import time

hits = []
count = 0


def on_usr1(signum, frame):
    hits.append(count)


def sender():
    for i in range(20):
        signal.raise_signal(signal.SIGUSR1)
        while len(hits) <= i:  # one signal at a time: two would meet in one handler's
            time.sleep(0.001)  # start, which the replay does not order (reexecution.md)


signal.signal(signal.SIGUSR1, on_usr1)
t = threading.Thread(target=sender)
t.start()
while t.is_alive():
    count += 1
t.join()
n = len(hits)
print("RWVAL", sys._getframe().f_lineno, repr(n))  # rw-value: n
print("RWVAL", sys._getframe().f_lineno, repr(hits))  # rw-value: hits
