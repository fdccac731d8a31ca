"""Clock reads and a sleep in a subinterpreter (recorder/libc/clock.c): the same thread
holds the GIL under the subinterpreter's thread state. Its clock reads were not logged,
so the deadline of its sleep (clock_nanosleep to an absolute time, computed from a
clock read) was another in the replay, which parted from the recording there.

Each value is printed once, as `name=repr(value)`, on the recorded stdout. At the line
marked STOP, `p NAME` must show exactly the repr printed for NAME:
    p rcs      -> what each run_in_subinterp returned
    p after    -> time.time() after the subinterpreters ran
"""
import time
import _testcapi

code = "import time\nt = time.monotonic()\ntime.sleep(0.002)\nassert time.time() > 0\n"
rcs = [_testcapi.run_in_subinterp(code) for _ in range(3)]
after = time.time()
print(f"rcs={rcs!r}")
print(f"after={after!r}")
done = True  # STOP
