"""Names of POSIX semaphores and shared memory removed twice (recorder/libc/files.c,
sem_unlink and shm_unlink): glibc removes the file in /dev/shm with its own system
call, and a replay's sandbox answered it with a success, so the second removal,
which failed in the recording (another process, such as multiprocessing's resource
tracker, had removed the name first), did not fail in the replay.

Each value is printed once, as `name=repr(value)`, on the recorded stdout. At the line
marked STOP, `p NAME` must show exactly the repr printed for NAME:
    p outcomes -> what each removal did: None, or the errno it failed with
"""
import _multiprocessing
import _posixshmem
import os
from multiprocessing import shared_memory

outcomes = []


def removal(fn, name):
    try:
        fn(name)
        return None
    except OSError as e:
        return e.errno


mem = shared_memory.SharedMemory(create=True, size=16)
mem.close()
outcomes.append(removal(_posixshmem.shm_unlink, mem._name))
outcomes.append(removal(_posixshmem.shm_unlink, mem._name))

sem_name = "/rw-test-%d-%s" % (os.getpid(), os.urandom(4).hex())
lock = _multiprocessing.SemLock(1, 1, 1, sem_name, False)
outcomes.append(removal(_multiprocessing.sem_unlink, sem_name))
outcomes.append(removal(_multiprocessing.sem_unlink, sem_name))
outcomes.append(removal(_multiprocessing.sem_unlink, "/rw-never-made"))
print(f"outcomes={outcomes!r}")
done = True  # STOP
