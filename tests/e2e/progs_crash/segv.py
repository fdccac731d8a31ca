# A null dereference in C (ctypes), with a second thread parked on an Event.
import ctypes
import threading

started = threading.Event()
never = threading.Event()


def park():
    started.set()
    never.wait()


def deref():
    return ctypes.string_at(0)


def outer():
    return deref()


threading.Thread(target=park, name="parked", daemon=True).start()
started.wait()
print("about to crash", flush=True)
outer()
