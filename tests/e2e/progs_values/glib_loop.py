"""A GLib main loop (PyGObject): GLib.MainLoop.run lets the GIL go, and GLib computes
its poll's timeout from its own monotonic clock reads, which recorder/libc/clock.c
logs as it logs OpenSSL's. Timers of 3 and 7 ms, and a pipe that a thread writes to,
watched by the loop: the order in which they fire follows the clock and the poll.
(The thread writes to a pipe rather than calling GLib.idle_add: a thread that calls
into GLib while the loop runs without the GIL meets GLib's own lock and state, whose
order a replay does not repeat: docs/reexecution.md, "Known limits".)

Each value is printed once, as `name=repr(value)`; at the line marked STOP, `p NAME`
must show exactly that:
    p order  -> the list printed as order=  (which source fired, in order)
    p n      -> the int printed as n=       (how many times)
"""
import os
import threading
import time

from gi.repository import GLib

loop = GLib.MainLoop()
fired = []


def tick(name, limit):
    fired.append(name)
    if fired.count(name) >= limit:
        if name == "slow":
            loop.quit()
        return False
    return True


def readable(fd, cond):
    fired.append("pipe:" + os.read(fd, 16).decode())
    return True


r, w = os.pipe()
GLib.io_add_watch(r, GLib.IO_IN, readable)
GLib.timeout_add(3, tick, "fast", 6)
GLib.timeout_add(7, tick, "slow", 3)
writer = threading.Thread(target=lambda: (time.sleep(0.004), os.write(w, b"x")))
writer.start()
loop.run()
writer.join()
order = fired
n = len(fired)
print(f"order={order!r}")
print(f"n={n!r}")
done = True  # STOP
