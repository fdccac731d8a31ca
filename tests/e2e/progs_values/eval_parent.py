"""The process's pid and its parent's in an evaluation at a stop, where the program
never asked for them (recorder/libc/ident.c rw_in_identity_facts: both are logged when
the recording starts, for the evaluations). Before, `p os.getppid()` answered -1.

The program reads them from /proc instead (a readlink and a file read, logged):
    p os.getpid()   -> the int printed as pid=
    p os.getppid()  -> the int printed as ppid=
"""
import os

pid = int(os.readlink("/proc/self"))
with open("/proc/self/stat") as f:
    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
print(f"pid={pid!r}")
print(f"ppid={ppid!r}")
done = True  # STOP
