"""Readiness on a socketpair (recorder/libc/net.c: socketpair, select, poll,
epoll_create1/epoll_ctl/epoll_wait, send, recv).

Each value is printed once, as `name=repr(value)`, on the recorded stdout. At the line
marked STOP, `p NAME` must show exactly the repr printed for NAME in a replay run (which
makes no socket: the descriptors are the recorded numbers):
    p fds        -> the tuple printed as fds=        (socketpair's two descriptors)
    p readable   -> True                             (select: b readable, a writable)
    p writable   -> True
    p events     -> [(fds[1], 1)]                    (poll: POLLIN on b)
    p got        -> b'ping'                          (recv)
    p idle       -> ([], [], [])                     (select with timeout 0: nothing)
    p ep_events  -> [(fds[1], 1)]                    (epoll: EPOLLIN on b)
    p got2       -> b'pong'
    p counted    -> 7                                (os.eventfd_write 3 and 4, then
                                                      os.eventfd_read: glibc's own read
                                                      and write, which rewind routes
                                                      through its wrappers)
"""
import os
import select
import socket

a, b = socket.socketpair()
fds = (a.fileno(), b.fileno())
a.send(b"ping")
r, w, x = select.select([b], [a], [], 5)
readable = r == [b]
writable = w == [a]
poller = select.poll()
poller.register(b, select.POLLIN)
events = poller.poll(5000)
got = b.recv(16)
idle = select.select([b], [], [], 0)
ep = select.epoll()
ep.register(b.fileno(), select.EPOLLIN)
a.send(b"pong")
ep_events = ep.poll(5)
got2 = b.recv(16)
ep.close()
a.close()
b.close()
efd = os.eventfd(0, os.EFD_CLOEXEC)
os.eventfd_write(efd, 3)
os.eventfd_write(efd, 4)
counted = os.eventfd_read(efd)
os.close(efd)
for name in ("fds", "readable", "writable", "events", "got", "idle", "ep_events", "got2",
             "counted"):
    print(f"{name}={globals()[name]!r}")
done = True  # STOP
