# Whether the threads' Thread objects have made a __dict__: an instance of a 3.11
# class keeps its attributes inline until something asks for its __dict__, and
# python3 asks for none of a Thread that runs and ends. gc.get_referents shows the
# dict once it is made.
import gc
import threading


def work():
    pass


threads = [threading.Thread(target=work, name=f"worker-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
made = [any(type(r) is dict and "_name" in r for r in gc.get_referents(t)) for t in threads]
print("Thread __dict__ made:", made, [t.name for t in threads])
