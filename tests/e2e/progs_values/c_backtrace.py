"""backtrace() called from C (numpy calls it on every binary operation whose temporary
it could reuse): the C library's, as under python3 (recorder/libc/backtrace.c), not
libunwind's, whose walk reads and writes a pipe of its own that a replay's engine has at
another descriptor.

Each value is printed once, as `name=repr(value)`; at the line marked STOP, `p NAME`
must show exactly that:
    p depths -> the list printed as depths=  (whether frames were found, at three
                                              depths of Python calls)
"""
import ctypes

libc = ctypes.CDLL(None)
buf = (ctypes.c_void_p * 64)()


def walk(n):
    return walk(n - 1) if n else libc.backtrace(buf, 64)


depths = [walk(n) > 0 for n in (0, 5, 10)]
print(f"depths={depths!r}")
done = True  # STOP
