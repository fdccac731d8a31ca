# The program enables faulthandler itself (after rewind's handlers are in), then
# crashes in C.
import ctypes
import faulthandler

faulthandler.enable()


def deref():
    return ctypes.string_at(0)


deref()
