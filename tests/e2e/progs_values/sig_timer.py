# Signals that arrive when the kernel decides (recorder/sigwrap.h): an interval timer
# (setitimer ITIMER_REAL) firing during a CPU loop and during time.sleep (its
# clock_nanosleep fails with EINTR, CPython runs the handler and sleeps again), and
# signal.alarm's seconds left. Where the handler ran (the loop index it saw) is
# whatever the timing was; the replay, where no timer is armed, must run it at the
# same places. Each marked line prints "RWVAL <line> <repr>" (test_values_signals.py).
import signal
import sys
import time

seen = []
i = 0


def on_alarm(signum, frame):
    seen.append(i)


signal.signal(signal.SIGALRM, on_alarm)
signal.setitimer(signal.ITIMER_REAL, 0.002, 0.002)
while len(seen) < 5:
    i += 1
signal.setitimer(signal.ITIMER_REAL, 0)
spins = i
print("RWVAL", sys._getframe().f_lineno, repr(spins))  # rw-value: spins
where = list(seen)
print("RWVAL", sys._getframe().f_lineno, repr(where))  # rw-value: where
i = -1
signal.setitimer(signal.ITIMER_REAL, 0.005, 0.005)
time.sleep(0.04)
left = signal.setitimer(signal.ITIMER_REAL, 0)
in_sleep = len(seen) - 5
print("RWVAL", sys._getframe().f_lineno, repr(in_sleep > 0))  # rw-value: in_sleep > 0
print("RWVAL", sys._getframe().f_lineno, repr(in_sleep))  # rw-value: in_sleep
print("RWVAL", sys._getframe().f_lineno, repr(left))  # rw-value: left
signal.alarm(30)
alarm_left = signal.alarm(0)
print("RWVAL", sys._getframe().f_lineno, repr(alarm_left))  # rw-value: alarm_left
