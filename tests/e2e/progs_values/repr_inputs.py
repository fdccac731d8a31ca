# The program's own code that rewind runs for itself (recorder/pyhelp.h): an exception
# event's message is str() of the exception, and an audit event's arguments are
# repr()'d. A socket's repr asks getsockname, a class's __str__ may read the clock:
# those calls are the program's inputs too, logged, and answered from the log on replay
# (the engine's sandbox refuses getsockname; CPython's test_os stopped there, in
# asyncio's start_server). Marked lines print "RWVAL <line> <repr>".
import socket
import sys
import time


class Stamp(Exception):
    def __str__(self):
        return f"stamp {time.time_ns() % 1000003}"


s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
port = s.getsockname()[1]
print("RWVAL", sys._getframe().f_lineno, repr(port))  # rw-value: port
try:
    raise ValueError(s)  # the exception event's message is str(s): getsockname
except ValueError as e:
    caught = type(e).__name__
print("RWVAL", sys._getframe().f_lineno, repr(caught))  # rw-value: caught
try:
    raise Stamp()  # the message reads the clock
except Stamp as e:
    text = str(e)
print("RWVAL", sys._getframe().f_lineno, repr(text))  # rw-value: text
s.close()
after = time.monotonic_ns() % 1000003
print("RWVAL", sys._getframe().f_lineno, repr(after))  # rw-value: after
