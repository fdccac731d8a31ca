# Two threads race: the worker checks a list the main thread fills after a delay given
# by the environment. The main thread's control flow is the same either way (_thread
# and a lock: threading's start() waits in a loop whose turns depend on timing); the
# worker's depends on the interleaving.
import _thread
import os
import time

shared = []
done = _thread.allocate_lock()


def worker():
    time.sleep(0.3)
    if shared:
        print("saw it")  # WORKER-SAW
    else:
        print("missed it")  # WORKER-MISSED
    done.release()


def main():
    done.acquire()
    _thread.start_new_thread(worker, ())
    time.sleep(float(os.environ.get("DIFF_DELAY", "0")))
    shared.append(1)
    done.acquire()


main()
