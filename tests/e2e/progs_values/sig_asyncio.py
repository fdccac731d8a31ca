# asyncio's signal handling (loop.add_signal_handler): CPython's C handler writes the
# signal's number to the loop's wakeup socket, the loop reads it and calls the handler
# (recorder/sigwrap.h). The replay writes nothing to that socket (it does not exist
# there): the loop's read is answered from the log. Each marked line prints
# "RWVAL <line> <repr>" (test_values_signals.py).
import asyncio
import os
import signal
import sys
import time

got = []


async def main():
    loop = asyncio.get_running_loop()
    done = asyncio.Event()

    def on_usr1():
        got.append((len(got), time.monotonic_ns() % 1000003))
        if len(got) == 3:
            done.set()

    loop.add_signal_handler(signal.SIGUSR1, on_usr1)
    for _ in range(3):
        os.kill(os.getpid(), signal.SIGUSR1)
        await asyncio.sleep(0.001)
    await done.wait()


asyncio.run(main())
res = list(got)
print("RWVAL", sys._getframe().f_lineno, repr(res))  # rw-value: res
