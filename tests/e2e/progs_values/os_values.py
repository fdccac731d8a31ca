"""Calls of the os module whose C library functions do their work internally, where no
wrapper of the C library's exported calls would see it (recorder/libc/files.c, proc.c,
ident.c, net.c): each is logged whole, and a replay answers it from the log.

Each value is printed once, as `name=repr(value)`, on the recorded stdout. At the line
marked STOP, `p NAME` must show exactly the repr printed for NAME in a replay run,
which opens, changes and creates nothing:
    p got      -> the bytes printed as got=      (os.openpty, then a write and a read:
                                                  glibc opens /dev/ptmx internally)
    p echo_off -> True                           (termios.tcgetattr/tcsetattr: glibc's
                                                  internal ioctls)
    p pgrp     -> the int printed as pgrp=       (os.tcgetpgrp)
    p spliced  -> the int printed as spliced=    (os.splice between two pipes)
    p memfd    -> the tuple printed as memfd=    (os.memfd_create, a write, a read back)
    p rooted   -> the str printed as rooted=     (os.chroot of a missing folder: the
                                                  error, not performed on replay)
    p prio     -> the int printed as prio=       (os.setpriority then os.getpriority)
    p inherit  -> the pair printed as inherit=   (os.get_inheritable: fcntl F_GETFD,
                                                  whose unused argument varies)
    p synced   -> the int printed as synced=     (os.sync, not made on replay, and
                                                  os.fsync of a pipe: EINVAL)
    p vectored -> the tuple printed as vectored= (os.pwritev and os.preadv, which
                                                  CPython makes with pwritev2 and
                                                  preadv2; os.posix_fallocate)
"""
import os
import termios

m, s = os.openpty()
os.write(s, b"hi\n")
got = os.read(m, 10)
attrs = termios.tcgetattr(s)
attrs[3] &= ~termios.ECHO
termios.tcsetattr(s, termios.TCSANOW, attrs)
echo_off = not (termios.tcgetattr(s)[3] & termios.ECHO)
try:
    pgrp = os.tcgetpgrp(s)
except OSError as e:
    pgrp = -e.errno
os.close(m)
os.close(s)

r1, w1 = os.pipe()
r2, w2 = os.pipe()
os.write(w1, b"spliced bytes")
spliced = os.splice(r1, w2, 64)
for fd in (r1, w1, r2, w2):
    os.close(fd)

fd = os.memfd_create("rw-test", os.MFD_CLOEXEC)
os.write(fd, b"in memory")
os.lseek(fd, 0, os.SEEK_SET)
memfd = (fd, os.read(fd, 32))
os.close(fd)

try:
    os.chroot("/no/such/folder/for/rewind")
    rooted = "chrooted"
except OSError as e:
    rooted = type(e).__name__

os.setpriority(os.PRIO_PROCESS, 0, os.getpriority(os.PRIO_PROCESS, 0) + 1)
prio = os.getpriority(os.PRIO_PROCESS, 0)
inherit = (os.get_inheritable(0), os.get_inheritable(1))
os.sync()
r1, w1 = os.pipe()
try:
    os.fsync(w1)
    synced = 0
except OSError as e:
    synced = e.errno
os.close(r1)
os.close(w1)

fd = os.memfd_create("rw-vectored")
written = os.pwritev(fd, [b"abc", b"defg"], 0)
bufs = [bytearray(2), bytearray(4)]
read = os.preadv(fd, bufs, 1)
try:
    os.posix_fallocate(fd, 0, 4096)
    allocated = os.fstat(fd).st_size
except OSError as e:
    allocated = -e.errno
vectored = (written, read, [bytes(b) for b in bufs], allocated)
os.close(fd)

for name in ("got", "echo_off", "pgrp", "spliced", "memfd", "rooted", "prio", "inherit",
             "synced", "vectored"):
    print(f"{name}={globals()[name]!r}")
done = True  # STOP
