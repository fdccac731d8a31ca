# Threads started with _thread.start_new_thread whose function raises: CPython reports
# the exception through sys.unraisablehook with the function as the object and
# "Exception ignored in thread started by" (SystemExit silently). Under rewind the
# thread runs rewind's bootstrap first; the report must still name the program's
# function, and the default hook's text on stderr must be python3's.
import _thread
import sys
import time


class Task:
    def __init__(self, exc):
        self.exc = exc

    def __call__(self):
        started.append(self)
        raise self.exc

    def __repr__(self):
        return f"<task raising {type(self.exc).__name__}>"


def wait_for_threads(n):
    while len(started) < n or _thread._count():
        time.sleep(0.01)


started = []
seen = []
default_hook = sys.unraisablehook
sys.unraisablehook = lambda u: seen.append((u.err_msg, repr(u.object), repr(u.exc_value)))
_thread.start_new_thread(Task(ValueError("boom")), ())
_thread.start_new_thread(Task(SystemExit(3)), ())
wait_for_threads(2)
print(seen)
sys.unraisablehook = default_hook
_thread.start_new_thread(Task(KeyError("default hook")), ())
wait_for_threads(3)
print("end")
