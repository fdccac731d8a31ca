# Semaphores another process shares (multiprocessing's Lock, Event, Semaphore and a
# Queue's counter: sem_open in /dev/shm): whether an acquisition succeeds, times out or
# waits depends on the child's releases, and whether a release overflows on the child's
# acquisitions, which the replay's engine never sees (its
# /dev/shm is private and no child runs). recorder/libc/locks.c logs their outcomes.
# Marked lines print "RWVAL <line> <repr>".
import multiprocessing as mp
import sys
import time


def child(q, lock, ready, sem, back):
    for i in range(3):
        back.put(i * 10)  # takes from back's counter, which the parent's gets give back
    with lock:
        ready.set()
        time.sleep(0.3)  # the parent's acquire(timeout=0.05) fails meanwhile
    for _ in range(4):
        time.sleep(0.02)
        q.get()  # each get lets one more put of the parent's through (maxsize 1)
    sem.release()


def main():
    ctx = mp.get_context("fork")
    q = ctx.Queue(maxsize=1)
    lock = ctx.Lock()
    ready = ctx.Event()
    sem = ctx.Semaphore(0)
    back = ctx.Queue()  # unbounded: its counter starts at SEM_VALUE_MAX
    p = ctx.Process(target=child, args=(q, lock, ready, sem, back))
    p.start()
    ready.wait()
    first = lock.acquire(timeout=0.05)
    print("RWVAL", sys._getframe().f_lineno, repr(first))  # rw-value: first
    second = lock.acquire(timeout=10)
    print("RWVAL", sys._getframe().f_lineno, repr(second))  # rw-value: second
    lock.release()
    for i in range(4):
        q.put(i)
    sem.acquire()
    value = (sem.get_value(), q.qsize())
    print("RWVAL", sys._getframe().f_lineno, repr(value))  # rw-value: value
    got = [back.get() for _ in range(3)]  # each releases the counter (a full one in a replay)
    print("RWVAL", sys._getframe().f_lineno, repr(got))  # rw-value: got
    p.join()
    code = p.exitcode
    print("RWVAL", sys._getframe().f_lineno, repr(code))  # rw-value: code


if __name__ == "__main__":
    main()
