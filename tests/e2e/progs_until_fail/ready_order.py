"""Four socket pairs, all readable, polled through selectors (epoll) a few times: the
order of the ready descriptors is printed ('--chaos' shuffles it from its seed)."""
import selectors
import socket

sel = selectors.DefaultSelector()
pairs = [socket.socketpair() for _ in range(4)]
for i, (a, b) in enumerate(pairs):
    b.send(b"x")
    sel.register(a, selectors.EVENT_READ, i)
orders = []
for _ in range(8):
    orders.append([key.data for key, _ in sel.select(timeout=1)])
print("ORDERS", orders)
