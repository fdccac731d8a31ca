"""Setting a clock (CPython's test_time calls time.clock_settime): performed when
recording, its result logged, not performed by the replay, whose sandbox stopped the
engine at the system call before.
    p err   -> the errno printed as err=
"""
import time

try:
    time.clock_settime(time.CLOCK_MONOTONIC, 0)  # never allowed: EINVAL
    err = 0
except OSError as e:
    err = e.errno
print(f"err={err!r}")
done = True  # STOP
