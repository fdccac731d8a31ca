"""Clock reads in an evaluation at a stop (recorder/libc/input.c, "the clocks an
evaluation reads"): time stands still at the stop. `p time.time()` answers with the
program's last read of that clock (t, then the replayed stop is after it), the
monotonic clock likewise, `time.localtime` of another time than the program's own uses
the zone of the program's last localtime, and a sleep returns at once.
"""
import time

t = time.time()
m = time.monotonic()
lt = time.localtime(t)
later = time.localtime(t + 7200)
print(f"t={t!r}")
print(f"m={m!r}")
print(f"later={later!r}")
print(f"late={time.localtime(t + 90000)!r}")
done = True  # STOP
