# A signal that arrives right before an audited call (recorder/sigwrap.h): a 1 ms timer
# is armed, then the arguments of os.kill take some ms in C with no check of signals
# (a bytes repeat), so SIGALRM is pending when os.kill raises its audit event. rewind's
# audit hook prints the event's arguments with repr, and PyObject_Repr checks signals:
# a handler run there ran inside rewind's hook, out of sight, and was not logged.
# CPython's test_signal (test_stress_delivery_simultaneous) does this by chance. Both
# handlers must run where a plain run runs them (at os.kill's check, SIGUSR1 first),
# in the recording and in its replay. Marked lines print "RWVAL <line> <repr>".
import os
import signal
import sys
import time

order = []


def on_usr1(signum, frame):
    order.append("usr1")


def on_alarm(signum, frame):
    order.append("alarm")


signal.signal(signal.SIGUSR1, on_usr1)
signal.signal(signal.SIGALRM, on_alarm)
pid = os.getpid()
seen = []
for i in range(4):
    signal.setitimer(signal.ITIMER_REAL, 0.001)
    os.kill(pid, (b"x" * 50_000_000)[0] and signal.SIGUSR1)  # the alarm comes in here
    seen.append(order[-2:])
    print("RWVAL", sys._getframe().f_lineno, repr(seen[-1]))  # rw-value: seen[-1]
now = time.monotonic_ns() % 1000003
print("RWVAL", sys._getframe().f_lineno, repr(now))  # rw-value: now
print("RWVAL", sys._getframe().f_lineno, repr(order))  # rw-value: order
