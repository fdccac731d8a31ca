"""threading.settrace / threading.setprofile: new threads get the functions, the main
thread (which set none with sys.settrace) does not. Each thread's events are kept apart
and printed in a fixed order, so the output does not depend on scheduling. With
NO_TRACER=1 in the environment no function is set (the run to compare the recording
with)."""
import os
import sys
import threading

ME = __file__
traces = {}
profiles = {}


def tracer(frame, event, arg):
    if frame.f_code.co_filename == ME:
        traces.setdefault(threading.current_thread().name, []).append(
            (event, frame.f_code.co_name, frame.f_lineno))
    return tracer


def profiler(frame, event, arg):
    name = arg.__name__ if event.startswith("c_") else frame.f_code.co_name
    if event.startswith("c_") or frame.f_code.co_filename == ME:
        profiles.setdefault(threading.current_thread().name, []).append((event, name))


def step(n):
    total = 0
    for i in range(n):
        total += abs(i - 2)
    return total


def worker(n, out):
    out.append(step(n))


if not os.environ.get("NO_TRACER"):
    threading.settrace(tracer)
    threading.setprofile(profiler)
print("main thread's trace function:", sys.gettrace(), sys.getprofile())
out = []
for k in range(3):
    t = threading.Thread(target=worker, args=(k + 3, out), name=f"w{k}")
    t.start()
    t.join()
threading.settrace(None)
threading.setprofile(None)
t = threading.Thread(target=worker, args=(2, out), name="untraced")
t.start()
t.join()
print("results", out)
for name in sorted(traces):
    print(name, "trace", traces[name])
for name in sorted(profiles):
    print(name, "profile", profiles[name])
