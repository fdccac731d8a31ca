"""Where a recording's time goes (issue 18): a CPU profile of `rewind record`, pinned
to one vCPU, split by thread and by whose code runs, beside the floor's.

For each workload: `perf record -e cpu-clock` (a software clock: this VM has no hardware
counters) of 'C empty, all hooks' and of `rewind record`, both pinned to the faster vCPU
with bench.py's environment. Each sample is put in one bucket:

- interpreter thread: CPython (libpython's code, linked into rewind, and the extension
  modules), rewind's hooks (every function defined by rewind's recorder and format
  libraries: the trace, profile and allocator hooks, the record append), libc, kernel;
- writer thread: the encoder (rewind's format library), zstd, libc and kernel.

Times are the samples' share of the run's wall time. The clock read of every timed
event (rdtsc) is inline in the hooks; its cost is estimated apart: the measured cost of
one rdtsc on this machine times the timed events of the trace (calls, returns, C calls
and returns, exceptions).

usage: python3 where.py [calls.py,mix.py]   (bench/record/where.sh builds what it needs)
"""
import collections
import os
import re
import subprocess
import sys
import tempfile

import bench  # noqa: E402

TOP = bench.TOP
BUILD = os.path.dirname(bench.REWIND)
LIBS = [os.path.join(BUILD, "recorder", "librw_recorder.a"),
        os.path.join(BUILD, "format", "librw_format.a")]
FLOOR = next(c for c in bench.OTHER_CONFIGS if c[0] == "C empty, all hooks")
REC = ("rewind record", bench.REC + ["{w}"], {})
TIMED = {"call", "return", "exception", "c_call", "c_return", "c_exception"}


def own_symbols():
    """Names of the functions rewind's recorder and format libraries define."""
    names = set()
    for lib in LIBS:
        out = subprocess.run(["nm", "--defined-only", lib], capture_output=True, text=True,
                             check=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "tTwW":
                names.add(parts[2])
    return names


def profile(cfg, w, tmp):
    data = os.path.join(tmp, "perf.data")
    if os.path.exists(bench.trace_path(cfg, w)):
        os.remove(bench.trace_path(cfg, w))
    words = bench.words_of(cfg, w)
    env = dict(bench.BASE_ENV)
    env.update(cfg[2])
    subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "4000", "-o", data,
                    "--"] + words, cwd=bench.WDIR, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, preexec_fn=bench._pin_child, check=True)
    rep = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort",
                          "pid,dso,sym", "-g", "none", "--stdio", "--percent-limit", "0"],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in rep.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\d+):\S*\s+(\S+)\s+\[(.)\]\s+(.*?)\s*$", line)
        if m:
            rows.append((float(m.group(1)), int(m.group(2)), m.group(3), m.group(4),
                         m.group(5)))
    return rows


def buckets(rows, own):
    """{bucket: percent}; the thread with the most samples is the interpreter's."""
    per_tid = collections.Counter()
    for pct, tid, *_ in rows:
        per_tid[tid] += pct
    main = min(per_tid) if per_tid else 0  # the process's first thread: the interpreter
    out = collections.Counter()
    for pct, tid, dso, where, sym in rows:
        side = "interpreter" if tid == main else "writer"
        if where == "k":
            kind = "kernel"
        elif "libzstd" in dso:
            kind = "zstd"
        elif dso.startswith("libc") or dso.startswith("ld-linux"):
            kind = "libc"
        elif sym in own or sym.startswith("rw_") or sym.startswith("__wrap_"):
            kind = "rewind"
        else:
            kind = "CPython"
        out[(side, kind)] += pct
    return out


def rdtsc_ns():
    src = os.path.join(tempfile.mkdtemp(prefix="rw-tsc-"), "tsc.c")
    with open(src, "w") as f:
        f.write("#include <x86intrin.h>\n#include <stdio.h>\n#include <time.h>\n"
                "int main(void){struct timespec a,b;unsigned long long s=0;int n=20000000;"
                "clock_gettime(CLOCK_MONOTONIC,&a);for(int i=0;i<n;i++)s+=__rdtsc();"
                "clock_gettime(CLOCK_MONOTONIC,&b);printf(\"%f %llu\\n\",((b.tv_sec-a.tv_sec)"
                "*1e9+(b.tv_nsec-a.tv_nsec))/n,s&1);return 0;}\n")
    exe = src[:-2]
    subprocess.run(["gcc", "-O2", "-o", exe, src], check=True)
    best = min(float(subprocess.run([exe], capture_output=True, text=True,
                                    preexec_fn=bench._pin_child).stdout.split()[0])
               for _ in range(5))
    return best


def main():
    workloads = sys.argv[1].split(",") if len(sys.argv) > 1 else ["calls.py", "mix.py"]
    cal = bench.calibrate()
    own = own_symbols()
    tsc = rdtsc_ns()
    print(f"pinned to cpu {cal['chosen']}; one rdtsc costs {tsc:.1f} ns here (min of 5 "
          f"loops of 20 M)\n")
    for w in workloads:
        with tempfile.TemporaryDirectory() as tmp:
            untraced = min(bench.run_once(bench.UNTRACED, w)["wall"] for _ in range(3))
            floor_wall = min(bench.run_once(FLOOR, w)["wall"] for _ in range(3))
            rec_wall = min(bench.run_once(REC, w)["wall"] for _ in range(3))
            fb = buckets(profile(FLOOR, w, tmp), own)
            rb = buckets(profile(REC, w, tmp), own)
        st = bench.trace_stats(bench.trace_path(REC, w))
        kinds = bench.pyreader.Trace(bench.trace_path(REC, w)).end.get("kind_counts", [])
        names = bench.pyreader.KIND_NAMES
        timed = sum(n for k, n in enumerate(kinds) if names.get(k) in TIMED)
        print(f"### {w}: untraced {untraced:.3f} s, C empty all hooks {floor_wall:.3f} s, "
              f"rewind record {rec_wall:.3f} s ({rec_wall / floor_wall:.2f}x the floor); "
              f"{st['records']:,} records, {st['events']:,} events\n")
        print("| where | C empty, all hooks (s) | rewind record (s) | rewind, ns per record |")
        print("|---|---:|---:|---:|")
        keys = [("interpreter", "CPython"), ("interpreter", "rewind"),
                ("interpreter", "libc"), ("interpreter", "kernel"), ("writer", "rewind"),
                ("writer", "zstd"), ("writer", "libc"), ("writer", "kernel")]
        for side, kind in keys:
            f = fb.get((side, kind), 0) * floor_wall / 100
            r = rb.get((side, kind), 0) * rec_wall / 100
            label = f"{side} thread: {'encoder' if (side, kind) == ('writer', 'rewind') else kind}"
            print(f"| {label} | {f:.3f} | {r:.3f} | {r * 1e9 / st['records']:.1f} |")
        if timed:
            est = timed * tsc * 1e-9
            print(f"| of the interpreter's rewind time: {timed:,} clock reads (rdtsc) | | "
                  f"{est:.3f} (estimated) | {est * 1e9 / st['records']:.1f} |")
        print()


if __name__ == "__main__":
    main()
