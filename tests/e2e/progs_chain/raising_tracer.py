"""Trace and profile functions that raise: CPython removes them and the exception comes
out of the traced code where the event happened. rewind must record on through it."""
import sys


def victim():
    a = 1
    b = a + 1          # the trace function raises on this line
    return a + b


def after(n):
    return n * 2


def line_raiser(frame, event, arg):
    if event == "line" and frame.f_code.co_name == "victim" and frame.f_lineno == 8:
        raise RuntimeError("from the trace function")
    return line_raiser


def call_raiser(frame, event, arg):
    if event == "call" and frame.f_code.co_name == "victim":
        raise LookupError("on call")
    return call_raiser


def profile_raiser(frame, event, arg):
    if event == "c_call" and getattr(arg, "__name__", "") == "len":
        raise OSError("from the profile function")


for tracer in (line_raiser, call_raiser):
    sys.settrace(tracer)
    try:
        victim()
    except Exception as e:
        print("caught", type(e).__name__, e)
    print("trace function now", sys.gettrace())
    print("after", after(3))

sys.setprofile(profile_raiser)
try:
    len("abc")
except OSError as e:
    print("caught", type(e).__name__, e)
print("profile function now", sys.getprofile())
print("after", after(4))
