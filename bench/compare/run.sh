#!/bin/bash
# Two builds of rewind side by side in one run: the recording cost on the record
# benchmark's workloads and the analyses' speed on one large trace, before and after a
# change (issue 12: "not slower, within noise").
#
#   bench/compare/run.sh OLD_REWIND NEW_REWIND [--rounds N] [--cpu C]
#
# Every timed process is pinned to vCPU C (default 1) and the rounds alternate old/new, so
# drift of the machine is shared; each figure is the min over the rounds, and the ratio
# is new/old. Recordings are also timed unpinned (the writer thread then has the other
# core). Run it on an idle machine. Prints a Markdown table.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
[ $# -ge 2 ] || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
old=$(realpath "$1"); new=$(realpath "$2"); shift 2
rounds=5
cpu=1
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --cpu) cpu=$2; shift 2 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
unset PYTHONTRACEMALLOC PYTHONPATH PYTHONHOME
export MALLOC_TRIM_THRESHOLD_=1000000000 MALLOC_MMAP_THRESHOLD_=33554432
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
wl=$top/bench/record/workloads

/usr/bin/python3 - "$old" "$new" "$rounds" "$cpu" "$wl" "$work" "$top" <<'PY'
import os, subprocess, sys, time
old, new, rounds, cpu, wl, work, top = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7]

def run(cmd, pin, cwd=None):
    if pin:
        cmd = ["taskset", "-c", cpu] + cmd
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if p.returncode != 0:
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}")
    return time.perf_counter() - t

rows = []
def compare(label, make_cmd, pin):
    best = {"old": 1e9, "new": 1e9}
    for r in range(rounds):
        for which in (("old", "new") if r % 2 == 0 else ("new", "old")):
            exe = old if which == "old" else new
            best[which] = min(best[which], run(make_cmd(exe, which), pin))
    rows.append((label, best["old"], best["new"], best["new"] / best["old"]))
    print(f"  {label}: {best['old']:.3f} -> {best['new']:.3f} ({best['new'] / best['old']:.3f})",
          file=sys.stderr, flush=True)

for w in ("calls.py", "lines.py", "allocs.py", "mix.py"):
    for pin in (True, False):
        compare(f"record {w}, {'1 core' if pin else '2 cores'}",
                lambda exe, which: [exe, "record", "-q", "--force", "-o",
                                    os.path.join(work, f"{which}.rwd"), os.path.join(wl, w)],
                pin)

big = os.path.join(work, "calls.rwd")
subprocess.run([new, "record", "-q", "--force", "-o", big, os.path.join(wl, "calls.py")],
               check=True, stdout=subprocess.DEVNULL)
for cmd in (["stats"], ["coverage", "--summary"], ["memory"], ["events", "--kinds", "exception"]):
    compare(f"{' '.join(cmd)} of calls.py's trace, 1 core",
            lambda exe, which, cmd=cmd: [exe, cmd[0], big] + cmd[1:], True)

print(f"| what | old (s) | new (s) | new/old |")
print(f"|---|---:|---:|---:|")
for label, o, n, ratio in rows:
    print(f"| {label} | {o:.3f} | {n:.3f} | {ratio:.3f} |")
PY
