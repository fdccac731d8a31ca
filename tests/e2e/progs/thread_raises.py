# A thread started with _thread.start_new_thread whose function raises: CPython reports
# it to sys.unraisablehook with the function as the object, and the default hook
# writes "Exception ignored in thread started by: <function task ...>" and the
# traceback to stderr. Under rewind the object was rewind's own bootstrap.
import _thread
import sys

seen = []
reported = _thread.allocate_lock()


def task(n):
    raise ValueError(f"task {n} failed")


def hook(u):
    seen.append((u.object is task, u.err_msg, str(u.exc_value)))
    sys.__unraisablehook__(u)
    reported.release()


sys.unraisablehook = hook
for n in range(2):
    reported.acquire()
    _thread.start_new_thread(task, (n,))
    with reported:  # the report is written
        pass
print(seen)
