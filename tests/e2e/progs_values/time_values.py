"""State that depends on the clocks and the local time zone (recorder/libc/clock.c).

Each value is printed once, as `name=repr(value)`, on the recorded stdout. At the line
marked STOP, `p NAME` must show exactly the repr printed for NAME, in a replay run
anywhere, at any later time, with another TZ:
    p t          -> the float printed as t=            (time.time(): clock_gettime)
    p now        -> the datetime printed as now=       (datetime.now(): localtime_r)
    p lt         -> the struct_time printed as lt=     (time.localtime(): localtime_r)
    p lt.tm_zone -> the zone printed as zone=          (tm_zone from the log)
    p mk         -> the float printed as mk=           (time.mktime: mktime)
    p tzname     -> the tuple printed as tzname=       (time.tzname after time.tzset())
    p slept      -> the float printed as slept=        (monotonic clock around a sleep;
                    the replay does not sleep)
    p ns         -> the int printed as ns=             (time.perf_counter_ns)
    p cpu        -> the float printed as cpu=          (time.process_time)
"""
import datetime
import time

t = time.time()
now = datetime.datetime.now()
lt = time.localtime()
mk = time.mktime(lt)
time.tzset()
tzname = time.tzname
m0 = time.monotonic()
time.sleep(0.05)
slept = time.monotonic() - m0
ns = time.perf_counter_ns()
cpu = time.process_time()
for name in ("t", "now", "lt", "mk", "tzname", "slept", "ns", "cpu"):
    print(f"{name}={globals()[name]!r}")
print(f"zone={lt.tm_zone!r}")
done = True  # STOP
