"""Frame objects that a plain run makes, kept alive (tests/e2e/test_memory.py).

Recording runs the program with a trace function, and CPython 3.11 then gives every
frame a frame object at its first trace event; a plain run makes one only where it is
asked for: sys._getframe(), an exception's traceback, the warnings module looking at
the caller, a C extension's PyFrame_New (here through ctypes, as Cython's tracebacks
do). rewind records none of tracing mode's and records each of these where python3
makes it, so the lines below hold what tracemalloc sees.
"""
import ctypes
import sys
import tracemalloc
import warnings


def here():
    return sys._getframe()


def caller_of_caller():
    return sys._getframe(1)


def outer():
    return caller_of_caller()


def fails(n):
    if n:
        return fails(n - 1)
    raise KeyError(n)


def traceback_of_failure():
    try:
        fails(3)
    except KeyError as e:
        return e.__traceback__


def warns():
    warnings.warn("kept", stacklevel=2)


new_frame = ctypes.pythonapi.PyFrame_New
new_frame.restype = ctypes.py_object
new_frame.argtypes = [ctypes.c_void_p, ctypes.py_object, ctypes.py_object, ctypes.c_void_p]
tstate = ctypes.pythonapi.PyThreadState_Get
tstate.restype = ctypes.c_void_p

frames = [here() for _ in range(30)]
callers = [outer() for _ in range(20)]
tracebacks = [traceback_of_failure() for _ in range(10)]
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for _ in range(5):
        warns()
made = [new_frame(tstate(), here.__code__, globals(), None) for _ in range(15)]
dropped = [new_frame(tstate(), outer.__code__, globals(), None) for _ in range(15)]
del dropped
if tracemalloc.is_tracing():  # SNAPSHOT
    tracemalloc.take_snapshot().dump(sys.argv[1])
