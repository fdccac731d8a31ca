"""A thread that C code started and that runs no Python while the main thread works
(libc's usleep as its start routine), joined later: a replay takes no checkpoint while
it lives (replayer/engine/inside/server.c, one_thread), since a checkpoint copies the
calling thread only; resumed from one, the join waited for a thread that the copy did
not have.

Each value is printed once, as `name=repr(value)`, on the recorded stdout. At the line
marked STOP, `p NAME` must show exactly the repr printed for NAME:
    p total    -> what the main thread's loop summed while the C thread slept
    p rc       -> what pthread_join returned
"""
import ctypes

libc = ctypes.CDLL(None)
tid = ctypes.c_ulong()
if libc.pthread_create(ctypes.byref(tid), None, ctypes.cast(libc.usleep, ctypes.c_void_p),
                       ctypes.c_void_p(200000)) != 0:
    raise OSError("pthread_create")
total = 0
for i in range(30000):
    total += i % 7
rc = libc.pthread_join(tid, None)
print(f"total={total!r}")
print(f"rc={rc!r}")
done = True  # STOP
