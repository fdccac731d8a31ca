"""A C library's stdio stream on a pipe from a child (recorder/libc/files_stdio.c):
apt_pkg reads `dpkg --print-foreign-architectures` with fdopen and fgets. The stream's
reads are the pipe's read calls, logged one by one; a replay, which runs no child,
answers them from the log.

Each value is printed once, as `name=repr(value)`; at the line marked STOP, `p NAME`
must show exactly that:
    p lines  -> the list printed as lines=  (fgets on the stream, to its end)
    p same   -> True                        (fileno of the stream is the descriptor)
    p closed -> 0                           (fclose)
"""
import ctypes
import os
import subprocess

libc = ctypes.CDLL(None, use_errno=True)
libc.fdopen.restype = ctypes.c_void_p
libc.fdopen.argtypes = [ctypes.c_int, ctypes.c_char_p]
libc.fgets.restype = ctypes.c_char_p
libc.fgets.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p]
libc.fileno.argtypes = [ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]

child = subprocess.Popen(["sh", "-c", "echo $$; echo two; sleep 0.05; echo three"],
                         stdout=subprocess.PIPE)
fd = os.dup(child.stdout.fileno())
child.stdout.close()
f = libc.fdopen(fd, b"r")
same = libc.fileno(f) == fd
buf = ctypes.create_string_buffer(256)
lines = []
while libc.fgets(buf, 256, f):
    lines.append(buf.value.decode().strip())
closed = libc.fclose(f)
child.wait()
print(f"lines={lines!r}")
print(f"same={same!r}")
print(f"closed={closed!r}")
done = True  # STOP
