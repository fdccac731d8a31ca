"""The two-minute version of bench/record (issue 18): `rewind record` against its floor.

Runs calls.py and mix.py (bench/record/workloads) untraced, under 'C empty, all hooks'
(ctracer_floor: every hook rewind installs, each doing nothing) and under `rewind
record`, pinned to one vCPU and on two, in interleaved rounds (order rotated per round),
with bench.py's method and environment (glibc heap trimming off). Prints, per workload:
the min wall time of each configuration, the ratios rewind/floor (1 core, 2 cores; the
targets are 1.3 and 1.1), the writer thread's CPU per record and per event (from
`rewind record`'s summary line), bytes per event, minor page faults and peak RSS against
the untraced run's.

usage: python3 quick.py [ROUNDS (default 3)]    (bench/record/quick.sh builds what it needs)
env:   REWIND, RW_BENCH_MODDIR (as bench.py)
"""
import os
import re
import subprocess
import sys
import tempfile
import time

import bench  # noqa: E402  (bench.py beside this file: configurations, pinning, env)

WORKLOADS = ["calls.py", "mix.py"]
FLOOR = next(c for c in bench.OTHER_CONFIGS if c[0] == "C empty, all hooks")
REC = ("rewind record", bench.REC + ["{w}"], {})
REC2 = ("rewind record" + bench.TWO_CORES, bench.REC + ["{w}"], {})
FLOOR2 = ("C empty, all hooks" + bench.TWO_CORES, FLOOR[1], {})
CONFIGS = [bench.UNTRACED, FLOOR, REC, FLOOR2, REC2]
SUMMARY = re.compile(r"recorded ([\d,]+) events, [\d,]+ allocations in [\d.]+ s "
                     r"\(writer thread ([\d.]+) s CPU\)")


def run(cfg, w):
    """bench.run_once, without -q for rewind so that its summary line gives the writer
    thread's CPU time, and with the minor page faults."""
    trace = bench.trace_path(cfg, w)
    if os.path.exists(trace):
        os.remove(trace)
    words = [a for a in bench.words_of(cfg, w) if a != "-q"]
    env = dict(bench.BASE_ENV)
    env.update(cfg[2])
    pin = bench._all_cpus_child if cfg[0].endswith(bench.TWO_CORES) else bench._pin_child
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(words, cwd=bench.WDIR, env=env, stdin=subprocess.DEVNULL,
                             stdout=out, stderr=err, preexec_fn=pin)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        err.seek(0)
        text = err.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"quick.py: {cfg[0]} on {w} failed:\n{text[-2000:]}")
    r = {"wall": wall, "faults": ru.ru_minflt, "rss_kb": ru.ru_maxrss}
    m = SUMMARY.search(text)
    if cfg[0].startswith("rewind"):
        if not m:
            sys.exit(f"quick.py: no summary line from {cfg[0]} on {w}:\n{text[-2000:]}")
        st = bench.trace_stats(trace)
        r.update(writer_cpu=float(m.group(2)), events=st["events"], records=st["records"],
                 bytes=st["bytes"])
    return r


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    t_start = time.time()
    cal = bench.calibrate()
    print(f"pinned to cpu {cal['chosen']} of {cal['cpus']}; {rounds} rounds, "
          f"workloads {', '.join(WORKLOADS)}", flush=True)
    res = {w: {c[0]: [] for c in CONFIGS} for w in WORKLOADS}
    for w in WORKLOADS:
        run(bench.UNTRACED, w)  # warm-up
    for r in range(rounds):
        for w in WORKLOADS:
            k = r % len(CONFIGS)
            for cfg in CONFIGS[k:] + CONFIGS[:k]:
                res[w][cfg[0]].append(run(cfg, w))
        print(f"  round {r + 1}/{rounds} done ({time.time() - t_start:.0f} s)", flush=True)

    def best(w, name, key="wall"):
        return min(x[key] for x in res[w][name])

    print()
    print("| | " + " | ".join(WORKLOADS) + " |")
    print("|---|" + "---:|" * len(WORKLOADS))
    rows = [
        ("untraced, min wall (s)", lambda w: f"{best(w, 'untraced'):.3f}"),
        ("C empty, all hooks ÷ untraced, 1 core",
         lambda w: f"{best(w, FLOOR[0]) / best(w, 'untraced'):.2f}"),
        ("rewind record ÷ untraced, 1 core",
         lambda w: f"{best(w, REC[0]) / best(w, 'untraced'):.2f}"),
        ("**rewind record ÷ C empty, all hooks, 1 core** (target 1.3)",
         lambda w: f"**{best(w, REC[0]) / best(w, FLOOR[0]):.2f}**"),
        ("**rewind record ÷ C empty, all hooks, 2 cores** (target 1.1)",
         lambda w: f"**{best(w, REC2[0]) / best(w, FLOOR2[0]):.2f}**"),
        ("writer thread CPU per record / per event (ns), 1 core",
         lambda w: "%.1f / %.1f" % tuple(best(w, REC[0], "writer_cpu") * 1e9 /
                                         res[w][REC[0]][0][k] for k in ("records", "events"))),
        ("bytes per event", lambda w: "%.2f" % (res[w][REC[0]][0]["bytes"] /
                                                 res[w][REC[0]][0]["events"])),
        ("minor page faults: untraced / rewind 1 core / 2 cores",
         lambda w: "%d / %d / %d" % (best(w, "untraced", "faults"), best(w, REC[0], "faults"),
                                     best(w, REC2[0], "faults"))),
        ("peak RSS (MB): untraced / rewind 1 core / 2 cores",
         lambda w: "%.1f / %.1f / %.1f" % (best(w, "untraced", "rss_kb") / 1024,
                                           best(w, REC[0], "rss_kb") / 1024,
                                           best(w, REC2[0], "rss_kb") / 1024)),
    ]
    for name, f in rows:
        print(f"| {name} | " + " | ".join(f(w) for w in WORKLOADS) + " |")
    print(f"\nmin of {rounds} interleaved rounds; {time.time() - t_start:.0f} s in all. "
          "Run it on an idle machine: a busy one takes the writer thread's core.")


if __name__ == "__main__":
    main()
