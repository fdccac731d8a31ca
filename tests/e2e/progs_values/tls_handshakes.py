"""TLS, as a TCP server thread and the main thread as its client, and as two ends of
ssl.MemoryBIO in one thread (recorder/libc/crypto.c: OpenSSL's random bytes are inputs;
the C library's calls under them are OpenSSL's own business).

Each value is printed once, as `name=repr(value)`, on the recorded stdout. At the line
marked STOP, `p NAME` must show exactly the repr printed for NAME, in a replay where
nothing listens and no generator runs. Eight TCP connections and eight in-memory
handshakes with an RSA key: the key's blinding values are drawn by whichever thread
signs first, and OpenSSL's draws for a key share or a blinding value take a number of
tries that depends on the bytes drawn; a replay whose generator drew other bytes than
the recording's parted from it in most runs of this program.
    p replies   -> what the client read back over TLS
    p served    -> what the server thread read
    p ciphers   -> the cipher each connection agreed on
    p bio       -> what the in-memory server read
    p drawn     -> ssl.RAND_bytes(16), as hex
    p status    -> ssl.RAND_status()
    p stime     -> the last connection's session time (OpenSSL reads the time without
                   the GIL, in the handshake)
"""
import os
import socket
import ssl
import threading

CERT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tls_handshakes.pem")
sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
sctx.load_cert_chain(CERT)
cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
cctx.check_hostname = False
cctx.verify_mode = ssl.CERT_NONE
N = 8

srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(N)
port = srv.getsockname()[1]
served = []


def serve():
    for _ in range(N):
        conn, _ = srv.accept()
        with sctx.wrap_socket(conn, server_side=True) as s:
            data = s.recv(100)
            served.append(data)
            s.sendall(b"echo:" + data)


t = threading.Thread(target=serve)
t.start()
replies, ciphers = [], []
for i in range(N):
    with cctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=30)) as c:
        c.sendall(b"hello %d" % i)
        replies.append(c.recv(100))
        ciphers.append(c.cipher()[0])
        stime = c.session.time
t.join()



def shook(end):
    """One step of end's handshake: whether it is done."""
    try:
        end.do_handshake()
        return True
    except ssl.SSLWantReadError:
        return False


bio = []
for i in range(N):
    ci, co, si, so = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    c = cctx.wrap_bio(ci, co)
    s = sctx.wrap_bio(si, so, server_side=True)
    done_c = done_s = False
    while not (done_c and done_s):
        done_c = done_c or shook(c)
        si.write(co.read())
        done_s = done_s or shook(s)
        ci.write(so.read())
    c.write(b"in memory %d" % i)
    si.write(co.read())
    bio.append(s.read())

drawn = ssl.RAND_bytes(16).hex()
ssl.RAND_add(b"more", 1.0)
status = ssl.RAND_status()
print(f"replies={replies!r}")
print(f"served={served!r}")
print(f"ciphers={ciphers!r}")
print(f"bio={bio!r}")
print(f"drawn={drawn!r}")
print(f"status={status!r}")
print(f"stime={stime!r}")
done = True  # STOP
