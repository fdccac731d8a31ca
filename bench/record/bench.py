"""Interleaved whole-process timing of `rewind record` against the standard tools.

Method (from ../shared/baseline/bench.py, unchanged): for each workload pick the faster
of the vCPUs (calibrate()) and pin every timed process to it, the harness to another;
one untraced warm-up run, then ROUNDS rounds, each running every configuration once
as a fresh process, order rotated every round so that drift of the machine hits all
configurations alike. Wall time = time.perf_counter() around fork/exec..wait4; CPU
time (user+sys) and peak RSS come from wait4's rusage. Every run's output must equal
the untraced run's. Traces written by the last round are kept for their size and
event counts, and varied.py (not timed) is recorded once per rewind configuration.

usage: python3 bench.py ROUNDS OUT.json [calls.py,lines.py,...]
env:   REWIND (the rewind binary), RW_BENCH_MODDIR (where ctracer_floor was built)
"""
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WDIR = os.path.join(HERE, "workloads")
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
import pyreader  # noqa: E402  (the independent trace reader of docs/format.md)

PY = "/usr/bin/python3"
REWIND = os.environ.get("REWIND") or os.path.join(TOP, "build", "rewind")
RUNWITH = os.path.join(HERE, "runwith.py")
WORKLOADS = ["calls.py", "lines.py", "allocs.py", "mix.py"]
TMP = tempfile.mkdtemp(prefix="rewind-bench-")

REC = [REWIND, "record", "-q", "-o", "{trace}"]
# (name, argv template, extra env); {w} = workload, {trace} = this config's trace file.
# Every timed process is pinned to the faster vCPU, so rewind's writer thread (encoding,
# compression) shares one core with the interpreter; the ", 2 cores" rows let the same
# command use both vCPUs, as the design intends (the writer on the second core).
TWO_CORES = ", 2 cores"
REWIND_CONFIGS = [
    ("rewind record", REC + ["{w}"], {}),
    ("rewind record" + TWO_CORES, REC + ["{w}"], {}),
    ("rewind --no-allocations", REC + ["--no-allocations", "{w}"], {}),
    ("rewind --no-allocations" + TWO_CORES, REC + ["--no-allocations", "{w}"], {}),
    # What cProfile sees: calls, returns and C calls, no lines, no allocations.
    ("rewind --no-lines --no-allocations", REC + ["--no-lines", "--no-allocations", "{w}"], {}),
    ("rewind --no-lines --no-allocations" + TWO_CORES,
     REC + ["--no-lines", "--no-allocations", "{w}"], {}),
]
OTHER_CONFIGS = [
    ("runner, no tracer", [PY, RUNWITH, "none", "{w}"], {}),
    ("cProfile", [PY, "-m", "cProfile", "-o", "/dev/null", "{w}"], {}),
    ("py settrace (trivial)", [PY, RUNWITH, "pytrace", "{w}"], {}),
    ("trace --count", [PY, "-m", "trace", "--count", "-C", TMP + "/tracecount", "{w}"], {}),
    ("tracemalloc 1 frame", [PY, "{w}"], {"PYTHONTRACEMALLOC": "1"}),
    ("tracemalloc 25 frames", [PY, "{w}"], {"PYTHONTRACEMALLOC": "25"}),
    ("coverage.py (CTracer)",
     [PY, "-m", "coverage", "run", "--data-file=" + TMP + "/.coverage", "{w}"], {}),
    ("C empty settrace", [PY, RUNWITH, "cfloor", "{w}"], {}),
    ("C empty setprofile", [PY, RUNWITH, "cprofile", "{w}"], {}),
    # Every hook a full `rewind record` installs (settrace, setprofile, the RAW, MEM and
    # OBJ allocators), each doing nothing: the floor of a full recording.
    ("C empty, all hooks", [PY, RUNWITH, "cfull", "{w}"], {}),
]
UNTRACED = ("untraced", [PY, "{w}"], {})

BASE_ENV = {k: v for k, v in os.environ.items()
            if not k.startswith("PYTHON") and k not in ("COVERAGE_PROCESS_START", "VIRTUAL_ENV")}
# glibc heap trimming off and the mmap threshold pinned at its dynamic maximum (32 MiB),
# as in the baseline: with glibc's defaults plain allocs.py shrinks and regrows its heap
# every round and every tool looks up to 46% cheaper on it (../shared/baseline/NOTES.md).
BASE_ENV["MALLOC_TRIM_THRESHOLD_"] = "1000000000"
BASE_ENV["MALLOC_MMAP_THRESHOLD_"] = "33554432"


def slug(name):
    return "".join(c if c.isalnum() else "_" for c in name).strip("_")


def trace_path(cfg, w):
    return os.path.join(TMP, f"{slug(cfg[0])}.{w}.rwd")


def words_of(cfg, w):
    return [a.replace("{w}", w).replace("{trace}", trace_path(cfg, w)) for a in cfg[1]]


def command_line(cfg, w):
    pre = " ".join(f"{k}={v}" for k, v in cfg[2].items())
    words = [x.replace(TMP, "$TMP").replace(REWIND, "rewind").replace(RUNWITH, "runwith.py")
             for x in words_of(cfg, w)]
    return (pre + " " if pre else "") + " ".join(shlex.quote(x) for x in words)


CAL = [PY, "-c", "s = 0\nfor i in range(3_000_000): s += i"]
PIN = {"cpu": None}
ALL_CPUS = sorted(os.sched_getaffinity(0))


def _pin_child():
    if PIN["cpu"] is not None:
        os.sched_setaffinity(0, {PIN["cpu"]})


def _all_cpus_child():
    os.sched_setaffinity(0, set(ALL_CPUS))


def calibrate():
    """Time a short loop 3 times on each CPU, interleaved; pin every timed child to the
    fastest and this harness to the others (this VM's vCPUs were seen to differ by 1.5x
    for minutes at a time)."""
    cpus = ALL_CPUS
    os.sched_setaffinity(0, set(cpus))
    PIN["cpu"] = None
    if len(cpus) < 2:
        return {"cpus": cpus, "chosen": None}
    t = {c: [] for c in cpus}
    for _ in range(3):
        for c in cpus:
            t0 = time.perf_counter()
            subprocess.run(CAL, preexec_fn=lambda c=c: os.sched_setaffinity(0, {c}), check=True)
            t[c].append(time.perf_counter() - t0)
    best = min(cpus, key=lambda c: min(t[c]))
    PIN["cpu"] = best
    os.sched_setaffinity(0, set(cpus) - {best})
    return {"cpus": cpus, "chosen": best,
            "loop_min_s": {str(c): round(min(v), 4) for c, v in t.items()}}


def run_once(cfg, w):
    trace = trace_path(cfg, w)
    if os.path.exists(trace):
        os.remove(trace)
    env = dict(BASE_ENV)
    env.update(cfg[2])
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        pin = _all_cpus_child if cfg[0].endswith(TWO_CORES) else _pin_child
        p = subprocess.Popen(words_of(cfg, w), cwd=WDIR, env=env, stdin=subprocess.DEVNULL,
                             stdout=out, stderr=subprocess.STDOUT, preexec_fn=pin)
        _, status, ru = os.wait4(p.pid, 0)
        t1 = time.perf_counter()
        out.seek(0)
        text = out.read().decode(errors="replace")
    return {"wall": t1 - t0, "cpu": ru.ru_utime + ru.ru_stime, "maxrss_kb": ru.ru_maxrss,
            "rc": os.waitstatus_to_exitcode(status), "out": text}


def trace_stats(path):
    """File size and counts of a finished trace, read with the independent reader."""
    t = pyreader.Trace(path)
    end = t.end or {}
    kinds = end.get("kind_counts", [])
    allocs = sum(kinds[k] for k in (16, 17, 18, 19, 20, 21) if k < len(kinds))
    return {"bytes": os.path.getsize(path), "events": end.get("events", 0),
            "records": end.get("records", 0), "alloc_records": allocs,
            "chunks": sum(1 for f in t.frames if f.type == pyreader.FRAME_CHUNK)}


def rewind_available():
    if not os.access(REWIND, os.X_OK):
        return f"{REWIND} not found"
    p = subprocess.run([REWIND, "record", "--help"], capture_output=True, text=True)
    if p.returncode != 0:
        return (p.stderr or p.stdout).strip().splitlines()[-1:] or ["record --help failed"]
    return None


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    outpath = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "results.json")
    workloads = sys.argv[3].split(",") if len(sys.argv) > 3 else WORKLOADS
    missing = rewind_available()
    rw_cfgs = [] if missing else REWIND_CONFIGS
    configs = [UNTRACED] + rw_cfgs + OTHER_CONFIGS
    res = {"rounds": rounds, "python": PY, "rewind": REWIND, "configs": [c[0] for c in configs],
           "rewind_configs": [c[0] for c in rw_cfgs], "rewind_missing": missing,
           "env": {k: BASE_ENV[k] for k in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_")},
           "workloads": workloads, "commands": {}, "runs": {}, "traces": {}, "problems": [],
           "pinning": {}, "started": time.time()}
    if missing:
        print(f"rewind record is not available ({missing}): timing the other tools only",
              flush=True)
    t_start = time.time()
    for w in workloads:
        res["pinning"][w] = calibrate()
        print(f"{w}: pinning {res['pinning'][w]}", flush=True)
        ref = run_once(UNTRACED, w)  # warm-up, and the reference output
        res["runs"][w] = {c[0]: [] for c in configs}
        res["commands"][w] = {c[0]: command_line(c, w) for c in configs}
        for r in range(rounds):
            k = r % len(configs)
            for cfg in configs[k:] + configs[:k]:
                x = run_once(cfg, w)
                if x["rc"] != 0 or x["out"] != ref["out"]:
                    res["problems"].append({"workload": w, "config": cfg[0], "rc": x["rc"],
                                            "out": x["out"][-2000:], "ref": ref["out"][-500:]})
                del x["out"]
                res["runs"][w][cfg[0]].append(x)
            print(f"[{time.time() - t_start:6.0f}s] {w} round {r + 1}/{rounds} done", flush=True)
        res["traces"][w] = {c[0]: trace_stats(trace_path(c, w)) for c in rw_cfgs
                            if not c[0].endswith(TWO_CORES) and os.path.exists(trace_path(c, w))}
    # Bytes per event on a less repetitive program (not timed).
    if rw_cfgs:
        w = "varied.py"
        res["commands"][w] = {c[0]: command_line(c, w) for c in rw_cfgs}
        res["traces"][w] = {}
        for cfg in [c for c in rw_cfgs if not c[0].endswith(TWO_CORES)]:
            x = run_once(cfg, w)
            if x["rc"] != 0:
                res["problems"].append({"workload": w, "config": cfg[0], "rc": x["rc"],
                                        "out": x["out"][-2000:], "ref": ""})
            else:
                res["traces"][w][cfg[0]] = dict(trace_stats(trace_path(cfg, w)),
                                                wall=x["wall"], maxrss_kb=x["maxrss_kb"])
    res["elapsed_s"] = time.time() - t_start
    with open(outpath, "w") as f:
        json.dump(res, f, indent=1)
    print("problems:", len(res["problems"]))
    for p in res["problems"]:
        print(f"  {p['workload']} / {p['config']}: exit {p['rc']}\n{p['out'][-600:]}")
    shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
