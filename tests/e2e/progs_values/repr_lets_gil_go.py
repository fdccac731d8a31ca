"""An exception's str() and an audit argument's repr() that let the GIL go while
another thread is ready to run (recorder/source_settrace.c exception_event,
recorder/audithook.c): the record is the main thread's still. A socket's repr asks
getsockname, which CPython makes without the GIL; a Slow object's sleeps. The spinning
thread takes the GIL and makes events meanwhile. The recording gave the exception or
the audit to the spinning thread, and the replay parted from it there.

Each value is printed once, as `name=repr(value)`, on the recorded stdout. At the line
marked STOP, `p NAME` must show exactly the repr printed for NAME:
    p caught   -> how many raises of ValueError(sock or slow) were caught
    p audited  -> how many sys.audit("repr.gil", sock or slow) the hook saw
    p spun     -> the spinning thread's count when it stopped
"""
import socket
import sys
import threading
import time

audited = 0


class Slow:
    def __repr__(self):
        time.sleep(0.001)
        return "Slow()"


def hook(event, args):
    global audited
    if event == "repr.gil":
        audited += 1


sys.addaudithook(hook)
stop = False
spun = 0


def spin():
    global spun
    while not stop:
        spun += 1


t = threading.Thread(target=spin)
t.start()
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
caught = 0
slow = Slow()
for i in range(40):
    for what in (sock, slow):
        try:
            raise ValueError(what)
        except ValueError:
            caught += 1
        sys.audit("repr.gil", what)
stop = True
t.join()
sock.close()
print(f"caught={caught!r}")
print(f"audited={audited!r}")
print(f"spun={spun!r}")
done = True  # STOP
