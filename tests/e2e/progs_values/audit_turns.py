# An audit event raised in C after the call let go of the GIL (recorder/audithook.c,
# the engine's audit turn): socket.sendto to ("localhost", port) looks the name up with
# the GIL released, then raises "socket.sendto", then sends with the GIL released
# again. A second thread that spins in Python takes the GIL at either release, so the
# recording's thread switches fall before or after the audit record at the same event
# position; the replay must put each audit record where the recording has it.
# Marked lines print "RWVAL <line> <repr>".
import socket
import sys
import threading

stop = False
spins = 0


def spin():
    global spins
    while not stop:
        spins += 1


rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.bind(("127.0.0.1", 0))
port = rx.getsockname()[1]
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t = threading.Thread(target=spin)
t.start()
for i in range(60):
    tx.sendto(b"x", ("localhost", port))
stop = True
t.join()
got = len(rx.recv(10))
print("RWVAL", sys._getframe().f_lineno, repr(got))  # rw-value: got
seen = spins
print("RWVAL", sys._getframe().f_lineno, repr(seen))  # rw-value: seen
