"""Clock calls of CPython's test_time that a replay must not make itself:
    p err   -> the errno printed as err=      (time.clock_settime: performed when
               recording, its result logged, not performed by the replay, whose sandbox
               stopped the engine at the system call before)
    p cid   -> the id printed as cid=         (time.pthread_getcpuclockid: the id encodes
               the kernel's thread id, another number in a replay)
    p used  -> the float printed as used=     (that clock read under the recorded id)
"""
import threading
import time

try:
    time.clock_settime(time.CLOCK_MONOTONIC, 0)  # never allowed: EINVAL
    err = 0
except OSError as e:
    err = e.errno
cid = time.pthread_getcpuclockid(threading.get_ident())
used = time.clock_gettime(cid)
print(f"err={err!r}")
print(f"cid={cid!r}")
print(f"used={used!r}")
done = True  # STOP
