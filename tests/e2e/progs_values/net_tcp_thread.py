"""A local TCP server on 127.0.0.1 in another thread, which the main thread talks to
(recorder/libc/net.c: socket, setsockopt, bind, listen, getsockname, accept4,
getaddrinfo and connect for create_connection, send, recv, poll for the timeout).

Each value is printed once, as `name=repr(value)`, on the recorded stdout. At the line
marked STOP, `p NAME` must show exactly the repr printed for NAME, in a replay run where
nothing listens on any port (the replay makes no socket and no connection):
    p port        -> the int printed as port=          (the port the kernel chose:
                     getsockname)
    p replies     -> [b'echo:hello 0', b'echo:hello 1', b'echo:hello 2']   (recv)
    p reply       -> b'echo:hello 1'
    p server_seen -> [b'hello 0', b'hello 1', b'hello 2']   (the server thread's recv)
    p peer        -> the tuple printed as peer=        ('127.0.0.1', the client's port:
                     accept4's address)
    p local       -> the tuple printed as local=       (the client's own address:
                     getsockname; local[1] == peer[1])
"""
import socket
import threading

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(1)
port = srv.getsockname()[1]
server_seen = []
peers = []


def serve():
    conn, addr = srv.accept()
    peers.append(addr)
    with conn:
        while True:
            data = conn.recv(1024)
            if not data:
                break
            server_seen.append(data)
            conn.sendall(b"echo:" + data)


t = threading.Thread(target=serve)
t.start()
c = socket.create_connection(("127.0.0.1", port), timeout=10)
local = c.getsockname()
replies = []
for i in range(3):
    c.sendall(b"hello %d" % i)
    replies.append(c.recv(1024))
c.close()
t.join()
srv.close()
reply = replies[1]
peer = peers[0]
for name in ("port", "replies", "reply", "server_seen", "peer", "local"):
    print(f"{name}={globals()[name]!r}")
done = True  # STOP
