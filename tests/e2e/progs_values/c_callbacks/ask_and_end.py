"""A thread that asks for the GIL to be taken from it, and ends.

The main thread's run ends right before a ctypes call (call_later, libcallbacks.so,
built from callbacks.c by the test), and the thread whose run comes next, `beside`,
waits for the GIL there: the replay's main thread asks for the switch (server.c
run_end), then lets the GIL go in the call, which starts a C thread, sleeps, calls
back once and joins it. The callback's run ends right before the main thread's next
one, and the main thread still counts as about to take the GIL (it asked), so the C
thread asks for the switch in turn, and then ends: its thread state is deleted and it
lets the GIL go. Before, it waited there (drop_gil, with its request up) for a thread
to take the GIL, while the main thread waited in pthread_join for it to end.

Printed: "RWVAL <line> <repr>" for the marked line.
"""
import ctypes
import os
import sys
import threading

lib = ctypes.CDLL(os.path.join(os.path.dirname(os.path.abspath(__file__)), "libcallbacks.so"))
CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_int)
lib.call_later.argtypes = [CALLBACK, ctypes.c_int]

seen = []


def call(thread, i):
    seen.append(("callback", thread, i))
    return 0


def beside():  # runs on after start() returns: the main thread takes the GIL from it
    # Long enough to outlast the switch interval (5 ms) while recorded on a fast
    # machine: 30,000 rounds did not once the ring's blocks were huge pages.
    total = 0
    for i in range(300000):
        total += i
    seen.append(("beside", total))


cb = CALLBACK(call)
rounds = []
for r in range(3):
    py = threading.Thread(target=beside)
    py.start()
    rc = lib.call_later(cb, 50)
    py.join()
    rounds.append(rc)
print("RWVAL", sys._getframe().f_lineno, repr((rounds, seen)))  # rw-value: (rounds, seen)
