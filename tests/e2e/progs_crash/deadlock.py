# Two threads take two locks in opposite orders; the main thread waits in join with
# the GIL released.
import threading

a = threading.Lock()
b = threading.Lock()
both = threading.Barrier(2)


def one():
    with a:
        both.wait()
        with b:
            pass


def two():
    with b:
        both.wait()
        with a:
            pass


t1 = threading.Thread(target=one, name="one")
t2 = threading.Thread(target=two, name="two")
t1.start()
t2.start()
print("deadlocked", flush=True)
t1.join()
t2.join()
