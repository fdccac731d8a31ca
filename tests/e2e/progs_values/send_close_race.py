# A send that races a close, as test_asyncio's functional.py stops its server thread:
# the server thread, runnable, waits for the GIL while the main thread sends on a
# socket that the server thread closes as soon as it runs. In the recording the main
# thread's send had read the socket's descriptor before the server thread took the GIL;
# a replay whose server thread took the GIL as soon as the main thread let it go closed
# the socket first, and the main thread's send then went to descriptor -1
# (test_asyncio.test_sslproto and test_subprocess diverged there). Marked lines print
# "RWVAL <line> <repr>".
import socket
import sys
import threading

sent = []
for rnd in range(40):
    s1, s2 = socket.socketpair()
    state = {"go": False}

    def serve():
        while not state["go"]:
            pass
        s2.close()
        s1.close()

    t = threading.Thread(target=serve)
    t.start()
    state["go"] = True
    try:
        if s2.fileno() != -1:
            sent.append(s2.send(b"stop"))
    except OSError as e:
        sent.append(type(e).__name__)
    t.join()
print("RWVAL", sys._getframe().f_lineno, repr(sent))  # rw-value: sent
