"""The process's identity in an evaluation at a stop (recorder/libc/input.c): what the
program read before the stop answers the same question there, and what it did not
read (or what a chdir made stale) is refused, never a made-up value.
"""
import os
import socket

pid = os.getpid()
host = socket.gethostname()
un = os.uname()
here = os.getcwd()
print(f"pid={pid!r}")
print(f"host={host!r}")
print(f"here={here!r}")
os.chdir("/")
moved = True  # STOP
